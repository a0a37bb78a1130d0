//! The PostgreSQL driver: one instance is one cluster (`initdb` + `pg_ctl`) of the installed
//! PostgreSQL (Debian's `postgresql` package; programs found on PATH or in
//! `/usr/lib/postgresql/<major>/bin`, the newest major first).
//!
//! - **Access.** The backend's own administration goes through the cluster's Unix socket as the
//!   bootstrap superuser `postgres` (`trust`, in a 0700 socket directory). TCP listens on 127.0.0.1
//!   only, and a TCP login needs a firewall rule (a `host … scram-sha-256` line of `pg_hba.conf`)
//!   whose CIDR holds the client; with no rules only the socket is open.
//! - **Admin user.** A `LOGIN CREATEDB CREATEROLE` role (not a superuser) with the admin password,
//!   a member of `clouddb_admin`. [`EngineDriver::init`] starts the cluster to create it and leaves
//!   it running ([`EngineDriver::start`] is then a no-op).
//! - **Roles.** `readonly`, `readwrite` and `admin` are the group roles `clouddb_readonly`,
//!   `clouddb_readwrite` and `clouddb_admin`, granted on every database (CONNECT, schema `public`,
//!   every table and sequence, and `ALTER DEFAULT PRIVILEGES` for every login role, so tables created
//!   later are covered): readonly may SELECT; readwrite may SELECT/INSERT/UPDATE/DELETE and create
//!   tables in `public`; admin may do everything on them. Any other role name is a NOLOGIN role of
//!   that name the user is a member of.
//! - **Databases.** Created from `template0` with the API's charset as the encoding. The cluster is
//!   initialised without a locale (`C`), so the API's collation is recorded but not applied.
//! - **Dumps.** `pg_dumpall` (roles with their password hashes, grants, every database); a restore
//!   runs it through `psql` into the new cluster, where the only error accepted is a role that
//!   already exists (`postgres`, the group roles, an admin of the same name).
//! - **Secrets.** SQL goes to `psql` on stdin, never on its command line; identifiers and literals
//!   are quoted ([`ident`], [`literal`]); error texts have passwords redacted and psql runs with
//!   terse errors (no statement echo); the server never logs failing statements
//!   (`log_min_error_statement = panic`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::driver::{AccessRule, EngineDriver, EngineError, EngineSpec, Role, UserSpec};
use super::process::{self, RunAs};

/// The Debian package that provides PostgreSQL.
pub const PACKAGE: &str = "postgresql";
/// The bootstrap superuser the backend administers through.
const SUPERUSER: &str = "postgres";
/// The group roles behind the API's three roles.
const READONLY: &str = "clouddb_readonly";
const READWRITE: &str = "clouddb_readwrite";
const ADMIN: &str = "clouddb_admin";
/// Seconds `pg_ctl` waits for a start or stop.
const PG_CTL_WAIT_S: &str = "60";
/// The file of tier settings, included from `postgresql.conf`.
const SETTINGS_FILE: &str = "clouddb.conf";

/// Programs the driver runs; all must be in the one directory found.
const PROGRAMS: &[&str] = &[
    "initdb",
    "pg_ctl",
    "postgres",
    "psql",
    "pg_dumpall",
    "pg_isready",
];

/// The PostgreSQL driver (stateless; the programs' directory is found once).
#[derive(Debug, Default)]
pub struct Postgres {
    found: OnceLock<Result<Install, EngineError>>,
}

/// Where the programs are and who runs them.
#[derive(Debug, Clone)]
struct Install {
    bin: PathBuf,
    run_as: Option<RunAs>,
}

/// `name` as a quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `s` as a quoted SQL string literal (`standard_conforming_strings` is set on by every script).
pub fn literal(s: &str) -> Result<String, EngineError> {
    if s.contains('\0') {
        return Err(EngineError::Other(
            "a NUL character cannot be sent to PostgreSQL".into(),
        ));
    }
    Ok(format!("'{}'", s.replace('\'', "''")))
}

/// The directory holding every program of [`PROGRAMS`]: the one `pg_ctl` on PATH resolves to, else
/// the newest `/usr/lib/postgresql/<major>/bin`.
fn find_bin() -> Result<PathBuf, EngineError> {
    let complete = |d: &Path| PROGRAMS.iter().all(|p| process::is_executable(&d.join(p)));
    if let Some(d) = process::on_path("pg_ctl").and_then(|p| p.parent().map(Path::to_path_buf))
        && complete(&d)
    {
        return Ok(d);
    }
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(_, d)| complete(d))
        .collect();
    majors.sort();
    majors.pop().map(|(_, d)| d).ok_or(EngineError::Missing {
        program: "initdb/pg_ctl".into(),
        package: PACKAGE,
    })
}

impl Postgres {
    fn install(&self) -> Result<&Install, EngineError> {
        self.found
            .get_or_init(|| {
                Ok(Install {
                    bin: find_bin()?,
                    run_as: RunAs::for_engine("postgres", PACKAGE)?,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Runs program `name` with `args` (described without secrets as `name args…`).
    fn run(
        &self,
        name: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
        secrets: &[&str],
    ) -> Result<std::process::Output, EngineError> {
        let i = self.install()?;
        let mut c = process::command(&i.bin.join(name), i.run_as.as_ref());
        c.args(args);
        process::run(
            c,
            &format!("{name} {}", args.join(" ")),
            stdin,
            None,
            secrets,
        )
    }

    /// Runs `sql` through psql as the superuser on database `db` over the socket; returns stdout
    /// (unaligned, tuples only). Stops at the first error.
    fn psql(
        &self,
        spec: &EngineSpec,
        db: &str,
        sql: &str,
        secrets: &[&str],
    ) -> Result<String, EngineError> {
        let script =
            format!("\\set VERBOSITY terse\nSET standard_conforming_strings = on;\n{sql}\n");
        let host = spec.socket_dir.to_string_lossy().into_owned();
        let port = spec.port.to_string();
        let out = self.run(
            "psql",
            &[
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &host,
                "-p",
                &port,
                "-U",
                SUPERUSER,
                "-d",
                db,
                "-f",
                "-",
            ],
            Some(script.as_bytes()),
            secrets,
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The names one query returns (one per line).
    fn names(&self, spec: &EngineSpec, db: &str, sql: &str) -> Result<Vec<String>, EngineError> {
        Ok(self
            .psql(spec, db, sql, &[])?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// The databases the API's grants cover (every one but the templates and `postgres`).
    fn user_databases(&self, spec: &EngineSpec) -> Result<Vec<String>, EngineError> {
        self.names(
            spec,
            SUPERUSER,
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY 1;",
        )
    }

    fn role_exists(&self, spec: &EngineSpec, name: &str) -> Result<bool, EngineError> {
        let q = format!("SELECT 1 FROM pg_roles WHERE rolname = {};", literal(name)?);
        Ok(!self.names(spec, SUPERUSER, &q)?.is_empty())
    }

    /// Grants the group roles their privileges on database `db`, for the tables that exist and
    /// (default privileges) those every login role creates later.
    fn sync_grants(&self, spec: &EngineSpec, db: &str) -> Result<(), EngineError> {
        let creators = self.names(
            spec,
            db,
            "SELECT rolname FROM pg_roles WHERE rolcanlogin ORDER BY 1;",
        )?;
        let (ro, rw, ad) = (ident(READONLY), ident(READWRITE), ident(ADMIN));
        let d = ident(db);
        let privileges = [
            ("SELECT", "TABLES", &ro),
            ("SELECT", "SEQUENCES", &ro),
            ("SELECT, INSERT, UPDATE, DELETE", "TABLES", &rw),
            ("USAGE, SELECT, UPDATE", "SEQUENCES", &rw),
            ("ALL", "TABLES", &ad),
            ("ALL", "SEQUENCES", &ad),
        ];
        let mut sql = format!(
            "GRANT CONNECT, TEMPORARY ON DATABASE {d} TO {ro}, {rw};\n\
             GRANT ALL ON DATABASE {d} TO {ad};\n\
             GRANT USAGE ON SCHEMA public TO {ro};\n\
             GRANT USAGE, CREATE ON SCHEMA public TO {rw}, {ad};\n"
        );
        for (p, o, r) in &privileges {
            sql.push_str(&format!("GRANT {p} ON ALL {o} IN SCHEMA public TO {r};\n"));
        }
        for c in &creators {
            for (p, o, r) in &privileges {
                sql.push_str(&format!(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT {p} ON {o} TO {r};\n",
                    ident(c)
                ));
            }
        }
        self.psql(spec, db, &sql, &[]).map(|_| ())
    }

    fn sync_all_grants(&self, spec: &EngineSpec) -> Result<(), EngineError> {
        for db in self.user_databases(spec)? {
            self.sync_grants(spec, &db)?;
        }
        Ok(())
    }

    fn settings_text(spec: &EngineSpec) -> String {
        format!(
            "# Written by clouddb-server from the instance's tier; rewritten on every tier change.\n\
             shared_buffers = '{}MB'\n\
             max_connections = {}\n\
             # Failing statements can hold passwords: never log them.\n\
             log_min_error_statement = panic\n\
             unix_socket_permissions = 0700\n",
            spec.settings.buffer_mb.max(1),
            spec.settings.max_connections.max(5),
        )
    }

    fn hba_text(rules: &[AccessRule]) -> String {
        let mut s = String::from(
            "# Written by clouddb-server from the instance's firewall rules; rewritten on every change.\n\
             # The backend's own administration (Unix socket in a 0700 directory):\n\
             local all postgres trust\n\
             local all all scram-sha-256\n",
        );
        for r in rules {
            s.push_str(&format!(
                "# firewall rule {}\nhost all all {} scram-sha-256\n",
                r.name.replace('\n', " "),
                r.cidr
            ));
        }
        s
    }

    fn pid_file(spec: &EngineSpec) -> PathBuf {
        spec.data_dir.join("postmaster.pid")
    }

    /// Whether the postmaster named by the pid file lives: `None` without a pid file. A killed
    /// postmaster can linger as a zombie (when nothing reaps orphans), which a signal still
    /// reaches: that counts as dead.
    fn postmaster_alive(spec: &EngineSpec) -> Option<bool> {
        let text = std::fs::read_to_string(Self::pid_file(spec)).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Field 3, after the parenthesised command name.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        Some(matches!(state, Some(s) if s != "Z" && s != "X"))
    }

    /// Removes the pid file of a postmaster that died (kill -9, OOM), once its children had a
    /// moment to notice and exit, so that the next start is not refused.
    fn clear_stale(spec: &EngineSpec) -> Result<(), EngineError> {
        std::thread::sleep(Duration::from_millis(1000));
        let f = Self::pid_file(spec);
        match std::fs::remove_file(&f) {
            Ok(()) => {
                tracing::info!(file = %f.display(), "removed the pid file of a dead postmaster");
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(process::io_err("removing", &f, e)),
        }
    }

    fn data_arg(spec: &EngineSpec) -> String {
        spec.data_dir.to_string_lossy().into_owned()
    }

    /// `pg_ctl start`, once.
    fn start_once(&self, spec: &EngineSpec) -> Result<(), EngineError> {
        let sock = spec.socket_dir.to_string_lossy();
        if sock.contains('\'') || sock.contains(' ') {
            return Err(EngineError::Other(format!(
                "the socket directory {sock} holds a quote or space"
            )));
        }
        let opts = format!("-p {} -k {sock} -c listen_addresses=127.0.0.1", spec.port);
        let log = spec.data_dir.join("server.log");
        let log = log.to_string_lossy();
        let data = Self::data_arg(spec);
        let res = self.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-l",
                &log,
                "-w",
                "-t",
                PG_CTL_WAIT_S,
                "-s",
                "-o",
                &opts,
                "start",
            ],
            None,
            &[],
        );
        res.map(|_| ()).map_err(|e| match e {
            EngineError::Command { command, stderr } => EngineError::Command {
                command,
                stderr: format!("{stderr}\n{}", log_tail(&spec.data_dir.join("server.log"))),
            },
            other => other,
        })
    }
}

/// The last lines of the server log (what a failed start says).
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

impl EngineDriver for Postgres {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    fn check_installed(&self) -> Result<(), EngineError> {
        self.install().map(|_| ())
    }

    fn init(
        &self,
        spec: &EngineSpec,
        admin_user: &str,
        admin_password: &str,
    ) -> Result<(), EngineError> {
        let i = self.install()?.clone();
        if spec.data_dir.exists() {
            return Err(EngineError::Other(format!(
                "data directory {} already exists",
                spec.data_dir.display()
            )));
        }
        let parent = spec
            .data_dir
            .parent()
            .ok_or_else(|| EngineError::Other("the data directory has no parent".into()))?;
        process::make_private_dir(parent, i.run_as.as_ref())?;
        process::make_private_dir(&spec.socket_dir, i.run_as.as_ref())?;
        if i.run_as.is_some() {
            process::make_traversable(parent)?;
            process::make_traversable(&spec.socket_dir)?;
        }
        let data = Self::data_arg(spec);
        // --no-sync: a half-written fresh cluster is thrown away, never repaired; everything after
        // initdb is written with the server's normal fsync.
        self.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            None,
            &[],
        )?;
        let conf = spec.data_dir.join("postgresql.conf");
        let mut text =
            std::fs::read_to_string(&conf).map_err(|e| process::io_err("reading", &conf, e))?;
        text.push_str(&format!("\ninclude_if_exists = '{SETTINGS_FILE}'\n"));
        process::write_private(&conf, &text, i.run_as.as_ref())?;
        self.apply_settings(spec)?;
        process::write_private(
            &spec.data_dir.join("pg_hba.conf"),
            &Self::hba_text(&[]),
            i.run_as.as_ref(),
        )?;
        self.start(spec)?;
        let mut sql = format!(
            "CREATE ROLE {} NOLOGIN;\nCREATE ROLE {} NOLOGIN;\nCREATE ROLE {} NOLOGIN;\n",
            ident(READONLY),
            ident(READWRITE),
            ident(ADMIN)
        );
        if admin_user == SUPERUSER {
            sql.push_str(&format!(
                "ALTER ROLE {} PASSWORD {};\n",
                ident(admin_user),
                literal(admin_password)?
            ));
        } else {
            sql.push_str(&format!(
                "CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {} IN ROLE {};\n",
                ident(admin_user),
                literal(admin_password)?,
                ident(ADMIN)
            ));
        }
        self.psql(spec, SUPERUSER, &sql, &[admin_password])?;
        Ok(())
    }

    fn start(&self, spec: &EngineSpec) -> Result<(), EngineError> {
        if self.is_running(spec) {
            return Ok(());
        }
        if Self::postmaster_alive(spec) == Some(false) {
            Self::clear_stale(spec)?;
        }
        // After a crash (kill -9 of the postmaster) its children take a moment to notice and exit;
        // until they have, a start finds the old shared memory in use. Retry a few times.
        let began = Instant::now();
        let mut last = None;
        for _ in 0..5 {
            match self.start_once(spec) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let text = e.to_string();
                    if text.contains("Address already in use") {
                        return Err(e);
                    }
                    last = Some(e);
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
        Err(last.unwrap_or(EngineError::NotReady {
            port: spec.port,
            waited_ms: began.elapsed().as_millis() as u64,
        }))
    }

    fn stop(&self, spec: &EngineSpec) -> Result<(), EngineError> {
        match Self::postmaster_alive(spec) {
            None => return Ok(()),
            Some(false) => return Self::clear_stale(spec),
            Some(true) => {}
        }
        let data = Self::data_arg(spec);
        match self.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-m",
                "fast",
                "-w",
                "-t",
                PG_CTL_WAIT_S,
                "-s",
                "stop",
            ],
            None,
            &[],
        ) {
            Ok(_) => Ok(()),
            // A stale pid file (the postmaster was killed): nothing runs.
            Err(EngineError::Command { stderr, .. })
                if stderr.contains("Is server running?") || stderr.contains("No such process") =>
            {
                Self::clear_stale(spec)
            }
            Err(e) => Err(e),
        }
    }

    fn is_running(&self, spec: &EngineSpec) -> bool {
        if Self::postmaster_alive(spec) != Some(true) {
            return false;
        }
        let host = spec.socket_dir.to_string_lossy().into_owned();
        let port = spec.port.to_string();
        self.run(
            "pg_isready",
            &["-q", "-h", &host, "-p", &port, "-t", "5"],
            None,
            &[],
        )
        .is_ok()
    }

    fn apply_settings(&self, spec: &EngineSpec) -> Result<(), EngineError> {
        let i = self.install()?;
        process::write_private(
            &spec.data_dir.join(SETTINGS_FILE),
            &Self::settings_text(spec),
            i.run_as.as_ref(),
        )
    }

    fn set_admin_password(
        &self,
        spec: &EngineSpec,
        admin_user: &str,
        password: &str,
    ) -> Result<(), EngineError> {
        let sql = format!(
            "ALTER ROLE {} PASSWORD {};",
            ident(admin_user),
            literal(password)?
        );
        self.psql(spec, SUPERUSER, &sql, &[password]).map(|_| ())
    }

    fn create_database(
        &self,
        spec: &EngineSpec,
        name: &str,
        charset: &str,
        _collation: &str,
    ) -> Result<(), EngineError> {
        let q = format!(
            "SELECT 1 FROM pg_database WHERE datname = {};",
            literal(name)?
        );
        if self.names(spec, SUPERUSER, &q)?.is_empty() {
            let sql = format!(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING {};",
                ident(name),
                literal(charset)?
            );
            self.psql(spec, SUPERUSER, &sql, &[])?;
        }
        self.sync_grants(spec, name)
    }

    fn drop_database(&self, spec: &EngineSpec, name: &str) -> Result<(), EngineError> {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE);", ident(name));
        self.psql(spec, SUPERUSER, &sql, &[]).map(|_| ())
    }

    fn upsert_user(&self, spec: &EngineSpec, user: &UserSpec) -> Result<(), EngineError> {
        let secrets: Vec<&str> = user.password.iter().map(String::as_str).collect();
        let password = match &user.password {
            Some(p) => format!(" PASSWORD {}", literal(p)?),
            None => String::new(),
        };
        let verb = if self.role_exists(spec, &user.name)? {
            "ALTER"
        } else {
            "CREATE"
        };
        let mut sql = format!("{verb} ROLE {} LOGIN{password};\n", ident(&user.name));
        let wanted: Vec<String> = user
            .roles
            .iter()
            .map(|r| match r {
                Role::ReadOnly => READONLY.to_string(),
                Role::ReadWrite => READWRITE.to_string(),
                Role::Admin => ADMIN.to_string(),
                Role::Named(n) => n.clone(),
            })
            .collect();
        for w in &wanted {
            if !self.role_exists(spec, w)? {
                sql.push_str(&format!("CREATE ROLE {} NOLOGIN;\n", ident(w)));
            }
        }
        let current = self.names(
            spec,
            SUPERUSER,
            &format!(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
                 JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = {};",
                literal(&user.name)?
            ),
        )?;
        for c in current.iter().filter(|c| !wanted.contains(c)) {
            sql.push_str(&format!(
                "REVOKE {} FROM {};\n",
                ident(c),
                ident(&user.name)
            ));
        }
        for w in wanted.iter().filter(|w| !current.contains(w)) {
            sql.push_str(&format!("GRANT {} TO {};\n", ident(w), ident(&user.name)));
        }
        self.psql(spec, SUPERUSER, &sql, &secrets)?;
        // The new login role may create tables: cover them with the default privileges.
        self.sync_all_grants(spec)
    }

    fn drop_user(&self, spec: &EngineSpec, name: &str) -> Result<(), EngineError> {
        if !self.role_exists(spec, name)? {
            return Ok(());
        }
        // Its tables stay (owned by the superuser from now on); its privileges go.
        let mut dbs = self.user_databases(spec)?;
        dbs.push(SUPERUSER.into());
        for db in dbs {
            let sql = format!(
                "REASSIGN OWNED BY {u} TO {s};\nDROP OWNED BY {u};",
                u = ident(name),
                s = ident(SUPERUSER)
            );
            self.psql(spec, &db, &sql, &[])?;
        }
        self.psql(
            spec,
            SUPERUSER,
            &format!("DROP ROLE IF EXISTS {};", ident(name)),
            &[],
        )
        .map(|_| ())
    }

    fn set_access_rules(&self, spec: &EngineSpec, rules: &[AccessRule]) -> Result<(), EngineError> {
        let i = self.install()?;
        process::write_private(
            &spec.data_dir.join("pg_hba.conf"),
            &Self::hba_text(rules),
            i.run_as.as_ref(),
        )?;
        if Self::pid_file(spec).exists() {
            let data = Self::data_arg(spec);
            self.run("pg_ctl", &["-D", &data, "-s", "reload"], None, &[])?;
            // The postmaster rereads pg_hba.conf on SIGHUP, asynchronously: give it a moment so
            // that the next login meets the new rules.
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    fn dump(&self, spec: &EngineSpec, dest: &Path) -> Result<u64, EngineError> {
        use std::os::unix::fs::OpenOptionsExt;
        let i = self.install()?;
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(|e| process::io_err("creating", dir, e))?;
        }
        let tmp = dest.with_extension("sql.partial");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| process::io_err("creating", &tmp, e))?;
        let host = spec.socket_dir.to_string_lossy().into_owned();
        let port = spec.port.to_string();
        let args = ["-h", host.as_str(), "-p", port.as_str(), "-U", SUPERUSER];
        let mut c = process::command(&i.bin.join("pg_dumpall"), i.run_as.as_ref());
        c.args(args);
        let res = process::run(
            c,
            &format!("pg_dumpall {}", args.join(" ")),
            None,
            Some(file),
            &[],
        );
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let f = std::fs::File::open(&tmp).map_err(|e| process::io_err("opening", &tmp, e))?;
        f.sync_all()
            .map_err(|e| process::io_err("syncing", &tmp, e))?;
        std::fs::rename(&tmp, dest).map_err(|e| process::io_err("renaming", &tmp, e))?;
        std::fs::metadata(dest)
            .map(|m| m.len())
            .map_err(|e| process::io_err("reading", dest, e))
    }

    fn restore(&self, spec: &EngineSpec, src: &Path) -> Result<(), EngineError> {
        let dump = std::fs::read(src).map_err(|e| process::io_err("reading", src, e))?;
        let host = spec.socket_dir.to_string_lossy().into_owned();
        let port = spec.port.to_string();
        let out = self.run(
            "psql",
            &[
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=0",
                "-h",
                &host,
                "-p",
                &port,
                "-U",
                SUPERUSER,
                "-d",
                SUPERUSER,
                "-f",
                "-",
            ],
            Some(&dump),
            &[],
        )?;
        let stderr = process::stderr_text(&out);
        let bad: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                l.contains("ERROR:") && !(l.contains("role \"") && l.contains("already exists"))
            })
            .collect();
        if !bad.is_empty() {
            return Err(EngineError::Command {
                command: format!("psql -f {}", src.display()),
                stderr: process::tail(&bad.join("\n"), process::STDERR_TAIL),
            });
        }
        self.sync_all_grants(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TierSettings;

    #[test]
    fn quoting_doubles_the_quote_characters() {
        assert_eq!(ident("app"), "\"app\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's").ok().as_deref(), Some("'it''s'"));
        assert_eq!(
            literal("back\\slash").ok().as_deref(),
            Some("'back\\slash'")
        );
        assert!(literal("nul\0").is_err());
    }

    #[test]
    fn access_rules_become_host_lines() {
        let hba = Postgres::hba_text(&[AccessRule {
            name: "office".into(),
            cidr: "10.0.0.0/8".into(),
        }]);
        assert!(
            hba.contains("host all all 10.0.0.0/8 scram-sha-256"),
            "{hba}"
        );
        assert!(!Postgres::hba_text(&[]).contains("host "));
    }

    #[test]
    fn settings_carry_the_tier() {
        let spec = EngineSpec {
            data_dir: "/d".into(),
            socket_dir: "/s".into(),
            port: 1,
            settings: TierSettings {
                buffer_mb: 16,
                max_connections: 30,
            },
        };
        let s = Postgres::settings_text(&spec);
        assert!(s.contains("shared_buffers = '16MB'") && s.contains("max_connections = 30"));
    }
}
