//! plugin.GRPCBroker: tfplugin6 brokers no extra services. Accept the stream,
//! drain what the client sends, send nothing; end at shutdown.

use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use super::shutdown::ShutdownSignal;
use super::stdio::idle_until;
use crate::proto::plugin::ConnInfo;
use crate::proto::plugin::grpc_broker_server::GrpcBroker;

/// go-plugin's `GRPCBroker` service. tfplugin6 never brokers extra connections, but
/// go-plugin clients open the stream anyway, so it must exist.
#[derive(Debug, Clone)]
pub struct Broker {
    pub(crate) shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    /// Accepts the stream, ignores every `ConnInfo` the client sends, sends nothing, and ends
    /// the response stream at shutdown (or when the client goes away).
    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<tonic::codegen::BoxStream<ConnInfo>>, Status> {
        let mut inbound = request.into_inner();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.wait() => break,
                    item = inbound.next() => match item {
                        Some(Ok(info)) => tracing::trace!(service_id = info.service_id, "ignoring broker ConnInfo"),
                        Some(Err(_)) | None => break,
                    },
                }
            }
        });
        Ok(Response::new(idle_until(self.shutdown.clone())))
    }
}
