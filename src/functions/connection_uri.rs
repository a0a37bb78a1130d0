//! `provider::clouddb::connection_uri(engine, host, port, database, user)`: the URI a client library
//! connects with, `postgresql://USER@HOST:PORT/DATABASE` or `mysql://USER@HOST:PORT/DATABASE`.
//!
//! The user (userinfo) and the database (one path segment) are percent-encoded byte by byte,
//! keeping only RFC 3986's unreserved characters, so `@`, `:`, `/`, `?`, `#`, `%` and non-ASCII
//! never change the URI's structure. An IPv6 host goes in brackets (a zone id as `%25zone`, RFC
//! 6874); any other host must already be a valid DNS name or IPv4 address: a host is not data to
//! escape, and a typo there should fail here rather than at connect time. No password goes into
//! the URI: it would end up in outputs and state.

use std::net::Ipv6Addr;

use async_trait::async_trait;
use tfplugin::provider::{Context, Function, FunctionError, Parameter, Signature};
use tfplugin::value::{Type, Value};

use super::arg_error;

/// The engines and the URI scheme each uses.
const SCHEMES: &[(&str, &str)] = &[("mysql", "mysql"), ("postgres", "postgresql")];

const ENGINE: i64 = 0;
const HOST: i64 = 1;
const PORT: i64 = 2;
const DATABASE: i64 = 3;
const USER: i64 = 4;

#[derive(Debug, Default)]
pub struct ConnectionUri;

fn param(name: &str, ty: Type, description: &str) -> Parameter {
    let mut p = Parameter::new(name, ty);
    p.description = description.into();
    p
}

#[async_trait]
impl Function for ConnectionUri {
    fn name(&self) -> &'static str {
        "connection_uri"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                param("engine", Type::String, "`mysql` or `postgres`."),
                param(
                    "host",
                    Type::String,
                    "A DNS name, an IPv4 address or an IPv6 address (bracketed in the result), e.g. `clouddb_instance.x.endpoint_host`.",
                ),
                param("port", Type::Number, "A whole number from 1 to 65535."),
                param(
                    "database",
                    Type::String,
                    "The database name (percent-encoded in the result).",
                ),
                param(
                    "user",
                    Type::String,
                    "The user name (percent-encoded in the result). No password goes into the URI.",
                ),
            ],
            variadic: None,
            return_type: Type::String,
            summary: "Builds a database connection URI.".into(),
            description: "Returns `postgresql://USER@HOST:PORT/DATABASE` for `postgres` and \
                `mysql://USER@HOST:PORT/DATABASE` for `mysql`. The user and the database are \
                percent-encoded (everything but letters, digits, `-`, `.`, `_` and `~`); an IPv6 \
                host is put in brackets. An unknown engine, an invalid host, a port outside \
                1–65535 or an empty database or user is an error naming that argument."
                .into(),
            deprecation: None,
        }
    }

    async fn call(&self, _ctx: &Context, args: Vec<Value>) -> Result<Value, FunctionError> {
        let text = |i: i64| {
            args.get(i as usize)
                .and_then(Value::as_str)
                .ok_or_else(|| arg_error(i, "must be a string"))
        };
        let port = args
            .get(PORT as usize)
            .ok_or_else(|| arg_error(PORT, "is missing"))?;
        connection_uri(
            text(ENGINE)?,
            text(HOST)?,
            port,
            text(DATABASE)?,
            text(USER)?,
        )
        .map(Value::string)
    }
}

/// The URI, or the error naming the first bad argument.
pub fn connection_uri(
    engine: &str,
    host: &str,
    port: &Value,
    database: &str,
    user: &str,
) -> Result<String, FunctionError> {
    let scheme = SCHEMES
        .iter()
        .find(|(e, _)| *e == engine)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            let known: Vec<String> = SCHEMES.iter().map(|(e, _)| format!("{e:?}")).collect();
            arg_error(
                ENGINE,
                format!("unknown engine {engine:?}; expected {}", known.join(" or ")),
            )
        })?;
    let host = uri_host(host)?;
    let port = match port.as_i64() {
        Some(p) if (1..=65535).contains(&p) => p,
        _ => {
            let shown = port
                .as_number()
                .map(ToString::to_string)
                .unwrap_or_else(|| port.kind().to_string());
            return Err(arg_error(
                PORT,
                format!("must be a whole number from 1 to 65535, got {shown}"),
            ));
        }
    };
    if database.is_empty() {
        return Err(arg_error(DATABASE, "must not be empty"));
    }
    if user.is_empty() {
        return Err(arg_error(USER, "must not be empty"));
    }
    Ok(format!(
        "{scheme}://{}@{host}:{port}/{}",
        percent_encode(user),
        percent_encode(database)
    ))
}

/// The host as it goes into the URI: IPv6 bracketed, DNS names and IPv4 as they are.
fn uri_host(host: &str) -> Result<String, FunctionError> {
    // Accept an IPv6 address already in brackets, as some tools print them.
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let (addr, zone) = match bare.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (bare, None),
    };
    if addr.parse::<Ipv6Addr>().is_ok() {
        return match zone {
            None => Ok(format!("[{addr}]")),
            Some(z) if !z.is_empty() => Ok(format!("[{addr}%25{}]", percent_encode(z))),
            Some(_) => Err(arg_error(HOST, "an IPv6 zone id after % must not be empty")),
        };
    }
    let dns_name = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if dns_name {
        return Ok(host.to_string());
    }
    let shown: String = host.chars().take(80).collect();
    Err(arg_error(
        HOST,
        format!("{shown:?} is neither a DNS name nor an IPv4 or IPv6 address"),
    ))
}

/// Percent-encodes every byte but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::value::Number;

    fn uri(
        engine: &str,
        host: &str,
        port: i64,
        db: &str,
        user: &str,
    ) -> Result<String, FunctionError> {
        connection_uri(engine, host, &Value::int(port), db, user)
    }

    #[test]
    fn builds_uris_for_both_engines() {
        assert_eq!(
            uri(
                "postgres",
                "db1.acc.clouddb.internal",
                5432,
                "app",
                "reader"
            )
            .ok()
            .as_deref(),
            Some("postgresql://reader@db1.acc.clouddb.internal:5432/app")
        );
        assert_eq!(
            uri("mysql", "10.0.0.7", 3306, "orders", "app_rw")
                .ok()
                .as_deref(),
            Some("mysql://app_rw@10.0.0.7:3306/orders")
        );
    }

    #[test]
    fn encodes_user_and_database_and_brackets_ipv6() {
        assert_eq!(
            uri("postgres", "::1", 5432, "my db/1", "al@ice:x")
                .ok()
                .as_deref(),
            Some("postgresql://al%40ice%3Ax@[::1]:5432/my%20db%2F1")
        );
        assert_eq!(
            uri("mysql", "[2001:db8::5]", 3306, "ünï", "u%")
                .ok()
                .as_deref(),
            Some("mysql://u%25@[2001:db8::5]:3306/%C3%BCn%C3%AF")
        );
        assert_eq!(
            uri("mysql", "fe80::1%eth0", 3306, "d", "u").ok().as_deref(),
            Some("mysql://u@[fe80::1%25eth0]:3306/d")
        );
        assert_eq!(
            uri("mysql", "h", 1, "a-b.c_d~e", "x").ok().as_deref(),
            Some("mysql://x@h:1/a-b.c_d~e"),
            "unreserved characters stay"
        );
    }

    fn arg(r: Result<String, FunctionError>) -> (Option<i64>, String) {
        let e = r.expect_err("an error");
        (e.argument, e.text)
    }

    #[test]
    fn errors_name_the_argument_by_position() {
        let (i, text) = arg(uri("oracle", "h", 1, "d", "u"));
        assert_eq!(i, Some(0));
        assert!(
            text.contains("\"oracle\"") && text.contains("\"mysql\" or \"postgres\""),
            "{text}"
        );
        assert_eq!(
            arg(uri("Postgres", "h", 1, "d", "u")).0,
            Some(0),
            "engines are lower case"
        );
        for host in [
            "", "bad host", "a/b", "user@h", "h:5432", "-h", "[::1", "fe80::1%",
        ] {
            assert_eq!(arg(uri("mysql", host, 1, "d", "u")).0, Some(1), "{host:?}");
        }
        for port in [0, -1, 65536, 100_000] {
            let (i, text) = arg(uri("mysql", "h", port, "d", "u"));
            assert_eq!(i, Some(2));
            assert!(text.contains(&port.to_string()), "{text}");
        }
        let half = Value::Number(Number::parse("3306.5").expect("number"));
        let (i, text) = arg(connection_uri("mysql", "h", &half, "d", "u"));
        assert_eq!(i, Some(2));
        assert!(text.contains("3306.5"), "{text}");
        assert_eq!(arg(uri("mysql", "h", 1, "", "u")).0, Some(3));
        assert_eq!(arg(uri("mysql", "h", 1, "d", "")).0, Some(4));
    }

    #[test]
    fn the_signature_matches_the_call() {
        let sig = ConnectionUri.signature();
        let names: Vec<&str> = sig.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["engine", "host", "port", "database", "user"]);
        assert_eq!(sig.parameters[PORT as usize].ty, Type::Number);
        assert!(
            sig.parameters
                .iter()
                .all(|p| !p.allow_null && !p.allow_unknown)
        );
        assert_eq!(sig.return_type, Type::String);
        let got = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(ConnectionUri.call(
                &Context::background(),
                vec![
                    Value::string("postgres"),
                    Value::string("h"),
                    Value::int(5432),
                    Value::string("d"),
                    Value::string("u"),
                ],
            ));
        assert_eq!(got, Ok(Value::string("postgresql://u@h:5432/d")));
    }
}
