//! What the return direction remembers of each purchase, and what it may write from it.
//!
//! CloudSuite is the book of record, so the return direction writes only what changed *in the
//! target* since it last looked: never the difference between two systems that were never
//! aligned. Per purchase it keeps, in its own cross-reference's `aux`:
//!
//! - the **source values** after its last sync (`status`, `received/<line>`), which say whether
//!   CloudSuite changed a field group since (conflict detection, [`super::ConflictPolicy`]);
//! - the **target baseline** (`target/progress`, `target/received/<line>`): the target's
//!   values it last synced or observed. A write needs a target value that moved away from it.
//!
//! Without a baseline (first contact), the baseline is what the forward direction wrote when it
//! wrote the purchase (nothing received, the order status it set), or else the target as it
//! is now, and nothing is written.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::writer::{ReceivedQuantity, SourcePoState};
use crate::model::{PoStatus, PurchaseProgress, PurchaseUpdate};
use crate::target::TaskStatus;

const SOURCE_STATUS: &str = "status";
const SOURCE_RECEIVED: &str = "received/";
const TARGET_PROGRESS: &str = "target/progress";
const TARGET_RECEIVED: &str = "target/received/";

/// The target's values of one purchase, per source line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TargetValues {
    pub progress: PurchaseProgress,
    /// Received quantity of each target line matched to a source line, by source line number.
    pub received: BTreeMap<u32, Decimal>,
}

/// The source's values after the last return sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SourceValues {
    pub status: Option<String>,
    pub received: BTreeMap<u32, String>,
}

/// What the return cross-reference remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Remembered {
    pub source: Option<SourceValues>,
    pub target: Option<TargetValues>,
}

fn progress_key(progress: PurchaseProgress) -> &'static str {
    match progress {
        PurchaseProgress::Draft => "draft",
        PurchaseProgress::Ordered => "ordered",
        PurchaseProgress::PartlyReceived => "partly_received",
        PurchaseProgress::Received => "received",
        PurchaseProgress::Voided => "voided",
    }
}

fn progress_of(key: &str) -> Option<PurchaseProgress> {
    [
        PurchaseProgress::Draft,
        PurchaseProgress::Ordered,
        PurchaseProgress::PartlyReceived,
        PurchaseProgress::Received,
        PurchaseProgress::Voided,
    ]
    .into_iter()
    .find(|p| progress_key(*p) == key)
}

pub(super) fn status_key(status: &PoStatus) -> &'static str {
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

/// The progress the forward direction left the purchase at when it wrote it (the order status
/// its pipeline records with every order write), when it wrote it at all.
pub(super) fn forward_progress(forward_aux: &BTreeMap<String, String>) -> Option<PurchaseProgress> {
    let recorded = forward_aux.get(crate::engine::purchase_orders::ORDER_STATUS)?;
    match TaskStatus::from_key(recorded) {
        TaskStatus::Draft => Some(PurchaseProgress::Draft),
        TaskStatus::Authorised => Some(PurchaseProgress::Ordered),
        _ => None,
    }
}

impl SourceValues {
    pub fn of(state: &SourcePoState) -> Self {
        SourceValues {
            status: Some(status_key(&state.status).to_owned()),
            received: state
                .lines
                .iter()
                .map(|l| (l.line_no, qty_key(l.received)))
                .collect(),
        }
    }

    /// Whether the source's status changed since these values were taken.
    pub fn status_changed(&self, state: &SourcePoState) -> bool {
        self.status.as_deref() != Some(status_key(&state.status))
    }

    /// Whether a received quantity of the source changed since these values were taken.
    pub fn receipts_changed(&self, state: &SourcePoState) -> bool {
        state
            .lines
            .iter()
            .any(|l| self.received.get(&l.line_no) != Some(&qty_key(l.received)))
    }
}

impl Remembered {
    pub fn from_aux(aux: &BTreeMap<String, String>) -> Self {
        let source = aux.get(SOURCE_STATUS).map(|status| SourceValues {
            status: Some(status.clone()),
            received: prefixed(aux, SOURCE_RECEIVED)
                .map(|(line, value)| (line, value.to_owned()))
                .collect(),
        });
        let target = aux
            .get(TARGET_PROGRESS)
            .and_then(|p| progress_of(p))
            .map(|progress| TargetValues {
                progress,
                received: prefixed(aux, TARGET_RECEIVED)
                    .filter_map(|(line, value)| Some((line, Decimal::from_str(value).ok()?)))
                    .collect(),
            });
        Remembered { source, target }
    }

    pub fn to_aux(&self) -> BTreeMap<String, String> {
        let mut aux = BTreeMap::new();
        if let Some(source) = &self.source {
            if let Some(status) = &source.status {
                aux.insert(SOURCE_STATUS.to_owned(), status.clone());
            }
            for (line, value) in &source.received {
                aux.insert(format!("{SOURCE_RECEIVED}{line}"), value.clone());
            }
        }
        if let Some(target) = &self.target {
            aux.insert(
                TARGET_PROGRESS.to_owned(),
                progress_key(target.progress).to_owned(),
            );
            for (line, value) in &target.received {
                aux.insert(format!("{TARGET_RECEIVED}{line}"), qty_key(*value));
            }
        }
        aux
    }
}

fn prefixed<'a>(
    aux: &'a BTreeMap<String, String>,
    prefix: &'a str,
) -> impl Iterator<Item = (u32, &'a str)> + 'a {
    aux.iter().filter_map(move |(key, value)| {
        let line = key.strip_prefix(prefix)?.parse().ok()?;
        Some((line, value.as_str()))
    })
}

/// The target's values now, its lines matched to the source's: same item, in order, each
/// source line once. `item_for` maps a target SKU to the source item.
pub(super) fn observe(
    update: &PurchaseUpdate,
    state: &SourcePoState,
    item_for: impl Fn(&str) -> String,
) -> TargetValues {
    let mut received = BTreeMap::new();
    for line in &update.lines {
        let item = item_for(&line.sku);
        if let Some(source) = state
            .lines
            .iter()
            .find(|l| l.item == item && !received.contains_key(&l.line_no))
        {
            received.insert(source.line_no, line.received);
        }
    }
    TargetValues {
        progress: update.progress,
        received,
    }
}

/// What the target changed since the baseline, as writes to the source and refusals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Plan {
    /// The status a progress event in the target asks for.
    pub status: Option<PoStatus>,
    /// Received quantities to write (each a receipt newly made in the target).
    pub received: Vec<ReceivedQuantity>,
    /// Changes never written: a received quantity that went down in the target, or a receipt
    /// that would take the source past the ordered quantity. Each makes the row a conflict.
    pub refused: Vec<String>,
    /// Lines of `refused`, whose baseline stays until the two sides agree.
    pub refused_lines: Vec<u32>,
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

/// Compare the target now with its baseline. `forward` is the progress the forward direction
/// wrote: the target reaching it is the forward direction's own doing, not an event.
pub(super) fn plan(
    state: &SourcePoState,
    baseline: &TargetValues,
    now: &TargetValues,
    forward: Option<PurchaseProgress>,
) -> Plan {
    let mut plan = Plan::default();
    for source in &state.lines {
        let Some(&target) = now.received.get(&source.line_no) else {
            continue;
        };
        // A line the baseline does not name had nothing received: a baseline recorded from a
        // full read names every matched line, one seeded from a summary or from the forward
        // write (nothing received anywhere) names none.
        let before = baseline
            .received
            .get(&source.line_no)
            .copied()
            .unwrap_or(Decimal::ZERO);
        if target == before || target == source.received {
            // Unchanged in the target, or the two sides already agree.
            continue;
        }
        if target < before {
            plan.refused.push(format!(
                "line {}: the received quantity went down in the target from {} to {}",
                source.line_no,
                before.normalize(),
                target.normalize()
            ));
            plan.refused_lines.push(source.line_no);
            continue;
        }
        let delta = target - before;
        let total = source.received + delta;
        if total > source.ordered {
            plan.refused.push(format!(
                "line {}: {} newly received in the target would take the source to {} received of {} ordered",
                source.line_no,
                delta.normalize(),
                total.normalize(),
                source.ordered.normalize()
            ));
            plan.refused_lines.push(source.line_no);
            continue;
        }
        plan.received.push(ReceivedQuantity {
            line_no: source.line_no,
            item: source.item.clone(),
            total,
            delta,
        });
    }
    let moved = now.progress != baseline.progress && Some(now.progress) != forward;
    if moved {
        let wanted = status_for(now.progress);
        plan.status = match (&wanted, &state.status) {
            (PoStatus::Cancelled, current) if *current != PoStatus::Cancelled => {
                Some(PoStatus::Cancelled)
            }
            // Status only moves forward: a draft in the target never demotes an order.
            (wanted, current) if rank(wanted) > rank(current) && *wanted != PoStatus::Cancelled => {
                Some(wanted.clone())
            }
            _ => None,
        };
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::returns::SourcePoLine;

    fn source(received: &[i64]) -> SourcePoState {
        SourcePoState {
            po_number: "PO1".into(),
            status: PoStatus::Ordered,
            vendor_id: None,
            lines: received
                .iter()
                .enumerate()
                .map(|(i, r)| SourcePoLine {
                    line_no: i as u32 + 1,
                    item: format!("I{i}"),
                    ordered: Decimal::from(10),
                    received: Decimal::from(*r),
                })
                .collect(),
        }
    }

    fn target(progress: PurchaseProgress, received: &[i64]) -> TargetValues {
        TargetValues {
            progress,
            received: received
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u32 + 1, Decimal::from(*r)))
                .collect(),
        }
    }

    #[test]
    fn only_what_moved_in_the_target_is_written() {
        use PurchaseProgress::*;
        // Fully received in the source, nothing in the target, nothing moved: no write.
        let p = plan(
            &source(&[10, 10]),
            &target(Ordered, &[0, 0]),
            &target(Ordered, &[0, 0]),
            None,
        );
        assert_eq!(p, Plan::default());
        // 4 newly received in the target on line 1: added to what the source holds.
        let p = plan(
            &source(&[2, 0]),
            &target(Ordered, &[0, 0]),
            &target(PartlyReceived, &[4, 0]),
            Some(Ordered),
        );
        assert_eq!(p.received.len(), 1);
        assert_eq!(
            (p.received[0].total, p.received[0].delta),
            (Decimal::from(6), Decimal::from(4))
        );
        assert_eq!(p.status, None, "PartlyReceived keeps an ordered PO ordered");
        // A decrease is refused, never written.
        let p = plan(
            &source(&[5, 0]),
            &target(Ordered, &[5, 0]),
            &target(Ordered, &[3, 0]),
            None,
        );
        assert!(p.received.is_empty());
        assert_eq!(p.refused_lines, vec![1]);
        // A receipt past the ordered quantity is refused.
        let p = plan(
            &source(&[10, 0]),
            &target(Ordered, &[0, 0]),
            &target(Ordered, &[4, 0]),
            None,
        );
        assert!(p.received.is_empty());
        assert_eq!(p.refused_lines, vec![1]);
        // The two sides agree already: nothing to write.
        let p = plan(
            &source(&[4, 0]),
            &target(Ordered, &[0, 0]),
            &target(Ordered, &[4, 0]),
            None,
        );
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn status_moves_only_on_a_target_event() {
        use PurchaseProgress::*;
        let mut planned = source(&[0]);
        planned.status = PoStatus::Planned;
        // Authorised by the forward direction itself: not an event.
        let p = plan(
            &planned,
            &target(Draft, &[0]),
            &target(Ordered, &[0]),
            Some(Ordered),
        );
        assert_eq!(p.status, None);
        // Unchanged since the baseline: not an event either.
        let p = plan(
            &planned,
            &target(Ordered, &[0]),
            &target(Ordered, &[0]),
            None,
        );
        assert_eq!(p.status, None);
        // Voided in the target: cancelled.
        let p = plan(
            &planned,
            &target(Ordered, &[0]),
            &target(Voided, &[0]),
            Some(Ordered),
        );
        assert_eq!(p.status, Some(PoStatus::Cancelled));
    }

    #[test]
    fn remembered_values_round_trip_through_aux() {
        let remembered = Remembered {
            source: Some(SourceValues::of(&source(&[1, 2]))),
            target: Some(target(PurchaseProgress::PartlyReceived, &[3, 0])),
        };
        assert_eq!(Remembered::from_aux(&remembered.to_aux()), remembered);
        assert_eq!(
            Remembered::from_aux(&BTreeMap::new()),
            Remembered::default()
        );
    }
}
