//! `moved` blocks across resource types: [`MoveStateRequest`] and [`MoveStateResult`].

use super::PrivateState;
use crate::diag::Diagnostics;
use crate::value::Value;

/// `MoveResourceState` input: a `moved { from = other_type.x  to = this_type.x }` block.
///
/// The source's state and identity come as the JSON Terraform stored, in the source type's
/// schema, which the framework does not know: the handler decides whether it can read them
/// (checking `source_type_name`, `source_provider_address` and the versions).
#[derive(Debug, Clone)]
pub struct MoveStateRequest {
    /// Source provider address, e.g. `"registry.terraform.io/clouddb/clouddb"`.
    pub source_provider_address: String,
    /// Source resource type.
    pub source_type_name: String,
    /// Schema version the source state was written with.
    pub source_schema_version: i64,
    /// Source state as JSON (the source type's schema).
    pub source_state: serde_json::Value,
    /// Source private state.
    pub source_private: PrivateState,
    /// Source identity as JSON (the source type's identity schema), when it had one.
    pub source_identity: Option<serde_json::Value>,
    /// Identity schema version the source identity was written with.
    pub source_identity_schema_version: i64,
}

/// `MoveResourceState` result.
#[derive(Debug, Clone, Default)]
pub struct MoveStateResult {
    /// State for the target type.
    pub target_state: Value,
    /// Private state for the target.
    pub target_private: PrivateState,
    /// Identity for the target (types with an identity schema); `None` leaves it to the
    /// read that follows.
    pub target_identity: Option<Value>,
    /// Warnings; an error fails the move and the source state is kept.
    pub diagnostics: Diagnostics,
}
