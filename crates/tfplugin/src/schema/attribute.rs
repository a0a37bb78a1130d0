//! Attributes and nested attributes, with a builder API.

use super::modifiers::{PlanModifier, ReplaceIfFn};
use super::validators::{Accepts, FnValidator, Validator};
use crate::diag::Diagnostics;
use crate::value::{AttributePath, ObjectType, Type, Value};
use std::sync::Arc;

/// Nesting of a nested-attribute object (`nested_type`, protocol 6 only); decides the
/// attribute's value type. Unlike blocks, nested attributes are null when not configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectNesting {
    /// One object (`attr = { … }`), or null.
    Single,
    /// A list of objects, or null.
    List,
    /// A set of objects, or null; its objects cannot hold write-only or dynamic attributes.
    Set,
    /// A map of objects keyed by string, or null.
    Map,
}

/// The attributes of a nested-attribute object and how the object repeats.
#[derive(Clone)]
pub struct NestedAttributes {
    /// How the object repeats.
    pub nesting: ObjectNesting,
    /// The object's attributes, with the same flags and rules as top-level ones.
    pub attributes: Vec<Attribute>,
}

impl NestedAttributes {
    /// The object type of one element (not wrapped in list/set/map); no optional attributes.
    pub fn object_type(&self) -> Type {
        Type::Object(ObjectType::new(
            self.attributes.iter().map(|a| (a.name.clone(), a.ty())),
        ))
    }
}

/// Either a plain type or nested attributes (the protocol's `type` vs `nested_type`).
#[derive(Clone)]
pub enum AttrType {
    /// A cty type, sent as type JSON. An object type here has no per-attribute flags.
    Type(Type),
    /// Nested attributes (`nested_type`): per-attribute flags, validators, defaults and
    /// modifiers inside the object.
    Nested(NestedAttributes),
}

/// One attribute of a block or nested object. Build with a constructor
/// ([`Attribute::string`], …) and the chained flag setters; [`Schema::check`](super::Schema::check)
/// rejects invalid combinations.
#[derive(Clone)]
pub struct Attribute {
    /// Name; must match `^[a-z_][a-z0-9_]*$` and be unique among its siblings.
    pub name: String,
    /// Type or nested attributes; decides [`Attribute::ty`].
    pub kind: AttrType,
    /// Must be set in config (Terraform reports a missing one). Excludes optional and computed.
    pub required: bool,
    /// May be set in config; null when not set (unless it has a default).
    pub optional: bool,
    /// The provider may set it. With `optional`, a config value wins; otherwise the plan
    /// makes it unknown when the resource changes (see [`crate::plan`]).
    pub computed: bool,
    /// Redacted in Terraform's UI and never logged by [`crate::logging`]; still stored in
    /// state in plain text.
    pub sensitive: bool,
    /// Present in config only: always null in plan and state (Terraform ≥ 1.11). Cannot be
    /// computed or have a default.
    pub write_only: bool,
    /// Deprecation message; `Some` marks it deprecated in the schema, and
    /// [`validate_config`](super::validate_config) warns when config sets it (non-null).
    pub deprecated: Option<String>,
    /// Markdown description; empty means none.
    pub description: String,
    /// Value planned when config leaves it null (terraform-plugin-framework `Default`). Must
    /// conform to the type and the attribute must be computed (see [`Attribute::default`]).
    pub default: Option<Value>,
    /// Run by [`validate_config`](super::validate_config) on wholly known, non-null config
    /// values, in order; never on plan or state.
    pub validators: Vec<Arc<dyn Validator>>,
    /// Run by the plan engine in order, after defaults and the computed-unknown rule.
    pub plan_modifiers: Vec<PlanModifier>,
}

impl Attribute {
    /// An attribute of any type with no flags set: call `required()`, `optional()` or
    /// `computed()`, or [`Schema::check`](super::Schema::check) rejects it.
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

    /// A `string` attribute, no flags set.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }
    /// A `number` attribute (arbitrary precision), no flags set.
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }
    /// A `number` attribute with the [`integer`](super::validators::integer) validator, so
    /// fractional config values are a validate-time error; the wire type stays `number`, as
    /// for terraform-plugin-framework's Int64 attributes.
    pub fn int64(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number).validator(super::validators::integer())
    }
    /// A `bool` attribute, no flags set.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }
    /// A `dynamic` attribute (any type, chosen per value; not allowed inside sets), no flags set.
    pub fn dynamic(name: impl Into<String>) -> Self {
        Self::new(name, Type::Dynamic)
    }
    /// A `list(elem)` attribute, no flags set.
    pub fn list(name: impl Into<String>, elem: Type) -> Self {
        Self::new(name, Type::list(elem))
    }
    /// A `set(elem)` attribute, no flags set.
    pub fn set(name: impl Into<String>, elem: Type) -> Self {
        Self::new(name, Type::set(elem))
    }
    /// A `map(elem)` attribute, no flags set.
    pub fn map(name: impl Into<String>, elem: Type) -> Self {
        Self::new(name, Type::map(elem))
    }
    /// A nested attribute of the given nesting, no flags set on the attribute itself.
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
    /// A single nested object (`attr = { … }`), no flags set.
    pub fn single_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, ObjectNesting::Single, attributes)
    }
    /// A list of nested objects, no flags set.
    pub fn list_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, ObjectNesting::List, attributes)
    }
    /// A set of nested objects, no flags set.
    pub fn set_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, ObjectNesting::Set, attributes)
    }
    /// A map of nested objects, no flags set.
    pub fn map_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, ObjectNesting::Map, attributes)
    }

    /// Must be configured; clears `optional` and `computed`.
    pub fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self.computed = false;
        self
    }
    /// May be configured; clears `required`, keeps `computed`.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self.required = false;
        self
    }
    /// Set by the provider; clears `required`. With `optional()`, a config value wins and a
    /// null one is planned unknown on change (or kept by `use_state_for_unknown`).
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self.required = false;
        self
    }
    /// Sensitive: redacted in Terraform's UI and never logged; not encrypted in state.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Write-only (Terraform ≥ 1.11): present in config only; the framework nulls it in plan
    /// and state. Rejected by [`Schema::check`](super::Schema::check) with `computed` or a default.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    /// Deprecated, with a message telling users what to use instead; warned at validate time
    /// when configured.
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.deprecated = Some(msg.into());
        self
    }
    /// Sets the Markdown description (replaces any earlier one).
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    /// Default planned when config is null (also inside nested objects). Makes the attribute
    /// optional+computed and clears `required`, because Terraform only lets a provider fill in
    /// attributes marked computed. The value is not converted: it must conform to the type.
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
    /// Appends a plan modifier; modifiers run in the order added.
    pub fn plan_modifier(mut self, m: PlanModifier) -> Self {
        self.plan_modifiers.push(m);
        self
    }
    /// Changing this attribute (planned differs from prior, or is unknown) on an existing
    /// resource replaces it. Not on create; not allowed on computed-only attributes.
    pub fn requires_replace(self) -> Self {
        self.plan_modifier(PlanModifier::RequiresReplace)
    }
    /// Like [`Attribute::requires_replace`], but only when `f(prior, planned)` returns true;
    /// `f` is only called when the values differ (`planned` may be unknown).
    pub fn requires_replace_if<F>(self, description: impl Into<String>, f: F) -> Self
    where
        F: Fn(&Value, &Value) -> bool + Send + Sync + 'static,
    {
        self.plan_modifier(PlanModifier::RequiresReplaceIf(ReplaceIfFn::new(
            description,
            f,
        )))
    }
    /// Keep the prior state value (even null) instead of "(known after apply)" when the plan
    /// would make it unknown and config is null, as terraform-plugin-framework's
    /// `UseStateForUnknown`. Never on create, nor inside set elements. Computed attributes only.
    pub fn use_state_for_unknown(self) -> Self {
        self.plan_modifier(PlanModifier::UseStateForUnknown)
    }
    /// Like [`Self::use_state_for_unknown`], but only when the prior value is not null: a null
    /// prior value stays "(known after apply)" (terraform-plugin-framework's
    /// `UseNonNullStateForUnknown`).
    pub fn use_non_null_state_for_unknown(self) -> Self {
        self.plan_modifier(PlanModifier::UseNonNullStateForUnknown)
    }

    /// The value type of this attribute: the plain type, or the nested object type wrapped
    /// by its nesting. Computed on each call.
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

    /// The nested attributes; `None` for a plain-typed attribute (even an object type).
    pub fn nested_attributes(&self) -> Option<&NestedAttributes> {
        match &self.kind {
            AttrType::Nested(n) => Some(n),
            AttrType::Type(_) => None,
        }
    }
}
