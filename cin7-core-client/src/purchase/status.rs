//! Purchase status values, as open enums: unknown values are kept, not rejected.

use crate::codec::open_enum;

open_enum! {
    /// A purchase's overall `Status`. Cin7's set is open (examples show combined values such as
    /// `COMPLETED / CREDIT NOTE CLOSED`).
    pub enum PurchaseStatus {
        /// Draft.
        Draft => "DRAFT",
        /// Voided.
        Voided => "VOIDED",
        /// Order in draft.
        Ordering => "ORDERING",
        /// Order authorised.
        Ordered => "ORDERED",
        /// Stock received in draft.
        Receiving => "RECEIVING",
        /// Stock received authorised.
        Received => "RECEIVED",
        /// Invoiced.
        Invoiced => "INVOICED",
        /// Partly invoiced.
        PartiallyInvoiced => "PARTIALLY INVOICED",
        /// Credited.
        Credited => "CREDITED",
        /// Receiving and credited.
        ReceivingCredited => "RECEIVING / CREDITED",
        /// Received and credited.
        ReceivedCredited => "RECEIVED / CREDITED",
        /// Completed.
        Completed => "COMPLETED",
    }
}

open_enum! {
    /// The status of a sub-document (order, stock received, put away, invoice, credit note,
    /// unstock, manual journal). Only `DRAFT` and `AUTHORISED` may be sent.
    pub enum TaskStatus {
        /// The step has not started.
        NotAvailable => "NOT AVAILABLE",
        /// Draft.
        Draft => "DRAFT",
        /// Authorised.
        Authorised => "AUTHORISED",
        /// Voided.
        Voided => "VOIDED",
        /// Paid (invoices).
        Paid => "PAID",
    }
}

impl TaskStatus {
    /// Whether Cin7 accepts this status on a `POST` (only `DRAFT` and `AUTHORISED`).
    pub fn is_writable(&self) -> bool {
        matches!(self, TaskStatus::Draft | TaskStatus::Authorised)
    }
}

open_enum! {
    /// `CombinedReceivingStatus`.
    pub enum CombinedReceivingStatus {
        /// Fully received.
        FullyReceived => "FULLY RECEIVED",
        /// Partly received.
        PartiallyReceived => "PARTIALLY RECEIVED",
        /// Not available.
        NotAvailable => "NOT AVAILABLE",
        /// Not received.
        NotReceived => "NOT RECEIVED",
        /// Voided.
        Voided => "VOIDED",
    }
}

open_enum! {
    /// `CombinedInvoiceStatus`.
    pub enum CombinedInvoiceStatus {
        /// Invoiced.
        Invoiced => "INVOICED",
        /// Invoiced and credited.
        InvoicedCredited => "INVOICED / CREDITED",
        /// Not available.
        NotAvailable => "NOT AVAILABLE",
        /// Not invoiced.
        NotInvoiced => "NOT INVOICED",
        /// Partly invoiced.
        PartiallyInvoiced => "PARTIALLY INVOICED",
        /// Partly invoiced and credited.
        PartiallyInvoicedCredited => "PARTIALLY INVOICED / CREDITED",
    }
}

open_enum! {
    /// `CombinedPaymentStatus`.
    pub enum CombinedPaymentStatus {
        /// Prepaid.
        Prepaid => "PREPAID",
        /// Partly paid.
        PartiallyPaid => "PARTIALLY PAID",
        /// Unpaid.
        Unpaid => "UNPAID",
        /// Paid.
        Paid => "PAID",
        /// Overpaid or credited.
        OverpaidCredited => "OVERPAID / CREDITED",
        /// Voided.
        Voided => "VOIDED",
    }
}

open_enum! {
    /// Invoice first or stock first. Sent as `INVOICE` / `STOCK`; read in any case.
    pub enum Approach {
        /// Invoice first (always for service purchases).
        Invoice => "INVOICE",
        /// Stock first.
        Stock => "STOCK",
    }
}

open_enum! {
    /// The kind of purchase to create (`PurchaseType`, POST only).
    pub enum PurchaseType {
        /// Simple purchase.
        Simple => "Simple",
        /// Advanced purchase.
        Advanced => "Advanced",
    }
}

open_enum! {
    /// The read-only `Type` of an existing purchase.
    pub enum PurchaseKind {
        /// Simple purchase.
        Simple => "Simple Purchase",
        /// Advanced purchase.
        Advanced => "Advanced Purchase",
        /// Service purchase.
        Service => "Service Purchase",
    }
}

open_enum! {
    /// Whether prices include tax.
    pub enum TaxCalculation {
        /// Prices include tax.
        Inclusive => "Inclusive",
        /// Prices exclude tax.
        Exclusive => "Exclusive",
    }
}
