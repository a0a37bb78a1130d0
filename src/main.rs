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
use tfplugin::server::ServeOptions;

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
    // One thread on purpose: a provider's work is short calls that wait on the network, and
    // Terraform (running beside it, on the same cores) is the CPU-heavy side. A work-stealing
    // pool spends more on waking and parking its workers for each call than the call costs,
    // and every worker's malloc arena adds to peak RSS (issue 11's profile). Nothing in the
    // provider blocks its thread: waits are timers, I/O is async.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-clouddb: starting the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let opts = ServeOptions::new(PROVIDER_ADDRESS).debug(args.debug);
    // serve_provider fires the stop signal on Shutdown and SIGTERM first, so in-flight waits
    // return their results (an accepted create: its partial state) within the shutdown grace.
    let code = match runtime.block_on(tfplugin::grpc::serve_provider(CloudDbProvider::new(), opts))
    {
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

/// mimalloc instead of glibc malloc: every RPC builds and frees trees of small values (a
/// `Value` object is a map of owned keys), and glibc's free lists and fastbin consolidation
/// were about a fifth of a large plan's provider instructions. Measured (issue 11,
/// docs/benchmarks.md): a 300-instance refresh plan launch 392 M → 315 M instructions. Built
/// with `no_thp`: with transparent huge pages the same plan's peak RSS went 12 → 22 MiB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
