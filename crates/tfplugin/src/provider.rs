//! The traits a provider implements, and their request/response types.
//!
//! The framework does the protocol work around these calls: decoding values with the
//! schema's type, running validators, the declarative plan (defaults, plan modifiers,
//! the computed-unknown rule, `requires_replace`), and checking what a handler returns
//! against the plan before Terraform sees it. Handlers only deal in [`Value`]s.
//!
//! Every handler gets a [`Context`] whose stop signal fires when Terraform sends
//! `StopProvider` (Ctrl-C), so long waits can end early.

use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::{IdentitySchema, Schema};
use crate::value::{AttributePath, Type, Value};
use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use tokio::sync::watch;

// ------------------------------------------------------------------ context

/// Per-call context: the stop signal and what we know about the calling Terraform.
#[derive(Clone, Debug)]
pub struct Context {
    /// The stop generation this call belongs to (kept alive by the context itself).
    stop: Arc<watch::Sender<bool>>,
    /// Terraform's version as sent in `ConfigureProvider` (empty before configuration).
    pub terraform_version: String,
    /// Terraform may accept deferred actions in this call.
    pub deferral_allowed: bool,
}

/// The sending half of the stop signal (held by the gRPC service; `StopProvider` fires it).
///
/// Stopping ends the current *generation*: calls in flight see the stop, calls started
/// afterwards get a fresh signal. That matters in debug/reattach mode, where one provider
/// process serves many Terraform runs and a Ctrl-C in one must not poison the next.
#[derive(Clone, Debug)]
pub struct StopSignal(Arc<Mutex<Arc<watch::Sender<bool>>>>);

impl Default for StopSignal {
    fn default() -> Self {
        Self::new()
    }
}

impl StopSignal {
    /// A signal that has not fired.
    pub fn new() -> Self {
        StopSignal(Arc::new(Mutex::new(Arc::new(watch::channel(false).0))))
    }

    fn current(&self) -> Arc<watch::Sender<bool>> {
        match self.0.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Fires: every existing context's [`Context::stopped`] completes; new contexts start fresh.
    pub fn stop(&self) {
        let fresh = Arc::new(watch::channel(false).0);
        let old = match self.0.lock() {
            Ok(mut g) => std::mem::replace(&mut *g, fresh),
            Err(p) => std::mem::replace(&mut *p.into_inner(), fresh),
        };
        old.send_replace(true);
    }

    /// A context listening to this signal.
    pub fn context(&self, terraform_version: impl Into<String>) -> Context {
        Context {
            stop: self.current(),
            terraform_version: terraform_version.into(),
            deferral_allowed: false,
        }
    }
}

impl Context {
    /// A context that is never stopped (tests, tools).
    pub fn background() -> Self {
        StopSignal::new().context("")
    }

    /// True once Terraform asked the provider to stop.
    pub fn is_stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Completes when Terraform asks the provider to stop; use in `tokio::select!` around waits.
    pub async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        // The context holds the sender, so the channel cannot close under us.
        let _ = rx.wait_for(|s| *s).await;
    }
}

// ------------------------------------------------------------------ private state

/// Provider-owned data stored next to the state (`private` bytes), as a JSON object.
///
/// Terraform stores it opaquely and hands it back on the next Read/Plan/Apply, so it is
/// the place for things like a pending operation id. Returning an empty one erases it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrivateState(BTreeMap<String, serde_json::Value>);

/// Private bytes were not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("private state is not a JSON object: {0}")]
pub struct PrivateStateError(pub String);

impl PrivateState {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses stored bytes (empty bytes = empty state).
    pub fn from_bytes(b: &[u8]) -> Result<Self, PrivateStateError> {
        if b.is_empty() {
            return Ok(Self::new());
        }
        serde_json::from_slice(b)
            .map(PrivateState)
            .map_err(|e| PrivateStateError(e.to_string()))
    }

    /// Bytes to store (empty when there is nothing).
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return Vec::new();
        }
        serde_json::to_vec(&self.0).unwrap_or_default()
    }

    /// Reads and deserialises a key; `None` if absent or of another shape.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Stores a key.
    pub fn set<T: Serialize>(&mut self, key: impl Into<String>, value: &T) {
        if let Ok(v) = serde_json::to_value(value) {
            self.0.insert(key.into(), v);
        }
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ------------------------------------------------------------------ provider

/// `ConfigureProvider` input.
#[derive(Debug, Clone)]
pub struct ConfigureRequest {
    /// Provider configuration (may contain unknowns at plan time).
    pub config: Value,
    /// Terraform's version, e.g. `"1.11.4"`.
    pub terraform_version: String,
}

/// A Terraform provider.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Provider type name, e.g. `"clouddb"` (resource names start with it).
    fn type_name(&self) -> &'static str;

    /// The `provider "…" {}` block schema.
    fn schema(&self) -> Schema;

    /// Extra checks of the provider config (schema validators already ran).
    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Configures clients; called before any Read/Plan/Apply.
    async fn configure(&self, ctx: &Context, req: ConfigureRequest) -> Diagnostics;

    /// Managed resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// Data source types.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }

    /// Provider functions.
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }

    /// Ephemeral resource types.
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        Vec::new()
    }

    /// List resource types (`terraform query`).
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        Vec::new()
    }
}

// ------------------------------------------------------------------ resources

/// `PlanResourceChange` input, as seen by [`Resource::modify_plan`].
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Configuration (may contain unknowns).
    pub config: Value,
    /// Prior state (null on create).
    pub prior_state: Value,
    /// Terraform's proposed new state (config merged with prior).
    pub proposed_new_state: Value,
    /// Private state from the prior apply/read.
    pub prior_private: PrivateState,
}

impl PlanRequest {
    /// True when planning a create.
    pub fn is_create(&self) -> bool {
        self.prior_state.is_null()
    }
    /// True when planning a destroy.
    pub fn is_destroy(&self) -> bool {
        self.proposed_new_state.is_null()
    }
}

/// `PlanResourceChange` result; [`Resource::modify_plan`] may edit it.
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The planned new state.
    pub planned_state: Value,
    /// Paths whose change forces replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private state carried to apply.
    pub planned_private: PrivateState,
    /// Problems.
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
}

/// Create input.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// Configuration (wholly known).
    pub config: Value,
    /// The plan (unknowns = values the provider must fill in).
    pub planned_state: Value,
    /// Private state from plan.
    pub planned_private: PrivateState,
}

/// Read (refresh) input.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// Current state.
    pub state: Value,
    /// Private state.
    pub private: PrivateState,
}

/// Update input.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// Configuration.
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

/// Create/Update result.
#[derive(Debug, Clone, Default)]
pub struct ApplyResult {
    /// New state; `Null` means nothing exists (with an error: keep prior state / nothing created).
    /// On a failed create after the object exists, return the partial state **and** an error.
    pub new_state: Value,
    /// Private state to store (echo the planned one if unchanged).
    pub private: PrivateState,
    /// Resource identity (only for resources with an identity schema).
    pub identity: Option<Value>,
    /// Problems.
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
    /// Failure with one error and no object.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        ApplyResult {
            diagnostics: Diagnostic::error(summary, detail).into(),
            ..Default::default()
        }
    }
    /// With private state.
    pub fn with_private(mut self, p: PrivateState) -> Self {
        self.private = p;
        self
    }
}

/// Read result.
#[derive(Debug, Clone, Default)]
pub struct ReadResult {
    /// Refreshed state; `Null` = the object is gone (Terraform removes it from state).
    pub new_state: Value,
    /// Private state to store (echo it if unchanged).
    pub private: PrivateState,
    /// Resource identity.
    pub identity: Option<Value>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

impl ReadResult {
    /// Found, with this state.
    pub fn found(state: Value, private: PrivateState) -> Self {
        ReadResult {
            new_state: state,
            private,
            ..Default::default()
        }
    }
    /// The object no longer exists.
    pub fn gone() -> Self {
        Self::default()
    }
}

/// Import result: a (partial) state Terraform then refreshes with `ReadResource`.
#[derive(Debug, Clone, Default)]
pub struct ImportResult {
    /// Imported state (attributes not set are null; Read fills them in).
    pub state: Value,
    /// Private state.
    pub private: PrivateState,
    /// Identity.
    pub identity: Option<Value>,
    /// Problems.
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
    /// Source state as JSON.
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
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// Type name, e.g. `"clouddb_instance"`.
    fn type_name(&self) -> &'static str;

    /// Schema (with version, validators, defaults, plan modifiers).
    fn schema(&self) -> Schema;

    /// Identity schema, if the resource has one.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// Extra config checks (schema validators already ran). Config may hold unknowns.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Runs after the declarative plan (defaults, modifiers, computed-unknown rule);
    /// may edit the planned value, add `requires_replace` paths and plan-time errors.
    /// Not called for destroy plans.
    async fn modify_plan(&self, _ctx: &Context, _req: &PlanRequest, _plan: &mut PlanResponse) {}

    /// Creates the object.
    async fn create(&self, ctx: &Context, req: CreateRequest) -> ApplyResult;

    /// Refreshes the object.
    async fn read(&self, ctx: &Context, req: ReadRequest) -> ReadResult;

    /// Updates in place.
    async fn update(&self, ctx: &Context, req: UpdateRequest) -> ApplyResult;

    /// Deletes the object.
    async fn delete(&self, ctx: &Context, req: DeleteRequest) -> Diagnostics;

    /// `terraform import` by id. Default: unsupported.
    async fn import(&self, _ctx: &Context, _id: &str) -> ImportResult {
        ImportResult {
            diagnostics: Diagnostic::error(
                "Import not supported",
                format!(
                    "The resource type {} does not support import.",
                    self.type_name()
                ),
            )
            .into(),
            ..Default::default()
        }
    }

    /// Upgrades stored state JSON written by schema `from_version` by one or more steps
    /// to the current version's shape. Called only when `from_version` is older than the
    /// current schema version. Attributes the current schema lacks are dropped afterwards.
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
    async fn move_state(&self, _ctx: &Context, req: MoveStateRequest) -> MoveStateResult {
        MoveStateResult {
            diagnostics: Diagnostic::error(
                "Move not supported",
                format!(
                    "{} cannot be moved from {}.",
                    self.type_name(),
                    req.source_type_name
                ),
            )
            .into(),
            ..Default::default()
        }
    }
}

// ------------------------------------------------------------------ data sources

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// Type name.
    fn type_name(&self) -> &'static str;
    /// Schema.
    fn schema(&self) -> Schema;
    /// Extra config checks.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Reads; the result must be wholly known and non-null.
    async fn read(&self, ctx: &Context, config: &Value) -> DataReadResult;
}

/// Data source read result.
#[derive(Debug, Clone, Default)]
pub struct DataReadResult {
    /// The full object (config values kept as given, computed ones filled in).
    pub state: Value,
    /// Problems.
    pub diagnostics: Diagnostics,
}

// ------------------------------------------------------------------ functions

/// One function parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Name.
    pub name: String,
    /// Type (may be `Dynamic`).
    pub ty: Type,
    /// Null arguments are passed through (else Terraform rejects them).
    pub allow_null: bool,
    /// Unknown arguments are passed through (else the result is unknown).
    pub allow_unknown: bool,
    /// Markdown description.
    pub description: String,
}

impl Parameter {
    /// A parameter disallowing null and unknown.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Parameter {
            name: name.into(),
            ty,
            allow_null: false,
            allow_unknown: false,
            description: String::new(),
        }
    }
}

/// A function signature.
#[derive(Debug, Clone)]
pub struct Signature {
    /// Positional parameters.
    pub parameters: Vec<Parameter>,
    /// Variadic trailing parameter.
    pub variadic: Option<Parameter>,
    /// Return type.
    pub return_type: Type,
    /// One-line summary.
    pub summary: String,
    /// Markdown description.
    pub description: String,
    /// Deprecation message.
    pub deprecation: Option<String>,
}

/// A function call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct FunctionError {
    /// Message.
    pub text: String,
    /// Index of the offending argument.
    pub argument: Option<i64>,
}

/// A provider function (`provider::NAME::FUNC(...)`).
#[async_trait]
pub trait Function: Send + Sync + 'static {
    /// Function name.
    fn name(&self) -> &'static str;
    /// Signature.
    fn signature(&self) -> Signature;
    /// Calls it with decoded arguments.
    async fn call(&self, ctx: &Context, args: Vec<Value>) -> Result<Value, FunctionError>;
}

// ------------------------------------------------------------------ ephemeral

/// Ephemeral open result.
#[derive(Debug, Clone, Default)]
pub struct OpenResult {
    /// The ephemeral value.
    pub result: Value,
    /// Private data for renew/close.
    pub private: PrivateState,
    /// When Terraform should call renew.
    pub renew_at: Option<SystemTime>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// Ephemeral renew result.
#[derive(Debug, Clone, Default)]
pub struct RenewResult {
    /// Updated private data.
    pub private: PrivateState,
    /// Next renew time.
    pub renew_at: Option<SystemTime>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// An ephemeral resource type (never stored in state).
#[async_trait]
pub trait EphemeralResource: Send + Sync + 'static {
    /// Type name.
    fn type_name(&self) -> &'static str;
    /// Schema.
    fn schema(&self) -> Schema;
    /// Extra config checks.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Opens.
    async fn open(&self, ctx: &Context, config: &Value) -> OpenResult;
    /// Renews.
    async fn renew(&self, _ctx: &Context, private: PrivateState) -> RenewResult {
        RenewResult {
            private,
            ..Default::default()
        }
    }
    /// Closes.
    async fn close(&self, _ctx: &Context, _private: PrivateState) -> Diagnostics {
        Diagnostics::new()
    }
}

// ------------------------------------------------------------------ list

/// One item found by a list resource.
#[derive(Debug, Clone, Default)]
pub struct ListItem {
    /// Human-readable name.
    pub display_name: String,
    /// Identity of the found object (conforms to the resource's identity schema).
    pub identity: Value,
    /// Full resource object, when requested.
    pub resource_object: Option<Value>,
    /// Problems with this item.
    pub diagnostics: Diagnostics,
}

/// A list resource (`terraform query`): enumerates existing objects of a managed type.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    /// The managed resource type it lists.
    fn type_name(&self) -> &'static str;
    /// Schema of the `list` block config.
    fn schema(&self) -> Schema;
    /// Lists objects.
    async fn list(
        &self,
        ctx: &Context,
        config: &Value,
        include_resource: bool,
        limit: i64,
    ) -> Result<Vec<ListItem>, Diagnostics>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_state_round_trip() {
        let mut p = PrivateState::new();
        assert!(p.to_bytes().is_empty());
        p.set("operation_id", &"op-1");
        let q = PrivateState::from_bytes(&p.to_bytes()).expect("parse");
        assert_eq!(q.get::<String>("operation_id").as_deref(), Some("op-1"));
        assert!(PrivateState::from_bytes(b"garbage").is_err());
    }

    #[tokio::test]
    async fn stop_signal_reaches_contexts() {
        let s = StopSignal::new();
        let ctx = s.context("1.11.4");
        assert!(!ctx.is_stopped());
        s.stop();
        ctx.stopped().await;
        assert!(ctx.is_stopped());
        // a later call (next Terraform run in debug mode) is not stopped
        let later = s.context("1.11.4");
        assert!(!later.is_stopped());
        let never = Context::background();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(20), never.stopped()).await;
        assert!(waited.is_err(), "background context never stops");
    }
}
