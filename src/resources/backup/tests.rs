//! `clouddb_backup` against a fake API: the model fits the schema, ambiguous creates are recovered
//! by `creation_token`, a busy instance is waited out with one key, 404 on delete is done, import
//! IDs are checked before any call.

use std::time::Duration;

use tfplugin::diag::Diagnostics;
use tfplugin::model::Field;
use tfplugin::provider::{
    ApplyResult, Context, CreateRequest, DeleteRequest, ImportRequest, PrivateState, Resource,
    StopSignal,
};
use tfplugin::value::Value;

use super::*;
use crate::client::{ClientConfig, RetryPolicy, fake};

fn test_client(url: &str) -> Client {
    let mut cfg = ClientConfig::new(url, "secret-token", "proj1");
    cfg.retry = RetryPolicy {
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

fn backup_json(name: &str, token: &str, description: &str) -> String {
    serde_json::json!({
        "name": name, "instance": "db1", "instance_uid": "u1", "type": "ON_DEMAND",
        "state": "READY", "engine": "mysql", "engine_version": "8.0", "size_bytes": 1024,
        "description": description, "created_at": "2026-01-01T00:00:00Z", "creation_token": token,
    })
    .to_string()
}

fn list_json(items: &[String]) -> String {
    format!("{{\"backups\":[{}]}}", items.join(","))
}

/// The plan of a backup of `db1`, with `name` configured or left to the API.
fn create_req(name: Option<&str>) -> CreateRequest {
    let planned = BackupResourceModel {
        id: name.map_or(Field::Unknown, |n| n.into()),
        instance: "db1".into(),
        name: name.map_or(Field::Unknown, |n| n.into()),
        description: "nightly".into(),
        kind: Field::Unknown,
        state: Field::Unknown,
        size_bytes: Field::Unknown,
        engine: Field::Unknown,
        engine_version: Field::Unknown,
        created_at: Field::Unknown,
        timeouts: Field::Null,
    };
    let config = BackupResourceModel {
        id: Field::Null,
        name: name.map_or(Field::Null, |n| n.into()),
        kind: Field::Null,
        state: Field::Null,
        size_bytes: Field::Null,
        engine: Field::Null,
        engine_version: Field::Null,
        created_at: Field::Null,
        ..planned.clone()
    };
    CreateRequest {
        config: Value::from_model(&config).expect("config"),
        planned_state: Value::from_model(&planned).expect("plan"),
        planned_private: PrivateState::new(),
        identity: None,
    }
}

fn unavailable() -> fake::Answer {
    (503, vec![], fake::problem(503, "UNAVAILABLE", true, "busy"))
}

/// The model mirrors the schema: a value of the schema's type reads into it and writes back.
#[test]
fn model_matches_schema() {
    let s = schema();
    assert!(s.check().is_ok(), "{:?}", s.check());
    let rec: BackupRecord = serde_json::from_str(&backup_json("b1", "", "d")).expect("record");
    let m = state_from_api(&rec, None);
    let v = tfplugin::model::conform(Value::from_model(&m).expect("writes"), &s.implied_type())
        .expect("fits the schema");
    assert!(v.is_wholly_known());
    let back: BackupResourceModel = v.to().expect("reads back");
    assert_eq!(back, m);
}

/// The API stores "no description" as "": state keeps the user's spelling of it.
#[test]
fn description_spelling_is_kept() {
    let rec: BackupRecord = serde_json::from_str(&backup_json("b1", "", "")).expect("record");
    let unset = BackupResourceModel::default();
    assert!(state_from_api(&rec, Some(&unset)).description.is_null());
    let empty = BackupResourceModel {
        description: "".into(),
        ..Default::default()
    };
    assert_eq!(
        state_from_api(&rec, Some(&empty)).description,
        Field::Known(String::new())
    );
    assert!(state_from_api(&rec, None).description.is_null());
}

/// A fake whose POST always fails as `post` says and whose list holds `existing(key)`, where
/// `key` is the POST's Idempotency-Key.
async fn ambiguous_create(
    post: fake::Answer,
    name: Option<&str>,
    existing: fn(&str) -> Vec<String>,
) -> (Result<ApplyResult, Diagnostics>, fake::Log) {
    let (url, log) = fake::serve(move |r, earlier| {
        let key = earlier
            .iter()
            .find(|e| e.method == "POST")
            .map(fake::key_of)
            .unwrap_or_else(|| fake::key_of(r));
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", _) => post.clone(),
            ("GET", p) if p.starts_with("/v1/projects/proj1/backups?") => {
                (200, vec![], list_json(&existing(&key)))
            }
            _ => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
        }
    })
    .await;
    let res = BackupResource
        .create(&ctx(), &test_client(&url), create_req(name))
        .await;
    (res, log)
}

/// Every answer to the POST was lost, but the API took the backup (its creation_token is our
/// key): it is adopted, with a warning and no error.
#[tokio::test]
async fn ambiguous_create_adopts_the_backup_with_our_key() {
    for post in [unavailable(), (201, vec![], "<html>not json".to_string())] {
        let (res, log) = ambiguous_create(post, None, |key| {
            vec![
                backup_json("db1-other", "someone-else", ""),
                backup_json("db1-1234abcd", key, "nightly"),
            ]
        })
        .await;
        let res = res.expect("adopted");
        assert!(!res.diagnostics.has_errors(), "{:?}", res.diagnostics);
        assert!(!res.diagnostics.is_empty(), "a warning says what happened");
        let got: BackupResourceModel = res.new_state.to().expect("a backup");
        assert_eq!(got.id.as_str(), Some("db1-1234abcd"));
        assert_eq!(got.description.as_str(), Some("nightly"));
        let log = log.lock().expect("lock");
        let list = log.iter().find(|r| r.method == "GET").expect("listed");
        assert!(list.path.contains("instance=db1"), "{}", list.path);
    }
}

/// No backup carries our key: nothing was taken, the error says so.
#[tokio::test]
async fn ambiguous_create_that_did_not_happen_reports_the_error() {
    let (res, _) = ambiguous_create(unavailable(), None, |_| {
        vec![backup_json("db1-other", "someone-else", "")]
    })
    .await;
    let text = format!("{:?}", res.expect_err("nothing taken"));
    assert!(
        text.contains("UNAVAILABLE") && text.contains("safe"),
        "{text}"
    );
}

/// The configured name is taken by someone else's backup: ALREADY_EXISTS guidance on `name`.
#[tokio::test]
async fn ambiguous_create_of_a_taken_name_says_already_exists() {
    let (res, _) = ambiguous_create(unavailable(), Some("nightly-1"), |_| {
        vec![backup_json("nightly-1", "someone-else", "")]
    })
    .await;
    let d = res.expect_err("not ours");
    let text = format!("{d:?}");
    assert!(
        text.contains("already exists") && text.contains("terraform import"),
        "{text}"
    );
    assert!(
        d.iter().any(|x| x
            .attribute
            .as_ref()
            .is_some_and(|a| a.to_string() == "name")),
        "{d:?}"
    );
}

/// While the instance is busy the create keeps asking (beyond the client's own retries), with
/// one key, until the API takes the backup.
#[tokio::test]
async fn create_waits_out_a_busy_instance_with_one_key() {
    let (url, log) = fake::serve(|r, earlier| {
        let posts = earlier.iter().filter(|e| e.method == "POST").count();
        if posts < 5 {
            (
                409,
                vec![],
                fake::problem(409, "OPERATION_IN_PROGRESS", true, "busy"),
            )
        } else {
            (
                201,
                vec![],
                backup_json("nightly-1", &fake::key_of(r), "nightly"),
            )
        }
    })
    .await;
    let res = BackupResource
        .create(&ctx(), &test_client(&url), create_req(Some("nightly-1")))
        .await
        .expect("created");
    assert!(res.diagnostics.is_empty(), "{:?}", res.diagnostics);
    let log = log.lock().expect("lock");
    assert_eq!(log.len(), 6);
    let key = fake::key_of(&log[0]);
    assert!(!key.is_empty() && log.iter().all(|r| fake::key_of(r) == key));
    assert_eq!(
        log[0].body,
        br#"{"name":"nightly-1","description":"nightly"}"#
    );
}

/// An instance that does not exist is a definite failure on `instance`, without a look-up.
#[tokio::test]
async fn create_on_a_missing_instance_names_it() {
    let (url, log) = fake::serve(|_, _| {
        (
            404,
            vec![],
            fake::problem(404, "NOT_FOUND", false, "no instance"),
        )
    })
    .await;
    let d = BackupResource
        .create(&ctx(), &test_client(&url), create_req(None))
        .await
        .expect_err("no instance");
    assert!(
        d.iter().any(|x| x
            .attribute
            .as_ref()
            .is_some_and(|a| a.to_string() == "instance")),
        "{d:?}"
    );
    assert_eq!(log.lock().expect("lock").len(), 1);
}

/// Deleting a backup that is already gone succeeds.
#[tokio::test]
async fn delete_of_a_gone_backup_succeeds() {
    let (url, _) =
        fake::serve(|_, _| (404, vec![], fake::problem(404, "NOT_FOUND", false, "gone"))).await;
    let rec: BackupRecord = serde_json::from_str(&backup_json("b1", "", "")).expect("record");
    let req = DeleteRequest {
        prior_state: Value::from_model(&state_from_api(&rec, None)).expect("state"),
        private: PrivateState::new(),
        identity: None,
    };
    BackupResource
        .delete(&ctx(), &test_client(&url), req)
        .await
        .expect("gone is done");
}

/// Import takes a backup NAME; anything else is refused before any call.
#[tokio::test]
async fn import_checks_the_id() {
    let (url, log) = fake::serve(|r, _| {
        if r.path == "/v1/projects/proj1/backups/b-one" {
            (200, vec![], backup_json("b-one", "", ""))
        } else {
            (404, vec![], fake::problem(404, "NOT_FOUND", false, "no"))
        }
    })
    .await;
    let c = test_client(&url);
    let got = BackupResource
        .import(&ctx(), &c, ImportRequest::by_id(" b-one "))
        .await
        .expect("imported");
    let m: BackupResourceModel = got.state.to().expect("a backup");
    assert_eq!(m.id.as_str(), Some("b-one"));
    assert_eq!(m.instance.as_str(), Some("db1"));
    let missing = BackupResource
        .import(&ctx(), &c, ImportRequest::by_id("b-two"))
        .await
        .expect_err("missing");
    assert!(format!("{missing:?}").contains("proj1"), "{missing:?}");
    for bad in [
        "",
        "db1/b-one",
        "B-ONE",
        "b",
        "projects/proj1/backups/b-one",
    ] {
        assert!(
            BackupResource
                .import(&ctx(), &c, ImportRequest::by_id(bad))
                .await
                .is_err(),
            "{bad:?}"
        );
    }
    assert_eq!(log.lock().expect("lock").len(), 2);
}
