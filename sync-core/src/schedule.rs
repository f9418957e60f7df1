//! When a tenant's sync runs: fixed interval, daily or weekly at a local time in a time zone,
//! after an accounting period closes, or on demand. A [`ManualTrigger`] can start a run early
//! under any cadence.
//!
//! Daylight saving: a local time that does not exist on a day (spring forward) runs at the
//! first valid local time after it; a local time that exists twice (fall back) runs once, at
//! the first of the two instants.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use tokio::sync::Notify;

use crate::error::SyncError;
use crate::runner::ShutdownSignal;
use crate::source::PeriodCloseSignal;
use crate::time::SharedClock;

/// How often to run.
#[derive(Clone)]
pub enum Cadence {
    /// `Duration` after the previous run finished (the wait starts when a run ends).
    Interval(Duration),
    /// Every day at a local time.
    Daily {
        /// Local time of day.
        at: NaiveTime,
        /// Time zone.
        tz: Tz,
    },
    /// Every week on a day at a local time.
    Weekly {
        /// Day of the week.
        weekday: Weekday,
        /// Local time of day.
        at: NaiveTime,
        /// Time zone.
        tz: Tz,
    },
    /// When the source reports a newly closed accounting period (polled every `poll_every`).
    AfterPeriodClose {
        /// The signal.
        signal: Arc<dyn PeriodCloseSignal>,
        /// How often to ask.
        poll_every: Duration,
    },
    /// Only when triggered by hand.
    OnDemand,
}

impl fmt::Debug for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cadence::Interval(d) => f.debug_tuple("Interval").field(d).finish(),
            Cadence::Daily { at, tz } => f
                .debug_struct("Daily")
                .field("at", at)
                .field("tz", tz)
                .finish(),
            Cadence::Weekly { weekday, at, tz } => f
                .debug_struct("Weekly")
                .field("weekday", weekday)
                .field("at", at)
                .field("tz", tz)
                .finish(),
            Cadence::AfterPeriodClose { poll_every, .. } => f
                .debug_struct("AfterPeriodClose")
                .field("poll_every", poll_every)
                .finish_non_exhaustive(),
            Cadence::OnDemand => f.write_str("OnDemand"),
        }
    }
}

impl Cadence {
    /// Daily at `hh:mm` in the IANA zone `tz` (e.g. `"Pacific/Auckland"`).
    pub fn daily(hour: u32, minute: u32, tz: &str) -> Result<Self, SyncError> {
        Ok(Cadence::Daily {
            at: time_of_day(hour, minute)?,
            tz: parse_tz(tz)?,
        })
    }

    /// Weekly on `weekday` at `hh:mm` in the IANA zone `tz`.
    pub fn weekly(weekday: Weekday, hour: u32, minute: u32, tz: &str) -> Result<Self, SyncError> {
        Ok(Cadence::Weekly {
            weekday,
            at: time_of_day(hour, minute)?,
            tz: parse_tz(tz)?,
        })
    }

    /// The next time-based run strictly after `now`; `None` for cadences driven by events.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use sync_core::schedule::Cadence;
    /// let daily = Cadence::daily(6, 0, "Pacific/Auckland").unwrap();
    /// // 2026-01-10 12:00 UTC is 01:00 on the 11th in Auckland (NZDT, +13).
    /// let now = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
    /// assert_eq!(daily.next_after(now), Some(Utc.with_ymd_and_hms(2026, 1, 10, 17, 0, 0).unwrap()));
    /// ```
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Cadence::Interval(every) => Some(now + crate::time::to_chrono(*every)),
            Cadence::Daily { at, tz } => next_local(now, *at, tz, |_| true),
            Cadence::Weekly { weekday, at, tz } => {
                next_local(now, *at, tz, |d| d.weekday() == *weekday)
            }
            Cadence::AfterPeriodClose { .. } | Cadence::OnDemand => None,
        }
    }
}

fn time_of_day(hour: u32, minute: u32) -> Result<NaiveTime, SyncError> {
    NaiveTime::from_hms_opt(hour, minute, 0)
        .ok_or_else(|| SyncError::Config(format!("{hour:02}:{minute:02} is not a time of day")))
}

fn parse_tz(tz: &str) -> Result<Tz, SyncError> {
    tz.parse::<Tz>()
        .map_err(|_| SyncError::Config(format!("`{tz}` is not an IANA time zone")))
}

/// The instant of local `date` + `at` in `tz`, resolving DST gaps and overlaps.
fn resolve_local(tz: &Tz, date: NaiveDate, at: NaiveTime) -> Option<DateTime<Utc>> {
    let mut local: NaiveDateTime = date.and_time(at);
    // A gap is at most a few hours; walk forward minute by minute to its end.
    for _ in 0..=(4 * 60) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => return Some(first.with_timezone(&Utc)),
            LocalResult::None => local += chrono::Duration::minutes(1),
        }
    }
    None
}

fn next_local(
    now: DateTime<Utc>,
    at: NaiveTime,
    tz: &Tz,
    day_ok: impl Fn(NaiveDate) -> bool,
) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(tz).date_naive();
    // Start one day back: a gap-shifted time of "yesterday" can still lie after `now`.
    (-1..=8)
        .filter_map(|offset| today.checked_add_signed(chrono::Duration::days(offset)))
        .filter(|d| day_ok(*d))
        .filter_map(|d| resolve_local(tz, d, at))
        .find(|t| *t > now)
}

/// Starts a run by hand (on demand, or early under any cadence). Clones share the trigger; a
/// trigger while nothing waits is remembered once.
#[derive(Debug, Clone, Default)]
pub struct ManualTrigger {
    notify: Arc<Notify>,
}

impl ManualTrigger {
    /// A new trigger.
    pub fn new() -> Self {
        ManualTrigger::default()
    }

    /// Ask for a run now.
    pub fn trigger(&self) {
        self.notify.notify_one();
    }

    async fn wait(&self) {
        self.notify.notified().await;
    }
}

/// Why a run started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// The cadence's time came.
    Scheduled(DateTime<Utc>),
    /// A manual trigger.
    Manual,
    /// A new period close was reported (its label).
    PeriodClosed(String),
}

/// A cadence plus a manual trigger.
#[derive(Debug)]
pub struct Schedule {
    cadence: Cadence,
    trigger: ManualTrigger,
    last_close: Mutex<Option<String>>,
}

impl Schedule {
    /// A schedule with a fresh manual trigger.
    pub fn new(cadence: Cadence) -> Self {
        Schedule {
            cadence,
            trigger: ManualTrigger::new(),
            last_close: Mutex::new(None),
        }
    }

    /// The manual trigger (clone it to start runs from elsewhere).
    pub fn trigger(&self) -> ManualTrigger {
        self.trigger.clone()
    }

    /// The cadence.
    pub fn cadence(&self) -> &Cadence {
        &self.cadence
    }

    /// Wait until the next run is due; `None` when shutdown was signalled first.
    pub async fn wait_next(&self, clock: &SharedClock, shutdown: &ShutdownSignal) -> Option<Fired> {
        if shutdown.is_triggered() {
            return None;
        }
        match &self.cadence {
            Cadence::AfterPeriodClose { signal, poll_every } => loop {
                tokio::select! {
                    _ = shutdown.wait() => return None,
                    _ = self.trigger.wait() => return Some(Fired::Manual),
                    _ = clock.sleep(*poll_every) => {}
                }
                match signal.last_close().await {
                    Ok(Some((label, _))) => {
                        let mut last = self.last_close.lock().unwrap_or_else(|p| p.into_inner());
                        if last.as_deref() != Some(label.as_str()) {
                            *last = Some(label.clone());
                            return Some(Fired::PeriodClosed(label));
                        }
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "period-close signal failed"),
                }
            },
            Cadence::OnDemand => tokio::select! {
                _ = shutdown.wait() => None,
                _ = self.trigger.wait() => Some(Fired::Manual),
            },
            timed => {
                let deadline = timed.next_after(clock.now())?;
                tokio::select! {
                    _ = shutdown.wait() => None,
                    _ = self.trigger.wait() => Some(Fired::Manual),
                    _ = clock.sleep_until(deadline) => Some(Fired::Scheduled(deadline)),
                }
            }
        }
    }
}
