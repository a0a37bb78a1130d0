//! Storage: every record lives in memory for fast reads and is written through to SQLite (WAL) before the
//! request that changed it is answered. At startup everything is loaded back, so after a crash nothing
//! acknowledged is lost and running operations resume (their due times are persisted in virtual time).
//!
//! SQLite is only touched by one dedicated writer thread ([`writer`]); async code sends it a batch of
//! writes and awaits the answer, so no tokio worker ever blocks on disk. A [`Batch`] applies its changes to
//! memory at once (later steps of the same batch read them) and keeps an undo log: when the commit fails, or
//! the batch is dropped uncommitted, memory is restored to what it was, so a failed write is never visible
//! and never acknowledged.

pub mod lifecycle;
mod writer;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Instance;
use crate::snapshot::{self, DatabaseSpec, Snapshot, UserSpec};
use crate::util::real_now_ms;

pub use lifecycle::OpPlan;
pub(crate) use writer::Write;

/// Embedded migrations, applied in order; `PRAGMA user_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_backup_snapshots.sql"),
    include_str!("../../migrations/0003_engines.sql"),
];

/// Finished operations are kept this long (virtual *or* real time, whichever passes first), as long as
/// idempotency records, so a replayed 202 still names an operation that can be polled.
pub const OPERATION_RETENTION_MS: i64 = 24 * 3600 * 1000;
/// At most this many finished operations are kept (the oldest are purged first).
pub const MAX_FINISHED_OPERATIONS: usize = 100_000;
/// Idempotency records are honoured for 24 hours of virtual *and* real time (the first to pass ends it).
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 3600 * 1000;

/// Bounds of the idempotency table.
#[derive(Debug, Clone, Copy)]
pub struct IdemLimits {
    /// Most records kept; the oldest are evicted first.
    pub max_records: usize,
    /// Most bytes (stored response bodies and headers) kept; the oldest are evicted first.
    pub max_bytes: usize,
}

impl Default for IdemLimits {
    fn default() -> Self {
        Self {
            max_records: 100_000,
            max_bytes: 64 << 20,
        }
    }
}

/// Stored instance: the public record plus internal bookkeeping.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceRec {
    pub inst: Instance,
    /// Virtual time of creation, in ms (for the not-found-after-create fault).
    pub created_ms: i64,
}

/// The real engine server behind an instance (`--engines real` only): where it lives and how it is
/// sized. Plain data, so that the store does not depend on the engine drivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineRec {
    /// The instance's uid (the directory name carries it, so a re-created name never meets old data).
    pub uid: String,
    /// `postgres` or `mysql`.
    pub engine: String,
    /// The instance's directory (removed on delete); `data_dir` and `socket_dir` are inside or short
    /// paths of their own.
    pub dir: std::path::PathBuf,
    pub data_dir: std::path::PathBuf,
    pub socket_dir: std::path::PathBuf,
    /// The loopback port the engine listens on (the instance's endpoint port).
    pub port: u16,
    pub buffer_mb: u32,
    pub max_connections: u32,
}

/// Stored operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpRec {
    pub id: String,
    pub project: String,
    pub verb: String,
    pub target: String,
    pub instance: String,
    pub done: bool,
    pub error: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
    /// Virtual time at which the operation finishes.
    pub due_ms: i64,
    /// Whether the operation is scripted to fail (fault `fail_operation`).
    pub fail: bool,
    /// For updates: the instance before the change, restored if the update fails.
    pub rollback: Option<Instance>,
    /// For deletes: the name of the final backup to record, if any.
    pub final_backup: Option<String>,
    /// For creates restoring a backup: the children to give the instance when the create succeeds
    /// (dropped when the operation finishes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<Snapshot>,
    /// When it finished: virtual and real time in ms (for the retention purge).
    #[serde(default)]
    pub done_ms: Option<i64>,
    #[serde(default)]
    pub done_real_ms: Option<i64>,
    /// Virtual time at which it started, in ms (for the console's progress; absent in records
    /// written before it was kept).
    #[serde(default)]
    pub started_ms: Option<i64>,
    /// Driven by a real engine (`--engines real`): it finishes when the engine work does, never by
    /// the virtual clock (it is not in [`Store::pending`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub engine: bool,
    /// The engine's error when that work failed (the operation's error detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_error: Option<String>,
}

impl OpRec {
    /// The operation as the API shows it.
    pub fn public(&self, now_ms: i64) -> Value {
        serde_json::json!({
            "id": self.id,
            "verb": self.verb,
            "target": self.target,
            "done": self.done,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "estimated_done_at": crate::util::rfc3339(if self.done { now_ms.min(self.due_ms) } else { self.due_ms }),
        })
    }
}

/// Stored idempotency record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdemRec {
    pub fingerprint: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
    /// Virtual time of creation (ms).
    pub created_ms: i64,
    /// Real time of creation (ms); 0 in records written before it existed (then: the load time).
    #[serde(default)]
    pub created_real_ms: i64,
}

impl IdemRec {
    /// Bytes this record counts against [`IdemLimits::max_bytes`].
    pub fn size(&self, scope: &str, key: &str) -> usize {
        96 + scope.len()
            + key.len()
            + self.fingerprint.len()
            + self.body.len()
            + self.content_type.as_ref().map_or(0, String::len)
            + self.location.as_ref().map_or(0, String::len)
    }

    /// Whether the record still counts at virtual time `now` and real time `real_now`.
    pub fn live(&self, now: i64, real_now: i64) -> bool {
        now < self.created_ms.saturating_add(IDEMPOTENCY_TTL_MS)
            && real_now < self.created_real_ms.saturating_add(IDEMPOTENCY_TTL_MS)
    }
}

/// The virtual clock: real time plus an offset, or frozen at a point.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Clock {
    pub offset_ms: i64,
    pub frozen_at_ms: Option<i64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        self.frozen_at_ms
            .unwrap_or_else(|| real_now_ms().saturating_add(self.offset_ms))
    }
}

/// Key of a sub-resource: (project, instance, kind, name).
pub type ChildKey = (String, String, String, String);
type IdemKey = (String, String);

/// The records. Fields are public for reading; every change goes through a [`Batch`].
pub struct Store {
    writer: writer::Writer,
    pub clock: Clock,
    pub instances: BTreeMap<(String, String), InstanceRec>,
    pub ops: HashMap<String, OpRec>,
    /// Running operations by due time.
    pub pending: BTreeSet<(i64, String)>,
    /// Operations by (project, id), for listing one project's operations in order.
    pub ops_by_project: BTreeSet<(String, String)>,
    /// Finished operations by virtual and by real finishing time, for the purge.
    finished_virtual: BTreeSet<(i64, String)>,
    finished_real: BTreeSet<(i64, String)>,
    pub children: BTreeMap<ChildKey, Value>,
    pub backups: BTreeMap<(String, String), Value>,
    /// Real engine servers by (project, instance name).
    pub engines: BTreeMap<(String, String), EngineRec>,
    pub idem: HashMap<IdemKey, IdemRec>,
    /// Idempotency records by (real creation time, scope, key): eviction order.
    idem_by_age: BTreeSet<(i64, String, String)>,
    idem_by_virtual: BTreeSet<(i64, String, String)>,
    idem_bytes: usize,
    idem_limits: IdemLimits,
}

impl Store {
    /// Opens (or creates) the database at `path`, or an in-memory one when `path` is `None`.
    pub fn open(path: Option<&Path>) -> rusqlite::Result<Self> {
        Self::open_with(path, IdemLimits::default())
    }

    /// Like [`Store::open`] with explicit bounds for the idempotency table.
    pub fn open_with(path: Option<&Path>, idem_limits: IdemLimits) -> rusqlite::Result<Self> {
        let conn = match path {
            Some(p) => Connection::open(p)?,
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode: a commit survives a process crash (kill -9); only an OS crash could lose the tail.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            conn.execute_batch(m)?;
            conn.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        let loaded = Loaded::read(&conn)?;
        let mut s = Self {
            writer: writer::Writer::start(conn)?,
            clock: loaded.clock,
            instances: BTreeMap::new(),
            ops: HashMap::new(),
            pending: BTreeSet::new(),
            ops_by_project: BTreeSet::new(),
            finished_virtual: BTreeSet::new(),
            finished_real: BTreeSet::new(),
            children: loaded.children,
            backups: loaded.backups,
            engines: loaded.engines,
            idem: HashMap::new(),
            idem_by_age: BTreeSet::new(),
            idem_by_virtual: BTreeSet::new(),
            idem_bytes: 0,
            idem_limits,
        };
        for rec in loaded.instances {
            s.instances
                .insert((rec.inst.project.clone(), rec.inst.name.clone()), rec);
        }
        let real = real_now_ms();
        for mut op in loaded.ops {
            if op.done {
                op.done_ms.get_or_insert(op.due_ms);
                op.done_real_ms.get_or_insert(real);
            }
            s.set_op(op.id.clone(), Some(op));
        }
        for (k, mut rec) in loaded.idem {
            if rec.created_real_ms == 0 {
                rec.created_real_ms = real;
            }
            s.set_idem(k, Some(rec));
        }
        Ok(s)
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Starts a write batch; changes are visible in memory at once and undone unless
    /// [`Batch::commit`] succeeds.
    pub fn batch(&mut self) -> Batch<'_> {
        Batch {
            store: self,
            writes: Vec::new(),
            undo: Vec::new(),
            settled: false,
        }
    }

    pub fn instance(&self, project: &str, name: &str) -> Option<&InstanceRec> {
        self.instances.get(&(project.to_string(), name.to_string()))
    }

    /// The children of kind `kind` of one instance, in name order.
    pub fn children_of<'a>(
        &'a self,
        project: &'a str,
        instance: &'a str,
        kind: &'a str,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        let start = (project.into(), instance.into(), kind.into(), String::new());
        self.children
            .range::<ChildKey, _>(start..)
            .take_while(move |(k, _)| k.0 == project && k.1 == instance && k.2 == kind)
            .map(|(_, v)| v)
    }

    /// The databases and users of one instance now, for a backup.
    pub fn children_snapshot(&self, project: &str, instance: &str) -> Snapshot {
        Snapshot {
            databases: self
                .children_of(project, instance, snapshot::DATABASES)
                .filter_map(DatabaseSpec::from_record)
                .collect(),
            users: self
                .children_of(project, instance, snapshot::USERS)
                .filter_map(UserSpec::from_record)
                .collect(),
        }
    }

    /// Number of idempotency records and the bytes they count.
    pub fn idem_usage(&self) -> (usize, usize) {
        (self.idem.len(), self.idem_bytes)
    }

    /// Makes every later commit fail with `SQLITE_READONLY` (a stand-in for a read-only or full disk),
    /// or stops doing so. For tests of the failure paths.
    #[doc(hidden)]
    pub fn set_read_only(&self, on: bool) {
        self.writer.set_read_only(on);
    }

    /// The flag behind [`Store::set_read_only`].
    #[doc(hidden)]
    pub fn read_only_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.writer.read_only.clone()
    }

    /// Wipes every record and resets the clock, in one transaction; memory changes only when it commits.
    pub async fn reset(&mut self) -> rusqlite::Result<()> {
        self.writer.commit(vec![Write::Reset]).await?;
        self.clock = Clock::default();
        self.instances.clear();
        self.ops.clear();
        self.pending.clear();
        self.ops_by_project.clear();
        self.finished_virtual.clear();
        self.finished_real.clear();
        self.children.clear();
        self.backups.clear();
        self.engines.clear();
        self.idem.clear();
        self.idem_by_age.clear();
        self.idem_by_virtual.clear();
        self.idem_bytes = 0;
        Ok(())
    }

    /// Drops expired idempotency records and finished operations past their retention (or over the count
    /// bound). Returns how many records went.
    pub async fn housekeeping(&mut self) -> rusqlite::Result<usize> {
        let now = self.now_ms();
        let real = real_now_ms();
        let idem_cut = |t: i64| t.saturating_add(IDEMPOTENCY_TTL_MS);
        let mut idem: BTreeSet<IdemKey> = self
            .idem_by_age
            .iter()
            .take_while(|(t, _, _)| idem_cut(*t) <= real)
            .map(|(_, s, k)| (s.clone(), k.clone()))
            .collect();
        idem.extend(
            self.idem_by_virtual
                .iter()
                .take_while(|(t, _, _)| idem_cut(*t) <= now)
                .map(|(_, s, k)| (s.clone(), k.clone())),
        );
        let mut ops: BTreeSet<String> = self
            .finished_real
            .iter()
            .take_while(|(t, _)| t.saturating_add(OPERATION_RETENTION_MS) <= real)
            .map(|(_, id)| id.clone())
            .collect();
        ops.extend(
            self.finished_virtual
                .iter()
                .take_while(|(t, _)| t.saturating_add(OPERATION_RETENTION_MS) <= now)
                .map(|(_, id)| id.clone()),
        );
        let over = self
            .finished_real
            .len()
            .saturating_sub(MAX_FINISHED_OPERATIONS);
        ops.extend(
            self.finished_real
                .iter()
                .take(over)
                .map(|(_, id)| id.clone()),
        );
        let n = idem.len() + ops.len();
        if n == 0 {
            return Ok(0);
        }
        let mut b = self.batch();
        for k in idem {
            b.del_idem(&k.0, &k.1);
        }
        for id in ops {
            b.del_op(&id);
        }
        b.commit().await?;
        Ok(n)
    }

    /// Sets or removes an operation, keeping the indexes in step; returns the previous one.
    fn set_op(&mut self, id: String, op: Option<OpRec>) -> Option<OpRec> {
        let old = self.ops.remove(&id);
        if let Some(o) = &old {
            if o.done {
                self.finished_virtual
                    .remove(&(o.done_ms.unwrap_or(o.due_ms), id.clone()));
                self.finished_real
                    .remove(&(o.done_real_ms.unwrap_or(0), id.clone()));
            } else {
                self.pending.remove(&(o.due_ms, id.clone()));
            }
            self.ops_by_project.remove(&(o.project.clone(), id.clone()));
        }
        if let Some(op) = op {
            if op.done {
                self.finished_virtual
                    .insert((op.done_ms.unwrap_or(op.due_ms), id.clone()));
                self.finished_real
                    .insert((op.done_real_ms.unwrap_or(0), id.clone()));
            } else if !op.engine {
                self.pending.insert((op.due_ms, id.clone()));
            }
            self.ops_by_project.insert((op.project.clone(), id.clone()));
            self.ops.insert(id, op);
        }
        old
    }

    /// Sets or removes an idempotency record, keeping the indexes and the byte count in step.
    fn set_idem(&mut self, k: IdemKey, rec: Option<IdemRec>) -> Option<IdemRec> {
        let old = match rec {
            Some(r) => self.idem.insert(k.clone(), r),
            None => self.idem.remove(&k),
        };
        if let Some(o) = &old {
            self.idem_by_age
                .remove(&(o.created_real_ms, k.0.clone(), k.1.clone()));
            self.idem_by_virtual
                .remove(&(o.created_ms, k.0.clone(), k.1.clone()));
            self.idem_bytes = self.idem_bytes.saturating_sub(o.size(&k.0, &k.1));
        }
        if let Some(n) = self.idem.get(&k) {
            self.idem_by_age
                .insert((n.created_real_ms, k.0.clone(), k.1.clone()));
            self.idem_by_virtual
                .insert((n.created_ms, k.0.clone(), k.1.clone()));
            self.idem_bytes += n.size(&k.0, &k.1);
        }
        old
    }
}

/// Everything read back from SQLite at startup.
struct Loaded {
    clock: Clock,
    instances: Vec<InstanceRec>,
    ops: Vec<OpRec>,
    children: BTreeMap<ChildKey, Value>,
    backups: BTreeMap<(String, String), Value>,
    engines: BTreeMap<(String, String), EngineRec>,
    idem: Vec<(IdemKey, IdemRec)>,
}

impl Loaded {
    fn read(conn: &Connection) -> rusqlite::Result<Self> {
        let bad = |e: serde_json::Error| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        };
        let mut out = Self {
            clock: Clock::default(),
            instances: Vec::new(),
            ops: Vec::new(),
            children: BTreeMap::new(),
            backups: BTreeMap::new(),
            engines: BTreeMap::new(),
            idem: Vec::new(),
        };
        {
            let mut st = conn.prepare("SELECT value FROM meta WHERE key = 'clock'")?;
            let mut rows = st.query([])?;
            if let Some(r) = rows.next()? {
                let v: String = r.get(0)?;
                out.clock = serde_json::from_str(&v).map_err(bad)?;
            }
        }
        {
            let mut st = conn.prepare("SELECT body FROM instances")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            for b in rows {
                out.instances.push(serde_json::from_str(&b?).map_err(bad)?);
            }
        }
        {
            let mut st = conn.prepare("SELECT body FROM operations")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            for b in rows {
                out.ops.push(serde_json::from_str(&b?).map_err(bad)?);
            }
        }
        {
            let mut st =
                conn.prepare("SELECT project, instance, kind, name, body FROM children")?;
            let rows = st.query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                    r.get::<_, String>(4)?,
                ))
            })?;
            for row in rows {
                let (k, b) = row?;
                out.children
                    .insert(k, serde_json::from_str(&b).map_err(bad)?);
            }
        }
        {
            let mut st = conn.prepare("SELECT project, name, body FROM backups")?;
            let rows =
                st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get::<_, String>(2)?)))?;
            for row in rows {
                let (k, b) = row?;
                out.backups
                    .insert(k, serde_json::from_str(&b).map_err(bad)?);
            }
        }
        {
            let mut st = conn.prepare("SELECT project, name, body FROM engines")?;
            let rows =
                st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get::<_, String>(2)?)))?;
            for row in rows {
                let (k, b) = row?;
                out.engines
                    .insert(k, serde_json::from_str(&b).map_err(bad)?);
            }
        }
        {
            let mut st = conn.prepare("SELECT scope, key, body FROM idempotency")?;
            let rows =
                st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get::<_, String>(2)?)))?;
            for row in rows {
                let (k, b) = row?;
                out.idem.push((k, serde_json::from_str(&b).map_err(bad)?));
            }
        }
        Ok(out)
    }
}

/// The previous value of one changed record.
enum Undo {
    Instance((String, String), Option<Box<InstanceRec>>),
    Op(String, Option<Box<OpRec>>),
    Child(ChildKey, Option<Value>),
    Backup((String, String), Option<Value>),
    Engine((String, String), Option<Box<EngineRec>>),
    Idem(IdemKey, Option<IdemRec>),
    Clock(Clock),
}

/// A set of changes, visible in memory at once and written to SQLite in one transaction by
/// [`Batch::commit`]. Unless the commit succeeds (it fails, or the batch is dropped), memory is restored.
pub struct Batch<'a> {
    pub(crate) store: &'a mut Store,
    writes: Vec<Write>,
    undo: Vec<Undo>,
    settled: bool,
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

impl Batch<'_> {
    /// The store, for reading inside a batch (changes so far are visible).
    pub fn store(&self) -> &Store {
        self.store
    }

    pub fn put_instance(&mut self, rec: InstanceRec) {
        let (p, n) = (rec.inst.project.clone(), rec.inst.name.clone());
        self.writes
            .push(Write::PutInstance(p.clone(), n.clone(), to_json(&rec)));
        let old = self.store.instances.insert((p.clone(), n.clone()), rec);
        self.undo.push(Undo::Instance((p, n), old.map(Box::new)));
    }

    pub fn del_instance(&mut self, project: &str, name: &str) {
        self.writes
            .push(Write::DelInstance(project.into(), name.into()));
        self.writes
            .push(Write::DelChildrenOf(project.into(), name.into()));
        let k = (project.to_string(), name.to_string());
        let old = self.store.instances.remove(&k);
        self.undo.push(Undo::Instance(k, old.map(Box::new)));
        let keys: Vec<ChildKey> = self
            .store
            .children
            .range(
                (
                    project.to_string(),
                    name.to_string(),
                    String::new(),
                    String::new(),
                )..,
            )
            .take_while(|(k, _)| k.0 == project && k.1 == name)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            let old = self.store.children.remove(&k);
            self.undo.push(Undo::Child(k, old));
        }
    }

    pub fn put_op(&mut self, mut op: OpRec) {
        if op.done && op.done_ms.is_none() {
            op.done_ms = Some(self.store.now_ms());
            op.done_real_ms = Some(real_now_ms());
        }
        self.writes
            .push(Write::PutOp(op.id.clone(), op.done, to_json(&op)));
        let id = op.id.clone();
        let old = self.store.set_op(id.clone(), Some(op));
        self.undo.push(Undo::Op(id, old.map(Box::new)));
    }

    pub fn del_op(&mut self, id: &str) {
        self.writes.push(Write::DelOp(id.into()));
        let old = self.store.set_op(id.into(), None);
        self.undo.push(Undo::Op(id.into(), old.map(Box::new)));
    }

    pub fn put_child(&mut self, key: ChildKey, body: Value) {
        self.writes
            .push(Write::PutChild(key.clone(), to_json(&body)));
        let old = self.store.children.insert(key.clone(), body);
        self.undo.push(Undo::Child(key, old));
    }

    pub fn del_child(&mut self, key: ChildKey) {
        self.writes.push(Write::DelChild(key.clone()));
        let old = self.store.children.remove(&key);
        self.undo.push(Undo::Child(key, old));
    }

    pub fn put_backup(&mut self, project: &str, name: &str, body: Value) {
        self.writes.push(Write::PutBackup(
            project.into(),
            name.into(),
            to_json(&body),
        ));
        let k = (project.to_string(), name.to_string());
        let old = self.store.backups.insert(k.clone(), body);
        self.undo.push(Undo::Backup(k, old));
    }

    pub fn del_backup(&mut self, project: &str, name: &str) {
        self.writes
            .push(Write::DelBackup(project.into(), name.into()));
        let k = (project.to_string(), name.to_string());
        let old = self.store.backups.remove(&k);
        self.undo.push(Undo::Backup(k, old));
    }

    pub fn put_engine(&mut self, project: &str, name: &str, rec: EngineRec) {
        self.writes
            .push(Write::PutEngine(project.into(), name.into(), to_json(&rec)));
        let k = (project.to_string(), name.to_string());
        let old = self.store.engines.insert(k.clone(), rec);
        self.undo.push(Undo::Engine(k, old.map(Box::new)));
    }

    pub fn del_engine(&mut self, project: &str, name: &str) {
        self.writes
            .push(Write::DelEngine(project.into(), name.into()));
        let k = (project.to_string(), name.to_string());
        let old = self.store.engines.remove(&k);
        self.undo.push(Undo::Engine(k, old.map(Box::new)));
    }

    /// Records an idempotency answer (stamped with the current real time), evicting the oldest records
    /// while the table is over its bounds.
    pub fn put_idem(&mut self, scope: &str, key: &str, mut rec: IdemRec) {
        rec.created_real_ms = real_now_ms();
        self.writes
            .push(Write::PutIdem(scope.into(), key.into(), to_json(&rec)));
        let k = (scope.to_string(), key.to_string());
        let old = self.store.set_idem(k.clone(), Some(rec));
        self.undo.push(Undo::Idem(k.clone(), old));
        let lim = self.store.idem_limits;
        while self.store.idem.len() > lim.max_records.max(1)
            || (self.store.idem_bytes > lim.max_bytes && self.store.idem.len() > 1)
        {
            let Some((_, s, kk)) = self
                .store
                .idem_by_age
                .iter()
                .find(|(_, s, kk)| (s, kk) != (&k.0, &k.1))
                .cloned()
            else {
                break;
            };
            self.del_idem(&s, &kk);
        }
    }

    pub fn del_idem(&mut self, scope: &str, key: &str) {
        self.writes.push(Write::DelIdem(scope.into(), key.into()));
        let k = (scope.to_string(), key.to_string());
        let old = self.store.set_idem(k.clone(), None);
        self.undo.push(Undo::Idem(k, old));
    }

    pub fn put_clock(&mut self, clock: Clock) {
        self.undo.push(Undo::Clock(self.store.clock));
        self.store.clock = clock;
        self.writes
            .push(Write::Meta("clock".into(), to_json(&clock)));
    }

    /// Commits the batch to SQLite (on the writer thread). On failure memory is restored and the error
    /// returned: nothing of the batch is visible or acknowledged.
    pub async fn commit(mut self) -> rusqlite::Result<()> {
        if self.writes.is_empty() {
            self.settled = true;
            return Ok(());
        }
        let writes = std::mem::take(&mut self.writes);
        let res = self.store.writer.commit(writes).await;
        if res.is_ok() {
            self.settled = true;
        }
        // On error, Drop rolls back.
        res
    }

    fn rollback(&mut self) {
        while let Some(u) = self.undo.pop() {
            let s = &mut *self.store;
            match u {
                Undo::Instance(k, Some(v)) => {
                    s.instances.insert(k, *v);
                }
                Undo::Instance(k, None) => {
                    s.instances.remove(&k);
                }
                Undo::Op(id, v) => {
                    s.set_op(id, v.map(|b| *b));
                }
                Undo::Child(k, Some(v)) => {
                    s.children.insert(k, v);
                }
                Undo::Child(k, None) => {
                    s.children.remove(&k);
                }
                Undo::Backup(k, Some(v)) => {
                    s.backups.insert(k, v);
                }
                Undo::Backup(k, None) => {
                    s.backups.remove(&k);
                }
                Undo::Engine(k, Some(v)) => {
                    s.engines.insert(k, *v);
                }
                Undo::Engine(k, None) => {
                    s.engines.remove(&k);
                }
                Undo::Idem(k, v) => {
                    s.set_idem(k, v);
                }
                Undo::Clock(c) => s.clock = c,
            }
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.rollback();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec(created_ms: i64, created_real_ms: i64) -> IdemRec {
        IdemRec {
            fingerprint: "f".into(),
            status: 201,
            content_type: None,
            location: None,
            body: "{}".into(),
            created_ms,
            created_real_ms,
        }
    }

    #[tokio::test]
    async fn idempotency_records_expire_on_real_time_while_the_clock_is_frozen() {
        let mut s = Store::open(None).unwrap();
        let now = s.now_ms();
        s.clock.frozen_at_ms = Some(now);
        let real = real_now_ms();
        let old = real - IDEMPOTENCY_TTL_MS - 1000;
        s.set_idem(("p".into(), "old".into()), Some(rec(now, old)));
        s.set_idem(("p".into(), "new".into()), Some(rec(now, real)));
        assert!(!s.idem[&("p".to_string(), "old".to_string())].live(now, real));
        assert_eq!(s.housekeeping().await.unwrap(), 1);
        assert_eq!(s.idem_usage().0, 1);
        assert!(s.idem.contains_key(&("p".to_string(), "new".to_string())));
    }

    #[tokio::test]
    async fn a_failed_or_dropped_batch_restores_memory_and_indexes() {
        let mut s = Store::open(None).unwrap();
        let mut b = s.batch();
        b.put_backup("p", "b1", serde_json::json!({"name": "b1"}));
        b.commit().await.unwrap();
        let bytes = s.idem_usage();
        s.set_read_only(true);
        let mut b = s.batch();
        b.del_backup("p", "b1");
        b.put_idem("p", "k", rec(0, 0));
        b.put_clock(Clock {
            offset_ms: 5,
            frozen_at_ms: None,
        });
        assert!(b.commit().await.is_err());
        assert!(s.backups.contains_key(&("p".to_string(), "b1".to_string())));
        assert_eq!(s.idem_usage(), bytes);
        assert_eq!(s.clock.offset_ms, 0);
        s.set_read_only(false);
        {
            let mut b = s.batch();
            b.del_backup("p", "b1");
            // dropped without commit
        }
        assert!(s.backups.contains_key(&("p".to_string(), "b1".to_string())));
    }
}
