//! Terraform values and types (cty's model), plus their wire codecs.
//!
//! * [`Type`] / [`Value`]: the data model. Values do not carry their type; codecs are
//!   driven by the schema's implied type, exactly as Terraform does it.
//! * [`msgpack`]: the `DynamicValue` encoding Terraform always sends (and we always answer with).
//! * [`json`]: the JSON encoding (accepted in `DynamicValue`, used by `RawState`).
//! * [`type_json`]: cty's type JSON (schema `type` bytes, dynamic wrappers).
//! * [`raw_state`]: stored state decoding (JSON and legacy flatmap) for `UpgradeResourceState`
//!   (`json_raw`: its one-pass fast path for JSON of the current schema).

pub(crate) mod join;
pub mod json;
mod json_raw;
pub mod msgpack;
mod number;
mod path;
pub mod raw_state;
pub mod type_json;
mod types;

pub use number::{Number, ParseNumberError};
pub use path::{AttributePath, PathRef, PathStep};
pub use types::{ObjectType, Type};

use std::collections::BTreeMap;
use std::fmt;

/// What is known about an unknown value (cty refinements, Terraform ≥ 1.6, msgpack ext 12).
///
/// The default (nothing known) is an unrefined unknown. A plan that refines an unknown
/// promises the final value; [`Refinements::admits`] checks that promise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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

/// No refinements; what an unrefined [`Unknown`] dereferences to.
static NO_REFINEMENTS: Refinements = Refinements {
    not_null: false,
    string_prefix: None,
    number_lower: None,
    number_upper: None,
    length_lower: None,
    length_upper: None,
};

/// The payload of [`Value::Unknown`]: the unknown's [`Refinements`], boxed only when there
/// are some, so a plain unknown is one pointer wide and allocates nothing.
///
/// It dereferences to its refinements (`u.not_null`, `u.admits(v)`), and compares by them:
/// an `Unknown` holding empty refinements equals [`Unknown::default`].
#[derive(Clone, Default)]
pub struct Unknown(Option<Box<Refinements>>);

impl Unknown {
    /// An unknown with these refinements (none allocated when they are empty).
    pub fn new(r: Refinements) -> Self {
        if r.is_empty() {
            Unknown(None)
        } else {
            Unknown(Some(Box::new(r)))
        }
    }

    /// The refinements (the shared empty set for a plain unknown).
    pub fn refinements(&self) -> &Refinements {
        self.0.as_deref().unwrap_or(&NO_REFINEMENTS)
    }

    /// The refinements, mutably; allocates them for a plain unknown.
    pub fn refinements_mut(&mut self) -> &mut Refinements {
        self.0.get_or_insert_with(Box::default)
    }

    /// The refinements by value.
    pub fn into_refinements(self) -> Refinements {
        self.0.map(|b| *b).unwrap_or_default()
    }
}

impl std::ops::Deref for Unknown {
    type Target = Refinements;
    fn deref(&self) -> &Refinements {
        self.refinements()
    }
}

impl std::ops::DerefMut for Unknown {
    fn deref_mut(&mut self) -> &mut Refinements {
        self.refinements_mut()
    }
}

impl PartialEq for Unknown {
    fn eq(&self, other: &Self) -> bool {
        self.refinements() == other.refinements()
    }
}

impl Eq for Unknown {}

impl std::hash::Hash for Unknown {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.refinements().hash(state);
    }
}

impl fmt::Debug for Unknown {
    /// As its refinements (`Refinements { .. }`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.refinements().fmt(f)
    }
}

impl From<Refinements> for Unknown {
    fn from(r: Refinements) -> Self {
        Unknown::new(r)
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
    /// top level is unknown; a known container may hold unknown elements. The payload
    /// dereferences to [`Refinements`]; build one with [`Value::unknown`] or
    /// [`Value::refined_unknown`].
    Unknown(Unknown),
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
    /// Structural equality: numbers compare numerically, sets as multisets (O(n log n), see
    /// `set_eq`),
    /// unknowns by their refinements, and list ≠ tuple, map ≠ object even with equal contents.
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Value::Unknown(a), Value::Unknown(b)) => a == b,
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

/// Multiset equality of set elements in O(n log n) element work: every element gets a
/// fingerprint (a keyed hash that equal values share, see [`fingerprint`]), both sides are
/// sorted by it, and only elements with the same fingerprint are compared with `==`. Without
/// hash collisions that is at most one `==` per element, duplicates included; colliding
/// unequal elements fall back to pairwise matching within their (tiny) group.
fn set_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.is_empty() {
        return true;
    }
    if a.len() == 1 {
        count_set_cmp();
        return a[0] == b[0];
    }
    let keys = fingerprint_keys();
    let tag = |v: &[Value]| -> Vec<(u64, usize)> {
        let mut t: Vec<(u64, usize)> = v
            .iter()
            .enumerate()
            .map(|(i, x)| (fingerprint(x, keys), i))
            .collect();
        t.sort_unstable();
        t
    };
    let (ta, tb) = (tag(a), tag(b));
    // equal multisets have equal fingerprint multisets
    if ta.iter().zip(&tb).any(|(x, y)| x.0 != y.0) {
        return false;
    }
    let mut start = 0;
    while start < ta.len() {
        let fp = ta[start].0;
        let end = start + ta[start..].iter().take_while(|x| x.0 == fp).count();
        // greedy matching is exact for an equivalence relation; the first candidate
        // matches unless fingerprints collided
        let mut rest: Vec<&Value> = tb[start..end].iter().map(|&(_, i)| &b[i]).collect();
        for &(_, i) in &ta[start..end] {
            let x = &a[i];
            let Some(pos) = rest.iter().position(|y| {
                count_set_cmp();
                x == *y
            }) else {
                return false;
            };
            rest.swap_remove(pos);
        }
        start = end;
    }
    true
}

/// The per-process hash keys of set fingerprints (random, so colliding elements cannot be
/// crafted in advance).
fn fingerprint_keys() -> &'static std::collections::hash_map::RandomState {
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(Default::default)
}

/// A hash of `v` that agrees with `==`: equal values have equal fingerprints. Numbers hash
/// their canonical form, unknowns their refinements, sets the wrapping sum of their
/// elements' fingerprints (order-independent, duplicates counted).
fn fingerprint(v: &Value, keys: &std::collections::hash_map::RandomState) -> u64 {
    use std::hash::BuildHasher;
    let mut h = keys.build_hasher();
    fingerprint_into(v, keys, &mut h);
    std::hash::Hasher::finish(&h)
}

fn fingerprint_into<H: std::hash::Hasher>(
    v: &Value,
    keys: &std::collections::hash_map::RandomState,
    h: &mut H,
) {
    use std::hash::Hash;
    std::mem::discriminant(v).hash(h);
    match v {
        Value::Null => {}
        Value::Unknown(u) => u.hash(h),
        Value::Bool(b) => b.hash(h),
        Value::Number(n) => n.hash(h),
        Value::String(s) => s.hash(h),
        Value::List(items) | Value::Tuple(items) => {
            items.len().hash(h);
            for it in items {
                fingerprint_into(it, keys, h);
            }
        }
        Value::Set(items) => {
            items.len().hash(h);
            items
                .iter()
                .fold(0u64, |acc, it| acc.wrapping_add(fingerprint(it, keys)))
                .hash(h);
        }
        Value::Map(m) | Value::Object(m) => {
            m.len().hash(h);
            for (k, it) in m {
                k.hash(h);
                fingerprint_into(it, keys, h);
            }
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Element comparisons made by `set_eq` on this thread (tests count work with it).
    static SET_CMPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[inline]
fn count_set_cmp() {
    #[cfg(test)]
    SET_CMPS.with(|c| c.set(c.get() + 1));
}

impl Value {
    /// An unknown with no refinements (cty `UnknownVal`; "known after apply").
    pub fn unknown() -> Self {
        Value::Unknown(Unknown::default())
    }

    /// An unknown with refinements (a plain unknown when `r` is empty).
    pub fn refined_unknown(r: Refinements) -> Self {
        Value::Unknown(Unknown::new(r))
    }

    /// The refinements of a top-level unknown; `None` for every known value and null.
    pub fn refinements(&self) -> Option<&Refinements> {
        match self {
            Value::Unknown(u) => Some(u.refinements()),
            _ => None,
        }
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

    /// A cheap estimate of the heap bytes this value owns (its own `size_of::<Value>()`
    /// excluded): string and vector capacities, B-tree nodes of maps and objects, boxed
    /// numbers and refinements. Meant for bounds ("decoding N bytes never builds more than
    /// k·N bytes", as the fuzz targets check), not for accounting.
    pub fn estimated_heap_size(&self) -> usize {
        /// A B-tree node holds up to 11 entries (key, value) plus links; non-root nodes are
        /// at least half full, so `ceil(n / 5)` nodes of this size bound a map of `n`.
        const NODE: usize = 16
            + 11 * (std::mem::size_of::<String>() + std::mem::size_of::<Value>())
            + 12 * std::mem::size_of::<usize>();
        match self {
            Value::Null | Value::Bool(_) => 0,
            Value::Unknown(u) => u.0.as_deref().map_or(0, |r| {
                std::mem::size_of::<Refinements>()
                    + r.string_prefix.as_ref().map_or(0, String::capacity)
                    + r.number_lower.as_ref().map_or(0, |(n, _)| n.heap_size())
                    + r.number_upper.as_ref().map_or(0, |(n, _)| n.heap_size())
            }),
            Value::Number(n) => n.heap_size(),
            Value::String(s) => s.capacity(),
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.capacity() * std::mem::size_of::<Value>()
                    + v.iter().map(Value::estimated_heap_size).sum::<usize>()
            }
            Value::Map(m) | Value::Object(m) => {
                m.len().div_ceil(5) * NODE
                    + m.iter()
                        .map(|(k, v)| k.capacity() + v.estimated_heap_size())
                        .sum::<usize>()
            }
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
        conforms(self, ty, &PathRef::Root)
    }
}

fn conforms(v: &Value, ty: &Type, path: &PathRef<'_>) -> Result<(), (AttributePath, String)> {
    let bad = |want: &str| Err((path.to_path(), format!("expected {want}, got {}", v.kind())));
    match (ty, v) {
        (_, Value::Null | Value::Unknown(_)) | (Type::Dynamic, _) => Ok(()),
        (Type::Bool, Value::Bool(_))
        | (Type::Number, Value::Number(_))
        | (Type::String, Value::String(_)) => Ok(()),
        (Type::List(e), Value::List(items)) | (Type::Set(e), Value::Set(items)) => {
            for (i, it) in items.iter().enumerate() {
                // Set elements have no path step: errors name the set.
                let p = if matches!(ty, Type::List(_)) {
                    path.index(i)
                } else {
                    *path
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
                conforms(it, t, &path.index(i))?;
            }
            Ok(())
        }
        (Type::Map(e), Value::Map(m)) => {
            for (k, it) in m {
                conforms(it, e, &path.key(k))?;
            }
            Ok(())
        }
        (Type::Object(o), Value::Object(m)) => {
            for pair in join::join(&o.attrs, m.iter()) {
                match pair {
                    join::Pair::Both(k, t, it) => conforms(it, t, &path.attr(k))?,
                    join::Pair::TypeOnly(k, _) if o.optional.contains(k) => {}
                    join::Pair::TypeOnly(k, _) => {
                        return Err((path.attr(k).to_path(), "attribute is missing".into()));
                    }
                    join::Pair::ValueOnly(k, _) => {
                        return Err((path.attr(k).to_path(), "unsupported attribute".into()));
                    }
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

/// Absent object attributes a decoder fills with null, at most, after decoding `items`
/// values: generous for lenient input (a few absent attributes per object), linear in the
/// input for hostile input (a one-byte `{}` of a wide object type declared in a `dynamic`
/// wrapper, repeated, would otherwise be quadratic).
pub(crate) fn fill_budget(items: usize) -> usize {
    4096 + 16 * items
}

/// The decoders' message when [`fill_budget`] is exceeded.
pub(crate) const FILL_BUDGET_EXCEEDED: &str =
    "too many absent object attributes for the size of the input";

/// Inside a `dynamic` wrapper, the elements of a list, set or map whose element type is
/// `dynamic` must share one type, as in cty (every element of a cty collection has the
/// collection's element type): the one the encoder infers for a value in a `dynamic` slot
/// ([`Value::infer_type`] of the collection), so that the value re-encodes to itself. (A
/// schema's own `list(dynamic)` wraps each element with its own type, so it needs no check.)
pub(crate) fn dynamic_elements_agree<'a>(
    elem: &Type,
    items: impl Iterator<Item = &'a Value> + Clone,
) -> Result<(), String> {
    if *elem != Type::Dynamic {
        return Ok(());
    }
    let Some(first) = items.clone().find(|x| !x.is_null() && !x.is_unknown()) else {
        return Ok(());
    };
    let t = first.infer_type();
    if items.into_iter().all(|x| x.conforms(&t).is_ok()) {
        Ok(())
    } else {
        Err("the elements of a collection of dynamic type have different types".into())
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

    /// Defect 13: a one-byte msgpack nil must not become a large `Value`.
    #[test]
    fn value_is_small_and_plain_unknowns_allocate_nothing() {
        assert!(
            std::mem::size_of::<Value>() <= 32,
            "size_of::<Value>() = {}",
            std::mem::size_of::<Value>()
        );
        assert!(std::mem::size_of::<Number>() <= 16);
        assert_eq!(std::mem::size_of::<Unknown>(), std::mem::size_of::<usize>());
        let Value::Unknown(u) = Value::unknown() else {
            panic!("not unknown")
        };
        assert!(u.0.is_none(), "a plain unknown must not allocate");
        let Value::Unknown(u) = Value::refined_unknown(Refinements::default()) else {
            panic!("not unknown")
        };
        assert!(u.0.is_none(), "empty refinements must not allocate");
    }

    #[test]
    fn unknown_refinements_api() {
        let r = Refinements {
            not_null: true,
            string_prefix: Some("p-".into()),
            ..Refinements::default()
        };
        let v = Value::refined_unknown(r.clone());
        assert_eq!(v.refinements(), Some(&r));
        assert_ne!(v, Value::unknown());
        let Value::Unknown(mut u) = v else {
            panic!("not unknown")
        };
        assert!(u.not_null && u.admits(&Value::from("p-1")) && !u.admits(&Value::Null));
        // mutated back to nothing known, it equals a plain unknown again
        u.not_null = false;
        u.string_prefix = None;
        assert_eq!(Value::Unknown(u), Value::unknown());
        assert_eq!(Value::from("x").refinements(), None);
        assert_eq!(
            Value::unknown().refinements(),
            Some(&Refinements::default())
        );
    }

    fn set_cmps() -> u64 {
        SET_CMPS.with(std::cell::Cell::get)
    }

    #[test]
    fn set_equality_is_a_multiset_comparison() {
        let s = |v: Vec<Value>| Value::Set(v);
        let n = |t: &str| Value::Number(Number::parse(t).expect("num"));
        // multiplicities count
        assert_ne!(
            s(vec![Value::from("a"), Value::from("a"), Value::from("b")]),
            s(vec![Value::from("a"), Value::from("b"), Value::from("b")])
        );
        assert_eq!(
            s(vec![Value::from("a"), Value::from("b"), Value::from("a")]),
            s(vec![Value::from("a"), Value::from("a"), Value::from("b")])
        );
        // numbers numerically, nested sets as sets, unknowns by refinements
        assert_eq!(s(vec![n("1.50"), n("2")]), s(vec![n("2.0"), n("15e-1")]));
        assert_eq!(
            s(vec![s(vec![n("1"), n("2")]), s(vec![])]),
            s(vec![s(vec![]), s(vec![n("2"), n("1")])])
        );
        let refined = Value::refined_unknown(Refinements {
            not_null: true,
            ..Refinements::default()
        });
        assert_eq!(
            s(vec![refined.clone(), Value::unknown()]),
            s(vec![Value::unknown(), refined.clone()])
        );
        assert_ne!(
            s(vec![refined.clone(), refined.clone()]),
            s(vec![Value::unknown(), refined])
        );
        // list ≠ tuple and map ≠ object inside sets too
        assert_ne!(
            s(vec![Value::List(vec![]), Value::Null]),
            s(vec![Value::Tuple(vec![]), Value::Null])
        );
        assert_ne!(
            s(vec![Value::map([("a", Value::Null)]), Value::Null]),
            s(vec![Value::object([("a", Value::Null)]), Value::Null])
        );
    }

    /// Set equality used to match elements pairwise (O(n²)): 200,000 elements would have
    /// taken ~2·10¹⁰ comparisons. Counted, never timed.
    #[test]
    fn large_set_equality_is_linear_in_comparisons() {
        const N: usize = 200_000;
        let a: Vec<Value> = (0..N)
            .map(|i| Value::from(format!("element-{i}")))
            .collect();
        let mut b = a.clone();
        b.reverse();
        let before = set_cmps();
        assert_eq!(Value::Set(a.clone()), Value::Set(b.clone()));
        let used = set_cmps() - before;
        assert!(used <= N as u64 + 16, "{used} comparisons for {N} elements");

        // all duplicates: still one comparison per element
        let dup = vec![Value::int(7); N];
        let before = set_cmps();
        assert_eq!(Value::Set(dup.clone()), Value::Set(dup));
        assert!(set_cmps() - before <= N as u64 + 16);

        // one element differs: found without pairwise matching
        b[N / 2] = Value::from("other");
        let before = set_cmps();
        assert_ne!(Value::Set(a), Value::Set(b));
        assert!(set_cmps() - before <= N as u64 + 16);
    }

    #[test]
    fn conformance_names_path() {
        let ty = Type::object([("n", Type::Number)]);
        let v = Value::object([("n", Value::from("x"))]);
        let (p, _) = v.conforms(&ty).expect_err("must fail");
        assert_eq!(p, AttributePath::attr("n"));
    }
}
