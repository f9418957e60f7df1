//! Purchases the target read in full moments ago, kept for the step that follows on the same
//! record: after a read shows an order or invoice that is no longer editable, deciding whether
//! it already is what we would write needs that body, not a second `GET` (issue 18: one read
//! confirms a write whose answer was lost).
//!
//! An entry is taken once, expires after [`FRESH_FOR`], and is dropped before any write to its
//! purchase, so it never stands in for a state our own write may have changed.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::codec::Guid;
use crate::purchase::AdvancedPurchase;
use sdk_common::time::SharedClock;

/// How long a read stands in for a second one.
const FRESH_FOR: chrono::Duration = chrono::Duration::seconds(30);

/// At most this many bodies are kept (the oldest go first).
const CAPACITY: usize = 64;

/// See the [module docs](self).
#[derive(Debug, Default)]
pub(crate) struct RecentReads {
    reads: Mutex<BTreeMap<Guid, (DateTime<Utc>, AdvancedPurchase)>>,
}

impl RecentReads {
    fn reads(&self) -> MutexGuard<'_, BTreeMap<Guid, (DateTime<Utc>, AdvancedPurchase)>> {
        self.reads.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keep what a `GET /advanced-purchase` returned.
    pub(crate) fn keep(&self, clock: &SharedClock, id: &Guid, purchase: &AdvancedPurchase) {
        let mut reads = self.reads();
        reads.insert(id.clone(), (clock.now(), purchase.clone()));
        while reads.len() > CAPACITY {
            let oldest = reads
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => reads.remove(&id),
                None => break,
            };
        }
    }

    /// The body read moments ago, once.
    pub(crate) fn take(&self, clock: &SharedClock, id: &Guid) -> Option<AdvancedPurchase> {
        let (at, purchase) = self.reads().remove(id)?;
        (clock.now() - at <= FRESH_FOR).then_some(purchase)
    }

    /// Before a write to `id`: what was read no longer stands.
    pub(crate) fn forget(&self, id: &Guid) {
        self.reads().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdk_common::time::ManualClock;

    fn purchase(id: &Guid) -> AdvancedPurchase {
        AdvancedPurchase {
            id: Some(id.clone()),
            ..AdvancedPurchase::default()
        }
    }

    fn guid(n: u8) -> Guid {
        format!("00000000-0000-0000-0000-0000000000{n:02x}")
            .parse()
            .expect("a valid GUID")
    }

    #[test]
    fn a_read_stands_in_once_while_fresh_and_never_after_a_write() {
        let clock = ManualClock::new(Utc::now());
        let shared = clock.shared();
        let recent = RecentReads::default();
        let (a, b, c) = (guid(1), guid(2), guid(3));
        recent.keep(&shared, &a, &purchase(&a));
        assert_eq!(recent.take(&shared, &a), Some(purchase(&a)));
        assert_eq!(recent.take(&shared, &a), None, "taken once");

        recent.keep(&shared, &b, &purchase(&b));
        clock.advance(std::time::Duration::from_secs(31));
        assert_eq!(recent.take(&shared, &b), None, "expired");

        recent.keep(&shared, &c, &purchase(&c));
        recent.forget(&c);
        assert_eq!(recent.take(&shared, &c), None, "a write drops it");
    }

    #[test]
    fn the_oldest_reads_go_first_beyond_capacity() {
        let clock = ManualClock::new(Utc::now());
        let shared = clock.shared();
        let recent = RecentReads::default();
        for n in 0..=CAPACITY as u8 {
            recent.keep(&shared, &guid(n), &purchase(&guid(n)));
            clock.advance(std::time::Duration::from_millis(1));
        }
        assert_eq!(recent.take(&shared, &guid(0)), None);
        assert!(recent.take(&shared, &guid(CAPACITY as u8)).is_some());
    }
}
