//! Client tests against tiny in-test HTTP servers: retries, backoff, Retry-After, idempotency keys,
//! error mapping and the operation waiter.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::fake;
use super::types::{CreateInstanceRequest, Operation};
use super::wait::{WaitError, wait_operation};
use super::*;

/// What the scripted server saw: (method, path, headers) per request.
type Seen = Arc<Mutex<Vec<(String, String, HeaderMap)>>>;

/// A scripted answer: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);
type Script = Arc<Mutex<Vec<Answer>>>;

#[derive(Clone)]
struct Srv {
    seen: Seen,
    script: Script,
}

async fn handler(State(s): State<Srv>, req: axum::extract::Request) -> Response {
    let (parts, _body) = req.into_parts();
    s.seen.lock().expect("lock").push((
        parts.method.to_string(),
        parts.uri.to_string(),
        parts.headers.clone(),
    ));
    let next = {
        let mut script = s.script.lock().expect("lock");
        if script.len() > 1 {
            script.remove(0)
        } else {
            script[0].clone()
        }
    };
    let mut resp = (StatusCode::from_u16(next.0).expect("status"), next.2).into_response();
    resp.headers_mut()
        .insert("x-request-id", "req-42".parse().expect("hv"));
    for (k, v) in next.1 {
        resp.headers_mut().insert(k, v.parse().expect("hv"));
    }
    resp
}

async fn serve(script: Vec<Answer>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let srv = Srv {
        seen: seen.clone(),
        script: Arc::new(Mutex::new(script)),
    };
    let app = Router::new().fallback(handler).with_state(srv);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

fn client(endpoint: &str, max_retries: u32) -> Client {
    let mut cfg = ClientConfig::new(endpoint, "secret-token", "proj1");
    cfg.retry = RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(2),
    };
    cfg.poll_interval = Duration::from_millis(20);
    cfg.terraform_version = "1.11.4".into();
    Client::new(cfg).expect("client")
}

fn create_req() -> CreateInstanceRequest {
    CreateInstanceRequest {
        name: "db1".into(),
        engine: Some("mysql".into()),
        engine_version: None,
        tier: "db-small".into(),
        storage_gb: 20,
        high_availability: false,
        admin_username: "dbadmin".into(),
        admin_password: Some("pw".into()),
        labels: Default::default(),
        deletion_protection: false,
        backup: None,
        restore_from_backup: None,
    }
}

fn op_json(done: bool) -> String {
    format!(
        r#"{{"id":"op-1","verb":"create","target":"instances/db1","done":{done},"error":null}}"#
    )
}

fn problem(status: u16, reason: &str) -> String {
    format!(
        r#"{{"type":"about:blank","title":"t","status":{status},"detail":"detail of {reason}","reason":"{reason}",
            "retryable":false,"request_id":"req-42",
            "field_violations":[{{"field":"storage_gb","description":"must be >= 10"}}]}}"#
    )
}

#[tokio::test]
async fn retries_429_and_503_with_one_idempotency_key() {
    let (url, seen) = serve(vec![
        (
            429,
            vec![("retry-after", "0".into())],
            problem(429, "RATE_LIMITED"),
        ),
        (503, vec![], problem(503, "UNAVAILABLE")),
        (500, vec![], "oops".into()),
        (202, vec![], op_json(false)),
    ])
    .await;
    let c = client(&url, 5);
    let key = IdempotencyKey::new();
    let op = c
        .create_instance(&create_req(), &key)
        .await
        .expect("create succeeds after retries");
    assert_eq!(op.id, "op-1");
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 4);
    for (method, path, headers) in seen.iter() {
        assert_eq!(method, "POST");
        assert_eq!(path, "/v1/projects/proj1/instances");
        assert_eq!(headers["idempotency-key"], key.as_str());
        assert_eq!(headers["authorization"], "Bearer secret-token");
        assert_eq!(
            headers["user-agent"],
            format!(
                "terraform-provider-clouddb/{} (+terraform 1.11.4)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}

#[tokio::test]
async fn honours_retry_after_delay() {
    let (url, seen) = serve(vec![
        (
            429,
            vec![("retry-after", "1".into())],
            problem(429, "RATE_LIMITED"),
        ),
        (200, vec![], r#"{"name":"db1","etag":"\"7\""}"#.into()),
    ])
    .await;
    let c = client(&url, 3);
    let t = std::time::Instant::now();
    let inst = c.get_instance("db1").await.expect("get").expect("found");
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        t.elapsed()
    );
    assert_eq!(inst.etag, "\"7\"");
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

#[tokio::test]
async fn other_4xx_are_not_retried_and_carry_details() {
    let (url, seen) = serve(vec![(400, vec![], problem(400, "INVALID_ARGUMENT"))]).await;
    let c = client(&url, 5);
    let err = c
        .create_instance(&create_req(), &IdempotencyKey::new())
        .await
        .expect_err("400");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.reason(), "INVALID_ARGUMENT");
    assert_eq!(err.request_id(), Some("req-42"));
    let detail = err.detail();
    assert!(detail.contains("storage_gb: must be >= 10"), "{detail}");
    assert!(detail.contains("req-42"), "{detail}");
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn conflict_retried_only_when_operation_in_progress() {
    let (url, seen) = serve(vec![
        (409, vec![], problem(409, "OPERATION_IN_PROGRESS")),
        (409, vec![], problem(409, "ALREADY_EXISTS")),
    ])
    .await;
    let c = client(&url, 5);
    let err = c
        .create_instance(&create_req(), &IdempotencyKey::new())
        .await
        .expect_err("409");
    assert_eq!(err.reason(), "ALREADY_EXISTS");
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let (url, seen) = serve(vec![(503, vec![], problem(503, "UNAVAILABLE"))]).await;
    let c = client(&url, 2);
    let err = c.get_instance("db1").await.expect_err("503");
    assert_eq!(err.status(), Some(503));
    assert_eq!(seen.lock().expect("lock").len(), 3);
}

#[tokio::test]
async fn not_found_is_none_and_if_match_is_sent() {
    let (url, seen) = serve(vec![
        (404, vec![], problem(404, "NOT_FOUND")),
        (202, vec![], op_json(false)),
    ])
    .await;
    let c = client(&url, 1);
    assert!(
        c.get_instance("db1")
            .await
            .expect("404 is not an error")
            .is_none()
    );
    let patch = types::UpdateInstanceRequest {
        tier: Some("db-micro".into()),
        ..Default::default()
    };
    c.update_instance("db1", &patch, Some("\"3\""), &IdempotencyKey::new())
        .await
        .expect("patch");
    let seen = seen.lock().expect("lock");
    assert_eq!(seen[1].0, "PATCH");
    assert_eq!(seen[1].2["if-match"], "\"3\"");
}

/// A raw TCP server that drops the first connection after reading the request (a "dropped response"),
/// then answers properly: the client must retry with the same Idempotency-Key.
#[tokio::test]
async fn dropped_connection_is_retried_with_same_key() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let keys: Arc<Mutex<Vec<String>>> = Arc::default();
    let k2 = keys.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let len = sock.read(&mut buf).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..len]).to_string();
            if let Some(line) = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("idempotency-key:"))
            {
                k2.lock().expect("lock").push(line[16..].trim().to_string());
            }
            n += 1;
            if n == 1 {
                drop(sock);
                continue;
            }
            let body = op_json(true);
            let resp = format!(
                "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    let c = client(&format!("http://{addr}"), 3);
    let key = IdempotencyKey::new();
    let op = c
        .create_instance(&create_req(), &key)
        .await
        .expect("retried after drop");
    assert!(op.done);
    let keys = keys.lock().expect("lock");
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k == key.as_str()));
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let c = client(&format!("http://{addr}"), 2);
    let err = c.get_instance("db1").await.expect_err("refused");
    assert!(matches!(err, ApiError::Transport { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!(
            "cannot reach the CloudDB API at http://{addr}: connection refused"
        )),
        "{err}"
    );
}

/// A refused connection is a configuration problem: two quick retries, not the whole budget
/// (8 retries with up to 10 s backoff would take ~24 s).
#[tokio::test]
async fn connection_refused_fails_fast_whatever_the_budget() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let c = client(&format!("http://{addr}"), 8);
    let started = std::time::Instant::now();
    let err = c.get_instance("db1").await.expect_err("refused");
    assert_eq!(err.retry_cap(), Some(2));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Once the API has answered, a refused connection is an outage (a restarting server), not a
/// wrong endpoint: the whole budget is spent waiting for it to come back. (The chaos suite found
/// the fast failure orphaning an ambiguous create whose lookup met a restarting server.)
#[tokio::test]
async fn connection_refused_after_an_answer_waits_for_the_api_to_come_back() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let answer_one = |listener: tokio::net::TcpListener| async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 8192];
        let _ = sock.read(&mut buf).await;
        let body = r#"{"error":{"code":404,"status":"NOT_FOUND","message":"no such instance"}}"#;
        let resp = format!(
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
    };
    let mut cfg = ClientConfig::new(format!("http://{addr}"), "secret-token", "proj1");
    cfg.retry = RetryPolicy {
        max_retries: 8,
        base_delay: Duration::from_millis(40),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(2),
    };
    cfg.terraform_version = "1.11.4".into();
    let c = Client::new(cfg).expect("client");
    // The API answers once, then goes away (the port refuses) ...
    let first = tokio::spawn(answer_one(listener));
    assert!(c.get_instance("db1").await.expect("answered").is_none());
    first.await.expect("server task");
    // ... and comes back after longer than two quick retries take.
    let back = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.expect("rebind");
        answer_one(listener).await;
    });
    let got = c.get_instance("db1").await;
    back.await.expect("server task");
    assert!(
        matches!(got, Ok(None)),
        "refused connections were retried until the API came back: {got:?}"
    );
}

#[tokio::test]
async fn waiter_polls_until_done_using_retry_after() {
    let (url, seen) = serve(vec![
        (200, vec![("retry-after", "0".into())], op_json(false)),
        (200, vec![("retry-after", "0".into())], op_json(false)),
        (200, vec![], op_json(true)),
    ])
    .await;
    let c = client(&url, 1);
    let start: Operation = serde_json::from_str(&op_json(false)).expect("op");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let done = wait_operation(&c, start, deadline, std::future::pending())
        .await
        .expect("done");
    assert!(done.done);
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|(m, p, _)| m == "GET" && p == "/v1/projects/proj1/operations/op-1")
    );
}

#[tokio::test]
async fn waiter_reports_operation_failure() {
    let failed = r#"{"id":"op-1","verb":"create","target":"instances/db1","done":true,
        "error":{"status":500,"reason":"PROVISIONING_FAILED","detail":"disk on fire","request_id":"r9"}}"#;
    let (url, _) = serve(vec![(200, vec![], failed.into())]).await;
    let c = client(&url, 1);
    let start: Operation = serde_json::from_str(&op_json(false)).expect("op");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let err = wait_operation(&c, start, deadline, std::future::pending())
        .await
        .expect_err("fails");
    let WaitError::Api(api) = err else {
        panic!("expected API error, got {err:?}")
    };
    assert_eq!(api.reason(), "PROVISIONING_FAILED");
    assert!(api.detail().contains("disk on fire"));
}

#[tokio::test]
async fn waiter_times_out_and_stops() {
    let (url, _) = serve(vec![(
        200,
        vec![("retry-after", "0".into())],
        op_json(false),
    )])
    .await;
    let c = client(&url, 1);
    let start: Operation = serde_json::from_str(&op_json(false)).expect("op");

    let t = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    let err = wait_operation(&c, start.clone(), deadline, std::future::pending())
        .await
        .expect_err("timeout");
    assert!(matches!(err, WaitError::Timeout { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2));

    let t = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let stop = tokio::time::sleep(Duration::from_millis(100));
    let err = wait_operation(&c, start, deadline, stop)
        .await
        .expect_err("stopped");
    assert!(matches!(err, WaitError::Stopped { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn stop_ends_retry_backoff_for_every_method() {
    // Every answer asks for a 2 s pause; without the stop, 5 retries would take 10 s.
    let busy = (
        503,
        vec![("retry-after", "2".into())],
        problem(503, "UNAVAILABLE"),
    );
    let (url, seen) = serve(vec![busy.clone()]).await;
    let signal = tfplugin::provider::StopSignal::new();
    let c = client(&url, 5).with_stop(&signal.context(""));
    let stopper = signal.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.stop();
    });
    let t = std::time::Instant::now();
    let err = c.get_instance("db1").await.expect_err("stopped");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(err.status(), Some(503));
    assert_eq!(seen.lock().expect("lock").len(), 1);

    // A create stops retrying too (the resource then looks the name up: an ambiguous create is
    // recovered by its creation_token, not by retrying through Ctrl-C).
    let (url, seen) = serve(vec![busy]).await;
    let signal = tfplugin::provider::StopSignal::new();
    let c = client(&url, 5).with_stop(&signal.context(""));
    let stopper = signal.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.stop();
    });
    let t = std::time::Instant::now();
    let err = c
        .create_instance(&create_req(), &IdempotencyKey::new())
        .await
        .expect_err("stopped");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(err.status(), Some(503));
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

/// Retries never outlive the operation's deadline (the resource's create/update/delete timeout).
#[tokio::test]
async fn retries_are_bounded_by_the_deadline() {
    let busy = (
        503,
        vec![("retry-after", "2".into())],
        problem(503, "UNAVAILABLE"),
    );
    let (url, seen) = serve(vec![busy]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    let c = client(&url, 5).with_deadline(deadline);
    let t = std::time::Instant::now();
    let err = c
        .create_instance(&create_req(), &IdempotencyKey::new())
        .await
        .expect_err("deadline");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(err.status(), Some(503));
    assert!(seen.lock().expect("lock").len() <= 2);
}

/// 409 IDEMPOTENCY_KEY_IN_USE (the first POST still runs, e.g. after a client-side timeout) carries
/// `retryable: true`: the client retries with the same key until the original answer is replayed.
#[tokio::test]
async fn idempotency_key_in_use_is_retried() {
    let (url, log) = fake::serve(|_, earlier| {
        if earlier.len() < 2 {
            (
                409,
                vec![],
                fake::problem(409, "IDEMPOTENCY_KEY_IN_USE", true, "in use"),
            )
        } else {
            (202, vec![], op_json(false))
        }
    })
    .await;
    let c = client(&url, 5);
    let key = IdempotencyKey::new();
    let op = c
        .create_instance(&create_req(), &key)
        .await
        .expect("retried until the original answer");
    assert_eq!(op.id, "op-1");
    let log = log.lock().expect("lock");
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|r| fake::key_of(r) == key.as_str()));
    assert!(
        log.iter()
            .all(|r| r.body == log[0].body && !r.body.is_empty())
    );
}

/// A 4xx the server marks `retryable` is retried; one it does not mark stays final.
#[tokio::test]
async fn problem_retryable_flag_is_honoured() {
    let (url, log) = fake::serve(|_, earlier| {
        if earlier.is_empty() {
            (
                423,
                vec![],
                fake::problem(423, "SOMETHING_NEW", true, "later"),
            )
        } else {
            (200, vec![], r#"{"name":"db1"}"#.into())
        }
    })
    .await;
    let c = client(&url, 3);
    assert!(c.get_instance("db1").await.expect("retried").is_some());
    assert_eq!(log.lock().expect("lock").len(), 2);
}

/// A hostile Retry-After (1e20 seconds) neither panics the client nor stalls it beyond the cap.
#[tokio::test]
async fn hostile_retry_after_does_not_panic() {
    let (url, log) = fake::serve(|_, earlier| match earlier.len() {
        0 => (
            503,
            vec![("retry-after".into(), "1e20".into())],
            fake::problem(503, "UNAVAILABLE", true, "busy"),
        ),
        1 => (
            503,
            vec![("retry-after".into(), "Fri, 31 Dec 9999 23:59:59 GMT".into())],
            fake::problem(503, "UNAVAILABLE", true, "busy"),
        ),
        _ => (200, vec![], r#"{"name":"db1"}"#.into()),
    })
    .await;
    let mut cfg = ClientConfig::new(&url, "secret-token", "proj1");
    cfg.retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(100),
    };
    let c = Client::new(cfg).expect("client");
    let t = std::time::Instant::now();
    let got = tokio::spawn(async move { c.get_instance("db1").await })
        .await
        .expect("the client task must not panic");
    assert!(got.expect("get").is_some());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(log.lock().expect("lock").len(), 3);
}

/// The bearer token is a sensitive header value (never printed by `Debug` or logged by hyper/h2).
#[test]
fn authorization_header_is_sensitive() {
    let c = client("http://127.0.0.1:1", 0);
    let url = Url::parse("http://127.0.0.1:1/v1/projects/proj1/instances").expect("url");
    let req = c
        .request(&Method::GET, &url, None, None, None)
        .build()
        .expect("request");
    let auth = req.headers().get(AUTHORIZATION).expect("authorization");
    assert!(auth.is_sensitive());
    assert!(!format!("{req:?}").contains("secret-token"));
}

/// Credentials in the endpoint URL are never echoed: not in errors, not in Debug output.
#[test]
fn endpoint_userinfo_is_never_echoed() {
    for endpoint in [
        "http://alice:hunter2@127.0.0.1:1",
        "https://hunter2@example.test/",
        "http://alice:hunter2@[not-a-host",
        "ftp://alice:hunter2@127.0.0.1:1",
    ] {
        let err = Client::new(ClientConfig::new(endpoint, "t", "p"))
            .expect_err("credentials in endpoint are rejected");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2"), "{endpoint}: {text}");
        assert!(text.contains("endpoint"), "{endpoint}: {text}");
    }
}

/// Error bodies are bounded and scrubbed of the configured token and password/token-looking values
/// before they reach diagnostics or logs.
#[tokio::test]
async fn error_bodies_are_redacted_and_bounded() {
    let long = "x".repeat(20_000);
    let detail = format!(
        "rejected: token secret-token, password=hunter2 \"admin_password\":\"pw-123\" \
         Authorization: Bearer abc.def.ghi {long}"
    );
    let body_400 = fake::problem(400, "INVALID_ARGUMENT", false, &detail);
    let raw_502 = format!("<html>upstream said password: 'hunter2' secret-token {long}</html>");
    let bad_2xx = r#"{"id": 7, "note": "secret-token password=hunter2"}"#.to_string();
    let (url, _) = fake::serve(move |r, _| match r.method.as_str() {
        "POST" => (400, vec![], body_400.clone()),
        "DELETE" => (202, vec![], bad_2xx.clone()),
        _ => (502, vec![], raw_502.clone()),
    })
    .await;
    let c = client(&url, 0);
    let e1 = c
        .create_instance(&create_req(), &IdempotencyKey::new())
        .await
        .expect_err("400");
    let e2 = c.get_instance("db1").await.expect_err("502");
    let e3 = c
        .delete_instance("db1", true, None, &IdempotencyKey::new())
        .await
        .expect_err("undecodable");
    for e in [e1, e2, e3] {
        let text = format!("{} || {e:?}", e.detail());
        for secret in ["secret-token", "hunter2", "pw-123", "abc.def.ghi"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.len() < 4_000, "unbounded: {} bytes", text.len());
    }
}

/// Redirects are not followed (a 307/308 would re-send the body, passwords included); the error says
/// so and names `endpoint`.
#[tokio::test]
async fn redirects_are_not_followed() {
    let (elsewhere, elsewhere_log) = fake::serve(|_, _| (202, vec![], op_json(false))).await;
    let target = format!("{elsewhere}/v1/projects/proj1/instances");
    let (url, log) = fake::serve(move |_, _| {
        (
            307,
            vec![("location".into(), target.clone())],
            String::new(),
        )
    })
    .await;
    let c = client(&url, 3);
    let err = c
        .create_instance(&create_req(), &IdempotencyKey::new())
        .await
        .expect_err("redirect is an error");
    let text = err.detail();
    assert!(text.contains("endpoint"), "{text}");
    assert!(text.contains("redirect"), "{text}");
    assert!(!err.is_retryable());
    assert_eq!(log.lock().expect("lock").len(), 1);
    assert!(elsewhere_log.lock().expect("lock").is_empty());
}

/// A client paced at `per_second` with a bucket of `burst`, on an otherwise default configuration.
fn paced_client(endpoint: &str, per_second: f64, burst: u32) -> Client {
    let mut cfg = ClientConfig::new(endpoint, "secret-token", "proj1");
    cfg.rate_limit = RateLimit { per_second, burst };
    cfg.retry.base_delay = Duration::from_millis(1);
    Client::new(cfg).expect("client")
}

/// When each request reached the fake server, relative to `start`.
type Arrivals = Arc<Mutex<Vec<(String, Duration)>>>;

async fn timed_server(
    start: tokio::time::Instant,
    answer: impl Fn(&fake::Seen, &[fake::Seen]) -> fake::Answer + Send + Sync + 'static,
) -> (String, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let (url, _log) = fake::serve(move |req, earlier| {
        seen.lock()
            .expect("lock")
            .push((req.path.clone(), start.elapsed()));
        answer(req, earlier)
    })
    .await;
    (url, arrivals)
}

fn instance_json(name: &str) -> String {
    serde_json::json!({"name": name, "state": "RUNNING"}).to_string()
}

#[tokio::test]
async fn requests_of_all_handles_are_paced_by_one_shared_bucket() {
    let start = tokio::time::Instant::now();
    let (url, arrivals) = timed_server(start, |_, _| (404, vec![], String::new())).await;
    // 20/s, burst 2: ten concurrent reads through differently bound handles of one client.
    let c = paced_client(&url, 20.0, 2);
    let ctx = tfplugin::provider::StopSignal::new().context(String::new());
    let handles = [
        c.clone(),
        c.with_stop(&ctx),
        c.without_stop(),
        c.with_deadline(tokio::time::Instant::now() + Duration::from_secs(30)),
    ];
    let reads: Vec<_> = (0..10)
        .map(|i| {
            let h = handles[i % handles.len()].clone();
            tokio::spawn(async move { h.get_instance(&format!("db{i}")).await })
        })
        .collect();
    for r in reads {
        let r = r.await.expect("read task");
        assert!(matches!(r, Ok(None)), "{r:?}");
    }
    let arrivals = arrivals.lock().expect("lock");
    assert_eq!(arrivals.len(), 10);
    // 2 at once, then 8 more at 50 ms intervals: the last one no earlier than 400 ms.
    let last = arrivals.iter().map(|a| a.1).max().unwrap_or_default();
    assert!(last >= Duration::from_millis(390), "{arrivals:?}");
    assert!(last < Duration::from_secs(3), "{arrivals:?}");
}

#[tokio::test]
async fn a_429_pauses_every_request_of_the_client_for_the_retry_after() {
    let start = tokio::time::Instant::now();
    let (url, arrivals) = timed_server(start, |req, earlier| {
        if earlier.is_empty() {
            (
                429,
                vec![("retry-after".into(), "1".into())],
                fake::problem(429, "RATE_LIMITED", true, "slow down"),
            )
        } else {
            let name = req.path.rsplit('/').next().unwrap_or_default().to_string();
            (200, vec![], instance_json(&name))
        }
    })
    .await;
    // Unlimited pacing: only the shared pause after a 429 holds requests back.
    let c = paced_client(&url, 0.0, 1);
    let first = c.get_instance("first");
    let other = c.without_stop();
    let second = async move {
        // Sent while the first request's 429 pause is running.
        tokio::time::sleep(Duration::from_millis(200)).await;
        other.get_instance("second").await
    };
    let (a, b) = tokio::join!(first, second);
    assert!(matches!(a, Ok(Some(_))), "{a:?}");
    assert!(matches!(b, Ok(Some(_))), "{b:?}");
    assert_eq!(c.throttled_count(), 1);
    let arrivals = arrivals.lock().expect("lock");
    let second_at = arrivals
        .iter()
        .find(|a| a.0.ends_with("/second"))
        .map(|a| a.1)
        .expect("second request");
    // Not at 200 ms, where it was issued: after the 1 s Retry-After, like the retry.
    assert!(second_at >= Duration::from_millis(950), "{arrivals:?}");
    assert_eq!(
        arrivals.len(),
        3,
        "one 429, its retry and the second read: {arrivals:?}"
    );
}

#[tokio::test]
async fn stop_ends_a_wait_for_the_rate_limiter_without_sending() {
    let (url, log) = fake::serve(|_, _| (404, vec![], String::new())).await;
    // One request per 10 s: the second waits for its token.
    let c = paced_client(&url, 0.1, 1);
    assert!(matches!(c.get_instance("a").await, Ok(None)));
    let signal = tfplugin::provider::StopSignal::new();
    let bound = c.with_stop(&signal.context(String::new()));
    let waiting = tokio::spawn(async move { bound.get_instance("b").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    signal.stop();
    let r = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("the stop ends the wait")
        .expect("task");
    assert!(matches!(r, Err(ApiError::Stopped { .. })), "{r:?}");
    assert!(format!("{:?}", r).contains("/instances/b"));
    assert_eq!(
        log.lock().expect("lock").len(),
        1,
        "the waiting request was never sent"
    );
}

/// A retry that a stop cuts short while it waits for the rate limiter reports the error of the
/// attempt that was sent, not "not sent": that attempt may have done its work behind a lost
/// answer, and a create's caller only looks the instance up when the outcome is unknown.
#[tokio::test]
async fn stop_during_a_retrys_wait_for_the_rate_limiter_reports_the_sent_attempt() {
    let (url, log) = fake::serve(|_, _| (503, vec![], String::new())).await;
    // One token, then one per 10 s: the retry waits for its token.
    let c = paced_client(&url, 0.1, 1);
    let signal = tfplugin::provider::StopSignal::new();
    let bound = c.with_stop(&signal.context(String::new()));
    let waiting = tokio::spawn(async move { bound.get_instance("b").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal.stop();
    let r = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("the stop ends the wait")
        .expect("task");
    match &r {
        Err(e) => {
            assert_eq!(e.status(), Some(503), "{r:?}");
            assert!(e.outcome_unknown());
        }
        Ok(_) => panic!("expected the 503, got {r:?}"),
    }
    assert_eq!(
        log.lock().expect("lock").len(),
        1,
        "the retry was never sent"
    );
}

/// One keep-alive connection pool per configured client: sequential requests through every kind of
/// derived handle (the ones resources bind to a call, and the lookup handles after an ambiguous
/// create) reuse one TCP connection.
#[tokio::test]
async fn derived_handles_share_one_keep_alive_connection() {
    use std::net::SocketAddr;
    let peers: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
    let seen = peers.clone();
    let app = Router::new().fallback(
        move |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>| {
            let seen = seen.clone();
            async move {
                seen.lock().expect("lock").push(peer);
                (StatusCode::NOT_FOUND, "")
            }
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let c = client(&format!("http://{addr}"), 0);
    let ctx = tfplugin::provider::StopSignal::new().context(String::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let handles = [
        c.clone(),
        c.with_stop(&ctx).with_deadline(deadline),
        c.with_stop(&ctx).without_stop().with_deadline(deadline),
        c.without_stop(),
    ];
    for h in &handles {
        assert!(h.shares_pool_with(&c));
        assert!(matches!(h.get_instance("x").await, Ok(None)));
    }
    let peers = peers.lock().expect("lock");
    assert_eq!(peers.len(), 4);
    assert!(
        peers.iter().all(|p| *p == peers[0]),
        "one connection for all handles: {peers:?}"
    );
    // A separately configured client is a separate pool.
    let other = client(&format!("http://{addr}"), 0);
    assert!(!other.shares_pool_with(&c));
}
