//! The deprecated `clouddb_db_instance` and `moved` to `clouddb_instance` (MoveResourceState across
//! types: Terraform 1.8+, older CLIs skip).

use serde_json::json;

use crate::actions::api_requests;
use crate::harness::{Env, PlanExpect, Step, for_each_terraform_smoke};

fn db_instance_hcl(kind: &str) -> String {
    format!(
        "resource \"{kind}\" \"a\" {{\n  name       = \"acc-moved\"\n  tier       = \"db-small\"\n  storage_gb = 20\n}}\n"
    )
}

/// `clouddb_db_instance` creates an instance and warns that it is deprecated; renaming the block
/// to `clouddb_instance` with a `moved` block moves the state: no replacement, no API write
/// (request log: no POST/PATCH/DELETE), and an empty plan after.
#[test]
fn moved_from_deprecated_db_instance() {
    for_each_terraform_smoke("moved_from_deprecated_db_instance", |tf| {
        let env = Env::new(tf);
        if env.tf_older_than(1, 8) {
            eprintln!("skipping: moved blocks across resource types need Terraform 1.8");
            return;
        }
        env.write_config(&db_instance_hcl("clouddb_db_instance"));
        let validate = env.tf_ok(&["validate", "-no-color"]);
        let flat = validate
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains("clouddb_db_instance is deprecated") && flat.contains("moved"),
            "validate does not warn about the deprecated type:\n{}",
            validate.combined()
        );
        env.step(&Step {
            config: db_instance_hcl("clouddb_db_instance"),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 0,
            }),
            checks: vec![(
                "clouddb_db_instance.a".into(),
                "id".into(),
                json!("acc-moved"),
            )],
            ..Default::default()
        });
        let uid = env.server.instance("acc-moved").map(|i| i["uid"].clone());

        let before = api_requests(&env).len();
        env.step(&Step {
            config: format!(
                "{}\nmoved {{\n  from = clouddb_db_instance.a\n  to   = clouddb_instance.a\n}}\n",
                db_instance_hcl("clouddb_instance")
            ),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 0,
                destroy: 0,
            }),
            checks: vec![
                ("clouddb_instance.a".into(), "id".into(), json!("acc-moved")),
                (
                    "clouddb_instance.a".into(),
                    "tier".into(),
                    json!("db-small"),
                ),
            ],
            ..Default::default()
        });
        let writes: Vec<String> = api_requests(&env)
            .into_iter()
            .skip(before)
            .filter(|r| !r.starts_with("GET "))
            .collect();
        assert!(writes.is_empty(), "the move wrote to the API: {writes:?}");
        assert_eq!(
            env.server.instance("acc-moved").map(|i| i["uid"].clone()),
            uid,
            "the instance was replaced"
        );
        let state = env.state();
        assert!(
            !state.contains_key("clouddb_db_instance.a")
                && state.contains_key("clouddb_instance.a"),
            "{state:?}"
        );
        // The moved object keeps its identity (Terraform 1.12+ stores one).
        if !env.tf_older_than(1, 12) {
            let raw = env.raw_state();
            let identity = raw["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["type"] == "clouddb_instance")
                .map(|r| r["instances"][0]["identity"].clone())
                .unwrap_or_default();
            assert_eq!(
                identity["name"],
                json!("acc-moved"),
                "identity after the move: {raw}"
            );
        }
        env.finish();
    });
}
