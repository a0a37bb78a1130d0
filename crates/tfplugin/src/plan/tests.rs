//! Plan engine table tests.

use super::check::{check_apply_result, check_plan, check_read_result};
use super::*;
use crate::schema::{Attribute, Schema};

fn schema() -> Schema {
    Schema::new()
        .attribute(Attribute::string("id").computed().use_state_for_unknown())
        .attribute(Attribute::string("name").required().requires_replace())
        .attribute(Attribute::number("storage_gb").optional().default(20))
        .attribute(Attribute::string("endpoint").computed())
        .attribute(
            Attribute::string("status")
                .computed()
                .use_non_null_state_for_unknown(),
        )
        .attribute(Attribute::string("password").optional().write_only())
        .attribute(Attribute::string("tier").optional().requires_replace_if(
            "upgrade only",
            |prior, planned| {
                prior.as_str() == Some("premium") && planned.as_str() != Some("premium")
            },
        ))
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::object(
        [
            "id",
            "name",
            "storage_gb",
            "endpoint",
            "status",
            "password",
            "tier",
        ]
        .map(|k| (k, Value::Null)),
    );
    for (k, x) in pairs {
        v.set_attr(*k, x.clone());
    }
    v
}

fn state() -> Value {
    obj(&[
        ("id", "i-1".into()),
        ("name", "db".into()),
        ("storage_gb", 20.into()),
        ("endpoint", "db.example:5432".into()),
        ("status", "ready".into()),
        ("tier", "premium".into()),
    ])
}

/// Terraform's proposed state: config for non-computed, prior for computed-unset.
fn proposed(config: &Value, prior: &Value) -> Value {
    let mut p = config.clone();
    for k in ["id", "endpoint", "status", "storage_gb"] {
        if config.get(k).is_null() {
            p.set_attr(k, prior.get(k).clone());
        }
    }
    p
}

#[test]
fn create_applies_defaults_and_marks_computed_unknown() {
    let cfg = obj(&[("name", "db".into()), ("password", "s3cret".into())]);
    let out = plan_resource_change(&schema(), &Value::Null, proposed(&cfg, &Value::Null), &cfg);
    let p = &out.planned_state;
    assert_eq!(p.get("storage_gb").as_i64(), Some(20), "default");
    assert!(
        p.get("id").is_unknown() && p.get("endpoint").is_unknown() && p.get("status").is_unknown()
    );
    assert!(p.get("password").is_null(), "write-only planned null");
    assert!(out.requires_replace.is_empty(), "never replace on create");
    assert!(check_plan(&schema(), &Value::Null, &cfg, p).is_empty());
}

#[test]
fn no_change_keeps_prior_values() {
    let cfg = obj(&[
        ("name", "db".into()),
        ("storage_gb", 20.into()),
        ("tier", "premium".into()),
    ]);
    let out = plan_resource_change(&schema(), &state(), proposed(&cfg, &state()), &cfg);
    assert_eq!(out.planned_state, state());
    assert!(out.requires_replace.is_empty());
}

#[test]
fn update_uses_state_for_unknown_where_asked() {
    let cfg = obj(&[
        ("name", "db".into()),
        ("storage_gb", 50.into()),
        ("tier", "premium".into()),
    ]);
    let out = plan_resource_change(&schema(), &state(), proposed(&cfg, &state()), &cfg);
    let p = &out.planned_state;
    assert_eq!(p.get("id").as_str(), Some("i-1"), "UseStateForUnknown");
    assert_eq!(
        p.get("status").as_str(),
        Some("ready"),
        "UseNonNullStateForUnknown"
    );
    assert!(
        p.get("endpoint").is_unknown(),
        "computed without modifier becomes unknown"
    );
    assert!(out.requires_replace.is_empty());
}

#[test]
fn requires_replace_only_on_change() {
    let cfg = obj(&[("name", "db2".into()), ("tier", "premium".into())]);
    let out = plan_resource_change(&schema(), &state(), proposed(&cfg, &state()), &cfg);
    assert_eq!(out.requires_replace, vec![AttributePath::attr("name")]);

    let cfg = obj(&[("name", "db".into()), ("tier", "basic".into())]);
    let out = plan_resource_change(&schema(), &state(), proposed(&cfg, &state()), &cfg);
    assert_eq!(
        out.requires_replace,
        vec![AttributePath::attr("tier")],
        "RequiresReplaceIf true"
    );

    let mut st = state();
    st.set_attr("tier", "basic".into());
    let cfg = obj(&[("name", "db".into()), ("tier", "premium".into())]);
    let out = plan_resource_change(&schema(), &st, proposed(&cfg, &st), &cfg);
    assert!(out.requires_replace.is_empty(), "RequiresReplaceIf false");
}

#[test]
fn destroy_plans_null() {
    let out = plan_resource_change(&schema(), &state(), Value::Null, &Value::Null);
    assert!(out.planned_state.is_null());
}

#[test]
fn apply_mismatch_names_the_attribute() {
    let cfg = obj(&[("name", "db".into())]);
    let planned = plan_resource_change(&schema(), &Value::Null, proposed(&cfg, &Value::Null), &cfg)
        .planned_state;
    let mut result = state();
    result.set_attr("storage_gb", 25.into());
    let d = check_apply_result(&schema(), &planned, &result);
    assert!(d.has_errors());
    assert_eq!(d.0[0].attribute, Some(AttributePath::attr("storage_gb")));
    assert!(d.0[0].detail.contains("25"), "{}", d.0[0].detail);

    let mut result = state();
    result.set_attr("endpoint", Value::unknown());
    let d = check_apply_result(&schema(), &planned, &result);
    assert_eq!(d.0[0].attribute, Some(AttributePath::attr("endpoint")));

    let mut result = state();
    result.set_attr("password", "x".into());
    assert_eq!(
        check_apply_result(&schema(), &planned, &result).0[0].attribute,
        Some(AttributePath::attr("password"))
    );

    let mut result = state();
    result.set_attr("tier", Value::Null);
    assert!(
        check_apply_result(&schema(), &planned, &result).is_empty(),
        "consistent result passes"
    );
}

#[test]
fn read_must_be_known() {
    let mut s = state();
    assert!(check_read_result(&schema(), &s).is_empty());
    assert!(check_read_result(&schema(), &Value::Null).is_empty());
    s.set_attr("id", Value::unknown());
    assert_eq!(
        check_read_result(&schema(), &s).0[0].attribute,
        Some(AttributePath::attr("id"))
    );
}

#[test]
fn plan_check_rejects_changed_config() {
    let cfg = obj(&[("name", "db".into())]);
    let mut planned =
        plan_resource_change(&schema(), &Value::Null, proposed(&cfg, &Value::Null), &cfg)
            .planned_state;
    planned.set_attr("name", "other".into());
    let d = check_plan(&schema(), &Value::Null, &cfg, &planned);
    assert_eq!(d.0[0].attribute, Some(AttributePath::attr("name")));
}

#[test]
fn nested_attributes_and_blocks() {
    use crate::schema::{Block, NestedBlock};
    let s = Schema::new()
        .attribute(Attribute::list_nested(
            "users",
            vec![
                Attribute::string("name").required(),
                Attribute::string("uid").computed().use_state_for_unknown(),
                Attribute::string("role").optional().default("reader"),
            ],
        ))
        .block(NestedBlock::list(
            "rule",
            Block::new().attribute(Attribute::string("rid").computed()),
        ));
    let cfg = Value::object([
        (
            "users",
            Value::List(vec![Value::object([
                ("name", "a".into()),
                ("uid", Value::Null),
                ("role", Value::Null),
            ])]),
        ),
        (
            "rule",
            Value::List(vec![Value::object([("rid", Value::Null)])]),
        ),
    ]);
    let out = plan_resource_change(&s, &Value::Null, cfg.clone(), &cfg);
    let u = &out.planned_state.get("users").as_list().expect("list")[0];
    assert_eq!(u.get("role").as_str(), Some("reader"));
    assert!(u.get("uid").is_unknown());
    assert!(
        out.planned_state.get("rule").as_list().expect("l")[0]
            .get("rid")
            .is_unknown()
    );
}

/// UseStateForUnknown keeps even a null prior value; UseNonNullStateForUnknown does not.
#[test]
fn use_state_null_vs_non_null() {
    let mut st = state();
    st.set_attr("id", Value::Null);
    st.set_attr("status", Value::Null);
    let cfg = obj(&[
        ("name", "db".into()),
        ("storage_gb", 30.into()),
        ("tier", "premium".into()),
    ]);
    let out = plan_resource_change(&schema(), &st, proposed(&cfg, &st), &cfg);
    assert!(
        out.planned_state.get("id").is_null(),
        "UseStateForUnknown keeps null"
    );
    assert!(
        out.planned_state.get("status").is_unknown(),
        "UseNonNullStateForUnknown leaves unknown"
    );
}

/// Removing an optional+computed attribute with a default from config plans the default.
#[test]
fn removed_config_value_returns_to_default() {
    let mut st = state();
    st.set_attr("storage_gb", 50.into());
    let cfg = obj(&[("name", "db".into()), ("tier", "premium".into())]);
    let out = plan_resource_change(&schema(), &st, proposed(&cfg, &st), &cfg);
    assert_eq!(out.planned_state.get("storage_gb").as_i64(), Some(20));
}

/// A removed single block (`timeouts {}`) plans null even when Terraform 1.0 proposes the prior
/// block, which it would then reject as "planned for existence but config wants absence".
#[test]
fn removed_single_block_plans_null() {
    use crate::schema::{Block, NestedBlock};
    let s = Schema::new()
        .attribute(Attribute::string("name").required())
        .block(NestedBlock::single(
            "timeouts",
            Block::new().attribute(Attribute::string("create").optional()),
        ));
    let prior = Value::object([
        ("name", "a".into()),
        ("timeouts", Value::object([("create", "5m".into())])),
    ]);
    let cfg = Value::object([("name", "a".into()), ("timeouts", Value::Null)]);
    let out = plan_resource_change(&s, &prior, prior.clone(), &cfg);
    assert!(out.planned_state.get("timeouts").is_null());
    // Kept while configured.
    let out = plan_resource_change(&s, &prior, prior.clone(), &prior);
    assert_eq!(out.planned_state, prior);
}
