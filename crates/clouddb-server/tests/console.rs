//! The console at `/`: login with the admin token, the session cookie, what its data shows, and that
//! no token and no unescaped markup ever reaches the page.

#![allow(clippy::unwrap_used)]

mod common;

use clouddb_server::http_client::{Conn, Resp};
use common::*;
use serde_json::{Value, json};

/// A request without a bearer token (what a browser sends), with optional cookie and form body.
async fn browser(
    s: &Server,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Resp {
    let mut h: Vec<(&str, &str)> = Vec::new();
    let cookie = cookie.map(|c| format!("clouddb_console={c}"));
    if let Some(c) = &cookie {
        h.push(("cookie", c));
    }
    let mut conn = Conn::connect(s.addr).await.unwrap();
    conn.request(method, path, &h, form.map(str::as_bytes))
        .await
        .unwrap()
}

/// Logs in with `token` and returns the response.
async fn login(s: &Server, token: &str) -> Resp {
    let form = serde_urlencoded::to_string([("token", token)]).unwrap();
    browser(s, "POST", "/console/login", None, Some(&form)).await
}

/// The session id a successful login set.
fn session_of(r: &Resp) -> String {
    let c = r.header("set-cookie").unwrap_or_default();
    assert!(c.contains("HttpOnly"), "{c}");
    assert!(c.contains("SameSite=Strict"), "{c}");
    c.strip_prefix("clouddb_console=")
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_string()
}

async fn data(s: &Server, session: &str) -> Value {
    let r = browser(s, "GET", "/console/data", Some(session), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn login_is_required_and_a_wrong_token_is_refused() {
    let s = start().await;
    // Without a session: the login form, never the console, and no data.
    let r = browser(&s, "GET", "/", None, None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert!(
        r.text().contains("action=\"/console/login\""),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("/console/app.js"), "{}", r.text());
    let r = browser(&s, "GET", "/console/data", None, None).await;
    assert_problem(&r, 401, "UNAUTHENTICATED");
    let r = browser(&s, "GET", "/console/data", Some("0123abcd"), None).await;
    assert_problem(&r, 401, "UNAUTHENTICATED");

    // A wrong token (an API token is not the admin token): 401, the form again with its note, no cookie.
    for wrong in ["nope", "tok-a", ""] {
        let r = login(&s, wrong).await;
        assert_eq!(r.status, 401, "{wrong}: {}", r.text());
        assert!(r.header("set-cookie").is_none(), "{wrong}");
        assert!(r.text().contains("role=\"alert\""), "{}", r.text());
        assert!(
            !r.text().contains(wrong) || wrong.is_empty(),
            "{wrong} echoed"
        );
    }
}

#[tokio::test]
async fn the_session_opens_the_console_and_logout_ends_it() {
    let s = start().await;
    let r = login(&s, "admin").await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/"));
    let session = session_of(&r);
    assert_eq!(session.len(), 64, "{session}");

    let r = browser(&s, "GET", "/", Some(&session), None).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("/console/app.js"), "{}", r.text());
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let d = data(&s, &session).await;
    assert!(d["projects"].is_array(), "{d}");

    // The admin token as a bearer token works for scripts; an API token does not.
    let r = s.admin.get("/console/data").await.unwrap();
    assert_eq!(r.status, 200);
    let r = s.api.get("/console/data").await.unwrap();
    assert_eq!(r.status, 401);

    let r = browser(&s, "POST", "/console/logout", Some(&session), None).await;
    assert_eq!(r.status, 303);
    let r = browser(&s, "GET", "/console/data", Some(&session), None).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn the_data_shows_instances_operations_children_requests_and_faults() {
    let s = start().await;
    s.create_ready(json!({"name": "db1", "tier": "db-small", "storage_gb": 20,
                          "labels": {"env": "dev"}}))
        .await;
    let r = s
        .api
        .post(
            &format!("{P}/instances/db1/databases"),
            &json!({"name": "app"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s
        .api
        .post(
            &format!("{P}/instances/db1/users"),
            &json!({"name": "alice", "password": "Sup3r-secret-pw!"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s
        .api
        .post(
            &format!("{P}/instances/db1/firewallRules"),
            &json!({"name": "office", "cidr": "10.0.0.0/8"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    // A second instance stays CREATING (the clock is frozen) with its operation in progress.
    let r = s
        .api
        .post(&format!("{P}/instances"), &inst_body("db2"))
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    s.advance(1.0).await;
    s.fault(json!({"kind": "fail", "path_prefix": "/v1/nowhere", "status": 503}))
        .await;

    let r = login(&s, "admin").await;
    let d = data(&s, &session_of(&r)).await;
    let projects = d["projects"].as_array().unwrap();
    let names: Vec<&str> = projects
        .iter()
        .filter_map(|p| p["project"].as_str())
        .collect();
    assert_eq!(names, ["proj-a", "proj-b"], "{d}");
    let a = &projects[0];
    let db1 = &a["instances"][0];
    assert_eq!(db1["name"], "db1");
    assert_eq!(db1["state"], "READY");
    assert_eq!(db1["tier"], "db-small");
    assert!(db1["engine"].is_string() && db1["endpoint"].as_str().unwrap().contains(':'));
    assert_eq!(db1["labels"], json!({"env": "dev"}));
    assert_eq!(db1["databases"][0]["name"], "app");
    assert_eq!(db1["users"][0]["name"], "alice");
    assert_eq!(db1["firewall_rules"][0]["cidr"], "10.0.0.0/8");
    let db2 = &a["instances"][1];
    assert_eq!(db2["state"], "CREATING");
    let op = &a["operations"][0];
    assert_eq!(op["verb"], "create");
    assert_eq!(op["target"], "instances/db2");
    let progress = op["progress"].as_f64().unwrap();
    assert!((0.3..0.4).contains(&progress), "1 s of 3: {progress}");

    let req = d["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "POST" && r["path"] == format!("{P}/instances/db1/users"))
        .unwrap_or_else(|| panic!("{d}"));
    assert_eq!(req["status"], 201);
    assert!(req["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert!(req["request_id"].as_str().unwrap().starts_with("req-"));
    assert_eq!(d["faults"][0]["path_prefix"], "/v1/nowhere");

    let text = d.to_string();
    assert!(!text.contains("Sup3r-secret-pw!"), "{text}");
}

#[tokio::test]
async fn no_token_appears_in_the_page_or_its_data() {
    let mut cfg = config();
    cfg.admin_token = "adm-9f8e7d6c5b4a".into();
    cfg.tokens = [
        ("api-1a2b3c4d5e6f".to_string(), "proj-a".to_string()),
        ("api-6f5e4d3c2b1a".to_string(), "proj-b".to_string()),
    ]
    .into();
    let s = start_with(cfg).await;
    let api = clouddb_server::http_client::Client::new(s.addr, "api-1a2b3c4d5e6f");
    let r = api
        .post(&format!("{P}/instances"), &inst_body("db1"))
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let r = login(&s, "adm-9f8e7d6c5b4a").await;
    assert_eq!(r.status, 303);
    let session = session_of(&r);
    let mut seen = String::new();
    for path in ["/", "/console/app.js", "/console/app.css", "/console/data"] {
        let r = browser(&s, "GET", path, Some(&session), None).await;
        assert_eq!(r.status, 200, "{path}");
        seen.push_str(&r.text());
        for (k, v) in &r.headers {
            seen.push_str(&format!("{k}: {v}\n"));
        }
    }
    assert!(seen.contains("db1"), "{seen}");
    for token in ["adm-9f8e7d6c5b4a", "api-1a2b3c4d5e6f", "api-6f5e4d3c2b1a"] {
        assert!(!seen.contains(token), "{token} in the console");
    }
}

#[tokio::test]
async fn a_hostile_label_is_escaped_in_the_data() {
    let s = start().await;
    s.create_ready(inst_body("db1")).await;
    // Labels are validated by the API; drift writes past that, as a buggy or hostile cloud could.
    let hostile = "<img src=x onerror=alert(1)>&</script>";
    let r = s
        .admin
        .patch(
            "/admin/drift/projects/proj-a/instances/db1",
            &json!({"labels": {"x": hostile}}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.admin.get("/console/data").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let text = r.text();
    assert!(
        !text.contains('<') && !text.contains('>') && !text.contains('&'),
        "{text}"
    );
    assert!(
        text.contains("\\u003cimg src=x onerror=alert(1)\\u003e"),
        "{text}"
    );
    // Still JSON with the label as it is.
    assert_eq!(
        r.json()["projects"][0]["instances"][0]["labels"]["x"],
        hostile
    );
    // The page script builds text nodes only.
    let js = browser(&s, "GET", "/console/app.js", None, None)
        .await
        .text();
    assert!(!js.contains("innerHTML") && !js.contains("insertAdjacentHTML"));
}

#[tokio::test]
async fn console_no_auth_opens_the_console_without_login() {
    let mut cfg = config();
    cfg.console_no_auth = true;
    let s = start_with(cfg).await;
    let r = browser(&s, "GET", "/", None, None).await;
    assert!(r.text().contains("/console/app.js"), "{}", r.text());
    let r = browser(&s, "GET", "/console/data", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn console_no_auth_is_refused_off_loopback() {
    // Refused while parsing flags, before anything is bound.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clouddb-server"))
        .args([
            "--in-memory",
            "--listen",
            "0.0.0.0:0",
            "--admin-token",
            "s3cret",
            "--console-no-auth",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing --console-no-auth on 0.0.0.0:0 (not a loopback address)"),
        "{err}"
    );
}
