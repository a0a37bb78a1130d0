//! `clouddb_firewall_rule`: lifecycle, plan-time CIDR validation and drift, through the real
//! Terraform CLI.

use serde_json::{Value, json};

use crate::database::with_instance;
use crate::harness::{Env, PlanExpect, Step, for_each_terraform_smoke};

fn rule_hcl(name: &str, cidr: &str, extra: &str) -> String {
    format!(
        "resource \"clouddb_firewall_rule\" \"office\" {{\n  instance = clouddb_instance.db.name\n  name     = \"{name}\"\n  cidr     = \"{cidr}\"\n{extra}}}\n"
    )
}

/// create → no-op plan → in-place update (cidr, description) → replace (name) → import → drift
/// (changed, then deleted out of band) → destroy.
#[test]
fn firewall_rule_lifecycle() {
    for_each_terraform_smoke("firewall_rule_lifecycle", |tf| {
        let env = Env::new(tf);
        let addr = "clouddb_firewall_rule.office";
        let inst = "acc-fw";
        env.step(&Step {
            config: with_instance(inst, &rule_hcl("office", "10.0.0.0/8", "")),
            plan: Some(PlanExpect::Changes {
                add: 2,
                change: 0,
                destroy: 0,
            }),
            checks: vec![
                (addr.into(), "id".into(), json!("acc-fw/office")),
                (addr.into(), "description".into(), Value::Null),
            ],
            ..Default::default()
        });

        // In place: an IPv6 network and a description.
        let desc = "  description = \"VPN\"\n";
        env.step(&Step {
            config: with_instance(inst, &rule_hcl("office", "2001:db8::/32", desc)),
            plan: Some(PlanExpect::Changes {
                add: 0,
                change: 1,
                destroy: 0,
            }),
            checks: vec![
                (addr.into(), "cidr".into(), json!("2001:db8::/32")),
                (addr.into(), "description".into(), json!("VPN")),
            ],
            ..Default::default()
        });

        // Replace: name.
        env.step(&Step {
            config: with_instance(inst, &rule_hcl("vpn", "2001:db8::/32", desc)),
            plan: Some(PlanExpect::Changes {
                add: 1,
                change: 0,
                destroy: 1,
            }),
            ..Default::default()
        });

        env.tf_ok(&["state", "rm", addr]);
        env.tf_ok(&["import", "-input=false", "-no-color", addr, "acc-fw/vpn"]);
        env.assert_plan(PlanExpect::Empty);

        let path = format!("/instances/{inst}/firewallRules/vpn");
        assert_eq!(
            env.server
                .api("PATCH", &path, Some(json!({"cidr": "0.0.0.0/0"})))
                .0,
            200
        );
        env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        env.apply_ok();
        assert_eq!(
            env.server.api("GET", &path, None).1["cidr"],
            json!("2001:db8::/32")
        );

        assert_eq!(env.server.api("DELETE", &path, None).0, 204);
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 0,
        });
        env.apply_ok();
        env.finish();
    });
}

/// A malformed CIDR is a plan-time error naming `cidr`, before anything is created.
#[test]
fn firewall_rule_invalid_cidr() {
    for_each_terraform_smoke("firewall_rule_invalid_cidr", |tf| {
        let env = Env::new(tf);
        for bad in ["10.0.0.0/33", "10.0.0/8", "office", "10.0.0.0/08"] {
            env.step(&Step {
                config: with_instance("acc-fwbad", &rule_hcl("office", bad, "")),
                expect_error: Some(r#"Invalid CIDR[\s\S]*cidr"#.into()),
                ..Default::default()
            });
        }
        assert!(env.server.instance_names().is_empty(), "nothing created");
        env.write_config("");
        env.finish();
    });
}
