//! An idle GL-accounts poll costs the target nothing: the target's chart is read only when the
//! source chart (or how it maps) changed, when the last read is an hour old (drift made by hand
//! in the target surfaces), when nothing is remembered yet, or after a window that failed. The
//! remembered chart lives in the store, so it survives a new pipeline. All on an injected
//! clock; no sleeps.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sync_core::engine::gl_accounts::{DEFAULT_TARGET_CHECK_EVERY, GlAccountPipeline};
use sync_core::engine::{RunContext, WindowReport};
use sync_core::error::{MappingKind, TargetError};
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{AccountClass, GlAccount};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditQuery, AuditStatus, DriftKind, StreamId, StreamKey, SyncStore};
use sync_core::target::{AccountTarget, TargetAccount};
use sync_core::testing::{MemoryAccountTarget, MemorySource};
use sync_core::time::{Clock, ManualClock};

use crate::common::{TENANT, gl, t0};

const MINUTE: Duration = Duration::from_secs(60);

fn account(code: &str, name: &str, class: AccountClass) -> TargetAccount {
    TargetAccount {
        code: code.into(),
        name: name.into(),
        class: Some(class),
        account_type: None,
        active: true,
    }
}

/// A chart whose reads and creates can be made to fail; counts what reaches the chart.
#[derive(Clone, Default)]
struct FlakyChart {
    inner: MemoryAccountTarget,
    failing_lists: Arc<AtomicUsize>,
    failing_creates: Arc<AtomicUsize>,
}

fn take(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

#[async_trait]
impl AccountTarget for FlakyChart {
    async fn list_accounts(&self) -> Result<Vec<TargetAccount>, TargetError> {
        if take(&self.failing_lists) {
            return Err(TargetError::not_sent("connection refused"));
        }
        self.inner.list_accounts().await
    }

    async fn create_account(&self, account: &TargetAccount) -> Result<TargetAccount, TargetError> {
        if take(&self.failing_creates) {
            return Err(TargetError::rejected(400, "account code is locked"));
        }
        self.inner.create_account(account).await
    }
}

struct Rig {
    source: MemorySource<GlAccount>,
    chart: FlakyChart,
    store: Arc<dyn SyncStore>,
    clock: ManualClock,
}

impl Rig {
    fn new(store: Arc<dyn SyncStore>) -> Rig {
        let source = MemorySource::new(t0());
        source.upsert(gl("630", "Inventory", AccountClass::Asset, true));
        source.upsert(gl("715", "Purchases", AccountClass::Expense, true));
        source.upsert(gl("720", "Freight", AccountClass::Expense, true));
        let chart = FlakyChart {
            inner: MemoryAccountTarget::new([
                account("630", "Inventory", AccountClass::Asset),
                account("715", "Purchases", AccountClass::Expense),
                account("720", "Freight", AccountClass::Expense),
            ]),
            ..FlakyChart::default()
        };
        Rig {
            source,
            chart,
            store,
            clock: ManualClock::new(t0()),
        }
    }

    fn pipeline(&self, mappings: Mappings) -> GlAccountPipeline {
        GlAccountPipeline::new(
            Arc::new(self.source.clone()),
            Arc::new(self.chart.clone()),
            mappings,
        )
    }

    /// One GL window now (CloudSuite's clock follows ours).
    async fn poll(&self, pipeline: &GlAccountPipeline) -> Result<WindowReport, String> {
        self.source.set_server_time(self.clock.now());
        let run = RunContext::new(self.store.clone(), self.clock.shared(), TENANT);
        pipeline.run(&run).await.map_err(|e| e.to_string())
    }

    /// Wait a minute, then poll.
    async fn next_minute(&self, pipeline: &GlAccountPipeline) -> WindowReport {
        self.clock.advance(MINUTE);
        self.poll(pipeline).await.unwrap()
    }

    fn reads(&self) -> usize {
        self.chart.inner.lists()
    }

    async fn rows(&self) -> usize {
        self.store
            .query(&AuditQuery::tenant(TENANT).stream(StreamId::gl_accounts()))
            .await
            .unwrap()
            .len()
    }

    async fn drift(&self) -> Vec<(String, DriftKind)> {
        let mapping = self.store.gl_mapping(TENANT).await.unwrap().unwrap();
        mapping
            .drift
            .into_iter()
            .map(|d| (d.source_code, d.drift))
            .collect()
    }
}

fn idle(report: &WindowReport) -> bool {
    !report.full_scan
        && report.read == 3
        && report.skipped == 3
        && (report.succeeded, report.failed) == (0, 0)
}

#[tokio::test]
async fn an_idle_tenant_polled_every_minute_reads_cin7s_chart_once_an_hour() {
    let rig = Rig::new(Arc::new(MemoryStore::new()));
    // CloudSuite serves its chart in a different order on every poll: the hash does not care.
    rig.source.set_page_size(1);
    rig.source.set_shuffle(Some(7));
    let pipeline = rig.pipeline(Mappings::default());
    let first = rig.poll(&pipeline).await.unwrap();
    assert!(first.full_scan);
    assert_eq!((first.read, first.succeeded), (3, 3));
    assert_eq!(rig.reads(), 1);
    let rows = rig.rows().await;
    let mapping = rig.store.gl_mapping(TENANT).await.unwrap().unwrap();
    assert_eq!(mapping.generated_at, Some(t0()));
    assert!(mapping.source_hash.is_some());

    for minute in 1..60 {
        let report = rig.next_minute(&pipeline).await;
        assert!(idle(&report), "minute {minute}: {report:?}");
        assert_eq!(rig.reads(), 1, "minute {minute} read Cin7's chart");
    }
    assert_eq!(rig.rows().await, rows, "an idle window writes no audit row");
    assert_eq!(
        rig.store.gl_mapping(TENANT).await.unwrap().unwrap(),
        mapping,
        "the stored mapping is left as it is"
    );
    // The checkpoint still moves: the last run is minute 59, the last reconciliation minute 0.
    let checkpoint = rig
        .store
        .load_checkpoint(&StreamKey::new(TENANT, StreamId::gl_accounts()))
        .await
        .unwrap();
    assert_eq!(checkpoint.last_run, Some(rig.clock.now()));
    assert_eq!(checkpoint.last_full_scan, Some(t0()));

    // Minute 60: the hourly read, once.
    let hourly = rig.next_minute(&pipeline).await;
    assert!(hourly.full_scan, "{hourly:?}");
    assert_eq!(rig.reads(), 2);
    assert_eq!(
        rig.rows().await,
        rows,
        "nothing changed: still no audit row"
    );
    // And the hour starts again from there.
    let after = rig.next_minute(&pipeline).await;
    assert!(idle(&after), "{after:?}");
    assert_eq!(rig.reads(), 2);
    assert_eq!(DEFAULT_TARGET_CHECK_EVERY, chrono::Duration::hours(1));
}

#[tokio::test]
async fn the_check_interval_is_configurable() {
    let rig = Rig::new(Arc::new(MemoryStore::new()));
    let pipeline = rig
        .pipeline(Mappings::default())
        .with_target_check_every(chrono::Duration::minutes(15));
    rig.poll(&pipeline).await.unwrap();
    for _ in 1..15 {
        rig.next_minute(&pipeline).await;
    }
    assert_eq!(rig.reads(), 1);
    rig.next_minute(&pipeline).await;
    assert_eq!(rig.reads(), 2, "read again at minute 15");

    // Zero: every window reads it, as before the setting existed.
    let every_time = rig
        .pipeline(Mappings::default())
        .with_target_check_every(chrono::Duration::zero());
    rig.next_minute(&every_time).await;
    rig.next_minute(&every_time).await;
    assert_eq!(rig.reads(), 4);
}

#[tokio::test]
async fn a_change_in_the_cloudsuite_chart_is_reconciled_at_once() {
    let rig = Rig::new(Arc::new(MemoryStore::new()));
    let pipeline = rig.pipeline(Mappings::default());
    rig.poll(&pipeline).await.unwrap();
    rig.next_minute(&pipeline).await;
    assert_eq!(rig.reads(), 1);
    let rows = rig.rows().await;

    // Renamed in CloudSuite at minute 2 (its modified date does not matter).
    rig.source
        .upsert(gl("715", "Purchases (stock)", AccountClass::Expense, true));
    let changed = rig.next_minute(&pipeline).await;
    assert!(changed.full_scan, "{changed:?}");
    assert_eq!(rig.reads(), 2, "read at once");
    assert_eq!(
        changed.succeeded, 1,
        "one audit row, for the changed account"
    );
    assert_eq!(rig.rows().await, rows + 1);
    assert!(rig.drift().await.contains(&(
        "715".into(),
        DriftKind::NameDiffers {
            source: "Purchases (stock)".into(),
            target: "Purchases".into(),
        }
    )));
    // Then idle again.
    assert!(idle(&rig.next_minute(&pipeline).await));
    assert_eq!(rig.reads(), 2);

    // A new account in CloudSuite: read at once, reported missing in Cin7.
    rig.source
        .upsert(gl("999", "Suspense", AccountClass::Liability, true));
    let added = rig.next_minute(&pipeline).await;
    assert_eq!((added.read, rig.reads()), (4, 3));
    assert!(
        rig.drift()
            .await
            .contains(&("999".into(), DriftKind::MissingInTarget))
    );

    // A changed GL override (same CloudSuite chart, same revision) maps differently: read at
    // once too, with the override's target code.
    let overridden = rig.pipeline(Mappings::with_values(MappingTable::default().with(
        MappingKind::GlAccount,
        "999",
        "630",
    )));
    rig.next_minute(&overridden).await;
    assert_eq!(rig.reads(), 4);
    let mapping = rig.store.gl_mapping(TENANT).await.unwrap().unwrap();
    assert_eq!(mapping.accounts.get("999").map(String::as_str), Some("630"));
}

#[tokio::test]
async fn an_account_renamed_by_hand_in_cin7_is_drift_by_the_next_hourly_read() {
    let rig = Rig::new(Arc::new(MemoryStore::new()));
    let pipeline = rig.pipeline(Mappings::default());
    rig.poll(&pipeline).await.unwrap();
    assert!(rig.drift().await.is_empty());
    let rows = rig.rows().await;

    // Someone renames 630 in Cin7 at minute 1.
    rig.chart
        .inner
        .create_account_for_test(account("630", "Stock on hand", AccountClass::Asset));
    for _ in 1..60 {
        rig.next_minute(&pipeline).await;
    }
    assert_eq!(rig.reads(), 1, "not seen before the hour is up");
    assert!(rig.drift().await.is_empty());

    let hourly = rig.next_minute(&pipeline).await;
    assert_eq!(rig.reads(), 2);
    let drift = DriftKind::NameDiffers {
        source: "Inventory".into(),
        target: "Stock on hand".into(),
    };
    assert_eq!(rig.drift().await, vec![("630".into(), drift)]);
    assert_eq!(hourly.succeeded, 1, "{hourly:?}");
    assert_eq!(rig.rows().await, rows + 1, "one audit row names the drift");
    let row = rig
        .store
        .query(&AuditQuery::tenant(TENANT).stream(StreamId::gl_accounts()))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(row.source.id, "630");
    assert!(
        row.response_summary
            .is_some_and(|s| s.contains("Stock on hand")),
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn the_remembered_chart_survives_a_new_pipeline_and_a_reopened_store() {
    use sync_core::store::sqlite::SqliteStore;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.db");
    let clock = ManualClock::new(t0());
    let mut rig = Rig::new(Arc::new(
        SqliteStore::open(&path, clock.shared()).await.unwrap(),
    ));
    rig.clock = clock.clone();
    rig.poll(&rig.pipeline(Mappings::default())).await.unwrap();
    assert_eq!(rig.reads(), 1);

    // A restart: the store reopened from its file, a new pipeline.
    rig.store = Arc::new(SqliteStore::open(&path, clock.shared()).await.unwrap());
    let pipeline = rig.pipeline(Mappings::default());
    for _ in 1..60 {
        assert!(idle(&rig.next_minute(&pipeline).await));
    }
    assert_eq!(rig.reads(), 1, "the new pipeline knew the chart was read");
    rig.next_minute(&pipeline).await;
    assert_eq!(rig.reads(), 2, "and when");

    // The same with the in-memory store shared by two pipeline instances.
    let rig = Rig::new(Arc::new(MemoryStore::new()));
    rig.poll(&rig.pipeline(Mappings::default())).await.unwrap();
    rig.next_minute(&rig.pipeline(Mappings::default())).await;
    assert_eq!(rig.reads(), 1);
}

#[tokio::test]
async fn a_window_that_failed_is_followed_by_one_that_reads_again_without_a_person() {
    // Mirror mode: a create refused once leaves a failure; the next window (a minute later,
    // nothing else changed) reads Cin7's chart again and retries it.
    let rig = Rig::new(Arc::new(MemoryStore::new()));
    rig.source
        .upsert(gl("999", "Suspense", AccountClass::Liability, true));
    let pipeline = rig.pipeline(Mappings::default()).with_mirror(true);
    rig.chart.failing_creates.store(1, Ordering::SeqCst);
    let failed = rig.poll(&pipeline).await.unwrap();
    assert_eq!(failed.failed, 1, "{failed:?}");
    let mapping = rig.store.gl_mapping(TENANT).await.unwrap().unwrap();
    assert_eq!(
        mapping.source_hash, None,
        "a failed window remembers no chart"
    );

    let retried = rig.next_minute(&pipeline).await;
    assert_eq!(rig.reads(), 2);
    assert_eq!((retried.succeeded, retried.failed), (1, 0), "{retried:?}");
    assert!(rig.chart.inner.accounts().contains_key("999"));
    let open = rig
        .store
        .query(
            &AuditQuery::tenant(TENANT)
                .stream(StreamId::gl_accounts())
                .statuses(&AuditStatus::OPEN),
        )
        .await
        .unwrap();
    assert!(open.is_empty(), "the failure is resolved: {open:?}");
    // Clean again: idle.
    let report = rig.next_minute(&pipeline).await;
    assert!(!report.full_scan, "{report:?}");
    assert_eq!(rig.reads(), 2);

    // Cin7 unreachable when the hourly read is due: the window fails, commits nothing, and
    // the next one reads again.
    rig.clock.advance(Duration::from_secs(3600));
    rig.chart.failing_lists.store(1, Ordering::SeqCst);
    assert!(rig.poll(&pipeline).await.is_err());
    let report = rig.next_minute(&pipeline).await;
    assert!(report.full_scan, "{report:?}");
    assert_eq!(
        rig.reads(),
        3,
        "the failed read reached nothing, the retry did"
    );
    assert!(!rig.next_minute(&pipeline).await.full_scan);
    assert_eq!(rig.reads(), 3);
}

#[tokio::test]
async fn a_clock_set_back_reads_rather_than_trusting_an_old_read() {
    let rig = Rig::new(Arc::new(MemoryStore::new()));
    let pipeline = rig.pipeline(Mappings::default());
    rig.poll(&pipeline).await.unwrap();
    rig.clock.set(t0() - chrono::Duration::minutes(5));
    rig.poll(&pipeline).await.unwrap();
    assert_eq!(rig.reads(), 2);
}
