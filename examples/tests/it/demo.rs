//! The demo in a short mode, checked from the store and the simulators' state (not from its
//! printed text): every seeded record is in Cin7 exactly once, changes flow incrementally, and
//! the failures (an unmapped GL account, injected faults) are replayed to success.
#![allow(clippy::unwrap_used)]

use examples::demo::{self, DemoOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_syncs_everything_once_and_replays_failures() {
    let dir = tempfile::tempdir().unwrap();
    let clock = sync_core::time::ManualClock::new(chrono::Utc::now());
    let options = DemoOptions {
        records: 24,
        fault_rate: 0.3,
        dir: dir.path().to_path_buf(),
        // Real Cin7's limit: on the manual clock its waits cost no time.
        calls_per_minute: 60,
        seed: 7,
        clock: clock.shared(),
    };
    let outcome = demo::run(&options, None).await.unwrap();
    let (suppliers, orders, vouchers) = outcome.cloudsuite_counts;
    assert_eq!(
        (suppliers, orders, vouchers),
        (24, 13, 12),
        "12 POs seeded + 1 raised"
    );

    // Every CloudSuite supplier is in Cin7 once, stamped with its vendor ID.
    assert_eq!(outcome.cin7_suppliers_by_vendor.len(), suppliers);
    assert!(
        outcome.cin7_suppliers_by_vendor.values().all(|n| *n == 1),
        "{:?}",
        outcome.cin7_suppliers_by_vendor
    );
    for n in 1..=suppliers {
        assert!(
            outcome
                .cin7_suppliers_by_vendor
                .contains_key(&format!("V{n:06}"))
        );
    }
    // Every PO (and each invoice without a PO) is one purchase, never two.
    assert!(
        outcome
            .cin7_purchases_by_reference
            .values()
            .all(|n| *n == 1),
        "{:?}",
        outcome.cin7_purchases_by_reference
    );
    for n in 1..=12 {
        assert!(
            outcome
                .cin7_purchases_by_reference
                .contains_key(&format!("PO{n:07}")),
            "PO{n:07}"
        );
    }
    assert!(
        outcome
            .cin7_purchases_by_reference
            .contains_key("PO9000001"),
        "the PO raised between runs"
    );

    // The incremental run read only what changed and wrote it.
    let stream = |rows: &[examples::summary::StreamSummary], name: &str| {
        rows.iter().find(|r| r.stream == name).cloned().unwrap()
    };
    let suppliers_second = stream(&outcome.second, "suppliers");
    assert_eq!((suppliers_second.read, suppliers_second.updated), (1, 1));
    assert_eq!(
        outcome.cin7_supplier_names["V000001"],
        "Acme Renamed Supply"
    );
    assert_eq!(stream(&outcome.second, "purchase_orders").created, 1);

    // Both directions ran in the one runner and audit trail. The first run read back what the
    // forward streams had just written to Cin7 and wrote nothing to CloudSuite for it; in the
    // incremental run the receipt made in Cin7 reached the CloudSuite PO line, once.
    let returns_first = stream(&outcome.first, "purchase_returns");
    assert!(returns_first.read > 0, "{returns_first:?}");
    assert_eq!(
        (
            returns_first.created,
            returns_first.updated,
            returns_first.failed
        ),
        (0, 0, 0),
        "{returns_first:?}"
    );
    let receipt = outcome.receipt.clone().expect("a receipt was made in Cin7");
    assert_eq!(receipt.cloudsuite_before, "0", "{receipt:?}");
    assert_eq!(
        receipt.cloudsuite_after, receipt.received_in_cin7,
        "{receipt:?}"
    );
    assert_eq!(stream(&outcome.second, "purchase_returns").updated, 1);
    // ... and the forward stream did not carry the CloudSuite PO change it caused back to Cin7:
    // only the supplier rename and the raised PO were written.
    assert_eq!(stream(&outcome.second, "purchase_orders").updated, 0);

    // The unmapped account failed the first time, and every failure was replayed to success.
    assert!(stream(&outcome.first, "supplier_invoices").failed >= 1);
    assert!(outcome.replayed.1 >= 1);
    assert!(outcome.replay_rounds <= demo::MAX_REPLAY_ROUNDS);
    assert_eq!(outcome.open_failures, 0, "{outcome:#?}");

    // Faults really were injected and absorbed.
    assert!(
        outcome.faults.values().sum::<u64>() > 0,
        "{:?}",
        outcome.faults
    );
    assert!(outcome.cin7_throttled > 0);
    assert!(outcome.store_path.exists());
    // At 60 calls a minute the run took simulated minutes, none of them real.
    assert!(
        clock.total_slept() > std::time::Duration::from_secs(60),
        "{:?}",
        clock.total_slept()
    );
}
