//! The serde `Serializer` turning a model into a [`Value`] of the model's own shape.
//!
//! Types are not known here: structs become objects, sequences lists, maps maps. The
//! framework then fits the value to the schema's type with [`super::conform`], which turns
//! lists into sets where the schema has sets and rejects attributes that do not fit.

use super::ModelError;
use super::field::UNKNOWN_TOKEN;
use crate::value::{AttributePath, Number, PathStep, Value};
use serde::ser::{self, Serialize};
use std::collections::BTreeMap;

pub(super) struct Serializer;

fn unsupported(what: &str) -> ModelError {
    ModelError::at(
        &AttributePath::root(),
        format!("{what} cannot be written as a Terraform value"),
    )
}

impl ser::Serializer for Serializer {
    type Ok = Value;
    type Error = ModelError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = ser::Impossible<Value, ModelError>;
    type SerializeMap = Map;
    type SerializeStruct = Struct;
    type SerializeStructVariant = ser::Impossible<Value, ModelError>;

    fn serialize_bool(self, v: bool) -> Result<Value, ModelError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ModelError> {
        Ok(Value::int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ModelError> {
        Ok(Value::int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ModelError> {
        Ok(Value::int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ModelError> {
        Ok(Value::int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ModelError> {
        Ok(Value::int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ModelError> {
        Ok(Value::int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ModelError> {
        Ok(Value::int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ModelError> {
        Ok(Value::Number(Number::from(v)))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ModelError> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ModelError> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| unsupported("NaN"))
    }
    fn serialize_char(self, v: char) -> Result<Value, ModelError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ModelError> {
        Ok(Value::string(v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Value, ModelError> {
        Err(unsupported("a byte string"))
    }
    fn serialize_none(self) -> Result<Value, ModelError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value, ModelError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ModelError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Value, ModelError> {
        Ok(if name == UNKNOWN_TOKEN {
            Value::unknown()
        } else {
            Value::Null
        })
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ModelError> {
        Ok(Value::string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        v: &T,
    ) -> Result<Value, ModelError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _v: &T,
    ) -> Result<Value, ModelError> {
        Err(unsupported(&format!(
            "the enum variant {name}::{variant} with data"
        )))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, ModelError> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, ModelError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq, ModelError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ModelError> {
        Err(unsupported(&format!(
            "the enum variant {name}::{variant} with data"
        )))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map, ModelError> {
        Ok(Map {
            entries: BTreeMap::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Struct, ModelError> {
        Ok(Struct(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ModelError> {
        Err(unsupported(&format!(
            "the enum variant {name}::{variant} with data"
        )))
    }
}

pub(super) struct Seq(Vec<Value>);

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        let i = i64::try_from(self.0.len()).unwrap_or(i64::MAX);
        let item = v
            .serialize(Serializer)
            .map_err(|e| e.within(PathStep::Index(i)))?;
        self.0.push(item);
        Ok(())
    }
}

impl ser::SerializeSeq for Seq {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        self.push(v)
    }
    fn end(self) -> Result<Value, ModelError> {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        self.push(v)
    }
    fn end(self) -> Result<Value, ModelError> {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        self.push(v)
    }
    fn end(self) -> Result<Value, ModelError> {
        Ok(Value::List(self.0))
    }
}

pub(super) struct Map {
    entries: BTreeMap<String, Value>,
    key: Option<String>,
}

impl ser::SerializeMap for Map {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), ModelError> {
        match k.serialize(Serializer)? {
            Value::String(s) => {
                self.key = Some(s);
                Ok(())
            }
            other => Err(unsupported(&format!("a map key of kind {}", other.kind()))),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        let Some(k) = self.key.take() else {
            return Err(unsupported("a map value without a key"));
        };
        let item = v
            .serialize(Serializer)
            .map_err(|e| e.within(PathStep::Key(k.clone())))?;
        self.entries.insert(k, item);
        Ok(())
    }
    fn end(self) -> Result<Value, ModelError> {
        Ok(Value::Map(self.entries))
    }
}

/// A struct's fields as serialised, in declaration order; sorted into the object once, at the end
/// (one sort and a bulk build, not a search per field).
pub(super) struct Struct(Vec<(String, Value)>);

impl ser::SerializeStruct for Struct {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), ModelError> {
        let item = v
            .serialize(Serializer)
            .map_err(|e| e.within(PathStep::Attribute(key.to_string())))?;
        self.0.push((key.to_string(), item));
        Ok(())
    }
    fn end(self) -> Result<Value, ModelError> {
        Ok(Value::Object(self.0.into_iter().collect()))
    }
}
