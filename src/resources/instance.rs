//! The `clouddb_instance` resource: schema, plan adjustments and CRUD against the CloudDB API.
//!
//! Lifecycle rules (see issue 4 and docs/):
//! - **Create** sends the request with a fresh idempotency key and, once the API accepts it, waits for the
//!   operation. If waiting fails, times out or is interrupted, the instance (by name) is returned as state
//!   together with the error, so Terraform marks it tainted instead of forgetting it, and the pending
//!   operation id stays in private state for later calls to resume waiting on.
//! - **Read** rebuilds state from the API (drift shows up as a diff), returns null on 404, and tolerates a
//!   short not-found window right after create.
//! - **Update** sends only changed fields with `If-Match`, then waits.
//! - **Delete** waits until the instance is gone; deletion protection is reported clearly.

mod convert;
mod plan;
mod upgrade;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::provider::{
    ApplyResult, Context, CreateRequest, DeleteRequest, ImportResult, PlanRequest, PlanResponse,
    PrivateState, ReadRequest, ReadResult, Resource, UpdateRequest,
};
use tfplugin::schema::timeouts::{self, Timeouts};
use tfplugin::schema::validators::{int_between, one_of};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{AttributePath, Type, Value};
use tokio::time::Instant;

use crate::client::types::{Instance, Operation};
use crate::client::wait::{WaitError, wait_operation};
use crate::client::{ApiError, Client, IdempotencyKey};
use crate::provider::ProviderData;

pub use convert::{DEFAULT_ADMIN_USERNAME, DEFAULT_ENGINE};

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
pub struct InstanceResource {
    data: Arc<ProviderData>,
}

impl InstanceResource {
    pub fn new(data: Arc<ProviderData>) -> Self {
        InstanceResource { data }
    }
}

/// The API's rule for instance names: `^[a-z][a-z0-9-]{1,61}[a-z0-9]$`.
fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=63).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.ends_with('-')
}

fn valid_hhmm(s: &str) -> bool {
    let Some((h, m)) = s.split_once(':') else {
        return false;
    };
    h.len() == 2
        && m.len() == 2
        && h.parse::<u8>().is_ok_and(|h| h < 24)
        && m.parse::<u8>().is_ok_and(|m| m < 60)
}

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new()
        .version(SCHEMA_VERSION)
        .description("A CloudDB managed database instance (MySQL or PostgreSQL).")
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The instance name (stable identifier)."),
        )
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                .validate_with("3-63 of a-z, 0-9 and '-', starting with a letter, not ending with '-'", |p, v, d| {
                    if let Some(s) = v.as_str()
                        && !valid_name(s)
                    {
                        d.attribute_error(
                            p.clone(),
                            "Invalid instance name",
                            format!(
                                "{s:?} is not a valid instance name: use 3 to 63 lowercase letters, digits \
                                 and hyphens, starting with a letter and not ending with a hyphen."
                            ),
                        );
                    }
                })
                .description("Instance name, unique in the project. Changing it replaces the instance."),
        )
        .attribute(
            Attribute::string("engine")
                .optional()
                .computed()
                .default(DEFAULT_ENGINE)
                .validator(one_of(ENGINES))
                .requires_replace()
                .description("`mysql` (default) or `postgres`. Changing it replaces the instance."),
        )
        .attribute(
            Attribute::string("engine_version")
                .optional()
                .computed()
                .description(
                    "Engine version such as `8.0` or `16`; the server default when unset. Minor upgrades \
                     happen in place; a major upgrade needs `allow_major_version_upgrade = true`; \
                     downgrades are rejected at plan time.",
                ),
        )
        .attribute(
            Attribute::string("engine_version_actual")
                .computed()
                .description("The full version the instance runs, e.g. `8.0.36`."),
        )
        .attribute(
            Attribute::bool("allow_major_version_upgrade")
                .optional()
                .computed()
                .default(false)
                .description("Must be `true` to change `engine_version` to a new major version."),
        )
        .attribute(
            Attribute::string("tier")
                .optional()
                .computed()
                .default(DEFAULT_TIER)
                .validator(one_of(TIERS))
                .description(
                    "Machine tier: `db-micro`, `db-small` (default), `db-standard-2`, `db-standard-4` or \
                     `db-highmem-8`; changed in place.",
                ),
        )
        .attribute(
            Attribute::int64("storage_gb")
                .optional()
                .computed()
                .default(DEFAULT_STORAGE_GB)
                .validator(int_between(10, 65536))
                .description("Storage in GB (default 20); may grow in place, never shrink."),
        )
        .attribute(
            Attribute::bool("high_availability")
                .optional()
                .computed()
                .default(false)
                .description("Run a standby replica; changed in place."),
        )
        .attribute(
            Attribute::string("admin_username")
                .optional()
                .computed()
                .default(DEFAULT_ADMIN_USERNAME)
                .requires_replace()
                .description("Administrator user name (default `dbadmin`). Changing it replaces the instance."),
        )
        .attribute(
            Attribute::string("admin_password")
                .optional()
                .sensitive()
                .description("Administrator password; never returned by the API, changed in place."),
        )
        .attribute(Attribute::map("labels", Type::String).optional().description("Key/value labels attached to the instance; changed in place."))
        .attribute(
            Attribute::bool("deletion_protection")
                .optional()
                .computed()
                .default(false)
                .description("While true, the API refuses to delete the instance."),
        )
        .attribute(
            Attribute::bool("skip_final_backup")
                .optional()
                .computed()
                .default(false)
                .description("Destroy only: skip the final backup."),
        )
        .attribute(
            Attribute::string("final_backup_name")
                .optional()
                .description("Destroy only: name of the final backup (server default when unset)."),
        )
        .attribute(
            Attribute::single_nested(
                "backup",
                vec![
                    Attribute::bool("enabled").optional().computed().description("Automated backups (default true)."),
                    Attribute::string("start_time")
                        .optional()
                        .computed()
                        .validate_with("HH:MM (UTC)", |p, v, d| {
                            if let Some(s) = v.as_str()
                                && !valid_hhmm(s)
                            {
                                d.attribute_error(
                                    p.clone(),
                                    "Invalid backup start time",
                                    format!("start_time must be \"HH:MM\" in UTC (00:00 to 23:59), got {s:?}."),
                                );
                            }
                        })
                        .description("Daily backup window start, \"HH:MM\" UTC."),
                    Attribute::int64("retention_days")
                        .optional()
                        .computed()
                        .validator(int_between(1, 35))
                        .description("Days to keep backups, 1-35 (default 7)."),
                ],
            )
            .optional()
            .computed()
            .description("Automated backup settings."),
        )
        .attribute(Attribute::string("state").computed().description(
            "Lifecycle state reported by the API, e.g. `READY`, `UPDATING`, `MAINTENANCE` or `FAILED`.",
        ))
        .attribute(
            Attribute::string("endpoint_host")
                .computed()
                .use_state_for_unknown()
                .description("Host name clients connect to."),
        )
        .attribute(
            Attribute::int64("endpoint_port")
                .computed()
                .use_state_for_unknown()
                .description("Port clients connect to."),
        )
        .attribute(
            Attribute::string("created_at")
                .computed()
                .use_state_for_unknown()
                .description("Creation time (RFC 3339)."),
        )
        .block(timeouts::block(&["create", "update", "delete"]))
}

/// Turn an API error into diagnostics: one general error with status/reason/request id, plus one
/// attribute-level error per field violation that names a resource attribute.
fn api_diags(summary: &str, err: &ApiError) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(summary, err.detail());
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
        WaitError::Timeout { .. } => {
            let mut d = Diagnostics::new();
            d.error(
                summary,
                format!(
                    "{err}. The instance {name:?} exists and is tracked in state; the operation continues \
                     server-side. Increase the timeouts block if this is expected."
                ),
            );
            d
        }
        WaitError::Stopped { .. } => {
            let mut d = Diagnostics::new();
            d.error(
                summary,
                format!("{err}. The instance {name:?} is tracked in state; the next apply picks it up again."),
            );
            d
        }
    }
}

/// A successful create or update: the instance as the API reports it, with its ETag remembered for the
/// next update's `If-Match`.
fn applied(inst: &Instance, planned: &Value, mut private: PrivateState) -> ApplyResult {
    private.set(PRIVATE_ETAG, &inst.etag);
    ApplyResult {
        new_state: convert::state_from_api(inst, planned),
        private,
        ..Default::default()
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn name_of(state: &Value) -> Option<String> {
    state
        .get("id")
        .as_str()
        .or_else(|| state.get("name").as_str())
        .map(str::to_string)
}

impl InstanceResource {
    /// The shared client, bound to this call's stop signal.
    fn client(&self, ctx: &Context) -> Result<Client, Diagnostics> {
        self.data.client().map(|c| c.with_stop(ctx))
    }

    /// Resume waiting on an operation left pending by an earlier interrupted/timed-out call.
    async fn finish_pending(
        &self,
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
        let result = wait_operation(client, op, deadline, ctx.stopped()).await;
        match result {
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
        &self,
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
}

#[async_trait]
impl Resource for InstanceResource {
    fn type_name(&self) -> &'static str {
        "clouddb_instance"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn modify_plan(&self, _ctx: &Context, req: &PlanRequest, plan: &mut PlanResponse) {
        plan::adjust_plan(
            &req.prior_state,
            &req.config,
            &mut plan.planned_state,
            &mut plan.diagnostics,
        );
        if plan.planned_private.is_empty() {
            plan.planned_private = req.prior_private.clone();
        }
    }

    async fn create(&self, ctx: &Context, req: CreateRequest) -> ApplyResult {
        let client = match self.client(ctx) {
            Ok(c) => c,
            Err(d) => {
                return ApplyResult {
                    diagnostics: d,
                    ..Default::default()
                };
            }
        };
        let planned = req.planned_state;
        let name = planned.get("name").as_str().unwrap_or_default().to_string();
        let timeout = Timeouts::from_config(&req.config).create(DEFAULT_TIMEOUT);
        let deadline = Instant::now() + timeout;
        let key = IdempotencyKey::new();
        let body = convert::create_request(&planned);
        let summary = format!("Error creating CloudDB instance {name:?}");

        let op = match client.create_instance(&body, &key).await {
            Ok(op) => op,
            Err(e) => {
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
                return ApplyResult {
                    diagnostics: d,
                    ..Default::default()
                };
            }
        };
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

        if let Err(e) = wait_operation(&client, op, deadline, ctx.stopped()).await {
            if let WaitError::Api(ApiError::OperationFailed { .. }) = e {
                private.remove(PRIVATE_PENDING);
            }
            let fetched = client.get_instance(&name).await.ok().flatten();
            return ApplyResult {
                new_state: convert::partial_state(&planned, &name, fetched.as_ref()),
                private,
                identity: None,
                diagnostics: wait_diags(&summary, &e, &name),
            };
        }
        private.remove(PRIVATE_PENDING);
        let within = NOT_FOUND_RETRY_FOR.min(
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1)),
        );
        match self.get_fresh(&client, &name, within).await {
            Ok(Some(inst)) => applied(&inst, &planned, private),
            Ok(None) => {
                let mut d = Diagnostics::new();
                d.error(
                    summary,
                    format!("The create operation finished but instance {name:?} could not be read back (404)."),
                );
                ApplyResult {
                    new_state: convert::partial_state(&planned, &name, None),
                    private,
                    identity: None,
                    diagnostics: d,
                }
            }
            Err(e) => ApplyResult {
                new_state: convert::partial_state(&planned, &name, None),
                private,
                identity: None,
                diagnostics: api_diags(&summary, &e),
            },
        }
    }

    async fn read(&self, ctx: &Context, req: ReadRequest) -> ReadResult {
        if self.data.is_unknown() {
            // Provider settings come from resources not applied yet: keep the state as it is rather than
            // failing the whole plan; the refresh happens on a later run.
            let mut d = Diagnostics::new();
            d.warning(
                "CloudDB instance not refreshed",
                "The provider configuration depends on values known only after apply, so this instance's \
                 state was not refreshed in this run.",
            );
            return ReadResult {
                new_state: req.state,
                private: req.private,
                identity: None,
                diagnostics: d,
            };
        }
        let client = match self.client(ctx) {
            Ok(c) => c,
            Err(d) => {
                return ReadResult {
                    new_state: req.state,
                    private: req.private,
                    identity: None,
                    diagnostics: d,
                };
            }
        };
        let Some(name) = name_of(&req.state) else {
            return ReadResult::gone();
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
        match self.get_fresh(&client, &name, grace).await {
            Ok(Some(inst)) => {
                if inst.state == "READY" {
                    private.remove(PRIVATE_PENDING);
                }
                private.set(PRIVATE_ETAG, &inst.etag);
                ReadResult::found(convert::state_from_api(&inst, &req.state), private)
            }
            Ok(None) => {
                tracing::info!(name, "instance no longer exists; removing from state");
                ReadResult::gone()
            }
            Err(e) => ReadResult {
                new_state: req.state,
                private,
                identity: None,
                diagnostics: api_diags(&format!("Error reading CloudDB instance {name:?}"), &e),
            },
        }
    }

    async fn update(&self, ctx: &Context, req: UpdateRequest) -> ApplyResult {
        let client = match self.client(ctx) {
            Ok(c) => c,
            Err(d) => {
                return ApplyResult {
                    diagnostics: d,
                    ..Default::default()
                };
            }
        };
        let prior = req.prior_state;
        let planned = req.planned_state;
        let name = name_of(&prior).unwrap_or_default();
        let summary = format!("Error updating CloudDB instance {name:?}");
        let deadline = Instant::now() + Timeouts::from_config(&req.config).update(DEFAULT_TIMEOUT);
        let mut private = req.planned_private;
        let keep_prior = |private: PrivateState, diagnostics: Diagnostics| ApplyResult {
            new_state: prior.clone(),
            private,
            identity: None,
            diagnostics,
        };

        if let Err(e) = self
            .finish_pending(ctx, &client, &mut private, deadline)
            .await
        {
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
                    Ok(Some(inst)) => ApplyResult {
                        new_state: convert::state_from_api(&inst, &planned),
                        private,
                        identity: None,
                        diagnostics: d,
                    },
                    _ => keep_prior(private, d),
                };
            }
            private.remove(PRIVATE_PENDING);
        }
        match self.get_fresh(&client, &name, Duration::from_secs(5)).await {
            Ok(Some(inst)) => applied(&inst, &planned, private),
            Ok(None) => {
                let mut d = Diagnostics::new();
                d.error(
                    summary,
                    format!("Instance {name:?} disappeared during the update."),
                );
                keep_prior(private, d)
            }
            Err(e) => keep_prior(private, api_diags(&summary, &e)),
        }
    }

    async fn delete(&self, ctx: &Context, req: DeleteRequest) -> Diagnostics {
        let client = match self.client(ctx) {
            Ok(c) => c,
            Err(d) => return d,
        };
        let prior = req.prior_state;
        let Some(name) = name_of(&prior) else {
            return Diagnostics::new();
        };
        let summary = format!("Error deleting CloudDB instance {name:?}");
        let deadline = Instant::now() + Timeouts::from_config(&prior).delete(DEFAULT_TIMEOUT);
        let mut private = req.private;
        if let Err(e) = self
            .finish_pending(ctx, &client, &mut private, deadline)
            .await
        {
            return wait_diags(&summary, &e, &name);
        }
        let skip = prior.get("skip_final_backup").as_bool().unwrap_or(false);
        let final_name = prior.get("final_backup_name").as_str();
        let key = IdempotencyKey::new();
        let op = match client.delete_instance(&name, skip, final_name, &key).await {
            Ok(op) => op,
            Err(e) if e.is_not_found() => return Diagnostics::new(),
            Err(e) => {
                if e.reason() == "DELETION_PROTECTED" {
                    let mut d = Diagnostics::new();
                    d.attribute_error(
                        AttributePath::attr("deletion_protection"),
                        format!("Cannot destroy CloudDB instance {name:?}: deletion protection is enabled"),
                        format!(
                            "The API refused to delete the instance because deletion_protection is true. Set \
                             deletion_protection = false, run `terraform apply`, then destroy.\n\n{}",
                            e.detail()
                        ),
                    );
                    return d;
                }
                return api_diags(&summary, &e);
            }
        };
        tracing::info!(name, operation = %op.id, "delete accepted; waiting");
        match wait_operation(&client, op, deadline, ctx.stopped()).await {
            Ok(_) => {}
            Err(WaitError::Api(e)) if e.is_not_found() => {}
            Err(e) => return wait_diags(&summary, &e, &name),
        }
        // The operation is done; make sure the instance is really gone before reporting success.
        loop {
            match client.get_instance(&name).await {
                Ok(None) => return Diagnostics::new(),
                Ok(Some(inst)) if Instant::now() < deadline && !ctx.is_stopped() => {
                    tracing::debug!(name, state = %inst.state, "instance still present after delete; waiting");
                    tokio::time::sleep(client.poll_interval().min(Duration::from_secs(2))).await;
                }
                Ok(Some(inst)) => {
                    let mut d = Diagnostics::new();
                    d.error(
                        summary,
                        format!("Instance {name:?} still exists (state {}) when the delete timeout ran out.", inst.state),
                    );
                    return d;
                }
                Err(e) => return api_diags(&summary, &e),
            }
        }
    }

    async fn import(&self, ctx: &Context, id: &str) -> ImportResult {
        let mut diags = Diagnostics::new();
        // Accept "NAME" or "projects/P/instances/NAME".
        let name = id.rsplit('/').next().unwrap_or(id).trim();
        if !valid_name(name) {
            diags.error(
                "Invalid import ID",
                format!("Expected an instance name (3-63 of a-z, 0-9, '-', starting with a letter, not ending with '-'), got {id:?}."),
            );
            return ImportResult {
                diagnostics: diags,
                ..Default::default()
            };
        }
        let client = match self.client(ctx) {
            Ok(c) => c,
            Err(d) => {
                return ImportResult {
                    diagnostics: d,
                    ..Default::default()
                };
            }
        };
        match client.get_instance(name).await {
            Ok(Some(inst)) => {
                let mut private = PrivateState::new();
                private.set(PRIVATE_ETAG, &inst.etag);
                ImportResult {
                    state: convert::state_from_api(&inst, &Value::Null),
                    private,
                    identity: None,
                    diagnostics: diags,
                }
            }
            Ok(None) => {
                diags.error(
                    "Cannot import non-existent CloudDB instance",
                    format!(
                        "No instance named {name:?} exists in project {:?}.",
                        client.project()
                    ),
                );
                ImportResult {
                    diagnostics: diags,
                    ..Default::default()
                }
            }
            Err(e) => ImportResult {
                diagnostics: api_diags(&format!("Error importing CloudDB instance {name:?}"), &e),
                ..Default::default()
            },
        }
    }

    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        match from_version {
            0 => upgrade::upgrade_v0_to_v1(state).map_err(|e| {
                let mut d = Diagnostics::new();
                d.error("Unable to upgrade clouddb_instance state from version 0", e);
                d
            }),
            v => {
                let mut d = Diagnostics::new();
                d.error(
                    "Unable to upgrade clouddb_instance state",
                    format!("No upgrader from schema version {v} to {SCHEMA_VERSION}."),
                );
                Err(d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
        for a in ["id", "name", "backup", "timeouts", "endpoint_port"] {
            assert!(
                s.block.attr(a).is_some() || s.block.nested_block(a).is_some(),
                "{a}"
            );
        }
    }

    #[test]
    fn upgrade_dispatch() {
        let r = InstanceResource::new(Arc::default());
        assert!(
            r.upgrade_state(0, serde_json::json!({"name": "db1"}))
                .is_ok()
        );
        assert!(r.upgrade_state(7, serde_json::json!({})).is_err());
    }
}
