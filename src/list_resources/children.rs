//! `list "clouddb_database"`, `"clouddb_user"`, `"clouddb_firewall_rule"`: the sub-resources
//! of one `instance` (required: the API lists them per instance), for every
//! [`ChildType`] through its own state conversion.

use std::marker::PhantomData;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::{Context, ListItem, ListRequest, ListResource, ListStream};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{AttributePath, Value};

use super::stream_pages;
use crate::client::Client;
use crate::client::children::ChildRecord;
use crate::resources::child::{ChildModel, ChildType};
use crate::resources::common::api_diags;
use crate::resources::identity::{self, ChildIdentity};

/// The `config` of a `list` block of a sub-resource type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChildListConfig {
    pub instance: String,
}

/// The list resource of a [`ChildType`].
pub struct ChildList<T>(PhantomData<T>);

impl<T> Default for ChildList<T> {
    fn default() -> Self {
        ChildList(PhantomData)
    }
}

fn schema<T: ChildType>() -> Schema {
    let noun = T::KIND.noun();
    Schema::new()
        .description(format!("Lists the {noun}s of one CloudDB instance."))
        .attribute(
            Attribute::string("instance")
                .required()
                .description(format!("Name of the instance whose {noun}s are listed.")),
        )
}

/// The list item of one record of `instance`.
fn item<T: ChildType>(
    client: &Client,
    instance: &str,
    rec: &T::Record,
    include_resource: bool,
) -> Result<ListItem, Diagnostics> {
    let state = T::state(rec, None);
    // The identity names what the state's id names (the record's instance, should the API
    // ever answer for another spelling of it), falling back to the listed instance.
    let instance = state
        .address()
        .map(|(i, _)| i)
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| instance.to_string());
    let id = identity::to_value(&ChildIdentity::new(client, &instance, rec.name()))?;
    let mut item = ListItem::new(format!("{instance}/{}", rec.name()), id);
    if include_resource {
        item = item.with_resource(Value::from_model(&state)?);
    }
    Ok(item)
}

#[async_trait]
impl<T: ChildType> ListResource<Client> for ChildList<T> {
    fn type_name(&self) -> &'static str {
        T::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::<T>()
    }

    async fn list(
        &self,
        ctx: &Context,
        client: &Client,
        req: ListRequest,
        out: &mut ListStream,
    ) -> Result<(), Diagnostics> {
        let config: ChildListConfig = req.config.to()?;
        let instance = config.instance.as_str();
        let client = &client.with_stop(ctx);
        let schema = &schema::<T>();
        let noun = T::KIND.noun();
        let summary = &format!("Error listing the {noun}s of instance {instance:?}");
        stream_pages(
            out,
            &format!("the {noun}s of instance {instance:?}"),
            |size, token| async move {
                match client
                    .list_children_page::<T::Record>(T::KIND, instance, size, token)
                    .await
                {
                    Ok(Some(page)) => Ok(page),
                    Ok(None) => Err(Diagnostic::error(
                        summary.clone(),
                        format!(
                            "Instance {instance:?} does not exist in project {:?}.",
                            client.project()
                        ),
                    )
                    .at(AttributePath::attr("instance"))
                    .into()),
                    Err(e) => Err(api_diags(schema, summary, &e)),
                }
            },
            |rec: T::Record| item::<T>(client, instance, &rec, req.include_resource).map(Some),
        )
        .await
    }
}
