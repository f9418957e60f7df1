//! The forward streams read the marks the return direction leaves before its writes: a PO being
//! created from a target purchase is not carried to the target, and a source invoice written
//! from a target invoice is linked, not posted back (no echo, even after a crash between the
//! write and the cross-references).
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use sync_core::engine::StreamRunner;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::purchase_orders::{ORDER_STATUS, PurchaseOrderPipeline};
use sync_core::engine::returns::marks;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::model::{PurchaseOrder, Record, RecordKind, Supplier, SupplierInvoice};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{Action, AuditStatus, CrossRef, CrossRefStore, StreamId};
use sync_core::testing::{MemoryPurchaseTarget, MemorySource, MemorySupplierTarget};

struct Rig {
    store: MemoryStore,
    purchases: MemoryPurchaseTarget,
    pos_src: MemorySource<PurchaseOrder>,
    invoices_src: MemorySource<SupplierInvoice>,
    pos: StreamRunner<PurchaseOrderPipeline>,
    invoices: StreamRunner<InvoicePipeline>,
}

fn rig() -> Rig {
    let suppliers_src: MemorySource<Supplier> = MemorySource::new(at(100));
    suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    let pos_src = MemorySource::new(at(100));
    let invoices_src = MemorySource::new(at(100));
    let purchases = MemoryPurchaseTarget::new();
    let suppliers = Arc::new(SupplierPipeline::new(
        Arc::new(MemorySupplierTarget::new()),
        mappings(),
    ));
    let pos = StreamRunner::new(
        Arc::new(PurchaseOrderPipeline::new(
            Arc::new(purchases.clone()),
            mappings(),
            suppliers.clone(),
            Arc::new(suppliers_src.clone()),
        )),
        Arc::new(pos_src.clone()),
        config(),
    );
    let invoices = StreamRunner::new(
        Arc::new(InvoicePipeline::new(
            Arc::new(purchases.clone()),
            mappings(),
            suppliers,
            Arc::new(suppliers_src),
        )),
        Arc::new(invoices_src.clone()),
        config(),
    );
    Rig {
        store: MemoryStore::new(),
        purchases,
        pos_src,
        invoices_src,
        pos,
        invoices,
    }
}

impl Rig {
    async fn mark(&self, po: &str, target_id: &str, aux: &[(&str, &str)]) {
        let xref = CrossRef {
            kind: RecordKind::PurchaseOrder,
            source: ident(po),
            target_id: target_id.into(),
            aux: aux
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            synced_hash: None,
            synced_modified_at: None,
        };
        self.store.put_cross_ref(TENANT, &xref).await.unwrap();
    }

    fn last(&self, stream: StreamId, id: &str) -> sync_core::store::AuditEntry {
        self.store
            .all_entries()
            .into_iter()
            .rfind(|e| e.stream == stream && e.source.id == id)
            .unwrap()
    }
}

#[tokio::test]
async fn a_po_the_return_direction_is_creating_is_not_carried_to_the_target() {
    let rig = rig();
    let (_, clock) = clock();
    rig.pos_src.upsert(po("C700000042", "V1", 5, at(10)));
    rig.mark(
        "C700000042",
        "G7",
        &[(marks::CREATING_FROM_TARGET, marks::PENDING)],
    )
    .await;
    rig.pos
        .run_window(&run(Arc::new(rig.store.clone()), &clock), None)
        .await
        .unwrap();
    let row = rig.last(StreamId::purchase_orders(), "C700000042");
    assert_eq!(row.status, AuditStatus::Deferred, "{row:?}");
    assert!(row.error.unwrap().message.contains("target purchase G7"));
    assert_eq!(
        rig.purchases.calls().total(),
        0,
        "no call, no echo purchase"
    );

    // A mark abandoned (the create ended under another number) links nothing: an unrelated PO
    // that later gets this number is written as usual.
    rig.mark(
        "C700000042",
        "G7",
        &[(marks::CREATING_FROM_TARGET, marks::ABANDONED)],
    )
    .await;
    rig.pos_src.upsert(po("C700000042", "V1", 5, at(20)));
    rig.pos
        .run_window(&run(Arc::new(rig.store.clone()), &clock), None)
        .await
        .unwrap();
    let row = rig.last(StreamId::purchase_orders(), "C700000042");
    assert_eq!(
        (row.status, row.action),
        (AuditStatus::Succeeded, Action::Create)
    );
    assert_eq!(rig.purchases.purchases().len(), 1);
}

#[tokio::test]
async fn a_source_invoice_written_from_a_target_invoice_is_linked_not_posted_back() {
    let rig = rig();
    let (_, clock) = clock();
    // The PO is in the target with its order authorised; the return direction marked that it
    // writes the target's invoice T-1 (number INV-9) to this PO, and stopped before it could
    // link the new source invoice.
    rig.mark(
        "PO1",
        "G1",
        &[
            (ORDER_STATUS, "authorised"),
            ("from_target_invoice/INV-9", "T-1"),
        ],
    )
    .await;
    let mut xref = rig
        .store
        .cross_ref(TENANT, RecordKind::PurchaseOrder, &ident("PO1"))
        .await
        .unwrap()
        .unwrap();
    xref.synced_hash = Some(po("PO1", "V1", 4, at(1)).content_hash().unwrap());
    rig.store.put_cross_ref(TENANT, &xref).await.unwrap();
    rig.invoices_src
        .upsert(invoice("INV-9", "V1", Some("PO1"), "5000", at(10)));
    rig.invoices
        .run_window(&run(Arc::new(rig.store.clone()), &clock), None)
        .await
        .unwrap();
    let row = rig.last(StreamId::supplier_invoices(), "VCH-INV-9");
    assert_eq!(
        (row.status, row.action),
        (AuditStatus::Succeeded, Action::Skip),
        "{row:?}"
    );
    assert_eq!(rig.purchases.calls().invoices, 0, "not posted back");
    let linked = rig
        .store
        .cross_ref(TENANT, RecordKind::SupplierInvoice, &ident("VCH-INV-9"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.target_id, "G1");
    assert_eq!(
        linked.aux.get("invoice_task_id").map(String::as_str),
        Some("T-1")
    );
}
