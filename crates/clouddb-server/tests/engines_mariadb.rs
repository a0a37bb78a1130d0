//! `--engines real` with MariaDB: every `mysql` instance is a real mariadbd, checked with the
//! `mariadb` client over TCP (the scenarios are in `engines_common`, shared with PostgreSQL). They
//! skip (saying why) when MariaDB is not installed, unless `CI` is set: then a missing engine
//! fails them.

mod common;
#[macro_use]
mod engines_common;

engine_tests!(engines_common::engine::MARIADB);
