//! An in-memory [`SyncStore`] for tests and demos. Every call takes one lock, so
//! [`SyncStore::commit_window`] is atomic exactly as a SQL transaction would be.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    AuditEntry, AuditQuery, AuditStatus, AuditStore, Checkpoint, CheckpointStore, CrossRef,
    CrossRefStore, EntryId, Fence, GlMapping, GlMappingStore, StreamKey, SyncStore, VersionStore,
    WindowCommit,
};
use crate::error::StoreError;
use crate::model::{RecordKind, SourceIdentity};

#[derive(Debug, Default)]
struct State {
    entries: Vec<AuditEntry>,
    positions: HashMap<EntryId, usize>,
    checkpoints: HashMap<StreamKey, Checkpoint>,
    fences: HashMap<StreamKey, u64>,
    cross_refs: HashMap<(String, RecordKind, SourceIdentity), CrossRef>,
    gl: HashMap<String, GlMapping>,
    versions: HashMap<(String, String), u64>,
    commits: u64,
}

impl State {
    fn upsert(&mut self, entry: AuditEntry) -> usize {
        match self.positions.get(&entry.id) {
            Some(&at) => {
                self.entries[at] = entry;
                at
            }
            None => {
                let at = self.entries.len();
                self.positions.insert(entry.id.clone(), at);
                self.entries.push(entry);
                at
            }
        }
    }
}

/// The in-memory store. Clones share the same data.
///
/// ```
/// use sync_core::store::{memory::MemoryStore, CheckpointStore, StreamId, StreamKey};
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let store = MemoryStore::new();
/// let key = StreamKey::new("acme", StreamId::suppliers());
/// assert_eq!(store.load_checkpoint(&key).await.unwrap().cursor, None);
/// let first = store.acquire_fence(&key).await.unwrap();
/// assert!(store.acquire_fence(&key).await.unwrap() > first);
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is updated in place under the lock without intermediate invalid states, so
        // a poisoned lock (a panicking test thread) still holds consistent data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every audit entry, in insertion order.
    pub fn all_entries(&self) -> Vec<AuditEntry> {
        self.lock().entries.clone()
    }

    /// Every cross-reference.
    pub fn all_cross_refs(&self) -> Vec<CrossRef> {
        self.lock().cross_refs.values().cloned().collect()
    }

    /// How many window commits succeeded.
    pub fn commit_count(&self) -> u64 {
        self.lock().commits
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn record_intent(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.lock().upsert(entry.clone());
        Ok(())
    }

    async fn entry(&self, id: &EntryId) -> Result<Option<AuditEntry>, StoreError> {
        let state = self.lock();
        Ok(state.positions.get(id).map(|&at| state.entries[at].clone()))
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self
            .lock()
            .entries
            .iter()
            .filter(|e| query.matches(e))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl CheckpointStore for MemoryStore {
    async fn load_checkpoint(&self, key: &StreamKey) -> Result<Checkpoint, StoreError> {
        Ok(self
            .lock()
            .checkpoints
            .get(key)
            .cloned()
            .unwrap_or_default())
    }

    async fn acquire_fence(&self, key: &StreamKey) -> Result<Fence, StoreError> {
        let mut state = self.lock();
        let token = state.fences.entry(key.clone()).or_insert(0);
        *token += 1;
        Ok(Fence(*token))
    }
}

#[async_trait]
impl CrossRefStore for MemoryStore {
    async fn cross_ref(
        &self,
        tenant: &str,
        kind: RecordKind,
        source: &SourceIdentity,
    ) -> Result<Option<CrossRef>, StoreError> {
        Ok(self
            .lock()
            .cross_refs
            .get(&(tenant.to_owned(), kind, source.clone()))
            .cloned())
    }

    async fn put_cross_ref(&self, tenant: &str, xref: &CrossRef) -> Result<(), StoreError> {
        self.lock().cross_refs.insert(
            (tenant.to_owned(), xref.kind, xref.source.clone()),
            xref.clone(),
        );
        Ok(())
    }

    async fn cross_refs_to(
        &self,
        tenant: &str,
        kind: RecordKind,
        target_id: &str,
    ) -> Result<Vec<CrossRef>, StoreError> {
        Ok(self
            .lock()
            .cross_refs
            .iter()
            .filter(|((t, k, _), x)| t == tenant && *k == kind && x.target_id == target_id)
            .map(|(_, x)| x.clone())
            .collect())
    }
}

#[async_trait]
impl GlMappingStore for MemoryStore {
    async fn gl_mapping(&self, tenant: &str) -> Result<Option<GlMapping>, StoreError> {
        Ok(self.lock().gl.get(tenant).cloned())
    }
}

#[async_trait]
impl VersionStore for MemoryStore {
    async fn note_versions(
        &self,
        tenant: &str,
        seen: &[(String, u64)],
    ) -> Result<Vec<u64>, StoreError> {
        let mut state = self.lock();
        for (document, version) in seen {
            let newest = state
                .versions
                .entry((tenant.to_owned(), document.clone()))
                .or_insert(*version);
            *newest = (*newest).max(*version);
        }
        // Read after noting all: a document named twice is answered with the greater, both times.
        Ok(seen
            .iter()
            .map(|(document, _)| {
                state
                    .versions
                    .get(&(tenant.to_owned(), document.clone()))
                    .copied()
                    .unwrap_or_default()
            })
            .collect())
    }
}

#[async_trait]
impl SyncStore for MemoryStore {
    async fn commit_window(&self, commit: WindowCommit) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some(Fence(presented)) = commit.fence {
            let current = state.fences.get(&commit.key).copied().unwrap_or(0);
            if presented < current {
                return Err(StoreError::Fenced {
                    stream: commit.key.to_string(),
                    presented,
                    current,
                });
            }
        }
        for entry in commit.entries {
            let succeeded = entry.status == AuditStatus::Succeeded;
            let (tenant, stream, source, id) = (
                entry.tenant.clone(),
                entry.stream.clone(),
                entry.source.clone(),
                entry.id.clone(),
            );
            let at = state.upsert(entry);
            if succeeded {
                for earlier in state.entries[..at].iter_mut() {
                    if earlier.status.is_open()
                        && earlier.tenant == tenant
                        && earlier.stream == stream
                        && earlier.source == source
                    {
                        earlier.status = AuditStatus::Resolved;
                        earlier.resolved_by = Some(id.clone());
                    }
                }
            }
        }
        if let Some(checkpoint) = commit.checkpoint {
            state.checkpoints.insert(commit.key.clone(), checkpoint);
        }
        if let Some(gl) = commit.gl_mapping {
            state.gl.insert(commit.key.tenant.clone(), gl);
        }
        state.commits += 1;
        Ok(())
    }
}
