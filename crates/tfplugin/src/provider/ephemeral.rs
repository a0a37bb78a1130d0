//! [`EphemeralResource`]: a value Terraform opens, renews and closes but never stores.

use super::{Context, PrivateState};
use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;
use std::time::SystemTime;

/// Ephemeral open result.
#[derive(Debug, Clone, Default)]
pub struct OpenResult {
    /// The ephemeral value (conforms to the schema, wholly known).
    pub result: Value,
    /// Private data handed back to renew and close.
    pub private: PrivateState,
    /// When Terraform should call renew (`None`: never).
    pub renew_at: Option<SystemTime>,
    /// Warnings; an error fails the open and Terraform discards the value.
    pub diagnostics: Diagnostics,
}

/// Ephemeral renew result.
#[derive(Debug, Clone, Default)]
pub struct RenewResult {
    /// Updated private data.
    pub private: PrivateState,
    /// Next renew time (`None`: no more renewals).
    pub renew_at: Option<SystemTime>,
    /// Warnings; an error fails the renew (Terraform then closes the value).
    pub diagnostics: Diagnostics,
}

/// An ephemeral resource type (never stored in state or plan).
#[async_trait]
pub trait EphemeralResource<D: Send + Sync + 'static = ()>: Send + Sync + 'static {
    /// Type name, e.g. `"clouddb_credentials"`; starts with the provider's type name and `_`.
    fn type_name(&self) -> &'static str;
    /// The schema of the `ephemeral` block and its result. Called once, at start-up.
    fn schema(&self) -> Schema;
    /// Checks beyond the schema's validators; values may be unknown.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Opens: produces the value from a wholly known config.
    async fn open(
        &self,
        ctx: &Context,
        data: &D,
        config: &Value,
    ) -> Result<OpenResult, Diagnostics>;
    /// Renews before `renew_at`. Default: nothing to renew.
    async fn renew(
        &self,
        _ctx: &Context,
        _data: &D,
        private: PrivateState,
    ) -> Result<RenewResult, Diagnostics> {
        Ok(RenewResult {
            private,
            ..Default::default()
        })
    }
    /// Closes (revokes what open made). Default: nothing to close.
    async fn close(
        &self,
        _ctx: &Context,
        _data: &D,
        _private: PrivateState,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }
}
