//! Audit entries: one per record per attempt.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{ContentHash, RecordKind, SourceIdentity};

use super::StreamId;

/// The id of one audit entry (unique across runs: `<run id>-<sequence>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryId(pub String);

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of one run of a pipeline or of a replay.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub String);

impl RunId {
    /// A fresh id: the start time plus 32 random bits, sortable by start time.
    pub fn generate(now: DateTime<Utc>) -> Self {
        let random: u32 = rand::random();
        RunId(format!("{}-{random:08x}", now.format("%Y%m%dT%H%M%S%.3fZ")))
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditStatus {
    /// An intent: a write is about to be (or was being) sent. A pending entry that is still
    /// pending after its run means the outcome is unknown; the next attempt looks the record
    /// up before creating it.
    Pending,
    /// Written (or already up to date).
    Succeeded,
    /// Failed; the snapshot is kept and the entry can be replayed.
    Failed,
    /// Waiting for a dependency; retried automatically at the start of each window.
    Deferred,
    /// Needs a person: changed after authorisation, or ambiguous match.
    Conflict,
    /// An earlier failure, intent, deferral or conflict that a later success superseded.
    Resolved,
}

impl AuditStatus {
    /// Statuses that still need something to happen.
    pub const OPEN: [AuditStatus; 4] = [
        AuditStatus::Pending,
        AuditStatus::Failed,
        AuditStatus::Deferred,
        AuditStatus::Conflict,
    ];

    /// Whether this status still needs something to happen.
    pub fn is_open(&self) -> bool {
        AuditStatus::OPEN.contains(self)
    }
}

/// What the attempt did (or meant to do) to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create a new target record.
    Create,
    /// Update an existing target record.
    Update,
    /// Nothing to write: already up to date.
    Skip,
    /// Map only (GL accounts in informational mode).
    Map,
    /// Nothing was attempted (mapping failed, dependency missing, ambiguous match).
    None,
}

/// How the target record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchResult {
    /// Through the cross-reference kept in the store.
    CrossRef,
    /// By the vendor ID stamped on the target record.
    ById,
    /// By exact name.
    ByName,
    /// By looking the record up after an uncertain create (adopted).
    ByLookup,
    /// Not found; created.
    Created,
    /// More than one candidate: flagged for review, never guessed.
    Ambiguous,
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// A value had no mapping (fix the mapping, then replay).
    Mapping,
    /// The target refused the write (validation).
    Rejected,
    /// The write certainly did not happen and may succeed later (throttled, connect failure).
    Transient,
    /// The write may or may not have happened (timeout after send). The next attempt looks the
    /// record up before creating.
    UnknownOutcome,
    /// A record this one depends on is not in the target yet.
    Dependency,
    /// The target record changed state (authorised) and may no longer be overwritten.
    Conflict,
    /// More than one target record matched.
    Ambiguous,
    /// Reading the source failed.
    Source,
    /// Anything else (encoding, a bug).
    Internal,
}

/// The error part of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Class.
    pub class: ErrorClass,
    /// Message (redacted; never holds secrets).
    pub message: String,
}

/// One attempt at one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Entry id.
    pub id: EntryId,
    /// The run it belongs to.
    pub run_id: RunId,
    /// Tenant.
    pub tenant: String,
    /// Stream.
    pub stream: StreamId,
    /// Record kind.
    pub kind: RecordKind,
    /// Source identity.
    pub source: SourceIdentity,
    /// The record's `modified_at`.
    pub source_modified_at: DateTime<Utc>,
    /// The record's content hash.
    pub content_hash: ContentHash,
    /// What was done.
    pub action: Action,
    /// How the target record was found.
    pub match_result: Option<MatchResult>,
    /// Target id, when known.
    pub target_id: Option<String>,
    /// Status.
    pub status: AuditStatus,
    /// Error, when the attempt did not succeed.
    pub error: Option<ErrorInfo>,
    /// Redacted summary of the last request sent.
    pub request_summary: Option<String>,
    /// Redacted summary of the last response.
    pub response_summary: Option<String>,
    /// The source record as read (replay input).
    pub source_snapshot: Value,
    /// The mapped target payload, when mapping got that far.
    pub mapped_snapshot: Option<Value>,
    /// When the attempt started (local clock).
    pub started_at: DateTime<Utc>,
    /// When it finished (`None` while pending).
    pub finished_at: Option<DateTime<Utc>>,
    /// The entry this one replays, if it is a replay.
    pub replay_of: Option<EntryId>,
    /// The later successful entry that resolved this one.
    pub resolved_by: Option<EntryId>,
}

impl AuditEntry {
    /// Whether the error says the write may have happened.
    pub fn outcome_unknown(&self) -> bool {
        self.status == AuditStatus::Pending
            || self
                .error
                .as_ref()
                .is_some_and(|e| e.class == ErrorClass::UnknownOutcome)
    }
}

/// A filter over audit entries. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Tenant (required).
    pub tenant: String,
    /// Stream.
    pub stream: Option<StreamId>,
    /// Run.
    pub run_id: Option<RunId>,
    /// One record.
    pub source: Option<SourceIdentity>,
    /// Statuses (empty = all).
    pub statuses: Vec<AuditStatus>,
}

impl AuditQuery {
    /// Everything of one tenant.
    pub fn tenant(tenant: impl Into<String>) -> Self {
        AuditQuery {
            tenant: tenant.into(),
            ..AuditQuery::default()
        }
    }

    /// Only this stream.
    pub fn stream(mut self, stream: StreamId) -> Self {
        self.stream = Some(stream);
        self
    }

    /// Only this run.
    pub fn run(mut self, run_id: RunId) -> Self {
        self.run_id = Some(run_id);
        self
    }

    /// Only this record.
    pub fn source(mut self, source: SourceIdentity) -> Self {
        self.source = Some(source);
        self
    }

    /// Only these statuses.
    pub fn statuses(mut self, statuses: &[AuditStatus]) -> Self {
        self.statuses = statuses.to_vec();
        self
    }

    /// Whether `entry` passes the filter.
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        entry.tenant == self.tenant
            && self.stream.as_ref().is_none_or(|s| *s == entry.stream)
            && self.run_id.as_ref().is_none_or(|r| *r == entry.run_id)
            && self.source.as_ref().is_none_or(|s| *s == entry.source)
            && (self.statuses.is_empty() || self.statuses.contains(&entry.status))
    }
}
