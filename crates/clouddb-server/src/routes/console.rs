//! The console: a hand-written web page at `/` that shows what the local cloud holds, per project
//! (instances, operations in progress, the selected instance's databases, users and firewall rules,
//! backups), the recent requests and the fault rules in force. The page polls `/console/data`.
//!
//! Access: a login with the admin token opens a session (an `HttpOnly`, `SameSite=Strict` cookie), or
//! a request carries `Authorization: Bearer <admin token>`; with [`crate::Config::console_no_auth`]
//! everything is open (the binary allows that on a loopback listener only). These routes are outside
//! the REST API (docs/openapi.yaml does not list them) and outside its request log.
//!
//! Nothing here ever sends an API token or the admin token: the page is static and the data is built
//! from an allow-list of fields. Names and labels come from users, so the page renders with
//! `textContent` only and the data escapes `<`, `>` and `&` (see [`html_safe_json`]).

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::store::Store;
use crate::util::{ct_eq, rfc3339_ms};
use crate::{AppState, lock, middleware, snapshot};

const INDEX_HTML: &str = include_str!("../console/index.html");
const LOGIN_HTML: &str = include_str!("../console/login.html");
const APP_JS: &str = include_str!("../console/app.js");
const APP_CSS: &str = include_str!("../console/app.css");

/// Name of the session cookie.
pub const COOKIE: &str = "clouddb_console";
/// Most sessions kept; a new login beyond that ends the oldest.
pub const MAX_SESSIONS: usize = 1000;
/// Most recent requests the data shows.
pub const RECENT_REQUESTS: usize = 100;

/// The page may load only its own script and style and talk only to its own origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Open console sessions (random ids, oldest first).
#[derive(Default)]
pub struct Sessions(Mutex<VecDeque<String>>);

impl Sessions {
    /// Opens a session and returns its id (256 bits from the OS's CSPRNG).
    fn open(&self) -> Result<String, ApiError> {
        let mut buf = [0u8; 32];
        getrandom::fill(&mut buf)
            .map_err(|e| ApiError::Internal(format!("no randomness for a session: {e}")))?;
        let id: String = buf.iter().map(|b| format!("{b:02x}")).collect();
        let mut s = lock(&self.0);
        while s.len() >= MAX_SESSIONS {
            s.pop_front();
        }
        s.push_back(id.clone());
        Ok(id)
    }

    /// Whether `id` is an open session; every session is compared in constant time.
    fn contains(&self, id: &str) -> bool {
        let s = lock(&self.0);
        s.iter()
            .fold(false, |found, k| ct_eq(k.as_bytes(), id.as_bytes()) | found)
    }

    fn close(&self, id: &str) {
        lock(&self.0).retain(|k| !ct_eq(k.as_bytes(), id.as_bytes()));
    }
}

pub fn router(st: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/console/app.js", get(app_js))
        .route("/console/app.css", get(app_css))
        .route("/console/data", get(data))
        .route(
            "/console/login",
            // Wrong tokens count against the client address like the API's 401s.
            post(login).layer(from_fn_with_state(
                st.clone(),
                middleware::auth_failure_limit,
            )),
        )
        .route("/console/logout", post(logout))
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// Whether the request may see the console.
fn allowed(st: &AppState, headers: &HeaderMap) -> bool {
    if st.config.console_no_auth {
        return true;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| ct_eq(t.trim().as_bytes(), st.config.admin_token.as_bytes()));
    bearer || session_cookie(headers).is_some_and(|id| st.console_sessions.contains(id))
}

fn with_type(status: StatusCode, ctype: &'static str, body: impl Into<Body>) -> Response {
    let mut r = (status, body.into()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn page(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = with_type(status, "text/html; charset=utf-8", body);
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    r
}

async fn index(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if allowed(&st, &headers) {
        page(StatusCode::OK, INDEX_HTML)
    } else {
        page(StatusCode::OK, LOGIN_HTML)
    }
}

async fn app_js() -> Response {
    with_type(StatusCode::OK, "text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> Response {
    with_type(StatusCode::OK, "text/css; charset=utf-8", APP_CSS)
}

/// `POST /console/login` with the form field `token`: the admin token opens a session and goes to
/// `/`; anything else answers 401 with the form again (and a note the page shows).
async fn login(State(st): State<AppState>, body: Bytes) -> Response {
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|f| f.into_iter().find(|(k, _)| k == "token").map(|(_, v)| v));
    let ok = token
        .as_deref()
        .is_some_and(|t| ct_eq(t.trim().as_bytes(), st.config.admin_token.as_bytes()));
    if !ok {
        tracing::info!("console login refused: wrong admin token");
        // The note is static text: nothing the client sent is echoed.
        let failed =
            LOGIN_HTML.replace("<p id=\"error\" hidden>", "<p id=\"error\" role=\"alert\">");
        return page(StatusCode::UNAUTHORIZED, failed);
    }
    let id = match st.console_sessions.open() {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict");
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/"));
    r
}

async fn logout(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        st.console_sessions.close(id);
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("clouddb_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/"));
    r
}

/// `GET /console/data`: everything the page shows, as JSON.
async fn data(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if !allowed(&st, &headers) {
        return ApiError::Unauthenticated.into_response();
    }
    let projects = {
        let store = st.read().await;
        projects(&st, &store)
    };
    let requests: Vec<Value> = st
        .log()
        .entries
        .iter()
        .rev()
        .take(RECENT_REQUESTS)
        .map(|e| {
            json!({
                "seq": e.seq,
                "time": e.time,
                "method": e.method,
                "path": e.path,
                "status": e.status,
                "duration_ms": (e.duration_ms * 10.0).round() / 10.0,
                "request_id": e.request_id,
                "project": e.project,
            })
        })
        .collect();
    let body = json!({
        "now": rfc3339_ms(crate::util::real_now_ms()),
        "projects": projects,
        "requests": requests,
        "faults": st.faults.list(),
    });
    match serde_json::to_string(&body) {
        Ok(text) => {
            let mut r = (StatusCode::OK, html_safe_json(&text)).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// Escapes `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026` (as Go's encoding/json does), so the
/// data stays inert even if something ever treats it as HTML. Outside strings JSON has none of
/// these characters, so replacing them everywhere only touches string contents.
pub fn html_safe_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// Every project: the configured ones (project names only, never their tokens) and any that holds
/// records.
fn projects(st: &AppState, store: &Store) -> Vec<Value> {
    let mut names: BTreeSet<&str> = st.config.tokens.values().map(String::as_str).collect();
    names.extend(store.instances.keys().map(|(p, _)| p.as_str()));
    names.extend(store.backups.keys().map(|(p, _)| p.as_str()));
    let now = store.now_ms();
    names
        .into_iter()
        .map(|project| {
            let instances: Vec<Value> = store
                .instances
                .iter()
                .filter(|((p, _), _)| p == project)
                .map(|((_, name), rec)| {
                    let i = &rec.inst;
                    let kids = |kind| -> Vec<Value> {
                        store.children_of(project, name, kind).cloned().collect()
                    };
                    json!({
                        "name": i.name,
                        "state": i.state,
                        "tier": i.tier,
                        "engine": i.engine,
                        "engine_version": i.engine_version,
                        "storage_gb": i.storage_gb,
                        "high_availability": i.high_availability,
                        "endpoint": format!("{}:{}", i.endpoint.host, i.endpoint.port),
                        "labels": i.labels,
                        "current_operation": i.current_operation,
                        "created_at": i.created_at,
                        "updated_at": i.updated_at,
                        "databases": kids(snapshot::DATABASES),
                        "users": kids(snapshot::USERS),
                        "firewall_rules": kids(super::firewall_rules::FIREWALL_RULES.segment),
                    })
                })
                .collect();
            let operations: Vec<Value> = store
                .ops
                .values()
                .filter(|o| o.project == project && !o.done)
                .map(|o| {
                    let progress = o.started_ms.map(|start| {
                        let total = (o.due_ms - start).max(1) as f64;
                        ((now - start) as f64 / total).clamp(0.0, 1.0)
                    });
                    json!({
                        "id": o.id,
                        "verb": o.verb,
                        "target": o.target,
                        "created_at": o.created_at,
                        "estimated_done_at": crate::util::rfc3339(o.due_ms),
                        "progress": progress,
                    })
                })
                .collect();
            let backups: Vec<Value> = store
                .backups
                .iter()
                .filter(|((p, _), _)| p == project)
                .map(|(_, v)| v.clone())
                .collect();
            json!({
                "project": project,
                "instances": instances,
                "operations": operations,
                "backups": backups,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::html_safe_json;

    #[test]
    fn html_safe_json_escapes_markup_and_stays_json() {
        let text = serde_json::json!({"a": "<img src=x onerror=alert(1)>&"}).to_string();
        let safe = html_safe_json(&text);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back["a"], "<img src=x onerror=alert(1)>&");
    }
}
