//! `/v1/projects/{project}/instances/{name}/users`: database users (name, write-only password, roles).
//! Handlers are the generic ones of `children`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::children::{ChildWrite, Kind, MAX_PER_INSTANCE, fail_if};
use crate::engine::backend::Change;
use crate::engine::{Role, UserSpec as EngineUser};
use crate::error::{ApiResult, FieldViolation};
use crate::model::{Instance, valid_sql_name};
use crate::snapshot::{self, UserSpec};

/// The `users` sub-resource.
pub static USERS: Kind<UserCreate, UserPatch> = Kind {
    segment: snapshot::USERS,
    noun: "user",
    create: user_create,
    patch: user_patch,
    limit: MAX_PER_INSTANCE,
    create_secret: |c| c.password.clone(),
    patch_secret: |p| p.password.clone(),
    engine_change: user_engine,
};

/// A user is created or brought to its record (roles exactly, the password when one was sent) in
/// the engine, or dropped.
fn user_engine(w: &ChildWrite<'_>) -> Option<Change> {
    Some(match w.record {
        None => Change::DropUser(w.name.into()),
        Some(r) => Change::UpsertUser(EngineUser {
            name: w.name.into(),
            password: w.secret.map(str::to_string),
            roles: r["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(Role::from_api)
                .collect(),
        }),
    })
}

/// The body of a user create: `name` is required (checked by the handler); the password is
/// write-only (never stored in the record).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    name: Option<String>,
    password: Option<String>,
    roles: Option<Vec<String>>,
}

/// The body of a user patch: the fields sent change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
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

fn user_create(inst: &Instance, r: UserCreate, now: &str) -> ApiResult<(String, Value)> {
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
    let spec = UserSpec { name, roles };
    Ok((spec.name.clone(), spec.record(&inst.name, now)))
}

fn user_patch(_inst: &Instance, rec: &mut Value, r: UserPatch) -> ApiResult<()> {
    let mut v = Vec::new();
    check_user_fields(&r.password, &r.roles, &mut v);
    fail_if(v)?;
    if let Some(roles) = r.roles {
        rec["roles"] = json!(roles);
    }
    Ok(())
}
