//! Plan modifiers (declarative; the plan engine interprets them).

use crate::value::Value;
use std::fmt;
use std::sync::Arc;

/// A `RequiresReplaceIf` predicate: `f(prior, planned) -> replace?`.
#[derive(Clone)]
pub struct ReplaceIfFn {
    /// Shown in docs/logs.
    pub description: String,
    #[allow(clippy::type_complexity)]
    f: Arc<dyn Fn(&Value, &Value) -> bool + Send + Sync>,
}

impl ReplaceIfFn {
    /// Wraps a predicate.
    pub fn new<F>(description: impl Into<String>, f: F) -> Self
    where
        F: Fn(&Value, &Value) -> bool + Send + Sync + 'static,
    {
        ReplaceIfFn {
            description: description.into(),
            f: Arc::new(f),
        }
    }

    /// Evaluates the predicate.
    pub fn call(&self, prior: &Value, planned: &Value) -> bool {
        (self.f)(prior, planned)
    }
}

impl fmt::Debug for ReplaceIfFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplaceIf({:?})", self.description)
    }
}

/// What the plan engine should do with an attribute beyond the defaults.
#[derive(Clone, Debug)]
pub enum PlanModifier {
    /// A change to this attribute (prior ≠ planned) forces replacement.
    RequiresReplace,
    /// Like `RequiresReplace` but only when the predicate says so.
    RequiresReplaceIf(ReplaceIfFn),
    /// When the plan would mark it unknown, keep the prior state value (even null).
    UseStateForUnknown,
    /// As `UseStateForUnknown`, but only for a non-null prior value, so attributes
    /// of newly added nested objects still become unknown.
    UseNonNullStateForUnknown,
}
