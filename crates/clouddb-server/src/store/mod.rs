//! Storage: every record lives in memory for fast reads and is written through to SQLite (WAL) before the
//! request that changed it is answered. At startup everything is loaded back, so after a crash nothing
//! acknowledged is lost and running operations resume (their due times are persisted in virtual time).

pub mod lifecycle;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Instance;
use crate::util::real_now_ms;

pub use lifecycle::OpPlan;

/// Embedded migrations, applied in order; `PRAGMA user_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/0001_init.sql")];

/// Stored instance: the public record plus internal bookkeeping.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceRec {
    pub inst: Instance,
    /// Virtual time of creation, in ms (for the not-found-after-create fault).
    pub created_ms: i64,
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
    pub created_ms: i64,
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

pub struct Store {
    conn: Connection,
    pub clock: Clock,
    pub instances: BTreeMap<(String, String), InstanceRec>,
    pub ops: HashMap<String, OpRec>,
    /// Running operations by due time.
    pub pending: BTreeSet<(i64, String)>,
    pub children: BTreeMap<ChildKey, Value>,
    pub backups: BTreeMap<(String, String), Value>,
    pub idem: HashMap<(String, String), IdemRec>,
}

impl Store {
    /// Opens (or creates) the database at `path`, or an in-memory one when `path` is `None`.
    pub fn open(path: Option<&Path>) -> rusqlite::Result<Self> {
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
        let mut s = Self {
            conn,
            clock: Clock::default(),
            instances: BTreeMap::new(),
            ops: HashMap::new(),
            pending: BTreeSet::new(),
            children: BTreeMap::new(),
            backups: BTreeMap::new(),
            idem: HashMap::new(),
        };
        s.load()?;
        Ok(s)
    }

    fn load(&mut self) -> rusqlite::Result<()> {
        let bad = |e: serde_json::Error| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        };
        {
            let mut st = self
                .conn
                .prepare("SELECT value FROM meta WHERE key = 'clock'")?;
            let mut rows = st.query([])?;
            if let Some(r) = rows.next()? {
                let v: String = r.get(0)?;
                self.clock = serde_json::from_str(&v).map_err(bad)?;
            }
        }
        {
            let mut st = self.conn.prepare("SELECT body FROM instances")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            for b in rows {
                let rec: InstanceRec = serde_json::from_str(&b?).map_err(bad)?;
                self.instances
                    .insert((rec.inst.project.clone(), rec.inst.name.clone()), rec);
            }
        }
        {
            let mut st = self.conn.prepare("SELECT body FROM operations")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            for b in rows {
                let op: OpRec = serde_json::from_str(&b?).map_err(bad)?;
                if !op.done {
                    self.pending.insert((op.due_ms, op.id.clone()));
                }
                self.ops.insert(op.id.clone(), op);
            }
        }
        {
            let mut st = self
                .conn
                .prepare("SELECT project, instance, kind, name, body FROM children")?;
            let rows = st.query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                    r.get::<_, String>(4)?,
                ))
            })?;
            for row in rows {
                let (k, b) = row?;
                self.children
                    .insert(k, serde_json::from_str(&b).map_err(bad)?);
            }
        }
        {
            let mut st = self
                .conn
                .prepare("SELECT project, name, body FROM backups")?;
            let rows =
                st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get::<_, String>(2)?)))?;
            for row in rows {
                let (k, b) = row?;
                self.backups
                    .insert(k, serde_json::from_str(&b).map_err(bad)?);
            }
        }
        {
            let mut st = self
                .conn
                .prepare("SELECT scope, key, body FROM idempotency")?;
            let rows =
                st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get::<_, String>(2)?)))?;
            for row in rows {
                let (k, b) = row?;
                self.idem.insert(k, serde_json::from_str(&b).map_err(bad)?);
            }
        }
        Ok(())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Starts a write batch; changes are kept in memory at once and committed by [`Batch::commit`].
    pub fn batch(&mut self) -> Batch<'_> {
        Batch {
            store: self,
            writes: Vec::new(),
        }
    }

    pub fn instance(&self, project: &str, name: &str) -> Option<&InstanceRec> {
        self.instances.get(&(project.to_string(), name.to_string()))
    }

    /// Wipes every record and resets the clock.
    pub fn reset(&mut self) -> rusqlite::Result<()> {
        self.conn.execute_batch(
            "BEGIN; DELETE FROM instances; DELETE FROM operations; DELETE FROM children;
             DELETE FROM backups; DELETE FROM idempotency; DELETE FROM meta; COMMIT;",
        )?;
        self.clock = Clock::default();
        self.instances.clear();
        self.ops.clear();
        self.pending.clear();
        self.children.clear();
        self.backups.clear();
        self.idem.clear();
        Ok(())
    }
}

enum Write {
    PutInstance(String, String, String),
    DelInstance(String, String),
    PutOp(String, bool, String),
    PutChild(ChildKey, String),
    DelChild(ChildKey),
    DelChildrenOf(String, String),
    PutBackup(String, String, String),
    DelBackup(String, String),
    PutIdem(String, String, String),
    DelIdem(String, String),
    Meta(String, String),
}

/// A set of changes applied to memory immediately and to SQLite in one transaction on commit.
pub struct Batch<'a> {
    pub store: &'a mut Store,
    writes: Vec<Write>,
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

impl Batch<'_> {
    pub fn put_instance(&mut self, rec: InstanceRec) {
        let (p, n) = (rec.inst.project.clone(), rec.inst.name.clone());
        self.writes
            .push(Write::PutInstance(p.clone(), n.clone(), to_json(&rec)));
        self.store.instances.insert((p, n), rec);
    }

    pub fn del_instance(&mut self, project: &str, name: &str) {
        self.writes
            .push(Write::DelInstance(project.into(), name.into()));
        self.writes
            .push(Write::DelChildrenOf(project.into(), name.into()));
        self.store
            .instances
            .remove(&(project.to_string(), name.to_string()));
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
            self.store.children.remove(&k);
        }
    }

    pub fn put_op(&mut self, op: OpRec) {
        if op.done {
            self.store.pending.remove(&(op.due_ms, op.id.clone()));
        } else {
            self.store.pending.insert((op.due_ms, op.id.clone()));
        }
        self.writes
            .push(Write::PutOp(op.id.clone(), op.done, to_json(&op)));
        self.store.ops.insert(op.id.clone(), op);
    }

    pub fn put_child(&mut self, key: ChildKey, body: Value) {
        self.writes
            .push(Write::PutChild(key.clone(), to_json(&body)));
        self.store.children.insert(key, body);
    }

    pub fn del_child(&mut self, key: ChildKey) {
        self.writes.push(Write::DelChild(key.clone()));
        self.store.children.remove(&key);
    }

    pub fn put_backup(&mut self, project: &str, name: &str, body: Value) {
        self.writes.push(Write::PutBackup(
            project.into(),
            name.into(),
            to_json(&body),
        ));
        self.store
            .backups
            .insert((project.into(), name.into()), body);
    }

    pub fn del_backup(&mut self, project: &str, name: &str) {
        self.writes
            .push(Write::DelBackup(project.into(), name.into()));
        self.store
            .backups
            .remove(&(project.to_string(), name.to_string()));
    }

    /// Drops idempotency records created before `cutoff_ms` (virtual time).
    pub fn expire_idem(&mut self, cutoff_ms: i64) {
        let old: Vec<(String, String)> = self
            .store
            .idem
            .iter()
            .filter(|(_, r)| r.created_ms < cutoff_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in old {
            self.writes.push(Write::DelIdem(k.0.clone(), k.1.clone()));
            self.store.idem.remove(&k);
        }
    }

    pub fn put_idem(&mut self, scope: &str, key: &str, rec: IdemRec) {
        self.writes
            .push(Write::PutIdem(scope.into(), key.into(), to_json(&rec)));
        self.store.idem.insert((scope.into(), key.into()), rec);
    }

    pub fn put_clock(&mut self, clock: Clock) {
        self.store.clock = clock;
        self.writes
            .push(Write::Meta("clock".into(), to_json(&clock)));
    }

    /// Commits the batch to SQLite.
    pub fn commit(self) -> rusqlite::Result<()> {
        if self.writes.is_empty() {
            return Ok(());
        }
        let tx = self.store.conn.transaction()?;
        for w in &self.writes {
            match w {
                Write::PutInstance(p, n, b) => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO instances (project, name, body) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![p, n, b])?;
                }
                Write::DelInstance(p, n) => {
                    tx.prepare_cached("DELETE FROM instances WHERE project = ?1 AND name = ?2")?
                        .execute(params![p, n])?;
                }
                Write::PutOp(id, done, b) => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO operations (id, done, body) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![id, done, b])?;
                }
                Write::PutChild((p, i, k, n), b) => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO children (project, instance, kind, name, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![p, i, k, n, b])?;
                }
                Write::DelChild((p, i, k, n)) => {
                    tx.prepare_cached(
                        "DELETE FROM children WHERE project = ?1 AND instance = ?2 AND kind = ?3 AND name = ?4",
                    )?
                    .execute(params![p, i, k, n])?;
                }
                Write::DelChildrenOf(p, i) => {
                    tx.prepare_cached("DELETE FROM children WHERE project = ?1 AND instance = ?2")?
                        .execute(params![p, i])?;
                }
                Write::PutBackup(p, n, b) => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO backups (project, name, body) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![p, n, b])?;
                }
                Write::DelBackup(p, n) => {
                    tx.prepare_cached("DELETE FROM backups WHERE project = ?1 AND name = ?2")?
                        .execute(params![p, n])?;
                }
                Write::PutIdem(s, k, b) => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO idempotency (scope, key, body) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![s, k, b])?;
                }
                Write::DelIdem(s, k) => {
                    tx.prepare_cached("DELETE FROM idempotency WHERE scope = ?1 AND key = ?2")?
                        .execute(params![s, k])?;
                }
                Write::Meta(k, v) => {
                    tx.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
                        .execute(params![k, v])?;
                }
            }
        }
        tx.commit()
    }
}
