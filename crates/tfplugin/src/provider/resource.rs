//! [`Resource`]: a managed resource type, with its request and result types.

use super::{Context, PrivateState, unsupported};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::ModelError;
use crate::schema::{IdentitySchema, Schema};
use crate::value::{AttributePath, Value};
use async_trait::async_trait;
use serde::Serialize;

/// `PlanResourceChange` input, as seen by [`Resource::modify_plan`].
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Configuration (may contain unknowns).
    pub config: Value,
    /// Prior state (null on create).
    pub prior_state: Value,
    /// Terraform's proposed new state (config merged with prior).
    pub proposed_new_state: Value,
    /// Private state from the prior apply or read.
    pub prior_private: PrivateState,
}

impl PlanRequest {
    /// True when planning a create (or the create half of a replace).
    pub fn is_create(&self) -> bool {
        self.prior_state.is_null()
    }
}

/// The plan so far; [`Resource::modify_plan`] may edit it.
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The planned new state, after the declarative plan.
    pub planned_state: Value,
    /// Paths whose change forces replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private state carried to apply.
    pub planned_private: PrivateState,
    /// Problems (warnings, or errors that fail the plan).
    pub diagnostics: Diagnostics,
}

impl PlanResponse {
    /// Marks `path` as forcing replacement (no-op if already present).
    pub fn require_replace(&mut self, path: impl Into<AttributePath>) {
        let p = path.into();
        if !self.requires_replace.contains(&p) {
            self.requires_replace.push(p);
        }
    }

    /// Replaces the planned state with a model (fitted to the schema by the framework).
    pub fn set_planned<M: Serialize + ?Sized>(&mut self, m: &M) -> Result<(), ModelError> {
        self.planned_state = Value::from_model(m)?;
        Ok(())
    }
}

/// Create input.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// Configuration (wholly known).
    pub config: Value,
    /// The plan: unknowns are the values the provider must fill in.
    pub planned_state: Value,
    /// Private state from plan.
    pub planned_private: PrivateState,
}

/// Read (refresh) input.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// Current state (never null: the framework answers for null states itself).
    pub state: Value,
    /// Private state.
    pub private: PrivateState,
}

/// Update input.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// Configuration (wholly known).
    pub config: Value,
    /// State before the update.
    pub prior_state: Value,
    /// The plan.
    pub planned_state: Value,
    /// Private state from plan.
    pub planned_private: PrivateState,
}

/// Delete input.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    /// State being destroyed.
    pub prior_state: Value,
    /// Private state.
    pub private: PrivateState,
}

/// Create and update result.
#[derive(Debug, Clone, Default)]
pub struct ApplyResult {
    /// New state. With no error diagnostics it must be wholly known and keep the plan's
    /// promises; the framework checks it and fits it to the schema.
    pub new_state: Value,
    /// Private state to store (echo the planned one if unchanged).
    pub private: PrivateState,
    /// Resource identity (only for resources with an identity schema).
    pub identity: Option<Value>,
    /// Problems. An error here with a non-null `new_state` records that state (a create:
    /// tainted) and fails the apply.
    pub diagnostics: Diagnostics,
}

impl ApplyResult {
    /// Success with `new_state`.
    pub fn ok(new_state: Value) -> Self {
        ApplyResult {
            new_state,
            ..Default::default()
        }
    }

    /// Success with the state from a model.
    pub fn from_model<M: Serialize + ?Sized>(m: &M) -> Result<Self, ModelError> {
        Ok(Self::ok(Value::from_model(m)?))
    }

    /// Failure after the object came to exist: record `state` (Terraform taints a created
    /// object) and report `diagnostics` (which should hold an error).
    pub fn partial(state: Value, diagnostics: impl Into<Diagnostics>) -> Self {
        ApplyResult {
            new_state: state,
            diagnostics: diagnostics.into(),
            ..Default::default()
        }
    }

    /// With private state.
    pub fn with_private(mut self, p: PrivateState) -> Self {
        self.private = p;
        self
    }

    /// With an identity.
    pub fn with_identity(mut self, identity: Value) -> Self {
        self.identity = Some(identity);
        self
    }
}

/// Read result.
#[derive(Debug, Clone, Default)]
pub struct ReadResult {
    /// Refreshed state; `Null` means the object is gone (Terraform removes it from state
    /// and plans to create it again).
    pub new_state: Value,
    /// Private state to store (echo it if unchanged).
    pub private: PrivateState,
    /// Resource identity.
    pub identity: Option<Value>,
    /// Warnings (an error fails the refresh; prefer `Err`).
    pub diagnostics: Diagnostics,
}

impl ReadResult {
    /// Found, with this state and private state.
    pub fn found(state: Value, private: PrivateState) -> Self {
        ReadResult {
            new_state: state,
            private,
            ..Default::default()
        }
    }

    /// Found, with the state from a model.
    pub fn from_model<M: Serialize + ?Sized>(
        m: &M,
        private: PrivateState,
    ) -> Result<Self, ModelError> {
        Ok(Self::found(Value::from_model(m)?, private))
    }

    /// The object no longer exists: not an error.
    pub fn gone() -> Self {
        Self::default()
    }
}

/// Import result: a (partial) state Terraform then refreshes with `ReadResource`.
#[derive(Debug, Clone, Default)]
pub struct ImportResult {
    /// Imported state. Attributes left out are null (the framework fills them in); the read
    /// that follows completes them.
    pub state: Value,
    /// Private state.
    pub private: PrivateState,
    /// Identity.
    pub identity: Option<Value>,
    /// Warnings; an error fails the import and nothing is imported.
    pub diagnostics: Diagnostics,
}

impl ImportResult {
    /// Sets `attr` (usually `"id"`) to the import id: the common passthrough import.
    pub fn passthrough(attr: &str, id: &str) -> Self {
        ImportResult {
            state: Value::object([(attr, Value::from(id))]),
            ..Default::default()
        }
    }

    /// The imported state from a model.
    pub fn from_model<M: Serialize + ?Sized>(
        m: &M,
        private: PrivateState,
    ) -> Result<Self, ModelError> {
        Ok(ImportResult {
            state: Value::from_model(m)?,
            private,
            ..Default::default()
        })
    }
}

/// `MoveResourceState` input (a `moved` block from another resource type).
#[derive(Debug, Clone)]
pub struct MoveStateRequest {
    /// Source provider address.
    pub source_provider_address: String,
    /// Source resource type.
    pub source_type_name: String,
    /// Source schema version.
    pub source_schema_version: i64,
    /// Source state as JSON (the source type's schema, unknown to us).
    pub source_state: serde_json::Value,
    /// Source private state.
    pub source_private: PrivateState,
}

/// `MoveResourceState` result.
#[derive(Debug, Clone, Default)]
pub struct MoveStateResult {
    /// State for the target type.
    pub target_state: Value,
    /// Private state for the target.
    pub target_private: PrivateState,
    /// Warnings; an error fails the move and the source state is kept.
    pub diagnostics: Diagnostics,
}

/// A managed resource type. `D` is the provider's [`super::Provider::Data`].
///
/// The framework guarantees: handlers that take `data` run only once the provider is
/// configured; `read` never sees a null state; `create`/`update` results are checked
/// against the plan and `read` results against the schema before Terraform sees them.
#[async_trait]
pub trait Resource<D: Send + Sync + 'static = ()>: Send + Sync + 'static {
    /// Type name, e.g. `"clouddb_instance"`.
    fn type_name(&self) -> &'static str;

    /// Schema (with version, validators, defaults, plan modifiers). Called once.
    fn schema(&self) -> Schema;

    /// Identity schema, if the resource has one. Called once.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// Checks beyond the schema's validators. The config may hold unknowns, which must be
    /// accepted. The provider is not configured yet.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Runs after the declarative plan (defaults, modifiers, the computed-unknown rule) of
    /// a create or update; may edit the planned value, add `requires_replace` paths and
    /// report plan-time errors. Not called for destroy plans. `data` is `None` while the
    /// provider configuration is unknown.
    async fn modify_plan(
        &self,
        _ctx: &Context,
        _data: Option<&D>,
        _req: &PlanRequest,
        _plan: &mut PlanResponse,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Creates the object. `Err`: nothing was created. Once the API has accepted the
    /// create, return `Ok` with the object's state even if a later step fails
    /// ([`ApplyResult::partial`]), so that nothing is orphaned.
    async fn create(
        &self,
        ctx: &Context,
        data: &D,
        req: CreateRequest,
    ) -> Result<ApplyResult, Diagnostics>;

    /// Refreshes the object from the API. [`ReadResult::gone`] when it no longer exists;
    /// `Err` keeps the current state.
    async fn read(
        &self,
        ctx: &Context,
        data: &D,
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics>;

    /// Updates in place. `Err` keeps the prior state.
    async fn update(
        &self,
        ctx: &Context,
        data: &D,
        req: UpdateRequest,
    ) -> Result<ApplyResult, Diagnostics>;

    /// Deletes the object. Deleting an object that is already gone is success. `Err`
    /// keeps the object in state.
    async fn delete(&self, ctx: &Context, data: &D, req: DeleteRequest) -> Result<(), Diagnostics>;

    /// `terraform import` by id. Default: unsupported.
    async fn import(
        &self,
        _ctx: &Context,
        _data: &D,
        _id: &str,
    ) -> Result<ImportResult, Diagnostics> {
        Err(unsupported("Import", self.type_name()))
    }

    /// Upgrades stored state JSON written by schema `from_version` by one or more steps
    /// to the current version's shape. Called only when `from_version` is older than the
    /// current schema version; attributes the current schema lacks are then an error.
    fn upgrade_state(
        &self,
        from_version: i64,
        _state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        Err(Diagnostic::error(
            "Unable to upgrade resource state",
            format!(
                "{} has no state upgrader from schema version {from_version}.",
                self.type_name()
            ),
        )
        .into())
    }

    /// `moved` from another resource type. Default: unsupported.
    async fn move_state(
        &self,
        _ctx: &Context,
        req: MoveStateRequest,
    ) -> Result<MoveStateResult, Diagnostics> {
        Err(Diagnostic::error(
            "Move not supported",
            format!(
                "{} cannot be moved from {}.",
                self.type_name(),
                req.source_type_name
            ),
        )
        .into())
    }
}
