//! `/v1/projects/{project}/instances/{name}/databases`: databases of an instance (name, charset,
//! collation). Handlers are the generic ones of `children`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::children::{Kind, fail_if, valid_token};
use crate::error::{ApiResult, FieldViolation};
use crate::model::{Instance, parse_body, valid_sql_name};

pub static DATABASES: Kind = Kind {
    segment: "databases",
    noun: "database",
    create: db_create,
    patch: db_patch,
};

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
