//! Where the files of one MariaDB server are, derived from its [`EngineSpec`] alone (the driver
//! keeps no state in memory).
//!
//! Everything lives in the data directory except the socket, which goes to the spec's socket
//! directory (short paths: a Unix socket path is at most 107 bytes). The socket's name carries
//! the port, so several instances may share one socket directory; so does the server's temporary
//! directory beside it. The pid file stays in the data
//! directory, so a server is found again even if the backend moves it to another port.

use std::path::{Path, PathBuf};

use crate::engine::{EngineError, EngineSpec};

/// The longest Unix socket path Linux accepts (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub data_dir: PathBuf,
    /// The server's option file (`--defaults-file`), written by the driver.
    pub my_cnf: PathBuf,
    pub pid_file: PathBuf,
    /// mariadbd's error log and its stdout/stderr, appended across starts.
    pub log: PathBuf,
    /// The driver's own small state (the access rules in force, the admin's name).
    pub state: PathBuf,
    pub socket: PathBuf,
    /// mariadbd's `tmpdir`, beside the socket: the instance's own, not the machine's /tmp.
    /// Temporary tables are files named `#sql-temptable-<pid>-<thread>-<n>`: in a shared /tmp,
    /// two servers that see the same pid (sandboxes with their own pid namespaces, or a reused
    /// pid after a kill -9 left files behind) take each other's files, and a bootstrap fails
    /// ("Could not remove temporary table", "Unknown table 'mysql.tmp_user_sys'"; seen in CI).
    pub tmp_dir: PathBuf,
}

impl Layout {
    pub fn new(spec: &EngineSpec) -> Result<Self, EngineError> {
        let d = &spec.data_dir;
        let socket = spec.socket_dir.join(format!("mariadb.{}.sock", spec.port));
        let tmp_dir = spec.socket_dir.join(format!("mariadb.{}.tmp", spec.port));
        let len = socket.as_os_str().len();
        if len > MAX_SOCKET_PATH {
            return Err(EngineError::Other(format!(
                "the socket path {} is {len} bytes; Unix sockets allow {MAX_SOCKET_PATH}: use a shorter socket directory",
                socket.display()
            )));
        }
        Ok(Self {
            data_dir: d.clone(),
            my_cnf: d.join("my.cnf"),
            pid_file: d.join("mariadbd.pid"),
            log: d.join("mariadbd.log"),
            state: d.join("clouddb-engine.json"),
            socket,
            tmp_dir,
        })
    }

    /// `--defaults-file=<my.cnf>`: the first argument of mariadbd, and how [`super::server`]
    /// recognises its own process behind a pid (pids are reused).
    pub fn defaults_arg(&self) -> String {
        format!("--defaults-file={}", self.my_cnf.display())
    }
}

/// `path` as an option-file value: UTF-8 without control characters (an option file is lines of
/// text), backslashes escaped (the option-file parser reads `\\` as one).
pub(super) fn option_value(path: &Path) -> Result<String, EngineError> {
    let s = path
        .to_str()
        .ok_or_else(|| EngineError::Other(format!("{} is not UTF-8", path.display())))?;
    if s.chars().any(char::is_control) || s.trim() != s {
        return Err(EngineError::Other(format!(
            "{s:?} cannot be written to a MariaDB option file (control characters or surrounding blanks)"
        )));
    }
    Ok(s.replace('\\', "\\\\"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine::TierSettings;

    fn spec(socket_dir: &str) -> EngineSpec {
        EngineSpec {
            data_dir: "/var/lib/clouddb/i1".into(),
            socket_dir: socket_dir.into(),
            port: 40001,
            settings: TierSettings {
                buffer_mb: 128,
                max_connections: 50,
            },
        }
    }

    #[test]
    fn the_socket_name_carries_the_port() {
        let l = Layout::new(&spec("/run/clouddb")).unwrap();
        assert_eq!(l.socket, Path::new("/run/clouddb/mariadb.40001.sock"));
        assert_eq!(l.pid_file, Path::new("/var/lib/clouddb/i1/mariadbd.pid"));
        assert_eq!(l.tmp_dir, Path::new("/run/clouddb/mariadb.40001.tmp"));
    }

    #[test]
    fn a_socket_path_too_long_for_unix_is_refused() {
        let long = format!("/tmp/{}", "x".repeat(100));
        assert!(matches!(
            Layout::new(&spec(&long)),
            Err(EngineError::Other(_))
        ));
    }

    #[test]
    fn option_values_escape_backslashes_and_refuse_newlines() {
        assert_eq!(option_value(Path::new("/a\\b")).unwrap(), "/a\\\\b");
        assert!(option_value(Path::new("/a\nb")).is_err());
    }
}
