//! What every resource type shares: API errors as diagnostics, waiting out a busy instance, the
//! ambiguity rule for failed creates and `A/B` import IDs.

use std::future::Future;
use std::time::Duration;

use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::Context;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::AttributePath;
use tokio::time::Instant;

use crate::client::{ApiError, Client};

/// How long one pause between attempts on a busy instance lasts at most (the client's poll
/// interval is used when shorter, so tests with a fast clock stay fast).
const BUSY_PAUSE: Duration = Duration::from_secs(2);

/// An API error as diagnostics: one general error with status, reason and request id, plus one
/// attribute-level error per field violation that names an attribute of `schema`.
pub fn api_diags(schema: &Schema, summary: &str, err: &ApiError) -> Diagnostics {
    api_diags_as(schema, summary, err, &[])
}

/// [`api_diags`] for a request where some API fields came from differently named attributes
/// (`("password", "password_wo")`: the API's `password` was the user's write-only one), so a
/// violation names the attribute the user actually set.
pub fn api_diags_as(
    schema: &Schema,
    summary: &str,
    err: &ApiError,
    renames: &[(&str, &str)],
) -> Diagnostics {
    let mut d: Diagnostics = Diagnostic::error(summary, err.detail()).into();
    for v in err.field_violations() {
        let mut root = v.field.split(['.', '[']).next().unwrap_or_default();
        let mut field = v.field.as_str();
        if let Some((_, attr)) = renames.iter().find(|(api, _)| *api == root) {
            (root, field) = (attr, attr);
        }
        if schema.block.attr(root).is_some() {
            d.attribute_error(
                AttributePath::attr(root),
                format!("Invalid {field}"),
                v.description.clone(),
            );
        }
    }
    d
}

/// Whether the API refused because the instance is in the middle of an operation.
pub fn is_busy(e: &ApiError) -> bool {
    e.reason() == "OPERATION_IN_PROGRESS"
}

/// Runs `call` until it is not refused with 409 OPERATION_IN_PROGRESS, the deadline passes or
/// Terraform asks to stop. The client already retries a busy answer a few times; this outer loop
/// is what lets a child write wait for a long instance operation (a resize, a restart) within the
/// resource's own timeout instead of the client's retry budget.
pub async fn while_busy<T, F, Fut>(
    ctx: &Context,
    client: &Client,
    deadline: Instant,
    what: &str,
    mut call: F,
) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    loop {
        match call().await {
            Err(e) if is_busy(&e) && !ctx.is_stopped() => {
                let pause = client
                    .poll_interval()
                    .clamp(Duration::from_millis(50), BUSY_PAUSE);
                if Instant::now() + pause >= deadline {
                    return Err(e);
                }
                tracing::info!(what, "instance busy; waiting before the next attempt");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = ctx.stopped() => return Err(e),
                }
            }
            other => return other,
        }
    }
}

/// Splits an import ID of the form `FIRST/SECOND` (e.g. `INSTANCE/NAME`); `shape` is the form as
/// the user should write it, for the error.
pub fn split_pair_id<'a>(id: &'a str, shape: &str) -> Result<(&'a str, &'a str), Diagnostics> {
    let id = id.trim();
    match id.split_once('/') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains('/') => Ok((a, b)),
        _ => Err(Diagnostic::error(
            "Invalid import ID",
            format!("Expected an ID of the form {shape}, got {id:?}."),
        )
        .into()),
    }
}

/// The API's rule for instance names (and firewall rule and backup names): `^[a-z][a-z0-9-]{1,61}[a-z0-9]$`.
pub fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=63).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.ends_with('-')
}

/// The API's rule for SQL identifiers (database and user names, roles):
/// `^[A-Za-z_][A-Za-z0-9_]{0,max-1}$`.
pub fn valid_sql_name(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    (1..=max).contains(&b.len())
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// An `instance` attribute: the parent instance's name, required, replacing the child when it
/// changes, checked against the API's naming rule at plan time.
pub fn instance_attribute(child: &str) -> Attribute {
    Attribute::string("instance")
        .required()
        .requires_replace()
        .validate_with("an instance name", |p, v, d| {
            if let Some(s) = v.as_str()
                && !valid_name(s)
            {
                d.attribute_error(
                    p.clone(),
                    "Invalid instance name",
                    format!(
                        "{s:?} is not a valid instance name: 3 to 63 lowercase letters, digits and \
                         hyphens, starting with a letter and not ending with a hyphen."
                    ),
                );
            }
        })
        .description(format!(
            "Name of the instance the {child} belongs to. Changing it replaces the {child}."
        ))
}

/// The `id` attribute of a child: `INSTANCE/NAME`, known at plan time.
pub fn child_id_attribute() -> Attribute {
    Attribute::string("id")
        .computed()
        .use_state_for_unknown()
        .description("`INSTANCE/NAME`; also the import ID.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_names() {
        for good in ["app", "_x", "A1_b"] {
            assert!(valid_sql_name(good, 63), "{good}");
        }
        for bad in ["", "1a", "a-b", "a b", "ä"] {
            assert!(!valid_sql_name(bad, 63), "{bad}");
        }
        assert!(valid_sql_name(&"a".repeat(32), 32));
        assert!(!valid_sql_name(&"a".repeat(33), 32));
    }

    #[test]
    fn pair_ids() {
        assert_eq!(split_pair_id("db/app", "I/N").ok(), Some(("db", "app")));
        assert_eq!(split_pair_id(" db/app ", "I/N").ok(), Some(("db", "app")));
        for bad in ["", "db", "db/", "/app", "a/b/c"] {
            let d = split_pair_id(bad, "INSTANCE/NAME").expect_err(bad);
            assert!(format!("{d:?}").contains("INSTANCE/NAME"), "{bad}: {d:?}");
        }
    }
}
