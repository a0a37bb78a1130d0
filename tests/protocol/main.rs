//! Protocol-level tests of the real `terraform-provider-clouddb` binary through the project's own
//! tfplugin6 client (`tfplugin::testing`), launched exactly like Terraform launches it: go-plugin
//! environment, a P-521 CA-marked client certificate in `PLUGIN_CLIENT_CERT`, mutual TLS over the unix
//! socket from the handshake line.
//!
//! One test (or one table of cases) per tfplugin6 RPC or RPC family, each with its own launched
//! provider shared by all of its cases (and, where it creates instances, its own `clouddb-server`).
//! Every launch checks the handshake (protocol 6, unix socket, AutoMTLS, ALPN h2) and health; every
//! test ends with [`shutdown_cleanly`]: a clean exit within 2 s, nothing on stdout, and no panic or
//! token in the logs.
//!
//! - `transport`: refused clients (no / another certificate), run by hand, StopProvider.
//! - `schema`: GetMetadata, GetProviderSchema, GetResourceIdentitySchemas.
//! - `provider_config`: ValidateProviderConfig, ConfigureProvider.
//! - `resource`: ValidateResourceConfig, PlanResourceChange, ApplyResourceChange, ReadResource,
//!   ImportResourceState, GenerateResourceConfig, MoveResourceState, UpgradeResourceState,
//!   UpgradeResourceIdentity (real creates, updates and deletes against a `clouddb-server`).
//! - `unsupported`: the kinds this provider lacks (list resources, actions, state stores) answer
//!   "unsupported", and so do a data source, function and ephemeral type it lacks.
//! - `garbage`: bad msgpack, bad JSON, bad stored state and bad private bytes in every request field
//!   that carries them are error diagnostics, never a transport error or a panic, as tables of cases.
//! - `features`: the framework's Terraform 1.12–1.15 features (actions, identity, list resources,
//!   generated config, moves, deprecations) against `feat`, a small provider built on the framework
//!   (`crates/tfplugin/examples/feature_provider.rs`), since CloudDB does not use them all yet.

mod features;
mod garbage;
mod provider_config;
mod resource;
mod schema;
mod transport;
mod unsupported;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use terraform_provider_clouddb::CloudDbProvider;
use terraform_provider_clouddb::client::{Client, ClientConfig};
use terraform_provider_clouddb::resources::instance;
use tfplugin::proto::health::HealthCheckRequest;
use tfplugin::proto::health::health_check_response::ServingStatus;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::provider::Provider;
use tfplugin::testing::diagnostics::assert_no_errors;
use tfplugin::testing::values::{decode, dynamic_value, from_json};
use tfplugin::testing::{ClientAuth, LaunchOptions, ProviderProcess, requests};
use tfplugin::value::{Type, Value};
use tonic::transport::Channel;

const INSTANCE: &str = "clouddb_instance";
/// Long and distinctive, so the test can assert it never appears in the provider's logs.
const TOKEN: &str = "proto-secret-token-5f0c2a9e";
const PROJECT: &str = "proto";

type Rpc = ProviderClient<Channel>;

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

/// Launches the provider like Terraform and checks the handshake (protocol 6 on a unix socket,
/// AutoMTLS on), health, a first call and the negotiated ALPN (h2).
async fn launch() -> ProviderProcess {
    let mut p = ProviderProcess::launch_with(provider_binary(), options(ClientAuth::Terraform))
        .await
        .expect("launch terraform-provider-clouddb");
    assert_eq!((p.handshake.core_version, p.handshake.app_version), (1, 6));
    assert_eq!(p.handshake.network, "unix");
    assert!(p.handshake.server_cert.is_some(), "AutoMTLS is on");
    assert_serving(&mut p, "after launch").await;
    assert_eq!(p.negotiated_alpn().as_deref(), Some(&b"h2"[..]));
    p
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

/// A provider launched and configured against its own `clouddb-server`, with an API client to check
/// what reached the server.
struct Cloud {
    server: Server,
    api: Client,
    p: ProviderProcess,
    c: Rpc,
}

impl Cloud {
    async fn start() -> Self {
        let server = start_server();
        let api =
            Client::new(ClientConfig::new(&server.endpoint, TOKEN, PROJECT)).expect("API client");
        let p = launch().await;
        let mut c = p.provider.clone();
        let v = c
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.11.4".into(),
                config: dynamic_value(&provider_ty(), &good_provider_config(&server.endpoint)),
                client_capabilities: requests::client_capabilities(),
            })
            .await
            .expect("ConfigureProvider")
            .into_inner();
        assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
        Self { server, api, p, c }
    }

    /// Plans and applies the create of `config`, asserting no errors; the new state and private.
    async fn create(&mut self, config: &Value) -> (Value, Vec<u8>) {
        let pl = plan(&mut self.c, &Value::Null, config, Vec::new()).await;
        assert_no_errors("PlanResourceChange(create)", &pl.diagnostics);
        let planned = decode(&instance_ty(), &pl.planned_state);
        let ap = apply(
            &mut self.c,
            &Value::Null,
            &planned,
            config,
            pl.planned_private,
        )
        .await;
        assert_no_errors("ApplyResourceChange(create)", &ap.diagnostics);
        (decode(&instance_ty(), &ap.new_state), ap.private)
    }

    /// Applies the delete of `state`, asserting no errors.
    async fn delete(&mut self, state: &Value, private: Vec<u8>) {
        let gone = apply(&mut self.c, state, &Value::Null, &Value::Null, private).await;
        assert_no_errors("ApplyResourceChange(delete)", &gone.diagnostics);
    }

    /// Nothing is left on the server; then [`shutdown_cleanly`].
    async fn finish(self) {
        assert!(self.api.list_instances().await.expect("list").is_empty());
        shutdown_cleanly(self.p).await;
        drop(self.server);
    }
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
    from_json(ty, j)
}

/// A valid provider configuration for the API at `endpoint`.
fn good_provider_config(endpoint: &str) -> Value {
    val(
        &provider_ty(),
        json!({"endpoint": endpoint, "token": TOKEN, "project": PROJECT,
               "request_timeout": "10s", "max_retries": 2, "poll_interval": "5ms"}),
    )
}

fn instance_config(name: &str, tier: &str) -> Value {
    val(
        &instance_ty(),
        json!({"name": name, "tier": tier, "storage_gb": 20, "labels": {"suite": "protocol"}}),
    )
}

/// PlanResourceChange of `clouddb_instance` with Terraform's proposed new state and capabilities.
async fn plan(
    c: &mut Rpc,
    prior: &Value,
    config: &Value,
    prior_private: Vec<u8>,
) -> pb::plan_resource_change::Response {
    let proposed = requests::proposed_new_state(&instance::schema(), prior, config);
    let mut req = requests::plan(
        INSTANCE,
        &instance_ty(),
        prior,
        &proposed,
        config,
        prior_private,
    );
    req.client_capabilities = requests::client_capabilities();
    c.plan_resource_change(req)
        .await
        .expect("PlanResourceChange")
        .into_inner()
}

async fn apply(
    c: &mut Rpc,
    prior: &Value,
    planned: &Value,
    config: &Value,
    planned_private: Vec<u8>,
) -> pb::apply_resource_change::Response {
    c.apply_resource_change(requests::apply(
        INSTANCE,
        &instance_ty(),
        prior,
        planned,
        config,
        planned_private,
    ))
    .await
    .expect("ApplyResourceChange")
    .into_inner()
}
