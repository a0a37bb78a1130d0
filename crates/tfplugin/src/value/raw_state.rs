//! Stored state (`RawState`) decoding for `UpgradeResourceState`.
//!
//! JSON state is the state file's `attributes` object, written by whatever schema version
//! stored it; attributes the current schema no longer has are dropped (Terraform does the
//! same when versions match). Flatmap is the pre-0.12 `key.0.sub = "v"` form.

use super::json::{JsonError, UnknownAttrs, from_json};
use super::{AttributePath, Type, Value};
use std::collections::{BTreeMap, HashMap};

/// Stored state could not be decoded against the current schema type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawStateError {
    /// The bytes were not valid JSON (the parser's message).
    #[error("stored state is not valid JSON: {0}")]
    Syntax(String),
    /// The JSON did not match the schema type (attributes outside it are dropped, not errors).
    #[error(transparent)]
    Type(#[from] JsonError),
    /// A flatmap entry could not be interpreted: a bad `#` count, a primitive that does not
    /// parse as its type, or a tuple/dynamic type (flatmap cannot carry them).
    #[error("flatmap state key {key:?}: {message}")]
    Flatmap {
        /// Offending key, or the key prefix of the offending collection.
        key: String,
        /// What was wrong; never the stored value.
        message: String,
    },
}

/// Parses state JSON bytes into a JSON value, for upgraders that rewrite the old shape
/// before decoding it with [`from_json_state`].
///
/// # Errors
/// [`RawStateError::Syntax`] when the bytes are not JSON.
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, RawStateError> {
    serde_json::from_slice(bytes).map_err(|e| RawStateError::Syntax(e.to_string()))
}

/// Decodes state JSON against the current type with [`UnknownAttrs::Drop`]: attributes the
/// type lacks are dropped (at every level), attributes it has but the state lacks are null,
/// and scalars are converted leniently as in [`from_json`].
///
/// # Errors
/// [`RawStateError::Type`] on a kind mismatch.
pub fn from_json_state(ty: &Type, j: &serde_json::Value) -> Result<Value, RawStateError> {
    Ok(from_json(ty, j, UnknownAttrs::Drop)?)
}

/// Decodes state JSON bytes against the current type: [`parse_json`] then [`from_json_state`],
/// with the same result and errors, but for the common shapes without building the
/// intermediate `serde_json::Value` (see `json_raw`): what `UpgradeResourceState` does for
/// state already at the current schema version, once per object on every plan.
///
/// # Errors
/// As [`parse_json`] and [`from_json_state`].
pub fn decode_json_state(ty: &Type, bytes: &[u8]) -> Result<Value, RawStateError> {
    if let Some(v) = super::json_raw::decode_state(ty, bytes) {
        return Ok(v);
    }
    from_json_state(ty, &parse_json(bytes)?)
}

/// Decodes legacy (pre-0.12) flatmap state, `{"l.#": "2", "l.0": "a", "m.%": "1", …}`,
/// against `ty` (an object type).
///
/// A missing primitive key is null; a list or set without its `.#` count, a map without
/// `.%` (or `.#`) and a nested object with no keys are null. Element order comes from the
/// keys (lists numerically), not from the count, which is only checked to be a number.
/// Primitives parse as in [`from_json`] from their string form.
///
/// # Errors
/// [`RawStateError::Flatmap`] for a non-numeric count, an unparsable primitive, or a tuple
/// or `dynamic` type in any part of `ty` that is not inside a null collection or object.
pub fn from_flatmap(ty: &Type, flat: &HashMap<String, String>) -> Result<Value, RawStateError> {
    let sorted: BTreeMap<&str, &str> = flat.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    flat_value(ty, "", &sorted, &AttributePath::root())
}

fn flat_value(
    ty: &Type,
    prefix: &str,
    flat: &BTreeMap<&str, &str>,
    path: &AttributePath,
) -> Result<Value, RawStateError> {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    let bad = |k: &str, m: &str| RawStateError::Flatmap {
        key: k.to_string(),
        message: m.to_string(),
    };
    // sub-keys directly below `prefix` (e.g. the "0", "1" of list elements), each once, in
    // string order: a range scan over the keys below `prefix` only
    let children = |pfx: &str| -> Vec<String> {
        let start = format!("{pfx}.");
        let mut out: Vec<String> = flat
            .range(start.as_str()..)
            .take_while(|(k, _)| k.starts_with(&start))
            .inspect(|_| count_flat_key())
            .filter_map(|(k, _)| k[start.len()..].split('.').next().map(str::to_string))
            .filter(|c| c != "#" && c != "%")
            .collect();
        // "l.1", "l.1!" and "l.1.x" sort in that order: duplicates need not be adjacent
        out.sort_unstable();
        out.dedup();
        out
    };
    match ty {
        Type::Object(o) => {
            // present when any key lies below it: the first key of the range decides
            if !prefix.is_empty() {
                let start = format!("{prefix}.");
                if !flat
                    .range(start.as_str()..)
                    .next()
                    .is_some_and(|(k, _)| k.starts_with(&start))
                {
                    return Ok(Value::Null);
                }
            }
            let mut m = BTreeMap::new();
            for (name, t) in &o.attrs {
                m.insert(
                    name.clone(),
                    flat_value(t, &key(name), flat, &path.with_attr(name))?,
                );
            }
            Ok(Value::Object(m))
        }
        Type::List(e) | Type::Set(e) => {
            let count = flat.get(format!("{prefix}.#").as_str());
            let Some(count) = count else {
                return Ok(Value::Null);
            };
            let _n: usize = count
                .parse()
                .map_err(|_| bad(prefix, "count is not a number"))?;
            let mut idx = children(prefix);
            if matches!(ty, Type::List(_)) {
                // stable: equal numeric indices ("1", "01") stay in string order
                idx.sort_by_key(|s| s.parse::<u64>().unwrap_or(u64::MAX));
            }
            let items = idx
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    flat_value(
                        e,
                        &format!("{prefix}.{c}"),
                        flat,
                        &path.with_index(i as i64),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(items)
            } else {
                Value::Set(items)
            })
        }
        Type::Map(e) => {
            if !flat.contains_key(format!("{prefix}.%").as_str())
                && !flat.contains_key(format!("{prefix}.#").as_str())
            {
                return Ok(Value::Null);
            }
            let mut m = BTreeMap::new();
            for c in children(prefix) {
                let v = flat_value(e, &format!("{prefix}.{c}"), flat, &path.with_key(&c))?;
                m.insert(c, v);
            }
            Ok(Value::Map(m))
        }
        Type::Tuple(_) | Type::Dynamic => {
            Err(bad(prefix, "tuple/dynamic values cannot come from flatmap"))
        }
        prim => match flat.get(prefix) {
            None => Ok(Value::Null),
            Some(s) => from_json(
                prim,
                &serde_json::Value::String((*s).to_string()),
                UnknownAttrs::Drop,
            )
            .map_err(|e| bad(prefix, &e.message)),
        },
    }
}

#[cfg(test)]
thread_local! {
    /// Keys visited by range scans in `from_flatmap` on this thread (tests count work).
    static FLAT_KEYS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[inline]
fn count_flat_key() {
    #[cfg(test)]
    FLAT_KEYS.with(|c| c.set(c.get() + 1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_drops_removed_attributes() {
        let t = Type::object([("a", Type::String)]);
        let j = parse_json(b"{\n  \"a\": \"x\",\n  \"old\": 1\n}").expect("json");
        assert_eq!(
            from_json_state(&t, &j).expect("dec"),
            Value::object([("a", Value::from("x"))])
        );
    }

    fn flat_keys() -> u64 {
        FLAT_KEYS.with(std::cell::Cell::get)
    }

    fn flat(pairs: impl IntoIterator<Item = (String, String)>) -> HashMap<String, String> {
        pairs.into_iter().collect()
    }

    /// Each nested object used to scan every key of the state (O(n²) for a list of
    /// objects). Counted, never timed: 50,000 elements visit each key a bounded number of
    /// times.
    #[test]
    fn large_flatmap_is_linear_in_key_visits() {
        const N: usize = 50_000;
        let t = Type::object([(
            "rule",
            Type::list(Type::object([
                ("cidr", Type::String),
                ("port", Type::Number),
                ("tags", Type::set(Type::String)),
            ])),
        )]);
        let mut pairs = vec![("rule.#".to_string(), N.to_string())];
        for i in 0..N {
            pairs.push((format!("rule.{i}.cidr"), format!("10.0.{}.0/24", i % 256)));
            pairs.push((format!("rule.{i}.port"), (i % 65536).to_string()));
            pairs.push((format!("rule.{i}.tags.#"), "1".into()));
            pairs.push((format!("rule.{i}.tags.0"), "t".into()));
        }
        let keys = pairs.len() as u64;
        let before = flat_keys();
        let v = from_flatmap(&t, &flat(pairs)).expect("flatmap");
        let visits = flat_keys() - before;
        // every key is visited once per enclosing collection (here at most 2)
        assert!(visits <= 3 * keys, "{visits} key visits for {keys} keys");
        let rules = v.get("rule").as_list().expect("list");
        assert_eq!(rules.len(), N);
        assert_eq!(
            rules[N - 1].get("port").as_i64(),
            Some(((N - 1) % 65536) as i64)
        );
        assert_eq!(rules[7].get("tags"), &Value::Set(vec![Value::from("t")]));
    }

    /// Children of a collection are deduplicated even when other keys sort between their
    /// entries ("l.1" < "l.1!" < "l.1.x"): each element is decoded once.
    #[test]
    fn flatmap_children_are_unique() {
        let t = Type::object([("l", Type::list(Type::String))]);
        let f = flat(
            [
                ("l.#", "2"),
                ("l.1", "b"),
                ("l.1!", "c"),
                ("l.1.x", "d"),
                ("l.0", "a"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let v = from_flatmap(&t, &f).expect("flatmap");
        assert_eq!(
            v.get("l"),
            &Value::List(vec![Value::from("a"), Value::from("b"), Value::from("c")])
        );
    }

    #[test]
    fn flatmap() {
        let t = Type::object([
            ("id", Type::String),
            ("n", Type::Number),
            ("l", Type::list(Type::String)),
            ("m", Type::map(Type::String)),
            ("b", Type::list(Type::object([("x", Type::Bool)]))),
        ]);
        let flat: HashMap<String, String> = [
            ("id", "i1"),
            ("n", "3"),
            ("l.#", "2"),
            ("l.0", "a"),
            ("l.1", "b"),
            ("m.%", "1"),
            ("m.k", "v"),
            ("b.#", "1"),
            ("b.0.x", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = from_flatmap(&t, &flat).expect("flatmap");
        assert_eq!(v.get("n").as_i64(), Some(3));
        assert_eq!(
            v.get("l"),
            &Value::List(vec![Value::from("a"), Value::from("b")])
        );
        assert_eq!(v.get("m").get("k").as_str(), Some("v"));
        assert_eq!(
            v.get("b").as_list().map(|l| l[0].get("x").as_bool()),
            Some(Some(true))
        );
    }
}
