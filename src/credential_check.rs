//! The credential check at `ConfigureProvider`: one cheap authenticated call, so that a wrong
//! token or project fails `terraform plan` with a message naming the setting, instead of a 401
//! in the middle of `apply` (the AWS provider's GetCallerIdentity, done the same way and
//! skipped the same way, by `skip_credentials_validation`).
//!
//! The call is `GET /v1/projects/{project}/instances?page_size=1`: every token may make it, it
//! is scoped to the project, and it reads at most one record. Only answers that prove the
//! settings wrong fail configuration: 401/403 (the token) and 404 (the token's project is
//! another), and no answer at all (the endpoint). Anything else (a 5xx, a 429 after the
//! retries) says nothing about the settings and is left to the calls that need the API.

use tfplugin::diag::Diagnostic;
use tfplugin::provider::Context;
use tfplugin::value::AttributePath;

use crate::client::{ApiError, Client, InstanceQuery};

/// The attribute that turns the check off.
pub const SKIP_ATTRIBUTE: &str = "skip_credentials_validation";
/// Its environment fallback.
pub const SKIP_ENV: &str = "CLOUDDB_SKIP_CREDENTIALS_VALIDATION";

/// Runs the check; `Err` is the one diagnostic configuration fails with.
pub async fn check(ctx: &Context, client: &Client) -> Result<(), Diagnostic> {
    let probe = client.with_stop(ctx);
    match probe
        .list_instances_page(&InstanceQuery::default(), 1, None)
        .await
    {
        Ok(_) => {
            tracing::debug!(project = client.project(), "CloudDB credentials validated");
            Ok(())
        }
        Err(e) => match diagnostic(&e, client.project()) {
            Some(d) => Err(d),
            None => {
                tracing::warn!(error = %e, "could not validate the CloudDB credentials; continuing");
                Ok(())
            }
        },
    }
}

/// The diagnostic for an error that proves a setting wrong, naming it; `None` for the others.
pub fn diagnostic(e: &ApiError, project: &str) -> Option<Diagnostic> {
    let request_id = e
        .request_id()
        .map(|id| format!(" (request id: {id})"))
        .unwrap_or_default();
    let skip = format!(
        "Set {SKIP_ATTRIBUTE} = true in the provider block (or {SKIP_ENV}=true) to skip this check."
    );
    let (attr, detail) = match (e, e.status()) {
        (ApiError::Transport { failure, .. }, _) => (
            "endpoint",
            format!(
                "The provider checks its settings with one API call at start-up, and it failed: {failure}"
            ),
        ),
        (_, Some(401 | 403)) => (
            "token",
            format!(
                "the token is not valid for project {project:?}: the CloudDB API refused it with HTTP {} {}{request_id}. \
                 Check the provider's `token` (or CLOUDDB_TOKEN) and `project` (or CLOUDDB_PROJECT). {skip}",
                e.status().unwrap_or_default(),
                e.reason()
            ),
        ),
        (_, Some(404)) => (
            "project",
            format!(
                "the token is not valid for project {project:?}: the CloudDB API knows no project {project:?} for \
                 this token (HTTP 404 {}){request_id}. Check the provider's `project` (or CLOUDDB_PROJECT) and \
                 `token` (or CLOUDDB_TOKEN). {skip}",
                e.reason()
            ),
        ),
        _ => return None,
    };
    let summary = if attr == "endpoint" {
        "Cannot reach the CloudDB API"
    } else {
        "Invalid CloudDB credentials"
    };
    Some(Diagnostic::error(summary, detail).at(AttributePath::attr(attr)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientConfig, fake};

    /// 401 names `token`, 404 names `project`, both with "the token is not valid for project
    /// X"; a 5xx says nothing about the settings and passes.
    #[tokio::test]
    async fn only_answers_that_prove_a_setting_wrong_fail() {
        let (url, log) = fake::serve(|r, _| match r.path.as_str() {
            p if p.starts_with("/v1/projects/bad-token/") => (
                401,
                vec![],
                fake::problem(401, "UNAUTHENTICATED", false, "no"),
            ),
            p if p.starts_with("/v1/projects/other/") => (
                404,
                vec![],
                fake::problem(404, "NOT_FOUND", false, "project other not found"),
            ),
            p if p.starts_with("/v1/projects/flaky/") => {
                (500, vec![], fake::problem(500, "INTERNAL", false, "boom"))
            }
            _ => (200, vec![], r#"{"instances":[]}"#.into()),
        })
        .await;
        let ctx = Context::background();
        let check_for = |project: &str| {
            let mut cfg = ClientConfig::new(url.clone(), "tok-123", project);
            cfg.retry.max_retries = 0;
            let client = Client::new(cfg).expect("client");
            let ctx = ctx.clone();
            async move { check(&ctx, &client).await }
        };
        assert!(check_for("good").await.is_ok());
        assert!(check_for("flaky").await.is_ok());
        let d = check_for("bad-token").await.expect_err("401");
        assert_eq!(d.attribute, Some(AttributePath::attr("token")));
        assert!(
            d.detail
                .starts_with("the token is not valid for project \"bad-token\": the CloudDB API refused it with HTTP 401 UNAUTHENTICATED"),
            "{}",
            d.detail
        );
        let d = check_for("other").await.expect_err("404");
        assert_eq!(d.attribute, Some(AttributePath::attr("project")));
        assert!(
            d.detail
                .starts_with("the token is not valid for project \"other\"")
        );
        assert!(
            log.lock()
                .expect("lock")
                .iter()
                .all(|r| r.path.contains("page_size=1"))
        );
    }
}
