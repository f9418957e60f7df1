//! A circuit breaker for a side (ION, Cin7) that cannot be reached at all, shared by both
//! clients.
//!
//! A refused connection, a failed DNS lookup or a failed TLS handshake is not a busy server:
//! retrying each request on the backoff schedule only makes a run over many records take
//! minutes to say the same thing. The breaker counts connect failures across every request of
//! a client (and its clones); after [`THRESHOLD`] in a row it opens, and for [`COOLDOWN`] every
//! request fails at once (each client's `Error::Unreachable`), naming the cause, without being
//! sent. After the cooldown one request goes through again; any answer from the server,
//! whatever its status, closes the breaker.
//!
//! ```
//! use sdk_common::breaker::{Breaker, THRESHOLD};
//! use chrono::Utc;
//!
//! let breaker = Breaker::default();
//! let now = Utc::now();
//! for _ in 1..THRESHOLD {
//!     assert!(!breaker.connect_failed(now, "connection refused".into()));
//! }
//! assert!(breaker.connect_failed(now, "connection refused".into()));
//! assert_eq!(breaker.check(now), Err("connection refused".to_owned()));
//! breaker.reached();
//! assert_eq!(breaker.check(now), Ok(()));
//! ```

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Connect failures in a row that open the breaker.
pub const THRESHOLD: u32 = 3;
/// How long an open breaker fails requests before letting one through again.
pub const COOLDOWN: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<DateTime<Utc>>,
    cause: String,
}

/// Shared by every clone of a client.
#[derive(Debug, Default)]
pub struct Breaker {
    state: Mutex<State>,
}

impl Breaker {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(cause)` while the breaker is open at `now`.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), String> {
        let state = self.lock();
        match state.open_until {
            Some(until) if now < until => Err(state.cause.clone()),
            _ => Ok(()),
        }
    }

    /// A connect failure at `now`: returns whether the breaker is open now.
    pub fn connect_failed(&self, now: DateTime<Utc>, cause: String) -> bool {
        let mut state = self.lock();
        state.failures += 1;
        state.cause = cause;
        if state.failures >= THRESHOLD {
            state.open_until = Some(now + crate::time::to_chrono(COOLDOWN));
            return true;
        }
        false
    }

    /// The server answered: close the breaker.
    pub fn reached(&self) {
        let mut state = self.lock();
        state.failures = 0;
        state.open_until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_three_connect_failures_and_closes_on_an_answer() {
        let breaker = Breaker::default();
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert!(!breaker.connect_failed(now, "connection refused".into()));
        assert!(!breaker.connect_failed(now, "connection refused".into()));
        assert!(breaker.connect_failed(now, "connection refused".into()));
        assert_eq!(breaker.check(now), Err("connection refused".to_owned()));
        // After the cooldown one request is let through.
        assert!(
            breaker
                .check(now + crate::time::to_chrono(COOLDOWN))
                .is_ok()
        );
        breaker.reached();
        assert!(breaker.check(now).is_ok());
        assert!(
            !breaker.connect_failed(now, "again".into()),
            "counting starts over"
        );
    }
}
