//! terraform-provider-clouddb: a Terraform provider (plugin protocol 6) for CloudDB managed database
//! instances, built on the `tfplugin` framework crate.
//!
//! # Layout
//!
//! - [`provider`]: the `clouddb` provider — configuration schema (`endpoint`, `token`, `project`,
//!   `request_timeout`, `max_retries`, `poll_interval`, each with its `CLOUDDB_*` environment fallback) and
//!   `configure`, which builds one pooled [`client::Client`] shared by all resources.
//! - [`client`]: the REST client of the CloudDB API — wire DTOs (`types`), errors carrying status, reason,
//!   request id and field violations (`error`), retries with capped exponential backoff, jitter,
//!   `Retry-After` and idempotency keys (`retry`), and the operation waiter that honours timeouts and
//!   Terraform's stop signal (`wait`). It knows nothing about Terraform values.
//! - [`functions`]: the provider functions `connection_uri` and `parse_tier` (Terraform 1.8+).
//! - [`ephemeral`]: the ephemeral resource `clouddb_credentials` (Terraform 1.10+), temporary
//!   database logins opened, renewed and revoked on the API and never stored.
//! - [`resources`]: the registry of resource types; [`resources::instance`] is `clouddb_instance`
//!   (schema, plan-time checks, CRUD, import, state upgrade from schema version 0).
//! - [`actions`]: the actions `clouddb_instance_restart`, `clouddb_instance_failover` and
//!   `clouddb_backup_now` (Terraform 1.14+), run by `terraform apply -invoke` or `action_trigger`.
//! - [`data_sources`]: the registry of data source types (`clouddb_instance`, `clouddb_instances`,
//!   `clouddb_engine_versions`, `clouddb_tiers`, `clouddb_backups`), each on its typed model.
//! - `main.rs`: parses `--debug` and hands the provider to `tfplugin`'s server.
//!
//! Acceptance tests live in `tests/acceptance/` and drive the real `terraform` CLI; see
//! `tests/acceptance/README.md`.

pub mod actions;
pub mod client;
pub mod credential_check;
pub mod data_sources;
pub mod ephemeral;
pub mod functions;
pub mod list_resources;
pub mod provider;
pub mod resources;

pub use provider::CloudDbProvider;
