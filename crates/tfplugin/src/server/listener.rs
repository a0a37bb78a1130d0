//! Listener selection: a unix socket in PLUGIN_UNIX_SOCKET_DIR / TMPDIR / /tmp,
//! or TCP on 127.0.0.1 within PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT as a fallback.

use std::io;
use std::path::{Path, PathBuf};

use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// Longest unix socket path we use (sun_path is 104 to 108 bytes).
const MAX_SOCKET_PATH: usize = 100;

/// A bound listener plus what goes into the handshake line (`network`, `address`).
#[derive(Debug)]
pub enum Listener {
    /// Unix socket (preferred, as go-plugin); the file is removed when this value is dropped.
    Unix {
        /// The bound socket.
        listener: UnixListener,
        /// Owns the socket path; removes the file on drop.
        guard: SocketGuard,
    },
    /// TCP on 127.0.0.1 only (never another interface): the fallback when no unix socket
    /// can be bound.
    Tcp {
        /// The bound socket.
        listener: TcpListener,
        /// `127.0.0.1:PORT`, with the actual port (also when port 0 was asked for).
        address: String,
    },
}

/// An accepted connection before any TLS handshake.
#[derive(Debug)]
pub enum Accepted {
    /// From the unix socket.
    Unix(UnixStream),
    /// From TCP, with `TCP_NODELAY` set (best effort).
    Tcp(TcpStream),
}

impl Listener {
    /// `"unix"` or `"tcp"`, the handshake line's network field.
    pub fn network(&self) -> &'static str {
        match self {
            Listener::Unix { .. } => "unix",
            Listener::Tcp { .. } => "tcp",
        }
    }

    /// The socket path (lossily displayed if not UTF-8) or `127.0.0.1:PORT`, the handshake
    /// line's address field.
    pub fn address(&self) -> String {
        match self {
            Listener::Unix { guard, .. } => guard.path.display().to_string(),
            Listener::Tcp { address, .. } => address.clone(),
        }
    }

    /// Waits for one connection. Cancel-safe.
    ///
    /// # Errors
    /// The OS accept error (e.g. too many open files); the listener stays usable.
    pub async fn accept(&self) -> io::Result<Accepted> {
        match self {
            Listener::Unix { listener, .. } => {
                let (s, _) = listener.accept().await?;
                Ok(Accepted::Unix(s))
            }
            Listener::Tcp { listener, .. } => {
                let (s, _) = listener.accept().await?;
                // Small gRPC frames: no Nagle delay.
                let _ = s.set_nodelay(true);
                Ok(Accepted::Tcp(s))
            }
        }
    }
}

/// Deletes the socket file when dropped (errors, e.g. already gone, are ignored).
#[derive(Debug)]
pub struct SocketGuard {
    path: PathBuf,
}

impl SocketGuard {
    /// The socket path, in the socket directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketGuard {
    /// Removes the socket file, ignoring errors.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds a listener the way go-plugin servers do: [`bind_unix`] first, [`bind_tcp`] if that
/// fails for any reason (the unix error is logged at WARN).
///
/// # Errors
/// The TCP error when both fail.
pub fn bind() -> io::Result<Listener> {
    match bind_unix() {
        Ok(l) => Ok(l),
        Err(unix_err) => {
            tracing::warn!(error = %unix_err, "unix socket unavailable, falling back to tcp");
            bind_tcp()
        }
    }
}

fn socket_dir() -> PathBuf {
    for var in ["PLUGIN_UNIX_SOCKET_DIR", "TMPDIR"] {
        if let Some(dir) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
    }
    PathBuf::from("/tmp")
}

fn random_u32() -> u32 {
    let mut buf = [0u8; 4];
    if rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut buf)
        .is_err()
    {
        // Fall back to something that still differs between processes.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        return nanos ^ std::process::id().rotate_left(16);
    }
    u32::from_le_bytes(buf)
}

/// Binds a unix socket named `plugin<random>` in the socket directory: the first non-empty
/// of `PLUGIN_UNIX_SOCKET_DIR`, `TMPDIR`, else `/tmp`. See [`bind_unix_in`].
///
/// # Errors
/// As [`bind_unix_in`].
pub fn bind_unix() -> io::Result<Listener> {
    bind_unix_in(&socket_dir())
}

/// Binds a unix socket named `plugin<random>` in `dir`, retrying up to 16 names on
/// `AddrInUse`. Mode 0600 (only the owner may connect), or with `PLUGIN_UNIX_SOCKET_GROUP` (group name or
/// gid) chown to that group and mode 0660.
///
/// # Errors
/// A path longer than 100 bytes (`sun_path` limit), a bind error other than `AddrInUse`, 16
/// names in use, or a group that cannot be resolved or applied (the socket file is removed).
pub fn bind_unix_in(dir: &Path) -> io::Result<Listener> {
    let mut last_err = io::Error::other("no socket path tried");
    for _ in 0..16 {
        let path = dir.join(format!("plugin{}", random_u32()));
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("socket path {} is too long", path.display()),
            ));
        }
        match UnixListener::bind(&path) {
            Ok(listener) => {
                let guard = SocketGuard { path };
                apply_socket_group(guard.path())?;
                return Ok(Listener::Unix { listener, guard });
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_err = e,
            Err(e) => return Err(e),
        }
    }
    Err(last_err)
}

/// Honours PLUGIN_UNIX_SOCKET_GROUP: chown to that group (name or gid), mode 0660.
fn apply_socket_group(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Some(group) = std::env::var("PLUGIN_UNIX_SOCKET_GROUP")
        .ok()
        .filter(|g| !g.is_empty())
    else {
        // Only the user running Terraform may connect, whatever the umask.
        return std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    };
    let gid = match group.parse::<u32>() {
        Ok(gid) => gid,
        Err(_) => lookup_group(&group)?,
    };
    std::os::unix::fs::chown(path, None, Some(gid))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
}

fn lookup_group(name: &str) -> io::Result<u32> {
    let groups = std::fs::read_to_string("/etc/group")?;
    groups
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(':');
            let n = parts.next()?;
            let _pw = parts.next()?;
            let gid = parts.next()?.parse::<u32>().ok()?;
            (n == name).then_some(gid)
        })
        .next()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("PLUGIN_UNIX_SOCKET_GROUP: unknown group {name:?}"),
            )
        })
}

fn port_env(name: &str) -> Option<u16> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// Binds TCP on 127.0.0.1, trying `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT` in order. Only one set:
/// the range is open on the other side (from 0, or up to 65535); neither set, unparsable, or
/// min > max: port 0 (any free port).
///
/// # Errors
/// The last bind error when no port in the range is free.
pub fn bind_tcp() -> io::Result<Listener> {
    let (min, max) = match (port_env("PLUGIN_MIN_PORT"), port_env("PLUGIN_MAX_PORT")) {
        (Some(min), Some(max)) if min <= max => (min, max),
        (Some(min), None) => (min, u16::MAX),
        (None, Some(max)) => (0, max),
        _ => (0, 0),
    };
    let mut last_err = io::Error::other("no port in PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT");
    for port in min..=max {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(std_listener) => {
                std_listener.set_nonblocking(true)?;
                let address = std_listener.local_addr()?.to_string();
                let listener = TcpListener::from_std(std_listener)?;
                return Ok(Listener::Tcp { listener, address });
            }
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}
