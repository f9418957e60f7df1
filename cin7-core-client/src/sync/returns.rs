//! Cin7 Core as the source of the return direction: purchases changed in Cin7, read back as
//! sync-core [`PurchaseUpdate`]s.
//!
//! [`Cin7PurchaseSource`] polls `purchaseList` with `UpdatedSince` (inclusive, as the engine's
//! window asks) and re-reads each changed advanced purchase in full (`GET
//! /advanced-purchase?ID=`): the list row carries statuses but neither lines nor receipts.
//! Received quantities are the sum of the **authorised** stock-received lines per SKU, spread
//! over the order lines of that SKU in order. The supplier's source vendor ID is read from the
//! supplier's stamped field (the forward supplier stream writes it), once per supplier and poll.
//!
//! With [`Cin7PurchaseSource::with_summaries`], each row is yielded as a summary
//! ([`summary_of`]) instead of being read in full, and the return pipeline reads it in full
//! (through [`Source::fetch`]) only when it needs to: the purchases the forward streams just
//! wrote cost the return stream no call each.
//!
//! Cin7 does not report its server time; [`Source::server_time`] is the client's clock, so the
//! engine's safety lag also covers clock skew between this host and Cin7.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt};
use rust_decimal::Decimal;
use sync_core::error::SourceError;
use sync_core::model::{
    InvoiceUpdate, InvoiceUpdateLine, PurchaseProgress, PurchaseSummary, PurchaseUpdate,
    PurchaseUpdateLine, SourceIdentity,
};
use sync_core::source::{Source, Window};

use super::Cin7TargetConfig;
use super::purchase::purchase_reference;
use crate::client::Cin7Client;
use crate::codec::Guid;
use crate::error::Error;
use crate::purchase::{
    AdvancedPurchase, PurchaseInvoice, PurchaseKind, PurchaseListRow, PurchaseStatus, TaskStatus,
};

/// The system name of identities read from Cin7.
pub const SYSTEM: &str = "cin7";

/// Reads changed Cin7 purchases for the return direction.
#[derive(Debug)]
pub struct Cin7PurchaseSource {
    client: Cin7Client,
    config: Cin7TargetConfig,
    tenant: String,
    vendor_id_field: Option<String>,
    page_limit: Option<u32>,
    summaries: bool,
    vendors: Mutex<HashMap<Guid, Option<String>>>,
}

impl Cin7PurchaseSource {
    /// A source over `client`; `tenant` names the Cin7 account in record identities.
    /// Reference attribute and vendor-ID field default to `AdditionalAttribute1`, as the
    /// forward target writes them.
    pub fn new(client: Cin7Client, tenant: impl Into<String>) -> Self {
        Cin7PurchaseSource {
            client,
            config: Cin7TargetConfig::default(),
            tenant: tenant.into(),
            vendor_id_field: Some("AdditionalAttribute1".into()),
            page_limit: None,
            summaries: false,
            vendors: Mutex::new(HashMap::new()),
        }
    }

    /// The target configuration the forward direction writes with (where the PO reference is
    /// stamped).
    pub fn with_config(mut self, config: Cin7TargetConfig) -> Self {
        self.config = config;
        self
    }

    /// The supplier field carrying the source vendor ID (`None`: not stamped).
    pub fn with_vendor_id_field(mut self, field: Option<String>) -> Self {
        self.vendor_id_field = field;
        self
    }

    /// Rows per `purchaseList` page (1..=1000); by default the client's page size for
    /// `purchaseList` ([`PageSizes`](crate::pagination::PageSizes), 1000 unless configured).
    pub fn with_page_limit(mut self, limit: u32) -> Self {
        self.page_limit = Some(limit.clamp(1, 1000));
        self
    }

    /// Yield each row as a summary ([`summary_of`]) instead of reading the purchase in full. Give the return pipeline this source for full reads too
    /// (`ReturnPipeline::with_full_reads`); without that, leave summaries off (the default).
    pub fn with_summaries(mut self, on: bool) -> Self {
        self.summaries = on;
        self
    }

    /// The client.
    pub fn client(&self) -> &Cin7Client {
        &self.client
    }

    /// The purchase by id (`None` when Cin7 has none).
    pub async fn purchase(&self, id: &Guid) -> Result<Option<PurchaseUpdate>, SourceError> {
        let purchase = match self.client.purchases().get(id).send().await {
            Ok(purchase) if purchase.id.is_none() => return Ok(None),
            Ok(purchase) => purchase,
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => return Err(source_error(error)),
        };
        // The vendor ID is needed to create a purchase raised in Cin7 in CloudSuite; one the
        // forward sync wrote carries its reference, and its source record names the vendor.
        let stamped = stamped_reference(&purchase, &self.config).is_some();
        let vendor = match &purchase.supplier_id {
            Some(supplier) if !stamped => self.vendor_id(supplier).await?,
            _ => None,
        };
        purchase_update(&purchase, &self.config, &self.tenant, vendor).map(Some)
    }

    async fn purchase_of_row(
        &self,
        row: &PurchaseListRow,
    ) -> Result<Option<PurchaseUpdate>, SourceError> {
        match &row.id {
            Some(id) => self.purchase(id).await,
            None => Ok(None),
        }
    }

    async fn vendor_id(&self, supplier: &Guid) -> Result<Option<String>, SourceError> {
        let Some(field) = &self.vendor_id_field else {
            return Ok(None);
        };
        if let Some(known) = lock(&self.vendors).get(supplier) {
            return Ok(known.clone());
        }
        let found = self
            .client
            .suppliers()
            .get(supplier)
            .await
            .map_err(source_error)?;
        let vendor = found.and_then(|s| {
            s.other_fields
                .get(field)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        });
        lock(&self.vendors).insert(supplier.clone(), vendor.clone());
        Ok(vendor)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn source_error(error: Error) -> SourceError {
    let message = sdk_common::report::chain(&error);
    let converted = if error.is_retryable() {
        SourceError::transient(message)
    } else {
        SourceError::permanent(message)
    };
    converted.with_source(error)
}

/// Cin7's answer for an unknown purchase ID is undocumented: a 404 (HTTP or `ErrorCode`) or a
/// 400 saying "not found" is read as absence (as the target does).
fn is_not_found(error: &Error) -> bool {
    error.api().is_some_and(|api| {
        api.status == 404
            || api.error_code == Some(404)
            || (api.status == 400 || api.error_code == Some(400))
                && api.message.to_ascii_lowercase().contains("not found")
    })
}

/// A list row as a summary ([`PurchaseUpdate::summary`]): identity, order number, supplier,
/// dates and progress from the row, no lines or invoices. It is
/// [quiet](PurchaseSummary::quiet) when the purchase is neither voided nor past ordering,
/// nothing is received, invoiced (authorised) or unstocked, and every status is one this crate
/// knows. `None` without an ID or a last-change time: read such a row in full.
///
/// ```
/// use cin7_core_client::purchase::PurchaseListRow;
/// use cin7_core_client::sync::returns::summary_of;
///
/// let row: PurchaseListRow = serde_json::from_value(serde_json::json!({
///     "ID": "0b9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11", "OrderNumber": "PO-00007",
///     "Status": "ORDERED", "OrderStatus": "AUTHORISED", "StockReceivedStatus": "NOT AVAILABLE",
///     "InvoiceStatus": "NOT AVAILABLE", "CombinedReceivingStatus": "NOT RECEIVED",
///     "CombinedInvoiceStatus": "NOT INVOICED", "LastUpdatedDate": "2026-02-01T10:00:00Z"
/// })).unwrap();
/// let summary = summary_of(&row, "ACME").unwrap();
/// assert!(summary.summary.unwrap().quiet && summary.lines.is_empty());
///
/// let received: PurchaseListRow = serde_json::from_value(serde_json::json!({
///     "ID": "0b9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11", "Status": "RECEIVING",
///     "OrderStatus": "AUTHORISED", "StockReceivedStatus": "AUTHORISED",
///     "CombinedReceivingStatus": "PARTIALLY RECEIVED", "LastUpdatedDate": "2026-02-01T10:00:00Z"
/// })).unwrap();
/// assert!(!summary_of(&received, "ACME").unwrap().summary.unwrap().quiet);
/// ```
pub fn summary_of(row: &PurchaseListRow, tenant: &str) -> Option<PurchaseUpdate> {
    use crate::purchase::{CombinedInvoiceStatus as Inv, CombinedReceivingStatus as Rec};
    let id = row.id.as_ref()?;
    let last_updated = row.last_updated_date?;
    let not_started = |status: &Option<TaskStatus>| {
        matches!(
            status,
            None | Some(TaskStatus::NotAvailable) | Some(TaskStatus::Draft)
        )
    };
    let ordered = match row.order_status {
        Some(TaskStatus::Authorised) => Some(PurchaseProgress::Ordered),
        None | Some(TaskStatus::NotAvailable | TaskStatus::Draft) => Some(PurchaseProgress::Draft),
        Some(_) => None,
    };
    let quiet = ordered.is_some()
        && matches!(
            row.status,
            Some(PurchaseStatus::Draft | PurchaseStatus::Ordering | PurchaseStatus::Ordered)
        )
        && not_started(&row.stock_received_status)
        && not_started(&row.invoice_status)
        && not_started(&row.unstock_status)
        && matches!(
            row.combined_receiving_status,
            None | Some(Rec::NotAvailable | Rec::NotReceived)
        )
        && matches!(
            row.combined_invoice_status,
            None | Some(Inv::NotAvailable | Inv::NotInvoiced)
        );
    let progress = if row.status == Some(PurchaseStatus::Voided) {
        PurchaseProgress::Voided
    } else {
        match row.combined_receiving_status {
            Some(Rec::FullyReceived) => PurchaseProgress::Received,
            Some(Rec::PartiallyReceived) => PurchaseProgress::PartlyReceived,
            _ => ordered.unwrap_or(PurchaseProgress::Ordered),
        }
    };
    Some(PurchaseUpdate {
        identity: SourceIdentity::new(SYSTEM, tenant, "", id.to_string()),
        order_number: row.order_number.clone().unwrap_or_default(),
        reference: None,
        supplier_id: row
            .supplier_id
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        supplier_vendor_id: None,
        order_date: row.order_date,
        required_by: row.required_by,
        currency: row.supplier_currency.clone(),
        location: None,
        progress,
        invoice_authorised: false,
        invoices: Vec::new(),
        lines: Vec::new(),
        summary: Some(PurchaseSummary {
            last_updated,
            quiet,
        }),
        modified_at: last_updated,
    })
}

/// The reference the forward sync stamped on the purchase (the source record it came from),
/// when there is one: not empty and not merely the purchase's own order number.
fn stamped_reference(purchase: &AdvancedPurchase, config: &Cin7TargetConfig) -> Option<String> {
    let reference = purchase_reference(purchase, config);
    (!reference.is_empty() && Some(&reference) != purchase.order_number.as_ref())
        .then_some(reference)
}

/// Convert an advanced purchase read in full into the return direction's record.
///
/// ```
/// use cin7_core_client::purchase::AdvancedPurchase;
/// use cin7_core_client::sync::Cin7TargetConfig;
/// use cin7_core_client::sync::returns::purchase_update;
///
/// let purchase: AdvancedPurchase = serde_json::from_value(serde_json::json!({
///     "ID": "0b9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11",
///     "SupplierID": "1c9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11",
///     "OrderNumber": "PO-00007", "Status": "ORDERED",
///     "LastUpdatedDate": "2026-02-01T10:00:00Z",
///     "Order": {"Status": "AUTHORISED", "Lines": [{"SKU": "A", "Name": "A", "Quantity": 4, "Price": 2}]},
///     "StockReceived": [{"Status": "AUTHORISED", "Lines": [{"SKU": "A", "Quantity": 1}]}],
///     "Invoice": [{"TaskID": "2c9b8f8e-2f4c-4f43-9d4c-6f1f3b3c2a11", "Status": "AUTHORISED",
///                  "InvoiceNumber": "INV-1", "Lines": [{"SKU": "A", "Quantity": 1, "Price": 2, "Total": 2}],
///                  "AdditionalCharges": [{"Description": "Freight", "Quantity": 1, "Price": 3, "Total": 3}]}]
/// })).unwrap();
/// let update = purchase_update(&purchase, &Cin7TargetConfig::default(), "ACME", None).unwrap();
/// assert_eq!(update.lines[0].received, 1.into());
/// assert_eq!(update.invoices[0].invoice_number, "INV-1");
/// assert_eq!(update.invoices[0].lines.len(), 2);
/// assert_eq!(update.invoices[0].total, 5.into());
/// ```
pub fn purchase_update(
    purchase: &AdvancedPurchase,
    config: &Cin7TargetConfig,
    tenant: &str,
    supplier_vendor_id: Option<String>,
) -> Result<PurchaseUpdate, SourceError> {
    let id = purchase
        .id
        .as_ref()
        .ok_or_else(|| SourceError::permanent("a purchase without an ID"))?;
    let modified_at: DateTime<Utc> = purchase
        .last_updated_date
        .ok_or_else(|| SourceError::permanent(format!("purchase {id} has no LastUpdatedDate")))?;
    let order = purchase.order.as_ref();
    // Authorised receipts per SKU, spread over the order lines of that SKU in order.
    let mut received: BTreeMap<String, Decimal> = BTreeMap::new();
    for task in &purchase.stock_received {
        if task.status != Some(TaskStatus::Authorised) {
            continue;
        }
        for line in &task.lines {
            if let Some(sku) = &line.sku {
                *received.entry(sku.clone()).or_default() += line.quantity.unwrap_or_default();
            }
        }
    }
    let order_lines = order.map(|o| o.lines.as_slice()).unwrap_or_default();
    let mut lines = Vec::with_capacity(order_lines.len());
    for (i, line) in order_lines.iter().enumerate() {
        let sku = line.sku.clone().unwrap_or_default();
        let quantity = line.quantity.unwrap_or_default();
        let last_of_sku = !order_lines[i + 1..]
            .iter()
            .any(|l| l.sku.as_deref() == Some(sku.as_str()));
        let left = received.get(&sku).copied().unwrap_or_default();
        let here = if last_of_sku {
            left
        } else {
            left.min(quantity)
        };
        if let Some(rest) = received.get_mut(&sku) {
            *rest -= here;
        }
        lines.push(PurchaseUpdateLine {
            name: line.name.clone().unwrap_or_else(|| sku.clone()),
            sku,
            quantity,
            price: line.price.unwrap_or_default(),
            received: here,
        });
    }
    let order_authorised = order.and_then(|o| o.status.as_ref()) == Some(&TaskStatus::Authorised);
    let any_received = lines.iter().any(|l| l.received > Decimal::ZERO);
    let all_received = !lines.is_empty() && lines.iter().all(|l| l.received >= l.quantity);
    let progress = if purchase.status == Some(PurchaseStatus::Voided) {
        PurchaseProgress::Voided
    } else if !order_authorised {
        PurchaseProgress::Draft
    } else if all_received {
        PurchaseProgress::Received
    } else if any_received {
        PurchaseProgress::PartlyReceived
    } else {
        PurchaseProgress::Ordered
    };
    let reference = stamped_reference(purchase, config);
    let order_number = purchase.order_number.clone().unwrap_or_default();
    Ok(PurchaseUpdate {
        identity: SourceIdentity::new(SYSTEM, tenant, "", id.to_string()),
        reference,
        order_number,
        supplier_id: purchase
            .supplier_id
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        supplier_vendor_id,
        order_date: purchase.order_date,
        required_by: purchase.required_by,
        currency: purchase.supplier_currency.clone(),
        location: purchase.location.clone(),
        progress,
        invoice_authorised: purchase.invoice.iter().any(is_authorised),
        invoices: purchase
            .invoice
            .iter()
            .filter(|inv| is_authorised(inv))
            .map(|inv| invoice_update(id, inv))
            .collect::<Result<_, _>>()?,
        lines,
        summary: None,
        modified_at,
    })
}

/// An invoice that counts as authorised: `AUTHORISED` or `PAID`.
fn is_authorised(invoice: &PurchaseInvoice) -> bool {
    matches!(
        invoice.status,
        Some(TaskStatus::Authorised) | Some(TaskStatus::Paid)
    )
}

/// An authorised invoice of the purchase: item lines, then additional charges (a charge's
/// description is its name). Totals Cin7 did not send are summed from the lines.
fn invoice_update(
    purchase_id: &crate::codec::Guid,
    invoice: &PurchaseInvoice,
) -> Result<InvoiceUpdate, SourceError> {
    let task_id = invoice.task_id.as_ref().ok_or_else(|| {
        SourceError::permanent(format!(
            "an authorised invoice of purchase {purchase_id} has no TaskID"
        ))
    })?;
    let line_total = |total: Option<Decimal>, quantity: Decimal, price: Decimal| {
        total.unwrap_or(quantity * price)
    };
    let mut lines: Vec<InvoiceUpdateLine> = invoice
        .lines
        .iter()
        .map(|line| {
            let quantity = line.quantity.unwrap_or_default();
            let price = line.price.unwrap_or_default();
            InvoiceUpdateLine {
                sku: line.sku.clone().filter(|s| !s.is_empty()),
                name: line
                    .name
                    .clone()
                    .or_else(|| line.sku.clone())
                    .unwrap_or_default(),
                quantity,
                price,
                total: line_total(line.total, quantity, price),
            }
        })
        .collect();
    lines.extend(invoice.additional_charges.iter().map(|charge| {
        let quantity = charge.quantity.unwrap_or(Decimal::ONE);
        let price = charge.price.unwrap_or_default();
        InvoiceUpdateLine {
            sku: None,
            name: charge.description.clone(),
            quantity,
            price,
            total: line_total(charge.total, quantity, price),
        }
    }));
    let sum: Decimal = lines.iter().map(|l| l.total).sum();
    let total_before_tax = invoice.total_before_tax.unwrap_or(sum);
    let tax = invoice.tax.unwrap_or_default();
    Ok(InvoiceUpdate {
        task_id: task_id.to_string(),
        invoice_number: invoice.invoice_number.clone().unwrap_or_default(),
        invoice_date: invoice.invoice_date,
        due_date: invoice.invoice_due_date,
        total_before_tax,
        tax,
        total: invoice.total.unwrap_or(total_before_tax + tax),
        lines,
    })
}

#[async_trait]
impl Source<PurchaseUpdate> for Cin7PurchaseSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        Ok(self.client.clock().now())
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<PurchaseUpdate, SourceError>> {
        // A new poll reads suppliers afresh (a vendor ID may have been stamped since).
        lock(&self.vendors).clear();
        let mut list = self.client.purchases().list();
        if let Some(limit) = self.page_limit {
            list = list.limit(limit);
        }
        if let Some(from) = window.from {
            list = list.updated_since(from);
        }
        list.stream()
            .filter_map(move |row| async move {
                match row {
                    Err(error) => Some(Err(source_error(error))),
                    // Simple purchases have no order/receipt tasks the return path reads.
                    Ok(row)
                        if row
                            .kind
                            .as_ref()
                            .is_some_and(|k| *k != PurchaseKind::Advanced) =>
                    {
                        None
                    }
                    Ok(row) => match (row.id.as_ref(), self.summaries) {
                        (None, _) => None,
                        (Some(_), true) => match summary_of(&row, &self.tenant) {
                            Some(summary) => Some(Ok(summary)),
                            None => self.purchase_of_row(&row).await.transpose(),
                        },
                        (Some(_), false) => self.purchase_of_row(&row).await.transpose(),
                    },
                }
            })
            .boxed()
    }

    async fn fetch(
        &self,
        identity: &SourceIdentity,
    ) -> Result<Option<PurchaseUpdate>, SourceError> {
        if identity.system != SYSTEM || identity.tenant != self.tenant {
            return Ok(None);
        }
        let Ok(id) = identity.id.parse::<Guid>() else {
            return Err(SourceError::permanent(format!(
                "{identity} is not a Cin7 purchase id"
            )));
        };
        self.purchase(&id).await
    }
}
