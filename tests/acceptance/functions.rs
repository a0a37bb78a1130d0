//! Provider functions through the real CLI (Terraform 1.8+; older CLIs skip): outputs computed by
//! `provider::clouddb::connection_uri` and `provider::clouddb::parse_tier`, from literals and from
//! an instance's attributes (unknown at plan, known after apply), and their errors, each pointing
//! at the offending argument.

use serde_json::{Value, json};

use crate::database::with_instance;
use crate::harness::{Env, PROJECT, for_each_terraform_smoke};

fn skip_before_functions(env: &Env) -> bool {
    if env.tf_older_than(1, 8) {
        eprintln!("skipping: provider functions need Terraform 1.8");
        return true;
    }
    false
}

/// Outputs from both functions: literals, and the instance's own engine and endpoint.
#[test]
fn functions_compute_outputs() {
    for_each_terraform_smoke("functions_compute_outputs", |tf| {
        let env = Env::new(tf);
        if skip_before_functions(&env) {
            return;
        }
        let literals = r#"
output "literal_uri" {
  value = provider::clouddb::connection_uri("mysql", "2001:db8::10", 3306, "sales 2024", "report@ops")
}

output "tier" {
  value = provider::clouddb::parse_tier("db-standard-4")
}
"#;
        let from_instance = r#"
output "instance_uri" {
  value = provider::clouddb::connection_uri(clouddb_instance.db.engine, clouddb_instance.db.endpoint_host, clouddb_instance.db.endpoint_port, "app", "reader")
}

output "instance_tier_max_storage" {
  value = provider::clouddb::parse_tier(clouddb_instance.db.tier).max_storage_gb
}
"#;
        let instance = "resource \"clouddb_instance\" \"db\" {\n  name              = \"acc-fn\"\n  engine            = \"postgres\"\n  skip_final_backup = true\n}\n";
        // Functions never call the API: a plan of literal calls alone sends no request at all
        // (Terraform calls them on an unconfigured provider, so not even configure's check runs).
        env.write_config(literals);
        env.plan();
        let api_calls: Vec<String> = env
            .server
            .requests()
            .iter()
            .filter_map(|r| r["path"].as_str().map(str::to_string))
            .filter(|p| p.starts_with("/v1/"))
            .collect();
        assert!(api_calls.is_empty(), "{api_calls:?}");

        env.write_config(&format!("{instance}{literals}{from_instance}"));
        let (_, plan) = env.plan();
        // Literal arguments are computed at plan time; the instance's only after apply.
        let planned = &plan["planned_values"]["outputs"];
        assert_eq!(
            planned["literal_uri"]["value"],
            json!("mysql://report%40ops@[2001:db8::10]:3306/sales%202024"),
            "{planned}"
        );
        assert_eq!(
            planned["tier"]["value"],
            json!({"vcpus": 4, "memory_gb": 16, "max_storage_gb": 4000})
        );
        assert_eq!(
            plan["output_changes"]["instance_uri"]["after_unknown"],
            true
        );
        env.apply_ok();
        let out = env.tf_ok(&["output", "-json"]).stdout;
        let out: Value = serde_json::from_str(&out).expect("outputs JSON");
        assert_eq!(
            out["instance_uri"]["value"],
            json!(format!(
                "postgresql://reader@acc-fn.{PROJECT}.clouddb.internal:5432/app"
            ))
        );
        assert_eq!(out["instance_tier_max_storage"]["value"], json!(500));
        assert_eq!(out["tier"]["value"]["memory_gb"], json!(16));
        env.finish();
    });
}

/// Each bad call fails the plan with Terraform's "Invalid value for "<param>" parameter" naming
/// the argument the provider pointed at, and the provider's reason.
#[test]
fn functions_errors_name_the_argument() {
    for_each_terraform_smoke("functions_errors_name_the_argument", |tf| {
        let env = Env::new(tf);
        if skip_before_functions(&env) {
            return;
        }
        let cases = [
            (
                r#"provider::clouddb::connection_uri("oracle", "h", 1521, "d", "u")"#,
                "engine",
                r#"unknown engine "oracle"; expected "mysql" or "postgres""#,
            ),
            (
                r#"provider::clouddb::connection_uri("mysql", "h", 70000, "d", "u")"#,
                "port",
                "must be a whole number from 1 to 65535, got 70000",
            ),
            (
                r#"provider::clouddb::connection_uri("mysql", "db host", 3306, "d", "u")"#,
                "host",
                "is neither a DNS name nor an IPv4 or IPv6 address",
            ),
            (
                r#"provider::clouddb::connection_uri("postgres", "h", 5432, "d", "")"#,
                "user",
                "must not be empty",
            ),
            (
                r#"provider::clouddb::parse_tier("db-huge")"#,
                "name",
                r#"unknown tier "db-huge"; known tiers: db-micro, db-small, db-standard-2, db-standard-4, db-highmem-8"#,
            ),
        ];
        for (call, param, reason) in cases {
            env.write_config(&with_instance(
                "acc-fnerr",
                &format!("output \"x\" {{\n  value = {call}\n}}\n"),
            ));
            let run = env.tf(&["plan", "-input=false", "-no-color"]);
            assert_eq!(run.code, 1, "{call} planned:\n{}", run.combined());
            let flat = run
                .combined()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                flat.contains(&format!("Invalid value for \"{param}\" parameter")),
                "{call}: the error does not name {param}:\n{}",
                run.combined()
            );
            assert!(
                flat.contains(reason),
                "{call}: the error does not say {reason:?}:\n{}",
                run.combined()
            );
        }
        assert!(
            env.server.instance_names().is_empty(),
            "a failed plan creates nothing"
        );
        env.write_config("");
        env.finish();
    });
}
