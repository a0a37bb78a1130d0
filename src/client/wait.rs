//! Waiting for asynchronous operations.
//!
//! [`wait_operation`] polls `GET /operations/{id}` until the operation is done, sleeping for the server's
//! `Retry-After` hint (capped at 10 poll intervals) or else the poll interval, and gives up at the caller's deadline or as soon
//! as the caller's stop future completes (Terraform's StopProvider / interrupt). It never cancels anything
//! server-side: the caller keeps the operation id (private state) and can resume later.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::types::Operation;
use super::{ApiError, Client};

/// Why waiting ended without a successful operation.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The deadline passed; the operation may still complete server-side.
    #[error(
        "timed out after {waited:?} waiting for operation {operation_id} ({verb} {target}) to finish"
    )]
    Timeout {
        operation_id: String,
        verb: String,
        target: String,
        waited: Duration,
    },
    /// Terraform asked the provider to stop.
    #[error("stopped by Terraform while waiting for operation {operation_id} ({verb} {target})")]
    Stopped {
        operation_id: String,
        verb: String,
        target: String,
    },
    /// The operation finished with an error, or polling failed.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Lower bound between polls, so a `Retry-After: 0` cannot turn into a busy loop.
const MIN_POLL: Duration = Duration::from_millis(50);
/// Upper bound between polls whatever the server says.
const MAX_POLL: Duration = Duration::from_secs(30);
/// Least elapsed time between two INFO progress lines: often enough to show a long create is
/// alive, rarely enough that a 20-minute wait is a screenful, not a log flood.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// The INFO line a user reads while waiting: `waiting for operation op-1 (create
/// instances/db1): 40 s elapsed`.
fn progress(op: &Operation, elapsed: Duration) -> String {
    format!(
        "waiting for operation {} ({} {}): {} s elapsed",
        op.id,
        op.verb,
        op.target,
        elapsed.as_secs()
    )
}

/// Wait until `op` is done. Returns the finished operation, or [`WaitError`].
pub async fn wait_operation<S>(
    client: &Client,
    mut op: Operation,
    deadline: Instant,
    stop: S,
) -> Result<Operation, WaitError>
where
    S: Future<Output = ()>,
{
    let started = Instant::now();
    let mut stop = std::pin::pin!(stop);
    let mut hint: Option<Duration> = None;
    let mut next_progress = PROGRESS_EVERY;
    loop {
        if op.done {
            return match op.error.take() {
                Some(problem) => Err(WaitError::Api(ApiError::OperationFailed {
                    operation_id: op.id.clone(),
                    problem: Box::new(problem),
                })),
                None => Ok(op),
            };
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(WaitError::Timeout {
                operation_id: op.id,
                verb: op.verb,
                target: op.target,
                waited: now.duration_since(started),
            });
        }
        // The server's Retry-After is honoured, but never lets us go longer than 10 poll intervals
        // without looking (so a stop, a clock jump or an early finish is noticed in bounded time).
        let poll = client.poll_interval();
        let cap = poll.saturating_mul(10).clamp(MIN_POLL, MAX_POLL);
        let delay = hint
            .map(|h| h.min(cap))
            .unwrap_or(poll)
            .clamp(MIN_POLL, MAX_POLL)
            .min(deadline.saturating_duration_since(now));
        let elapsed = now.duration_since(started);
        if elapsed >= next_progress {
            tracing::info!(operation = %op.id, elapsed_s = elapsed.as_secs(), "{}", progress(&op, elapsed));
            // The next line one PROGRESS_EVERY later, on a round number of seconds.
            next_progress = (elapsed + PROGRESS_EVERY)
                .as_secs()
                .checked_div(PROGRESS_EVERY.as_secs())
                .map_or(elapsed + PROGRESS_EVERY, |n| {
                    PROGRESS_EVERY.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
                });
        }
        tracing::debug!(operation = %op.id, delay_ms = delay.as_millis() as u64, "waiting for operation");
        tokio::select! {
            biased;
            _ = &mut stop => {
                return Err(WaitError::Stopped { operation_id: op.id, verb: op.verb, target: op.target });
            }
            _ = tokio::time::sleep(delay) => {}
        }
        if Instant::now() >= deadline {
            // One last look so an operation that just finished is not reported as timed out.
            if let Ok((fresh, _)) = client.get_operation(&op.id).await {
                op = fresh;
            }
            continue;
        }
        let polled = tokio::select! {
            biased;
            _ = &mut stop => {
                return Err(WaitError::Stopped { operation_id: op.id, verb: op.verb, target: op.target });
            }
            r = client.get_operation(&op.id) => r,
        };
        let (fresh, h) = polled?;
        op = fresh;
        hint = h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The progress line names the operation, what it does and the whole seconds waited.
    #[test]
    fn progress_line() {
        let op = Operation {
            id: "op-1".into(),
            verb: "create".into(),
            target: "instances/db1".into(),
            ..Operation::default()
        };
        assert_eq!(
            progress(&op, Duration::from_millis(40_900)),
            "waiting for operation op-1 (create instances/db1): 40 s elapsed"
        );
    }
}
