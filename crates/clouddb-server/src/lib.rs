//! CloudDB control-plane API server: the reference implementation of the REST API the Terraform provider
//! talks to. It knows nothing about Terraform.
//!
//! Layout:
//! - [`app`] builds the axum `Router`; [`serve`] runs it on a listener with a shutdown signal and the
//!   background ticker that finishes operations. `main.rs` only parses flags.
//! - `middleware`: request ids, the request log, problem+json for framework rejections, auth, the
//!   body's field names for the log, rate limit, fault injection and idempotency keys (outer to inner
//!   in that order).
//! - `routes/*`: one module per API resource (instances, operations, databases, users, firewall_rules,
//!   backups, catalogue, admin), and `console` (the web page at `/`, its login and its data).
//! - `store`: in-memory records written through to SQLite (WAL) by a dedicated writer thread (handlers
//!   await it behind an async lock; a failed commit rolls memory back), and the operation state machine.
//! - `error`: the `ApiError` enum rendered as RFC 9457 problem+json. `extract`: the JSON body
//!   extractors (`ApiJson`, `MergePatch`) whose rejections are `ApiError`s. `model`: wire types,
//!   the typed instance state, catalogue, rules. `snapshot`: what a backup keeps of its instance's
//!   databases and users (and the stored shape of those records), replayed by a restore.
//! - `engine`: `--engines real` ([`EngineMode::Real`]): every instance a real PostgreSQL cluster
//!   or MariaDB server; its backend is started by [`serve`] (recovery, health watch) and stops the
//!   engines when `serve` returns.

pub mod engine;
pub mod error;
pub mod extract;
pub mod faults;
pub mod http_client;
pub mod middleware;
pub mod model;
pub mod routes;
pub mod snapshot;
pub mod store;
pub mod util;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use serde::Serialize;

/// Largest accepted request body.
pub const MAX_BODY: usize = 1 << 20;

/// Server configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// SQLite file; `None` keeps everything in memory.
    pub data: Option<PathBuf>,
    /// API token → project.
    pub tokens: HashMap<String, String>,
    pub admin_token: String,
    /// Virtual time each verb's operation takes, in ms.
    pub provision_ms: i64,
    pub update_ms: i64,
    pub delete_ms: i64,
    /// Virtual time a restart and a failover operation take, in ms.
    pub restart_ms: i64,
    pub failover_ms: i64,
    /// Requests per second per token (0 = unlimited) and the bucket size.
    pub rate_limit: f64,
    pub rate_burst: f64,
    /// Failed authentications (401) per second per client address and the bucket size; an address
    /// whose bucket is empty gets 429 for every request, before authentication (0 = unlimited).
    pub auth_failure_rate: f64,
    pub auth_failure_burst: f64,
    /// Bytes the in-memory request log may hold (estimated; the oldest entries are dropped first).
    pub request_log_max_bytes: usize,
    /// Bounds of the idempotency table (records, bytes); the oldest records are evicted first.
    pub idempotency_max_records: usize,
    pub idempotency_max_bytes: usize,
    /// Serve the console at `/` without a login (the binary allows it on a loopback listener only).
    pub console_no_auth: bool,
    /// Which backend runs the instances: simulated (the default: records and the virtual clock) or
    /// real database engines (`--engines real`, which needs `data`).
    pub engines: EngineMode,
}

/// The instance backend (`--engines`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineMode {
    /// Instances are records; operations take virtual time.
    #[default]
    Simulated,
    /// Every instance is a real PostgreSQL or MariaDB server on a loopback port (`engine`).
    Real,
}

/// Why the server state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("opening the database failed: {0}")]
    Store(#[from] rusqlite::Error),
    /// `--engines real` cannot run: an engine is not installed, or there is no data directory.
    #[error("--engines real: {0}")]
    Engines(String),
}

/// Default of [`Config::admin_token`]; refused on a listener off loopback.
pub const DEFAULT_ADMIN_TOKEN: &str = "admin-token";
/// Default of [`Config::request_log_max_bytes`]: 32 MiB.
pub const REQUEST_LOG_MAX_BYTES: usize = 32 << 20;
/// Defaults of [`Config::auth_failure_rate`] and [`Config::auth_failure_burst`].
pub const AUTH_FAILURE_RATE: f64 = 20.0;
pub const AUTH_FAILURE_BURST: f64 = 200.0;
/// At most this many client addresses are tracked by the authentication-failure limiter.
pub const MAX_TRACKED_ADDRESSES: usize = 10_000;

impl Default for Config {
    fn default() -> Self {
        Self {
            data: None,
            tokens: HashMap::from([("demo-token".to_string(), "demo".to_string())]),
            admin_token: DEFAULT_ADMIN_TOKEN.into(),
            provision_ms: 3000,
            update_ms: 3000,
            delete_ms: 2000,
            restart_ms: 3000,
            failover_ms: 3000,
            rate_limit: 1000.0,
            rate_burst: 2000.0,
            auth_failure_rate: AUTH_FAILURE_RATE,
            auth_failure_burst: AUTH_FAILURE_BURST,
            request_log_max_bytes: REQUEST_LOG_MAX_BYTES,
            idempotency_max_records: store::IdemLimits::default().max_records,
            idempotency_max_bytes: store::IdemLimits::default().max_bytes,
            console_no_auth: false,
            engines: EngineMode::Simulated,
        }
    }
}

/// One entry of the request log (`GET /admin/requests`).
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub project: Option<String>,
    pub idempotency_key: Option<String>,
    /// Top-level keys of the JSON object body, sorted; never a value (see `middleware::body_fields`).
    pub body_fields: Vec<String>,
    pub status: u16,
    /// Time the server took to answer, in ms.
    pub duration_ms: f64,
    pub time: String,
    pub request_id: String,
}

/// Longest `path` and `query` kept in a log entry (longer ones are cut and end with `…`).
pub const LOG_MAX_FIELD: usize = 512;
/// Longest `idempotency_key` kept in a log entry.
pub const LOG_MAX_KEY: usize = 255;
/// Most `body_fields` kept in a log entry (a final `…` marks that more were left out), and the
/// longest field name kept.
pub const LOG_MAX_BODY_FIELDS: usize = 64;
pub const LOG_MAX_KEY_NAME: usize = 64;

/// Cuts `s` to at most `max` bytes (at a character boundary), marking a cut with `…`.
pub fn truncate_field(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

impl LogEntry {
    /// Estimated bytes the entry takes in memory.
    pub fn size(&self) -> usize {
        160 + self.method.len()
            + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + self.project.as_ref().map_or(0, String::len)
            + self.idempotency_key.as_ref().map_or(0, String::len)
            + self.body_fields.iter().map(|f| 24 + f.len()).sum::<usize>()
            + self.time.len()
            + self.request_id.len()
    }
}

/// The bounded in-memory request log: at most [`LOG_CAPACITY`] entries and `max_bytes` bytes.
#[derive(Default)]
pub struct RequestLog {
    pub next_seq: u64,
    pub entries: VecDeque<LogEntry>,
    bytes: usize,
    max_bytes: usize,
}

impl RequestLog {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            ..Self::default()
        }
    }

    /// Appends an entry (numbering it), dropping the oldest while over a bound.
    pub fn push(&mut self, mut e: LogEntry) {
        self.next_seq += 1;
        e.seq = self.next_seq;
        let size = e.size();
        while !self.entries.is_empty()
            && (self.entries.len() >= LOG_CAPACITY || self.bytes + size > self.max_bytes)
        {
            if let Some(old) = self.entries.pop_front() {
                self.bytes = self.bytes.saturating_sub(old.size());
            }
        }
        self.bytes += size;
        self.entries.push_back(e);
    }

    /// Estimated bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

/// Keeps at most this many log entries.
pub const LOG_CAPACITY: usize = 200_000;

/// A token bucket.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    pub tokens: f64,
    pub last: std::time::Instant,
}

/// Everything the handlers share.
pub struct Shared {
    pub config: Config,
    /// An async lock: writers await SQLite commits (done on the writer thread) without blocking a worker;
    /// readers share it.
    pub store: tokio::sync::RwLock<store::Store>,
    pub faults: faults::Faults,
    pub limiter: Mutex<HashMap<String, Bucket>>,
    storage_read_only: Arc<std::sync::atomic::AtomicBool>,
    /// Authentication failures per client address (and whether on the admin API).
    pub auth_failures: Mutex<HashMap<(IpAddr, bool), Bucket>>,
    pub log: Mutex<RequestLog>,
    pub inflight_idem: Mutex<HashSet<(String, String)>>,
    pub req_seq: AtomicU64,
    /// Console sessions opened by a login with the admin token.
    pub console_sessions: routes::console::Sessions,
    /// The real-engine backend (`--engines real`); `None` for the simulated one.
    pub engines: Option<Arc<engine::Backend>>,
}

/// Cheaply clonable handle on the shared state.
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AppState {
    /// Opens the store and builds the state. With [`EngineMode::Real`] every driver's programs must
    /// be installed (the error names the package) and `config.data` must name a file (its
    /// directory holds the engines and dumps).
    pub fn new(config: Config) -> Result<Self, StartError> {
        let engines = match config.engines {
            EngineMode::Simulated => None,
            EngineMode::Real => {
                let data = config.data.as_deref().ok_or_else(|| {
                    StartError::Engines(
                        "real engines need a data directory: pass --data FILE, not --in-memory"
                            .into(),
                    )
                })?;
                let be = engine::Backend::new(engine::backend::root_for(data));
                be.check_installed().map_err(StartError::Engines)?;
                Some(Arc::new(be))
            }
        };
        let store = store::Store::open_with(
            config.data.as_deref(),
            store::IdemLimits {
                max_records: config.idempotency_max_records,
                max_bytes: config.idempotency_max_bytes,
            },
        )?;
        let log = RequestLog::new(config.request_log_max_bytes);
        let storage_read_only = store.read_only_flag();
        Ok(Self(Arc::new(Shared {
            config,
            store: tokio::sync::RwLock::new(store),
            faults: faults::Faults::default(),
            limiter: Mutex::new(HashMap::new()),
            storage_read_only,
            auth_failures: Mutex::new(HashMap::new()),
            log: Mutex::new(log),
            inflight_idem: Mutex::new(HashSet::new()),
            req_seq: AtomicU64::new(0),
            console_sessions: routes::console::Sessions::default(),
            engines,
        })))
    }

    /// Locks the store for writing, first finishing any operation that is due. Callers run in a task of
    /// their own (see `middleware::context`), so a commit is never cancelled halfway.
    pub async fn store(&self) -> tokio::sync::RwLockWriteGuard<'_, store::Store> {
        let mut s = self.store.write().await;
        if s.has_due()
            && let Err(e) = s.complete_due().await
        {
            tracing::error!(error = %e, "finishing due operations failed");
        }
        s
    }

    /// Locks the store for reading (shared). Due operations are finished first, by a task of its own
    /// (so a reader that goes away cannot cancel that commit).
    pub async fn read(&self) -> tokio::sync::RwLockReadGuard<'_, store::Store> {
        {
            let s = self.store.read().await;
            if !s.has_due() {
                return s;
            }
        }
        let st = self.clone();
        let _ = tokio::spawn(async move {
            drop(st.store().await);
        })
        .await;
        self.store.read().await
    }

    /// Test hook: makes every SQLite write fail (`PRAGMA query_only`, as with a read-only file), or
    /// stops doing so.
    #[doc(hidden)]
    pub fn set_storage_read_only(&self, on: bool) {
        // The flag is shared with the writer thread; no need to wait for the store lock.
        self.storage_read_only
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn log(&self) -> MutexGuard<'_, RequestLog> {
        lock(&self.log)
    }
}

/// Builds the router (public API, admin API, fallbacks and layers).
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves `state` on `listener` until `shutdown` resolves, with the background ticker that finishes
/// operations as the virtual clock passes their due time.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let ticker_state = state.clone();
    let state_for_engines = state.clone();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    // The ticker is stopped between ticks (never cancelled inside a commit).
    let ticker = tokio::spawn(async move {
        let mut iv = tokio::time::interval(Duration::from_millis(50));
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = iv.tick() => {}
                _ = stop_rx.changed() => break,
            }
            let mut store = ticker_state.store().await;
            n += 1;
            if n.is_multiple_of(20) {
                // About once a second: expired idempotency records, finished operations past retention.
                if let Err(e) = store.housekeeping().await {
                    tracing::error!(error = %e, "housekeeping failed");
                }
            }
        }
    });
    // Real engines: bring back those of the last run (as found before the first request), then
    // watch their health.
    let watcher = match state.engines.clone() {
        Some(be) => {
            let left = be.left_by_last_run(&state).await;
            let st = state.clone();
            let stop = stop_tx.subscribe();
            Some(tokio::spawn(async move {
                be.recover(&st, left).await;
                be.watch(st, stop).await;
            }))
        }
        None => None,
    };
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let res = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop_tx.send(true);
    let _ = ticker.await;
    if let Some(w) = watcher {
        let _ = w.await;
    }
    if let Some(be) = state_for_engines.engines.clone() {
        be.stop_all(&state_for_engines).await;
    }
    res
}
