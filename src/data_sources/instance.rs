//! `data "clouddb_instance"`: one instance by name, with every attribute of the resource that
//! describes the instance. Left out: the secrets (`admin_password`, `admin_password_wo`), and what
//! only steers the resource's own plan, apply and destroy (`admin_password_wo_version`,
//! `allow_major_version_upgrade`, `skip_final_backup`, `final_backup_name`, `timeouts`), which the
//! API does not know.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::{Context, DataReadResult, DataSource};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{AttributePath, Type, Value};

use super::api_diags;
use crate::client::Client;
use crate::client::types::Instance;
use crate::resources::instance::valid_name;

/// The `clouddb_instance` data source as configuration (`name` only) and result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceDataModel {
    pub id: Option<String>,
    pub name: String,
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub engine_version_actual: Option<String>,
    pub tier: Option<String>,
    pub storage_gb: Option<i64>,
    pub high_availability: Option<bool>,
    pub admin_username: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub deletion_protection: Option<bool>,
    pub restore_from_backup: Option<String>,
    pub backup: Option<BackupSettingsModel>,
    pub state: Option<String>,
    pub endpoint_host: Option<String>,
    pub endpoint_port: Option<i64>,
    pub created_at: Option<String>,
}

/// The `backup` nested attribute: the instance's automated-backup settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupSettingsModel {
    pub enabled: bool,
    pub start_time: String,
    pub retention_days: i64,
}

impl InstanceDataModel {
    /// The result for the instance the API returned.
    fn from_api(inst: &Instance) -> Self {
        InstanceDataModel {
            id: Some(inst.name.clone()),
            name: inst.name.clone(),
            engine: Some(inst.engine.clone()),
            engine_version: Some(inst.engine_version.clone()),
            engine_version_actual: Some(inst.engine_version_actual.clone()),
            tier: Some(inst.tier.clone()),
            storage_gb: Some(inst.storage_gb),
            high_availability: Some(inst.high_availability),
            admin_username: Some(inst.admin_username.clone()),
            // `{}` rather than null for no labels, so `lookup(…labels, k, default)` always works.
            labels: Some(inst.labels.clone()),
            deletion_protection: Some(inst.deletion_protection),
            // Null, not "", for an instance that was created empty (as the resource has it).
            restore_from_backup: Some(inst.restored_from_backup.clone()).filter(|b| !b.is_empty()),
            backup: Some(BackupSettingsModel {
                enabled: inst.backup.enabled,
                start_time: inst.backup.start_time.clone(),
                retention_days: inst.backup.retention_days,
            }),
            state: Some(inst.state.clone()),
            endpoint_host: Some(inst.endpoint.host.clone()),
            endpoint_port: Some(inst.endpoint.port),
            created_at: Some(inst.created_at.clone()),
        }
    }
}

fn computed(a: Attribute, description: &str) -> Attribute {
    a.computed().description(description)
}

/// The data source schema.
pub fn schema() -> Schema {
    Schema::new()
        .description("Looks up one CloudDB instance by name. An instance that does not exist is an error.")
        .attribute(computed(Attribute::string("id"), "The instance name."))
        .attribute(
            Attribute::string("name")
                .required()
                .validate_with("3-63 of a-z, 0-9 and '-', starting with a letter, not ending with '-'", |p, v, d| {
                    if let Some(s) = v.as_str()
                        && !valid_name(s)
                    {
                        d.attribute_error(
                            p.clone(),
                            "Invalid instance name",
                            format!(
                                "{:?} is not a valid instance name: use 3 to 63 lowercase letters, digits \
                                 and hyphens, starting with a letter and not ending with a hyphen.",
                                s.chars().take(80).collect::<String>()
                            ),
                        );
                    }
                })
                .description("Name of the instance to look up."),
        )
        .attribute(computed(Attribute::string("engine"), "`mysql` or `postgres`."))
        .attribute(computed(
            Attribute::string("engine_version"),
            "Engine version as configured, e.g. `8.0` or `16`.",
        ))
        .attribute(computed(
            Attribute::string("engine_version_actual"),
            "The full version the instance runs, e.g. `8.0.36`.",
        ))
        .attribute(computed(Attribute::string("tier"), "Machine tier, e.g. `db-small`."))
        .attribute(computed(Attribute::int64("storage_gb"), "Storage in GB."))
        .attribute(computed(
            Attribute::bool("high_availability"),
            "Whether a standby replica runs.",
        ))
        .attribute(computed(Attribute::string("admin_username"), "Administrator user name."))
        .attribute(computed(
            Attribute::map("labels", Type::String),
            "Labels of the instance (`{}` when it has none).",
        ))
        .attribute(computed(
            Attribute::bool("deletion_protection"),
            "While true, the API refuses to delete the instance.",
        ))
        .attribute(computed(
            Attribute::string("restore_from_backup"),
            "The backup the instance was restored from (null when it was created empty).",
        ))
        .attribute(computed(
            Attribute::single_nested(
                "backup",
                vec![
                    computed(Attribute::bool("enabled"), "Automated backups are on."),
                    computed(
                        Attribute::string("start_time"),
                        "Daily backup window start, \"HH:MM\" UTC.",
                    ),
                    computed(Attribute::int64("retention_days"), "Days backups are kept."),
                ],
            ),
            "Automated backup settings.",
        ))
        .attribute(computed(
            Attribute::string("state"),
            "Lifecycle state, e.g. `READY`, `UPDATING`, `MAINTENANCE` or `FAILED`.",
        ))
        .attribute(computed(Attribute::string("endpoint_host"), "Host name clients connect to."))
        .attribute(computed(Attribute::int64("endpoint_port"), "Port clients connect to."))
        .attribute(computed(Attribute::string("created_at"), "Creation time (RFC 3339)."))
}

/// The `clouddb_instance` data source type.
#[derive(Debug, Default)]
pub struct InstanceDataSource;

#[async_trait]
impl DataSource<Client> for InstanceDataSource {
    fn type_name(&self) -> &'static str {
        "clouddb_instance"
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
        let config: InstanceDataModel = config.to()?;
        let name = config.name;
        let client = client.with_stop(ctx);
        match client.get_instance(&name).await {
            Ok(Some(inst)) => Ok(DataReadResult::from_model(&InstanceDataModel::from_api(
                &inst,
            ))?),
            Ok(None) => Err(Diagnostic::error(
                "CloudDB instance not found",
                // The name passed validation: it needs no quoting.
                format!("no instance named {name} in project {}", client.project()),
            )
            .at(AttributePath::attr("name"))
            .into()),
            Err(e) => Err(api_diags(
                &format!("Error reading CloudDB instance {name:?}"),
                &e,
                &["name"],
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model mirrors the schema: a full result fits it and reads back unchanged.
    #[test]
    fn model_matches_schema() {
        let inst: Instance = serde_json::from_value(serde_json::json!({
            "name": "db1", "engine": "mysql", "labels": {"team": "a"},
            "backup": {"enabled": true, "start_time": "03:00", "retention_days": 7},
            "endpoint": {"host": "h", "port": 3306}, "restored_from_backup": "b1"
        }))
        .expect("instance");
        let m = InstanceDataModel::from_api(&inst);
        let v = tfplugin::model::conform(
            Value::from_model(&m).expect("writes"),
            &schema().implied_type(),
        )
        .expect("fits the schema");
        assert!(v.is_wholly_known());
        let back: InstanceDataModel = v.to().expect("reads back");
        assert_eq!(back, m);
    }
}
