//! The return direction: purchases changed in the target (Cin7) written back to the source
//! (CloudSuite).
//!
//! It runs on the same [`StreamRunner`](super::StreamRunner) as the forward streams (inclusive
//! window, checkpoint, audit rows, replay), over [`PurchaseUpdate`] records read from the
//! target, on its own stream ([`stream`]).
//!
//! - **No write without a cause.** A PO that came from the source (recognised through the
//!   forward cross-reference) gets only what changed *in the target* since this direction
//!   last looked: per field, against a stored baseline of the target's values (see
//!   `baseline`). The first contact records the baseline and writes nothing (unless the
//!   forward direction wrote the purchase, whose baseline is then what it wrote: nothing
//!   received, its own order status). Received quantities only grow by what the target newly
//!   received; a decrease, or a receipt past the ordered quantity, is a conflict, never a
//!   write. The status moves only on a progress event in the target, never on the forward
//!   direction's own order write, and only forward (cancelled when voided).
//! - **A PO raised in the target** is created in the source once its order is authorised, with
//!   the supplier resolved through the supplier cross-reference and the items through
//!   [`ReturnConfig::items`]: header, then lines, marked before the first write and completed
//!   after a crash ([`SourcePurchaseWriter::complete_po`]), never created twice.
//! - **No echo.** The forward streams read the [`marks`] this direction leaves before each
//!   write; after a write the forward cross-reference gets the content hash of the source PO
//!   as it is now, so the forward stream skips the change this direction made. The same
//!   content-hash rule (rule 4) skips a target purchase that did not change since.
//! - **Conflicts.** A field group that changed on both sides since the last sync is settled by
//!   the [`ConflictPolicy`]; both versions go into the audit row's mapped snapshot, and a group
//!   whose winner is [`Winner::Review`] makes the row a `conflict` and is not written.
//! - **Invoices authorised in the target** are written to the source once, when the writer
//!   supports it ([`SourcePurchaseWriter::writes_invoices`]) and the pipeline has the forward
//!   invoice source ([`ReturnPipeline::with_invoices`]); an invoice the source already holds —
//!   one that came from it through the forward invoice stream (echo) or one an earlier,
//!   uncertain attempt wrote — is found by its vendor and number and not written again.

mod baseline;
mod create;
mod invoices;
pub mod marks;
mod policy;
mod summary;
pub mod triggers;
mod update;
mod writer;

pub use baseline::status_for;
use summary::Summary;

pub use policy::{ConflictPolicy, FieldGroup, Winner};
pub use writer::{
    ReceivedQuantity, SourceInvoiceDraft, SourceInvoiceLineDraft, SourcePoChange, SourcePoDraft,
    SourcePoLine, SourcePoLineDraft, SourcePoState, SourcePurchaseWriter,
};

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{Outcome, Pipeline, RecordContext, sync_key};
use crate::error::SyncError;
use crate::model::{
    PurchaseOrder, PurchaseProgress, PurchaseUpdate, Record, RecordKind, SourceIdentity,
    SupplierInvoice,
};
use crate::source::Source;
use crate::store::{Action, CrossRef, MatchResult, StreamId};

/// The return stream's name.
pub fn stream() -> StreamId {
    StreamId("purchase_returns".into())
}

/// How the return direction behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnConfig {
    /// The source's system, tenant and accounting entity (the forward records' identity
    /// without the id): the source PO and supplier identities are siblings of it.
    pub source_scope: SourceIdentity,
    /// The mapping revision of the forward purchase-order pipeline (part of its sync key).
    pub forward_revision: String,
    /// Prefix of the PO numbers created in the source for target-raised purchases.
    pub po_number_prefix: String,
    /// Total length of those PO numbers (CloudSuite Industrial's `PoNum` holds 10).
    pub po_number_len: usize,
    /// A target purchase is created in the source only from this progress on (default
    /// [`PurchaseProgress::Ordered`]: drafts stay in the target).
    pub create_from: PurchaseProgress,
    /// The conflict policy.
    pub policy: ConflictPolicy,
    /// Target SKU → source item (a SKU not listed is the same code in both).
    pub items: BTreeMap<String, String>,
    /// Target location → source warehouse (an unlisted location leaves the warehouse empty).
    pub locations: BTreeMap<String, String>,
    /// The currency of a target purchase that names none.
    pub default_currency: String,
}

impl ReturnConfig {
    /// Defaults for a source scope.
    pub fn new(source_scope: SourceIdentity) -> Self {
        ReturnConfig {
            source_scope,
            forward_revision: String::new(),
            po_number_prefix: "C7".into(),
            po_number_len: 10,
            create_from: PurchaseProgress::Ordered,
            policy: ConflictPolicy::default(),
            items: BTreeMap::new(),
            locations: BTreeMap::new(),
            default_currency: "USD".into(),
        }
    }

    /// The source PO number for a target order number: the prefix and the order number's
    /// digits, zero-padded to [`po_number_len`](Self::po_number_len).
    ///
    /// ```
    /// use sync_core::engine::returns::ReturnConfig;
    /// use sync_core::model::SourceIdentity;
    /// let config = ReturnConfig::new(SourceIdentity::new("cloudsuite", "T", "", ""));
    /// assert_eq!(config.po_number_for("PO-00012", "a1b2"), "C700000012");
    /// ```
    pub fn po_number_for(&self, order_number: &str, target_id: &str) -> String {
        let digits: String = order_number.chars().filter(char::is_ascii_digit).collect();
        let digits = if digits.is_empty() {
            target_id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect()
        } else {
            digits
        };
        let width = self
            .po_number_len
            .saturating_sub(self.po_number_prefix.len());
        let tail = if digits.len() > width {
            digits[digits.len() - width..].to_owned()
        } else {
            format!("{digits:0>width$}")
        };
        format!("{}{tail}", self.po_number_prefix).to_uppercase()
    }

    fn item_for(&self, sku: &str) -> String {
        self.items
            .get(sku)
            .cloned()
            .unwrap_or_else(|| sku.to_owned())
    }
}

/// The purchase-return pipeline.
pub struct ReturnPipeline {
    writer: Arc<dyn SourcePurchaseWriter>,
    forward: Arc<dyn Source<PurchaseOrder>>,
    forward_invoices: Option<Arc<dyn Source<SupplierInvoice>>>,
    full_reads: Option<Arc<dyn Source<PurchaseUpdate>>>,
    config: ReturnConfig,
}

/// A source PO the PO stage left in step with the target purchase (its cross-reference was
/// remembered as complete with `aux`): where the purchase's invoices are written.
#[derive(Debug, Clone)]
struct PoStage {
    po_number: String,
    how: MatchResult,
    aux: BTreeMap<String, String>,
    state: SourcePoState,
}

impl std::fmt::Debug for ReturnPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReturnPipeline")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How a target purchase relates to the source.
enum Origin {
    /// It has a source PO (found through a cross-reference).
    Known { po_number: String, how: MatchResult },
    /// Raised in the target; not in the source yet.
    New,
    /// Raised in the target; an earlier attempt started creating it as `po_number`.
    Incomplete { po_number: String },
    /// Written by the forward direction from a source record that is not a PO (an invoice-first
    /// purchase carries the invoice number): nothing to write back.
    Forward { reference: String },
}

impl ReturnPipeline {
    /// A pipeline writing through `writer`; `forward` is the forward direction's PO source
    /// (read to keep the forward cross-reference's hash current and to detect source changes).
    pub fn new(
        writer: Arc<dyn SourcePurchaseWriter>,
        forward: Arc<dyn Source<PurchaseOrder>>,
        config: ReturnConfig,
    ) -> Self {
        ReturnPipeline {
            writer,
            forward,
            forward_invoices: None,
            full_reads: None,
            config,
        }
    }

    /// Write invoices authorised in the target back to the source. `forward_invoices` is the
    /// forward direction's supplier-invoice source: after an invoice is written, the forward
    /// cross-reference of the new source invoice gets its content hash, so the forward invoice
    /// stream does not carry it back to the target (echo suppression). Invoices are written
    /// only when the writer [supports them](SourcePurchaseWriter::writes_invoices).
    pub fn with_invoices(mut self, forward_invoices: Arc<dyn Source<SupplierInvoice>>) -> Self {
        self.forward_invoices = Some(forward_invoices);
        self
    }

    /// Where a purchase read as a [summary](PurchaseUpdate::summary) is read in full when the
    /// summary is not enough (its `fetch`): the same target source that yields the summaries.
    /// Without it a summary the pipeline cannot settle fails, naming this method.
    pub fn with_full_reads(mut self, source: Arc<dyn Source<PurchaseUpdate>>) -> Self {
        self.full_reads = Some(source);
        self
    }

    /// Whether invoices authorised in the target are written back.
    pub fn writes_invoices(&self) -> bool {
        self.forward_invoices.is_some() && self.writer.writes_invoices()
    }

    /// The configuration.
    pub fn config(&self) -> &ReturnConfig {
        &self.config
    }

    fn po_identity(&self, po_number: &str) -> SourceIdentity {
        self.config.source_scope.sibling(po_number)
    }

    async fn origin(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
    ) -> Result<(Origin, Option<CrossRef>), SyncError> {
        let own = ctx
            .store()
            .cross_ref(ctx.tenant(), RecordKind::PurchaseOrder, &update.identity)
            .await?;
        if let Some(own) = own.as_ref().filter(|x| x.aux.contains_key(create::CREATE)) {
            return Ok((
                Origin::Incomplete {
                    po_number: own.target_id.clone(),
                },
                None,
            ));
        }
        if let Some(own) = &own {
            return Ok((
                Origin::Known {
                    po_number: own.target_id.clone(),
                    how: MatchResult::CrossRef,
                },
                Some(own.clone()),
            ));
        }
        // The forward direction's cross-references that point at this purchase.
        let scope = &self.config.source_scope;
        let ours = |x: &CrossRef| {
            (
                &x.source.system,
                &x.source.tenant,
                &x.source.accounting_entity,
            ) == (&scope.system, &scope.tenant, &scope.accounting_entity)
        };
        let forward = ctx
            .store()
            .cross_refs_to(ctx.tenant(), RecordKind::PurchaseOrder, &update.identity.id)
            .await?;
        let mut forward: Vec<CrossRef> = forward.into_iter().filter(|x| ours(x)).collect();
        forward.sort_by(|a, b| a.source.id.cmp(&b.source.id));
        for xref in &forward {
            match xref
                .aux
                .get(marks::CREATING_FROM_TARGET)
                .map(String::as_str)
            {
                Some(marks::PENDING) => {
                    return Ok((
                        Origin::Incomplete {
                            po_number: xref.source.id.clone(),
                        },
                        None,
                    ));
                }
                Some(_) => continue,
                None => {
                    return Ok((
                        Origin::Known {
                            po_number: xref.source.id.clone(),
                            how: MatchResult::CrossRef,
                        },
                        None,
                    ));
                }
            }
        }
        let invoice_first = ctx
            .store()
            .cross_refs_to(
                ctx.tenant(),
                RecordKind::SupplierInvoice,
                &update.identity.id,
            )
            .await?;
        if let Some(xref) = invoice_first.iter().find(|x| ours(x)) {
            return Ok((
                Origin::Forward {
                    reference: xref.source.id.clone(),
                },
                None,
            ));
        }
        // A reference stamped on the purchase means the forward direction created it (people
        // raising purchases in the target do not fill the reference attribute). Without a PO
        // cross-reference it came from another source record (an invoice-first purchase), or
        // its PO's forward sync is still incomplete: either way it is not a PO to create.
        if let Some(reference) = &update.reference {
            return Ok((
                Origin::Forward {
                    reference: reference.clone(),
                },
                None,
            ));
        }
        Ok((Origin::New, None))
    }

    /// The forward record as the source holds it now, with its sync key.
    async fn forward_now(
        &self,
        po_number: &str,
    ) -> Result<Option<(PurchaseOrder, crate::model::ContentHash)>, SyncError> {
        let Some(po) = self.forward.fetch(&self.po_identity(po_number)).await? else {
            return Ok(None);
        };
        let key = sync_key(&po.content_hash()?, &self.config.forward_revision);
        Ok(Some((po, key)))
    }

    /// Change the forward cross-reference of source PO `po_number` in place, when it exists;
    /// `edit` says whether it changed anything (only then is it stored).
    async fn edit_forward_xref(
        &self,
        ctx: &RecordContext<'_>,
        po_number: &str,
        edit: impl FnOnce(&mut CrossRef) -> bool,
    ) -> Result<(), SyncError> {
        let identity = self.po_identity(po_number);
        let Some(mut xref) = ctx
            .store()
            .cross_ref(ctx.tenant(), RecordKind::PurchaseOrder, &identity)
            .await?
        else {
            return Ok(());
        };
        if edit(&mut xref) {
            ctx.store().put_cross_ref(ctx.tenant(), &xref).await?;
        }
        Ok(())
    }

    /// Mark the source PO as in step with the target purchase, so the forward stream does not
    /// carry this direction's write back (echo suppression).
    async fn mark_forward_synced(
        &self,
        ctx: &RecordContext<'_>,
        po_number: &str,
        target_id: &str,
        aux: BTreeMap<String, String>,
    ) -> Result<(), SyncError> {
        let now = self.forward_now(po_number).await?;
        let xref = CrossRef {
            kind: RecordKind::PurchaseOrder,
            source: self.po_identity(po_number),
            target_id: target_id.to_owned(),
            aux,
            synced_hash: now.as_ref().map(|(_, key)| key.clone()),
            synced_modified_at: now.as_ref().map(|(po, _)| po.modified_at),
        };
        ctx.store().put_cross_ref(ctx.tenant(), &xref).await?;
        Ok(())
    }
}

#[async_trait]
impl Pipeline for ReturnPipeline {
    type Record = PurchaseUpdate;

    fn stream(&self) -> StreamId {
        stream()
    }

    async fn apply(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
    ) -> Result<Outcome, SyncError> {
        let (origin, own) = self.origin(ctx, update).await?;
        let full;
        let update = match self
            .settle_summary(ctx, update, &origin, own.as_ref())
            .await?
        {
            Summary::Full => update,
            Summary::Settled(outcome) => return Ok(outcome),
            Summary::Read(read) => {
                full = read;
                &full
            }
        };
        let (outcome, stage) = match origin {
            Origin::Known { po_number, how } => {
                self.update_known(ctx, update, po_number, how, own).await?
            }
            Origin::New => self.create_new(ctx, update, None).await?,
            Origin::Incomplete { po_number } => {
                self.create_new(ctx, update, Some(po_number)).await?
            }
            Origin::Forward { reference } => {
                let mut outcome = Outcome::succeeded(Action::None, None, reference.clone());
                outcome.response_summary = Some(format!(
                    "created by the forward sync from source record {reference} (not a purchase order raised in the target): nothing to write back"
                ));
                (outcome, None)
            }
        };
        match stage {
            Some(stage) if self.writes_invoices() && !update.invoices.is_empty() => {
                self.write_invoices(ctx, update, stage, outcome).await
            }
            _ => Ok(outcome),
        }
    }
}

#[cfg(test)]
mod tests;
