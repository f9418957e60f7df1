//! Purchase orders: create the target purchase and its order lines; update the lines while the
//! target order is still DRAFT; a change after authorisation is a conflict for review, never
//! forced. A PO whose supplier is not in the target yet resolves the supplier first.
//!
//! Which POs are written at all follows [`PurchasePolicy::planned`] and
//! [`PurchasePolicy::closed`]: by default a planned PO, and a closed or cancelled one the
//! target does not hold, is audited as skipped ([`Outcome::skipped`]) and costs no target
//! call. A skip remembers nothing as written, so the PO is created once a change makes it
//! ordered. A PO the target holds is updated whatever its source status; after authorisation,
//! a source change the target would not carry (closing the PO, a field that is not mapped) is
//! no conflict: the cross-reference records under [`ORDER_CONTENT`] what the last order write
//! sent.
//!
//! Calls: a PO skipped by rule costs no target call. A new PO costs exactly two target writes
//! (header, order), no read: the order step is written on the view `create_purchase` returned.
//! A PO with a cross-reference costs one read (its purchase as it is now) and, while the order
//! is editable, one write. After a successful order write the cross-reference records the
//! order status the target answered under [`ORDER_STATUS`], which lets the invoice pipeline
//! post on the purchase without reading it first.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::lookups::SharedLookups;
use super::returns::marks;
use super::suppliers::SupplierPipeline;
use super::{Outcome, Pipeline, RecordContext, RunContext};
use crate::error::{MappingError, MappingKind, SyncError, TargetError};
#[cfg(doc)]
use crate::mapping::PurchasePolicy;
use crate::mapping::{ClosedPoRule, DeletePolicy, Mappings, PlannedPoRule, UnknownSkuRule};
use crate::model::{PoStatus, PurchaseOrder, Record, Supplier, hash_value};
use crate::retry::Delivery;
use crate::source::Source;
use crate::store::{Action, CrossRef, ErrorClass, MatchResult, StreamId};
use crate::target::{
    DocStatus, OrderDraft, OrderLineDraft, PurchaseDraft, PurchaseTarget, TargetPurchase,
    TaskStatus,
};

/// The cross-reference `aux` key under which this pipeline records, with every successful
/// order write, the order status the target answered ([`TaskStatus::as_key`], e.g.
/// `authorised`), or the status it read when it left an authorised order as it was (see
/// [`ORDER_CONTENT`]). A cross-reference without it (written before the order step, or by an
/// older version) says nothing about the order.
pub const ORDER_STATUS: &str = "order_status";

/// The cross-reference `aux` key under which this pipeline records, with every successful
/// order write, a hash of what it sent: the header and the lines, not the order status. Once
/// the order is authorised, a source change whose mapped header and lines hash the same (the PO
/// was closed, or a field that is not mapped changed) is recorded as up to date rather than as
/// a conflict. A cross-reference without it (written by an older version) cannot tell, and any
/// change after authorisation stays a conflict.
pub const ORDER_CONTENT: &str = "order_content";

/// The purchase-order pipeline.
pub struct PurchaseOrderPipeline {
    target: Arc<dyn PurchaseTarget>,
    mappings: Mappings,
    suppliers: Arc<SupplierPipeline>,
    supplier_source: Arc<dyn Source<Supplier>>,
    lookups: SharedLookups,
    /// SKUs this window found the target has no product for: a later PO naming one waits
    /// without sending an order the target would refuse.
    missing: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl std::fmt::Debug for PurchaseOrderPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PurchaseOrderPipeline")
            .finish_non_exhaustive()
    }
}

impl PurchaseOrderPipeline {
    /// A pipeline writing to `target`; missing suppliers are fetched from `supplier_source`
    /// and written through `suppliers`.
    pub fn new(
        target: Arc<dyn PurchaseTarget>,
        mappings: Mappings,
        suppliers: Arc<SupplierPipeline>,
        supplier_source: Arc<dyn Source<Supplier>>,
    ) -> Self {
        PurchaseOrderPipeline {
            target,
            mappings,
            suppliers,
            supplier_source,
            lookups: SharedLookups::default(),
            missing: Default::default(),
        }
    }

    /// A PO the source deleted, under [`DeletePolicy::Deactivate`]: its linked purchase is
    /// voided while its order is still a draft and nothing is invoiced. One past that is left
    /// as it is, as a conflict: someone acted on it in the target, so a person decides.
    async fn void_deleted(
        &self,
        ctx: &RecordContext<'_>,
        po: &PurchaseOrder,
        xref: Option<&CrossRef>,
    ) -> Result<Outcome, SyncError> {
        let Some(id) = xref
            .map(|x| x.target_id.clone())
            .filter(|id| !id.is_empty())
        else {
            return Ok(Outcome::skipped(format!(
                "PO {} has no linked target purchase: nothing to void",
                po.po_number
            )));
        };
        let purchase = match self.target.get_purchase(&id).await {
            Ok(Some(purchase)) => purchase,
            Ok(None) => {
                return Ok(Outcome::skipped(format!(
                    "purchase {id} of deleted PO {} is already voided or gone",
                    po.po_number
                )));
            }
            Err(error) => return Ok(Outcome::target(Action::Update, &error).with_target(Some(id))),
        };
        if !purchase.order_status.is_editable() || !purchase.invoices.is_empty() {
            return Ok(Outcome::conflict(
                ErrorClass::Conflict,
                format!(
                    "PO {} was deleted in the source, but target purchase {id} is past its draft (order {}, {} invoice(s)); it is voided only while a draft: void or keep it there by hand",
                    po.po_number,
                    purchase.order_status.as_key(),
                    purchase.invoices.len()
                ),
            )
            .with_match(Some(MatchResult::CrossRef))
            .with_target(Some(id)));
        }
        ctx.intent(
            Action::Update,
            Some(MatchResult::CrossRef),
            Some(id.clone()),
            None,
        )
        .await?;
        Ok(match self.target.void_purchase(&purchase).await {
            Ok(()) => Outcome::succeeded(Action::Update, Some(MatchResult::CrossRef), id.clone())
                .with_summaries(
                    None,
                    Some(format!(
                        "voided purchase {id}: PO {} was deleted in the source",
                        po.po_number
                    )),
                ),
            Err(error) => Outcome::target(Action::Update, &error).with_target(Some(id)),
        })
    }

    /// Why `po` is not created in the target under [`PurchasePolicy::planned`] and
    /// [`PurchasePolicy::closed`], or `None` when it is. Only asked for a PO the target does
    /// not hold.
    pub fn creation_skipped(&self, po: &PurchaseOrder) -> Option<String> {
        let policy = &self.mappings.purchases;
        match po.status {
            PoStatus::Planned if policy.planned == PlannedPoRule::Skip => Some(format!(
                "PO {} is planned in the source; it is created once it is ordered (mappings.purchases.planned = \"{}\")",
                po.po_number,
                policy.planned.as_key()
            )),
            PoStatus::Closed | PoStatus::Cancelled if policy.closed == ClosedPoRule::Skip => {
                Some(format!(
                    "PO {} is {} in the source and not in the target; it is not created as a new order (mappings.purchases.closed = \"{}\")",
                    po.po_number,
                    if po.status == PoStatus::Closed {
                        "closed"
                    } else {
                        "cancelled"
                    },
                    policy.closed.as_key()
                ))
            }
            _ => None,
        }
    }

    /// The status the order step of `po` is written with: [`PurchasePolicy::order_status`],
    /// except that a planned PO is never authorised by the sync unless
    /// [`PlannedPoRule::Order`] says to treat it as ordered.
    pub fn order_status(&self, po: &PurchaseOrder) -> DocStatus {
        let policy = &self.mappings.purchases;
        if po.status == PoStatus::Planned && policy.planned != PlannedPoRule::Order {
            DocStatus::Draft
        } else {
            policy.order_status
        }
    }

    /// Map the order's lines.
    pub fn order_draft(&self, po: &PurchaseOrder) -> Result<OrderDraft, MappingError> {
        let m = &self.mappings;
        let lines = po
            .lines
            .iter()
            .map(|line| {
                let context = format!("PO {} line {}", po.po_number, line.line_no);
                Ok(OrderLineDraft {
                    sku: m.map(MappingKind::Sku, &line.sku, &context)?,
                    name: line.description.clone(),
                    quantity: line.quantity,
                    price: line.unit_price,
                    tax_rule: line
                        .tax_rule
                        .as_ref()
                        .map(|t| m.map(MappingKind::TaxRule, t, &context))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>, MappingError>>()?;
        Ok(OrderDraft {
            lines,
            status: self.order_status(po),
        })
    }

    /// Map the header (with the supplier's target id).
    pub fn purchase_draft(
        &self,
        po: &PurchaseOrder,
        supplier_id: &str,
    ) -> Result<PurchaseDraft, MappingError> {
        let m = &self.mappings;
        let context = format!("PO {}", po.po_number);
        let location = match &po.location {
            Some(code) => Some(m.map(MappingKind::Location, code, &context)?),
            None => m.purchases.default_location.clone(),
        };
        Ok(PurchaseDraft {
            supplier_id: supplier_id.to_owned(),
            approach: m.purchases.approach,
            location,
            reference: po.po_number.clone(),
            currency: m.map(MappingKind::Currency, &po.currency, &context)?,
            order_date: po.order_date,
            required_by: po.required_by,
            memo: po.memo.clone(),
        })
    }

    async fn write_order(
        &self,
        ctx: &RecordContext<'_>,
        purchase: &TargetPurchase,
        order: &OrderDraft,
        how: MatchResult,
        sent: Option<&str>,
        mapped: Option<serde_json::Value>,
    ) -> Result<Outcome, SyncError> {
        let content = order_content(&mapped);
        let aux = |status: &TaskStatus| {
            BTreeMap::from([
                (ORDER_STATUS.to_owned(), status.as_key().to_owned()),
                (ORDER_CONTENT.to_owned(), content.clone()),
            ])
        };
        if !purchase.order_status.is_editable() {
            if sent == Some(content.as_str()) {
                // Nothing the target would receive changed (the PO was closed, or a field the
                // mapping does not carry changed): up to date, not a conflict, and the order
                // is left as it is. The status just read is as good as one a write answers:
                // the invoice pipeline can then post on this purchase without reading it.
                ctx.remember(&purchase.id, aux(&purchase.order_status), true)
                    .await?;
                let mut outcome = Outcome::succeeded(Action::Skip, Some(how), purchase.id.clone())
                    .with_mapped(mapped);
                outcome.response_summary = Some(format!(
                    "order of purchase {} is {:?} in the target and its lines and header are unchanged; left as it is",
                    purchase.id, purchase.order_status
                ));
                return Ok(outcome);
            }
            // Not known to be what we last wrote (a crash before the cross-reference held it, a
            // purchase found by lookup, or a source change): the target compares its order
            // with this one (one read). The same order is success, never a conflict.
            return match self.target.set_order(purchase, order).await {
                Ok(saved) => {
                    ctx.remember(&saved.id, aux(&saved.order_status), true)
                        .await?;
                    let mut outcome = Outcome::succeeded(Action::Skip, Some(how), saved.id.clone())
                        .with_mapped(mapped);
                    outcome.response_summary = Some(format!(
                        "order of purchase {} is {:?} in the target and already holds these lines",
                        saved.id, saved.order_status
                    ));
                    Ok(outcome)
                }
                Err(error) if error.delivery == Delivery::Processed && !error.transient => {
                    Ok(Outcome::conflict(
                        ErrorClass::Conflict,
                        format!(
                            "purchase {} changed in the source after its order was authorised in the target ({:?}), and the target's order differs from it; review and update it by hand",
                            purchase.id, purchase.order_status
                        ),
                    )
                    .with_match(Some(how))
                    .with_target(Some(purchase.id.clone()))
                    .with_mapped(mapped))
                }
                Err(error) => Ok(Outcome::target(Action::Update, &error)
                    .with_match(Some(how))
                    .with_target(Some(purchase.id.clone()))
                    .with_mapped(mapped)),
            };
        }
        let action = if how == MatchResult::Created {
            Action::Create
        } else {
            Action::Update
        };
        if let Some(waiting) = self.known_missing(order) {
            return Ok(waiting
                .with_match(Some(how))
                .with_target(Some(purchase.id.clone()))
                .with_mapped(mapped));
        }
        match self.target.set_order(purchase, order).await {
            Ok(saved) => {
                ctx.remember(&saved.id, aux(&saved.order_status), true)
                    .await?;
                Ok(Outcome::succeeded(action, Some(how), saved.id).with_mapped(mapped))
            }
            Err(error) => {
                if let Some(waiting) = self.unknown_skus(order, &error).await {
                    return Ok(waiting
                        .with_match(Some(how))
                        .with_target(Some(purchase.id.clone()))
                        .with_mapped(mapped));
                }
                Ok(Outcome::target(action, &error)
                    .with_match(Some(how))
                    .with_target(Some(purchase.id.clone()))
                    .with_mapped(mapped))
            }
        }
    }

    fn missing_skus(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<String>> {
        // Only whole inserts and a clear happen under the lock: a poisoned set is consistent.
        self.missing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deferred without a write when `order` names a SKU this window already found missing
    /// (under [`UnknownSkuRule::Defer`]): many POs waiting for one product cost one refusal
    /// and one lookup a window, not one each.
    fn known_missing(&self, order: &OrderDraft) -> Option<Outcome> {
        if self.mappings.purchases.unknown_skus != UnknownSkuRule::Defer {
            return None;
        }
        let missing = self.missing_skus();
        let named: Vec<&str> = order
            .lines
            .iter()
            .map(|l| l.sku.as_str())
            .filter(|sku| missing.contains(*sku))
            .collect();
        (!named.is_empty()).then(|| {
            Outcome::deferred(format!(
                "unknown SKU {}: no such product in the target yet (found this window); retried on its own until it exists (mappings.purchases.unknown_skus = \"defer\")",
                named.join(", ")
            ))
        })
    }

    /// After the target refused `order`: deferred with the SKUs it has no product for, under
    /// [`UnknownSkuRule::Defer`], when there are any. One lookup, made only on a refusal.
    async fn unknown_skus(&self, order: &OrderDraft, error: &TargetError) -> Option<Outcome> {
        if self.mappings.purchases.unknown_skus != UnknownSkuRule::Defer
            || error.transient
            || error.delivery != Delivery::Processed
        {
            return None;
        }
        let mut skus: Vec<String> = order.lines.iter().map(|l| l.sku.clone()).collect();
        skus.sort();
        skus.dedup();
        match self.target.missing_skus(&skus).await {
            Ok(missing) if !missing.is_empty() => {
                self.missing_skus().extend(missing.iter().cloned());
                Some(Outcome::deferred(format!(
                    "unknown SKU {}: no such product in the target yet; retried on its own until it exists (mappings.purchases.unknown_skus = \"defer\"; the target said: {})",
                    missing.join(", "),
                    error.message
                )))
            }
            Ok(_) => None,
            Err(lookup) => {
                tracing::warn!(error = %lookup, "cannot tell whether the refused order names unknown SKUs");
                None
            }
        }
    }
}

#[async_trait]
impl Pipeline for PurchaseOrderPipeline {
    type Record = PurchaseOrder;

    fn revision(&self) -> String {
        self.mappings.revision.clone()
    }

    fn stream(&self) -> StreamId {
        StreamId::purchase_orders()
    }

    async fn prepare(&self, run: &RunContext) -> Result<(), SyncError> {
        self.missing_skus().clear();
        self.lookups
            .prefetch(
                run,
                self.stream(),
                self.target.as_ref(),
                |po: &PurchaseOrder| po.po_number.clone(),
            )
            .await
    }

    fn when_deleted(&self, mut last: PurchaseOrder) -> Option<PurchaseOrder> {
        match self.mappings.deleted_purchase_orders {
            DeletePolicy::Keep => None,
            DeletePolicy::Deactivate => {
                last.status = PoStatus::Cancelled;
                Some(last)
            }
        }
    }

    async fn apply(
        &self,
        ctx: &RecordContext<'_>,
        po: &PurchaseOrder,
    ) -> Result<Outcome, SyncError> {
        let xref = ctx
            .store()
            .cross_ref(ctx.tenant(), PurchaseOrder::KIND, po.identity())
            .await?;
        if ctx.link_only() {
            return self.void_deleted(ctx, po, xref.as_ref()).await;
        }
        // The return direction's mark: this PO is being created from a target purchase, or
        // the mark of a create that ended under another number (it links nothing).
        let xref = match xref
            .as_ref()
            .and_then(|x| x.aux.get(marks::CREATING_FROM_TARGET))
            .map(String::as_str)
        {
            Some(marks::PENDING) => {
                let target = xref.map(|x| x.target_id).unwrap_or_default();
                return Ok(Outcome::deferred(format!(
                    "PO {} is being created in the source from target purchase {target} by the return direction; it is not carried to the target (it is that purchase)",
                    po.po_number
                )));
            }
            Some(_) => None,
            None => xref,
        };
        let skipped = self.creation_skipped(po);
        if xref.is_none()
            && !ctx.uncertain()
            && let Some(reason) = skipped.clone()
        {
            // Before any mapping or call: a PO that is not to be written costs nothing, and
            // cannot fail on a mapping it does not need yet.
            return Ok(Outcome::skipped(reason));
        }
        let order = match self.order_draft(po) {
            Ok(order) => order,
            Err(error) => return Ok(Outcome::mapping(&error)),
        };
        // Rule 7: the supplier first.
        let supplier_id = match self
            .suppliers
            .ensure(ctx, self.supplier_source.as_ref(), &po.supplier_identity())
            .await?
        {
            Ok(id) => id,
            Err(why) => return Ok(Outcome::deferred(why)),
        };
        let header = match self.purchase_draft(po, &supplier_id) {
            Ok(header) => header,
            Err(error) => return Ok(Outcome::mapping(&error)),
        };
        let mapped = Some(json!({ "purchase": header, "order": order }));

        let existing = if let Some(xref) = &xref {
            match self.target.get_purchase(&xref.target_id).await {
                Ok(Some(purchase)) => Some((purchase, MatchResult::CrossRef)),
                Ok(None) => {
                    return Ok(Outcome::conflict(
                        ErrorClass::Conflict,
                        format!(
                            "purchase {} no longer exists in the target (voided or deleted)",
                            xref.target_id
                        ),
                    )
                    .with_target(Some(xref.target_id.clone()))
                    .with_mapped(mapped));
                }
                Err(error) => {
                    return Ok(Outcome::target(Action::Update, &error).with_mapped(mapped));
                }
            }
        } else if ctx.uncertain() {
            // Rule 5: an earlier create may have reached the target.
            match self.lookups.find(self.target.as_ref(), &po.po_number).await {
                Ok(found) => match found.len() {
                    0 => None,
                    1 => found.into_iter().next().map(|p| (p, MatchResult::ByLookup)),
                    n => {
                        return Ok(Outcome::conflict(
                            ErrorClass::Ambiguous,
                            format!("{n} target purchases carry reference {}", po.po_number),
                        )
                        .with_match(Some(MatchResult::Ambiguous))
                        .with_mapped(mapped));
                    }
                },
                Err(error) => {
                    return Ok(Outcome::target(Action::Create, &error).with_mapped(mapped));
                }
            }
        } else {
            None
        };

        match existing {
            Some((purchase, how)) => {
                if how == MatchResult::ByLookup {
                    ctx.remember(&purchase.id, BTreeMap::new(), false).await?;
                }
                if purchase.order_status.is_editable() {
                    ctx.intent(
                        Action::Update,
                        Some(how),
                        Some(purchase.id.clone()),
                        mapped.clone(),
                    )
                    .await?;
                }
                let sent = xref
                    .as_ref()
                    .and_then(|x| x.aux.get(ORDER_CONTENT))
                    .map(String::as_str);
                self.write_order(ctx, &purchase, &order, how, sent, mapped)
                    .await
            }
            None => {
                if let Some(reason) = skipped {
                    // An uncertain earlier attempt created nothing after all.
                    return Ok(Outcome::skipped(reason));
                }
                ctx.intent(
                    Action::Create,
                    Some(MatchResult::Created),
                    None,
                    mapped.clone(),
                )
                .await?;
                let purchase = match self.target.create_purchase(&header).await {
                    Ok(purchase) => purchase,
                    Err(error) => {
                        return Ok(Outcome::target(Action::Create, &error).with_mapped(mapped));
                    }
                };
                // The header exists now: remember it (incomplete) before writing the lines, so
                // a failure of the order step leads to an update, never a second purchase.
                ctx.remember(&purchase.id, BTreeMap::new(), false).await?;
                self.write_order(ctx, &purchase, &order, MatchResult::Created, None, mapped)
                    .await
            }
        }
    }
}

/// What [`ORDER_CONTENT`] records: a hash of the mapped header and lines (the `purchase` and
/// `order.lines` of the mapped snapshot), without the order status: once the order is
/// authorised, the status asked for no longer matters.
fn order_content(mapped: &Option<serde_json::Value>) -> String {
    let part = |pointer: &str| mapped.as_ref().and_then(|m| m.pointer(pointer)).cloned();
    hash_value(
        &json!({ "purchase": part("/purchase"), "lines": part("/order/lines") }),
        &[],
    )
    .0
}
