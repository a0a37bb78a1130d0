//! Ephemeral resources (`ephemeral "clouddb_…" "x" {}`, Terraform 1.10+): values Terraform opens for
//! the length of one command, renews while it still needs them and closes at the end, and never
//! writes to state or plan files.
//!
//! - [`credentials`]: `clouddb_credentials`, a temporary database login of an instance.

pub mod credentials;

use std::sync::Arc;

use tfplugin::provider::EphemeralResource;

use crate::client::Client;

/// Every ephemeral resource type the provider serves.
pub fn all() -> Vec<Arc<dyn EphemeralResource<Client>>> {
    vec![Arc::new(credentials::Credentials)]
}
