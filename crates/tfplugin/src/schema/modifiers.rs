//! Plan modifiers (declarative; the plan engine interprets them).

use crate::value::Value;
use std::fmt;
use std::sync::Arc;

/// A `RequiresReplaceIf` predicate: `f(prior, planned) -> replace?`. The plan engine only
/// calls it for an existing resource whose attribute changed (`planned` may be unknown).
#[derive(Clone)]
pub struct ReplaceIfFn {
    /// What the predicate decides, for humans; shown by `Debug`.
    pub description: String,
    #[allow(clippy::type_complexity)]
    f: Arc<dyn Fn(&Value, &Value) -> bool + Send + Sync>,
}

impl ReplaceIfFn {
    /// Wraps a predicate; it must be pure (it may run several times per plan).
    pub fn new<F>(description: impl Into<String>, f: F) -> Self
    where
        F: Fn(&Value, &Value) -> bool + Send + Sync + 'static,
    {
        ReplaceIfFn {
            description: description.into(),
            f: Arc::new(f),
        }
    }

    /// Evaluates the predicate; a panic in it propagates to the caller.
    pub fn call(&self, prior: &Value, planned: &Value) -> bool {
        (self.f)(prior, planned)
    }
}

impl fmt::Debug for ReplaceIfFn {
    /// `ReplaceIf("<description>")`; the closure is not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplaceIf({:?})", self.description)
    }
}

/// What the plan engine should do with an attribute beyond defaults and the computed-unknown
/// rule; modifiers run in declaration order, after both.
#[derive(Clone, Debug)]
pub enum PlanModifier {
    /// A change to this attribute (prior ≠ planned, or planned unknown) records its path in
    /// `requires_replace`, so Terraform plans a replacement. Ignored on create and inside
    /// nested objects that were not in prior state.
    RequiresReplace,
    /// Like `RequiresReplace`, but only when the predicate also returns true.
    RequiresReplaceIf(ReplaceIfFn),
    /// When the plan has it unknown and config is null, keep the prior state value (even
    /// null). Needs a prior object, so it never applies on create or inside set elements.
    UseStateForUnknown,
    /// As `UseStateForUnknown`, but only for a non-null prior value; a null prior value
    /// stays unknown.
    UseNonNullStateForUnknown,
}
