//! Fault injection, the virtual clock, drift, the request log, reset and sub-resources.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use common::*;
use serde_json::json;

#[tokio::test]
async fn fault_fail_next_n_with_retry_after() {
    let s = start().await;
    s.fault(
        json!({"kind": "fail", "method": "POST", "path_prefix": format!("{P}/instances"),
                   "count": 2, "status": 503, "retry_after": 1}),
    )
    .await;
    let url = format!("{P}/instances");
    for _ in 0..2 {
        let r = s.api.post(&url, &inst_body("db1")).await.unwrap();
        assert_problem(&r, 503, "UNAVAILABLE");
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.json()["retryable"], true);
    }
    // GETs are not matched by the rule, and the third POST goes through.
    assert_eq!(s.api.get(&url).await.unwrap().status, 200);
    assert_eq!(
        s.api.post(&url, &inst_body("db1")).await.unwrap().status,
        202
    );
    let f = s.admin.get("/admin/faults").await.unwrap().json();
    assert_eq!(f["faults"][0]["hits"], 2);
    assert_eq!(f["faults"][0]["remaining"], 0);
    assert_eq!(s.admin.delete("/admin/faults").await.unwrap().status, 204);
    assert_eq!(
        s.admin.get("/admin/faults").await.unwrap().json()["faults"],
        json!([])
    );
}

#[tokio::test]
async fn fault_random() {
    let s = start().await;
    s.fault(json!({"kind": "random", "rate": 1.0, "statuses": [500, 429]}))
        .await;
    for _ in 0..10 {
        let r = s.api.get(&format!("{P}/instances")).await.unwrap();
        assert!(r.status == 500 || r.status == 429, "{}", r.status);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    s.admin.delete("/admin/faults").await.unwrap();
    s.fault(json!({"kind": "random", "rate": 0.0})).await;
    for _ in 0..10 {
        assert_eq!(
            s.api.get(&format!("{P}/instances")).await.unwrap().status,
            200
        );
    }
}

#[tokio::test]
async fn fault_fail_operation() {
    let s = start().await;
    s.fault(json!({"kind": "fail_operation", "method": "POST", "path_prefix": format!("{P}/instances"), "count": 1}))
        .await;
    let r = s
        .api
        .post(&format!("{P}/instances"), &inst_body("db1"))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    s.advance(3.0).await;
    let op = s.op(&r).await;
    assert_eq!(op["done"], true);
    assert_eq!(op["error"]["reason"], "PROVISIONING_FAILED");
    assert_eq!(op["error"]["status"], 500);
    let i = s
        .api
        .get(&format!("{P}/instances/db1"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["state"], "FAILED");
    // A FAILED instance can't be patched but can be deleted.
    let p = s
        .api
        .patch(&format!("{P}/instances/db1"), &json!({"storage_gb": 30}))
        .await
        .unwrap();
    assert_problem(&p, 409, "FAILED_PRECONDITION");
    assert_eq!(
        s.api
            .delete(&format!("{P}/instances/db1"))
            .await
            .unwrap()
            .status,
        202
    );

    // A failed update rolls back and leaves the instance READY.
    s.create_ready(inst_body("db2")).await;
    s.fault(json!({"kind": "fail_operation", "method": "PATCH"}))
        .await;
    let r = s
        .api
        .patch(&format!("{P}/instances/db2"), &json!({"storage_gb": 30}))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    s.advance(3.0).await;
    assert_eq!(s.op(&r).await["error"]["reason"], "UPDATE_FAILED");
    let i = s
        .api
        .get(&format!("{P}/instances/db2"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["state"], "READY");
    assert_eq!(i["storage_gb"], 20);
}

#[tokio::test]
async fn fault_drop_response_then_idempotent_retry() {
    let s = start().await;
    s.fault(json!({"kind": "drop_response", "method": "POST", "path_prefix": format!("{P}/instances"), "count": 1}))
        .await;
    let key = [("idempotency-key", "drop-1")];
    let url = format!("{P}/instances");
    let r = s
        .api
        .send("POST", &url, &key, Some(&inst_body("db1")))
        .await
        .unwrap();
    assert_eq!(r.status, 502);
    assert!(r.body.is_empty());
    assert!(r.header("x-request-id").is_some());
    // The create was committed.
    assert_eq!(s.api.get(&format!("{url}/db1")).await.unwrap().status, 200);
    // The retry with the same key gets the original answer, and no second create happens.
    let r2 = s
        .api
        .send("POST", &url, &key, Some(&inst_body("db1")))
        .await
        .unwrap();
    assert_eq!(r2.status, 202, "{}", r2.text());
    assert_eq!(r2.json()["verb"], "create");
    let log = s.admin.get("/admin/requests").await.unwrap().json();
    let posts: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == "POST")
        .map(|e| (e["status"].as_u64().unwrap(), e["idempotency_key"].clone()))
        .collect();
    assert_eq!(posts, vec![(502, json!("drop-1")), (202, json!("drop-1"))]);
}

#[tokio::test]
async fn fault_not_found_after_create() {
    let s = start().await;
    s.fault(json!({"kind": "not_found_after_create", "seconds": 2}))
        .await;
    let r = s
        .api
        .post(&format!("{P}/instances"), &inst_body("db1"))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    assert_problem(
        &s.api.get(&format!("{P}/instances/db1")).await.unwrap(),
        404,
        "NOT_FOUND",
    );
    s.advance(1.0).await;
    assert_problem(
        &s.api.get(&format!("{P}/instances/db1")).await.unwrap(),
        404,
        "NOT_FOUND",
    );
    s.advance(1.5).await;
    assert_eq!(
        s.api
            .get(&format!("{P}/instances/db1"))
            .await
            .unwrap()
            .status,
        200
    );
}

#[tokio::test]
async fn fault_latency() {
    let s = start().await;
    s.fault(json!({"kind": "latency", "millis": 150, "path_prefix": "/v1/tiers"}))
        .await;
    let t = Instant::now();
    assert_eq!(s.api.get("/v1/tiers").await.unwrap().status, 200);
    assert!(t.elapsed().as_millis() >= 150);
    let t = Instant::now();
    assert_eq!(s.api.get("/v1/engineVersions").await.unwrap().status, 200);
    assert!(t.elapsed().as_millis() < 150);
}

#[tokio::test]
async fn fault_rules_are_validated() {
    let s = start().await;
    let r = s
        .admin
        .post("/admin/faults", &json!({"kind": "explode"}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    let r = s
        .admin
        .post("/admin/faults", &json!({"kind": "random", "rate": 2}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    let r = s
        .admin
        .post("/admin/faults", &json!({"kind": "fail", "bogus": 1}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["bogus"]);
    let r = s
        .api
        .post("/admin/faults", &json!({"kind": "fail"}))
        .await
        .unwrap();
    assert_problem(&r, 401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn admin_clock() {
    let s = start_with(config()).await;
    let c = s.admin.get("/admin/clock").await.unwrap().json();
    assert_eq!(c["frozen"], false);
    let r = s
        .admin
        .post("/admin/clock", &json!({"frozen": true}))
        .await
        .unwrap()
        .json();
    assert_eq!(r["frozen"], true);
    let t0 = r["now_unix_ms"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let r = s.admin.get("/admin/clock").await.unwrap().json();
    assert_eq!(
        r["now_unix_ms"].as_i64().unwrap(),
        t0,
        "frozen time does not move"
    );
    let r = s
        .admin
        .post("/admin/clock", &json!({"advance_seconds": 90.5}))
        .await
        .unwrap()
        .json();
    assert_eq!(r["now_unix_ms"].as_i64().unwrap(), t0 + 90_500);
    let r = s
        .admin
        .post("/admin/clock", &json!({"frozen": false}))
        .await
        .unwrap()
        .json();
    assert_eq!(r["frozen"], false);
    assert!(r["offset_seconds"].as_f64().unwrap() > 90.0);
    let r = s
        .admin
        .post("/admin/clock", &json!({"advance_seconds": -1}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    // Unfrozen, virtual time follows real time: a 0.2 s operation finishes by itself.
    let mut cfg = config();
    cfg.provision_ms = 200;
    let s2 = start_with(cfg).await;
    let r = s2
        .api
        .post(&format!("{P}/instances"), &inst_body("db1"))
        .await
        .unwrap();
    assert_eq!(r.json()["done"], false);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(s2.op(&r).await["done"], true);
    assert_eq!(
        s2.api
            .get(&format!("{P}/instances/db1"))
            .await
            .unwrap()
            .json()["state"],
        "READY"
    );
}

#[tokio::test]
async fn drift_change_and_delete() {
    let s = start().await;
    let before = s
        .create_ready(
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "labels": {"a": "1"}}),
        )
        .await;
    let d = "/admin/drift/projects/proj-a/instances/db1";
    let r = s
        .admin
        .post(
            d,
            &json!({"tier": "db-micro", "labels": {"a": null, "b": "2"}, "state": "MAINTENANCE"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let i = s
        .api
        .get(&format!("{P}/instances/db1"))
        .await
        .unwrap()
        .json();
    assert_eq!(i["tier"], "db-micro");
    assert_eq!(i["labels"], json!({"b": "2"}));
    assert_eq!(i["state"], "MAINTENANCE");
    assert_ne!(i["etag"], before["etag"]);
    let p = s
        .api
        .patch(&format!("{P}/instances/db1"), &json!({"labels": {}}))
        .await
        .unwrap();
    assert_problem(&p, 409, "OPERATION_IN_PROGRESS");
    let r = s.admin.post(d, &json!({"state": "BOGUS"})).await.unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    let r = s.admin.post(d, &json!({"uid": "x"})).await.unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    let r = s
        .admin
        .post(d, &json!({"storage_gb": "big"}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(s.admin.delete(d).await.unwrap().status, 204);
    assert_problem(
        &s.api.get(&format!("{P}/instances/db1")).await.unwrap(),
        404,
        "NOT_FOUND",
    );
    assert_problem(&s.admin.delete(d).await.unwrap(), 404, "NOT_FOUND");
}

#[tokio::test]
async fn request_log_and_reset() {
    let s = start().await;
    s.api
        .send(
            "POST",
            &format!("{P}/instances"),
            &[("idempotency-key", "abc")],
            Some(&inst_body("db1")),
        )
        .await
        .unwrap();
    s.api.get(&format!("{P}/instances/db1")).await.unwrap();
    let log = s.admin.get("/admin/requests?since=0").await.unwrap().json();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], format!("{P}/instances"));
    assert_eq!(log[0]["idempotency_key"], "abc");
    assert_eq!(log[0]["status"], 202);
    assert!(log[0]["time"].as_str().unwrap().ends_with('Z'));
    assert!(log[0]["request_id"].as_str().unwrap().starts_with("req-"));
    let since = log[0]["seq"].as_u64().unwrap();
    let later = s
        .admin
        .get(&format!("/admin/requests?since={since}"))
        .await
        .unwrap()
        .json();
    assert_eq!(later.as_array().unwrap().len(), 1);
    assert_eq!(later[0]["method"], "GET");

    s.fault(json!({"kind": "latency", "millis": 1})).await;
    assert_eq!(
        s.admin
            .post("/admin/reset", &json!({}))
            .await
            .unwrap()
            .status,
        204
    );
    assert_problem(
        &s.api.get(&format!("{P}/instances/db1")).await.unwrap(),
        404,
        "NOT_FOUND",
    );
    assert_eq!(
        s.admin.get("/admin/faults").await.unwrap().json()["faults"],
        json!([])
    );
    let log = s.admin.get("/admin/requests").await.unwrap().json();
    assert_eq!(
        log.as_array().unwrap().len(),
        1,
        "only the GET after the reset"
    );
    // Idempotency records are gone too: the key can be used again for another body.
    let r = s
        .api
        .send(
            "POST",
            &format!("{P}/instances"),
            &[("idempotency-key", "abc")],
            Some(&inst_body("db9")),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
}

#[tokio::test]
async fn sub_resources() {
    let s = start().await;
    let base = format!("{P}/instances/db1");
    // While CREATING, writes are refused as busy.
    s.api
        .post(&format!("{P}/instances"), &inst_body("db1"))
        .await
        .unwrap();
    let r = s
        .api
        .post(&format!("{base}/databases"), &json!({"name": "app"}))
        .await
        .unwrap();
    assert_problem(&r, 409, "OPERATION_IN_PROGRESS");
    s.advance(3.0).await;

    // databases
    let r = s
        .api
        .post(&format!("{base}/databases"), &json!({"name": "app"}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["charset"], "utf8mb4");
    let r = s
        .api
        .post(&format!("{base}/databases"), &json!({"name": "app"}))
        .await
        .unwrap();
    assert_problem(&r, 409, "ALREADY_EXISTS");
    let r = s
        .api
        .post(&format!("{base}/databases"), &json!({"name": "bad name"}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["name"]);
    let r = s
        .api
        .patch(
            &format!("{base}/databases/app"),
            &json!({"collation": "utf8mb4_bin"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["collation"], "utf8mb4_bin");
    let l = s
        .api
        .get(&format!("{base}/databases"))
        .await
        .unwrap()
        .json();
    assert_eq!(l["databases"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.api
            .delete(&format!("{base}/databases/app"))
            .await
            .unwrap()
            .status,
        204
    );
    assert_problem(
        &s.api.get(&format!("{base}/databases/app")).await.unwrap(),
        404,
        "NOT_FOUND",
    );

    // users: the password is write-only
    let r = s
        .api
        .post(
            &format!("{base}/users"),
            &json!({"name": "app", "password": "hunter2hunter2", "roles": ["reader"]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(!r.text().contains("hunter2"));
    let g = s.api.get(&format!("{base}/users/app")).await.unwrap();
    assert_eq!(g.json()["roles"], json!(["reader"]));
    assert!(!g.text().contains("hunter2"));
    let r = s
        .api
        .patch(&format!("{base}/users/app"), &json!({"password": "x"}))
        .await
        .unwrap();
    assert_eq!(violated(&r), vec!["password"]);
    let r = s
        .api
        .patch(&format!("{base}/users/app"), &json!({"roles": ["writer"]}))
        .await
        .unwrap();
    assert_eq!(r.json()["roles"], json!(["writer"]));

    // firewall rules
    let r = s
        .api
        .post(
            &format!("{base}/firewallRules"),
            &json!({"name": "office", "cidr": "10.0.0.0/33"}),
        )
        .await
        .unwrap();
    assert_eq!(violated(&r), vec!["cidr"]);
    let r = s
        .api
        .post(
            &format!("{base}/firewallRules"),
            &json!({"name": "office", "cidr": "10.0.0.0/8", "description": "HQ"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let r = s
        .api
        .patch(
            &format!("{base}/firewallRules/office"),
            &json!({"cidr": "192.168.0.0/16"}),
        )
        .await
        .unwrap();
    assert_eq!(r.json()["cidr"], "192.168.0.0/16");
    assert_eq!(r.json()["description"], "HQ");

    // on-demand backups
    let r = s
        .api
        .post(&format!("{base}/backups"), &json!({"name": "b-one"}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let b = r.json();
    assert_eq!(b["state"], "READY");
    assert_eq!(b["instance"], "db1");
    assert!(b["size_bytes"].as_u64().unwrap() > 0);
    let r = s
        .api
        .post(&format!("{base}/backups"), &json!({}))
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let l = s
        .api
        .get(&format!("{base}/backups?page_size=1"))
        .await
        .unwrap()
        .json();
    assert_eq!(l["backups"].as_array().unwrap().len(), 1);
    assert!(l["next_page_token"].is_string());
    assert_eq!(
        s.api
            .delete(&format!("{base}/backups/b-one"))
            .await
            .unwrap()
            .status,
        204
    );

    // Deleting the instance removes its sub-resources (backups outlive it).
    s.api
        .delete(&format!("{base}?skip_final_backup=true"))
        .await
        .unwrap();
    s.advance(2.0).await;
    s.create_ready(inst_body("db1")).await;
    let l = s.api.get(&format!("{base}/users")).await.unwrap().json();
    assert_eq!(l["users"], json!([]));
    let l = s
        .api
        .get(&format!("{P}/backups?instance=db1"))
        .await
        .unwrap()
        .json();
    assert_eq!(l["backups"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn state_vocabulary_is_one_typed_list() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    let expected = "must be one of CREATING, READY, UPDATING, DELETING, FAILED, MAINTENANCE";
    let d = "/admin/drift/projects/proj-a/instances/db1";
    let r = s.admin.post(d, &json!({"state": "ready"})).await.unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(
        r.json()["field_violations"],
        json!([{"field": "state", "description": expected}])
    );
    let r = s
        .api
        .get(&format!("{P}/instances?state=BOGUS"))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(
        r.json()["field_violations"],
        json!([{"field": "state", "description": expected}])
    );
    let ready = s
        .api
        .get(&format!("{P}/instances?state=READY"))
        .await
        .unwrap()
        .json();
    assert_eq!(ready["instances"][0]["state"], "READY");
    let failed = s
        .api
        .get(&format!("{P}/instances?state=FAILED"))
        .await
        .unwrap()
        .json();
    assert_eq!(failed["instances"], json!([]));
}

/// Sends raw body bytes with the API token.
async fn raw(
    s: &Server,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> clouddb_server::http_client::Resp {
    let mut c = clouddb_server::http_client::Conn::connect(s.addr)
        .await
        .unwrap();
    c.request(method, path, &[("authorization", "Bearer tok-a")], body)
        .await
        .unwrap()
}

#[tokio::test]
async fn body_rejections_come_after_path_checks_on_sub_resources() {
    let s = start().await;
    // No instance: the 404 wins over the malformed body.
    let r = raw(
        &s,
        "POST",
        &format!("{P}/instances/nope/databases"),
        Some(b"{\"name\":"),
    )
    .await;
    assert_problem(&r, 404, "NOT_FOUND");
    s.create_ready(inst_body("db1")).await;
    let base = format!("{P}/instances/db1");
    let r = raw(
        &s,
        "POST",
        &format!("{base}/databases"),
        Some(b"{\"name\":"),
    )
    .await;
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["body"]);
    let r = s
        .api
        .post(
            &format!("{base}/users"),
            &json!({"name": "app", "roles": [null]}),
        )
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["roles[0]"]);
    let r = s
        .api
        .patch(&format!("{base}/firewallRules/nope"), &json!({"bogus": 1}))
        .await
        .unwrap();
    assert_problem(&r, 404, "NOT_FOUND");
    // An empty body is a valid on-demand backup request; a non-object is not.
    let r = raw(&s, "POST", &format!("{base}/backups"), None).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = raw(&s, "POST", &format!("{base}/backups"), Some(b"[]")).await;
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["body"]);
}
