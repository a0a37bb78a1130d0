//! Transport-layer tests: launch the echo example provider like Terraform does
//! and check the handshake, AutoMTLS, the auxiliary services, shutdown, signals
//! and debug mode.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use tfplugin::proto::health::HealthCheckRequest;
use tfplugin::proto::health::health_check_response::ServingStatus;
use tfplugin::proto::health::health_client::HealthClient;
use tfplugin::proto::tfplugin6::get_provider_schema;
use tfplugin::server::handshake::MAGIC_COOKIE_VALUE;
use tfplugin::testing::{self, ClientAuth, LaunchOptions, ProviderProcess};

/// Builds (once) and returns the echo example binary.
fn echo_binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "tfplugin",
                "--example",
                "echo_provider",
            ])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building echo_provider failed");
        testing::target_binary("echo_provider", true).expect("echo_provider built")
    })
    .clone()
}

fn check(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_string(),
    }
}

fn is_std_base64_nopad(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[tokio::test]
async fn terraform_like_launch_mtls_p521_ok_then_shutdown() {
    let mut p = ProviderProcess::launch(echo_binary(), &[])
        .await
        .expect("launch");

    // 1|6|unix|/dir/plugin<digits>|grpc|<base64 DER without padding>
    let fields: Vec<&str> = p.handshake_line.split('|').collect();
    assert_eq!(fields.len(), 6, "{}", p.handshake_line);
    assert_eq!(&fields[..3], &["1", "6", "unix"]);
    let file = fields[3].rsplit('/').next().unwrap_or_default();
    assert!(fields[3].starts_with('/'), "{}", fields[3]);
    let digits = file.strip_prefix("plugin").unwrap_or_default();
    assert!(
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        "{file}"
    );
    assert_eq!(fields[4], "grpc");
    assert!(
        fields[5].len() > 50 && is_std_base64_nopad(fields[5]),
        "{}",
        fields[5]
    );
    let socket = PathBuf::from(fields[3]);
    assert!(socket.exists());

    // mTLS with the P-521 CA-marked client cert works; health is SERVING.
    for svc in ["plugin", ""] {
        let r = p
            .health
            .check(check(svc))
            .await
            .expect("health")
            .into_inner();
        assert_eq!(r.status, ServingStatus::Serving as i32);
    }
    assert!(p.health.check(check("nope")).await.is_err());
    assert_eq!(p.negotiated_alpn().as_deref(), Some(&b"h2"[..]));

    // The provider service is reachable through the same channel.
    let schema = p
        .provider
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    assert!(schema.provider.is_some());

    // Stdio and broker streams open and stay open without data.
    let mut stdio = p.stdio.stream_stdio(()).await.expect("stdio").into_inner();
    let early = tokio::time::timeout(Duration::from_millis(200), stdio.message()).await;
    assert!(early.is_err(), "stdio stream must stay open and idle");
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let mut broker = p
        .broker
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("broker")
        .into_inner();
    let early = tokio::time::timeout(Duration::from_millis(200), broker.message()).await;
    assert!(early.is_err(), "broker stream must stay open and idle");

    let (status, elapsed) = p.shutdown().await.expect("shutdown");
    drop(tx);
    assert!(status.success(), "{status:?}");
    assert!(elapsed < Duration::from_secs(2), "exit took {elapsed:?}");
    assert!(!socket.exists(), "socket not removed");
    assert!(
        p.stdout_after_handshake().is_empty(),
        "stdout after handshake"
    );
}

#[tokio::test]
async fn missing_magic_cookie_prints_message_and_exits_1() {
    let out = Command::new(echo_binary())
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("This binary is a plugin"), "{err}");
    assert!(err.contains("not meant to be executed directly"), "{err}");

    let out = Command::new(echo_binary())
        .env("TF_PLUGIN_MAGIC_COOKIE", "wrong")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn protocol_versions_without_6_is_an_error() {
    let out = Command::new(echo_binary())
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .env_remove("PLUGIN_CLIENT_CERT")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("protocol 6") && err.contains("4,5"), "{err}");
}

async fn assert_refused(auth: ClientAuth) {
    let opts = LaunchOptions {
        auth,
        ..LaunchOptions::default()
    };
    let mut p = ProviderProcess::launch_with(echo_binary(), opts)
        .await
        .expect("launch");
    assert!(p.handshake.server_cert.is_some(), "server is in TLS mode");
    let r = tokio::time::timeout(Duration::from_secs(10), p.health.check(check("plugin"))).await;
    match r {
        Ok(Ok(resp)) => panic!("{auth:?}: connection must be refused, got {resp:?}"),
        Ok(Err(status)) => eprintln!("{auth:?} refused as expected: {status}"),
        Err(_) => panic!("{auth:?}: no answer at all"),
    }
    // The server keeps running and refuses cleanly; end it.
    p.signal("TERM").expect("sigterm");
    let status = p.wait_exit(Duration::from_secs(5)).await.expect("exit");
    assert!(status.success());
}

#[tokio::test]
async fn mtls_refuses_client_without_certificate() {
    assert_refused(ClientAuth::NoClientCert).await;
}

#[tokio::test]
async fn mtls_refuses_a_different_client_certificate() {
    assert_refused(ClientAuth::OtherCert).await;
}

#[tokio::test]
async fn plaintext_without_client_cert_env() {
    let opts = LaunchOptions {
        auth: ClientAuth::Plaintext,
        ..LaunchOptions::default()
    };
    let mut p = ProviderProcess::launch_with(echo_binary(), opts)
        .await
        .expect("launch");
    assert!(p.handshake_line.ends_with("|grpc|"), "{}", p.handshake_line);
    let r = p
        .health
        .check(check("plugin"))
        .await
        .expect("health")
        .into_inner();
    assert_eq!(r.status, ServingStatus::Serving as i32);
    assert_eq!(p.negotiated_alpn(), None);
    let (status, elapsed) = p.shutdown().await.expect("shutdown");
    assert!(status.success() && elapsed < Duration::from_secs(2));
}

/// A server in AutoMTLS mode answers a plaintext HTTP/2 client with nothing: the connection is
/// closed during the TLS handshake and no HTTP/2 frame ever comes back.
#[tokio::test]
async fn mtls_refuses_a_plaintext_client() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut p = ProviderProcess::launch(echo_binary(), &[])
        .await
        .expect("launch");
    assert!(p.handshake.server_cert.is_some(), "server is in TLS mode");
    let mut sock = tokio::net::UnixStream::connect(&p.handshake.address)
        .await
        .expect("connect");
    sock.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("write preface");
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
        .await
        .expect("the server answers or closes in time");
    // An HTTP/2 server would answer with a SETTINGS frame (type 0x04 at byte 3).
    match read {
        Ok(0) | Err(_) => {}
        Ok(n) => assert!(
            n < 9 || buf[3] != 0x04,
            "plaintext HTTP/2 got a SETTINGS frame back: {:?}",
            &buf[..n]
        ),
    }
    let r = p
        .health
        .check(check("plugin"))
        .await
        .expect("mTLS client still served");
    assert_eq!(r.into_inner().status, ServingStatus::Serving as i32);
    p.shutdown().await.expect("shutdown");
}

/// Without AutoMTLS the plugin serves plaintext only on a unix socket that only its owner may
/// open; a TCP fallback is refused instead of exposing plaintext gRPC to every local user.
#[tokio::test]
async fn plaintext_is_unix_only_and_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let opts = LaunchOptions {
        auth: ClientAuth::Plaintext,
        ..LaunchOptions::default()
    };
    let mut p = ProviderProcess::launch_with(echo_binary(), opts)
        .await
        .expect("launch");
    assert_eq!(p.handshake.network, "unix");
    let mode = std::fs::metadata(&p.handshake.address)
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    p.shutdown().await.expect("shutdown");

    // Force the TCP fallback (socket paths too long for sun_path), still without a client cert.
    let dir = tempfile::tempdir().expect("tempdir");
    let long = dir.path().join("d".repeat(120));
    let out = Command::new(echo_binary())
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_UNIX_SOCKET_DIR", &long)
        .env_remove("PLUGIN_CLIENT_CERT")
        .output()
        .expect("run");
    assert!(!out.status.success(), "plaintext tcp must be refused");
    assert!(out.stdout.is_empty(), "no handshake line");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to serve plaintext gRPC over TCP"),
        "{err}"
    );
}

#[tokio::test]
async fn sigint_is_ignored_and_sigterm_exits() {
    let mut p = ProviderProcess::launch(echo_binary(), &[])
        .await
        .expect("launch");
    let socket = PathBuf::from(&p.handshake.address);
    p.signal("INT").expect("sigint");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = p
        .health
        .check(check("plugin"))
        .await
        .expect("still serving after SIGINT");
    assert_eq!(r.into_inner().status, ServingStatus::Serving as i32);
    p.signal("TERM").expect("sigterm");
    let status = p
        .wait_exit(Duration::from_secs(3))
        .await
        .expect("exit on SIGTERM");
    assert!(status.success());
    assert!(!socket.exists());
}

#[tokio::test]
async fn socket_dir_and_tcp_fallback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_s = dir.path().display().to_string();
    let mut p = ProviderProcess::launch(echo_binary(), &[("PLUGIN_UNIX_SOCKET_DIR", &dir_s)])
        .await
        .expect("launch");
    assert!(
        p.handshake.address.starts_with(&dir_s),
        "{}",
        p.handshake.address
    );
    p.shutdown().await.expect("shutdown");

    // A socket directory whose paths are too long for sun_path: fall back to tcp.
    let long = dir.path().join("d".repeat(120));
    let long_s = long.display().to_string();
    let mut p = ProviderProcess::launch(
        echo_binary(),
        &[
            ("PLUGIN_UNIX_SOCKET_DIR", &long_s),
            ("PLUGIN_MIN_PORT", "20000"),
            ("PLUGIN_MAX_PORT", "20999"),
        ],
    )
    .await
    .expect("launch");
    assert_eq!(p.handshake.network, "tcp");
    let port: u16 = p
        .handshake
        .address
        .strip_prefix("127.0.0.1:")
        .and_then(|s| s.parse().ok())
        .expect("127.0.0.1:port");
    assert!((20000..=20999).contains(&port));
    let r = p
        .health
        .check(check("plugin"))
        .await
        .expect("health over tcp+mtls");
    assert_eq!(r.into_inner().status, ServingStatus::Serving as i32);
    p.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn logs_are_hclog_json_and_quiet_by_default() {
    let mut p = ProviderProcess::launch(echo_binary(), &[("TF_LOG", "debug")])
        .await
        .expect("launch");
    p.provider
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .expect("schema");
    p.shutdown().await.expect("shutdown");
    let err = p.stderr();
    assert!(!err.contains("never-logged"), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("GetProviderSchema called"))
        .unwrap_or_else(|| panic!("no log line in {err}"));
    let v: serde_json::Value = serde_json::from_str(line).expect("json");
    assert_eq!(v["@level"], "debug");
    assert_eq!(v["@module"], "provider.terraform-provider-echo");
    assert_eq!(v["@timestamp"].as_str().map(str::len), Some(27));

    let mut p = ProviderProcess::launch(echo_binary(), &[("TF_LOG", ""), ("TF_LOG_PROVIDER", "")])
        .await
        .expect("launch");
    p.provider
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .expect("schema");
    p.shutdown().await.expect("shutdown");
    assert_eq!(p.stderr(), "", "no logs without TF_LOG");
}

#[tokio::test]
async fn debug_mode_prints_reattach_line_and_serves_plaintext() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(echo_binary())
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let mut json = None;
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await
    {
        if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            json = rest.strip_suffix('\'').map(str::to_string);
            break;
        }
    }
    let json = json.expect("TF_REATTACH_PROVIDERS line");
    let v: serde_json::Value = serde_json::from_str(&json).expect("reattach json");
    let entry = &v["registry.terraform.io/clouddb/echo"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"].as_u64(), child.id().map(u64::from));
    assert_eq!(entry["Addr"]["Network"], "unix");
    let path = entry["Addr"]["String"].as_str().expect("path").to_string();

    let hs = testing::Handshake {
        core_version: 1,
        app_version: 6,
        network: "unix".into(),
        address: path.clone(),
        protocol: "grpc".into(),
        server_cert: None,
    };
    let alpn = Default::default();
    let channel = testing::connect(&hs, None, alpn).await.expect("channel");
    let r = HealthClient::new(channel)
        .check(check("plugin"))
        .await
        .expect("health");
    assert_eq!(r.into_inner().status, ServingStatus::Serving as i32);

    // Ctrl-C ends debug mode.
    let pid = child.id().expect("pid");
    let ok = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
    let status = tokio::time::timeout(Duration::from_secs(3), child.wait())
        .await
        .expect("exit after SIGINT")
        .expect("wait");
    assert!(status.success());
    assert!(!PathBuf::from(path).exists());
}

#[tokio::test]
async fn large_messages_are_accepted() {
    use tfplugin::proto::tfplugin6::{DynamicValue, validate_provider_config};
    let mut p = ProviderProcess::launch(echo_binary(), &[])
        .await
        .expect("launch");
    // 8 MiB: above tonic's 4 MiB default; the echo provider does not implement
    // this RPC, so a decoded request answers Unimplemented, not a size error.
    let req = validate_provider_config::Request {
        config: Some(DynamicValue {
            msgpack: vec![0xc0; 8 << 20],
            json: Vec::new(),
        }),
    };
    let status = p
        .provider
        .validate_provider_config(req)
        .await
        .expect_err("echo provider does not implement it");
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status}");
    p.shutdown().await.expect("shutdown");
}
