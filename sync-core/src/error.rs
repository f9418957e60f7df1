//! The crate's error type and its per-area parts.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::retry::Delivery;

/// The typed error an engine error was made from (a client's `Error`, an `sqlx::Error`), kept
/// beside its text so a caller can tell a 403 from a timeout without parsing the message.
///
/// It is shared ([`Arc`]) so the errors stay [`Clone`], and it lives in memory only: audit rows
/// store the error's redacted `message`, never its source.
pub type ErrorSource = Arc<dyn StdError + Send + Sync + 'static>;

/// Every error sync-core returns.
///
/// [`source`](std::error::Error::source) of a `Store`, `Source` or `Target` error is the typed
/// error it was made from, when the adapter kept one:
///
/// ```
/// use std::error::Error as _;
/// use sync_core::SyncError;
/// use sync_core::error::TargetError;
///
/// let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 30 s");
/// let error = SyncError::from(TargetError::unknown_outcome("no answer in 30 s").with_source(timeout));
/// let cause = error.source().and_then(|e| e.downcast_ref::<std::io::Error>());
/// assert_eq!(cause.map(std::io::Error::kind), Some(std::io::ErrorKind::TimedOut));
/// ```
///
/// Errors compare (`==`) by what they say, not by their typed sources.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// A store (audit, checkpoint, cross-reference, GL mapping) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Writing to or reading from the target failed.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A value had no mapping.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// A record could not be serialised (for hashing or a snapshot).
    #[error("cannot serialise record: {0}")]
    Encode(String),
    /// A stored snapshot could not be decoded back into a record.
    #[error("cannot decode snapshot at `{path}`: {message}")]
    Decode {
        /// The JSON path that failed.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A schedule or configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The requested audit entry does not exist.
    #[error("audit entry {0} not found")]
    EntryNotFound(String),
}

impl SyncError {
    /// Whether trying the same operation again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Store(e) => e.is_retryable(),
            SyncError::Source(e) => e.transient,
            SyncError::Target(e) => e.transient,
            SyncError::Mapping(_)
            | SyncError::Encode(_)
            | SyncError::Decode { .. }
            | SyncError::Config(_)
            | SyncError::EntryNotFound(_) => false,
        }
    }
}

/// The typed source as `std::error::Error::source` returns it.
fn as_source(source: &Option<ErrorSource>) -> Option<&(dyn StdError + 'static)> {
    source.as_deref().map(|e| e as &(dyn StdError + 'static))
}

/// The typed source as `E`, when it is one.
fn downcast<E: StdError + 'static>(source: &Option<ErrorSource>) -> Option<&E> {
    source.as_deref().and_then(|e| e.downcast_ref::<E>())
}

/// A store failure.
///
/// `==` compares what the error says; a [`Backend`](StoreError::Backend)'s typed source is not
/// compared.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StoreError {
    /// A newer worker holds the stream: this worker's fencing token is stale and its commit was
    /// rejected (nothing was written).
    Fenced {
        /// `tenant/stream`.
        stream: String,
        /// The token presented.
        presented: u64,
        /// The newest token issued.
        current: u64,
    },
    /// The backend failed (connection, I/O, constraint). Built with [`StoreError::backend`].
    #[non_exhaustive]
    Backend {
        /// What failed (what audit and logs show; the typed source is not in it twice).
        message: String,
        /// Whether a retry may succeed.
        transient: bool,
        /// The backend's own error (an `sqlx::Error`, an I/O error), when there was one; see
        /// [`ErrorSource`].
        source: Option<ErrorSource>,
    },
}

impl StoreError {
    /// A backend failure without a typed source (add one with
    /// [`with_source`](Self::with_source)).
    pub fn backend(message: impl Into<String>, transient: bool) -> Self {
        StoreError::Backend {
            message: message.into(),
            transient,
            source: None,
        }
    }

    /// The same error keeping `error` as its typed source, returned by
    /// [`Error::source`](std::error::Error::source). A [`Fenced`](StoreError::Fenced) error has
    /// no source and is returned unchanged.
    pub fn with_source(self, error: impl StdError + Send + Sync + 'static) -> Self {
        self.with_shared_source(Arc::new(error))
    }

    /// [`with_source`](Self::with_source) with a source that is already shared.
    pub fn with_shared_source(self, error: ErrorSource) -> Self {
        match self {
            StoreError::Backend {
                message, transient, ..
            } => StoreError::Backend {
                message,
                transient,
                source: Some(error),
            },
            fenced @ StoreError::Fenced { .. } => fenced,
        }
    }

    /// The typed source as `E`, when there is one of that type.
    pub fn source_as<E: StdError + 'static>(&self) -> Option<&E> {
        match self {
            StoreError::Backend { source, .. } => downcast(source),
            StoreError::Fenced { .. } => None,
        }
    }

    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Fenced { .. } => false,
            StoreError::Backend { transient, .. } => *transient,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Fenced {
                stream,
                presented,
                current,
            } => write!(
                f,
                "stream {stream} is fenced: token {presented} is older than {current}"
            ),
            StoreError::Backend { message, .. } => write!(f, "store backend error: {message}"),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            StoreError::Backend { source, .. } => as_source(source),
            StoreError::Fenced { .. } => None,
        }
    }
}

impl PartialEq for StoreError {
    /// Compares what the errors say; the typed sources are not compared.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                StoreError::Fenced {
                    stream,
                    presented,
                    current,
                },
                StoreError::Fenced {
                    stream: s,
                    presented: p,
                    current: c,
                },
            ) => stream == s && presented == p && current == c,
            (
                StoreError::Backend {
                    message, transient, ..
                },
                StoreError::Backend {
                    message: m,
                    transient: t,
                    ..
                },
            ) => message == m && transient == t,
            _ => false,
        }
    }
}

impl Eq for StoreError {}

/// A source failure (polling, fetching, reading server time).
///
/// `==` compares what the error says; the typed source is not compared.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SourceError {
    /// What failed (never contains secrets: clients redact before converting). This is what
    /// audit rows and logs show.
    pub message: String,
    /// Whether a later retry may succeed.
    pub transient: bool,
    /// The client's own error, when the adapter kept it (see [`ErrorSource`]); returned by
    /// [`Error::source`](std::error::Error::source).
    pub source: Option<ErrorSource>,
}

impl SourceError {
    /// A transient failure.
    pub fn transient(message: impl Into<String>) -> Self {
        SourceError {
            message: message.into(),
            transient: true,
            source: None,
        }
    }

    /// A permanent failure.
    pub fn permanent(message: impl Into<String>) -> Self {
        SourceError {
            message: message.into(),
            transient: false,
            source: None,
        }
    }

    /// The same error keeping `error` (the client error it was made from) as its typed source.
    /// The message stays as it is.
    pub fn with_source(self, error: impl StdError + Send + Sync + 'static) -> Self {
        self.with_shared_source(Arc::new(error))
    }

    /// [`with_source`](Self::with_source) with a source that is already shared.
    pub fn with_shared_source(mut self, error: ErrorSource) -> Self {
        self.source = Some(error);
        self
    }

    /// The typed source as `E` (e.g. a client's `Error`), when there is one of that type.
    pub fn source_as<E: StdError + 'static>(&self) -> Option<&E> {
        downcast(&self.source)
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "source error: {}", self.message)
    }
}

impl StdError for SourceError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        as_source(&self.source)
    }
}

impl PartialEq for SourceError {
    /// Compares the message and `transient`; the typed sources are not compared.
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message && self.transient == other.transient
    }
}

impl Eq for SourceError {}

/// A target failure. It says whether the request reached the target, because that decides
/// what the engine may do next: a create whose outcome is unknown is never resent blindly.
///
/// A target adapter keeps its client's error as the typed source
/// ([`with_source`](Self::with_source)), so a caller can look at it:
///
/// ```
/// use std::error::Error as _;
/// use sync_core::error::TargetError;
///
/// let refused = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "HTTP 403");
/// let error = TargetError::rejected(403, "HTTP 403").with_source(refused);
/// assert_eq!(error.to_string(), "target error (HTTP 403): HTTP 403");
/// let cause = error.source_as::<std::io::Error>().map(std::io::Error::kind);
/// assert_eq!(cause, Some(std::io::ErrorKind::PermissionDenied));
/// assert!(error.source().is_some());
/// ```
///
/// `==` compares what the error says; the typed source is not compared.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TargetError {
    /// Whether the request reached the target and was processed.
    pub delivery: Delivery,
    /// Whether a later retry may succeed (throttling, 5xx, timeouts).
    pub transient: bool,
    /// HTTP-like status, when there was one.
    pub status: Option<u16>,
    /// The target's message (redacted by the client). This is what audit rows and logs show.
    pub message: String,
    /// The client's own error, when the adapter kept it (see [`ErrorSource`]); returned by
    /// [`Error::source`](std::error::Error::source).
    pub source: Option<ErrorSource>,
}

impl TargetError {
    /// A target error with every part given (a target adapter's conversion of its client's
    /// errors; the other constructors cover the usual cases).
    pub fn new(
        delivery: Delivery,
        transient: bool,
        status: Option<u16>,
        message: impl Into<String>,
    ) -> Self {
        TargetError {
            delivery,
            transient,
            status,
            message: message.into(),
            source: None,
        }
    }

    /// The request certainly did not take effect (connect failure, throttled); safe to resend.
    pub fn not_sent(message: impl Into<String>) -> Self {
        TargetError::new(Delivery::NotProcessed, true, None, message)
    }

    /// The request may have taken effect (timeout after sending, reset, 5xx after send).
    pub fn unknown_outcome(message: impl Into<String>) -> Self {
        TargetError::new(Delivery::Unknown, true, None, message)
    }

    /// The target processed the request and refused it (validation, 4xx): final.
    pub fn rejected(status: u16, message: impl Into<String>) -> Self {
        TargetError::new(Delivery::Processed, false, Some(status), message)
    }

    /// The same error keeping `error` (the client error it was made from) as its typed source.
    /// The message stays as it is.
    pub fn with_source(self, error: impl StdError + Send + Sync + 'static) -> Self {
        self.with_shared_source(Arc::new(error))
    }

    /// [`with_source`](Self::with_source) with a source that is already shared.
    pub fn with_shared_source(mut self, error: ErrorSource) -> Self {
        self.source = Some(error);
        self
    }

    /// The typed source as `E` (e.g. a client's `Error`), when there is one of that type.
    pub fn source_as<E: StdError + 'static>(&self) -> Option<&E> {
        downcast(&self.source)
    }

    /// Whether the write may have happened even though it reported failure.
    pub fn outcome_unknown(&self) -> bool {
        self.delivery == Delivery::Unknown
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("target error")?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl StdError for TargetError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        as_source(&self.source)
    }
}

impl PartialEq for TargetError {
    /// Compares delivery, `transient`, status and message; the typed sources are not compared.
    fn eq(&self, other: &Self) -> bool {
        self.delivery == other.delivery
            && self.transient == other.transient
            && self.status == other.status
            && self.message == other.message
    }
}

impl Eq for TargetError {}

/// Which mapping table a value went through.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum MappingKind {
    /// CloudSuite GL account → Cin7 account code.
    GlAccount,
    /// Tax code → Cin7 tax rule name.
    TaxRule,
    /// Payment-term code → Cin7 payment term name.
    PaymentTerm,
    /// Warehouse/site → Cin7 location name.
    Location,
    /// Currency code → Cin7 currency code.
    Currency,
    /// Item code → Cin7 SKU.
    Sku,
}

impl fmt::Display for MappingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MappingKind::GlAccount => "GL account",
            MappingKind::TaxRule => "tax rule",
            MappingKind::PaymentTerm => "payment term",
            MappingKind::Location => "location",
            MappingKind::Currency => "currency",
            MappingKind::Sku => "SKU",
        })
    }
}

/// A value with no mapping. Replayable once the mapping is added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {kind} mapping for `{value}`{}", if context.is_empty() { String::new() } else { format!(" ({context})") })]
pub struct MappingError {
    /// The table.
    pub kind: MappingKind,
    /// The source value that has no mapping.
    pub value: String,
    /// Where it was needed (e.g. `invoice INV-7 line 2`).
    pub context: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_is_wrong() {
        let e = MappingError {
            kind: MappingKind::GlAccount,
            value: "6100".into(),
            context: "invoice INV-7 line 2".into(),
        };
        assert_eq!(
            e.to_string(),
            "no GL account mapping for `6100` (invoice INV-7 line 2)"
        );
        let t = TargetError::rejected(400, "Name is required");
        assert_eq!(t.to_string(), "target error (HTTP 400): Name is required");
        assert!(!SyncError::from(t).is_retryable());
        assert!(TargetError::unknown_outcome("timeout").outcome_unknown());
    }

    /// A client error with a cause of its own, as the clients' errors are.
    #[derive(Debug, thiserror::Error)]
    #[error("POST supplier answered HTTP {status}")]
    struct ClientError {
        status: u16,
        #[source]
        cause: std::io::Error,
    }

    fn client_error() -> ClientError {
        ClientError {
            status: 403,
            cause: std::io::Error::other("Incorrect credentials!"),
        }
    }

    #[test]
    fn a_target_error_keeps_its_typed_source() {
        use std::error::Error as _;

        let client = client_error();
        let message = sdk_common::report::chain(&client);
        let error = TargetError::rejected(403, message).with_source(client);
        let source = error.source().expect("the source is kept");
        assert_eq!(
            source.downcast_ref::<ClientError>().map(|e| e.status),
            Some(403)
        );
        assert_eq!(
            error.source_as::<ClientError>().map(|e| e.status),
            Some(403)
        );
        assert!(error.source_as::<std::io::Error>().is_none());

        // Cloning shares the source; through `SyncError` it is the same typed error.
        let sync = SyncError::from(error.clone());
        let through = sync.source().and_then(|e| e.downcast_ref::<ClientError>());
        assert_eq!(through.map(|e| e.status), Some(403));

        // Equality is about what the error says, not the source.
        assert_eq!(
            error,
            TargetError::rejected(
                403,
                "POST supplier answered HTTP 403: Incorrect credentials!"
            )
        );
        // The message (what audit rows store) is unchanged.
        assert_eq!(
            error.to_string(),
            "target error (HTTP 403): POST supplier answered HTTP 403: Incorrect credentials!"
        );
    }

    #[test]
    fn source_and_store_errors_keep_their_typed_source() {
        use std::error::Error as _;

        let source = SourceError::transient("timed out").with_source(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "timed out",
        ));
        assert_eq!(
            source
                .source_as::<std::io::Error>()
                .map(std::io::Error::kind),
            Some(std::io::ErrorKind::TimedOut)
        );
        assert!(SourceError::transient("timed out").source().is_none());

        let store =
            StoreError::backend("disk full", false).with_source(std::io::Error::other("disk full"));
        assert!(store.source_as::<std::io::Error>().is_some());
        assert!(store.source().is_some());
        assert!(!store.is_retryable());
        assert_eq!(store.to_string(), "store backend error: disk full");
        let fenced = StoreError::Fenced {
            stream: "acme/suppliers".into(),
            presented: 1,
            current: 2,
        };
        assert!(
            fenced
                .with_source(std::io::Error::other("x"))
                .source()
                .is_none()
        );
    }

    #[test]
    fn chain_prints_the_cause_once() {
        let client = client_error();
        let message = sdk_common::report::chain(&client);
        let target = TargetError::rejected(403, message).with_source(client);
        assert_eq!(
            sdk_common::report::chain(&target),
            "target error (HTTP 403): POST supplier answered HTTP 403: Incorrect credentials!"
        );
        let sync = SyncError::from(target);
        assert_eq!(
            sdk_common::report::chain(&sync),
            "target error (HTTP 403): POST supplier answered HTTP 403: Incorrect credentials!"
        );

        // A message that wraps the cause's text in its own words still prints it once.
        let client = client_error();
        let wrapped = format!(
            "IDO SLVendors cannot be read: {}; name the tenant's own with `ion.ido`",
            sdk_common::report::chain(&client)
        );
        let source = SourceError::permanent(wrapped.clone()).with_source(client);
        assert_eq!(
            sdk_common::report::chain(&source),
            format!("source error: {wrapped}")
        );

        // A store error whose message is the backend error's text.
        let io = std::io::Error::other("database is locked");
        let store = StoreError::backend(io.to_string(), true).with_source(io);
        assert_eq!(
            sdk_common::report::chain(&store),
            "store backend error: database is locked"
        );
    }
}
