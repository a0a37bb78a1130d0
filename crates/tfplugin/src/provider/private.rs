//! [`PrivateState`]: provider-owned bytes Terraform stores beside the state.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// Provider-owned data stored next to the state (`private` bytes), as a JSON object.
///
/// Terraform stores it opaquely and hands it back on the next Read/Plan/Apply, so it is
/// the place for things like a pending operation id. Returning an empty one erases it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrivateState(BTreeMap<String, serde_json::Value>);

/// Private bytes were not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("private state is not a JSON object: {0}")]
pub struct PrivateStateError(pub String);

impl PrivateState {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses stored bytes (empty bytes = empty state).
    pub fn from_bytes(b: &[u8]) -> Result<Self, PrivateStateError> {
        if b.is_empty() {
            return Ok(Self::new());
        }
        serde_json::from_slice(b)
            .map(PrivateState)
            .map_err(|e| PrivateStateError(e.to_string()))
    }

    /// Bytes to store (empty when there is nothing).
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return Vec::new();
        }
        serde_json::to_vec(&self.0).unwrap_or_default()
    }

    /// Reads and deserialises a key; `None` if absent or of another shape.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Stores a key.
    pub fn set<T: Serialize>(&mut self, key: impl Into<String>, value: &T) {
        if let Ok(v) = serde_json::to_value(value) {
            self.0.insert(key.into(), v);
        }
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_state_round_trip() {
        let mut p = PrivateState::new();
        assert!(p.to_bytes().is_empty());
        p.set("operation_id", &"op-1");
        let q = PrivateState::from_bytes(&p.to_bytes()).expect("parse");
        assert_eq!(q.get::<String>("operation_id").as_deref(), Some("op-1"));
        assert!(PrivateState::from_bytes(b"garbage").is_err());
    }
}
