//! [`Resource`]: a managed resource type, with its request and result types.

use super::{
    Context, ImportRequest, ImportResult, MoveStateRequest, MoveStateResult, PrivateState,
    unsupported,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::ModelError;
use crate::schema::{IdentitySchema, Schema};
use crate::value::{AttributePath, Value};
use async_trait::async_trait;
use serde::Serialize;

/// `PlanResourceChange` input, as seen by [`Resource::modify_plan`]. Terraform's proposed new
/// state is not here: it became [`PlanResponse::planned_state`] (built in place, not copied),
/// on which the declarative plan (defaults, unknown computed values) has already run.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Configuration (may contain unknowns).
    pub config: Value,
    /// Prior state (null on create).
    pub prior_state: Value,
    /// Private state from the prior apply or read.
    pub prior_private: PrivateState,
    /// Identity stored with the prior state (`None` on create, or before the type had one).
    pub prior_identity: Option<Value>,
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
    /// The planned identity: starts as the prior identity, which an update must keep (the
    /// framework reports a change as a provider bug). On create it may be set from the
    /// configuration, unknowns allowed; the create result then fills it in.
    pub planned_identity: Option<Value>,
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
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// Configuration (wholly known).
    pub config: Value,
    /// The plan: unknowns are the values the provider must fill in.
    pub planned_state: Value,
    /// Private state from plan.
    pub planned_private: PrivateState,
    /// The planned identity, if the plan set one (it may hold unknowns).
    pub identity: Option<Value>,
}

/// Read (refresh) input.
#[derive(Debug, Clone, Default)]
pub struct ReadRequest {
    /// Current state (never null: the framework answers for null states itself).
    pub state: Value,
    /// Private state.
    pub private: PrivateState,
    /// The stored identity: `None` right after an import by ID, or for state written before
    /// the type had an identity (then the read must return one).
    pub identity: Option<Value>,
}

/// Update input.
#[derive(Debug, Clone, Default)]
pub struct UpdateRequest {
    /// Configuration (wholly known).
    pub config: Value,
    /// State before the update.
    pub prior_state: Value,
    /// The plan.
    pub planned_state: Value,
    /// Private state from plan.
    pub planned_private: PrivateState,
    /// The identity, which the update keeps.
    pub identity: Option<Value>,
}

/// Delete input.
#[derive(Debug, Clone, Default)]
pub struct DeleteRequest {
    /// State being destroyed.
    pub prior_state: Value,
    /// Private state.
    pub private: PrivateState,
    /// The stored identity.
    pub identity: Option<Value>,
}

/// Create and update result.
#[derive(Debug, Clone, Default)]
pub struct ApplyResult {
    /// New state. With no error diagnostics it must be wholly known and keep the plan's
    /// promises; the framework checks it and fits it to the schema.
    pub new_state: Value,
    /// Private state to store (echo the planned one if unchanged).
    pub private: PrivateState,
    /// Resource identity (only for types with an identity schema). `None` keeps the planned
    /// identity; a create must return one unless the plan already knew it wholly. An update
    /// that returns a different one is a provider bug ("Unexpected Identity Change").
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
    /// Resource identity (only for types with an identity schema). `None` keeps the stored
    /// one; when there is none (state from before the type had an identity, or an import by
    /// ID) the read must return it. A different one is a provider bug ("Unexpected Identity
    /// Change"), except on the first read after an import.
    pub identity: Option<Value>,
    /// Warnings (an error fails the refresh; prefer `Err`).
    pub diagnostics: Diagnostics,
    /// The object is exactly as the request's state says (no drift): that state goes back to
    /// Terraform as it came, byte for byte, and `new_state` is ignored. Set it with
    /// [`ReadResult::unchanged`]; it saves re-checking and re-encoding the object on the
    /// commonest refresh (issue 11).
    pub unchanged: bool,
}

impl ReadResult {
    /// Found, and the stored state is still right: Terraform gets back what it sent.
    pub fn unchanged(private: PrivateState) -> Self {
        ReadResult {
            private,
            unchanged: true,
            ..Default::default()
        }
    }

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

    /// Found, refreshed from the API: [`unchanged`](Self::unchanged) when `refreshed` equals
    /// `current` (the model read from the request's state), else the state from `refreshed`.
    pub fn refreshed<M: Serialize + PartialEq + ?Sized>(
        current: &M,
        refreshed: &M,
        private: PrivateState,
    ) -> Result<Self, ModelError> {
        if refreshed == current {
            Ok(Self::unchanged(private))
        } else {
            Self::from_model(refreshed, private)
        }
    }

    /// The object no longer exists: not an error.
    pub fn gone() -> Self {
        Self::default()
    }

    /// With an identity.
    pub fn with_identity(mut self, identity: Value) -> Self {
        self.identity = Some(identity);
        self
    }
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

    /// Identity schema, if the resource has one (Terraform ≥ 1.12 stores identities beside
    /// state, imports by identity and lists by identity). Called once. With one, the framework
    /// requires an identity from every create, update and read (see [`ApplyResult::identity`]
    /// and [`ReadResult::identity`]) and checks that it never changes for the life of the
    /// object. Terraform before 1.12 has no identities: it sends none (so `None` keeps
    /// nothing) and ignores what it gets, so then a missing one is not an error.
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

    /// `terraform import` and `import` blocks, by ID or (types with an identity schema) by
    /// identity. Default: unsupported.
    async fn import(
        &self,
        _ctx: &Context,
        _data: &D,
        _req: ImportRequest,
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

    /// The configuration that would manage the object in `state`, for `-generate-config-out`
    /// (Terraform ≥ 1.14 asks the provider; `terraform query` lists objects and generates
    /// their `resource` blocks). `config` is the framework's answer: the state with null for
    /// everything configuration cannot set (computed-only, write-only and deprecated
    /// attributes) and for values equal to their default. Override to leave out more (say, a
    /// value the API chose that the user need not pin); an answer that sets what
    /// configuration cannot is reported as a provider bug. Default: `config`.
    fn generate_config(&self, _state: &Value, config: Value) -> Result<Value, Diagnostics> {
        Ok(config)
    }

    /// `moved` from another resource type (for a renamed type: the old name moved to the new).
    /// The result is fitted to this type's schema and identity schema. Default: unsupported.
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
