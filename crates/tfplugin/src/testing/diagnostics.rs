//! Reading diagnostics out of responses, and the assertions tests make on them.

use crate::proto::tfplugin6 as pb;

/// The diagnostics of error severity, in order; warnings and `INVALID` severity are left out.
pub fn errors(d: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    d.iter()
        .filter(|x| x.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

/// Asserts that `d` holds no error diagnostic (warnings are fine); `what` names the
/// call in the failure message, which lists all of `d`.
///
/// # Panics
/// If there is an error diagnostic.
pub fn assert_no_errors(what: &str, d: &[pb::Diagnostic]) {
    assert!(errors(d).is_empty(), "{what}: unexpected errors {d:?}");
}

/// The attribute name of the first step of an attribute path, if that step is an
/// attribute name; `None` for an empty path or a first step that is an element key or index.
pub fn path_first_attribute(p: &pb::AttributePath) -> Option<String> {
    use pb::attribute_path::step::Selector;
    p.steps.first().and_then(|s| match &s.selector {
        Some(Selector::AttributeName(n)) => Some(n.clone()),
        _ => None,
    })
}

/// The top-level attribute a diagnostic points at (see [`path_first_attribute`]);
/// `None` when it has no path (the framework sends none for the root path).
pub fn first_attribute(d: &pb::Diagnostic) -> Option<String> {
    d.attribute.as_ref().and_then(path_first_attribute)
}

/// The top-level attributes the error diagnostics point at, sorted (duplicates kept;
/// errors without a path are skipped).
pub fn error_attributes(d: &[pb::Diagnostic]) -> Vec<String> {
    let mut attrs: Vec<String> = errors(d).into_iter().filter_map(first_attribute).collect();
    attrs.sort();
    attrs
}

/// Asserts the protocol's "unsupported" answer: exactly one error diagnostic, whose
/// summary or detail names both `kind` (e.g. `"data source"`) and `name` (the type).
///
/// # Panics
/// If there is not exactly one error, or its text lacks `kind` or `name` (case-sensitive).
pub fn assert_unsupported(what: &str, d: &[pb::Diagnostic], kind: &str, name: &str) {
    let e = errors(d);
    assert_eq!(e.len(), 1, "{what}: {d:?}");
    let text = format!("{} {}", e[0].summary, e[0].detail);
    assert!(
        text.contains(kind) && text.contains(name),
        "{what}: the diagnostic should say {kind} {name:?} is unsupported: {text}"
    );
}

/// Checks the answer to an undecodable value: `Ok` when there is an error diagnostic
/// and, if `must_name_value` is set, the first one's summary starts with `Invalid` and
/// its text says msgpack or JSON. `Err` explains what is missing, so a table of cases
/// can collect every failure before asserting. Only the first error is inspected; warnings
/// are ignored.
///
/// # Errors
/// The explanation, when there is no error diagnostic or the first does not name the value.
pub fn check_rejected(d: &[pb::Diagnostic], must_name_value: bool) -> Result<(), String> {
    let errs = errors(d);
    let Some(e) = errs.first() else {
        return Err(format!("no error diagnostic: {d:?}"));
    };
    if must_name_value {
        let text = format!("{} {}", e.summary, e.detail);
        if !(e.summary.starts_with("Invalid")
            && (text.contains("msgpack") || text.contains("JSON")))
        {
            return Err(format!(
                "the error should say the value could not be decoded: {text}"
            ));
        }
    }
    Ok(())
}
