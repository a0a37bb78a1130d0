//! The clouddb-server console in a real browser: headless Chromium (Debian's, found or installed by
//! scripts/install-chromium.sh) driven over the DevTools protocol by `console/watch.mjs` watches the
//! console while `terraform apply` creates an instance, and must see it CREATING, then READY, without
//! a reload, and a label drifted in with markup shown as text. One CLI only (the first of the matrix): the console does not depend on the CLI.
//!
//! The screenshot goes to the target dir (`console.png` under CARGO_TARGET_TMPDIR); with
//! `UPDATE_DOCS=1` it also replaces docs/console.png, which the README shows.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{
    ADMIN_TOKEN, Env, GroupGuard, PROJECT, ServerOpts, acceptance_requested, terraform_binaries,
};

/// Virtual (here: real, the clock is not frozen) seconds the create takes, so that CREATING is on
/// screen for several of the page's polls.
const PROVISION_SECONDS: u64 = 4;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Chromium executable, from the project's install script (which installs it as root).
fn chromium() -> String {
    let out = Command::new(repo().join("scripts/install-chromium.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/install-chromium.sh");
    assert!(
        out.status.success(),
        "scripts/install-chromium.sh failed: no Chromium for the console test (TF_ACC is set, so \
         this is a failure; scripts/test.sh installs it)"
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn console_shows_instance_creating_then_ready_without_reload() {
    if !acceptance_requested() {
        eprintln!(
            "SKIP console_shows_instance_creating_then_ready_without_reload: TF_ACC is not set"
        );
        return;
    }
    let tf = terraform_binaries()
        .into_iter()
        .next()
        .expect("TF_ACC is set but no Terraform CLI was found (set TF_ACC_TERRAFORM_PATHS)");
    let chromium = chromium();
    let started = Instant::now();
    let env = Env::with_server(
        &tf,
        ServerOpts {
            provision_time: PROVISION_SECONDS,
            ..Default::default()
        },
    );
    env.write_config(
        "resource \"clouddb_instance\" \"db\" {\n  name       = \"acc-console\"\n  tier       = \"db-small\"\n  storage_gb = 20\n  labels     = { env = \"dev\", team = \"web\" }\n}\n\nresource \"clouddb_database\" \"app\" {\n  instance = clouddb_instance.db.name\n  name     = \"app\"\n}\n",
    );

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console.png");
    let _ = std::fs::remove_file(&shot);
    let child = Command::new("node")
        .arg("--experimental-websocket")
        .arg(repo().join("tests/acceptance/console/watch.mjs"))
        .args([
            chromium.as_str(),
            &format!("{}/", env.server.endpoint),
            "acc-console",
            &shot.display().to_string(),
            "120",
        ])
        .env("CONSOLE_ADMIN_TOKEN", ADMIN_TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .expect("run node (Node.js 20 or newer is needed for the console test)");
    let mut watcher = GroupGuard(child);
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = watcher.0.stdout.take().expect("watcher stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| -> String {
        rx.recv_timeout(Duration::from_secs(90))
            .unwrap_or_else(|_| panic!("the browser watcher said nothing while waiting for {what}"))
    };
    assert_eq!(next("the console to load"), "ready");

    // The page is open; now Terraform creates the instance and the page must follow by itself.
    env.apply_ok();

    let mut states = Vec::new();
    loop {
        let line = next("the instance's states");
        if line == "shot" {
            break;
        }
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(v["reloads"], 0, "the page was reloaded: {line}");
        states.push(v["state"].as_str().unwrap_or_default().to_string());
    }

    // Labels are validated by the API and the provider; drift writes past that, as a buggy or
    // hostile cloud could. The page must show the markup as text.
    let hostile = "<img src=x onerror=\"window.__pwned=1\">";
    env.server.admin(
        "PATCH",
        &format!("/admin/drift/projects/{PROJECT}/instances/acc-console"),
        Some(serde_json::json!({"labels": {"env": "dev", "team": "web", "x": hostile}})),
    );
    let line = next("the hostile label");
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
    assert_eq!(
        v["hostile"],
        serde_json::json!({"text": format!("x={hostile}"), "elements": 0, "img": 0, "pwned": false}),
        "{line}"
    );
    assert_eq!(next("the end"), "done");
    let status = watcher.0.wait().expect("wait for the watcher");
    assert!(status.success(), "watcher failed: {status}");
    assert_eq!(
        states,
        ["CREATING", "READY"],
        "the console showed these states of acc-console, in order"
    );
    eprintln!(
        "console: saw {states:?} in {:.1?} (project {PROJECT})",
        started.elapsed()
    );

    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let dst = repo().join("docs/console.png");
        std::fs::write(&dst, &png).expect("write docs/console.png");
        eprintln!("wrote {}", Path::new(&dst).display());
    }
    env.finish();
}
