//! [`Cin7Client`]: configuration, authentication and the one request path.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use sdk_common::body::{BodyError, excerpt, read_capped};
use sdk_common::redirect::{self, is_loopback};
use sdk_common::retry::{
    Delivery, Failed, Failure, Idempotency, RetryLoop, RetryPolicy, parse_retry_after,
};
use sdk_common::time::{SharedClock, SystemClock};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::error::{ApiError, Error, Result};
use crate::limiter::{self, AccountLimiter, LimiterScope, RateLimit};
use crate::pagination::PageSizes;
use crate::request::{Cin7Request, Method};

/// Cin7 Core's production API root.
pub const DEFAULT_BASE_URL: &str = "https://inventory.dearsystems.com/ExternalApi/v2/";

const ACCOUNT_HEADER: &str = "api-auth-accountid";
const KEY_HEADER: &str = "api-auth-applicationkey";
const DEFAULT_USER_AGENT: &str = concat!("cin7-core-client/", env!("CARGO_PKG_VERSION"));

/// A typed, rate-limited Cin7 Core API v2 client. Cheap to clone: clones share the connection
/// pool, the configuration and the account's rate limiter.
///
/// ```no_run
/// use cin7_core_client::Cin7Client;
/// use secrecy::SecretString;
///
/// # async fn run() -> cin7_core_client::Result<()> {
/// let client = Cin7Client::builder()
///     .account_id(SecretString::from("4b1c4a4e-0000-0000-0000-000000000000"))
///     .application_key(SecretString::from("application-key-guid"))
///     .build()?;
/// let me = client.me().get().await?;
/// println!("{:?} runs in {:?}", me.company, me.time_zone);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Cin7Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    account_id: SecretString,
    application_key: SecretString,
    clock: SharedClock,
    limiter: Arc<AccountLimiter>,
    retry: RetryPolicy,
    throttle_wait: Duration,
    max_response_bytes: usize,
    max_bad_answer_retries: usize,
    page_sizes: PageSizes,
    breaker: sdk_common::breaker::Breaker,
}

/// The default cap on a response body (a Cin7 page of 1,000 rows is a few megabytes).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// The default number of times a `GET` answered with a 2xx whose body is not JSON (an HTML
/// page, JSON cut short) is sent again (these retries also count against the retry policy).
pub const DEFAULT_MAX_BAD_ANSWER_RETRIES: usize = 2;

impl fmt::Debug for Cin7Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cin7Client")
            .field("base_url", &self.inner.base_url.as_str())
            .field("account_id", &"[REDACTED]")
            .field("application_key", &"[REDACTED]")
            .field("limiter", &self.inner.limiter)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

/// Builds a [`Cin7Client`]; see [`Cin7Client::builder`].
pub struct Cin7ClientBuilder {
    account_id: Option<SecretString>,
    application_key: Option<SecretString>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    clock: Option<SharedClock>,
    rate_limit: RateLimit,
    scope: Option<LimiterScope>,
    limiter: Option<Arc<AccountLimiter>>,
    retry: RetryPolicy,
    throttle_wait: Duration,
    http: Option<reqwest::Client>,
    max_response_bytes: usize,
    max_bad_answer_retries: usize,
    page_sizes: PageSizes,
}

impl fmt::Debug for Cin7ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cin7ClientBuilder")
            .field(
                "account_id",
                &self.account_id.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "application_key",
                &self.application_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("rate_limit", &self.rate_limit)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Default for Cin7ClientBuilder {
    fn default() -> Self {
        Cin7ClientBuilder {
            account_id: None,
            application_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            clock: None,
            rate_limit: RateLimit::default(),
            scope: None,
            limiter: None,
            retry: RetryPolicy::default(),
            throttle_wait: Duration::from_secs(65),
            http: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_bad_answer_retries: DEFAULT_MAX_BAD_ANSWER_RETRIES,
            page_sizes: PageSizes::default(),
        }
    }
}

impl Cin7ClientBuilder {
    /// The Cin7 account id (`api-auth-accountid`). Required.
    pub fn account_id(mut self, account_id: SecretString) -> Self {
        self.account_id = Some(account_id);
        self
    }

    /// The API application key (`api-auth-applicationkey`). Required.
    pub fn application_key(mut self, key: SecretString) -> Self {
        self.application_key = Some(key);
        self
    }

    /// Override the API root (tests, proxies). A missing trailing `/` is added.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Whole-request timeout (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The clock used for rate-limit waits and backoff (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The call budget (default 60 per 60 s). The first client built for an account fixes it
    /// for the whole process.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Share one budget with every client of this process that asks for the same `scope`:
    /// the process-wide registry, keyed by the account ([`LimiterScope::Account`]) or by the
    /// account and application key. The first client registered for a key fixes its rate and
    /// clock. Without this (or [`limiter`](Self::limiter)), the built client has a limiter of
    /// its own, shared by its clones: build one client per account and clone it.
    ///
    /// ```
    /// use cin7_core_client::{Cin7Client, LimiterScope, SecretString};
    ///
    /// let build = |scope: Option<LimiterScope>| {
    ///     let builder = Cin7Client::builder()
    ///         .account_id(SecretString::from("doc-limiter-account"))
    ///         .application_key(SecretString::from("key"));
    ///     match scope {
    ///         Some(scope) => builder.limiter_scope(scope),
    ///         None => builder,
    ///     }
    ///     .build()
    ///     .unwrap()
    /// };
    /// let (a, b) = (build(None), build(None));
    /// assert!(!std::sync::Arc::ptr_eq(a.rate_limiter(), b.rate_limiter()));
    /// let (c, d) = (build(Some(LimiterScope::Account)), build(Some(LimiterScope::Account)));
    /// assert!(std::sync::Arc::ptr_eq(c.rate_limiter(), d.rate_limiter()));
    /// ```
    pub fn limiter_scope(mut self, scope: LimiterScope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Use this limiter (e.g. to share a budget with a limiter managed elsewhere).
    pub fn limiter(mut self, limiter: Arc<AccountLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The retry policy (default: 4 retries, 0.5 s doubling to 30 s, `Retry-After` honoured up
    /// to 5 minutes).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How long to wait after a throttled answer that carried no `Retry-After` (default 65 s:
    /// long enough for Cin7's minute window to clear).
    pub fn throttle_wait(mut self, wait: Duration) -> Self {
        self.throttle_wait = wait;
        self
    }

    /// Use a preconfigured reqwest client (its own timeouts, user agent and redirect policy then
    /// apply). Give it `.redirect(sdk_common::redirect::same_origin())` (the builder's own
    /// client does) so the `api-auth-*` headers never follow a redirect to another host.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The most bytes a response body may have (default [`DEFAULT_MAX_RESPONSE_BYTES`]); a
    /// larger or endless body fails with [`Error::ResponseTooLarge`] as soon as it crosses the
    /// cap, so a misbehaving server or proxy cannot exhaust memory.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How many times a `GET` answered with a 2xx whose body is not JSON (an HTML page from a
    /// proxy, JSON cut short: [`Error::UnexpectedBody`]) or repeats a key in an object
    /// ([`Error::Decode`]) is sent again before it fails with that error
    /// (default [`DEFAULT_MAX_BAD_ANSWER_RETRIES`]; 0 turns it off). These retries draw on the
    /// retry policy's budget and follow its backoff. A write answered that way is never resent.
    pub fn max_bad_answer_retries(mut self, retries: usize) -> Self {
        self.max_bad_answer_retries = retries;
        self
    }

    /// The largest page `endpoint` (e.g. `"product"`, `"ref/tax"`; case-insensitive) serves:
    /// every list of that endpoint asks for at most `rows` per page (clamped to 1..=1000).
    /// Defaults: 1000, and 100 for `product` ([`PageSizes::default`]).
    ///
    /// A list still reads every row when an endpoint serves fewer rows than asked (see
    /// [`ListBuilder::stream`](crate::ListBuilder::stream)); setting the real size saves the
    /// pages a wrong guess costs and keeps `Limit` honest.
    pub fn max_page_size(mut self, endpoint: &str, rows: u32) -> Self {
        self.page_sizes = self.page_sizes.with(endpoint, rows);
        self
    }

    /// Replace the whole table of page sizes.
    pub fn page_sizes(mut self, sizes: PageSizes) -> Self {
        self.page_sizes = sizes;
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<Cin7Client> {
        let account_id = self
            .account_id
            .ok_or_else(|| Error::Config("account_id is required".into()))?;
        let application_key = self
            .application_key
            .ok_or_else(|| Error::Config("application_key is required".into()))?;
        for (name, secret) in [
            ("account_id", &account_id),
            ("application_key", &application_key),
        ] {
            let text = secret.expose_secret();
            // Never echo the value: say only what is wrong with it.
            if text.trim().is_empty() {
                return Err(Error::Config(format!("{name} is empty")));
            }
            if HeaderValue::from_str(text).is_err() {
                return Err(Error::Config(format!(
                    "{name} contains characters not allowed in an HTTP header"
                )));
            }
        }
        let mut base = self.base_url.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let base_url = Url::parse(&base)
            .map_err(|e| Error::Config(format!("invalid base URL {base:?}: {e}")))?;
        // The account headers travel with every call: never in clear text over a network.
        match base_url.scheme() {
            "https" => {}
            "http" if is_loopback(&base_url) => {}
            "http" => {
                return Err(Error::Config(format!(
                    "base URL {base:?} is plain http: only https is accepted (http only on \
                     loopback, for a simulator)"
                )));
            }
            _ => {
                return Err(Error::Config(format!(
                    "base URL must be https, got {base:?}"
                )));
            }
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent)
                .redirect(redirect::same_origin())
                .build()
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?,
        };
        let clock = self.clock.unwrap_or_else(SystemClock::shared);
        let limiter = match (self.limiter, self.scope) {
            (Some(limiter), _) => limiter,
            (None, Some(scope)) => limiter::shared_limiter(
                &account_id,
                &application_key,
                scope,
                self.rate_limit,
                &clock,
            )?,
            (None, None) => AccountLimiter::new(self.rate_limit, clock.clone())?,
        };
        Ok(Cin7Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                account_id,
                application_key,
                clock,
                limiter,
                retry: self.retry,
                throttle_wait: self.throttle_wait,
                max_response_bytes: self.max_response_bytes,
                max_bad_answer_retries: self.max_bad_answer_retries,
                page_sizes: self.page_sizes,
                breaker: sdk_common::breaker::Breaker::default(),
            }),
        })
    }
}

/// A raw successful answer: the status, the parsed JSON body (`Null` when empty) and the bytes
/// it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body as JSON; `Null` for an empty body (204, some deletes). A tree holds numbers as
    /// f64: `1.2500` is `1.25` here.
    pub body: serde_json::Value,
    /// The body as received (empty, or only whitespace, when there was none), already checked
    /// to be one JSON document in which no object repeats a key. The client decodes typed
    /// answers from these bytes, so decimals keep the digits and scale Cin7 wrote; do the same
    /// (e.g. `serde_json::from_slice`) to read a typed model from an [`execute`] answer.
    ///
    /// [`execute`]: Cin7Client::execute
    pub bytes: Bytes,
}

/// One failed attempt: the error to surface and what the retry logic needs to know.
fn unreachable(request: &Cin7Request, cause: String) -> AttemptFailure {
    AttemptFailure::permanent(Error::Unreachable {
        method: request.method().as_str().to_owned(),
        endpoint: request.path().to_owned(),
        cause,
    })
}

struct AttemptFailure {
    error: Box<Error>,
    failure: Failure,
    throttled: Option<u16>,
    /// A 2xx whose body is not JSON: worth asking again on a `GET`, a few times.
    bad_answer: bool,
    /// Cin7 could not be reached at all (connect, DNS or TLS failure), in words.
    unreachable: Option<String>,
}

impl AttemptFailure {
    fn permanent(error: Error) -> Self {
        AttemptFailure {
            error: Box::new(error),
            failure: Failure::PERMANENT,
            throttled: None,
            bad_answer: false,
            unreachable: None,
        }
    }
}

impl Cin7Client {
    /// Start building a client.
    pub fn builder() -> Cin7ClientBuilder {
        Cin7ClientBuilder::default()
    }

    /// The API root requests are sent to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The limiter this client draws from (shared with its clones, and with other clients of
    /// the account when built with [`Cin7ClientBuilder::limiter_scope`]).
    pub fn rate_limiter(&self) -> &Arc<AccountLimiter> {
        &self.inner.limiter
    }

    /// The clock used for waits.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The largest page each list endpoint is asked for.
    pub fn page_sizes(&self) -> &PageSizes {
        &self.inner.page_sizes
    }

    /// Send `request` through the one request path and decode the JSON answer into `T`,
    /// naming the JSON path of any field that fails.
    pub async fn send<T: DeserializeOwned>(&self, request: Cin7Request) -> Result<T> {
        let endpoint = request.path().to_owned();
        let method = request.method();
        let raw = self.execute(request).await?;
        decode(&endpoint, method, &raw)
    }

    /// Send `request` through the one request path: authenticate, wait for a rate-limit slot,
    /// retry what is safe to retry, and turn Cin7's error forms into [`Error`]s.
    ///
    /// A `GET` answered with a 2xx whose body is not JSON (an HTML page, JSON cut short) or
    /// repeats a key is sent again on the same backoff schedule, at most
    /// [`max_bad_answer_retries`](Cin7ClientBuilder::max_bad_answer_retries) times; a write
    /// answered that way is never resent and fails with [`Error::UnexpectedBody`] (or
    /// [`Error::Decode`] for the repeated key).
    pub async fn execute(&self, request: Cin7Request) -> Result<RawResponse> {
        let span = tracing::debug_span!(
            "cin7_request",
            method = request.method().as_str(),
            endpoint = request.path()
        );
        self.execute_inner(&request).instrument(span).await
    }

    async fn execute_inner(&self, request: &Cin7Request) -> Result<RawResponse> {
        if let Some(error) = request.encode_problem() {
            return Err(error);
        }
        let inner = &self.inner;
        // Only a GET is asked again for a garbled answer: reading twice changes nothing, while
        // a write answered with an HTML page may have been applied.
        let safe_read =
            request.method() == Method::GET && request.idempotency() == Idempotency::Idempotent;
        let mut retry =
            RetryLoop::new(&inner.retry, request.idempotency()).reread_bad_answers(if safe_read {
                inner.max_bad_answer_retries
            } else {
                0
            });
        let outcome = retry
            .run(
                &*inner.clock,
                |_| async move {
                    inner
                        .breaker
                        .check(inner.clock.now())
                        .map_err(|cause| Failed::permanent(unreachable(request, cause)))?;
                    let asked = inner.clock.now();
                    let granted = inner.limiter.acquire().await;
                    crate::telemetry::limiter_waited(
                        (granted - asked).num_microseconds().unwrap_or(0) as f64 / 1e6,
                    );
                    match self.attempt(request).await {
                        Ok(response) => {
                            inner.breaker.reached();
                            Ok(response)
                        }
                        Err(failed) => Err(self.judge(request, failed)),
                    }
                },
                |failed, delay| {
                    let throttled = failed.error.throttled.is_some();
                    tracing::warn!(
                        delay_ms = delay.as_millis() as u64,
                        throttled,
                        bad_answer = failed.bad_answer,
                        error = %sdk_common::report::chain(&*failed.error.error),
                        "retrying Cin7 request"
                    );
                    if throttled {
                        // Hold every caller of the account, not just this one, and go slower
                        // from now on: the configured rate is above what Cin7 takes.
                        let until = inner.clock.now() + sdk_common::time::to_chrono(delay);
                        inner.limiter.pause_until(until);
                        inner.limiter.throttled();
                    }
                },
            )
            .await;
        let AttemptFailure {
            error,
            failure,
            throttled,
            ..
        } = match outcome {
            Ok(response) => return Ok(response),
            Err(failed) => failed.error,
        };
        if let Some(status) = throttled
            && failure.is_retryable(request.idempotency())
        {
            return Err(Error::RateLimited {
                method: request.method().as_str().to_owned(),
                endpoint: request.path().to_owned(),
                status,
                retries: retry.retries(),
                retry_after: failure.retry_after,
            });
        }
        if request.idempotency() == Idempotency::NonIdempotent
            && failure.delivery == Delivery::Unknown
        {
            return Err(Error::UncertainWrite {
                method: request.method().as_str().to_owned(),
                endpoint: request.path().to_owned(),
                source: error,
            });
        }
        Err(*error)
    }

    /// What a failed attempt allows. A Cin7 that cannot be connected to is counted across every
    /// request: once the breaker opens, this request stops retrying too.
    fn judge(&self, request: &Cin7Request, failed: AttemptFailure) -> Failed<AttemptFailure> {
        let inner = &self.inner;
        match &failed.unreachable {
            Some(cause)
                if inner
                    .breaker
                    .connect_failed(inner.clock.now(), cause.clone()) =>
            {
                return Failed::permanent(unreachable(request, cause.clone()));
            }
            Some(_) => {}
            None if !matches!(*failed.error, Error::Transport { .. }) => inner.breaker.reached(),
            None => {}
        }
        let mut failure = failed.failure;
        if failed.throttled.is_some() {
            // No Retry-After: wait long enough for the server's minute window to clear.
            failure.retry_after = failure.retry_after.or(Some(inner.throttle_wait));
        }
        Failed {
            failure,
            bad_answer: failed.bad_answer,
            error: failed,
        }
    }

    fn url_for(&self, request: &Cin7Request) -> Result<Url> {
        let mut url =
            self.inner
                .base_url
                .join(request.path())
                .map_err(|e| Error::InvalidInput {
                    field: "path",
                    reason: format!("{:?} is not a valid path: {e}", request.path()),
                })?;
        if !request.query_pairs().is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in request.query_pairs() {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }

    fn auth_headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        for (name, secret) in [
            (ACCOUNT_HEADER, &self.inner.account_id),
            (KEY_HEADER, &self.inner.application_key),
        ] {
            let mut value = HeaderValue::from_str(secret.expose_secret())
                .map_err(|_| Error::Config(format!("{name} is not a valid header value")))?;
            // Sensitive values are redacted by http's Debug and never logged by reqwest.
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Ok(headers)
    }

    async fn attempt(&self, request: &Cin7Request) -> Result<RawResponse, AttemptFailure> {
        let method = request.method();
        let method_name = method.as_str();
        let endpoint = request.path();
        let url = self.url_for(request).map_err(AttemptFailure::permanent)?;
        let mut builder = self
            .inner
            .http
            .request(method.clone(), url)
            .headers(self.auth_headers().map_err(AttemptFailure::permanent)?);
        if let Some(body) = request.body() {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_owned());
        }
        tracing::debug!("sending");
        let transport = |source: reqwest::Error| {
            // A connect failure never reached Cin7; anything later (timeout after sending, reset,
            // a body cut short) may have been processed.
            let delivery = if source.is_connect() || source.is_builder() {
                Delivery::NotProcessed
            } else if source.is_redirect() {
                // Cin7 answered with a redirect away from its origin (not followed, so the
                // account headers stay home): asking again gets the same answer.
                Delivery::Processed
            } else {
                Delivery::Unknown
            };
            let transient = !source.is_redirect() && !source.is_builder();
            let unreachable = source
                .is_connect()
                .then(|| sdk_common::retry::connect_cause(&source));
            AttemptFailure {
                error: Box::new(Error::Transport {
                    method: method_name.to_owned(),
                    endpoint: endpoint.to_owned(),
                    delivery,
                    source: source.without_url(),
                }),
                failure: Failure {
                    delivery,
                    transient,
                    retry_after: None,
                },
                throttled: None,
                bad_answer: false,
                unreachable,
            }
        };
        let response = builder.send().await.map_err(|source| {
            crate::telemetry::answered(method_name, endpoint, None);
            transport(source)
        })?;
        let status = response.status().as_u16();
        crate::telemetry::answered(method_name, endpoint, Some(status));
        let headers = response.headers().clone();
        let limit = self.inner.max_response_bytes;
        let too_large = || AttemptFailure {
            error: Box::new(Error::ResponseTooLarge {
                method: method_name.to_owned(),
                endpoint: endpoint.to_owned(),
                limit,
            }),
            // Cin7 answered: whatever it did is done, and asking again gets the same answer.
            failure: Failure {
                delivery: Delivery::Processed,
                transient: false,
                retry_after: None,
            },
            throttled: None,
            bad_answer: false,
            unreachable: None,
        };
        let body = match read_capped(response, limit).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => return Err(too_large()),
            Err(BodyError::Transport(source)) => return Err(transport(source)),
        };
        tracing::debug!(status, bytes = body.len(), "answered");
        self.classify(request, status, &headers, body)
    }

    fn classify(
        &self,
        request: &Cin7Request,
        status: u16,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<RawResponse, AttemptFailure> {
        let method = request.method().as_str().to_owned();
        let endpoint = request.path().to_owned();
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.inner.clock.now()));
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let is_empty = body.iter().all(u8::is_ascii_whitespace);
        // `None` for an empty body; a body that repeats a key is an error naming where (see
        // `sdk_common::json`), not a guess at which value counts.
        let parsed = (!is_empty).then(|| sdk_common::json::from_slice(&body));
        let json = parsed.as_ref().and_then(|tree| tree.as_ref().ok());
        let cin7_error = json.and_then(error_model);
        let message = match &cin7_error {
            Some((_, message)) => message.clone(),
            None => excerpt(&body, 200),
        };
        // Cin7's limit message is an error model's `Exception`; on a non-2xx any body saying
        // so counts. Never a 2xx body's text: a created supplier named "60 calls per minute"
        // would otherwise count as refused, and the create be sent again.
        let limit_message = match &cin7_error {
            Some((_, exception)) => is_limit_message(exception),
            None => !(200..300).contains(&status) && is_limit_message(&message),
        };
        let api = |status: u16| {
            Error::Api(Box::new(ApiError {
                method: method.clone(),
                endpoint: endpoint.clone(),
                status,
                error_code: cin7_error.as_ref().and_then(|(code, _)| *code),
                message: message.clone(),
            }))
        };

        // Throttling: 429 always; 503 and any answer carrying Cin7's limit message too.
        // A 503 counts as a refusal only when it says so (a `Retry-After`, Cin7's limit
        // message). An empty 503 may come from a gateway after Cin7 processed the request: a
        // create answered so is uncertain (looked up before it is sent again).
        let throttle_503_refused = status == 503 && (retry_after.is_some() || limit_message);
        if status == 429 || status == 503 || limit_message {
            crate::telemetry::throttled(request.path());
            let delivery = if status == 429 || limit_message || throttle_503_refused {
                Delivery::NotProcessed
            } else {
                // A bare 503 from a gateway may follow processing; only idempotent requests
                // are resent.
                Delivery::Unknown
            };
            return Err(AttemptFailure {
                error: Box::new(api(status)),
                failure: Failure {
                    delivery,
                    transient: true,
                    retry_after,
                },
                throttled: Some(status),
                bad_answer: false,
                unreachable: None,
            });
        }
        match status {
            200..=299 => {
                if cin7_error.is_some() {
                    return Err(AttemptFailure::permanent(api(status)));
                }
                // Not an answer from Cin7's API: the loop asks again if the request is a GET.
                let bad_answer = |error: Error| AttemptFailure {
                    bad_answer: true,
                    ..AttemptFailure::permanent(error)
                };
                match parsed {
                    Some(Ok(tree)) => Ok(RawResponse {
                        status,
                        body: tree,
                        bytes: body,
                    }),
                    None => Ok(RawResponse {
                        status,
                        body: serde_json::Value::Null,
                        bytes: body,
                    }),
                    // JSON with a key twice (read up to there): ambiguous, reported with the
                    // key's place.
                    Some(Err(duplicate)) if duplicate.is_duplicate_key() => {
                        Err(bad_answer(Error::Decode {
                            endpoint,
                            path: duplicate.path,
                            source: duplicate.source,
                        }))
                    }
                    // An HTML page (a proxy's or a sign-in page) or JSON cut short.
                    Some(Err(_)) => Err(bad_answer(Error::UnexpectedBody {
                        method,
                        endpoint,
                        status,
                        content_type,
                        snippet: excerpt(&body, 200),
                    })),
                }
            }
            403 => Err(AttemptFailure::permanent(Error::Auth {
                method,
                endpoint,
                message,
            })),
            500..=599 => Err(AttemptFailure {
                error: Box::new(api(status)),
                failure: Failure {
                    delivery: Delivery::Unknown,
                    transient: status != 501,
                    retry_after,
                },
                throttled: None,
                bad_answer: false,
                unreachable: None,
            }),
            _ => Err(AttemptFailure::permanent(api(status))),
        }
    }
}

/// Decode an answer into `T`, naming the path of the failing field.
///
/// A body is decoded from its bytes, not from the tree: a decimal is read from its own digits
/// (`1.2500` keeps scale 4; see [`codec`](crate::codec)). The bytes passed the duplicate-key
/// check when the answer was classified. An empty body is decoded from `Null` (so `()` and
/// `Option` answers still work) and any failure there is [`Error::UnexpectedBody`].
pub(crate) fn decode<T: DeserializeOwned>(
    endpoint: &str,
    method: Method,
    raw: &RawResponse,
) -> Result<T> {
    if raw.bytes.iter().all(u8::is_ascii_whitespace) {
        return decode_value(endpoint, method, raw.status, &raw.body);
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&raw.bytes))
        .map_err(|e| decode_error(endpoint, method, raw.status, &raw.body, e))
}

/// Decode a JSON tree into `T`, naming the path of the failing field (numbers are f64 by now:
/// decimals keep their value, not their scale).
pub(crate) fn decode_value<T: DeserializeOwned>(
    endpoint: &str,
    method: Method,
    status: u16,
    body: &serde_json::Value,
) -> Result<T> {
    serde_path_to_error::deserialize(body)
        .map_err(|e| decode_error(endpoint, method, status, body, e))
}

fn decode_error(
    endpoint: &str,
    method: Method,
    status: u16,
    body: &serde_json::Value,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> Error {
    if body.is_null() {
        return Error::UnexpectedBody {
            method: method.as_str().to_owned(),
            endpoint: endpoint.to_owned(),
            status,
            content_type: None,
            snippet: "<empty body>".to_owned(),
        };
    }
    let path = e.path().to_string();
    Error::Decode {
        endpoint: endpoint.to_owned(),
        path,
        source: e.into_inner(),
    }
}

/// Cin7's error model, as an object or as the first element of an array:
/// `{"ErrorCode": 400, "Exception": "..."}`.
fn error_model(json: &serde_json::Value) -> Option<(Option<i64>, String)> {
    let object = match json {
        serde_json::Value::Object(map) => map,
        serde_json::Value::Array(items) => items.first()?.as_object()?,
        _ => return None,
    };
    let code = object.get("ErrorCode");
    let exception = object.get("Exception");
    if code.is_none() && exception.is_none() {
        return None;
    }
    let code = code.and_then(|c| {
        c.as_i64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let message = match exception {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::from("(no Exception text)"),
    };
    Some((code, message))
}

fn is_limit_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("api limit") || lower.contains("calls per")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_model_in_object_array_and_string_code() {
        let obj = serde_json::json!({"ErrorCode": 404, "Exception": "Category not found."});
        assert_eq!(
            error_model(&obj),
            Some((Some(404), "Category not found.".into()))
        );
        let arr = serde_json::json!([{"ErrorCode": "400", "Exception": "Bad"}]);
        assert_eq!(error_model(&arr), Some((Some(400), "Bad".into())));
        assert_eq!(error_model(&serde_json::json!({"Total": 0})), None);
        assert_eq!(error_model(&serde_json::json!([])), None);
    }

    #[test]
    fn builder_requires_both_secrets_and_a_valid_url() {
        let missing = Cin7Client::builder()
            .application_key(SecretString::from("k"))
            .build();
        assert!(matches!(missing, Err(Error::Config(m)) if m.contains("account_id")));
        let bad_url = Cin7Client::builder()
            .account_id(SecretString::from("builder-test"))
            .application_key(SecretString::from("k"))
            .base_url("ftp://example.invalid")
            .build();
        assert!(matches!(bad_url, Err(Error::Config(m)) if m.contains("http")));
        let bad_header = Cin7Client::builder()
            .account_id(SecretString::from("builder-test"))
            .application_key(SecretString::from("line\nbreak"))
            .build();
        assert!(
            matches!(bad_header, Err(Error::Config(m)) if m.contains("application_key") && !m.contains("line"))
        );
    }
}
