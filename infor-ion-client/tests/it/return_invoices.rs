//! Invoices authorised in Cin7 written back to CloudSuite through the return pipeline, against
//! the ION simulator: CloudSuite Industrial (an `SLAptrxs` voucher over IDO, or a
//! `ProcessSupplierInvoice` BOD) and M3 (a PO entered through `PPS370MI`, received, invoiced
//! through `APS450MI`). Each invoice is written once, an invoice that came from CloudSuite is
//! not written back, and the forward invoice stream would skip what the return path wrote.
#![cfg(all(feature = "simulator", feature = "sync"))]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use infor_ion_client::IonClient;
use infor_ion_client::bod::{Bod, SupplierInvoice as InvoiceNoun};
use infor_ion_client::cloudsuite::m3_returns::{M3PoWriter, M3WriterConfig};
use infor_ion_client::cloudsuite::returns::{CloudSuitePoWriter, PoWriteMode};
use infor_ion_client::cloudsuite::{CloudSuiteSource, SYSTEM};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig};
use rust_decimal::Decimal;
use sync_core::engine::returns::{ReturnConfig, ReturnPipeline, SourcePurchaseWriter, stream};
use sync_core::engine::{Processed, RunContext, process_record, sync_key};
use sync_core::model::{
    InvoiceUpdate, InvoiceUpdateLine, PurchaseOrder, PurchaseProgress, PurchaseUpdate,
    PurchaseUpdateLine, Record, RecordKind, SourceIdentity, SupplierInvoice,
};
use sync_core::source::Source;
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditStatus, CrossRef, CrossRefStore, StreamKey, SyncStore, WindowCommit};
use sync_core::time::ManualClock;

const TENANT: &str = "ACME";

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600 + minutes * 60, 0).unwrap()
}

async fn start(clock: &ManualClock, invoices: usize) -> (IonSimulator, IonClient) {
    let sim = IonSimulator::start(SimulatorConfig {
        seed: Seed {
            suppliers: 3,
            purchase_orders: 2,
            lines_per_order: 2,
            invoices,
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

/// A return pipeline, its store and the forward sources it hashes with.
struct Harness {
    store: Arc<MemoryStore>,
    pipeline: ReturnPipeline,
    forward_pos: Arc<dyn Source<PurchaseOrder>>,
    forward_invoices: Arc<dyn Source<SupplierInvoice>>,
    scope: SourceIdentity,
    clock: ManualClock,
}

impl Harness {
    fn new(
        writer: Arc<dyn SourcePurchaseWriter>,
        forward: CloudSuiteSource,
        scope: SourceIdentity,
        clock: &ManualClock,
    ) -> Self {
        let forward_pos: Arc<dyn Source<PurchaseOrder>> = Arc::new(forward.clone());
        let forward_invoices: Arc<dyn Source<SupplierInvoice>> = Arc::new(forward);
        let pipeline = ReturnPipeline::new(
            writer,
            forward_pos.clone(),
            ReturnConfig::new(scope.clone()),
        )
        .with_invoices(forward_invoices.clone());
        Harness {
            store: Arc::new(MemoryStore::new()),
            pipeline,
            forward_pos,
            forward_invoices,
            scope,
            clock: clock.clone(),
        }
    }

    async fn process(&self, update: &PurchaseUpdate) -> Processed {
        let run = RunContext::new(self.store.clone(), self.clock.shared(), TENANT);
        let processed = process_record(&run, &self.pipeline, update, false, None)
            .await
            .unwrap();
        if let Processed::Entries(entries) = &processed {
            self.store
                .commit_window(WindowCommit {
                    key: StreamKey::new(TENANT, stream()),
                    checkpoint: None,
                    entries: entries.clone(),
                    gl_mapping: None,
                    fence: None,
                })
                .await
                .unwrap();
        }
        processed
    }

    async fn put(&self, kind: RecordKind, id: &str, target: &str, hash: bool) {
        let synced = if !hash {
            None
        } else if kind == RecordKind::PurchaseOrder {
            let po = self
                .forward_pos
                .fetch(&self.scope.sibling(id))
                .await
                .unwrap()
                .unwrap();
            Some((sync_key(&po.content_hash().unwrap(), ""), po.modified_at))
        } else {
            let invoice = self
                .forward_invoices
                .fetch(&self.scope.sibling(id))
                .await
                .unwrap()
                .unwrap();
            Some((
                sync_key(&invoice.content_hash().unwrap(), ""),
                invoice.modified_at,
            ))
        };
        self.store
            .put_cross_ref(
                TENANT,
                &CrossRef {
                    kind,
                    source: self.scope.sibling(id),
                    target_id: target.into(),
                    aux: BTreeMap::new(),
                    synced_hash: synced.as_ref().map(|(h, _)| h.clone()),
                    synced_modified_at: synced.map(|(_, m)| m),
                },
            )
            .await
            .unwrap();
    }

    /// Whether the forward invoice stream would skip source invoice `key` (rule 4).
    async fn forward_invoice_in_step(&self, key: &str) -> bool {
        let invoice = self
            .forward_invoices
            .fetch(&self.scope.sibling(key))
            .await
            .unwrap()
            .expect("the forward source reads the invoice");
        let xref = self
            .store
            .cross_ref(
                TENANT,
                RecordKind::SupplierInvoice,
                &self.scope.sibling(key),
            )
            .await
            .unwrap();
        xref.and_then(|x| x.synced_hash) == Some(sync_key(&invoice.content_hash().unwrap(), ""))
    }
}

fn purchase(
    id: &str,
    reference: Option<&str>,
    lines: &[(&str, i64, i64)],
    invoices: Vec<InvoiceUpdate>,
    minute: i64,
) -> PurchaseUpdate {
    let lines: Vec<PurchaseUpdateLine> = lines
        .iter()
        .map(|(sku, ordered, received)| PurchaseUpdateLine {
            sku: (*sku).into(),
            name: (*sku).into(),
            quantity: Decimal::from(*ordered),
            price: Decimal::TEN,
            received: Decimal::from(*received),
        })
        .collect();
    let progress = if lines.iter().all(|l| l.received >= l.quantity) {
        PurchaseProgress::Received
    } else if lines.iter().any(|l| l.received > Decimal::ZERO) {
        PurchaseProgress::PartlyReceived
    } else {
        PurchaseProgress::Ordered
    };
    PurchaseUpdate {
        identity: SourceIdentity::new("cin7", TENANT, "", id),
        order_number: "PO-00042".into(),
        reference: reference.map(str::to_owned),
        supplier_id: "SUP-GUID".into(),
        supplier_vendor_id: None,
        order_date: NaiveDate::from_ymd_opt(2026, 2, 3),
        required_by: None,
        currency: Some("USD".into()),
        location: None,
        progress,
        invoice_authorised: !invoices.is_empty(),
        invoices,
        lines,
        summary: None,
        modified_at: at(minute),
    }
}

fn invoice(task: &str, number: &str, sku: &str, quantity: i64) -> InvoiceUpdate {
    InvoiceUpdate {
        task_id: task.into(),
        invoice_number: number.into(),
        invoice_date: NaiveDate::from_ymd_opt(2026, 2, 20),
        due_date: NaiveDate::from_ymd_opt(2026, 3, 22),
        total_before_tax: Decimal::from(quantity * 10 + 5),
        tax: Decimal::ZERO,
        total: Decimal::from(quantity * 10 + 5),
        lines: vec![
            InvoiceUpdateLine {
                sku: Some(sku.into()),
                name: sku.into(),
                quantity: Decimal::from(quantity),
                price: Decimal::TEN,
                total: Decimal::from(quantity * 10),
            },
            InvoiceUpdateLine {
                sku: None,
                name: "Freight".into(),
                quantity: Decimal::ONE,
                price: Decimal::from(5),
                total: Decimal::from(5),
            },
        ],
    }
}

fn summary(processed: &Processed) -> String {
    let entry = processed.entry().expect("an audit row");
    assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
    entry.response_summary.clone().unwrap_or_default()
}

/// A seeded voucher that belongs to a PO: (voucher, invoice number, PO, vendor).
fn po_voucher(sim: &IonSimulator) -> (String, String, String, String) {
    let data = sim.data();
    let v = data
        .rows("SLAptrxs")
        .iter()
        .find(|v| v.values.get("PoNum").is_some_and(Option::is_some))
        .expect("a seeded voucher for a PO");
    let text = |name: &str| v.values[name].clone().unwrap();
    (
        text("Voucher"),
        text("InvNum"),
        text("PoNum"),
        text("VendNum"),
    )
}

fn po_items(sim: &IonSimulator, po: &str) -> Vec<(String, i64)> {
    sim.data()
        .rows("SLPoItems")
        .iter()
        .filter(|l| l.values["PoNum"].as_deref() == Some(po))
        .map(|l| {
            (
                l.values["Item"].clone().unwrap(),
                l.values["QtyOrdered"].as_deref().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn csi_ido_writes_a_voucher_once_and_leaves_an_echoed_invoice_alone() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock, 4).await;
    let (voucher, number, po, vendor) = po_voucher(&sim);
    let scope = SourceIdentity::new(SYSTEM, sim.tenant(), "DALS", "");
    let forward = CloudSuiteSource::csi(client.csi(sim.mongoose_config()), "DALS");
    let writer = Arc::new(CloudSuitePoWriter::new(
        client.csi(sim.mongoose_config()),
        PoWriteMode::Ido,
    ));
    let h = Harness::new(writer, forward, scope, &clock);
    // The forward streams wrote the PO and its voucher to Cin7 purchase G1.
    h.put(RecordKind::PurchaseOrder, &po, "G1", true).await;
    h.put(RecordKind::SupplierInvoice, &voucher, "G1", true)
        .await;
    let items = po_items(&sim, &po);
    let (item, ordered) = items[0].clone();
    let lines: Vec<(&str, i64, i64)> = items.iter().map(|(i, q)| (i.as_str(), *q, 0)).collect();
    let vouchers_before = sim.data().count("SLAptrxs");

    // Cin7 shows the echoed CloudSuite invoice and one authorised in Cin7.
    let invoiced = purchase(
        "G1",
        Some(&po),
        &lines,
        vec![
            invoice("T-ECHO", &number, &item, ordered),
            invoice("T-NEW", "C7-INV-1", &item, ordered),
        ],
        1,
    );
    let processed = h.process(&invoiced).await;
    let said = summary(&processed);
    assert!(said.contains("came from the source"), "{said}");
    assert!(
        said.contains("invoice C7-INV-1 written to the source as"),
        "{said}"
    );
    assert_eq!(sim.data().count("SLAptrxs"), vouchers_before + 1);
    let created = sim
        .data()
        .rows("SLAptrxs")
        .iter()
        .find(|v| v.values["InvNum"].as_deref() == Some("C7-INV-1"))
        .unwrap()
        .clone();
    assert_eq!(created.values["VendNum"].as_deref(), Some(vendor.as_str()));
    assert_eq!(created.values["PoNum"].as_deref(), Some(po.as_str()));
    assert_eq!(
        created.values["InvAmt"].as_deref(),
        Some((ordered * 10 + 5).to_string().as_str())
    );
    let new_voucher = created.values["Voucher"].clone().unwrap();
    assert!(h.forward_invoice_in_step(&new_voucher).await);

    // Processed again, and after a receipt: no second voucher.
    assert_eq!(h.process(&invoiced).await, Processed::Skipped);
    let mut received = invoiced.clone();
    received.lines[0].received = Decimal::ONE;
    received.progress = PurchaseProgress::PartlyReceived;
    received.modified_at = at(2);
    summary(&h.process(&received).await);
    assert_eq!(sim.data().count("SLAptrxs"), vouchers_before + 1);
}

#[tokio::test]
async fn csi_bod_mode_sends_process_supplier_invoice_once() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock, 0).await;
    let scope = SourceIdentity::new(SYSTEM, sim.tenant(), "DALS", "");
    let forward = CloudSuiteSource::csi(client.csi(sim.mongoose_config()), "DALS");
    let writer = Arc::new(
        CloudSuitePoWriter::new(
            client.csi(sim.mongoose_config()),
            PoWriteMode::Bods {
                ims: client.ims("lid://infor.ims.cin7sync"),
                logical_id: "lid://infor.ims.cin7sync".into(),
            },
        )
        .with_accounting_entity("DALS"),
    );
    let h = Harness::new(writer, forward, scope, &clock);
    h.put(RecordKind::PurchaseOrder, "PO0000001", "G1", true)
        .await;
    let items = po_items(&sim, "PO0000001");
    let lines: Vec<(&str, i64, i64)> = items.iter().map(|(i, q)| (i.as_str(), *q, 0)).collect();
    let invoiced = purchase(
        "G1",
        Some("PO0000001"),
        &lines,
        vec![invoice("T1", "C7-INV-2", &items[1].0, 2)],
        1,
    );
    let said = summary(&h.process(&invoiced).await);
    assert!(said.contains("written to the source as C7-INV-2"), "{said}");
    let mut changed = invoiced.clone();
    changed.lines[0].received = Decimal::ONE;
    changed.modified_at = at(2);
    h.process(&changed).await;
    let messages = sim.ims_messages();
    let invoices: Vec<_> = messages
        .iter()
        .filter(|m| m.parameters["documentName"] == "ProcessSupplierInvoice")
        .collect();
    assert_eq!(invoices.len(), 1, "sent once");
    let bod = Bod::<InvoiceNoun>::from_slice(&invoices[0].payload).unwrap();
    let noun = &bod.nouns[0];
    assert_eq!(noun.header.document_id.id.value, "C7-INV-2");
    assert_eq!(
        noun.header.alternate_document_ids[0]
            .id
            .scheme_name
            .as_deref(),
        Some("SupplierInvoiceNumber")
    );
    assert_eq!(noun.lines.len(), 2);
    let reference = noun.lines[0].purchase_order_reference.as_ref().unwrap();
    assert_eq!(
        reference.document_id.as_ref().unwrap().id.value,
        "PO0000001"
    );
    // Matched by item, first free line of that item.
    let line = items.iter().position(|(i, _)| *i == items[1].0).unwrap() + 1;
    assert_eq!(reference.line_number, Some(line.to_string()));
    assert!(noun.lines[1].purchase_order_reference.is_none());
}

#[tokio::test]
async fn m3_a_po_raised_in_cin7_is_entered_received_and_invoiced_once() {
    let clock = ManualClock::default();
    let (sim, client) = start(&clock, 0).await;
    let tenant = client.tenant().to_owned();
    let scope = SourceIdentity::new(SYSTEM, &tenant, "", "");
    let forward = CloudSuiteSource::data_lake(client.data_lake(), &tenant, "");
    let writer = Arc::new(M3PoWriter::new(
        client.m3().company("100"),
        M3WriterConfig::new("A01", "MAIN", "SYNCUSER"),
    ));
    let h = Harness::new(writer, forward, scope, &clock);
    // The supplier link the forward supplier stream keeps.
    h.store
        .put_cross_ref(
            TENANT,
            &CrossRef {
                kind: RecordKind::Supplier,
                source: h.scope.sibling("V000002"),
                target_id: "SUP-GUID".into(),
                aux: BTreeMap::new(),
                synced_hash: None,
                synced_modified_at: None,
            },
        )
        .await
        .unwrap();
    let mut raised = purchase(
        "G7",
        None,
        &[("ITEM-00001", 5, 0), ("ITEM-00003", 2, 0)],
        Vec::new(),
        1,
    );
    raised.supplier_vendor_id = Some("V000002".into());
    let processed = h.process(&raised).await;
    summary(&processed);
    let po = processed.entry().unwrap().target_id.clone().unwrap();
    assert_eq!(
        sim.data().find("SLPos", &[po.as_str()]).unwrap().values["VendOrder"].as_deref(),
        Some("G7")
    );

    // Received in full and invoiced in Cin7.
    let mut done = purchase(
        "G7",
        None,
        &[("ITEM-00001", 5, 5), ("ITEM-00003", 2, 2)],
        vec![invoice("T7", "SUP-77", "ITEM-00003", 2)],
        2,
    );
    done.supplier_vendor_id = Some("V000002".into());
    let said = summary(&h.process(&done).await);
    assert!(said.contains("status/receipts written"), "{said}");
    assert!(
        said.contains("invoice SUP-77 written to the source as"),
        "{said}"
    );
    let line = sim
        .data()
        .find("SLPoItems", &[po.as_str(), "2", "0"])
        .unwrap()
        .clone();
    assert_eq!(line.values["QtyReceived"].as_deref(), Some("2"));
    assert_eq!(line.values["Stat"].as_deref(), Some("F"));
    let batch = sim
        .data()
        .rows("SLAptrxs")
        .iter()
        .find(|v| v.values["InvNum"].as_deref() == Some("SUP-77"))
        .unwrap()
        .values["Voucher"]
        .clone()
        .unwrap();
    assert!(h.forward_invoice_in_step(&batch).await);

    // Nothing more is written however often it comes back.
    let receipts = sim.calls()["GET /m3/PPS001MI/Receipt"];
    for minute in 3..8 {
        let mut again = done.clone();
        again.modified_at = at(minute);
        h.process(&again).await;
    }
    assert_eq!(sim.calls()["GET /m3/PPS001MI/Receipt"], receipts);
    assert_eq!(sim.calls()["GET /m3/APS450MI/AddHead"], 1);
    assert_eq!(sim.calls()["GET /m3/PPS370MI/FinishEntry"], 1);
}
