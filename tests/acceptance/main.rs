//! Acceptance tests: the real `terraform` CLI, the freshly built provider and a private `clouddb-server`.
//!
//! See `tests/acceptance/README.md` for how to run them (TF_ACC, TF_ACC_TERRAFORM_PATHS,
//! TF_ACC_TERRAFORM_SMOKE_PATHS, CLOUDDB_SERVER_BIN). One module per resource type (tests named
//! `<resource>_<behaviour>`), plus provider-level and examples tests.

mod harness;

mod actions;
mod backup;
mod bad_input;
mod data_sources;
mod database;
mod ephemeral;
mod examples;
mod firewall_rule;
mod functions;
mod identity_query;
mod instance;
mod moved;
mod provider;
mod reliability;
mod scale;
mod security;
mod user;
