//! Provider functions (`provider::clouddb::NAME(...)`, Terraform 1.8+): pure computations on their
//! arguments, never an API call (Terraform may call them before configuring the provider, during
//! validate, plan and apply, any number of times).
//!
//! - [`connection_uri`]: `connection_uri(engine, host, port, database, user)` → a client URI.
//! - [`parse_tier`]: `parse_tier(name)` → `{vcpus, memory_gb, max_storage_gb}` from the tier
//!   catalogue built into the provider ([`parse_tier::TIER_CATALOGUE`]).
//!
//! Errors are [`FunctionError`]s naming the offending argument by its 0-based position, so
//! Terraform points at that argument in the call.

pub mod connection_uri;
pub mod parse_tier;

use std::sync::Arc;

use tfplugin::provider::{Function, FunctionError};

/// Every function the provider serves.
pub fn all() -> Vec<Arc<dyn Function>> {
    vec![
        Arc::new(connection_uri::ConnectionUri),
        Arc::new(parse_tier::ParseTier),
    ]
}

/// An error about argument `index` (0-based). Terraform shows it as `Invalid value for "NAME"
/// parameter: TEXT`, pointing at that argument, so the text says what is wrong, not where.
pub(crate) fn arg_error(index: i64, text: impl std::fmt::Display) -> FunctionError {
    FunctionError {
        text: text.to_string(),
        argument: Some(index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry page of a function is its signature's text: none may be blank.
    #[test]
    fn every_function_and_parameter_is_described() {
        for f in all() {
            let sig = f.signature();
            assert!(!sig.summary.trim().is_empty(), "{}: summary", f.name());
            assert!(
                !sig.description.trim().is_empty(),
                "{}: description",
                f.name()
            );
            for p in &sig.parameters {
                assert!(!p.description.trim().is_empty(), "{}({})", f.name(), p.name);
            }
        }
    }
}
