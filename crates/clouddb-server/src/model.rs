//! Wire types, the catalogue (engine versions, tiers) and validation rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, FieldViolation};
use crate::util::fnv64;

/// One engine version of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct EngineVersion {
    pub engine: &'static str,
    pub version: &'static str,
    pub actual: &'static str,
    pub default: bool,
}

pub const ENGINE_VERSIONS: &[EngineVersion] = &[
    EngineVersion {
        engine: "mysql",
        version: "5.7",
        actual: "5.7.44",
        default: false,
    },
    EngineVersion {
        engine: "mysql",
        version: "8.0",
        actual: "8.0.36",
        default: true,
    },
    EngineVersion {
        engine: "mysql",
        version: "8.4",
        actual: "8.4.2",
        default: false,
    },
    EngineVersion {
        engine: "postgres",
        version: "14",
        actual: "14.12",
        default: false,
    },
    EngineVersion {
        engine: "postgres",
        version: "15",
        actual: "15.7",
        default: false,
    },
    EngineVersion {
        engine: "postgres",
        version: "16",
        actual: "16.3",
        default: true,
    },
    EngineVersion {
        engine: "postgres",
        version: "17",
        actual: "17.0",
        default: false,
    },
];

/// One machine tier.
#[derive(Debug, Clone, Copy)]
pub struct Tier {
    pub name: &'static str,
    pub vcpus: u32,
    pub memory_gb: u32,
    pub max_storage_gb: u64,
}

pub const TIERS: &[Tier] = &[
    Tier {
        name: "db-micro",
        vcpus: 1,
        memory_gb: 1,
        max_storage_gb: 100,
    },
    Tier {
        name: "db-small",
        vcpus: 2,
        memory_gb: 4,
        max_storage_gb: 500,
    },
    Tier {
        name: "db-standard-2",
        vcpus: 2,
        memory_gb: 8,
        max_storage_gb: 2000,
    },
    Tier {
        name: "db-standard-4",
        vcpus: 4,
        memory_gb: 16,
        max_storage_gb: 4000,
    },
    Tier {
        name: "db-highmem-8",
        vcpus: 8,
        memory_gb: 64,
        max_storage_gb: 16000,
    },
];

pub const ENGINES: &[&str] = &["mysql", "postgres"];
pub const MIN_STORAGE_GB: u64 = 10;

pub fn find_tier(name: &str) -> Option<&'static Tier> {
    TIERS.iter().find(|t| t.name == name)
}

pub fn find_version(engine: &str, version: &str) -> Option<&'static EngineVersion> {
    ENGINE_VERSIONS
        .iter()
        .find(|v| v.engine == engine && v.version == version)
}

pub fn default_version(engine: &str) -> Option<&'static EngineVersion> {
    ENGINE_VERSIONS
        .iter()
        .find(|v| v.engine == engine && v.default)
}

/// Numeric components of a version string ("8.0" -> [8, 0]).
pub fn version_parts(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Major version: the first dotted component.
pub fn major(v: &str) -> u64 {
    version_parts(v).first().copied().unwrap_or(0)
}

pub fn default_port(engine: &str) -> u16 {
    if engine == "postgres" { 5432 } else { 3306 }
}

/// Instance names: `^[a-z][a-z0-9-]{1,61}[a-z0-9]$`.
pub fn valid_instance_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// Names of databases and users: `^[A-Za-z_][A-Za-z0-9_]{0,62}$`.
pub fn valid_sql_name(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=63).contains(&b.len())
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Label keys `^[a-z][a-z0-9_-]{0,62}$`, values `^[A-Za-z0-9_.-]{0,63}$`, at most 64 labels.
pub fn check_labels(labels: &BTreeMap<String, String>, out: &mut Vec<FieldViolation>) {
    if labels.len() > 64 {
        out.push(FieldViolation::new("labels", "at most 64 labels"));
    }
    for (k, v) in labels {
        let kb = k.as_bytes();
        let key_ok = (1..=63).contains(&kb.len())
            && kb[0].is_ascii_lowercase()
            && kb
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if !key_ok {
            out.push(FieldViolation::new(
                format!("labels.{k}"),
                "label keys must match ^[a-z][a-z0-9_-]{0,62}$",
            ));
        }
        let val_ok = v.len() <= 63
            && v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.');
        if !val_ok {
            out.push(FieldViolation::new(
                format!("labels.{k}"),
                "label values must match ^[A-Za-z0-9_.-]{0,63}$",
            ));
        }
    }
}

/// `HH:MM` between 00:00 and 23:59.
pub fn valid_hhmm(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return false;
    }
    let h = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let m = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    h < 24 && m < 60
}

/// IPv4 or IPv6 CIDR (`addr/prefix`).
pub fn valid_cidr(s: &str) -> bool {
    let Some((addr, digits)) = s.split_once('/') else {
        return false;
    };
    // Plain decimal only: no sign, no leading zeros.
    let Ok(prefix) = digits.parse::<u8>() else {
        return false;
    };
    if prefix.to_string() != digits {
        return false;
    }
    if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        prefix <= 32
    } else if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        prefix <= 128
    } else {
        false
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BackupConfig {
    pub enabled: bool,
    pub start_time: String,
    pub retention_days: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            start_time: "03:00".into(),
            retention_days: 7,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

/// The instance as the API shows it (and as it is stored).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Instance {
    pub name: String,
    pub uid: String,
    pub project: String,
    pub engine: String,
    pub engine_version: String,
    pub engine_version_actual: String,
    pub tier: String,
    pub storage_gb: u64,
    pub high_availability: bool,
    pub admin_username: String,
    pub labels: BTreeMap<String, String>,
    pub deletion_protection: bool,
    pub backup: BackupConfig,
    pub endpoint: Endpoint,
    pub state: String,
    pub current_operation: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub etag: String,
}

impl Instance {
    /// Recomputes `etag` from the other fields.
    pub fn refresh_etag(&mut self) {
        self.etag = String::new();
        let body = serde_json::to_vec(self).unwrap_or_default();
        self.etag = format!("\"{:016x}\"", fnv64(&body, 0));
    }

    /// States in which another operation is running.
    pub fn busy(&self) -> bool {
        matches!(
            self.state.as_str(),
            "CREATING" | "UPDATING" | "DELETING" | "MAINTENANCE"
        )
    }
}

/// Backup settings as sent in a request (fields sent change).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupPatch {
    pub enabled: Option<bool>,
    pub start_time: Option<String>,
    pub retention_days: Option<i64>,
}

impl BackupPatch {
    pub fn apply(&self, to: &mut BackupConfig, out: &mut Vec<FieldViolation>) {
        if let Some(e) = self.enabled {
            to.enabled = e;
        }
        if let Some(t) = &self.start_time {
            if valid_hhmm(t) {
                to.start_time = t.clone();
            } else {
                out.push(FieldViolation::new(
                    "backup.start_time",
                    "must be HH:MM between 00:00 and 23:59",
                ));
            }
        }
        if let Some(r) = self.retention_days {
            if (1..=35).contains(&r) {
                to.retention_days = r as u32;
            } else {
                out.push(FieldViolation::new(
                    "backup.retention_days",
                    "must be between 1 and 35",
                ));
            }
        }
    }
}

/// Checks a storage size against a tier.
pub fn check_storage(tier: &Tier, storage_gb: i64, out: &mut Vec<FieldViolation>) {
    if storage_gb < MIN_STORAGE_GB as i64 || storage_gb as u64 > tier.max_storage_gb {
        out.push(FieldViolation::new(
            "storage_gb",
            format!(
                "must be between {MIN_STORAGE_GB} and {} for tier {}",
                tier.max_storage_gb, tier.name
            ),
        ));
    }
}

/// The path of the first `null` in `v`, if any.
fn find_null(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::Null => Some(if path.is_empty() {
            "body".into()
        } else {
            path.to_string()
        }),
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            find_null(
                v,
                &if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                },
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_null(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// Turns a JSON body into `T`, naming the offending field on unknown fields, wrong types and `null`s
/// (optional fields are omitted, never sent as `null`).
pub fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = parse_object(bytes)?;
    if let Some(field) = find_null(&value, "") {
        return Err(ApiError::field(
            field,
            "null is not allowed; omit the field instead",
        ));
    }
    from_value(value)
}

/// Parses a JSON object body (`null`s allowed, e.g. for merge patches).
pub fn parse_object(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.len() > crate::MAX_BODY {
        return Err(ApiError::PayloadTooLarge);
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::field("body", "a JSON object body is required"));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::field("body", format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::field("body", "the body must be a JSON object"));
    }
    Ok(value)
}

/// Deserializes `T`, naming the offending field.
pub fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        let mut field = if path == "." { String::new() } else { path };
        if let Some(rest) = msg.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default();
            if field.is_empty() {
                field = name.to_string();
            }
            return ApiError::field(field, format!("unknown field `{name}`"));
        }
        if let Some(rest) = msg.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or_default();
            field = if field.is_empty() {
                name.to_string()
            } else {
                format!("{field}.{name}")
            };
            return ApiError::field(field, "is required");
        }
        if field.is_empty() {
            field = "body".into();
        }
        ApiError::field(field, msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_instance_name("db1"));
        assert!(valid_instance_name("a-b-c"));
        assert!(!valid_instance_name("ab"));
        assert!(!valid_instance_name("1ab"));
        assert!(!valid_instance_name("abc-"));
        assert!(!valid_instance_name("aBc"));
        assert!(!valid_instance_name(&"a".repeat(64)));
        assert!(valid_instance_name(&"a".repeat(63)));
    }

    #[test]
    fn cidrs_and_times() {
        assert!(valid_cidr("10.0.0.0/8"));
        assert!(valid_cidr("::/0"));
        assert!(!valid_cidr("10.0.0.0/33"));
        assert!(!valid_cidr("10.0.0.0"));
        assert!(!valid_cidr("10.0.0.0/08"));
        assert!(valid_hhmm("23:59"));
        assert!(!valid_hhmm("24:00"));
        assert!(!valid_hhmm("3:00"));
    }

    #[test]
    fn versions() {
        assert_eq!(major("8.4"), 8);
        assert_eq!(major("16"), 16);
        assert!(version_parts("8.4") > version_parts("8.0"));
    }
}
