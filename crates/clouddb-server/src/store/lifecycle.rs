//! The asynchronous operation state machine: CREATING → READY | FAILED, UPDATING → READY (rolled back on
//! failure), DELETING → gone (READY again on failure); the actions `restart` and `failover` run in
//! UPDATING and end READY either way. Operations finish when the virtual clock reaches their due time.

use serde_json::{Value, json};

use super::{Batch, InstanceRec, OpRec, Store};
use crate::model::InstanceState;
use crate::snapshot::{DATABASES, Snapshot, USERS};
use crate::util::{rand_u64, rfc3339};

/// What to record with a new operation.
#[derive(Debug, Default)]
pub struct OpPlan {
    pub fail: bool,
    pub rollback: Option<crate::model::Instance>,
    pub final_backup: Option<String>,
    /// For creates restoring a backup: the children to give the instance when the create succeeds.
    pub restore: Option<Snapshot>,
    /// Finished by the real engine's work instead of the virtual clock (see `OpRec::engine`).
    pub engine: bool,
}

/// A new operation id.
pub fn new_op_id() -> String {
    format!("op-{:016x}{:04x}", rand_u64(), rand_u64() & 0xffff)
}

fn op_error(status: u16, reason: &str, detail: String) -> Value {
    json!({
        "type": format!("urn:clouddb:problem:{}", reason.to_ascii_lowercase().replace('_', "-")),
        "title": if status == 500 { "Internal Server Error" } else { "Conflict" },
        "status": status,
        "detail": detail,
        "reason": reason,
        "retryable": false,
        "request_id": "",
    })
}

/// The detail of a failed operation: the engine's error when a real engine failed, else the
/// injected fault's `injected` text.
fn failure(op: &OpRec, injected: String) -> String {
    match &op.engine_error {
        Some(e) => format!("instance {}: {e}", op.instance),
        None => injected,
    }
}

/// The size recorded for a backup of `storage_gb`.
pub fn backup_size(storage_gb: u64) -> u64 {
    storage_gb
        .saturating_mul(52_428_800)
        .saturating_add(1_048_576)
}

/// A backup record of `inst` with its children `snap`. `source_storage_gb` is kept because a restore
/// needs at least that much storage; `creation_token` is empty (the on-demand create sets its key).
pub fn backup_record(
    inst: &crate::model::Instance,
    snap: &Snapshot,
    name: &str,
    kind: &str,
    now: i64,
) -> Value {
    let mut rec = json!({
        "name": name,
        "instance": inst.name,
        "instance_uid": inst.uid,
        "type": kind,
        "state": "READY",
        "engine": inst.engine,
        "engine_version": inst.engine_version,
        "size_bytes": backup_size(inst.storage_gb),
        "source_storage_gb": inst.storage_gb,
        "created_at": rfc3339(now),
        "creation_token": "",
    });
    for (k, v) in snap.backup_fields() {
        rec[k] = v;
    }
    rec
}

impl Store {
    /// Whether an operation is due (cheap; lets reads skip [`Store::complete_due`]).
    pub fn has_due(&self) -> bool {
        let now = self.now_ms();
        self.pending.first().is_some_and(|(d, _)| *d <= now)
    }

    /// Finishes every operation whose due time has passed. Returns how many finished.
    pub async fn complete_due(&mut self) -> rusqlite::Result<usize> {
        let now = self.now_ms();
        let due: Vec<String> = self
            .pending
            .iter()
            .take_while(|(d, _)| *d <= now)
            .map(|(_, id)| id.clone())
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        let n = due.len();
        let mut b = self.batch();
        for id in due {
            b.finish_op(&id, now);
        }
        b.commit().await?;
        Ok(n)
    }
}

impl Batch<'_> {
    /// Builds a new operation on `instance` lasting `duration_ms` of virtual time.
    pub fn new_op(
        &self,
        id: String,
        project: &str,
        instance: &str,
        verb: &str,
        duration_ms: i64,
        plan: OpPlan,
    ) -> OpRec {
        let now = self.store.now_ms();
        OpRec {
            id,
            project: project.into(),
            verb: verb.into(),
            target: format!("instances/{instance}"),
            instance: instance.into(),
            done: false,
            error: None,
            created_at: rfc3339(now),
            updated_at: rfc3339(now),
            due_ms: now.saturating_add(duration_ms.max(0)),
            fail: plan.fail,
            rollback: plan.rollback,
            final_backup: plan.final_backup,
            restore: plan.restore,
            done_ms: None,
            done_real_ms: None,
            started_ms: Some(now),
            engine: plan.engine,
            engine_error: None,
        }
    }

    /// Records an operation; one already due (zero duration) finishes at once.
    pub fn start_op(&mut self, op: OpRec) -> OpRec {
        let now = self.store.now_ms();
        let id = op.id.clone();
        let due = !op.engine && op.due_ms <= now;
        self.put_op(op);
        if due {
            self.finish_op(&id, now);
        }
        self.store.ops.get(&id).cloned().unwrap_or_else(|| OpRec {
            id,
            project: String::new(),
            verb: String::new(),
            target: String::new(),
            instance: String::new(),
            done: true,
            error: None,
            created_at: rfc3339(now),
            updated_at: rfc3339(now),
            due_ms: now,
            fail: false,
            rollback: None,
            final_backup: None,
            restore: None,
            done_ms: Some(now),
            done_real_ms: Some(crate::util::real_now_ms()),
            started_ms: None,
            engine: false,
            engine_error: None,
        })
    }

    /// Finishes one operation and moves its instance to the resulting state.
    pub fn finish_op(&mut self, id: &str, now: i64) {
        let Some(mut op) = self.store.ops.get(id).cloned() else {
            return;
        };
        if op.done {
            return;
        }
        op.done = true;
        op.updated_at = rfc3339(now);
        op.done_ms = Some(now);
        op.done_real_ms = Some(crate::util::real_now_ms());
        // Taken in every outcome, so a finished operation does not keep the snapshot.
        let restore = op.restore.take();
        let rec = self
            .store
            .instance(&op.project, &op.instance)
            .cloned()
            .filter(|r| r.inst.current_operation.as_deref() == Some(id));
        match (op.verb.as_str(), rec) {
            (_, None) => {
                if op.verb != "delete" {
                    op.error = Some(op_error(
                        409,
                        "ABORTED",
                        format!(
                            "instance {} was changed or deleted out of band",
                            op.instance
                        ),
                    ));
                }
            }
            ("create", Some(mut rec)) => {
                if op.fail {
                    rec.inst.state = InstanceState::Failed;
                    op.error = Some(op_error(
                        500,
                        "PROVISIONING_FAILED",
                        failure(
                            &op,
                            format!(
                                "provisioning instance {} failed (injected fault)",
                                op.instance
                            ),
                        ),
                    ));
                } else {
                    rec.inst.state = InstanceState::Ready;
                    if let Some(snap) = &restore {
                        self.restore_children(&op.project, &op.instance, snap, now);
                    }
                }
                self.settle(rec, now);
            }
            ("update", Some(mut rec)) => {
                if op.fail {
                    if let Some(old) = op.rollback.take() {
                        rec.inst = old;
                    }
                    op.error = Some(op_error(
                        500,
                        "UPDATE_FAILED",
                        failure(
                            &op,
                            format!(
                                "updating instance {} failed (injected fault); changes rolled back",
                                op.instance
                            ),
                        ),
                    ));
                }
                rec.inst.state = InstanceState::Ready;
                self.settle(rec, now);
            }
            ("delete", Some(mut rec)) => {
                if op.fail {
                    rec.inst.state = InstanceState::Ready;
                    op.error = Some(op_error(
                        500,
                        "DELETE_FAILED",
                        failure(
                            &op,
                            format!("deleting instance {} failed (injected fault)", op.instance),
                        ),
                    ));
                    self.settle(rec, now);
                } else {
                    if let Some(name) = &op.final_backup {
                        // Before del_instance, which drops the children.
                        let snap = self.store.children_snapshot(&op.project, &op.instance);
                        let b = backup_record(&rec.inst, &snap, name, "FINAL", now);
                        self.put_backup(&op.project, name, b);
                    }
                    self.del_instance(&op.project, &op.instance);
                }
            }
            // Actions (restart, failover) change no setting: failed or not, the instance serves again.
            (verb, Some(mut rec)) => {
                if op.fail {
                    let reason = format!("{}_FAILED", verb.to_ascii_uppercase());
                    op.error = Some(op_error(
                        500,
                        &reason,
                        failure(
                            &op,
                            format!("{verb} of instance {} failed (injected fault)", op.instance),
                        ),
                    ));
                }
                rec.inst.state = InstanceState::Ready;
                self.settle(rec, now);
            }
        }
        self.put_op(op);
    }

    /// Gives a restored instance the children of its backup. The children appear when the create
    /// succeeds, in the same commit as READY: while CREATING the instance has none (as a real
    /// restore has no data before it finishes), and a failed restore leaves a FAILED instance
    /// without any. A child that already exists (only drift can make one during CREATING) is kept.
    fn restore_children(&mut self, project: &str, instance: &str, snap: &Snapshot, now: i64) {
        let now = rfc3339(now);
        let dbs = snap
            .databases
            .iter()
            .map(|d| (DATABASES, &d.name, d.record(instance, &now)));
        let users = snap
            .users
            .iter()
            .map(|u| (USERS, &u.name, u.record(instance, &now)));
        for (kind, name, rec) in dbs.chain(users) {
            let key = (project.into(), instance.into(), kind.into(), name.clone());
            if !self.store.children.contains_key(&key) {
                self.put_child(key, rec);
            }
        }
    }

    fn settle(&mut self, mut rec: InstanceRec, now: i64) {
        rec.inst.current_operation = None;
        rec.inst.updated_at = rfc3339(now);
        rec.inst.refresh_etag();
        self.put_instance(rec);
    }
}
