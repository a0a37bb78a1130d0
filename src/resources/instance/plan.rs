//! Plan-time logic of `clouddb_instance` that the declarative schema cannot express: plan errors
//! (storage shrink, major upgrade without opt-in, downgrade), the `backup` object's defaults, and keeping
//! computed attributes quiet (prior value instead of "(known after apply)") whenever this plan cannot
//! change them.

use tfplugin::diag::Diagnostics;
use tfplugin::value::{AttributePath, Value};

use super::convert::DEFAULT_BACKUP_RETENTION_DAYS;

/// Attributes that never change once the instance exists (replacement aside).
const STABLE_COMPUTED: &[&str] = &["id", "endpoint_host", "endpoint_port", "created_at"];

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

fn differs(prior: &Value, planned: &Value, attr: &str) -> bool {
    let p = planned.get(attr);
    p.is_unknown() || p != prior.get(attr)
}

/// Adjust the framework's planned value and add plan-time errors. `prior` is Null on create.
pub fn adjust_plan(prior: &Value, config: &Value, planned: &mut Value, diags: &mut Diagnostics) {
    if planned.is_null() {
        return; // destroy
    }
    plan_backup(prior, config, planned);
    if prior.is_null() {
        return;
    }
    // A change to a requires-replace attribute makes this a replace: Terraform plans the create half
    // again with a null prior, so update-only checks don't apply.
    if ["name", "engine", "admin_username"].iter().any(|a| {
        let p = planned.get(a);
        p.is_known() && p != prior.get(a)
    }) {
        return;
    }

    check_storage(prior, planned, diags);
    check_version(prior, planned, diags);

    for attr in STABLE_COMPUTED {
        planned.set_attr(*attr, prior.get(attr).clone());
    }
    if config.get("engine_version").is_null() {
        planned.set_attr("engine_version", prior.get("engine_version").clone());
    }
    if differs(prior, planned, "engine_version") {
        planned.set_attr("engine_version_actual", Value::unknown());
    } else {
        planned.set_attr(
            "engine_version_actual",
            prior.get("engine_version_actual").clone(),
        );
    }
    // `state` is READY after any update we wait for; only unknown if it wasn't READY before.
    planned.set_attr("state", prior.get("state").clone());
    if planned != prior && prior.get("state").as_str() != Some("READY") {
        planned.set_attr("state", Value::unknown());
    }
}

/// `backup`: optional + computed object. Unset → the server's (prior) value; set → each unset field
/// gets its default (enabled = true, retention_days = 7) or, for start_time, the prior/server value.
fn plan_backup(prior: &Value, config: &Value, planned: &mut Value) {
    let cfg = config.get("backup");
    let prior_b = prior.get("backup");
    if cfg.is_unknown() {
        planned.set_attr("backup", Value::unknown());
        return;
    }
    if cfg.is_null() {
        let v = if prior_b.is_null() {
            Value::unknown()
        } else {
            prior_b.clone()
        };
        planned.set_attr("backup", v);
        return;
    }
    let field = |name: &str, default: Option<Value>| {
        let c = cfg.get(name);
        if !c.is_null() {
            return c.clone();
        }
        if let Some(d) = default {
            return d;
        }
        let p = prior_b.get(name);
        if p.is_null() {
            Value::unknown()
        } else {
            p.clone()
        }
    };
    planned.set_attr(
        "backup",
        Value::object([
            ("enabled", field("enabled", Some(Value::Bool(true)))),
            ("start_time", field("start_time", None)),
            (
                "retention_days",
                field(
                    "retention_days",
                    Some(Value::int(DEFAULT_BACKUP_RETENTION_DAYS)),
                ),
            ),
        ]),
    );
}

fn check_storage(prior: &Value, planned: &Value, diags: &mut Diagnostics) {
    if let (Some(old), Some(new)) = (
        prior.get("storage_gb").as_i64(),
        planned.get("storage_gb").as_i64(),
    ) && new < old
    {
        diags.attribute_error(
            AttributePath::attr("storage_gb"),
            "storage_gb cannot be decreased",
            format!(
                "storage_gb can only grow in place: the instance has {old} GB and the configuration asks for \
                 {new} GB. Keep storage_gb at {old} or more, or create a new instance and migrate the data."
            ),
        );
    }
}

fn check_version(prior: &Value, planned: &Value, diags: &mut Diagnostics) {
    let (Some(old), Some(new)) = (
        prior.get("engine_version").as_str(),
        planned.get("engine_version").as_str(),
    ) else {
        return;
    };
    if old == new {
        return;
    }
    let path = AttributePath::attr("engine_version");
    if compare_versions(new, old) == std::cmp::Ordering::Less {
        diags.attribute_error(
            path,
            "engine_version cannot be downgraded",
            format!(
                "The instance runs engine_version {old:?}; {new:?} is older. Downgrades are not supported: \
                 keep {old:?} or create a new instance."
            ),
        );
        return;
    }
    let allow = planned.get("allow_major_version_upgrade").as_bool() == Some(true);
    if major_of(new) != major_of(old) && !allow {
        diags.attribute_error(
            path,
            "Major engine version upgrade not allowed",
            format!(
                "Changing engine_version from {old:?} to {new:?} is a major version upgrade. Set \
                 allow_major_version_upgrade = true to confirm it (minor upgrades within major {} need no \
                 opt-in).",
                major_of(old)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prior() -> Value {
        Value::object([
            ("id", Value::string("db1")),
            ("name", Value::string("db1")),
            ("engine", Value::string("mysql")),
            ("engine_version", Value::string("8.0")),
            ("engine_version_actual", Value::string("8.0.36")),
            ("allow_major_version_upgrade", Value::Bool(false)),
            ("admin_username", Value::string("dbadmin")),
            ("tier", Value::string("db-small")),
            ("storage_gb", Value::int(20)),
            ("state", Value::string("READY")),
            ("endpoint_host", Value::string("h")),
            ("endpoint_port", Value::int(3306)),
            ("created_at", Value::string("t")),
            (
                "backup",
                Value::object([
                    ("enabled", Value::Bool(true)),
                    ("start_time", Value::string("03:00")),
                    ("retention_days", Value::int(7)),
                ]),
            ),
        ])
    }

    /// What the framework hands us for a tier change: computed attributes unknown.
    fn planned_tier_change() -> Value {
        let mut p = prior();
        p.set_attr("tier", Value::string("db-standard-2"));
        for a in [
            "id",
            "engine_version_actual",
            "state",
            "endpoint_host",
            "endpoint_port",
            "created_at",
        ] {
            p.set_attr(a, Value::unknown());
        }
        p
    }

    #[test]
    fn tier_change_keeps_computed_attributes_known() {
        let mut planned = planned_tier_change();
        let config = Value::object([("tier", Value::string("db-standard-2"))]);
        let mut d = Diagnostics::new();
        adjust_plan(&prior(), &config, &mut planned, &mut d);
        assert!(!d.has_errors());
        assert!(planned.is_wholly_known(), "{planned:?}");
        assert_eq!(planned.get("state").as_str(), Some("READY"));
        assert_eq!(
            planned.get("engine_version_actual").as_str(),
            Some("8.0.36")
        );
        assert_eq!(planned.get("backup"), prior().get("backup"));
    }

    #[test]
    fn storage_decrease_is_an_error_naming_the_attribute() {
        let mut planned = prior();
        planned.set_attr("storage_gb", Value::int(10));
        let mut d = Diagnostics::new();
        adjust_plan(&prior(), &Value::Null, &mut planned, &mut d);
        assert!(d.has_errors());
        let text = format!("{:?}", d);
        assert!(text.contains("storage_gb"), "{text}");
    }

    #[test]
    fn version_rules() {
        let run = |new: &str, allow: bool| {
            let mut planned = prior();
            planned.set_attr("engine_version", Value::string(new));
            planned.set_attr("allow_major_version_upgrade", Value::Bool(allow));
            let config = Value::object([("engine_version", Value::string(new))]);
            let mut d = Diagnostics::new();
            adjust_plan(&prior(), &config, &mut planned, &mut d);
            (d.has_errors(), planned)
        };
        let (err, planned) = run("8.4", false);
        assert!(!err, "minor upgrade in place");
        assert!(planned.get("engine_version_actual").is_unknown());
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
        let config = Value::object([(
            "backup",
            Value::object([
                ("enabled", Value::Null),
                ("start_time", Value::string("02:00")),
                ("retention_days", Value::Null),
            ]),
        )]);
        let mut planned = Value::object([("backup", Value::unknown())]);
        let mut d = Diagnostics::new();
        adjust_plan(&Value::Null, &config, &mut planned, &mut d);
        assert_eq!(planned.get("backup").get("enabled").as_bool(), Some(true));
        assert_eq!(
            planned.get("backup").get("retention_days").as_i64(),
            Some(7)
        );
        assert_eq!(
            planned.get("backup").get("start_time").as_str(),
            Some("02:00")
        );

        let mut planned = Value::object([("backup", Value::Null)]);
        adjust_plan(
            &Value::Null,
            &Value::object([("backup", Value::Null)]),
            &mut planned,
            &mut d,
        );
        assert!(planned.get("backup").is_unknown());
    }
}
