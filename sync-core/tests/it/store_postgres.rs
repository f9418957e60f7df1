//! PostgreSQL-only behaviour: job leases for many workers, takeover of a stalled or crashed
//! worker with its late commit rejected, tenant isolation and the connection settings. Runs
//! against the machine's PostgreSQL (`DATABASE_URL`), each test in its own schema.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

use crate::store_support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::Duration;
use store_support::*;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner};
use sync_core::error::{MappingKind, StoreError, SyncError};
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{ContentHash, PartyStatus, RecordKind, Supplier};
use sync_core::store::postgres::{PgConfig, PgStore};
use sync_core::store::sql::{AuditFilter, AuditSearch, PageRequest};
use sync_core::store::{
    AuditQuery, AuditStatus, AuditStore, Checkpoint, CheckpointStore, CrossRef, CrossRefStore,
    EntryId, GlMapping, GlMappingStore, RunId, StreamId, StreamKey, SyncStore, VersionStore,
    WindowCommit,
};
use sync_core::testing::{MemorySource, MemorySupplierTarget};
use sync_core::time::ManualClock;

/// Per job: (worker, run number) in the order the runs committed.
type RunLog = HashMap<StreamKey, Vec<(String, i64)>>;

fn streams() -> [StreamId; 4] {
    [
        StreamId::gl_accounts(),
        StreamId::suppliers(),
        StreamId::purchase_orders(),
        StreamId::supplier_invoices(),
    ]
}

fn cursor_after(runs: i64) -> Checkpoint {
    Checkpoint {
        cursor: Some(at(runs * 60)),
        ..Checkpoint::default()
    }
}

/// 4 workers share 50 tenants × 4 streams; each job must run twice. Every job runs, never on
/// two workers at once, and its checkpoint only moves forward.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_workers_fifty_tenants_four_streams() {
    const RUNS: i64 = 2;
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let keys: Vec<StreamKey> = (0..50)
        .flat_map(|t| streams().map(|s| StreamKey::new(format!("T{t:02}"), s)))
        .collect();
    assert_eq!(store.register_jobs(&keys).await.unwrap(), 200);
    assert_eq!(store.register_jobs(&keys).await.unwrap(), 0, "idempotent");

    let active: Arc<Mutex<HashSet<StreamKey>>> = Arc::default();
    let runs: Arc<Mutex<RunLog>> = Arc::default();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let worker = store.worker(format!("w{w}"));
        let (active, runs) = (active.clone(), runs.clone());
        tasks.push(tokio::spawn(async move {
            while let Some(lease) = worker.claim().await.unwrap() {
                let key = lease.key.clone();
                assert!(
                    active.lock().unwrap().insert(key.clone()),
                    "{key} claimed by {} while another worker runs it",
                    worker.worker_name()
                );
                // What the engine does at a window start.
                let fence = worker.acquire_fence(&key).await.unwrap();
                assert!(fence > lease.fence);
                let checkpoint = worker.load_checkpoint(&key).await.unwrap();
                let done = checkpoint.cursor.map_or(0, |c| (c - t0()).num_minutes());
                let last_seen = runs
                    .lock()
                    .unwrap()
                    .get(&key)
                    .and_then(|r| r.last().map(|(_, n)| *n))
                    .unwrap_or(0);
                assert_eq!(done, last_seen, "{key}: checkpoint regressed or skipped");
                tokio::task::yield_now().await;
                worker.renew(&key).await.unwrap();
                let next = done + 1;
                let row = entry(
                    &key.tenant,
                    key.stream.clone(),
                    &format!("{}-run{next}", worker.worker_name()),
                    &format!("{key}-{next}"),
                    &format!("R{next}"),
                    AuditStatus::Succeeded,
                    at(next * 60),
                );
                worker
                    .commit_window(WindowCommit {
                        key: key.clone(),
                        checkpoint: Some(cursor_after(next)),
                        entries: vec![row],
                        gl_mapping: None,
                        fence: Some(fence),
                    })
                    .await
                    .unwrap();
                runs.lock()
                    .unwrap()
                    .entry(key.clone())
                    .or_default()
                    .push((worker.worker_name().to_owned(), next));
                active.lock().unwrap().remove(&key);
                let due = if next < RUNS {
                    t0()
                } else {
                    t0() + Duration::days(1)
                };
                worker.release(&key, due).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 200, "every job ran");
    let mut workers_used = HashSet::new();
    for key in &keys {
        let mine = &runs[key];
        assert_eq!(
            mine.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            [1, 2],
            "{key}"
        );
        workers_used.extend(mine.iter().map(|(w, _)| w.clone()));
        assert_eq!(
            store.load_checkpoint(key).await.unwrap(),
            cursor_after(RUNS)
        );
        let job = store.job_state(key).await.unwrap().unwrap();
        assert_eq!(
            (job.holder, job.lease_until),
            (None, None),
            "{key} released"
        );
    }
    assert!(workers_used.len() >= 2, "work was shared: {workers_used:?}");
    let total: usize = {
        let mut n = 0;
        for t in 0..50 {
            n += store
                .query(&AuditQuery::tenant(format!("T{t:02}")))
                .await
                .unwrap()
                .len();
        }
        n
    };
    assert_eq!(total, 400, "one audit row per run, none lost or doubled");
    assert_eq!(store.claim().await.unwrap(), None, "nothing due");
    store.drop_schema().await.unwrap();
}

/// Jobs that share an affinity (one Cin7 account) are held by one worker at a time: while A
/// holds one, B claims only other affinities' jobs, A may take more of its own, and B gets
/// them once A released them all or its leases expired.
#[tokio::test]
async fn jobs_of_one_affinity_are_held_by_one_worker_at_a_time() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let x: Vec<StreamKey> = ["X1", "X2"]
        .iter()
        .flat_map(|t| {
            [
                StreamKey::new(*t, StreamId::suppliers()),
                StreamKey::new(*t, StreamId::purchase_orders()),
            ]
        })
        .collect();
    let y = StreamKey::new("Y1", StreamId::suppliers());
    assert_eq!(
        store.register_affine_jobs(&x, "account-x").await.unwrap(),
        4
    );
    assert_eq!(
        store
            .register_affine_jobs(std::slice::from_ref(&y), "account-y")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.register_affine_jobs(&x, "account-x").await.unwrap(),
        0,
        "idempotent"
    );
    let (a, b) = (store.worker("a"), store.worker("b"));

    let first = a.claim().await.unwrap().unwrap();
    assert!(first.key.tenant.starts_with('X'), "{first:?}");
    let other = b.claim().await.unwrap().unwrap();
    assert_eq!(
        other.key, y,
        "B skips account X while A holds one of its jobs"
    );
    assert_eq!(b.claim().await.unwrap(), None, "nothing else B may take");
    let second = a.claim().await.unwrap().unwrap();
    assert!(
        second.key.tenant.starts_with('X'),
        "A takes more of its own account"
    );

    // A releases both; B may now take account X.
    a.release(&first.key, t0()).await.unwrap();
    assert_eq!(
        b.claim().await.unwrap(),
        None,
        "A still holds one job of account X"
    );
    a.release(&second.key, t0()).await.unwrap();
    let taken = b.claim().await.unwrap().unwrap();
    assert!(taken.key.tenant.starts_with('X'));

    // B dies holding it: once its leases expire, A takes the account back.
    assert_eq!(a.claim().await.unwrap(), None);
    clock.advance(StdDuration::from_secs(31));
    assert!(
        a.claim()
            .await
            .unwrap()
            .is_some_and(|l| l.key.tenant.starts_with('X'))
    );

    // A tenant taken out of the fleet: its free jobs go, a held one stays with its holder.
    let held_by_a = a.held_leases();
    let removed = store.remove_jobs("X1").await.unwrap() + store.remove_jobs("X2").await.unwrap();
    assert_eq!(removed as usize, 4 - held_by_a.len());
    store.drop_schema().await.unwrap();
}

/// Worker A stops renewing mid-job. Once its lease expires B takes the job over, continues from
/// the last checkpoint A committed, and everything A tries afterwards is rejected.
#[tokio::test]
async fn stalled_worker_is_taken_over_and_its_late_commit_rejected() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let key = StreamKey::new("ACME", StreamId::suppliers());
    store
        .register_jobs(std::slice::from_ref(&key))
        .await
        .unwrap();
    let (a, b) = (store.worker("a"), store.worker("b"));

    let lease_a = a.claim().await.unwrap().unwrap();
    assert_eq!(lease_a.expires_at, t0() + Duration::seconds(30));
    let f1 = a.acquire_fence(&key).await.unwrap();
    let first = entry(
        "ACME",
        StreamId::suppliers(),
        "a1",
        "a1-1",
        "V1",
        AuditStatus::Succeeded,
        at(1),
    );
    a.commit_window(WindowCommit {
        key: key.clone(),
        checkpoint: Some(cursor_after(1)),
        entries: vec![first],
        gl_mapping: None,
        fence: Some(f1),
    })
    .await
    .unwrap();
    clock.advance(StdDuration::from_secs(20));
    a.renew(&key).await.unwrap();
    let f2 = a.acquire_fence(&key).await.unwrap();
    // A stalls here (no renewal) while B polls.
    clock.advance(StdDuration::from_secs(29));
    assert_eq!(
        b.claim().await.unwrap(),
        None,
        "A's renewed lease still runs"
    );
    clock.advance(StdDuration::from_secs(2));
    let lease_b = b
        .claim()
        .await
        .unwrap()
        .expect("expired lease is claimable");
    assert_eq!(lease_b.key, key);
    assert!(lease_b.fence > f2);

    // A wakes up: renewing, starting a window and committing all fail.
    let renew = a.renew(&key).await.unwrap_err();
    assert!(matches!(renew, StoreError::Fenced { current, .. } if current == lease_b.fence.0));
    let late = entry(
        "ACME",
        StreamId::suppliers(),
        "a2",
        "a2-1",
        "V2",
        AuditStatus::Succeeded,
        at(2),
    );
    let err = a
        .commit_window(WindowCommit {
            key: key.clone(),
            checkpoint: Some(cursor_after(99)),
            entries: vec![late.clone()],
            gl_mapping: Some(GlMapping::default()),
            fence: Some(f2),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Fenced {
            stream: key.to_string(),
            presented: f2.0,
            current: lease_b.fence.0
        }
    );
    assert_eq!(
        store.entry(&late.id).await.unwrap(),
        None,
        "nothing of the late commit"
    );
    assert_eq!(store.gl_mapping("ACME").await.unwrap(), None);

    // B resumes from A's last committed checkpoint.
    assert_eq!(b.load_checkpoint(&key).await.unwrap(), cursor_after(1));
    let fb = b.acquire_fence(&key).await.unwrap();
    b.commit_window(WindowCommit {
        key: key.clone(),
        checkpoint: Some(cursor_after(2)),
        entries: vec![],
        gl_mapping: None,
        fence: Some(fb),
    })
    .await
    .unwrap();
    let job = store.job_state(&key).await.unwrap().unwrap();
    assert_eq!(job.holder.as_deref(), Some("b"));
    assert_eq!(job.fence, fb);
    // A's release is refused too; B's works.
    assert!(a.release(&key, t0()).await.is_err());
    b.release(&key, at(600)).await.unwrap();
    assert_eq!(
        store.job_state(&key).await.unwrap().unwrap().next_due,
        Some(at(600))
    );
    store.drop_schema().await.unwrap();
}

/// An expired lease that nobody took over yet still cannot commit: it could be taken over at
/// any moment.
#[tokio::test]
async fn expired_lease_cannot_commit_even_before_takeover() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let key = StreamKey::new("ACME", StreamId::purchase_orders());
    store
        .register_jobs(std::slice::from_ref(&key))
        .await
        .unwrap();
    let a = store.worker("a");
    a.claim().await.unwrap().unwrap();
    let fence = a.acquire_fence(&key).await.unwrap();
    clock.advance(StdDuration::from_secs(31));
    let err = a
        .commit_window(WindowCommit {
            key: key.clone(),
            checkpoint: Some(cursor_after(1)),
            entries: vec![],
            gl_mapping: None,
            fence: Some(fence),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Fenced { presented, .. } if presented == fence.0));
    assert_eq!(
        store.load_checkpoint(&key).await.unwrap(),
        Checkpoint::default()
    );
    // Starting another window does not win the stream back either, however often it is tried.
    for _ in 0..2 {
        assert!(matches!(
            a.acquire_fence(&key).await.unwrap_err(),
            StoreError::Fenced { .. }
        ));
    }
    // Nor does a worker that never claimed it.
    assert!(matches!(
        store.worker("c").acquire_fence(&key).await.unwrap_err(),
        StoreError::Fenced { presented: 0, .. }
    ));
    store.drop_schema().await.unwrap();
}

fn supplier(id: &str) -> Supplier {
    Supplier {
        identity: ident("ACME", id),
        vendor_id: id.to_owned(),
        name: format!("Supplier {id}"),
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

/// The engine on leased workers: A runs a window and dies without releasing; B gets the job
/// only after the lease expires, and its window resumes from A's checkpoint (only the record
/// changed since is written). A's engine, coming back, is fenced out.
#[tokio::test]
async fn crashed_worker_job_resumes_from_its_checkpoint_on_another_worker() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let key = StreamKey::new("ACME", StreamId::suppliers());
    store
        .register_jobs(std::slice::from_ref(&key))
        .await
        .unwrap();
    let source = MemorySource::new(t0());
    for i in 1..=3 {
        source.upsert(supplier(&format!("V{i}")));
    }
    let target = MemorySupplierTarget::new();
    let mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::TaxRule, "STD", "GST on Expenses"),
    );
    let pipeline = Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings));
    let runner = StreamRunner::new(pipeline, Arc::new(source.clone()), EngineConfig::default());

    let a = store.worker("a");
    a.claim().await.unwrap().unwrap();
    let run_a = RunContext::new(Arc::new(a.clone()), clock.shared(), "ACME");
    assert_eq!(runner.run_window(&run_a, None).await.unwrap().succeeded, 3);
    let cursor_a = store.load_checkpoint(&key).await.unwrap().cursor;
    assert!(cursor_a.is_some());
    // A dies here: no release, no renewal.

    clock.advance(StdDuration::from_secs(120));
    source.set_server_time(t0() + Duration::seconds(120));
    source.upsert(Supplier {
        modified_at: t0() + Duration::seconds(60),
        ..supplier("V4")
    });
    let b = store.worker("b");
    b.claim().await.unwrap().expect("expired job is picked up");
    let run_b = RunContext::new(Arc::new(b.clone()), clock.shared(), "ACME");
    let report = runner.run_window(&run_b, None).await.unwrap();
    assert_eq!(report.succeeded, 1, "only the new record: {report:?}");
    assert_eq!(target.calls().1, 4, "no record created twice");
    assert!(store.load_checkpoint(&key).await.unwrap().cursor > cursor_a);

    for _ in 0..2 {
        let stale = runner.run_window(&run_a, None).await.unwrap_err();
        assert!(
            matches!(stale, SyncError::Store(StoreError::Fenced { .. })),
            "{stale}"
        );
    }
    assert_eq!(
        store
            .job_state(&key)
            .await
            .unwrap()
            .unwrap()
            .holder
            .as_deref(),
        Some("b"),
        "A did not take the job back"
    );
    store.drop_schema().await.unwrap();
}

/// Two tenants with the same record ids, entry ids, streams and runs never see each other.
#[tokio::test]
async fn tenants_are_isolated() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let sup = StreamId::suppliers();
    for (tenant, status, target) in [
        ("ALPHA", AuditStatus::Failed, "TA"),
        ("BETA", AuditStatus::Succeeded, "TB"),
    ] {
        let key = StreamKey::new(tenant, sup.clone());
        let row = sync_core::store::AuditEntry {
            target_id: Some(target.into()),
            ..entry(tenant, sup.clone(), "run-1", "run-1-1", "V1", status, at(1))
        };
        store
            .commit_window(WindowCommit {
                key,
                checkpoint: Some(Checkpoint {
                    cursor: Some(at(if tenant == "ALPHA" { 10 } else { 20 })),
                    ..Checkpoint::default()
                }),
                entries: vec![row],
                gl_mapping: Some(GlMapping {
                    accounts: BTreeMap::from([("6100".into(), format!("{tenant}-6100"))]),
                    ..GlMapping::default()
                }),
                fence: None,
            })
            .await
            .unwrap();
        store
            .put_cross_ref(
                tenant,
                &CrossRef {
                    kind: RecordKind::Supplier,
                    source: ident("SHARED", "V1"),
                    target_id: target.into(),
                    aux: BTreeMap::new(),
                    synced_hash: Some(ContentHash(tenant.into())),
                    synced_modified_at: None,
                },
            )
            .await
            .unwrap();
    }
    let id = EntryId("run-1-1".into());
    let alpha = store.entry_for("ALPHA", &id).await.unwrap().unwrap();
    let beta = store.entry_for("BETA", &id).await.unwrap().unwrap();
    assert_eq!(
        (alpha.tenant.as_str(), alpha.status),
        ("ALPHA", AuditStatus::Failed)
    );
    assert_eq!(
        (beta.tenant.as_str(), beta.status),
        ("BETA", AuditStatus::Succeeded)
    );
    assert_eq!(store.entry_for("GAMMA", &id).await.unwrap(), None);

    for (tenant, target) in [("ALPHA", "TA"), ("BETA", "TB")] {
        let rows = store.query(&AuditQuery::tenant(tenant)).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows.iter().all(|e| e.tenant == tenant));
        let found = store
            .search(
                &AuditFilter::tenant(tenant).source_id("V1"),
                PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(found.entries.len(), 1);
        assert_eq!(found.entries[0].target_id.as_deref(), Some(target));
        let other_target = if target == "TA" { "TB" } else { "TA" };
        let none = store
            .search(
                &AuditFilter::tenant(tenant).target_id(other_target),
                PageRequest::first(10),
            )
            .await
            .unwrap();
        assert!(none.entries.is_empty());
        let counts = store
            .status_counts(tenant, &RunId("run-1".into()))
            .await
            .unwrap();
        assert_eq!(counts.values().sum::<u64>(), 1);
        let xref = store
            .cross_ref(tenant, RecordKind::Supplier, &ident("SHARED", "V1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(xref.target_id, target);
        let gl = store.gl_mapping(tenant).await.unwrap().unwrap();
        assert_eq!(gl.accounts["6100"], format!("{tenant}-6100"));
    }
    // BETA's success did not resolve ALPHA's failure of the "same" record.
    assert_eq!(
        store
            .entry_for("ALPHA", &id)
            .await
            .unwrap()
            .unwrap()
            .resolved_by,
        None
    );
    assert_eq!(
        store
            .load_checkpoint(&StreamKey::new("ALPHA", sup.clone()))
            .await
            .unwrap()
            .cursor,
        Some(at(10))
    );
    assert_eq!(
        store
            .load_checkpoint(&StreamKey::new("BETA", sup))
            .await
            .unwrap()
            .cursor,
        Some(at(20))
    );
    store.drop_schema().await.unwrap();
}

#[tokio::test]
async fn config_is_checked_and_the_url_stays_secret() {
    let clock = ManualClock::new(t0());
    let config = PgConfig::new("postgres://sync:hunter2@127.0.0.1:1/nope").schema("bad-name; DROP");
    assert!(!format!("{config:?}").contains("hunter2"));
    let err = PgStore::connect(config, clock.shared()).await.unwrap_err();
    assert!(err.to_string().contains("invalid schema name"), "{err}");
    let err = PgStore::connect(
        PgConfig::new("postgres://sync:hunter2@127.0.0.1:1/nope")
            .schema("ok")
            .connect_timeout(StdDuration::from_millis(300)),
        clock.shared(),
    )
    .await
    .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(
        err.is_retryable(),
        "a refused connection may succeed later: {err}"
    );
    let err = PgStore::connect(PgConfig::new("not a url hunter2"), clock.shared())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_schema_from_a_newer_version_is_refused() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    assert_eq!(
        store.schema_version().await.unwrap(),
        PgStore::SCHEMA_VERSION
    );
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (999, 'from the future', true, '\\x00', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let err = PgStore::connect(
        PgConfig::new(pg_url()).schema(store.schema()),
        clock.shared(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("version 999, newer"), "{err}");
    store.drop_schema().await.unwrap();
}

/// Moving from SQLite: everything is copied in order, jobs are registered, and running the
/// import again copies nothing twice.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn import_from_sqlite_copies_everything_once() {
    use sync_core::store::postgres::ImportReport;

    let clock = ManualClock::new(t0());
    let (lite, _dir) = sqlite_store(clock.shared()).await;
    let sup = StreamId::suppliers();
    let key = StreamKey::new("ACME", sup.clone());
    let fence = lite.acquire_fence(&key).await.unwrap();
    let rows = vec![
        entry(
            "ACME",
            sup.clone(),
            "r1",
            "r1-1",
            "V1",
            AuditStatus::Failed,
            at(1),
        ),
        entry(
            "ACME",
            sup.clone(),
            "r1",
            "r1-2",
            "V2",
            AuditStatus::Pending,
            at(2),
        ),
        entry(
            "ACME",
            sup.clone(),
            "r2",
            "r2-1",
            "V1",
            AuditStatus::Succeeded,
            at(3),
        ),
        entry(
            "OTHER",
            sup.clone(),
            "r3",
            "r3-1",
            "V9",
            AuditStatus::Conflict,
            at(4),
        ),
    ];
    let checkpoint = Checkpoint {
        cursor: Some(at(60)),
        ids_at_cursor: ["V2".to_owned()].into(),
        last_run: Some(at(61)),
        last_full_scan: Some(at(30)),
    };
    lite.commit_window(WindowCommit {
        key: key.clone(),
        checkpoint: Some(checkpoint.clone()),
        entries: rows,
        gl_mapping: Some(GlMapping {
            accounts: BTreeMap::from([("6100".into(), "6100".into())]),
            ..GlMapping::default()
        }),
        fence: Some(fence),
    })
    .await
    .unwrap();
    let xref = CrossRef {
        kind: RecordKind::Supplier,
        source: ident("ACME", "V1"),
        target_id: "cin7-1".into(),
        aux: BTreeMap::new(),
        synced_hash: Some(ContentHash("h".into())),
        synced_modified_at: Some(at(1)),
    };
    lite.put_cross_ref("ACME", &xref).await.unwrap();
    lite.note_version("ACME", "SupplierPartyMaster|MAIN|V1", 7)
        .await
        .unwrap();
    lite.acquire_fence(&StreamKey::new("OTHER", sup.clone()))
        .await
        .unwrap();

    let pg = pg_store(clock.shared()).await;
    let report = pg.import_sqlite(&lite).await.unwrap();
    assert_eq!(
        report,
        ImportReport {
            audit_entries: 4,
            checkpoints: 1,
            cross_refs: 1,
            gl_mappings: 1,
            source_versions: 1,
            jobs: 2
        }
    );
    assert_eq!(
        pg.note_version("ACME", "SupplierPartyMaster|MAIN|V1", 3)
            .await
            .unwrap(),
        7,
        "the newest version seen came along"
    );
    for tenant in ["ACME", "OTHER"] {
        assert_eq!(
            pg.query(&AuditQuery::tenant(tenant)).await.unwrap(),
            lite.query(&AuditQuery::tenant(tenant)).await.unwrap(),
            "{tenant}: same rows, same order, same statuses"
        );
    }
    let resolved = pg.entry(&EntryId("r1-1".into())).await.unwrap().unwrap();
    assert_eq!(resolved.status, AuditStatus::Resolved);
    assert_eq!(pg.load_checkpoint(&key).await.unwrap(), checkpoint);
    assert_eq!(
        pg.cross_ref("ACME", RecordKind::Supplier, &xref.source)
            .await
            .unwrap(),
        Some(xref)
    );
    assert_eq!(
        pg.gl_mapping("ACME").await.unwrap(),
        lite.gl_mapping("ACME").await.unwrap()
    );
    // The imported jobs are due at once; the first worker resumes from the checkpoint.
    let worker = pg.worker("w");
    let lease = worker.claim().await.unwrap().unwrap();
    assert_eq!(lease.key, key);
    assert_eq!(
        worker.load_checkpoint(&lease.key).await.unwrap(),
        checkpoint
    );

    assert_eq!(
        pg.import_sqlite(&lite).await.unwrap(),
        ImportReport::default()
    );
    assert_eq!(
        pg.query(&AuditQuery::tenant("ACME")).await.unwrap().len(),
        3
    );
    pg.drop_schema().await.unwrap();
}

/// The keeper renews the lease across (virtual) time so nobody else can claim the job; when
/// the job is taken over anyway its signal fires, and the window it guards stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_keeper_renews_and_signals_loss() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let key = StreamKey::new("ACME", StreamId::suppliers());
    store
        .register_jobs(std::slice::from_ref(&key))
        .await
        .unwrap();
    let a = store.worker("a");
    a.claim().await.unwrap().unwrap();
    let keeper = a.keep_alive(&key);
    assert_eq!(keeper.key(), &key);

    // Each renewal waits a third of the lease on the manual clock, which moves time on.
    let renewed_far = async {
        loop {
            let job = store.job_state(&key).await.unwrap().unwrap();
            if job.lease_until.unwrap() > t0() + Duration::minutes(10) {
                return job;
            }
            tokio::time::sleep(StdDuration::from_millis(2)).await;
        }
    };
    let job = tokio::time::timeout(StdDuration::from_secs(20), renewed_far)
        .await
        .expect("the keeper renews");
    assert_eq!(job.holder.as_deref(), Some("a"));
    assert!(!keeper.is_lost());
    assert_eq!(store.worker("b").claim().await.unwrap(), None, "still held");
    assert!(
        clock
            .sleeps()
            .iter()
            .all(|s| *s == StdDuration::from_secs(10))
    );

    // An operator takes the stream over with a direct handle.
    store.acquire_fence(&key).await.unwrap();
    tokio::time::timeout(StdDuration::from_secs(20), keeper.lost_signal().wait())
        .await
        .expect("the keeper notices the loss");
    assert!(keeper.is_lost());
    assert!(matches!(
        a.acquire_fence(&key).await.unwrap_err(),
        StoreError::Fenced { .. }
    ));
    drop(keeper);
    store.drop_schema().await.unwrap();
}

/// Many workers starting at once against a new schema: one creates and migrates it, the others
/// wait for the migration lock and find it done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_starting_together_share_one_schema() {
    let clock = ManualClock::new(t0());
    let schema = fresh_schema();
    let mut starting = Vec::new();
    for _ in 0..6 {
        let (schema, clock) = (schema.clone(), clock.shared());
        starting.push(tokio::spawn(async move {
            PgStore::connect(
                PgConfig::new(pg_url()).schema(schema).max_connections(2),
                clock,
            )
            .await
        }));
    }
    let mut stores = Vec::new();
    for s in starting {
        stores.push(s.await.unwrap().unwrap());
    }
    for s in &stores {
        assert_eq!(s.schema_version().await.unwrap(), PgStore::SCHEMA_VERSION);
    }
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(stores[0].pool())
        .await
        .unwrap();
    assert_eq!(
        applied,
        PgStore::SCHEMA_VERSION,
        "each migration applied once"
    );
    stores.pop().unwrap().drop_schema().await.unwrap();
}
