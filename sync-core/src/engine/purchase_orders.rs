//! Purchase orders: create the target purchase and its order lines; update the lines while the
//! target order is still DRAFT; a change after authorisation is a conflict for review, never
//! forced. A PO whose supplier is not in the target yet resolves the supplier first.
//!
//! Calls: a new PO costs exactly two target writes (header, order), no read: the order step
//! is written on the view `create_purchase` returned. A PO with a cross-reference costs one
//! read (its purchase as it is now) and, while the order is editable, one write. After a
//! successful order write the cross-reference records the order status the target answered
//! under [`ORDER_STATUS`], which lets the invoice pipeline post on the purchase without
//! reading it first.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::suppliers::SupplierPipeline;
use super::{Outcome, Pipeline, RecordContext};
use crate::error::{MappingError, MappingKind, SyncError};
use crate::mapping::Mappings;
use crate::model::{PurchaseOrder, Record, Supplier};
use crate::source::Source;
use crate::store::{Action, ErrorClass, MatchResult, StreamId};
use crate::target::{OrderDraft, OrderLineDraft, PurchaseDraft, PurchaseTarget, TargetPurchase};

/// The cross-reference `aux` key under which this pipeline records, with every successful
/// order write, the order status the target answered ([`TaskStatus::as_key`], e.g.
/// `authorised`). A cross-reference without it (written before the order step, or by an
/// older version) says nothing about the order.
///
/// [`TaskStatus::as_key`]: crate::target::TaskStatus::as_key
pub const ORDER_STATUS: &str = "order_status";

/// The purchase-order pipeline.
pub struct PurchaseOrderPipeline {
    target: Arc<dyn PurchaseTarget>,
    mappings: Mappings,
    suppliers: Arc<SupplierPipeline>,
    supplier_source: Arc<dyn Source<Supplier>>,
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
            status: m.purchases.order_status,
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
        action: Action,
        how: MatchResult,
        mapped: Option<serde_json::Value>,
    ) -> Result<Outcome, SyncError> {
        if !purchase.order_status.is_editable() {
            return Ok(Outcome::conflict(
                ErrorClass::Conflict,
                format!(
                    "purchase {} changed in the source after its order was authorised in the target ({:?}); review and update it by hand",
                    purchase.id, purchase.order_status
                ),
            )
            .with_match(Some(how))
            .with_target(Some(purchase.id.clone()))
            .with_mapped(mapped));
        }
        match self.target.set_order(purchase, order).await {
            Ok(saved) => {
                let aux = BTreeMap::from([(
                    ORDER_STATUS.to_owned(),
                    saved.order_status.as_key().to_owned(),
                )]);
                ctx.remember(&saved.id, aux, true).await?;
                Ok(Outcome::succeeded(action, Some(how), saved.id).with_mapped(mapped))
            }
            Err(error) => Ok(Outcome::target(action, &error)
                .with_match(Some(how))
                .with_target(Some(purchase.id.clone()))
                .with_mapped(mapped)),
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

    async fn apply(
        &self,
        ctx: &RecordContext<'_>,
        po: &PurchaseOrder,
    ) -> Result<Outcome, SyncError> {
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

        let xref = ctx
            .store()
            .cross_ref(ctx.tenant(), PurchaseOrder::KIND, po.identity())
            .await?;
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
            match self.target.find_purchases(&po.po_number).await {
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
                self.write_order(ctx, &purchase, &order, Action::Update, how, mapped)
                    .await
            }
            None => {
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
                self.write_order(
                    ctx,
                    &purchase,
                    &order,
                    Action::Create,
                    MatchResult::Created,
                    mapped,
                )
                .await
            }
        }
    }
}
