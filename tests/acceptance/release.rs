//! Release artifacts: `scripts/release.sh` packs the provider the Registry's way, and Terraform
//! installs it from the network mirror (over loopback HTTPS with a throw-away CA) and from the
//! packed filesystem mirror, writing lock-file hashes equal to the ones the script computed.
//!
//! The tests pack the debug binary the acceptance tests already use (`--binary`), so CI builds no
//! release binary for them; `scripts/release.sh` without `--binary` builds and packs the real one.
//! They run on the first full-suite CLI (1.15.5 in CI) and the smoke CLIs (1.11.4): packing and
//! hashing a 49 MB provider is the cost, not the CLI.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use super::harness::*;

/// What `scripts/release.sh` wrote for one test run: the dist dir and linux_amd64's hashes.
struct Dist {
    dir: PathBuf,
    h1: String,
    zh: String,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn zip_name() -> String {
    format!("terraform-provider-clouddb_{PROVIDER_VERSION}_linux_amd64.zip")
}

/// Packs the debug provider once per test binary run (every CLI reads the same dist/).
fn dist() -> &'static Dist {
    static DIST: OnceLock<(tempfile::TempDir, Dist)> = OnceLock::new();
    &DIST
        .get_or_init(|| {
            let tmp = tempfile::Builder::new()
                .prefix("clouddb-release-")
                .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
                .expect("tempdir");
            let dir = tmp.path().join("dist");
            let bin = env!("CARGO_BIN_EXE_terraform-provider-clouddb");
            let out = Command::new(repo().join("scripts/release.sh"))
                .arg("--binary")
                .arg(format!("linux_amd64={bin}"))
                .arg("--out")
                .arg(&dir)
                .output()
                .expect("run scripts/release.sh");
            assert!(
                out.status.success(),
                "scripts/release.sh failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let hashes: Value = read_json(&dir.join("hashes.json"));
            let h = &hashes["linux_amd64"];
            let dist = Dist {
                h1: h["h1"].as_str().expect("hashes.json h1").to_string(),
                zh: h["zh"].as_str().expect("hashes.json zh").to_string(),
                dir,
            };
            (tmp, dist)
        })
        .1
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The CLIs these tests run on: the first full-suite CLI and the smoke CLIs.
fn clis() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = terraform_binaries().into_iter().take(1).collect();
    for b in smoke_binaries() {
        if !v.contains(&b) {
            v.push(b);
        }
    }
    v
}

fn for_each_release_cli(name: &str, test: impl Fn(&Path)) {
    if clis().is_empty() {
        // The harness's own skip-or-fail rule for a machine without Terraform.
        for_each_terraform(name, |_| {});
        return;
    }
    for tf in clis() {
        eprintln!("=== {name} with {}", tf.display());
        test(&tf);
    }
}

/// Every `h1:`/`zh:` string in a `.terraform.lock.hcl`.
fn lock_hashes(work: &Path) -> BTreeSet<String> {
    let lock = std::fs::read_to_string(work.join(".terraform.lock.hcl")).expect("lock file");
    lock.split('"')
        .filter(|s| s.starts_with("h1:") || s.starts_with("zh:"))
        .map(str::to_string)
        .collect()
}

fn sha256_file(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn release_artifacts_are_the_registry_layout() {
    // Needs no Terraform: python3 and sha256sum only.
    let d = dist();
    let prefix = format!("terraform-provider-clouddb_{PROVIDER_VERSION}");
    let zip = d.dir.join(zip_name());
    // zh: is the zip's SHA-256, which SHA256SUMS lists, as does the manifest's line.
    let zip_sum = sha256_file(&zip);
    assert_eq!(d.zh, format!("zh:{zip_sum}"));
    let sums = std::fs::read_to_string(d.dir.join(format!("{prefix}_SHA256SUMS"))).expect("sums");
    let manifest = d.dir.join(format!("{prefix}_manifest.json"));
    assert_eq!(
        sums,
        format!(
            "{zip_sum}  {}\n{}  {prefix}_manifest.json\n",
            zip_name(),
            sha256_file(&manifest)
        )
    );
    assert_eq!(
        std::fs::read(&manifest).expect("manifest"),
        std::fs::read(repo().join("terraform-registry-manifest.json")).expect("repo manifest")
    );
    // One executable file in the zip, named as Terraform looks for it (read with Python's
    // zipfile: unzip is not on every machine).
    let list = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(oct(i.external_attr >> 16), i.filename)",
        ])
        .arg(&zip)
        .output()
        .expect("python3 zipfile");
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        format!("0o100755 terraform-provider-clouddb_v{PROVIDER_VERSION}\n"),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    // The network mirror protocol's two documents.
    let net = d
        .dir
        .join("network-mirror/registry.terraform.io/clouddb/clouddb");
    assert_eq!(
        read_json(&net.join("index.json")),
        serde_json::json!({"versions": {PROVIDER_VERSION: {}}})
    );
    assert_eq!(
        read_json(&net.join(format!("{PROVIDER_VERSION}.json"))),
        serde_json::json!({"archives": {"linux_amd64": {
            "url": zip_name(), "hashes": [d.h1, d.zh]}}})
    );
    // `provider_package.py hashes ZIP` prints the same two hashes.
    let out = Command::new("python3")
        .arg(repo().join("scripts/provider_package.py"))
        .arg("hashes")
        .arg(&zip)
        .output()
        .expect("provider_package.py hashes");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n{}\n", d.h1, d.zh)
    );
    // A second pack of the same binary is byte for byte the same zip (reproducible zh:).
    let again = tempfile::tempdir().expect("tempdir");
    let out = Command::new("python3")
        .arg(repo().join("scripts/provider_package.py"))
        .args(["pack", "--version", PROVIDER_VERSION, "--manifest"])
        .arg(repo().join("terraform-registry-manifest.json"))
        .arg("--out")
        .arg(again.path())
        .arg("--binary")
        .arg(format!(
            "linux_amd64={}",
            env!("CARGO_BIN_EXE_terraform-provider-clouddb")
        ))
        .output()
        .expect("provider_package.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sha256_file(&again.path().join(zip_name())), zip_sum);
}

/// A throw-away CA and a server certificate for 127.0.0.1, made with the openssl CLI.
fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (the test CA and server certificate are made with the openssl CLI)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=clouddb test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .expect("server.ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

/// A static HTTPS file server (Python's http.server behind ssl) on a free loopback port; it logs
/// each request line to `log`. Killed on drop.
struct MirrorServer {
    _child: GroupGuard,
    port: u16,
    log: PathBuf,
}

const HTTPS_SERVER: &str = r#"
import functools, http.server, ssl, sys
root, cert, key = sys.argv[1:4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

impl MirrorServer {
    fn start(root: &Path, cert: &Path, key: &Path, log: PathBuf) -> MirrorServer {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(HTTPS_SERVER)
            .arg(root)
            .arg(cert)
            .arg(key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("mirror log"))
            .process_group(0)
            .spawn()
            .expect("start python3 https server");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let guard = GroupGuard(child);
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!(
                "https mirror did not start: {line:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        MirrorServer {
            _child: guard,
            port,
            log,
        }
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn write_rc(env: &Env, installation: &str) {
    std::fs::write(
        env.dir.path().join("terraformrc"),
        format!("provider_installation {{\n{installation}\n}}\n"),
    )
    .expect("terraformrc");
}

#[test]
fn release_network_mirror_over_https() {
    for_each_release_cli("release_network_mirror_over_https", |tf| {
        let d = dist();
        let mut env = Env::new(tf);
        let (ca, cert, key) = make_certs(env.dir.path());
        // This test's own copy of the mirror, so it can serve a tampered version document first.
        let src = d
            .dir
            .join("network-mirror/registry.terraform.io/clouddb/clouddb");
        let root = env.dir.path().join("network-mirror");
        let pkg = root.join("registry.terraform.io/clouddb/clouddb");
        std::fs::create_dir_all(&pkg).expect("mirror dir");
        for f in ["index.json".to_string(), zip_name()] {
            std::fs::hard_link(src.join(&f), pkg.join(&f)).expect("link mirror file");
        }
        let version_doc = pkg.join(format!("{PROVIDER_VERSION}.json"));
        let good = std::fs::read_to_string(src.join(format!("{PROVIDER_VERSION}.json")))
            .expect("version document");
        // Terraform accepts a download when any one of the listed hashes matches, so both lie.
        let tampered = good
            .replace(&d.zh, &format!("zh:{}", "0".repeat(64)))
            .replace(&d.h1, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        std::fs::write(&version_doc, tampered).expect("tampered doc");

        let mirror = MirrorServer::start(
            &root,
            &cert,
            &key,
            env.dir.path().join("mirror-requests.log"),
        );
        write_rc(
            &env,
            &format!(
                "  network_mirror {{\n    url = \"https://127.0.0.1:{}/\"\n  }}",
                mirror.port
            ),
        );
        env.extra_env
            .insert("SSL_CERT_FILE".into(), ca.display().to_string());
        std::fs::write(
            env.work.join("main.tf"),
            "terraform {\n  required_providers {\n    clouddb = {\n      source = \"clouddb/clouddb\"\n    }\n  }\n}\n",
        )
        .expect("main.tf");
        // Terraform checks the download against the mirror's hashes: wrong ones refuse the install.
        let bad = env.tf(&["init", "-input=false", "-no-color"]);
        assert_ne!(
            bad.code,
            0,
            "init accepted wrong hashes:\n{}",
            bad.combined()
        );
        assert!(
            bad.combined().contains("checksum"),
            "init with wrong hashes fails on the checksum:\n{}",
            bad.combined()
        );
        assert!(!env.work.join(".terraform.lock.hcl").exists());

        std::fs::write(&version_doc, &good).expect("version document");
        env.tf_ok(&["init", "-input=false", "-no-color"]);
        // Terraform fetched the protocol's two documents and the zip, from our server.
        let log = mirror.requests();
        for path in [
            "/registry.terraform.io/clouddb/clouddb/index.json".to_string(),
            format!("/registry.terraform.io/clouddb/clouddb/{PROVIDER_VERSION}.json"),
            format!("/registry.terraform.io/clouddb/clouddb/{}", zip_name()),
        ] {
            assert!(
                log.contains(&format!("GET {path} HTTP/1.1\" 200")),
                "{path} not served:\n{log}"
            );
        }
        // The lock file holds release.sh's h1:, which Terraform computed itself from the zip
        // (a network mirror's hashes only verify the download; Terraform records what it verified).
        let lock = lock_hashes(&env.work);
        assert_eq!(
            lock,
            BTreeSet::from([d.h1.clone()]),
            "lock file vs release.sh's h1:"
        );
        env.write_config("resource \"clouddb_instance\" \"r\" {\n  name = \"acc-release\"\n}\n");
        // The installed provider is the one that works.
        env.apply_ok();
        env.finish();
    });
}

#[test]
fn release_filesystem_mirror_and_providers_lock_agree() {
    for_each_release_cli("release_filesystem_mirror_and_providers_lock_agree", |tf| {
        let d = dist();
        let fs_mirror = d.dir.join("fs-mirror");
        let env = Env::new(tf);
        write_rc(
            &env,
            &format!(
                "  filesystem_mirror {{\n    path = \"{}\"\n  }}",
                fs_mirror.display()
            ),
        );
        env.write_config("");
        let lock = lock_hashes(&env.work);
        assert!(lock.contains(&d.h1), "init lock {lock:?} lacks {}", d.h1);
        assert!(
            lock.iter().all(|h| *h == d.h1 || *h == d.zh),
            "init lock {lock:?} vs {} / {}",
            d.h1,
            d.zh
        );
        // `providers lock -fs-mirror` in a fresh directory writes the same hashes.
        std::fs::remove_file(env.work.join(".terraform.lock.hcl")).expect("rm lock");
        env.tf_ok(&[
            "providers",
            "lock",
            "-platform=linux_amd64",
            &format!("-fs-mirror={}", fs_mirror.display()),
        ]);
        assert_eq!(lock_hashes(&env.work), lock, "providers lock vs init");
        env.finish();
    });
}
