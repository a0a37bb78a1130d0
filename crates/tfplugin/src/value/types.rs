//! cty types.

use std::collections::{BTreeMap, BTreeSet};

/// A Terraform (cty) type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `bool`
    Bool,
    /// `number` (arbitrary precision)
    Number,
    /// `string`
    String,
    /// `dynamic`: the concrete type travels with the value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`
    Object(ObjectType),
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

/// An object type: attribute types plus the optional-attribute set
/// (optional attributes only appear in type constraints, e.g. function parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ObjectType {
    /// Attribute name → type.
    pub attrs: BTreeMap<String, Type>,
    /// Names of optional attributes.
    pub optional: BTreeSet<String>,
}

impl ObjectType {
    /// An object type with no optional attributes.
    pub fn new<K: Into<String>, I: IntoIterator<Item = (K, Type)>>(attrs: I) -> Self {
        ObjectType {
            attrs: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            optional: BTreeSet::new(),
        }
    }
}

impl Type {
    /// `object({...})` from `(name, type)` pairs.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Type)>>(attrs: I) -> Type {
        Type::Object(ObjectType::new(attrs))
    }

    /// `list(T)`
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// `set(T)`
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    /// `map(T)`
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// True if `dynamic` occurs anywhere inside.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object(o) => o.attrs.values().any(Type::has_dynamic),
            Type::Tuple(ts) => ts.iter().any(Type::has_dynamic),
            _ => false,
        }
    }

    /// Attribute types if this is an object type.
    pub fn object_attrs(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(o) => Some(&o.attrs),
            _ => None,
        }
    }

    /// Human-readable name (cty's `FriendlyName`), for messages.
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
