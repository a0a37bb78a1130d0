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

/// A path being walked: borrowed steps chained on the stack, free to extend at every level of a
/// value, made into an owned [`AttributePath`] only when an error or diagnostic needs one.
///
/// The walkers (msgpack and JSON codecs, typed-model reads) visit every attribute of every value
/// of every RPC; an owned path per step cost a fifth of a refresh plan's provider instructions
/// (issue 11's profile), nearly all of it spent on paths no error ever used.
#[derive(Debug, Clone, Copy)]
pub enum PathRef<'a> {
    /// The root of the value.
    Root,
    /// An owned path a walk starts from.
    At(&'a AttributePath),
    /// An attribute of the object at the inner path.
    Attr(&'a PathRef<'a>, &'a str),
    /// A key of the map at the inner path.
    Key(&'a PathRef<'a>, &'a str),
    /// An element of the list or tuple at the inner path.
    Index(&'a PathRef<'a>, usize),
}

impl<'a> PathRef<'a> {
    /// This path with an attribute step appended.
    pub fn attr(&'a self, name: &'a str) -> PathRef<'a> {
        PathRef::Attr(self, name)
    }

    /// This path with a map key step appended.
    pub fn key(&'a self, key: &'a str) -> PathRef<'a> {
        PathRef::Key(self, key)
    }

    /// This path with a list/tuple index step appended.
    pub fn index(&'a self, index: usize) -> PathRef<'a> {
        PathRef::Index(self, index)
    }

    /// The owned path.
    pub fn to_path(&self) -> AttributePath {
        let mut steps = Vec::new();
        self.push_steps(&mut steps);
        AttributePath(steps)
    }

    fn push_steps(&self, out: &mut Vec<PathStep>) {
        match *self {
            PathRef::Root => {}
            PathRef::At(p) => out.extend(p.0.iter().cloned()),
            PathRef::Attr(up, a) => {
                up.push_steps(out);
                out.push(PathStep::Attribute(a.to_string()));
            }
            PathRef::Key(up, k) => {
                up.push_steps(out);
                out.push(PathStep::Key(k.to_string()));
            }
            PathRef::Index(up, i) => {
                up.push_steps(out);
                out.push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ref_builds_the_same_path_as_the_owned_steps() {
        let base = AttributePath::attr("settings");
        let root = PathRef::At(&base);
        let flags = root.attr("flags");
        let a = flags.key("a");
        let zero = a.index(0);
        assert_eq!(
            zero.to_path(),
            base.with_attr("flags").with_key("a").with_index(0)
        );
        assert_eq!(zero.to_path().to_string(), "settings.flags[\"a\"][0]");
        assert!(PathRef::Root.to_path().is_empty());
    }
}
