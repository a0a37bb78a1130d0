//! Temporary credentials over real HTTP: create (the only answer with a password), expiry on the
//! virtual clock, renew, revoke, the per-instance bound, idempotent replays without the password,
//! and the password in no other answer, record or log.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};

fn creds(name: &str) -> String {
    format!("{P}/instances/{name}/credentials")
}

async fn list_ids(s: &Server, name: &str) -> Vec<String> {
    let r = s.api.get(&creds(name)).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn create_expire_renew_revoke() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    let r = s
        .api
        .post(&creds("db1"), &json!({"ttl_seconds": 60}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let c = r.json();
    let id = c["id"].as_str().unwrap().to_string();
    let password = c["password"].as_str().unwrap().to_string();
    assert!(
        password.starts_with("cdbpw_") && password.len() >= 40,
        "{password}"
    );
    assert!(c["username"].as_str().unwrap().starts_with("cred_"));
    assert_eq!(c["instance"], "db1");
    assert_eq!(c["ttl_seconds"], 60);
    assert!(c.get("expires_ms").is_none(), "internal fields stay inside");

    // Listed and readable, never with the password.
    let one = s.api.get(&format!("{}/{id}", creds("db1"))).await.unwrap();
    assert_eq!(one.status, 200);
    assert!(one.json().get("password").is_none());
    assert_eq!(one.json()["expires_at"], c["expires_at"]);
    assert_eq!(list_ids(&s, "db1").await, vec![id.clone()]);
    assert!(
        !s.api
            .get(&creds("db1"))
            .await
            .unwrap()
            .text()
            .contains(&password)
    );

    // Renew: 60 s from now, not from creation.
    s.advance(50.0).await;
    let r = s
        .api
        .send("POST", &format!("{}/{id}/renew", creds("db1")), &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json().get("password").is_none());
    assert_ne!(r.json()["expires_at"], c["expires_at"]);
    s.advance(50.0).await;
    assert_eq!(
        list_ids(&s, "db1").await,
        vec![id.clone()],
        "renewed, still active"
    );
    // A renew may ask for another lifetime.
    let r = s
        .api
        .post(
            &format!("{}/{id}/renew", creds("db1")),
            &json!({"ttl_seconds": 5}),
        )
        .await
        .unwrap();
    assert_eq!(r.json()["ttl_seconds"], 5);
    s.advance(5.0).await;
    // Expired: gone everywhere.
    assert!(list_ids(&s, "db1").await.is_empty());
    for (m, path) in [
        ("GET", format!("{}/{id}", creds("db1"))),
        ("DELETE", format!("{}/{id}", creds("db1"))),
        ("POST", format!("{}/{id}/renew", creds("db1"))),
    ] {
        let r = s.api.send(m, &path, &[], None).await.unwrap();
        assert_problem(&r, 404, "NOT_FOUND");
    }

    // Revoke: 204, then 404.
    let c2 = s.api.post(&creds("db1"), &json!({})).await.unwrap().json();
    assert_eq!(c2["ttl_seconds"], 900, "the default lifetime");
    let path = format!("{}/{}", creds("db1"), c2["id"].as_str().unwrap());
    assert_eq!(s.api.delete(&path).await.unwrap().status, 204);
    assert_eq!(s.api.delete(&path).await.unwrap().status, 404);
    assert!(list_ids(&s, "db1").await.is_empty());

    // The password is nowhere the server keeps things: records, the request log.
    let state = s.state.read().await;
    let kept = serde_json::to_string(&state.children).unwrap();
    assert!(!kept.contains(&password));
    drop(state);
    let log = s.admin.get("/admin/requests").await.unwrap().text();
    assert!(!log.contains(&password));
    assert!(
        log.contains("/credentials"),
        "every call is in the request log"
    );
}

#[tokio::test]
async fn bad_ttls_and_instances_are_refused() {
    let s = start().await;
    let r = s.api.post(&creds("nope"), &json!({})).await.unwrap();
    assert_problem(&r, 404, "NOT_FOUND");
    let r = s.api.get(&creds("nope")).await.unwrap();
    assert_problem(&r, 404, "NOT_FOUND");
    s.create_ready(inst_body("db1")).await;
    for body in [
        json!({"ttl_seconds": 4}),
        json!({"ttl_seconds": 86_401}),
        json!({"ttl_seconds": "15m"}),
        json!({"ttl_seconds": 1.5}),
    ] {
        let r = s.api.post(&creds("db1"), &body).await.unwrap();
        assert_problem(&r, 400, "INVALID_ARGUMENT");
        assert_eq!(violated(&r), ["ttl_seconds"], "{body}");
    }
    let r = s
        .api
        .post(&creds("db1"), &json!({"ttl": 60}))
        .await
        .unwrap();
    assert_eq!(violated(&r), ["ttl"]);
    // Another project sees nothing.
    let c = s.api.post(&creds("db1"), &json!({})).await.unwrap().json();
    let r = s
        .other
        .get(&format!("{}/{}", creds("db1"), c["id"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    // A busy instance takes no new logins, but its logins can still be renewed and revoked.
    s.api
        .patch(&format!("{P}/instances/db1"), &json!({"tier": "db-micro"}))
        .await
        .unwrap();
    let r = s.api.post(&creds("db1"), &json!({})).await.unwrap();
    assert_problem(&r, 409, "OPERATION_IN_PROGRESS");
    let path = format!("{}/{}", creds("db1"), c["id"].as_str().unwrap());
    let r = s
        .api
        .post(&format!("{path}/renew"), &json!({}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.api.delete(&path).await.unwrap().status, 204);
}

#[tokio::test]
async fn active_credentials_are_bounded_per_instance_and_expired_ones_make_room() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    for _ in 0..20 {
        let r = s
            .api
            .post(&creds("db1"), &json!({"ttl_seconds": 10}))
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = s.api.post(&creds("db1"), &json!({})).await.unwrap();
    assert_problem(&r, 409, "QUOTA_EXCEEDED");
    // Pages of the list.
    let first = s
        .api
        .get(&format!("{}?page_size=15", creds("db1")))
        .await
        .unwrap()
        .json();
    assert_eq!(first["credentials"].as_array().unwrap().len(), 15);
    let token = first["next_page_token"].as_str().unwrap();
    let rest = s
        .api
        .get(&format!("{}?page_size=15&page_token={token}", creds("db1")))
        .await
        .unwrap()
        .json();
    assert_eq!(rest["credentials"].as_array().unwrap().len(), 5);
    s.advance(10.0).await;
    let r = s.api.post(&creds("db1"), &json!({})).await.unwrap();
    assert_eq!(
        r.status,
        201,
        "expired credentials do not count: {}",
        r.text()
    );
    // ... and the create dropped their records.
    let state = s.state.read().await;
    let kept = state
        .children
        .keys()
        .filter(|k| k.2 == "credentials")
        .count();
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn a_replayed_create_answers_without_the_password() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    let key = [("idempotency-key", "cred-key-1")];
    let body = json!({"ttl_seconds": 60});
    let first = s
        .api
        .send("POST", &creds("db1"), &key, Some(&body))
        .await
        .unwrap();
    assert_eq!(first.status, 201);
    let password = first.json()["password"].as_str().unwrap().to_string();
    assert_eq!(first.json()["creation_token"], "cred-key-1");
    let replay = s
        .api
        .send("POST", &creds("db1"), &key, Some(&body))
        .await
        .unwrap();
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let replayed: Value = replay.json();
    assert_eq!(replayed["id"], first.json()["id"]);
    assert!(replayed.get("password").is_none(), "{replayed}");
    assert_eq!(list_ids(&s, "db1").await.len(), 1, "one credential");
    let state = s.state.read().await;
    let idem = format!("{:?}", state.idem);
    assert!(
        !idem.contains(&password),
        "the idempotency record holds no password"
    );
}

#[tokio::test]
async fn credentials_go_with_their_instance() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    s.api.post(&creds("db1"), &json!({})).await.unwrap();
    let d = s
        .api
        .delete(&format!("{P}/instances/db1?skip_final_backup=true"))
        .await
        .unwrap();
    assert_eq!(d.status, 202);
    s.advance(3.0).await;
    let state = s.state.read().await;
    assert!(state.children.keys().all(|k| k.2 != "credentials"));
}
