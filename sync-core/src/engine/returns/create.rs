//! A purchase raised in the target, created in the source: header, then lines, exactly once.
//!
//! Before the first write the intent (naming every line), the return cross-reference (marked
//! as a create under way) and the forward cross-reference's [`marks::CREATING_FROM_TARGET`]
//! are stored, so after a crash at any point the next run finds the PO (by its external
//! reference), inserts only the lines it lacks ([`SourcePurchaseWriter::complete_po`]) and links
//! both directions, and the forward stream never takes the half-written PO for a new one.

use std::collections::BTreeMap;

use serde_json::json;

use super::baseline::{self, Remembered, SourceValues};
use super::{
    PoStage, ReturnPipeline, SourcePoDraft, SourcePoLine, SourcePoLineDraft, SourcePoState, marks,
    status_for,
};
use crate::engine::{Outcome, RecordContext};
use crate::error::SyncError;
use crate::model::{PurchaseProgress, PurchaseUpdate, RecordKind};
use crate::store::{Action, CrossRef, ErrorClass, MatchResult};

#[cfg(doc)]
use super::SourcePurchaseWriter;

/// The return cross-reference's `aux` while a create is under way.
pub(super) const CREATE: &str = "create";

type Staged = (Outcome, Option<PoStage>);

impl ReturnPipeline {
    /// Create the source PO of a purchase raised in the target; `started` is the PO number of
    /// an earlier attempt that marked its start.
    pub(super) async fn create_new(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
        started: Option<String>,
    ) -> Result<Staged, SyncError> {
        if started.is_none()
            && (update.progress < self.config.create_from
                || update.progress == PurchaseProgress::Voided)
        {
            return Ok((
                Outcome::deferred(format!(
                    "purchase {} is {:?} in the target; it is created in the source once it reaches {:?}",
                    update.order_number, update.progress, self.config.create_from
                )),
                None,
            ));
        }
        let vendor_id = match self.vendor_of(ctx, update).await? {
            Ok(vendor_id) => vendor_id,
            Err(outcome) => return Ok((outcome, None)),
        };
        let mut draft = self.po_draft(update, vendor_id);
        let mapped = Some(json!({ "create": draft, "target_version": update }));

        // Rule 5: an earlier attempt may have written the header and some lines.
        let earlier = if started.is_some() || ctx.uncertain() {
            match self.writer.find_by_external_ref(&update.identity.id).await {
                Ok(found) if found.len() > 1 => {
                    return Ok((
                        Outcome::conflict(
                            ErrorClass::Ambiguous,
                            format!(
                                "{} source POs carry external reference {}",
                                found.len(),
                                update.identity.id
                            ),
                        )
                        .with_match(Some(MatchResult::Ambiguous))
                        .with_mapped(mapped),
                        None,
                    ));
                }
                Ok(found) => found.into_iter().next(),
                Err(error) => {
                    return Ok((
                        Outcome::target(Action::Create, &error).with_mapped(mapped),
                        None,
                    ));
                }
            }
        } else {
            None
        };
        let proposed = started.unwrap_or_else(|| draft.po_number.clone());

        let (po_number, how) = match earlier {
            Some(po_number) => {
                draft.po_number = po_number.clone();
                ctx.intent(
                    Action::Create,
                    Some(MatchResult::ByLookup),
                    Some(po_number.clone()),
                    mapped.clone(),
                )
                .await?;
                if let Some(outcome) = self.mark_creating(ctx, &po_number, update).await? {
                    return Ok((outcome.with_mapped(mapped), None));
                }
                if let Err(error) = self.writer.complete_po(&po_number, &draft).await {
                    return Ok((
                        Outcome::target(Action::Create, &error)
                            .with_match(Some(MatchResult::ByLookup))
                            .with_target(Some(po_number))
                            .with_mapped(mapped),
                        None,
                    ));
                }
                (po_number, MatchResult::ByLookup)
            }
            None => {
                draft.po_number = proposed.clone();
                ctx.intent(
                    Action::Create,
                    Some(MatchResult::Created),
                    None,
                    mapped.clone(),
                )
                .await?;
                if let Some(outcome) = self.mark_creating(ctx, &proposed, update).await? {
                    return Ok((outcome.with_mapped(mapped), None));
                }
                ctx.remember(
                    &proposed,
                    BTreeMap::from([(CREATE.to_owned(), marks::PENDING.to_owned())]),
                    false,
                )
                .await?;
                match self.writer.create_po(&draft).await {
                    Ok(po_number) => (po_number, MatchResult::Created),
                    Err(error) => {
                        return Ok((
                            Outcome::target(Action::Create, &error).with_mapped(mapped),
                            None,
                        ));
                    }
                }
            }
        };
        if po_number != proposed {
            // The source numbered it (M3): the mark under the proposed number stands for
            // nothing now.
            self.abandon_mark(ctx, &proposed, update).await?;
        }
        self.finish_create(ctx, update, &draft, po_number, how, mapped)
            .await
    }

    /// The vendor of a target purchase, through the cross-references: the vendor ID stamped on
    /// the target supplier must lead, through the supplier cross-reference, back to it.
    async fn vendor_of(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
    ) -> Result<Result<String, Outcome>, SyncError> {
        let Some(vendor_id) = update.supplier_vendor_id.clone() else {
            return Ok(Err(Outcome::deferred(format!(
                "supplier {} of purchase {} carries no source vendor ID",
                update.supplier_id, update.order_number
            ))));
        };
        let supplier_xref = ctx
            .store()
            .cross_ref(
                ctx.tenant(),
                RecordKind::Supplier,
                &self.config.source_scope.sibling(vendor_id.clone()),
            )
            .await?;
        Ok(match supplier_xref {
            Some(x) if x.target_id == update.supplier_id => Ok(vendor_id),
            Some(x) => Err(Outcome::conflict(
                ErrorClass::Ambiguous,
                format!(
                    "vendor {vendor_id} is linked to target supplier {}, not {}",
                    x.target_id, update.supplier_id
                ),
            )
            .with_match(Some(MatchResult::Ambiguous))),
            None => Err(Outcome::deferred(format!(
                "vendor {vendor_id} has no supplier cross-reference yet"
            ))),
        })
    }

    fn po_draft(&self, update: &PurchaseUpdate, vendor_id: String) -> SourcePoDraft {
        SourcePoDraft {
            po_number: self
                .config
                .po_number_for(&update.order_number, &update.identity.id),
            vendor_id,
            order_date: update
                .order_date
                .unwrap_or_else(|| update.modified_at.date_naive()),
            required_by: update.required_by,
            currency: update
                .currency
                .clone()
                .unwrap_or_else(|| self.config.default_currency.clone()),
            location: update
                .location
                .as_ref()
                .and_then(|l| self.config.locations.get(l).cloned()),
            status: status_for(update.progress),
            external_ref: update.identity.id.clone(),
            external_number: update.order_number.clone(),
            lines: update
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| SourcePoLineDraft {
                    line_no: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    item: self.config.item_for(&line.sku),
                    description: line.name.clone(),
                    quantity: line.quantity,
                    unit_price: line.price,
                    received: line.received,
                })
                .collect(),
        }
    }

    /// Mark the forward cross-reference of `po_number` as being created from `update`, before
    /// the first write. A PO number the forward direction already links to another target
    /// purchase is not overwritten: that is a conflict.
    async fn mark_creating(
        &self,
        ctx: &RecordContext<'_>,
        po_number: &str,
        update: &PurchaseUpdate,
    ) -> Result<Option<Outcome>, SyncError> {
        let identity = self.po_identity(po_number);
        let existing = ctx
            .store()
            .cross_ref(ctx.tenant(), RecordKind::PurchaseOrder, &identity)
            .await?;
        if let Some(existing) = &existing
            && existing.target_id != update.identity.id
            && existing
                .aux
                .get(marks::CREATING_FROM_TARGET)
                .map(String::as_str)
                != Some(marks::ABANDONED)
        {
            return Ok(Some(
                Outcome::conflict(
                    ErrorClass::Conflict,
                    format!(
                        "source PO {po_number} already exists and is linked to target purchase {}; purchase {} cannot be created under that number",
                        existing.target_id, update.order_number
                    ),
                )
                .with_target(Some(po_number.to_owned())),
            ));
        }
        if existing.is_some_and(|x| x.synced_hash.is_some()) {
            // Already linked to this purchase (a create finished, then its row was lost).
            return Ok(None);
        }
        let xref = CrossRef {
            kind: RecordKind::PurchaseOrder,
            source: identity,
            target_id: update.identity.id.clone(),
            aux: BTreeMap::from([(
                marks::CREATING_FROM_TARGET.to_owned(),
                marks::PENDING.to_owned(),
            )]),
            synced_hash: None,
            synced_modified_at: None,
        };
        ctx.store().put_cross_ref(ctx.tenant(), &xref).await?;
        Ok(None)
    }

    async fn abandon_mark(
        &self,
        ctx: &RecordContext<'_>,
        po_number: &str,
        update: &PurchaseUpdate,
    ) -> Result<(), SyncError> {
        self.edit_forward_xref(ctx, po_number, |xref| {
            let ours = xref.target_id == update.identity.id && xref.synced_hash.is_none();
            if ours {
                xref.aux.insert(
                    marks::CREATING_FROM_TARGET.to_owned(),
                    marks::ABANDONED.to_owned(),
                );
            }
            ours
        })
        .await
    }

    /// The PO is complete in the source: link both directions.
    async fn finish_create(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
        draft: &SourcePoDraft,
        po_number: String,
        how: MatchResult,
        mapped: Option<serde_json::Value>,
    ) -> Result<Staged, SyncError> {
        let state = SourcePoState {
            po_number: po_number.clone(),
            status: draft.status.clone(),
            vendor_id: Some(draft.vendor_id.clone()),
            lines: draft
                .lines
                .iter()
                .map(|l| SourcePoLine {
                    line_no: l.line_no,
                    item: l.item.clone(),
                    ordered: l.quantity,
                    received: l.received,
                })
                .collect(),
        };
        let aux = Remembered {
            source: Some(SourceValues::of(&state)),
            target: Some(baseline::observe(update, &state, |sku| {
                self.config.item_for(sku)
            })),
        }
        .to_aux();
        ctx.remember(&po_number, aux.clone(), true).await?;
        // The forward stream will read this PO: it already is the target purchase.
        self.mark_forward_synced(
            ctx,
            &po_number,
            &update.identity.id,
            BTreeMap::from([(
                marks::CREATED_FROM_TARGET.to_owned(),
                update.identity.id.clone(),
            )]),
        )
        .await?;
        let mut outcome =
            Outcome::succeeded(Action::Create, Some(how), po_number.clone()).with_mapped(mapped);
        if how == MatchResult::ByLookup {
            outcome.response_summary = Some(format!(
                "completed the source PO {po_number} an earlier attempt started: the lines it lacked were inserted"
            ));
        }
        Ok((
            outcome,
            Some(PoStage {
                po_number,
                how,
                aux,
                state,
            }),
        ))
    }
}
