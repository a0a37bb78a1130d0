//! cty type JSON: `"string"`, `["list","number"]`, `["object",{"a":"bool"},["a"]]`, ...
//!
//! Terraform panics on a malformed schema type, so encoding is infallible and decoding
//! is strict and bounded in depth.

use super::{ObjectType, Type};
use serde_json::{Value as J, json};

/// Type JSON could not be decoded; the text says why (it contains no value data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid type JSON: {0}")]
pub struct TypeJsonError(pub String);

const MAX_DEPTH: usize = 64;

/// The type as a cty type JSON value. Objects carry a third element listing the optional
/// attributes only when there are some. Infallible: every [`Type`] has a form.
pub fn to_json(ty: &Type) -> J {
    match ty {
        Type::Bool => json!("bool"),
        Type::Number => json!("number"),
        Type::String => json!("string"),
        Type::Dynamic => json!("dynamic"),
        Type::List(t) => json!(["list", to_json(t)]),
        Type::Set(t) => json!(["set", to_json(t)]),
        Type::Map(t) => json!(["map", to_json(t)]),
        Type::Tuple(ts) => json!(["tuple", ts.iter().map(to_json).collect::<Vec<_>>()]),
        Type::Object(o) => {
            let attrs: serde_json::Map<String, J> = o
                .attrs
                .iter()
                .map(|(k, t)| (k.clone(), to_json(t)))
                .collect();
            if o.optional.is_empty() {
                json!(["object", attrs])
            } else {
                json!(["object", attrs, o.optional.iter().collect::<Vec<_>>()])
            }
        }
    }
}

/// The type as compact JSON bytes (the protocol's `bytes type`, and the type half of a
/// msgpack `dynamic` value); [`from_bytes`] reads it back to an equal type.
pub fn to_bytes(ty: &Type) -> Vec<u8> {
    to_json(ty).to_string().into_bytes()
}

/// Parses type JSON bytes.
///
/// # Errors
/// Invalid JSON or anything [`from_json`] rejects.
pub fn from_bytes(b: &[u8]) -> Result<Type, TypeJsonError> {
    let j: J = serde_json::from_slice(b).map_err(|e| TypeJsonError(e.to_string()))?;
    from_json(&j)
}

/// Parses a type JSON value, strictly (Terraform panics on a malformed schema type).
///
/// # Errors
/// An unknown primitive or constructor name, a missing constructor argument, an optional
/// attribute that is not an attribute of the object, or nesting deeper than 64.
pub fn from_json(j: &J) -> Result<Type, TypeJsonError> {
    parse(j, 0)
}

fn parse(j: &J, depth: usize) -> Result<Type, TypeJsonError> {
    let err = |m: &str| Err(TypeJsonError(m.to_string()));
    if depth > MAX_DEPTH {
        return err("type nested too deeply");
    }
    match j {
        J::String(s) => match s.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(TypeJsonError(format!("unknown primitive type {other:?}"))),
        },
        J::Array(a) => {
            let kind = a.first().and_then(J::as_str).unwrap_or_default();
            let arg = a.get(1);
            match (kind, arg) {
                ("list", Some(t)) => Ok(Type::List(Box::new(parse(t, depth + 1)?))),
                ("set", Some(t)) => Ok(Type::Set(Box::new(parse(t, depth + 1)?))),
                ("map", Some(t)) => Ok(Type::Map(Box::new(parse(t, depth + 1)?))),
                ("tuple", Some(J::Array(ts))) => Ok(Type::Tuple(
                    ts.iter()
                        .map(|t| parse(t, depth + 1))
                        .collect::<Result<_, _>>()?,
                )),
                ("object", Some(J::Object(m))) => {
                    let mut o = ObjectType::default();
                    for (k, t) in m {
                        o.attrs.insert(k.clone(), parse(t, depth + 1)?);
                    }
                    if let Some(J::Array(opt)) = a.get(2) {
                        for n in opt {
                            match n.as_str() {
                                Some(n) if o.attrs.contains_key(n) => {
                                    o.optional.insert(n.to_string());
                                }
                                _ => return err("optional attribute is not an attribute name"),
                            }
                        }
                    }
                    Ok(Type::Object(o))
                }
                _ => Err(TypeJsonError(format!(
                    "unsupported type constructor {kind:?}"
                ))),
            }
        }
        _ => err("type must be a string or an array"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut o = ObjectType::new([("a", Type::String), ("b", Type::list(Type::Number))]);
        o.optional.insert("b".into());
        let t = Type::Tuple(vec![
            Type::Object(o),
            Type::map(Type::Dynamic),
            Type::set(Type::Bool),
        ]);
        let b = to_bytes(&t);
        assert_eq!(from_bytes(&b), Ok(t));
        assert_eq!(to_bytes(&Type::String), b"\"string\"");
        assert_eq!(
            to_bytes(&Type::object([("k", Type::Number)])),
            br#"["object",{"k":"number"}]"#
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(from_bytes(b"[\"list\"]").is_err());
        assert!(from_bytes(b"\"strin\"").is_err());
        assert!(from_bytes(b"{").is_err());
    }
}
