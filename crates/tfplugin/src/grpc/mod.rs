//! The `tfplugin6.Provider` gRPC service: protobuf in, protobuf out.
//!
//! [`ProviderService`] implements the generated tonic trait for every RPC of protocol
//! 6.11 and does nothing but conversion: it decodes each `DynamicValue` with the type the
//! [`Engine`] reports, calls the engine (the proto-free orchestration: validate, plan,
//! handler, checks) and encodes the answer in msgpack. Problems (bad input, unknown type
//! names, features the provider lacks, panics) become diagnostics, never a gRPC error,
//! because Terraform shows diagnostics but reports transport errors as a crashed plugin.

mod action;
mod convert;
mod list;
mod resource;
mod rest;

use crate::diag::Diagnostic;
use crate::engine::Engine;
use crate::proto::tfplugin6 as pb;
use crate::provider::{Provider, StopSignal};
use convert::diags_to_pb;
use pb::provider_server::Provider as PbProvider;
use tonic::{Request, Response, Status};

type Res<T> = Result<Response<T>, Status>;
type BoxStream<T> =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The tonic service wrapping a [`Provider`]'s [`Engine`].
pub struct ProviderService<P: Provider> {
    engine: Engine<P>,
    /// The `GetProviderSchema` answer, converted (and its schemas checked) once.
    schema_response: pb::get_provider_schema::Response,
}

impl<P: Provider> ProviderService<P> {
    /// Collects the provider's schemas once (they are immutable for the process lifetime).
    pub fn new(provider: P) -> Self {
        let mut svc = ProviderService {
            engine: Engine::new(provider),
            schema_response: Default::default(),
        };
        svc.schema_response = svc.provider_schema_pb();
        svc
    }

    /// The stop signal `StopProvider` fires (exposed for tests and embedding).
    pub fn stop_signal(&self) -> StopSignal {
        self.engine.stop_signal()
    }

    /// The engine behind the service.
    pub fn engine(&self) -> &Engine<P> {
        &self.engine
    }
}

fn unknown_type(kind: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {name:?}."),
    )
}

pub(crate) use crate::engine::Collect;

/// Serves `provider` over the go-plugin/tfplugin6 transport (handshake, AutoMTLS, …).
///
/// Shutdown (Terraform's `Shutdown` RPC or SIGTERM) first fires the stop signal, so that
/// handlers waiting on a long operation return what they have (a create the API accepted
/// returns its partial state) within the server's shutdown grace, instead of being cut off
/// with the object unrecorded.
pub async fn serve_provider<P: Provider>(
    provider: P,
    opts: crate::server::ServeOptions,
) -> Result<(), crate::server::ServeError> {
    let svc = ProviderService::new(provider);
    let _ = PROVIDER_ADDRESS.set(opts.provider_address.clone());
    stop_on_shutdown(opts.shutdown.clone(), svc.stop_signal());
    crate::server::serve(svc, opts).await
}

/// Fires `stop` as soon as `shutdown` fires.
fn stop_on_shutdown(shutdown: crate::server::ShutdownSignal, stop: StopSignal) {
    tokio::spawn(async move {
        shutdown.wait().await;
        tracing::info!("shutting down: asking in-flight operations to stop");
        stop.stop();
    });
}

/// The provider's source address, for the `tf_provider_addr` log field; set once by
/// [`serve_provider`] (a process serves one provider).
static PROVIDER_ADDRESS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The span every provider log line of one RPC inherits: the fields the Go framework's
/// logs carry (`tf_rpc`, `tf_resource_type` or `tf_data_source_type`, a fresh `tf_req_id`),
/// so a line written deep in a handler (an API call, a waiter) says which Terraform call and
/// resource type it belongs to. An ERROR-level span, so it is enabled whatever the level.
fn rpc_span(rpc: &'static str, resource_type: &str, data_source_type: &str) -> tracing::Span {
    let span = tracing::error_span!(
        "rpc",
        tf_rpc = rpc,
        tf_req_id = %crate::logging::request_id(),
        tf_resource_type = tracing::field::Empty,
        tf_data_source_type = tracing::field::Empty,
        tf_provider_addr = tracing::field::Empty,
    );
    if let Some(addr) = PROVIDER_ADDRESS.get() {
        span.record("tf_provider_addr", addr.as_str());
    }
    if !resource_type.is_empty() {
        span.record("tf_resource_type", resource_type);
    }
    if !data_source_type.is_empty() {
        span.record("tf_data_source_type", data_source_type);
    }
    span
}

/// Runs one RPC inside `span`, with the TRACE lines terraform-plugin-go writes around every
/// call ("Received request", "Served request"): what `TF_LOG_PROVIDER=trace` shows.
async fn traced<T>(span: tracing::Span, call: impl std::future::Future<Output = T>) -> T {
    use tracing::Instrument;
    async move {
        tracing::trace!("Received request");
        let started = std::time::Instant::now();
        let out = call.await;
        tracing::trace!(
            tf_req_duration_ms = started.elapsed().as_millis() as u64,
            "Served request"
        );
        out
    }
    .instrument(span)
    .await
}

fn ok<T>(t: T) -> Res<T> {
    Ok(Response::new(t))
}

#[tonic::async_trait]
impl<P: Provider> PbProvider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _r: Request<pb::get_metadata::Request>,
    ) -> Res<pb::get_metadata::Response> {
        ok(self.metadata())
    }
    async fn get_provider_schema(
        &self,
        _r: Request<pb::get_provider_schema::Request>,
    ) -> Res<pb::get_provider_schema::Response> {
        ok(self.schema_response.clone())
    }
    async fn get_resource_identity_schemas(
        &self,
        _r: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Res<pb::get_resource_identity_schemas::Response> {
        ok(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .engine
                .resources()
                .iter()
                .filter_map(|(n, e)| {
                    e.identity
                        .as_ref()
                        .map(|(i, _)| (n.clone(), convert::identity_to_pb(i)))
                })
                .collect(),
            diagnostics: Vec::new(),
        })
    }
    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> Res<pb::validate_provider_config::Response> {
        let span = rpc_span("ValidateProviderConfig", "", "");
        traced(span, async move {
            let r = r.into_inner();
            let d = self.validate_provider(r.config.as_ref()).await;
            ok(pb::validate_provider_config::Response {
                diagnostics: diags_to_pb(&d),
            })
        })
        .await
    }
    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Res<pb::configure_provider::Response> {
        let span = rpc_span("ConfigureProvider", "", "");
        traced(span, async move {
            let d = self.configure(r.into_inner()).await;
            ok(pb::configure_provider::Response {
                diagnostics: diags_to_pb(&d),
            })
        })
        .await
    }
    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Res<pb::validate_resource_config::Response> {
        let span = rpc_span("ValidateResourceConfig", &r.get_ref().type_name, "");
        traced(span, async move {
            let r = r.into_inner();
            let d = self
                .validate_resource(
                    &r.type_name,
                    r.config.as_ref(),
                    r.client_capabilities.as_ref(),
                )
                .await;
            ok(pb::validate_resource_config::Response {
                diagnostics: diags_to_pb(&d),
            })
        })
        .await
    }
    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> Res<pb::validate_data_resource_config::Response> {
        let span = rpc_span("ValidateDataResourceConfig", "", &r.get_ref().type_name);
        traced(span, async move {
            let r = r.into_inner();
            let d = self
                .validate_data_source(&r.type_name, r.config.as_ref())
                .await;
            ok(pb::validate_data_resource_config::Response {
                diagnostics: diags_to_pb(&d),
            })
        })
        .await
    }
    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> Res<pb::upgrade_resource_state::Response> {
        let span = rpc_span("UpgradeResourceState", &r.get_ref().type_name, "");
        traced(span, async move { ok(self.upgrade_state(r.into_inner())) }).await
    }
    async fn upgrade_resource_identity(
        &self,
        r: Request<pb::upgrade_resource_identity::Request>,
    ) -> Res<pb::upgrade_resource_identity::Response> {
        let span = rpc_span("UpgradeResourceIdentity", &r.get_ref().type_name, "");
        traced(
            span,
            async move { ok(self.upgrade_identity(r.into_inner())) },
        )
        .await
    }
    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> Res<pb::read_resource::Response> {
        let span = rpc_span("ReadResource", &r.get_ref().type_name, "");
        traced(span, async move { ok(self.read(r.into_inner()).await) }).await
    }
    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> Res<pb::plan_resource_change::Response> {
        let span = rpc_span("PlanResourceChange", &r.get_ref().type_name, "");
        traced(span, async move { ok(self.plan(r.into_inner()).await) }).await
    }
    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> Res<pb::apply_resource_change::Response> {
        let span = rpc_span("ApplyResourceChange", &r.get_ref().type_name, "");
        traced(span, async move { ok(self.apply(r.into_inner()).await) }).await
    }
    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> Res<pb::import_resource_state::Response> {
        let span = rpc_span("ImportResourceState", &r.get_ref().type_name, "");
        traced(span, async move { ok(self.import(r.into_inner()).await) }).await
    }
    async fn move_resource_state(
        &self,
        r: Request<pb::move_resource_state::Request>,
    ) -> Res<pb::move_resource_state::Response> {
        let span = rpc_span("MoveResourceState", &r.get_ref().target_type_name, "");
        traced(
            span,
            async move { ok(self.move_state(r.into_inner()).await) },
        )
        .await
    }
    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> Res<pb::read_data_source::Response> {
        let span = rpc_span("ReadDataSource", "", &r.get_ref().type_name);
        traced(
            span,
            async move { ok(self.read_data(r.into_inner()).await) },
        )
        .await
    }
    async fn generate_resource_config(
        &self,
        r: Request<pb::generate_resource_config::Request>,
    ) -> Res<pb::generate_resource_config::Response> {
        ok(self.generate_config(r.into_inner()))
    }
    async fn validate_ephemeral_resource_config(
        &self,
        r: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Res<pb::validate_ephemeral_resource_config::Response> {
        let span = rpc_span(
            "ValidateEphemeralResourceConfig",
            &r.get_ref().type_name,
            "",
        );
        traced(span, async move {
            let r = r.into_inner();
            let d = self
                .validate_ephemeral(&r.type_name, r.config.as_ref())
                .await;
            ok(pb::validate_ephemeral_resource_config::Response {
                diagnostics: diags_to_pb(&d),
            })
        })
        .await
    }
    async fn open_ephemeral_resource(
        &self,
        r: Request<pb::open_ephemeral_resource::Request>,
    ) -> Res<pb::open_ephemeral_resource::Response> {
        let span = rpc_span("OpenEphemeralResource", &r.get_ref().type_name, "");
        traced(span, async move {
            ok(self.open_ephemeral(r.into_inner()).await)
        })
        .await
    }
    async fn renew_ephemeral_resource(
        &self,
        r: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Res<pb::renew_ephemeral_resource::Response> {
        let span = rpc_span("RenewEphemeralResource", &r.get_ref().type_name, "");
        traced(span, async move {
            ok(self.renew_ephemeral(r.into_inner()).await)
        })
        .await
    }
    async fn close_ephemeral_resource(
        &self,
        r: Request<pb::close_ephemeral_resource::Request>,
    ) -> Res<pb::close_ephemeral_resource::Response> {
        let span = rpc_span("CloseEphemeralResource", &r.get_ref().type_name, "");
        traced(span, async move {
            ok(self.close_ephemeral(r.into_inner()).await)
        })
        .await
    }
    async fn list_resource(
        &self,
        r: Request<pb::list_resource::Request>,
    ) -> Res<BoxStream<pb::list_resource::Event>> {
        let span = rpc_span("ListResource", &r.get_ref().type_name, "");
        traced(span, async move { ok(self.list(r.into_inner())) }).await
    }
    async fn validate_list_resource_config(
        &self,
        r: Request<pb::validate_list_resource_config::Request>,
    ) -> Res<pb::validate_list_resource_config::Response> {
        let span = rpc_span("ValidateListResourceConfig", &r.get_ref().type_name, "");
        traced(span, async move {
            let r = r.into_inner();
            let d = self.validate_list(&r.type_name, r.config.as_ref()).await;
            ok(pb::validate_list_resource_config::Response {
                diagnostics: diags_to_pb(&d),
            })
        })
        .await
    }
    async fn get_functions(
        &self,
        _r: Request<pb::get_functions::Request>,
    ) -> Res<pb::get_functions::Response> {
        ok(pb::get_functions::Response {
            functions: self.schema_response.functions.clone(),
            diagnostics: Vec::new(),
        })
    }
    async fn call_function(
        &self,
        r: Request<pb::call_function::Request>,
    ) -> Res<pb::call_function::Response> {
        let span = rpc_span("CallFunction", "", "");
        traced(span, async move { ok(self.call(r.into_inner()).await) }).await
    }

    // ---- state stores: this framework has none; answer with a clear diagnostic.
    async fn validate_state_store_config(
        &self,
        r: Request<pb::validate_state_store::Request>,
    ) -> Res<pb::validate_state_store::Response> {
        ok(pb::validate_state_store::Response {
            diagnostics: no_state_store(&r.into_inner().type_name),
        })
    }
    async fn configure_state_store(
        &self,
        r: Request<pb::configure_state_store::Request>,
    ) -> Res<pb::configure_state_store::Response> {
        ok(pb::configure_state_store::Response {
            diagnostics: no_state_store(&r.into_inner().type_name),
            capabilities: None,
        })
    }
    async fn read_state_bytes(
        &self,
        r: Request<pb::read_state_bytes::Request>,
    ) -> Res<BoxStream<pb::read_state_bytes::Response>> {
        let ev = pb::read_state_bytes::Response {
            diagnostics: no_state_store(&r.into_inner().type_name),
            ..Default::default()
        };
        ok(Box::pin(tokio_stream::iter([Ok(ev)])))
    }
    async fn write_state_bytes(
        &self,
        _r: Request<tonic::Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Res<pb::write_state_bytes::Response> {
        ok(pb::write_state_bytes::Response {
            diagnostics: no_state_store(""),
        })
    }
    async fn lock_state(
        &self,
        r: Request<pb::lock_state::Request>,
    ) -> Res<pb::lock_state::Response> {
        ok(pb::lock_state::Response {
            lock_id: String::new(),
            diagnostics: no_state_store(&r.into_inner().type_name),
        })
    }
    async fn unlock_state(
        &self,
        r: Request<pb::unlock_state::Request>,
    ) -> Res<pb::unlock_state::Response> {
        ok(pb::unlock_state::Response {
            diagnostics: no_state_store(&r.into_inner().type_name),
        })
    }
    async fn get_states(
        &self,
        r: Request<pb::get_states::Request>,
    ) -> Res<pb::get_states::Response> {
        ok(pb::get_states::Response {
            state_id: Vec::new(),
            diagnostics: no_state_store(&r.into_inner().type_name),
        })
    }
    async fn delete_state(
        &self,
        r: Request<pb::delete_state::Request>,
    ) -> Res<pb::delete_state::Response> {
        ok(pb::delete_state::Response {
            diagnostics: no_state_store(&r.into_inner().type_name),
        })
    }

    async fn plan_action(
        &self,
        r: Request<pb::plan_action::Request>,
    ) -> Res<pb::plan_action::Response> {
        let span = rpc_span("PlanAction", "", "");
        traced(
            span,
            async move { ok(self.plan_action(r.into_inner()).await) },
        )
        .await
    }
    async fn invoke_action(
        &self,
        r: Request<pb::invoke_action::Request>,
    ) -> Res<BoxStream<pb::invoke_action::Event>> {
        let span = rpc_span("InvokeAction", "", "");
        traced(span, async move { ok(self.invoke_action(r.into_inner())) }).await
    }
    async fn validate_action_config(
        &self,
        r: Request<pb::validate_action_config::Request>,
    ) -> Res<pb::validate_action_config::Response> {
        let span = rpc_span("ValidateActionConfig", "", "");
        traced(span, async move {
            ok(self.validate_action(r.into_inner()).await)
        })
        .await
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> Res<pb::stop_provider::Response> {
        tracing::info!("StopProvider: signalling in-flight operations to stop");
        self.engine.stop_signal().stop();
        ok(pb::stop_provider::Response {
            error: String::new(),
        })
    }
}

fn no_state_store(name: &str) -> Vec<pb::Diagnostic> {
    diags_to_pb(&unknown_type("state store", name).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn shutdown_stops_in_flight_operations() {
        let shutdown = crate::server::ShutdownSignal::new();
        let stop = StopSignal::new();
        let in_flight = stop.context("1.15.5");
        stop_on_shutdown(shutdown.clone(), stop);
        assert!(!in_flight.is_stopped());
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(2), in_flight.stopped())
            .await
            .expect("the handler's context is stopped after shutdown");
    }
}
