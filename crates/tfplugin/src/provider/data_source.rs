//! [`DataSource`]: a type that reads something from the API without managing it.

use super::Context;
use crate::diag::Diagnostics;
use crate::model::ModelError;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;
use serde::Serialize;

/// A data source type.
#[async_trait]
pub trait DataSource<D: Send + Sync + 'static = ()>: Send + Sync + 'static {
    /// Type name, e.g. `"clouddb_instance"`.
    fn type_name(&self) -> &'static str;

    /// The data source's schema (arguments and computed results). Called once, at start-up.
    fn schema(&self) -> Schema;

    /// Checks beyond the schema's validators; values may be unknown.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Reads. The config is wholly known. The result must be wholly known, keep every
    /// configured value as given and fill in the computed ones; the framework checks it.
    async fn read(
        &self,
        ctx: &Context,
        data: &D,
        config: &Value,
    ) -> Result<DataReadResult, Diagnostics>;
}

/// Data source read result.
#[derive(Debug, Clone, Default)]
pub struct DataReadResult {
    /// The full object (config values kept as given, computed ones filled in).
    pub state: Value,
    /// Warnings (errors here fail the read like an `Err`).
    pub diagnostics: Diagnostics,
}

impl DataReadResult {
    /// The object read, from a model.
    pub fn from_model<M: Serialize + ?Sized>(m: &M) -> Result<Self, ModelError> {
        Ok(DataReadResult {
            state: Value::from_model(m)?,
            diagnostics: Diagnostics::new(),
        })
    }
}
