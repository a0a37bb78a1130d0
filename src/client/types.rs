//! Wire DTOs of the CloudDB control-plane REST API (`/v1/projects/{project}/...`).
//!
//! These are the provider's own copies of the API shapes: the provider never links the server crate, so
//! the two sides can only agree through JSON. Every response field is `#[serde(default)]` so that a server
//! adding fields, or omitting optional ones, never breaks decoding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An instance as returned by `GET /instances/{name}` and in list pages.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Instance {
    pub name: String,
    pub uid: String,
    pub engine: String,
    pub engine_version: String,
    pub engine_version_actual: String,
    pub tier: String,
    pub storage_gb: i64,
    pub high_availability: bool,
    pub admin_username: String,
    pub labels: BTreeMap<String, String>,
    pub deletion_protection: bool,
    pub backup: Backup,
    pub endpoint: Endpoint,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
    pub etag: String,
    /// The Idempotency-Key of the POST that created the instance (empty when created without one).
    #[serde(default)]
    pub creation_token: String,
    /// The backup the instance was restored from (empty when it was created empty).
    pub restored_from_backup: String,
}

/// Automated backup settings of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct Backup {
    pub enabled: bool,
    /// "HH:MM", UTC.
    pub start_time: String,
    pub retention_days: i64,
}

impl Default for Backup {
    fn default() -> Self {
        Backup {
            enabled: true,
            start_time: String::new(),
            retention_days: 7,
        }
    }
}

/// Where clients connect to the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct Endpoint {
    pub host: String,
    pub port: i64,
}

/// Body of `POST /instances`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateInstanceRequest {
    pub name: String,
    /// Omitted on a restore the configuration does not pin it for: the API takes the backup's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    pub tier: String,
    pub storage_gb: i64,
    pub high_availability: bool,
    pub admin_username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub deletion_protection: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupPatch>,
    /// Create the instance from this backup (its engine, version, databases and users). Only sent
    /// when set, so a server without restore support still accepts every other create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_from_backup: Option<String>,
}

/// A backup as `GET /backups/{name}` returns it, reduced to what a restore plans with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SourceBackup {
    pub name: String,
    /// The instance the backup was taken of (it may no longer exist).
    pub instance: String,
    pub engine: String,
    pub engine_version: String,
    /// e.g. `READY`.
    pub state: String,
    /// The source instance's storage when the backup was taken: a restore needs at least as much
    /// (0 when the API does not say).
    pub source_storage_gb: i64,
    /// The database users the backup restores (the admin cannot take one of their names).
    pub user_names: Vec<String>,
}

/// Body of `PATCH /instances/{name}`: only the fields that change are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateInstanceRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_gb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high_availability: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_major_version_upgrade: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupPatch>,
}

impl UpdateInstanceRequest {
    /// True when nothing would be sent (the resource then skips the API call).
    pub fn is_empty(&self) -> bool {
        *self == UpdateInstanceRequest::default()
    }
}

/// Backup settings as sent on create/update; unset fields keep the server's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackupPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<i64>,
}

/// An asynchronous operation (`202` body of POST/PATCH/DELETE and `GET /operations/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Operation {
    pub id: String,
    pub verb: String,
    /// "instances/NAME".
    pub target: String,
    pub done: bool,
    pub error: Option<Problem>,
    pub created_at: String,
    pub updated_at: String,
}

/// RFC 9457 `application/problem+json` body with CloudDB's extension members.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable UPPER_SNAKE reason, e.g. `OPERATION_IN_PROGRESS`.
    pub reason: String,
    pub retryable: bool,
    pub request_id: String,
    pub field_violations: Vec<FieldViolation>,
}

/// One invalid request field named by a 400/422 problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// One page of `GET /operations`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OperationPage {
    pub operations: Vec<Operation>,
    pub next_page_token: Option<String>,
}

/// One page of `GET /instances`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InstancePage {
    pub instances: Vec<Instance>,
    pub next_page_token: Option<String>,
}

/// One page of `GET /instances` with each record kept as its JSON text, for read-ahead: a
/// listing holds up to a whole project's records until their reads take them, and one string
/// per record is a third of the memory of the parsed [`Instance`] (a heap string per field).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawInstancePage {
    pub instances: Vec<Box<serde_json::value::RawValue>>,
    pub next_page_token: Option<String>,
}

/// The name of a record kept as JSON text (every other field is skipped unparsed).
#[derive(Debug, Deserialize)]
pub struct NameOnly {
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_decodes_full_and_sparse_bodies() {
        let full = r#"{"name":"db1","uid":"u","engine":"mysql","engine_version":"8.0",
            "engine_version_actual":"8.0.36","tier":"db-small","storage_gb":20,"high_availability":false,
            "admin_username":"dbadmin","labels":{"a":"b"},"deletion_protection":false,
            "backup":{"enabled":true,"start_time":"03:00","retention_days":7},
            "endpoint":{"host":"db1.local","port":3306},"state":"READY","created_at":"t","updated_at":"t",
            "etag":"\"1\"","future_field":1}"#;
        let i: Instance = serde_json::from_str(full).expect("full body decodes");
        assert_eq!(i.endpoint.port, 3306);
        assert_eq!(i.labels.get("a").map(String::as_str), Some("b"));
        let sparse: Instance =
            serde_json::from_str(r#"{"name":"x"}"#).expect("sparse body decodes");
        assert_eq!(sparse.backup.retention_days, 7);
        assert_eq!(sparse.restored_from_backup, "");
        let restored: Instance =
            serde_json::from_str(r#"{"name":"x","restored_from_backup":"b1"}"#).expect("decodes");
        assert_eq!(restored.restored_from_backup, "b1");
    }

    #[test]
    fn source_backup_decodes_the_api_record() {
        let b: SourceBackup = serde_json::from_str(
            r#"{"name":"b1","instance":"db1","instance_uid":"u","type":"ON_DEMAND","state":"READY",
                "engine":"postgres","engine_version":"16","size_bytes":1,"created_at":"t","description":"",
                "source_storage_gb":50,"databases":[{"name":"app"}],"users":[{"name":"reader","roles":["ro"]}],
                "database_names":["app"],"user_names":["reader"],"creation_token":""}"#,
        )
        .expect("decodes");
        assert_eq!(
            (b.engine.as_str(), b.engine_version.as_str()),
            ("postgres", "16")
        );
        assert_eq!(b.source_storage_gb, 50);
        assert_eq!(b.user_names, vec!["reader".to_string()]);
        // A server that predates the snapshot fields: no storage floor, no users.
        let old: SourceBackup =
            serde_json::from_str(r#"{"name":"b1","engine":"mysql"}"#).expect("decodes");
        assert_eq!((old.source_storage_gb, old.user_names.len()), (0, 0));
    }

    #[test]
    fn update_sends_only_set_fields() {
        let patch = UpdateInstanceRequest {
            tier: Some("db-small".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&patch).expect("encodes"),
            r#"{"tier":"db-small"}"#
        );
        assert!(UpdateInstanceRequest::default().is_empty());
    }

    #[test]
    fn operation_with_problem_decodes() {
        let op: Operation = serde_json::from_str(
            r#"{"id":"op1","verb":"create","target":"instances/a","done":true,
                "error":{"status":500,"reason":"INTERNAL","detail":"boom"}}"#,
        )
        .expect("decodes");
        assert_eq!(op.error.map(|p| p.reason), Some("INTERNAL".to_string()));
    }
}
