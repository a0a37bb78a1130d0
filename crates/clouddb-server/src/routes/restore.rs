//! `restore_from_backup` on instance create: finds the backup in the project, supplies the engine
//! defaults it implies and checks the rest of the create body against it. Every finding is a field
//! violation of the body, listed with the body's other violations; only a backup that exists but is
//! not READY is a 409 (the request is right, the backup cannot be used yet).

use serde_json::Value;

use crate::error::{ApiError, ApiResult, FieldViolation};
use crate::model::{major, valid_instance_name};
use crate::snapshot::Snapshot;
use crate::store::Store;

/// The create body's field naming the backup.
pub const FIELD: &str = "restore_from_backup";

/// A backup an instance is restored from: what the create is checked against, and the snapshot the
/// new instance is given.
pub struct Source {
    pub name: String,
    /// The instance the backup was taken of (it may be gone).
    pub instance: String,
    pub engine: String,
    pub engine_version: String,
    /// Storage of `instance` when the backup was taken: a restore needs at least as much.
    pub storage_gb: u64,
    state: String,
    pub snapshot: Snapshot,
}

impl Source {
    /// The backup `name` of `project`, or `None` with a violation on [`FIELD`] when there is no such
    /// backup (backups are per project, so another project's are not found either).
    pub fn find(
        store: &Store,
        project: &str,
        name: &str,
        v: &mut Vec<FieldViolation>,
    ) -> Option<Self> {
        if !valid_instance_name(name) {
            v.push(FieldViolation::new(
                FIELD,
                "must be a backup name: ^[a-z][a-z0-9-]{1,61}[a-z0-9]$",
            ));
            return None;
        }
        match store.backups.get(&(project.to_string(), name.to_string())) {
            Some(b) => Some(Self::from_record(name, b)),
            None => {
                v.push(FieldViolation::new(
                    FIELD,
                    format!("backup {name} not found in project {project}"),
                ));
                None
            }
        }
    }

    fn from_record(name: &str, b: &Value) -> Self {
        let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
        Self {
            name: name.into(),
            instance: s("instance"),
            engine: s("engine"),
            engine_version: s("engine_version"),
            storage_gb: b["source_storage_gb"].as_u64().unwrap_or(0),
            state: s("state"),
            snapshot: Snapshot::from_backup(b),
        }
    }

    /// Checks the engine of the body (if it names one) against the backup's; true when they agree,
    /// so that the version is only compared within the right engine.
    pub fn check_engine(&self, requested: Option<&str>, v: &mut Vec<FieldViolation>) -> bool {
        match requested {
            Some(e) if e != self.engine => {
                v.push(FieldViolation::new(
                    "engine",
                    format!(
                        "engine {e} does not match engine {} of backup {}; a restore keeps the engine",
                        self.engine, self.name
                    ),
                ));
                false
            }
            _ => true,
        }
    }

    /// Checks a (catalogue) version of the body against the backup's major version: data restores
    /// into any version of the same major, never across one.
    pub fn check_version(&self, requested: &str, v: &mut Vec<FieldViolation>) {
        if major(requested) != major(&self.engine_version) {
            v.push(FieldViolation::new(
                "engine_version",
                format!(
                    "{} {requested} is not the major version of backup {} ({} {}); a restore keeps the major version",
                    self.engine, self.name, self.engine, self.engine_version
                ),
            ));
        }
    }

    /// Checks the storage of the body: the data of the source instance must fit.
    pub fn check_storage(&self, storage_gb: i64, v: &mut Vec<FieldViolation>) {
        if storage_gb < self.storage_gb as i64 {
            v.push(FieldViolation::new(
                "storage_gb",
                format!(
                    "must be at least {} GB, the storage of instance {} when backup {} was taken",
                    self.storage_gb, self.instance, self.name
                ),
            ));
        }
    }

    /// The admin user cannot have the name of a restored user (as a user cannot be created with the
    /// admin's name); dropping the restored user instead would lose its roles silently.
    pub fn check_admin_username(&self, admin: &str, v: &mut Vec<FieldViolation>) {
        if self.snapshot.users.iter().any(|u| u.name == admin) {
            v.push(FieldViolation::new(
                "admin_username",
                format!(
                    "backup {} has a user named {admin}; choose another admin_username",
                    self.name
                ),
            ));
        }
    }

    /// 409 `FAILED_PRECONDITION` unless the backup is READY.
    pub fn check_ready(&self) -> ApiResult<()> {
        if self.state == "READY" {
            return Ok(());
        }
        Err(ApiError::Conflict {
            reason: "FAILED_PRECONDITION",
            detail: format!(
                "backup {} is {}, not READY; it cannot be restored yet",
                self.name, self.state
            ),
            retryable: false,
        })
    }
}
