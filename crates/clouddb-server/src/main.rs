//! `clouddb-server`: parses flags and runs the library's `serve`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use clouddb_server::{
    AUTH_FAILURE_BURST, AUTH_FAILURE_RATE, AppState, Config, DEFAULT_ADMIN_TOKEN, EngineMode, serve,
};

/// `--engines`: what runs behind an instance.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
enum Engines {
    /// Records and the virtual clock (no database runs).
    #[default]
    Simulated,
    /// A real PostgreSQL cluster or MariaDB server per instance, on a loopback port.
    Real,
}

/// CloudDB control-plane API server (reference implementation and test emulator).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port). Loopback by default.
    #[arg(long, default_value = "127.0.0.1:8080", env = "CLOUDDB_LISTEN")]
    listen: String,
    /// SQLite database file.
    #[arg(long, default_value = "clouddb.db", env = "CLOUDDB_DATA")]
    data: PathBuf,
    /// Keep everything in memory (no file).
    #[arg(long)]
    in_memory: bool,
    /// API token and its project, TOKEN=PROJECT (repeatable). Without any, `demo-token=demo` is seeded.
    #[arg(long = "token", value_name = "TOKEN=PROJECT")]
    tokens: Vec<String>,
    /// Token for the /admin API.
    #[arg(long, default_value = "admin-token", env = "CLOUDDB_ADMIN_TOKEN")]
    admin_token: String,
    /// Virtual seconds a create operation takes (0 = instant).
    #[arg(long, default_value_t = 3.0)]
    provision_time: f64,
    /// Virtual seconds an update operation takes (0 = instant).
    #[arg(long, default_value_t = 3.0)]
    update_time: f64,
    /// Virtual seconds a delete operation takes (0 = instant).
    #[arg(long, default_value_t = 2.0)]
    delete_time: f64,
    /// Virtual seconds a restart operation takes (0 = instant).
    #[arg(long, default_value_t = 3.0)]
    restart_time: f64,
    /// Virtual seconds a failover operation takes (0 = instant).
    #[arg(long, default_value_t = 3.0)]
    failover_time: f64,
    /// Requests per second per token (0 = unlimited).
    #[arg(long, default_value_t = 1000.0)]
    rate_limit: f64,
    /// Token-bucket size (default: twice the rate).
    #[arg(long)]
    rate_burst: Option<f64>,
    /// Failed authentications (401) per second per client address; an address over it gets 429 for
    /// every request, checked before authentication (0 = unlimited).
    #[arg(long, default_value_t = AUTH_FAILURE_RATE)]
    auth_failure_rate: f64,
    /// Bucket size of --auth-failure-rate.
    #[arg(long, default_value_t = AUTH_FAILURE_BURST)]
    auth_failure_burst: f64,
    /// Serve the console at / without a login (for local use: refused unless --listen is loopback).
    #[arg(long)]
    console_no_auth: bool,
    /// What runs behind an instance: `simulated` (records, virtual time) or `real` (a PostgreSQL
    /// cluster or MariaDB server per instance, data beside the --data file; needs the Debian
    /// packages postgresql and mariadb-server).
    #[arg(long, value_enum, default_value_t = Engines::Simulated, env = "CLOUDDB_ENGINES")]
    engines: Engines,
}

/// Whether every address `listen` stands for is a loopback address.
fn is_loopback(listen: &str) -> bool {
    use std::net::ToSocketAddrs;
    listen.to_socket_addrs().is_ok_and(|addrs| {
        let addrs: Vec<_> = addrs.collect();
        !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
    })
}

fn secs_to_ms(s: f64, flag: &str) -> Result<i64, String> {
    if s.is_finite() && s >= 0.0 {
        Ok((s * 1000.0).round() as i64)
    } else {
        Err(format!("--{flag} must be a non-negative number"))
    }
}

fn config(args: &Args) -> Result<(Config, bool), String> {
    let mut tokens = HashMap::new();
    for t in &args.tokens {
        let (tok, proj) = t
            .split_once('=')
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .ok_or_else(|| format!("--token {t}: expected TOKEN=PROJECT"))?;
        tokens.insert(tok.to_string(), proj.to_string());
    }
    let demo = tokens.is_empty();
    if demo {
        tokens.insert("demo-token".into(), "demo".into());
    }
    if args.rate_limit.is_nan() || args.rate_limit < 0.0 {
        return Err("--rate-limit must be >= 0".into());
    }
    if !(args.auth_failure_rate >= 0.0 && args.auth_failure_burst >= 0.0) {
        return Err("--auth-failure-rate and --auth-failure-burst must be >= 0".into());
    }
    if args.admin_token == DEFAULT_ADMIN_TOKEN && !is_loopback(&args.listen) {
        return Err(format!(
            "refusing to listen on {} (not a loopback address) with the default admin token \
             {DEFAULT_ADMIN_TOKEN:?}: anyone who can reach it could wipe the data; \
             pass --admin-token SECRET (or CLOUDDB_ADMIN_TOKEN)",
            args.listen
        ));
    }
    if args.console_no_auth && !is_loopback(&args.listen) {
        return Err(format!(
            "refusing --console-no-auth on {} (not a loopback address): anyone who can reach it \
             would see every project; listen on 127.0.0.1 or drop --console-no-auth (the console \
             then asks for the admin token)",
            args.listen
        ));
    }
    Ok((
        Config {
            data: (!args.in_memory).then(|| args.data.clone()),
            tokens,
            admin_token: args.admin_token.clone(),
            provision_ms: secs_to_ms(args.provision_time, "provision-time")?,
            update_ms: secs_to_ms(args.update_time, "update-time")?,
            delete_ms: secs_to_ms(args.delete_time, "delete-time")?,
            restart_ms: secs_to_ms(args.restart_time, "restart-time")?,
            failover_ms: secs_to_ms(args.failover_time, "failover-time")?,
            rate_limit: args.rate_limit,
            rate_burst: args.rate_burst.unwrap_or(args.rate_limit * 2.0),
            auth_failure_rate: args.auth_failure_rate,
            auth_failure_burst: args.auth_failure_burst,
            console_no_auth: args.console_no_auth,
            engines: match args.engines {
                Engines::Simulated => EngineMode::Simulated,
                Engines::Real => EngineMode::Real,
            },
            ..Config::default()
        },
        demo,
    ))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let (cfg, demo) = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("clouddb-server: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let state = match AppState::new(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("clouddb-server: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("clouddb-server: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("clouddb-server: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        if demo {
            let _ = writeln!(out, "demo token: demo-token (project demo)");
        }
        let _ = writeln!(out, "admin token: {}", args.admin_token);
        let _ = writeln!(
            out,
            "console: http://{addr}/{}",
            if args.console_no_auth {
                " (no login)"
            } else {
                " (sign in with the admin token)"
            }
        );
        let _ = out.flush();
    }
    tracing::info!(%addr, "clouddb-server listening");
    match serve(listener, state, shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clouddb-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Args {
        Args::parse_from(std::iter::once("clouddb-server").chain(a.iter().copied()))
    }

    #[test]
    fn default_admin_token_is_refused_off_loopback() {
        for listen in ["0.0.0.0:8080", "[::]:0", "192.0.2.1:80"] {
            let e = config(&args(&["--listen", listen])).err();
            assert!(
                e.as_deref().is_some_and(|e| e.contains("--admin-token")),
                "{listen}: {e:?}"
            );
        }
        assert!(
            config(&args(&[
                "--listen",
                "0.0.0.0:8080",
                "--admin-token",
                "s3cret"
            ]))
            .is_ok()
        );
        for listen in ["127.0.0.1:0", "[::1]:0", "127.0.0.2:9000"] {
            assert!(config(&args(&["--listen", listen])).is_ok(), "{listen}");
        }
    }

    #[test]
    fn console_no_auth_is_refused_off_loopback() {
        for listen in ["0.0.0.0:8080", "[::]:0", "192.0.2.1:80"] {
            let e = config(&args(&[
                "--listen",
                listen,
                "--admin-token",
                "s3cret",
                "--console-no-auth",
            ]))
            .err();
            assert!(
                e.as_deref()
                    .is_some_and(|e| e.contains("--console-no-auth") && e.contains(listen)),
                "{listen}: {e:?}"
            );
        }
        for listen in ["127.0.0.1:0", "[::1]:0"] {
            let c = config(&args(&["--listen", listen, "--console-no-auth"]));
            assert!(c.is_ok_and(|(c, _)| c.console_no_auth), "{listen}");
        }
    }
}
