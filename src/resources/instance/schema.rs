//! The `clouddb_instance` schema: attributes, validators, defaults and plan modifiers.

use tfplugin::diag::Diagnostics;
use tfplugin::schema::timeouts;
use tfplugin::schema::validators::{int_between, one_of};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{AttributePath, Type, Value};

use super::convert::{DEFAULT_ADMIN_USERNAME, DEFAULT_ENGINE};
use super::{DEFAULT_STORAGE_GB, DEFAULT_TIER, ENGINES, SCHEMA_VERSION, TIERS};

/// The API's rule for instance names: `^[a-z][a-z0-9-]{1,61}[a-z0-9]$`.
pub fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=63).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.ends_with('-')
}

/// The API's label rules, checked at plan time so a bad label names itself before anything is sent.
fn check_labels(p: &AttributePath, v: &Value, d: &mut Diagnostics) {
    let Some(labels) = v.as_map() else {
        return;
    };
    if labels.len() > MAX_LABELS {
        d.attribute_error(
            p.clone(),
            "Too many labels",
            format!(
                "An instance has at most {MAX_LABELS} labels; the configuration sets {}.",
                labels.len()
            ),
        );
    }
    for (k, val) in labels {
        let at = p.with_key(k);
        if !valid_label_key(k) {
            d.attribute_error(
                at.clone(),
                "Invalid label key",
                format!(
                    "Label key {:?} must be 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter.",
                    shorten(k)
                ),
            );
        }
        if let Some(s) = val.as_str()
            && !valid_label_value(s)
        {
            d.attribute_error(
                at,
                "Invalid label value",
                format!(
                    "Label value {:?} must be at most 63 letters, digits, '_', '.' or '-'.",
                    shorten(s)
                ),
            );
        }
    }
}

/// At most this many labels per instance (the API's limit).
pub const MAX_LABELS: usize = 64;

fn valid_label_key(k: &str) -> bool {
    let b = k.as_bytes();
    (1..=63).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

fn valid_label_value(v: &str) -> bool {
    v.len() <= 63
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
}

/// A long user value, cut for a diagnostic (the whole value is in the user's configuration).
fn shorten(s: &str) -> String {
    if s.chars().count() <= 80 {
        return s.to_string();
    }
    let head: String = s.chars().take(80).collect();
    format!("{head}… ({} characters)", s.chars().count())
}

pub fn valid_hhmm(s: &str) -> bool {
    let Some((h, m)) = s.split_once(':') else {
        return false;
    };
    h.len() == 2
        && m.len() == 2
        && h.parse::<u8>().is_ok_and(|h| h < 24)
        && m.parse::<u8>().is_ok_and(|m| m < 60)
}

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new()
        .version(SCHEMA_VERSION)
        .description("A CloudDB managed database instance (MySQL or PostgreSQL).")
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The instance name (stable identifier)."),
        )
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                .validate_with("3-63 of a-z, 0-9 and '-', starting with a letter, not ending with '-'", |p, v, d| {
                    if let Some(s) = v.as_str()
                        && !valid_name(s)
                    {
                        d.attribute_error(
                            p.clone(),
                            "Invalid instance name",
                            format!(
                                "{:?} is not a valid instance name: use 3 to 63 lowercase letters, digits \
                                 and hyphens, starting with a letter and not ending with a hyphen.",
                                shorten(s)
                            ),
                        );
                    }
                })
                .description("Instance name, unique in the project. Changing it replaces the instance."),
        )
        .attribute(
            // No schema default: with `restore_from_backup` the engine is the backup's, so the
            // default (`mysql`) is applied by the plan rules (plan.rs) only when not restoring.
            Attribute::string("engine")
                .optional()
                .computed()
                .validator(one_of(ENGINES))
                .requires_replace()
                .description(format!(
                    "`{DEFAULT_ENGINE}` (default) or `postgres`; with `restore_from_backup`, the backup's engine \
                     when unset (a different one is an error). Changing it replaces the instance."
                )),
        )
        .attribute(
            Attribute::string("engine_version")
                .optional()
                .computed()
                .description(
                    "Engine version such as `8.0` or `16`; the server default when unset (with \
                     `restore_from_backup`, the backup's version; another major version is an error). Minor \
                     upgrades happen in place; a major upgrade needs `allow_major_version_upgrade = true`; \
                     downgrades are rejected at plan time.",
                ),
        )
        .attribute(
            Attribute::string("engine_version_actual")
                .computed()
                .description("The full version the instance runs, e.g. `8.0.36`."),
        )
        .attribute(
            Attribute::bool("allow_major_version_upgrade")
                .optional()
                .computed()
                .default(false)
                .description("Must be `true` to change `engine_version` to a new major version."),
        )
        .attribute(
            Attribute::string("tier")
                .optional()
                .computed()
                .default(DEFAULT_TIER)
                .validator(one_of(TIERS))
                .description(
                    "Machine tier: `db-micro`, `db-small` (default), `db-standard-2`, `db-standard-4` or \
                     `db-highmem-8`; changed in place.",
                ),
        )
        .attribute(
            Attribute::int64("storage_gb")
                .optional()
                .computed()
                .default(DEFAULT_STORAGE_GB)
                .validator(int_between(10, 65536))
                .description("Storage in GB (default 20); may grow in place, never shrink."),
        )
        .attribute(
            Attribute::bool("high_availability")
                .optional()
                .computed()
                .default(false)
                .description("Run a standby replica; changed in place."),
        )
        .attribute(
            Attribute::string("admin_username")
                .optional()
                .computed()
                .default(DEFAULT_ADMIN_USERNAME)
                .requires_replace()
                .description("Administrator user name (default `dbadmin`). Changing it replaces the instance."),
        )
        .attribute(
            Attribute::string("admin_password")
                .optional()
                .sensitive()
                .description(
                    "Administrator password; never returned by the API, changed in place. Kept in state \
                     (marked sensitive); `admin_password_wo` keeps it out of state and plans.",
                ),
        )
        .attribute(
            Attribute::string("admin_password_wo")
                .optional()
                .sensitive()
                .write_only()
                .description(
                    "Administrator password, write-only (Terraform 1.11 or later): sent on create and \
                     whenever `admin_password_wo_version` changes, never stored in state or plans. Set it \
                     from an ephemeral variable or resource: a literal is part of the configuration, which \
                     saved plans carry. Conflicts with `admin_password`.",
                ),
        )
        .attribute(
            Attribute::int64("admin_password_wo_version")
                .optional()
                .description(
                    "Change this number to send `admin_password_wo` again (one in-place update); a new \
                     `admin_password_wo` alone is not noticed, as Terraform never stores it.",
                ),
        )
        .attribute(
            Attribute::string("restore_from_backup")
                .optional()
                .requires_replace()
                .validate_with("a backup name: 3-63 of a-z, 0-9 and '-', starting with a letter, not ending with '-'", |p, v, d| {
                    if let Some(s) = v.as_str()
                        && !valid_name(s)
                    {
                        d.attribute_error(
                            p.clone(),
                            "Invalid backup name",
                            format!(
                                "{:?} is not a valid backup name: use 3 to 63 lowercase letters, digits \
                                 and hyphens, starting with a letter and not ending with a hyphen.",
                                shorten(s)
                            ),
                        );
                    }
                })
                .description(
                    "Create the instance from this backup (of any instance of the project, also a deleted \
                     one): it starts with the databases and users the source had when the backup was taken. \
                     `engine` and `engine_version` default to the backup's; `storage_gb` must be at least the \
                     source's, and `admin_username` must not be one of the backup's users (checked at plan \
                     time when the backup exists). Changing it replaces the instance.",
                ),
        )
        .attribute(
            Attribute::map("labels", Type::String)
                .optional()
                .validate_with("at most 64 labels; keys ^[a-z][a-z0-9_-]{0,62}$, values ^[A-Za-z0-9_.-]{0,63}$", check_labels)
                .description(
                    "Key/value labels attached to the instance (at most 64; keys are lowercase letters, digits, `_` \
                     and `-`, starting with a letter, up to 63 characters; values up to 63 of letters, digits, \
                     `_`, `.` and `-`); changed in place.",
                ),
        )
        .attribute(
            Attribute::bool("deletion_protection")
                .optional()
                .computed()
                .default(false)
                .description("While true, the API refuses to delete the instance."),
        )
        .attribute(
            Attribute::bool("skip_final_backup")
                .optional()
                .computed()
                .default(false)
                .description("Destroy only: skip the final backup."),
        )
        .attribute(
            Attribute::string("final_backup_name")
                .optional()
                .description("Destroy only: name of the final backup (server default when unset)."),
        )
        .attribute(
            Attribute::single_nested(
                "backup",
                vec![
                    Attribute::bool("enabled").optional().computed().description("Automated backups (default true)."),
                    Attribute::string("start_time")
                        .optional()
                        .computed()
                        .validate_with("HH:MM (UTC)", |p, v, d| {
                            if let Some(s) = v.as_str()
                                && !valid_hhmm(s)
                            {
                                d.attribute_error(
                                    p.clone(),
                                    "Invalid backup start time",
                                    format!("start_time must be \"HH:MM\" in UTC (00:00 to 23:59), got {s:?}."),
                                );
                            }
                        })
                        .description("Daily backup window start, \"HH:MM\" UTC."),
                    Attribute::int64("retention_days")
                        .optional()
                        .computed()
                        .validator(int_between(1, 35))
                        .description("Days to keep backups, 1-35 (default 7)."),
                ],
            )
            .optional()
            .computed()
            .description("Automated backup settings."),
        )
        .attribute(Attribute::string("state").computed().description(
            "Lifecycle state reported by the API, e.g. `READY`, `UPDATING`, `MAINTENANCE` or `FAILED`.",
        ))
        .attribute(
            Attribute::string("endpoint_host")
                .computed()
                .use_state_for_unknown()
                .description("Host name clients connect to."),
        )
        .attribute(
            Attribute::int64("endpoint_port")
                .computed()
                .use_state_for_unknown()
                .description("Port clients connect to."),
        )
        .attribute(
            Attribute::string("created_at")
                .computed()
                .use_state_for_unknown()
                .description("Creation time (RFC 3339)."),
        )
        .block(timeouts::block(&["create", "update", "delete"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label_errors(labels: Vec<(String, &str)>) -> Vec<String> {
        let v = Value::map(labels.into_iter().map(|(k, v)| (k, Value::from(v))));
        let mut d = Diagnostics::new();
        check_labels(&AttributePath::attr("labels"), &v, &mut d);
        d.0.iter()
            .map(|x| format!("{}: {}", x.summary, x.detail))
            .collect()
    }

    #[test]
    fn labels_follow_the_api_rules_at_plan_time() {
        assert!(label_errors(vec![("team".into(), "db-1.a_b")]).is_empty());
        assert_eq!(label_errors(vec![("Team".into(), "x")]).len(), 1);
        assert_eq!(label_errors(vec![("team".into(), "no spaces")]).len(), 1);
        let many: Vec<(String, &str)> = (0..65).map(|i| (format!("k{i}"), "v")).collect();
        assert!(label_errors(many)[0].starts_with("Too many labels"));
        let huge = "v".repeat(100_000);
        let errs = label_errors(vec![("k".into(), huge.as_str())]);
        assert!(
            errs[0].len() < 300,
            "the diagnostic quotes a bounded prefix: {}",
            errs[0].len()
        );
    }
}
