//! The ION API Gateway transport: [`IonClient`] and its builder.
//!
//! One request path serves every product call: bearer token from the [`TokenProvider`], the
//! 401 rule (drop the token, get a new one, retry once; a second 401 is an authentication
//! error), retries with capped exponential backoff and jitter on 429/502/503/504, timeouts and
//! connection errors for idempotent requests, `Retry-After` honoured, a `POST` never resent once
//! it may have reached the server, a cap on response size, and a `tracing` span per attempt
//! that carries method, path, status and attempt — never a token.
//!
//! Reads get one more rule: a safe read (`GET`/`HEAD`, not marked non-idempotent) answered with
//! a 500, or with a 2xx whose body is not what was asked for (an HTML page, JSON that is cut
//! short or does not decode, XML that is not well formed), is retried a few times
//! ([`IonClientBuilder::max_bad_answer_retries`], default
//! [`DEFAULT_MAX_BAD_ANSWER_RETRIES`]) on the same backoff schedule. Decoding happens inside
//! the retry loop ([`IonClient::send_decoded`]), so there is one loop, not two. Writes keep the
//! rules above: a `POST`, `PUT` or `DELETE` answered with a 500 or an HTML page is never
//! resent.

mod request;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use sdk_common::body::{BodyError, excerpt, read_capped};
use sdk_common::breaker::Breaker;
use sdk_common::retry::{Failed, Idempotency, RetryLoop, RetryPolicy, parse_retry_after};
use sdk_common::time::{SharedClock, SystemClock};
use secrecy::ExposeSecret;
use tracing::Instrument;
use url::Url;

pub use request::{IonRequest, IonResponse, MultipartPart, RequestBody};

use crate::auth::{AuthConfig, TokenProvider};
use crate::error::{ApiError, Error, Result, transport_error};
use crate::ionapi::{IonApiFile, checked_url, with_trailing_slash};
use crate::vault::Vault;

/// The default per-request timeout: a little above the gateway's 60 s backend limit, so the
/// gateway's own 504 arrives before we give up.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(70);
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// The default number of retries of a safe read answered with a 500 or with a body that is not
/// what was asked for (they also count against the retry policy's budget).
pub const DEFAULT_MAX_BAD_ANSWER_RETRIES: usize = 2;

/// A client for one tenant's ION API Gateway. Cheap to clone; clones share the connection pool
/// and the token cache.
///
/// ```no_run
/// use infor_ion_client::client::{IonClient, IonRequest};
/// use infor_ion_client::ionapi::IonApiFile;
///
/// # async fn run() -> Result<(), infor_ion_client::Error> {
/// let file = IonApiFile::from_path("ACME_PRD.ionapi")?;
/// let client = IonClient::builder(file).build()?;
/// let response = client
///     .send(IonRequest::get("M3/m3api-rest/v2/execute/CRS620MI/LstSuppliers").query("maxrecs", "10"))
///     .await?;
/// println!("{}", response.text()?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IonClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    tenant: String,
    tokens: TokenProvider,
    retry: RetryPolicy,
    clock: SharedClock,
    max_response_bytes: usize,
    max_bad_answer_retries: usize,
    /// Connect failures across every request (token requests included) of the client and its
    /// clones: a dead gateway fails the rest of a run at once instead of once per request.
    breaker: Breaker,
}

impl fmt::Debug for IonClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IonClient")
            .field("tenant", &self.inner.tenant)
            .field("base_url", &self.inner.base_url.as_str())
            .field("tokens", &self.inner.tokens)
            .finish_non_exhaustive()
    }
}

/// Builds an [`IonClient`]; see [`IonClient::builder`].
#[derive(Debug)]
pub struct IonClientBuilder {
    file: IonApiFile,
    base_url: Option<String>,
    auth: AuthConfig,
    retry: RetryPolicy,
    clock: SharedClock,
    request_timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    max_response_bytes: usize,
    max_bad_answer_retries: usize,
    http: Option<reqwest::Client>,
}

impl IonClient {
    /// Start building a client from a parsed `.ionapi` file.
    pub fn builder(file: IonApiFile) -> IonClientBuilder {
        IonClientBuilder {
            file,
            base_url: None,
            auth: AuthConfig::default(),
            retry: RetryPolicy::default(),
            clock: SystemClock::shared(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: concat!("infor-ion-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_bad_answer_retries: DEFAULT_MAX_BAD_ANSWER_RETRIES,
            http: None,
        }
    }

    /// Start building a client from the `.ionapi` file stored in a vault for `tenant`.
    pub fn builder_from_vault(vault: &Vault, tenant: &str) -> Result<IonClientBuilder> {
        Ok(Self::builder(vault.load(tenant)?))
    }

    /// The tenant id (`ti`).
    pub fn tenant(&self) -> &str {
        &self.inner.tenant
    }

    /// The API base URL requests are relative to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The token provider (to revoke on shutdown, or to inspect token requests).
    pub fn tokens(&self) -> &TokenProvider {
        &self.inner.tokens
    }

    /// The clock this client uses.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Revoke the current token grant (call on shutdown).
    pub async fn revoke(&self) -> Result<()> {
        self.inner.tokens.revoke().await
    }

    /// Send a request and return its 2xx answer, applying the token, 401 and retry rules.
    ///
    /// The body is handed back as it came; to have an answer that is not what was asked for
    /// (an HTML page, a body cut short) retried on a read, decode it inside the loop with
    /// [`send_json`](Self::send_json) or [`send_decoded`](Self::send_decoded).
    pub async fn send(&self, request: IonRequest) -> Result<IonResponse> {
        self.send_decoded(request, Ok).await
    }

    /// Send a request and decode its JSON answer. On a safe read, an answer that is not JSON
    /// or does not decode as `T` is retried a few times (see the [module docs](self)).
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        request: IonRequest,
    ) -> Result<T> {
        self.send_decoded(request, |response| response.json()).await
    }

    /// Send a request and turn its 2xx answer into `T` with `decode`, in the one retry loop.
    ///
    /// When `decode` fails with an error that says the answer was not what was asked for
    /// ([`Error::UnexpectedBody`], [`Error::Decode`], malformed XML) and the request is a safe
    /// read (`GET`/`HEAD`, not marked non-idempotent), the request is sent again on the retry
    /// policy's schedule, at most [`IonClientBuilder::max_bad_answer_retries`] times (a 500 on
    /// such a read counts against the same cap). Any other error of `decode` (an IDO's
    /// `Success: false`, an M3 error) is final. Writes are never resent for a bad answer.
    ///
    /// ```no_run
    /// use infor_ion_client::client::{IonClient, IonRequest};
    ///
    /// # async fn run(client: IonClient) -> Result<(), infor_ion_client::Error> {
    /// let rows: usize = client
    ///     .send_decoded(IonRequest::get("CSI/IDORequestService/ido/load/SLVendors"), |answer| {
    ///         let body: serde_json::Value = answer.json()?;
    ///         Ok(body["Items"].as_array().map_or(0, Vec::len))
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_decoded<T, F>(&self, request: IonRequest, decode: F) -> Result<T>
    where
        F: Fn(IonResponse) -> Result<T>,
    {
        let inner = &self.inner;
        if let Some(problem) = request.problem() {
            return Err(Error::InvalidRequest(problem.to_owned()));
        }
        let url = self.url_for(&request)?;
        let safe_read =
            request.method().is_safe() && request.idempotency() == Idempotency::Idempotent;
        let mut retry =
            RetryLoop::new(&inner.retry, request.idempotency()).reread_bad_answers(if safe_read {
                inner.max_bad_answer_retries
            } else {
                0
            });
        let (request, url, decode) = (&request, &url, &decode);
        retry
            .run(
                &*inner.clock,
                |attempt| async move {
                    let response = self.authorized_attempt(request, url, attempt).await?;
                    decode(response).map_err(|error| self.judge(request, error))
                },
                |failed, delay| {
                    tracing::debug!(
                        error = %failed.error,
                        ?delay,
                        bad_answer = failed.bad_answer,
                        "retrying the ION request"
                    );
                },
            )
            .await
            .map_err(|failed| failed.error)
    }

    /// One attempt with a token: a 401 means the gateway refused the token before forwarding
    /// the call, so it is renewed and the call sent again at once (safe whatever the method);
    /// a second refusal is final.
    async fn authorized_attempt(
        &self,
        request: &IonRequest,
        url: &Url,
        attempt: u32,
    ) -> std::result::Result<IonResponse, Failed<Error>> {
        let inner = &self.inner;
        inner
            .breaker
            .check(inner.clock.now())
            .map_err(|cause| Failed::permanent(unreachable(request, cause)))?;
        let mut renewed = false;
        loop {
            let token = match inner.tokens.access_token().await {
                Ok(token) => token,
                Err(error) => {
                    // The token provider has retried on its own; a gateway that cannot be
                    // connected to counts against the breaker like any other request.
                    if let Some(cause) = error.connect_failure() {
                        inner
                            .breaker
                            .connect_failed(inner.clock.now(), cause.to_owned());
                    }
                    return Err(Failed::permanent(error));
                }
            };
            let span = tracing::info_span!(
                "ion.request",
                method = %request.method(),
                path = %request.path(),
                attempt,
                status = tracing::field::Empty,
            );
            let outcome = self
                .attempt(request, url, token.secret())
                .instrument(span)
                .await;
            match outcome {
                Ok(response) => {
                    inner.breaker.reached();
                    return Ok(response);
                }
                Err(Attempt::Unauthorized) if !renewed => {
                    inner.breaker.reached();
                    renewed = true;
                    tracing::debug!(attempt, "ION answered 401; renewing the token once");
                    inner.tokens.invalidate(&token).await;
                }
                Err(Attempt::Unauthorized) => {
                    inner.breaker.reached();
                    return Err(Failed::permanent(Error::Unauthorized {
                        method: request.method().to_string(),
                        path: request.path().to_owned(),
                    }));
                }
                Err(Attempt::Failed(error)) => return Err(self.judge(request, error)),
            }
        }
    }

    /// What a failed attempt allows. A server that cannot be connected to is counted across
    /// every request: once the breaker opens, this request stops retrying too.
    fn judge(&self, request: &IonRequest, error: Error) -> Failed<Error> {
        let inner = &self.inner;
        match error.connect_failure() {
            Some(cause)
                if inner
                    .breaker
                    .connect_failed(inner.clock.now(), cause.to_owned()) =>
            {
                return Failed::permanent(unreachable(request, cause.to_owned()));
            }
            Some(_) => {}
            None if error.answered() => inner.breaker.reached(),
            None => {}
        }
        let failure = error.failure();
        if error.is_bad_answer() {
            // A 500 or a garbled answer: harmless to ask again on a read, a few times.
            Failed::bad_answer(error, failure)
        } else {
            Failed::new(error, failure)
        }
    }

    fn url_for(&self, request: &IonRequest) -> Result<Url> {
        let mut url =
            self.inner.base_url.join(request.path()).map_err(|e| {
                Error::InvalidRequest(format!("bad path `{}`: {e}", request.path()))
            })?;
        if !request.query_pairs().is_empty() {
            url.query_pairs_mut().extend_pairs(request.query_pairs());
        }
        Ok(url)
    }

    async fn attempt(
        &self,
        request: &IonRequest,
        url: &Url,
        token: &secrecy::SecretString,
    ) -> std::result::Result<IonResponse, Attempt> {
        let inner = &self.inner;
        let method = request.method().to_string();
        let path = request.path();
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| {
                Attempt::Failed(Error::InvalidRequest(
                    "the access token from the token endpoint is not a valid header value".into(),
                ))
            })?;
        bearer.set_sensitive(true);
        let mut builder = inner
            .http
            .request(request.method().clone(), url.clone())
            .header(AUTHORIZATION, bearer)
            .headers(request.headers().clone());
        if !request.headers().contains_key(ACCEPT) {
            builder = builder.header(ACCEPT, "application/json");
        }
        builder = match request.body() {
            None => builder,
            Some(RequestBody::Json(b)) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(b.clone()),
            Some(RequestBody::Xml(b)) => builder
                .header(CONTENT_TYPE, "application/xml")
                .body(b.clone()),
            Some(RequestBody::Text(b)) => {
                builder.header(CONTENT_TYPE, "text/plain").body(b.clone())
            }
            Some(RequestBody::Multipart(parts)) => {
                builder.multipart(multipart_form(parts).map_err(Attempt::Failed)?)
            }
        };
        let response = builder.send().await.map_err(|e| {
            crate::telemetry::answered(&method, path, None);
            Attempt::Failed(transport_error(&method, path, e))
        })?;
        let status = response.status();
        crate::telemetry::answered(&method, path, Some(status.as_u16()));
        tracing::Span::current().record("status", status.as_u16());
        tracing::debug!("ION answered");
        if status == StatusCode::UNAUTHORIZED {
            return Err(Attempt::Unauthorized);
        }
        let headers = response.headers().clone();
        let body = match read_capped(response, inner.max_response_bytes).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return Err(Attempt::Failed(Error::ResponseTooLarge {
                    method,
                    path: path.to_owned(),
                    limit: inner.max_response_bytes,
                }));
            }
            Err(BodyError::Transport(e)) => {
                return Err(Attempt::Failed(transport_error(&method, path, e)));
            }
        };
        if !request.accepts(status) {
            let retry_after = headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, inner.clock.now()));
            return Err(Attempt::Failed(Error::Api(Box::new(ApiError {
                method,
                path: path.to_owned(),
                status: status.as_u16(),
                retry_after,
                content_type: headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                body_excerpt: excerpt(&body, 1024),
            }))));
        }
        Ok(IonResponse {
            method: request.method().clone(),
            path: path.to_owned(),
            status,
            headers,
            body,
        })
    }
}

fn unreachable(request: &IonRequest, cause: String) -> Error {
    Error::Unreachable {
        method: request.method().to_string(),
        path: request.path().to_owned(),
        cause,
    }
}

/// How one attempt ended, before the retry decision.
enum Attempt {
    /// 401: the token was refused.
    Unauthorized,
    /// Anything else that is not a 2xx.
    Failed(Error),
}

fn multipart_form(parts: &[MultipartPart]) -> Result<reqwest::multipart::Form> {
    let mut form = reqwest::multipart::Form::new();
    for part in parts {
        let mut body = reqwest::multipart::Part::bytes(part.content.to_vec())
            .mime_str(&part.content_type)
            .map_err(|_| {
                Error::InvalidRequest(format!(
                    "`{}` is not a valid content type for part `{}`",
                    part.content_type, part.name
                ))
            })?;
        if let Some(name) = &part.file_name {
            body = body.file_name(name.clone());
        }
        form = form.part(part.name.clone(), body);
    }
    Ok(form)
}

impl IonClientBuilder {
    /// Send requests to this base URL instead of `iu/ti` (a local simulator or a proxy). Plain
    /// http is accepted for loopback hosts only.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Token settings (client authentication style, refresh margin, scope).
    pub fn auth(mut self, auth: AuthConfig) -> Self {
        self.auth = auth;
        self
    }

    /// The retry policy for gateway calls.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The clock used for token expiry and backoff (inject a
    /// [`ManualClock`](sdk_common::time::ManualClock) in tests).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The whole-request timeout (default 70 s). Raise it (up to ~310 s) for tenants whose
    /// gateway `targetTimeout` policy is above 60 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The largest response body accepted (default 64 MiB).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How many times a safe read (`GET`/`HEAD`) answered with a 500 or with a body that is
    /// not what was asked for (an HTML page, JSON cut short or not decoding, malformed XML) is
    /// sent again (default [`DEFAULT_MAX_BAD_ANSWER_RETRIES`]; 0 turns it off). These retries
    /// also use up the retry policy's budget and follow its backoff. Writes are never resent
    /// for such an answer.
    pub fn max_bad_answer_retries(mut self, retries: usize) -> Self {
        self.max_bad_answer_retries = retries;
        self
    }

    /// Use this `reqwest` client (its timeouts, user agent and redirect policy then apply
    /// instead of the builder's). Give it `.redirect(sdk_common::redirect::same_origin())` (the
    /// builder's own client does) so neither the bearer token nor the token form follows a
    /// redirect to another host.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Build the client. Fails when the file has no service account or a URL is invalid.
    pub fn build(self) -> Result<IonClient> {
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .timeout(self.request_timeout)
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent)
                .redirect(sdk_common::redirect::same_origin())
                .build()
                .map_err(|e| Error::InvalidRequest(format!("cannot build the HTTP client: {e}")))?,
        };
        let base_url = match &self.base_url {
            Some(url) => with_trailing_slash(checked_url("base_url", url)?),
            None => self.file.api_base_url(),
        };
        let tokens = TokenProvider::new(&self.file, http.clone(), self.auth, self.clock.clone())?;
        Ok(IonClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                tenant: self.file.tenant().to_owned(),
                tokens,
                retry: self.retry,
                clock: self.clock,
                max_response_bytes: self.max_response_bytes,
                max_bad_answer_retries: self.max_bad_answer_retries,
                breaker: Breaker::default(),
            }),
        })
    }
}
