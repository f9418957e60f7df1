//! One conformance suite, three backends: every case below runs against the in-memory store
//! (the reference behaviour), SQLite and PostgreSQL. A second suite covers the operator audit
//! queries ([`AuditSearch`]) of the two SQL stores.
#![cfg(all(feature = "sqlite", feature = "postgres"))]
#![allow(clippy::unwrap_used)]

use crate::store_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use serde_json::json;
use store_support::*;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner};
use sync_core::error::{MappingKind, StoreError};
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{AccountClass, ContentHash, PartyStatus, RecordKind, Supplier};
use sync_core::store::memory::MemoryStore;
use sync_core::store::postgres::PgStore;
use sync_core::store::sql::{AuditFilter, AuditSearch, PageRequest, Retention};
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{
    Action, AuditEntry, AuditQuery, AuditStatus, AuditStore, Checkpoint, CheckpointStore, CrossRef,
    CrossRefStore, Drift, DriftKind, EntryId, ErrorClass, ErrorInfo, Fence, GlMapping,
    GlMappingStore, MatchResult, RunId, StreamId, StreamKey, SyncStore, VersionStore, WindowCommit,
};
use sync_core::testing::{MemorySource, MemorySupplierTarget};
use sync_core::time::{ManualClock, SharedClock};

/// One backend under test.
#[async_trait]
trait Backend: Sized + Send + Sync + 'static {
    type Store: SyncStore + Clone + 'static;
    async fn open(clock: SharedClock) -> Self;
    fn store(&self) -> Self::Store;
    /// A process dying inside `commit_window`: every write done in the transaction, then the
    /// transaction dropped. (The memory store's commit is one locked step: nothing is written.)
    async fn crash_commit(&self, commit: WindowCommit);
    async fn finish(self);
}

struct Memory(MemoryStore);
struct Sqlite(SqliteStore, #[allow(dead_code)] tempfile::TempDir);
struct Postgres(PgStore);

#[async_trait]
impl Backend for Memory {
    type Store = MemoryStore;
    async fn open(_: SharedClock) -> Self {
        Memory(MemoryStore::new())
    }
    fn store(&self) -> MemoryStore {
        self.0.clone()
    }
    async fn crash_commit(&self, _: WindowCommit) {}
    async fn finish(self) {}
}

#[async_trait]
impl Backend for Sqlite {
    type Store = SqliteStore;
    async fn open(clock: SharedClock) -> Self {
        let (store, dir) = sqlite_store(clock).await;
        Sqlite(store, dir)
    }
    fn store(&self) -> SqliteStore {
        self.0.clone()
    }
    async fn crash_commit(&self, commit: WindowCommit) {
        self.0.abort_window(commit).await.unwrap();
    }
    async fn finish(self) {
        self.0.close().await;
    }
}

#[async_trait]
impl Backend for Postgres {
    type Store = PgStore;
    async fn open(clock: SharedClock) -> Self {
        Postgres(pg_store(clock).await)
    }
    fn store(&self) -> PgStore {
        self.0.clone()
    }
    async fn crash_commit(&self, commit: WindowCommit) {
        self.0.abort_window(commit).await.unwrap();
    }
    async fn finish(self) {
        self.0.drop_schema().await.unwrap();
    }
}

const A: &str = "TENANT_A";
const B: &str = "TENANT_B";

fn key(tenant: &str, stream: StreamId) -> StreamKey {
    StreamKey::new(tenant, stream)
}

fn full_entry() -> AuditEntry {
    AuditEntry {
        kind: RecordKind::PurchaseOrder,
        action: Action::Update,
        match_result: Some(MatchResult::ById),
        target_id: Some("PO-uuid-1".into()),
        error: Some(ErrorInfo {
            class: ErrorClass::Rejected,
            message: "Location \"Main\" not found".into(),
        }),
        request_summary: Some("PUT /purchase".into()),
        response_summary: Some("HTTP 400".into()),
        mapped_snapshot: Some(json!({"Lines": [{"SKU": "WID-1", "Quantity": "4.5"}], "ü": null})),
        replay_of: Some(EntryId("older-1".into())),
        ..entry(
            A,
            StreamId::purchase_orders(),
            "run-1",
            "run-1-1",
            "PO1",
            AuditStatus::Failed,
            at(3),
        )
    }
}

fn checkpoint(cursor_s: i64) -> Checkpoint {
    Checkpoint {
        cursor: Some(at(cursor_s)),
        ids_at_cursor: BTreeSet::from(["V1".to_owned(), "V2".to_owned()]),
        last_run: Some(at(cursor_s + 5)),
        last_full_scan: None,
    }
}

fn commit(key: &StreamKey, fence: Option<Fence>, entries: Vec<AuditEntry>) -> WindowCommit {
    WindowCommit {
        key: key.clone(),
        checkpoint: None,
        entries,
        gl_mapping: None,
        fence,
    }
}

// ---------------------------------------------------------------------------------------------
// The cases.

async fn fences_increase_per_stream<B: Backend>(b: &B) {
    let s = b.store();
    let k1 = key(A, StreamId::suppliers());
    let k2 = key(A, StreamId::purchase_orders());
    assert_eq!(s.load_checkpoint(&k1).await.unwrap(), Checkpoint::default());
    let f1 = s.acquire_fence(&k1).await.unwrap();
    let f2 = s.acquire_fence(&k1).await.unwrap();
    assert!(f2 > f1, "{f2:?} must be newer than {f1:?}");
    let g1 = s.acquire_fence(&k2).await.unwrap();
    let g2 = s.acquire_fence(&k2).await.unwrap();
    assert!(g2 > g1);
    // The other stream's tokens did not make k1's current token stale.
    s.commit_window(commit(&k1, Some(f2), vec![]))
        .await
        .unwrap();
}

async fn commit_round_trips_everything<B: Backend>(b: &B) {
    let s = b.store();
    let k = key(A, StreamId::gl_accounts());
    let fence = s.acquire_fence(&k).await.unwrap();
    let e = full_entry();
    let gl = GlMapping {
        generated_at: Some(at(9)),
        accounts: BTreeMap::from([("6100".into(), "6100-NZ".into())]),
        drift: vec![Drift {
            source_code: "7000".into(),
            target_code: None,
            drift: DriftKind::ClassDiffers {
                source: AccountClass::Expense,
                target: Some(AccountClass::Revenue),
            },
        }],
        ..GlMapping::default()
    };
    s.commit_window(WindowCommit {
        checkpoint: Some(checkpoint(60)),
        gl_mapping: Some(gl.clone()),
        ..commit(&k, Some(fence), vec![e.clone()])
    })
    .await
    .unwrap();
    assert_eq!(s.entry(&e.id).await.unwrap(), Some(e.clone()));
    assert_eq!(s.query(&AuditQuery::tenant(A)).await.unwrap(), vec![e]);
    assert_eq!(s.load_checkpoint(&k).await.unwrap(), checkpoint(60));
    assert_eq!(s.gl_mapping(A).await.unwrap(), Some(gl));
    assert_eq!(s.entry(&EntryId("nope".into())).await.unwrap(), None);
}

async fn stale_fence_writes_nothing<B: Backend>(b: &B) {
    let s = b.store();
    let k = key(A, StreamId::suppliers());
    let old = s.acquire_fence(&k).await.unwrap();
    let new = s.acquire_fence(&k).await.unwrap();
    let e = entry(
        A,
        StreamId::suppliers(),
        "r",
        "r-1",
        "V1",
        AuditStatus::Succeeded,
        at(1),
    );
    let err = s
        .commit_window(WindowCommit {
            checkpoint: Some(checkpoint(10)),
            gl_mapping: Some(GlMapping::default()),
            ..commit(&k, Some(old), vec![e.clone()])
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Fenced {
            stream: k.to_string(),
            presented: old.0,
            current: new.0
        }
    );
    assert!(!err.is_retryable());
    assert_eq!(s.entry(&e.id).await.unwrap(), None);
    assert_eq!(s.load_checkpoint(&k).await.unwrap(), Checkpoint::default());
    assert_eq!(s.gl_mapping(A).await.unwrap(), None);
    // The current holder commits; a replay (no fence) commits too.
    s.commit_window(WindowCommit {
        checkpoint: Some(checkpoint(10)),
        ..commit(&k, Some(new), vec![e.clone()])
    })
    .await
    .unwrap();
    let replay = entry(
        A,
        StreamId::suppliers(),
        "r2",
        "r2-1",
        "V2",
        AuditStatus::Failed,
        at(2),
    );
    s.commit_window(commit(&k, None, vec![replay.clone()]))
        .await
        .unwrap();
    assert_eq!(
        ids(&s.query(&AuditQuery::tenant(A)).await.unwrap()),
        ["r-1", "r2-1"]
    );
    assert_eq!(s.load_checkpoint(&k).await.unwrap(), checkpoint(10));
}

async fn success_resolves_earlier_open_rows_of_the_record<B: Backend>(b: &B) {
    let s = b.store();
    let sup = StreamId::suppliers();
    let k = key(A, sup.clone());
    let fence = s.acquire_fence(&k).await.unwrap();
    // An intent written before the target write, durable on its own.
    let intent = entry(A, sup.clone(), "r", "r-1", "X", AuditStatus::Pending, at(1));
    s.record_intent(&intent).await.unwrap();
    assert_eq!(s.entry(&intent.id).await.unwrap(), Some(intent.clone()));

    let other_record = entry(A, sup.clone(), "r", "r-2", "Y", AuditStatus::Failed, at(2));
    // The intent's outcome replaces it in place (same id).
    let intent_failed = AuditEntry {
        error: Some(ErrorInfo {
            class: ErrorClass::UnknownOutcome,
            message: "timeout".into(),
        }),
        ..entry(A, sup.clone(), "r", "r-1", "X", AuditStatus::Failed, at(1))
    };
    let other_stream = entry(
        A,
        StreamId::purchase_orders(),
        "r",
        "r-3",
        "X",
        AuditStatus::Failed,
        at(3),
    );
    let other_tenant = entry(
        B,
        sup.clone(),
        "r",
        "r-4",
        "X",
        AuditStatus::Deferred,
        at(3),
    );
    let success = entry(
        A,
        sup.clone(),
        "r",
        "r-5",
        "X",
        AuditStatus::Succeeded,
        at(4),
    );
    let later_failure = entry(A, sup.clone(), "r", "r-6", "X", AuditStatus::Failed, at(5));
    s.commit_window(commit(
        &k,
        Some(fence),
        vec![
            other_record.clone(),
            intent_failed,
            other_stream,
            other_tenant,
            success.clone(),
            later_failure.clone(),
        ],
    ))
    .await
    .unwrap();

    let rows = s.query(&AuditQuery::tenant(A)).await.unwrap();
    assert_eq!(
        ids(&rows),
        ["r-1", "r-2", "r-3", "r-5", "r-6"],
        "replaced in place, oldest first"
    );
    let status: BTreeMap<_, _> = rows
        .iter()
        .map(|e| (e.id.0.clone(), (e.status, e.resolved_by.clone())))
        .collect();
    assert_eq!(
        status["r-1"],
        (AuditStatus::Resolved, Some(success.id.clone()))
    );
    assert_eq!(status["r-2"], (AuditStatus::Failed, None), "another record");
    assert_eq!(status["r-3"], (AuditStatus::Failed, None), "another stream");
    assert_eq!(status["r-5"], (AuditStatus::Succeeded, None));
    assert_eq!(
        status["r-6"],
        (AuditStatus::Failed, None),
        "later than the success"
    );
    let b_rows = s.query(&AuditQuery::tenant(B)).await.unwrap();
    assert_eq!(b_rows[0].status, AuditStatus::Deferred, "another tenant");
    assert_eq!(
        s.entry(&EntryId("r-1".into()))
            .await
            .unwrap()
            .unwrap()
            .error
            .unwrap()
            .class,
        ErrorClass::UnknownOutcome
    );

    // A later window's success resolves the later failure only.
    let fence = s.acquire_fence(&k).await.unwrap();
    let again = entry(
        A,
        sup.clone(),
        "r7",
        "r7-1",
        "X",
        AuditStatus::Succeeded,
        at(9),
    );
    s.commit_window(commit(&k, Some(fence), vec![again.clone()]))
        .await
        .unwrap();
    let r6 = s.entry(&later_failure.id).await.unwrap().unwrap();
    assert_eq!(
        (r6.status, r6.resolved_by),
        (AuditStatus::Resolved, Some(again.id))
    );
    let r1 = s.entry(&intent.id).await.unwrap().unwrap();
    assert_eq!(r1.resolved_by, Some(success.id));
}

async fn query_filters<B: Backend>(b: &B) {
    let s = b.store();
    let sup = StreamId::suppliers();
    let po = StreamId::purchase_orders();
    let rows = vec![
        entry(
            A,
            sup.clone(),
            "r1",
            "r1-1",
            "V1",
            AuditStatus::Failed,
            at(1),
        ),
        entry(
            A,
            sup.clone(),
            "r1",
            "r1-2",
            "V2",
            AuditStatus::Succeeded,
            at(2),
        ),
        entry(
            A,
            po.clone(),
            "r1",
            "r1-3",
            "P1",
            AuditStatus::Deferred,
            at(3),
        ),
        entry(
            A,
            sup.clone(),
            "r2",
            "r2-1",
            "V1",
            AuditStatus::Conflict,
            at(4),
        ),
        entry(
            B,
            sup.clone(),
            "r3",
            "r3-1",
            "V1",
            AuditStatus::Failed,
            at(5),
        ),
    ];
    for e in &rows {
        s.commit_window(commit(
            &key(&e.tenant, e.stream.clone()),
            None,
            vec![e.clone()],
        ))
        .await
        .unwrap();
    }
    let q = |q: AuditQuery| {
        let s = s.clone();
        async move { ids(&s.query(&q).await.unwrap()) }
    };
    assert_eq!(
        q(AuditQuery::tenant(A)).await,
        ["r1-1", "r1-2", "r1-3", "r2-1"]
    );
    assert_eq!(q(AuditQuery::tenant(B)).await, ["r3-1"]);
    assert!(q(AuditQuery::tenant("NOBODY")).await.is_empty());
    assert_eq!(q(AuditQuery::tenant(A).stream(po)).await, ["r1-3"]);
    assert_eq!(
        q(AuditQuery::tenant(A).run(RunId("r2".into()))).await,
        ["r2-1"]
    );
    assert_eq!(
        q(AuditQuery::tenant(A).source(ident(A, "V1"))).await,
        ["r1-1", "r2-1"]
    );
    assert_eq!(
        q(AuditQuery::tenant(A).statuses(&[AuditStatus::Failed, AuditStatus::Conflict])).await,
        ["r1-1", "r2-1"]
    );
    assert_eq!(
        q(AuditQuery::tenant(A)
            .stream(sup)
            .statuses(&AuditStatus::OPEN))
        .await,
        ["r1-1", "r2-1"]
    );
}

async fn cross_refs_gl_and_checkpoints_are_per_tenant<B: Backend>(b: &B) {
    let s = b.store();
    let xref = CrossRef {
        kind: RecordKind::Supplier,
        source: ident(A, "V1"),
        target_id: "cin7-1".into(),
        aux: BTreeMap::from([("invoice_task_id".into(), "task-9".into())]),
        synced_hash: Some(ContentHash("h1".into())),
        synced_modified_at: Some(at(1)),
    };
    s.put_cross_ref(A, &xref).await.unwrap();
    assert_eq!(
        s.cross_ref(A, RecordKind::Supplier, &xref.source)
            .await
            .unwrap(),
        Some(xref.clone())
    );
    assert_eq!(
        s.cross_ref(B, RecordKind::Supplier, &xref.source)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.cross_ref(A, RecordKind::PurchaseOrder, &xref.source)
            .await
            .unwrap(),
        None
    );
    let replaced = CrossRef {
        target_id: "cin7-2".into(),
        synced_hash: None,
        ..xref.clone()
    };
    s.put_cross_ref(A, &replaced).await.unwrap();
    assert_eq!(
        s.cross_ref(A, RecordKind::Supplier, &xref.source)
            .await
            .unwrap(),
        Some(replaced.clone())
    );
    // The other way round: by target id, per tenant and kind, following a replacement.
    let second = CrossRef {
        source: ident(A, "V2"),
        ..replaced.clone()
    };
    s.put_cross_ref(A, &second).await.unwrap();
    let mut to = s
        .cross_refs_to(A, RecordKind::Supplier, "cin7-2")
        .await
        .unwrap();
    to.sort_by(|a, b| a.source.id.cmp(&b.source.id));
    assert_eq!(to, vec![replaced, second]);
    for (tenant, kind, target) in [
        (A, RecordKind::Supplier, "cin7-1"),
        (B, RecordKind::Supplier, "cin7-2"),
        (A, RecordKind::PurchaseOrder, "cin7-2"),
    ] {
        assert!(
            s.cross_refs_to(tenant, kind, target)
                .await
                .unwrap()
                .is_empty(),
            "{tenant} {kind:?} {target}"
        );
    }

    let ka = key(A, StreamId::gl_accounts());
    s.commit_window(WindowCommit {
        checkpoint: Some(checkpoint(30)),
        gl_mapping: Some(GlMapping {
            generated_at: Some(at(30)),
            ..GlMapping::default()
        }),
        ..commit(&ka, None, vec![])
    })
    .await
    .unwrap();
    assert!(s.gl_mapping(A).await.unwrap().is_some());
    assert_eq!(s.gl_mapping(B).await.unwrap(), None);
    assert_eq!(
        s.load_checkpoint(&key(B, StreamId::gl_accounts()))
            .await
            .unwrap(),
        Checkpoint::default()
    );
    // An audit-only commit (abandoned window) keeps the checkpoint.
    let e = entry(
        A,
        StreamId::gl_accounts(),
        "r",
        "r-1",
        "6100",
        AuditStatus::Failed,
        at(40),
    );
    s.commit_window(commit(&ka, None, vec![e])).await.unwrap();
    assert_eq!(s.load_checkpoint(&ka).await.unwrap(), checkpoint(30));
}

/// A store whose window commit "crashes": the backend's writes happen in a transaction that is
/// then dropped, and the engine sees an error.
struct CrashingCommit<S> {
    inner: S,
    crash: Box<dyn Fn(WindowCommit) -> futures::future::BoxFuture<'static, ()> + Send + Sync>,
}

#[async_trait]
impl<S: SyncStore> AuditStore for CrashingCommit<S> {
    async fn record_intent(&self, entry: &AuditEntry) -> Result<(), StoreError> {
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
impl<S: SyncStore> CheckpointStore for CrashingCommit<S> {
    async fn load_checkpoint(&self, key: &StreamKey) -> Result<Checkpoint, StoreError> {
        self.inner.load_checkpoint(key).await
    }
    async fn acquire_fence(&self, key: &StreamKey) -> Result<Fence, StoreError> {
        self.inner.acquire_fence(key).await
    }
}
#[async_trait]
impl<S: SyncStore> CrossRefStore for CrashingCommit<S> {
    async fn cross_ref(
        &self,
        tenant: &str,
        kind: RecordKind,
        source: &sync_core::model::SourceIdentity,
    ) -> Result<Option<CrossRef>, StoreError> {
        self.inner.cross_ref(tenant, kind, source).await
    }
    async fn put_cross_ref(&self, tenant: &str, xref: &CrossRef) -> Result<(), StoreError> {
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
impl<S: SyncStore> GlMappingStore for CrashingCommit<S> {
    async fn gl_mapping(&self, tenant: &str) -> Result<Option<GlMapping>, StoreError> {
        self.inner.gl_mapping(tenant).await
    }
}
#[async_trait]
impl<S: SyncStore> VersionStore for CrashingCommit<S> {
    async fn note_versions(
        &self,
        tenant: &str,
        seen: &[(String, u64)],
    ) -> Result<Vec<u64>, StoreError> {
        self.inner.note_versions(tenant, seen).await
    }
}
#[async_trait]
impl<S: SyncStore> SyncStore for CrashingCommit<S> {
    async fn commit_window(&self, commit: WindowCommit) -> Result<(), StoreError> {
        (self.crash)(commit).await;
        Err(StoreError::backend("process killed before COMMIT", true))
    }
}

async fn versions_keep_the_newest_per_tenant_and_document<B: Backend>(b: &B) {
    let s = b.store();
    assert_eq!(s.note_version("t1", "PO|A|1", 3).await.unwrap(), 3);
    assert_eq!(
        s.note_version("t1", "PO|A|1", 2).await.unwrap(),
        3,
        "an older version is reported stale"
    );
    assert_eq!(s.note_version("t1", "PO|A|1", 3).await.unwrap(), 3);
    assert_eq!(s.note_version("t1", "PO|A|1", 9).await.unwrap(), 9);
    assert_eq!(
        s.note_version("t2", "PO|A|1", 1).await.unwrap(),
        1,
        "per tenant"
    );
    assert_eq!(
        s.note_version("t1", "PO|A|2", 1).await.unwrap(),
        1,
        "per document"
    );
    // Concurrent notes of one document keep the greatest.
    let notes: Vec<_> = (1..=8u64)
        .map(|v| {
            let s = s.clone();
            tokio::spawn(async move { s.note_version("t1", "PO|B|1", v).await.unwrap() })
        })
        .collect();
    for note in notes {
        note.await.unwrap();
    }
    assert_eq!(s.note_version("t1", "PO|B|1", 0).await.unwrap(), 8);
    // Many in one call, answered in order.
    let seen = [("PO|A|1".to_owned(), 4), ("PO|C|1".to_owned(), 2)];
    assert_eq!(s.note_versions("t1", &seen).await.unwrap(), [9, 2]);
    // Out of order and a document named twice: each answered with the greatest.
    let seen = [
        ("PO|Z|1".to_owned(), 1),
        ("PO|A|1".to_owned(), 3),
        ("PO|Z|1".to_owned(), 5),
    ];
    assert_eq!(s.note_versions("t1", &seen).await.unwrap(), [5, 9, 5]);
    assert_eq!(s.note_versions("t1", &[]).await.unwrap(), Vec::<u64>::new());
}

fn supplier(id: &str, name: &str) -> Supplier {
    Supplier {
        identity: ident(A, id),
        vendor_id: id.to_owned(),
        name: name.to_owned(),
        currency: "NZD".into(),
        payment_term: Some("N30".into()),
        tax_rule: Some("STD".into()),
        tax_number: None,
        status: PartyStatus::Active,
        addresses: vec![],
        contacts: vec![],
        modified_at: at(-600),
    }
}

async fn crash_between_audit_write_and_commit_converges<B: Backend>(b: &B) {
    let store = b.store();
    let clock = ManualClock::new(t0());
    let source = MemorySource::new(t0());
    for i in 1..=5 {
        source.upsert(supplier(&format!("V{i}"), &format!("Supplier {i}")));
    }
    let target = MemorySupplierTarget::new();
    let mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::TaxRule, "STD", "GST on Expenses"),
    );
    let pipeline = Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings));
    let runner = StreamRunner::new(pipeline, Arc::new(source), EngineConfig::default());

    // Run 1 dies inside the commit: the audit rows were written, the COMMIT never happened.
    let crash_backend: &B = b;
    let crashing = {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<WindowCommit>();
        let store = CrashingCommit {
            inner: store.clone(),
            crash: Box::new(move |c| {
                let tx = tx.clone();
                Box::pin(async move {
                    tx.send(c).unwrap();
                })
            }),
        };
        let run = RunContext::new(Arc::new(store), clock.shared(), A);
        let err = runner.run_window(&run, None).await.unwrap_err();
        assert!(err.to_string().contains("killed"), "{err}");
        rx.recv().await.unwrap()
    };
    assert_eq!(crashing.entries.len(), 5);
    crash_backend.crash_commit(crashing).await;
    assert_eq!(target.suppliers().len(), 5, "the writes reached the target");
    let key = key(A, StreamId::suppliers());
    assert_eq!(
        store.load_checkpoint(&key).await.unwrap(),
        Checkpoint::default()
    );
    let after_crash = store.query(&AuditQuery::tenant(A)).await.unwrap();
    assert!(
        after_crash.iter().all(|e| e.status == AuditStatus::Pending),
        "only intents survive the crash"
    );

    // Run 2 with the real store converges.
    clock.advance(std::time::Duration::from_secs(300));
    let run = RunContext::new(Arc::new(store.clone()), clock.shared(), A);
    let report = runner.run_window(&run, None).await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(target.suppliers().len(), 5, "no duplicate creates");
    let (_, creates, _) = target.calls();
    assert_eq!(creates, 5, "each supplier created exactly once");
    let rows = store.query(&AuditQuery::tenant(A)).await.unwrap();
    for i in 1..=5 {
        let mine: Vec<_> = rows
            .iter()
            .filter(|e| e.source.id == format!("V{i}"))
            .collect();
        assert_eq!(
            mine.iter()
                .filter(|e| e.status == AuditStatus::Succeeded)
                .count(),
            1,
            "V{i}: one success, no loss: {mine:?}"
        );
        assert!(
            mine.iter().all(|e| !e.status.is_open()),
            "V{i}: nothing left open"
        );
    }
    assert!(store.load_checkpoint(&key).await.unwrap().cursor.is_some());

    // And a third run has nothing left to do.
    let run = RunContext::new(Arc::new(store.clone()), clock.shared(), A);
    runner.run_window(&run, None).await.unwrap();
    assert_eq!(target.calls().1, 5);
    assert_eq!(
        store.query(&AuditQuery::tenant(A)).await.unwrap(),
        rows,
        "nothing new to record"
    );
}

// ---------------------------------------------------------------------------------------------
// The operator audit queries (SQL stores).

async fn seed_search<S: SyncStore>(s: &S) -> Vec<AuditEntry> {
    let sup = StreamId::suppliers();
    let mut rows = Vec::new();
    for i in 0..25 {
        let status = match i % 5 {
            0 => AuditStatus::Failed,
            1 => AuditStatus::Pending,
            _ => AuditStatus::Succeeded,
        };
        rows.push(AuditEntry {
            target_id: Some(format!("T{}", i % 3)),
            ..entry(
                A,
                sup.clone(),
                "run-1",
                &format!("run-1-{i:02}"),
                &format!("V{}", i % 4),
                status,
                at(i * 60),
            )
        });
    }
    rows.push(entry(
        B,
        sup.clone(),
        "run-1",
        "run-1-b",
        "V0",
        AuditStatus::Failed,
        at(0),
    ));
    s.commit_window(commit(&key(A, sup.clone()), None, rows.clone()))
        .await
        .unwrap();
    rows
}

async fn search_filters_pages_and_exports<S: SyncStore + AuditSearch + Clone>(s: &S) {
    let seeded = seed_search(s).await;
    // What the store holds: the seeded rows, with the open rows that a later success of the
    // same record resolved marked so (the commit does that).
    let stored = s.query(&AuditQuery::tenant(A)).await.unwrap();
    assert_eq!(stored.len(), 25);
    assert!(stored.iter().any(|e| e.status == AuditStatus::Resolved));
    assert_eq!(ids(&stored), ids(&seeded[..25]));
    let a_rows: Vec<&AuditEntry> = stored.iter().collect();
    let all = |f: AuditFilter| {
        let s = s.clone();
        async move {
            ids(&s
                .search(&f, PageRequest::first(1000))
                .await
                .unwrap()
                .entries)
        }
    };
    let expect = |pred: &dyn Fn(&AuditEntry) -> bool| -> Vec<String> {
        a_rows
            .iter()
            .filter(|e| pred(e))
            .map(|e| e.id.0.clone())
            .collect()
    };
    assert_eq!(all(AuditFilter::tenant(A)).await, expect(&|_| true));
    assert_eq!(all(AuditFilter::tenant(B)).await, ["run-1-b"]);
    assert_eq!(
        all(AuditFilter::tenant(A).source_id("V1")).await,
        expect(&|e| e.source.id == "V1")
    );
    assert_eq!(
        all(AuditFilter::tenant(A).target_id("T2")).await,
        expect(&|e| e.target_id.as_deref() == Some("T2"))
    );
    assert_eq!(
        all(AuditFilter::tenant(A).started_between(at(300), at(600))).await,
        expect(&|e| e.started_at >= at(300) && e.started_at < at(600))
    );
    assert_eq!(
        all(AuditFilter::tenant(A).started_between(at(300), at(600)))
            .await
            .len(),
        5
    );
    assert_eq!(
        all(AuditFilter::tenant(A)
            .statuses(&[AuditStatus::Failed])
            .source_id("V0"))
        .await,
        expect(&|e| e.status == AuditStatus::Failed && e.source.id == "V0")
    );
    assert_eq!(
        all(AuditFilter::tenant(A)
            .run(RunId("run-1".into()))
            .stream(StreamId::purchase_orders()))
        .await,
        Vec::<String>::new()
    );

    // Pages of 10: 10, 10, 5, each exactly once, in order.
    let mut seen = Vec::new();
    let mut page = PageRequest::first(10);
    let mut sizes = Vec::new();
    loop {
        let got = s.search(&AuditFilter::tenant(A), page).await.unwrap();
        sizes.push(got.entries.len());
        seen.extend(ids(&got.entries));
        match got.next {
            Some(next) => page = next,
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(seen, expect(&|_| true));
    // A page that ends exactly at the last row says there is no next one.
    let exact = s
        .search(&AuditFilter::tenant(A), PageRequest::first(25))
        .await
        .unwrap();
    assert_eq!((exact.entries.len(), exact.next), (25, None));

    // JSON lines, read back equal to the entries.
    let mut out = Vec::new();
    let n = s
        .export_jsonl(&AuditFilter::tenant(A).source_id("V2"), &mut out, 2)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let back: Vec<AuditEntry> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(n as usize, back.len());
    let wanted: Vec<AuditEntry> = a_rows
        .iter()
        .filter(|e| e.source.id == "V2")
        .map(|e| (*e).clone())
        .collect();
    assert_eq!(back, wanted);

    // Run summary.
    let counts = s.status_counts(A, &RunId("run-1".into())).await.unwrap();
    let count = |st: AuditStatus| a_rows.iter().filter(|e| e.status == st).count() as u64;
    assert_eq!(counts.get(&AuditStatus::Succeeded), Some(&15));
    for st in [
        AuditStatus::Failed,
        AuditStatus::Pending,
        AuditStatus::Resolved,
    ] {
        assert_eq!(counts.get(&st).copied().unwrap_or(0), count(st), "{st:?}");
    }
    assert_eq!(counts.values().sum::<u64>(), 25);
    assert_eq!(counts.get(&AuditStatus::Conflict), None);
    assert_eq!(
        s.status_counts(B, &RunId("run-1".into()))
            .await
            .unwrap()
            .get(&AuditStatus::Failed),
        Some(&1)
    );
}

async fn retention_keeps_open_rows_unless_asked<S: SyncStore + AuditSearch + Clone>(
    s: &S,
    clock: &ManualClock,
) {
    let sup = StreamId::suppliers();
    let k = key(A, sup.clone());
    let old = at(0);
    let recent = at(0) + Duration::days(35);
    let rows = vec![
        entry(
            A,
            sup.clone(),
            "r",
            "old-ok",
            "V1",
            AuditStatus::Succeeded,
            old,
        ),
        entry(
            A,
            sup.clone(),
            "r",
            "old-failed",
            "V2",
            AuditStatus::Failed,
            old,
        ),
        entry(
            A,
            sup.clone(),
            "r",
            "old-pending",
            "V3",
            AuditStatus::Pending,
            old,
        ),
        entry(
            A,
            sup.clone(),
            "r",
            "old-fixed",
            "V4",
            AuditStatus::Failed,
            old,
        ),
        entry(
            A,
            sup.clone(),
            "r",
            "fix",
            "V4",
            AuditStatus::Succeeded,
            recent,
        ),
        entry(
            A,
            sup.clone(),
            "r",
            "new-ok",
            "V5",
            AuditStatus::Succeeded,
            recent,
        ),
        entry(
            B,
            sup.clone(),
            "r",
            "b-old-ok",
            "V1",
            AuditStatus::Succeeded,
            old,
        ),
    ];
    s.commit_window(commit(&k, None, rows)).await.unwrap();
    clock.set(at(0) + Duration::days(40));
    let remaining = |tenant: &'static str| {
        let s = s.clone();
        async move {
            ids(&s
                .search(&AuditFilter::tenant(tenant), PageRequest::first(100))
                .await
                .unwrap()
                .entries)
        }
    };
    // Only tenant A, 30 days: the old success and the old resolved failure go.
    let policy = Retention {
        tenant: Some(A.into()),
        ..Retention::finished_older_than(30)
    };
    assert_eq!(s.apply_retention(&policy).await.unwrap(), 2);
    assert_eq!(
        remaining(A).await,
        ["old-failed", "old-pending", "fix", "new-ok"]
    );
    assert_eq!(remaining(B).await, ["b-old-ok"]);
    // Asked explicitly: unresolved ones go too. Everyone, 30 days.
    let all = Retention {
        include_open: true,
        ..Retention::finished_older_than(30)
    };
    assert_eq!(s.apply_retention(&all).await.unwrap(), 3);
    assert_eq!(remaining(A).await, ["fix", "new-ok"]);
    assert!(remaining(B).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Wiring: each case against each backend.

macro_rules! conformance {
    ($module:ident, $backend:ident: $($case:ident),* $(,)?) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let clock = ManualClock::new(t0());
                    let b = <super::$backend as Backend>::open(clock.shared()).await;
                    super::$case(&b).await;
                    b.finish().await;
                }
            )*
        }
    };
}

macro_rules! all_cases {
    ($module:ident, $backend:ident) => {
        conformance!($module, $backend:
            fences_increase_per_stream,
            commit_round_trips_everything,
            stale_fence_writes_nothing,
            success_resolves_earlier_open_rows_of_the_record,
            query_filters,
            cross_refs_gl_and_checkpoints_are_per_tenant,
            crash_between_audit_write_and_commit_converges,
            versions_keep_the_newest_per_tenant_and_document,
        );
    };
}

all_cases!(memory, Memory);
all_cases!(sqlite, Sqlite);
all_cases!(postgres, Postgres);

mod search_sqlite {
    use super::*;

    #[tokio::test]
    async fn filters_pages_and_exports() {
        let clock = ManualClock::new(t0());
        let (s, _dir) = sqlite_store(clock.shared()).await;
        search_filters_pages_and_exports(&s).await;
    }

    #[tokio::test]
    async fn retention() {
        let clock = ManualClock::new(t0());
        let (s, _dir) = sqlite_store(clock.shared()).await;
        retention_keeps_open_rows_unless_asked(&s, &clock).await;
    }
}

mod search_postgres {
    use super::*;

    #[tokio::test]
    async fn filters_pages_and_exports() {
        let clock = ManualClock::new(t0());
        let s = pg_store(clock.shared()).await;
        search_filters_pages_and_exports(&s).await;
        s.drop_schema().await.unwrap();
    }

    #[tokio::test]
    async fn retention() {
        let clock = ManualClock::new(t0());
        let s = pg_store(clock.shared()).await;
        retention_keeps_open_rows_unless_asked(&s, &clock).await;
        s.drop_schema().await.unwrap();
    }
}
