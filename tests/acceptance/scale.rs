//! Refresh at scale (`batch_reads`): a plan of 1,000 instances, and of 100 databases, users and
//! firewall rules on one instance, costs at most one API request per 20 objects, and still shows
//! exactly the one object changed and the one deleted out of band; with `batch_reads = false` it
//! is one GET per object.
//!
//! These run on one CLI only (the first of `terraform_binaries()`): they test the provider's
//! request pattern, which does not depend on the CLI version, and creating 1,000 objects is the
//! most expensive thing the suite does. `TF_ACC_SCALE_N` lowers the instance count for a quick run.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{
    Env, PROJECT, ServerOpts, acceptance_requested, count_actions, terraform_binaries,
};

/// Instances in the big plan.
fn scale_n() -> usize {
    std::env::var("TF_ACC_SCALE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// An Env on the first CLI with instant operations, applying and destroying 50 at a time; `None`
/// when acceptance tests are not requested.
fn scale_env() -> Option<Env> {
    let Some(tf) = terraform_binaries().into_iter().next() else {
        assert!(
            !acceptance_requested(),
            "TF_ACC is set but no Terraform CLI was found"
        );
        return None;
    };
    let mut env = Env::with_server(
        &tf,
        ServerOpts {
            provision_time: 0,
            update_time: 0,
            delete_time: 0,
            ..ServerOpts::default()
        },
    );
    env.extra_env
        .insert("TF_CLI_ARGS_apply".into(), "-parallelism=50".into());
    // The state is fresh when a test ends: destroy without refreshing every object once more.
    env.extra_env.insert(
        "TF_CLI_ARGS_destroy".into(),
        "-parallelism=50 -refresh=false".into(),
    );
    // Debug logs of 1,000 reads would be most of the run's time and disk.
    env.extra_env.insert("TF_LOG".into(), "warn".into());
    Some(env)
}

/// The public API requests the server logged after `since` (its `seq`): (method, path) each.
fn api_requests(env: &Env, since: u64) -> Vec<(String, String)> {
    env.server
        .requests()
        .iter()
        .filter(|e| e["seq"].as_u64().is_some_and(|s| s > since))
        .filter_map(|e| {
            let path = e["path"].as_str()?;
            path.starts_with("/v1/").then(|| {
                (
                    e["method"].as_str().unwrap_or("").to_string(),
                    path.to_string(),
                )
            })
        })
        .collect()
}

fn last_seq(env: &Env) -> u64 {
    env.server
        .requests()
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .max()
        .unwrap_or(0)
}

/// `terraform plan` (default `-parallelism`, 10) timed, with the API requests it made and the
/// plan JSON.
fn measured_plan(env: &Env) -> (Duration, Vec<(String, String)>, Value) {
    let since = last_seq(env);
    let started = Instant::now();
    let r = env.tf(&[
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        "-out=tfplan",
    ]);
    let took = started.elapsed();
    assert_ne!(r.code, 1, "plan failed:\n{}", r.combined());
    let requests = api_requests(env, since);
    let show = env.tf_ok(&["show", "-json", "tfplan"]);
    let plan: Value = serde_json::from_str(&show.stdout).expect("plan JSON");
    (took, requests, plan)
}

/// The addresses the plan changes, with their actions (`["update"]`, `["create"]`).
fn changed(plan: &Value) -> Vec<(String, Value)> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rc| rc["change"]["actions"] != json!(["no-op"]))
        .map(|rc| {
            (
                rc["address"].as_str().unwrap_or("").to_string(),
                rc["change"]["actions"].clone(),
            )
        })
        .collect()
}

fn instances_hcl(n: usize) -> String {
    format!(
        "resource \"clouddb_instance\" \"s\" {{\n  count      = {n}\n  name       = format(\"scale-%04d\", count.index)\n  tier       = \"db-small\"\n  storage_gb = 20\n}}\n"
    )
}

#[test]
fn scale_instances_refresh_in_batches() {
    let Some(env) = scale_env() else { return };
    let n = scale_n();
    let started = Instant::now();
    let imported = !env.tf_older_than(1, 7);
    if imported {
        // Creating 1,000 through Terraform takes minutes (core persists state after each): the
        // test creates them with the API and Terraform adopts them with `import` blocks, which
        // exercises the same refresh.
        for i in 0..n {
            let body = json!({"name": format!("scale-{i:04}"), "engine": "mysql", "tier": "db-small", "storage_gb": 20});
            let (status, v) = env.server.api("POST", "/instances", Some(body));
            assert!((200..300).contains(&status), "create scale-{i:04}: {v}");
        }
        env.write_config(&format!(
            "{}\nimport {{\n  for_each = {{ for i in range({n}) : format(\"scale-%04d\", i) => i }}\n  to       = clouddb_instance.s[each.value]\n  id       = each.key\n}}\n",
            instances_hcl(n)
        ));
    } else {
        env.write_config(&instances_hcl(n));
    }
    env.tf_ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    eprintln!(
        "scale: {} {n} instances in {:.1?}",
        if imported {
            "created and imported"
        } else {
            "created"
        },
        started.elapsed()
    );

    // No change: at most one request per 20 instances.
    let (took, requests, plan) = measured_plan(&env);
    assert_eq!(
        count_actions(&plan),
        (0, 0, 0),
        "an unchanged estate plans nothing"
    );
    eprintln!(
        "scale: plan of {n} instances, batch_reads on: {} API requests ({:.3} per instance), {took:.2?}",
        requests.len(),
        requests.len() as f64 / n as f64
    );
    assert!(
        requests.len() * 20 <= n,
        "{} requests for {n} instances: {requests:?}",
        requests.len()
    );
    if !imported {
        // Store what the refresh saw: instances read once are past the API's not-found window
        // after a create, so the deletion below is confirmed by one GET, not 15 s of retries.
        env.tf_ok(&[
            "apply",
            "-refresh-only",
            "-input=false",
            "-no-color",
            "-auto-approve",
        ]);
    }

    // One changed out of band: exactly that one change.
    let drifted = n / 2;
    let drift = |name: &str| format!("/admin/drift/projects/{PROJECT}/instances/{name}");
    env.server.admin(
        "PATCH",
        &drift(&format!("scale-{drifted:04}")),
        Some(json!({"tier": "db-micro"})),
    );
    let (_, requests, plan) = measured_plan(&env);
    assert_eq!(
        changed(&plan),
        vec![(format!("clouddb_instance.s[{drifted}]"), json!(["update"]))]
    );
    assert!(requests.len() * 20 <= n, "{requests:?}");
    // Put it back (the ETag changes, the settings match the state again).
    env.server.admin(
        "PATCH",
        &drift(&format!("scale-{drifted:04}")),
        Some(json!({"tier": "db-small"})),
    );

    // One deleted out of band: exactly one create, and one GET confirms it is gone.
    let deleted = n / 4;
    let name = format!("scale-{deleted:04}");
    env.server.admin("DELETE", &drift(&name), None);
    let (_, requests, plan) = measured_plan(&env);
    assert_eq!(
        changed(&plan),
        vec![(format!("clouddb_instance.s[{deleted}]"), json!(["create"]))]
    );
    let gets: Vec<_> = requests
        .iter()
        .filter(|(m, p)| m == "GET" && p.ends_with(&format!("/instances/{name}")))
        .collect();
    assert_eq!(gets.len(), 1, "one GET confirms the miss: {requests:?}");
    assert!(requests.len() * 20 <= n, "{requests:?}");

    // batch_reads = false: one GET per instance, no listing.
    env.write_config_with_provider("  batch_reads = false\n", &instances_hcl(n));
    let (took, requests, plan) = measured_plan(&env);
    assert_eq!(count_actions(&plan), (1, 0, 0));
    let per_object = requests
        .iter()
        .filter(|(m, p)| m == "GET" && p.contains("/instances/scale-"))
        .count();
    eprintln!(
        "scale: plan of {n} instances, batch_reads off: {} API requests ({:.3} per instance), {took:.2?}",
        requests.len(),
        requests.len() as f64 / n as f64
    );
    assert_eq!(per_object, n, "one GET per instance");
    // Besides those, only what every plan makes: configure's credential check (a one-item
    // listing) and, for the planned create, the tier catalogue behind the storage_gb check.
    let mut others: Vec<_> = requests
        .iter()
        .filter(|(m, p)| !(m == "GET" && p.contains("/instances/scale-")))
        .cloned()
        .collect();
    others.sort();
    assert_eq!(
        others,
        [
            (
                "GET".to_string(),
                format!("/v1/projects/{PROJECT}/instances")
            ),
            ("GET".to_string(), "/v1/tiers".to_string()),
        ],
        "nothing else"
    );

    env.write_config(&instances_hcl(n));
    env.finish();
}

fn children_hcl(n: usize, db_charset: &str) -> String {
    format!(
        r#"resource "clouddb_instance" "db" {{
  name       = "scale-children"
  tier       = "db-small"
  storage_gb = 20
}}

resource "clouddb_database" "d" {{
  count    = {n}
  instance = clouddb_instance.db.name
  name     = format("db%03d", count.index)
  charset  = "{db_charset}"
}}

resource "clouddb_user" "u" {{
  count    = {n}
  instance = clouddb_instance.db.name
  name     = format("user%03d", count.index)
  roles    = ["reader"]
}}

resource "clouddb_firewall_rule" "f" {{
  count    = {n}
  instance = clouddb_instance.db.name
  name     = format("rule%03d", count.index)
  cidr     = "10.0.${{count.index}}.0/24"
}}
"#
    )
}

#[test]
fn scale_children_refresh_in_batches() {
    let Some(env) = scale_env() else { return };
    // The API's limit per instance and kind.
    let n = 100;
    env.write_config(&children_hcl(n, "utf8mb4"));
    env.tf_ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);

    let (_, requests, plan) = measured_plan(&env);
    assert_eq!(count_actions(&plan), (0, 0, 0));
    for segment in ["databases", "users", "firewallRules"] {
        let of_kind = requests
            .iter()
            .filter(|(_, p)| p.contains(&format!("/{segment}")))
            .count();
        assert!(
            of_kind * 20 <= n,
            "{of_kind} requests for {n} {segment}: {requests:?}"
        );
    }
    // 300 children and their instance.
    assert!(requests.len() * 20 <= 3 * n + 1, "{requests:?}");

    // Out of band: one database and one firewall rule changed, one user deleted.
    let base = "/instances/scale-children";
    let patch = |path: String, body: Value| {
        let (status, v) = env.server.api("PATCH", &path, Some(body));
        assert_eq!(status, 200, "{path}: {v}");
    };
    patch(
        format!("{base}/databases/db042"),
        json!({"charset": "latin1"}),
    );
    patch(
        format!("{base}/firewallRules/rule007"),
        json!({"cidr": "0.0.0.0/0"}),
    );
    let (status, v) = env
        .server
        .api("DELETE", &format!("{base}/users/user099"), None);
    assert_eq!(status, 204, "{v}");

    let (_, requests, plan) = measured_plan(&env);
    let mut got = changed(&plan);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("clouddb_database.d[42]".to_string(), json!(["update"])),
            ("clouddb_firewall_rule.f[7]".to_string(), json!(["update"])),
            ("clouddb_user.u[99]".to_string(), json!(["create"])),
        ]
    );
    let user_gets = requests
        .iter()
        .filter(|(m, p)| m == "GET" && p.ends_with("/users/user099"))
        .count();
    assert_eq!(
        user_gets, 1,
        "one GET confirms the deleted user: {requests:?}"
    );
    assert!(requests.len() * 20 <= 3 * n + 1, "{requests:?}");

    env.finish();
}
