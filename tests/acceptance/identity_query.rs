//! Resource identity and `terraform query` through the real Terraform CLI: import by identity
//! (`import { identity = … }`, Terraform ≥ 1.12), list resources and configuration generated
//! from them (`terraform query [-generate-config-out]`, Terraform ≥ 1.14). Older CLIs skip.
//!
//! Everything imported or listed here is created through the API, not Terraform, as the
//! objects `terraform query` is for would be.

use serde_json::{Value, json};

use crate::harness::{Env, PROJECT, PlanExpect, Server, count_actions, for_each_terraform};

/// Waits until instance `name` is READY (the test server provisions instantly, but the
/// operation still has to finish before sub-resources can be created).
fn wait_ready(server: &Server, name: &str) {
    let started = std::time::Instant::now();
    while server.instance(name).is_none_or(|i| i["state"] != "READY") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{name} never became READY"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Creates `path` with `body` through the API, asserting one of `ok`.
fn create(server: &Server, path: &str, body: Value, ok: &[u16]) {
    let (status, v) = server.api("POST", path, Some(body));
    assert!(ok.contains(&status), "POST {path}: {status} {v}");
}

fn instance_via_api(server: &Server, name: &str, extra: Value) {
    // The provider's defaults, so that a configuration with only a name matches.
    let mut body = json!({
        "name": name, "engine": "mysql", "tier": "db-small", "storage_gb": 20,
        "admin_password": "Sup3r-secret-pw",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    create(server, "/instances", body, &[202]);
    wait_ready(server, name);
}

/// `terraform plan -out` + `show -json`, asserting it succeeds with imports only (exit 2: an
/// import is a change) and returning the number of imports.
fn assert_plan_imports_only(env: &Env) -> usize {
    let r = env.tf(&[
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        "-out=tfplan",
    ]);
    assert_ne!(
        r.code,
        1,
        "plan failed ({}):\n{}",
        env.tf_version,
        r.combined()
    );
    let show = env.tf_ok(&["show", "-json", "tfplan"]);
    let plan: Value = serde_json::from_str(&show.stdout).expect("plan JSON");
    assert_eq!(
        count_actions(&plan),
        (0, 0, 0),
        "expected imports only ({}):\n{}",
        env.tf_version,
        r.stdout
    );
    let imports = plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rc| !rc["change"]["importing"].is_null())
        .count();
    assert!(
        r.stdout.contains(&format!(
            "Plan: {imports} to import, 0 to add, 0 to change, 0 to destroy"
        )),
        "plan summary ({}):\n{}",
        env.tf_version,
        r.stdout
    );
    imports
}

/// The identity Terraform stored for `addr` (`terraform.tfstate`).
fn stored_identity(env: &Env, addr: &str) -> Value {
    let state = env.raw_state();
    let (ty, name) = addr.split_once('.').expect("address");
    state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["type"] == ty && r["name"] == name)
        .map(|r| r["instances"][0]["identity"].clone())
        .unwrap_or(Value::Null)
}

fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An instance and a database made through the API, imported with `import { identity = … }`
/// (with and without `project`): imports only, then an empty plan; the identities are in state.
/// An identity in another project is a plan error naming both projects, nothing imported.
#[test]
fn identity_import_by_identity() {
    for_each_terraform("identity_import_by_identity", |tf| {
        let env = Env::new(tf);
        if env.tf_older_than(1, 12) {
            eprintln!(
                "SKIP identity_import_by_identity: Terraform {} has no import by identity (1.12+)",
                env.tf_version
            );
            return;
        }
        instance_via_api(&env.server, "acc-idi", json!({}));
        create(
            &env.server,
            "/instances/acc-idi/databases",
            json!({"name": "orders"}),
            &[201],
        );
        let resources = "resource \"clouddb_instance\" \"db\" {\n  name = \"acc-idi\"\n}\n\n\
             resource \"clouddb_database\" \"app\" {\n  instance = clouddb_instance.db.name\n  name     = \"orders\"\n}\n";

        // Another project: refused at plan, naming both.
        env.write_config(&format!(
            "{resources}\nimport {{\n  to       = clouddb_instance.db\n  identity = {{\n    project = \"elsewhere\"\n    name    = \"acc-idi\"\n  }}\n}}\n"
        ));
        let r = env.tf(&["plan", "-input=false", "-no-color"]);
        assert_eq!(
            r.code,
            1,
            "plan with another project ({}):\n{}",
            env.tf_version,
            r.combined()
        );
        let text = flat(&r.combined());
        assert!(
            text.contains("another project")
                && text.contains("\"elsewhere\"")
                && text.contains(&format!("\"{PROJECT}\"")),
            "error should name both projects ({}):\n{}",
            env.tf_version,
            r.combined()
        );
        assert!(
            env.raw_state()["resources"]
                .as_array()
                .is_none_or(|a| a.is_empty())
        );

        // The instance without project, the database with it.
        env.write_config(&format!(
            "{resources}\nimport {{\n  to       = clouddb_instance.db\n  identity = {{\n    name = \"acc-idi\"\n  }}\n}}\n\n\
             import {{\n  to       = clouddb_database.app\n  identity = {{\n    project  = \"{PROJECT}\"\n    instance = \"acc-idi\"\n    name     = \"orders\"\n  }}\n}}\n"
        ));
        assert_eq!(assert_plan_imports_only(&env), 2);
        env.apply_ok();
        assert_eq!(
            stored_identity(&env, "clouddb_instance.db"),
            json!({"project": PROJECT, "name": "acc-idi"})
        );
        assert_eq!(
            stored_identity(&env, "clouddb_database.app"),
            json!({"project": PROJECT, "instance": "acc-idi", "name": "orders"})
        );
        assert_eq!(
            env.state_attr("clouddb_database.app", "id"),
            json!("acc-idi/orders")
        );
        env.finish();
    });
}

const QUERY_FILE: &str = "search.tfquery.hcl";

/// Objects of every type made through the API; `terraform query` lists them (filters and a
/// limit honoured); `-generate-config-out` writes import blocks and configuration that plan as
/// imports only; apply, an empty plan, and destroy leaves the server empty.
#[test]
fn identity_query_lists_and_generates_config() {
    for_each_terraform("identity_query_lists_and_generates_config", |tf| {
        let env = Env::new(tf);
        if env.tf_older_than(1, 14) {
            eprintln!(
                "SKIP identity_query_lists_and_generates_config: Terraform {} has no `terraform query` (1.14+)",
                env.tf_version
            );
            return;
        }
        let s = &env.server;
        instance_via_api(
            s,
            "acc-q1",
            json!({"engine": "postgres", "labels": {"team": "data"}}),
        );
        instance_via_api(s, "acc-q2", json!({}));
        create(
            s,
            "/instances/acc-q1/databases",
            json!({"name": "orders"}),
            &[201],
        );
        create(
            s,
            "/instances/acc-q1/users",
            json!({"name": "app", "password": "Sup3r-secret-pw", "roles": ["readwrite"]}),
            &[201],
        );
        create(
            s,
            "/instances/acc-q1/firewallRules",
            json!({"name": "office", "cidr": "203.0.113.0/24", "description": "HQ"}),
            &[201],
        );
        create(
            s,
            "/instances/acc-q1/backups",
            json!({"name": "acc-q1-snap"}),
            &[201],
        );
        env.write_config("");

        // What exists, with filters and a limit.
        let children = "list \"clouddb_database\" \"dbs\" {\n  provider = clouddb\n  config {\n    instance = \"acc-q1\"\n  }\n}\n\n\
             list \"clouddb_user\" \"users\" {\n  provider = clouddb\n  config {\n    instance = \"acc-q1\"\n  }\n}\n\n\
             list \"clouddb_firewall_rule\" \"rules\" {\n  provider = clouddb\n  config {\n    instance = \"acc-q1\"\n  }\n}\n\n\
             list \"clouddb_backup\" \"backups\" {\n  provider = clouddb\n  config {\n    instance = \"acc-q1\"\n  }\n}\n";
        std::fs::write(
            env.work.join(QUERY_FILE),
            format!(
                "list \"clouddb_instance\" \"pg\" {{\n  provider = clouddb\n  config {{\n    engine = \"postgres\"\n    labels = {{ team = \"data\" }}\n    state  = \"READY\"\n  }}\n}}\n\n\
                 list \"clouddb_instance\" \"one\" {{\n  provider = clouddb\n  limit    = 1\n}}\n\n{children}"
            ),
        )
        .expect("write query file");
        let r = env.tf_ok(&["query", "-no-color"]);
        let lines: Vec<&str> = r.stdout.lines().collect();
        let listed = |block: &str, what: &str| {
            lines
                .iter()
                .any(|l| l.starts_with(block) && l.contains(what))
        };
        for (block, what) in [
            ("list.clouddb_instance.pg", "acc-q1"),
            ("list.clouddb_database.dbs", "acc-q1/orders"),
            ("list.clouddb_user.users", "acc-q1/app"),
            ("list.clouddb_firewall_rule.rules", "acc-q1/office"),
            ("list.clouddb_backup.backups", "acc-q1-snap"),
        ] {
            assert!(
                listed(block, what),
                "{block} should list {what} ({}):\n{}",
                env.tf_version,
                r.stdout
            );
        }
        assert!(
            !listed("list.clouddb_instance.pg", "acc-q2"),
            "the filters exclude acc-q2 ({}):\n{}",
            env.tf_version,
            r.stdout
        );
        let one = lines
            .iter()
            .filter(|l| l.starts_with("list.clouddb_instance.one"))
            .count();
        assert_eq!(one, 1, "limit = 1 ({}):\n{}", env.tf_version, r.stdout);

        // Generated configuration: every object once (the instances unfiltered).
        std::fs::write(
            env.work.join(QUERY_FILE),
            format!("list \"clouddb_instance\" \"all\" {{\n  provider = clouddb\n}}\n\n{children}"),
        )
        .expect("write query file");
        env.tf_ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
        let generated =
            std::fs::read_to_string(env.work.join("generated.tf")).expect("generated.tf");
        for want in ["acc-q1", "acc-q2", "orders", "app", "office", "acc-q1-snap"] {
            assert!(
                generated.contains(want),
                "generated.tf lacks {want}:\n{generated}"
            );
        }
        assert!(
            !generated.contains("Sup3r-secret-pw")
                && generated.contains("admin_password            = null # sensitive")
                && generated.contains("password            = null # sensitive"),
            "secrets are left out (Terraform writes them as null):\n{generated}"
        );
        assert_eq!(
            assert_plan_imports_only(&env),
            6,
            "generated.tf:\n{generated}"
        );
        env.apply_ok();
        assert_eq!(
            stored_identity(
                &env,
                &format!(
                    "clouddb_firewall_rule.{}",
                    generated_name(&generated, "clouddb_firewall_rule")
                )
            ),
            json!({"project": PROJECT, "instance": "acc-q1", "name": "office"})
        );
        env.assert_plan(PlanExpect::Empty);
        // Destroy; the harness checks that no instance and no on-demand backup is left.
        env.finish();
    });
}

/// The name of the first generated resource of `ty`.
fn generated_name(generated: &str, ty: &str) -> String {
    let prefix = format!("resource \"{ty}\" \"");
    generated
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no {ty} in generated.tf:\n{generated}"))
        .to_string()
}
