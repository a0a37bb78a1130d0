//! CloudDB control-plane API server: the reference implementation of the REST API the Terraform provider
//! talks to. It knows nothing about Terraform.
//!
//! Layout:
//! - [`app`] builds the axum `Router`; [`serve`] runs it on a listener with a shutdown signal and the
//!   background ticker that finishes operations. `main.rs` only parses flags.
//! - `middleware`: request ids, the request log, problem+json for framework rejections, auth, rate limit,
//!   fault injection and idempotency keys (outer to inner in that order).
//! - `routes/*`: one module per API resource (instances, operations, databases, users, firewall_rules,
//!   backups, catalogue, admin).
//! - `store`: in-memory records written through to SQLite (WAL), and the operation state machine.
//! - `error`: the `ApiError` enum rendered as RFC 9457 problem+json. `extract`: the JSON body
//!   extractors (`ApiJson`, `MergePatch`) whose rejections are `ApiError`s. `model`: wire types,
//!   the typed instance state, catalogue, rules.

pub mod error;
pub mod extract;
pub mod faults;
pub mod http_client;
pub mod middleware;
pub mod model;
pub mod routes;
pub mod store;
pub mod util;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
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
    /// Requests per second per token (0 = unlimited) and the bucket size.
    pub rate_limit: f64,
    pub rate_burst: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data: None,
            tokens: HashMap::from([("demo-token".to_string(), "demo".to_string())]),
            admin_token: "admin-token".into(),
            provision_ms: 3000,
            update_ms: 3000,
            delete_ms: 2000,
            rate_limit: 1000.0,
            rate_burst: 2000.0,
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
    pub status: u16,
    pub time: String,
    pub request_id: String,
}

/// The bounded in-memory request log.
#[derive(Default)]
pub struct RequestLog {
    pub next_seq: u64,
    pub entries: VecDeque<LogEntry>,
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
    pub store: Mutex<store::Store>,
    pub faults: faults::Faults,
    pub limiter: Mutex<HashMap<String, Bucket>>,
    pub log: Mutex<RequestLog>,
    pub inflight_idem: Mutex<HashSet<(String, String)>>,
    pub req_seq: AtomicU64,
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
    /// Opens the store and builds the state.
    pub fn new(config: Config) -> rusqlite::Result<Self> {
        let store = store::Store::open(config.data.as_deref())?;
        Ok(Self(Arc::new(Shared {
            config,
            store: Mutex::new(store),
            faults: faults::Faults::default(),
            limiter: Mutex::new(HashMap::new()),
            log: Mutex::new(RequestLog::default()),
            inflight_idem: Mutex::new(HashSet::new()),
            req_seq: AtomicU64::new(0),
        })))
    }

    /// Locks the store, first finishing any operation that is due.
    pub fn store(&self) -> MutexGuard<'_, store::Store> {
        let mut s = lock(&self.store);
        if let Err(e) = s.complete_due() {
            tracing::error!(error = %e, "finishing due operations failed");
        }
        s
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
    let ticker = tokio::spawn(async move {
        let mut iv = tokio::time::interval(Duration::from_millis(50));
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut n: u64 = 0;
        loop {
            iv.tick().await;
            let mut store = ticker_state.store();
            n += 1;
            if n.is_multiple_of(1200) {
                // About once a minute: forget idempotency records older than their TTL.
                let cutoff = store.now_ms() - middleware::IDEMPOTENCY_TTL_MS;
                let mut b = store.batch();
                b.expire_idem(cutoff);
                if let Err(e) = b.commit() {
                    tracing::error!(error = %e, "expiring idempotency records failed");
                }
            }
        }
    });
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let res = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await;
    ticker.abort();
    res
}
