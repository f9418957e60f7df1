//! A transport-agnostic description of one gateway call, and its answer.
//!
//! Product modules (CSI IDO, M3 MI, BOD transport) describe *what* to call with an
//! [`IonRequest`]; [`IonClient::send`](super::IonClient::send) decides *how*: bearer token, the
//! 401 rule, retries, timeouts and tracing. Keeping the description plain data makes it cheap to
//! resend on retry and easy to assert on in tests.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use sdk_common::retry::Idempotency;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// One call to the ION API Gateway, relative to the tenant's API base URL.
///
/// ```
/// use infor_ion_client::client::IonRequest;
///
/// let request = IonRequest::get("CSI/IDORequestService/ido/load/SLVendors")
///     .query("properties", "VendNum,Name,RecordDate")
///     .query("recordcap", "200")
///     .header("X-Infor-MongooseConfig", "ACME_TST_DALS");
/// assert_eq!(request.path(), "CSI/IDORequestService/ido/load/SLVendors");
/// // A header that is not valid HTTP is reported when the request is sent, not mid-chain.
/// let bad = IonRequest::get("x").header("X-Infor-MongooseConfig", "line\nbreak");
/// assert!(bad.problem().is_some());
/// // So is a JSON body that cannot be serialised (object keys must be strings).
/// let bad = IonRequest::post("x").json(&std::collections::HashMap::from([((1, 2), "x")]));
/// assert!(bad.problem().unwrap().contains("JSON body"));
/// ```
#[derive(Debug, Clone)]
pub struct IonRequest {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<RequestBody>,
    idempotency: Idempotency,
    accepted: Vec<StatusCode>,
    /// The first thing wrong with the request as built (a bad header), reported by `send`.
    problem: Option<String>,
}

/// A request body. Each variant sets its own `Content-Type`. `Debug` shows sizes, never the
/// content (a body may carry customer data).
#[derive(Clone)]
pub enum RequestBody {
    /// `application/json`.
    Json(Bytes),
    /// `application/xml`.
    Xml(Bytes),
    /// `text/plain` (Data Lake Compass queries).
    Text(Bytes),
    /// `multipart/form-data` (ION Messaging Service), rebuilt for every attempt.
    Multipart(Vec<MultipartPart>),
}

/// One part of a multipart body.
#[derive(Clone)]
pub struct MultipartPart {
    /// The form field name, e.g. `ParameterRequest`.
    pub name: String,
    /// The part's content type, e.g. `application/json`.
    pub content_type: String,
    /// An optional file name for the part.
    pub file_name: Option<String>,
    /// The content.
    pub content: Bytes,
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::Json(b) => write!(f, "Json(<{} bytes>)", b.len()),
            RequestBody::Xml(b) => write!(f, "Xml(<{} bytes>)", b.len()),
            RequestBody::Text(b) => write!(f, "Text(<{} bytes>)", b.len()),
            RequestBody::Multipart(parts) => f.debug_tuple("Multipart").field(parts).finish(),
        }
    }
}

impl fmt::Debug for MultipartPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartPart")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .finish()
    }
}

impl IonRequest {
    /// A request with any method. The path is relative to the tenant's API base
    /// (`{iu}/{ti}/`); a leading `/` is ignored.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let path: String = path.into();
        let idempotency = Idempotency::for_method(method.as_str());
        IonRequest {
            method,
            path: path.trim_start_matches('/').to_owned(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            problem: None,
            idempotency,
            accepted: Vec::new(),
        }
    }

    /// A `GET` request.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// A `POST` request (not idempotent unless [`idempotent`](Self::idempotent) says so).
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// A `PUT` request.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// A `DELETE` request.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Add a query parameter (encoded when sent).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Add a header. A name or value that is not valid HTTP is kept as the request's
    /// [`problem`](Self::problem) and reported by `send`, so a request chain needs no `?`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let parsed = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))
            .and_then(|parsed| {
                HeaderValue::from_str(value)
                    .map(|value| (parsed, value))
                    .map_err(|_| format!("the value of header `{name}` is not valid HTTP"))
            });
        match parsed {
            Ok((name, value)) => {
                self.headers.append(name, value);
            }
            Err(problem) => {
                self.problem.get_or_insert(problem);
            }
        }
        self
    }

    /// Set a JSON body from any serialisable value. A value that cannot be serialised is kept
    /// as the request's [`problem`](Self::problem) and reported by `send`, like a bad header.
    pub fn json(mut self, value: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.body = Some(RequestBody::Json(bytes.into())),
            Err(e) => {
                self.problem
                    .get_or_insert(format!("cannot serialise the JSON body: {e}"));
            }
        }
        self
    }

    /// Set the body (XML, text, multipart, or JSON already encoded).
    pub fn with_body(mut self, body: RequestBody) -> Self {
        self.body = Some(body);
        self
    }

    /// Declare that repeating this request is harmless, so it may be retried after an
    /// uncertain failure. Defaults come from the method: `POST` and `PATCH` are not
    /// idempotent. A `POST` that only reads (a Compass query, an IDO `invoke` of a read method)
    /// is marked so it is retried after a timeout.
    pub fn idempotent(self) -> Self {
        self.with_idempotency(Idempotency::Idempotent)
    }

    /// Override the idempotency either way (e.g. a `GET` that writes, as an M3 MI write does,
    /// is [`Idempotency::NonIdempotent`]). The same two names as `Cin7Request`'s.
    pub fn with_idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Hand a response with this non-2xx status back as a normal [`IonResponse`] instead of an
    /// error, for APIs that put their business errors in the body (M3 answers MI errors with
    /// HTTP 400 and a JSON body). Such a status is never retried.
    pub fn accept_status(mut self, status: u16) -> Self {
        if let Ok(status) = StatusCode::from_u16(status) {
            self.accepted.push(status);
        }
        self
    }

    /// Whether `status` should be handed back as a response.
    pub(crate) fn accepts(&self, status: StatusCode) -> bool {
        status.is_success() || self.accepted.contains(&status)
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path below the tenant's API base.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query parameters.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body, if any.
    pub fn body(&self) -> Option<&RequestBody> {
        self.body.as_ref()
    }

    /// What is wrong with the request as built, if anything (a header that is not valid
    /// HTTP); sending it fails with [`Error::InvalidRequest`](crate::Error::InvalidRequest)
    /// saying so, before anything is sent.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Whether repeating the request is harmless.
    pub fn idempotency(&self) -> Idempotency {
        self.idempotency
    }
}

/// An answer from the gateway, fully read: a 2xx, or a status the request
/// [accepted](IonRequest::accept_status).
#[derive(Debug, Clone)]
pub struct IonResponse {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl IonResponse {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body).map_err(|e| self.decode_error("$", e.to_string()))
    }

    /// The server's `Date` header, when present and valid: the source-server time that sync
    /// windows are bounded by.
    pub fn server_date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let value = self.headers.get(http::header::DATE)?.to_str().ok()?;
        chrono::DateTime::parse_from_rfc2822(value)
            .ok()
            .map(|d| d.with_timezone(&chrono::Utc))
    }

    /// The `Content-Type` header, when present and readable.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// Decode the JSON body. On failure the error names the JSON path that did not fit, e.g.
    /// `Items[3].RecordDate`; a body that is not JSON at all (an HTML page from a proxy or a
    /// sign-in page) is [`Error::UnexpectedBody`], and JSON cut short says so.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let mut deserializer = serde_json::Deserializer::from_slice(&self.body);
        let value = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| self.json_error(&e.path().to_string(), e.into_inner()))?;
        deserializer.end().map_err(|e| self.json_error(".", e))?;
        Ok(value)
    }

    /// Decode the JSON body as an untyped tree, refusing an object that repeats a key
    /// ([`sdk_common::json`]): `{"Success":true,"Success":false}` is a [`Error::Decode`]
    /// naming the key, not whichever value came last. Errors are as for [`json`](Self::json).
    pub fn json_tree(&self) -> Result<serde_json::Value> {
        sdk_common::json::from_slice(&self.body).map_err(|e| self.json_error(&e.path, e.source))
    }

    fn json_error(&self, at: &str, error: serde_json::Error) -> Error {
        match error.classify() {
            serde_json::error::Category::Eof => {
                self.decode_error(at, format!("the body is cut short ({error})"))
            }
            serde_json::error::Category::Syntax if self.looks_like_markup() => {
                self.unexpected_body()
            }
            _ => self.decode_error(at, error.to_string()),
        }
    }

    /// Whether the answer is a markup page (declared HTML, or a body that starts with `<`)
    /// rather than the JSON or XML document an API call returns.
    pub(crate) fn is_html(&self) -> bool {
        self.content_type()
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("html"))
    }

    fn looks_like_markup(&self) -> bool {
        self.is_html()
            || self
                .body
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| *b == b'<')
    }

    /// The error for a 2xx whose body is not the document asked for.
    pub(crate) fn unexpected_body(&self) -> Error {
        const MAX: usize = 200;
        let text = String::from_utf8_lossy(&self.body[..self.body.len().min(MAX * 4)]);
        let trimmed = text.trim();
        let mut excerpt: String = trimmed.chars().take(MAX).collect();
        if trimmed.chars().count() > MAX || self.body.len() > MAX * 4 {
            excerpt.push('…');
        }
        Error::UnexpectedBody {
            method: self.method.to_string(),
            path: self.path.clone(),
            status: self.status.as_u16(),
            content_type: self.content_type().map(str::to_owned),
            excerpt,
        }
    }

    fn decode_error(&self, at: &str, message: String) -> Error {
        Error::Decode {
            method: self.method.to_string(),
            path: self.path.clone(),
            at: at.to_owned(),
            message,
        }
    }
}
