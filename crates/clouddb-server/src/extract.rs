//! Request-body extractors whose rejection is the API's problem+json ([`ApiError`]).
//!
//! Every handler that reads a JSON body takes one of these instead of raw bytes:
//! - [`ApiJson<T>`]: a JSON object deserialized into `T`; `Option<ApiJson<T>>` also accepts an empty
//!   body (then `None`); `Result<ApiJson<T>, ApiError>` lets a handler report path-level errors
//!   (404, 409) before body errors.
//! - [`MergePatch`]: a JSON object with `null`s kept (RFC 7396 merge patches).
//!
//! The `Content-Type` header is not checked (clients may omit it). Rejections, all
//! `application/problem+json`:
//! - 413 `PAYLOAD_TOO_LARGE` when the body exceeds [`crate::MAX_BODY`];
//! - 400 `INVALID_ARGUMENT` with one field violation: `body` for an empty, malformed or non-object
//!   body; the field's path (`backup.start_time`, `roles[0]`) for a `null`, an unknown field, a
//!   missing field or a wrong type.

use axum::body::Bytes;
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON object body deserialized into `T` (see the module docs for the rejections). `null` is
/// never accepted for a field: optional fields are omitted instead.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// A JSON object body kept as a [`Value`], `null`s included (for RFC 7396 merge patches).
/// Rejected like [`ApiJson`] when empty, malformed, not an object or too large.
#[derive(Debug, Clone)]
pub struct MergePatch(pub Value);

/// Reads the whole body, mapping axum's rejections to [`ApiError`].
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::field(
                "body",
                format!("could not read the request body: {}", r.body_text()),
            )
        }
    })
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b.is_ascii_whitespace())
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req, state).await?;
        parse_body(&bytes).map(ApiJson)
    }
}

/// `Option<ApiJson<T>>`: `None` for an empty (or all-whitespace) body, otherwise as [`ApiJson`].
impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let bytes = read_body(req, state).await?;
        if is_blank(&bytes) {
            return Ok(None);
        }
        parse_body(&bytes).map(|v| Some(ApiJson(v)))
    }
}

impl<S: Send + Sync> FromRequest<S> for MergePatch {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req, state).await?;
        parse_object(&bytes).map(MergePatch)
    }
}

/// The path of the first `null` in `v`, if any.
fn find_null(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::Null => Some(if path.is_empty() {
            "body".into()
        } else {
            path.to_string()
        }),
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            find_null(
                v,
                &if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                },
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_null(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// Turns a JSON body into `T`, naming the offending field on unknown fields, wrong types and `null`s
/// (optional fields are omitted, never sent as `null`).
/// The 400s are those listed in the module docs.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = parse_object(bytes)?;
    if let Some(field) = find_null(&value, "") {
        return Err(ApiError::field(
            field,
            "null is not allowed; omit the field instead",
        ));
    }
    from_value(value)
}

/// Parses a JSON object body (`null`s allowed, e.g. for merge patches): 413 over
/// [`crate::MAX_BODY`], 400 on field `body` when empty, malformed or not an object.
pub fn parse_object(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.len() > crate::MAX_BODY {
        return Err(ApiError::PayloadTooLarge);
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::field("body", "a JSON object body is required"));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::field("body", format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::field("body", "the body must be a JSON object"));
    }
    Ok(value)
}

/// Deserializes `T` from a parsed body, as a 400 naming the offending field: its path for a wrong
/// type, the field for an unknown (`unknown field `x``) or missing (`is required`) field, and
/// `body` when the error has no path.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        let mut field = if path == "." { String::new() } else { path };
        if let Some(rest) = msg.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default();
            if field.is_empty() {
                field = name.to_string();
            }
            return ApiError::field(field, format!("unknown field `{name}`"));
        }
        if let Some(rest) = msg.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or_default();
            field = if field.is_empty() {
                name.to_string()
            } else {
                format!("{field}.{name}")
            };
            return ApiError::field(field, "is required");
        }
        if field.is_empty() {
            field = "body".into();
        }
        ApiError::field(field, msg)
    })
}
