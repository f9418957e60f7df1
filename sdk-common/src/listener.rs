//! What an HTTP listener facing the internet needs whatever it receives (Cin7's webhooks, ION's
//! pushed BODs): a credential checked in constant time before the body is read, a body read
//! with a size cap and a deadline, and refusals logged without letting a flood fill the log.
//!
//! ```
//! use http::HeaderMap;
//! use sdk_common::listener::HeaderSecret;
//!
//! let secret = HeaderSecret::new("Authorization", "Bearer s3cret".into()).unwrap();
//! let mut headers = HeaderMap::new();
//! headers.insert("authorization", "Bearer s3cret".parse().unwrap());
//! assert!(secret.check(&headers).is_ok());
//! headers.insert("authorization", "Bearer guess".parse().unwrap());
//! assert!(secret.check(&headers).is_err());
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, StatusCode};
use http_body_util::BodyExt;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// The exact value one request header must carry (an API key, or `Basic …` / `Bearer …` in
/// `Authorization`), compared in constant time; only its length can leak. An empty value is
/// refused when the secret is made, so a listener can never accept everyone by mistake.
#[derive(Clone)]
pub struct HeaderSecret {
    name: HeaderName,
    value: SecretString,
}

impl std::fmt::Debug for HeaderSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderSecret")
            .field("name", &self.name.as_str())
            .field("value", &"[REDACTED]")
            .finish()
    }
}

/// Why a request was refused for its credential; never holds what was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The secret cannot be made: the header name is not one, or the value is empty.
    #[error("the listener's credential: {0}")]
    Config(String),
    /// The header is missing.
    #[error("no `{header}` header")]
    Missing {
        /// The header's name.
        header: String,
    },
    /// The header carries another value.
    #[error("a wrong `{header}` header")]
    Wrong {
        /// The header's name.
        header: String,
    },
}

impl HeaderSecret {
    /// The secret `value` of header `name`. Fails when the name is not a header name or the
    /// value is empty (or only spaces).
    pub fn new(name: &str, value: SecretString) -> Result<Self, CredentialError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| CredentialError::Config(format!("{name:?} is not a header name")))?;
        if value.expose_secret().trim().is_empty() {
            return Err(CredentialError::Config(format!(
                "the `{name}` value is empty"
            )));
        }
        Ok(HeaderSecret { name, value })
    }

    /// The header's name.
    pub fn header(&self) -> &str {
        self.name.as_str()
    }

    /// Whether `headers` carry the value.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), CredentialError> {
        let given = headers
            .get(&self.name)
            .ok_or_else(|| CredentialError::Missing {
                header: self.name.to_string(),
            })?;
        if bool::from(
            given
                .as_bytes()
                .ct_eq(self.value.expose_secret().as_bytes()),
        ) {
            Ok(())
        } else {
            Err(CredentialError::Wrong {
                header: self.name.to_string(),
            })
        }
    }
}

/// Read a request body of at most `max_bytes` within `timeout`: 413 as soon as more than
/// `max_bytes` arrive (whatever `Content-Length` says) or when the body breaks off, 408 when it
/// does not arrive in time. Nothing past `max_bytes` is buffered.
pub async fn read_body<B>(body: B, max_bytes: usize, timeout: Duration) -> Result<Bytes, StatusCode>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let limited = http_body_util::Limited::new(body, max_bytes);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(_)) => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

/// A count a listener keeps of what it has seen (shared by its request handlers).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Add `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The door of a listener: at most `max_concurrent` requests at once (503 beyond), the
/// credential checked before the body is read (401), the body read within its cap (413) and
/// deadline (408). Every refusal is counted and logged at most once a minute.
#[derive(Debug)]
pub struct Gate {
    max_body_bytes: usize,
    read_timeout: Duration,
    slots: tokio::sync::Semaphore,
    refusals: RefusalLog,
    refused_credentials: Counter,
    refused_limits: Counter,
}

/// A request let through a [`Gate`]: its head and whole body. It holds one of the gate's
/// slots until dropped.
#[derive(Debug)]
pub struct Admitted<'a> {
    /// The request's head.
    pub parts: http::request::Parts,
    /// The request's body, read whole.
    pub body: Bytes,
    _slot: tokio::sync::SemaphorePermit<'a>,
}

impl Gate {
    /// A gate for the listener named `listener` (in refusal logs).
    pub fn new(
        listener: &'static str,
        max_body_bytes: usize,
        read_timeout: Duration,
        max_concurrent: usize,
    ) -> Self {
        Gate {
            max_body_bytes,
            read_timeout,
            slots: tokio::sync::Semaphore::new(max_concurrent.max(1)),
            refusals: RefusalLog::new(listener),
            refused_credentials: Counter::default(),
            refused_limits: Counter::default(),
        }
    }

    /// Let `request` in when a slot is free and `authenticate` accepts its headers, then read
    /// its body; otherwise the status to answer (the refusal is counted and logged at `now`).
    pub async fn admit<B, E>(
        &self,
        request: http::Request<B>,
        now: DateTime<Utc>,
        authenticate: impl FnOnce(&HeaderMap) -> Result<(), E>,
    ) -> Result<Admitted<'_>, StatusCode>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        E: std::fmt::Display,
    {
        let Ok(slot) = self.slots.try_acquire() else {
            return Err(self.refuse(
                now,
                StatusCode::SERVICE_UNAVAILABLE,
                "too many requests at once",
            ));
        };
        let (parts, body) = request.into_parts();
        // Before the body is read: a stranger costs a header check, not a buffer.
        if let Err(error) = authenticate(&parts.headers) {
            return Err(self.refuse(now, StatusCode::UNAUTHORIZED, &error.to_string()));
        }
        match read_body(body, self.max_body_bytes, self.read_timeout).await {
            Ok(body) => Ok(Admitted {
                parts,
                body,
                _slot: slot,
            }),
            Err(status) if status == StatusCode::PAYLOAD_TOO_LARGE => Err(self.refuse(
                now,
                status,
                "the body is larger than the listener takes, or was cut off",
            )),
            Err(status) => Err(self.refuse(now, status, "the body did not arrive in time")),
        }
    }

    /// Requests refused for their credential (401) so far.
    pub fn refused_credentials(&self) -> u64 {
        self.refused_credentials.get()
    }

    /// Requests refused for their size, slowness or the concurrency limit (413, 408, 503).
    pub fn refused_limits(&self) -> u64 {
        self.refused_limits.get()
    }

    fn refuse(&self, now: DateTime<Utc>, status: StatusCode, reason: &str) -> StatusCode {
        let counter = if status == StatusCode::UNAUTHORIZED {
            &self.refused_credentials
        } else {
            &self.refused_limits
        };
        counter.add(1);
        self.refusals.refused(now, status, reason);
        status
    }
}

/// Logs refused requests at most once a minute, saying how many it did not log, so a flood of
/// bad requests cannot fill the log.
#[derive(Debug)]
pub struct RefusalLog {
    listener: &'static str,
    state: Mutex<(Option<DateTime<Utc>>, u64)>,
}

impl RefusalLog {
    /// A log for the listener named `listener` (e.g. `Cin7 webhook`).
    pub fn new(listener: &'static str) -> Self {
        RefusalLog {
            listener,
            state: Mutex::new((None, 0)),
        }
    }

    /// A request was refused at `now` with `status` for `reason`; returns whether it was logged.
    pub fn refused(&self, now: DateTime<Utc>, status: StatusCode, reason: &str) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (last, suppressed) = &mut *state;
        if last.is_some_and(|at| now - at < chrono::Duration::minutes(1)) {
            *suppressed += 1;
            return false;
        }
        tracing::warn!(
            listener = self.listener,
            status = status.as_u16(),
            reason,
            not_logged_since_last = *suppressed,
            "refused a request"
        );
        *last = Some(now);
        *suppressed = 0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_secret_or_a_bad_name_is_refused() {
        assert!(HeaderSecret::new("Authorization", " ".into()).is_err());
        assert!(HeaderSecret::new("bad name", "x".into()).is_err());
        let secret = HeaderSecret::new("X-Api-Key", "k".into()).unwrap();
        assert_eq!(
            format!("{secret:?}"),
            r#"HeaderSecret { name: "x-api-key", value: "[REDACTED]" }"#
        );
        assert_eq!(
            secret.check(&HeaderMap::new()),
            Err(CredentialError::Missing {
                header: "x-api-key".into()
            })
        );
    }

    #[test]
    fn refusals_are_logged_once_a_minute() {
        let log = RefusalLog::new("test");
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        assert!(log.refused(t0, StatusCode::UNAUTHORIZED, "a"));
        assert!(!log.refused(
            t0 + chrono::Duration::seconds(59),
            StatusCode::UNAUTHORIZED,
            "b"
        ));
        assert!(log.refused(
            t0 + chrono::Duration::seconds(61),
            StatusCode::UNAUTHORIZED,
            "c"
        ));
    }

    #[tokio::test]
    async fn a_body_is_read_within_its_cap() {
        let small = http_body_util::Full::new(Bytes::from_static(b"abc"));
        assert_eq!(
            read_body(small, 3, Duration::from_secs(1)).await,
            Ok(Bytes::from_static(b"abc"))
        );
        let large = http_body_util::Full::new(Bytes::from_static(b"abcd"));
        assert_eq!(
            read_body(large, 3, Duration::from_secs(1)).await,
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
    }
}
