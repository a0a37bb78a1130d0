//! What must never reach Terraform's state: unknown values and write-only values.

use crate::schema::{AttrType, Attribute, Block};
use crate::value::Value;

/// Replaces unknowns with null: Terraform must never receive unknowns in state.
pub fn scrub_unknowns(v: &mut Value) {
    match v {
        Value::Unknown(_) => *v = Value::Null,
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter_mut().for_each(scrub_unknowns)
        }
        Value::Map(m) | Value::Object(m) => m.values_mut().for_each(scrub_unknowns),
        _ => {}
    }
}

/// Nulls write-only attributes (top-level and nested), so secrets never reach state.
pub fn scrub_write_only(block: &Block, v: &mut Value) {
    fn attrs(list: &[Attribute], v: &mut Value) {
        for a in list {
            let Some(x) = v.get_mut(&a.name) else {
                continue;
            };
            if a.write_only {
                *x = Value::Null;
            } else if let AttrType::Nested(n) = &a.kind {
                each(x, |e| attrs(&n.attributes, e));
            }
        }
    }
    fn each(v: &mut Value, mut f: impl FnMut(&mut Value)) {
        match v {
            Value::Object(_) => f(v),
            Value::List(items) | Value::Set(items) => items.iter_mut().for_each(f),
            Value::Map(m) => m.values_mut().for_each(f),
            _ => {}
        }
    }
    attrs(&block.attributes, v);
    for nb in &block.blocks {
        if let Some(x) = v.get_mut(&nb.type_name) {
            each(x, |e| scrub_write_only(&nb.block, e));
        }
    }
}
