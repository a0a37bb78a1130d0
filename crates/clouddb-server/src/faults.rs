//! Scripted fault rules (admin API `/admin/faults`). Kept in memory only; `POST /admin/reset` or
//! `DELETE /admin/faults` clears them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, FieldViolation};

/// A rule as posted (every field but `kind` is optional; see docs/clouddb-api.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub millis: Option<u64>,
}

/// A stored rule with its id and how often it fired.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRule {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Remaining firings (`null` = unlimited).
    pub remaining: Option<u64>,
    pub hits: u64,
}

impl FaultRule {
    /// Counts one firing.
    fn fire(&mut self) {
        self.hits += 1;
        if let Some(n) = self.remaining.as_mut() {
            *n -= 1;
        }
    }
}

/// The error an injected failure answers with; 429 and 503 carry `Retry-After: 1` unless the rule
/// sets its own.
fn injected(status: u16, retry_after: Option<u64>) -> ApiError {
    ApiError::Injected {
        status,
        retry_after: retry_after.or_else(|| matches!(status, 429 | 503).then_some(1)),
    }
}

pub const KINDS: &[&str] = &[
    "fail",
    "random",
    "fail_operation",
    "drop_response",
    "not_found_after_create",
    "latency",
];

impl FaultSpec {
    /// Validates a posted rule.
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut v = Vec::new();
        if !KINDS.contains(&self.kind.as_str()) {
            v.push(FieldViolation::new(
                "kind",
                format!("must be one of {}", KINDS.join(", ")),
            ));
        }
        let status_ok = |s: u16| (400..=599).contains(&s);
        if let Some(s) = self.status
            && !status_ok(s)
        {
            v.push(FieldViolation::new("status", "must be 400..=599"));
        }
        if self.rate.is_some_and(|r| !(0.0..=1.0).contains(&r))
            || (self.kind == "random" && self.rate.is_none())
        {
            v.push(FieldViolation::new(
                "rate",
                "between 0 and 1 (required for random)",
            ));
        }
        if let Some(ss) = &self.statuses
            && (ss.is_empty() || !ss.iter().all(|s| status_ok(*s)))
        {
            v.push(FieldViolation::new(
                "statuses",
                "non-empty list of 400..=599",
            ));
        }
        if self.seconds.is_some_and(|s| !(0.0..=86_400.0).contains(&s))
            || (self.kind == "not_found_after_create" && self.seconds.is_none())
        {
            v.push(FieldViolation::new(
                "seconds",
                "between 0 and 86400 (required for not_found_after_create)",
            ));
        }
        if self.millis.is_some_and(|m| m > 60_000)
            || (self.kind == "latency" && self.millis.is_none())
        {
            v.push(FieldViolation::new(
                "millis",
                "at most 60000 (required for latency)",
            ));
        }
        if let Some(r) = self.retry_after
            && r > 86_400
        {
            v.push(FieldViolation::new("retry_after", "at most 86400"));
        }
        if v.is_empty() {
            Ok(())
        } else {
            Err(ApiError::violations(v))
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}

/// The active rules.
#[derive(Default)]
pub struct Faults {
    any: AtomicBool,
    next_id: AtomicU64,
    rules: Mutex<Vec<FaultRule>>,
}

/// What the fault layer should do with a request.
#[derive(Debug, Default)]
pub struct Decision {
    pub latency_ms: u64,
    pub fail: Option<ApiError>,
    pub drop_response: Option<u16>,
}

impl Faults {
    fn rules(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Relaxed)
    }

    pub fn add(&self, spec: FaultSpec) -> FaultRule {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let remaining = match spec.kind.as_str() {
            "fail" | "fail_operation" | "drop_response" => Some(spec.count.unwrap_or(1)),
            _ => spec.count,
        };
        let rule = FaultRule {
            id,
            spec,
            remaining,
            hits: 0,
        };
        let mut rules = self.rules();
        rules.push(rule.clone());
        self.any.store(true, Ordering::Relaxed);
        rule
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules().clone()
    }

    pub fn clear(&self) {
        self.rules().clear();
        self.any.store(false, Ordering::Relaxed);
    }

    pub fn remove(&self, id: u64) -> bool {
        let mut rules = self.rules();
        let before = rules.len();
        rules.retain(|r| r.id != id);
        self.any.store(!rules.is_empty(), Ordering::Relaxed);
        rules.len() != before
    }

    /// Takes one firing of the first matching rule of `kind`.
    fn take(&self, kind: &str, method: &str, path: &str) -> Option<FaultSpec> {
        if self.is_empty() {
            return None;
        }
        let mut rules = self.rules();
        let r = rules.iter_mut().find(|r| {
            r.spec.kind == kind && r.remaining != Some(0) && r.spec.matches(method, path)
        })?;
        r.fire();
        Some(r.spec.clone())
    }

    /// Decides latency, failure and response dropping for a public request.
    pub fn decide(&self, method: &str, path: &str) -> Decision {
        let mut d = Decision::default();
        if self.is_empty() {
            return d;
        }
        {
            let mut rules = self.rules();
            for r in rules.iter_mut() {
                if r.spec.kind == "latency"
                    && r.remaining != Some(0)
                    && r.spec.matches(method, path)
                {
                    d.latency_ms = d
                        .latency_ms
                        .saturating_add(r.spec.millis.unwrap_or(0))
                        .min(60_000);
                    r.fire();
                }
            }
        }
        if let Some(spec) = self.take("fail", method, path) {
            d.fail = Some(injected(spec.status.unwrap_or(503), spec.retry_after));
            return d;
        }
        {
            let mut rules = self.rules();
            for r in rules.iter_mut() {
                if r.spec.kind == "random"
                    && r.remaining != Some(0)
                    && r.spec.matches(method, path)
                    && crate::util::rand_f64() < r.spec.rate.unwrap_or(0.0)
                {
                    let statuses = r
                        .spec
                        .statuses
                        .clone()
                        .unwrap_or_else(|| vec![500, 503, 429]);
                    let idx = (crate::util::rand_u64() % statuses.len().max(1) as u64) as usize;
                    let status = statuses.get(idx).copied().unwrap_or(503);
                    r.fire();
                    d.fail = Some(injected(status, r.spec.retry_after));
                    return d;
                }
            }
        }
        if let Some(spec) = self.take("drop_response", method, path) {
            d.drop_response = Some(spec.status.unwrap_or(502));
        }
        d
    }

    /// Whether the operation started by this request should fail (consumes one firing).
    pub fn take_fail_operation(&self, method: &str, path: &str) -> bool {
        self.take("fail_operation", method, path).is_some()
    }

    /// The longest not-found-after-create window (ms) applying to `path`, if any.
    pub fn not_found_window_ms(&self, path: &str) -> Option<i64> {
        if self.is_empty() {
            return None;
        }
        let rules = self.rules();
        rules
            .iter()
            .filter(|r| {
                r.spec.kind == "not_found_after_create"
                    && r.spec
                        .path_prefix
                        .as_deref()
                        .is_none_or(|p| path.starts_with(p))
            })
            .map(|r| (r.spec.seconds.unwrap_or(0.0) * 1000.0) as i64)
            .max()
    }
}
