//! The REST client against a real `clouddb-server` process, without Terraform: the API contract end
//! to end (create → wait → get → update with If-Match → 412 on a stale ETag → delete → list), the
//! instance actions (restart, failover) and temporary credentials (issue, renew, revoke, and a lost create answer
//! that leaves no login behind), and `parse_tier`'s built-in catalogue compared tier by tier with
//! the API's `GET /v1/tiers`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use terraform_provider_clouddb::client::types::{CreateInstanceRequest, UpdateInstanceRequest};
use terraform_provider_clouddb::client::wait::wait_operation;
use terraform_provider_clouddb::client::{Client, ClientConfig, IdempotencyKey, RetryPolicy};
use terraform_provider_clouddb::functions::parse_tier::{ParseTier, TIER_CATALOGUE};
use tfplugin::provider::{Context, Function};
use tfplugin::value::Value as TfValue;

const TOKEN: &str = "t1";
const PROJECT: &str = "p1";
const ADMIN: &str = "adm";

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CLOUDDB_SERVER_BIN") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-clouddb"))
        .with_file_name("clouddb-server");
    p.is_file().then_some(p)
}

/// A server with instant creates and deletes, and actions that take one (virtual) second.
fn start() -> Option<Server> {
    let Some(bin) = server_bin() else {
        eprintln!("SKIP: clouddb-server not built (cargo build --workspace --bins)");
        return None;
    };
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--in-memory"])
        .args([
            "--token",
            &format!("{TOKEN}={PROJECT}"),
            "--admin-token",
            ADMIN,
        ])
        .args([
            "--provision-time",
            "0",
            "--update-time",
            "0",
            "--delete-time",
            "0",
        ])
        .args(["--restart-time", "1", "--failover-time", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn clouddb-server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .split_whitespace()
        .next()
        .expect("url")
        .to_string();
    Some(Server(child, url))
}

fn client(url: &str) -> Client {
    let mut cfg = ClientConfig::new(url, TOKEN, PROJECT);
    cfg.poll_interval = Duration::from_millis(50);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    Client::new(cfg).expect("client")
}

/// A raw call with a bearer token: (status, JSON body or Null).
async fn raw(
    url: &str,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .request(method, format!("{url}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(30)
}

async fn create_ready(c: &Client, name: &str, high_availability: bool) {
    let req = CreateInstanceRequest {
        name: name.into(),
        engine: Some("postgres".into()),
        engine_version: None,
        tier: "db-small".into(),
        storage_gb: 20,
        high_availability,
        admin_username: "dbadmin".into(),
        admin_password: None,
        labels: Default::default(),
        deletion_protection: false,
        backup: None,
        restore_from_backup: None,
    };
    let op = c
        .create_instance(&req, &IdempotencyKey::new())
        .await
        .expect("create");
    wait_operation(c, op, deadline(), std::future::pending())
        .await
        .expect("created");
}

#[tokio::test]
async fn parse_tier_knows_every_tier_of_the_api_exactly() {
    let Some(srv) = start() else { return };
    let (status, body) = raw(&srv.1, reqwest::Method::GET, "/v1/tiers", TOKEN, None).await;
    assert_eq!(status, 200, "{body}");
    let api = body["tiers"].as_array().expect("tiers");
    let api_names: Vec<&str> = api.iter().filter_map(|t| t["name"].as_str()).collect();
    let ours: Vec<&str> = TIER_CATALOGUE.iter().map(|t| t.name).collect();
    assert_eq!(
        ours, api_names,
        "the provider's catalogue lists the API's tiers, in order"
    );
    let ctx = Context::background();
    for t in api {
        let name = t["name"].as_str().expect("name");
        let got = ParseTier
            .call(&ctx, vec![TfValue::string(name)])
            .await
            .unwrap_or_else(|e| panic!("parse_tier({name:?}): {}", e.text));
        for field in ["vcpus", "memory_gb", "max_storage_gb"] {
            assert_eq!(
                got.get(field).as_i64(),
                t[field].as_i64(),
                "{name}.{field}: provider vs GET /v1/tiers"
            );
        }
    }
}

#[tokio::test]
async fn restart_and_failover_run_operations_and_failover_needs_a_standby() {
    let Some(srv) = start() else { return };
    let c = client(&srv.1);
    create_ready(&c, "cs-single", false).await;
    create_ready(&c, "cs-pair", true).await;

    let op = c
        .restart_instance("cs-single", &IdempotencyKey::new())
        .await
        .expect("restart");
    assert_eq!(
        (op.verb.as_str(), op.target.as_str()),
        ("restart", "instances/cs-single")
    );
    assert!(!op.done, "a restart takes a second");
    let inst = c
        .get_instance("cs-single")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(inst.state, "UPDATING");
    let done = wait_operation(&c, op, deadline(), std::future::pending())
        .await
        .expect("restarted");
    assert!(done.done && done.error.is_none());
    let inst = c
        .get_instance("cs-single")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(inst.state, "READY");

    // No standby: refused at once (not retried), naming high_availability.
    let started = std::time::Instant::now();
    let err = c
        .failover_instance("cs-single", &IdempotencyKey::new())
        .await
        .expect_err("no standby");
    assert_eq!(
        (err.status(), err.reason()),
        (Some(409), "FAILED_PRECONDITION"),
        "{err}"
    );
    assert!(err.to_string().contains("high_availability"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "not retried");

    let op = c
        .failover_instance("cs-pair", &IdempotencyKey::new())
        .await
        .expect("failover");
    assert_eq!(op.verb, "failover");
    wait_operation(&c, op, deadline(), std::future::pending())
        .await
        .expect("failed over");

    let err = c
        .restart_instance("cs-missing", &IdempotencyKey::new())
        .await
        .expect_err("no such instance");
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn credentials_are_issued_renewed_and_revoked() {
    let Some(srv) = start() else { return };
    let c = client(&srv.1);
    create_ready(&c, "cs-cred", false).await;

    let issued = c.issue_credential("cs-cred", 60).await.expect("issue");
    assert!(issued.password.expose().starts_with("cdbpw_"));
    assert_eq!(issued.credential.ttl_seconds, 60);
    assert!(!format!("{issued:?}").contains(issued.password.expose()));
    let listed = c.list_credentials("cs-cred").await.expect("list");
    assert_eq!(listed, std::slice::from_ref(&issued.credential));

    let renewed = c
        .renew_credential("cs-cred", &issued.credential.id, 120)
        .await
        .expect("renew");
    assert_eq!(renewed.ttl_seconds, 120);
    assert_eq!(renewed.id, issued.credential.id);

    c.revoke_credential("cs-cred", &issued.credential.id)
        .await
        .expect("revoke");
    assert!(
        c.list_credentials("cs-cred")
            .await
            .expect("list")
            .is_empty()
    );
    // Already gone: revoking again is done, renewing is an error.
    c.revoke_credential("cs-cred", &issued.credential.id)
        .await
        .expect("revoke twice");
    let err = c
        .renew_credential("cs-cred", &issued.credential.id, 60)
        .await
        .expect_err("gone");
    assert!(err.is_not_found(), "{err}");
    // A credential of an instance that is gone is gone too.
    c.revoke_credential("cs-nope", "cred-x")
        .await
        .expect("no instance, nothing to revoke");
}

/// The answer to the create is lost after the server committed it; the retry gets the replay,
/// which has no password. The client revokes that credential and issues a new one: the caller
/// gets a password and exactly one credential is active.
#[tokio::test]
async fn a_lost_create_answer_leaves_no_login_behind() {
    let Some(srv) = start() else { return };
    let c = client(&srv.1);
    create_ready(&c, "cs-lost", false).await;
    let path = format!("/v1/projects/{PROJECT}/instances/cs-lost/credentials");
    let (status, rule) = raw(
        &srv.1,
        reqwest::Method::POST,
        "/admin/faults",
        ADMIN,
        Some(json!({"kind": "drop_response", "method": "POST", "path_prefix": path, "count": 1})),
    )
    .await;
    assert_eq!(status, 201, "{rule}");

    let issued = c.issue_credential("cs-lost", 60).await.expect("issue");
    assert!(issued.password.expose().starts_with("cdbpw_"));
    let active = c.list_credentials("cs-lost").await.expect("list");
    assert_eq!(
        active,
        std::slice::from_ref(&issued.credential),
        "only the second credential is active"
    );

    let (_, log) = raw(&srv.1, reqwest::Method::GET, "/admin/requests", ADMIN, None).await;
    let calls: Vec<(String, u64)> = log
        .as_array()
        .expect("log")
        .iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.starts_with(&path)))
        .map(|e| {
            (
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap_or(""),
                    e["path"].as_str().unwrap_or("")
                ),
                e["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let posts = calls.iter().filter(|(m, _)| m.starts_with("POST")).count();
    let deletes: Vec<_> = calls
        .iter()
        .filter(|(m, _)| m.starts_with("DELETE"))
        .collect();
    assert_eq!(
        posts, 3,
        "dropped create, its replay, the new create: {calls:?}"
    );
    assert_eq!(
        deletes.len(),
        1,
        "the replayed credential was revoked: {calls:?}"
    );
    assert_eq!(deletes[0].1, 204);
    assert!(
        !deletes[0].0.ends_with(&issued.credential.id),
        "not the one handed out"
    );
}

#[tokio::test]
async fn crud_against_real_server() {
    let Some(srv) = start() else { return };
    let c = client(&srv.1);
    let deadline = || tokio::time::Instant::now() + Duration::from_secs(30);
    let req = CreateInstanceRequest {
        name: "cs-db1".into(),
        engine: Some("postgres".into()),
        engine_version: None,
        tier: "db-small".into(),
        storage_gb: 20,
        high_availability: false,
        admin_username: "dbadmin".into(),
        admin_password: Some("s3cret-pass".into()),
        labels: [("a".to_string(), "b".to_string())].into(),
        deletion_protection: false,
        backup: None,
        restore_from_backup: None,
    };
    let op = c
        .create_instance(&req, &IdempotencyKey::new())
        .await
        .expect("create");
    assert_eq!(op.target, "instances/cs-db1");
    wait_operation(&c, op, deadline(), std::future::pending())
        .await
        .expect("created");
    let inst = c
        .get_instance("cs-db1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(inst.state, "READY");
    assert_eq!(inst.engine_version, "16");
    assert!(inst.engine_version_actual.starts_with("16."));
    assert!(!inst.etag.is_empty());

    // Same name again → 409 ALREADY_EXISTS, not retried.
    let err = c
        .create_instance(&req, &IdempotencyKey::new())
        .await
        .expect_err("dup");
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.reason(), "ALREADY_EXISTS");
    assert!(err.request_id().is_some());

    let patch = UpdateInstanceRequest {
        tier: Some("db-standard-2".into()),
        ..Default::default()
    };
    let op = c
        .update_instance("cs-db1", &patch, Some(&inst.etag), &IdempotencyKey::new())
        .await
        .expect("patch");
    wait_operation(&c, op, deadline(), std::future::pending())
        .await
        .expect("updated");
    let after = c
        .get_instance("cs-db1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(after.tier, "db-standard-2");

    // The old ETag is stale now.
    let err = c
        .update_instance("cs-db1", &patch, Some(&inst.etag), &IdempotencyKey::new())
        .await
        .expect_err("412");
    assert_eq!(err.status(), Some(412));

    // Validation errors carry field violations.
    let bad = UpdateInstanceRequest {
        storage_gb: Some(5),
        ..Default::default()
    };
    let err = c
        .update_instance("cs-db1", &bad, None, &IdempotencyKey::new())
        .await
        .expect_err("400");
    assert!(err.detail().contains("storage_gb"), "{}", err.detail());

    assert_eq!(c.list_instances().await.expect("list").len(), 1);
    let op = c
        .delete_instance("cs-db1", true, None, &IdempotencyKey::new())
        .await
        .expect("delete");
    wait_operation(&c, op, deadline(), std::future::pending())
        .await
        .expect("deleted");
    assert!(c.get_instance("cs-db1").await.expect("get").is_none());
    assert!(c.list_instances().await.expect("list").is_empty());
}
