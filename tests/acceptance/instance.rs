//! `clouddb_instance`: lifecycle, plan-time validation, deletion protection, API faults, timeouts,
//! interrupts and state upgrades, through the real Terraform CLI.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{
    ClockPump, Env, PROJECT, PlanExpect, ServerOpts, Step, for_each_terraform,
    for_each_terraform_smoke, resource_change, unknown_attrs,
};

/// A `clouddb_instance.db` with name, tier and storage plus `extra` attribute lines.
pub(crate) fn instance_hcl(name: &str, extra: &str) -> String {
    format!(
        "resource \"clouddb_instance\" \"db\" {{\n  name       = \"{name}\"\n  tier       = \"db-small\"\n  storage_gb = 20\n{extra}\n}}\n"
    )
}

/// create → no-op plan → in-place update (tier) → replace (engine) → import → drift (changed, then
/// deleted out of band) → destroy.
#[test]
fn instance_lifecycle() {
    for_each_terraform_smoke("instance_lifecycle", |tf| {
        let env = Env::new(tf);
        let addr = "clouddb_instance.db";
        let labels = "  labels = {\n    team = \"acc\"\n  }\n  backup = {\n    start_time = \"03:30\"\n  }\n";

        // Create; the harness asserts the follow-up plan is empty.
        env.step(&Step {
            config: instance_hcl("acc-life", labels),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 0,
            }),
            checks: vec![
                (addr.into(), "id".into(), json!("acc-life")),
                (addr.into(), "engine".into(), json!("mysql")),
                (addr.into(), "engine_version".into(), json!("8.0")),
                (addr.into(), "admin_username".into(), json!("dbadmin")),
                (addr.into(), "state".into(), json!("READY")),
                (addr.into(), "backup.start_time".into(), json!("03:30")),
                (addr.into(), "backup.retention_days".into(), json!(7)),
                (addr.into(), "labels.team".into(), json!("acc")),
            ],
            ..Default::default()
        });
        let actual = env.state_attr(addr, "engine_version_actual");
        assert!(
            actual.as_str().is_some_and(|v| v.starts_with("8.0.")),
            "{actual}"
        );
        assert!(
            env.state_attr(addr, "endpoint_port")
                .as_i64()
                .is_some_and(|p| p > 0)
        );

        // In-place tier change: exactly one update, and no unrelated "(known after apply)".
        env.write_config(&instance_hcl("acc-life", labels).replace("db-small", "db-standard-2"));
        let plan = env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        let rc = resource_change(&plan, addr);
        assert_eq!(rc["change"]["actions"], json!(["update"]));
        let unknown = unknown_attrs(rc);
        assert!(
            unknown.is_empty(),
            "tier change marks unrelated attributes unknown: {unknown:?}"
        );
        env.apply_ok();
        assert_eq!(
            env.server.instance("acc-life").expect("exists")["tier"],
            json!("db-standard-2")
        );

        // Replace: engine change.
        let pg = format!("{labels}  engine = \"postgres\"\n");
        env.step(&Step {
            config: instance_hcl("acc-life", &pg).replace("db-small", "db-standard-2"),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 1,
            }),
            checks: vec![
                (addr.into(), "engine".into(), json!("postgres")),
                (addr.into(), "engine_version".into(), json!("16")),
            ],
            ..Default::default()
        });

        // Import: forget it, import by name, plan must be empty.
        env.tf_ok(&["state", "rm", addr]);
        env.tf_ok(&["import", "-input=false", "-no-color", addr, "acc-life"]);
        env.assert_plan(PlanExpect::Empty);

        // Drift: tier changed out of band → plan shows one update, apply fixes it.
        env.server.admin(
            "PATCH",
            &format!("/admin/drift/projects/{PROJECT}/instances/acc-life"),
            Some(json!({"tier": "db-micro", "labels": {"team": "acc", "rogue": "x"}})),
        );
        env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        env.apply_ok();
        let inst = env.server.instance("acc-life").expect("exists");
        assert_eq!(inst["tier"], json!("db-standard-2"));
        assert_eq!(inst["labels"], json!({"team": "acc"}));

        // Deleted out of band → plan shows a create.
        env.server.admin(
            "DELETE",
            &format!("/admin/drift/projects/{PROJECT}/instances/acc-life"),
            None,
        );
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 0,
        });
        env.apply_ok();
        env.finish();
    });
}

/// Plan-time validation: bad name, storage decrease (naming storage_gb), major upgrade without opt-in,
/// downgrade; minor upgrade in place works.
#[test]
fn instance_validation_errors() {
    for_each_terraform("instance_validation_errors", |tf| {
        let env = Env::new(tf);
        env.step(&Step {
            config: instance_hcl("Bad_Name", ""),
            expect_error: Some("Invalid instance name".into()),
            ..Default::default()
        });
        env.step(&Step {
            config: instance_hcl("acc-valid", "  engine_version = \"8.0\"\n"),
            ..Default::default()
        });
        env.step(&Step {
            config: instance_hcl("acc-valid", "  engine_version = \"8.0\"\n")
                .replace("storage_gb = 20", "storage_gb = 10"),
            expect_error: Some(r"storage_gb cannot be decreased[\s\S]*20 GB".into()),
            ..Default::default()
        });
        // Minor upgrade in place.
        env.step(&Step {
            config: instance_hcl("acc-valid", "  engine_version = \"8.4\"\n"),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            checks: vec![(
                "clouddb_instance.db".into(),
                "engine_version".into(),
                json!("8.4"),
            )],
            ..Default::default()
        });
        env.step(&Step {
            config: instance_hcl("acc-valid", "  engine_version = \"8.0\"\n"),
            expect_error: Some("engine_version cannot be downgraded".into()),
            ..Default::default()
        });
        // Back to the applied config so destroy sees a consistent state.
        env.write_config(&instance_hcl("acc-valid", "  engine_version = \"8.4\"\n"));
        env.finish();

        let env = Env::new(tf);
        env.step(&Step {
            config: instance_hcl("acc-major", "  engine_version = \"5.7\"\n"),
            ..Default::default()
        });
        env.step(&Step {
            config: instance_hcl("acc-major", "  engine_version = \"8.0\"\n"),
            expect_error: Some("allow_major_version_upgrade".into()),
            ..Default::default()
        });
        env.step(&Step {
            config: instance_hcl(
                "acc-major",
                "  engine_version = \"8.0\"\n  allow_major_version_upgrade = true\n",
            ),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            checks: vec![(
                "clouddb_instance.db".into(),
                "engine_version".into(),
                json!("8.0"),
            )],
            ..Default::default()
        });
        env.finish();
    });
}

/// Deletion protection is enforced by the API and reported clearly; turning it off allows destroy.
#[test]
fn instance_deletion_protection() {
    for_each_terraform("instance_deletion_protection", |tf| {
        let env = Env::new(tf);
        env.step(&Step {
            config: instance_hcl("acc-protected", "  deletion_protection = true\n"),
            ..Default::default()
        });
        let r = env.tf(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        assert_ne!(
            r.code,
            0,
            "destroy of a protected instance must fail:\n{}",
            r.combined()
        );
        assert!(
            r.combined().contains("deletion protection is enabled"),
            "{}",
            r.combined()
        );
        assert!(env.server.instance("acc-protected").is_some());
        env.step(&Step {
            config: instance_hcl("acc-protected", "  deletion_protection = false\n"),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            ..Default::default()
        });
        env.finish();
    });
}

/// Count POST /instances requests in the server log and the distinct idempotency keys they used.
fn create_posts(env: &Env) -> (usize, Vec<String>) {
    let posts: Vec<Value> = env
        .server
        .requests()
        .into_iter()
        .filter(|e| {
            e["method"] == "POST"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/instances"))
        })
        .collect();
    let mut keys: Vec<String> = posts
        .iter()
        .filter_map(|e| e["idempotency_key"].as_str().map(str::to_string))
        .collect();
    keys.sort();
    keys.dedup();
    (posts.len(), keys)
}

/// Injected 429s, 5xx, a dropped (committed, then 502) response and a not-found window after create end
/// with exactly one instance, created by retries that all carry the same idempotency key.
#[test]
fn instance_faults_create_exactly_one_instance() {
    for_each_terraform("instance_faults_create_exactly_one_instance", |tf| {
        let env = Env::new(tf);
        let post = |kind: &str, extra: Value| {
            let mut spec = json!({"kind": kind, "method": "POST", "path_prefix": format!("/v1/projects/{PROJECT}/instances")});
            if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
                s.extend(e.clone());
            }
            env.server.fault(spec);
        };
        post("fail", json!({"status": 429, "count": 2, "retry_after": 0}));
        post("fail", json!({"status": 503, "count": 1, "retry_after": 0}));
        post("drop_response", json!({"count": 1}));
        // Eventual consistency: the new instance reads as 404 for 2 s after it is created.
        env.server
            .fault(json!({"kind": "not_found_after_create", "seconds": 2}));
        env.server.fault(json!({"kind": "random", "method": "GET", "rate": 0.2, "statuses": [500, 502, 503], "retry_after": 0}));
        env.step(&Step {
            config: instance_hcl("acc-faults", ""),
            ..Default::default()
        });
        env.server.clear_faults();
        assert_eq!(env.server.instance_names(), vec!["acc-faults".to_string()]);
        let not_found_reads = env
            .server
            .requests()
            .iter()
            .filter(|e| e["method"] == "GET" && e["status"] == 404)
            .filter(|e| {
                e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/instances/acc-faults"))
            })
            .count();
        assert!(not_found_reads > 0, "the not-found window was never hit");
        let (n, keys) = create_posts(&env);
        assert!(
            n >= 5,
            "expected the 429/503/drop retries to show up as {n} POSTs"
        );
        assert_eq!(
            keys.len(),
            1,
            "one idempotency key across all retries: {keys:?}"
        );

        // An update whose response is dropped after commit, plus a 429: the retried PATCH (same key, same
        // If-Match) is answered from the idempotency record, and the update lands once.
        let patch_path = format!("/v1/projects/{PROJECT}/instances/acc-faults");
        env.server.fault(json!({"kind": "fail", "method": "PATCH", "path_prefix": patch_path, "status": 429, "count": 1, "retry_after": 0}));
        env.server.fault(json!({"kind": "drop_response", "method": "PATCH", "path_prefix": patch_path, "count": 1}));
        env.step(&Step {
            config: instance_hcl("acc-faults", "").replace("db-small", "db-standard-4"),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            ..Default::default()
        });
        env.server.clear_faults();
        assert_eq!(
            env.server.instance("acc-faults").expect("exists")["tier"],
            json!("db-standard-4")
        );
        let mut patch_keys: Vec<String> = env
            .server
            .requests()
            .iter()
            .filter(|e| e["method"] == "PATCH")
            .filter_map(|e| e["idempotency_key"].as_str().map(str::to_string))
            .collect();
        assert!(
            patch_keys.len() >= 3,
            "429 + dropped + replayed PATCH expected: {patch_keys:?}"
        );
        patch_keys.dedup();
        assert_eq!(
            patch_keys.len(),
            1,
            "one idempotency key across PATCH retries"
        );
        env.finish();
    });
}

/// A create that outlives `timeouts.create` leaves the instance in state, tainted (never untracked);
/// the next apply replaces it.
#[test]
fn instance_create_timeout_taints_then_replaces() {
    for_each_terraform("instance_create_timeout_taints_then_replaces", |tf| {
        let env = Env::with_server(
            tf,
            ServerOpts {
                provision_time: 3600,
                ..Default::default()
            },
        );
        let cfg = instance_hcl("acc-slow", "  timeouts {\n    create = \"2s\"\n  }\n");
        env.write_config(&cfg);
        env.apply_err("timed out");
        assert_tainted(&env, "acc-slow");
        assert!(env.server.instance("acc-slow").is_some());
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 1,
        });
        // Let virtual time run while the replacement waits (delete resumes the pending create first); a
        // generous create timeout keeps this step robust on a loaded machine.
        env.write_config(&instance_hcl(
            "acc-slow",
            "  timeouts {\n    create = \"5m\"\n  }\n",
        ));
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 1,
        });
        let _clock = ClockPump::start(&env);
        let r = env.tf(&[
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-refresh=true",
        ]);
        drop(_clock);
        assert_eq!(r.code, 0, "{}", r.combined());
        env.assert_plan(PlanExpect::Empty);
        assert_eq!(
            env.server.instance("acc-slow").expect("exists")["state"],
            json!("READY")
        );
        env.finish();
    });
}

/// After a create timeout, `terraform untaint` + the operation finishing server-side means the next plan
/// resumes (refresh clears the pending operation) and is empty.
#[test]
fn instance_create_timeout_resumes_after_untaint() {
    for_each_terraform("instance_create_timeout_resumes_after_untaint", |tf| {
        let env = Env::with_server(
            tf,
            ServerOpts {
                provision_time: 3600,
                ..Default::default()
            },
        );
        let cfg = instance_hcl("acc-resume", "  timeouts {\n    create = \"2s\"\n  }\n");
        env.write_config(&cfg);
        env.apply_err("timed out");
        assert_tainted(&env, "acc-resume");
        env.tf_ok(&["untaint", "clouddb_instance.db"]);
        env.server.admin(
            "POST",
            "/admin/clock",
            Some(json!({"advance_seconds": 3700})),
        );
        env.assert_plan(PlanExpect::Empty);
        env.tf_ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
        assert_eq!(
            env.state_attr("clouddb_instance.db", "state"),
            json!("READY")
        );
        env.finish();
    });
}

/// Ctrl-C (SIGINT → StopProvider) during a long create: Terraform exits promptly and the state holds the
/// instance, so nothing is orphaned.
#[test]
fn instance_stop_provider_keeps_instance_in_state() {
    for_each_terraform("instance_stop_provider_keeps_instance_in_state", |tf| {
        let env = Env::with_server(
            tf,
            ServerOpts {
                provision_time: 3600,
                ..Default::default()
            },
        );
        env.write_config(&instance_hcl("acc-stop", ""));
        let mut child = env.spawn_apply_until_created("acc-stop");
        child.signal("-INT");
        let stopped_at = Instant::now();
        let exit = loop {
            if let Some(s) = child.0.try_wait().expect("wait") {
                break s;
            }
            assert!(
                stopped_at.elapsed() < Duration::from_secs(30),
                "terraform did not stop after SIGINT"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        eprintln!(
            "terraform stopped {:.1?} after SIGINT",
            stopped_at.elapsed()
        );
        assert!(!exit.success(), "interrupted apply should fail");
        let st = env.state();
        assert!(
            st.contains_key("clouddb_instance.db"),
            "instance missing from state after interrupt: {st:?}"
        );
        env.server.admin(
            "POST",
            "/admin/clock",
            Some(json!({"advance_seconds": 3700})),
        );
        env.finish();
    });
}

fn assert_tainted(env: &Env, name: &str) {
    let raw = env.raw_state();
    let inst = raw["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["type"] == "clouddb_instance"))
        .map(|r| r["instances"][0].clone())
        .unwrap_or(Value::Null);
    assert_eq!(
        inst["status"],
        json!("tainted"),
        "expected a tainted instance in state: {raw}"
    );
    assert_eq!(inst["attributes"]["name"], json!(name));
}

/// A state written by schema version 0 (flat backup_* attributes, "host:port" endpoint) is upgraded by
/// Terraform through UpgradeResourceState and then plans clean against a matching config.
#[test]
fn instance_state_upgrade_from_v0() {
    for_each_terraform("instance_state_upgrade_from_v0", |tf| {
        let env = Env::new(tf);
        env.write_config(&instance_hcl(
            "acc-v0",
            "  backup = {\n    retention_days = 14\n  }\n",
        ));
        let (status, _) = env.server.api(
            "POST",
            "/instances",
            Some(json!({"name": "acc-v0", "engine": "mysql", "tier": "db-small", "storage_gb": 20,
                        "high_availability": false, "admin_username": "dbadmin", "labels": {},
                        "deletion_protection": false, "backup": {"enabled": true, "retention_days": 14}})),
        );
        assert_eq!(status, 202);
        let t = Instant::now();
        let inst = loop {
            if let Some(i) = env
                .server
                .instance("acc-v0")
                .filter(|i| i["state"] == "READY")
            {
                break i;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "instance never became READY"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let v0 = json!({
            "id": "acc-v0", "name": "acc-v0", "engine": "mysql", "engine_version": inst["engine_version"],
            "tier": "db-small", "storage_gb": 20, "high_availability": false, "admin_username": "dbadmin",
            "admin_password": null, "labels": null, "deletion_protection": false,
            "backup_enabled": true, "backup_start_time": inst["backup"]["start_time"], "backup_retention_days": 14,
            "endpoint": format!("{}:{}", inst["endpoint"]["host"].as_str().unwrap_or_default(), inst["endpoint"]["port"]),
            "state": "READY", "created_at": inst["created_at"], "timeouts": null
        });
        let state = json!({
            "version": 4, "terraform_version": "1.0.3", "serial": 1,
            "lineage": "6f1c1d2e-0000-4000-8000-000000000001", "outputs": {},
            "resources": [{
                "mode": "managed", "type": "clouddb_instance", "name": "db",
                "provider": "provider[\"registry.terraform.io/clouddb/clouddb\"]",
                "instances": [{"schema_version": 0, "attributes": v0, "sensitive_attributes": []}]
            }]
        });
        std::fs::write(env.work.join("terraform.tfstate"), state.to_string())
            .expect("write v0 state");
        env.assert_plan(PlanExpect::Empty);
        env.tf_ok(&[
            "apply",
            "-refresh-only",
            "-input=false",
            "-no-color",
            "-auto-approve",
        ]);
        let raw = env.raw_state();
        let inst0 = &raw["resources"][0]["instances"][0];
        assert_eq!(inst0["schema_version"], json!(1), "{raw}");
        assert_eq!(inst0["attributes"]["backup"]["retention_days"], json!(14));
        assert!(
            inst0["attributes"]["endpoint_port"]
                .as_i64()
                .is_some_and(|p| p > 0)
        );
        assert!(inst0["attributes"].get("backup_retention_days").is_none());
        env.finish();
    });
}
