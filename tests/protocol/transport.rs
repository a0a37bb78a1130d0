//! The transport as Terraform sees it: refused clients, the binary run by hand, StopProvider.

use std::process::{Command, Stdio};
use std::time::Duration;

use tfplugin::proto::tfplugin6 as pb;
use tfplugin::testing::{ClientAuth, ProviderProcess};

use crate::{assert_serving, launch, options, provider_binary, shutdown_cleanly};

async fn assert_refused(auth: ClientAuth) {
    let mut p = ProviderProcess::launch_with(provider_binary(), options(auth))
        .await
        .expect("launch");
    assert!(
        p.handshake.server_cert.is_some(),
        "the server is in TLS mode"
    );
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        p.provider
            .get_provider_schema(pb::get_provider_schema::Request {}),
    )
    .await;
    match r {
        Ok(Ok(resp)) => panic!("{auth:?}: the connection must be refused, got {resp:?}"),
        Ok(Err(status)) => eprintln!("{auth:?} refused as expected: {status}"),
        Err(_) => panic!("{auth:?}: no answer at all within 10 s"),
    }
    // Refusing did not bring the plugin down: it still runs and exits cleanly on SIGTERM.
    assert!(
        p.wait_exit(Duration::from_millis(200)).await.is_err(),
        "the plugin exited after refusing a client"
    );
    p.signal("TERM").expect("SIGTERM");
    let status = p.wait_exit(Duration::from_secs(5)).await.expect("exit");
    assert!(status.success(), "{status:?}");
    assert!(p.stdout_after_handshake().is_empty());
}

#[tokio::test]
async fn mtls_refuses_client_without_certificate() {
    assert_refused(ClientAuth::NoClientCert).await;
}

#[tokio::test]
async fn mtls_refuses_a_different_client_certificate() {
    assert_refused(ClientAuth::OtherCert).await;
}

/// Run by hand (no magic cookie, or a wrong one): the friendly message on stderr, nothing on stdout,
/// exit status 1.
#[test]
fn run_by_hand_prints_plugin_message() {
    for cookie in [None, Some("wrong")] {
        let mut cmd = Command::new(provider_binary());
        cmd.env_remove("TF_PLUGIN_MAGIC_COOKIE")
            .env_remove("PLUGIN_CLIENT_CERT")
            .stdin(Stdio::null());
        if let Some(c) = cookie {
            cmd.env("TF_PLUGIN_MAGIC_COOKIE", c);
        }
        let out = cmd.output().expect("run the provider binary");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "cookie {cookie:?}: {err}");
        assert!(
            out.stdout.is_empty(),
            "cookie {cookie:?}: stdout {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(err.contains("This binary is a plugin"), "{err}");
        assert!(err.contains("not meant to be executed directly"), "{err}");
    }
}

/// StopProvider answers, and the plugin keeps serving later calls; Shutdown then exits cleanly.
#[tokio::test]
async fn stop_provider() {
    let mut p = launch().await;
    let st = p
        .provider
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider")
        .into_inner();
    assert!(st.error.is_empty(), "{}", st.error);
    assert_serving(&mut p, "after StopProvider").await;
    shutdown_cleanly(p).await;
}
