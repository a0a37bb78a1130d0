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

/// The POST/PATCH/... entries of the server's request log whose path ends with `suffix`.
fn requests_to(env: &Env, method: &str, suffix: &str) -> Vec<Value> {
    env.server
        .requests()
        .into_iter()
        .filter(|e| {
            e["method"] == method && e["path"].as_str().is_some_and(|p| p.ends_with(suffix))
        })
        .collect()
}

/// The names in a list answer (`{"<key>": [{"name": …}, …]}`) of `GET path`.
fn names_at(env: &Env, path: &str, key: &str) -> Vec<String> {
    let (status, v) = env.server.api("GET", path, None);
    assert_eq!(status, 200, "GET {path}: {v}");
    v[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect()
}

/// A source instance (postgres) gets a database through the API and an on-demand backup; a second
/// instance restored from that backup plans the backup's engine and version (not the mysql
/// default), is created with the database, plans empty afterwards and imports with
/// `restore_from_backup` from the API. Pinning another engine is a plan error naming `engine` and
/// the backup. Destroy, then deleting the backup, leaves the server empty.
#[test]
fn instance_restore_from_backup() {
    for_each_terraform_smoke("instance_restore_from_backup", |tf| {
        let env = Env::new(tf);
        let source = "resource \"clouddb_instance\" \"src\" {\n  name              = \"acc-rst-src\"\n  engine            = \"postgres\"\n  storage_gb        = 20\n  skip_final_backup = true\n}\n";
        env.step(&Step {
            config: source.into(),
            ..Default::default()
        });
        let (status, v) = env.server.api(
            "POST",
            "/instances/acc-rst-src/databases",
            Some(json!({"name": "appdb"})),
        );
        assert!(
            (200..300).contains(&status),
            "create database: {status} {v}"
        );
        let (status, v) = env.server.api(
            "POST",
            "/instances/acc-rst-src/backups",
            Some(json!({"name": "acc-rst-snap", "description": "acceptance restore"})),
        );
        assert_eq!(status, 201, "create backup: {v}");

        let restored = |extra: &str| {
            format!(
                "{source}\nresource \"clouddb_instance\" \"restored\" {{\n  name                = \"acc-rst-dst\"\n  restore_from_backup = \"acc-rst-snap\"\n  storage_gb          = 20\n  skip_final_backup   = true\n{extra}}}\n"
            )
        };
        let addr = "clouddb_instance.restored";
        env.write_config(&restored(""));
        let plan = env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 0,
        });
        // Known at plan time, from the backup: no "(known after apply)" for them.
        let after = &resource_change(&plan, addr)["change"]["after"];
        assert_eq!(after["engine"], json!("postgres"), "{after}");
        assert_eq!(after["engine_version"], json!("16"), "{after}");
        env.apply_ok(); // and the second plan is empty
        for (attr, want) in [
            ("engine", json!("postgres")),
            ("engine_version", json!("16")),
            ("restore_from_backup", json!("acc-rst-snap")),
            ("state", json!("READY")),
        ] {
            assert_eq!(env.state_attr(addr, attr), want, "{attr}");
        }
        let inst = env.server.instance("acc-rst-dst").expect("restored");
        assert_eq!(inst["restored_from_backup"], json!("acc-rst-snap"));
        assert_eq!(
            names_at(&env, "/instances/acc-rst-dst/databases", "databases"),
            vec!["appdb".to_string()]
        );
        // The create named the backup and left engine and version to it.
        let posts = requests_to(&env, "POST", "/instances");
        let fields = &posts.last().expect("a create")["body_fields"];
        let fields: Vec<&str> = fields
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(fields.contains(&"restore_from_backup"), "{fields:?}");
        assert!(
            !fields.contains(&"engine") && !fields.contains(&"engine_version"),
            "{fields:?}"
        );

        // Import takes restore_from_backup from the API: the same config plans no replace, only
        // the Terraform-only skip_final_backup in place (as after any import, see import.sh).
        env.tf_ok(&["state", "rm", addr]);
        env.tf_ok(&["import", "-input=false", "-no-color", addr, "acc-rst-dst"]);
        assert_eq!(
            env.state_attr(addr, "restore_from_backup"),
            json!("acc-rst-snap")
        );
        let plan = env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        let change = &resource_change(&plan, addr)["change"];
        let differ: Vec<&String> = change["after"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| change["before"][k.as_str()] != **v)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(differ, vec!["skip_final_backup"], "{change}");
        env.apply_ok();

        // Another engine than the backup's: the replace it asks for fails at plan time.
        env.write_config(&restored("  engine              = \"mysql\"\n"));
        // The error is on the engine line of the restored instance, and names the backup.
        env.apply_err(
            r#"engine does not match the backup[\s\S]*with clouddb_instance\.restored[\s\S]*engine += "mysql"[\s\S]*"acc-rst-snap""#,
        );
        assert_eq!(
            env.server.instance("acc-rst-dst").expect("kept")["engine"],
            json!("postgres")
        );
        env.write_config(&restored(""));
        env.assert_plan(PlanExpect::Empty);

        env.tf_ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        let (status, v) = env.server.api("DELETE", "/backups/acc-rst-snap", None);
        assert!((200..300).contains(&status), "delete backup: {status} {v}");
        assert_eq!(names_at(&env, "/backups", "backups"), Vec::<String>::new());
        env.finish();
    });
}

const WO_PASSWORD: &str = "Wo-7d1e93b2-c4a6-never-stored";

/// Every file under `dir` (recursively, `.terraform` left out: plugins and modules, which
/// Terraform does not write values to) whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == ".terraform") {
            continue;
        }
        if p.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if std::fs::read(&p)
            .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            hits.push(p.display().to_string());
        }
    }
    hits
}

/// `admin_password_wo` (from an ephemeral variable: a literal would be part of the configuration,
/// which Terraform itself keeps in saved plans and shows as `constant_value` in `show -json`) is
/// sent on create and never written anywhere:
/// not in state, not in a saved plan (file or `show -json`), not in the TF_LOG=trace log or the
/// output. Bumping `admin_password_wo_version` is exactly one in-place update, one PATCH carrying
/// only the password. Setting `admin_password` too is an error naming both. A CLI without
/// write-only support (before 1.11) gets a clear error instead of a password in its state.
#[test]
fn instance_write_only_password() {
    for_each_terraform_smoke("instance_write_only_password", |tf| {
        let mut env = Env::new(tf);
        if env.tf_older_than(1, 11) {
            env.write_config(&instance_hcl(
                "acc-wo",
                &format!("  admin_password_wo = \"{WO_PASSWORD}\"\n"),
            ));
            env.apply_err(
                r"Write-only attribute not supported[\s\S]*admin_password_wo[\s\S]*1\.11",
            );
            assert!(env.server.instance_names().is_empty());
            let hits = files_containing(&env.work, WO_PASSWORD);
            assert!(
                hits.iter().all(|h| h.ends_with("main.tf")),
                "the password is in {hits:?}"
            );
            // A configuration the old CLI accepts, so that finish() can destroy (nothing).
            env.write_config(&instance_hcl("acc-wo", ""));
            env.finish();
            return;
        }
        env.extra_env.insert("TF_LOG".into(), "trace".into());
        env.extra_env
            .insert("TF_VAR_admin_pw".into(), WO_PASSWORD.into());
        let hcl = |version: u32, extra: &str| {
            format!(
                "variable \"admin_pw\" {{\n  type      = string\n  ephemeral = true\n}}\n\n{}",
                instance_hcl(
                    "acc-wo",
                    &format!(
                        "  admin_password_wo         = var.admin_pw\n  admin_password_wo_version = {version}\n{extra}"
                    ),
                )
            )
        };
        let mut outputs = String::new();
        let addr = "clouddb_instance.db";
        env.write_config(&hcl(1, ""));
        outputs.push_str(&env.apply_ok().combined());
        assert_eq!(env.state_attr(addr, "admin_password_wo"), Value::Null);
        assert_eq!(env.state_attr(addr, "admin_password_wo_version"), json!(1));
        let create = requests_to(&env, "POST", "/instances");
        assert!(
            create[0]["body_fields"]
                .as_array()
                .is_some_and(|f| f.contains(&json!("admin_password"))),
            "the create carries the password: {create:?}"
        );

        // A new version: one in-place update, one PATCH, with the password and nothing else.
        env.write_config(&hcl(2, ""));
        let patches_before = requests_to(&env, "PATCH", "/instances/acc-wo").len();
        let plan = env.tf_ok(&["plan", "-input=false", "-no-color", "-out=plan.out"]);
        outputs.push_str(&plan.combined());
        let shown = env.tf_ok(&["show", "-json", "plan.out"]);
        let json: Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
        assert_eq!(
            crate::harness::count_actions(&json),
            (0, 1, 0),
            "{}",
            plan.stdout
        );
        outputs.push_str(&shown.stdout);
        outputs.push_str(&env.apply_ok().combined());
        let patches = requests_to(&env, "PATCH", "/instances/acc-wo");
        assert_eq!(patches.len() - patches_before, 1, "{patches:?}");
        assert_eq!(
            patches[patches_before]["body_fields"],
            json!(["admin_password"])
        );
        assert_eq!(env.state_attr(addr, "admin_password_wo_version"), json!(2));

        // Both forms of the password: a validation error naming both.
        env.write_config(&hcl(
            2,
            "  admin_password            = \"Other-passw0rd\"\n",
        ));
        outputs.push_str(
            &env.apply_err(r"admin_password and admin_password_wo cannot both be set")
                .combined(),
        );
        env.write_config(&hcl(2, ""));

        let log_path = env.dir.path().join("terraform.log");
        let log = std::fs::read_to_string(&log_path).expect("TF_LOG_PATH log");
        assert!(log.contains("provider.terraform-provider-clouddb"));
        assert!(
            !log.contains(WO_PASSWORD),
            "the password is in the trace log {}",
            log_path.display()
        );
        assert!(
            !outputs.contains(WO_PASSWORD),
            "the password is in the output or show -json"
        );
        let hits = files_containing(&env.work, WO_PASSWORD);
        assert!(hits.is_empty(), "the password is in {hits:?}");
        env.finish();
    });
}
