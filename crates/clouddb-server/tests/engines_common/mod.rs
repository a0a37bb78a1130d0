//! Server-level tests of the real engines (`--engines real`), shared by `engines_postgres.rs` and
//! `engines_mariadb.rs`: [`engine`] holds what differs between the engines, [`harness`] the guards
//! and API helpers, [`scenarios`] the tests themselves, and [`engine_tests!`] makes one test
//! function per scenario for an engine. Every engine a test starts is stopped by a drop guard,
//! also when it fails.
#![allow(dead_code)]

pub mod engine;
pub mod harness;
pub mod scenarios;

/// One `#[tokio::test]` per scenario of [`scenarios`] for the engine `$engine`.
macro_rules! engine_tests {
    ($engine:path) => {
        engine_tests!($engine;
            a_real_instance,
            kill_9_of_the_server_loses_nothing,
            an_admin_reset_removes_the_engines);
    };
    ($engine:path; $($scenario:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                engines_common::scenarios::$scenario(&$engine).await;
            }
        )+
    };
}
