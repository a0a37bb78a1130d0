//! tfplugin: a Terraform plugin protocol 6 server framework.

pub mod logging;
pub mod proto;
pub mod server;
pub mod testing;

pub mod diag;
pub mod grpc;
pub mod plan;
pub mod provider;
pub mod schema;
pub mod value;

pub use grpc::{ProviderService, serve_provider};
