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
//!   each payload and fold each document to what it is now: the newest whole variation
//!   (ION does not guarantee order, so variations are compared, not arrival), with each later
//!   `Change` merged onto it ([`bod::merge_change`]; the whole variation is read from the Data
//!   Lake's history when the window lacks it). A document whose newest variation is a `Delete`
//!   is not a record: with a store it is queued on its stream's push queue for the stream's
//!   delete policy.
//!
//! Across windows, with the sync store in the context ([`BodContext::store`], which the runner
//! sets), the newest `variationID` seen of each document is kept durably
//! ([`VersionStore`](sync_core::store::VersionStore)): a variation **older** than one seen in an
//! earlier window (published late, out of order) is dropped, so it never overwrites newer data.
//! An equal one is not stale: the engine re-reads a window after a failure and must find the
//! same documents again.
//!
//! `modified_at` is the noun's `LastModificationDateTime`, else the Data Lake event date, else
//! the BOD's `ApplicationArea/CreationDateTime`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use sync_core::engine::queue::{self, Trigger, push_queue};
use sync_core::error::SourceError;
use sync_core::model::{
    AccountClass, Address, AddressKind, Contact, GlAccount, InvoiceLine, PartyStatus, PoLine,
    PoStatus, PurchaseOrder, Record, RecordKind, SourceIdentity, Supplier, SupplierInvoice,
};
use sync_core::store::{StreamId, SyncStore};

use super::convert::SYSTEM;
use super::source_error;
use crate::bod::{self, ActionCode, Amount, Bod, Noun, Quantity, UnitPrice, VariationKey, key_for};
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
    /// The sync store (`None`: variations are compared within a window only, and deletions
    /// are skipped). See [`BodContext::store`].
    pub store: Option<BodStore>,
}

/// The sync store in a [`BodContext`] (two contexts are equal when they share the store).
#[derive(Clone)]
pub struct BodStore(pub Arc<dyn SyncStore>);

impl std::fmt::Debug for BodStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodStore(..)")
    }
}

impl PartialEq for BodStore {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for BodStore {}

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
            store: None,
        }
    }

    /// Use the sync store: the newest variation seen of each document is kept there, so a
    /// variation older than one seen in an earlier window is dropped; and a document a window
    /// reads as deleted is queued there for its stream's delete policy (see the
    /// [module](self) documentation).
    pub fn store(mut self, store: Arc<dyn SyncStore>) -> Self {
        self.store = Some(BodStore(store));
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

/// How a variation counts: a whole document, a partial one, or its removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `Add`, `Replace` or no action code: the whole document.
    Full,
    /// `Change`: only what changed, merged onto the last full variation
    /// ([`bod::merge_change`]).
    Change,
    /// `Delete`.
    Delete,
}

/// One variation of a document as read.
struct Variation<N> {
    /// Its `variationID`, where the BOD names one.
    variation: Option<u64>,
    kind: Kind,
    /// The BOD's envelope (its nouns taken out) and this noun.
    envelope: Arc<Bod<N>>,
    noun: N,
    event_date: Option<DateTime<Utc>>,
}

/// What a window holds of one document: the newest whole (or deleted) variation, and the
/// changes published after it, in any order.
struct Document<N> {
    /// The read order of its newest variation: documents are handed on in that order.
    order: usize,
    key: Option<VariationKey>,
    base: Option<Variation<N>>,
    changes: Vec<Variation<N>>,
}

impl<N: Noun> Document<N> {
    /// The newest variationID the window read of this document.
    fn newest(&self) -> Option<u64> {
        self.changes
            .iter()
            .chain(&self.base)
            .filter_map(|v| v.variation)
            .max()
    }

    /// Whether `variation` is older than what is kept (an equal one is a repeat).
    fn older(kept: Option<u64>, variation: Option<u64>) -> bool {
        matches!((kept, variation), (Some(kept), Some(new)) if new <= kept)
    }

    fn add(&mut self, order: usize, v: Variation<N>) {
        let base_variation = self.base.as_ref().and_then(|b| b.variation);
        let repeated =
            v.variation.is_some() && self.changes.iter().any(|c| c.variation == v.variation);
        if Self::older(base_variation, v.variation) || repeated {
            tracing::debug!(
                noun = N::NAME,
                variation = ?v.variation,
                newest = ?self.newest(),
                "dropping a stale BOD variation"
            );
            return;
        }
        if !Self::older(self.newest(), v.variation) {
            self.order = order;
        }
        match v.kind {
            Kind::Change => self.changes.push(v),
            Kind::Full | Kind::Delete => {
                let newer = |c: &Variation<N>| match (c.variation, v.variation) {
                    (Some(change), Some(base)) => change > base,
                    // Without variations, read order decides: a change read before is older.
                    _ => false,
                };
                self.changes.retain(newer);
                self.base = Some(v);
            }
        }
    }

    /// Whether the window lacks the whole variation its changes apply to (the Data Lake's
    /// history may hold it).
    fn needs_history(&self) -> bool {
        self.base.is_none() && !self.changes.is_empty()
    }

    /// What the document is now: the base with each later change merged onto it in variation
    /// order. Changes with no whole variation to merge onto are merged onto each other, the
    /// oldest read as if whole.
    fn resolve<R: FromBod<Noun = N>>(mut self, cx: &BodContext) -> Latest<R> {
        self.changes.sort_by_key(|c| c.variation);
        let mut changes = self.changes.into_iter();
        let base = match self.base {
            Some(base) if base.kind == Kind::Delete && changes.len() == 0 => {
                let Some(key) = self.key else {
                    return Latest::Records(Ok(Vec::new()));
                };
                return Latest::Deleted(Deleted {
                    document: key.document_id,
                    variation: base.variation,
                    at: base
                        .event_date
                        .or(base.envelope.application_area.creation_date_time),
                });
            }
            Some(base) if base.kind == Kind::Full => base,
            _ => match changes.next() {
                Some(first) => first,
                None => return Latest::Records(Ok(Vec::new())),
            },
        };
        let mut noun = base.noun;
        let mut last = (base.envelope, base.event_date);
        for change in changes {
            noun = match bod::merge_change(&noun, &change.noun) {
                Ok(merged) => merged,
                Err(error) => return Latest::Records(Err(error.into())),
            };
            last = (change.envelope, change.event_date);
        }
        let (envelope, event_date) = last;
        Latest::Records(R::from_noun(&envelope, &noun, event_date, cx))
    }
}

/// What a document in the window is now.
enum Latest<R> {
    Records(Result<Vec<R>>),
    Deleted(Deleted),
}

/// A document whose newest variation in the window is a `Delete`.
#[derive(Debug, Clone)]
pub(crate) struct Deleted {
    /// Its id.
    pub document: String,
    /// The `Delete`'s `variationID`, where it names one.
    pub variation: Option<u64>,
    /// When the Data Lake received it (else the BOD's `CreationDateTime`).
    pub at: Option<DateTime<Utc>>,
}

/// The window's documents, each folded to what it is now.
struct WindowDocs<N> {
    documents: Vec<Document<N>>,
    by_key: HashMap<VariationKey, usize>,
    read: usize,
}

impl<N: Noun> WindowDocs<N> {
    fn new() -> Self {
        WindowDocs {
            documents: Vec::new(),
            by_key: HashMap::new(),
            read: 0,
        }
    }

    fn add(&mut self, payload: &PayloadRef, mut bod: Bod<N>, cx: &BodContext) {
        let event_date = payload
            .event_date
            .as_deref()
            .and_then(crate::values::parse_datetime);
        let kind = match bod.verb_area.action_code() {
            Some(ActionCode::Delete) => Kind::Delete,
            Some(ActionCode::Change) => Kind::Change,
            _ => Kind::Full,
        };
        let nouns = std::mem::take(&mut bod.nouns);
        let keys: Vec<_> = nouns.iter().map(|noun| key_for(&bod, noun)).collect();
        let envelope = Arc::new(bod);
        for (noun, key) in nouns.into_iter().zip(keys) {
            let (key, variation) = match key {
                Some((key, variation)) => (Some(key), variation),
                None => (None, None),
            };
            if let Some(key) = &key
                && !cx.accounting_entity.is_empty()
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
            let order = self.read;
            self.read += 1;
            let variation = Variation {
                variation,
                kind,
                envelope: envelope.clone(),
                noun,
                event_date,
            };
            let index = match key.as_ref().and_then(|k| self.by_key.get(k)) {
                Some(&index) => index,
                None => {
                    self.documents.push(Document {
                        order,
                        key: key.clone(),
                        base: None,
                        changes: Vec::new(),
                    });
                    let index = self.documents.len() - 1;
                    if let Some(key) = key {
                        self.by_key.insert(key, index);
                    }
                    index
                }
            };
            if let Some(document) = self.documents.get_mut(index) {
                document.add(order, variation);
            }
        }
    }

    /// The keys of the documents whose changes have nothing to merge onto in the window.
    fn needing_history(&self) -> Vec<VariationKey> {
        self.documents
            .iter()
            .filter(|d| d.needs_history())
            .filter_map(|d| d.key.clone())
            .collect()
    }

    /// Remove the documents whose changes still have nothing to merge onto; their keys.
    fn take_unresolved(&mut self) -> Vec<VariationKey> {
        let mut keys = Vec::new();
        self.documents.retain(|d| {
            let Some(key) = d.key.as_ref().filter(|_| d.needs_history()) else {
                return true;
            };
            keys.push(key.clone());
            false
        });
        self.by_key = self
            .documents
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.key.clone().map(|k| (k, i)))
            .collect();
        keys
    }

    /// Take `history`'s version of each document it holds whole (a document whose changes had
    /// nothing to merge onto in this window): history holds every variation, including this
    /// window's.
    fn complete_from(&mut self, mut history: WindowDocs<N>) {
        for document in &mut self.documents {
            if !document.needs_history() {
                continue;
            }
            let Some(found) = document
                .key
                .as_ref()
                .and_then(|k| history.by_key.get(k))
                .and_then(|&i| history.documents.get_mut(i))
            else {
                continue;
            };
            if found.base.is_some() {
                document.base = found.base.take();
                document.changes = std::mem::take(&mut found.changes);
            }
        }
    }

    /// Drop the documents whose variation is older than one seen in an earlier window (kept in
    /// `cx.versions`), noting the others'. A store that cannot be reached drops nothing: the
    /// window cannot commit without it either, so nothing stale is written.
    async fn drop_stale(&mut self, cx: &BodContext) {
        let Some(BodStore(store)) = &cx.store else {
            return;
        };
        // Variations count per document, entity, location and sender, as the window counts
        // them. One round trip to the store for all of them.
        let live: Vec<(usize, String, u64)> = self
            .documents
            .iter()
            .enumerate()
            .filter_map(|(index, d)| {
                let key = d.key.as_ref()?;
                let document = format!(
                    "{}|{}|{}|{}|{}",
                    key.noun,
                    key.accounting_entity.as_deref().unwrap_or_default(),
                    key.location.as_deref().unwrap_or_default(),
                    key.lid.as_deref().unwrap_or_default(),
                    key.document_id
                );
                Some((index, document, d.newest()?))
            })
            .collect();
        if live.is_empty() {
            return;
        }
        let seen: Vec<(String, u64)> = live.iter().map(|(_, d, v)| (d.clone(), *v)).collect();
        let newest = match store.note_versions(&cx.tenant, &seen).await {
            Ok(newest) => newest,
            Err(error) => {
                tracing::warn!(%error, "cannot note the window's BOD variations; keeping them");
                return;
            }
        };
        let mut stale = vec![false; self.documents.len()];
        for ((index, document, variation), newest) in live.iter().zip(&newest) {
            if *newest > *variation {
                tracing::info!(
                    %document,
                    variation,
                    newest,
                    "dropping a BOD variation older than one seen in an earlier window"
                );
                stale[*index] = true;
            }
        }
        let mut index = 0;
        self.documents.retain(|_| {
            index += 1;
            !stale[index - 1]
        });
    }

    fn into_window<R: FromBod<Noun = N>>(mut self, cx: &BodContext) -> ReadWindow<R> {
        self.documents.sort_by_key(|d| d.order);
        let mut window = ReadWindow {
            results: Vec::new(),
            deleted: Vec::new(),
        };
        for document in self.documents {
            match document.resolve::<R>(cx) {
                Latest::Records(Ok(records)) => window.results.extend(records.into_iter().map(Ok)),
                Latest::Records(Err(error)) => window.results.push(Err(error)),
                Latest::Deleted(deleted) => window.deleted.push(deleted),
            }
        }
        window
    }
}

/// Every payload of `R::DOCUMENT` published at or after `since`, folded per document; the
/// payloads that could not be fetched or parsed; and the error that ended the listing early.
async fn collect<R: FromBod>(
    lake: &DataLake,
    since: Option<DateTime<Utc>>,
    page_size: u32,
    cx: &BodContext,
) -> (WindowDocs<R::Noun>, Vec<Error>, Option<Error>) {
    let fetched = lake
        .list(R::DOCUMENT, since, page_size)
        .map_ok(|payload| async move {
            let bod = lake.fetch_bod::<R::Noun>(&payload.dl_id).await;
            Ok::<_, Error>((payload, bod))
        })
        .try_buffered(CONCURRENT_FETCHES);
    futures::pin_mut!(fetched);
    let mut docs = WindowDocs::new();
    let mut failures = Vec::new();
    while let Some(item) = fetched.next().await {
        match item {
            Ok((payload, Ok(bod))) => docs.add(&payload, bod, cx),
            Ok((payload, Err(error))) => {
                tracing::warn!(dl_id = %payload.dl_id, %error, "a Data Lake payload could not be read");
                failures.push(error);
            }
            Err(error) => return (docs, failures, Some(error)),
        }
    }
    (docs, failures, None)
}

/// What a window read: each document as it is now, in read order (a payload that cannot be
/// fetched, parsed or converted is one `Err` item, a failed list the last), and the documents
/// it read as deleted.
pub(crate) struct ReadWindow<R> {
    pub results: Vec<Result<R>>,
    pub deleted: Vec<Deleted>,
}

/// Read one window: every payload of `R::DOCUMENT` published at or after `since`, each
/// document as its newest variation says (`Change`s merged onto the whole variation before
/// them, read from the Data Lake's history when the window lacks it; `Delete`s apart).
pub(crate) async fn read_window<R: FromBod>(
    lake: &DataLake,
    since: Option<DateTime<Utc>>,
    page_size: u32,
    cx: &BodContext,
) -> ReadWindow<R> {
    let (mut docs, failures, mut list_error) = collect::<R>(lake, since, page_size, cx).await;
    let missing = docs.needing_history();
    if since.is_some() && list_error.is_none() && !missing.is_empty() {
        // Rare (ION discourages `Change`), and costly: the Data Lake lists by document name
        // only, so the whole history of the noun is read once for all of them.
        tracing::info!(
            noun = <R::Noun as Noun>::NAME,
            documents = missing.len(),
            "reading the Data Lake history for changes whose whole document is older than the window"
        );
        let (history, history_failures, error) = collect::<R>(lake, None, page_size, cx).await;
        docs.complete_from(history);
        if !history_failures.is_empty() || error.is_some() {
            // The whole variation may be among what could not be read: a change taken whole
            // would drop what it does not carry, so the document fails the window instead
            // (read again by the next one).
            for key in docs.take_unresolved() {
                tracing::warn!(document = %key.document_id, "the Data Lake history could not be read whole; a Change waits for its whole variation");
                list_error.get_or_insert(Error::MissingValue {
                    record: R::DOCUMENT.to_owned(),
                    property: format!(
                        "the whole variation of {} before its Change (the Data Lake history could not be read whole)",
                        key.document_id
                    ),
                });
            }
        }
        list_error = list_error.or(error);
    }
    docs.drop_stale(cx).await;
    let mut window = docs.into_window(cx);
    window.results.extend(failures.into_iter().map(Err));
    window.results.extend(list_error.map(Err));
    window
}

/// Queue each document the window read as deleted on its stream's push queue, so the runner
/// applies the stream's delete policy ([`Pipeline::when_deleted`]) once it reads the document
/// as gone. Without a store (or for the chart, read whole) it is only logged.
///
/// [`Pipeline::when_deleted`]: sync_core::engine::Pipeline::when_deleted
async fn queue_deleted<R: FromBod>(
    deleted: &[Deleted],
    cx: &BodContext,
) -> std::result::Result<(), SourceError> {
    let queue = stream_of(R::DOCUMENT).filter(|(stream, _)| *stream != StreamId::gl_accounts());
    for gone in deleted {
        let (Some(BodStore(store)), Some((stream, kind))) = (&cx.store, &queue) else {
            tracing::info!(
                noun = <R::Noun as Noun>::NAME,
                document = %gone.document,
                "skipping a document whose newest BOD in the window is a Delete"
            );
            continue;
        };
        let trigger = Trigger {
            // The same Delete read again (a retried window) is queued once.
            delivery_key: format!(
                "datalake|{}|{}|{}|{}",
                R::DOCUMENT,
                cx.accounting_entity,
                gone.document,
                gone.variation.map_or_else(String::new, |v| v.to_string())
            ),
            event: format!("{} Delete", R::DOCUMENT),
            target: cx.identity(&gone.document),
            hint: None,
            deleted: true,
            // Data, not the clock: the Data Lake's receipt of the Delete.
            received_at: gone.at.unwrap_or(DateTime::UNIX_EPOCH),
        };
        queue::enqueue(
            store.as_ref(),
            &cx.tenant,
            &push_queue(stream),
            *kind,
            "datalake",
            &trigger,
        )
        .await
        .map_err(|error| {
            SourceError::transient(format!(
                "cannot queue the deletion of {} {}: {error}",
                R::DOCUMENT,
                gone.document
            ))
        })?;
        tracing::info!(document = %gone.document, "queued a document the Data Lake reads as deleted");
    }
    Ok(())
}

/// The stream and record kind a `Sync` document feeds.
pub(crate) fn stream_of(document: &str) -> Option<(StreamId, RecordKind)> {
    let noun = document
        .strip_prefix("Sync")
        .or_else(|| document.strip_prefix("Show"))
        .unwrap_or(document);
    match noun {
        n if n == crate::bod::SupplierPartyMaster::NAME => {
            Some((StreamId::suppliers(), RecordKind::Supplier))
        }
        n if n == crate::bod::PurchaseOrder::NAME => {
            Some((StreamId::purchase_orders(), RecordKind::PurchaseOrder))
        }
        n if n == crate::bod::SupplierInvoice::NAME => {
            Some((StreamId::supplier_invoices(), RecordKind::SupplierInvoice))
        }
        n if n == crate::bod::ChartOfAccounts::NAME => {
            Some((StreamId::gl_accounts(), RecordKind::GlAccount))
        }
        _ => None,
    }
}

/// [`read_window`] as the engine's stream.
pub(crate) fn poll<'a, R: FromBod>(
    lake: &'a DataLake,
    since: Option<DateTime<Utc>>,
    page_size: u32,
    cx: BodContext,
) -> BoxStream<'a, std::result::Result<R, SourceError>> {
    futures::stream::once(async move {
        let window = read_window::<R>(lake, since, page_size, &cx).await;
        // A deletion that cannot be queued fails the window, so it is read again.
        let queued = queue_deleted::<R>(&window.deleted, &cx)
            .await
            .err()
            .map(Err);
        let results = window.results.into_iter().map(|r| r.map_err(source_error));
        futures::stream::iter(results.chain(queued))
    })
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
    // The whole history holds every document's newest variation: nothing in it can be stale,
    // so its variations are not noted (that would be one upsert per document ever published).
    let cx = BodContext {
        store: None,
        ..cx.clone()
    };
    let mut newest: HashMap<String, R> = HashMap::new();
    let mut first_error = None;
    for result in read_window::<R>(lake, None, page_size, &cx).await.results {
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
