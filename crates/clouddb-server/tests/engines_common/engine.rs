//! What differs between the two real engines as a test sees them: how to tell they are installed,
//! the client that logs in over TCP, the pid files, and the few SQL texts and error messages that
//! are engine-specific. Everything else in [`super::scenarios`] is the same for both.

use std::process::{Command, Stdio};

use clouddb_server::engine::mariadb::MariaDb;
use clouddb_server::engine::postgres::Postgres;
use clouddb_server::engine::{EngineDriver, EngineError};

/// One engine under test.
pub struct Engine {
    /// The API's engine name.
    pub api_name: &'static str,
    pub label: &'static str,
    /// Why the engine cannot run here, or Ok.
    pub installed: fn() -> Result<(), EngineError>,
    /// The name of the pid file in a data directory (holds the server's pid on its first line).
    pub pid_file: &'static str,
    /// The signal the drop guard stops a leftover server with.
    pub guard_signal: &'static str,
    /// Runs SQL over TCP: `(port, user, password, database, sql)`; rows or the client's stderr.
    pub query: fn(u16, &str, &str, &str, &str) -> Result<String, String>,
    /// What the client says when the access rules refuse a login (any one of them).
    pub refused: &'static [&'static str],
    /// What the client says when a readonly user writes.
    pub write_denied: &'static str,
    /// A charset the API accepts and the engine does not have.
    pub bad_charset: &'static str,
    /// Counts the engine's users named `ghost`.
    pub count_ghosts: &'static str,
    /// The buffer setting, and its value for the `db-small` tier.
    pub buffer_sql: &'static str,
    pub buffer_db_small: &'static str,
}

pub const POSTGRES: Engine = Engine {
    api_name: "postgres",
    label: "PostgreSQL",
    installed: || Postgres::default().check_installed(),
    pid_file: "postmaster.pid",
    // SIGQUIT: PostgreSQL's immediate shutdown (the postmaster takes its backends with it).
    guard_signal: "-QUIT",
    query: psql,
    refused: &["no pg_hba.conf entry"],
    write_denied: "permission denied",
    bad_charset: "utf8mb4",
    count_ghosts: "SELECT count(*) FROM pg_roles WHERE rolname = 'ghost'",
    buffer_sql: "SHOW shared_buffers",
    buffer_db_small: "64MB",
};

pub const MARIADB: Engine = Engine {
    api_name: "mysql",
    label: "MariaDB",
    installed: || MariaDb.check_installed(),
    pid_file: "mariadbd.pid",
    // mariadbd is one process; a leftover of a failed test has nothing worth a clean stop.
    guard_signal: "-KILL",
    query: mariadb,
    // No account for the client's host at all, or none that takes this password.
    refused: &["is not allowed to connect", "Access denied"],
    write_denied: "INSERT command denied",
    bad_charset: "klingon",
    count_ghosts: "SELECT count(*) FROM mysql.user WHERE user = 'ghost'",
    buffer_sql: "SELECT @@innodb_buffer_pool_size",
    buffer_db_small: "67108864",
};

impl Engine {
    /// Whether the engine is there; without it the test is skipped, except under CI.
    pub fn available(&self, test: &str) -> bool {
        match (self.installed)() {
            Ok(()) => true,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping {test}: {e} (set CI=true to make this a failure)");
                false
            }
            Err(e) => panic!("{test}: {} is required under CI: {e}", self.label),
        }
    }
}

fn output(cmd: &mut Command, program: &str) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// psql over TCP, unaligned tuples only, stopping at the first error.
fn psql(port: u16, user: &str, password: &str, db: &str, sql: &str) -> Result<String, String> {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", user, "-d", db, "-c", sql])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5");
    output(&mut cmd, "psql")
}

/// The mariadb client over TCP (no option files), rows tab-separated without headers.
fn mariadb(port: u16, user: &str, password: &str, db: &str, sql: &str) -> Result<String, String> {
    let mut cmd = Command::new("/usr/bin/mariadb");
    cmd.args(["--no-defaults", "--protocol=TCP", "-h", "127.0.0.1"])
        .args(["-P", &port.to_string(), "-u", user, "-D", db])
        .args(["--connect-timeout=5", "-N", "-B", "-e", sql])
        // The password in the environment, not on the command line.
        .env("MYSQL_PWD", password);
    output(&mut cmd, "mariadb")
}
