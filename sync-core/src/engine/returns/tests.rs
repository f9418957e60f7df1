use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::engine::{Processed, RunContext, process_record};
use crate::error::TargetError;
use crate::model::{
    InvoiceLine, InvoiceUpdate, InvoiceUpdateLine, PoLine, PoStatus, PurchaseUpdateLine,
    SupplierInvoice,
};
use crate::store::memory::MemoryStore;
use crate::store::{AuditStatus, CrossRefStore, ErrorClass, StreamKey, SyncStore, WindowCommit};
use crate::testing::MemorySource;
use crate::time::ManualClock;

const TENANT: &str = "ACME";

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600 + minutes * 60, 0).unwrap_or_default()
}

fn scope() -> SourceIdentity {
    SourceIdentity::new("cloudsuite", "ACME_PRD", "DALS", "")
}

/// A source that holds purchase orders, readable by the forward stream too.
#[derive(Debug)]
struct FakeSource {
    states: Mutex<BTreeMap<String, (SourcePoState, String)>>,
    forward: MemorySource<PurchaseOrder>,
    writes: Mutex<Vec<String>>,
    fail_create_after_apply: Mutex<bool>,
    /// The next create writes the header and this many lines, then fails (a crash).
    stop_create_after_lines: Mutex<Option<usize>>,
    now: Mutex<i64>,
    /// Source invoices: (key, vendor, invoice number).
    invoices: Mutex<Vec<(String, String, String)>>,
    forward_invoices: MemorySource<SupplierInvoice>,
    fail_invoice_after_apply: Mutex<bool>,
}

impl FakeSource {
    fn new() -> Arc<Self> {
        Arc::new(FakeSource {
            states: Mutex::new(BTreeMap::new()),
            forward: MemorySource::new(at(10_000)),
            writes: Mutex::new(Vec::new()),
            fail_create_after_apply: Mutex::new(false),
            stop_create_after_lines: Mutex::new(None),
            now: Mutex::new(100),
            invoices: Mutex::new(Vec::new()),
            forward_invoices: MemorySource::new(at(10_000)),
            fail_invoice_after_apply: Mutex::new(false),
        })
    }

    /// A supplier invoice the source holds (and the forward invoice stream reads).
    fn put_invoice(&self, key: &str, vendor: &str, number: &str, po: Option<&str>) {
        self.forward_invoices.upsert(SupplierInvoice {
            identity: scope().sibling(key),
            invoice_number: number.into(),
            vendor_id: vendor.into(),
            po_id: po.map(str::to_owned),
            invoice_date: NaiveDate::from_ymd_opt(2026, 1, 20).unwrap_or_default(),
            due_date: None,
            currency: "USD".into(),
            lines: vec![InvoiceLine {
                line_no: 1,
                sku: None,
                description: format!("Voucher {key}"),
                quantity: Decimal::ONE,
                unit_price: Decimal::from(40),
                gl_account: "50000".into(),
                tax_rule: None,
            }],
            modified_at: self.tick(),
        });
        self.invoices
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key.into(), vendor.into(), number.into()));
    }

    fn invoice_count(&self) -> usize {
        self.invoices
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    fn tick(&self) -> DateTime<Utc> {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += 1;
        at(*now)
    }

    fn put(&self, state: SourcePoState, vendor: &str) {
        let po = PurchaseOrder {
            identity: scope().sibling(state.po_number.clone()),
            po_number: state.po_number.clone(),
            vendor_id: vendor.into(),
            order_date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
            required_by: None,
            currency: "USD".into(),
            location: None,
            status: state.status.clone(),
            memo: None,
            lines: state
                .lines
                .iter()
                .map(|l| PoLine {
                    line_no: l.line_no,
                    sku: l.item.clone(),
                    description: l.item.clone(),
                    quantity: l.ordered,
                    unit_price: Decimal::ONE,
                    tax_rule: None,
                })
                .collect(),
            modified_at: self.tick(),
        };
        self.forward.upsert(po);
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(state.po_number.clone(), (state, vendor.into()));
    }

    fn state(&self, po: &str) -> Option<SourcePoState> {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(po)
            .map(|(s, _)| s.clone())
    }

    fn writes(&self) -> Vec<String> {
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl SourcePurchaseWriter for FakeSource {
    async fn get_po(&self, po_number: &str) -> Result<Option<SourcePoState>, TargetError> {
        Ok(self.state(po_number))
    }

    async fn find_by_external_ref(&self, external_ref: &str) -> Result<Vec<String>, TargetError> {
        Ok(self
            .writes()
            .iter()
            .filter_map(|w| w.strip_prefix(&format!("create {external_ref} ")))
            .map(str::to_owned)
            .collect())
    }

    async fn create_po(&self, draft: &SourcePoDraft) -> Result<String, TargetError> {
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("create {} {}", draft.external_ref, draft.po_number));
        let stop = self
            .stop_create_after_lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let written = stop.unwrap_or(draft.lines.len());
        self.put(
            SourcePoState {
                po_number: draft.po_number.clone(),
                status: draft.status.clone(),
                vendor_id: Some(draft.vendor_id.clone()),
                lines: draft
                    .lines
                    .iter()
                    .take(written)
                    .map(|l| SourcePoLine {
                        line_no: l.line_no,
                        item: l.item.clone(),
                        ordered: l.quantity,
                        received: l.received,
                    })
                    .collect(),
            },
            &draft.vendor_id,
        );
        if stop.is_some() {
            return Err(TargetError::unknown_outcome("the process was killed"));
        }
        let mut fail = self
            .fail_create_after_apply
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if std::mem::take(&mut *fail) {
            return Err(TargetError::unknown_outcome("connection reset"));
        }
        Ok(draft.po_number.clone())
    }

    async fn complete_po(&self, po_number: &str, draft: &SourcePoDraft) -> Result<(), TargetError> {
        let (mut state, vendor) = self
            .states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(po_number)
            .cloned()
            .ok_or_else(|| TargetError::rejected(404, "no such PO"))?;
        let missing: Vec<_> = draft
            .lines
            .iter()
            .filter(|l| !state.lines.iter().any(|s| s.line_no == l.line_no))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!(
                "complete {po_number} {}",
                missing
                    .iter()
                    .map(|l| l.line_no.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        state
            .lines
            .extend(missing.into_iter().map(|l| SourcePoLine {
                line_no: l.line_no,
                item: l.item.clone(),
                ordered: l.quantity,
                received: l.received,
            }));
        state.lines.sort_by_key(|l| l.line_no);
        self.put(state, &vendor);
        Ok(())
    }

    async fn update_po(&self, po_number: &str, change: &SourcePoChange) -> Result<(), TargetError> {
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("update {po_number}"));
        let (mut state, vendor) = self
            .states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(po_number)
            .cloned()
            .ok_or_else(|| TargetError::rejected(404, "no such PO"))?;
        if let Some(status) = &change.status {
            state.status = status.clone();
        }
        for r in &change.received {
            if let Some(line) = state.lines.iter_mut().find(|l| l.line_no == r.line_no) {
                line.received = r.total;
            }
        }
        self.put(state, &vendor);
        Ok(())
    }

    fn writes_invoices(&self) -> bool {
        true
    }

    async fn find_invoices(
        &self,
        vendor_id: &str,
        invoice_number: &str,
    ) -> Result<Vec<String>, TargetError> {
        Ok(self
            .invoices
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, v, n)| v == vendor_id && n == invoice_number)
            .map(|(k, _, _)| k.clone())
            .collect())
    }

    async fn create_invoice(&self, draft: &SourceInvoiceDraft) -> Result<String, TargetError> {
        let key = format!("VCH{}", self.invoice_count() + 1);
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("invoice {} {key}", draft.invoice_number));
        self.put_invoice(
            &key,
            &draft.vendor_id,
            &draft.invoice_number,
            Some(&draft.po_number),
        );
        if std::mem::take(
            &mut *self
                .fail_invoice_after_apply
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        ) {
            return Err(TargetError::unknown_outcome("gateway timeout"));
        }
        Ok(key)
    }
}

struct Harness {
    store: Arc<MemoryStore>,
    source: Arc<FakeSource>,
    pipeline: ReturnPipeline,
    clock: ManualClock,
}

fn harness(policy: ConflictPolicy) -> Harness {
    let source = FakeSource::new();
    let mut config = ReturnConfig::new(scope());
    config.policy = policy;
    config.forward_revision = "rev1".into();
    let pipeline = ReturnPipeline::new(source.clone(), Arc::new(source.forward.clone()), config)
        .with_invoices(Arc::new(source.forward_invoices.clone()));
    Harness {
        store: Arc::new(MemoryStore::new()),
        source,
        pipeline,
        clock: ManualClock::default(),
    }
}

impl Harness {
    fn run(&self) -> RunContext {
        RunContext::new(self.store.clone(), self.clock.shared(), TENANT)
    }

    async fn process(&self, update: &PurchaseUpdate) -> Processed {
        let run = self.run();
        let processed = process_record(&run, &self.pipeline, update, false, None)
            .await
            .expect("processed");
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
                .expect("committed");
        }
        processed
    }

    /// What the forward stream would decide for this source PO now.
    async fn forward_would_skip(&self, po: &str) -> bool {
        let record = self
            .source
            .forward
            .fetch(&scope().sibling(po))
            .await
            .expect("fetch")
            .expect("exists");
        let key = sync_key(&record.content_hash().expect("hash"), "rev1");
        let xref = self
            .store
            .cross_ref(TENANT, RecordKind::PurchaseOrder, &scope().sibling(po))
            .await
            .expect("xref");
        xref.and_then(|x| x.synced_hash) == Some(key)
    }

    /// What the forward invoice stream would decide for this source invoice now: skip it.
    async fn forward_invoice_would_skip(&self, key: &str) -> bool {
        let record = self
            .source
            .forward_invoices
            .fetch(&scope().sibling(key))
            .await
            .expect("fetch")
            .expect("exists");
        let synced = sync_key(&record.content_hash().expect("hash"), "rev1");
        let xref = self
            .store
            .cross_ref(TENANT, RecordKind::SupplierInvoice, &scope().sibling(key))
            .await
            .expect("xref");
        xref.and_then(|x| x.synced_hash) == Some(synced)
    }

    /// The forward invoice stream posted source invoice `key` to purchase `target_id` as
    /// invoice task `task`.
    async fn forward_invoice_synced(&self, key: &str, target_id: &str, task: &str) {
        let record = self
            .source
            .forward_invoices
            .fetch(&scope().sibling(key))
            .await
            .expect("fetch")
            .expect("exists");
        let xref = CrossRef {
            kind: RecordKind::SupplierInvoice,
            source: scope().sibling(key),
            target_id: target_id.into(),
            aux: BTreeMap::from([("invoice_task_id".to_owned(), task.to_owned())]),
            synced_hash: Some(sync_key(&record.content_hash().expect("hash"), "rev1")),
            synced_modified_at: Some(record.modified_at),
        };
        self.store.put_cross_ref(TENANT, &xref).await.expect("put");
    }

    /// The forward stream wrote `po` to the target as purchase `target_id`.
    async fn forward_synced(&self, po: &str, target_id: &str) {
        let record = self
            .source
            .forward
            .fetch(&scope().sibling(po))
            .await
            .expect("fetch")
            .expect("exists");
        let xref = CrossRef {
            kind: RecordKind::PurchaseOrder,
            source: scope().sibling(po),
            target_id: target_id.into(),
            aux: BTreeMap::from([(
                crate::engine::purchase_orders::ORDER_STATUS.to_owned(),
                "authorised".to_owned(),
            )]),
            synced_hash: Some(sync_key(&record.content_hash().expect("hash"), "rev1")),
            synced_modified_at: Some(record.modified_at),
        };
        self.store.put_cross_ref(TENANT, &xref).await.expect("put");
    }

    /// The forward supplier stream linked vendor V000001 to target supplier SUP-GUID.
    async fn supplier_linked(&self) {
        let xref = CrossRef {
            kind: RecordKind::Supplier,
            source: scope().sibling("V000001"),
            target_id: "SUP-GUID".into(),
            aux: BTreeMap::new(),
            synced_hash: None,
            synced_modified_at: None,
        };
        self.store.put_cross_ref(TENANT, &xref).await.expect("put");
    }

    /// The forward cross-reference of source PO `po`.
    async fn forward_xref(&self, po: &str) -> Option<CrossRef> {
        self.store
            .cross_ref(TENANT, RecordKind::PurchaseOrder, &scope().sibling(po))
            .await
            .expect("xref")
    }
}

fn state(po: &str, status: PoStatus, received: &[i64]) -> SourcePoState {
    SourcePoState {
        po_number: po.into(),
        status,
        vendor_id: None,
        lines: received
            .iter()
            .enumerate()
            .map(|(i, r)| SourcePoLine {
                line_no: i as u32 + 1,
                item: format!("ITEM-{}", i + 1),
                ordered: Decimal::from(10),
                received: Decimal::from(*r),
            })
            .collect(),
    }
}

fn update(id: &str, progress: PurchaseProgress, received: &[i64], minute: i64) -> PurchaseUpdate {
    PurchaseUpdate {
        identity: SourceIdentity::new("cin7", TENANT, "", id),
        order_number: "PO-00042".into(),
        reference: Some("PO0000001".into()),
        supplier_id: "SUP-GUID".into(),
        supplier_vendor_id: Some("V000001".into()),
        order_date: NaiveDate::from_ymd_opt(2026, 1, 5),
        required_by: None,
        currency: Some("USD".into()),
        location: None,
        progress,
        invoice_authorised: false,
        invoices: Vec::new(),
        lines: received
            .iter()
            .enumerate()
            .map(|(i, r)| PurchaseUpdateLine {
                sku: format!("ITEM-{}", i + 1),
                name: format!("item {}", i + 1),
                quantity: Decimal::from(10),
                price: Decimal::ONE,
                received: Decimal::from(*r),
            })
            .collect(),
        summary: None,
        modified_at: at(minute),
    }
}

fn invoice(task: &str, number: &str) -> InvoiceUpdate {
    InvoiceUpdate {
        task_id: task.into(),
        invoice_number: number.into(),
        invoice_date: NaiveDate::from_ymd_opt(2026, 1, 25),
        due_date: NaiveDate::from_ymd_opt(2026, 2, 24),
        total_before_tax: Decimal::from(45),
        tax: Decimal::ZERO,
        total: Decimal::from(45),
        lines: vec![
            InvoiceUpdateLine {
                sku: Some("ITEM-2".into()),
                name: "item 2".into(),
                quantity: Decimal::from(4),
                price: Decimal::from(10),
                total: Decimal::from(40),
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

fn with_invoices(mut update: PurchaseUpdate, invoices: Vec<InvoiceUpdate>) -> PurchaseUpdate {
    update.invoice_authorised = !invoices.is_empty();
    update.invoices = invoices;
    update
}

fn own_entry(processed: &Processed) -> &crate::store::AuditEntry {
    processed.entry().expect("an audit entry")
}

#[tokio::test]
async fn a_receipt_on_a_source_po_is_written_back_once_and_not_echoed() {
    let h = harness(ConflictPolicy::default());
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;

    let received = update("G1", PurchaseProgress::PartlyReceived, &[4, 0], 1);
    let processed = h.process(&received).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded);
    assert_eq!(entry.action, Action::Update);
    assert_eq!(h.source.writes(), vec!["update PO0000001"]);
    assert_eq!(
        h.source.state("PO0000001").expect("po").lines[0].received,
        Decimal::from(4)
    );
    // The forward stream sees the source PO as already in step (no echo to the target).
    assert!(h.forward_would_skip("PO0000001").await);
    // The same target content again is skipped by its hash.
    let again = update("G1", PurchaseProgress::PartlyReceived, &[4, 0], 2);
    assert_eq!(h.process(&again).await, Processed::Skipped);
    assert_eq!(h.source.writes().len(), 1);

    // Fully received: the status moves to closed.
    let done = update("G1", PurchaseProgress::Received, &[10, 10], 3);
    h.process(&done).await;
    let po = h.source.state("PO0000001").expect("po");
    assert_eq!(po.status, PoStatus::Closed);
    assert_eq!(po.lines[1].received, Decimal::from(10));
    assert!(h.forward_would_skip("PO0000001").await);
}

#[tokio::test]
async fn the_forward_directions_own_write_read_back_writes_nothing() {
    let h = harness(ConflictPolicy::default());
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;
    // The target purchase as the forward stream wrote it: draft, nothing received.
    let echo = update("G1", PurchaseProgress::Draft, &[0, 0], 1);
    let processed = h.process(&echo).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded);
    assert_eq!(entry.action, Action::Skip);
    assert!(
        h.source.writes().is_empty(),
        "a draft never demotes the source"
    );
    assert_eq!(
        h.source.state("PO0000001").expect("po").status,
        PoStatus::Ordered
    );
}

#[tokio::test]
async fn a_po_raised_in_the_target_is_created_once_with_supplier_and_items_resolved() {
    let h = harness(ConflictPolicy::default());
    let mut raised = update("G9", PurchaseProgress::Draft, &[0], 1);
    raised.reference = None;
    // Draft: not yet.
    let processed = h.process(&raised).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Deferred);
    // Authorised, but the supplier has no cross-reference yet: deferred.
    raised.progress = PurchaseProgress::Ordered;
    raised.modified_at = at(2);
    let processed = h.process(&raised).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Deferred);
    assert!(h.source.writes().is_empty());
    // The supplier cross-reference the forward supplier stream keeps.
    h.supplier_linked().await;
    raised.modified_at = at(3);
    let processed = h.process(&raised).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
    assert_eq!(entry.action, Action::Create);
    assert_eq!(entry.target_id.as_deref(), Some("C700000042"));
    assert_eq!(h.source.writes(), vec!["create G9 C700000042"]);
    assert!(h.forward_would_skip("C700000042").await);
    // A receipt later updates the PO it created, found through its own cross-reference.
    let mut receipt = raised.clone();
    receipt.progress = PurchaseProgress::Received;
    receipt.lines[0].received = Decimal::from(10);
    receipt.modified_at = at(4);
    h.process(&receipt).await;
    assert_eq!(
        h.source.writes(),
        vec!["create G9 C700000042", "update C700000042"]
    );
    assert_eq!(
        h.source.state("C700000042").expect("po").status,
        PoStatus::Closed
    );
}

/// A source PO with the given status and received quantities that the forward stream wrote to
/// the target as `target_id` (its order authorised), read back from the target unchanged.
async fn forward_written(
    h: &Harness,
    po: &str,
    status: PoStatus,
    received: &[i64],
    target_id: &str,
) {
    h.source.put(state(po, status, received), "V000001");
    h.forward_synced(po, target_id).await;
}

#[tokio::test]
async fn the_first_pass_writes_nothing_to_received_planned_and_closed_pos() {
    let h = harness(ConflictPolicy::default());
    forward_written(&h, "PO0000001", PoStatus::Ordered, &[10, 10], "G1").await;
    forward_written(&h, "PO0000002", PoStatus::Ordered, &[5, 0], "G2").await;
    forward_written(&h, "PO0000003", PoStatus::Planned, &[0], "G3").await;
    forward_written(&h, "PO0000004", PoStatus::Closed, &[10], "G4").await;
    // A PO the forward stream linked before this version recorded order statuses (onboarding
    // the return direction on an existing installation): the target differs from the source.
    h.source
        .put(state("PO0000005", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000005", "G5").await;
    let mut old = h.forward_xref("PO0000005").await.expect("xref");
    old.aux.clear();
    h.store.put_cross_ref(TENANT, &old).await.expect("put");

    let mut reads = vec![
        update("G1", PurchaseProgress::Ordered, &[0, 0], 1),
        update("G2", PurchaseProgress::Ordered, &[0, 0], 1),
        update("G3", PurchaseProgress::Ordered, &[0], 1),
        update("G4", PurchaseProgress::Ordered, &[0], 1),
        update("G5", PurchaseProgress::PartlyReceived, &[3, 0], 1),
    ];
    for (read, po) in reads.iter_mut().zip(1..) {
        read.reference = Some(format!("PO000000{po}"));
    }
    for read in &reads {
        let processed = h.process(read).await;
        let entry = own_entry(&processed);
        assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
        assert_eq!(entry.action, Action::Skip, "{entry:?}");
    }
    assert!(h.source.writes().is_empty(), "{:?}", h.source.writes());
    assert_eq!(
        h.source.state("PO0000001").expect("po").lines[0].received,
        Decimal::from(10)
    );
    assert_eq!(
        h.source.state("PO0000003").expect("po").status,
        PoStatus::Planned,
        "authorised by the forward direction, not ordered in the target"
    );
    // From then on a receipt in the target is written, on top of what the source holds.
    let mut receipt = update("G5", PurchaseProgress::PartlyReceived, &[5, 0], 2);
    receipt.reference = Some("PO0000005".into());
    h.process(&receipt).await;
    assert_eq!(h.source.writes(), vec!["update PO0000005"]);
    assert_eq!(
        h.source.state("PO0000005").expect("po").lines[0].received,
        Decimal::from(2)
    );
}

#[tokio::test]
async fn receipts_made_in_the_target_in_two_steps_reach_the_source_exactly_once() {
    let h = harness(ConflictPolicy::default());
    forward_written(&h, "PO0000001", PoStatus::Ordered, &[0, 0], "G1").await;
    let steps: [(&[i64], i64); 5] = [
        ([0, 0].as_slice(), 1),
        (&[4, 0], 2),
        (&[4, 0], 3),
        (&[7, 10], 4),
        (&[7, 10], 5),
    ];
    for (received, minute) in steps {
        h.process(&update(
            "G1",
            PurchaseProgress::PartlyReceived,
            received,
            minute,
        ))
        .await;
    }
    assert_eq!(
        h.source.writes(),
        vec!["update PO0000001", "update PO0000001"]
    );
    let po = h.source.state("PO0000001").expect("po");
    let received: Vec<Decimal> = po.lines.iter().map(|l| l.received).collect();
    assert_eq!(received, vec![Decimal::from(7), Decimal::from(10)]);
    assert!(h.forward_would_skip("PO0000001").await);
}

#[tokio::test]
async fn a_decrease_in_the_target_is_a_conflict_not_a_write() {
    let h = harness(ConflictPolicy::default());
    forward_written(&h, "PO0000001", PoStatus::Ordered, &[0, 0], "G1").await;
    h.process(&update("G1", PurchaseProgress::PartlyReceived, &[4, 0], 1))
        .await;
    assert_eq!(h.source.writes().len(), 1);

    let lower = update("G1", PurchaseProgress::PartlyReceived, &[2, 0], 2);
    let processed = h.process(&lower).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Conflict, "{entry:?}");
    assert!(
        entry
            .error
            .as_ref()
            .is_some_and(|e| e.message.contains("went down in the target from 4 to 2")),
        "{entry:?}"
    );
    assert_eq!(h.source.writes().len(), 1, "nothing written");
    assert_eq!(h.process(&lower).await, Processed::Skipped, "one row");
    // Back where the two sides agree: in step again, nothing written.
    let agreed = h
        .process(&update("G1", PurchaseProgress::PartlyReceived, &[4, 0], 3))
        .await;
    assert_eq!(own_entry(&agreed).status, AuditStatus::Succeeded);
    assert_eq!(h.source.writes().len(), 1);
}

#[tokio::test]
async fn a_create_stopped_after_the_header_or_any_line_is_completed_once_without_an_echo() {
    for stop_after in 0..=3 {
        let h = harness(ConflictPolicy::default());
        h.supplier_linked().await;
        *h.source
            .stop_create_after_lines
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(stop_after);
        let mut raised = update("G7", PurchaseProgress::Ordered, &[0, 0, 0], 1);
        raised.reference = None;
        let stopped = h.process(&raised).await;
        assert_eq!(own_entry(&stopped).status, AuditStatus::Failed);
        // Until the create is complete the forward stream is told the PO is the purchase's.
        let mark = h
            .forward_xref("C700000042")
            .await
            .expect("marked before the write");
        assert_eq!(mark.target_id, "G7");
        assert_eq!(
            mark.aux
                .get(marks::CREATING_FROM_TARGET)
                .map(String::as_str),
            Some(marks::PENDING)
        );
        assert_eq!(mark.synced_hash, None);

        let resumed = h.process(&raised).await;
        let entry = own_entry(&resumed);
        assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
        assert_eq!(entry.match_result, Some(MatchResult::ByLookup));
        let mut expected = vec!["create G7 C700000042".to_owned()];
        if stop_after < 3 {
            let missing: Vec<String> = ((stop_after + 1)..=3).map(|n| n.to_string()).collect();
            expected.push(format!("complete C700000042 {}", missing.join(",")));
        }
        assert_eq!(
            h.source.writes(),
            expected,
            "stopped after {stop_after} lines"
        );
        assert_eq!(h.source.state("C700000042").expect("po").lines.len(), 3);
        // Linked both ways: the forward stream skips it, the mark is gone.
        assert!(h.forward_would_skip("C700000042").await);
        let linked = h.forward_xref("C700000042").await.expect("xref");
        assert!(!linked.aux.contains_key(marks::CREATING_FROM_TARGET));
        // Nothing more is written on later passes.
        raised.modified_at = at(2);
        h.process(&raised).await;
        assert_eq!(h.source.writes().len(), expected.len());
    }
}

/// The target's purchases as a source of full reads, counting them.
#[derive(Debug, Clone)]
struct FullReads {
    purchases: MemorySource<PurchaseUpdate>,
    fetches: Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait]
impl Source<PurchaseUpdate> for FullReads {
    async fn server_time(&self) -> Result<DateTime<Utc>, crate::error::SourceError> {
        self.purchases.server_time().await
    }

    fn poll(
        &self,
        window: crate::source::Window,
    ) -> futures::stream::BoxStream<'_, Result<PurchaseUpdate, crate::error::SourceError>> {
        self.purchases.poll(window)
    }

    async fn fetch(
        &self,
        identity: &SourceIdentity,
    ) -> Result<Option<PurchaseUpdate>, crate::error::SourceError> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.purchases.fetch(identity).await
    }
}

/// A harness whose pipeline reads summaries in full from the returned `FullReads`.
fn summarising() -> (Harness, FullReads) {
    let mut h = harness(ConflictPolicy::default());
    let reads = FullReads {
        purchases: MemorySource::new(at(10_000)),
        fetches: Arc::default(),
    };
    let mut config = ReturnConfig::new(scope());
    config.forward_revision = "rev1".into();
    h.pipeline = ReturnPipeline::new(h.source.clone(), Arc::new(h.source.forward.clone()), config)
        .with_invoices(Arc::new(h.source.forward_invoices.clone()))
        .with_full_reads(Arc::new(reads.clone()));
    (h, reads)
}

/// `full` as the list row shows it: nothing loaded but the progress.
fn summary_of(full: &PurchaseUpdate) -> PurchaseUpdate {
    PurchaseUpdate {
        reference: None,
        lines: Vec::new(),
        invoices: Vec::new(),
        summary: Some(crate::model::PurchaseSummary {
            last_updated: full.modified_at,
            quiet: full.lines.iter().all(|l| l.received.is_zero()) && full.invoices.is_empty(),
        }),
        ..full.clone()
    }
}

fn fetches(reads: &FullReads) -> usize {
    reads.fetches.load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn summaries_of_purchases_the_forward_sync_wrote_need_no_call() {
    let (h, reads) = summarising();
    for (po, id) in [("PO0000001", "G1"), ("PO0000002", "G2")] {
        forward_written(&h, po, PoStatus::Ordered, &[0, 0], id).await;
        let full = update(id, PurchaseProgress::Ordered, &[0, 0], 1);
        reads.purchases.upsert(full.clone());
        let processed = h.process(&summary_of(&full)).await;
        let entry = own_entry(&processed);
        assert_eq!(
            (entry.status, entry.action),
            (AuditStatus::Succeeded, Action::Skip)
        );
    }
    assert_eq!(fetches(&reads), 0, "no purchase read back");
    assert!(h.source.writes().is_empty());
    // The same rows in the next window: skipped by the engine.
    let full = update("G1", PurchaseProgress::Ordered, &[0, 0], 1);
    assert_eq!(h.process(&summary_of(&full)).await, Processed::Skipped);
    // A receipt changes the row; the source then reads it in full: written from a zero
    // baseline.
    let received = update("G1", PurchaseProgress::PartlyReceived, &[3, 0], 2);
    h.process(&received).await;
    assert_eq!(h.source.writes(), vec!["update PO0000001"]);
    assert_eq!(
        h.source.state("PO0000001").expect("po").lines[0].received,
        Decimal::from(3)
    );
}

#[tokio::test]
async fn a_summary_that_may_hold_a_change_is_read_in_full() {
    let (h, reads) = summarising();
    // The forward sync wrote a planned PO as a draft; a person authorises it in the target.
    h.source
        .put(state("PO0000001", PoStatus::Planned, &[0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;
    let mut xref = h.forward_xref("PO0000001").await.expect("xref");
    xref.aux.insert(
        crate::engine::purchase_orders::ORDER_STATUS.to_owned(),
        "draft".to_owned(),
    );
    h.store.put_cross_ref(TENANT, &xref).await.expect("put");
    let full = update("G1", PurchaseProgress::Ordered, &[0], 1);
    reads.purchases.upsert(full.clone());
    let processed = h.process(&summary_of(&full)).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Succeeded);
    assert_eq!(fetches(&reads), 1);
    assert_eq!(
        h.source.state("PO0000001").expect("po").status,
        PoStatus::Ordered,
        "authorised in the target: a target event"
    );

    // Raised in the target: a draft summary waits without a read; authorised, it is read.
    let mut raised = update("G9", PurchaseProgress::Draft, &[0], 1);
    raised.reference = None;
    reads.purchases.upsert(raised.clone());
    let processed = h.process(&summary_of(&raised)).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Deferred);
    assert_eq!(fetches(&reads), 1);
    h.supplier_linked().await;
    raised.progress = PurchaseProgress::Ordered;
    raised.modified_at = at(2);
    reads.purchases.upsert(raised.clone());
    let processed = h.process(&summary_of(&raised)).await;
    let entry = own_entry(&processed);
    assert_eq!(
        (entry.status, entry.action),
        (AuditStatus::Succeeded, Action::Create),
        "{entry:?}"
    );
    assert_eq!(fetches(&reads), 2);
    assert_eq!(h.source.state("C700000042").expect("po").lines.len(), 1);
}

#[tokio::test]
async fn a_purchase_the_forward_sync_wrote_from_an_invoice_is_not_created_as_a_po() {
    let h = harness(ConflictPolicy::default());
    // An invoice-first purchase: the forward invoice stream stamped the invoice number as its
    // reference, and no PO cross-reference names it.
    let mut invoice_first = update("G7", PurchaseProgress::Received, &[10], 1);
    invoice_first.reference = Some("INV-7731".into());
    let processed = h.process(&invoice_first).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
    assert_eq!(entry.action, Action::None);
    assert!(
        entry
            .response_summary
            .as_deref()
            .is_some_and(|s| s.contains("created by the forward sync from source record INV-7731")),
        "{entry:?}"
    );
    assert!(h.source.writes().is_empty(), "{:?}", h.source.writes());
}

#[tokio::test]
async fn an_uncertain_create_is_looked_up_not_repeated() {
    let h = harness(ConflictPolicy::default());
    h.supplier_linked().await;
    *h.source
        .fail_create_after_apply
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = true;
    let mut raised = update("G7", PurchaseProgress::Ordered, &[0], 1);
    raised.reference = None;
    let processed = h.process(&raised).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Failed);
    let processed = h.process(&raised).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
    assert_eq!(entry.match_result, Some(MatchResult::ByLookup));
    assert_eq!(h.source.writes(), vec!["create G7 C700000042"]);
}

/// Both sides changed the receipts of the same PO since the last sync.
async fn conflicting(policy: ConflictPolicy) -> (Harness, Processed) {
    let h = harness(policy);
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;
    // A first return sync records what the source held.
    h.process(&update("G1", PurchaseProgress::Ordered, &[0, 0], 1))
        .await;
    assert!(h.source.writes().is_empty());
    // The source receives 3 on line 1 while the target receives 5 there.
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[3, 0]), "V000001");
    let processed = h
        .process(&update("G1", PurchaseProgress::PartlyReceived, &[5, 0], 2))
        .await;
    (h, processed)
}

#[tokio::test]
async fn conflict_with_target_winning_writes_the_target_value_and_keeps_both_versions() {
    let (h, processed) = conflicting(ConflictPolicy::all(Winner::Target)).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded);
    assert_eq!(h.source.writes(), vec!["update PO0000001"]);
    // Target wins: the 5 newly received in the target are added to the source's 3.
    assert_eq!(
        h.source.state("PO0000001").expect("po").lines[0].received,
        Decimal::from(8)
    );
    let mapped = entry.mapped_snapshot.as_ref().expect("mapped");
    assert_eq!(mapped["source_version"]["lines"][0]["received"], "3");
    assert_eq!(mapped["target_version"]["lines"][0]["received"], "5");
    assert!(
        entry
            .response_summary
            .as_deref()
            .is_some_and(|s| s.contains("receipts: Target wins"))
    );
}

#[tokio::test]
async fn conflict_with_source_winning_writes_nothing() {
    let (h, processed) = conflicting(ConflictPolicy::all(Winner::Source)).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded);
    assert_eq!(entry.action, Action::Skip);
    assert!(h.source.writes().is_empty());
    assert_eq!(
        h.source.state("PO0000001").expect("po").lines[0].received,
        Decimal::from(3)
    );
    assert!(
        entry
            .response_summary
            .as_deref()
            .is_some_and(|s| s.contains("receipts: Source wins"))
    );
}

#[tokio::test]
async fn conflict_for_review_is_recorded_once_with_both_versions_and_not_written() {
    let (h, processed) = conflicting(ConflictPolicy::all(Winner::Review)).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Conflict);
    assert!(h.source.writes().is_empty());
    let mapped = entry.mapped_snapshot.as_ref().expect("mapped");
    assert_eq!(mapped["source_version"]["lines"][0]["received"], "3");
    assert_eq!(mapped["target_version"]["lines"][0]["received"], "5");
    // The same target content in the next window adds no second row.
    let again = h
        .process(&update("G1", PurchaseProgress::PartlyReceived, &[5, 0], 2))
        .await;
    assert_eq!(again, Processed::Skipped);
    // A later target change still conflicts on receipts (the source value stays unsettled).
    let later = h
        .process(&update("G1", PurchaseProgress::PartlyReceived, &[6, 0], 3))
        .await;
    assert_eq!(own_entry(&later).status, AuditStatus::Conflict);
    assert!(h.source.writes().is_empty());
}

#[tokio::test]
async fn an_invoice_authorised_in_the_target_is_written_once_and_not_carried_forward_again() {
    let h = harness(ConflictPolicy::default());
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;

    let invoiced = with_invoices(
        update("G1", PurchaseProgress::Ordered, &[0, 0], 1),
        vec![invoice("T1", "INV-77")],
    );
    let processed = h.process(&invoiced).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
    assert_eq!(entry.action, Action::Update);
    assert_eq!(h.source.writes(), vec!["invoice INV-77 VCH1"]);
    assert!(
        entry
            .response_summary
            .as_deref()
            .is_some_and(|s| s.contains("invoice INV-77 written to the source as VCH1")),
        "{entry:?}"
    );
    let draft = &entry.mapped_snapshot.as_ref().expect("mapped")["invoices"][0]["draft"];
    assert_eq!(draft["po_number"], "PO0000001");
    assert_eq!(draft["vendor_id"], "V000001");
    assert_eq!(draft["lines"][0]["po_line"], 2, "ITEM-2 is PO line 2");
    assert_eq!(draft["lines"][1]["po_line"], serde_json::Value::Null);
    // The forward invoice stream will find the new source invoice already in the target.
    assert!(h.forward_invoice_would_skip("VCH1").await);

    // The same purchase again, and later changes of it, never write the invoice again.
    assert_eq!(h.process(&invoiced).await, Processed::Skipped);
    let received = with_invoices(
        update("G1", PurchaseProgress::PartlyReceived, &[0, 4], 2),
        vec![invoice("T1", "INV-77")],
    );
    let processed = h.process(&received).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Succeeded);
    assert_eq!(
        h.source.writes(),
        vec!["invoice INV-77 VCH1", "update PO0000001"]
    );
    assert_eq!(h.source.invoice_count(), 1);
}

#[tokio::test]
async fn an_invoice_that_came_from_the_source_is_not_written_back() {
    let h = harness(ConflictPolicy::default());
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;
    // CloudSuite holds voucher 100001; the forward invoice stream posted it to purchase G1.
    h.source
        .put_invoice("100001", "V000001", "INV-5", Some("PO0000001"));
    h.forward_invoice_synced("100001", "G1", "T5").await;

    for cycle in 0..5 {
        let echo = with_invoices(
            update("G1", PurchaseProgress::Ordered, &[0, 0], 1 + cycle),
            vec![invoice("T5", "INV-5")],
        );
        h.process(&echo).await;
    }
    assert!(h.source.writes().is_empty(), "{:?}", h.source.writes());
    assert_eq!(h.source.invoice_count(), 1);
    let own = h
        .store
        .cross_ref(
            TENANT,
            RecordKind::SupplierInvoice,
            &SourceIdentity::new("cin7", TENANT, "", "T5"),
        )
        .await
        .expect("xref")
        .expect("the echo is remembered");
    assert_eq!(own.target_id, "100001");
    assert_eq!(own.aux.get("origin").map(String::as_str), Some("source"));
    // A second, Cin7-authored invoice on the same purchase is written, the echo still is not.
    let both = with_invoices(
        update("G1", PurchaseProgress::Ordered, &[0, 0], 9),
        vec![invoice("T5", "INV-5"), invoice("T6", "INV-6")],
    );
    let processed = h.process(&both).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Succeeded);
    assert_eq!(h.source.writes(), vec!["invoice INV-6 VCH2"]);
}

#[tokio::test]
async fn an_uncertain_invoice_create_is_looked_up_not_repeated() {
    let h = harness(ConflictPolicy::default());
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;
    *h.source
        .fail_invoice_after_apply
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = true;
    let invoiced = with_invoices(
        update("G1", PurchaseProgress::Ordered, &[0, 0], 1),
        vec![invoice("T1", "INV-77")],
    );
    let processed = h.process(&invoiced).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Failed);
    assert_eq!(
        entry.error.as_ref().map(|e| e.class),
        Some(ErrorClass::UnknownOutcome)
    );
    // The same unchanged purchase is not skipped: the last attempt's outcome is unknown.
    let processed = h.process(&invoiced).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
    assert!(
        entry
            .response_summary
            .as_deref()
            .is_some_and(|s| s.contains("already in the source (VCH1)")),
        "{entry:?}"
    );
    assert_eq!(h.source.writes(), vec!["invoice INV-77 VCH1"]);
    assert_eq!(h.source.invoice_count(), 1);
    // Found by lookup, it is linked for the forward stream too.
    assert!(h.forward_invoice_would_skip("VCH1").await);
}

#[tokio::test]
async fn an_invoice_on_a_po_raised_in_the_target_goes_to_the_po_just_created() {
    let h = harness(ConflictPolicy::default());
    h.supplier_linked().await;
    let mut raised = with_invoices(
        update("G9", PurchaseProgress::Ordered, &[0, 0], 1),
        vec![invoice("G9", "INV-9")],
    );
    raised.reference = None;
    let processed = h.process(&raised).await;
    let entry = own_entry(&processed);
    assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
    assert_eq!(entry.action, Action::Create);
    assert_eq!(
        h.source.writes(),
        vec!["create G9 C700000042", "invoice INV-9 VCH1"]
    );
    let draft = &entry.mapped_snapshot.as_ref().expect("mapped")["invoices"][0]["draft"];
    assert_eq!(draft["po_number"], "C700000042");
}

#[tokio::test]
async fn an_invoice_without_a_number_waits() {
    let h = harness(ConflictPolicy::default());
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;
    let unnumbered = with_invoices(
        update("G1", PurchaseProgress::Ordered, &[0, 0], 1),
        vec![invoice("T1", " ")],
    );
    let processed = h.process(&unnumbered).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Deferred);
    assert!(h.source.writes().is_empty());
    // Numbered in the target later: written then.
    let numbered = with_invoices(
        update("G1", PurchaseProgress::Ordered, &[0, 0], 2),
        vec![invoice("T1", "INV-1")],
    );
    let processed = h.process(&numbered).await;
    assert_eq!(own_entry(&processed).status, AuditStatus::Succeeded);
    assert_eq!(h.source.writes(), vec!["invoice INV-1 VCH1"]);
}

#[tokio::test]
async fn without_the_forward_invoice_source_invoices_are_left_alone() {
    let source = FakeSource::new();
    let mut config = ReturnConfig::new(scope());
    config.forward_revision = "rev1".into();
    let pipeline = ReturnPipeline::new(source.clone(), Arc::new(source.forward.clone()), config);
    assert!(!pipeline.writes_invoices());
    let h = Harness {
        store: Arc::new(MemoryStore::new()),
        source,
        pipeline,
        clock: ManualClock::default(),
    };
    h.source
        .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
    h.forward_synced("PO0000001", "G1").await;
    let invoiced = with_invoices(
        update("G1", PurchaseProgress::Ordered, &[0, 0], 1),
        vec![invoice("T1", "INV-77")],
    );
    let processed = h.process(&invoiced).await;
    assert_eq!(own_entry(&processed).action, Action::Skip);
    assert!(h.source.writes().is_empty());
}

#[test]
fn po_numbers_fit_the_source_field() {
    let config = ReturnConfig::new(scope());
    assert_eq!(config.po_number_for("PO-123456789012", "x"), "C756789012");
    assert_eq!(config.po_number_for("DRAFT", "ab-cd"), "C70000ABCD");
    assert!(config.po_number_for("PO-1", "g").len() <= 10);
}

mod webhook_triggers {
    use super::*;
    use crate::engine::returns::triggers::{
        Trigger, TriggerResolver, enqueue, run_triggers, trigger_stream,
    };
    use crate::error::SourceError;
    use crate::store::{AuditQuery, AuditStore};

    #[derive(Debug)]
    struct Tasks;

    #[async_trait]
    impl TriggerResolver for Tasks {
        async fn resolve(
            &self,
            target: &SourceIdentity,
            _hint: Option<&str>,
        ) -> Result<Option<SourceIdentity>, SourceError> {
            Ok(match target.id.as_str() {
                "G1" => Some(target.clone()),
                "TASK-OF-G1" => Some(target.sibling("G1")),
                _ => None,
            })
        }
    }

    fn trigger(key: &str, target: &str) -> Trigger {
        Trigger {
            delivery_key: key.into(),
            event: "Purchase/StockReceivedAuthorised".into(),
            target: SourceIdentity::new("cin7", TENANT, "", target),
            hint: Some("PO-00042".into()),
            deleted: false,
            received_at: at(5),
        }
    }

    #[tokio::test]
    async fn duplicate_and_sub_task_deliveries_sync_the_purchase_once() {
        let h = harness(ConflictPolicy::default());
        h.source
            .put(state("PO0000001", PoStatus::Ordered, &[0, 0]), "V000001");
        h.forward_synced("PO0000001", "G1").await;
        let cin7 = MemorySource::<PurchaseUpdate>::new(at(10_000));
        cin7.upsert(update("G1", PurchaseProgress::PartlyReceived, &[2, 0], 4));

        let store = h.store.as_ref();
        assert!(
            enqueue(store, TENANT, &trigger("d1", "TASK-OF-G1"))
                .await
                .expect("queued")
        );
        assert!(
            !enqueue(store, TENANT, &trigger("d1", "TASK-OF-G1"))
                .await
                .expect("dup")
        );
        assert!(
            enqueue(store, TENANT, &trigger("d2", "G1"))
                .await
                .expect("queued")
        );
        assert!(
            enqueue(store, TENANT, &trigger("d3", "NOT-A-PURCHASE"))
                .await
                .expect("queued")
        );

        let report = run_triggers(&h.run(), &h.pipeline, &cin7, &Tasks)
            .await
            .expect("ran");
        assert_eq!(report.triggers, 3);
        assert_eq!(report.purchases, 1);
        assert_eq!(report.unresolved, 1);
        assert_eq!(h.source.writes(), vec!["update PO0000001"]);
        assert_eq!(
            h.source.state("PO0000001").expect("po").lines[0].received,
            Decimal::from(2)
        );
        // The queue is empty: a second call does nothing.
        let again = run_triggers(&h.run(), &h.pipeline, &cin7, &Tasks)
            .await
            .expect("ran");
        assert_eq!(again, Default::default());
        let done = h
            .store
            .query(&AuditQuery::tenant(TENANT.to_owned()).stream(trigger_stream()))
            .await
            .expect("query");
        assert_eq!(done.len(), 3);
        assert!(done.iter().all(|e| e.status == AuditStatus::Succeeded));
        // A later delivery for an unchanged purchase re-reads it and writes nothing.
        enqueue(store, TENANT, &trigger("d4", "G1"))
            .await
            .expect("queued");
        let late = run_triggers(&h.run(), &h.pipeline, &cin7, &Tasks)
            .await
            .expect("ran");
        assert_eq!((late.triggers, late.purchases), (1, 1));
        assert_eq!(h.source.writes().len(), 1);
    }
}
