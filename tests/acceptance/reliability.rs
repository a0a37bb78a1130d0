//! Reliability under termination: what happens to an accepted create when the provider process itself
//! is told to go away.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{self, Env, ServerOpts, for_each_terraform};

/// The pids of processes descending from `root` whose executable is the provider binary.
fn provider_pids(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // "pid (comm) state ppid ..."; comm may contain spaces, so split after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut family = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for (pid, ppid) in &parent_of {
            if family.contains(ppid) && !family.contains(pid) {
                family.push(*pid);
                grew = true;
            }
        }
    }
    family
        .into_iter()
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .and_then(|p: PathBuf| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .is_some_and(|n| n.starts_with("terraform-provider-clouddb"))
        })
        .collect()
}

/// SIGTERM to the provider while it waits for an accepted create: the provider fires its stop signal
/// first, so the create returns the instance as (tainted) partial state before the process exits,
/// instead of being dropped mid-wait and orphaning the instance.
#[test]
fn sigterm_during_create_keeps_instance_in_state() {
    for_each_terraform("sigterm_during_create_keeps_instance_in_state", |tf| {
        let env = Env::with_server(
            tf,
            ServerOpts {
                provision_time: 3600,
                ..Default::default()
            },
        );
        env.write_config(&crate::instance::instance_hcl("acc-term", ""));
        let mut child = env.spawn_apply_until_created("acc-term");
        let pids = provider_pids(child.0.id());
        assert!(!pids.is_empty(), "no provider process under terraform");
        for pid in &pids {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let signalled = Instant::now();
        let exit = loop {
            if let Some(s) = child.0.try_wait().expect("wait") {
                break s;
            }
            assert!(
                signalled.elapsed() < Duration::from_secs(30),
                "terraform did not finish after the provider got SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(!exit.success(), "the interrupted apply should fail");
        let raw = env.raw_state();
        let inst = raw["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["type"] == "clouddb_instance"))
            .map(|r| r["instances"][0].clone())
            .unwrap_or(Value::Null);
        assert_eq!(
            inst["attributes"]["name"],
            json!("acc-term"),
            "instance missing from state after SIGTERM: {raw}"
        );
        assert_eq!(inst["status"], json!("tainted"), "{raw}");
        env.server.admin(
            "POST",
            "/admin/clock",
            Some(json!({"advance_seconds": 3700})),
        );
        env.finish();
    });
}

/// A create the API committed but whose every answer was lost (all retries dropped) is ambiguous:
/// the provider looks the instance up, proves by its `creation_token` that this request created
/// it, and records it as tainted state instead of orphaning it. The next apply replaces it, and
/// the server never holds more than one instance of that name.
#[test]
fn reliability_ambiguous_create_is_recorded_not_orphaned() {
    for_each_terraform(
        "reliability_ambiguous_create_is_recorded_not_orphaned",
        |tf| {
            let env = Env::new(tf);
            let hcl = "terraform {\n  required_providers {\n    clouddb = {\n      source = \"clouddb/clouddb\"\n    }\n  }\n}\n\nprovider \"clouddb\" {\n  poll_interval = \"100ms\"\n  max_retries   = 1\n}\n\nresource \"clouddb_instance\" \"db\" {\n  name = \"acc-ambiguous\"\n}\n";
            std::fs::write(env.work.join("main.tf"), hcl).expect("write main.tf");
            env.tf_ok(&["init", "-input=false", "-no-color"]);
            let path = format!("/v1/projects/{}/instances", harness::PROJECT);
            env.server.fault(json!({"kind": "drop_response", "method": "POST", "path_prefix": path, "count": 10}));
            let r = env.tf(&["apply", "-input=false", "-no-color", "-auto-approve"]);
            assert_ne!(
                r.code,
                0,
                "the create's answers were all lost:\n{}",
                r.combined()
            );
            env.server.clear_faults();
            assert_eq!(
                env.server.instance_names(),
                vec!["acc-ambiguous".to_string()]
            );
            let raw = env.raw_state();
            let inst = raw["resources"]
                .as_array()
                .and_then(|rs| rs.iter().find(|r| r["type"] == "clouddb_instance"))
                .map(|r| r["instances"][0].clone())
                .unwrap_or(Value::Null);
            assert_eq!(
                inst["status"],
                json!("tainted"),
                "recorded, tainted: {raw}\n{}",
                r.combined()
            );
            assert_eq!(inst["attributes"]["name"], json!("acc-ambiguous"));
            // The follow-up apply replaces the tainted instance; the plan after it is empty.
            env.apply_ok();
            assert_eq!(
                env.server.instance_names(),
                vec!["acc-ambiguous".to_string()]
            );
            env.finish();
        },
    );
}
