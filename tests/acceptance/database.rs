//! `clouddb_database`: lifecycle, drift, and children of an instance that is gone, through the real
//! Terraform CLI.

use serde_json::json;

use crate::harness::{Env, PROJECT, PlanExpect, Step, for_each_terraform_smoke};

/// An instance `name` (no final backup, so destroy leaves nothing) plus `children` HCL.
pub(crate) fn with_instance(name: &str, children: &str) -> String {
    format!(
        "resource \"clouddb_instance\" \"db\" {{\n  name              = \"{name}\"\n  skip_final_backup = true\n}}\n\n{children}"
    )
}

fn database_hcl(name: &str, extra: &str) -> String {
    format!(
        "resource \"clouddb_database\" \"app\" {{\n  instance = clouddb_instance.db.name\n  name     = \"{name}\"\n{extra}}}\n"
    )
}

/// create → no-op plan → in-place update (charset) → replace (name) → import → drift (changed,
/// then deleted out of band) → the whole instance deleted out of band (refresh drops both, no
/// error) → destroy after the instance is gone.
#[test]
fn database_lifecycle() {
    for_each_terraform_smoke("database_lifecycle", |tf| {
        let env = Env::new(tf);
        let addr = "clouddb_database.app";
        let inst = "acc-dbs";
        env.step(&Step {
            config: with_instance(inst, &database_hcl("orders", "")),
            plan: Some(PlanExpect::Changes {
                add: 2,
                change: 0,
                destroy: 0,
            }),
            checks: vec![
                (addr.into(), "id".into(), json!("acc-dbs/orders")),
                (addr.into(), "charset".into(), json!("utf8mb4")),
                (addr.into(), "collation".into(), json!("utf8mb4_0900_ai_ci")),
            ],
            ..Default::default()
        });
        let path = format!("/instances/{inst}/databases/orders");
        assert_eq!(env.server.api("GET", &path, None).0, 200);

        // In place: charset.
        env.step(&Step {
            config: with_instance(inst, &database_hcl("orders", "  charset = \"latin1\"\n")),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            checks: vec![(addr.into(), "charset".into(), json!("latin1"))],
            ..Default::default()
        });
        assert_eq!(
            env.server.api("GET", &path, None).1["charset"],
            json!("latin1")
        );

        // Replace: name.
        let cfg = with_instance(inst, &database_hcl("billing", "  charset = \"latin1\"\n"));
        env.step(&Step {
            config: cfg.clone(),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 1,
            }),
            checks: vec![(addr.into(), "id".into(), json!("acc-dbs/billing"))],
            ..Default::default()
        });
        assert_eq!(
            env.server.api("GET", &path, None).0,
            404,
            "old database removed"
        );

        // Import by INSTANCE/NAME; a malformed ID names the expected form.
        env.tf_ok(&["state", "rm", addr]);
        let bad = env.tf(&["import", "-input=false", "-no-color", addr, "billing"]);
        assert!(
            bad.code != 0 && bad.combined().contains("INSTANCE/NAME"),
            "{}",
            bad.combined()
        );
        env.tf_ok(&[
            "import",
            "-input=false",
            "-no-color",
            addr,
            "acc-dbs/billing",
        ]);
        env.assert_plan(PlanExpect::Empty);

        // Drift: changed out of band → one update puts it back.
        let billing = format!("/instances/{inst}/databases/billing");
        let (s, _) = env
            .server
            .api("PATCH", &billing, Some(json!({"charset": "utf8"})));
        assert_eq!(s, 200);
        env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        env.apply_ok();
        assert_eq!(
            env.server.api("GET", &billing, None).1["charset"],
            json!("latin1")
        );

        // Deleted out of band → planned for creation again.
        assert_eq!(env.server.api("DELETE", &billing, None).0, 204);
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 0,
        });
        env.apply_ok();

        // The instance deleted out of band: the refresh drops the database too, without an error.
        env.server.admin(
            "DELETE",
            &format!("/admin/drift/projects/{PROJECT}/instances/{inst}"),
            None,
        );
        env.assert_plan(PlanExpect::Changes {
            add: 2,
            change: 0,
            destroy: 0,
        });
        env.apply_ok();

        // Destroying children whose instance is already gone succeeds.
        env.server.admin(
            "DELETE",
            &format!("/admin/drift/projects/{PROJECT}/instances/{inst}"),
            None,
        );
        env.tf_ok(&[
            "destroy",
            "-refresh=false",
            "-input=false",
            "-no-color",
            "-auto-approve",
        ]);
        assert!(
            env.state().is_empty(),
            "state after destroy: {:?}",
            env.state()
        );
        env.finish();
    });
}

/// Plan-time validation names the attribute; a database on an instance that does not exist is a
/// clear error, and nothing is left behind.
#[test]
fn database_validation_errors() {
    for_each_terraform_smoke("database_validation_errors", |tf| {
        let env = Env::new(tf);
        env.step(&Step {
            config: with_instance("acc-dbv", &database_hcl("1bad", "")),
            expect_error: Some("Invalid database name".into()),
            ..Default::default()
        });
        env.step(&Step {
            config: with_instance("acc-dbv", &database_hcl("ok", "  charset = \"utf 8\"\n")),
            expect_error: Some(r#"Invalid value[\s\S]*charset"#.into()),
            ..Default::default()
        });
        env.step(&Step {
            config: "resource \"clouddb_database\" \"app\" {\n  instance = \"acc-nowhere\"\n  name     = \"app\"\n}\n".into(),
            expect_error: Some(r#"Instance "acc-nowhere" does not exist"#.into()),
            ..Default::default()
        });
        env.write_config("");
        env.finish();
    });
}

/// While the instance is busy (409 OPERATION_IN_PROGRESS: here, in maintenance), a child create
/// waits and retries within its timeout: it succeeds once the instance is free, and fails with
/// the API's reason, creating nothing, when the timeout runs out first.
#[test]
fn database_waits_for_a_busy_instance() {
    for_each_terraform_smoke("database_waits_for_a_busy_instance", |tf| {
        let env = Env::new(tf);
        let inst = "acc-busy";
        env.step(&Step {
            config: with_instance(inst, &database_hcl("first", "")),
            ..Default::default()
        });
        let drift = format!("/admin/drift/projects/{PROJECT}/instances/{inst}");
        let set_state = |state: &str| {
            env.server
                .admin("PATCH", &drift, Some(json!({ "state": state })));
        };
        let second = "resource \"clouddb_database\" \"second\" {\n  instance = clouddb_instance.db.name\n  name     = \"second\"\n  timeouts {\n    create = \"2m\"\n  }\n}\n";

        // Busy for a few seconds: the create waits, then succeeds.
        set_state("MAINTENANCE");
        let freed = std::thread::scope(|s| {
            let t = s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_secs(4));
                set_state("READY");
            });
            env.step(&Step {
                config: with_instance(inst, &format!("{}{second}", database_hcl("first", ""))),
                ..Default::default()
            });
            t.join().is_ok()
        });
        assert!(freed);
        let busy_answers = env
            .server
            .requests()
            .iter()
            .filter(|r| r["method"] == "POST" && r["status"] == 409)
            .count();
        assert!(
            busy_answers >= 2,
            "the create met the busy instance ({busy_answers} 409s)"
        );
        let path = format!("/instances/{inst}/databases/second");
        assert_eq!(env.server.api("GET", &path, None).0, 200);

        // Busy for longer than the timeout: a clear error, and nothing created.
        set_state("MAINTENANCE");
        let third = second.replace("second", "third").replace("2m", "3s");
        env.step(&Step {
            config: with_instance(
                inst,
                &format!("{}{second}{third}", database_hcl("first", "")),
            ),
            expect_error: Some("OPERATION_IN_PROGRESS|another operation is in progress".into()),
            ..Default::default()
        });
        let path = format!("/instances/{inst}/databases/third");
        set_state("READY");
        assert_eq!(env.server.api("GET", &path, None).0, 404);
        env.write_config(&with_instance(
            inst,
            &format!("{}{second}", database_hcl("first", "")),
        ));
        env.finish();
    });
}
