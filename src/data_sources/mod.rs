//! Data source registry: every data source type the provider serves, each reading the API through
//! the configured [`Client`] the framework hands it.
//!
//! One module per type. Each declares its model (one Rust field per schema attribute, read from the
//! configuration with `Value::to` and written back with `DataReadResult::from_model`), so no code
//! reaches into a value by attribute name. Looking up one object that does not exist is an error
//! naming what was looked up; a list whose filters match nothing is an empty list.

pub mod backups;
pub mod engine_versions;
pub mod instance;
pub mod instances;
pub mod tiers;

use std::sync::Arc;

use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::DataSource;
use tfplugin::value::AttributePath;

use crate::client::{ApiError, Client};

/// All data source types.
pub fn all() -> Vec<Arc<dyn DataSource<Client>>> {
    vec![
        Arc::new(instance::InstanceDataSource),
        Arc::new(instances::InstancesDataSource),
        Arc::new(engine_versions::EngineVersionsDataSource),
        Arc::new(tiers::TiersDataSource),
        Arc::new(backups::BackupsDataSource),
    ]
}

/// An API error as diagnostics: one error with status, reason and request id, plus one error on
/// each of `arguments` that a field violation names (the API checks what it was sent, and the
/// user should see which argument it rejected). Unlike `resources::common::api_diags`, which
/// matches any attribute of a schema, this takes the caller's list: a data source's results share
/// names with query parameters (`state`) without being what the API rejected.
pub(crate) fn api_diags(summary: &str, err: &ApiError, arguments: &[&str]) -> Diagnostics {
    let mut d: Diagnostics = Diagnostic::error(summary, err.detail()).into();
    for v in err.field_violations() {
        let root = v.field.split(['.', '[']).next().unwrap_or_default();
        if let Some(arg) = arguments.iter().find(|a| **a == root) {
            d.attribute_error(
                AttributePath::attr(*arg),
                format!("Invalid {arg}"),
                v.description.clone(),
            );
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every data source schema passes the framework's checks, including Terraform's reserved
    /// names, and type names are unique and start with the provider's.
    #[test]
    fn schemas_are_consistent() {
        let mut names = std::collections::BTreeSet::new();
        for d in all() {
            let s = d.schema();
            assert!(
                s.check_as(tfplugin::schema::SchemaKind::DataSource).is_ok(),
                "{}: {:?}",
                d.type_name(),
                s.check_as(tfplugin::schema::SchemaKind::DataSource)
            );
            assert!(d.type_name().starts_with("clouddb_"));
            assert!(names.insert(d.type_name()), "{} twice", d.type_name());
            assert!(!s.block.description.is_empty(), "{}", d.type_name());
            assert!(
                tfplugin::docs::undocumented(&s).is_empty(),
                "{}: {:?}",
                d.type_name(),
                tfplugin::docs::undocumented(&s)
            );
        }
    }
}
