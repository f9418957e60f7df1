//! Turning a client [`Error`] into sync-core's [`TargetError`].
//!
//! The one thing that must be exact is [`TargetError::delivery`]: it tells the engine whether a
//! failed write may have happened, and so whether the next attempt must look the record up
//! before creating it again (lookup-before-create). The client already knows this per error
//! ([`Error::delivery`]); this module keeps that answer, with one correction for creates: a
//! create whose 2xx answer could not be read (an undecodable body, HTML instead of JSON) may
//! well have created the record, so its outcome is unknown, not "processed".

use sdk_common::retry::Delivery;
use sync_core::error::TargetError;

use crate::error::Error;

/// What kind of call failed, which decides how an unreadable answer is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A read (`GET`): it changes nothing, so even a failure after sending leaves nothing
    /// uncertain and it is reported as not processed (safe to send again).
    Read,
    /// A write that is safe to repeat (`PUT`, `POST /purchase/order`, an invoice `POST` naming
    /// its task).
    Repeatable,
    /// A create that must not be sent twice (supplier, purchase header, new invoice, account).
    Create,
}

/// Convert a client error into a [`TargetError`], keeping what is known about delivery.
///
/// | Client error | `delivery` | `transient` |
/// |---|---|---|
/// | `UncertainWrite` (timeout, reset, 5xx after a create was sent) | `Unknown` | yes |
/// | `Transport` (connect failure / after sending) | `NotProcessed` / `Unknown` | yes, unless a redirect loop |
/// | `Api` with 5xx | `Unknown` | yes (not 501) |
/// | any of the three above on a [`CallKind::Read`] | `NotProcessed` | as above |
/// | `RateLimited` (retry budget spent on 429/503) | `NotProcessed` | yes |
/// | `Config`, `InvalidInput`, `Encode` (nothing sent) | `NotProcessed` | no |
/// | `Api` 4xx (also an `ErrorCode` inside a 200), `Auth` | `Processed` | no |
/// | `Decode`, `UnexpectedBody` on a [`CallKind::Create`] | `Unknown` | yes |
/// | `Decode`, `UnexpectedBody`, `Pagination` otherwise | `Processed` | no |
///
/// The message is the client error's text ([`chain`](sdk_common::report::chain)), which never
/// contains the credentials; the error itself is kept as the typed source
/// ([`TargetError::source_as`]), so a caller can still match on it.
///
/// ```
/// use cin7_core_client::Error;
/// use cin7_core_client::sync::{CallKind, target_error};
/// use sdk_common::retry::Delivery;
///
/// let refused = Error::InvalidInput { field: "Supplier.Name", reason: "is required".into() };
/// let err = target_error(refused, CallKind::Create);
/// assert_eq!(err.delivery, Delivery::NotProcessed); // nothing was sent
/// assert!(!err.transient); // and sending it again will not help
/// assert!(matches!(err.source_as::<Error>(), Some(Error::InvalidInput { .. })));
/// ```
pub fn target_error(error: Error, kind: CallKind) -> TargetError {
    let unreadable_answer = matches!(error, Error::Decode { .. } | Error::UnexpectedBody { .. });
    let (delivery, transient) = if kind == CallKind::Create && unreadable_answer {
        (Delivery::Unknown, true)
    } else {
        match error.delivery() {
            // A read has no effect to be unsure about.
            Delivery::Unknown if kind == CallKind::Read => {
                (Delivery::NotProcessed, error.is_retryable())
            }
            // The engine must look up before creating again; once it has, a retry may succeed.
            Delivery::Unknown => (Delivery::Unknown, true),
            other => (other, error.is_retryable()),
        }
    };
    TargetError::new(
        delivery,
        transient,
        error.status(),
        sdk_common::report::chain(&error),
    )
    .with_source(error)
}

impl From<Error> for TargetError {
    /// The conservative conversion, for a write that is safe to repeat
    /// ([`CallKind::Repeatable`]): a failure after sending stays `Unknown`.
    fn from(error: Error) -> Self {
        target_error(error, CallKind::Repeatable)
    }
}

/// A failure found before anything was sent (bad input to the target): never retried as such.
pub(crate) fn invalid(message: impl Into<String>) -> TargetError {
    TargetError::new(Delivery::NotProcessed, false, None, message)
}

/// A 2xx answer that lacks what the call must return (e.g. no `ID` on a saved purchase).
pub(crate) fn incomplete_answer(kind: CallKind, message: impl Into<String>) -> TargetError {
    let (delivery, transient) = match kind {
        CallKind::Create => (Delivery::Unknown, true),
        CallKind::Read | CallKind::Repeatable => (Delivery::Processed, false),
    };
    TargetError::new(delivery, transient, None, message)
}
