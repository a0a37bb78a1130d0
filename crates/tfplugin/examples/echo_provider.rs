//! A minimal tfplugin6 provider used by the transport tests: it answers
//! GetMetadata and GetProviderSchema with an empty provider (no resources) and
//! leaves every other RPC Unimplemented. `--debug` serves in reattach mode.

use std::process::ExitCode;

use tfplugin::proto::tfplugin6::provider_server::Provider;
use tfplugin::proto::tfplugin6::{
    Schema, ServerCapabilities, get_metadata, get_provider_schema, schema,
};
use tfplugin::server::{ServeOptions, serve};
use tonic::{Request, Response, Status};

struct Echo;

fn empty_schema() -> Schema {
    Schema {
        version: 0,
        block: Some(schema::Block::default()),
    }
}

#[tonic::async_trait]
impl Provider for Echo {
    async fn get_metadata(
        &self,
        _request: Request<get_metadata::Request>,
    ) -> Result<Response<get_metadata::Response>, Status> {
        Ok(Response::new(get_metadata::Response {
            server_capabilities: Some(ServerCapabilities {
                get_provider_schema_optional: false,
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        tracing::debug!(token = "never-logged", "GetProviderSchema called");
        Ok(Response::new(get_provider_schema::Response {
            provider: Some(empty_schema()),
            provider_meta: Some(empty_schema()),
            server_capabilities: Some(ServerCapabilities::default()),
            ..Default::default()
        }))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let debug = std::env::args().any(|a| a == "--debug");
    let opts = ServeOptions::new("registry.terraform.io/clouddb/echo").debug(debug);
    match serve(Echo, opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}
