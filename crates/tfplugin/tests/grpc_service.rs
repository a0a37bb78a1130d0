//! In-process gRPC tests of the tfplugin6 service: a toy provider served by tonic on
//! 127.0.0.1:0 (plaintext), called through the generated client. Every RPC must answer;
//! garbage DynamicValues and handler panics must come back as error diagnostics.

use async_trait::async_trait;
use std::sync::Arc;
use tfplugin::ProviderService;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::proto::tfplugin6::provider_server::ProviderServer;
use tfplugin::provider::*;
use tfplugin::schema::{Attribute, IdentityAttribute, IdentitySchema, Schema, timeouts};
use tfplugin::testing::diagnostics::{errors, first_attribute};
use tfplugin::testing::garbage::invalid_msgpack;
use tfplugin::testing::requests;
use tfplugin::testing::values::{decode, dynamic_value, json_bytes, raw_state_json};
use tfplugin::value::{Type, Value};
use tokio_stream::StreamExt;
use tonic::transport::Channel;

// ------------------------------------------------------------------ toy provider

struct Toy;
struct Thing;
struct Lookup;
struct Upper;
struct Token;
struct ThingList;

fn thing_schema() -> Schema {
    Schema::new()
        .version(1)
        .attribute(Attribute::string("id").computed().use_state_for_unknown())
        .attribute(Attribute::string("name").required().requires_replace())
        .attribute(Attribute::number("size").optional().default(10))
        .attribute(Attribute::string("endpoint").computed())
        .attribute(Attribute::string("secret").optional().write_only())
        .attribute(Attribute::string("mode").optional())
        .block(timeouts::block(&["create"]))
}

#[async_trait]
impl Provider for Toy {
    type Data = ();
    fn type_name(&self) -> &'static str {
        "toy"
    }
    fn schema(&self) -> Schema {
        Schema::new().attribute(
            Attribute::string("region")
                .optional()
                .validator(tfplugin::schema::validators::one_of(&["eu", "us"])),
        )
    }
    async fn configure(&self, _ctx: &Context, _req: ConfigureRequest) -> Result<(), Diagnostics> {
        Ok(())
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(Lookup)]
    }
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(Upper)]
    }
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![Arc::new(Token)]
    }
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![Arc::new(ThingList)]
    }
}

fn state_from(planned: &Value) -> Value {
    let mut s = planned.clone();
    s.set_attr("id", "t-1".into());
    s.set_attr("endpoint", "thing.example".into());
    s
}

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &'static str {
        "toy_thing"
    }
    fn schema(&self) -> Schema {
        thing_schema()
    }
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema::new().attribute(IdentityAttribute::required("id", Type::String)))
    }
    async fn modify_plan(
        &self,
        _ctx: &Context,
        _data: Option<&()>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) -> Result<(), Diagnostics> {
        if let (Some(old), Some(new)) = (
            req.prior_state.get("size").as_i64(),
            plan.planned_state.get("size").as_i64(),
        ) && new < old
        {
            plan.diagnostics.attribute_error(
                "size",
                "size cannot shrink",
                format!("{old} → {new}"),
            );
        }
        plan.planned_private.set("op", &"pending");
        Ok(())
    }
    async fn create(
        &self,
        _ctx: &Context,
        _data: &(),
        req: CreateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let mut s = state_from(&req.planned_state);
        match req.config.get("mode").as_str() {
            Some("panic") => panic!("boom in create"),
            Some("wait") => {
                tokio::select! {
                    _ = _ctx.stopped() => return Err(Diagnostic::error("Interrupted", "StopProvider received").into()),
                    _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
                }
            }
            Some("wrong") => s.set_attr("size", 999.into()),
            Some("unknown") => s.set_attr("endpoint", Value::unknown()),
            _ => {}
        }
        let mut r = ApplyResult::ok(s).with_private(req.planned_private);
        r.identity = Some(Value::object([("id", Value::from("t-1"))]));
        Ok(r)
    }
    async fn read(
        &self,
        _ctx: &Context,
        _data: &(),
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics> {
        if req.state.get("mode").as_str() == Some("gone") {
            return Ok(ReadResult::gone());
        }
        // the identity is the id: kept as stored, derived after an import by ID
        let id = Value::object([("id", req.state.get("id").clone())]);
        if req.state.get("mode").as_str() == Some("same") {
            return Ok(ReadResult::unchanged(req.private).with_identity(id));
        }
        Ok(ReadResult::found(req.state, req.private).with_identity(id))
    }
    async fn update(
        &self,
        _ctx: &Context,
        _data: &(),
        req: UpdateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        Ok(ApplyResult::ok(req.planned_state.clone()))
    }
    async fn delete(
        &self,
        _ctx: &Context,
        _data: &(),
        _req: DeleteRequest,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }
    async fn import(
        &self,
        _ctx: &Context,
        _data: &(),
        req: ImportRequest,
    ) -> Result<ImportResult, Diagnostics> {
        Ok(ImportResult::passthrough_with_identity("id", "id", &req))
    }
    fn upgrade_state(
        &self,
        from: i64,
        mut state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        assert_eq!(from, 0);
        // v0 called it "capacity"
        if let Some(o) = state.as_object_mut()
            && let Some(c) = o.remove("capacity")
        {
            o.insert("size".into(), c);
        }
        Ok(state)
    }
}

#[async_trait]
impl DataSource for Lookup {
    fn type_name(&self) -> &'static str {
        "toy_lookup"
    }
    fn schema(&self) -> Schema {
        Schema::new()
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::string("value").computed())
    }
    async fn read(
        &self,
        _ctx: &Context,
        _data: &(),
        config: &Value,
    ) -> Result<DataReadResult, Diagnostics> {
        let mut s = config.clone();
        s.set_attr(
            "value",
            Value::from(format!("v-{}", config.get("name").as_str().unwrap_or(""))),
        );
        Ok(DataReadResult {
            state: s,
            diagnostics: Diagnostics::new(),
        })
    }
}

#[async_trait]
impl Function for Upper {
    fn name(&self) -> &'static str {
        "upper"
    }
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![Parameter::new("s", Type::String)],
            variadic: None,
            return_type: Type::String,
            summary: "Uppercase".into(),
            description: String::new(),
            deprecation: None,
        }
    }
    async fn call(&self, _ctx: &Context, args: Vec<Value>) -> Result<Value, FunctionError> {
        match args.first().and_then(Value::as_str) {
            Some("") => Err(FunctionError {
                text: "empty".into(),
                argument: Some(0),
            }),
            Some(s) => Ok(Value::from(s.to_uppercase())),
            None => Err(FunctionError {
                text: "null".into(),
                argument: Some(0),
            }),
        }
    }
}

#[async_trait]
impl EphemeralResource for Token {
    fn type_name(&self) -> &'static str {
        "toy_token"
    }
    fn schema(&self) -> Schema {
        Schema::new().attribute(Attribute::string("token").computed().sensitive())
    }
    async fn open(
        &self,
        _ctx: &Context,
        _data: &(),
        _config: &Value,
    ) -> Result<OpenResult, Diagnostics> {
        let mut p = PrivateState::new();
        p.set("lease", &"l-1");
        Ok(OpenResult {
            result: Value::object([("token", Value::from("tok"))]),
            private: p,
            ..Default::default()
        })
    }
}

#[async_trait]
impl ListResource for ThingList {
    fn type_name(&self) -> &'static str {
        "toy_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new().attribute(Attribute::string("prefix").optional())
    }
    async fn list(
        &self,
        _ctx: &Context,
        _data: &(),
        _req: ListRequest,
        out: &mut ListStream,
    ) -> Result<(), Diagnostics> {
        let _ = out
            .push(ListItem::new(
                "thing one",
                Value::object([("id", Value::from("t-1"))]),
            ))
            .await;
        Ok(())
    }
}

// ------------------------------------------------------------------ harness

async fn client() -> ProviderClient<Channel> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(ProviderServer::new(ProviderService::new(Toy)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await;
    });
    for _ in 0..50 {
        if let Ok(mut c) = ProviderClient::connect(format!("http://{addr}")).await {
            // Terraform configures the provider before any call that needs its data.
            let cfg = Value::object([("region", Value::from("eu"))]);
            let provider_ty = Toy.schema().implied_type();
            let r = c
                .configure_provider(pb::configure_provider::Request {
                    terraform_version: "1.15.5".into(),
                    config: dynamic_value(&provider_ty, &cfg),
                    client_capabilities: None,
                })
                .await
                .expect("configure")
                .into_inner();
            assert!(errors(&r.diagnostics).is_empty(), "{:?}", r.diagnostics);
            return c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("server did not start");
}

fn ty() -> Type {
    thing_schema().implied_type()
}

fn config(name: &str, mode: Option<&str>) -> Value {
    Value::object([
        ("id", Value::Null),
        ("name", Value::from(name)),
        ("size", Value::Null),
        ("endpoint", Value::Null),
        ("secret", Value::from("pw")),
        ("mode", mode.into()),
        ("timeouts", Value::Null),
    ])
}

async fn plan(
    c: &mut ProviderClient<Channel>,
    prior: &Value,
    cfg: &Value,
) -> pb::plan_resource_change::Response {
    // Terraform's proposed state: config, with prior values for computed attributes left unset
    let proposed = requests::proposed_new_state(&thing_schema(), prior, cfg);
    c.plan_resource_change(requests::plan(
        "toy_thing",
        &ty(),
        prior,
        &proposed,
        cfg,
        Vec::new(),
    ))
    .await
    .expect("plan rpc")
    .into_inner()
}

async fn apply(
    c: &mut ProviderClient<Channel>,
    prior: &Value,
    planned: &Value,
    cfg: &Value,
    private: Vec<u8>,
) -> pb::apply_resource_change::Response {
    c.apply_resource_change(requests::apply(
        "toy_thing",
        &ty(),
        prior,
        planned,
        cfg,
        private,
    ))
    .await
    .expect("apply rpc")
    .into_inner()
}

// ------------------------------------------------------------------ tests

/// Schema RPCs describe everything the toy provider has, with the agreed capabilities.
#[tokio::test]
async fn schema_and_metadata() {
    let mut c = client().await;
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("rpc")
        .into_inner();
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let caps = s.server_capabilities.expect("caps");
    assert!(!caps.plan_destroy && caps.get_provider_schema_optional && caps.move_resource_state);
    let thing = &s.resource_schemas["toy_thing"];
    assert_eq!(thing.version, 1);
    let block = thing.block.as_ref().expect("block");
    let secret = block
        .attributes
        .iter()
        .find(|a| a.name == "secret")
        .expect("secret");
    assert!(secret.write_only && secret.optional);
    assert_eq!(
        block
            .attributes
            .iter()
            .find(|a| a.name == "size")
            .map(|a| a.r#type.clone()),
        Some(b"\"number\"".to_vec())
    );
    assert_eq!(block.block_types[0].type_name, "timeouts");
    assert!(s.data_source_schemas.contains_key("toy_lookup"));
    assert!(s.ephemeral_resource_schemas.contains_key("toy_token"));
    assert!(s.list_resource_schemas.contains_key("toy_thing"));
    assert!(s.functions.contains_key("upper"));

    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(m.resources[0].type_name, "toy_thing");
    let ids = c
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        ids.identity_schemas["toy_thing"].identity_attributes[0].name,
        "id"
    );
    let f = c
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        f.functions["upper"]
            .r#return
            .as_ref()
            .map(|r| r.r#type.clone()),
        Some(b"\"string\"".to_vec())
    );
}

/// Create → read → no-op plan → update plan → replace plan → delete, as Terraform drives it.
#[tokio::test]
async fn resource_lifecycle() {
    let mut c = client().await;
    let cfg = config("a", None);
    let p = plan(&mut c, &Value::Null, &cfg).await;
    assert!(errors(&p.diagnostics).is_empty(), "{:?}", p.diagnostics);
    let planned = decode(&ty(), &p.planned_state);
    assert!(planned.get("id").is_unknown() && planned.get("endpoint").is_unknown());
    assert_eq!(planned.get("size").as_i64(), Some(10), "default");
    assert!(planned.get("secret").is_null(), "write-only planned null");
    assert!(
        PrivateState::from_bytes(&p.planned_private)
            .expect("priv")
            .get::<String>("op")
            .is_some()
    );

    let a = apply(
        &mut c,
        &Value::Null,
        &planned,
        &cfg,
        p.planned_private.clone(),
    )
    .await;
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    let state = decode(&ty(), &a.new_state);
    assert_eq!(state.get("id").as_str(), Some("t-1"));
    assert!(!a.private.is_empty(), "private carried through");
    assert!(a.new_identity.is_some());

    let r = c
        .read_resource(pb::read_resource::Request {
            type_name: "toy_thing".into(),
            current_state: dynamic_value(&ty(), &state),
            private: a.private.clone(),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(decode(&ty(), &r.new_state), state);
    assert_eq!(r.private, a.private);

    // no change: planned == prior, nothing unknown
    let p = plan(&mut c, &state, &cfg).await;
    let planned = decode(&ty(), &p.planned_state);
    assert_eq!(planned, state);
    assert!(p.requires_replace.is_empty());

    // size change: update in place, id kept (UseStateForUnknown), endpoint unknown
    let mut cfg2 = cfg.clone();
    cfg2.set_attr("size", 20.into());
    let p = plan(&mut c, &state, &cfg2).await;
    let planned = decode(&ty(), &p.planned_state);
    assert_eq!(planned.get("id").as_str(), Some("t-1"));
    assert!(planned.get("endpoint").is_unknown());
    assert!(p.requires_replace.is_empty());

    // shrink: modify_plan error naming the attribute
    let mut big = state.clone();
    big.set_attr("size", 50.into());
    let p = plan(&mut c, &big, &cfg2).await;
    assert_eq!(
        errors(&p.diagnostics)
            .first()
            .and_then(|d| first_attribute(d))
            .as_deref(),
        Some("size")
    );

    // name change: requires replace on "name" only
    let p = plan(&mut c, &state, &config("b", None)).await;
    assert_eq!(p.requires_replace.len(), 1);
    assert_eq!(
        first_attribute(&pb::Diagnostic {
            attribute: Some(p.requires_replace[0].clone()),
            ..Default::default()
        })
        .as_deref(),
        Some("name")
    );

    // delete
    let d = apply(
        &mut c,
        &state,
        &Value::Null,
        &Value::Null,
        a.private.clone(),
    )
    .await;
    assert!(d.diagnostics.is_empty());
    assert!(decode(&ty(), &d.new_state).is_null());
}

/// A provider bug (returning a value different from the plan) is reported naming the
/// attribute; unknowns are reported and never sent back; a panic is a diagnostic and
/// the plugin keeps serving.
#[tokio::test]
async fn an_unchanged_read_sends_back_the_bytes_it_was_given() {
    let mut c = client().await;
    let mut state = state_from(&config("a", Some("same")));
    state.set_attr("size", 7.into());
    // Terraform's encoder is not ours: 7 as a 64-bit integer instead of a one-byte fixint
    let mut sent = dynamic_value(&ty(), &state).expect("state").msgpack;
    let fixint = b"\xa4size\x07";
    let at = sent
        .windows(fixint.len())
        .position(|w| w == fixint)
        .expect("size in the bytes");
    sent.splice(at + 5..at + 6, *b"\xd3\x00\x00\x00\x00\x00\x00\x00\x07");
    let r = c
        .read_resource(pb::read_resource::Request {
            type_name: "toy_thing".into(),
            current_state: Some(pb::DynamicValue {
                msgpack: sent.clone(),
                json: vec![],
            }),
            private: b"{\"k\":1}".to_vec(),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(
        r.new_state.expect("state").msgpack,
        sent,
        "byte for byte, not re-encoded"
    );
    assert_eq!(r.private, b"{\"k\":1}");
    assert!(r.new_identity.is_some(), "the identity is still settled");
}

#[tokio::test]
async fn apply_result_checks_and_panics() {
    let mut c = client().await;
    for (mode, attr, summary) in [
        ("wrong", "size", "inconsistent"),
        ("unknown", "endpoint", "unknown"),
        ("panic", "", "panicked"),
    ] {
        let cfg = config("a", Some(mode));
        let p = plan(&mut c, &Value::Null, &cfg).await;
        let planned = decode(&ty(), &p.planned_state);
        let a = apply(&mut c, &Value::Null, &planned, &cfg, Vec::new()).await;
        let errs = errors(&a.diagnostics);
        assert_eq!(errs.len(), 1, "{mode}: {:?}", a.diagnostics);
        assert!(
            errs[0].summary.to_lowercase().contains(summary),
            "{mode}: {}",
            errs[0].summary
        );
        if !attr.is_empty() {
            assert_eq!(first_attribute(errs[0]).as_deref(), Some(attr), "{mode}");
            let st = decode(&ty(), &a.new_state);
            assert!(
                st.is_wholly_known(),
                "no unknowns ever go back to Terraform"
            );
        }
    }
    // still alive
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("alive after panic");
}

/// Stored state from schema version 0 goes through the upgrader, unknown attributes are
/// dropped and the answer is msgpack of the current type; flatmap at the current version works.
#[tokio::test]
async fn upgrade_state() {
    let mut c = client().await;
    let raw = br#"{ "id": "t-1", "name": "a", "capacity": 42, "endpoint": "e", "legacy": true }"#;
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "toy_thing".into(),
            version: 0,
            raw_state: raw_state_json(raw.to_vec()),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let v = decode(&ty(), &r.upgraded_state);
    assert_eq!(v.get("size").as_i64(), Some(42));
    assert!(v.get("timeouts").is_null());

    let flat = [("id", "t-1"), ("name", "a"), ("size", "5")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "toy_thing".into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: Vec::new(),
                flatmap: flat,
            }),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(
        decode(&ty(), &r.upgraded_state).get("size").as_i64(),
        Some(5)
    );

    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "toy_thing".into(),
            version: 7,
            raw_state: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&r.diagnostics).len(), 1, "newer version refused");
}

/// Every other RPC answers: data sources, functions, ephemeral, list, import, move,
/// identity, validation, state stores, actions, generate config, stop.
#[tokio::test]
async fn every_other_rpc_answers() {
    let mut c = client().await;
    let pty = Type::object([("region", Type::String)]);
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dynamic_value(&pty, &Value::object([("region", Value::from("mars"))])),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        first_attribute(errors(&v.diagnostics)[0]).as_deref(),
        Some("region")
    );
    let v = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dynamic_value(&pty, &Value::object([("region", Value::from("eu"))])),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(v.diagnostics.is_empty());
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "toy_thing".into(),
            config: dynamic_value(&ty(), &config("a", None)),
            client_capabilities: Some(pb::ClientCapabilities {
                write_only_attributes_allowed: true,
                ..Default::default()
            }),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
    // an older Terraform (no write-only support) is told why `secret` cannot be used
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "toy_thing".into(),
            config: dynamic_value(&ty(), &config("a", None)),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        first_attribute(errors(&v.diagnostics)[0]).as_deref(),
        Some("secret")
    );
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "nope".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&v.diagnostics).len(), 1);

    let lty = Type::object([("name", Type::String), ("value", Type::String)]);
    let lcfg = Value::object([("name", Value::from("x")), ("value", Value::Null)]);
    let v = c
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: "toy_lookup".into(),
            config: dynamic_value(&lty, &lcfg),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(v.diagnostics.is_empty());
    let r = c
        .read_data_source(pb::read_data_source::Request {
            type_name: "toy_lookup".into(),
            config: dynamic_value(&lty, &lcfg),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(decode(&lty, &r.state).get("value").as_str(), Some("v-x"));

    let f = c
        .call_function(pb::call_function::Request {
            name: "upper".into(),
            arguments: vec![dynamic_value(&Type::String, &Value::from("abc")).expect("dv")],
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(decode(&Type::String, &f.result).as_str(), Some("ABC"));
    let f = c
        .call_function(pb::call_function::Request {
            name: "upper".into(),
            arguments: vec![dynamic_value(&Type::String, &Value::from("")).expect("dv")],
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(f.error.and_then(|e| e.function_argument), Some(0));
    let f = c
        .call_function(pb::call_function::Request {
            name: "nope".into(),
            arguments: vec![],
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(f.error.is_some());

    let ety = Type::object([("token", Type::String)]);
    let e = c
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "toy_token".into(),
            config: dynamic_value(&ety, &Value::object([("token", Value::Null)])),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(e.diagnostics.is_empty());
    let o = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "toy_token".into(),
            config: dynamic_value(&ety, &Value::object([("token", Value::Null)])),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(decode(&ety, &o.result).get("token").as_str(), Some("tok"));
    let rn = c
        .renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
            type_name: "toy_token".into(),
            private: o.private.clone(),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(rn.diagnostics.is_empty() && rn.private == o.private);
    let cl = c
        .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
            type_name: "toy_token".into(),
            private: o.private,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(cl.diagnostics.is_empty());

    let listty = Type::object([("prefix", Type::String)]);
    let vl = c
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: "toy_thing".into(),
            config: dynamic_value(&listty, &Value::object([("prefix", Value::Null)])),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(vl.diagnostics.is_empty());
    let mut st = c
        .list_resource(pb::list_resource::Request {
            type_name: "toy_thing".into(),
            config: dynamic_value(&listty, &Value::object([("prefix", Value::Null)])),
            include_resource_object: false,
            limit: 10,
        })
        .await
        .expect("rpc")
        .into_inner();
    let ev = st.next().await.expect("one event").expect("ok");
    assert_eq!(ev.display_name, "thing one");
    assert!(ev.identity.is_some());

    let i = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "toy_thing".into(),
            id: "t-9".into(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        decode(&ty(), &i.imported_resources[0].state)
            .get("id")
            .as_str(),
        Some("t-9")
    );
    let m = c
        .move_resource_state(pb::move_resource_state::Request {
            target_type_name: "toy_thing".into(),
            source_type_name: "other_thing".into(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        errors(&m.diagnostics).len(),
        1,
        "move unsupported by this resource → diagnostic"
    );
    let ui = c
        .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: "toy_thing".into(),
            version: 0,
            raw_identity: raw_state_json(br#"{"id":"t-1"}"#.to_vec()),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(ui.diagnostics.is_empty() && ui.upgraded_identity.is_some());
    let g = c
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: "toy_thing".into(),
            state: dynamic_value(&ty(), &state_from(&config("a", None))),
        })
        .await
        .expect("rpc")
        .into_inner();
    let gen_cfg = decode(&ty(), &g.config);
    assert!(
        gen_cfg.get("endpoint").is_null()
            && gen_cfg.get("id").is_null()
            && gen_cfg.get("name").as_str() == Some("a")
    );

    // state stores and actions: a diagnostic saying so
    let x = c
        .validate_state_store_config(pb::validate_state_store::Request {
            type_name: "s".into(),
            config: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&x.diagnostics).len(), 1);
    let x = c
        .configure_state_store(pb::configure_state_store::Request {
            type_name: "s".into(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&x.diagnostics).len(), 1);
    let x = c
        .get_states(pb::get_states::Request {
            type_name: "s".into(),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&x.diagnostics).len(), 1);
    let x = c
        .delete_state(pb::delete_state::Request {
            type_name: "s".into(),
            state_id: "d".into(),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&x.diagnostics).len(), 1);
    let x = c
        .lock_state(pb::lock_state::Request {
            type_name: "s".into(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&x.diagnostics).len(), 1);
    let x = c
        .unlock_state(pb::unlock_state::Request {
            type_name: "s".into(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&x.diagnostics).len(), 1);
    let mut rs = c
        .read_state_bytes(pb::read_state_bytes::Request {
            type_name: "s".into(),
            state_id: "d".into(),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        errors(&rs.next().await.expect("ev").expect("ok").diagnostics).len(),
        1
    );
    let ws = c
        .write_state_bytes(tokio_stream::iter(vec![
            pb::write_state_bytes::RequestChunk::default(),
        ]))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&ws.diagnostics).len(), 1);
    let x = c
        .plan_action(pb::plan_action::Request {
            action_type: "a".into(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&x.diagnostics).len(), 1);
    let x = c
        .validate_action_config(pb::validate_action_config::Request {
            type_name: "a".into(),
            config: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(errors(&x.diagnostics).len(), 1);
    let mut ia = c
        .invoke_action(pb::invoke_action::Request {
            action_type: "a".into(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(matches!(
        ia.next().await.expect("ev").expect("ok").r#type,
        Some(pb::invoke_action::event::Type::Completed(_))
    ));

    let s = c
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("rpc")
        .into_inner();
    assert!(s.error.is_empty());
}

/// Garbage msgpack in any DynamicValue → an error diagnostic (never a transport error).
#[tokio::test]
async fn garbage_dynamic_values_are_diagnostics() {
    let mut c = client().await;
    let t = "toy_thing".to_string();
    let mut all: Vec<(&str, Vec<pb::Diagnostic>)> = Vec::new();
    all.push((
        "ValidateProviderConfig",
        c.validate_provider_config(pb::validate_provider_config::Request {
            config: invalid_msgpack(),
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "ConfigureProvider",
        c.configure_provider(pb::configure_provider::Request {
            config: invalid_msgpack(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "ValidateResourceConfig",
        c.validate_resource_config(pb::validate_resource_config::Request {
            type_name: t.clone(),
            config: invalid_msgpack(),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "ValidateDataResourceConfig",
        c.validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: "toy_lookup".into(),
            config: invalid_msgpack(),
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "ReadResource",
        c.read_resource(pb::read_resource::Request {
            type_name: t.clone(),
            current_state: invalid_msgpack(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    for (i, name) in [
        "PlanResourceChange/prior",
        "PlanResourceChange/proposed",
        "PlanResourceChange/config",
    ]
    .iter()
    .enumerate()
    {
        let ok = dynamic_value(&ty(), &config("a", None));
        let mut req = pb::plan_resource_change::Request {
            type_name: t.clone(),
            prior_state: ok.clone(),
            proposed_new_state: ok.clone(),
            config: ok,
            ..Default::default()
        };
        *[
            &mut req.prior_state,
            &mut req.proposed_new_state,
            &mut req.config,
        ][i] = invalid_msgpack();
        all.push((
            name,
            c.plan_resource_change(req)
                .await
                .expect("rpc")
                .into_inner()
                .diagnostics,
        ));
    }
    for (i, name) in [
        "ApplyResourceChange/prior",
        "ApplyResourceChange/planned",
        "ApplyResourceChange/config",
    ]
    .iter()
    .enumerate()
    {
        let ok = dynamic_value(&ty(), &config("a", None));
        let mut req = pb::apply_resource_change::Request {
            type_name: t.clone(),
            prior_state: ok.clone(),
            planned_state: ok.clone(),
            config: ok,
            ..Default::default()
        };
        *[
            &mut req.prior_state,
            &mut req.planned_state,
            &mut req.config,
        ][i] = invalid_msgpack();
        all.push((
            name,
            c.apply_resource_change(req)
                .await
                .expect("rpc")
                .into_inner()
                .diagnostics,
        ));
    }
    all.push((
        "ReadDataSource",
        c.read_data_source(pb::read_data_source::Request {
            type_name: "toy_lookup".into(),
            config: invalid_msgpack(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "ValidateEphemeral",
        c.validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "toy_token".into(),
            config: invalid_msgpack(),
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "OpenEphemeral",
        c.open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "toy_token".into(),
            config: invalid_msgpack(),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "ValidateList",
        c.validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: t.clone(),
            config: invalid_msgpack(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    let mut ls = c
        .list_resource(pb::list_resource::Request {
            type_name: t.clone(),
            config: invalid_msgpack(),
            include_resource_object: false,
            limit: 1,
        })
        .await
        .expect("rpc")
        .into_inner();
    all.push((
        "ListResource",
        ls.next().await.expect("ev").expect("ok").diagnostic,
    ));
    all.push((
        "GenerateResourceConfig",
        c.generate_resource_config(pb::generate_resource_config::Request {
            type_name: t.clone(),
            state: invalid_msgpack(),
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "UpgradeResourceState",
        c.upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: t.clone(),
            version: 1,
            raw_state: raw_state_json(b"{not json".to_vec()),
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "UpgradeResourceIdentity",
        c.upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: t.clone(),
            version: 0,
            raw_identity: raw_state_json(b"[".to_vec()),
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "ReadResource/identity",
        c.read_resource(pb::read_resource::Request {
            type_name: t.clone(),
            current_state: dynamic_value(&ty(), &config("a", None)),
            current_identity: Some(pb::ResourceIdentityData {
                identity_data: invalid_msgpack(),
            }),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    all.push((
        "ReadResource/private",
        c.read_resource(pb::read_resource::Request {
            type_name: t.clone(),
            current_state: dynamic_value(&ty(), &config("a", None)),
            private: b"\xff garbage".to_vec(),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    let bad_json = Some(json_bytes(&b"{\"name\": [1,2"[..]));
    all.push((
        "ValidateResourceConfig/json",
        c.validate_resource_config(pb::validate_resource_config::Request {
            type_name: t.clone(),
            config: bad_json,
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner()
        .diagnostics,
    ));
    let f = c
        .call_function(pb::call_function::Request {
            name: "upper".into(),
            arguments: vec![invalid_msgpack().expect("dv")],
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        f.error.and_then(|e| e.function_argument),
        Some(0),
        "CallFunction"
    );

    for (name, d) in all {
        assert!(
            !errors(&d).is_empty(),
            "{name}: expected an error diagnostic, got {d:?}"
        );
    }
    // and the server is still healthy
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("alive");
}

/// A wrongly typed but well-formed value names the attribute.
#[tokio::test]
async fn type_mismatch_names_attribute() {
    let mut c = client().await;
    let wrong = Type::object([("name", Type::Number)]);
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "toy_thing".into(),
            config: dynamic_value(&wrong, &Value::object([("name", Value::int(1))])),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    let e = errors(&v.diagnostics);
    assert_eq!(
        first_attribute(e[0]).as_deref(),
        Some("name"),
        "{:?}",
        v.diagnostics
    );
}

/// Stored state whose value does not fit the schema names the attribute.
#[tokio::test]
async fn stored_state_mismatch_names_attribute() {
    let mut c = client().await;
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "toy_thing".into(),
            version: 1,
            raw_state: raw_state_json(br#"{ "id": "t-1", "name": "a", "size": "many" }"#.to_vec()),
        })
        .await
        .expect("rpc")
        .into_inner();
    let e = errors(&r.diagnostics);
    assert_eq!(e.len(), 1, "{:?}", r.diagnostics);
    assert_eq!(
        first_attribute(e[0]).as_deref(),
        Some("size"),
        "{:?}",
        r.diagnostics
    );
}

/// StopProvider interrupts an in-flight create through `Context::stopped`, and calls made
/// afterwards are not stopped.
#[tokio::test]
async fn stop_provider_interrupts_in_flight_calls() {
    let mut c = client().await;
    let cfg = config("a", Some("wait"));
    let planned = decode(&ty(), &plan(&mut c, &Value::Null, &cfg).await.planned_state);
    let mut c2 = c.clone();
    let running =
        tokio::spawn(async move { apply(&mut c2, &Value::Null, &planned, &cfg, Vec::new()).await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    c.stop_provider(pb::stop_provider::Request {})
        .await
        .expect("stop");
    let a = tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .expect("finished promptly")
        .expect("join");
    assert_eq!(errors(&a.diagnostics)[0].summary, "Interrupted");
    // the next run is unaffected
    let p = plan(&mut c, &Value::Null, &config("b", None)).await;
    let planned = decode(&ty(), &p.planned_state);
    let a = apply(
        &mut c,
        &Value::Null,
        &planned,
        &config("b", None),
        Vec::new(),
    )
    .await;
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
}
