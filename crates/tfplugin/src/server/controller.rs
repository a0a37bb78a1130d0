//! plugin.GRPCController: Terraform calls Shutdown when done with the process.

use tonic::{Request, Response, Status};

use super::shutdown::ShutdownSignal;
use crate::proto::plugin::Empty;
use crate::proto::plugin::grpc_controller_server::GrpcController;

/// Replies, then fires the shutdown signal; the server stops and `serve` returns.
#[derive(Debug, Clone)]
pub struct Controller {
    pub(crate) shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("Shutdown received from the plugin client");
        self.shutdown.trigger();
        Ok(Response::new(Empty {}))
    }
}
