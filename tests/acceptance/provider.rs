//! Provider-level behaviour: configuration errors, `terraform validate` of the provider block, and
//! the schema Terraform sees (`providers schema -json`).

use serde_json::{Value, json};

use crate::harness::{Env, Run, for_each_terraform_smoke};
use crate::instance::instance_hcl;

/// Provider configuration errors name the attribute: a missing endpoint (no block value, no
/// CLOUDDB_ENDPOINT) and an invalid endpoint in the provider block.
#[test]
fn provider_config_errors() {
    for_each_terraform_smoke("provider_config_errors", |tf| {
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

/// In a fresh directory with only a `required_providers` block: `terraform init`, then
/// `terraform providers schema -json` shows the provider configuration (token sensitive) and the
/// `clouddb_instance` schema (version 1, required `name`, defaulted `tier`/`storage_gb`), and `terraform validate` succeeds.
#[test]
fn provider_schema_json() {
    for_each_terraform_smoke("provider_schema_json", |tf| {
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
        assert_eq!(a["name"]["required"], json!(true), "name: {}", a["name"]);
        // tier and storage_gb have defaults (db-small, 20), so the seed's name-only example applies.
        for name in ["tier", "storage_gb"] {
            assert!(a[name].get("required").is_none(), "{name}: {}", a[name]);
            assert_eq!(a[name]["optional"], json!(true), "{name}: {}", a[name]);
            assert_eq!(a[name]["computed"], json!(true), "{name}: {}", a[name]);
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

        // The newer kinds, each on the first CLI that shows it.
        let keys = |v: &Value| -> Vec<String> {
            let mut k: Vec<String> = v
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            k.sort();
            k
        };
        if !env.tf_older_than(1, 8) {
            assert_eq!(
                keys(&p["functions"]),
                ["connection_uri", "parse_tier"],
                "functions"
            );
        }
        if !env.tf_older_than(1, 10) {
            assert_eq!(
                keys(&p["ephemeral_resource_schemas"]),
                ["clouddb_credentials"]
            );
        }
        let managed = [
            "clouddb_backup",
            "clouddb_database",
            "clouddb_firewall_rule",
            "clouddb_instance",
            "clouddb_user",
        ];
        if !env.tf_older_than(1, 12) {
            let ids = keys(&p["resource_identity_schemas"]);
            for t in managed {
                assert!(
                    ids.iter().any(|k| k == t),
                    "identity schema of {t}: {ids:?}"
                );
            }
            let inst = &p["resource_identity_schemas"]["clouddb_instance"]["attributes"];
            assert_eq!(inst["name"]["required_for_import"], json!(true), "{inst}");
            assert_eq!(
                inst["project"]["optional_for_import"],
                json!(true),
                "{inst}"
            );
        }
        if !env.tf_older_than(1, 14) {
            assert_eq!(keys(&p["list_resource_schemas"]), managed, "list resources");
            assert_eq!(
                keys(&p["action_schemas"]),
                [
                    "clouddb_backup_now",
                    "clouddb_instance_failover",
                    "clouddb_instance_restart"
                ],
                "actions"
            );
        }

        env.tf_ok(&["validate", "-no-color"]);
        assert!(env.server.instance_names().is_empty());
        env.finish();
    });
}

const REQUIRED_PROVIDERS: &str = "terraform {\n  required_providers {\n    clouddb = {\n      source = \"clouddb/clouddb\"\n    }\n  }\n}\n";

/// Asserts `r` failed with an error `summary` whose source snippet is the provider block's
/// `attr = value` line: Terraform shows that line only for a diagnostic with the attribute's path.
fn assert_names_attribute(env: &Env, r: &Run, summary: &str, attr: &str, value: &str) {
    let text = r.combined();
    let re = format!(
        r#"Error: {}\s+with provider\["registry.terraform.io/clouddb/clouddb"\],\s+on main.tf line \d+, in provider "clouddb":\s+\d+:\s+{}\s+= {}"#,
        regex::escape(summary),
        regex::escape(attr),
        regex::escape(value)
    );
    assert!(
        regex::Regex::new(&re).expect("regex").is_match(&text),
        "({}) no error {summary:?} naming {attr} = {value}:\n{text}",
        env.tf_version
    );
}

/// `terraform validate` checks the provider block (ValidateProviderConfig, before any API call):
/// a bad `endpoint` (no URL), a zero `request_timeout`, a `poll_interval` without a unit,
/// `max_retries`, `rate_limit` and `rate_burst` out of bounds and a `project` with a space each
/// get one error naming the attribute, and a plan fails the same way without calling the API. A
/// reference (unknown at validate) is allowed. With no resources Terraform never starts the provider.
#[test]
fn provider_validate_rejects_bad_settings() {
    for_each_terraform_smoke("provider_validate_rejects_bad_settings", |tf| {
        let env = Env::new(tf);
        env.write_config(&instance_hcl("acc-validate", ""));
        let bad = [
            ("Invalid endpoint", "endpoint", "\"not a url\""),
            ("Invalid request_timeout", "request_timeout", "\"0s\""),
            ("Invalid attribute value", "poll_interval", "\"5\""),
            ("Invalid attribute value", "max_retries", "51"),
            ("Invalid project", "project", "\"my project\""),
            ("Invalid attribute value", "rate_limit", "-1"),
            ("Invalid attribute value", "rate_burst", "0"),
        ];
        let block: String = bad
            .iter()
            .map(|(_, a, v)| format!("  {a} = {v}\n"))
            .collect();
        let provider = format!("{REQUIRED_PROVIDERS}\nprovider \"clouddb\" {{\n{block}}}\n");
        let write =
            |hcl: &str| std::fs::write(env.work.join("main.tf"), hcl).expect("write main.tf");
        write(&format!("{provider}\n{}", instance_hcl("acc-validate", "")));
        let requests_before = env.server.requests().len();
        for args in [
            &["validate", "-no-color"][..],
            &["plan", "-input=false", "-no-color"][..],
        ] {
            let r = env.tf(args);
            assert_eq!(
                r.code,
                1,
                "({}) terraform {args:?}:\n{}",
                env.tf_version,
                r.combined()
            );
            for (summary, attr, value) in bad {
                assert_names_attribute(&env, &r, summary, attr, value);
            }
            assert_eq!(
                r.combined().matches("Error: ").count(),
                bad.len(),
                "({}) one error per bad setting:\n{}",
                env.tf_version,
                r.combined()
            );
        }
        assert_eq!(
            env.server.requests().len(),
            requests_before,
            "a rejected provider configuration must not reach the API"
        );

        // Only the endpoint is bad: validate names it alone.
        write(&format!(
            "{REQUIRED_PROVIDERS}\nprovider \"clouddb\" {{\n  endpoint = \"http://\"\n}}\n\n{}",
            instance_hcl("acc-validate", "")
        ));
        let r = env.tf(&["validate", "-no-color"]);
        assert_eq!(r.code, 1, "{}", r.combined());
        assert_names_attribute(&env, &r, "Invalid endpoint", "endpoint", "\"http://\"");

        // A reference is unknown while validating: allowed.
        write(&format!(
            "{REQUIRED_PROVIDERS}\nvariable \"endpoint\" {{\n  type = string\n}}\n\nprovider \"clouddb\" {{\n  endpoint = var.endpoint\n}}\n\n{}",
            instance_hcl("acc-validate", "")
        ));
        env.tf_ok(&["validate", "-no-color"]);

        // No resources: Terraform prunes the unused provider configuration ("pruning unused
        // provider" in its log) in every walk, so it never sends ValidateProviderConfig or
        // ConfigureProvider and nothing can reject the bad endpoint. This pins that behaviour: if a
        // CLI starts validating unused providers, this fails and the expectation flips.
        write(&format!(
            "{REQUIRED_PROVIDERS}\nprovider \"clouddb\" {{\n  endpoint = \"not a url\"\n}}\n"
        ));
        for args in [
            &["validate", "-no-color"][..],
            &["plan", "-input=false", "-no-color"][..],
        ] {
            let r = env.tf(args);
            assert_eq!(
                r.code,
                0,
                "({}) terraform {args:?} without resources now checks the provider; expect the error here:\n{}",
                env.tf_version,
                r.combined()
            );
        }

        env.write_config(&instance_hcl("acc-validate", ""));
        env.finish();
    });
}
