//! Purchases: the advanced-purchase header and its order, invoice, stock and payment steps, and
//! the purchase list.
//!
//! The deprecated simple `/purchase/*` endpoints are not offered, except `/purchase/order`,
//! which is the order step for both kinds (inferred from Cin7's endpoint list, not stated by
//! Cin7's API docs). The usual flow, as Cin7's API docs describe it:
//!
//! 1. [`Purchases::create`] a header with `PurchaseType: Advanced`, an [`Approach`] and a
//!    location → `DRAFT`.
//! 2. [`Purchases::save_order`] with `TaskID` = the purchase ID and `Status: AUTHORISED`.
//! 3. Invoice first: [`Purchases::create_invoice`] then [`Purchases::receive_stock`]; stock
//!    first: the other way round.
//! 4. [`Purchases::create_payment`] against the invoice's `TaskID`.
//!
//! Creates (header, invoice without `TaskID`, stock) are never resent after an uncertain
//! failure: look the purchase up with `purchaseList?Search=` first.

mod header;
mod invoice;
mod lines;
mod list;
mod order;
mod payment;
mod status;
mod stock;

pub use header::{AdvancedPurchase, PurchaseAddress, PurchaseHeader};
pub use invoice::{PurchaseInvoice, PurchaseInvoices};
pub use lines::{AdditionalCharge, InvoiceLine, OrderLine, line_total};
pub use list::PurchaseListRow;
pub use order::PurchaseOrder;
pub use payment::{PaymentType, PurchasePayment, PurchasePayments};
pub use status::{
    Approach, CombinedInvoiceStatus, CombinedPaymentStatus, CombinedReceivingStatus, PurchaseKind,
    PurchaseStatus, PurchaseType, TaskStatus, TaxCalculation,
};
pub use stock::{StockLine, StockReceived};

use sdk_common::retry::Idempotency;

use crate::client::Cin7Client;
use crate::codec::Guid;
use crate::error::{Error, Result};
use crate::pagination::ListBuilder;
use crate::request::Cin7Request;

/// Purchase endpoints; see [`Cin7Client::purchases`].
#[derive(Debug, Clone)]
pub struct Purchases {
    client: Cin7Client,
}

impl Cin7Client {
    /// Purchase endpoints.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// use cin7_core_client::purchase::{Approach, PurchaseHeader, PurchaseType};
    /// let purchase = client
    ///     .purchases()
    ///     .create(&PurchaseHeader {
    ///         supplier: Some("Acme Ltd".into()),
    ///         approach: Some(Approach::Invoice),
    ///         location: Some("Main Warehouse".into()),
    ///         purchase_type: Some(PurchaseType::Advanced),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// println!("created {:?} {:?}", purchase.order_number, purchase.status);
    /// # Ok(()) }
    /// ```
    pub fn purchases(&self) -> Purchases {
        Purchases {
            client: self.clone(),
        }
    }
}

/// How to find payments with [`Purchases::payments`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentLookup {
    /// By purchase ID.
    PurchaseId(Guid),
    /// By order number (`PO-…`).
    OrderNumber(String),
    /// By invoice number.
    InvoiceNumber(String),
    /// By credit note number.
    CreditNoteNumber(String),
}

/// `GET /advanced-purchase`; see [`Purchases::get`].
#[derive(Debug)]
#[must_use = "call .send()"]
pub struct GetPurchase {
    client: Cin7Client,
    id: Guid,
    combine_additional_charges: Option<bool>,
}

impl GetPurchase {
    /// Ask Cin7 to combine additional charges into the lines.
    pub fn combine_additional_charges(mut self, combine: bool) -> Self {
        self.combine_additional_charges = Some(combine);
        self
    }

    /// Fetch the purchase.
    pub async fn send(self) -> Result<AdvancedPurchase> {
        let request = Cin7Request::get("advanced-purchase")
            .query("ID", &self.id)
            .query_opt("CombineAdditionalCharges", self.combine_additional_charges);
        self.client.send(request).await
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        field,
        reason: reason.into(),
    }
}

fn check_writable(field: &'static str, status: Option<&TaskStatus>) -> Result<()> {
    match status {
        Some(status) if !status.is_writable() => Err(invalid(
            field,
            format!("Cin7 only accepts DRAFT or AUTHORISED, not {status}"),
        )),
        _ => Ok(()),
    }
}

impl Purchases {
    /// `GET /purchaseList` with filters.
    pub fn list(&self) -> ListBuilder<PurchaseListRow> {
        ListBuilder::new(&self.client, "purchaseList", "PurchaseList")
    }

    /// `GET /advanced-purchase?ID=`: one purchase with its child documents.
    pub fn get(&self, id: &Guid) -> GetPurchase {
        GetPurchase {
            client: self.client.clone(),
            id: id.clone(),
            combine_additional_charges: None,
        }
    }

    /// `POST /advanced-purchase`: create a purchase header (answers with `Status: DRAFT`).
    /// Never resent after an uncertain failure.
    pub async fn create(&self, header: &PurchaseHeader) -> Result<AdvancedPurchase> {
        if header.id.is_some() {
            return Err(invalid(
                "PurchaseHeader.ID",
                "a new purchase must not carry an ID",
            ));
        }
        if header.supplier_id.is_none() && header.supplier.as_deref().is_none_or(str::is_empty) {
            return Err(invalid(
                "PurchaseHeader.Supplier",
                "SupplierID or Supplier is required",
            ));
        }
        if header.approach.is_none() {
            return Err(invalid(
                "PurchaseHeader.Approach",
                "is required (INVOICE or STOCK)",
            ));
        }
        if header.location.as_deref().is_none_or(str::is_empty) {
            return Err(invalid("PurchaseHeader.Location", "is required"));
        }
        let request = Cin7Request::post("advanced-purchase").json(header);
        self.client.send(request).await
    }

    /// `PUT /advanced-purchase`: update a purchase header (`ID` required; `PurchaseType` is
    /// POST-only and must be absent).
    pub async fn update(&self, header: &PurchaseHeader) -> Result<AdvancedPurchase> {
        if header.id.is_none() {
            return Err(invalid(
                "PurchaseHeader.ID",
                "an update needs the purchase ID",
            ));
        }
        if header.purchase_type.is_some() {
            return Err(invalid(
                "PurchaseHeader.PurchaseType",
                "can only be sent on create",
            ));
        }
        let request = Cin7Request::put("advanced-purchase").json(header);
        self.client.send(request).await
    }

    /// `DELETE /advanced-purchase?ID=&Void=true`: void the purchase.
    pub async fn void(&self, id: &Guid) -> Result<()> {
        self.delete(id, true).await
    }

    /// `DELETE /advanced-purchase?ID=&Void=false`: undo the purchase's last authorisation.
    pub async fn undo(&self, id: &Guid) -> Result<()> {
        self.delete(id, false).await
    }

    async fn delete(&self, id: &Guid, void: bool) -> Result<()> {
        let request = Cin7Request::delete("advanced-purchase")
            .query("ID", id)
            .query("Void", void);
        self.client.execute(request).await.map(|_| ())
    }

    /// `GET /purchase/order?TaskID=`: the order step of a purchase.
    pub async fn order(&self, purchase_id: &Guid) -> Result<PurchaseOrder> {
        let request = Cin7Request::get("purchase/order").query("TaskID", purchase_id);
        self.client.send(request).await
    }

    /// `POST /purchase/order`: save the order; its lines **replace** the existing ones. Only
    /// accepted while the order is `DRAFT` or `NOT AVAILABLE`. A `DRAFT` save is harmless to
    /// repeat, so it is retried like an idempotent write. An `AUTHORISED` save is not: once it
    /// landed, the order is no longer editable and a repeat is refused, so after an unknown
    /// outcome it is not resent (an [`Error::UncertainWrite`]); read the purchase to see
    /// whether it landed.
    pub async fn save_order(&self, order: &PurchaseOrder) -> Result<PurchaseOrder> {
        if order.task_id.as_ref().is_none_or(Guid::is_nil) {
            return Err(invalid("PurchaseOrder.TaskID", "must be the purchase ID"));
        }
        check_writable("PurchaseOrder.Status", order.status.as_ref())?;
        let request = Cin7Request::post("purchase/order").json(order);
        let request = if order.status == Some(TaskStatus::Draft) {
            request.idempotent()
        } else {
            request
        };
        self.client.send(request).await
    }

    /// `POST /advanced-purchase/invoice`: create or overwrite a supplier invoice. Every line
    /// and additional charge needs an `Account`. Without a `TaskID` this creates a new
    /// invoice, so it is never resent after an uncertain failure.
    pub async fn create_invoice(&self, invoice: &PurchaseInvoice) -> Result<PurchaseInvoices> {
        if invoice.purchase_id.is_none() {
            return Err(invalid("PurchaseInvoice.PurchaseID", "is required"));
        }
        check_writable("PurchaseInvoice.Status", invoice.status.as_ref())?;
        if let Some(i) = invoice
            .lines
            .iter()
            .position(|l| l.account.trim().is_empty())
        {
            return Err(invalid(
                "PurchaseInvoice.Lines.Account",
                format!("line {i} has no Account"),
            ));
        }
        if let Some(i) = invoice
            .additional_charges
            .iter()
            .position(|c| c.account.as_deref().is_none_or(|a| a.trim().is_empty()))
        {
            return Err(invalid(
                "PurchaseInvoice.AdditionalCharges.Account",
                format!("charge {i} has no Account"),
            ));
        }
        let mut request = Cin7Request::post("advanced-purchase/invoice").json(invoice);
        if invoice.targets_existing_task() {
            request = request.with_idempotency(Idempotency::Idempotent);
        }
        self.client.send(request).await
    }

    /// `POST /advanced-purchase/stock`: receive stock (adds lines; empty lines authorise the
    /// task). Never resent after an uncertain failure.
    pub async fn receive_stock(&self, stock: &StockReceived) -> Result<StockReceived> {
        if stock.purchase_id.is_none() {
            return Err(invalid("StockReceived.PurchaseID", "is required"));
        }
        check_writable("StockReceived.Status", stock.status.as_ref())?;
        if let Some(i) = stock.lines.iter().position(|l| l.date.is_none()) {
            return Err(invalid(
                "StockReceived.Lines.Date",
                format!("line {i} has no Date"),
            ));
        }
        let request = Cin7Request::post("advanced-purchase/stock").json(stock);
        self.client.send(request).await
    }

    /// `GET /advanced-purchase/payment`: payments of a purchase.
    pub async fn payments(&self, lookup: &PaymentLookup) -> Result<PurchasePayments> {
        let request = Cin7Request::get("advanced-purchase/payment");
        let request = match lookup {
            PaymentLookup::PurchaseId(id) => request.query("PurchaseID", id),
            PaymentLookup::OrderNumber(n) => request.query("OrderNumber", n),
            PaymentLookup::InvoiceNumber(n) => request.query("InvoiceNumber", n),
            PaymentLookup::CreditNoteNumber(n) => request.query("CreditNoteNumber", n),
        };
        self.client.send(request).await
    }

    /// `POST /advanced-purchase/payment`: record a payment against an invoice task (not
    /// resent after an uncertain failure). Returns the saved payment(s).
    pub async fn create_payment(&self, payment: &PurchasePayment) -> Result<PurchasePayments> {
        if payment.task_id.as_ref().is_none_or(Guid::is_nil) {
            return Err(invalid(
                "PurchasePayment.TaskID",
                "must be the invoice task ID",
            ));
        }
        if payment.amount.is_none() {
            return Err(invalid("PurchasePayment.Amount", "is required"));
        }
        let request = Cin7Request::post("advanced-purchase/payment").json(payment);
        let raw = self.client.execute(request).await?;
        // The answer's shape is undocumented: accept a payments envelope or a single payment.
        let is_envelope =
            raw.body.get("Payments").is_some() || raw.body.get("PaymentLines").is_some();
        if is_envelope {
            crate::client::decode(
                "advanced-purchase/payment",
                crate::request::Method::POST,
                &raw,
            )
        } else {
            let single: PurchasePayment = crate::client::decode(
                "advanced-purchase/payment",
                crate::request::Method::POST,
                &raw,
            )?;
            Ok(PurchasePayments {
                purchase_id: single.purchase_id.clone(),
                payments: vec![single],
                other_fields: Default::default(),
            })
        }
    }
}
