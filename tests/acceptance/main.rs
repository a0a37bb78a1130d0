//! Acceptance tests: the real `terraform` CLI, the freshly built provider and a private `clouddb-server`.
//!
//! See `tests/acceptance/README.md` for how to run them (TF_ACC_TERRAFORM_PATHS, CLOUDDB_SERVER_BIN).

mod harness;

use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use harness::{
    Env, PROJECT, PlanExpect, ServerOpts, Step, for_each_terraform, resource_change, unknown_attrs,
};
use serde_json::{Value, json};

fn instance_hcl(name: &str, extra: &str) -> String {
    format!(
        "resource \"clouddb_instance\" \"db\" {{\n  name       = \"{name}\"\n  tier       = \"db-small\"\n  storage_gb = 20\n{extra}\n}}\n"
    )
}

/// create → no-op plan → in-place update (tier) → replace (engine) → import → drift (changed, then
/// deleted out of band) → destroy.
#[test]
fn lifecycle() {
    for_each_terraform("lifecycle", |tf| {
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
fn validation_errors() {
    for_each_terraform("validation_errors", |tf| {
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
fn deletion_protection() {
    for_each_terraform("deletion_protection", |tf| {
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
fn faults_create_exactly_one_instance() {
    for_each_terraform("faults_create_exactly_one_instance", |tf| {
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
fn create_timeout_taints_then_replaces() {
    for_each_terraform("create_timeout_taints_then_replaces", |tf| {
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
fn create_timeout_resumes_after_untaint() {
    for_each_terraform("create_timeout_resumes_after_untaint", |tf| {
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
fn stop_provider_keeps_instance_in_state() {
    for_each_terraform("stop_provider_keeps_instance_in_state", |tf| {
        let env = Env::with_server(
            tf,
            ServerOpts {
                provision_time: 3600,
                ..Default::default()
            },
        );
        env.write_config(&instance_hcl("acc-stop", ""));
        // Own process group, like a shell job: Ctrl-C goes to the whole group (Terraform 1.0's panicwrap
        // parent ignores SIGINT itself and relies on the child getting it too).
        let child = env
            .command(&["apply", "-input=false", "-no-color", "-auto-approve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn terraform apply");
        let mut child = harness::GroupGuard(child);
        let started = Instant::now();
        while env.server.instance("acc-stop").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "create never reached the server"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
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

/// Advances the server's virtual clock in the background while alive.
struct ClockPump {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ClockPump {
    fn start(env: &Env) -> ClockPump {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let addr = env.server.addr.clone();
        let handle = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let body = r#"{"advance_seconds":1800}"#;
                let req = format!(
                    "POST /admin/clock HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    harness::ADMIN_TOKEN,
                    body.len()
                );
                if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                    use std::io::{Read, Write};
                    let _ = s.write_all(req.as_bytes());
                    let mut sink = Vec::new();
                    let _ = s.read_to_end(&mut sink);
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        ClockPump {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for ClockPump {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// examples/quickstart creates two instances and outputs their endpoints.
#[test]
fn quickstart_example() {
    for_each_terraform("quickstart_example", |tf| {
        let env = Env::new(tf);
        let hcl = include_str!("../../examples/quickstart/main.tf");
        std::fs::write(env.work.join("main.tf"), hcl).expect("write quickstart");
        env.tf_ok(&["init", "-input=false", "-no-color"]);
        env.apply_ok();
        let mut names = env.server.instance_names();
        names.sort();
        assert_eq!(
            names,
            vec![
                "quickstart-analytics".to_string(),
                "quickstart-app".to_string()
            ]
        );
        let out = env.tf_ok(&["output", "-json"]);
        let out: Value = serde_json::from_str(&out.stdout).expect("outputs JSON");
        for o in ["app_endpoint", "analytics_endpoint"] {
            let v = out[o]["value"].as_str().unwrap_or_default().to_string();
            let (host, port) = v.rsplit_once(':').unwrap_or_default();
            assert!(
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
                "{o} = {v:?}"
            );
        }
        env.finish();
    });
}

/// A state written by schema version 0 (flat backup_* attributes, "host:port" endpoint) is upgraded by
/// Terraform through UpgradeResourceState and then plans clean against a matching config.
#[test]
fn state_upgrade_from_v0() {
    for_each_terraform("state_upgrade_from_v0", |tf| {
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

/// Provider configuration errors name the attribute: a missing endpoint (no block value, no
/// CLOUDDB_ENDPOINT) and an invalid endpoint in the provider block.
#[test]
fn provider_config_errors() {
    for_each_terraform("provider_config_errors", |tf| {
        let env = Env::new(tf);
        env.write_config(&instance_hcl("acc-cfg", ""));
        let out = env
            .command(&["plan", "-input=false", "-no-color"])
            .env_remove("CLOUDDB_ENDPOINT")
            .output()
            .expect("run terraform plan");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.status.success(),
            "plan without an endpoint must fail:\n{text}"
        );
        assert!(
            text.contains("Missing CloudDB endpoint") && text.contains("CLOUDDB_ENDPOINT"),
            "{text}"
        );

        let hcl = "terraform {\n  required_providers {\n    clouddb = {\n      source = \"clouddb/clouddb\"\n    }\n  }\n}\n\nprovider \"clouddb\" {\n  endpoint    = \"ftp://127.0.0.1:1\"\n  max_retries = 99\n}\n";
        std::fs::write(
            env.work.join("main.tf"),
            format!("{hcl}\n{}", instance_hcl("acc-cfg", "")),
        )
        .expect("write");
        let r = env.tf(&["validate", "-no-color"]);
        assert_ne!(r.code, 0, "{}", r.combined());
        let flat = r
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains("endpoint must be an http:// or https:// URL"),
            "{}",
            r.combined()
        );
        assert!(flat.contains("max_retries"), "{}", r.combined());
        env.write_config(&instance_hcl("acc-cfg", ""));
        env.finish();
    });
}

/// Every example under examples/ passes `terraform validate` (the resource example gets a
/// required_providers block, as a user's root module would have).
#[test]
fn examples_validate() {
    for_each_terraform("examples_validate", |tf| {
        let env = Env::new(tf);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let versions = "terraform {\n  required_providers {\n    clouddb = {\n      source = \"clouddb/clouddb\"\n    }\n  }\n}\n";
        let cases: [(&str, &[&str], bool); 3] = [
            ("provider", &["provider.tf"], false),
            ("resources/clouddb_instance", &["resource.tf"], true),
            ("quickstart", &["main.tf"], false),
        ];
        for (dir, files, add_versions) in cases {
            let _ = std::fs::remove_dir_all(env.work.join(".terraform"));
            for entry in std::fs::read_dir(&env.work)
                .expect("read work dir")
                .flatten()
            {
                if entry.path().extension().is_some_and(|e| e == "tf") {
                    std::fs::remove_file(entry.path()).expect("clean");
                }
            }
            for f in files {
                std::fs::copy(root.join(dir).join(f), env.work.join(f)).expect("copy example");
            }
            if add_versions {
                std::fs::write(env.work.join("versions.tf"), versions).expect("versions.tf");
            }
            env.tf_ok(&["init", "-input=false", "-no-color", "-backend=false"]);
            env.tf_ok(&["validate", "-no-color"]);
        }
        // Nothing was applied: skip the destroy in finish().
        let _ = std::fs::remove_dir_all(env.work.join(".terraform"));
        assert!(env.server.instance_names().is_empty());
        env.finish();
    });
}

/// In a fresh directory with only a `required_providers` block: `terraform init`, then
/// `terraform providers schema -json` shows the provider configuration (token sensitive) and the
/// `clouddb_instance` schema (version 1), and `terraform validate` succeeds.
#[test]
fn providers_schema_json() {
    for_each_terraform("providers_schema_json", |tf| {
        let env = Env::new(tf);
        let versions = "terraform {\n  required_providers {\n    clouddb = {\n      source = \"clouddb/clouddb\"\n    }\n  }\n}\n";
        std::fs::write(env.work.join("versions.tf"), versions).expect("write versions.tf");
        env.tf_ok(&["init", "-input=false", "-no-color"]);
        let r = env.tf_ok(&["providers", "schema", "-json"]);
        let schema: Value = serde_json::from_str(&r.stdout).expect("providers schema JSON");
        let p = &schema["provider_schemas"]["registry.terraform.io/clouddb/clouddb"];
        assert!(
            p.is_object(),
            "{}: no clouddb schema in {schema}",
            env.tf_version
        );

        let attrs = &p["provider"]["block"]["attributes"];
        for (name, ty) in [
            ("endpoint", "string"),
            ("token", "string"),
            ("project", "string"),
            ("request_timeout", "string"),
            ("max_retries", "number"),
        ] {
            let a = &attrs[name];
            assert_eq!(a["type"], json!(ty), "provider.{name}: {a}");
            assert_eq!(a["optional"], json!(true), "provider.{name}: {a}");
            assert!(a.get("required").is_none(), "provider.{name}: {a}");
            assert_eq!(
                a["sensitive"].as_bool().unwrap_or(false),
                name == "token",
                "only token is sensitive (provider.{name}: {a})"
            );
            assert!(
                a["description"].as_str().is_some_and(|d| !d.is_empty()),
                "provider.{name} has a description: {a}"
            );
        }

        let inst = &p["resource_schemas"]["clouddb_instance"];
        assert_eq!(inst["version"], json!(1), "{inst}");
        let block = &inst["block"];
        let a = &block["attributes"];
        for name in ["name", "tier", "storage_gb"] {
            assert_eq!(a[name]["required"], json!(true), "{name}: {}", a[name]);
        }
        assert_eq!(a["name"]["type"], json!("string"));
        assert_eq!(a["storage_gb"]["type"], json!("number"));
        assert_eq!(a["id"]["computed"], json!(true));
        assert!(a["id"].get("optional").is_none());
        for name in [
            "engine",
            "engine_version",
            "high_availability",
            "deletion_protection",
        ] {
            assert_eq!(a[name]["optional"], json!(true), "{name}: {}", a[name]);
            assert_eq!(a[name]["computed"], json!(true), "{name}: {}", a[name]);
        }
        assert_eq!(a["admin_password"]["sensitive"], json!(true));
        assert_eq!(a["labels"]["type"], json!(["map", "string"]));
        assert_eq!(
            a["backup"]["nested_type"]["nesting_mode"],
            json!("single"),
            "{}",
            a["backup"]
        );
        let timeouts = &block["block_types"]["timeouts"];
        assert_eq!(timeouts["nesting_mode"], json!("single"), "{timeouts}");
        for t in ["create", "update", "delete"] {
            assert_eq!(
                timeouts["block"]["attributes"][t]["type"],
                json!("string"),
                "timeouts.{t}: {timeouts}"
            );
        }

        env.tf_ok(&["validate", "-no-color"]);
        assert!(env.server.instance_names().is_empty());
        env.finish();
    });
}

/// `examples/resources/clouddb_instance/resource.tf`, with `examples/provider/provider.tf` as its provider
/// block (pointed at the test's server and project), is applied as written: one create, an empty second
/// plan, the values it sets in state and its output. Deletion protection (on in the example) is then
/// turned off, and everything is destroyed — with the final backup the example names.
#[test]
fn resource_example_applies() {
    for_each_terraform("resource_example_applies", |tf| {
        let mut env = Env::new(tf);
        env.extra_env
            .insert("TF_VAR_admin_password".into(), "Example-passw0rd".into());
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let provider_tf = std::fs::read_to_string(root.join("provider/provider.tf"))
            .expect("read provider example");
        let resource_tf =
            std::fs::read_to_string(root.join("resources/clouddb_instance/resource.tf"))
                .expect("read resource example");
        assert!(
            provider_tf.contains("\"http://127.0.0.1:8080\"")
                && provider_tf.contains("\"my-project\""),
            "examples/provider/provider.tf changed; update this test"
        );
        let provider_tf = provider_tf
            .replace("http://127.0.0.1:8080", &env.server.endpoint)
            .replace("\"my-project\"", &format!("\"{PROJECT}\""));
        std::fs::write(env.work.join("provider.tf"), provider_tf).expect("write provider.tf");
        std::fs::write(env.work.join("resource.tf"), &resource_tf).expect("write resource.tf");
        env.tf_ok(&["init", "-input=false", "-no-color"]);

        let addr = "clouddb_instance.example";
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 0,
        });
        env.apply_ok(); // also asserts the second plan is empty
        for (attr, want) in [
            ("name", json!("orders-db")),
            ("engine", json!("postgres")),
            ("engine_version", json!("16")),
            ("tier", json!("db-standard-2")),
            ("storage_gb", json!(100)),
            ("high_availability", json!(true)),
            ("admin_username", json!("dbadmin")),
            ("deletion_protection", json!(true)),
            ("labels", json!({"team": "orders"})),
            ("backup.enabled", json!(true)),
            ("backup.start_time", json!("02:30")),
            ("backup.retention_days", json!(14)),
            ("skip_final_backup", json!(false)),
            ("final_backup_name", json!("orders-db-final")),
            ("timeouts.create", json!("45m")),
            ("state", json!("READY")),
        ] {
            assert_eq!(
                env.state_attr(addr, attr),
                want,
                "{addr}.{attr} ({})",
                env.tf_version
            );
        }
        let inst = env
            .server
            .instance("orders-db")
            .expect("created on the server");
        assert_eq!(inst["tier"], json!("db-standard-2"));
        assert_eq!(inst["high_availability"], json!(true));
        let out = env.tf_ok(&["output", "-json"]);
        let out: Value = serde_json::from_str(&out.stdout).expect("outputs JSON");
        let endpoint = out["orders_db_endpoint"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let (host, port) = endpoint.rsplit_once(':').unwrap_or_default();
        assert!(
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
            "orders_db_endpoint = {endpoint:?}"
        );

        // examples/resources/clouddb_instance/import.sh: forget the instance, import it by name as the
        // script does, and the plan is empty again.
        let script = std::fs::read_to_string(root.join("resources/clouddb_instance/import.sh"))
            .expect("read import example");
        let import: Vec<&str> = script
            .lines()
            .find_map(|l| l.trim().strip_prefix("terraform "))
            .expect("a terraform command in import.sh")
            .split_whitespace()
            .collect();
        assert_eq!(import.first(), Some(&"import"), "{script}");
        env.tf_ok(&["state", "rm", addr]);
        let mut args = vec!["import", "-input=false", "-no-color"];
        args.extend(&import[1..]);
        env.tf_ok(&args);
        // The API never returns the password, the destroy-only settings or the timeouts, so (as with
        // any provider) the first plan after an import sets exactly those in place; then it is empty.
        let plan = env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        let change = &resource_change(&plan, addr)["change"];
        let mut changed: Vec<String> = change["after"]
            .as_object()
            .map(|after| {
                after
                    .iter()
                    .filter(|(k, v)| change["before"][k.as_str()] != **v)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        changed.sort();
        assert_eq!(
            changed,
            vec!["admin_password", "final_backup_name", "timeouts"],
            "({}) {change}",
            env.tf_version
        );
        env.apply_ok();

        // The example protects the instance; destroying needs that switched off first.
        let unprotected =
            resource_tf.replace("deletion_protection = true", "deletion_protection = false");
        assert_ne!(
            unprotected, resource_tf,
            "the example sets deletion_protection = true"
        );
        std::fs::write(env.work.join("resource.tf"), unprotected).expect("write resource.tf");
        env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        env.apply_ok();
        // Destroy takes the final backup the example names.
        env.tf_ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        assert!(env.server.instance("orders-db").is_none());
        let (status, backups) = env.server.api("GET", "/backups", None);
        assert_eq!(status, 200, "{backups}");
        assert!(
            backups.to_string().contains("orders-db-final"),
            "no final backup named orders-db-final: {backups}"
        );
        env.finish();
    });
}
