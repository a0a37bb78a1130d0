//! Validate-time checks of a configuration against a schema: validators and deprecations.

use super::{AttrType, Attribute, Block, NestingMode, ObjectNesting};
use crate::diag::Diagnostics;
use crate::value::{AttributePath, Value};

/// Validates `config` (a value of `block`'s implied type) at `Validate*Config` time.
///
/// Runs every validator on wholly known, non-null attribute values (nested attributes and
/// blocks included), warns for every deprecated attribute that is set (non-null, even if
/// unknown), for every deprecated nested block that is used (known and present), and once,
/// without a path, when `block` itself is deprecated (a deprecated resource or data source
/// type), and errors when a wholly known LIST/SET block count breaks `min_items`/
/// `max_items`. Values that are not wholly known skip their own validators (Terraform
/// validates again once they are known); a null or non-object `config` yields nothing.
/// Never fails: problems are the returned diagnostics, each naming its path.
pub fn validate_config(block: &Block, config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(msg) = &block.deprecated
        && !config.is_null()
    {
        d.warning("Deprecated", msg.clone());
    }
    walk_block(block, config, &AttributePath::root(), &mut d);
    d
}

/// True when a nested block's value says the configuration uses it.
fn block_used(nesting: NestingMode, v: &Value) -> bool {
    match nesting {
        _ if !v.is_known() => false,
        NestingMode::Single => !v.is_null(),
        // a GROUP block is never null: it is used when something in it is set
        NestingMode::Group => v.as_map().is_some_and(|m| m.values().any(|x| !x.is_null())),
        NestingMode::List | NestingMode::Set | NestingMode::Map => {
            v.collection_len().is_some_and(|n| n > 0)
        }
    }
}

fn walk_block(b: &Block, v: &Value, path: &AttributePath, d: &mut Diagnostics) {
    if !matches!(v, Value::Object(_)) {
        return;
    }
    for a in &b.attributes {
        // most optional attributes are unset: no path for them (it allocates)
        let av = v.get(&a.name);
        if !av.is_null() {
            walk_attr(a, av, &path.with_attr(&a.name), d);
        }
    }
    for nb in &b.blocks {
        let bv = v.get(&nb.type_name);
        if bv.is_null() {
            // an absent single block: nothing used, nothing to count
            continue;
        }
        let bp = path.with_attr(&nb.type_name);
        if let Some(msg) = &nb.block.deprecated
            && block_used(nb.nesting, bv)
        {
            d.attribute_warning(bp.clone(), "Deprecated block", msg.clone());
        }
        if let Some(n) = bv.collection_len() {
            let n = n as i64;
            if bv.is_wholly_known()
                && ((nb.min_items > 0 && n < nb.min_items)
                    || (nb.max_items > 0 && n > nb.max_items))
            {
                d.attribute_error(
                    bp.clone(),
                    "Invalid number of blocks",
                    format!(
                        "{} expects between {} and {} blocks, got {n}.",
                        nb.type_name,
                        nb.min_items,
                        if nb.max_items > 0 {
                            nb.max_items.to_string()
                        } else {
                            "any".into()
                        }
                    ),
                );
            }
        }
        for_each_element(
            bv,
            &bp,
            matches!(nb.nesting, NestingMode::Single | NestingMode::Group),
            |ev, ep| walk_block(&nb.block, ev, ep, d),
        );
    }
}

fn for_each_element(
    v: &Value,
    path: &AttributePath,
    single: bool,
    mut f: impl FnMut(&Value, &AttributePath),
) {
    if single {
        return f(v, path);
    }
    match v {
        Value::List(items) => {
            for (i, it) in items.iter().enumerate() {
                f(it, &path.with_index(i as i64));
            }
        }
        Value::Set(items) => items.iter().for_each(|it| f(it, path)),
        Value::Map(m) => {
            for (k, it) in m {
                f(it, &path.with_key(k));
            }
        }
        _ => {}
    }
}

fn walk_attr(a: &Attribute, v: &Value, path: &AttributePath, d: &mut Diagnostics) {
    if v.is_null() {
        return;
    }
    if let Some(msg) = &a.deprecated {
        d.attribute_warning(path.clone(), "Deprecated attribute", msg.clone());
    }
    if v.is_unknown() {
        return;
    }
    for val in &a.validators {
        if v.is_wholly_known() {
            val.validate(path, v, d);
        }
    }
    if let AttrType::Nested(n) = &a.kind {
        for_each_element(v, path, n.nesting == ObjectNesting::Single, |ev, ep| {
            if matches!(ev, Value::Object(_)) {
                for na in &n.attributes {
                    let nv = ev.get(&na.name);
                    if !nv.is_null() {
                        walk_attr(na, nv, &ep.with_attr(&na.name), d);
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NestedBlock, Schema, timeouts, validators};
    use super::*;

    #[test]
    fn nested_paths_in_diagnostics() {
        let s = Schema::new()
            .attribute(
                Attribute::string("engine")
                    .required()
                    .validator(validators::one_of(&["pg"])),
            )
            .attribute(Attribute::list_nested(
                "users",
                vec![
                    Attribute::string("name")
                        .required()
                        .validator(validators::string_length(1, 3)),
                ],
            ))
            .block(timeouts::block(&["create"]))
            .block(
                NestedBlock::list(
                    "rule",
                    Block::new().attribute(Attribute::number("port").optional()),
                )
                .max_items(1),
            );
        let cfg = Value::object([
            ("engine", Value::unknown()),
            (
                "users",
                Value::List(vec![Value::object([("name", Value::from("toolong"))])]),
            ),
            (
                "timeouts",
                Value::object([("create", Value::from("5 minutes"))]),
            ),
            (
                "rule",
                Value::List(vec![
                    Value::object([("port", Value::Null)]),
                    Value::object([("port", Value::Null)]),
                ]),
            ),
        ]);
        let d = validate_config(&s.block, &cfg);
        let paths: Vec<String> = d
            .iter()
            .filter_map(|x| x.attribute.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(paths, vec!["users[0].name", "timeouts.create", "rule"]);
    }

    #[test]
    fn deprecations_warn_where_used() {
        let s = Schema::new()
            .deprecated("use example_new instead")
            .attribute(Attribute::string("a").optional().deprecated("use b"))
            .block(
                NestedBlock::list(
                    "old",
                    Block::new().attribute(Attribute::string("x").optional()),
                )
                .deprecated("use new"),
            )
            .block(NestedBlock::single("gone", Block::new()).deprecated("unused"));
        let cfg = Value::object([
            ("a", Value::from("v")),
            (
                "old",
                Value::List(vec![Value::object([("x", Value::Null)])]),
            ),
            ("gone", Value::Null),
        ]);
        let d = validate_config(&s.block, &cfg);
        let got: Vec<(String, String)> = d
            .iter()
            .map(|x| {
                (
                    x.summary.clone(),
                    x.attribute
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                )
            })
            .collect();
        let want = [
            ("Deprecated", ""),
            ("Deprecated attribute", "a"),
            ("Deprecated block", "old"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
        assert!(d.iter().all(|x| !x.is_error()));
        // an empty list block is not used
        let unused = Value::object([
            ("a", Value::Null),
            ("old", Value::List(vec![])),
            ("gone", Value::Null),
        ]);
        assert_eq!(
            validate_config(&s.block, &unused).len(),
            1,
            "only the type's own warning"
        );
    }
}
