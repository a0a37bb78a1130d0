//! `clouddb-load`: a bounded loopback load generator for clouddb-server.
//!
//! By default it starts the server in-process (SQLite file in a temp dir, instant provisioning, no rate
//! limit) and measures (1) GET instance requests/s and (2) create + poll-until-done pairs/s, with p50/p99
//! latencies, over keep-alive HTTP/1.1 connections. `--addr` targets a running server instead (loopback
//! only; it must have been started with `--provision-time 0 --rate-limit 0`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Parser;
use clouddb_server::http_client::Conn;
use clouddb_server::{AppState, Config, serve};

#[derive(Parser, Debug)]
#[command(about = "Bounded loopback load test for clouddb-server")]
struct Args {
    /// Seconds per phase (1..=60).
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Target an already running server (loopback only) instead of an in-process one.
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// Token for --addr (project is taken from --project).
    #[arg(long, default_value = "bench")]
    token: String,
    #[arg(long, default_value = "bench")]
    project: String,
    /// Worker threads of the runtime.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Keep the in-process server's database in memory instead of a SQLite file.
    #[arg(long)]
    in_memory: bool,
}

struct PhaseResult {
    ops: u64,
    errors: u64,
    secs: f64,
    lat_us: Vec<u32>,
}

impl PhaseResult {
    fn pct(&mut self, p: f64) -> f64 {
        if self.lat_us.is_empty() {
            return 0.0;
        }
        self.lat_us.sort_unstable();
        let i = ((self.lat_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.lat_us[i]) / 1000.0
    }

    fn report(&mut self, name: &str) -> String {
        let rate = self.ops as f64 / self.secs;
        let (p50, p99) = (self.pct(0.50), self.pct(0.99));
        println!(
            "{name}: {} ok, {} errors in {:.1}s = {rate:.0}/s; latency p50 {p50:.2} ms, p99 {p99:.2} ms",
            self.ops, self.errors, self.secs
        );
        format!(
            "{{\"phase\":\"{name}\",\"ok\":{},\"errors\":{},\"secs\":{:.2},\"per_sec\":{rate:.0},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3}}}",
            self.ops, self.errors, self.secs
        )
    }
}

async fn phase<F, Fut>(addr: SocketAddr, conns: usize, dur: Duration, work: F) -> PhaseResult
where
    F: Fn(Conn, usize, Instant) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (u64, u64, Vec<u32>)> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::new();
    for i in 0..conns {
        let w = work.clone();
        tasks.push(tokio::spawn(async move {
            match Conn::connect(addr).await {
                Ok(c) => w(c, i, deadline).await,
                Err(_) => (0, 1, Vec::new()),
            }
        }));
    }
    let mut r = PhaseResult {
        ops: 0,
        errors: 0,
        secs: 0.0,
        lat_us: Vec::new(),
    };
    for t in tasks {
        if let Ok((ok, err, lat)) = t.await {
            r.ops += ok;
            r.errors += err;
            r.lat_us.extend(lat);
        }
    }
    r.secs = start.elapsed().as_secs_f64();
    r
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if !(1..=60).contains(&args.duration) {
        eprintln!("--duration must be 1..=60");
        return std::process::ExitCode::from(2);
    }
    if let Some(a) = args.addr
        && !a.ip().is_loopback()
    {
        eprintln!("--addr must be a loopback address");
        return std::process::ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rt.block_on(run(args))
}

async fn run(args: Args) -> std::process::ExitCode {
    let tmp = std::env::temp_dir().join(format!("clouddb-load-{}", std::process::id()));
    let (addr, token, project, _stop) = match args.addr {
        Some(a) => (a, args.token.clone(), args.project.clone(), None),
        None => {
            let _ = std::fs::create_dir_all(&tmp);
            let cfg = Config {
                data: (!args.in_memory).then(|| tmp.join("bench.db")),
                tokens: HashMap::from([("bench".to_string(), "bench".to_string())]),
                admin_token: "admin".into(),
                provision_ms: 0,
                update_ms: 0,
                delete_ms: 0,
                rate_limit: 0.0,
                rate_burst: 0.0,
                ..Config::default()
            };
            let state = match AppState::new(cfg) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("state: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("bind: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            let Ok(addr) = listener.local_addr() else {
                return std::process::ExitCode::FAILURE;
            };
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(serve(listener, state, async {
                let _ = rx.await;
            }));
            (addr, "bench".to_string(), "bench".to_string(), Some(tx))
        }
    };
    println!(
        "target http://{addr}, {} connections, {} s per phase, {} runtime threads, storage: {}",
        args.connections,
        args.duration,
        args.threads,
        if args.addr.is_some() {
            "external"
        } else if args.in_memory {
            "in-memory"
        } else {
            "SQLite file (WAL)"
        }
    );
    let auth = format!("Bearer {token}");
    let base = format!("/v1/projects/{project}");
    // Seed one instance for the GET phase.
    let seed_name = format!("get-target-{}", std::process::id());
    if let Ok(mut c) = Conn::connect(addr).await {
        let body = format!("{{\"name\":\"{seed_name}\",\"tier\":\"db-small\",\"storage_gb\":20}}");
        let _ = c
            .request(
                "POST",
                &format!("{base}/instances"),
                &[("authorization", &auth)],
                Some(body.as_bytes()),
            )
            .await;
    }
    let dur = Duration::from_secs(args.duration);

    let get_path = format!("{base}/instances/{seed_name}");
    let auth2 = auth.clone();
    let mut get = phase(addr, args.connections, dur, move |mut c, _i, deadline| {
        let path = get_path.clone();
        let auth = auth2.clone();
        async move {
            let (mut ok, mut err, mut lat) = (0u64, 0u64, Vec::with_capacity(1 << 16));
            while Instant::now() < deadline {
                let t = Instant::now();
                match c
                    .request("GET", &path, &[("authorization", &auth)], None)
                    .await
                {
                    Ok(r) if r.status == 200 => ok += 1,
                    _ => err += 1,
                }
                lat.push(t.elapsed().as_micros() as u32);
            }
            (ok, err, lat)
        }
    })
    .await;
    let j1 = get.report("GET instance");

    let base2 = base.clone();
    let auth3 = auth.clone();
    let run_id = std::process::id();
    let mut create = phase(addr, args.connections, dur, move |mut c, i, deadline| {
        let base = base2.clone();
        let auth = auth3.clone();
        async move {
            let (mut ok, mut err, mut lat) = (0u64, 0u64, Vec::with_capacity(1 << 14));
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let t = Instant::now();
                let body = format!(
                    "{{\"name\":\"b{run_id}-{i}-{n}\",\"tier\":\"db-micro\",\"storage_gb\":10,\"labels\":{{\"bench\":\"yes\"}}}}"
                );
                let r = c
                    .request("POST", &format!("{base}/instances"), &[("authorization", &auth)], Some(body.as_bytes()))
                    .await;
                let Ok(r) = r else {
                    err += 1;
                    continue;
                };
                if r.status != 202 {
                    err += 1;
                    continue;
                }
                let id = r.json()["id"].as_str().unwrap_or_default().to_string();
                let mut done = false;
                for _ in 0..100 {
                    match c
                        .request("GET", &format!("{base}/operations/{id}"), &[("authorization", &auth)], None)
                        .await
                    {
                        Ok(o) if o.status == 200 && o.json()["done"] == true => {
                            done = true;
                            break;
                        }
                        Ok(o) if o.status == 200 => tokio::time::sleep(Duration::from_millis(5)).await,
                        _ => break,
                    }
                }
                if done {
                    ok += 1;
                } else {
                    err += 1;
                }
                lat.push(t.elapsed().as_micros() as u32);
            }
            (ok, err, lat)
        }
    })
    .await;
    let j2 = create.report("create+poll");
    println!("JSON [{j1},{j2}]");
    let _ = std::fs::remove_dir_all(&tmp);
    std::process::ExitCode::SUCCESS
}
