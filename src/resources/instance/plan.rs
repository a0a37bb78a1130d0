//! Plan-time logic of `clouddb_instance` that the declarative schema cannot express: plan errors
//! (storage shrink, major upgrade without opt-in, downgrade), the `backup` object's defaults, the
//! engine of a restore (the backup's), and keeping computed attributes quiet (prior value instead
//! of "(known after apply)") whenever this plan cannot change them. Also the configuration rules
//! between attributes ([`check_config`]: the two password forms).

use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::model::Field;
use tfplugin::value::AttributePath;

use super::convert::{DEFAULT_BACKUP_RETENTION_DAYS, DEFAULT_ENGINE};
use super::model::{BackupModel, InstanceModel};
use crate::client::catalog::Tier;
use crate::client::types::SourceBackup;

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

/// Whether this plan sets a tier/storage pair the API has not accepted yet (a create, or a
/// change of either), both known: only then is the catalogue worth consulting.
pub fn storage_to_check(prior: Option<&InstanceModel>, planned: &InstanceModel) -> bool {
    planned.tier.is_known()
        && planned.storage_gb.is_known()
        && prior.is_none_or(|p| p.tier != planned.tier || p.storage_gb != planned.storage_gb)
}

/// `storage_gb` over the planned tier's maximum, as one plan error on `storage_gb` (the API
/// would refuse the create or update with the same rule). A tier the catalogue does not list
/// is left to the API, which names the valid ones.
pub fn check_tier_storage(planned: &InstanceModel, tiers: &[Tier], diags: &mut Diagnostics) {
    let (Some(name), Some(&gb)) = (planned.tier.as_str(), planned.storage_gb.known()) else {
        return;
    };
    let Some(tier) = tiers.iter().find(|t| t.name == name) else {
        return;
    };
    if gb > tier.max_storage_gb {
        let larger: Vec<&str> = tiers
            .iter()
            .filter(|t| t.max_storage_gb >= gb)
            .map(|t| t.name.as_str())
            .collect();
        let choose = if larger.is_empty() {
            String::new()
        } else {
            format!(
                ", or choose a tier that allows {gb} GB: {}",
                larger.join(", ")
            )
        };
        diags.push(
            Diagnostic::error(
                "storage_gb is over the tier's maximum",
                format!(
                    "storage_gb = {gb}, but tier {name:?} allows at most {} GB. Set storage_gb to {} or less{choose}.",
                    tier.max_storage_gb, tier.max_storage_gb
                ),
            )
            .at(AttributePath::attr("storage_gb")),
        );
    }
}

/// True when the plan settles `planned` to something other than `prior`.
fn replaces<T: PartialEq>(prior: &Field<T>, planned: &Field<T>) -> bool {
    planned.is_known() && planned != prior
}

/// Configuration rules between attributes, checked at validate time (values may be unknown:
/// an unknown value is set, it just isn't known yet).
pub fn check_config(config: &InstanceModel, diags: &mut Diagnostics) {
    if !config.admin_password.is_null() && !config.admin_password_wo.is_null() {
        diags.push(
            Diagnostic::error(
                "Conflicting admin password attributes",
                "admin_password and admin_password_wo cannot both be set: admin_password is stored in \
                 state (marked sensitive), admin_password_wo never is. Keep one of them.",
            )
            .at(AttributePath::attr("admin_password_wo")),
        );
    }
    if !config.admin_password_wo_version.is_null() && config.admin_password_wo.is_null() {
        diags.push(
            Diagnostic::error(
                "admin_password_wo_version without admin_password_wo",
                "admin_password_wo_version only tells the provider when to send admin_password_wo \
                 again; set admin_password_wo too, or remove admin_password_wo_version.",
            )
            .at(AttributePath::attr("admin_password_wo_version")),
        );
    }
}

/// Whether this plan (re)creates the instance from `planned.restore_from_backup`: a create, or an
/// update whose backup differs from the prior one's (a replace). Then the backup is worth looking up.
pub fn restores(prior: Option<&InstanceModel>, planned: &InstanceModel) -> bool {
    !planned.restore_from_backup.is_null()
        && prior.is_none_or(|p| p.restore_from_backup != planned.restore_from_backup)
}

/// Whether the planned engine replaces the instance (an unknown engine might). The framework's own
/// `RequiresReplace` saw the engine before [`adjust_plan`] settled it, so the caller recomputes it.
pub fn engine_replaces(prior: &InstanceModel, planned: &InstanceModel) -> bool {
    !planned.engine.is_known() || planned.engine != prior.engine
}

/// `engine` and `engine_version` when the configuration leaves them unset. Without
/// `restore_from_backup` the engine is the default (`mysql`), exactly like a schema default. With
/// it, an existing instance keeps what it has (it was made from that backup); a new one gets the
/// backup's engine and version when `backup` (looked up at plan time) is known, otherwise they are
/// known after apply. A configured engine that is not the backup's is an error here, naming both.
fn plan_engine(
    prior: Option<&InstanceModel>,
    config: &InstanceModel,
    planned: &mut InstanceModel,
    backup: Option<&SourceBackup>,
    diags: &mut Diagnostics,
) {
    if config.restore_from_backup.is_null() {
        if config.engine.is_null() {
            planned.engine = DEFAULT_ENGINE.into();
        }
        return;
    }
    if !restores(prior, planned) {
        // Same instance, same backup: nothing about the backup can change what it runs.
        if let Some(prior) = prior
            && config.engine.is_null()
        {
            planned.engine = match &prior.engine {
                Field::Known(e) => e.clone().into(),
                _ => Field::Unknown,
            };
        }
        return;
    }
    let backup = backup.filter(|b| !b.engine.is_empty());
    if config.engine.is_null() {
        planned.engine = backup.map_or(Field::Unknown, |b| b.engine.clone().into());
    }
    if config.engine_version.is_null() {
        planned.engine_version = backup
            .filter(|b| !b.engine_version.is_empty())
            .map_or(Field::Unknown, |b| b.engine_version.clone().into());
    }
    if let Some(b) = backup {
        check_restore(b, config, planned, diags);
    }
}

/// What the API would reject about restoring `b` as planned, as plan errors naming the attribute
/// (and the backup): another engine, another major version, less storage than the source had, an
/// admin user named like one of the backup's users.
fn check_restore(
    b: &SourceBackup,
    config: &InstanceModel,
    planned: &InstanceModel,
    diags: &mut Diagnostics,
) {
    let name = &b.name;
    if let Some(engine) = config.engine.as_str()
        && engine != b.engine
    {
        diags.push(
            Diagnostic::error(
                "engine does not match the backup",
                format!(
                    "restore_from_backup = {name:?} is a backup of a {} instance, but engine = {engine:?}. An \
                     instance is restored with the backup's engine: remove engine (it then defaults to \
                     the backup's) or set it to {:?}.",
                    b.engine, b.engine
                ),
            )
            .at(AttributePath::attr("engine")),
        );
        // The version is only comparable within the backup's engine.
        return;
    }
    if let Some(version) = config.engine_version.as_str()
        && !b.engine_version.is_empty()
        && major_of(version) != major_of(&b.engine_version)
    {
        diags.push(
            Diagnostic::error(
                "engine_version does not match the backup",
                format!(
                    "restore_from_backup = {name:?} holds {} {}, but engine_version = {version:?}. A restore \
                     keeps the major version: remove engine_version (it then defaults to {:?}) or choose \
                     another {}.x version.",
                    b.engine, b.engine_version, b.engine_version, major_of(&b.engine_version)
                ),
            )
            .at(AttributePath::attr("engine_version")),
        );
    }
    if let Some(&gb) = planned.storage_gb.known()
        && gb < b.source_storage_gb
    {
        let unset = if config.storage_gb.is_null() {
            " (the default when storage_gb is unset)"
        } else {
            ""
        };
        diags.push(
            Diagnostic::error(
                "storage_gb is smaller than the backup's source",
                format!(
                    "restore_from_backup = {name:?} was taken of an instance with {} GB; the restored \
                     instance needs at least that much, but storage_gb is {gb}{unset}. Set storage_gb = {} \
                     or more.",
                    b.source_storage_gb, b.source_storage_gb
                ),
            )
            .at(AttributePath::attr("storage_gb")),
        );
    }
    if let Some(admin) = planned.admin_username.as_str()
        && b.user_names.iter().any(|u| u == admin)
    {
        diags.push(
            Diagnostic::error(
                "admin_username is a user of the backup",
                format!(
                    "restore_from_backup = {name:?} restores a database user named {admin:?}, so the \
                     administrator cannot have that name. Choose another admin_username."
                ),
            )
            .at(AttributePath::attr("admin_username")),
        );
    }
}

/// Adjust the framework's planned value and add plan-time errors. `prior` is `None` on create.
/// `backup` is the `restore_from_backup` backup when it was looked up (only when [`restores`]).
pub fn adjust_plan(
    prior: Option<&InstanceModel>,
    config: &InstanceModel,
    planned: &mut InstanceModel,
    backup: Option<&SourceBackup>,
    diags: &mut Diagnostics,
) {
    planned.backup = plan_backup(prior.map(|p| &p.backup), &config.backup);
    plan_engine(prior, config, planned, backup, diags);
    let Some(prior) = prior else {
        return;
    };
    // A change to a requires-replace attribute makes this a replace: Terraform plans the create half
    // again with a null prior, so update-only checks don't apply.
    if replaces(&prior.name, &planned.name)
        || engine_replaces(prior, planned)
        || replaces(&prior.admin_username, &planned.admin_username)
        || planned.restore_from_backup != prior.restore_from_backup
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
        adjust_plan(Some(&prior()), &config, &mut planned, None, &mut d);
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
            None,
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
            adjust_plan(Some(&prior()), &config, &mut planned, None, &mut d);
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
        adjust_plan(None, &config, &mut planned, None, &mut d);
        let b = planned.backup.known().expect("known");
        assert_eq!(b.enabled, Field::Known(true));
        assert_eq!(b.retention_days, Field::Known(7));
        assert_eq!(b.start_time.as_str(), Some("02:00"));

        let mut planned = InstanceModel::default();
        adjust_plan(None, &InstanceModel::default(), &mut planned, None, &mut d);
        assert!(planned.backup.is_unknown());
    }

    fn backup_pg() -> SourceBackup {
        SourceBackup {
            name: "pg-snap".into(),
            instance: "src".into(),
            engine: "postgres".into(),
            engine_version: "16".into(),
            state: "READY".into(),
            source_storage_gb: 50,
            user_names: vec!["reader".into()],
        }
    }

    /// What the framework plans for a create: computed attributes the config leaves null are
    /// unknown (`engine` has no schema default).
    fn planned_create(config: &InstanceModel) -> InstanceModel {
        let or_unknown = |f: &Field<String>| match f {
            Field::Null => Field::Unknown,
            v => v.clone(),
        };
        InstanceModel {
            name: "db2".into(),
            engine: or_unknown(&config.engine),
            engine_version: or_unknown(&config.engine_version),
            engine_version_actual: Field::Unknown,
            restore_from_backup: config.restore_from_backup.clone(),
            storage_gb: match config.storage_gb {
                Field::Null => super::super::DEFAULT_STORAGE_GB.into(),
                ref v => v.clone(),
            },
            admin_username: match &config.admin_username {
                Field::Null => "dbadmin".into(),
                v => v.clone(),
            },
            id: Field::Unknown,
            state: Field::Unknown,
            ..Default::default()
        }
    }

    fn plan_create(
        config: &InstanceModel,
        backup: Option<&SourceBackup>,
    ) -> (InstanceModel, Diagnostics) {
        let mut planned = planned_create(config);
        let mut d = Diagnostics::new();
        adjust_plan(None, config, &mut planned, backup, &mut d);
        (planned, d)
    }

    /// A restore of `pg-snap` (50 GB source) with enough storage.
    fn restore_config(engine: Field<String>) -> InstanceModel {
        InstanceModel {
            name: "db2".into(),
            restore_from_backup: "pg-snap".into(),
            engine,
            storage_gb: 50.into(),
            ..Default::default()
        }
    }

    #[test]
    fn without_restore_the_engine_defaults_to_mysql() {
        let (planned, d) = plan_create(&InstanceModel::default(), None);
        assert!(d.is_empty());
        assert_eq!(planned.engine.as_str(), Some("mysql"));
        assert!(planned.engine_version.is_unknown(), "the server's default");
        // A configured engine stands.
        let config = InstanceModel {
            engine: "postgres".into(),
            ..Default::default()
        };
        assert_eq!(
            plan_create(&config, None).0.engine.as_str(),
            Some("postgres")
        );
        // An update without restore: unset engine plans the default, so dropping
        // `engine = "postgres"` from the configuration still replaces (as with a schema default).
        let prior = InstanceModel {
            engine: "postgres".into(),
            ..prior()
        };
        let mut planned = InstanceModel {
            engine: Field::Unknown,
            ..prior.clone()
        };
        let mut d = Diagnostics::new();
        adjust_plan(
            Some(&prior),
            &InstanceModel::default(),
            &mut planned,
            None,
            &mut d,
        );
        assert_eq!(planned.engine.as_str(), Some("mysql"));
        assert!(engine_replaces(&prior, &planned));
    }

    #[test]
    fn restore_plans_the_backups_engine_and_version() {
        let (planned, d) = plan_create(&restore_config(Field::Null), Some(&backup_pg()));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(planned.engine.as_str(), Some("postgres"));
        assert_eq!(planned.engine_version.as_str(), Some("16"));
        assert!(planned.engine_version_actual.is_unknown());
    }

    #[test]
    fn restore_from_an_unknown_backup_leaves_engine_known_after_apply() {
        // Not found, not looked up (provider unconfigured) or a failed lookup: all `None`.
        let (planned, d) = plan_create(&restore_config(Field::Null), None);
        assert!(d.is_empty());
        assert!(planned.engine.is_unknown());
        assert!(planned.engine_version.is_unknown());
        // A backup name known only after apply: the same, and never "mysql".
        let config = InstanceModel {
            restore_from_backup: Field::Unknown,
            ..Default::default()
        };
        let (planned, _) = plan_create(&config, None);
        assert!(planned.engine.is_unknown());
        // A configured engine is planned as configured, with nothing to compare it with.
        let (planned, d) = plan_create(&restore_config("mysql".into()), None);
        assert!(!d.has_errors());
        assert_eq!(planned.engine.as_str(), Some("mysql"));
    }

    #[test]
    fn restore_with_another_engine_is_an_error_naming_engine_and_the_backup() {
        let (_, d) = plan_create(&restore_config("mysql".into()), Some(&backup_pg()));
        assert!(d.has_errors());
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].attribute, Some(AttributePath::attr("engine")));
        let text = format!("{} {}", d.0[0].summary, d.0[0].detail);
        assert!(
            text.contains("pg-snap") && text.contains("postgres"),
            "{text}"
        );
        // The matching engine is fine, and a configured version is kept as configured.
        let config = InstanceModel {
            engine_version: "16".into(),
            ..restore_config("postgres".into())
        };
        let (planned, d) = plan_create(&config, Some(&backup_pg()));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(planned.engine_version.as_str(), Some("16"));
    }

    fn errors_at(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .filter(|x| x.is_error())
            .map(|x| {
                let at = x
                    .attribute
                    .as_ref()
                    .map(|p| format!("{p:?}"))
                    .unwrap_or_default();
                format!("{at}: {} {}", x.summary, x.detail)
            })
            .collect()
    }

    /// The API's other restore rules, at plan time: the major version, the source's storage
    /// (also when the default is what is too small) and the backup's user names.
    #[test]
    fn restore_rules_name_the_attribute_and_the_backup() {
        let run = |config: InstanceModel| errors_at(&plan_create(&config, Some(&backup_pg())).1);
        let other_major = InstanceModel {
            engine_version: "15".into(),
            ..restore_config(Field::Null)
        };
        let e = run(other_major);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("engine_version") && e[0].contains("pg-snap"),
            "{e:?}"
        );
        let same_major = InstanceModel {
            engine_version: "16.2".into(),
            ..restore_config(Field::Null)
        };
        assert!(run(same_major).is_empty());

        let default_storage = InstanceModel {
            storage_gb: Field::Null,
            ..restore_config(Field::Null)
        };
        let e = run(default_storage);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("storage_gb") && e[0].contains("50 GB"),
            "{e:?}"
        );
        assert!(e[0].contains("default"), "{e:?}");

        let taken = InstanceModel {
            admin_username: "reader".into(),
            ..restore_config(Field::Null)
        };
        let e = run(taken);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("admin_username") && e[0].contains("reader"),
            "{e:?}"
        );

        // Another engine: that one error only (the version is not comparable across engines).
        let e = run(InstanceModel {
            engine_version: "8.0".into(),
            ..restore_config("mysql".into())
        });
        assert_eq!(e.len(), 1, "{e:?}");
    }

    /// After the restore, the next plan keeps what the instance has (no lookup, no default), so the
    /// second plan is empty and a tier change stays an in-place update.
    #[test]
    fn restored_instance_plans_quietly() {
        let prior = InstanceModel {
            engine: "postgres".into(),
            engine_version: "16".into(),
            engine_version_actual: "16.4".into(),
            restore_from_backup: "pg-snap".into(),
            ..prior()
        };
        assert!(!restores(Some(&prior), &prior));
        let config = InstanceModel {
            tier: "db-standard-2".into(),
            ..restore_config(Field::Null)
        };
        let mut planned = InstanceModel {
            engine: Field::Unknown,
            engine_version: Field::Unknown,
            ..planned_tier_change()
        };
        planned.restore_from_backup = "pg-snap".into();
        let mut d = Diagnostics::new();
        adjust_plan(Some(&prior), &config, &mut planned, None, &mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(planned.engine.as_str(), Some("postgres"));
        assert_eq!(planned.engine_version.as_str(), Some("16"));
        assert!(!engine_replaces(&prior, &planned));
        let v = tfplugin::value::Value::from_model(&planned).expect("writes");
        assert!(v.is_wholly_known(), "{planned:?}");

        // Another backup: a replace, planned as a fresh restore.
        let other = InstanceModel {
            restore_from_backup: "other".into(),
            ..prior.clone()
        };
        assert!(restores(Some(&prior), &other));
        assert!(restores(None, &prior));
        assert!(!restores(None, &InstanceModel::default()));
    }

    fn config_errors(config: InstanceModel) -> Vec<(Option<AttributePath>, String)> {
        let mut d = Diagnostics::new();
        check_config(&config, &mut d);
        d.0.iter()
            .map(|x| (x.attribute.clone(), format!("{} {}", x.summary, x.detail)))
            .collect()
    }

    #[test]
    fn password_forms_conflict_naming_both() {
        let both = config_errors(InstanceModel {
            admin_password: "a".into(),
            admin_password_wo: "b".into(),
            ..Default::default()
        });
        assert_eq!(both.len(), 1, "{both:?}");
        assert_eq!(both[0].0, Some(AttributePath::attr("admin_password_wo")));
        assert!(
            both[0].1.contains("admin_password and admin_password_wo"),
            "{both:?}"
        );
        // Unknown (e.g. from an ephemeral resource) is set all the same.
        let unknown = config_errors(InstanceModel {
            admin_password: Field::Unknown,
            admin_password_wo: "b".into(),
            ..Default::default()
        });
        assert_eq!(unknown.len(), 1);
        for ok in [
            InstanceModel {
                admin_password: "a".into(),
                ..Default::default()
            },
            InstanceModel {
                admin_password_wo: Field::Unknown,
                admin_password_wo_version: 1.into(),
                ..Default::default()
            },
            InstanceModel::default(),
        ] {
            assert!(config_errors(ok).is_empty());
        }
        let version_only = config_errors(InstanceModel {
            admin_password_wo_version: 2.into(),
            ..Default::default()
        });
        assert_eq!(
            version_only[0].0,
            Some(AttributePath::attr("admin_password_wo_version"))
        );
    }

    /// Over the tier's maximum: one error on storage_gb naming the limit and the tiers that
    /// fit; within it, an unknown tier or the same pair as the prior state: nothing to check.
    #[test]
    fn storage_over_the_tier_maximum_is_one_error_on_storage_gb() {
        let tiers = [("db-micro", 100), ("db-small", 500)].map(|(n, max)| Tier {
            name: n.into(),
            max_storage_gb: max,
            ..Tier::default()
        });
        let planned = |tier: &str, gb: i64| InstanceModel {
            tier: tier.into(),
            storage_gb: gb.into(),
            ..InstanceModel::default()
        };
        let mut d = Diagnostics::new();
        check_tier_storage(&planned("db-micro", 300), &tiers, &mut d);
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].attribute, Some(AttributePath::attr("storage_gb")));
        assert_eq!(
            d.0[0].detail,
            "storage_gb = 300, but tier \"db-micro\" allows at most 100 GB. Set storage_gb to 100 or \
             less, or choose a tier that allows 300 GB: db-small."
        );
        let mut d = Diagnostics::new();
        check_tier_storage(&planned("db-micro", 100), &tiers, &mut d);
        check_tier_storage(&planned("db-unheard-of", 9000), &tiers, &mut d);
        assert!(d.0.is_empty(), "{d:?}");
        let prior = planned("db-micro", 100);
        assert!(!storage_to_check(Some(&prior), &planned("db-micro", 100)));
        assert!(storage_to_check(Some(&prior), &planned("db-micro", 200)));
        assert!(storage_to_check(None, &planned("db-micro", 100)));
        let unknown = InstanceModel {
            storage_gb: Field::Unknown,
            ..planned("db-micro", 1)
        };
        assert!(!storage_to_check(None, &unknown));
    }
}
