//! The read-only catalogue: `GET /v1/engineVersions` and `GET /v1/tiers`.
//!
//! Unlike everything else the client calls, these live under the API root, not under
//! `/v1/projects/{project}`: the catalogue is the same for every project.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{ApiError, Client, decode, encode_segment};

/// One engine version (`EngineVersion` in docs/openapi.yaml).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct EngineVersion {
    pub engine: String,
    /// What a configuration names, e.g. `8.0`.
    pub version: String,
    /// What an instance of that version runs, e.g. `8.0.36`.
    pub actual_version: String,
    /// The version an instance gets when it names none.
    pub default: bool,
}

/// One machine tier (`Tier` in docs/openapi.yaml).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct Tier {
    pub name: String,
    pub vcpus: i64,
    pub memory_gb: i64,
    pub max_storage_gb: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EngineVersionList {
    engine_versions: Vec<EngineVersion>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TierList {
    tiers: Vec<Tier>,
}

impl Client {
    /// The API root path (`{endpoint path}/v1`): the project base path without its
    /// `/projects/{project}` tail. The project is validated to be one plain path segment, so
    /// the tail is exactly what [`Client::new`] appended.
    fn root_path(&self) -> String {
        let base = self.inner.base.path();
        let tail = format!("/projects/{}", encode_segment(&self.inner.project));
        base.strip_suffix(&tail).unwrap_or(base).to_string()
    }

    /// `GET /v1/engineVersions[?engine=E]`. An engine the API does not know is its 400
    /// `INVALID_ARGUMENT` with a field violation on `engine`.
    pub async fn list_engine_versions(
        &self,
        engine: Option<&str>,
    ) -> Result<Vec<EngineVersion>, ApiError> {
        let query: Vec<(&str, String)> = engine
            .map(|e| ("engine", e.to_string()))
            .into_iter()
            .collect();
        let reply = self
            .send_under(
                &self.root_path(),
                Method::GET,
                "/engineVersions",
                &query,
                None,
                None,
                None,
            )
            .await?;
        let list: EngineVersionList = decode(&reply, &self.secrets(None))?;
        Ok(list.engine_versions)
    }

    /// `GET /v1/tiers`.
    pub async fn list_tiers(&self) -> Result<Vec<Tier>, ApiError> {
        let reply = self
            .send_under(
                &self.root_path(),
                Method::GET,
                "/tiers",
                &[],
                None,
                None,
                None,
            )
            .await?;
        let list: TierList = decode(&reply, &self.secrets(None))?;
        Ok(list.tiers)
    }

    /// The tiers, fetched with [`Client::list_tiers`] on first use and then kept for the life
    /// of this provider instance (every clone shares them): the catalogue does not change
    /// while Terraform runs, and a plan of many instances should not ask once per instance.
    /// A failure is not kept, so the next caller asks again.
    pub async fn cached_tiers(&self) -> Result<&[Tier], ApiError> {
        self.inner
            .tiers
            .get_or_try_init(|| self.list_tiers())
            .await
            .map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ClientConfig, fake};
    use super::*;

    /// The catalogue is requested under the API root, also when the endpoint has a path of
    /// its own, and an unknown engine comes back as the API's field violation.
    #[tokio::test]
    async fn catalogue_lives_under_the_api_root() {
        let (url, log) = fake::serve(|r, _| match r.path.as_str() {
            "/api/v1/engineVersions?engine=mysql" => (
                200,
                vec![],
                r#"{"engine_versions":[{"engine":"mysql","version":"8.0","actual_version":"8.0.36","default":true}]}"#
                    .into(),
            ),
            "/api/v1/tiers" => (
                200,
                vec![],
                r#"{"tiers":[{"name":"db-micro","vcpus":1,"memory_gb":1,"max_storage_gb":100}]}"#.into(),
            ),
            _ => (
                400,
                vec![],
                serde_json::json!({"status": 400, "reason": "INVALID_ARGUMENT", "detail": "bad",
                    "field_violations": [{"field": "engine", "description": "must be mysql or postgres"}]})
                .to_string(),
            ),
        })
        .await;
        let c = Client::new(ClientConfig::new(format!("{url}/api/"), "t", "p1")).expect("client");
        let v = c
            .list_engine_versions(Some("mysql"))
            .await
            .expect("versions");
        assert_eq!(v.len(), 1);
        assert!(v[0].default && v[0].actual_version == "8.0.36");
        let t = c.list_tiers().await.expect("tiers");
        assert_eq!(t[0].max_storage_gb, 100);
        let e = c
            .list_engine_versions(Some("oracle"))
            .await
            .expect_err("unknown engine");
        assert_eq!(e.field_violations()[0].field, "engine");
        assert_eq!(log.lock().expect("lock").len(), 3);
        // Cached: two more look-ups, one request.
        assert_eq!(c.cached_tiers().await.expect("tiers")[0].name, "db-micro");
        assert_eq!(c.clone().cached_tiers().await.expect("tiers").len(), 1);
        assert_eq!(log.lock().expect("lock").len(), 4);
    }
}
