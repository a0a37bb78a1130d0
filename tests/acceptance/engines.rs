//! `clouddb-server --engines real`: an applied configuration is a real PostgreSQL cluster that
//! `psql` connects to, or a MariaDB server that `mariadb` connects to, with the databases, users,
//! passwords and firewall rules Terraform declared (issue 13). The app-stack shape, in steps: the instance with a database, a readwrite user and
//! firewall rules; a row written with psql; a backup and an instance restored from it, where the
//! row is read back; a firewall rule set without 127.0.0.1 that refuses the login, and again with
//! it; destroy, after which no engine process and no engine directory remain.
//!
//! Skipped (with a note) when the engine is not installed, unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

const APP_PASSWORD: &str = "App-pass-0123";

/// One engine the test runs against: how to find it and how a client talks to it.
struct EngineCase {
    /// The API's engine name.
    engine: &'static str,
    /// What to install, for the skip note.
    package: &'static str,
    installed: fn() -> bool,
    /// A client over TCP as `user` (password [`APP_PASSWORD`]) on `port`: stdout or stderr.
    client: fn(u16, &str, &str, &str) -> Result<String, String>,
    /// Creates the table and writes the row, then selects its label.
    write_row: &'static str,
    /// Whether a client error is the engine refusing the source address.
    refused: fn(&str) -> bool,
}

const POSTGRES: EngineCase = EngineCase {
    engine: "postgres",
    package: "postgresql",
    installed: postgres_installed,
    client: psql,
    write_row: "CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, label text); \
                INSERT INTO items VALUES (1, 'first') ON CONFLICT DO NOTHING; SELECT label FROM items",
    refused: |e| e.contains("no pg_hba.conf entry"),
};

const MARIADB: EngineCase = EngineCase {
    engine: "mysql",
    package: "mariadb-server",
    installed: mariadb_installed,
    client: mariadb,
    write_row: "CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, label text); \
                INSERT IGNORE INTO items VALUES (1, 'first'); SELECT label FROM items",
    // No account of any user matches the source: 1130; an account of another user: 1045.
    refused: |e| e.contains("is not allowed to connect") || e.contains("Access denied"),
};

fn in_dirs(dirs: &[&str], program: &str) -> bool {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()));
    on_path || dirs.iter().any(|d| Path::new(d).join(program).is_file())
}

/// Whether PostgreSQL's server programs are installed (as the server looks for them).
fn postgres_installed() -> bool {
    let on_path = std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| d.join("pg_ctl").is_file() && d.join("initdb").is_file())
    });
    on_path
        || std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().join("bin/pg_ctl").is_file())
}

/// Whether MariaDB's server and client are installed (as the server looks for them).
fn mariadb_installed() -> bool {
    let dirs = ["/usr/sbin", "/usr/bin", "/usr/local/bin"];
    in_dirs(&dirs, "mariadbd") && in_dirs(&dirs, "mariadb-install-db") && in_dirs(&dirs, "mariadb")
}

fn installed_or_skip(case: &EngineCase, name: &str) -> bool {
    if (case.installed)() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{name}: {} is required under CI (scripts/install-engines.sh installs it)",
        case.package
    );
    eprintln!(
        "SKIP {name}: {} is not installed (scripts/install-engines.sh)",
        case.package
    );
    false
}

/// The `mariadb` client over TCP as `user` on `port`: stdout, or stderr as the error.
fn mariadb(port: u16, user: &str, db: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("mariadb")
        .args([
            "--no-defaults",
            "--protocol=TCP",
            "-h",
            "127.0.0.1",
            "-N",
            "-B",
        ])
        .args([
            "-P",
            &port.to_string(),
            "-u",
            user,
            "-D",
            db,
            "--connect-timeout=5",
        ])
        .args(["-e", sql])
        .env("MYSQL_PWD", APP_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running mariadb: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// psql over TCP as `user` on `port`: stdout, or stderr as the error.
fn psql(port: u16, user: &str, db: &str, sql: &str) -> Result<String, String> {
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
        .env("PGPASSWORD", APP_PASSWORD)
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

/// `check` holds within a few seconds (a pg_hba.conf reload is asynchronous).
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

fn port(env: &Env, addr: &str) -> u16 {
    assert_eq!(env.state_attr(addr, "endpoint_host"), json_str("127.0.0.1"));
    env.state_attr(addr, "endpoint_port").as_u64().unwrap_or(0) as u16
}

/// Engine processes (their command lines name the server's data directory) and engine
/// directories left under `data`.
fn leftovers(data: &Path) -> (Vec<String>, Vec<PathBuf>) {
    let procs = Command::new("pgrep")
        .arg("-af")
        .arg(data.join("engines"))
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.contains("pgrep"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let dirs = std::fs::read_dir(data.join("engines").join(PROJECT))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    (procs, dirs)
}

/// The restart action of the main instance (Terraform 1.14+, as the first CLI of the matrix is).
const RESTART_ACTION: &str = r#"action "clouddb_instance_restart" "main" {
  config {
    instance = clouddb_instance.main.name
  }
}
"#;

/// Kills every process of `instance`'s engine (its command line names the instance's directory
/// under the server's data directory) with SIGKILL: a crash, not a shutdown.
fn crash_engine(data: &Path, instance: &str) {
    let prefix = format!("{instance}-");
    let dir = std::fs::read_dir(data.join("engines").join(PROJECT))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .unwrap_or_else(|| {
            panic!(
                "no engine directory for {instance} under {}",
                data.display()
            )
        });
    let status = Command::new("pkill")
        .arg("-KILL")
        .arg("-f")
        .arg(&dir)
        .status()
        .expect("run pkill");
    assert!(status.success(), "no engine process of {instance} to kill");
}

/// `examples/app-stack/main.tf` as written, for `engine` (the example's is postgres).
fn app_stack_example(engine: &str) -> String {
    let hcl = include_str!("../../examples/app-stack/main.tf");
    assert!(
        hcl.contains("engine            = \"postgres\""),
        "the example names its engine"
    );
    hcl.replace(
        "engine            = \"postgres\"",
        &format!("engine            = \"{engine}\""),
    )
}

/// `access.tf`, beside the example: firewall rules that let this machine (127.0.0.1) reach the
/// restored instance and, with `main`, the main one too (the example's own rule is 10.0.0.0/8).
fn access(main: bool) -> String {
    let mut hcl = String::from(
        r#"resource "clouddb_firewall_rule" "restored_loopback" {
  instance = clouddb_instance.restored.name
  name     = "loopback"
  cidr     = "127.0.0.1/32"
}
"#,
    );
    if main {
        hcl.push_str(
            r#"
resource "clouddb_firewall_rule" "loopback" {
  instance = clouddb_instance.main.name
  name     = "loopback"
  cidr     = "127.0.0.1/32"
}
"#,
        );
    }
    hcl
}

#[test]
fn engines_postgres_app_stack() {
    app_stack(&POSTGRES, "engines_postgres_app_stack");
}

#[test]
fn engines_mariadb_app_stack() {
    app_stack(&MARIADB, "engines_mariadb_app_stack");
}

fn app_stack(case: &EngineCase, name: &str) {
    if !installed_or_skip(case, name) {
        return;
    }
    let client = case.client;
    for_first_terraform(name, |tf| {
        let mut env = Env::with_server(
            tf,
            ServerOpts {
                real_engines: true,
                ..ServerOpts::default()
            },
        );
        if env.tf_older_than(1, 11) {
            eprintln!(
                "skipping {name}: examples/app-stack needs Terraform 1.11 (write-only arguments)"
            );
            return;
        }
        env.extra_env
            .insert("TF_VAR_app_password".into(), APP_PASSWORD.into());
        let data = env
            .server
            .data_dir
            .clone()
            .expect("real engines keep a data dir");
        let write = |file: &str, hcl: &str| {
            std::fs::write(env.work.join(file), hcl).expect("write the configuration");
        };
        let apply = |extra: &[&str]| {
            let mut args = vec![
                "apply",
                "-input=false",
                "-no-color",
                "-auto-approve",
                "-parallelism=10",
            ];
            args.extend_from_slice(extra);
            env.tf_ok(&args);
            env.assert_plan(PlanExpect::Empty);
        };

        // The example as written (plus access from this machine): the app user writes a row.
        write("main.tf", &app_stack_example(case.engine));
        write("access.tf", &access(true));
        env.tf_ok(&["init", "-input=false", "-no-color"]);
        apply(&[]);
        let main = port(&env, "clouddb_instance.main");
        eventually("app writes a row", || {
            client(main, "app", "orders", case.write_row)
                .and_then(|o| if o == "first" { Ok(()) } else { Err(o) })
        });

        // The example's backup was taken before the row: take it again, and restore again from it
        // (the restored instance's rule goes with it: replacing an instance drops its children).
        apply(&[
            "-replace=clouddb_backup.baseline",
            "-replace=clouddb_instance.restored",
            "-replace=clouddb_firewall_rule.restored_loopback",
        ]);
        let restored = port(&env, "clouddb_instance.restored");
        assert_ne!(restored, main);
        eventually("the restored instance has the row", || {
            client(restored, "app", "orders", "SELECT label FROM items")
                .and_then(|o| if o == "first" { Ok(()) } else { Err(o) })
        });

        // Rules without 127.0.0.1 refuse the login; with it back, it works.
        write("access.tf", &access(false));
        apply(&[]);
        eventually("the login is refused", || {
            match client(main, "app", "orders", "SELECT 1") {
                Err(e) if (case.refused)(&e) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
        write("access.tf", &access(true));
        apply(&[]);
        eventually("the login works again", || {
            client(main, "app", "orders", "SELECT count(*) FROM items").map(|_| ())
        });

        // The engine crashes: the API says FAILED, the refresh warns about it, and the restart
        // action brings it back (the data with it).
        crash_engine(&data, "app-stack-db");
        eventually("the instance reads FAILED", || {
            match env
                .server
                .instance("app-stack-db")
                .map(|i| i["state"].clone())
            {
                Some(s) if s == "FAILED" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
        let plan = env.tf(&["plan", "-input=false", "-no-color"]);
        assert!(
            plan.combined()
                .contains("CloudDB instance \"app-stack-db\" is FAILED"),
            "the refresh warns about the crashed engine:\n{}",
            plan.combined()
        );
        write("restart.tf", RESTART_ACTION);
        env.tf_ok(&[
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-invoke=action.clouddb_instance_restart.main",
        ]);
        assert_eq!(
            env.server
                .instance("app-stack-db")
                .map(|i| i["state"].clone()),
            Some(json_str("READY"))
        );
        eventually("the row survives the crash", || {
            client(main, "app", "orders", "SELECT label FROM items")
                .and_then(|o| if o == "first" { Ok(()) } else { Err(o) })
        });
        env.assert_plan(PlanExpect::Empty);

        // Destroy: no engine process, no engine directory, no dump of the destroyed backup.
        env.tf_ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        let (procs, dirs) = leftovers(&data);
        assert!(procs.is_empty(), "engine processes left: {procs:?}");
        assert!(dirs.is_empty(), "engine directories left: {dirs:?}");
        let dumps: Vec<_> = std::fs::read_dir(data.join("backups").join(PROJECT))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(dumps.is_empty(), "backup dumps left: {dumps:?}");
        env.finish();
    });
}
