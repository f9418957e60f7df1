//! The return direction: purchases changed in the target (Cin7) written back to the source
//! (CloudSuite).
//!
//! It runs on the same [`StreamRunner`](super::StreamRunner) as the forward streams (inclusive
//! window, checkpoint, audit rows, replay), over [`PurchaseUpdate`] records read from the
//! target, on its own stream ([`stream`]).
//!
//! - **A PO that came from the source** is recognised through the forward cross-reference
//!   (source PO → target purchase id); its status and received quantities are written back.
//! - **A PO raised in the target** is created in the source once its order is authorised, with
//!   the supplier resolved through the supplier cross-reference and the items through
//!   [`ReturnConfig::items`].
//! - **Echo suppression.** Only fields that differ from what the source holds are written (so
//!   the forward direction's own writes, read back from the target, write nothing). After a
//!   write, the forward cross-reference is given the content hash of the source PO as it is now,
//!   so the forward stream skips the change this direction made. The same content-hash rule
//!   (rule 4) skips a target purchase that did not change since this direction last wrote it.
//! - **Conflicts.** A field group that changed on both sides since the last sync is settled by
//!   the [`ConflictPolicy`]; both versions go into the audit row's mapped snapshot, and a group
//!   whose winner is [`Winner::Review`] makes the row a `conflict` and is not written.
//! - Status only moves forward (planned → ordered → closed, or cancelled when voided): a draft
//!   in the target never demotes an order the source has released.
//! - **Invoices authorised in the target** are written to the source once, when the writer
//!   supports it ([`SourcePurchaseWriter::writes_invoices`]) and the pipeline has the forward
//!   invoice source ([`ReturnPipeline::with_invoices`]); an invoice the source already holds —
//!   one that came from it through the forward invoice stream (echo) or one an earlier,
//!   uncertain attempt wrote — is found by its vendor and number and not written again.

mod invoices;
mod policy;
pub mod triggers;
mod writer;

pub use policy::{ConflictPolicy, FieldGroup, Winner};
pub use writer::{
    ReceivedQuantity, SourceInvoiceDraft, SourceInvoiceLineDraft, SourcePoChange, SourcePoDraft,
    SourcePoLine, SourcePoLineDraft, SourcePoState, SourcePurchaseWriter,
};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde_json::json;

use super::{Outcome, Pipeline, RecordContext, sync_key};
use crate::error::SyncError;
use crate::model::{
    PoStatus, PurchaseOrder, PurchaseProgress, PurchaseUpdate, Record, RecordKind, SourceIdentity,
    SupplierInvoice,
};
use crate::source::Source;
use crate::store::{Action, CrossRef, ErrorClass, MatchResult, StreamId};

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

/// The status the source should have for a target purchase's progress.
pub fn status_for(progress: PurchaseProgress) -> PoStatus {
    match progress {
        PurchaseProgress::Draft => PoStatus::Planned,
        PurchaseProgress::Ordered | PurchaseProgress::PartlyReceived => PoStatus::Ordered,
        PurchaseProgress::Received => PoStatus::Closed,
        PurchaseProgress::Voided => PoStatus::Cancelled,
    }
}

fn rank(status: &PoStatus) -> u8 {
    match status {
        PoStatus::Planned => 0,
        PoStatus::Ordered => 1,
        PoStatus::Closed => 2,
        PoStatus::Cancelled => 3,
    }
}

fn status_key(status: &PoStatus) -> &'static str {
    match status {
        PoStatus::Planned => "planned",
        PoStatus::Ordered => "ordered",
        PoStatus::Closed => "closed",
        PoStatus::Cancelled => "cancelled",
    }
}

fn qty_key(quantity: Decimal) -> String {
    quantity.normalize().to_string()
}

/// What the source should hold for one PO, per the target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Wanted {
    status: Option<PoStatus>,
    received: Vec<ReceivedQuantity>,
}

/// The purchase-return pipeline.
pub struct ReturnPipeline {
    writer: Arc<dyn SourcePurchaseWriter>,
    forward: Arc<dyn Source<PurchaseOrder>>,
    forward_invoices: Option<Arc<dyn Source<SupplierInvoice>>>,
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
        if let Some(own) = &own {
            return Ok((
                Origin::Known {
                    po_number: own.target_id.clone(),
                    how: MatchResult::CrossRef,
                },
                Some(own.clone()),
            ));
        }
        for candidate in [
            update.reference.as_deref(),
            Some(update.order_number.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            let forward = ctx
                .store()
                .cross_ref(
                    ctx.tenant(),
                    RecordKind::PurchaseOrder,
                    &self.po_identity(candidate),
                )
                .await?;
            if forward.is_some_and(|x| x.target_id == update.identity.id) {
                return Ok((
                    Origin::Known {
                        po_number: candidate.to_owned(),
                        how: MatchResult::CrossRef,
                    },
                    None,
                ));
            }
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

    /// Match the target's lines to the source's: same item, in order, each source line once.
    fn wanted(&self, update: &PurchaseUpdate, state: &SourcePoState) -> Wanted {
        let mut used = BTreeSet::new();
        let mut received = Vec::new();
        for line in &update.lines {
            let item = self.config.item_for(&line.sku);
            let Some(source) = state
                .lines
                .iter()
                .find(|l| l.item == item && !used.contains(&l.line_no))
            else {
                continue;
            };
            used.insert(source.line_no);
            if line.received != source.received {
                received.push(ReceivedQuantity {
                    line_no: source.line_no,
                    item: item.clone(),
                    total: line.received,
                    delta: line.received - source.received,
                });
            }
        }
        let target_status = status_for(update.progress);
        let status = match (&target_status, &state.status) {
            (PoStatus::Cancelled, current) if *current != PoStatus::Cancelled => {
                Some(PoStatus::Cancelled)
            }
            (wanted, current) if rank(wanted) > rank(current) && *wanted != PoStatus::Cancelled => {
                Some(wanted.clone())
            }
            _ => None,
        };
        Wanted { status, received }
    }

    /// The source's values as of the last return sync, kept in the return cross-reference.
    fn aux_for(state: &SourcePoState) -> BTreeMap<String, String> {
        let mut aux = BTreeMap::new();
        aux.insert("status".into(), status_key(&state.status).to_owned());
        for line in &state.lines {
            aux.insert(format!("received/{}", line.line_no), qty_key(line.received));
        }
        aux
    }

    /// Which groups the source changed since the last sync: from the values remembered in the
    /// return cross-reference, or (first contact) from the forward cross-reference's hash.
    fn source_changed(
        state: &SourcePoState,
        own: Option<&CrossRef>,
        forward_pending: bool,
    ) -> BTreeSet<FieldGroup> {
        let mut changed = BTreeSet::new();
        match own.filter(|x| !x.aux.is_empty()) {
            Some(own) => {
                if own.aux.get("status").map(String::as_str) != Some(status_key(&state.status)) {
                    changed.insert(FieldGroup::Status);
                }
                if state.lines.iter().any(|l| {
                    own.aux.get(&format!("received/{}", l.line_no)) != Some(&qty_key(l.received))
                }) {
                    changed.insert(FieldGroup::Receipts);
                }
            }
            None if forward_pending => {
                changed.insert(FieldGroup::Status);
                changed.insert(FieldGroup::Receipts);
            }
            None => {}
        }
        changed
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

    async fn update_known(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
        po_number: String,
        how: MatchResult,
        own: Option<CrossRef>,
    ) -> Result<(Outcome, Option<PoStage>), SyncError> {
        let state = match self.writer.get_po(&po_number).await {
            Ok(Some(state)) => state,
            Ok(None) => {
                return Ok((
                    Outcome::conflict(
                        ErrorClass::Conflict,
                        format!("source PO {po_number} no longer exists"),
                    )
                    .with_match(Some(how))
                    .with_target(Some(po_number)),
                    None,
                ));
            }
            Err(error) => {
                return Ok((
                    Outcome::target(Action::Update, &error)
                        .with_match(Some(how))
                        .with_target(Some(po_number)),
                    None,
                ));
            }
        };
        let forward_xref = ctx
            .store()
            .cross_ref(
                ctx.tenant(),
                RecordKind::PurchaseOrder,
                &self.po_identity(&po_number),
            )
            .await?;
        let forward_before = self.forward_now(&po_number).await?;
        // The source changed since the forward stream last wrote it (its hash moved).
        let forward_pending = match (&forward_xref, &forward_before) {
            (Some(xref), Some((_, key))) => xref
                .synced_hash
                .as_ref()
                .is_some_and(|synced| synced != key),
            _ => false,
        };
        let wanted = self.wanted(update, &state);
        let changed_here = Self::source_changed(&state, own.as_ref(), forward_pending);

        let mut change = SourcePoChange::default();
        let mut review = Vec::new();
        let mut settled = Vec::new();
        let groups = [
            (FieldGroup::Status, wanted.status.is_some()),
            (FieldGroup::Receipts, !wanted.received.is_empty()),
        ];
        for (group, differs) in groups {
            if !differs {
                continue;
            }
            let winner = if changed_here.contains(&group) {
                let winner = self.config.policy.winner(group);
                settled.push(format!("{}: {:?} wins", group.as_str(), winner));
                winner
            } else {
                Winner::Target
            };
            match (winner, group) {
                (Winner::Target, FieldGroup::Status) => change.status = wanted.status.clone(),
                (Winner::Target, FieldGroup::Receipts) => change.received = wanted.received.clone(),
                (Winner::Source, _) => {}
                (Winner::Review, _) => review.push(group.as_str()),
            }
        }
        let mapped = Some(json!({
            "change": change,
            "target_version": update,
            "source_version": state,
            "source_record": forward_before.as_ref().map(|(po, _)| po),
            "conflict": settled,
        }));

        let mut after = state.clone();
        if !change.is_empty() {
            ctx.intent(
                Action::Update,
                Some(how),
                Some(po_number.clone()),
                mapped.clone(),
            )
            .await?;
            if let Err(error) = self.writer.update_po(&po_number, &change).await {
                return Ok((
                    Outcome::target(Action::Update, &error)
                        .with_match(Some(how))
                        .with_target(Some(po_number))
                        .with_mapped(mapped),
                    None,
                ));
            }
            if let Some(status) = &change.status {
                after.status = status.clone();
            }
            for r in &change.received {
                if let Some(line) = after.lines.iter_mut().find(|l| l.line_no == r.line_no) {
                    line.received = r.total;
                }
            }
            // Our own write must not come back as a source change: the forward stream's hash
            // moves to the PO as it is now, unless the source had a change of its own pending.
            if let Some(forward) = forward_xref.filter(|_| !forward_pending) {
                self.mark_forward_synced(ctx, &po_number, &forward.target_id, forward.aux)
                    .await?;
            }
        }
        // Reviewed groups keep the values of the last sync, so they stay in conflict until a
        // person settles them.
        let mut aux = Self::aux_for(&after);
        if !review.is_empty()
            && let Some(own) = own.as_ref().filter(|x| !x.aux.is_empty())
        {
            for group in &review {
                let prefix = if *group == "status" {
                    "status"
                } else {
                    "received/"
                };
                aux.retain(|k, _| !k.starts_with(prefix));
                aux.extend(
                    own.aux
                        .iter()
                        .filter(|(k, _)| k.starts_with(prefix))
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
            }
        }
        ctx.remember(&po_number, aux.clone(), review.is_empty())
            .await?;
        if !review.is_empty() {
            return Ok((
                Outcome::conflict(
                    ErrorClass::Conflict,
                    format!(
                        "purchase {} and source PO {po_number} both changed since the last sync ({}); both versions are in the mapped snapshot",
                        update.order_number,
                        review.join(", ")
                    ),
                )
                .with_match(Some(how))
                .with_target(Some(po_number))
                .with_mapped(mapped),
                None,
            ));
        }
        let action = if change.is_empty() {
            Action::Skip
        } else {
            Action::Update
        };
        let mut outcome =
            Outcome::succeeded(action, Some(how), po_number.clone()).with_mapped(mapped);
        outcome.response_summary = Some(if !settled.is_empty() {
            format!("conflict settled by policy: {}", settled.join(", "))
        } else if change.is_empty() {
            "the source already holds this (no return-relevant change)".into()
        } else {
            "status/receipts written to the source".into()
        });
        Ok((
            outcome,
            Some(PoStage {
                po_number,
                how,
                aux,
                state: after,
            }),
        ))
    }

    async fn create_new(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
    ) -> Result<(Outcome, Option<PoStage>), SyncError> {
        if update.progress < self.config.create_from || update.progress == PurchaseProgress::Voided
        {
            return Ok((
                Outcome::deferred(format!(
                    "purchase {} is {:?} in the target; it is created in the source once it reaches {:?}",
                    update.order_number, update.progress, self.config.create_from
                )),
                None,
            ));
        }
        // The supplier through the cross-references: the vendor ID stamped on the target
        // supplier must lead, through the supplier cross-reference, back to that supplier.
        let Some(vendor_id) = update.supplier_vendor_id.clone() else {
            return Ok((
                Outcome::deferred(format!(
                    "supplier {} of purchase {} carries no source vendor ID",
                    update.supplier_id, update.order_number
                )),
                None,
            ));
        };
        let supplier_xref = ctx
            .store()
            .cross_ref(
                ctx.tenant(),
                RecordKind::Supplier,
                &self.config.source_scope.sibling(vendor_id.clone()),
            )
            .await?;
        match supplier_xref {
            Some(x) if x.target_id == update.supplier_id => {}
            Some(x) => {
                return Ok((
                    Outcome::conflict(
                        ErrorClass::Ambiguous,
                        format!(
                            "vendor {vendor_id} is linked to target supplier {}, not {}",
                            x.target_id, update.supplier_id
                        ),
                    )
                    .with_match(Some(MatchResult::Ambiguous)),
                    None,
                ));
            }
            None => {
                return Ok((
                    Outcome::deferred(format!(
                        "vendor {vendor_id} has no supplier cross-reference yet"
                    )),
                    None,
                ));
            }
        }
        let po_number = self
            .config
            .po_number_for(&update.order_number, &update.identity.id);
        let draft = SourcePoDraft {
            po_number: po_number.clone(),
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
        };
        let mapped = Some(json!({ "create": draft, "target_version": update }));
        // Rule 5: an earlier create may have reached the source.
        if ctx.uncertain() {
            match self.writer.find_by_external_ref(&update.identity.id).await {
                Ok(found) if found.len() == 1 => {
                    let existing = found.into_iter().next().unwrap_or_default();
                    ctx.remember(&existing, BTreeMap::new(), false).await?;
                    return self
                        .update_known(ctx, update, existing, MatchResult::ByLookup, None)
                        .await;
                }
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
                Ok(_) => {}
                Err(error) => {
                    return Ok((
                        Outcome::target(Action::Create, &error).with_mapped(mapped),
                        None,
                    ));
                }
            }
        }
        ctx.intent(
            Action::Create,
            Some(MatchResult::Created),
            None,
            mapped.clone(),
        )
        .await?;
        let po_number = match self.writer.create_po(&draft).await {
            Ok(po_number) => po_number,
            Err(error) => {
                return Ok((
                    Outcome::target(Action::Create, &error).with_mapped(mapped),
                    None,
                ));
            }
        };
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
        let aux = Self::aux_for(&state);
        ctx.remember(&po_number, aux.clone(), true).await?;
        // The forward stream will read this PO: it already is the target purchase.
        self.mark_forward_synced(ctx, &po_number, &update.identity.id, BTreeMap::new())
            .await?;
        Ok((
            Outcome::succeeded(
                Action::Create,
                Some(MatchResult::Created),
                po_number.clone(),
            )
            .with_mapped(mapped),
            Some(PoStage {
                po_number,
                how: MatchResult::Created,
                aux,
                state,
            }),
        ))
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
        let (outcome, stage) = match self.origin(ctx, update).await? {
            (Origin::Known { po_number, how }, own) => {
                self.update_known(ctx, update, po_number, how, own).await?
            }
            (Origin::New, _) => self.create_new(ctx, update).await?,
            (Origin::Forward { reference }, _) => {
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
