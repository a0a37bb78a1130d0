//! `/v1/engineVersions` and `/v1/tiers`: the read-only catalogue.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use super::{json_response, parse_query, query_get};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::model::{ENGINE_VERSIONS, ENGINES, TIERS};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/engineVersions", get(engine_versions))
        .route("/v1/tiers", get(tiers))
}

async fn engine_versions(
    State(_st): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let engine = query_get(&q, "engine");
    if let Some(e) = engine
        && !ENGINES.contains(&e)
    {
        return Err(ApiError::field("engine", "must be mysql or postgres"));
    }
    let list: Vec<_> = ENGINE_VERSIONS
        .iter()
        .filter(|v| engine.is_none_or(|e| v.engine == e))
        .map(|v| {
            json!({"engine": v.engine, "version": v.version, "actual_version": v.actual, "default": v.default})
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"engine_versions": list}),
    ))
}

async fn tiers(State(_st): State<AppState>) -> Response {
    let list: Vec<_> = TIERS
        .iter()
        .map(|t| {
            json!({"name": t.name, "vcpus": t.vcpus, "memory_gb": t.memory_gb, "max_storage_gb": t.max_storage_gb})
        })
        .collect();
    json_response(StatusCode::OK, &json!({"tiers": list}))
}
