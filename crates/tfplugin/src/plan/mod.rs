//! The declarative plan engine and the result checks.
//!
//! [`plan_resource_change`] turns Terraform's proposed new state into a planned state the
//! way terraform-plugin-framework does: write-only attributes are nulled, defaults fill
//! null optional attributes, and — only when the resource is created or actually changes
//! — computed attributes without a config value become unknown ("known after apply").
//! Plan modifiers then run: `UseStateForUnknown` keeps prior values instead of unknown,
//! `RequiresReplace[If]` records paths whose value really differs from prior state.
//!
//! [`check`] holds the consistency checks Terraform would otherwise report as the
//! generic "Provider produced inconsistent result"; we report them naming the attribute.

pub mod check;

use crate::diag::Diagnostics;
use crate::schema::{
    AttrType, Attribute, Block, NestedBlock, NestingMode, ObjectNesting, PlanModifier, Schema,
};
use crate::value::join::{Cursor, CursorMut, by_name};
use crate::value::{AttributePath, PathRef, Value};

/// Output of the declarative plan: what `PlanResourceChange` answers before the provider's own
/// plan hook (if any) adjusts it.
#[derive(Debug, Clone, Default)]
pub struct Planned {
    /// The planned new state: null for a destroy, otherwise the proposed state with
    /// write-only attributes nulled, defaults, computed unknowns and modifiers applied.
    pub planned_state: Value,
    /// Paths of `RequiresReplace[If]` attributes whose planned value differs from prior
    /// state (an unknown planned value counts as different), in schema order, without
    /// duplicates. Always empty on create and destroy. Non-empty makes Terraform replace.
    pub requires_replace: Vec<AttributePath>,
    /// Problems for the caller to report; the declarative engine itself adds none (it
    /// cannot fail), so this is empty as returned by [`plan_resource_change`].
    pub diagnostics: Diagnostics,
}

/// Plans a change from `prior` state (null on create), Terraform's `proposed` new state
/// (null on destroy) and `config`; see the module docs for the rules.
///
/// A null `proposed` gives a null plan (Terraform requires it for destroy). The
/// computed-unknown rule applies only when `prior` is null or the plan after defaults differs
/// from `prior`, so an unchanged resource plans no "(known after apply)" noise. Values are
/// assumed to conform to the schema's type; parts that do not are left as proposed. Never
/// panics on its own account (a `RequiresReplaceIf` predicate may).
pub fn plan_resource_change(
    schema: &Schema,
    prior: &Value,
    proposed: Value,
    config: &Value,
) -> Planned {
    let mut out = Planned::default();
    if proposed.is_null() {
        // destroy: Terraform requires a null plan
        return out;
    }
    // the proposed state is consumed: the plan is built in place (no copy of the object)
    let mut planned = proposed;
    prepare_block(&schema.block, config, &mut planned);
    let changed = prior.is_null() || planned != *prior;
    if changed {
        mark_computed_unknown(&schema.block, config, &mut planned);
    }
    let mut ctx = ModCtx {
        create: prior.is_null(),
        replace: Vec::new(),
    };
    let b = &schema.block;
    modify_block(
        &b.attributes,
        &b.blocks,
        prior,
        config,
        &mut planned,
        &PathRef::Root,
        &mut ctx,
    );
    out.planned_state = planned;
    out.requires_replace = ctx.replace;
    out
}

// ------------------------------------------------------------ element walking

/// Visits each element object of a nested value together with the matching prior and
/// config element (by index for lists, key for maps; set elements have no identity, so
/// their prior is null and config is matched by position as a best effort).
fn for_elements(
    single: bool,
    prior: &Value,
    config: &Value,
    planned: &mut Value,
    path: &PathRef<'_>,
    mut f: impl FnMut(&Value, &Value, &mut Value, &PathRef<'_>),
) {
    if single {
        if matches!(planned, Value::Object(_)) {
            f(prior, config, planned, path);
        }
        return;
    }
    let null = Value::Null;
    match planned {
        Value::List(items) => {
            for (i, it) in items.iter_mut().enumerate() {
                let p = prior.as_list().and_then(|l| l.get(i)).unwrap_or(&null);
                let c = config.as_list().and_then(|l| l.get(i)).unwrap_or(&null);
                f(p, c, it, &path.index(i));
            }
        }
        Value::Set(items) => {
            for (i, it) in items.iter_mut().enumerate() {
                let c = config.as_list().and_then(|l| l.get(i)).unwrap_or(&null);
                f(&null, c, it, path);
            }
        }
        Value::Map(m) => {
            for (k, it) in m.iter_mut() {
                f(prior.get(k), config.get(k), it, &path.key(k));
            }
        }
        _ => {}
    }
}

fn nesting_single(a: &Attribute) -> Option<bool> {
    match &a.kind {
        AttrType::Nested(n) => Some(n.nesting == ObjectNesting::Single),
        AttrType::Type(_) => None,
    }
}

fn block_single(n: NestingMode) -> bool {
    matches!(n, NestingMode::Single | NestingMode::Group)
}

// ------------------------------------------------------------ defaults, write-only, unknowns

/// Walks `attrs` and `blocks` (recursing into nested attributes and blocks) with the
/// matching config value; `f` adjusts one attribute's planned value and returns whether
/// to descend into it.
fn walk_config(
    attrs: &[Attribute],
    blocks: &[NestedBlock],
    config: &Value,
    planned: &mut Value,
    f: &impl Fn(&Attribute, &Value, &mut Value) -> bool,
) {
    let Value::Object(_) = planned else { return };
    // Names in ascending order: one pass over each object instead of a lookup per name.
    let mut config_at = Cursor::new(config);
    let mut planned_at = CursorMut::new(planned);
    for a in by_name(attrs, |a| &a.name) {
        let c = config_at.get(&a.name);
        let Some(pv) = planned_at.get_mut(&a.name) else {
            continue;
        };
        if !f(a, c, pv) {
            continue;
        }
        if let (Some(single), AttrType::Nested(n)) = (nesting_single(a), &a.kind) {
            for_elements(
                single,
                &Value::Null,
                c,
                pv,
                &PathRef::Root,
                |_, ce, pe, _| walk_config(&n.attributes, &[], ce, pe, f),
            );
        }
    }
    let mut config_at = Cursor::new(config);
    let mut planned_at = CursorMut::new(planned);
    for nb in by_name(blocks, |b| &b.type_name) {
        let c = config_at.get(&nb.type_name);
        if let Some(pv) = planned_at.get_mut(&nb.type_name) {
            for_elements(
                block_single(nb.nesting),
                &Value::Null,
                c,
                pv,
                &PathRef::Root,
                |_, ce, pe, _| walk_config(&nb.block.attributes, &nb.block.blocks, ce, pe, f),
            );
        }
    }
}

/// Nulls write-only attributes and fills defaults for attributes the config leaves null.
fn prepare_block(b: &Block, config: &Value, planned: &mut Value) {
    null_absent_single_blocks(b, config, planned);
    walk_config(&b.attributes, &b.blocks, config, planned, &|a, c, pv| {
        if a.write_only {
            *pv = Value::Null;
            return false;
        }
        if c.is_null()
            && let Some(d) = &a.default
        {
            *pv = d.clone();
        }
        true
    });
}

/// A single-nested block the configuration leaves out is null in the plan. Blocks are never
/// computed, so this is the only valid plan; Terraform 1.0 proposes the prior block (or an
/// object of nulls) for a removed `timeouts {}` block, and then rejects its own proposal as
/// "planned for existence but config wants absence".
fn null_absent_single_blocks(b: &Block, config: &Value, planned: &mut Value) {
    let Value::Object(_) = planned else { return };
    for nb in &b.blocks {
        let c = config.get(&nb.type_name);
        let Some(pv) = planned.get_mut(&nb.type_name) else {
            continue;
        };
        if nb.nesting == NestingMode::Single {
            if c.is_null() {
                *pv = Value::Null;
            } else {
                null_absent_single_blocks(&nb.block, c, pv);
            }
        }
    }
}

/// The computed-unknown rule: a computed attribute the config leaves null (and that has
/// no default) is unknown in a plan that changes the resource.
fn mark_computed_unknown(b: &Block, config: &Value, planned: &mut Value) {
    walk_config(&b.attributes, &b.blocks, config, planned, &|a, c, pv| {
        if a.computed && c.is_null() && a.default.is_none() && !a.write_only {
            *pv = Value::unknown();
            return false;
        }
        true
    });
}

// ------------------------------------------------------------ plan modifiers

struct ModCtx {
    create: bool,
    replace: Vec<AttributePath>,
}

fn modify_block(
    attrs: &[Attribute],
    blocks: &[NestedBlock],
    prior: &Value,
    config: &Value,
    planned: &mut Value,
    path: &PathRef<'_>,
    ctx: &mut ModCtx,
) {
    let Value::Object(_) = planned else { return };
    // Names in ascending order: one pass over each object instead of a lookup per name.
    let (mut prior_at, mut config_at) = (Cursor::new(prior), Cursor::new(config));
    let mut planned_at = CursorMut::new(planned);
    for a in by_name(attrs, |a| &a.name) {
        let p = prior_at.get(&a.name);
        let c = config_at.get(&a.name);
        let ap = path.attr(&a.name);
        let Some(pv) = planned_at.get_mut(&a.name) else {
            continue;
        };
        for m in &a.plan_modifiers {
            apply_modifier(m, p, c, pv, &ap, !prior.is_null(), ctx);
        }
        if let (Some(single), AttrType::Nested(n)) = (nesting_single(a), &a.kind) {
            for_elements(single, p, c, pv, &ap, |pe, ce, pl, ep| {
                modify_block(&n.attributes, &[], pe, ce, pl, ep, ctx)
            });
        }
    }
    let (mut prior_at, mut config_at) = (Cursor::new(prior), Cursor::new(config));
    let mut planned_at = CursorMut::new(planned);
    for nb in by_name(blocks, |b| &b.type_name) {
        let p = prior_at.get(&nb.type_name);
        let c = config_at.get(&nb.type_name);
        let bp = path.attr(&nb.type_name);
        if let Some(pv) = planned_at.get_mut(&nb.type_name) {
            for_elements(block_single(nb.nesting), p, c, pv, &bp, |pe, ce, pl, ep| {
                modify_block(&nb.block.attributes, &nb.block.blocks, pe, ce, pl, ep, ctx)
            });
        }
    }
}

/// `parent_exists`: the object holding this attribute existed in prior state (so
/// "use state" has a state to use).
fn apply_modifier(
    m: &PlanModifier,
    prior: &Value,
    config: &Value,
    planned: &mut Value,
    path: &PathRef<'_>,
    parent_exists: bool,
    ctx: &mut ModCtx,
) {
    match m {
        PlanModifier::UseStateForUnknown | PlanModifier::UseNonNullStateForUnknown => {
            let non_null_only = matches!(m, PlanModifier::UseNonNullStateForUnknown);
            if parent_exists
                && planned.is_unknown()
                && config.is_null()
                && !(non_null_only && prior.is_null())
            {
                *planned = prior.clone();
            }
        }
        PlanModifier::RequiresReplace | PlanModifier::RequiresReplaceIf(_) => {
            if ctx.create || !parent_exists || values_equal(prior, planned) {
                return;
            }
            let wanted = match m {
                PlanModifier::RequiresReplaceIf(f) => f.call(prior, planned),
                _ => true,
            };
            let path = path.to_path();
            if wanted && !ctx.replace.contains(&path) {
                ctx.replace.push(path);
            }
        }
    }
}

/// Equality for plan purposes: an unknown is never equal to a known value.
fn values_equal(a: &Value, b: &Value) -> bool {
    !a.is_unknown() && !b.is_unknown() && a == b
}

#[cfg(test)]
mod tests;
