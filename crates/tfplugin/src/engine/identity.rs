//! Resource identities a handler returns: fitted to the identity schema and held to
//! Terraform's rules (wholly known, present, unchanging), as terraform-plugin-framework does.

use crate::diag::Diagnostics;
use crate::model::conform;
use crate::value::{Type, Value, json};

/// The operation an identity comes from, and so the rules it must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// A create plan (unknowns allowed, nothing to keep).
    PlanCreate,
    /// An update plan: the prior identity must be kept.
    PlanUpdate,
    /// Create: the identity must be present and wholly known.
    Create,
    /// Update: present, wholly known, the planned identity kept.
    Update,
    /// Refresh: present, wholly known, the stored identity kept.
    Read,
    /// The first refresh after an import: present and wholly known, but it may complete the
    /// partial identity the import produced.
    ReadAfterImport,
    /// Import: wholly known if given; the read that follows completes it.
    Import,
    /// Move from another type: like an import.
    Move,
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::PlanCreate | Op::PlanUpdate => "plan",
            Op::Create => "create",
            Op::Update => "update",
            Op::Read | Op::ReadAfterImport => "read",
            Op::Import => "import",
            Op::Move => "move",
        }
    }
}

/// True when `v` is null or an object whose attributes are all null: no identity at all.
pub(crate) fn is_fully_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.values().all(Value::is_null),
        _ => false,
    }
}

fn show(ty: &Type, v: &Value) -> String {
    json::encode(ty, v)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|_| format!("{v:?}"))
}

/// The identity to hand back to Terraform after `op` on `type_name`: the one the handler
/// `returned`, else the one Terraform sent (`prior`), fitted to the identity type `ty`
/// (`None`: the type has no identity schema).
///
/// Problems are provider bugs and become error diagnostics naming the type: an identity for a
/// type without identity schema, one that does not fit the schema or holds unknowns, none at
/// all after a create, update or read (only when `stored`: the calling Terraform stores
/// identities), or one that differs from `prior` where it must not change. When `d` already
/// holds an error (a failed or partial apply), only the fit is checked: Terraform records
/// what it gets.
pub(crate) fn settle(
    type_name: &str,
    ty: Option<&Type>,
    op: Op,
    returned: Option<Value>,
    prior: Option<&Value>,
    stored: bool,
    d: &mut Diagnostics,
) -> Option<Value> {
    let verb = op.verb();
    let Some(ty) = ty else {
        if returned.as_ref().is_some_and(|v| !v.is_null()) {
            d.error(
                "Unexpected resource identity",
                format!(
                    "The {verb} of {type_name} returned a resource identity, but the type has no \
                     identity schema. This is a bug in the provider."
                ),
            );
        }
        return None;
    };
    let v = returned.or_else(|| prior.cloned()).unwrap_or(Value::Null);
    let v = match conform(v, ty) {
        Ok(v) => v,
        Err(e) => {
            d.error(
                "Invalid resource identity",
                format!(
                    "The {verb} of {type_name} returned an identity that does not fit its identity \
                     schema: {e}. This is a bug in the provider."
                ),
            );
            return prior.cloned();
        }
    };
    if d.has_errors() {
        return (!v.is_null()).then_some(v);
    }
    if op != Op::PlanCreate && !v.is_wholly_known() {
        d.error(
            "Invalid resource identity",
            format!(
                "The {verb} of {type_name} returned an identity with unknown values: {}. An \
                 identity must be wholly known (only a create plan may leave parts unknown). This \
                 is a bug in the provider.",
                show(ty, &v)
            ),
        );
        return prior.cloned();
    }
    let must_exist =
        stored && matches!(op, Op::Create | Op::Update | Op::Read | Op::ReadAfterImport);
    if must_exist && is_fully_null(&v) {
        d.error(
            format!("Missing resource identity after {verb}"),
            format!(
                "The {verb} of {type_name} returned no resource identity, but the type has an \
                 identity schema, so every {verb} must return one. This is a bug in the provider."
            ),
        );
        return None;
    }
    let immutable = matches!(op, Op::PlanUpdate | Op::Update | Op::Read);
    if let Some(p) = prior.filter(|p| immutable && !is_fully_null(p))
        && *p != v
    {
        d.error(
            "Unexpected Identity Change",
            format!(
                "During the {verb} operation, the provider returned a different identity for \
                 {type_name} than the one stored; an identity must not change for the life of \
                 the object. This is a bug in the provider.\n\nStored identity: {}\n\nNew \
                 identity: {}",
                show(ty, p),
                show(ty, &v)
            ),
        );
        return Some(p.clone());
    }
    (!v.is_null()).then_some(v)
}

/// True when Terraform `version` (as sent in `ConfigureProvider`) stores resource identities:
/// 1.12 and later, or an unknown version (be strict when in doubt). Older versions send none
/// (so an update cannot keep one) and ignore what we return.
pub(crate) fn stored_by(version: &str) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u64>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (1, 12),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn terraform_versions_that_store_identities() {
        for (v, want) in [
            ("1.15.5", true),
            ("1.12.0-rc1", true),
            ("2.0.0", true),
            ("1.11.4", false),
            ("1.0.3", false),
            ("", true),
            ("dev", true),
        ] {
            assert_eq!(super::stored_by(v), want, "{v:?}");
        }
    }
}
