//! The real binary: first stdout line, kill -9 durability (operations resume), SIGTERM shutdown.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clouddb_server::http_client::Client;
use serde_json::json;

struct Proc {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(db: &Path) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clouddb-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--token",
            "tok=proj",
            "--admin-token",
            "adm",
        ])
        .args(["--provision-time", "1.5", "--data"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn clouddb-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .parse()
        .expect("address");
    Proc { child, addr }
}

#[tokio::test]
async fn kill_9_loses_nothing_and_operations_resume() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clouddb.db");
    let p = spawn(&db);
    let c = Client::new(p.addr, "tok");
    let url = "/v1/projects/proj/instances";
    let r = c
        .send(
            "POST",
            url,
            &[("idempotency-key", "dur-1")],
            Some(&json!({"name": "db1", "tier": "db-small", "storage_gb": 20})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let op = r.json()["id"].as_str().unwrap().to_string();
    let r = c
        .post(
            url,
            &json!({"name": "db2", "tier": "db-micro", "storage_gb": 10, "labels": {"k": "v"}}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let mut p = p;
    // SIGKILL right after the acknowledgements.
    p.child.kill().unwrap();
    p.child.wait().unwrap();

    let p2 = spawn(&db);
    let c = Client::new(p2.addr, "tok");
    let g = c.get(&format!("{url}/db2")).await.unwrap();
    assert_eq!(g.status, 200);
    assert_eq!(g.json()["labels"], json!({"k": "v"}));
    // The retried create replays the original operation.
    let r = c
        .send(
            "POST",
            url,
            &[("idempotency-key", "dur-1")],
            Some(&json!({"name": "db1", "tier": "db-small", "storage_gb": 20})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["id"], op.as_str());
    // The running operation resumes and finishes.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = c
            .get(&format!("/v1/projects/proj/operations/{op}"))
            .await
            .unwrap()
            .json();
        if o["done"] == true {
            assert!(o["error"].is_null());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "operation did not finish after restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        c.get(&format!("{url}/db1")).await.unwrap().json()["state"],
        "READY"
    );

    // The virtual clock offset survives a restart too.
    let adm = Client::new(p2.addr, "adm");
    adm.post("/admin/clock", &json!({"advance_seconds": 3600}))
        .await
        .unwrap();
    drop(p2);
    let p3 = spawn(&db);
    let adm = Client::new(p3.addr, "adm");
    let clock = adm.get("/admin/clock").await.unwrap().json();
    assert!(
        clock["offset_seconds"].as_f64().unwrap() >= 3599.0,
        "{clock}"
    );
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(&dir.path().join("x.db"));
    let c = Client::new(p.addr, "tok");
    assert_eq!(c.get("/v1/tiers").await.unwrap().status, 200);
    let st = Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn demo_mode_prints_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_clouddb-server"))
        .args(["--listen", "127.0.0.1:0", "--in-memory"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut l1 = String::new();
    let mut l2 = String::new();
    out.read_line(&mut l1).unwrap();
    out.read_line(&mut l2).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(l1.starts_with("listening on http://127.0.0.1:"));
    assert!(l2.contains("demo-token"), "{l2}");
    assert!(
        !dir.path().join("clouddb.db").exists(),
        "--in-memory writes no file"
    );
}
