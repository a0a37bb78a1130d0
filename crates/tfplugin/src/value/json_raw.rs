//! Stored-state JSON decoded straight into a [`Value`] in one pass, without serde_json's tree.
//!
//! `UpgradeResourceState` runs once per object on every plan, and the general decoder
//! ([`super::json::from_json`]) first builds a `serde_json::Value` (a heap string per key and
//! per string, a map node per object) only to copy it into our `Value` and free it. Here the
//! parser's events drive the schema type directly (a `DeserializeSeed` per type), so the only
//! allocations are the result's.
//!
//! It is a fast path, not a second decoder to keep in step: it handles the shapes Terraform
//! writes (object and map keys in sorted order, numbers as numbers) and gives up (`None`) on
//! anything else — a `dynamic` slot, keys out of order or repeated, a scalar in another kind's
//! slot, the fill budget, invalid JSON — and the caller then runs the general decoder, which
//! produces the same value or the precise error. Where it succeeds it matches the general decoder
//! exactly (absent attributes null, unknown attributes dropped, the fill budget counted at the same
//! points); `tests` and the `raw_state` fuzz target compare the two.

use super::{Number, Type, Value};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

/// Decodes stored state JSON as `ty` with unknown attributes dropped, or `None` when the
/// general decoder must decide (see the module docs).
pub(crate) fn decode_state(ty: &Type, bytes: &[u8]) -> Option<Value> {
    let budget = Budget {
        items: Cell::new(0),
        fills: Cell::new(0),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Seed {
        ty,
        budget: &budget,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    Some(v)
}

/// The general decoder's counters for its fill budget ([`super::fill_budget`]).
struct Budget {
    items: Cell<usize>,
    fills: Cell<usize>,
}

/// Why the fast path gave up; never shown (the general decoder reports the real error).
#[derive(Debug)]
struct GiveUp;

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not on the fast path")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    fn custom<T: fmt::Display>(_: T) -> Self {
        GiveUp
    }
}

/// Decodes one value of `ty`.
#[derive(Clone, Copy)]
struct Seed<'a> {
    ty: &'a Type,
    budget: &'a Budget,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let b = self.budget;
        b.items.set(b.items.get() + 1);
        match self.ty {
            // serde_json's `Number` reads the literal text (`arbitrary_precision`); a number
            // written as a string is for the general decoder.
            Type::Number => match Option::<serde_json::Number>::deserialize(d)? {
                None => Ok(Value::Null),
                Some(n) => Number::parse(n.as_str())
                    .map(Value::Number)
                    .map_err(|_| de::Error::custom(GiveUp)),
            },
            // Containers ask for their own kind: with `arbitrary_precision` serde_json hands a
            // number to `deserialize_any` as a one-entry map, which must not pass for an object.
            Type::Object(_) | Type::Map(_) => d.deserialize_option(OrNull {
                seed: self,
                map: true,
            }),
            Type::List(_) | Type::Set(_) | Type::Tuple(_) => d.deserialize_option(OrNull {
                seed: self,
                map: false,
            }),
            // Strings and bools; a `dynamic` slot is null here, its `{"value", "type"}` wrapper
            // is for the general decoder (every visit but `visit_unit` gives up on it).
            _ => d.deserialize_any(self),
        }
    }
}

/// Null, or the container `seed` decodes (a JSON object when `map`, else an array).
struct OrNull<'a> {
    seed: Seed<'a>,
    map: bool,
}

impl<'de> Visitor<'de> for OrNull<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null or a container")
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.map {
            d.deserialize_map(self.seed)
        } else {
            d.deserialize_seq(self.seed)
        }
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value of the schema type")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        match self.ty {
            Type::Bool => Ok(Value::Bool(v)),
            _ => Err(E::custom(GiveUp)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        match (self.ty, v) {
            (Type::String, _) => Ok(Value::String(v.to_string())),
            (Type::Bool, "true") => Ok(Value::Bool(true)),
            (Type::Bool, "false") => Ok(Value::Bool(false)),
            _ => Err(E::custom(GiveUp)),
        }
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        match self.ty {
            Type::String => Ok(Value::String(v)),
            _ => self.visit_str(&v),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let elements = |seq: &mut A, e: &Type| -> Result<Vec<Value>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            let seed = self.of(e);
            while let Some(v) = seq.next_element_seed(seed)? {
                out.push(v);
            }
            Ok(out)
        };
        match self.ty {
            Type::List(e) => elements(&mut seq, e).map(Value::List),
            Type::Set(e) => elements(&mut seq, e).map(Value::Set),
            Type::Tuple(ts) => {
                let mut out = Vec::with_capacity(ts.len());
                for t in ts {
                    let seed = self.of(t);
                    match seq.next_element_seed(seed)? {
                        Some(v) => out.push(v),
                        None => return Err(de::Error::custom(GiveUp)),
                    }
                }
                match seq.next_element::<IgnoredAny>()? {
                    None => Ok(Value::Tuple(out)),
                    Some(_) => Err(de::Error::custom(GiveUp)),
                }
            }
            _ => Err(de::Error::custom(GiveUp)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        match self.ty {
            Type::Map(e) => {
                let seed = self.of(e);
                let mut out: Vec<(String, Value)> = Vec::new();
                while let Some(k) = map.next_key_seed(Key)? {
                    if out
                        .last()
                        .is_some_and(|(last, _)| last.as_str() >= k.as_ref())
                    {
                        return Err(de::Error::custom(GiveUp)); // out of order or repeated
                    }
                    let v = map.next_value_seed(seed)?;
                    out.push((k.into_owned(), v));
                }
                // In key order: `from_iter` builds the tree in one pass.
                Ok(Value::Map(out.into_iter().collect()))
            }
            Type::Object(o) => {
                let mut out: Vec<(String, Value)> = Vec::with_capacity(o.attrs.len());
                let mut attrs = o.attrs.iter().peekable();
                let mut last: Option<Cow<'de, str>> = None;
                while let Some(k) = map.next_key_seed(Key)? {
                    if last.as_deref().is_some_and(|l| l >= k.as_ref()) {
                        return Err(de::Error::custom(GiveUp)); // out of order or repeated
                    }
                    // Attributes before this key are absent: null, as the general decoder fills.
                    while let Some((name, _)) = attrs.next_if(|(n, _)| n.as_str() < k.as_ref()) {
                        self.fill(&mut out, name);
                    }
                    match attrs.next_if(|(n, _)| n.as_str() == k.as_ref()) {
                        Some((name, t)) => {
                            let seed = self.of(t);
                            out.push((name.clone(), map.next_value_seed(seed)?));
                        }
                        // Not in the schema (an attribute an older version wrote): dropped,
                        // but parsed in full: `IgnoredAny` skips without checking escapes, and
                        // JSON the general decoder rejects must not pass here.
                        None => {
                            map.next_value::<serde_json::Value>()?;
                        }
                    }
                    last = Some(k);
                }
                for (name, _) in attrs {
                    self.fill(&mut out, name);
                }
                let b = self.budget;
                if b.fills.get() > super::fill_budget(b.items.get()) {
                    return Err(de::Error::custom(GiveUp));
                }
                Ok(Value::Object(out.into_iter().collect()))
            }
            _ => Err(de::Error::custom(GiveUp)),
        }
    }
}

impl<'a> Seed<'a> {
    /// The seed for a value of `ty` inside this one (same budget).
    fn of(&self, ty: &'a Type) -> Seed<'a> {
        Seed {
            ty,
            budget: self.budget,
        }
    }

    /// An absent attribute: null, counted against the fill budget.
    fn fill(&self, out: &mut Vec<(String, Value)>, name: &str) {
        self.budget.fills.set(self.budget.fills.get() + 1);
        out.push((name.to_string(), Value::Null));
    }
}

/// An object or map key, borrowed from the input when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::json::{UnknownAttrs, from_json};

    fn general(ty: &Type, text: &str) -> Option<Value> {
        let j: serde_json::Value = serde_json::from_str(text).ok()?;
        from_json(ty, &j, UnknownAttrs::Drop).ok()
    }

    /// Wherever the fast path answers, it answers what the general decoder does; where it
    /// gives up, the general decoder is the one to say why.
    #[test]
    fn agrees_with_the_general_decoder() {
        let inner = Type::object([("enabled", Type::Bool), ("days", Type::Number)]);
        let ty = Type::object([
            ("name", Type::String),
            ("size", Type::Number),
            ("ha", Type::Bool),
            ("labels", Type::map(Type::String)),
            ("tags", Type::set(Type::String)),
            ("ports", Type::list(Type::Number)),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("backup", inner.clone()),
            ("rules", Type::list(inner)),
            ("extra", Type::Dynamic),
        ]);
        let cases = [
            // as Terraform writes it: sorted keys
            r#"{"backup":{"days":7,"enabled":false},"extra":null,"ha":true,
                "labels":{"a":"1","b":"2"},"name":"a","pair":["p",1],"ports":[1,2.5,-3e2],
                "rules":[{"days":1,"enabled":true},null],"size":10,"tags":["x","x"]}"#,
            r#"{"gone":{"deep":[1,2]},"name":"a","size":12345678901234567890.5}"#,
            r#"{"backup":{"enabled":"false"},"ha":"true","name":"esc\"aped\u00e9","size":-0}"#,
            r#"{"labels":{"k\u00e9y":"v"},"name":"a"}"#,
            r#"{"name":"a","size":1e400}"#,
            r#"{"name":"b","labels":{}}"#,
            r#"{"name":"a","name":"b"}"#,
            r#"{"labels":{"b":"2","a":"1"}}"#,
            r#"{"name":7,"ha":"true","size":"inf"}"#,
            r#"{"ha":"yes"}"#,
            r#"{"size":true}"#,
            r#"{"pair":["p"]}"#,
            r#"{"pair":["p",1,2]}"#,
            r#"{"extra":{"type":"string","value":"x"}}"#,
            r#"{"na\u006de":"escaped key"}"#,
            r#"{}"#,
            r#"null"#,
            r#"[1]"#,
            r#"{"name":"a"}  "#,
            r#"{"name":"a"} x"#,
            r#"{"name":"#,
            r#"{"backup":7,"labels":1.5,"ports":{"a":1}}"#,
            r#"{"labels":{"a":1},"tags":"x"}"#,
            r#"12"#,
            r#""x""#,
        ];
        let mut answered = 0;
        for c in cases {
            let fast = decode_state(&ty, c.as_bytes());
            if let Some(v) = &fast {
                answered += 1;
                assert_eq!(Some(v), general(&ty, c).as_ref(), "{c}");
            }
        }
        // The shapes Terraform writes take the fast path.
        assert!(answered >= 9, "only {answered} answered");
        assert!(decode_state(&ty, cases[0].as_bytes()).is_some());
        assert!(decode_state(&ty, br#"{"extra":{"type":"string","value":"x"}}"#).is_none());
        assert!(decode_state(&ty, br#"{"labels":{"b":"2","a":"1"}}"#).is_none());
        // A number is not an object, even as serde_json's one-entry map.
        assert!(decode_state(&ty, b"12").is_none());
        // Invalid JSON inside a dropped attribute is still invalid JSON.
        assert!(decode_state(&ty, br#"{"gone":"\udc00x","name":"a"}"#).is_none());
        assert!(decode_state(&ty, br#"{"backup":7}"#).is_none());
    }

    /// A huge type with a tiny input gives up at the same budget as the general decoder.
    #[test]
    fn the_fill_budget_is_the_general_one() {
        let wide = Type::object((0..5000).map(|i| (format!("a{i:04}"), Type::String)));
        assert!(decode_state(&wide, b"{}").is_none());
        assert!(general(&wide, "{}").is_none());
        let fits = Type::object((0..4000).map(|i| (format!("a{i:04}"), Type::String)));
        assert_eq!(decode_state(&fits, b"{}"), general(&fits, "{}"));
    }
}
