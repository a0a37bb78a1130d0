//! Malformed inputs for the fields of requests that carry values. Every one of them
//! must come back as an error diagnostic: never a gRPC error, a panic or a hang.

use super::values::{json_bytes, msgpack_bytes};
use crate::proto::tfplugin6 as pb;

/// A `DynamicValue` that is not msgpack at all (`0xc1` is the one byte msgpack never
/// uses), for checks that need one bad value rather than the table of [`dynamic_values`].
/// Undecodable as any type.
pub fn invalid_msgpack() -> Option<pb::DynamicValue> {
    Some(msgpack_bytes(vec![0xc1, 0xff, 0x00]))
}

/// Undecodable `DynamicValue`s for an object type whose string attribute is `attr`, each
/// with a name saying what is wrong: msgpack that is not msgpack, truncated, of the wrong
/// type, with an unknown attribute, bad unknown-value refinements, invalid UTF-8 or an
/// absurd length; JSON that is truncated, of the wrong type, with an unknown attribute
/// or not UTF-8. The list is the same on every call (14 entries today).
///
/// # Panics
/// If `attr` is 32 bytes or longer (it is written as a msgpack fixstr).
pub fn dynamic_values(attr: &str) -> Vec<(String, pb::DynamicValue)> {
    let key = |k: &str| {
        assert!(k.len() < 32, "attribute name {k:?} too long for a fixstr");
        let mut v = vec![0xa0 | k.len() as u8];
        v.extend_from_slice(k.as_bytes());
        v
    };
    let mut truncated = vec![0x83];
    truncated.extend(key(attr));
    truncated.extend([0xa5, b'a', b'b']);
    let mut wrong_attr_type = vec![0x81];
    wrong_attr_type.extend(key(attr));
    wrong_attr_type.push(0x2a); // 42 where a string belongs
    let mut unknown_attr = vec![0x81];
    unknown_attr.extend(key("zz_not_an_attribute"));
    unknown_attr.push(0xc3);
    let mut bad_ext = vec![0x81];
    bad_ext.extend(key(attr));
    // An unknown value (ext 12) whose refinements are not msgpack. (Any other extension type is an
    // unknown value, as in cty, so it is not garbage.)
    bad_ext.extend([0xd4, 0x0c, 0xc1]);
    let mut bad_utf8 = vec![0x81];
    bad_utf8.extend(key(attr));
    bad_utf8.extend([0xa2, 0xff, 0xfe]);
    let mp = msgpack_bytes;
    vec![
        ("msgpack 0xc1".into(), mp(vec![0xc1])),
        ("msgpack 0xc1 0xff 0x00".into(), mp(vec![0xc1, 0xff, 0x00])),
        ("msgpack truncated map".into(), mp(truncated)),
        ("msgpack string for an object".into(), mp(vec![0xa1, b'x'])),
        ("msgpack wrong attribute type".into(), mp(wrong_attr_type)),
        ("msgpack unknown attribute".into(), mp(unknown_attr)),
        ("msgpack bad refinements".into(), mp(bad_ext)),
        ("msgpack invalid UTF-8".into(), mp(bad_utf8)),
        (
            "msgpack huge map length".into(),
            mp(vec![0xdf, 0xff, 0xff, 0xff, 0xff]),
        ),
        (
            "JSON truncated".into(),
            json_bytes(format!("{{\"{attr}\": [1,2")),
        ),
        ("JSON array for an object".into(), json_bytes("[1,2,3]")),
        (
            "JSON object for a string".into(),
            json_bytes(format!("{{\"{attr}\": {{\"a\": 1}}}}")),
        ),
        (
            "JSON unknown attribute".into(),
            json_bytes("{\"zz_not_an_attribute\": 1}"),
        ),
        (
            "JSON not UTF-8".into(),
            json_bytes(&b"{\"x\": \"\xff\"}"[..]),
        ),
    ]
}

/// Stored state (or identity) JSON that cannot be read as an object with a string
/// attribute `name`: truncated, not an object, of the wrong type, not UTF-8. Named like
/// [`dynamic_values`]; for `RawState.json` (see
/// [`raw_state_json`](super::values::raw_state_json)). No entry relies on an unknown attribute:
/// stored state drops those instead of rejecting them.
pub fn stored_states() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("truncated", b"{\"name\": \"a".to_vec()),
        ("not an object", b"[1]".to_vec()),
        ("wrong type", b"{\"name\": {\"a\": 1}}".to_vec()),
        ("not UTF-8", b"{\"name\": \"\xff\"}".to_vec()),
    ]
}

/// Private state bytes that no provider wrote (not JSON, not UTF-8), for the
/// `private`, `prior_private` and `planned_private` fields; the framework must answer them
/// with an error diagnostic. (Empty private bytes are valid: "no private state".)
pub fn private_bytes() -> Vec<u8> {
    b"\xff\x00 not private state".to_vec()
}
