//! Compiles the project's protocol files in `proto/` with protox (pure Rust, no
//! system `protoc`) and generates tonic servers and clients.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_dir = manifest_dir.join("../../proto");
    let files = [
        "tfplugin6.proto",
        "grpc_controller.proto",
        "grpc_stdio.proto",
        "grpc_broker.proto",
        "grpc/health/v1/health.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", proto_dir.join(f).display());
    }
    let fds = protox::compile(files, [&proto_dir])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .generate_default_stubs(true)
        .compile_fds(fds)?;
    Ok(())
}
