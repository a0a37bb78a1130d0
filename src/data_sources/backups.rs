//! `data "clouddb_backups"`: the project's backups (on-demand and final), or those of one instance
//! name. Backups outlive their instance, so an instance that no longer exists (or never did) is not
//! an error: its list is whatever backups still carry its name, possibly none.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::provider::{Context, DataReadResult, DataSource};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::Value;

use super::api_diags;
use crate::client::Client;
use crate::client::backups::BackupRecord;

/// The `clouddb_backups` data source as configuration and result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupsModel {
    pub instance: Option<String>,
    pub backups: Option<Vec<BackupItemModel>>,
}

/// One element of `backups`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupItemModel {
    pub name: String,
    pub instance: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub state: String,
    pub size_bytes: i64,
    pub engine: String,
    pub engine_version: String,
    pub created_at: String,
}

impl From<&BackupRecord> for BackupItemModel {
    fn from(b: &BackupRecord) -> Self {
        BackupItemModel {
            name: b.name.clone(),
            instance: b.instance.clone(),
            description: b.description.clone(),
            kind: b.kind.clone(),
            state: b.state.clone(),
            size_bytes: b.size_bytes,
            engine: b.engine.clone(),
            engine_version: b.engine_version.clone(),
            created_at: b.created_at.clone(),
        }
    }
}

fn computed(a: Attribute, description: &str) -> Attribute {
    a.computed().description(description)
}

/// The data source schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Lists the project's CloudDB backups, including final backups of deleted instances. \
             With `instance`, only the backups taken of the instance of that name.",
        )
        .attribute(Attribute::string("instance").optional().description(
            "Only backups of the instance of this name. The instance need not exist any more: \
                     backups outlive it.",
        ))
        .attribute(computed(
            Attribute::list_nested(
                "backups",
                vec![
                    computed(
                        Attribute::string("name"),
                        "Backup name, unique in the project.",
                    ),
                    computed(
                        Attribute::string("instance"),
                        "Name of the instance it was taken of.",
                    ),
                    computed(
                        Attribute::string("description"),
                        "Description (empty when none was given).",
                    ),
                    computed(Attribute::string("type"), "`ON_DEMAND` or `FINAL`."),
                    computed(Attribute::string("state"), "Backup state, e.g. `READY`."),
                    computed(Attribute::int64("size_bytes"), "Size in bytes."),
                    computed(
                        Attribute::string("engine"),
                        "Engine of the instance when it was taken.",
                    ),
                    computed(
                        Attribute::string("engine_version"),
                        "Engine version of the instance when it was taken.",
                    ),
                    computed(Attribute::string("created_at"), "Creation time (RFC 3339)."),
                ],
            ),
            "The backups, ordered by name.",
        ))
}

/// The `clouddb_backups` data source type.
#[derive(Debug, Default)]
pub struct BackupsDataSource;

#[async_trait]
impl DataSource<Client> for BackupsDataSource {
    fn type_name(&self) -> &'static str {
        "clouddb_backups"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(
        &self,
        ctx: &Context,
        client: &Client,
        config: &Value,
    ) -> Result<DataReadResult, Diagnostics> {
        let mut m: BackupsModel = config.to()?;
        // An empty name would list the whole project, which is what leaving it out says.
        let instance = m.instance.as_deref().filter(|i| !i.is_empty());
        let list = client
            .with_stop(ctx)
            .list_backups(instance)
            .await
            .map_err(|e| api_diags("Error listing CloudDB backups", &e, &["instance"]))?;
        let mut items: Vec<BackupItemModel> = list
            .iter()
            // The API filters already; this keeps the promise should it ignore the parameter.
            .filter(|b| instance.is_none_or(|i| b.instance == i))
            .map(BackupItemModel::from)
            .collect();
        items.sort_by(|a, b| a.name.cmp(&b.name));
        m.backups = Some(items);
        Ok(DataReadResult::from_model(&m)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_matches_schema() {
        let b: BackupRecord = serde_json::from_value(serde_json::json!({
            "name": "b1", "instance": "db1", "type": "FINAL", "size_bytes": 7
        }))
        .expect("record");
        let m = BackupsModel {
            instance: None,
            backups: Some(vec![BackupItemModel::from(&b)]),
        };
        let v = tfplugin::model::conform(
            Value::from_model(&m).expect("writes"),
            &schema().implied_type(),
        )
        .expect("fits the schema");
        assert!(v.is_wholly_known());
        assert_eq!(v.to::<BackupsModel>().expect("reads back"), m);
    }
}
