//! [`Field<T>`]: an attribute that may be null, unknown or known.

use serde::de::{Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// The newtype name through which [`Field`] and the model codecs recognise each other, so
/// that "unknown" survives serde (which has no such notion).
pub(crate) const FIELD_TOKEN: &str = "$tfplugin::Field";
/// The unit-struct name the serializer turns into an unknown value.
pub(crate) const UNKNOWN_TOKEN: &str = "$tfplugin::Unknown";

/// A model field whose attribute may be null, unknown ("known after apply") or known: the
/// counterpart of terraform-plugin-framework's `types.String`, `types.Int64`, ….
///
/// Use it for optional and computed attributes in configuration and plans. In a state,
/// nothing is unknown, so `Option<T>` is enough there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Field<T> {
    /// Not set.
    #[default]
    Null,
    /// Known only after apply.
    Unknown,
    /// Set to this value.
    Known(T),
}

impl<T> Field<T> {
    /// True when null.
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// True when unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }

    /// True when known (not null, not unknown).
    pub fn is_known(&self) -> bool {
        matches!(self, Field::Known(_))
    }

    /// The known value, if any.
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }

    /// The known value, consuming the field; `None` for null and unknown.
    pub fn into_known(self) -> Option<T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }

    /// A borrowed view, for comparing and matching without moving.
    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(v),
        }
    }

    /// Applies `f` to a known value; null and unknown stay as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(f(v)),
        }
    }

    /// Replaces an unknown with `f()`; null and known stay (used when a plan's unknowns
    /// must be settled, e.g. in the partial state of a failed create).
    pub fn or_if_unknown(self, f: impl FnOnce() -> Field<T>) -> Field<T> {
        match self {
            Field::Unknown => f(),
            other => other,
        }
    }
}

impl<T: Clone> Field<T> {
    /// The known value cloned, or `default` for null and unknown.
    pub fn known_or(&self, default: T) -> T {
        self.known().cloned().unwrap_or(default)
    }
}

impl Field<String> {
    /// The known string, if any.
    pub fn as_str(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
}

impl<T> From<T> for Field<T> {
    fn from(v: T) -> Self {
        Field::Known(v)
    }
}

impl<T> From<Option<T>> for Field<T> {
    /// `None` is null.
    fn from(v: Option<T>) -> Self {
        v.map_or(Field::Null, Field::Known)
    }
}

impl From<&str> for Field<String> {
    fn from(v: &str) -> Self {
        Field::Known(v.to_string())
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Null => s.serialize_none(),
            // Our serializer makes this an unknown; others (serde_json) see a null.
            Field::Unknown => s.serialize_unit_struct(UNKNOWN_TOKEN),
            Field::Known(v) => s.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(FIELD_TOKEN, FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a null, unknown or known value")
    }

    // Our deserializer: null → none, unknown → unit, known → some.
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Unknown)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        T::deserialize(d).map(Field::Known)
    }

    // Other deserializers (serde_json): no unknowns; null or a value.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Option::<T>::deserialize(d).map(Field::from)
    }
}
