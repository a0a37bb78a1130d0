//! The router: one module per API resource (`instance_actions` holds the instance's restart and
//! failover, `credentials` its temporary logins, `console` the web page at `/`), plus shared helpers for JSON answers, query strings and
//! pagination.

pub mod admin;
pub mod backups;
pub mod catalog;
pub mod children;
pub mod console;
pub mod credentials;
pub mod databases;
pub mod firewall_rules;
pub mod instance_actions;
pub mod instances;
pub mod operations;
pub mod restore;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::middleware::{IdemCtx, IdemStored};
use crate::store::{Batch, IdemRec};
use crate::util::{hex_decode, hex_encode};
use crate::{AppState, MAX_BODY, middleware};

/// Default and largest page sizes of list calls.
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

pub fn router(st: AppState) -> Router {
    let public = Router::new()
        .merge(catalog::router())
        .merge(instances::router(&st))
        .merge(instance_actions::router(&st))
        .merge(credentials::router(&st))
        .merge(operations::router())
        .merge(backups::router(&st))
        .merge(children::router(&st, &databases::DATABASES))
        .merge(children::router(&st, &users::USERS))
        .merge(children::router(&st, &firewall_rules::FIREWALL_RULES))
        .layer(from_fn_with_state(st.clone(), middleware::faults))
        .layer(from_fn_with_state(st.clone(), middleware::rate_limit))
        .layer(from_fn(middleware::body_fields::record))
        .layer(from_fn_with_state(st.clone(), middleware::auth))
        .layer(from_fn_with_state(
            st.clone(),
            middleware::auth_failure_limit,
        ));
    let admin = admin::router()
        .layer(from_fn_with_state(st.clone(), middleware::admin_auth))
        .layer(from_fn_with_state(
            st.clone(),
            middleware::auth_failure_limit,
        ));
    Router::new()
        .merge(public)
        .merge(admin)
        .merge(console::router(&st))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(from_fn_with_state(st.clone(), middleware::context))
        .with_state(st)
}

/// Adds Idempotency-Key handling to a route's methods (not to its 405 fallback).
pub fn idem(st: &AppState, mr: MethodRouter<AppState>) -> MethodRouter<AppState> {
    mr.route_layer(from_fn_with_state(st.clone(), middleware::idempotency))
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}

async fn not_found() -> Response {
    ApiError::NotFound("no such route".into()).into_response()
}

/// A JSON answer.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// Commits `b` and answers `status` with `body` (JSON) or no body. With an Idempotency-Key the record of
/// this answer is committed in the same transaction as the change, so a failed commit leaves neither.
pub async fn commit_answer(
    mut b: Batch<'_>,
    idem: Option<&IdemCtx>,
    status: StatusCode,
    body: Option<&serde_json::Value>,
) -> ApiResult<Response> {
    let text = match body {
        Some(v) => Some(serde_json::to_string(v).map_err(|e| ApiError::Internal(e.to_string()))?),
        None => None,
    };
    if let Some(ctx) = idem {
        let now = b.store().now_ms();
        b.put_idem(
            &ctx.scope,
            &ctx.key,
            IdemRec {
                fingerprint: ctx.fingerprint.clone(),
                status: status.as_u16(),
                content_type: text.as_ref().map(|_| "application/json".to_string()),
                location: None,
                body: text.clone().unwrap_or_default(),
                created_ms: now,
                created_real_ms: 0,
            },
        );
    }
    b.commit().await?;
    let mut r = match text {
        Some(t) => {
            let mut r = (status, t).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        None => status.into_response(),
    };
    if idem.is_some() {
        r.extensions_mut().insert(IdemStored);
    }
    Ok(r)
}

/// Parses a raw query string into pairs.
pub fn parse_query(raw: Option<&str>) -> ApiResult<Vec<(String, String)>> {
    match raw {
        None => Ok(Vec::new()),
        Some(q) => serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map_err(|e| ApiError::field("query", format!("malformed query string: {e}"))),
    }
}

pub fn query_get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Parses an optional boolean query parameter.
pub fn query_bool(q: &[(String, String)], key: &str, default: bool) -> ApiResult<bool> {
    match query_get(q, key) {
        None => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(ApiError::field(key, "must be true or false")),
    }
}

/// `page_size` and `page_token` of a list call.
pub struct Page {
    pub size: usize,
    pub after: Option<String>,
}

impl Page {
    pub fn from_query(q: &[(String, String)]) -> ApiResult<Self> {
        let size = match query_get(q, "page_size") {
            None => DEFAULT_PAGE_SIZE,
            Some(s) => match s.parse::<i64>() {
                Ok(0) => DEFAULT_PAGE_SIZE,
                Ok(n) if n > 0 => (n as usize).min(MAX_PAGE_SIZE),
                _ => {
                    return Err(ApiError::field(
                        "page_size",
                        "must be a non-negative integer",
                    ));
                }
            },
        };
        let after = match query_get(q, "page_token") {
            None | Some("") => None,
            Some(t) => Some(
                hex_decode(t).ok_or_else(|| ApiError::field("page_token", "invalid page token"))?,
            ),
        };
        Ok(Self { size, after })
    }

    /// Takes one page from `items` (sorted by key); returns the page and the next token.
    pub fn take<T, I: Iterator<Item = (String, T)>>(&self, items: I) -> (Vec<T>, Option<String>) {
        let mut out = Vec::with_capacity(self.size.min(64));
        let mut last = None;
        let mut more = false;
        for (key, item) in items {
            if self
                .after
                .as_ref()
                .is_some_and(|a| key.as_str() <= a.as_str())
            {
                continue;
            }
            if out.len() == self.size {
                more = true;
                break;
            }
            last = Some(key);
            out.push(item);
        }
        let token = if more {
            last.map(|l| hex_encode(&l))
        } else {
            None
        };
        (out, token)
    }
}

/// Checks `If-Match` against the current ETag.
pub fn check_if_match(headers: &HeaderMap, etag: &str) -> ApiResult<()> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let v = v.to_str().unwrap_or_default();
    let ok = v
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag));
    if ok {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!(
            "If-Match {v} does not match the current ETag {etag}"
        )))
    }
}

/// Adds a list body's `next_page_token` when there is one.
pub fn list_body(
    key: &str,
    items: Vec<serde_json::Value>,
    next: Option<String>,
) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert(key.into(), serde_json::Value::Array(items));
    if let Some(t) = next {
        m.insert("next_page_token".into(), serde_json::Value::String(t));
    }
    serde_json::Value::Object(m)
}
