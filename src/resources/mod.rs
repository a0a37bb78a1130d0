//! Resource registry: every managed resource type the provider serves.
//!
//! One module per type; each handler receives the configured [`Client`] from the framework. The
//! sub-resources of an instance (databases, users, firewall rules) share one lifecycle, `child`;
//! `common` holds what every type uses.

pub mod backup;
pub mod child;
pub mod common;
pub mod database;
pub mod db_instance;
pub mod firewall_rule;
pub mod identity;
pub mod instance;
pub mod user;

use std::sync::Arc;

use tfplugin::provider::Resource;

use crate::client::Client;

/// All resource types.
pub fn all() -> Vec<Arc<dyn Resource<Client>>> {
    vec![
        Arc::new(instance::InstanceResource),
        Arc::new(database::DatabaseResource::default()),
        Arc::new(user::UserResource::default()),
        Arc::new(firewall_rule::FirewallRuleResource::default()),
        Arc::new(backup::BackupResource),
        Arc::new(db_instance::DbInstanceAlias::default()),
    ]
}
