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

/// A resource, data source, provider or ephemeral resource schema.
#[derive(Clone, Default)]
pub struct Schema {
    /// Schema version (drives `UpgradeResourceState`).
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// An empty version-0 schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the schema version.
    pub fn version(mut self, v: i64) -> Self {
        self.version = v;
        self
    }

    /// Markdown description of the whole resource.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.block.description = d.into();
        self
    }

    /// Marks the whole resource deprecated with a message.
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.block.deprecated = Some(msg.into());
        self
    }

    /// Adds an attribute.
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.block.attributes.push(a);
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.block.blocks.push(b);
        self
    }

    /// The object type values of this schema have.
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
}

/// A block: attributes plus nested blocks.
#[derive(Clone, Default)]
pub struct Block {
    /// Attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// Nested block types.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Deprecation message, if deprecated.
    pub deprecated: Option<String>,
}

impl Block {
    /// An empty block.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an attribute.
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    /// Markdown description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Looks up an attribute.
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Looks up a nested block.
    pub fn nested_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    /// Implied object type: one attribute per attribute and per nested block type.
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

/// How a nested block (or nested attribute object) repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestingMode {
    /// At most one; null when absent.
    Single,
    /// Exactly one object, never null (all-null attributes when absent).
    Group,
    /// Ordered list.
    List,
    /// Unordered set.
    Set,
    /// Map keyed by block label.
    Map,
}

/// A nested block type inside a block.
#[derive(Clone)]
pub struct NestedBlock {
    /// Block type name (as written in HCL).
    pub type_name: String,
    /// Contents.
    pub block: Block,
    /// Repetition.
    pub nesting: NestingMode,
    /// Minimum number of blocks (0 = none).
    pub min_items: i64,
    /// Maximum number of blocks (0 = unlimited).
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

    /// A single (optional) block.
    pub fn single(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::Single, block)
    }

    /// A group block (always present as an object).
    pub fn group(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::Group, block)
    }

    /// A list of blocks.
    pub fn list(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::List, block)
    }

    /// A set of blocks.
    pub fn set(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::Set, block)
    }

    /// A map of labelled blocks.
    pub fn map(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, NestingMode::Map, block)
    }

    /// Minimum count.
    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }

    /// Maximum count.
    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
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
