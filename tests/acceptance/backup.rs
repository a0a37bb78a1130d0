//! `clouddb_backup`: lifecycle (create, replace, import, timeouts in place, drift, names), waiting out
//! a busy instance, an ambiguous create adopted by its creation_token, and a backup outliving its
//! instance, through the real Terraform CLI.

use serde_json::{Value, json};

use crate::data_sources::backup_names;
use crate::database::with_instance;
use crate::harness::{Env, PROJECT, PlanExpect, Step, for_each_terraform_smoke};

const ADDR: &str = "clouddb_backup.b";

/// A `clouddb_backup.b` of `clouddb_instance.db` with `extra` attribute lines.
fn backup_hcl(extra: &str) -> String {
    format!(
        "resource \"clouddb_backup\" \"b\" {{\n  instance = clouddb_instance.db.name\n{extra}}}\n"
    )
}

/// The backup the server holds under `name` (None on 404).
fn server_backup(env: &Env, name: &str) -> Option<Value> {
    let (status, v) = env.server.api("GET", &format!("/backups/{name}"), None);
    (status == 200).then_some(v)
}

fn backup_name(env: &Env) -> String {
    env.state_attr(ADDR, "id")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// create (generated name) → empty plan → replace (description) → import by name → timeouts in
/// place → deleted out of band (re-created) → a configured name (replace), then unset again
/// (kept) → destroy, nothing left on the server.
#[test]
fn backup_lifecycle() {
    for_each_terraform_smoke("backup_lifecycle", |tf| {
        let env = Env::new(tf);
        let inst = "acc-bk";
        let first = with_instance(inst, &backup_hcl("  description = \"first\"\n"));
        env.step(&Step {
            config: first.clone(),
            plan: Some(PlanExpect::Changes {
                add: 2,
                change: 0,
                destroy: 0,
            }),
            checks: vec![
                (ADDR.into(), "instance".into(), json!(inst)),
                (ADDR.into(), "description".into(), json!("first")),
                (ADDR.into(), "type".into(), json!("ON_DEMAND")),
                (ADDR.into(), "state".into(), json!("READY")),
                (ADDR.into(), "engine".into(), json!("mysql")),
                (ADDR.into(), "engine_version".into(), json!("8.0")),
            ],
            ..Default::default()
        });
        let name1 = backup_name(&env);
        assert!(name1.starts_with("acc-bk-"), "generated name {name1:?}");
        assert_eq!(env.state_attr(ADDR, "name"), json!(name1));
        let api = server_backup(&env, &name1).expect("on the server");
        assert_eq!(env.state_attr(ADDR, "size_bytes"), api["size_bytes"]);
        assert_eq!(env.state_attr(ADDR, "created_at"), api["created_at"]);
        assert!(api["size_bytes"].as_i64().is_some_and(|n| n > 0), "{api}");

        // A new description is a new backup: replace, with a fresh generated name.
        let second = with_instance(inst, &backup_hcl("  description = \"second\"\n"));
        env.step(&Step {
            config: second.clone(),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 1,
            }),
            checks: vec![(ADDR.into(), "description".into(), json!("second"))],
            ..Default::default()
        });
        let name2 = backup_name(&env);
        assert_ne!(name2, name1);
        assert!(
            server_backup(&env, &name1).is_none(),
            "the replaced backup is deleted"
        );
        assert_eq!(backup_names(&env.server), vec![name2.clone()]);

        // Import by NAME: the plan after it is empty.
        env.tf_ok(&["state", "rm", ADDR]);
        env.tf_ok(&["import", "-input=false", "-no-color", ADDR, &name2]);
        env.assert_plan(PlanExpect::Empty);
        assert_eq!(env.state_attr(ADDR, "description"), json!("second"));

        // timeouts are the one in-place change, and they take no new backup.
        let with_timeouts = with_instance(
            inst,
            &backup_hcl("  description = \"second\"\n  timeouts {\n    create = \"5m\"\n  }\n"),
        );
        env.step(&Step {
            config: with_timeouts.clone(),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            checks: vec![(ADDR.into(), "id".into(), json!(name2))],
            ..Default::default()
        });

        // Deleted out of band: refresh drops it, the plan takes a new one.
        let (status, v) = env.server.api("DELETE", &format!("/backups/{name2}"), None);
        assert_eq!(status, 204, "{v}");
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 0,
        });
        env.apply_ok();
        let name3 = backup_name(&env);
        assert_ne!(name3, name2);
        assert_eq!(backup_names(&env.server), vec![name3.clone()]);

        // A configured name replaces the backup; unsetting it again keeps that one (the name is
        // then the backup's own, kept from state).
        env.step(&Step {
            config: with_instance(
                inst,
                &backup_hcl("  name        = \"acc-bk-named\"\n  description = \"second\"\n"),
            ),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 1,
            }),
            checks: vec![
                (ADDR.into(), "id".into(), json!("acc-bk-named")),
                (ADDR.into(), "name".into(), json!("acc-bk-named")),
            ],
            ..Default::default()
        });
        env.write_config(&second);
        env.assert_plan(PlanExpect::Empty);
        assert_eq!(backup_names(&env.server), vec!["acc-bk-named".to_string()]);
        env.finish();
    });
}

/// While the instance is busy (maintenance), the create waits and retries within its timeout with
/// one Idempotency-Key, and succeeds once the instance is free; past the timeout it fails with the
/// API's reason and takes nothing.
#[test]
fn backup_waits_for_a_busy_instance() {
    for_each_terraform_smoke("backup_waits_for_a_busy_instance", |tf| {
        let env = Env::new(tf);
        let inst = "acc-bk-busy";
        env.step(&Step {
            config: with_instance(inst, ""),
            ..Default::default()
        });
        let drift = format!("/admin/drift/projects/{PROJECT}/instances/{inst}");
        let set_state = |state: &str| {
            env.server
                .admin("PATCH", &drift, Some(json!({ "state": state })));
        };
        let posts = |env: &Env| -> Vec<Value> {
            env.server
                .requests()
                .into_iter()
                .filter(|r| {
                    r["method"] == "POST"
                        && r["path"]
                            .as_str()
                            .is_some_and(|p| p.ends_with(&format!("/instances/{inst}/backups")))
                })
                .collect()
        };

        set_state("MAINTENANCE");
        let freed = std::thread::scope(|s| {
            let t = s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_secs(4));
                set_state("READY");
            });
            env.step(&Step {
                config: with_instance(
                    inst,
                    &backup_hcl("  timeouts {\n    create = \"2m\"\n  }\n"),
                ),
                ..Default::default()
            });
            t.join().is_ok()
        });
        assert!(freed);
        let sent = posts(&env);
        let busy = sent.iter().filter(|r| r["status"] == 409).count();
        assert!(busy >= 2, "the create met the busy instance ({busy} 409s)");
        let keys: std::collections::BTreeSet<&str> = sent
            .iter()
            .filter_map(|r| r["idempotency_key"].as_str())
            .collect();
        assert_eq!(keys.len(), 1, "one key for every attempt: {keys:?}");
        assert_eq!(backup_names(&env.server).len(), 1);

        // Busy for longer than the timeout: the API's reason, and nothing taken.
        set_state("MAINTENANCE");
        let both = format!(
            "{}resource \"clouddb_backup\" \"late\" {{\n  instance = clouddb_instance.db.name\n  timeouts {{\n    create = \"3s\"\n  }}\n}}\n",
            backup_hcl("  timeouts {\n    create = \"2m\"\n  }\n")
        );
        env.step(&Step {
            config: with_instance(inst, &both),
            expect_error: Some("OPERATION_IN_PROGRESS|another operation is in progress".into()),
            ..Default::default()
        });
        set_state("READY");
        assert_eq!(
            backup_names(&env.server).len(),
            1,
            "the late backup was not taken"
        );
        env.write_config(&with_instance(
            inst,
            &backup_hcl("  timeouts {\n    create = \"2m\"\n  }\n"),
        ));
        env.finish();
    });
}

/// Every answer to the create is lost (committed, then dropped, on each retry): the provider lists
/// the instance's backups, finds the one whose creation_token is its key, and records it, so the
/// apply succeeds (with a warning) and nothing is orphaned or duplicated.
#[test]
fn backup_ambiguous_create_is_adopted() {
    for_each_terraform_smoke("backup_ambiguous_create_is_adopted", |tf| {
        let env = Env::new(tf);
        let inst = "acc-bk-amb";
        let provider = "terraform {\n  required_providers {\n    clouddb = {\n      source = \"clouddb/clouddb\"\n    }\n  }\n}\n\nprovider \"clouddb\" {\n  poll_interval = \"100ms\"\n  max_retries   = 1\n}\n\n";
        let write = |resources: &str| {
            std::fs::write(env.work.join("main.tf"), format!("{provider}{resources}"))
                .expect("write main.tf");
        };
        write(&with_instance(inst, ""));
        env.tf_ok(&["init", "-input=false", "-no-color"]);
        env.apply_ok();
        let path = format!("/v1/projects/{PROJECT}/instances/{inst}/backups");
        env.server.fault(
            json!({"kind": "drop_response", "method": "POST", "path_prefix": path, "count": 10}),
        );
        write(&with_instance(
            inst,
            &backup_hcl("  description = \"lost answers\"\n"),
        ));
        let r = env.tf_ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
        env.server.clear_faults();
        let flat = r
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains("was taken although its create call failed"),
            "{}",
            r.combined()
        );
        let names = backup_names(&env.server);
        assert_eq!(names.len(), 1, "exactly one backup: {names:?}");
        assert_eq!(backup_name(&env), names[0]);
        assert_eq!(env.state_attr(ADDR, "description"), json!("lost answers"));
        env.assert_plan(PlanExpect::Empty);
        env.finish();
    });
}

/// A backup outlives its instance: destroying the instance leaves the backup in state and on the
/// server (read through the project-level path), the clouddb_backups data source still lists it
/// under the instance's name, and destroying it afterwards deletes it.
#[test]
fn backup_outlives_its_instance() {
    for_each_terraform_smoke("backup_outlives_its_instance", |tf| {
        let env = Env::new(tf);
        let inst = "acc-bk-out";
        let named = "  name     = \"acc-bk-out-keep\"\n";
        env.step(&Step {
            config: with_instance(inst, &backup_hcl(named)),
            ..Default::default()
        });
        // The instance goes; the backup (now naming it by a literal) stays.
        let alone = format!(
            "resource \"clouddb_backup\" \"b\" {{\n  instance = \"{inst}\"\n{named}}}\n\ndata \"clouddb_backups\" \"of_gone\" {{\n  instance   = \"{inst}\"\n  depends_on = [clouddb_backup.b]\n}}\n"
        );
        env.write_config(&alone);
        env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 0,
            destroy: 1,
        });
        env.apply_ok();
        assert!(env.server.instance(inst).is_none());
        assert_eq!(env.state_attr(ADDR, "id"), json!("acc-bk-out-keep"));
        let listed = &env.state()["data.clouddb_backups.of_gone"]["backups"];
        assert_eq!(listed[0]["name"], json!("acc-bk-out-keep"), "{listed}");
        assert_eq!(listed[0]["instance"], json!(inst));
        env.finish();
    });
}
