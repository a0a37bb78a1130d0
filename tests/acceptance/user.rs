//! `clouddb_user`: lifecycle with roles and a password, the write-only `password_wo` (never in
//! state, saved plans or trace logs; re-sent exactly once per `password_wo_version` bump), and
//! the conflict between the two, through the real Terraform CLI.

use serde_json::{Value, json};

use crate::database::with_instance;
use crate::harness::{Env, PlanExpect, Step, for_each_terraform_smoke};

fn user_hcl(name: &str, extra: &str) -> String {
    format!(
        "resource \"clouddb_user\" \"app\" {{\n  instance = clouddb_instance.db.name\n  name     = \"{name}\"\n{extra}}}\n"
    )
}

/// create (roles, password) → no-op plan → in-place update (roles, password) → replace (name) →
/// import (no password) → drift (roles changed, then deleted out of band) → destroy.
#[test]
fn user_lifecycle() {
    for_each_terraform_smoke("user_lifecycle", |tf| {
        let env = Env::new(tf);
        let addr = "clouddb_user.app";
        let inst = "acc-users";
        let v1 = "  roles    = [\"reader\"]\n  password = \"first-password\"\n";
        env.step(&Step {
            config: with_instance(inst, &user_hcl("app", v1)),
            plan: Some(PlanExpect::Changes {
                add: 2,
                change: 0,
                destroy: 0,
            }),
            checks: vec![
                (addr.into(), "id".into(), json!("acc-users/app")),
                (addr.into(), "roles".into(), json!(["reader"])),
            ],
            ..Default::default()
        });
        let path = format!("/instances/{inst}/users/app");
        let rec = env.server.api("GET", &path, None).1;
        assert_eq!(rec["roles"], json!(["reader"]));
        assert!(
            !rec.to_string().contains("first-password"),
            "the API stores no password: {rec}"
        );

        // In place: roles and password.
        let v2 = "  roles    = [\"reader\", \"writer\"]\n  password = \"second-password\"\n";
        env.step(&Step {
            config: with_instance(inst, &user_hcl("app", v2)),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            checks: vec![(addr.into(), "roles".into(), json!(["reader", "writer"]))],
            ..Default::default()
        });
        let patches: Vec<Value> = env
            .server
            .requests()
            .into_iter()
            .filter(|r| {
                r["method"] == "PATCH"
                    && r["path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("/users/app"))
            })
            .collect();
        assert_eq!(patches.len(), 1, "one PATCH for the update: {patches:?}");

        // Replace: name.
        env.step(&Step {
            config: with_instance(inst, &user_hcl("app2", v2)),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 1,
            }),
            checks: vec![(addr.into(), "id".into(), json!("acc-users/app2"))],
            ..Default::default()
        });

        // Import: the password cannot be imported; the next apply sends it once, then all is quiet.
        env.tf_ok(&["state", "rm", addr]);
        env.tf_ok(&[
            "import",
            "-input=false",
            "-no-color",
            addr,
            "acc-users/app2",
        ]);
        assert_eq!(env.state_attr(addr, "password"), Value::Null);
        env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        env.apply_ok();

        // Drift: roles changed out of band → one update puts them back.
        let app2 = format!("/instances/{inst}/users/app2");
        assert_eq!(
            env.server
                .api("PATCH", &app2, Some(json!({"roles": ["admin"]})))
                .0,
            200
        );
        env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        env.apply_ok();
        let mut roles: Vec<String> =
            serde_json::from_value(env.server.api("GET", &app2, None).1["roles"].clone())
                .expect("roles");
        roles.sort();
        assert_eq!(roles, ["reader", "writer"]);

        // Deleted out of band → planned for creation again.
        assert_eq!(env.server.api("DELETE", &app2, None).0, 204);
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 0,
        });
        env.apply_ok();
        env.finish();
    });
}

/// `password_wo`: the password appears nowhere in the state file, a saved plan or the trace log;
/// bumping `password_wo_version` makes exactly one in-place update that re-sends it. Terraform
/// 1.11+ (older CLIs cannot express write-only arguments).
#[test]
fn user_write_only_password() {
    for_each_terraform_smoke("user_write_only_password", |tf| {
        let mut env = Env::new(tf);
        if env.tf_older_than(1, 11) {
            eprintln!("skipping: write-only arguments need Terraform 1.11");
            return;
        }
        let secret = "wo-Secret-4711-xyz";
        let log = env.work.join("trace.log");
        env.extra_env.insert("TF_LOG".into(), "trace".into());
        env.extra_env
            .insert("TF_LOG_PATH".into(), log.to_string_lossy().into_owned());
        // The password comes in through an ephemeral variable, as it would in real use: a literal
        // in the HCL would be in the saved plan's copy of the configuration, whatever the provider did.
        env.extra_env
            .insert("TF_VAR_app_password".into(), secret.into());
        let cfg = |version: u32| {
            let var = "variable \"app_password\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n\n";
            let user = user_hcl(
                "app",
                &format!(
                    "  password_wo         = var.app_password\n  password_wo_version = {version}\n"
                ),
            );
            format!("{var}{}", with_instance("acc-userwo", &user))
        };
        env.step(&Step {
            config: cfg(1),
            ..Default::default()
        });
        let sent = |env: &Env| {
            env.server
                .requests()
                .into_iter()
                .filter(|r| {
                    r["path"].as_str().is_some_and(|p| p.contains("/users"))
                        && (r["method"] == "POST" || r["method"] == "PATCH")
                        && r["body_fields"]
                            .as_array()
                            .is_some_and(|f| f.contains(&json!("password")))
                })
                .count()
        };
        assert_eq!(sent(&env), 1, "the create carried the password");

        // Bump the version: exactly one in-place update, which re-sends the password.
        env.write_config(&cfg(2));
        let plan = env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        env.apply_ok();
        assert_eq!(sent(&env), 2, "the version bump re-sent the password once");

        // Nowhere to be found: state, a saved plan (as JSON and as the file), the trace log.
        env.tf_ok(&["plan", "-input=false", "-no-color", "-out=saved.tfplan"]);
        let shown = env.tf_ok(&["show", "-json", "saved.tfplan"]).stdout;
        let state = std::fs::read_to_string(env.work.join("terraform.tfstate")).expect("state");
        let saved = std::fs::read(env.work.join("saved.tfplan")).expect("plan file");
        let trace = std::fs::read_to_string(&log).expect("trace log");
        assert!(trace.len() > 10_000, "trace logging was on");
        for (what, text) in [
            ("state", state),
            ("saved plan JSON", shown),
            ("plan JSON", plan.to_string()),
            ("trace log", trace),
        ] {
            assert!(
                !text.contains(secret),
                "the write-only password leaked into the {what}"
            );
        }
        assert!(
            !saved.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the write-only password is in the saved plan file"
        );
        env.extra_env.remove("TF_LOG");
        env.extra_env.remove("TF_LOG_PATH");
        env.finish();
    });
}

/// `password` and `password_wo` together is an error naming both.
#[test]
fn user_conflicting_passwords() {
    for_each_terraform_smoke("user_conflicting_passwords", |tf| {
        let env = Env::new(tf);
        if env.tf_older_than(1, 11) {
            return;
        }
        env.step(&Step {
            config: with_instance(
                "acc-userx",
                &user_hcl(
                    "app",
                    "  password    = \"plain-password\"\n  password_wo = \"write-only-pw\"\n",
                ),
            ),
            expect_error: Some(r"`password` and `password_wo` cannot both be set".into()),
            ..Default::default()
        });
        env.write_config("");
        env.finish();
    });
}
