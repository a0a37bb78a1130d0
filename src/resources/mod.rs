//! Resource registry: every managed resource type the provider serves.

pub mod instance;

use std::sync::Arc;

use tfplugin::provider::Resource;

use crate::provider::ProviderData;

/// All resource types, sharing the provider's configured client.
pub fn all(data: &Arc<ProviderData>) -> Vec<Arc<dyn Resource>> {
    vec![Arc::new(instance::InstanceResource::new(data.clone()))]
}
