//! What the SQL stores share: audit search (filters, pages, JSON-lines export, run summaries,
//! retention) and the row encoding helpers.
//!
//! [`AuditStore::query`](super::AuditStore::query) is what the engine needs (a tenant, a stream,
//! a record, statuses). Operators need more: a time range, a target id, paging through a
//! million rows, exporting them, counting a run's outcomes and deleting old successes. That is
//! [`AuditSearch`], implemented by [`SqliteStore`](super::sqlite::SqliteStore) and
//! [`PgStore`](super::postgres::PgStore).

use std::collections::HashMap;
use std::io::Write;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::{AuditEntry, AuditStatus, RunId, StreamId};
use crate::error::StoreError;
use crate::model::SourceIdentity;

/// A filter over one tenant's audit entries. Unset fields match everything.
///
/// ```
/// use sync_core::store::sql::AuditFilter;
/// use sync_core::store::{AuditStatus, StreamId};
/// let failed_suppliers = AuditFilter::tenant("ACME_PRD")
///     .stream(StreamId::suppliers())
///     .statuses(&[AuditStatus::Failed]);
/// assert_eq!(failed_suppliers.statuses, vec![AuditStatus::Failed]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Tenant (required: a search never crosses tenants).
    pub tenant: String,
    /// Stream.
    pub stream: Option<StreamId>,
    /// Run.
    pub run_id: Option<RunId>,
    /// Statuses (empty = all).
    pub statuses: Vec<AuditStatus>,
    /// One record, by its full source identity.
    pub source: Option<SourceIdentity>,
    /// Records whose source key ([`SourceIdentity::id`]) is this, in any entity.
    pub source_id: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Attempts started at or after this instant.
    pub started_from: Option<DateTime<Utc>>,
    /// Attempts started strictly before this instant.
    pub started_before: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// Everything of one tenant.
    pub fn tenant(tenant: impl Into<String>) -> Self {
        AuditFilter {
            tenant: tenant.into(),
            ..AuditFilter::default()
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
    /// Only these statuses.
    pub fn statuses(mut self, statuses: &[AuditStatus]) -> Self {
        self.statuses = statuses.to_vec();
        self
    }
    /// Only this record.
    pub fn source(mut self, source: SourceIdentity) -> Self {
        self.source = Some(source);
        self
    }
    /// Only records with this source key.
    pub fn source_id(mut self, id: impl Into<String>) -> Self {
        self.source_id = Some(id.into());
        self
    }
    /// Only this target id.
    pub fn target_id(mut self, id: impl Into<String>) -> Self {
        self.target_id = Some(id.into());
        self
    }
    /// Only attempts started in `[from, before)`.
    pub fn started_between(mut self, from: DateTime<Utc>, before: DateTime<Utc>) -> Self {
        self.started_from = Some(from);
        self.started_before = Some(before);
        self
    }
}

/// Which page to read: entries after `after` (a position returned as
/// [`AuditPage::next`]), at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Continue after this position (`None`: from the start).
    pub after: Option<i64>,
    /// Page size (clamped to 1..=10 000).
    pub limit: u32,
}

impl PageRequest {
    /// The first page of `limit` entries.
    pub fn first(limit: u32) -> Self {
        PageRequest { after: None, limit }
    }

    pub(crate) fn clamped_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, 10_000))
    }
}

/// One page of entries, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The request for the next page, `None` when this was the last one.
    pub next: Option<PageRequest>,
}

/// What retention deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Only this tenant (`None`: every tenant).
    pub tenant: Option<String>,
    /// Delete entries that started more than this many days ago (by the store's clock).
    pub older_than_days: u32,
    /// Also delete entries that are still open (pending, failed, deferred, conflict). Off by
    /// default: an unresolved failure is kept until someone resolves or replays it.
    pub include_open: bool,
}

impl Retention {
    /// Delete finished entries (succeeded, resolved) older than `days` for every tenant.
    pub fn finished_older_than(days: u32) -> Self {
        Retention {
            tenant: None,
            older_than_days: days,
            include_open: false,
        }
    }
}

/// Operator queries over the audit trail.
#[async_trait]
pub trait AuditSearch: Send + Sync {
    /// One page of entries passing the filter, oldest first.
    async fn search(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<AuditPage, StoreError>;

    /// How many entries of one run have each status (statuses with none are absent).
    async fn status_counts(
        &self,
        tenant: &str,
        run_id: &RunId,
    ) -> Result<HashMap<AuditStatus, u64>, StoreError>;

    /// Delete old entries as the policy says; returns how many were deleted.
    async fn apply_retention(&self, policy: &Retention) -> Result<u64, StoreError>;

    /// Write every entry passing the filter as JSON lines (one [`AuditEntry`] per line, oldest
    /// first), reading `batch` entries at a time. Returns how many were written.
    async fn export_jsonl<W: Write + Send>(
        &self,
        filter: &AuditFilter,
        out: &mut W,
        batch: u32,
    ) -> Result<u64, StoreError>
    where
        Self: Sized,
    {
        let mut page = PageRequest::first(batch);
        let mut written = 0u64;
        loop {
            let got = self.search(filter, page).await?;
            for entry in &got.entries {
                let line = serde_json::to_string(entry).map_err(|e| backend_from(e, false))?;
                writeln!(out, "{line}").map_err(|e| {
                    StoreError::backend(format!("cannot write export: {e}"), false).with_source(e)
                })?;
                written += 1;
            }
            match got.next {
                Some(next) => page = next,
                None => return Ok(written),
            }
        }
    }
}

/// The stored name of a status.
pub(crate) fn status_str(status: AuditStatus) -> &'static str {
    match status {
        AuditStatus::Pending => "pending",
        AuditStatus::Succeeded => "succeeded",
        AuditStatus::Failed => "failed",
        AuditStatus::Deferred => "deferred",
        AuditStatus::Conflict => "conflict",
        AuditStatus::Resolved => "resolved",
    }
}

/// A status from its stored name.
pub(crate) fn parse_status(text: &str) -> Result<AuditStatus, StoreError> {
    Ok(match text {
        "pending" => AuditStatus::Pending,
        "succeeded" => AuditStatus::Succeeded,
        "failed" => AuditStatus::Failed,
        "deferred" => AuditStatus::Deferred,
        "conflict" => AuditStatus::Conflict,
        "resolved" => AuditStatus::Resolved,
        other => {
            return Err(StoreError::backend(
                format!("unknown audit status `{other}` in column audit_entries.status"),
                false,
            ));
        }
    })
}

/// The names of the open statuses, for `status IN (...)`.
pub(crate) fn open_status_names() -> Vec<String> {
    AuditStatus::OPEN
        .iter()
        .map(|s| status_str(*s).to_owned())
        .collect()
}

/// Decode a JSON column, naming the table, the column and the JSON path on failure.
pub(crate) fn decode_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let message = format!("cannot decode {what} at `{}`: {}", e.path(), e.inner());
        StoreError::backend(message, false).with_source(e.into_inner())
    })
}

/// Encode a value for a JSON column.
pub(crate) fn encode_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| backend_from(e, false))
}

/// An audit row as read back: the JSON with the authoritative status columns laid over it.
pub(crate) fn entry_from_row(
    json: &str,
    status: &str,
    resolved_by: Option<String>,
) -> Result<AuditEntry, StoreError> {
    let mut entry: AuditEntry = decode_json(json, "audit_entries.entry")?;
    entry.status = parse_status(status)?;
    entry.resolved_by = resolved_by.map(super::EntryId);
    Ok(entry)
}

/// A `StoreError::Backend` from anything displayable.
/// A document's version as the `BIGINT` both backends keep it in.
pub(crate) fn version_column(document: &str, version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| {
        StoreError::backend(
            format!("version {version} of {document} is out of range"),
            false,
        )
    })
}

pub(crate) fn backend(error: impl std::fmt::Display, transient: bool) -> StoreError {
    StoreError::backend(error.to_string(), transient)
}

/// A `StoreError::Backend` whose message is `error`'s text and whose typed source is `error`.
pub(crate) fn backend_from(
    error: impl std::error::Error + Send + Sync + 'static,
    transient: bool,
) -> StoreError {
    StoreError::backend(error.to_string(), transient).with_source(error)
}

/// Convert an sqlx error, deciding whether it is worth retrying.
pub(crate) fn from_sqlx(error: sqlx::Error) -> StoreError {
    let transient = match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL: serialization failure, deadlock, connection and shutdown classes.
            // SQLite: SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes.
            code == "40001"
                || code == "40P01"
                || code.starts_with("08")
                || code.starts_with("57P")
                || code == "5"
                || code == "6"
                || code == "517"
                || code == "261"
        }),
        _ => false,
    };
    backend_from(error, transient)
}

/// Counts collected as (name, count) rows into the map the trait returns.
pub(crate) fn counts_from_rows(
    rows: Vec<(String, i64)>,
) -> Result<HashMap<AuditStatus, u64>, StoreError> {
    let mut counts = HashMap::new();
    for (name, n) in rows {
        counts.insert(parse_status(&name)?, u64::try_from(n).unwrap_or(0));
    }
    Ok(counts)
}
