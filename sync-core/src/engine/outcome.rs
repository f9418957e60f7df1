//! What a pipeline reports for one record.

use serde_json::Value;

use crate::error::{MappingError, TargetError};
use crate::retry::Delivery;
use crate::store::{Action, AuditStatus, ErrorClass, ErrorInfo, MatchResult};

/// The result of applying one record, turned into an audit entry by the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Status.
    pub status: AuditStatus,
    /// What was done.
    pub action: Action,
    /// How the target record was found.
    pub match_result: Option<MatchResult>,
    /// Target id.
    pub target_id: Option<String>,
    /// The mapped payload.
    pub mapped: Option<Value>,
    /// Error.
    pub error: Option<ErrorInfo>,
    /// Redacted request summary.
    pub request_summary: Option<String>,
    /// Redacted response summary.
    pub response_summary: Option<String>,
}

impl Outcome {
    fn base(status: AuditStatus, action: Action) -> Self {
        Outcome {
            status,
            action,
            match_result: None,
            target_id: None,
            mapped: None,
            error: None,
            request_summary: None,
            response_summary: None,
        }
    }

    /// A success.
    pub fn succeeded(
        action: Action,
        match_result: Option<MatchResult>,
        target_id: impl Into<String>,
    ) -> Self {
        Outcome {
            match_result,
            target_id: Some(target_id.into()),
            ..Outcome::base(AuditStatus::Succeeded, action)
        }
    }

    /// Not written on purpose: a rule says this record is not for the target (yet). Audited as
    /// a succeeded [`Action::Skip`] with `reason` as its response summary and no target id,
    /// once: while the record's latest row is this same skip for the same content, the engine
    /// adds no row. Nothing is remembered as written, so a later change of the record is
    /// processed again.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Outcome {
            response_summary: Some(reason.into()),
            ..Outcome::base(AuditStatus::Succeeded, Action::Skip)
        }
    }

    /// A failure of the given class.
    pub fn failed(action: Action, class: ErrorClass, message: impl Into<String>) -> Self {
        Outcome {
            error: Some(ErrorInfo {
                class,
                message: message.into(),
            }),
            ..Outcome::base(AuditStatus::Failed, action)
        }
    }

    /// A missing mapping (nothing was sent).
    pub fn mapping(error: &MappingError) -> Self {
        Outcome::failed(Action::None, ErrorClass::Mapping, error.to_string())
    }

    /// A target failure, classified by what is known about delivery.
    pub fn target(action: Action, error: &TargetError) -> Self {
        let class = match error.delivery {
            Delivery::Unknown => ErrorClass::UnknownOutcome,
            Delivery::NotProcessed => ErrorClass::Transient,
            Delivery::Processed => ErrorClass::Rejected,
        };
        Outcome::failed(action, class, error.to_string())
    }

    /// Waiting for a dependency.
    pub fn deferred(message: impl Into<String>) -> Self {
        Outcome {
            error: Some(ErrorInfo {
                class: ErrorClass::Dependency,
                message: message.into(),
            }),
            ..Outcome::base(AuditStatus::Deferred, Action::None)
        }
    }

    /// Needs review.
    pub fn conflict(class: ErrorClass, message: impl Into<String>) -> Self {
        Outcome {
            error: Some(ErrorInfo {
                class,
                message: message.into(),
            }),
            ..Outcome::base(AuditStatus::Conflict, Action::None)
        }
    }

    /// Attach the mapped payload.
    pub fn with_mapped(mut self, mapped: Option<Value>) -> Self {
        self.mapped = mapped;
        self
    }

    /// Attach the match result.
    pub fn with_match(mut self, match_result: Option<MatchResult>) -> Self {
        self.match_result = match_result;
        self
    }

    /// Attach the target id.
    pub fn with_target(mut self, target_id: Option<String>) -> Self {
        self.target_id = target_id;
        self
    }

    /// Attach request/response summaries.
    pub fn with_summaries(mut self, request: Option<String>, response: Option<String>) -> Self {
        self.request_summary = request;
        self.response_summary = response;
        self
    }
}
