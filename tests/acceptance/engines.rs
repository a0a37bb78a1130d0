//! `clouddb-server --engines real`: an applied configuration is a real PostgreSQL cluster that
//! `psql` connects to, with the databases, users, passwords and firewall rules Terraform declared
//! (issue 13). The app-stack shape, in steps: the instance with a database, a readwrite user and
//! firewall rules; a row written with psql; a backup and an instance restored from it, where the
//! row is read back; a firewall rule set without 127.0.0.1 that refuses the login, and again with
//! it; destroy, after which no engine process and no engine directory remain.
//!
//! Skipped (with a note) when PostgreSQL is not installed, unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

const APP_PASSWORD: &str = "App-pass-0123";

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

fn postgres_or_skip(name: &str) -> bool {
    if postgres_installed() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{name}: PostgreSQL is required under CI (scripts/install-engines.sh installs it)"
    );
    eprintln!("SKIP {name}: PostgreSQL is not installed (scripts/install-engines.sh)");
    false
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

/// The app-stack resources; `backup` adds the backup and the restored instance, `loopback`
/// the firewall rule that lets 127.0.0.1 in.
fn config(backup: bool, loopback: bool) -> String {
    let mut hcl = String::from(
        r#"variable "app_password" {
  type      = string
  sensitive = true
}

resource "clouddb_instance" "main" {
  name              = "acc-real-db"
  engine            = "postgres"
  tier              = "db-micro"
  storage_gb        = 10
  admin_password    = "Admin-pass-0123"
  skip_final_backup = true
}

resource "clouddb_database" "orders" {
  instance = clouddb_instance.main.name
  name     = "orders"
}

resource "clouddb_user" "app" {
  instance = clouddb_instance.main.name
  name     = "app"
  roles    = ["readwrite"]
  password = var.app_password
}

resource "clouddb_firewall_rule" "internal" {
  instance = clouddb_instance.main.name
  name     = "internal"
  cidr     = "10.0.0.0/8"
}
"#,
    );
    if loopback {
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
    if backup {
        hcl.push_str(
            r#"
resource "clouddb_backup" "baseline" {
  instance = clouddb_instance.main.name
  name     = "acc-real-baseline"

  depends_on = [clouddb_database.orders, clouddb_user.app]
}

resource "clouddb_instance" "restored" {
  name                = "acc-real-restored"
  restore_from_backup = clouddb_backup.baseline.name
  tier                = "db-micro"
  storage_gb          = 10
  admin_password      = "Admin-pass-0123"
  skip_final_backup   = true
}

resource "clouddb_firewall_rule" "restored_loopback" {
  instance = clouddb_instance.restored.name
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
    if !postgres_or_skip("engines_postgres_app_stack") {
        return;
    }
    for_first_terraform("engines_postgres_app_stack", |tf| {
        let mut env = Env::with_server(
            tf,
            ServerOpts {
                real_engines: true,
                ..ServerOpts::default()
            },
        );
        env.extra_env
            .insert("TF_VAR_app_password".into(), APP_PASSWORD.into());
        let data = env
            .server
            .data_dir
            .clone()
            .expect("real engines keep a data dir");

        // The instance, its database, user and rules: the user writes a row over TCP.
        env.write_config(&config(false, true));
        env.apply_ok();
        let main = port(&env, "clouddb_instance.main");
        eventually("app writes a row", || {
            psql(main, "app", "orders",
                "CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, label text); \
                 INSERT INTO items VALUES (1, 'first') ON CONFLICT DO NOTHING; SELECT label FROM items")
                .and_then(|o| if o == "first" { Ok(()) } else { Err(o) })
        });

        // A backup, and an instance restored from it: the row is there.
        env.write_config(&config(true, true));
        env.apply_ok();
        let restored = port(&env, "clouddb_instance.restored");
        assert_ne!(restored, main);
        eventually("the restored instance has the row", || {
            psql(restored, "app", "orders", "SELECT label FROM items")
                .and_then(|o| if o == "first" { Ok(()) } else { Err(o) })
        });

        // Rules without 127.0.0.1 refuse the login; with it back, it works.
        env.write_config(&config(true, false));
        env.apply_ok();
        eventually("the login is refused", || {
            match psql(main, "app", "orders", "SELECT 1") {
                Err(e) if e.contains("no pg_hba.conf entry") => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
        env.write_config(&config(true, true));
        env.apply_ok();
        eventually("the login works again", || {
            psql(main, "app", "orders", "SELECT count(*) FROM items").map(|_| ())
        });

        // Destroy: no engine process, no engine directory, no dump of the destroyed backup.
        env.tf_ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        let (procs, dirs) = leftovers(&data);
        assert!(procs.is_empty(), "engine processes left: {procs:?}");
        assert!(dirs.is_empty(), "engine directories left: {dirs:?}");
        assert!(
            !data
                .join("backups")
                .join(PROJECT)
                .join("acc-real-baseline.sql")
                .exists()
        );
        env.finish();
    });
}
