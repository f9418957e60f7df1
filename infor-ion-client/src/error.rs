//! The crate's error type.
//!
//! Every error says whether retrying can help ([`Error::is_retryable`]) and what is known about
//! whether the request reached the server ([`Error::delivery`]), so callers can apply the same
//! rule the client applies internally: never resend a create whose outcome is unknown without
//! looking it up first. No variant ever holds a secret: token values, client secrets and
//! service-account keys are never formatted into errors.

use std::fmt;
use std::time::Duration;

use sdk_common::retry::Delivery;

use crate::ionapi::IonApiError;
use crate::vault::VaultError;

/// A specialised `Result` for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which OAuth grant a token request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// `grant_type=password` with the service account.
    Password,
    /// `grant_type=refresh_token`.
    RefreshToken,
    /// The revoke endpoint.
    Revoke,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Grant::Password => "password grant",
            Grant::RefreshToken => "refresh-token grant",
            Grant::Revoke => "token revocation",
        })
    }
}

/// A non-success answer from the ION gateway or a product behind it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP method.
    pub method: String,
    /// The path below the tenant's API base URL (no query string).
    pub path: String,
    /// The HTTP status.
    pub status: u16,
    /// The delay the server asked for with `Retry-After`, if any.
    pub retry_after: Option<Duration>,
    /// The response's content type, if any.
    pub content_type: Option<String>,
    /// The start of the response body (at most 1 KiB, lossily decoded), for diagnosis.
    pub body_excerpt: String,
}

/// How a request failed to get an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The connection could not be made (nothing was sent).
    Connect,
    /// The request or response took longer than the timeout.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// The server answered with a redirect to another origin (another host, or `https` to
    /// `http`), which was not followed so no credential left the configured host.
    Redirect,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Io => "connection failed",
            TransportKind::Redirect => "redirect refused",
        })
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `.ionapi` file is missing, malformed, or not usable for this operation.
    #[error(transparent)]
    IonApi(#[from] IonApiError),

    /// The encrypted credential vault could not be used.
    #[error(transparent)]
    Vault(#[from] VaultError),

    /// The token endpoint refused the request with an RFC 6749 error.
    #[error("the ION token endpoint refused the {grant} (HTTP {status}): {error}{}",
        description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    TokenRejected {
        /// The grant that was refused.
        grant: Grant,
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, e.g. `invalid_client`, `invalid_grant`.
        error: String,
        /// The OAuth `error_description`, if any.
        description: Option<String>,
    },

    /// The token endpoint failed without an OAuth error body (HTML error page, empty body, 5xx).
    #[error("the ION token endpoint failed the {grant}: HTTP {status} with {}",
        describe_body(content_type.as_deref(), *body_len))]
    TokenEndpoint {
        /// The grant that failed.
        grant: Grant,
        /// The HTTP status.
        status: u16,
        /// The response's content type, if any.
        content_type: Option<String>,
        /// The body's length in bytes (the body itself is not kept: it may echo credentials).
        body_len: usize,
        /// The delay the server asked for, if any.
        retry_after: Option<Duration>,
    },

    /// The token endpoint answered 200 but the body is not a usable token response.
    #[error("the ION token endpoint's answer to the {grant} is not a token response: {reason}")]
    TokenResponse {
        /// The grant.
        grant: Grant,
        /// What is wrong with it.
        reason: String,
    },

    /// The gateway rejected the bearer token again right after a fresh one was obtained.
    #[error(
        "ION rejected the access token (HTTP 401) for {method} {path} even after a fresh token \
         was obtained: check that the authorized app may call this API and that the service \
         account user has the needed roles"
    )]
    Unauthorized {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
    },

    /// The gateway or product answered with a non-success status.
    #[error("ION answered HTTP {} to {} {}{}", .0.status, .0.method, .0.path,
        excerpt_suffix(&.0.body_excerpt))]
    Api(Box<ApiError>),

    /// ION could not be reached at all (connections refused, DNS or TLS failing) several times
    /// in a row: the client's circuit breaker is open, and this request was not sent (see
    /// `sdk_common::breaker`).
    #[error("ION cannot be reached ({cause}); {method} {path} was not sent")]
    Unreachable {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
        /// Why, in words (`connection refused`, …).
        cause: String,
    },

    /// The request got no answer.
    #[error("{method} {path}: {kind} ({cause})")]
    Transport {
        /// The HTTP method.
        method: String,
        /// The request path (or the token/revoke endpoint).
        path: String,
        /// What went wrong.
        kind: TransportKind,
        /// Why, in words (`connection refused`, `DNS lookup failed`, …; see
        /// `sdk_common::retry::connect_cause`).
        cause: String,
        /// Whether the request may have reached the server.
        delivery: Delivery,
        /// The underlying error (its URL is stripped).
        #[source]
        source: reqwest::Error,
    },

    /// The response body is larger than the configured cap.
    #[error("{method} {path}: the response body exceeds {limit} bytes")]
    ResponseTooLarge {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
        /// The cap in bytes.
        limit: usize,
    },

    /// A 2xx answer whose body is not the JSON document asked for: an HTML page (a proxy's
    /// error or sign-in page) or something else that is not JSON at all. On a read (`GET`) the
    /// client retries it a few times before giving up with this error; see
    /// [`IonClientBuilder::max_bad_answer_retries`](crate::client::IonClientBuilder::max_bad_answer_retries).
    #[error("{method} {path}: ION answered HTTP {status} with {} instead of JSON{}",
        describe_content(content_type.as_deref()), excerpt_suffix(excerpt))]
    UnexpectedBody {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
        /// The HTTP status (a 2xx).
        status: u16,
        /// The response's content type, if any.
        content_type: Option<String>,
        /// The start of the body (at most 200 characters), for diagnosis.
        excerpt: String,
    },

    /// The response body could not be decoded into the expected type (including JSON cut
    /// short). On a read (`GET`) the client retries it a few times before giving up with this
    /// error.
    #[error("cannot decode the response to {method} {path} at `{at}`: {message}")]
    Decode {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
        /// Where in the document decoding failed (a JSON path such as `Items[3].RecordDate`).
        at: String,
        /// What was wrong there.
        message: String,
    },

    /// The request could not be built (a bad path, header or body).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A CloudSuite Industrial IDO call answered `Success: false` (often with HTTP 200).
    #[error("the IDO call on {ido} failed: {message}")]
    IdoFailed {
        /// The IDO, e.g. `SLVendors`.
        ido: String,
        /// The `Message` the server sent.
        message: String,
    },

    /// A tenant's IDO (or MI transaction) lacks a property the noun cannot do without; found
    /// before any row is read.
    #[error(
        "{ido} has no property `{property}` (standard name `{standard}`), which the sync cannot do without; map the tenant's property with `{config_key}`"
    )]
    MissingProperty {
        /// The IDO (or MI transaction) read on this tenant.
        ido: String,
        /// The property asked for (the site's name).
        property: String,
        /// Its standard name.
        standard: String,
        /// The runner's config key that maps it.
        config_key: String,
    },

    /// An M3 MI transaction reported errors (HTTP 400, failed transactions, or termination).
    #[error("M3 {program}/{transaction} failed: {}", describe_mi(.errors))]
    MiFailed {
        /// The MI program, e.g. `CRS620MI`.
        program: String,
        /// The transaction, e.g. `LstSuppliers`.
        transaction: String,
        /// One entry per failed transaction result.
        errors: Vec<MiError>,
    },

    /// An M3 MI row lacks an output field the noun requires: the tenant's transaction returns
    /// it under another name (map it with [`M3::fields`](crate::m3::M3::fields)) or not at all.
    #[error("M3 {program}/{transaction} returned a row without the required output field \
        `{field}` for {noun}.{canonical} (field map entry {canonical} = {field}{}); map \
        {canonical} to the tenant's output field with \
        M3::fields::<{noun}>(FieldMap::new().map(\"{canonical}\", \"...\"))",
        if *configured { ", as configured" } else { ", the default" })]
    MiFieldMissing {
        /// The MI program, e.g. `CRS620MI`.
        program: String,
        /// The transaction, e.g. `LstSuppliers`.
        transaction: String,
        /// The noun being read, e.g. `Supplier`.
        noun: String,
        /// The noun's field, e.g. `supplier`.
        canonical: String,
        /// The MI output field the row should have carried, e.g. `SUNO`.
        field: String,
        /// Whether the mapping was configured (`false`: the SDK's default).
        configured: bool,
    },

    /// A list transaction without a key range answered a full page: rows beyond `maxrecs` may
    /// exist and cannot be asked for, so the list is refused rather than silently cut.
    #[error(
        "M3 {program}/{transaction} returned {rows} rows = maxrecs; the list may be \
        truncated; raise page_size (ion.page_size) above the number of rows, narrow the \
        inputs, or give the transaction a key range (M3::shape) if it has one on your tenant"
    )]
    MiListTruncated {
        /// The MI program.
        program: String,
        /// The transaction.
        transaction: String,
        /// The rows the page held (`maxrecs`).
        rows: u32,
    },

    /// A server kept answering with the same page (a bookmark or page that does not advance).
    #[error("paging {what} does not advance: {detail}; stopped to avoid an endless loop")]
    PagingStuck {
        /// What was being paged (an IDO name, an MI transaction, a Data Lake document).
        what: String,
        /// What was seen.
        detail: String,
    },

    /// A value in a CloudSuite record could not be read as its type.
    #[error("{record}: property `{property}` value {value:?} is not {expected}")]
    InvalidValue {
        /// Where the value came from (`SLVendors`, `CRS620MI/LstSuppliers`, a BOD noun).
        record: String,
        /// The property or field name.
        property: String,
        /// The value as sent (CloudSuite values are business data, never credentials).
        value: String,
        /// What it should have been, e.g. `a decimal number`.
        expected: &'static str,
    },

    /// A required property is missing or empty in a CloudSuite record.
    #[error("{record}: required property `{property}` is missing or empty")]
    MissingValue {
        /// Where the record came from.
        record: String,
        /// The property or field name.
        property: String,
    },

    /// A BOD document could not be read or written.
    #[error(transparent)]
    Bod(#[from] crate::bod::BodError),
}

/// One failed M3 MI transaction result.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MiError {
    /// The transaction name.
    pub transaction: Option<String>,
    /// M3's message.
    pub error_message: Option<String>,
    /// M3's error code.
    pub error_code: Option<String>,
    /// The input field M3 complains about.
    pub error_field: Option<String>,
    /// M3's error type.
    pub error_type: Option<String>,
}

fn describe_mi(errors: &[MiError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| {
            let mut text = e
                .error_message
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .unwrap_or("no message")
                .to_owned();
            if let Some(field) = e.error_field.as_deref().filter(|f| !f.trim().is_empty()) {
                text.push_str(&format!(" (field {})", field.trim()));
            }
            if let Some(code) = e.error_code.as_deref().filter(|c| !c.trim().is_empty()) {
                text.push_str(&format!(" [{}]", code.trim()));
            }
            text
        })
        .collect();
    if parts.is_empty() {
        "the call was terminated".to_owned()
    } else {
        parts.join("; ")
    }
}

fn describe_body(content_type: Option<&str>, len: usize) -> String {
    match (content_type, len) {
        (_, 0) => "an empty body".to_owned(),
        (Some(ct), n) => format!("a {n}-byte {ct} body that is not an OAuth error"),
        (None, n) => format!("a {n}-byte body that is not an OAuth error"),
    }
}

fn describe_content(content_type: Option<&str>) -> String {
    match content_type {
        Some(ct) => format!("a {ct} body"),
        None => "a body without a content type".to_owned(),
    }
}

fn excerpt_suffix(excerpt: &str) -> String {
    let trimmed = excerpt.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(": {trimmed}")
    }
}

impl Error {
    /// Whether the server answered at all: `false` for a request that could not connect, timed
    /// out or lost its connection ([`Error::Transport`]).
    pub fn answered(&self) -> bool {
        !matches!(self, Error::Transport { .. } | Error::Unreachable { .. })
    }

    /// The cause, when the server could not be connected to at all (a refused connection, a
    /// failed DNS lookup or TLS handshake): what the circuit breaker counts.
    pub(crate) fn connect_failure(&self) -> Option<&str> {
        match self {
            Error::Transport {
                kind: TransportKind::Connect,
                cause,
                ..
            } => Some(cause),
            _ => None,
        }
    }

    /// Whether retrying the same request could succeed (throttling, 502/503/504, timeouts,
    /// connection trouble, and a 500 on a safe read). This says nothing about whether a retry
    /// is *safe*: see [`Error::delivery`].
    ///
    /// A body that is not what was asked for ([`Error::UnexpectedBody`], [`Error::Decode`]) is
    /// not retryable as such: the client has already asked again a few times on a read, so the
    /// server keeps sending it.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => {
                is_transient_status(api.status)
                    || (api.status == 500 && is_safe_method(&api.method))
            }
            Error::TokenEndpoint { status, .. } => is_transient_status(*status),
            Error::Transport {
                kind: TransportKind::Redirect,
                ..
            } => false,
            Error::Transport { .. } | Error::Unreachable { .. } => true,
            _ => false,
        }
    }

    /// Whether this is an answer a read may get from a hiccup rather than from the product's
    /// decision: a 500, a 2xx that is not JSON (an HTML page), JSON that does not decode or is
    /// cut short, XML that is not well formed. The request path retries these a few times, on
    /// safe reads only (`GET`/`HEAD` that are not marked non-idempotent).
    pub(crate) fn is_bad_answer(&self) -> bool {
        match self {
            Error::Api(api) => api.status == 500,
            Error::UnexpectedBody { .. } | Error::Decode { .. } => true,
            Error::Bod(crate::bod::BodError::Xml { .. }) => true,
            _ => false,
        }
    }

    /// What is known about whether the failed request reached the server and was processed.
    pub fn delivery(&self) -> Delivery {
        match self {
            Error::Transport { delivery, .. } => *delivery,
            Error::Api(api) => status_delivery(api.status),
            Error::TokenEndpoint { status, .. } => status_delivery(*status),
            // Refused before sending (bad input) or a definite answer.
            Error::IonApi(_)
            | Error::Vault(_)
            | Error::InvalidRequest(_)
            | Error::Unreachable { .. } => Delivery::NotProcessed,
            _ => Delivery::Processed,
        }
    }

    /// The HTTP status, when the failure was an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::TokenRejected { status, .. } | Error::TokenEndpoint { status, .. } => {
                Some(*status)
            }
            Error::Unauthorized { .. } => Some(401),
            _ => None,
        }
    }

    /// The delay the server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            Error::TokenEndpoint { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether this is an authentication failure (bad credentials, refused or rejected token).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Error::TokenRejected { .. } | Error::Unauthorized { .. }
        ) || matches!(self, Error::IonApi(IonApiError::NotBackendService))
    }

    pub(crate) fn failure(&self) -> sdk_common::retry::Failure {
        sdk_common::retry::Failure {
            delivery: self.delivery(),
            transient: self.is_retryable(),
            retry_after: self.retry_after(),
        }
    }
}

/// Statuses worth retrying whatever the method: throttling and gateway/backend unavailability.
/// A 500 is not among them: behind ION it often means the product rejected the request, so it
/// is retried (a few times) on safe reads only, where repeating it is harmless, and never on a
/// write.
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// `GET` and `HEAD` (and the other methods HTTP calls safe): reading twice changes nothing.
pub(crate) fn is_safe_method(method: &str) -> bool {
    http::Method::from_bytes(method.as_bytes()).is_ok_and(|m| m.is_safe())
}

/// 429 is the gateway's quota policy refusing the call before it reaches the product, so the
/// request was not processed. 5xx may come after the product did the work.
fn status_delivery(status: u16) -> Delivery {
    match status {
        429 => Delivery::NotProcessed,
        500..=599 => Delivery::Unknown,
        _ => Delivery::Processed,
    }
}

/// Classify a `reqwest` error for the retry rule.
pub(crate) fn transport_error(method: &str, path: &str, source: reqwest::Error) -> Error {
    let (kind, delivery) = if source.is_connect() {
        (TransportKind::Connect, Delivery::NotProcessed)
    } else if source.is_timeout() {
        (TransportKind::Timeout, Delivery::Unknown)
    } else if source.is_redirect() {
        // The server answered; asking again gets the same redirect.
        (TransportKind::Redirect, Delivery::Processed)
    } else {
        (TransportKind::Io, Delivery::Unknown)
    };
    let source = source.without_url();
    Error::Transport {
        method: method.to_owned(),
        path: path.to_owned(),
        kind,
        cause: sdk_common::retry::connect_cause(&source),
        delivery,
        source,
    }
}
