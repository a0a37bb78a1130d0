//! `--engines real` with PostgreSQL: every instance is a real cluster, checked with `psql` over
//! TCP (the scenarios are in `engines_common`, shared with MariaDB). They skip (saying why) when
//! PostgreSQL is not installed, unless `CI` is set: then a missing engine fails them.

mod common;
#[macro_use]
mod engines_common;

engine_tests!(engines_common::engine::POSTGRES);
