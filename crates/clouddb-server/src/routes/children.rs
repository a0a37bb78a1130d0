//! Synchronous sub-resources of an instance: `databases`, `users` and `firewallRules`, under
//! `/v1/projects/{project}/instances/{name}/...`. Each has list, create (201), get, patch and delete (204).
//! Writes need the instance READY (409 OPERATION_IN_PROGRESS while an operation runs).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Page, idem, json_response, list_body, parse_query};
use crate::AppState;
use crate::error::{ApiError, ApiResult, FieldViolation};
use crate::model::{Instance, parse_body, valid_cidr, valid_instance_name, valid_sql_name};
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

pub static DATABASES: Kind = Kind {
    segment: "databases",
    noun: "database",
    create: db_create,
    patch: db_patch,
};
pub static USERS: Kind = Kind {
    segment: "users",
    noun: "user",
    create: user_create,
    patch: user_patch,
};
pub static FIREWALL_RULES: Kind = Kind {
    segment: "firewallRules",
    noun: "firewall rule",
    create: fw_create,
    patch: fw_patch,
};

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
    let r = kind_routes!(st, r, &DATABASES);
    let r = kind_routes!(st, r, &USERS);
    kind_routes!(st, r, &FIREWALL_RULES)
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

fn fail_if(v: Vec<FieldViolation>) -> ApiResult<()> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(ApiError::violations(v))
    }
}

fn valid_token(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

// ---- databases ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DbCreate {
    name: Option<String>,
    charset: Option<String>,
    collation: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DbPatch {
    charset: Option<String>,
    collation: Option<String>,
}

fn db_create(inst: &Instance, body: &[u8], now: &str) -> ApiResult<(String, Value)> {
    let r: DbCreate = parse_body(body)?;
    let mut v = Vec::new();
    let name = r.name.unwrap_or_default();
    if !valid_sql_name(&name) {
        v.push(FieldViolation::new(
            "name",
            "required, must match ^[A-Za-z_][A-Za-z0-9_]{0,62}$",
        ));
    }
    let pg = inst.engine == "postgres";
    let charset = r
        .charset
        .unwrap_or_else(|| if pg { "UTF8" } else { "utf8mb4" }.into());
    let collation = r.collation.unwrap_or_else(|| {
        if pg {
            "en_US.UTF8"
        } else {
            "utf8mb4_0900_ai_ci"
        }
        .into()
    });
    if !valid_token(&charset) {
        v.push(FieldViolation::new(
            "charset",
            "must be 1 to 64 characters of [A-Za-z0-9_.-]",
        ));
    }
    if !valid_token(&collation) {
        v.push(FieldViolation::new(
            "collation",
            "must be 1 to 64 characters of [A-Za-z0-9_.-]",
        ));
    }
    fail_if(v)?;
    Ok((
        name.clone(),
        json!({"name": name, "instance": inst.name, "charset": charset, "collation": collation,
               "created_at": now, "updated_at": now}),
    ))
}

fn db_patch(_inst: &Instance, rec: &mut Value, body: &[u8]) -> ApiResult<()> {
    let r: DbPatch = parse_body(body)?;
    let mut v = Vec::new();
    for (f, val) in [("charset", r.charset), ("collation", r.collation)] {
        if let Some(val) = val {
            if valid_token(&val) {
                rec[f] = json!(val);
            } else {
                v.push(FieldViolation::new(
                    f,
                    "must be 1 to 64 characters of [A-Za-z0-9_.-]",
                ));
            }
        }
    }
    fail_if(v)
}

// ---- users ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserCreate {
    name: Option<String>,
    password: Option<String>,
    roles: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    password: Option<String>,
    roles: Option<Vec<String>>,
}

fn check_user_fields(
    password: &Option<String>,
    roles: &Option<Vec<String>>,
    v: &mut Vec<FieldViolation>,
) {
    if let Some(p) = password
        && !(8..=128).contains(&p.chars().count())
    {
        v.push(FieldViolation::new(
            "password",
            "must be 8 to 128 characters",
        ));
    }
    if let Some(rs) = roles {
        for (i, r) in rs.iter().enumerate() {
            if !valid_sql_name(r) {
                v.push(FieldViolation::new(
                    format!("roles[{i}]"),
                    "must match ^[A-Za-z_][A-Za-z0-9_]{0,62}$",
                ));
            }
        }
    }
}

fn user_create(inst: &Instance, body: &[u8], now: &str) -> ApiResult<(String, Value)> {
    let r: UserCreate = parse_body(body)?;
    let mut v = Vec::new();
    let name = r.name.clone().unwrap_or_default();
    if !valid_sql_name(&name) || name.len() > 32 {
        v.push(FieldViolation::new(
            "name",
            "required, must match ^[A-Za-z_][A-Za-z0-9_]{0,31}$",
        ));
    }
    if name == inst.admin_username {
        v.push(FieldViolation::new("name", "is the instance's admin user"));
    }
    check_user_fields(&r.password, &r.roles, &mut v);
    fail_if(v)?;
    let mut roles = r.roles.unwrap_or_default();
    roles.dedup();
    Ok((
        name.clone(),
        json!({"name": name, "instance": inst.name, "roles": roles, "created_at": now, "updated_at": now}),
    ))
}

fn user_patch(_inst: &Instance, rec: &mut Value, body: &[u8]) -> ApiResult<()> {
    let r: UserPatch = parse_body(body)?;
    let mut v = Vec::new();
    check_user_fields(&r.password, &r.roles, &mut v);
    fail_if(v)?;
    if let Some(roles) = r.roles {
        rec["roles"] = json!(roles);
    }
    Ok(())
}

// ---- firewall rules ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FwCreate {
    name: Option<String>,
    cidr: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FwPatch {
    cidr: Option<String>,
    description: Option<String>,
}

fn check_fw(cidr: &Option<String>, description: &Option<String>, v: &mut Vec<FieldViolation>) {
    if let Some(c) = cidr
        && !valid_cidr(c)
    {
        v.push(FieldViolation::new(
            "cidr",
            "must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8",
        ));
    }
    if let Some(d) = description
        && d.chars().count() > 256
    {
        v.push(FieldViolation::new("description", "at most 256 characters"));
    }
}

fn fw_create(inst: &Instance, body: &[u8], now: &str) -> ApiResult<(String, Value)> {
    let r: FwCreate = parse_body(body)?;
    let mut v = Vec::new();
    let name = r.name.clone().unwrap_or_default();
    if !valid_instance_name(&name) {
        v.push(FieldViolation::new(
            "name",
            "required, must match ^[a-z][a-z0-9-]{1,61}[a-z0-9]$",
        ));
    }
    if r.cidr.is_none() {
        v.push(FieldViolation::new("cidr", "is required"));
    }
    check_fw(&r.cidr, &r.description, &mut v);
    fail_if(v)?;
    Ok((
        name.clone(),
        json!({"name": name, "instance": inst.name, "cidr": r.cidr, "description": r.description.unwrap_or_default(),
               "created_at": now, "updated_at": now}),
    ))
}

fn fw_patch(_inst: &Instance, rec: &mut Value, body: &[u8]) -> ApiResult<()> {
    let r: FwPatch = parse_body(body)?;
    let mut v = Vec::new();
    check_fw(&r.cidr, &r.description, &mut v);
    fail_if(v)?;
    if let Some(c) = r.cidr {
        rec["cidr"] = json!(c);
    }
    if let Some(d) = r.description {
        rec["description"] = json!(d);
    }
    Ok(())
}
