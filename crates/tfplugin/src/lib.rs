//! tfplugin: a Terraform plugin protocol 6 server framework.
//!
//! A provider implements the traits in [`provider`] against declarative [`schema`]s and
//! calls [`serve_provider`]; the framework does the protocol work.
//!
//! # Layout
//!
//! * [`value`]: cty's types and values, with the msgpack / JSON / type-JSON codecs and
//!   stored-state (`RawState`) decoding.
//! * [`diag`]: diagnostics, the way every RPC reports problems.
//! * [`schema`]: attributes, nested attributes, blocks, validators, defaults, plan
//!   modifiers, `timeouts`, identity schemas.
//! * [`docs`]: registry-format Markdown (tfplugindocs layout) rendered from the schemas.
//! * [`plan`]: the declarative plan engine and the apply/read/plan consistency checks
//!   that name the offending attribute.
//! * [`provider`]: the `Provider` / `Resource` / `DataSource` / `Function` /
//!   `EphemeralResource` / `ListResource` traits, `PrivateState`, `Context` (stop signal).
//! * [`grpc`]: the `tfplugin6.Provider` service (every 6.11 RPC) dispatching to those traits.
//! * [`server`], [`logging`], [`proto`]: transport (go-plugin handshake, AutoMTLS,
//!   auxiliary services), hclog logging, generated code.
//! * `testing` (cargo feature `testing`, off by default): a test client that launches a
//!   provider binary like Terraform, and the value, diagnostic, garbage-input and request
//!   helpers shared by protocol tests.
//!
//! ```no_run
//! # use tfplugin::provider::Provider;
//! # async fn run(p: impl Provider) {
//! let opts = tfplugin::server::ServeOptions::new("registry.terraform.io/clouddb/clouddb");
//! if let Err(e) = tfplugin::serve_provider(p, opts).await {
//!     eprintln!("{e}");
//! }
//! # }
//! ```

#![warn(missing_docs)]

pub mod logging;
pub mod proto;
pub mod server;
#[cfg(feature = "testing")]
pub mod testing;

pub mod diag;
pub mod docs;
pub mod engine;
pub mod grpc;
pub mod model;
pub mod plan;
pub mod provider;
pub mod schema;
pub mod value;

pub use grpc::{ProviderService, serve_provider};
