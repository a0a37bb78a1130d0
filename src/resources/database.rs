//! `clouddb_database`: a database inside an instance. Name and instance replace it; charset and
//! collation change in place and, when unset, take the engine's defaults (reported back as
//! computed values). The lifecycle is [`ChildResource`]'s.

use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::model::{Field, TimeoutsModel};
use tfplugin::schema::{Attribute, Schema, timeouts};
use tfplugin::value::{AttributePath, Value};

use super::child::{ChildResource, ChildType, child_model, parent_instance};
use super::common::{child_id_attribute, instance_attribute, valid_sql_name};
use crate::client::children::{ChildKind, CreateDatabase, Database, PatchDatabase};

/// The resource type.
pub type DatabaseResource = ChildResource<DatabaseType>;

/// The `clouddb_database` model: one field per schema attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatabaseModel {
    pub id: Field<String>,
    pub instance: Field<String>,
    pub name: Field<String>,
    pub charset: Field<String>,
    pub collation: Field<String>,
    pub timeouts: Field<TimeoutsModel>,
}
child_model!(DatabaseModel);

/// The API's rule for charset and collation names.
fn valid_token(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn check_token(p: &AttributePath, v: &Value, d: &mut Diagnostics) {
    if let Some(s) = v.as_str()
        && !valid_token(s)
    {
        d.attribute_error(
            p.clone(),
            "Invalid value",
            format!("{s:?} must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'."),
        );
    }
}

/// The `clouddb_database` description for [`ChildResource`].
pub struct DatabaseType;

impl ChildType for DatabaseType {
    type Model = DatabaseModel;
    type Record = Database;
    type Create = CreateDatabase;
    type Patch = PatchDatabase;
    const TYPE_NAME: &'static str = "clouddb_database";
    const KIND: ChildKind = ChildKind::Database;

    fn schema() -> Schema {
        Schema::new()
            .description("A database in a CloudDB instance.")
            .attribute(child_id_attribute())
            .attribute(instance_attribute("database"))
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate_with("an SQL identifier", |p, v, d| {
                        if let Some(s) = v.as_str()
                            && !valid_sql_name(s, 63)
                        {
                            d.attribute_error(
                                p.clone(),
                                "Invalid database name",
                                format!(
                                    "{s:?} is not a valid database name: 1 to 63 letters, digits and \
                                     '_', not starting with a digit."
                                ),
                            );
                        }
                    })
                    .description("Database name, unique in the instance. Changing it replaces the database."),
            )
            .attribute(
                Attribute::string("charset")
                    .optional()
                    .computed()
                    .use_state_for_unknown()
                    .validate_with("1-64 of A-Z, a-z, 0-9, '_', '.', '-'", check_token)
                    .description(
                        "Character set. Defaults to the engine's (`utf8mb4` on MySQL, `UTF8` on \
                         PostgreSQL). Changes in place.",
                    ),
            )
            .attribute(
                Attribute::string("collation")
                    .optional()
                    .computed()
                    .use_state_for_unknown()
                    .validate_with("1-64 of A-Z, a-z, 0-9, '_', '.', '-'", check_token)
                    .description(
                        "Collation. Defaults to the engine's (`utf8mb4_0900_ai_ci` on MySQL, \
                         `en_US.UTF8` on PostgreSQL). Changes in place.",
                    ),
            )
            .block(timeouts::block(&["create", "update", "delete"]))
    }

    fn create_body(planned: &DatabaseModel, _config: &DatabaseModel) -> CreateDatabase {
        CreateDatabase {
            name: planned.name.known_or(String::new()),
            charset: planned.charset.as_str().map(str::to_string),
            collation: planned.collation.as_str().map(str::to_string),
        }
    }

    fn patch_body(
        prior: &DatabaseModel,
        planned: &DatabaseModel,
        _config: &DatabaseModel,
    ) -> Option<PatchDatabase> {
        let changed = |p: &Field<String>, n: &Field<String>| {
            n.as_str()
                .filter(|n| p.as_str() != Some(*n))
                .map(str::to_string)
        };
        let patch = PatchDatabase {
            charset: changed(&prior.charset, &planned.charset),
            collation: changed(&prior.collation, &planned.collation),
        };
        (patch != PatchDatabase::default()).then_some(patch)
    }

    fn state(rec: &Database, known: Option<&DatabaseModel>) -> DatabaseModel {
        let instance = parent_instance(&rec.instance, known);
        DatabaseModel {
            id: Field::Known(format!("{instance}/{}", rec.name)),
            instance: Field::Known(instance),
            name: Field::Known(rec.name.clone()),
            charset: Field::Known(rec.charset.clone()),
            collation: Field::Known(rec.collation.clone()),
            timeouts: known.map(|k| k.timeouts.clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(charset: Option<&str>) -> DatabaseModel {
        DatabaseModel {
            id: Field::Known("db/app".into()),
            instance: Field::Known("db".into()),
            name: Field::Known("app".into()),
            charset: charset.map_or(Field::Null, |c| Field::Known(c.into())),
            collation: Field::Known("c".into()),
            timeouts: Field::Null,
        }
    }

    #[test]
    fn schema_is_consistent_and_fits_the_model() {
        let s = DatabaseType::schema();
        assert!(s.check().is_ok(), "{:?}", s.check());
        let v = Value::from_model(&model(Some("utf8"))).expect("writes");
        let v = tfplugin::model::conform(v, &s.implied_type()).expect("fits the schema");
        assert_eq!(v.to::<DatabaseModel>().ok(), Some(model(Some("utf8"))));
    }

    #[test]
    fn patch_sends_only_what_changed() {
        let prior = model(Some("utf8"));
        assert_eq!(DatabaseType::patch_body(&prior, &prior, &prior), None);
        let planned = model(Some("latin1"));
        let patch = DatabaseType::patch_body(&prior, &planned, &planned).expect("a change");
        assert_eq!(patch.charset.as_deref(), Some("latin1"));
        assert_eq!(patch.collation, None);
    }

    #[test]
    fn state_keeps_the_timeouts_and_fills_the_defaults() {
        let rec = Database {
            name: "app".into(),
            instance: "db".into(),
            charset: "utf8mb4".into(),
            collation: "utf8mb4_0900_ai_ci".into(),
            creation_token: String::new(),
        };
        let m = DatabaseType::state(&rec, Some(&model(None)));
        assert_eq!(m.id.as_str(), Some("db/app"));
        assert_eq!(m.charset.as_str(), Some("utf8mb4"));
    }
}

/// The shared lifecycle (`child::ChildResource`), exercised through `clouddb_database` against a
/// fake API.
#[cfg(test)]
mod lifecycle_tests {
    use std::time::Duration;

    use tfplugin::provider::StopSignal;

    use tfplugin::provider::{
        Context, CreateRequest, DeleteRequest, PrivateState, ReadRequest, Resource,
    };

    use super::*;
    use crate::client::fake::{self, key_of, problem};
    use crate::client::{Client, ClientConfig};

    fn test_client(url: &str) -> Client {
        let mut cfg = ClientConfig::new(url, "secret-token", "proj1");
        cfg.retry = crate::client::RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_millis(50),
        };
        cfg.poll_interval = Duration::from_millis(20);
        Client::new(cfg).expect("client")
    }

    fn ctx() -> Context {
        StopSignal::new().context("1.15.5")
    }

    fn planned() -> Value {
        let m = DatabaseModel {
            id: Field::Known("db1/app".into()),
            instance: Field::Known("db1".into()),
            name: Field::Known("app".into()),
            charset: Field::Unknown,
            collation: Field::Unknown,
            timeouts: Field::Null,
        };
        Value::from_model(&m).expect("model")
    }

    fn create_req() -> CreateRequest {
        let mut config = planned().to::<DatabaseModel>().expect("model");
        config.id = Field::Null;
        config.charset = Field::Null;
        config.collation = Field::Null;
        CreateRequest {
            config: Value::from_model(&config).expect("model"),
            planned_state: planned(),
            planned_private: PrivateState::new(),
            identity: None,
        }
    }

    fn record(token: &str) -> String {
        serde_json::json!({"name": "app", "instance": "db1", "charset": "utf8mb4",
            "collation": "utf8mb4_0900_ai_ci", "creation_token": token})
        .to_string()
    }

    #[tokio::test]
    async fn create_waits_out_a_busy_instance_beyond_the_client_retries() {
        let (url, log) = fake::serve(|r, seen| {
            let posts = seen.iter().filter(|s| s.method == "POST").count();
            if r.method == "POST" && posts < 5 {
                (
                    409,
                    vec![],
                    problem(409, "OPERATION_IN_PROGRESS", true, "busy"),
                )
            } else {
                (201, vec![], record(&key_of(r)))
            }
        })
        .await;
        let res = DatabaseResource::default()
            .create(&ctx(), &test_client(&url), create_req())
            .await
            .expect("created once the instance is free");
        let m: DatabaseModel = res.new_state.to().expect("model");
        assert_eq!(m.charset.as_str(), Some("utf8mb4"));
        let log = log.lock().expect("log");
        let keys: std::collections::BTreeSet<String> = log.iter().map(key_of).collect();
        assert_eq!(log.len(), 6, "five busy answers, then the create");
        assert_eq!(
            keys.len(),
            1,
            "every attempt carries the same Idempotency-Key"
        );
    }

    #[tokio::test]
    async fn an_ambiguous_create_that_happened_is_kept_in_state() {
        let (url, _log) = fake::serve(|r, seen| match r.method.as_str() {
            // Every POST answer is lost; the GET finds the record created with the POST's key.
            "POST" => (503, vec![], problem(503, "UNAVAILABLE", true, "down")),
            _ => {
                let key = seen
                    .iter()
                    .find(|s| s.method == "POST")
                    .map(key_of)
                    .unwrap_or_default();
                (200, vec![], record(&key))
            }
        })
        .await;
        let res = DatabaseResource::default()
            .create(&ctx(), &test_client(&url), create_req())
            .await
            .expect("recovered");
        let m: DatabaseModel = res.new_state.to().expect("model");
        assert_eq!(m.id.as_str(), Some("db1/app"));
        assert!(!res.diagnostics.has_errors(), "{:?}", res.diagnostics);
    }

    #[tokio::test]
    async fn an_ambiguous_create_of_someone_elses_record_says_already_exists() {
        let (url, _log) = fake::serve(|r, _| match r.method.as_str() {
            "POST" => (503, vec![], problem(503, "UNAVAILABLE", true, "down")),
            _ => (200, vec![], record("another-key")),
        })
        .await;
        let d = DatabaseResource::default()
            .create(&ctx(), &test_client(&url), create_req())
            .await
            .expect_err("not ours");
        assert!(format!("{d:?}").contains("terraform import"), "{d:?}");
    }

    #[tokio::test]
    async fn a_gone_instance_reads_as_gone_and_deletes_as_done() {
        let (url, _log) = fake::serve(|_, _| {
            (
                404,
                vec![],
                problem(404, "NOT_FOUND", false, "instance db1 not found"),
            )
        })
        .await;
        let client = test_client(&url);
        let read = DatabaseResource::default()
            .read(
                &ctx(),
                &client,
                ReadRequest {
                    state: planned(),
                    private: PrivateState::new(),
                    identity: None,
                },
            )
            .await
            .expect("no error");
        assert!(read.new_state.is_null());
        DatabaseResource::default()
            .delete(
                &ctx(),
                &client,
                DeleteRequest {
                    prior_state: planned(),
                    private: PrivateState::new(),
                    identity: None,
                },
            )
            .await
            .expect("already gone is done");
    }
}
