//! grpc.health.v1.Health: "" and "plugin" are SERVING.

use tonic::{Request, Response, Status};

use super::shutdown::ShutdownSignal;
use crate::proto::health::health_check_response::ServingStatus;
use crate::proto::health::health_server::Health as HealthApi;
use crate::proto::health::{HealthCheckRequest, HealthCheckResponse};

/// The `grpc.health.v1.Health` service go-plugin clients probe: `""` and `"plugin"` are
/// `SERVING` for as long as the process serves.
#[derive(Debug, Clone)]
pub struct Health {
    pub(crate) shutdown: ShutdownSignal,
}

fn status_of(service: &str) -> Result<HealthCheckResponse, Status> {
    match service {
        "" | "plugin" => Ok(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }),
        other => Err(Status::not_found(format!("unknown service {other:?}"))),
    }
}

#[tonic::async_trait]
impl HealthApi for Health {
    /// `SERVING` for `""` and `"plugin"`; `NOT_FOUND` for any other service name.
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        status_of(&request.get_ref().service).map(Response::new)
    }

    /// Sends the current status once (`SERVICE_UNKNOWN` for unknown names, not an error),
    /// then keeps the stream open without updates until shutdown.
    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<tonic::codegen::BoxStream<HealthCheckResponse>>, Status> {
        let first = match status_of(&request.get_ref().service) {
            Ok(r) => r,
            Err(_) => HealthCheckResponse {
                status: ServingStatus::ServiceUnknown as i32,
            },
        };
        let head = tokio_stream::once(Ok(first));
        let tail = super::stdio::idle_until(self.shutdown.clone());
        Ok(Response::new(Box::pin(tokio_stream::StreamExt::chain(
            head, tail,
        ))))
    }
}
