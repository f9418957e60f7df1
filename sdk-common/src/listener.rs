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

/// Read a request body of at most `max_bytes` within `timeout`: 413 when it is larger (declared
/// or streamed) or cut off, 408 when it does not arrive in time.
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
