//! The MariaDB programs the driver runs, where they are, and who runs them.
//!
//! Programs are looked up on every call (a few `stat`s): an operator may install MariaDB while
//! clouddb-server runs, and `check_installed` must then see it. The identity of the process (its
//! effective uid and user name) cannot change, so it is read once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::engine::EngineError;
use crate::engine::process::STDERR_TAIL;
pub(super) use crate::engine::process::tail;

/// Debian package of the server programs (`mariadbd`, `mariadb-install-db`).
const SERVER_PACKAGE: &str = "mariadb-server";
/// Debian package of the client programs (`mariadb`, `mariadb-dump`, `mariadb-admin`).
const CLIENT_PACKAGE: &str = "mariadb-client";

/// Directories searched after `PATH`: Debian puts `mariadbd` in /usr/sbin, which is not on the
/// `PATH` of every non-root shell.
const EXTRA_DIRS: [&str; 3] = ["/usr/sbin", "/usr/bin", "/usr/local/bin"];

/// Absolute paths of every program the driver runs.
#[derive(Debug, Clone)]
pub(super) struct Programs {
    pub mariadbd: PathBuf,
    pub install_db: PathBuf,
    pub client: PathBuf,
    pub dump: PathBuf,
    pub admin: PathBuf,
}

impl Programs {
    /// Finds all of them; the first missing one is the error.
    pub fn find() -> Result<Self, EngineError> {
        Ok(Self {
            mariadbd: find("mariadbd", SERVER_PACKAGE)?,
            install_db: find("mariadb-install-db", SERVER_PACKAGE)?,
            client: find("mariadb", CLIENT_PACKAGE)?,
            dump: find("mariadb-dump", CLIENT_PACKAGE)?,
            admin: find("mariadb-admin", CLIENT_PACKAGE)?,
        })
    }
}

/// `program` on `PATH` or in [`EXTRA_DIRS`], as an executable regular file.
pub(super) fn find(program: &str, package: &'static str) -> Result<PathBuf, EngineError> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| EngineError::Missing {
            program: program.to_string(),
            package,
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Who this process is, as MariaDB sees a Unix-socket client.
#[derive(Debug, Clone)]
pub(super) struct Identity {
    /// Effective uid 0: `mariadbd` refuses to run as root unless told `--user=root`.
    pub root: bool,
    /// The OS user name: the `unix_socket` plugin lets exactly this MariaDB user in over the
    /// socket without a password (`mariadb-install-db --auth-root-socket-user`).
    pub user: String,
}

/// The process's identity, read once (`/proc/self/status` and `id -un`).
pub(super) fn identity() -> Result<&'static Identity, EngineError> {
    static IDENTITY: OnceLock<Result<Identity, EngineError>> = OnceLock::new();
    IDENTITY
        .get_or_init(read_identity)
        .as_ref()
        .map_err(Clone::clone)
}

fn read_identity() -> Result<Identity, EngineError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| EngineError::Other(format!("reading /proc/self/status: {e}")))?;
    // "Uid:\treal\teffective\tsaved\tfs"
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .ok_or_else(|| EngineError::Other("no Uid line in /proc/self/status".into()))?;
    let id = find("id", "coreutils")?;
    let out = run(Command::new(&id).arg("-un"), "id -un")?;
    let user = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if user.is_empty() {
        return Err(EngineError::Other(
            "id -un printed no user name: MariaDB's socket authentication needs one".into(),
        ));
    }
    Ok(Identity {
        root: euid == "0",
        user,
    })
}

/// Runs `cmd` to completion; a non-zero exit is [`EngineError::Command`] with `display` (the
/// command line without secrets) and the tail of stderr (or stdout, when stderr is empty).
pub(super) fn run(cmd: &mut Command, display: &str) -> Result<Output, EngineError> {
    let out = cmd
        .output()
        .map_err(|e| EngineError::Other(format!("{display}: cannot run: {e}")))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(failure(display, &out, &[]))
    }
}

/// The [`EngineError::Command`] of a failed run, with every secret of `secrets` masked (the
/// server quotes the statement near a syntax error, which may hold a password).
pub(super) fn failure(display: &str, out: &Output, secrets: &[&str]) -> EngineError {
    let text = if out.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
        &out.stderr
    } else {
        &out.stdout
    };
    let mut stderr = tail(&String::from_utf8_lossy(text), STDERR_TAIL);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        stderr = stderr.replace(secret, "<redacted>");
    }
    let status = match out.status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_string(),
    };
    EngineError::Command {
        command: display.to_string(),
        stderr: format!("{status}: {}", stderr.trim()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_names_its_package() {
        let err = find("no-such-mariadb-program", CLIENT_PACKAGE).unwrap_err();
        assert_eq!(
            err,
            EngineError::Missing {
                program: "no-such-mariadb-program".into(),
                package: "mariadb-client"
            }
        );
    }
}
