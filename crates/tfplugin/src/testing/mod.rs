//! Test support for providers built on tfplugin (cargo feature `testing`, off by
//! default, so a shipped provider binary never contains it).
//!
//! * [`process`]: a tfplugin6 client that launches a provider binary exactly as
//!   Terraform does (P-521 client certificate, AutoMTLS). Its items are re-exported
//!   here, e.g. [`ProviderProcess`], [`LaunchOptions`], [`ClientAuth`].
//! * [`values`]: `DynamicValue`s, `RawState`s and resource identities from
//!   [`Value`](crate::value::Value)s and back (msgpack, JSON).
//! * [`diagnostics`]: picking error diagnostics and the attributes they name, and the
//!   assertions the protocol tests make on them ("no errors", "unsupported",
//!   "could not be decoded").
//! * [`garbage`]: malformed msgpack, JSON, stored state and private bytes, for
//!   checking that every value-carrying request field rejects them with a diagnostic.
//! * [`requests`]: request builders for the resource RPCs (plan, apply, read) and
//!   Terraform's proposed new state.
//!
//! The helpers panic (with a message naming what failed) instead of returning
//! errors: they are meant for tests, where a panic is a test failure.
//!
//! ```
//! use tfplugin::testing::{diagnostics, values};
//! use tfplugin::value::{Type, Value};
//!
//! let ty = Type::object([("name", Type::String)]);
//! let v = values::from_json(&ty, serde_json::json!({"name": "a"}));
//! let dv = values::dynamic_value(&ty, &v);
//! assert_eq!(values::decode(&ty, &dv), v);
//! diagnostics::assert_no_errors("nothing sent yet", &[]);
//! ```

pub mod diagnostics;
pub mod garbage;
pub mod process;
pub mod requests;
pub mod values;

pub use process::{
    ClientAuth, Handshake, LaunchOptions, ProviderProcess, TestClientError, client_config, connect,
    parse_handshake, target_binary, terraform_client_identity,
};
