//! Instance lifecycle, validation, rules, concurrency control and pagination over real HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use clouddb_server::Config;
use common::*;
use serde_json::json;

#[tokio::test]
async fn create_poll_ready_with_etag() {
    let s = start().await;
    let r = s
        .api
        .post(
            &format!("{P}/instances"),
            &json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "labels": {"env": "dev"}}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let op = r.json();
    assert_eq!(op["verb"], "create");
    assert_eq!(op["target"], "instances/db1");
    assert_eq!(op["done"], false);
    assert!(op["error"].is_null());
    let id = op["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("op-"));
    assert_eq!(
        r.header("location"),
        Some(format!("{P}/operations/{id}").as_str())
    );
    assert!(r.header("x-request-id").is_some());

    let g = s.api.get(&format!("{P}/instances/db1")).await.unwrap();
    assert_eq!(g.status, 200);
    let inst = g.json();
    assert_eq!(inst["state"], "CREATING");
    assert_eq!(inst["engine"], "mysql");
    assert_eq!(inst["engine_version"], "8.0");
    assert_eq!(inst["engine_version_actual"], "8.0.36");
    assert_eq!(inst["admin_username"], "dbadmin");
    assert_eq!(
        inst["endpoint"],
        json!({"host": "db1.proj-a.clouddb.internal", "port": 3306})
    );
    assert_eq!(
        inst["backup"],
        json!({"enabled": true, "start_time": "03:00", "retention_days": 7})
    );
    assert!(inst.get("admin_password").is_none());
    assert_eq!(g.header("etag"), inst["etag"].as_str());

    let o = s.api.get(&format!("{P}/operations/{id}")).await.unwrap();
    assert_eq!(o.json()["done"], false);
    assert_eq!(o.header("retry-after"), Some("3"));

    s.advance(3.0).await;
    let o = s.api.get(&format!("{P}/operations/{id}")).await.unwrap();
    assert_eq!(o.json()["done"], true);
    assert!(o.header("retry-after").is_none());
    let g = s.api.get(&format!("{P}/instances/db1")).await.unwrap();
    assert_eq!(g.json()["state"], "READY");
    assert_ne!(g.json()["etag"], inst["etag"]);
}

#[tokio::test]
async fn postgres_defaults_and_password_never_returned() {
    let s = start().await;
    let i = s
        .create_ready(json!({"name": "pg1", "engine": "postgres", "tier": "db-micro", "storage_gb": 10,
                             "admin_password": "s3cretpassw0rd", "backup": {"start_time": "22:30"}}))
        .await;
    assert_eq!(i["engine_version"], "16");
    assert_eq!(i["engine_version_actual"], "16.3");
    assert_eq!(i["endpoint"]["port"], 5432);
    assert_eq!(i["backup"]["start_time"], "22:30");
    assert!(!i.to_string().contains("s3cret"));
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let s = start().await;
    let url = format!("{P}/instances");
    let cases = [
        (
            json!({"name": "Bad_Name", "tier": "db-small", "storage_gb": 20}),
            "name",
        ),
        (
            json!({"name": "ab", "tier": "db-small", "storage_gb": 20}),
            "name",
        ),
        (json!({"tier": "db-small", "storage_gb": 20}), "name"),
        (
            json!({"name": "db1", "tier": "db-nope", "storage_gb": 20}),
            "tier",
        ),
        (
            json!({"name": "db1", "tier": "db-micro", "storage_gb": 101}),
            "storage_gb",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 9}),
            "storage_gb",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": "20"}),
            "storage_gb",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20.5}),
            "storage_gb",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "colour": "red"}),
            "colour",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "engine": "oracle"}),
            "engine",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "engine_version": "9.9"}),
            "engine_version",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "engine": "postgres", "engine_version": "8.0"}),
            "engine_version",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "backup": {"start_time": "24:00"}}),
            "backup.start_time",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "backup": {"retention_days": 36}}),
            "backup.retention_days",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "backup": {"oops": 1}}),
            "backup.oops",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "labels": {"Env": "x"}}),
            "labels.Env",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "high_availability": "yes"}),
            "high_availability",
        ),
        (
            json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "admin_password": "short"}),
            "admin_password",
        ),
        (json!([1, 2]), "body"),
    ];
    for (body, field) in cases {
        let r = s.api.post(&url, &body).await.unwrap();
        assert_problem(&r, 400, "INVALID_ARGUMENT");
        assert!(
            violated(&r).contains(&field.to_string()),
            "{body} -> {}",
            r.text()
        );
    }
    // Malformed JSON and empty bodies.
    let mut c = clouddb_server::http_client::Conn::connect(s.addr)
        .await
        .unwrap();
    let auth = [("authorization", "Bearer tok-a")];
    let r = c
        .request("POST", &url, &auth, Some(b"{\"name\": "))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["body"]);
    let r = c.request("POST", &url, &auth, None).await.unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    // Oversized body.
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(1 << 20));
    let r = c
        .request("POST", &url, &auth, Some(big.as_bytes()))
        .await
        .expect("413 answer");
    assert_problem(&r, 413, "PAYLOAD_TOO_LARGE");
    // Nothing was created.
    let l = s.api.get(&url).await.unwrap();
    assert_eq!(l.json()["instances"], json!([]));
}

#[tokio::test]
async fn name_taken_is_already_exists() {
    let s = start().await;
    let url = format!("{P}/instances");
    assert_eq!(
        s.api.post(&url, &inst_body("db1")).await.unwrap().status,
        202
    );
    let r = s.api.post(&url, &inst_body("db1")).await.unwrap();
    assert_problem(&r, 409, "ALREADY_EXISTS");
    // The same name in another project is fine.
    let r = s
        .other
        .post("/v1/projects/proj-b/instances", &inst_body("db1"))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
}

#[tokio::test]
async fn patch_rules() {
    let s = start().await;
    s.create_ready(
        json!({"name": "db1", "tier": "db-small", "storage_gb": 150, "engine_version": "5.7",
                          "labels": {"a": "1"}}),
    )
    .await;
    let url = format!("{P}/instances/db1");
    let r = s
        .api
        .patch(&url, &json!({"storage_gb": 140}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["storage_gb"]);
    for f in ["engine", "admin_username", "name"] {
        let r = s.api.patch(&url, &json!({f: "x"})).await.unwrap();
        assert_problem(&r, 400, "INVALID_ARGUMENT");
        assert_eq!(violated(&r), vec![f.to_string()]);
    }
    let r = s
        .api
        .patch(&url, &json!({"engine_version": "8.0"}))
        .await
        .unwrap();
    assert_problem(&r, 400, "MAJOR_VERSION_UPGRADE_REQUIRES_FLAG");
    assert_eq!(violated(&r), vec!["engine_version"]);
    let r = s
        .api
        .patch(&url, &json!({"engine_version": "7.7"}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["engine_version"]);
    let r = s
        .api
        .patch(&url, &json!({"tier": "db-micro"}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["storage_gb"]);
    let r = s
        .api
        .patch(&url, &json!({"frobnicate": true}))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["frobnicate"]);

    // Major upgrade with the flag: UPDATING while the operation runs, then READY.
    let r = s
        .api
        .patch(&url, &json!({"engine_version": "8.0", "allow_major_version_upgrade": true, "storage_gb": 160}))
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["verb"], "update");
    let g = s.api.get(&url).await.unwrap().json();
    assert_eq!(g["state"], "UPDATING");
    let busy = s.api.patch(&url, &json!({"labels": {}})).await.unwrap();
    assert_problem(&busy, 409, "OPERATION_IN_PROGRESS");
    assert_eq!(busy.json()["retryable"], true);
    let busy = s.api.delete(&url).await.unwrap();
    assert_problem(&busy, 409, "OPERATION_IN_PROGRESS");
    s.advance(3.0).await;
    assert_eq!(s.op(&r).await["done"], true);
    let g = s.api.get(&url).await.unwrap().json();
    assert_eq!(g["state"], "READY");
    assert_eq!(g["engine_version"], "8.0");
    assert_eq!(g["engine_version_actual"], "8.0.36");
    assert_eq!(g["storage_gb"], 160);
    assert_eq!(
        g["labels"],
        json!({"a": "1"}),
        "fields not sent do not change"
    );
    assert_eq!(g["tier"], "db-small");

    // Minor upgrade in place, no flag needed; then a downgrade is refused.
    let r = s
        .api
        .patch(&url, &json!({"engine_version": "8.4"}))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    s.advance(3.0).await;
    assert_eq!(
        s.api.get(&url).await.unwrap().json()["engine_version_actual"],
        "8.4.2"
    );
    let r = s
        .api
        .patch(&url, &json!({"engine_version": "8.0"}))
        .await
        .unwrap();
    assert_problem(&r, 400, "VERSION_DOWNGRADE");

    // A labels-only change is done at once (still 202 + Operation); labels are replaced.
    let r = s
        .api
        .patch(&url, &json!({"labels": {"b": "2"}, "deletion_protection": true, "backup": {"retention_days": 14}}))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["done"], true);
    let g = s.api.get(&url).await.unwrap().json();
    assert_eq!(g["labels"], json!({"b": "2"}));
    assert_eq!(g["deletion_protection"], true);
    assert_eq!(
        g["backup"],
        json!({"enabled": true, "start_time": "03:00", "retention_days": 14})
    );
    assert_eq!(g["state"], "READY");
}

#[tokio::test]
async fn if_match_precondition() {
    let s = start().await;
    let i = s.create_ready(inst_body("db1")).await;
    let etag = i["etag"].as_str().unwrap().to_string();
    let url = format!("{P}/instances/db1");
    let r = s
        .api
        .send(
            "PATCH",
            &url,
            &[("if-match", "\"stale\"")],
            Some(&json!({"labels": {"x": "y"}})),
        )
        .await
        .unwrap();
    assert_problem(&r, 412, "PRECONDITION_FAILED");
    let r = s
        .api
        .send("DELETE", &url, &[("if-match", "\"stale\"")], None)
        .await
        .unwrap();
    assert_problem(&r, 412, "PRECONDITION_FAILED");
    let r = s
        .api
        .send(
            "PATCH",
            &url,
            &[("if-match", &etag)],
            Some(&json!({"labels": {"x": "y"}})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    // The old ETag is now stale.
    let r = s
        .api
        .send("DELETE", &url, &[("if-match", &etag)], None)
        .await
        .unwrap();
    assert_problem(&r, 412, "PRECONDITION_FAILED");
    let cur = s.api.get(&url).await.unwrap();
    let etag = cur.header("etag").unwrap().to_string();
    let r = s
        .api
        .send("DELETE", &url, &[("if-match", &etag)], None)
        .await
        .unwrap();
    assert_eq!(r.status, 202);
}

#[tokio::test]
async fn delete_protection_final_backup_and_404_after() {
    let s = start().await;
    s.create_ready(
        json!({"name": "db1", "tier": "db-small", "storage_gb": 20, "deletion_protection": true}),
    )
    .await;
    let url = format!("{P}/instances/db1");
    let r = s.api.delete(&url).await.unwrap();
    assert_problem(&r, 409, "DELETION_PROTECTED");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("deletion_protection")
    );
    assert_eq!(
        s.api
            .patch(&url, &json!({"deletion_protection": false}))
            .await
            .unwrap()
            .status,
        202
    );
    let r = s
        .api
        .delete(&format!("{url}?skip_final_backup=maybe"))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    let r = s
        .api
        .delete(&format!(
            "{url}?skip_final_backup=false&final_backup_name=db1-last"
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["verb"], "delete");
    assert_eq!(s.api.get(&url).await.unwrap().json()["state"], "DELETING");
    s.advance(2.0).await;
    assert_eq!(s.op(&r).await["done"], true);
    assert_problem(&s.api.get(&url).await.unwrap(), 404, "NOT_FOUND");
    let b = s
        .api
        .get(&format!("{P}/backups?instance=db1"))
        .await
        .unwrap()
        .json();
    assert_eq!(b["backups"][0]["name"], "db1-last");
    assert_eq!(b["backups"][0]["type"], "FINAL");
    assert_eq!(b["backups"][0]["state"], "READY");
    let g = s.api.get(&format!("{P}/backups/db1-last")).await.unwrap();
    assert_eq!(g.status, 200);

    // skip_final_backup=true records none; the default (false) records a generated name.
    s.create_ready(inst_body("db2")).await;
    assert_eq!(
        s.api
            .delete(&format!("{P}/instances/db2?skip_final_backup=true"))
            .await
            .unwrap()
            .status,
        202
    );
    s.create_ready(inst_body("db3")).await;
    assert_eq!(
        s.api
            .delete(&format!("{P}/instances/db3"))
            .await
            .unwrap()
            .status,
        202
    );
    s.advance(2.0).await;
    let b = s
        .api
        .get(&format!("{P}/backups?instance=db2"))
        .await
        .unwrap()
        .json();
    assert_eq!(b["backups"], json!([]));
    let b = s
        .api
        .get(&format!("{P}/backups?instance=db3"))
        .await
        .unwrap()
        .json();
    assert!(
        b["backups"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("db3-final-")
    );
}

/// A replace followed by a destroy deletes two instances of one name, within a second when
/// provisioning is instant: the second final backup gets a free generated name rather than a 409
/// over a name the caller never chose. A name the caller chose is still refused when taken.
#[tokio::test]
async fn generated_final_backup_names_never_collide() {
    let s = start_with(Config {
        provision_ms: 0,
        delete_ms: 0,
        ..config()
    })
    .await;
    s.freeze().await;
    let mut names = Vec::new();
    // Not `create_ready`: it advances the clock by an hour, and these deletes share one second.
    for _ in 0..3 {
        let r = s
            .api
            .post(&format!("{P}/instances"), &inst_body("db1"))
            .await
            .unwrap();
        assert_eq!(r.status, 202, "{}", r.text());
        s.advance(0.001).await;
        assert_eq!(s.op(&r).await["done"], true);
        let r = s.api.delete(&format!("{P}/instances/db1")).await.unwrap();
        assert_eq!(r.status, 202, "{}", r.text());
        s.advance(0.001).await;
        assert_eq!(s.op(&r).await["done"], true);
    }
    let b = s
        .api
        .get(&format!("{P}/backups?instance=db1"))
        .await
        .unwrap()
        .json();
    for item in b["backups"].as_array().unwrap() {
        names.push(item["name"].as_str().unwrap().to_string());
    }
    names.sort();
    assert_eq!(names.len(), 3, "{b}");
    let first = names[0].clone();
    assert!(first.starts_with("db1-final-"), "{names:?}");
    assert_eq!(names[1], format!("{first}-2"));
    assert_eq!(names[2], format!("{first}-3"));
    s.create_ready(inst_body("db1")).await;
    let r = s
        .api
        .delete(&format!("{P}/instances/db1?final_backup_name={first}"))
        .await
        .unwrap();
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().contains("choose another final_backup_name"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn pagination_and_label_filter() {
    let s = start().await;
    for (i, env) in ["dev", "prod", "dev"].iter().enumerate() {
        let mut b = inst_body(&format!("db{i}"));
        b["labels"] = json!({"env": env});
        assert_eq!(
            s.api
                .post(&format!("{P}/instances"), &b)
                .await
                .unwrap()
                .status,
            202
        );
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let url = match &token {
            Some(t) => format!("{P}/instances?page_size=1&page_token={t}"),
            None => format!("{P}/instances?page_size=1"),
        };
        let j = s.api.get(&url).await.unwrap().json();
        let items = j["instances"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        names.push(items[0]["name"].as_str().unwrap().to_string());
        match j.get("next_page_token") {
            Some(t) => token = Some(t.as_str().unwrap().to_string()),
            None => break,
        }
    }
    assert_eq!(names, vec!["db0", "db1", "db2"]);
    let j = s
        .api
        .get(&format!("{P}/instances?label=env:dev"))
        .await
        .unwrap()
        .json();
    let got: Vec<_> = j["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].clone())
        .collect();
    assert_eq!(got, vec![json!("db0"), json!("db2")]);
    assert!(j.get("next_page_token").is_none());
    let r = s
        .api
        .get(&format!("{P}/instances?page_size=-1"))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    let r = s
        .api
        .get(&format!("{P}/instances?page_token=zz"))
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn auth_and_project_isolation() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    let anon = clouddb_server::http_client::Client::new(s.addr, "nope");
    let r = anon.get(&format!("{P}/instances/db1")).await.unwrap();
    assert_problem(&r, 401, "UNAUTHENTICATED");
    let r = s.other.get(&format!("{P}/instances/db1")).await.unwrap();
    assert_problem(&r, 404, "NOT_FOUND");
    let r = s.other.get(&format!("{P}/instances")).await.unwrap();
    assert_problem(&r, 404, "NOT_FOUND");
    let r = s.other.delete(&format!("{P}/instances/db1")).await.unwrap();
    assert_problem(&r, 404, "NOT_FOUND");
    let r = s
        .other
        .get("/v1/projects/proj-b/instances/db1")
        .await
        .unwrap();
    assert_problem(&r, 404, "NOT_FOUND");
    // The admin token is not an API token.
    let r = s.admin.get(&format!("{P}/instances")).await.unwrap();
    assert_problem(&r, 401, "UNAUTHENTICATED");
    // Unknown routes are problems too.
    let r = s.api.get("/v1/nothing").await.unwrap();
    assert_problem(&r, 404, "NOT_FOUND");
}

#[tokio::test]
async fn idempotency_keys() {
    let s = start().await;
    let url = format!("{P}/instances");
    let key = [("idempotency-key", "k-1")];
    let a = s
        .api
        .send("POST", &url, &key, Some(&inst_body("db1")))
        .await
        .unwrap();
    assert_eq!(a.status, 202);
    let b = s
        .api
        .send("POST", &url, &key, Some(&inst_body("db1")))
        .await
        .unwrap();
    assert_eq!(b.status, 202, "{}", b.text());
    assert_eq!(a.json()["id"], b.json()["id"]);
    assert_eq!(a.header("location"), b.header("location"));
    assert_eq!(b.header("idempotent-replayed"), Some("true"));
    let c = s
        .api
        .send("POST", &url, &key, Some(&inst_body("db2")))
        .await
        .unwrap();
    assert_problem(&c, 422, "IDEMPOTENCY_KEY_REUSED");
    let l = s.api.get(&url).await.unwrap().json();
    assert_eq!(l["instances"].as_array().unwrap().len(), 1);
    // Keys are per project: another project may use the same key.
    let d = s
        .other
        .send(
            "POST",
            "/v1/projects/proj-b/instances",
            &key,
            Some(&inst_body("db1")),
        )
        .await
        .unwrap();
    assert_eq!(d.status, 202);
    assert_ne!(d.json()["id"], a.json()["id"]);
    // PATCH and DELETE too.
    s.advance(3.0).await;
    let k2 = [("idempotency-key", "k-2")];
    let p1 = s
        .api
        .send(
            "PATCH",
            &format!("{url}/db1"),
            &k2,
            Some(&json!({"storage_gb": 30})),
        )
        .await
        .unwrap();
    let p2 = s
        .api
        .send(
            "PATCH",
            &format!("{url}/db1"),
            &k2,
            Some(&json!({"storage_gb": 30})),
        )
        .await
        .unwrap();
    assert_eq!(p1.json()["id"], p2.json()["id"]);
    s.advance(3.0).await;
    let k3 = [("idempotency-key", "k-3")];
    let d1 = s
        .api
        .send("DELETE", &format!("{url}/db1"), &k3, None)
        .await
        .unwrap();
    s.advance(3.0).await;
    let d2 = s
        .api
        .send("DELETE", &format!("{url}/db1"), &k3, None)
        .await
        .unwrap();
    assert_eq!(d1.status, 202);
    assert_eq!(d2.status, 202);
    assert_eq!(d1.json()["id"], d2.json()["id"]);
}

#[tokio::test]
async fn rate_limit_answers_429() {
    let mut cfg = config();
    cfg.rate_limit = 2.0;
    cfg.rate_burst = 3.0;
    let s = start_with(cfg).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = s.api.get(&format!("{P}/instances")).await.unwrap();
        if r.status == 429 {
            assert_problem(&r, 429, "RATE_LIMITED");
            assert_eq!(r.json()["retryable"], true);
            assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
        }
        statuses.push(r.status);
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another token has its own bucket.
    assert_eq!(
        s.other
            .get("/v1/projects/proj-b/instances")
            .await
            .unwrap()
            .status,
        200
    );
}

#[tokio::test]
async fn catalogue() {
    let s = start().await;
    let j = s
        .api
        .get("/v1/engineVersions?engine=mysql")
        .await
        .unwrap()
        .json();
    let v = j["engine_versions"].as_array().unwrap();
    assert_eq!(v.len(), 3);
    assert!(
        v.iter().any(|e| e["version"] == "8.0"
            && e["default"] == true
            && e["actual_version"] == "8.0.36")
    );
    let j = s.api.get("/v1/engineVersions").await.unwrap().json();
    assert_eq!(j["engine_versions"].as_array().unwrap().len(), 7);
    let r = s.api.get("/v1/engineVersions?engine=oracle").await.unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    let j = s.api.get("/v1/tiers").await.unwrap().json();
    assert_eq!(
        j["tiers"][0],
        json!({"name": "db-micro", "vcpus": 1, "memory_gb": 1, "max_storage_gb": 100})
    );
    assert_eq!(j["tiers"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn nulls_are_rejected_and_405_wins_over_idempotency() {
    let s = start().await;
    let url = format!("{P}/instances");
    let mut b = inst_body("db1");
    b["engine_version"] = json!(null);
    let r = s.api.post(&url, &b).await.unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["engine_version"]);
    let mut b = inst_body("db1");
    b["labels"] = json!({"a": null});
    let r = s.api.post(&url, &b).await.unwrap();
    assert_eq!(violated(&r), vec!["labels.a"]);
    // A method the route does not have is 405, even with a used Idempotency-Key.
    let key = [("idempotency-key", "k405")];
    assert_eq!(
        s.api
            .send("POST", &url, &key, Some(&inst_body("db1")))
            .await
            .unwrap()
            .status,
        202
    );
    let r = s
        .api
        .send("PUT", &url, &key, Some(&inst_body("db1")))
        .await
        .unwrap();
    assert_problem(&r, 405, "METHOD_NOT_ALLOWED");
    assert!(r.header("allow").is_some());
    let r = s
        .api
        .send(
            "POST",
            &url,
            &[("idempotency-key", "has space")],
            Some(&inst_body("db2")),
        )
        .await
        .unwrap();
    assert_problem(&r, 400, "INVALID_ARGUMENT");
    assert_eq!(violated(&r), vec!["Idempotency-Key"]);
}

#[tokio::test]
async fn concurrent_creates_with_one_key_make_one_instance() {
    let s = start().await;
    let url = format!("{P}/instances");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = s.api.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            c.send(
                "POST",
                &url,
                &[("idempotency-key", "same")],
                Some(&inst_body("db1")),
            )
            .await
            .unwrap()
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            202 => {
                ids.insert(r.json()["id"].as_str().unwrap().to_string());
            }
            409 => assert_eq!(r.json()["reason"], "IDEMPOTENCY_KEY_IN_USE"),
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    assert_eq!(ids.len(), 1, "every 202 carries the same operation");
    let l = s.api.get(&url).await.unwrap().json();
    assert_eq!(l["instances"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn idempotency_keys_expire_after_24h() {
    let s = start().await;
    let url = format!("{P}/instances");
    let key = [("idempotency-key", "ttl")];
    assert_eq!(
        s.api
            .send("POST", &url, &key, Some(&inst_body("db1")))
            .await
            .unwrap()
            .status,
        202
    );
    s.advance(23.0 * 3600.0).await;
    let r = s
        .api
        .send("POST", &url, &key, Some(&inst_body("db2")))
        .await
        .unwrap();
    assert_problem(&r, 422, "IDEMPOTENCY_KEY_REUSED");
    s.advance(2.0 * 3600.0).await;
    let r = s
        .api
        .send("POST", &url, &key, Some(&inst_body("db2")))
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
}
