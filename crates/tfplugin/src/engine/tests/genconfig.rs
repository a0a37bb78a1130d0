//! Generated configuration: what a state implies, and a type's own answer checked.

use super::*;
use crate::schema::{Block, NestedBlock};

fn schema() -> Schema {
    Schema::new()
        .attribute(Attribute::string("id").computed())
        .attribute(Attribute::string("name").required())
        .attribute(Attribute::int64("size").optional().default(10))
        .attribute(Attribute::string("tier").optional().computed())
        .attribute(Attribute::string("secret").optional().write_only())
        .attribute(Attribute::string("password").optional().sensitive())
        .attribute(
            Attribute::string("old_name")
                .optional()
                .deprecated("use name"),
        )
        .attribute(Attribute::list_nested(
            "users",
            vec![
                Attribute::string("login").required(),
                Attribute::string("uid").computed(),
            ],
        ))
        .block(NestedBlock::list(
            "rule",
            Block::new()
                .attribute(Attribute::int64("port").required())
                .attribute(Attribute::string("rule_id").computed()),
        ))
        .block(
            NestedBlock::single(
                "legacy",
                Block::new().attribute(Attribute::string("x").optional()),
            )
            .deprecated("gone in v2"),
        )
}

fn user(login: &str, uid: Option<&str>) -> Value {
    Value::object([
        ("login", Value::from(login)),
        ("uid", uid.map_or(Value::Null, Value::from)),
    ])
}

fn rule(port: i64, id: Option<&str>) -> Value {
    Value::object([
        ("port", Value::int(port)),
        ("rule_id", id.map_or(Value::Null, Value::from)),
    ])
}

#[test]
fn the_configuration_a_state_implies() {
    let state = Value::object([
        ("id", Value::from("i-1")),
        ("name", Value::from("db")),
        ("size", Value::int(10)),
        ("tier", Value::from("small")),
        ("secret", Value::Null),
        ("password", Value::from("hunter2")),
        ("old_name", Value::from("legacy-db")),
        (
            "users",
            Value::List(vec![user("a", Some("u-1")), user("b", Some("u-2"))]),
        ),
        ("rule", Value::List(vec![rule(5432, Some("r-1"))])),
        ("legacy", Value::object([("x", Value::from("y"))])),
    ]);
    let got = crate::engine::config_from_state(&schema(), &state);
    let want = Value::object([
        ("id", Value::Null),                  // computed-only
        ("name", Value::from("db")),          // required: kept
        ("size", Value::Null),                // equal to its default
        ("tier", Value::from("small")),       // optional+computed: kept
        ("secret", Value::Null),              // write-only
        ("password", Value::from("hunter2")), // sensitive: Terraform masks it itself
        ("old_name", Value::Null),            // deprecated
        ("users", Value::List(vec![user("a", None), user("b", None)])),
        ("rule", Value::List(vec![rule(5432, None)])),
        ("legacy", Value::Null), // deprecated block: absent
    ]);
    assert_eq!(got, want);
    // a size that is not the default stays
    let mut big = state.clone();
    big.set_attr("size", Value::int(20));
    assert_eq!(
        crate::engine::config_from_state(&schema(), &big).get("size"),
        &Value::int(20)
    );
}

#[tokio::test]
async fn a_types_own_answer_is_checked() {
    let e = configured().await;
    let state =
        |name: &str| Value::object([("id", Value::from("eu/a")), ("name", Value::from(name))]);
    let cases = [
        (
            "the framework's answer",
            state("a"),
            Some(Value::object([
                ("id", Value::Null),
                ("name", Value::from("a")),
            ])),
            None,
        ),
        (
            "the type leaves out more",
            state("unpinned"),
            Some(Value::object([("id", Value::Null), ("name", Value::Null)])),
            None,
        ),
        (
            "the type sets a computed-only attribute",
            state("bad-config"),
            None,
            Some("Invalid generated configuration"),
        ),
    ];
    for (what, state, want, want_error) in cases {
        let (got, d) = e.generate_config("toy_keyed", state);
        assert_eq!(got, want, "{what}");
        assert_eq!(
            first_error(&d).map(|x| x.summary.as_str()),
            want_error,
            "{what}: {d:?}"
        );
        if let Some(err) = first_error(&d) {
            assert_eq!(err.attribute, Some(AttributePath::attr("id")), "{what}");
        }
    }
    let (got, d) = e.generate_config("toy_nope", Value::Null);
    assert!(got.is_none() && d.has_errors());
}
