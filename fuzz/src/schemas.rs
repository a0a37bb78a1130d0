//! The schema types the targets decode against: the provider's real ones (as cty type JSON,
//! copied from `schema().implied_type()`; `cargo test` in this crate checks they parse) and
//! a few that reach every codec path (dynamic, tuples, nested sets, maps of lists).

use crate::value::{Type, type_json};
use std::sync::OnceLock;

/// `clouddb_instance` (schema version 1): `terraform-provider-clouddb`'s
/// `resources::instance::schema().implied_type()`.
pub const CLOUDDB_INSTANCE: &str = r#"["object",{"admin_password":"string","admin_username":"string","allow_major_version_upgrade":"bool","backup":["object",{"enabled":"bool","retention_days":"number","start_time":"string"}],"created_at":"string","deletion_protection":"bool","endpoint_host":"string","endpoint_port":"number","engine":"string","engine_version":"string","engine_version_actual":"string","final_backup_name":"string","high_availability":"bool","id":"string","labels":["map","string"],"name":"string","skip_final_backup":"bool","state":"string","storage_gb":"number","tier":"string","timeouts":["object",{"create":"string","delete":"string","update":"string"}]}]"#;

/// The provider configuration (`CloudDbProvider::schema().implied_type()`).
pub const CLOUDDB_PROVIDER: &str = r#"["object",{"endpoint":"string","max_retries":"number","poll_interval":"string","project":"string","request_timeout":"string","token":"string"}]"#;

/// `clouddb_instance` state as schema version 0 stored it (flat backup and endpoint
/// attributes), the input of its state upgrader.
pub const CLOUDDB_INSTANCE_V0: &str = r#"["object",{"admin_password":"string","admin_username":"string","backup_enabled":"bool","backup_retention_days":"number","backup_start_time":"string","created_at":"string","deletion_protection":"bool","endpoint":"string","engine":"string","engine_version":"string","high_availability":"bool","id":"string","labels":["map","string"],"name":"string","state":"string","storage_gb":"number","tier":"string"}]"#;

/// The type of the Terraform 1.11.4 `DynamicValue` vector in tfplugin's msgpack tests.
pub const VECTOR: &str = r#"["object",{"computed_num":"number","dyn":"dynamic","id":"string","items":["set","string"],"name":"string","rule":["list",["object",{"port":"number"}]],"secret":"string","tags":["map","string"]}]"#;

/// Every container kind nested in every other, with a dynamic slot and a tuple.
pub const NESTED: &str = r#"["object",{"d":"dynamic","l":["list",["list","string"]],"m":["map",["list","number"]],"n":"number","rules":["set",["object",{"cidr":"string","ports":["set","number"],"tags":["map","string"]}]],"t":["tuple",["string","bool",["set","string"]]]}]"#;

/// The schema types, selected by a target's first input byte (modulo their count).
pub fn all() -> &'static [Type] {
    static TYPES: OnceLock<Vec<Type>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let mut v: Vec<Type> = [
            CLOUDDB_INSTANCE,
            CLOUDDB_PROVIDER,
            CLOUDDB_INSTANCE_V0,
            VECTOR,
            NESTED,
        ]
        .iter()
        .map(|j| type_json::from_bytes(j.as_bytes()).expect("schema type JSON"))
        .collect();
        v.extend([
            Type::Dynamic,
            Type::set(Type::String),
            Type::list(Type::Number),
        ]);
        v
    })
}

/// Index of each type in [`all`], for seeds.
pub mod idx {
    pub const INSTANCE: u8 = 0;
    pub const PROVIDER: u8 = 1;
    pub const INSTANCE_V0: u8 = 2;
    pub const VECTOR: u8 = 3;
    pub const NESTED: u8 = 4;
    pub const DYNAMIC: u8 = 5;
    pub const SET_OF_STRING: u8 = 6;
    pub const LIST_OF_NUMBER: u8 = 7;
}

/// The type a selector byte picks.
pub fn pick(sel: u8) -> &'static Type {
    let all = all();
    &all[usize::from(sel) % all.len()]
}

/// Attribute count of the widest object type anywhere in `ty` (0 without objects).
pub fn max_object_width(ty: &Type) -> usize {
    match ty {
        Type::Object(o) => o
            .attrs
            .values()
            .map(max_object_width)
            .max()
            .unwrap_or(0)
            .max(o.attrs.len()),
        Type::List(t) | Type::Set(t) | Type::Map(t) => max_object_width(t),
        Type::Tuple(ts) => ts.iter().map(max_object_width).max().unwrap_or(0),
        _ => 0,
    }
}
