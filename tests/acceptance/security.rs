//! Secrets stay where they belong, checked on everything a run produces.
//!
//! With `TF_LOG=trace`, an apply, an update of the password, a saved plan and a destroy, the API
//! token never appears in Terraform's log (which carries the provider's own log lines), in its
//! output, in the state file or in the saved plan; the sensitive `admin_password` never appears
//! in the log or the output (Terraform keeps sensitive values in state and plan files by design,
//! where they are marked sensitive).

use crate::harness::{Env, TOKEN, for_each_terraform};
use crate::instance::instance_hcl;

const PASSWORD: &str = "Pw-9f3c1e7a-b2d4-never-logged";
const NEW_PASSWORD: &str = "Pw-0c8e55d1-a6f2-never-logged";

/// Every file under `dir` (recursively) whose contents contain `needle`, as paths.
fn files_containing(dir: &std::path::Path, needle: &str, skip: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return hits;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if skip.contains(&name) {
            continue;
        }
        if p.is_dir() {
            hits.extend(files_containing(&p, needle, skip));
        } else if std::fs::read(&p)
            .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
        {
            hits.push(p.display().to_string());
        }
    }
    hits
}

#[test]
fn security_secrets_never_reach_logs_state_or_plans() {
    for_each_terraform("security_secrets_never_reach_logs_state_or_plans", |tf| {
        let mut env = Env::new(tf);
        env.extra_env.insert("TF_LOG".into(), "trace".into());
        let mut outputs = String::new();

        env.write_config(&instance_hcl(
            "acc-secret",
            &format!("  admin_password = \"{PASSWORD}\""),
        ));
        outputs.push_str(&env.apply_ok().combined());
        env.write_config(&instance_hcl(
            "acc-secret",
            &format!("  admin_password = \"{NEW_PASSWORD}\""),
        ));
        let plan = env.tf_ok(&["plan", "-input=false", "-no-color", "-out=secret.plan"]);
        outputs.push_str(&plan.combined());
        let shown = env.tf_ok(&["show", "-json", "-no-color", "secret.plan"]);
        outputs.push_str(&env.apply_ok().combined());

        let log_path = env.dir.path().join("terraform.log");
        let log = std::fs::read_to_string(&log_path).expect("TF_LOG_PATH log");
        assert!(
            log.contains("provider.terraform-provider-clouddb"),
            "the log carries the provider's lines"
        );
        for secret in [TOKEN, PASSWORD, NEW_PASSWORD] {
            assert!(
                !log.contains(secret),
                "{secret:?} is in the trace log {}",
                log_path.display()
            );
            assert!(
                !outputs.contains(secret),
                "{secret:?} is in Terraform's output"
            );
        }
        // The token is no attribute of any resource: it is in no file Terraform wrote (the
        // working directory holds state, the saved plan and .terraform) nor in `show -json`.
        let hits = files_containing(&env.work, TOKEN, &[]);
        assert!(hits.is_empty(), "the token is in {hits:?}");
        assert!(
            !shown.stdout.contains(TOKEN),
            "the token is in the saved plan"
        );
        // The sensitive password is marked as such in the plan.
        assert!(
            shown.stdout.contains("\"admin_password\":true"),
            "admin_password is marked sensitive in the plan"
        );
        outputs.push_str(
            &env.tf_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
                .combined(),
        );
        let log = std::fs::read_to_string(&log_path).expect("log after destroy");
        for secret in [TOKEN, PASSWORD, NEW_PASSWORD] {
            assert!(
                !log.contains(secret),
                "{secret:?} is in the trace log after destroy"
            );
            assert!(
                !outputs.contains(secret),
                "{secret:?} is in Terraform's output"
            );
        }
        env.finish();
    });
}
