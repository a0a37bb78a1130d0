//! go-plugin handshake: magic cookie, protocol version negotiation and the
//! single handshake line on stdout.

use std::io::Write;

use base64::Engine;

/// Environment variable holding the go-plugin magic cookie; without the right value the
/// binary was not launched by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The cookie value Terraform sets for protocol 5 and 6 providers (fixed by go-plugin's
/// `HandshakeConfig` in Terraform; not a secret).
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin core protocol version (field 1 of the handshake line); always 1.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The application protocol we speak (field 2): tfplugin6 only, so Terraform ≥ 1.0.
pub const APP_PROTOCOL_VERSION: u32 = 6;

/// Message printed to stderr when the binary is run by hand (go-plugin's exact wording).
pub const NOT_A_PLUGIN_MESSAGE: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically";

/// Why the process was not started by a compatible Terraform.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// `TF_PLUGIN_MAGIC_COOKIE` missing or different; displays [`NOT_A_PLUGIN_MESSAGE`].
    #[error("{NOT_A_PLUGIN_MESSAGE}")]
    NotAPlugin,
    /// `PLUGIN_PROTOCOL_VERSIONS` is set but does not list 6 (e.g. Terraform 0.12–0.15,
    /// which offers only 5).
    #[error(
        "this provider speaks plugin protocol 6 only, but the client offered PLUGIN_PROTOCOL_VERSIONS={offered:?}; \
         use Terraform v1.0 or newer"
    )]
    IncompatibleVersion {
        /// The raw value offered by the client, untrimmed.
        offered: String,
    },
}

/// Checks the magic cookie value (`None` = unset): `Ok` only for exactly
/// [`MAGIC_COOKIE_VALUE`] (no trimming).
///
/// # Errors
/// [`HandshakeError::NotAPlugin`] otherwise.
pub fn check_magic_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    match value {
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(HandshakeError::NotAPlugin),
    }
}

/// Negotiates the app protocol version from `PLUGIN_PROTOCOL_VERSIONS`
/// (comma separated, any order, whitespace and unparsable entries ignored). Unset means the
/// client did not say; go-plugin then assumes the server's version. Always returns 6 on success.
///
/// # Errors
/// [`HandshakeError::IncompatibleVersion`] when the value is set (even empty) and lists no 6.
pub fn negotiate_version(value: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(raw) = value else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    let offers_six = raw
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == APP_PROTOCOL_VERSION);
    if offers_six {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::IncompatibleVersion {
            offered: raw.to_string(),
        })
    }
}

/// Checks both handshake variables from the process environment (a non-UTF-8 value counts
/// as unset): the cookie first, then the version. Returns the negotiated version (6).
///
/// # Errors
/// As [`check_magic_cookie`] and [`negotiate_version`].
pub fn check_env() -> Result<u32, HandshakeError> {
    let cookie = std::env::var(MAGIC_COOKIE_KEY).ok();
    check_magic_cookie(cookie.as_deref())?;
    let versions = std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok();
    negotiate_version(versions.as_deref())
}

/// Formats the go-plugin handshake line `1|6|<network>|<address>|grpc|<cert>\n`. `cert_der` is
/// the server's leaf certificate when AutoMTLS is on; it is encoded as base64 standard alphabet
/// without padding (Go `RawStdEncoding`); `None` leaves the last field empty (plaintext).
/// `network` and `address` are not escaped, so they must not contain `|` or newlines.
pub fn handshake_line(network: &str, address: &str, cert_der: Option<&[u8]>) -> String {
    let cert = cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{network}|{address}|grpc|{cert}\n")
}

/// Writes the handshake line to stdout and flushes it, so Terraform can connect at once.
/// Must be the only stdout write of the process.
///
/// # Errors
/// The I/O error of the write or flush (e.g. stdout closed).
pub fn print_handshake(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie() {
        assert!(check_magic_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert_eq!(check_magic_cookie(None), Err(HandshakeError::NotAPlugin));
        assert_eq!(
            check_magic_cookie(Some("nope")),
            Err(HandshakeError::NotAPlugin)
        );
    }

    #[test]
    fn versions() {
        assert_eq!(negotiate_version(Some("5,6")), Ok(6));
        assert_eq!(negotiate_version(Some("6,5")), Ok(6));
        assert_eq!(negotiate_version(Some(" 6 ")), Ok(6));
        assert_eq!(negotiate_version(None), Ok(6));
        assert!(negotiate_version(Some("4,5")).is_err());
        assert!(negotiate_version(Some("")).is_err());
    }

    #[test]
    fn line() {
        assert_eq!(
            handshake_line("unix", "/tmp/plugin1", None),
            "1|6|unix|/tmp/plugin1|grpc|\n"
        );
        let l = handshake_line("unix", "/tmp/p", Some(&[0xff, 0xfe, 0xfd, 0xfc]));
        assert_eq!(l, "1|6|unix|/tmp/p|grpc|//79/A\n");
    }
}
