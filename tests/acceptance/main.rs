//! Acceptance tests: the real `terraform` CLI, the freshly built provider and a private `clouddb-server`.
//!
//! See `tests/acceptance/README.md` for how to run them (TF_ACC, TF_ACC_TERRAFORM_PATHS,
//! TF_ACC_TERRAFORM_SMOKE_PATHS, CLOUDDB_SERVER_BIN). One module per resource type (tests named
//! `<resource>_<behaviour>`), plus provider-level and examples tests.

mod harness;

mod actions;
mod backup;
mod bad_input;
mod console;
mod data_sources;
mod database;
mod docs_commands;
mod engines;
mod ephemeral;
mod examples;
mod firewall_rule;
mod first_hour;
mod functions;
mod identity_query;
mod instance;
mod moved;
mod provider;
mod release;
mod reliability;
mod scale;
mod security;
mod throttling;
mod user;
