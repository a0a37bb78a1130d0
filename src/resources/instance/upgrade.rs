//! State upgrade of `clouddb_instance` from schema version 0.
//!
//! Version 0 (the provider's first preview) stored backup settings flat (`backup_enabled`,
//! `backup_start_time`, `backup_retention_days`) and the endpoint as one `"host:port"` string, and had no
//! `engine_version_actual`, `allow_major_version_upgrade`, `skip_final_backup` or `final_backup_name`.
//! Version 1 nests `backup`, splits `endpoint_host`/`endpoint_port` and adds the new attributes with their
//! defaults. Terraform refreshes right after upgrading, so server-owned values are corrected then.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;
use tfplugin::model::{Field, TimeoutsModel};

use super::convert::{DEFAULT_ADMIN_USERNAME, DEFAULT_BACKUP_RETENTION_DAYS, DEFAULT_ENGINE};
use super::model::{BackupModel, InstanceModel};

/// The version-0 state, as the preview stored it. Unknown keys (a few debug fields) are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InstanceV0 {
    id: Option<String>,
    name: Option<String>,
    engine: Option<String>,
    engine_version: Option<String>,
    tier: Option<String>,
    storage_gb: Option<NumberOrString>,
    high_availability: Option<bool>,
    admin_username: Option<String>,
    admin_password: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    deletion_protection: Option<bool>,
    backup_enabled: Option<bool>,
    backup_start_time: Option<String>,
    backup_retention_days: Option<NumberOrString>,
    /// `"host:port"`.
    endpoint: Option<String>,
    state: Option<String>,
    created_at: Option<String>,
    timeouts: Option<BTreeMap<String, Option<String>>>,
}

/// The preview's flatmap-era tooling sometimes wrote numbers as strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(i64),
    String(String),
}

impl NumberOrString {
    fn to_i64(&self, attr: &str) -> Result<i64, String> {
        match self {
            NumberOrString::Number(n) => Ok(*n),
            NumberOrString::String(s) => s.parse().map_err(|e| format!("{attr} {s:?}: {e}")),
        }
    }
}

/// Upgrade a version-0 state (RawState JSON) to version 1.
pub fn upgrade_v0_to_v1(old: Json) -> Result<Json, String> {
    if !old.is_object() {
        return Err("version 0 state is not a JSON object".into());
    }
    let v0: InstanceV0 =
        serde_json::from_value(old).map_err(|e| format!("version 0 state: {e}"))?;
    let (host, port) = match v0.endpoint.as_deref().map(|s| s.rsplit_once(':').ok_or(s)) {
        Some(Ok((h, p))) => (Field::from(h), p.parse::<i64>().ok().into()),
        Some(Err(h)) => (Field::from(h), Field::Null),
        None => (Field::Null, Field::Null),
    };
    let retention = match &v0.backup_retention_days {
        Some(r) => r.to_i64("backup_retention_days")?,
        None => DEFAULT_BACKUP_RETENTION_DAYS,
    };
    let storage = v0
        .storage_gb
        .as_ref()
        .map(|s| s.to_i64("storage_gb"))
        .transpose()?;
    let v1 = InstanceModel {
        id: v0.id.or_else(|| v0.name.clone()).into(),
        name: v0.name.into(),
        engine: v0.engine.unwrap_or_else(|| DEFAULT_ENGINE.into()).into(),
        engine_version_actual: v0.engine_version.clone().into(),
        engine_version: v0.engine_version.into(),
        allow_major_version_upgrade: false.into(),
        tier: v0.tier.into(),
        storage_gb: storage.into(),
        high_availability: v0.high_availability.unwrap_or(false).into(),
        admin_username: v0
            .admin_username
            .unwrap_or_else(|| DEFAULT_ADMIN_USERNAME.into())
            .into(),
        admin_password: v0.admin_password.into(),
        // Version 0 had neither the write-only password nor restores.
        admin_password_wo: Field::Null,
        admin_password_wo_version: Field::Null,
        restore_from_backup: Field::Null,
        labels: v0
            .labels
            .map(|m| m.into_iter().map(|(k, v)| (k, Field::Known(v))).collect())
            .into(),
        deletion_protection: v0.deletion_protection.unwrap_or(false).into(),
        skip_final_backup: false.into(),
        final_backup_name: Field::Null,
        backup: Field::Known(BackupModel {
            enabled: v0.backup_enabled.unwrap_or(true).into(),
            start_time: v0.backup_start_time.into(),
            retention_days: retention.into(),
        }),
        state: v0.state.into(),
        endpoint_host: host.map(str::to_string),
        endpoint_port: port,
        created_at: v0.created_at.into(),
        timeouts: v0.timeouts.map(timeouts_v1).into(),
    };
    serde_json::to_value(&v1).map_err(|e| e.to_string())
}

fn timeouts_v1(m: BTreeMap<String, Option<String>>) -> TimeoutsModel {
    serde_json::from_value(serde_json::json!(m)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upgrades_flat_backup_and_endpoint() {
        let v0 = json!({
            "id": "db1", "name": "db1", "engine": "postgres", "engine_version": "16", "tier": "db-small",
            "storage_gb": "20", "high_availability": false, "admin_username": "dbadmin",
            "admin_password": "pw", "labels": {"a": "b"}, "deletion_protection": true,
            "backup_enabled": false, "backup_start_time": "04:30", "backup_retention_days": 14,
            "endpoint": "db1.acc.internal:5432", "state": "READY", "created_at": "t", "debug_blob": "x"
        });
        let v1 = upgrade_v0_to_v1(v0).expect("upgrades");
        assert_eq!(
            v1["backup"],
            json!({"enabled": false, "start_time": "04:30", "retention_days": 14})
        );
        assert_eq!(v1["endpoint_host"], json!("db1.acc.internal"));
        assert_eq!(v1["endpoint_port"], json!(5432));
        assert_eq!(v1["storage_gb"], json!(20));
        assert_eq!(v1["engine_version_actual"], json!("16"));
        assert_eq!(v1["skip_final_backup"], json!(false));
        assert_eq!(v1["allow_major_version_upgrade"], json!(false));
        assert_eq!(v1["admin_password"], json!("pw"));
        let keys: Vec<&str> = v1
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert!(!keys.contains(&"debug_blob"));
        assert!(!keys.contains(&"backup_enabled"));
        assert!(!keys.contains(&"endpoint"));
    }

    #[test]
    fn upgrades_minimal_state_with_defaults() {
        let v1 = upgrade_v0_to_v1(json!({"name": "db2", "tier": "db-micro", "storage_gb": 10}))
            .expect("ok");
        assert_eq!(v1["id"], json!("db2"));
        assert_eq!(v1["backup"]["retention_days"], json!(7));
        assert_eq!(v1["backup"]["enabled"], json!(true));
        assert_eq!(v1["engine"], json!("mysql"));
        assert!(upgrade_v0_to_v1(json!([1])).is_err());
        assert!(upgrade_v0_to_v1(json!({"storage_gb": "lots"})).is_err());
    }
}
