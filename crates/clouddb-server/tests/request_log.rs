//! The request log's `body_fields`: the top-level keys a request body carried, never a value.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use clouddb_server::http_client::{Client, Conn};
use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn log(s: &Server) -> Vec<Value> {
    let r = s.admin.get("/admin/requests").await.unwrap();
    assert_eq!(r.status, 200);
    // No secret sent in this file may ever be in the log, whatever the entry.
    for secret in ["Sup3r-admin-pw", "hunter2-user-pw", "n3w-user-pw"] {
        assert!(!r.text().contains(secret), "{secret} logged: {}", r.text());
    }
    r.json().as_array().unwrap().clone()
}

async fn last(s: &Server) -> Value {
    log(s).await.last().unwrap().clone()
}

#[tokio::test]
async fn body_fields_name_the_keys_sent_and_never_a_value() {
    let s = start().await;
    let r = s
        .api
        .post(
            &format!("{P}/instances"),
            &json!({"tier": "db-small", "name": "db1", "storage_gb": 20,
                    "admin_password": "Sup3r-admin-pw"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let e = last(&s).await;
    assert_eq!(e["method"], "POST");
    assert_eq!(
        e["body_fields"],
        json!(["admin_password", "name", "storage_gb", "tier"])
    );
    s.advance(10.0).await;

    let users = format!("{P}/instances/db1/users");
    let r = s
        .api
        .post(
            &users,
            &json!({"name": "app", "password": "hunter2-user-pw", "roles": ["ro"]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        last(&s).await["body_fields"],
        json!(["name", "password", "roles"])
    );
    let r = s
        .api
        .patch(&format!("{users}/app"), &json!({"password": "n3w-user-pw"}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let e = last(&s).await;
    assert_eq!(
        (e["method"].clone(), e["status"].clone()),
        (json!("PATCH"), json!(200))
    );
    assert_eq!(e["body_fields"], json!(["password"]));
    // What a test of "exactly one PATCH carried password" would count.
    let carrying: Vec<_> = log(&s)
        .await
        .into_iter()
        .filter(|e| {
            e["method"] == "PATCH"
                && e["body_fields"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("password"))
        })
        .collect();
    assert_eq!(carrying.len(), 1);

    // No body, a body that is not an object, and an empty object: no fields (always an array).
    s.api.get(&users).await.unwrap();
    assert_eq!(last(&s).await["body_fields"], json!([]));
    let mut c = Conn::connect(s.addr).await.unwrap();
    let r = c
        .request(
            "POST",
            &users,
            &[("authorization", "Bearer tok-a")],
            Some(b"[\"password\"]"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(last(&s).await["body_fields"], json!([]));
    let r = s
        .api
        .post(&format!("{P}/instances/db1/backups"), &json!({}))
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    assert_eq!(last(&s).await["body_fields"], json!([]));

    // A request refused before its handler still shows what it carried (it was authenticated)...
    s.fault(json!({"kind": "fail", "method": "PATCH", "status": 503}))
        .await;
    let r = s
        .api
        .patch(&format!("{users}/app"), &json!({"password": "n3w-user-pw"}))
        .await
        .unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(last(&s).await["body_fields"], json!(["password"]));
    // ...but the body of an unauthenticated request is never read.
    let stranger = Client::new(s.addr, "wrong-token");
    let r = stranger
        .patch(&format!("{users}/app"), &json!({"password": "n3w-user-pw"}))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    let e = last(&s).await;
    assert_eq!(e["status"], 401);
    assert_eq!(e["body_fields"], json!([]));
}

#[tokio::test]
async fn bodies_over_the_limit_are_still_refused_with_413() {
    let s = start().await;
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(clouddb_server::MAX_BODY));
    // With a Content-Length.
    let mut c = Conn::connect(s.addr).await.unwrap();
    let r = c
        .request(
            "POST",
            &format!("{P}/instances"),
            &[("authorization", "Bearer tok-a")],
            Some(big.as_bytes()),
        )
        .await
        .unwrap();
    assert_problem(&r, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(last(&s).await["body_fields"], json!([]));

    // Chunked, so the size is only known once the limit is passed.
    let stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST {P}/instances HTTP/1.1\r\nhost: x\r\nauthorization: Bearer tok-a\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        for chunk in big.as_bytes().chunks(64 * 1024) {
            wr.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            wr.write_all(chunk).await?;
            wr.write_all(b"\r\n").await?;
        }
        wr.write_all(b"0\r\n\r\n").await
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // A server that answers and closes while the client is still sending makes the kernel reset
    // the connection, which can discard the answer before it is read (more likely on a loaded
    // machine). Then the request log below is the witness of the 413.
    tokio::time::timeout(Duration::from_secs(20), async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match rd.read(&mut buf).await {
                Ok(n) if n > 0 => answer.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 413"),
        "{text}"
    );
    // The server may stop reading once it has answered; the writer's outcome does not matter.
    writer.abort();
    let mut e = last(&s).await;
    for _ in 0..50 {
        if e["status"] == 413 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        e = last(&s).await;
    }
    assert_eq!(e["status"], 413);
    assert_eq!(e["body_fields"], json!([]));
}
