//! The OAuth 2.0 token provider: password grant, proactive refresh, single flight, revoke.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sdk_common::body::{BodyError, read_capped};
use sdk_common::retry::{Failed, Idempotency, RetryLoop, RetryPolicy, parse_retry_after};
use sdk_common::time::{SharedClock, to_chrono};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;
use url::Url;

use super::token::{AccessToken, OAuthErrorBody, TokenResponse};
use crate::error::{Error, Grant, Result, transport_error};
use crate::ionapi::{IonApiError, IonApiFile, ServiceAccount};

/// How the client authenticates itself to the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (the default; Infor's Postman scripts).
    #[default]
    Body,
    /// HTTP Basic `client_id:client_secret` (Infor's SDK samples).
    Basic,
}

/// Settings of the token provider.
///
/// ```
/// use std::time::Duration;
/// use infor_ion_client::auth::{AuthConfig, ClientAuth};
///
/// let config = AuthConfig::default()
///     .client_auth(ClientAuth::Basic)
///     .refresh_margin(Duration::from_secs(120));
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct AuthConfig {
    client_auth: ClientAuth,
    refresh_margin: Option<Duration>,
    scope: Option<String>,
    retry: RetryPolicy,
    default_lifetime: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            client_auth: ClientAuth::Body,
            refresh_margin: None,
            scope: None,
            retry: RetryPolicy::default().with_max_retries(3),
            default_lifetime: Duration::from_secs(300),
        }
    }
}

impl AuthConfig {
    /// Where the client id and secret go (default: the form body).
    pub fn client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = client_auth;
        self
    }

    /// Refresh this long before the token expires. The default is `min(60 s, lifetime / 4)`,
    /// which suits lifetimes from a couple of minutes to 24 hours. A margin at least as long as
    /// the lifetime is halved to the lifetime's half, so a token is always used for a while.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// An optional OAuth `scope` sent with the password grant.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The retry policy for transient token-endpoint failures (5xx, 429, connection trouble).
    /// Refusals (`invalid_client`, `invalid_grant`) are never retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The lifetime assumed when a token response has no `expires_in` (default 5 minutes:
    /// refreshing early is cheap, using an expired token is not).
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    fn margin_for(&self, lifetime: Duration) -> Duration {
        match self.refresh_margin {
            Some(margin) if margin < lifetime => margin,
            Some(_) => lifetime / 2,
            None => Duration::from_secs(60).min(lifetime / 4),
        }
    }
}

/// Obtains, caches, refreshes and revokes ION access tokens for one `.ionapi` file.
///
/// - The first call runs the password grant (`username` = `saak`, `password` = `sask`).
/// - The token is reused until `refresh margin` before it expires; then the refresh-token grant
///   is used when the server issued a refresh token, falling back to a new password grant when
///   the refresh fails.
/// - Single flight: however many tasks ask at once, one token request is made; the others wait
///   for it and share the result.
/// - [`invalidate`](TokenProvider::invalidate) drops a token the gateway rejected (only if it is
///   still the current one), and [`revoke`](TokenProvider::revoke) revokes it server-side.
///
/// Cloning is cheap and clones share the cache.
#[derive(Clone)]
pub struct TokenProvider {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    token_url: Url,
    revoke_url: Option<Url>,
    client_id: String,
    client_secret: SecretString,
    account: ServiceAccount,
    config: AuthConfig,
    clock: SharedClock,
    state: tokio::sync::Mutex<State>,
    requests: AtomicU64,
}

#[derive(Default)]
struct State {
    current: Option<Cached>,
    generation: u64,
}

struct Cached {
    access: SecretString,
    refresh: Option<SecretString>,
    expires_at: DateTime<Utc>,
    refresh_at: DateTime<Utc>,
    generation: u64,
}

impl Cached {
    fn token(&self) -> AccessToken {
        AccessToken {
            secret: self.access.clone(),
            generation: self.generation,
            expires_at: self.expires_at,
        }
    }
}

/// Token bodies are small; anything larger is not a token response.
const MAX_TOKEN_BODY: usize = 64 * 1024;

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("token_url", &self.inner.token_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_auth", &self.inner.config.client_auth)
            .field("token_requests", &self.token_requests())
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    /// A provider for `file`, which must hold a service account.
    pub fn new(
        file: &IonApiFile,
        http: reqwest::Client,
        config: AuthConfig,
        clock: SharedClock,
    ) -> Result<Self> {
        let account = file.service_account()?.clone();
        Ok(TokenProvider {
            inner: Arc::new(Inner {
                http,
                token_url: file.token_url(),
                revoke_url: file.revoke_url(),
                client_id: file.client_id().to_owned(),
                client_secret: file.client_secret().clone(),
                account,
                config,
                clock,
                state: tokio::sync::Mutex::new(State::default()),
                requests: AtomicU64::new(0),
            }),
        })
    }

    /// How many requests this provider has sent to the token endpoint (every attempt counts).
    pub fn token_requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// A valid access token, from the cache or freshly obtained.
    pub async fn access_token(&self) -> Result<AccessToken> {
        let inner = &self.inner;
        // Holding the lock across the token request is what makes concurrent callers share it.
        let mut state = inner.state.lock().await;
        let now = inner.clock.now();
        if let Some(current) = &state.current
            && now < current.refresh_at
        {
            return Ok(current.token());
        }
        let previous = state.current.take();
        let refresh = previous.as_ref().and_then(|c| c.refresh.clone());
        match self.obtain(refresh).await {
            Ok(fresh) => {
                state.generation += 1;
                let cached = self.cache(fresh, state.generation);
                let token = cached.token();
                state.current = Some(cached);
                Ok(token)
            }
            Err(error) => match previous {
                // A proactive refresh failed but the old token is still good: keep using it and
                // try again on the next call rather than failing work that would succeed.
                Some(old) if inner.clock.now() < old.expires_at => {
                    tracing::warn!(%error, "ION token refresh failed; using the current token until it expires");
                    let token = old.token();
                    state.current = Some(old);
                    Ok(token)
                }
                _ => Err(error),
            },
        }
    }

    /// Drop `rejected` (the gateway answered 401 to it) so the next
    /// [`access_token`](Self::access_token) obtains a new one. A token that has already been
    /// replaced is left alone. The refresh token, if any, is kept for the renewal.
    pub async fn invalidate(&self, rejected: &AccessToken) {
        let mut state = self.inner.state.lock().await;
        if let Some(current) = state.current.as_mut()
            && current.generation == rejected.generation
        {
            let past = self.inner.clock.now() - chrono::Duration::seconds(1);
            current.expires_at = past;
            current.refresh_at = past;
        }
    }

    /// Revoke the current grant at the revoke endpoint (`pu` + `or`) and forget it. The refresh
    /// token is revoked when there is one (which also revokes its access tokens), otherwise the
    /// access token. Does nothing when no token is held.
    pub async fn revoke(&self) -> Result<()> {
        let mut state = self.inner.state.lock().await;
        let Some(current) = state.current.take() else {
            return Ok(());
        };
        let revoke_url = self
            .inner
            .revoke_url
            .clone()
            .ok_or(IonApiError::MissingField {
                field: "or",
                meaning: "revoke endpoint path",
            })?;
        let (token, hint) = match &current.refresh {
            Some(refresh) => (refresh, "refresh_token"),
            None => (&current.access, "access_token"),
        };
        let form = [("token", token.expose_secret()), ("token_type_hint", hint)];
        // Infor's SDKs authenticate revocation with HTTP Basic.
        let request = self
            .inner
            .http
            .post(revoke_url)
            .basic_auth(
                &self.inner.client_id,
                Some(self.inner.client_secret.expose_secret()),
            )
            .form(&form);
        let reply = self.post_token_endpoint(Grant::Revoke, request).await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.into_error(Grant::Revoke))
        }
    }

    fn cache(&self, response: TokenResponse, generation: u64) -> Cached {
        let lifetime = response
            .lifetime()
            .unwrap_or(self.inner.config.default_lifetime);
        let expires_at = self.inner.clock.now() + to_chrono(lifetime);
        let refresh_at = expires_at - to_chrono(self.inner.config.margin_for(lifetime));
        let secret = |t: &Option<String>| {
            t.as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| SecretString::from(t.to_owned()))
        };
        Cached {
            // `parse_token_response` guarantees an access token.
            access: secret(&response.access_token)
                .unwrap_or_else(|| SecretString::from(String::new())),
            refresh: secret(&response.refresh_token),
            expires_at,
            refresh_at,
            generation,
        }
    }

    /// Refresh-token grant when a refresh token is held, else (or when it fails) password grant.
    async fn obtain(&self, refresh: Option<SecretString>) -> Result<TokenResponse> {
        if let Some(refresh) = refresh {
            let form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.expose_secret()),
            ];
            match self.grant(Grant::RefreshToken, form).await {
                Ok(mut response) => {
                    // RFC 6749 §6: without a new refresh token, the old one stays valid.
                    if response.refresh_token.is_none() {
                        response.refresh_token = Some(refresh.expose_secret().to_owned());
                    }
                    return Ok(response);
                }
                Err(error) => {
                    tracing::info!(%error, "ION refresh-token grant failed; falling back to the password grant");
                }
            }
        }
        let account = &self.inner.account;
        let mut form = vec![
            ("grant_type", "password"),
            ("username", account.access_key().expose_secret()),
            ("password", account.secret_key().expose_secret()),
        ];
        if let Some(scope) = self.inner.config.scope.as_deref() {
            form.push(("scope", scope));
        }
        self.grant(Grant::Password, form).await
    }

    /// One grant, retried on transient failures, answered with a parsed token response.
    async fn grant(&self, grant: Grant, mut form: Vec<(&str, &str)>) -> Result<TokenResponse> {
        let inner = &self.inner;
        if inner.config.client_auth == ClientAuth::Body {
            form.push(("client_id", &inner.client_id));
            form.push(("client_secret", inner.client_secret.expose_secret()));
        }
        // Asking for a token twice is harmless, so any transient failure may be retried.
        let mut retry = RetryLoop::new(&inner.config.retry, Idempotency::Idempotent);
        let form = &form;
        retry
            .run(
                &*inner.clock,
                |_| async move {
                    let mut request = inner.http.post(inner.token_url.clone()).form(form);
                    if inner.config.client_auth == ClientAuth::Basic {
                        request = request
                            .basic_auth(&inner.client_id, Some(inner.client_secret.expose_secret()));
                    }
                    let error = match self.post_token_endpoint(grant, request).await {
                        Ok(reply) if reply.is_success() => return reply.into_token(grant).map_err(Failed::permanent),
                        Ok(reply) => reply.into_error(grant),
                        Err(error) => error,
                    };
                    let failure = error.failure();
                    Err(Failed::new(error, failure))
                },
                |failed, delay| {
                    tracing::debug!(error = %failed.error, ?delay, "retrying the ION token request");
                },
            )
            .await
            .map_err(|failed| failed.error)
    }

    /// Send one request to the token or revoke endpoint; answer status, content type and body.
    async fn post_token_endpoint(
        &self,
        grant: Grant,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply> {
        let endpoint = match grant {
            Grant::Revoke => "revoke endpoint",
            _ => "token endpoint",
        };
        let span = tracing::debug_span!("ion.token", %grant, status = tracing::field::Empty);
        async {
            self.inner.requests.fetch_add(1, Ordering::Relaxed);
            let response = request
                .send()
                .await
                .map_err(|e| transport_error("POST", endpoint, e))?;
            let status = response.status().as_u16();
            tracing::Span::current().record("status", status);
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, self.inner.clock.now()));
            let body = match read_capped(response, MAX_TOKEN_BODY).await {
                Ok(body) => body,
                Err(BodyError::TooLarge) => {
                    return Err(Error::TokenResponse {
                        grant,
                        reason: format!("the body exceeds {MAX_TOKEN_BODY} bytes"),
                    });
                }
                Err(BodyError::Transport(e)) => return Err(transport_error("POST", endpoint, e)),
            };
            Ok(Reply {
                status,
                content_type,
                retry_after,
                body,
            })
        }
        .instrument(span)
        .await
    }
}

/// One answer from the token or revoke endpoint.
struct Reply {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<Duration>,
    body: bytes::Bytes,
}

impl Reply {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A non-2xx answer: an RFC 6749 error when the body is one, else a generic failure that
    /// keeps only the body's type and length (an HTML error page might echo the form).
    fn into_error(self, grant: Grant) -> Error {
        if let Ok(oauth) = serde_json::from_slice::<OAuthErrorBody>(&self.body)
            && !oauth.error.trim().is_empty()
        {
            return Error::TokenRejected {
                grant,
                status: self.status,
                error: oauth.error,
                description: oauth.error_description,
            };
        }
        Error::TokenEndpoint {
            grant,
            status: self.status,
            content_type: self.content_type,
            body_len: self.body.len(),
            retry_after: self.retry_after,
        }
    }

    /// A 2xx answer that must hold a bearer token.
    fn into_token(self, grant: Grant) -> Result<TokenResponse> {
        let invalid = |reason: String| Error::TokenResponse { grant, reason };
        let response: TokenResponse = serde_json::from_slice(&self.body).map_err(|e| {
            invalid(format!(
                "{} body is not token JSON ({})",
                self.content_type.as_deref().unwrap_or("an untyped"),
                e.classify_name()
            ))
        })?;
        if response.access_token.as_deref().is_none_or(str::is_empty) {
            // Some servers answer 200 with an error object.
            if let Ok(oauth) = serde_json::from_slice::<OAuthErrorBody>(&self.body) {
                return Err(Error::TokenRejected {
                    grant,
                    status: self.status,
                    error: oauth.error,
                    description: oauth.error_description,
                });
            }
            return Err(invalid("no access_token".into()));
        }
        if let Some(kind) = response.token_type.as_deref()
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(invalid(format!("token_type `{kind}` is not Bearer")));
        }
        Ok(response)
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected shape",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}
