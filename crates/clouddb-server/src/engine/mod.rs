//! Real engines behind instances (`clouddb-server --engines real`): each instance is a PostgreSQL
//! cluster or a MariaDB server on a loopback port. [`driver`] is the contract an engine meets; the
//! simulated backend (the default) needs none of this.

pub mod driver;
pub mod mariadb;

pub use driver::{AccessRule, EngineDriver, EngineError, EngineSpec, Role, TierSettings, UserSpec};
