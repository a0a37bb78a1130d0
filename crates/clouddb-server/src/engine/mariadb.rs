//! The MariaDB engine driver (`engine = "mysql"` instances of `--engines real`), for Debian 12's
//! MariaDB 10.11 (`mariadb-server`, `mariadb-client`; `scripts/install-engines.sh` installs them).
//!
//! # How it runs
//!
//! Each instance is one `mariadbd` with its data directory, started with
//! `--defaults-file=<data_dir>/my.cnf` so nothing under /etc/mysql applies. The option file
//! ([`config`]) is generated from the [`EngineSpec`] at `init`, every `start` and `apply_settings`:
//! port, `bind-address = 127.0.0.1`, the socket `<socket_dir>/mariadb.<port>.sock` and the
//! temporary directory `<socket_dir>/mariadb.<port>.tmp` (never the shared /tmp), the pid file
//! and the log (`mariadbd.log`) in the data directory, `innodb_buffer_pool_size` = `buffer_mb`,
//! `max_connections`, `skip-name-resolve`, a 16 MiB redo log. See [`server`] for the process:
//! spawned detached in its own process group, readiness by `mariadb-admin ping`, stop by
//! `mariadb-admin shutdown`; as root it runs with `--user=root`.
//!
//! `init` runs `mariadb-install-db --auth-root-authentication-method=socket
//! --auth-root-socket-user=<os user> --skip-test-db` (no anonymous users, no `test` database),
//! starts the server, creates the admin (ALL PRIVILEGES WITH GRANT OPTION) and stops it again:
//! like `initdb`, `init` leaves no process behind, and `start` follows. The driver itself logs
//! in over the socket as the OS user through `unix_socket` authentication (no password to keep)
//! and sends SQL on the `mariadb` client's stdin ([`sql`]: backtick identifiers, escaped
//! literals, a fixed session `sql_mode`).
//!
//! # What it maps
//!
//! - Roles and users: see [`accounts`] (readonly / readwrite / admin as global grants, other
//!   names as MariaDB roles, the first of them the default role).
//! - Access rules: a user is `'u'@'localhost'` (socket) plus one account per host pattern of the
//!   rules ([`hosts`]: IPv4 CIDRs as netmasks, `0.0.0.0/0` as `%`, IPv6 only through
//!   IPv4-mapped addresses). With no rules, only the socket logs in. The rules in force are kept
//!   in `clouddb-engine.json` in the data directory ([`state`]) so `upsert_user` gives a new
//!   user the same accounts. Changes apply at once (account statements, FLUSH PRIVILEGES); on a
//!   stopped server they are saved and applied by the next `start`, which always brings the
//!   accounts to the saved rules (so a crash half-way through a change heals too).
//! - Charsets and collations: MySQL 8 names are mapped to MariaDB's ([`charset`]; the API's
//!   default `utf8mb4_0900_ai_ci` becomes `utf8mb4_uca1400_ai_ci`).
//! - Dumps: the user databases by `mariadb-dump` plus the managed users and roles, the admin
//!   excepted ([`dump`]); a restore loads it and recreates the TCP accounts for the target's rules.
//!
//! # What it cannot do
//!
//! - IPv6 clients: the server listens on 127.0.0.1 only, and MariaDB has no IPv6 netmasks.
//! - More than one default role: further named roles need `SET ROLE` in a session.
//! - `admin` is not less than a superuser: MariaDB's ALL PRIVILEGES on `*.*` includes SUPER.
//! - Accounts an admin creates in SQL for hosts other than localhost (without a localhost
//!   account) are outside the access rules and outside dumps; so are roles granted to the admin.
//! - A charset MariaDB does not have is an error (there is no nearest one); an unknown collation
//!   falls back to the charset's default.
//! - The user names `root`, `mysql`, `mariadb.sys` and the OS user's name are the engine's own.

mod accounts;
mod charset;
mod config;
mod dump;
mod hosts;
mod layout;
mod programs;
mod server;
mod sql;
mod state;

use std::path::Path;

use layout::Layout;
use programs::{Identity, Programs};
use sql::{Client, ident};

use super::{AccessRule, EngineDriver, EngineError, EngineSpec, Role, UserSpec};

/// The MariaDB driver. Stateless: everything is in the [`EngineSpec`] and the data directory.
#[derive(Debug, Clone, Copy, Default)]
pub struct MariaDb;

/// What every operation needs: the programs, the process identity, the files.
struct Ctx {
    progs: Programs,
    id: &'static Identity,
    layout: Layout,
}

impl Ctx {
    fn new(spec: &EngineSpec) -> Result<Self, EngineError> {
        Ok(Self {
            progs: Programs::find()?,
            id: programs::identity()?,
            layout: Layout::new(spec)?,
        })
    }

    fn client(&self) -> Client<'_> {
        Client {
            program: &self.progs.client,
            socket: &self.layout.socket,
            user: &self.id.user,
        }
    }

    fn state(&self) -> Result<state::State, EngineError> {
        state::load(&self.layout.state)
    }

    fn patterns(&self) -> Result<std::collections::BTreeSet<String>, EngineError> {
        hosts::patterns(&self.state()?.rules())
    }
}

impl MariaDb {
    /// The pid of the instance's mariadbd, when it is alive.
    pub fn server_pid(&self, spec: &EngineSpec) -> Option<u32> {
        Layout::new(spec).ok().and_then(|l| server::pid(&l))
    }

    /// Creates the admin over the socket of a freshly initialised, running server.
    fn create_admin(
        &self,
        ctx: &Ctx,
        admin_user: &str,
        admin_password: &str,
    ) -> Result<(), EngineError> {
        let admin = UserSpec {
            name: admin_user.to_string(),
            password: Some(admin_password.to_string()),
            roles: vec![Role::Admin],
        };
        accounts::upsert(&ctx.client(), ctx.id, &admin, &ctx.patterns()?)
    }
}

fn check_database_name(name: &str) -> Result<(), EngineError> {
    if name.is_empty() || name.contains('\0') {
        return Err(EngineError::Other(format!(
            "{name:?} is not a database name"
        )));
    }
    if dump::SYSTEM_SCHEMAS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(EngineError::Other(format!(
            "the database name {name} is reserved by MariaDB"
        )));
    }
    Ok(())
}

impl EngineDriver for MariaDb {
    fn engine(&self) -> &'static str {
        "mysql"
    }

    fn check_installed(&self) -> Result<(), EngineError> {
        Programs::find().map(drop)
    }

    fn init(
        &self,
        spec: &EngineSpec,
        admin_user: &str,
        admin_password: &str,
    ) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        accounts::check_user_name(admin_user, ctx.id)?;
        let data = &ctx.layout.data_dir;
        if data.exists() {
            return Err(EngineError::Other(format!(
                "{} exists already: init needs a new data directory",
                data.display()
            )));
        }
        for dir in [data, &spec.socket_dir] {
            std::fs::create_dir_all(dir)
                .map_err(|e| EngineError::Other(format!("creating {}: {e}", dir.display())))?;
        }
        config::write(spec, &ctx.layout)?;
        state::save(
            &ctx.layout.state,
            &state::State {
                admin_user: Some(admin_user.to_string()),
                access_rules: Vec::new(),
            },
        )?;
        let mut cmd = std::process::Command::new(&ctx.progs.install_db);
        cmd.arg(ctx.layout.defaults_arg())
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=socket")
            .arg(format!("--auth-root-socket-user={}", ctx.id.user))
            .arg("--skip-test-db")
            .stdin(std::process::Stdio::null());
        if ctx.id.root {
            cmd.arg("--user=root");
        }
        programs::run(&mut cmd, "mariadb-install-db").map_err(|e| match e {
            EngineError::Command { command, stderr } => EngineError::Command {
                command,
                stderr: format!(
                    "{stderr}\nserver log: {}",
                    server::log_tail(&ctx.layout.log)
                ),
            },
            other => other,
        })?;
        server::start(spec, &ctx.progs, &ctx.layout, ctx.id)?;
        let admin = self.create_admin(&ctx, admin_user, admin_password);
        let stopped = server::stop(&ctx.progs, &ctx.layout, ctx.id);
        admin.and(stopped)
    }

    fn start(&self, spec: &EngineSpec) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        if server::is_running(&ctx.progs, &ctx.layout, ctx.id) {
            return Ok(());
        }
        server::start(spec, &ctx.progs, &ctx.layout, ctx.id)?;
        // Rules set while the server was down (or half-applied before a crash) take effect now.
        accounts::reconcile(&ctx.client(), ctx.id, &ctx.patterns()?)
    }

    fn stop(&self, spec: &EngineSpec) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        server::stop(&ctx.progs, &ctx.layout, ctx.id)
    }

    fn is_running(&self, spec: &EngineSpec) -> bool {
        Ctx::new(spec).is_ok_and(|ctx| server::is_running(&ctx.progs, &ctx.layout, ctx.id))
    }

    fn apply_settings(&self, spec: &EngineSpec) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        config::write(spec, &ctx.layout)
    }

    fn set_admin_password(
        &self,
        spec: &EngineSpec,
        admin_user: &str,
        password: &str,
    ) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        accounts::set_password(&ctx.client(), ctx.id, admin_user, password)?;
        let mut st = ctx.state()?;
        if st.admin_user.as_deref() != Some(admin_user) {
            st.admin_user = Some(admin_user.to_string());
            state::save(&ctx.layout.state, &st)?;
        }
        Ok(())
    }

    fn create_database(
        &self,
        spec: &EngineSpec,
        name: &str,
        charset: &str,
        collation: &str,
    ) -> Result<(), EngineError> {
        check_database_name(name)?;
        let ctx = Ctx::new(spec)?;
        let client = ctx.client();
        let (cs, coll) = charset::resolve(&client, charset, collation)?;
        client
            .query(&format!(
                "CREATE DATABASE IF NOT EXISTS {} CHARACTER SET {} COLLATE {};",
                ident(name),
                ident(&cs),
                ident(&coll)
            ))
            .map(drop)
    }

    fn drop_database(&self, spec: &EngineSpec, name: &str) -> Result<(), EngineError> {
        check_database_name(name)?;
        let ctx = Ctx::new(spec)?;
        ctx.client()
            .query(&format!("DROP DATABASE IF EXISTS {};", ident(name)))
            .map(drop)
    }

    fn upsert_user(&self, spec: &EngineSpec, user: &UserSpec) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        accounts::upsert(&ctx.client(), ctx.id, user, &ctx.patterns()?)
    }

    fn drop_user(&self, spec: &EngineSpec, name: &str) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        accounts::drop_user(&ctx.client(), ctx.id, name)
    }

    fn set_access_rules(&self, spec: &EngineSpec, rules: &[AccessRule]) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        let patterns = hosts::patterns(rules)?;
        // The rules are recorded first: should applying them fail half-way, the next
        // upsert_user already follows them, and the backend's replay finishes the rest.
        let mut st = ctx.state()?;
        st.set_rules(rules);
        state::save(&ctx.layout.state, &st)?;
        if !server::is_running(&ctx.progs, &ctx.layout, ctx.id) {
            // Like a pg_hba.conf edit on a stopped cluster: `start` applies the saved rules.
            tracing::debug!(
                port = spec.port,
                "MariaDB is stopped: access rules apply at its start"
            );
            return Ok(());
        }
        accounts::reconcile(&ctx.client(), ctx.id, &patterns)
    }

    fn dump(&self, spec: &EngineSpec, dest: &Path) -> Result<u64, EngineError> {
        let ctx = Ctx::new(spec)?;
        let st = ctx.state()?;
        dump::dump(
            &ctx.progs,
            &ctx.client(),
            ctx.id,
            st.admin_user.as_deref(),
            dest,
        )
    }

    fn restore(&self, spec: &EngineSpec, src: &Path) -> Result<(), EngineError> {
        let ctx = Ctx::new(spec)?;
        dump::restore(&ctx.client(), ctx.id, &ctx.patterns()?, src)
    }
}
