//! Test harness: runs the server in-process on 127.0.0.1:0.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;

use clouddb_server::http_client::{Client, Resp};
use clouddb_server::{AppState, Config, serve};
use serde_json::{Value, json};

pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    pub api: Client,
    pub other: Client,
    pub admin: Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn config() -> Config {
    Config {
        data: None,
        tokens: HashMap::from([
            ("tok-a".to_string(), "proj-a".to_string()),
            ("tok-b".to_string(), "proj-b".to_string()),
        ]),
        admin_token: "admin".into(),
        provision_ms: 3000,
        update_ms: 3000,
        delete_ms: 2000,
        rate_limit: 0.0,
        rate_burst: 0.0,
        ..Config::default()
    }
}

pub async fn start_with(cfg: Config) -> Server {
    let state = AppState::new(cfg).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    tokio::spawn(async move {
        let _ = serve(listener, st, async {
            let _ = rx.await;
        })
        .await;
    });
    Server {
        addr,
        state,
        api: Client::new(addr, "tok-a"),
        other: Client::new(addr, "tok-b"),
        admin: Client::new(addr, "admin"),
        stop: Some(tx),
    }
}

/// A server whose virtual clock is frozen (advance it with [`Server::advance`]).
pub async fn start() -> Server {
    let s = start_with(config()).await;
    s.freeze().await;
    s
}

pub const P: &str = "/v1/projects/proj-a";

pub fn inst_body(name: &str) -> Value {
    json!({"name": name, "tier": "db-small", "storage_gb": 20})
}

impl Server {
    pub async fn freeze(&self) {
        let r = self
            .admin
            .post("/admin/clock", &json!({"frozen": true}))
            .await
            .expect("clock");
        assert_eq!(r.status, 200, "{}", r.text());
    }

    pub async fn advance(&self, secs: f64) {
        let r = self
            .admin
            .post("/admin/clock", &json!({"advance_seconds": secs}))
            .await
            .expect("clock");
        assert_eq!(r.status, 200, "{}", r.text());
    }

    pub async fn fault(&self, rule: Value) {
        let r = self
            .admin
            .post("/admin/faults", &rule)
            .await
            .expect("fault");
        assert_eq!(r.status, 201, "{}", r.text());
    }

    /// Creates an instance and lets its operation finish.
    pub async fn create_ready(&self, body: Value) -> Value {
        let r = self
            .api
            .post(&format!("{P}/instances"), &body)
            .await
            .expect("create");
        assert_eq!(r.status, 202, "{}", r.text());
        self.advance(3600.0).await;
        let name = body["name"].as_str().unwrap_or_default();
        let r = self
            .api
            .get(&format!("{P}/instances/{name}"))
            .await
            .expect("get");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["state"], "READY");
        r.json()
    }

    pub async fn op(&self, resp: &Resp) -> Value {
        let id = resp.json()["id"].as_str().unwrap_or_default().to_string();
        self.api
            .get(&format!("{P}/operations/{id}"))
            .await
            .expect("op")
            .json()
    }
}

pub fn assert_problem(r: &Resp, status: u16, reason: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let j = r.json();
    assert_eq!(j["reason"], reason, "{j}");
    assert_eq!(j["status"], status);
    assert!(j["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        Some(j["request_id"].as_str().unwrap_or_default()),
        r.header("x-request-id")
    );
}

/// The fields named in `field_violations`.
pub fn violated(r: &Resp) -> Vec<String> {
    r.json()["field_violations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
