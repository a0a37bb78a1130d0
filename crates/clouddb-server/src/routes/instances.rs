//! `/v1/projects/{project}/instances`: create, get, list, patch and delete. Create, patch and delete
//! answer 202 with an Operation.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;

use super::restore::Source;
use super::{
    Page, check_if_match, idem, json_response, list_body, parse_query, query_bool, query_get,
};
use crate::AppState;
use crate::engine::backend::spawn_job;
use crate::error::{ApiError, ApiResult, FieldViolation};
use crate::extract::ApiJson;
use crate::middleware::{IdemCtx, IdemStored};
use crate::model::{
    BackupConfig, BackupPatch, ENGINES, Endpoint, Instance, InstanceState, check_labels,
    check_storage, default_port, default_version, find_tier, find_version, major,
    valid_instance_name, valid_sql_name, version_parts,
};
use crate::store::lifecycle::{OpPlan, new_op_id};
use crate::store::{Batch, IdemRec, InstanceRec, OpRec};
use crate::util::{rfc3339, uuid_like};

pub fn router(st: &AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/v1/projects/{project}/instances",
            idem(st, get(list).post(create)),
        )
        .route(
            "/v1/projects/{project}/instances/{name}",
            idem(st, get(get_one).patch(patch).delete(delete)),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateReq {
    name: Option<String>,
    engine: Option<String>,
    engine_version: Option<String>,
    tier: Option<String>,
    storage_gb: Option<i64>,
    high_availability: Option<bool>,
    admin_username: Option<String>,
    admin_password: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    deletion_protection: Option<bool>,
    backup: Option<BackupPatch>,
    /// A backup of the project to restore: the instance gets its databases and users, and its
    /// engine and version unless the body names them.
    restore_from_backup: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchReq {
    tier: Option<String>,
    storage_gb: Option<i64>,
    high_availability: Option<bool>,
    engine_version: Option<String>,
    allow_major_version_upgrade: Option<bool>,
    admin_password: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    deletion_protection: Option<bool>,
    backup: Option<BackupPatch>,
    name: Option<Value>,
    engine: Option<Value>,
    admin_username: Option<Value>,
    uid: Option<Value>,
    restored_from_backup: Option<Value>,
}

fn check_password(p: &Option<String>, out: &mut Vec<FieldViolation>) {
    if let Some(p) = p
        && !(8..=128).contains(&p.chars().count())
    {
        out.push(FieldViolation::new(
            "admin_password",
            "must be 8 to 128 characters",
        ));
    }
}

/// Commits `b` and answers 202 with the operation and its `Location`. With an Idempotency-Key, the
/// idempotency record is committed in the same transaction as the change.
pub(super) async fn commit_accepted(
    mut b: Batch<'_>,
    idem: Option<&IdemCtx>,
    project: &str,
    op: &OpRec,
    now: i64,
) -> ApiResult<Response> {
    let body =
        serde_json::to_string(&op.public(now)).map_err(|e| ApiError::Internal(e.to_string()))?;
    let location = format!("/v1/projects/{project}/operations/{}", op.id);
    if let Some(ctx) = idem {
        b.put_idem(
            &ctx.scope,
            &ctx.key,
            IdemRec {
                fingerprint: ctx.fingerprint.clone(),
                status: 202,
                content_type: Some("application/json".into()),
                location: Some(location.clone()),
                body: body.clone(),
                created_ms: now,
                created_real_ms: 0,
            },
        );
    }
    b.commit().await?;
    let mut r = (StatusCode::ACCEPTED, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    if idem.is_some() {
        r.extensions_mut().insert(IdemStored);
    }
    Ok(r)
}

/// The instance with its ETag header.
pub fn instance_response(status: StatusCode, inst: &Instance) -> Response {
    let mut r = json_response(status, inst);
    if let Ok(v) = HeaderValue::from_str(&inst.etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

async fn create(
    State(st): State<AppState>,
    Path(project): Path<String>,
    idem: Option<Extension<IdemCtx>>,
    ApiJson(req): ApiJson<CreateReq>,
) -> ApiResult<Response> {
    // Locked before validation: the backup of a restore is read and the instance created under one
    // lock, so a restore never starts from a backup deleted meanwhile.
    let mut store = st.store().await;
    let mut v = Vec::new();
    let name = req.name.clone().unwrap_or_default();
    if req.name.is_none() {
        v.push(FieldViolation::new("name", "is required"));
    } else if !valid_instance_name(&name) {
        v.push(FieldViolation::new(
            "name",
            "must match ^[a-z][a-z0-9-]{1,61}[a-z0-9]$ (3 to 63 characters)",
        ));
    }
    // "" is no restore, the value `restored_from_backup` reads back for an instance not restored.
    let source = req
        .restore_from_backup
        .as_deref()
        .filter(|b| !b.is_empty())
        .and_then(|b| Source::find(&store, &project, b, &mut v));
    let engine_matches = source
        .as_ref()
        .is_none_or(|s| s.check_engine(req.engine.as_deref(), &mut v));
    let engine = req
        .engine
        .clone()
        .or_else(|| source.as_ref().map(|s| s.engine.clone()))
        .unwrap_or_else(|| "mysql".into());
    if !ENGINES.contains(&engine.as_str()) {
        v.push(FieldViolation::new("engine", "must be mysql or postgres"));
    }
    let version = match (&req.engine_version, &source) {
        (Some(ver), _) => find_version(&engine, ver),
        (None, Some(s)) if engine_matches => find_version(&engine, &s.engine_version),
        (None, _) => default_version(&engine),
    };
    if version.is_none() && ENGINES.contains(&engine.as_str()) {
        v.push(FieldViolation::new(
            "engine_version",
            format!("unknown {engine} version; see GET /v1/engineVersions?engine={engine}"),
        ));
    }
    if let (Some(s), Some(ver), true) = (&source, version, engine_matches) {
        s.check_version(ver.version, &mut v);
    }
    let tier = match &req.tier {
        None => {
            v.push(FieldViolation::new("tier", "is required"));
            None
        }
        Some(t) => {
            let f = find_tier(t);
            if f.is_none() {
                v.push(FieldViolation::new(
                    "tier",
                    "unknown tier; see GET /v1/tiers",
                ));
            }
            f
        }
    };
    match (req.storage_gb, tier) {
        (None, _) => v.push(FieldViolation::new("storage_gb", "is required")),
        (Some(s), Some(t)) => check_storage(t, s, &mut v),
        (Some(s), None) => {
            if s < crate::model::MIN_STORAGE_GB as i64 {
                v.push(FieldViolation::new("storage_gb", "must be at least 10"));
            }
        }
    }
    if let (Some(s), Some(gb)) = (&source, req.storage_gb) {
        s.check_storage(gb, &mut v);
    }
    let admin_username = req
        .admin_username
        .clone()
        .unwrap_or_else(|| "dbadmin".into());
    if !valid_sql_name(&admin_username) || admin_username.len() > 32 {
        v.push(FieldViolation::new(
            "admin_username",
            "must match ^[A-Za-z_][A-Za-z0-9_]{0,31}$",
        ));
    }
    if let Some(s) = &source {
        s.check_admin_username(&admin_username, &mut v);
    }
    check_password(&req.admin_password, &mut v);
    let labels = req.labels.clone().unwrap_or_default();
    check_labels(&labels, &mut v);
    let mut backup = BackupConfig::default();
    if let Some(b) = &req.backup {
        b.apply(&mut backup, &mut v);
    }
    if !v.is_empty() {
        return Err(ApiError::violations(v));
    }
    if let Some(s) = &source {
        s.check_ready()?;
    }
    let (Some(version), Some(tier), Some(storage_gb)) = (version, tier, req.storage_gb) else {
        return Err(ApiError::Internal("validation incomplete".into()));
    };
    let path = format!("/v1/projects/{project}/instances");
    let fail = st.faults.take_fail_operation("POST", &path);

    if store.instance(&project, &name).is_some() {
        return Err(ApiError::AlreadyExists(format!(
            "instance {name} already exists in project {project}"
        )));
    }
    if let (Some(be), Some(s)) = (&st.engines, &source)
        && !be.backup_file(&project, &s.name).exists()
    {
        return Err(ApiError::Conflict {
            reason: "FAILED_PRECONDITION",
            detail: format!(
                "backup {} has no dump to restore (it was not taken by a real engine)",
                s.name
            ),
            retryable: false,
        });
    }
    let now = store.now_ms();
    let op_id = new_op_id();
    let mut inst = Instance {
        name: name.clone(),
        uid: uuid_like(),
        project: project.clone(),
        engine: engine.clone(),
        engine_version: version.version.into(),
        engine_version_actual: version.actual.into(),
        tier: tier.name.into(),
        storage_gb: storage_gb as u64,
        high_availability: req.high_availability.unwrap_or(false),
        admin_username,
        labels,
        deletion_protection: req.deletion_protection.unwrap_or(false),
        backup,
        endpoint: Endpoint {
            host: format!("{name}.{project}.clouddb.internal"),
            port: default_port(&engine),
        },
        state: InstanceState::Creating,
        current_operation: Some(op_id.clone()),
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        etag: String::new(),
        creation_token: idem.as_ref().map(|e| e.0.key.clone()).unwrap_or_default(),
        restored_from_backup: source.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
    };
    // A real engine: its directories and port now, so the endpoint is known from the start.
    let engine = match &st.engines {
        Some(be) => {
            if let Err(e) = be.driver(&inst.engine) {
                return Err(ApiError::field("engine", e.to_string()));
            }
            let rec = be
                .new_record(&inst, &store)
                .map_err(|e| ApiError::Engine(e.to_string()))?;
            inst.endpoint = Endpoint {
                host: "127.0.0.1".into(),
                port: rec.port,
            };
            Some(rec)
        }
        None => None,
    };
    inst.refresh_etag();
    let mut b = store.batch();
    b.put_instance(InstanceRec {
        inst,
        created_ms: now,
    });
    let real = engine.is_some();
    if let Some(rec) = engine {
        b.put_engine(&project, &name, rec);
    }
    let op = b.new_op(
        op_id,
        &project,
        &name,
        "create",
        st.config.provision_ms,
        OpPlan {
            fail,
            restore: source.map(|s| s.snapshot),
            engine: real,
            ..OpPlan::default()
        },
    );
    let op = b.start_op(op);
    let res = commit_accepted(b, idem.as_ref().map(|e| &e.0), &project, &op, now).await?;
    if real {
        let password = req.admin_password.clone().unwrap_or_default();
        spawn_job(st.clone(), project, name, op.id, Some(password));
    }
    Ok(res)
}

async fn get_one(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let window = st
        .faults
        .not_found_window_ms(&format!("/v1/projects/{project}/instances/{name}"));
    let store = st.read().await;
    let rec = store
        .instance(&project, &name)
        .ok_or_else(|| not_found(&name))?;
    if let Some(w) = window
        && store.now_ms() < rec.created_ms.saturating_add(w)
    {
        return Err(not_found(&name));
    }
    Ok(instance_response(StatusCode::OK, &rec.inst))
}

pub fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("instance {name} not found"))
}

/// Parses `label` filters: `key:value` (exact) or `key` (present).
fn label_filters(q: &[(String, String)]) -> ApiResult<Vec<(String, Option<String>)>> {
    q.iter()
        .filter(|(k, _)| k == "label")
        .map(|(_, v)| {
            if v.is_empty() {
                return Err(ApiError::field("label", "must be key:value or key"));
            }
            Ok(match v.split_once(':') {
                Some((k, val)) => (k.to_string(), Some(val.to_string())),
                None => (v.clone(), None),
            })
        })
        .collect()
}

async fn list(
    State(st): State<AppState>,
    Path(project): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let page = Page::from_query(&q)?;
    let filters = label_filters(&q)?;
    let state_filter = match query_get(&q, "state") {
        None => None,
        Some(s) => Some(
            InstanceState::parse(s)
                .ok_or_else(|| ApiError::field("state", InstanceState::expected()))?,
        ),
    };
    let store = st.read().await;
    let start = (project.clone(), page.after.clone().unwrap_or_default());
    let items = store
        .instances
        .range(start..)
        .take_while(|((p, _), _)| *p == project)
        .filter(|(_, r)| {
            filters.iter().all(|(k, v)| match v {
                Some(v) => r.inst.labels.get(k) == Some(v),
                None => r.inst.labels.contains_key(k),
            }) && state_filter.is_none_or(|s| r.inst.state == s)
        })
        .map(|((_, n), r)| {
            (
                n.clone(),
                serde_json::to_value(&r.inst).unwrap_or(Value::Null),
            )
        });
    let (items, next) = page.take(items);
    Ok(json_response(
        StatusCode::OK,
        &list_body("instances", items, next),
    ))
}

async fn patch(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    idem: Option<Extension<IdemCtx>>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PatchReq>,
) -> ApiResult<Response> {
    let mut v = Vec::new();
    for (field, val) in [
        ("name", &req.name),
        ("engine", &req.engine),
        ("admin_username", &req.admin_username),
        ("uid", &req.uid),
        ("restored_from_backup", &req.restored_from_backup),
    ] {
        if val.is_some() {
            v.push(FieldViolation::new(
                field,
                format!("{field} cannot be changed after create"),
            ));
        }
    }
    if let Some(t) = &req.tier
        && find_tier(t).is_none()
    {
        v.push(FieldViolation::new(
            "tier",
            "unknown tier; see GET /v1/tiers",
        ));
    }
    check_password(&req.admin_password, &mut v);
    if let Some(l) = &req.labels {
        check_labels(l, &mut v);
    }
    if let Some(b) = &req.backup {
        b.apply(&mut BackupConfig::default(), &mut v);
    }
    if !v.is_empty() {
        return Err(ApiError::violations(v));
    }
    let path = format!("/v1/projects/{project}/instances/{name}");
    let mut store = st.store().await;
    let rec = store
        .instance(&project, &name)
        .cloned()
        .ok_or_else(|| not_found(&name))?;
    check_if_match(&headers, &rec.inst.etag)?;
    if rec.inst.busy() {
        return Err(ApiError::busy(&format!("instance {name}")));
    }
    if rec.inst.state == InstanceState::Failed {
        return Err(ApiError::Conflict {
            reason: "FAILED_PRECONDITION",
            detail: format!("instance {name} is FAILED; it can only be deleted"),
            retryable: false,
        });
    }
    let old = rec.inst.clone();
    let mut inst = rec.inst.clone();
    let mut heavy = false;
    let tier = req
        .tier
        .as_deref()
        .and_then(find_tier)
        .or_else(|| find_tier(&inst.tier));
    let storage = req.storage_gb.unwrap_or(inst.storage_gb as i64);
    if storage < inst.storage_gb as i64 {
        v.push(FieldViolation::new(
            "storage_gb",
            format!("storage can only grow (currently {} GB)", inst.storage_gb),
        ));
    } else if let Some(t) = tier {
        check_storage(t, storage, &mut v);
    }
    if let Some(ver) = &req.engine_version {
        match find_version(&inst.engine, ver) {
            None => v.push(FieldViolation::new(
                "engine_version",
                format!(
                    "unknown {} version; see GET /v1/engineVersions?engine={}",
                    inst.engine, inst.engine
                ),
            )),
            Some(target) => {
                let cur = version_parts(&inst.engine_version);
                let new = version_parts(target.version);
                if new < cur {
                    return Err(ApiError::field_reason(
                        "VERSION_DOWNGRADE",
                        "engine_version",
                        format!("cannot downgrade from {} to {}", inst.engine_version, ver),
                    ));
                }
                if major(target.version) != major(&inst.engine_version)
                    && !req.allow_major_version_upgrade.unwrap_or(false)
                {
                    return Err(ApiError::field_reason(
                        "MAJOR_VERSION_UPGRADE_REQUIRES_FLAG",
                        "engine_version",
                        format!(
                            "{} -> {} is a major version upgrade; set allow_major_version_upgrade to true",
                            inst.engine_version, ver
                        ),
                    ));
                }
                if new != cur {
                    heavy = true;
                    inst.engine_version = target.version.into();
                    inst.engine_version_actual = target.actual.into();
                }
            }
        }
    }
    if !v.is_empty() {
        return Err(ApiError::violations(v));
    }
    let mut tier_changed = false;
    if let Some(t) = tier
        && t.name != inst.tier
    {
        heavy = true;
        tier_changed = true;
        inst.tier = t.name.into();
    }
    if storage as u64 != inst.storage_gb {
        heavy = true;
        inst.storage_gb = storage as u64;
    }
    if let Some(ha) = req.high_availability
        && ha != inst.high_availability
    {
        heavy = true;
        inst.high_availability = ha;
    }
    if let Some(l) = req.labels {
        inst.labels = l;
    }
    if let Some(d) = req.deletion_protection {
        inst.deletion_protection = d;
    }
    if let Some(b) = &req.backup {
        b.apply(&mut inst.backup, &mut v);
    }
    let fail = st.faults.take_fail_operation("PATCH", &path);
    let now = store.now_ms();
    let op_id = new_op_id();
    // A real engine: a tier change restarts it with the new settings, a new admin password is set
    // in it; every other change is a record only and finishes at once.
    let real = st.engines.is_some() && store.engines.contains_key(&(project.clone(), name.clone()));
    let engine_work = real && (tier_changed || req.admin_password.is_some());
    if real {
        if tier_changed {
            inst.state = InstanceState::Updating;
        }
    } else if heavy && st.config.update_ms > 0 {
        inst.state = InstanceState::Updating;
    }
    let duration = match (real, engine_work, heavy) {
        (true, true, _) => st.config.update_ms,
        (true, false, _) | (false, _, false) => 0,
        (false, _, true) => st.config.update_ms,
    };
    inst.current_operation = Some(op_id.clone());
    inst.updated_at = rfc3339(now);
    inst.refresh_etag();
    let mut b = store.batch();
    b.put_instance(InstanceRec {
        inst,
        created_ms: rec.created_ms,
    });
    let op = b.new_op(
        op_id,
        &project,
        &name,
        "update",
        duration,
        OpPlan {
            fail,
            rollback: Some(old),
            engine: engine_work,
            ..OpPlan::default()
        },
    );
    let op = b.start_op(op);
    let res = commit_accepted(b, idem.as_ref().map(|e| &e.0), &project, &op, now).await?;
    if engine_work {
        spawn_job(st.clone(), project, name, op.id, req.admin_password.clone());
    }
    Ok(res)
}

/// A name for a final backup: `<instance>-final-<YYYYMMDDhhmmss>`, or with `-2`, `-3`, … after it
/// when that name is `taken`. Two deletes of instances of one name within a second (a replace
/// followed by a destroy, on an API that provisions instantly) must not fail on a name the caller
/// never chose; only a `final_backup_name` given by the caller is refused when taken.
fn final_backup_name(name: &str, now: i64, taken: impl Fn(&str) -> bool) -> String {
    let ts: String = rfc3339(now)
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    let mut n = 1u32;
    loop {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let mut base = name.to_string();
        base.truncate(63usize.saturating_sub(7 + ts.len() + suffix.len()));
        let candidate = format!("{}-final-{ts}{suffix}", base.trim_end_matches('-'));
        if !taken(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

async fn delete(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    idem: Option<Extension<IdemCtx>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let skip = query_bool(&q, "skip_final_backup", false)?;
    let given = query_get(&q, "final_backup_name").filter(|s| !s.is_empty());
    if let Some(n) = given
        && !valid_instance_name(n)
    {
        return Err(ApiError::field(
            "final_backup_name",
            "must match ^[a-z][a-z0-9-]{1,61}[a-z0-9]$",
        ));
    }
    let path = format!("/v1/projects/{project}/instances/{name}");
    let mut store = st.store().await;
    let rec = store
        .instance(&project, &name)
        .cloned()
        .ok_or_else(|| not_found(&name))?;
    check_if_match(&headers, &rec.inst.etag)?;
    if rec.inst.busy() {
        return Err(ApiError::busy(&format!("instance {name}")));
    }
    if rec.inst.deletion_protection {
        return Err(ApiError::Conflict {
            reason: "DELETION_PROTECTED",
            detail: format!(
                "instance {name} has deletion_protection enabled; set it to false with PATCH before deleting"
            ),
            retryable: false,
        });
    }
    let now = store.now_ms();
    let final_backup = if skip || rec.inst.state == InstanceState::Failed {
        None
    } else {
        let taken = |n: &str| {
            store
                .backups
                .contains_key(&(project.clone(), n.to_string()))
        };
        match given {
            Some(n) if taken(n) => {
                return Err(ApiError::AlreadyExists(format!(
                    "backup {n} already exists; choose another final_backup_name"
                )));
            }
            Some(n) => Some(n.to_string()),
            None => Some(final_backup_name(&name, now, taken)),
        }
    };
    let fail = st.faults.take_fail_operation("DELETE", &path);
    let real = st.engines.is_some() && store.engines.contains_key(&(project.clone(), name.clone()));
    let op_id = new_op_id();
    let mut inst = rec.inst.clone();
    inst.state = InstanceState::Deleting;
    inst.current_operation = Some(op_id.clone());
    inst.updated_at = rfc3339(now);
    inst.refresh_etag();
    let mut b = store.batch();
    b.put_instance(InstanceRec {
        inst,
        created_ms: rec.created_ms,
    });
    let op = b.new_op(
        op_id,
        &project,
        &name,
        "delete",
        st.config.delete_ms,
        OpPlan {
            fail,
            final_backup,
            engine: real,
            ..OpPlan::default()
        },
    );
    let op = b.start_op(op);
    let res = commit_accepted(b, idem.as_ref().map(|e| &e.0), &project, &op, now).await?;
    if real {
        spawn_job(st.clone(), project, name, op.id, None);
    }
    Ok(res)
}
