//! Conversions between the `clouddb_instance` model and the API's wire DTOs.
//!
//! State is always rebuilt from what the API returns ([`state_from_api`]), so refresh reports drift
//! faithfully; attributes the API never returns (password, destroy-only flags, timeouts,
//! `allow_major_version_upgrade`) are carried over from the planned or prior value.

use std::collections::BTreeMap;

use tfplugin::model::Field;

use super::model::{BackupModel, InstanceModel};
use crate::client::types::{BackupPatch, CreateInstanceRequest, Instance, UpdateInstanceRequest};

/// Defaults shared by schema, import and conversion.
pub const DEFAULT_ENGINE: &str = "mysql";
pub const DEFAULT_ADMIN_USERNAME: &str = "dbadmin";
pub const DEFAULT_BACKUP_RETENTION_DAYS: i64 = 7;

/// Backup settings from a `backup` value; unknown/null fields are left out (server decides).
pub fn backup_patch(b: &Field<BackupModel>) -> Option<BackupPatch> {
    let b = b.known()?;
    let p = BackupPatch {
        enabled: b.enabled.known().copied(),
        start_time: b.start_time.known().cloned(),
        retention_days: b.retention_days.known().copied(),
    };
    (p != BackupPatch::default()).then_some(p)
}

/// The create request for a planned value and its configuration (the only place the write-only
/// `admin_password_wo` is found: plans never hold it).
pub fn create_request(planned: &InstanceModel, config: &InstanceModel) -> CreateInstanceRequest {
    let restore = planned.restore_from_backup.known().cloned();
    // A restore takes engine and version from the backup; the plan may have filled them in from
    // the backup too, but only what the configuration pins is sent (the API checks it matches).
    let (engine, engine_version) = if restore.is_some() {
        (
            config.engine.known().cloned(),
            config.engine_version.known().cloned(),
        )
    } else {
        (
            Some(planned.engine.known_or(DEFAULT_ENGINE.into())),
            planned.engine_version.known().cloned(),
        )
    };
    CreateInstanceRequest {
        name: planned.name.known_or(String::new()),
        engine,
        engine_version,
        tier: planned.tier.known_or(super::DEFAULT_TIER.into()),
        storage_gb: planned.storage_gb.known_or(super::DEFAULT_STORAGE_GB),
        high_availability: planned.high_availability.known_or(false),
        admin_username: planned
            .admin_username
            .known_or(DEFAULT_ADMIN_USERNAME.into()),
        admin_password: admin_password_to_send(planned, config),
        labels: planned.known_labels(),
        deletion_protection: planned.deletion_protection.known_or(false),
        backup: backup_patch(&planned.backup),
        restore_from_backup: restore,
    }
}

/// The admin password a create sends: the write-only one from the configuration, else the
/// stored one from the plan (validation allows at most one of them).
fn admin_password_to_send(planned: &InstanceModel, config: &InstanceModel) -> Option<String> {
    config
        .admin_password_wo
        .known()
        .or(planned.admin_password.known())
        .cloned()
}

/// True when the plan settles `planned` to something other than `prior`.
fn changed<T: PartialEq>(prior: &Field<T>, planned: &Field<T>) -> bool {
    !planned.is_unknown() && planned != prior
}

/// The PATCH body: only the API fields whose planned value differs from the prior value. The
/// write-only password (from `config`) is sent when `admin_password_wo_version` changes.
pub fn update_request(
    prior: &InstanceModel,
    planned: &InstanceModel,
    config: &InstanceModel,
) -> UpdateInstanceRequest {
    let mut req = UpdateInstanceRequest::default();
    if changed(&prior.tier, &planned.tier) {
        req.tier = planned.tier.known().cloned();
    }
    if changed(&prior.storage_gb, &planned.storage_gb) {
        req.storage_gb = planned.storage_gb.known().copied();
    }
    if changed(&prior.high_availability, &planned.high_availability) {
        req.high_availability = planned.high_availability.known().copied();
    }
    if changed(&prior.engine_version, &planned.engine_version) {
        req.engine_version = planned.engine_version.known().cloned();
        if req.engine_version.is_some()
            && planned.allow_major_version_upgrade.known() == Some(&true)
        {
            req.allow_major_version_upgrade = Some(true);
        }
    }
    if changed(&prior.admin_password, &planned.admin_password) {
        req.admin_password = planned.admin_password.known().cloned();
    }
    if changed(
        &prior.admin_password_wo_version,
        &planned.admin_password_wo_version,
    ) && let Some(pw) = config.admin_password_wo.known()
    {
        req.admin_password = Some(pw.clone());
    }
    if changed(&prior.labels, &planned.labels) {
        req.labels = Some(planned.known_labels());
    }
    if changed(&prior.deletion_protection, &planned.deletion_protection) {
        req.deletion_protection = planned.deletion_protection.known().copied();
    }
    if changed(&prior.backup, &planned.backup)
        && let Some(new) = planned.backup.known()
    {
        let old = prior.backup.known().cloned().unwrap_or_default();
        let patch = BackupPatch {
            enabled: settled_change(&new.enabled, &old.enabled),
            start_time: settled_change(&new.start_time, &old.start_time),
            retention_days: settled_change(&new.retention_days, &old.retention_days),
        };
        if patch != BackupPatch::default() {
            req.backup = Some(patch);
        }
    }
    req
}

/// The new value when it is known and differs from the old one.
fn settled_change<T: PartialEq + Clone>(new: &Field<T>, old: &Field<T>) -> Option<T> {
    new.known().filter(|_| new != old).cloned()
}

/// A carried-over value, with unknowns settled to null (state holds no unknowns).
fn carry<T: Clone>(f: &Field<T>) -> Field<T> {
    f.clone().or_if_unknown(|| Field::Null)
}

/// Build the full resource value from the API's view of the instance. `base` (planned or
/// prior; `None` on import) supplies what the API never returns.
pub fn state_from_api(inst: &Instance, base: Option<&InstanceModel>) -> InstanceModel {
    let empty = InstanceModel::default();
    let base_given = base.is_some();
    let base = base.unwrap_or(&empty);
    // Labels: the API has no "unset" — keep the user's spelling (null vs {}) when empty.
    let labels = if inst.labels.is_empty() {
        match &base.labels {
            Field::Known(m) if m.is_empty() => Field::Known(BTreeMap::new()),
            _ => Field::Null,
        }
    } else {
        Field::Known(
            inst.labels
                .iter()
                .map(|(k, v)| (k.clone(), Field::Known(v.clone())))
                .collect(),
        )
    };
    InstanceModel {
        id: inst.name.clone().into(),
        name: inst.name.clone().into(),
        engine: inst.engine.clone().into(),
        engine_version: inst.engine_version.clone().into(),
        engine_version_actual: inst.engine_version_actual.clone().into(),
        allow_major_version_upgrade: base.allow_major_version_upgrade.known_or(false).into(),
        tier: inst.tier.clone().into(),
        storage_gb: inst.storage_gb.into(),
        high_availability: inst.high_availability.into(),
        admin_username: inst.admin_username.clone().into(),
        admin_password: carry(&base.admin_password),
        // Write-only: never in state.
        admin_password_wo: Field::Null,
        admin_password_wo_version: carry(&base.admin_password_wo_version),
        // Never changes once created: the configured (or stored) name; on import, the API's.
        restore_from_backup: if base_given {
            carry(&base.restore_from_backup)
        } else if inst.restored_from_backup.is_empty() {
            Field::Null
        } else {
            inst.restored_from_backup.clone().into()
        },
        labels,
        deletion_protection: inst.deletion_protection.into(),
        skip_final_backup: base.skip_final_backup.known_or(false).into(),
        final_backup_name: carry(&base.final_backup_name),
        backup: Field::Known(BackupModel {
            enabled: inst.backup.enabled.into(),
            start_time: inst.backup.start_time.clone().into(),
            retention_days: inst.backup.retention_days.into(),
        }),
        state: inst.state.clone().into(),
        endpoint_host: inst.endpoint.host.clone().into(),
        endpoint_port: inst.endpoint.port.into(),
        created_at: inst.created_at.clone().into(),
        timeouts: carry(&base.timeouts),
    }
}

/// The state to save when a create was accepted but waiting failed: the planned value with
/// every unknown settled (by the API's view when we have one, else null / "CREATING").
pub fn partial_state(
    planned: &InstanceModel,
    name: &str,
    fetched: Option<&Instance>,
) -> InstanceModel {
    if let Some(inst) = fetched {
        return state_from_api(inst, Some(planned));
    }
    let p = planned.clone();
    InstanceModel {
        id: name.into(),
        state: "CREATING".into(),
        name: carry(&p.name),
        engine: carry(&p.engine),
        engine_version: carry(&p.engine_version),
        engine_version_actual: carry(&p.engine_version_actual),
        allow_major_version_upgrade: carry(&p.allow_major_version_upgrade),
        tier: carry(&p.tier),
        storage_gb: carry(&p.storage_gb),
        high_availability: carry(&p.high_availability),
        admin_username: carry(&p.admin_username),
        admin_password: carry(&p.admin_password),
        admin_password_wo: Field::Null,
        admin_password_wo_version: carry(&p.admin_password_wo_version),
        restore_from_backup: carry(&p.restore_from_backup),
        labels: carry(&p.labels).map(|m| m.into_iter().map(|(k, v)| (k, carry(&v))).collect()),
        deletion_protection: carry(&p.deletion_protection),
        skip_final_backup: carry(&p.skip_final_backup),
        final_backup_name: carry(&p.final_backup_name),
        backup: carry(&p.backup).map(|b| BackupModel {
            enabled: carry(&b.enabled),
            start_time: carry(&b.start_time),
            retention_days: carry(&b.retention_days),
        }),
        endpoint_host: carry(&p.endpoint_host),
        endpoint_port: carry(&p.endpoint_port),
        created_at: carry(&p.created_at),
        timeouts: carry(&p.timeouts),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::client::types::{Backup, Endpoint};
    use tfplugin::value::Value;

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
            creation_token: String::new(),
            restored_from_backup: String::new(),
        }
    }

    #[test]
    fn state_keeps_unreadable_fields_and_label_spelling() {
        let base = InstanceModel {
            admin_password: "pw".into(),
            labels: Field::Known(BTreeMap::new()),
            skip_final_backup: true.into(),
            ..Default::default()
        };
        let s = state_from_api(&instance(), Some(&base));
        assert_eq!(s.admin_password.as_str(), Some("pw"));
        assert_eq!(s.labels, Field::Known(BTreeMap::new()));
        assert_eq!(s.skip_final_backup, Field::Known(true));
        assert_eq!(s.endpoint_port, Field::Known(3306));
        // Import: nothing to carry.
        let imported = state_from_api(&instance(), None);
        assert!(imported.labels.is_null());
        assert!(imported.admin_password.is_null());
        assert_eq!(imported.skip_final_backup, Field::Known(false));
        let v = Value::from_model(&imported).expect("writes");
        assert!(v.is_wholly_known());
    }

    #[test]
    fn update_sends_only_changes() {
        let prior = state_from_api(&instance(), None);
        let mut planned = prior.clone();
        planned.tier = "db-standard-2".into();
        planned.engine_version_actual = Field::Unknown;
        assert_eq!(
            update_request(&prior, &planned, &planned),
            UpdateInstanceRequest {
                tier: Some("db-standard-2".into()),
                ..Default::default()
            }
        );

        let mut planned = prior.clone();
        planned.backup = Field::Known(BackupModel {
            enabled: true.into(),
            start_time: "04:00".into(),
            retention_days: 7.into(),
        });
        assert_eq!(
            update_request(&prior, &planned, &planned).backup,
            Some(BackupPatch {
                start_time: Some("04:00".into()),
                ..Default::default()
            })
        );
        assert!(update_request(&prior, &prior, &prior).is_empty());
    }

    #[test]
    fn create_request_omits_unknown_version_and_backup() {
        let planned = InstanceModel {
            name: "db1".into(),
            engine: "postgres".into(),
            engine_version: Field::Unknown,
            tier: "db-small".into(),
            storage_gb: 10.into(),
            backup: Field::Unknown,
            ..Default::default()
        };
        let req = create_request(&planned, &planned);
        assert_eq!(req.engine_version, None);
        assert_eq!(req.backup, None);
        assert_eq!(req.admin_username, "dbadmin");
    }

    #[test]
    fn partial_state_has_no_unknowns() {
        let planned = InstanceModel {
            name: "db1".into(),
            endpoint_host: Field::Unknown,
            backup: Field::Unknown,
            ..Default::default()
        };
        let s = partial_state(&planned, "db1", None);
        assert!(Value::from_model(&s).expect("writes").is_wholly_known());
        assert_eq!(s.id.as_str(), Some("db1"));
    }

    /// Whether a JSON body carries `key` (omitted fields are absent, not null).
    pub(crate) fn has_key(body: &serde_json::Value, key: &str) -> bool {
        body.as_object().is_some_and(|o| o.contains_key(key))
    }

    #[test]
    fn create_without_restore_sends_the_engine() {
        let planned = InstanceModel {
            name: "db1".into(),
            engine: "mysql".into(),
            engine_version: "8.0".into(),
            ..Default::default()
        };
        let req = create_request(&planned, &InstanceModel::default());
        assert_eq!(req.engine.as_deref(), Some("mysql"));
        assert_eq!(req.engine_version.as_deref(), Some("8.0"));
        assert_eq!(req.restore_from_backup, None);
        let json = serde_json::to_value(&req).expect("encodes");
        assert!(!has_key(&json, "restore_from_backup"), "{json}");
    }

    /// A restore sends the backup name and only the engine fields the configuration pins, even
    /// when the plan filled them in from the backup.
    #[test]
    fn restore_sends_the_backup_and_only_configured_engine_fields() {
        let planned = InstanceModel {
            name: "db2".into(),
            engine: "postgres".into(),
            engine_version: "16".into(),
            restore_from_backup: "pg-snap".into(),
            ..Default::default()
        };
        let config = InstanceModel {
            name: "db2".into(),
            restore_from_backup: "pg-snap".into(),
            ..Default::default()
        };
        let req = create_request(&planned, &config);
        let json = serde_json::to_value(&req).expect("encodes");
        assert_eq!(json["restore_from_backup"], "pg-snap");
        assert!(!has_key(&json, "engine"), "{json}");
        assert!(!has_key(&json, "engine_version"), "{json}");
        let pinned = InstanceModel {
            engine: "postgres".into(),
            ..config
        };
        let req = create_request(&planned, &pinned);
        assert_eq!(req.engine.as_deref(), Some("postgres"));
        assert_eq!(req.engine_version, None);
    }

    #[test]
    fn write_only_password_comes_from_the_configuration() {
        let planned = InstanceModel {
            name: "db1".into(),
            ..Default::default()
        };
        let config = InstanceModel {
            admin_password_wo: "wo-secret".into(),
            admin_password_wo_version: 1.into(),
            ..Default::default()
        };
        assert_eq!(
            create_request(&planned, &config).admin_password.as_deref(),
            Some("wo-secret")
        );
        // Update: only a new version sends it again, from the configuration.
        let prior = InstanceModel {
            admin_password_wo_version: 1.into(),
            ..state_from_api(&instance(), None)
        };
        assert!(update_request(&prior, &prior, &config).is_empty());
        let planned = InstanceModel {
            admin_password_wo_version: 2.into(),
            ..prior.clone()
        };
        assert_eq!(
            update_request(&prior, &planned, &config),
            UpdateInstanceRequest {
                admin_password: Some("wo-secret".into()),
                ..Default::default()
            }
        );
        // The state never holds it; the version is carried over.
        let s = state_from_api(&instance(), Some(&config));
        assert!(s.admin_password_wo.is_null());
        assert_eq!(s.admin_password_wo_version, Field::Known(1));
        assert!(
            partial_state(&config, "db1", None)
                .admin_password_wo
                .is_null()
        );
    }

    #[test]
    fn restore_source_is_kept_from_state_and_read_from_the_api_on_import() {
        let restored = Instance {
            restored_from_backup: "pg-snap".into(),
            ..instance()
        };
        assert_eq!(
            state_from_api(&restored, None).restore_from_backup.as_str(),
            Some("pg-snap")
        );
        assert!(
            state_from_api(&instance(), None)
                .restore_from_backup
                .is_null()
        );
        let base = InstanceModel {
            restore_from_backup: "pg-snap".into(),
            ..Default::default()
        };
        assert_eq!(
            state_from_api(&instance(), Some(&base))
                .restore_from_backup
                .as_str(),
            Some("pg-snap")
        );
    }
}
