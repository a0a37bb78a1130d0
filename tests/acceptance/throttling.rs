//! Throttling handled before it happens: the provider's shared rate limiter paces a large apply
//! under the API's limit, so the server answers no 429 at all; with pacing off, the 429s that do
//! come are survived (retries, and one shared pause per `Retry-After`). Scale tests: they run on
//! the first CLI only ([`harness::for_first_terraform`]).

use std::time::{Duration, Instant};

use crate::harness::{Env, PlanExpect, ServerOpts, for_first_terraform};

/// `count` instances under a provider block paced at `rate_limit` requests/s.
fn scale_hcl(count: usize, rate_limit: u32) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    clouddb = {{\n      source = \"clouddb/clouddb\"\n    }}\n  }}\n}}\n\n\
         provider \"clouddb\" {{\n  poll_interval = \"100ms\"\n  rate_limit    = {rate_limit}\n}}\n\n\
         resource \"clouddb_instance\" \"db\" {{\n  count      = {count}\n  name       = \"acc-rate-${{count.index}}\"\n  \
         tier       = \"db-micro\"\n  storage_gb = 10\n  skip_final_backup = true\n}}\n"
    )
}

/// What the server's request log says about a run: (requests, 429 answers).
fn throttle_figures(env: &Env) -> (usize, usize) {
    let log = env.server.requests();
    let throttled = log.iter().filter(|e| e["status"] == 429).count();
    (log.len(), throttled)
}

/// Apply `count` instances at `-parallelism=50` against a server limited to `server_rate`
/// requests/s, with the provider paced at `rate_limit`; returns (apply wall time, requests, 429s)
/// after checking that every instance exists and the follow-up plan is empty.
fn apply_at(env: &Env, count: usize, rate_limit: u32) -> (Duration, usize, usize) {
    std::fs::write(env.work.join("main.tf"), scale_hcl(count, rate_limit)).expect("write main.tf");
    env.tf_ok(&["init", "-input=false", "-no-color"]);
    let started = Instant::now();
    let r = env.tf(&[
        "apply",
        "-input=false",
        "-no-color",
        "-auto-approve",
        "-parallelism=50",
    ]);
    let wall = started.elapsed();
    assert_eq!(
        r.code,
        0,
        "apply of {count} instances failed ({}):\n{}",
        env.tf_version,
        r.combined()
    );
    // Read the log before anything else talks to the API: the harness's own calls share the
    // token's bucket (and `instance_names` reads one page only), so the state is the witness.
    let (requests, throttled) = throttle_figures(env);
    let created = env
        .state()
        .keys()
        .filter(|a| a.starts_with("clouddb_instance.db["))
        .count();
    assert_eq!(created, count, "instances in state after the apply");
    env.assert_plan(PlanExpect::Empty);
    (wall, requests, throttled)
}

/// Destroy at `-parallelism=50`; returns (wall time, 429 answers in the whole log so far).
fn destroy_at(env: &Env) -> (Duration, usize) {
    let started = Instant::now();
    env.tf_ok(&[
        "destroy",
        "-input=false",
        "-no-color",
        "-auto-approve",
        "-parallelism=50",
    ]);
    let wall = started.elapsed();
    (wall, throttle_figures(env).1)
}

/// 250 instances against a server limited to 50 requests/s (bucket 100), provider `rate_limit = 50`:
/// no failure and not a single 429, through the apply, the follow-up plan and the destroy.
#[test]
fn throttling_paced_apply_of_250_instances_gets_no_429() {
    for_first_terraform(
        "throttling_paced_apply_of_250_instances_gets_no_429",
        |tf| {
            let env = Env::with_server(
                tf,
                ServerOpts {
                    rate_limit: Some(50),
                    ..Default::default()
                },
            );
            let (wall, requests, throttled) = apply_at(&env, 250, 50);
            eprintln!(
                "throttling: limiter on (50/s): apply of 250 in {wall:.1?}, {requests} requests, {throttled} answered 429"
            );
            assert_eq!(throttled, 0, "the paced apply was throttled");
            let (wall, throttled) = destroy_at(&env);
            eprintln!(
                "throttling: limiter on (50/s): destroy in {wall:.1?}, {throttled} answered 429 in all"
            );
            assert_eq!(throttled, 0, "the paced plan or destroy was throttled");
            env.finish();
        },
    );
}

/// The same server with the provider's pacing off (`rate_limit = 0`): the API does answer 429,
/// and the apply still succeeds, every resource created (retries, with every request of the
/// provider waiting out each `Retry-After` together instead of storming).
#[test]
fn throttling_unpaced_apply_survives_429s() {
    for_first_terraform("throttling_unpaced_apply_survives_429s", |tf| {
        let env = Env::with_server(
            tf,
            ServerOpts {
                rate_limit: Some(50),
                ..Default::default()
            },
        );
        let (wall, requests, throttled) = apply_at(&env, UNPACED_COUNT, 0);
        eprintln!(
            "throttling: limiter off: apply of {UNPACED_COUNT} in {wall:.1?}, {requests} requests, {throttled} answered 429"
        );
        assert!(
            throttled > 0,
            "an unpaced apply of {UNPACED_COUNT} at -parallelism=50 should outrun 50/s"
        );
        let (wall, throttled) = destroy_at(&env);
        eprintln!(
            "throttling: limiter off: destroy in {wall:.1?}, {throttled} answered 429 in all"
        );
        env.finish();
    });
}

/// Enough instances for an unpaced apply to empty the server's bucket of 100.
const UNPACED_COUNT: usize = 150;
