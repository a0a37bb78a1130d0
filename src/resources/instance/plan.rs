//! Plan-time logic of `clouddb_instance` that the declarative schema cannot express: plan errors
//! (storage shrink, major upgrade without opt-in, downgrade), the `backup` object's defaults, and keeping
//! computed attributes quiet (prior value instead of "(known after apply)") whenever this plan cannot
//! change them.

use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::model::Field;
use tfplugin::value::AttributePath;

use super::convert::DEFAULT_BACKUP_RETENTION_DAYS;
use super::model::{BackupModel, InstanceModel};

/// Numeric components of a dotted version ("8.0.36" → [8, 0, 36]); non-numeric parts count as 0.
pub fn version_parts(v: &str) -> Vec<u64> {
    v.split('.')
        .map(|p| p.trim().parse::<u64>().unwrap_or(0))
        .collect()
}

/// The major version: the first dotted component.
pub fn major_of(v: &str) -> u64 {
    version_parts(v).first().copied().unwrap_or(0)
}

/// Compare two versions component-wise, missing components counting as 0.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let (pa, pb) = (version_parts(a), version_parts(b));
    let n = pa.len().max(pb.len());
    for i in 0..n {
        let (x, y) = (
            pa.get(i).copied().unwrap_or(0),
            pb.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            std::cmp::Ordering::Equal => continue,
            other => return other,
        }
    }
    std::cmp::Ordering::Equal
}

/// True when the plan settles `planned` to something other than `prior`.
fn replaces<T: PartialEq>(prior: &Field<T>, planned: &Field<T>) -> bool {
    planned.is_known() && planned != prior
}

/// Adjust the framework's planned value and add plan-time errors. `prior` is `None` on create.
pub fn adjust_plan(
    prior: Option<&InstanceModel>,
    config: &InstanceModel,
    planned: &mut InstanceModel,
    diags: &mut Diagnostics,
) {
    planned.backup = plan_backup(prior.map(|p| &p.backup), &config.backup);
    let Some(prior) = prior else {
        return;
    };
    // A change to a requires-replace attribute makes this a replace: Terraform plans the create half
    // again with a null prior, so update-only checks don't apply.
    if replaces(&prior.name, &planned.name)
        || replaces(&prior.engine, &planned.engine)
        || replaces(&prior.admin_username, &planned.admin_username)
    {
        return;
    }

    for d in [check_storage(prior, planned), check_version(prior, planned)]
        .into_iter()
        .flatten()
    {
        diags.push(d);
    }

    // Attributes that never change once the instance exists (replacement aside).
    planned.id = prior.id.clone();
    planned.endpoint_host = prior.endpoint_host.clone();
    planned.endpoint_port = prior.endpoint_port.clone();
    planned.created_at = prior.created_at.clone();
    if config.engine_version.is_null() {
        planned.engine_version = prior.engine_version.clone();
    }
    planned.engine_version_actual =
        if planned.engine_version.is_unknown() || planned.engine_version != prior.engine_version {
            Field::Unknown
        } else {
            prior.engine_version_actual.clone()
        };
    // `state` is READY after any update we wait for; only unknown if it wasn't READY before.
    planned.state = prior.state.clone();
    if planned != prior && prior.state.as_str() != Some("READY") {
        planned.state = Field::Unknown;
    }
}

/// `backup`: optional + computed object. Unset → the server's (prior) value; set → each unset field
/// gets its default (enabled = true, retention_days = 7) or, for start_time, the prior/server value.
fn plan_backup(
    prior: Option<&Field<BackupModel>>,
    config: &Field<BackupModel>,
) -> Field<BackupModel> {
    let prior = prior.and_then(Field::known);
    let cfg = match config {
        Field::Unknown => return Field::Unknown,
        Field::Null => return prior.cloned().map_or(Field::Unknown, Field::Known),
        Field::Known(c) => c,
    };
    let from_prior = |f: fn(&BackupModel) -> &Field<_>| -> Field<String> {
        prior.map_or(Field::Unknown, |p| match f(p) {
            Field::Null => Field::Unknown,
            v => v.clone(),
        })
    };
    Field::Known(BackupModel {
        enabled: if cfg.enabled.is_null() {
            true.into()
        } else {
            cfg.enabled.clone()
        },
        start_time: if cfg.start_time.is_null() {
            from_prior(|p| &p.start_time)
        } else {
            cfg.start_time.clone()
        },
        retention_days: if cfg.retention_days.is_null() {
            DEFAULT_BACKUP_RETENTION_DAYS.into()
        } else {
            cfg.retention_days.clone()
        },
    })
}

fn check_storage(prior: &InstanceModel, planned: &InstanceModel) -> Option<Diagnostic> {
    let (old, new) = (*prior.storage_gb.known()?, *planned.storage_gb.known()?);
    (new < old).then(|| {
        Diagnostic::error(
            "storage_gb cannot be decreased",
            format!(
                "storage_gb can only grow in place: the instance has {old} GB and the configuration asks for \
                 {new} GB. Keep storage_gb at {old} or more, or create a new instance and migrate the data."
            ),
        )
        .at(AttributePath::attr("storage_gb"))
    })
}

fn check_version(prior: &InstanceModel, planned: &InstanceModel) -> Option<Diagnostic> {
    let (old, new) = (
        prior.engine_version.as_str()?,
        planned.engine_version.as_str()?,
    );
    if old == new {
        return None;
    }
    let path = AttributePath::attr("engine_version");
    if compare_versions(new, old) == std::cmp::Ordering::Less {
        return Some(
            Diagnostic::error(
                "engine_version cannot be downgraded",
                format!(
                    "The instance runs engine_version {old:?}; {new:?} is older. Downgrades are not supported: \
                     keep {old:?} or create a new instance."
                ),
            )
            .at(path),
        );
    }
    let allow = planned.allow_major_version_upgrade.known() == Some(&true);
    (major_of(new) != major_of(old) && !allow).then(|| {
        Diagnostic::error(
            "Major engine version upgrade not allowed",
            format!(
                "Changing engine_version from {old:?} to {new:?} is a major version upgrade. Set \
                 allow_major_version_upgrade = true to confirm it (minor upgrades within major {} need no \
                 opt-in).",
                major_of(old)
            ),
        )
        .at(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prior() -> InstanceModel {
        InstanceModel {
            id: "db1".into(),
            name: "db1".into(),
            engine: "mysql".into(),
            engine_version: "8.0".into(),
            engine_version_actual: "8.0.36".into(),
            allow_major_version_upgrade: false.into(),
            admin_username: "dbadmin".into(),
            tier: "db-small".into(),
            storage_gb: 20.into(),
            state: "READY".into(),
            endpoint_host: "h".into(),
            endpoint_port: 3306.into(),
            created_at: "t".into(),
            backup: Field::Known(BackupModel {
                enabled: true.into(),
                start_time: "03:00".into(),
                retention_days: 7.into(),
            }),
            ..Default::default()
        }
    }

    /// What the framework hands us for a tier change: computed attributes unknown.
    fn planned_tier_change() -> InstanceModel {
        InstanceModel {
            tier: "db-standard-2".into(),
            id: Field::Unknown,
            engine_version_actual: Field::Unknown,
            state: Field::Unknown,
            endpoint_host: Field::Unknown,
            endpoint_port: Field::Unknown,
            created_at: Field::Unknown,
            ..prior()
        }
    }

    #[test]
    fn tier_change_keeps_computed_attributes_known() {
        let mut planned = planned_tier_change();
        let config = InstanceModel {
            tier: "db-standard-2".into(),
            ..Default::default()
        };
        let mut d = Diagnostics::new();
        adjust_plan(Some(&prior()), &config, &mut planned, &mut d);
        assert!(!d.has_errors());
        let v = tfplugin::value::Value::from_model(&planned).expect("writes");
        assert!(v.is_wholly_known(), "{planned:?}");
        assert_eq!(planned.state.as_str(), Some("READY"));
        assert_eq!(planned.engine_version_actual.as_str(), Some("8.0.36"));
        assert_eq!(planned.backup, prior().backup);
    }

    #[test]
    fn storage_decrease_is_an_error_naming_the_attribute() {
        let mut planned = InstanceModel {
            storage_gb: 10.into(),
            ..prior()
        };
        let mut d = Diagnostics::new();
        adjust_plan(
            Some(&prior()),
            &InstanceModel::default(),
            &mut planned,
            &mut d,
        );
        assert!(d.has_errors());
        assert_eq!(d.0[0].attribute, Some(AttributePath::attr("storage_gb")));
    }

    #[test]
    fn version_rules() {
        let run = |new: &str, allow: bool| {
            let mut planned = InstanceModel {
                engine_version: new.into(),
                allow_major_version_upgrade: allow.into(),
                ..prior()
            };
            let config = InstanceModel {
                engine_version: new.into(),
                ..Default::default()
            };
            let mut d = Diagnostics::new();
            adjust_plan(Some(&prior()), &config, &mut planned, &mut d);
            (d.has_errors(), planned)
        };
        let (err, planned) = run("8.4", false);
        assert!(!err, "minor upgrade in place");
        assert!(planned.engine_version_actual.is_unknown());
        assert!(run("9.0", false).0, "major needs opt-in");
        assert!(!run("9.0", true).0);
        assert!(run("5.7", true).0, "downgrade");
    }

    #[test]
    fn versions_compare_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("8.4", "8.0"), Greater);
        assert_eq!(compare_versions("10", "9.6"), Greater);
        assert_eq!(compare_versions("16", "16.0"), Equal);
        assert_eq!(major_of("5.7"), 5);
    }

    #[test]
    fn backup_defaults_on_create() {
        let config = InstanceModel {
            backup: Field::Known(BackupModel {
                start_time: "02:00".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut planned = InstanceModel {
            backup: Field::Unknown,
            ..Default::default()
        };
        let mut d = Diagnostics::new();
        adjust_plan(None, &config, &mut planned, &mut d);
        let b = planned.backup.known().expect("known");
        assert_eq!(b.enabled, Field::Known(true));
        assert_eq!(b.retention_days, Field::Known(7));
        assert_eq!(b.start_time.as_str(), Some("02:00"));

        let mut planned = InstanceModel::default();
        adjust_plan(None, &InstanceModel::default(), &mut planned, &mut d);
        assert!(planned.backup.is_unknown());
    }
}
