//! Typed webhook payloads.
//!
//! Payloads are small: IDs, numbers and `EventType`. Field names vary between events (`SaleID`
//! vs `SaleTaskID`, `OrderNumber` vs `SaleOrderNumber`), some dates are `dd/MM/yyyy` (sale
//! `DocumentDate`/`DueDate`, purchase `InvoiceDate`/`DueDate`: typed as calendar dates, a
//! malformed one is a [`WebhookError::Malformed`] naming the field), and
//! `Purchase/Updated` really lists purchases under `CustomerDetailsList`; the models accept
//! all of these. The shapes of `Customer/Updated`, `Product/Updated` and the stock-level array
//! are not documented in detail: the typed fields here are the IDs, everything else is kept
//! in `other_fields`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::WebhookError;
use super::manage::WebhookType;
use crate::address::{Address, Contact};
use crate::codec::{self, Guid};
use crate::customer::Customer;
use crate::product::Product;
use crate::supplier::Supplier;

type Extra = serde_json::Map<String, serde_json::Value>;

/// `Purchase/OrderAuthorised`, `InvoiceAuthorised`, `StockReceivedAuthorised`,
/// `CreditNoteAuthorised`.
///
/// For advanced purchases `TaskID` can be a sub-task (receiving or invoice) rather than the
/// purchase: try it as the purchase ID first, then search by the document numbers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PurchaseTaskEvent {
    /// The event type.
    pub event_type: WebhookType,
    /// The purchase or one of its tasks.
    #[serde(rename = "TaskID")]
    pub task_id: Guid,
    /// Order number.
    #[serde(default, alias = "OrderNumber")]
    pub purchase_order_number: Option<String>,
    /// Invoice number.
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// Credit note number.
    #[serde(default)]
    pub credit_note_number: Option<String>,
    /// Supplier name.
    #[serde(default)]
    pub supplier_name: Option<String>,
    /// Supplier contact name.
    #[serde(default)]
    pub supplier_contact_name: Option<String>,
    /// Supplier contact email.
    #[serde(default)]
    pub supplier_contact_email: Option<String>,
    /// Invoice date, when the event carries one (often `dd/MM/yyyy`); a value that is not a
    /// date fails the parse with [`WebhookError::Malformed`] at `InvoiceDate`.
    #[serde(default, with = "codec::date_opt")]
    pub invoice_date: Option<NaiveDate>,
    /// Invoice due date (sent as `DueDate` or `InvoiceDueDate`, often `dd/MM/yyyy`).
    #[serde(default, alias = "InvoiceDueDate", with = "codec::date_opt")]
    pub due_date: Option<NaiveDate>,
    /// Everything else.
    #[serde(flatten)]
    pub other_fields: Extra,
}

/// A purchase header inside `Purchase/Updated`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PurchaseUpdatedRow {
    /// The purchase ID.
    #[serde(rename = "ID", alias = "PurchaseID", alias = "TaskID")]
    pub id: Guid,
    /// Order number.
    #[serde(default)]
    pub order_number: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<crate::purchase::PurchaseStatus>,
    /// Invoice date (any form Cin7 sends, `dd/MM/yyyy` included).
    #[serde(default, with = "codec::date_opt")]
    pub invoice_date: Option<NaiveDate>,
    /// Invoice due date (sent as `DueDate` or `InvoiceDueDate`).
    #[serde(default, alias = "InvoiceDueDate", with = "codec::date_opt")]
    pub due_date: Option<NaiveDate>,
    /// Everything else.
    #[serde(flatten)]
    pub other_fields: Extra,
}

/// `Purchase/Updated`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PurchaseUpdatedEvent {
    /// How many purchases the payload lists.
    #[serde(default, with = "codec::decimal4")]
    pub number_of_purchase: Option<Decimal>,
    /// The changed purchases (Cin7 sends them under `CustomerDetailsList`).
    #[serde(rename = "CustomerDetailsList", alias = "PurchaseDetailsList")]
    pub purchases: Vec<PurchaseUpdatedRow>,
}

/// One supplier in `Supplier/Updated`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SupplierDetails {
    /// The supplier.
    pub supplier: Supplier,
    /// Its addresses.
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Its contacts.
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// `Supplier/Updated`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SupplierUpdatedEvent {
    /// How many suppliers the payload lists.
    #[serde(default, with = "codec::decimal4")]
    pub number_of_suppliers: Option<Decimal>,
    /// The changed suppliers.
    pub supplier_details_list: Vec<SupplierDetails>,
}

/// One customer in `Customer/Updated`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomerDetails {
    /// The customer.
    pub customer: Customer,
    /// Its addresses.
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Its contacts.
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// `Customer/Updated`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomerUpdatedEvent {
    /// How many customers the payload lists.
    #[serde(default, with = "codec::decimal4")]
    pub number_of_customers: Option<Decimal>,
    /// The changed customers.
    #[serde(rename = "CustomerDetailsList")]
    pub customers: Vec<CustomerDetails>,
}

/// `Product/Updated`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProductUpdatedEvent {
    /// How many products the payload lists.
    #[serde(default, with = "codec::decimal4")]
    pub number_of_products: Option<Decimal>,
    /// The changed products.
    #[serde(
        rename = "ProductDetailsList",
        alias = "Products",
        alias = "ProductList"
    )]
    pub products: Vec<Product>,
}

/// Any `Sale/*` event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SaleEvent {
    /// The event type.
    pub event_type: WebhookType,
    /// The sale (sent as `SaleID` or `SaleTaskID`).
    #[serde(rename = "SaleID", alias = "SaleTaskID", alias = "TaskID")]
    pub sale_id: Guid,
    /// Order number (sent as `OrderNumber` or `SaleOrderNumber`).
    #[serde(default, alias = "SaleOrderNumber")]
    pub order_number: Option<String>,
    /// Invoice number.
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// Customer name.
    #[serde(default, alias = "CustomerName")]
    pub customer: Option<String>,
    /// Customer ID.
    #[serde(default, rename = "CustomerID", with = "codec::guid_opt")]
    pub customer_id: Option<Guid>,
    /// Document date (often `dd/MM/yyyy`).
    #[serde(default, with = "codec::date_opt")]
    pub document_date: Option<NaiveDate>,
    /// Due date (often `dd/MM/yyyy`).
    #[serde(default, with = "codec::date_opt")]
    pub due_date: Option<NaiveDate>,
    /// Everything else.
    #[serde(flatten)]
    pub other_fields: Extra,
}

/// One entry of `Stock/AvailableStockLevelChanged` (a bare JSON array).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StockLevelChange {
    /// Product ID.
    #[serde(rename = "ProductID", alias = "ID")]
    pub product_id: Guid,
    /// SKU.
    #[serde(default, rename = "SKU")]
    pub sku: Option<String>,
    /// Location name.
    #[serde(default)]
    pub location: Option<String>,
    /// Quantity available.
    #[serde(default, with = "codec::decimal4")]
    pub available: Option<Decimal>,
    /// Everything else.
    #[serde(flatten)]
    pub other_fields: Extra,
}

/// A parsed webhook delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// One of the four purchase `*Authorised` events.
    PurchaseTask(PurchaseTaskEvent),
    /// `Purchase/Updated`.
    PurchaseUpdated(PurchaseUpdatedEvent),
    /// `Supplier/Updated`.
    SupplierUpdated(SupplierUpdatedEvent),
    /// `Customer/Updated`.
    CustomerUpdated(CustomerUpdatedEvent),
    /// `Product/Updated`.
    ProductUpdated(ProductUpdatedEvent),
    /// A `Sale/*` event.
    Sale(SaleEvent),
    /// `Stock/AvailableStockLevelChanged`.
    StockLevels(Vec<StockLevelChange>),
    /// A documented event this crate does not type (CRM: leads, opportunities, tasks).
    Untyped {
        /// Its type.
        event_type: WebhookType,
        /// The raw body.
        body: serde_json::Value,
    },
}

impl WebhookEvent {
    /// The event type.
    pub fn event_type(&self) -> WebhookType {
        match self {
            WebhookEvent::PurchaseTask(e) => e.event_type.clone(),
            WebhookEvent::PurchaseUpdated(_) => WebhookType::PurchaseUpdated,
            WebhookEvent::SupplierUpdated(_) => WebhookType::SupplierUpdated,
            WebhookEvent::CustomerUpdated(_) => WebhookType::CustomerUpdated,
            WebhookEvent::ProductUpdated(_) => WebhookType::ProductUpdated,
            WebhookEvent::Sale(e) => e.event_type.clone(),
            WebhookEvent::StockLevels(_) => WebhookType::StockAvailableStockLevelChanged,
            WebhookEvent::Untyped { event_type, .. } => event_type.clone(),
        }
    }

    /// Parse a delivery body (already authenticated).
    ///
    /// ```
    /// use cin7_core_client::webhook::{WebhookEvent, WebhookType};
    /// let body = br#"{"SaleTaskID":"8B1538E4-5A4C-4B1A-9C42-6C3DE21A5B10","SaleOrderNumber":"SO-1","EventType":"Sale/OrderAuthorised"}"#;
    /// match WebhookEvent::parse(body).unwrap() {
    ///     WebhookEvent::Sale(sale) => assert_eq!(sale.order_number.as_deref(), Some("SO-1")),
    ///     other => panic!("{other:?}"),
    /// }
    /// assert!(WebhookEvent::parse(br#"{"EventType":"Invoice/Exploded"}"#).is_err());
    /// ```
    pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        let value = sdk_common::json::from_slice(body)
            .map_err(|source| WebhookError::NotJson { source })?;
        if let serde_json::Value::Array(items) = &value {
            // The stock-level event is a bare array; any EventType inside must agree.
            for item in items {
                if let Some(kind) = item.get("EventType").and_then(|v| v.as_str()) {
                    let parsed: WebhookType =
                        kind.parse().unwrap_or(WebhookType::Other(kind.into()));
                    if parsed != WebhookType::StockAvailableStockLevelChanged {
                        return Err(WebhookError::UnknownEvent {
                            event_type: kind.to_owned(),
                        });
                    }
                }
            }
            return decode_slice("Stock/AvailableStockLevelChanged", body)
                .map(WebhookEvent::StockLevels);
        }
        let kind_text = value
            .get("EventType")
            .and_then(|v| v.as_str())
            .ok_or(WebhookError::MissingEventType)?
            .to_owned();
        let Ok(kind) = kind_text.parse::<WebhookType>();
        use WebhookType as T;
        let k = kind_text.as_str();
        Ok(match kind {
            T::PurchaseOrderAuthorised
            | T::PurchaseInvoiceAuthorised
            | T::PurchaseStockReceivedAuthorised
            | T::PurchaseCreditNoteAuthorised => WebhookEvent::PurchaseTask(decode_slice(k, body)?),
            T::PurchaseUpdated => WebhookEvent::PurchaseUpdated(decode_slice(k, body)?),
            T::SupplierUpdated => WebhookEvent::SupplierUpdated(decode_slice(k, body)?),
            T::CustomerUpdated => WebhookEvent::CustomerUpdated(decode_slice(k, body)?),
            T::ProductUpdated => WebhookEvent::ProductUpdated(decode_slice(k, body)?),
            T::StockAvailableStockLevelChanged => {
                // Tolerate an object wrapping the array.
                let rows = value
                    .as_object()
                    .and_then(|o| o.values().find(|v| v.is_array()))
                    .cloned()
                    .unwrap_or(serde_json::Value::Array(Vec::new()));
                WebhookEvent::StockLevels(decode(k, &rows)?)
            }
            T::Other(_) => {
                return Err(WebhookError::UnknownEvent {
                    event_type: kind_text,
                });
            }
            sale if sale.as_str().starts_with("Sale/") => {
                WebhookEvent::Sale(decode_slice(k, body)?)
            }
            other => WebhookEvent::Untyped {
                event_type: other,
                body: value,
            },
        })
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    event_type: &str,
    value: &serde_json::Value,
) -> Result<T, WebhookError> {
    serde_path_to_error::deserialize(value).map_err(|e| malformed(event_type, e))
}

/// Decode from the body's own text (already checked to be JSON without repeated keys), so a
/// decimal keeps the digits and scale Cin7 wrote.
fn decode_slice<T: serde::de::DeserializeOwned>(
    event_type: &str,
    body: &[u8],
) -> Result<T, WebhookError> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
        .map_err(|e| malformed(event_type, e))
}

fn malformed(event_type: &str, e: serde_path_to_error::Error<serde_json::Error>) -> WebhookError {
    WebhookError::Malformed {
        event_type: event_type.to_owned(),
        path: e.path().to_string(),
        source: e.into_inner(),
    }
}
