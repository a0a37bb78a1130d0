//! `clouddb_credentials` through the real CLI (Terraform 1.10+; older CLIs skip): opened when a
//! step needs it, renewed while Terraform still needs it, revoked at the end of every command,
//! never in state or plan files.
//!
//! Every run ends with no credential active on the server (`GET …/credentials` is empty) and the
//! request log showing each open matched by a revoke. Passwords are recognised by the API's
//! `cdbpw_` prefix, so the checks cover the passwords of every open, plan-time ones included.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::database::with_instance;
use crate::harness::{Env, for_each_terraform_smoke};

/// The prefix of every password the API issues.
const PASSWORD_PREFIX: &str = "cdbpw_";

fn skip_before(env: &Env, major: u64, minor: u64, what: &str) -> bool {
    if env.tf_older_than(major, minor) {
        eprintln!("skipping: {what} need Terraform {major}.{minor}");
        return true;
    }
    false
}

/// The instance's credentials still active on the server.
fn active(env: &Env, instance: &str) -> Vec<Value> {
    let (status, v) = env
        .server
        .api("GET", &format!("/instances/{instance}/credentials"), None);
    assert_eq!(status, 200, "list credentials: {v}");
    v["credentials"].as_array().cloned().unwrap_or_default()
}

/// The request log's credential calls: (method, path after `/credentials`, status).
fn credential_calls(env: &Env) -> Vec<(String, String, u64)> {
    env.server
        .requests()
        .iter()
        .filter_map(|r| {
            let path = r["path"].as_str()?;
            let (_, tail) = path.split_once("/credentials")?;
            Some((
                r["method"].as_str().unwrap_or_default().to_string(),
                tail.to_string(),
                r["status"].as_u64().unwrap_or(0),
            ))
        })
        .collect()
}

/// Each credential created (POST 201) is revoked (DELETE 204) by the same command; returns the
/// ids created. Renewals are allowed in between.
fn every_open_closed(calls: &[(String, String, u64)]) -> Vec<String> {
    let mut open: BTreeMap<String, bool> = BTreeMap::new();
    let mut created = Vec::new();
    let mut posts = 0;
    for (method, tail, status) in calls {
        match (method.as_str(), tail.as_str()) {
            ("POST", "") => {
                assert_eq!(*status, 201, "an open failed: {calls:?}");
                posts += 1;
            }
            ("DELETE", t) => {
                let id = t.trim_start_matches('/').to_string();
                assert_eq!(
                    *status, 204,
                    "credential {id} was not live at close: {calls:?}"
                );
                assert!(open.insert(id.clone(), true).is_none(), "{id} closed twice");
                created.push(id);
            }
            _ => {}
        }
    }
    assert_eq!(posts, created.len(), "every open has its close: {calls:?}");
    created
}

/// Files under `dir` holding `needle`, skipping `skip`.
fn files_with(dir: &std::path::Path, needle: &str, skip: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == skip) {
            continue;
        }
        if p.is_dir() {
            hits.extend(files_with(&p, needle, skip));
        } else if std::fs::read(&p)
            .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            hits.push(p.display().to_string());
        }
    }
    hits
}

/// The password feeds `clouddb_user.password_wo` (and a provisioner, which writes it outside the
/// working directory so the test knows one real password): the user is created with a password,
/// nothing of the credential reaches state, the saved plan or its JSON, and after every command
/// no credential is active and each open was revoked. Terraform 1.11+ (write-only arguments).
#[test]
fn ephemeral_credentials_feed_a_write_only_password_and_are_revoked() {
    for_each_terraform_smoke(
        "ephemeral_credentials_feed_a_write_only_password_and_are_revoked",
        |tf| {
            let mut env = Env::new(tf);
            if skip_before(&env, 1, 11, "write-only arguments") {
                return;
            }
            // Trace logging, which carries the provider's own log lines: no password in it either.
            env.extra_env.insert("TF_LOG".into(), "trace".into());
            let inst = "acc-eph";
            let seen = env.dir.path().join("seen-password");
            let children = format!(
                r#"ephemeral "clouddb_credentials" "login" {{
  instance = clouddb_instance.db.id
  ttl      = "10m"
}}

resource "clouddb_user" "app" {{
  instance            = clouddb_instance.db.name
  name                = "app"
  password_wo         = ephemeral.clouddb_credentials.login.password
  password_wo_version = 1
}}

resource "terraform_data" "seen" {{
  provisioner "local-exec" {{
    command     = "printf '%s' \"$PW\" > '{}'"
    environment = {{
      PW = ephemeral.clouddb_credentials.login.password
    }}
  }}
}}
"#,
                seen.display()
            );
            env.write_config(&with_instance(inst, &children));
            let apply = env.apply_ok();
            let password =
                std::fs::read_to_string(&seen).expect("the provisioner saw the password");
            assert!(password.starts_with(PASSWORD_PREFIX), "{password:?}");
            assert!(
                !apply.combined().contains(PASSWORD_PREFIX),
                "a password is in Terraform's output"
            );

            // The user got a password; the apply opened and revoked one credential (plus one per
            // plan that opened one: the apply's own plan has none, the instance did not exist).
            let user_posts = env
                .server
                .requests()
                .into_iter()
                .filter(|r| {
                    r["method"] == "POST"
                        && r["path"].as_str().is_some_and(|p| p.ends_with("/users"))
                        && r["body_fields"]
                            .as_array()
                            .is_some_and(|f| f.contains(&json!("password")))
                })
                .count();
            assert_eq!(
                user_posts, 1,
                "the user was created with the credential's password"
            );
            let created = every_open_closed(&credential_calls(&env));
            assert!(!created.is_empty(), "the apply opened credentials");
            assert!(
                active(&env, inst).is_empty(),
                "no credential is left active"
            );

            // A saved plan (which opens and closes credentials again) holds none of it, nor does
            // the state; nor any file in the working directory.
            env.tf_ok(&["plan", "-input=false", "-no-color", "-out=saved.tfplan"]);
            let shown = env.tf_ok(&["show", "-json", "saved.tfplan"]).stdout;
            let state = env.tf_ok(&["show", "-json"]).stdout;
            for (what, text) in [("saved plan JSON", &shown), ("state JSON", &state)] {
                assert!(
                    !text.contains(PASSWORD_PREFIX),
                    "a password is in the {what}"
                );
                assert!(!text.contains(&password), "the password is in the {what}");
                for id in &created {
                    assert!(
                        !text.contains(id.as_str()),
                        "credential {id} is in the {what}"
                    );
                }
            }
            // The state records no ephemeral object (only that the user depended on one).
            let parsed: Value = serde_json::from_str(&state).expect("state JSON");
            let addresses: Vec<&str> = parsed["values"]["root_module"]["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["address"].as_str())
                .collect();
            assert!(
                addresses.iter().all(|a| !a.starts_with("ephemeral.")),
                "{addresses:?}"
            );
            for needle in [PASSWORD_PREFIX, password.as_str()] {
                let hits = files_with(&env.work, needle, ".terraform");
                assert!(hits.is_empty(), "{needle:?} is in {hits:?}");
            }
            let log = std::fs::read_to_string(env.dir.path().join("terraform.log")).expect("log");
            assert!(
                log.contains("credentials opened"),
                "the provider logged its opens"
            );
            for needle in [PASSWORD_PREFIX, password.as_str()] {
                assert!(!log.contains(needle), "{needle:?} is in the trace log");
            }
            let calls = credential_calls(&env);
            let created = every_open_closed(&calls);
            assert!(
                created.len() >= 2,
                "the plans opened credentials too: {calls:?}"
            );
            assert!(
                active(&env, inst).is_empty(),
                "no credential is left active"
            );
            env.extra_env.remove("TF_LOG");
            env.finish();
        },
    );
}

/// A short `ttl` and a step that outlasts it: Terraform renews the credential before it lapses
/// (the renewal is in the request log, answered 200) and the revoke at the end still finds it
/// live (204, not 404). Terraform 1.10+.
#[test]
fn ephemeral_credentials_are_renewed_while_terraform_needs_them() {
    for_each_terraform_smoke(
        "ephemeral_credentials_are_renewed_while_terraform_needs_them",
        |tf| {
            let env = Env::new(tf);
            if skip_before(&env, 1, 10, "ephemeral resources") {
                return;
            }
            let inst = "acc-renew";
            // ttl 6s: renewed after 4s; the provisioner keeps the value in use for 7s.
            let children = r#"ephemeral "clouddb_credentials" "login" {
  instance = clouddb_instance.db.id
  ttl      = "6s"
}

resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command     = "sleep 7"
    environment = {
      LOGIN = ephemeral.clouddb_credentials.login.username
    }
  }
}
"#;
            env.write_config(&with_instance(inst, children));
            env.apply_ok();
            let calls = credential_calls(&env);
            let created = every_open_closed(&calls);
            let renewals: Vec<_> = calls
                .iter()
                .filter(|(m, t, _)| m == "POST" && t.ends_with("/renew"))
                .collect();
            assert!(!renewals.is_empty(), "no renewal: {calls:?}");
            assert!(
                renewals.iter().all(|(_, _, s)| *s == 200),
                "a renewal failed: {calls:?}"
            );
            assert!(
                renewals
                    .iter()
                    .any(|(_, t, _)| created.iter().any(|id| t.starts_with(&format!("/{id}/")))),
                "the renewals were of the credentials opened: {calls:?}"
            );
            assert!(
                active(&env, inst).is_empty(),
                "no credential is left active"
            );
            env.finish();
        },
    );
}

/// Bad settings are refused at validate time naming `ttl` or `instance`; a missing instance
/// fails the open with the API's answer, and nothing is left active.
#[test]
fn ephemeral_credentials_errors() {
    for_each_terraform_smoke("ephemeral_credentials_errors", |tf| {
        let env = Env::new(tf);
        if skip_before(&env, 1, 10, "ephemeral resources") {
            return;
        }
        let config = |instance: &str, ttl: &str| {
            format!(
                r#"ephemeral "clouddb_credentials" "login" {{
  instance = {instance}
  ttl      = "{ttl}"
}}

resource "terraform_data" "use" {{
  provisioner "local-exec" {{
    command     = "true"
    environment = {{
      LOGIN = ephemeral.clouddb_credentials.login.username
    }}
  }}
}}
"#
            )
        };
        for (instance, ttl, pattern) in [
            (
                "clouddb_instance.db.id",
                "2s",
                r#"Invalid ttl.*ttl must be between 5s and 24h, got "2s""#,
            ),
            (
                "clouddb_instance.db.id",
                "1.5s",
                r#"ttl must be whole seconds, got "1.5s""#,
            ),
            (
                "clouddb_instance.db.id",
                "soon",
                r#"invalid duration "soon""#,
            ),
            (
                "\"Not_An_Instance\"",
                "1m",
                r#""Not_An_Instance" is not a valid instance name"#,
            ),
        ] {
            env.write_config(&with_instance("acc-eperr", &config(instance, ttl)));
            let run = env.tf(&["validate", "-no-color"]);
            assert_eq!(run.code, 1, "{ttl}: validate passed:\n{}", run.combined());
            let flat = run
                .combined()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let re = regex::Regex::new(pattern).expect("regex");
            assert!(
                re.is_match(&flat),
                "{pattern:?} not in:\n{}",
                run.combined()
            );
        }
        // An instance that does not exist: the open fails with the API's 404, naming it.
        env.write_config(&with_instance(
            "acc-eperr",
            &config("\"acc-missing\"", "1m"),
        ));
        let run = env.apply_err(
            r"Could not create credentials for instance acc-missing.*instance acc-missing not found",
        );
        let flat = run
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains("set `instance = clouddb_instance.NAME.id`"),
            "the error suggests referencing the id:\n{}",
            run.combined()
        );
        let calls = credential_calls(&env);
        assert!(
            calls.iter().all(|(m, _, s)| m != "POST" || *s == 404),
            "{calls:?}"
        );
        env.write_config("");
        env.finish();
    });
}

/// One ephemeral value feeding another through a `local`: the first credentials' `instance`
/// result, passed through a local, configures the second, whose password becomes a user's
/// write-only password. Both are opened and closed in every run; none is left active.
#[test]
fn ephemeral_credentials_feed_another_through_a_local() {
    for_each_terraform_smoke("ephemeral_credentials_feed_another_through_a_local", |tf| {
        let env = Env::new(tf);
        if skip_before(&env, 1, 11, "write-only arguments") {
            return;
        }
        let inst = "acc-ephlocal";
        let children = r#"ephemeral "clouddb_credentials" "first" {
  instance = clouddb_instance.db.id
  ttl      = "10m"
}

locals {
  login_instance = ephemeral.clouddb_credentials.first.instance
}

ephemeral "clouddb_credentials" "second" {
  instance = local.login_instance
  ttl      = "10m"
}

resource "clouddb_user" "app" {
  instance            = clouddb_instance.db.name
  name                = "app"
  password_wo         = ephemeral.clouddb_credentials.second.password
  password_wo_version = 1
}
"#;
        env.write_config(&with_instance(inst, children));
        env.apply_ok();
        let user_posts = env
            .server
            .requests()
            .into_iter()
            .filter(|r| {
                r["method"] == "POST"
                    && r["path"].as_str().is_some_and(|p| p.ends_with("/users"))
                    && r["body_fields"]
                        .as_array()
                        .is_some_and(|f| f.contains(&json!("password")))
            })
            .count();
        assert_eq!(
            user_posts, 1,
            "the user got the second credentials' password"
        );
        let opened = every_open_closed(&credential_calls(&env));
        assert!(
            opened.len() >= 2,
            "both credentials were opened: {opened:?}"
        );
        assert!(
            active(&env, inst).is_empty(),
            "no credential is left active"
        );
        env.finish();
    });
}
