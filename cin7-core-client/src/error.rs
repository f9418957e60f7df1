//! The crate's one error type.
//!
//! Every failure of a Cin7 call ends up as an [`Error`]. Server answers keep the HTTP status,
//! Cin7's own `ErrorCode` and its `Exception` text; decode failures name the JSON path of the
//! field that failed; every error can say whether retrying it could help
//! ([`Error::is_retryable`]) and whether the request may have reached Cin7
//! ([`Error::delivery`]). No variant ever holds the account id or the application key: those
//! only travel in request headers, which are never copied into an error.

use std::time::Duration;

use sdk_common::retry::Delivery;

use crate::webhook::WebhookError;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What Cin7 said when it refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP method of the request.
    pub method: String,
    /// The endpoint path, relative to the base URL (for example `supplier`).
    pub endpoint: String,
    /// The HTTP status (Cin7 sometimes sends its error body with `200`).
    pub status: u16,
    /// Cin7's `ErrorCode`, when the body carried one. It need not match the HTTP status.
    pub error_code: Option<i64>,
    /// Cin7's `Exception` text, or the raw body (shortened) when it sent no error model.
    pub message: String,
}

impl ApiError {
    /// A refusal of `method endpoint` with this HTTP status and message, without an
    /// `ErrorCode` (for tests and adapters; the client builds these from Cin7's answers).
    ///
    /// ```
    /// let refused = cin7_core_client::ApiError::new("POST", "supplier", 400, "Name is required")
    ///     .with_error_code(400);
    /// assert_eq!(refused.error_code, Some(400));
    /// ```
    pub fn new(
        method: impl Into<String>,
        endpoint: impl Into<String>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            method: method.into(),
            endpoint: endpoint.into(),
            status,
            error_code: None,
            message: message.into(),
        }
    }

    /// The same, carrying Cin7's `ErrorCode`.
    pub fn with_error_code(mut self, code: i64) -> Self {
        self.error_code = Some(code);
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} answered HTTP {}",
            self.method, self.endpoint, self.status
        )?;
        if let Some(code) = self.error_code {
            write!(f, " with ErrorCode {code}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a paged listing was abandoned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaginationProblem {
    /// The server sent the same rows as for the previous page (it ignores `Page`).
    RepeatedPage {
        /// The page that repeated its predecessor.
        page: u32,
    },
    /// More pages than `Total` could ever justify were fetched.
    TooManyPages {
        /// The page cap that was reached.
        max_pages: u32,
    },
    /// The envelope lacked the list key.
    MissingListKey {
        /// The key that was expected (e.g. `SupplierList`).
        key: String,
    },
    /// A page came back empty while `Total` said more rows exist: rows are missing (or the
    /// endpoint pages in a way the client cannot follow), so the list is incomplete.
    Truncated {
        /// The `Total` the empty page reported.
        total: u64,
        /// The rows read (counting pages skipped before the first one asked for).
        read: u64,
        /// The empty page.
        page: u32,
    },
}

impl std::fmt::Display for PaginationProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PaginationProblem::RepeatedPage { page } => {
                write!(f, "page {page} repeated the rows of the page before it")
            }
            PaginationProblem::TooManyPages { max_pages } => {
                write!(f, "gave up after {max_pages} pages (Total kept moving)")
            }
            PaginationProblem::MissingListKey { key } => {
                write!(f, "the response has no `{key}` array")
            }
            PaginationProblem::Truncated { total, read, page } => write!(
                f,
                "page {page} was empty after {read} rows, but Total says {total}: rows are missing"
            ),
        }
    }
}

/// Everything that can go wrong talking to Cin7 Core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client was configured wrongly (missing account id, bad base URL, zero rate).
    #[error("invalid Cin7 client configuration: {0}")]
    Config(String),

    /// A request argument was rejected before anything was sent.
    #[error("invalid input for {field}: {reason}")]
    InvalidInput {
        /// The argument or field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// HTTP 403: the account id / application key pair was refused, or the API application
    /// has no permission for this endpoint. Not retried.
    #[error("Cin7 refused the credentials for {method} {endpoint} (HTTP 403): {message}")]
    Auth {
        /// The HTTP method.
        method: String,
        /// The endpoint path; a 403 on one endpoint only can mean a scoped API application.
        endpoint: String,
        /// Cin7's message (e.g. `Incorrect credentials!`).
        message: String,
    },

    /// Cin7 answered with an error: HTTP 4xx/5xx, or an `{ErrorCode, Exception}` body, which
    /// can also arrive with HTTP 200.
    #[error("{0}")]
    Api(Box<ApiError>),

    /// The request was throttled (429, 503 or Cin7's limit message) and the retry budget ran
    /// out.
    #[error("Cin7 kept throttling {method} {endpoint} after {retries} retries (HTTP {status})")]
    RateLimited {
        /// The HTTP method.
        method: String,
        /// The endpoint path.
        endpoint: String,
        /// The last throttling status.
        status: u16,
        /// How many retries were made.
        retries: usize,
        /// The last wait the server asked for, if any.
        retry_after: Option<Duration>,
    },

    /// The request could not be completed at the transport level (connect, timeout, reset).
    #[error("transport error on {method} {endpoint}")]
    Transport {
        /// The HTTP method.
        method: String,
        /// The endpoint path.
        endpoint: String,
        /// Whether the request may have reached Cin7.
        delivery: Delivery,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// Cin7 cannot be reached at all (connection refused, DNS or TLS failure) and the client's
    /// breaker is open: the request was not sent. Every request of the client fails this way
    /// for a short while (see the `breaker` module) instead of retrying.
    #[error("Cin7 cannot be reached ({cause}); {method} {endpoint} was not sent")]
    Unreachable {
        /// The HTTP method.
        method: String,
        /// The endpoint path.
        endpoint: String,
        /// What kept it from reaching Cin7, in words.
        cause: String,
    },

    /// A create (`POST`) failed in a way that leaves its outcome unknown: it may have been
    /// applied. It is never resent automatically; look the record up before creating again.
    #[error(
        "outcome of {method} {endpoint} is unknown (the record may have been created); \
         look it up before retrying: {source}"
    )]
    UncertainWrite {
        /// The HTTP method.
        method: String,
        /// The endpoint path.
        endpoint: String,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },

    /// A 2xx answer whose body is not JSON (an HTML "Page not found" or a proxy's page, JSON
    /// cut short, an empty body where a document was expected). A `GET` answered that way is
    /// sent again a few times first
    /// ([`Cin7ClientBuilder::max_bad_answer_retries`](crate::Cin7ClientBuilder::max_bad_answer_retries)),
    /// so when it still surfaces the server keeps answering so: usually a wrong path. A write
    /// answered that way is never resent.
    #[error(
        "unexpected non-JSON body from {method} {endpoint} (HTTP {status}, content-type {content_type:?}): {snippet}"
    )]
    UnexpectedBody {
        /// The HTTP method.
        method: String,
        /// The endpoint path.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// The start of the body.
        snippet: String,
    },

    /// The response body was larger than the client's cap (`max_response_bytes`).
    #[error("the response of {method} {endpoint} is larger than {limit} bytes; refused")]
    ResponseTooLarge {
        /// The HTTP method.
        method: String,
        /// The endpoint path.
        endpoint: String,
        /// The cap, in bytes.
        limit: usize,
    },

    /// A JSON body did not match the expected model.
    #[error("cannot decode the response of {endpoint} at `{path}`")]
    Decode {
        /// The endpoint path.
        endpoint: String,
        /// The JSON path of the field that failed (e.g. `SupplierList[3].Discount`).
        path: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },

    /// A request body could not be encoded as JSON.
    #[error("cannot encode the request body for {endpoint}")]
    Encode {
        /// The endpoint path.
        endpoint: String,
        /// The serde error (shared: the request that failed to encode keeps it too).
        #[source]
        source: std::sync::Arc<serde_json::Error>,
    },

    /// A listing was abandoned because the server's paging misbehaved.
    #[error("paging {endpoint} stopped: {problem}")]
    Pagination {
        /// The endpoint path.
        endpoint: String,
        /// What went wrong.
        problem: PaginationProblem,
    },

    /// A webhook delivery was rejected.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

impl Error {
    /// Whether retrying the same request later could succeed (throttling, timeouts, 5xx).
    ///
    /// An [`Error::UncertainWrite`] is *not* retryable as such: the caller must look the record
    /// up first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Unreachable { .. } => true,
            Error::Transport { source, .. } => !source.is_redirect() && !source.is_builder(),
            Error::Api(api) => api.status >= 500 && api.status != 501,
            _ => false,
        }
    }

    /// What is known about whether the request reached Cin7.
    pub fn delivery(&self) -> Delivery {
        match self {
            Error::Config(_) | Error::InvalidInput { .. } | Error::Encode { .. } => {
                Delivery::NotProcessed
            }
            Error::RateLimited { .. } | Error::Unreachable { .. } => Delivery::NotProcessed,
            Error::Transport { delivery, .. } => *delivery,
            Error::UncertainWrite { .. } => Delivery::Unknown,
            Error::Api(api) if api.status >= 500 => Delivery::Unknown,
            _ => Delivery::Processed,
        }
    }

    /// The HTTP status Cin7 answered with, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Auth { .. } => Some(403),
            Error::Api(api) => Some(api.status),
            Error::RateLimited { status, .. } | Error::UnexpectedBody { status, .. } => {
                Some(*status)
            }
            Error::UncertainWrite { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Cin7's error details, when this is an [`Error::Api`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }
}
