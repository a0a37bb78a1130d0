use super::*;
use crate::value::Type;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Backup {
    enabled: Field<bool>,
    retention_days: Field<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum State {
    Ready,
    Creating,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Model {
    name: String,
    tier: Field<String>,
    storage_gb: Field<i64>,
    labels: Option<BTreeMap<String, String>>,
    roles: Option<Vec<String>>,
    backup: Field<Backup>,
    state: Option<State>,
}

fn ty() -> Type {
    Type::object([
        ("name", Type::String),
        ("tier", Type::String),
        ("storage_gb", Type::Number),
        ("labels", Type::map(Type::String)),
        ("roles", Type::set(Type::String)),
        (
            "backup",
            Type::object([("enabled", Type::Bool), ("retention_days", Type::Number)]),
        ),
        ("state", Type::String),
    ])
}

fn plan() -> Value {
    Value::object([
        ("name", Value::from("orders")),
        ("tier", Value::unknown()),
        ("storage_gb", Value::int(20)),
        ("labels", Value::map([("team", Value::from("a"))])),
        ("roles", Value::Set(vec![Value::from("r")])),
        (
            "backup",
            Value::object([
                ("enabled", Value::Bool(true)),
                ("retention_days", Value::Null),
            ]),
        ),
        ("state", Value::from("READY")),
    ])
}

#[test]
fn reads_null_unknown_and_known_explicitly() {
    let m: Model = plan().to().expect("fits");
    assert_eq!(m.name, "orders");
    assert!(m.tier.is_unknown());
    assert_eq!(m.storage_gb, Field::Known(20));
    assert_eq!(
        m.labels
            .as_ref()
            .and_then(|l| l.get("team"))
            .map(String::as_str),
        Some("a")
    );
    assert_eq!(m.roles, Some(vec!["r".to_string()]));
    let b = m.backup.known().expect("backup");
    assert_eq!(b.enabled, Field::Known(true));
    assert!(b.retention_days.is_null());
    assert_eq!(m.state, Some(State::Ready));
}

#[test]
fn round_trips_through_the_schema_type() {
    let m: Model = plan().to().expect("fits");
    let back = conform(Value::from_model(&m).expect("writes"), &ty()).expect("conforms");
    assert_eq!(back, plan());
    // the set comes back as a set because the type says so
    assert!(matches!(back.get("roles"), Value::Set(_)));
}

#[test]
fn a_misspelt_field_names_the_attribute() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Misspelt {
        name: String,
        teir: Field<String>,
    }
    let v = Value::object([("name", Value::from("a")), ("tier", Value::Null)]);
    let e = v.to::<Misspelt>().expect_err("misspelt");
    assert_eq!(e.path, AttributePath::attr("teir"), "{e}");
    assert!(e.message.contains("not an attribute"), "{e}");
}

#[test]
fn a_schema_attribute_missing_from_the_model_is_an_error() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Partial {
        name: String,
    }
    let e = plan().to::<Partial>().expect_err("incomplete model");
    assert!(e.message.contains("has no field"), "{e}");
    let d = e.to_diagnostic();
    assert!(d.attribute.is_some());
}

#[test]
fn wrong_types_null_and_unknown_are_errors_with_paths() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        name: i64,
    }
    let e = Value::object([("name", Value::from("a"))])
        .to::<Wrong>()
        .expect_err("string is no i64");
    assert_eq!(e.path, AttributePath::attr("name"));
    assert!(e.message.contains("expected i64, got string"), "{e}");

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Plain {
        name: String,
    }
    let e = Value::object([("name", Value::Null)])
        .to::<Plain>()
        .expect_err("null");
    assert!(e.message.contains("null"), "{e}");

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Opt {
        name: Option<String>,
    }
    let e = Value::object([("name", Value::unknown())])
        .to::<Opt>()
        .expect_err("unknown in an Option");
    assert!(e.message.contains("Field"), "{e}");

    let e = Value::object([(
        "n",
        Value::object([("x", Value::from(1.5_f64.to_string()))]),
    )]);
    let _ = e; // (numbers that are not integers are covered below)
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Int {
        n: i64,
    }
    let half = Value::Number(crate::value::Number::parse("1.5").expect("number"));
    let e = Value::object([("n", half)])
        .to::<Int>()
        .expect_err("fraction");
    assert!(e.message.contains("does not fit"), "{e}");
}

#[test]
fn nested_errors_carry_the_full_path() {
    let mut v = plan();
    v.set_attr(
        "backup",
        Value::object([
            ("enabled", Value::from("yes")),
            ("retention_days", Value::Null),
        ]),
    );
    let e = v.to::<Model>().expect_err("bool expected");
    assert_eq!(e.path, AttributePath::attr("backup").with_attr("enabled"));
}

#[test]
fn list_and_map_errors_carry_index_and_key_steps() {
    let mut v = plan();
    v.set_attr("roles", Value::List(vec![Value::from("ok"), Value::int(7)]));
    let e = v.to::<Model>().expect_err("string expected");
    assert_eq!(e.path, AttributePath::attr("roles").with_index(1), "{e}");
    let mut v = plan();
    v.set_attr(
        "labels",
        Value::Map(BTreeMap::from([("env".to_string(), Value::int(1))])),
    );
    let e = v.to::<Model>().expect_err("string expected");
    assert_eq!(e.path, AttributePath::attr("labels").with_key("env"), "{e}");
}

#[test]
fn conform_rejects_extra_missing_and_mistyped_attributes() {
    let t = Type::object([("a", Type::String)]);
    let e =
        conform(Value::object([("a", Value::Null), ("b", Value::Null)]), &t).expect_err("extra");
    assert_eq!(e.path, AttributePath::attr("b"));
    let e = conform(Value::object::<&str, _>([]), &t).expect_err("missing");
    assert_eq!(e.path, AttributePath::attr("a"));
    let e = conform(Value::object([("a", Value::int(1))]), &t).expect_err("type");
    assert!(e.message.contains("expected string"), "{e}");
    assert_eq!(
        conform(Value::unknown(), &t).expect("unknown fits"),
        Value::unknown()
    );
}

#[test]
fn unknown_fields_write_unknown_values() {
    let f: Field<String> = Field::Unknown;
    assert_eq!(Value::from_model(&f).expect("writes"), Value::unknown());
    assert_eq!(
        Value::from_model(&Field::<i64>::Null).expect("writes"),
        Value::Null
    );
    // serde_json sees no unknowns: null or the value
    let j: Field<String> = serde_json::from_str("null").expect("json");
    assert!(j.is_null());
    let j: Field<String> = serde_json::from_str("\"x\"").expect("json");
    assert_eq!(j.as_str(), Some("x"));
}
