//! The `--engines real` backend: runs the instances' operations on real engine servers through the
//! [`EngineDriver`]s, keeps where each engine lives ([`EngineRec`], persisted in SQLite with the
//! instance), watches their health and brings them back after a restart of clouddb-server.
//!
//! - **Operations.** A create, delete, tier change, admin password change or restart records an
//!   engine operation (`OpRec::engine`: the virtual clock never finishes it) and spawns a job: the
//!   driver's blocking work runs under `spawn_blocking`, then the operation finishes with the
//!   result (an engine error is the operation's error). Sub-resource writes and on-demand backups
//!   call the driver inside the request instead ([`Backend::apply`], [`Backend::dump`]): an engine
//!   error answers 500 `ENGINE_ERROR` and nothing is recorded.
//! - **Layout.** `<root>/engines/<project>/<instance>-<uid>/data` (the engine's data directory),
//!   its socket directory beside it (or under the system temp directory when that path would be
//!   too long for a Unix socket), dumps in `<root>/backups/<project>/<backup>.sql`; `<root>` is the
//!   directory of the SQLite file.
//! - **Restarts of clouddb-server.** [`Backend::recover`] runs at startup: a READY instance's engine
//!   is adopted when it still runs (kill -9 of clouddb-server leaves it running) or started; an
//!   engine operation that was running is run again (each step is idempotent), except a create,
//!   which needs the admin password the API never stores: it fails and the instance is FAILED; an
//!   engine whose instance is gone is stopped and removed. A graceful shutdown stops every engine.
//! - **Health.** [`Backend::watch`] checks every READY instance's engine every
//!   [`HEALTH_INTERVAL`]; one that stopped answering makes the instance FAILED, which the provider
//!   reports, and the `restart` action brings it back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::driver::{AccessRule, EngineDriver, EngineError, EngineSpec, TierSettings, UserSpec};
use super::ports::free_port;
use super::postgres::Postgres;
use crate::AppState;
use crate::model::{Instance, InstanceState, find_tier};
use crate::store::{EngineRec, Store};
use crate::util::rfc3339;

/// How often the health watch checks each READY instance's engine.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(2);
/// Longest socket directory path (a Unix socket path is at most 107 bytes; the engine adds its
/// file name, e.g. `/.s.PGSQL.65535.lock`).
const MAX_SOCKET_DIR: usize = 80;
/// Tries of a create whose port another process took before the engine bound it.
const PORT_TRIES: usize = 3;

/// The drivers of this build, by API engine name.
pub fn drivers() -> BTreeMap<&'static str, Arc<dyn EngineDriver>> {
    let mut m: BTreeMap<&'static str, Arc<dyn EngineDriver>> = BTreeMap::new();
    let pg: Arc<dyn EngineDriver> = Arc::new(Postgres::default());
    m.insert(pg.engine(), pg);
    let my: Arc<dyn EngineDriver> = Arc::new(super::mariadb::MariaDb);
    m.insert(my.engine(), my);
    m
}

/// A sub-resource write, as the engine applies it.
#[derive(Debug, Clone)]
pub enum Change {
    CreateDatabase {
        name: String,
        charset: String,
        collation: String,
    },
    DropDatabase(String),
    UpsertUser(UserSpec),
    DropUser(String),
    /// The instance's whole set of firewall rules after the write.
    AccessRules(Vec<AccessRule>),
}

/// See [`Backend::left_by_last_run`].
#[derive(Debug, Default)]
pub struct LeftByLastRun {
    engines: Vec<((String, String), EngineRec, Option<Instance>)>,
    /// (project, instance, operation id) of each unfinished engine operation.
    ops: Vec<(String, String, String)>,
}

/// The real-engine backend.
#[derive(Debug)]
pub struct Backend {
    root: PathBuf,
    drivers: BTreeMap<&'static str, Arc<dyn EngineDriver>>,
}

/// The engine settings of a tier, scaled down so that many instances fit on one machine:
/// 16 MiB of buffers per GB of the tier's memory, 20 connections plus 10 per vCPU.
pub fn tier_settings(tier: &str) -> TierSettings {
    let (mem, cpus) = find_tier(tier).map_or((1, 1), |t| (t.memory_gb, t.vcpus));
    TierSettings {
        buffer_mb: mem.saturating_mul(16),
        max_connections: 20 + 10 * cpus,
    }
}

/// The driver's view of an engine record.
pub fn spec(rec: &EngineRec) -> EngineSpec {
    EngineSpec {
        data_dir: rec.data_dir.clone(),
        socket_dir: rec.socket_dir.clone(),
        port: rec.port,
        settings: TierSettings {
            buffer_mb: rec.buffer_mb,
            max_connections: rec.max_connections,
        },
    }
}

impl Backend {
    /// The backend keeping its engines and dumps under `root`, with this build's drivers.
    pub fn new(root: PathBuf) -> Self {
        Self::with_drivers(root, drivers())
    }

    pub fn with_drivers(
        root: PathBuf,
        drivers: BTreeMap<&'static str, Arc<dyn EngineDriver>>,
    ) -> Self {
        Self { root, drivers }
    }

    /// Every driver's programs are installed; else one line per missing engine, naming the package.
    pub fn check_installed(&self) -> Result<(), String> {
        let errors: Vec<String> = self
            .drivers
            .values()
            .filter_map(|d| {
                d.check_installed()
                    .err()
                    .map(|e| format!("engine {}: {e}", d.engine()))
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    pub fn driver(&self, engine: &str) -> Result<Arc<dyn EngineDriver>, EngineError> {
        self.drivers.get(engine).cloned().ok_or_else(|| {
            EngineError::Other(format!("engine {engine} has no real driver in this build"))
        })
    }

    /// The dump file of backup `name` of `project`.
    pub fn backup_file(&self, project: &str, name: &str) -> PathBuf {
        self.root
            .join("backups")
            .join(project)
            .join(format!("{name}.sql"))
    }

    /// A new engine record for `inst`: its directories and a free port no other engine was given.
    pub fn new_record(&self, inst: &Instance, store: &Store) -> Result<EngineRec, EngineError> {
        self.driver(&inst.engine)?;
        let dir = self
            .root
            .join("engines")
            .join(&inst.project)
            .join(format!("{}-{}", inst.name, inst.uid));
        let mut socket_dir = dir.join("run");
        if socket_dir.as_os_str().len() > MAX_SOCKET_DIR {
            let short: String = inst
                .uid
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(16)
                .collect();
            socket_dir = std::env::temp_dir().join(format!("clouddb-{short}"));
        }
        let settings = tier_settings(&inst.tier);
        Ok(EngineRec {
            uid: inst.uid.clone(),
            engine: inst.engine.clone(),
            data_dir: dir.join("data"),
            dir,
            socket_dir,
            port: free_port(|p| port_taken(store, p))?,
            buffer_mb: settings.buffer_mb,
            max_connections: settings.max_connections,
        })
    }

    /// Runs `f` on the driver of `engine` on a blocking thread.
    pub async fn call<T, F>(&self, engine: &str, f: F) -> Result<T, EngineError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn EngineDriver) -> Result<T, EngineError> + Send + 'static,
    {
        let d = self.driver(engine)?;
        tokio::task::spawn_blocking(move || f(d.as_ref()))
            .await
            .map_err(|e| EngineError::Other(format!("the engine task failed: {e}")))?
    }

    /// Applies one sub-resource write to the engine of `rec`.
    pub async fn apply(&self, rec: &EngineRec, change: Change) -> Result<(), EngineError> {
        let s = spec(rec);
        self.call(&rec.engine, move |d| match change {
            Change::CreateDatabase {
                name,
                charset,
                collation,
            } => d.create_database(&s, &name, &charset, &collation),
            Change::DropDatabase(n) => d.drop_database(&s, &n),
            Change::UpsertUser(u) => d.upsert_user(&s, &u),
            Change::DropUser(n) => d.drop_user(&s, &n),
            Change::AccessRules(r) => d.set_access_rules(&s, &r),
        })
        .await
    }

    /// Dumps the engine of `rec` into the file of backup `name`; returns its size.
    pub async fn dump(
        &self,
        rec: &EngineRec,
        project: &str,
        name: &str,
    ) -> Result<u64, EngineError> {
        let s = spec(rec);
        let dest = self.backup_file(project, name);
        // The driver writes the file; its directory is the backend's (per project, made on first use).
        self.call(&rec.engine, move |d| {
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| EngineError::Other(format!("creating {}: {e}", dir.display())))?;
            }
            d.dump(&s, &dest)
        })
        .await
    }

    /// Removes the dump file of a backup (a backup without one, taken by the simulated backend, is
    /// fine).
    pub fn remove_dump(&self, project: &str, name: &str) {
        let f = self.backup_file(project, name);
        if let Err(e) = std::fs::remove_file(&f)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %f.display(), error = %e, "removing a backup's dump failed");
        }
    }

    /// What a start of clouddb-server finds: every engine record (with its instance, if any) and
    /// every engine operation left unfinished. Taken before the server answers its first request,
    /// so an operation a request starts is never mistaken for one a restart interrupted (its job
    /// would then run a second time, without the admin password, and fail the create).
    pub async fn left_by_last_run(&self, st: &AppState) -> LeftByLastRun {
        let store = st.read().await;
        let engines = store
            .engines
            .iter()
            .map(|(k, r)| {
                (
                    k.clone(),
                    r.clone(),
                    store.instance(&k.0, &k.1).map(|i| i.inst.clone()),
                )
            })
            .collect();
        let ops = store
            .ops
            .values()
            .filter(|o| o.engine && !o.done)
            .map(|o| (o.project.clone(), o.instance.clone(), o.id.clone()))
            .collect();
        LeftByLastRun { engines, ops }
    }

    /// Brings back what the last run left (see the module docs).
    pub async fn recover(&self, st: &AppState, left: LeftByLastRun) {
        let LeftByLastRun { engines, ops } = left;
        for ((project, name), rec, inst) in engines {
            match inst {
                None => {
                    tracing::warn!(%project, instance = %name, "removing the engine of a deleted instance");
                    if let Err(e) = self.remove_engine(&rec).await {
                        tracing::error!(%project, instance = %name, error = %e, "removing an orphaned engine failed");
                        continue;
                    }
                    let mut store = st.store().await;
                    let mut b = store.batch();
                    b.del_engine(&project, &name);
                    if let Err(e) = b.commit().await {
                        tracing::error!(error = %e, "forgetting an orphaned engine failed");
                    }
                }
                Some(i) if i.state == InstanceState::Ready && i.current_operation.is_none() => {
                    let s = spec(&rec);
                    if let Err(e) = self.call(&rec.engine, move |d| d.start(&s)).await {
                        tracing::error!(%project, instance = %name, error = %e, "starting an engine failed");
                        mark_failed(st, &project, &name).await;
                    } else {
                        tracing::info!(%project, instance = %name, port = rec.port, "engine running");
                    }
                }
                Some(_) => {}
            }
        }
        for (project, instance, op) in ops {
            tracing::info!(%project, %instance, %op, "resuming an engine operation");
            spawn_job(st.clone(), project, instance, op, None);
        }
    }

    /// Stops every engine (graceful shutdown of clouddb-server).
    pub async fn stop_all(&self, st: &AppState) {
        let recs: Vec<EngineRec> = st.read().await.engines.values().cloned().collect();
        for rec in recs {
            let s = spec(&rec);
            if let Err(e) = self.call(&rec.engine, move |d| d.stop(&s)).await {
                tracing::error!(dir = %rec.dir.display(), error = %e, "stopping an engine failed");
            }
        }
    }

    /// The health watch: until `stop` turns true, every [`HEALTH_INTERVAL`] each READY instance
    /// whose engine no longer answers becomes FAILED.
    pub async fn watch(&self, st: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut iv = tokio::time::interval(HEALTH_INTERVAL);
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = iv.tick() => {}
                _ = stop.changed() => return,
            }
            let targets: Vec<(String, String, EngineRec)> = {
                let store = st.read().await;
                store
                    .engines
                    .iter()
                    .filter(|(k, _)| {
                        store.instance(&k.0, &k.1).is_some_and(|r| {
                            r.inst.state == InstanceState::Ready
                                && r.inst.current_operation.is_none()
                        })
                    })
                    .map(|(k, r)| (k.0.clone(), k.1.clone(), r.clone()))
                    .collect()
            };
            for (project, name, rec) in targets {
                let s = spec(&rec);
                let running = self.call(&rec.engine, move |d| Ok(d.is_running(&s))).await;
                if running.is_ok_and(|r| !r) {
                    tracing::warn!(%project, instance = %name, port = rec.port, "the engine stopped answering; the instance is FAILED");
                    mark_failed(&st, &project, &name).await;
                }
            }
        }
    }

    /// Removes every dump file (`POST /admin/reset`).
    pub fn remove_all_dumps(&self) {
        let dir = self.root.join("backups");
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %dir.display(), error = %e, "removing the dumps failed");
        }
    }

    /// Stops the engine of `rec` and removes its directories.
    pub async fn remove_engine(&self, rec: &EngineRec) -> Result<(), EngineError> {
        let r = rec.clone();
        self.call(&rec.engine, move |d| {
            d.stop(&spec(&r))?;
            for dir in [&r.dir, &r.socket_dir] {
                match std::fs::remove_dir_all(dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(super::process::io_err("removing", dir, e)),
                }
            }
            Ok(())
        })
        .await
    }
}

/// Whether another engine was given `port`.
fn port_taken(store: &Store, port: u16) -> bool {
    store.engines.values().any(|r| r.port == port)
}

/// Makes a READY instance without a running operation FAILED (its engine is down).
async fn mark_failed(st: &AppState, project: &str, name: &str) {
    let mut store = st.store().await;
    let Some(mut rec) = store.instance(project, name).cloned() else {
        return;
    };
    if rec.inst.state != InstanceState::Ready || rec.inst.current_operation.is_some() {
        return;
    }
    let now = store.now_ms();
    rec.inst.state = InstanceState::Failed;
    rec.inst.updated_at = rfc3339(now);
    rec.inst.refresh_etag();
    let mut b = store.batch();
    b.put_instance(rec);
    if let Err(e) = b.commit().await {
        tracing::error!(error = %e, "recording a FAILED instance failed");
    }
}

/// What an engine job did, for finishing its operation.
#[derive(Debug, Default)]
struct Outcome {
    /// The engine record after the job (a new port, new settings); `None`: unchanged.
    rec: Option<EngineRec>,
    /// The size of the final backup's dump.
    final_backup_size: Option<u64>,
    /// The engine is gone (delete).
    removed: bool,
}

/// Starts the job of engine operation `op_id` on `project`/`instance` in a task of its own; it
/// finishes the operation when done. `secret` is the admin password of a create or update (never
/// stored; a resumed create without it fails).
pub fn spawn_job(
    st: AppState,
    project: String,
    instance: String,
    op_id: String,
    secret: Option<String>,
) {
    tokio::spawn(async move {
        let res = run_job(&st, &project, &instance, &op_id, secret).await;
        if let Err(e) = &res {
            tracing::warn!(%project, %instance, op = %op_id, error = %e, "engine operation failed");
        }
        finish(&st, &project, &instance, &op_id, res).await;
    });
}

async fn run_job(
    st: &AppState,
    project: &str,
    instance: &str,
    op_id: &str,
    secret: Option<String>,
) -> Result<Outcome, EngineError> {
    let Some(be) = st.engines.clone() else {
        return Err(EngineError::Other("the real-engine backend is off".into()));
    };
    let (op, inst, rec, rules) = {
        let store = st.read().await;
        let op = store
            .ops
            .get(op_id)
            .cloned()
            .ok_or_else(|| EngineError::Other(format!("operation {op_id} is gone")))?;
        let inst = store.instance(project, instance).map(|r| r.inst.clone());
        let rec = store
            .engines
            .get(&(project.to_string(), instance.to_string()))
            .cloned();
        let rules: Vec<AccessRule> = store
            .children_of(project, instance, "firewallRules")
            .filter_map(access_rule)
            .collect();
        (op, inst, rec, rules)
    };
    let (Some(inst), Some(mut rec)) = (inst, rec) else {
        return Err(EngineError::Other(format!(
            "instance {instance} has no engine"
        )));
    };
    match op.verb.as_str() {
        "create" => {
            let Some(password) = secret else {
                // Whatever the interrupted create started is stopped; the delete removes it.
                let s = spec(&rec);
                if let Err(e) = be.call(&rec.engine, move |d| d.stop(&s)).await {
                    tracing::warn!(%project, %instance, error = %e, "stopping a half-created engine failed");
                }
                return Err(EngineError::Other(
                    "the create was interrupted by a restart of clouddb-server, and the admin password is never stored; delete the instance and create it again".into(),
                ));
            };
            let dump = (!inst.restored_from_backup.is_empty())
                .then(|| be.backup_file(project, &inst.restored_from_backup));
            let mut changed = false;
            for attempt in 1..=PORT_TRIES {
                let (s, admin, pw, dump) = (
                    spec(&rec),
                    inst.admin_username.clone(),
                    password.clone(),
                    dump.clone(),
                );
                let dir = rec.dir.clone();
                let res = be
                    .call(&rec.engine, move |d| {
                        // A directory left by an earlier try is thrown away (a create has no data yet).
                        d.stop(&s)?;
                        if s.data_dir.exists() {
                            std::fs::remove_dir_all(&dir)
                                .map_err(|e| super::process::io_err("removing", &dir, e))?;
                        }
                        d.init(&s, &admin, &pw)?;
                        d.start(&s)?;
                        if let Some(f) = dump {
                            d.restore(&s, &f)?;
                            // The dump carries the old instance's roles: the admin keeps the password
                            // this create was given.
                            d.set_admin_password(&s, &admin, &pw)?;
                        }
                        Ok(())
                    })
                    .await;
                match res {
                    Err(e)
                        if attempt < PORT_TRIES
                            && e.to_string().contains("Address already in use") =>
                    {
                        let store = st.read().await;
                        rec.port = free_port(|p| p == rec.port || port_taken(&store, p))?;
                        changed = true;
                        tracing::info!(%project, %instance, port = rec.port, "port taken; retrying on another");
                    }
                    other => {
                        other?;
                        break;
                    }
                }
            }
            if !rules.is_empty() {
                be.apply(&rec, Change::AccessRules(rules)).await?;
            }
            Ok(Outcome {
                rec: changed.then_some(rec),
                ..Outcome::default()
            })
        }
        "update" => {
            let old_tier = op
                .rollback
                .as_ref()
                .map(|o| o.tier.clone())
                .unwrap_or_default();
            let settings = tier_settings(&inst.tier);
            let resize = old_tier != inst.tier
                || settings.buffer_mb != rec.buffer_mb
                || settings.max_connections != rec.max_connections;
            rec.buffer_mb = settings.buffer_mb;
            rec.max_connections = settings.max_connections;
            let (s, admin) = (spec(&rec), inst.admin_username.clone());
            be.call(&rec.engine, move |d| {
                if resize {
                    d.apply_settings(&s)?;
                    d.stop(&s)?;
                    d.start(&s)?;
                }
                if let Some(pw) = secret {
                    d.set_admin_password(&s, &admin, &pw)?;
                }
                Ok(())
            })
            .await?;
            Ok(Outcome {
                rec: resize.then_some(rec),
                ..Outcome::default()
            })
        }
        "delete" => {
            let size = match &op.final_backup {
                Some(name) => Some(be.dump(&rec, project, name).await?),
                None => None,
            };
            be.remove_engine(&rec).await?;
            Ok(Outcome {
                final_backup_size: size,
                removed: true,
                ..Outcome::default()
            })
        }
        // restart, failover (a single server: a restart).
        _ => {
            let s = spec(&rec);
            be.call(&rec.engine, move |d| {
                d.stop(&s)?;
                d.start(&s)
            })
            .await?;
            Ok(Outcome::default())
        }
    }
}

/// A stored firewall rule as an access rule.
pub fn access_rule(v: &serde_json::Value) -> Option<AccessRule> {
    Some(AccessRule {
        name: v["name"].as_str()?.into(),
        cidr: v["cidr"].as_str()?.into(),
    })
}

/// Finishes engine operation `op_id` with the job's result.
async fn finish(
    st: &AppState,
    project: &str,
    instance: &str,
    op_id: &str,
    res: Result<Outcome, EngineError>,
) {
    let mut store = st.store().await;
    let Some(mut op) = store.ops.get(op_id).cloned() else {
        return;
    };
    if op.done {
        return;
    }
    let now = store.now_ms();
    let verb = op.verb.clone();
    let mut b = store.batch();
    let outcome = match res {
        Ok(o) => Some(o),
        Err(e) => {
            op.fail = true;
            op.engine_error = Some(e.to_string());
            b.put_op(op.clone());
            None
        }
    };
    b.finish_op(op_id, now);
    match outcome {
        Some(o) => {
            if let Some(rec) = o.rec {
                if let Some(mut i) = b.store().instance(project, instance).cloned()
                    && i.inst.endpoint.port != rec.port
                {
                    i.inst.endpoint.port = rec.port;
                    i.inst.refresh_etag();
                    b.put_instance(i);
                }
                b.put_engine(project, instance, rec);
            }
            if o.removed {
                b.del_engine(project, instance);
            }
            if let (Some(size), Some(name)) = (o.final_backup_size, &op.final_backup)
                && let Some(mut backup) = b
                    .store()
                    .backups
                    .get(&(project.to_string(), name.clone()))
                    .cloned()
            {
                backup["size_bytes"] = serde_json::json!(size);
                b.put_backup(project, name, backup);
            }
        }
        None if matches!(verb.as_str(), "restart" | "failover") => {
            // An action leaves the instance READY either way; a real engine that did not start is
            // down, which the instance must say.
            if let Some(mut i) = b.store().instance(project, instance).cloned() {
                i.inst.state = InstanceState::Failed;
                i.inst.refresh_etag();
                b.put_instance(i);
            }
        }
        None => {}
    }
    if let Err(e) = b.commit().await {
        tracing::error!(op = %op_id, error = %e, "finishing an engine operation failed");
    }
}

/// The root directory of the engines and dumps for a server whose SQLite file is `data`.
pub fn root_for(data: &Path) -> PathBuf {
    match data.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A driver whose programs are missing.
    #[derive(Debug)]
    struct NotInstalled;

    impl EngineDriver for NotInstalled {
        fn engine(&self) -> &'static str {
            "postgres"
        }
        fn check_installed(&self) -> Result<(), EngineError> {
            Err(EngineError::Missing {
                program: "initdb/pg_ctl".into(),
                package: "postgresql",
            })
        }
        fn init(&self, _: &EngineSpec, _: &str, _: &str) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn start(&self, _: &EngineSpec) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn stop(&self, _: &EngineSpec) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn is_running(&self, _: &EngineSpec) -> bool {
            false
        }
        fn apply_settings(&self, _: &EngineSpec) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn set_admin_password(&self, _: &EngineSpec, _: &str, _: &str) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn create_database(
            &self,
            _: &EngineSpec,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn drop_database(&self, _: &EngineSpec, _: &str) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn upsert_user(&self, _: &EngineSpec, _: &UserSpec) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn drop_user(&self, _: &EngineSpec, _: &str) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn set_access_rules(&self, _: &EngineSpec, _: &[AccessRule]) -> Result<(), EngineError> {
            self.check_installed()
        }
        fn dump(&self, _: &EngineSpec, _: &Path) -> Result<u64, EngineError> {
            self.check_installed()?;
            Ok(0)
        }
        fn restore(&self, _: &EngineSpec, _: &Path) -> Result<(), EngineError> {
            self.check_installed()
        }
    }

    #[test]
    fn a_missing_engine_names_its_package_and_an_engine_without_a_driver_is_refused() {
        let d: Arc<dyn EngineDriver> = Arc::new(NotInstalled);
        let be =
            Backend::with_drivers(PathBuf::from("/nowhere"), BTreeMap::from([("postgres", d)]));
        let e = be.check_installed().err().unwrap_or_default();
        assert!(
            e.contains("engine postgres") && e.contains("install the Debian package postgresql"),
            "{e}"
        );
        let e = be
            .driver("mysql")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(e, "engine mysql has no real driver in this build");
    }

    #[test]
    fn tiers_scale_the_settings() {
        let micro = tier_settings("db-micro");
        let big = tier_settings("db-highmem-8");
        assert_eq!(
            micro,
            TierSettings {
                buffer_mb: 16,
                max_connections: 30
            }
        );
        assert!(big.buffer_mb > micro.buffer_mb && big.max_connections > micro.max_connections);
        assert_eq!(root_for(Path::new("clouddb.db")), PathBuf::from("."));
        assert_eq!(root_for(Path::new("/x/y.db")), PathBuf::from("/x"));
    }
}
