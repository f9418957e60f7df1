//! Crash injection.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::error::StoreError;
use crate::model::{RecordKind, SourceIdentity};
use crate::store::memory::MemoryStore;
use crate::store::{
    AuditEntry, AuditQuery, AuditStore, Checkpoint, CheckpointStore, CrossRef, CrossRefStore,
    EntryId, Fence, GlMapping, GlMappingStore, StreamKey, SyncStore, VersionStore, WindowCommit,
};

/// Counts steps; at step `trip_at` the step never completes and [`Tripwire::tripped`] fires.
#[derive(Debug, Default)]
pub struct Tripwire {
    steps: AtomicUsize,
    trip_at: AtomicUsize,
    armed: AtomicBool,
    fired: AtomicBool,
    notify: Notify,
}

impl Tripwire {
    /// A tripwire that never fires until [`Tripwire::arm`] is called.
    pub fn new() -> Arc<Self> {
        Arc::new(Tripwire::default())
    }

    /// Fire at the `at`-th step from now (0 = the next step).
    pub fn arm(&self, at: usize) {
        self.trip_at
            .store(self.steps.load(Ordering::SeqCst) + at, Ordering::SeqCst);
        self.fired.store(false, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Never fire.
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }

    /// Steps counted so far.
    pub fn steps(&self) -> usize {
        self.steps.load(Ordering::SeqCst)
    }

    /// Whether it fired since last armed.
    pub fn has_fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// One step: returns at once, or never when this is the step to trip at.
    pub async fn step(&self) {
        let n = self.steps.fetch_add(1, Ordering::SeqCst);
        if self.armed.load(Ordering::SeqCst) && n == self.trip_at.load(Ordering::SeqCst) {
            self.armed.store(false, Ordering::SeqCst);
            self.fired.store(true, Ordering::SeqCst);
            self.notify.notify_waiters();
            std::future::pending::<()>().await;
        }
    }

    /// Resolves when the tripwire fires.
    pub async fn tripped(&self) {
        loop {
            let notified = self.notify.notified();
            if self.has_fired() {
                return;
            }
            notified.await;
        }
    }
}

/// A [`MemoryStore`] whose calls are tripwire steps (before the call for reads and intents;
/// before *and* after a window commit, to crash on either side of it).
#[derive(Debug, Clone)]
pub struct TrippingStore {
    /// The store.
    pub inner: MemoryStore,
    /// The tripwire.
    pub trip: Arc<Tripwire>,
}

#[async_trait]
impl AuditStore for TrippingStore {
    async fn record_intent(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.trip.step().await;
        self.inner.record_intent(entry).await
    }
    async fn entry(&self, id: &EntryId) -> Result<Option<AuditEntry>, StoreError> {
        self.inner.entry(id).await
    }
    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.query(query).await
    }
}

#[async_trait]
impl CheckpointStore for TrippingStore {
    async fn load_checkpoint(&self, key: &StreamKey) -> Result<Checkpoint, StoreError> {
        self.trip.step().await;
        self.inner.load_checkpoint(key).await
    }
    async fn acquire_fence(&self, key: &StreamKey) -> Result<Fence, StoreError> {
        self.inner.acquire_fence(key).await
    }
}

#[async_trait]
impl CrossRefStore for TrippingStore {
    async fn cross_ref(
        &self,
        tenant: &str,
        kind: RecordKind,
        source: &SourceIdentity,
    ) -> Result<Option<CrossRef>, StoreError> {
        self.inner.cross_ref(tenant, kind, source).await
    }
    async fn put_cross_ref(&self, tenant: &str, xref: &CrossRef) -> Result<(), StoreError> {
        self.trip.step().await;
        self.inner.put_cross_ref(tenant, xref).await
    }
    async fn cross_refs_to(
        &self,
        tenant: &str,
        kind: RecordKind,
        target_id: &str,
    ) -> Result<Vec<CrossRef>, StoreError> {
        self.inner.cross_refs_to(tenant, kind, target_id).await
    }
}

#[async_trait]
impl GlMappingStore for TrippingStore {
    async fn gl_mapping(&self, tenant: &str) -> Result<Option<GlMapping>, StoreError> {
        self.inner.gl_mapping(tenant).await
    }
}

#[async_trait]
impl VersionStore for TrippingStore {
    async fn note_versions(
        &self,
        tenant: &str,
        seen: &[(String, u64)],
    ) -> Result<Vec<u64>, StoreError> {
        self.inner.note_versions(tenant, seen).await
    }
}

#[async_trait]
impl SyncStore for TrippingStore {
    async fn commit_window(&self, commit: WindowCommit) -> Result<(), StoreError> {
        self.trip.step().await;
        self.inner.commit_window(commit).await?;
        self.trip.step().await;
        Ok(())
    }
}
