//! The server's option file (`my.cnf` in the data directory), generated from the spec.
//!
//! mariadbd reads only this file (`--defaults-file` is its first argument), so nothing in
//! /etc/mysql changes an instance. The file is rewritten at every start and by `apply_settings`:
//! the spec is the truth, and a port or tier change takes effect at the next start.

use super::layout::{Layout, option_value};
use crate::engine::{EngineError, EngineSpec};

/// The redo log size: MariaDB's default (96 MiB) would be most of a small instance's disk
/// footprint; 16 MiB is plenty for a test or development database.
const INNODB_LOG_FILE_MB: u32 = 16;

/// The option file's text for `spec`.
pub(super) fn render(spec: &EngineSpec, layout: &Layout) -> Result<String, EngineError> {
    let s = spec.settings;
    let datadir = option_value(&layout.data_dir)?;
    let socket = option_value(&layout.socket)?;
    let pid = option_value(&layout.pid_file)?;
    let log = option_value(&layout.log)?;
    let tmp = option_value(&layout.tmp_dir)?;
    Ok(format!(
        "# Written by clouddb-server's MariaDB engine driver: it is rewritten at every start.\n\
         [mariadbd]\n\
         datadir = {datadir}\n\
         port = {port}\n\
         socket = {socket}\n\
         bind-address = 127.0.0.1\n\
         pid-file = {pid}\n\
         log-error = {log}\n\
         tmpdir = {tmp}\n\
         # Host patterns are IP addresses and netmasks (the access rules): no DNS lookups.\n\
         skip-name-resolve\n\
         innodb_buffer_pool_size = {buffer}M\n\
         max_connections = {maxconn}\n\
         innodb_log_file_size = {INNODB_LOG_FILE_MB}M\n\
         # MariaDB's defaults size the MyISAM key cache (128M), the Aria page cache (128M: the\n\
         # system tables and on-disk temporary tables are Aria) and the redo log buffer (16M)\n\
         # for a dedicated machine; they alone were 40 MB of an idle server's 100 MB RSS.\n\
         key_buffer_size = 8M\n\
         aria_pagecache_buffer_size = 8M\n\
         innodb_log_buffer_size = 2M\n\
         # A fresh instance starts cold anyway; skipping the dump makes stop quicker.\n\
         innodb_buffer_pool_dump_at_shutdown = OFF\n\
         innodb_buffer_pool_load_at_startup = OFF\n\
         character-set-server = utf8mb4\n\
         collation-server = utf8mb4_general_ci\n\
         local-infile = 0\n",
        port = spec.port,
        buffer = s.buffer_mb.max(8),
        maxconn = s.max_connections.max(1),
    ))
}

/// Writes the option file (through a temporary file and a rename: a crash leaves the old or the
/// new file, never half of one).
pub(super) fn write(spec: &EngineSpec, layout: &Layout) -> Result<(), EngineError> {
    let text = render(spec, layout)?;
    // Every start writes the file, so the temporary directory it names exists at every start
    // (the socket directory may be under /tmp, which a reboot empties).
    std::fs::create_dir_all(&layout.tmp_dir)
        .map_err(|e| EngineError::Other(format!("creating {}: {e}", layout.tmp_dir.display())))?;
    super::state::write_atomically(&layout.my_cnf, text.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine::TierSettings;

    #[test]
    fn the_option_file_carries_the_spec() {
        let spec = EngineSpec {
            data_dir: "/data/i1".into(),
            socket_dir: "/run/c".into(),
            port: 40002,
            settings: TierSettings {
                buffer_mb: 256,
                max_connections: 75,
            },
        };
        let text = render(&spec, &Layout::new(&spec).unwrap()).unwrap();
        for line in [
            "[mariadbd]",
            "datadir = /data/i1",
            "port = 40002",
            "socket = /run/c/mariadb.40002.sock",
            "bind-address = 127.0.0.1",
            "pid-file = /data/i1/mariadbd.pid",
            "innodb_buffer_pool_size = 256M",
            "max_connections = 75",
            "skip-name-resolve",
            "tmpdir = /run/c/mariadb.40002.tmp",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
