//! Which fields a request body carried, for the request log (`body_fields`): the top-level keys of a
//! JSON object body, sorted, never a value, so a password sent is logged as the name `password`
//! only. Lets a test tell what a client sent (e.g. that a PATCH carried `password`) without the log
//! ever holding a secret.
//!
//! [`record`] runs right after authentication, so bodies of unauthenticated requests are never
//! read (their entry has no fields), and before rate limiting and faults, so a request that is
//! throttled or failed by a fault still shows what it carried.

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::IgnoredAny;

use crate::error::ApiError;
use crate::{LOG_MAX_BODY_FIELDS, LOG_MAX_KEY_NAME, MAX_BODY, lock, truncate_field};

/// Where [`record`] leaves the fields for the log entry of its request; `context` puts one in the
/// extensions of every logged request and reads it when the answer is ready.
#[derive(Debug, Clone, Default)]
pub struct BodyFieldsSlot(Arc<Mutex<Vec<String>>>);

impl BodyFieldsSlot {
    /// The recorded fields (empty when the body was not read, empty or not a JSON object).
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.0))
    }
}

/// Reads the body (at most [`MAX_BODY`]), records its fields in the request's [`BodyFieldsSlot`]
/// and hands the same bytes on, so nothing later sees a difference.
pub async fn record(req: Request, next: Next) -> Response {
    let Some(slot) = req.extensions().get::<BodyFieldsSlot>().cloned() else {
        return next.run(req).await;
    };
    let hint = req.body().size_hint();
    // No body, or one announced over the limit: left alone (the handler rejects the latter, 413).
    if hint.exact() == Some(0) || hint.lower() > MAX_BODY as u64 {
        return next.run(req).await;
    }
    let (parts, mut body) = req.into_parts();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = match frame {
            Ok(f) => f,
            // What the body extractor answers when the body cannot be read.
            Err(e) => {
                return ApiError::field("body", format!("could not read the request body: {e}"))
                    .into_response();
            }
        };
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
        }
        if buf.len() > MAX_BODY {
            // Handed on still over the limit, so whatever reads it rejects it (413) as it would
            // have; the rest is never read.
            return next.run(Request::from_parts(parts, Body::from(buf))).await;
        }
    }
    *lock(&slot.0) = top_level_keys(&buf);
    next.run(Request::from_parts(parts, Body::from(buf))).await
}

/// The sorted top-level keys of a JSON object (values are skipped unparsed), at most
/// [`LOG_MAX_BODY_FIELDS`] of them, each cut to [`LOG_MAX_KEY_NAME`] bytes; a final `…` marks that
/// more were left out. Empty for anything that is not a JSON object.
pub fn top_level_keys(bytes: &[u8]) -> Vec<String> {
    let Ok(map) = serde_json::from_slice::<BTreeMap<String, IgnoredAny>>(bytes) else {
        return Vec::new();
    };
    let more = map.len() > LOG_MAX_BODY_FIELDS;
    let mut keys: Vec<String> = map
        .into_keys()
        .take(LOG_MAX_BODY_FIELDS)
        .map(|k| truncate_field(k, LOG_MAX_KEY_NAME))
        .collect();
    if more {
        keys.push("…".into());
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_only_sorted_and_bounded() {
        let keys = top_level_keys(br#"{"roles":["a"],"password":"hunter2-secret","name":"u"}"#);
        assert_eq!(keys, ["name", "password", "roles"]);
        assert!(top_level_keys(b"[1,2]").is_empty());
        assert!(top_level_keys(b"{\"a\":").is_empty());
        assert!(top_level_keys(b"").is_empty());
        assert!(top_level_keys(b"{}").is_empty());
        let many: String = (0..100).map(|i| format!("\"k{i:03}\":0,")).collect();
        let keys = top_level_keys(format!("{{{}}}", many.trim_end_matches(',')).as_bytes());
        assert_eq!(keys.len(), LOG_MAX_BODY_FIELDS + 1);
        assert_eq!(keys.last().map(String::as_str), Some("…"));
        let long = top_level_keys(format!("{{\"{}\":1}}", "x".repeat(500)).as_bytes());
        assert!(long[0].len() <= LOG_MAX_KEY_NAME + '…'.len_utf8());
    }
}
