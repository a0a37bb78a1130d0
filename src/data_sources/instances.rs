//! `data "clouddb_instances"`: every instance of the project, optionally filtered by engine, labels
//! (all must match) and state. The list follows the API's pages to the end; no match is an empty
//! list, not an error.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::provider::{Context, DataReadResult, DataSource};
use tfplugin::schema::validators::one_of;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

use super::api_diags;
use crate::client::Client;
use crate::client::types::Instance;
use crate::resources::instance::ENGINES;

/// The API's instance states (`State` in docs/openapi.yaml).
pub const STATES: &[&str] = &[
    "CREATING",
    "READY",
    "UPDATING",
    "DELETING",
    "FAILED",
    "MAINTENANCE",
];

/// The `clouddb_instances` data source as configuration (the filters) and result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstancesModel {
    pub engine: Option<String>,
    /// A null value is rejected at validate time; it reads as `None` here.
    pub labels: Option<BTreeMap<String, Option<String>>>,
    pub state: Option<String>,
    pub instances: Option<Vec<InstanceSummaryModel>>,
}

/// One element of `instances`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceSummaryModel {
    pub name: String,
    pub engine: String,
    pub engine_version_actual: String,
    pub tier: String,
    pub storage_gb: i64,
    pub state: String,
    pub endpoint_host: String,
    pub endpoint_port: i64,
    pub labels: BTreeMap<String, String>,
}

impl InstanceSummaryModel {
    fn from_api(i: &Instance) -> Self {
        InstanceSummaryModel {
            name: i.name.clone(),
            engine: i.engine.clone(),
            engine_version_actual: i.engine_version_actual.clone(),
            tier: i.tier.clone(),
            storage_gb: i.storage_gb,
            state: i.state.clone(),
            endpoint_host: i.endpoint.host.clone(),
            endpoint_port: i.endpoint.port,
            labels: i.labels.clone(),
        }
    }
}

/// The filters of a configuration.
#[derive(Debug, Default)]
struct Filter {
    engine: Option<String>,
    labels: BTreeMap<String, String>,
    state: Option<String>,
}

impl Filter {
    fn of(m: &InstancesModel) -> Self {
        Filter {
            engine: m.engine.clone(),
            labels: m
                .labels
                .iter()
                .flatten()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
                .collect(),
            state: m.state.clone(),
        }
    }

    fn matches(&self, i: &Instance) -> bool {
        self.engine.as_ref().is_none_or(|e| *e == i.engine)
            && self.state.as_ref().is_none_or(|s| *s == i.state)
            && self.labels.iter().all(|(k, v)| i.labels.get(k) == Some(v))
    }
}

fn computed(a: Attribute, description: &str) -> Attribute {
    a.computed().description(description)
}

/// The data source schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Lists the project's CloudDB instances, optionally filtered; every filter given must match. \
             No match is an empty list.",
        )
        .attribute(
            Attribute::string("engine")
                .optional()
                .validator(one_of(ENGINES))
                .description("Only instances of this engine (`mysql` or `postgres`)."),
        )
        .attribute(
            Attribute::map("labels", Type::String)
                .optional()
                .validate_with("label values are strings", |p, v, d| {
                    for (k, val) in v.as_map().into_iter().flatten() {
                        if val.is_null() {
                            d.attribute_error(
                                p.with_key(k),
                                "Invalid label filter",
                                format!("The value of label {k:?} is null; give the value the label must have."),
                            );
                        }
                    }
                })
                .description("Only instances that have every one of these labels with exactly these values."),
        )
        .attribute(
            Attribute::string("state")
                .optional()
                .validator(one_of(STATES))
                .description(
                    "Only instances in this state: `CREATING`, `READY`, `UPDATING`, `DELETING`, `FAILED` or \
                     `MAINTENANCE`.",
                ),
        )
        .attribute(computed(
            Attribute::list_nested(
                "instances",
                vec![
                    computed(Attribute::string("name"), "Instance name."),
                    computed(Attribute::string("engine"), "`mysql` or `postgres`."),
                    computed(
                        Attribute::string("engine_version_actual"),
                        "The full version the instance runs, e.g. `8.0.36`.",
                    ),
                    computed(Attribute::string("tier"), "Machine tier."),
                    computed(Attribute::int64("storage_gb"), "Storage in GB."),
                    computed(Attribute::string("state"), "Lifecycle state."),
                    computed(Attribute::string("endpoint_host"), "Host name clients connect to."),
                    computed(Attribute::int64("endpoint_port"), "Port clients connect to."),
                    computed(Attribute::map("labels", Type::String), "Labels (`{}` when none)."),
                ],
            ),
            "The matching instances, ordered by name.",
        ))
}

/// The `clouddb_instances` data source type.
#[derive(Debug, Default)]
pub struct InstancesDataSource;

#[async_trait]
impl DataSource<Client> for InstancesDataSource {
    fn type_name(&self) -> &'static str {
        "clouddb_instances"
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
        let mut m: InstancesModel = config.to()?;
        let filter = Filter::of(&m);
        // Filtered here rather than by the API's `label`/`state` parameters: the engine has no
        // parameter, and one code path keeps "all must match" exact.
        let all = client
            .with_stop(ctx)
            .list_instances()
            .await
            .map_err(|e| api_diags("Error listing CloudDB instances", &e, &[]))?;
        let mut found: Vec<InstanceSummaryModel> = all
            .iter()
            .filter(|i| filter.matches(i))
            .map(InstanceSummaryModel::from_api)
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        m.instances = Some(found);
        Ok(DataReadResult::from_model(&m)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientConfig, fake};

    fn inst(name: &str, engine: &str, state: &str, labels: &[(&str, &str)]) -> serde_json::Value {
        serde_json::json!({
            "name": name, "engine": engine, "state": state, "tier": "db-small", "storage_gb": 20,
            "engine_version_actual": "8.0.36", "endpoint": {"host": format!("{name}.h"), "port": 3306},
            "labels": labels.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                .collect::<serde_json::Map<_, _>>(),
        })
    }

    fn config(engine: Option<&str>, labels: Option<&[(&str, &str)]>, state: Option<&str>) -> Value {
        let m = InstancesModel {
            engine: engine.map(str::to_string),
            labels: labels.map(|l| {
                l.iter()
                    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                    .collect()
            }),
            state: state.map(str::to_string),
            instances: None,
        };
        tfplugin::model::conform(
            Value::from_model(&m).expect("writes"),
            &schema().implied_type(),
        )
        .expect("fits")
    }

    async fn names(c: &Client, config: Value) -> Vec<String> {
        let ctx = tfplugin::provider::StopSignal::new().context("1.15.5");
        let r = InstancesDataSource
            .read(&ctx, c, &config)
            .await
            .expect("read");
        let v =
            tfplugin::model::conform(r.state, &schema().implied_type()).expect("fits the schema");
        assert!(v.is_wholly_known());
        let m: InstancesModel = v.to().expect("reads back");
        m.instances
            .expect("a list")
            .into_iter()
            .map(|i| i.name)
            .collect()
    }

    /// Pages are followed to the end; every filter given must match.
    #[tokio::test]
    async fn filters_over_every_page() {
        let (url, log) = fake::serve(|r, _| {
            let body = if r.path.contains("page_token=") {
                serde_json::json!({"instances": [
                    inst("c-db", "postgres", "READY", &[("team", "a")]),
                    inst("d-db", "mysql", "UPDATING", &[("team", "a"), ("env", "prod")]),
                ]})
            } else {
                serde_json::json!({"instances": [
                    inst("a-db", "mysql", "READY", &[("team", "a"), ("env", "prod")]),
                    inst("b-db", "mysql", "READY", &[]),
                ], "next_page_token": "x"})
            };
            (200, vec![], body.to_string())
        })
        .await;
        let c = Client::new(ClientConfig::new(url, "t", "p1")).expect("client");
        assert_eq!(
            names(&c, config(None, None, None)).await,
            ["a-db", "b-db", "c-db", "d-db"]
        );
        assert_eq!(
            names(&c, config(Some("mysql"), None, None)).await,
            ["a-db", "b-db", "d-db"]
        );
        assert_eq!(
            names(
                &c,
                config(None, Some(&[("team", "a"), ("env", "prod")]), None)
            )
            .await,
            ["a-db", "d-db"]
        );
        assert_eq!(
            names(
                &c,
                config(Some("mysql"), Some(&[("team", "a")]), Some("READY"))
            )
            .await,
            ["a-db"]
        );
        assert!(
            names(&c, config(None, Some(&[("team", "b")]), None))
                .await
                .is_empty()
        );
        assert_eq!(log.lock().expect("lock").len(), 10);
    }
}
