//! tfplugin: a Terraform plugin protocol 6 server framework.
//!
//! A provider implements the traits in [`provider`] against declarative [`schema`]s and
//! calls [`serve_provider`]; the framework does the protocol work.
//!
//! # Layout
//!
//! Start with [`guide`]: a complete minimal provider, compiled and run as a test.
//!
//! * [`provider`]: the traits a provider implements (`Provider` with its `Data`, `Resource`,
//!   `DataSource`, `Function`, `EphemeralResource`, `ListResource`, `Action`), their request
//!   and result types (imports by ID or identity, moves), `PrivateState`, `Context` (stop
//!   signal). One file per concept.
//! * [`model`]: typed models over values: `Field<T>` (null / unknown / known),
//!   `Value::to`, `Value::from_model`, and `conform`, the strict fit to a schema type.
//! * [`engine`]: the proto-free orchestration of every RPC (decode → validate → plan → modify
//!   → handler → check → fit → scrub), which owns the provider's configuration state, checks
//!   identities, and drives the streaming calls (list, invoke).
//! * [`grpc`]: the `tfplugin6.Provider` service: protobuf ↔ engine conversion, nothing else.
//! * [`value`]: cty's types and values, with the msgpack / JSON / type-JSON codecs and
//!   stored-state (`RawState`) decoding.
//! * [`diag`]: diagnostics, the way every RPC reports problems.
//! * [`schema`]: attributes, nested attributes, blocks, validators, defaults, plan
//!   modifiers, `timeouts`, identity schemas, and `Schema::check`.
//! * [`docs`]: registry-format Markdown (tfplugindocs layout) rendered from the schemas.
//! * [`plan`]: the declarative plan engine and the apply/read/plan consistency checks
//!   that name the offending attribute.
//! * [`server`], [`logging`], [`proto`], `testing` (feature `testing`): transport (go-plugin
//!   handshake, AutoMTLS, auxiliary services), hclog logging, generated code, test client.
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

/// The guide for provider authors (the crate's README), with a complete minimal provider that
/// compiles and runs as a doctest.
#[doc = include_str!("../README.md")]
pub mod guide {}

pub use grpc::{ProviderService, serve_provider};
