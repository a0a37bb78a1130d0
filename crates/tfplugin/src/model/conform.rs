//! Fitting a value to a schema type: the last step before a handler's result is encoded.

use super::ModelError;
use crate::value::{AttributePath, Type, Value};

/// Fits `v` to `ty`: sequences become the list, set or tuple the type says, maps and
/// objects swap likewise, and every object must have exactly the type's attributes.
///
/// Fails, naming the path, on an attribute the type lacks, a (non-optional) attribute the
/// value lacks, or a kind that does not fit (a string where the type has a number). Null
/// and unknown fit every type; anything fits `dynamic`.
pub fn conform(v: Value, ty: &Type) -> Result<Value, ModelError> {
    fit(v, ty, &AttributePath::root())
}

fn fit(v: Value, ty: &Type, path: &AttributePath) -> Result<Value, ModelError> {
    let mismatch =
        |v: &Value, want: &str| ModelError::at(path, format!("expected {want}, got {}", v.kind()));
    Ok(match (ty, v) {
        (_, v @ (Value::Null | Value::Unknown(_))) | (Type::Dynamic, v) => v,
        (Type::Bool, v @ Value::Bool(_))
        | (Type::Number, v @ Value::Number(_))
        | (Type::String, v @ Value::String(_)) => v,
        (Type::List(e), Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
            Value::List(fit_items(items, e, path, true)?)
        }
        (Type::Set(e), Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
            Value::Set(fit_items(items, e, path, false)?)
        }
        (Type::Tuple(ts), Value::List(items) | Value::Tuple(items)) => {
            if ts.len() != items.len() {
                return Err(ModelError::at(
                    path,
                    format!(
                        "expected a tuple of {} elements, got {}",
                        ts.len(),
                        items.len()
                    ),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (t, it)) in ts.iter().zip(items).enumerate() {
                out.push(fit(it, t, &path.with_index(index(i)))?);
            }
            Value::Tuple(out)
        }
        (Type::Map(e), Value::Map(m) | Value::Object(m)) => {
            let mut out = std::collections::BTreeMap::new();
            for (k, it) in m {
                let item = fit(it, e, &path.with_key(&k))?;
                out.insert(k, item);
            }
            Value::Map(out)
        }
        (Type::Object(o), Value::Object(mut m) | Value::Map(mut m)) => {
            if let Some(k) = m.keys().find(|k| !o.attrs.contains_key(*k)) {
                return Err(ModelError::at(
                    &path.with_attr(k),
                    format!("{k:?} is not an attribute of the schema"),
                ));
            }
            let mut out = std::collections::BTreeMap::new();
            for (k, t) in &o.attrs {
                let p = path.with_attr(k);
                match m.remove(k) {
                    Some(it) => {
                        out.insert(k.clone(), fit(it, t, &p)?);
                    }
                    None if o.optional.contains(k) => {}
                    None => {
                        return Err(ModelError::at(
                            &p,
                            format!("the schema attribute {k:?} is missing from the value"),
                        ));
                    }
                }
            }
            Value::Object(out)
        }
        (Type::List(_), v) => return Err(mismatch(&v, "list")),
        (Type::Set(_), v) => return Err(mismatch(&v, "set")),
        (Type::Tuple(_), v) => return Err(mismatch(&v, "tuple")),
        (Type::Map(_), v) => return Err(mismatch(&v, "map")),
        (Type::Object(_), v) => return Err(mismatch(&v, "object")),
        (Type::Bool, v) => return Err(mismatch(&v, "bool")),
        (Type::Number, v) => return Err(mismatch(&v, "number")),
        (Type::String, v) => return Err(mismatch(&v, "string")),
    })
}

fn index(i: usize) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

fn fit_items(
    items: Vec<Value>,
    e: &Type,
    path: &AttributePath,
    indexed: bool,
) -> Result<Vec<Value>, ModelError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, it)| {
            let p = if indexed {
                path.with_index(index(i))
            } else {
                path.clone()
            };
            fit(it, e, &p)
        })
        .collect()
}
