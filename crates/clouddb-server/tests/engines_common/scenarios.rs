//! The scenarios every real engine goes through, written once over [`Engine`].

use std::process::Command;
use std::time::Instant;

use clouddb_server::http_client::Client;
use serde_json::json;

use super::engine::Engine;
use super::harness::{
    EngineGuard, Process, add, create_instance, engine_dirs_left, engine_processes, eventually,
    expect, pids, port_of, real_config, wait_gone, wait_instance, wait_ready,
};
use crate::common::{self, P, start_with};

fn login_works(e: &Engine, port: u16, user: &str, pw: &str, db: &str) {
    eventually(&format!("{user} logs in"), || {
        (e.query)(port, user, pw, db, "SELECT 1").map(|_| ())
    });
}

fn login_refused(e: &Engine, port: u16, user: &str, pw: &str, db: &str) {
    eventually(&format!("{user} is refused"), || {
        match (e.query)(port, user, pw, db, "SELECT 1") {
            Ok(_) => Err("the login worked".into()),
            Err(m) if e.refused.iter().any(|r| m.contains(r)) => Ok(()),
            Err(m) => Err(format!("unexpected error: {m}")),
        }
    });
}

/// Opens TCP logins from 127.0.0.1 to instance `inst`.
async fn open_loopback(api: &Client, inst: &str) {
    let rule = json!({"name": "loopback", "cidr": "127.0.0.1/32"});
    add(api, inst, "firewallRules", rule).await;
}

/// Whether no engine process and no engine directory is left under `root`.
fn assert_nothing_left(root: &std::path::Path) {
    let procs = engine_processes(root);
    assert!(procs.is_empty(), "{procs:?}");
    let left = engine_dirs_left(root);
    assert!(left.is_empty(), "{left:?}");
}

/// A test's directory and the guard of its engines; the guard is dropped first (field order), so
/// the engines are stopped before their directory is removed.
struct Fixture {
    _guard: EngineGuard,
    dir: tempfile::TempDir,
}

/// The fixture of `test` on engine `e`, or `None` when the test is skipped (see [`Engine::available`]).
fn fixture(e: &'static Engine, test: &str) -> Option<Fixture> {
    if !e.available(test) {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    Some(Fixture {
        _guard: EngineGuard {
            root: dir.path().to_path_buf(),
            engine: e,
        },
        dir,
    })
}

/// Create, logins by firewall rule, grants by role, engine errors, backup and restore, a crash and
/// the restart action, a tier change, password and role changes, and a delete leaving nothing.
pub async fn a_real_instance(e: &'static Engine) {
    let Some(fx) = fixture(e, "a_real_instance") else {
        return;
    };
    let dir = &fx.dir;
    let q = e.query;
    let s = start_with(real_config(dir.path())).await;
    let api = &s.api;
    let i = format!("{P}/instances/db1");

    let started = Instant::now();
    let inst = create_instance(api, e, "db1", json!({})).await;
    eprintln!(
        "{}: cold create: {} ms",
        e.label,
        started.elapsed().as_millis()
    );
    let port = port_of(&inst);
    add(api, "db1", "databases", json!({"name": "orders"})).await;
    let user =
        |name: &str, pw: &str, role: &str| json!({"name": name, "password": pw, "roles": [role]});
    add(api, "db1", "users", user("app", "App-pass-1", "readwrite")).await;
    add(api, "db1", "users", user("rep", "Rep-pass-1", "readonly")).await;

    // No rule: only the socket is open. A rule for another network does not open 127.0.0.1.
    login_refused(e, port, "dbadmin", "Admin-pass-1", "orders");
    let rule = |name: &str, cidr: &str| json!({"name": name, "cidr": cidr});
    add(api, "db1", "firewallRules", rule("internal", "10.0.0.0/8")).await;
    login_refused(e, port, "app", "App-pass-1", "orders");
    open_loopback(api, "db1").await;
    login_works(e, port, "dbadmin", "Admin-pass-1", "orders");
    assert!(q(port, "app", "wrong-password", "orders", "SELECT 1").is_err());

    // Roles are grants: readwrite writes, readonly reads (also tables created later) and cannot write.
    let rw = q(
        port,
        "app",
        "App-pass-1",
        "orders",
        "CREATE TABLE items (id int PRIMARY KEY, label text); INSERT INTO items VALUES (1, 'first'); SELECT label FROM items",
    );
    assert_eq!(rw.as_deref(), Ok("first"), "{rw:?}");
    let rep = |sql: &str| q(port, "rep", "Rep-pass-1", "orders", sql);
    assert_eq!(rep("SELECT label FROM items").as_deref(), Ok("first"));
    let denied = rep("INSERT INTO items VALUES (2, 'no')");
    assert!(
        denied.as_ref().is_err_and(|m| m.contains(e.write_denied)),
        "{denied:?}"
    );
    let admin = |pw: &str, sql: &str| q(port, "dbadmin", pw, "orders", sql);
    assert_eq!(
        admin("Admin-pass-1", "SELECT count(*) FROM items").as_deref(),
        Ok("1")
    );

    // An engine refusal is 500 ENGINE_ERROR and nothing is recorded.
    let r = api
        .post(
            &format!("{i}/databases"),
            &json!({"name": "bad", "charset": e.bad_charset}),
        )
        .await
        .expect("create");
    common::assert_problem(&r, 500, "ENGINE_ERROR");
    expect(api, "GET", &format!("{i}/databases/bad"), None, 404).await;
    // A write the engine took but SQLite could not record is undone in the engine.
    s.state.set_storage_read_only(true);
    let r = api
        .post(
            &format!("{i}/users"),
            &user("ghost", "Ghost-pass-1", "readonly"),
        )
        .await
        .expect("create");
    s.state.set_storage_read_only(false);
    common::assert_problem(&r, 500, "INTERNAL");
    assert_eq!(admin("Admin-pass-1", e.count_ghosts).as_deref(), Ok("0"));

    // Removing the loopback rule closes TCP again.
    let rules = format!("{i}/firewallRules");
    expect(api, "DELETE", &format!("{rules}/loopback"), None, 204).await;
    login_refused(e, port, "app", "App-pass-1", "orders");
    add(api, "db1", "firewallRules", rule("loopback", "127.0.0.0/8")).await;
    login_works(e, port, "app", "App-pass-1", "orders");

    // A backup is a dump file of the real size; a restore loads it into a new engine.
    let started = Instant::now();
    let b = add(api, "db1", "backups", json!({"name": "db1-b1"})).await;
    eprintln!("{}: backup: {} ms", e.label, started.elapsed().as_millis());
    let dump = dir.path().join("backups/proj-a/db1-b1.sql");
    let size = std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0);
    assert!(size > 0 && b["size_bytes"] == json!(size), "{b} vs {size}");
    let started = Instant::now();
    let restored = create_instance(
        api,
        e,
        "db2",
        json!({"restore_from_backup": "db1-b1", "admin_password": "Admin-pass-2"}),
    )
    .await;
    eprintln!("{}: restore: {} ms", e.label, started.elapsed().as_millis());
    let port2 = port_of(&restored);
    assert_ne!(port2, port);
    open_loopback(api, "db2").await;
    login_works(e, port2, "app", "App-pass-1", "orders");
    assert_eq!(
        q(
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
    login_works(e, port2, "dbadmin", "Admin-pass-2", "orders");
    assert!(q(port2, "dbadmin", "Admin-pass-1", "orders", "SELECT 1").is_err());

    // A crashed engine makes the instance FAILED; restart brings it back with its data.
    let uid = inst["uid"].as_str().unwrap_or_default();
    let engine_dir = dir.path().join("engines/proj-a").join(format!("db1-{uid}"));
    let crashed = pids(&engine_dir, e);
    assert!(
        !crashed.is_empty(),
        "no pid file under {}",
        engine_dir.display()
    );
    for pid in crashed {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
    wait_instance(api, "db1", "FAILED", |v| v["state"] == "FAILED").await;
    expect(api, "POST", &format!("{i}/restart"), None, 202).await;
    wait_ready(api, "db1").await;
    assert_eq!(rep("SELECT label FROM items").as_deref(), Ok("first"));

    // A tier change restarts the engine with the tier's settings; the admin password is real.
    expect(api, "PATCH", &i, Some(json!({"tier": "db-small"})), 202).await;
    wait_instance(api, "db1", "db-small and READY", |v| {
        v["tier"] == "db-small" && v["state"] == "READY"
    })
    .await;
    assert_eq!(
        admin("Admin-pass-1", e.buffer_sql).as_deref(),
        Ok(e.buffer_db_small)
    );
    let body = json!({"admin_password": "Admin-pass-3"});
    expect(api, "PATCH", &i, Some(body), 202).await;
    wait_instance(api, "db1", "without operation", |v| {
        v["current_operation"].is_null()
    })
    .await;
    login_works(e, port, "dbadmin", "Admin-pass-3", "orders");

    // A user's roles change in the engine; a dropped user cannot log in.
    let users = format!("{i}/users");
    let body = json!({"roles": ["readwrite"]});
    expect(api, "PATCH", &format!("{users}/rep"), Some(body), 200).await;
    assert_eq!(
        rep("INSERT INTO items VALUES (2, 'second') RETURNING id").as_deref(),
        Ok("2")
    );
    expect(api, "DELETE", &format!("{users}/rep"), None, 204).await;
    assert!(rep("SELECT 1").is_err());

    // Deleting a backup removes its dump.
    expect(api, "DELETE", &format!("{P}/backups/db1-b1"), None, 204).await;
    assert!(!dump.exists());

    // Delete: a real final dump, then no process and no directory.
    let final_backup = format!("{i}?final_backup_name=db1-last");
    expect(api, "DELETE", &final_backup, None, 202).await;
    let skip = format!("{P}/instances/db2?skip_final_backup=true");
    expect(api, "DELETE", &skip, None, 202).await;
    wait_gone(api, "db1").await;
    wait_gone(api, "db2").await;
    let last = expect(api, "GET", &format!("{P}/backups/db1-last"), None, 200).await;
    let final_dump = dir.path().join("backups/proj-a/db1-last.sql");
    let size = std::fs::metadata(&final_dump).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 0 && last["size_bytes"] == json!(size),
        "{last} vs {size}"
    );
    assert_nothing_left(dir.path());
}

/// kill -9 of the server binary leaves the engine running and the next server adopts it; a
/// graceful stop stops it and the next server starts it again.
pub async fn kill_9_of_the_server_loses_nothing(e: &'static Engine) {
    let Some(fx) = fixture(e, "kill_9_of_the_server_loses_nothing") else {
        return;
    };
    let dir = &fx.dir;
    let q = e.query;
    let mut server = Process::start(dir.path());
    let api = Client::new(server.addr, "tok-a");
    let inst = create_instance(&api, e, "db1", json!({})).await;
    let port = port_of(&inst);
    add(&api, "db1", "databases", json!({"name": "shop"})).await;
    let app = json!({"name": "app", "password": "App-pass-1", "roles": ["readwrite"]});
    add(&api, "db1", "users", app).await;
    open_loopback(&api, "db1").await;
    login_works(e, port, "app", "App-pass-1", "shop");
    let app = |sql: &str| q(port, "app", "App-pass-1", "shop", sql);
    let made = app("CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')");
    assert!(made.is_ok(), "{made:?}");

    // kill -9: the engine keeps running; the next server adopts it.
    server.kill9();
    assert!(!engine_processes(dir.path()).is_empty());
    let mut server = Process::start(dir.path());
    let api = Client::new(server.addr, "tok-a");
    let v = wait_ready(&api, "db1").await;
    assert_eq!(port_of(&v), port);
    assert_eq!(app("SELECT v FROM t").as_deref(), Ok("kept"));

    // A graceful stop stops the engine; the next server starts it again from its state.
    server.terminate();
    let procs = engine_processes(dir.path());
    assert!(procs.is_empty(), "{procs:?}");
    let server = Process::start(dir.path());
    let api = Client::new(server.addr, "tok-a");
    wait_ready(&api, "db1").await;
    login_works(e, port, "app", "App-pass-1", "shop");
    assert_eq!(app("SELECT v FROM t").as_deref(), Ok("kept"));

    let skip = format!("{P}/instances/db1?skip_final_backup=true");
    expect(&api, "DELETE", &skip, None, 202).await;
    wait_gone(&api, "db1").await;
    assert_nothing_left(dir.path());
}

/// `POST /admin/reset` stops and removes every engine and dump.
pub async fn an_admin_reset_removes_the_engines(e: &'static Engine) {
    let Some(fx) = fixture(e, "an_admin_reset_removes_the_engines") else {
        return;
    };
    let dir = &fx.dir;
    let s = start_with(real_config(dir.path())).await;
    create_instance(&s.api, e, "db1", json!({})).await;
    add(&s.api, "db1", "backups", json!({"name": "db1-b"})).await;
    assert!(!engine_processes(dir.path()).is_empty());
    expect(&s.admin, "POST", "/admin/reset", None, 204).await;
    assert_nothing_left(dir.path());
    assert!(!dir.path().join("backups/proj-a/db1-b.sql").exists());
    expect(&s.api, "GET", &format!("{P}/instances/db1"), None, 404).await;
}
