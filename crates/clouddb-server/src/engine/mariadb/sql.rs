//! SQL through the `mariadb` command-line client over the server's Unix socket, and the quoting
//! that keeps names and passwords out of the statement's syntax.
//!
//! The client connects as the OS user through `unix_socket` authentication, so the driver holds no
//! password of its own. Statements go on the client's stdin, never on its command line (which any
//! local user can read in /proc). Every batch starts by fixing the session's `sql_mode`: string
//! literals are escaped for backslash escapes being on, and an admin's `SET GLOBAL sql_mode =
//! 'NO_BACKSLASH_ESCAPES'` must not turn a quoted password into SQL.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::programs::failure;
use crate::engine::EngineError;

/// The session prologue of every batch (MariaDB 10.11's default mode, stated explicitly).
pub(super) const PROLOGUE: &str = "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION';\nSET NAMES utf8mb4;\n";

/// A quoted identifier: backticks, with backticks inside doubled.
pub(super) fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A quoted string literal, valid under [`PROLOGUE`]'s mode (backslash escapes on). Escapes what
/// `mysql_real_escape_string` escapes.
pub(super) fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An account, `'user'@'host'`.
pub(super) fn account(user: &str, host: &str) -> String {
    format!("{}@{}", literal(user), literal(host))
}

/// An account as SHOW GRANTS / SHOW CREATE USER print it, `` `user`@`host` ``.
pub(super) fn shown_account(user: &str, host: &str) -> String {
    format!("{}@{}", ident(user), ident(host))
}

/// A result row: the columns of one line of batch output, unescaped.
pub(super) type Row = Vec<String>;

/// The `mariadb` client bound to one server's socket.
#[derive(Debug, Clone, Copy)]
pub(super) struct Client<'a> {
    pub program: &'a Path,
    pub socket: &'a Path,
    pub user: &'a str,
}

impl Client<'_> {
    fn command(&self) -> Command {
        let mut cmd = Command::new(self.program);
        // --no-defaults first: no /etc/mysql or ~/.my.cnf option may redirect the client.
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket.display()))
            .arg(format!("--user={}", self.user))
            .arg("--protocol=SOCKET")
            .arg("--default-character-set=utf8mb4")
            .args(["--batch", "--skip-column-names"]);
        cmd
    }

    fn display(&self) -> String {
        format!(
            "mariadb --socket={} --user={} (SQL on stdin)",
            self.socket.display(),
            self.user
        )
    }

    /// Runs `sql` (after [`PROLOGUE`]) and returns the rows it printed.
    pub fn query(&self, sql: &str) -> Result<Vec<Row>, EngineError> {
        self.query_secret(sql, &[])
    }

    /// [`Client::query`] for SQL holding `secrets` (passwords): an error message masks them.
    pub fn query_secret(&self, sql: &str, secrets: &[&str]) -> Result<Vec<Row>, EngineError> {
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| EngineError::Other(format!("{}: cannot run: {e}", self.display())))?;
        let script = format!("{PROLOGUE}{sql}\n");
        // Write from a thread: a large batch may fill the pipe while the client is blocked on
        // writing its own output.
        let writer = child.stdin.take().map(|mut stdin| {
            std::thread::spawn(move || {
                // A write error means the client exited early; its status says why.
                let _ = stdin.write_all(script.as_bytes());
            })
        });
        let out = child
            .wait_with_output()
            .map_err(|e| EngineError::Other(format!("{}: {e}", self.display())))?;
        if let Some(w) = writer {
            let _ = w.join();
        }
        if !out.status.success() {
            let literals: Vec<String> = secrets.iter().map(|s| literal(s)).collect();
            let mut masks: Vec<&str> = secrets.to_vec();
            masks.extend(literals.iter().map(String::as_str));
            return Err(failure(&self.display(), &out, &masks));
        }
        Ok(parse_batch(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Feeds the file at `path` to the client as its whole input (a dump being restored).
    pub fn load(&self, path: &Path) -> Result<(), EngineError> {
        let file = std::fs::File::open(path)
            .map_err(|e| EngineError::Other(format!("opening {}: {e}", path.display())))?;
        let display = format!("{} < {}", self.display(), path.display());
        let out = self
            .command()
            .stdin(Stdio::from(file))
            .output()
            .map_err(|e| EngineError::Other(format!("{display}: cannot run: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(failure(&display, &out, &[]))
        }
    }
}

/// Batch output: one row a line, columns split by tabs, `\t \n \\ \0` escaped inside values.
pub(super) fn parse_batch(out: &str) -> Vec<Row> {
    out.lines()
        .map(|line| line.split('\t').map(unescape).collect())
        .collect()
}

fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_double_their_backticks() {
        assert_eq!(ident("app"), "`app`");
        assert_eq!(ident("a`b"), "`a``b`");
    }

    #[test]
    fn literals_escape_quotes_backslashes_and_controls() {
        assert_eq!(literal("pw"), "'pw'");
        assert_eq!(literal(r"it's\x"), r"'it\'s\\x'");
        assert_eq!(literal("a\nb\0c\u{1a}\""), r#"'a\nb\0c\Z\"'"#);
    }

    #[test]
    fn accounts_quote_user_and_host() {
        assert_eq!(
            account("bob", "10.0.0.0/255.0.0.0"),
            "'bob'@'10.0.0.0/255.0.0.0'"
        );
        assert_eq!(shown_account("bob", "localhost"), "`bob`@`localhost`");
    }

    #[test]
    fn batch_output_is_split_and_unescaped() {
        let rows = parse_batch("a\tb\\tc\nline\\nbreak\tback\\\\slash\n");
        assert_eq!(
            rows,
            vec![
                vec!["a".to_string(), "b\tc".to_string()],
                vec!["line\nbreak".to_string(), "back\\slash".to_string()],
            ]
        );
    }
}
