//! BODs published to the ION Data Lake → sync-core's canonical model.
//!
//! The third way a CloudSuite feeds the sync (after IDO and MI): any product that publishes
//! `SyncSupplierPartyMaster`, `SyncPurchaseOrder`, `SyncSupplierInvoice` or
//! `SyncChartOfAccounts` BODs. Two jobs live here:
//!
//! - **Conversion** ([`FromBod`], [`from_bod`]): one typed noun → canonical record(s). Errors are
//!   [`Error::MissingValue`] / [`Error::InvalidValue`] whose `record` is the BOD root (e.g.
//!   `SyncPurchaseOrder`) and whose `property` is the XML path inside the `DataArea`, e.g.
//!   `PurchaseOrder/PurchaseOrderLine[2]/Item/ItemID/ID`.
//! - **Polling** a window: list the document by name with `since = window.from`, fetch and parse
//!   each payload, keep only the newest variation of each document (a [`VariationTracker`] per
//!   window: ION does not guarantee order), skip `Delete`s with a trace and convert the rest.
//!
//! Across windows, with a [`VersionStore`] in the context ([`BodContext::versions`], which the
//! runner sets to its store), the newest `variationID` seen of each document is kept durably:
//! a variation **older** than one seen in an earlier window (published late, out of order) is
//! dropped, so it never overwrites newer data. An equal one is not stale: the engine re-reads a
//! window after a failure and must find the same documents again.
//!
//! `modified_at` is the noun's `LastModificationDateTime`, else the Data Lake event date, else
//! the BOD's `ApplicationArea/CreationDateTime`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use sync_core::error::SourceError;
use sync_core::model::{
    AccountClass, Address, AddressKind, Contact, GlAccount, InvoiceLine, PartyStatus, PoLine,
    PoStatus, PurchaseOrder, Record, SourceIdentity, Supplier, SupplierInvoice,
};
use sync_core::store::VersionStore;

use super::convert::SYSTEM;
use super::source_error;
use crate::bod::{
    self, ActionCode, Amount, Bod, Freshness, Noun, Quantity, UnitPrice, VariationKey,
    VariationTracker, key_for,
};
use crate::error::{Error, Result};
use crate::transport::datalake::{DataLake, PayloadRef};

/// Payloads fetched at once while reading a window (order is kept).
const CONCURRENT_FETCHES: usize = 4;

/// What completes a converted record: the identity's tenant and accounting entity, and the
/// currency used when a BOD names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodContext {
    /// The ION tenant (identity `tenant`).
    pub tenant: String,
    /// The accounting entity the source reads (identity `accounting_entity`). When not empty,
    /// documents whose `@accountingEntity` (or `AccountingEntityID`) names another entity are
    /// skipped while polling.
    pub accounting_entity: String,
    /// The currency for records without any `@currencyID` / `CurrencyCode`.
    pub default_currency: String,
    /// Where the newest variation seen of each document is kept across windows (`None`: within
    /// a window only).
    pub versions: Option<Versions>,
}

/// A [`VersionStore`] in a [`BodContext`] (two contexts are equal when they share the store).
#[derive(Clone)]
pub struct Versions(pub Arc<dyn VersionStore>);

impl std::fmt::Debug for Versions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Versions(..)")
    }
}

impl PartialEq for Versions {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Versions {}

impl BodContext {
    /// A context with `USD` as the default currency.
    ///
    /// ```
    /// use infor_ion_client::cloudsuite::bods::BodContext;
    /// let cx = BodContext::new("ACME_PRD", "300_001").default_currency("EUR");
    /// assert_eq!(cx.default_currency, "EUR");
    /// ```
    pub fn new(tenant: impl Into<String>, accounting_entity: impl Into<String>) -> Self {
        BodContext {
            tenant: tenant.into(),
            accounting_entity: accounting_entity.into(),
            default_currency: "USD".to_owned(),
            versions: None,
        }
    }

    /// Keep the newest variation seen of each document in `store`, so a variation older than
    /// one seen in an earlier window is dropped (see the [module](self) documentation).
    pub fn versions(mut self, store: Arc<dyn VersionStore>) -> Self {
        self.versions = Some(Versions(store));
        self
    }

    /// Use another default currency.
    pub fn default_currency(mut self, currency: impl Into<String>) -> Self {
        self.default_currency = currency.into();
        self
    }

    fn identity(&self, id: &str) -> SourceIdentity {
        SourceIdentity::new(SYSTEM, &self.tenant, &self.accounting_entity, id)
    }
}

/// A canonical record read from BODs of one noun.
pub trait FromBod: Record + Sized {
    /// The Data Lake document name (`dl_document_name`), e.g. `SyncPurchaseOrder`.
    const DOCUMENT: &'static str;
    /// The BOD noun it is read from.
    type Noun: Noun + Send + Sync + 'static;

    /// The records one noun of `bod` carries (one, or every account of a chart).
    /// `event_date` is the Data Lake's publication time, when known.
    fn from_noun(
        bod: &Bod<Self::Noun>,
        noun: &Self::Noun,
        event_date: Option<DateTime<Utc>>,
        cx: &BodContext,
    ) -> Result<Vec<Self>>;
}

/// Every record of every noun in `bod`, whatever its action code (polling skips `Delete`s).
///
/// ```
/// use infor_ion_client::bod::{Bod, SupplierPartyMaster};
/// use infor_ion_client::cloudsuite::bods::{BodContext, from_bod};
/// use sync_core::model::Supplier;
/// let xml = r#"<SyncSupplierPartyMaster xmlns="http://schema.infor.com/InforOAGIS/2">
///   <ApplicationArea><CreationDateTime>2026-01-05T10:00:00Z</CreationDateTime></ApplicationArea>
///   <DataArea><Sync/><SupplierPartyMaster>
///     <PartyIDs><ID variationID="3">V1</ID></PartyIDs><Name>Acme</Name>
///   </SupplierPartyMaster></DataArea></SyncSupplierPartyMaster>"#;
/// let bod = Bod::<SupplierPartyMaster>::from_str(xml)?;
/// let suppliers: Vec<Supplier> = from_bod(&bod, None, &BodContext::new("T", "E"))?;
/// assert_eq!((suppliers[0].vendor_id.as_str(), suppliers[0].name.as_str()), ("V1", "Acme"));
/// # Ok::<(), infor_ion_client::Error>(())
/// ```
pub fn from_bod<R: FromBod>(
    bod: &Bod<R::Noun>,
    event_date: Option<DateTime<Utc>>,
    cx: &BodContext,
) -> Result<Vec<R>> {
    let mut out = Vec::new();
    for noun in &bod.nouns {
        out.extend(R::from_noun(bod, noun, event_date, cx)?);
    }
    Ok(out)
}

/// Names errors after the BOD root and the path below `DataArea`.
struct At<'a> {
    root: String,
    noun: &'a str,
}

impl<'a> At<'a> {
    fn of<N: Noun>(bod: &Bod<N>) -> At<'a> {
        At {
            root: bod.root_name(),
            noun: N::NAME,
        }
    }

    fn path(&self, below: &str) -> String {
        if below.is_empty() {
            self.noun.to_owned()
        } else {
            format!("{}/{below}", self.noun)
        }
    }

    fn missing(&self, below: &str) -> Error {
        Error::MissingValue {
            record: self.root.clone(),
            property: self.path(below),
        }
    }

    fn invalid(&self, below: &str, value: &str, expected: &'static str) -> Error {
        Error::InvalidValue {
            record: self.root.clone(),
            property: self.path(below),
            value: value.to_owned(),
            expected,
        }
    }

    /// A required, non-blank text.
    fn required<'v>(&self, value: Option<&'v str>, below: &str) -> Result<&'v str> {
        value
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| self.missing(below))
    }

    /// `LastModificationDateTime`, else the event date, else `CreationDateTime`.
    fn modified<N: Noun>(
        &self,
        bod: &Bod<N>,
        last_modified: Option<DateTime<Utc>>,
        last_modified_path: &str,
        event_date: Option<DateTime<Utc>>,
    ) -> Result<DateTime<Utc>> {
        last_modified
            .or(event_date)
            .or(bod.application_area.creation_date_time)
            .ok_or_else(|| self.missing(last_modified_path))
    }
}

fn non_blank(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn line_number(at: &At<'_>, value: Option<&str>, below: &str) -> Result<u32> {
    let text = at.required(value, below)?;
    text.parse::<u32>()
        .map_err(|_| at.invalid(below, text, "a line number"))
}

/// The price of one unit: `UnitPrice/Amount` divided by `PerQuantity` when that is not 1.
fn unit_price_of(at: &At<'_>, price: &UnitPrice, below: &str) -> Result<Option<Decimal>> {
    let Some(amount) = &price.amount else {
        return Ok(None);
    };
    match &price.per_quantity {
        Some(per) if per.value.is_zero() => Err(at.invalid(
            &format!("{below}/PerQuantity"),
            &per.value.to_string(),
            "a non-zero quantity",
        )),
        Some(per) => Ok(Some(amount.value / per.value)),
        None => Ok(Some(amount.value)),
    }
}

/// `UnitPrice`, else `ExtendedAmount / Quantity` (a line priced only by its total).
fn line_price(
    at: &At<'_>,
    below: &str,
    unit_price: Option<&UnitPrice>,
    extended: Option<&Amount>,
    quantity: Decimal,
) -> Result<Option<Decimal>> {
    if let Some(price) = unit_price
        && let Some(value) = unit_price_of(at, price, &format!("{below}/UnitPrice"))?
    {
        return Ok(Some(value));
    }
    Ok(match extended {
        Some(total) if !quantity.is_zero() => Some(total.value / quantity),
        _ => None,
    })
}

fn currency_of<'a>(amounts: impl IntoIterator<Item = Option<&'a Amount>>) -> Option<String> {
    amounts
        .into_iter()
        .flatten()
        .find_map(|a| non_blank(a.currency_id.as_deref()))
}

impl FromBod for Supplier {
    const DOCUMENT: &'static str = "SyncSupplierPartyMaster";
    type Noun = bod::SupplierPartyMaster;

    /// Status `Open`, `Active`, `20` (M3) or none is active; anything else inactive. Phone and
    /// e-mail `Communication`s become one default contact; each `Location/Address` an address
    /// (kind from `@type`: `Billing`/`RemitTo` billing, `Shipping`/`ShipFrom` shipping, else
    /// business).
    fn from_noun(
        bod: &Bod<Self::Noun>,
        noun: &Self::Noun,
        event_date: Option<DateTime<Utc>>,
        cx: &BodContext,
    ) -> Result<Vec<Self>> {
        let at = At::of(bod);
        let party = &noun.party;
        let id = at.required(party.primary_id().map(|i| i.value.as_str()), "PartyIDs/ID")?;
        let addresses = party
            .locations
            .iter()
            .filter_map(|location| {
                let address = location.address.as_ref()?;
                let mut lines = address.lines.clone();
                lines.sort_by_key(|l| l.sequence.unwrap_or(u32::MAX));
                let mut texts = lines.into_iter().filter_map(|l| non_blank(Some(&l.text)));
                let line1 = texts.next()?;
                let kind = address
                    .address_type
                    .as_deref()
                    .or(location.location_type.as_deref())
                    .unwrap_or_default();
                Some(Address {
                    kind: match kind.to_ascii_lowercase().as_str() {
                        "billing" | "billto" | "remitto" => AddressKind::Billing,
                        "shipping" | "shipto" | "shipfrom" => AddressKind::Shipping,
                        _ => AddressKind::Business,
                    },
                    line1,
                    line2: texts.next(),
                    city: non_blank(address.city_name.as_deref()),
                    state: non_blank(address.country_sub_division_code.as_deref()),
                    postcode: non_blank(address.postal_code.as_deref()),
                    country: non_blank(address.country_code.as_deref()).unwrap_or_default(),
                })
            })
            .collect();
        let channel = |names: &[&str]| {
            party.communications.iter().find(|c| {
                c.channel_code
                    .as_deref()
                    .is_some_and(|code| names.iter().any(|n| code.eq_ignore_ascii_case(n)))
            })
        };
        let phone =
            channel(&["Phone", "Telephone"]).and_then(|c| non_blank(c.dial_number.as_deref()));
        let email = channel(&["EMail", "Email"]).and_then(|c| non_blank(c.uri.as_deref()));
        let contacts = if phone.is_some() || email.is_some() {
            vec![Contact {
                name: "Accounts".to_owned(),
                phone,
                email,
                default: true,
            }]
        } else {
            Vec::new()
        };
        let status = party
            .status
            .as_ref()
            .and_then(|s| s.code.as_ref())
            .map(|c| c.value.trim());
        Ok(vec![Supplier {
            identity: cx.identity(id),
            vendor_id: id.to_owned(),
            name: non_blank(party.name.as_deref()).unwrap_or_else(|| id.to_owned()),
            currency: non_blank(party.currency_code.as_deref())
                .unwrap_or_else(|| cx.default_currency.clone()),
            payment_term: non_blank(party.payment_term_id.as_deref()),
            tax_rule: None,
            tax_number: party
                .party_ids
                .tax_ids
                .first()
                .and_then(|t| non_blank(Some(&t.value))),
            status: match status {
                None | Some("") | Some("20") => PartyStatus::Active,
                Some(s) if s.eq_ignore_ascii_case("open") || s.eq_ignore_ascii_case("active") => {
                    PartyStatus::Active
                }
                Some(_) => PartyStatus::Inactive,
            },
            addresses,
            contacts,
            modified_at: at.modified(
                bod,
                party.last_modification_date_time,
                "LastModificationDateTime",
                event_date,
            )?,
        }])
    }
}

/// `PurchaseOrderHeader/Status/Code`: OAGIS words (`Open`, `Released`, ...) and M3's numeric
/// PO status (`05`-`15` planned, `20`-`75` ordered, `80`/`85` closed, `99` cancelled).
fn po_status(at: &At<'_>, code: Option<&str>) -> Result<PoStatus> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(PoStatus::Ordered);
    };
    let word = code.to_ascii_lowercase();
    Ok(match word.as_str() {
        "planned" | "draft" | "new" | "pending" => PoStatus::Planned,
        "open" | "released" | "approved" | "ordered" | "active" | "partiallyreceived" => {
            PoStatus::Ordered
        }
        "closed" | "complete" | "completed" | "received" | "finished" => PoStatus::Closed,
        "cancelled" | "canceled" | "deleted" => PoStatus::Cancelled,
        _ => match word.parse::<u32>() {
            Ok(0..=19) => PoStatus::Planned,
            Ok(20..=79) => PoStatus::Ordered,
            Ok(80..=98) => PoStatus::Closed,
            Ok(99) => PoStatus::Cancelled,
            _ => {
                return Err(at.invalid(
                    "PurchaseOrderHeader/Status/Code",
                    code,
                    "a PO status (Open, Released, Closed, Cancelled, ... or M3 05-99)",
                ));
            }
        },
    })
}

impl FromBod for PurchaseOrder {
    const DOCUMENT: &'static str = "SyncPurchaseOrder";
    type Noun = bod::PurchaseOrder;

    /// Lines need `LineNumber`, `Item/ItemID/ID` and `Quantity`; the unit price is
    /// `UnitPrice` (per `PerQuantity`), else `ExtendedAmount / Quantity`. The currency is the
    /// first `@currencyID` of the header or line amounts, else the context's default.
    fn from_noun(
        bod: &Bod<Self::Noun>,
        noun: &Self::Noun,
        event_date: Option<DateTime<Utc>>,
        cx: &BodContext,
    ) -> Result<Vec<Self>> {
        let at = At::of(bod);
        let head = &noun.header;
        let id = at.required(
            Some(head.document_id.id.value.as_str()),
            "PurchaseOrderHeader/DocumentID/ID",
        )?;
        let vendor = at.required(
            head.supplier_party
                .as_ref()
                .and_then(|p| p.primary_id())
                .map(|i| i.value.as_str()),
            "PurchaseOrderHeader/SupplierParty/PartyIDs/ID",
        )?;
        let order_date = head
            .order_date_time
            .or(head.document_date_time)
            .ok_or_else(|| at.missing("PurchaseOrderHeader/OrderDateTime"))?
            .date_naive();
        let mut lines = noun
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let below = format!("PurchaseOrderLine[{}]", i + 1);
                let sku = at.required(
                    line.item.as_ref().and_then(|it| it.item_number()),
                    &format!("{below}/Item/ItemID/ID"),
                )?;
                let quantity = line
                    .quantity
                    .as_ref()
                    .map(|q: &Quantity| q.value)
                    .ok_or_else(|| at.missing(&format!("{below}/Quantity")))?;
                let unit_price = line_price(
                    &at,
                    &below,
                    line.unit_price.as_ref(),
                    line.extended_amount.as_ref().or(line.total_amount.as_ref()),
                    quantity,
                )?
                .ok_or_else(|| at.missing(&format!("{below}/UnitPrice/Amount")))?;
                Ok(PoLine {
                    line_no: line_number(
                        &at,
                        line.line_number.as_deref(),
                        &format!("{below}/LineNumber"),
                    )?,
                    sku: sku.to_owned(),
                    description: line
                        .item
                        .as_ref()
                        .and_then(|it| it.descriptions.first())
                        .and_then(|d| non_blank(Some(d)))
                        .unwrap_or_else(|| sku.to_owned()),
                    quantity,
                    unit_price,
                    tax_rule: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        lines.sort_by_key(|l| l.line_no);
        let currency = currency_of(
            [head.extended_amount.as_ref(), head.total_amount.as_ref()]
                .into_iter()
                .chain(noun.lines.iter().flat_map(|l| {
                    [
                        l.extended_amount.as_ref(),
                        l.unit_price.as_ref().and_then(|p| p.amount.as_ref()),
                    ]
                })),
        )
        .unwrap_or_else(|| cx.default_currency.clone());
        let required_by = head
            .promised_delivery_date_time
            .or_else(|| {
                noun.lines
                    .iter()
                    .filter_map(|l| l.required_delivery_date_time)
                    .min()
            })
            .map(|d| d.date_naive());
        Ok(vec![PurchaseOrder {
            identity: cx.identity(id),
            po_number: non_blank(head.display_id.as_deref()).unwrap_or_else(|| id.to_owned()),
            vendor_id: vendor.to_owned(),
            order_date,
            required_by,
            currency,
            location: head
                .ship_to_party
                .as_ref()
                .and_then(|p| p.primary_id())
                .and_then(|i| non_blank(Some(&i.value))),
            status: po_status(
                &at,
                head.status
                    .as_ref()
                    .and_then(|s| s.code.as_ref())
                    .map(|c| c.value.as_str()),
            )?,
            memo: head.notes.first().and_then(|n| non_blank(Some(&n.text))),
            lines,
            modified_at: at.modified(
                bod,
                head.last_modification_date_time,
                "PurchaseOrderHeader/LastModificationDateTime",
                event_date,
            )?,
        }])
    }
}

impl FromBod for SupplierInvoice {
    const DOCUMENT: &'static str = "SyncSupplierInvoice";
    type Noun = bod::SupplierInvoice;

    /// The invoice number is the `AlternateDocumentID` with `@schemeName`
    /// `SupplierInvoiceNumber` (else the `m3.SINO` property, else the first alternate id, else
    /// the document id). A line without `Quantity` is one unit; its price is `UnitPrice`, else
    /// `ExtendedAmount / Quantity`, else `TotalAmount`. The GL account is the most specific
    /// the line carries ([`bod::SupplierInvoiceLine::gl_account`]); a line without any has an
    /// empty `gl_account`, which the engine's GL mapping reports as unmapped rather than
    /// guessing an account. The BOD model has no due date, so `due_date` is `None`.
    fn from_noun(
        bod: &Bod<Self::Noun>,
        noun: &Self::Noun,
        event_date: Option<DateTime<Utc>>,
        cx: &BodContext,
    ) -> Result<Vec<Self>> {
        let at = At::of(bod);
        let head = &noun.header;
        let id = at.required(
            Some(head.document_id.id.value.as_str()),
            "SupplierInvoiceHeader/DocumentID/ID",
        )?;
        let invoice_number = head
            .alternate_document_ids
            .iter()
            .find(|d| d.id.scheme_name.as_deref() == Some("SupplierInvoiceNumber"))
            .and_then(|d| non_blank(Some(&d.id.value)))
            .or_else(|| non_blank(head.user_area.as_ref().and_then(|u| u.get("m3.SINO"))))
            .or_else(|| {
                head.alternate_document_ids
                    .first()
                    .and_then(|d| non_blank(Some(&d.id.value)))
            })
            .unwrap_or_else(|| id.to_owned());
        let vendor = at.required(
            head.supplier_party
                .as_ref()
                .and_then(|p| p.primary_id())
                .map(|i| i.value.as_str()),
            "SupplierInvoiceHeader/SupplierParty/PartyIDs/ID",
        )?;
        let invoice_date = head
            .document_date_time
            .ok_or_else(|| at.missing("SupplierInvoiceHeader/DocumentDateTime"))?
            .date_naive();
        let po_of = |r: &bod::DocumentReference| {
            r.document_id
                .as_ref()
                .and_then(|d| non_blank(Some(&d.id.value)))
        };
        let po_id = head
            .purchase_order_references
            .iter()
            .find_map(po_of)
            .or_else(|| {
                noun.lines
                    .iter()
                    .find_map(|l| l.purchase_order_reference.as_ref().and_then(po_of))
            });
        let mut lines = noun
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let below = format!("SupplierInvoiceLine[{}]", i + 1);
                let line_no = line_number(
                    &at,
                    line.line_number.as_deref(),
                    &format!("{below}/LineNumber"),
                )?;
                let quantity = line.quantity.as_ref().map_or(Decimal::ONE, |q| q.value);
                let unit_price = line_price(
                    &at,
                    &below,
                    line.unit_price.as_ref(),
                    line.extended_amount.as_ref().or(line.total_amount.as_ref()),
                    quantity,
                )?
                .ok_or_else(|| at.missing(&format!("{below}/ExtendedAmount")))?;
                let sku = line
                    .item
                    .as_ref()
                    .and_then(|it| it.item_number())
                    .and_then(|s| non_blank(Some(s)));
                let description = non_blank(line.description.as_deref())
                    .or_else(|| {
                        line.item
                            .as_ref()
                            .and_then(|it| it.descriptions.first())
                            .and_then(|d| non_blank(Some(d)))
                    })
                    .or_else(|| sku.clone())
                    .unwrap_or_else(|| format!("Invoice {invoice_number} line {line_no}"));
                Ok(InvoiceLine {
                    line_no,
                    sku,
                    description,
                    quantity,
                    unit_price,
                    gl_account: line.gl_account().map(|a| a.account).unwrap_or_default(),
                    tax_rule: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        lines.sort_by_key(|l| l.line_no);
        let currency = currency_of(
            [head.total_amount.as_ref()]
                .into_iter()
                .chain(noun.lines.iter().map(|l| l.extended_amount.as_ref())),
        )
        .unwrap_or_else(|| cx.default_currency.clone());
        Ok(vec![SupplierInvoice {
            identity: cx.identity(id),
            invoice_number,
            vendor_id: vendor.to_owned(),
            po_id,
            invoice_date,
            due_date: None,
            currency,
            lines,
            modified_at: at.modified(
                bod,
                head.last_modification_date_time,
                "SupplierInvoiceHeader/LastModificationDateTime",
                event_date,
            )?,
        }])
    }
}

/// `GLAccount/TypeCode`: CSI's letters (`A`, `L`, `O`, `R`, `E`) or the class words. Other
/// codes (e.g. `BalanceSheet`, `ProfitAndLoss`, whose class a chart BOD does not pin down) are
/// reported as expense accounts with the code kept in `account_type`, as for M3: the class is
/// left to the GL mapping.
fn account_class(code: Option<&str>) -> AccountClass {
    match code.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
        Some("a" | "asset") => AccountClass::Asset,
        Some("l" | "liability") => AccountClass::Liability,
        Some("o" | "equity" | "ownersequity") => AccountClass::Equity,
        Some("r" | "revenue" | "income") => AccountClass::Revenue,
        _ => AccountClass::Expense,
    }
}

impl FromBod for GlAccount {
    const DOCUMENT: &'static str = "SyncChartOfAccounts";
    type Noun = bod::ChartOfAccounts;

    /// Every `GLAccount` of the chart. An account is inactive when its `Status/Code` is
    /// `Closed`, `Inactive` or `Blocked`. Accounts carry no modification time of their own.
    fn from_noun(
        bod: &Bod<Self::Noun>,
        noun: &Self::Noun,
        event_date: Option<DateTime<Utc>>,
        cx: &BodContext,
    ) -> Result<Vec<Self>> {
        let at = At::of(bod);
        let modified_at = at.modified(bod, None, "DocumentID/ID", event_date)?;
        noun.gl_accounts
            .iter()
            .enumerate()
            .map(|(i, account)| {
                let below = format!("GLAccount[{}]/GLNominalAccount", i + 1);
                let code = at.required(Some(&account.gl_nominal_account), &below)?;
                let status = account
                    .status
                    .as_ref()
                    .and_then(|s| s.code.as_ref())
                    .map(|c| c.value.trim().to_ascii_lowercase());
                Ok(GlAccount {
                    identity: cx.identity(code),
                    code: code.to_owned(),
                    name: account
                        .descriptions
                        .first()
                        .and_then(|d| non_blank(Some(d)))
                        .unwrap_or_else(|| code.to_owned()),
                    class: account_class(account.type_code.as_deref()),
                    account_type: non_blank(account.type_code.as_deref()),
                    active: !matches!(status.as_deref(), Some("closed" | "inactive" | "blocked")),
                    modified_at,
                })
            })
            .collect()
    }
}

/// What the newest variation of a document in the window says.
enum Latest<R> {
    Records(Result<Vec<R>>),
    Deleted { document: String },
}

/// The window's documents in event order, one slot per document (a newer variation empties
/// the older one's slot).
struct WindowDocs<R> {
    slots: Vec<Option<Latest<R>>>,
    by_key: HashMap<VariationKey, usize>,
    /// The document and variation of each slot, where the BOD names them.
    variations: HashMap<usize, (VariationKey, u64)>,
    tracker: VariationTracker,
}

impl<R: FromBod> WindowDocs<R> {
    fn new() -> Self {
        WindowDocs {
            slots: Vec::new(),
            by_key: HashMap::new(),
            variations: HashMap::new(),
            tracker: VariationTracker::new(),
        }
    }

    fn push(&mut self, key: Option<VariationKey>, variation: Option<u64>, entry: Latest<R>) {
        let index = self.slots.len();
        self.slots.push(Some(entry));
        if let (Some(key), Some(variation)) = (&key, variation) {
            self.variations.insert(index, (key.clone(), variation));
        }
        if let Some(key) = key
            && let Some(older) = self.by_key.insert(key, index)
            && let Some(slot) = self.slots.get_mut(older)
        {
            *slot = None;
        }
    }

    fn add(&mut self, payload: &PayloadRef, bod: Bod<R::Noun>, cx: &BodContext) {
        let event_date = payload
            .event_date
            .as_deref()
            .and_then(crate::values::parse_datetime);
        let action = bod.verb_area.action_code();
        for noun in &bod.nouns {
            let key = match key_for(&bod, noun) {
                Some((key, variation)) => {
                    if !cx.accounting_entity.is_empty()
                        && key
                            .accounting_entity
                            .as_deref()
                            .is_some_and(|e| e != cx.accounting_entity)
                    {
                        tracing::debug!(
                            dl_id = %payload.dl_id,
                            document = %key.document_id,
                            entity = ?key.accounting_entity,
                            "skipping a BOD of another accounting entity"
                        );
                        continue;
                    }
                    if let Some(variation) = variation
                        && let Freshness::Stale { seen } =
                            self.tracker.observe(key.clone(), variation)
                    {
                        tracing::debug!(
                            dl_id = %payload.dl_id,
                            document = %key.document_id,
                            variation,
                            seen,
                            "dropping a stale BOD variation"
                        );
                        continue;
                    }
                    Some((key, variation))
                }
                None => None,
            };
            let (key, variation) = match key {
                Some((key, variation)) => (Some(key), variation),
                None => (None, None),
            };
            let entry = if action == Some(ActionCode::Delete) {
                Latest::Deleted {
                    document: key
                        .as_ref()
                        .map_or_else(|| payload.dl_id.clone(), |k| k.document_id.clone()),
                }
            } else {
                Latest::Records(R::from_noun(&bod, noun, event_date, cx))
            };
            self.push(key, variation, entry);
        }
    }

    /// Drop the documents whose variation is older than one seen in an earlier window (kept in
    /// `cx.versions`), noting the others'. A store that cannot be reached drops nothing: the
    /// window cannot commit without it either, so nothing stale is written.
    async fn drop_stale(&mut self, cx: &BodContext) {
        let Some(Versions(store)) = &cx.versions else {
            return;
        };
        // The documents still in the window, in slot order, each with its whole variation
        // key: variations count per document, entity, location and sender, as the window's
        // own tracker counts them. One round trip to the store for all of them.
        let mut live: Vec<(usize, &VariationKey, u64)> = self
            .variations
            .iter()
            .filter(|(index, _)| self.slots.get(**index).is_some_and(Option::is_some))
            .map(|(index, (key, variation))| (*index, key, *variation))
            .collect();
        live.sort_by_key(|(index, _, _)| *index);
        let seen: Vec<(String, u64)> = live
            .iter()
            .map(|(_, key, variation)| {
                let document = format!(
                    "{}|{}|{}|{}|{}",
                    key.noun,
                    key.accounting_entity.as_deref().unwrap_or_default(),
                    key.location.as_deref().unwrap_or_default(),
                    key.lid.as_deref().unwrap_or_default(),
                    key.document_id
                );
                (document, *variation)
            })
            .collect();
        if seen.is_empty() {
            return;
        }
        let newest = match store.note_versions(&cx.tenant, &seen).await {
            Ok(newest) => newest,
            Err(error) => {
                tracing::warn!(%error, "cannot note the window's BOD variations; keeping them");
                return;
            }
        };
        let stale: Vec<usize> = live
            .iter()
            .zip(&newest)
            .filter(|((_, _, variation), newest)| **newest > *variation)
            .map(|((index, key, variation), newest)| {
                tracing::info!(
                    document = %key.document_id,
                    variation,
                    newest,
                    "dropping a BOD variation older than one seen in an earlier window"
                );
                *index
            })
            .collect();
        for index in stale {
            if let Some(slot) = self.slots.get_mut(index) {
                *slot = None;
            }
        }
    }

    fn into_results(self) -> Vec<Result<R>> {
        let mut out = Vec::new();
        for slot in self.slots.into_iter().flatten() {
            match slot {
                Latest::Records(Ok(records)) => out.extend(records.into_iter().map(Ok)),
                Latest::Records(Err(error)) => out.push(Err(error)),
                Latest::Deleted { document } => tracing::info!(
                    noun = <R::Noun as Noun>::NAME,
                    %document,
                    "skipping a document whose newest BOD in the window is a Delete"
                ),
            }
        }
        out
    }
}

/// Read one window: every payload of `R::DOCUMENT` published at or after `since`, newest
/// variation per document, `Delete`s skipped. A payload that cannot be fetched, parsed or
/// converted is one `Err` item; the others still arrive. A failed list ends the stream.
pub(crate) async fn read_window<R: FromBod>(
    lake: &DataLake,
    since: Option<DateTime<Utc>>,
    page_size: u32,
    cx: &BodContext,
) -> Vec<Result<R>> {
    let fetched = lake
        .list(R::DOCUMENT, since, page_size)
        .map_ok(|payload| async move {
            let bod = lake.fetch_bod::<R::Noun>(&payload.dl_id).await;
            Ok::<_, Error>((payload, bod))
        })
        .try_buffered(CONCURRENT_FETCHES);
    futures::pin_mut!(fetched);
    let mut docs = WindowDocs::<R>::new();
    let mut failures = Vec::new();
    while let Some(item) = fetched.next().await {
        match item {
            Ok((payload, Ok(bod))) => docs.add(&payload, bod, cx),
            Ok((payload, Err(error))) => {
                tracing::warn!(dl_id = %payload.dl_id, %error, "a Data Lake payload could not be read");
                failures.push(Err(error));
            }
            Err(error) => {
                docs.drop_stale(cx).await;
                let mut out = docs.into_results();
                out.extend(failures);
                out.push(Err(error));
                return out;
            }
        }
    }
    docs.drop_stale(cx).await;
    let mut out = docs.into_results();
    out.extend(failures);
    out
}

/// [`read_window`] as the engine's stream.
pub(crate) fn poll<'a, R: FromBod>(
    lake: &'a DataLake,
    since: Option<DateTime<Utc>>,
    page_size: u32,
    cx: BodContext,
) -> BoxStream<'a, std::result::Result<R, SourceError>> {
    futures::stream::once(async move { read_window::<R>(lake, since, page_size, &cx).await })
        .map(|results| futures::stream::iter(results.into_iter().map(|r| r.map_err(source_error))))
        .flatten()
        .boxed()
}

/// One record as it is now: see [`fetch_many`].
pub(crate) async fn fetch<R: FromBod>(
    lake: &DataLake,
    identity: &SourceIdentity,
    page_size: u32,
    cx: &BodContext,
) -> std::result::Result<Option<R>, SourceError> {
    fetch_many(lake, std::slice::from_ref(identity), page_size, cx)
        .await
        .pop()
        .unwrap_or(Ok(None))
}

/// Records as they are now, in the order asked: the Data Lake has no lookup by document id, so
/// the whole history of the document is read once for all of them and the newest variation of
/// each kept (`None` when it was never published or its newest BOD is a `Delete`). Errors of
/// other documents are ignored unless a record was not found.
pub(crate) async fn fetch_many<R: FromBod>(
    lake: &DataLake,
    identities: &[SourceIdentity],
    page_size: u32,
    cx: &BodContext,
) -> Vec<std::result::Result<Option<R>, SourceError>> {
    let mut newest: HashMap<String, R> = HashMap::new();
    let mut first_error = None;
    for result in read_window::<R>(lake, None, page_size, cx).await {
        match result {
            Ok(record) => {
                newest.insert(record.identity().id.clone(), record);
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    let first_error = first_error.map(source_error);
    identities
        .iter()
        .map(
            |identity| match (newest.remove(&identity.id), &first_error) {
                (Some(record), _) => Ok(Some(record)),
                (None, Some(error)) => Err(error.clone()),
                (None, None) => Ok(None),
            },
        )
        .collect()
}

/// The gateway's time from the `Date` header of a list call for `R::DOCUMENT`.
pub(crate) async fn server_time<R: FromBod>(
    lake: &DataLake,
) -> std::result::Result<DateTime<Utc>, SourceError> {
    lake.server_date(R::DOCUMENT)
        .await
        .map_err(source_error)?
        .ok_or_else(|| SourceError::transient("the ION gateway sent no valid Date header"))
}
