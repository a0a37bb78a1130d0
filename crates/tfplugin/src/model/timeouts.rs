//! [`TimeoutsModel`]: the `timeouts` block of [`crate::schema::timeouts::block`] in a model.

use super::Field;
use crate::schema::timeouts::parse_duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The `timeouts { create = "30m" … }` block as a model field: declare it as
/// `timeouts: Field<TimeoutsModel>` (the block is null when absent). It reads any set of
/// operations, so one type serves every resource whatever operations its block names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeoutsModel(BTreeMap<String, Field<String>>);

impl TimeoutsModel {
    /// The timeout configured for `op` (`"create"`, `"update"`, …), or `default` when it
    /// is unset, unknown or invalid (invalid durations were rejected at validate time).
    pub fn get(&self, op: &str, default: Duration) -> Duration {
        self.0
            .get(op)
            .and_then(Field::as_str)
            .and_then(|s| parse_duration(s).ok())
            .unwrap_or(default)
    }
}

/// The timeout for `op` from an optional block: `default` when the block is absent.
pub fn timeout(block: &Field<TimeoutsModel>, op: &str, default: Duration) -> Duration {
    block.known().map_or(default, |t| t.get(op, default))
}
