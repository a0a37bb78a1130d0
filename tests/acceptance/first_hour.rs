//! The errors a new user meets in the first hour, and the logs they read then, with the exact
//! text Terraform shows (issue 12).
//!
//! - API not running: `terraform plan` fails within seconds (the credential check at
//!   configure; a refused connection gets two quick retries, not the 24 s budget) saying
//!   "connection refused" and what to check.
//! - Wrong token, wrong project: `terraform plan` fails at configure with "the token is not
//!   valid for project X"; `skip_credentials_validation` turns the check off.
//! - `storage_gb` over the tier's maximum: one plan error, on `storage_gb`, nothing sent.
//! - Logs: with `TF_LOG=debug` an apply shows one line per API call (method, path, status,
//!   request id, duration) carrying `tf_rpc`/`tf_resource_type`/`tf_req_id`, the waiter's
//!   progress and redacted bodies, never a secret; `TF_LOG_PROVIDER=trace` shows protocol calls.
//!
//! The texts do not depend on the CLI, so each test runs on the newest full-suite CLI and the
//! smoke CLIs (1.15.5 and the 1.11.4 on PATH in CI), not the whole matrix.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::{Env, PROJECT, Run, ServerOpts, TOKEN, smoke_binaries, terraform_binaries};
use crate::instance::instance_hcl;

/// Runs `test` on the first full-suite CLI and the smoke CLIs (once each).
fn on_newest_and_smoke(name: &str, test: impl Fn(&Path)) {
    let mut bins: Vec<_> = terraform_binaries().into_iter().take(1).collect();
    for b in smoke_binaries() {
        if !bins.contains(&b) {
            bins.push(b);
        }
    }
    crate::harness::for_each_of(name, bins, test);
}

/// Terraform's output with its line wrapping and box-drawing gutter undone, for matching
/// sentences of a diagnostic.
fn flat(r: &Run) -> String {
    r.combined()
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn plan(env: &Env) -> (Run, Duration) {
    let started = Instant::now();
    let r = env.tf(&["plan", "-input=false", "-no-color"]);
    (r, started.elapsed())
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

#[test]
fn first_hour_api_not_running_fails_plan_fast_saying_connection_refused() {
    on_newest_and_smoke("first_hour_api_not_running", |tf| {
        let mut env = Env::new(tf);
        env.write_config(&instance_hcl("acc-first-refused", ""));
        let endpoint = format!("http://127.0.0.1:{}", closed_port());
        env.extra_env
            .insert("CLOUDDB_ENDPOINT".into(), endpoint.clone());
        let (r, took) = plan(&env);
        assert_eq!(r.code, 1, "plan must fail:\n{}", r.combined());
        let text = flat(&r);
        for want in [
            "Error: Cannot reach the CloudDB API".to_string(),
            format!(
                "The provider checks its settings with one API call at start-up, and it failed: \
                 cannot reach the CloudDB API at {endpoint}: connection refused (Connection refused \
                 (os error 111))."
            ),
            "Check the provider's `endpoint` (or CLOUDDB_ENDPOINT): is clouddb-server running and \
             listening at that address and port?"
                .to_string(),
        ] {
            assert!(
                text.contains(&want),
                "missing {want:?} in:\n{}",
                r.combined()
            );
        }
        assert!(!text.contains("error sending request"), "{text}");
        // Two quick retries (~0.6 s of backoff), not the default 24 s budget.
        assert!(took < Duration::from_secs(15), "plan took {took:?}");
        env.extra_env.remove("CLOUDDB_ENDPOINT");
        env.finish();
    });
}

#[test]
fn first_hour_wrong_token_or_project_fails_plan_at_configure() {
    on_newest_and_smoke("first_hour_wrong_token_or_project", |tf| {
        let mut env = Env::new(tf);
        env.write_config(&instance_hcl("acc-first-token", ""));

        env.extra_env
            .insert("CLOUDDB_TOKEN".into(), "not-the-token-1234".into());
        let (r, _) = plan(&env);
        assert_eq!(r.code, 1, "plan must fail:\n{}", r.combined());
        let text = flat(&r);
        for want in [
            "Error: Invalid CloudDB credentials".to_string(),
            format!(
                "the token is not valid for project \"{PROJECT}\": the CloudDB API refused it with \
                 HTTP 401 UNAUTHENTICATED (request id: "
            ),
            "Check the provider's `token` (or CLOUDDB_TOKEN) and `project` (or CLOUDDB_PROJECT). Set \
             skip_credentials_validation = true in the provider block (or \
             CLOUDDB_SKIP_CREDENTIALS_VALIDATION=true) to skip this check."
                .to_string(),
        ] {
            assert!(text.contains(&want), "missing {want:?} in:\n{}", r.combined());
        }
        assert!(
            !text.contains("not-the-token-1234"),
            "the token is echoed:\n{text}"
        );

        // The check can be skipped: plan then makes no API call for a create and passes.
        env.extra_env
            .insert("CLOUDDB_SKIP_CREDENTIALS_VALIDATION".into(), "true".into());
        let (r, _) = plan(&env);
        assert_eq!(r.code, 0, "plan with the check skipped:\n{}", r.combined());
        env.extra_env.remove("CLOUDDB_SKIP_CREDENTIALS_VALIDATION");
        env.extra_env.remove("CLOUDDB_TOKEN");

        // The right token for another project: the API knows no such project for it.
        env.extra_env
            .insert("CLOUDDB_PROJECT".into(), "someone-else".into());
        let (r, _) = plan(&env);
        assert_eq!(r.code, 1, "plan must fail:\n{}", r.combined());
        let want = "Error: Invalid CloudDB credentials";
        assert!(
            flat(&r).contains(want),
            "missing {want:?}:\n{}",
            r.combined()
        );
        let want = "the token is not valid for project \"someone-else\": the CloudDB API knows no \
                    project \"someone-else\" for this token (HTTP 404 NOT_FOUND)";
        assert!(
            flat(&r).contains(want),
            "missing {want:?}:\n{}",
            r.combined()
        );
        env.extra_env.remove("CLOUDDB_PROJECT");
        env.finish();
    });
}

#[test]
fn first_hour_storage_over_tier_maximum_is_one_plan_error() {
    on_newest_and_smoke("first_hour_storage_over_tier_maximum", |tf| {
        let env = Env::new(tf);
        env.write_config(
            "resource \"clouddb_instance\" \"db\" {\n  name       = \"acc-first-storage\"\n  tier       = \"db-micro\"\n  storage_gb = 500\n}\n",
        );
        let (r, _) = plan(&env);
        assert_eq!(r.code, 1, "plan must fail:\n{}", r.combined());
        let text = flat(&r);
        assert_eq!(
            text.matches("Error:").count(),
            1,
            "one error:\n{}",
            r.combined()
        );
        for want in [
            "Error: storage_gb is over the tier's maximum",
            "with clouddb_instance.db,",
            "storage_gb = 500",
            "storage_gb = 500, but tier \"db-micro\" allows at most 100 GB. Set storage_gb to 100 or \
             less, or choose a tier that allows 500 GB: db-small, db-standard-2, db-standard-4, \
             db-highmem-8.",
        ] {
            assert!(
                text.contains(want),
                "missing {want:?} in:\n{}",
                r.combined()
            );
        }
        let posts = env
            .server
            .requests()
            .iter()
            .filter(|q| q["method"] == "POST")
            .count();
        assert_eq!(posts, 0, "nothing is created");
        env.finish();
    });
}

/// The log lines Terraform wrote for the provider (`provider.terraform-provider-clouddb: …`).
fn provider_lines(env: &Env) -> Vec<String> {
    let log = std::fs::read_to_string(env.dir.path().join("terraform.log")).expect("TF_LOG_PATH");
    log.lines()
        .filter(|l| l.contains("provider.terraform-provider-clouddb_v"))
        .map(str::to_string)
        .collect()
}

#[test]
fn first_hour_logs_show_api_calls_waiter_progress_and_no_secret() {
    const PASSWORD: &str = "Pw-4d1f-log-test-never-logged";
    let bins: Vec<_> = terraform_binaries().into_iter().take(1).collect();
    crate::harness::for_each_of("first_hour_logs", bins, |tf| {
        // A create that takes 11 s, so the waiter reports its progress once.
        let mut env = Env::with_server(
            tf,
            ServerOpts {
                provision_time: 11,
                ..ServerOpts::default()
            },
        );
        env.extra_env.insert("TF_LOG".into(), "debug".into());
        env.write_config(&instance_hcl(
            "acc-first-log",
            &format!("  admin_password = \"{PASSWORD}\""),
        ));
        let _ = std::fs::remove_file(env.dir.path().join("terraform.log"));
        let out = env.apply_ok().combined();
        let lines = provider_lines(&env);
        let all = lines.join("\n");
        for secret in [TOKEN, PASSWORD] {
            assert!(
                !all.contains(secret) && !out.contains(secret),
                "{secret:?} is logged"
            );
        }
        // One INFO line per API call, after the answer, with the RPC's fields.
        let create = lines
            .iter()
            .find(|l| {
                l.contains("[INFO]")
                    && l.contains("CloudDB API call:")
                    && l.contains("method=POST")
                    && l.contains("path=/v1/projects/acc/instances ")
            })
            .unwrap_or_else(|| panic!("no INFO line for the create:\n{all}"));
        for field in [
            "status=202",
            "request_id=",
            "duration_ms=",
            "tf_rpc=ApplyResourceChange",
            "tf_resource_type=clouddb_instance",
            "tf_req_id=",
            "tf_provider_addr=registry.terraform.io/clouddb/clouddb",
        ] {
            assert!(create.contains(field), "{field} missing in {create}");
        }
        assert!(
            !create.contains("request_id= "),
            "the request id is the server's: {create}"
        );
        // The waiter says what it waits for and for how long.
        let re = regex::Regex::new(
            r"\[INFO\]  provider\.terraform-provider-clouddb_v\S+: waiting for operation op-\S+ \(create instances/acc-first-log\): 10 s elapsed:",
        )
        .expect("regex");
        assert!(re.is_match(&all), "no waiter progress line:\n{all}");
        // DEBUG: the request body, its password redacted.
        let body = lines
            .iter()
            .find(|l| {
                l.contains("[DEBUG]")
                    && l.contains("CloudDB API request:")
                    && l.contains("acc-first-log")
            })
            .unwrap_or_else(|| panic!("no request body line:\n{all}"));
        assert!(body.contains("<redacted>"), "{body}");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("CloudDB API response:") && l.contains("response_body=")),
            "no response body line"
        );

        // TRACE for the provider: the protocol calls, with the RPC's fields.
        env.extra_env
            .insert("TF_LOG_PROVIDER".into(), "trace".into());
        let _ = std::fs::remove_file(env.dir.path().join("terraform.log"));
        env.tf_ok(&["plan", "-input=false", "-no-color"]);
        let lines = provider_lines(&env);
        assert!(
            lines.iter().any(|l| l.contains("[TRACE]")
                && l.contains("Received request:")
                && l.contains("tf_rpc=PlanResourceChange")
                && l.contains("tf_resource_type=clouddb_instance")),
            "no protocol trace lines:\n{}",
            lines.join("\n")
        );
        env.extra_env.remove("TF_LOG_PROVIDER");
        env.finish();
    });
}
