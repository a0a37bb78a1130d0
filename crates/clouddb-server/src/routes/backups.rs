//! Backups. On-demand backups are taken synchronously under `/instances/{name}/backups`; final backups
//! are recorded when an instance is deleted without `skip_final_backup`. Backup names are unique per
//! project and backups outlive their instance: `/v1/projects/{project}/backups?instance=NAME` lists them all.
//! Each backup keeps a snapshot of its instance's databases and users (see `snapshot`), which a create
//! with `restore_from_backup` gives to the new instance.

use axum::Router;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::children::{MAX_PER_INSTANCE, instance_of, writable_instance};
use super::{Page, commit_answer, idem, json_response, list_body, parse_query, query_get};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::middleware::IdemCtx;
use crate::model::valid_instance_name;
use crate::store::lifecycle::backup_record;
use crate::util::rand_u64;

pub fn router(st: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/projects/{project}/backups", get(list_project))
        .route(
            "/v1/projects/{project}/backups/{backup}",
            idem(st, get(get_project).delete(delete_project)),
        )
        .route(
            "/v1/projects/{project}/instances/{name}/backups",
            idem(st, get(list_instance).post(create)),
        )
        .route(
            "/v1/projects/{project}/instances/{name}/backups/{backup}",
            idem(st, get(get_instance).delete(delete_instance)),
        )
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateReq {
    name: Option<String>,
    description: Option<String>,
}

async fn create(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    idem: Option<Extension<IdemCtx>>,
    body: Option<ApiJson<CreateReq>>,
) -> ApiResult<Response> {
    let req = body.map(|ApiJson(r)| r).unwrap_or_default();
    if let Some(n) = &req.name
        && !valid_instance_name(n)
    {
        return Err(ApiError::field(
            "name",
            "must match ^[a-z][a-z0-9-]{1,61}[a-z0-9]$",
        ));
    }
    if let Some(d) = &req.description
        && d.chars().count() > 256
    {
        return Err(ApiError::field("description", "at most 256 characters"));
    }
    let mut store = st.store().await;
    let inst = writable_instance(&store, &project, &name)?.clone();
    let now = store.now_ms();
    let count = store
        .backups
        .range((project.clone(), String::new())..)
        .take_while(|((p, _), _)| *p == project)
        .filter(|(_, v)| v["instance_uid"] == inst.uid.as_str() && v["type"] == "ON_DEMAND")
        .count();
    if count >= MAX_PER_INSTANCE {
        return Err(ApiError::QuotaExceeded(format!(
            "instance {name} already has {count} on-demand backups (limit {MAX_PER_INSTANCE})"
        )));
    }
    let bname = req.name.clone().unwrap_or_else(|| {
        let mut base = name.clone();
        base.truncate(40);
        format!("{}-{:08x}", base.trim_end_matches('-'), rand_u64() as u32)
    });
    if store
        .backups
        .contains_key(&(project.clone(), bname.clone()))
    {
        return Err(ApiError::AlreadyExists(format!(
            "backup {bname} already exists"
        )));
    }
    let snap = store.children_snapshot(&project, &name);
    let mut rec = backup_record(&inst, &snap, &bname, "ON_DEMAND", now);
    // A real engine: the backup is a dump of it, and its size is the dump's.
    let engine = st
        .engines
        .as_ref()
        .zip(store.engines.get(&(project.clone(), name.clone())));
    if let Some((be, erec)) = engine {
        let size = be
            .dump(erec, &project, &bname)
            .await
            .map_err(|e| ApiError::Engine(e.to_string()))?;
        rec["size_bytes"] = json!(size);
    }
    rec["description"] = json!(req.description.unwrap_or_default());
    let idem = idem.map(|Extension(c)| c);
    rec["creation_token"] = json!(idem.as_ref().map(|c| c.key.as_str()).unwrap_or(""));
    let dumped = engine.map(|(be, _)| be.clone());
    let mut b = store.batch();
    b.put_backup(&project, &bname, rec.clone());
    let res = commit_answer(b, idem.as_ref(), StatusCode::CREATED, Some(&rec)).await;
    if res.is_err()
        && let Some(be) = dumped
    {
        be.remove_dump(&project, &bname);
    }
    res
}

async fn list(
    st: &AppState,
    project: &str,
    instance: Option<&str>,
    raw: Option<&str>,
    check_instance: bool,
) -> ApiResult<Response> {
    let q = parse_query(raw)?;
    let page = Page::from_query(&q)?;
    let store = st.read().await;
    if check_instance && let Some(i) = instance {
        instance_of(&store, project, i)?;
    }
    let start = (project.to_string(), page.after.clone().unwrap_or_default());
    let items = store
        .backups
        .range(start..)
        .take_while(|((p, _), _)| p == project)
        .filter(|(_, v)| instance.is_none_or(|i| v["instance"] == i))
        .map(|((_, n), v)| (n.clone(), v.clone()));
    let (items, next) = page.take(items);
    Ok(json_response(
        StatusCode::OK,
        &list_body("backups", items, next),
    ))
}

async fn list_project(
    State(st): State<AppState>,
    Path(project): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let instance = query_get(&q, "instance")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    list(&st, &project, instance.as_deref(), raw.as_deref(), false).await
}

async fn list_instance(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    list(&st, &project, Some(&name), raw.as_deref(), true).await
}

async fn find(
    st: &AppState,
    project: &str,
    instance: Option<&str>,
    backup: &str,
) -> ApiResult<Value> {
    let store = st.read().await;
    if let Some(i) = instance {
        instance_of(&store, project, i)?;
    }
    store
        .backups
        .get(&(project.to_string(), backup.to_string()))
        .filter(|v| instance.is_none_or(|i| v["instance"] == i))
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("backup {backup} not found")))
}

async fn get_project(
    State(st): State<AppState>,
    Path((project, backup)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(json_response(
        StatusCode::OK,
        &find(&st, &project, None, &backup).await?,
    ))
}

async fn get_instance(
    State(st): State<AppState>,
    Path((project, name, backup)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    Ok(json_response(
        StatusCode::OK,
        &find(&st, &project, Some(&name), &backup).await?,
    ))
}

async fn remove(
    st: &AppState,
    project: &str,
    instance: Option<&str>,
    backup: &str,
    idem: Option<Extension<IdemCtx>>,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    if let Some(i) = instance {
        instance_of(&store, project, i)?;
    }
    let exists = store
        .backups
        .get(&(project.to_string(), backup.to_string()))
        .is_some_and(|v| instance.is_none_or(|i| v["instance"] == i));
    if !exists {
        return Err(ApiError::NotFound(format!("backup {backup} not found")));
    }
    let mut b = store.batch();
    b.del_backup(project, backup);
    let res = commit_answer(b, idem.as_ref().map(|e| &e.0), StatusCode::NO_CONTENT, None).await?;
    if let Some(be) = &st.engines {
        be.remove_dump(project, backup);
    }
    Ok(res)
}

async fn delete_project(
    State(st): State<AppState>,
    Path((project, backup)): Path<(String, String)>,
    idem: Option<Extension<IdemCtx>>,
) -> ApiResult<Response> {
    remove(&st, &project, None, &backup, idem).await
}

async fn delete_instance(
    State(st): State<AppState>,
    Path((project, name, backup)): Path<(String, String, String)>,
    idem: Option<Extension<IdemCtx>>,
) -> ApiResult<Response> {
    remove(&st, &project, Some(&name), &backup, idem).await
}
