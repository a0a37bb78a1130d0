//! Typed models: a Rust struct per schema, read from and written back to [`Value`]s.
//!
//! A provider author declares one struct per schema with serde's derives and reads a
//! configuration, plan or state into it with [`Value::to`], and writes one back with
//! [`Value::from_model`] (or the result constructors such as
//! [`ApplyResult::from_model`](crate::provider::ApplyResult::from_model)):
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tfplugin::model::Field;
//! use tfplugin::value::Value;
//!
//! #[derive(Debug, Serialize, Deserialize)]
//! struct Instance {
//!     name: String,          // required: never null, never unknown in a plan
//!     tier: Field<String>,   // optional + computed: null, unknown or known
//!     labels: Option<std::collections::BTreeMap<String, String>>, // null or known
//! }
//!
//! let plan = Value::object([
//!     ("name", Value::from("orders")),
//!     ("tier", Value::unknown()),
//!     ("labels", Value::Null),
//! ]);
//! let mut m: Instance = plan.to().expect("fits the schema");
//! assert!(m.tier.is_unknown());
//! m.tier = Field::Known("db-small".into());
//! let state = Value::from_model(&m).expect("serialisable");
//! assert_eq!(state.get("tier").as_str(), Some("db-small"));
//! ```
//!
//! # The contract
//!
//! * **Null, unknown and known are explicit in the field type.** [`Field<T>`] holds any
//!   of the three (the Go framework's `types.String`); `Option<T>` holds null or known and
//!   is an error on an unknown value; a bare `T` is an error on null or unknown. Use
//!   `Option` for state-only values and attributes that cannot be unknown.
//! * **The model mirrors the schema exactly.** Reading an object into a struct fails when
//!   the struct has a field the object lacks (a misspelt attribute) or the object has an
//!   attribute the struct lacks; writing a struct back fails the same way once the framework
//!   checks it against the schema's type ([`conform`]). A field of the wrong type (a
//!   `String` for a number attribute) fails too. Every error carries the attribute path,
//!   so the first test that touches a wrong model names the attribute — never a silent null.
//! * Nested attributes and blocks are structs (single), `Vec<Struct>` (list and set) or
//!   `BTreeMap<String, Struct>` (map). Collections of primitives are `Vec<T>` and
//!   `BTreeMap<String, T>`. String enums may be Rust enums with unit variants.
//! * Sets arrive as `Vec` in Terraform's order; on the way out a sequence becomes a set
//!   wherever the schema says so.

mod conform;
mod de;
mod field;
mod ser;
mod timeouts;

pub use conform::conform;
pub use field::Field;
pub use timeouts::{TimeoutsModel, timeout};

use crate::diag::{Diagnostic, Diagnostics};
use crate::value::{AttributePath, PathStep, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

/// A value and a model (or a model and a schema type) do not fit together: always a bug in
/// the provider, reported as an error diagnostic at [`ModelError::path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    /// Where in the value the mismatch is (empty for the whole object).
    pub path: AttributePath,
    /// What does not fit, e.g. "expected string, got number".
    pub message: String,
    /// Set once a path has been attached, so outer levels keep the innermost path.
    located: bool,
}

impl ModelError {
    pub(crate) fn at(path: &AttributePath, message: impl Into<String>) -> Self {
        ModelError {
            path: path.clone(),
            message: message.into(),
            located: true,
        }
    }

    /// Attaches `path` unless a deeper one is already attached.
    pub(crate) fn or_at(mut self, path: &AttributePath) -> Self {
        if !self.located {
            self.path = path.clone();
            self.located = true;
        }
        self
    }

    /// Attaches the path `path()` builds unless a deeper one is already attached (the path is
    /// only built for an error that needs it).
    pub(crate) fn or_at_with(self, path: impl FnOnce() -> AttributePath) -> Self {
        if self.located {
            self
        } else {
            let p = path();
            self.or_at(&p)
        }
    }

    /// Prepends `step` to the path (errors bubbling out of a nested value).
    pub(crate) fn within(mut self, step: PathStep) -> Self {
        self.path.0.insert(0, step);
        self.located = true;
        self
    }

    /// The error as a diagnostic pointing at the attribute.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::error(
            "Provider model does not match the schema",
            format!(
                "{}{}. This is a bug in the provider: its model type and its schema disagree.",
                if self.path.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", self.path)
                },
                self.message
            ),
        );
        if self.path.is_empty() {
            d
        } else {
            d.at(self.path.clone())
        }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ModelError {}

impl serde::de::Error for ModelError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ModelError {
            path: AttributePath::root(),
            message: msg.to_string(),
            located: false,
        }
    }
}

impl serde::ser::Error for ModelError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        <Self as serde::de::Error>::custom(msg)
    }
}

impl From<ModelError> for Diagnostic {
    fn from(e: ModelError) -> Self {
        e.to_diagnostic()
    }
}

impl From<ModelError> for Diagnostics {
    fn from(e: ModelError) -> Self {
        e.to_diagnostic().into()
    }
}

/// Reads `v` into a model (see the module docs for what fits).
pub fn from_value<M: DeserializeOwned>(v: &Value) -> Result<M, ModelError> {
    M::deserialize(de::Deserializer::root(v))
}

/// Writes a model as a value. The result has the model's shape (structs become objects,
/// sequences lists); the framework then fits it to the schema's type with [`conform`],
/// which also reports attributes the model lacks or has in excess.
pub fn to_value<M: Serialize + ?Sized>(m: &M) -> Result<Value, ModelError> {
    m.serialize(ser::Serializer)
}

impl Value {
    /// Reads this value into a model: `let plan: InstanceModel = req.planned_state.to()?;`.
    /// Fails, naming the attribute, when the model does not fit (see [`crate::model`]).
    pub fn to<M: DeserializeOwned>(&self) -> Result<M, ModelError> {
        from_value(self)
    }

    /// Builds a value from a model (the inverse of [`Value::to`]).
    pub fn from_model<M: Serialize + ?Sized>(m: &M) -> Result<Value, ModelError> {
        to_value(m)
    }
}

#[cfg(test)]
mod tests;
