//! The writer thread: the only place SQLite is written. Async code sends it a batch of [`Write`]s and
//! awaits the result, so tokio workers never block on disk (commits, WAL checkpoints).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rusqlite::{Connection, params};

use super::ChildKey;

/// One change to write.
pub(crate) enum Write {
    PutInstance(String, String, String),
    DelInstance(String, String),
    PutOp(String, bool, String),
    DelOp(String),
    PutChild(ChildKey, String),
    DelChild(ChildKey),
    DelChildrenOf(String, String),
    PutBackup(String, String, String),
    DelBackup(String, String),
    PutEngine(String, String, String),
    DelEngine(String, String),
    PutIdem(String, String, String),
    DelIdem(String, String),
    Meta(String, String),
    /// Deletes every row of every table.
    Reset,
}

struct Job {
    writes: Vec<Write>,
    reply: tokio::sync::oneshot::Sender<rusqlite::Result<()>>,
}

/// Handle on the writer thread; the thread ends when the handle is dropped.
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
    pub(crate) read_only: Arc<AtomicBool>,
}

fn gone() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
        Some("the storage writer thread is gone".into()),
    )
}

impl Writer {
    pub(crate) fn start(conn: Connection) -> rusqlite::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let read_only = Arc::new(AtomicBool::new(false));
        let ro = read_only.clone();
        std::thread::Builder::new()
            .name("clouddb-sqlite-writer".into())
            .spawn(move || run(conn, rx, ro))
            .map_err(|e| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("starting the writer thread: {e}")),
                )
            })?;
        Ok(Self { tx, read_only })
    }

    pub(crate) fn set_read_only(&self, on: bool) {
        self.read_only.store(on, Ordering::SeqCst);
    }

    /// Writes `writes` in one transaction.
    pub(crate) async fn commit(&self, writes: Vec<Write>) -> rusqlite::Result<()> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx.send(Job { writes, reply }).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Job>, read_only: Arc<AtomicBool>) {
    let mut ro = false;
    while let Ok(job) = rx.recv() {
        let want = read_only.load(Ordering::SeqCst);
        if want != ro && conn.pragma_update(None, "query_only", want).is_ok() {
            ro = want;
        }
        let res = apply(&mut conn, &job.writes);
        if let Err(e) = &res {
            tracing::error!(error = %e, "SQLite commit failed; nothing of the batch was applied");
        }
        let _ = job.reply.send(res);
    }
}

/// One transaction; any error rolls it back (the transaction is dropped uncommitted).
fn apply(conn: &mut Connection, writes: &[Write]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for w in writes {
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
            Write::DelOp(id) => {
                tx.prepare_cached("DELETE FROM operations WHERE id = ?1")?
                    .execute(params![id])?;
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
            Write::PutEngine(p, n, b) => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO engines (project, name, body) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![p, n, b])?;
            }
            Write::DelEngine(p, n) => {
                tx.prepare_cached("DELETE FROM engines WHERE project = ?1 AND name = ?2")?
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
            Write::Reset => {
                for t in [
                    "instances",
                    "operations",
                    "children",
                    "backups",
                    "engines",
                    "idempotency",
                    "meta",
                ] {
                    tx.execute(&format!("DELETE FROM {t}"), [])?;
                }
            }
        }
    }
    tx.commit()
}
