//! The contract between clouddb-server and one real database engine (PostgreSQL, MariaDB): what the
//! `--engines real` backend asks of an engine server process, in the API's own terms.
//!
//! A driver is stateless: everything about one engine server is in its [`EngineSpec`] (data directory,
//! socket directory, port, tier settings), which the backend keeps and persists. Methods block (they
//! run `initdb`, `pg_ctl`, `mariadbd`, `psql`, dumps), so the backend calls them from
//! `tokio::task::spawn_blocking`, never on an async worker thread. Every method is idempotent where the
//! engine allows it (starting a running server, dropping a missing user), because the backend replays
//! half-done work after a crash of clouddb-server.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where one engine server lives and how it is sized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSpec {
    /// The instance's data directory (created by [`EngineDriver::init`]; removed by the backend).
    pub data_dir: PathBuf,
    /// Directory for the server's Unix socket and pid file (short: sockets paths are ≤ 107 bytes).
    pub socket_dir: PathBuf,
    /// The loopback TCP port the server listens on (127.0.0.1 only).
    pub port: u16,
    pub settings: TierSettings,
}

/// A tier translated into engine settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierSettings {
    /// shared_buffers (PostgreSQL) / innodb_buffer_pool_size (MariaDB), in MiB.
    pub buffer_mb: u32,
    pub max_connections: u32,
}

/// The API's user roles, as real grants. The API accepts any SQL name as a role; the three below
/// are the documented ones, any other is a plain engine role of that name (created NOLOGIN when
/// missing, with no privileges of its own) that the user is made a member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// `readonly`: SELECT on every table of every database of the instance.
    ReadOnly,
    /// `readwrite`: SELECT, INSERT, UPDATE, DELETE (and sequences) on every database, and creating
    /// tables (an application owns its schema); no dropping of others' tables, no grants.
    ReadWrite,
    /// `admin`: everything, including CREATE/DROP and granting to others (not a superuser).
    Admin,
    /// Any other name.
    Named(String),
}

impl Role {
    /// The role an API role name stands for.
    pub fn from_api(name: &str) -> Self {
        match name {
            "readonly" => Self::ReadOnly,
            "readwrite" => Self::ReadWrite,
            "admin" => Self::Admin,
            other => Self::Named(other.to_string()),
        }
    }
}

/// Who may connect: one firewall rule of the instance. With no rules, only the engine's own Unix
/// socket is open to the backend; TCP logins need a rule whose CIDR holds the client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRule {
    pub name: String,
    /// IPv4 or IPv6 CIDR, already validated by the API.
    pub cidr: String,
}

/// One database user as the API declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub name: String,
    /// `None`: leave the password as it is (an update that does not re-send it).
    pub password: Option<String>,
    pub roles: Vec<Role>,
}

/// A failure of the engine, with what the operator needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// A program the engine needs is not installed: names the program and the Debian package.
    Missing {
        program: String,
        package: &'static str,
    },
    /// A program ran and failed: the command line (no secrets) and the tail of its stderr.
    Command { command: String, stderr: String },
    /// The server did not start accepting connections in time.
    NotReady { port: u16, waited_ms: u64 },
    /// Anything else (I/O on the data directory, a bad dump file).
    Other(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { program, package } => write!(
                f,
                "{program} not found on PATH or in the usual Debian locations; install the Debian package {package}"
            ),
            Self::Command { command, stderr } => write!(f, "{command} failed: {stderr}"),
            Self::NotReady { port, waited_ms } => write!(
                f,
                "the engine on 127.0.0.1:{port} did not accept connections within {waited_ms} ms"
            ),
            Self::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for EngineError {}

/// One database engine. Implementations: `postgres::Postgres`, `mariadb::MariaDb`.
pub trait EngineDriver: Send + Sync + fmt::Debug {
    /// The API's engine name: `"postgres"` or `"mysql"`.
    fn engine(&self) -> &'static str;

    /// Finds the engine's programs; a missing one is [`EngineError::Missing`] (checked at startup).
    fn check_installed(&self) -> Result<(), EngineError>;

    /// Creates the data directory with the admin user and password (initdb / mariadb-install-db),
    /// and the settings of `spec.settings`. The directory must not exist yet.
    fn init(
        &self,
        spec: &EngineSpec,
        admin_user: &str,
        admin_password: &str,
    ) -> Result<(), EngineError>;

    /// Starts the server and returns once it accepts connections; Ok when it already runs.
    fn start(&self, spec: &EngineSpec) -> Result<(), EngineError>;

    /// Stops the server (fast shutdown); Ok when it is not running.
    fn stop(&self, spec: &EngineSpec) -> Result<(), EngineError>;

    /// Whether the server process of `spec` is alive and answering (a crash reads as false).
    fn is_running(&self, spec: &EngineSpec) -> bool;

    /// Rewrites the tier settings; takes effect at the next start (the backend restarts).
    fn apply_settings(&self, spec: &EngineSpec) -> Result<(), EngineError>;

    fn set_admin_password(
        &self,
        spec: &EngineSpec,
        admin_user: &str,
        password: &str,
    ) -> Result<(), EngineError>;

    /// Creates a database; Ok when it exists. `charset`/`collation` as the API recorded them (a
    /// driver maps or ignores what its engine does not have, and says so in its module docs).
    fn create_database(
        &self,
        spec: &EngineSpec,
        name: &str,
        charset: &str,
        collation: &str,
    ) -> Result<(), EngineError>;

    /// Drops a database; Ok when it is missing.
    fn drop_database(&self, spec: &EngineSpec, name: &str) -> Result<(), EngineError>;

    /// Creates the user or brings an existing one to `user` (password when given, roles exactly).
    fn upsert_user(&self, spec: &EngineSpec, user: &UserSpec) -> Result<(), EngineError>;

    /// Drops a user; Ok when it is missing.
    fn drop_user(&self, spec: &EngineSpec, name: &str) -> Result<(), EngineError>;

    /// Makes `rules` the whole set of TCP sources allowed to log in (pg_hba.conf entries / MariaDB
    /// host patterns), reloaded without a restart.
    fn set_access_rules(&self, spec: &EngineSpec, rules: &[AccessRule]) -> Result<(), EngineError>;

    /// Writes a logical dump of every user database (and the users/grants the driver can carry) to
    /// `dest` (a file the backend names); returns its size in bytes.
    fn dump(&self, spec: &EngineSpec, dest: &Path) -> Result<u64, EngineError>;

    /// Loads a dump written by [`EngineDriver::dump`] into a freshly initialised, running server.
    fn restore(&self, spec: &EngineSpec, src: &Path) -> Result<(), EngineError>;
}
