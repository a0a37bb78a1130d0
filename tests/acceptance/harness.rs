//! The acceptance harness: drives the real `terraform` CLI against the freshly built provider and a
//! private `clouddb-server`, like terraform-plugin-testing does for Go providers.
//!
//! Each [`Env`] owns a temp dir with:
//! - `mirror/` — a filesystem mirror holding a copy of `CARGO_BIN_EXE_terraform-provider-clouddb` in the
//!   unpacked layout `registry.terraform.io/clouddb/clouddb/0.1.0/linux_amd64/`;
//! - `terraformrc` — a CLI config (`TF_CLI_CONFIG_FILE`) whose only installation method is that mirror;
//! - `work/` — the Terraform working directory (HCL written per step, state, plans);
//! - a `clouddb-server` child process on a free loopback port, killed on drop.
//!
//! Steps are HCL plus expectations. After every successful apply the harness asserts that
//! `terraform plan -detailed-exitcode` exits 0 (no perpetual diff). [`Env::finish`] destroys everything
//! and asserts the server holds no instances.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const PROVIDER_VERSION: &str = "0.1.0";
pub const TOKEN: &str = "acc-token";
pub const PROJECT: &str = "acc";
pub const ADMIN_TOKEN: &str = "acc-admin";

/// Which CLIs of the matrix a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Only the full-suite CLIs (`TF_ACC_TERRAFORM_PATHS`).
    Full,
    /// Also the smoke CLIs (`TF_ACC_TERRAFORM_SMOKE_PATHS`): every CLI in the matrix.
    Smoke,
}

/// True when acceptance tests are requested (`TF_ACC` set to anything but empty, `0` or `false`):
/// then a missing Terraform fails the run instead of skipping it.
pub fn acceptance_requested() -> bool {
    std::env::var("TF_ACC")
        .is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// A colon-separated list of CLIs from `var`; each must exist (an explicit list never silently
/// shrinks). `None` when the variable is unset or empty.
fn path_list(var: &str) -> Option<Vec<PathBuf>> {
    let list = std::env::var(var).ok()?;
    let v: Vec<PathBuf> = list
        .split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    for p in &v {
        assert!(
            p.is_file(),
            "{var} names {}, which is not a file (install it, e.g. scripts/install-terraform-1.15.5.sh, or fix {var})",
            p.display()
        );
    }
    (!v.is_empty()).then_some(v)
}

/// The full-suite Terraform CLIs, in order: `TF_ACC_TERRAFORM_PATHS` (colon-separated), else
/// `TF_ACC_TERRAFORM`, else `terraform` on PATH. Empty when none is available.
pub fn terraform_binaries() -> Vec<PathBuf> {
    if let Some(v) = path_list("TF_ACC_TERRAFORM_PATHS") {
        return v;
    }
    if let Some(v) = path_list("TF_ACC_TERRAFORM") {
        return v;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())
        .into_iter()
        .collect()
}

/// The CLIs that run only [`Coverage::Smoke`] tests: `TF_ACC_TERRAFORM_SMOKE_PATHS`
/// (colon-separated; default none). A CLI that is also in the full list runs everything once.
pub fn smoke_binaries() -> Vec<PathBuf> {
    path_list("TF_ACC_TERRAFORM_SMOKE_PATHS").unwrap_or_default()
}

/// The CLIs a test with `coverage` runs on, in order (full-suite CLIs first).
pub fn matrix(coverage: Coverage) -> Vec<PathBuf> {
    let mut bins = terraform_binaries();
    if coverage == Coverage::Smoke {
        for b in smoke_binaries() {
            if !bins.contains(&b) {
                bins.push(b);
            }
        }
    }
    bins
}

/// Run `test` once per full-suite Terraform CLI (see [`for_each_terraform_in`]).
pub fn for_each_terraform(name: &str, test: impl Fn(&Path)) {
    for_each_terraform_in(name, Coverage::Full, test)
}

/// Run `test` once per CLI of the whole matrix: full-suite and smoke CLIs.
pub fn for_each_terraform_smoke(name: &str, test: impl Fn(&Path)) {
    for_each_terraform_in(name, Coverage::Smoke, test)
}

/// Run `test` once, on the first full-suite CLI (the newest in CI): for scale tests, whose cost
/// would multiply with the matrix while their subject (the provider's pacing) does not depend on it.
pub fn for_first_terraform(name: &str, test: impl Fn(&Path)) {
    let Some(tf) = terraform_binaries().into_iter().next() else {
        // No CLI: the matrix runner's skip (or, under TF_ACC, its failure).
        return for_each_terraform_in(name, Coverage::Full, test);
    };
    let started = Instant::now();
    eprintln!("=== {name} with {} (first CLI only)", tf.display());
    test(&tf);
    eprintln!(
        "=== {name} with {} passed in {:.1?}",
        tf.display(),
        started.elapsed()
    );
}

/// Run `test` once per CLI `coverage` selects. With no Terraform at all it skips (a note on
/// stderr), unless `TF_ACC` asks for acceptance tests: then it panics.
pub fn for_each_terraform_in(name: &str, coverage: Coverage, test: impl Fn(&Path)) {
    for_each_of(name, matrix(coverage), test)
}

/// Run `test` once per CLI of `bins` (a test that needs only part of the matrix picks it); no
/// CLI at all skips, or fails under `TF_ACC`, as [`for_each_terraform_in`] does.
pub fn for_each_of(name: &str, bins: Vec<PathBuf>, test: impl Fn(&Path)) {
    if bins.is_empty() {
        assert!(
            !acceptance_requested(),
            "{name}: TF_ACC is set but no Terraform CLI was found: set TF_ACC_TERRAFORM_PATHS \
             (colon-separated binaries), TF_ACC_TERRAFORM, or put terraform on PATH \
             (scripts/install-terraform-1.15.5.sh and scripts/install-terraform-1.0.3.sh install one)"
        );
        eprintln!(
            "SKIP {name}: no terraform (set TF_ACC_TERRAFORM_PATHS or put terraform on PATH; with TF_ACC=1 this fails)"
        );
        return;
    }
    for bin in bins {
        let started = Instant::now();
        eprintln!("=== {name} with {}", bin.display());
        test(&bin);
        eprintln!(
            "=== {name} with {} passed in {:.1?}",
            bin.display(),
            started.elapsed()
        );
    }
}

/// The `clouddb-server` binary: `CLOUDDB_SERVER_BIN`, else next to the provider binary in target/<profile>.
pub fn server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("CLOUDDB_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let provider = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-clouddb"));
    let candidate = provider.with_file_name("clouddb-server");
    assert!(
        candidate.is_file(),
        "clouddb-server binary not found at {}: run `cargo build --workspace --bins` first or set CLOUDDB_SERVER_BIN",
        candidate.display()
    );
    candidate
}

/// Options for the server a test gets.
#[derive(Debug, Clone, Default)]
pub struct ServerOpts {
    /// `--provision-time` virtual seconds a create takes.
    pub provision_time: u64,
    /// `--update-time` virtual seconds an update takes.
    pub update_time: u64,
    /// `--delete-time` virtual seconds a delete takes.
    pub delete_time: u64,
    /// `--rate-limit` requests/s per token (`None`: the server's default, 1000); the bucket is the
    /// server's default, twice the rate.
    pub rate_limit: Option<u32>,
    /// `--engines real`: every instance is a real PostgreSQL cluster (or MariaDB server); the
    /// server keeps its SQLite file, engines and dumps in `server-data/` of the test's directory.
    pub real_engines: bool,
}

/// A running `clouddb-server`; killed on drop.
pub struct Server {
    child: Child,
    pub endpoint: String,
    /// `host:port`.
    pub addr: String,
    /// With real engines: the server's data directory (SQLite file, `engines/`, `backups/`).
    pub data_dir: Option<PathBuf>,
}

impl Server {
    pub fn start(opts: &ServerOpts, log: &Path) -> Server {
        let bin = server_binary();
        let stderr = std::fs::File::create(log).expect("server log file");
        let data_dir = opts.real_engines.then(|| {
            let d = log
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join("server-data");
            std::fs::create_dir_all(&d).expect("server data dir");
            d
        });
        let storage: Vec<String> = match &data_dir {
            Some(d) => vec![
                "--data".into(),
                d.join("clouddb.db").display().to_string(),
                "--engines".into(),
                "real".into(),
            ],
            None => vec!["--in-memory".into()],
        };
        let mut child = Command::new(&bin)
            .args(["--listen", "127.0.0.1:0"])
            .args(&storage)
            .args(["--token", &format!("{TOKEN}={PROJECT}")])
            .args(["--admin-token", ADMIN_TOKEN])
            .args(["--provision-time", &opts.provision_time.to_string()])
            .args(["--update-time", &opts.update_time.to_string()])
            .args(["--delete-time", &opts.delete_time.to_string()])
            .args(
                opts.rate_limit
                    .map(|r| vec!["--rate-limit".to_string(), r.to_string()])
                    .unwrap_or_default(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("server stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read server stdout");
        assert!(
            n > 0,
            "clouddb-server exited before listening; see {}",
            log.display()
        );
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .map(|s| s.split_whitespace().next().unwrap_or(s).to_string())
            .unwrap_or_else(|| panic!("unexpected first server line: {line:?}"));
        let addr = endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Server {
            child,
            endpoint,
            addr,
            data_dir,
        }
    }

    /// Minimal blocking HTTP/1.1 call (loopback only): returns (status, JSON body or Null).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect clouddb-server");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            self.addr,
            payload.len()
        );
        stream.write_all(req.as_bytes()).expect("write request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read response");
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// Admin API call; panics unless 2xx.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, ADMIN_TOKEN, body.as_ref());
        assert!(
            (200..300).contains(&status),
            "admin {method} {path} -> {status}: {v}"
        );
        v
    }

    /// Public API call with the test project's token.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(
            method,
            &format!("/v1/projects/{PROJECT}{path}"),
            TOKEN,
            body.as_ref(),
        )
    }

    pub fn instance(&self, name: &str) -> Option<Value> {
        let (status, v) = self.api("GET", &format!("/instances/{name}"), None);
        (status == 200).then_some(v)
    }

    pub fn instance_names(&self) -> Vec<String> {
        let (status, v) = self.api("GET", "/instances?page_size=100", None);
        assert_eq!(status, 200, "list instances: {v}");
        v["instances"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Names of the project's on-demand backups (`GET /backups`, every page).
    pub fn on_demand_backups(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let (status, v) = self.api(
                "GET",
                &format!("/backups?page_size=100&page_token={token}"),
                None,
            );
            assert_eq!(status, 200, "list backups: {v}");
            for b in v["backups"].as_array().into_iter().flatten() {
                if b["type"] == "ON_DEMAND" {
                    out.extend(b["name"].as_str().map(str::to_string));
                }
            }
            match v["next_page_token"].as_str() {
                Some(t) if !t.is_empty() => token = t.to_string(),
                _ => return out,
            }
        }
    }

    /// Request log entries (`GET /admin/requests`).
    pub fn requests(&self) -> Vec<Value> {
        let v = self.admin("GET", "/admin/requests", None);
        match v {
            Value::Array(a) => a,
            other => other["requests"].as_array().cloned().unwrap_or_default(),
        }
    }

    pub fn fault(&self, spec: Value) -> Value {
        self.admin("POST", "/admin/faults", Some(spec))
    }

    pub fn clear_faults(&self) {
        self.admin("DELETE", "/admin/faults", None);
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size_line, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.data_dir.is_some() {
            // Real engines: a graceful stop (SIGTERM) stops the engines the server started; a
            // SIGKILL would leave them running.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let t = Instant::now();
            while matches!(self.child.try_wait(), Ok(None)) && t.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process in its own process group; the whole group is killed on drop, so a failing test never
/// leaves terraform or provider processes behind.
pub struct GroupGuard(pub Child);

impl GroupGuard {
    /// Send `sig` (e.g. "-INT") to the child's process group.
    pub fn signal(&self, sig: &str) {
        let pgid = format!("-{}", self.0.id());
        let _ = Command::new("kill").args([sig, "--", &pgid]).status();
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            self.signal("-KILL");
        }
        let _ = self.0.wait();
    }
}

/// Result of one terraform command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Expected outcome of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanExpect {
    /// No changes (exit code 0).
    Empty,
    /// (add, change, destroy) counts as Terraform summarises them ("Plan: A to add, C to change, D to destroy").
    Changes {
        add: usize,
        change: usize,
        destroy: usize,
    },
}

/// One step: a configuration and what applying it must do.
#[derive(Debug, Clone, Default)]
pub struct Step {
    /// Resource HCL (the terraform/provider blocks are added by the harness).
    pub config: String,
    /// Expected plan before applying (None = don't check).
    pub plan: Option<PlanExpect>,
    /// When set, apply must fail with output matching this regex (plan errors count).
    pub expect_error: Option<String>,
    /// (resource address, attribute, expected JSON value) checked in state after apply.
    pub checks: Vec<(String, String, Value)>,
    /// Only plan, don't apply.
    pub plan_only: bool,
}

/// One test environment: server, mirror, CLI config and working directory.
pub struct Env {
    pub tf: PathBuf,
    pub tf_version: String,
    pub dir: tempfile::TempDir,
    pub work: PathBuf,
    pub server: Server,
    finished: bool,
    /// Extra env for terraform (e.g. TF_LOG).
    pub extra_env: BTreeMap<String, String>,
}

impl Env {
    pub fn new(tf: &Path) -> Env {
        Env::with_server(tf, ServerOpts::default())
    }

    pub fn with_server(tf: &Path, opts: ServerOpts) -> Env {
        // Under target/ (CARGO_TARGET_TMPDIR) so the provider can be hard-linked, not copied.
        let dir = tempfile::Builder::new()
            .prefix("clouddb-acc-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("tempdir");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).expect("work dir");
        // Per-test mirror: concurrent tests never share (or race on) a provider copy.
        let mirror = dir.path().join("mirror");
        let pkg = mirror.join(format!(
            "registry.terraform.io/clouddb/clouddb/{PROVIDER_VERSION}/linux_amd64"
        ));
        std::fs::create_dir_all(&pkg).expect("mirror dir");
        let src = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-clouddb"));
        let dst = pkg.join(format!("terraform-provider-clouddb_v{PROVIDER_VERSION}"));
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).expect("copy provider into mirror");
        }
        let rc = format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/clouddb/*\"]\n  }}\n}}\n",
            mirror.display()
        );
        std::fs::write(dir.path().join("terraformrc"), rc).expect("write terraformrc");
        let server = Server::start(&opts, &dir.path().join("server.log"));
        let mut env = Env {
            tf: tf.to_path_buf(),
            tf_version: String::new(),
            dir,
            work,
            server,
            finished: false,
            extra_env: BTreeMap::new(),
        };
        let v = env.tf(&["version", "-json"]);
        env.tf_version = serde_json::from_str::<Value>(&v.stdout)
            .ok()
            .and_then(|j| j["terraform_version"].as_str().map(str::to_string))
            .unwrap_or_default();
        env
    }

    /// True for Terraform older than `major.minor`.
    pub fn tf_older_than(&self, major: u64, minor: u64) -> bool {
        let mut parts = self
            .tf_version
            .split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0));
        let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (a, b) < (major, minor)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.tf);
        cmd.args(args)
            .current_dir(&self.work)
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CLOUDDB_ENDPOINT", &self.server.endpoint)
            .env("CLOUDDB_TOKEN", TOKEN)
            .env("CLOUDDB_PROJECT", PROJECT)
            .env_remove("TF_CLI_ARGS")
            .env_remove("TF_DATA_DIR")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("TF_REATTACH_PROVIDERS")
            .env("TF_LOG_PATH", self.dir.path().join("terraform.log"))
            // Plugin sockets go into the test's own directory: a plugin Terraform has to
            // SIGKILL (after an interrupt, say) cannot remove its socket itself.
            .env("PLUGIN_UNIX_SOCKET_DIR", self.dir.path())
            .stdin(Stdio::null());
        if std::env::var_os("TF_LOG").is_none() {
            cmd.env("TF_LOG", "debug");
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts `terraform apply` in its own process group (like a shell job, so a Ctrl-C reaches
    /// the whole group: Terraform 1.0's panicwrap parent relies on that) and returns once the
    /// create of instance `name` has reached the server, plus half a second.
    pub fn spawn_apply_until_created(&self, name: &str) -> GroupGuard {
        let child = self
            .command(&["apply", "-input=false", "-no-color", "-auto-approve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn terraform apply");
        let child = GroupGuard(child);
        let started = Instant::now();
        while self.server.instance(name).is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "create never reached the server"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        child
    }

    /// Run terraform with args; never panics on a non-zero exit.
    pub fn tf(&self, args: &[&str]) -> Run {
        let out: Output = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.tf.display()));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }

    /// Run terraform and panic with its output unless it exits 0.
    pub fn tf_ok(&self, args: &[&str]) -> Run {
        let r = self.tf(args);
        assert_eq!(
            r.code,
            0,
            "terraform {args:?} failed ({}):\n{}",
            self.tf_version,
            r.combined()
        );
        r
    }

    /// Write `main.tf`: provider boilerplate plus `resources`.
    pub fn write_config(&self, resources: &str) {
        self.write_config_with_provider("", resources);
    }

    /// Write `main.tf` with extra provider settings (HCL lines inside the `provider` block).
    pub fn write_config_with_provider(&self, settings: &str, resources: &str) {
        let hcl = format!(
            "terraform {{\n  required_providers {{\n    clouddb = {{\n      source = \"clouddb/clouddb\"\n    }}\n  }}\n}}\n\nprovider \"clouddb\" {{\n  poll_interval = \"100ms\"\n{settings}}}\n\n{resources}\n"
        );
        std::fs::write(self.work.join("main.tf"), hcl).expect("write main.tf");
        if !self.work.join(".terraform").exists() {
            self.tf_ok(&["init", "-input=false", "-no-color"]);
        }
    }

    /// `terraform plan -out` + `show -json`; returns (exit code, run, plan JSON or Null).
    pub fn plan(&self) -> (Run, Value) {
        let r = self.tf(&[
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            "-out=tfplan",
        ]);
        if r.code == 1 {
            return (r, Value::Null);
        }
        let show = self.tf_ok(&["show", "-json", "tfplan"]);
        let json: Value = serde_json::from_str(&show.stdout).expect("plan JSON");
        (r, json)
    }

    /// Assert the plan matches `expect`; returns the plan JSON.
    pub fn assert_plan(&self, expect: PlanExpect) -> Value {
        let (r, json) = self.plan();
        assert_ne!(
            r.code,
            1,
            "plan failed ({}):\n{}",
            self.tf_version,
            r.combined()
        );
        let (add, change, destroy) = count_actions(&json);
        match expect {
            PlanExpect::Empty => assert!(
                r.code == 0 && (add, change, destroy) == (0, 0, 0),
                "expected an empty plan ({}), got exit {} +{add} ~{change} -{destroy}:\n{}",
                self.tf_version,
                r.code,
                r.stdout
            ),
            PlanExpect::Changes {
                add: a,
                change: c,
                destroy: d,
            } => assert!(
                (add, change, destroy) == (a, c, d),
                "expected plan +{a} ~{c} -{d} ({}), got +{add} ~{change} -{destroy}:\n{}",
                self.tf_version,
                r.stdout
            ),
        }
        json
    }

    /// Apply the current config; panics on failure, then asserts the follow-up plan is empty.
    pub fn apply_ok(&self) -> Run {
        let r = self.tf(&["apply", "-input=false", "-no-color", "-auto-approve"]);
        assert_eq!(
            r.code,
            0,
            "apply failed ({}):\n{}",
            self.tf_version,
            r.combined()
        );
        self.assert_plan(PlanExpect::Empty);
        r
    }

    /// Apply expecting failure whose output matches `pattern`.
    pub fn apply_err(&self, pattern: &str) -> Run {
        let r = self.tf(&["apply", "-input=false", "-no-color", "-auto-approve"]);
        assert_ne!(
            r.code,
            0,
            "apply unexpectedly succeeded ({}):\n{}",
            self.tf_version,
            r.combined()
        );
        let re = regex::Regex::new(pattern).expect("regex");
        // Terraform wraps long diagnostics; match against whitespace-normalised text too.
        let flat = r
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            re.is_match(&r.combined()) || re.is_match(&flat),
            "apply error ({}) does not match {pattern:?}:\n{}",
            self.tf_version,
            r.combined()
        );
        r
    }

    /// Run one step.
    pub fn step(&self, step: &Step) {
        self.write_config(&step.config);
        if let Some(p) = step.plan {
            self.assert_plan(p);
        }
        if step.plan_only {
            return;
        }
        if let Some(pat) = &step.expect_error {
            self.apply_err(pat);
            return;
        }
        self.apply_ok();
        for (addr, attr, want) in &step.checks {
            let got = self.state_attr(addr, attr);
            assert_eq!(&got, want, "{addr}.{attr} ({})", self.tf_version);
        }
    }

    /// `terraform show -json` state resources by address.
    pub fn state(&self) -> BTreeMap<String, Value> {
        let r = self.tf_ok(&["show", "-json", "-no-color"]);
        let v: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
        let mut out = BTreeMap::new();
        if let Some(rs) = v["values"]["root_module"]["resources"].as_array() {
            for r in rs {
                if let Some(addr) = r["address"].as_str() {
                    out.insert(addr.to_string(), r["values"].clone());
                }
            }
        }
        out
    }

    pub fn state_attr(&self, addr: &str, attr: &str) -> Value {
        let st = self.state();
        let res = st
            .get(addr)
            .unwrap_or_else(|| panic!("{addr} not in state: {st:?}"));
        attr.split('.').fold(res.clone(), |v, k| v[k].clone())
    }

    /// Raw state file JSON (for taint status and private bytes).
    pub fn raw_state(&self) -> Value {
        let p = self.work.join("terraform.tfstate");
        std::fs::read_to_string(p)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null)
    }

    /// Destroy everything and assert the server holds no instances. Call at the end of every test.
    pub fn finish(mut self) {
        self.finished = true;
        self.destroy_all(true);
    }

    fn destroy_all(&self, strict: bool) {
        if !self.work.join(".terraform").exists() {
            return;
        }
        if !strict {
            // Best effort after a failure: bounded, and killed with its provider if it hangs.
            let child = self
                .command(&["destroy", "-input=false", "-no-color", "-auto-approve"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn();
            if let Ok(child) = child {
                let mut g = GroupGuard(child);
                let t = Instant::now();
                while matches!(g.0.try_wait(), Ok(None)) && t.elapsed() < Duration::from_secs(60) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            return;
        }
        let r = self.tf(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
        {
            assert_eq!(
                r.code,
                0,
                "destroy failed ({}):\n{}",
                self.tf_version,
                r.combined()
            );
            let left = self.server.instance_names();
            assert!(
                left.is_empty(),
                "server still holds instances after destroy: {left:?}"
            );
            // On-demand backups outlive their instance, so they are checked on their own. Final
            // backups are what `skip_final_backup = false` (the default) keeps on purpose.
            let backups = self.server.on_demand_backups();
            assert!(
                backups.is_empty(),
                "server still holds on-demand backups after destroy: {backups:?}"
            );
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort when a test failed half-way; the server dies with us anyway.
            self.destroy_all(false);
            if std::env::var_os("TF_ACC_KEEP").is_some() {
                let kept = self.dir.path().to_path_buf();
                eprintln!("keeping {}", kept.display());
                let _ = std::mem::replace(
                    &mut self.dir,
                    tempfile::Builder::new()
                        .prefix("clouddb-acc-dummy-")
                        .tempdir()
                        .expect("tempdir"),
                )
                .keep();
            }
        }
    }
}

/// (add, change, destroy) as Terraform counts them: a replace counts as one add and one destroy.
pub fn count_actions(plan: &Value) -> (usize, usize, usize) {
    let (mut add, mut change, mut destroy) = (0, 0, 0);
    for rc in plan["resource_changes"].as_array().into_iter().flatten() {
        if rc["mode"] != "managed" {
            continue;
        }
        let actions: Vec<&str> = rc["change"]["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for a in actions {
            match a {
                "create" => add += 1,
                "update" => change += 1,
                "delete" => destroy += 1,
                _ => {}
            }
        }
    }
    (add, change, destroy)
}

/// The planned change for `address`.
pub fn resource_change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .and_then(|a| a.iter().find(|rc| rc["address"] == address))
        .unwrap_or(&Value::Null)
}

/// Attribute names that are unknown ("known after apply") in a planned change.
pub fn unknown_attrs(change: &Value) -> Vec<String> {
    change["change"]["after_unknown"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| {
                    **v == Value::Bool(true) || (v.is_object() && v.to_string().contains("true"))
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

pub fn json_str(s: &str) -> Value {
    json!(s)
}

/// Advances the server's virtual clock in the background while alive.
pub struct ClockPump {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ClockPump {
    pub fn start(env: &Env) -> ClockPump {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let addr = env.server.addr.clone();
        let handle = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let body = r#"{"advance_seconds":1800}"#;
                let req = format!(
                    "POST /admin/clock HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    ADMIN_TOKEN,
                    body.len()
                );
                if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                    use std::io::{Read, Write};
                    let _ = s.write_all(req.as_bytes());
                    let mut sink = Vec::new();
                    let _ = s.read_to_end(&mut sink);
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        ClockPump {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for ClockPump {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
