//! The framework's Terraform 1.12–1.15 features over the wire, through the project's tfplugin6
//! client, against `feat`: a small provider built on the framework for these tests
//! (`crates/tfplugin/examples/feature_provider.rs`; the CloudDB provider does not use every
//! feature yet). Launched like Terraform launches a provider (AutoMTLS, unix socket), one
//! process per test.
//!
//! Actions (ValidateActionConfig, PlanAction, InvokeAction streaming, StopProvider during an
//! invoke), identity round trips (create, read, update, import by ID and by identity, the
//! identity-change error), ListResource (limit, include_resource), GenerateResourceConfig,
//! MoveResourceState, deprecation messages and the schemas announcing all of them.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use tfplugin::proto::tfplugin6 as pb;
use tfplugin::schema::{Attribute, IdentityAttribute, IdentitySchema, Schema};
use tfplugin::testing::diagnostics::{assert_no_errors, errors, first_attribute};
use tfplugin::testing::values::{
    decode, decode_identity, dynamic_value, from_json, identity_data, raw_state_json,
};
use tfplugin::testing::{ClientAuth, ProviderProcess, requests, target_binary};
use tfplugin::value::{Type, Value};

use crate::{Rpc, options, shutdown_cleanly};

const WIDGET: &str = "feat_widget";
const GADGET: &str = "feat_gadget";
const POKE: &str = "feat_widget_poke";

/// Builds (once) and returns the example provider.
fn feat_binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "-q",
            "-p",
            "tfplugin",
            "--example",
            "feature_provider",
        ]);
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "building feature_provider failed");
        target_binary("feature_provider", true).expect("feature_provider built")
    })
    .clone()
}

/// `feat_widget`'s schema as far as the requests need it (types and which attributes are
/// computed; the provider's own schema is checked in `schemas_announce_every_feature`).
fn widget_schema() -> Schema {
    Schema::new()
        .attribute(Attribute::string("id").computed())
        .attribute(Attribute::string("name").required())
        .attribute(Attribute::int64("size").optional().computed())
        .attribute(Attribute::string("note").optional())
        .attribute(Attribute::string("secret").optional().write_only())
}

fn widget_ty() -> Type {
    widget_schema().implied_type()
}

fn identity_ty() -> Type {
    IdentitySchema::new()
        .attribute(IdentityAttribute::required("name", Type::String))
        .implied_type()
}

fn poke_ty() -> Type {
    Type::object([
        ("name", Type::String),
        ("steps", Type::Number),
        ("mode", Type::String),
    ])
}

fn widget(j: serde_json::Value) -> Value {
    from_json(&widget_ty(), j)
}

fn ident(name: &str) -> Value {
    Value::object([("name", Value::from(name))])
}

/// Launches `feat` and configures it (it has no settings).
async fn launch_feat() -> (ProviderProcess, Rpc) {
    let p = ProviderProcess::launch_with(feat_binary(), options(ClientAuth::Terraform))
        .await
        .expect("launch feature_provider");
    let mut c = p.provider.clone();
    let r = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: dynamic_value(
                &Schema::new().implied_type(),
                &Value::Object(Default::default()),
            ),
            client_capabilities: requests::client_capabilities(),
        })
        .await
        .expect("ConfigureProvider")
        .into_inner();
    assert_no_errors("ConfigureProvider", &r.diagnostics);
    (p, c)
}

/// Plans and applies the create of widget `name` (with `note`), asserting no errors: the new
/// state, private bytes and identity.
async fn create(c: &mut Rpc, name: &str, note: Option<&str>) -> (Value, Vec<u8>, Value) {
    let config = widget(serde_json::json!({"name": name, "note": note}));
    let mut req = requests::plan(
        WIDGET,
        &widget_ty(),
        &Value::Null,
        &config,
        &config,
        Vec::new(),
    );
    req.client_capabilities = requests::client_capabilities();
    let pl = c
        .plan_resource_change(req)
        .await
        .expect("Plan")
        .into_inner();
    assert_no_errors("PlanResourceChange(create)", &pl.diagnostics);
    assert!(
        pl.planned_identity.is_none(),
        "nothing to plan: the identity comes with the create"
    );
    let planned = decode(&widget_ty(), &pl.planned_state);
    let ap = c
        .apply_resource_change(requests::apply(
            WIDGET,
            &widget_ty(),
            &Value::Null,
            &planned,
            &config,
            pl.planned_private,
        ))
        .await
        .expect("Apply")
        .into_inner();
    assert_no_errors("ApplyResourceChange(create)", &ap.diagnostics);
    let identity =
        decode_identity(&identity_ty(), &ap.new_identity).expect("a create returns the identity");
    (decode(&widget_ty(), &ap.new_state), ap.private, identity)
}

async fn read(
    c: &mut Rpc,
    state: &Value,
    private: Vec<u8>,
    identity: Option<&Value>,
) -> pb::read_resource::Response {
    let mut req = requests::read(WIDGET, &widget_ty(), state, private);
    req.current_identity = identity.and_then(|i| identity_data(&identity_ty(), i));
    c.read_resource(req)
        .await
        .expect("ReadResource")
        .into_inner()
}

/// GetProviderSchema, GetMetadata, GetResourceIdentitySchemas: actions, list resources,
/// identities, the deprecated alias and the capabilities.
#[tokio::test]
async fn schemas_announce_every_feature() {
    let (p, mut c) = launch_feat().await;
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let poke = s.action_schemas[POKE]
        .schema
        .as_ref()
        .and_then(|s| s.block.as_ref())
        .expect("action schema");
    let names: Vec<&str> = poke.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["name", "steps", "mode"]);
    assert!(s.list_resource_schemas.contains_key(WIDGET));
    let gadget = s.resource_schemas[GADGET]
        .block
        .as_ref()
        .expect("gadget block");
    assert!(
        gadget.deprecated && gadget.deprecation_message.contains("feat_widget"),
        "{gadget:?}"
    );
    let w = s.resource_schemas[WIDGET]
        .block
        .as_ref()
        .expect("widget block");
    assert!(!w.deprecated && w.deprecation_message.is_empty());
    let caps = s.server_capabilities.expect("capabilities");
    assert!(caps.generate_resource_config && caps.move_resource_state);

    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("GetMetadata")
        .into_inner();
    let actions: Vec<&str> = m.actions.iter().map(|a| a.type_name.as_str()).collect();
    assert_eq!(actions, [POKE]);
    let lists: Vec<&str> = m
        .list_resources
        .iter()
        .map(|a| a.type_name.as_str())
        .collect();
    assert_eq!(lists, [WIDGET]);

    let ids = c
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("GetResourceIdentitySchemas")
        .into_inner();
    let attrs = &ids.identity_schemas[WIDGET].identity_attributes;
    assert_eq!(attrs.len(), 1);
    assert!(attrs[0].name == "name" && attrs[0].required_for_import);
    assert!(ids.identity_schemas.contains_key(GADGET));

    // the deprecated type warns when configured
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: GADGET.into(),
            config: dynamic_value(&widget_ty(), &widget(serde_json::json!({"name": "g"}))),
            client_capabilities: requests::client_capabilities(),
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    assert_no_errors("ValidateResourceConfig(gadget)", &v.diagnostics);
    assert!(
        v.diagnostics
            .iter()
            .any(|d| d.summary == "Deprecated" && d.detail.contains("moved")),
        "{:?}",
        v.diagnostics
    );
    shutdown_cleanly(p).await;
}

/// ValidateActionConfig, PlanAction, and InvokeAction streaming progress, then its completion:
/// success, failure, and a StopProvider while the action runs.
#[tokio::test]
async fn actions_plan_and_stream_their_progress() {
    let (p, mut c) = launch_feat().await;
    let poke = |j: serde_json::Value| dynamic_value(&poke_ty(), &from_json(&poke_ty(), j));

    let v = c
        .validate_action_config(pb::validate_action_config::Request {
            type_name: POKE.into(),
            config: poke(serde_json::json!({"name": "a", "mode": "loud"})),
        })
        .await
        .expect("ValidateActionConfig")
        .into_inner();
    assert_eq!(errors(&v.diagnostics).len(), 1, "{:?}", v.diagnostics);
    assert_eq!(
        first_attribute(errors(&v.diagnostics)[0]).as_deref(),
        Some("mode")
    );

    let pa = c
        .plan_action(pb::plan_action::Request {
            action_type: POKE.into(),
            config: poke(serde_json::json!({"name": "nowhere"})),
            client_capabilities: requests::client_capabilities(),
        })
        .await
        .expect("PlanAction")
        .into_inner();
    assert_no_errors("PlanAction", &pa.diagnostics);
    assert_eq!(pa.diagnostics[0].summary, "Widget not found");
    assert!(pa.deferred.is_none());

    for (mode, steps, want_error) in [("ok", 3, None), ("fail", 1, Some("Poke failed"))] {
        let mut events = c
            .invoke_action(pb::invoke_action::Request {
                action_type: POKE.into(),
                config: poke(serde_json::json!({"name": "a", "steps": steps, "mode": mode})),
                client_capabilities: requests::client_capabilities(),
            })
            .await
            .expect("InvokeAction")
            .into_inner();
        let mut progress = Vec::new();
        let completed = loop {
            let ev = events
                .message()
                .await
                .expect("InvokeAction event")
                .expect("a completion");
            match ev.r#type {
                Some(pb::invoke_action::event::Type::Progress(p)) => progress.push(p.message),
                Some(pb::invoke_action::event::Type::Completed(done)) => break done,
                None => panic!("an event without type"),
            }
        };
        let want: Vec<String> = (1..=steps).map(|i| format!("poking a: {i}")).collect();
        assert_eq!(progress, want, "{mode}");
        assert_eq!(
            errors(&completed.diagnostics)
                .first()
                .map(|d| d.summary.as_str()),
            want_error,
            "{mode}"
        );
        assert!(
            events.message().await.expect("end").is_none(),
            "{mode}: nothing after the completion"
        );
    }

    // StopProvider while the action runs: it completes with its own error, promptly
    let mut events = c
        .invoke_action(pb::invoke_action::Request {
            action_type: POKE.into(),
            config: poke(serde_json::json!({"name": "a", "steps": 1, "mode": "wait"})),
            client_capabilities: requests::client_capabilities(),
        })
        .await
        .expect("InvokeAction")
        .into_inner();
    let first = events.message().await.expect("event").expect("progress");
    assert!(matches!(
        first.r#type,
        Some(pb::invoke_action::event::Type::Progress(_))
    ));
    c.stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider");
    let last = tokio::time::timeout(Duration::from_secs(5), events.message())
        .await
        .expect("the action completes after StopProvider")
        .expect("event")
        .expect("a completion");
    match last.r#type {
        Some(pb::invoke_action::event::Type::Completed(done)) => {
            assert_eq!(errors(&done.diagnostics)[0].summary, "Poke interrupted")
        }
        other => panic!("expected the completion, got {other:?}"),
    }
    shutdown_cleanly(p).await;
}

/// Create, read and update keep the identity; import by identity and by ID; the read after an
/// import completes it; an update or read that changes it is an error.
#[tokio::test]
async fn identity_round_trips() {
    let (p, mut c) = launch_feat().await;
    let (state, private, identity) = create(&mut c, "a", None).await;
    assert_eq!(identity, ident("a"));

    let r = read(&mut c, &state, private.clone(), Some(&identity)).await;
    assert_no_errors("ReadResource", &r.diagnostics);
    assert_eq!(
        decode_identity(&identity_ty(), &r.new_identity),
        Some(ident("a"))
    );

    // a stored identity that differs from the object's: the read's identity change is an error
    let r = read(&mut c, &state, private.clone(), Some(&ident("zzz"))).await;
    assert_eq!(
        errors(&r.diagnostics)[0].summary,
        "Unexpected Identity Change",
        "{:?}",
        r.diagnostics
    );

    // update: the planned identity is the prior one, and must stay so
    for (note, want_error) in [
        ("fine", None),
        ("drift", Some("Unexpected Identity Change")),
    ] {
        let config = widget(serde_json::json!({"name": "a", "note": note}));
        let proposed = requests::proposed_new_state(&widget_schema(), &state, &config);
        let mut req = requests::plan(
            WIDGET,
            &widget_ty(),
            &state,
            &proposed,
            &config,
            private.clone(),
        );
        req.prior_identity = identity_data(&identity_ty(), &identity);
        let pl = c
            .plan_resource_change(req)
            .await
            .expect("Plan")
            .into_inner();
        assert_no_errors("PlanResourceChange(update)", &pl.diagnostics);
        assert_eq!(
            decode_identity(&identity_ty(), &pl.planned_identity),
            Some(ident("a"))
        );
        let planned = decode(&widget_ty(), &pl.planned_state);
        let mut req = requests::apply(
            WIDGET,
            &widget_ty(),
            &state,
            &planned,
            &config,
            pl.planned_private,
        );
        req.planned_identity = pl.planned_identity.clone();
        let ap = c
            .apply_resource_change(req)
            .await
            .expect("Apply")
            .into_inner();
        assert_eq!(
            errors(&ap.diagnostics).first().map(|d| d.summary.as_str()),
            want_error,
            "{note}"
        );
        assert_eq!(
            decode_identity(&identity_ty(), &ap.new_identity),
            Some(ident("a")),
            "{note}: the stored identity is kept"
        );
    }

    // import by identity: the identity is kept, the read that follows agrees
    let im = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: WIDGET.into(),
            identity: identity_data(&identity_ty(), &ident("a")),
            client_capabilities: requests::client_capabilities(),
            ..Default::default()
        })
        .await
        .expect("ImportResourceState")
        .into_inner();
    assert_no_errors("ImportResourceState(identity)", &im.diagnostics);
    let imported = &im.imported_resources[0];
    assert_eq!(
        decode(&widget_ty(), &imported.state).get("name").as_str(),
        Some("a")
    );
    assert_eq!(
        decode_identity(&identity_ty(), &imported.identity),
        Some(ident("a"))
    );
    let stub = decode(&widget_ty(), &imported.state);
    let r = read(&mut c, &stub, imported.private.clone(), Some(&ident("a"))).await;
    assert_no_errors("ReadResource(after import)", &r.diagnostics);
    assert_eq!(
        decode(&widget_ty(), &r.new_state).get("id").as_str(),
        Some("w-a")
    );
    assert!(
        r.private.is_empty(),
        "the framework's import marker never reaches state"
    );

    // import by ID: no identity yet; the read that follows supplies it
    let im = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: WIDGET.into(),
            id: "a".into(),
            client_capabilities: requests::client_capabilities(),
            ..Default::default()
        })
        .await
        .expect("ImportResourceState")
        .into_inner();
    assert_no_errors("ImportResourceState(id)", &im.diagnostics);
    let imported = &im.imported_resources[0];
    assert!(imported.identity.is_none());
    let stub = decode(&widget_ty(), &imported.state);
    let r = read(&mut c, &stub, imported.private.clone(), None).await;
    assert_no_errors("ReadResource(after import by ID)", &r.diagnostics);
    assert_eq!(
        decode_identity(&identity_ty(), &r.new_identity),
        Some(ident("a"))
    );
    shutdown_cleanly(p).await;
}

/// ValidateListResourceConfig; ListResource honours the limit and include_resource, one event
/// per object with its identity and display name.
#[tokio::test]
async fn list_resources_stream_with_limit() {
    let (p, mut c) = launch_feat().await;
    for n in ["w1", "w2", "w3", "x1"] {
        create(&mut c, n, None).await;
    }
    let lty = Type::object([("prefix", Type::String)]);
    let cfg = |prefix: &str| dynamic_value(&lty, &Value::object([("prefix", Value::from(prefix))]));
    let v = c
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: WIDGET.into(),
            config: cfg("w"),
            include_resource_object: dynamic_value(&Type::Bool, &Value::Bool(true)),
            limit: dynamic_value(&Type::Number, &Value::int(2)),
        })
        .await
        .expect("ValidateListResourceConfig")
        .into_inner();
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);

    for (limit, include, want) in [
        (2, true, vec!["w1", "w2"]),
        (10, false, vec!["w1", "w2", "w3"]),
        (0, true, vec![]),
    ] {
        let mut events = c
            .list_resource(pb::list_resource::Request {
                type_name: WIDGET.into(),
                config: cfg("w"),
                include_resource_object: include,
                limit,
            })
            .await
            .expect("ListResource")
            .into_inner();
        let mut got = Vec::new();
        while let Some(ev) = events.message().await.expect("ListResource event") {
            assert!(ev.diagnostic.is_empty(), "{:?}", ev.diagnostic);
            let id =
                decode_identity(&identity_ty(), &ev.identity).expect("every item has its identity");
            let name = id.get("name").as_str().unwrap_or_default().to_string();
            assert_eq!(ev.display_name, format!("widget {name}"));
            if include {
                let obj = decode(&widget_ty(), &ev.resource_object);
                assert_eq!(obj.get("id").as_str(), Some(format!("w-{name}").as_str()));
            } else {
                assert!(ev.resource_object.is_none(), "objects only when asked for");
            }
            got.push(name);
        }
        assert_eq!(got, want, "limit {limit}");
    }
    shutdown_cleanly(p).await;
}

/// GenerateResourceConfig: what configuration can hold, from a real state.
#[tokio::test]
async fn generate_resource_config() {
    let (p, mut c) = launch_feat().await;
    let (state, _, _) = create(&mut c, "g", Some("keep me")).await;
    let g = c
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: WIDGET.into(),
            state: dynamic_value(&widget_ty(), &state),
        })
        .await
        .expect("GenerateResourceConfig")
        .into_inner();
    assert_no_errors("GenerateResourceConfig", &g.diagnostics);
    let want = widget(serde_json::json!({"name": "g", "note": "keep me"}));
    // id is computed-only, size equals its default, secret is write-only
    assert_eq!(decode(&widget_ty(), &g.config), want);
    shutdown_cleanly(p).await;
}

/// MoveResourceState from the deprecated alias: source type, version, state and identity
/// reach the type; the target state and identity come back. Another source is refused.
#[tokio::test]
async fn move_resource_state_from_the_alias() {
    let (p, mut c) = launch_feat().await;
    let mv = c
        .move_resource_state(pb::move_resource_state::Request {
            source_provider_address: "registry.terraform.io/clouddb/feat".into(),
            source_type_name: GADGET.into(),
            source_schema_version: 0,
            source_state: raw_state_json(
                &br#"{"id": "w-m", "name": "m", "size": 3, "note": null, "secret": null}"#[..],
            ),
            target_type_name: WIDGET.into(),
            source_identity: raw_state_json(&br#"{"name": "m"}"#[..]),
            ..Default::default()
        })
        .await
        .expect("MoveResourceState")
        .into_inner();
    assert_no_errors("MoveResourceState", &mv.diagnostics);
    let moved = decode(&widget_ty(), &mv.target_state);
    assert_eq!(
        moved,
        widget(serde_json::json!({"id": "w-m", "name": "m", "size": 3}))
    );
    assert_eq!(
        decode_identity(&identity_ty(), &mv.target_identity),
        Some(ident("m"))
    );

    let mv = c
        .move_resource_state(pb::move_resource_state::Request {
            source_type_name: "other_thing".into(),
            source_state: raw_state_json(&b"{}"[..]),
            target_type_name: WIDGET.into(),
            ..Default::default()
        })
        .await
        .expect("MoveResourceState")
        .into_inner();
    assert_eq!(errors(&mv.diagnostics)[0].summary, "Move not supported");
    assert!(mv.target_state.is_none());
    shutdown_cleanly(p).await;
}
