//! Attributes and nested attributes, with a builder API.

use super::modifiers::{PlanModifier, ReplaceIfFn};
use super::validators::{Accepts, FnValidator, Validator};
use crate::diag::Diagnostics;
use crate::value::{AttributePath, ObjectType, Type, Value};
use std::sync::Arc;

/// Nesting of a nested-attribute object (`nested_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectNesting {
    /// One object.
    Single,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects.
    Map,
}

/// Attributes of a nested-attribute object.
#[derive(Clone)]
pub struct NestedAttributes {
    /// Repetition.
    pub nesting: ObjectNesting,
    /// The object's attributes.
    pub attributes: Vec<Attribute>,
}

impl NestedAttributes {
    /// The object type of one element.
    pub fn object_type(&self) -> Type {
        Type::Object(ObjectType::new(
            self.attributes.iter().map(|a| (a.name.clone(), a.ty())),
        ))
    }
}

/// Either a plain type or nested attributes.
#[derive(Clone)]
pub enum AttrType {
    /// A cty type.
    Type(Type),
    /// Nested attributes (`nested_type`).
    Nested(NestedAttributes),
}

/// One attribute of a block or nested object.
#[derive(Clone)]
pub struct Attribute {
    /// Name (`^[a-z0-9_]+$`).
    pub name: String,
    /// Type or nested attributes.
    pub kind: AttrType,
    /// Must be set in config.
    pub required: bool,
    /// May be set in config.
    pub optional: bool,
    /// The provider may set it.
    pub computed: bool,
    /// Hidden in Terraform's output.
    pub sensitive: bool,
    /// Never stored in state or plan (Terraform ≥ 1.11).
    pub write_only: bool,
    /// Deprecation message, if deprecated.
    pub deprecated: Option<String>,
    /// Markdown description.
    pub description: String,
    /// Value planned when config leaves it null (implies optional+computed).
    pub default: Option<Value>,
    /// Run on known, non-null config values at validate time.
    pub validators: Vec<Arc<dyn Validator>>,
    /// Run by the plan engine in order.
    pub plan_modifiers: Vec<PlanModifier>,
}

impl Attribute {
    /// An attribute of any type (neither required, optional nor computed yet).
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Self::with_kind(name, AttrType::Type(ty))
    }

    fn with_kind(name: impl Into<String>, kind: AttrType) -> Self {
        Attribute {
            name: name.into(),
            kind,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: None,
            description: String::new(),
            default: None,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
        }
    }

    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }
    /// A number attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }
    /// A number attribute that must hold a whole number (validated).
    pub fn int64(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number).validator(super::validators::integer())
    }
    /// A bool attribute.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }
    /// A dynamic attribute.
    pub fn dynamic(name: impl Into<String>) -> Self {
        Self::new(name, Type::Dynamic)
    }
    /// `list(elem)`.
    pub fn list(name: impl Into<String>, elem: Type) -> Self {
        Self::new(name, Type::list(elem))
    }
    /// `set(elem)`.
    pub fn set(name: impl Into<String>, elem: Type) -> Self {
        Self::new(name, Type::set(elem))
    }
    /// `map(elem)`.
    pub fn map(name: impl Into<String>, elem: Type) -> Self {
        Self::new(name, Type::map(elem))
    }
    /// Nested attributes of the given nesting.
    pub fn nested(
        name: impl Into<String>,
        nesting: ObjectNesting,
        attributes: Vec<Attribute>,
    ) -> Self {
        Self::with_kind(
            name,
            AttrType::Nested(NestedAttributes {
                nesting,
                attributes,
            }),
        )
    }
    /// A single nested object.
    pub fn single_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, ObjectNesting::Single, attributes)
    }
    /// A list of nested objects.
    pub fn list_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, ObjectNesting::List, attributes)
    }
    /// A set of nested objects.
    pub fn set_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, ObjectNesting::Set, attributes)
    }
    /// A map of nested objects.
    pub fn map_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, ObjectNesting::Map, attributes)
    }

    /// Must be configured.
    pub fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self.computed = false;
        self
    }
    /// May be configured.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self.required = false;
        self
    }
    /// Set by the provider (with `optional()`: config wins, else provider).
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self.required = false;
        self
    }
    /// Sensitive: redacted in Terraform's UI.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Write-only: present in config only, always null in plan and state.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    /// Deprecated, with a message telling users what to use instead.
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.deprecated = Some(msg.into());
        self
    }
    /// Markdown description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    /// Default planned when config is null. Makes the attribute optional+computed,
    /// because Terraform only lets a provider fill in attributes marked computed.
    pub fn default(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self.optional = true;
        self.computed = true;
        self.required = false;
        self
    }
    /// Adds a validator. [`Schema::check`](super::Schema::check) rejects it unless its
    /// [`Validator::accepts`] accepts this attribute's type.
    pub fn validator(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
    /// Adds a closure validator: `f(path, value, diags)` for known non-null values. It is typed by
    /// this attribute ([`Accepts::Type`] of its current type), so attach it after the type is final.
    pub fn validate_with<F>(self, description: impl Into<String>, f: F) -> Self
    where
        F: Fn(&AttributePath, &Value, &mut Diagnostics) + Send + Sync + 'static,
    {
        let accepts = Accepts::Type(self.ty());
        self.validator(FnValidator::new(accepts, description, f))
    }
    /// Adds a plan modifier.
    pub fn plan_modifier(mut self, m: PlanModifier) -> Self {
        self.plan_modifiers.push(m);
        self
    }
    /// Changing this attribute replaces the resource.
    pub fn requires_replace(self) -> Self {
        self.plan_modifier(PlanModifier::RequiresReplace)
    }
    /// Changing it replaces the resource when `f(prior, planned)` says so.
    pub fn requires_replace_if<F>(self, description: impl Into<String>, f: F) -> Self
    where
        F: Fn(&Value, &Value) -> bool + Send + Sync + 'static,
    {
        self.plan_modifier(PlanModifier::RequiresReplaceIf(ReplaceIfFn::new(
            description,
            f,
        )))
    }
    /// Keep the prior state value instead of "(known after apply)" (computed attributes).
    pub fn use_state_for_unknown(self) -> Self {
        self.plan_modifier(PlanModifier::UseStateForUnknown)
    }
    /// Like [`Self::use_state_for_unknown`], but only when the prior value is not null.
    pub fn use_non_null_state_for_unknown(self) -> Self {
        self.plan_modifier(PlanModifier::UseNonNullStateForUnknown)
    }

    /// The value type of this attribute.
    pub fn ty(&self) -> Type {
        match &self.kind {
            AttrType::Type(t) => t.clone(),
            AttrType::Nested(n) => {
                let o = n.object_type();
                match n.nesting {
                    ObjectNesting::Single => o,
                    ObjectNesting::List => Type::list(o),
                    ObjectNesting::Set => Type::set(o),
                    ObjectNesting::Map => Type::map(o),
                }
            }
        }
    }

    /// Nested attributes, if any.
    pub fn nested_attributes(&self) -> Option<&NestedAttributes> {
        match &self.kind {
            AttrType::Nested(n) => Some(n),
            AttrType::Type(_) => None,
        }
    }
}
