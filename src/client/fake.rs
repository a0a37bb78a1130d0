//! A programmable fake CloudDB API for unit tests (client and resources): every request is recorded
//! and answered by a closure, so a test can echo what the client sent (an Idempotency-Key, say).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

/// One request the fake saw.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// An answer: status, extra headers, body.
pub(crate) type Answer = (u16, Vec<(String, String)>, String);

/// Everything the fake saw, in order.
pub(crate) type Log = Arc<Mutex<Vec<Seen>>>;

type Handler = Arc<dyn Fn(&Seen, &[Seen]) -> Answer + Send + Sync>;

#[derive(Clone)]
struct Srv {
    log: Log,
    handler: Handler,
}

async fn handle(State(s): State<Srv>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.to_string(),
        headers: parts.headers,
        body,
    };
    let (status, headers, body) = {
        let mut log = s.log.lock().expect("lock");
        let answer = (s.handler)(&seen, &log);
        log.push(seen);
        answer
    };
    let mut resp = (StatusCode::from_u16(status).expect("status"), body).into_response();
    resp.headers_mut()
        .insert("x-request-id", HeaderValue::from_static("req-fake"));
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    for (k, v) in headers {
        resp.headers_mut().insert(
            HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            HeaderValue::from_bytes(v.as_bytes()).expect("header value"),
        );
    }
    resp
}

/// Serve `handler` (called with the request and every earlier one) on a loopback port; returns the
/// base URL and the request log.
pub(crate) async fn serve<F>(handler: F) -> (String, Log)
where
    F: Fn(&Seen, &[Seen]) -> Answer + Send + Sync + 'static,
{
    let log: Log = Arc::default();
    let srv = Srv {
        log: log.clone(),
        handler: Arc::new(handler),
    };
    let app = Router::new().fallback(handle).with_state(srv);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), log)
}

/// A problem+json body.
pub(crate) fn problem(status: u16, reason: &str, retryable: bool, detail: &str) -> String {
    serde_json::json!({
        "type": "about:blank", "title": "t", "status": status, "detail": detail,
        "reason": reason, "retryable": retryable, "request_id": "req-fake",
    })
    .to_string()
}

/// The Idempotency-Key header of a request (empty when absent).
pub(crate) fn key_of(r: &Seen) -> String {
    r.headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
