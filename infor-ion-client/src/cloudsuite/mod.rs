//! One CloudSuite source for the sync engine, whichever product the tenant runs.
//!
//! [`CloudSuiteSource`] implements sync-core's [`Source`] for suppliers, purchase orders,
//! supplier invoices and GL accounts, converting each product's typed records into the canonical
//! model, so the sync does not care where a record came from:
//!
//! | record | CloudSuite Industrial (IDO) | M3 (MI) | Data Lake BODs (any product) |
//! |---|---|---|---|
//! | supplier | `SLVendors` | `CRS620MI/LstSuppliers` | `SyncSupplierPartyMaster` |
//! | purchase order | `SLPos` + `SLPoItems` | `PPS200MI/SearchHead` + `GetHead` + `LstLine` | `SyncPurchaseOrder` (lines included) |
//! | supplier invoice | `SLAptrxs` + `SLAptrxds` | `APS200MI/SearchSupInvoic` + `GetInvoice`, `APS450MI` batch lines | `SyncSupplierInvoice` (lines included) |
//! | GL account | `SLCharts` | `CRS630MI/LstAccountID` | `SyncChartOfAccounts` |
//!
//! Over IDO, windows are read incrementally by `RecordDate >= from`; related rows (PO lines,
//! voucher distributions) are fetched once per page with an `IN` filter, not once per record.
//! A PO whose lines changed while its header did not (a quantity edited, a receipt posted) is
//! found too: the window also reads the `SLPoItems` rows changed since `from` and adds their
//! POs, and a PO's `modified_at` is the newest of its header and lines.
//! M3 suppliers are selected by M3 itself: `CRS620MI/LstSuppliers` with `LMTS` (the change
//! timestamp, see [`m3::nouns::lmts`]) one millisecond before the window's start, paged by
//! `FRSU` until a call adds no new supplier. The list's documented output has neither status
//! nor change date: each supplier's status comes from `CRS620MI/GetBasicData` (unless the
//! tenant returns it in the list) through a [`SupplierStatusMap`], and its `modified_at` is the
//! window's upper bound unless the tenant returns a change date. A status that cannot be read
//! or mapped is never "active": it takes the map's `other` status and leaves a warning
//! ([`CloudSuiteSource::take_warnings`]). Every MI call runs in the company and division of the
//! [`M3`] handle given.
//! M3 purchase orders and supplier invoices are found with M3's search transactions and read
//! with their get/list transactions (see `m3_purchases`: no change-date input, so each window
//! lists what the configured query selects and unchanged records are skipped by the engine).
//! From the Data Lake, windows list the published BODs by `event_date >= from`, keep the newest
//! `variationID` of each document and skip `Delete`s (see [`bods`]). Any stream can be read
//! from the Data Lake while the others use the product's API ([`CloudSuiteSource::route`]).
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
mod fit;
mod m3_purchases;
pub mod m3_returns;
mod m3_suppliers;
#[cfg(feature = "ims-receiver")]
#[cfg_attr(docsrs, doc(cfg(feature = "ims-receiver")))]
pub mod push;
pub mod returns;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use sync_core::error::SourceError;
use sync_core::model::{GlAccount, PurchaseOrder, SourceIdentity, Supplier, SupplierInvoice};
use sync_core::source::{Source, Window, fetch_each};
use sync_core::store::StreamId;

use crate::csi::{self, Csi, Filter, IdoNoun, PropertyMap};
use crate::error::Error;
use crate::m3::{self, M3};
use crate::transport::datalake::DataLake;

pub use convert::SYSTEM;
pub use fit::{
    BookmarkProbe, CSI_NOUNS, Distributions, FitReport, NounCheck, ReadFrom, RecordDateProbe,
    SCHEMA_TTL, mi_config_key,
};
pub use m3_purchases::{
    DEFAULT_INVOICE_QUERY, DEFAULT_PO_QUERY, M3Queries, RecordKind, invoice_id,
};
pub use m3_suppliers::{STATUS_TRANSACTION, SupplierStatusMap};

/// What [`CloudSuiteSource::probe_lmts`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LmtsProbe {
    /// A stamp a day ahead selects nothing, one a century back selects suppliers: incremental
    /// reads select what changed.
    Selects,
    /// The company has no supplier: nothing to test.
    NoSuppliers,
    /// A stamp a day ahead still selects suppliers: `LMTS` is ignored or read in another
    /// format, so every run reads every supplier (nothing is lost; unchanged ones are skipped).
    FutureSelects,
    /// A stamp a century back selects nothing: `LMTS` is read in another format, and
    /// incremental runs would miss every change.
    PastSelectsNothing,
}

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
    /// CSI: how the tenant shapes each noun, by standard IDO name.
    maps: Arc<fit::Maps>,
    /// CSI: where invoice GL allocations come from.
    distributions: Distributions,
    /// CSI: the nouns' checked schemas, shared by clones.
    schemas: Arc<fit::SchemaCache>,
    /// M3: how supplier status codes map to the canonical status.
    supplier_status: SupplierStatusMap,
    /// M3: warnings of the supplier reads since [`take_warnings`](Self::take_warnings), shared
    /// by clones.
    warnings: m3_suppliers::Warnings,
    /// Record kinds read as BODs from the Data Lake instead of the product's API.
    lake_routes: BTreeMap<RecordKind, DataLake>,
    /// M3: the search queries of the purchase-order and supplier-invoice MI routes.
    m3_queries: M3Queries,
    /// The sync store BOD streams keep variations in and queue deletions to.
    store: Option<bods::BodStore>,
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
            maps: Arc::default(),
            distributions: Distributions::default(),
            schemas: Arc::default(),
            supplier_status: SupplierStatusMap::default(),
            warnings: m3_suppliers::Warnings::default(),
            lake_routes: BTreeMap::new(),
            m3_queries: M3Queries::default(),
            store: None,
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
            maps: Arc::default(),
            distributions: Distributions::default(),
            schemas: Arc::default(),
            supplier_status: SupplierStatusMap::default(),
            warnings: m3_suppliers::Warnings::default(),
            lake_routes: BTreeMap::new(),
            m3_queries: M3Queries::default(),
            store: None,
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
            maps: Arc::default(),
            distributions: Distributions::default(),
            schemas: Arc::default(),
            supplier_status: SupplierStatusMap::default(),
            warnings: m3_suppliers::Warnings::default(),
            lake_routes: BTreeMap::new(),
            m3_queries: M3Queries::default(),
            store: None,
        }
    }

    /// The currency used when a record names none (IDO purchase orders and vouchers carry no
    /// currency of their own; the site's domestic currency applies).
    pub fn default_currency(mut self, currency: impl Into<String>) -> Self {
        self.default_currency = currency.into();
        self
    }

    /// For streams read from the Data Lake, use the sync store: the newest `variationID` seen
    /// of each BOD document is kept there, so a variation older than one seen in an earlier
    /// window is dropped instead of overwriting newer data; and a document a window reads as
    /// deleted is queued on its stream's [push queue](sync_core::engine::queue::push_queue),
    /// where a runner [with pushes](sync_core::runner::TenantRunner::with_pushes) applies the
    /// stream's delete policy. See [`bods`].
    pub fn store(mut self, store: Arc<dyn sync_core::store::SyncStore>) -> Self {
        self.store = Some(bods::BodStore(store));
        self
    }

    /// Whether any stream is read as BODs from the Data Lake.
    pub fn reads_bods(&self) -> bool {
        matches!(self.product, Product::DataLake(_)) || !self.lake_routes.is_empty()
    }

    /// Rows per page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// CloudSuite Industrial: read the noun whose standard IDO is `noun` (e.g. `SLVendors`)
    /// through `map`: from another IDO, with renamed properties. Properties the tenant's IDO
    /// lacks need no entry: the schema check finds them (see [`check_fit`](Self::check_fit)).
    ///
    /// ```no_run
    /// # async fn run(client: infor_ion_client::IonClient) {
    /// use infor_ion_client::cloudsuite::CloudSuiteSource;
    /// use infor_ion_client::csi::PropertyMap;
    ///
    /// let source = CloudSuiteSource::csi(client.csi("ACME_PRD_DALS"), "DALS").property_map(
    ///     "SLVendors",
    ///     PropertyMap::default().ido("ACME_Vendors").rename("Name", "VendorName"),
    /// );
    /// # let _ = source; }
    /// ```
    pub fn property_map(mut self, noun: impl Into<String>, map: PropertyMap) -> Self {
        Arc::make_mut(&mut self.maps).insert(noun.into(), map);
        self
    }

    /// M3: how supplier status codes (`STAT`) map to the canonical status (default: `20`
    /// active, `90` and anything else inactive, i.e. Cin7 Deprecated). A code the map does not
    /// name, or a status that cannot be read, takes [`SupplierStatusMap::other`] and leaves a
    /// warning ([`take_warnings`](Self::take_warnings)).
    pub fn supplier_status(mut self, map: SupplierStatusMap) -> Self {
        self.supplier_status = map;
        self
    }

    /// The warnings the reads left since the last call, one line per reason (e.g. suppliers
    /// whose M3 status could not be read or is not in the status map, naming the status they
    /// were written with), for the run summary; the list is emptied. Shared by clones.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings.take()
    }

    /// CloudSuite Industrial: where supplier invoices' GL allocations come from (default: the
    /// distribution IDO).
    pub fn distributions(mut self, distributions: Distributions) -> Self {
        self.distributions = distributions;
        self
    }

    /// The map a noun is read through, as configured (before the schema check).
    fn map_of<N: IdoNoun>(&self) -> PropertyMap {
        let map = self.maps.get(N::IDO).cloned().unwrap_or_default();
        match (&self.distributions, N::IDO) {
            (Distributions::VoucherProperty(property), csi::nouns::ApVoucher::IDO) => {
                map.extra([property.clone()])
            }
            _ => map,
        }
    }

    /// The map a noun is read through on this tenant: the configured one with the properties
    /// the tenant's IDO lacks left out. Fails, before any row is read, when the IDO cannot be
    /// read or lacks a required property.
    async fn adapted<N: IdoNoun>(&self, csi: &Csi) -> Result<PropertyMap, SourceError> {
        let map = self.map_of::<N>();
        let fit = self.schemas.fit::<N>(csi, &map).await.map_err(|e| {
            let mut error = source_error(e);
            error.message = fit::unreadable(
                &format!("IDO {}", map.ido_name(N::IDO)),
                &csi::ido_config_key(N::IDO),
                &error.message,
            );
            error
        })?;
        match fit.error() {
            Some(error) => Err(source_error(error)),
            None => Ok(fit.adapted(map)),
        }
    }

    /// Check, read-only, that the tenant can serve every noun these streams read.
    ///
    /// - CloudSuite Industrial: each IDO's schema against what the noun needs (cached per
    ///   process, refreshed after [`SCHEMA_TTL`]), and one row read to prove it readable.
    /// - M3: one row of each list transaction with the noun's mapped output fields
    ///   (`returncols`, empty fields kept), compared with what the noun needs; purchase orders
    ///   and supplier invoices: one row of their search (`SearchHead`, `SearchSupInvoic`)
    ///   with the configured query, the config key being the stream's route
    ///   (`ion.routes.purchase_orders`), so a tenant that cannot serve it is told to route it
    ///   to the Data Lake.
    /// - The Data Lake, and streams routed there: nothing to check.
    pub async fn check_fit(&self, streams: &[StreamId]) -> FitReport {
        let mut checks = Vec::new();
        for stream in streams {
            // A stream routed to the Data Lake has nothing to check, as for that product.
            if RecordKind::of_stream(&stream.0).is_some_and(|k| self.lake_for(k).is_some()) {
                continue;
            }
            match &self.product {
                Product::Csi(csi) => self.check_csi_stream(csi, stream, &mut checks).await,
                Product::M3(m3) => self.check_m3_stream(m3, stream, &mut checks).await,
                Product::DataLake(_) => {}
            }
            // ION not reached at all: every further check would wait out the same retries to
            // say the same thing.
            if checks.iter().any(|c| !c.reached) {
                break;
            }
        }
        FitReport { checks }
    }

    async fn check_csi_stream(&self, csi: &Csi, stream: &StreamId, checks: &mut Vec<NounCheck>) {
        use csi::nouns::{ApVoucher, ApVoucherDistribution, GlAccount, PoLine, Vendor};
        match stream.0.as_str() {
            "suppliers" => checks.push(self.check_noun::<Vendor>(csi, stream).await),
            "purchase_orders" => {
                checks.push(
                    self.check_noun::<csi::nouns::PurchaseOrder>(csi, stream)
                        .await,
                );
                checks.push(self.check_noun::<PoLine>(csi, stream).await);
            }
            "supplier_invoices" => {
                checks.push(self.check_noun::<ApVoucher>(csi, stream).await);
                if self.distributions == Distributions::Ido {
                    checks.push(self.check_noun::<ApVoucherDistribution>(csi, stream).await);
                }
            }
            "gl_accounts" => checks.push(self.check_noun::<GlAccount>(csi, stream).await),
            // Other streams (the return direction) read no IDO through this source.
            _ => {}
        }
    }

    async fn check_m3_stream(&self, m3: &M3, stream: &StreamId, checks: &mut Vec<NounCheck>) {
        match stream.0.as_str() {
            "suppliers" => {
                let list = self.check_mi::<m3::nouns::Supplier>(m3, stream, &[]).await;
                let listed = list.is_usable();
                checks.push(list);
                if listed && let Some(check) = self.check_m3_status(m3, stream).await {
                    checks.push(check);
                }
            }
            "gl_accounts" => checks.push(
                self.check_mi::<m3::nouns::GlAccount>(m3, stream, &M3_GL_INPUTS)
                    .await,
            ),
            "purchase_orders" => {
                let query = self.m3_queries.purchase_orders.clone();
                let mut check = self
                    .check_mi::<m3::nouns::PurchaseOrderSearch>(m3, stream, &[("SQRY", &query)])
                    .await;
                check.config_key = "ion.routes.purchase_orders".to_owned();
                checks.push(check);
            }
            "supplier_invoices" => {
                let query = self.m3_queries.supplier_invoices.clone();
                let mut check = self
                    .check_mi::<m3::nouns::SupplierInvoiceSearch>(m3, stream, &[("SQRY", &query)])
                    .await;
                check.config_key = "ion.routes.supplier_invoices".to_owned();
                checks.push(check);
            }
            _ => {}
        }
    }

    /// Where the suppliers' status comes from, when the list does not return it: one
    /// supplier's `CRS620MI/GetBasicData`, expected to carry `STAT`. A status that cannot be
    /// read there is a warning (suppliers are then written with the status map's `other`
    /// status, never as active). `None` when the list returns the status (its own check covers
    /// it) or the company has no supplier.
    async fn check_m3_status(&self, m3: &M3, stream: &StreamId) -> Option<NounCheck> {
        let layout = m3.layout::<m3::nouns::Supplier>().ok()?;
        if layout.reads("status") {
            return None;
        }
        let (program, transaction) = STATUS_TRANSACTION;
        let mut check = NounCheck {
            stream: stream.clone(),
            noun: "Supplier",
            read_from: fit::ReadFrom::Mi,
            ido: format!("{program}/{transaction}"),
            config_key: fit::mi_config_key("Supplier"),
            outcome: Err(String::new()),
            reached: true,
        };
        let key = layout.column("supplier")?.to_owned();
        let call = m3::MiCall::new(layout.program(), layout.transaction())
            .max_records(1)
            .return_columns([key.clone()]);
        let first = match m3.execute(call).await {
            Ok(rows) => rows.first()?.text(&key)?.to_owned(),
            Err(error) => {
                check.reached = error.answered();
                check.outcome = Err(error.to_string());
                return Some(check);
            }
        };
        check.outcome = match m3_suppliers::basic_data_status(m3, &first).await {
            Ok(m3_suppliers::StatusRead::Code(_)) => Ok(csi::NounFit {
                noun: "Supplier",
                ido: check.ido.clone(),
                missing: Vec::new(),
            }),
            Ok(m3_suppliers::StatusRead::Unreadable(_)) => Ok(csi::NounFit {
                noun: "Supplier",
                ido: check.ido.clone(),
                missing: vec![csi::MissingProperty {
                    standard: "status".to_owned(),
                    site: "STAT".to_owned(),
                    required: false,
                    config_key: "ion.mi.Supplier.fields.status".to_owned(),
                }],
            }),
            Err(error) => {
                check.reached = error.answered();
                Err(error.to_string())
            }
        };
        Some(check)
    }

    /// One row of `N`'s list with its mapped output fields, compared with the fields `N` reads.
    async fn check_mi<N: m3::nouns::MiNoun>(
        &self,
        m3: &M3,
        stream: &StreamId,
        inputs: &[(&str, &str)],
    ) -> NounCheck {
        let mut check = NounCheck {
            stream: stream.clone(),
            noun: N::NAME,
            read_from: fit::ReadFrom::Mi,
            ido: N::NAME.to_owned(),
            config_key: fit::mi_config_key(N::NAME),
            outcome: Err(String::new()),
            reached: true,
        };
        let layout = match m3.layout::<N>() {
            Ok(layout) => layout,
            Err(error) => {
                check.outcome = Err(error.to_string());
                return check;
            }
        };
        check.ido = layout.name();
        let call = inputs.iter().fold(
            m3::MiCall::new(layout.program(), layout.transaction())
                .return_columns(layout.return_columns())
                .keep_empty_fields()
                .max_records(1),
            |call, (field, value)| call.input(*field, *value),
        );
        check.outcome = match m3.execute(call).await {
            Err(error) => {
                check.reached = error.answered();
                Err(error.to_string())
            }
            // No row: nothing to compare; the list itself answered.
            Ok(rows) => Ok(csi::NounFit {
                noun: N::NAME,
                ido: layout.name(),
                missing: rows
                    .first()
                    .map(|row| {
                        layout
                            .fields()
                            .filter(|(_, column, _)| !row.values().contains_key(*column))
                            .map(|(field, column, required)| csi::MissingProperty {
                                standard: field.to_owned(),
                                site: column.to_owned(),
                                required,
                                config_key: format!("ion.mi.{}.fields.{field}", N::NAME),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
        };
        check
    }

    /// CloudSuite Industrial: read two one-row pages of the suppliers' IDO by bookmark, to
    /// prove the tenant pages the way the reads rely on (`None` for other products).
    pub async fn probe_bookmark_paging(&self) -> Result<Option<BookmarkProbe>, Error> {
        let Product::Csi(csi) = &self.product else {
            return Ok(None);
        };
        let map = self.map_of::<csi::nouns::Vendor>();
        let key = map.site_name("VendNum").to_owned();
        let load = csi
            .load(map.ido_name(csi::nouns::Vendor::IDO))
            .properties([key.clone()])
            .order_by([key.clone()])
            .record_cap(1);
        let first = load.page(None).await?;
        if !first.more_rows {
            return Ok(Some(BookmarkProbe::SingleRow));
        }
        let second = load.page(first.bookmark.as_deref()).await?;
        let key_of = |page: &csi::IdoPage| {
            page.items
                .first()
                .and_then(|i| i.record.text(&key).map(str::to_owned))
        };
        Ok(Some(
            if second.items.is_empty() || key_of(&first) == key_of(&second) {
                BookmarkProbe::Stuck
            } else {
                BookmarkProbe::Advances
            },
        ))
    }

    /// CloudSuite Industrial: the newest `RecordDate` of the suppliers' IDO against the
    /// gateway's clock, read as wall time in the configured zone
    /// ([`Csi::with_record_date_zone`](crate::csi::Csi::with_record_date_zone)), to estimate
    /// which zone the tenant stamps in (`None` for other products).
    pub async fn probe_record_date(&self) -> Result<Option<RecordDateProbe>, Error> {
        let Product::Csi(csi) = &self.product else {
            return Ok(None);
        };
        let map = self.map_of::<csi::nouns::Vendor>();
        let ido = map.ido_name(csi::nouns::Vendor::IDO).to_owned();
        let stamp = map.site_name("RecordDate").to_owned();
        let gateway = csi.server_time(&ido).await?;
        let page = csi
            .load(ido.clone())
            .properties([stamp.clone()])
            .order_by([format!("{stamp} DESC")])
            .record_cap(1)
            .page(None)
            .await?;
        let newest = page
            .items
            .first()
            .and_then(|item| item.record.text(&stamp))
            .and_then(crate::values::parse_wall_time);
        Ok(Some(RecordDateProbe {
            ido,
            newest,
            gateway,
            zone: csi.record_date_zone(),
        }))
    }

    async fn check_noun<N: IdoNoun>(&self, csi: &Csi, stream: &StreamId) -> NounCheck {
        let map = self.map_of::<N>();
        let fit = self.schemas.fit::<N>(csi, &map).await;
        NounCheck {
            stream: stream.clone(),
            noun: N::IDO,
            read_from: fit::ReadFrom::Ido,
            ido: map.ido_name(N::IDO).to_owned(),
            config_key: csi::ido_config_key(N::IDO),
            reached: fit.as_ref().err().is_none_or(Error::answered),
            outcome: fit.map_err(|e| e.to_string()),
        }
    }

    /// A typed poll of `N` through its adapted map (the schema checked first).
    fn csi_poll<'a, N: IdoNoun>(
        &'a self,
        csi: &'a Csi,
        build: impl FnOnce(csi::NounPoll<N>, &PropertyMap) -> Result<csi::NounPoll<N>, Error>
        + Send
        + 'a,
    ) -> BoxStream<'a, Result<csi::NounPoll<N>, SourceError>> {
        futures::stream::once(async move {
            let map = self.adapted::<N>(csi).await?;
            let poll = csi
                .poll::<N>()
                .page_size(self.page_size)
                .property_map(map.clone());
            build(poll, &map).map_err(source_error)
        })
        .boxed()
    }

    fn context(&self) -> convert::Context<'_> {
        convert::Context {
            tenant: &self.tenant,
            accounting_entity: &self.accounting_entity,
            default_currency: &self.default_currency,
        }
    }

    /// The tenant, accounting entity and default currency this source's identities carry, as
    /// a [`BodContext`](bods::BodContext): what a push intake reads pushed BODs with, so their
    /// records match the ones this source reads.
    pub fn bod_context(&self) -> bods::BodContext {
        bods::BodContext {
            store: self.store.clone(),
            ..bods::BodContext::new(&self.tenant, &self.accounting_entity)
                .default_currency(&self.default_currency)
        }
    }

    /// Records of `kind` by identity: from BODs, one read of the document's history for all
    /// (the Data Lake has no lookup by id); otherwise one `fetch` each.
    async fn fetch_many_of<R>(
        &self,
        kind: RecordKind,
        identities: &[SourceIdentity],
    ) -> Vec<Result<Option<R>, SourceError>>
    where
        R: bods::FromBod,
        CloudSuiteSource: Source<R>,
    {
        match self.bod_lake(kind) {
            Some(lake) => {
                bods::fetch_many(lake, identities, self.page_size, &self.bod_context()).await
            }
            None => fetch_each(self, identities).await,
        }
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
}

/// The inputs the M3 chart of accounts is listed with: accounting dimension 1 (`AITP`, required
/// by `CRS630MI/LstAccountID`).
const M3_GL_INPUTS: [(&str, &str); 1] = [("AITP", "1")];

/// Convert a client error for the engine, keeping whether a retry may help.
/// The error itself is kept as the typed source ([`SourceError::source_as`]).
pub(crate) fn source_error(error: Error) -> SourceError {
    let message = sdk_common::report::chain(&error);
    let converted = if error.is_retryable() {
        SourceError::transient(message)
    } else {
        SourceError::permanent(message)
    };
    converted.with_source(error)
}

/// The window's lower bound on a poll.
fn since<N: IdoNoun>(poll: csi::NounPoll<N>, window: &Window) -> csi::NounPoll<N> {
    match window.from {
        Some(from) => poll.modified_since(from),
        None => poll,
    }
}

/// `property = value` on the tenant's name of the standard `property`.
fn key_filter(map: &PropertyMap, property: &str, value: &str) -> Result<Filter, Error> {
    Filter::eq(map.site_name(property), value)
}

/// Rows of `N` whose `key` property (standard name) is one of `keys`, grouped by that key (one
/// call per page of parents, in chunks small enough for a URL).
async fn children<N: IdoNoun>(
    csi: &Csi,
    map: &PropertyMap,
    key: &str,
    keys: Vec<String>,
    key_of: impl Fn(&N) -> String,
) -> Result<HashMap<String, Vec<N>>, Error> {
    let mut grouped: HashMap<String, Vec<N>> = HashMap::new();
    for chunk in keys.chunks(100) {
        let rows: Vec<N> = csi
            .poll::<N>()
            .property_map(map.clone())
            .filter(Filter::is_in(map.site_name(key), chunk.iter().cloned())?)
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

/// The rows of a stream of polls, one after the other.
fn rows_of<'a, N: IdoNoun>(
    polls: BoxStream<'a, Result<csi::NounPoll<N>, SourceError>>,
) -> BoxStream<'a, Result<N, SourceError>> {
    polls
        .map_ok(|poll| poll.stream().map_err(source_error))
        .try_flatten()
        .boxed()
}

#[async_trait]
impl Source<Supplier> for CloudSuiteSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        if let Some(lake) = self.lake_for(RecordKind::Suppliers) {
            return bods::server_time::<Supplier>(lake).await;
        }
        self.server_time_of::<Supplier>(csi::nouns::Vendor::IDO)
            .await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<Supplier, SourceError>> {
        let context = self.context();
        if let Some(lake) = self.lake_for(RecordKind::Suppliers) {
            return bods::poll(lake, window.from, self.page_size, self.bod_context());
        }
        match &self.product {
            Product::Csi(csi) => rows_of(
                self.csi_poll::<csi::nouns::Vendor>(csi, move |poll, _| Ok(since(poll, &window))),
            )
            .map(move |row| {
                row.and_then(|v| convert::csi_supplier(v, &context).map_err(source_error))
            })
            .boxed(),
            Product::M3(m3) => {
                // The standard list selects by `LMTS` itself; a tenant's own transaction (whose
                // inputs we do not know) is listed whole and filtered by its change date, when
                // it returns one.
                let (inputs, filter_from) = match window.from {
                    Some(from) if m3_standard_supplier_list(m3) => {
                        (vec![("LMTS".to_owned(), m3::nouns::lmts(from))], None)
                    }
                    from => (Vec::new(), from),
                };
                self.m3_suppliers(m3, inputs, filter_from, window.ceiling)
            }
            Product::DataLake(lake) => {
                bods::poll(lake, window.from, self.page_size, self.bod_context())
            }
        }
    }

    async fn fetch_many(
        &self,
        identities: &[SourceIdentity],
    ) -> Vec<Result<Option<Supplier>, SourceError>> {
        self.fetch_many_of(RecordKind::Suppliers, identities).await
    }

    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<Supplier>, SourceError> {
        let context = self.context();
        if let Some(lake) = self.lake_for(RecordKind::Suppliers) {
            return bods::fetch(lake, identity, self.page_size, &self.bod_context()).await;
        }
        match &self.product {
            Product::Csi(csi) => {
                let id = identity.id.clone();
                let rows: Vec<csi::nouns::Vendor> =
                    rows_of(self.csi_poll(csi, move |poll, map| {
                        Ok(poll.filter(key_filter(map, "VendNum", &id)?))
                    }))
                    .try_collect()
                    .await?;
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
                // Read now: the gateway's clock stands in for a change date the list lacks.
                let read_at = Source::<Supplier>::server_time(self).await?;
                let rows: Vec<Supplier> = self
                    .m3_suppliers(m3, inputs, None, read_at)
                    .try_collect()
                    .await?;
                Ok(rows.into_iter().find(|s| s.vendor_id == identity.id))
            }
            Product::DataLake(lake) => {
                bods::fetch(lake, identity, self.page_size, &self.bod_context()).await
            }
        }
    }
}

/// Whether suppliers are read with M3's own `CRS620MI/LstSuppliers` (which takes `LMTS`).
fn m3_standard_supplier_list(m3: &M3) -> bool {
    use m3::nouns::MiNoun;
    m3.layout::<m3::nouns::Supplier>().is_ok_and(|layout| {
        layout.program() == m3::nouns::Supplier::PROGRAM
            && layout.transaction() == m3::nouns::Supplier::TRANSACTION
    })
}

impl CloudSuiteSource {
    /// M3 suppliers listed with `inputs` (kept when their change date, if the tenant returns
    /// one, is on or after `filter_from`), each with its status read from where M3 holds it
    /// and mapped through the status map; a status that cannot be read or mapped leaves a
    /// warning. `read_at` is the `modified_at` of suppliers without a change date.
    fn m3_suppliers<'a>(
        &'a self,
        m3: &'a M3,
        inputs: Vec<(String, String)>,
        filter_from: Option<DateTime<Utc>>,
        read_at: DateTime<Utc>,
    ) -> BoxStream<'a, Result<Supplier, SourceError>> {
        let context = self.context();
        m3.list::<m3::nouns::Supplier>(inputs, self.page_size)
            .try_filter(move |s| {
                std::future::ready(convert::changed_since(s.changed_on, filter_from))
            })
            .map_ok(move |s| async move {
                let read = m3_suppliers::read_status(m3, &s).await?;
                Ok((s, read))
            })
            // A few status reads in flight at once; the order of the list is kept.
            .try_buffered(4)
            .map(move |row| {
                let (s, read) = row.map_err(source_error)?;
                let (status, warning) = self.supplier_status.resolve(&read);
                if let Some(warning) = warning {
                    self.warnings.add(warning, &s.supplier);
                }
                Ok(convert::m3_supplier(s, status, read_at, &context))
            })
            .boxed()
    }

    /// M3: whether `CRS620MI/LstSuppliers` selects by `LMTS` as the source sends it
    /// ([`m3::nouns::lmts`]: milliseconds since 1970 UTC): a stamp a day ahead must select no
    /// supplier, one a century back must select one. `None` for other products and for a
    /// tenant's own supplier transaction.
    pub async fn probe_lmts(&self) -> Result<Option<LmtsProbe>, Error> {
        let Product::M3(m3) = &self.product else {
            return Ok(None);
        };
        if !m3_standard_supplier_list(m3) || self.lake_for(RecordKind::Suppliers).is_some() {
            return Ok(None);
        }
        let layout = m3.layout::<m3::nouns::Supplier>()?;
        let key = layout.column("supplier").unwrap_or("SUNO").to_owned();
        let one = |stamp: Option<String>| {
            let call = m3::MiCall::new(layout.program(), layout.transaction())
                .max_records(1)
                .return_columns([key.clone()]);
            match stamp {
                Some(stamp) => call.input("LMTS", stamp),
                None => call,
            }
        };
        if m3.execute(one(None)).await?.is_empty() {
            return Ok(Some(LmtsProbe::NoSuppliers));
        }
        // A day ahead and a century back: the local clock is close enough for either.
        let now = Utc::now();
        let ahead = m3
            .execute(one(Some(m3::nouns::lmts(now + chrono::Duration::days(1)))))
            .await?;
        let back = m3
            .execute(one(Some(m3::nouns::lmts(
                now - chrono::Duration::days(36_500),
            ))))
            .await?;
        Ok(Some(match (ahead.is_empty(), back.is_empty()) {
            (true, false) => LmtsProbe::Selects,
            (false, _) => LmtsProbe::FutureSelects,
            (true, true) => LmtsProbe::PastSelectsNothing,
        }))
    }

    /// Purchase orders: each page of headers with its lines, read in one call per page.
    fn csi_orders<'a>(
        &'a self,
        csi: &'a Csi,
        polls: BoxStream<'a, Result<csi::NounPoll<csi::nouns::PurchaseOrder>, SourceError>>,
    ) -> BoxStream<'a, Result<PurchaseOrder, SourceError>> {
        let context = self.context();
        polls
            .map_ok(|poll| poll.pages().map_err(source_error))
            .try_flatten()
            .and_then(move |heads| async move {
                let line_map = self.adapted::<csi::nouns::PoLine>(csi).await?;
                let keys = heads.iter().map(|h| h.po_num.clone()).collect();
                let mut lines =
                    children::<csi::nouns::PoLine>(csi, &line_map, "PoNum", keys, |l| {
                        l.po_num.clone()
                    })
                    .await
                    .map_err(source_error)?;
                heads
                    .into_iter()
                    .map(|head| {
                        let head_lines = lines.remove(&head.po_num).unwrap_or_default();
                        convert::csi_purchase_order(head, head_lines, &context)
                    })
                    .collect::<Result<Vec<_>, Error>>()
                    .map_err(source_error)
            })
            .map_ok(|orders| futures::stream::iter(orders.into_iter().map(Ok)))
            .try_flatten()
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
            let mut changed =
                rows_of(self.csi_poll::<csi::nouns::PoLine>(csi, move |poll, _| {
                    Ok(poll.modified_since(from))
                }));
            while let Some(line) = changed.try_next().await? {
                numbers.insert(line.po_num);
            }
            Ok::<_, SourceError>(numbers.into_iter().collect::<Vec<_>>())
        };
        futures::stream::once(numbers)
            .map_ok(move |numbers| {
                let chunks: Vec<Vec<String>> = numbers.chunks(100).map(<[_]>::to_vec).collect();
                futures::stream::iter(chunks)
                    .map(move |chunk| {
                        let heads = self.csi_poll(csi, move |poll, map| {
                            // The complement of the header poll's `>=` bound, in the same
                            // zone-aware wall time.
                            let bound = csi::FilterValue::since_in(from, csi.record_date_zone());
                            let unchanged = Filter::is_in(map.site_name("PoNum"), chunk)?
                                .and(Filter::lt(map.site_name("RecordDate"), bound)?);
                            Ok(poll.filter(unchanged))
                        });
                        Ok(self.csi_orders(csi, heads))
                    })
                    .try_flatten()
            })
            .try_flatten()
            .boxed()
    }

    /// Supplier invoices: each page of vouchers with its GL allocation, from the distribution
    /// IDO (one call per page) or from the voucher itself, as configured.
    fn csi_invoices<'a>(
        &'a self,
        csi: &'a Csi,
        polls: BoxStream<'a, Result<csi::NounPoll<csi::nouns::ApVoucher>, SourceError>>,
    ) -> BoxStream<'a, Result<SupplierInvoice, SourceError>> {
        let context = self.context();
        polls
            .map_ok(|poll| poll.pages().map_err(source_error))
            .try_flatten()
            .and_then(move |vouchers| async move {
                let invoices: Result<Vec<_>, Error> = match &self.distributions {
                    fit::Distributions::Ido => {
                        let map = self
                            .adapted::<csi::nouns::ApVoucherDistribution>(csi)
                            .await?;
                        let keys = vouchers.iter().map(|v| v.voucher.clone()).collect();
                        let mut lines = children::<csi::nouns::ApVoucherDistribution>(
                            csi,
                            &map,
                            "Voucher",
                            keys,
                            |d| d.voucher.clone(),
                        )
                        .await
                        .map_err(source_error)?;
                        vouchers
                            .into_iter()
                            .map(|voucher| {
                                let dists = lines.remove(&voucher.voucher).unwrap_or_default();
                                convert::csi_invoice(voucher, dists, &context)
                            })
                            .collect()
                    }
                    fit::Distributions::VoucherProperty(property) => vouchers
                        .into_iter()
                        .map(|voucher| {
                            let account = voucher.raw.required(property).map(str::to_owned)?;
                            convert::csi_invoice_to_account(voucher, account, &context)
                        })
                        .collect(),
                    fit::Distributions::DefaultAccount(account) => vouchers
                        .into_iter()
                        .map(|voucher| {
                            convert::csi_invoice_to_account(voucher, account.clone(), &context)
                        })
                        .collect(),
                };
                invoices.map_err(source_error)
            })
            .map_ok(|invoices| futures::stream::iter(invoices.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}

#[async_trait]
impl Source<PurchaseOrder> for CloudSuiteSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        if let Some(lake) = self.lake_for(RecordKind::PurchaseOrders) {
            return bods::server_time::<PurchaseOrder>(lake).await;
        }
        self.server_time_of::<PurchaseOrder>(csi::nouns::PurchaseOrder::IDO)
            .await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<PurchaseOrder, SourceError>> {
        if let Some(lake) = self.lake_for(RecordKind::PurchaseOrders) {
            return bods::poll(lake, window.from, self.page_size, self.bod_context());
        }
        match &self.product {
            Product::Csi(csi) => {
                let from = window.from;
                let heads = self.csi_orders(
                    csi,
                    self.csi_poll(csi, move |poll, _| Ok(since(poll, &window))),
                );
                match from {
                    Some(from) => heads
                        .chain(self.csi_orders_with_changed_lines(csi, from))
                        .boxed(),
                    None => heads,
                }
            }
            Product::M3(m3) => self.m3_orders(m3, window.from, window.ceiling),
            Product::DataLake(lake) => {
                bods::poll(lake, window.from, self.page_size, self.bod_context())
            }
        }
    }

    async fn fetch_many(
        &self,
        identities: &[SourceIdentity],
    ) -> Vec<Result<Option<PurchaseOrder>, SourceError>> {
        self.fetch_many_of(RecordKind::PurchaseOrders, identities)
            .await
    }

    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<PurchaseOrder>, SourceError> {
        if let Some(lake) = self.lake_for(RecordKind::PurchaseOrders) {
            return bods::fetch(lake, identity, self.page_size, &self.bod_context()).await;
        }
        match &self.product {
            Product::Csi(csi) => {
                let id = identity.id.clone();
                let polls = self.csi_poll(csi, move |poll, map| {
                    Ok(poll.filter(key_filter(map, "PoNum", &id)?))
                });
                let mut found: Vec<PurchaseOrder> =
                    self.csi_orders(csi, polls).try_collect().await?;
                Ok(found.pop())
            }
            Product::M3(m3) => {
                // Read now: the gateway's clock stands in for a change date M3 does not return.
                let read_at = Source::<PurchaseOrder>::server_time(self).await?;
                self.m3_order(m3, &identity.id, read_at)
                    .await
                    .map_err(source_error)
            }
            Product::DataLake(lake) => {
                bods::fetch(lake, identity, self.page_size, &self.bod_context()).await
            }
        }
    }
}

#[async_trait]
impl Source<SupplierInvoice> for CloudSuiteSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        if let Some(lake) = self.lake_for(RecordKind::SupplierInvoices) {
            return bods::server_time::<SupplierInvoice>(lake).await;
        }
        self.server_time_of::<SupplierInvoice>(csi::nouns::ApVoucher::IDO)
            .await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<SupplierInvoice, SourceError>> {
        if let Some(lake) = self.lake_for(RecordKind::SupplierInvoices) {
            return bods::poll(lake, window.from, self.page_size, self.bod_context());
        }
        match &self.product {
            Product::Csi(csi) => self.csi_invoices(
                csi,
                self.csi_poll(csi, move |poll, _| Ok(since(poll, &window))),
            ),
            Product::M3(m3) => self.m3_invoices(m3, window.ceiling),
            Product::DataLake(lake) => {
                bods::poll(lake, window.from, self.page_size, self.bod_context())
            }
        }
    }

    async fn fetch_many(
        &self,
        identities: &[SourceIdentity],
    ) -> Vec<Result<Option<SupplierInvoice>, SourceError>> {
        self.fetch_many_of(RecordKind::SupplierInvoices, identities)
            .await
    }

    async fn fetch(
        &self,
        identity: &SourceIdentity,
    ) -> Result<Option<SupplierInvoice>, SourceError> {
        if let Some(lake) = self.lake_for(RecordKind::SupplierInvoices) {
            return bods::fetch(lake, identity, self.page_size, &self.bod_context()).await;
        }
        match &self.product {
            Product::Csi(csi) => {
                let id = identity.id.clone();
                let polls = self.csi_poll(csi, move |poll, map| {
                    Ok(poll.filter(key_filter(map, "Voucher", &id)?))
                });
                let mut found: Vec<SupplierInvoice> =
                    self.csi_invoices(csi, polls).try_collect().await?;
                Ok(found.pop())
            }
            Product::M3(m3) => {
                let read_at = Source::<SupplierInvoice>::server_time(self).await?;
                self.m3_invoice(m3, &identity.id, read_at)
                    .await
                    .map_err(source_error)
            }
            Product::DataLake(lake) => {
                bods::fetch(lake, identity, self.page_size, &self.bod_context()).await
            }
        }
    }
}

#[async_trait]
impl Source<GlAccount> for CloudSuiteSource {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        if let Some(lake) = self.lake_for(RecordKind::GlAccounts) {
            return bods::server_time::<GlAccount>(lake).await;
        }
        self.server_time_of::<GlAccount>(csi::nouns::GlAccount::IDO)
            .await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<GlAccount, SourceError>> {
        let context = self.context();
        if let Some(lake) = self.lake_for(RecordKind::GlAccounts) {
            return bods::poll(lake, None, self.page_size, self.bod_context());
        }
        match &self.product {
            // The chart is small and every run needs all of it to report drift.
            Product::Csi(csi) => {
                rows_of(self.csi_poll::<csi::nouns::GlAccount>(csi, |poll, _| Ok(poll)))
                    .map(move |row| {
                        row.and_then(|a| convert::csi_gl_account(a, &context).map_err(source_error))
                    })
                    .boxed()
            }
            Product::M3(m3) => {
                let _ = window;
                m3.list::<m3::nouns::GlAccount>(
                    M3_GL_INPUTS
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
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

    async fn fetch_many(
        &self,
        identities: &[SourceIdentity],
    ) -> Vec<Result<Option<GlAccount>, SourceError>> {
        self.fetch_many_of(RecordKind::GlAccounts, identities).await
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
