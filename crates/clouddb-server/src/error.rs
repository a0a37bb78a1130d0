//! The API error enum and its RFC 9457 `application/problem+json` rendering.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

tokio::task_local! {
    /// The request id of the request being served (set by the context middleware).
    pub static REQUEST_ID: String;
}

/// Current request id, or an empty string outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(|s| s.clone()).unwrap_or_default()
}

/// One entry of `field_violations`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Every error the API answers with. Each variant's doc names its status and `reason`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400, reason `INVALID_ARGUMENT` (or a more specific reason), with field violations.
    #[error("{detail}")]
    Invalid {
        reason: &'static str,
        detail: String,
        violations: Vec<FieldViolation>,
    },
    /// 401 `UNAUTHENTICATED`.
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    /// 404 `NOT_FOUND`.
    #[error("{0}")]
    NotFound(String),
    /// 405 `METHOD_NOT_ALLOWED`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `ALREADY_EXISTS`.
    #[error("{0}")]
    AlreadyExists(String),
    /// 409 with the given reason (`OPERATION_IN_PROGRESS`, `DELETION_PROTECTED`, `FAILED_PRECONDITION`, ...).
    #[error("{detail}")]
    Conflict {
        reason: &'static str,
        detail: String,
        retryable: bool,
    },
    /// 409 `QUOTA_EXCEEDED`: a per-instance limit of sub-resources is reached (not retryable).
    #[error("{0}")]
    QuotaExceeded(String),
    /// 412 `PRECONDITION_FAILED`.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413 `PAYLOAD_TOO_LARGE`.
    #[error("request body larger than 1 MiB")]
    PayloadTooLarge,
    /// 422 `IDEMPOTENCY_KEY_REUSED`.
    #[error("the Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// 429 `RATE_LIMITED` with Retry-After.
    #[error("rate limit exceeded")]
    RateLimited { retry_after: u64 },
    /// An injected fault: any status, optional Retry-After.
    #[error("injected fault")]
    Injected {
        status: u16,
        retry_after: Option<u64>,
    },
    /// 500 `INTERNAL`: storage failure (logged, never shown in detail).
    #[error("storage error: {0}")]
    Store(#[from] rusqlite::Error),
    /// 500 `INTERNAL`.
    #[error("internal error: {0}")]
    Internal(String),
    /// 500 `ENGINE_ERROR`: the real database engine behind the instance (`--engines real`) refused
    /// or failed the change; nothing was recorded. The detail is the engine's error (no secrets).
    #[error("{0}")]
    Engine(String),
}

pub type ApiResult<T, E = ApiError> = Result<T, E>;

impl ApiError {
    /// A 400 naming one field.
    pub fn field(field: impl Into<String>, description: impl Into<String>) -> Self {
        let v = FieldViolation::new(field, description);
        Self::Invalid {
            reason: "INVALID_ARGUMENT",
            detail: format!("{}: {}", v.field, v.description),
            violations: vec![v],
        }
    }

    /// A 400 with a specific reason naming one field.
    pub fn field_reason(
        reason: &'static str,
        field: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        let v = FieldViolation::new(field, description);
        Self::Invalid {
            reason,
            detail: format!("{}: {}", v.field, v.description),
            violations: vec![v],
        }
    }

    /// A 400 from a list of violations (which must not be empty).
    pub fn violations(violations: Vec<FieldViolation>) -> Self {
        let detail = violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        Self::Invalid {
            reason: "INVALID_ARGUMENT",
            detail,
            violations,
        }
    }

    pub fn busy(what: &str) -> Self {
        Self::Conflict {
            reason: "OPERATION_IN_PROGRESS",
            detail: format!("another operation is in progress on {what}; retry later"),
            retryable: true,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::AlreadyExists(_) | Self::Conflict { .. } | Self::QuotaExceeded(_) => {
                StatusCode::CONFLICT
            }
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Injected { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
            Self::Store(_) | Self::Internal(_) | Self::Engine(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Self::Invalid { reason, .. } => reason,
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::NotFound(_) => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::AlreadyExists(_) => "ALREADY_EXISTS",
            Self::QuotaExceeded(_) => "QUOTA_EXCEEDED",
            Self::Conflict { reason, .. } => reason,
            Self::PreconditionFailed(_) => "PRECONDITION_FAILED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Injected { status, .. } => reason_for_status(*status),
            Self::Store(_) | Self::Internal(_) => "INTERNAL",
            Self::Engine(_) => "ENGINE_ERROR",
        }
    }

    pub fn retryable(&self) -> bool {
        match self {
            Self::Conflict { retryable, .. } => *retryable,
            Self::RateLimited { .. } | Self::Store(_) | Self::Internal(_) => true,
            Self::Injected { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            Self::Injected { retry_after, .. } => *retry_after,
            Self::Conflict {
                retryable: true, ..
            } => Some(1),
            _ => None,
        }
    }

    fn public_detail(&self) -> String {
        match self {
            Self::Store(_) | Self::Internal(_) => "internal error; retry later".to_string(),
            Self::Injected { status, .. } => format!("injected fault (status {status})"),
            other => other.to_string(),
        }
    }

    /// The problem object (also used as an operation's `error`).
    pub fn problem(&self) -> Value {
        let status = self.status();
        let mut p = json!({
            "type": format!("urn:clouddb:problem:{}", self.reason().to_ascii_lowercase().replace('_', "-")),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.public_detail(),
            "reason": self.reason(),
            "retryable": self.retryable(),
            "request_id": current_request_id(),
        });
        if let Self::Invalid { violations, .. } = self {
            p["field_violations"] = json!(violations);
        }
        p
    }
}

/// The reason used for a bare status (injected faults and framework rejections).
pub fn reason_for_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        409 => "CONFLICT",
        412 => "PRECONDITION_FAILED",
        413 => "PAYLOAD_TOO_LARGE",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        422 => "UNPROCESSABLE",
        429 => "RATE_LIMITED",
        500 => "INTERNAL",
        502 => "BAD_GATEWAY",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INJECTED_FAULT",
    }
}

/// Builds a problem+json response from a problem object and status.
pub fn problem_response(status: StatusCode, body: &Value, retry_after: Option<u64>) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(s) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"clouddb\""),
        );
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self, Self::Store(_) | Self::Internal(_)) {
            tracing::error!(error = %self, "internal error");
        }
        problem_response(self.status(), &self.problem(), self.retry_after())
    }
}
