//! Everything under `examples/` validates, and the examples that are meant to be applied apply as
//! written.

use serde_json::{Value, json};

use crate::harness::{
    Env, PROJECT, PlanExpect, for_each_terraform, for_each_terraform_smoke, resource_change,
};

/// The Terraform version an example file needs, from a first line `# terraform >= MAJOR.MINOR…`
/// (write-only arguments need 1.11, ephemeral resources 1.10, provider functions 1.8).
fn required_version(file: &std::path::Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(file).ok()?;
    let rest = text.lines().next()?.strip_prefix("# terraform >= ")?;
    let version = rest
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?;
    let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??))
}

/// Every example under examples/ passes `terraform validate`: the provider, quickstart and seed
/// folders, and every folder under `resources/`, `data-sources/`, `ephemeral-resources/` and
/// `functions/`, `actions/` and `list-resources/` (query files, with `validate -query`) (found, not listed, so a new type's example is covered the day it lands; those get
/// a required_providers block, as a user's root module would have). An example whose first line
/// reads `# terraform >= X.Y` is skipped on older CLIs.
#[test]
fn examples_validate() {
    for_each_terraform_smoke("examples_validate", |tf| {
        let env = Env::new(tf);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let versions = "terraform {\n  required_providers {\n    clouddb = {\n      source = \"clouddb/clouddb\"\n    }\n  }\n}\n";
        let mut cases: Vec<(String, bool)> = ["provider", "quickstart", "seed", "app-stack"]
            .iter()
            .filter(|d| root.join(d).is_dir())
            .map(|d| (d.to_string(), false))
            .collect();
        for group in [
            "resources",
            "data-sources",
            "ephemeral-resources",
            "functions",
            "actions",
            "list-resources",
        ] {
            let mut dirs: Vec<String> = std::fs::read_dir(root.join(group))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| format!("{group}/{}", e.file_name().to_string_lossy()))
                .collect();
            dirs.sort();
            cases.extend(dirs.into_iter().map(|d| (d, true)));
        }
        assert!(
            cases.len() >= 4,
            "examples not found under {}",
            root.display()
        );
        for (dir, add_versions) in &cases {
            let files: Vec<std::path::PathBuf> = std::fs::read_dir(root.join(dir))
                .expect("read example dir")
                .flatten()
                .map(|e| e.path())
                .filter(|p| is_config_file(p))
                .collect();
            // Query files (`.tfquery.hcl`) are read from Terraform 1.14 on, by `validate -query`.
            let query = files.iter().any(|f| is_query_file(f));
            let needs = files
                .iter()
                .filter_map(|f| required_version(f))
                .chain(query.then_some((1, 14)))
                .max();
            if let Some((major, minor)) = needs
                && env.tf_older_than(major, minor)
            {
                eprintln!("skipping {dir}: needs Terraform {major}.{minor}");
                continue;
            }
            let _ = std::fs::remove_dir_all(env.work.join(".terraform"));
            for entry in std::fs::read_dir(&env.work)
                .expect("read work dir")
                .flatten()
            {
                if is_config_file(&entry.path()) {
                    std::fs::remove_file(entry.path()).expect("clean");
                }
            }
            for f in &files {
                let name = f.file_name().expect("file name");
                std::fs::copy(f, env.work.join(name)).expect("copy example");
            }
            if *add_versions {
                std::fs::write(env.work.join("versions.tf"), versions).expect("versions.tf");
            }
            env.tf_ok(&["init", "-input=false", "-no-color", "-backend=false"]);
            let run = if query {
                env.tf(&["validate", "-no-color", "-query"])
            } else {
                env.tf(&["validate", "-no-color"])
            };
            assert!(
                run.code == 0,
                "examples/{dir} does not validate:\n{}",
                run.combined()
            );
        }
        // Nothing was applied: skip the destroy in finish().
        let _ = std::fs::remove_dir_all(env.work.join(".terraform"));
        assert!(env.server.instance_names().is_empty());
        env.finish();
    });
}

fn is_query_file(p: &std::path::Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(".tfquery.hcl"))
}

/// A file Terraform reads as configuration: `.tf`, or a query file.
fn is_config_file(p: &std::path::Path) -> bool {
    p.extension().is_some_and(|e| e == "tf") || is_query_file(p)
}

/// Copies the `.tf` files under `from` to `to` (same layout), leaving out those that need a newer
/// Terraform than `env`'s (an old CLI cannot even parse `provider::clouddb::f(…)`).
fn copy_examples_for(env: &Env, from: &std::path::Path, to: &std::path::Path) {
    for e in std::fs::read_dir(from).expect("read examples").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_examples_for(env, &p, &to.join(e.file_name()));
        } else if p.extension().is_some_and(|x| x == "tf")
            && required_version(&p).is_none_or(|(a, b)| !env.tf_older_than(a, b))
        {
            std::fs::create_dir_all(to).expect("examples copy dir");
            std::fs::copy(&p, to.join(e.file_name())).expect("copy example");
        }
    }
}

/// Every `.tf` file under examples/ is in canonical `terraform fmt` style (on older CLIs, every
/// file they can parse).
#[test]
fn examples_formatted() {
    for_each_terraform("examples_formatted", |tf| {
        let env = Env::new(tf);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let copy = env.dir.path().join("examples-for-this-cli");
        copy_examples_for(&env, &root, &copy);
        let root = copy.to_string_lossy().into_owned();
        let run = env.tf(&["fmt", "-check", "-recursive", "-diff", "-no-color", &root]);
        assert_eq!(
            run.code,
            0,
            "examples are not formatted:\n{}",
            run.combined()
        );
        env.finish();
    });
}

/// examples/quickstart creates two instances and outputs their endpoints.
#[test]
fn examples_quickstart() {
    for_each_terraform_smoke("examples_quickstart", |tf| {
        let env = Env::new(tf);
        let hcl = include_str!("../../examples/quickstart/main.tf");
        std::fs::write(env.work.join("main.tf"), hcl).expect("write quickstart");
        env.tf_ok(&["init", "-input=false", "-no-color"]);
        env.apply_ok();
        let mut names = env.server.instance_names();
        names.sort();
        assert_eq!(
            names,
            vec![
                "quickstart-analytics".to_string(),
                "quickstart-app".to_string()
            ]
        );
        let out = env.tf_ok(&["output", "-json"]);
        let out: Value = serde_json::from_str(&out.stdout).expect("outputs JSON");
        for o in ["app_endpoint", "analytics_endpoint"] {
            let v = out[o]["value"].as_str().unwrap_or_default().to_string();
            let (host, port) = v.rsplit_once(':').unwrap_or_default();
            assert!(
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
                "{o} = {v:?}"
            );
        }
        env.finish();
    });
}

/// `examples/resources/clouddb_instance/resource.tf`, with `examples/provider/provider.tf` as its provider
/// block (pointed at the test's server and project), is applied as written: one create, an empty second
/// plan, the values it sets in state and its output. Deletion protection (on in the example) is then
/// turned off, and everything is destroyed — with the final backup the example names.
#[test]
fn examples_resource_applies() {
    for_each_terraform("examples_resource_applies", |tf| {
        let mut env = Env::new(tf);
        env.extra_env
            .insert("TF_VAR_admin_password".into(), "Example-passw0rd".into());
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let provider_tf = std::fs::read_to_string(root.join("provider/provider.tf"))
            .expect("read provider example");
        let resource_tf =
            std::fs::read_to_string(root.join("resources/clouddb_instance/resource.tf"))
                .expect("read resource example");
        assert!(
            provider_tf.contains("\"http://127.0.0.1:8080\"")
                && provider_tf.contains("\"my-project\""),
            "examples/provider/provider.tf changed; update this test"
        );
        let provider_tf = provider_tf
            .replace("http://127.0.0.1:8080", &env.server.endpoint)
            .replace("\"my-project\"", &format!("\"{PROJECT}\""));
        std::fs::write(env.work.join("provider.tf"), provider_tf).expect("write provider.tf");
        std::fs::write(env.work.join("resource.tf"), &resource_tf).expect("write resource.tf");
        env.tf_ok(&["init", "-input=false", "-no-color"]);

        let addr = "clouddb_instance.example";
        env.assert_plan(PlanExpect::Changes {
            add: 1,
            change: 0,
            destroy: 0,
        });
        env.apply_ok(); // also asserts the second plan is empty
        for (attr, want) in [
            ("name", json!("orders-db")),
            ("engine", json!("postgres")),
            ("engine_version", json!("16")),
            ("tier", json!("db-standard-2")),
            ("storage_gb", json!(100)),
            ("high_availability", json!(true)),
            ("admin_username", json!("dbadmin")),
            ("deletion_protection", json!(true)),
            ("labels", json!({"team": "orders"})),
            ("backup.enabled", json!(true)),
            ("backup.start_time", json!("02:30")),
            ("backup.retention_days", json!(14)),
            ("skip_final_backup", json!(false)),
            ("final_backup_name", json!("orders-db-final")),
            ("timeouts.create", json!("45m")),
            ("state", json!("READY")),
        ] {
            assert_eq!(
                env.state_attr(addr, attr),
                want,
                "{addr}.{attr} ({})",
                env.tf_version
            );
        }
        let inst = env
            .server
            .instance("orders-db")
            .expect("created on the server");
        assert_eq!(inst["tier"], json!("db-standard-2"));
        assert_eq!(inst["high_availability"], json!(true));
        let out = env.tf_ok(&["output", "-json"]);
        let out: Value = serde_json::from_str(&out.stdout).expect("outputs JSON");
        let endpoint = out["orders_db_endpoint"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let (host, port) = endpoint.rsplit_once(':').unwrap_or_default();
        assert!(
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
            "orders_db_endpoint = {endpoint:?}"
        );

        // examples/resources/clouddb_instance/import.sh: forget the instance, import it by name as the
        // script does, and the plan is empty again.
        let script = std::fs::read_to_string(root.join("resources/clouddb_instance/import.sh"))
            .expect("read import example");
        let import: Vec<&str> = script
            .lines()
            .find_map(|l| l.trim().strip_prefix("terraform "))
            .expect("a terraform command in import.sh")
            .split_whitespace()
            .collect();
        assert_eq!(import.first(), Some(&"import"), "{script}");
        env.tf_ok(&["state", "rm", addr]);
        let mut args = vec!["import", "-input=false", "-no-color"];
        args.extend(&import[1..]);
        env.tf_ok(&args);
        // The API never returns the password, the destroy-only settings or the timeouts, so (as with
        // any provider) the first plan after an import sets exactly those in place; then it is empty.
        let plan = env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        let change = &resource_change(&plan, addr)["change"];
        let mut changed: Vec<String> = change["after"]
            .as_object()
            .map(|after| {
                after
                    .iter()
                    .filter(|(k, v)| change["before"][k.as_str()] != **v)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        changed.sort();
        assert_eq!(
            changed,
            vec!["admin_password", "final_backup_name", "timeouts"],
            "({}) {change}",
            env.tf_version
        );
        env.apply_ok();

        // The example protects the instance; destroying needs that switched off first.
        let unprotected =
            resource_tf.replace("deletion_protection = true", "deletion_protection = false");
        assert_ne!(
            unprotected, resource_tf,
            "the example sets deletion_protection = true"
        );
        std::fs::write(env.work.join("resource.tf"), unprotected).expect("write resource.tf");
        env.assert_plan(PlanExpect::Changes {
            add: 0,
            change: 1,
            destroy: 0,
        });
        env.apply_ok();
        // Destroy takes the final backup the example names.
        env.tf_ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        assert!(env.server.instance("orders-db").is_none());
        let (status, backups) = env.server.api("GET", "/backups", None);
        assert_eq!(status, 200, "{backups}");
        assert!(
            backups.to_string().contains("orders-db-final"),
            "no final backup named orders-db-final: {backups}"
        );
        env.finish();
    });
}

/// The seed's example, `examples/seed/main.tf`, (with `extra` lines added to its resource) applied as
/// written: one create, an empty second plan, the defaults in state and on the server, destroy.
fn seed_example_applies(env: &Env, extra: &str, engine: &str, engine_version: &str) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let hcl = std::fs::read_to_string(root.join("seed/main.tf")).expect("read seed example");
    let line = "  name = \"orders\"\n";
    assert!(
        hcl.contains(line),
        "examples/seed/main.tf changed; update this test"
    );
    std::fs::write(
        env.work.join("main.tf"),
        hcl.replace(line, &format!("{line}{extra}")),
    )
    .expect("write main.tf");
    env.tf_ok(&["init", "-input=false", "-no-color"]);
    env.assert_plan(PlanExpect::Changes {
        add: 1,
        change: 0,
        destroy: 0,
    });
    env.apply_ok(); // also asserts the second plan is empty
    let addr = "clouddb_instance.db";
    for (attr, want) in [
        ("id", json!("orders")),
        ("name", json!("orders")),
        ("engine", json!(engine)),
        ("engine_version", json!(engine_version)),
        ("tier", json!("db-small")),
        ("storage_gb", json!(20)),
        ("state", json!("READY")),
    ] {
        assert_eq!(
            env.state_attr(addr, attr),
            want,
            "{addr}.{attr} ({})",
            env.tf_version
        );
    }
    let inst = env
        .server
        .instance("orders")
        .expect("created on the server");
    assert_eq!(inst["engine"], json!(engine));
    assert_eq!(inst["tier"], json!("db-small"));
    assert_eq!(inst["storage_gb"], json!(20));
}

/// `examples/seed/main.tf` as written: `name = "orders"` and nothing else.
#[test]
fn examples_seed_name_only() {
    for_each_terraform_smoke("examples_seed_name_only", |tf| {
        let env = Env::new(tf);
        seed_example_applies(&env, "", "mysql", "8.0");
        env.finish();
    });
}

/// The seed's example with `engine = "postgres"` added.
#[test]
fn examples_seed_postgres() {
    for_each_terraform_smoke("examples_seed_postgres", |tf| {
        let env = Env::new(tf);
        seed_example_applies(&env, "  engine = \"postgres\"\n", "postgres", "16");
        env.finish();
    });
}

/// examples/app-stack applies as written with `-parallelism=10`: an instance with two databases, two
/// users (one with a write-only password), a firewall rule, a backup and an instance restored
/// from it, which holds the source's databases and users. The second plan is empty; destroy goes
/// in dependency order and leaves nothing on the server, backups included. Terraform 1.11+.
#[test]
fn examples_app_stack() {
    for_each_terraform_smoke("examples_app_stack", |tf| {
        let mut env = Env::new(tf);
        if env.tf_older_than(1, 11) {
            eprintln!("skipping: examples/app-stack needs Terraform 1.11 (write-only arguments)");
            return;
        }
        env.extra_env
            .insert("TF_VAR_app_password".into(), "app-stack-Secret-1".into());
        let hcl = include_str!("../../examples/app-stack/main.tf");
        std::fs::write(env.work.join("main.tf"), hcl).expect("write app-stack");
        env.tf_ok(&["init", "-input=false", "-no-color"]);
        env.tf_ok(&[
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-parallelism=10",
        ]);
        env.assert_plan(PlanExpect::Empty);

        let names = |path: &str, key: &str| -> Vec<String> {
            let (status, v) = env.server.api("GET", path, None);
            assert_eq!(status, 200, "GET {path}: {v}");
            let mut out: Vec<String> = v[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x["name"].as_str().map(str::to_string))
                .collect();
            out.sort();
            out
        };
        for inst in ["app-stack-db", "app-stack-restored"] {
            assert_eq!(
                names(&format!("/instances/{inst}/databases"), "databases"),
                ["analytics", "orders"],
                "{inst}"
            );
            assert_eq!(
                names(&format!("/instances/{inst}/users"), "users"),
                ["app", "reporting"],
                "{inst}"
            );
        }
        let restored = env.server.instance("app-stack-restored").expect("restored");
        assert_eq!(
            restored["engine"],
            json!("postgres"),
            "engine from the backup"
        );
        assert_eq!(
            restored["restored_from_backup"],
            json!("app-stack-baseline")
        );
        let rule = env
            .server
            .api(
                "GET",
                "/instances/app-stack-db/firewallRules/internal",
                None,
            )
            .1;
        assert_eq!(rule["cidr"], json!("10.0.0.0/8"));
        let out = env.tf_ok(&["output", "-json"]);
        let out: Value = serde_json::from_str(&out.stdout).expect("outputs JSON");
        for o in ["endpoint", "restored_endpoint"] {
            let v = out[o]["value"].as_str().unwrap_or_default().to_string();
            let (host, port) = v.rsplit_once(':').unwrap_or_default();
            assert!(
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
                "{o} = {v:?}"
            );
        }
        let state = std::fs::read_to_string(env.work.join("terraform.tfstate")).expect("state");
        assert!(
            !state.contains("app-stack-Secret-1"),
            "write-only password in state"
        );

        // Destroy in dependency order: the restored instance before its backup, the backup and
        // every child before the source instance.
        let before = env.server.requests().len();
        env.tf_ok(&[
            "destroy",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-parallelism=10",
        ]);
        let deletes: Vec<String> = env.server.requests()[before..]
            .iter()
            .filter(|r| r["method"] == "DELETE" && r["status"].as_u64().is_some_and(|s| s < 300))
            .filter_map(|r| r["path"].as_str().map(str::to_string))
            .collect();
        let at = |suffix: &str| {
            deletes
                .iter()
                .position(|p| p.ends_with(suffix))
                .unwrap_or_else(|| panic!("no DELETE …{suffix} in {deletes:?}"))
        };
        assert!(at("/instances/app-stack-restored") < at("/backups/app-stack-baseline"));
        for child in [
            "/backups/app-stack-baseline",
            "/databases/orders",
            "/users/app",
            "/firewallRules/internal",
        ] {
            assert!(
                at(child) < at("/instances/app-stack-db"),
                "{child} after the instance: {deletes:?}"
            );
        }
        let (status, backups) = env.server.api("GET", "/backups", None);
        assert_eq!(status, 200);
        assert_eq!(
            backups["backups"],
            json!([]),
            "no backup of any kind is left"
        );
        env.finish();
    });
}
