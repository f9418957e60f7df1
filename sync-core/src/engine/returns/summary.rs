//! Purchases read as list-row summaries ([`PurchaseUpdate::summary`]): settled without reading
//! the whole purchase when the row shows nothing to write, read in full otherwise.
//!
//! A [quiet](crate::model::PurchaseSummary::quiet) summary says the target has received
//! nothing, invoiced nothing and not voided the purchase. For a purchase the forward direction
//! wrote (or this direction saw before) whose baseline is also "nothing received" and whose
//! order is where it was left, there is nothing to write: no call to either side. Nor for a
//! purchase the forward direction wrote from an invoice, or a draft raised in the target. This
//! is what keeps the return stream from reading back, one call each, every purchase the
//! forward streams just wrote.

use super::baseline::{self, Remembered};
use super::{Origin, ReturnPipeline};
use crate::engine::{Outcome, RecordContext};
use crate::error::SyncError;
use crate::model::{PurchaseProgress, PurchaseUpdate, RecordKind};
use crate::store::{Action, CrossRef, ErrorClass, MatchResult};

/// What to do with a record that may be a summary.
pub(super) enum Summary {
    /// A whole purchase: go on with it.
    Full,
    /// A summary that needed nothing more: this is its outcome.
    Settled(Outcome),
    /// A summary read in full: go on with this.
    Read(PurchaseUpdate),
}

impl ReturnPipeline {
    pub(super) async fn settle_summary(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
        origin: &Origin,
        own: Option<&CrossRef>,
    ) -> Result<Summary, SyncError> {
        let Some(summary) = &update.summary else {
            return Ok(Summary::Full);
        };
        match origin {
            // Nothing is written for these either way; `create_new` defers a draft before it
            // looks at lines.
            Origin::Forward { .. } => return Ok(Summary::Full),
            Origin::New
                if update.progress < self.config.create_from
                    || update.progress == PurchaseProgress::Voided =>
            {
                return Ok(Summary::Full);
            }
            Origin::Known { po_number, how } if summary.quiet => {
                if let Some(outcome) = self.quiet(ctx, update, po_number, *how, own).await? {
                    return Ok(Summary::Settled(outcome));
                }
            }
            Origin::Known { .. } | Origin::New | Origin::Incomplete { .. } => {}
        }
        let Some(source) = &self.full_reads else {
            return Ok(Summary::Settled(Outcome::failed(
                Action::None,
                ErrorClass::Internal,
                format!(
                    "purchase {} was read as a summary and needs a full read, but the return pipeline has no source for it (ReturnPipeline::with_full_reads)",
                    update.order_number
                ),
            )));
        };
        match source.fetch(&update.identity).await {
            Ok(Some(full)) if full.summary.is_none() => Ok(Summary::Read(full)),
            Ok(Some(_)) => Ok(Summary::Settled(Outcome::failed(
                Action::None,
                ErrorClass::Internal,
                format!(
                    "the full read of purchase {} answered a summary again",
                    update.order_number
                ),
            ))),
            Ok(None) => {
                let mut outcome =
                    Outcome::succeeded(Action::None, None, update.identity.id.clone());
                outcome.response_summary = Some(format!(
                    "purchase {} no longer exists in the target",
                    update.order_number
                ));
                Ok(Summary::Settled(outcome))
            }
            Err(error) => Ok(Summary::Settled(Outcome::failed(
                Action::None,
                ErrorClass::Source,
                format!(
                    "reading purchase {} in full: {}",
                    update.order_number, error.message
                ),
            ))),
        }
    }

    /// A summary of a known purchase that cannot hold anything to write: nothing received now
    /// or at the baseline, and the order where this direction (or the forward direction) left
    /// it. Its baseline is recorded (seeded from the forward direction's write on first
    /// contact) and nothing is called.
    async fn quiet(
        &self,
        ctx: &RecordContext<'_>,
        update: &PurchaseUpdate,
        po_number: &str,
        how: MatchResult,
        own: Option<&CrossRef>,
    ) -> Result<Option<Outcome>, SyncError> {
        let remembered = own
            .map(|x| Remembered::from_aux(&x.aux))
            .unwrap_or_default();
        let forward_progress = ctx
            .store()
            .cross_ref(
                ctx.tenant(),
                RecordKind::PurchaseOrder,
                &self.po_identity(po_number),
            )
            .await?
            .and_then(|x| baseline::forward_progress(&x.aux));
        let base = match (remembered.target.clone(), forward_progress) {
            (Some(base), _) => base,
            (None, Some(progress)) => baseline::TargetValues {
                progress,
                received: Default::default(),
            },
            // First contact with a purchase the forward direction did not write: its lines are
            // the baseline, so it is read in full once.
            (None, None) => return Ok(None),
        };
        let nothing_received = base.received.values().all(|q| q.is_zero());
        let order_as_left =
            update.progress == base.progress || Some(update.progress) == forward_progress;
        if !nothing_received || !order_as_left {
            return Ok(None);
        }
        let aux = Remembered {
            source: remembered.source,
            target: Some(base),
        }
        .to_aux();
        ctx.remember(po_number, aux, true).await?;
        let mut outcome = Outcome::succeeded(Action::Skip, Some(how), po_number.to_owned());
        outcome.response_summary = Some(
            "nothing received, invoiced or voided in the target and the order as last seen: nothing to write (not read in full)".into(),
        );
        Ok(Some(outcome))
    }
}
