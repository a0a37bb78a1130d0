//! Launching a provider binary the way Terraform does: go-plugin environment, a
//! fresh ECDSA P-521 client certificate marked CA (like Terraform's), the
//! handshake line on stdout, then gRPC over the unix socket (or tcp) with mutual
//! TLS, trusting only the certificate from field 6.
//!
//! ```no_run
//! # async fn f() -> Result<(), tfplugin::testing::TestClientError> {
//! use tfplugin::testing::ProviderProcess;
//! let mut p = ProviderProcess::launch("target/debug/terraform-provider-clouddb", &[]).await?;
//! let schema = p.provider.get_provider_schema(tfplugin::proto::tfplugin6::get_provider_schema::Request {}).await;
//! let exit = p.shutdown().await?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint, Uri};

use crate::proto::health::health_client::HealthClient;
use crate::proto::plugin::grpc_broker_client::GrpcBrokerClient;
use crate::proto::plugin::grpc_controller_client::GrpcControllerClient;
use crate::proto::plugin::grpc_stdio_client::GrpcStdioClient;
use crate::proto::tfplugin6::provider_client::ProviderClient;
use crate::server::handshake::MAGIC_COOKIE_VALUE;
use crate::server::tls::{self, Identity, TlsError};
use crate::server::{Conn, MAX_MESSAGE_SIZE};

/// Errors of the test client. Errors of individual RPCs are not here: they are the
/// `tonic::Status` of each call.
#[derive(Debug, thiserror::Error)]
pub enum TestClientError {
    /// The binary could not be started (e.g. not found) or waited for, or stdout failed.
    #[error("provider process: {0}")]
    Process(#[from] std::io::Error),
    /// The handshake line was missing (the process closed stdout) or malformed.
    #[error("bad handshake line {line:?}: {reason}")]
    Handshake {
        /// The line read, newline included (empty when stdout closed first).
        line: String,
        /// What is wrong (from [`parse_handshake`]).
        reason: String,
    },
    /// No handshake line within [`LaunchOptions::handshake_timeout`].
    #[error("no handshake line within {0:?}")]
    Timeout(Duration),
    /// Generating the client certificate failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The client TLS configuration was refused by rustls.
    #[error("rustls: {0}")]
    Rustls(#[from] rustls::Error),
    /// gRPC channel set-up failed (connection errors surface later, at the first RPC).
    #[error("gRPC channel: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The process did not exit within the given time (it keeps running).
    #[error("provider did not exit within {0:?} of Shutdown")]
    NoExit(Duration),
}

/// How the client authenticates (the first is what Terraform does); the others exist to
/// test that the provider refuses or allows what Terraform's peers would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// AutoMTLS like Terraform: a P-521 CA-marked cert in `PLUGIN_CLIENT_CERT`, presented in
    /// the TLS handshake; the server certificate from the handshake line is pinned.
    Terraform,
    /// `PLUGIN_CLIENT_CERT` set, but the client presents no certificate: every RPC must fail.
    NoClientCert,
    /// `PLUGIN_CLIENT_CERT` set, but the client presents a different certificate: every RPC
    /// must fail.
    OtherCert,
    /// No `PLUGIN_CLIENT_CERT` (as with `TF_DISABLE_PLUGIN_TLS`): plaintext h2c, even if the
    /// handshake line carries a certificate.
    Plaintext,
}

/// Options for [`ProviderProcess::launch_with`]; the default is what Terraform does, with a
/// 60 s handshake timeout.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// Client authentication mode (default [`ClientAuth::Terraform`]).
    pub auth: ClientAuth,
    /// Extra environment: `Some` sets, `None` removes, applied in order after the defaults
    /// (magic cookie, `PLUGIN_PROTOCOL_VERSIONS=5,6`, ports 10000–25000, client cert), so it
    /// can override or remove any of them. The rest of the test's environment is inherited.
    pub env: Vec<(String, Option<String>)>,
    /// Command-line arguments (Terraform passes none).
    pub args: Vec<String>,
    /// How long to wait for the handshake line on stdout.
    pub handshake_timeout: Duration,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        Self {
            auth: ClientAuth::Terraform,
            env: Vec::new(),
            args: Vec::new(),
            handshake_timeout: Duration::from_secs(60),
        }
    }
}

/// The parsed go-plugin handshake line `core|app|network|address|protocol|cert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Field 1, the go-plugin core protocol version (1).
    pub core_version: u32,
    /// Field 2, the application protocol version (6 for tfplugin6).
    pub app_version: u32,
    /// `unix` or `tcp` (anything else is rejected by [`parse_handshake`]).
    pub network: String,
    /// Socket path or host:port, as printed (not checked).
    pub address: String,
    /// Field 5, as printed (`grpc` from a tfplugin6 server; not checked).
    pub protocol: String,
    /// Server certificate DER from field 6; `None` when the field has 50 characters or fewer
    /// (go-plugin's rule for "no certificate", i.e. plaintext).
    pub server_cert: Option<Vec<u8>>,
}

/// Parses a handshake line the way go-plugin's client does, but strictly: exactly six
/// `|`-separated fields after trimming, numeric versions, network `unix` or `tcp`, and field 6
/// unpadded standard base64 when longer than 50 characters. Versions are not compared.
///
/// # Errors
/// A message saying which field is wrong.
pub fn parse_handshake(line: &str) -> Result<Handshake, String> {
    let parts: Vec<&str> = line.trim().split('|').collect();
    if parts.len() != 6 {
        return Err(format!("expected 6 fields, got {}", parts.len()));
    }
    let num = |s: &str, what: &str| {
        s.parse::<u32>()
            .map_err(|_| format!("{what} is not a number: {s:?}"))
    };
    let core_version = num(parts[0], "core version")?;
    let app_version = num(parts[1], "app version")?;
    let network = parts[2].to_string();
    if network != "unix" && network != "tcp" {
        return Err(format!("unknown network {network:?}"));
    }
    let server_cert = if parts[5].len() > 50 {
        Some(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .map_err(|e| format!("server cert: {e}"))?,
        )
    } else {
        None
    };
    Ok(Handshake {
        core_version,
        app_version,
        network,
        address: parts[3].to_string(),
        protocol: parts[4].to_string(),
        server_cert,
    })
}

/// A running provider process with connected clients. Dropping it kills the child (SIGKILL);
/// call [`ProviderProcess::shutdown`] to stop it the way Terraform does. Its stdout after the
/// handshake line and its stderr are captured in the background.
#[derive(Debug)]
pub struct ProviderProcess {
    child: Child,
    /// The handshake the provider printed, parsed.
    pub handshake: Handshake,
    /// The raw handshake line, trailing whitespace and newline removed.
    pub handshake_line: String,
    /// `tfplugin6.Provider` client, with the same 256 MiB message limits as the server.
    pub provider: ProviderClient<Channel>,
    /// `plugin.GRPCController` client (`Shutdown`).
    pub controller: GrpcControllerClient<Channel>,
    /// `plugin.GRPCStdio` client.
    pub stdio: GrpcStdioClient<Channel>,
    /// `plugin.GRPCBroker` client.
    pub broker: GrpcBrokerClient<Channel>,
    /// `grpc.health.v1.Health` client.
    pub health: HealthClient<Channel>,
    /// The shared, lazily connecting channel (for other clients); it reconnects on demand.
    pub channel: Channel,
    alpn: Arc<Mutex<Option<Vec<u8>>>>,
    stdout_rest: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// The client certificate Terraform would generate: ECDSA P-521, self-signed,
/// `O=HashiCorp, CN=localhost`, SAN localhost, CA:TRUE, EKU client+server; a new key per call.
///
/// # Errors
/// As [`tls::self_signed`].
pub fn terraform_client_identity() -> Result<Identity, TlsError> {
    tls::self_signed(&rcgen::PKCS_ECDSA_P521_SHA512)
}

impl ProviderProcess {
    /// Launches like Terraform (AutoMTLS with a P-521 client cert) with extra env set; see
    /// [`ProviderProcess::launch_with`].
    ///
    /// # Errors
    /// As [`ProviderProcess::launch_with`].
    pub async fn launch(
        binary: impl AsRef<Path>,
        env: &[(&str, &str)],
    ) -> Result<Self, TestClientError> {
        let opts = LaunchOptions {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect(),
            ..LaunchOptions::default()
        };
        Self::launch_with(binary, opts).await
    }

    /// Launches `binary` with explicit options, reads the handshake line and builds the
    /// clients. Returns once the line is read: the connection is made lazily, so a refused TLS
    /// handshake shows up as an error of the first RPC, not here.
    ///
    /// # Errors
    /// The process cannot be spawned, no (or a malformed) handshake line within the timeout,
    /// or client TLS set-up fails; the child is killed then.
    pub async fn launch_with(
        binary: impl AsRef<Path>,
        opts: LaunchOptions,
    ) -> Result<Self, TestClientError> {
        let env_cert = terraform_client_identity()?;
        let presented = match opts.auth {
            ClientAuth::Terraform => Some(Identity {
                cert_der: env_cert.cert_der.clone(),
                key_der: env_cert.key_der.clone_key(),
            }),
            ClientAuth::OtherCert => Some(terraform_client_identity()?),
            ClientAuth::NoClientCert | ClientAuth::Plaintext => None,
        };

        let mut cmd = Command::new(binary.as_ref());
        cmd.args(&opts.args)
            .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env_remove("PLUGIN_CLIENT_CERT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if opts.auth != ClientAuth::Plaintext {
            cmd.env(
                "PLUGIN_CLIENT_CERT",
                tls::cert_to_pem(env_cert.cert_der.as_ref()),
            );
        }
        for (k, v) in &opts.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let mut child = cmd.spawn()?;

        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(err) = child.stderr.take() {
            capture(err, stderr.clone());
        }
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| TestClientError::Handshake {
                line: String::new(),
                reason: "no stdout pipe".into(),
            })?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        match tokio::time::timeout(opts.handshake_timeout, reader.read_line(&mut line)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => return Err(TestClientError::Timeout(opts.handshake_timeout)),
        }
        let handshake = parse_handshake(&line).map_err(|reason| TestClientError::Handshake {
            line: line.clone(),
            reason,
        })?;
        let stdout_rest = Arc::new(Mutex::new(Vec::new()));
        capture(reader, stdout_rest.clone());

        let alpn = Arc::new(Mutex::new(None));
        let tls_config = match (&handshake.server_cert, opts.auth) {
            (_, ClientAuth::Plaintext) | (None, _) => None,
            (Some(server_der), _) => Some(client_config(
                CertificateDer::from(server_der.clone()),
                presented,
            )?),
        };
        let channel = connect(&handshake, tls_config, alpn.clone()).await?;
        Ok(Self {
            child,
            handshake_line: line.trim_end().to_string(),
            handshake,
            provider: ProviderClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
            controller: GrpcControllerClient::new(channel.clone()),
            stdio: GrpcStdioClient::new(channel.clone()),
            broker: GrpcBrokerClient::new(channel.clone()),
            health: HealthClient::new(channel.clone()),
            channel,
            alpn,
            stdout_rest,
            stderr,
        })
    }

    /// The child's pid; `None` once it has been waited for.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// ALPN protocol negotiated on the last TLS connection; `None` for plaintext and before the
    /// first RPC (the channel connects lazily).
    pub fn negotiated_alpn(&self) -> Option<Vec<u8>> {
        self.alpn.lock().ok().and_then(|a| a.clone())
    }

    /// Everything the provider wrote to stdout after the handshake line so far (captured in
    /// the background, so the latest bytes may lag). Should always be empty.
    pub fn stdout_after_handshake(&self) -> Vec<u8> {
        self.stdout_rest
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Everything the provider wrote to stderr so far (lossy UTF-8; may lag like stdout).
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }

    /// Calls `plugin.GRPCController/Shutdown` (its error is ignored, as Terraform
    /// does) and waits up to 5 s for the process to exit. Returns the exit
    /// status and the time from the call to the exit.
    ///
    /// # Errors
    /// [`TestClientError::NoExit`] if it is still running after 5 s (it is left running until
    /// dropped).
    pub async fn shutdown(&mut self) -> Result<(ExitStatus, Duration), TestClientError> {
        let start = Instant::now();
        let _ = self
            .controller
            .shutdown(crate::proto::plugin::Empty {})
            .await;
        self.wait_exit(Duration::from_secs(5))
            .await
            .map(|s| (s, start.elapsed()))
    }

    /// Waits up to `timeout` for the process to exit; returns at once if it already has.
    ///
    /// # Errors
    /// [`TestClientError::NoExit`] on timeout (the process keeps running), or the wait error.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, TestClientError> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => Err(TestClientError::NoExit(timeout)),
        }
    }

    /// Sends a signal to the child (e.g. `"INT"`, `"TERM"`) with the `kill` command; does not
    /// wait for any effect.
    ///
    /// # Errors
    /// If the child has already been waited for, `kill` cannot be run, or it fails.
    pub fn signal(&self, name: &str) -> std::io::Result<()> {
        let pid = self
            .child
            .id()
            .ok_or_else(|| std::io::Error::other("process already exited"))?;
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill -{name} {pid} failed")))
        }
    }
}

/// Path of a binary or example next to the running test executable
/// (`target/<profile>/<name>` or `target/<profile>/examples/<name>`); `None` if it does not
/// exist (not built yet). Does not build anything.
pub fn target_binary(name: &str, example: bool) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dir = exe.parent()?.to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = if example {
        dir.join("examples").join(name)
    } else {
        dir.join(name)
    };
    path.exists().then_some(path)
}

/// Client TLS config like Terraform's: trust only `server_cert` (pinned byte-for-byte, server
/// name `localhost`, no chain or validity checks), present `identity` if any, ALPN `h2`.
///
/// # Errors
/// [`TestClientError::Rustls`] if rustls rejects the identity.
pub fn client_config(
    server_cert: CertificateDer<'static>,
    identity: Option<Identity>,
) -> Result<Arc<rustls::ClientConfig>, TestClientError> {
    let builder = rustls::ClientConfig::builder_with_provider(tls::crypto_provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServerCertVerifier {
            pinned: server_cert,
            algorithms: rustls::crypto::aws_lc_rs::default_provider()
                .signature_verification_algorithms,
        }));
    let mut config = match identity {
        Some(id) => builder.with_client_auth_cert(vec![id.cert_der.clone()], id.private_key())?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Trusts exactly one server certificate (Terraform trusts only field 6) and
/// requires the name `localhost`.
#[derive(Debug)]
struct PinnedServerCertVerifier {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServerCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let name_ok = matches!(server_name, ServerName::DnsName(n) if n.as_ref() == "localhost");
        if name_ok && end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Copies everything `r` produces into `sink`, in a background task, until EOF.
fn capture(mut r: impl tokio::io::AsyncRead + Unpin + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) {
    tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf).await {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = sink.lock() {
                s.extend_from_slice(&buf[..n]);
            }
        }
    });
}

/// A lazily connecting gRPC channel to the address in `handshake`, over TLS
/// when `tls` is given (see [`client_config`]), else plaintext h2c. The
/// negotiated ALPN protocol of each TLS connection is stored in `alpn`. Nothing is dialled
/// until the first RPC; each connect attempt times out after 10 s.
///
/// # Errors
/// Currently never (the `Result` leaves room for eager set-up).
pub async fn connect(
    handshake: &Handshake,
    tls: Option<Arc<rustls::ClientConfig>>,
    alpn: Arc<Mutex<Option<Vec<u8>>>>,
) -> Result<Channel, TestClientError> {
    let network = handshake.network.clone();
    let address = handshake.address.clone();
    let connector = tower::service_fn(move |_: Uri| {
        let network = network.clone();
        let address = address.clone();
        let tls = tls.clone();
        let alpn = alpn.clone();
        async move {
            let conn = if network == "unix" {
                let s = tokio::net::UnixStream::connect(&address).await?;
                wrap(s, tls, &alpn).await?
            } else {
                let s = tokio::net::TcpStream::connect(&address).await?;
                wrap(s, tls, &alpn).await?
            };
            Ok::<_, std::io::Error>(TokioIo::new(conn))
        }
    });
    // The URI is not used for dialing (go-plugin dials "unused" too).
    let endpoint =
        Endpoint::from_static("http://localhost").connect_timeout(Duration::from_secs(10));
    Ok(endpoint.connect_with_connector_lazy(connector))
}

async fn wrap<T>(
    stream: T,
    tls: Option<Arc<rustls::ClientConfig>>,
    alpn: &Mutex<Option<Vec<u8>>>,
) -> std::io::Result<Conn>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    match tls {
        None => Ok(Conn::new(stream)),
        Some(config) => {
            let name = ServerName::try_from("localhost")
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await?;
            if let Ok(mut a) = alpn.lock() {
                *a = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            }
            Ok(Conn::new(tls))
        }
    }
}
