//! The serde `Deserializer` reading a [`Value`] into a model.
//!
//! Strict by design: a struct must name exactly the attributes of the object it reads, and
//! each field's Rust type must match the value's kind, so a model that drifted from its
//! schema fails with the attribute path instead of reading a silent null.

use super::ModelError;
use super::field::FIELD_TOKEN;
use crate::value::{PathRef, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::collections::btree_map;

pub(super) struct Deserializer<'a> {
    v: &'a Value,
    /// Where `v` is; a borrowed chain, so descending costs nothing until an error needs the
    /// path (issue 11's profile: owned paths per field were a fifth of a refresh's work).
    loc: PathRef<'a>,
}

impl<'a> Deserializer<'a> {
    /// A deserializer of the whole value `v` (errors point into it from its root).
    pub(super) fn root(v: &'a Value) -> Self {
        Deserializer {
            v,
            loc: PathRef::Root,
        }
    }

    fn err(&self, message: impl Into<String>) -> ModelError {
        ModelError::at(&self.loc.to_path(), message)
    }

    /// The error for a value whose kind is not what the model asks for.
    fn mismatch(&self, want: &str) -> ModelError {
        match self.v {
            Value::Null => self.err(format!(
                "the value is null but the model field is a plain {want}; use Option<…> or Field<…>"
            )),
            Value::Unknown(_) => self.err(format!(
                "the value is unknown but the model field is a plain {want}; use Field<…>"
            )),
            v => self.err(format!("expected {want}, got {}", v.kind())),
        }
    }

    fn int<T: TryFrom<i64>>(&self, want: &str) -> Result<T, ModelError> {
        match self.v {
            Value::Number(n) => n
                .as_i64()
                .and_then(|i| T::try_from(i).ok())
                .ok_or_else(|| self.err(format!("{n} does not fit in a {want}"))),
            _ => Err(self.mismatch(want)),
        }
    }

    fn float(&self) -> Result<f64, ModelError> {
        match self.v {
            Value::Number(n) => Ok(n.as_f64()),
            _ => Err(self.mismatch("number")),
        }
    }
}

macro_rules! ints {
    ($($method:ident $visit:ident $t:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
            v.$visit(self.int::<$t>(stringify!($t))?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Deserializer<'_> {
    type Error = ModelError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match self.v {
            Value::Null => v.visit_none(),
            Value::Unknown(_) => {
                Err(self.err("the value is unknown; model it as Field<…> to see unknowns"))
            }
            Value::Bool(b) => v.visit_bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => v.visit_i64(i),
                None => v.visit_f64(n.as_f64()),
            },
            Value::String(s) => v.visit_str(s),
            Value::List(_) | Value::Set(_) | Value::Tuple(_) => self.deserialize_seq(v),
            Value::Map(_) | Value::Object(_) => self.deserialize_map(v),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match self.v {
            Value::Bool(b) => v.visit_bool(*b),
            _ => Err(self.mismatch("bool")),
        }
    }

    ints! {
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64,
        deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        v.visit_f32(self.float()? as f32)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        v.visit_f64(self.float()?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match self.v {
            Value::String(s) => v.visit_str(s),
            _ => Err(self.mismatch("string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _v: V) -> Result<V::Value, ModelError> {
        Err(self.err("byte fields are not supported; use String"))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        self.deserialize_bytes(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match self.v {
            Value::Null => v.visit_none(),
            Value::Unknown(_) => {
                Err(self.err("the value is unknown but the model field is an Option; use Field<…>"))
            }
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match self.v {
            Value::Null => v.visit_unit(),
            _ => Err(self.mismatch("null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, ModelError> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, ModelError> {
        if name == FIELD_TOKEN {
            return match self.v {
                Value::Null => v.visit_none(),
                Value::Unknown(_) => v.visit_unit(),
                _ => v.visit_some(self),
            };
        }
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        let (items, indexed) = match self.v {
            Value::List(items) | Value::Tuple(items) => (items, true),
            // Set elements have no path step: errors point at the set.
            Value::Set(items) => (items, false),
            _ => return Err(self.mismatch("list or set")),
        };
        v.visit_seq(Seq {
            items: items.iter().enumerate(),
            loc: &self.loc,
            indexed,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, ModelError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, ModelError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match self.v {
            Value::Map(m) | Value::Object(m) => v.visit_map(Entries {
                iter: m.iter(),
                loc: &self.loc,
                is_object: matches!(self.v, Value::Object(_)),
                current: None,
            }),
            _ => Err(self.mismatch("map")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ModelError> {
        let Value::Object(m) = self.v else {
            return Err(match self.v {
                Value::Map(_) => self.err(format!(
                    "the schema has a map here but the model {name} is a struct; use BTreeMap<String, …>"
                )),
                _ => self.mismatch(&format!("object (model {name})")),
            });
        };
        if same_names(fields, m) {
            return self.deserialize_map(v);
        }
        // They differ: say which name, in the model's declaration order.
        if let Some(f) = fields.iter().find(|f| !m.contains_key(**f)) {
            return Err(ModelError::at(
                &self.loc.to_path().with_attr(*f),
                format!(
                    "the model {name} has a field {f:?} that is not an attribute of the schema"
                ),
            ));
        }
        if let Some(k) = m.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(ModelError::at(
                &self.loc.to_path().with_attr(k),
                format!("the schema attribute {k:?} has no field in the model {name}"),
            ));
        }
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ModelError> {
        match self.v {
            Value::String(s) => {
                let de: de::value::StrDeserializer<'_, ModelError> = s.as_str().into_deserializer();
                v.visit_enum(de)
                    .map_err(|e| e.or_at_with(|| self.loc.to_path()))
            }
            _ => Err(self.mismatch(&format!("string (enum {name})"))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        v.visit_unit()
    }
}

/// Whether a model's fields are exactly an object's attributes. Every struct of every request
/// is checked, so it is one pass of the sorted field names beside the sorted keys, not a lookup
/// per field. The sorted names are kept per model type (serde's field list is a static, so its
/// address names the type): sorting them on every request was 3 % of a refresh plan.
fn same_names(
    fields: &'static [&'static str],
    m: &std::collections::BTreeMap<String, Value>,
) -> bool {
    if fields.len() != m.len() {
        return false;
    }
    let matches = |sorted: &[&str]| sorted.iter().zip(m.keys()).all(|(f, k)| *f == k.as_str());
    SORTED_FIELDS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let key = (fields.as_ptr() as usize, fields.len());
        if let Some((_, sorted)) = cache.iter().find(|(k, _)| *k == key) {
            return matches(sorted);
        }
        let mut sorted = fields.to_vec();
        sorted.sort_unstable();
        let same = matches(&sorted);
        // A provider has a bounded set of model types; the bound only guards against misuse.
        if cache.len() < MAX_CACHED_MODELS {
            cache.push((key, sorted.into_boxed_slice()));
        }
        same
    })
}

/// Model types whose sorted field names [`same_names`] keeps (per thread).
const MAX_CACHED_MODELS: usize = 512;

type SortedFields = Vec<((usize, usize), Box<[&'static str]>)>;

thread_local! {
    static SORTED_FIELDS: std::cell::RefCell<SortedFields> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Seq<'a, I> {
    items: I,
    loc: &'a PathRef<'a>,
    indexed: bool,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Value)>> de::SeqAccess<'de> for Seq<'a, I> {
    type Error = ModelError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ModelError> {
        let Some((i, item)) = self.items.next() else {
            return Ok(None);
        };
        // Set elements have no path step: errors point at the set.
        let loc = if self.indexed {
            self.loc.index(i)
        } else {
            *self.loc
        };
        seed.deserialize(Deserializer { v: item, loc })
            .map(Some)
            .map_err(|e| e.or_at_with(|| loc.to_path()))
    }
}

struct Entries<'a> {
    iter: btree_map::Iter<'a, String, Value>,
    loc: &'a PathRef<'a>,
    is_object: bool,
    current: Option<(&'a String, &'a Value)>,
}

impl<'de> de::MapAccess<'de> for Entries<'_> {
    type Error = ModelError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ModelError> {
        let Some((k, v)) = self.iter.next() else {
            return Ok(None);
        };
        self.current = Some((k, v));
        let de: de::value::StrDeserializer<'_, ModelError> = k.as_str().into_deserializer();
        seed.deserialize(de).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ModelError> {
        let Some((k, v)) = self.current.take() else {
            return Err(ModelError::at(
                &self.loc.to_path(),
                "value requested before its key",
            ));
        };
        let loc = if self.is_object {
            self.loc.attr(k)
        } else {
            self.loc.key(k)
        };
        seed.deserialize(Deserializer { v, loc })
            .map_err(|e| e.or_at_with(|| loc.to_path()))
    }
}
