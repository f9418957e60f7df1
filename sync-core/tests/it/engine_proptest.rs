//! Property test of the engine against in-memory fakes: random modification times with ties,
//! out-of-order pages, server clock skew and a skewed local clock, records changing during a
//! run, injected failures (before send, after send with unknown outcome, permanent), and a
//! crash (the engine future dropped at a random step) followed by a restart.
//!
//! After the final run and a replay of the failures: the target equals the source, with zero
//! duplicates and zero missing records, every injected failure was visible in the audit store,
//! and nothing is left open.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::*;
use proptest::prelude::*;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, StreamRunner};
use sync_core::faults::{Fault, FaultPlan};
use sync_core::model::Supplier;
use sync_core::replay::{ReplayMode, ReplayScope, Replayer};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditStatus, ErrorClass};
use sync_core::testing::{MemorySource, MemorySupplierTarget, TrippingStore, Tripwire};
use sync_core::time::ManualClock;

const LAG: i64 = 5;
const LOOKBACK: i64 = 60;

#[derive(Debug, Clone)]
struct Round {
    /// Server clock step before the run (negative = the server clock stepped back).
    advance: i64,
    /// (record, variant, late-visibility seconds) edits before the run.
    edits: Vec<(usize, u8, i64)>,
    /// (after pages, record, variant) changes while the run reads pages.
    during: Vec<(usize, usize, u8)>,
    /// (write number, fault) for this run.
    faults: Vec<(u64, Fault)>,
    /// Crash at this step of the run.
    crash: Option<usize>,
    shuffle: Option<u64>,
    page_size: usize,
    /// Local clock offset from the server clock, in seconds.
    local_skew: i64,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::ResetBeforeApply),
        Just(Fault::ResetAfterApply),
        Just(Fault::ApplicationError)
    ]
}

/// A plan failing each listed write (0-based write number of the target) with its fault.
fn write_faults(faults: &[(u64, Fault)]) -> FaultPlan {
    faults.iter().fold(FaultPlan::none(), |plan, (n, fault)| {
        plan.at("write", *n, fault.clone())
    })
}

fn round() -> impl Strategy<Value = Round> {
    (
        prop_oneof![Just(0i64), Just(LAG), -10i64..=30],
        prop::collection::vec((0usize..12, any::<u8>(), 0i64..=LAG), 0..8),
        prop::collection::vec((0usize..4, 0usize..12, any::<u8>()), 0..3),
        prop::collection::vec((0u64..8, fault()), 0..3),
        prop::option::weighted(0.35, 0usize..40),
        prop::option::of(any::<u64>()),
        1usize..4,
        -86_400i64..86_400,
    )
        .prop_map(
            |(advance, edits, during, faults, crash, shuffle, page_size, local_skew)| Round {
                advance,
                edits,
                during,
                faults,
                crash,
                shuffle,
                page_size,
                local_skew,
            },
        )
}

fn name(idx: usize, variant: u8) -> String {
    format!("Vendor {idx} v{variant}")
}

/// Source-side versions must have strictly increasing `modified_at` per record (an edit that does
/// not move it is rule 8's job, tested separately).
fn next_version(
    source: &MemorySource<Supplier>,
    latest: &mut BTreeMap<usize, DateTime<Utc>>,
    idx: usize,
    variant: u8,
    stamp: DateTime<Utc>,
) -> Supplier {
    let stamp = match latest.get(&idx) {
        Some(prev) if *prev >= stamp => *prev + Duration::seconds(1),
        _ => stamp,
    };
    latest.insert(idx, stamp);
    let _ = source;
    supplier(&format!("V{idx:02}"), &name(idx, variant), stamp)
}

async fn scenario(
    initial: Vec<(usize, u8, i64)>,
    rounds: Vec<Round>,
    index_page: u32,
) -> Result<(), TestCaseError> {
    let trip = Tripwire::new();
    let memory = MemoryStore::new();
    let store = Arc::new(TrippingStore {
        inner: memory.clone(),
        trip: trip.clone(),
    });
    let source: MemorySource<Supplier> = MemorySource::new(at(1000)).with_tripwire(trip.clone());
    let target = MemorySupplierTarget::new().with_tripwire(trip.clone());
    let pipeline = Arc::new(
        SupplierPipeline::new(Arc::new(target.clone()), mappings()).with_page_limit(index_page),
    );
    let config = EngineConfig {
        lookback: Duration::seconds(LOOKBACK),
        safety_lag: Duration::seconds(LAG),
        full_scan_every: None,
        strict: false,
        retry: Default::default(),
        ..EngineConfig::default()
    };
    let runner = StreamRunner::new(pipeline.clone(), Arc::new(source.clone()), config);
    let local = ManualClock::new(at(1000));
    let clock = local.shared();
    let mut latest = BTreeMap::new();
    let mut max_server = at(1000);

    // Initial records with modification times full of ties.
    for (idx, variant, back) in initial {
        let r = next_version(&source, &mut latest, idx, variant, at(1000 - back));
        source.upsert(r);
    }

    let error_rows = |memory: &MemoryStore| {
        memory
            .all_entries()
            .iter()
            .filter(|e| {
                e.error.as_ref().is_some_and(|err| {
                    matches!(
                        err.class,
                        ErrorClass::Transient | ErrorClass::UnknownOutcome | ErrorClass::Rejected
                    )
                })
            })
            .count()
    };

    for round in rounds {
        // The server clock may step back a little (never further than the lookback covers).
        let proposed = source.server_now() + Duration::seconds(round.advance);
        let floor = max_server - Duration::seconds(10);
        let now = proposed.max(floor);
        source.set_server_time(now);
        max_server = max_server.max(now);
        local.set(now + Duration::seconds(round.local_skew));
        for &(idx, variant, late) in &round.edits {
            let r = next_version(
                &source,
                &mut latest,
                idx,
                variant,
                now - Duration::seconds(late),
            );
            source.upsert(r);
        }
        for &(after, idx, variant) in &round.during {
            let r = next_version(&source, &mut latest, idx, variant, now);
            source.queue_change(after, r);
        }
        source.set_shuffle(round.shuffle);
        source.set_page_size(round.page_size);
        target.set_faults(write_faults(&round.faults));
        let errors_before = error_rows(&memory);

        if let Some(step) = round.crash {
            trip.arm(step);
        }
        let run = run(store.clone(), &clock);
        let crashed = tokio::select! {
            result = runner.run_window(&run, None) => {
                result.map_err(|e| TestCaseError::fail(format!("window failed: {e}")))?;
                false
            }
            _ = trip.tripped() => true,
        };
        trip.disarm();
        source.clear_queued_changes();
        if !crashed {
            // Every injected failure is visible as an audit row.
            prop_assert_eq!(error_rows(&memory) - errors_before, target.faults_fired());
        }
    }

    // Final: no faults, the server clock moves past every record, one run, replay, one run.
    target.set_faults(FaultPlan::default());
    source.set_server_time(max_server + Duration::seconds(LAG + 1));
    runner
        .run_window(&run(store.clone(), &clock), None)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let replayer = Replayer::new(pipeline.clone(), Arc::new(source.clone()));
    replayer
        .replay_failed(
            &run(store.clone(), &clock),
            ReplayScope::Stream,
            ReplayMode::Refetch,
        )
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;

    // Target == source: one target supplier per source supplier, with the mapped content.
    let mut by_vendor: BTreeMap<String, Vec<sync_core::target::SupplierDraft>> = BTreeMap::new();
    for draft in target.suppliers().into_values() {
        let vendor = draft
            .extra_fields
            .get("AdditionalAttribute1")
            .cloned()
            .unwrap_or_default();
        by_vendor.entry(vendor).or_default().push(draft);
    }
    let records = source.records();
    prop_assert_eq!(by_vendor.len(), records.len(), "missing or extra suppliers");
    for record in &records {
        let drafts = by_vendor.get(&record.vendor_id);
        prop_assert!(drafts.is_some(), "missing {}", record.vendor_id);
        let drafts = drafts.unwrap();
        prop_assert_eq!(drafts.len(), 1, "duplicates of {}", record.vendor_id);
        prop_assert_eq!(&drafts[0], &pipeline.draft(record).unwrap());
    }
    // Every failure was resolved (visible, replayed or superseded); nothing is left open.
    let open: Vec<_> = memory
        .all_entries()
        .into_iter()
        .filter(|e| e.status.is_open())
        .map(|e| (e.source.id, e.status, e.error))
        .collect();
    prop_assert!(open.is_empty(), "open entries: {:?}", open);
    let failures = memory
        .all_entries()
        .iter()
        .filter(|e| e.status == AuditStatus::Resolved)
        .count();
    let _ = failures;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn engine_converges_without_duplicates_or_losses(
        initial in prop::collection::vec((0usize..12, any::<u8>(), 0i64..4), 0..12),
        rounds in prop::collection::vec(round(), 1..6),
        index_page in 1u32..4,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(scenario(initial, rounds, index_page))?;
    }
}
