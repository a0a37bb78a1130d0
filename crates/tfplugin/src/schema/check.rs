//! Schema self-checks: the rules Terraform's `configschema.InternalValidate` enforces.
//! Catching them here gives a readable error instead of a Terraform panic.

use super::{AttrType, Attribute, Block, NestingMode, ObjectNesting};

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub(super) fn check_block(b: &Block) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    walk_block(b, "", &mut errs, false);
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn walk_block(b: &Block, prefix: &str, errs: &mut Vec<String>, in_set: bool) {
    let mut seen = std::collections::BTreeSet::new();
    for a in &b.attributes {
        if !seen.insert(a.name.as_str()) {
            errs.push(format!("{prefix}{}: duplicate name", a.name));
        }
        walk_attr(a, prefix, errs, in_set);
    }
    for nb in &b.blocks {
        let p = format!("{prefix}{}", nb.type_name);
        if !seen.insert(nb.type_name.as_str()) {
            errs.push(format!("{p}: duplicate name"));
        }
        if !valid_name(&nb.type_name) {
            errs.push(format!("{p}: name must match ^[a-z0-9_]+$"));
        }
        match nb.nesting {
            NestingMode::Single if !(nb.min_items == nb.max_items && nb.min_items <= 1) => {
                errs.push(format!(
                    "{p}: SINGLE blocks need min_items = max_items ∈ {{0,1}}"
                ));
            }
            NestingMode::Group | NestingMode::Map if nb.min_items != 0 || nb.max_items != 0 => {
                errs.push(format!("{p}: GROUP/MAP blocks cannot have min/max items"));
            }
            _ => {}
        }
        walk_block(
            &nb.block,
            &format!("{p}."),
            errs,
            in_set || nb.nesting == NestingMode::Set,
        );
    }
}

fn walk_attr(a: &Attribute, prefix: &str, errs: &mut Vec<String>, in_set: bool) {
    let p = format!("{prefix}{}", a.name);
    if !valid_name(&a.name) {
        errs.push(format!("{p}: name must match ^[a-z0-9_]+$"));
    }
    if !a.required && !a.optional && !a.computed {
        errs.push(format!("{p}: must be required, optional or computed"));
    }
    if a.required && (a.optional || a.computed) {
        errs.push(format!(
            "{p}: required cannot be combined with optional/computed"
        ));
    }
    if a.write_only && a.computed {
        errs.push(format!("{p}: write-only attributes cannot be computed"));
    }
    if in_set && (a.write_only || a.ty().has_dynamic()) {
        errs.push(format!(
            "{p}: set elements cannot hold write-only or dynamic attributes"
        ));
    }
    if let Some(d) = &a.default
        && let Err((path, m)) = d.conforms(&a.ty())
    {
        errs.push(format!(
            "{p}: default does not match the type at {path}: {m}"
        ));
    }
    if let AttrType::Nested(n) = &a.kind {
        let set = in_set || n.nesting == ObjectNesting::Set;
        for na in &n.attributes {
            walk_attr(na, &format!("{p}."), errs, set);
        }
    }
}
