//! A fleet on PostgreSQL, small enough for CI: two worker processes (two fleets, each with its
//! own worker handle) serve six tenants on a virtual clock. Every supplier reaches its target
//! exactly once, no job ever runs on both, a backlog yields instead of holding a worker, the
//! jobs of one Cin7 account stay with one process at a time, and a process killed mid-job
//! is taken over once its leases expire — with nothing lost and nothing written twice.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, StreamRunner};
use sync_core::error::StoreError;
use sync_core::fleet::{Fleet, FleetTenant, Held, JobBoard, JobRun};
use sync_core::model::Supplier;
use sync_core::runner::{Shutdown, TenantRunner};
use sync_core::schedule::Cadence;
use sync_core::store::postgres::PgStore;
use sync_core::store::{AuditQuery, AuditStatus, AuditStore, StreamKey};
use sync_core::testing::{MemorySource, MemorySupplierTarget, Tripwire};
use sync_core::time::{Clock, ManualClock};

use crate::common::{config, mappings, supplier};
use crate::store_support::{pg_store, t0};

/// A worker process's board: the store's leases, not renewed in the background (time only
/// moves when the test moves it, so a lease ends exactly when the test says).
struct Leases(PgStore);

#[async_trait]
impl JobBoard for Leases {
    async fn register(&self, keys: &[StreamKey], affinity: &str) -> Result<(), StoreError> {
        JobBoard::register(&self.0, keys, affinity).await
    }
    async fn remove(&self, tenant: &str) -> Result<(), StoreError> {
        JobBoard::remove(&self.0, tenant).await
    }
    async fn claim(&self) -> Result<Option<StreamKey>, StoreError> {
        JobBoard::claim(&self.0).await
    }
    fn hold(&self, _key: &StreamKey) -> Held {
        Held::never_lost()
    }
    async fn release(&self, key: &StreamKey, next_due: DateTime<Utc>) -> Result<(), StoreError> {
        JobBoard::release(&self.0, key, next_due).await
    }
}

struct Tenant {
    name: String,
    account: String,
    source: MemorySource<Supplier>,
    target: MemorySupplierTarget,
    trip: Arc<Tripwire>,
}

/// One worker process: a fleet whose tenants write through its own worker handle.
fn process(
    store: &PgStore,
    name: &str,
    clock: &ManualClock,
    runs: &Arc<Mutex<Vec<(String, StreamKey)>>>,
) -> (Fleet, PgStore) {
    let worker = store.worker(name);
    let log = runs.clone();
    let who = name.to_owned();
    let fleet = Fleet::new(Arc::new(Leases(worker.clone())), clock.shared()).observe(Arc::new(
        move |run: &JobRun| {
            if run.result.is_some() {
                log.lock().unwrap().push((who.clone(), run.key.clone()));
            }
        },
    ));
    (fleet, worker)
}

async fn serve(fleet: &Fleet, worker: &PgStore, tenant: &Tenant, clock: &ManualClock) {
    let engine = EngineConfig {
        max_writes_per_window: Some(4),
        ..config()
    };
    let runner = TenantRunner::new(&tenant.name, Arc::new(worker.clone()), clock.shared())
        .with_suppliers(StreamRunner::new(
            Arc::new(SupplierPipeline::new(
                Arc::new(tenant.target.clone()),
                mappings(),
            )),
            Arc::new(tenant.source.clone()),
            engine,
        ));
    fleet
        .put_tenant(FleetTenant {
            runner: Arc::new(runner),
            cadence: Cadence::Interval(Duration::from_secs(60)),
            affinity: tenant.account.clone(),
        })
        .await
        .unwrap();
}

/// Both processes claim and run jobs, side by side, until neither finds one due.
async fn drain(fleets: &[&Fleet]) -> usize {
    let (_keep, shutdown) = Shutdown::new();
    let mut ran = 0;
    loop {
        let rounds = futures::future::join_all(fleets.iter().map(|f| f.run_one(&shutdown))).await;
        let done = rounds
            .into_iter()
            .filter(|r| matches!(r, Ok(Some(_))))
            .count();
        if done == 0 {
            return ran;
        }
        ran += done;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_six_tenants_lose_and_duplicate_nothing() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let runs = Arc::new(Mutex::new(Vec::new()));
    let (a, worker_a) = process(&store, "a", &clock, &runs);
    let (b, worker_b) = process(&store, "b", &clock, &runs);
    // Six tenants; T4 and T5 share one Cin7 account. Each has 10 vendors (a backlog: windows
    // yield after 4 writes).
    let tenants: Vec<Tenant> = (0..6)
        .map(|t| {
            let trip = Tripwire::new();
            let source = MemorySource::new(t0());
            for v in 0..10 {
                source.upsert(supplier(&format!("V{v}"), &format!("Vendor {t}-{v}"), t0()));
            }
            Tenant {
                name: format!("T{t}"),
                account: format!("account-{}", t.min(4)),
                source,
                target: MemorySupplierTarget::new().with_tripwire(trip.clone()),
                trip,
            }
        })
        .collect();
    for tenant in &tenants {
        serve(&a, &worker_a, tenant, &clock).await;
        serve(&b, &worker_b, tenant, &clock).await;
    }

    clock.advance(Duration::from_secs(10));
    let ran = drain(&[&a, &b]).await;
    assert!(
        ran >= 18,
        "10 vendors at 4 per window: 3 windows per tenant, got {ran}"
    );
    for tenant in &tenants {
        let names: Vec<String> = tenant
            .target
            .suppliers()
            .values()
            .map(|d| d.name.clone())
            .collect();
        assert_eq!(
            names.len(),
            10,
            "{}: every vendor, once: {names:?}",
            tenant.name
        );
    }
    let by_process = |who: &str| {
        runs.lock()
            .unwrap()
            .iter()
            .filter(|(w, _)| w == who)
            .count()
    };
    assert!(
        by_process("a") > 0 && by_process("b") > 0,
        "both processes worked"
    );

    // A change in T0; process B claims its job and is killed mid-write (the write never lands).
    clock.advance(Duration::from_secs(60));
    tenants[0]
        .source
        .upsert(supplier("V0", "Vendor 0-0 renamed", clock.now()));
    tenants[0].trip.arm(0);
    let (_keep, shutdown) = Shutdown::new();
    let killed = tokio::spawn({
        let b = b.clone();
        async move {
            loop {
                // B takes jobs until it takes T0's, which hangs at the write.
                if b.run_one(&shutdown).await.unwrap().is_none() {
                    break;
                }
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), tenants[0].trip.tripped())
        .await
        .expect("B reaches T0's write");
    killed.abort();
    // A finishes whatever else is due; T0's job stays B's until its lease (30 s) expires.
    drain(&[&a]).await;
    assert_eq!(
        tenants[0]
            .target
            .suppliers()
            .values()
            .filter(|d| d.name.ends_with("renamed"))
            .count(),
        0
    );
    clock.advance(Duration::from_secs(31));
    drain(&[&a]).await;
    let renamed: Vec<String> = tenants[0]
        .target
        .suppliers()
        .values()
        .filter(|d| d.name.ends_with("renamed"))
        .map(|d| d.name.clone())
        .collect();
    assert_eq!(
        renamed,
        ["Vendor 0-0 renamed"],
        "A took T0 over and wrote the change once"
    );
    assert_eq!(
        tenants[0].target.suppliers().len(),
        10,
        "nothing created twice"
    );

    // No job ever committed on both at once: every succeeded row is one write, none doubled.
    for tenant in &tenants {
        let rows = store
            .query(&AuditQuery::tenant(tenant.name.clone()).statuses(&[AuditStatus::Succeeded]))
            .await
            .unwrap();
        let mut per_record: BTreeMap<(String, String), usize> = BTreeMap::new();
        for row in rows.iter().filter(|r| r.target_id.is_some()) {
            *per_record
                .entry((row.source.id.clone(), row.content_hash.0.clone()))
                .or_default() += 1;
        }
        assert!(
            per_record.values().all(|n| *n == 1),
            "{}: a content written twice: {per_record:?}",
            tenant.name
        );
    }
    store.drop_schema().await.unwrap();
}

/// SIGTERM's path: `Fleet::run` stops claiming once shutdown is asked for, the job in flight
/// ends, and every lease is given back (no job is left held for its lease to expire).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_fleet_gives_its_jobs_back() {
    let clock = ManualClock::new(t0());
    let store = pg_store(clock.shared()).await;
    let runs = Arc::new(Mutex::new(Vec::new()));
    let (fleet, worker) = process(&store, "a", &clock, &runs);
    let (stop, shutdown) = Shutdown::new();
    let stop = Arc::new(stop);
    let tenants: Vec<Tenant> = (0..3)
        .map(|t| {
            let source = MemorySource::new(t0());
            source.upsert(supplier("V1", &format!("Vendor {t}"), t0()));
            Tenant {
                name: format!("S{t}"),
                account: format!("account-s{t}"),
                source,
                target: MemorySupplierTarget::new(),
                trip: Tripwire::new(),
            }
        })
        .collect();
    for tenant in &tenants {
        serve(&fleet, &worker, tenant, &clock).await;
    }
    // Stop as soon as the first job has run.
    let fleet = fleet.observe(Arc::new({
        let stop = stop.clone();
        move |_: &JobRun| stop.trigger()
    }));
    clock.advance(Duration::from_secs(10));
    tokio::time::timeout(Duration::from_secs(10), fleet.run(2, shutdown))
        .await
        .expect("the fleet stops");
    for tenant in &tenants {
        let key = StreamKey::new(tenant.name.clone(), sync_core::store::StreamId::suppliers());
        let job = store.job_state(&key).await.unwrap().unwrap();
        assert_eq!(job.holder, None, "{key}: given back, not left to expire");
    }
    store.drop_schema().await.unwrap();
}
