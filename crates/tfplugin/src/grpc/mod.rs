//! The `tfplugin6.Provider` gRPC service: proto ↔ framework conversion and dispatch.
//!
//! [`ProviderService`] implements the generated tonic trait for every RPC of protocol
//! 6.11. Each call decodes its `DynamicValue`s with the schema's type, calls the
//! provider's trait method inside a panic guard, checks the result (see
//! [`crate::plan::check`]) and answers in msgpack. Problems — bad input, unknown type
//! names, features the provider lacks, panics — become diagnostics, never a gRPC error,
//! because Terraform shows diagnostics but reports transport errors as a crashed plugin.

mod convert;
mod resource;
mod rest;

use crate::diag::{Diagnostic, Diagnostics};
use crate::proto::tfplugin6 as pb;
use crate::provider::{
    Context, DataSource, EphemeralResource, Function, ListResource, Provider, Resource, StopSignal,
};
use crate::schema::{IdentitySchema, Schema};
use crate::value::Type;
use convert::diags_to_pb;
use futures_util::FutureExt;
use pb::provider_server::Provider as PbProvider;
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};
use tonic::{Request, Response, Status};

type Res<T> = Result<Response<T>, Status>;
type BoxStream<T> =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A schema with its implied type, computed once.
#[derive(Clone)]
pub(crate) struct Typed {
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

impl Typed {
    fn new(schema: Schema) -> Self {
        let ty = schema.implied_type();
        Typed { schema, ty }
    }
}

pub(crate) struct ResourceEntry {
    pub(crate) imp: Arc<dyn Resource>,
    pub(crate) s: Typed,
    pub(crate) identity: Option<(IdentitySchema, Type)>,
}

pub(crate) struct Entry<T: ?Sized> {
    pub(crate) imp: Arc<T>,
    pub(crate) s: Typed,
}

/// The tonic service wrapping a [`Provider`].
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    provider_schema: Typed,
    resources: BTreeMap<String, ResourceEntry>,
    data_sources: BTreeMap<String, Entry<dyn DataSource>>,
    ephemeral: BTreeMap<String, Entry<dyn EphemeralResource>>,
    lists: BTreeMap<String, Entry<dyn ListResource>>,
    functions: BTreeMap<String, Arc<dyn Function>>,
    /// The `GetProviderSchema` answer, converted (and its schemas checked) once.
    schema_response: pb::get_provider_schema::Response,
    stop: StopSignal,
    terraform_version: RwLock<String>,
}

impl ProviderService {
    /// Collects the provider's schemas once (they are immutable for the process lifetime).
    pub fn new(provider: impl Provider) -> Self {
        let provider: Arc<dyn Provider> = Arc::new(provider);
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let identity = r.identity_schema().map(|i| {
                    let t = i.implied_type();
                    (i, t)
                });
                let e = ResourceEntry {
                    s: Typed::new(r.schema()),
                    imp: r,
                    identity,
                };
                (e.imp.type_name().to_string(), e)
            })
            .collect();
        let data_sources = registry(provider.data_sources(), |d| (d.type_name(), d.schema()));
        let ephemeral = registry(provider.ephemeral_resources(), |d| {
            (d.type_name(), d.schema())
        });
        let lists = registry(provider.list_resources(), |d| (d.type_name(), d.schema()));
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| (f.name().to_string(), f))
            .collect();
        let mut svc = ProviderService {
            provider_schema: Typed::new(provider.schema()),
            provider,
            resources,
            data_sources,
            ephemeral,
            lists,
            functions,
            schema_response: Default::default(),
            stop: StopSignal::new(),
            terraform_version: RwLock::new(String::new()),
        };
        svc.schema_response = svc.provider_schema_pb();
        svc
    }

    /// The stop signal `StopProvider` fires (exposed for tests and embedding).
    pub fn stop_signal(&self) -> StopSignal {
        self.stop.clone()
    }

    fn ctx(&self, caps: Option<&pb::ClientCapabilities>) -> Context {
        let v = self
            .terraform_version
            .read()
            .map(|g| g.clone())
            .unwrap_or_default();
        let mut c = self.stop.context(v);
        c.deferral_allowed = caps.is_some_and(|c| c.deferral_allowed);
        c
    }

    fn resource(&self, name: &str) -> Result<&ResourceEntry, Diagnostic> {
        lookup(&self.resources, "resource", name)
    }
}

/// Indexes `items` by type name, computing each schema's type once.
fn registry<T: ?Sized>(
    items: Vec<Arc<T>>,
    describe: impl Fn(&T) -> (&'static str, Schema),
) -> BTreeMap<String, Entry<T>> {
    items
        .into_iter()
        .map(|imp| {
            let (name, schema) = describe(&imp);
            let s = Typed::new(schema);
            (name.to_string(), Entry { imp, s })
        })
        .collect()
}

/// The entry for `name`, or the "Unknown {kind} type" diagnostic.
fn lookup<'a, T>(
    map: &'a BTreeMap<String, T>,
    kind: &str,
    name: &str,
) -> Result<&'a T, Diagnostic> {
    map.get(name).ok_or_else(|| unknown_type(kind, name))
}

fn unknown_type(kind: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {name:?}."),
    )
}

/// Runs a provider handler, turning a panic into an error diagnostic so one bad handler
/// cannot take down the plugin (Terraform would report every later call as a crash).
pub(crate) async fn guard<T>(what: &str, fut: impl Future<Output = T>) -> Result<T, Diagnostic> {
    AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .map_err(|p| panic_diag(what, p.as_ref()))
}

/// Synchronous counterpart of [`guard`].
pub(crate) fn guard_sync<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Diagnostic> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_diag(what, p.as_ref()))
}

fn panic_diag(what: &str, payload: &(dyn std::any::Any + Send)) -> Diagnostic {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into());
    tracing::error!(handler = what, panic = %msg, "provider handler panicked");
    Diagnostic::error(
        "Provider panicked",
        format!(
            "The provider's {what} handler panicked: {msg}. This is a bug in the provider; the plugin keeps running."
        ),
    )
}

/// Collects diagnostics from `Result`s while a handler proceeds.
pub(crate) trait Collect<T> {
    fn collect_into(self, d: &mut Diagnostics) -> Option<T>;
}

impl<T> Collect<T> for Result<T, Diagnostic> {
    fn collect_into(self, d: &mut Diagnostics) -> Option<T> {
        self.map_err(|e| d.push(e)).ok()
    }
}

/// Serves `provider` over the go-plugin/tfplugin6 transport (handshake, AutoMTLS, …).
pub async fn serve_provider(
    provider: impl Provider,
    opts: crate::server::ServeOptions,
) -> Result<(), crate::server::ServeError> {
    crate::server::serve(ProviderService::new(provider), opts).await
}

fn ok<T>(t: T) -> Res<T> {
    Ok(Response::new(t))
}

#[tonic::async_trait]
impl PbProvider for ProviderService {
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
                .resources
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
        let r = r.into_inner();
        let d = self.validate_provider(r.config.as_ref()).await;
        ok(pb::validate_provider_config::Response {
            diagnostics: diags_to_pb(&d),
        })
    }
    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Res<pb::configure_provider::Response> {
        let d = self.configure(r.into_inner()).await;
        ok(pb::configure_provider::Response {
            diagnostics: diags_to_pb(&d),
        })
    }
    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Res<pb::validate_resource_config::Response> {
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
    }
    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> Res<pb::validate_data_resource_config::Response> {
        let r = r.into_inner();
        let d = self
            .validate_data_source(&r.type_name, r.config.as_ref())
            .await;
        ok(pb::validate_data_resource_config::Response {
            diagnostics: diags_to_pb(&d),
        })
    }
    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> Res<pb::upgrade_resource_state::Response> {
        ok(self.upgrade_state(r.into_inner()))
    }
    async fn upgrade_resource_identity(
        &self,
        r: Request<pb::upgrade_resource_identity::Request>,
    ) -> Res<pb::upgrade_resource_identity::Response> {
        ok(self.upgrade_identity(r.into_inner()))
    }
    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> Res<pb::read_resource::Response> {
        ok(self.read(r.into_inner()).await)
    }
    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> Res<pb::plan_resource_change::Response> {
        ok(self.plan(r.into_inner()).await)
    }
    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> Res<pb::apply_resource_change::Response> {
        ok(self.apply(r.into_inner()).await)
    }
    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> Res<pb::import_resource_state::Response> {
        ok(self.import(r.into_inner()).await)
    }
    async fn move_resource_state(
        &self,
        r: Request<pb::move_resource_state::Request>,
    ) -> Res<pb::move_resource_state::Response> {
        ok(self.move_state(r.into_inner()).await)
    }
    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> Res<pb::read_data_source::Response> {
        ok(self.read_data(r.into_inner()).await)
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
        let r = r.into_inner();
        let d = self
            .validate_ephemeral(&r.type_name, r.config.as_ref())
            .await;
        ok(pb::validate_ephemeral_resource_config::Response {
            diagnostics: diags_to_pb(&d),
        })
    }
    async fn open_ephemeral_resource(
        &self,
        r: Request<pb::open_ephemeral_resource::Request>,
    ) -> Res<pb::open_ephemeral_resource::Response> {
        ok(self.open_ephemeral(r.into_inner()).await)
    }
    async fn renew_ephemeral_resource(
        &self,
        r: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Res<pb::renew_ephemeral_resource::Response> {
        ok(self.renew_ephemeral(r.into_inner()).await)
    }
    async fn close_ephemeral_resource(
        &self,
        r: Request<pb::close_ephemeral_resource::Request>,
    ) -> Res<pb::close_ephemeral_resource::Response> {
        ok(self.close_ephemeral(r.into_inner()).await)
    }
    async fn list_resource(
        &self,
        r: Request<pb::list_resource::Request>,
    ) -> Res<BoxStream<pb::list_resource::Event>> {
        let events = self.list(r.into_inner()).await;
        ok(Box::pin(tokio_stream::iter(events.into_iter().map(Ok))))
    }
    async fn validate_list_resource_config(
        &self,
        r: Request<pb::validate_list_resource_config::Request>,
    ) -> Res<pb::validate_list_resource_config::Response> {
        let r = r.into_inner();
        let d = self.validate_list(&r.type_name, r.config.as_ref()).await;
        ok(pb::validate_list_resource_config::Response {
            diagnostics: diags_to_pb(&d),
        })
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
        ok(self.call(r.into_inner()).await)
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

    // ---- actions: none defined; answer with a clear diagnostic.
    async fn plan_action(
        &self,
        r: Request<pb::plan_action::Request>,
    ) -> Res<pb::plan_action::Response> {
        ok(pb::plan_action::Response {
            diagnostics: no_action(&r.into_inner().action_type),
            deferred: None,
        })
    }
    async fn invoke_action(
        &self,
        r: Request<pb::invoke_action::Request>,
    ) -> Res<BoxStream<pb::invoke_action::Event>> {
        use pb::invoke_action::event;
        let ev = pb::invoke_action::Event {
            r#type: Some(event::Type::Completed(event::Completed {
                diagnostics: no_action(&r.into_inner().action_type),
            })),
        };
        ok(Box::pin(tokio_stream::iter([Ok(ev)])))
    }
    async fn validate_action_config(
        &self,
        r: Request<pb::validate_action_config::Request>,
    ) -> Res<pb::validate_action_config::Response> {
        ok(pb::validate_action_config::Response {
            diagnostics: no_action(&r.into_inner().type_name),
        })
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> Res<pb::stop_provider::Response> {
        tracing::info!("StopProvider: signalling in-flight operations to stop");
        self.stop.stop();
        ok(pb::stop_provider::Response {
            error: String::new(),
        })
    }
}

fn no_state_store(name: &str) -> Vec<pb::Diagnostic> {
    diags_to_pb(&unknown_type("state store", name).into())
}

fn no_action(name: &str) -> Vec<pb::Diagnostic> {
    diags_to_pb(&unknown_type("action", name).into())
}
