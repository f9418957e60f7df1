//! One retry policy for every HTTP client of the SDK.
//!
//! The rules, shared by the ION and Cin7 clients:
//!
//! - Back off exponentially with jitter between attempts, capped, for a bounded number of
//!   retries ([`backon`] computes the schedule).
//! - A server's `Retry-After` wins over the computed delay (capped by
//!   [`RetryPolicy::max_retry_after`], so a hostile or confused server cannot park a worker for
//!   a day).
//! - Whether a failed attempt may be retried depends on what is known about its delivery
//!   ([`Delivery`]) and on whether the request is idempotent ([`Idempotency`]): a request that
//!   certainly did not reach the server, or was refused unprocessed, is always safe to send
//!   again; one that may have been processed is only resent when repeating it is harmless.
//!   A create (POST) whose outcome is unknown is never blindly resent: the caller has to look
//!   the record up first.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};

use crate::time::Clock;

/// Whether sending a request twice has the same effect as sending it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Safe to repeat: reads, `PUT`, `DELETE`, and writes the caller knows to be idempotent.
    Idempotent,
    /// Not safe to repeat once the server may have processed it (a create).
    NonIdempotent,
}

impl Idempotency {
    /// The default for an HTTP method: `POST` and `PATCH` are not idempotent, the rest are.
    ///
    /// ```
    /// use sdk_common::retry::Idempotency;
    /// assert_eq!(Idempotency::for_method("GET"), Idempotency::Idempotent);
    /// assert_eq!(Idempotency::for_method("post"), Idempotency::NonIdempotent);
    /// ```
    pub fn for_method(method: &str) -> Self {
        if method.eq_ignore_ascii_case("POST") || method.eq_ignore_ascii_case("PATCH") {
            Idempotency::NonIdempotent
        } else {
            Idempotency::Idempotent
        }
    }
}

/// What is known about whether a failed attempt reached the server and was processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// The request never left (DNS or connect failure) or the server refused it without
    /// processing it (throttled with 429). Always safe to retry.
    NotProcessed,
    /// The request may have been processed (timeout after sending, connection reset, 5xx from a
    /// gateway). Only idempotent requests may be retried.
    Unknown,
    /// The server processed it and answered; the answer is final (4xx other than throttling).
    Processed,
}

/// Why an attempt failed, as far as the retry decision is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Whether the attempt reached the server.
    pub delivery: Delivery,
    /// Whether the failure is transient (throttling, 5xx, timeout, connection trouble) rather
    /// than a final answer.
    pub transient: bool,
    /// The delay the server asked for, if it sent `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that must not be retried.
    pub const PERMANENT: Failure = Failure {
        delivery: Delivery::Processed,
        transient: false,
        retry_after: None,
    };

    /// Whether this failure may be retried for a request of the given idempotency.
    ///
    /// ```
    /// use sdk_common::retry::{Delivery, Failure, Idempotency};
    /// let timeout = Failure { delivery: Delivery::Unknown, transient: true, retry_after: None };
    /// assert!(timeout.is_retryable(Idempotency::Idempotent));
    /// assert!(!timeout.is_retryable(Idempotency::NonIdempotent));
    /// ```
    pub fn is_retryable(&self, idempotency: Idempotency) -> bool {
        if !self.transient {
            return false;
        }
        match self.delivery {
            Delivery::NotProcessed => true,
            Delivery::Unknown => idempotency == Idempotency::Idempotent,
            Delivery::Processed => false,
        }
    }
}

/// Capped exponential backoff with jitter, a retry budget, and `Retry-After` handling.
///
/// ```
/// use std::time::Duration;
/// use sdk_common::retry::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_retries(5)
///     .with_delays(Duration::from_millis(200), Duration::from_secs(30));
/// let mut schedule = policy.schedule();
/// let first = schedule.next_delay(None).expect("a first retry");
/// assert!(first >= Duration::from_millis(200) && first <= Duration::from_millis(400));
/// // The server's Retry-After wins over the computed delay.
/// assert_eq!(schedule.next_delay(Some(Duration::from_secs(7))), Some(Duration::from_secs(7)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_retries: usize,
    min_delay: Duration,
    max_delay: Duration,
    factor: f32,
    jitter: bool,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Four retries, 500 ms doubling to at most 30 s, with jitter; `Retry-After` honoured up to
    /// five minutes.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            factor: 2.0,
            jitter: true,
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// How many retries (not counting the first attempt) are allowed.
    pub fn with_max_retries(mut self, max_retries: usize) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The first delay and the cap on any computed delay.
    pub fn with_delays(mut self, min_delay: Duration, max_delay: Duration) -> Self {
        self.min_delay = min_delay;
        self.max_delay = max_delay.max(min_delay);
        self
    }

    /// The growth factor between consecutive delays (default 2).
    pub fn with_factor(mut self, factor: f32) -> Self {
        self.factor = factor.max(1.0);
        self
    }

    /// Whether to add random jitter (default on; turn off for exact schedules in tests).
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// How many retries are allowed.
    pub fn max_retries(&self) -> usize {
        self.max_retries
    }

    /// The longest `Retry-After` honoured.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// A fresh schedule for one request.
    pub fn schedule(&self) -> RetrySchedule {
        let mut builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.factor)
            .with_max_times(self.max_retries);
        if self.jitter {
            builder = builder.with_jitter();
        }
        RetrySchedule {
            delays: Box::new(builder.build()),
            max_retry_after: self.max_retry_after,
            retries: 0,
        }
    }
}

/// The delays left for one request; see [`RetryPolicy::schedule`].
pub struct RetrySchedule {
    delays: Box<dyn Iterator<Item = Duration> + Send + Sync>,
    max_retry_after: Duration,
    retries: usize,
}

impl std::fmt::Debug for RetrySchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetrySchedule")
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl RetrySchedule {
    /// The delay before the next retry, or `None` when the budget is spent.
    ///
    /// A `Retry-After` from the server replaces the computed delay (capped at the policy's
    /// maximum); it still uses up one retry.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        // backon computes in f32; round to whole milliseconds so schedules are exact.
        let computed = Duration::from_millis(self.delays.next()?.as_millis() as u64);
        self.retries += 1;
        Some(match retry_after {
            Some(asked) => asked.min(self.max_retry_after),
            None => computed,
        })
    }

    /// How many retries this schedule has handed out.
    pub fn retries(&self) -> usize {
        self.retries
    }
}

/// A failed attempt as [`RetryLoop`] sees it: the caller's error and what is known about it.
#[derive(Debug)]
pub struct Failed<E> {
    /// The error returned if no attempt follows.
    pub error: E,
    /// Whether the attempt reached the server, whether it is transient, and any `Retry-After`.
    pub failure: Failure,
    /// The server answered, but not with what was asked for (an HTML page, a body cut short,
    /// a 500 on a read). Such an attempt is asked again only within the loop's bad-answer
    /// budget ([`RetryLoop::reread_bad_answers`]), whatever `failure` says.
    pub bad_answer: bool,
}

impl<E> Failed<E> {
    /// A failure decided by `failure`.
    pub fn new(error: E, failure: Failure) -> Self {
        Failed {
            error,
            failure,
            bad_answer: false,
        }
    }

    /// A final failure: never retried.
    pub fn permanent(error: E) -> Self {
        Failed::new(error, Failure::PERMANENT)
    }

    /// An answer that was not what was asked for (see [`Failed::bad_answer`]).
    pub fn bad_answer(error: E, failure: Failure) -> Self {
        Failed {
            error,
            failure,
            bad_answer: true,
        }
    }
}

/// The one retry loop of the SDK's HTTP clients: it sends, decides from what is known about a
/// failure whether another attempt is allowed ([`Failure::is_retryable`] for the request's
/// [`Idempotency`], a bad-answer budget for garbled answers to safe reads), waits on the
/// injected clock (a server's `Retry-After` wins over the computed delay) and tries again.
///
/// Everything that differs between the clients stays in the attempt: the ION client renews a
/// token refused with 401 inside one attempt, the Cin7 client waits for a rate-limit slot
/// before each send and holds every caller of the account when throttled (`before_retry`).
///
/// ```
/// use std::time::Duration;
/// use chrono::Utc;
/// use sdk_common::retry::{Delivery, Failed, Failure, Idempotency, RetryLoop, RetryPolicy};
/// use sdk_common::time::ManualClock;
///
/// # tokio_test_block_on(async {
/// let clock = ManualClock::new(Utc::now());
/// let policy = RetryPolicy::default().with_jitter(false).with_delays(Duration::from_secs(1), Duration::from_secs(8));
/// let throttled = Failure { delivery: Delivery::NotProcessed, transient: true, retry_after: Some(Duration::from_secs(5)) };
/// let mut retry = RetryLoop::new(&policy, Idempotency::NonIdempotent);
/// let answer: Result<&str, _> = retry
///     .run(&clock, |attempt| async move {
///         if attempt < 3 { Err(Failed::new("429", throttled)) } else { Ok("created") }
///     }, |_, _| {})
///     .await;
/// assert_eq!(answer.map_err(|f| f.error), Ok("created"));
/// assert_eq!(retry.retries(), 2);
/// assert_eq!(clock.total_slept(), Duration::from_secs(10), "Retry-After wins");
/// # });
/// # fn tokio_test_block_on(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug)]
pub struct RetryLoop {
    schedule: RetrySchedule,
    idempotency: Idempotency,
    bad_answer_budget: usize,
}

impl RetryLoop {
    /// A loop on `policy`'s schedule for a request of the given idempotency. Garbled answers
    /// are not asked again unless [`reread_bad_answers`](Self::reread_bad_answers) says so.
    pub fn new(policy: &RetryPolicy, idempotency: Idempotency) -> Self {
        RetryLoop {
            schedule: policy.schedule(),
            idempotency,
            bad_answer_budget: 0,
        }
    }

    /// Ask again, at most `max` times, when the answer was not what was asked for. Only for
    /// safe reads: a write answered with an HTML page may have been applied.
    pub fn reread_bad_answers(mut self, max: usize) -> Self {
        self.bad_answer_budget = max;
        self
    }

    /// The delay before another attempt after `failed`, or `None` when it must be the last.
    pub fn next_delay<E>(&mut self, failed: &Failed<E>) -> Option<Duration> {
        let allowed = if failed.bad_answer {
            self.bad_answer_budget > 0
        } else {
            failed.failure.is_retryable(self.idempotency)
        };
        if !allowed {
            return None;
        }
        let delay = self.schedule.next_delay(failed.failure.retry_after)?;
        if failed.bad_answer {
            self.bad_answer_budget -= 1;
        }
        Some(delay)
    }

    /// How many retries this loop has made.
    pub fn retries(&self) -> usize {
        self.schedule.retries()
    }

    /// Run `attempt` (given the 1-based attempt number) until it succeeds or may not be
    /// retried; `before_retry` sees each failure that will be retried and the wait before the
    /// next attempt (to log it, or to hold other callers), then the loop sleeps on `clock`.
    /// The last failure is returned whole, so the caller can tell how it ended.
    pub async fn run<T, E, F, Fut>(
        &mut self,
        clock: &dyn Clock,
        mut attempt: F,
        mut before_retry: impl FnMut(&Failed<E>, Duration),
    ) -> Result<T, Failed<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, Failed<E>>>,
    {
        let mut number: u32 = 0;
        loop {
            number += 1;
            let failed = match attempt(number).await {
                Ok(value) => return Ok(value),
                Err(failed) => failed,
            };
            let Some(delay) = self.next_delay(&failed) else {
                return Err(failed);
            };
            before_retry(&failed, delay);
            clock.sleep(delay).await;
        }
    }
}

/// Parse an HTTP `Retry-After` value: delta-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2026 07:28:00 GMT`), relative to `now`. A date in the past means "now".
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use sdk_common::retry::parse_retry_after;
///
/// let now = Utc.with_ymd_and_hms(2026, 10, 21, 7, 27, 0).unwrap();
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now), Some(Duration::from_secs(60)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // Some servers send fractional seconds; accept them rather than ignore the hint.
    if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Some(Duration::from_secs_f64(seconds.min(u32::MAX as f64)));
        }
        return None;
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&Utc) - now).to_std().unwrap_or_default())
}

/// Why a connection could not be made, in words, from a client's error and its sources:
/// `connection refused`, `DNS lookup failed`, `TLS handshake failed: …`, or else the innermost
/// error's own text (an HTTP client's own top-level text, such as "error sending request", says
/// nothing an operator can act on).
///
/// ```
/// use sdk_common::retry::connect_cause;
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// assert_eq!(connect_cause(&refused), "connection refused");
/// let dns = std::io::Error::other("failed to lookup address information");
/// assert_eq!(connect_cause(&dns), "DNS lookup failed");
/// ```
pub fn connect_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error.to_string();
    let mut next = Some(error);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return "connection refused".into();
        }
        innermost = err.to_string();
        next = err.source();
    }
    let lower = innermost.to_ascii_lowercase();
    if lower.contains("dns") || lower.contains("lookup address") || lower.contains("resolve") {
        "DNS lookup failed".into()
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("ssl") {
        format!("TLS handshake failed: {innermost}")
    } else if lower.contains("refused") {
        "connection refused".into()
    } else {
        innermost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn schedule_doubles_and_caps_without_jitter() {
        let policy = RetryPolicy::default()
            .with_max_retries(6)
            .with_delays(Duration::from_secs(1), Duration::from_secs(10))
            .with_jitter(false);
        let mut schedule = policy.schedule();
        let delays: Vec<_> = std::iter::from_fn(|| schedule.next_delay(None)).collect();
        let secs: Vec<_> = delays.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 10, 10]);
        assert_eq!(schedule.retries(), 6);
    }

    #[test]
    fn jitter_stays_within_one_delay_of_the_base() {
        let policy = RetryPolicy::default()
            .with_max_retries(3)
            .with_delays(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..50 {
            let mut schedule = policy.schedule();
            let first = schedule.next_delay(None).expect("first");
            assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(2));
        }
    }

    #[test]
    fn retry_after_is_capped_and_spends_budget() {
        let policy = RetryPolicy::default()
            .with_max_retries(1)
            .with_max_retry_after(Duration::from_secs(60));
        let mut schedule = policy.schedule();
        assert_eq!(
            schedule.next_delay(Some(Duration::from_secs(86_400))),
            Some(Duration::from_secs(60))
        );
        assert_eq!(schedule.next_delay(None), None);
    }

    fn exact(retries: usize) -> RetryPolicy {
        RetryPolicy::default()
            .with_max_retries(retries)
            .with_delays(Duration::from_secs(1), Duration::from_secs(60))
            .with_jitter(false)
    }

    const UNKNOWN: Failure = Failure {
        delivery: Delivery::Unknown,
        transient: true,
        retry_after: None,
    };

    #[test]
    fn the_loop_follows_delivery_idempotency_and_the_bad_answer_budget() {
        // A create whose outcome is unknown is never resent; a read is.
        let failed = Failed::new("timeout", UNKNOWN);
        assert_eq!(
            RetryLoop::new(&exact(3), Idempotency::NonIdempotent).next_delay(&failed),
            None
        );
        let mut read = RetryLoop::new(&exact(3), Idempotency::Idempotent);
        assert_eq!(read.next_delay(&failed), Some(Duration::from_secs(1)));
        assert_eq!(read.next_delay(&failed), Some(Duration::from_secs(2)));
        assert_eq!(read.retries(), 2);

        // Garbled answers: only within the budget, and they spend the schedule too.
        let garbled = Failed::bad_answer("html page", Failure::PERMANENT);
        let mut never = RetryLoop::new(&exact(3), Idempotency::Idempotent);
        assert_eq!(never.next_delay(&garbled), None, "no budget by default");
        let mut twice = RetryLoop::new(&exact(5), Idempotency::Idempotent).reread_bad_answers(2);
        assert!(twice.next_delay(&garbled).is_some());
        assert!(twice.next_delay(&garbled).is_some());
        assert_eq!(twice.next_delay(&garbled), None, "budget spent");
        assert!(
            twice.next_delay(&failed).is_some(),
            "other failures still retried"
        );
        assert_eq!(
            RetryLoop::new(&exact(0), Idempotency::Idempotent)
                .reread_bad_answers(2)
                .next_delay(&garbled),
            None,
            "the schedule caps the budget"
        );

        assert_eq!(
            read.next_delay(&Failed::permanent("400")),
            None,
            "a final answer is final"
        );
    }

    #[tokio::test]
    async fn the_loop_waits_on_the_clock_and_returns_the_last_failure() {
        let clock = crate::time::ManualClock::new(Utc::now());
        let mut retry = RetryLoop::new(&exact(2), Idempotency::Idempotent);
        let mut seen = Vec::new();
        let outcome: Result<(), Failed<u32>> = retry
            .run(
                &clock,
                |n| async move { Err(Failed::new(n, UNKNOWN)) },
                |failed, delay| seen.push((failed.error, delay)),
            )
            .await;
        let last = outcome.expect_err("never succeeds");
        assert_eq!(last.error, 3, "two retries after the first attempt");
        assert_eq!(
            seen,
            vec![(1, Duration::from_secs(1)), (2, Duration::from_secs(2))]
        );
        assert_eq!(clock.total_slept(), Duration::from_secs(3));
    }

    #[test]
    fn none_never_retries() {
        assert_eq!(RetryPolicy::none().schedule().next_delay(None), None);
    }

    #[test]
    fn retryability_follows_delivery_and_idempotency() {
        use Delivery::*;
        use Idempotency::*;
        let f = |delivery, transient| Failure {
            delivery,
            transient,
            retry_after: None,
        };
        assert!(f(NotProcessed, true).is_retryable(NonIdempotent));
        assert!(f(Unknown, true).is_retryable(Idempotent));
        assert!(!f(Unknown, true).is_retryable(NonIdempotent));
        assert!(!f(Processed, true).is_retryable(Idempotent));
        assert!(!f(NotProcessed, false).is_retryable(Idempotent));
        assert!(!Failure::PERMANENT.is_retryable(Idempotent));
    }

    #[test]
    fn retry_after_forms() {
        let now = Utc
            .with_ymd_and_hms(2026, 10, 21, 7, 28, 0)
            .single()
            .expect("valid date");
        assert_eq!(parse_retry_after(" 5 ", now), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-3", now), None);
        // A date in the past means retry now.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("", now), None);
    }
}
