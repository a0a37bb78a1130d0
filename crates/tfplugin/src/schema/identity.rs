//! Resource identity schemas (tfplugin6.9+, Terraform ≥ 1.12).

use crate::value::{ObjectType, Type};

/// One attribute of a resource identity (tfplugin6 `ResourceIdentitySchema.IdentityAttribute`).
#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    /// Name; a key of the identity object.
    pub name: String,
    /// Value type; sent as type JSON.
    pub ty: Type,
    /// Must be given when importing by identity (`import { identity = { … } }`).
    pub required_for_import: bool,
    /// May be omitted when importing by identity.
    pub optional_for_import: bool,
    /// Description; empty means none.
    pub description: String,
}

impl IdentityAttribute {
    /// An identity attribute of type `ty` that is required for import.
    pub fn required(name: impl Into<String>, ty: Type) -> Self {
        IdentityAttribute {
            name: name.into(),
            ty,
            required_for_import: true,
            optional_for_import: false,
            description: String::new(),
        }
    }

    /// An identity attribute of type `ty` that is optional for import.
    pub fn optional(name: impl Into<String>, ty: Type) -> Self {
        IdentityAttribute {
            required_for_import: false,
            optional_for_import: true,
            ..Self::required(name, ty)
        }
    }

    /// Sets the description (replaces any earlier one).
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
}

/// The identity schema of a managed resource (tfplugin6.9+, Terraform ≥ 1.12): the object
/// that identifies a remote object independently of its state, used by import-by-identity and
/// stored beside state. Older Terraform never asks for it.
#[derive(Clone, Debug, Default)]
pub struct IdentitySchema {
    /// Identity schema version; Terraform calls `UpgradeResourceIdentity` when stored
    /// identity has another version.
    pub version: i64,
    /// Attributes, in declaration order.
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// An empty version-0 identity schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an attribute (a duplicate name keeps the last in [`Self::implied_type`]).
    pub fn attribute(mut self, a: IdentityAttribute) -> Self {
        self.attributes.push(a);
        self
    }

    /// Sets the identity schema version.
    pub fn version(mut self, v: i64) -> Self {
        self.version = v;
        self
    }

    /// The object type of identity values: one attribute per identity attribute, none
    /// optional.
    pub fn implied_type(&self) -> Type {
        Type::Object(ObjectType::new(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone())),
        ))
    }
}
