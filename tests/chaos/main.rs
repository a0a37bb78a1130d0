//! Chaos suite: K rounds of apply → update → destroy of N `clouddb_instance`s through the real
//! Terraform CLI, the real provider binary and a real `clouddb-server` on a SQLite file, under random
//! faults (5xx/429 at a rate, responses dropped after commit, latency spikes, 404 windows after create,
//! failing operations), the server SIGKILLed and restarted mid-apply (same file, same port) and
//! Terraform interrupted (SIGINT to its process group) mid-apply and re-run.
//!
//! After every phase it compares Terraform state with the server: **orphans** (on the server, not in
//! state), **ghosts** (in state, not on the server, after a refresh), **duplicates** (two server
//! instances for one address), **lost** (an instance in state before any refresh that the server no
//! longer has, in the create/update phases: an acknowledged write that vanished) and **non-converged**
//! phases (the follow-up apply or destroy fails, or the `plan -detailed-exitcode` after it is not 0).
//!
//! `#[ignore]`d so `cargo test --workspace` skips it; `bench/chaos.sh` runs it (`--short` in CI,
//! `--full` for docs/chaos.md). Parameters (environment): `ROUNDS`, `N`, `FAULT_RATE`, `SEED`,
//! `PARALLELISM`, `OP_SECONDS`, `KILL_P`, `INT_P`, `CHAOS_TERRAFORM`, `CHAOS_REPORT`, `CHAOS_KEEP`.
//! The schedule (which faults, how many, when the kills and interrupts fire, how long the server is
//! down) comes from a deterministic RNG seeded by `SEED`; the interleaving with real time does not.

#[path = "../acceptance/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use harness::GroupGuard;

const TOKEN: &str = "chaos-token";
const PROJECT: &str = "chaos";
const ADMIN: &str = "chaos-admin";
/// Upper bound of one Terraform command; a command still running then is killed and reported.
const CMD_TIMEOUT: Duration = Duration::from_secs(900);
/// How long Terraform may take to exit after SIGINT before it is reported as hung and killed.
const INT_GRACE: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// Parameters and RNG

#[derive(Debug, Clone)]
struct Params {
    rounds: usize,
    n: usize,
    fault_rate: f64,
    seed: u64,
    parallelism: usize,
    op_seconds: f64,
    kill_p: f64,
    int_p: f64,
    tf: PathBuf,
    report: Option<PathBuf>,
    keep: bool,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} does not parse")),
        _ => default,
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl Params {
    fn from_env() -> Params {
        let seed = match std::env::var("SEED") {
            Ok(s) if !s.trim().is_empty() => {
                let s = s.trim();
                s.strip_prefix("0x")
                    .map(|h| u64::from_str_radix(h, 16))
                    .unwrap_or_else(|| s.parse())
                    .unwrap_or_else(|_| panic!("SEED={s:?} is not a number"))
            }
            _ => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 & 0xffff_ffff)
                .unwrap_or(1),
        };
        let tf = std::env::var_os("CHAOS_TERRAFORM")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| which("terraform"))
            .expect("no Terraform: set CHAOS_TERRAFORM or put terraform on PATH");
        assert!(tf.is_file(), "{} is not a file", tf.display());
        let p = Params {
            rounds: env_or("ROUNDS", 2),
            n: env_or("N", 5),
            fault_rate: env_or("FAULT_RATE", 0.1),
            seed,
            parallelism: env_or("PARALLELISM", 10),
            op_seconds: env_or("OP_SECONDS", 1.0),
            kill_p: env_or("KILL_P", 0.3),
            int_p: env_or("INT_P", 0.3),
            tf,
            report: std::env::var_os("CHAOS_REPORT")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            keep: std::env::var_os("CHAOS_KEEP").is_some_and(|v| !v.is_empty() && v != "0"),
        };
        assert!(
            p.rounds >= 1 && p.n >= 1 && p.n <= 999,
            "ROUNDS >= 1, 1 <= N <= 999"
        );
        assert!(
            (0.0..=1.0).contains(&p.fault_rate),
            "FAULT_RATE must be in 0..=1"
        );
        p
    }
}

/// SplitMix64: small, deterministic, good enough for a fault schedule.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP (loopback, tolerant of a dead server)

fn dechunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_line = String::from_utf8_lossy(&rest[..pos]).to_string();
        let size = usize::from_str_radix(size_line.trim(), 16).unwrap_or(0);
        let after = &rest[pos + 2..];
        if size == 0 || after.len() < size {
            break;
        }
        out.extend_from_slice(&after[..size]);
        rest = &after[size..];
        if rest.starts_with(b"\r\n") {
            rest = &rest[2..];
        }
    }
    out
}

fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let sock: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let mut s = TcpStream::connect_timeout(&sock, Duration::from_secs(3))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no HTTP head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| format!("{method} {path}: bad status line"))?;
    let body = &raw[split + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

// ---------------------------------------------------------------------------------------------
// The server: a SQLite file and a fixed port, so it can be SIGKILLed and restarted in place.

struct Server {
    bin: PathBuf,
    port: u16,
    data: PathBuf,
    log: PathBuf,
    op_seconds: f64,
    child: Option<Child>,
    starts: usize,
}

impl Server {
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    fn start(&mut self) {
        let secs = format!("{}", self.op_seconds);
        for attempt in 0..40 {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .expect("server log");
            let mut child = Command::new(&self.bin)
                .args(["--listen", &self.addr()])
                .arg("--data")
                .arg(&self.data)
                .args(["--token", &format!("{TOKEN}={PROJECT}")])
                .args(["--admin-token", ADMIN])
                .args(["--provision-time", &secs])
                .args(["--update-time", &secs])
                .args(["--delete-time", &secs])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(log))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
            let stdout = child.stdout.take().expect("server stdout");
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut r = BufReader::new(stdout);
                let mut line = String::new();
                let n = r.read_line(&mut line).unwrap_or(0);
                let _ = tx.send((n, line));
                let mut sink = Vec::new();
                let _ = r.read_to_end(&mut sink);
            });
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok((n, line)) if n > 0 && line.starts_with("listening on") => {
                    self.child = Some(child);
                    self.starts += 1;
                    return;
                }
                _ => {
                    // Most likely the port is still held a moment after the kill: try again.
                    let _ = child.kill();
                    let _ = child.wait();
                    eprintln!("chaos: server start attempt {attempt} failed; retrying");
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
        }
        panic!(
            "clouddb-server did not come back on {}; see {}",
            self.addr(),
            self.log.display()
        );
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let (status, v) = http(&self.addr(), method, path, ADMIN, body)?;
        if (200..300).contains(&status) {
            Ok(v)
        } else {
            Err(format!("admin {method} {path} -> {status}: {v}"))
        }
    }

    /// Every instance of the project (paged), retried a few times.
    fn instances(&self) -> Vec<Value> {
        for _ in 0..20 {
            if let Ok(v) = self.try_instances() {
                return v;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("cannot list instances on {}", self.addr());
    }

    fn try_instances(&self) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        let mut token = String::new();
        for _ in 0..100 {
            let path = format!("/v1/projects/{PROJECT}/instances?page_size=500&page_token={token}");
            let (status, v) = http(&self.addr(), "GET", &path, TOKEN, None)?;
            if status != 200 {
                return Err(format!("list -> {status}: {v}"));
            }
            out.extend(v["instances"].as_array().cloned().unwrap_or_default());
            match v["next_page_token"].as_str() {
                Some(t) if !t.is_empty() => token = t.to_string(),
                _ => return Ok(out),
            }
        }
        Err("too many pages".into())
    }

    fn faults(&self) -> Vec<Value> {
        self.admin("GET", "/admin/faults", None)
            .ok()
            .and_then(|v| v["faults"].as_array().cloned())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

// ---------------------------------------------------------------------------------------------
// Faults

/// Fault kinds as reported (the server's rule kinds plus the two process-level ones).
const KINDS: &[&str] = &[
    "random (5xx/429)",
    "drop_response",
    "latency",
    "not_found_after_create",
    "fail_operation",
    "server SIGKILL+restart",
    "terraform SIGINT+rerun",
];

fn kind_label(rule_kind: &str) -> &'static str {
    match rule_kind {
        "random" => KINDS[0],
        "drop_response" => KINDS[1],
        "latency" => KINDS[2],
        "not_found_after_create" => KINDS[3],
        "fail_operation" => KINDS[4],
        _ => "other",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Create,
    Update,
    Destroy,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Update => "update",
            Phase::Destroy => "destroy",
        }
    }
    fn method(self) -> &'static str {
        match self {
            Phase::Create => "POST",
            Phase::Update => "PATCH",
            Phase::Destroy => "DELETE",
        }
    }
}

/// The fault rules of one phase, from the RNG.
fn phase_faults(rng: &mut Rng, p: &Params, phase: Phase) -> Vec<Value> {
    let scaled = |f: f64| ((p.n as f64 * p.fault_rate * f).ceil() as u64).max(1);
    let inst = format!("/v1/projects/{PROJECT}/instances");
    let mut rules = vec![json!({
        "kind": "random", "rate": p.fault_rate,
        "statuses": [500, 502, 503, 429],
        "path_prefix": format!("/v1/projects/{PROJECT}"),
    })];
    rules.push(json!({
        "kind": "drop_response", "method": phase.method(), "path_prefix": inst,
        "count": rng.range(scaled(0.5), scaled(1.0)),
    }));
    rules.push(json!({
        "kind": "fail_operation", "method": phase.method(), "path_prefix": inst,
        "count": rng.range(1, scaled(0.5)),
    }));
    rules.push(json!({
        "kind": "latency", "millis": rng.range(300, 3000),
        "path_prefix": format!("/v1/projects/{PROJECT}"),
        "count": rng.range(1, scaled(1.0)),
    }));
    if phase == Phase::Create {
        rules.push(json!({
            "kind": "not_found_after_create", "seconds": rng.range(2, 6),
            "path_prefix": inst,
        }));
    }
    rules
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Kill,
    Interrupt,
}

#[derive(Debug, Clone)]
struct Event {
    kind: EventKind,
    /// Fire once this many instance writes (POST/PATCH/DELETE) reached the server in this step.
    after_writes: usize,
    /// Kill only: how long the server stays down.
    down_ms: u64,
    fired: bool,
}

fn phase_events(rng: &mut Rng, p: &Params, round: usize, phase: Phase) -> Vec<Event> {
    let hi = (p.n as u64 / 2).max(1);
    let mut kill = rng.chance(p.kill_p);
    let mut int = rng.chance(p.int_p);
    // Every create phase gets one of the two, alternating, so every run has both mid-apply.
    if phase == Phase::Create {
        if round % 2 == 1 {
            kill = true;
        } else {
            int = true;
        }
    }
    let mut ev = Vec::new();
    if kill {
        ev.push(Event {
            kind: EventKind::Kill,
            after_writes: rng.range(1, hi) as usize,
            down_ms: rng.range(200, 2000),
            fired: false,
        });
    }
    if int {
        ev.push(Event {
            kind: EventKind::Interrupt,
            after_writes: rng.range(1, hi) as usize,
            down_ms: 0,
            fired: false,
        });
    }
    ev.sort_by_key(|e| e.after_writes);
    ev
}

// ---------------------------------------------------------------------------------------------
// Terraform

struct Tf {
    bin: PathBuf,
    dir: PathBuf,
    work: PathBuf,
    logs: PathBuf,
    endpoint: String,
    parallelism: usize,
    seq: usize,
}

#[derive(Debug, Clone)]
struct TfRun {
    code: i32,
    output: String,
    hung: bool,
}

impl Tf {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(&self.work)
            .env("TF_CLI_CONFIG_FILE", self.dir.join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CLOUDDB_ENDPOINT", &self.endpoint)
            .env("CLOUDDB_TOKEN", TOKEN)
            .env("CLOUDDB_PROJECT", PROJECT)
            .env_remove("TF_CLI_ARGS")
            .env_remove("TF_DATA_DIR")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("TF_REATTACH_PROVIDERS")
            .env_remove("TF_LOG")
            .env("PLUGIN_UNIX_SOCKET_DIR", &self.dir)
            .stdin(Stdio::null());
        if let Ok(level) = std::env::var("CHAOS_TF_LOG")
            && !level.is_empty()
        {
            cmd.env("TF_LOG", level)
                .env("TF_LOG_PATH", self.dir.join("terraform.log"));
        }
        cmd
    }

    /// Start a command in its own process group, output to a log file.
    fn spawn(&mut self, label: &str, args: &[&str]) -> (GroupGuard, PathBuf) {
        self.seq += 1;
        let log = self.logs.join(format!("{:04}-{label}.txt", self.seq));
        let out = std::fs::File::create(&log).expect("tf log");
        let err = out.try_clone().expect("tf log");
        let child = self
            .command(args)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()));
        (GroupGuard(child), log)
    }

    fn finish(mut g: GroupGuard, log: PathBuf, hung: bool) -> TfRun {
        let code = g.0.wait().ok().and_then(|s| s.code()).unwrap_or(-1);
        drop(g);
        TfRun {
            code,
            output: std::fs::read_to_string(&log).unwrap_or_default(),
            hung,
        }
    }

    /// Run to completion (bounded by [`CMD_TIMEOUT`]).
    fn run(&mut self, label: &str, args: &[&str]) -> TfRun {
        let started = Instant::now();
        let (mut g, log) = self.spawn(label, args);
        let mut hung = false;
        while matches!(g.0.try_wait(), Ok(None)) {
            if started.elapsed() > CMD_TIMEOUT {
                hung = true;
                g.signal("-KILL");
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Tf::finish(g, log, hung)
    }

    fn par(&self) -> String {
        format!("-parallelism={}", self.parallelism)
    }
}

fn config_hcl(p: &Params, round: usize, phase: Phase) -> String {
    let (tier, gen_) = match phase {
        Phase::Update => ("db-small", 2),
        _ => ("db-micro", 1),
    };
    // Even rounds also grow the storage in the update.
    let storage = if phase == Phase::Update && round.is_multiple_of(2) {
        20
    } else {
        10
    };
    format!(
        r#"terraform {{
  required_providers {{
    clouddb = {{
      source = "clouddb/clouddb"
    }}
  }}
}}

provider "clouddb" {{
  poll_interval = "200ms"
}}

resource "clouddb_instance" "db" {{
  count             = {n}
  name              = format("chaos-r%02d-%03d", {round}, count.index)
  tier              = "{tier}"
  storage_gb        = {storage}
  skip_final_backup = true
  labels = {{
    chaos_round = "r{round}"
    chaos_addr  = "db-${{count.index}}"
    gen         = "{gen_}"
  }}
}}
"#,
        n = p.n
    )
}

/// Instances in the state file: name → (address, tainted). Read directly: no provider needed.
fn state_instances(work: &Path) -> BTreeMap<String, (String, bool)> {
    let raw: Value = std::fs::read_to_string(work.join("terraform.tfstate"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let mut out = BTreeMap::new();
    for r in raw["resources"].as_array().into_iter().flatten() {
        if r["type"] != "clouddb_instance" || r["mode"] != "managed" {
            continue;
        }
        let base = format!("clouddb_instance.{}", r["name"].as_str().unwrap_or("?"));
        for i in r["instances"].as_array().into_iter().flatten() {
            let addr = match &i["index_key"] {
                Value::Null => base.clone(),
                Value::String(s) => format!("{base}[\"{s}\"]"),
                k => format!("{base}[{k}]"),
            };
            let name = i["attributes"]["name"].as_str().unwrap_or("").to_string();
            out.insert(name, (addr, i["status"] == "tainted"));
        }
    }
    out
}

/// Address an instance name belongs to (names are `chaos-rRR-III` → `clouddb_instance.db[III]`).
fn addr_of(name: &str) -> String {
    name.rsplit('-')
        .next()
        .and_then(|i| i.parse::<usize>().ok())
        .map(|i| format!("clouddb_instance.db[{i}]"))
        .unwrap_or_else(|| format!("? ({name})"))
}

/// The Terraform error blocks (an `Error:` line and what follows up to the next block) that mention
/// `needle`, shortened.
fn error_blocks(output: &str, needle: Option<&str>, max: usize) -> Vec<String> {
    let lines: Vec<&str> = output.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() && out.len() < max {
        if lines[i].trim_start().starts_with("Error:") {
            let mut j = i + 1;
            while j < lines.len() && !lines[j].trim_start().starts_with("Error:") && j < i + 14 {
                j += 1;
            }
            let block = lines[i..j]
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty() && !l.starts_with('│') && !l.starts_with("on main.tf"))
                .collect::<Vec<_>>()
                .join(" ⏎ ");
            if needle.is_none_or(|n| block.contains(n)) {
                let mut b = block;
                if b.len() > 700 {
                    let mut cut = 700;
                    while !b.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    b.truncate(cut);
                    b.push('…');
                }
                out.push(b);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// One chaos step: a Terraform command with faults, kills and interrupts.

#[derive(Debug, Default, Clone)]
struct StepLog {
    /// (code of the first run, code of the re-run after an interrupt)
    codes: Vec<i32>,
    kills: usize,
    interrupts: usize,
    /// Events that did not fire because the command finished first.
    skipped: Vec<String>,
    hung: Vec<String>,
    /// Seconds from SIGINT until Terraform exited.
    stop_secs: Vec<f64>,
    hits: BTreeMap<&'static str, u64>,
    outputs: Vec<TfRun>,
}

/// Add the hits of the current rules to `hits`.
fn tally_hits(rules: &[Value], hits: &mut BTreeMap<&'static str, u64>) {
    for r in rules {
        let k = kind_label(r["kind"].as_str().unwrap_or(""));
        *hits.entry(k).or_default() += r["hits"].as_u64().unwrap_or(0);
    }
}

/// Re-create rules (their remaining counts) on a restarted server.
fn reinstall(server: &Server, rules: &[Value]) {
    for r in rules {
        if r["remaining"].as_u64() == Some(0) {
            continue;
        }
        let mut spec = r.clone();
        if let Some(o) = spec.as_object_mut() {
            let remaining = o.get("remaining").cloned();
            for k in ["id", "hits", "remaining"] {
                o.remove(k);
            }
            o.retain(|_, v| !v.is_null());
            if let Some(rem) = remaining.filter(|v| !v.is_null()) {
                o.insert("count".into(), rem);
            }
        }
        if let Err(e) = server.admin("POST", "/admin/faults", Some(&spec)) {
            eprintln!("chaos: cannot reinstall fault {spec}: {e}");
        }
    }
}

/// Instance writes (POST/PATCH/DELETE under /instances) and 404 answers to instance GETs in the
/// request log after `cursor` (the server does not count hits of `not_found_after_create`).
fn count_writes(server: &Server, cursor: &mut u64) -> Option<(usize, u64)> {
    let v = server
        .admin(
            "GET",
            &format!("/admin/requests?since={cursor}&limit=10000"),
            None,
        )
        .ok()?;
    let entries = match v {
        Value::Array(a) => a,
        other => other["requests"].as_array().cloned().unwrap_or_default(),
    };
    let (mut writes, mut not_found) = (0, 0);
    for e in &entries {
        if let Some(s) = e["seq"].as_u64() {
            *cursor = (*cursor).max(s);
        }
        let m = e["method"].as_str().unwrap_or("");
        let path = e["path"].as_str().unwrap_or("");
        if matches!(m, "POST" | "PATCH" | "DELETE") && path.contains("/instances") {
            writes += 1;
        }
        if m == "GET" && path.contains("/instances/") && e["status"].as_u64() == Some(404) {
            not_found += 1;
        }
    }
    Some((writes, not_found))
}

fn chaos_step(
    server: &mut Server,
    tf: &mut Tf,
    label: &str,
    args: &[&str],
    rules: &[Value],
    mut events: Vec<Event>,
) -> StepLog {
    let mut log = StepLog::default();
    let _ = server.admin("DELETE", "/admin/faults", None);
    for r in rules {
        server
            .admin("POST", "/admin/faults", Some(r))
            .unwrap_or_else(|e| panic!("install fault: {e}"));
    }
    let mut cursor = 0u64;
    // Start counting from now.
    let _ = count_writes(server, &mut cursor);
    let mut writes = 0usize;
    let mut not_found = 0u64;
    let window = rules.iter().any(|r| r["kind"] == "not_found_after_create");
    let started = Instant::now();
    let (mut g, out) = tf.spawn(label, args);
    let mut interrupted_at: Option<Instant> = None;
    let mut hung = false;
    loop {
        if !matches!(g.0.try_wait(), Ok(None)) {
            if let Some(t) = interrupted_at {
                log.stop_secs.push(t.elapsed().as_secs_f64());
            }
            break;
        }
        if started.elapsed() > CMD_TIMEOUT {
            log.hung.push(format!(
                "{label}: still running after {CMD_TIMEOUT:?}; killed"
            ));
            g.signal("-KILL");
            hung = true;
            break;
        }
        if let Some(t) = interrupted_at
            && t.elapsed() > INT_GRACE
        {
            log.hung.push(format!(
                "{label}: still running {INT_GRACE:?} after SIGINT; killed"
            ));
            g.signal("-KILL");
            hung = true;
            break;
        }
        if let Some((n, nf)) = count_writes(server, &mut cursor) {
            writes += n;
            not_found += nf;
        }
        for ev in events.iter_mut().filter(|e| !e.fired) {
            if writes < ev.after_writes {
                continue;
            }
            ev.fired = true;
            match ev.kind {
                EventKind::Kill => {
                    let before = server.faults();
                    server.kill9();
                    tally_hits(&before, &mut log.hits);
                    std::thread::sleep(Duration::from_millis(ev.down_ms));
                    server.start();
                    reinstall(server, &before);
                    cursor = 0;
                    log.kills += 1;
                    eprintln!(
                        "chaos: {label}: SIGKILL server after {writes} writes, down {} ms",
                        ev.down_ms
                    );
                }
                EventKind::Interrupt => {
                    g.signal("-INT");
                    interrupted_at = Some(Instant::now());
                    log.interrupts += 1;
                    eprintln!("chaos: {label}: SIGINT terraform after {writes} writes");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let first = Tf::finish(g, out, hung);
    if let Some((_, nf)) = count_writes(server, &mut cursor) {
        not_found += nf;
    }
    log.codes.push(first.code);
    log.outputs.push(first);
    for ev in events.iter().filter(|e| !e.fired) {
        log.skipped.push(format!(
            "{:?} after {} writes (only {writes} seen)",
            ev.kind, ev.after_writes
        ));
    }
    if interrupted_at.is_some() {
        // Re-run the interrupted command, faults still active.
        let rerun = tf.run(&format!("{label}-rerun"), args);
        if rerun.hung {
            log.hung.push(format!("{label}-rerun: timed out; killed"));
        }
        log.codes.push(rerun.code);
        log.outputs.push(rerun);
    }
    if let Some((_, nf)) = count_writes(server, &mut cursor) {
        not_found += nf;
    }
    tally_hits(&server.faults(), &mut log.hits);
    if window {
        // 404s during the window (the rule has no hit counter).
        *log.hits.entry(KINDS[3]).or_default() += not_found;
    }
    let _ = server.admin("DELETE", "/admin/faults", None);
    log
}

// ---------------------------------------------------------------------------------------------
// Checks

#[derive(Debug, Default, Clone)]
struct PhaseResult {
    phase: &'static str,
    step: StepLog,
    /// In state before any refresh, gone from the server (create/update phases).
    lost: BTreeSet<String>,
    orphans: BTreeSet<String>,
    ghosts: BTreeSet<String>,
    duplicates: BTreeSet<String>,
    converged: bool,
    followup_code: i32,
    plan_code: i32,
    followup: Option<TfRun>,
    plan: Option<TfRun>,
    repaired: Vec<String>,
    secs: f64,
}

fn server_names(server: &Server, prefix: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    let mut by_addr: BTreeMap<String, usize> = BTreeMap::new();
    for i in server.instances() {
        let name = i["name"].as_str().unwrap_or("").to_string();
        if !name.starts_with(prefix) {
            continue;
        }
        if let Some(a) = i["labels"]["chaos_addr"].as_str() {
            *by_addr.entry(a.to_string()).or_default() += 1;
        }
        names.insert(name);
    }
    let dups = by_addr
        .into_iter()
        .filter(|(_, c)| *c > 1)
        .map(|(a, _)| a)
        .collect();
    (names, dups)
}

#[allow(clippy::too_many_arguments)]
fn run_phase(
    p: &Params,
    rng: &mut Rng,
    server: &mut Server,
    tf: &mut Tf,
    round: usize,
    phase: Phase,
) -> PhaseResult {
    let started = Instant::now();
    let prefix = format!("chaos-r{round:02}-");
    let label = format!("r{round:02}-{}", phase.name());
    if phase != Phase::Destroy {
        std::fs::write(tf.work.join("main.tf"), config_hcl(p, round, phase)).expect("main.tf");
    }
    let rules = phase_faults(rng, p, phase);
    let events = phase_events(rng, p, round, phase);
    let par = tf.par();
    let args: Vec<&str> = match phase {
        Phase::Destroy => vec![
            "destroy",
            "-input=false",
            "-no-color",
            "-auto-approve",
            &par,
        ],
        _ => vec!["apply", "-input=false", "-no-color", "-auto-approve", &par],
    };
    let step = chaos_step(server, tf, &label, &args, &rules, events);
    let mut res = PhaseResult {
        phase: phase.name(),
        step,
        ..Default::default()
    };

    // Before any refresh: what the state claims that the server does not have.
    let (on_server, _) = server_names(server, &prefix);
    if phase != Phase::Destroy {
        for name in state_instances(&tf.work).keys() {
            if name.starts_with(&prefix) && !on_server.contains(name) {
                res.lost.insert(name.clone());
            }
        }
    }

    // One follow-up apply (or destroy), no faults, then the plan must be empty.
    let follow = tf.run(&format!("{label}-followup"), &args);
    let plan_args: Vec<&str> = match phase {
        Phase::Destroy => vec![
            "plan",
            "-destroy",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
        ],
        _ => vec!["plan", "-input=false", "-no-color", "-detailed-exitcode"],
    };
    let plan = tf.run(&format!("{label}-plan"), &plan_args);
    res.followup_code = follow.code;
    res.plan_code = plan.code;
    res.converged = follow.code == 0 && plan.code == 0;

    // After that refresh: state against server.
    let state = state_instances(&tf.work);
    let (on_server, dups) = server_names(server, &prefix);
    res.duplicates = dups;
    for name in &on_server {
        if !state.contains_key(name) {
            res.orphans.insert(name.clone());
        }
    }
    for name in state.keys() {
        if !on_server.contains(name) {
            res.ghosts.insert(name.clone());
        }
    }
    res.followup = Some(follow);
    res.plan = Some(plan);

    // Repair, so the next phase starts from a clean, known state (and record what was needed).
    if !res.converged || !res.orphans.is_empty() || !res.ghosts.is_empty() {
        for name in &res.orphans {
            let path = format!("/admin/drift/projects/{PROJECT}/instances/{name}");
            match server.admin("DELETE", &path, None) {
                Ok(_) => res
                    .repaired
                    .push(format!("deleted orphan {name} via admin")),
                Err(e) => res
                    .repaired
                    .push(format!("could not delete orphan {name}: {e}")),
            }
        }
        for name in &res.ghosts {
            if let Some((addr, _)) = state.get(name) {
                let r = tf.run(
                    &format!("{label}-staterm"),
                    &["state", "rm", "-no-color", addr],
                );
                res.repaired
                    .push(format!("state rm {addr} (exit {})", r.code));
            }
        }
        let again = tf.run(&format!("{label}-repair"), &args);
        let plan_again = tf.run(&format!("{label}-repair-plan"), &plan_args);
        res.repaired.push(format!(
            "repair {} exit {}, plan exit {}",
            args[0], again.code, plan_again.code
        ));
    }
    if phase == Phase::Destroy {
        // Whatever is left goes, so rounds are independent.
        let left = state_instances(&tf.work);
        for (_, (addr, _)) in left.iter() {
            let r = tf.run(
                &format!("{label}-cleanup"),
                &["state", "rm", "-no-color", addr],
            );
            res.repaired
                .push(format!("cleanup: state rm {addr} (exit {})", r.code));
        }
        let (left_srv, _) = server_names(server, &prefix);
        for name in left_srv {
            let path = format!("/admin/drift/projects/{PROJECT}/instances/{name}");
            let _ = server.admin("DELETE", &path, None);
            res.repaired
                .push(format!("cleanup: deleted {name} via admin"));
        }
    }
    res.secs = started.elapsed().as_secs_f64();
    res
}

// ---------------------------------------------------------------------------------------------
// Report

struct RoundResult {
    round: usize,
    phases: Vec<PhaseResult>,
    secs: f64,
}

impl RoundResult {
    fn union(&self, f: impl Fn(&PhaseResult) -> &BTreeSet<String>) -> BTreeSet<String> {
        self.phases
            .iter()
            .flat_map(|p| f(p).iter().cloned())
            .collect()
    }
    fn converged(&self) -> bool {
        self.phases.iter().all(|p| p.converged)
    }
}

fn fmt_codes(s: &StepLog) -> String {
    s.codes
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("→")
}

fn events_cell(s: &StepLog) -> String {
    let mut v = Vec::new();
    if s.kills > 0 {
        v.push(format!("K{}", s.kills));
    }
    if s.interrupts > 0 {
        v.push(format!("I{}", s.interrupts));
    }
    if v.is_empty() {
        "-".into()
    } else {
        v.join("+")
    }
}

fn table(rounds: &[RoundResult]) -> String {
    let mut t = String::new();
    t.push_str("| round | faults fired (rnd/drop/lat/404/failop) | kill/int (c·u·d) | exit codes c · u · d | orphans | ghosts | lost | dups | converged (c·u·d) | repairs | secs |\n");
    t.push_str("|---:|---|---|---|---:|---:|---:|---:|---|---:|---:|\n");
    for r in rounds {
        let mut hits: BTreeMap<&str, u64> = BTreeMap::new();
        for p in &r.phases {
            for (k, v) in &p.step.hits {
                *hits.entry(k).or_default() += v;
            }
        }
        let h = |k: &str| hits.get(k).copied().unwrap_or(0);
        let conv = r
            .phases
            .iter()
            .map(|p| if p.converged { "✓" } else { "✗" })
            .collect::<Vec<_>>()
            .join("·");
        let repairs: usize = r.phases.iter().filter(|p| !p.repaired.is_empty()).count();
        let _ = writeln!(
            t,
            "| {} | {}/{}/{}/{}/{} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |",
            r.round,
            h(KINDS[0]),
            h(KINDS[1]),
            h(KINDS[2]),
            h(KINDS[3]),
            h(KINDS[4]),
            r.phases
                .iter()
                .map(|p| events_cell(&p.step))
                .collect::<Vec<_>>()
                .join("·"),
            r.phases
                .iter()
                .map(|p| fmt_codes(&p.step))
                .collect::<Vec<_>>()
                .join(" · "),
            r.union(|p| &p.orphans).len(),
            r.union(|p| &p.ghosts).len(),
            r.union(|p| &p.lost).len(),
            r.union(|p| &p.duplicates).len(),
            conv,
            repairs,
            r.secs
        );
    }
    t
}

fn findings(rounds: &[RoundResult]) -> String {
    let mut f = String::new();
    for r in rounds {
        for p in &r.phases {
            let outputs: Vec<&TfRun> = p.step.outputs.iter().collect();
            let mut add = |what: &str, names: &BTreeSet<String>| {
                for name in names {
                    let _ = writeln!(
                        f,
                        "- round {} {}: **{what}** `{name}` ({}); kills {}, interrupts {}; faults fired {:?}",
                        r.round,
                        p.phase,
                        addr_of(name),
                        p.step.kills,
                        p.step.interrupts,
                        p.step.hits
                    );
                    for o in &outputs {
                        for b in error_blocks(&o.output, Some(&format!("\"{name}\"")), 3) {
                            let _ = writeln!(f, "  - chaos step (exit {}): `{b}`", o.code);
                        }
                    }
                    if let Some(fo) = &p.followup {
                        for b in error_blocks(&fo.output, Some(&format!("\"{name}\"")), 2) {
                            let _ = writeln!(f, "  - follow-up (exit {}): `{b}`", fo.code);
                        }
                    }
                }
            };
            add("orphan", &p.orphans);
            add("ghost", &p.ghosts);
            add("lost (acknowledged, then gone)", &p.lost);
            add("duplicate", &p.duplicates);
            if !p.converged {
                let _ = writeln!(
                    f,
                    "- round {} {}: **not converged** (follow-up exit {}, plan exit {}); kills {}, interrupts {}",
                    r.round, p.phase, p.followup_code, p.plan_code, p.step.kills, p.step.interrupts
                );
                if let Some(fo) = &p.followup {
                    for b in error_blocks(&fo.output, None, 4) {
                        let _ = writeln!(f, "  - follow-up: `{b}`");
                    }
                }
                if let Some(pl) = &p.plan {
                    for l in pl
                        .output
                        .lines()
                        .filter(|l| {
                            l.starts_with("Plan:")
                                || l.contains("must be replaced")
                                || l.contains("will be created")
                        })
                        .take(6)
                    {
                        let _ = writeln!(f, "  - plan: `{}`", l.trim());
                    }
                    for b in error_blocks(&pl.output, None, 2) {
                        let _ = writeln!(f, "  - plan: `{b}`");
                    }
                }
            }
            for h in &p.step.hung {
                let _ = writeln!(f, "- round {} {}: **hung**: {h}", r.round, p.phase);
            }
            for rep in &p.repaired {
                let _ = writeln!(f, "  - round {} {} repair: {rep}", r.round, p.phase);
            }
        }
    }
    if f.is_empty() {
        f.push_str(
            "None: every phase converged with no orphan, ghost, lost instance or duplicate.\n",
        );
    }
    f
}

/// Non-fatal observations: chaos-step errors (expected under faults), skipped events, stop times.
fn notes(rounds: &[RoundResult]) -> String {
    let mut errs: BTreeMap<String, usize> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut stops = Vec::new();
    let re =
        regex::Regex::new(r#"chaos-r\d+-\d+|\[\d+\]|req-[0-9a-f-]+|op-[0-9a-f-]+"#).expect("regex");
    for r in rounds {
        for p in &r.phases {
            for o in &p.step.outputs {
                for b in error_blocks(&o.output, None, 1000) {
                    // Group by the first line of the block, without instance names.
                    let head = b
                        .split(" ⏎ ")
                        .filter(|l| {
                            let source_line = l
                                .split(':')
                                .next()
                                .is_some_and(|n| n.trim().parse::<u32>().is_ok());
                            !l.starts_with("with ") && !source_line
                        })
                        .take(3)
                        .collect::<Vec<_>>()
                        .join(" / ");
                    let key = re.replace_all(&head, "…").to_string();
                    let key: String = key.chars().take(300).collect();
                    *errs.entry(key).or_default() += 1;
                }
            }
            for s in &p.step.skipped {
                skipped.push(format!("round {} {}: {s}", r.round, p.phase));
            }
            stops.extend(p.step.stop_secs.iter().copied());
        }
    }
    let mut n = String::new();
    if !stops.is_empty() {
        let max = stops.iter().copied().fold(0.0, f64::max);
        let _ = writeln!(
            n,
            "- Terraform exited after SIGINT in at most {max:.1} s ({} interrupts).",
            stops.len()
        );
    }
    if !skipped.is_empty() {
        let _ = writeln!(
            n,
            "- Events that did not fire (the command finished before the trigger): {}.",
            skipped.join("; ")
        );
    }
    if !errs.is_empty() {
        n.push_str("- Errors reported by the chaos steps themselves (expected under faults; each was then handled by the follow-up):\n");
        let mut v: Vec<_> = errs.into_iter().collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        for (k, c) in v.into_iter().take(15) {
            let _ = writeln!(n, "  - {c}× `{k}`");
        }
    }
    n
}

/// Markers around the generated part of the report.
const BEGIN: &str =
    "<!-- chaos:begin (generated by bench/chaos.sh; edits inside are overwritten) -->";
const END: &str = "<!-- chaos:end -->";

const LEGEND: &str = "## How to read this

Each round is three phases on one configuration of N `clouddb_instance`s (`count`, names
`chaos-rRR-III`, address `clouddb_instance.db[III]`): **c**reate (`apply`, tier `db-micro`),
**u**pdate (`apply`: tier `db-small`, which takes an operation, a label change and, in even
rounds, storage 10 → 20 GB) and **d**estroy (`destroy`). Every phase runs its Terraform command once under chaos: a `random`
rule failing requests at the fault rate with 500/502/503/429, `drop_response` on the phase's
write method (committed, then an empty 502), `fail_operation` on the same method (accepted, then
the operation fails), `latency` spikes (0.3–3 s, a few requests) and, in create phases, a
`not_found_after_create` window (2–6 s; its column counts the 404s it produced). Kills (`K`)
SIGKILL `clouddb-server` once a random number of instance writes reached it and restart it on
the same SQLite file and port after 0.2–2 s (its in-memory fault rules are re-installed with their remaining counts); interrupts (`I`) send SIGINT to
Terraform's process group at such a point and, once it has exited, re-run the same command (faults
still on). Then, with faults off, one follow-up `apply` (`destroy`) and a
`plan -detailed-exitcode` (`plan -destroy -detailed-exitcode`), which must exit 0.

Columns: *faults fired* are the server's hit counters per rule kind; *exit codes* are the chaos
step's exit status (→ the re-run after an interrupt); **orphans** are server instances of the round
not in state after the follow-up (which refreshed); **ghosts** are state entries the server does not
have after it; **lost** are instances in state straight after the chaos step (no refresh) that the
server no longer has, in create and update phases (an acknowledged write that vanished); **dups**
are addresses (label `chaos_addr`) with two server instances; **converged** means the follow-up
and its plan exited 0; *repairs* counts phases the driver had to repair (delete orphans via the
admin API, `state rm` ghosts, one more apply) so that the next phase starts clean.

Reproduce: `SEED=<seed> ROUNDS=<r> N=<n> FAULT_RATE=<rate> bench/chaos.sh` (the fault schedule is
a function of the seed; where a kill or interrupt lands relative to Terraform's own progress depends
on timing, so a rerun is similar, not identical).
";

// ---------------------------------------------------------------------------------------------

#[test]
#[ignore = "chaos suite: run with bench/chaos.sh"]
fn chaos() {
    let p = Params::from_env();
    let wall = Instant::now();
    let mut rng = Rng(p.seed);
    let tmp_root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&tmp_root).expect("tmp root");
    let dir = tempfile::Builder::new()
        .prefix("chaos-")
        .tempdir_in(&tmp_root)
        .expect("tempdir");
    let root = dir.path().to_path_buf();
    let work = root.join("work");
    let logs = root.join("logs");
    std::fs::create_dir_all(&work).expect("work");
    std::fs::create_dir_all(&logs).expect("logs");
    let pkg = root.join(format!(
        "mirror/registry.terraform.io/clouddb/clouddb/{}/linux_amd64",
        harness::PROVIDER_VERSION
    ));
    std::fs::create_dir_all(&pkg).expect("mirror");
    let src = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-clouddb"));
    let dst = pkg.join(format!(
        "terraform-provider-clouddb_v{}",
        harness::PROVIDER_VERSION
    ));
    if std::fs::hard_link(&src, &dst).is_err() {
        std::fs::copy(&src, &dst).expect("copy provider");
    }
    std::fs::write(
        root.join("terraformrc"),
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/clouddb/*\"]\n  }}\n}}\n",
            root.join("mirror").display()
        ),
    )
    .expect("terraformrc");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut server = Server {
        bin: harness::server_binary(),
        port,
        data: root.join("clouddb.db"),
        log: root.join("server.log"),
        op_seconds: p.op_seconds,
        child: None,
        starts: 0,
    };
    server.start();
    let mut tf = Tf {
        bin: p.tf.clone(),
        dir: root.clone(),
        work: work.clone(),
        logs,
        endpoint: server.endpoint(),
        parallelism: p.parallelism,
        seq: 0,
    };
    let version = tf.run("version", &["version", "-json"]);
    let tf_version = serde_json::from_str::<Value>(&version.output)
        .ok()
        .and_then(|v| v["terraform_version"].as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    println!(
        "chaos: seed={} rounds={} n={} fault_rate={} parallelism={} op_seconds={} kill_p={} int_p={} terraform={} ({})",
        p.seed,
        p.rounds,
        p.n,
        p.fault_rate,
        p.parallelism,
        p.op_seconds,
        p.kill_p,
        p.int_p,
        tf_version,
        p.tf.display()
    );
    println!("chaos: work dir {}", root.display());
    std::fs::write(work.join("main.tf"), config_hcl(&p, 1, Phase::Create)).expect("main.tf");
    let init = tf.run("init", &["init", "-input=false", "-no-color"]);
    assert_eq!(init.code, 0, "terraform init failed:\n{}", init.output);

    let mut rounds = Vec::new();
    for round in 1..=p.rounds {
        let started = Instant::now();
        let mut phases = Vec::new();
        for phase in [Phase::Create, Phase::Update, Phase::Destroy] {
            let r = run_phase(&p, &mut rng, &mut server, &mut tf, round, phase);
            println!(
                "chaos: round {round} {}: exit {} kills {} ints {} orphans {} ghosts {} lost {} dups {} converged {} ({:.0} s)",
                r.phase,
                fmt_codes(&r.step),
                r.step.kills,
                r.step.interrupts,
                r.orphans.len(),
                r.ghosts.len(),
                r.lost.len(),
                r.duplicates.len(),
                r.converged,
                r.secs
            );
            phases.push(r);
        }
        rounds.push(RoundResult {
            round,
            phases,
            secs: started.elapsed().as_secs_f64(),
        });
    }
    let wall_secs = wall.elapsed().as_secs_f64();

    // Totals.
    let mut hits: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut kills, mut ints) = (0, 0);
    for r in &rounds {
        for ph in &r.phases {
            for (k, v) in &ph.step.hits {
                *hits.entry(k).or_default() += v;
            }
            kills += ph.step.kills;
            ints += ph.step.interrupts;
        }
    }
    hits.insert(KINDS[5], kills as u64);
    hits.insert(KINDS[6], ints as u64);
    let total = |f: &dyn Fn(&RoundResult) -> usize| rounds.iter().map(f).sum::<usize>();
    let orphans = total(&|r| r.union(|p| &p.orphans).len());
    let ghosts = total(&|r| r.union(|p| &p.ghosts).len());
    let lost = total(&|r| r.union(|p| &p.lost).len());
    let dups = total(&|r| r.union(|p| &p.duplicates).len());
    let nonconv = rounds.iter().filter(|r| !r.converged()).count();
    let nonconv_phases = total(&|r| r.phases.iter().filter(|p| !p.converged).count());
    let clean = orphans == 0 && ghosts == 0 && lost == 0 && dups == 0 && nonconv == 0;
    let target = p.rounds >= 20 && p.n >= 50 && p.fault_rate >= 0.1;

    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "| parameter | value |\n|---|---|\n| rounds × instances | {} × {} |\n| fault rate | {} |\n| seed | {} (`SEED={}`) |\n| parallelism | {} |\n| operation time | {} s (create, update, delete; virtual = real) |\n| kill / interrupt chance per update/destroy phase | {} / {} (every create phase has one: odd rounds kill, even rounds interrupt) |\n| Terraform | {} (`{}`) |\n| server (re)starts | {} |\n| wall time | {:.0} s ({:.1} min) |",
        p.rounds,
        p.n,
        p.fault_rate,
        p.seed,
        p.seed,
        p.parallelism,
        p.op_seconds,
        p.kill_p,
        p.int_p,
        tf_version,
        p.tf.display(),
        server.starts,
        wall_secs,
        wall_secs / 60.0
    );
    let mut faults_tbl = String::from("| fault kind | fired |\n|---|---:|\n");
    for k in KINDS {
        let _ = writeln!(
            faults_tbl,
            "| {k} | {} |",
            hits.get(k).copied().unwrap_or(0)
        );
    }
    let verdict = format!(
        "orphans {orphans}, ghosts {ghosts}, lost {lost}, duplicates {dups}, rounds not converged {nonconv} ({nonconv_phases} phases) over {} rounds × {} instances → {}{}",
        p.rounds,
        p.n,
        if clean { "CLEAN" } else { "FAILED" },
        if target {
            if clean {
                " (target met)"
            } else {
                " (target NOT met)"
            }
        } else {
            " (below the target size: ≥ 20 rounds × ≥ 50 instances at ≥ 10 %)"
        }
    );
    let tbl = table(&rounds);
    let fnd = findings(&rounds);
    let nts = notes(&rounds);
    println!("\n{summary}\n{faults_tbl}\n{tbl}\n{verdict}\n\nFindings:\n{fnd}\nNotes:\n{nts}");

    if let Some(path) = &p.report {
        let generated = format!(
            "{BEGIN}\n**Result:** {verdict}\n\n## Parameters\n\n{summary}\n## Faults injected\n\n{faults_tbl}\n\
             ## Rounds\n\n{tbl}\n## Findings\n\n{fnd}\n## Notes\n\n{nts}\n{LEGEND}{END}\n"
        );
        // Only the generated part between the markers is replaced; hand-written text around it stays.
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let md = match (old.find(BEGIN), old.find(END)) {
            (Some(b), Some(e)) if b < e => {
                format!(
                    "{}{generated}{}",
                    &old[..b],
                    &old[e + END.len()..].trim_start_matches('\n')
                )
            }
            _ => format!(
                "# Chaos suite: nothing lost, nobody let in\n\n\
                 Produced by `bench/chaos.sh` (the `chaos` test in `tests/chaos/main.rs`).\n\n{generated}"
            ),
        };
        std::fs::write(path, md).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        println!("chaos: report written to {}", path.display());
    }

    drop(server);
    if p.keep || !clean {
        if p.keep {
            let kept = dir.keep();
            println!("chaos: kept {}", kept.display());
        } else {
            // Keep only the logs of a failed run (small); delete state, SQLite and mirror.
            let kept = dir.keep();
            let _ = std::fs::remove_dir_all(kept.join("work"));
            let _ = std::fs::remove_dir_all(kept.join("mirror"));
            for f in ["clouddb.db", "clouddb.db-wal", "clouddb.db-shm"] {
                let _ = std::fs::remove_file(kept.join(f));
            }
            println!("chaos: logs of the failed run kept in {}", kept.display());
        }
    }
    assert!(clean, "{verdict}");
}
