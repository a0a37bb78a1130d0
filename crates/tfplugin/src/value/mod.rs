//! Terraform values and types (cty's model), plus their wire codecs.
//!
//! * [`Type`] / [`Value`]: the data model. Values do not carry their type; codecs are
//!   driven by the schema's implied type, exactly as Terraform does it.
//! * [`msgpack`]: the `DynamicValue` encoding Terraform always sends (and we always answer with).
//! * [`json`]: the JSON encoding (accepted in `DynamicValue`, used by `RawState`).
//! * [`type_json`]: cty's type JSON (schema `type` bytes, dynamic wrappers).
//! * [`raw_state`]: stored state decoding (JSON and legacy flatmap) for `UpgradeResourceState`.

pub mod json;
pub mod msgpack;
mod number;
mod path;
pub mod raw_state;
pub mod type_json;
mod types;

pub use number::{Number, ParseNumberError};
pub use path::{AttributePath, PathStep};
pub use types::{ObjectType, Type};

use std::collections::BTreeMap;

/// What is known about an unknown value (Terraform ≥ 1.6 refinements, msgpack ext 12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refinements {
    /// The value is definitely not null once known.
    pub not_null: bool,
    /// Known prefix of a string value.
    pub string_prefix: Option<String>,
    /// Lower bound of a number: (bound, inclusive).
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of a number: (bound, inclusive).
    pub number_upper: Option<(Number, bool)>,
    /// Minimum collection length (inclusive).
    pub length_lower: Option<u64>,
    /// Maximum collection length (inclusive).
    pub length_upper: Option<u64>,
}

impl Refinements {
    /// True when nothing is known (encoded as plain ext 0).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether a known value satisfies these refinements (plans must keep their promises).
    pub fn admits(&self, v: &Value) -> bool {
        if v.is_unknown() {
            return true;
        }
        if v.is_null() {
            return !self.not_null;
        }
        if let (Some(p), Some(s)) = (&self.string_prefix, v.as_str())
            && !s.starts_with(p.as_str())
        {
            return false;
        }
        if let Value::Number(n) = v {
            if let Some((b, inc)) = &self.number_lower {
                let o = n.cmp_num(b);
                if o.is_lt() || (!inc && o.is_eq()) {
                    return false;
                }
            }
            if let Some((b, inc)) = &self.number_upper {
                let o = n.cmp_num(b);
                if o.is_gt() || (!inc && o.is_eq()) {
                    return false;
                }
            }
        }
        if let Some(len) = v.collection_len() {
            let len = len as u64;
            if self.length_lower.is_some_and(|l| len < l)
                || self.length_upper.is_some_and(|u| len > u)
            {
                return false;
            }
        }
        true
    }
}

/// A Terraform value. Nulls and unknowns are typeless here; the type comes from the schema.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// Null of any type.
    #[default]
    Null,
    /// Not known until apply ("known after apply").
    Unknown(Refinements),
    /// A bool.
    Bool(bool),
    /// A number of any precision.
    Number(Number),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A set (order is not significant; equality ignores it).
    Set(Vec<Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
    /// An object (every attribute of its type is present, possibly null).
    Object(BTreeMap<String, Value>),
}

static NULL: Value = Value::Null;

impl PartialEq for Value {
    /// Structural equality; sets compare as multisets; unknowns compare their refinements.
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Unknown(a), Unknown(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (String(a), String(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Set(a), Set(b)) => set_eq(a, b),
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            _ => false,
        }
    }
}

fn set_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    'outer: for x in a {
        for (i, y) in b.iter().enumerate() {
            if !used[i] && x == y {
                used[i] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

impl Value {
    /// An unknown with no refinements.
    pub fn unknown() -> Self {
        Value::Unknown(Refinements::default())
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// A number value from an integer.
    pub fn int(n: i64) -> Self {
        Value::Number(Number::from(n))
    }

    /// An object from `(name, value)` pairs.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(it: I) -> Self {
        Value::Object(it.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map from `(key, value)` pairs.
    pub fn map<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(it: I) -> Self {
        Value::Map(it.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Attribute of an object (or entry of a map); `Null` when absent or not a container.
    pub fn get(&self, attr: &str) -> &Value {
        match self {
            Value::Object(m) | Value::Map(m) => m.get(attr).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Mutable attribute of an object; `None` when absent or not an object.
    pub fn get_mut(&mut self, attr: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get_mut(attr),
            _ => None,
        }
    }

    /// Sets an attribute of an object (no-op on non-objects).
    pub fn set_attr(&mut self, attr: impl Into<String>, v: Value) {
        if let Value::Object(m) | Value::Map(m) = self {
            m.insert(attr.into(), v);
        }
    }

    /// The value at `path`, or `None` if the path does not resolve (sets are not indexable).
    pub fn at_path(&self, path: &AttributePath) -> Option<&Value> {
        let mut cur = self;
        for step in path.steps() {
            cur = match (step, cur) {
                (PathStep::Attribute(a), Value::Object(m)) => m.get(a)?,
                (PathStep::Key(k), Value::Map(m)) => m.get(k)?,
                (PathStep::Index(i), Value::List(v) | Value::Tuple(v)) => {
                    v.get(usize::try_from(*i).ok()?)?
                }
                // walking through null/unknown: the path exists, the value is that null/unknown
                (_, Value::Null) => return Some(&NULL),
                (_, u @ Value::Unknown(_)) => return Some(u),
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The value at `path`, mutable.
    pub fn at_path_mut(&mut self, path: &AttributePath) -> Option<&mut Value> {
        let mut cur = self;
        for step in path.steps() {
            cur = match (step, cur) {
                (PathStep::Attribute(a), Value::Object(m)) => m.get_mut(a)?,
                (PathStep::Key(k), Value::Map(m)) => m.get_mut(k)?,
                (PathStep::Index(i), Value::List(v) | Value::Tuple(v)) => {
                    v.get_mut(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True for a (top-level) unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True if not unknown at the top level (nested unknowns allowed).
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// True if there is no unknown anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as `i64`, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The number as the nearest `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// Elements of a list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of a map or attributes of an object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Number of elements of a known collection.
    pub fn collection_len(&self) -> Option<usize> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v.len()),
            Value::Map(m) => Some(m.len()),
            _ => None,
        }
    }

    /// Short, value-free description for error messages (never prints data: it may be sensitive).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Tuple(_) => "tuple",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
        }
    }

    /// Best-effort type of a value, for dynamic-typed slots (values carry no type here).
    pub fn infer_type(&self) -> Type {
        fn elem(v: &[Value]) -> Type {
            v.iter()
                .find(|x| !x.is_null() && !x.is_unknown())
                .map_or(Type::Dynamic, Value::infer_type)
        }
        match self {
            Value::Null | Value::Unknown(_) => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(v) => Type::List(Box::new(elem(v))),
            Value::Set(v) => Type::Set(Box::new(elem(v))),
            Value::Tuple(v) => Type::Tuple(v.iter().map(Value::infer_type).collect()),
            Value::Map(m) => {
                let v: Vec<Value> = m.values().cloned().collect();
                Type::Map(Box::new(elem(&v)))
            }
            Value::Object(m) => Type::Object(ObjectType::new(
                m.iter().map(|(k, v)| (k.clone(), v.infer_type())),
            )),
        }
    }

    /// Checks that this value conforms to `ty`, naming the first offending path.
    pub fn conforms(&self, ty: &Type) -> Result<(), (AttributePath, String)> {
        conforms(self, ty, &AttributePath::root())
    }
}

fn conforms(v: &Value, ty: &Type, path: &AttributePath) -> Result<(), (AttributePath, String)> {
    let bad = |want: &str| Err((path.clone(), format!("expected {want}, got {}", v.kind())));
    match (ty, v) {
        (_, Value::Null | Value::Unknown(_)) | (Type::Dynamic, _) => Ok(()),
        (Type::Bool, Value::Bool(_))
        | (Type::Number, Value::Number(_))
        | (Type::String, Value::String(_)) => Ok(()),
        (Type::List(e), Value::List(items)) | (Type::Set(e), Value::Set(items)) => {
            for (i, it) in items.iter().enumerate() {
                let p = if matches!(ty, Type::List(_)) {
                    path.with_index(i as i64)
                } else {
                    path.clone()
                };
                conforms(it, e, &p)?;
            }
            Ok(())
        }
        (Type::Tuple(ts), Value::Tuple(items)) => {
            if ts.len() != items.len() {
                return bad(&format!("tuple of {} elements", ts.len()));
            }
            for (i, (t, it)) in ts.iter().zip(items).enumerate() {
                conforms(it, t, &path.with_index(i as i64))?;
            }
            Ok(())
        }
        (Type::Map(e), Value::Map(m)) => {
            for (k, it) in m {
                conforms(it, e, &path.with_key(k))?;
            }
            Ok(())
        }
        (Type::Object(o), Value::Object(m)) => {
            for k in m.keys() {
                if !o.attrs.contains_key(k) {
                    return Err((path.with_attr(k), "unsupported attribute".into()));
                }
            }
            for (k, t) in &o.attrs {
                match m.get(k) {
                    Some(it) => conforms(it, t, &path.with_attr(k))?,
                    None if o.optional.contains(k) => {}
                    None => return Err((path.with_attr(k), "attribute is missing".into())),
                }
            }
            Ok(())
        }
        (Type::List(_), _) => bad("list"),
        (Type::Set(_), _) => bad("set"),
        (Type::Map(_), _) => bad("map"),
        (Type::Tuple(_), _) => bad("tuple"),
        (Type::Object(_), _) => bad("object"),
        (Type::Bool, _) => bad("bool"),
        (Type::Number, _) => bad("number"),
        (Type::String, _) => bad("string"),
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::int(n)
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::int(i64::from(n))
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes null.
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_paths() {
        let v = Value::object([
            ("a", Value::from("x")),
            ("l", Value::List(vec![Value::int(1), Value::int(2)])),
        ]);
        assert_eq!(v.get("a").as_str(), Some("x"));
        assert!(v.get("missing").is_null());
        let p = AttributePath::attr("l").with_index(1);
        assert_eq!(v.at_path(&p).and_then(Value::as_i64), Some(2));
        assert_eq!(p.to_string(), "l[1]");
    }

    #[test]
    fn set_equality_ignores_order() {
        let a = Value::Set(vec![Value::from("a"), Value::from("b")]);
        let b = Value::Set(vec![Value::from("b"), Value::from("a")]);
        assert_eq!(a, b);
    }

    #[test]
    fn conformance_names_path() {
        let ty = Type::object([("n", Type::Number)]);
        let v = Value::object([("n", Value::from("x"))]);
        let (p, _) = v.conforms(&ty).expect_err("must fail");
        assert_eq!(p, AttributePath::attr("n"));
    }
}
