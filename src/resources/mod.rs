//! Resource registry: every managed resource type the provider serves.
//!
//! One module per type; each handler receives the configured [`Client`] from the framework.

pub mod instance;

use std::sync::Arc;

use tfplugin::provider::Resource;

use crate::client::Client;

/// All resource types.
pub fn all() -> Vec<Arc<dyn Resource<Client>>> {
    vec![Arc::new(instance::InstanceResource)]
}
