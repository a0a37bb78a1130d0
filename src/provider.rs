//! The `clouddb` provider: its configuration schema and `configure`, which builds the one pooled
//! [`Client`] every resource shares.
//!
//! Each setting comes from the provider block or, when unset there, from its environment variable
//! (`CLOUDDB_ENDPOINT`, `CLOUDDB_TOKEN`, `CLOUDDB_PROJECT`). Unknown values (a provider block that
//! references another resource) are tolerated: planning proceeds, and only calls that need the API
//! report that the provider is not configured yet.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::{
    Action, ConfigureRequest, Context, DataSource, EphemeralResource, Function, Provider, Resource,
};
use tfplugin::schema::timeouts::parse_duration;
use tfplugin::schema::validators::{duration, int_between};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{AttributePath, Value};

use crate::client::{Client, ClientConfig, RateLimit, RetryPolicy};

/// Full registry address of this provider.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/clouddb/clouddb";

pub const ENV_ENDPOINT: &str = "CLOUDDB_ENDPOINT";
pub const ENV_TOKEN: &str = "CLOUDDB_TOKEN";
pub const ENV_PROJECT: &str = "CLOUDDB_PROJECT";

const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_MAX_RETRIES: u32 = 8;
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// The API's documented limit per token (docs/clouddb-api.md, "Throttling").
const DEFAULT_RATE_LIMIT: u32 = 1000;
/// Upper bounds of `rate_limit` and `rate_burst`: beyond them a typo, not a setting.
const MAX_RATE_LIMIT: i64 = 100_000;
const MAX_RATE_BURST: i64 = 100_000;

/// Read an integer setting in `min..=max`; `default` when null, with a diagnostic naming `attr`
/// when out of range (the schema validator reports it first at validate time).
fn int_setting(
    config: &Value,
    attr: &str,
    (min, max): (i64, i64),
    default: u32,
    diags: &mut Diagnostics,
) -> u32 {
    let Some(n) = config.get(attr).as_i64() else {
        return default;
    };
    match u32::try_from(n) {
        Ok(v) if (min..=max).contains(&n) => v,
        _ => {
            diags.attribute_error(
                AttributePath::attr(attr),
                format!("Invalid {attr}"),
                format!("{attr} must be between {min} and {max}, got {n}"),
            );
            default
        }
    }
}

/// The provider implementation. Its [`Provider::Data`] is the configured [`Client`], which the
/// framework hands to every resource handler (and answers for them while it does not exist yet).
#[derive(Debug, Default)]
pub struct CloudDbProvider;

impl CloudDbProvider {
    pub fn new() -> Self {
        Self
    }
}

/// Read a string setting: config value, else environment variable. `Err(())` when unknown.
fn setting(config: &Value, attr: &str, env: Option<&str>) -> Result<Option<String>, ()> {
    let v = config.get(attr);
    if v.is_unknown() {
        return Err(());
    }
    if let Some(s) = v.as_str() {
        return Ok(Some(s.to_string()));
    }
    Ok(env
        .and_then(|e| std::env::var(e).ok())
        .filter(|s| !s.trim().is_empty()))
}

/// Build a client config from the provider block + environment. `None` when some values are unknown
/// (nothing reported) or a setting is missing or invalid (reported in `diags`).
pub fn client_config(
    config: &Value,
    terraform_version: &str,
    diags: &mut Diagnostics,
) -> Option<ClientConfig> {
    let mut unknown = Vec::new();
    let mut get = |attr: &str, env: Option<&str>| match setting(config, attr, env) {
        Ok(v) => v,
        Err(()) => {
            unknown.push(attr.to_string());
            None
        }
    };
    let endpoint = get("endpoint", Some(ENV_ENDPOINT));
    let token = get("token", Some(ENV_TOKEN));
    let project = get("project", Some(ENV_PROJECT));
    let request_timeout = get("request_timeout", None);
    let poll_interval = get("poll_interval", None);
    let max_retries = config.get("max_retries");
    for attr in ["max_retries", "rate_limit", "rate_burst"] {
        if config.get(attr).is_unknown() {
            unknown.push(attr.into());
        }
    }
    let batch_reads = config.get("batch_reads");
    if batch_reads.is_unknown() {
        unknown.push("batch_reads".into());
    }
    if !unknown.is_empty() {
        tracing::info!(attributes = ?unknown, "provider configuration has unknown values; deferring client set-up");
        return None;
    }
    let missing = |d: &mut Diagnostics, attr: &str, env: &str, what: &str| {
        d.attribute_error(
            AttributePath::attr(attr),
            format!("Missing CloudDB {attr}"),
            format!("The provider needs {what}. Set `{attr}` in the provider \"clouddb\" block or the {env} environment variable."),
        );
    };
    if endpoint.is_none() {
        missing(
            diags,
            "endpoint",
            ENV_ENDPOINT,
            "the API base URL, e.g. http://127.0.0.1:8080",
        );
    }
    if token.is_none() {
        missing(diags, "token", ENV_TOKEN, "an API token");
    }
    if project.is_none() {
        missing(
            diags,
            "project",
            ENV_PROJECT,
            "the project the instances belong to",
        );
    }
    let mut parse_dur = |attr: &str, v: Option<String>, default: Duration| match v {
        None => default,
        Some(s) => match parse_duration(&s) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                diags.attribute_error(
                    AttributePath::attr(attr),
                    format!("Invalid {attr}"),
                    "must be greater than zero",
                );
                default
            }
            Err(e) => {
                diags.attribute_error(
                    AttributePath::attr(attr),
                    format!("Invalid {attr}"),
                    e.to_string(),
                );
                default
            }
        },
    };
    let request_timeout = parse_dur("request_timeout", request_timeout, DEFAULT_REQUEST_TIMEOUT);
    let poll_interval = parse_dur("poll_interval", poll_interval, DEFAULT_POLL_INTERVAL);
    let max_retries = match max_retries.as_i64() {
        None => DEFAULT_MAX_RETRIES,
        Some(n) => match u32::try_from(n) {
            Ok(n) if n <= 50 => n,
            _ => {
                diags.attribute_error(
                    AttributePath::attr("max_retries"),
                    "Invalid max_retries",
                    format!("max_retries must be between 0 and 50, got {n}"),
                );
                DEFAULT_MAX_RETRIES
            }
        },
    };
    let rate = int_setting(
        config,
        "rate_limit",
        (0, MAX_RATE_LIMIT),
        DEFAULT_RATE_LIMIT,
        diags,
    );
    // One second's worth by default: half the API's bucket (twice the rate), so the requests we
    // let through back to back always fit in what the server still holds.
    let burst = int_setting(
        config,
        "rate_burst",
        (1, MAX_RATE_BURST),
        rate.max(1),
        diags,
    );
    let (Some(endpoint), Some(token), Some(project)) = (endpoint, token, project) else {
        return None;
    };
    if diags.has_errors() {
        return None;
    }
    let mut cfg = ClientConfig::new(endpoint, token, project);
    cfg.request_timeout = request_timeout;
    cfg.poll_interval = poll_interval;
    cfg.retry = RetryPolicy {
        max_retries,
        ..RetryPolicy::default()
    };
    cfg.rate_limit = RateLimit {
        per_second: f64::from(rate),
        burst,
    };
    cfg.terraform_version = terraform_version.to_string();
    cfg.batch_reads = batch_reads.as_bool().unwrap_or(true);
    Some(cfg)
}

/// `skip_credentials_validation`, else its environment variable (`true`/`1`); false when unset.
fn skip_credentials_validation(config: &Value) -> bool {
    use crate::credential_check::{SKIP_ATTRIBUTE, SKIP_ENV};
    match config.get(SKIP_ATTRIBUTE).as_bool() {
        Some(b) => b,
        None => std::env::var(SKIP_ENV)
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1")),
    }
}

/// Why `endpoint` is not an `http(s)://` URL with a host (the rule `Client::new` applies).
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(endpoint.trim()).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {:?}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the URL; set the API token with `token` instead".into());
    }
    Ok(())
}

/// The project names the client accepts (`Client::new`): non-empty ASCII letters, digits, `-`
/// and `_`, so the name is one path segment of `/v1/projects/{project}`. clouddb-server itself has
/// no pattern: a project is whatever its `--token TOKEN=PROJECT` names.
fn valid_project(p: &str) -> bool {
    !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[async_trait]
impl Provider for CloudDbProvider {
    type Data = Client;

    fn type_name(&self) -> &'static str {
        "clouddb"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .description("Manage CloudDB managed database instances.")
            .attribute(
                Attribute::string("endpoint")
                    .optional()
                    .description("Base URL of the CloudDB API, e.g. `http://127.0.0.1:8080`. Defaults to the `CLOUDDB_ENDPOINT` environment variable."),
            )
            .attribute(
                Attribute::string("token")
                    .optional()
                    .sensitive()
                    .description("API bearer token. Defaults to the `CLOUDDB_TOKEN` environment variable."),
            )
            .attribute(
                Attribute::string("project")
                    .optional()
                    .description("Project that owns the instances. Defaults to the `CLOUDDB_PROJECT` environment variable."),
            )
            .attribute(
                Attribute::string("request_timeout")
                    .optional()
                    .validator(duration())
                    .description("Time limit of one HTTP request, as a duration (default `\"30s\"`)."),
            )
            .attribute(
                Attribute::int64("max_retries")
                    .optional()
                    .validator(int_between(0, 50))
                    .description("Retries of a failed request (429, 5xx, connection errors, busy instance); default 8."),
            )
            .attribute(
                Attribute::string("poll_interval")
                    .optional()
                    .validator(duration())
                    .description("How often to poll a running operation when the API gives no `Retry-After` (default `\"2s\"`)."),
            )
            .attribute(
                Attribute::bool(crate::credential_check::SKIP_ATTRIBUTE)
                    .optional()
                    .description("Skip the one API call that checks `endpoint`, `token` and `project` when the provider is configured (so a wrong token fails `terraform plan`, not half-way through `apply`). Defaults to the `CLOUDDB_SKIP_CREDENTIALS_VALIDATION` environment variable, else `false`."),
            )
            .attribute(
                Attribute::int64("rate_limit")
                    .optional()
                    .validator(int_between(0, MAX_RATE_LIMIT))
                    .description("Requests per second this provider configuration sends at most, shared by every resource, data source, list, action and ephemeral resource (retries included); `0` turns pacing off. Default 1000, the API's documented limit per token. After a 429 every request waits out the API's `Retry-After`."),
            )
            .attribute(
                Attribute::int64("rate_burst")
                    .optional()
                    .validator(int_between(1, MAX_RATE_BURST))
                    .description("Requests that may be sent back to back after a quiet period (token bucket size); default one second's worth of `rate_limit`, half the API's bucket."),
            )
            .attribute(
                Attribute::bool("batch_reads")
                    .optional()
                    .description("Refresh from batched list reads (default `true`): the first read of a collection (the project's instances, an instance's databases, users or firewall rules) lists it in pages, and reads within the next 30 seconds are answered from that listing, so a plan of 1,000 instances costs about 10 requests instead of 1,000. An object missing from the listing is confirmed with its own GET, and objects this provider wrote are always read with a GET. Set `false` for one GET per object."),
            )
    }

    /// `terraform validate` (and the start of every plan and apply) sends the provider block here,
    /// before anything is configured: literals are known, references and (in the validate walk)
    /// variables are unknown and stay allowed, settings left out are null. The framework has already
    /// run the schema validators (`duration()` on `request_timeout`/`poll_interval`,
    /// `int_between` on `max_retries`, `rate_limit` and `rate_burst`); this adds what they cannot express, so each bad setting
    /// gets exactly one diagnostic, naming its attribute:
    /// - `endpoint`: an `http://` or `https://` URL with a host;
    /// - `request_timeout`, `poll_interval`: greater than zero;
    /// - `project`: the name pattern the client sends in `/v1/projects/{project}`.
    ///
    /// Terraform sends nothing when no resource uses the provider (it prunes unused provider
    /// configurations), so a configuration without resources is never validated here.
    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Some(e) = config.get("endpoint").as_str()
            && let Err(why) = check_endpoint(e)
        {
            d.attribute_error(
                AttributePath::attr("endpoint"),
                "Invalid endpoint",
                format!(
                    "endpoint must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8080; got {:?} ({why}).",
                    crate::client::redact::endpoint(e)
                ),
            );
        }
        for attr in ["request_timeout", "poll_interval"] {
            // A string that does not parse is the schema validator's diagnostic.
            if let Some(s) = config.get(attr).as_str()
                && parse_duration(s).is_ok_and(|t| t.is_zero())
            {
                d.attribute_error(
                    AttributePath::attr(attr),
                    format!("Invalid {attr}"),
                    format!("{attr} must be greater than zero, got {s:?}."),
                );
            }
        }
        if let Some(p) = config.get("project").as_str()
            && !valid_project(p)
        {
            d.attribute_error(
                AttributePath::attr("project"),
                "Invalid project",
                format!("project must be non-empty letters, digits, '-' or '_', got {p:?}."),
            );
        }
        d
    }

    async fn configure(&self, ctx: &Context, req: ConfigureRequest) -> Result<Client, Diagnostics> {
        let mut diags = Diagnostics::new();
        // The framework calls configure with a wholly known configuration only.
        let Some(cfg) = client_config(&req.config, &req.terraform_version, &mut diags) else {
            return Err(diags);
        };
        let client = Client::new(cfg)
            .inspect(|c| tracing::debug!(client = ?c, "CloudDB client configured"))
            .map_err(|e| {
                let attr = match &e {
                    crate::client::ApiError::Config(m) if m.starts_with("project") => "project",
                    crate::client::ApiError::Config(m) if m.starts_with("token") => "token",
                    _ => "endpoint",
                };
                Diagnostics::from(
                    Diagnostic::error("Invalid CloudDB provider configuration", e.to_string())
                        .at(AttributePath::attr(attr)),
                )
            })?;
        if !skip_credentials_validation(&req.config) {
            crate::credential_check::check(ctx, &client)
                .await
                .map_err(Diagnostics::from)?;
        }
        Ok(client)
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Client>>> {
        crate::resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Client>>> {
        crate::data_sources::all()
    }

    fn list_resources(&self) -> Vec<Arc<dyn tfplugin::provider::ListResource<Client>>> {
        crate::list_resources::all()
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        crate::functions::all()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Client>>> {
        crate::ephemeral::all()
    }

    fn actions(&self) -> Vec<Arc<dyn Action<Client>>> {
        crate::actions::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (*k, v.clone())))
    }

    #[test]
    fn unknown_values_are_tolerated() {
        let mut d = Diagnostics::new();
        let c = cfg(&[
            ("endpoint", Value::unknown()),
            ("token", Value::string("t")),
            ("project", Value::string("p")),
        ]);
        assert!(client_config(&c, "1.11.4", &mut d).is_none());
        assert!(!d.has_errors());
    }

    #[test]
    fn explicit_values_build_a_config() {
        let mut d = Diagnostics::new();
        let c = cfg(&[
            ("endpoint", Value::string("http://127.0.0.1:1")),
            ("token", Value::string("t")),
            ("project", Value::string("p")),
            ("request_timeout", Value::string("5s")),
            ("max_retries", Value::int(2)),
        ]);
        let got = client_config(&c, "1.11.4", &mut d).expect("config");
        assert_eq!(got.request_timeout, Duration::from_secs(5));
        assert_eq!(got.retry.max_retries, 2);
        assert!(!d.has_errors());
    }

    /// The framework's part of ValidateProviderConfig (schema validators) plus `validate_config`:
    /// one diagnostic per bad setting, naming it; good and unknown values pass.
    fn validate(pairs: &[(&str, Value)]) -> Diagnostics {
        let p = CloudDbProvider::new();
        let schema = p.schema();
        let mut full: Vec<(&str, Value)> = schema
            .block
            .attributes
            .iter()
            .map(|a| (a.name.as_str(), Value::Null))
            .collect();
        for (k, v) in pairs {
            full.retain(|(n, _)| n != k);
            full.push((k, v.clone()));
        }
        let config = cfg(&full);
        let mut d = tfplugin::schema::validate_config(&schema.block, &config);
        let ctx = tfplugin::provider::StopSignal::new().context(String::new());
        d.extend(block_on(p.validate_config(&ctx, &config)));
        d
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn attrs(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .map(|x| {
                x.attribute
                    .as_ref()
                    .map(|a| a.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn validate_names_each_bad_setting_once() {
        for (attr, bad) in [
            ("endpoint", Value::string("not a url")),
            ("endpoint", Value::string("ftp://127.0.0.1:1")),
            ("endpoint", Value::string("http://")),
            ("endpoint", Value::string("")),
            ("request_timeout", Value::string("soon")),
            ("request_timeout", Value::string("0s")),
            ("poll_interval", Value::string("5")),
            ("poll_interval", Value::string("0")),
            ("max_retries", Value::int(51)),
            ("max_retries", Value::int(-1)),
            ("rate_limit", Value::int(-1)),
            ("rate_limit", Value::int(100_001)),
            ("rate_burst", Value::int(0)),
            ("rate_burst", Value::int(100_001)),
            ("project", Value::string("my project")),
            ("project", Value::string("")),
        ] {
            let d = validate(&[(attr, bad.clone())]);
            assert!(d.has_errors(), "{attr} = {bad:?} passed validation");
            assert_eq!(attrs(&d), vec![attr.to_string()], "{attr} = {bad:?}: {d:?}");
        }
    }

    #[test]
    fn validate_rejects_credentials_in_the_endpoint_without_echoing_them() {
        let d = validate(&[(
            "endpoint",
            Value::string("https://admin:hunter2@clouddb.example.com"),
        )]);
        assert_eq!(attrs(&d), vec!["endpoint".to_string()], "{d:?}");
        let text = format!("{d:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("admin:"),
            "{text}"
        );
        let d = validate(&[("endpoint", Value::string("ftp://u:pw-secret@h"))]);
        assert!(!format!("{d:?}").contains("pw-secret"));
    }

    #[test]
    fn validate_accepts_good_and_unknown_settings() {
        let good = validate(&[
            ("endpoint", Value::string("https://clouddb.example.com/api")),
            ("project", Value::string("my-project_1")),
            ("request_timeout", Value::string("1m30s")),
            ("poll_interval", Value::string("100ms")),
            ("max_retries", Value::int(0)),
            ("rate_limit", Value::int(0)),
            ("rate_burst", Value::int(1)),
        ]);
        assert!(good.is_empty(), "{good:?}");
        let unknown: Vec<(&str, Value)> = [
            "endpoint",
            "token",
            "project",
            "request_timeout",
            "max_retries",
            "poll_interval",
            "rate_limit",
            "rate_burst",
        ]
        .into_iter()
        .map(|a| (a, Value::unknown()))
        .collect();
        let d = validate(&unknown);
        assert!(d.is_empty(), "{d:?}");
        assert!(validate(&[]).is_empty());
    }

    #[test]
    fn rate_settings_build_the_limit_with_defaults_fitting_the_api() {
        let base = [
            ("endpoint", Value::string("http://127.0.0.1:1")),
            ("token", Value::string("t")),
            ("project", Value::string("p")),
        ];
        let build = |extra: &[(&str, Value)]| {
            let mut d = Diagnostics::new();
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            let got = client_config(&cfg(&pairs), "", &mut d);
            (got.map(|c| c.rate_limit), d)
        };
        // The documented API limit is 1000/s with a bucket of 2000: we pace at 1000/s, burst 1000.
        let (limit, d) = build(&[]);
        assert!(!d.has_errors(), "{d:?}");
        assert_eq!(
            limit,
            Some(RateLimit {
                per_second: 1000.0,
                burst: 1000
            })
        );
        // A set rate brings its own one-second burst; both can be set; 0 turns pacing off.
        let (limit, _) = build(&[("rate_limit", Value::int(50))]);
        assert_eq!(
            limit,
            Some(RateLimit {
                per_second: 50.0,
                burst: 50
            })
        );
        let (limit, _) = build(&[
            ("rate_limit", Value::int(50)),
            ("rate_burst", Value::int(5)),
        ]);
        assert_eq!(limit.map(|l| l.burst), Some(5));
        let (limit, _) = build(&[("rate_limit", Value::int(0))]);
        assert_eq!(limit.map(|l| (l.per_second, l.burst)), Some((0.0, 1)));
        // Out of range at configure time names the attribute (validate does too, see above).
        let (limit, d) = build(&[("rate_burst", Value::int(0))]);
        assert!(limit.is_none());
        assert_eq!(attrs(&d), vec!["rate_burst".to_string()], "{d:?}");
        // Unknown defers the set-up without an error.
        let (limit, d) = build(&[("rate_limit", Value::unknown())]);
        assert!(limit.is_none() && !d.has_errors(), "{d:?}");
    }

    #[test]
    fn missing_settings_name_the_attribute() {
        // Only meaningful when the environment doesn't provide them.
        if std::env::var_os(ENV_ENDPOINT).is_some() || std::env::var_os(ENV_TOKEN).is_some() {
            return;
        }
        let mut d = Diagnostics::new();
        let c = cfg(&[("project", Value::string("p"))]);
        assert!(client_config(&c, "", &mut d).is_none());
        let text = format!("{d:?}");
        assert!(
            text.contains("endpoint") && text.contains("CLOUDDB_ENDPOINT"),
            "{text}"
        );
        assert!(
            text.contains("token") && text.contains("CLOUDDB_TOKEN"),
            "{text}"
        );
    }
}
