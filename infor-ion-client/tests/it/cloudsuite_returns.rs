//! The return direction's CloudSuite writer against the ION simulator: IDO mode creates and
//! updates purchase orders the forward source then reads; BOD mode sends `Process` BODs that
//! parse back.
#![cfg(all(feature = "simulator", feature = "sync"))]
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use infor_ion_client::IonClient;
use infor_ion_client::bod::{Bod, PurchaseOrder as PoNoun, ReceiveDelivery, Verb};
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::cloudsuite::returns::{CloudSuitePoWriter, PoWriteMode};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig};
use rust_decimal::Decimal;
use sync_core::engine::returns::{
    ReceivedQuantity, SourcePoChange, SourcePoDraft, SourcePoLineDraft, SourcePurchaseWriter,
};
use sync_core::model::{PoStatus, PurchaseOrder, SourceIdentity};
use sync_core::source::Source;
use sync_core::time::ManualClock;

async fn start(clock: &ManualClock) -> (IonSimulator, IonClient) {
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
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let client = sim.client_builder().unwrap().build().unwrap();
    (sim, client)
}

fn draft() -> SourcePoDraft {
    SourcePoDraft {
        po_number: "C700000042".into(),
        vendor_id: "V000001".into(),
        order_date: NaiveDate::from_ymd_opt(2026, 2, 3).unwrap(),
        required_by: NaiveDate::from_ymd_opt(2026, 2, 17),
        currency: "USD".into(),
        location: Some("MAIN".into()),
        status: PoStatus::Ordered,
        external_ref: "0b9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11".into(),
        external_number: "PO-00042".into(),
        lines: vec![
            SourcePoLineDraft {
                line_no: 1,
                item: "ITEM-00001".into(),
                description: "first".into(),
                quantity: Decimal::from(5),
                unit_price: Decimal::new(250, 2),
                received: Decimal::ZERO,
            },
            SourcePoLineDraft {
                line_no: 2,
                item: "ITEM-00002".into(),
                description: "second".into(),
                quantity: Decimal::from(3),
                unit_price: Decimal::ONE,
                received: Decimal::ZERO,
            },
        ],
    }
}

#[tokio::test]
async fn ido_mode_creates_a_po_the_forward_source_reads_and_updates_it() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = CloudSuitePoWriter::new(client.csi(sim.mongoose_config()), PoWriteMode::Ido);
    assert_eq!(writer.get_po("C700000042").await.unwrap(), None);
    let po = writer.create_po(&draft()).await.unwrap();
    assert_eq!(po, "C700000042");
    assert_eq!(
        writer
            .find_by_external_ref(&draft().external_ref)
            .await
            .unwrap(),
        vec!["C700000042"]
    );
    // Creating again (after an unknown outcome) finds the rows instead of duplicating them.
    writer.create_po(&draft()).await.unwrap();
    assert_eq!(sim.data().count("SLPos"), 3);
    assert_eq!(sim.data().count("SLPoItems"), 6);

    let source =
        CloudSuiteSource::csi(client.csi(sim.mongoose_config()), "DALS").default_currency("USD");
    let identity = SourceIdentity::new(
        infor_ion_client::cloudsuite::SYSTEM,
        sim.tenant(),
        "DALS",
        "C700000042",
    );
    let read: PurchaseOrder = Source::<PurchaseOrder>::fetch(&source, &identity)
        .await
        .unwrap()
        .expect("the forward source reads the created PO");
    assert_eq!(read.vendor_id, "V000001");
    assert_eq!(read.lines.len(), 2);
    assert_eq!(read.lines[0].quantity, Decimal::from(5));

    writer
        .update_po(
            "C700000042",
            &SourcePoChange {
                status: Some(PoStatus::Closed),
                received: vec![ReceivedQuantity {
                    line_no: 2,
                    item: "ITEM-00002".into(),
                    total: Decimal::from(3),
                    delta: Decimal::from(3),
                }],
            },
        )
        .await
        .unwrap();
    let state = writer.get_po("C700000042").await.unwrap().unwrap();
    assert_eq!(state.status, PoStatus::Closed);
    assert_eq!(state.lines[1].received, Decimal::from(3));
    assert_eq!(state.lines[0].received, Decimal::ZERO);
    assert_eq!(
        sim.data().find("SLPos", &["C700000042"]).unwrap().values["Stat"].as_deref(),
        Some("F")
    );
}

#[tokio::test]
async fn another_documents_po_number_is_refused_not_adopted() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = CloudSuitePoWriter::new(client.csi(sim.mongoose_config()), PoWriteMode::Ido);
    let mut taken = draft();
    taken.po_number = "PO0000001".into();
    let error = writer.create_po(&taken).await.unwrap_err();
    assert_eq!(error.status, Some(409), "{error}");
    assert!(!error.outcome_unknown());
}

#[tokio::test]
async fn bod_mode_sends_process_bods_through_ims() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = CloudSuitePoWriter::new(
        client.csi(sim.mongoose_config()),
        PoWriteMode::Bods {
            ims: client.ims("lid://infor.ims.cin7sync"),
            logical_id: "lid://infor.ims.cin7sync".into(),
        },
    )
    .with_accounting_entity("DALS");
    writer.create_po(&draft()).await.unwrap();
    writer
        .update_po(
            "PO0000001",
            &SourcePoChange {
                status: Some(PoStatus::Closed),
                received: vec![ReceivedQuantity {
                    line_no: 1,
                    item: "ITEM-00003".into(),
                    total: Decimal::from(7),
                    delta: Decimal::from(4),
                }],
            },
        )
        .await
        .unwrap();
    let messages = sim.ims_messages();
    let names: Vec<&str> = messages
        .iter()
        .map(|m| m.parameters["documentName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "ProcessPurchaseOrder",
            "ProcessPurchaseOrder",
            "ProcessReceiveDelivery"
        ]
    );
    let created = Bod::<PoNoun>::from_slice(&messages[0].payload).unwrap();
    assert_eq!(created.verb, Verb::Process);
    assert_eq!(created.nouns[0].lines.len(), 2);
    assert_eq!(created.nouns[0].header.document_id.id.value, "C700000042");
    let status = Bod::<PoNoun>::from_slice(&messages[1].payload).unwrap();
    assert_eq!(
        status.nouns[0]
            .header
            .status
            .as_ref()
            .unwrap()
            .code
            .as_ref()
            .unwrap()
            .value,
        "F"
    );
    let receipt = Bod::<ReceiveDelivery>::from_slice(&messages[2].payload).unwrap();
    let item = &receipt.nouns[0].items[0];
    assert_eq!(
        item.received_quantity.as_ref().unwrap().value,
        Decimal::from(4)
    );
    assert_eq!(
        item.purchase_order_reference
            .as_ref()
            .unwrap()
            .document_id
            .as_ref()
            .unwrap()
            .id
            .value,
        "PO0000001"
    );
    assert_eq!(messages[2].parameters["accountingEntity"], "DALS");
    // BODs are applied by ION asynchronously: nothing changed in the simulator's rows.
    assert_eq!(sim.data().count("SLPos"), 2);
}
