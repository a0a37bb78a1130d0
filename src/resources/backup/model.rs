//! The `clouddb_backup` model: one Rust field per schema attribute (see `schema.rs`).

use serde::{Deserialize, Serialize};
use tfplugin::model::{Field, TimeoutsModel};

/// A `clouddb_backup` as configuration, plan or state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupResourceModel {
    pub id: Field<String>,
    pub instance: Field<String>,
    pub name: Field<String>,
    pub description: Field<String>,
    #[serde(rename = "type")]
    pub kind: Field<String>,
    pub state: Field<String>,
    pub size_bytes: Field<i64>,
    pub engine: Field<String>,
    pub engine_version: Field<String>,
    pub created_at: Field<String>,
    pub timeouts: Field<TimeoutsModel>,
}

impl BackupResourceModel {
    /// The backup's name as the API knows it: `id` once created, else a configured `name`.
    pub fn api_name(&self) -> Option<&str> {
        self.id.as_str().or_else(|| self.name.as_str())
    }
}
