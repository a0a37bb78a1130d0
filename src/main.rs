//! `terraform-provider-clouddb`: the plugin binary Terraform launches.
//!
//! Thin by design: parse `--debug`, then hand the provider to `tfplugin`, which does the go-plugin
//! handshake, AutoMTLS and the tfplugin6 service. With `--debug` it serves in the foreground and prints
//! the `TF_REATTACH_PROVIDERS` line to paste into another shell.

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

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let opts = ServeOptions::new(PROVIDER_ADDRESS).debug(args.debug);
    match tfplugin::grpc::serve_provider(CloudDbProvider::new(), opts).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-clouddb: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
