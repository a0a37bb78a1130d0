//! Fuzz targets for the edges that are not value codecs (those are in `fuzz/`), see
//! `docs/fuzzing.md`:
//!
//! * [`handshake_env`]: the go-plugin environment the plugin parses at start-up (magic cookie,
//!   `PLUGIN_PROTOCOL_VERSIONS`, the PEM in `PLUGIN_CLIENT_CERT`);
//! * [`client_response`]: everything the REST client does with an answer once its bytes are in
//!   (status, headers such as `Retry-After`, problem bodies, decoding of success bodies);
//! * [`server_request`]: the whole clouddb-server router, in process, with arbitrary methods,
//!   paths, headers and bodies.
//!
//! Each must end every input in a value or an error: no panic, and for the server no 500 (a 500
//! means a handler met input it did not expect).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use tower::ServiceExt;

/// Splits `data` at the first `sep` (or not at all).
fn split_at<'a>(data: &'a [u8], sep: &[u8]) -> (&'a [u8], &'a [u8]) {
    match data.windows(sep.len()).position(|w| w == sep) {
        Some(i) => (&data[..i], &data[i + sep.len()..]),
        None => (data, &[]),
    }
}

/// The plugin's start-up parsing: one input line per environment variable.
pub fn handshake_env(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let cookie = lines.next();
    let versions = lines.next();
    let pem: String = lines.collect::<Vec<_>>().join("\n");
    let _ = tfplugin::server::handshake::check_magic_cookie(cookie);
    if let Ok(v) = tfplugin::server::handshake::negotiate_version(versions) {
        assert_eq!(v, 6, "only protocol 6 is ever negotiated");
    }
    let _ = tfplugin::server::tls::parse_cert_pem(&pem);
}

/// A response: two bytes of status, header lines up to an empty line, then the body.
pub fn client_response(data: &[u8]) {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let status = 100 + (u16::from_be_bytes([*a, *b]) % 500);
    let (head, body) = split_at(rest, b"\n\n");
    let head = String::from_utf8_lossy(head);
    let headers: Vec<(&str, &str)> = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let token = "fuzz-token-123";
    if let Err(e) = terraform_provider_clouddb::client::check_response(status, &headers, body, token) {
        let text = format!("{e} {}", e.detail());
        assert!(!text.contains(token), "the token reached an error message: {text}");
        if let Some(d) = e.retry_after() {
            assert!(d <= std::time::Duration::from_secs(3600), "Retry-After not clamped: {d:?}");
        }
    }
}

struct Server {
    rt: tokio::runtime::Runtime,
    app: Router,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let cfg = clouddb_server::Config {
            tokens: [("fuzz-token".to_string(), "fz".to_string())].into(),
            admin_token: "fuzz-admin".into(),
            rate_limit: 0.0,
            rate_burst: 0.0,
            auth_failure_rate: 0.0,
            auth_failure_burst: 0.0,
            ..clouddb_server::Config::default()
        };
        let app = rt.block_on(async {
            clouddb_server::app(clouddb_server::AppState::new(cfg).expect("in-memory state"))
        });
        Server { rt, app }
    })
}

const METHODS: &[Method] = &[Method::GET, Method::POST, Method::PATCH, Method::DELETE, Method::PUT];
const PATHS: &[&str] = &[
    "/v1/projects/fz/instances",
    "/v1/projects/fz/instances/fuzz-db",
    "/v1/projects/fz/instances/fuzz-db/databases",
    "/v1/projects/fz/instances/fuzz-db/users",
    "/v1/projects/fz/instances/fuzz-db/firewallRules",
    "/v1/projects/fz/backups",
    "/v1/projects/fz/operations",
    "/v1/tiers",
    "/admin/faults",
    "/admin/drift/fz/instances/fuzz-db",
    "/admin/clock/advance",
];

/// One request: a method selector, a path selector (or a raw path), header lines, a body.
pub fn server_request(data: &[u8]) {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let [m, p, rest @ ..] = data else {
        return;
    };
    let (head, body) = split_at(rest, b"\n\n");
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let suffix = lines.next().unwrap_or_default();
    let path = match PATHS.get(usize::from(*p) % (PATHS.len() + 1)) {
        Some(base) => format!("{base}{}", suffix.trim()),
        None => suffix.trim().to_string(),
    };
    let method = METHODS[usize::from(*m) % METHODS.len()].clone();
    let admin = path.starts_with("/admin");
    let mut req = Request::builder()
        .method(method)
        .uri(if path.starts_with('/') { path.clone() } else { format!("/{path}") })
        .header("Authorization", if admin { "Bearer fuzz-admin" } else { "Bearer fuzz-token" })
        .header("Content-Type", "application/json");
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            req = req.header(k.trim(), v.trim());
        }
    }
    let Ok(mut req) = req.body(Body::from(body.to_vec())) else {
        return; // not a valid HTTP request: hyper would refuse it before the router
    };
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let s = server();
    let status = s
        .rt
        .block_on(s.app.clone().oneshot(req))
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert_ne!(status, 500, "a 500 for {path}");
    // Keep the store bounded over millions of runs.
    if CALLS.fetch_add(1, Ordering::Relaxed) % 2000 == 1999 {
        let reset = Request::post("/admin/reset")
            .header("Authorization", "Bearer fuzz-admin")
            .body(Body::empty())
            .map(|mut r| {
                r.extensions_mut()
                    .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
                r
            });
        if let Ok(r) = reset {
            let _ = s.rt.block_on(s.app.clone().oneshot(r));
        }
    }
}
