//! Resource identity schemas (tfplugin6.9+, Terraform ≥ 1.12).

use crate::value::{ObjectType, Type};

/// One identity attribute.
#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: Type,
    /// Must be given when importing by identity.
    pub required_for_import: bool,
    /// May be given when importing by identity.
    pub optional_for_import: bool,
    /// Description.
    pub description: String,
}

impl IdentityAttribute {
    /// A string identity attribute required for import.
    pub fn required(name: impl Into<String>, ty: Type) -> Self {
        IdentityAttribute {
            name: name.into(),
            ty,
            required_for_import: true,
            optional_for_import: false,
            description: String::new(),
        }
    }

    /// An identity attribute optional for import.
    pub fn optional(name: impl Into<String>, ty: Type) -> Self {
        IdentityAttribute {
            required_for_import: false,
            optional_for_import: true,
            ..Self::required(name, ty)
        }
    }

    /// Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
}

/// The identity schema of a managed resource.
#[derive(Clone, Debug, Default)]
pub struct IdentitySchema {
    /// Identity schema version.
    pub version: i64,
    /// Attributes.
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// An empty identity schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an attribute.
    pub fn attribute(mut self, a: IdentityAttribute) -> Self {
        self.attributes.push(a);
        self
    }

    /// Sets the version.
    pub fn version(mut self, v: i64) -> Self {
        self.version = v;
        self
    }

    /// The object type of identity values.
    pub fn implied_type(&self) -> Type {
        Type::Object(ObjectType::new(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone())),
        ))
    }
}
