//! [`ListResource`]: enumerates existing objects of a managed type (`terraform query`).

use super::Context;
use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;

/// One item found by a list resource.
#[derive(Debug, Clone, Default)]
pub struct ListItem {
    /// Human-readable name.
    pub display_name: String,
    /// Identity of the found object (conforms to the resource's identity schema).
    pub identity: Value,
    /// Full resource object, when requested with `include_resource`.
    pub resource_object: Option<Value>,
    /// Problems with this item.
    pub diagnostics: Diagnostics,
}

/// A list resource: enumerates objects of the managed type of the same name.
#[async_trait]
pub trait ListResource<D: Send + Sync + 'static = ()>: Send + Sync + 'static {
    /// The managed resource type it lists.
    fn type_name(&self) -> &'static str;
    /// Schema of the `list` block's `config`.
    fn schema(&self) -> Schema;
    /// Lists at most `limit` objects; with `include_resource`, each item carries the full
    /// resource object.
    async fn list(
        &self,
        ctx: &Context,
        data: &D,
        config: &Value,
        include_resource: bool,
        limit: i64,
    ) -> Result<Vec<ListItem>, Diagnostics>;
}
