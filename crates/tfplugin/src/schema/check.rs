//! Schema self-checks, run when a provider's schemas are built ([`super::Schema::check`]).
//!
//! They reject what Terraform's `configschema.InternalValidate` rejects (often with a panic),
//! what terraform-plugin-framework's `ValidateImplementation` rejects, and combinations this
//! framework could only get wrong at plan time. Every error starts with the attribute or block
//! path (`backup.start_time`, `timeouts.create`), then says what is wrong:
//!
//! - names: empty or not `^[a-z_][a-z0-9_]*$`; the same name twice among the attributes and
//!   blocks of one block, or among the attributes of one nested object;
//! - flags: none of required/optional/computed; `required` with `optional`, with `computed` or
//!   with a default; a default on an attribute that is not `computed`; a default that does not
//!   conform to the attribute type; `write_only` with `computed` or with a default
//!   (optional+computed+sensitive is fine);
//! - write-only nesting: a write-only nested attribute with a child that is not write-only; a
//!   computed nested attribute with a write-only child; write-only or dynamic attributes anywhere
//!   inside a set (set elements are compared by value, so they cannot hold either);
//! - validators whose [`Accepts`](super::Accepts) does not accept the attribute's type;
//! - plan modifiers: `use_state_for_unknown`/`use_non_null_state_for_unknown` on an attribute
//!   that is not computed (only computed attributes are ever unknown); `requires_replace`/
//!   `requires_replace_if` on a computed-only attribute (its changes come from the provider, so
//!   every refresh would plan a replacement);
//! - block counts: negative `min_items`/`max_items`; SINGLE with anything but
//!   `min_items = max_items ∈ {0, 1}`; GROUP and MAP with any; LIST and SET with
//!   `min_items > max_items` when `max_items` is set.

use super::{AttrType, Attribute, Block, NestingMode, ObjectNesting, PlanModifier};

/// Terraform's identifier rule for attribute and block names, `^[a-z_][a-z0-9_]*$`.
pub(super) fn valid_name(n: &str) -> bool {
    let mut bytes = n.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks a whole block tree; `Err` lists every problem found, each prefixed by its path.
pub(super) fn check_block(b: &Block) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    walk_block(b, "", &mut errs, false);
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn check_name(p: &str, name: &str, errs: &mut Vec<String>) {
    if name.is_empty() {
        errs.push(format!("{p}: empty name"));
    } else if !valid_name(name) {
        errs.push(format!("{p}: name {name:?} must match ^[a-z_][a-z0-9_]*$"));
    }
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
            errs.push(format!(
                "{p}: duplicate name (an attribute or block has it)"
            ));
        }
        check_name(&p, &nb.type_name, errs);
        if nb.min_items < 0 || nb.max_items < 0 {
            errs.push(format!("{p}: min_items and max_items cannot be negative"));
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
            NestingMode::List | NestingMode::Set
                if nb.max_items > 0 && nb.min_items > nb.max_items =>
            {
                errs.push(format!(
                    "{p}: min_items ({}) is greater than max_items ({})",
                    nb.min_items, nb.max_items
                ));
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
    check_name(&p, &a.name, errs);
    check_flags(a, &p, errs);
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
    let ty = a.ty();
    for v in &a.validators {
        let accepts = v.accepts();
        if !accepts.accepts(&ty) {
            errs.push(format!(
                "{p}: validator {:?} applies to {accepts}, but the attribute is {}",
                v.description(),
                ty.friendly_name()
            ));
        }
    }
    check_modifiers(a, &p, errs);
    if let AttrType::Nested(n) = &a.kind {
        if a.write_only && n.attributes.iter().any(|na| !na.write_only) {
            errs.push(format!(
                "{p}: every attribute of a write-only nested attribute must be write-only"
            ));
        }
        if a.computed && n.attributes.iter().any(|na| na.write_only) {
            errs.push(format!(
                "{p}: a computed nested attribute cannot have write-only attributes"
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        let set = in_set || n.nesting == ObjectNesting::Set;
        for na in &n.attributes {
            if !seen.insert(na.name.as_str()) {
                errs.push(format!("{p}.{}: duplicate name", na.name));
            }
            walk_attr(na, &format!("{p}."), errs, set);
        }
    }
}

fn check_flags(a: &Attribute, p: &str, errs: &mut Vec<String>) {
    if !a.required && !a.optional && !a.computed {
        errs.push(format!("{p}: must be required, optional or computed"));
    }
    if a.required && a.optional {
        errs.push(format!("{p}: required cannot be combined with optional"));
    }
    if a.required && a.computed {
        errs.push(format!("{p}: required cannot be combined with computed"));
    }
    if a.default.is_some() {
        if a.required {
            errs.push(format!(
                "{p}: a required attribute cannot have a default (it is never null in config)"
            ));
        }
        if !a.computed {
            errs.push(format!(
                "{p}: an attribute with a default must be computed (Terraform only lets providers set computed attributes)"
            ));
        }
        if a.write_only {
            errs.push(format!(
                "{p}: write-only attributes cannot have a default (they are always null in the plan)"
            ));
        }
    }
    if a.write_only && a.computed {
        errs.push(format!("{p}: write-only attributes cannot be computed"));
    }
}

fn check_modifiers(a: &Attribute, p: &str, errs: &mut Vec<String>) {
    let computed_only = a.computed && !a.optional && !a.required;
    for m in &a.plan_modifiers {
        match m {
            PlanModifier::UseStateForUnknown | PlanModifier::UseNonNullStateForUnknown
                if !a.computed =>
            {
                errs.push(format!(
                    "{p}: use_state_for_unknown needs a computed attribute (only those are planned unknown)"
                ));
            }
            PlanModifier::RequiresReplace | PlanModifier::RequiresReplaceIf(_) if computed_only => {
                errs.push(format!(
                    "{p}: requires_replace cannot be used on a computed-only attribute (the provider sets it, so it would replace on every change it makes)"
                ));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::validators::{Accepts, FnValidator, int_between, one_of, size_between};
    use super::super::{NestedBlock, Schema, timeouts};
    use super::*;
    use crate::value::{Type, Value};

    /// The errors of a schema with these attributes, or none.
    fn errors(attrs: Vec<Attribute>) -> Vec<String> {
        let mut s = Schema::new();
        for a in attrs {
            s = s.attribute(a);
        }
        s.check().err().unwrap_or_default()
    }

    fn block_errors(b: NestedBlock) -> Vec<String> {
        Schema::new().block(b).check().err().unwrap_or_default()
    }

    #[track_caller]
    fn assert_one(errs: Vec<String>, path: &str, needle: &str) {
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with(&format!("{path}: ")) && errs[0].contains(needle),
            "{errs:?} should name {path} and say {needle:?}"
        );
    }

    #[test]
    fn a_sound_schema_passes() {
        let s = Schema::new()
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validator(one_of(&["a"])),
            )
            .attribute(Attribute::number("n").optional().default(3))
            .attribute(
                Attribute::list("l", Type::String)
                    .optional()
                    .validator(size_between(0, 2)),
            )
            .attribute(Attribute::string("_x9").optional())
            .block(timeouts::block(&["create"]));
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn empty_name() {
        assert_one(
            errors(vec![Attribute::string("").optional()]),
            "",
            "empty name",
        );
    }

    #[test]
    fn names_must_be_identifiers() {
        assert_one(
            errors(vec![Attribute::string("Name").optional()]),
            "Name",
            "^[a-z_][a-z0-9_]*$",
        );
        assert_one(
            errors(vec![Attribute::string("1st").optional()]),
            "1st",
            "^[a-z_][a-z0-9_]*$",
        );
        assert_one(
            errors(vec![Attribute::string("a-b").optional()]),
            "a-b",
            "^[a-z_][a-z0-9_]*$",
        );
        assert_one(
            block_errors(NestedBlock::list("Rule", Block::new())),
            "Rule",
            "^[a-z_][a-z0-9_]*$",
        );
    }

    #[test]
    fn duplicate_names_across_attributes_and_blocks() {
        let s = Schema::new()
            .attribute(Attribute::string("rule").optional())
            .block(NestedBlock::list("rule", Block::new()));
        assert_one(
            s.check().err().unwrap_or_default(),
            "rule",
            "duplicate name",
        );
        assert_one(
            errors(vec![
                Attribute::string("a").optional(),
                Attribute::number("a").optional(),
            ]),
            "a",
            "duplicate name",
        );
        assert_one(
            errors(vec![
                Attribute::single_nested(
                    "o",
                    vec![
                        Attribute::string("x").optional(),
                        Attribute::string("x").optional(),
                    ],
                )
                .optional(),
            ]),
            "o.x",
            "duplicate name",
        );
    }

    #[test]
    fn one_of_required_optional_computed() {
        assert_one(
            errors(vec![Attribute::string("a")]),
            "a",
            "must be required, optional or computed",
        );
    }

    #[test]
    fn required_with_optional() {
        let mut a = Attribute::string("a").required();
        a.optional = true;
        assert_one(
            errors(vec![a]),
            "a",
            "required cannot be combined with optional",
        );
    }

    #[test]
    fn required_with_computed() {
        let mut a = Attribute::string("a").required();
        a.computed = true;
        assert_one(
            errors(vec![a]),
            "a",
            "required cannot be combined with computed",
        );
    }

    #[test]
    fn required_with_default() {
        let mut a = Attribute::string("a").required();
        a.default = Some(Value::from("x"));
        let errs = errors(vec![a]);
        assert!(
            errs.iter()
                .any(|e| e.starts_with("a: ")
                    && e.contains("required attribute cannot have a default")),
            "{errs:?}"
        );
        // `.default(...).required()` through the builder is caught as well.
        let errs = errors(vec![Attribute::string("b").default("x").required()]);
        assert!(
            errs.iter()
                .any(|e| e.starts_with("b: ") && e.contains("cannot have a default")),
            "{errs:?}"
        );
    }

    #[test]
    fn default_needs_computed() {
        let mut a = Attribute::string("a").optional();
        a.default = Some(Value::from("x"));
        assert_one(errors(vec![a]), "a", "must be computed");
    }

    #[test]
    fn default_must_conform_to_the_type() {
        assert_one(
            errors(vec![Attribute::number("a").default("ten")]),
            "a",
            "default does not match the type",
        );
        assert_one(
            errors(vec![
                Attribute::list("tags", Type::String).default(Value::List(vec![Value::int(1)])),
            ]),
            "tags",
            "default does not match the type at [0]",
        );
    }

    #[test]
    fn optional_computed_sensitive_is_fine() {
        assert!(
            errors(vec![
                Attribute::string("a").optional().computed().sensitive()
            ])
            .is_empty()
        );
    }

    #[test]
    fn write_only_with_computed() {
        let errs = errors(vec![
            Attribute::string("a").optional().computed().write_only(),
        ]);
        assert_one(errs, "a", "write-only attributes cannot be computed");
    }

    #[test]
    fn write_only_with_default() {
        let errs = errors(vec![Attribute::string("a").default("x").write_only()]);
        assert!(
            errs.iter().any(|e| e.starts_with("a: ")
                && e.contains("write-only attributes cannot have a default")),
            "{errs:?}"
        );
    }

    #[test]
    fn write_only_nested_attribute_needs_write_only_children() {
        let a = Attribute::single_nested("creds", vec![Attribute::string("user").optional()])
            .optional()
            .write_only();
        assert_one(errors(vec![a]), "creds", "must be write-only");
    }

    #[test]
    fn computed_nested_attribute_cannot_hold_write_only_children() {
        let a = Attribute::single_nested(
            "creds",
            vec![Attribute::string("password").optional().write_only()],
        )
        .optional()
        .computed();
        assert_one(
            errors(vec![a]),
            "creds",
            "cannot have write-only attributes",
        );
    }

    #[test]
    fn sets_cannot_hold_write_only_or_dynamic() {
        let a = Attribute::set_nested("s", vec![Attribute::string("p").optional().write_only()])
            .optional();
        assert_one(errors(vec![a]), "s.p", "set elements");
        let b = NestedBlock::set(
            "r",
            Block::new().attribute(Attribute::dynamic("d").optional()),
        );
        assert_one(block_errors(b), "r.d", "set elements");
    }

    #[test]
    fn validators_must_accept_the_attribute_type() {
        assert_one(
            errors(vec![
                Attribute::number("port")
                    .optional()
                    .validator(one_of(&["a"])),
            ]),
            "port",
            "applies to string, but the attribute is number",
        );
        assert_one(
            errors(vec![
                Attribute::string("s")
                    .optional()
                    .validator(int_between(1, 2)),
            ]),
            "s",
            "applies to number",
        );
        assert_one(
            errors(vec![
                Attribute::string("s")
                    .optional()
                    .validator(size_between(1, 2)),
            ]),
            "s",
            "applies to list, set or map",
        );
        // A closure typed by another attribute's type, moved onto this one.
        let typed = FnValidator::new(Accepts::Type(Type::list(Type::String)), "x", |_, _, _| {});
        assert_one(
            errors(vec![
                Attribute::set("s", Type::String)
                    .optional()
                    .validator(typed),
            ]),
            "s",
            "applies to list of string",
        );
        // `validate_with` is typed by its attribute, and `Any` fits everything.
        let ok = Attribute::map("m", Type::Number)
            .optional()
            .validate_with("anything", |_, _, _| {})
            .validator(FnValidator::new(Accepts::Any, "any", |_, _, _| {}));
        assert!(errors(vec![ok]).is_empty());
        // A dynamic attribute takes only validators for any type.
        assert_one(
            errors(vec![
                Attribute::dynamic("d").optional().validator(one_of(&["a"])),
            ]),
            "d",
            "applies to string",
        );
    }

    #[test]
    fn use_state_for_unknown_needs_computed() {
        assert_one(
            errors(vec![
                Attribute::string("a").optional().use_state_for_unknown(),
            ]),
            "a",
            "needs a computed attribute",
        );
        assert_one(
            errors(vec![
                Attribute::string("a")
                    .required()
                    .use_non_null_state_for_unknown(),
            ]),
            "a",
            "needs a computed attribute",
        );
    }

    #[test]
    fn requires_replace_not_on_computed_only() {
        assert_one(
            errors(vec![Attribute::string("a").computed().requires_replace()]),
            "a",
            "computed-only",
        );
        assert_one(
            errors(vec![
                Attribute::string("a")
                    .computed()
                    .requires_replace_if("x", |_, _| true),
            ]),
            "a",
            "computed-only",
        );
        assert!(
            errors(vec![
                Attribute::string("a")
                    .optional()
                    .computed()
                    .requires_replace()
            ])
            .is_empty()
        );
    }

    #[test]
    fn nested_errors_name_the_full_path() {
        let a = Attribute::single_nested(
            "backup",
            vec![
                Attribute::string("start_time")
                    .optional()
                    .validator(int_between(0, 1)),
            ],
        )
        .optional();
        assert_one(errors(vec![a]), "backup.start_time", "applies to number");
        let b = NestedBlock::single(
            "timeouts",
            Block::new().attribute(
                Attribute::number("create")
                    .optional()
                    .validator(one_of(&["x"])),
            ),
        );
        assert_one(block_errors(b), "timeouts.create", "applies to string");
    }

    #[test]
    fn single_block_counts() {
        assert_one(
            block_errors(NestedBlock::single("b", Block::new()).max_items(2)),
            "b",
            "SINGLE",
        );
    }

    #[test]
    fn group_and_map_block_counts() {
        assert_one(
            block_errors(NestedBlock::group("b", Block::new()).min_items(1)),
            "b",
            "GROUP/MAP",
        );
        assert_one(
            block_errors(NestedBlock::map("b", Block::new()).max_items(1)),
            "b",
            "GROUP/MAP",
        );
    }

    #[test]
    fn list_block_min_above_max() {
        assert_one(
            block_errors(
                NestedBlock::list("b", Block::new())
                    .min_items(3)
                    .max_items(2),
            ),
            "b",
            "min_items (3) is greater than max_items (2)",
        );
        assert!(block_errors(NestedBlock::set("b", Block::new()).min_items(3)).is_empty());
    }

    #[test]
    fn negative_block_counts() {
        assert_one(
            block_errors(NestedBlock::list("b", Block::new()).min_items(-1)),
            "b",
            "cannot be negative",
        );
    }
}
