//! Authenticating and parsing webhook deliveries, framework-agnostic (headers + body bytes).
//!
//! Cin7 signs nothing. It can send HTTP Basic or Bearer credentials, and/or custom headers
//! (`ExternalHeaders`) whose value you choose: configure one (or several) of these on the
//! subscription and require the same here. Comparisons run in constant time
//! ([`subtle::ConstantTimeEq`]); only the length of a wrong credential can leak.

use std::fmt;

use base64::Engine;
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderName};
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

    fn check(&self, headers: &HeaderMap) -> Result<(), WebhookError> {
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
#[derive(Debug, Clone)]
pub struct WebhookReceiver {
    required: Vec<DeliveryAuth>,
}

impl WebhookReceiver {
    /// A receiver requiring `auth`.
    pub fn new(auth: DeliveryAuth) -> Self {
        WebhookReceiver {
            required: vec![auth],
        }
    }

    /// Also require `auth` (e.g. Basic credentials **and** a secret header).
    pub fn also_require(mut self, auth: DeliveryAuth) -> Self {
        self.required.push(auth);
        self
    }

    /// Check every required credential. All are checked even after a failure.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<(), WebhookError> {
        let mut first_error = None;
        for auth in &self.required {
            if let Err(e) = auth.check(headers) {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            None => Ok(()),
            Some(e) => {
                tracing::warn!(error = %e, "rejected a Cin7 webhook delivery");
                Err(e)
            }
        }
    }

    /// Authenticate, then parse the body into a typed event.
    pub fn receive(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        self.authenticate(headers)?;
        WebhookEvent::parse(body)
    }
}
