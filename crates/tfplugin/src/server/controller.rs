//! plugin.GRPCController: Terraform calls Shutdown when done with the process.

use tonic::{Request, Response, Status};

use super::shutdown::ShutdownSignal;
use crate::proto::plugin::Empty;
use crate::proto::plugin::grpc_controller_server::GrpcController;

/// go-plugin's `GRPCController`: `Shutdown` replies, then fires the shutdown signal; the
/// server stops accepting, drains in-flight RPCs briefly and `serve` returns.
#[derive(Debug, Clone)]
pub struct Controller {
    pub(crate) shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    /// Always succeeds; calling it again is harmless.
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("Shutdown received from the plugin client");
        self.shutdown.trigger();
        Ok(Response::new(Empty {}))
    }
}
