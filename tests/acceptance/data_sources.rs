//! The data sources (`clouddb_instance`, `clouddb_instances`, `clouddb_engine_versions`,
//! `clouddb_tiers`, `clouddb_backups`) through the real Terraform CLI: results against what the API
//! says, lookups of what does not exist, filters and pagination.

use serde_json::{Value, json};

use crate::harness::{Env, PROJECT, Server, for_each_terraform_smoke};

/// Creates instances through the API (not Terraform), each with the create body `body(name)`, and
/// returns their names.
pub(crate) fn create_instances_via_api(
    server: &Server,
    names: impl IntoIterator<Item = String>,
    body: impl Fn(&str) -> Value,
) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let (status, v) = server.api("POST", "/instances", Some(body(&name)));
        assert_eq!(status, 202, "create {name}: {v}");
        out.push(name);
    }
    out
}

/// Deletes instances through the API without a final backup, and waits until they are gone.
pub(crate) fn delete_instances_via_api(server: &Server, names: &[String]) {
    for name in names {
        let (status, v) = server.api(
            "DELETE",
            &format!("/instances/{name}?skip_final_backup=true"),
            None,
        );
        assert!(
            status == 202 || status == 404,
            "delete {name}: {status} {v}"
        );
    }
    let started = std::time::Instant::now();
    for name in names {
        while server.instance(name).is_some() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{name} was never deleted"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// Every backup name the server holds for the test project (all pages).
pub(crate) fn backup_names(server: &Server) -> Vec<String> {
    let (status, v) = server.api("GET", "/backups?page_size=500", None);
    assert_eq!(status, 200, "list backups: {v}");
    v["backups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["name"].as_str().map(str::to_string))
        .collect()
}

/// A public catalogue call (`/v1/...`, outside the project).
fn catalogue(server: &Server, path: &str) -> Value {
    let (status, v) = server.call("GET", path, crate::harness::TOKEN, None);
    assert_eq!(status, 200, "{path}: {v}");
    v
}

const READ_ALL: &str = r#"
resource "clouddb_instance" "db" {
  name              = "acc-ds"
  tier              = "db-small"
  storage_gb        = 20
  skip_final_backup = true
  labels = {
    team = "acc-ds"
  }
}

data "clouddb_instance" "db" {
  name = clouddb_instance.db.id
}

data "clouddb_instances" "team" {
  labels = {
    team = "acc-ds"
  }
  depends_on = [clouddb_instance.db]
}

data "clouddb_engine_versions" "mysql" {
  engine = "mysql"
}

data "clouddb_tiers" "all" {}

data "clouddb_backups" "db" {
  instance = clouddb_instance.db.id
}

output "endpoint" {
  value = "${data.clouddb_instance.db.endpoint_host}:${data.clouddb_instance.db.endpoint_port}"
}

output "team_names" {
  value = [for i in data.clouddb_instances.team.instances : i.name]
}

output "mysql_default" {
  value = data.clouddb_engine_versions.mysql.default_version
}

output "backup_names" {
  value = [for b in data.clouddb_backups.db.backups : b.name]
}
"#;

/// Each data source read in one configuration with an instance: the values equal the API's
/// (the instance, the catalogue, a backup taken out of band), the instance data source carries
/// no secret, and a second plan is empty.
#[test]
fn data_sources_read() {
    for_each_terraform_smoke("data_sources_read", |tf| {
        let env = Env::new(tf);
        env.write_config(READ_ALL);
        env.apply_ok();
        let st = env.state();
        let inst = &st["data.clouddb_instance.db"];
        let api = env.server.instance("acc-ds").expect("instance exists");
        assert_eq!(inst["id"], json!("acc-ds"));
        for attr in [
            "name",
            "engine",
            "engine_version",
            "engine_version_actual",
            "tier",
            "storage_gb",
            "high_availability",
            "admin_username",
            "labels",
            "deletion_protection",
            "backup",
            "state",
            "created_at",
        ] {
            assert_eq!(inst[attr], api[attr], "data.clouddb_instance.db.{attr}");
        }
        assert_eq!(inst["endpoint_host"], api["endpoint"]["host"]);
        assert_eq!(inst["endpoint_port"], api["endpoint"]["port"]);
        assert_eq!(inst["state"], json!("READY"));
        assert_eq!(inst["restore_from_backup"], Value::Null, "created empty");
        for secret_or_resource_only in [
            "admin_password",
            "admin_password_wo",
            "admin_password_wo_version",
            "timeouts",
            "skip_final_backup",
        ] {
            assert!(
                inst.get(secret_or_resource_only).is_none(),
                "data.clouddb_instance has {secret_or_resource_only}: {inst}"
            );
        }

        let team = &st["data.clouddb_instances.team"]["instances"];
        assert_eq!(
            team,
            &json!([{
                "name": "acc-ds", "engine": api["engine"], "engine_version_actual": api["engine_version_actual"],
                "tier": "db-small", "storage_gb": 20, "state": "READY",
                "endpoint_host": api["endpoint"]["host"], "endpoint_port": api["endpoint"]["port"],
                "labels": {"team": "acc-ds"},
            }])
        );

        let versions = catalogue(&env.server, "/v1/engineVersions?engine=mysql");
        let want: Vec<Value> = versions["engine_versions"]
            .as_array()
            .expect("versions")
            .iter()
            .map(|v| json!({"version": v["version"], "actual_version": v["actual_version"], "default": v["default"]}))
            .collect();
        let ev = &st["data.clouddb_engine_versions.mysql"];
        assert_eq!(ev["versions"], json!(want));
        assert_eq!(ev["default_version"], json!("8.0"));

        let tiers = catalogue(&env.server, "/v1/tiers");
        assert_eq!(st["data.clouddb_tiers.all"]["tiers"], tiers["tiers"]);
        assert_eq!(st["data.clouddb_backups.db"]["backups"], json!([]));

        let out = outputs(&env);
        assert_eq!(
            out["endpoint"],
            json!(format!(
                "{}:{}",
                api["endpoint"]["host"].as_str().unwrap_or_default(),
                api["endpoint"]["port"]
            ))
        );
        assert_eq!(out["team_names"], json!(["acc-ds"]));
        assert_eq!(out["mysql_default"], json!("8.0"));

        // A backup taken out of band shows up at the next read, with the API's values.
        let (status, b) = env.server.api(
            "POST",
            "/instances/acc-ds/backups",
            Some(json!({"name": "acc-ds-manual", "description": "by hand"})),
        );
        assert_eq!(status, 201, "{b}");
        env.apply_ok();
        let backups = &env.state()["data.clouddb_backups.db"]["backups"];
        assert_eq!(
            backups,
            &json!([{
                "name": "acc-ds-manual", "instance": "acc-ds", "description": "by hand",
                "type": "ON_DEMAND", "state": "READY", "size_bytes": b["size_bytes"],
                "engine": b["engine"], "engine_version": b["engine_version"], "created_at": b["created_at"],
            }])
        );
        assert_eq!(outputs(&env)["backup_names"], json!(["acc-ds-manual"]));

        let (status, _) = env.server.api("DELETE", "/backups/acc-ds-manual", None);
        assert_eq!(status, 204);
        // Destroyed with skip_final_backup: nothing is left behind, backups included.
        env.tf_ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        assert_eq!(backup_names(&env.server), Vec::<String>::new());
        env.finish();
    });
}

/// `terraform output -json` as `{name: value}`.
fn outputs(env: &Env) -> Value {
    let r = env.tf_ok(&["output", "-json"]);
    let v: Value = serde_json::from_str(&r.stdout).expect("outputs JSON");
    let mut out = serde_json::Map::new();
    for (k, o) in v.as_object().into_iter().flatten() {
        out.insert(k.clone(), o["value"].clone());
    }
    Value::Object(out)
}

/// What does not exist is an error naming what was looked up: an instance name (also on the
/// `name` line), an engine (on the `engine` line). Nothing reaches state.
#[test]
fn data_sources_lookup_errors() {
    for_each_terraform_smoke("data_sources_lookup_errors", |tf| {
        let env = Env::new(tf);
        env.write_config("data \"clouddb_instance\" \"x\" {\n  name = \"acc-nope\"\n}\n");
        // Terraform prints the attribute's line between the summary and the detail.
        env.apply_err(&format!(
            r#"CloudDB instance not found[\s\S]*name = "acc-nope"[\s\S]*no instance named acc-nope in project {PROJECT}"#
        ));
        env.write_config("data \"clouddb_engine_versions\" \"x\" {\n  engine = \"oracle\"\n}\n");
        env.apply_err(
            r#"Unknown CloudDB engine[\s\S]*engine = "oracle"[\s\S]*no engine named "oracle""#,
        );
        // A bad filter value is refused before anything is read.
        env.write_config("data \"clouddb_instances\" \"x\" {\n  state = \"ready\"\n}\n");
        env.apply_err(r#"state[\s\S]*READY"#);
        assert!(env.state().is_empty(), "{:?}", env.state());
        // A valid configuration again, so that destroy can plan.
        env.write_config("");
        env.finish();
    });
}

/// `clouddb_instances` follows the API's pages to the end (more instances than one page of the
/// client holds) and applies engine, label (all must match) and state filters.
#[test]
fn data_sources_instances_filters_and_pages() {
    for_each_terraform_smoke("data_sources_instances_filters_and_pages", |tf| {
        let env = Env::new(tf);
        const N: usize = 103;
        let names = create_instances_via_api(
            &env.server,
            (0..N).map(|i| format!("acc-p-{i:03}")),
            |name| {
                let i: usize = name.trim_start_matches("acc-p-").parse().unwrap_or(0);
                json!({
                    "name": name,
                    "engine": if i.is_multiple_of(4) { "postgres" } else { "mysql" },
                    "tier": "db-micro",
                    "storage_gb": 10,
                    "labels": {"batch": "p", "parity": if i.is_multiple_of(2) { "even" } else { "odd" }},
                })
            },
        );
        let hcl = r#"
data "clouddb_instances" "all" {}

data "clouddb_instances" "even" {
  labels = {
    batch  = "p"
    parity = "even"
  }
}

data "clouddb_instances" "pg_even" {
  engine = "postgres"
  labels = {
    parity = "even"
  }
}

data "clouddb_instances" "ready" {
  state = "READY"
}

data "clouddb_instances" "none" {
  labels = {
    batch = "q"
  }
}

output "counts" {
  value = {
    all     = length(data.clouddb_instances.all.instances)
    even    = length(data.clouddb_instances.even.instances)
    pg_even = length(data.clouddb_instances.pg_even.instances)
    ready   = length(data.clouddb_instances.ready.instances)
    none    = length(data.clouddb_instances.none.instances)
  }
}

output "all_names" {
  value = [for i in data.clouddb_instances.all.instances : i.name]
}

output "pg_even_names" {
  value = [for i in data.clouddb_instances.pg_even.instances : i.name]
}
"#;
        // Creates finish instantly, but only on the server's next look at them.
        for n in &names {
            let started = std::time::Instant::now();
            while env.server.instance(n).is_none_or(|i| i["state"] != "READY") {
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(30),
                    "{n} not READY"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        env.write_config(hcl);
        env.apply_ok();
        let out = outputs(&env);
        assert_eq!(
            out["counts"],
            json!({"all": N, "even": 52, "pg_even": 26, "ready": N, "none": 0})
        );
        // Every instance once, in name order, across the page boundary.
        assert_eq!(out["all_names"], json!(names));
        let pg_even: Vec<String> = (0..N)
            .filter(|i| i.is_multiple_of(4))
            .map(|i| format!("acc-p-{i:03}"))
            .collect();
        assert_eq!(out["pg_even_names"], json!(pg_even));
        delete_instances_via_api(&env.server, &names);
        env.finish();
    });
}
