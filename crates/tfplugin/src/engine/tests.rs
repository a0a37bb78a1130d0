//! Table-driven tests of the engine, with values in and values out: no protobuf anywhere.
//!
//! This file holds the toy provider and the resource lifecycle; `tests/` one file per
//! further concept (actions, identity, list resources, generated config, moves).

mod action;
mod genconfig;
mod identity;
mod list;

use super::*;
use crate::diag::Severity;
use crate::model::Field;
use crate::provider::{
    ApplyResult, ConfigureRequest, CreateRequest, DeleteRequest, ReadRequest, ReadResult,
    UpdateRequest,
};
use crate::schema::Attribute;
use crate::value::{AttributePath, Value};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The toy resource's model.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Thing {
    id: Field<String>,
    name: String,
    size: Field<i64>,
}

/// Behaviour is chosen by `name`: "fail", "panic", "partial", "misfit" or anything else (works).
struct ThingResource;

fn behave(name: &str, ok: Thing) -> Result<ApplyResult, Diagnostics> {
    match name {
        "fail" => Err(Diagnostic::error("API said no", "nope").into()),
        "panic" => panic!("handler bug"),
        "partial" => Ok(ApplyResult::partial(
            Value::from_model(&Thing {
                size: Field::Null,
                ..ok
            })?,
            Diagnostic::error("wait failed", "timeout"),
        )),
        // an identity for a type without identity schema: a provider bug
        "stray-identity" => {
            Ok(ApplyResult::from_model(&ok)?
                .with_identity(Value::object([("id", Value::from("x"))])))
        }
        // an object without `size`: the framework must name it instead of storing null
        "misfit" => Ok(ApplyResult::ok(Value::object([
            ("id", Value::from("x")),
            ("name", Value::from("misfit")),
        ]))),
        _ => Ok(ApplyResult::from_model(&ok)?),
    }
}

#[async_trait]
impl Resource<String> for ThingResource {
    fn type_name(&self) -> &'static str {
        "toy_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new()
            .attribute(Attribute::string("id").computed())
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::int64("size").optional().computed())
    }
    async fn create(
        &self,
        _: &Context,
        data: &String,
        req: CreateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let mut t: Thing = req.planned_state.to()?;
        t.id = Field::Known(format!("{data}/{}", t.name));
        t.size = t.size.or_if_unknown(|| Field::Known(1));
        behave(&t.name.clone(), t)
    }
    async fn read(
        &self,
        _: &Context,
        _: &String,
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics> {
        let t: Thing = req.state.to()?;
        match t.name.as_str() {
            "gone" => Ok(ReadResult::gone()),
            "fail" => Err(Diagnostic::error("API said no", "nope").into()),
            _ => Ok(ReadResult::from_model(&t, req.private)?),
        }
    }
    async fn update(
        &self,
        _: &Context,
        _: &String,
        req: UpdateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let t: Thing = req.planned_state.to()?;
        let t = Thing {
            size: t.size.or_if_unknown(|| Field::Known(2)),
            ..t
        };
        behave(&t.name.clone(), t)
    }
    async fn delete(&self, _: &Context, _: &String, req: DeleteRequest) -> Result<(), Diagnostics> {
        let t: Thing = req.prior_state.to()?;
        match t.name.as_str() {
            "fail" => Err(Diagnostic::error("API said no", "nope").into()),
            "panic" => panic!("handler bug"),
            _ => Ok(()),
        }
    }
}

struct Toy;

#[async_trait]
impl Provider for Toy {
    type Data = String;
    fn type_name(&self) -> &'static str {
        "toy"
    }
    fn schema(&self) -> Schema {
        Schema::new().attribute(Attribute::string("region").optional())
    }
    async fn configure(&self, _: &Context, req: ConfigureRequest) -> Result<String, Diagnostics> {
        Ok(req
            .config
            .get("region")
            .as_str()
            .unwrap_or("home")
            .to_string())
    }
    fn resources(&self) -> Vec<Arc<dyn Resource<String>>> {
        vec![Arc::new(ThingResource), Arc::new(identity::Keyed)]
    }
    fn list_resources(&self) -> Vec<Arc<dyn ListResource<String>>> {
        vec![Arc::new(list::KeyedList)]
    }
    fn actions(&self) -> Vec<Arc<dyn Action<String>>> {
        vec![Arc::new(action::Ping)]
    }
}

fn thing(id: Option<&str>, name: &str, size: Option<i64>) -> Value {
    Value::object([
        ("id", id.map_or(Value::Null, Value::from)),
        ("name", Value::from(name)),
        ("size", size.map_or(Value::Null, Value::int)),
    ])
}

async fn configured() -> Engine<Toy> {
    let e = Engine::new(Toy);
    let d = e
        .configure(
            Value::object([("region", Value::from("eu"))]),
            "1.15.5".into(),
            false,
        )
        .await;
    assert!(!d.has_errors(), "{d:?}");
    e
}

fn first_error(d: &Diagnostics) -> Option<&Diagnostic> {
    d.0.iter().find(|x| x.severity == Severity::Error)
}

#[tokio::test]
async fn apply_outcomes() {
    struct Case {
        what: &'static str,
        prior: Value,
        planned: Value,
        want_state: Value,
        want_error: Option<&'static str>,
    }
    let unknown_size = |name| {
        let mut v = thing(None, name, None);
        v.set_attr("id", Value::unknown());
        v.set_attr("size", Value::unknown());
        v
    };
    let cases = [
        Case {
            what: "create fills computed values",
            prior: Value::Null,
            planned: unknown_size("a"),
            want_state: thing(Some("eu/a"), "a", Some(1)),
            want_error: None,
        },
        Case {
            what: "a failed create records nothing",
            prior: Value::Null,
            planned: unknown_size("fail"),
            want_state: Value::Null,
            want_error: Some("API said no"),
        },
        Case {
            what: "a partial create records the object with its error",
            prior: Value::Null,
            planned: unknown_size("partial"),
            want_state: thing(Some("eu/partial"), "partial", None),
            want_error: Some("wait failed"),
        },
        Case {
            what: "a panicking create is a diagnostic",
            prior: Value::Null,
            planned: unknown_size("panic"),
            want_state: Value::Null,
            want_error: Some("Provider panicked"),
        },
        Case {
            what: "a result missing an attribute names it",
            prior: Value::Null,
            planned: unknown_size("misfit"),
            want_state: Value::object([("id", Value::from("x")), ("name", Value::from("misfit"))]),
            want_error: Some("Provider model does not match the schema"),
        },
        Case {
            what: "a failed update keeps the prior state",
            prior: thing(Some("eu/fail"), "fail", Some(1)),
            planned: thing(Some("eu/fail"), "fail", Some(5)),
            want_state: thing(Some("eu/fail"), "fail", Some(1)),
            want_error: Some("API said no"),
        },
        Case {
            what: "delete",
            prior: thing(Some("eu/a"), "a", Some(1)),
            planned: Value::Null,
            want_state: Value::Null,
            want_error: None,
        },
        Case {
            what: "a failed delete keeps the object",
            prior: thing(Some("eu/fail"), "fail", Some(1)),
            planned: Value::Null,
            want_state: thing(Some("eu/fail"), "fail", Some(1)),
            want_error: Some("API said no"),
        },
        Case {
            what: "a panicking delete keeps the object",
            prior: thing(Some("eu/panic"), "panic", Some(1)),
            planned: Value::Null,
            want_state: thing(Some("eu/panic"), "panic", Some(1)),
            want_error: Some("Provider panicked"),
        },
    ];
    let e = configured().await;
    for c in cases {
        let config = thing(None, c.planned.get("name").as_str().unwrap_or("x"), None);
        let out = e
            .apply("toy_thing", c.prior, c.planned, config, &[], None)
            .await;
        assert_eq!(out.new_state, c.want_state, "{}", c.what);
        assert_eq!(
            first_error(&out.diagnostics).map(|d| d.summary.as_str()),
            c.want_error,
            "{}: {:?}",
            c.what,
            out.diagnostics
        );
    }
}

#[tokio::test]
async fn misfit_results_point_at_the_attribute() {
    let e = configured().await;
    let mut planned = thing(None, "misfit", None);
    planned.set_attr("size", Value::unknown());
    let out = e
        .apply(
            "toy_thing",
            Value::Null,
            planned,
            thing(None, "misfit", None),
            &[],
            None,
        )
        .await;
    let err = first_error(&out.diagnostics).expect("error");
    assert_eq!(err.attribute, Some(AttributePath::attr("size")));
}

#[tokio::test]
async fn read_outcomes() {
    let e = configured().await;
    let cases = [
        (
            "null state stays null without a call",
            Value::Null,
            Value::Null,
            None,
        ),
        (
            "found",
            thing(Some("i"), "a", Some(1)),
            thing(Some("i"), "a", Some(1)),
            None,
        ),
        ("gone", thing(Some("i"), "gone", Some(1)), Value::Null, None),
        (
            "a failed read keeps the state",
            thing(Some("i"), "fail", Some(1)),
            thing(Some("i"), "fail", Some(1)),
            Some("API said no"),
        ),
    ];
    for (what, state, want, err) in cases {
        let sent = state.clone();
        let out = e.read("toy_thing", state, &[], None, false).await;
        // `unchanged`: the state goes back as it was sent
        let got = if out.unchanged { &sent } else { &out.new_state };
        assert_eq!(*got, want, "{what}");
        if err.is_some() {
            assert!(
                out.unchanged,
                "{what}: a failed read keeps the state as sent"
            );
        }
        assert_eq!(
            first_error(&out.diagnostics).map(|d| d.summary.as_str()),
            err,
            "{what}"
        );
    }
}

#[tokio::test]
async fn configuration_state_is_handled_for_every_resource() {
    // Not configured: API calls fail with one clear error; nothing is lost.
    let e = Engine::new(Toy);
    let state = thing(Some("i"), "a", Some(1));
    let out = e.read("toy_thing", state.clone(), &[], None, false).await;
    assert_eq!(out.new_state, state);
    assert_eq!(
        first_error(&out.diagnostics).map(|d| d.summary.as_str()),
        Some("Provider not configured")
    );

    // Unknown configuration: configure is not called; reads keep state with a warning,
    // plans go on, applies fail naming the setting.
    let d = e
        .configure(
            Value::object([("region", Value::unknown())]),
            "1.15.5".into(),
            false,
        )
        .await;
    assert!(!d.has_errors());
    let out = e.read("toy_thing", state.clone(), &[], None, false).await;
    assert_eq!(out.new_state, state);
    assert!(!out.diagnostics.has_errors());
    assert_eq!(out.diagnostics.0[0].severity, Severity::Warning);

    let plan = e
        .plan(
            "toy_thing",
            Value::Null,
            thing(None, "b", None),
            thing(None, "b", None),
            &[],
            None,
            false,
        )
        .await;
    assert!(!plan.diagnostics.has_errors(), "{:?}", plan.diagnostics);
    assert!(plan.planned_state.get("id").is_unknown());

    let out = e
        .apply(
            "toy_thing",
            Value::Null,
            plan.planned_state,
            thing(None, "b", None),
            &[],
            None,
        )
        .await;
    let err = first_error(&out.diagnostics).expect("error");
    assert!(err.detail.contains("region"), "{err}");
    assert!(out.new_state.is_null());
}

#[tokio::test]
async fn plan_runs_the_declarative_rules_and_checks() {
    let e = configured().await;
    // create: computed attributes become unknown
    let p = e
        .plan(
            "toy_thing",
            Value::Null,
            thing(None, "a", None),
            thing(None, "a", None),
            &[],
            None,
            false,
        )
        .await;
    assert!(!p.diagnostics.has_errors());
    assert!(p.planned_state.get("id").is_unknown());
    assert!(p.planned_state.get("size").is_unknown());
    // destroy: null, no call
    let p = e
        .plan(
            "toy_thing",
            thing(Some("i"), "a", Some(1)),
            Value::Null,
            Value::Null,
            &[],
            None,
            false,
        )
        .await;
    assert!(p.planned_state.is_null());
    // unknown type: a diagnostic naming it
    let p = e
        .plan(
            "toy_nothing",
            Value::Null,
            Value::Null,
            Value::Null,
            &[],
            None,
            false,
        )
        .await;
    assert!(first_error(&p.diagnostics).is_some_and(|d| d.detail.contains("toy_nothing")));
}

#[tokio::test]
async fn validation_and_private_state_errors_are_diagnostics() {
    let e = configured().await;
    let d = e.validate_resource("toy_nothing", &Value::Null, true).await;
    assert!(first_error(&d).is_some_and(|d| d.summary == "Unknown resource type"));
    let out = e
        .read(
            "toy_thing",
            thing(Some("i"), "a", Some(1)),
            b"not json",
            None,
            false,
        )
        .await;
    assert_eq!(
        first_error(&out.diagnostics).map(|d| d.summary.as_str()),
        Some("Invalid private state")
    );
}
