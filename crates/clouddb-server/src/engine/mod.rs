//! Real engines behind instances (`clouddb-server --engines real`): each instance is a PostgreSQL
//! cluster or a MariaDB server on a loopback port. [`driver`] is the contract an engine meets;
//! [`postgres`] is the PostgreSQL driver, [`mariadb`] the MariaDB one (engine `mysql`); [`process`] runs engine programs (as the engine's OS user
//! when running as root); [`ports`] picks free loopback ports; [`backend`] runs instances'
//! operations on the drivers, persists where each engine lives, watches their health and restarts
//! them after a restart of clouddb-server. The simulated backend (the default) needs none of this.

pub mod backend;
pub mod driver;
pub mod mariadb;
pub mod ports;
pub mod postgres;
pub mod process;

pub use backend::Backend;
pub use driver::{AccessRule, EngineDriver, EngineError, EngineSpec, Role, TierSettings, UserSpec};
