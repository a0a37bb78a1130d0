//! The `timeouts { create = "30m" }` block, built in because every cloud resource needs it
//! (terraform-plugin-framework ships it as a separate module; users keep asking).

use super::{Attribute, Block, NestedBlock};
use crate::value::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A duration string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (use e.g. \"30s\", \"45m\", \"1h30m\")")]
pub struct DurationError {
    /// The input.
    pub input: String,
    /// Why.
    pub reason: &'static str,
}

/// Parses Go-style durations: `"30m"`, `"1h30m"`, `"45s"`, `"1.5h"`, `"250ms"`.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: s.to_string(),
        reason,
    };
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(err("empty"));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| err("missing unit"))?;
        if num_len == 0 {
            return Err(err("expected a number"));
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| err("bad number"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return Err(err("unknown unit")),
        };
        rest = &rest[unit_len..];
        total += n * secs;
    }
    if !total.is_finite() || total > 1e12 {
        return Err(err("too large"));
    }
    Ok(Duration::from_secs_f64(total))
}

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
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("5y").is_err());
    }

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
