//! M3 purchase orders and supplier invoices over MI, and where each stream is read from.
//!
//! **Purchase orders.** `PPS200MI` has no plain list of heads in the material we have (see
//! `docs/assumptions.md`, "M3 purchase orders over MI"); its documented way to find heads is
//! `SearchHead` (input `SQRY`, an M3 search query). Each window searches with the configured
//! query (default [`DEFAULT_PO_QUERY`], every order), paged by a `PUNO` range in the query
//! ([`M3::search`]), then reads each order's `GetHead` (currency, requested date, warehouse) and
//! its lines with `LstLine` (paged by `PNLI`). Three calls per order and search page.
//!
//! **Supplier invoices.** Found by `APS200MI/SearchSupInvoic` (default query
//! [`DEFAULT_INVOICE_QUERY`]), paged by a `SINO` range; each invoice's head from
//! `APS200MI/GetInvoice`, its lines and GL distribution from the invoice batch it was entered
//! in (`APS450MI/LstInvBySupInv` → `APS450MI/LstLines`). An invoice without a batch (or a
//! batch without lines) becomes one line at the invoice amount with no GL account, which the
//! engine's GL mapping reports. Four calls per invoice. Which output fields these carry on a
//! real tenant is **unconfirmed**; the field maps (`[ion.mi.<Noun>]`) adjust them.
//!
//! Neither search takes a change date, and none of the documented outputs carries one, so each
//! window lists what the query selects and the engine's content hash skips what did not change
//! (nothing is written twice). A record's `modified_at` is the window's upper bound, unless the
//! tenant returns a change date (a field map naming `changed_on`): the window then keeps only
//! orders changed since its start. Narrow the query (`ion.mi_queries`) to keep each run small.
//!
//! **Routes.** [`CloudSuiteSource::route`] reads a stream as BODs from the Data Lake instead of
//! the product's own API, so one M3 source can take suppliers over MI and invoices from BODs.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use sync_core::error::SourceError;
use sync_core::model::{PurchaseOrder, SupplierInvoice};

use super::{CloudSuiteSource, convert, source_error};
use crate::error::{Error, Result};
use crate::m3::M3;
use crate::m3::nouns as mi;
use crate::transport::datalake::{DataLake, Published};

/// The default `SQRY` of `PPS200MI/SearchHead`: every purchase order.
pub const DEFAULT_PO_QUERY: &str = "PUNO:*";

/// The default `SQRY` of `APS200MI/SearchSupInvoic`: every supplier invoice.
pub const DEFAULT_INVOICE_QUERY: &str = "SINO:*";

/// A record kind a source can read from another route than its product's own API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    /// Suppliers (`SyncSupplierPartyMaster` from the Data Lake).
    Suppliers,
    /// Purchase orders (`SyncPurchaseOrder`).
    PurchaseOrders,
    /// Supplier invoices (`SyncSupplierInvoice`).
    SupplierInvoices,
    /// GL accounts (`SyncChartOfAccounts`).
    GlAccounts,
}

impl RecordKind {
    /// Every kind, in stream order.
    pub const ALL: [RecordKind; 4] = [
        RecordKind::GlAccounts,
        RecordKind::Suppliers,
        RecordKind::PurchaseOrders,
        RecordKind::SupplierInvoices,
    ];

    /// The stream name (`purchase_orders`, ...).
    pub fn stream(self) -> &'static str {
        match self {
            RecordKind::Suppliers => "suppliers",
            RecordKind::PurchaseOrders => "purchase_orders",
            RecordKind::SupplierInvoices => "supplier_invoices",
            RecordKind::GlAccounts => "gl_accounts",
        }
    }

    /// The kind of a stream name.
    pub fn of_stream(stream: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.stream() == stream)
    }

    /// The Data Lake document the kind is read from (`SyncPurchaseOrder`, ...).
    pub fn document(self) -> &'static str {
        use super::bods::FromBod;
        use sync_core::model::{GlAccount, Supplier};
        match self {
            RecordKind::Suppliers => Supplier::DOCUMENT,
            RecordKind::PurchaseOrders => PurchaseOrder::DOCUMENT,
            RecordKind::SupplierInvoices => SupplierInvoice::DOCUMENT,
            RecordKind::GlAccounts => GlAccount::DOCUMENT,
        }
    }
}

/// The M3 search queries (`SQRY`) the MI routes list with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M3Queries {
    /// `PPS200MI/SearchHead` (default [`DEFAULT_PO_QUERY`]).
    pub purchase_orders: String,
    /// `APS200MI/SearchSupInvoic` (default [`DEFAULT_INVOICE_QUERY`]).
    pub supplier_invoices: String,
}

impl Default for M3Queries {
    fn default() -> Self {
        M3Queries {
            purchase_orders: DEFAULT_PO_QUERY.to_owned(),
            supplier_invoices: DEFAULT_INVOICE_QUERY.to_owned(),
        }
    }
}

/// The identity id of an M3 supplier invoice: supplier and invoice number (M3 numbers invoices
/// per supplier).
pub fn invoice_id(supplier: &str, invoice: &str) -> String {
    format!("{supplier}/{invoice}")
}

impl CloudSuiteSource {
    /// Read `kind` as BODs from the Data Lake (`lake`) instead of the product's own API (IDO or
    /// MI); documents of other accounting entities than the source's are skipped (see
    /// [`bods`](super::bods)). E.g. an M3 source taking suppliers over MI and supplier invoices
    /// from `SyncSupplierInvoice` BODs:
    ///
    /// ```no_run
    /// # async fn run(client: infor_ion_client::IonClient) {
    /// use infor_ion_client::cloudsuite::{CloudSuiteSource, RecordKind};
    /// let source = CloudSuiteSource::m3(client.m3().company("300"), client.tenant(), "300")
    ///     .route(RecordKind::SupplierInvoices, client.data_lake());
    /// # let _ = source; }
    /// ```
    pub fn route(mut self, kind: RecordKind, lake: DataLake) -> Self {
        self.lake_routes.insert(kind, lake);
        self
    }

    /// M3: the search queries the MI routes of purchase orders and supplier invoices list
    /// with (`SQRY`; default: every record).
    pub fn m3_queries(mut self, queries: M3Queries) -> Self {
        self.m3_queries = queries;
        self
    }

    /// The Data Lake `kind` is read from, when routed there.
    pub(super) fn lake_for(&self, kind: RecordKind) -> Option<&DataLake> {
        self.lake_routes.get(&kind)
    }

    /// What the Data Lake holds of the document `kind` is read from, when `kind` is read as
    /// BODs (by product or by route; `None` otherwise): one one-row list call, so `ping` can
    /// tell a route that cannot be read (✗) from one ION publishes nothing to (!).
    pub async fn probe_data_lake(&self, kind: RecordKind) -> Option<Result<Published>> {
        Some(self.bod_lake(kind)?.published(kind.document()).await)
    }

    /// The Data Lake `kind` is read from as BODs (by route or by product), if it is.
    pub(super) fn bod_lake(&self, kind: RecordKind) -> Option<&DataLake> {
        match (self.lake_for(kind), &self.product) {
            (Some(lake), _) | (None, super::Product::DataLake(lake)) => Some(lake),
            (None, _) => None,
        }
    }

    /// Whether `kind` is read as BODs from the Data Lake (by product or by route).
    pub fn reads_from_data_lake(&self, kind: RecordKind) -> bool {
        self.lake_for(kind).is_some() || matches!(self.product, super::Product::DataLake(_))
    }

    /// M3 purchase orders found by the configured search, each with its head and lines; kept
    /// when a mapped change date says they changed since `from`. `read_at` is the
    /// `modified_at` of orders without a change date.
    pub(super) fn m3_orders<'a>(
        &'a self,
        m3: &'a M3,
        from: Option<DateTime<Utc>>,
        read_at: DateTime<Utc>,
    ) -> BoxStream<'a, std::result::Result<PurchaseOrder, SourceError>> {
        let context = self.context();
        let page_size = self.page_size;
        m3.search::<mi::PurchaseOrderSearch>(
            &self.m3_queries.purchase_orders,
            "PUNO",
            "order",
            page_size,
        )
        .map_ok(move |found| async move { order_parts(m3, found.order, page_size).await })
        // A few orders in flight at once; the order of the search is kept.
        .try_buffered(4)
        .try_filter_map(move |parts| {
            std::future::ready(match parts {
                Some((head, lines)) => convert::m3_purchase_order(head, lines, read_at, &context)
                    .map(|order| {
                        let changed = order.modified_at == read_at
                            || from.is_none_or(|from| order.modified_at >= from);
                        changed.then_some(order)
                    }),
                None => Ok(None),
            })
        })
        .map_err(source_error)
        .boxed()
    }

    /// One M3 purchase order by number (`None` when `GetHead` returns no row).
    pub(super) async fn m3_order(
        &self,
        m3: &M3,
        order: &str,
        read_at: DateTime<Utc>,
    ) -> Result<Option<PurchaseOrder>> {
        order_parts(m3, order.to_owned(), self.page_size)
            .await?
            .map(|(head, lines)| convert::m3_purchase_order(head, lines, read_at, &self.context()))
            .transpose()
    }

    /// M3 supplier invoices found by the configured search, each with its head and batch
    /// lines. `read_at` is their `modified_at`.
    pub(super) fn m3_invoices<'a>(
        &'a self,
        m3: &'a M3,
        read_at: DateTime<Utc>,
    ) -> BoxStream<'a, std::result::Result<SupplierInvoice, SourceError>> {
        let context = self.context();
        let page_size = self.page_size;
        m3.search::<mi::SupplierInvoiceSearch>(
            &self.m3_queries.supplier_invoices,
            "SINO",
            "invoice",
            page_size,
        )
        .map_ok(move |found| async move {
            invoice_parts(m3, &found.supplier, &found.invoice, page_size).await
        })
        .try_buffered(4)
        .try_filter_map(move |parts| {
            std::future::ready(
                parts
                    .map(|(head, lines)| convert::m3_invoice(head, lines, read_at, &context))
                    .transpose(),
            )
        })
        .map_err(source_error)
        .boxed()
    }

    /// One M3 supplier invoice by its identity id (`SUNO/SINO`, see [`invoice_id`]).
    pub(super) async fn m3_invoice(
        &self,
        m3: &M3,
        id: &str,
        read_at: DateTime<Utc>,
    ) -> Result<Option<SupplierInvoice>> {
        let Some((supplier, invoice)) = id.split_once('/') else {
            return Err(Error::InvalidRequest(format!(
                "`{id}` is not an M3 supplier invoice id (supplier/invoice number)"
            )));
        };
        invoice_parts(m3, supplier, invoice, self.page_size)
            .await?
            .map(|(head, lines)| convert::m3_invoice(head, lines, read_at, &self.context()))
            .transpose()
    }
}

/// A purchase order's head (`PPS200MI/GetHead`) and lines (`PPS200MI/LstLine`); `None` when
/// the head is not found.
async fn order_parts(
    m3: &M3,
    order: String,
    page_size: u32,
) -> Result<Option<(mi::PurchaseOrderHead, Vec<mi::PurchaseOrderLine>)>> {
    let inputs = vec![("PUNO".to_owned(), order)];
    let heads: Vec<mi::PurchaseOrderHead> = m3.list(inputs.clone(), 2).try_collect().await?;
    let Some(head) = heads.into_iter().next() else {
        return Ok(None);
    };
    let lines = m3
        .list::<mi::PurchaseOrderLine>(inputs, page_size)
        .try_collect()
        .await?;
    Ok(Some((head, lines)))
}

/// A supplier invoice's head (`APS200MI/GetInvoice`) and the lines of the invoice batches it
/// was entered in (`APS450MI/LstInvBySupInv`, `APS450MI/LstLines`); `None` when the head is
/// not found.
async fn invoice_parts(
    m3: &M3,
    supplier: &str,
    invoice: &str,
    page_size: u32,
) -> Result<Option<(mi::SupplierInvoice, Vec<mi::InvoiceBatchLine>)>> {
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    let heads: Vec<mi::SupplierInvoice> = m3
        .list(vec![pair("SUNO", supplier), pair("SINO", invoice)], 2)
        .try_collect()
        .await?;
    let Some(head) = heads.into_iter().next() else {
        return Ok(None);
    };
    let batches: Vec<mi::InvoiceBatch> = m3
        .list(
            vec![
                pair("SPYN", supplier),
                pair("SUNO", supplier),
                pair("SINO", invoice),
            ],
            page_size,
        )
        .try_collect()
        .await?;
    let mut lines = Vec::new();
    for batch in batches {
        let mut batch_lines: Vec<mi::InvoiceBatchLine> = m3
            .list(vec![pair("INBN", &batch.batch)], page_size)
            .try_collect()
            .await?;
        lines.append(&mut batch_lines);
    }
    Ok(Some((head, lines)))
}

#[cfg(test)]
mod tests {
    use sync_core::model::PoStatus;

    use super::convert::m3_po_status;

    fn status(codes: &[&str]) -> PoStatus {
        let codes: Vec<Option<String>> = codes.iter().map(|c| Some((*c).to_owned())).collect();
        m3_po_status(&codes).unwrap()
    }

    #[test]
    fn the_po_status_follows_the_lowest_line_status() {
        assert_eq!(status(&["05", "20"]), PoStatus::Planned);
        assert_eq!(status(&["15"]), PoStatus::Planned);
        assert_eq!(status(&["20", "85"]), PoStatus::Ordered);
        assert_eq!(status(&["74"]), PoStatus::Ordered);
        assert_eq!(status(&["75", "85"]), PoStatus::Closed);
        assert_eq!(status(&["98"]), PoStatus::Closed);
        assert_eq!(status(&["99", "99"]), PoStatus::Cancelled);
        assert_eq!(status(&[]), PoStatus::Cancelled);
        let error = m3_po_status(&[Some("2A".to_owned())])
            .unwrap_err()
            .to_string();
        assert!(error.contains("PUSL") && error.contains("2A"), "{error}");
        let error = m3_po_status(&[None]).unwrap_err().to_string();
        assert!(error.contains("PUSL"), "{error}");
    }
}
