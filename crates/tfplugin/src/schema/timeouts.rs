//! The `timeouts { create = "30m" }` block, built in because every cloud resource needs it
//! (terraform-plugin-framework ships it as a separate module; users keep asking).

use super::{Attribute, Block, NestedBlock};
use crate::value::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub use super::duration::{DurationError, parse_duration};

/// A `timeouts` SINGLE block with one optional duration-string attribute per operation.
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

/// Timeouts read from a resource value (config, plan or state).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeouts(BTreeMap<String, Duration>);

impl Timeouts {
    /// Reads the `timeouts` block of a whole resource value; absent/invalid entries are skipped
    /// (they were rejected at validate time).
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

    /// The timeout for `op`, or `default`.
    pub fn get(&self, op: &str, default: Duration) -> Duration {
        self.0.get(op).copied().unwrap_or(default)
    }

    /// Create timeout.
    pub fn create(&self, default: Duration) -> Duration {
        self.get("create", default)
    }
    /// Update timeout.
    pub fn update(&self, default: Duration) -> Duration {
        self.get("update", default)
    }
    /// Delete timeout.
    pub fn delete(&self, default: Duration) -> Duration {
        self.get("delete", default)
    }
    /// Read timeout.
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
