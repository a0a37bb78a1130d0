//! Attribute paths: where in a value a diagnostic or a `requires_replace` points.

use std::fmt;

/// One step into a value (tfplugin6 `AttributePath.Step`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute or nested block name (`attribute_name`).
    Attribute(String),
    /// A map key (`element_key_string`).
    Key(String),
    /// A list or tuple index (`element_key_int`); never a set element.
    Index(i64),
}

/// A path from the root object of a schema to a nested value.
///
/// Set elements cannot be addressed (the protocol has no step for them), so paths that
/// walk into a set stop at the set attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// The empty path: the whole object. A diagnostic with it is not attached to an attribute.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A path of one top-level attribute (or block) step.
    pub fn attr(name: impl Into<String>) -> Self {
        Self(vec![PathStep::Attribute(name.into())])
    }

    /// A copy of this path with an attribute step appended (`self` is unchanged).
    pub fn with_attr(&self, name: impl Into<String>) -> Self {
        self.with(PathStep::Attribute(name.into()))
    }

    /// A copy of this path with a map key step appended.
    pub fn with_key(&self, key: impl Into<String>) -> Self {
        self.with(PathStep::Key(key.into()))
    }

    /// A copy of this path with a list/tuple index step appended; no range check.
    pub fn with_index(&self, index: i64) -> Self {
        self.with(PathStep::Index(index))
    }

    /// A copy of this path with `step` appended.
    pub fn with(&self, step: PathStep) -> Self {
        let mut v = self.0.clone();
        v.push(step);
        Self(v)
    }

    /// The steps, outermost first; empty for the root.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// True for the root path (no steps).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for AttributePath {
    /// HCL-ish rendering: `settings.flags["a"][0]` (keys quoted and escaped as Rust
    /// `Debug`); the root renders as `(root)`.
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
    /// A single top-level attribute step; the text is not split on `.`.
    fn from(s: &str) -> Self {
        Self::attr(s)
    }
}
