//! `list "clouddb_backup"`: the project's backups (final backups of deleted instances
//! included), or those of one `instance`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::provider::{Context, ListItem, ListRequest, ListResource, ListStream};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::Value;

use super::stream_pages;
use crate::client::Client;
use crate::client::backups::BackupRecord;
use crate::resources::backup::state_from_api;
use crate::resources::common::api_diags;
use crate::resources::identity::{self, BackupIdentity};

/// The `config` of a `list "clouddb_backup"` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupListConfig {
    pub instance: Option<String>,
}

/// The `clouddb_backup` list resource.
#[derive(Debug, Default)]
pub struct BackupList;

/// Built once per process: every call looks attribute names up in it (errors name the attribute),
/// and rebuilding the schema per call would be wasted work.
static SCHEMA: std::sync::LazyLock<Schema> = std::sync::LazyLock::new(schema);

fn schema() -> Schema {
    Schema::new()
        .description("Lists the project's CloudDB backups.")
        .attribute(Attribute::string("instance").optional().description(
            "Only backups of the instance of this name (also after the instance was deleted).",
        ))
}

fn item(
    client: &Client,
    rec: &BackupRecord,
    include_resource: bool,
) -> Result<ListItem, Diagnostics> {
    let id = identity::to_value(&BackupIdentity::new(client, &rec.name))?;
    let mut item = ListItem::new(rec.name.clone(), id);
    if include_resource {
        item = item.with_resource(Value::from_model(&state_from_api(rec, None))?);
    }
    Ok(item)
}

#[async_trait]
impl ListResource<Client> for BackupList {
    fn type_name(&self) -> &'static str {
        "clouddb_backup"
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
        let config: BackupListConfig = req.config.to()?;
        let client = &client.with_stop(ctx);
        let instance = config.instance.as_deref();
        let schema = &*SCHEMA;
        stream_pages(
            out,
            "CloudDB backups",
            |size, token| async move {
                client
                    .list_backups_page(instance, size, token)
                    .await
                    .map_err(|e| api_diags(schema, "Error listing CloudDB backups", &e))
            },
            |rec: BackupRecord| item(client, &rec, req.include_resource).map(Some),
        )
        .await
    }
}
