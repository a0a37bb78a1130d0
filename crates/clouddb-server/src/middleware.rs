//! Layers around the handlers, outer to inner: `context` (request id, request log, problem+json for
//! framework rejections), `auth` (bearer token → project; another project's paths answer 404),
//! [`body_fields`] (the body's field names for the log), `rate_limit` (per-token token bucket),
//! `faults` (scripted faults) and `idempotency` (Idempotency-Key).

pub mod body_fields;

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiError, REQUEST_ID, problem_response, reason_for_status};
use crate::store::IdemRec;
use crate::util::{ct_eq, fnv64, rand_u64, real_now_ms, rfc3339_ms};
use crate::{
    AppState, Bucket, LOG_MAX_FIELD, LOG_MAX_KEY, LogEntry, MAX_BODY, MAX_TRACKED_ADDRESSES, lock,
    truncate_field,
};
use body_fields::BodyFieldsSlot;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: String,
    pub project: String,
}

/// The Idempotency-Key of the request being served, for handlers that store the record in the same
/// transaction as their change (then they mark the response with [`IdemStored`]).
#[derive(Debug, Clone)]
pub struct IdemCtx {
    pub scope: String,
    pub key: String,
    pub fingerprint: String,
}

/// Idempotency records are honoured for 24 hours (virtual and real time).
pub use crate::store::IDEMPOTENCY_TTL_MS;

/// Marks a response whose idempotency record the handler already committed.
#[derive(Debug, Clone, Copy)]
pub struct IdemStored;

/// Marks a response whose body was dropped on purpose (fault `drop_response`).
#[derive(Debug, Clone, Copy)]
pub struct Dropped;

pub const X_REQUEST_ID: &str = "x-request-id";

/// Request id, request log, tracing, and problem+json for every error response.
pub async fn context(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let seq = st
        .req_seq
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let request_id = format!("req-{seq:x}-{:08x}", rand_u64() as u32);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let public = path.starts_with("/v1/");
    // Only what the log keeps is copied, cut to its bounds.
    let query = public.then(|| {
        req.uri()
            .query()
            .map(|q| truncate_field(q.to_string(), LOG_MAX_FIELD))
    });
    let idem_key = public.then(|| {
        req.headers().get("idempotency-key").map(|v| {
            truncate_field(
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                LOG_MAX_KEY,
            )
        })
    });
    let fields = BodyFieldsSlot::default();
    if public {
        req.extensions_mut().insert(fields.clone());
    }
    let started = Instant::now();
    // A request that may write runs in its own task, so a client that disconnects cannot cancel a
    // handler halfway through a commit (reads need no task: `AppState::read` finishes due operations
    // in one of its own).
    let rid = request_id.clone();
    let work = REQUEST_ID.scope(rid, async move {
        let resp = next.run(req).await;
        problemize(resp).await
    });
    let handled = if method == Method::GET || method == Method::HEAD {
        Ok(work.await)
    } else {
        tokio::spawn(work).await
    };
    let mut resp = match handled {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "request handler panicked");
            REQUEST_ID
                .scope(request_id.clone(), async {
                    ApiError::Internal("handler panicked".into()).into_response()
                })
                .await
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(X_REQUEST_ID, v);
    }
    let status = resp.status().as_u16();
    tracing::debug!(%method, %path, status, request_id = %request_id, elapsed_us = started.elapsed().as_micros() as u64, "request");
    if public {
        let project = path
            .strip_prefix("/v1/projects/")
            .and_then(|r| r.split('/').next())
            .map(|p| truncate_field(p.to_string(), 128));
        let entry = LogEntry {
            seq: 0,
            method: truncate_field(method.to_string(), 32),
            path: truncate_field(path, LOG_MAX_FIELD),
            query: query.flatten(),
            project,
            idempotency_key: idem_key.flatten(),
            body_fields: fields.take(),
            status,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            time: rfc3339_ms(real_now_ms()),
            request_id,
        };
        st.log().push(entry);
    }
    resp
}

/// Turns an error response that is not problem+json (axum rejections, 405s) into one.
async fn problemize(resp: Response) -> Response {
    let status = resp.status();
    if status.as_u16() < 400 || resp.extensions().get::<Dropped>().is_some() {
        return resp;
    }
    // The console's HTML answers (its login form after a wrong token) are meant for a browser.
    if resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
    {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = to_bytes(body, MAX_BODY)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let err = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::NOT_FOUND => ApiError::NotFound(if text.is_empty() {
            "not found".into()
        } else {
            text.clone()
        }),
        _ => ApiError::Injected {
            status: status.as_u16(),
            retry_after: None,
        },
    };
    let mut p = err.problem();
    if !text.is_empty() {
        p["detail"] = json!(text);
    }
    if status.is_client_error() && status != StatusCode::NOT_FOUND {
        p["reason"] = json!(reason_for_status(status.as_u16()));
        p["retryable"] = json!(false);
        p["type"] = json!(format!(
            "urn:clouddb:problem:{}",
            reason_for_status(status.as_u16())
                .to_ascii_lowercase()
                .replace('_', "-")
        ));
        if status == StatusCode::BAD_REQUEST {
            p["field_violations"] = json!([{"field": "request", "description": text}]);
        }
    }
    let mut out = problem_response(status, &p, None);
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// Bearer-token authentication for the public API.
pub async fn auth(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    // Every configured token is compared, each in constant time, so timing tells nothing about them.
    let mut found: Option<(&String, &String)> = None;
    if let Some(t) = token {
        for (tok, proj) in &st.config.tokens {
            if ct_eq(tok.as_bytes(), t.as_bytes()) {
                found = Some((tok, proj));
            }
        }
    }
    let Some((token, project)) = found.map(|(t, p)| (t.clone(), p.clone())) else {
        return ApiError::Unauthenticated.into_response();
    };
    if let Some(rest) = req.uri().path().strip_prefix("/v1/projects/") {
        let p = rest.split('/').next().unwrap_or_default();
        if p != project {
            return ApiError::NotFound(format!("project {p} not found")).into_response();
        }
    }
    req.extensions_mut().insert(Caller { token, project });
    next.run(req).await
}

/// Admin-token authentication for `/admin`.
pub async fn admin_auth(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| ct_eq(t.trim().as_bytes(), st.config.admin_token.as_bytes()));
    if !ok {
        return ApiError::Unauthenticated.into_response();
    }
    next.run(req).await
}

/// Refills `b` at `rate` per second up to `burst`.
fn refill(b: &mut Bucket, now: Instant, rate: f64, burst: f64) {
    let elapsed = now.duration_since(b.last).as_secs_f64();
    b.tokens = (b.tokens + elapsed * rate).min(burst);
    b.last = now;
}

/// Before authentication: a client address that failed authentication too often (its bucket of
/// [`crate::Config::auth_failure_rate`] per second is empty) gets 429 for every request until it refills.
/// Each 401 answered to the address takes one token.
pub async fn auth_failure_limit(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let rate = st.config.auth_failure_rate;
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(ip) = ip.filter(|_| rate > 0.0) else {
        return next.run(req).await;
    };
    // The admin API and the public API count separately.
    let ip = (ip, req.uri().path().starts_with("/admin"));
    let burst = st.config.auth_failure_burst.max(1.0);
    let wait = {
        let now = Instant::now();
        let mut m = lock(&st.auth_failures);
        m.get_mut(&ip).and_then(|b| {
            refill(b, now, rate, burst);
            (b.tokens < 1.0).then(|| ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        })
    };
    if let Some(retry_after) = wait {
        return ApiError::RateLimited { retry_after }.into_response();
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::UNAUTHORIZED {
        let now = Instant::now();
        let mut m = lock(&st.auth_failures);
        if m.len() >= MAX_TRACKED_ADDRESSES && !m.contains_key(&ip) {
            // Forget addresses whose bucket is full again; if none, the oldest-refilled half.
            m.retain(|_, b| {
                refill(b, now, rate, burst);
                b.tokens < burst
            });
            if m.len() >= MAX_TRACKED_ADDRESSES {
                let mut lasts: Vec<Instant> = m.values().map(|b| b.last).collect();
                lasts.sort();
                let cut = lasts[lasts.len() / 2];
                m.retain(|_, b| b.last > cut);
            }
        }
        let b = m.entry(ip).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        refill(b, now, rate, burst);
        b.tokens -= 1.0;
    }
    resp
}

/// Per-token token bucket.
pub async fn rate_limit(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let rate = st.config.rate_limit;
    if rate > 0.0
        && let Some(caller) = req.extensions().get::<Caller>()
    {
        let burst = st.config.rate_burst.max(1.0);
        let now = Instant::now();
        let wait = {
            let mut buckets = lock(&st.limiter);
            let b = buckets.entry(caller.token.clone()).or_insert(Bucket {
                tokens: burst,
                last: now,
            });
            let elapsed = now.duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * rate).min(burst);
            b.last = now;
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                None
            } else {
                Some(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
            }
        };
        if let Some(retry_after) = wait {
            return ApiError::RateLimited { retry_after }.into_response();
        }
    }
    next.run(req).await
}

/// Scripted faults: latency, failures before the handler, dropped responses after it.
pub async fn faults(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if st.faults.is_empty() {
        return next.run(req).await;
    }
    let d = st.faults.decide(req.method().as_str(), req.uri().path());
    if d.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(d.latency_ms)).await;
    }
    if let Some(err) = d.fail {
        return err.into_response();
    }
    let resp = next.run(req).await;
    if let Some(status) = d.drop_response {
        let mut out = Response::new(Body::empty());
        *out.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        out.extensions_mut().insert(Dropped);
        return out;
    }
    resp
}

struct InflightGuard {
    st: AppState,
    key: (String, String),
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        lock(&self.st.inflight_idem).remove(&self.key);
    }
}

/// Idempotency-Key handling for POST, PATCH and DELETE.
pub async fn idempotency(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let m = req.method().clone();
    if !(m == Method::POST || m == Method::PATCH || m == Method::DELETE) {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get("idempotency-key").cloned() else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k)
            if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (b'!'..=b'~').contains(&b)) =>
        {
            k.to_string()
        }
        _ => {
            return ApiError::field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    let scope = req
        .extensions()
        .get::<Caller>()
        .map(|c| c.project.clone())
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::PayloadTooLarge.into_response();
    };
    let mut fp_src = Vec::with_capacity(bytes.len() + 64);
    fp_src.extend_from_slice(parts.method.as_str().as_bytes());
    fp_src.push(b' ');
    fp_src.extend_from_slice(
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("")
            .as_bytes(),
    );
    fp_src.push(b'\n');
    fp_src.extend_from_slice(&bytes);
    let fingerprint = format!(
        "{:016x}{:016x}",
        fnv64(&fp_src, 0),
        fnv64(&fp_src, 0x5bd1_e995)
    );
    let id = (scope.clone(), key.clone());
    // Lookup and claim happen under the store lock, and a finished request releases its claim only after
    // its record is committed (under the same lock): a retry either sees the record, or the claim, or
    // neither because the first request failed and recorded nothing.
    {
        let store = st.read().await;
        let now = store.now_ms();
        let real = real_now_ms();
        let existing = store.idem.get(&id).filter(|r| r.live(now, real));
        if let Some(rec) = existing {
            if rec.fingerprint != fingerprint {
                return ApiError::IdempotencyKeyReused.into_response();
            }
            return replay(rec);
        }
        let mut inflight = lock(&st.inflight_idem);
        if !inflight.insert(id.clone()) {
            return ApiError::Conflict {
                reason: "IDEMPOTENCY_KEY_IN_USE",
                detail: "a request with this Idempotency-Key is still being processed".into(),
                retryable: true,
            }
            .into_response();
        }
    }
    let _guard = InflightGuard {
        st: st.clone(),
        key: id,
    };
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(IdemCtx {
        scope: scope.clone(),
        key: key.clone(),
        fingerprint: fingerprint.clone(),
    });
    let resp = next.run(req).await;
    if !resp.status().is_success() || resp.extensions().get::<IdemStored>().is_some() {
        return resp;
    }
    let (rparts, rbody) = resp.into_parts();
    let body: Bytes = to_bytes(rbody, usize::MAX).await.unwrap_or_default();
    let hv = |n: header::HeaderName| {
        rparts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let rec = IdemRec {
        fingerprint,
        status: rparts.status.as_u16(),
        content_type: hv(header::CONTENT_TYPE),
        location: hv(header::LOCATION),
        body: String::from_utf8_lossy(&body).into_owned(),
        created_ms: 0,
        created_real_ms: 0,
    };
    {
        let mut store = st.store().await;
        let rec = IdemRec {
            created_ms: store.now_ms(),
            ..rec
        };
        let mut b = store.batch();
        b.put_idem(&scope, &key, rec);
        if let Err(e) = b.commit().await {
            return ApiError::Store(e).into_response();
        }
    }
    Response::from_parts(rparts, Body::from(body))
}

fn replay(rec: &IdemRec) -> Response {
    let mut resp = Response::new(Body::from(rec.body.clone()));
    *resp.status_mut() = StatusCode::from_u16(rec.status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    if let Some(ct) = rec
        .content_type
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        h.insert(header::CONTENT_TYPE, ct);
    }
    if let Some(l) = rec
        .location
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        h.insert(header::LOCATION, l);
    }
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}
