//! [`Context`]: what every handler learns about the call, above all the stop signal
//! Terraform fires with `StopProvider` (Ctrl-C).

use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Per-call context: the stop signal and what we know about the calling Terraform.
#[derive(Clone, Debug)]
pub struct Context {
    /// The stop generation this call belongs to (kept alive by the context itself).
    stop: Arc<watch::Sender<bool>>,
    /// Terraform's version as sent in `ConfigureProvider` (empty before configuration).
    pub terraform_version: String,
    /// Terraform may accept deferred actions in this call.
    pub deferral_allowed: bool,
}

/// The sending half of the stop signal (held by the gRPC service; `StopProvider` fires it).
///
/// Stopping ends the current *generation*: calls in flight see the stop, calls started
/// afterwards get a fresh signal. That matters in debug/reattach mode, where one provider
/// process serves many Terraform runs and a Ctrl-C in one must not poison the next.
#[derive(Clone, Debug)]
pub struct StopSignal(Arc<Mutex<Arc<watch::Sender<bool>>>>);

impl Default for StopSignal {
    fn default() -> Self {
        Self::new()
    }
}

impl StopSignal {
    /// A signal that has not fired.
    pub fn new() -> Self {
        StopSignal(Arc::new(Mutex::new(Arc::new(watch::channel(false).0))))
    }

    fn current(&self) -> Arc<watch::Sender<bool>> {
        match self.0.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Fires: every existing context's [`Context::stopped`] completes; new contexts start fresh.
    pub fn stop(&self) {
        let fresh = Arc::new(watch::channel(false).0);
        let old = match self.0.lock() {
            Ok(mut g) => std::mem::replace(&mut *g, fresh),
            Err(p) => std::mem::replace(&mut *p.into_inner(), fresh),
        };
        old.send_replace(true);
    }

    /// A context listening to this signal.
    pub fn context(&self, terraform_version: impl Into<String>) -> Context {
        Context {
            stop: self.current(),
            terraform_version: terraform_version.into(),
            deferral_allowed: false,
        }
    }
}

impl Context {
    /// A context that is never stopped (tests, tools).
    pub fn background() -> Self {
        StopSignal::new().context("")
    }

    /// True once Terraform asked the provider to stop.
    pub fn is_stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Completes when Terraform asks the provider to stop; use in `tokio::select!` around waits.
    pub async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        // The context holds the sender, so the channel cannot close under us.
        let _ = rx.wait_for(|s| *s).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_signal_reaches_contexts() {
        let s = StopSignal::new();
        let ctx = s.context("1.11.4");
        assert!(!ctx.is_stopped());
        s.stop();
        ctx.stopped().await;
        assert!(ctx.is_stopped());
        // a later call (next Terraform run in debug mode) is not stopped
        let later = s.context("1.11.4");
        assert!(!later.is_stopped());
        let never = Context::background();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(20), never.stopped()).await;
        assert!(waited.is_err(), "background context never stops");
    }
}
