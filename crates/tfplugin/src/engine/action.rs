//! Actions: validate, plan and invoke (`ValidateActionConfig`, `PlanAction`, `InvokeAction`).

use super::stream::{BUFFER, Driven, Events};
use super::{Collect, Engine, guard, validated};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::{Progress, Provider};
use crate::value::Value;
use std::time::Duration;

/// One event of a running action, in the order Terraform receives them: any number of
/// progress messages, then exactly one completion.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionEvent {
    /// A message the action sent while running.
    Progress(String),
    /// The action finished; errors here fail the apply.
    Completed(Diagnostics),
}

/// How long an `invoke` may run on after Terraform asked the provider to stop before the
/// framework gives up on it and reports the action as interrupted. Shorter than the server's
/// shutdown grace, so that on `Shutdown` the completion still reaches Terraform.
pub const ACTION_STOP_GRACE: Duration = Duration::from_millis(500);

fn interrupted(name: &str) -> Diagnostic {
    Diagnostic::error(
        "Action interrupted",
        format!(
            "Terraform asked the provider to stop, and the action {name} did not finish within \
             {} ms. It may have been partly carried out; check the remote object before running \
             it again.",
            ACTION_STOP_GRACE.as_millis()
        ),
    )
}

impl<P: Provider> Engine<P> {
    /// `ValidateActionConfig`: schema validators, then the type's own checks.
    pub async fn validate_action(&self, name: &str, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = self.action(name).collect_into(&mut d) else {
            return d;
        };
        let ctx = self.context(false);
        d.extend(validated(&e.s.schema.block, config, e.imp.validate(&ctx, config)).await);
        d
    }

    /// `PlanAction`: the type's plan-time checks (config values may be unknown).
    pub async fn plan_action(
        &self,
        name: &str,
        config: &Value,
        deferral_allowed: bool,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = self.action(name).collect_into(&mut d) else {
            return d;
        };
        let data = self.data_if_ready();
        let ctx = self.context(deferral_allowed);
        guard("plan", e.imp.plan(&ctx, data.as_deref(), config))
            .await
            .map(|x| d.extend(x))
            .collect_into(&mut d);
        d
    }

    /// `InvokeAction`: the action's progress messages as they are sent, then its completion.
    ///
    /// The invoke runs while the stream is read and is dropped with it. When the stop signal
    /// fires, the invoke gets [`ACTION_STOP_GRACE`] to return on its own; then it is dropped
    /// and completes with an "Action interrupted" error.
    pub fn invoke_action(&self, name: &str, config: Value) -> Events<ActionEvent> {
        let done = |d: Diagnostics| -> Events<ActionEvent> {
            Box::pin(futures_util::stream::iter([ActionEvent::Completed(d)]))
        };
        let mut d = Diagnostics::new();
        let Some(e) = self.action(name).collect_into(&mut d) else {
            return done(d);
        };
        let Some(data) = self.data(&format!("invoke {name}")).collect_into(&mut d) else {
            return done(d);
        };
        if !config.is_wholly_known() {
            // Terraform invokes during apply, when everything is known; not a provider bug.
            d.error(
                "Action configuration not known",
                format!("{name} cannot run while parts of its configuration are unknown."),
            );
            return done(d);
        }
        let imp = e.imp.clone();
        let ctx = self.context(false);
        let name = name.to_string();
        let (progress, rx) = Progress::channel(BUFFER);
        let run = async move {
            let invoke = guard("invoke", imp.invoke(&ctx, &data, &config, &progress));
            tokio::pin!(invoke);
            let outcome = tokio::select! {
                r = &mut invoke => r,
                _ = ctx.stopped() => match tokio::time::timeout(ACTION_STOP_GRACE, &mut invoke).await {
                    Ok(r) => r,
                    Err(_) => Err(interrupted(&name)),
                },
            };
            let mut d = Diagnostics::new();
            if let Some(r) = outcome.collect_into(&mut d) {
                r.collect_into(&mut d);
            }
            vec![ActionEvent::Completed(d)]
        };
        Box::pin(Driven::new(rx, ActionEvent::Progress, run))
    }
}
