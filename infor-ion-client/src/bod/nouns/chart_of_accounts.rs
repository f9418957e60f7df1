//! `ChartOfAccounts` (`SyncChartOfAccounts`). Infor's docs name the noun but no source shows its
//! element structure (UNCONFIRMED); this model reads an optional `DocumentID` and `GLAccount`
//! entries (`GLNominalAccount`, `Description`, `TypeCode`, `Status`, `CurrencyCode`, plus
//! `AccountingChartReference/ID` as a third-party journal-BOD template uses it) and keeps
//! everything else verbatim.

use serde::{Deserialize, Serialize};

use crate::bod::envelope::Noun;
use crate::bod::error::BodError;
use crate::bod::types::{
    DocumentId, Identifier, Status, UserArea, XmlMapped, push_all_mapped, push_mapped,
};
use crate::bod::xml::{XmlElement, XmlPath};

/// One GL account.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GlAccount {
    /// `GLNominalAccount`: the account number.
    pub gl_nominal_account: String,
    /// `AccountingChartReference/ID`.
    pub accounting_chart_id: Option<Identifier>,
    /// `Description` elements.
    pub descriptions: Vec<String>,
    /// `TypeCode` (e.g. balance sheet / profit and loss, or the ERP's account type).
    pub type_code: Option<String>,
    /// `Status`.
    pub status: Option<Status>,
    /// `CurrencyCode`.
    pub currency_code: Option<String>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for GlAccount {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = GlAccount::default();
        let mut number = None;
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("GLNominalAccount") if number.is_none() => number = Some(c.into_text()),
                Some("AccountingChartReference")
                    if c.elements().count() == 1
                        && c.elements().all(|e| e.oagis_name() == Some("ID")) =>
                {
                    let p = at.child("AccountingChartReference");
                    for id in c.into_elements() {
                        out.accounting_chart_id = Some(Identifier::from_xml(id, &p.child("ID"))?);
                    }
                }
                Some("Description") => out.descriptions.push(c.into_text()),
                Some("TypeCode") => out.type_code = Some(c.into_text()),
                Some("Status") => out.status = Some(Status::from_xml(c, &at.child("Status"))?),
                Some("CurrencyCode") => out.currency_code = Some(c.into_text()),
                Some("UserArea") => {
                    out.user_area = Some(UserArea::from_xml(c, &at.child("UserArea"))?)
                }
                _ => out.extensions.push(c),
            }
        }
        out.gl_nominal_account = number.ok_or_else(|| BodError::MissingElement {
            path: at.child("GLNominalAccount").render(),
        })?;
        Ok(out)
    }

    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        el.push(XmlElement::oagis("GLNominalAccount").with_text(self.gl_nominal_account.clone()));
        if let Some(id) = &self.accounting_chart_id {
            let mut r = XmlElement::oagis("AccountingChartReference");
            r.push(id.to_xml("ID"));
            el.push(r);
        }
        for d in &self.descriptions {
            el.push(XmlElement::oagis("Description").with_text(d.clone()));
        }
        el.push_text("TypeCode", self.type_code.as_ref());
        push_mapped(&mut el, "Status", self.status.as_ref());
        el.push_text("CurrencyCode", self.currency_code.as_ref());
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }
}

/// `ChartOfAccounts`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChartOfAccounts {
    /// `DocumentID` (the chart's id, with variationID), when sent.
    pub document_id: Option<DocumentId>,
    /// `GLAccount` entries in document order.
    pub gl_accounts: Vec<GlAccount>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl Noun for ChartOfAccounts {
    const NAME: &'static str = "ChartOfAccounts";

    fn from_element(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = ChartOfAccounts::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("DocumentID") if out.document_id.is_none() => {
                    out.document_id = Some(DocumentId::from_xml(c, &at.child("DocumentID"))?)
                }
                Some("GLAccount") => {
                    let n = out.gl_accounts.len() + 1;
                    out.gl_accounts
                        .push(GlAccount::from_xml(c, &at.nth("GLAccount", n))?)
                }
                Some("UserArea") => {
                    out.user_area = Some(UserArea::from_xml(c, &at.child("UserArea"))?)
                }
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }

    fn to_element(&self) -> XmlElement {
        let mut el = XmlElement::oagis(Self::NAME);
        push_mapped(&mut el, "DocumentID", self.document_id.as_ref());
        push_all_mapped(&mut el, "GLAccount", &self.gl_accounts);
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }

    fn document_identifier(&self) -> Option<&Identifier> {
        self.document_id.as_ref().map(|d| &d.id)
    }
}
