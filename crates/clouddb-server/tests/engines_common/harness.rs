//! The test's side of real engines: drop guards for engine servers and for the server binary,
//! finding engine processes, and API calls that wait in real time.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clouddb_server::http_client::Client;
use clouddb_server::{Config, EngineMode};
use serde_json::{Value, json};

use super::engine::Engine;
use crate::common::{self, P};

/// Stops every engine under a directory when dropped, so a failing test leaves no server behind.
pub struct EngineGuard {
    pub root: PathBuf,
    pub engine: &'static Engine,
}

impl Drop for EngineGuard {
    fn drop(&mut self) {
        for pid in pids(&self.root, self.engine) {
            let _ = Command::new("kill")
                .arg(self.engine.guard_signal)
                .arg(pid.to_string())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !engine_processes(&self.root).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The pids in every pid file of `engine` under `root`.
pub fn pids(root: &Path, engine: &Engine) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == engine.pid_file)
                && let Some(pid) = std::fs::read_to_string(&p)
                    .ok()
                    .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
            {
                out.push(pid);
            }
        }
    }
    out
}

/// Processes whose command line names `root`'s engines directory (the engines of a test).
pub fn engine_processes(root: &Path) -> Vec<String> {
    let out = Command::new("pgrep")
        .arg("-af")
        .arg(root.join("engines"))
        .output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.contains("pgrep"))
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// The entries left in the project's engines directory.
pub fn engine_dirs_left(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root.join("engines/proj-a"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect()
}

pub fn real_config(dir: &Path) -> Config {
    Config {
        data: Some(dir.join("clouddb.db")),
        engines: EngineMode::Real,
        ..common::config()
    }
}

/// Retries `check` for a few seconds (a pg_hba.conf reload is asynchronous) until it holds.
pub fn eventually(what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match check() {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("{what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

pub async fn expect(
    api: &Client,
    method: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let r = match (method, body) {
        ("POST", b) => api.post(path, &b.unwrap_or(json!({}))).await,
        ("PATCH", b) => api.patch(path, &b.unwrap_or(json!({}))).await,
        ("DELETE", _) => api.delete(path).await,
        _ => api.get(path).await,
    }
    .expect("request");
    assert_eq!(r.status, status, "{method} {path}: {}", r.text());
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

/// POSTs `body` to a sub-collection of instance `inst` and expects 201.
pub async fn add(api: &Client, inst: &str, what: &str, body: Value) -> Value {
    expect(
        api,
        "POST",
        &format!("{P}/instances/{inst}/{what}"),
        Some(body),
        201,
    )
    .await
}

/// Polls the instance until `pred` holds on it (real time: engines take real time).
pub async fn wait_instance(
    api: &Client,
    name: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = api
            .get(&format!("{P}/instances/{name}"))
            .await
            .expect("get");
        let v = if r.status == 200 {
            r.json()
        } else {
            Value::Null
        };
        if pred(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{name} never became {what}: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn wait_ready(api: &Client, name: &str) -> Value {
    let v = wait_instance(api, name, "READY or FAILED", |v| {
        v["state"] == "READY" || v["state"] == "FAILED"
    })
    .await;
    if v["state"] != "READY" {
        let ops = api
            .get(&format!("{P}/operations"))
            .await
            .expect("operations");
        panic!("{name} is {}: {v}\noperations: {}", v["state"], ops.text());
    }
    v
}

pub async fn wait_gone(api: &Client, name: &str) {
    wait_instance(api, name, "gone", |v| v.is_null()).await;
}

pub fn port_of(v: &Value) -> u16 {
    assert_eq!(v["endpoint"]["host"], "127.0.0.1", "{v}");
    v["endpoint"]["port"].as_u64().unwrap_or(0) as u16
}

/// Creates an instance of `engine` (fields of `extra` added or replaced) and waits until READY.
pub async fn create_instance(api: &Client, engine: &Engine, name: &str, extra: Value) -> Value {
    let mut body = json!({"name": name, "engine": engine.api_name, "tier": "db-micro",
                          "storage_gb": 10, "admin_password": "Admin-pass-1"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    expect(api, "POST", &format!("{P}/instances"), Some(body), 202).await;
    wait_ready(api, name).await
}

/// The server binary, started on a free port with `--engines real`; SIGKILLed when dropped.
pub struct Process {
    child: std::process::Child,
    pub addr: SocketAddr,
}

impl Process {
    pub fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clouddb-server"))
            .args(["--listen", "127.0.0.1:0", "--engines", "real"])
            .args(["--token", "tok-a=proj-a"])
            .arg("--data")
            .arg(dir.join("clouddb.db"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn clouddb-server");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self { child, addr }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}
