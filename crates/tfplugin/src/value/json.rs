//! cty's JSON value encoding: accepted in `DynamicValue.json`, used by `RawState.json`.
//!
//! Follows go-cty's lenient decoding: numbers may arrive as numeric strings, strings may
//! arrive as numbers or bools, missing object attributes become null. JSON cannot carry
//! unknowns, so encoding one is an error.

use super::join::{Pair, join};
use super::{AttributePath, Number, PathRef, Type, Value, type_json};
use serde_json::Value as J;
use std::collections::BTreeMap;

/// JSON was not valid JSON, did not match the type, or (encoding) a value cannot be JSON;
/// `path` says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JSON value at {path}: {message}")]
pub struct JsonError {
    /// Where: the root for syntax errors, the enclosing set for set elements.
    pub path: AttributePath,
    /// What was wrong; names types and kinds, never the data.
    pub message: String,
}

/// How to treat object attributes that are not in the type (at every nesting level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownAttrs {
    /// Reject them with an error naming the attribute (`DynamicValue` semantics, as cty's
    /// `json.Unmarshal`).
    Reject,
    /// Drop them silently (stored state written by an older schema, as Terraform does when
    /// the schema version matches).
    Drop,
}

/// Decodes JSON bytes as `ty`, rejecting attributes not in the type; see [`from_json`].
///
/// # Errors
/// Invalid JSON (at the root) or any mismatch [`from_json`] reports.
pub fn decode(ty: &Type, bytes: &[u8]) -> Result<Value, JsonError> {
    let j: J = serde_json::from_slice(bytes).map_err(|e| JsonError {
        path: AttributePath::root(),
        message: format!("invalid JSON: {e}"),
    })?;
    from_json(ty, &j, UnknownAttrs::Reject)
}

/// Converts a parsed JSON value to a `Value` of `ty`, leniently as go-cty does.
///
/// `null` is null at any type; numbers may be numeric strings, strings may be numbers or
/// bools, bools may be `"true"`/`"false"`; missing object attributes become null. A
/// `dynamic` slot needs the `{"value": …, "type": …}` wrapper. JSON has no unknowns, so
/// the result is wholly known. Set duplicates are kept.
///
/// # Errors
/// A JSON kind that does not fit `ty`, an unparsable number, a tuple of the wrong length,
/// a bad `dynamic` wrapper or type JSON, or (with [`UnknownAttrs::Reject`]) an attribute
/// not in the object type.
pub fn from_json(ty: &Type, j: &J, unknown: UnknownAttrs) -> Result<Value, JsonError> {
    let mut st = Dec {
        ua: unknown,
        items: 0,
        fills: 0,
        in_dynamic: 0,
    };
    dec(ty, j, &PathRef::Root, &mut st)
}

/// Decoder state: the attribute policy, and the values decoded and absent attributes filled
/// so far (fills are bounded by [`super::fill_budget`]).
struct Dec {
    ua: UnknownAttrs,
    items: usize,
    fills: usize,
    /// Nesting below a `dynamic` wrapper (collections there must have one element type).
    in_dynamic: usize,
}

fn dec(ty: &Type, j: &J, path: &PathRef<'_>, st: &mut Dec) -> Result<Value, JsonError> {
    let err = |m: String| JsonError {
        path: path.to_path(),
        message: m,
    };
    st.items += 1;
    if j.is_null() {
        return Ok(Value::Null);
    }
    Ok(match (ty, j) {
        (Type::Dynamic, J::Object(m)) if m.contains_key("type") && m.contains_key("value") => {
            let t = type_json::from_json(&m["type"]).map_err(|e| err(e.to_string()))?;
            st.in_dynamic += 1;
            let v = dec(&t, &m["value"], path, st);
            st.in_dynamic -= 1;
            v?
        }
        (Type::Dynamic, _) => {
            return Err(err("dynamic value must be {\"value\":…,\"type\":…}".into()));
        }
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Bool, J::String(s)) if s == "true" || s == "false" => Value::Bool(s == "true"),
        (Type::Number, J::Number(n)) => {
            Value::Number(Number::parse(&n.to_string()).map_err(|e| err(e.to_string()))?)
        }
        (Type::Number, J::String(s)) => {
            Value::Number(Number::parse(s).map_err(|e| err(e.to_string()))?)
        }
        (Type::String, J::String(s)) => Value::String(s.clone()),
        (Type::String, J::Number(n)) => Value::String(n.to_string()),
        (Type::String, J::Bool(b)) => Value::String(b.to_string()),
        (Type::List(e), J::Array(a)) => {
            let items: Vec<Value> = a
                .iter()
                .enumerate()
                .map(|(i, x)| dec(e, x, &path.index(i), st))
                .collect::<Result<_, _>>()?;
            if st.in_dynamic > 0 {
                super::dynamic_elements_agree(e, items.iter()).map_err(err)?;
            }
            Value::List(items)
        }
        (Type::Set(e), J::Array(a)) => {
            let items: Vec<Value> = a
                .iter()
                .map(|x| dec(e, x, path, st))
                .collect::<Result<_, _>>()?;
            if st.in_dynamic > 0 {
                super::dynamic_elements_agree(e, items.iter()).map_err(err)?;
            }
            Value::Set(items)
        }
        (Type::Tuple(ts), J::Array(a)) => {
            if ts.len() != a.len() {
                return Err(err(format!(
                    "tuple needs {} elements, found {}",
                    ts.len(),
                    a.len()
                )));
            }
            Value::Tuple(
                ts.iter()
                    .zip(a)
                    .enumerate()
                    .map(|(i, (t, x))| dec(t, x, &path.index(i), st))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Map(e), J::Object(m)) => {
            let out: BTreeMap<String, Value> = m
                .iter()
                .map(|(k, x)| Ok((k.clone(), dec(e, x, &path.key(k), st)?)))
                .collect::<Result<_, JsonError>>()?;
            if st.in_dynamic > 0 {
                super::dynamic_elements_agree(e, out.values()).map_err(err)?;
            }
            Value::Map(out)
        }
        (Type::Object(o), J::Object(m)) => {
            // serde_json's map is a BTreeMap (no `preserve_order`; a test pins it), so the
            // attributes and the entries pair up in one sorted pass, as the other walkers do.
            let mut out: Vec<(String, Value)> = Vec::with_capacity(o.attrs.len());
            for pair in join(&o.attrs, m.iter()) {
                match pair {
                    Pair::Both(k, t, x) => out.push((k.to_string(), dec(t, x, &path.attr(k), st)?)),
                    Pair::TypeOnly(k, _) => {
                        st.fills += 1;
                        out.push((k.to_string(), Value::Null));
                    }
                    Pair::ValueOnly(_, _) if st.ua == UnknownAttrs::Drop => {}
                    Pair::ValueOnly(k, _) => {
                        return Err(JsonError {
                            path: path.attr(k).to_path(),
                            message: "unsupported attribute (not in the schema)".into(),
                        });
                    }
                }
            }
            if st.fills > super::fill_budget(st.items) {
                return Err(err(super::FILL_BUDGET_EXCEEDED.into()));
            }
            // In key order already: `from_iter` builds the tree in one pass.
            Value::Object(out.into_iter().collect())
        }
        (t, _) => return Err(err(format!("expected {}", t.friendly_name()))),
    })
}

/// Encodes `v` as compact JSON text of type `ty`; see [`to_json`].
///
/// # Errors
/// As [`to_json`].
pub fn encode(ty: &Type, v: &Value) -> Result<Vec<u8>, JsonError> {
    Ok(to_json(ty, v)?.to_string().into_bytes())
}

/// Converts `v` (of type `ty`) to a JSON value, as cty's `json.Marshal` does.
///
/// Null is `null`; objects get every attribute of the type (absent ones `null`) and value
/// attributes outside the type are left out; `dynamic` slots get the `{"value","type"}`
/// wrapper with the type from [`Value::infer_type`]. Numbers keep full precision.
///
/// # Errors
/// An unknown anywhere (JSON cannot carry one), an infinite number, or a kind that does not
/// fit `ty` (including a tuple of the wrong length).
pub fn to_json(ty: &Type, v: &Value) -> Result<J, JsonError> {
    enc(ty, v, &PathRef::Root)
}

fn enc(ty: &Type, v: &Value, path: &PathRef<'_>) -> Result<J, JsonError> {
    let err = |m: String| JsonError {
        path: path.to_path(),
        message: m,
    };
    Ok(match (ty, v) {
        (_, Value::Null) => J::Null,
        (_, Value::Unknown(_)) => {
            return Err(err("unknown values cannot be encoded as JSON".into()));
        }
        (Type::Dynamic, v) => {
            let t = v.infer_type();
            let mut m = serde_json::Map::new();
            m.insert("value".into(), enc(&t, v, path)?);
            m.insert("type".into(), type_json::to_json(&t));
            J::Object(m)
        }
        (Type::Bool, Value::Bool(b)) => J::Bool(*b),
        (Type::Number, Value::Number(n)) => {
            if n.is_infinite() {
                return Err(err("infinity cannot be encoded as JSON".into()));
            }
            let num: serde_json::Number =
                serde_json::from_str(&n.to_string()).map_err(|e| err(e.to_string()))?;
            J::Number(num)
        }
        (Type::String, Value::String(s)) => J::String(s.clone()),
        (Type::List(e), Value::List(a)) => J::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| enc(e, x, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Set(e), Value::Set(a)) => J::Array(
            a.iter()
                .map(|x| enc(e, x, path))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Tuple(ts), Value::Tuple(a)) if ts.len() == a.len() => J::Array(
            ts.iter()
                .zip(a)
                .enumerate()
                .map(|(i, (t, x))| enc(t, x, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Map(e), Value::Map(m)) => J::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), enc(e, x, &path.key(k))?)))
                .collect::<Result<_, JsonError>>()?,
        ),
        (Type::Object(o), Value::Object(m)) => {
            let mut out = serde_json::Map::new();
            for (k, t) in &o.attrs {
                out.insert(
                    k.clone(),
                    enc(t, m.get(k).unwrap_or(&Value::Null), &path.attr(k))?,
                );
            }
            J::Object(out)
        }
        (t, v) => {
            return Err(err(format!(
                "expected {}, got {}",
                t.friendly_name(),
                v.kind()
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The object decoder pairs attributes with entries in one sorted pass, which needs
    /// serde_json's map to iterate in key order (it does unless `preserve_order` is enabled).
    #[test]
    fn json_objects_iterate_in_key_order() {
        let j: J = serde_json::from_str(r#"{"zeta":1,"alpha":2,"mid":3,"Beta":4}"#).expect("json");
        let keys: Vec<&str> = j
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["Beta", "alpha", "mid", "zeta"]);
        let t = Type::object([
            ("alpha", Type::Number),
            ("zeta", Type::Number),
            ("q", Type::String),
        ]);
        let v = decode(&t, br#"{"zeta":1,"alpha":2}"#).expect("decode");
        assert_eq!(v.get("alpha").as_f64(), Some(2.0));
        assert_eq!(v.get("zeta").as_f64(), Some(1.0));
        assert!(v.get("q").is_null());
    }

    #[test]
    fn lenient_primitives_and_dynamic() {
        let t = Type::object([
            ("n", Type::Number),
            ("s", Type::String),
            ("d", Type::Dynamic),
            ("m", Type::Bool),
        ]);
        let v = decode(
            &t,
            br#"{"n":"12.5","s":3,"d":{"value":["a"],"type":["list","string"]}}"#,
        )
        .expect("decode");
        assert_eq!(v.get("n").as_f64(), Some(12.5));
        assert_eq!(v.get("s").as_str(), Some("3"));
        assert_eq!(v.get("d"), &Value::List(vec![Value::from("a")]));
        assert!(v.get("m").is_null());
        assert!(decode(&t, br#"{"zzz":1}"#).is_err());
        let back = decode(&t, &encode(&t, &v).expect("enc")).expect("dec");
        assert_eq!(back, v);
    }

    /// The JSON twins of msgpack's fuzz findings: `list(dynamic)` elements must share a
    /// type, and null filling of absent attributes is budgeted.
    #[test]
    fn dynamic_elements_agree_and_filling_is_bounded() {
        let t = Type::Dynamic;
        let mixed = br#"{"type":["list","dynamic"],"value":[{"value":"a","type":"string"},{"value":1,"type":"number"}]}"#;
        assert!(decode(&t, mixed).is_err());
        let same = br#"{"type":["list","dynamic"],"value":[{"value":"a","type":"string"},null,{"value":"b","type":"string"}]}"#;
        let v = decode(&t, same).expect("same types");
        assert_eq!(decode(&t, &encode(&t, &v).expect("enc")), Ok(v));

        let attrs: Vec<String> = (0..200).map(|i| format!("\"a{i}\":\"bool\"")).collect();
        let wide = format!(
            r#"{{"type":["list",["object",{{{}}}]],"value":[{}]}}"#,
            attrs.join(","),
            vec!["{}"; 2000].join(",")
        );
        let e = decode(&Type::Dynamic, wide.as_bytes()).expect_err("over budget");
        assert!(e.message.contains("absent object attributes"), "{e}");
    }

    #[test]
    fn big_numbers_keep_precision() {
        let v = decode(&Type::Number, b"123456789012345678901234567890.123").expect("dec");
        assert_eq!(
            encode(&Type::Number, &v).expect("enc"),
            b"123456789012345678901234567890.123"
        );
    }
}
