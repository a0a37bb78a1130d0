//! State upgrade of `clouddb_instance` from schema version 0.
//!
//! Version 0 (the provider's first preview) stored backup settings flat (`backup_enabled`,
//! `backup_start_time`, `backup_retention_days`) and the endpoint as one `"host:port"` string, and had no
//! `engine_version_actual`, `allow_major_version_upgrade`, `skip_final_backup` or `final_backup_name`.
//! Version 1 nests `backup`, splits `endpoint_host`/`endpoint_port` and adds the new attributes with their
//! defaults. Terraform refreshes right after upgrading, so server-owned values are corrected then.

use serde_json::{Map, Value as Json, json};

/// Upgrade a version-0 state (RawState JSON) to version 1.
pub fn upgrade_v0_to_v1(old: Json) -> Result<Json, String> {
    let Json::Object(mut m) = old else {
        return Err("version 0 state is not a JSON object".into());
    };
    let enabled = m
        .remove("backup_enabled")
        .and_then(|v| v.as_bool())
        .unwrap_or(true);
    let start_time = m
        .remove("backup_start_time")
        .filter(|v| !v.is_null())
        .unwrap_or(Json::Null);
    let retention = m
        .remove("backup_retention_days")
        .filter(|v| !v.is_null())
        .unwrap_or(json!(7));
    let retention = match retention {
        Json::String(s) => s
            .parse::<i64>()
            .map(|n| json!(n))
            .map_err(|e| format!("backup_retention_days: {e}"))?,
        other => other,
    };
    m.insert(
        "backup".into(),
        json!({"enabled": enabled, "start_time": start_time, "retention_days": retention}),
    );

    let endpoint = m.remove("endpoint");
    let (host, port) = match endpoint.as_ref().and_then(Json::as_str) {
        Some(s) => match s.rsplit_once(':') {
            Some((h, p)) => (
                json!(h),
                p.parse::<i64>().map(|n| json!(n)).unwrap_or(Json::Null),
            ),
            None => (json!(s), Json::Null),
        },
        None => (Json::Null, Json::Null),
    };
    m.entry("endpoint_host").or_insert(host);
    m.entry("endpoint_port").or_insert(port);

    // storage_gb may have been written as a string by the preview's flatmap-era tooling.
    if let Some(Json::String(s)) = m.get("storage_gb") {
        let n: i64 = s.parse().map_err(|e| format!("storage_gb {s:?}: {e}"))?;
        m.insert("storage_gb".into(), json!(n));
    }
    let version = m.get("engine_version").cloned().unwrap_or(Json::Null);
    m.entry("engine_version_actual").or_insert(version);
    m.entry("allow_major_version_upgrade")
        .or_insert(json!(false));
    m.entry("skip_final_backup").or_insert(json!(false));
    m.entry("final_backup_name").or_insert(Json::Null);
    m.entry("admin_username").or_insert(json!("dbadmin"));
    let name = m.get("name").cloned().unwrap_or(Json::Null);
    m.entry("id").or_insert(name);
    for k in [
        "admin_password",
        "labels",
        "state",
        "created_at",
        "timeouts",
        "engine_version",
    ] {
        m.entry(k).or_insert(Json::Null);
    }
    m.entry("engine").or_insert(json!("mysql"));
    m.entry("high_availability").or_insert(json!(false));
    m.entry("deletion_protection").or_insert(json!(false));
    Ok(Json::Object(drop_unknown_keys(m)))
}

/// Keep only attributes of the version-1 schema (older previews had a few debug fields).
fn drop_unknown_keys(m: Map<String, Json>) -> Map<String, Json> {
    const V1: &[&str] = &[
        "id",
        "name",
        "engine",
        "engine_version",
        "engine_version_actual",
        "allow_major_version_upgrade",
        "tier",
        "storage_gb",
        "high_availability",
        "admin_username",
        "admin_password",
        "labels",
        "deletion_protection",
        "skip_final_backup",
        "final_backup_name",
        "backup",
        "state",
        "endpoint_host",
        "endpoint_port",
        "created_at",
        "timeouts",
    ];
    m.into_iter()
        .filter(|(k, _)| V1.contains(&k.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(v1.get("debug_blob").is_none());
        assert!(v1.get("backup_enabled").is_none());
        assert!(v1.get("endpoint").is_none());
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
