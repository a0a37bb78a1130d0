//! cty types.

use std::collections::{BTreeMap, BTreeSet};

/// A Terraform (cty) type. Equality is structural (cty `Type.Equals`); for objects it
/// includes the optional-attribute set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `bool`. The JSON decoder also accepts the strings `"true"`/`"false"`.
    Bool,
    /// `number`: arbitrary precision, see [`Number`](super::Number).
    Number,
    /// `string`. The JSON decoder also accepts numbers and bools, as their text.
    String,
    /// `dynamic` (cty `DynamicPseudoType`): the concrete type travels with the value on the
    /// wire (`[type JSON, value]` in msgpack, `{"value","type"}` in JSON).
    Dynamic,
    /// `list(T)`: ordered, elements addressed by index.
    List(Box<Type>),
    /// `set(T)`: unordered; elements cannot be addressed by a path.
    Set(Box<Type>),
    /// `map(T)`: string keys, one element type.
    Map(Box<Type>),
    /// `object({...})`: a fixed set of named attributes, each with its own type.
    Object(ObjectType),
    /// `tuple([...])`: fixed length, one type per position.
    Tuple(Vec<Type>),
}

/// An object type: attribute types plus the optional-attribute set
/// (optional attributes only appear in type constraints, e.g. function parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ObjectType {
    /// Attribute name → type (sorted, which is also the wire order of object encodings).
    pub attrs: BTreeMap<String, Type>,
    /// Names of optional attributes (cty `ObjectWithOptionalAttrs`); each must be a key of
    /// `attrs`. A value may omit them; the decoders still fill them with null.
    pub optional: BTreeSet<String>,
}

impl ObjectType {
    /// An object type with no optional attributes; a repeated name keeps the last type.
    pub fn new<K: Into<String>, I: IntoIterator<Item = (K, Type)>>(attrs: I) -> Self {
        ObjectType {
            attrs: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            optional: BTreeSet::new(),
        }
    }
}

impl Type {
    /// `object({...})` from `(name, type)` pairs, no optional attributes.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Type)>>(attrs: I) -> Type {
        Type::Object(ObjectType::new(attrs))
    }

    /// `list(t)`.
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// `set(t)`.
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    /// `map(t)`.
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// True if `dynamic` occurs anywhere inside, including `self` (cty `HasDynamicTypes`).
    /// Such types need their concrete type on the wire.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object(o) => o.attrs.values().any(Type::has_dynamic),
            Type::Tuple(ts) => ts.iter().any(Type::has_dynamic),
            _ => false,
        }
    }

    /// Attribute types if this is an object type; `None` for every other type (including
    /// `dynamic`).
    pub fn object_attrs(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(o) => Some(&o.attrs),
            _ => None,
        }
    }

    /// Human-readable name for messages, like cty's `FriendlyName`: `"list of string"`;
    /// objects and tuples are just `"object"` / `"tuple"`.
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::Dynamic => "dynamic".into(),
            Type::List(t) => format!("list of {}", t.friendly_name()),
            Type::Set(t) => format!("set of {}", t.friendly_name()),
            Type::Map(t) => format!("map of {}", t.friendly_name()),
            Type::Object(_) => "object".into(),
            Type::Tuple(_) => "tuple".into(),
        }
    }
}
