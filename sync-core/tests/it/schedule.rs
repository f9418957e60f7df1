//! Cadences with a controlled clock, including time zones and daylight-saving boundaries.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc, Weekday};
use sync_core::error::{SourceError, SyncError};
use sync_core::runner::Shutdown;
use sync_core::schedule::{Cadence, Fired, Schedule};
use sync_core::source::PeriodCloseSignal;
use sync_core::time::ManualClock;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

#[test]
fn interval_is_relative_to_now() {
    let c = Cadence::Interval(Duration::from_secs(900));
    assert_eq!(
        c.next_after(utc(2026, 1, 1, 0, 0)),
        Some(utc(2026, 1, 1, 0, 15))
    );
}

#[test]
fn daily_in_berlin_across_spring_forward_runs_at_the_first_valid_time() {
    // 2026-03-29: Berlin clocks jump from 02:00 CET to 03:00 CEST; 02:30 does not exist.
    let c = Cadence::daily(2, 30, "Europe/Berlin").unwrap();
    assert_eq!(
        c.next_after(utc(2026, 3, 28, 0, 0)),
        Some(utc(2026, 3, 28, 1, 30)),
        "CET, UTC+1"
    );
    assert_eq!(
        c.next_after(utc(2026, 3, 28, 1, 30)),
        Some(utc(2026, 3, 29, 1, 0)),
        "gap: 03:00 CEST"
    );
    assert_eq!(
        c.next_after(utc(2026, 3, 29, 1, 0)),
        Some(utc(2026, 3, 30, 0, 30)),
        "CEST, UTC+2"
    );
}

#[test]
fn daily_in_berlin_across_fall_back_runs_once() {
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    let c = Cadence::daily(2, 30, "Europe/Berlin").unwrap();
    let first = c.next_after(utc(2026, 10, 24, 23, 0)).unwrap();
    assert_eq!(first, utc(2026, 10, 25, 0, 30), "the first (CEST) instant");
    assert_eq!(
        c.next_after(first),
        Some(utc(2026, 10, 26, 1, 30)),
        "not again an hour later"
    );
}

#[test]
fn daily_in_auckland_follows_nz_daylight_saving() {
    // NZDT (UTC+13) ends 2026-04-05 03:00 -> NZST (UTC+12).
    let c = Cadence::daily(6, 0, "Pacific/Auckland").unwrap();
    // 2026-04-02 18:00 UTC is 07:00 NZDT on the 3rd.
    assert_eq!(
        c.next_after(utc(2026, 4, 2, 18, 0)),
        Some(utc(2026, 4, 3, 17, 0)),
        "06:00 NZDT on the 4th"
    );
    assert_eq!(
        c.next_after(utc(2026, 4, 3, 17, 0)),
        Some(utc(2026, 4, 4, 18, 0)),
        "06:00 NZST on the 5th"
    );
}

#[test]
fn weekly_on_a_day_in_new_york() {
    let c = Cadence::weekly(Weekday::Mon, 9, 0, "America/New_York").unwrap();
    // Wednesday 2026-03-04 -> Monday 2026-03-09 09:00 EDT (DST began 2026-03-08) = 13:00 UTC.
    assert_eq!(
        c.next_after(utc(2026, 3, 4, 12, 0)),
        Some(utc(2026, 3, 9, 13, 0))
    );
    // Monday 08:59 local (EST, a week earlier) -> the same day.
    assert_eq!(
        c.next_after(utc(2026, 3, 2, 13, 59)),
        Some(utc(2026, 3, 2, 14, 0))
    );
}

#[test]
fn bad_zone_or_time_is_a_clear_error() {
    let e = Cadence::daily(6, 0, "Mars/Olympus").unwrap_err();
    assert!(
        matches!(&e, SyncError::Config(m) if m.contains("Mars/Olympus")),
        "{e}"
    );
    let e = Cadence::daily(25, 0, "UTC").unwrap_err();
    assert!(e.to_string().contains("25:00"), "{e}");
}

#[tokio::test]
async fn wait_next_sleeps_on_the_clock_until_the_deadline() {
    let manual = ManualClock::new(utc(2026, 3, 28, 0, 0));
    let clock = manual.shared();
    let (_stop, signal) = Shutdown::new();
    let schedule = Schedule::new(Cadence::daily(2, 30, "Europe/Berlin").unwrap());
    let fired = schedule.wait_next(&clock, &signal).await;
    assert_eq!(fired, Some(Fired::Scheduled(utc(2026, 3, 28, 1, 30))));
    assert_eq!(clock.now(), utc(2026, 3, 28, 1, 30));
    assert_eq!(manual.total_slept(), Duration::from_secs(90 * 60));
}

#[tokio::test]
async fn manual_trigger_and_shutdown() {
    let clock = ManualClock::new(utc(2026, 1, 1, 0, 0)).shared();
    let (stop, signal) = Shutdown::new();
    let schedule = Schedule::new(Cadence::OnDemand);
    schedule.trigger().trigger();
    assert_eq!(
        schedule.wait_next(&clock, &signal).await,
        Some(Fired::Manual)
    );
    stop.trigger();
    assert_eq!(schedule.wait_next(&clock, &signal).await, None);
}

#[derive(Debug, Default)]
struct FakeClose {
    answers: Mutex<Vec<Option<&'static str>>>,
    asked: Mutex<usize>,
}

#[async_trait]
impl PeriodCloseSignal for FakeClose {
    async fn last_close(&self) -> Result<Option<(String, DateTime<Utc>)>, SourceError> {
        *self.asked.lock().unwrap() += 1;
        let mut answers = self.answers.lock().unwrap();
        let answer = if answers.len() > 1 {
            answers.remove(0)
        } else {
            answers[0]
        };
        Ok(answer.map(|label| (label.to_owned(), utc(2026, 3, 31, 23, 0))))
    }
}

#[tokio::test]
async fn after_period_close_fires_once_per_new_close() {
    let manual = ManualClock::new(utc(2026, 3, 31, 0, 0));
    let clock = manual.shared();
    let (_stop, signal) = Shutdown::new();
    let close = Arc::new(FakeClose {
        answers: Mutex::new(vec![
            None,
            None,
            Some("2026-03"),
            Some("2026-03"),
            Some("2026-04"),
        ]),
        asked: Mutex::new(0),
    });
    let schedule = Schedule::new(Cadence::AfterPeriodClose {
        signal: close.clone(),
        poll_every: Duration::from_secs(3600),
    });
    assert_eq!(
        schedule.wait_next(&clock, &signal).await,
        Some(Fired::PeriodClosed("2026-03".into()))
    );
    assert_eq!(*close.asked.lock().unwrap(), 3);
    assert_eq!(manual.total_slept(), Duration::from_secs(3 * 3600));
    // The same close is not reported twice; the next one is.
    assert_eq!(
        schedule.wait_next(&clock, &signal).await,
        Some(Fired::PeriodClosed("2026-04".into()))
    );
    assert_eq!(*close.asked.lock().unwrap(), 5);
}
