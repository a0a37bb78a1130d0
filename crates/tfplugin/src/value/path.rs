//! Attribute paths: where in a value a diagnostic or a `requires_replace` points.

use std::fmt;

/// One step into a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute (or block) name.
    Attribute(String),
    /// A map key.
    Key(String),
    /// A list or tuple index.
    Index(i64),
}

/// A path from the root object of a schema to a nested value.
///
/// Set elements cannot be addressed (the protocol has no step for them), so paths that
/// walk into a set stop at the set attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// The empty path (the whole object).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A path of a single top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        Self(vec![PathStep::Attribute(name.into())])
    }

    /// This path plus an attribute step.
    pub fn with_attr(&self, name: impl Into<String>) -> Self {
        self.with(PathStep::Attribute(name.into()))
    }

    /// This path plus a map key step.
    pub fn with_key(&self, key: impl Into<String>) -> Self {
        self.with(PathStep::Key(key.into()))
    }

    /// This path plus a list index step.
    pub fn with_index(&self, index: i64) -> Self {
        self.with(PathStep::Index(index))
    }

    /// This path plus a step.
    pub fn with(&self, step: PathStep) -> Self {
        let mut v = self.0.clone();
        v.push(step);
        Self(v)
    }

    /// The steps.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// True for the root path.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for AttributePath {
    /// HCL-ish rendering: `settings.flags["a"][0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "(root)");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attribute(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl From<&str> for AttributePath {
    fn from(s: &str) -> Self {
        Self::attr(s)
    }
}
