//! The invoice stage of the return pipeline: invoices authorised in the target written to the
//! source once, and never an invoice that came from the source.
//!
//! For each authorised invoice of a purchase whose PO stage succeeded:
//!
//! 1. The return path's own cross-reference of the invoice (kind `supplier_invoice`, identity
//!    `cin7/<account>//<invoice TaskID>`) says it was handled before: nothing to do, no call.
//! 2. Otherwise the source is asked for invoices of the PO's vendor with that supplier invoice
//!    number ([`SourcePurchaseWriter::find_invoices`]). A match is not written again:
//!    - when the forward cross-reference of the matching source invoice points at this
//!      purchase, the invoice came from the source through the forward invoice stream (an
//!      echo);
//!    - otherwise the source already holds it (keyed in by someone, or written by an earlier
//!      attempt whose answer was lost); the forward cross-reference is created then, so the
//!      forward stream does not post it to the target a second time.
//! 3. No match: a pending intent is recorded, the invoice is created
//!    ([`SourcePurchaseWriter::create_invoice`]), the own cross-reference is stored at once,
//!    and the forward cross-reference of the new source invoice gets its content hash (echo
//!    suppression for the forward invoice stream).
//!
//! An invoice is written once: later edits of it in the target are not carried over.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{PoStage, ReturnPipeline, SourceInvoiceDraft, SourceInvoiceLineDraft, marks};
use crate::engine::{Outcome, RecordContext, sync_key};
use crate::error::{SyncError, TargetError};
use crate::model::{InvoiceUpdate, PurchaseUpdate, Record, RecordKind, SourceIdentity};
use crate::store::{Action, CrossRef};

/// `aux` of the return path's invoice cross-reference: how the invoice was settled.
const ORIGIN: &str = "origin";
/// `aux`: the supplier invoice number.
const INVOICE_NUMBER: &str = "invoice_number";
/// The forward invoice pipeline's `aux` key for the target invoice it posted.
const FORWARD_TASK_ID: &str = "invoice_task_id";

/// What happened to one invoice.
enum Handled {
    /// Handled by an earlier run.
    Known,
    /// Written to the source under `key`.
    Written {
        key: String,
        draft: SourceInvoiceDraft,
    },
    /// The source holds it already.
    Found { key: String, echo: bool },
    /// Cannot be written yet.
    Deferred(String),
    /// The write (or the lookup before it) failed.
    Failed {
        error: TargetError,
        draft: Option<SourceInvoiceDraft>,
    },
}

impl ReturnPipeline {
    /// The return path's identity of a target invoice.
    fn invoice_identity(update: &PurchaseUpdate, invoice: &InvoiceUpdate) -> SourceIdentity {
        update.identity.sibling(invoice.task_id.clone())
    }

    /// The source invoice to create for a target invoice: lines matched to the PO's lines by
    /// item, in order, each PO line once.
    fn invoice_draft(
        &self,
        update: &PurchaseUpdate,
        stage: &PoStage,
        invoice: &InvoiceUpdate,
        vendor_id: String,
    ) -> SourceInvoiceDraft {
        let mut used = BTreeSet::new();
        let mut lines = Vec::with_capacity(invoice.lines.len());
        for (i, line) in invoice.lines.iter().enumerate() {
            let item = line
                .sku
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| self.config.item_for(s));
            let po_line = item.as_ref().and_then(|item| {
                stage
                    .state
                    .lines
                    .iter()
                    .find(|l| &l.item == item && !used.contains(&l.line_no))
                    .map(|l| l.line_no)
            });
            if let Some(n) = po_line {
                used.insert(n);
            }
            lines.push(SourceInvoiceLineDraft {
                line_no: u32::try_from(i + 1).unwrap_or(u32::MAX),
                po_line,
                item,
                description: line.name.clone(),
                quantity: line.quantity,
                unit_price: line.price,
                amount: line.total,
            });
        }
        SourceInvoiceDraft {
            invoice_number: invoice.invoice_number.trim().to_owned(),
            vendor_id,
            po_number: stage.po_number.clone(),
            invoice_date: invoice
                .invoice_date
                .unwrap_or_else(|| update.modified_at.date_naive()),
            due_date: invoice.due_date,
            currency: update
                .currency
                .clone()
                .unwrap_or_else(|| self.config.default_currency.clone()),
            amount_before_tax: invoice.total_before_tax,
            tax: invoice.tax,
            amount: invoice.total,
            external_ref: invoice.task_id.clone(),
            lines,
        }
    }

    /// Record the return path's cross-reference of a target invoice: handled, never again.
    async fn remember_invoice(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
        invoice: &InvoiceUpdate,
        key: &str,
        origin: &str,
    ) -> Result<(), SyncError> {
        let xref = CrossRef {
            kind: RecordKind::SupplierInvoice,
            source: Self::invoice_identity(update, invoice),
            target_id: key.to_owned(),
            aux: BTreeMap::from([
                (ORIGIN.to_owned(), origin.to_owned()),
                (INVOICE_NUMBER.to_owned(), invoice.invoice_number.clone()),
            ]),
            synced_hash: None,
            synced_modified_at: None,
        };
        ctx.store().put_cross_ref(ctx.tenant(), &xref).await?;
        Ok(())
    }

    /// Give the source invoice `key` a forward cross-reference to the target purchase, with
    /// the content hash the forward invoice stream will compute, so that stream skips it.
    /// Nothing when the forward source cannot read it yet (e.g. a BOD ION has not applied) or
    /// when the forward stream already links it.
    async fn link_forward_invoice(
        &self,
        ctx: &RecordContext<'_>,
        key: &str,
        purchase_id: &str,
        task_id: &str,
    ) -> Result<bool, SyncError> {
        let Some(source) = &self.forward_invoices else {
            return Ok(false);
        };
        let identity = self.config.source_scope.sibling(key);
        if ctx
            .store()
            .cross_ref(ctx.tenant(), RecordKind::SupplierInvoice, &identity)
            .await?
            .is_some()
        {
            return Ok(false);
        }
        let Some(record) = source.fetch(&identity).await? else {
            return Ok(false);
        };
        let xref = CrossRef {
            kind: RecordKind::SupplierInvoice,
            source: identity,
            target_id: purchase_id.to_owned(),
            aux: BTreeMap::from([(FORWARD_TASK_ID.to_owned(), task_id.to_owned())]),
            synced_hash: Some(sync_key(
                &record.content_hash()?,
                &self.config.forward_revision,
            )),
            synced_modified_at: Some(record.modified_at),
        };
        ctx.store().put_cross_ref(ctx.tenant(), &xref).await?;
        Ok(true)
    }

    /// Tell the forward invoice stream, before the write, that a source invoice of this PO with
    /// this number comes from the target ([`marks::FROM_TARGET_INVOICE`]): should the run stop
    /// before the forward cross-reference of the new source invoice is stored, the forward
    /// stream links it instead of posting it to the target again.
    async fn mark_invoice_from_target(
        &self,
        ctx: &RecordContext<'_>,
        po_number: &str,
        invoice: &InvoiceUpdate,
    ) -> Result<(), SyncError> {
        let key = marks::from_target_invoice(&invoice.invoice_number);
        self.edit_forward_xref(ctx, po_number, |xref| {
            xref.aux.insert(key, invoice.task_id.clone()).as_ref() != Some(&invoice.task_id)
        })
        .await
    }

    async fn write_invoice(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
        stage: &PoStage,
        invoice: &InvoiceUpdate,
    ) -> Result<Handled, SyncError> {
        if ctx
            .store()
            .cross_ref(
                ctx.tenant(),
                RecordKind::SupplierInvoice,
                &Self::invoice_identity(update, invoice),
            )
            .await?
            .is_some()
        {
            return Ok(Handled::Known);
        }
        let number = invoice.invoice_number.trim();
        if number.is_empty() {
            return Ok(Handled::Deferred(format!(
                "invoice {} of purchase {} has no invoice number",
                invoice.task_id, update.order_number
            )));
        }
        let Some(vendor_id) = update
            .supplier_vendor_id
            .clone()
            .or_else(|| stage.state.vendor_id.clone())
        else {
            return Ok(Handled::Deferred(format!(
                "invoice {number}: neither the target supplier nor source PO {} names a vendor ID",
                stage.po_number
            )));
        };
        // Lookup before create: an echo, an invoice keyed in the source, or an earlier write.
        let found = match self.writer.find_invoices(&vendor_id, number).await {
            Ok(found) => found,
            Err(error) => return Ok(Handled::Failed { error, draft: None }),
        };
        if !found.is_empty() {
            for key in &found {
                let forward = ctx
                    .store()
                    .cross_ref(
                        ctx.tenant(),
                        RecordKind::SupplierInvoice,
                        &self.config.source_scope.sibling(key.clone()),
                    )
                    .await?;
                if forward.is_some_and(|x| x.target_id == update.identity.id) {
                    self.remember_invoice(ctx, update, invoice, key, "source")
                        .await?;
                    return Ok(Handled::Found {
                        key: key.clone(),
                        echo: true,
                    });
                }
            }
            let key = found[0].clone();
            self.remember_invoice(ctx, update, invoice, &key, "lookup")
                .await?;
            if found.len() == 1 {
                self.link_forward_invoice(ctx, &key, &update.identity.id, &invoice.task_id)
                    .await?;
            }
            return Ok(Handled::Found { key, echo: false });
        }
        let draft = self.invoice_draft(update, stage, invoice, vendor_id);
        self.mark_invoice_from_target(ctx, &stage.po_number, invoice)
            .await?;
        ctx.intent(
            Action::Update,
            Some(stage.how),
            Some(stage.po_number.clone()),
            Some(json!({ "invoice": draft, "target_version": update })),
        )
        .await?;
        match self.writer.create_invoice(&draft).await {
            Ok(key) => {
                self.remember_invoice(ctx, update, invoice, &key, "target")
                    .await?;
                self.link_forward_invoice(ctx, &key, &update.identity.id, &invoice.task_id)
                    .await?;
                Ok(Handled::Written { key, draft })
            }
            Err(error) => Ok(Handled::Failed {
                error,
                draft: Some(draft),
            }),
        }
    }

    /// Write the purchase's authorised invoices after a successful PO stage, and fold what
    /// happened into the record's outcome.
    pub(super) async fn write_invoices(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
        stage: PoStage,
        mut outcome: Outcome,
    ) -> Result<Outcome, SyncError> {
        let mut notes: Vec<String> = outcome.response_summary.take().into_iter().collect();
        let mut entries = Vec::new();
        let mut written = false;
        let mut deferred = Vec::new();
        for invoice in &update.invoices {
            let number = invoice.invoice_number.trim();
            match self.write_invoice(ctx, update, &stage, invoice).await? {
                Handled::Known => {}
                Handled::Written { key, draft } => {
                    written = true;
                    notes.push(format!("invoice {number} written to the source as {key}"));
                    entries.push(json!({
                        "task_id": invoice.task_id, "result": "written", "key": key, "draft": draft,
                    }));
                }
                Handled::Found { key, echo } => {
                    notes.push(if echo {
                        format!("invoice {number} came from the source ({key}): not written back")
                    } else {
                        format!(
                            "invoice {number} is already in the source ({key}): not written again"
                        )
                    });
                    entries.push(json!({
                        "task_id": invoice.task_id,
                        "result": if echo { "echo" } else { "in_source" },
                        "key": key,
                    }));
                }
                Handled::Deferred(why) => {
                    entries.push(json!({
                        "task_id": invoice.task_id, "result": "deferred", "why": why,
                    }));
                    deferred.push(why);
                }
                Handled::Failed { error, draft } => {
                    entries.push(json!({
                        "task_id": invoice.task_id, "result": "failed", "draft": draft,
                    }));
                    // Not in step: the purchase must be handled again even if unchanged.
                    ctx.remember(&stage.po_number, stage.aux.clone(), false)
                        .await?;
                    let mut failed = Outcome::target(Action::Update, &error)
                        .with_match(Some(stage.how))
                        .with_target(Some(stage.po_number.clone()))
                        .with_mapped(merge(outcome.mapped.take(), entries));
                    notes.push(format!("invoice {number} failed"));
                    failed.response_summary = Some(notes.join("; "));
                    return Ok(failed);
                }
            }
        }
        if !deferred.is_empty() {
            ctx.remember(&stage.po_number, stage.aux.clone(), false)
                .await?;
            let mut waiting = Outcome::deferred(deferred.join("; "))
                .with_match(Some(stage.how))
                .with_target(Some(stage.po_number.clone()))
                .with_mapped(merge(outcome.mapped.take(), entries));
            waiting.response_summary = Some(notes.join("; "));
            return Ok(waiting);
        }
        if written && outcome.action == Action::Skip {
            outcome.action = Action::Update;
        }
        if !entries.is_empty() {
            outcome.mapped = merge(outcome.mapped.take(), entries);
        }
        outcome.response_summary = (!notes.is_empty()).then(|| notes.join("; "));
        Ok(outcome)
    }
}

/// The mapped snapshot with the invoice stage's entries added.
fn merge(mapped: Option<Value>, entries: Vec<Value>) -> Option<Value> {
    match mapped {
        Some(Value::Object(mut map)) => {
            map.insert("invoices".into(), Value::Array(entries));
            Some(Value::Object(map))
        }
        other => Some(json!({ "invoices": entries, "po_stage": other })),
    }
}
