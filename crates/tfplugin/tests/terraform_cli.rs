//! The transport against the real Terraform CLI (skipped when it is absent):
//! Terraform's AutoMTLS client (P-521, CA-marked cert) is accepted, a wrong pin
//! is refused, and the process exits after Shutdown without being killed.
//! Uses `dev_overrides`, so no `terraform init` and no network.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tfplugin::testing;

fn echo_binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "tfplugin",
                "--example",
                "echo_provider",
            ])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building echo_provider failed");
        testing::target_binary("echo_provider", true).expect("echo_provider built")
    })
    .clone()
}

/// Terraform CLIs to try: `terraform` on PATH (1.11.x here) and the 1.0.3
/// copy the project's scripts put in `.cache/`.
fn terraforms() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        out.push(PathBuf::from("terraform"));
    }
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/terraform-1.0.3/terraform");
    if old.exists() {
        out.push(old);
    }
    if out.is_empty() {
        eprintln!("note: no Terraform CLI found; skipping");
    }
    out
}

/// Sets up a dev_overrides dir whose `terraform-provider-echo` is `launcher`
/// text (a shell script) and a config using it; runs `terraform validate`.
fn validate(terraform: &Path, launcher: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::create_dir_all(&work).expect("mkdir");
    let exe = bin.join("terraform-provider-echo");
    // Sockets go into the temp dir, so a process Terraform SIGKILLs leaves nothing behind.
    let launcher = launcher.replacen(
        "#!/bin/sh\n",
        &format!(
            "#!/bin/sh\nPLUGIN_UNIX_SOCKET_DIR='{}'\nexport PLUGIN_UNIX_SOCKET_DIR\n",
            dir.path().display()
        ),
        1,
    );
    std::fs::write(&exe, launcher).expect("write launcher");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let rc = dir.path().join("cli.tfrc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"clouddb/echo\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            bin.display()
        ),
    )
    .expect("write rc");
    std::fs::write(
        work.join("main.tf"),
        "terraform {\n  required_providers {\n    echo = { source = \"clouddb/echo\" }\n  }\n}\nprovider \"echo\" {}\n",
    )
    .expect("write main.tf");
    let out = Command::new(terraform)
        .arg("validate")
        .arg("-no-color")
        .current_dir(&work)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("TF_LOG", "debug")
        .env_remove("TF_LOG_PATH")
        .env_remove("TF_DISABLE_PLUGIN_TLS")
        .env_remove("TF_REATTACH_PROVIDERS")
        .output()
        .expect("run terraform");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn terraform_accepts_our_mtls_and_shuts_us_down() {
    for tf in terraforms() {
        let launcher = format!("#!/bin/sh\nexec '{}' \"$@\"\n", echo_binary().display());
        let (ok, log) = validate(&tf, &launcher);
        assert!(ok, "{}: validate failed:\n{log}", tf.display());
        assert!(log.contains("configuring client automatic mTLS"), "{log}");
        assert!(log.contains("tls=true"), "server not in TLS mode:\n{log}");
        assert!(log.contains("Shutdown received"), "{log}");
        assert!(!log.contains("failed to exit gracefully"), "{log}");
        assert!(!log.contains("signal: killed"), "{log}");
    }
}

#[test]
fn terraform_is_refused_with_a_wrong_pin() {
    for tf in terraforms() {
        let other = testing::terraform_client_identity().expect("cert");
        let pem = tfplugin::server::tls::cert_to_pem(other.cert_der.as_ref());
        let launcher = format!(
            "#!/bin/sh\nPLUGIN_CLIENT_CERT='{}'\nexport PLUGIN_CLIENT_CERT\nexec '{}' \"$@\"\n",
            pem.trim_end(),
            echo_binary().display()
        );
        let (ok, log) = validate(&tf, &launcher);
        assert!(
            !ok,
            "{}: validate must fail with a wrong pin:\n{log}",
            tf.display()
        );
        assert!(
            log.contains("certificate is not the pinned PLUGIN_CLIENT_CERT"),
            "{log}"
        );
    }
}
