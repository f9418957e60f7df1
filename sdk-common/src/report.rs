//! Error chains as one line of text, for logs, run summaries and audit rows.
//!
//! Our errors follow the Rust API guidelines: an error's `Display` says what failed, its
//! [`source`](std::error::Error::source) says why, and a cause is never printed twice. So
//! `to_string()` alone drops the why; [`chain`] keeps it.
//!
//! ```
//! use sdk_common::report::chain;
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("cannot read the config file sync.toml")]
//! struct ReadFailed(#[source] std::io::Error);
//!
//! let error = ReadFailed(std::io::Error::other("permission denied"));
//! assert_eq!(chain(&error), "cannot read the config file sync.toml: permission denied");
//! ```

use std::error::Error;

/// `error`'s message followed by each cause's, joined by `": "`. A cause whose message the text
/// so far already contains is not repeated: an error that still prints its source, or one whose
/// message was built from its source's text (the sync engine's errors keep the client error
/// they were made from as their source, beside a message that already says what it said).
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let message = current.to_string();
        if !message.is_empty() && !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        cause = current.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle: {0}")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn every_cause_once_in_order() {
        let error = Outer(Middle(std::io::Error::other("refused")));
        // `Middle` still prints its source: it is not repeated.
        assert_eq!(chain(&error), "outer: middle: refused");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("target error: IDO cannot be read: {0}; name the tenant's own")]
    struct Wrapping(String, #[source] Middle);

    #[test]
    fn a_cause_already_quoted_inside_the_message_is_not_repeated() {
        let middle = Middle(std::io::Error::other("refused"));
        let error = Wrapping(chain(&middle), middle);
        assert_eq!(
            chain(&error),
            "target error: IDO cannot be read: middle: refused; name the tenant's own"
        );
    }

    #[test]
    fn an_error_without_a_source_is_its_message() {
        assert_eq!(chain(&std::io::Error::other("plain")), "plain");
    }
}
