//! The REST client against a real `clouddb-server` process: the API contract end to end, without
//! Terraform (create → wait → get → update with If-Match → 412 on a stale ETag → delete → list).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use terraform_provider_clouddb::client::types::{CreateInstanceRequest, UpdateInstanceRequest};
use terraform_provider_clouddb::client::wait::wait_operation;
use terraform_provider_clouddb::client::{Client, ClientConfig, IdempotencyKey, RetryPolicy};

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

fn start() -> Option<Server> {
    let Some(bin) = server_bin() else {
        eprintln!("SKIP: clouddb-server not built (cargo build --workspace --bins)");
        return None;
    };
    let mut child = Command::new(bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--in-memory",
            "--token",
            "t1=p1",
            "--admin-token",
            "adm",
        ])
        .args([
            "--provision-time",
            "0",
            "--update-time",
            "0",
            "--delete-time",
            "0",
        ])
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
        .expect("url");
    Some(Server(child, url.to_string()))
}

fn client(url: &str) -> Client {
    let mut cfg = ClientConfig::new(url, "t1", "p1");
    cfg.poll_interval = Duration::from_millis(50);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    Client::new(cfg).expect("client")
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
