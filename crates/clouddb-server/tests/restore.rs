//! `restore_from_backup` on instance create: children copied from the backup, engine defaults, the
//! 400s naming the field, the 409 for a backup that is not READY, and `restored_from_backup`.

#![allow(clippy::unwrap_used)]

mod common;

use clouddb_server::http_client::Resp;
use common::*;
use serde_json::{Value, json};

/// Creates `name` (READY) from `body`, with database `app` (custom charset) and users `reader` and
/// `writer`, and takes the on-demand backup `backup` of it.
async fn source(s: &Server, body: Value, backup: &str) {
    let name = body["name"].as_str().unwrap().to_string();
    s.create_ready(body).await;
    let base = format!("{P}/instances/{name}");
    for (seg, body) in [
        (
            "databases",
            json!({"name": "app", "charset": "latin1", "collation": "latin1_swedish_ci"}),
        ),
        (
            "users",
            json!({"name": "writer", "password": "writer-pass-1", "roles": ["rw"]}),
        ),
        (
            "users",
            json!({"name": "reader", "roles": ["ro", "monitor"]}),
        ),
    ] {
        let r = s.api.post(&format!("{base}/{seg}"), &body).await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = s
        .api
        .post(&format!("{base}/backups"), &json!({"name": backup}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
}

async fn create(s: &Server, body: Value) -> Resp {
    s.api.post(&format!("{P}/instances"), &body).await.unwrap()
}

async fn list(s: &Server, instance: &str, seg: &str) -> Value {
    let r = s
        .api
        .get(&format!("{P}/instances/{instance}/{seg}"))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()[seg].clone()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

/// The 400 `INVALID_ARGUMENT` with exactly the violations `fields`; the descriptions joined.
fn violations(r: &Resp, fields: &[&str]) -> String {
    assert_problem(r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(r), fields, "{}", r.text());
    r.json()["field_violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["description"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn restore_copies_databases_and_users_when_the_create_completes() {
    let s = start().await;
    source(
        &s,
        json!({"name": "src", "tier": "db-small", "storage_gb": 20}),
        "bk1",
    )
    .await;
    // Changed after the backup: the restore must not see it.
    let r = s
        .api
        .post(
            &format!("{P}/instances/src/databases"),
            &json!({"name": "later"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201);

    let r = create(
        &s,
        json!({"name": "copy", "tier": "db-small", "storage_gb": 30, "restore_from_backup": "bk1"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let inst = s
        .api
        .get(&format!("{P}/instances/copy"))
        .await
        .unwrap()
        .json();
    assert_eq!(inst["state"], "CREATING");
    assert_eq!(inst["restored_from_backup"], "bk1");
    // While the restore runs the instance has no children yet.
    assert_eq!(list(&s, "copy", "databases").await, json!([]));

    s.advance(3.0).await;
    assert_eq!(s.op(&r).await["done"], true);
    let dbs = list(&s, "copy", "databases").await;
    assert_eq!(names(&dbs), ["app"]);
    assert_eq!(dbs[0]["charset"], "latin1");
    assert_eq!(dbs[0]["collation"], "latin1_swedish_ci");
    assert_eq!(dbs[0]["instance"], "copy");
    assert_eq!(dbs[0]["creation_token"], "");
    let users = list(&s, "copy", "users").await;
    assert_eq!(names(&users), ["reader", "writer"]);
    assert_eq!(users[0]["roles"], json!(["ro", "monitor"]));
    assert_eq!(users[1]["roles"], json!(["rw"]));
    assert_eq!(users[1]["instance"], "copy");
    assert!(!users.to_string().contains("writer-pass-1"));
    let g = s
        .api
        .get(&format!("{P}/instances/copy/users/writer"))
        .await
        .unwrap();
    assert_eq!(g.status, 200);
    assert!(g.json().get("password").is_none());
    // The restored children are ordinary children: they can be changed and deleted.
    let r = s
        .api
        .delete(&format!("{P}/instances/copy/databases/app"))
        .await
        .unwrap();
    assert_eq!(r.status, 204);
    // The source is untouched.
    assert_eq!(names(&list(&s, "src", "databases").await), ["app", "later"]);
}

#[tokio::test]
async fn children_are_there_when_a_zero_time_create_answers() {
    let mut cfg = config();
    cfg.provision_ms = 0;
    let s = start_with(cfg).await;
    s.freeze().await;
    source(
        &s,
        json!({"name": "src", "tier": "db-small", "storage_gb": 20}),
        "bk1",
    )
    .await;
    let r = create(
        &s,
        json!({"name": "copy", "tier": "db-small", "storage_gb": 20, "restore_from_backup": "bk1"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["done"], true);
    assert_eq!(names(&list(&s, "copy", "databases").await), ["app"]);
    assert_eq!(
        names(&list(&s, "copy", "users").await),
        ["reader", "writer"]
    );
}

#[tokio::test]
async fn engine_and_version_default_to_the_backup() {
    let s = start().await;
    source(
        &s,
        json!({"name": "pg1", "engine": "postgres", "engine_version": "15", "tier": "db-small",
               "storage_gb": 20}),
        "pg-b",
    )
    .await;
    let r = create(
        &s,
        json!({"name": "pg2", "tier": "db-small", "storage_gb": 20, "restore_from_backup": "pg-b"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let i = s
        .api
        .get(&format!("{P}/instances/pg2"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["engine"], "postgres");
    assert_eq!(i["engine_version"], "15");
    assert_eq!(i["engine_version_actual"], "15.7");
    assert_eq!(i["endpoint"]["port"], 5432);

    // Naming the same engine, and another version of the same major, is allowed.
    source(
        &s,
        json!({"name": "my1", "engine_version": "8.0", "tier": "db-small", "storage_gb": 20}),
        "my-b",
    )
    .await;
    let r = create(
        &s,
        json!({"name": "my2", "engine": "mysql", "engine_version": "8.4", "tier": "db-small",
               "storage_gb": 20, "restore_from_backup": "my-b"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let i = s
        .api
        .get(&format!("{P}/instances/my2"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["engine_version"], "8.4");
    assert_eq!(i["restored_from_backup"], "my-b");

    // Without a restore the defaults are what they always were.
    let r = create(&s, inst_body("plain")).await;
    assert_eq!(r.status, 202);
    let i = s
        .api
        .get(&format!("{P}/instances/plain"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["engine"], "mysql");
    assert_eq!(i["engine_version"], "8.0");
    assert_eq!(i["restored_from_backup"], "");
}

#[tokio::test]
async fn engine_and_major_version_mismatches_name_their_field() {
    let s = start().await;
    source(
        &s,
        json!({"name": "pg1", "engine": "postgres", "tier": "db-small", "storage_gb": 20}),
        "pg-b",
    )
    .await;
    let r = create(
        &s,
        json!({"name": "xx1", "engine": "mysql", "tier": "db-small", "storage_gb": 20,
               "restore_from_backup": "pg-b"}),
    )
    .await;
    let d = violations(&r, &["engine"]);
    assert!(d.contains("mysql") && d.contains("postgres"), "{d}");

    source(
        &s,
        json!({"name": "old", "engine_version": "5.7", "tier": "db-small", "storage_gb": 20}),
        "old-b",
    )
    .await;
    let r = create(
        &s,
        json!({"name": "xx2", "engine_version": "8.0", "tier": "db-small", "storage_gb": 20,
               "restore_from_backup": "old-b"}),
    )
    .await;
    let d = violations(&r, &["engine_version"]);
    assert!(d.contains("8.0") && d.contains("5.7"), "{d}");
    // Nothing was created by the refused requests.
    for n in ["xx1", "xx2"] {
        let g = s.api.get(&format!("{P}/instances/{n}")).await.unwrap();
        assert_problem(&g, 404, "NOT_FOUND");
    }
}

#[tokio::test]
async fn missing_backup_and_bad_sizes_name_their_field() {
    let s = start().await;
    let r = create(
        &s,
        json!({"name": "xx1", "tier": "db-small", "storage_gb": 20, "restore_from_backup": "nope"}),
    )
    .await;
    let d = violations(&r, &["restore_from_backup"]);
    assert_eq!(d, "backup nope not found in project proj-a");
    let r = create(
        &s,
        json!({"name": "xx1", "tier": "db-small", "storage_gb": 20, "restore_from_backup": "Bad_Name"}),
    )
    .await;
    violations(&r, &["restore_from_backup"]);
    let r = create(
        &s,
        json!({"name": "xx1", "tier": "db-small", "storage_gb": 20, "restore_from_backup": 7}),
    )
    .await;
    violations(&r, &["restore_from_backup"]);

    // Another project's backup is not found either.
    let r = s
        .other
        .post(
            "/v1/projects/proj-b/instances",
            &json!({"name": "theirs", "tier": "db-small", "storage_gb": 20}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    s.advance(10.0).await;
    let r = s
        .other
        .post(
            "/v1/projects/proj-b/instances/theirs/backups",
            &json!({"name": "their-b"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let r = create(
        &s,
        json!({"name": "xx1", "tier": "db-small", "storage_gb": 20, "restore_from_backup": "their-b"}),
    )
    .await;
    assert_eq!(
        violations(&r, &["restore_from_backup"]),
        "backup their-b not found in project proj-a"
    );

    // Smaller than the source at backup time; an admin user named like a restored user.
    source(
        &s,
        json!({"name": "src", "tier": "db-small", "storage_gb": 50}),
        "bk1",
    )
    .await;
    let r = create(
        &s,
        json!({"name": "xx2", "tier": "db-small", "storage_gb": 40, "restore_from_backup": "bk1"}),
    )
    .await;
    let d = violations(&r, &["storage_gb"]);
    assert!(d.contains("50"), "{d}");
    let r = create(
        &s,
        json!({"name": "xx2", "tier": "db-small", "storage_gb": 50, "admin_username": "reader",
               "restore_from_backup": "bk1"}),
    )
    .await;
    violations(&r, &["admin_username"]);
    // All violations at once.
    let r = create(
        &s,
        json!({"name": "xx2", "engine": "postgres", "tier": "db-small", "storage_gb": 10,
               "restore_from_backup": "bk1"}),
    )
    .await;
    violations(&r, &["engine", "storage_gb"]);
    // "" means no restore (what restored_from_backup reads for an instance not restored).
    let r = create(
        &s,
        json!({"name": "xx3", "tier": "db-small", "storage_gb": 20, "restore_from_backup": ""}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let i = s
        .api
        .get(&format!("{P}/instances/xx3"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["restored_from_backup"], "");
}

#[tokio::test]
async fn a_backup_that_is_not_ready_is_a_failed_precondition() {
    let s = start().await;
    source(
        &s,
        json!({"name": "src", "tier": "db-small", "storage_gb": 20}),
        "bk1",
    )
    .await;
    {
        // Backups are taken synchronously, so a pending one only exists when written directly.
        let mut store = s.state.store().await;
        let mut rec = store.backups[&("proj-a".to_string(), "bk1".to_string())].clone();
        rec["state"] = json!("CREATING");
        let mut b = store.batch();
        b.put_backup("proj-a", "bk1", rec);
        b.commit().await.unwrap();
    }
    let r = create(
        &s,
        json!({"name": "copy", "tier": "db-small", "storage_gb": 20, "restore_from_backup": "bk1"}),
    )
    .await;
    assert_problem(&r, 409, "FAILED_PRECONDITION");
    assert_eq!(r.json()["retryable"], false);
    assert!(r.json()["detail"].as_str().unwrap().contains("bk1"));
    // Body errors come first.
    let r = create(
        &s,
        json!({"name": "copy", "tier": "db-small", "storage_gb": 15, "restore_from_backup": "bk1"}),
    )
    .await;
    violations(&r, &["storage_gb"]);
}

#[tokio::test]
async fn restore_from_a_final_backup_of_a_deleted_instance() {
    let s = start().await;
    source(
        &s,
        json!({"name": "src", "tier": "db-small", "storage_gb": 20}),
        "bk1",
    )
    .await;
    let r = s
        .api
        .delete(&format!("{P}/instances/src?final_backup_name=src-last"))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    s.advance(10.0).await;
    assert_problem(
        &s.api.get(&format!("{P}/instances/src")).await.unwrap(),
        404,
        "NOT_FOUND",
    );
    // The name can be used again, restored from its own final backup.
    let r = create(
        &s,
        json!({"name": "src", "tier": "db-small", "storage_gb": 20, "restore_from_backup": "src-last"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    s.advance(10.0).await;
    assert_eq!(s.op(&r).await["done"], true);
    assert_eq!(names(&list(&s, "src", "databases").await), ["app"]);
    assert_eq!(names(&list(&s, "src", "users").await), ["reader", "writer"]);
    let i = s
        .api
        .get(&format!("{P}/instances/src"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["restored_from_backup"], "src-last");
    assert_eq!(i["state"], "READY");
}

#[tokio::test]
async fn a_failed_restore_leaves_no_children_and_the_field_is_read_only() {
    let s = start().await;
    source(
        &s,
        json!({"name": "src", "tier": "db-small", "storage_gb": 20}),
        "bk1",
    )
    .await;
    s.fault(json!({"kind": "fail_operation", "method": "POST",
                   "path_prefix": format!("{P}/instances"), "count": 1}))
        .await;
    let r = create(
        &s,
        json!({"name": "copy", "tier": "db-small", "storage_gb": 20, "restore_from_backup": "bk1"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    s.advance(10.0).await;
    let op = s.op(&r).await;
    assert_eq!(op["done"], true);
    assert!(op["error"].is_object());
    let i = s
        .api
        .get(&format!("{P}/instances/copy"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["state"], "FAILED");
    assert_eq!(list(&s, "copy", "databases").await, json!([]));
    assert_eq!(list(&s, "copy", "users").await, json!([]));

    let r = s
        .api
        .patch(
            &format!("{P}/instances/src"),
            &json!({"restored_from_backup": "bk1"}),
        )
        .await
        .unwrap();
    violations(&r, &["restored_from_backup"]);
    let r = s
        .admin
        .post(
            "/admin/drift/projects/proj-a/instances/src",
            &json!({"restored_from_backup": "bk1"}),
        )
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
}
