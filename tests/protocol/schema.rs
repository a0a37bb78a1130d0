//! GetMetadata, GetProviderSchema, GetResourceIdentitySchemas.

use tfplugin::proto::tfplugin6 as pb;
use tfplugin::testing::diagnostics::assert_no_errors;

use crate::{INSTANCE, launch, shutdown_cleanly};

/// The resource types, in the order GetMetadata lists them (by name).
const RESOURCES: [&str; 6] = [
    "clouddb_backup",
    "clouddb_database",
    "clouddb_db_instance",
    "clouddb_firewall_rule",
    INSTANCE,
    "clouddb_user",
];
/// The list resource types: every managed type but the deprecated alias.
const LIST_RESOURCES: [&str; 5] = [
    "clouddb_backup",
    "clouddb_database",
    "clouddb_firewall_rule",
    INSTANCE,
    "clouddb_user",
];
/// The action types, by name.
const ACTIONS: [&str; 3] = [
    "clouddb_backup_now",
    "clouddb_instance_failover",
    "clouddb_instance_restart",
];
/// The data source types, by name.
const DATA_SOURCES: [&str; 5] = [
    "clouddb_backups",
    "clouddb_engine_versions",
    INSTANCE,
    "clouddb_instances",
    "clouddb_tiers",
];

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
    assert_eq!(names, RESOURCES);
    let data: Vec<&str> = m
        .data_sources
        .iter()
        .map(|d| d.type_name.as_str())
        .collect();
    assert_eq!(data, DATA_SOURCES);
    let lists: Vec<&str> = m
        .list_resources
        .iter()
        .map(|l| l.type_name.as_str())
        .collect();
    assert_eq!(lists, LIST_RESOURCES);
    let ephemeral: Vec<&str> = m
        .ephemeral_resources
        .iter()
        .map(|e| e.type_name.as_str())
        .collect();
    assert_eq!(ephemeral, ["clouddb_credentials"]);
    let mut functions: Vec<&str> = m.functions.iter().map(|f| f.name.as_str()).collect();
    functions.sort_unstable();
    assert_eq!(functions, ["connection_uri", "parse_tier"]);
    assert!(m.state_stores.is_empty());
    let mut actions: Vec<&str> = m.actions.iter().map(|a| a.type_name.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(actions, ACTIONS);
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
    let mut data: Vec<&str> = s.data_source_schemas.keys().map(String::as_str).collect();
    data.sort();
    assert_eq!(data, DATA_SOURCES);
    // The instance data source has the resource's attributes but never its secret.
    let ds = s.data_source_schemas[INSTANCE]
        .block
        .as_ref()
        .expect("data source block");
    assert!(ds.attributes.iter().any(|a| a.name == "name" && a.required));
    assert!(!ds.attributes.iter().any(|a| a.name == "admin_password"));
    // Every managed type can be listed (`terraform query`).
    let mut lists: Vec<&str> = s.list_resource_schemas.keys().map(String::as_str).collect();
    lists.sort_unstable();
    assert_eq!(lists, LIST_RESOURCES);
    let mut functions: Vec<&str> = s.functions.keys().map(String::as_str).collect();
    functions.sort_unstable();
    assert_eq!(functions, ["connection_uri", "parse_tier"]);
    let credentials = s
        .ephemeral_resource_schemas
        .get("clouddb_credentials")
        .and_then(|e| e.block.as_ref())
        .expect("clouddb_credentials schema");
    let password = credentials
        .attributes
        .iter()
        .find(|a| a.name == "password")
        .expect("password attribute");
    assert!(password.sensitive && password.computed);
    assert_eq!(s.ephemeral_resource_schemas.len(), 1);
    assert!(s.state_store_schemas.is_empty());
    let mut actions: Vec<&str> = s.action_schemas.keys().map(String::as_str).collect();
    actions.sort_unstable();
    assert_eq!(actions, ACTIONS);
    let deprecated = s
        .resource_schemas
        .get("clouddb_db_instance")
        .and_then(|r| r.block.as_ref())
        .expect("clouddb_db_instance schema");
    assert!(
        deprecated.deprecated,
        "clouddb_db_instance is not marked deprecated"
    );
    assert!(s.server_capabilities.is_some());
    shutdown_cleanly(p).await;
}

/// Every managed type has a version-0 identity: `project` (optional for import) and the
/// names (required for import).
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
    let mut types: Vec<&str> = ids.identity_schemas.keys().map(String::as_str).collect();
    types.sort_unstable();
    assert_eq!(types, RESOURCES);
    for (ty, names) in [
        (INSTANCE, &["name"][..]),
        ("clouddb_backup", &["name"]),
        ("clouddb_database", &["instance", "name"]),
        ("clouddb_user", &["instance", "name"]),
        ("clouddb_firewall_rule", &["instance", "name"]),
    ] {
        let s = &ids.identity_schemas[ty];
        assert_eq!(s.version, 0, "{ty}");
        let attrs: Vec<(&str, bool, bool)> = s
            .identity_attributes
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.required_for_import,
                    a.optional_for_import,
                )
            })
            .collect();
        let mut want = vec![("project", false, true)];
        want.extend(names.iter().map(|n| (*n, true, false)));
        assert_eq!(attrs, want, "{ty}");
    }
    shutdown_cleanly(p).await;
}
