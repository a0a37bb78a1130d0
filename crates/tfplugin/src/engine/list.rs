//! List resources (`terraform query`): `ValidateListResourceConfig` and `ListResource`,
//! streamed item by item as the handler finds them.

use super::stream::{BUFFER, Driven, Events, Until};
use super::{Collect, Engine, guard, scrub_unknowns, scrub_write_only, validated};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::conform;
use crate::provider::{ListItem, ListRequest, ListStream, Provider};
use crate::schema::Block;
use crate::value::{Type, Value};
use futures_util::StreamExt;

/// One item of a list, checked and ready to encode.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ListedItem {
    /// Display name.
    pub display_name: String,
    /// Identity, conforming to the resource's identity schema (`None` for an event that only
    /// carries diagnostics).
    pub identity: Option<Value>,
    /// The full resource object, when requested.
    pub resource_object: Option<Value>,
    /// Problems with this item (an error ends the listing).
    pub diagnostics: Diagnostics,
}

impl ListedItem {
    fn problems(diagnostics: Diagnostics) -> Self {
        ListedItem {
            diagnostics,
            ..Default::default()
        }
    }
}

/// What the checks of each item need from the managed resource type.
struct Target {
    name: String,
    identity: Type,
    ty: Type,
    block: Block,
    include_resource: bool,
}

impl Target {
    fn incomplete(&self, why: String) -> Diagnostic {
        Diagnostic::error(
            "Incomplete list result",
            format!(
                "A {} list item {why}. This is a bug in the provider.",
                self.name
            ),
        )
    }

    /// The item as Terraform may see it: identity present, wholly known and fitting the
    /// identity schema; the resource object only when asked for, fitted and scrubbed.
    fn check(&self, it: ListItem) -> ListedItem {
        let mut d = it.diagnostics;
        let bare = it.identity.is_null() && it.display_name.is_empty();
        if d.has_errors() || (bare && it.resource_object.is_none()) {
            // an error, or diagnostics that belong to no item: passed on as they are
            return ListedItem::problems(d);
        }
        let identity = match conform(it.identity, &self.identity) {
            Ok(v) if super::identity::is_fully_null(&v) => {
                d.push(self.incomplete("has no identity".into()));
                None
            }
            Ok(v) if !v.is_wholly_known() => {
                d.push(self.incomplete("has an identity with unknown values".into()));
                None
            }
            Ok(v) => Some(v),
            Err(e) => {
                d.push(self.incomplete(format!("has an identity that does not fit: {e}")));
                None
            }
        };
        if identity.is_none() {
            return ListedItem::problems(d);
        }
        let resource_object = match it.resource_object.filter(|_| self.include_resource) {
            Some(v) => match conform(v, &self.ty) {
                Ok(mut v) => {
                    scrub_unknowns(&mut v);
                    scrub_write_only(&self.block, &mut v);
                    Some(v)
                }
                Err(e) => {
                    d.push(
                        self.incomplete(format!("has a resource object that does not fit: {e}")),
                    );
                    return ListedItem::problems(d);
                }
            },
            None if self.include_resource => {
                d.warning(
                    "Incomplete list result",
                    format!(
                        "Terraform asked for the resource objects, but the {} list item {:?} \
                         has none.",
                        self.name, it.display_name
                    ),
                );
                None
            }
            None => None,
        };
        ListedItem {
            display_name: it.display_name,
            identity,
            resource_object,
            diagnostics: d,
        }
    }
}

impl<P: Provider> Engine<P> {
    /// `ValidateListResourceConfig`: schema validators, then the type's own checks.
    pub async fn validate_list(&self, name: &str, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = self.list_resource(name).collect_into(&mut d) else {
            return d;
        };
        let ctx = self.context(false);
        d.extend(validated(&e.s.schema.block, config, e.imp.validate(&ctx, config)).await);
        d
    }

    /// `ListResource`: the items as the handler pushes them, each checked, then the
    /// handler's error if it failed. The stream ends (and the handler is dropped) after
    /// `limit` items or the first error; with `limit` ≤ 0 the handler is not called at all.
    pub fn list(
        &self,
        name: &str,
        config: Value,
        include_resource: bool,
        limit: i64,
    ) -> Events<ListedItem> {
        let fail = |d: Diagnostics| -> Events<ListedItem> {
            Box::pin(futures_util::stream::iter([ListedItem::problems(d)]))
        };
        let mut d = Diagnostics::new();
        let Some(e) = self.list_resource(name).collect_into(&mut d) else {
            return fail(d);
        };
        let Some((res, identity)) = self
            .resources()
            .get(name)
            .and_then(|r| r.identity.as_ref().map(|(_, t)| (r, t.clone())))
        else {
            return fail(
                Diagnostic::error(
                    "List resource without identity",
                    format!(
                        "{name} can only be listed if the managed resource type {name} has an \
                         identity schema. This is a bug in the provider."
                    ),
                )
                .into(),
            );
        };
        let Some(data) = self.data(&format!("list {name}")).collect_into(&mut d) else {
            return fail(d);
        };
        let Ok(limit) = u64::try_from(limit) else {
            return Box::pin(futures_util::stream::empty());
        };
        if limit == 0 {
            return Box::pin(futures_util::stream::empty());
        }
        let target = Target {
            name: name.to_string(),
            identity,
            ty: res.s.ty.clone(),
            block: res.s.schema.block.clone(),
            include_resource,
        };
        let imp = e.imp.clone();
        let ctx = self.context(false);
        let req = ListRequest {
            config,
            include_resource,
            limit: i64::try_from(limit).unwrap_or(i64::MAX),
        };
        let (mut out, rx) = ListStream::channel(limit, BUFFER);
        let run = async move {
            let mut d = Diagnostics::new();
            if let Some(r) = guard("list", imp.list(&ctx, &data, req, &mut out))
                .await
                .collect_into(&mut d)
            {
                r.collect_into(&mut d);
            }
            if d.is_empty() {
                Vec::new()
            } else {
                vec![ListItem {
                    diagnostics: d,
                    ..Default::default()
                }]
            }
        };
        let mut left = limit;
        let last = move |it: &ListedItem| {
            if it.identity.is_some() {
                left = left.saturating_sub(1);
            }
            left == 0 || it.diagnostics.has_errors()
        };
        let checked = Driven::new(rx, |it| it, run).map(move |it| target.check(it));
        Box::pin(Until::new(checked, last))
    }
}
