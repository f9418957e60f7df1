//! Staleness detection by `variationID`.
//!
//! ION does not guarantee message order. Each document carries a `variationID` (a 64-bit
//! sequence) on its `DocumentID/ID` (or `PartyIDs/ID`); a consumer keeps the highest one seen
//! per document and drops any BOD whose variationID is not higher.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::envelope::{Bod, Noun};
use super::types::Identifier;

/// What identifies one document's variation sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VariationKey {
    /// Noun name, e.g. `PurchaseOrder`.
    pub noun: String,
    /// The document id (`DocumentID/ID` or `PartyIDs/ID` text).
    pub document_id: String,
    /// `@accountingEntity` (falls back to `DataArea/<Verb>/AccountingEntityID`).
    pub accounting_entity: Option<String>,
    /// `@location` (falls back to `DataArea/<Verb>/LocationID`).
    pub location: Option<String>,
    /// `@lid` (falls back to `ApplicationArea/Sender/LogicalID`).
    pub lid: Option<String>,
}

impl VariationKey {
    /// Builds the key from an identifier alone (no envelope fallbacks).
    pub fn from_identifier(noun: &str, id: &Identifier) -> Self {
        VariationKey {
            noun: noun.to_owned(),
            document_id: id.value.clone(),
            accounting_entity: id.accounting_entity.clone(),
            location: id.location.clone(),
            lid: id.lid.clone(),
        }
    }
}

/// The verdict on one incoming document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// First time this document is seen.
    New,
    /// Newer than the highest variation seen so far.
    Newer {
        /// The previous highest variationID.
        previous: u64,
    },
    /// Not newer (lower or equal): drop it.
    Stale {
        /// The highest variationID already seen.
        seen: u64,
    },
    /// The document has no variationID (or no identifier), so order cannot be judged.
    Unversioned,
}

impl Freshness {
    /// Whether the document should be applied (`New`, `Newer`; `Unversioned` is left to the
    /// caller and counts as fresh here).
    pub fn is_fresh(self) -> bool {
        !matches!(self, Freshness::Stale { .. })
    }
}

/// Remembers the highest `variationID` per document. Memory grows with the number of distinct
/// documents; persist it (for example in the sync checkpoint store) between runs.
#[derive(Debug, Clone, Default)]
pub struct VariationTracker {
    highest: HashMap<VariationKey, u64>,
}

impl VariationTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Judges `variation` for `key` without recording it.
    pub fn check(&self, key: &VariationKey, variation: u64) -> Freshness {
        match self.highest.get(key) {
            None => Freshness::New,
            Some(&seen) if variation <= seen => Freshness::Stale { seen },
            Some(&previous) => Freshness::Newer { previous },
        }
    }

    /// Judges `variation` for `key` and records it when it is newer.
    pub fn observe(&mut self, key: VariationKey, variation: u64) -> Freshness {
        let verdict = self.check(&key, variation);
        if verdict.is_fresh() {
            self.highest.insert(key, variation);
        }
        verdict
    }

    /// The highest variationID seen for `key`.
    pub fn highest(&self, key: &VariationKey) -> Option<u64> {
        self.highest.get(key).copied()
    }

    /// Number of documents tracked.
    pub fn len(&self) -> usize {
        self.highest.len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.highest.is_empty()
    }

    /// Seeds the tracker with a stored value (e.g. loaded from a checkpoint).
    pub fn restore(&mut self, key: VariationKey, variation: u64) {
        let e = self.highest.entry(key).or_insert(variation);
        *e = (*e).max(variation);
    }

    /// Judges and records every noun of a BOD, in order. Keys fall back to the envelope
    /// (`AccountingEntityID`, `LocationID`, sender `LogicalID`) for attributes the `ID` lacks.
    pub fn observe_bod<N: Noun>(&mut self, bod: &Bod<N>) -> Vec<Freshness> {
        bod.nouns
            .iter()
            .map(|n| match key_for(bod, n) {
                Some((key, Some(v))) => self.observe(key, v),
                _ => Freshness::Unversioned,
            })
            .collect()
    }
}

/// The variation key and variationID of one noun in a BOD.
pub fn key_for<N: Noun>(bod: &Bod<N>, noun: &N) -> Option<(VariationKey, Option<u64>)> {
    let id = noun.document_identifier()?;
    let mut key = VariationKey::from_identifier(N::NAME, id);
    if key.accounting_entity.is_none() {
        key.accounting_entity = bod.verb_area.accounting_entity_id.clone();
    }
    if key.location.is_none() {
        key.location = bod.verb_area.location_id.clone();
    }
    if key.lid.is_none() {
        key.lid = bod.application_area.sender.logical_id.clone();
    }
    Some((key, id.variation_id))
}
