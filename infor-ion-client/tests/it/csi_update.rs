//! IDO writes (`POST /update/{ido}`) against the simulator: inserts and updates land in its
//! rows with a new `RecordDate` and variation, failures are typed, and an insert whose answer
//! was lost is never resent — `insert_once` finds the row instead.
#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use infor_ion_client::csi::{Filter, IdoChange, InsertOnce};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig};
use infor_ion_client::{Error, IonClient};
use sync_core::faults::{Fault, FaultPlan};
use sync_core::retry::{Delivery, RetryPolicy};
use sync_core::time::{Clock, ManualClock};

async fn start(clock: &ManualClock, faults: FaultPlan) -> (IonSimulator, IonClient) {
    let sim = IonSimulator::start(SimulatorConfig {
        seed: Seed {
            suppliers: 3,
            purchase_orders: 2,
            lines_per_order: 2,
            invoices: 0,
            payments: 0,
            customers: 0,
            items: 4,
            ..Seed::default()
        },
        clock: clock.shared(),
        faults: Arc::new(faults),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let client = sim
        .client_builder()
        .unwrap()
        .retry_policy(
            RetryPolicy::default()
                .with_max_retries(3)
                .with_delays(Duration::from_millis(10), Duration::from_millis(100))
                .with_jitter(false),
        )
        .build()
        .unwrap();
    (sim, client)
}

#[tokio::test]
async fn insert_then_update_changes_the_rows_and_stamps_them() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock, FaultPlan::none()).await;
    let csi = client.csi(sim.mongoose_config());
    clock.advance(chrono::Duration::hours(1).to_std().unwrap());
    let inserted = csi
        .update(
            "SLPos",
            &IdoChange::insert()
                .set("PoNum", "C7000001")
                .set("VendNum", "V000001")
                .set("Stat", "O"),
        )
        .await
        .unwrap();
    let item = inserted.refreshed.unwrap();
    assert_eq!(item.record.text("PoNum"), Some("C7000001"));
    let stamped = sim.data().find("SLPos", &["C7000001"]).unwrap().clone();
    assert_eq!(
        stamped.values["RecordDate"].as_deref(),
        Some(infor_ion_client::simulator::ido_datetime(clock.now()).as_str())
    );
    assert_eq!(stamped.variation, 1);

    clock.advance(Duration::from_secs(60));
    let found = csi
        .find_one("SLPos", Filter::eq("PoNum", "C7000001").unwrap(), &[])
        .await
        .unwrap()
        .unwrap();
    csi.update(
        "SLPos",
        &IdoChange::update(found.item_id.unwrap()).set("Stat", "F"),
    )
    .await
    .unwrap();
    let row = sim.data().find("SLPos", &["C7000001"]).unwrap().clone();
    assert_eq!(row.values["Stat"].as_deref(), Some("F"));
    assert_eq!(row.variation, 2);
    assert_eq!(
        row.values["RecordDate"].as_deref(),
        Some(infor_ion_client::simulator::ido_datetime(clock.now()).as_str())
    );
}

#[tokio::test]
async fn refused_writes_are_typed_ido_failures() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock, FaultPlan::none()).await;
    let csi = client.csi(sim.mongoose_config());
    let duplicate = csi
        .update("SLPos", &IdoChange::insert().set("PoNum", "PO0000001"))
        .await
        .unwrap_err();
    assert!(
        matches!(&duplicate, Error::IdoFailed { message, .. } if message.contains("already exists")),
        "{duplicate}"
    );
    assert_eq!(duplicate.delivery(), Delivery::Processed);
    let missing_key = csi
        .update("SLPos", &IdoChange::insert().set("Stat", "O"))
        .await
        .unwrap_err();
    assert!(missing_key.to_string().contains("PoNum"), "{missing_key}");
    let stale = csi
        .update(
            "SLPos",
            &IdoChange::update("PBT=[SLPos] SLPos.ID=[99999]").set("Stat", "F"),
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, Error::IdoFailed { .. }));
    assert_eq!(sim.data().count("SLPos"), 2);
}

#[tokio::test]
async fn a_lost_insert_answer_is_not_resent_and_insert_once_finds_the_row() {
    let clock = ManualClock::default();
    let (sim, client) = start(
        &clock,
        FaultPlan::none().script("POST /update/SLPos", Fault::ResetAfterApply),
    )
    .await;
    let csi = client.csi(sim.mongoose_config());
    let change = IdoChange::insert()
        .set("PoNum", "C7000002")
        .set("VendNum", "V000002");
    let lookup = || Filter::eq("PoNum", "C7000002").unwrap();
    let error = csi
        .insert_once("SLPos", lookup(), &["PoNum"], &change)
        .await
        .unwrap_err();
    assert_eq!(error.delivery(), Delivery::Unknown, "{error}");
    assert_eq!(sim.calls()["POST /update/SLPos"], 1, "never resent blindly");
    assert_eq!(sim.data().count("SLPos"), 3, "the insert was applied");

    let again = csi
        .insert_once("SLPos", lookup(), &["PoNum"], &change)
        .await
        .unwrap();
    assert!(
        matches!(again, InsertOnce::Existing(ref item) if item.record.text("PoNum") == Some("C7000002"))
    );
    assert_eq!(sim.calls()["POST /update/SLPos"], 1);
    assert_eq!(sim.data().count("SLPos"), 3);
}

#[tokio::test]
async fn throttled_writes_are_retried_but_a_5xx_is_not() {
    let clock = ManualClock::default();
    let (sim, client) = start(
        &clock,
        FaultPlan::none()
            .script(
                "POST /update/SLPos",
                Fault::Status {
                    status: 429,
                    retry_after: None,
                },
            )
            .script("POST /update/SLPos", Fault::ResetBeforeApply)
            .script(
                "POST /update/SLPos",
                Fault::Status {
                    status: 503,
                    retry_after: None,
                },
            ),
    )
    .await;
    let csi = client.csi(sim.mongoose_config());
    // 429 says "not processed": sent again. The reset that follows may have been applied.
    let error = csi
        .update("SLPos", &IdoChange::insert().set("PoNum", "C7000003"))
        .await
        .unwrap_err();
    assert_eq!(error.delivery(), Delivery::Unknown, "{error}");
    assert_eq!(sim.calls()["POST /update/SLPos"], 2);
    // A 5xx after the request was sent is not resent either.
    let error = csi
        .update("SLPos", &IdoChange::insert().set("PoNum", "C7000003"))
        .await
        .unwrap_err();
    assert_eq!(error.delivery(), Delivery::Unknown, "{error}");
    assert_eq!(sim.calls()["POST /update/SLPos"], 3);
    csi.update("SLPos", &IdoChange::insert().set("PoNum", "C7000003"))
        .await
        .unwrap();
    assert_eq!(sim.calls()["POST /update/SLPos"], 4);
    assert_eq!(sim.data().count("SLPos"), 3);
}
