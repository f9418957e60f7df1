//! An idle poll is nearly free: a supplier window with nothing new makes no target call, and
//! the index is still read (once per window, in full pages) as soon as a record needs matching.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner};
use sync_core::error::MappingKind;
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{PartyStatus, SourceIdentity, Supplier};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditQuery, AuditStatus, AuditStore, CheckpointStore, StreamId, StreamKey};
use sync_core::testing::{MemorySource, MemorySupplierTarget};
use sync_core::time::ManualClock;

fn supplier(i: usize, at: chrono::DateTime<Utc>) -> Supplier {
    Supplier {
        identity: SourceIdentity::new("cloudsuite", "T", "10", format!("V{i:04}")),
        vendor_id: format!("V{i:04}"),
        name: format!("Supplier {i}"),
        currency: "USD".into(),
        payment_term: Some("N30".into()),
        tax_rule: Some("TX".into()),
        tax_number: None,
        status: PartyStatus::Active,
        addresses: vec![],
        contacts: vec![],
        modified_at: at,
    }
}

#[tokio::test]
async fn an_idle_supplier_window_makes_no_target_call() {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
    let clock = ManualClock::new(t0);
    let source = Arc::new(MemorySource::new(t0));
    for i in 0..30 {
        source.upsert(supplier(i, t0 - chrono::Duration::hours(1)));
    }
    let target = MemorySupplierTarget::new();
    let mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::TaxRule, "TX", "GST on Expenses"),
    );
    let pipeline =
        Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings).with_page_limit(10));
    let runner = StreamRunner::new(pipeline, source.clone(), EngineConfig::default());
    let run = RunContext::new(Arc::new(MemoryStore::new()), clock.shared(), "T");

    // First window: the index is read once (an empty target: one page), then 30 creates.
    let first = runner.run_window(&run, None).await.unwrap();
    assert_eq!(first.succeeded, 30, "{first:?}");
    assert_eq!(target.calls(), (1, 30, 0));

    // Idle window (nothing modified since the cursor): no list page, no write.
    source.set_server_time(t0 + chrono::Duration::hours(1));
    let idle = runner.run_window(&run, None).await.unwrap();
    assert_eq!((idle.read, idle.succeeded), (0, 0));
    assert_eq!(target.calls(), (1, 30, 0), "an idle window read the index");

    // One change: the index is read again in full pages (30 suppliers, pages of 10, plus the
    // short last page), then one update.
    let mut renamed = supplier(3, t0 + chrono::Duration::minutes(90));
    renamed.name = "Supplier 3 Renamed".into();
    source.upsert(renamed);
    source.set_server_time(t0 + chrono::Duration::hours(2));
    let changed = runner.run_window(&run, None).await.unwrap();
    assert_eq!(changed.succeeded, 1);
    let (lists, creates, updates) = target.calls();
    assert_eq!((creates, updates), (30, 1));
    assert!((4..=5).contains(&lists), "index pages: {lists}");
}

#[tokio::test]
async fn a_window_larger_than_one_audit_batch_commits_every_row_once_and_moves_the_cursor() {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
    let clock = ManualClock::new(t0);
    let source = Arc::new(MemorySource::new(t0));
    // More than two of the engine's audit batches (500 rows), so rows are committed mid-window.
    let n = 1234;
    for i in 0..n {
        source.upsert(supplier(i, t0 - chrono::Duration::hours(1)));
    }
    let target = MemorySupplierTarget::new();
    let mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::TaxRule, "TX", "GST on Expenses"),
    );
    let pipeline = Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings));
    let runner = StreamRunner::new(pipeline, source.clone(), EngineConfig::default());
    let store = Arc::new(MemoryStore::new());
    let run = RunContext::new(store.clone(), clock.shared(), "T");
    let report = runner.run_window(&run, None).await.unwrap();
    assert_eq!(report.succeeded, n);
    assert_eq!(report.cursor, Some(t0 - EngineConfig::default().safety_lag));
    let rows = store.query(&AuditQuery::tenant("T")).await.unwrap();
    let succeeded: BTreeSet<_> = rows
        .iter()
        .filter(|r| r.status == AuditStatus::Succeeded)
        .map(|r| r.source.id.clone())
        .collect();
    assert_eq!(succeeded.len(), n);
    assert!(
        rows.iter().all(|r| r.status == AuditStatus::Succeeded),
        "no row left pending"
    );
    let checkpoint = store
        .load_checkpoint(&StreamKey::new("T", StreamId::suppliers()))
        .await
        .unwrap();
    assert_eq!(checkpoint.cursor, report.cursor);
    assert_eq!(target.calls().1, n);
}
