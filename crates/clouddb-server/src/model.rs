//! Wire types, the catalogue (engine versions, tiers) and validation rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldViolation;
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
    pub state: InstanceState,
    pub current_operation: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub etag: String,
    /// The Idempotency-Key of the POST that created the instance (empty without one); read-only. Lets
    /// a client that lost the answer to its create tell whether its own request created it.
    #[serde(default)]
    pub creation_token: String,
    /// The backup the instance was restored from (empty when it was not); read-only, so a client
    /// can read back what it asked for at create (import, drift).
    #[serde(default)]
    pub restored_from_backup: String,
}

impl Instance {
    /// Recomputes `etag` from the other fields.
    pub fn refresh_etag(&mut self) {
        self.etag = String::new();
        let body = serde_json::to_vec(self).unwrap_or_default();
        self.etag = format!("\"{:016x}\"", fnv64(&body, 0));
    }

    /// True in the states in which an operation is running (see [`InstanceState::busy`]).
    pub fn busy(&self) -> bool {
        self.state.busy()
    }
}

/// The lifecycle state of an instance. On the wire (and in storage) it is the upper-case name
/// (`"READY"`); anything else is rejected with the description [`InstanceState::expected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceState {
    /// Being provisioned by a `create` operation.
    Creating,
    /// Serving; the only state that accepts changes.
    Ready,
    /// An `update` operation that restarts the instance is running.
    Updating,
    /// A `delete` operation is running.
    Deleting,
    /// Provisioning failed; the instance can only be deleted.
    Failed,
    /// Out-of-band maintenance (set by drift); treated like a running operation.
    Maintenance,
}

impl InstanceState {
    /// Every state, in the order the API documents them.
    pub const ALL: [InstanceState; 6] = [
        Self::Creating,
        Self::Ready,
        Self::Updating,
        Self::Deleting,
        Self::Failed,
        Self::Maintenance,
    ];

    /// The wire name, e.g. `"READY"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Ready => "READY",
            Self::Updating => "UPDATING",
            Self::Deleting => "DELETING",
            Self::Failed => "FAILED",
            Self::Maintenance => "MAINTENANCE",
        }
    }

    /// The state with wire name `s` (exact, case-sensitive), if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The field-violation description for a name that is not a state:
    /// `"must be one of CREATING, READY, UPDATING, DELETING, FAILED, MAINTENANCE"`.
    pub fn expected() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
        format!("must be one of {}", names.join(", "))
    }

    /// True while an operation is running (CREATING, UPDATING, DELETING, MAINTENANCE): then
    /// writes answer 409 `OPERATION_IN_PROGRESS`.
    pub fn busy(self) -> bool {
        matches!(
            self,
            Self::Creating | Self::Updating | Self::Deleting | Self::Maintenance
        )
    }
}

impl std::fmt::Display for InstanceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for InstanceState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InstanceState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(Self::expected()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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
    fn instance_states_keep_their_wire_names() {
        for st in InstanceState::ALL {
            let json = serde_json::to_value(st).unwrap_or_default();
            assert_eq!(json, Value::String(st.as_str().into()));
            assert_eq!(serde_json::from_value::<InstanceState>(json).ok(), Some(st));
        }
        let err = serde_json::from_value::<InstanceState>(Value::String("ready".into()))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("must be one of CREATING, READY, UPDATING, DELETING, FAILED, MAINTENANCE")
        );
    }

    #[test]
    fn versions() {
        assert_eq!(major("8.4"), 8);
        assert_eq!(major("16"), 16);
        assert!(version_parts("8.4") > version_parts("8.0"));
    }
}
