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
    // Only the branches of the schema that hold a write-only attribute are visited: most
    // schemas have none or one, and a lookup per attribute on every read and plan adds up.
    fn attrs(list: &[Attribute], v: &mut Value) {
        for a in list {
            if a.write_only {
                if let Some(x) = v.get_mut(&a.name) {
                    *x = Value::Null;
                }
            } else if let AttrType::Nested(n) = &a.kind
                && any_write_only(&n.attributes)
                && let Some(x) = v.get_mut(&a.name)
            {
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
        if block_has_write_only(&nb.block)
            && let Some(x) = v.get_mut(&nb.type_name)
        {
            each(x, |e| scrub_write_only(&nb.block, e));
        }
    }
}

fn any_write_only(list: &[Attribute]) -> bool {
    list.iter().any(|a| {
        a.write_only || matches!(&a.kind, AttrType::Nested(n) if any_write_only(&n.attributes))
    })
}

fn block_has_write_only(b: &Block) -> bool {
    any_write_only(&b.attributes) || b.blocks.iter().any(|nb| block_has_write_only(&nb.block))
}
