//! Running engine programs: finding them (PATH, then the usual Debian directories), running them as
//! the engine's unprivileged OS user when clouddb-server runs as root (PostgreSQL refuses to run as
//! root; `runuser -u USER --`), handing directories to that user, and turning a failed run into an
//! [`EngineError::Command`] whose text never holds a secret.

use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::driver::EngineError;

/// Most bytes of a program's stderr kept in an error.
pub const STDERR_TAIL: usize = 2000;

/// Whether this process runs with effective uid 0 (the owner of `/proc/self` is the effective uid).
pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The uid and gid of OS user `name`, from `/etc/passwd`.
pub fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        if f.next()? != name {
            return None;
        }
        let _pw = f.next()?;
        Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
    })
}

/// The first executable `name` on PATH, symlinks resolved (so its directory holds its siblings).
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
        .and_then(|p| std::fs::canonicalize(p).ok())
}

pub fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The OS user engine programs run as: `Some` only when running as root.
#[derive(Debug, Clone)]
pub struct RunAs {
    pub user: String,
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// The unprivileged user `user` when running as root (`None` otherwise: programs then run as
    /// the current user). A missing user is [`EngineError::Missing`] naming `package`, which
    /// creates it.
    pub fn for_engine(user: &str, package: &'static str) -> Result<Option<Self>, EngineError> {
        if !running_as_root() {
            return Ok(None);
        }
        let (uid, gid) = lookup_user(user).ok_or_else(|| EngineError::Missing {
            program: format!("the OS user {user}"),
            package,
        })?;
        Ok(Some(Self {
            user: user.into(),
            uid,
            gid,
        }))
    }
}

/// A command for `program`, run as `run_as` when given, from `/` (the engine user may not be
/// allowed into the current directory).
pub fn command(program: &Path, run_as: Option<&RunAs>) -> Command {
    let mut c = match run_as {
        Some(r) => {
            let mut c = Command::new("runuser");
            c.arg("-u").arg(&r.user).arg("--").arg(program);
            c
        }
        None => Command::new(program),
    };
    c.current_dir("/");
    c
}

/// Creates `dir` (and its parents), mode 0700, owned by `run_as` when given.
pub fn make_private_dir(dir: &Path, run_as: Option<&RunAs>) -> Result<(), EngineError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err("creating", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| io_err("setting the mode of", dir, e))?;
    give(dir, run_as)
}

/// Makes `path` owned by `run_as` (when given).
pub fn give(path: &Path, run_as: Option<&RunAs>) -> Result<(), EngineError> {
    if let Some(r) = run_as {
        std::os::unix::fs::chown(path, Some(r.uid), Some(r.gid))
            .map_err(|e| io_err("changing the owner of", path, e))?;
    }
    Ok(())
}

/// Writes `contents` to `path` (mode 0600), owned by `run_as` when given.
pub fn write_private(
    path: &Path,
    contents: &str,
    run_as: Option<&RunAs>,
) -> Result<(), EngineError> {
    std::fs::write(path, contents).map_err(|e| io_err("writing", path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io_err("setting the mode of", path, e))?;
    give(path, run_as)
}

/// Lets every user traverse (not list) `dir` and its ancestors, so the engine user reaches its data
/// directory below a private one (a 0700 temporary directory, a home directory).
pub fn make_traversable(dir: &Path) -> Result<(), EngineError> {
    for d in dir.ancestors() {
        let Ok(m) = std::fs::metadata(d) else {
            continue;
        };
        let mode = m.permissions().mode();
        if mode & 0o001 == 0 {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o011))
                .map_err(|e| io_err("making traversable", d, e))?;
        }
    }
    Ok(())
}

pub fn io_err(what: &str, path: &Path, e: std::io::Error) -> EngineError {
    EngineError::Other(format!("{what} {}: {e}", path.display()))
}

/// Replaces every secret in `text` by `***`.
pub fn redact(mut text: String, secrets: &[&str]) -> String {
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(s, "***");
    }
    text
}

/// Runs `cmd` (described as `display`, which must hold no secret) with `stdin` fed to it and its
/// stdout captured (or written to `stdout`); a non-zero exit is [`EngineError::Command`] with the tail of its stderr, `secrets` redacted.
pub fn run(
    mut cmd: Command,
    display: &str,
    stdin: Option<&[u8]>,
    stdout: Option<std::fs::File>,
    secrets: &[&str],
) -> Result<Output, EngineError> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(match stdout {
        Some(f) => Stdio::from(f),
        None => Stdio::piped(),
    });
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| EngineError::Command {
        command: display.into(),
        stderr: format!("could not start: {e}"),
    })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A program that exits early closes the pipe; its exit status tells what happened.
        let _ = pipe.write_all(input);
    }
    let out = child.wait_with_output().map_err(|e| EngineError::Command {
        command: display.into(),
        stderr: format!("waiting for it failed: {e}"),
    })?;
    if out.status.success() {
        return Ok(out);
    }
    Err(EngineError::Command {
        command: display.into(),
        stderr: tail(&redact(stderr_text(&out), secrets), STDERR_TAIL),
    })
}

pub fn stderr_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

/// The last `max` bytes of `s` (at a character boundary), marked `…` when cut: what an error
/// message keeps of a program's stderr or an engine's log (both drivers use it).
pub fn tail(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_text() {
        assert_eq!(
            redact("ALTER ROLE a PASSWORD 'hunter22'".into(), &["hunter22", ""]),
            "ALTER ROLE a PASSWORD '***'"
        );
        let long = "x".repeat(5000);
        assert!(tail(&long, STDERR_TAIL).len() <= STDERR_TAIL + 3);
        assert_eq!(tail("abc", 10), "abc");
        assert_eq!(tail("aéé", 3), "…é");
    }

    #[test]
    fn root_owns_passwd() {
        assert_eq!(lookup_user("root"), Some((0, 0)));
        assert_eq!(lookup_user("no-such-user-here"), None);
    }
}
