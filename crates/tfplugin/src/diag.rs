//! Diagnostics: the errors and warnings every RPC returns to Terraform.
//!
//! Handlers report problems as diagnostics instead of failing the gRPC call, because
//! Terraform shows diagnostics (with the attribute they point at) but turns a transport
//! error into an opaque "plugin error".

use crate::value::AttributePath;
use std::fmt;

/// How bad a diagnostic is (tfplugin6 `Diagnostic.Severity`; `INVALID` is never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Fails the operation: Terraform stops the command and ignores the rest of the answer
    /// where the protocol says so (e.g. an apply error still records the returned state).
    Error,
    /// Shown to the user; the operation continues as if it were absent.
    Warning,
}

/// One error or warning, optionally pointing at an attribute. Summary and detail are shown
/// verbatim, so they must never contain sensitive values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning; only errors fail the operation.
    pub severity: Severity,
    /// One-line summary, shown after `Error:`/`Warning:`.
    pub summary: String,
    /// Longer explanation (may be empty); plain text, shown below the summary.
    pub detail: String,
    /// The attribute it is about, if any (Terraform highlights it in the config). `None` and
    /// the root path are equivalent: both are sent without an attribute.
    pub attribute: Option<AttributePath>,
}

impl Diagnostic {
    /// An error not attached to any attribute.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// A warning not attached to any attribute.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(summary, detail)
        }
    }

    /// The same diagnostic pointing at `path` (replacing any earlier path).
    pub fn at(mut self, path: AttributePath) -> Self {
        self.attribute = Some(path);
        self
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `error: <summary> (at <path>): <detail>`; the path and detail parts only when present.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}", self.summary)?;
        if let Some(p) = &self.attribute {
            write!(f, " (at {p})")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// An ordered list of diagnostics, as one RPC answers them; order is kept, duplicates are
/// not removed. The answer counts as failed when [`Diagnostics::has_errors`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// An empty list (success).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `d` at the end.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Appends an error not attached to any attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    /// Appends a warning not attached to any attribute.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }

    /// Appends an error pointing at `path` (a `&str` is one top-level attribute).
    pub fn attribute_error(
        &mut self,
        path: impl Into<AttributePath>,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).at(path.into()));
    }

    /// Appends a warning pointing at `path` (a `&str` is one top-level attribute).
    pub fn attribute_warning(
        &mut self,
        path: impl Into<AttributePath>,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::warning(summary, detail).at(path.into()));
    }

    /// Appends all of `other`, in order.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// True if any is an error, i.e. the operation failed; warnings alone are success.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// True if there are no diagnostics at all (no errors and no warnings).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of diagnostics, errors and warnings together.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    /// A list of just `d`.
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    /// Consumes the list in insertion order.
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Extend<Diagnostic> for Diagnostics {
    /// Appends every diagnostic of `iter`, in order.
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        self.0.extend(iter);
    }
}

impl fmt::Display for Diagnostics {
    /// One diagnostic per line (see `Display for Diagnostic`); empty for no diagnostics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}
