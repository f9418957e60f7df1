//! The crate's error type and its per-area parts.

use std::fmt;

use crate::retry::Delivery;

/// Every error sync-core returns.
#[derive(Debug, thiserror::Error)]
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

/// A store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A newer worker holds the stream: this worker's fencing token is stale and its commit was
    /// rejected (nothing was written).
    #[error("stream {stream} is fenced: token {presented} is older than {current}")]
    Fenced {
        /// `tenant/stream`.
        stream: String,
        /// The token presented.
        presented: u64,
        /// The newest token issued.
        current: u64,
    },
    /// The backend failed (connection, I/O, constraint).
    #[error("store backend error: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// Whether a retry may succeed.
        transient: bool,
    },
}

impl StoreError {
    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Fenced { .. } => false,
            StoreError::Backend { transient, .. } => *transient,
        }
    }
}

/// A source failure (polling, fetching, reading server time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("source error: {message}")]
#[non_exhaustive]
pub struct SourceError {
    /// What failed (never contains secrets: clients redact before converting).
    pub message: String,
    /// Whether a later retry may succeed.
    pub transient: bool,
}

impl SourceError {
    /// A transient failure.
    pub fn transient(message: impl Into<String>) -> Self {
        SourceError {
            message: message.into(),
            transient: true,
        }
    }

    /// A permanent failure.
    pub fn permanent(message: impl Into<String>) -> Self {
        SourceError {
            message: message.into(),
            transient: false,
        }
    }
}

/// A target failure. It says whether the request reached the target, because that decides
/// what the engine may do next: a create whose outcome is unknown is never resent blindly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
#[non_exhaustive]
pub struct TargetError {
    /// Whether the request reached the target and was processed.
    pub delivery: Delivery,
    /// Whether a later retry may succeed (throttling, 5xx, timeouts).
    pub transient: bool,
    /// HTTP-like status, when there was one.
    pub status: Option<u16>,
    /// The target's message (redacted by the client).
    pub message: String,
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
        }
    }

    /// The request certainly did not take effect (connect failure, throttled); safe to resend.
    pub fn not_sent(message: impl Into<String>) -> Self {
        TargetError {
            delivery: Delivery::NotProcessed,
            transient: true,
            status: None,
            message: message.into(),
        }
    }

    /// The request may have taken effect (timeout after sending, reset, 5xx after send).
    pub fn unknown_outcome(message: impl Into<String>) -> Self {
        TargetError {
            delivery: Delivery::Unknown,
            transient: true,
            status: None,
            message: message.into(),
        }
    }

    /// The target processed the request and refused it (validation, 4xx): final.
    pub fn rejected(status: u16, message: impl Into<String>) -> Self {
        TargetError {
            delivery: Delivery::Processed,
            transient: false,
            status: Some(status),
            message: message.into(),
        }
    }

    /// Whether the write may have happened even though it reported failure.
    pub fn outcome_unknown(&self) -> bool {
        self.delivery == Delivery::Unknown
    }
}

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
}
