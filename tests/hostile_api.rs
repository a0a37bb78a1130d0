//! The REST client against a hostile API: a tiny HTTP server on loopback that answers with
//! truncated, wrong-typed, enormous, slow or malformed responses. Every case must end in an
//! `ApiError` (never a panic), within a bounded time, with a message a user can act on.
//! docs/bad-input.md lists these cases with the diagnostic the user sees.

use std::time::{Duration, Instant};

use terraform_provider_clouddb::client::{ApiError, Client, ClientConfig, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Reads one request head (and ignores any body: the cases are all GETs).
async fn read_request(sock: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf).to_string()
}

/// Answers according to the instance name in the request path.
async fn answer(mut sock: TcpStream) {
    let req = read_request(&mut sock).await;
    let case = req
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or_default()
        .to_string();
    let head = |status: &str, extra: &str, len: usize| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {len}\r\nConnection: close\r\n\r\n"
        )
    };
    match case.as_str() {
        "truncated" => {
            let _ = sock.write_all(head("200 OK", "", 1000).as_bytes()).await;
            let _ = sock.write_all(br#"{"name":"trunc"#).await;
        }
        "wrongtype" => {
            let body = br#"{"name":"wrongtype","storage_gb":"lots"}"#;
            let _ = sock
                .write_all(head("200 OK", "", body.len()).as_bytes())
                .await;
            let _ = sock.write_all(body).await;
        }
        "html" => {
            let body = b"<html><body>502 Bad Gateway</body></html>";
            let _ = sock
                .write_all(head("200 OK", "", body.len()).as_bytes())
                .await;
            let _ = sock.write_all(body).await;
        }
        "slow" => {
            let _ = sock.write_all(head("200 OK", "", 100).as_bytes()).await;
            for _ in 0..20 {
                if sock.write_all(b" ").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        "garbage" => {
            let _ = sock.write_all(b"NOT HTTP AT ALL\r\n\xff\xfe\r\n\r\n").await;
        }
        "enormous" => {
            let len = 512 * 1024 * 1024;
            let _ = sock.write_all(head("200 OK", "", len).as_bytes()).await;
            let zeros = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < len {
                if sock.write_all(&zeros).await.is_err() {
                    break;
                }
                sent += zeros.len();
            }
        }
        "hugeproblem" => {
            let detail = "x".repeat(2 * 1024 * 1024);
            let body = format!(r#"{{"title":"boom","status":500,"detail":"{detail}"}}"#);
            let _ = sock
                .write_all(head("500 Internal Server Error", "", body.len()).as_bytes())
                .await;
            let _ = sock.write_all(body.as_bytes()).await;
        }
        "retryafter" => {
            let body = br#"{"title":"slow down","status":429,"reason":"RATE_LIMITED"}"#;
            let _ = sock
                .write_all(
                    head("429 Too Many Requests", "Retry-After: 1e20\r\n", body.len()).as_bytes(),
                )
                .await;
            let _ = sock.write_all(body).await;
        }
        _ => {
            let _ = sock
                .write_all(head("404 Not Found", "", 2).as_bytes())
                .await;
            let _ = sock.write_all(b"{}").await;
        }
    }
    let _ = sock.shutdown().await;
}

async fn hostile_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(answer(sock));
        }
    });
    format!("http://{addr}")
}

fn client(endpoint: &str) -> Client {
    let mut cfg = ClientConfig::new(endpoint, "hostile-test-token", "p");
    cfg.request_timeout = Duration::from_secs(2);
    cfg.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    Client::new(cfg).expect("client")
}

/// GET instance `case` from the hostile server: the error, and how long it took.
async fn fetch(case: &str) -> (ApiError, Duration) {
    let endpoint = hostile_server().await;
    let c = client(&endpoint);
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(30), c.get_instance(case))
        .await
        .unwrap_or_else(|_| panic!("{case}: the client hung"));
    match r {
        Ok(v) => panic!("{case}: a hostile answer was accepted: {v:?}"),
        Err(e) => (e, started.elapsed()),
    }
}

#[tokio::test]
async fn truncated_body_is_a_transport_error() {
    let (e, _) = fetch("truncated").await;
    assert!(e.to_string().contains("GET"), "{e}");
}

#[tokio::test]
async fn wrong_typed_body_names_the_field() {
    let (e, _) = fetch("wrongtype").await;
    assert!(matches!(e, ApiError::Decode { .. }), "{e:?}");
    assert!(e.to_string().contains("storage_gb"), "{e}");
}

#[tokio::test]
async fn html_instead_of_json_is_a_decode_error() {
    let (e, _) = fetch("html").await;
    assert!(matches!(e, ApiError::Decode { .. }), "{e:?}");
}

#[tokio::test]
async fn a_slow_body_ends_at_the_request_timeout() {
    let (e, took) = fetch("slow").await;
    assert!(took < Duration::from_secs(8), "took {took:?}: {e}");
}

#[tokio::test]
async fn not_http_is_a_transport_error() {
    let (e, _) = fetch("garbage").await;
    assert!(matches!(e, ApiError::Transport { .. }), "{e:?}");
}

#[tokio::test]
async fn an_enormous_body_is_refused_before_it_is_read() {
    let (e, _) = fetch("enormous").await;
    assert!(e.to_string().contains("larger than"), "{e}");
}

#[tokio::test]
async fn an_enormous_problem_detail_is_bounded_in_the_message() {
    let (e, _) = fetch("hugeproblem").await;
    assert_eq!(e.status(), Some(500));
    assert!(
        e.detail().len() < 4096,
        "detail of {} bytes",
        e.detail().len()
    );
}

#[tokio::test]
async fn a_hostile_retry_after_does_not_panic() {
    let (e, _) = fetch("retryafter").await;
    assert_eq!(e.status(), Some(429));
    if let Some(d) = e.retry_after() {
        assert!(d <= Duration::from_secs(3600), "{d:?}");
    }
}
