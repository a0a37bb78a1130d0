//! `list "clouddb_instance"`: the project's instances, filtered by `engine`, `labels` (every
//! one must match) and `state`. Labels and state are filtered by the API; the engine, which the
//! API cannot filter by, here.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::provider::{Context, ListItem, ListRequest, ListResource, ListStream};
use tfplugin::schema::validators::one_of;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

use super::stream_pages;
use crate::client::types::Instance;
use crate::client::{Client, InstanceQuery, MAX_PAGE_SIZE};
use crate::data_sources::instances::STATES;
use crate::resources::common::api_diags;
use crate::resources::identity::{self, InstanceIdentity};
use crate::resources::instance::{ENGINES, state_of_unseen};

/// The `config` of a `list "clouddb_instance"` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceListConfig {
    pub engine: Option<String>,
    /// A null value is rejected at validate time; it reads as "any value" here.
    pub labels: Option<BTreeMap<String, Option<String>>>,
    pub state: Option<String>,
}

/// The `clouddb_instance` list resource.
#[derive(Debug, Default)]
pub struct InstanceList;

/// Built once per process: every call looks attribute names up in it (errors name the attribute),
/// and rebuilding the schema per call would be wasted work.
static SCHEMA: std::sync::LazyLock<Schema> = std::sync::LazyLock::new(schema);

fn schema() -> Schema {
    Schema::new()
        .description("Lists the project's CloudDB instances; every filter given must match.")
        .attribute(
            Attribute::string("engine")
                .optional()
                .validator(one_of(ENGINES))
                .description("Only instances of this engine (`mysql` or `postgres`)."),
        )
        .attribute(
            Attribute::map("labels", Type::String)
                .optional()
                .validate_with("label values are strings", |p, v, d| {
                    for (k, val) in v.as_map().into_iter().flatten() {
                        if val.is_null() {
                            d.attribute_error(
                                p.with_key(k),
                                "Invalid label filter",
                                format!(
                                    "The value of label {k:?} is null; give the value the label \
                                     must have."
                                ),
                            );
                        }
                    }
                })
                .description(
                    "Only instances that have every one of these labels with exactly these values.",
                ),
        )
        .attribute(
            Attribute::string("state")
                .optional()
                .validator(one_of(STATES))
                .description(
                    "Only instances in this state: `CREATING`, `READY`, `UPDATING`, `DELETING`, \
                     `FAILED` or `MAINTENANCE`.",
                ),
        )
}

/// The list item of one instance.
pub fn item(
    client: &Client,
    inst: &Instance,
    include_resource: bool,
) -> Result<ListItem, Diagnostics> {
    let id = identity::to_value(&InstanceIdentity::new(client, &inst.name))?;
    let mut item = ListItem::new(inst.name.clone(), id);
    if include_resource {
        item = item.with_resource(Value::from_model(&state_of_unseen(inst))?);
    }
    Ok(item)
}

#[async_trait]
impl ListResource<Client> for InstanceList {
    fn type_name(&self) -> &'static str {
        "clouddb_instance"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn list(
        &self,
        ctx: &Context,
        client: &Client,
        req: ListRequest,
        out: &mut ListStream,
    ) -> Result<(), Diagnostics> {
        let config: InstanceListConfig = req.config.to()?;
        let labels: Vec<(String, String)> = config
            .labels
            .iter()
            .flatten()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
            .collect();
        let query = InstanceQuery {
            state: config.state.clone(),
            labels: labels.clone(),
        };
        let client = &client.with_stop(ctx);
        let query = &query;
        let schema = &*SCHEMA;
        // Filtered here, pages may hold fewer matches than asked for: ask for full pages then.
        let engine = config.engine.as_deref();
        stream_pages(
            out,
            "CloudDB instances",
            |size, token| async move {
                let size = if engine.is_some() {
                    MAX_PAGE_SIZE
                } else {
                    size
                };
                client
                    .list_instances_page(query, size, token)
                    .await
                    .map_err(|e| api_diags(schema, "Error listing CloudDB instances", &e))
            },
            |inst: Instance| {
                // The API filtered labels and state already; checked again so that an API
                // that ignores a filter cannot list what the configuration excludes.
                let matches = engine.is_none_or(|e| e == inst.engine)
                    && config.state.as_ref().is_none_or(|s| *s == inst.state)
                    && labels.iter().all(|(k, v)| inst.labels.get(k) == Some(v));
                matches
                    .then(|| item(client, &inst, req.include_resource))
                    .transpose()
            },
        )
        .await
    }
}
