//! Garbage in every request field that carries a value (DynamicValue, RawState, private bytes) is an
//! error diagnostic, never a gRPC error or a crash; the plugin keeps answering throughout.
//!
//! Tables: every value-carrying field (a [`Sink`]) × every undecodable value of
//! [`garbage::dynamic_values`] (14), plus the stored-state and private-bytes cases. The cases of a
//! table are independent, so they are sent concurrently over the one connection.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use serde_json::json;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::testing::diagnostics::{assert_no_errors, check_rejected};
use tfplugin::testing::garbage;
use tfplugin::testing::values::{dynamic_value, raw_state_flatmap, raw_state_json};
use tfplugin::value::Value;

use crate::{
    INSTANCE, PROJECT, Rpc, TOKEN, assert_serving, instance_config, instance_ty, launch,
    provider_ty, shutdown_cleanly, val,
};

type Diags = Pin<Box<dyn Future<Output = Vec<pb::Diagnostic>> + Send>>;

/// One request field that carries a value: its label (`Rpc/field`), whether the error must say
/// the value itself could not be decoded (kinds the provider lacks answer "unsupported" before
/// looking at the value), and the call putting the value into that field.
type Sink = (
    &'static str,
    bool,
    fn(Rpc, Option<pb::DynamicValue>) -> Diags,
);

/// A case's outcome: label, diagnostics, must the value be named as undecodable.
type Seen = (String, Vec<pb::Diagnostic>, bool);

/// The provider configured against a closed loopback port: nothing may reach an API anyway.
async fn configure(c: &mut Rpc) {
    let v = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dynamic_value(&provider_ty(), &closed_port_config()),
            client_capabilities: None,
        })
        .await
        .expect("ConfigureProvider")
        .into_inner();
    assert_no_errors("ConfigureProvider", &v.diagnostics);
}

fn closed_port_config() -> Value {
    val(
        &provider_ty(),
        json!({"endpoint": "http://127.0.0.1:9", "token": TOKEN, "project": PROJECT, "max_retries": 0,
               "skip_credentials_validation": true,
               "request_timeout": "1s"}),
    )
}

/// A valid `clouddb_instance` value, for the fields a case leaves alone.
fn ok() -> Option<pb::DynamicValue> {
    dynamic_value(
        &instance_ty(),
        &instance_config("proto-garbage", "db-small"),
    )
}

fn null_instance() -> Option<pb::DynamicValue> {
    dynamic_value(&instance_ty(), &Value::Null)
}

/// Runs every case (sink × value) concurrently; the outcomes in table order.
async fn run(c: &Rpc, sinks: &[Sink], values: &[(String, pb::DynamicValue)]) -> Vec<Seen> {
    let mut set = tokio::task::JoinSet::new();
    let mut i = 0usize;
    for (variant, bad) in values {
        for &(rpc, decoded, call) in sinks {
            let fut = call(c.clone(), Some(bad.clone()));
            let label = format!("{rpc} [{variant}]");
            set.spawn(async move { (i, (label, fut.await, decoded)) });
            i += 1;
        }
    }
    let mut out: Vec<(usize, Seen)> = set.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, s)| s).collect()
}

/// Asserts every case was rejected as it must be and that the table had `expected` cases, then that
/// the plugin still serves and shuts down cleanly.
async fn report(
    test: &str,
    mut p: tfplugin::testing::ProviderProcess,
    seen: &[Seen],
    expected: usize,
    started: Instant,
) {
    let failures: Vec<String> = seen
        .iter()
        .filter_map(|(what, d, decoded)| {
            check_rejected(d, *decoded)
                .err()
                .map(|e| format!("{what}: {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        seen.len(),
        failures.join("\n")
    );
    assert_eq!(seen.len(), expected, "{test}: number of cases");
    assert_serving(&mut p, "after all the garbage").await;
    shutdown_cleanly(p).await;
    eprintln!("{test}: {} cases in {:.1?}", seen.len(), started.elapsed());
}

/// ValidateProviderConfig and ConfigureProvider, one value at a time (a bad ConfigureProvider is
/// followed by a good one, which must succeed).
#[tokio::test]
async fn garbage_in_provider_config() {
    let started = Instant::now();
    let p = launch().await;
    let mut c = p.provider.clone();
    configure(&mut c).await;
    let mut seen: Vec<Seen> = Vec::new();
    for (variant, bad) in garbage::dynamic_values("endpoint") {
        let g = Some(bad);
        let d = c
            .validate_provider_config(pb::validate_provider_config::Request { config: g.clone() })
            .await
            .expect("ValidateProviderConfig: gRPC OK")
            .into_inner()
            .diagnostics;
        seen.push((format!("ValidateProviderConfig [{variant}]"), d, true));
        let d = c
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.11.4".into(),
                config: g,
                client_capabilities: None,
            })
            .await
            .expect("ConfigureProvider: gRPC OK")
            .into_inner()
            .diagnostics;
        seen.push((format!("ConfigureProvider [{variant}]"), d, true));
        // Put the good configuration back.
        configure(&mut c).await;
    }
    report("garbage_in_provider_config", p, &seen, 14 * 2, started).await;
}

/// The value-carrying fields of the resource RPCs of `clouddb_instance`.
const RESOURCE_SINKS: &[Sink] = &[
    ("ValidateResourceConfig", true, |mut c, g| {
        Box::pin(async move {
            c.validate_resource_config(pb::validate_resource_config::Request {
                type_name: INSTANCE.into(),
                config: g,
                client_capabilities: None,
            })
            .await
            .expect("ValidateResourceConfig: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("ReadResource/current_state", true, |mut c, g| {
        Box::pin(async move {
            c.read_resource(pb::read_resource::Request {
                type_name: INSTANCE.into(),
                current_state: g,
                ..Default::default()
            })
            .await
            .expect("ReadResource: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("PlanResourceChange/prior_state", true, |c, g| {
        plan_with(c, |r| r.prior_state = g)
    }),
    ("PlanResourceChange/proposed_new_state", true, |c, g| {
        plan_with(c, |r| r.proposed_new_state = g)
    }),
    ("PlanResourceChange/config", true, |c, g| {
        plan_with(c, |r| r.config = g)
    }),
    ("ApplyResourceChange/prior_state", true, |c, g| {
        apply_with(c, |r| r.prior_state = g)
    }),
    ("ApplyResourceChange/planned_state", true, |c, g| {
        apply_with(c, |r| r.planned_state = g)
    }),
    ("ApplyResourceChange/config", true, |c, g| {
        apply_with(c, |r| r.config = g)
    }),
    ("GenerateResourceConfig", true, |mut c, g| {
        Box::pin(async move {
            c.generate_resource_config(pb::generate_resource_config::Request {
                type_name: INSTANCE.into(),
                state: g,
            })
            .await
            .expect("GenerateResourceConfig: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
];

/// A create plan (null prior, valid proposed state and config) with one field replaced by `set`.
fn plan_with(mut c: Rpc, set: impl FnOnce(&mut pb::plan_resource_change::Request)) -> Diags {
    let mut req = pb::plan_resource_change::Request {
        type_name: INSTANCE.into(),
        prior_state: null_instance(),
        proposed_new_state: ok(),
        config: ok(),
        ..Default::default()
    };
    set(&mut req);
    Box::pin(async move {
        c.plan_resource_change(req)
            .await
            .expect("PlanResourceChange: gRPC OK")
            .into_inner()
            .diagnostics
    })
}

/// A create apply (null prior, valid planned state and config) with one field replaced by `set`.
fn apply_with(mut c: Rpc, set: impl FnOnce(&mut pb::apply_resource_change::Request)) -> Diags {
    let mut req = pb::apply_resource_change::Request {
        type_name: INSTANCE.into(),
        prior_state: null_instance(),
        planned_state: ok(),
        config: ok(),
        ..Default::default()
    };
    set(&mut req);
    Box::pin(async move {
        c.apply_resource_change(req)
            .await
            .expect("ApplyResourceChange: gRPC OK")
            .into_inner()
            .diagnostics
    })
}

/// Every value of the table in every value-carrying field of the resource RPCs; provider_meta,
/// which the provider has no schema for and does not decode (Terraform sends none): that call
/// must still answer normally; and a garbage identity (every resource type has an identity
/// schema), which must be answered, the plugin still serving.
#[tokio::test]
async fn garbage_in_resource_values() {
    let started = Instant::now();
    let p = launch().await;
    let mut c = p.provider.clone();
    configure(&mut c).await;
    let values = garbage::dynamic_values("name");
    let seen = run(&c, RESOURCE_SINKS, &values).await;
    for (variant, bad) in &values {
        let g = Some(bad.clone());
        let r = c
            .read_resource(pb::read_resource::Request {
                type_name: INSTANCE.into(),
                current_state: null_instance(),
                provider_meta: g.clone(),
                ..Default::default()
            })
            .await
            .expect("ReadResource(provider_meta): gRPC OK")
            .into_inner();
        assert_no_errors(
            &format!("ReadResource/null state [{variant}]"),
            &r.diagnostics,
        );
        c.read_resource(pb::read_resource::Request {
            type_name: INSTANCE.into(),
            current_state: null_instance(),
            current_identity: Some(pb::ResourceIdentityData { identity_data: g }),
            ..Default::default()
        })
        .await
        .expect("ReadResource(identity): gRPC OK");
    }
    report("garbage_in_resource_values", p, &seen, 14 * 9, started).await;
}

/// The value-carrying fields of the kinds this provider lacks: they answer "unsupported" before
/// looking at the value.
const OTHER_KIND_SINKS: &[Sink] = &[
    ("ValidateDataResourceConfig", false, |mut c, g| {
        Box::pin(async move {
            c.validate_data_resource_config(pb::validate_data_resource_config::Request {
                type_name: INSTANCE.into(),
                config: g,
            })
            .await
            .expect("ValidateDataResourceConfig: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("ReadDataSource", false, |mut c, g| {
        Box::pin(async move {
            c.read_data_source(pb::read_data_source::Request {
                type_name: INSTANCE.into(),
                config: g,
                ..Default::default()
            })
            .await
            .expect("ReadDataSource: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("ValidateEphemeralResourceConfig", false, |mut c, g| {
        Box::pin(async move {
            c.validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
                type_name: INSTANCE.into(),
                config: g,
            })
            .await
            .expect("ValidateEphemeralResourceConfig: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("OpenEphemeralResource", false, |mut c, g| {
        Box::pin(async move {
            c.open_ephemeral_resource(pb::open_ephemeral_resource::Request {
                type_name: INSTANCE.into(),
                config: g,
                client_capabilities: None,
            })
            .await
            .expect("OpenEphemeralResource: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("ValidateListResourceConfig", false, |mut c, g| {
        Box::pin(async move {
            c.validate_list_resource_config(pb::validate_list_resource_config::Request {
                type_name: INSTANCE.into(),
                config: g.clone(),
                include_resource_object: g.clone(),
                limit: g,
            })
            .await
            .expect("ValidateListResourceConfig: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("ListResource", false, |mut c, g| {
        Box::pin(async move {
            let mut ls = c
                .list_resource(pb::list_resource::Request {
                    type_name: INSTANCE.into(),
                    config: g,
                    include_resource_object: false,
                    limit: 1,
                })
                .await
                .expect("ListResource: gRPC OK")
                .into_inner();
            ls.message()
                .await
                .expect("ListResource event")
                .expect("one event")
                .diagnostic
        })
    }),
    ("ValidateStateStoreConfig", false, |mut c, g| {
        Box::pin(async move {
            c.validate_state_store_config(pb::validate_state_store::Request {
                type_name: "clouddb_state".into(),
                config: g,
            })
            .await
            .expect("ValidateStateStoreConfig: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("ConfigureStateStore", false, |mut c, g| {
        Box::pin(async move {
            c.configure_state_store(pb::configure_state_store::Request {
                type_name: "clouddb_state".into(),
                config: g,
                capabilities: None,
            })
            .await
            .expect("ConfigureStateStore: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("ValidateActionConfig", false, |mut c, g| {
        Box::pin(async move {
            c.validate_action_config(pb::validate_action_config::Request {
                type_name: "clouddb_failover".into(),
                config: g,
            })
            .await
            .expect("ValidateActionConfig: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("PlanAction", false, |mut c, g| {
        Box::pin(async move {
            c.plan_action(pb::plan_action::Request {
                action_type: "clouddb_failover".into(),
                config: g,
                client_capabilities: None,
            })
            .await
            .expect("PlanAction: gRPC OK")
            .into_inner()
            .diagnostics
        })
    }),
    ("InvokeAction", false, |mut c, g| {
        Box::pin(async move {
            let mut ia = c
                .invoke_action(pb::invoke_action::Request {
                    action_type: "clouddb_failover".into(),
                    config: g,
                    client_capabilities: None,
                })
                .await
                .expect("InvokeAction: gRPC OK")
                .into_inner();
            match ia.message().await.expect("InvokeAction event") {
                Some(pb::invoke_action::Event {
                    r#type: Some(pb::invoke_action::event::Type::Completed(done)),
                }) => done.diagnostics,
                other => panic!("InvokeAction: {other:?}"),
            }
        })
    }),
];

/// Every value of the table in every value-carrying field of the kinds this provider lacks; and as
/// a function argument, which is a function error (no result).
#[tokio::test]
async fn garbage_in_other_kinds() {
    let started = Instant::now();
    let p = launch().await;
    let mut c = p.provider.clone();
    configure(&mut c).await;
    let values = garbage::dynamic_values("name");
    let seen = run(&c, OTHER_KIND_SINKS, &values).await;
    for (variant, bad) in &values {
        let f = c
            .call_function(pb::call_function::Request {
                name: "parse_endpoint".into(),
                arguments: vec![bad.clone()],
            })
            .await
            .expect("CallFunction: gRPC OK")
            .into_inner();
        assert!(
            f.error.is_some() && f.result.is_none(),
            "CallFunction [{variant}]"
        );
        // A function the provider has: the error points at the argument that could not be read.
        let f = c
            .call_function(pb::call_function::Request {
                name: "parse_tier".into(),
                arguments: vec![bad.clone()],
            })
            .await
            .expect("CallFunction: gRPC OK")
            .into_inner();
        assert!(
            f.result.is_none() && f.error.is_some_and(|e| e.function_argument == Some(0)),
            "CallFunction parse_tier [{variant}]"
        );
    }
    report("garbage_in_other_kinds", p, &seen, 14 * 11, started).await;
}

/// Stored state, identity and private bytes that cannot be read.
#[tokio::test]
async fn garbage_in_stored_state_and_private() {
    let started = Instant::now();
    let p = launch().await;
    let mut c = p.provider.clone();
    configure(&mut c).await;
    let ity = instance_ty();
    let mut seen: Vec<Seen> = Vec::new();
    for (variant, bytes) in garbage::stored_states() {
        for version in [0, 1] {
            let r = c
                .upgrade_resource_state(pb::upgrade_resource_state::Request {
                    type_name: INSTANCE.into(),
                    version,
                    raw_state: raw_state_json(bytes.clone()),
                })
                .await
                .expect("UpgradeResourceState: gRPC OK")
                .into_inner();
            seen.push((
                format!("UpgradeResourceState v{version} [{variant}]"),
                r.diagnostics,
                false,
            ));
        }
        let r = c
            .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
                type_name: INSTANCE.into(),
                version: 0,
                raw_identity: raw_state_json(bytes.clone()),
            })
            .await
            .expect("UpgradeResourceIdentity: gRPC OK")
            .into_inner();
        seen.push((
            format!("UpgradeResourceIdentity [{variant}]"),
            r.diagnostics,
            false,
        ));
        let r = c
            .move_resource_state(pb::move_resource_state::Request {
                source_provider_address: "registry.terraform.io/other/other".into(),
                source_type_name: "other_db".into(),
                source_state: raw_state_json(bytes),
                target_type_name: INSTANCE.into(),
                ..Default::default()
            })
            .await
            .expect("MoveResourceState: gRPC OK")
            .into_inner();
        seen.push((
            format!("MoveResourceState [{variant}]"),
            r.diagnostics,
            false,
        ));
    }
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 1,
            raw_state: raw_state_flatmap([
                ("name", "proto-flat"),
                ("tier", "db-small"),
                ("storage_gb", "lots"),
            ]),
        })
        .await
        .expect("UpgradeResourceState: gRPC OK")
        .into_inner();
    seen.push((
        "UpgradeResourceState flatmap [bad number]".into(),
        r.diagnostics,
        false,
    ));
    let state = {
        let mut s = instance_config("proto-garbage", "db-small");
        s.set_attr("id", Value::from("proto-garbage"));
        s
    };
    let junk = garbage::private_bytes();
    let r = c
        .read_resource(pb::read_resource::Request {
            type_name: INSTANCE.into(),
            current_state: dynamic_value(&ity, &state),
            private: junk.clone(),
            ..Default::default()
        })
        .await
        .expect("ReadResource: gRPC OK")
        .into_inner();
    seen.push(("ReadResource/private".into(), r.diagnostics, false));
    let r = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: INSTANCE.into(),
            prior_state: dynamic_value(&ity, &state),
            proposed_new_state: dynamic_value(&ity, &state),
            config: ok(),
            prior_private: junk.clone(),
            ..Default::default()
        })
        .await
        .expect("PlanResourceChange: gRPC OK")
        .into_inner();
    seen.push((
        "PlanResourceChange/prior_private".into(),
        r.diagnostics,
        false,
    ));
    let r = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: INSTANCE.into(),
            prior_state: dynamic_value(&ity, &state),
            planned_state: null_instance(),
            config: null_instance(),
            planned_private: junk,
            ..Default::default()
        })
        .await
        .expect("ApplyResourceChange: gRPC OK")
        .into_inner();
    seen.push((
        "ApplyResourceChange/planned_private".into(),
        r.diagnostics,
        false,
    ));
    report(
        "garbage_in_stored_state_and_private",
        p,
        &seen,
        4 * 4 + 1 + 3,
        started,
    )
    .await;
}
