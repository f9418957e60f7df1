//! One CloudSuite source for the sync engine, whichever product the tenant runs.
//!
//! [`CloudSuiteSource`] implements sync-core's [`Source`] for suppliers, purchase orders,
//! supplier invoices and GL accounts, converting each product's typed records into the canonical
//! model, so the sync does not care where a record came from:
//!
//! | record | CloudSuite Industrial (IDO) | M3 (MI) | Data Lake BODs (any product) |
//! |---|---|---|---|
//! | supplier | `SLVendors` | `CRS620MI/LstSuppliers` | `SyncSupplierPartyMaster` |
//! | purchase order | `SLPos` + `SLPoItems` | not listable over MI (use the Data Lake) | `SyncPurchaseOrder` (lines included) |
//! | supplier invoice | `SLAptrxs` + `SLAptrxds` | not listable over MI (use the Data Lake) | `SyncSupplierInvoice` (lines included) |
//! | GL account | `SLCharts` | `CRS630MI/LstAccountID` | `SyncChartOfAccounts` |
//!
//! Over IDO, windows are read incrementally by `RecordDate >= from`; related rows (PO lines,
//! voucher distributions) are fetched once per page with an `IN` filter, not once per record.
//! A PO whose lines changed while its header did not (a quantity edited, a receipt posted) is
//! found too: the window also reads the `SLPoItems` rows changed since `from` and adds their
//! POs, and a PO's `modified_at` is the newest of its header and lines.
//! M3's list transactions have no reliable change-time filter for these nouns, so M3 windows
//! list everything and keep the rows whose change date is on or after the window's start date.
//! From the Data Lake, windows list the published BODs by `event_date >= from`, keep the newest
//! `variationID` of each document and skip `Delete`s (see [`bods`]); an M3 tenant reads its
//! purchase orders and supplier invoices this way.
//!
//! The return direction (Cin7 → CloudSuite) writes purchase orders through [`returns`]: IDO
//! updates or `Process` BODs over ION's Messaging Service, selected by
//! [`returns::PoWriteMode`].
//!
//! ```no_run
//! # async fn run(client: infor_ion_client::IonClient) {
//! use infor_ion_client::cloudsuite::CloudSuiteSource;
//! let source = CloudSuiteSource::csi(client.csi("ACME_PRD_DALS"), "DALS").default_currency("USD");
//! # let _ = source; }
//! ```

pub mod bods;
mod convert;
pub mod m3_returns;
pub mod returns;

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use sync_core::error::SourceError;
use sync_core::model::{GlAccount, PurchaseOrder, SourceIdentity, Supplier, SupplierInvoice};
use sync_core::source::{Source, Window};

use crate::csi::{self, Csi, Filter, IdoNoun};
use crate::error::Error;
use crate::m3::{self, M3};
use crate::transport::datalake::DataLake;

pub use convert::SYSTEM;

/// Which CloudSuite product API the source reads.
#[derive(Debug, Clone)]
pub enum Product {
    /// CloudSuite Industrial (SyteLine) over IDO REST.
    Csi(Csi),
    /// M3 over MI REST.
    M3(M3),
    /// BODs published to the ION Data Lake (any product that publishes them, M3 included).
    DataLake(DataLake),
}

/// A CloudSuite tenant as a sync-core [`Source`]; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct CloudSuiteSource {
    product: Product,
    tenant: String,
    accounting_entity: String,
    default_currency: String,
    page_size: u32,
}

impl CloudSuiteSource {
    /// A CloudSuite Industrial source; `accounting_entity` is the site (e.g. `DALS`).
    pub fn csi(csi: Csi, accounting_entity: impl Into<String>) -> Self {
        let tenant = csi.client().tenant().to_owned();
        CloudSuiteSource {
            product: Product::Csi(csi),
            tenant,
            accounting_entity: accounting_entity.into(),
            default_currency: "USD".to_owned(),
            page_size: csi::DEFAULT_RECORD_CAP,
        }
    }

    /// An M3 source; `accounting_entity` is the company (or `CONO_DIVI`).
    pub fn m3(m3: M3, tenant: impl Into<String>, accounting_entity: impl Into<String>) -> Self {
        CloudSuiteSource {
            product: Product::M3(m3),
            tenant: tenant.into(),
            accounting_entity: accounting_entity.into(),
            default_currency: "USD".to_owned(),
            page_size: 1000,
        }
    }

    /// A source reading BODs published to the ION Data Lake; `accounting_entity` is the one
    /// the identities carry, and documents of other entities are skipped (see [`bods`]).
    ///
    /// ```no_run
    /// # async fn run(client: infor_ion_client::IonClient) {
    /// use infor_ion_client::cloudsuite::CloudSuiteSource;
    /// let source = CloudSuiteSource::data_lake(client.data_lake(), client.tenant(), "300_001")
    ///     .default_currency("EUR");
    /// # let _ = source; }
    /// ```
    pub fn data_lake(
        lake: DataLake,
        tenant: impl Into<String>,
        accounting_entity: impl Into<String>,
    ) -> Self {
        CloudSuiteSource {
            product: Product::DataLake(lake),
            tenant: tenant.into(),
            accounting_entity: accounting_entity.into(),
            default_currency: "USD".to_owned(),
            page_size: 100,
        }
    }

    /// The currency used when a record names none (IDO purchase orders and vouchers carry no
    /// currency of their own; the site's domestic currency applies).
    pub fn default_currency(mut self, currency: impl Into<String>) -> Self {
        self.default_currency = currency.into();
        self
    }

    /// Rows per page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    fn context(&self) -> convert::Context<'_> {
        convert::Context {
            tenant: &self.tenant,
            accounting_entity: &self.accounting_entity,
            default_currency: &self.default_currency,
        }
    }

    fn bod_context(&self) -> bods::BodContext {
        bods::BodContext::new(&self.tenant, &self.accounting_entity)
            .default_currency(&self.default_currency)
    }

    async fn server_time_of<R: bods::FromBod>(
        &self,
        ido: &str,
    ) -> Result<DateTime<Utc>, SourceError> {
        match &self.product {
            Product::DataLake(lake) => bods::server_time::<R>(lake).await,
            Product::Csi(csi) => csi.server_time(ido).await.map_err(source_error),
            Product::M3(m3) => {
                // Any answer carries the gateway's Date header; a one-row supplier list is cheap.
                let request = m3
                    .request(&m3::MiCall::new("CRS620MI", "LstSuppliers").max_records(1))
                    .map_err(source_error)?;
                let response = m3.client().send(request).await.map_err(source_error)?;
                response.server_date().ok_or_else(|| {
                    SourceError::transient("the ION gateway sent no valid Date header")
                })
            }
        }
    }

    fn unsupported(&self, what: &str) -> SourceError {
        SourceError::permanent(format!(
            "{what} cannot be listed over M3 MI; read the published BODs from the Data Lake instead"
        ))
    }
}

/// Convert a client error for the engine, keeping whether a retry may help.
pub(crate) fn source_error(error: Error) -> SourceError {
    SourceError {
        transient: error.is_retryable(),
        message: error.to_string(),
    }
}

fn csi_poll<N: IdoNoun>(csi: &Csi, window: &Window, page_size: u32) -> csi::NounPoll<N> {
    let mut poll = csi.poll::<N>().page_size(page_size);
    if let Some(from) = window.from {
        poll = poll.modified_since(from);
    }
    poll
}

/// Rows of `N` whose `key` property is one of `keys`, grouped by that key (one call per page of
/// parents, in chunks small enough for a URL).
async fn children<N: IdoNoun>(
    csi: &Csi,
    key: &str,
    keys: Vec<String>,
    key_of: impl Fn(&N) -> String,
) -> Result<HashMap<String, Vec<N>>, Error> {
    let mut grouped: HashMap<String, Vec<N>> = HashMap::new();
    for chunk in keys.chunks(100) {
        let rows: Vec<N> = csi
            .poll::<N>()
            .filter(Filter::is_in(key, chunk.iter().cloned())?)
            .page_size(1000)
            .stream()
            .try_collect()
            .await?;
        for row in rows {
            grouped.entry(key_of(&row)).or_default().push(row);
        }
    }
    Ok(grouped)
}

#[async_trait]
impl Source<Supplier> for CloudSuiteSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        self.server_time_of::<Supplier>(csi::nouns::Vendor::IDO)
            .await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<Supplier, SourceError>> {
        let context = self.context();
        match &self.product {
            Product::Csi(csi) => csi_poll::<csi::nouns::Vendor>(csi, &window, self.page_size)
                .stream()
                .map(move |row| {
                    row.and_then(|v| convert::csi_supplier(v, &context))
                        .map_err(source_error)
                })
                .boxed(),
            Product::M3(m3) => m3
                .list::<m3::nouns::Supplier>(Vec::new(), self.page_size)
                .try_filter(move |s| {
                    std::future::ready(convert::changed_since(s.changed_on, window.from))
                })
                .map(move |row| {
                    row.and_then(|s| convert::m3_supplier(s, &context))
                        .map_err(source_error)
                })
                .boxed(),
            Product::DataLake(lake) => {
                bods::poll(lake, window.from, self.page_size, self.bod_context())
            }
        }
    }

    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<Supplier>, SourceError> {
        let context = self.context();
        match &self.product {
            Product::Csi(csi) => {
                let rows: Vec<csi::nouns::Vendor> = csi
                    .poll()
                    .filter(Filter::eq("VendNum", identity.id.as_str()).map_err(source_error)?)
                    .stream()
                    .try_collect()
                    .await
                    .map_err(source_error)?;
                rows.into_iter()
                    .next()
                    .map(|v| convert::csi_supplier(v, &context))
                    .transpose()
                    .map_err(source_error)
            }
            Product::M3(m3) => {
                let inputs = vec![
                    ("FRSU".to_owned(), identity.id.clone()),
                    ("TOSU".to_owned(), identity.id.clone()),
                ];
                let rows: Vec<m3::nouns::Supplier> = m3
                    .list(inputs, 2)
                    .try_collect()
                    .await
                    .map_err(source_error)?;
                rows.into_iter()
                    .find(|s| s.supplier == identity.id)
                    .map(|s| convert::m3_supplier(s, &context))
                    .transpose()
                    .map_err(source_error)
            }
            Product::DataLake(lake) => {
                bods::fetch(lake, identity, self.page_size, &self.bod_context()).await
            }
        }
    }
}

impl CloudSuiteSource {
    fn csi_orders<'a>(
        &'a self,
        csi: &'a Csi,
        poll: csi::NounPoll<csi::nouns::PurchaseOrder>,
    ) -> BoxStream<'a, Result<PurchaseOrder, SourceError>> {
        let context = self.context();
        poll.pages()
            .and_then(move |heads| async move {
                let keys = heads.iter().map(|h| h.po_num.clone()).collect();
                let mut lines =
                    children::<csi::nouns::PoLine>(csi, "PoNum", keys, |l| l.po_num.clone())
                        .await?;
                heads
                    .into_iter()
                    .map(|head| {
                        let head_lines = lines.remove(&head.po_num).unwrap_or_default();
                        convert::csi_purchase_order(head, head_lines, &context)
                    })
                    .collect::<Result<Vec<_>, Error>>()
            })
            .map_ok(|orders| futures::stream::iter(orders.into_iter().map(Ok)))
            .try_flatten()
            .map_err(source_error)
            .boxed()
    }

    /// The POs with a line changed since `from` whose header did not change (those the header
    /// poll already reads are left out).
    fn csi_orders_with_changed_lines<'a>(
        &'a self,
        csi: &'a Csi,
        from: DateTime<Utc>,
    ) -> BoxStream<'a, Result<PurchaseOrder, SourceError>> {
        let numbers = async move {
            let mut numbers = BTreeSet::new();
            let mut changed = csi
                .poll::<csi::nouns::PoLine>()
                .page_size(self.page_size)
                .modified_since(from)
                .stream()
                .boxed();
            while let Some(line) = changed.try_next().await? {
                numbers.insert(line.po_num);
            }
            Ok::<_, Error>(numbers.into_iter().collect::<Vec<_>>())
        };
        futures::stream::once(numbers)
            .map_err(source_error)
            .map_ok(move |numbers| {
                let chunks: Vec<Vec<String>> = numbers.chunks(100).map(<[_]>::to_vec).collect();
                futures::stream::iter(chunks)
                    .map(move |chunk| {
                        let unchanged_heads = Filter::is_in("PoNum", chunk)
                            .and_then(|f| Ok(f.and(Filter::lt("RecordDate", from)?)))
                            .map_err(source_error)?;
                        let poll = csi.poll().filter(unchanged_heads).page_size(self.page_size);
                        Ok(self.csi_orders(csi, poll))
                    })
                    .try_flatten()
            })
            .try_flatten()
            .boxed()
    }

    fn csi_invoices<'a>(
        &'a self,
        csi: &'a Csi,
        poll: csi::NounPoll<csi::nouns::ApVoucher>,
    ) -> BoxStream<'a, Result<SupplierInvoice, SourceError>> {
        let context = self.context();
        poll.pages()
            .and_then(move |vouchers| async move {
                let keys = vouchers.iter().map(|v| v.voucher.clone()).collect();
                let mut lines =
                    children::<csi::nouns::ApVoucherDistribution>(csi, "Voucher", keys, |d| {
                        d.voucher.clone()
                    })
                    .await?;
                vouchers
                    .into_iter()
                    .map(|voucher| {
                        let dists = lines.remove(&voucher.voucher).unwrap_or_default();
                        convert::csi_invoice(voucher, dists, &context)
                    })
                    .collect::<Result<Vec<_>, Error>>()
            })
            .map_ok(|invoices| futures::stream::iter(invoices.into_iter().map(Ok)))
            .try_flatten()
            .map_err(source_error)
            .boxed()
    }
}

#[async_trait]
impl Source<PurchaseOrder> for CloudSuiteSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        self.server_time_of::<PurchaseOrder>(csi::nouns::PurchaseOrder::IDO)
            .await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<PurchaseOrder, SourceError>> {
        match &self.product {
            Product::Csi(csi) => {
                let heads = self.csi_orders(csi, csi_poll(csi, &window, self.page_size));
                match window.from {
                    Some(from) => heads
                        .chain(self.csi_orders_with_changed_lines(csi, from))
                        .boxed(),
                    None => heads,
                }
            }
            Product::M3(_) => {
                futures::stream::once(std::future::ready(Err(self.unsupported("purchase orders"))))
                    .boxed()
            }
            Product::DataLake(lake) => {
                bods::poll(lake, window.from, self.page_size, self.bod_context())
            }
        }
    }

    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<PurchaseOrder>, SourceError> {
        match &self.product {
            Product::Csi(csi) => {
                let poll = csi
                    .poll()
                    .filter(Filter::eq("PoNum", identity.id.as_str()).map_err(source_error)?);
                let mut found: Vec<PurchaseOrder> =
                    self.csi_orders(csi, poll).try_collect().await?;
                Ok(found.pop())
            }
            Product::M3(_) => Err(self.unsupported("purchase orders")),
            Product::DataLake(lake) => {
                bods::fetch(lake, identity, self.page_size, &self.bod_context()).await
            }
        }
    }
}

#[async_trait]
impl Source<SupplierInvoice> for CloudSuiteSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        self.server_time_of::<SupplierInvoice>(csi::nouns::ApVoucher::IDO)
            .await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<SupplierInvoice, SourceError>> {
        match &self.product {
            Product::Csi(csi) => self.csi_invoices(csi, csi_poll(csi, &window, self.page_size)),
            Product::M3(_) => futures::stream::once(std::future::ready(Err(
                self.unsupported("supplier invoices")
            )))
            .boxed(),
            Product::DataLake(lake) => {
                bods::poll(lake, window.from, self.page_size, self.bod_context())
            }
        }
    }

    async fn fetch(
        &self,
        identity: &SourceIdentity,
    ) -> Result<Option<SupplierInvoice>, SourceError> {
        match &self.product {
            Product::Csi(csi) => {
                let poll = csi
                    .poll()
                    .filter(Filter::eq("Voucher", identity.id.as_str()).map_err(source_error)?);
                let mut found: Vec<SupplierInvoice> =
                    self.csi_invoices(csi, poll).try_collect().await?;
                Ok(found.pop())
            }
            Product::M3(_) => Err(self.unsupported("supplier invoices")),
            Product::DataLake(lake) => {
                bods::fetch(lake, identity, self.page_size, &self.bod_context()).await
            }
        }
    }
}

#[async_trait]
impl Source<GlAccount> for CloudSuiteSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        self.server_time_of::<GlAccount>(csi::nouns::GlAccount::IDO)
            .await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<GlAccount, SourceError>> {
        let context = self.context();
        match &self.product {
            // The chart is small and every run needs all of it to report drift.
            Product::Csi(csi) => csi
                .poll::<csi::nouns::GlAccount>()
                .page_size(self.page_size)
                .stream()
                .map(move |row| {
                    row.and_then(|a| convert::csi_gl_account(a, &context))
                        .map_err(source_error)
                })
                .boxed(),
            Product::M3(m3) => {
                let _ = window;
                m3.list::<m3::nouns::GlAccount>(
                    vec![("AITP".to_owned(), "1".to_owned())],
                    self.page_size,
                )
                .map(move |row| {
                    row.and_then(|a| convert::m3_gl_account(a, &context))
                        .map_err(source_error)
                })
                .boxed()
            }
            // As over IDO, the whole chart every run (the newest variation of each account).
            Product::DataLake(lake) => bods::poll(lake, None, self.page_size, self.bod_context()),
        }
    }

    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<GlAccount>, SourceError> {
        let all: Vec<GlAccount> = self
            .poll(Window {
                from: None,
                ceiling: DateTime::<Utc>::MAX_UTC,
            })
            .try_collect()
            .await?;
        Ok(all.into_iter().find(|a| a.code == identity.id))
    }
}
