//! `data "clouddb_tiers"`: the machine tiers CloudDB offers (no arguments).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::provider::{Context, DataReadResult, DataSource};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::Value;

use super::api_diags;
use crate::client::Client;
use crate::client::catalog::Tier;

/// The `clouddb_tiers` data source (its only attribute is the result).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TiersModel {
    pub tiers: Option<Vec<TierModel>>,
}

/// One element of `tiers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierModel {
    pub name: String,
    pub vcpus: i64,
    pub memory_gb: i64,
    pub max_storage_gb: i64,
}

impl From<&Tier> for TierModel {
    fn from(t: &Tier) -> Self {
        TierModel {
            name: t.name.clone(),
            vcpus: t.vcpus,
            memory_gb: t.memory_gb,
            max_storage_gb: t.max_storage_gb,
        }
    }
}

fn computed(a: Attribute, description: &str) -> Attribute {
    a.computed().description(description)
}

/// The data source schema.
pub fn schema() -> Schema {
    Schema::new()
        .description("The machine tiers CloudDB offers, for an instance's `tier`.")
        .attribute(computed(
            Attribute::list_nested(
                "tiers",
                vec![
                    computed(Attribute::string("name"), "Tier name, e.g. `db-small`."),
                    computed(Attribute::int64("vcpus"), "Virtual CPUs."),
                    computed(Attribute::int64("memory_gb"), "Memory in GB."),
                    computed(
                        Attribute::int64("max_storage_gb"),
                        "The largest `storage_gb` an instance of this tier may have.",
                    ),
                ],
            ),
            "The tiers, in the API's order.",
        ))
}

/// The `clouddb_tiers` data source type.
#[derive(Debug, Default)]
pub struct TiersDataSource;

#[async_trait]
impl DataSource<Client> for TiersDataSource {
    fn type_name(&self) -> &'static str {
        "clouddb_tiers"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(
        &self,
        ctx: &Context,
        client: &Client,
        config: &Value,
    ) -> Result<DataReadResult, Diagnostics> {
        // Read only to hold the model to the schema; there is nothing to configure.
        let _: TiersModel = config.to()?;
        let tiers = client
            .with_stop(ctx)
            .list_tiers()
            .await
            .map_err(|e| api_diags("Error listing CloudDB tiers", &e, &[]))?;
        Ok(DataReadResult::from_model(&TiersModel {
            tiers: Some(tiers.iter().map(TierModel::from).collect()),
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_matches_schema() {
        let m = TiersModel {
            tiers: Some(vec![TierModel::from(&Tier {
                name: "db-micro".into(),
                vcpus: 1,
                memory_gb: 1,
                max_storage_gb: 100,
            })]),
        };
        let v = tfplugin::model::conform(
            Value::from_model(&m).expect("writes"),
            &schema().implied_type(),
        )
        .expect("fits the schema");
        assert_eq!(v.to::<TiersModel>().expect("reads back"), m);
    }
}
