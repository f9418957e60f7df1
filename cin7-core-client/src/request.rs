//! A transport-agnostic description of one Cin7 call.
//!
//! Every endpoint builds a [`Cin7Request`] and hands it to [`Cin7Client::execute`]; that one path
//! adds authentication, waits for the rate limiter, retries what is safe to retry and turns the
//! answer into a value or an [`Error`]. Keeping the description separate from
//! reqwest lets tests and callers inspect exactly what will be sent, and lets a caller reach an
//! endpoint this crate has not typed yet through the same safety rails.
//!
//! [`Cin7Client::execute`]: crate::Cin7Client::execute

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sdk_common::retry::Idempotency;
use serde::Serialize;

use crate::codec;
use crate::error::Error;

/// The HTTP method of a call: `http`'s, the same type the ION client uses.
pub use http::Method;

/// One Cin7 call: method, path relative to the base URL, query, optional JSON body, and whether
/// repeating it is harmless.
///
/// ```
/// use cin7_core_client::request::{Cin7Request, Method};
/// use sdk_common::retry::Idempotency;
///
/// let req = Cin7Request::get("supplier").query("Name", "Acme").query_opt("Limit", Some(10));
/// assert_eq!(req.method(), Method::GET);
/// assert_eq!(req.query_pairs(), &[("Name".to_string(), "Acme".to_string()), ("Limit".into(), "10".into())]);
/// assert_eq!(req.idempotency(), Idempotency::Idempotent);
/// // A POST is a create unless declared otherwise.
/// assert_eq!(Cin7Request::post("supplier").idempotency(), Idempotency::NonIdempotent);
/// ```
#[derive(Clone)]
pub struct Cin7Request {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    /// The body as JSON text: serialized once, straight from the typed model, so decimals keep
    /// their digits (a `serde_json::Value` would hold them as f64).
    body: Option<String>,
    idempotency: Idempotency,
    /// Why the body could not be encoded: kept and reported by `execute`, so a request chain
    /// needs no `?` (the same rule as the ION client's `IonRequest`).
    encode_error: Option<Arc<serde_json::Error>>,
}

/// The body is shown by its size only: a webhook subscription's body carries the credentials
/// Cin7 sends back with each delivery.
impl std::fmt::Debug for Cin7Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cin7Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body", &self.body.as_ref().map(|b| BodySize(b.len())))
            .field("idempotency", &self.idempotency)
            .field("encode_error", &self.encode_error)
            .finish()
    }
}

/// A body's size, for `Debug`.
struct BodySize(usize);

impl std::fmt::Debug for BodySize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

/// Equal when they would send the same call; two requests whose bodies failed to encode are
/// equal when the failures read the same.
impl PartialEq for Cin7Request {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method
            && self.path == other.path
            && self.query == other.query
            && self.body == other.body
            && self.idempotency == other.idempotency
            && self.encode_error.as_ref().map(ToString::to_string)
                == other.encode_error.as_ref().map(ToString::to_string)
    }
}

impl Cin7Request {
    /// A request with the default idempotency for its method (`POST` is not idempotent).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let idempotency = Idempotency::for_method(method.as_str());
        Cin7Request {
            method,
            path: path.into().trim_start_matches('/').to_owned(),
            query: Vec::new(),
            body: None,
            idempotency,
            encode_error: None,
        }
    }

    /// A `GET`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// A `POST` (a create, not idempotent, unless [`Cin7Request::idempotent`] is called).
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// A `PUT`.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// A `DELETE`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Add a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// Add a query parameter when `value` is `Some`.
    pub fn query_opt(self, key: impl Into<String>, value: Option<impl ToString>) -> Self {
        match value {
            Some(value) => self.query(key, value),
            None => self,
        }
    }

    /// Add a date-time query parameter in Cin7's format.
    pub fn query_datetime(self, key: impl Into<String>, value: Option<DateTime<Utc>>) -> Self {
        self.query_opt(key, value.map(codec::format_datetime))
    }

    /// Add a date query parameter in Cin7's format.
    pub fn query_date(self, key: impl Into<String>, value: Option<NaiveDate>) -> Self {
        self.query_opt(key, value.map(codec::format_date))
    }

    /// Set the JSON body (serialized now, to JSON text). A body that cannot be encoded is
    /// reported when the request is sent ([`Error::Encode`]), nothing
    /// having been sent; [`encode_error`](Self::encode_error) shows it before.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use cin7_core_client::request::Cin7Request;
    ///
    /// let ok = Cin7Request::post("supplier").json(&serde_json::json!({"Name": "Acme"}));
    /// assert_eq!(ok.body(), Some(r#"{"Name":"Acme"}"#));
    /// // JSON object keys must be strings: this map cannot be encoded.
    /// let bad = Cin7Request::post("supplier").json(&HashMap::from([((1, 2), "x")]));
    /// assert!(bad.encode_error().is_some());
    /// ```
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_string(body) {
            Ok(text) => {
                self.body = Some(text);
                self.encode_error = None;
            }
            Err(error) => {
                self.body = None;
                self.encode_error = Some(Arc::new(error));
            }
        }
        self
    }

    /// Why the body given to [`json`](Self::json) could not be encoded, if it could not.
    pub fn encode_error(&self) -> Option<&serde_json::Error> {
        self.encode_error.as_deref()
    }

    /// The error `execute` reports for a body that could not be encoded.
    pub(crate) fn encode_problem(&self) -> Option<Error> {
        self.encode_error.as_ref().map(|source| Error::Encode {
            endpoint: self.path.clone(),
            source: Arc::clone(source),
        })
    }

    /// Declare that repeating this request is harmless (e.g. `POST /purchase/order`, which
    /// replaces the order's lines), so it may be retried after an uncertain failure.
    pub fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }

    /// Override the idempotency (e.g. a `PUT` that creates child entries is not idempotent).
    pub fn with_idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method.clone()
    }

    /// The path relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query parameters, in order.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The JSON body as the text that will be sent, if any.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    /// Whether the request may be repeated.
    pub fn idempotency(&self) -> Idempotency {
        self.idempotency
    }
}
