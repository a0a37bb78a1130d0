//! The resource RPCs of `clouddb_instance`, with real creates, updates and deletes against a
//! `clouddb-server` where they need an instance.

use serde_json::json;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::testing::diagnostics::{
    assert_no_errors, assert_unsupported, error_attributes, errors, path_first_attribute,
};
use tfplugin::testing::requests;
use tfplugin::testing::values::{
    decode, decode_identity, dynamic_value, raw_state_flatmap, raw_state_json,
};
use tfplugin::value::Value;

use crate::{Cloud, INSTANCE, apply, instance_config, instance_ty, launch, plan, shutdown_cleanly};

/// A valid configuration, one with a bad name and tier (both named), an unknown resource type.
#[tokio::test]
async fn validate_resource_config() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let ity = instance_ty();
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: INSTANCE.into(),
            config: dynamic_value(&ity, &instance_config("proto-db", "db-small")),
            client_capabilities: None,
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    assert_no_errors("ValidateResourceConfig", &v.diagnostics);
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: INSTANCE.into(),
            config: dynamic_value(&ity, &instance_config("Bad_Name", "db-huge")),
            client_capabilities: None,
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    assert_eq!(
        error_attributes(&v.diagnostics),
        vec!["name", "tier"],
        "{:?}",
        v.diagnostics
    );
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "clouddb_nope".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    assert_unsupported(
        "ValidateResourceConfig(unknown type)",
        &v.diagnostics,
        "resource type",
        "clouddb_nope",
    );
    shutdown_cleanly(p).await;
}

/// Create (unknowns, defaults), no-op, in-place update, replacement on `name`.
#[tokio::test]
async fn plan_resource_change() {
    let mut cl = Cloud::start().await;
    let ity = instance_ty();
    let name = "proto-db";
    let cfg = instance_config(name, "db-small");
    let pl = plan(&mut cl.c, &Value::Null, &cfg, Vec::new()).await;
    assert_no_errors("PlanResourceChange(create)", &pl.diagnostics);
    let planned = decode(&ity, &pl.planned_state);
    assert!(planned.get("id").is_unknown() && planned.get("endpoint_host").is_unknown());
    assert_eq!(planned.get("engine").as_str(), Some("mysql"), "default");
    assert!(pl.requires_replace.is_empty());

    let (state, private) = cl.create(&cfg).await;
    let pl = plan(&mut cl.c, &state, &cfg, private.clone()).await;
    assert_no_errors("PlanResourceChange(no-op)", &pl.diagnostics);
    assert_eq!(decode(&ity, &pl.planned_state), state, "no-op plan");
    let cfg2 = instance_config(name, "db-standard-2");
    let pl = plan(&mut cl.c, &state, &cfg2, private.clone()).await;
    assert_no_errors("PlanResourceChange(update)", &pl.diagnostics);
    assert!(pl.requires_replace.is_empty(), "tier changes in place");
    let planned = decode(&ity, &pl.planned_state);
    assert_eq!(planned.get("tier").as_str(), Some("db-standard-2"));
    // A name change requires replacement, on `name`.
    let pl = plan(
        &mut cl.c,
        &state,
        &instance_config("proto-db-2", "db-small"),
        private.clone(),
    )
    .await;
    assert_no_errors("PlanResourceChange(replace)", &pl.diagnostics);
    let rr: Vec<String> = pl
        .requires_replace
        .iter()
        .filter_map(path_first_attribute)
        .collect();
    assert_eq!(rr, vec!["name"]);
    cl.delete(&state, private).await;
    cl.finish().await;
}

/// A real create, in-place update and delete, each checked on the server.
#[tokio::test]
async fn apply_resource_change() {
    let mut cl = Cloud::start().await;
    let ity = instance_ty();
    let name = "proto-db";
    let cfg = instance_config(name, "db-small");
    let pl = plan(&mut cl.c, &Value::Null, &cfg, Vec::new()).await;
    assert_no_errors("PlanResourceChange(create)", &pl.diagnostics);
    let planned = decode(&ity, &pl.planned_state);
    let ap = apply(
        &mut cl.c,
        &Value::Null,
        &planned,
        &cfg,
        pl.planned_private.clone(),
    )
    .await;
    assert_no_errors("ApplyResourceChange(create)", &ap.diagnostics);
    let state = decode(&ity, &ap.new_state);
    assert!(state.is_wholly_known(), "{state:?}");
    assert_eq!(state.get("id").as_str(), Some(name));
    assert_eq!(state.get("state").as_str(), Some("READY"));
    assert!(state.get("endpoint_port").as_i64().is_some_and(|p| p > 0));
    let on_server = cl
        .api
        .get_instance(name)
        .await
        .expect("GET")
        .expect("created");
    assert_eq!(on_server.tier, "db-small");

    let cfg2 = instance_config(name, "db-standard-2");
    let pl = plan(&mut cl.c, &state, &cfg2, ap.private.clone()).await;
    assert_no_errors("PlanResourceChange(update)", &pl.diagnostics);
    let planned = decode(&ity, &pl.planned_state);
    let ap = apply(
        &mut cl.c,
        &state,
        &planned,
        &cfg2,
        pl.planned_private.clone(),
    )
    .await;
    assert_no_errors("ApplyResourceChange(update)", &ap.diagnostics);
    let state = decode(&ity, &ap.new_state);
    assert_eq!(state.get("tier").as_str(), Some("db-standard-2"));
    let on_server = cl
        .api
        .get_instance(name)
        .await
        .expect("GET")
        .expect("exists");
    assert_eq!(on_server.tier, "db-standard-2");

    // Delete (planned null).
    let gone = apply(
        &mut cl.c,
        &state,
        &Value::Null,
        &Value::Null,
        ap.private.clone(),
    )
    .await;
    assert_no_errors("ApplyResourceChange(delete)", &gone.diagnostics);
    assert!(decode(&ity, &gone.new_state).is_null());
    assert!(
        cl.api.get_instance(name).await.expect("GET").is_none(),
        "deleted on the server"
    );
    cl.finish().await;
}

/// An existing instance reads back unchanged; a deleted one reads as null.
#[tokio::test]
async fn read_resource() {
    let mut cl = Cloud::start().await;
    let ity = instance_ty();
    let (state, private) = cl.create(&instance_config("proto-db", "db-small")).await;
    let r =
        cl.c.read_resource(requests::read(INSTANCE, &ity, &state, private))
            .await
            .expect("ReadResource")
            .into_inner();
    assert_no_errors("ReadResource", &r.diagnostics);
    assert_eq!(decode(&ity, &r.new_state), state);
    cl.delete(&state, r.private).await;
    // Reading a deleted instance answers a null state (Terraform plans a create). Without the
    // private creation time: a 404 within a minute of the create is retried for 15 s as eventual
    // consistency.
    let r =
        cl.c.read_resource(requests::read(INSTANCE, &ity, &state, Vec::new()))
            .await
            .expect("ReadResource")
            .into_inner();
    assert_no_errors("ReadResource(gone)", &r.diagnostics);
    assert!(decode(&ity, &r.new_state).is_null());
    cl.finish().await;
}

/// Import by name; importing a missing instance fails.
#[tokio::test]
async fn import_resource_state() {
    let mut cl = Cloud::start().await;
    let ity = instance_ty();
    let name = "proto-db";
    let (state, private) = cl.create(&instance_config(name, "db-standard-2")).await;
    let im =
        cl.c.import_resource_state(pb::import_resource_state::Request {
            type_name: INSTANCE.into(),
            id: name.into(),
            ..Default::default()
        })
        .await
        .expect("ImportResourceState")
        .into_inner();
    assert_no_errors("ImportResourceState", &im.diagnostics);
    assert_eq!(im.imported_resources.len(), 1);
    assert_eq!(im.imported_resources[0].type_name, INSTANCE);
    let imported = decode(&ity, &im.imported_resources[0].state);
    assert_eq!(imported.get("name").as_str(), Some(name));
    assert_eq!(imported.get("tier").as_str(), Some("db-standard-2"));
    let im =
        cl.c.import_resource_state(pb::import_resource_state::Request {
            type_name: INSTANCE.into(),
            id: "proto-missing".into(),
            ..Default::default()
        })
        .await
        .expect("ImportResourceState")
        .into_inner();
    assert!(
        !errors(&im.diagnostics).is_empty(),
        "importing a missing instance fails"
    );
    assert!(im.imported_resources.is_empty());
    cl.delete(&state, private).await;
    cl.finish().await;
}

/// Configuration generated from a real state: computed-only attributes dropped.
#[tokio::test]
async fn generate_resource_config() {
    let mut cl = Cloud::start().await;
    let ity = instance_ty();
    let name = "proto-db";
    let (state, private) = cl.create(&instance_config(name, "db-small")).await;
    let g =
        cl.c.generate_resource_config(pb::generate_resource_config::Request {
            type_name: INSTANCE.into(),
            state: dynamic_value(&ity, &state),
        })
        .await
        .expect("GenerateResourceConfig")
        .into_inner();
    assert_no_errors("GenerateResourceConfig", &g.diagnostics);
    let gen_cfg = decode(&ity, &g.config);
    assert_eq!(gen_cfg.get("name").as_str(), Some(name));
    assert!(gen_cfg.get("id").is_null() && gen_cfg.get("endpoint_host").is_null());
    cl.delete(&state, private).await;
    cl.finish().await;
}

/// clouddb_instance does not accept moves; an unknown target type is unsupported.
#[tokio::test]
async fn move_resource_state() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let mv = c
        .move_resource_state(pb::move_resource_state::Request {
            source_provider_address: "registry.terraform.io/other/other".into(),
            source_type_name: "other_db".into(),
            source_schema_version: 0,
            source_state: raw_state_json(&br#"{"id":"x"}"#[..]),
            target_type_name: INSTANCE.into(),
            ..Default::default()
        })
        .await
        .expect("MoveResourceState")
        .into_inner();
    assert_eq!(errors(&mv.diagnostics).len(), 1, "{:?}", mv.diagnostics);
    let mv = c
        .move_resource_state(pb::move_resource_state::Request {
            target_type_name: "clouddb_nope".into(),
            ..Default::default()
        })
        .await
        .expect("MoveResourceState")
        .into_inner();
    assert_unsupported(
        "MoveResourceState(unknown)",
        &mv.diagnostics,
        "resource type",
        "clouddb_nope",
    );
    shutdown_cleanly(p).await;
}

/// JSON v0 → v1, JSON v1, flatmap v1, a newer version refused.
#[tokio::test]
async fn upgrade_resource_state() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let ity = instance_ty();
    let name = "proto-db";
    let v0 = json!({
        "id": name, "name": name, "engine": "mysql", "engine_version": "8.0", "tier": "db-small",
        "storage_gb": "20", "high_availability": false, "admin_username": "dbadmin", "admin_password": null,
        "labels": {"suite": "protocol"}, "deletion_protection": false, "backup_enabled": true,
        "backup_start_time": "02:30", "backup_retention_days": 14, "endpoint": "proto-db.internal:3306",
        "state": "READY", "created_at": "2025-01-01T00:00:00Z", "timeouts": null
    });
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 0,
            raw_state: raw_state_json(v0.to_string()),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    assert_no_errors("UpgradeResourceState(v0 JSON)", &up.diagnostics);
    let u = decode(&ity, &up.upgraded_state);
    assert_eq!(u.get("backup").get("retention_days").as_i64(), Some(14));
    assert_eq!(u.get("backup").get("start_time").as_str(), Some("02:30"));
    assert_eq!(u.get("endpoint_host").as_str(), Some("proto-db.internal"));
    assert_eq!(u.get("endpoint_port").as_i64(), Some(3306));
    assert_eq!(u.get("storage_gb").as_i64(), Some(20));
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 1,
            raw_state: raw_state_json(
                json!({"id": name, "name": name, "tier": "db-small", "storage_gb": 20,
                       "backup": {"enabled": true, "start_time": "01:00", "retention_days": 7},
                       "no_longer_in_schema": 1})
                .to_string(),
            ),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    assert_no_errors("UpgradeResourceState(v1 JSON)", &up.diagnostics);
    assert_eq!(
        decode(&ity, &up.upgraded_state)
            .get("backup")
            .get("start_time")
            .as_str(),
        Some("01:00")
    );
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 1,
            raw_state: raw_state_flatmap([
                ("id", "proto-flat"),
                ("name", "proto-flat"),
                ("tier", "db-small"),
                ("storage_gb", "30"),
                ("high_availability", "true"),
                ("labels.%", "1"),
                ("labels.team", "core"),
            ]),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    assert_no_errors("UpgradeResourceState(flatmap)", &up.diagnostics);
    let u = decode(&ity, &up.upgraded_state);
    assert_eq!(u.get("storage_gb").as_i64(), Some(30));
    assert_eq!(u.get("high_availability").as_bool(), Some(true));
    assert_eq!(u.get("labels").get("team").as_str(), Some("core"));
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: INSTANCE.into(),
            version: 2,
            raw_state: raw_state_json(&b"{}"[..]),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    assert_eq!(
        errors(&up.diagnostics).len(),
        1,
        "state from a newer provider is refused"
    );
    shutdown_cleanly(p).await;
}

/// Identity schema version 0: a stored version-0 identity comes back as it is; another
/// version cannot be upgraded (there is no older one).
#[tokio::test]
async fn upgrade_resource_identity() {
    let p = launch().await;
    let mut c = p.provider.clone();
    let ui = c
        .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: INSTANCE.into(),
            version: 0,
            raw_identity: raw_state_json(&br#"{"project":"proj1","name":"proto-db"}"#[..]),
        })
        .await
        .expect("UpgradeResourceIdentity")
        .into_inner();
    assert_no_errors("UpgradeResourceIdentity", &ui.diagnostics);
    let ty = tfplugin::value::Type::object([
        ("project", tfplugin::value::Type::String),
        ("name", tfplugin::value::Type::String),
    ]);
    assert_eq!(
        decode_identity(&ty, &ui.upgraded_identity),
        Some(Value::object([
            ("project", Value::from("proj1")),
            ("name", Value::from("proto-db")),
        ]))
    );
    let newer = c
        .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: INSTANCE.into(),
            version: 1,
            raw_identity: raw_state_json(&br#"{"project":"proj1","name":"proto-db"}"#[..]),
        })
        .await
        .expect("UpgradeResourceIdentity")
        .into_inner();
    assert_eq!(
        errors(&newer.diagnostics).len(),
        1,
        "{:?}",
        newer.diagnostics
    );
    shutdown_cleanly(p).await;
}
