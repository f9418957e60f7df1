//! The return direction's M3 writer against the ION simulator: POs entered through the
//! `PPS370MI` batch and read back through `PPS200MI`, receipts through `PPS001MI/Receipt`
//! (never twice), status, cancellation, lookup after an uncertain create, supplier invoices
//! through `APS450MI`, and M3's error answers as typed errors.
#![cfg(all(feature = "simulator", feature = "sync"))]
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use infor_ion_client::IonClient;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::cloudsuite::m3_returns::{M3PoWriter, M3WriterConfig};
use infor_ion_client::simulator::{IonSimulator, M3_INVOICE_BATCH_LINES, Seed, SimulatorConfig};
use rust_decimal::Decimal;
use sync_core::engine::returns::{
    ReceivedQuantity, SourceInvoiceDraft, SourceInvoiceLineDraft, SourcePoChange, SourcePoDraft,
    SourcePoLineDraft, SourcePurchaseWriter,
};
use sync_core::faults::Fault;
use sync_core::model::{PoStatus, SourceIdentity, SupplierInvoice};
use sync_core::retry::Delivery;
use sync_core::source::Source;
use sync_core::time::ManualClock;

const GUID: &str = "0b9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11";

async fn start(clock: &ManualClock) -> (IonSimulator, IonClient, M3PoWriter) {
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
    let writer = M3PoWriter::new(
        client.m3().company("100").division("AAA"),
        M3WriterConfig::new("A01", "MAIN", "SYNCUSER"),
    );
    (sim, client, writer)
}

fn draft() -> SourcePoDraft {
    SourcePoDraft {
        po_number: "C700000042".into(),
        vendor_id: "V000001".into(),
        order_date: NaiveDate::from_ymd_opt(2026, 2, 3).unwrap(),
        required_by: NaiveDate::from_ymd_opt(2026, 2, 17),
        currency: "USD".into(),
        location: None,
        status: PoStatus::Ordered,
        external_ref: GUID.into(),
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

fn receipt(line_no: u32, item: &str, total: i64) -> ReceivedQuantity {
    ReceivedQuantity {
        line_no,
        item: item.into(),
        total: Decimal::from(total),
        delta: Decimal::from(total),
    }
}

fn calls(sim: &IonSimulator, endpoint: &str) -> u64 {
    sim.calls().get(endpoint).copied().unwrap_or(0)
}

#[tokio::test]
async fn a_po_is_entered_through_the_batch_received_once_and_closed_by_its_last_receipt() {
    let clock = ManualClock::default();
    let (sim, _client, writer) = start(&clock).await;
    let po = writer.create_po(&draft()).await.unwrap();
    assert_ne!(po, "C700000042", "M3 numbers the PO itself");
    for step in ["StartEntry", "AddHead", "AddLine", "FinishEntry"] {
        assert!(
            calls(&sim, &format!("GET /m3/PPS370MI/{step}")) > 0,
            "{step}"
        );
    }
    assert_eq!(
        writer.find_by_external_ref(GUID).await.unwrap(),
        vec![po.clone()]
    );
    let state = writer.get_po(&po).await.unwrap().unwrap();
    assert_eq!(state.status, PoStatus::Ordered);
    assert_eq!(state.vendor_id.as_deref(), Some("V000001"));
    assert_eq!(state.lines.len(), 2);
    assert_eq!(state.lines[0].item, "ITEM-00001");
    assert_eq!(state.lines[0].ordered, Decimal::from(5));
    // The same rows through the IDO view: one store behind both APIs.
    let head = sim.data().find("SLPos", &[po.as_str()]).unwrap().clone();
    assert_eq!(head.values["VendOrder"].as_deref(), Some(GUID));

    // A partial receipt, then the same change again: received once.
    let partial = SourcePoChange {
        status: None,
        received: vec![receipt(1, "ITEM-00001", 2)],
    };
    writer.update_po(&po, &partial).await.unwrap();
    writer.update_po(&po, &partial).await.unwrap();
    assert_eq!(calls(&sim, "GET /m3/PPS001MI/Receipt"), 1);
    let state = writer.get_po(&po).await.unwrap().unwrap();
    assert_eq!(state.lines[0].received, Decimal::from(2));
    assert_eq!(state.status, PoStatus::Ordered);

    // Everything received in Cin7: the receipts finish the lines and the PO reads as closed.
    writer
        .update_po(
            &po,
            &SourcePoChange {
                status: Some(PoStatus::Closed),
                received: vec![receipt(1, "ITEM-00001", 5), receipt(2, "ITEM-00002", 3)],
            },
        )
        .await
        .unwrap();
    let state = writer.get_po(&po).await.unwrap().unwrap();
    assert_eq!(state.status, PoStatus::Closed);
    assert_eq!(state.lines[1].received, Decimal::from(3));
    assert_eq!(calls(&sim, "GET /m3/PPS001MI/Receipt"), 3);
}

#[tokio::test]
async fn a_short_receipt_closes_its_line_with_the_finish_mark() {
    let clock = ManualClock::default();
    let (sim, _client, writer) = start(&clock).await;
    let po = writer.create_po(&draft()).await.unwrap();
    writer
        .update_po(
            &po,
            &SourcePoChange {
                status: Some(PoStatus::Closed),
                received: vec![receipt(1, "ITEM-00001", 4), receipt(2, "ITEM-00002", 3)],
            },
        )
        .await
        .unwrap();
    let state = writer.get_po(&po).await.unwrap().unwrap();
    assert_eq!(state.status, PoStatus::Closed);
    assert_eq!(state.lines[0].received, Decimal::from(4));
    let line = sim
        .data()
        .find("SLPoItems", &[po.as_str(), "1", "0"])
        .unwrap()
        .clone();
    assert_eq!(line.values["Stat"].as_deref(), Some("F"));
}

#[tokio::test]
async fn a_lost_receipt_answer_is_not_received_again() {
    let clock = ManualClock::default();
    let (sim, _client, writer) = start(&clock).await;
    let po = writer.create_po(&draft()).await.unwrap();
    sim.faults()
        .push_script("GET /m3/PPS001MI/Receipt", Fault::ResetAfterApply);
    let change = SourcePoChange {
        status: None,
        received: vec![receipt(2, "ITEM-00002", 1)],
    };
    let error = writer.update_po(&po, &change).await.unwrap_err();
    assert!(error.outcome_unknown(), "{error}");
    assert_eq!(
        calls(&sim, "GET /m3/PPS001MI/Receipt"),
        1,
        "a write is not resent"
    );
    // The next attempt reads M3 first: the receipt is there, nothing is sent.
    writer.update_po(&po, &change).await.unwrap();
    assert_eq!(calls(&sim, "GET /m3/PPS001MI/Receipt"), 1);
    let state = writer.get_po(&po).await.unwrap().unwrap();
    assert_eq!(state.lines[1].received, Decimal::ONE);
}

#[tokio::test]
async fn an_uncertain_create_is_found_by_its_external_reference() {
    let clock = ManualClock::default();
    let (sim, _client, writer) = start(&clock).await;
    sim.faults()
        .push_script("GET /m3/PPS370MI/FinishEntry", Fault::ResetAfterApply);
    let error = writer.create_po(&draft()).await.unwrap_err();
    assert!(error.outcome_unknown(), "{error}");
    assert_eq!(calls(&sim, "GET /m3/PPS370MI/FinishEntry"), 1);
    let found = writer.find_by_external_ref(GUID).await.unwrap();
    assert_eq!(found.len(), 1, "the PO exists once: {found:?}");
    assert!(writer.get_po(&found[0]).await.unwrap().is_some());
    assert!(
        writer
            .find_by_external_ref("another-purchase")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn m3_error_answers_are_typed_refusals_and_a_refused_batch_is_dropped() {
    let clock = ManualClock::default();
    let (sim, _client, writer) = start(&clock).await;
    let mut unknown = draft();
    unknown.vendor_id = "V999999".into();
    let error = writer.create_po(&unknown).await.unwrap_err();
    assert_eq!(error.status, Some(400), "{error}");
    assert_eq!(error.delivery, Delivery::Processed);
    assert!(!error.transient);
    assert!(
        error.message.contains("Supplier V999999 does not exist") && error.message.contains("SUNO"),
        "{error}"
    );
    assert_eq!(calls(&sim, "GET /m3/PPS370MI/DeleteEntry"), 1);

    let mut bad_item = draft();
    bad_item.lines[1].item = "NO-SUCH-ITEM".into();
    let error = writer.create_po(&bad_item).await.unwrap_err();
    assert_eq!(error.status, Some(400));
    assert!(error.message.contains("ITNO"), "{error}");
    assert_eq!(calls(&sim, "GET /m3/PPS370MI/DeleteEntry"), 2);
    assert_eq!(sim.data().count("SLPos"), 2, "nothing half-entered remains");

    // An unknown PO reads as absent; writing to it is refused by M3.
    assert_eq!(writer.get_po("4000000001").await.unwrap(), None);
    let error = writer
        .update_po(
            "4000000001",
            &SourcePoChange {
                status: None,
                received: vec![receipt(1, "X", 1)],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.status, Some(400));
    assert!(error.message.contains("does not exist"), "{error}");
}

#[tokio::test]
async fn a_cancel_deletes_lines_without_receipts_and_refuses_received_ones() {
    let clock = ManualClock::default();
    let (_sim, _client, writer) = start(&clock).await;
    let cancel = SourcePoChange {
        status: Some(PoStatus::Cancelled),
        received: Vec::new(),
    };
    let po = writer.create_po(&draft()).await.unwrap();
    writer.update_po(&po, &cancel).await.unwrap();
    let state = writer.get_po(&po).await.unwrap().unwrap();
    assert_eq!(state.status, PoStatus::Cancelled);
    assert!(state.lines.is_empty());

    let mut other = draft();
    other.external_ref = "second".into();
    let po = writer.create_po(&other).await.unwrap();
    writer
        .update_po(
            &po,
            &SourcePoChange {
                status: None,
                received: vec![receipt(1, "ITEM-00001", 1)],
            },
        )
        .await
        .unwrap();
    let error = writer.update_po(&po, &cancel).await.unwrap_err();
    assert_eq!(error.status, Some(409), "{error}");
    assert_eq!(writer.get_po(&po).await.unwrap().unwrap().lines.len(), 2);
}

#[tokio::test]
async fn a_po_received_before_it_reaches_m3_is_entered_and_received() {
    let clock = ManualClock::default();
    let (_sim, _client, writer) = start(&clock).await;
    let mut received = draft();
    received.status = PoStatus::Closed;
    received.lines[0].received = Decimal::from(5);
    received.lines[1].received = Decimal::from(3);
    let po = writer.create_po(&received).await.unwrap();
    let state = writer.get_po(&po).await.unwrap().unwrap();
    assert_eq!(state.status, PoStatus::Closed);
    assert_eq!(state.lines[0].received, Decimal::from(5));
}

fn invoice(po: &str) -> SourceInvoiceDraft {
    SourceInvoiceDraft {
        invoice_number: "SUP-INV-9".into(),
        vendor_id: "V000001".into(),
        po_number: po.into(),
        invoice_date: NaiveDate::from_ymd_opt(2026, 2, 20).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 3, 22),
        currency: "USD".into(),
        amount_before_tax: Decimal::new(1550, 2),
        tax: Decimal::ZERO,
        amount: Decimal::new(1550, 2),
        external_ref: "7c9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11".into(),
        lines: vec![
            SourceInvoiceLineDraft {
                line_no: 1,
                po_line: Some(1),
                item: Some("ITEM-00001".into()),
                description: "first".into(),
                quantity: Decimal::from(5),
                unit_price: Decimal::new(250, 2),
                amount: Decimal::new(1250, 2),
            },
            SourceInvoiceLineDraft {
                line_no: 2,
                po_line: None,
                item: None,
                description: "Freight".into(),
                quantity: Decimal::ONE,
                unit_price: Decimal::from(3),
                amount: Decimal::from(3),
            },
        ],
    }
}

#[tokio::test]
async fn an_invoice_is_entered_as_an_invoice_batch_found_by_supplier_and_number() {
    let clock = ManualClock::default();
    let (sim, client, writer) = start(&clock).await;
    let po = writer.create_po(&draft()).await.unwrap();
    assert!(writer.writes_invoices());
    assert!(
        writer
            .find_invoices("V000001", "SUP-INV-9")
            .await
            .unwrap()
            .is_empty()
    );
    let batch = writer.create_invoice(&invoice(&po)).await.unwrap();
    assert_eq!(
        writer.find_invoices("V000001", "SUP-INV-9").await.unwrap(),
        vec![batch.clone()]
    );
    let lines: Vec<_> = sim
        .data()
        .rows(M3_INVOICE_BATCH_LINES)
        .iter()
        .map(|r| r.values.clone())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["PUNO"].as_deref(), Some(po.as_str()));
    assert_eq!(lines[0]["PNLI"].as_deref(), Some("1"));
    assert_eq!(lines[0]["RDTP"].as_deref(), Some("1"));
    assert_eq!(lines[1]["CHGT"].as_deref(), Some("Freight"));
    assert_eq!(lines[1]["NLAM"].as_deref(), Some("3"));

    // M3 refuses the same supplier invoice number twice (the pipeline looks it up first).
    let error = writer.create_invoice(&invoice(&po)).await.unwrap_err();
    assert_eq!(error.status, Some(400));
    assert!(error.message.contains("SINO"), "{error}");

    // The forward direction reads the new invoice back (Data Lake BOD keyed by the batch
    // number), which is how the return path hashes it for echo suppression.
    let lake = CloudSuiteSource::data_lake(client.data_lake(), client.tenant(), "");
    let read: SupplierInvoice = Source::<SupplierInvoice>::fetch(
        &lake,
        &SourceIdentity::new(
            infor_ion_client::cloudsuite::SYSTEM,
            client.tenant(),
            "",
            batch.as_str(),
        ),
    )
    .await
    .unwrap()
    .expect("the Data Lake serves the new invoice");
    assert_eq!(read.invoice_number, "SUP-INV-9");
    assert_eq!(read.po_id.as_deref(), Some(po.as_str()));
}
