//! Generic handlers for the synchronous sub-resources of an instance (`databases`, `users`,
//! `firewallRules` under `/v1/projects/{project}/instances/{name}/...`): list, create (201), get, patch
//! and delete (204). Each resource module (`databases`, `users`, `firewall_rules`) supplies a [`Kind`]
//! with its validation. Writes need the instance READY (409 OPERATION_IN_PROGRESS while an operation runs).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{Page, idem, json_response, list_body, parse_query};
use crate::AppState;
use crate::error::{ApiError, ApiResult, FieldViolation};
use crate::model::Instance;
use crate::store::{ChildKey, Store};
use crate::util::rfc3339;

/// Builds a stored record from a create body: (name, record).
pub type CreateFn = fn(&Instance, &[u8], &str) -> ApiResult<(String, Value)>;

/// One kind of sub-resource.
pub struct Kind {
    /// Path segment and storage kind.
    pub segment: &'static str,
    /// Singular, for messages.
    pub noun: &'static str,
    /// Builds the stored record from a create body: (name, record).
    pub create: CreateFn,
    /// Applies a patch body to a record.
    pub patch: fn(&Instance, &mut Value, &[u8]) -> ApiResult<()>,
}

macro_rules! kind_routes {
    ($st:expr, $router:expr, $kind:expr) => {{
        let k: &'static Kind = $kind;
        let collection =
            get(move |s: State<AppState>, p: Path<(String, String)>, q: RawQuery| list(k, s, p, q))
                .post(
                    move |s: State<AppState>, p: Path<(String, String)>, b: Bytes| {
                        create(k, s, p, b)
                    },
                );
        let item =
            get(move |s: State<AppState>, p: Path<(String, String, String)>| get_one(k, s, p))
                .patch(
                    move |s: State<AppState>, p: Path<(String, String, String)>, b: Bytes| {
                        patch(k, s, p, b)
                    },
                )
                .delete(
                    move |s: State<AppState>, p: Path<(String, String, String)>| delete(k, s, p),
                );
        $router
            .route(
                &format!("/v1/projects/{{project}}/instances/{{name}}/{}", k.segment),
                idem($st, collection),
            )
            .route(
                &format!(
                    "/v1/projects/{{project}}/instances/{{name}}/{}/{{child}}",
                    k.segment
                ),
                idem($st, item),
            )
    }};
}

pub fn router(st: &AppState) -> Router<AppState> {
    let r = Router::new();
    let r = kind_routes!(st, r, &super::databases::DATABASES);
    let r = kind_routes!(st, r, &super::users::USERS);
    kind_routes!(st, r, &super::firewall_rules::FIREWALL_RULES)
}

/// The instance, or 404.
pub fn instance_of<'a>(store: &'a Store, project: &str, name: &str) -> ApiResult<&'a Instance> {
    store
        .instance(project, name)
        .map(|r| &r.inst)
        .ok_or_else(|| super::instances::not_found(name))
}

/// The instance, which must be READY for a write.
pub fn writable_instance<'a>(
    store: &'a Store,
    project: &str,
    name: &str,
) -> ApiResult<&'a Instance> {
    let inst = instance_of(store, project, name)?;
    if inst.busy() {
        return Err(ApiError::busy(&format!("instance {name}")));
    }
    if inst.state == "FAILED" {
        return Err(ApiError::Conflict {
            reason: "FAILED_PRECONDITION",
            detail: format!("instance {name} is FAILED"),
            retryable: false,
        });
    }
    Ok(inst)
}

fn key(project: &str, inst: &str, kind: &Kind, name: &str) -> ChildKey {
    (
        project.into(),
        inst.into(),
        kind.segment.into(),
        name.into(),
    )
}

async fn list(
    kind: &'static Kind,
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let page = Page::from_query(&q)?;
    let store = st.store();
    instance_of(&store, &project, &name)?;
    let start = key(&project, &name, kind, page.after.as_deref().unwrap_or(""));
    let items = store
        .children
        .range(start..)
        .take_while(|(k, _)| k.0 == project && k.1 == name && k.2 == kind.segment)
        .map(|(k, v)| (k.3.clone(), v.clone()));
    let (items, next) = page.take(items);
    Ok(json_response(
        StatusCode::OK,
        &list_body(kind.segment, items, next),
    ))
}

async fn create(
    kind: &'static Kind,
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let mut store = st.store();
    let inst = writable_instance(&store, &project, &name)?.clone();
    let now = rfc3339(store.now_ms());
    let (child, value) = (kind.create)(&inst, &body, &now)?;
    let k = key(&project, &name, kind, &child);
    if store.children.contains_key(&k) {
        return Err(ApiError::AlreadyExists(format!(
            "{} {child} already exists on instance {name}",
            kind.noun
        )));
    }
    let mut b = store.batch();
    b.put_child(k, value.clone());
    b.commit()?;
    Ok(json_response(StatusCode::CREATED, &value))
}

async fn get_one(
    kind: &'static Kind,
    State(st): State<AppState>,
    Path((project, name, child)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let store = st.store();
    instance_of(&store, &project, &name)?;
    let v = store
        .children
        .get(&key(&project, &name, kind, &child))
        .ok_or_else(|| ApiError::NotFound(format!("{} {child} not found", kind.noun)))?;
    Ok(json_response(StatusCode::OK, v))
}

async fn patch(
    kind: &'static Kind,
    State(st): State<AppState>,
    Path((project, name, child)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let mut store = st.store();
    let inst = instance_of(&store, &project, &name)?.clone();
    let k = key(&project, &name, kind, &child);
    let mut v = store
        .children
        .get(&k)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("{} {child} not found", kind.noun)))?;
    writable_instance(&store, &project, &name)?;
    (kind.patch)(&inst, &mut v, &body)?;
    v["updated_at"] = json!(rfc3339(store.now_ms()));
    let mut b = store.batch();
    b.put_child(k, v.clone());
    b.commit()?;
    Ok(json_response(StatusCode::OK, &v))
}

async fn delete(
    kind: &'static Kind,
    State(st): State<AppState>,
    Path((project, name, child)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let mut store = st.store();
    instance_of(&store, &project, &name)?;
    let k = key(&project, &name, kind, &child);
    if !store.children.contains_key(&k) {
        return Err(ApiError::NotFound(format!(
            "{} {child} not found",
            kind.noun
        )));
    }
    writable_instance(&store, &project, &name)?;
    let mut b = store.batch();
    b.del_child(k);
    b.commit()?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub fn fail_if(v: Vec<FieldViolation>) -> ApiResult<()> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(ApiError::violations(v))
    }
}

pub fn valid_token(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}
