//! Marks the return direction leaves on the forward direction's cross-references, so the
//! forward streams never take a record the return direction wrote, or is writing, for a new
//! one (an echo).
//!
//! Each mark is written *before* the write it announces and is read by the forward pipelines
//! before any create in the target:
//!
//! - [`CREATING_FROM_TARGET`] on the forward cross-reference of a source PO being created from
//!   a target purchase: the forward PO stream defers the PO until the create is complete (the
//!   return direction then replaces the mark with the synced hash and [`CREATED_FROM_TARGET`]).
//! - [`FROM_TARGET_INVOICE`]`<invoice number>` on the forward cross-reference of the PO an
//!   invoice authorised in the target is written to: the forward invoice stream links a source
//!   invoice of that PO with that number to the target invoice instead of posting it.

/// Forward PO cross-reference `aux`: `pending` while the return direction creates this source
/// PO from the target purchase the cross-reference names; `abandoned` when the create ended
/// under another PO number (the cross-reference then stands for nothing).
pub const CREATING_FROM_TARGET: &str = "creating_from_target";
/// Forward PO cross-reference `aux`: the target purchase this source PO was created from.
pub const CREATED_FROM_TARGET: &str = "created_from_target";
/// Forward PO cross-reference `aux` prefix: `from_target_invoice/<invoice number>` holds the
/// task id of the target invoice the return direction writes (or wrote) to the source.
pub const FROM_TARGET_INVOICE: &str = "from_target_invoice/";

/// The mark's value while a create is under way.
pub const PENDING: &str = "pending";
/// The mark's value once the create ended under another number.
pub const ABANDONED: &str = "abandoned";

/// The key under which the forward PO cross-reference names a target invoice written back.
pub fn from_target_invoice(invoice_number: &str) -> String {
    format!("{FROM_TARGET_INVOICE}{}", invoice_number.trim())
}
