//! Injectable time.
//!
//! Every piece of the SDK that reads the time or waits (token expiry, backoff, rate limiting,
//! schedules) takes a [`SharedClock`]. Production code uses [`SystemClock`]; tests use
//! [`ManualClock`], whose `sleep` returns at once and moves virtual time forward, so a test of a
//! 24-hour token or a minute-long throttle runs in microseconds and is deterministic.
//!
//! Tokio's paused time is not used for this on purpose: it auto-advances whenever the runtime is
//! idle, which fires HTTP timeouts instantly while a test waits on a real local socket.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

/// A source of wall-clock time and a way to wait.
///
/// ```
/// use std::time::Duration;
/// use sdk_common::time::{Clock, ManualClock};
///
/// # tokio_test();
/// # fn tokio_test() {
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// let clock = ManualClock::default();
/// let before = clock.now();
/// clock.sleep(Duration::from_secs(3600)).await; // returns at once
/// assert_eq!(clock.now() - before, chrono::Duration::hours(1));
/// # });
/// # }
/// ```
#[async_trait]
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;

    /// Wait for `duration`.
    async fn sleep(&self, duration: Duration);

    /// Wait until `deadline` (returns at once when it has passed).
    ///
    /// Prefer this over [`sleep`](Clock::sleep) when the wait was computed from an absolute
    /// instant (a rate limiter's next free slot, a token's refresh time): under a virtual clock
    /// many tasks waiting for the same instant then do not push time past it.
    async fn sleep_until(&self, deadline: DateTime<Utc>) {
        let remaining = deadline - self.now();
        if let Ok(remaining) = remaining.to_std() {
            self.sleep(remaining).await;
        }
    }
}

/// A clock shared by every clone of a client.
pub type SharedClock = Arc<dyn Clock>;

/// The real clock: [`Utc::now`] and [`tokio::time::sleep`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl SystemClock {
    /// A [`SharedClock`] backed by the system clock.
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// A virtual clock for tests.
///
/// `sleep(d)` returns immediately (after yielding once to the scheduler) and moves the clock
/// forward by `d`; `sleep_until(t)` moves it to `max(now, t)`, so many tasks waiting for the same
/// instant (a rate limiter's next slot) do not push time past it. Every wait is recorded, as a
/// duration, so tests can assert on backoff schedules.
///
/// Clones share the same time.
#[derive(Clone)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    now: DateTime<Utc>,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            state: Arc::new(Mutex::new(ManualState {
                now: start,
                sleeps: Vec::new(),
            })),
        }
    }

    /// This clock as a [`SharedClock`].
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }

    /// Move time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        state.now += to_chrono(by);
    }

    /// Set the time (it may go backwards, to test clock skew).
    pub fn set(&self, to: DateTime<Utc>) {
        self.lock().now = to;
    }

    /// Every duration passed to [`Clock::sleep`] so far, in call order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    /// The sum of every duration passed to [`Clock::sleep`] so far.
    pub fn total_slept(&self) -> Duration {
        self.lock().sleeps.iter().sum()
    }

    fn lock(&self) -> MutexGuard<'_, ManualState> {
        // A panic while holding this lock can only come from a test's own assertion; the state
        // is still consistent, so keep going rather than poisoning every later call.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for ManualClock {
    /// A clock standing at 2026-01-01T00:00:00Z.
    fn default() -> Self {
        ManualClock::new(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_else(Utc::now),
        )
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.lock().now)
            .finish()
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.lock().now
    }

    async fn sleep(&self, duration: Duration) {
        {
            let mut state = self.lock();
            state.sleeps.push(duration);
            state.now += to_chrono(duration);
        }
        tokio::task::yield_now().await;
    }

    async fn sleep_until(&self, deadline: DateTime<Utc>) {
        {
            let mut state = self.lock();
            let waited = (deadline - state.now).to_std().unwrap_or_default();
            state.sleeps.push(waited);
            if deadline > state.now {
                state.now = deadline;
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Convert a std duration to a chrono one, saturating at chrono's maximum.
pub fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_sleep_advances_time_without_waiting() {
        let clock = ManualClock::default();
        let start = clock.now();
        clock.sleep(Duration::from_secs(90)).await;
        assert_eq!(clock.now() - start, chrono::Duration::seconds(90));
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(90)]);
    }

    #[tokio::test]
    async fn waits_for_the_same_instant_do_not_stack() {
        let clock = ManualClock::default();
        let start = clock.now();
        let deadline = start + chrono::Duration::seconds(20);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let clock = clock.clone();
                tokio::spawn(async move { clock.sleep_until(deadline).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("task panicked");
        }
        assert_eq!(clock.now(), deadline);
        // Waiting for a past instant returns at once and leaves time alone.
        clock.sleep_until(start).await;
        assert_eq!(clock.now(), deadline);
    }

    #[test]
    fn advance_and_set() {
        let clock = ManualClock::default();
        let start = clock.now();
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now() - start, chrono::Duration::seconds(5));
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}
