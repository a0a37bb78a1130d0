//! The `clouddb_instance` resource: CRUD against the CloudDB API on the typed model.
//!
//! Lifecycle rules (see docs/resources/instance.md):
//! - **Create** sends the request with a fresh idempotency key and, once the API accepts it, waits for the
//!   operation. If waiting fails, times out or is interrupted, the instance (by name) is returned as state
//!   together with the error, so Terraform marks it tainted instead of forgetting it, and the pending
//!   operation id stays in private state for later calls to resume waiting on.
//! - **Read** rebuilds state from the API (drift shows up as a diff), returns null on 404, and tolerates a
//!   short not-found window right after create.
//! - **Update** sends only changed fields with `If-Match`, then waits.
//! - **Delete** waits until the instance is gone; deletion protection is reported clearly.
//!
//! Layout: `model` (the Rust mirror of the schema), `schema`, `plan` (plan-time rules), `convert`
//! (model ↔ API DTOs), `upgrade` (state from schema version 0).

mod convert;
mod model;
mod plan;
mod schema;
mod upgrade;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::model::timeout;
use tfplugin::provider::{
    ApplyResult, Context, CreateRequest, DeleteRequest, ImportResult, PlanRequest, PlanResponse,
    PrivateState, ReadRequest, ReadResult, Resource, UpdateRequest,
};
use tfplugin::schema::Schema;
use tfplugin::value::{AttributePath, Value};
use tokio::time::Instant;

use crate::client::types::{Instance, Operation};
use crate::client::wait::{WaitError, wait_operation};
use crate::client::{ApiError, Client, IdempotencyKey};

pub use convert::{DEFAULT_ADMIN_USERNAME, DEFAULT_ENGINE};
pub use model::{BackupModel, InstanceModel};
pub use schema::{schema, valid_name};

/// Default for each of the create/update/delete timeouts.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Current schema version (0 had flat backup attributes).
pub const SCHEMA_VERSION: i64 = 1;
/// How long after a create a 404 is treated as eventual consistency rather than deletion.
const NOT_FOUND_GRACE: Duration = Duration::from_secs(60);
/// How long one read keeps retrying a 404 inside that window.
const NOT_FOUND_RETRY_FOR: Duration = Duration::from_secs(15);

/// The tier of an instance whose configuration sets none (the seed SDK example declares only `name`).
pub const DEFAULT_TIER: &str = "db-small";
/// The storage of an instance whose configuration sets none.
pub const DEFAULT_STORAGE_GB: i64 = 20;

pub const ENGINES: &[&str] = &["mysql", "postgres"];
pub const TIERS: &[&str] = &[
    "db-micro",
    "db-small",
    "db-standard-2",
    "db-standard-4",
    "db-highmem-8",
];

/// Private-state keys.
const PRIVATE_PENDING: &str = "pending_operation";
const PRIVATE_ETAG: &str = "etag";
const PRIVATE_CREATED: &str = "created_unix";

/// An operation the provider started but did not see finish.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct PendingOperation {
    id: String,
    verb: String,
}

/// The `clouddb_instance` resource type.
#[derive(Debug, Default)]
pub struct InstanceResource;

/// Turn an API error into diagnostics: one general error with status/reason/request id, plus one
/// attribute-level error per field violation that names a resource attribute.
fn api_diags(summary: &str, err: &ApiError) -> Diagnostics {
    let mut d: Diagnostics = Diagnostic::error(summary, err.detail()).into();
    let schema = schema();
    for v in err.field_violations() {
        let root = v.field.split(['.', '[']).next().unwrap_or_default();
        if schema.block.attr(root).is_some() {
            d.attribute_error(
                AttributePath::attr(root),
                format!("Invalid {}", v.field),
                v.description.clone(),
            );
        }
    }
    d
}

fn wait_diags(summary: &str, err: &WaitError, name: &str) -> Diagnostics {
    match err {
        WaitError::Api(api) => api_diags(summary, api),
        WaitError::Timeout { .. } => Diagnostic::error(
            summary,
            format!(
                "{err}. The instance {name:?} exists and is tracked in state; the operation continues \
                 server-side. Increase the timeouts block if this is expected."
            ),
        )
        .into(),
        WaitError::Stopped { .. } => Diagnostic::error(
            summary,
            format!("{err}. The instance {name:?} is tracked in state; the next apply picks it up again."),
        )
        .into(),
    }
}

/// A result state from the model (the model always fits: a failure here is a provider bug, and it
/// is reported without dropping the instance name the API knows).
fn state(m: &InstanceModel) -> Result<Value, Diagnostics> {
    Value::from_model(m).map_err(Diagnostics::from)
}

/// A successful create or update: the instance as the API reports it, with its ETag remembered for the
/// next update's `If-Match`.
fn applied(
    inst: &Instance,
    planned: &InstanceModel,
    mut private: PrivateState,
) -> Result<ApplyResult, Diagnostics> {
    private.set(PRIVATE_ETAG, &inst.etag);
    Ok(
        ApplyResult::from_model(&convert::state_from_api(inst, Some(planned)))?
            .with_private(private),
    )
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Resume waiting on an operation left pending by an earlier interrupted/timed-out call.
async fn finish_pending(
    ctx: &Context,
    client: &Client,
    private: &mut PrivateState,
    deadline: Instant,
) -> Result<(), WaitError> {
    let Some(p) = private.get::<PendingOperation>(PRIVATE_PENDING) else {
        return Ok(());
    };
    tracing::info!(operation = %p.id, verb = %p.verb, "resuming wait on pending operation");
    let op = Operation {
        id: p.id.clone(),
        verb: p.verb.clone(),
        ..Default::default()
    };
    match wait_operation(client, op, deadline, ctx.stopped()).await {
        Ok(_) => {
            private.remove(PRIVATE_PENDING);
            Ok(())
        }
        // The operation finished with an error: it is no longer pending; the caller goes on.
        Err(WaitError::Api(e))
            if matches!(e, ApiError::OperationFailed { .. }) || e.is_not_found() =>
        {
            tracing::warn!(operation = %p.id, "pending operation ended with an error: {e}");
            private.remove(PRIVATE_PENDING);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// GET the instance right after an operation, tolerating the eventual-consistency window.
async fn get_fresh(
    client: &Client,
    name: &str,
    within: Duration,
) -> Result<Option<Instance>, ApiError> {
    let until = Instant::now() + within;
    loop {
        match client.get_instance(name).await? {
            Some(i) => return Ok(Some(i)),
            None if Instant::now() < until => {
                tracing::debug!(name, "instance not visible yet; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            None => return Ok(None),
        }
    }
}

#[async_trait]
impl Resource<Client> for InstanceResource {
    fn type_name(&self) -> &'static str {
        "clouddb_instance"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn modify_plan(
        &self,
        _ctx: &Context,
        _client: Option<&Client>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) -> Result<(), Diagnostics> {
        let prior: Option<InstanceModel> = req.prior_state.to()?;
        let config: InstanceModel = req.config.to()?;
        let mut planned: InstanceModel = plan.planned_state.to()?;
        plan::adjust_plan(prior.as_ref(), &config, &mut planned, &mut plan.diagnostics);
        plan.set_planned(&planned)?;
        if plan.planned_private.is_empty() {
            plan.planned_private = req.prior_private.clone();
        }
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context,
        client: &Client,
        req: CreateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let client = client.with_stop(ctx);
        let planned: InstanceModel = req.planned_state.to()?;
        let config: InstanceModel = req.config.to()?;
        let name = planned.name.known_or(String::new());
        let deadline = Instant::now() + timeout(&config.timeouts, "create", DEFAULT_TIMEOUT);
        let key = IdempotencyKey::new();
        let body = convert::create_request(&planned);
        let summary = format!("Error creating CloudDB instance {name:?}");

        let op = client.create_instance(&body, &key).await.map_err(|e| {
            let mut d = api_diags(&summary, &e);
            if e.reason() == "ALREADY_EXISTS" {
                d.error(
                    "Instance already exists",
                    format!(
                        "An instance named {name:?} already exists in project {:?}. Import it with \
                         `terraform import <address> {name}` or choose another name.",
                        client.project()
                    ),
                );
            }
            d
        })?;
        // From here on the instance exists: every return carries its state.
        let mut private = PrivateState::new();
        private.set(
            PRIVATE_PENDING,
            &PendingOperation {
                id: op.id.clone(),
                verb: "create".into(),
            },
        );
        private.set(PRIVATE_CREATED, &now_unix());
        tracing::info!(name, operation = %op.id, "create accepted; waiting");
        let partial = |fetched: Option<&Instance>, private: PrivateState, d: Diagnostics| {
            let s = state(&convert::partial_state(&planned, &name, fetched))?;
            Ok(ApplyResult::partial(s, d).with_private(private))
        };

        if let Err(e) = wait_operation(&client, op, deadline, ctx.stopped()).await {
            if let WaitError::Api(ApiError::OperationFailed { .. }) = e {
                private.remove(PRIVATE_PENDING);
            }
            let fetched = client.get_instance(&name).await.ok().flatten();
            return partial(fetched.as_ref(), private, wait_diags(&summary, &e, &name));
        }
        private.remove(PRIVATE_PENDING);
        let within = NOT_FOUND_RETRY_FOR.min(
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1)),
        );
        match get_fresh(&client, &name, within).await {
            Ok(Some(inst)) => applied(&inst, &planned, private),
            Ok(None) => partial(
                None,
                private,
                Diagnostic::error(
                    summary,
                    format!("The create operation finished but instance {name:?} could not be read back (404)."),
                )
                .into(),
            ),
            Err(e) => partial(None, private, api_diags(&summary, &e)),
        }
    }

    async fn read(
        &self,
        ctx: &Context,
        client: &Client,
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics> {
        let client = client.with_stop(ctx);
        let current: InstanceModel = req.state.to()?;
        let Some(name) = current.api_name().map(str::to_string) else {
            return Ok(ReadResult::gone());
        };
        let mut private = req.private;
        let recently_created = private
            .get::<u64>(PRIVATE_CREATED)
            .is_some_and(|t| now_unix().saturating_sub(t) < NOT_FOUND_GRACE.as_secs());
        let pending_create = private
            .get::<PendingOperation>(PRIVATE_PENDING)
            .is_some_and(|p| p.verb == "create");
        let grace = if recently_created || pending_create {
            NOT_FOUND_RETRY_FOR
        } else {
            Duration::ZERO
        };
        match get_fresh(&client, &name, grace).await {
            Ok(Some(inst)) => {
                if inst.state == "READY" {
                    private.remove(PRIVATE_PENDING);
                }
                private.set(PRIVATE_ETAG, &inst.etag);
                Ok(ReadResult::from_model(
                    &convert::state_from_api(&inst, Some(&current)),
                    private,
                )?)
            }
            Ok(None) => {
                tracing::info!(name, "instance no longer exists; removing from state");
                Ok(ReadResult::gone())
            }
            Err(e) => Err(api_diags(
                &format!("Error reading CloudDB instance {name:?}"),
                &e,
            )),
        }
    }

    async fn update(
        &self,
        ctx: &Context,
        client: &Client,
        req: UpdateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let client = client.with_stop(ctx);
        let prior: InstanceModel = req.prior_state.to()?;
        let planned: InstanceModel = req.planned_state.to()?;
        let config: InstanceModel = req.config.to()?;
        let name = prior.api_name().unwrap_or_default().to_string();
        let summary = format!("Error updating CloudDB instance {name:?}");
        let deadline = Instant::now() + timeout(&config.timeouts, "update", DEFAULT_TIMEOUT);
        let mut private = req.planned_private;
        // A failure before anything changed keeps the prior state; the framework does that for `Err`.
        let keep_prior = |private: PrivateState, d: Diagnostics| {
            Ok(ApplyResult::partial(req.prior_state.clone(), d).with_private(private))
        };

        if let Err(e) = finish_pending(ctx, &client, &mut private, deadline).await {
            return keep_prior(private, wait_diags(&summary, &e, &name));
        }
        let patch = convert::update_request(&prior, &planned);
        if !patch.is_empty() {
            let etag = private.get::<String>(PRIVATE_ETAG);
            let key = IdempotencyKey::new();
            let op = match client
                .update_instance(&name, &patch, etag.as_deref(), &key)
                .await
            {
                Ok(op) => op,
                Err(e) => {
                    let mut d = api_diags(&summary, &e);
                    if e.status() == Some(412) {
                        d.error(
                            "Instance changed outside Terraform",
                            "The instance was modified since Terraform last read it (ETag mismatch). Run \
                             `terraform apply` again to plan against its current settings.",
                        );
                    }
                    return keep_prior(private, d);
                }
            };
            private.set(
                PRIVATE_PENDING,
                &PendingOperation {
                    id: op.id.clone(),
                    verb: "update".into(),
                },
            );
            tracing::info!(name, operation = %op.id, "update accepted; waiting");
            if let Err(e) = wait_operation(&client, op, deadline, ctx.stopped()).await {
                if let WaitError::Api(ApiError::OperationFailed { .. }) = e {
                    private.remove(PRIVATE_PENDING);
                }
                let d = wait_diags(&summary, &e, &name);
                return match client.get_instance(&name).await {
                    Ok(Some(inst)) => {
                        let s = state(&convert::state_from_api(&inst, Some(&planned)))?;
                        Ok(ApplyResult::partial(s, d).with_private(private))
                    }
                    _ => keep_prior(private, d),
                };
            }
            private.remove(PRIVATE_PENDING);
        }
        match get_fresh(&client, &name, Duration::from_secs(5)).await {
            Ok(Some(inst)) => applied(&inst, &planned, private),
            Ok(None) => keep_prior(
                private,
                Diagnostic::error(
                    summary,
                    format!("Instance {name:?} disappeared during the update."),
                )
                .into(),
            ),
            Err(e) => keep_prior(private, api_diags(&summary, &e)),
        }
    }

    async fn delete(
        &self,
        ctx: &Context,
        client: &Client,
        req: DeleteRequest,
    ) -> Result<(), Diagnostics> {
        let client = client.with_stop(ctx);
        let prior: InstanceModel = req.prior_state.to()?;
        let Some(name) = prior.api_name().map(str::to_string) else {
            return Ok(());
        };
        let summary = format!("Error deleting CloudDB instance {name:?}");
        let deadline = Instant::now() + timeout(&prior.timeouts, "delete", DEFAULT_TIMEOUT);
        let mut private = req.private;
        finish_pending(ctx, &client, &mut private, deadline)
            .await
            .map_err(|e| wait_diags(&summary, &e, &name))?;
        let skip = prior.skip_final_backup.known_or(false);
        let final_name = prior.final_backup_name.as_str();
        let key = IdempotencyKey::new();
        let op = match client.delete_instance(&name, skip, final_name, &key).await {
            Ok(op) => op,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) if e.reason() == "DELETION_PROTECTED" => {
                return Err(Diagnostic::error(
                    format!("Cannot destroy CloudDB instance {name:?}: deletion protection is enabled"),
                    format!(
                        "The API refused to delete the instance because deletion_protection is true. Set \
                         deletion_protection = false, run `terraform apply`, then destroy.\n\n{}",
                        e.detail()
                    ),
                )
                .at(AttributePath::attr("deletion_protection"))
                .into());
            }
            Err(e) => return Err(api_diags(&summary, &e)),
        };
        tracing::info!(name, operation = %op.id, "delete accepted; waiting");
        match wait_operation(&client, op, deadline, ctx.stopped()).await {
            Ok(_) => {}
            Err(WaitError::Api(e)) if e.is_not_found() => {}
            Err(e) => return Err(wait_diags(&summary, &e, &name)),
        }
        // The operation is done; make sure the instance is really gone before reporting success.
        loop {
            match client.get_instance(&name).await {
                Ok(None) => return Ok(()),
                Ok(Some(inst)) if Instant::now() < deadline && !ctx.is_stopped() => {
                    tracing::debug!(name, state = %inst.state, "instance still present after delete; waiting");
                    tokio::time::sleep(client.poll_interval().min(Duration::from_secs(2))).await;
                }
                Ok(Some(inst)) => {
                    return Err(Diagnostic::error(
                        summary,
                        format!(
                            "Instance {name:?} still exists (state {}) when the delete timeout ran out.",
                            inst.state
                        ),
                    )
                    .into());
                }
                Err(e) => return Err(api_diags(&summary, &e)),
            }
        }
    }

    async fn import(
        &self,
        ctx: &Context,
        client: &Client,
        id: &str,
    ) -> Result<ImportResult, Diagnostics> {
        // Accept "NAME" or "projects/P/instances/NAME".
        let name = id.rsplit('/').next().unwrap_or(id).trim();
        if !valid_name(name) {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "Expected an instance name (3-63 of a-z, 0-9, '-', starting with a letter, not ending \
                     with '-'), got {id:?}."
                ),
            )
            .into());
        }
        let client = client.with_stop(ctx);
        match client.get_instance(name).await {
            Ok(Some(inst)) => {
                let mut private = PrivateState::new();
                private.set(PRIVATE_ETAG, &inst.etag);
                Ok(ImportResult::from_model(
                    &convert::state_from_api(&inst, None),
                    private,
                )?)
            }
            Ok(None) => Err(Diagnostic::error(
                "Cannot import non-existent CloudDB instance",
                format!(
                    "No instance named {name:?} exists in project {:?}.",
                    client.project()
                ),
            )
            .into()),
            Err(e) => Err(api_diags(
                &format!("Error importing CloudDB instance {name:?}"),
                &e,
            )),
        }
    }

    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        match from_version {
            0 => upgrade::upgrade_v0_to_v1(state).map_err(|e| {
                Diagnostic::error("Unable to upgrade clouddb_instance state from version 0", e)
                    .into()
            }),
            v => Err(Diagnostic::error(
                "Unable to upgrade clouddb_instance state",
                format!("No upgrader from schema version {v} to {SCHEMA_VERSION}."),
            )
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::schema::valid_hhmm;
    use super::*;

    #[test]
    fn names_and_times_validate() {
        assert!(valid_name("db1"));
        assert!(valid_name("orders-db-2"));
        assert!(!valid_name("db"));
        assert!(!valid_name("1db"));
        assert!(!valid_name("Db1"));
        assert!(!valid_name("db_1"));
        assert!(!valid_name("db-"));
        assert!(!valid_name(&"a".repeat(64)));
        assert!(valid_hhmm("03:00"));
        assert!(valid_hhmm("23:59"));
        assert!(!valid_hhmm("24:00"));
        assert!(!valid_hhmm("3:00"));
    }

    #[test]
    fn schema_is_consistent() {
        let s = schema();
        assert_eq!(s.version, SCHEMA_VERSION);
        assert!(s.check().is_ok(), "{:?}", s.check());
    }

    /// The model mirrors the schema: a value of the schema's type reads into it and writes back
    /// unchanged (a misspelt or missing field fails here, naming the attribute).
    #[test]
    fn model_matches_schema() {
        let ty = schema().implied_type();
        let m = InstanceModel::default();
        let v = tfplugin::model::conform(Value::from_model(&m).expect("writes"), &ty)
            .expect("fits the schema");
        let back: InstanceModel = v.to().expect("reads back");
        assert_eq!(back, m);
    }

    #[test]
    fn upgrade_dispatch() {
        let r = InstanceResource;
        assert!(
            r.upgrade_state(0, serde_json::json!({"name": "db1"}))
                .is_ok()
        );
        assert!(r.upgrade_state(7, serde_json::json!({})).is_err());
    }
}
