//! Authenticating and parsing webhook deliveries, framework-agnostic (headers + body bytes).
//!
//! Cin7 signs nothing. It can send HTTP Basic or Bearer credentials, and/or custom headers
//! (`ExternalHeaders`) whose value you choose: configure one (or several) of these on the
//! subscription and require the same here. Comparisons run in constant time
//! ([`subtle::ConstantTimeEq`]); only the length of a wrong credential can leak.
//!
//! Since nothing is signed, a captured delivery can be sent again with its credentials. Two
//! things limit what that buys an attacker:
//!
//! - **Rotation.** [`WebhookReceiver::rotate`] (or [`accept_previous_until`] when the receiver
//!   is rebuilt from configuration) replaces a credential; the old one is accepted only until
//!   an overlap window ends, judged by an injectable clock, and refused afterwards, so
//!   captured credentials stop working once rotated out.
//! - **Redelivery.** A replay with valid credentials is an ordinary redelivery (Cin7 itself
//!   retries up to six times): the intake endpoint (feature `webhook-server`) keys triggers by
//!   event type, id and a time window, so the same event is queued once per window, and
//!   payloads carry IDs only, so the document is always re-read from Cin7.
//!
//! [`accept_previous_until`]: WebhookReceiver::accept_previous_until

use std::fmt;

use base64::Engine;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderName};
use sdk_common::time::{SharedClock, SystemClock};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::WebhookError;
use super::payload::WebhookEvent;

/// One credential a delivery must carry.
#[derive(Clone)]
pub enum DeliveryAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: SecretString,
    },
    /// A custom header with a secret value (Cin7's `ExternalHeaders`).
    Header {
        /// The header name.
        name: HeaderName,
        /// Its secret value.
        value: SecretString,
    },
}

impl fmt::Debug for DeliveryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryAuth::Bearer(_) => f.write_str("Bearer([REDACTED])"),
            DeliveryAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"[REDACTED]")
                .finish(),
            DeliveryAuth::Header { name, .. } => f
                .debug_struct("Header")
                .field("name", name)
                .field("value", &"[REDACTED]")
                .finish(),
        }
    }
}

impl DeliveryAuth {
    /// A secret custom header; the name is validated.
    pub fn header(name: &str, value: SecretString) -> Result<Self, WebhookError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| WebhookError::Config(format!("{name:?} is not a valid header name")))?;
        Ok(DeliveryAuth::Header { name, value })
    }

    /// Whether `other` is the same slot: the same scheme, or a custom header of the same name.
    /// Only a credential in the same slot can rotate this one.
    fn same_slot(&self, other: &DeliveryAuth) -> bool {
        match (self, other) {
            (DeliveryAuth::Bearer(_), DeliveryAuth::Bearer(_))
            | (DeliveryAuth::Basic { .. }, DeliveryAuth::Basic { .. }) => true,
            (DeliveryAuth::Header { name: a, .. }, DeliveryAuth::Header { name: b, .. }) => a == b,
            _ => false,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            DeliveryAuth::Bearer(token) => token.expose_secret().trim().is_empty(),
            DeliveryAuth::Basic { password, .. } => password.expose_secret().trim().is_empty(),
            DeliveryAuth::Header { value, .. } => value.expose_secret().trim().is_empty(),
        }
    }

    fn header_name(&self) -> &str {
        match self {
            DeliveryAuth::Bearer(_) | DeliveryAuth::Basic { .. } => AUTHORIZATION.as_str(),
            DeliveryAuth::Header { name, .. } => name.as_str(),
        }
    }

    fn check(&self, headers: &HeaderMap) -> Result<(), WebhookError> {
        if self.is_empty() {
            // Never accept a credential that was configured empty, whatever is sent.
            return Err(bad(self.header_name()));
        }
        match self {
            DeliveryAuth::Bearer(token) => {
                let given = credentials(headers, "Bearer")?;
                if bool::from(given.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
                    Ok(())
                } else {
                    Err(bad(AUTHORIZATION.as_str()))
                }
            }
            DeliveryAuth::Basic { username, password } => {
                let given = credentials(headers, "Basic")?;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(given.trim())
                    .map_err(|_| bad(AUTHORIZATION.as_str()))?;
                let (user, pass) = match decoded.iter().position(|b| *b == b':') {
                    Some(i) => (&decoded[..i], &decoded[i + 1..]),
                    None => return Err(bad(AUTHORIZATION.as_str())),
                };
                // Compare both halves before deciding, so timing does not reveal which failed.
                let user_ok = user.ct_eq(username.as_bytes());
                let pass_ok = pass.ct_eq(password.expose_secret().as_bytes());
                if bool::from(user_ok & pass_ok) {
                    Ok(())
                } else {
                    Err(bad(AUTHORIZATION.as_str()))
                }
            }
            DeliveryAuth::Header { name, value } => {
                let given = headers
                    .get(name)
                    .ok_or_else(|| WebhookError::MissingCredentials {
                        header: name.to_string(),
                    })?;
                if bool::from(given.as_bytes().ct_eq(value.expose_secret().as_bytes())) {
                    Ok(())
                } else {
                    Err(bad(name.as_str()))
                }
            }
        }
    }
}

fn bad(header: &str) -> WebhookError {
    WebhookError::BadCredentials {
        header: header.to_owned(),
    }
}

/// The credentials after `scheme ` in the `Authorization` header.
fn credentials<'h>(headers: &'h HeaderMap, scheme: &str) -> Result<&'h str, WebhookError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| WebhookError::MissingCredentials {
            header: AUTHORIZATION.to_string(),
        })?;
    let text = value.to_str().map_err(|_| bad(AUTHORIZATION.as_str()))?;
    let (given_scheme, rest) = text
        .split_once(' ')
        .ok_or_else(|| bad(AUTHORIZATION.as_str()))?;
    if given_scheme.eq_ignore_ascii_case(scheme) {
        Ok(rest.trim())
    } else {
        Err(bad(AUTHORIZATION.as_str()))
    }
}

/// One required credential, and the one it replaced while the overlap window lasts.
#[derive(Debug, Clone)]
struct Requirement {
    current: DeliveryAuth,
    /// The rotated-out credential and the instant from which it is refused.
    previous: Option<(DeliveryAuth, DateTime<Utc>)>,
}

impl Requirement {
    fn check(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Result<(), WebhookError> {
        let current = self.current.check(headers);
        let Some((previous, until)) = &self.previous else {
            return current;
        };
        // Both are compared whatever the first gave, so timing does not tell which matched.
        let old = previous.check(headers);
        match (current, old) {
            (Ok(()), _) => Ok(()),
            (Err(_), Ok(())) if now < *until => {
                tracing::info!(
                    header = previous.header_name(),
                    refused_from = %until,
                    "a Cin7 webhook delivery used the previous (rotated-out) credential"
                );
                Ok(())
            }
            (Err(e), Ok(())) => {
                tracing::warn!(
                    header = previous.header_name(),
                    refused_since = %until,
                    "a Cin7 webhook delivery presented a rotated-out credential"
                );
                Err(e)
            }
            (Err(e), Err(_)) => Err(e),
        }
    }
}

/// Checks a delivery's credentials, then parses its body.
///
/// ```
/// use cin7_core_client::webhook::{DeliveryAuth, WebhookEvent, WebhookReceiver};
/// use http::HeaderMap;
/// use secrecy::SecretString;
///
/// let receiver = WebhookReceiver::new(
///     DeliveryAuth::header("verification-token", SecretString::from("s3cret-token")).unwrap(),
/// );
/// let mut headers = HeaderMap::new();
/// headers.insert("verification-token", "s3cret-token".parse().unwrap());
/// let body = br#"{"TaskID":"5a7fb526-527a-4229-b331-90b6f5535aab","PurchaseOrderNumber":"PO-00103","EventType":"Purchase/OrderAuthorised"}"#;
/// let event = receiver.receive(&headers, body).unwrap();
/// assert!(matches!(event, WebhookEvent::PurchaseTask(_)));
///
/// headers.insert("verification-token", "guess".parse().unwrap());
/// assert!(receiver.receive(&headers, body).is_err());
/// ```
///
/// Rotating a credential: update the subscription in Cin7 to the new value, and accept the
/// old one for a while so deliveries already in Cin7's retry queue still get through.
///
/// ```
/// use cin7_core_client::webhook::{DeliveryAuth, WebhookReceiver};
/// use http::HeaderMap;
/// use secrecy::SecretString;
/// use sdk_common::time::ManualClock;
///
/// let clock = ManualClock::default();
/// let receiver = WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from("old-token")))
///     .with_clock(clock.shared())
///     .rotate(
///         DeliveryAuth::Bearer(SecretString::from("new-token")),
///         chrono::Duration::hours(2),
///     )
///     .unwrap();
/// let mut old = HeaderMap::new();
/// old.insert("authorization", "Bearer old-token".parse().unwrap());
/// assert!(receiver.authenticate(&old).is_ok(), "still inside the overlap");
/// clock.advance(std::time::Duration::from_secs(2 * 3600));
/// assert!(receiver.authenticate(&old).is_err(), "rotated out");
/// ```
#[derive(Debug, Clone)]
pub struct WebhookReceiver {
    required: Vec<Requirement>,
    clock: SharedClock,
}

impl WebhookReceiver {
    /// A receiver requiring `auth` (on the system clock; see [`with_clock`](Self::with_clock)).
    pub fn new(auth: DeliveryAuth) -> Self {
        WebhookReceiver {
            required: vec![Requirement {
                current: auth,
                previous: None,
            }],
            clock: SystemClock::shared(),
        }
    }

    /// Judge rotation overlap windows by `clock` (tests inject a
    /// [`ManualClock`](sdk_common::time::ManualClock)).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Also require `auth` (e.g. Basic credentials **and** a secret header).
    pub fn also_require(mut self, auth: DeliveryAuth) -> Self {
        self.required.push(Requirement {
            current: auth,
            previous: None,
        });
        self
    }

    /// Replace the required credential in the same slot as `new` (the bearer token, the basic
    /// credentials, or the custom header of the same name). The replaced credential is still
    /// accepted for `overlap` from now (by this receiver's clock), then refused; a zero or
    /// negative overlap refuses it at once. Rotating again drops the older credential.
    ///
    /// Fails with [`WebhookError::Config`] if no required credential is in that slot.
    pub fn rotate(
        mut self,
        new: DeliveryAuth,
        overlap: chrono::Duration,
    ) -> Result<Self, WebhookError> {
        let until = self.clock.now() + overlap;
        let slot = self.slot(&new)?;
        let old = std::mem::replace(&mut slot.current, new);
        slot.previous = (overlap > chrono::Duration::zero()).then_some((old, until));
        Ok(self)
    }

    /// Also accept `previous` in place of the required credential in its slot until `until`
    /// (exclusive), then refuse it: the form of [`rotate`](Self::rotate) for a receiver built
    /// from configuration that names the new credential, the old one and when the overlap ends.
    ///
    /// Fails with [`WebhookError::Config`] if no required credential is in that slot.
    pub fn accept_previous_until(
        mut self,
        previous: DeliveryAuth,
        until: DateTime<Utc>,
    ) -> Result<Self, WebhookError> {
        let slot = self.slot(&previous)?;
        slot.previous = Some((previous, until));
        Ok(self)
    }

    fn slot(&mut self, auth: &DeliveryAuth) -> Result<&mut Requirement, WebhookError> {
        self.required
            .iter_mut()
            .find(|r| r.current.same_slot(auth))
            .ok_or_else(|| {
                WebhookError::Config(format!(
                    "no required credential in `{}` to rotate",
                    auth.header_name()
                ))
            })
    }

    /// Check every required credential. All are checked even after a failure.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<(), WebhookError> {
        let now = self.clock.now();
        let mut first_error = None;
        for requirement in &self.required {
            if let Err(e) = requirement.check(headers, now) {
                first_error.get_or_insert(e);
            }
        }
        // Not logged here: a listener on the internet is probed all day, and the caller knows
        // how often it may log (the intake logs refusals at most once a minute).
        match first_error {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// Fail, naming the header, when a required credential is empty: an empty bearer token,
    /// password or header value would let anyone in who sends an empty one.
    ///
    /// ```
    /// use cin7_core_client::webhook::{DeliveryAuth, WebhookReceiver};
    /// use secrecy::SecretString;
    ///
    /// let open = WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from("  ")));
    /// assert!(open.check_secrets().is_err());
    /// let closed = WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from("hook-token")));
    /// assert!(closed.check_secrets().is_ok());
    /// ```
    pub fn check_secrets(&self) -> Result<(), WebhookError> {
        for requirement in &self.required {
            let auth = &requirement.current;
            if auth.is_empty() {
                return Err(WebhookError::Config(format!(
                    "the credential in `{}` is empty",
                    auth.header_name()
                )));
            }
        }
        Ok(())
    }

    /// Authenticate, then parse the body into a typed event.
    pub fn receive(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        self.authenticate(headers)?;
        WebhookEvent::parse(body)
    }
}
