//! Retry policy: capped exponential backoff with full jitter, honouring `Retry-After`, plus the
//! idempotency keys that make retrying a POST/PATCH/DELETE safe.
//!
//! Which errors are retried is decided by [`ApiError::is_retryable`](super::ApiError::is_retryable);
//! this module only decides *how long* to wait and *how often*.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = try once).
    pub max_retries: u32,
    /// Backoff before the first retry; doubles per attempt.
    pub base_delay: Duration,
    /// Ceiling of the computed backoff.
    pub max_delay: Duration,
    /// Ceiling of a server-sent `Retry-After`, so a hostile or buggy value cannot stall an apply for hours.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 8,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `attempt` (0-based). A server `Retry-After` wins (capped); otherwise
    /// `random(0.5..1.0) * min(max_delay, base * 2^attempt)` — jittered but never collapsing to zero.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_retry_after);
        }
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(20)));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        let jitter_ns = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let extra = if jitter_ns == 0 {
            0
        } else {
            random_u64() % jitter_ns
        };
        half + Duration::from_nanos(extra)
    }
}

/// The longest `Retry-After` [`parse_retry_after`] returns; larger values (and far-future dates) are
/// clamped to it. The retry policy caps it further ([`RetryPolicy::max_retry_after`]).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Parse a `Retry-After` header value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Never panics:
/// negative, NaN and infinite values and garbage are `None`; huge values are clamped to
/// [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() {
        // More digits than a u64 holds.
        return Some(MAX_RETRY_AFTER);
    }
    // Only plain decimal numbers ("0.5", "1e3"), not "inf"/"NaN"/"+Infinity".
    if v.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && let Ok(secs) = v.parse::<f64>()
    {
        if !secs.is_finite() || secs < 0.0 || v.starts_with('-') {
            return None;
        }
        return Duration::try_from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())).ok();
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// One `Idempotency-Key` per logical operation (a create, an update, a delete), reused by every retry of
/// that operation so the server commits it at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A fresh random key (UUIDv4-shaped).
    pub fn new() -> Self {
        let a = random_u64();
        let b = random_u64();
        let s = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            (a >> 32) as u32,
            (a >> 16) as u16,
            (a as u16) & 0x0fff,
            ((b >> 48) as u16 & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        );
        IdempotencyKey(s)
    }

    /// A key received from elsewhere (e.g. stored in private state).
    pub fn from_string(s: String) -> Self {
        IdempotencyKey(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for IdempotencyKey {
    fn default() -> Self {
        Self::new()
    }
}

/// Non-cryptographic randomness for jitter and keys, from std's randomly seeded SipHash.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    h.write_u128(now.as_nanos());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped_with_jitter() {
        let p = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(5),
        };
        for _ in 0..50 {
            let d0 = p.delay(0, None);
            assert!(
                d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100),
                "{d0:?}"
            );
            let d3 = p.delay(3, None);
            assert!(
                d3 >= Duration::from_millis(400) && d3 <= Duration::from_millis(800),
                "{d3:?}"
            );
            let d30 = p.delay(30, None);
            assert!(
                d30 >= Duration::from_millis(500) && d30 <= Duration::from_secs(1),
                "{d30:?}"
            );
        }
        // Jitter actually varies.
        let samples: std::collections::BTreeSet<_> = (0..20).map(|_| p.delay(4, None)).collect();
        assert!(samples.len() > 1);
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy {
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn parses_retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    /// No header value panics the parser, and whatever it returns is bounded.
    #[test]
    fn hostile_retry_after_values_never_panic() {
        let cap = Duration::from_secs(3600);
        let table: &[(&str, Option<Duration>)] = &[
            ("1e20", Some(cap)),
            ("1e308", Some(cap)),
            ("1.7976931348623157e308", Some(cap)),
            ("18446744073709551615", Some(cap)),
            ("18446744073709551616", Some(cap)),
            ("99999999999999999999999999999", Some(cap)),
            ("86400", Some(cap)),
            ("3600.5", Some(cap)),
            ("4e-400", Some(Duration::ZERO)),
            ("-1", None),
            ("-0.5", None),
            ("-1e20", None),
            ("NaN", None),
            ("nan", None),
            ("inf", None),
            ("-inf", None),
            ("infinity", None),
            ("+Infinity", None),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(Duration::ZERO)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(Duration::ZERO)),
            ("Fri, 31 Dec 9999 23:59:59 GMT", Some(cap)),
            ("Sunday, 06-Nov-94 08:49:37 GMT", Some(Duration::ZERO)),
            ("Sun Nov  6 08:49:37 1994", Some(Duration::ZERO)),
            ("Mon, 32 Foo 2024 99:99:99 GMT", None),
            ("", None),
            ("   ", None),
            ("1 2", None),
            ("0x10", None),
            ("5s", None),
            ("\u{663}", None),
            ("\u{0}\u{7f}\u{ff}\u{fffd}", None),
            ("1e", None),
            (".", None),
        ];
        for (value, want) in table {
            let got = std::panic::catch_unwind(|| parse_retry_after(value))
                .unwrap_or_else(|_| panic!("parse_retry_after({value:?}) panicked"));
            assert_eq!(got, *want, "Retry-After {value:?}");
        }
        // A date a few seconds ahead counts down from now.
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&soon).expect("future date");
        assert!(
            d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
            "{d:?}"
        );
    }

    #[test]
    fn idempotency_keys_are_unique_and_uuid_shaped() {
        let a = IdempotencyKey::new();
        let b = IdempotencyKey::new();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 36);
        assert_eq!(a.as_str().as_bytes()[14], b'4');
    }
}
