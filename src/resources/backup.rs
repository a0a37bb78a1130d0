//! `clouddb_backup`: an on-demand backup of an instance.
//!
//! Lifecycle rules:
//! - **Create** sends `POST /instances/{instance}/backups` once with a fresh Idempotency-Key (the
//!   API takes the backup synchronously and answers 201 with it), waiting out a busy instance (409
//!   OPERATION_IN_PROGRESS) within the create timeout. When the answer is lost (retries exhausted,
//!   deadline, Ctrl-C, an undecodable 2xx), the instance's backups are listed: the one whose
//!   `creation_token` is this request's key is ours and goes into state, so nothing is orphaned.
//! - **Read** uses the project-level `GET /backups/{name}`: a backup outlives its instance, and a
//!   404 means it is gone (removed from state, so the next plan takes a new one).
//! - **Update** only ever changes `timeouts` (every argument replaces the backup).
//! - **Delete** treats 404 as done.
//! - **Import** takes the backup `NAME` (the ID; backups are project-level) or an identity
//!   (`project`, `name`).
//! - **Identity** `{project, name}` comes with every create, read, update and import.
//!
//! Layout: `model` (the Rust mirror of the schema), `schema`.

mod model;
mod schema;

use std::time::Duration;

use async_trait::async_trait;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::model::{Field, timeout};
use tfplugin::provider::{
    ApplyResult, Context, CreateRequest, DeleteRequest, ImportBy, ImportRequest, ImportResult,
    PlanRequest, PlanResponse, PrivateState, ReadRequest, ReadResult, Resource, UpdateRequest,
};
use tfplugin::schema::{IdentitySchema, Schema};
use tfplugin::value::{AttributePath, Value};
use tokio::time::Instant;

use super::common::{api_diags, while_busy};
use super::identity::{self, BackupIdentity};
use super::instance::valid_name;
use crate::client::backups::{BackupRecord, CreateBackupRequest};
use crate::client::{ApiError, Client, IdempotencyKey};

pub use model::BackupResourceModel;
pub use schema::schema;

/// Default for the create and delete timeouts: a backup is taken synchronously, so the time goes
/// into waiting for a busy instance.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

const TYPE_NAME: &str = "clouddb_backup";

/// The `clouddb_backup` resource type.
#[derive(Debug, Default)]
pub struct BackupResource;

fn diags(summary: &str, e: &ApiError) -> Diagnostics {
    api_diags(&schema(), summary, e)
}

/// A carried-over value, with unknowns settled to null (state holds no unknowns).
fn carry<T: Clone>(f: &Field<T>) -> Field<T> {
    f.clone().or_if_unknown(|| Field::Null)
}

/// State from the API's backup. `base` (plan or prior state; `None` on import) supplies what the
/// API does not return (`timeouts`), the instance should the API leave it out, and the user's
/// spelling of "no description" (null or `""`: the API stores both as `""`).
pub fn state_from_api(
    rec: &BackupRecord,
    base: Option<&BackupResourceModel>,
) -> BackupResourceModel {
    let empty = BackupResourceModel::default();
    let base = base.unwrap_or(&empty);
    let description = if rec.description.is_empty() {
        match &base.description {
            Field::Known(d) if d.is_empty() => Field::Known(String::new()),
            _ => Field::Null,
        }
    } else {
        Field::Known(rec.description.clone())
    };
    let instance = if rec.instance.is_empty() {
        carry(&base.instance)
    } else {
        Field::Known(rec.instance.clone())
    };
    BackupResourceModel {
        id: rec.name.clone().into(),
        instance,
        name: rec.name.clone().into(),
        description,
        kind: rec.kind.clone().into(),
        state: rec.state.clone().into(),
        size_bytes: rec.size_bytes.into(),
        engine: rec.engine.clone().into(),
        engine_version: rec.engine_version.clone().into(),
        created_at: rec.created_at.clone().into(),
        timeouts: carry(&base.timeouts),
    }
}

fn already_exists(d: &mut Diagnostics, name: &str, project: &str) {
    d.push(
        Diagnostic::error(
            "Backup already exists",
            format!(
                "A backup named {name:?} already exists in project {project:?}. Import it with \
                 `terraform import <address> {name}` or choose another name."
            ),
        )
        .at(AttributePath::attr("name")),
    );
}

/// The create failed ambiguously: find out whether it happened. Ours (its `creation_token` is
/// `key`): the backup goes into state with a warning, the create succeeded after all. A backup of
/// the configured name that is not ours: ALREADY_EXISTS guidance. Neither: the error, with
/// nothing created.
async fn recover_create(
    client: &Client,
    planned: &BackupResourceModel,
    instance: &str,
    key: &IdempotencyKey,
    summary: &str,
    err: &ApiError,
) -> Result<ApplyResult, Diagnostics> {
    // Finding out must survive what made the create ambiguous (a stop, transient errors).
    let lookup = client.for_lookup();
    let mut d = diags(summary, err);
    let project = client.project();
    let listed = lookup.list_backups(Some(instance)).await;
    let backups = match listed {
        Ok(b) => b,
        Err(e) => {
            d.error(
                "Cannot tell whether the backup was taken",
                format!(
                    "Listing the backups of instance {instance:?} after the failed create also failed: {}\n\n\
                     If a backup of it was taken just now, import it with `terraform import <address> NAME` \
                     (`terraform state list` and the clouddb_backups data source show the names).",
                    e.detail()
                ),
            );
            return Err(d);
        }
    };
    if let Some(rec) = backups
        .iter()
        .find(|b| !b.creation_token.is_empty() && b.creation_token == key.as_str())
    {
        tracing::warn!(
            instance,
            name = %rec.name,
            "create call failed, but the API took the backup; keeping it in state"
        );
        let s =
            Value::from_model(&state_from_api(rec, Some(planned))).map_err(Diagnostics::from)?;
        let id = identity::to_value(&BackupIdentity::new(client, &rec.name))?;
        let mut warn = Diagnostics::new();
        warn.warning(
            format!("Backup {:?} was taken although its create call failed", rec.name),
            format!(
                "{}\n\nThe backup's creation_token matches this request's Idempotency-Key, so it is ours \
                 and is recorded in state.",
                err.detail()
            ),
        );
        return Ok(ApplyResult::partial(s, warn).with_identity(id));
    }
    match planned.name.as_str() {
        Some(name) if backups.iter().any(|b| b.name == name) => {
            already_exists(&mut d, name, project);
        }
        _ => d.error(
            summary,
            format!(
                "No backup of instance {instance:?} carries this request's key: none was taken, and \
                 running `terraform apply` again is safe."
            ),
        ),
    }
    Err(d)
}

/// The backup name in an import ID (`NAME`).
fn import_name(id: &str) -> Result<&str, Diagnostics> {
    let name = id.trim();
    if valid_name(name) {
        return Ok(name);
    }
    Err(Diagnostic::error(
        "Invalid import ID",
        format!(
            "Expected a backup NAME (3-63 of a-z, 0-9 and '-', starting with a letter, not ending with \
             '-'), got {:?}.",
            id.chars().take(80).collect::<String>()
        ),
    )
    .into())
}

#[async_trait]
impl Resource<Client> for BackupResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity::backup_schema())
    }

    async fn modify_plan(
        &self,
        _ctx: &Context,
        _client: Option<&Client>,
        _req: &PlanRequest,
        plan: &mut PlanResponse,
    ) -> Result<(), Diagnostics> {
        let mut planned: BackupResourceModel = plan.planned_state.to()?;
        let mut changed = false;
        // The ID is the name: known at plan time whenever the name is configured.
        if planned.id.is_unknown()
            && let Some(n) = planned.name.as_str()
        {
            planned.id = Field::Known(n.to_string());
            changed = true;
        }
        if changed {
            plan.set_planned(&planned)?;
        }
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context,
        client: &Client,
        req: CreateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let planned: BackupResourceModel = req.planned_state.to()?;
        let config: BackupResourceModel = req.config.to()?;
        let Some(instance) = planned.instance.as_str().map(str::to_string) else {
            return Err(Diagnostic::error(
                format!("Cannot create {TYPE_NAME}"),
                "instance must be known when the backup is taken.",
            )
            .at(AttributePath::attr("instance"))
            .into());
        };
        let summary = format!("Error taking a backup of instance {instance:?}");
        let deadline = Instant::now() + timeout(&config.timeouts, "create", DEFAULT_TIMEOUT);
        let client = client.with_stop(ctx).with_deadline(deadline);
        let key = IdempotencyKey::new();
        let body = CreateBackupRequest {
            name: planned.name.known().cloned(),
            description: planned.description.known().cloned(),
        };
        let created = while_busy(ctx, &client, deadline, TYPE_NAME, || {
            client.create_backup(&instance, &body, &key)
        })
        .await;
        match created {
            // The API may have chosen the name: the identity is the record's.
            Ok(rec) => Ok(
                ApplyResult::from_model(&state_from_api(&rec, Some(&planned)))?.with_identity(
                    identity::to_value(&BackupIdentity::new(&client, &rec.name))?,
                ),
            ),
            Err(e) if e.is_not_found() => {
                let mut d = diags(&summary, &e);
                d.push(
                    Diagnostic::error(
                        summary.clone(),
                        format!(
                            "Instance {instance:?} does not exist in project {:?}, so no backup can be taken of it.",
                            client.project()
                        ),
                    )
                    .at(AttributePath::attr("instance")),
                );
                Err(d)
            }
            Err(e) if e.outcome_unknown() => {
                recover_create(&client, &planned, &instance, &key, &summary, &e).await
            }
            Err(e) if e.reason() == "ALREADY_EXISTS" => {
                let mut d = diags(&summary, &e);
                already_exists(
                    &mut d,
                    planned.name.as_str().unwrap_or_default(),
                    client.project(),
                );
                Err(d)
            }
            Err(e) => Err(diags(&summary, &e)),
        }
    }

    async fn read(
        &self,
        ctx: &Context,
        client: &Client,
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics> {
        let current: BackupResourceModel = req.state.to()?;
        let Some(name) = current.api_name().map(str::to_string) else {
            return Ok(ReadResult::gone());
        };
        match client.with_stop(ctx).get_backup(&name).await {
            Ok(Some(rec)) => Ok(ReadResult::refreshed(
                &current,
                &state_from_api(&rec, Some(&current)),
                req.private,
            )?
            .with_identity(identity::to_value(&BackupIdentity::new(client, &name))?)),
            Ok(None) => {
                tracing::info!(name, "backup no longer exists; removing from state");
                Ok(ReadResult::gone())
            }
            Err(e) => Err(diags(&format!("Error reading CloudDB backup {name:?}"), &e)),
        }
    }

    /// Only `timeouts` can change in place: the backup is re-read so that the result is the API's
    /// view with the new timeouts.
    async fn update(
        &self,
        ctx: &Context,
        client: &Client,
        req: UpdateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let planned: BackupResourceModel = req.planned_state.to()?;
        let prior: BackupResourceModel = req.prior_state.to()?;
        let name = prior.api_name().unwrap_or_default().to_string();
        let summary = format!("Error updating CloudDB backup {name:?}");
        match client.with_stop(ctx).get_backup(&name).await {
            Ok(Some(rec)) => Ok(
                ApplyResult::from_model(&state_from_api(&rec, Some(&planned)))?
                    .with_private(req.planned_private)
                    .with_identity(identity::to_value(&BackupIdentity::new(client, &name))?),
            ),
            Ok(None) => Err(Diagnostic::error(
                summary,
                format!("Backup {name:?} no longer exists; run `terraform apply` again to take a new one."),
            )
            .into()),
            Err(e) => Err(diags(&summary, &e)),
        }
    }

    async fn delete(
        &self,
        ctx: &Context,
        client: &Client,
        req: DeleteRequest,
    ) -> Result<(), Diagnostics> {
        let prior: BackupResourceModel = req.prior_state.to()?;
        let Some(name) = prior.api_name().map(str::to_string) else {
            return Ok(());
        };
        let deadline = Instant::now() + timeout(&prior.timeouts, "delete", DEFAULT_TIMEOUT);
        let client = client.with_stop(ctx).with_deadline(deadline);
        let key = IdempotencyKey::new();
        match while_busy(ctx, &client, deadline, TYPE_NAME, || {
            client.delete_backup(&name, &key)
        })
        .await
        {
            Ok(deleted) => {
                if !deleted {
                    tracing::info!(name, "backup was already gone");
                }
                Ok(())
            }
            Err(e) => Err(diags(
                &format!("Error deleting CloudDB backup {name:?}"),
                &e,
            )),
        }
    }

    async fn import(
        &self,
        ctx: &Context,
        client: &Client,
        req: ImportRequest,
    ) -> Result<ImportResult, Diagnostics> {
        let by_identity: BackupIdentity;
        let name = match &req.by {
            ImportBy::Id(id) => import_name(id)?,
            ImportBy::Identity(v) => {
                by_identity = identity::imported(v, client, TYPE_NAME, |i: &BackupIdentity| {
                    i.project.as_deref()
                })?;
                import_name(&by_identity.name)?
            }
        };
        match client.with_stop(ctx).get_backup(name).await {
            Ok(Some(rec)) => Ok(ImportResult::from_model(
                &state_from_api(&rec, None),
                PrivateState::new(),
            )?
            .with_identity(identity::to_value(&BackupIdentity::new(client, name))?)),
            Ok(None) => Err(Diagnostic::error(
                "Cannot import non-existent CloudDB backup",
                format!(
                    "No backup named {name:?} exists in project {:?}.",
                    client.project()
                ),
            )
            .into()),
            Err(e) => Err(diags(
                &format!("Error importing CloudDB backup {name:?}"),
                &e,
            )),
        }
    }
}

#[cfg(test)]
mod tests;
