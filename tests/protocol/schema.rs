//! GetMetadata, GetProviderSchema, GetResourceIdentitySchemas.

use terraform_provider_clouddb::CloudDbProvider;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::provider::Provider;
use tfplugin::testing::diagnostics::assert_no_errors;

use crate::{INSTANCE, launch, shutdown_cleanly};

#[tokio::test]
async fn get_metadata() {
    let p = launch().await;
    let m = p
        .provider
        .clone()
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("GetMetadata")
        .into_inner();
    assert_no_errors("GetMetadata", &m.diagnostics);
    let names: Vec<&str> = m.resources.iter().map(|r| r.type_name.as_str()).collect();
    // every resource type the provider registers, in name order
    let mut want: Vec<&str> = CloudDbProvider::new()
        .resources()
        .iter()
        .map(|r| r.type_name())
        .collect();
    want.sort_unstable();
    assert_eq!(names, want);
    assert!(names.contains(&INSTANCE));
    assert!(m.data_sources.is_empty() && m.ephemeral_resources.is_empty());
    assert!(m.functions.is_empty() && m.list_resources.is_empty());
    assert!(m.state_stores.is_empty() && m.actions.is_empty());
    let caps = m.server_capabilities.expect("server capabilities");
    assert!(caps.get_provider_schema_optional);
    shutdown_cleanly(p).await;
}

#[tokio::test]
async fn get_provider_schema() {
    let p = launch().await;
    let s = p
        .provider
        .clone()
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    assert_no_errors("GetProviderSchema", &s.diagnostics);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let provider = s.provider.as_ref().and_then(|p| p.block.as_ref());
    let provider = provider.expect("provider schema block");
    let pattr = |n: &str| {
        provider
            .attributes
            .iter()
            .find(|a| a.name == n)
            .unwrap_or_else(|| panic!("provider attribute {n} missing"))
    };
    for (n, ty) in [
        ("endpoint", "\"string\""),
        ("token", "\"string\""),
        ("project", "\"string\""),
        ("request_timeout", "\"string\""),
        ("max_retries", "\"number\""),
    ] {
        let a = pattr(n);
        assert!(a.optional && !a.required && !a.computed, "{n}: {a:?}");
        assert_eq!(String::from_utf8_lossy(&a.r#type), ty, "{n}");
        assert!(!a.description.is_empty(), "{n} has a description");
        assert_eq!(a.sensitive, n == "token", "only token is sensitive ({n})");
    }
    let inst = &s.resource_schemas[INSTANCE];
    assert_eq!(inst.version, 1);
    let block = inst.block.as_ref().expect("instance block");
    let rattr = |n: &str| {
        block
            .attributes
            .iter()
            .find(|a| a.name == n)
            .unwrap_or_else(|| panic!("clouddb_instance attribute {n} missing"))
    };
    assert!(rattr("name").required);
    // tier and storage_gb have defaults (db-small, 20 GB): optional and computed.
    for n in ["tier", "storage_gb"] {
        assert!(
            rattr(n).optional && rattr(n).computed && !rattr(n).required,
            "{n}"
        );
    }
    assert!(rattr("id").computed && !rattr("id").optional);
    assert!(rattr("engine").optional && rattr("engine").computed);
    assert!(rattr("admin_password").sensitive);
    assert_eq!(
        String::from_utf8_lossy(&rattr("labels").r#type),
        r#"["map","string"]"#
    );
    let backup = rattr("backup")
        .nested_type
        .as_ref()
        .expect("backup is a nested attribute");
    assert_eq!(
        backup.nesting,
        pb::schema::object::NestingMode::Single as i32
    );
    let timeouts = block
        .block_types
        .iter()
        .find(|b| b.type_name == "timeouts")
        .expect("timeouts block");
    let tnames: Vec<&str> = timeouts
        .block
        .as_ref()
        .map(|b| b.attributes.iter().map(|a| a.name.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(tnames, vec!["create", "update", "delete"]);
    assert!(s.data_source_schemas.is_empty() && s.functions.is_empty());
    assert!(s.ephemeral_resource_schemas.is_empty() && s.list_resource_schemas.is_empty());
    assert!(s.state_store_schemas.is_empty() && s.action_schemas.is_empty());
    assert!(s.server_capabilities.is_some());
    shutdown_cleanly(p).await;
}

/// clouddb_instance has no identity → the empty answer.
#[tokio::test]
async fn get_resource_identity_schemas() {
    let p = launch().await;
    let ids = p
        .provider
        .clone()
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("GetResourceIdentitySchemas")
        .into_inner();
    assert_no_errors("GetResourceIdentitySchemas", &ids.diagnostics);
    assert!(
        ids.identity_schemas.is_empty(),
        "{:?}",
        ids.identity_schemas
    );
    shutdown_cleanly(p).await;
}
