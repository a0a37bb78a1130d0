//! The lifecycle shared by the sub-resources of an instance (`clouddb_database`, `clouddb_user`,
//! `clouddb_firewall_rule`): each is addressed by `INSTANCE/NAME`, written synchronously (the API
//! answers with the record, not an operation), and lives only as long as its instance.
//!
//! A type supplies its model, schema and conversions as a [`ChildType`]; [`ChildResource`] turns
//! that into a [`Resource`] with these rules:
//! - **Create** sends one request with a fresh Idempotency-Key, waiting out a busy instance (409
//!   OPERATION_IN_PROGRESS) within the create timeout. When the answer is lost (retries exhausted,
//!   deadline, Ctrl-C, an undecodable 2xx), the record is looked up by name: one whose
//!   `creation_token` is this request's key is ours and goes into state, so nothing is orphaned.
//! - **Read** rebuilds state from the API; a 404 (the record, or its whole instance, is gone)
//!   removes it from state without an error.
//! - **Update** sends only what changed (the type decides), again waiting out a busy instance.
//! - **Delete** treats 404 as done, so destroying children after their instance is gone succeeds.
//! - **Import** takes `INSTANCE/NAME` or an identity (`project`, `instance`, `name`); values the
//!   API never returns (passwords) stay null.
//! - **Identity** `{project, instance, name}` comes with every create, read, update and import.

use std::fmt::Debug;
use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::model::{Field, TimeoutsModel, timeout};
use tfplugin::provider::{
    ApplyResult, Context, CreateRequest, DeleteRequest, ImportBy, ImportRequest, ImportResult,
    PlanRequest, PlanResponse, PrivateState, ReadRequest, ReadResult, Resource, UpdateRequest,
};
use tfplugin::schema::{IdentitySchema, Schema};
use tfplugin::value::Value;
use tokio::time::Instant;

use super::common::{api_diags, api_diags_as, split_pair_id, while_busy};
use super::identity::{self, ChildIdentity};
use crate::client::children::{ChildKind, ChildRecord};
use crate::client::refresh::ReadAheadOf;
use crate::client::{ApiError, Client, IdempotencyKey};

/// Default for each of the create/update/delete timeouts of a child: writes are synchronous, so
/// the time goes into waiting for a busy instance.
pub const DEFAULT_CHILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The attributes every child model has: `id` (`INSTANCE/NAME`), `instance`, `name`, `timeouts`.
pub trait ChildModel {
    fn id(&self) -> &Field<String>;
    fn id_mut(&mut self) -> &mut Field<String>;
    fn instance(&self) -> &Field<String>;
    fn name(&self) -> &Field<String>;
    fn timeouts(&self) -> &Field<TimeoutsModel>;

    /// `(instance, name)`: from `id` once created (it is what the API knows), else from the
    /// attributes.
    fn address(&self) -> Option<(String, String)> {
        if let Some((i, n)) = self.id().as_str().and_then(|id| id.split_once('/')) {
            return Some((i.to_string(), n.to_string()));
        }
        Some((
            self.instance().as_str()?.to_string(),
            self.name().as_str()?.to_string(),
        ))
    }
}

/// The instance a record belongs to: the record's own field, or (from an API that leaves it out)
/// the one Terraform already knows.
pub fn parent_instance<M: ChildModel>(record_instance: &str, known: Option<&M>) -> String {
    if !record_instance.is_empty() {
        return record_instance.to_string();
    }
    known
        .and_then(ChildModel::address)
        .map(|(i, _)| i)
        .unwrap_or_default()
}

/// Implements [`ChildModel`] for a model with the four common fields.
macro_rules! child_model {
    ($t:ty) => {
        impl $crate::resources::child::ChildModel for $t {
            fn id(&self) -> &tfplugin::model::Field<String> {
                &self.id
            }
            fn id_mut(&mut self) -> &mut tfplugin::model::Field<String> {
                &mut self.id
            }
            fn instance(&self) -> &tfplugin::model::Field<String> {
                &self.instance
            }
            fn name(&self) -> &tfplugin::model::Field<String> {
                &self.name
            }
            fn timeouts(&self) -> &tfplugin::model::Field<tfplugin::model::TimeoutsModel> {
                &self.timeouts
            }
        }
    };
}
pub(crate) use child_model;

/// One kind of instance sub-resource, described for [`ChildResource`].
pub trait ChildType: Send + Sync + 'static {
    /// The Terraform model (config, plan and state).
    type Model: ChildModel + Serialize + DeserializeOwned + Clone + PartialEq + Debug + Send + Sync;
    /// The record the API returns.
    type Record: ReadAheadOf;
    /// The create body.
    type Create: Serialize + Send + Sync;
    /// The patch body.
    type Patch: Serialize + Send + Sync;

    /// The Terraform type name.
    const TYPE_NAME: &'static str;
    /// The API collection.
    const KIND: ChildKind;

    fn schema() -> Schema;

    /// The create body from the plan and the configuration (write-only values are only in the
    /// configuration).
    fn create_body(planned: &Self::Model, config: &Self::Model) -> Self::Create;

    /// The patch body for `prior` → `planned`, or `None` when the API has nothing to change.
    fn patch_body(
        prior: &Self::Model,
        planned: &Self::Model,
        config: &Self::Model,
    ) -> Option<Self::Patch>;

    /// State from the API record. `known` is the plan or prior state: the source of what the API
    /// never returns (secrets, version counters) and of the user's spelling of "unset".
    fn state(rec: &Self::Record, known: Option<&Self::Model>) -> Self::Model;

    /// The configuration generated for an existing record (see
    /// [`Resource::generate_config`]); `config` is the framework's answer. Types with secrets the
    /// API never returns leave them out here.
    fn generate_config(_state: &Value, config: Value) -> Result<Value, Diagnostics> {
        Ok(config)
    }

    /// Checks across attributes (values may be unknown).
    fn validate(_config: &Self::Model) -> Diagnostics {
        Diagnostics::new()
    }

    /// API fields that this configuration filled from differently named attributes, as
    /// `(api field, attribute)`, so the API's field violations name what the user set.
    fn renamed_fields(_config: &Self::Model) -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

/// A [`Resource`] for any [`ChildType`].
pub struct ChildResource<T>(PhantomData<T>);

impl<T> Default for ChildResource<T> {
    fn default() -> Self {
        ChildResource(PhantomData)
    }
}

fn noun<T: ChildType>() -> &'static str {
    T::KIND.noun()
}

fn diags<T: ChildType>(summary: &str, e: &ApiError) -> Diagnostics {
    api_diags(&T::schema(), summary, e)
}

/// [`diags`] for a write built from `config`.
fn write_diags<T: ChildType>(config: &T::Model, summary: &str, e: &ApiError) -> Diagnostics {
    api_diags_as(&T::schema(), summary, e, T::renamed_fields(config))
}

fn state_value<T: ChildType>(m: &T::Model) -> Result<Value, Diagnostics> {
    Value::from_model(m).map_err(Diagnostics::from)
}

/// A create the API answered 404 to: the instance is not there.
fn no_instance<T: ChildType>(summary: &str, instance: &str, client: &Client) -> Diagnostics {
    Diagnostic::error(
        summary,
        format!(
            "Instance {instance:?} does not exist in project {:?}, so the {} cannot be created on it.",
            client.project(),
            noun::<T>()
        ),
    )
    .into()
}

/// The create failed ambiguously: find out whether it happened (see the module docs).
async fn recover_create<T: ChildType>(
    client: &Client,
    planned: &T::Model,
    (instance, name): (&str, &str),
    key: &IdempotencyKey,
    summary: &str,
    err: &ApiError,
) -> Result<ApplyResult, Diagnostics> {
    let lookup = client.for_lookup();
    let mut d = diags::<T>(summary, err);
    let noun = noun::<T>();
    match lookup.get_child::<T::Record>(T::KIND, instance, name).await {
        Ok(Some(rec))
            if !rec.creation_token().is_empty() && rec.creation_token() == key.as_str() =>
        {
            tracing::warn!(
                instance,
                name,
                "create call failed, but the API created the {noun}"
            );
            let s = state_value::<T>(&T::state(&rec, Some(planned)))?;
            let mut warn = Diagnostics::new();
            warn.warning(
                format!("The {noun} {instance}/{name} was created although its create call failed"),
                format!(
                    "{}\n\nThe record's creation_token matches this request's Idempotency-Key, so it is \
                     ours and is recorded in state.",
                    err.detail()
                ),
            );
            Ok(ApplyResult::partial(s, warn))
        }
        Ok(Some(_)) => {
            d.error(
                format!("The {noun} already exists"),
                format!(
                    "A {noun} named {name:?} already exists on instance {instance:?}. Import it with \
                     `terraform import <address> {instance}/{name}` or choose another name."
                ),
            );
            Err(d)
        }
        Ok(None) => {
            d.error(
                summary,
                format!(
                    "No {noun} named {name:?} exists on instance {instance:?}: it was not created, and \
                     running `terraform apply` again is safe."
                ),
            );
            Err(d)
        }
        Err(e) => {
            d.error(
                format!("Cannot tell whether the {noun} was created"),
                format!(
                    "Looking up {noun} {name:?} on instance {instance:?} after the failed create also \
                     failed: {}\n\nIf it exists, import it with `terraform import <address> \
                     {instance}/{name}`.",
                    e.detail()
                ),
            );
            Err(d)
        }
    }
}

#[async_trait]
impl<T: ChildType> Resource<Client> for ChildResource<T> {
    fn type_name(&self) -> &'static str {
        T::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        T::schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity::child_schema(noun::<T>()))
    }

    fn generate_config(&self, state: &Value, config: Value) -> Result<Value, Diagnostics> {
        T::generate_config(state, config)
    }

    async fn validate(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        match config.to::<T::Model>() {
            Ok(m) => T::validate(&m),
            Err(e) => e.into(),
        }
    }

    async fn modify_plan(
        &self,
        _ctx: &Context,
        _client: Option<&Client>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) -> Result<(), Diagnostics> {
        let mut planned: T::Model = plan.planned_state.to()?;
        // The ID is INSTANCE/NAME: known at plan time whenever both are, so a plan that creates a
        // child never shows "(known after apply)" for it.
        if planned.id().is_unknown()
            && let (Some(i), Some(n)) = (planned.instance().as_str(), planned.name().as_str())
        {
            *planned.id_mut() = Field::Known(format!("{i}/{n}"));
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
        let planned: T::Model = req.planned_state.to()?;
        let config: T::Model = req.config.to()?;
        let Some((instance, name)) = planned.address() else {
            return Err(Diagnostic::error(
                format!("Cannot create {}", T::TYPE_NAME),
                "instance and name must be known when the resource is created.",
            )
            .into());
        };
        let summary = format!(
            "Error creating {} {name:?} on instance {instance:?}",
            noun::<T>()
        );
        let deadline = Instant::now() + timeout(config.timeouts(), "create", DEFAULT_CHILD_TIMEOUT);
        let client = client.with_stop(ctx).with_deadline(deadline);
        let key = IdempotencyKey::new();
        let body = T::create_body(&planned, &config);
        let identity = identity::to_value(&ChildIdentity::new(&client, &instance, &name))?;
        let created = while_busy(ctx, &client, deadline, T::TYPE_NAME, || {
            client.create_child::<_, T::Record>(T::KIND, &instance, &body, &key)
        })
        .await;
        let result = match created {
            Ok(rec) => Ok(ApplyResult::from_model(&T::state(&rec, Some(&planned)))?),
            Err(e) if e.is_not_found() => Err(no_instance::<T>(&summary, &instance, &client)),
            Err(e) if e.outcome_unknown() => {
                recover_create::<T>(&client, &planned, (&instance, &name), &key, &summary, &e).await
            }
            Err(e) if e.reason() == "ALREADY_EXISTS" => {
                let mut d = write_diags::<T>(&config, &summary, &e);
                d.error(
                    format!("The {} already exists", noun::<T>()),
                    format!(
                        "Import it with `terraform import <address> {instance}/{name}` or choose another name."
                    ),
                );
                Err(d)
            }
            Err(e) => Err(write_diags::<T>(&config, &summary, &e)),
        };
        result.map(|r| r.with_identity(identity))
    }

    async fn read(
        &self,
        ctx: &Context,
        client: &Client,
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics> {
        let current: T::Model = req.state.to()?;
        let Some((instance, name)) = current.address() else {
            return Ok(ReadResult::gone());
        };
        let client = client.with_stop(ctx);
        match client
            .read_child::<T::Record>(T::KIND, &instance, &name)
            .await
        {
            Ok(Some(rec)) => {
                Ok(
                    ReadResult::refreshed(&current, &T::state(&rec, Some(&current)), req.private)?
                        .with_identity(identity::to_value(&ChildIdentity::new(
                            &client, &instance, &name,
                        ))?),
                )
            }
            Ok(None) => {
                tracing::info!(
                    instance,
                    name,
                    "{} (or its instance) is gone; removing from state",
                    noun::<T>()
                );
                Ok(ReadResult::gone())
            }
            Err(e) => Err(diags::<T>(
                &format!(
                    "Error reading {} {name:?} on instance {instance:?}",
                    noun::<T>()
                ),
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
        let prior: T::Model = req.prior_state.to()?;
        let planned: T::Model = req.planned_state.to()?;
        let config: T::Model = req.config.to()?;
        let Some((instance, name)) = prior.address() else {
            return Err(Diagnostic::error(
                format!("Cannot update {}", T::TYPE_NAME),
                "The prior state has no instance/name.",
            )
            .into());
        };
        let summary = format!(
            "Error updating {} {name:?} on instance {instance:?}",
            noun::<T>()
        );
        let deadline = Instant::now() + timeout(config.timeouts(), "update", DEFAULT_CHILD_TIMEOUT);
        let client = client.with_stop(ctx).with_deadline(deadline);
        let gone = || -> Diagnostics {
            Diagnostic::error(
                summary.clone(),
                format!(
                    "The {} {instance}/{name} no longer exists (or its instance is gone). Run \
                     `terraform apply` again to re-create it.",
                    noun::<T>()
                ),
            )
            .into()
        };
        let rec = match T::patch_body(&prior, &planned, &config) {
            Some(patch) => {
                let key = IdempotencyKey::new();
                let updated = while_busy(ctx, &client, deadline, T::TYPE_NAME, || {
                    client.update_child::<_, T::Record>(T::KIND, &instance, &name, &patch, &key)
                })
                .await;
                match updated {
                    Ok(rec) => rec,
                    Err(e) if e.is_not_found() => return Err(gone()),
                    Err(e) => return Err(write_diags::<T>(&config, &summary, &e)),
                }
            }
            // Only Terraform-side settings changed (timeouts): the record is re-read for state.
            None => match client
                .get_child::<T::Record>(T::KIND, &instance, &name)
                .await
            {
                Ok(Some(rec)) => rec,
                Ok(None) => return Err(gone()),
                Err(e) => return Err(diags::<T>(&summary, &e)),
            },
        };
        let identity = identity::to_value(&ChildIdentity::new(&client, &instance, &name))?;
        Ok(ApplyResult::from_model(&T::state(&rec, Some(&planned)))?
            .with_private(req.planned_private)
            .with_identity(identity))
    }

    async fn delete(
        &self,
        ctx: &Context,
        client: &Client,
        req: DeleteRequest,
    ) -> Result<(), Diagnostics> {
        let prior: T::Model = req.prior_state.to()?;
        let Some((instance, name)) = prior.address() else {
            return Ok(());
        };
        let deadline = Instant::now() + timeout(prior.timeouts(), "delete", DEFAULT_CHILD_TIMEOUT);
        let client = client.with_stop(ctx).with_deadline(deadline);
        let key = IdempotencyKey::new();
        while_busy(ctx, &client, deadline, T::TYPE_NAME, || {
            client.delete_child(T::KIND, &instance, &name, &key)
        })
        .await
        .map_err(|e| {
            diags::<T>(
                &format!(
                    "Error deleting {} {name:?} on instance {instance:?}",
                    noun::<T>()
                ),
                &e,
            )
        })
    }

    async fn import(
        &self,
        ctx: &Context,
        client: &Client,
        req: ImportRequest,
    ) -> Result<ImportResult, Diagnostics> {
        let by_identity: ChildIdentity;
        let (instance, name) = match &req.by {
            ImportBy::Id(id) => split_pair_id(id, "INSTANCE/NAME")?,
            ImportBy::Identity(v) => {
                by_identity = identity::imported(v, client, T::TYPE_NAME, |i: &ChildIdentity| {
                    i.project.as_deref()
                })?;
                (by_identity.instance.as_str(), by_identity.name.as_str())
            }
        };
        let client = client.with_stop(ctx);
        match client.get_child::<T::Record>(T::KIND, instance, name).await {
            Ok(Some(rec)) => Ok(ImportResult::from_model(
                &T::state(&rec, None),
                PrivateState::new(),
            )?
            .with_identity(identity::to_value(&ChildIdentity::new(
                &client, instance, name,
            ))?)),
            Ok(None) => Err(Diagnostic::error(
                format!("Cannot import non-existent {}", noun::<T>()),
                format!(
                    "No {} named {name:?} exists on instance {instance:?} in project {:?} (or the \
                     instance does not exist).",
                    noun::<T>(),
                    client.project()
                ),
            )
            .into()),
            Err(e) => Err(diags::<T>(
                &format!("Error importing {} {instance}/{name}", noun::<T>()),
                &e,
            )),
        }
    }
}
