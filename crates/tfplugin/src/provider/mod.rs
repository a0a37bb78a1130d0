//! The traits a provider implements, and their request and result types.
//!
//! A provider is a [`Provider`] (its configuration block and `configure`) plus one
//! implementation per type: [`Resource`], [`DataSource`], [`Function`],
//! [`EphemeralResource`], [`ListResource`], [`Action`]. The framework does the protocol work around
//! these calls: decoding values with the schema's type, running validators, the
//! declarative plan (defaults, plan modifiers, the computed-unknown rule,
//! `requires_replace`), and checking what a handler returns against the plan before
//! Terraform sees it (see [`crate::engine`]).
//!
//! # Provider data
//!
//! `configure` returns the provider's [`Provider::Data`] (typically an API client). The
//! framework keeps it and hands `&Data` to every handler that talks to the API, so no type
//! re-implements "not configured yet": the framework answers for them.
//!
//! * Before `ConfigureProvider`, or after it failed, API handlers are not called; the RPC
//!   gets an error diagnostic.
//! * When the provider block holds values known only after apply (it references another
//!   resource), `configure` is not called and the configuration is *unknown*: plans go on
//!   (`modify_plan` gets `None`), a refresh keeps each object's state as it is with a
//!   warning, and creates, updates, deletes, imports and data source reads fail with an
//!   error naming the unknown settings.
//!
//! # Handlers and `?`
//!
//! Handlers return `Result<_, Diagnostics>`, so `?` works on anything that converts into
//! [`Diagnostics`] (a [`Diagnostic`], a [`crate::model::ModelError`], …). An `Err` means
//! "nothing changed": the framework keeps the prior state (update, delete, read) or records
//! nothing (create, import). To report an error *and* a new state — the create that the API
//! accepted but that failed later — return `Ok` with a result carrying both (e.g.
//! [`ApplyResult::partial`]).
//!
//! Every handler gets a [`Context`] whose stop signal fires when Terraform sends
//! `StopProvider` (Ctrl-C), so long waits can end early.

mod action;
mod context;
mod data_source;
mod ephemeral;
mod function;
mod import;
mod list;
mod move_state;
mod private;
mod resource;

pub use action::{Action, Progress};
pub use context::{Context, StopSignal};
pub use data_source::{DataReadResult, DataSource};
pub use ephemeral::{EphemeralResource, OpenResult, RenewResult};
pub use function::{Function, FunctionError, Parameter, Signature};
pub use import::{ImportBy, ImportRequest, ImportResult};
pub use list::{ListItem, ListRequest, ListResource, ListStream};
pub use move_state::{MoveStateRequest, MoveStateResult};
pub use private::{PrivateState, PrivateStateError};
pub use resource::{
    ApplyResult, CreateRequest, DeleteRequest, PlanRequest, PlanResponse, ReadRequest, ReadResult,
    Resource, UpdateRequest,
};

use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;
use std::sync::Arc;

/// `ConfigureProvider` input.
#[derive(Debug, Clone)]
pub struct ConfigureRequest {
    /// The provider configuration, wholly known (see the module docs for the unknown case).
    pub config: Value,
    /// Terraform's version, e.g. `"1.11.4"`.
    pub terraform_version: String,
}

/// A Terraform provider: the `provider "…" {}` block and the types it serves.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What `configure` produces and every API handler receives (an API client, say).
    type Data: Send + Sync + 'static;

    /// Provider type name, e.g. `"clouddb"`; resource type names start with it and `_`.
    fn type_name(&self) -> &'static str;

    /// The `provider "…" {}` block schema.
    fn schema(&self) -> Schema;

    /// Checks of the provider configuration beyond the schema's validators (which already
    /// ran). Called by `terraform validate` and before every plan; values may be unknown and
    /// must then be accepted. Nothing has been configured yet.
    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Builds the provider's data from a wholly known configuration. Called once per
    /// Terraform command, before any call that needs [`Provider::Data`]. An `Err` leaves the
    /// provider unconfigured, and Terraform stops.
    async fn configure(
        &self,
        ctx: &Context,
        req: ConfigureRequest,
    ) -> Result<Self::Data, Diagnostics>;

    /// Managed resource types. Called once, at start-up.
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Data>>>;

    /// Data source types. Called once, at start-up.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Data>>> {
        Vec::new()
    }

    /// Provider functions. They get no provider data: Terraform may call them before
    /// (or without) configuring the provider.
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }

    /// Ephemeral resource types. Called once, at start-up.
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Self::Data>>> {
        Vec::new()
    }

    /// List resource types (`terraform query`). Called once, at start-up.
    fn list_resources(&self) -> Vec<Arc<dyn ListResource<Self::Data>>> {
        Vec::new()
    }

    /// Action types (`action` blocks, Terraform ≥ 1.14). Called once, at start-up.
    fn actions(&self) -> Vec<Arc<dyn Action<Self::Data>>> {
        Vec::new()
    }
}

/// The default answer of a handler a type does not implement.
pub(crate) fn unsupported(what: &str, type_name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("{what} not supported"),
        format!(
            "The type {type_name} does not support {}.",
            what.to_lowercase()
        ),
    )
    .into()
}
