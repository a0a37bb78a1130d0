//! Importing an existing object: [`ImportRequest`] (by ID or by identity) and
//! [`ImportResult`].

use super::PrivateState;
use crate::diag::Diagnostic;
use crate::model::ModelError;
use crate::value::Value;
use serde::Serialize;

/// What Terraform imports by.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportBy {
    /// An import ID: `terraform import ADDR ID` or `import { id = "…" }`. Its format is the
    /// type's to define and to check.
    Id(String),
    /// A resource identity: `import { identity = { … } }` (Terraform ≥ 1.12), only for types
    /// with an identity schema. It conforms to that schema and is wholly known: attributes
    /// `required_for_import` are set, `optional_for_import` ones may be null.
    Identity(Value),
}

/// `ImportResourceState` input: either an ID or an identity, never both.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRequest {
    /// What to import by.
    pub by: ImportBy,
}

impl ImportRequest {
    /// An import by ID.
    pub fn by_id(id: impl Into<String>) -> Self {
        ImportRequest {
            by: ImportBy::Id(id.into()),
        }
    }

    /// An import by identity.
    pub fn by_identity(identity: Value) -> Self {
        ImportRequest {
            by: ImportBy::Identity(identity),
        }
    }

    /// The import ID, when importing by ID.
    pub fn id(&self) -> Option<&str> {
        match &self.by {
            ImportBy::Id(id) => Some(id),
            ImportBy::Identity(_) => None,
        }
    }

    /// The identity, when importing by identity.
    pub fn identity(&self) -> Option<&Value> {
        match &self.by {
            ImportBy::Identity(v) => Some(v),
            ImportBy::Id(_) => None,
        }
    }

    /// The import ID, or the error telling the user that this type imports by ID only (for
    /// types without an identity schema the framework never passes an identity, so this
    /// only fails for a type that has one and does not handle it yet).
    pub fn require_id(&self) -> Result<&str, Diagnostic> {
        self.id().ok_or_else(|| {
            Diagnostic::error(
                "Import by identity not supported",
                "This resource type can only be imported by ID: use `id` in the `import` block, \
                 or `terraform import`.",
            )
        })
    }
}

/// Import result: a (partial) state Terraform then refreshes with `ReadResource`.
#[derive(Debug, Clone, Default)]
pub struct ImportResult {
    /// Imported state. Attributes left out are null (the framework fills them in); the read
    /// that follows completes them. Importing by ID, it must set at least one attribute.
    pub state: Value,
    /// Private state.
    pub private: PrivateState,
    /// Identity (types with an identity schema). `None` keeps the identity imported by, if
    /// any; otherwise the read that follows must return it.
    pub identity: Option<Value>,
    /// Warnings; an error fails the import and nothing is imported.
    pub diagnostics: crate::diag::Diagnostics,
}

impl ImportResult {
    /// Sets `attr` (usually `"id"`) to the import id: the common passthrough import.
    pub fn passthrough(attr: &str, id: &str) -> Self {
        ImportResult {
            state: Value::object([(attr, Value::from(id))]),
            ..Default::default()
        }
    }

    /// The passthrough for either kind of import: `state_attr` is set to the import ID, or to
    /// the identity's `identity_attr` when importing by identity (the identity is kept).
    pub fn passthrough_with_identity(
        state_attr: &str,
        identity_attr: &str,
        req: &ImportRequest,
    ) -> Self {
        let v = match &req.by {
            ImportBy::Id(id) => Value::from(id.as_str()),
            ImportBy::Identity(i) => i.get(identity_attr).clone(),
        };
        ImportResult {
            state: Value::object([(state_attr, v)]),
            ..Default::default()
        }
    }

    /// The imported state from a model.
    pub fn from_model<M: Serialize + ?Sized>(
        m: &M,
        private: PrivateState,
    ) -> Result<Self, ModelError> {
        Ok(ImportResult {
            state: Value::from_model(m)?,
            private,
            ..Default::default()
        })
    }

    /// With an identity.
    pub fn with_identity(mut self, identity: Value) -> Self {
        self.identity = Some(identity);
        self
    }
}
