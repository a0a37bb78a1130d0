//! Actions (`clouddb_instance_restart`, `clouddb_backup_now`, `clouddb_instance_failover`; Terraform
//! 1.14+, older CLIs skip): invoked by hand with `terraform apply -invoke`, and triggered from an
//! instance's `lifecycle { action_trigger { … } }`.

use serde_json::Value;

use crate::harness::{Env, PROJECT, PlanExpect, Run, Step, for_each_terraform};
use crate::instance::instance_hcl;

fn too_old(env: &Env) -> bool {
    if env.tf_older_than(1, 14) {
        eprintln!("skipping: actions need Terraform 1.14");
        return true;
    }
    false
}

/// The project's API requests in the request log, in order, as `METHOD PATH` with the path
/// below the project and without its query (`POST /instances/db/restart`).
pub(crate) fn api_requests(env: &Env) -> Vec<String> {
    let prefix = format!("/v1/projects/{PROJECT}");
    env.server
        .requests()
        .iter()
        .filter_map(|r| {
            let path = r["path"].as_str()?;
            let path = path.split('?').next().unwrap_or(path);
            let rest = path.strip_prefix(&prefix)?;
            Some(format!("{} {rest}", r["method"].as_str().unwrap_or("?")))
        })
        .collect()
}

/// [`api_requests`] after the first `since`.
fn requests_since(env: &Env, since: usize) -> Vec<String> {
    api_requests(env).into_iter().skip(since).collect()
}

fn invoke(env: &Env, action: &str) -> Run {
    env.tf(&[
        "apply",
        "-input=false",
        "-no-color",
        "-auto-approve",
        &format!("-invoke=action.{action}"),
    ])
}

/// Deletes every on-demand backup (actions take them outside Terraform state, so destroy
/// does not).
fn delete_backups(env: &Env) {
    for b in env.server.on_demand_backups() {
        let (status, v) = env.server.api("DELETE", &format!("/backups/{b}"), None);
        assert!(
            status == 204 || status == 200,
            "delete backup {b}: {status} {v}"
        );
    }
}

/// `terraform apply -invoke` of each action: the restart and the backup reach the API (request
/// log), leave an empty plan behind, and a failover of an instance without high availability is
/// an error saying to set it.
#[test]
fn actions_invoked_by_hand() {
    for_each_terraform("actions_invoked_by_hand", |tf| {
        let env = Env::new(tf);
        if too_old(&env) {
            return;
        }
        let config = format!(
            "{}\naction \"clouddb_instance_restart\" \"r\" {{\n  config {{\n    instance = clouddb_instance.db.name\n  }}\n}}\n\naction \"clouddb_backup_now\" \"b\" {{\n  config {{\n    instance    = clouddb_instance.db.name\n    name        = \"acc-act-manual\"\n    description = \"by hand\"\n  }}\n}}\n\naction \"clouddb_instance_failover\" \"f\" {{\n  config {{\n    instance = clouddb_instance.db.name\n  }}\n}}\n",
            instance_hcl("acc-act", "")
        );
        env.step(&Step {
            config,
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 0,
            }),
            ..Default::default()
        });

        // Restart: one POST …/restart, progress shown, the instance READY again, plan empty.
        let before = api_requests(&env).len();
        let run = invoke(&env, "clouddb_instance_restart.r");
        assert_eq!(run.code, 0, "invoke restart failed:\n{}", run.combined());
        let sent = requests_since(&env, before);
        let restarts = sent
            .iter()
            .filter(|r| *r == "POST /instances/acc-act/restart")
            .count();
        assert_eq!(restarts, 1, "expected one restart POST: {sent:?}");
        assert!(
            run.combined().contains("restart of acc-act"),
            "no progress message in the output:\n{}",
            run.combined()
        );
        assert_eq!(
            env.server.instance("acc-act").map(|i| i["state"].clone()),
            Some(Value::from("READY"))
        );
        env.assert_plan(PlanExpect::Empty);

        // Backup now: one POST …/backups, the backup exists outside state, plan empty.
        let before = api_requests(&env).len();
        let run = invoke(&env, "clouddb_backup_now.b");
        assert_eq!(run.code, 0, "invoke backup failed:\n{}", run.combined());
        let sent = requests_since(&env, before);
        assert!(
            sent.iter().any(|r| r == "POST /instances/acc-act/backups"),
            "no backup POST: {sent:?}"
        );
        assert_eq!(env.server.on_demand_backups(), ["acc-act-manual"]);
        assert!(
            !env.state().keys().any(|k| k.contains("backup")),
            "the backup must not be in state"
        );
        env.assert_plan(PlanExpect::Empty);
        delete_backups(&env);

        // Failover without high availability: the API's 409 as an error naming the fix.
        let run = invoke(&env, "clouddb_instance_failover.f");
        assert_ne!(run.code, 0, "failover of a non-HA instance succeeded");
        let flat = run
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains("Cannot fail over CloudDB instance \"acc-act\"")
                && flat.contains("high_availability = true"),
            "unexpected failover error:\n{}",
            run.combined()
        );
        env.assert_plan(PlanExpect::Empty);
        env.finish();
    });
}

/// `action_trigger { events = [before_update] }` on an instance: creating it runs nothing; an
/// in-place update runs clouddb_backup_now first (the backup POST is logged before the PATCH).
#[test]
fn actions_backup_before_every_update() {
    for_each_terraform("actions_backup_before_every_update", |tf| {
        let env = Env::new(tf);
        if too_old(&env) {
            return;
        }
        let config = |tier: &str| {
            format!(
                "action \"clouddb_backup_now\" \"before_change\" {{\n  config {{\n    instance    = \"acc-trig\"\n    description = \"before an update\"\n  }}\n}}\n\nresource \"clouddb_instance\" \"db\" {{\n  name       = \"acc-trig\"\n  tier       = \"{tier}\"\n  storage_gb = 20\n\n  lifecycle {{\n    action_trigger {{\n      events  = [before_update]\n      actions = [action.clouddb_backup_now.before_change]\n    }}\n  }}\n}}\n"
            )
        };
        env.step(&Step {
            config: config("db-small"),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 0,
            }),
            ..Default::default()
        });
        assert!(
            env.server.on_demand_backups().is_empty(),
            "a create must not trigger a before_update action"
        );

        let before = api_requests(&env).len();
        env.step(&Step {
            config: config("db-standard-2"),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            ..Default::default()
        });
        let sent = requests_since(&env, before);
        let backup = sent
            .iter()
            .position(|r| r == "POST /instances/acc-trig/backups");
        let patch = sent.iter().position(|r| r == "PATCH /instances/acc-trig");
        match (backup, patch) {
            (Some(b), Some(p)) => assert!(b < p, "backup after the update: {sent:?}"),
            _ => panic!("expected a backup POST and an instance PATCH: {sent:?}"),
        }
        assert_eq!(env.server.on_demand_backups().len(), 1);
        delete_backups(&env);
        env.finish();
    });
}
