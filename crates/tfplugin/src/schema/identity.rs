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

    /// Checks what Terraform and terraform-plugin-framework require of identity schemas: at
    /// least one attribute; names that are identifiers, each once; types that are primitive
    /// (bool, number, string) or lists of them; not both required and optional for import.
    /// `Err` lists every problem as `"<name>: <what is wrong>"`. The gRPC layer runs it once
    /// when the provider's schemas are built.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        if self.attributes.is_empty() {
            errs.push("an identity schema needs at least one attribute".to_string());
        }
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.attributes {
            let n = &a.name;
            if !super::check::valid_name(n) {
                errs.push(format!("{n}: name {n:?} must match ^[a-z_][a-z0-9_]*$"));
            }
            if !seen.insert(n.as_str()) {
                errs.push(format!("{n}: declared twice"));
            }
            let primitive = |t: &Type| matches!(t, Type::Bool | Type::Number | Type::String);
            let ok = match &a.ty {
                Type::List(e) => primitive(e),
                t => primitive(t),
            };
            if !ok {
                errs.push(format!(
                    "{n}: identity attributes must be bool, number, string or a list of them"
                ));
            }
            if a.required_for_import && a.optional_for_import {
                errs.push(format!(
                    "{n}: cannot be both required and optional for import"
                ));
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_schema_rules() {
        let good = IdentitySchema::new()
            .attribute(IdentityAttribute::required("name", Type::String))
            .attribute(IdentityAttribute::optional(
                "zones",
                Type::list(Type::String),
            ));
        assert!(good.check().is_ok());
        let mut both = IdentityAttribute::required("id", Type::String);
        both.optional_for_import = true;
        let bad = IdentitySchema::new()
            .attribute(IdentityAttribute::required("Name", Type::String))
            .attribute(IdentityAttribute::required("tags", Type::map(Type::String)))
            .attribute(both.clone())
            .attribute(both);
        assert_eq!(
            bad.check().expect_err("bad"),
            vec![
                "Name: name \"Name\" must match ^[a-z_][a-z0-9_]*$",
                "tags: identity attributes must be bool, number, string or a list of them",
                "id: cannot be both required and optional for import",
                "id: declared twice",
                "id: cannot be both required and optional for import",
            ]
        );
        assert!(IdentitySchema::new().check().is_err());
    }
}
