//! Declarative schemas: attributes, nested attributes, blocks, validators, defaults and
//! plan modifiers.
//!
//! A schema is data the framework can act on: the plan engine ([`crate::plan`]) applies
//! defaults, modifiers and the computed-unknown rule from it, the gRPC layer turns it into
//! `tfplugin6.Schema`, and the codecs use its implied type.
//!
//! ```
//! use tfplugin::schema::{Attribute, Schema, timeouts};
//! let s = Schema::new()
//!     .version(1)
//!     .description("A database instance.")
//!     .attribute(Attribute::string("id").computed().use_state_for_unknown())
//!     .attribute(Attribute::string("name").required().requires_replace())
//!     .attribute(Attribute::number("storage_gb").optional().default(20))
//!     .block(timeouts::block(&["create", "delete"]));
//! assert!(s.check().is_ok());
//! ```

mod attribute;
mod check;
mod duration;
mod identity;
mod modifiers;
pub mod timeouts;
mod validate;
pub mod validators;

pub use attribute::{AttrType, Attribute, NestedAttributes, ObjectNesting};
pub use identity::{IdentityAttribute, IdentitySchema};
pub use modifiers::{PlanModifier, ReplaceIfFn};
pub use validate::validate_config;
pub use validators::{Accepts, Validator};

use crate::value::{ObjectType, Type};

/// A resource, data source, provider or ephemeral resource schema: a version and the
/// top-level block. Built with the chained setters below, which never fail; mistakes are
/// found by [`Schema::check`].
#[derive(Clone, Default)]
pub struct Schema {
    /// Schema version of stored state. Terraform calls `UpgradeResourceState` with the
    /// stored version whenever it reads state; bump it (and add an upgrader) when the shape
    /// of state changes. Only meaningful for managed resources.
    pub version: i64,
    /// The top-level block; its implied type is the type of every config, plan and state
    /// value of this schema.
    pub block: Block,
}

impl Schema {
    /// An empty version-0 schema with no attributes (an empty object type).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the schema version (see the `version` field: bump it with a state upgrader).
    pub fn version(mut self, v: i64) -> Self {
        self.version = v;
        self
    }

    /// Markdown description of the whole resource (replaces any earlier one); shown by
    /// Terraform tooling and rendered by [`crate::docs`].
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.block.description = d.into();
        self
    }

    /// Marks the whole resource deprecated with a message telling users what to use instead;
    /// sent as the block's `deprecated`/`deprecation_message`.
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.block.deprecated = Some(msg.into());
        self
    }

    /// Appends a top-level attribute; a duplicate name is only reported by [`Schema::check`].
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.block.attributes.push(a);
        self
    }

    /// Appends a top-level nested block type; a duplicate name is only reported by
    /// [`Schema::check`].
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.block.blocks.push(b);
        self
    }

    /// The object type every value of this schema has (cty `ImpliedType`): the codecs decode
    /// config, plan and state with it. Computed on each call.
    pub fn implied_type(&self) -> Type {
        self.block.implied_type()
    }

    /// Checks the rules Terraform and terraform-plugin-framework enforce on schemas (Terraform panics
    /// on some violations), plus the combinations the plan engine cannot honour. `Err` lists every
    /// problem, each as `"<attribute path>: <what is wrong>"`; the rules are listed in `check.rs`.
    /// The gRPC layer runs it once when a provider's schemas are built.
    pub fn check(&self) -> Result<(), Vec<String>> {
        check::check_block(&self.block)
    }

    /// [`Schema::check`] plus the root names Terraform reserves for `kind`: a resource or data
    /// source attribute or block named `count`, `for_each`, `depends_on`, `lifecycle`,
    /// `provider`, `connection` or `provisioner` (meta-arguments) could never be set, and a
    /// provider attribute named `alias` or `version` clashes with the provider block's own.
    /// An action schema may not have computed attributes (an action has no result to fill
    /// them from).
    pub fn check_as(&self, kind: SchemaKind) -> Result<(), Vec<String>> {
        let mut errs = self.check().err().unwrap_or_default();
        let reserved: &[&str] = match kind {
            SchemaKind::Provider => &["alias", "version"],
            SchemaKind::Resource | SchemaKind::DataSource => &[
                "count",
                "for_each",
                "depends_on",
                "lifecycle",
                "provider",
                "connection",
                "provisioner",
            ],
            SchemaKind::Action | SchemaKind::Other => &[],
        };
        if kind == SchemaKind::Action {
            computed_paths(&self.block, "", &mut errs);
        }
        let names = self
            .block
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .chain(self.block.blocks.iter().map(|b| b.type_name.as_str()));
        for n in names.filter(|n| reserved.contains(n)) {
            errs.push(format!(
                "{n}: the name is reserved by Terraform for {kind:?} schemas"
            ));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

/// What a schema describes, for the reserved root names of [`Schema::check_as`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// The `provider` block.
    Provider,
    /// A managed resource.
    Resource,
    /// A data source.
    DataSource,
    /// An action's `config` block.
    Action,
    /// Ephemeral resources, list resource configs and the rest: no reserved names here.
    Other,
}

/// Reports every computed attribute under `b` (nested attributes and blocks included).
fn computed_paths(b: &Block, prefix: &str, errs: &mut Vec<String>) {
    fn attrs(list: &[Attribute], prefix: &str, errs: &mut Vec<String>) {
        for a in list {
            let p = format!("{prefix}{}", a.name);
            if a.computed {
                errs.push(format!(
                    "{p}: an action has no result, so no attribute can be computed"
                ));
            }
            if let AttrType::Nested(n) = &a.kind {
                attrs(&n.attributes, &format!("{p}."), errs);
            }
        }
    }
    attrs(&b.attributes, prefix, errs);
    for nb in &b.blocks {
        computed_paths(&nb.block, &format!("{prefix}{}.", nb.type_name), errs);
    }
}

/// A block (`configschema.Block`): attributes plus nested block types. Its value is an
/// object with one attribute per attribute and per block type.
#[derive(Clone, Default)]
pub struct Block {
    /// Attributes, in declaration order (the order of the schema and of the docs).
    pub attributes: Vec<Attribute>,
    /// Nested block types, in declaration order.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description; empty means none (then sent as plain text kind).
    pub description: String,
    /// Deprecation message; `Some` marks the block deprecated in the schema (on a schema's
    /// top-level block: the whole type). [`validate_config`] warns when a deprecated block is
    /// used, and once for a deprecated type.
    pub deprecated: Option<String>,
}

impl Block {
    /// An empty block: no attributes, no blocks, no description.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an attribute (duplicates are only reported by [`Schema::check`]).
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    /// Appends a nested block type (duplicates are only reported by [`Schema::check`]).
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    /// Sets the Markdown description (replaces any earlier one).
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Marks the block deprecated with a message telling users what to use instead (sent as
    /// `deprecated`/`deprecation_message`; [`validate_config`] warns when it is used).
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.deprecated = Some(msg.into());
        self
    }

    /// The first attribute (not block) named `name` in this block only; `None` if there is
    /// none. Does not look into nested attributes or blocks.
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The first nested block type named `name` in this block only; `None` if there is none.
    pub fn nested_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    /// Implied object type: one attribute per attribute and per nested block type (see
    /// [`NestedBlock::implied_type`]); no optional attributes. A duplicate name keeps the last.
    pub fn implied_type(&self) -> Type {
        let mut o = ObjectType::default();
        for a in &self.attributes {
            o.attrs.insert(a.name.clone(), a.ty());
        }
        for b in &self.blocks {
            o.attrs.insert(b.type_name.clone(), b.implied_type());
        }
        Type::Object(o)
    }
}

/// How a nested block repeats (`configschema.NestingMode`); it decides the block's value
/// type and what Terraform sends when the block is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestingMode {
    /// At most one block; its value is the object, or null when absent.
    Single,
    /// At most one block, but its value is never null: Terraform sends an object with all
    /// attributes null when the block is absent. No `min_items`/`max_items`.
    Group,
    /// Any number of blocks as a list of objects (empty list when absent), in config order.
    List,
    /// Any number of blocks as a set of objects (empty set when absent); elements have no
    /// identity, so they cannot hold write-only or dynamic attributes.
    Set,
    /// Labelled blocks (`rule "a" { … }`) as a map of objects keyed by label. No
    /// `min_items`/`max_items`.
    Map,
}

/// A nested block type inside a block (`configschema.NestedBlock`).
#[derive(Clone)]
pub struct NestedBlock {
    /// Block type name as written in HCL; also the attribute name of its value in the parent
    /// object. Must match `^[a-z_][a-z0-9_]*$` and not clash with a sibling.
    pub type_name: String,
    /// The block's own attributes and nested blocks.
    pub block: Block,
    /// How it repeats, which also decides its value type.
    pub nesting: NestingMode,
    /// Minimum number of blocks; 0 means no minimum. [`validate_config`] checks it for LIST
    /// and SET blocks once they are wholly known; on a SINGLE block, `min_items = max_items = 1`
    /// makes the block required (Terraform enforces that).
    pub min_items: i64,
    /// Maximum number of blocks; 0 means unlimited. Checked like `min_items`.
    pub max_items: i64,
}

impl NestedBlock {
    fn new(name: impl Into<String>, nesting: NestingMode, block: Block) -> Self {
        NestedBlock {
            type_name: name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    /// A SINGLE block: at most one, null when absent; no item limits.
    pub fn single(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::Single, block)
    }

    /// A GROUP block: at most one, an object of nulls when absent (never null).
    pub fn group(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::Group, block)
    }

    /// A LIST of blocks, no item limits until [`NestedBlock::min_items`]/[`NestedBlock::max_items`].
    pub fn list(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::List, block)
    }

    /// A SET of blocks, no item limits until [`NestedBlock::min_items`]/[`NestedBlock::max_items`].
    pub fn set(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::Set, block)
    }

    /// A MAP of labelled blocks, keyed by label.
    pub fn map(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::Map, block)
    }

    /// Sets `min_items`; [`Schema::check`] rejects negative values and, for SINGLE, GROUP and
    /// MAP blocks, limits their nesting does not allow.
    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }

    /// Sets `max_items` (0 = unlimited); [`Schema::check`] rejects negative values and
    /// `min_items > max_items`.
    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }

    /// Marks the block type deprecated (see [`Block::deprecated`]).
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.block.deprecated = Some(msg.into());
        self
    }

    /// The implied type. A LIST or MAP block containing `dynamic` becomes `dynamic`
    /// as a whole, exactly as Terraform's hcldec types it.
    pub fn implied_type(&self) -> Type {
        let obj = self.block.implied_type();
        match self.nesting {
            NestingMode::Single | NestingMode::Group => obj,
            NestingMode::List if obj.has_dynamic() => Type::Dynamic,
            NestingMode::Map if obj.has_dynamic() => Type::Dynamic,
            NestingMode::List => Type::list(obj),
            NestingMode::Set => Type::set(obj),
            NestingMode::Map => Type::map(obj),
        }
    }
}

#[cfg(test)]
mod reserved_tests {
    use super::*;

    #[test]
    fn reserved_root_names_are_rejected_by_kind() {
        let s = Schema::new().attribute(Attribute::string("count").optional());
        assert!(s.check().is_ok());
        let errs = s.check_as(SchemaKind::Resource).expect_err("reserved");
        assert!(errs[0].starts_with("count:"), "{errs:?}");
        assert!(s.check_as(SchemaKind::Provider).is_ok());
        let p = Schema::new().attribute(Attribute::string("alias").optional());
        assert!(p.check_as(SchemaKind::Provider).is_err());
        assert!(p.check_as(SchemaKind::Other).is_ok());
        let a = Schema::new()
            .attribute(Attribute::string("instance").required())
            .block(NestedBlock::single(
                "wait",
                Block::new().attribute(Attribute::string("status").computed()),
            ));
        assert_eq!(
            a.check_as(SchemaKind::Action).expect_err("computed"),
            vec!["wait.status: an action has no result, so no attribute can be computed"]
        );
    }
}
