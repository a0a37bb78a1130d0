//! `/v1/projects/{project}/instances/{name}/databases`: databases of an instance (name, charset,
//! collation). Handlers are the generic ones of `children`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::children::{ChildWrite, Kind, MAX_PER_INSTANCE, fail_if, valid_token};
use crate::engine::backend::Change;
use crate::error::{ApiResult, FieldViolation};
use crate::model::{Instance, valid_sql_name};
use crate::snapshot::{self, DatabaseSpec};

/// The `databases` sub-resource.
pub static DATABASES: Kind<DbCreate, DbPatch> = Kind {
    segment: snapshot::DATABASES,
    noun: "database",
    create: db_create,
    patch: db_patch,
    limit: MAX_PER_INSTANCE,
    create_secret: |_| None,
    patch_secret: |_| None,
    engine_change: db_engine,
};

/// A created database is created in the engine, a deleted one dropped. A patch asks for the
/// same create, which finds the database there and only renews its grants: an engine cannot
/// re-encode a database in place, so a new charset or collation is a record only.
fn db_engine(w: &ChildWrite<'_>) -> Option<Change> {
    Some(match w.record {
        None => Change::DropDatabase(w.name.into()),
        Some(r) => Change::CreateDatabase {
            name: w.name.into(),
            charset: r["charset"].as_str().unwrap_or("UTF8").into(),
            collation: r["collation"].as_str().unwrap_or_default().into(),
        },
    })
}

/// The body of a database create: `name` is required (checked by the handler, so that every
/// violation is listed at once); charset and collation default per engine.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbCreate {
    name: Option<String>,
    charset: Option<String>,
    collation: Option<String>,
}

/// The body of a database patch: the fields sent change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbPatch {
    charset: Option<String>,
    collation: Option<String>,
}

fn db_create(inst: &Instance, r: DbCreate, now: &str) -> ApiResult<(String, Value)> {
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
    let spec = DatabaseSpec {
        name,
        charset,
        collation,
    };
    Ok((spec.name.clone(), spec.record(&inst.name, now)))
}

fn db_patch(_inst: &Instance, rec: &mut Value, r: DbPatch) -> ApiResult<()> {
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
