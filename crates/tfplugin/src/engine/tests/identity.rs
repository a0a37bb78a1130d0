//! Resource identities: returned on create, update, read, import and move, fitted to the
//! identity schema, required where Terraform needs one, and never changed for the life of an
//! object.

use super::*;
use crate::provider::{
    ImportBy, ImportRequest, ImportResult, MoveStateRequest, MoveStateResult, PlanRequest,
    PlanResponse,
};
use crate::schema::{IdentityAttribute, IdentitySchema};
use crate::value::Type;

/// `toy_keyed`, identified by `{id, region}`. Behaviour is chosen by `name`: "no-identity"
/// (create/read return none), "unknown-identity", "misfit-identity", "drift" (update and read
/// return another identity), "plan-drift" (the update plan changes it), "empty" (imports
/// nothing); anything else works.
pub(super) struct Keyed;

fn ident(id: &str, region: Option<&str>) -> Value {
    Value::object([
        ("id", Value::from(id)),
        ("region", region.map_or(Value::Null, Value::from)),
    ])
}

fn keyed(id: Option<&str>, name: &str) -> Value {
    Value::object([
        ("id", id.map_or(Value::Null, Value::from)),
        ("name", Value::from(name)),
    ])
}

/// What a passthrough import leaves: the id, nothing else.
fn stub(id: &str) -> Value {
    Value::object([("id", Value::from(id)), ("name", Value::Null)])
}

/// The identity a handler returns for `state` (of `region`), by the state's name.
fn identity_for(state: &Value, region: &str) -> Option<Value> {
    let id = state.get("id").as_str().unwrap_or_default();
    match state.get("name").as_str().unwrap_or_default() {
        "no-identity" => None,
        "unknown-identity" => Some(Value::object([
            ("id", Value::unknown()),
            ("region", Value::from(region)),
        ])),
        "misfit-identity" => Some(Value::object([("uuid", Value::from(id))])),
        "drift" => Some(ident("someone-else", Some(region))),
        _ => Some(ident(id, Some(region))),
    }
}

#[async_trait]
impl Resource<String> for Keyed {
    fn type_name(&self) -> &'static str {
        "toy_keyed"
    }
    fn schema(&self) -> Schema {
        Schema::new()
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("name").required())
    }
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(
            IdentitySchema::new()
                .attribute(IdentityAttribute::required("id", Type::String))
                .attribute(IdentityAttribute::optional("region", Type::String)),
        )
    }
    async fn modify_plan(
        &self,
        _: &Context,
        region: Option<&String>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) -> Result<(), Diagnostics> {
        if req.is_create() {
            // what is known at plan time: the region, not the id
            let region = region.map_or(Value::unknown(), |r| Value::from(r.as_str()));
            plan.planned_identity = Some(Value::object([
                ("id", Value::unknown()),
                ("region", region),
            ]));
        } else if req.config.get("name").as_str() == Some("plan-drift") {
            plan.planned_identity = Some(ident("someone-else", None));
        }
        Ok(())
    }
    async fn create(
        &self,
        _: &Context,
        region: &String,
        req: CreateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let mut s = req.planned_state;
        let id = format!("{region}/{}", s.get("name").as_str().unwrap_or_default());
        s.set_attr("id", Value::from(id));
        let identity = identity_for(&s, region);
        Ok(ApplyResult {
            identity,
            ..ApplyResult::ok(s)
        })
    }
    async fn read(
        &self,
        _: &Context,
        region: &String,
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics> {
        let identity = match req.state.get("name").as_str() {
            Some("keep") => None,
            _ => identity_for(&req.state, region),
        };
        Ok(ReadResult {
            identity,
            ..ReadResult::found(req.state, req.private)
        })
    }
    async fn update(
        &self,
        _: &Context,
        region: &String,
        req: UpdateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let identity = match req.planned_state.get("name").as_str() {
            Some("drift" | "misfit-identity") => identity_for(&req.planned_state, region),
            _ => None, // keep the planned identity
        };
        Ok(ApplyResult {
            identity,
            ..ApplyResult::ok(req.planned_state)
        })
    }
    async fn delete(&self, _: &Context, _: &String, _: DeleteRequest) -> Result<(), Diagnostics> {
        Ok(())
    }
    async fn import(
        &self,
        _: &Context,
        _: &String,
        req: ImportRequest,
    ) -> Result<ImportResult, Diagnostics> {
        if req.id() == Some("empty") {
            return Ok(ImportResult::default());
        }
        Ok(ImportResult::passthrough_with_identity("id", "id", &req))
    }
    fn generate_config(&self, state: &Value, mut config: Value) -> Result<Value, Diagnostics> {
        match state.get("name").as_str() {
            // a type may leave out more than the framework does
            Some("unpinned") => config.set_attr("name", Value::Null),
            // but may not set what configuration cannot hold
            Some("bad-config") => config.set_attr("id", state.get("id").clone()),
            _ => {}
        }
        Ok(config)
    }
    async fn move_state(
        &self,
        _: &Context,
        req: MoveStateRequest,
    ) -> Result<MoveStateResult, Diagnostics> {
        let id = req.source_state["key"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let region = req
            .source_identity
            .as_ref()
            .and_then(|i| i["zone"].as_str())
            .map(str::to_string);
        Ok(MoveStateResult {
            target_state: keyed(Some(&id), "moved"),
            target_identity: region.map(|r| ident(&id, Some(&r))),
            ..Default::default()
        })
    }
}

fn error_summary(d: &Diagnostics) -> Option<&str> {
    first_error(d).map(|x| x.summary.as_str())
}

#[tokio::test]
async fn apply_returns_and_checks_identities() {
    struct Case {
        what: &'static str,
        prior: Value,
        planned: Value,
        planned_identity: Option<Value>,
        want_identity: Option<Value>,
        want_error: Option<&'static str>,
    }
    let creating = |name| {
        let mut v = keyed(None, name);
        v.set_attr("id", Value::unknown());
        v
    };
    let planned_create = Some(Value::object([
        ("id", Value::unknown()),
        ("region", Value::from("eu")),
    ]));
    let cases = [
        Case {
            what: "create returns the identity",
            prior: Value::Null,
            planned: creating("a"),
            planned_identity: planned_create.clone(),
            want_identity: Some(ident("eu/a", Some("eu"))),
            want_error: None,
        },
        Case {
            what: "a create without identity is a provider bug",
            prior: Value::Null,
            planned: creating("no-identity"),
            planned_identity: planned_create.clone(),
            want_identity: None,
            want_error: Some("Missing resource identity after create"),
        },
        Case {
            what: "a wholly known planned identity stands in for a create's",
            prior: Value::Null,
            planned: creating("no-identity"),
            planned_identity: Some(ident("eu/no-identity", Some("eu"))),
            want_identity: Some(ident("eu/no-identity", Some("eu"))),
            want_error: None,
        },
        Case {
            what: "unknowns in an applied identity",
            prior: Value::Null,
            planned: creating("unknown-identity"),
            planned_identity: None,
            want_identity: None,
            want_error: Some("Invalid resource identity"),
        },
        Case {
            what: "an identity that does not fit the identity schema",
            prior: Value::Null,
            planned: creating("misfit-identity"),
            planned_identity: None,
            want_identity: None,
            want_error: Some("Invalid resource identity"),
        },
        Case {
            what: "an update keeps the planned identity",
            prior: keyed(Some("eu/a"), "a"),
            planned: keyed(Some("eu/a"), "b"),
            planned_identity: Some(ident("eu/a", Some("eu"))),
            want_identity: Some(ident("eu/a", Some("eu"))),
            want_error: None,
        },
        Case {
            what: "an update may not change the identity",
            prior: keyed(Some("eu/a"), "a"),
            planned: keyed(Some("eu/a"), "drift"),
            planned_identity: Some(ident("eu/a", Some("eu"))),
            want_identity: Some(ident("eu/a", Some("eu"))),
            want_error: Some("Unexpected Identity Change"),
        },
        Case {
            what: "an update of state from before the identity must return one",
            prior: keyed(Some("eu/a"), "a"),
            planned: keyed(Some("eu/a"), "b"),
            planned_identity: None,
            want_identity: None,
            want_error: Some("Missing resource identity after update"),
        },
        Case {
            what: "a deleted object has no identity",
            prior: keyed(Some("eu/a"), "a"),
            planned: Value::Null,
            planned_identity: Some(ident("eu/a", Some("eu"))),
            want_identity: None,
            want_error: None,
        },
    ];
    let e = configured().await;
    for c in cases {
        let config = keyed(None, c.planned.get("name").as_str().unwrap_or("x"));
        let out = e
            .apply(
                "toy_keyed",
                c.prior,
                c.planned,
                config,
                &[],
                c.planned_identity,
            )
            .await;
        assert_eq!(out.identity, c.want_identity, "{}", c.what);
        assert_eq!(
            error_summary(&out.diagnostics),
            c.want_error,
            "{}: {:?}",
            c.what,
            out.diagnostics
        );
    }
    // a type without identity schema may not return one
    let mut planned = thing(None, "stray-identity", None);
    planned.set_attr("id", Value::unknown());
    planned.set_attr("size", Value::unknown());
    let out = e
        .apply(
            "toy_thing",
            Value::Null,
            planned,
            thing(None, "stray-identity", None),
            &[],
            None,
        )
        .await;
    assert_eq!(
        error_summary(&out.diagnostics),
        Some("Unexpected resource identity")
    );
    assert_eq!(out.identity, None);
}

#[tokio::test]
async fn terraform_before_1_12_has_no_identities_to_keep() {
    // It sends none, so an update cannot keep one, and it ignores the answer: not an error.
    let e = Engine::new(Toy);
    e.configure(
        Value::object([("region", Value::from("eu"))]),
        "1.11.4".into(),
        false,
    )
    .await;
    let out = e
        .apply(
            "toy_keyed",
            keyed(Some("eu/a"), "a"),
            keyed(Some("eu/a"), "b"),
            keyed(None, "b"),
            &[],
            None,
        )
        .await;
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(out.identity, None);
    // what a handler returns is still checked
    let out = e
        .apply(
            "toy_keyed",
            keyed(Some("eu/a"), "a"),
            keyed(Some("eu/a"), "misfit-identity"),
            keyed(None, "x"),
            &[],
            None,
        )
        .await;
    assert_eq!(
        error_summary(&out.diagnostics),
        Some("Invalid resource identity")
    );
}

#[tokio::test]
async fn read_keeps_the_identity() {
    let e = configured().await;
    // what an import hands to the read that follows
    let imported = e
        .import("toy_keyed", ImportBy::Id("eu/a".into()), false)
        .await;
    let (_, import_private, _) = imported.imported.expect("imported");
    let cases = [
        (
            "the read returns the stored identity",
            keyed(Some("eu/a"), "a"),
            Vec::new(),
            Some(ident("eu/a", Some("eu"))),
            Some(ident("eu/a", Some("eu"))),
            None,
        ),
        (
            "none returned keeps the stored one",
            keyed(Some("eu/a"), "keep"),
            Vec::new(),
            Some(ident("eu/a", Some("eu"))),
            Some(ident("eu/a", Some("eu"))),
            None,
        ),
        (
            "a changed identity is a provider bug",
            keyed(Some("eu/a"), "drift"),
            Vec::new(),
            Some(ident("eu/a", Some("eu"))),
            Some(ident("eu/a", Some("eu"))),
            Some("Unexpected Identity Change"),
        ),
        (
            "state from before the identity gets one",
            keyed(Some("eu/a"), "a"),
            Vec::new(),
            None,
            Some(ident("eu/a", Some("eu"))),
            None,
        ),
        (
            "and must get one",
            keyed(Some("eu/a"), "keep"),
            Vec::new(),
            None,
            None,
            Some("Missing resource identity after read"),
        ),
        (
            "the read after an import completes the identity",
            keyed(Some("eu/a"), "a"),
            import_private.clone(),
            Some(ident("eu/a", None)),
            Some(ident("eu/a", Some("eu"))),
            None,
        ),
        (
            "later reads may not",
            keyed(Some("eu/a"), "a"),
            Vec::new(),
            Some(ident("eu/a", None)),
            Some(ident("eu/a", None)),
            Some("Unexpected Identity Change"),
        ),
    ];
    for (what, state, private, identity, want, want_error) in cases {
        let out = e.read("toy_keyed", state, &private, identity, false).await;
        assert_eq!(out.identity, want, "{what}");
        assert_eq!(
            error_summary(&out.diagnostics),
            want_error,
            "{what}: {:?}",
            out.diagnostics
        );
        assert!(
            out.private.is_empty(),
            "{what}: the import marker is gone after the read"
        );
    }
}

#[tokio::test]
async fn import_by_id_or_identity() {
    let e = configured().await;
    struct Case {
        what: &'static str,
        name: &'static str,
        by: ImportBy,
        want_state: Option<Value>,
        want_identity: Option<Value>,
        want_error: Option<&'static str>,
    }
    let cases = [
        Case {
            what: "by ID: the read that follows supplies the identity",
            name: "toy_keyed",
            by: ImportBy::Id("eu/a".into()),
            want_state: Some(stub("eu/a")),
            want_identity: None,
            want_error: None,
        },
        Case {
            what: "by identity: the identity is kept",
            name: "toy_keyed",
            by: ImportBy::Identity(ident("eu/b", None)),
            want_state: Some(stub("eu/b")),
            want_identity: Some(ident("eu/b", None)),
            want_error: None,
        },
        Case {
            what: "an import that sets nothing is a provider bug",
            name: "toy_keyed",
            by: ImportBy::Id("empty".into()),
            want_state: None,
            want_identity: None,
            want_error: Some("Missing resource import state"),
        },
        Case {
            what: "a type without identity schema cannot import by identity",
            name: "toy_thing",
            by: ImportBy::Identity(ident("x", None)),
            want_state: None,
            want_identity: None,
            want_error: Some("Import by identity not supported"),
        },
    ];
    for c in cases {
        let out = e.import(c.name, c.by, false).await;
        let got = out.imported.map(|(s, _, i)| (s, i));
        assert_eq!(
            got,
            c.want_state.map(|s| (s, c.want_identity)),
            "{}",
            c.what
        );
        assert_eq!(
            error_summary(&out.diagnostics),
            c.want_error,
            "{}: {:?}",
            c.what,
            out.diagnostics
        );
    }
}

#[tokio::test]
async fn plan_carries_the_identity() {
    let e = configured().await;
    let create = e
        .plan(
            "toy_keyed",
            Value::Null,
            keyed(None, "a"),
            keyed(None, "a"),
            &[],
            None,
            false,
        )
        .await;
    assert!(!create.diagnostics.has_errors(), "{:?}", create.diagnostics);
    let planned = create
        .planned_identity
        .expect("a create plan may plan an identity");
    assert!(planned.get("id").is_unknown());
    assert_eq!(planned.get("region").as_str(), Some("eu"));

    let prior = keyed(Some("eu/a"), "a");
    let stored = Some(ident("eu/a", Some("eu")));
    let update = e
        .plan(
            "toy_keyed",
            prior.clone(),
            keyed(Some("eu/a"), "b"),
            keyed(None, "b"),
            &[],
            stored.clone(),
            false,
        )
        .await;
    assert!(!update.diagnostics.has_errors(), "{:?}", update.diagnostics);
    assert_eq!(update.planned_identity, stored);

    let drift = e
        .plan(
            "toy_keyed",
            prior,
            keyed(Some("eu/a"), "plan-drift"),
            keyed(None, "plan-drift"),
            &[],
            stored.clone(),
            false,
        )
        .await;
    assert_eq!(
        error_summary(&drift.diagnostics),
        Some("Unexpected Identity Change")
    );
    assert_eq!(drift.planned_identity, stored);
}

#[tokio::test]
async fn move_passes_the_source_and_fits_the_target() {
    let e = configured().await;
    let out = e
        .move_state(
            "toy_keyed",
            MoveSource {
                provider_address: "registry.terraform.io/toy/toy".into(),
                type_name: "toy_old_keyed".into(),
                schema_version: 2,
                state_json: br#"{"key": "eu/m"}"#.to_vec(),
                identity_json: br#"{"zone": "eu"}"#.to_vec(),
                identity_schema_version: 1,
                ..Default::default()
            },
        )
        .await;
    assert!(!out.diagnostics.has_errors(), "{:?}", out.diagnostics);
    assert_eq!(out.target_state, Some(keyed(Some("eu/m"), "moved")));
    assert_eq!(out.target_identity, Some(ident("eu/m", Some("eu"))));
    let bad = e
        .move_state(
            "toy_keyed",
            MoveSource {
                state_json: b"{".to_vec(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        error_summary(&bad.diagnostics),
        Some("Invalid source state")
    );
    assert_eq!(bad.target_state, None);
}
