//! The admin API under `/admin` (admin token): virtual clock, faults, drift, request log and reset.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{json_response, parse_query, query_get};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, MergePatch};
use crate::faults::FaultSpec;
use crate::model::{Instance, find_tier, find_version};
use crate::store::{Clock, InstanceRec};
use crate::util::{rfc3339, rfc3339_ms};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/clock", get(get_clock).post(set_clock))
        .route(
            "/admin/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/admin/faults/{id}", delete(remove_fault))
        .route(
            "/admin/drift/projects/{project}/instances/{name}",
            post(drift).patch(drift).delete(drift_delete),
        )
        .route("/admin/requests", get(requests))
        .route("/admin/reset", post(reset))
}

fn clock_body(c: &Clock) -> Value {
    let now = c.now_ms();
    json!({
        "now": rfc3339_ms(now),
        "now_unix_ms": now,
        "frozen": c.frozen_at_ms.is_some(),
        "offset_seconds": (now - crate::util::real_now_ms()) as f64 / 1000.0,
    })
}

async fn get_clock(State(st): State<AppState>) -> Response {
    let store = st.read().await;
    json_response(StatusCode::OK, &clock_body(&store.clock))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockReq {
    advance_seconds: Option<f64>,
    frozen: Option<bool>,
}

async fn set_clock(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<ClockReq>,
) -> ApiResult<Response> {
    if let Some(a) = req.advance_seconds
        && !(a.is_finite() && (0.0..=1e9).contains(&a))
    {
        return Err(ApiError::field(
            "advance_seconds",
            "must be between 0 and 1e9",
        ));
    }
    let mut store = st.store().await;
    let mut c = store.clock;
    if let Some(f) = req.frozen {
        let now = c.now_ms();
        if f {
            c.frozen_at_ms = Some(now);
        } else if c.frozen_at_ms.is_some() {
            c.frozen_at_ms = None;
            c.offset_ms = now - crate::util::real_now_ms();
        }
    }
    if let Some(a) = req.advance_seconds {
        let ms = (a * 1000.0).round() as i64;
        match c.frozen_at_ms.as_mut() {
            Some(f) => *f = f.saturating_add(ms),
            None => c.offset_ms = c.offset_ms.saturating_add(ms),
        }
    }
    let mut b = store.batch();
    b.put_clock(c);
    b.commit().await?;
    store.complete_due().await?;
    store.housekeeping().await?;
    Ok(json_response(StatusCode::OK, &clock_body(&store.clock)))
}

async fn list_faults(State(st): State<AppState>) -> Response {
    json_response(StatusCode::OK, &json!({"faults": st.faults.list()}))
}

async fn add_fault(
    State(st): State<AppState>,
    ApiJson(spec): ApiJson<FaultSpec>,
) -> ApiResult<Response> {
    spec.validate()?;
    let rule = st.faults.add(spec);
    Ok(json_response(StatusCode::CREATED, &rule))
}

async fn clear_faults(State(st): State<AppState>) -> Response {
    st.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn remove_fault(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::field("id", "must be an integer"))?;
    if st.faults.remove(id) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!("fault {id} not found")))
    }
}

/// RFC 7396 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Changes an instance out of band with a JSON merge patch of its public fields.
async fn drift(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    MergePatch(patch): MergePatch,
) -> ApiResult<Response> {
    for f in [
        "name",
        "project",
        "uid",
        "etag",
        "created_at",
        "creation_token",
        "restored_from_backup",
    ] {
        if patch.get(f).is_some() {
            return Err(ApiError::field(f, "cannot be changed by drift"));
        }
    }
    let mut store = st.store().await;
    let rec = store
        .instance(&project, &name)
        .cloned()
        .ok_or_else(|| super::instances::not_found(&name))?;
    let mut v = serde_json::to_value(&rec.inst).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge(&mut v, &patch);
    let mut inst: Instance = serde_path_to_error::deserialize(v)
        .map_err(|e| ApiError::field(e.path().to_string(), e.inner().to_string()))?;
    if find_tier(&inst.tier).is_none() {
        return Err(ApiError::field("tier", "unknown tier"));
    }
    if patch.get("engine_version").is_some() {
        match find_version(&inst.engine, &inst.engine_version) {
            Some(ver) if patch.get("engine_version_actual").is_none() => {
                inst.engine_version_actual = ver.actual.into();
            }
            Some(_) => {}
            None => return Err(ApiError::field("engine_version", "unknown version")),
        }
    }
    let now = store.now_ms();
    inst.updated_at = rfc3339(now);
    inst.refresh_etag();
    let mut b = store.batch();
    b.put_instance(InstanceRec {
        inst: inst.clone(),
        created_ms: rec.created_ms,
    });
    b.commit().await?;
    Ok(json_response(StatusCode::OK, &inst))
}

/// Deletes an instance out of band (no final backup; deletion protection ignored).
async fn drift_delete(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    if store.instance(&project, &name).is_none() {
        return Err(super::instances::not_found(&name));
    }
    let mut b = store.batch();
    b.del_instance(&project, &name);
    b.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn requests(State(st): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let since: u64 = match query_get(&q, "since") {
        None => 0,
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::field("since", "must be a non-negative integer"))?,
    };
    let limit: usize = match query_get(&q, "limit") {
        None => usize::MAX,
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::field("limit", "must be a non-negative integer"))?,
    };
    let log = st.log();
    let entries: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.seq > since)
        .take(limit)
        .collect();
    Ok(json_response(StatusCode::OK, &entries))
}

async fn reset(State(st): State<AppState>) -> ApiResult<Response> {
    let mut store = st.store().await;
    // Real engines: a reset forgets every instance, so their servers and dumps go too (before
    // the records, so a failure leaves the records that still describe them).
    if let Some(be) = &st.engines {
        let recs: Vec<_> = store.engines.values().cloned().collect();
        for rec in recs {
            be.remove_engine(&rec)
                .await
                .map_err(|e| ApiError::Engine(e.to_string()))?;
        }
        be.remove_all_dumps();
    }
    store.reset().await?;
    drop(store);
    st.faults.clear();
    st.log().clear();
    crate::lock(&st.limiter).clear();
    crate::lock(&st.auth_failures).clear();
    Ok(StatusCode::NO_CONTENT.into_response())
}
