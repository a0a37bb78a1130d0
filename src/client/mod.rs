//! The CloudDB REST client: one pooled HTTPS/HTTP client per configured provider.
//!
//! Every call goes through [`Client::send`], which adds the bearer token, the User-Agent and (for
//! mutations) the caller's [`IdempotencyKey`], and retries transient failures according to the
//! [`RetryPolicy`]. Error answers become [`ApiError::Status`] carrying the status, reason, request id and
//! field violations. Waiting for asynchronous operations lives in [`wait`].
//!
//! A handle bound to a call's [`Context`] with [`Client::with_stop`] ends its backoff sleeps early when
//! Terraform sends StopProvider and returns the last error instead of retrying; one bound to a deadline
//! with [`Client::with_deadline`] never retries (or lets one attempt run) past it.
//!
//! Secrets: the bearer token is a sensitive header value; endpoints with `user:password@` are refused
//! without echoing them; redirects are never followed (they would re-send bodies carrying passwords);
//! text from the API is scrubbed by [`redact`] before it goes into an error.

pub mod backups;
pub mod catalog;
pub mod children;
pub mod credentials;
pub mod error;
pub mod instance_actions;
pub mod rate_limit;
pub mod readahead;
pub mod redact;
pub mod refresh;
pub mod retry;
pub mod transport;
pub mod types;
pub mod wait;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_MATCH, LOCATION, RETRY_AFTER,
};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use tfplugin::provider::Context;
use tokio::time::Instant;

pub use error::ApiError;
pub use rate_limit::RateLimit;
use rate_limit::RateLimiter;
pub use retry::{IdempotencyKey, RetryPolicy};
use types::{
    CreateInstanceRequest, Instance, InstancePage, NameOnly, Operation, OperationPage, Problem,
    RawInstancePage, SourceBackup, UpdateInstanceRequest,
};

/// The largest page the API serves (`page_size` is capped there).
pub const MAX_PAGE_SIZE: u64 = 100;

/// One page of a list call and the token of the next one (`None`: this was the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page from the API's `next_page_token`, where an empty token also means "no more".
    pub fn new(items: Vec<T>, next_page_token: Option<String>) -> Self {
        Page {
            items,
            next: next_page_token.filter(|t| !t.is_empty()),
        }
    }
}

/// Server-side filters of `GET /instances` (every one must match).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceQuery {
    /// `state=…`
    pub state: Option<String>,
    /// `label=key:value`, one per label.
    pub labels: Vec<(String, String)>,
}

/// Everything needed to build a [`Client`]; assembled by the provider's `configure`.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL of the API, e.g. `http://127.0.0.1:8080`.
    pub endpoint: String,
    pub token: String,
    pub project: String,
    /// Limit for a single HTTP attempt.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Client-side pacing of every request (first attempts and retries) of this client.
    pub rate_limit: RateLimit,
    /// Poll interval for operations when the server gives no `Retry-After`.
    pub poll_interval: Duration,
    /// Terraform CLI version, for the User-Agent.
    pub terraform_version: String,
    /// Answer refresh reads from read-ahead listings ([`refresh`]); off: one GET per object.
    pub batch_reads: bool,
}

impl ClientConfig {
    pub fn new(
        endpoint: impl Into<String>,
        token: impl Into<String>,
        project: impl Into<String>,
    ) -> Self {
        ClientConfig {
            endpoint: endpoint.into(),
            token: token.into(),
            project: project.into(),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            rate_limit: RateLimit::default(),
            poll_interval: Duration::from_secs(2),
            terraform_version: String::new(),
            batch_reads: true,
        }
    }
}

/// How long [`Client::for_lookup`] may retry: long enough to ride out a restart of the API and
/// its not-found window right after a create, short enough that Ctrl-C still ends the command soon.
pub const LOOKUP_BUDGET: Duration = Duration::from_secs(15);

/// Resolves once Terraform has asked the provider to stop; never without a bound context.
async fn stopped(stop: Option<&Context>) {
    match stop {
        Some(ctx) => ctx.stopped().await,
        None => std::future::pending().await,
    }
}

/// The TLS settings of a client whose endpoint is plain HTTP: an empty trust store. Every request
/// goes to the endpoint (redirects are refused), so no certificate is ever checked, and building
/// the default settings reads the system's whole CA bundle: about 18 million instructions (5 ms)
/// per provider launch, and Terraform launches the provider three times per plan (issue 11's
/// profile).
fn plain_http_tls() -> Result<rustls::ClientConfig, ApiError> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::Config(format!("cannot build HTTP client: {e}")))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(cfg)
}

/// User-Agent sent with every request.
pub fn user_agent(terraform_version: &str) -> String {
    let tf = if terraform_version.is_empty() {
        "unknown"
    } else {
        terraform_version
    };
    format!(
        "terraform-provider-clouddb/{} (+terraform {tf})",
        env!("CARGO_PKG_VERSION")
    )
}

/// A cheap-to-clone handle on the pooled HTTP client.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// The stop signal of the Terraform call this handle serves, if bound with [`Client::with_stop`].
    stop: Option<Context>,
    /// The end of the operation this handle serves, if bound with [`Client::with_deadline`].
    deadline: Option<Instant>,
}

struct Inner {
    http: reqwest::Client,
    /// Set once any request of this provider instance got an answer: from then on a refused
    /// connection is an outage (a restarting API), worth the whole retry budget, not a wrong
    /// endpoint to report fast ([`ApiError::retry_cap`]). An ambiguous create's lookup depends on
    /// it: giving up after two quick retries while the API restarts would orphan the instance.
    reached: std::sync::atomic::AtomicBool,
    /// `{endpoint}/v1/projects/{project}` without trailing slash.
    base: Url,
    project: String,
    /// Kept only to scrub it from API text ([`redact`]).
    token: String,
    /// `Bearer <token>`, marked sensitive.
    auth: HeaderValue,
    request_timeout: Duration,
    retry: RetryPolicy,
    /// Shared by every handle cloned from this client, so one provider instance paces as one.
    limiter: RateLimiter,
    poll_interval: Duration,
    /// The tier catalogue, fetched once per provider instance ([`Client::cached_tiers`]).
    tiers: tokio::sync::OnceCell<Vec<catalog::Tier>>,
    /// Read-ahead for refresh; `None` when `batch_reads` is off.
    reads: Option<refresh::Reads>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("token", &"<redacted>")
            .finish()
    }
}

/// A decoded response plus the headers callers care about.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    method: Method,
    path: String,
}

impl Client {
    /// Validate the configuration and build the pooled client.
    pub fn new(cfg: ClientConfig) -> Result<Self, ApiError> {
        // Never echo credentials embedded in the URL.
        let shown = redact::endpoint(cfg.endpoint.trim());
        let endpoint = Url::parse(cfg.endpoint.trim())
            .map_err(|e| ApiError::Config(format!("endpoint {shown:?} is not a URL: {e}")))?;
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(ApiError::Config(format!(
                "endpoint {shown:?} must not contain credentials (user:password@); set `token` instead"
            )));
        }
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
            return Err(ApiError::Config(format!(
                "endpoint {shown:?} must be an http:// or https:// URL with a host"
            )));
        }
        if cfg.project.is_empty()
            || !cfg
                .project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ApiError::Config(format!(
                "project {:?} must be non-empty and contain only letters, digits, '-' and '_'",
                cfg.project
            )));
        }
        if cfg.token.is_empty() {
            return Err(ApiError::Config("token must not be empty".into()));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", cfg.token)).map_err(|_| {
            ApiError::Config(
                "token contains characters that cannot be sent in an HTTP header".into(),
            )
        })?;
        auth.set_sensitive(true);
        let base_str = format!(
            "{}/v1/projects/{}",
            endpoint.as_str().trim_end_matches('/'),
            cfg.project
        );
        let base = Url::parse(&base_str).map_err(|e| {
            ApiError::Config(format!("cannot build API base URL from endpoint: {e}"))
        })?;
        let mut builder = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .connect_timeout(cfg.request_timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(user_agent(&cfg.terraform_version))
            // A 307/308 would re-send the body (passwords included) and the token elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        if endpoint.scheme() == "http" {
            builder = builder.use_preconfigured_tls(plain_http_tls()?);
        }
        let http = builder
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                project: cfg.project,
                token: cfg.token,
                auth,
                request_timeout: cfg.request_timeout,
                retry: cfg.retry,
                limiter: RateLimiter::new(cfg.rate_limit),
                reached: std::sync::atomic::AtomicBool::new(false),
                poll_interval: cfg.poll_interval,
                tiers: tokio::sync::OnceCell::new(),
                reads: cfg.batch_reads.then(refresh::Reads::default),
            }),
            stop: None,
            deadline: None,
        })
    }

    /// This client, with retry backoff ending early once `ctx` is stopped (Terraform's StopProvider).
    pub fn with_stop(&self, ctx: &Context) -> Client {
        Client {
            stop: Some(ctx.clone()),
            ..self.clone()
        }
    }

    /// This client without a stop signal: for the few calls that must finish even after Terraform
    /// asked the provider to stop, such as finding out whether an interrupted create happened
    /// (bound them with [`Client::with_deadline`]).
    pub fn without_stop(&self) -> Client {
        Client {
            stop: None,
            ..self.clone()
        }
    }

    /// A handle for finding out what a write whose answer was lost did (did the create happen,
    /// is the update it started still running): it survives Ctrl-C, which may be what lost the
    /// answer, and its retries end within [`LOOKUP_BUDGET`].
    pub fn for_lookup(&self) -> Client {
        self.without_stop()
            .with_deadline(Instant::now() + LOOKUP_BUDGET)
    }

    /// This client, with retries (and each attempt) ending at `deadline`: the timeout of the
    /// create/update/delete it serves.
    pub fn with_deadline(&self, deadline: Instant) -> Client {
        Client {
            deadline: Some(deadline),
            ..self.clone()
        }
    }

    pub fn project(&self) -> &str {
        &self.inner.project
    }

    pub fn poll_interval(&self) -> Duration {
        self.inner.poll_interval
    }

    /// How many 429 answers this client (and every handle derived from it) has received.
    pub fn throttled_count(&self) -> u64 {
        self.inner.limiter.throttled_count()
    }

    /// Whether two handles share one connection pool and one rate limiter (they were derived from
    /// the same configured client).
    pub fn shares_pool_with(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// `GET /instances/{name}`; `Ok(None)` on 404.
    pub async fn get_instance(&self, name: &str) -> Result<Option<Instance>, ApiError> {
        let path = format!("/instances/{}", encode_segment(name));
        match self.send(Method::GET, &path, &[], None, None, None).await {
            Ok(reply) => {
                let etag_header = header_str(&reply.headers, ETAG.as_str());
                let mut inst: Instance = decode(&reply, &self.secrets(None))?;
                if inst.etag.is_empty()
                    && let Some(e) = etag_header
                {
                    inst.etag = e;
                }
                Ok(Some(inst))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /backups/{name}` (project-wide: backups outlive their instance); `Ok(None)` on 404.
    /// Used to plan a restore with the backup's engine and version.
    pub async fn get_source_backup(&self, name: &str) -> Result<Option<SourceBackup>, ApiError> {
        let path = format!("/backups/{}", encode_segment(name));
        match self.send(Method::GET, &path, &[], None, None, None).await {
            Ok(reply) => Ok(Some(decode(&reply, &self.secrets(None))?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /instances`, following `next_page_token` to the end.
    pub async fn list_instances(&self) -> Result<Vec<Instance>, ApiError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .list_instances_page(&InstanceQuery::default(), MAX_PAGE_SIZE, token)
                .await?;
            out.extend(page.items);
            match page.next {
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
    }

    /// One page of `GET /instances` (at most `page_size` instances, filtered by the server as
    /// `query` says), for callers that handle each page as it arrives (`terraform query`
    /// streams them) instead of collecting the whole project.
    pub async fn list_instances_page(
        &self,
        query: &InstanceQuery,
        page_size: u64,
        token: Option<String>,
    ) -> Result<Page<Instance>, ApiError> {
        let page: InstancePage = self.get_instances_page(query, page_size, token).await?;
        Ok(Page::new(page.instances, page.next_page_token))
    }

    /// `GET /instances` for one page, decoded as `T` (parsed records, or their JSON text).
    async fn get_instances_page<T: DeserializeOwned>(
        &self,
        query: &InstanceQuery,
        page_size: u64,
        token: Option<String>,
    ) -> Result<T, ApiError> {
        let mut q = vec![("page_size", page_size.clamp(1, MAX_PAGE_SIZE).to_string())];
        if let Some(s) = &query.state {
            q.push(("state", s.clone()));
        }
        for (k, v) in &query.labels {
            q.push(("label", format!("{k}:{v}")));
        }
        if let Some(t) = token {
            q.push(("page_token", t));
        }
        let reply = self
            .send(Method::GET, "/instances", &q, None, None, None)
            .await?;
        decode(&reply, &self.secrets(None))
    }

    /// One page of `GET /instances` (no filter) keyed by name, each record as its JSON text (see
    /// [`RawInstancePage`]): what read-ahead keeps. A record without a readable name is left out
    /// (its read GETs, which reports what is wrong with it).
    pub(super) async fn list_instances_page_raw(
        &self,
        page_size: u64,
        token: Option<String>,
    ) -> Result<Page<(String, Box<serde_json::value::RawValue>)>, ApiError> {
        let page: RawInstancePage = self
            .get_instances_page(&InstanceQuery::default(), page_size, token)
            .await?;
        let items = page
            .instances
            .into_iter()
            .filter_map(|raw| match serde_json::from_str::<NameOnly>(raw.get()) {
                Ok(n) => Some((n.name, raw)),
                Err(e) => {
                    tracing::debug!(error = %e, "listed instance without a readable name; left to its GET");
                    None
                }
            })
            .collect();
        Ok(Page::new(items, page.next_page_token))
    }

    /// `POST /instances` → the create operation.
    ///
    /// Retried with the same idempotency key until the retry budget, the deadline or a stop ends it. A
    /// failure then is ambiguous (the server may have committed the create): the caller looks the
    /// instance up and compares its `creation_token` with `key`.
    pub async fn create_instance(
        &self,
        req: &CreateInstanceRequest,
        key: &IdempotencyKey,
    ) -> Result<Operation, ApiError> {
        let body = serde_json::to_vec(req)
            .map_err(|e| ApiError::Config(format!("cannot encode create request: {e}")))?;
        let reply = self
            .send(Method::POST, "/instances", &[], Some(body), Some(key), None)
            .await?;
        self.decode_operation(&reply)
    }

    /// `PATCH /instances/{name}` with `If-Match` → the update operation.
    pub async fn update_instance(
        &self,
        name: &str,
        req: &UpdateInstanceRequest,
        etag: Option<&str>,
        key: &IdempotencyKey,
    ) -> Result<Operation, ApiError> {
        let body = serde_json::to_vec(req)
            .map_err(|e| ApiError::Config(format!("cannot encode update request: {e}")))?;
        let path = format!("/instances/{}", encode_segment(name));
        let reply = self
            .send(Method::PATCH, &path, &[], Some(body), Some(key), etag)
            .await?;
        self.decode_operation(&reply)
    }

    /// `DELETE /instances/{name}` → the delete operation.
    pub async fn delete_instance(
        &self,
        name: &str,
        skip_final_backup: bool,
        final_backup_name: Option<&str>,
        key: &IdempotencyKey,
    ) -> Result<Operation, ApiError> {
        let path = format!("/instances/{}", encode_segment(name));
        let mut query = vec![("skip_final_backup", skip_final_backup.to_string())];
        if let Some(n) = final_backup_name.filter(|n| !n.is_empty()) {
            query.push(("final_backup_name", n.to_string()));
        }
        let reply = self
            .send(Method::DELETE, &path, &query, None, Some(key), None)
            .await?;
        self.decode_operation(&reply)
    }

    /// `GET /operations/{id}` → the operation and the server's `Retry-After` hint.
    pub async fn get_operation(&self, id: &str) -> Result<(Operation, Option<Duration>), ApiError> {
        let path = format!("/operations/{}", encode_segment(id));
        let reply = self.send(Method::GET, &path, &[], None, None, None).await?;
        let hint = header_str(&reply.headers, RETRY_AFTER.as_str())
            .and_then(|v| retry::parse_retry_after(&v));
        Ok((self.decode_operation(&reply)?, hint))
    }

    /// The newest operation with `verb` on instance `name` (`GET /operations`, paged; ordered by id,
    /// so a running one is preferred over finished ones). `Ok(None)` when there is none.
    pub async fn find_instance_operation(
        &self,
        name: &str,
        verb: &str,
    ) -> Result<Option<Operation>, ApiError> {
        const MAX_PAGES: usize = 50;
        let target = format!("instances/{name}");
        let mut found: Option<Operation> = None;
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("page_size", "100".to_string())];
            if let Some(t) = &token {
                query.push(("page_token", t.clone()));
            }
            let reply = self
                .send(Method::GET, "/operations", &query, None, None, None)
                .await?;
            let page: OperationPage = decode(&reply, &self.secrets(None))?;
            for op in page.operations {
                if op.target == target && op.verb == verb {
                    let better = match &found {
                        None => true,
                        Some(f) => f.done || !op.done,
                    };
                    if better {
                        found = Some(op);
                    }
                }
            }
            match page.next_page_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        Ok(found)
    }

    /// Secrets that API text must never echo: the token, and passwords in the request body.
    fn secrets(&self, body: Option<&[u8]>) -> Vec<String> {
        let mut out = vec![self.inner.token.clone()];
        if let Some(b) = body {
            out.extend(redact::secrets_in_json(b));
        }
        out
    }

    /// [`ApiError::retry_cap`] until the API has answered once; after that, none (see
    /// `Inner::reached`).
    fn retry_cap(&self, err: &ApiError) -> Option<u32> {
        if self
            .inner
            .reached
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            None
        } else {
            err.retry_cap()
        }
    }

    /// `text` (a body) as a log line may show it: without [`Client::secrets`] of the request,
    /// the secret-looking values of the response (a generated password), bounded.
    fn log_text(text: &[u8], secrets: &[String], response: Option<&[u8]>) -> String {
        let mut secrets = secrets.to_vec();
        if let Some(r) = response {
            secrets.extend(redact::secrets_in_json(r));
        }
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        redact::redact(&String::from_utf8_lossy(text), &refs)
    }

    /// The endpoint as errors show it: scheme, host and port, credentials removed.
    fn shown_endpoint(&self) -> String {
        let mut u = self.inner.base.clone();
        u.set_path("");
        u.set_query(None);
        redact::endpoint(u.as_str().trim_end_matches('/'))
    }

    /// An operation answer, with the text of its problem (if any) scrubbed.
    fn decode_operation(&self, reply: &Reply) -> Result<Operation, ApiError> {
        let secrets = self.secrets(None);
        let mut op: Operation = decode(reply, &secrets)?;
        if let Some(p) = op.error.as_mut() {
            scrub_problem(p, &secrets);
        }
        Ok(op)
    }

    /// Send one logical request under `/v1/projects/{project}` (see [`Client::send_under`]).
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        key: Option<&IdempotencyKey>,
        if_match: Option<&str>,
    ) -> Result<Reply, ApiError> {
        self.send_under(
            self.inner.base.path(),
            method,
            path,
            query,
            body,
            key,
            if_match,
        )
        .await
    }

    /// Send one logical request to `prefix` + `path` (`prefix` is the project's base path, or the
    /// API root for the project-less catalogue in [`catalog`]), retrying transient failures with
    /// the same idempotency key. Once the bound stop signal fires, or when the next retry would
    /// start past the bound deadline, the last error is returned instead.
    #[allow(clippy::too_many_arguments)]
    async fn send_under(
        &self,
        prefix: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        key: Option<&IdempotencyKey>,
        if_match: Option<&str>,
    ) -> Result<Reply, ApiError> {
        if !matches!(method, Method::GET | Method::HEAD) {
            self.note_write(path);
        }
        let mut url = self.inner.base.clone();
        url.set_path(&format!("{prefix}{path}"));
        if !query.is_empty() {
            let mut qp = url.query_pairs_mut();
            for (k, v) in query {
                qp.append_pair(k, v);
            }
        }
        let policy = &self.inner.retry;
        let stop = self.stop.as_ref();
        // Computed once per logical request, not per attempt: the body is parsed to find passwords.
        let secrets = self.secrets(body.as_deref());
        // Every attempt sends a reference-counted handle on this buffer, not a copy of it.
        let body = body.map(bytes::Bytes::from);
        let mut attempt: u32 = 0;
        // The error of the attempt before this one: a retry cut short by a stop reports it, since
        // that attempt was sent and may have done its work (a "not sent" would hide a create that
        // happened behind a lost answer).
        let mut last_err: Option<ApiError> = None;
        loop {
            // Every attempt, retries included, takes a token from the provider-wide bucket. A
            // token at hand is taken first (the limiter's branch completes on its first poll), so
            // a stop only cuts short an actual wait, as it does a retry's backoff.
            tokio::select! {
                biased;
                _ = self.inner.limiter.acquire() => {}
                _ = stopped(stop) => {
                    if let Some(err) = last_err {
                        tracing::info!(method = %method, path, "not retrying: Terraform asked the provider to stop");
                        return Err(err);
                    }
                    tracing::info!(method = %method, path, "not sent: Terraform asked the provider to stop");
                    return Err(ApiError::Stopped { method: method.to_string(), path: url.path().to_string() });
                }
            }
            let result = self
                .attempt(&method, &url, body.as_ref(), &secrets, key, if_match)
                .await;
            if let Err(err) = &result
                && err.status() == Some(429)
            {
                // Our pace is above what the API grants: everybody waits, not just this request.
                let pause = err
                    .retry_after()
                    .unwrap_or(Duration::from_secs(1))
                    .min(policy.max_retry_after);
                self.inner.limiter.throttled(pause);
            }
            match result {
                Ok(reply) => return Ok(reply),
                Err(err)
                    if err.is_retryable()
                        && attempt
                            < self
                                .retry_cap(&err)
                                .map_or(policy.max_retries, |cap| cap.min(policy.max_retries)) =>
                {
                    let delay = policy.delay(attempt, err.retry_after());
                    if let Some(deadline) = self.deadline
                        && Instant::now() + delay >= deadline
                    {
                        tracing::info!(method = %method, path, "not retrying: the operation's timeout runs out first");
                        return Err(err);
                    }
                    tracing::warn!(
                        method = %method, path, attempt = attempt + 1, delay_ms = delay.as_millis() as u64,
                        status = ?err.status(), reason = err.reason(), request_id = ?err.request_id(),
                        "retrying CloudDB API request: {err}"
                    );
                    tokio::select! {
                        biased;
                        _ = stopped(stop) => {
                            tracing::info!(method = %method, path, "not retrying: Terraform asked the provider to stop");
                            return Err(err);
                        }
                        _ = tokio::time::sleep(delay) => {}
                    }
                    last_err = Some(err);
                    attempt += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// One HTTP request with the headers every call carries.
    fn request(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&bytes::Bytes>,
        key: Option<&IdempotencyKey>,
        if_match: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut rb = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.inner.auth.clone())
            .header("Accept", "application/json");
        if let Some(b) = body {
            // A reference count, not a copy of the body.
            rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
        }
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k.as_str());
        }
        if let Some(e) = if_match.filter(|e| !e.is_empty()) {
            rb = rb.header(IF_MATCH, e);
        }
        rb
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&bytes::Bytes>,
        secrets: &[String],
        key: Option<&IdempotencyKey>,
        if_match: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let full_path = url.path().to_string();
        let mut rb = self.request(method, url, body, key, if_match);
        if let Some(deadline) = self.deadline {
            // Each attempt ends with the operation (but gets at least a second to say something).
            let left = deadline.saturating_duration_since(Instant::now());
            rb = rb.timeout(
                self.inner
                    .request_timeout
                    .min(left.max(Duration::from_secs(1))),
            );
        }
        // reqwest's error text carries the URL; the endpoint (redacted) and path are reported
        // separately, and the cause is dug out of the source chain.
        let started = Instant::now();
        let transport = |source: reqwest::Error| {
            let failure = transport::classify(&source, &self.shown_endpoint());
            tracing::info!(
                method = %method, path = %full_path, duration_ms = started.elapsed().as_millis() as u64,
                error = %failure, "CloudDB API call failed"
            );
            ApiError::Transport {
                method: method.to_string(),
                path: full_path.clone(),
                failure,
                source: source.without_url(),
            }
        };
        if let Some(b) = body {
            tracing::debug!(
                method = %method, path = %full_path,
                request_body = %Self::log_text(b, secrets, None),
                "CloudDB API request"
            );
        }
        let mut resp = rb.send().await.map_err(transport)?;
        self.inner
            .reached
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let status = resp.status();
        // Taken, not copied: only the body is read from `resp` from here on.
        let headers = std::mem::take(resp.headers_mut());
        // A hostile or broken API must not make the provider read an unbounded body.
        let too_large = |what: String| ApiError::Decode {
            method: method.to_string(),
            path: full_path.clone(),
            request_id: header_str(&headers, "x-request-id")
                .map(|id| safe_request_id(&id, secrets)),
            message: format!(
                "HTTP {}: the response body is larger than {} MiB ({what}); refusing to read it",
                status.as_u16(),
                MAX_RESPONSE_BYTES / (1024 * 1024)
            ),
        };
        if let Some(len) = resp.content_length()
            && len > MAX_RESPONSE_BYTES as u64
        {
            return Err(too_large(format!("{len} bytes announced")));
        }
        let mut resp_body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if resp_body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large("more sent than announced".into()));
            }
            resp_body.extend_from_slice(&chunk);
        }
        let request_id =
            header_str(&headers, "x-request-id").map(|id| safe_request_id(&id, secrets));
        // One line per call at INFO (what TF_LOG=info shows), the body at DEBUG, redacted like
        // every API text: the token, the request's passwords and secret-looking keys.
        tracing::info!(
            method = %method, path = %full_path, status = status.as_u16(),
            request_id = request_id.as_deref().unwrap_or(""),
            duration_ms = started.elapsed().as_millis() as u64,
            "CloudDB API call"
        );
        if !resp_body.is_empty() {
            tracing::debug!(
                method = %method, path = %full_path, status = status.as_u16(),
                request_id = request_id.as_deref().unwrap_or(""),
                response_body = %Self::log_text(&resp_body, secrets, Some(&resp_body)),
                "CloudDB API response"
            );
        }
        interpret(method, url, full_path, status, headers, resp_body, secrets)
    }
}

/// Everything the client does with an answer once its bytes are in: a redirect is an error, a
/// success is returned for decoding, anything else becomes an [`ApiError::Status`] from the
/// problem body (redacted, bounded) and the `Retry-After` header (clamped).
fn interpret(
    method: &Method,
    url: &Url,
    full_path: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    secrets: &[String],
) -> Result<Reply, ApiError> {
    let request_id = header_str(&headers, "x-request-id");
    if status.is_redirection() {
        let location = header_str(&headers, LOCATION.as_str())
            .and_then(|l| url.join(&l).ok())
            .map(|mut u| {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.set_query(None);
                u.set_fragment(None);
                u.to_string()
            })
            .unwrap_or_else(|| "an unknown location".into());
        return Err(ApiError::Redirect {
            method: method.to_string(),
            path: full_path,
            status: status.as_u16(),
            location: redact::redact(
                &location,
                &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
            ),
        });
    }
    if status.is_success() {
        return Ok(Reply {
            status,
            headers,
            body,
            method: method.clone(),
            path: full_path,
        });
    }
    let mut problem: Problem = serde_json::from_slice(&body).unwrap_or_default();
    let message = if !problem.detail.is_empty() {
        problem.detail.clone()
    } else if !problem.title.is_empty() {
        problem.title.clone()
    } else {
        let text = String::from_utf8_lossy(&body);
        let t = text.trim();
        if t.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            t.chars().take(2 * redact::MAX_TEXT).collect()
        }
    };
    let message = redact::redact(
        &message,
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    scrub_problem(&mut problem, secrets);
    Err(ApiError::Status(Box::new(error::StatusError {
        method: method.to_string(),
        path: full_path,
        status: status.as_u16(),
        reason: problem.reason.clone(),
        message,
        request_id: request_id
            .or_else(|| Some(problem.request_id.clone()).filter(|s| !s.is_empty()))
            .map(|id| safe_request_id(&id, secrets)),
        field_violations: problem.field_violations,
        retryable: problem.retryable,
        retry_after: header_str(&headers, RETRY_AFTER.as_str())
            .and_then(|v| retry::parse_retry_after(&v)),
    })))
}

/// The response handling of an API call without the transport: `interpret` plus decoding a
/// success body as an instance, an operation and an instance page. For fuzzing and tests: every
/// input must end in `Ok` or an `ApiError`, never a panic.
pub fn check_response(
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    token: &str,
) -> Result<(), ApiError> {
    let status = StatusCode::from_u16(status).map_err(|e| ApiError::Config(e.to_string()))?;
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(k.as_bytes()),
            reqwest::header::HeaderValue::from_str(v),
        ) {
            map.append(k, v);
        }
    }
    let url = Url::parse("http://127.0.0.1/v1/projects/p/instances/x")
        .map_err(|e| ApiError::Config(e.to_string()))?;
    let secrets = vec![token.to_string()];
    let reply = interpret(
        &Method::GET,
        &url,
        url.path().to_string(),
        status,
        map,
        body.to_vec(),
        &secrets,
    )?;
    let instance = decode::<types::Instance>(&reply, &secrets).map(drop);
    let operation = decode::<Operation>(&reply, &secrets).map(drop);
    let page = decode::<types::InstancePage>(&reply, &secrets).map(drop);
    instance.or(operation).or(page)
}

/// The largest response body the client reads (the API's largest page is far smaller).
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A request id as shown in diagnostics: it comes from the API, so it is redacted like any API
/// text and cut to 128 characters (real ids are far shorter).
fn safe_request_id(id: &str, secrets: &[String]) -> String {
    let cut: String = id.chars().take(128).collect();
    redact::redact(
        &cut,
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

/// Decodes a success body; the error names the JSON path of the offending field
/// (`storage_gb: invalid type: string "lots", expected i64`).
fn decode<T: DeserializeOwned>(reply: &Reply, secrets: &[String]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(&reply.body);
    serde_path_to_error::deserialize(de).map_err(|e| ApiError::Decode {
        method: reply.method.to_string(),
        path: reply.path.clone(),
        request_id: header_str(&reply.headers, "x-request-id")
            .map(|id| safe_request_id(&id, secrets)),
        // serde's message can quote the offending value.
        message: redact::redact(
            &format!("HTTP {}: {e}", reply.status.as_u16()),
            &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
    })
}

/// Scrub every text field of a problem the API sent.
fn scrub_problem(p: &mut Problem, secrets: &[String]) {
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    p.detail = redact::redact(&p.detail, &secrets);
    p.title = redact::redact(&p.title, &secrets);
    for v in &mut p.field_violations {
        v.description = redact::redact(&v.description, &secrets);
    }
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Percent-encode one path segment (names are validated, but never trust input in a URL).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod http_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_endpoints_and_projects() {
        let bad = |e: &str, p: &str| Client::new(ClientConfig::new(e, "t", p)).is_err();
        assert!(bad("not a url", "p"));
        assert!(bad("ftp://127.0.0.1", "p"));
        assert!(bad("http://127.0.0.1:1", ""));
        assert!(bad("http://127.0.0.1:1", "a/b"));
        assert!(!bad("http://127.0.0.1:1/", "p"));
        assert!(Client::new(ClientConfig::new("http://127.0.0.1:1", "", "p")).is_err());
    }

    #[test]
    fn user_agent_names_both_versions() {
        assert_eq!(
            user_agent("1.11.4"),
            format!(
                "terraform-provider-clouddb/{} (+terraform 1.11.4)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("db-1"), "db-1");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}

#[cfg(test)]
mod response_tests {
    use super::*;

    /// Fuzzing finding (fuzz-api `client_response`): a redirect's Location carried the token in
    /// its path and reached the error message unredacted.
    #[test]
    fn redirect_location_never_carries_the_token() {
        let e = check_response(
            307,
            &[(
                "Location",
                "http://127.0.0.1/v1/x/token%20sekrit-token-42/y",
            )],
            b"",
            "sekrit-token-42",
        )
        .expect_err("a redirect is an error");
        let text = format!("{e} {}", e.detail());
        assert!(matches!(e, ApiError::Redirect { .. }), "{e:?}");
        assert!(!text.contains("sekrit-token-42"), "{text}");
    }

    /// Fuzzing finding: a hostile `X-Request-Id` echoing the token.
    #[test]
    fn request_ids_are_redacted() {
        let e = check_response(
            584,
            &[("X-Request-Id", "r1n=sekrit-token-42")],
            b"",
            "sekrit-token-42",
        )
        .expect_err("an error status");
        let text = format!("{e} {}", e.detail());
        assert!(!text.contains("sekrit-token-42"), "{text}");
    }

    #[test]
    fn a_success_body_of_any_api_shape_is_accepted_and_garbage_is_a_decode_error() {
        assert!(check_response(200, &[], br#"{"id":"op-1","done":true}"#, "t-123").is_ok());
        let e = check_response(200, &[], b"\xff\x00", "t-123").expect_err("garbage");
        assert!(matches!(e, ApiError::Decode { .. }), "{e:?}");
    }
}
