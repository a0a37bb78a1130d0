//! Go-style duration strings (`"30m"`, `"1h30m"`), as Terraform users write them in `timeouts`
//! blocks and provider settings. Re-exported as `schema::timeouts::{parse_duration, DurationError}`.

use std::time::Duration;

/// A duration string could not be parsed; its message suggests valid forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (use e.g. \"30s\", \"45m\", \"1h30m\")")]
pub struct DurationError {
    /// The input, untrimmed.
    pub input: String,
    /// Why: `"empty"`, `"missing unit"`, `"expected a number"`, `"bad number"`,
    /// `"unknown unit"` or `"too large"`.
    pub reason: &'static str,
}

/// Parses Go-style durations: `"30m"`, `"1h30m"`, `"45s"`, `"1.5h"`, `"250ms"`: one or more decimal
/// numbers each followed by a unit (`h`, `m`, `s`, `ms`, `us`/`µs`, `ns`), or a bare `"0"`; surrounding
/// whitespace is ignored. Unlike Go's `time.ParseDuration`, signs are not accepted (durations are
/// never negative).
///
/// # Errors
/// Never panics; errors on an empty string, a missing or unknown unit, a malformed number, or more
/// than 10¹² seconds.
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
}
