//! The `timeouts { create = "30m" }` block, built in because every cloud resource needs it
//! (terraform-plugin-framework ships it as a separate module; users keep asking).

use super::{Attribute, Block, NestedBlock};
use crate::value::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub use super::duration::{DurationError, parse_duration};

/// A `timeouts` SINGLE block with one optional string attribute per operation, each with the
/// [`duration`](super::validators::duration) validator; null when the user omits the block.
/// Names are not checked here (see [`Schema::check`](super::Schema::check)).
pub fn block(operations: &[&str]) -> NestedBlock {
    let mut b = Block::new().description("Per-operation timeouts, e.g. `create = \"30m\"`.");
    for op in operations {
        b = b.attribute(
            Attribute::string(*op)
                .optional()
                .validator(super::validators::duration())
                .description(format!(
                    "How long to wait for {op} to finish, as a duration string like `\"30m\"` or `\"1h30m\"`."
                )),
        );
    }
    NestedBlock::single("timeouts", b)
}

/// Timeouts read from a resource value (config, plan or state); operations that were not
/// set fall back to the caller's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeouts(BTreeMap<String, Duration>);

impl Timeouts {
    /// Reads the `timeouts` attribute of a whole resource value. A missing or null block,
    /// null or unknown entries and unparsable strings are skipped (invalid ones were already
    /// rejected at validate time), so this never fails.
    pub fn from_config(resource: &Value) -> Self {
        let mut out = BTreeMap::new();
        if let Some(m) = resource.get("timeouts").as_map() {
            for (k, v) in m {
                if let Some(d) = v.as_str().and_then(|s| parse_duration(s).ok()) {
                    out.insert(k.clone(), d);
                }
            }
        }
        Timeouts(out)
    }

    /// The timeout configured for `op`, or `default` when it was not set (or not valid).
    pub fn get(&self, op: &str, default: Duration) -> Duration {
        self.0.get(op).copied().unwrap_or(default)
    }

    /// The `create` timeout, or `default`.
    pub fn create(&self, default: Duration) -> Duration {
        self.get("create", default)
    }
    /// The `update` timeout, or `default`.
    pub fn update(&self, default: Duration) -> Duration {
        self.get("update", default)
    }
    /// The `delete` timeout, or `default`.
    pub fn delete(&self, default: Duration) -> Duration {
        self.get("delete", default)
    }
    /// The `read` timeout, or `default`.
    pub fn read(&self, default: Duration) -> Duration {
        self.get("read", default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_config() {
        let v = Value::object([(
            "timeouts",
            Value::object([("create", Value::from("10m")), ("delete", Value::Null)]),
        )]);
        let t = Timeouts::from_config(&v);
        assert_eq!(t.create(Duration::from_secs(1)), Duration::from_secs(600));
        assert_eq!(t.delete(Duration::from_secs(7)), Duration::from_secs(7));
    }
}
