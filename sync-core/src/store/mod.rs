//! Stores: audit trail, checkpoints, cross-references, GL mapping.
//!
//! The engine writes through [`SyncStore`], which bundles the four store traits with the one
//! call that must be atomic: [`SyncStore::commit_window`] writes a window's audit rows, the
//! new checkpoint and (for the GL stream) the GL mapping together, after checking the fencing
//! token. A SQL store implements it as one transaction; [`memory::MemoryStore`] under one lock.
//!
//! Two writes happen outside that commit, on purpose, because they must be durable *before*
//! the window ends: the intent row written before each target write
//! ([`AuditStore::record_intent`]), and the cross-reference written right after a successful
//! write ([`CrossRefStore::put_cross_ref`]). After a crash they tell the next run that a write
//! may have happened (intent without resolution: look up before create) or did happen
//! (cross-reference with the hash: skip).

mod audit;
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use audit::{
    Action, AuditEntry, AuditQuery, AuditStatus, EntryId, ErrorClass, ErrorInfo, MatchResult, RunId,
};

use crate::error::StoreError;
use crate::model::{AccountClass, ContentHash, RecordKind, SourceIdentity};

/// A stream name (`gl_accounts`, `suppliers`, `purchase_orders`, `supplier_invoices`, or your
/// own).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StreamId(pub String);

impl StreamId {
    /// GL accounts.
    pub fn gl_accounts() -> Self {
        StreamId("gl_accounts".into())
    }
    /// Suppliers.
    pub fn suppliers() -> Self {
        StreamId("suppliers".into())
    }
    /// Purchase orders.
    pub fn purchase_orders() -> Self {
        StreamId("purchase_orders".into())
    }
    /// Supplier invoices.
    pub fn supplier_invoices() -> Self {
        StreamId("supplier_invoices".into())
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// (tenant, stream): the unit a checkpoint and a lease belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamKey {
    /// Tenant.
    pub tenant: String,
    /// Stream.
    pub stream: StreamId,
}

impl StreamKey {
    /// Build a key.
    pub fn new(tenant: impl Into<String>, stream: StreamId) -> Self {
        StreamKey {
            tenant: tenant.into(),
            stream,
        }
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tenant, self.stream)
    }
}

/// The state of one (tenant, stream).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Source server time up to which everything has been read (`None`: never).
    pub cursor: Option<DateTime<Utc>>,
    /// Ids of the records handled whose `modified_at` equals the cursor exactly.
    pub ids_at_cursor: BTreeSet<String>,
    /// When the last window committed (local clock).
    pub last_run: Option<DateTime<Utc>>,
    /// When the last full reconciliation scan committed (source server time).
    pub last_full_scan: Option<DateTime<Utc>>,
}

/// A fencing token: a newer token makes every older one stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fence(pub u64);

/// What the engine knows about one record in the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossRef {
    /// Kind.
    pub kind: RecordKind,
    /// Source identity.
    pub source: SourceIdentity,
    /// Target id.
    pub target_id: String,
    /// Other target ids that belong to it (e.g. `invoice_task_id`).
    pub aux: BTreeMap<String, String>,
    /// Hash of the content last written successfully (`None` when only partly written).
    pub synced_hash: Option<ContentHash>,
    /// `modified_at` of the content last written.
    pub synced_modified_at: Option<DateTime<Utc>>,
}

/// How a source account differs from the target's chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DriftKind {
    /// No target account for it.
    MissingInTarget,
    /// Names differ.
    NameDiffers {
        /// Source name.
        source: String,
        /// Target name.
        target: String,
    },
    /// Classes differ.
    ClassDiffers {
        /// Source class.
        source: AccountClass,
        /// Target class.
        target: Option<AccountClass>,
    },
    /// The target account is inactive while the source one is active.
    InactiveInTarget,
}

/// One drift finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// Source account code.
    pub source_code: String,
    /// Target account code it maps to, if any.
    pub target_code: Option<String>,
    /// What differs.
    pub drift: DriftKind,
}

/// The GL mapping of one tenant, as last produced by the GL-accounts pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlMapping {
    /// When it was produced (local clock): when the target's chart was last read. The
    /// GL-accounts pipeline reads it again once this is older than its check interval
    /// ([`GlAccountPipeline::with_target_check_every`](crate::engine::gl_accounts::GlAccountPipeline::with_target_check_every)).
    pub generated_at: Option<DateTime<Utc>>,
    /// Source account code → target account code.
    pub accounts: BTreeMap<String, String>,
    /// Drift report.
    pub drift: Vec<Drift>,
    /// The hash of the source chart (and of how its codes map) this mapping was produced
    /// from. A window whose source chart hashes the same, within the check interval, does not
    /// read the target's chart. `None` when the window that produced it left a failure (or
    /// before this was stored): the next window reads the target's chart again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_hash: Option<ContentHash>,
}

/// One atomic commit: a window's audit rows, its checkpoint and (GL stream) the GL mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCommit {
    /// The stream.
    pub key: StreamKey,
    /// The new checkpoint; `None` writes audit rows only (replay, abandoned window).
    pub checkpoint: Option<Checkpoint>,
    /// Audit rows, in the order they happened. Rows whose id already exists (intents)
    /// are replaced.
    pub entries: Vec<AuditEntry>,
    /// A new GL mapping for the tenant.
    pub gl_mapping: Option<GlMapping>,
    /// The fencing token the worker holds; a commit with a stale token is rejected whole.
    pub fence: Option<Fence>,
}

/// The audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Durably write one entry now (insert, or replace the entry with the same id). Used for
    /// intent rows (status [`AuditStatus::Pending`]) before a target write.
    async fn record_intent(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// One entry.
    async fn entry(&self, id: &EntryId) -> Result<Option<AuditEntry>, StoreError>;
    /// Entries passing the filter, oldest first.
    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;
}

/// Checkpoints and leases.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// The checkpoint of a stream (the default when none was committed).
    async fn load_checkpoint(&self, key: &StreamKey) -> Result<Checkpoint, StoreError>;
    /// Take over a stream: returns a token newer than every token issued before for it, so a
    /// commit by an older holder is rejected. (A PostgreSQL store backs this with a lease.)
    async fn acquire_fence(&self, key: &StreamKey) -> Result<Fence, StoreError>;
}

/// Cross-references: source record ↔ target record.
#[async_trait]
pub trait CrossRefStore: Send + Sync {
    /// The cross-reference of one record.
    async fn cross_ref(
        &self,
        tenant: &str,
        kind: RecordKind,
        source: &SourceIdentity,
    ) -> Result<Option<CrossRef>, StoreError>;
    /// Insert or replace a cross-reference; durable when it returns.
    async fn put_cross_ref(&self, tenant: &str, xref: &CrossRef) -> Result<(), StoreError>;
    /// The cross-references of this kind that point at `target_id` (the other way round: which
    /// source records a target record stands for), in no particular order.
    async fn cross_refs_to(
        &self,
        tenant: &str,
        kind: RecordKind,
        target_id: &str,
    ) -> Result<Vec<CrossRef>, StoreError>;
}

/// The GL mapping produced by the GL-accounts pipeline.
#[async_trait]
pub trait GlMappingStore: Send + Sync {
    /// The tenant's current GL mapping.
    async fn gl_mapping(&self, tenant: &str) -> Result<Option<GlMapping>, StoreError>;
}

/// The newest version seen of each source document (a BOD's `variationID`): a version older
/// than one seen before is stale, whichever window, replay or push brings it.
#[async_trait]
pub trait VersionStore: Send + Sync {
    /// Note that each document (a stable key of the document in its source, e.g. noun,
    /// entity and id) was seen at its version; returns, in the same order, the newest version
    /// seen of each — this one, or a newer one noted before (a document named twice in one call
    /// is answered with the greater, both times). For all of them at once (one statement on
    /// PostgreSQL, one transaction on SQLite); durable when it returns.
    async fn note_versions(
        &self,
        tenant: &str,
        seen: &[(String, u64)],
    ) -> Result<Vec<u64>, StoreError>;

    /// [`note_versions`](Self::note_versions) for one document.
    async fn note_version(
        &self,
        tenant: &str,
        document: &str,
        version: u64,
    ) -> Result<u64, StoreError> {
        let newest = self
            .note_versions(tenant, &[(document.to_owned(), version)])
            .await?;
        Ok(newest.first().copied().unwrap_or(version))
    }
}

/// Everything the engine needs from storage, plus the atomic window commit.
#[async_trait]
pub trait SyncStore:
    AuditStore + CheckpointStore + CrossRefStore + GlMappingStore + VersionStore
{
    /// Atomically: check the fence (reject with [`StoreError::Fenced`] and write nothing when
    /// stale); insert/replace the audit rows in order; for every row with status
    /// [`AuditStatus::Succeeded`], mark each *earlier* open row of the same
    /// (tenant, stream, source) [`AuditStatus::Resolved`] with `resolved_by` set; replace the
    /// checkpoint if given; replace the GL mapping if given.
    async fn commit_window(&self, commit: WindowCommit) -> Result<(), StoreError>;
}
