//! Backup records: the snapshot of the instance's databases and users (on-demand and final backups),
//! `creation_token`, and the migration that gives records written before them the same fields.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};

/// db1 (READY) with databases `app` (custom collation) and `logs`, users `reader` and `writer`.
async fn instance_with_children(s: &Server) {
    s.create_ready(json!({"name": "db1", "tier": "db-small", "storage_gb": 40}))
        .await;
    let base = format!("{P}/instances/db1");
    for (seg, body) in [
        (
            "databases",
            json!({"name": "app", "charset": "utf8mb4", "collation": "utf8mb4_bin"}),
        ),
        ("databases", json!({"name": "logs"})),
        (
            "users",
            json!({"name": "writer", "password": "writer-pass-1", "roles": ["rw", "ddl"]}),
        ),
        ("users", json!({"name": "reader", "roles": ["ro"]})),
    ] {
        let r = s.api.post(&format!("{base}/{seg}"), &body).await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

fn assert_snapshot_of_db1(b: &Value) {
    assert_eq!(b["database_names"], json!(["app", "logs"]), "{b}");
    assert_eq!(b["user_names"], json!(["reader", "writer"]), "{b}");
    assert_eq!(
        b["databases"],
        json!([
            {"name": "app", "charset": "utf8mb4", "collation": "utf8mb4_bin"},
            {"name": "logs", "charset": "utf8mb4", "collation": "utf8mb4_0900_ai_ci"},
        ])
    );
    assert_eq!(
        b["users"],
        json!([{"name": "reader", "roles": ["ro"]}, {"name": "writer", "roles": ["rw", "ddl"]}])
    );
    assert_eq!(b["source_storage_gb"], 40);
    assert!(!b.to_string().contains("writer-pass-1"));
}

#[tokio::test]
async fn on_demand_backups_snapshot_children_and_carry_the_creation_token() {
    let s = start().await;
    instance_with_children(&s).await;
    let url = format!("{P}/instances/db1/backups");
    let r = s
        .api
        .send(
            "POST",
            &url,
            &[("idempotency-key", "bk-1")],
            Some(&json!({"name": "bk1", "description": "before the migration"})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let b = r.json();
    assert_snapshot_of_db1(&b);
    assert_eq!(b["creation_token"], "bk-1");
    // The fields that were there before are unchanged.
    assert_eq!(b["name"], "bk1");
    assert_eq!(b["instance"], "db1");
    assert!(b["instance_uid"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(b["type"], "ON_DEMAND");
    assert_eq!(b["state"], "READY");
    assert_eq!(b["engine"], "mysql");
    assert_eq!(b["engine_version"], "8.0");
    assert_eq!(b["size_bytes"], 40 * 52_428_800 + 1_048_576);
    assert_eq!(b["description"], "before the migration");
    assert!(b["created_at"].as_str().unwrap().ends_with('Z'));
    // GET and both lists show the same record; a replay answers it again.
    for u in [
        format!("{P}/backups/bk1"),
        format!("{url}/bk1"),
        format!("{P}/backups?instance=db1"),
        url.clone(),
    ] {
        let g = s.api.get(&u).await.unwrap().json();
        let g = if g["backups"].is_array() {
            g["backups"][0].clone()
        } else {
            g
        };
        assert_eq!(g, b, "{u}");
    }
    let again = s
        .api
        .send(
            "POST",
            &url,
            &[("idempotency-key", "bk-1")],
            Some(&json!({"name": "bk1", "description": "before the migration"})),
        )
        .await
        .unwrap();
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), b);

    // Without a key the token is empty; the snapshot is of the moment the backup is taken.
    let r = s
        .api
        .delete(&format!("{P}/instances/db1/databases/logs"))
        .await
        .unwrap();
    assert_eq!(r.status, 204);
    let b2 = s.api.post(&url, &json!({"name": "bk2"})).await.unwrap();
    assert_eq!(b2.status, 201, "{}", b2.text());
    assert_eq!(b2.json()["creation_token"], "");
    assert_eq!(b2.json()["database_names"], json!(["app"]));
    let b1 = s.api.get(&format!("{P}/backups/bk1")).await.unwrap().json();
    assert_eq!(b1["database_names"], json!(["app", "logs"]));

    // An instance without children has empty lists, not missing ones.
    s.create_ready(inst_body("db2")).await;
    let r = s
        .api
        .post(&format!("{P}/instances/db2/backups"), &json!({}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["database_names"], json!([]));
    assert_eq!(r.json()["user_names"], json!([]));
}

#[tokio::test]
async fn final_backups_snapshot_children_too() {
    let s = start().await;
    instance_with_children(&s).await;
    let r = s
        .api
        .send(
            "DELETE",
            &format!("{P}/instances/db1?final_backup_name=db1-last"),
            &[("idempotency-key", "del-1")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    s.advance(10.0).await;
    assert_eq!(s.op(&r).await["done"], true);
    let b = s.api.get(&format!("{P}/backups/db1-last")).await.unwrap();
    assert_eq!(b.status, 200, "{}", b.text());
    let b = b.json();
    assert_eq!(b["type"], "FINAL");
    assert_snapshot_of_db1(&b);
    // Only a POST's key is a creation token; a final backup is made by the DELETE.
    assert_eq!(b["creation_token"], "");
}

#[tokio::test]
async fn migration_gives_old_backup_records_the_new_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // A database as the server before snapshots left it: migration 0001 only.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_init.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let old = json!({"name": "old-1", "instance": "db1", "instance_uid": "u1", "type": "FINAL",
                         "state": "READY", "engine": "postgres", "engine_version": "15",
                         "size_bytes": 30 * 52_428_800 + 1_048_576,
                         "created_at": "2026-01-01T00:00:00Z"});
        conn.execute(
            "INSERT INTO backups (project, name, body) VALUES ('p', 'old-1', ?1)",
            [old.to_string()],
        )
        .unwrap();
    }
    let store = clouddb_server::store::Store::open(Some(&path)).unwrap();
    let b = &store.backups[&("p".to_string(), "old-1".to_string())];
    assert_eq!(b["source_storage_gb"], 30);
    assert_eq!(b["database_names"], json!([]));
    assert_eq!(b["user_names"], json!([]));
    assert_eq!(b["databases"], json!([]));
    assert_eq!(b["users"], json!([]));
    assert_eq!(b["creation_token"], "");
    assert_eq!(b["engine_version"], "15");
    assert_eq!(b["type"], "FINAL");
}
