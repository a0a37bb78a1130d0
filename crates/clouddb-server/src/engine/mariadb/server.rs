//! The mariadbd process: start it detached, know whether it runs, stop it.
//!
//! mariadbd is spawned directly (no mysqld_safe: the backend is the supervisor) in a process group
//! of its own, so a Ctrl-C to clouddb-server's terminal does not reach it, with stdin closed and
//! stdout/stderr appended to the log in the data directory. Once it answers, a thread reaps it
//! when it exits, so a crashed server never lingers as a zombie of clouddb-server. A server keeps
//! running when clouddb-server exits; the backend finds it again through its pid file.
//!
//! As root (CI runs as root), mariadbd gets `--user=root`: it refuses to run as root otherwise,
//! and running it as the `mysql` user would need the data and socket directories chowned to it,
//! which the backend (which creates and removes them) would then have to know about.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::layout::Layout;
use super::programs::{Identity, Programs, find, run, tail};
use crate::engine::{EngineError, EngineSpec};

/// How long a starting server may take to answer (crash recovery of a small instance included).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopping server may take to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// The pid of the instance's mariadbd when that process is alive: the pid file names it, and
/// its command line carries this instance's `--defaults-file` (a pid may have been reused).
pub(super) fn pid(layout: &Layout) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(&layout.pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (alive(pid) && is_ours(pid, layout)).then_some(pid)
}

/// Whether `pid` is a live process (a zombie is dead: it only waits for its parent to reap it).
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S …": comm may hold spaces and parentheses, the state follows the last ')'.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state != "Z" && state != "X")
}

fn is_ours(pid: u32, layout: &Layout) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let want = layout.defaults_arg();
    cmdline.split(|b| *b == 0).any(|arg| arg == want.as_bytes())
}

/// `mariadb-admin ping` over the socket: the server accepts connections.
pub(super) fn ping(progs: &Programs, layout: &Layout, id: &Identity) -> bool {
    if !layout.socket.exists() {
        return false;
    }
    Command::new(&progs.admin)
        .arg("--no-defaults")
        .arg(format!("--socket={}", layout.socket.display()))
        .arg(format!("--user={}", id.user))
        .args(["--connect-timeout=2", "ping"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub(super) fn is_running(progs: &Programs, layout: &Layout, id: &Identity) -> bool {
    pid(layout).is_some() && ping(progs, layout, id)
}

/// Starts the server and waits until it answers; Ok at once when it already runs.
pub(super) fn start(
    spec: &EngineSpec,
    progs: &Programs,
    layout: &Layout,
    id: &Identity,
) -> Result<(), EngineError> {
    if let Some(pid) = pid(layout) {
        if ping(progs, layout, id) {
            return Ok(());
        }
        // Alive but not answering: starting a second server on the same files would fail on
        // InnoDB's lock anyway; let it finish starting (or report that it does not).
        return wait_ready(spec, progs, layout, id, None).map_err(|e| {
            tracing::warn!(pid, error = %e, "mariadbd is running but does not answer");
            e
        });
    }
    super::config::write(spec, layout)?;
    if let Some(dir) = layout.socket.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| EngineError::Other(format!("creating {}: {e}", dir.display())))?;
    }
    let log = open_log(&layout.log)?;
    let log2 = log
        .try_clone()
        .map_err(|e| EngineError::Other(format!("{}: {e}", layout.log.display())))?;
    let mut cmd = Command::new(&progs.mariadbd);
    cmd.arg(layout.defaults_arg());
    if id.root {
        cmd.arg("--user=root");
    }
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| EngineError::Other(format!("starting {}: {e}", progs.mariadbd.display())))?;
    tracing::info!(pid = child.id(), port = spec.port, data_dir = %spec.data_dir.display(), "mariadbd started");
    wait_ready(spec, progs, layout, id, Some(child))
}

/// Polls until the server answers. With `child` (just spawned): an early exit is an error with
/// the log's tail, a timeout kills it (nothing half-started is left behind), and once it answers
/// a thread takes it over to reap it.
fn wait_ready(
    spec: &EngineSpec,
    progs: &Programs,
    layout: &Layout,
    id: &Identity,
    mut child: Option<Child>,
) -> Result<(), EngineError> {
    let started = Instant::now();
    loop {
        if let Some(c) = child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            return Err(EngineError::Command {
                command: format!("mariadbd {}", layout.defaults_arg()),
                stderr: format!(
                    "exited with {status} while starting: {}",
                    log_tail(&layout.log)
                ),
            });
        }
        if pid(layout).is_some() && ping(progs, layout, id) {
            if let Some(mut c) = child {
                std::thread::spawn(move || {
                    let _ = c.wait();
                });
            }
            return Ok(());
        }
        if started.elapsed() >= START_TIMEOUT {
            if let Some(mut c) = child {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(EngineError::NotReady {
                port: spec.port,
                waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Stops the server: `mariadb-admin shutdown` (a clean InnoDB shutdown), SIGTERM when the
/// socket does not take it, SIGKILL when it has not exited in [`STOP_TIMEOUT`].
pub(super) fn stop(progs: &Programs, layout: &Layout, id: &Identity) -> Result<(), EngineError> {
    let Some(pid) = pid(layout) else {
        return Ok(());
    };
    let shutdown = run(
        Command::new(&progs.admin)
            .arg("--no-defaults")
            .arg(format!("--socket={}", layout.socket.display()))
            .arg(format!("--user={}", id.user))
            .args(["--connect-timeout=5", "--shutdown-timeout=60", "shutdown"])
            .stdin(Stdio::null()),
        "mariadb-admin shutdown",
    );
    if let Err(e) = shutdown {
        tracing::warn!(pid, error = %e, "mariadb-admin shutdown failed; sending SIGTERM");
        signal(pid, "TERM")?;
    }
    if wait_gone(pid, STOP_TIMEOUT) {
        return Ok(());
    }
    tracing::warn!(pid, "mariadbd did not exit in time; sending SIGKILL");
    signal(pid, "KILL")?;
    if wait_gone(pid, Duration::from_secs(10)) {
        Ok(())
    } else {
        Err(EngineError::Other(format!(
            "mariadbd (pid {pid}) survived SIGKILL"
        )))
    }
}

fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let started = Instant::now();
    while alive(pid) {
        if started.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(POLL);
    }
    true
}

/// `kill -SIG pid` (the crate forbids `unsafe`, so no libc::kill; procps is a dependency of
/// Debian's mariadb-server).
fn signal(pid: u32, sig: &str) -> Result<(), EngineError> {
    let kill = find("kill", "procps")?;
    let display = format!("kill -{sig} {pid}");
    match run(
        Command::new(kill)
            .arg(format!("-{sig}"))
            .arg(pid.to_string()),
        &display,
    ) {
        // It may have exited between the check and the signal.
        Err(_) if !alive(pid) => Ok(()),
        other => other.map(drop),
    }
}

fn open_log(path: &Path) -> Result<std::fs::File, EngineError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| EngineError::Other(format!("opening {}: {e}", path.display())))
}

/// The end of the server log, for an error message.
pub(super) fn log_tail(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| tail(&String::from_utf8_lossy(&b), 1500))
        .unwrap_or_else(|e| format!("(no log at {}: {e})", path.display()))
}
