//! The go-plugin transport: launch handshake, listener, AutoMTLS, the auxiliary
//! go-plugin services and `--debug` (reattach) mode.
//!
//! The core layer wraps the framework's `Provider` into a
//! [`tfplugin6::provider_server::Provider`](crate::proto::tfplugin6::provider_server::Provider)
//! service and calls [`serve`].

pub mod broker;
pub mod controller;
mod debug;
pub mod handshake;
pub mod health;
pub mod listener;
pub mod shutdown;
pub mod stdio;
pub mod tls;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tonic::transport::Server;
use tonic::transport::server::{Connected, Router};

pub use handshake::HandshakeError;
pub use shutdown::ShutdownSignal;
pub use tls::TlsError;

use crate::proto::health::health_server::HealthServer;
use crate::proto::plugin::grpc_broker_server::GrpcBrokerServer;
use crate::proto::plugin::grpc_controller_server::GrpcControllerServer;
use crate::proto::plugin::grpc_stdio_server::GrpcStdioServer;
use crate::proto::tfplugin6::provider_server::{Provider, ProviderServer};
use listener::{Accepted, Listener};

/// Default gRPC message size limit each way, 256 MiB, as terraform-plugin-go servers allow
/// (tonic's default of 4 MiB is too small for large plans and states).
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;

/// How long in-flight RPCs may take to finish after shutdown before the server is dropped:
/// just under the 2 s after which Terraform kills the process. A create stopped by SIGTERM
/// still has to answer with the instance it made; on a loaded 2-core machine 1 s was too short
/// (the acceptance test `sigterm_during_create_keeps_instance_in_state` on Terraform 1.0.3 with
/// four busy loops: 2 of 30 runs lost the instance at 1 s, 0 of 30 at 1.8 s).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1800);

/// How long a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Options for [`serve`]; [`ServeOptions::new`] gives the defaults Terraform expects.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Full provider source address, e.g. `registry.terraform.io/clouddb/clouddb`. The key of
    /// the `TF_REATTACH_PROVIDERS` JSON in debug mode (it must match the address in the user's
    /// `required_providers`); its last segment names the log module. Not validated.
    pub provider_address: String,
    /// `--debug`: no handshake checks, no TLS, print `TF_REATTACH_PROVIDERS` on stdout, serve in
    /// the foreground until Ctrl-C (SIGINT) or SIGTERM.
    pub debug: bool,
    /// Fired by `plugin.GRPCController/Shutdown`, SIGTERM (and Ctrl-C in debug
    /// mode). Keep a clone to be told; trigger it to stop the server.
    pub shutdown: ShutdownSignal,
    /// Install the hclog JSON stderr logger ([`crate::logging::init`]) at start; an already
    /// installed global subscriber is kept silently. Default true.
    pub init_logging: bool,
    /// Max gRPC message size of the provider service, both directions; a larger message fails
    /// that RPC with a gRPC error status. Default [`MAX_MESSAGE_SIZE`].
    pub max_message_size: usize,
}

impl ServeOptions {
    /// Defaults for a provider at `provider_address`: not debug, a fresh shutdown signal,
    /// logging installed, [`MAX_MESSAGE_SIZE`].
    pub fn new(provider_address: impl Into<String>) -> Self {
        Self {
            provider_address: provider_address.into(),
            debug: false,
            shutdown: ShutdownSignal::new(),
            init_logging: true,
            max_message_size: MAX_MESSAGE_SIZE,
        }
    }

    /// Sets debug (reattach) mode; see the `debug` field.
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Uses `signal` (typically a clone the caller keeps) as the shutdown signal, replacing the
    /// default one.
    pub fn shutdown_signal(mut self, signal: ShutdownSignal) -> Self {
        self.shutdown = signal;
        self
    }

    /// The provider type: the text after the last `/` of the address (`clouddb`), or the whole
    /// address when it has no `/`.
    pub fn provider_type(&self) -> &str {
        self.provider_address
            .rsplit('/')
            .next()
            .unwrap_or(&self.provider_address)
    }
}

/// Errors from [`serve`]; all happen before or while serving, none after a clean shutdown.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Not launched by a compatible Terraform. [`serve`] itself never returns it: it prints
    /// the message to stderr and exits the process with status 1, as go-plugin does.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// No listener could be bound: neither a unix socket nor a TCP port in range.
    #[error("binding the plugin listener: {0}")]
    Listen(#[source] io::Error),
    /// AutoMTLS set-up failed (bad `PLUGIN_CLIENT_CERT`, certificate generation, rustls).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The handshake (or reattach) line could not be written to stdout.
    #[error("writing to stdout: {0}")]
    Stdout(#[source] io::Error),
    /// SIGINT/SIGTERM handlers could not be installed.
    #[error("installing signal handlers: {0}")]
    Signal(#[source] io::Error),
    /// The gRPC server failed while serving.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// No `PLUGIN_CLIENT_CERT` (no AutoMTLS) and only a TCP port could be bound: plaintext gRPC
    /// on a port any local user can reach is refused. Plaintext is served on a unix socket
    /// only, whose file permissions (0600, or 0660 with `PLUGIN_UNIX_SOCKET_GROUP`) protect it.
    #[error(
        "refusing to serve plaintext gRPC over TCP ({0}): set PLUGIN_CLIENT_CERT (Terraform does) \
         or make a unix socket directory available (PLUGIN_UNIX_SOCKET_DIR)"
    )]
    PlaintextTcp(String),
}

/// Serves `provider_service` the way Terraform expects a plugin to, until
/// Shutdown / SIGTERM (or Ctrl-C in debug mode). Returns when the server has
/// stopped; the unix socket is removed by then.
///
/// When launched by hand without the magic cookie, or by a client that does not
/// speak protocol 6, this prints a message to stderr and exits the process
/// with status 1, as go-plugin does. SIGINT is ignored outside debug mode
/// (Terraform sends StopProvider and Shutdown instead).
///
/// AutoMTLS is on when `PLUGIN_CLIENT_CERT` is set and non-blank (then only that exact client
/// certificate is accepted), plaintext otherwise — and plaintext only on a unix socket: without
/// AutoMTLS, a TCP fallback is refused ([`ServeError::PlaintextTcp`]). Nothing but the handshake line is written to
/// stdout. After shutdown, in-flight RPCs get about one second (Terraform kills the process
/// two seconds after `Shutdown`), then `serve` returns `Ok` anyway.
///
/// # Errors
/// See [`ServeError`]; a failure to accept one connection or one TLS handshake is logged and
/// does not stop the server.
pub async fn serve<S: Provider>(provider_service: S, opts: ServeOptions) -> Result<(), ServeError> {
    if opts.init_logging {
        // A subscriber may already be installed by the caller; that is fine.
        let _ = crate::logging::init(opts.provider_type());
    }
    if opts.debug {
        return debug::serve_debug(provider_service, opts).await;
    }
    if let Err(e) = handshake::check_env() {
        eprintln!("{e}");
        std::process::exit(1);
    }

    let tls = match std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        Some(pem) => {
            let pinned = tls::parse_cert_pem(&pem)?;
            let identity = tls::server_identity()?;
            let config = tls::server_config(&identity, pinned)?;
            Some((config, identity.cert_der))
        }
        None => None,
    };

    let listener = listener::bind().map_err(ServeError::Listen)?;
    plaintext_guard(&listener, tls.is_some())?;
    install_signal_handlers(opts.shutdown.clone(), false)?;

    let line = handshake::handshake_line(
        listener.network(),
        &listener.address(),
        tls.as_ref().map(|(_, der)| der.as_ref()),
    );
    let router = router(provider_service, &opts);
    handshake::print_handshake(&line).map_err(ServeError::Stdout)?;
    tracing::debug!(network = listener.network(), address = %listener.address(), tls = tls.is_some(), "plugin server listening");

    run(router, listener, tls.map(|(c, _)| c), opts.shutdown).await
}

/// Refuses plaintext on TCP; warns about plaintext on a unix socket.
fn plaintext_guard(listener: &listener::Listener, tls: bool) -> Result<(), ServeError> {
    if tls {
        return Ok(());
    }
    if listener.network() == "tcp" {
        return Err(ServeError::PlaintextTcp(listener.address()));
    }
    tracing::warn!(
        socket = %listener.address(),
        "PLUGIN_CLIENT_CERT is not set: serving without TLS on a unix socket protected by its file permissions only"
    );
    Ok(())
}

/// Builds the tonic router with every service registered.
fn router<S: Provider>(provider_service: S, opts: &ServeOptions) -> Router {
    let max = opts.max_message_size;
    let shutdown = opts.shutdown.clone();
    Server::builder()
        .add_service(
            ProviderServer::new(provider_service)
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(GrpcControllerServer::new(controller::Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(stdio::Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcBrokerServer::new(broker::Broker {
            shutdown: shutdown.clone(),
        }))
        .add_service(HealthServer::new(health::Health { shutdown }))
}

/// SIGTERM fires the shutdown signal. SIGINT is swallowed (go-plugin
/// behaviour), or fires the signal in debug mode.
fn install_signal_handlers(shutdown: ShutdownSignal, debug: bool) -> Result<(), ServeError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigint = signal(SignalKind::interrupt()).map_err(ServeError::Signal)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(ServeError::Signal)?;
    let s = shutdown.clone();
    tokio::spawn(async move {
        while sigint.recv().await.is_some() {
            if debug {
                s.trigger();
            } else {
                tracing::debug!("ignoring SIGINT; Terraform will call StopProvider/Shutdown");
            }
        }
    });
    tokio::spawn(async move {
        if sigterm.recv().await.is_some() {
            tracing::debug!("SIGTERM received, shutting down");
            shutdown.trigger();
        }
    });
    Ok(())
}

/// Accepts connections (TLS-wrapping them if configured) and serves `router`
/// until `shutdown` fires.
async fn run(
    router: Router,
    listener: Listener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: ShutdownSignal,
) -> Result<(), ServeError> {
    let socket_path = match &listener {
        Listener::Unix { guard, .. } => Some(guard.path().to_path_buf()),
        Listener::Tcp { .. } => None,
    };
    let (tx, rx) = mpsc::channel::<Result<Conn, io::Error>>(16);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let accept_shutdown = shutdown.clone();
    let accept_task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = accept_shutdown.wait() => break,
                a = listener.accept() => a,
            };
            let stream = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match &acceptor {
                None => {
                    let conn = match stream {
                        Accepted::Unix(s) => Conn::new(s),
                        Accepted::Tcp(s) => Conn::new(s),
                    };
                    if tx.send(Ok(conn)).await.is_err() {
                        break;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let conn = match stream {
                            Accepted::Unix(s) => tls_accept(&acceptor, s).await,
                            Accepted::Tcp(s) => tls_accept(&acceptor, s).await,
                        };
                        if let Some(conn) = conn {
                            let _ = tx.send(Ok(conn)).await;
                        }
                    });
                }
            }
        }
        // Dropping the listener here closes it; the socket file is removed below.
        drop(listener);
    });

    let incoming = tokio_stream::wrappers::ReceiverStream::new(rx);
    let signal = shutdown.clone();
    let server = router.serve_with_incoming_shutdown(incoming, async move { signal.wait().await });
    tokio::pin!(server);
    let result = tokio::select! {
        r = &mut server => r.map_err(ServeError::from),
        _ = async { shutdown.wait().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::debug!("in-flight RPCs did not finish in time; stopping anyway");
            Ok(())
        }
    };
    accept_task.abort();
    if let Some(path) = socket_path {
        let _ = std::fs::remove_file(path);
    }
    result
}

async fn tls_accept<T>(acceptor: &tokio_rustls::TlsAcceptor, stream: T) -> Option<Conn>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Some(Conn::new(tls)),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "TLS handshake with plugin client failed");
            None
        }
        Err(_) => {
            tracing::warn!("TLS handshake with plugin client timed out");
            None
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// One accepted connection (plain or TLS, unix or tcp), as tonic serves it; only created
/// inside the crate. TLS connections reach tonic only after a completed handshake.
pub struct Conn(Box<dyn Io>);

impl Conn {
    pub(crate) fn new<T: AsyncRead + AsyncWrite + Send + Unpin + 'static>(io: T) -> Self {
        Self(Box::new(io))
    }
}

impl std::fmt::Debug for Conn {
    /// Just `Conn` (the transport is opaque).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conn")
    }
}

impl Connected for Conn {
    type ConnectInfo = ();
    /// No peer information: the peer is always the local Terraform process.
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}
