//! The driver's memory between calls, in one small JSON file of the data directory: the access
//! rules in force (so that `upsert_user` creates a new user's accounts for them) and the admin's
//! name (so that a dump leaves the admin out: a restored instance keeps its own admin).
//!
//! The backend calls a driver for one instance one call at a time, so the file needs no lock.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::{AccessRule, EngineError};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct State {
    #[serde(default)]
    pub admin_user: Option<String>,
    #[serde(default)]
    pub access_rules: Vec<Rule>,
}

/// [`AccessRule`] as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Rule {
    pub name: String,
    pub cidr: String,
}

impl State {
    pub fn rules(&self) -> Vec<AccessRule> {
        self.access_rules
            .iter()
            .map(|r| AccessRule {
                name: r.name.clone(),
                cidr: r.cidr.clone(),
            })
            .collect()
    }

    pub fn set_rules(&mut self, rules: &[AccessRule]) {
        self.access_rules = rules
            .iter()
            .map(|r| Rule {
                name: r.name.clone(),
                cidr: r.cidr.clone(),
            })
            .collect();
    }
}

/// The state in `path`; a missing file is the state of a fresh instance (no rules).
pub(super) fn load(path: &Path) -> Result<State, EngineError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| EngineError::Other(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(EngineError::Other(format!("{}: {e}", path.display()))),
    }
}

pub(super) fn save(path: &Path, state: &State) -> Result<(), EngineError> {
    let bytes = serde_json::to_vec_pretty(state)
        .map_err(|e| EngineError::Other(format!("encoding {}: {e}", path.display())))?;
    write_atomically(path, &bytes)
}

/// Writes `bytes` to `path` through `path.tmp`, synced and renamed: readers see the old or the
/// new content, never a torn file.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    let io = |e: std::io::Error| EngineError::Other(format!("writing {}: {e}", path.display()));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        assert_eq!(load(&path).unwrap(), State::default());
        let mut s = State {
            admin_user: Some("dbadmin".into()),
            ..State::default()
        };
        s.set_rules(&[AccessRule {
            name: "office".into(),
            cidr: "10.0.0.0/8".into(),
        }]);
        save(&path, &s).unwrap();
        assert_eq!(load(&path).unwrap(), s);
        assert_eq!(s.rules()[0].cidr, "10.0.0.0/8");
    }
}
