//! `data "clouddb_engine_versions"`: the versions the API offers for one engine, and its default.
//!
//! Which engines exist is the API's catalogue, not a list compiled into the provider: an engine
//! it does not know comes back as its field violation, reported on `engine`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::{Context, DataReadResult, DataSource};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{AttributePath, Value};

use super::api_diags;
use crate::client::Client;
use crate::client::catalog::EngineVersion;

/// The `clouddb_engine_versions` data source as configuration and result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineVersionsModel {
    pub engine: String,
    pub versions: Option<Vec<VersionModel>>,
    pub default_version: Option<String>,
}

/// One element of `versions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionModel {
    pub version: String,
    pub actual_version: String,
    pub default: bool,
}

impl EngineVersionsModel {
    /// The result for `engine` from the catalogue (other engines' entries are dropped, should the
    /// API send any).
    fn from_api(engine: String, list: &[EngineVersion]) -> Self {
        let versions: Vec<VersionModel> = list
            .iter()
            .filter(|v| v.engine.is_empty() || v.engine == engine)
            .map(|v| VersionModel {
                version: v.version.clone(),
                actual_version: v.actual_version.clone(),
                default: v.default,
            })
            .collect();
        let default_version = versions
            .iter()
            .find(|v| v.default)
            .map(|v| v.version.clone());
        EngineVersionsModel {
            engine,
            versions: Some(versions),
            default_version,
        }
    }
}

fn computed(a: Attribute, description: &str) -> Attribute {
    a.computed().description(description)
}

/// The data source schema.
pub fn schema() -> Schema {
    Schema::new()
        .description("The engine versions CloudDB offers for one engine, and the one an instance gets by default.")
        .attribute(
            Attribute::string("engine")
                .required()
                .description("Engine to list, e.g. `mysql` or `postgres`. An engine the API does not offer is an error."),
        )
        .attribute(computed(
            Attribute::list_nested(
                "versions",
                vec![
                    computed(
                        Attribute::string("version"),
                        "The version as an instance's `engine_version` names it, e.g. `8.0`.",
                    ),
                    computed(
                        Attribute::string("actual_version"),
                        "The full version an instance of it runs, e.g. `8.0.36`.",
                    ),
                    computed(
                        Attribute::bool("default"),
                        "Whether an instance that names no version gets this one.",
                    ),
                ],
            ),
            "The versions, in the API's order.",
        ))
        .attribute(computed(
            Attribute::string("default_version"),
            "The `version` an instance gets when its configuration names none (null if the API marks none).",
        ))
}

/// The `clouddb_engine_versions` data source type.
#[derive(Debug, Default)]
pub struct EngineVersionsDataSource;

#[async_trait]
impl DataSource<Client> for EngineVersionsDataSource {
    fn type_name(&self) -> &'static str {
        "clouddb_engine_versions"
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
        let config: EngineVersionsModel = config.to()?;
        let engine = config.engine;
        let unknown_engine = || -> Diagnostics {
            Diagnostic::error(
                "Unknown CloudDB engine",
                format!("CloudDB offers no engine named {engine:?}."),
            )
            .at(AttributePath::attr("engine"))
            .into()
        };
        // An empty string would list every engine's versions.
        if engine.trim().is_empty() {
            return Err(unknown_engine());
        }
        let list = match client
            .with_stop(ctx)
            .list_engine_versions(Some(&engine))
            .await
        {
            Ok(list) => list,
            Err(e) if e.status() == Some(400) => {
                let mut d = unknown_engine();
                d.extend(api_diags("Error listing CloudDB engine versions", &e, &[]));
                return Err(d);
            }
            Err(e) => {
                return Err(api_diags(
                    &format!("Error listing CloudDB engine versions of {engine:?}"),
                    &e,
                    &["engine"],
                ));
            }
        };
        let m = EngineVersionsModel::from_api(engine.clone(), &list);
        if m.versions.as_ref().is_none_or(Vec::is_empty) {
            return Err(unknown_engine());
        }
        Ok(DataReadResult::from_model(&m)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientConfig, fake};

    fn ctx() -> Context {
        tfplugin::provider::StopSignal::new().context("1.15.5")
    }

    fn config(engine: &str) -> Value {
        let m = EngineVersionsModel {
            engine: engine.into(),
            ..Default::default()
        };
        tfplugin::model::conform(
            Value::from_model(&m).expect("writes"),
            &schema().implied_type(),
        )
        .expect("fits")
    }

    fn attrs(d: &Diagnostics) -> Vec<String> {
        d.iter()
            .filter_map(|x| x.attribute.as_ref().map(|a| a.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn versions_default_and_unknown_engines() {
        let (url, _) = fake::serve(|r, _| {
            if r.path.ends_with("engine=mysql") {
                (
                    200,
                    vec![],
                    serde_json::json!({"engine_versions": [
                        {"engine": "mysql", "version": "5.7", "actual_version": "5.7.44", "default": false},
                        {"engine": "mysql", "version": "8.0", "actual_version": "8.0.36", "default": true},
                    ]})
                    .to_string(),
                )
            } else if r.path.ends_with("engine=empty") {
                (200, vec![], r#"{"engine_versions":[]}"#.into())
            } else {
                (
                    400,
                    vec![],
                    serde_json::json!({"status": 400, "reason": "INVALID_ARGUMENT", "detail": "bad",
                        "field_violations": [{"field": "engine", "description": "must be mysql or postgres"}]})
                    .to_string(),
                )
            }
        })
        .await;
        let c = Client::new(ClientConfig::new(url, "t", "p1")).expect("client");
        let r = EngineVersionsDataSource
            .read(&ctx(), &c, &config("mysql"))
            .await
            .expect("read");
        let v = tfplugin::model::conform(r.state, &schema().implied_type()).expect("fits");
        let m: EngineVersionsModel = v.to().expect("reads back");
        assert_eq!(m.default_version.as_deref(), Some("8.0"));
        assert_eq!(m.versions.expect("versions").len(), 2);
        for bad in ["oracle", "empty", ""] {
            let d = EngineVersionsDataSource
                .read(&ctx(), &c, &config(bad))
                .await
                .expect_err(bad);
            assert!(attrs(&d).contains(&"engine".to_string()), "{bad}: {d:?}");
        }
    }
}
