//! Fuzz targets for tfplugin's value codecs (`crates/tfplugin/src/value`), see
//! `docs/fuzzing.md`.
//!
//! The codecs are compiled straight from tfplugin's sources (the `value` module is
//! self-contained: it depends on `serde_json` and `thiserror` only), so a fuzz build does not
//! build tonic, rustls or aws-lc, and cargo-fuzz's instrumentation covers exactly the code
//! under test. Each target is a plain function here; `fuzz_targets/*.rs` wrap them for
//! libFuzzer and `tests/corpus.rs` replays the committed corpus through them under
//! `cargo test`.
//!
//! Every target asserts that decoding does not panic, that a decoded value conforms to the
//! type it was decoded with, and that its estimated heap size
//! ([`value::Value::estimated_heap_size`]) stays within [`heap_bound`]: linear in the input
//! length, with a factor for the widest object of the schema (decoders fill absent
//! attributes with null).

#[allow(dead_code, clippy::all)]
#[path = "../../crates/tfplugin/src/value/mod.rs"]
pub mod value;

pub mod schemas;

use std::collections::HashMap;
use value::{Type, Value, json, msgpack, raw_state, type_json};

/// The heap a value decoded from `input_len` bytes against `schema` may own: a constant per
/// input byte (a one-entry map costs a B-tree node, ~700 bytes, for 3 input bytes) plus
/// one schema-wide object of nulls per input byte (`{}` is one byte).
pub fn heap_bound(schema: &Type, input_len: usize) -> usize {
    (input_len + 1) * (1024 + 96 * schemas::max_object_width(schema))
}

fn check_decoded(ty: &Type, v: &Value, input_len: usize, what: &str) {
    if let Err((p, m)) = v.conforms(ty) {
        panic!("{what}: decoded value does not conform to its type at {p}: {m}");
    }
    let heap = v.estimated_heap_size();
    let bound = heap_bound(ty, input_len);
    assert!(
        heap <= bound,
        "{what}: {input_len} input bytes decoded to ~{heap} heap bytes (bound {bound})"
    );
}

/// Splits off the first byte as the schema selector.
fn split(data: &[u8]) -> Option<(&'static Type, &[u8])> {
    let (&sel, rest) = data.split_first()?;
    Some((schemas::pick(sel), rest))
}

/// msgpack `DynamicValue` decoding against one of the realistic schema types.
pub fn msgpack_decode(data: &[u8]) {
    let Some((ty, bytes)) = split(data) else {
        return;
    };
    if let Ok(v) = msgpack::decode(ty, bytes) {
        check_decoded(ty, &v, bytes.len(), "msgpack");
    }
}

/// JSON `DynamicValue` decoding against one of the realistic schema types.
pub fn json_decode(data: &[u8]) {
    let Some((ty, bytes)) = split(data) else {
        return;
    };
    if let Ok(v) = json::decode(ty, bytes) {
        check_decoded(ty, &v, bytes.len(), "json");
        assert!(v.is_wholly_known(), "JSON cannot carry unknowns");
    }
}

/// Stored state: the selector's low bit picks JSON state or flatmap (a JSON object of strings,
/// as `RawState.flatmap` carries it); the rest picks the schema.
pub fn raw_state(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let ty = schemas::pick(sel >> 1);
    if sel & 1 == 0 {
        let general = raw_state::parse_json(bytes).and_then(|j| raw_state::from_json_state(ty, &j));
        // The one-pass decoder `UpgradeResourceState` uses gives the same value or error.
        assert_eq!(
            raw_state::decode_json_state(ty, bytes),
            general,
            "decode_json_state disagrees with parse_json + from_json_state"
        );
        if let Ok(v) = general {
            check_decoded(ty, &v, bytes.len(), "json state");
        }
    } else if let Ok(flat) = serde_json::from_slice::<HashMap<String, String>>(bytes)
        && let Ok(v) = raw_state::from_flatmap(ty, &flat)
    {
        check_decoded(ty, &v, bytes.len(), "flatmap state");
    }
}

/// cty type JSON: parsing never panics, and a parsed type prints back to JSON that parses
/// to the same type and is not much longer than the input.
pub fn type_json(data: &[u8]) {
    let Ok(t) = type_json::from_bytes(data) else {
        return;
    };
    let out = type_json::to_bytes(&t);
    assert_eq!(
        type_json::from_bytes(&out).as_ref(),
        Ok(&t),
        "type JSON does not round-trip"
    );
    assert!(
        out.len() <= 2 * data.len() + 16,
        "{} bytes of type JSON printed as {}",
        data.len(),
        out.len()
    );
    // a type parsed from the wire is usable by the decoders
    let _ = msgpack::decode(&t, &[0xc0]);
}

/// Decode → encode → decode is the identity, and encoding is canonical (re-encoding the
/// re-decoded value gives the same bytes). The selector's low bit picks the input codec
/// (msgpack or JSON); a value decoded from either is carried through both encoders when it
/// can be (JSON cannot carry unknowns or infinity).
pub fn round_trip(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let ty = schemas::pick(sel >> 1);
    let v = if sel & 1 == 0 {
        msgpack::decode(ty, bytes).ok()
    } else {
        json::decode(ty, bytes).ok()
    };
    let Some(v) = v else {
        return;
    };
    check_decoded(ty, &v, bytes.len(), "round trip input");

    let mp = msgpack::encode(ty, &v)
        .unwrap_or_else(|e| panic!("a decoded value must re-encode as msgpack: {e}"));
    let back = msgpack::decode(ty, &mp).unwrap_or_else(|e| panic!("our msgpack must decode: {e}"));
    assert_eq!(back, v, "msgpack round trip changed the value");
    assert_eq!(
        msgpack::encode(ty, &back).ok().as_deref(),
        Some(&mp[..]),
        "msgpack encoding is not canonical"
    );

    match json::encode(ty, &v) {
        Ok(j) => {
            let back = json::decode(ty, &j).unwrap_or_else(|e| panic!("our JSON must decode: {e}"));
            assert_eq!(back, v, "JSON round trip changed the value");
        }
        Err(_) => assert!(
            !v.is_wholly_known() || has_infinity(&v),
            "a wholly known finite value must encode as JSON"
        ),
    }
}

fn has_infinity(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_infinite(),
        Value::List(x) | Value::Set(x) | Value::Tuple(x) => x.iter().any(has_infinity),
        Value::Map(m) | Value::Object(m) => m.values().any(has_infinity),
        _ => false,
    }
}
