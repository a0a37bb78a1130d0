//! [`Function`]: a provider function, `provider::NAME::FUNC(...)`.

use super::Context;
use crate::value::{Type, Value};
use async_trait::async_trait;

/// One function parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Name (shown in errors and docs).
    pub name: String,
    /// Type (may be `Dynamic`).
    pub ty: Type,
    /// Null arguments are passed through (else Terraform rejects them before calling).
    pub allow_null: bool,
    /// Unknown arguments are passed through (else Terraform makes the result unknown).
    pub allow_unknown: bool,
    /// Markdown description.
    pub description: String,
}

impl Parameter {
    /// A parameter that accepts neither null nor unknown.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Parameter {
            name: name.into(),
            ty,
            allow_null: false,
            allow_unknown: false,
            description: String::new(),
        }
    }
}

/// A function signature.
#[derive(Debug, Clone)]
pub struct Signature {
    /// Positional parameters.
    pub parameters: Vec<Parameter>,
    /// Variadic trailing parameter: any number of further arguments of this shape.
    pub variadic: Option<Parameter>,
    /// Return type; the result must conform to it.
    pub return_type: Type,
    /// One-line summary.
    pub summary: String,
    /// Markdown description.
    pub description: String,
    /// Deprecation message; Terraform warns on every call when set.
    pub deprecation: Option<String>,
}

/// A function call failed; Terraform shows `text`, pointing at `argument` when set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct FunctionError {
    /// Message.
    pub text: String,
    /// Index of the offending argument (0-based, variadic arguments continue the count).
    pub argument: Option<i64>,
}

/// A provider function. Functions are pure: Terraform may call them before configuring
/// the provider, any number of times, during validate, plan and apply.
#[async_trait]
pub trait Function: Send + Sync + 'static {
    /// Function name as called in HCL (`provider::NAME::FUNC`): lowercase, digits and `_`.
    fn name(&self) -> &'static str;
    /// The signature; arguments are decoded with its parameter types before [`Function::call`]. Called once.
    fn signature(&self) -> Signature;
    /// Calls it with arguments decoded with the signature's types.
    async fn call(&self, ctx: &Context, args: Vec<Value>) -> Result<Value, FunctionError>;
}
