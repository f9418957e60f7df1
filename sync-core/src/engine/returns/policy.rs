//! Who wins when both systems changed the same purchase order since the last sync.

use serde::{Deserialize, Serialize};

/// A group of fields the return direction writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldGroup {
    /// The order status.
    Status,
    /// Received quantities.
    Receipts,
}

impl FieldGroup {
    /// The snake-case name used in audit summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldGroup::Status => "status",
            FieldGroup::Receipts => "receipts",
        }
    }
}

/// Which side's value stands for one field group in a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Winner {
    /// The source (CloudSuite) keeps its value; the target's change is not written back.
    Source,
    /// The target's (Cin7's) value is written to the source.
    Target,
    /// Nothing is written for this group; the record is flagged for review.
    Review,
}

/// The conflict policy: a winner per field group.
///
/// ```
/// use sync_core::engine::returns::{ConflictPolicy, FieldGroup, Winner};
/// let policy = ConflictPolicy::default().with(FieldGroup::Status, Winner::Source);
/// assert_eq!(policy.winner(FieldGroup::Status), Winner::Source);
/// assert_eq!(policy.winner(FieldGroup::Receipts), Winner::Target);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictPolicy {
    /// Status conflicts (default [`Winner::Review`]).
    pub status: Winner,
    /// Received-quantity conflicts (default [`Winner::Target`]: stock is counted where it
    /// is received).
    pub receipts: Winner,
}

impl Default for ConflictPolicy {
    fn default() -> Self {
        ConflictPolicy {
            status: Winner::Review,
            receipts: Winner::Target,
        }
    }
}

impl ConflictPolicy {
    /// The same winner for every group.
    pub fn all(winner: Winner) -> Self {
        ConflictPolicy {
            status: winner,
            receipts: winner,
        }
    }

    /// Set the winner of one group.
    pub fn with(mut self, group: FieldGroup, winner: Winner) -> Self {
        match group {
            FieldGroup::Status => self.status = winner,
            FieldGroup::Receipts => self.receipts = winner,
        }
        self
    }

    /// The winner of one group.
    pub fn winner(&self, group: FieldGroup) -> Winner {
        match group {
            FieldGroup::Status => self.status,
            FieldGroup::Receipts => self.receipts,
        }
    }
}
