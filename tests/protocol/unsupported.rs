//! The kinds this provider lacks: every RPC answers normally, with the "unsupported" diagnostic
//! (or function error) naming the kind and the type.

use tfplugin::proto::tfplugin6 as pb;
use tfplugin::testing::diagnostics::{assert_no_errors, assert_unsupported, errors};
use tfplugin::testing::values::dynamic_value;
use tfplugin::value::{Type, Value};

use crate::{instance_config, instance_ty, launch, shutdown_cleanly};

/// ValidateDataResourceConfig, ReadDataSource of a data source type the provider does not have:
/// one error naming it (the provider's data sources are tested through Terraform, in
/// tests/acceptance/data_sources.rs).
#[tokio::test]
async fn data_sources() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let ity = instance_ty();
    let cfg = instance_config("proto-db", "db-small");
    let missing = "clouddb_no_such_type";
    let v = c
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: missing.into(),
            config: dynamic_value(&ity, &cfg),
        })
        .await
        .expect("ValidateDataResourceConfig")
        .into_inner();
    assert_unsupported(
        "ValidateDataResourceConfig",
        &v.diagnostics,
        "data source",
        missing,
    );
    let rd = c
        .read_data_source(pb::read_data_source::Request {
            type_name: missing.into(),
            config: dynamic_value(&ity, &cfg),
            ..Default::default()
        })
        .await
        .expect("ReadDataSource")
        .into_inner();
    assert_unsupported("ReadDataSource", &rd.diagnostics, "data source", missing);
    shutdown_cleanly(p).await;
}

/// GetFunctions (the provider's own), CallFunction of a function it lacks (a function error
/// naming the function).
#[tokio::test]
async fn functions() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let f = c
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("GetFunctions")
        .into_inner();
    assert_no_errors("GetFunctions", &f.diagnostics);
    let mut names: Vec<&str> = f.functions.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["connection_uri", "parse_tier"]);
    let cf = c
        .call_function(pb::call_function::Request {
            name: "parse_endpoint".into(),
            arguments: vec![dynamic_value(&Type::String, &Value::from("h:1")).expect("dv")],
        })
        .await
        .expect("CallFunction")
        .into_inner();
    let fe = cf.error.expect("a function error");
    assert!(fe.text.contains("parse_endpoint"), "{}", fe.text);
    assert!(cf.result.is_none());
    shutdown_cleanly(p).await;
}

/// ValidateEphemeralResourceConfig, OpenEphemeralResource, RenewEphemeralResource,
/// CloseEphemeralResource.
#[tokio::test]
async fn ephemeral_resources() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let v = c
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "clouddb_token".into(),
            config: None,
        })
        .await
        .expect("ValidateEphemeralResourceConfig")
        .into_inner();
    assert_unsupported(
        "ValidateEphemeralResourceConfig",
        &v.diagnostics,
        "ephemeral resource",
        "clouddb_token",
    );
    let o = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "clouddb_token".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .expect("OpenEphemeralResource")
        .into_inner();
    assert_unsupported(
        "OpenEphemeralResource",
        &o.diagnostics,
        "ephemeral resource",
        "clouddb_token",
    );
    let rn = c
        .renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
            type_name: "clouddb_token".into(),
            private: Some(Vec::new()),
        })
        .await
        .expect("RenewEphemeralResource")
        .into_inner();
    assert_unsupported(
        "RenewEphemeralResource",
        &rn.diagnostics,
        "ephemeral resource",
        "clouddb_token",
    );
    let cl = c
        .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
            type_name: "clouddb_token".into(),
            private: None,
        })
        .await
        .expect("CloseEphemeralResource")
        .into_inner();
    assert_unsupported(
        "CloseEphemeralResource",
        &cl.diagnostics,
        "ephemeral resource",
        "clouddb_token",
    );
    shutdown_cleanly(p).await;
}

/// ValidateListResourceConfig, ListResource of a type the provider does not list (one event
/// carrying the diagnostic, then end of stream); its list resources are tested through Terraform
/// in tests/acceptance/identity_query.rs.
#[tokio::test]
async fn list_resources() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let missing = "clouddb_no_such_type";
    let v = c
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: missing.into(),
            config: None,
            include_resource_object: dynamic_value(&Type::Bool, &Value::Bool(true)),
            limit: dynamic_value(&Type::Number, &Value::int(10)),
        })
        .await
        .expect("ValidateListResourceConfig")
        .into_inner();
    assert_unsupported(
        "ValidateListResourceConfig",
        &v.diagnostics,
        "list resource",
        missing,
    );
    let mut ls = c
        .list_resource(pb::list_resource::Request {
            type_name: missing.into(),
            config: None,
            include_resource_object: true,
            limit: 10,
        })
        .await
        .expect("ListResource")
        .into_inner();
    let ev = ls
        .message()
        .await
        .expect("ListResource event")
        .expect("one event");
    assert_unsupported("ListResource", &ev.diagnostic, "list resource", missing);
    assert!(ls.message().await.expect("end of stream").is_none());
    shutdown_cleanly(p).await;
}

/// ValidateActionConfig, PlanAction, InvokeAction of an action type the provider does not serve
/// (its actions are clouddb_instance_restart, clouddb_instance_failover and clouddb_backup_now):
/// one Completed event, then end of stream.
#[tokio::test]
async fn actions() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let va = c
        .validate_action_config(pb::validate_action_config::Request {
            type_name: "clouddb_failover".into(),
            config: None,
        })
        .await
        .expect("ValidateActionConfig")
        .into_inner();
    assert_unsupported(
        "ValidateActionConfig",
        &va.diagnostics,
        "action",
        "clouddb_failover",
    );
    let pa = c
        .plan_action(pb::plan_action::Request {
            action_type: "clouddb_failover".into(),
            ..Default::default()
        })
        .await
        .expect("PlanAction")
        .into_inner();
    assert_unsupported("PlanAction", &pa.diagnostics, "action", "clouddb_failover");
    let mut ia = c
        .invoke_action(pb::invoke_action::Request {
            action_type: "clouddb_failover".into(),
            ..Default::default()
        })
        .await
        .expect("InvokeAction")
        .into_inner();
    let ev = ia
        .message()
        .await
        .expect("InvokeAction event")
        .expect("one event");
    match ev.r#type {
        Some(pb::invoke_action::event::Type::Completed(done)) => assert_unsupported(
            "InvokeAction",
            &done.diagnostics,
            "action",
            "clouddb_failover",
        ),
        other => panic!("InvokeAction: expected Completed, got {other:?}"),
    }
    assert!(ia.message().await.expect("end of stream").is_none());
    shutdown_cleanly(p).await;
}

/// ValidateStateStoreConfig, ConfigureStateStore, ReadStateBytes, WriteStateBytes, LockState,
/// UnlockState, GetStates, DeleteState.
#[tokio::test]
async fn state_stores() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let ss = "clouddb_state";
    let x = c
        .validate_state_store_config(pb::validate_state_store::Request {
            type_name: ss.into(),
            config: None,
        })
        .await
        .expect("ValidateStateStoreConfig")
        .into_inner();
    assert_unsupported(
        "ValidateStateStoreConfig",
        &x.diagnostics,
        "state store",
        ss,
    );
    let x = c
        .configure_state_store(pb::configure_state_store::Request {
            type_name: ss.into(),
            config: None,
            capabilities: Some(pb::StateStoreClientCapabilities {
                chunk_size: 1 << 20,
            }),
        })
        .await
        .expect("ConfigureStateStore")
        .into_inner();
    assert_unsupported("ConfigureStateStore", &x.diagnostics, "state store", ss);
    let mut rs = c
        .read_state_bytes(pb::read_state_bytes::Request {
            type_name: ss.into(),
            state_id: "default".into(),
        })
        .await
        .expect("ReadStateBytes")
        .into_inner();
    let ev = rs
        .message()
        .await
        .expect("ReadStateBytes chunk")
        .expect("one chunk");
    assert_unsupported("ReadStateBytes", &ev.diagnostics, "state store", ss);
    assert!(rs.message().await.expect("end of stream").is_none());
    let ws = c
        .write_state_bytes(tokio_stream::iter(vec![
            pb::write_state_bytes::RequestChunk {
                meta: Some(pb::RequestChunkMeta {
                    type_name: ss.into(),
                    state_id: "default".into(),
                }),
                bytes: b"{}".to_vec(),
                total_length: 2,
                range: Some(pb::StateRange { start: 0, end: 1 }),
            },
        ]))
        .await
        .expect("WriteStateBytes")
        .into_inner();
    assert_eq!(errors(&ws.diagnostics).len(), 1, "{:?}", ws.diagnostics);
    assert!(
        ws.diagnostics[0].detail.contains("state store"),
        "{:?}",
        ws.diagnostics
    );
    let x = c
        .lock_state(pb::lock_state::Request {
            type_name: ss.into(),
            state_id: "default".into(),
            operation: "apply".into(),
        })
        .await
        .expect("LockState")
        .into_inner();
    assert_unsupported("LockState", &x.diagnostics, "state store", ss);
    assert!(x.lock_id.is_empty());
    let x = c
        .unlock_state(pb::unlock_state::Request {
            type_name: ss.into(),
            state_id: "default".into(),
            lock_id: "l".into(),
        })
        .await
        .expect("UnlockState")
        .into_inner();
    assert_unsupported("UnlockState", &x.diagnostics, "state store", ss);
    let x = c
        .get_states(pb::get_states::Request {
            type_name: ss.into(),
        })
        .await
        .expect("GetStates")
        .into_inner();
    assert_unsupported("GetStates", &x.diagnostics, "state store", ss);
    assert!(x.state_id.is_empty());
    let x = c
        .delete_state(pb::delete_state::Request {
            type_name: ss.into(),
            state_id: "default".into(),
        })
        .await
        .expect("DeleteState")
        .into_inner();
    assert_unsupported("DeleteState", &x.diagnostics, "state store", ss);
    shutdown_cleanly(p).await;
}
