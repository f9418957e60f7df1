//! Supplier invoices: find the target purchase of the invoice's PO (or create an invoice-first
//! purchase when there is no PO), post the invoice with the source invoice number and lines
//! allocated to accounts through the GL mapping. Before any create after an uncertain failure,
//! the invoice is looked up by its number.
//!
//! Calls: a new invoice on a PO that the purchase-order stream wrote with an authorised order
//! costs exactly one target write (the invoice) and no read: the PO's cross-reference records
//! the order status of its last order write ([`ORDER_STATUS`]). The purchase is read first
//! when that record is missing or not `authorised`, when the invoice is uncertain (rule 5), or
//! when the invoice already has a cross-reference; and after the target refused an invoice
//! posted on the record's word, to tell why (order no longer authorised: deferred; purchase
//! gone: conflict). A new invoice without a PO costs exactly three writes (header, order,
//! invoice).
//!
//! What trusting the record gives up: an invoice with the same number that someone entered
//! by hand on the PO's purchase is not seen (the engine would otherwise have overwritten it
//! while it is a draft); a second invoice is posted next to it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;

use super::lookups::SharedLookups;
use super::suppliers::SupplierPipeline;
use super::{Outcome, Pipeline, RecordContext, RunContext};
use crate::error::{MappingError, MappingKind, SyncError};
use crate::mapping::Mappings;
use crate::model::{
    PoStatus, PurchaseOrder, Record, RecordKind, SourceIdentity, Supplier, SupplierInvoice,
};
use crate::retry::Delivery;
use crate::source::Source;
use crate::store::{
    Action, AuditQuery, AuditStatus, CrossRef, ErrorClass, GlMapping, MatchResult, StreamId,
    SyncStore,
};
use crate::target::{
    Approach, DocStatus, InvoiceDraft, InvoiceLineDraft, OrderDraft, OrderLineDraft, PurchaseDraft,
    PurchaseTarget, TargetInvoice, TargetPurchase, TaskStatus,
};

use super::purchase_orders::ORDER_STATUS;
use super::returns::marks;

const TASK_ID: &str = "invoice_task_id";

/// The supplier-invoice pipeline.
pub struct InvoicePipeline {
    target: Arc<dyn PurchaseTarget>,
    mappings: Mappings,
    suppliers: Arc<SupplierPipeline>,
    supplier_source: Arc<dyn Source<Supplier>>,
    gl: Mutex<Option<GlMapping>>,
    lookups: SharedLookups,
}

impl std::fmt::Debug for InvoicePipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvoicePipeline").finish_non_exhaustive()
    }
}

impl InvoicePipeline {
    /// A pipeline writing to `target`; missing suppliers are resolved through `suppliers`.
    pub fn new(
        target: Arc<dyn PurchaseTarget>,
        mappings: Mappings,
        suppliers: Arc<SupplierPipeline>,
        supplier_source: Arc<dyn Source<Supplier>>,
    ) -> Self {
        InvoicePipeline {
            target,
            mappings,
            suppliers,
            supplier_source,
            gl: Mutex::new(None),
            lookups: SharedLookups::default(),
        }
    }

    /// The target account for a source GL account: a user override in
    /// [`Mappings::values`] wins, then the mapping stored by the GL-accounts pipeline.
    pub fn account_for(&self, source_account: &str, context: &str) -> Result<String, MappingError> {
        match self
            .mappings
            .map(MappingKind::GlAccount, source_account, context)
        {
            Ok(code) => Ok(code),
            Err(error) => self
                .gl
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .and_then(|gl| gl.accounts.get(source_account).cloned())
                .ok_or(error),
        }
    }

    /// Whether the GL-accounts stream has stored a mapping this pipeline could read.
    fn gl_mapping_loaded(&self) -> bool {
        self.gl.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Map the invoice (lines allocated to target accounts).
    pub fn invoice_draft(&self, invoice: &SupplierInvoice) -> Result<InvoiceDraft, MappingError> {
        let m = &self.mappings;
        let lines = invoice
            .lines
            .iter()
            .map(|line| {
                let context = format!("invoice {} line {}", invoice.invoice_number, line.line_no);
                Ok(InvoiceLineDraft {
                    sku: line
                        .sku
                        .as_ref()
                        .map(|s| m.map(MappingKind::Sku, s, &context))
                        .transpose()?,
                    name: line.description.clone(),
                    quantity: line.quantity,
                    price: line.unit_price,
                    account: self.account_for(&line.gl_account, &context)?,
                    tax_rule: line
                        .tax_rule
                        .as_ref()
                        .map(|t| m.map(MappingKind::TaxRule, t, &context))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>, MappingError>>()?;
        Ok(InvoiceDraft {
            invoice_number: invoice.invoice_number.clone(),
            invoice_date: invoice.invoice_date,
            due_date: invoice.due_date,
            lines,
            status: m.purchases.invoice_status,
        })
    }

    /// Post `draft` on purchase `purchase_id`, whose invoices (as known) are `invoices`: an
    /// editable invoice with the same number is overwritten, an authorised one is a conflict.
    async fn post(
        &self,
        ctx: &RecordContext<'_>,
        purchase_id: &str,
        invoices: &[TargetInvoice],
        draft: &InvoiceDraft,
        how: MatchResult,
        mapped: Option<serde_json::Value>,
    ) -> Result<Outcome, SyncError> {
        let existing = invoices
            .iter()
            .find(|i| i.invoice_number == draft.invoice_number);
        let conflict = |status: &TaskStatus, mapped: Option<serde_json::Value>| {
            Outcome::conflict(
                ErrorClass::Conflict,
                format!(
                    "invoice {} on purchase {} is {:?} in the target; the source changed after it was authorised",
                    draft.invoice_number, purchase_id, status
                ),
            )
            .with_match(Some(how))
            .with_target(Some(purchase_id.to_owned()))
            .with_mapped(mapped)
        };
        // An invoice that is no longer editable is a conflict, unless an earlier attempt at this
        // record had an unknown outcome: it may then be that attempt's own write whose answer
        // was lost, and an overwrite lets the target tell (it accepts one only when the invoice
        // there already is exactly this one).
        let settled = existing.filter(|i| !i.status.is_editable());
        if let Some(invoice) = settled
            && !ctx.uncertain()
        {
            return Ok(conflict(&invoice.status, mapped));
        }
        let (action, task_id) = match existing {
            Some(invoice) => (Action::Update, Some(invoice.task_id.clone())),
            None => (Action::Create, None),
        };
        ctx.intent(
            action,
            Some(how),
            Some(purchase_id.to_owned()),
            mapped.clone(),
        )
        .await?;
        match self
            .target
            .post_invoice(purchase_id, task_id.as_deref(), draft)
            .await
        {
            Ok(invoice) => {
                let aux = BTreeMap::from([(TASK_ID.to_owned(), invoice.task_id.clone())]);
                ctx.remember(purchase_id, aux, true).await?;
                Ok(
                    Outcome::succeeded(action, Some(how), purchase_id.to_owned())
                        .with_mapped(mapped),
                )
            }
            // Refused: not the invoice an earlier attempt wrote, so the source changed after it.
            Err(error) if settled.is_some() && error.delivery == Delivery::Processed => {
                Ok(conflict(
                    settled.map_or(&TaskStatus::Authorised, |i| &i.status),
                    mapped,
                ))
            }
            Err(error) => Ok(Outcome::target(action, &error)
                .with_match(Some(how))
                .with_target(Some(purchase_id.to_owned()))
                .with_mapped(mapped)),
        }
    }

    /// The purchase of the invoice's PO, read from the target, if an invoice can be posted on
    /// it now; otherwise the outcome to report (purchase gone: conflict; order not authorised
    /// yet: deferred; read failed: that failure).
    async fn po_purchase(
        &self,
        po_xref: &CrossRef,
        po_id: &str,
        mapped: &Option<serde_json::Value>,
    ) -> Result<TargetPurchase, Outcome> {
        match self.target.get_purchase(&po_xref.target_id).await {
            Ok(Some(purchase)) if purchase.order_status.is_editable() => {
                // The target accepts an invoice only on an authorised order.
                Err(Outcome::deferred(format!(
                    "order of purchase {} (PO {po_id}) is not authorised in the target yet",
                    purchase.id
                ))
                .with_target(Some(purchase.id.clone()))
                .with_mapped(mapped.clone()))
            }
            Ok(Some(purchase)) => Ok(purchase),
            Ok(None) => Err(Outcome::conflict(
                ErrorClass::Conflict,
                format!(
                    "purchase {} of PO {po_id} no longer exists in the target",
                    po_xref.target_id
                ),
            )
            .with_mapped(mapped.clone())),
            Err(error) => Err(Outcome::target(Action::Create, &error).with_mapped(mapped.clone())),
        }
    }
}

#[async_trait]
impl Pipeline for InvoicePipeline {
    type Record = SupplierInvoice;

    fn revision(&self) -> String {
        self.mappings.revision.clone()
    }

    fn stream(&self) -> StreamId {
        StreamId::supplier_invoices()
    }

    async fn prepare(&self, run: &RunContext) -> Result<(), SyncError> {
        let gl = run.store.gl_mapping(&run.tenant).await?;
        *self.gl.lock().unwrap_or_else(|p| p.into_inner()) = gl;
        self.lookups
            .prefetch(
                run,
                self.stream(),
                self.target.as_ref(),
                |invoice: &SupplierInvoice| invoice.invoice_number.clone(),
            )
            .await
    }

    async fn apply(
        &self,
        ctx: &RecordContext<'_>,
        invoice: &SupplierInvoice,
    ) -> Result<Outcome, SyncError> {
        if let Some(outcome) = from_target(ctx, invoice).await? {
            return Ok(outcome);
        }
        let draft = match self.invoice_draft(invoice) {
            Ok(draft) => draft,
            // No GL mapping stored at all yet (the GL-accounts stream has not completed, e.g.
            // its first run failed): the invoice waits for it, retried by every window, rather
            // than failing for a mapping nobody has had the chance to make.
            Err(error) if error.kind == MappingKind::GlAccount && !self.gl_mapping_loaded() => {
                return Ok(Outcome::deferred(format!(
                    "{error}: no GL mapping has been stored yet (the gl_accounts stream has not completed); waiting for it"
                )));
            }
            Err(error) => return Ok(Outcome::mapping(&error)),
        };
        let supplier_id = match self
            .suppliers
            .ensure(
                ctx,
                self.supplier_source.as_ref(),
                &invoice.supplier_identity(),
            )
            .await?
        {
            Ok(id) => id,
            Err(why) => return Ok(Outcome::deferred(why)),
        };
        let mapped = Some(json!({ "supplier_id": supplier_id, "invoice": draft }));
        let store = ctx.store();
        let xref = store
            .cross_ref(ctx.tenant(), SupplierInvoice::KIND, invoice.identity())
            .await?;

        // 1. The purchase the invoice belongs to.
        let found = if let Some(xref) = &xref {
            match self.target.get_purchase(&xref.target_id).await {
                Ok(Some(purchase)) => Some((purchase, MatchResult::CrossRef)),
                Ok(None) => None,
                Err(error) => {
                    return Ok(Outcome::target(Action::Update, &error).with_mapped(mapped));
                }
            }
        } else if ctx.uncertain() {
            // Rule 5: look the invoice (or its invoice-first purchase) up by number.
            match self
                .lookups
                .find(self.target.as_ref(), &invoice.invoice_number)
                .await
            {
                Ok(found) => {
                    let mut matching: Vec<TargetPurchase> = found
                        .into_iter()
                        .filter(|p| {
                            p.reference == invoice.invoice_number
                                || p.invoices
                                    .iter()
                                    .any(|i| i.invoice_number == invoice.invoice_number)
                        })
                        .collect();
                    match matching.len() {
                        0 => None,
                        1 => matching.pop().map(|p| (p, MatchResult::ByLookup)),
                        n => {
                            return Ok(Outcome::conflict(
                                ErrorClass::Ambiguous,
                                format!(
                                    "{n} target purchases carry invoice {}",
                                    invoice.invoice_number
                                ),
                            )
                            .with_match(Some(MatchResult::Ambiguous))
                            .with_mapped(mapped));
                        }
                    }
                }
                Err(error) => {
                    return Ok(Outcome::target(Action::Create, &error).with_mapped(mapped));
                }
            }
        } else {
            None
        };
        if let Some((mut purchase, how)) = found {
            if how == MatchResult::ByLookup {
                // Keep what the lookup found at once: once its order is authorised below, an
                // invoice-first purchase is no longer a draft the lookup scans, so a later
                // attempt could not find it again and would create a second one.
                ctx.remember(&purchase.id, BTreeMap::new(), false).await?;
            }
            if invoice.po_id.is_none() && purchase.order_status.is_editable() {
                // An invoice-first purchase whose order step did not complete last time.
                match self
                    .target
                    .set_order(&purchase, &invoice_first_order(&draft))
                    .await
                {
                    Ok(p) => purchase = p,
                    Err(error) => {
                        return Ok(Outcome::target(Action::Update, &error)
                            .with_target(Some(purchase.id))
                            .with_mapped(mapped));
                    }
                }
            }
            return self
                .post(ctx, &purchase.id, &purchase.invoices, &draft, how, mapped)
                .await;
        }

        match invoice.po_identity() {
            Some(po) => {
                let Some(po_xref) = store
                    .cross_ref(ctx.tenant(), RecordKind::PurchaseOrder, &po)
                    .await?
                else {
                    if let Some(why) = closed_po_skipped(store, ctx.tenant(), &po).await? {
                        return Ok(Outcome::skipped(format!(
                            "its purchase order {} is not created in the target: {why}",
                            po.id
                        ))
                        .with_mapped(mapped));
                    }
                    return Ok(Outcome::deferred(format!(
                        "purchase order {} is not in the target yet",
                        po.id
                    ))
                    .with_mapped(mapped));
                };
                // The order status the PO stream recorded with its last order write. Trusted
                // only for an invoice we never wrote (no cross-reference of its own, nothing
                // uncertain), so no invoice of ours can be on the purchase yet.
                let recorded_authorised = xref.is_none()
                    && !ctx.uncertain()
                    && po_xref.synced_hash.is_some()
                    && po_xref
                        .aux
                        .get(ORDER_STATUS)
                        .map(|s| TaskStatus::from_key(s))
                        == Some(TaskStatus::Authorised);
                if recorded_authorised {
                    let outcome = self
                        .post(
                            ctx,
                            &po_xref.target_id,
                            &[],
                            &draft,
                            MatchResult::CrossRef,
                            mapped.clone(),
                        )
                        .await?;
                    let refused = outcome.status == AuditStatus::Failed
                        && outcome
                            .error
                            .as_ref()
                            .is_some_and(|e| e.class == ErrorClass::Rejected);
                    if !refused {
                        return Ok(outcome);
                    }
                    // Refused: the purchase may have changed since the PO stream wrote it
                    // (order undone, purchase voided). Read it to say why.
                    return Ok(match self.po_purchase(&po_xref, &po.id, &mapped).await {
                        Err(why) if why.status != AuditStatus::Failed => why,
                        _ => outcome,
                    });
                }
                let purchase = match self.po_purchase(&po_xref, &po.id, &mapped).await {
                    Ok(purchase) => purchase,
                    Err(outcome) => return Ok(outcome),
                };
                self.post(
                    ctx,
                    &purchase.id,
                    &purchase.invoices,
                    &draft,
                    MatchResult::CrossRef,
                    mapped,
                )
                .await
            }
            None => {
                // No PO: an invoice-first purchase carrying the invoice number as reference.
                let context = format!("invoice {}", invoice.invoice_number);
                let currency =
                    match self
                        .mappings
                        .map(MappingKind::Currency, &invoice.currency, &context)
                    {
                        Ok(c) => c,
                        Err(error) => return Ok(Outcome::mapping(&error)),
                    };
                let header = PurchaseDraft {
                    supplier_id,
                    approach: Approach::Invoice,
                    location: self.mappings.purchases.default_location.clone(),
                    reference: invoice.invoice_number.clone(),
                    currency,
                    order_date: invoice.invoice_date,
                    required_by: None,
                    memo: None,
                };
                ctx.intent(
                    Action::Create,
                    Some(MatchResult::Created),
                    None,
                    mapped.clone(),
                )
                .await?;
                let purchase = match self.target.create_purchase(&header).await {
                    Ok(p) => p,
                    Err(error) => {
                        return Ok(Outcome::target(Action::Create, &error).with_mapped(mapped));
                    }
                };
                ctx.remember(&purchase.id, BTreeMap::new(), false).await?;
                let purchase = match self
                    .target
                    .set_order(&purchase, &invoice_first_order(&draft))
                    .await
                {
                    Ok(p) => p,
                    Err(error) => {
                        return Ok(Outcome::target(Action::Create, &error)
                            .with_target(Some(purchase.id))
                            .with_mapped(mapped));
                    }
                };
                self.post(
                    ctx,
                    &purchase.id,
                    &purchase.invoices,
                    &draft,
                    MatchResult::Created,
                    mapped,
                )
                .await
            }
        }
    }
}

/// The order step of an invoice-first purchase: the invoice lines, authorised (the target
/// accepts an invoice only on an authorised order).
/// The return direction wrote this invoice to the source from the target's invoice (its mark
/// on the PO's cross-reference): the target has it already. Linked, never posted back, and
/// before any mapping, which a target invoice does not need.
async fn from_target(
    ctx: &RecordContext<'_>,
    invoice: &SupplierInvoice,
) -> Result<Option<Outcome>, SyncError> {
    let Some(po) = invoice.po_identity() else {
        return Ok(None);
    };
    let Some(po_xref) = ctx
        .store()
        .cross_ref(ctx.tenant(), RecordKind::PurchaseOrder, &po)
        .await?
    else {
        return Ok(None);
    };
    let Some(task_id) = po_xref
        .aux
        .get(&marks::from_target_invoice(&invoice.invoice_number))
    else {
        return Ok(None);
    };
    let aux = BTreeMap::from([(TASK_ID.to_owned(), task_id.clone())]);
    ctx.remember(&po_xref.target_id, aux, true).await?;
    let mut outcome = Outcome::succeeded(
        Action::Skip,
        Some(MatchResult::CrossRef),
        po_xref.target_id.clone(),
    );
    outcome.response_summary = Some(format!(
        "written to the source from the target's invoice {task_id} by the return direction: not posted back"
    ));
    Ok(Some(outcome))
}

fn invoice_first_order(draft: &InvoiceDraft) -> OrderDraft {
    OrderDraft {
        lines: draft
            .lines
            .iter()
            .map(|l| OrderLineDraft {
                sku: l.sku.clone().unwrap_or_default(),
                name: l.name.clone(),
                quantity: l.quantity,
                price: l.price,
                tax_rule: l.tax_rule.clone(),
            })
            .collect(),
        status: DocStatus::Authorised,
    }
}

/// Why the PO stream's latest decision on `po` was not to create it because it is closed or
/// cancelled in the source (`mappings.purchases.closed`), if it was. Such a PO is history and
/// will not be written, so its invoices are skipped by rule too rather than deferred (a
/// deferred record is fetched from the source again in every window, for good). A PO skipped
/// because it is planned keeps its invoices deferred: it is created once it is ordered.
async fn closed_po_skipped(
    store: &dyn SyncStore,
    tenant: &str,
    po: &SourceIdentity,
) -> Result<Option<String>, SyncError> {
    let rows = store
        .query(
            &AuditQuery::tenant(tenant.to_owned())
                .stream(StreamId::purchase_orders())
                .source(po.clone()),
        )
        .await?;
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let skipped = (last.status, last.action, &last.target_id)
        == (AuditStatus::Succeeded, Action::Skip, &None);
    let closed = serde_json::from_value::<PurchaseOrder>(last.source_snapshot.clone())
        .is_ok_and(|po| matches!(po.status, PoStatus::Closed | PoStatus::Cancelled));
    Ok((skipped && closed).then(|| last.response_summary.clone().unwrap_or_default()))
}
