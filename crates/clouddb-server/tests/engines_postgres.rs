//! `--engines real` with PostgreSQL: every instance is a real cluster. These tests create
//! instances through the API and check them with `psql` over TCP: logins of the admin and of
//! created users, grants by role, firewall rules as pg_hba.conf entries, backups as dumps that a
//! restore loads, crash detection and the restart action, a tier change, kill -9 of the server,
//! and that a delete leaves no process and no directory.
//!
//! They skip (saying why) when PostgreSQL is not installed, unless `CI` is set: then a missing
//! engine fails them. Every engine a test starts is stopped by a drop guard, also when it fails.

mod common;

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clouddb_server::engine::EngineDriver;
use clouddb_server::engine::postgres::Postgres;
use clouddb_server::http_client::Client;
use clouddb_server::{Config, EngineMode};
use serde_json::{Value, json};

use common::{P, Server, start_with};

/// Whether PostgreSQL is there; without it the test is skipped, except under CI.
fn postgres_or_skip(test: &str) -> bool {
    match Postgres::default().check_installed() {
        Ok(()) => true,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping {test}: {e} (set CI=true to make this a failure)");
            false
        }
        Err(e) => panic!("{test}: PostgreSQL is required under CI: {e}"),
    }
}

/// Stops every engine under a directory when dropped (SIGQUIT: PostgreSQL's immediate shutdown),
/// so a failing test leaves no server behind.
struct EngineGuard(PathBuf);

impl Drop for EngineGuard {
    fn drop(&mut self) {
        for pid in postmaster_pids(&self.0) {
            let _ = Command::new("kill")
                .arg("-QUIT")
                .arg(pid.to_string())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !engine_processes(&self.0).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The pids in every `postmaster.pid` under `root`.
fn postmaster_pids(root: &Path) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "postmaster.pid")
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

/// Processes whose command line names `root` (the engines of a test).
fn engine_processes(root: &Path) -> Vec<String> {
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

fn real_config(dir: &Path) -> Config {
    Config {
        data: Some(dir.join("clouddb.db")),
        engines: EngineMode::Real,
        ..common::config()
    }
}

/// Runs `sql` with psql over TCP as `user`; stdout (unaligned, tuples only) or stderr.
fn psql(port: u16, user: &str, password: &str, db: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
        ])
        .args(["-p", &port.to_string(), "-U", user, "-d", db, "-c", sql])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Retries `check` for a few seconds (a pg_hba.conf reload is asynchronous) until it holds.
fn eventually(what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match check() {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("{what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn login_works(port: u16, user: &str, pw: &str, db: &str) {
    eventually(&format!("{user} logs in"), || {
        psql(port, user, pw, db, "SELECT 1").map(|_| ())
    });
}

fn login_refused(port: u16, user: &str, pw: &str, db: &str) {
    eventually(&format!("{user} is refused"), || {
        match psql(port, user, pw, db, "SELECT 1") {
            Ok(_) => Err("the login worked".into()),
            Err(e) if e.contains("no pg_hba.conf entry") => Ok(()),
            Err(e) => Err(format!("unexpected error: {e}")),
        }
    });
}

async fn expect(api: &Client, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
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

/// Polls the instance until `pred` holds on it (real time: engines take real time).
async fn wait_instance(
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

async fn wait_ready(api: &Client, name: &str) -> Value {
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

async fn wait_gone(api: &Client, name: &str) {
    wait_instance(api, name, "gone", |v| v.is_null()).await;
}

fn port_of(v: &Value) -> u16 {
    assert_eq!(v["endpoint"]["host"], "127.0.0.1", "{v}");
    v["endpoint"]["port"].as_u64().unwrap_or(0) as u16
}

async fn create_instance(api: &Client, name: &str, extra: Value) -> Value {
    let mut body = json!({"name": name, "engine": "postgres", "tier": "db-micro",
                          "storage_gb": 10, "admin_password": "Admin-pass-1"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    expect(api, "POST", &format!("{P}/instances"), Some(body), 202).await;
    wait_ready(api, name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_instance_is_a_real_cluster() {
    if !postgres_or_skip("a_postgres_instance_is_a_real_cluster") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let _guard = EngineGuard(dir.path().to_path_buf());
    let s: Server = start_with(real_config(dir.path())).await;
    let api = &s.api;
    let i = format!("{P}/instances/pg1");

    let started = Instant::now();
    let inst = create_instance(api, "pg1", json!({})).await;
    eprintln!("cold create: {} ms", started.elapsed().as_millis());
    let port = port_of(&inst);
    expect(
        api,
        "POST",
        &format!("{i}/databases"),
        Some(json!({"name": "orders"})),
        201,
    )
    .await;
    let users = format!("{i}/users");
    expect(
        api,
        "POST",
        &users,
        Some(json!({"name": "app", "password": "App-pass-1", "roles": ["readwrite"]})),
        201,
    )
    .await;
    expect(
        api,
        "POST",
        &users,
        Some(json!({"name": "rep", "password": "Rep-pass-1", "roles": ["readonly"]})),
        201,
    )
    .await;

    // No rule: only the socket is open. A rule for another network does not open 127.0.0.1.
    login_refused(port, "dbadmin", "Admin-pass-1", "orders");
    let rules = format!("{i}/firewallRules");
    expect(
        api,
        "POST",
        &rules,
        Some(json!({"name": "internal", "cidr": "10.0.0.0/8"})),
        201,
    )
    .await;
    login_refused(port, "app", "App-pass-1", "orders");
    expect(
        api,
        "POST",
        &rules,
        Some(json!({"name": "loopback", "cidr": "127.0.0.1/32"})),
        201,
    )
    .await;
    login_works(port, "dbadmin", "Admin-pass-1", "orders");
    assert!(psql(port, "app", "wrong-password", "orders", "SELECT 1").is_err());

    // Roles are grants: readwrite writes, readonly reads (also tables created later) and cannot write.
    let rw = psql(
        port,
        "app",
        "App-pass-1",
        "orders",
        "CREATE TABLE items (id int PRIMARY KEY, label text); INSERT INTO items VALUES (1, 'first'); SELECT label FROM items",
    );
    assert_eq!(rw.as_deref(), Ok("first"), "{rw:?}");
    assert_eq!(
        psql(
            port,
            "rep",
            "Rep-pass-1",
            "orders",
            "SELECT label FROM items"
        )
        .as_deref(),
        Ok("first")
    );
    let denied = psql(
        port,
        "rep",
        "Rep-pass-1",
        "orders",
        "INSERT INTO items VALUES (2, 'no')",
    );
    assert!(
        denied
            .as_ref()
            .is_err_and(|e| e.contains("permission denied")),
        "{denied:?}"
    );
    assert_eq!(
        psql(
            port,
            "dbadmin",
            "Admin-pass-1",
            "orders",
            "SELECT count(*) FROM items"
        )
        .as_deref(),
        Ok("1")
    );

    // An engine refusal is 500 ENGINE_ERROR and nothing is recorded (PostgreSQL has no utf8mb4).
    let r = api
        .post(
            &format!("{i}/databases"),
            &json!({"name": "bad", "charset": "utf8mb4"}),
        )
        .await
        .expect("create");
    common::assert_problem(&r, 500, "ENGINE_ERROR");
    expect(api, "GET", &format!("{i}/databases/bad"), None, 404).await;
    // A write the engine took but SQLite could not record is undone in the engine.
    s.state.set_storage_read_only(true);
    let r = api
        .post(
            &users,
            &json!({"name": "ghost", "password": "Ghost-pass-1", "roles": ["readonly"]}),
        )
        .await
        .expect("create");
    s.state.set_storage_read_only(false);
    common::assert_problem(&r, 500, "INTERNAL");
    let ghosts = psql(
        port,
        "dbadmin",
        "Admin-pass-1",
        "orders",
        "SELECT count(*) FROM pg_roles WHERE rolname = 'ghost'",
    );
    assert_eq!(ghosts.as_deref(), Ok("0"));

    // Removing the loopback rule closes TCP again.
    expect(api, "DELETE", &format!("{rules}/loopback"), None, 204).await;
    login_refused(port, "app", "App-pass-1", "orders");
    expect(
        api,
        "POST",
        &rules,
        Some(json!({"name": "loopback", "cidr": "127.0.0.0/8"})),
        201,
    )
    .await;
    login_works(port, "app", "App-pass-1", "orders");

    // A backup is a dump file of the real size; a restore loads it into a new cluster.
    let started = Instant::now();
    let b = expect(
        api,
        "POST",
        &format!("{i}/backups"),
        Some(json!({"name": "pg1-b1"})),
        201,
    )
    .await;
    eprintln!("backup: {} ms", started.elapsed().as_millis());
    let dump = dir.path().join("backups/proj-a/pg1-b1.sql");
    let size = std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0);
    assert!(size > 0 && b["size_bytes"] == json!(size), "{b} vs {size}");
    let started = Instant::now();
    let restored = create_instance(
        api,
        "pg2",
        json!({"restore_from_backup": "pg1-b1", "admin_password": "Admin-pass-2"}),
    )
    .await;
    eprintln!("restore: {} ms", started.elapsed().as_millis());
    let port2 = port_of(&restored);
    assert_ne!(port2, port);
    expect(
        api,
        "POST",
        &format!("{P}/instances/pg2/firewallRules"),
        Some(json!({"name": "loopback", "cidr": "127.0.0.1/32"})),
        201,
    )
    .await;
    login_works(port2, "app", "App-pass-1", "orders");
    assert_eq!(
        psql(
            port2,
            "app",
            "App-pass-1",
            "orders",
            "SELECT label FROM items"
        )
        .as_deref(),
        Ok("first")
    );
    // The restored admin has this create's password, not the old one.
    login_works(port2, "dbadmin", "Admin-pass-2", "orders");
    assert!(psql(port2, "dbadmin", "Admin-pass-1", "orders", "SELECT 1").is_err());

    // A crashed engine makes the instance FAILED; restart brings it back with its data.
    for pid in postmaster_pids(
        &dir.path()
            .join("engines/proj-a")
            .join(format!("pg1-{}", inst["uid"].as_str().unwrap_or_default())),
    ) {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
    wait_instance(api, "pg1", "FAILED", |v| v["state"] == "FAILED").await;
    expect(api, "POST", &format!("{i}/restart"), None, 202).await;
    wait_ready(api, "pg1").await;
    assert_eq!(
        psql(
            port,
            "rep",
            "Rep-pass-1",
            "orders",
            "SELECT label FROM items"
        )
        .as_deref(),
        Ok("first")
    );

    // A tier change restarts the engine with the tier's settings; the admin password is real.
    expect(api, "PATCH", &i, Some(json!({"tier": "db-small"})), 202).await;
    wait_instance(api, "pg1", "db-small and READY", |v| {
        v["tier"] == "db-small" && v["state"] == "READY"
    })
    .await;
    assert_eq!(
        psql(
            port,
            "dbadmin",
            "Admin-pass-1",
            "orders",
            "SHOW shared_buffers"
        )
        .as_deref(),
        Ok("64MB")
    );
    expect(
        api,
        "PATCH",
        &i,
        Some(json!({"admin_password": "Admin-pass-3"})),
        202,
    )
    .await;
    wait_instance(api, "pg1", "without operation", |v| {
        v["current_operation"].is_null()
    })
    .await;
    login_works(port, "dbadmin", "Admin-pass-3", "orders");

    // A user's roles change in the engine; a dropped user cannot log in.
    expect(
        api,
        "PATCH",
        &format!("{users}/rep"),
        Some(json!({"roles": ["readwrite"]})),
        200,
    )
    .await;
    assert_eq!(
        psql(
            port,
            "rep",
            "Rep-pass-1",
            "orders",
            "INSERT INTO items VALUES (2, 'second') RETURNING id"
        )
        .as_deref(),
        Ok("2")
    );
    expect(api, "DELETE", &format!("{users}/rep"), None, 204).await;
    assert!(psql(port, "rep", "Rep-pass-1", "orders", "SELECT 1").is_err());

    // Deleting a backup removes its dump.
    expect(api, "DELETE", &format!("{P}/backups/pg1-b1"), None, 204).await;
    assert!(!dump.exists());

    // Delete: a real final dump, then no process and no directory.
    expect(
        api,
        "DELETE",
        &format!("{i}?final_backup_name=pg1-last"),
        None,
        202,
    )
    .await;
    expect(
        api,
        "DELETE",
        &format!("{P}/instances/pg2?skip_final_backup=true"),
        None,
        202,
    )
    .await;
    wait_gone(api, "pg1").await;
    wait_gone(api, "pg2").await;
    let last = expect(api, "GET", &format!("{P}/backups/pg1-last"), None, 200).await;
    let final_dump = dir.path().join("backups/proj-a/pg1-last.sql");
    let size = std::fs::metadata(&final_dump).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 0 && last["size_bytes"] == json!(size),
        "{last} vs {size}"
    );
    assert!(
        engine_processes(dir.path()).is_empty(),
        "{:?}",
        engine_processes(dir.path())
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("engines/proj-a"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mysql_instance_is_refused_without_its_driver() {
    if !postgres_or_skip("a_mysql_instance_is_refused_without_its_driver") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let _guard = EngineGuard(dir.path().to_path_buf());
    let s = start_with(real_config(dir.path())).await;
    if s.state
        .engines
        .as_ref()
        .is_some_and(|b| b.driver("mysql").is_ok())
    {
        return; // the MariaDB driver is in this build; its own tests cover it
    }
    let body = json!({"name": "my1", "engine": "mysql", "tier": "db-micro", "storage_gb": 10});
    let r = s
        .api
        .post(&format!("{P}/instances"), &body)
        .await
        .expect("create");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text()
            .contains("engine mysql has no real driver in this build"),
        "{}",
        r.text()
    );
}

/// The server binary, started on a free port with `--engines real`; SIGKILLed when dropped.
struct Process {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Process {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clouddb-server"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--engines",
                "real",
                "--token",
                "tok-a=proj-a",
            ])
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

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn terminate(&mut self) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_server_loses_nothing() {
    if !postgres_or_skip("kill_9_of_the_server_loses_nothing") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let _guard = EngineGuard(dir.path().to_path_buf());
    let mut server = Process::start(dir.path());
    let api = Client::new(server.addr, "tok-a");
    let inst = create_instance(&api, "pg1", json!({})).await;
    let port = port_of(&inst);
    let i = format!("{P}/instances/pg1");
    expect(
        &api,
        "POST",
        &format!("{i}/databases"),
        Some(json!({"name": "shop"})),
        201,
    )
    .await;
    expect(
        &api,
        "POST",
        &format!("{i}/users"),
        Some(json!({"name": "app", "password": "App-pass-1", "roles": ["readwrite"]})),
        201,
    )
    .await;
    expect(
        &api,
        "POST",
        &format!("{i}/firewallRules"),
        Some(json!({"name": "loopback", "cidr": "127.0.0.1/32"})),
        201,
    )
    .await;
    login_works(port, "app", "App-pass-1", "shop");
    assert!(
        psql(
            port,
            "app",
            "App-pass-1",
            "shop",
            "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')"
        )
        .is_ok()
    );

    // kill -9: the engine keeps running; the next server adopts it.
    server.kill9();
    assert!(!engine_processes(dir.path()).is_empty());
    let mut server = Process::start(dir.path());
    let api = Client::new(server.addr, "tok-a");
    let v = wait_ready(&api, "pg1").await;
    assert_eq!(port_of(&v), port);
    assert_eq!(
        psql(port, "app", "App-pass-1", "shop", "SELECT v FROM t").as_deref(),
        Ok("kept")
    );

    // A graceful stop stops the engine; the next server starts it again from its state.
    server.terminate();
    assert!(
        engine_processes(dir.path()).is_empty(),
        "{:?}",
        engine_processes(dir.path())
    );
    let server = Process::start(dir.path());
    let api = Client::new(server.addr, "tok-a");
    wait_ready(&api, "pg1").await;
    login_works(port, "app", "App-pass-1", "shop");
    assert_eq!(
        psql(port, "app", "App-pass-1", "shop", "SELECT v FROM t").as_deref(),
        Ok("kept")
    );

    expect(
        &api,
        "DELETE",
        &format!("{i}?skip_final_backup=true"),
        None,
        202,
    )
    .await;
    wait_gone(&api, "pg1").await;
    assert!(
        engine_processes(dir.path()).is_empty(),
        "{:?}",
        engine_processes(dir.path())
    );
    assert!(
        !dir.path()
            .join("engines/proj-a")
            .join(format!("pg1-{}", inst["uid"].as_str().unwrap_or_default()))
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reset_removes_the_engines() {
    if !postgres_or_skip("an_admin_reset_removes_the_engines") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let _guard = EngineGuard(dir.path().to_path_buf());
    let s = start_with(real_config(dir.path())).await;
    create_instance(&s.api, "pg1", json!({})).await;
    expect(
        &s.api,
        "POST",
        &format!("{P}/instances/pg1/backups"),
        Some(json!({"name": "pg1-b"})),
        201,
    )
    .await;
    assert!(!engine_processes(dir.path()).is_empty());
    expect(&s.admin, "POST", "/admin/reset", None, 204).await;
    assert!(
        engine_processes(dir.path()).is_empty(),
        "{:?}",
        engine_processes(dir.path())
    );
    assert!(!dir.path().join("backups/proj-a/pg1-b.sql").exists());
    let left: Vec<_> = std::fs::read_dir(dir.path().join("engines/proj-a"))
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    assert!(left.is_empty(), "{left:?}");
    expect(&s.api, "GET", &format!("{P}/instances/pg1"), None, 404).await;
}
