//! Logical dumps: the user databases (`mariadb-dump`) framed by the users and roles.
//!
//! `mariadb-dump --system=users` would carry `root` and `mariadb.sys` too, whose CREATE USER fails
//! on the fresh server of a restore, and the admin, whose password would overwrite the new
//! instance's. So the driver writes the accounts itself from `SHOW CREATE USER` / `SHOW GRANTS`
//! of each managed user's localhost account (the admin excepted) and of every role: the
//! accounts and roles come before the data (so that definers exist), their grants after it (a
//! table grant needs its table). TCP accounts are not dumped: a restore recreates them for the
//! rules in force on the target. The dump is written to `<dest>.partial` and renamed, so a crash
//! never leaves a truncated file under the backend's name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::accounts::{managed_users, reconcile, show_account};
use super::programs::{Identity, Programs, failure};
use super::sql::{Client, PROLOGUE, ident, literal};
use crate::engine::EngineError;

/// Schemas of the engine itself, never dumped (and never created or dropped through the API).
pub(super) const SYSTEM_SCHEMAS: [&str; 4] =
    ["mysql", "information_schema", "performance_schema", "sys"];

/// Writes the dump to `dest`; returns its size.
pub(super) fn dump(
    progs: &Programs,
    client: &Client<'_>,
    id: &Identity,
    admin: Option<&str>,
    dest: &Path,
) -> Result<u64, EngineError> {
    let mut partial = dest.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let result = write_dump(progs, client, id, admin, &partial).and_then(|()| {
        std::fs::rename(&partial, dest)
            .map_err(|e| EngineError::Other(format!("renaming to {}: {e}", dest.display())))?;
        std::fs::metadata(dest)
            .map(|m| m.len())
            .map_err(|e| EngineError::Other(format!("{}: {e}", dest.display())))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn write_dump(
    progs: &Programs,
    client: &Client<'_>,
    id: &Identity,
    admin: Option<&str>,
    path: &Path,
) -> Result<(), EngineError> {
    let io = |e: std::io::Error| EngineError::Other(format!("writing {}: {e}", path.display()));
    let (before, after) = account_sections(client, id, admin)?;
    let databases = user_databases(client)?;

    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(io)?;
    writeln!(
        file,
        "-- clouddb-server MariaDB dump: roles and users, databases, grants"
    )
    .map_err(io)?;
    file.write_all(PROLOGUE.as_bytes()).map_err(io)?;
    file.write_all(before.as_bytes()).map_err(io)?;
    file.flush().map_err(io)?;
    if !databases.is_empty() {
        let out = file.try_clone().map_err(io)?;
        let mut cmd = Command::new(&progs.dump);
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", client.socket.display()))
            .arg(format!("--user={}", client.user))
            .args([
                "--default-character-set=utf8mb4",
                "--single-transaction",
                "--routines",
                "--events",
                "--triggers",
                "--hex-blob",
                "--databases",
            ])
            .args(&databases)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::piped());
        let display = format!("mariadb-dump --databases {}", databases.join(" "));
        let res = cmd
            .output()
            .map_err(|e| EngineError::Other(format!("{display}: cannot run: {e}")))?;
        if !res.status.success() {
            return Err(failure(&display, &res, &[]));
        }
    }
    // mariadb-dump restores the session's sql_mode at its end: state ours again.
    file.write_all(PROLOGUE.as_bytes()).map_err(io)?;
    file.write_all(after.as_bytes()).map_err(io)?;
    file.write_all(b"FLUSH PRIVILEGES;\n").map_err(io)?;
    file.sync_all().map_err(io)
}

/// The databases to dump: all but the engine's own.
fn user_databases(client: &Client<'_>) -> Result<Vec<String>, EngineError> {
    let system = SYSTEM_SCHEMAS.map(literal).join(", ");
    let rows = client.query(&format!(
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ({system}) ORDER BY SCHEMA_NAME"
    ))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect())
}

/// (statements before the data: CREATE ROLE / CREATE USER; after it: the grants).
fn account_sections(
    client: &Client<'_>,
    id: &Identity,
    admin: Option<&str>,
) -> Result<(String, String), EngineError> {
    let mut before = String::new();
    let mut after = String::new();
    let roles = client.query(
        "SELECT User FROM mysql.user WHERE is_role = 'Y' AND User NOT IN ('PUBLIC', 'mariadb_dump_import_role') ORDER BY User",
    )?;
    for role in roles.into_iter().filter_map(|r| r.into_iter().next()) {
        before.push_str(&format!("CREATE ROLE IF NOT EXISTS {};\n", ident(&role)));
        for g in client.query(&format!("SHOW GRANTS FOR {}", ident(&role)))? {
            if let Some(stmt) = g.into_iter().next() {
                after.push_str(&stmt);
                after.push_str(";\n");
            }
        }
    }
    for user in managed_users(client, id)?.into_keys() {
        if Some(user.as_str()) == admin {
            continue;
        }
        let stmts = show_account(client, &user, "localhost")?.as_shown()?;
        let mut stmts = stmts.into_iter();
        if let Some(create) = stmts.next() {
            before.push_str(&create);
            before.push_str(";\n");
        }
        for g in stmts {
            after.push_str(&g);
            after.push_str(";\n");
        }
    }
    Ok((before, after))
}

/// Loads a dump into the running server, then gives the restored users the accounts of the
/// rules in force here.
pub(super) fn restore(
    client: &Client<'_>,
    id: &Identity,
    patterns: &std::collections::BTreeSet<String>,
    src: &Path,
) -> Result<(), EngineError> {
    if !src.is_file() {
        return Err(EngineError::Other(format!("no dump at {}", src.display())));
    }
    client.load(src)?;
    reconcile(client, id, patterns)
}
