//! Fitting a value to a schema type: the last step before a handler's result is encoded.

use super::ModelError;
use crate::value::join::{Pair, join};
use crate::value::{PathRef, Type, Value};

/// Fits `v` to `ty`: sequences become the list, set or tuple the type says, maps and
/// objects swap likewise, and every object must have exactly the type's attributes.
///
/// Fails, naming the path, on an attribute the type lacks, a (non-optional) attribute the
/// value lacks, or a kind that does not fit (a string where the type has a number). Null
/// and unknown fit every type; anything fits `dynamic`.
pub fn conform(v: Value, ty: &Type) -> Result<Value, ModelError> {
    fit(v, ty, &PathRef::Root)
}

/// Values are fitted in place where their kind already fits (the common case: a handler's model
/// serialised with the schema's own attributes), so no map is rebuilt and no key copied; paths
/// are borrowed chains made owned only for an error.
fn fit(v: Value, ty: &Type, path: &PathRef<'_>) -> Result<Value, ModelError> {
    let mismatch = |v: &Value, want: &str| {
        ModelError::at(
            &path.to_path(),
            format!("expected {want}, got {}", v.kind()),
        )
    };
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
                    &path.to_path(),
                    format!(
                        "expected a tuple of {} elements, got {}",
                        ts.len(),
                        items.len()
                    ),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (t, it)) in ts.iter().zip(items).enumerate() {
                out.push(fit(it, t, &path.index(i))?);
            }
            Value::Tuple(out)
        }
        (Type::Map(e), Value::Map(mut m) | Value::Object(mut m)) => {
            for (k, it) in m.iter_mut() {
                *it = fit(std::mem::take(it), e, &path.key(k))?;
            }
            Value::Map(m)
        }
        (Type::Object(o), Value::Object(mut m) | Value::Map(mut m)) => {
            // One pass over both (sorted by name), fitting each value in place.
            for pair in join(&o.attrs, m.iter_mut()) {
                match pair {
                    Pair::Both(k, t, it) => *it = fit(std::mem::take(it), t, &path.attr(k))?,
                    Pair::TypeOnly(k, _) if o.optional.contains(k) => {}
                    Pair::TypeOnly(k, _) => {
                        return Err(ModelError::at(
                            &path.attr(k).to_path(),
                            format!("the schema attribute {k:?} is missing from the value"),
                        ));
                    }
                    Pair::ValueOnly(k, _) => {
                        return Err(ModelError::at(
                            &path.attr(k).to_path(),
                            format!("{k:?} is not an attribute of the schema"),
                        ));
                    }
                }
            }
            Value::Object(m)
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

fn fit_items(
    mut items: Vec<Value>,
    e: &Type,
    path: &PathRef<'_>,
    indexed: bool,
) -> Result<Vec<Value>, ModelError> {
    for (i, it) in items.iter_mut().enumerate() {
        // Set elements have no path step: errors point at the set.
        let p = if indexed { path.index(i) } else { *path };
        *it = fit(std::mem::take(it), e, &p)?;
    }
    Ok(items)
}
