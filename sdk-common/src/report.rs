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

/// `error`'s message followed by each cause's, joined by `": "`. A cause whose message the
/// previous one already ends with (an error that still prints its source) is not repeated.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let message = current.to_string();
        if !message.is_empty() && !text.ends_with(&message) {
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

    #[test]
    fn an_error_without_a_source_is_its_message() {
        assert_eq!(chain(&std::io::Error::other("plain")), "plain");
    }
}
