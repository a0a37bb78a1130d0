//! `terraform-provider-clouddb`: the plugin binary Terraform launches.
//!
//! Thin by design: parse `--debug`, then hand the provider to `tfplugin`, which does the go-plugin
//! handshake, AutoMTLS and the tfplugin6 service. With `--debug` it serves in the foreground and prints
//! the `TF_REATTACH_PROVIDERS` line to paste into another shell.
//!
//! SIGTERM (and Terraform's `Shutdown`) first fire the framework's stop signal, the one StopProvider
//! fires: waits and retries in flight end at once and an accepted create returns its instance as
//! partial state. The server then stops after tfplugin's bounded grace (1 s for in-flight RPCs).

use clap::Parser;
use terraform_provider_clouddb::CloudDbProvider;
use terraform_provider_clouddb::provider::PROVIDER_ADDRESS;
use tfplugin::ProviderService;
use tfplugin::provider::StopSignal;
use tfplugin::server::ServeOptions;
use tfplugin::server::shutdown::ShutdownSignal;

/// Terraform provider for CloudDB managed database instances (started by Terraform, not by hand).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Serve in the foreground for debugging and print TF_REATTACH_PROVIDERS.
    #[arg(long)]
    debug: bool,
}

fn main() {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-clouddb: starting the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let opts = ServeOptions::new(PROVIDER_ADDRESS).debug(args.debug);
    let service = ProviderService::new(CloudDbProvider::new());
    let stop = service.stop_signal();
    let shutdown = opts.shutdown.clone();
    let code = match runtime.block_on(async move {
        stop_on_termination(stop, shutdown);
        tfplugin::server::serve(service, opts).await
    }) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("terraform-provider-clouddb: {e}");
            1
        }
    };
    // Terraform kills the plugin 2 s after Shutdown. Dropping the runtime would wait for any
    // blocking task still running (a slow DNS lookup, say), so exit without waiting for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    std::process::exit(code);
}

/// Fire `stop` (as StopProvider would) on SIGTERM or when the server begins shutting down, so that
/// in-flight waits return their results (an accepted create: its partial state) inside the grace
/// period instead of being dropped with the process.
fn stop_on_termination(stop: StopSignal, shutdown: ShutdownSignal) {
    let on_shutdown = stop.clone();
    tokio::spawn(async move {
        shutdown.wait().await;
        tracing::info!("shutting down: stopping in-flight operations");
        on_shutdown.stop();
    });
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut sigterm) => {
            tokio::spawn(async move {
                if sigterm.recv().await.is_some() {
                    tracing::info!("SIGTERM: stopping in-flight operations");
                    stop.stop();
                }
            });
        }
        Err(e) => tracing::warn!("cannot watch SIGTERM: {e}"),
    }
}
