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

/// What is known about an unknown value (cty refinements, Terraform ≥ 1.6, msgpack ext 12).
///
/// The default (nothing known) is an unrefined unknown. A plan that refines an unknown
/// promises the final value; [`Refinements::admits`] checks that promise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refinements {
    /// The value will not be null once known (cty `NotNull`).
    pub not_null: bool,
    /// The final string starts with this prefix (cty `StringPrefix`); ignored for non-strings.
    pub string_prefix: Option<String>,
    /// Lower bound of the final number: `(bound, inclusive)`.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of the final number: `(bound, inclusive)`.
    pub number_upper: Option<(Number, bool)>,
    /// Minimum element count (inclusive) of the final list, set, tuple or map.
    pub length_lower: Option<u64>,
    /// Maximum element count (inclusive) of the final list, set, tuple or map.
    pub length_upper: Option<u64>,
}

impl Refinements {
    /// True when nothing is known, i.e. equal to the default. Such an unknown is encoded
    /// as cty's plain unknown (msgpack ext 0) instead of a refined ext 12.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether `v` keeps these promises (Terraform rejects an apply result that breaks a
    /// planned refinement). An unknown `v` is always admitted; null is admitted unless
    /// `not_null`; the prefix applies only to strings, the number bounds only to numbers, the
    /// length bounds only to lists, sets, tuples and maps.
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
///
/// Unlike cty, a value does not carry its type: codecs and checks take a [`Type`] beside it,
/// and a null or unknown conforms to every type. Marks (sensitivity) live in the schema.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// Null of any type (also what a missing object attribute reads as).
    #[default]
    Null,
    /// Not known until apply ("known after apply"), with what is known about it. Only the
    /// top level is unknown; a known container may hold unknown elements.
    Unknown(Refinements),
    /// A known bool.
    Bool(bool),
    /// A known number of any precision (never NaN; may be ±infinity).
    Number(Number),
    /// A known string (UTF-8; not NFC-normalised here, unlike cty's `StringVal`).
    String(String),
    /// A list; order is significant. Not equal to a tuple with the same elements.
    List(Vec<Value>),
    /// A set. Order is not significant (equality ignores it) and is kept as received;
    /// duplicates are not removed here. Elements cannot be addressed by an [`AttributePath`].
    Set(Vec<Value>),
    /// A tuple: fixed length, one type per position.
    Tuple(Vec<Value>),
    /// A map with string keys (sorted). Not equal to an object with the same entries.
    Map(BTreeMap<String, Value>),
    /// An object. The decoders fill every attribute of its type (null when absent), so
    /// a decoded object has exactly its type's attributes.
    Object(BTreeMap<String, Value>),
}

static NULL: Value = Value::Null;

impl PartialEq for Value {
    /// Structural equality: numbers compare numerically, sets as multisets (quadratic),
    /// unknowns by their refinements, and list ≠ tuple, map ≠ object even with equal contents.
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
    /// An unknown with no refinements (cty `UnknownVal`; "known after apply").
    pub fn unknown() -> Self {
        Value::Unknown(Refinements::default())
    }

    /// A known string.
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// A known number from an integer (exact).
    pub fn int(n: i64) -> Self {
        Value::Number(Number::from(n))
    }

    /// An object from `(name, value)` pairs; a repeated name keeps the last value. Nothing
    /// checks it against a type: attributes left out are absent, not null, until decoded.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(it: I) -> Self {
        Value::Object(it.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map from `(key, value)` pairs; a repeated key keeps the last value.
    pub fn map<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(it: I) -> Self {
        Value::Map(it.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Attribute of an object (or entry of a map). Returns `Null` when the name is absent or
    /// `self` is not an object/map (including null and unknown), so absent and null are not
    /// distinguished; use [`Value::as_map`] when that matters.
    pub fn get(&self, attr: &str) -> &Value {
        match self {
            Value::Object(m) | Value::Map(m) => m.get(attr).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Mutable attribute of an object (or entry of a map); `None` when the name is absent or
    /// `self` is not an object/map.
    pub fn get_mut(&mut self, attr: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get_mut(attr),
            _ => None,
        }
    }

    /// Inserts or replaces an attribute of an object (or entry of a map). A silent no-op on
    /// anything else, including null and unknown; the name is not checked against a schema.
    pub fn set_attr(&mut self, attr: impl Into<String>, v: Value) {
        if let Value::Object(m) | Value::Map(m) = self {
            m.insert(attr.into(), v);
        }
    }

    /// The value at `path`; the root path returns `self`. Walking into a null or unknown
    /// returns that null/unknown (the path exists, its value is not known or absent). `None`
    /// when a step does not fit: missing attribute or key, index out of range or negative,
    /// a step into a set (not addressable) or a primitive.
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

    /// The value at `path`, mutable. Unlike [`Value::at_path`], walking into a null or
    /// unknown is `None` (there is nothing to mutate), as is every step that does not fit.
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

    /// True for `Null` (top level only; a known object with null attributes is not null).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True for a top-level unknown; a known container holding unknowns is not unknown
    /// (see [`Value::is_wholly_known`]).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True unless unknown at the top level (cty `IsKnown`): null is known, and nested
    /// unknowns are allowed.
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// True if there is no unknown anywhere inside (cty `IsWhollyKnown`); null is wholly
    /// known. Terraform requires apply and read results to be wholly known.
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

    /// The string; `None` for null, unknown and every other kind (no conversion).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool; `None` for null, unknown and every other kind (no conversion from strings).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number; `None` for null, unknown and every other kind (no parsing of strings).
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as `i64`; `None` if not a number, fractional, infinite or out of range
    /// (never truncates or saturates).
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The number as the nearest `f64` (may round; a finite number beyond `f64` range
    /// becomes ±infinity); `None` if not a number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// Elements of a list, set (in stored order, which is not significant) or tuple; `None`
    /// for null, unknown and every other kind.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of a map or attributes of an object (sorted by name); `None` for null,
    /// unknown and every other kind.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Element count of a list, set, tuple or map; `None` for objects, null, unknown and
    /// primitives (cty `LengthInt` does not apply to objects).
    pub fn collection_len(&self) -> Option<usize> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v.len()),
            Value::Map(m) => Some(m.len()),
            _ => None,
        }
    }

    /// The variant's name (`"null"`, `"unknown"`, `"string"`, …) for error messages; never
    /// the data, which may be sensitive.
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

    /// Best-effort type of a value, used to encode values in `dynamic` slots (values carry no
    /// type here). Null and unknown give `dynamic`; a list, set or map takes its element type
    /// from the first element that is neither null nor unknown (`dynamic` if none), without
    /// checking the others; objects give no optional attributes.
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
    ///
    /// Null and unknown conform to every type at any depth, and anything conforms to
    /// `dynamic`. An object must have no attribute outside `ty` and every non-optional one
    /// of `ty` present (null counts as present). Errors in set elements name the set.
    ///
    /// # Errors
    /// `(path, message)` for the first mismatch in attribute-name order; the message names
    /// kinds, never values.
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
    /// `None` becomes null, `Some(x)` becomes `x.into()`.
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
