//! Protocol-level tests of the real `terraform-provider-clouddb` binary through the project's own
//! tfplugin6 client (`tfplugin::testing`), launched exactly like Terraform launches it: go-plugin
//! environment, a P-521 CA-marked client certificate in `PLUGIN_CLIENT_CERT`, mutual TLS over the unix
//! socket from the handshake line.
//!
//! - `every_rpc_answers_over_mtls`: every RPC of `proto/tfplugin6.proto` answers with gRPC OK and a
//!   well-formed response (a real create/update/delete against a `clouddb-server`; for kinds the provider
//!   lacks, an error diagnostic saying what is unsupported), then Shutdown exits cleanly within 2 s.
//! - `garbage_dynamic_values_are_error_diagnostics`: bad msgpack, bad JSON, bad stored state and bad
//!   private bytes in every request that carries them are error diagnostics, never a transport error or
//!   a panic, and the process keeps answering.
//! - `mtls_refuses_*`: no client certificate / a different one is refused by the real binary.
//! - `run_by_hand_prints_plugin_message`: no magic cookie → friendly message on stderr, exit 1.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use terraform_provider_clouddb::CloudDbProvider;
use terraform_provider_clouddb::client::{Client, ClientConfig};
use terraform_provider_clouddb::resources::instance;
use tfplugin::proto::health::HealthCheckRequest;
use tfplugin::proto::health::health_check_response::ServingStatus;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::provider::Provider;
use tfplugin::testing::{ClientAuth, LaunchOptions, ProviderProcess};
use tfplugin::value::{Type, Value, json as cty_json, msgpack};
use tonic::transport::Channel;

const INSTANCE: &str = "clouddb_instance";
/// Long and distinctive, so the test can assert it never appears in the provider's logs.
const TOKEN: &str = "proto-secret-token-5f0c2a9e";
const PROJECT: &str = "proto";

// ------------------------------------------------------------------ processes

fn provider_binary() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-clouddb")
}

/// A `clouddb-server` child on a free loopback port with instant operations; killed on drop.
struct Server {
    child: Child,
    endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("CLOUDDB_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let p = Path::new(provider_binary()).with_file_name("clouddb-server");
    assert!(
        p.is_file(),
        "clouddb-server not found at {}: run `cargo build --workspace --bins` first or set CLOUDDB_SERVER_BIN",
        p.display()
    );
    p
}

fn start_server() -> Server {
    let mut child = Command::new(server_binary())
        .args(["--listen", "127.0.0.1:0", "--in-memory"])
        .args(["--token", &format!("{TOKEN}={PROJECT}")])
        .args(["--admin-token", "proto-admin"])
        .args(["--provision-time", "0", "--update-time", "0"])
        .args(["--delete-time", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn clouddb-server");
    let stdout = child.stdout.take().expect("server stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).expect("read server stdout");
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    let endpoint = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first server line: {line:?}"))
        .to_string();
    Server { child, endpoint }
}

/// Launch options like Terraform's, without CLOUDDB_* from the test environment (the tests decide
/// the configuration) and with debug logs (collected, and checked for secrets and panics).
fn options(auth: ClientAuth) -> LaunchOptions {
    LaunchOptions {
        auth,
        env: vec![
            ("CLOUDDB_ENDPOINT".into(), None),
            ("CLOUDDB_TOKEN".into(), None),
            ("CLOUDDB_PROJECT".into(), None),
            ("TF_LOG".into(), Some("debug".into())),
        ],
        ..LaunchOptions::default()
    }
}

async fn launch() -> ProviderProcess {
    ProviderProcess::launch_with(provider_binary(), options(ClientAuth::Terraform))
        .await
        .expect("launch terraform-provider-clouddb")
}

async fn assert_serving(p: &mut ProviderProcess, when: &str) {
    let r = p
        .health
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap_or_else(|e| panic!("health check {when}: {e}"))
        .into_inner();
    assert_eq!(r.status, ServingStatus::Serving as i32, "{when}");
    let s = p
        .provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap_or_else(|e| panic!("GetProviderSchema {when}: {e}"))
        .into_inner();
    assert!(s.resource_schemas.contains_key(INSTANCE), "{when}");
}

/// Shutdown: a clean exit within 2 s, nothing on stdout but the handshake, the socket removed, and
/// no panic or secret in the logs.
async fn shutdown_cleanly(mut p: ProviderProcess) {
    let socket = PathBuf::from(&p.handshake.address);
    let (status, elapsed) = p.shutdown().await.expect("shutdown");
    assert!(status.success(), "exit status {status:?}");
    assert!(elapsed < Duration::from_secs(2), "exit took {elapsed:?}");
    assert!(!socket.exists(), "socket {} not removed", socket.display());
    assert!(
        p.stdout_after_handshake().is_empty(),
        "stdout after the handshake line: {:?}",
        String::from_utf8_lossy(&p.stdout_after_handshake())
    );
    let logs = p.stderr();
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
    assert!(
        !logs.contains("panicked"),
        "a handler panicked:\n{}",
        logs.lines()
            .filter(|l| l.contains("panicked"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ------------------------------------------------------------------ values

fn instance_ty() -> Type {
    instance::schema().implied_type()
}

fn provider_ty() -> Type {
    CloudDbProvider::new().schema().implied_type()
}

/// A value of `ty` from JSON (missing attributes are null).
fn val(ty: &Type, j: serde_json::Value) -> Value {
    cty_json::decode(ty, j.to_string().as_bytes()).expect("test value fits the type")
}

fn dv(ty: &Type, v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(ty, v).expect("encode"),
        json: Vec::new(),
    })
}

fn decode(ty: &Type, d: &Option<pb::DynamicValue>) -> Value {
    msgpack::decode(ty, &d.as_ref().expect("a value").msgpack).expect("decode msgpack")
}

fn errors(d: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    d.iter()
        .filter(|x| x.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

fn no_errors(what: &str, d: &[pb::Diagnostic]) {
    assert!(errors(d).is_empty(), "{what}: unexpected errors {d:?}");
}

fn first_attr(d: &pb::Diagnostic) -> Option<String> {
    use pb::attribute_path::step::Selector;
    d.attribute
        .as_ref()?
        .steps
        .first()
        .and_then(|s| match &s.selector {
            Some(Selector::AttributeName(n)) => Some(n.clone()),
            _ => None,
        })
}

/// Exactly the "unsupported" answer: one error diagnostic whose text names the kind and the name.
fn unsupported(what: &str, d: &[pb::Diagnostic], kind: &str, name: &str) {
    let e = errors(d);
    assert_eq!(e.len(), 1, "{what}: {d:?}");
    let text = format!("{} {}", e[0].summary, e[0].detail);
    assert!(
        text.contains(kind) && text.contains(name),
        "{what}: the diagnostic should say {kind} {name:?} is unsupported: {text}"
    );
}

/// Terraform's proposed new state: configured values, and the prior values of computed attributes
/// the configuration leaves null.
fn proposed(prior: &Value, config: &Value) -> Value {
    if prior.is_null() {
        return config.clone();
    }
    let mut out = config.clone();
    for a in &instance::schema().block.attributes {
        if a.computed && config.get(&a.name).is_null() {
            out.set_attr(a.name.clone(), prior.get(&a.name).clone());
        }
    }
    out
}

fn instance_config(name: &str, tier: &str) -> Value {
    val(
        &instance_ty(),
        json!({"name": name, "tier": tier, "storage_gb": 20, "labels": {"suite": "protocol"}}),
    )
}

async fn plan(
    c: &mut ProviderClient<Channel>,
    prior: &Value,
    config: &Value,
    prior_private: Vec<u8>,
) -> pb::plan_resource_change::Response {
    let t = instance_ty();
    c.plan_resource_change(pb::plan_resource_change::Request {
        type_name: INSTANCE.into(),
        prior_state: dv(&t, prior),
        proposed_new_state: dv(&t, &proposed(prior, config)),
        config: dv(&t, config),
        prior_private,
        client_capabilities: Some(pb::ClientCapabilities {
            deferral_allowed: true,
            write_only_attributes_allowed: true,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .expect("PlanResourceChange")
    .into_inner()
}

async fn apply(
    c: &mut ProviderClient<Channel>,
    prior: &Value,
    planned: &Value,
    config: &Value,
    planned_private: Vec<u8>,
) -> pb::apply_resource_change::Response {
    let t = instance_ty();
    c.apply_resource_change(pb::apply_resource_change::Request {
        type_name: INSTANCE.into(),
        prior_state: dv(&t, prior),
        planned_state: dv(&t, planned),
        config: dv(&t, config),
        planned_private,
        ..Default::default()
    })
    .await
    .expect("ApplyResourceChange")
    .into_inner()
}

fn api_client(server: &Server) -> Client {
    Client::new(ClientConfig::new(&server.endpoint, TOKEN, PROJECT)).expect("API client")
}

// ------------------------------------------------------------------ every RPC

/// Every tfplugin6 RPC over the Terraform-like mTLS connection, with a real create → read → update →
/// import → delete of a `clouddb_instance` against a `clouddb-server`; then Shutdown.
#[tokio::test]
async fn every_rpc_answers_over_mtls() {
    let started = Instant::now();
    let server = start_server();
    let api = api_client(&server);
    let mut p = launch().await;
    assert_eq!((p.handshake.core_version, p.handshake.app_version), (1, 6));
    assert_eq!(p.handshake.network, "unix");
    assert!(p.handshake.server_cert.is_some(), "AutoMTLS is on");
    assert_serving(&mut p, "after launch").await;
    assert_eq!(p.negotiated_alpn().as_deref(), Some(&b"h2"[..]));
    let mut c = p.provider.clone();
    let ity = instance_ty();
    let pty = provider_ty();

    // ---- GetMetadata
    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("GetMetadata")
        .into_inner();
    no_errors("GetMetadata", &m.diagnostics);
    let names: Vec<&str> = m.resources.iter().map(|r| r.type_name.as_str()).collect();
    assert_eq!(names, vec![INSTANCE]);
    assert!(m.data_sources.is_empty() && m.ephemeral_resources.is_empty());
    assert!(m.functions.is_empty() && m.list_resources.is_empty());
    assert!(m.state_stores.is_empty() && m.actions.is_empty());
    let caps = m.server_capabilities.expect("server capabilities");
    assert!(caps.get_provider_schema_optional);

    // ---- GetProviderSchema
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    no_errors("GetProviderSchema", &s.diagnostics);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let provider = s.provider.as_ref().and_then(|p| p.block.as_ref());
    let provider = provider.expect("provider schema block");
    let pattr = |n: &str| {
        provider
            .attributes
            .iter()
            .find(|a| a.name == n)
            .unwrap_or_else(|| panic!("provider attribute {n} missing"))
    };
    for (n, ty) in [
        ("endpoint", "\"string\""),
        ("token", "\"string\""),
        ("project", "\"string\""),
        ("request_timeout", "\"string\""),
        ("max_retries", "\"number\""),
    ] {
        let a = pattr(n);
        assert!(a.optional && !a.required && !a.computed, "{n}: {a:?}");
        assert_eq!(String::from_utf8_lossy(&a.r#type), ty, "{n}");
        assert!(!a.description.is_empty(), "{n} has a description");
        assert_eq!(a.sensitive, n == "token", "only token is sensitive ({n})");
    }
    let inst = &s.resource_schemas[INSTANCE];
    assert_eq!(inst.version, 1);
    let block = inst.block.as_ref().expect("instance block");
    let rattr = |n: &str| {
        block
            .attributes
            .iter()
            .find(|a| a.name == n)
            .unwrap_or_else(|| panic!("clouddb_instance attribute {n} missing"))
    };
    assert!(rattr("name").required);
    // tier and storage_gb default to db-small and 20 GB.
    for n in ["tier", "storage_gb"] {
        let a = rattr(n);
        assert!(a.optional && a.computed && !a.required, "{n}: {a:?}");
    }
    assert!(rattr("id").computed && !rattr("id").optional);
    assert!(rattr("engine").optional && rattr("engine").computed);
    assert!(rattr("admin_password").sensitive);
    assert_eq!(
        String::from_utf8_lossy(&rattr("labels").r#type),
        r#"["map","string"]"#
    );
    let backup = rattr("backup")
        .nested_type
        .as_ref()
        .expect("backup is a nested attribute");
    assert_eq!(
        backup.nesting,
        pb::schema::object::NestingMode::Single as i32
    );
    let timeouts = block
        .block_types
        .iter()
        .find(|b| b.type_name == "timeouts")
        .expect("timeouts block");
    let tnames: Vec<&str> = timeouts
        .block
        .as_ref()
        .map(|b| b.attributes.iter().map(|a| a.name.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(tnames, vec!["create", "update", "delete"]);
    assert!(s.data_source_schemas.is_empty() && s.functions.is_empty());
    assert!(s.ephemeral_resource_schemas.is_empty() && s.list_resource_schemas.is_empty());
    assert!(s.state_store_schemas.is_empty() && s.action_schemas.is_empty());
    assert!(s.server_capabilities.is_some());

    // ---- GetResourceIdentitySchemas: clouddb_instance has no identity → the empty answer
    let ids = c
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("GetResourceIdentitySchemas")
        .into_inner();
    no_errors("GetResourceIdentitySchemas", &ids.diagnostics);
    assert!(
        ids.identity_schemas.is_empty(),
        "{:?}",
        ids.identity_schemas
    );

    // ---- GetFunctions: none
    let f = c
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("GetFunctions")
        .into_inner();
    no_errors("GetFunctions", &f.diagnostics);
    assert!(f.functions.is_empty());

    // ---- ValidateProviderConfig: good, unknown (tolerated), bad (names the attributes)
    let good = val(
        &pty,
        json!({"endpoint": server.endpoint, "token": TOKEN, "project": PROJECT,
               "request_timeout": "10s", "max_retries": 2, "poll_interval": "50ms"}),
    );
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dv(&pty, &good),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    no_errors("ValidateProviderConfig(good)", &v.diagnostics);
    let mut unknown = good.clone();
    unknown.set_attr("endpoint", Value::unknown());
    unknown.set_attr("max_retries", Value::unknown());
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dv(&pty, &unknown),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    no_errors("ValidateProviderConfig(unknown)", &v.diagnostics);
    let bad = val(
        &pty,
        json!({"endpoint": "ftp://127.0.0.1:1", "max_retries": 99, "request_timeout": "soon"}),
    );
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dv(&pty, &bad),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    let mut bad_attrs: Vec<String> = errors(&v.diagnostics)
        .into_iter()
        .filter_map(first_attr)
        .collect();
    bad_attrs.sort();
    bad_attrs.dedup();
    assert_eq!(
        bad_attrs,
        vec!["endpoint", "max_retries", "request_timeout"],
        "{:?}",
        v.diagnostics
    );
    // The JSON encoding of a DynamicValue is accepted too.
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: Some(pb::DynamicValue {
                msgpack: Vec::new(),
                json: json!({"endpoint": "http://127.0.0.1:1", "max_retries": 3})
                    .to_string()
                    .into_bytes(),
            }),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    no_errors("ValidateProviderConfig(JSON)", &v.diagnostics);

    // ---- ConfigureProvider against the real server
    let v = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dv(&pty, &good),
            client_capabilities: Some(pb::ClientCapabilities {
                deferral_allowed: true,
                write_only_attributes_allowed: true,
                ..Default::default()
            }),
        })
        .await
        .expect("ConfigureProvider")
        .into_inner();
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);

    // ---- ValidateResourceConfig
    let name = "proto-db";
    let cfg = instance_config(name, "db-small");
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: INSTANCE.into(),
            config: dv(&ity, &cfg),
            client_capabilities: None,
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    no_errors("ValidateResourceConfig", &v.diagnostics);
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: INSTANCE.into(),
            config: dv(&ity, &instance_config("Bad_Name", "db-huge")),
            client_capabilities: None,
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    let mut attrs: Vec<String> = errors(&v.diagnostics)
        .into_iter()
        .filter_map(first_attr)
        .collect();
    attrs.sort();
    assert_eq!(attrs, vec!["name", "tier"], "{:?}", v.diagnostics);
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "clouddb_nope".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    unsupported(
        "ValidateResourceConfig(unknown type)",
        &v.diagnostics,
        "resource type",
        "clouddb_nope",
    );

    // ---- Validate{DataResource,EphemeralResource,ListResource}Config: kinds this provider lacks
    let v = c
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: "clouddb_instance".into(),
            config: dv(&ity, &cfg),
        })
        .await
        .expect("ValidateDataResourceConfig")
        .into_inner();
    unsupported(
        "ValidateDataResourceConfig",
        &v.diagnostics,
        "data source",
        INSTANCE,
    );
    let v = c
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "clouddb_token".into(),
            config: None,
        })
        .await
        .expect("ValidateEphemeralResourceConfig")
        .into_inner();
    unsupported(
        "ValidateEphemeralResourceConfig",
        &v.diagnostics,
        "ephemeral resource",
        "clouddb_token",
    );
    let v = c
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: INSTANCE.into(),
            config: None,
            include_resource_object: dv(&Type::Bool, &Value::Bool(true)),
            limit: dv(&Type::Number, &Value::int(10)),
        })
        .await
        .expect("ValidateListResourceConfig")
        .into_inner();
    unsupported(
        "ValidateListResourceConfig",
        &v.diagnostics,
        "list resource",
        INSTANCE,
    );

    // ---- PlanResourceChange (create) → ApplyResourceChange (a real create)
    let pl = plan(&mut c, &Value::Null, &cfg, Vec::new()).await;
    no_errors("PlanResourceChange(create)", &pl.diagnostics);
    let planned = decode(&ity, &pl.planned_state);
    assert!(planned.get("id").is_unknown() && planned.get("endpoint_host").is_unknown());
    assert_eq!(planned.get("engine").as_str(), Some("mysql"), "default");
    assert!(pl.requires_replace.is_empty());
    let ap = apply(
        &mut c,
        &Value::Null,
        &planned,
        &cfg,
        pl.planned_private.clone(),
    )
    .await;
    no_errors("ApplyResourceChange(create)", &ap.diagnostics);
    let state = decode(&ity, &ap.new_state);
    assert!(state.is_wholly_known(), "{state:?}");
    assert_eq!(state.get("id").as_str(), Some(name));
    assert_eq!(state.get("state").as_str(), Some("READY"));
    assert!(state.get("endpoint_port").as_i64().is_some_and(|p| p > 0));
    let on_server = api.get_instance(name).await.expect("GET").expect("created");
    assert_eq!(on_server.tier, "db-small");

    // ---- ReadResource: unchanged
    let r = c
        .read_resource(pb::read_resource::Request {
            type_name: INSTANCE.into(),
            current_state: dv(&ity, &state),
            private: ap.private.clone(),
            ..Default::default()
        })
        .await
        .expect("ReadResource")
        .into_inner();
    no_errors("ReadResource", &r.diagnostics);
    assert_eq!(decode(&ity, &r.new_state), state);
    let private = r.private;

    // ---- PlanResourceChange: no-op, then an in-place update, applied
    let pl = plan(&mut c, &state, &cfg, private.clone()).await;
    no_errors("PlanResourceChange(no-op)", &pl.diagnostics);
    assert_eq!(decode(&ity, &pl.planned_state), state, "no-op plan");
    let cfg2 = instance_config(name, "db-standard-2");
    let pl = plan(&mut c, &state, &cfg2, private.clone()).await;
    no_errors("PlanResourceChange(update)", &pl.diagnostics);
    assert!(pl.requires_replace.is_empty(), "tier changes in place");
    let planned = decode(&ity, &pl.planned_state);
    assert_eq!(planned.get("tier").as_str(), Some("db-standard-2"));
    let ap = apply(&mut c, &state, &planned, &cfg2, pl.planned_private.clone()).await;
    no_errors("ApplyResourceChange(update)", &ap.diagnostics);
    let state = decode(&ity, &ap.new_state);
    assert_eq!(state.get("tier").as_str(), Some("db-standard-2"));
    let on_server = api.get_instance(name).await.expect("GET").expect("exists");
    assert_eq!(on_server.tier, "db-standard-2");
    // A name change requires replacement, on `name`.
    let pl = plan(
        &mut c,
        &state,
        &instance_config("proto-db-2", "db-standard-2"),
        ap.private.clone(),
    )
    .await;
    no_errors("PlanResourceChange(replace)", &pl.diagnostics);
    let rr: Vec<String> = pl
        .requires_replace
        .iter()
        .filter_map(|p| {
            first_attr(&pb::Diagnostic {
                attribute: Some(p.clone()),
                ..Default::default()
            })
        })
        .collect();
    assert_eq!(rr, vec!["name"]);

    // ---- ImportResourceState: by name
    let im = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: INSTANCE.into(),
            id: name.into(),
            ..Default::default()
        })
        .await
        .expect("ImportResourceState")
        .into_inner();
    no_errors("ImportResourceState", &im.diagnostics);
    assert_eq!(im.imported_resources.len(), 1);
    assert_eq!(im.imported_resources[0].type_name, INSTANCE);
    let imported = decode(&ity, &im.imported_resources[0].state);
    assert_eq!(imported.get("name").as_str(), Some(name));
    assert_eq!(imported.get("tier").as_str(), Some("db-standard-2"));
    let im = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: INSTANCE.into(),
            id: "proto-missing".into(),
            ..Default::default()
        })
        .await
        .expect("ImportResourceState")
        .into_inner();
    assert!(
        !errors(&im.diagnostics).is_empty(),
        "importing a missing instance fails"
    );
    assert!(im.imported_resources.is_empty());

    // ---- GenerateResourceConfig: computed-only attributes dropped
    let g = c
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: INSTANCE.into(),
            state: dv(&ity, &state),
        })
        .await
        .expect("GenerateResourceConfig")
        .into_inner();
    no_errors("GenerateResourceConfig", &g.diagnostics);
    let gen_cfg = decode(&ity, &g.config);
    assert_eq!(gen_cfg.get("name").as_str(), Some(name));
    assert!(gen_cfg.get("id").is_null() && gen_cfg.get("endpoint_host").is_null());

    // ---- MoveResourceState: clouddb_instance does not accept moves
    let mv = c
        .move_resource_state(pb::move_resource_state::Request {
            source_provider_address: "registry.terraform.io/other/other".into(),
            source_type_name: "other_db".into(),
            source_schema_version: 0,
            source_state: Some(pb::RawState {
                json: br#"{"id":"x"}"#.to_vec(),
                flatmap: Default::default(),
            }),
            target_type_name: INSTANCE.into(),
            ..Default::default()
        })
        .await
        .expect("MoveResourceState")
        .into_inner();
    assert_eq!(errors(&mv.diagnostics).len(), 1, "{:?}", mv.diagnostics);
    let mv = c
        .move_resource_state(pb::move_resource_state::Request {
            target_type_name: "clouddb_nope".into(),
            ..Default::default()
        })
        .await
        .expect("MoveResourceState")
        .into_inner();
    unsupported(
        "MoveResourceState(unknown)",
        &mv.diagnostics,
        "resource type",
        "clouddb_nope",
    );

    // ---- UpgradeResourceState: JSON v0 → v1, JSON v1, flatmap v1, newer version refused
    let v0 = json!({
        "id": name, "name": name, "engine": "mysql", "engine_version": "8.0", "tier": "db-small",
        "storage_gb": "20", "high_availability": false, "admin_username": "dbadmin", "admin_password": null,
        "labels": {"suite": "protocol"}, "deletion_protection": false, "backup_enabled": true,
        "backup_start_time": "02:30", "backup_retention_days": 14, "endpoint": "proto-db.internal:3306",
        "state": "READY", "created_at": "2025-01-01T00:00:00Z", "timeouts": null
    });
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: v0.to_string().into_bytes(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    no_errors("UpgradeResourceState(v0 JSON)", &up.diagnostics);
    let u = decode(&ity, &up.upgraded_state);
    assert_eq!(u.get("backup").get("retention_days").as_i64(), Some(14));
    assert_eq!(u.get("backup").get("start_time").as_str(), Some("02:30"));
    assert_eq!(u.get("endpoint_host").as_str(), Some("proto-db.internal"));
    assert_eq!(u.get("endpoint_port").as_i64(), Some(3306));
    assert_eq!(u.get("storage_gb").as_i64(), Some(20));
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: json!({"id": name, "name": name, "tier": "db-small", "storage_gb": 20,
                             "backup": {"enabled": true, "start_time": "01:00", "retention_days": 7},
                             "no_longer_in_schema": 1})
                .to_string()
                .into_bytes(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    no_errors("UpgradeResourceState(v1 JSON)", &up.diagnostics);
    assert_eq!(
        decode(&ity, &up.upgraded_state)
            .get("backup")
            .get("start_time")
            .as_str(),
        Some("01:00")
    );
    let flat = [
        ("id", "proto-flat"),
        ("name", "proto-flat"),
        ("tier", "db-small"),
        ("storage_gb", "30"),
        ("high_availability", "true"),
        ("labels.%", "1"),
        ("labels.team", "core"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: Vec::new(),
                flatmap: flat,
            }),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    no_errors("UpgradeResourceState(flatmap)", &up.diagnostics);
    let u = decode(&ity, &up.upgraded_state);
    assert_eq!(u.get("storage_gb").as_i64(), Some(30));
    assert_eq!(u.get("high_availability").as_bool(), Some(true));
    assert_eq!(u.get("labels").get("team").as_str(), Some("core"));
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 2,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    assert_eq!(
        errors(&up.diagnostics).len(),
        1,
        "state from a newer provider is refused"
    );

    // ---- UpgradeResourceIdentity: no identity schema → says so
    let ui = c
        .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: INSTANCE.into(),
            version: 0,
            raw_identity: Some(pb::RawState {
                json: br#"{"name":"proto-db"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("UpgradeResourceIdentity")
        .into_inner();
    unsupported(
        "UpgradeResourceIdentity",
        &ui.diagnostics,
        "identity",
        INSTANCE,
    );
    assert!(ui.upgraded_identity.is_none());

    // ---- ReadDataSource, ephemeral resources: none
    let rd = c
        .read_data_source(pb::read_data_source::Request {
            type_name: "clouddb_instance".into(),
            config: dv(&ity, &cfg),
            ..Default::default()
        })
        .await
        .expect("ReadDataSource")
        .into_inner();
    unsupported("ReadDataSource", &rd.diagnostics, "data source", INSTANCE);
    let o = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "clouddb_token".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .expect("OpenEphemeralResource")
        .into_inner();
    unsupported(
        "OpenEphemeralResource",
        &o.diagnostics,
        "ephemeral resource",
        "clouddb_token",
    );
    let rn = c
        .renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
            type_name: "clouddb_token".into(),
            private: Some(Vec::new()),
        })
        .await
        .expect("RenewEphemeralResource")
        .into_inner();
    unsupported(
        "RenewEphemeralResource",
        &rn.diagnostics,
        "ephemeral resource",
        "clouddb_token",
    );
    let cl = c
        .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
            type_name: "clouddb_token".into(),
            private: None,
        })
        .await
        .expect("CloseEphemeralResource")
        .into_inner();
    unsupported(
        "CloseEphemeralResource",
        &cl.diagnostics,
        "ephemeral resource",
        "clouddb_token",
    );

    // ---- CallFunction: none
    let cf = c
        .call_function(pb::call_function::Request {
            name: "parse_endpoint".into(),
            arguments: vec![dv(&Type::String, &Value::from("h:1")).expect("dv")],
        })
        .await
        .expect("CallFunction")
        .into_inner();
    let fe = cf.error.expect("a function error");
    assert!(fe.text.contains("parse_endpoint"), "{}", fe.text);
    assert!(cf.result.is_none());

    // ---- ListResource: none (one event carrying the diagnostic, then end of stream)
    let mut ls = c
        .list_resource(pb::list_resource::Request {
            type_name: INSTANCE.into(),
            config: None,
            include_resource_object: true,
            limit: 10,
        })
        .await
        .expect("ListResource")
        .into_inner();
    let ev = ls
        .message()
        .await
        .expect("ListResource event")
        .expect("one event");
    unsupported("ListResource", &ev.diagnostic, "list resource", INSTANCE);
    assert!(ls.message().await.expect("end of stream").is_none());

    // ---- Actions: none
    let va = c
        .validate_action_config(pb::validate_action_config::Request {
            type_name: "clouddb_failover".into(),
            config: None,
        })
        .await
        .expect("ValidateActionConfig")
        .into_inner();
    unsupported(
        "ValidateActionConfig",
        &va.diagnostics,
        "action",
        "clouddb_failover",
    );
    let pa = c
        .plan_action(pb::plan_action::Request {
            action_type: "clouddb_failover".into(),
            ..Default::default()
        })
        .await
        .expect("PlanAction")
        .into_inner();
    unsupported("PlanAction", &pa.diagnostics, "action", "clouddb_failover");
    let mut ia = c
        .invoke_action(pb::invoke_action::Request {
            action_type: "clouddb_failover".into(),
            ..Default::default()
        })
        .await
        .expect("InvokeAction")
        .into_inner();
    let ev = ia
        .message()
        .await
        .expect("InvokeAction event")
        .expect("one event");
    match ev.r#type {
        Some(pb::invoke_action::event::Type::Completed(done)) => unsupported(
            "InvokeAction",
            &done.diagnostics,
            "action",
            "clouddb_failover",
        ),
        other => panic!("InvokeAction: expected Completed, got {other:?}"),
    }
    assert!(ia.message().await.expect("end of stream").is_none());

    // ---- State stores: none
    let ss = "clouddb_state";
    let x = c
        .validate_state_store_config(pb::validate_state_store::Request {
            type_name: ss.into(),
            config: None,
        })
        .await
        .expect("ValidateStateStoreConfig")
        .into_inner();
    unsupported(
        "ValidateStateStoreConfig",
        &x.diagnostics,
        "state store",
        ss,
    );
    let x = c
        .configure_state_store(pb::configure_state_store::Request {
            type_name: ss.into(),
            config: None,
            capabilities: Some(pb::StateStoreClientCapabilities {
                chunk_size: 1 << 20,
            }),
        })
        .await
        .expect("ConfigureStateStore")
        .into_inner();
    unsupported("ConfigureStateStore", &x.diagnostics, "state store", ss);
    let mut rs = c
        .read_state_bytes(pb::read_state_bytes::Request {
            type_name: ss.into(),
            state_id: "default".into(),
        })
        .await
        .expect("ReadStateBytes")
        .into_inner();
    let ev = rs
        .message()
        .await
        .expect("ReadStateBytes chunk")
        .expect("one chunk");
    unsupported("ReadStateBytes", &ev.diagnostics, "state store", ss);
    assert!(rs.message().await.expect("end of stream").is_none());
    let ws = c
        .write_state_bytes(tokio_stream::iter(vec![
            pb::write_state_bytes::RequestChunk {
                meta: Some(pb::RequestChunkMeta {
                    type_name: ss.into(),
                    state_id: "default".into(),
                }),
                bytes: b"{}".to_vec(),
                total_length: 2,
                range: Some(pb::StateRange { start: 0, end: 1 }),
            },
        ]))
        .await
        .expect("WriteStateBytes")
        .into_inner();
    assert_eq!(errors(&ws.diagnostics).len(), 1, "{:?}", ws.diagnostics);
    assert!(
        ws.diagnostics[0].detail.contains("state store"),
        "{:?}",
        ws.diagnostics
    );
    let x = c
        .lock_state(pb::lock_state::Request {
            type_name: ss.into(),
            state_id: "default".into(),
            operation: "apply".into(),
        })
        .await
        .expect("LockState")
        .into_inner();
    unsupported("LockState", &x.diagnostics, "state store", ss);
    assert!(x.lock_id.is_empty());
    let x = c
        .unlock_state(pb::unlock_state::Request {
            type_name: ss.into(),
            state_id: "default".into(),
            lock_id: "l".into(),
        })
        .await
        .expect("UnlockState")
        .into_inner();
    unsupported("UnlockState", &x.diagnostics, "state store", ss);
    let x = c
        .get_states(pb::get_states::Request {
            type_name: ss.into(),
        })
        .await
        .expect("GetStates")
        .into_inner();
    unsupported("GetStates", &x.diagnostics, "state store", ss);
    assert!(x.state_id.is_empty());
    let x = c
        .delete_state(pb::delete_state::Request {
            type_name: ss.into(),
            state_id: "default".into(),
        })
        .await
        .expect("DeleteState")
        .into_inner();
    unsupported("DeleteState", &x.diagnostics, "state store", ss);

    // ---- ApplyResourceChange: delete (planned null)
    let gone = apply(
        &mut c,
        &state,
        &Value::Null,
        &Value::Null,
        ap.private.clone(),
    )
    .await;
    no_errors("ApplyResourceChange(delete)", &gone.diagnostics);
    assert!(decode(&ity, &gone.new_state).is_null());
    assert!(
        api.get_instance(name).await.expect("GET").is_none(),
        "deleted on the server"
    );
    // Reading a deleted instance answers a null state (Terraform plans a create). Without the
    // private creation time: a 404 within a minute of the create is retried for 15 s as eventual
    // consistency.
    let r = c
        .read_resource(pb::read_resource::Request {
            type_name: INSTANCE.into(),
            current_state: dv(&ity, &state),
            private: Vec::new(),
            ..Default::default()
        })
        .await
        .expect("ReadResource")
        .into_inner();
    no_errors("ReadResource(gone)", &r.diagnostics);
    assert!(decode(&ity, &r.new_state).is_null());

    // ---- StopProvider: answers, and the plugin keeps serving later calls
    let st = c
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider")
        .into_inner();
    assert!(st.error.is_empty(), "{}", st.error);
    assert_serving(&mut p, "after StopProvider").await;
    assert!(api.list_instances().await.expect("list").is_empty());

    shutdown_cleanly(p).await;
    eprintln!("every_rpc_answers_over_mtls: {:.1?}", started.elapsed());
}

// ------------------------------------------------------------------ garbage

/// Undecodable DynamicValues for an object type whose string attribute is `attr`: msgpack that is not
/// msgpack, truncated, of the wrong type, with an unknown attribute or an unknown extension; and
/// JSON that is truncated, of the wrong type or with an unknown attribute.
fn garbage(attr: &str) -> Vec<(String, pb::DynamicValue)> {
    let mp = |b: Vec<u8>| pb::DynamicValue {
        msgpack: b,
        json: Vec::new(),
    };
    let js = |s: &[u8]| pb::DynamicValue {
        msgpack: Vec::new(),
        json: s.to_vec(),
    };
    let key = |k: &str| {
        let mut v = vec![0xa0 | k.len() as u8];
        v.extend_from_slice(k.as_bytes());
        v
    };
    let mut truncated = vec![0x83];
    truncated.extend(key(attr));
    truncated.extend([0xa5, b'a', b'b']);
    let mut wrong_attr_type = vec![0x81];
    wrong_attr_type.extend(key(attr));
    wrong_attr_type.push(0x2a); // 42 where a string belongs
    let mut unknown_attr = vec![0x81];
    unknown_attr.extend(key("zz_not_an_attribute"));
    unknown_attr.push(0xc3);
    let mut bad_ext = vec![0x81];
    bad_ext.extend(key(attr));
    // An unknown value (ext 12) whose refinements are not msgpack. (Any other extension type is an
    // unknown value, as in cty, so it is not garbage.)
    bad_ext.extend([0xd4, 0x0c, 0xc1]);
    let mut bad_utf8 = vec![0x81];
    bad_utf8.extend(key(attr));
    bad_utf8.extend([0xa2, 0xff, 0xfe]);
    vec![
        ("msgpack 0xc1".into(), mp(vec![0xc1])),
        ("msgpack 0xc1 0xff 0x00".into(), mp(vec![0xc1, 0xff, 0x00])),
        ("msgpack truncated map".into(), mp(truncated)),
        ("msgpack string for an object".into(), mp(vec![0xa1, b'x'])),
        ("msgpack wrong attribute type".into(), mp(wrong_attr_type)),
        ("msgpack unknown attribute".into(), mp(unknown_attr)),
        ("msgpack bad refinements".into(), mp(bad_ext)),
        ("msgpack invalid UTF-8".into(), mp(bad_utf8)),
        (
            "msgpack huge map length".into(),
            mp(vec![0xdf, 0xff, 0xff, 0xff, 0xff]),
        ),
        (
            "JSON truncated".into(),
            js(format!("{{\"{attr}\": [1,2").as_bytes()),
        ),
        ("JSON array for an object".into(), js(b"[1,2,3]")),
        (
            "JSON object for a string".into(),
            js(format!("{{\"{attr}\": {{\"a\": 1}}}}").as_bytes()),
        ),
        (
            "JSON unknown attribute".into(),
            js(b"{\"zz_not_an_attribute\": 1}"),
        ),
        ("JSON not UTF-8".into(), js(b"{\"x\": \"\xff\"}")),
    ]
}

/// Garbage in every request field that carries a value (DynamicValue, RawState, private bytes) is an
/// error diagnostic, never a gRPC error or a crash; the plugin keeps answering throughout.
#[tokio::test]
async fn garbage_dynamic_values_are_error_diagnostics() {
    let started = Instant::now();
    let mut p = launch().await;
    let mut c = p.provider.clone();
    let ity = instance_ty();
    let pty = provider_ty();
    // A configured provider pointing at a closed loopback port: nothing may reach an API anyway.
    let cfg_ok = val(
        &pty,
        json!({"endpoint": "http://127.0.0.1:9", "token": TOKEN, "project": PROJECT, "max_retries": 0,
               "request_timeout": "1s"}),
    );
    let v = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dv(&pty, &cfg_ok),
            client_capabilities: None,
        })
        .await
        .expect("ConfigureProvider")
        .into_inner();
    no_errors("ConfigureProvider", &v.diagnostics);
    let ok_cfg = instance_config("proto-garbage", "db-small");
    let ok = dv(&ity, &ok_cfg);

    // (rpc [variant], diagnostics, true when the value itself must be named as undecodable)
    let mut seen: Vec<(String, Vec<pb::Diagnostic>, bool)> = Vec::new();
    let mut count = 0usize;
    let cases = [
        ("provider", garbage("endpoint")),
        ("instance", garbage("name")),
    ];
    for (target, variants) in cases {
        for (variant, bad) in variants {
            let g = Some(bad.clone());
            let mut push = |rpc: &str, d: Vec<pb::Diagnostic>, decoded: bool| {
                count += 1;
                seen.push((format!("{rpc} [{variant}]"), d, decoded));
            };
            if target == "provider" {
                let d = c
                    .validate_provider_config(pb::validate_provider_config::Request {
                        config: g.clone(),
                    })
                    .await
                    .expect("ValidateProviderConfig: gRPC OK")
                    .into_inner()
                    .diagnostics;
                push("ValidateProviderConfig", d, true);
                let d = c
                    .configure_provider(pb::configure_provider::Request {
                        terraform_version: "1.11.4".into(),
                        config: g.clone(),
                        client_capabilities: None,
                    })
                    .await
                    .expect("ConfigureProvider: gRPC OK")
                    .into_inner()
                    .diagnostics;
                push("ConfigureProvider", d, true);
                // Put the good configuration back for the resource cases.
                let d = c
                    .configure_provider(pb::configure_provider::Request {
                        terraform_version: "1.11.4".into(),
                        config: dv(&pty, &cfg_ok),
                        client_capabilities: None,
                    })
                    .await
                    .expect("ConfigureProvider")
                    .into_inner()
                    .diagnostics;
                no_errors("ConfigureProvider(again)", &d);
                continue;
            }
            let d = c
                .validate_resource_config(pb::validate_resource_config::Request {
                    type_name: INSTANCE.into(),
                    config: g.clone(),
                    client_capabilities: None,
                })
                .await
                .expect("ValidateResourceConfig: gRPC OK")
                .into_inner()
                .diagnostics;
            push("ValidateResourceConfig", d, true);
            let r = c
                .read_resource(pb::read_resource::Request {
                    type_name: INSTANCE.into(),
                    current_state: g.clone(),
                    ..Default::default()
                })
                .await
                .expect("ReadResource: gRPC OK")
                .into_inner();
            push("ReadResource/current_state", r.diagnostics, true);
            for field in ["prior_state", "proposed_new_state", "config"] {
                let mut req = pb::plan_resource_change::Request {
                    type_name: INSTANCE.into(),
                    prior_state: dv(&ity, &Value::Null),
                    proposed_new_state: ok.clone(),
                    config: ok.clone(),
                    ..Default::default()
                };
                match field {
                    "prior_state" => req.prior_state = g.clone(),
                    "proposed_new_state" => req.proposed_new_state = g.clone(),
                    _ => req.config = g.clone(),
                }
                let d = c
                    .plan_resource_change(req)
                    .await
                    .expect("PlanResourceChange: gRPC OK")
                    .into_inner()
                    .diagnostics;
                push(&format!("PlanResourceChange/{field}"), d, true);
            }
            for field in ["prior_state", "planned_state", "config"] {
                let mut req = pb::apply_resource_change::Request {
                    type_name: INSTANCE.into(),
                    prior_state: dv(&ity, &Value::Null),
                    planned_state: ok.clone(),
                    config: ok.clone(),
                    ..Default::default()
                };
                match field {
                    "prior_state" => req.prior_state = g.clone(),
                    "planned_state" => req.planned_state = g.clone(),
                    _ => req.config = g.clone(),
                }
                let d = c
                    .apply_resource_change(req)
                    .await
                    .expect("ApplyResourceChange: gRPC OK")
                    .into_inner()
                    .diagnostics;
                push(&format!("ApplyResourceChange/{field}"), d, true);
            }
            let d = c
                .generate_resource_config(pb::generate_resource_config::Request {
                    type_name: INSTANCE.into(),
                    state: g.clone(),
                })
                .await
                .expect("GenerateResourceConfig: gRPC OK")
                .into_inner()
                .diagnostics;
            push("GenerateResourceConfig", d, true);
            // Kinds this provider lacks answer "unsupported" before looking at the value.
            let d = c
                .validate_data_resource_config(pb::validate_data_resource_config::Request {
                    type_name: INSTANCE.into(),
                    config: g.clone(),
                })
                .await
                .expect("ValidateDataResourceConfig: gRPC OK")
                .into_inner()
                .diagnostics;
            push("ValidateDataResourceConfig", d, false);
            let d = c
                .read_data_source(pb::read_data_source::Request {
                    type_name: INSTANCE.into(),
                    config: g.clone(),
                    ..Default::default()
                })
                .await
                .expect("ReadDataSource: gRPC OK")
                .into_inner()
                .diagnostics;
            push("ReadDataSource", d, false);
            let d = c
                .validate_ephemeral_resource_config(
                    pb::validate_ephemeral_resource_config::Request {
                        type_name: INSTANCE.into(),
                        config: g.clone(),
                    },
                )
                .await
                .expect("ValidateEphemeralResourceConfig: gRPC OK")
                .into_inner()
                .diagnostics;
            push("ValidateEphemeralResourceConfig", d, false);
            let d = c
                .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
                    type_name: INSTANCE.into(),
                    config: g.clone(),
                    client_capabilities: None,
                })
                .await
                .expect("OpenEphemeralResource: gRPC OK")
                .into_inner()
                .diagnostics;
            push("OpenEphemeralResource", d, false);
            let d = c
                .validate_list_resource_config(pb::validate_list_resource_config::Request {
                    type_name: INSTANCE.into(),
                    config: g.clone(),
                    include_resource_object: g.clone(),
                    limit: g.clone(),
                })
                .await
                .expect("ValidateListResourceConfig: gRPC OK")
                .into_inner()
                .diagnostics;
            push("ValidateListResourceConfig", d, false);
            let mut ls = c
                .list_resource(pb::list_resource::Request {
                    type_name: INSTANCE.into(),
                    config: g.clone(),
                    include_resource_object: false,
                    limit: 1,
                })
                .await
                .expect("ListResource: gRPC OK")
                .into_inner();
            let ev = ls
                .message()
                .await
                .expect("ListResource event")
                .expect("one event");
            push("ListResource", ev.diagnostic, false);
            let d = c
                .validate_state_store_config(pb::validate_state_store::Request {
                    type_name: "clouddb_state".into(),
                    config: g.clone(),
                })
                .await
                .expect("ValidateStateStoreConfig: gRPC OK")
                .into_inner()
                .diagnostics;
            push("ValidateStateStoreConfig", d, false);
            let d = c
                .configure_state_store(pb::configure_state_store::Request {
                    type_name: "clouddb_state".into(),
                    config: g.clone(),
                    capabilities: None,
                })
                .await
                .expect("ConfigureStateStore: gRPC OK")
                .into_inner()
                .diagnostics;
            push("ConfigureStateStore", d, false);
            let d = c
                .validate_action_config(pb::validate_action_config::Request {
                    type_name: "clouddb_failover".into(),
                    config: g.clone(),
                })
                .await
                .expect("ValidateActionConfig: gRPC OK")
                .into_inner()
                .diagnostics;
            push("ValidateActionConfig", d, false);
            let d = c
                .plan_action(pb::plan_action::Request {
                    action_type: "clouddb_failover".into(),
                    config: g.clone(),
                    client_capabilities: None,
                })
                .await
                .expect("PlanAction: gRPC OK")
                .into_inner()
                .diagnostics;
            push("PlanAction", d, false);
            let mut ia = c
                .invoke_action(pb::invoke_action::Request {
                    action_type: "clouddb_failover".into(),
                    config: g.clone(),
                    client_capabilities: None,
                })
                .await
                .expect("InvokeAction: gRPC OK")
                .into_inner();
            let d = match ia.message().await.expect("InvokeAction event") {
                Some(pb::invoke_action::Event {
                    r#type: Some(pb::invoke_action::event::Type::Completed(done)),
                }) => done.diagnostics,
                other => panic!("InvokeAction [{variant}]: {other:?}"),
            };
            push("InvokeAction", d, false);
            let f = c
                .call_function(pb::call_function::Request {
                    name: "parse_endpoint".into(),
                    arguments: vec![bad.clone()],
                })
                .await
                .expect("CallFunction: gRPC OK")
                .into_inner();
            assert!(
                f.error.is_some() && f.result.is_none(),
                "CallFunction [{variant}]"
            );
            // Identity and provider_meta for a resource without an identity or provider_meta schema are
            // not decoded (Terraform sends none); the call must still answer normally.
            let r = c
                .read_resource(pb::read_resource::Request {
                    type_name: INSTANCE.into(),
                    current_state: dv(&ity, &Value::Null),
                    provider_meta: g.clone(),
                    current_identity: Some(pb::ResourceIdentityData {
                        identity_data: g.clone(),
                    }),
                    ..Default::default()
                })
                .await
                .expect("ReadResource(identity, provider_meta): gRPC OK")
                .into_inner();
            no_errors(
                &format!("ReadResource/null state [{variant}]"),
                &r.diagnostics,
            );
        }
    }

    // Stored state, identity and private bytes that cannot be read.
    let raw = |json: &[u8]| {
        Some(pb::RawState {
            json: json.to_vec(),
            flatmap: Default::default(),
        })
    };
    for (variant, bytes) in [
        ("truncated", &b"{\"name\": \"a"[..]),
        ("not an object", b"[1]"),
        ("wrong type", b"{\"name\": {\"a\": 1}}"),
        ("not UTF-8", b"{\"name\": \"\xff\"}"),
    ] {
        for version in [0, 1] {
            let r = c
                .upgrade_resource_state(pb::upgrade_resource_state::Request {
                    type_name: INSTANCE.into(),
                    version,
                    raw_state: raw(bytes),
                })
                .await
                .expect("UpgradeResourceState: gRPC OK")
                .into_inner();
            seen.push((
                format!("UpgradeResourceState v{version} [{variant}]"),
                r.diagnostics,
                false,
            ));
        }
        let r = c
            .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
                type_name: INSTANCE.into(),
                version: 0,
                raw_identity: raw(bytes),
            })
            .await
            .expect("UpgradeResourceIdentity: gRPC OK")
            .into_inner();
        seen.push((
            format!("UpgradeResourceIdentity [{variant}]"),
            r.diagnostics,
            false,
        ));
        let r = c
            .move_resource_state(pb::move_resource_state::Request {
                source_provider_address: "registry.terraform.io/other/other".into(),
                source_type_name: "other_db".into(),
                source_state: raw(bytes),
                target_type_name: INSTANCE.into(),
                ..Default::default()
            })
            .await
            .expect("MoveResourceState: gRPC OK")
            .into_inner();
        seen.push((
            format!("MoveResourceState [{variant}]"),
            r.diagnostics,
            false,
        ));
    }
    let flat: std::collections::HashMap<String, String> = [
        ("name", "proto-flat"),
        ("tier", "db-small"),
        ("storage_gb", "lots"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: Vec::new(),
                flatmap: flat,
            }),
        })
        .await
        .expect("UpgradeResourceState: gRPC OK")
        .into_inner();
    seen.push((
        "UpgradeResourceState flatmap [bad number]".into(),
        r.diagnostics,
        false,
    ));
    let state = {
        let mut s = ok_cfg.clone();
        s.set_attr("id", Value::from("proto-garbage"));
        s
    };
    let junk = b"\xff\x00 not private state".to_vec();
    let r = c
        .read_resource(pb::read_resource::Request {
            type_name: INSTANCE.into(),
            current_state: dv(&ity, &state),
            private: junk.clone(),
            ..Default::default()
        })
        .await
        .expect("ReadResource: gRPC OK")
        .into_inner();
    seen.push(("ReadResource/private".into(), r.diagnostics, false));
    let r = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: INSTANCE.into(),
            prior_state: dv(&ity, &state),
            proposed_new_state: dv(&ity, &state),
            config: ok.clone(),
            prior_private: junk.clone(),
            ..Default::default()
        })
        .await
        .expect("PlanResourceChange: gRPC OK")
        .into_inner();
    seen.push((
        "PlanResourceChange/prior_private".into(),
        r.diagnostics,
        false,
    ));
    let r = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: INSTANCE.into(),
            prior_state: dv(&ity, &state),
            planned_state: dv(&ity, &Value::Null),
            config: dv(&ity, &Value::Null),
            planned_private: junk.clone(),
            ..Default::default()
        })
        .await
        .expect("ApplyResourceChange: gRPC OK")
        .into_inner();
    seen.push((
        "ApplyResourceChange/planned_private".into(),
        r.diagnostics,
        false,
    ));

    let mut failures = Vec::new();
    for (what, d, decoded) in &seen {
        let errs = errors(d);
        if errs.is_empty() {
            failures.push(format!("{what}: no error diagnostic: {d:?}"));
            continue;
        }
        if *decoded {
            let e = errs[0];
            let text = format!("{} {}", e.summary, e.detail);
            if !(e.summary.starts_with("Invalid")
                && (text.contains("msgpack") || text.contains("JSON")))
            {
                failures.push(format!(
                    "{what}: the error should say the value could not be decoded: {text}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        seen.len(),
        failures.join("\n")
    );
    assert!(count > 100, "only {count} DynamicValue cases ran");
    assert_serving(&mut p, "after all the garbage").await;
    shutdown_cleanly(p).await;
    eprintln!(
        "garbage_dynamic_values_are_error_diagnostics: {} cases in {:.1?}",
        seen.len(),
        started.elapsed()
    );
}

// ------------------------------------------------------------------ transport

async fn assert_refused(auth: ClientAuth) {
    let mut p = ProviderProcess::launch_with(provider_binary(), options(auth))
        .await
        .expect("launch");
    assert!(
        p.handshake.server_cert.is_some(),
        "the server is in TLS mode"
    );
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        p.provider
            .get_provider_schema(pb::get_provider_schema::Request {}),
    )
    .await;
    match r {
        Ok(Ok(resp)) => panic!("{auth:?}: the connection must be refused, got {resp:?}"),
        Ok(Err(status)) => eprintln!("{auth:?} refused as expected: {status}"),
        Err(_) => panic!("{auth:?}: no answer at all within 10 s"),
    }
    // Refusing did not bring the plugin down: it still runs and exits cleanly on SIGTERM.
    assert!(
        p.wait_exit(Duration::from_millis(200)).await.is_err(),
        "the plugin exited after refusing a client"
    );
    p.signal("TERM").expect("SIGTERM");
    let status = p.wait_exit(Duration::from_secs(5)).await.expect("exit");
    assert!(status.success(), "{status:?}");
    assert!(p.stdout_after_handshake().is_empty());
}

#[tokio::test]
async fn mtls_refuses_client_without_certificate() {
    assert_refused(ClientAuth::NoClientCert).await;
}

#[tokio::test]
async fn mtls_refuses_a_different_client_certificate() {
    assert_refused(ClientAuth::OtherCert).await;
}

/// Run by hand (no magic cookie, or a wrong one): the friendly message on stderr, nothing on stdout,
/// exit status 1.
#[test]
fn run_by_hand_prints_plugin_message() {
    for cookie in [None, Some("wrong")] {
        let mut cmd = Command::new(provider_binary());
        cmd.env_remove("TF_PLUGIN_MAGIC_COOKIE")
            .env_remove("PLUGIN_CLIENT_CERT")
            .stdin(Stdio::null());
        if let Some(c) = cookie {
            cmd.env("TF_PLUGIN_MAGIC_COOKIE", c);
        }
        let out = cmd.output().expect("run the provider binary");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "cookie {cookie:?}: {err}");
        assert!(
            out.stdout.is_empty(),
            "cookie {cookie:?}: stdout {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(err.contains("This binary is a plugin"), "{err}");
        assert!(err.contains("not meant to be executed directly"), "{err}");
    }
}
