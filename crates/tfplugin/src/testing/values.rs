//! `DynamicValue`s and `RawState`s for requests, and values decoded from responses.

use crate::proto::tfplugin6 as pb;
use crate::value::{Type, Value, json, msgpack};

/// `v` as a msgpack `DynamicValue` of type `ty`, as Terraform sends it (the `json`
/// field empty), wrapped in `Some` to drop straight into a request field.
///
/// # Panics
/// If `v` does not conform to `ty`.
pub fn dynamic_value(ty: &Type, v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(ty, v).expect("test value encodes as msgpack of its type"),
        json: Vec::new(),
    })
}

/// A `DynamicValue` carrying exactly `bytes` in its msgpack field (nothing is checked), for
/// sending malformed values. Not wrapped in `Some`.
pub fn msgpack_bytes(bytes: impl Into<Vec<u8>>) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: bytes.into(),
        json: Vec::new(),
    }
}

/// A `DynamicValue` carrying exactly `bytes` in its JSON field and an empty msgpack field
/// (nothing is checked), the encoding older Terraform versions and some tools send. Not
/// wrapped in `Some`.
pub fn json_bytes(bytes: impl Into<Vec<u8>>) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: Vec::new(),
        json: bytes.into(),
    }
}

/// A value of `ty` written as JSON, decoded like a `DynamicValue.json` (lenient scalars, see
/// [`json::from_json`]): attributes the JSON leaves out are null; unknowns cannot be written.
///
/// # Panics
/// If `j` does not fit `ty`, including an attribute that is not in `ty`.
pub fn from_json(ty: &Type, j: serde_json::Value) -> Value {
    json::decode(ty, j.to_string().as_bytes()).expect("test value fits the type")
}

/// The value of type `ty` in the msgpack field of a response's `DynamicValue` (the JSON
/// field is ignored: providers answer in msgpack).
///
/// # Panics
/// If `d` is `None` or its msgpack does not decode as `ty` (an empty msgpack field does not
/// decode).
pub fn decode(ty: &Type, d: &Option<pb::DynamicValue>) -> Value {
    let d = d.as_ref().expect("the response carries a value");
    msgpack::decode(ty, &d.msgpack).expect("the response value decodes as msgpack")
}

/// Stored state (or identity) as Terraform sends it from a JSON state file: `json`
/// verbatim (not checked), no flatmap. Wrapped in `Some` for a request field.
pub fn raw_state_json(json: impl Into<Vec<u8>>) -> Option<pb::RawState> {
    Some(pb::RawState {
        json: json.into(),
        flatmap: Default::default(),
    })
}

/// Stored state in the legacy flatmap form (`"labels.%" = "1"`, …), no JSON; a repeated key
/// keeps the last value. Wrapped in `Some` for a request field.
pub fn raw_state_flatmap<K: ToString, V: ToString>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Option<pb::RawState> {
    Some(pb::RawState {
        json: Vec::new(),
        flatmap: pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

/// `v` as the `ResourceIdentityData` of a request (msgpack of the identity type `ty`),
/// wrapped in `Some`.
///
/// # Panics
/// If `v` does not conform to `ty`.
pub fn identity_data(ty: &Type, v: &Value) -> Option<pb::ResourceIdentityData> {
    Some(pb::ResourceIdentityData {
        identity_data: dynamic_value(ty, v),
    })
}

/// The identity in a response's `ResourceIdentityData`, decoded with the identity type `ty`;
/// `None` when the response carries none.
///
/// # Panics
/// If the identity does not decode as `ty`.
pub fn decode_identity(ty: &Type, d: &Option<pb::ResourceIdentityData>) -> Option<Value> {
    d.as_ref()
        .and_then(|i| i.identity_data.as_ref())
        .map(|dv| msgpack::decode(ty, &dv.msgpack).expect("the identity decodes as msgpack"))
}
