//! [`Action`]: an operation Terraform runs from an `action` block (Terraform ≥ 1.14), e.g.
//! "restart this instance", triggered by `action_trigger` in a resource's `lifecycle` or by
//! `terraform apply -invoke`. Actions have a configuration but no state.

use super::Context;
use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;
use tokio::sync::mpsc;

/// Where a running action sends progress messages; Terraform prints each one as it arrives
/// (`Action progress: …`).
#[derive(Debug)]
pub struct Progress {
    tx: Option<mpsc::Sender<String>>,
}

impl Progress {
    /// A progress sender and the receiver its messages arrive on; `buffer` messages may wait
    /// before [`Progress::send`] waits for the reader. What the framework hands to `invoke`;
    /// also for tests of an action.
    pub fn channel(buffer: usize) -> (Self, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        (Progress { tx: Some(tx) }, rx)
    }

    /// A sender whose messages go nowhere (tests that do not look at progress).
    pub fn discard() -> Self {
        Progress { tx: None }
    }

    /// Sends one message. Waits while Terraform is slow to read (so a chatty action cannot
    /// buffer without bound); once nobody listens any more the message is dropped and the
    /// call returns at once, so sending never fails.
    pub async fn send(&self, message: impl Into<String>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(message.into()).await;
        }
    }

    /// True once nobody listens (Terraform went away); the action may as well stop.
    pub fn is_closed(&self) -> bool {
        self.tx.as_ref().is_none_or(mpsc::Sender::is_closed)
    }
}

/// An action type. `D` is the provider's [`super::Provider::Data`].
///
/// Terraform calls `validate` (`terraform validate` and every plan), `plan` when a plan
/// includes the action, and `invoke` during apply. The framework guarantees: `config` was
/// decoded with [`Action::schema`] and its validators ran before `validate`; `invoke` runs
/// only once the provider is configured, with a wholly known config, and its result reaches
/// Terraform as the action's completion after every progress message it sent.
///
/// **Stopping.** When Terraform sends `StopProvider` (Ctrl-C) the context's
/// [`Context::stopped`] completes; `invoke` should then return promptly (an `Err` saying
/// what was left undone). An invoke that does not return within a short grace is dropped
/// and the action reported as interrupted.
#[async_trait]
pub trait Action<D: Send + Sync + 'static = ()>: Send + Sync + 'static {
    /// Type name, e.g. `"clouddb_instance_restart"`; starts with the provider's type name and
    /// `_`.
    fn type_name(&self) -> &'static str;

    /// The schema of the action's `config` block (no computed attributes: an action has no
    /// result). Called once, at start-up.
    fn schema(&self) -> Schema;

    /// Checks beyond the schema's validators. Values may be unknown and must then be
    /// accepted. The provider is not configured yet.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Plan-time checks when a plan includes the action: warnings, or errors that fail the
    /// plan (e.g. "instance has no replica to fail over to"). Values may be unknown. `data`
    /// is `None` while the provider configuration is unknown.
    async fn plan(&self, _ctx: &Context, _data: Option<&D>, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Runs the action. `progress` messages are shown as they are sent; `Ok` completes the
    /// action, `Err` fails the apply with those diagnostics.
    async fn invoke(
        &self,
        ctx: &Context,
        data: &D,
        config: &Value,
        progress: &Progress,
    ) -> Result<(), Diagnostics>;
}
