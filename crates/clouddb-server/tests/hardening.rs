//! Review fixes: storage failures change nothing, idempotency claims are atomic, the request log and the
//! stored state are bounded, unauthenticated clients are throttled, and records carry `creation_token`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{P, assert_problem, inst_body, start};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_commit_is_a_retryable_500_and_changes_nothing() {
    let s = start().await;
    let url = format!("{P}/instances");
    s.state.set_storage_read_only(true);
    let r = s
        .api
        .send(
            "POST",
            &url,
            &[("idempotency-key", "k-fail")],
            Some(&inst_body("db1")),
        )
        .await
        .unwrap();
    assert_problem(&r, 500, "INTERNAL");
    assert_eq!(r.json()["retryable"], true);
    let g = s.api.get(&format!("{url}/db1")).await.unwrap();
    assert_eq!(g.status, 404, "the failed create is visible: {}", g.text());
    let l = s.api.get(&url).await.unwrap();
    assert_eq!(l.json()["instances"], json!([]));
    s.state.set_storage_read_only(false);
    // The retry with the same key is a fresh request, not a replay of an unpersisted answer.
    let r = s
        .api
        .send(
            "POST",
            &url,
            &[("idempotency-key", "k-fail")],
            Some(&inst_body("db1")),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), None);
    s.advance(10.0).await;
    let g = s.api.get(&format!("{url}/db1")).await.unwrap();
    assert_eq!(g.json()["state"], "READY");

    // A sub-resource write and a drift are rolled back as well.
    s.state.set_storage_read_only(true);
    let r = s
        .api
        .send(
            "POST",
            &format!("{url}/db1/databases"),
            &[("idempotency-key", "k-db")],
            Some(&json!({"name": "app"})),
        )
        .await
        .unwrap();
    assert_problem(&r, 500, "INTERNAL");
    let r = s
        .admin
        .post(
            "/admin/drift/projects/proj-a/instances/db1",
            &json!({"tier": "db-micro"}),
        )
        .await
        .unwrap();
    assert_problem(&r, 500, "INTERNAL");
    let r = s.api.delete(&format!("{url}/db1")).await.unwrap();
    assert_problem(&r, 500, "INTERNAL");
    s.state.set_storage_read_only(false);
    let g = s
        .api
        .get(&format!("{url}/db1/databases/app"))
        .await
        .unwrap();
    assert_eq!(g.status, 404, "{}", g.text());
    let g = s.api.get(&format!("{url}/db1")).await.unwrap();
    assert_eq!(g.json()["tier"], "db-small");
    assert_eq!(g.json()["state"], "READY");
    let r = s
        .api
        .send(
            "POST",
            &format!("{url}/db1/databases"),
            &[("idempotency-key", "k-db")],
            Some(&json!({"name": "app"})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("idempotent-replayed"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_reset_leaves_the_store_usable_and_unchanged() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    s.state.set_storage_read_only(true);
    let r = s
        .admin
        .send("POST", "/admin/reset", &[], None)
        .await
        .unwrap();
    assert_problem(&r, 500, "INTERNAL");
    s.state.set_storage_read_only(false);
    let g = s.api.get(&format!("{P}/instances/db1")).await.unwrap();
    assert_eq!(g.status, 200, "{}", g.text());
    let r = s
        .api
        .post(&format!("{P}/instances"), &inst_body("db2"))
        .await
        .unwrap();
    assert_eq!(
        r.status,
        202,
        "a failed reset left the store unusable: {}",
        r.text()
    );
    let r = s
        .admin
        .send("POST", "/admin/reset", &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 204, "{}", r.text());
    let g = s.api.get(&format!("{P}/instances/db1")).await.unwrap();
    assert_eq!(g.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_commit_is_not_on_disk_either() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config();
    cfg.data = Some(dir.path().join("c.db"));
    {
        let s = common::start_with(cfg.clone()).await;
        s.freeze().await;
        s.state.set_storage_read_only(true);
        let r = s
            .api
            .post(&format!("{P}/instances"), &inst_body("db1"))
            .await
            .unwrap();
        assert_problem(&r, 500, "INTERNAL");
        s.state.set_storage_read_only(false);
        let r = s
            .api
            .post(&format!("{P}/instances"), &inst_body("db2"))
            .await
            .unwrap();
        assert_eq!(r.status, 202, "{}", r.text());
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let s = common::start_with(cfg).await;
    let g = s.api.get(&format!("{P}/instances/db1")).await.unwrap();
    assert_eq!(g.status, 404);
    let g = s.api.get(&format!("{P}/instances/db2")).await.unwrap();
    assert_eq!(g.status, 200, "{}", g.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_requests_run_the_handler_once() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    let url = format!("{P}/instances/db1/firewallRules");
    for i in 0..200 {
        let key = format!("race-{i}");
        let body = json!({"name": format!("rule-{i}"), "cidr": "10.0.0.0/8"});
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (c, url, key, body) = (s.api.clone(), url.clone(), key.clone(), body.clone());
            set.spawn(async move {
                c.send("POST", &url, &[("idempotency-key", &key)], Some(&body))
                    .await
                    .unwrap()
            });
        }
        let mut created = 0;
        while let Some(r) = set.join_next().await {
            let r = r.unwrap();
            match r.status {
                201 => created += 1,
                409 => assert_eq!(
                    r.json()["reason"],
                    "IDEMPOTENCY_KEY_IN_USE",
                    "iteration {i}: the handler ran twice: {}",
                    r.text()
                ),
                other => panic!("iteration {i}: status {other}: {}", r.text()),
            }
        }
        assert!(created >= 1, "iteration {i}");
        // Same for a key whose record is being written while identical retries arrive.
        let r = s
            .api
            .send("DELETE", &format!("{url}/rule-{i}"), &[], None)
            .await
            .unwrap();
        assert_eq!(r.status, 204, "{}", r.text());
    }
}

#[tokio::test]
async fn request_log_truncates_long_fields() {
    let s = start().await;
    let long = "x".repeat(6000);
    let path = format!("{P}/instances/{long}?q={long}");
    let r = s
        .api
        .send("GET", &path, &[("idempotency-key", &long)], None)
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    let log = s.admin.get("/admin/requests").await.unwrap().json();
    let e = log.as_array().unwrap().last().unwrap().clone();
    assert!(e["path"].as_str().unwrap().len() <= 520, "{}", e["path"]);
    assert!(e["query"].as_str().unwrap().len() <= 520);
    assert!(e["idempotency_key"].as_str().unwrap().len() <= 260);
    assert!(
        e["path"]
            .as_str()
            .unwrap()
            .starts_with("/v1/projects/proj-a/instances/xxx")
    );
}

#[tokio::test]
async fn unauthenticated_requests_are_rate_limited_per_address() {
    let s = start().await;
    let anon = clouddb_server::http_client::Client::new(s.addr, "nope");
    let mut limited = 0;
    for _ in 0..300 {
        let r = anon.get(&format!("{P}/instances")).await.unwrap();
        match r.status {
            401 => {}
            429 => {
                assert_problem(&r, 429, "RATE_LIMITED");
                assert!(r.header("retry-after").is_some());
                limited += 1;
            }
            other => panic!("{other}"),
        }
    }
    assert!(
        limited > 0,
        "300 failed authentications in a row were never throttled"
    );
    // The admin API's request log still works (the acceptance tests count POSTs from it).
    let log = s
        .admin
        .get("/admin/requests?since=0&limit=5")
        .await
        .unwrap();
    assert_eq!(log.status, 200, "{}", log.text());
    assert_eq!(log.json().as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn sub_resources_have_per_instance_limits() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    let url = format!("{P}/instances/db1/firewallRules");
    for i in 0..100 {
        let r = s
            .api
            .post(
                &url,
                &json!({"name": format!("rule-{i:03}"), "cidr": "10.0.0.0/8"}),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{i}: {}", r.text());
    }
    let r = s
        .api
        .post(&url, &json!({"name": "rule-x", "cidr": "10.0.0.0/8"}))
        .await
        .unwrap();
    assert_problem(&r, 409, "QUOTA_EXCEEDED");
    assert_eq!(r.json()["retryable"], false);
    // After a delete there is room again.
    let r = s.api.delete(&format!("{url}/rule-000")).await.unwrap();
    assert_eq!(r.status, 204);
    let r = s
        .api
        .post(&url, &json!({"name": "rule-x", "cidr": "10.0.0.0/8"}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
}

#[tokio::test]
async fn finished_operations_are_purged_after_the_retention_period() {
    let s = start().await;
    let r = s
        .api
        .post(&format!("{P}/instances"), &inst_body("db1"))
        .await
        .unwrap();
    let id = r.json()["id"].as_str().unwrap().to_string();
    s.advance(3600.0).await;
    let g = s.api.get(&format!("{P}/operations/{id}")).await.unwrap();
    assert_eq!(g.json()["done"], true);
    s.advance(25.0 * 3600.0).await;
    let g = s.api.get(&format!("{P}/operations/{id}")).await.unwrap();
    assert_eq!(
        g.status,
        404,
        "finished operation kept forever: {}",
        g.text()
    );
    let l = s.api.get(&format!("{P}/operations")).await.unwrap();
    assert_eq!(l.json()["operations"], json!([]));
}

#[tokio::test]
async fn records_carry_the_creation_token() {
    let s = start().await;
    let url = format!("{P}/instances");
    let r = s
        .api
        .send(
            "POST",
            &url,
            &[("idempotency-key", "ct-1")],
            Some(&inst_body("db1")),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let r = s.api.post(&url, &inst_body("db2")).await.unwrap();
    assert_eq!(r.status, 202);
    s.advance(10.0).await;
    let g = s.api.get(&format!("{url}/db1")).await.unwrap().json();
    assert_eq!(g["creation_token"], "ct-1");
    let g = s.api.get(&format!("{url}/db2")).await.unwrap().json();
    assert_eq!(g["creation_token"], "");
    let l = s.api.get(&url).await.unwrap().json();
    assert_eq!(l["instances"][0]["creation_token"], "ct-1");
    assert_eq!(l["instances"][1]["creation_token"], "");
    for (seg, body) in [
        ("databases", json!({"name": "app"})),
        ("users", json!({"name": "app", "password": "secret-123"})),
        (
            "firewallRules",
            json!({"name": "office", "cidr": "10.0.0.0/8"}),
        ),
    ] {
        let u = format!("{url}/db1/{seg}");
        let r = s
            .api
            .send(
                "POST",
                &u,
                &[("idempotency-key", &format!("ct-{seg}"))],
                Some(&body),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["creation_token"], format!("ct-{seg}"));
        let g = s.api.get(&format!("{u}/app")).await.unwrap();
        let g = if g.status == 404 {
            s.api.get(&format!("{u}/office")).await.unwrap()
        } else {
            g
        };
        assert_eq!(g.json()["creation_token"], format!("ct-{seg}"), "{seg}");
        let l = s.api.get(&u).await.unwrap().json();
        assert_eq!(l[seg][0]["creation_token"], format!("ct-{seg}"), "{seg}");
        let r = s
            .api
            .post(&format!("{url}/db2/{seg}"), &body)
            .await
            .unwrap();
        assert_eq!(r.json()["creation_token"], "", "{seg}");
    }
}

#[tokio::test]
async fn request_log_is_bounded_in_bytes() {
    let mut cfg = common::config();
    cfg.request_log_max_bytes = 64 * 1024;
    let s = common::start_with(cfg).await;
    let q = "q=".to_string() + &"y".repeat(400);
    for i in 0..300 {
        let r = s
            .api
            .get(&format!("{P}/instances?{q}&i={i}"))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    assert!(
        s.state.log().bytes() <= 64 * 1024,
        "{}",
        s.state.log().bytes()
    );
    let log = s.admin.get("/admin/requests").await.unwrap().json();
    let log = log.as_array().unwrap();
    assert!(log.len() > 50 && log.len() < 300, "{}", log.len());
    assert!(
        log.last().unwrap()["query"]
            .as_str()
            .unwrap()
            .ends_with("&i=299")
    );
    let since = log[0]["seq"].as_u64().unwrap();
    let r = s
        .admin
        .get(&format!("/admin/requests?since={since}&limit=2"))
        .await
        .unwrap()
        .json();
    assert_eq!(r[0]["seq"].as_u64().unwrap(), since + 1);
}

#[tokio::test]
async fn idempotency_table_is_bounded() {
    let mut cfg = common::config();
    cfg.idempotency_max_records = 5;
    let s = common::start_with(cfg).await;
    s.freeze().await;
    s.create_ready(inst_body("db1")).await;
    let url = format!("{P}/instances/db1/databases");
    for i in 0..8 {
        let r = s
            .api
            .send(
                "POST",
                &url,
                &[("idempotency-key", &format!("bound-{i}"))],
                Some(&json!({"name": format!("db_{i}")})),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.text());
    }
    assert_eq!(s.state.store().await.idem_usage().0, 5);
    // The newest records replay; the oldest were evicted.
    let r = s
        .api
        .send(
            "POST",
            &url,
            &[("idempotency-key", "bound-7")],
            Some(&json!({"name": "db_7"})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    let r = s
        .api
        .send(
            "POST",
            &url,
            &[("idempotency-key", "bound-0")],
            Some(&json!({"name": "db_0"})),
        )
        .await
        .unwrap();
    assert_problem(&r, 409, "ALREADY_EXISTS");
}
