//! `GenerateResourceConfig` (`terraform query -generate-config-out`, `terraform plan
//! -generate-config-out`): the configuration that would manage an existing object, derived
//! from its state.
//!
//! Terraform writes every non-null attribute of the answer into HCL, so the answer must hold
//! exactly what a configuration can hold: the rules follow Terraform's own fallback
//! (`genconfig.ExtractLegacyConfigFromState`) and terraform-plugin-framework, without the
//! SDKv2 quirks (an `id` attribute it invented, empty strings standing for null).

use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::{AttrType, Attribute, Block, NestedBlock, NestingMode, ObjectNesting, Schema};
use crate::value::{AttributePath, Value};

/// The configuration `state` implies: the state with null for every attribute that
/// configuration cannot set (computed-only and write-only attributes), for deprecated
/// attributes and blocks (generated configuration should not start with a warning), and
/// for optional attributes whose value is their schema default (leaving them out plans the
/// same). Nested attributes and blocks are walked; everything else is kept, sensitive values
/// included (Terraform writes those as `null # sensitive` itself). Unknowns become null.
pub fn config_from_state(schema: &Schema, state: &Value) -> Value {
    let mut v = state.clone();
    super::scrub_unknowns(&mut v);
    strip_block(
        &schema.block,
        &mut v,
        &AttributePath::root(),
        true,
        &mut Vec::new(),
    );
    v
}

/// Paths in `config` that configuration cannot hold (see [`config_from_state`]; defaults
/// are allowed), each as an error diagnostic: a type's own `generate_config` returned them.
pub(crate) fn check_config(type_name: &str, schema: &Schema, config: &Value) -> Diagnostics {
    let mut found = Vec::new();
    strip_block(
        &schema.block,
        &mut config.clone(),
        &AttributePath::root(),
        false,
        &mut found,
    );
    let mut d = Diagnostics::new();
    for (path, why) in found {
        d.push(
            Diagnostic::error(
                "Invalid generated configuration",
                format!(
                    "The configuration generated for {type_name} sets {path}, which is {why} and \
                     cannot appear in configuration. This is a bug in the provider."
                ),
            )
            .at(path),
        );
    }
    d
}

/// Why configuration cannot hold `a`, if it cannot.
fn unsettable(a: &Attribute) -> Option<&'static str> {
    if a.computed && !a.optional {
        Some("computed-only")
    } else if a.write_only {
        Some("write-only")
    } else if a.deprecated.is_some() {
        Some("deprecated")
    } else {
        None
    }
}

type Found = Vec<(AttributePath, &'static str)>;

fn strip_block(b: &Block, v: &mut Value, path: &AttributePath, defaults: bool, found: &mut Found) {
    if !matches!(v, Value::Object(_)) {
        return;
    }
    strip_attrs(&b.attributes, v, path, defaults, found);
    for nb in &b.blocks {
        let p = path.with_attr(&nb.type_name);
        let Some(x) = v.get_mut(&nb.type_name) else {
            continue;
        };
        if nb.block.deprecated.is_some() {
            let absent = absent(nb);
            if *x != absent {
                *x = absent;
                found.push((p, "deprecated"));
            }
            continue;
        }
        let single = matches!(nb.nesting, NestingMode::Single | NestingMode::Group);
        each(x, &p, single, &mut |e, ep| {
            strip_block(&nb.block, e, ep, defaults, found)
        });
    }
}

fn strip_attrs(
    attrs: &[Attribute],
    v: &mut Value,
    path: &AttributePath,
    defaults: bool,
    found: &mut Found,
) {
    if !matches!(v, Value::Object(_)) {
        return;
    }
    for a in attrs {
        let p = path.with_attr(&a.name);
        let Some(x) = v.get_mut(&a.name) else {
            continue;
        };
        if x.is_null() {
            continue;
        }
        if let Some(why) = unsettable(a) {
            *x = Value::Null;
            found.push((p, why));
        } else if defaults && a.default.as_ref() == Some(&*x) {
            *x = Value::Null;
        } else if let AttrType::Nested(n) = &a.kind {
            let single = n.nesting == ObjectNesting::Single;
            each(x, &p, single, &mut |e, ep| {
                strip_attrs(&n.attributes, e, ep, defaults, found)
            });
        }
    }
}

/// The value of a block that is not in the configuration.
fn absent(nb: &NestedBlock) -> Value {
    match nb.nesting {
        NestingMode::Single => Value::Null,
        NestingMode::Group => Value::Object(
            nb.block
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null))
                .chain(
                    nb.block
                        .blocks
                        .iter()
                        .map(|b| (b.type_name.clone(), absent(b))),
                )
                .collect(),
        ),
        NestingMode::List => Value::List(Vec::new()),
        NestingMode::Set => Value::Set(Vec::new()),
        NestingMode::Map => Value::Map(Default::default()),
    }
}

fn each(
    v: &mut Value,
    path: &AttributePath,
    single: bool,
    f: &mut dyn FnMut(&mut Value, &AttributePath),
) {
    if single {
        return f(v, path);
    }
    match v {
        Value::List(items) => {
            for (i, it) in items.iter_mut().enumerate() {
                f(it, &path.with_index(i64::try_from(i).unwrap_or(i64::MAX)));
            }
        }
        Value::Set(items) => items.iter_mut().for_each(|it| f(it, path)),
        Value::Map(m) => {
            for (k, it) in m.iter_mut() {
                f(it, &path.with_key(k));
            }
        }
        _ => {}
    }
}
