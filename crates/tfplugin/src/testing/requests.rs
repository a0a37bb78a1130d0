//! Requests for the resource RPCs, built the way Terraform builds them.

use super::values::dynamic_value;
use crate::proto::tfplugin6 as pb;
use crate::schema::Schema;
use crate::value::{Type, Value};

/// The client capabilities a current Terraform announces: deferrals and write-only
/// attributes allowed (Terraform 1.0.3 sends none, which means both are not allowed).
pub fn client_capabilities() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: true,
        write_only_attributes_allowed: true,
        ..Default::default()
    })
}

/// Terraform's proposed new state for `config` over `prior` (`objchange.ProposedNew`,
/// simplified to top-level attributes): the configuration, with the prior value of every
/// top-level computed attribute of `schema` that the configuration leaves null. With a null
/// `prior` (a create) it is the configuration itself. Nested attributes and blocks are taken
/// from config as they are; a null `config` (destroy) gives null.
pub fn proposed_new_state(schema: &Schema, prior: &Value, config: &Value) -> Value {
    if prior.is_null() {
        return config.clone();
    }
    let mut out = config.clone();
    for a in &schema.block.attributes {
        if a.computed && config.get(&a.name).is_null() {
            out.set_attr(a.name.clone(), prior.get(&a.name).clone());
        }
    }
    out
}

/// A `PlanResourceChange` request for `type_name` whose values are of type `ty` (msgpack);
/// no client capabilities (so like Terraform 1.0.3: no deferral, no write-only), no
/// provider_meta. A null `proposed` plans a destroy.
///
/// # Panics
/// If a value does not conform to `ty`.
pub fn plan(
    type_name: &str,
    ty: &Type,
    prior: &Value,
    proposed: &Value,
    config: &Value,
    prior_private: Vec<u8>,
) -> pb::plan_resource_change::Request {
    pb::plan_resource_change::Request {
        type_name: type_name.into(),
        prior_state: dynamic_value(ty, prior),
        proposed_new_state: dynamic_value(ty, proposed),
        config: dynamic_value(ty, config),
        prior_private,
        ..Default::default()
    }
}

/// An `ApplyResourceChange` request for `type_name` whose values are of type `ty`
/// (msgpack). A null `planned` state is a delete (a null `prior` a create); no provider_meta.
///
/// # Panics
/// If a value does not conform to `ty`.
pub fn apply(
    type_name: &str,
    ty: &Type,
    prior: &Value,
    planned: &Value,
    config: &Value,
    planned_private: Vec<u8>,
) -> pb::apply_resource_change::Request {
    pb::apply_resource_change::Request {
        type_name: type_name.into(),
        prior_state: dynamic_value(ty, prior),
        planned_state: dynamic_value(ty, planned),
        config: dynamic_value(ty, config),
        planned_private,
        ..Default::default()
    }
}

/// A `ReadResource` request for `type_name` with the current `state` (of type `ty`,
/// msgpack) and its `private` bytes; no client capabilities, no provider_meta. A response
/// with a null new state means the object is gone.
///
/// # Panics
/// If `state` does not conform to `ty`.
pub fn read(
    type_name: &str,
    ty: &Type,
    state: &Value,
    private: Vec<u8>,
) -> pb::read_resource::Request {
    pb::read_resource::Request {
        type_name: type_name.into(),
        current_state: dynamic_value(ty, state),
        private,
        ..Default::default()
    }
}
