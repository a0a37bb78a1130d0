//! ValidateProviderConfig, ConfigureProvider.

use serde_json::json;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::testing::diagnostics::{assert_no_errors, error_attributes};
use tfplugin::testing::values::{dynamic_value, json_bytes};
use tfplugin::value::Value;

use crate::{Cloud, good_provider_config, launch, provider_ty, shutdown_cleanly, val};

/// Good, unknown (tolerated), bad (names the attributes), and the JSON encoding.
#[tokio::test]
async fn validate_provider_config() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let pty = provider_ty();
    let good = good_provider_config("http://127.0.0.1:1");
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dynamic_value(&pty, &good),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    assert_no_errors("ValidateProviderConfig(good)", &v.diagnostics);
    let mut unknown = good.clone();
    unknown.set_attr("endpoint", Value::unknown());
    unknown.set_attr("max_retries", Value::unknown());
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dynamic_value(&pty, &unknown),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    assert_no_errors("ValidateProviderConfig(unknown)", &v.diagnostics);
    let bad = val(
        &pty,
        json!({"endpoint": "ftp://127.0.0.1:1", "max_retries": 99, "request_timeout": "soon"}),
    );
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dynamic_value(&pty, &bad),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    let mut bad_attrs = error_attributes(&v.diagnostics);
    bad_attrs.dedup();
    assert_eq!(
        bad_attrs,
        vec!["endpoint", "max_retries", "request_timeout"],
        "{:?}",
        v.diagnostics
    );
    // The JSON encoding of a DynamicValue is accepted too.
    let v = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: Some(json_bytes(
                json!({"endpoint": "http://127.0.0.1:1", "max_retries": 3}).to_string(),
            )),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    assert_no_errors("ValidateProviderConfig(JSON)", &v.diagnostics);
    shutdown_cleanly(p).await;
}

/// ConfigureProvider against a real server (no diagnostics at all; see [`Cloud::start`]).
#[tokio::test]
async fn configure_provider() {
    Cloud::start().await.finish().await;
}
