//! The proto-free engine: everything between "Terraform sent these values" and "these values
//! go back", with no protobuf in sight (the terraform-plugin-framework's `fwserver`).
//!
//! For each RPC the engine takes decoded [`Value`](crate::value::Value)s, looks the type up, validates, runs the
//! declarative plan, calls the provider's handler inside a panic guard, checks the result
//! against Terraform's consistency rules ([`crate::plan::check`]), fits it to the schema
//! ([`crate::model::conform`]) and scrubs what must never reach state (unknowns, write-only
//! values). [`crate::grpc`] only converts protobuf messages to and from these calls, so the
//! orchestration is tested here directly, table-driven (see `tests.rs`).
//!
//! The engine also owns the provider's configuration state ([`Configuration`]): handlers
//! receive the configured [`Provider::Data`] and never see "not configured yet".

mod action;
mod genconfig;
mod identity;
mod list;
mod other;
mod resource;
mod scrub;
mod stream;
#[cfg(test)]
mod tests;

pub use action::{ACTION_STOP_GRACE, ActionEvent};
pub use genconfig::config_from_state;
pub use list::ListedItem;
pub use other::{EphemeralOpened, FunctionCall};
pub use resource::{ApplyOutput, ImportOutput, MoveOutput, MoveSource, PlanOutput, ReadOutput};
pub use scrub::{scrub_unknowns, scrub_write_only};
pub use stream::Events;

use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::{
    Action, Context, DataSource, EphemeralResource, Function, ListResource, Provider, Resource,
    StopSignal,
};
use crate::schema::{IdentitySchema, Schema, validate_config};
use crate::value::{Type, Value};
use futures_util::FutureExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};

/// A schema with its implied type, computed once.
#[derive(Clone)]
pub struct Typed {
    /// The schema.
    pub schema: Schema,
    /// Its implied object type (what values of this schema decode with).
    pub ty: Type,
}

impl Typed {
    fn new(schema: Schema) -> Self {
        let ty = schema.implied_type();
        Typed { schema, ty }
    }
}

/// A registered managed resource type.
pub struct ResourceEntry<D> {
    /// The implementation.
    pub imp: Arc<dyn Resource<D>>,
    /// Its schema and type.
    pub s: Typed,
    /// Its identity schema and type, if any.
    pub identity: Option<(IdentitySchema, Type)>,
}

/// A registered data source, ephemeral resource, list resource or action type.
pub struct Entry<T: ?Sized> {
    /// The implementation.
    pub imp: Arc<T>,
    /// Its schema and type.
    pub s: Typed,
}

/// What the framework knows about the provider's configuration.
pub enum Configuration<D> {
    /// `ConfigureProvider` has not succeeded (yet).
    NotConfigured,
    /// The provider block holds values known only after apply; these top-level settings.
    Unknown(Vec<String>),
    /// Configured: the provider's data.
    Ready(Arc<D>),
}

/// The engine serving one [`Provider`].
pub struct Engine<P: Provider> {
    provider: P,
    provider_schema: Typed,
    resources: BTreeMap<String, ResourceEntry<P::Data>>,
    data_sources: BTreeMap<String, Entry<dyn DataSource<P::Data>>>,
    ephemeral: BTreeMap<String, Entry<dyn EphemeralResource<P::Data>>>,
    lists: BTreeMap<String, Entry<dyn ListResource<P::Data>>>,
    actions: BTreeMap<String, Entry<dyn Action<P::Data>>>,
    functions: BTreeMap<String, Arc<dyn Function>>,
    configuration: RwLock<Configuration<P::Data>>,
    stop: StopSignal,
    terraform_version: RwLock<String>,
}

impl<P: Provider> Engine<P> {
    /// Collects the provider's types and schemas once (they are fixed for the process).
    pub fn new(provider: P) -> Self {
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
        let actions = registry(provider.actions(), |a| (a.type_name(), a.schema()));
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| (f.name().to_string(), f))
            .collect();
        Engine {
            provider_schema: Typed::new(provider.schema()),
            provider,
            resources,
            data_sources,
            ephemeral,
            lists,
            actions,
            functions,
            configuration: RwLock::new(Configuration::NotConfigured),
            stop: StopSignal::new(),
            terraform_version: RwLock::new(String::new()),
        }
    }

    /// The provider.
    pub fn provider(&self) -> &P {
        &self.provider
    }

    /// The provider block's schema and type.
    pub fn provider_schema(&self) -> &Typed {
        &self.provider_schema
    }

    /// Managed resource types by name.
    pub fn resources(&self) -> &BTreeMap<String, ResourceEntry<P::Data>> {
        &self.resources
    }

    /// Data source types by name.
    pub fn data_sources(&self) -> &BTreeMap<String, Entry<dyn DataSource<P::Data>>> {
        &self.data_sources
    }

    /// Ephemeral resource types by name.
    pub fn ephemeral_resources(&self) -> &BTreeMap<String, Entry<dyn EphemeralResource<P::Data>>> {
        &self.ephemeral
    }

    /// List resource types by name.
    pub fn list_resources(&self) -> &BTreeMap<String, Entry<dyn ListResource<P::Data>>> {
        &self.lists
    }

    /// Action types by name.
    pub fn actions(&self) -> &BTreeMap<String, Entry<dyn Action<P::Data>>> {
        &self.actions
    }

    /// Functions by name.
    pub fn functions(&self) -> &BTreeMap<String, Arc<dyn Function>> {
        &self.functions
    }

    /// The stop signal `StopProvider` fires.
    pub fn stop_signal(&self) -> StopSignal {
        self.stop.clone()
    }

    /// The managed resource type `name`, or the "Unknown resource type" diagnostic.
    pub fn resource(&self, name: &str) -> Result<&ResourceEntry<P::Data>, Diagnostic> {
        lookup(&self.resources, "resource", name)
    }

    /// The data source type `name`.
    pub fn data_source(&self, name: &str) -> Result<&Entry<dyn DataSource<P::Data>>, Diagnostic> {
        lookup(&self.data_sources, "data source", name)
    }

    /// The ephemeral resource type `name`.
    pub fn ephemeral_resource(
        &self,
        name: &str,
    ) -> Result<&Entry<dyn EphemeralResource<P::Data>>, Diagnostic> {
        lookup(&self.ephemeral, "ephemeral resource", name)
    }

    /// The list resource type `name`.
    pub fn list_resource(
        &self,
        name: &str,
    ) -> Result<&Entry<dyn ListResource<P::Data>>, Diagnostic> {
        lookup(&self.lists, "list resource", name)
    }

    /// The action type `name`.
    pub fn action(&self, name: &str) -> Result<&Entry<dyn Action<P::Data>>, Diagnostic> {
        lookup(&self.actions, "action", name)
    }

    /// A context for one call, listening to the stop signal.
    pub fn context(&self, deferral_allowed: bool) -> Context {
        let v = self
            .terraform_version
            .read()
            .map(|g| g.clone())
            .unwrap_or_default();
        let mut c = self.stop.context(v);
        c.deferral_allowed = deferral_allowed;
        c
    }

    /// True when the Terraform driving us stores resource identities (1.12 and later; older
    /// ones send none, so a handler cannot keep one, and ignore what we return). Before
    /// `ConfigureProvider` the version is unknown, and the answer strict (true).
    fn identities_stored(&self) -> bool {
        self.terraform_version
            .read()
            .map_or(true, |v| identity::stored_by(&v))
    }

    fn set_configuration(&self, c: Configuration<P::Data>) {
        *self
            .configuration
            .write()
            .unwrap_or_else(|e| e.into_inner()) = c;
    }

    /// The configured data, or the error saying why there is none (for `what`, e.g.
    /// "create clouddb_instance").
    fn data(&self, what: &str) -> Result<Arc<P::Data>, Diagnostic> {
        match &*self.configuration.read().unwrap_or_else(|e| e.into_inner()) {
            Configuration::Ready(d) => Ok(d.clone()),
            Configuration::Unknown(attrs) => Err(Diagnostic::error(
                "Provider configuration is not known yet",
                format!(
                    "Cannot {what}: the {} provider settings {} depend on values known only after \
                     apply. Apply the resources they depend on first (e.g. with -target), then run \
                     again.",
                    self.provider.type_name(),
                    attrs.join(", ")
                ),
            )),
            Configuration::NotConfigured => Err(Diagnostic::error(
                "Provider not configured",
                format!(
                    "Cannot {what}: Terraform has not configured the {} provider (ConfigureProvider \
                     did not run or failed).",
                    self.provider.type_name()
                ),
            )),
        }
    }

    /// The configured data, if configured (`None` also while the configuration is unknown):
    /// what plan-time hooks get.
    fn data_if_ready(&self) -> Option<Arc<P::Data>> {
        match &*self.configuration.read().unwrap_or_else(|e| e.into_inner()) {
            Configuration::Ready(d) => Some(d.clone()),
            _ => None,
        }
    }

    /// True while the configuration holds unknown values.
    fn configuration_unknown(&self) -> bool {
        matches!(
            &*self.configuration.read().unwrap_or_else(|e| e.into_inner()),
            Configuration::Unknown(_)
        )
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

fn lookup<'a, T>(
    map: &'a BTreeMap<String, T>,
    kind: &str,
    name: &str,
) -> Result<&'a T, Diagnostic> {
    map.get(name).ok_or_else(|| {
        Diagnostic::error(
            format!("Unknown {kind} type"),
            format!("This provider has no {kind} type {name:?}."),
        )
    })
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

/// Schema validators, then the type's own checks (`own`, run in the panic guard): every
/// Validate* RPC of a config-only type.
pub(crate) async fn validated(
    block: &crate::schema::Block,
    config: &Value,
    own: impl std::future::Future<Output = Diagnostics>,
) -> Diagnostics {
    let mut d = validate_config(block, config);
    guard("validate", own)
        .await
        .map(|x| d.extend(x))
        .collect_into(&mut d);
    d
}

/// Collects diagnostics from `Result`s while an operation proceeds.
pub(crate) trait Collect<T> {
    /// The value, or `None` with the error pushed onto `d`.
    fn collect_into(self, d: &mut Diagnostics) -> Option<T>;
}

impl<T> Collect<T> for Result<T, Diagnostic> {
    fn collect_into(self, d: &mut Diagnostics) -> Option<T> {
        self.map_err(|e| d.push(e)).ok()
    }
}

impl<T> Collect<T> for Result<T, Diagnostics> {
    fn collect_into(self, d: &mut Diagnostics) -> Option<T> {
        self.map_err(|e| d.extend(e)).ok()
    }
}

/// The key under which the framework marks the private state an import hands back, so that
/// the read that follows may complete the identity the import produced (Terraform always
/// refreshes right after an import; terraform-plugin-framework keeps the same marker in its
/// own namespace). Handlers never see it: [`private`] removes it.
const IMPORTED: &str = "tfplugin.imported_before_read";

/// Decodes the private state bytes Terraform stored for us.
pub(crate) fn private(
    bytes: &[u8],
    what: &str,
) -> Result<crate::provider::PrivateState, Diagnostic> {
    private_marked(bytes, what).map(|(p, _)| p)
}

/// [`private`], and whether the state comes straight from an import.
pub(crate) fn private_marked(
    bytes: &[u8],
    what: &str,
) -> Result<(crate::provider::PrivateState, bool), Diagnostic> {
    let mut p = crate::provider::PrivateState::from_bytes(bytes)
        .map_err(|e| Diagnostic::error(format!("Invalid {what}"), e.to_string()))?;
    let imported = p.get::<serde_json::Value>(IMPORTED).is_some();
    p.remove(IMPORTED);
    Ok((p, imported))
}

/// Marks private state as coming from an import (see [`IMPORTED`]).
pub(crate) fn mark_imported(p: &mut crate::provider::PrivateState) {
    p.set(IMPORTED, &true);
}
