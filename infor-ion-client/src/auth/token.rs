//! Access tokens and the token endpoint's response.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Deserialize;
use zeroize::Zeroize;

/// A bearer token handed out by [`TokenProvider`](super::TokenProvider).
///
/// The value is secret; `Debug` shows only its generation (how many tokens the provider had
/// obtained when it got this one) and expiry. The generation lets a caller that saw a 401 tell
/// the provider *which* token failed, so a token another task already replaced is not thrown
/// away again.
#[derive(Clone)]
pub struct AccessToken {
    pub(crate) secret: SecretString,
    pub(crate) generation: u64,
    pub(crate) expires_at: DateTime<Utc>,
}

impl AccessToken {
    /// The token value, for an `Authorization: Bearer` header.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// When the token expires, by the provider's clock.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// The provider's token counter when this token was obtained.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"[REDACTED]")
            .field("generation", &self.generation)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A successful token response (RFC 6749 §5.1), as the ION authorization server sends it.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds; some servers send it as a string.
    #[serde(default)]
    pub expires_in: Option<serde_json::Value>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl Drop for TokenResponse {
    fn drop(&mut self) {
        if let Some(t) = self.access_token.as_mut() {
            t.zeroize();
        }
        if let Some(t) = self.refresh_token.as_mut() {
            t.zeroize();
        }
    }
}

impl TokenResponse {
    /// `expires_in` as a duration; `None` when absent or not a non-negative number.
    pub fn lifetime(&self) -> Option<Duration> {
        match self.expires_in.as_ref()? {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(10.0 * 365.0 * 86_400.0)))
    }
}

/// An RFC 6749 §5.2 error response.
#[derive(Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}
