//! Generic handlers for the synchronous sub-resources of an instance (`databases`, `users`,
//! `firewallRules` under `/v1/projects/{project}/instances/{name}/...`): list, create (201), get, patch
//! and delete (204). Each resource module (`databases`, `users`, `firewall_rules`) supplies a [`Kind`]
//! with its body types and validation; the parent `routes` module mounts each with [`router`], so
//! this module does not depend on them. Writes need the instance READY (409 OPERATION_IN_PROGRESS while an operation runs).

use axum::Router;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Page, commit_answer, idem, json_response, list_body, parse_query};
use crate::AppState;
use crate::engine::backend::Change;
use crate::error::{ApiError, ApiResult, FieldViolation};
use crate::extract::ApiJson;
use crate::middleware::IdemCtx;
use crate::model::{Instance, InstanceState};
use crate::store::{ChildKey, Store};
use crate::util::rfc3339;

/// One kind of sub-resource, with its create body `C` and patch body `P` (both parsed by
/// [`ApiJson`], so their 400s are the extractor's).
pub struct Kind<C, P> {
    /// Path segment and storage kind.
    pub segment: &'static str,
    /// Singular, for messages.
    pub noun: &'static str,
    /// Validates a create body for the instance at time `now` (RFC 3339) and builds the stored
    /// record: `(name, record)`, or a 400 listing the field violations.
    pub create: fn(&Instance, C, &str) -> ApiResult<(String, Value)>,
    /// Validates a patch body and applies it to a stored record, or answers a 400 leaving the
    /// record as it was.
    pub patch: fn(&Instance, &mut Value, P) -> ApiResult<()>,
    /// Most records of this kind per instance; one more is 409 `QUOTA_EXCEEDED`.
    pub limit: usize,
    /// The write-only secret of a create or patch body (a user's password): the record never
    /// holds it, a real engine needs it.
    pub create_secret: fn(&C) -> Option<String>,
    pub patch_secret: fn(&P) -> Option<String>,
    /// What a real engine (`--engines real`) does for a write of this kind, if anything.
    pub engine_change: fn(&ChildWrite<'_>) -> Option<Change>,
}

/// One write of a sub-resource, as [`Kind::engine_change`] sees it.
pub struct ChildWrite<'a> {
    pub name: &'a str,
    /// The record after the write; `None` when it was deleted.
    pub record: Option<&'a Value>,
    pub secret: Option<&'a str>,
    /// Every record of the kind on the instance after the write, in name order.
    pub all: &'a [Value],
}

/// Applies a write to the instance's real engine, when it has one. An engine error is 500
/// `ENGINE_ERROR` and the caller records nothing.
async fn engine_write<C, P>(
    st: &AppState,
    store: &Store,
    kind: &Kind<C, P>,
    project: &str,
    instance: &str,
    write: ChildWrite<'_>,
) -> ApiResult<()> {
    let Some(be) = &st.engines else {
        return Ok(());
    };
    let Some(rec) = store
        .engines
        .get(&(project.to_string(), instance.to_string()))
    else {
        return Ok(());
    };
    match (kind.engine_change)(&write) {
        Some(change) => be
            .apply(rec, change)
            .await
            .map_err(|e| ApiError::Engine(e.to_string())),
        None => Ok(()),
    }
}

/// Puts the engine back after a write it applied could not be recorded (the commit failed), so
/// that the engine and the records agree: `old` is the record before the write (`None`: it did not
/// exist), `before` every record of the kind before it. Best effort (a user dropped again loses
/// nothing; one re-created after a failed delete has no password until one is set), and logged.
async fn engine_undo<C, P>(
    st: &AppState,
    store: &Store,
    kind: &Kind<C, P>,
    (project, instance, name): (&str, &str, &str),
    old: Option<&Value>,
    before: &[Value],
) {
    let write = ChildWrite {
        name,
        record: old,
        secret: None,
        all: before,
    };
    if let Err(e) = engine_write(st, store, kind, project, instance, write).await {
        tracing::error!(%project, %instance, child = %name, error = %e,
            "undoing an engine change whose record could not be written failed");
    }
}

/// The records of `kind` on the instance after `name` becomes `record` (or goes, with `None`).
fn all_after<C, P>(
    store: &Store,
    kind: &Kind<C, P>,
    project: &str,
    instance: &str,
    name: &str,
    record: Option<&Value>,
) -> Vec<Value> {
    let mut all: Vec<Value> = store
        .children_of(project, instance, kind.segment)
        .filter(|v| v["name"] != name)
        .cloned()
        .collect();
    if let Some(r) = record {
        all.push(r.clone());
    }
    all.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    all
}

/// Writes child `name` (now `value`; it was `old`, `None` for a create) through to the instance's
/// engine, then records it and answers. When the commit fails the engine change is undone, so the
/// engine and the records never disagree.
#[allow(clippy::too_many_arguments)] // one per part of the write; a struct would only rename them
async fn write_through<C, P>(
    st: &AppState,
    store: &mut Store,
    kind: &Kind<C, P>,
    (project, instance, name): (&str, &str, &str),
    value: &Value,
    old: Option<&Value>,
    secret: Option<&str>,
    (idem, status): (Option<&IdemCtx>, StatusCode),
) -> ApiResult<Response> {
    let all = all_after(store, kind, project, instance, name, Some(value));
    let write = ChildWrite {
        name,
        record: Some(value),
        secret,
        all: &all,
    };
    engine_write(st, store, kind, project, instance, write).await?;
    let before: Vec<Value> = store
        .children_of(project, instance, kind.segment)
        .cloned()
        .collect();
    let mut b = store.batch();
    b.put_child(key(project, instance, kind, name), value.clone());
    let res = commit_answer(b, idem, status, Some(value)).await;
    if res.is_err() {
        engine_undo(st, store, kind, (project, instance, name), old, &before).await;
    }
    res
}

/// Per-instance limit of each sub-resource kind (databases, users, firewall rules, on-demand backups).
pub const MAX_PER_INSTANCE: usize = 100;

type Idem = Option<Extension<IdemCtx>>;

/// The routes of one kind: `…/instances/{name}/<segment>` (list, create) and
/// `…/instances/{name}/<segment>/{child}` (get, patch, delete), all with Idempotency-Key handling.
pub fn router<C, P>(st: &AppState, kind: &'static Kind<C, P>) -> Router<AppState>
where
    C: DeserializeOwned + Send + 'static,
    P: DeserializeOwned + Send + 'static,
{
    let k = kind;
    let collection =
        get(move |s: State<AppState>, p: Path<(String, String)>, q: RawQuery| list(k, s, p, q))
            .post(
                move |s: State<AppState>,
                      p: Path<(String, String)>,
                      i: Idem,
                      b: Result<ApiJson<C>, ApiError>| create(k, s, p, i, b),
            );
    let item = get(move |s: State<AppState>, p: Path<(String, String, String)>| get_one(k, s, p))
        .patch(
            move |s: State<AppState>,
                  p: Path<(String, String, String)>,
                  i: Idem,
                  b: Result<ApiJson<P>, ApiError>| patch(k, s, p, i, b),
        )
        .delete(
            move |s: State<AppState>, p: Path<(String, String, String)>, i: Idem| {
                delete(k, s, p, i)
            },
        );
    Router::new()
        .route(
            &format!("/v1/projects/{{project}}/instances/{{name}}/{}", k.segment),
            idem(st, collection),
        )
        .route(
            &format!(
                "/v1/projects/{{project}}/instances/{{name}}/{}/{{child}}",
                k.segment
            ),
            idem(st, item),
        )
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
    if inst.state == InstanceState::Failed {
        return Err(ApiError::Conflict {
            reason: "FAILED_PRECONDITION",
            detail: format!("instance {name} is FAILED"),
            retryable: false,
        });
    }
    Ok(inst)
}

fn key<C, P>(project: &str, inst: &str, kind: &Kind<C, P>, name: &str) -> ChildKey {
    (
        project.into(),
        inst.into(),
        kind.segment.into(),
        name.into(),
    )
}

async fn list<C, P>(
    kind: &'static Kind<C, P>,
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let page = Page::from_query(&q)?;
    let store = st.read().await;
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

/// Creates one child. The instance checks (404, 409) come before the body's 400s.
async fn create<C, P>(
    kind: &'static Kind<C, P>,
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    idem: Idem,
    body: Result<ApiJson<C>, ApiError>,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    let inst = writable_instance(&store, &project, &name)?.clone();
    let ApiJson(body) = body?;
    let now = rfc3339(store.now_ms());
    let secret = (kind.create_secret)(&body);
    let (child, mut value) = (kind.create)(&inst, body, &now)?;
    let k = key(&project, &name, kind, &child);
    if store.children.contains_key(&k) {
        return Err(ApiError::AlreadyExists(format!(
            "{} {child} already exists on instance {name}",
            kind.noun
        )));
    }
    let count = store
        .children
        .range(key(&project, &name, kind, "")..)
        .take_while(|(k, _)| k.0 == project && k.1 == name && k.2 == kind.segment)
        .take(kind.limit)
        .count();
    if count >= kind.limit {
        return Err(ApiError::QuotaExceeded(format!(
            "instance {name} already has {count} {}s (limit {})",
            kind.noun, kind.limit
        )));
    }
    let idem = idem.map(|Extension(c)| c);
    value["creation_token"] = json!(idem.as_ref().map(|c| c.key.as_str()).unwrap_or(""));
    let ids = (project.as_str(), name.as_str(), child.as_str());
    let answer = (idem.as_ref(), StatusCode::CREATED);
    write_through(
        &st,
        &mut store,
        kind,
        ids,
        &value,
        None,
        secret.as_deref(),
        answer,
    )
    .await
}

async fn get_one<C, P>(
    kind: &'static Kind<C, P>,
    State(st): State<AppState>,
    Path((project, name, child)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let store = st.read().await;
    instance_of(&store, &project, &name)?;
    let v = store
        .children
        .get(&key(&project, &name, kind, &child))
        .ok_or_else(|| ApiError::NotFound(format!("{} {child} not found", kind.noun)))?;
    Ok(json_response(StatusCode::OK, v))
}

/// Patches one child. The instance and child checks (404, 409) come before the body's 400s.
async fn patch<C, P>(
    kind: &'static Kind<C, P>,
    State(st): State<AppState>,
    Path((project, name, child)): Path<(String, String, String)>,
    idem: Idem,
    body: Result<ApiJson<P>, ApiError>,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    let inst = instance_of(&store, &project, &name)?.clone();
    let k = key(&project, &name, kind, &child);
    let mut v = store
        .children
        .get(&k)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("{} {child} not found", kind.noun)))?;
    writable_instance(&store, &project, &name)?;
    let ApiJson(body) = body?;
    let secret = (kind.patch_secret)(&body);
    let old = v.clone();
    (kind.patch)(&inst, &mut v, body)?;
    v["updated_at"] = json!(rfc3339(store.now_ms()));
    let ids = (project.as_str(), name.as_str(), child.as_str());
    let answer = (idem.as_ref().map(|e| &e.0), StatusCode::OK);
    write_through(
        &st,
        &mut store,
        kind,
        ids,
        &v,
        Some(&old),
        secret.as_deref(),
        answer,
    )
    .await
}

async fn delete<C, P>(
    kind: &'static Kind<C, P>,
    State(st): State<AppState>,
    Path((project, name, child)): Path<(String, String, String)>,
    idem: Idem,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    instance_of(&store, &project, &name)?;
    let k = key(&project, &name, kind, &child);
    if !store.children.contains_key(&k) {
        return Err(ApiError::NotFound(format!(
            "{} {child} not found",
            kind.noun
        )));
    }
    writable_instance(&store, &project, &name)?;
    let all = all_after(&store, kind, &project, &name, &child, None);
    let write = ChildWrite {
        name: &child,
        record: None,
        secret: None,
        all: &all,
    };
    engine_write(&st, &store, kind, &project, &name, write).await?;
    let before: Vec<Value> = store
        .children_of(&project, &name, kind.segment)
        .cloned()
        .collect();
    let old = store.children.get(&k).cloned();
    let mut b = store.batch();
    b.del_child(k);
    let res = commit_answer(b, idem.as_ref().map(|e| &e.0), StatusCode::NO_CONTENT, None).await;
    if res.is_err() {
        engine_undo(
            &st,
            &store,
            kind,
            (&project, &name, &child),
            old.as_ref(),
            &before,
        )
        .await;
    }
    res
}

/// `Ok` when there are no violations, else a 400 listing them all.
pub fn fail_if(v: Vec<FieldViolation>) -> ApiResult<()> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(ApiError::violations(v))
    }
}

/// Charset and collation names: 1 to 64 characters of `[A-Za-z0-9_.-]`.
pub fn valid_token(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}
