//! Actions (`action "clouddb_…" "x" { config { … } }`, Terraform 1.14+): operations on an instance
//! that Terraform runs from `terraform apply -invoke=action.TYPE.NAME` or from a resource's
//! `lifecycle { action_trigger { … } }`. They have a configuration but no state, so running one
//! never leaves a diff behind.
//!
//! - [`restart`]: `clouddb_instance_restart`, restart an instance and wait until it is back.
//! - [`failover`]: `clouddb_instance_failover`, switch a high-availability instance to its standby.
//! - [`backup_now`]: `clouddb_backup_now`, take an on-demand backup outside Terraform state (e.g.
//!   before every update of an instance).
//!
//! Restart and failover are the same shape (POST, then wait for the operation), so they share
//! [`run_instance_action`] here; each file keeps its schema, model and error wording.

pub mod backup_now;
pub mod failover;
pub mod restart;

use std::sync::Arc;
use std::time::Duration;

use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::{Action, Context, Progress};
use tfplugin::schema::{Attribute, Schema};
use tokio::time::Instant;

use crate::client::instance_actions::InstanceAction;
use crate::client::types::Operation;
use crate::client::wait::{WaitError, wait_operation};
use crate::client::{ApiError, Client, IdempotencyKey};
use crate::resources::common::{api_diags, while_busy};
use crate::resources::instance::valid_name;

/// How long an action waits in all (a busy instance, then its own operation) before giving up.
/// Actions have no `timeouts` block; Ctrl-C (StopProvider) ends the wait earlier.
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Bounds of the interval between progress messages while an operation runs: the client's poll
/// interval, but not so often that Terraform's output floods nor so rarely that it looks hung.
const PROGRESS_MIN: Duration = Duration::from_secs(1);
const PROGRESS_MAX: Duration = Duration::from_secs(10);

/// Every action type the provider serves.
pub fn all() -> Vec<Arc<dyn Action<Client>>> {
    vec![
        Arc::new(restart::InstanceRestart),
        Arc::new(failover::InstanceFailover),
        Arc::new(backup_now::BackupNow),
    ]
}

/// The required `instance` attribute of an action's config, checked against the API's naming
/// rule at validate time (so a typo fails `terraform validate`, not the apply).
fn instance_attribute(what: &str) -> Attribute {
    Attribute::string("instance")
        .required()
        .validate_with("an instance name", |p, v, d| {
            if let Some(s) = v.as_str()
                && !valid_name(s)
            {
                d.attribute_error(
                    p.clone(),
                    "Invalid instance name",
                    format!(
                        "{s:?} is not a valid instance name: 3 to 63 lowercase letters, digits and \
                         hyphens, starting with a letter and not ending with a hyphen."
                    ),
                );
            }
        })
        .description(format!(
            "Name of the instance to {what}, e.g. `clouddb_instance.db.name`."
        ))
}

/// The instance name of an invoked action. The framework invokes only with a wholly known
/// config, so a missing one is a provider bug, reported rather than unwrapped.
fn known_instance(instance: Option<&str>, action: &str) -> Result<String, Diagnostics> {
    instance.map(str::to_string).ok_or_else(|| {
        Diagnostic::error(
            format!("{action}: no instance name"),
            "The action's `instance` is null or unknown at invoke time; set it to an instance name.",
        )
        .into()
    })
}

/// Starts `action` on instance `name` (waiting out another operation on it first, as the
/// resources do) and waits for its operation, sending `"<verb> of NAME: STATE (12s)"` progress
/// while it runs. `refused` turns an API refusal into the action's own diagnostics (failover
/// explains high availability); other errors keep the API's detail.
async fn run_instance_action(
    ctx: &Context,
    client: &Client,
    schema: &Schema,
    action: InstanceAction,
    name: &str,
    progress: &Progress,
    refused: impl Fn(&ApiError) -> Option<Diagnostics>,
) -> Result<(), Diagnostics> {
    let verb = action.verb();
    let summary = format!("Cannot {verb} CloudDB instance {name:?}");
    let started = Instant::now();
    let deadline = started + ACTION_TIMEOUT;
    let client = client.with_stop(ctx).with_deadline(deadline);
    // One key for every attempt: a lost answer retried, or a busy refusal tried again, can
    // never start the action twice.
    let key = IdempotencyKey::new();
    let op = while_busy(ctx, &client, deadline, verb, || {
        client.instance_action(action, name, &key)
    })
    .await
    .map_err(|e| refused(&e).unwrap_or_else(|| api_diags(schema, &summary, &e)))?;
    progress
        .send(format!("{verb} of {name}: started (operation {})", op.id))
        .await;
    wait_with_progress(ctx, &client, op, deadline, name, progress)
        .await
        .map_err(|e| wait_diags(schema, &summary, &e, name))?;
    progress
        .send(format!(
            "{verb} of {name}: done ({}s)",
            started.elapsed().as_secs()
        ))
        .await;
    Ok(())
}

/// [`wait_operation`] with a progress message every few seconds naming the instance's state, so
/// Terraform shows the action is alive during a long operation.
async fn wait_with_progress(
    ctx: &Context,
    client: &Client,
    op: Operation,
    deadline: Instant,
    name: &str,
    progress: &Progress,
) -> Result<Operation, WaitError> {
    let verb = op.verb.clone();
    let started = Instant::now();
    let every = client.poll_interval().clamp(PROGRESS_MIN, PROGRESS_MAX);
    let mut ticker = tokio::time::interval_at(started + every, every);
    let wait = wait_operation(client, op, deadline, ctx.stopped());
    let mut wait = std::pin::pin!(wait);
    loop {
        tokio::select! {
            done = &mut wait => return done,
            _ = ticker.tick() => {
                // The state is only for the message: a failed look-up is not the action's failure.
                let state = match client.get_instance(name).await {
                    Ok(Some(inst)) => inst.state,
                    Ok(None) => "not found".to_string(),
                    Err(_) => "state unknown".to_string(),
                };
                progress
                    .send(format!("{verb} of {name}: {state} ({}s)", started.elapsed().as_secs()))
                    .await;
            }
        }
    }
}

fn wait_diags(schema: &Schema, summary: &str, err: &WaitError, name: &str) -> Diagnostics {
    match err {
        WaitError::Api(api) => api_diags(schema, summary, api),
        WaitError::Timeout { .. } => Diagnostic::error(
            summary,
            format!(
                "{err}. The operation continues server-side; instance {name:?} is busy until it \
                 finishes."
            ),
        )
        .into(),
        WaitError::Stopped { .. } => Diagnostic::error(
            summary,
            format!(
                "{err}. The operation was already accepted and continues server-side; it was not \
                 cancelled."
            ),
        )
        .into(),
    }
}
