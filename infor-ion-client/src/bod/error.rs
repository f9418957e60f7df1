//! The error type of the BOD module.
//!
//! Every variant says *where* things went wrong: an XML path such as
//! `/SyncPurchaseOrder/DataArea/PurchaseOrder[1]/PurchaseOrderLine[2]/Quantity` for model
//! errors, and a byte offset for reader errors (counted from the start of the current
//! document, also inside a [`BodStream`](crate::bod::BodStream) batch). None of them carries payload data
//! beyond the offending value, so logging an error never dumps a whole BOD.

/// Everything that can go wrong reading or writing a BOD.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodError {
    /// The document contains a `<!DOCTYPE ...>` (and so possibly entity declarations).
    /// BODs never need one, and refusing it is what defeats entity-expansion and
    /// external-entity attacks.
    #[error("DOCTYPE/DTD rejected at byte {position}: BODs must not declare a DTD or entities")]
    DtdRejected {
        /// Byte offset just after the DOCTYPE declaration.
        position: u64,
    },
    /// An entity reference other than the five predefined XML ones or a numeric character
    /// reference (such as `&xxe;`).
    #[error(
        "entity reference `&{name};` rejected at byte {position}: only predefined XML entities and character references are allowed"
    )]
    EntityRejected {
        /// The entity name as written.
        name: String,
        /// Byte offset of the reference.
        position: u64,
    },
    /// Elements nested deeper than [`BodLimits::max_depth`](crate::bod::BodLimits::max_depth).
    #[error("element nesting depth {depth} exceeds the limit of {limit} at byte {position}")]
    TooDeep {
        /// Depth reached.
        depth: usize,
        /// Configured limit.
        limit: usize,
        /// Byte offset where the limit was crossed.
        position: u64,
    },
    /// The document is larger than [`BodLimits::max_document_bytes`](crate::bod::BodLimits::max_document_bytes).
    #[error("document exceeds the size limit of {limit} bytes")]
    TooLarge {
        /// Configured limit in bytes.
        limit: usize,
    },
    /// A single text node, or a single attribute value, is longer than allowed.
    #[error("{what} at {path} is {length} bytes, over the limit of {limit} (byte {position})")]
    ValueTooLong {
        /// `"text"` or `"attribute <name>"`.
        what: String,
        /// XML path of the element holding it.
        path: String,
        /// Length seen (at least; reading stops once the limit is crossed).
        length: usize,
        /// Configured limit.
        limit: usize,
        /// Byte offset of the value.
        position: u64,
    },
    /// The bytes are not UTF-8, or the XML declaration names another encoding.
    #[error("not UTF-8 at byte {position}: {detail}")]
    NotUtf8 {
        /// What was wrong (declared encoding, byte-order mark, invalid sequence).
        detail: String,
        /// Byte offset of the problem.
        position: u64,
    },
    /// The root element is not the expected BOD (wrong verb, noun or namespace).
    #[error("unexpected root element {found}; expected {expected}")]
    UnexpectedRoot {
        /// What the caller asked for, e.g. `{http://schema.infor.com/InforOAGIS/2}SyncPurchaseOrder`.
        expected: String,
        /// What the document has, as `{namespace}local`.
        found: String,
    },
    /// A required element is absent.
    #[error("missing required element {path}")]
    MissingElement {
        /// XML path of the element that should be there.
        path: String,
    },
    /// An element or attribute holds a value that cannot be parsed.
    #[error("invalid value {value:?} at {path}: {reason}")]
    InvalidValue {
        /// XML path (attributes as `.../ID/@variationID`).
        path: String,
        /// The offending value (truncated to 200 characters).
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// An `actionCode` other than Add, Replace, Change or Delete.
    #[error("unknown actionCode {code:?} at {path}")]
    UnknownActionCode {
        /// XML path of the attribute.
        path: String,
        /// The code as sent.
        code: String,
    },
    /// The XML is not well formed (or another low-level reader failure).
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset reported by the reader.
        position: u64,
        /// Reader message.
        message: String,
    },
    /// Reading the underlying source failed.
    #[error("I/O error while reading BODs: {message}")]
    Io {
        /// The I/O error message.
        message: String,
    },
}

impl BodError {
    /// Whether trying again might succeed. Only I/O failures of the source qualify: a
    /// malformed or hostile document stays malformed however often it is read.
    pub fn is_retryable(&self) -> bool {
        matches!(self, BodError::Io { .. })
    }

    /// Whether this error came from the hardened reader (security limits, encoding,
    /// well-formedness) rather than from mapping a well-formed document onto the model.
    pub fn is_reader_error(&self) -> bool {
        matches!(
            self,
            BodError::DtdRejected { .. }
                | BodError::EntityRejected { .. }
                | BodError::TooDeep { .. }
                | BodError::TooLarge { .. }
                | BodError::ValueTooLong { .. }
                | BodError::NotUtf8 { .. }
                | BodError::Xml { .. }
                | BodError::Io { .. }
        )
    }

    pub(crate) fn invalid(path: String, value: &str, reason: impl Into<String>) -> Self {
        let value: String = value.chars().take(200).collect();
        BodError::InvalidValue {
            path,
            value,
            reason: reason.into(),
        }
    }
}
