//! `POST …/instances/{name}/restart` and `…/failover` over real HTTP: the operation, the busy
//! instance while it runs, its preconditions, injected failures, idempotency and 405s.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn restart_runs_an_operation_and_keeps_the_instance_busy() {
    let s = start().await;
    let before = s.create_ready(inst_body("db1")).await;
    let r = s
        .api
        .send("POST", &format!("{P}/instances/db1/restart"), &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let op = r.json();
    assert_eq!(op["verb"], "restart");
    assert_eq!(op["target"], "instances/db1");
    assert_eq!(op["done"], false);
    let id = op["id"].as_str().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("{P}/operations/{id}").as_str())
    );

    let g = s
        .api
        .get(&format!("{P}/instances/db1"))
        .await
        .unwrap()
        .json();
    assert_eq!(g["state"], "UPDATING");
    assert_eq!(g["current_operation"], json!(id));
    // Busy: changes, sub-resource writes and a second action wait.
    let p = s
        .api
        .patch(
            &format!("{P}/instances/db1"),
            &json!({"labels": {"a": "b"}}),
        )
        .await
        .unwrap();
    assert_problem(&p, 409, "OPERATION_IN_PROGRESS");
    let d = s
        .api
        .post(
            &format!("{P}/instances/db1/databases"),
            &json!({"name": "app"}),
        )
        .await
        .unwrap();
    assert_problem(&d, 409, "OPERATION_IN_PROGRESS");
    let again = s
        .api
        .post(&format!("{P}/instances/db1/restart"), &json!({}))
        .await
        .unwrap();
    assert_problem(&again, 409, "OPERATION_IN_PROGRESS");

    let polled = s.api.get(&format!("{P}/operations/{id}")).await.unwrap();
    assert_eq!(polled.header("retry-after"), Some("3"));
    s.advance(3.0).await;
    let polled = s.api.get(&format!("{P}/operations/{id}")).await.unwrap();
    assert_eq!(polled.json()["done"], true);
    assert!(polled.json()["error"].is_null());
    let g = s
        .api
        .get(&format!("{P}/instances/db1"))
        .await
        .unwrap()
        .json();
    assert_eq!(g["state"], "READY");
    assert!(g["current_operation"].is_null());
    // Nothing but the state, the operation and the timestamps changed.
    for field in ["tier", "storage_gb", "engine_version", "endpoint", "labels"] {
        assert_eq!(g[field], before[field], "{field}");
    }
    assert_ne!(g["etag"], before["etag"]);
}

#[tokio::test]
async fn failover_needs_high_availability() {
    let s = start().await;
    s.create_ready(inst_body("single")).await;
    let r = s
        .api
        .send("POST", &format!("{P}/instances/single/failover"), &[], None)
        .await
        .unwrap();
    assert_problem(&r, 409, "FAILED_PRECONDITION");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("high_availability"),
        "{}",
        r.text()
    );
    let g = s
        .api
        .get(&format!("{P}/instances/single"))
        .await
        .unwrap()
        .json();
    assert_eq!(g["state"], "READY", "a refused failover changes nothing");

    let mut ha = inst_body("pair");
    ha["high_availability"] = json!(true);
    s.create_ready(ha).await;
    let r = s
        .api
        .post(&format!("{P}/instances/pair/failover"), &json!({}))
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["verb"], "failover");
    let g = s
        .api
        .get(&format!("{P}/instances/pair"))
        .await
        .unwrap()
        .json();
    assert_eq!(g["state"], "UPDATING");
    s.advance(3.0).await;
    let op = s.op(&r).await;
    assert_eq!(op["done"], true);
    assert!(op["error"].is_null());
    let g = s
        .api
        .get(&format!("{P}/instances/pair"))
        .await
        .unwrap()
        .json();
    assert_eq!(g["state"], "READY");
    assert_eq!(g["high_availability"], true);
}

#[tokio::test]
async fn actions_refuse_missing_busy_and_failed_instances_and_bad_bodies() {
    let s = start().await;
    for verb in ["restart", "failover"] {
        let r = s
            .api
            .post(&format!("{P}/instances/nope/{verb}"), &json!({}))
            .await
            .unwrap();
        assert_problem(&r, 404, "NOT_FOUND");
        // Another project's instance is not found either.
        let r = s
            .other
            .post(&format!("{P}/instances/nope/{verb}"), &json!({}))
            .await
            .unwrap();
        assert_eq!(r.status, 404);
    }
    // Still creating: busy.
    let r = s
        .api
        .post(&format!("{P}/instances"), &inst_body("young"))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let busy = s
        .api
        .post(&format!("{P}/instances/young/restart"), &json!({}))
        .await
        .unwrap();
    assert_problem(&busy, 409, "OPERATION_IN_PROGRESS");
    s.advance(3.0).await;
    // A body with anything in it is a 400 naming the field.
    let bad = s
        .api
        .post(
            &format!("{P}/instances/young/restart"),
            &json!({"force": true}),
        )
        .await
        .unwrap();
    assert_problem(&bad, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&bad), ["force"]);
    // A FAILED instance can only be deleted.
    s.fault(json!({"kind": "fail_operation", "method": "POST", "path_prefix": format!("{P}/instances")}))
        .await;
    s.api
        .post(&format!("{P}/instances"), &inst_body("broken"))
        .await
        .unwrap();
    s.advance(3.0).await;
    let r = s
        .api
        .post(&format!("{P}/instances/broken/restart"), &json!({}))
        .await
        .unwrap();
    assert_problem(&r, 409, "FAILED_PRECONDITION");
    // Other methods on an action: 405 with Allow.
    let r = s
        .api
        .get(&format!("{P}/instances/young/restart"))
        .await
        .unwrap();
    assert_problem(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("POST"));
}

#[tokio::test]
async fn an_injected_failure_ends_the_operation_with_an_error_and_the_instance_ready() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    s.fault(json!({"kind": "fail_operation", "method": "POST", "path_prefix": format!("{P}/instances/db1/restart")}))
        .await;
    let r = s
        .api
        .post(&format!("{P}/instances/db1/restart"), &json!({}))
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    s.advance(3.0).await;
    let op = s.op(&r).await;
    assert_eq!(op["done"], true);
    assert_eq!(op["error"]["reason"], "RESTART_FAILED", "{op}");
    let g = s
        .api
        .get(&format!("{P}/instances/db1"))
        .await
        .unwrap()
        .json();
    assert_eq!(g["state"], "READY");
}

#[tokio::test]
async fn a_retried_action_with_its_idempotency_key_starts_one_operation() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    let path = format!("{P}/instances/db1/restart");
    let key = [("idempotency-key", "restart-1")];
    let first = s.api.send("POST", &path, &key, None).await.unwrap();
    assert_eq!(first.status, 202, "{}", first.text());
    let replay = s.api.send("POST", &path, &key, None).await.unwrap();
    assert_eq!(replay.status, 202, "{}", replay.text());
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json()["id"], first.json()["id"]);
    let ops = s.api.get(&format!("{P}/operations")).await.unwrap().json();
    let restarts = ops["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["verb"] == "restart")
        .count();
    assert_eq!(restarts, 1);
}

#[tokio::test]
async fn instant_actions_finish_in_the_answer() {
    let mut cfg = config();
    cfg.restart_ms = 0;
    cfg.failover_ms = 0;
    let s = start_with(cfg).await;
    s.freeze().await;
    let mut body = inst_body("db1");
    body["high_availability"] = json!(true);
    s.create_ready(body).await;
    for verb in ["restart", "failover"] {
        let r = s
            .api
            .post(&format!("{P}/instances/db1/{verb}"), &json!({}))
            .await
            .unwrap();
        assert_eq!(r.status, 202, "{}", r.text());
        assert_eq!(r.json()["done"], true, "{verb}");
        let g = s
            .api
            .get(&format!("{P}/instances/db1"))
            .await
            .unwrap()
            .json();
        assert_eq!(g["state"], "READY", "{verb}");
    }
}
