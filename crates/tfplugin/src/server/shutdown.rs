//! A clonable one-shot shutdown signal shared by the server, the controller
//! service and the provider layer.

use std::sync::Arc;

use tokio::sync::watch;

/// Fires once; every clone sees it. The core layer can hold a clone to learn
/// when Terraform called `Shutdown` (or SIGTERM arrived), and can trigger it to
/// stop the server.
#[derive(Debug, Clone)]
pub struct ShutdownSignal {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for ShutdownSignal {
    /// Same as [`ShutdownSignal::new`]: a fresh, unfired signal shared with no one.
    fn default() -> Self {
        Self::new()
    }
}

impl ShutdownSignal {
    /// A signal that has not fired; only its clones share its state.
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(false);
        Self { tx: Arc::new(tx) }
    }

    /// Fires the signal for every clone; idempotent, never blocks, and cannot be undone.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether it has fired (through any clone).
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the signal has fired; at once if it already has. Cancel-safe.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // Err only if the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|fired| *fired).await;
    }
}
