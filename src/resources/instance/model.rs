//! The `clouddb_instance` model: one Rust field per schema attribute (see `schema.rs`).
//!
//! The framework checks this declaration against the schema at the first read or write,
//! naming any attribute that is misspelt, missing or of another type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfplugin::model::{Field, TimeoutsModel};

/// A `clouddb_instance` as configuration, plan or state. Every field is a [`Field`]:
/// plans hold unknowns, and configurations hold nulls for what they leave unset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceModel {
    pub id: Field<String>,
    pub name: Field<String>,
    pub engine: Field<String>,
    pub engine_version: Field<String>,
    pub engine_version_actual: Field<String>,
    pub allow_major_version_upgrade: Field<bool>,
    pub tier: Field<String>,
    pub storage_gb: Field<i64>,
    pub high_availability: Field<bool>,
    pub admin_username: Field<String>,
    pub admin_password: Field<String>,
    /// Write-only: only ever set in a configuration (the framework nulls it in plans and state).
    pub admin_password_wo: Field<String>,
    pub admin_password_wo_version: Field<i64>,
    pub restore_from_backup: Field<String>,
    pub labels: Field<BTreeMap<String, Field<String>>>,
    pub deletion_protection: Field<bool>,
    pub skip_final_backup: Field<bool>,
    pub final_backup_name: Field<String>,
    pub backup: Field<BackupModel>,
    pub state: Field<String>,
    pub endpoint_host: Field<String>,
    pub endpoint_port: Field<i64>,
    pub created_at: Field<String>,
    pub timeouts: Field<TimeoutsModel>,
}

/// The `backup` nested attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupModel {
    pub enabled: Field<bool>,
    pub start_time: Field<String>,
    pub retention_days: Field<i64>,
}

impl InstanceModel {
    /// The instance's name as the API knows it: `id` once created, else `name`.
    pub fn api_name(&self) -> Option<&str> {
        self.id.as_str().or_else(|| self.name.as_str())
    }

    /// The labels whose values are known (unknown or null map → empty).
    pub fn known_labels(&self) -> BTreeMap<String, String> {
        self.labels
            .known()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }
}
