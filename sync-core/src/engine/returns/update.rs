//! A target purchase whose source PO exists: what changed in the target since the baseline is
//! written to the source, and nothing else (see [`super::baseline`]).

use serde_json::json;

use super::baseline::{self, Remembered, SourceValues, TargetValues};
use super::{FieldGroup, PoStage, ReturnPipeline, SourcePoChange, Winner};
use crate::engine::{Outcome, RecordContext};
use crate::error::SyncError;
use crate::model::{PurchaseUpdate, RecordKind};
use crate::store::{Action, CrossRef, ErrorClass, MatchResult};

impl ReturnPipeline {
    pub(super) async fn update_known(
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
        let forward_progress = forward_xref
            .as_ref()
            .and_then(|x| baseline::forward_progress(&x.aux));
        let remembered = own
            .as_ref()
            .map(|x| Remembered::from_aux(&x.aux))
            .unwrap_or_default();
        let now = baseline::observe(update, &state, |sku| self.config.item_for(sku));

        // The baseline: what this direction last saw, or what the forward direction wrote
        // (nothing received, its order status). Neither: first contact, nothing to compare.
        let base = match (&remembered.target, forward_progress) {
            (Some(base), _) => base.clone(),
            (None, Some(progress)) => TargetValues {
                progress,
                received: now
                    .received
                    .keys()
                    .map(|line| (*line, rust_decimal::Decimal::ZERO))
                    .collect(),
            },
            (None, None) => {
                let aux = Remembered {
                    source: Some(SourceValues::of(&state)),
                    target: Some(now),
                }
                .to_aux();
                ctx.remember(&po_number, aux.clone(), true).await?;
                let mut outcome = Outcome::succeeded(Action::Skip, Some(how), po_number.clone())
                    .with_mapped(Some(
                        json!({ "target_version": update, "source_version": state }),
                    ));
                outcome.response_summary = Some(
                    "first contact: the target's values are recorded as the baseline and nothing is written; changes made in the target from now on are".into(),
                );
                return Ok((
                    outcome,
                    Some(PoStage {
                        po_number,
                        how,
                        aux,
                        state,
                    }),
                ));
            }
        };
        let plan = baseline::plan(&state, &base, &now, forward_progress);
        // The source record (one read of the PO and its lines) matters only when there is
        // something to write: to tell whether the source changed too, and for the snapshot.
        let forward_before = if plan.status.is_some() || !plan.received.is_empty() {
            self.forward_now(&po_number).await?
        } else {
            None
        };

        // Which groups the source changed since the last sync: from the values remembered, or
        // (no return sync yet) from the forward hash (the source moved since the forward
        // stream wrote it).
        let forward_pending = match (&forward_xref, &forward_before) {
            (Some(xref), Some((_, key))) => xref
                .synced_hash
                .as_ref()
                .is_some_and(|synced| synced != key),
            _ => false,
        };
        let (status_changed, receipts_changed) = match &remembered.source {
            Some(source) => (
                source.status_changed(&state),
                source.receipts_changed(&state),
            ),
            None => (forward_pending, forward_pending),
        };

        let mut change = SourcePoChange::default();
        let mut review: Vec<FieldGroup> = Vec::new();
        let mut settled = Vec::new();
        let groups = [
            (FieldGroup::Status, plan.status.is_some(), status_changed),
            (
                FieldGroup::Receipts,
                !plan.received.is_empty(),
                receipts_changed,
            ),
        ];
        for (group, differs, changed_here) in groups {
            if !differs {
                continue;
            }
            let winner = if changed_here {
                let winner = self.config.policy.winner(group);
                settled.push(format!("{}: {:?} wins", group.as_str(), winner));
                winner
            } else {
                Winner::Target
            };
            match (winner, group) {
                (Winner::Target, FieldGroup::Status) => change.status = plan.status.clone(),
                (Winner::Target, FieldGroup::Receipts) => change.received = plan.received.clone(),
                (Winner::Source, _) => {}
                (Winner::Review, _) => review.push(group),
            }
        }
        let mapped = Some(json!({
            "change": change,
            "target_version": update,
            "target_baseline": { "progress": base.progress, "received": base.received },
            "source_version": state,
            "source_record": forward_before.as_ref().map(|(po, _)| po),
            "conflict": settled,
            "refused": plan.refused,
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

        // The new memory: the source as it is after the write, the target as it is now. A
        // group under review, and a refused line, keep the values of the last sync on both
        // sides, so they stay in conflict until the two sides agree.
        let mut source = SourceValues::of(&after);
        let mut target = now;
        let old_source = remembered.source.clone();
        if review.contains(&FieldGroup::Status) {
            target.progress = base.progress;
            if let Some(old) = &old_source {
                source.status = old.status.clone();
            }
        }
        let mut kept_lines: Vec<u32> = plan.refused_lines.clone();
        if review.contains(&FieldGroup::Receipts) {
            kept_lines.extend(plan.received.iter().map(|r| r.line_no));
        }
        for line in &kept_lines {
            match base.received.get(line) {
                Some(value) => target.received.insert(*line, *value),
                None => target.received.remove(line),
            };
            if let Some(old) = old_source.as_ref().and_then(|o| o.received.get(line)) {
                source.received.insert(*line, old.clone());
            }
        }
        let aux = Remembered {
            source: Some(source),
            target: Some(target),
        }
        .to_aux();
        let in_step = review.is_empty() && plan.refused.is_empty();
        ctx.remember(&po_number, aux.clone(), in_step).await?;
        if !in_step {
            let mut why: Vec<String> = Vec::new();
            if !review.is_empty() {
                let groups: Vec<&str> = review.iter().map(|g| g.as_str()).collect();
                why.push(format!(
                    "both sides changed since the last sync ({})",
                    groups.join(", ")
                ));
            }
            why.extend(plan.refused.iter().cloned());
            return Ok((
                Outcome::conflict(
                    ErrorClass::Conflict,
                    format!(
                        "purchase {} and source PO {po_number}: {}; the source is not changed there, both versions are in the mapped snapshot",
                        update.order_number,
                        why.join("; ")
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
            "nothing changed in the target since the last sync: nothing written".into()
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
}
