//! Hostile or broken HCL values: each gets a clear diagnostic naming the attribute, at plan time,
//! before anything is sent to the API; nothing is created and nothing panics. The table in
//! docs/bad-input.md lists these cases with the diagnostic the user sees.

use crate::harness::{Env, for_each_terraform};
use crate::instance::instance_hcl;

/// `plan` of `resources` fails; the whitespace-normalised output, which must contain every
/// `expect`. `huge` is a long value of the configuration: Terraform quotes the source line once
/// in its diagnostic, and the provider's own detail must not echo it again.
fn plan_fails(env: &Env, resources: &str, expect: &[&str], huge: Option<&str>) -> String {
    env.write_config(resources);
    let r = env.tf(&["plan", "-input=false", "-no-color"]);
    let flat = r
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_ne!(r.code, 0, "plan must fail ({}):\n{flat}", env.tf_version);
    for e in expect {
        assert!(
            flat.contains(e),
            "{e:?} not in ({}):\n{flat}",
            env.tf_version
        );
    }
    assert!(!flat.contains("panic"), "{flat}");
    if let Some(h) = huge {
        let echoes = r.combined().matches(h).count();
        assert!(echoes <= 1, "the long value is echoed {echoes} times");
    }
    flat
}

#[test]
fn bad_input_is_rejected_at_plan_naming_the_attribute() {
    for_each_terraform("bad_input_is_rejected_at_plan_naming_the_attribute", |tf| {
        let env = Env::new(tf);
        let long = "a".repeat(100_000);
        plan_fails(
            &env,
            &instance_hcl(&long, ""),
            &["Invalid instance name", "(100000 characters)"],
            Some(&long),
        );

        let many: String = (0..100).map(|i| format!("    k{i} = \"v\"\n")).collect();
        plan_fails(
            &env,
            &instance_hcl("acc-bad", &format!("  labels = {{\n{many}  }}")),
            &["Too many labels", "labels"],
            None,
        );
        plan_fails(
            &env,
            &instance_hcl("acc-bad", "  labels = { \"Bad Key\" = \"v\" }"),
            &["Invalid label key", "Bad Key"],
            None,
        );
        let long_value = "v".repeat(50_000);
        plan_fails(
            &env,
            &instance_hcl(
                "acc-bad",
                &format!("  labels = {{ team = \"{long_value}\" }}"),
            ),
            &["Invalid label value", "(50000 characters)"],
            Some(&long_value),
        );
        // A huge and a fractional number where the API needs an integer in range.
        let hcl = instance_hcl("acc-bad", "").replace("storage_gb = 20", "storage_gb = 1e30");
        plan_fails(
            &env,
            &hcl,
            &["storage_gb value must be between 10 and 65536"],
            None,
        );
        let hcl = instance_hcl("acc-bad", "").replace("storage_gb = 20", "storage_gb = 20.5");
        plan_fails(
            &env,
            &hcl,
            &["storage_gb value must be between 10 and 65536"],
            None,
        );
        plan_fails(
            &env,
            &instance_hcl("acc-bad", "  backup = { start_time = \"25:99\" }"),
            &["Invalid backup start time", "start_time"],
            None,
        );
        assert!(
            env.server.instance_names().is_empty(),
            "nothing was sent to the API"
        );

        // Invalid UTF-8 in the configuration: Terraform itself refuses it; nothing is created.
        env.write_config(&instance_hcl("acc-bad", ""));
        let mut bytes = std::fs::read(env.work.join("main.tf")).expect("main.tf");
        bytes.extend_from_slice(b"\nlocals { x = \"\xff\xfe\" }\n");
        std::fs::write(env.work.join("main.tf"), bytes).expect("write");
        let r = env.tf(&["plan", "-input=false", "-no-color"]);
        assert_ne!(r.code, 0, "{}", r.combined());
        assert!(env.server.instance_names().is_empty());

        env.write_config(&instance_hcl("acc-bad", ""));
        env.finish();
    });
}

/// A name known only after apply (from another resource) plans as unknown and applies once known;
/// the plan after it is empty.
#[test]
fn bad_input_unknown_name_until_apply() {
    for_each_terraform("bad_input_unknown_name_until_apply", |tf| {
        let env = Env::new(tf);
        if env.tf_older_than(1, 4) {
            eprintln!(
                "SKIP on {}: terraform_data needs Terraform 1.4",
                env.tf_version
            );
            env.finish();
            return;
        }
        let hcl = format!(
            "resource \"terraform_data\" \"name\" {{\n  input = \"acc-late\"\n}}\n\n{}",
            instance_hcl("acc-late", "").replace("\"acc-late\"", "terraform_data.name.output")
        );
        env.write_config(&hcl);
        env.apply_ok();
        assert_eq!(env.server.instance_names(), vec!["acc-late".to_string()]);
        env.finish();
    });
}
