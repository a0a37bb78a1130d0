//! `/v1/projects/{project}/operations`: poll asynchronous operations.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;

use super::{Page, json_response, list_body, parse_query};
use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/projects/{project}/operations", get(list))
        .route("/v1/projects/{project}/operations/{id}", get(get_one))
}

async fn get_one(
    State(st): State<AppState>,
    Path((project, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let store = st.read().await;
    let op = store
        .ops
        .get(&id)
        .filter(|o| o.project == project)
        .ok_or_else(|| ApiError::NotFound(format!("operation {id} not found")))?;
    let now = store.now_ms();
    let mut r = json_response(StatusCode::OK, &op.public(now));
    if !op.done {
        let remaining = (op.due_ms - now).max(0) as f64 / 1000.0;
        let secs = (remaining.ceil() as u64).clamp(1, 60);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    Ok(r)
}

/// Lists operations, newest first is not guaranteed: ordered by id.
async fn list(
    State(st): State<AppState>,
    Path(project): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let page = Page::from_query(&q)?;
    let store = st.read().await;
    let now = store.now_ms();
    // The (project, id) index: one page costs a range scan, not a pass over every operation.
    let start = (project.clone(), page.after.clone().unwrap_or_default());
    let ops = store
        .ops_by_project
        .range(start..)
        .take_while(|(p, _)| *p == project)
        .filter_map(|(_, id)| store.ops.get(id))
        .map(|o| (o.id.clone(), o.public(now)));
    let (items, next) = page.take(ops);
    Ok(json_response(
        StatusCode::OK,
        &list_body("operations", items, next),
    ))
}
