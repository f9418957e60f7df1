//! The return path's writes against the ION simulator, as a tenant shapes them and after a
//! create that stopped part-way: `complete_po` inserts exactly the missing lines (IDO), is a
//! no-op or a refusal in BOD mode and on M3; `create_po` never makes a second PO for one Cin7
//! purchase; inserts leave out what the tenant's IDO lacks and stop before any write when a
//! property they cannot do without is missing; vouchers are numbered by CloudSuite (read from
//! the answer's `RefreshItems`, no read-back lookup) or by us.
#![cfg(all(feature = "simulator", feature = "sync"))]
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use infor_ion_client::cloudsuite::m3_returns::{M3PoWriter, M3WriterConfig};
use infor_ion_client::cloudsuite::returns::{CloudSuitePoWriter, PoWriteMode, VoucherNumbering};
use infor_ion_client::csi::IdoChange;
use infor_ion_client::simulator::{IonSimulator, Row, SchemaProfile, Seed, SimulatorConfig};
use infor_ion_client::{Error, IonClient};
use rust_decimal::Decimal;
use sync_core::engine::returns::{
    SourceInvoiceDraft, SourcePoDraft, SourcePoLineDraft, SourcePurchaseWriter,
};
use sync_core::faults::Fault;
use sync_core::model::PoStatus;
use sync_core::retry::Delivery;
use sync_core::time::ManualClock;

const GUID: &str = "0b9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11";
const PO: &str = "C700000042";

async fn start_with(clock: &ManualClock, schema: SchemaProfile) -> (IonSimulator, IonClient) {
    let sim = IonSimulator::start(SimulatorConfig {
        seed: Seed {
            suppliers: 3,
            purchase_orders: 2,
            lines_per_order: 2,
            invoices: 0,
            payments: 0,
            customers: 0,
            items: 6,
            ..Seed::default()
        },
        clock: clock.shared(),
        schema,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let client = sim.client_builder().unwrap().build().unwrap();
    (sim, client)
}

async fn start(clock: &ManualClock) -> (IonSimulator, IonClient) {
    start_with(clock, SchemaProfile::default()).await
}

fn ido_writer(sim: &IonSimulator, client: &IonClient) -> CloudSuitePoWriter {
    CloudSuitePoWriter::new(client.csi(sim.mongoose_config()), PoWriteMode::Ido)
}

fn draft(lines: u32) -> SourcePoDraft {
    SourcePoDraft {
        po_number: PO.into(),
        vendor_id: "V000001".into(),
        order_date: NaiveDate::from_ymd_opt(2026, 2, 3).unwrap(),
        required_by: NaiveDate::from_ymd_opt(2026, 2, 17),
        currency: "USD".into(),
        location: Some("MAIN".into()),
        status: PoStatus::Ordered,
        external_ref: GUID.into(),
        external_number: "PO-00042".into(),
        lines: (1..=lines)
            .map(|n| SourcePoLineDraft {
                line_no: n,
                item: format!("ITEM-{n:05}"),
                description: format!("line {n} from Cin7"),
                quantity: Decimal::from(n + 1),
                unit_price: Decimal::new(250, 2),
                received: Decimal::ZERO,
            })
            .collect(),
    }
}

fn row(values: &[(&str, &str)]) -> Row {
    values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
        .collect()
}

/// A header and some of its lines, as a create that stopped part-way leaves them.
fn half_written(sim: &IonSimulator, stamp: &str, lines: &[u32]) {
    let mut data = sim.data();
    data.insert(
        "SLPos",
        row(&[
            ("PoNum", PO),
            ("VendNum", "V000001"),
            ("Stat", "O"),
            ("Type", "R"),
            ("VendOrder", stamp),
        ]),
    );
    for n in lines {
        data.insert(
            "SLPoItems",
            row(&[
                ("PoNum", PO),
                ("PoLine", &n.to_string()),
                ("PoRelease", "0"),
                ("Item", &format!("ITEM-{n:05}")),
                ("Description", "entered before the crash"),
                ("QtyOrdered", "99"),
            ]),
        );
    }
}

/// `(line, description)` of every `SLPoItems` row of `po`, in line order.
fn lines_of(sim: &IonSimulator, po: &str) -> Vec<(u32, String)> {
    let mut lines: Vec<(u32, String)> = sim
        .data()
        .rows("SLPoItems")
        .iter()
        .filter(|r| r.values["PoNum"].as_deref() == Some(po))
        .map(|r| {
            (
                r.values["PoLine"].as_deref().unwrap().parse().unwrap(),
                r.values
                    .get("Description")
                    .cloned()
                    .flatten()
                    .unwrap_or_default(),
            )
        })
        .collect();
    lines.sort();
    lines
}

fn calls(sim: &IonSimulator, endpoint: &str) -> u64 {
    sim.calls().get(endpoint).copied().unwrap_or(0)
}

/// Every IDO write and IMS send the simulator received.
fn writes(sim: &IonSimulator) -> u64 {
    sim.calls()
        .iter()
        .filter(|(k, _)| k.starts_with("POST /update/") || k.as_str() == "POST /ims")
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn complete_po_inserts_exactly_the_missing_lines_once() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = ido_writer(&sim, &client);
    half_written(&sim, GUID, &[2, 5]);

    writer.complete_po(PO, &draft(6)).await.unwrap();
    let lines = lines_of(&sim, PO);
    assert_eq!(
        lines.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(calls(&sim, "POST /update/SLPoItems"), 4);
    assert_eq!(
        calls(&sim, "POST /update/SLPos"),
        0,
        "the header is left alone"
    );
    // The lines it had are left as they are.
    assert_eq!(lines[1].1, "entered before the crash");
    assert_eq!(lines[4].1, "entered before the crash");
    assert_eq!(lines[0].1, "line 1 from Cin7");

    writer.complete_po(PO, &draft(6)).await.unwrap();
    assert_eq!(
        calls(&sim, "POST /update/SLPoItems"),
        4,
        "nothing inserted twice"
    );
    assert_eq!(lines_of(&sim, PO).len(), 6);
    // The schema of each IDO was read once for both calls.
    assert_eq!(calls(&sim, "GET /info/SLPoItems"), 1);
    assert_eq!(calls(&sim, "GET /info/SLPos"), 1);
}

#[tokio::test]
async fn complete_po_refuses_another_documents_po() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = ido_writer(&sim, &client);
    half_written(&sim, "another-purchase", &[1]);
    let error = writer.complete_po(PO, &draft(3)).await.unwrap_err();
    assert_eq!(error.status, Some(409), "{error}");
    assert!(!error.transient);
    assert!(error.message.contains("another-purchase"), "{error}");
    assert!(error.message.contains("another document"), "{error}");
    // A seeded PO carries no reference at all.
    let unstamped = writer
        .complete_po("PO0000001", &draft(3))
        .await
        .unwrap_err();
    assert_eq!(unstamped.status, Some(409), "{unstamped}");
    assert!(
        unstamped.message.contains("no external reference"),
        "{unstamped}"
    );
    let absent = writer
        .complete_po("C799999999", &draft(3))
        .await
        .unwrap_err();
    assert_eq!(absent.status, Some(404), "{absent}");
    assert!(!absent.transient);
    assert_eq!(writes(&sim), 0);
    assert_eq!(lines_of(&sim, PO).len(), 1);
}

#[tokio::test]
async fn create_po_never_makes_a_second_po_for_one_purchase() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = ido_writer(&sim, &client);
    let pos = sim.data().count("SLPos");
    assert_eq!(writer.create_po(&draft(3)).await.unwrap(), PO);
    // One lookup (PO number or reference), the header, three lines: no lookup per line.
    assert_eq!(calls(&sim, "GET /load/SLPos"), 1);
    assert_eq!(calls(&sim, "POST /update/SLPos"), 1);
    assert_eq!(calls(&sim, "POST /update/SLPoItems"), 3);
    assert_eq!(calls(&sim, "GET /load/SLPoItems"), 0);

    assert_eq!(writer.create_po(&draft(3)).await.unwrap(), PO);
    // Proposed under another number, the same purchase is still found by its reference.
    let mut renumbered = draft(3);
    renumbered.po_number = "C700000099".into();
    assert_eq!(writer.create_po(&renumbered).await.unwrap(), PO);
    assert_eq!(sim.data().count("SLPos"), pos + 1);
    assert_eq!(calls(&sim, "POST /update/SLPos"), 1);
    assert_eq!(calls(&sim, "POST /update/SLPoItems"), 3);
    assert_eq!(writer.find_by_external_ref(GUID).await.unwrap(), [PO]);
}

#[tokio::test]
async fn a_create_stopped_after_its_first_line_is_finished_by_the_next_attempt() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = ido_writer(&sim, &client);
    sim.faults()
        .push_script("POST /update/SLPoItems", Fault::ResetAfterApply);
    let error = writer.create_po(&draft(3)).await.unwrap_err();
    assert!(error.outcome_unknown(), "{error}");
    assert!(error.message.contains("line 1"), "{error}");
    assert_eq!(
        lines_of(&sim, PO).len(),
        1,
        "the answer was lost, the line written"
    );

    assert_eq!(writer.create_po(&draft(3)).await.unwrap(), PO);
    assert_eq!(
        lines_of(&sim, PO)
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(calls(&sim, "POST /update/SLPos"), 1);
    assert_eq!(calls(&sim, "POST /update/SLPoItems"), 3);
}

#[tokio::test]
async fn a_tenant_without_type_and_po_release_gets_pos_without_them() {
    let clock = ManualClock::default();
    let profile = SchemaProfile::default()
        .without("SLPos", "Type")
        .without("SLPoItems", "PoRelease");
    let (sim, client) = start_with(&clock, profile).await;
    // The simulated tenant refuses the properties it lacks, as a real one does.
    let refused = client
        .csi(sim.mongoose_config())
        .update(
            "SLPos",
            &IdoChange::insert()
                .set("PoNum", "C7000000X")
                .set("VendNum", "V000001")
                .set("Type", "R"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::IdoFailed { message, .. } if message.contains("'Type'")),
        "{refused}"
    );

    let writer = ido_writer(&sim, &client).with_insert_default("SLPoItems", "UM", "PCS");
    assert_eq!(writer.create_po(&draft(2)).await.unwrap(), PO);
    let data = sim.data();
    let header = data.find("SLPos", &[PO]).unwrap();
    assert!(!header.values.contains_key("Type"), "{:?}", header.values);
    assert_eq!(header.values["VendOrder"].as_deref(), Some(GUID));
    let lines: Vec<&Row> = data
        .rows("SLPoItems")
        .iter()
        .filter(|r| r.values["PoNum"].as_deref() == Some(PO))
        .map(|r| &r.values)
        .collect();
    assert_eq!(lines.len(), 2);
    for line in lines {
        assert!(!line.contains_key("PoRelease"), "{line:?}");
        assert_eq!(line["UM"].as_deref(), Some("PCS"));
        assert_eq!(line["Stat"].as_deref(), Some("O"));
    }
}

#[tokio::test]
async fn a_missing_required_property_stops_the_write_before_anything_is_sent() {
    let clock = ManualClock::default();
    for (profile, property, key) in [
        (
            SchemaProfile::default().without("SLPoItems", "Item"),
            "SLPoItems has no property `Item`",
            "returns.write",
        ),
        (
            SchemaProfile::default().without("SLPos", "VendOrder"),
            "SLPos has no property `VendOrder`",
            "returns.external_ref_property",
        ),
    ] {
        let (sim, client) = start_with(&clock, profile).await;
        let writer = ido_writer(&sim, &client);
        let pos = sim.data().count("SLPos");
        for error in [
            writer.create_po(&draft(2)).await.unwrap_err(),
            writer
                .complete_po("PO0000001", &draft(2))
                .await
                .unwrap_err(),
        ] {
            assert!(!error.transient, "{error}");
            assert_eq!(error.delivery, Delivery::NotProcessed, "{error}");
            assert!(error.message.contains(property), "{error}");
            assert!(error.message.contains(key), "{error}");
        }
        assert_eq!(writes(&sim), 0, "{:?}", sim.calls());
        assert_eq!(
            calls(&sim, "GET /load/SLPos"),
            0,
            "stopped before the lookup"
        );
        assert_eq!(sim.data().count("SLPos"), pos);
    }
}

fn invoice(number: &str) -> SourceInvoiceDraft {
    SourceInvoiceDraft {
        invoice_number: number.into(),
        vendor_id: "V000001".into(),
        po_number: "PO0000001".into(),
        invoice_date: NaiveDate::from_ymd_opt(2026, 2, 10).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 3, 12),
        currency: "USD".into(),
        amount_before_tax: Decimal::from(100),
        tax: Decimal::from(10),
        amount: Decimal::from(110),
        external_ref: "task-1".into(),
        lines: Vec::new(),
    }
}

#[tokio::test]
async fn a_voucher_numbered_by_cloudsuite_is_read_from_the_answer_without_a_lookup() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = ido_writer(&sim, &client);
    let voucher = writer.create_invoice(&invoice("INV-1")).await.unwrap();
    assert_eq!(voucher, "200001");
    // Schema, the lookup before create, the insert; no read-back of the saved row.
    assert_eq!(calls(&sim, "GET /info/SLAptrxs"), 1);
    assert_eq!(calls(&sim, "GET /load/SLAptrxs"), 1);
    assert_eq!(calls(&sim, "POST /update/SLAptrxs"), 1);
    let second = writer.create_invoice(&invoice("INV-2")).await.unwrap();
    assert_eq!(second, "200002");
    assert_eq!(
        calls(&sim, "GET /info/SLAptrxs"),
        1,
        "the schema is read once"
    );
    assert_eq!(calls(&sim, "GET /load/SLAptrxs"), 2);
    assert_eq!(calls(&sim, "POST /update/SLAptrxs"), 2);
    assert_eq!(
        writer.find_invoices("V000001", "INV-1").await.unwrap(),
        [voucher]
    );
}

#[tokio::test]
async fn a_voucher_numbered_by_us_carries_the_prefix_and_the_invoice_number() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = ido_writer(&sim, &client).with_voucher_numbering(VoucherNumbering::FromInvoice {
        prefix: "C7-".into(),
    });
    assert_eq!(
        writer.create_invoice(&invoice("INV-1")).await.unwrap(),
        "C7-INV-1"
    );
    let row = sim.data().find("SLAptrxs", &["C7-INV-1"]).unwrap().clone();
    assert_eq!(row.values["InvNum"].as_deref(), Some("INV-1"));
    assert_eq!(calls(&sim, "GET /load/SLAptrxs"), 1);
    assert_eq!(calls(&sim, "POST /update/SLAptrxs"), 1);
    // Again: found by vendor and number, not inserted twice.
    assert_eq!(
        writer.create_invoice(&invoice("INV-1")).await.unwrap(),
        "C7-INV-1"
    );
    assert_eq!(calls(&sim, "POST /update/SLAptrxs"), 1);
    assert_eq!(sim.data().count("SLAptrxs"), 1);

    // A tenant whose SLAptrxs has no Voucher cannot take our numbers: refused before writing.
    let (sim, client) = start_with(
        &clock,
        SchemaProfile::default().without("SLAptrxs", "Voucher"),
    )
    .await;
    let writer = ido_writer(&sim, &client).with_voucher_numbering(VoucherNumbering::FromInvoice {
        prefix: String::new(),
    });
    let error = writer.create_invoice(&invoice("INV-1")).await.unwrap_err();
    assert!(!error.transient, "{error}");
    assert!(error.message.contains("`Voucher`"), "{error}");
    assert!(
        error.message.contains("returns.voucher_numbering"),
        "{error}"
    );
    assert_eq!(writes(&sim), 0);
}

#[tokio::test]
async fn bod_mode_completes_only_a_po_that_has_every_line() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = CloudSuitePoWriter::new(
        client.csi(sim.mongoose_config()),
        PoWriteMode::Bods {
            ims: client.ims("lid://infor.ims.cin7sync"),
            logical_id: "lid://infor.ims.cin7sync".into(),
        },
    );
    // PO0000001 has lines 1 and 2 (seeded; BODs stamp no reference).
    writer.complete_po("PO0000001", &draft(2)).await.unwrap();
    let error = writer
        .complete_po("PO0000001", &draft(4))
        .await
        .unwrap_err();
    assert_eq!(error.status, Some(501), "{error}");
    assert!(!error.transient);
    assert!(error.message.contains("line(s) 3, 4"), "{error}");
    assert!(sim.ims_messages().is_empty());
    assert_eq!(writes(&sim), 0);
}

fn m3_writer(client: &IonClient) -> M3PoWriter {
    M3PoWriter::new(
        client.m3().company("100").division("AAA"),
        M3WriterConfig::new("A01", "MAIN", "SYNCUSER"),
    )
}

#[tokio::test]
async fn m3_create_never_enters_a_second_po_and_complete_refuses_missing_lines() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = m3_writer(&client);
    let po = writer.create_po(&draft(3)).await.unwrap();
    assert_eq!(writer.create_po(&draft(3)).await.unwrap(), po);
    assert_eq!(calls(&sim, "GET /m3/PPS370MI/StartEntry"), 1);
    assert_eq!(calls(&sim, "GET /m3/PPS370MI/FinishEntry"), 1);
    assert_eq!(
        writer.find_by_external_ref(GUID).await.unwrap(),
        vec![po.clone()]
    );

    // A complete PO needs nothing.
    writer.complete_po(&po, &draft(3)).await.unwrap();
    // A PO that lacks a line cannot be completed over MI: refused, nothing entered.
    assert!(sim.data().delete("SLPoItems", &[po.as_str(), "2", "0"]));
    let error = writer.complete_po(&po, &draft(3)).await.unwrap_err();
    assert_eq!(error.status, Some(501), "{error}");
    assert!(!error.transient);
    assert!(error.message.contains("line(s) 2"), "{error}");
    let again = writer.create_po(&draft(3)).await.unwrap_err();
    assert_eq!(again.status, Some(501), "{again}");
    assert_eq!(calls(&sim, "GET /m3/PPS370MI/StartEntry"), 1);
    assert_eq!(calls(&sim, "GET /m3/PPS370MI/AddLine"), 3);

    let mut other = draft(3);
    other.external_ref = "another-purchase".into();
    let refused = writer.complete_po(&po, &other).await.unwrap_err();
    assert_eq!(refused.status, Some(409), "{refused}");
    assert!(refused.message.contains(GUID), "{refused}");
}

#[tokio::test]
async fn m3_a_create_whose_finish_answer_was_lost_is_not_entered_again() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock).await;
    let writer = m3_writer(&client);
    sim.faults()
        .push_script("GET /m3/PPS370MI/FinishEntry", Fault::ResetAfterApply);
    assert!(
        writer
            .create_po(&draft(2))
            .await
            .unwrap_err()
            .outcome_unknown()
    );
    let po = writer.create_po(&draft(2)).await.unwrap();
    assert_eq!(calls(&sim, "GET /m3/PPS370MI/StartEntry"), 1);
    assert_eq!(
        writer.find_by_external_ref(GUID).await.unwrap(),
        vec![po.clone()]
    );
    assert_eq!(writer.get_po(&po).await.unwrap().unwrap().lines.len(), 2);
}
