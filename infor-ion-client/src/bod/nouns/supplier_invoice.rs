//! `SupplierInvoice` (`SyncSupplierInvoice`). Header elements follow a third-party M3 invoice
//! mapping; the line element name `SupplierInvoiceLine` is UNCONFIRMED.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::document;
use super::purchase_order::PaymentTerm;
use crate::bod::envelope::Noun;
use crate::bod::error::BodError;
use crate::bod::types::{
    Amount, DocumentId, DocumentReference, Identifier, Item, Party, Quantity, Status, UnitPrice,
    UserArea, XmlMapped, parse_datetime, parse_decimal, push_all_mapped, push_datetime,
    push_mapped,
};
use crate::bod::xml::{XmlElement, XmlPath};

/// `Tax`: amount, basis and rate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tax {
    /// `Amount`.
    pub amount: Option<Amount>,
    /// `BasisAmount`.
    pub basis_amount: Option<Amount>,
    /// `Calculation/RateNumeric` (percent).
    pub rate_numeric: Option<Decimal>,
    /// Other children of `Calculation`, kept verbatim.
    pub calculation_extensions: Vec<XmlElement>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for Tax {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = Tax::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("Amount") => out.amount = Some(Amount::from_xml(c, &at.child("Amount"))?),
                Some("BasisAmount") => {
                    out.basis_amount = Some(Amount::from_xml(c, &at.child("BasisAmount"))?)
                }
                Some("Calculation") => {
                    let cp = at.child("Calculation");
                    for r in c.into_elements() {
                        if r.oagis_name() == Some("RateNumeric") {
                            out.rate_numeric =
                                Some(parse_decimal(&r.text_cow(), &cp.child("RateNumeric"))?);
                        } else {
                            out.calculation_extensions.push(r);
                        }
                    }
                }
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        push_mapped(&mut el, "Amount", self.amount.as_ref());
        push_mapped(&mut el, "BasisAmount", self.basis_amount.as_ref());
        if self.rate_numeric.is_some() || !self.calculation_extensions.is_empty() {
            let mut calc = XmlElement::oagis("Calculation");
            if let Some(r) = &self.rate_numeric {
                calc.push(XmlElement::oagis("RateNumeric").with_text(r.to_string()));
            }
            calc.push_all(&self.calculation_extensions);
            el.push(calc);
        }
        el.push_all(&self.extensions);
        el
    }
}

/// `SupplierInvoiceHeader`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SupplierInvoiceHeader {
    /// `DocumentID`.
    pub document_id: DocumentId,
    /// `AlternateDocumentID` elements (e.g. the supplier's own invoice number).
    pub alternate_document_ids: Vec<DocumentId>,
    /// `DocumentDateTime` (invoice date).
    pub document_date_time: Option<DateTime<Utc>>,
    /// `LastModificationDateTime`.
    pub last_modification_date_time: Option<DateTime<Utc>>,
    /// `Status`.
    pub status: Option<Status>,
    /// `TotalAmount`.
    pub total_amount: Option<Amount>,
    /// `Tax` elements.
    pub taxes: Vec<Tax>,
    /// `PaymentTerm`.
    pub payment_term: Option<PaymentTerm>,
    /// `PurchaseOrderReference` elements.
    pub purchase_order_references: Vec<DocumentReference>,
    /// `SupplierParty`.
    pub supplier_party: Option<Party>,
    /// `RemitToParty`.
    pub remit_to_party: Option<Party>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for SupplierInvoiceHeader {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = SupplierInvoiceHeader::default();
        let mut doc = None;
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("DocumentID") if doc.is_none() => {
                    doc = Some(DocumentId::from_xml(c, &at.child("DocumentID"))?)
                }
                Some("AlternateDocumentID") => out
                    .alternate_document_ids
                    .push(DocumentId::from_xml(c, &at.child("AlternateDocumentID"))?),
                Some("DocumentDateTime") => {
                    out.document_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("DocumentDateTime"),
                    )?)
                }
                Some("LastModificationDateTime") => {
                    out.last_modification_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("LastModificationDateTime"),
                    )?)
                }
                Some("Status") => out.status = Some(Status::from_xml(c, &at.child("Status"))?),
                Some("TotalAmount") => {
                    out.total_amount = Some(Amount::from_xml(c, &at.child("TotalAmount"))?)
                }
                Some("Tax") => out.taxes.push(Tax::from_xml(c, &at.child("Tax"))?),
                Some("PaymentTerm") => {
                    out.payment_term = Some(PaymentTerm::from_xml(c, &at.child("PaymentTerm"))?)
                }
                Some("PurchaseOrderReference") => {
                    out.purchase_order_references
                        .push(DocumentReference::from_xml(
                            c,
                            &at.child("PurchaseOrderReference"),
                        )?)
                }
                Some("SupplierParty") => {
                    out.supplier_party = Some(Party::from_xml(c, &at.child("SupplierParty"))?)
                }
                Some("RemitToParty") => {
                    out.remit_to_party = Some(Party::from_xml(c, &at.child("RemitToParty"))?)
                }
                Some("UserArea") => {
                    out.user_area = Some(UserArea::from_xml(c, &at.child("UserArea"))?)
                }
                _ => out.extensions.push(c),
            }
        }
        out.document_id = doc.ok_or_else(|| BodError::MissingElement {
            path: at.child("DocumentID").render(),
        })?;
        Ok(out)
    }

    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        el.push(self.document_id.to_xml("DocumentID"));
        push_all_mapped(&mut el, "AlternateDocumentID", &self.alternate_document_ids);
        push_datetime(
            &mut el,
            "DocumentDateTime",
            self.document_date_time.as_ref(),
        );
        push_datetime(
            &mut el,
            "LastModificationDateTime",
            self.last_modification_date_time.as_ref(),
        );
        push_mapped(&mut el, "Status", self.status.as_ref());
        push_mapped(&mut el, "TotalAmount", self.total_amount.as_ref());
        push_all_mapped(&mut el, "Tax", &self.taxes);
        push_mapped(&mut el, "PaymentTerm", self.payment_term.as_ref());
        push_all_mapped(
            &mut el,
            "PurchaseOrderReference",
            &self.purchase_order_references,
        );
        push_mapped(&mut el, "SupplierParty", self.supplier_party.as_ref());
        push_mapped(&mut el, "RemitToParty", self.remit_to_party.as_ref());
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }
}

/// `SupplierInvoiceLine` (element name UNCONFIRMED).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SupplierInvoiceLine {
    /// `LineNumber`.
    pub line_number: Option<String>,
    /// `Item`.
    pub item: Option<Item>,
    /// `Description`.
    pub description: Option<String>,
    /// `Quantity`.
    pub quantity: Option<Quantity>,
    /// `UnitPrice`.
    pub unit_price: Option<UnitPrice>,
    /// `ExtendedAmount`.
    pub extended_amount: Option<Amount>,
    /// `TotalAmount`.
    pub total_amount: Option<Amount>,
    /// `Tax` elements.
    pub taxes: Vec<Tax>,
    /// `PurchaseOrderReference` (order and line matched).
    pub purchase_order_reference: Option<DocumentReference>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for SupplierInvoiceLine {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = SupplierInvoiceLine::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("LineNumber") => out.line_number = Some(c.into_text()),
                Some("Item") => out.item = Some(Item::from_xml(c, &at.child("Item"))?),
                Some("Description") => out.description = Some(c.into_text()),
                Some("Quantity") => {
                    out.quantity = Some(Quantity::from_xml(c, &at.child("Quantity"))?)
                }
                Some("UnitPrice") => {
                    out.unit_price = Some(UnitPrice::from_xml(c, &at.child("UnitPrice"))?)
                }
                Some("ExtendedAmount") => {
                    out.extended_amount = Some(Amount::from_xml(c, &at.child("ExtendedAmount"))?)
                }
                Some("TotalAmount") => {
                    out.total_amount = Some(Amount::from_xml(c, &at.child("TotalAmount"))?)
                }
                Some("Tax") => out.taxes.push(Tax::from_xml(c, &at.child("Tax"))?),
                Some("PurchaseOrderReference") => {
                    out.purchase_order_reference = Some(DocumentReference::from_xml(
                        c,
                        &at.child("PurchaseOrderReference"),
                    )?)
                }
                Some("UserArea") => {
                    out.user_area = Some(UserArea::from_xml(c, &at.child("UserArea"))?)
                }
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }

    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        el.push_text("LineNumber", self.line_number.as_ref());
        push_mapped(&mut el, "Item", self.item.as_ref());
        el.push_text("Description", self.description.as_ref());
        push_mapped(&mut el, "Quantity", self.quantity.as_ref());
        push_mapped(&mut el, "UnitPrice", self.unit_price.as_ref());
        push_mapped(&mut el, "ExtendedAmount", self.extended_amount.as_ref());
        push_mapped(&mut el, "TotalAmount", self.total_amount.as_ref());
        push_all_mapped(&mut el, "Tax", &self.taxes);
        push_mapped(
            &mut el,
            "PurchaseOrderReference",
            self.purchase_order_reference.as_ref(),
        );
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }
}

/// Where on a [`SupplierInvoiceLine`] its GL account was found, most specific first: an
/// account written as a `GLNominalAccount` beats an `ID` (which may be a combination or
/// distribution id), and one under `DistributionAccount` beats one elsewhere on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GlAccountForm {
    /// `DistributionAccount/GLAccount/GLNominalAccount` (the journal BODs' account element,
    /// nested).
    DistributionGlAccount,
    /// `DistributionAccount/GLNominalAccount`.
    DistributionNominal,
    /// `DistributionAccount/ID`.
    DistributionId,
    /// `DistributionAccount` holding the account as its text.
    DistributionText,
    /// `GLAccount/GLNominalAccount` on the line itself.
    LineGlAccount,
    /// `GLNominalAccount` on the line itself.
    LineNominal,
    /// The `UserArea` property `GLAccount`, else `m3.AIT1` (M3's account dimension).
    UserArea,
}

impl GlAccountForm {
    /// The element path below the line, for messages and logs.
    pub fn path(self) -> &'static str {
        match self {
            GlAccountForm::DistributionGlAccount => {
                "DistributionAccount/GLAccount/GLNominalAccount"
            }
            GlAccountForm::DistributionNominal => "DistributionAccount/GLNominalAccount",
            GlAccountForm::DistributionId => "DistributionAccount/ID",
            GlAccountForm::DistributionText => "DistributionAccount",
            GlAccountForm::LineGlAccount => "GLAccount/GLNominalAccount",
            GlAccountForm::LineNominal => "GLNominalAccount",
            GlAccountForm::UserArea => {
                "UserArea/Property/NameValue[@name='GLAccount' or 'm3.AIT1']"
            }
        }
    }
}

/// A line's GL account and the form it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineGlAccount {
    /// The account, trimmed.
    pub account: String,
    /// Where it was found.
    pub form: GlAccountForm,
}

/// The account `el` holds as its non-blank, trimmed text, read in `form`.
fn found(form: GlAccountForm, el: Option<&XmlElement>) -> Option<LineGlAccount> {
    let text = el?.text_cow();
    let account = text.trim();
    (!account.is_empty()).then(|| LineGlAccount {
        account: account.to_owned(),
        form,
    })
}

/// The first child named `name`, by OAGIS name.
fn child<'a>(el: &'a XmlElement, name: &str) -> Option<&'a XmlElement> {
    el.elements().find(|c| c.oagis_name() == Some(name))
}

/// The most specific account one `DistributionAccount` element carries.
fn distribution_account(el: &XmlElement) -> Option<LineGlAccount> {
    [
        (
            GlAccountForm::DistributionGlAccount,
            child(el, "GLAccount").and_then(|g| child(g, "GLNominalAccount")),
        ),
        (
            GlAccountForm::DistributionNominal,
            child(el, "GLNominalAccount"),
        ),
        (GlAccountForm::DistributionId, child(el, "ID")),
        (GlAccountForm::DistributionText, Some(el)),
    ]
    .into_iter()
    .find_map(|(form, el)| found(form, el))
}

impl SupplierInvoiceLine {
    /// The GL account the line is distributed to, read from every form payloads use (see
    /// [`GlAccountForm`]) and taking the most specific; among equally specific ones the first
    /// in the document. `None` when the line carries no account (or only blank ones): the
    /// caller decides what an unallocated line means, nothing is guessed here.
    ///
    /// ```
    /// use infor_ion_client::bod::{Bod, GlAccountForm, SupplierInvoice};
    ///
    /// let xml = r#"<SyncSupplierInvoice xmlns="http://schema.infor.com/InforOAGIS/2">
    ///   <ApplicationArea><CreationDateTime>2026-01-01T00:00:00Z</CreationDateTime></ApplicationArea>
    ///   <DataArea><Sync/><SupplierInvoice>
    ///     <SupplierInvoiceHeader><DocumentID><ID>INV-1</ID></DocumentID></SupplierInvoiceHeader>
    ///     <SupplierInvoiceLine>
    ///       <DistributionAccount><GLNominalAccount>61000</GLNominalAccount></DistributionAccount>
    ///     </SupplierInvoiceLine>
    ///   </SupplierInvoice></DataArea>
    /// </SyncSupplierInvoice>"#;
    /// let bod = Bod::<SupplierInvoice>::from_str(xml)?;
    /// let account = bod.nouns[0].lines[0].gl_account().expect("an account");
    /// assert_eq!(account.account, "61000");
    /// assert_eq!(account.form, GlAccountForm::DistributionNominal);
    /// # Ok::<(), infor_ion_client::bod::BodError>(())
    /// ```
    pub fn gl_account(&self) -> Option<LineGlAccount> {
        let on_line = self
            .extensions
            .iter()
            .filter_map(|e| match e.oagis_name()? {
                "DistributionAccount" => distribution_account(e),
                "GLAccount" => found(GlAccountForm::LineGlAccount, child(e, "GLNominalAccount")),
                "GLNominalAccount" => found(GlAccountForm::LineNominal, Some(e)),
                _ => None,
            });
        let in_user_area = self.user_area.as_ref().and_then(|area| {
            ["GLAccount", "m3.AIT1"]
                .iter()
                .filter_map(|name| area.get(name))
                .map(str::trim)
                .find(|v| !v.is_empty())
                .map(|account| LineGlAccount {
                    account: account.to_owned(),
                    form: GlAccountForm::UserArea,
                })
        });
        // `min_by_key` keeps the first of equal keys: document order breaks ties.
        on_line.chain(in_user_area).min_by_key(|a| a.form)
    }
}

/// `SupplierInvoice`: header plus lines.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SupplierInvoice {
    /// `SupplierInvoiceHeader`.
    pub header: SupplierInvoiceHeader,
    /// `SupplierInvoiceLine` elements.
    pub lines: Vec<SupplierInvoiceLine>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl Noun for SupplierInvoice {
    const NAME: &'static str = "SupplierInvoice";

    fn from_element(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let body = document::read(el, at, "SupplierInvoiceHeader", "SupplierInvoiceLine")?;
        Ok(SupplierInvoice {
            header: body.header,
            lines: body.lines,
            extensions: body.extensions,
        })
    }

    fn to_element(&self) -> XmlElement {
        document::write(
            Self::NAME,
            ("SupplierInvoiceHeader", &self.header),
            ("SupplierInvoiceLine", &self.lines),
            &self.extensions,
        )
    }

    fn document_identifier(&self) -> Option<&Identifier> {
        Some(&self.header.document_id.id)
    }
}
