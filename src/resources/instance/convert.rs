//! Conversions between `clouddb_instance` Terraform values and the API's wire DTOs.
//!
//! State is always rebuilt from what the API returns ([`state_from_api`]), so refresh reports drift
//! faithfully; attributes the API never returns (password, destroy-only flags, timeouts,
//! `allow_major_version_upgrade`) are carried over from the planned or prior value.

use std::collections::BTreeMap;

use tfplugin::value::Value;

use crate::client::types::{BackupPatch, CreateInstanceRequest, Instance, UpdateInstanceRequest};

/// Defaults shared by schema, import and conversion.
pub const DEFAULT_ENGINE: &str = "mysql";
pub const DEFAULT_ADMIN_USERNAME: &str = "dbadmin";
pub const DEFAULT_BACKUP_RETENTION_DAYS: i64 = 7;

fn known_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn known_bool(v: &Value) -> Option<bool> {
    v.as_bool()
}

fn known_i64(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// Known string entries of a map value (unknown or null → empty).
pub fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v.as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Backup settings from a `backup` object value; unknown/null fields are left out (server decides).
pub fn backup_patch(v: &Value) -> Option<BackupPatch> {
    if v.is_null() || v.is_unknown() {
        return None;
    }
    let p = BackupPatch {
        enabled: known_bool(v.get("enabled")),
        start_time: known_str(v.get("start_time")),
        retention_days: known_i64(v.get("retention_days")),
    };
    (p != BackupPatch::default()).then_some(p)
}

/// The create request for a planned value.
pub fn create_request(planned: &Value) -> CreateInstanceRequest {
    CreateInstanceRequest {
        name: known_str(planned.get("name")).unwrap_or_default(),
        engine: known_str(planned.get("engine")).unwrap_or_else(|| DEFAULT_ENGINE.into()),
        engine_version: known_str(planned.get("engine_version")),
        tier: known_str(planned.get("tier")).unwrap_or_default(),
        storage_gb: known_i64(planned.get("storage_gb")).unwrap_or_default(),
        high_availability: known_bool(planned.get("high_availability")).unwrap_or(false),
        admin_username: known_str(planned.get("admin_username"))
            .unwrap_or_else(|| DEFAULT_ADMIN_USERNAME.into()),
        admin_password: known_str(planned.get("admin_password")),
        labels: labels_of(planned.get("labels")),
        deletion_protection: known_bool(planned.get("deletion_protection")).unwrap_or(false),
        backup: backup_patch(planned.get("backup")),
    }
}

/// The PATCH body: only the API fields whose planned value differs from the prior value.
pub fn update_request(prior: &Value, planned: &Value) -> UpdateInstanceRequest {
    let changed = |attr: &str| {
        let p = planned.get(attr);
        !p.is_unknown() && p != prior.get(attr)
    };
    let mut req = UpdateInstanceRequest::default();
    if changed("tier") {
        req.tier = known_str(planned.get("tier"));
    }
    if changed("storage_gb") {
        req.storage_gb = known_i64(planned.get("storage_gb"));
    }
    if changed("high_availability") {
        req.high_availability = known_bool(planned.get("high_availability"));
    }
    if changed("engine_version") && !planned.get("engine_version").is_null() {
        req.engine_version = known_str(planned.get("engine_version"));
        if known_bool(planned.get("allow_major_version_upgrade")) == Some(true) {
            req.allow_major_version_upgrade = Some(true);
        }
    }
    if changed("admin_password") && !planned.get("admin_password").is_null() {
        req.admin_password = known_str(planned.get("admin_password"));
    }
    if changed("labels") {
        req.labels = Some(labels_of(planned.get("labels")));
    }
    if changed("deletion_protection") {
        req.deletion_protection = known_bool(planned.get("deletion_protection"));
    }
    if changed("backup") {
        let prior_b = prior.get("backup");
        let planned_b = planned.get("backup");
        if planned_b.is_known() && !planned_b.is_null() {
            let field_changed = |f: &str| {
                let p = planned_b.get(f);
                p.is_known() && !p.is_null() && p != prior_b.get(f)
            };
            let patch = BackupPatch {
                enabled: field_changed("enabled")
                    .then(|| known_bool(planned_b.get("enabled")))
                    .flatten(),
                start_time: field_changed("start_time")
                    .then(|| known_str(planned_b.get("start_time")))
                    .flatten(),
                retention_days: field_changed("retention_days")
                    .then(|| known_i64(planned_b.get("retention_days")))
                    .flatten(),
            };
            if patch != BackupPatch::default() {
                req.backup = Some(patch);
            }
        }
    }
    req
}

/// Build the full resource value from the API's view of the instance. `base` (planned, prior, or
/// Null on import) supplies what the API never returns.
pub fn state_from_api(inst: &Instance, base: &Value) -> Value {
    let carry = |attr: &str| {
        let v = base.get(attr);
        if v.is_unknown() {
            Value::Null
        } else {
            v.clone()
        }
    };
    let carry_bool = |attr: &str, default: bool| base.get(attr).as_bool().unwrap_or(default);
    // Labels: the API has no "unset" — keep the user's spelling (null vs {}) when empty.
    let labels = if inst.labels.is_empty() {
        match base.get("labels") {
            Value::Map(m) if m.is_empty() => Value::Map(BTreeMap::new()),
            _ => Value::Null,
        }
    } else {
        Value::map(
            inst.labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::string(v.clone()))),
        )
    };
    let timeouts = match base.get("timeouts") {
        v @ Value::Object(_) => v.clone(),
        _ => Value::Null,
    };
    Value::object([
        ("id", Value::string(inst.name.clone())),
        ("name", Value::string(inst.name.clone())),
        ("engine", Value::string(inst.engine.clone())),
        ("engine_version", Value::string(inst.engine_version.clone())),
        (
            "engine_version_actual",
            Value::string(inst.engine_version_actual.clone()),
        ),
        (
            "allow_major_version_upgrade",
            Value::Bool(carry_bool("allow_major_version_upgrade", false)),
        ),
        ("tier", Value::string(inst.tier.clone())),
        ("storage_gb", Value::int(inst.storage_gb)),
        ("high_availability", Value::Bool(inst.high_availability)),
        ("admin_username", Value::string(inst.admin_username.clone())),
        ("admin_password", carry("admin_password")),
        ("labels", labels),
        ("deletion_protection", Value::Bool(inst.deletion_protection)),
        (
            "skip_final_backup",
            Value::Bool(carry_bool("skip_final_backup", false)),
        ),
        ("final_backup_name", carry("final_backup_name")),
        (
            "backup",
            Value::object([
                ("enabled", Value::Bool(inst.backup.enabled)),
                ("start_time", Value::string(inst.backup.start_time.clone())),
                ("retention_days", Value::int(inst.backup.retention_days)),
            ]),
        ),
        ("state", Value::string(inst.state.clone())),
        ("endpoint_host", Value::string(inst.endpoint.host.clone())),
        ("endpoint_port", Value::int(inst.endpoint.port)),
        ("created_at", Value::string(inst.created_at.clone())),
        ("timeouts", timeouts),
    ])
}

/// The state to save when a create was accepted but waiting failed: the planned value with every
/// unknown replaced (by the API's view when we have one, else null / "CREATING").
pub fn partial_state(planned: &Value, name: &str, fetched: Option<&Instance>) -> Value {
    if let Some(inst) = fetched {
        return state_from_api(inst, planned);
    }
    let mut v = fill_unknowns(planned);
    v.set_attr("id", Value::string(name));
    v.set_attr("state", Value::string("CREATING"));
    v
}

/// Replace unknowns (recursively) with null, so a value can be saved as state.
pub fn fill_unknowns(v: &Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), fill_unknowns(v)))
                .collect(),
        ),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), fill_unknowns(v)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.iter().map(fill_unknowns).collect()),
        Value::Set(l) => Value::Set(l.iter().map(fill_unknowns).collect()),
        Value::Tuple(l) => Value::Tuple(l.iter().map(fill_unknowns).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::types::{Backup, Endpoint};

    fn instance() -> Instance {
        Instance {
            name: "db1".into(),
            uid: "u1".into(),
            engine: "mysql".into(),
            engine_version: "8.0".into(),
            engine_version_actual: "8.0.36".into(),
            tier: "db-small".into(),
            storage_gb: 20,
            high_availability: false,
            admin_username: "dbadmin".into(),
            labels: BTreeMap::new(),
            deletion_protection: false,
            backup: Backup {
                enabled: true,
                start_time: "03:00".into(),
                retention_days: 7,
            },
            endpoint: Endpoint {
                host: "db1.acc.clouddb.internal".into(),
                port: 3306,
            },
            state: "READY".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
            etag: "\"1\"".into(),
        }
    }

    #[test]
    fn state_keeps_unreadable_fields_and_label_spelling() {
        let base = Value::object([
            ("admin_password", Value::string("pw")),
            ("labels", Value::Map(BTreeMap::new())),
            ("skip_final_backup", Value::Bool(true)),
        ]);
        let s = state_from_api(&instance(), &base);
        assert_eq!(s.get("admin_password").as_str(), Some("pw"));
        assert_eq!(s.get("labels"), &Value::Map(BTreeMap::new()));
        assert_eq!(s.get("skip_final_backup").as_bool(), Some(true));
        assert_eq!(s.get("endpoint_port").as_i64(), Some(3306));
        // Import: nothing to carry.
        let imported = state_from_api(&instance(), &Value::Null);
        assert!(imported.get("labels").is_null());
        assert!(imported.get("admin_password").is_null());
        assert_eq!(imported.get("skip_final_backup").as_bool(), Some(false));
        assert!(imported.is_wholly_known());
    }

    #[test]
    fn update_sends_only_changes() {
        let prior = state_from_api(&instance(), &Value::Null);
        let mut planned = prior.clone();
        planned.set_attr("tier", Value::string("db-standard-2"));
        planned.set_attr("engine_version_actual", Value::unknown());
        let req = update_request(&prior, &planned);
        assert_eq!(
            req,
            UpdateInstanceRequest {
                tier: Some("db-standard-2".into()),
                ..Default::default()
            }
        );

        let mut planned = prior.clone();
        planned.set_attr(
            "backup",
            Value::object([
                ("enabled", Value::Bool(true)),
                ("start_time", Value::string("04:00")),
                ("retention_days", Value::int(7)),
            ]),
        );
        let req = update_request(&prior, &planned);
        assert_eq!(
            req.backup,
            Some(BackupPatch {
                start_time: Some("04:00".into()),
                ..Default::default()
            })
        );
        assert!(update_request(&prior, &prior).is_empty());
    }

    #[test]
    fn create_request_omits_unknown_version_and_backup() {
        let planned = Value::object([
            ("name", Value::string("db1")),
            ("engine", Value::string("postgres")),
            ("engine_version", Value::unknown()),
            ("tier", Value::string("db-small")),
            ("storage_gb", Value::int(10)),
            ("backup", Value::unknown()),
        ]);
        let req = create_request(&planned);
        assert_eq!(req.engine_version, None);
        assert_eq!(req.backup, None);
        assert_eq!(req.admin_username, "dbadmin");
    }

    #[test]
    fn partial_state_has_no_unknowns() {
        let planned = Value::object([
            ("name", Value::string("db1")),
            ("endpoint_host", Value::unknown()),
        ]);
        let s = partial_state(&planned, "db1", None);
        assert!(s.is_wholly_known());
        assert_eq!(s.get("id").as_str(), Some("db1"));
    }
}
