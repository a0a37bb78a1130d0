//! plugin.GRPCStdio: we never write to stdout after the handshake and log to
//! stderr directly, so the stream carries nothing; it stays open until
//! shutdown (Terraform keeps it open for the life of the process).

use std::pin::Pin;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::shutdown::ShutdownSignal;
use crate::proto::plugin::StdioData;
use crate::proto::plugin::grpc_stdio_server::GrpcStdio;

/// go-plugin's `GRPCStdio` service. go-plugin clients open it to mirror plugin output;
/// we never forward anything.
#[derive(Debug, Clone)]
pub struct Stdio {
    pub(crate) shutdown: ShutdownSignal,
}

/// A response stream that ends when `shutdown` fires and never yields items.
pub(crate) fn idle_until<T: Send + 'static>(
    shutdown: ShutdownSignal,
) -> Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<T, Status>>(1);
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.wait() => {}
            _ = tx.closed() => {}
        }
        drop(tx);
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    /// An empty stream that stays open until shutdown or until the client drops it.
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<tonic::codegen::BoxStream<StdioData>>, Status> {
        Ok(Response::new(idle_until(self.shutdown.clone())))
    }
}
