//! Generated protocol code (from `proto/` at the workspace root).
//!
//! * [`tfplugin6`]: the Terraform provider protocol 6.11 (`tfplugin6.Provider`).
//! * [`plugin`]: go-plugin's auxiliary services (controller, stdio, broker).
//! * [`health`]: the standard gRPC health service (`grpc.health.v1`).

#![allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    missing_docs,
    rustdoc::all,
    unreachable_pub
)]

/// Terraform plugin protocol 6 (`package tfplugin6`).
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin auxiliary services (`package plugin`).
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// gRPC health checking (`package grpc.health.v1`).
pub mod health {
    tonic::include_proto!("grpc.health.v1");
}
