//! Errors of the CloudDB REST client.
//!
//! An [`ApiError`] keeps everything a user needs to report a failure: the HTTP status, the API's stable
//! `reason`, the `X-Request-Id` and any field violations. [`ApiError::detail`] renders them for a Terraform
//! diagnostic.

use std::fmt::Write as _;
use std::time::Duration;

use super::types::{FieldViolation, Problem};

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error status (problem+json body, or whatever it sent).
    #[error("{0}")]
    Status(Box<StatusError>),
    /// No HTTP response: connection refused or reset, DNS, TLS, timeout, dropped response;
    /// `failure` says which, for which endpoint, and what to check.
    #[error("{failure} (while calling {method} {path})")]
    Transport {
        method: String,
        path: String,
        failure: super::transport::TransportFailure,
        #[source]
        source: reqwest::Error,
    },
    /// The response arrived but its body was not what the API contract says.
    #[error("{method} {path}: cannot decode response (request id {request_id:?}): {message}")]
    Decode {
        method: String,
        path: String,
        request_id: Option<String>,
        message: String,
    },
    /// An asynchronous operation finished with an error.
    #[error("operation {operation_id} failed: {}", problem_summary(.problem))]
    OperationFailed {
        operation_id: String,
        problem: Box<Problem>,
    },
    /// The API answered with a redirect, which the client never follows.
    #[error(
        "{method} {path}: the API answered HTTP {status} redirecting to {location}; redirects are not \
         followed (they would re-send the token and request bodies, passwords included). Set the \
         provider's `endpoint` to the API's actual base URL."
    )]
    Redirect {
        method: String,
        path: String,
        status: u16,
        /// Where it pointed, without credentials or query.
        location: String,
    },
    /// Terraform asked the provider to stop while the request waited for the rate limiter: it was
    /// never sent.
    #[error(
        "{method} {path}: not sent: Terraform asked the provider to stop while it waited for the rate limiter"
    )]
    Stopped { method: String, path: String },
    /// The client could not be built from its configuration.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

/// Details of an error answer ([`ApiError::Status`]).
#[derive(Debug, thiserror::Error)]
#[error("{method} {path}: HTTP {status} {reason}: {message}")]
pub struct StatusError {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Stable UPPER_SNAKE reason (`OPERATION_IN_PROGRESS`, `NOT_FOUND`, ...); empty when absent.
    pub reason: String,
    pub message: String,
    /// `X-Request-Id` response header (or the problem's `request_id`).
    pub request_id: Option<String>,
    pub field_violations: Vec<FieldViolation>,
    /// The server's `retryable` hint.
    pub retryable: bool,
    /// Parsed `Retry-After` header.
    pub retry_after: Option<Duration>,
}

fn problem_summary(p: &Problem) -> String {
    let mut s = String::new();
    if !p.reason.is_empty() {
        let _ = write!(s, "{}: ", p.reason);
    }
    if !p.detail.is_empty() {
        s.push_str(&p.detail);
    } else if !p.title.is_empty() {
        s.push_str(&p.title);
    } else {
        s.push_str("unknown error");
    }
    s
}

impl ApiError {
    /// HTTP status of an API answer (`None` for transport/decode/config errors).
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status(e) => Some(e.status),
            ApiError::OperationFailed { problem, .. } if problem.status != 0 => {
                Some(problem.status)
            }
            _ => None,
        }
    }

    /// Stable reason string of the API (`""` when none).
    pub fn reason(&self) -> &str {
        match self {
            ApiError::Status(e) => &e.reason,
            ApiError::OperationFailed { problem, .. } => &problem.reason,
            _ => "",
        }
    }

    /// The request id to quote in bug reports.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Status(e) => e.request_id.as_deref(),
            ApiError::Decode { request_id, .. } => request_id.as_deref(),
            ApiError::OperationFailed { problem, .. } if !problem.request_id.is_empty() => {
                Some(&problem.request_id)
            }
            _ => None,
        }
    }

    /// Field violations named by a validation error.
    pub fn field_violations(&self) -> &[FieldViolation] {
        match self {
            ApiError::Status(e) => &e.field_violations,
            ApiError::OperationFailed { problem, .. } => &problem.field_violations,
            _ => &[],
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether this error is worth another attempt of the same request: whatever the server marks
    /// `retryable` in its problem body, 429, 5xx, connection errors, 409 OPERATION_IN_PROGRESS and
    /// 409 IDEMPOTENCY_KEY_IN_USE (the first request with this key is still running). Other 4xx are
    /// final.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Status(e) => {
                e.retryable
                    || e.status == 429
                    || e.status >= 500
                    || (e.status == 409
                        && matches!(
                            e.reason.as_str(),
                            "OPERATION_IN_PROGRESS" | "IDEMPOTENCY_KEY_IN_USE"
                        ))
            }
            ApiError::Transport { .. } => true,
            _ => false,
        }
    }

    /// Whether the write that failed with this error (a create, an update) may still have
    /// happened: the error is one the client retries (so giving up — budget, deadline or stop —
    /// says nothing about the server), no answer arrived, or a 2xx arrived that could not be
    /// decoded. The caller then finds out (`Client::for_lookup`) instead of reporting "not done".
    pub fn outcome_unknown(&self) -> bool {
        self.is_retryable() || matches!(self, ApiError::Transport { .. } | ApiError::Decode { .. })
    }

    /// The most retries this error is worth, when fewer than the policy's: a refused
    /// connection, an unknown host or a TLS failure is a configuration problem
    /// ([`TransportKind::max_retries`](super::transport::TransportKind::max_retries)).
    pub fn retry_cap(&self) -> Option<u32> {
        match self {
            ApiError::Transport { failure, .. } => failure.kind.max_retries(),
            _ => None,
        }
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status(e) => e.retry_after,
            _ => None,
        }
    }

    /// Multi-line text for a diagnostic's detail: message, status/reason, field violations, request id.
    pub fn detail(&self) -> String {
        let mut s = self.to_string();
        for v in self.field_violations() {
            let _ = write!(s, "\n  - {}: {}", v.field, v.description);
        }
        if let Some(id) = self.request_id() {
            let _ = write!(s, "\n(request id: {id})");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, reason: &str) -> ApiError {
        ApiError::Status(Box::new(StatusError {
            method: "GET".into(),
            path: "/v1/x".into(),
            status,
            reason: reason.into(),
            message: "m".into(),
            request_id: Some("req-1".into()),
            field_violations: vec![FieldViolation {
                field: "storage_gb".into(),
                description: "too small".into(),
            }],
            retryable: false,
            retry_after: None,
        }))
    }

    #[test]
    fn retry_classification() {
        assert!(status(429, "RATE_LIMITED").is_retryable());
        assert!(status(503, "").is_retryable());
        assert!(status(500, "").is_retryable());
        assert!(status(409, "OPERATION_IN_PROGRESS").is_retryable());
        assert!(status(409, "IDEMPOTENCY_KEY_IN_USE").is_retryable());
        let mut flagged = status(409, "SOMETHING_NEW");
        if let ApiError::Status(e) = &mut flagged {
            e.retryable = true;
        }
        assert!(flagged.is_retryable());
        assert!(!status(409, "ALREADY_EXISTS").is_retryable());
        assert!(!status(412, "PRECONDITION_FAILED").is_retryable());
        assert!(!status(400, "INVALID_ARGUMENT").is_retryable());
        assert!(!status(404, "NOT_FOUND").is_retryable());
    }

    #[test]
    fn detail_names_request_id_and_fields() {
        let d = status(400, "INVALID_ARGUMENT").detail();
        assert!(d.contains("req-1"), "{d}");
        assert!(d.contains("storage_gb: too small"), "{d}");
        assert!(d.contains("HTTP 400 INVALID_ARGUMENT"), "{d}");
    }
}
