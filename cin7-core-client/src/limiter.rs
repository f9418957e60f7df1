//! Client-side rate limiting: a `governor` limiter per Cin7 client, shared by its clones.
//!
//! Cin7 Core allows 60 calls per 60 seconds. Every clone of a client shares its
//! [`AccountLimiter`]; build one client per account and clone it. Clients built separately
//! share a budget only when asked: [`Cin7ClientBuilder::limiter`](crate::Cin7ClientBuilder::limiter)
//! passes one explicitly, and [`Cin7ClientBuilder::limiter_scope`](crate::Cin7ClientBuilder::limiter_scope)
//! opts in to a process-wide registry. Whether the budget belongs to the account or to each API
//! application is disputed (Cin7's API docs say per application, integrators' notes say per
//! account; see `docs/assumptions.md`), so the registry is keyed by account id
//! ([`LimiterScope::Account`]) or by account + application key ([`LimiterScope::ApplicationKey`]).
//!
//! # Why `check()` and our own clock instead of governor's async waiting
//!
//! governor's `until_ready()` sleeps with a real-time timer (`futures-timer`) and reads time
//! from `quanta`, so under a virtual [`ManualClock`](sdk_common::time::ManualClock) it would
//! either block tests for real minutes or disagree with the clock that drives backoff. Instead
//! the limiter runs on [`ClockAdapter`], a governor `Clock` that reads our injected
//! [`SharedClock`], and callers loop on the non-blocking `check()`: on `NotUntil` they wait with
//! the same clock's `sleep_until(earliest_possible)` and try again. The GCRA state is a single
//! atomic, so concurrent callers racing for a slot never both get it; a loser just waits for
//! the next one. The same clock therefore drives limiter waits and retry backoff, and tests run
//! instantly and deterministically.
//!
//! # Quota shape
//!
//! The default spreads calls evenly (burst 1, one call every `per / calls`): in any window of
//! length `per` at most `calls` are admitted, which is what a server counting "60 calls per
//! 60 seconds" accepts whatever its window alignment. A larger burst lets short spikes through
//! at once but admits up to `calls + burst - 1` in a window, so it is opt-in.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::clock::{Clock as GovernorClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use sdk_common::time::SharedClock;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// How many calls are allowed per period.
///
/// ```
/// use std::time::Duration;
/// use cin7_core_client::RateLimit;
/// let default = RateLimit::default();
/// assert_eq!((default.calls(), default.per()), (60, Duration::from_secs(60)));
/// let raised = RateLimit::new(1200, Duration::from_secs(60)).unwrap();
/// assert_eq!(raised.interval(), Duration::from_millis(50));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    calls: u32,
    per: Duration,
    burst: u32,
    margin: Duration,
}

impl Default for RateLimit {
    /// Cin7's published limit: 60 calls per 60 seconds, evenly spread.
    fn default() -> Self {
        RateLimit {
            calls: 60,
            per: Duration::from_secs(60),
            burst: 1,
            margin: Duration::ZERO,
        }
    }
}

impl RateLimit {
    /// `calls` per `per`, evenly spread (burst 1). Zero calls or a zero period is an error.
    pub fn new(calls: u32, per: Duration) -> Result<Self> {
        if calls == 0 || per.is_zero() {
            return Err(Error::Config(format!(
                "rate limit must allow at least one call in a non-zero period, got {calls} per {per:?}"
            )));
        }
        Ok(RateLimit {
            calls,
            per,
            burst: 1,
            margin: Duration::ZERO,
        })
    }

    /// Allow up to `burst` calls back to back (at least 1, at most `calls`).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.clamp(1, self.calls);
        self
    }

    /// Spread the calls over `per + margin` instead of `per`, so that network jitter between
    /// this process and Cin7 cannot push `calls + 1` requests into one server-side window
    /// (e.g. 60 per 60 s with a 1 s margin sends one call every 1.0167 s).
    pub fn with_safety_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The safety margin added to the period.
    pub fn safety_margin(&self) -> Duration {
        self.margin
    }

    /// Calls per period.
    pub fn calls(&self) -> u32 {
        self.calls
    }

    /// The period.
    pub fn per(&self) -> Duration {
        self.per
    }

    /// The burst size.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The spacing between calls at the steady rate: `(per + safety margin) / calls`.
    pub fn interval(&self) -> Duration {
        (self.per + self.margin) / self.calls
    }

    /// The steady rate in calls per second (`1 / interval`).
    fn per_second(&self) -> f64 {
        1.0 / self.interval().as_secs_f64().max(f64::MIN_POSITIVE)
    }

    fn quota(&self) -> Result<Quota> {
        let burst = NonZeroU32::new(self.burst.max(1))
            .ok_or_else(|| Error::Config("burst must be at least 1".into()))?;
        Quota::with_period(self.interval())
            .map(|q| q.allow_burst(burst))
            .ok_or_else(|| Error::Config("rate limit interval is zero".into()))
    }
}

/// What the process-wide limiter registry is keyed by, for clients that opt in to it
/// ([`Cin7ClientBuilder::limiter_scope`](crate::Cin7ClientBuilder::limiter_scope)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimiterScope {
    /// One budget per Cin7 account (the safe default).
    #[default]
    Account,
    /// One budget per account + API application key (if the limit really is per application).
    ApplicationKey,
}

/// A governor clock reading our injected [`SharedClock`]; instants are durations since the Unix
/// epoch (before the epoch saturates to zero).
#[derive(Clone)]
pub struct ClockAdapter(SharedClock);

impl fmt::Debug for ClockAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClockAdapter").field(&self.0).finish()
    }
}

/// An instant on [`ClockAdapter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EpochInstant(Duration);

impl EpochInstant {
    fn from_datetime(at: DateTime<Utc>) -> Self {
        let since = at - DateTime::<Utc>::UNIX_EPOCH;
        EpochInstant(since.to_std().unwrap_or_default())
    }

    fn to_datetime(self) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + sdk_common::time::to_chrono(self.0)
    }
}

impl std::ops::Add<Nanos> for EpochInstant {
    type Output = EpochInstant;
    fn add(self, other: Nanos) -> EpochInstant {
        EpochInstant(self.0 + Duration::from(other))
    }
}

impl Reference for EpochInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        self.0.saturating_sub(earlier.0).into()
    }

    fn saturating_sub(&self, duration: Nanos) -> Self {
        EpochInstant(self.0.checked_sub(duration.into()).unwrap_or(self.0))
    }
}

impl GovernorClock for ClockAdapter {
    type Instant = EpochInstant;
    fn now(&self) -> EpochInstant {
        EpochInstant::from_datetime(self.0.now())
    }
}

type Gcra = RateLimiter<NotKeyed, InMemoryState, ClockAdapter, NoOpMiddleware<EpochInstant>>;

/// The call budget shared by every client of one Cin7 account (or application key).
///
/// Besides the steady rate it holds a pause: when Cin7 throttles one caller anyway (another
/// process using the same account, a stricter server window), every caller of the account
/// waits until the pause ends instead of drawing more 429s.
pub struct AccountLimiter {
    gcra: Gcra,
    limit: RateLimit,
    clock: SharedClock,
    paused_until: Mutex<Option<DateTime<Utc>>>,
    pace: Mutex<Pace>,
}

/// The pace after throttling (AIMD): each throttle halves the rate and lowers a ceiling to 90%
/// of the rate that was throttled; every quiet period ([`QUIET_PERIODS`] × the limit's period
/// without a throttle) the rate grows by an eighth of the configured one, up to the ceiling.
/// So a configured rate above the server's real limit converges below it, and stays there for
/// the life of the process (restart, or configure a lower rate, to start from another one).
/// Neither goes below a sixteenth of the configured rate.
#[derive(Debug)]
struct Pace {
    /// Calls per second now.
    rate: f64,
    /// Calls per second never to go above again (lowered by each throttle).
    ceiling: f64,
    last_change: Option<DateTime<Utc>>,
    last_grant: Option<DateTime<Utc>>,
}

/// Periods of the configured limit without a throttle before the pace goes up a step.
pub const QUIET_PERIODS: u32 = 2;

impl fmt::Debug for AccountLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountLimiter")
            .field("limit", &self.limit)
            .field("paused_until", &self.paused_until())
            .finish_non_exhaustive()
    }
}

impl AccountLimiter {
    /// A limiter for `limit`, timed by `clock`, not registered anywhere (for callers who manage
    /// sharing themselves; see [`crate::Cin7ClientBuilder::limiter`]).
    pub fn new(limit: RateLimit, clock: SharedClock) -> Result<Arc<Self>> {
        let gcra = RateLimiter::new(
            limit.quota()?,
            InMemoryState::default(),
            ClockAdapter(clock.clone()),
        );
        let configured = limit.per_second();
        Ok(Arc::new(AccountLimiter {
            gcra,
            limit,
            clock,
            paused_until: Mutex::new(None),
            pace: Mutex::new(Pace {
                rate: configured,
                ceiling: configured,
                last_change: None,
                last_grant: None,
            }),
        }))
    }

    /// The configured rate.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Wait (on the injected clock) until a call may be made, take the slot, and return the
    /// instant it was granted.
    pub async fn acquire(&self) -> DateTime<Utc> {
        loop {
            if let Some(until) = self.paused_until()
                && until > self.clock.now()
            {
                self.clock.sleep_until(until).await;
                continue;
            }
            if let Some(next) = self.slowed_until(self.clock.now()) {
                self.clock.sleep_until(next).await;
                continue;
            }
            match self.gcra.check() {
                Ok(()) => {
                    let now = self.clock.now();
                    self.pace_lock().last_grant = Some(now);
                    return now;
                }
                Err(not_until) => {
                    let at = not_until.earliest_possible().to_datetime();
                    self.clock.sleep_until(at).await;
                }
            }
        }
    }

    /// Cin7 throttled a call: halve the pace and lower its ceiling (see the type's docs).
    pub fn throttled(&self) {
        let now = self.clock.now();
        let configured = self.limit.per_second();
        let mut pace = self.pace_lock();
        // Never below a sixteenth of the configured rate: a burst of throttles (another
        // process on the account for a while) must not stall this one.
        let floor = configured / 16.0;
        pace.ceiling = (pace.ceiling.min(pace.rate) * 0.9).max(floor);
        pace.rate = (pace.rate / 2.0).max(floor);
        pace.last_change = Some(now);
    }

    /// The calls per second the limiter allows now (the configured rate until a throttle).
    pub fn pace(&self) -> f64 {
        self.pace_lock().rate
    }

    /// When the next call may go at the slowed pace, if that is later than `now`; raises the
    /// pace a step after each quiet period.
    fn slowed_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let configured = self.limit.per_second();
        let mut pace = self.pace_lock();
        if pace.rate >= configured {
            return None;
        }
        let quiet = sdk_common::time::to_chrono(self.limit.per() * QUIET_PERIODS);
        if pace.last_change.is_none_or(|at| now - at >= quiet) {
            pace.rate = (pace.rate + configured / 8.0).min(pace.ceiling.min(configured));
            pace.last_change = Some(now);
        }
        let gap = std::time::Duration::from_secs_f64(1.0 / pace.rate.max(f64::MIN_POSITIVE));
        let next = pace.last_grant? + sdk_common::time::to_chrono(gap);
        (next > now).then_some(next)
    }

    fn pace_lock(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hold every caller of this account until `until` (after Cin7 throttled a call).
    pub fn pause_until(&self, until: DateTime<Utc>) {
        let mut paused = self.lock();
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// The end of the current pause, if one was set.
    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<DateTime<Utc>>> {
        self.paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RegistryKey {
    account: String,
    /// A keyed hash of the application key (never the key itself), only for
    /// [`LimiterScope::ApplicationKey`].
    application: Option<u64>,
}

struct Registry {
    hasher: RandomState,
    limiters: Mutex<HashMap<RegistryKey, Arc<AccountLimiter>>>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry {
        // Random per process, so the fingerprint of a key is useless outside it.
        hasher: RandomState::new(),
        limiters: Mutex::new(HashMap::new()),
    })
}

/// The shared limiter for an account (created on first use).
///
/// The first client registered for a key fixes its rate and clock; a later client asking for a
/// different rate gets the existing limiter (and a warning), because two budgets for one
/// account would defeat the point.
pub(crate) fn shared_limiter(
    account_id: &SecretString,
    application_key: &SecretString,
    scope: LimiterScope,
    limit: RateLimit,
    clock: &SharedClock,
) -> Result<Arc<AccountLimiter>> {
    let registry = registry();
    let key = RegistryKey {
        account: account_id.expose_secret().trim().to_ascii_lowercase(),
        application: match scope {
            LimiterScope::Account => None,
            LimiterScope::ApplicationKey => Some(
                registry
                    .hasher
                    .hash_one(application_key.expose_secret().trim().to_ascii_lowercase()),
            ),
        },
    };
    let mut limiters = registry
        .limiters
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(existing) = limiters.get(&key) {
        if existing.limit != limit {
            tracing::warn!(
                existing = ?existing.limit,
                requested = ?limit,
                "a Cin7 rate limiter already exists for this account; keeping its rate"
            );
        }
        return Ok(existing.clone());
    }
    let limiter = AccountLimiter::new(limit, clock.clone())?;
    limiters.insert(key, limiter.clone());
    Ok(limiter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdk_common::time::{Clock, ManualClock};

    #[tokio::test]
    async fn evenly_spread_calls_never_exceed_the_window() {
        let clock = ManualClock::default();
        let limiter = AccountLimiter::new(RateLimit::default(), clock.shared()).unwrap();
        let start = clock.now();
        let mut grants = Vec::new();
        for _ in 0..130 {
            grants.push(limiter.acquire().await);
        }
        for (i, at) in grants.iter().enumerate() {
            let in_window = grants[i..]
                .iter()
                .take_while(|t| **t < *at + chrono::Duration::seconds(60))
                .count();
            assert!(in_window <= 60, "{in_window} calls in the window from {at}");
        }
        // 130 calls at one per second take 129 seconds.
        assert_eq!(
            *grants.last().unwrap() - start,
            chrono::Duration::seconds(129)
        );
    }

    #[tokio::test]
    async fn a_pause_holds_callers() {
        let clock = ManualClock::default();
        let limiter = AccountLimiter::new(RateLimit::default(), clock.shared()).unwrap();
        let until = clock.now() + chrono::Duration::seconds(65);
        limiter.pause_until(until);
        assert!(limiter.acquire().await >= until);
    }

    #[test]
    fn zero_rates_are_rejected() {
        assert!(RateLimit::new(0, Duration::from_secs(60)).is_err());
        assert!(RateLimit::new(10, Duration::ZERO).is_err());
        assert_eq!(
            RateLimit::new(10, Duration::from_secs(1))
                .unwrap()
                .with_burst(99)
                .burst(),
            10
        );
    }

    #[test]
    fn registry_shares_by_account_and_optionally_by_key() {
        let clock = ManualClock::default().shared();
        let account = SecretString::from("REGISTRY-TEST-ACCOUNT");
        let key_a = SecretString::from("key-a");
        let key_b = SecretString::from("key-b");
        let limit = RateLimit::default();
        let a = shared_limiter(&account, &key_a, LimiterScope::Account, limit, &clock).unwrap();
        let b = shared_limiter(
            &SecretString::from("registry-test-account"),
            &key_b,
            LimiterScope::Account,
            limit,
            &clock,
        )
        .unwrap();
        assert!(Arc::ptr_eq(&a, &b), "account scope ignores the key");
        let ka = shared_limiter(
            &account,
            &key_a,
            LimiterScope::ApplicationKey,
            limit,
            &clock,
        )
        .unwrap();
        let kb = shared_limiter(
            &account,
            &key_b,
            LimiterScope::ApplicationKey,
            limit,
            &clock,
        )
        .unwrap();
        assert!(!Arc::ptr_eq(&ka, &kb));
        assert!(!Arc::ptr_eq(&a, &ka));
    }
}
