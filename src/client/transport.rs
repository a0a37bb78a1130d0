//! What went wrong when no HTTP answer arrived, in the words a user needs: connection refused,
//! DNS, TLS, timeout, and what to check for each.
//!
//! reqwest reports all of them as "error sending request for url (…)" with the cause buried in
//! its source chain; [`classify`] digs it out once, when the error is made, so the message,
//! the retry decision ([`TransportKind::max_retries`]) and the logs agree.

use std::fmt;

/// The cause of a transport failure, from the error's source chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Nothing listens at the endpoint's address (or a firewall rejects it).
    ConnectionRefused,
    /// The endpoint's host name does not resolve.
    Dns,
    /// The TLS handshake failed: untrusted certificate, or https:// to a plain-HTTP server.
    Tls,
    /// No answer within `request_timeout` (or the operation's deadline).
    Timeout,
    /// Anything else: connection reset, a dropped response, a protocol error.
    Other,
}

impl TransportKind {
    /// Retries worth spending on this cause, at most: a refused connection, an unknown host
    /// or a bad certificate is a configuration problem, not a blip, so waiting out the whole
    /// retry budget (24 s by default) would only hide it. A refused connection gets two
    /// quick retries (a server that is just starting), DNS one, TLS none.
    pub fn max_retries(self) -> Option<u32> {
        match self {
            TransportKind::ConnectionRefused => Some(2),
            TransportKind::Dns => Some(1),
            TransportKind::Tls => Some(0),
            TransportKind::Timeout | TransportKind::Other => None,
        }
    }

    /// What failed, as the start of a sentence.
    fn what(self) -> &'static str {
        match self {
            TransportKind::ConnectionRefused => "connection refused",
            TransportKind::Dns => "the host name does not resolve (DNS)",
            TransportKind::Tls => "the TLS handshake failed",
            TransportKind::Timeout => "no answer in time",
            TransportKind::Other => "the request failed",
        }
    }

    /// What the user should check.
    fn hint(self) -> &'static str {
        match self {
            TransportKind::ConnectionRefused => {
                "Check the provider's `endpoint` (or CLOUDDB_ENDPOINT): is clouddb-server running and \
                 listening at that address and port?"
            }
            TransportKind::Dns => {
                "Check the host name in the provider's `endpoint` (or CLOUDDB_ENDPOINT) for a typo."
            }
            TransportKind::Tls => {
                "Check that the provider's `endpoint` uses the scheme the server speaks (http:// or \
                 https://) and, for https://, that its certificate is trusted (SSL_CERT_FILE)."
            }
            TransportKind::Timeout => {
                "Check that the provider's `endpoint` is the CloudDB API and reachable, or raise \
                 `request_timeout`."
            }
            TransportKind::Other => {
                "Check the provider's `endpoint` and the network between Terraform and the API."
            }
        }
    }
}

/// A transport failure: the classified cause, the endpoint it was for, and the underlying
/// error's own words (without the URL, which is reported once, redacted).
#[derive(Debug)]
pub struct TransportFailure {
    pub kind: TransportKind,
    /// The endpoint (scheme, host, port) as it may be shown.
    pub endpoint: String,
    /// The innermost cause in the source chain (the OS's or the TLS library's words).
    pub cause: String,
}

impl fmt::Display for TransportFailure {
    /// `cannot reach the CloudDB API at E: connection refused (…). Check …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot reach the CloudDB API at {}: {}",
            self.endpoint,
            self.kind.what()
        )?;
        if !self.cause.is_empty() {
            write!(f, " ({})", self.cause)?;
        }
        write!(f, ". {}", self.kind.hint())
    }
}

/// Classifies `err` for `endpoint` by walking its source chain: an `io::Error` of kind
/// `ConnectionRefused`, resolver text ("dns error", "failed to lookup address"), rustls text
/// (certificates, handshakes, corrupt records), or reqwest's own timeout flag.
pub fn classify(err: &reqwest::Error, endpoint: &str) -> TransportFailure {
    let mut causes: Vec<String> = Vec::new();
    let mut refused = false;
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            refused = true;
        }
        let text = e.to_string();
        // Wrappers repeat their inner error's text; keep each wording once.
        if !text.is_empty() && !causes.iter().any(|c| c.contains(&text)) {
            causes.retain(|c| !text.contains(c.as_str()));
            causes.push(text);
        }
        source = e.source();
    }
    let all = causes.join(": ").to_ascii_lowercase();
    let kind = if refused || all.contains("connection refused") {
        TransportKind::ConnectionRefused
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        TransportKind::Dns
    } else if [
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "alert",
    ]
    .iter()
    .any(|w| all.contains(w))
    {
        TransportKind::Tls
    } else if err.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    };
    TransportFailure {
        kind,
        endpoint: endpoint.to_string(),
        cause: causes.pop().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed port is "connection refused", with the endpoint and what to check.
    #[tokio::test]
    async fn refused_names_endpoint_and_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let err = reqwest::get(format!("http://{addr}/v1"))
            .await
            .expect_err("refused");
        let f = classify(&err, &format!("http://{addr}"));
        assert_eq!(f.kind, TransportKind::ConnectionRefused);
        let text = f.to_string();
        assert!(
            text.starts_with(&format!(
                "cannot reach the CloudDB API at http://{addr}: connection refused ("
            )),
            "{text}"
        );
        assert!(text.contains("is clouddb-server running"), "{text}");
    }

    /// https:// to a plain-TCP server that answers garbage is a TLS failure.
    #[tokio::test]
    async fn https_to_plain_http_is_tls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                use tokio::io::AsyncWriteExt;
                let _ = s
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let err = reqwest::get(format!("https://{addr}/v1"))
            .await
            .expect_err("tls");
        let f = classify(&err, &format!("https://{addr}"));
        assert_eq!(f.kind, TransportKind::Tls, "{f}");
        assert!(f.to_string().contains("http:// or https://"), "{f}");
    }
}
