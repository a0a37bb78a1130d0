//! The `clouddb_instance` resource: CRUD against the CloudDB API on the typed model.
//!
//! Lifecycle rules (see docs/resources/instance.md):
//! - **Create** sends the request with a fresh idempotency key and, once the API accepts it, waits for the
//!   operation. If waiting fails, times out or is interrupted, the instance (by name) is returned as state
//!   together with the error, so Terraform marks it tainted instead of forgetting it, and the pending
//!   operation id stays in private state for later calls to resume waiting on. If the POST itself fails
//!   ambiguously (retries exhausted, timeout, stop, undecodable 2xx), the instance is looked up by name:
//!   one whose `creation_token` is this request's key is ours and is returned the same way.
//! - **Read** rebuilds state from the API (drift shows up as a diff), returns null on 404, and tolerates a
//!   short not-found window right after create.
//! - **Update** first resumes a pending operation (then re-reads the ETag it changed), sends only changed
//!   fields with `If-Match`, then waits.
//! - **Delete** waits until the instance is gone; deletion protection is reported clearly.
//! - **Plan** of a restore (`restore_from_backup` on a new instance) reads the backup, when it can,
//!   to show its engine and version and to report what the API would reject (plan.rs).
//! - **Write-only** `admin_password_wo` is read from the configuration only: create sends it, and
//!   an update sends it again when `admin_password_wo_version` changes.
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
use tfplugin::model::{Field, timeout};
use tfplugin::provider::{
    ApplyResult, Context, CreateRequest, DeleteRequest, ImportBy, ImportRequest, ImportResult,
    MoveStateRequest, MoveStateResult, PlanRequest, PlanResponse, PrivateState, ReadRequest,
    ReadResult, Resource, UpdateRequest,
};
use tfplugin::schema::{IdentitySchema, Schema};
use tfplugin::value::{AttributePath, Value};
use tokio::time::Instant;

use super::identity::{self, InstanceIdentity};
use crate::client::types::{Instance, Operation, SourceBackup};
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
/// Budget of a plan-time look-up (a restore's backup, the tier catalogue), retries included: a plan
/// should not hang on a slow API for checks and values that can also wait for apply.
const PLAN_LOOKUP_BUDGET: Duration = Duration::from_secs(15);

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

/// The deprecated old type name (`super::db_instance`) that `moved` blocks migrate from.
pub const DEPRECATED_ALIAS: &str = "clouddb_db_instance";
/// Namespace and type of this provider's source address. Moves are accepted from any hostname
/// with it (registry.terraform.io, a mirror's or another registry's host): the same provider
/// installed from elsewhere, with the same schema.
const PROVIDER_NAMESPACE_TYPE: &str = "clouddb/clouddb";

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
    super::common::api_diags(&schema(), summary, err)
}

/// [`api_diags`] for a request whose `admin_password` came from `admin_password_wo` (`wo_password`):
/// a violation of the API's `admin_password` then names the attribute the user actually set.
fn api_diags_sent(summary: &str, err: &ApiError, wo_password: bool) -> Diagnostics {
    let renames: &[(&str, &str)] = if wo_password {
        &[("admin_password", "admin_password_wo")]
    } else {
        &[]
    };
    super::common::api_diags_as(&schema(), summary, err, renames)
}

/// The `restore_from_backup` backup, looked up while planning a restore so the plan can show its
/// engine and version. `None` when it does not exist (yet: it may be created in the same apply;
/// the create reports it if it is still missing) or the lookup fails (a warning; both values are
/// then known after apply).
async fn lookup_backup(
    ctx: &Context,
    client: &Client,
    name: &str,
    diags: &mut Diagnostics,
) -> Option<SourceBackup> {
    let client = client
        .with_stop(ctx)
        .with_deadline(Instant::now() + PLAN_LOOKUP_BUDGET);
    match client.get_source_backup(name).await {
        Ok(found) => found,
        Err(e) => {
            diags.attribute_warning(
                AttributePath::attr("restore_from_backup"),
                format!("Cannot look up backup {name:?}"),
                format!(
                    "{}\n\nThe plan shows engine and engine_version as known after apply; the create \
                     still restores from the backup.",
                    e.detail()
                ),
            );
            None
        }
    }
}

/// The tier's storage limit at plan time, from the catalogue cached per provider instance. A
/// catalogue that cannot be read skips the check (the API applies the same rule at apply):
/// a plan should not fail because of a read-only convenience.
async fn check_tier_storage(
    ctx: &Context,
    client: &Client,
    planned: &InstanceModel,
    diags: &mut Diagnostics,
) {
    let client = client
        .with_stop(ctx)
        .with_deadline(Instant::now() + PLAN_LOOKUP_BUDGET);
    match client.cached_tiers().await {
        Ok(tiers) => plan::check_tier_storage(planned, tiers, diags),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the tier catalogue; storage_gb is checked at apply")
        }
    }
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

/// Resume waiting on an operation left pending by an earlier interrupted/timed-out call. `Ok(true)`
/// when there was one (it changed the instance, and so its ETag).
async fn finish_pending(
    ctx: &Context,
    client: &Client,
    private: &mut PrivateState,
    deadline: Instant,
) -> Result<bool, WaitError> {
    let Some(p) = private.get::<PendingOperation>(PRIVATE_PENDING) else {
        return Ok(false);
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
            Ok(true)
        }
        // The operation finished with an error: it is no longer pending; the caller goes on.
        Err(WaitError::Api(e))
            if matches!(e, ApiError::OperationFailed { .. }) || e.is_not_found() =>
        {
            tracing::warn!(operation = %p.id, "pending operation ended with an error: {e}");
            private.remove(PRIVATE_PENDING);
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// Whether an update this provider started is still running, by the private state and the last
/// read (a refresh clears the pending operation once the instance is READY again).
fn update_unconfirmed(private: &PrivateState, prior: &InstanceModel) -> bool {
    private
        .get::<PendingOperation>(PRIVATE_PENDING)
        .is_some_and(|p| p.verb == "update")
        && prior.state.as_str() != Some("READY")
}

/// The PATCH failed without a clear answer (a lost response, a stop during its retries): it may
/// have started an update. If an update of the instance is running, it is recorded as pending, so
/// the next plan waits for it ([`update_unconfirmed`]) instead of trusting the values it asked for.
async fn adopt_running_update(client: &Client, name: &str, private: &mut PrivateState) {
    let lookup = client.for_lookup();
    match lookup.find_instance_operation(name, "update").await {
        Ok(Some(op)) if !op.done => {
            tracing::info!(name, operation = %op.id, "the failed PATCH started an update; keeping it pending");
            private.set(
                PRIVATE_PENDING,
                &PendingOperation {
                    id: op.id,
                    verb: "update".into(),
                },
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(
            name,
            "cannot list operations to find an update the failed PATCH may have started: {e}"
        ),
    }
}

fn already_exists(d: &mut Diagnostics, name: &str, project: &str) {
    d.error(
        "Instance already exists",
        format!(
            "An instance named {name:?} already exists in project {project:?}. Import it with \
             `terraform import <address> {name}` or choose another name."
        ),
    );
}

/// The create POST failed ambiguously: find out whether it happened. Ours (creation_token = `key`):
/// partial state with the error, so Terraform taints it, with the create operation kept pending.
/// Someone else's: ALREADY_EXISTS guidance. Absent: the error, with nothing created.
async fn recover_create(
    client: &Client,
    planned: &InstanceModel,
    name: &str,
    key: &IdempotencyKey,
    summary: &str,
    err: &ApiError,
) -> Result<ApplyResult, Diagnostics> {
    // Finding out must survive what made the create ambiguous: a stop (Ctrl-C), transient errors
    // (retried within the budget) and the API's not-found window right after a create.
    let lookup = client.for_lookup();
    let mut d = api_diags(summary, err);
    let project = client.project();
    match get_fresh(
        &lookup,
        name,
        NOT_FOUND_RETRY_FOR.min(crate::client::LOOKUP_BUDGET),
    )
    .await
    {
        Ok(Some(inst))
            if !inst.creation_token.is_empty() && inst.creation_token == key.as_str() =>
        {
            tracing::warn!(
                name,
                "create call failed, but the API created the instance; keeping it in state"
            );
            let mut private = PrivateState::new();
            private.set(PRIVATE_CREATED, &now_unix());
            private.set(PRIVATE_ETAG, &inst.etag);
            let resume = match lookup.find_instance_operation(name, "create").await {
                Ok(Some(op)) if !op.done => {
                    private.set(
                        PRIVATE_PENDING,
                        &PendingOperation {
                            id: op.id.clone(),
                            verb: "create".into(),
                        },
                    );
                    format!(
                        " Its create operation {} is still running; the next apply resumes waiting on it.",
                        op.id
                    )
                }
                Ok(_) => String::new(),
                Err(e) => {
                    tracing::warn!(
                        name,
                        "cannot list operations to find the create operation: {e}"
                    );
                    String::new()
                }
            };
            d.error(
                summary,
                format!(
                    "The create call failed, but the API did create instance {name:?} (its creation_token \
                     matches this request's Idempotency-Key), in state {}. It is recorded in Terraform state \
                     as tainted: the next apply replaces it, or `terraform untaint` keeps it.{resume}",
                    inst.state
                ),
            );
            let s = state(&convert::partial_state(planned, name, Some(&inst)))?;
            Ok(ApplyResult::partial(s, d).with_private(private))
        }
        Ok(Some(_)) => {
            already_exists(&mut d, name, project);
            Err(d)
        }
        Ok(None) if err.reason() == "IDEMPOTENCY_KEY_IN_USE" => {
            d.error(
                summary,
                format!(
                    "No instance named {name:?} exists in project {project:?} yet, but the API was still \
                     processing the first create request. If it appears later, import it with \
                     `terraform import <address> {name}`."
                ),
            );
            Err(d)
        }
        Ok(None) => {
            d.error(
                summary,
                format!(
                    "No instance named {name:?} exists in project {project:?}: it was not created, and \
                     running `terraform apply` again is safe."
                ),
            );
            Err(d)
        }
        Err(e) => {
            d.error(
                "Cannot tell whether the instance was created",
                format!(
                    "Looking up instance {name:?} after the failed create also failed: {}\n\nIf an instance \
                     named {name:?} exists in project {project:?}, import it with `terraform import \
                     <address> {name}`.",
                    e.detail()
                ),
            );
            Err(d)
        }
    }
}

/// `moved { from = clouddb_db_instance.a  to = clouddb_instance.a }`: the alias has this type's
/// schema, so its state (version 1, or 0 through the usual upgrade) is taken over unchanged,
/// with its private state (pending operation, ETag). No API call: the instance stays as it is.
fn move_from_alias(req: MoveStateRequest) -> Result<MoveStateResult, Diagnostics> {
    let refuse = |why: String| -> Diagnostics {
        Diagnostic::error(
            "Move to clouddb_instance not supported",
            format!(
                "{why} clouddb_instance accepts moved blocks only from {DEPRECATED_ALIAS} of the \
                 clouddb/clouddb provider, at schema version 0 or {SCHEMA_VERSION}."
            ),
        )
        .into()
    };
    let from_this_provider = req
        .source_provider_address
        .trim_end_matches('/')
        .ends_with(&format!("/{PROVIDER_NAMESPACE_TYPE}"));
    if req.source_type_name != DEPRECATED_ALIAS || !from_this_provider {
        return Err(refuse(format!(
            "Cannot move {} of provider {:?}.",
            req.source_type_name, req.source_provider_address
        )));
    }
    let json = match req.source_schema_version {
        0 => upgrade::upgrade_v0_to_v1(req.source_state).map_err(|e| {
            Diagnostic::error(
                format!("Unable to upgrade {DEPRECATED_ALIAS} state from version 0"),
                e,
            )
        })?,
        SCHEMA_VERSION => req.source_state,
        v => {
            return Err(refuse(format!(
                "The {DEPRECATED_ALIAS} state has schema version {v}, which this provider does not know."
            )));
        }
    };
    let decoded = tfplugin::value::raw_state::from_json_state(&schema().implied_type(), &json)
        .map_err(|e| {
            Diagnostic::error(
                format!("Unable to read {DEPRECATED_ALIAS} state"),
                format!("The stored state does not fit the clouddb_instance schema: {e}"),
            )
        })?;
    // Through the model, so a state that fits the type but not the model fails here, naming
    // the attribute, instead of after the move.
    let model: InstanceModel = decoded.to()?;
    // The alias has the same identity schema, so its identity (when Terraform kept one: 1.12+)
    // is the instance's; the framework checks it fits. Without one, the next read supplies it.
    let target_identity = match req.source_identity {
        Some(j) if !j.is_null() => {
            let id: super::identity::InstanceIdentity = serde_json::from_value(j).map_err(|e| {
                Diagnostic::error(
                    format!("Unable to read the {DEPRECATED_ALIAS} identity"),
                    format!("The stored identity does not fit clouddb_instance's: {e}"),
                )
            })?;
            Some(super::identity::to_value(&id)?)
        }
        _ => None,
    };
    Ok(MoveStateResult {
        target_state: state(&model)?,
        target_private: req.source_private,
        target_identity,
        diagnostics: Diagnostics::new(),
    })
}

/// The instance name in an import ID: `NAME` or `projects/<configured project>/instances/NAME`.
fn import_name<'a>(id: &'a str, project: &str) -> Result<&'a str, Diagnostics> {
    let id = id.trim();
    let shape = || -> Diagnostics {
        Diagnostic::error(
            "Invalid import ID",
            format!(
                "Expected NAME or projects/{project}/instances/NAME, got {id:?}. A name is 3-63 of a-z, \
                 0-9 and '-', starts with a letter and does not end with '-'."
            ),
        )
        .into()
    };
    let parts: Vec<&str> = id.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        ["projects", p, "instances", name] if *p == project => *name,
        ["projects", p, "instances", _] => {
            return Err(Diagnostic::error(
                "Import ID names another project",
                format!(
                    "The import ID {id:?} is in project {p:?}, but this provider is configured for \
                     project {project:?}. Import with the configured project's ID (or just the instance \
                     name), or configure the provider for project {p:?}."
                ),
            )
            .into());
        }
        _ => return Err(shape()),
    };
    if !valid_name(name) {
        return Err(shape());
    }
    Ok(name)
}

/// The state an instance Terraform has not seen yet reads as: what an import records, and what
/// `terraform query` shows as its resource object.
pub fn state_of_unseen(inst: &Instance) -> InstanceModel {
    convert::state_from_api(inst, None)
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

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity::instance_schema())
    }

    async fn validate(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        match config.to::<InstanceModel>() {
            Ok(config) => plan::check_config(&config, &mut d),
            Err(e) => d.extend(Diagnostics::from(e)),
        }
        d
    }

    async fn modify_plan(
        &self,
        ctx: &Context,
        client: Option<&Client>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) -> Result<(), Diagnostics> {
        let prior: Option<InstanceModel> = req.prior_state.to()?;
        let config: InstanceModel = req.config.to()?;
        let mut planned: InstanceModel = plan.planned_state.to()?;
        let declarative = planned.clone();
        // Only a restore is worth an API call at plan time, and only with a configured provider
        // (`None` while its configuration is unknown) and a known backup name.
        let backup = match (client, planned.restore_from_backup.as_str()) {
            (Some(client), Some(name)) if plan::restores(prior.as_ref(), &planned) => {
                lookup_backup(ctx, client, name, &mut plan.diagnostics).await
            }
            _ => None,
        };
        plan::adjust_plan(
            prior.as_ref(),
            &config,
            &mut planned,
            backup.as_ref(),
            &mut plan.diagnostics,
        );
        if let Some(prior) = &prior
            && update_unconfirmed(&req.prior_private, prior)
        {
            // The refresh read what our interrupted update asked for, not what the instance is
            // sure to keep: a failed update rolls back. An empty plan would never look again;
            // planning an update makes apply wait for the operation and send what it did not do.
            planned.state = Field::Unknown;
        }
        if let Some(client) = client
            && plan::storage_to_check(prior.as_ref(), &planned)
        {
            check_tier_storage(ctx, client, &planned, &mut plan.diagnostics).await;
        }
        // The declarative `RequiresReplace` judged the engine before the plan rules settled it
        // (unknown, since it has no schema default): judge it again on the final value.
        let engine = AttributePath::attr("engine");
        plan.requires_replace.retain(|p| *p != engine);
        if let Some(prior) = &prior
            && plan::engine_replaces(prior, &planned)
        {
            plan.require_replace(engine);
        }
        // Most objects of a large plan come out as the declarative plan went in: keep that
        // value rather than write the same model back out (issue 11's profile).
        if planned != declarative {
            plan.set_planned(&planned)?;
        }
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
        let planned: InstanceModel = req.planned_state.to()?;
        let config: InstanceModel = req.config.to()?;
        let name = planned.name.known_or(String::new());
        // Every outcome that records the instance (tainted ones too) carries its identity.
        let identity = identity::to_value(&InstanceIdentity::new(client, &name))?;
        let result = async {
        let deadline = Instant::now() + timeout(&config.timeouts, "create", DEFAULT_TIMEOUT);
        let client = client.with_stop(ctx).with_deadline(deadline);
        let key = IdempotencyKey::new();
        let body = convert::create_request(&planned, &config);
        let wo_password = config.admin_password_wo.is_known();
        let summary = format!("Error creating CloudDB instance {name:?}");

        let op = match client.create_instance(&body, &key).await {
            Ok(op) => op,
            Err(e) if e.outcome_unknown() => {
                return recover_create(&client, &planned, &name, &key, &summary, &e).await;
            }
            Err(e) => {
                let mut d = api_diags_sent(&summary, &e, wo_password);
                if e.reason() == "ALREADY_EXISTS" {
                    already_exists(&mut d, &name, client.project());
                }
                return Err(d);
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
        let partial = |fetched: Option<&Instance>, private: PrivateState, d: Diagnostics| {
            let s = state(&convert::partial_state(&planned, &name, fetched))?;
            Ok(ApplyResult::partial(s, d).with_private(private))
        };

        if let Err(e) = wait_operation(&client, op, deadline, ctx.stopped()).await {
            if let WaitError::Api(ApiError::OperationFailed { .. }) = e {
                private.remove(PRIVATE_PENDING);
            }
            let lookup = client.for_lookup();
            let fetched = lookup.get_instance(&name).await.ok().flatten();
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
        .await;
        result.map(|r| r.with_identity(identity))
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
        // The read-ahead listing (or one GET) first; right after a create, a "not found" is
        // retried with GETs through the API's not-found window.
        let fetched = match client.read_instance(&name).await {
            Ok(None) if !grace.is_zero() => get_fresh(&client, &name, grace).await,
            other => other,
        };
        match fetched {
            Ok(Some(inst)) => {
                if inst.state == "READY" {
                    private.remove(PRIVATE_PENDING);
                    // A refresh has seen the create: from now on a 404 means the instance is gone,
                    // not that the API has yet to show it (no 15 s of retried GETs for it).
                    private.remove(PRIVATE_CREATED);
                }
                private.set(PRIVATE_ETAG, &inst.etag);
                let identity = identity::to_value(&InstanceIdentity::new(&client, &name))?;
                let refreshed = convert::state_from_api(&inst, Some(&current));
                // No drift (every object of most plans): the stored state goes back as it came,
                // rather than the same model written back out (issue 11's profile).
                let mut result =
                    ReadResult::refreshed(&current, &refreshed, private)?.with_identity(identity);
                if inst.state == "FAILED" {
                    // A computed `state` that changed out of band is not shown by `terraform plan`
                    // unless something uses it: say it, so a crashed database is not silent.
                    result.diagnostics.push(failed_warning(&name));
                }
                Ok(result)
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
        let prior: InstanceModel = req.prior_state.to()?;
        let planned: InstanceModel = req.planned_state.to()?;
        let config: InstanceModel = req.config.to()?;
        let name = prior.api_name().unwrap_or_default().to_string();
        let identity = identity::to_value(&InstanceIdentity::new(client, &name))?;
        let result = async {
        let summary = format!("Error updating CloudDB instance {name:?}");
        let deadline = Instant::now() + timeout(&config.timeouts, "update", DEFAULT_TIMEOUT);
        let client = client.with_stop(ctx).with_deadline(deadline);
        let mut private = req.planned_private;
        // A failure before anything changed keeps the prior state; the framework does that for `Err`.
        let keep_prior = |private: PrivateState, d: Diagnostics| {
            Ok(ApplyResult::partial(req.prior_state.clone(), d).with_private(private))
        };

        // What the patch is computed against: the prior state, or what the instance is once a
        // resumed operation has ended (a failed update rolled back what the prior state shows).
        let mut base = None;
        match finish_pending(ctx, &client, &mut private, deadline).await {
            Err(e) => return keep_prior(private, wait_diags(&summary, &e, &name)),
            // The resumed operation changed the instance and its ETag: If-Match needs the new one.
            Ok(true) => match client.get_instance(&name).await {
                Ok(Some(inst)) => {
                    private.set(PRIVATE_ETAG, &inst.etag);
                    base = Some(convert::state_from_api(&inst, Some(&prior)));
                }
                Ok(None) => {
                    return keep_prior(
                        private,
                        Diagnostic::error(summary, format!("Instance {name:?} no longer exists."))
                            .into(),
                    );
                }
                Err(e) => return keep_prior(private, api_diags(&summary, &e)),
            },
            Ok(false) => {}
        }
        let patch = convert::update_request(base.as_ref().unwrap_or(&prior), &planned, &config);
        if !patch.is_empty() {
            let etag = private.get::<String>(PRIVATE_ETAG);
            let key = IdempotencyKey::new();
            let wo_password = patch.admin_password.is_some() && config.admin_password_wo.is_known();
            let op = match client
                .update_instance(&name, &patch, etag.as_deref(), &key)
                .await
            {
                Ok(op) => op,
                Err(e) => {
                    let mut d = api_diags_sent(&summary, &e, wo_password);
                    if e.status() == Some(412) {
                        d.error(
                            "Instance changed outside Terraform",
                            "The instance was modified since Terraform last read it (ETag mismatch). Run \
                             `terraform apply` again to plan against its current settings.",
                        );
                    }
                    if e.outcome_unknown() {
                        adopt_running_update(&client, &name, &mut private).await;
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
        .await;
        result.map(|r| r.with_identity(identity))
    }

    async fn delete(
        &self,
        ctx: &Context,
        client: &Client,
        req: DeleteRequest,
    ) -> Result<(), Diagnostics> {
        let prior: InstanceModel = req.prior_state.to()?;
        let Some(name) = prior.api_name().map(str::to_string) else {
            return Ok(());
        };
        let summary = format!("Error deleting CloudDB instance {name:?}");
        let deadline = Instant::now() + timeout(&prior.timeouts, "delete", DEFAULT_TIMEOUT);
        let client = client.with_stop(ctx).with_deadline(deadline);
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
        req: ImportRequest,
    ) -> Result<ImportResult, Diagnostics> {
        let identity_name: String;
        let name = match &req.by {
            ImportBy::Id(id) => import_name(id, client.project())?,
            ImportBy::Identity(v) => {
                let id: InstanceIdentity =
                    identity::imported(v, client, "clouddb_instance", |i: &InstanceIdentity| {
                        i.project.as_deref()
                    })?;
                if !valid_name(&id.name) {
                    return Err(Diagnostic::error(
                        "Invalid import identity",
                        format!(
                            "{:?} is not an instance name: 3-63 of a-z, 0-9 and '-', starting with \
                             a letter and not ending with '-'.",
                            id.name.chars().take(80).collect::<String>()
                        ),
                    )
                    .into());
                }
                identity_name = id.name;
                &identity_name
            }
        };
        let client = client.with_stop(ctx);
        match client.get_instance(name).await {
            Ok(Some(inst)) => {
                let mut private = PrivateState::new();
                private.set(PRIVATE_ETAG, &inst.etag);
                let identity = identity::to_value(&InstanceIdentity::new(&client, name))?;
                Ok(
                    ImportResult::from_model(&convert::state_from_api(&inst, None), private)?
                        .with_identity(identity),
                )
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

    /// Beyond the framework's rules: the admin password. The API never returns it, so no
    /// state holds the real one; generating `admin_password = null # sensitive` would only
    /// invite a wrong value (leaving it out plans no change, as after an import).
    fn generate_config(&self, _state: &Value, config: Value) -> Result<Value, Diagnostics> {
        let mut m: InstanceModel = config.to()?;
        m.admin_password = Field::Null;
        Ok(Value::from_model(&m)?)
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

    async fn move_state(
        &self,
        _ctx: &Context,
        req: MoveStateRequest,
    ) -> Result<MoveStateResult, Diagnostics> {
        move_from_alias(req)
    }
}

/// The warning of a refresh that finds the instance FAILED (its database server is down: a failed
/// create, or an engine that crashed).
fn failed_warning(name: &str) -> Diagnostic {
    Diagnostic::warning(
        format!("CloudDB instance {name:?} is FAILED"),
        format!(
            "The API reports instance {name:?} in state FAILED: its database server is not serving. \
             Restart it with the clouddb_instance_restart action (Terraform 1.14+: an `action` block \
             with instance = {name:?}, then `terraform apply -invoke=action.clouddb_instance_restart.NAME`), \
             or replace it with `terraform apply -replace`."
        ),
    )
    .at(AttributePath::attr("state"))
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

    use crate::client::ClientConfig;
    use crate::client::fake;
    use tfplugin::provider::StopSignal;

    fn test_client(url: &str) -> Client {
        let mut cfg = ClientConfig::new(url, "secret-token", "proj1");
        cfg.retry = crate::client::RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_millis(50),
        };
        cfg.poll_interval = Duration::from_millis(20);
        Client::new(cfg).expect("client")
    }

    fn ctx() -> Context {
        StopSignal::new().context("1.11.4")
    }

    /// `InstanceResource::update` as Terraform calls it (no identity).
    async fn update(
        c: &Client,
        prior: &InstanceModel,
        planned: &InstanceModel,
        config: &InstanceModel,
        planned_private: PrivateState,
    ) -> Result<ApplyResult, Diagnostics> {
        let req = UpdateRequest {
            config: Value::from_model(config).expect("config"),
            prior_state: Value::from_model(prior).expect("prior"),
            planned_state: Value::from_model(planned).expect("planned"),
            planned_private,
            identity: None,
        };
        InstanceResource.update(&ctx(), c, req).await
    }

    fn instance_json(name: &str, state: &str, etag: &str, token: &str) -> String {
        serde_json::json!({
            "name": name, "uid": "u-1", "engine": "mysql", "engine_version": "8.0",
            "engine_version_actual": "8.0.36", "tier": "db-small", "storage_gb": 20,
            "high_availability": false, "admin_username": "dbadmin", "labels": {},
            "deletion_protection": false,
            "backup": {"enabled": true, "start_time": "03:00", "retention_days": 7},
            "endpoint": {"host": format!("{name}.local"), "port": 3306}, "state": state,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "etag": etag, "creation_token": token,
        })
        .to_string()
    }

    /// Import takes `NAME` or `projects/<configured>/instances/NAME`; another project is refused
    /// naming both projects, and any other shape is refused.
    #[tokio::test]
    async fn import_checks_the_project_in_the_id() {
        let (url, log) = fake::serve(|r, _| {
            if r.path.ends_with("/instances/db1") {
                (200, vec![], instance_json("db1", "READY", "\"1\"", ""))
            } else {
                (404, vec![], fake::problem(404, "NOT_FOUND", false, "no"))
            }
        })
        .await;
        let c = test_client(&url);
        let r = InstanceResource;
        for ok in ["db1", "projects/proj1/instances/db1", " db1 "] {
            let got = r.import(&ctx(), &c, ImportRequest::by_id(ok)).await;
            assert!(got.is_ok(), "{ok:?}: {:?}", got.err());
        }
        let err = r
            .import(
                &ctx(),
                &c,
                ImportRequest::by_id("projects/other/instances/db1"),
            )
            .await
            .expect_err("another project");
        let text = format!("{err:?}");
        assert!(text.contains("other") && text.contains("proj1"), "{text}");
        for bad in [
            "foo/db1",
            "projects/proj1/db1",
            "projects//instances/db1",
            "projects/proj1/instances/db1/extra",
            "instances/db1",
            "projects/proj1/instances/",
            "/db1",
        ] {
            assert!(
                r.import(&ctx(), &c, ImportRequest::by_id(bad))
                    .await
                    .is_err(),
                "{bad:?} accepted"
            );
        }
        // Only the three good IDs reached the API.
        assert_eq!(log.lock().expect("lock").len(), 3);
    }

    const IF_MATCH_HEADER: &str = "if-match";

    fn planned_value(name: &str) -> Value {
        let m = InstanceModel {
            id: tfplugin::model::Field::Unknown,
            name: name.into(),
            engine: "mysql".into(),
            engine_version: "8.0".into(),
            engine_version_actual: tfplugin::model::Field::Unknown,
            allow_major_version_upgrade: false.into(),
            tier: "db-small".into(),
            storage_gb: 20.into(),
            high_availability: false.into(),
            admin_username: "dbadmin".into(),
            admin_password: "pw-123".into(),
            deletion_protection: false.into(),
            skip_final_backup: false.into(),
            state: tfplugin::model::Field::Unknown,
            endpoint_host: tfplugin::model::Field::Unknown,
            endpoint_port: tfplugin::model::Field::Unknown,
            created_at: tfplugin::model::Field::Unknown,
            backup: tfplugin::model::Field::Unknown,
            ..Default::default()
        };
        Value::from_model(&m).expect("planned value")
    }

    fn create_req(name: &str) -> CreateRequest {
        CreateRequest {
            config: planned_value(name),
            planned_state: planned_value(name),
            planned_private: PrivateState::new(),
            identity: None,
        }
    }

    /// What GET /instances/db1 answers in the ambiguous-create tests.
    #[derive(Clone, Copy)]
    enum Existing {
        /// Created by this request (creation_token = its Idempotency-Key).
        Ours,
        /// Created by someone else.
        Theirs,
        Absent,
    }

    /// A fake whose POST fails as `post` says; GET of the instance answers per `existing`, echoing
    /// the POST's key when the instance is ours; GET /operations lists the create operation.
    async fn ambiguous_create(
        post: fake::Answer,
        existing: Existing,
    ) -> Result<ApplyResult, Diagnostics> {
        let (url, _) = fake::serve(move |r, earlier| {
            let key = earlier
                .iter()
                .find(|e| e.method == "POST")
                .map(fake::key_of)
                .unwrap_or_else(|| fake::key_of(r));
            match (r.method.as_str(), r.path.as_str()) {
                ("POST", _) => post.clone(),
                ("GET", p) if p.starts_with("/v1/projects/proj1/instances/db1") => match existing {
                    Existing::Ours => (200, vec![], instance_json("db1", "CREATING", "\"1\"", &key)),
                    Existing::Theirs => (200, vec![], instance_json("db1", "READY", "\"1\"", "someone-else")),
                    Existing::Absent => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
                },
                ("GET", p) if p.starts_with("/v1/projects/proj1/operations?") => (
                    200,
                    vec![],
                    serde_json::json!({"operations": [
                        {"id": "op-0", "verb": "create", "target": "instances/other", "done": false},
                        {"id": "op-7", "verb": "create", "target": "instances/db1", "done": false},
                    ]})
                    .to_string(),
                ),
                _ => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
            }
        })
        .await;
        let c = test_client(&url);
        InstanceResource.create(&ctx(), &c, create_req("db1")).await
    }

    /// Chaos-suite finding: after an interrupted (StopProvider) ambiguous create, the lookup ran
    /// into the API's not-found window right after the create, concluded "not created" and
    /// orphaned the instance. The lookup now ignores the stop and rides out the window.
    #[tokio::test]
    async fn ambiguous_create_finds_its_instance_through_the_not_found_window_even_when_stopped() {
        let (url, _) = fake::serve(move |r, earlier| {
            let key = earlier
                .iter()
                .find(|e| e.method == "POST")
                .map(fake::key_of)
                .unwrap_or_else(|| fake::key_of(r));
            let gets = earlier
                .iter()
                .filter(|e| {
                    e.method == "GET" && e.path.starts_with("/v1/projects/proj1/instances/db1")
                })
                .count();
            match (r.method.as_str(), r.path.as_str()) {
                ("POST", _) => unavailable(),
                ("GET", p) if p.starts_with("/v1/projects/proj1/instances/db1") && gets < 2 => (
                    404,
                    vec![],
                    fake::problem(404, "NOT_FOUND", false, "not yet"),
                ),
                ("GET", p) if p.starts_with("/v1/projects/proj1/instances/db1") => {
                    (200, vec![], instance_json("db1", "CREATING", "\"1\"", &key))
                }
                _ => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
            }
        })
        .await;
        let stop = tfplugin::provider::StopSignal::new();
        let stopped = stop.context("1.15.5");
        stop.stop();
        let res = InstanceResource
            .create(&stopped, &test_client(&url), create_req("db1"))
            .await
            .expect("partial state, not Err: the instance is ours");
        assert!(res.diagnostics.has_errors());
        let got: InstanceModel = res.new_state.to().expect("an instance");
        assert_eq!(got.name.as_str(), Some("db1"));
    }

    fn unavailable() -> fake::Answer {
        (503, vec![], fake::problem(503, "UNAVAILABLE", true, "busy"))
    }

    /// Retries exhausted, but the API did create the instance (its creation_token is our key): the
    /// instance is returned as (tainted) state with the error, and the create operation stays
    /// pending in private state so a later apply resumes it.
    #[tokio::test]
    async fn ambiguous_create_that_happened_returns_partial_state() {
        for post in [unavailable(), (202, vec![], "<html>not json".to_string())] {
            let res = ambiguous_create(post, Existing::Ours)
                .await
                .expect("partial state, not Err");
            assert!(res.diagnostics.has_errors(), "{:?}", res.diagnostics);
            let got: InstanceModel = res.new_state.to().expect("state is an instance");
            assert_eq!(got.name.as_str(), Some("db1"));
            assert_eq!(got.id.as_str(), Some("db1"));
            assert_eq!(got.state.as_str(), Some("CREATING"));
            let pending = res
                .private
                .get::<PendingOperation>(PRIVATE_PENDING)
                .expect("pending create kept");
            assert_eq!(pending.id, "op-7");
            assert_eq!(pending.verb, "create");
        }
    }

    /// The name is taken by an instance another request created: ALREADY_EXISTS-style guidance,
    /// nothing recorded.
    #[tokio::test]
    async fn ambiguous_create_of_a_foreign_instance_says_already_exists() {
        let err = ambiguous_create(unavailable(), Existing::Theirs)
            .await
            .expect_err("not ours: nothing recorded");
        let text = format!("{err:?}");
        assert!(text.contains("already exists"), "{text}");
        assert!(text.contains("terraform import"), "{text}");
    }

    /// Nothing exists under the name: the error says nothing was created.
    #[tokio::test]
    async fn ambiguous_create_that_did_not_happen_reports_the_error() {
        let err = ambiguous_create(unavailable(), Existing::Absent)
            .await
            .expect_err("nothing created");
        let text = format!("{err:?}");
        assert!(text.contains("UNAVAILABLE"), "{text}");
        assert!(text.contains("was not created"), "{text}");
    }

    /// A definite rejection (400) is reported as is, without looking the name up.
    #[tokio::test]
    async fn definite_create_failure_does_not_look_up_the_name() {
        let (url, log) = fake::serve(|_, _| {
            (
                400,
                vec![],
                fake::problem(400, "INVALID_ARGUMENT", false, "bad tier"),
            )
        })
        .await;
        let c = test_client(&url);
        assert!(
            InstanceResource
                .create(&ctx(), &c, create_req("db1"))
                .await
                .is_err()
        );
        assert_eq!(log.lock().expect("lock").len(), 1);
    }

    /// An interrupted update's operation that then failed (the server rolled it back): the next
    /// update waits for it and sends the change again, against what the instance is now, not
    /// against the refreshed values the failed operation had asked for.
    #[tokio::test]
    async fn an_update_rolled_back_while_pending_is_sent_again() {
        let (url, log) = fake::serve(|r, _| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v1/projects/proj1/operations/op-1") => (
                200,
                vec![],
                serde_json::json!({"id": "op-1", "verb": "update", "target": "instances/db1",
                    "done": true, "error": {"status": 500, "reason": "UPDATE_FAILED",
                    "detail": "changes rolled back"}})
                .to_string(),
            ),
            ("GET", "/v1/projects/proj1/instances/db1") => {
                (200, vec![], instance_json("db1", "READY", "\"2\"", ""))
            }
            ("PATCH", "/v1/projects/proj1/instances/db1") => (
                202,
                vec![],
                r#"{"id":"op-2","verb":"update","target":"instances/db1","done":true}"#.into(),
            ),
            _ => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
        })
        .await;
        let c = test_client(&url);
        // The refresh during the operation read what it asked for: db-micro, UPDATING.
        let inst: Instance =
            serde_json::from_str(&instance_json("db1", "UPDATING", "\"1\"", "")).expect("inst");
        let mut prior = convert::state_from_api(&inst, None);
        prior.tier = "db-micro".into();
        let mut private = PrivateState::new();
        private.set(
            PRIVATE_PENDING,
            &PendingOperation {
                id: "op-1".into(),
                verb: "update".into(),
            },
        );
        assert!(
            update_unconfirmed(&private, &prior),
            "the plan waits for it"
        );
        let ready = InstanceModel {
            state: "READY".into(),
            ..prior.clone()
        };
        assert!(
            !update_unconfirmed(&private, &ready),
            "a READY read settles it"
        );
        assert!(
            !update_unconfirmed(&PrivateState::new(), &prior),
            "not ours"
        );
        let mut planned = prior.clone();
        planned.state = Field::Unknown;
        let res = update(&c, &prior, &planned, &prior, private)
            .await
            .expect("update");
        assert!(!res.diagnostics.has_errors(), "{:?}", res.diagnostics);
        let log = log.lock().expect("lock");
        let patch = log
            .iter()
            .find(|r| r.method == "PATCH")
            .expect("sent again");
        let body: serde_json::Value = serde_json::from_slice(&patch.body).expect("json");
        assert_eq!(body["tier"], "db-micro", "{body}");
    }

    /// A PATCH whose answer is lost (502 on every attempt) may have started an update: the one
    /// running is kept pending, so the next plan waits for it rather than trusting a refresh.
    #[tokio::test]
    async fn an_update_whose_answer_was_lost_keeps_its_operation_pending() {
        let (url, _) = fake::serve(|r, _| match (r.method.as_str(), r.path.as_str()) {
            ("PATCH", "/v1/projects/proj1/instances/db1") => (502, vec![], String::new()),
            ("GET", "/v1/projects/proj1/operations?page_size=100") => (
                200,
                vec![],
                serde_json::json!({"operations": [
                    {"id": "op-0", "verb": "update", "target": "instances/db1", "done": true},
                    {"id": "op-9", "verb": "update", "target": "instances/db1", "done": false},
                    {"id": "op-8", "verb": "update", "target": "instances/other", "done": false},
                ]})
                .to_string(),
            ),
            _ => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
        })
        .await;
        let c = test_client(&url);
        let inst: Instance =
            serde_json::from_str(&instance_json("db1", "READY", "\"1\"", "")).expect("inst");
        let prior = convert::state_from_api(&inst, None);
        let mut planned = prior.clone();
        planned.tier = "db-micro".into();
        let res = update(&c, &prior, &planned, &planned, PrivateState::new())
            .await
            .expect("an error with the prior state");
        assert!(res.diagnostics.has_errors(), "{:?}", res.diagnostics);
        let pending = res
            .private
            .get::<PendingOperation>(PRIVATE_PENDING)
            .expect("the running update is kept");
        assert_eq!(pending.id, "op-9");
        // The prior state, whose READY the next refresh replaces with UPDATING.
        let kept: InstanceModel = res.new_state.to().expect("state");
        assert_eq!(kept.tier.as_str(), Some("db-small"));
    }

    /// After an interrupted update, the next update first resumes the pending operation, which
    /// changes the ETag: the PATCH must carry the fresh one, not the one in private state.
    #[tokio::test]
    async fn update_after_resumed_operation_uses_a_fresh_etag() {
        let (url, log) = fake::serve(|r, _| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v1/projects/proj1/operations/op-1") => (
                200,
                vec![],
                r#"{"id":"op-1","verb":"update","target":"instances/db1","done":true}"#.into(),
            ),
            ("GET", "/v1/projects/proj1/instances/db1") => {
                (200, vec![], instance_json("db1", "READY", "\"2\"", ""))
            }
            ("PATCH", "/v1/projects/proj1/instances/db1") => {
                let if_match = r.headers.get(IF_MATCH_HEADER).and_then(|v| v.to_str().ok());
                if if_match == Some("\"2\"") {
                    (
                        202,
                        vec![],
                        r#"{"id":"op-2","verb":"update","target":"instances/db1","done":true}"#
                            .into(),
                    )
                } else {
                    (
                        412,
                        vec![],
                        fake::problem(412, "PRECONDITION_FAILED", false, "etag"),
                    )
                }
            }
            _ => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
        })
        .await;
        let c = test_client(&url);
        let inst: Instance =
            serde_json::from_str(&instance_json("db1", "READY", "\"1\"", "")).expect("inst");
        let prior = convert::state_from_api(&inst, None);
        let mut planned = prior.clone();
        planned.tier = "db-micro".into();
        let mut private = PrivateState::new();
        private.set(PRIVATE_ETAG, &"\"1\"".to_string());
        private.set(
            PRIVATE_PENDING,
            &PendingOperation {
                id: "op-1".into(),
                verb: "update".into(),
            },
        );
        let res = update(&c, &prior, &planned, &planned, private)
            .await
            .expect("update");
        assert!(!res.diagnostics.has_errors(), "{:?}", res.diagnostics);
        assert!(
            res.private
                .get::<PendingOperation>(PRIVATE_PENDING)
                .is_none()
        );
        let log = log.lock().expect("lock");
        let patch = log.iter().find(|r| r.method == "PATCH").expect("patched");
        assert_eq!(patch.headers["if-match"], "\"2\"");
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

    // ----------------------------------------------------------- plans through the framework
    //
    // The engine runs the declarative plan (defaults, the computed-unknown rule, modifiers), then
    // `modify_plan`, then its consistency checks: exactly what a PlanResourceChange does.

    /// A provider with only `clouddb_instance`, whose data is a client of the fake API.
    struct PlanProvider(Client);

    #[async_trait]
    impl tfplugin::provider::Provider for PlanProvider {
        type Data = Client;
        fn type_name(&self) -> &'static str {
            "clouddb"
        }
        fn schema(&self) -> Schema {
            Schema::new()
        }
        async fn configure(
            &self,
            _ctx: &Context,
            _req: tfplugin::provider::ConfigureRequest,
        ) -> Result<Client, Diagnostics> {
            Ok(self.0.clone())
        }
        fn resources(&self) -> Vec<std::sync::Arc<dyn Resource<Client>>> {
            vec![std::sync::Arc::new(InstanceResource)]
        }
    }

    struct Planned {
        state: InstanceModel,
        replace: Vec<AttributePath>,
        diagnostics: Diagnostics,
    }

    fn value_of(m: &InstanceModel) -> Value {
        tfplugin::model::conform(
            Value::from_model(m).expect("writes"),
            &schema().implied_type(),
        )
        .expect("fits the schema")
    }

    /// Plan `config` over `prior` (a create when `None`) as the engine does, with the provider
    /// configured against `url` (unconfigured when `None`).
    async fn engine_plan(
        url: Option<&str>,
        prior: Option<&InstanceModel>,
        config: &InstanceModel,
    ) -> Planned {
        let client = test_client(url.unwrap_or("http://127.0.0.1:9"));
        let engine = tfplugin::engine::Engine::new(PlanProvider(client));
        if url.is_some() {
            let d = engine
                .configure(Value::Object(Default::default()), "1.15.5".into(), false)
                .await;
            assert!(!d.has_errors(), "{d:?}");
        }
        let prior = prior.map_or(Value::Null, value_of);
        let config = value_of(config);
        let proposed = tfplugin::testing::requests::proposed_new_state(&schema(), &prior, &config);
        let out = engine
            .plan(
                "clouddb_instance",
                prior,
                proposed,
                config,
                &[],
                None,
                false,
            )
            .await;
        Planned {
            state: if out.planned_state.is_null() {
                InstanceModel::default()
            } else {
                out.planned_state.to().expect("a planned instance")
            },
            replace: out.requires_replace,
            diagnostics: out.diagnostics,
        }
    }

    fn backup_json(engine: &str, version: &str) -> String {
        serde_json::json!({
            "name": "pg-snap", "instance": "src", "instance_uid": "u-0", "type": "ON_DEMAND",
            "state": "READY", "engine": engine, "engine_version": version, "size_bytes": 1,
            "created_at": "2024-01-01T00:00:00Z", "description": "",
        })
        .to_string()
    }

    /// A fake API whose only backup is `pg-snap` (postgres 16).
    async fn backup_api() -> (String, fake::Log) {
        fake::serve(|r, _| {
            if r.method == "GET" && r.path == "/v1/projects/proj1/backups/pg-snap" {
                (200, vec![], backup_json("postgres", "16"))
            } else {
                (404, vec![], fake::problem(404, "NOT_FOUND", false, "no"))
            }
        })
        .await
    }

    fn config(name: &str) -> InstanceModel {
        InstanceModel {
            name: name.into(),
            ..Default::default()
        }
    }

    fn restore(name: &str, backup: &str) -> InstanceModel {
        InstanceModel {
            restore_from_backup: backup.into(),
            ..config(name)
        }
    }

    #[tokio::test]
    async fn plan_without_restore_is_unchanged_and_makes_no_call() {
        let (url, log) = backup_api().await;
        let p = engine_plan(Some(&url), None, &config("db1")).await;
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.state.engine.as_str(), Some("mysql"));
        assert!(p.state.engine_version.is_unknown());
        assert_eq!(p.state.tier.as_str(), Some(DEFAULT_TIER));
        // Only the tier catalogue (for the storage check; a 404 here skips it).
        assert!(
            log.lock()
                .expect("lock")
                .iter()
                .all(|r| r.path == "/v1/tiers")
        );

        // The instance it makes: an empty plan, then a tier change in place (not a replace).
        let inst: Instance =
            serde_json::from_str(&instance_json("db1", "READY", "\"1\"", "")).expect("inst");
        let prior = convert::state_from_api(&inst, Some(&config("db1")));
        let p = engine_plan(Some(&url), Some(&prior), &config("db1")).await;
        assert!(p.diagnostics.is_empty() && p.replace.is_empty());
        assert_eq!(p.state, prior);
        let tier = InstanceModel {
            tier: "db-micro".into(),
            ..config("db1")
        };
        let p = engine_plan(Some(&url), Some(&prior), &tier).await;
        assert!(p.replace.is_empty(), "{:?}", p.replace);
        assert_eq!(p.state.engine.as_str(), Some("mysql"));
        assert!(
            Value::from_model(&p.state)
                .expect("writes")
                .is_wholly_known()
        );

        // Dropping `engine = "postgres"` still means the default, mysql: a replace, as before.
        let pg = InstanceModel {
            engine: "postgres".into(),
            ..prior.clone()
        };
        let p = engine_plan(Some(&url), Some(&pg), &config("db1")).await;
        assert_eq!(p.replace, vec![AttributePath::attr("engine")]);
    }

    #[tokio::test]
    async fn plan_of_a_restore_takes_engine_and_version_from_the_backup() {
        let (url, log) = backup_api().await;
        let p = engine_plan(Some(&url), None, &restore("db2", "pg-snap")).await;
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.state.engine.as_str(), Some("postgres"));
        assert_eq!(p.state.engine_version.as_str(), Some("16"));
        let seen: Vec<String> = log
            .lock()
            .expect("lock")
            .iter()
            .filter(|r| r.path != "/v1/tiers")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_eq!(seen, vec!["GET /v1/projects/proj1/backups/pg-snap"]);

        // Not there (yet), or no configured provider: known after apply, no diagnostic.
        for url in [Some(url.as_str()), None] {
            let p = engine_plan(url, None, &restore("db2", "not-yet")).await;
            assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
            assert!(p.state.engine.is_unknown() && p.state.engine_version.is_unknown());
        }
    }

    #[tokio::test]
    async fn plan_of_a_restore_with_another_engine_fails_naming_engine() {
        let (url, _) = backup_api().await;
        let mysql = InstanceModel {
            engine: "mysql".into(),
            ..restore("db2", "pg-snap")
        };
        let p = engine_plan(Some(&url), None, &mysql).await;
        let errors: Vec<_> = p.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1, "{:?}", p.diagnostics);
        assert_eq!(errors[0].attribute, Some(AttributePath::attr("engine")));
        assert!(errors[0].detail.contains("pg-snap"), "{}", errors[0].detail);
    }

    #[tokio::test]
    async fn plan_of_a_restore_whose_backup_cannot_be_read_warns() {
        let (url, _) = fake::serve(|_, _| {
            (
                403,
                vec![],
                fake::problem(403, "PERMISSION_DENIED", false, "no"),
            )
        })
        .await;
        let p = engine_plan(Some(&url), None, &restore("db2", "pg-snap")).await;
        assert!(!p.diagnostics.has_errors(), "{:?}", p.diagnostics);
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(
            p.diagnostics.0[0].attribute,
            Some(AttributePath::attr("restore_from_backup"))
        );
        assert!(p.state.engine.is_unknown());
    }

    /// After the restore: the restored (postgres) instance plans empty without looking anything
    /// up, even though the default engine is mysql; another backup replaces it.
    #[tokio::test]
    async fn restored_instance_plans_empty() {
        let (url, log) = backup_api().await;
        let mut inst: Instance =
            serde_json::from_str(&instance_json("db2", "READY", "\"1\"", "")).expect("inst");
        inst.engine = "postgres".into();
        inst.engine_version = "16".into();
        inst.restored_from_backup = "pg-snap".into();
        let cfg = restore("db2", "pg-snap");
        let prior = convert::state_from_api(&inst, Some(&cfg));
        let p = engine_plan(Some(&url), Some(&prior), &cfg).await;
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert!(p.replace.is_empty(), "{:?}", p.replace);
        assert_eq!(p.state, prior);
        assert!(log.lock().expect("lock").is_empty());
        // Imported: the API's restored_from_backup fills the attribute, so the same config plans empty.
        let imported = convert::state_from_api(&inst, None);
        assert_eq!(imported.restore_from_backup.as_str(), Some("pg-snap"));

        let p = engine_plan(Some(&url), Some(&prior), &restore("db2", "other-snap")).await;
        assert!(
            p.replace
                .contains(&AttributePath::attr("restore_from_backup")),
            "{:?}",
            p.replace
        );
    }

    #[tokio::test]
    async fn validate_rejects_both_password_forms_and_write_only_on_old_clis() {
        let engine = tfplugin::engine::Engine::new(PlanProvider(test_client("http://127.0.0.1:9")));
        let both = InstanceModel {
            admin_password: "Password-1".into(),
            admin_password_wo: "Password-2".into(),
            ..config("db1")
        };
        let d = engine
            .validate_resource("clouddb_instance", &value_of(&both), true)
            .await;
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d.0[0]
                .detail
                .contains("admin_password and admin_password_wo")
        );
        let wo = InstanceModel {
            admin_password_wo: "Password-2".into(),
            admin_password_wo_version: 1.into(),
            ..config("db1")
        };
        let d = engine
            .validate_resource("clouddb_instance", &value_of(&wo), true)
            .await;
        assert!(d.is_empty(), "{d:?}");
        // A CLI without write-only support (no client capability, e.g. 1.0.3): a clear error.
        let d = engine
            .validate_resource("clouddb_instance", &value_of(&wo), false)
            .await;
        assert!(d.has_errors());
        assert_eq!(
            d.0[0].attribute,
            Some(AttributePath::attr("admin_password_wo"))
        );
        assert!(d.0[0].detail.contains("1.11"), "{d:?}");
    }

    /// A create with the write-only password sends it from the configuration (plans never hold it),
    /// and a restore sends the backup without engine fields; a violation of the API's
    /// `admin_password` names `admin_password_wo`.
    #[tokio::test]
    async fn create_sends_the_write_only_password_and_the_backup() {
        let (url, log) = fake::serve(|r, _| match r.method.as_str() {
            "POST" => (
                400,
                vec![],
                serde_json::json!({
                    "type": "about:blank", "title": "Bad Request", "status": 400,
                    "detail": "invalid", "reason": "INVALID_ARGUMENT", "retryable": false,
                    "field_violations": [{"field": "admin_password", "description": "must be 8 to 128 characters"}],
                })
                .to_string(),
            ),
            _ => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
        })
        .await;
        let cfg = InstanceModel {
            admin_password_wo: "short".into(),
            admin_password_wo_version: 1.into(),
            ..restore("db2", "pg-snap")
        };
        let planned = InstanceModel {
            id: tfplugin::model::Field::Unknown,
            engine: "postgres".into(),
            engine_version: "16".into(),
            tier: "db-small".into(),
            storage_gb: 20.into(),
            admin_username: "dbadmin".into(),
            ..cfg.clone()
        };
        let planned = InstanceModel {
            admin_password_wo: tfplugin::model::Field::Null,
            ..planned
        };
        let req = CreateRequest {
            config: value_of(&cfg),
            planned_state: value_of(&planned),
            planned_private: PrivateState::new(),
            identity: None,
        };
        let err = InstanceResource
            .create(&ctx(), &test_client(&url), req)
            .await
            .expect_err("rejected");
        assert!(
            err.iter()
                .any(|d| d.attribute == Some(AttributePath::attr("admin_password_wo"))),
            "{err:?}"
        );
        let log = log.lock().expect("lock");
        let body: serde_json::Value = serde_json::from_slice(&log[0].body).expect("JSON body");
        assert_eq!(body["admin_password"], "short");
        assert_eq!(body["restore_from_backup"], "pg-snap");
        assert!(
            !convert::tests::has_key(&body, "engine")
                && !convert::tests::has_key(&body, "engine_version"),
            "{body}"
        );
    }
}

#[cfg(test)]
mod move_tests {
    use super::*;

    fn request(source_type: &str, address: &str, version: i64) -> MoveStateRequest {
        let ty = schema().implied_type();
        let model = InstanceModel {
            name: "db1".into(),
            tier: "db-small".into(),
            ..Default::default()
        };
        let value = Value::from_model(&model).expect("model writes");
        let value = tfplugin::model::conform(value, &ty).expect("fits the schema");
        MoveStateRequest {
            source_provider_address: address.into(),
            source_type_name: source_type.into(),
            source_schema_version: version,
            source_state: tfplugin::value::json::to_json(&ty, &value).expect("state JSON"),
            source_private: PrivateState::new(),
            source_identity: None,
            source_identity_schema_version: 0,
        }
    }

    /// The alias's version-1 state is taken over unchanged; other types, providers and
    /// versions are refused naming what is accepted.
    #[test]
    fn moves_only_from_the_alias() {
        let addr = "registry.terraform.io/clouddb/clouddb";
        let moved =
            move_from_alias(request(DEPRECATED_ALIAS, addr, SCHEMA_VERSION)).expect("moved");
        let m: InstanceModel = moved.target_state.to().expect("reads");
        assert_eq!(m.name.as_str(), Some("db1"));
        assert_eq!(m.tier.as_str(), Some("db-small"));
        for (ty, a, v) in [
            ("clouddb_database", addr, 1),
            (DEPRECATED_ALIAS, "registry.terraform.io/other/clouddb", 1),
            (DEPRECATED_ALIAS, addr, 7),
        ] {
            let err = move_from_alias(request(ty, a, v)).expect_err("refused");
            assert!(format!("{err:?}").contains(DEPRECATED_ALIAS), "{err:?}");
        }
    }
}
