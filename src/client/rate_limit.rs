//! The client-side rate limiter: one token bucket per configured provider, shared by every request
//! it sends (first attempts and retries alike), so throttling is avoided instead of retried.
//!
//! The bucket is kept as GCRA ("virtual scheduling"): a single *theoretical arrival time* `tat`
//! instead of a token count. A caller reserves the next slot under a short, never-awaited lock and
//! then sleeps until that slot with `tokio::time`, so waiting is
//! - fair: slots are handed out in call order (FIFO), no waiter can be overtaken;
//! - free of busy-waiting: each waiter wakes once, at its own slot;
//! - non-blocking: the `std` mutex only guards a few arithmetic operations and is never held across
//!   an `.await`, so tokio's worker threads are never blocked.
//!
//! A 429 answer means the configured rate is above what the API grants us. [`RateLimiter::throttled`]
//! then pauses *every* caller until the server's `Retry-After` has passed and empties the bucket,
//! so the provider resumes at the steady rate instead of bursting into the next 429; callers that
//! had reserved a slot before the pause reserve again after it (see [`RateLimiter::acquire`]).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How fast requests may leave, and how many may leave at once after a quiet period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second; `0` turns pacing off (a 429 still pauses everyone, see the module docs).
    pub per_second: f64,
    /// Requests that may be sent back to back when the bucket is full (at least 1).
    pub burst: u32,
}

impl RateLimit {
    /// No pacing (only the shared pause after a 429).
    pub const UNLIMITED: RateLimit = RateLimit {
        per_second: 0.0,
        burst: 1,
    };
}

impl Default for RateLimit {
    /// What the CloudDB API documents per token (docs/clouddb-api.md, "Throttling": 1000 requests/s,
    /// bucket 2000), with a burst of one second's worth: half the server's bucket, so jitter between
    /// our clock and the server's never turns a paced burst into a 429.
    fn default() -> Self {
        RateLimit {
            per_second: 1000.0,
            burst: 1000,
        }
    }
}

/// The shared limiter (owned by the client's `Inner`, so one per configured provider).
#[derive(Debug)]
pub struct RateLimiter {
    /// Time between two requests at the steady rate (`None`: unlimited).
    interval: Option<Duration>,
    /// How far ahead of `tat` a request may go: `(burst - 1) * interval`.
    tolerance: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Theoretical arrival time of the next request at the steady rate.
    tat: Instant,
    /// No request leaves before this (set by a 429's `Retry-After`).
    paused_until: Instant,
    /// Bumped by every pause; a waiter whose reservation predates it reserves again.
    epoch: u64,
    /// 429s reported, for logs and tests.
    throttled: u64,
}

/// A reserved slot: when the caller may send, and under which pause epoch it was handed out.
struct Slot {
    at: Instant,
    epoch: u64,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let interval = (limit.per_second.is_finite() && limit.per_second > 0.0)
            .then(|| Duration::from_secs_f64(1.0 / limit.per_second));
        let tolerance = interval
            .map(|i| i.saturating_mul(limit.burst.max(1) - 1))
            .unwrap_or_default();
        let now = Instant::now();
        RateLimiter {
            interval,
            tolerance,
            state: Mutex::new(State {
                tat: now,
                paused_until: now,
                epoch: 0,
                throttled: 0,
            }),
        }
    }

    /// Wait (asynchronously) until one more request may be sent. Cancel-safe: a dropped waiter only
    /// leaves its slot unused, which errs on the slow side.
    pub async fn acquire(&self) {
        loop {
            let now = Instant::now();
            let slot = self.reserve(now);
            if slot.at <= now {
                // The common, unthrottled case completes on its first poll, without a timer.
                return;
            }
            tokio::time::sleep_until(slot.at).await;
            // A 429 while we slept means our slot was computed for a rate the server rejected.
            if self.lock().epoch == slot.epoch {
                return;
            }
        }
    }

    /// Report a 429: nobody sends before `retry_after` has passed, and the bucket restarts empty.
    pub fn throttled(&self, retry_after: Duration) {
        let now = Instant::now();
        let until = now + retry_after;
        let mut s = self.lock();
        s.throttled += 1;
        if until > s.paused_until {
            s.paused_until = until;
        }
        // The first request after the pause goes at `until`, the next ones at the steady rate.
        let empty = until + self.tolerance;
        if empty > s.tat {
            s.tat = empty;
        }
        s.epoch += 1;
        tracing::warn!(
            retry_after_ms = retry_after.as_millis() as u64,
            throttled = s.throttled,
            "CloudDB API throttled the provider (429): pausing every request"
        );
    }

    /// How many 429s were reported since this limiter was built.
    pub fn throttled_count(&self) -> u64 {
        self.lock().throttled
    }

    fn reserve(&self, now: Instant) -> Slot {
        let mut s = self.lock();
        let earliest = now.max(s.paused_until);
        let at = match self.interval {
            None => earliest,
            Some(interval) => {
                let tat = s.tat.max(now);
                s.tat = tat + interval;
                // `tat - tolerance`, but a slot is never in the past nor inside a pause.
                tat.checked_sub(self.tolerance)
                    .map_or(earliest, |t| t.max(earliest))
            }
        };
        Slot { at, epoch: s.epoch }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a few numbers updated in one step each: a panic elsewhere cannot leave it
        // half-written, so a poisoned lock is still good.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn limiter(per_second: f64, burst: u32) -> Arc<RateLimiter> {
        Arc::new(RateLimiter::new(RateLimit { per_second, burst }))
    }

    /// Start `n` acquirers at once; return the instants (relative to the start) they were let through,
    /// in the order they were started.
    async fn release_times(l: &Arc<RateLimiter>, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move {
                    l.acquire().await;
                    Instant::now() - start
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("acquirer"));
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_bucket_lets_the_burst_through_then_paces_at_the_rate() {
        let l = limiter(50.0, 10);
        let times = release_times(&l, 30).await;
        // The first 10 go at once, then one every 20 ms.
        assert!(
            times[..10].iter().all(|t| *t == Duration::ZERO),
            "{times:?}"
        );
        for (i, t) in times[10..].iter().enumerate() {
            assert_eq!(
                *t,
                Duration::from_millis(20 * (i as u64 + 1)),
                "request {}",
                i + 10
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_run_never_exceeds_rate_times_window_plus_burst() {
        let l = limiter(50.0, 5);
        let times = release_times(&l, 200).await;
        // In any window of one second, at most 50 + 5 requests.
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 55,
                "{in_window} requests in the second after {t:?}"
            );
        }
        // 200 requests at 50/s after a burst of 5: 195 intervals of 20 ms.
        assert_eq!(times.last().copied(), Some(Duration::from_millis(195 * 20)));
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_call_order() {
        let l = limiter(10.0, 1);
        let times = release_times(&l, 20).await;
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_bucket_refills_while_idle() {
        let l = limiter(10.0, 3);
        release_times(&l, 3).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let times = release_times(&l, 4).await;
        assert_eq!(
            times,
            [0, 0, 0, 100].map(Duration::from_millis).to_vec(),
            "a refilled bucket holds `burst`, not more"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let l = limiter(0.0, 1);
        let times = release_times(&l, 1000).await;
        assert!(times.iter().all(|t| t.is_zero()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_everyone_and_restarts_with_an_empty_bucket() {
        let l = limiter(100.0, 50);
        l.throttled(Duration::from_secs(2));
        assert_eq!(l.throttled_count(), 1);
        let times = release_times(&l, 5).await;
        // Nobody before the Retry-After, then the steady rate: no burst into the next 429.
        assert_eq!(
            times,
            [2000, 2010, 2020, 2030, 2040]
                .map(Duration::from_millis)
                .to_vec()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_also_holds_back_callers_already_waiting() {
        let l = limiter(10.0, 1);
        let early = {
            let l = l.clone();
            tokio::spawn(async move {
                // Slot 0 now, then slots at 100 ms and 200 ms.
                for _ in 0..3 {
                    l.acquire().await;
                }
                Instant::now()
            })
        };
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(50)).await;
        l.throttled(Duration::from_secs(1));
        let done = early.await.expect("waiter");
        // The waiter reserved 100 ms before the 429; it re-reserved behind the pause instead.
        assert!(
            done - start >= Duration::from_millis(1050),
            "{:?}",
            done - start
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_still_honours_a_429_pause() {
        let l = limiter(0.0, 1);
        l.throttled(Duration::from_secs(1));
        let times = release_times(&l, 3).await;
        assert!(
            times.iter().all(|t| *t == Duration::from_secs(1)),
            "{times:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_does_not_stall_the_others() {
        let l = limiter(10.0, 1);
        l.acquire().await;
        let l2 = l.clone();
        let cancelled = tokio::spawn(async move { l2.acquire().await });
        tokio::task::yield_now().await;
        cancelled.abort();
        let start = Instant::now();
        l.acquire().await;
        // The aborted waiter's slot (100 ms) is lost rather than handed on (erring on the slow
        // side), and nothing waits on it: the next caller gets the slot after it.
        assert_eq!(Instant::now() - start, Duration::from_millis(200));
    }
}
