//! `SupplierPartyMaster` and `CustomerPartyMaster` (same shape, different noun).

use std::ops::{Deref, DerefMut};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bod::envelope::Noun;
use crate::bod::error::BodError;
use crate::bod::types::{
    Classification, Communication, Identifier, Location, PartyIds, Status, UserArea, XmlMapped,
    parse_datetime, push_all_mapped, push_datetime, push_mapped,
};
use crate::bod::xml::{XmlElement, XmlPath};

/// The body of a party master noun (supplier or customer).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PartyMaster {
    /// `PartyIDs` (`ID` with `accountingEntity`/`variationID`, `TaxID`).
    pub party_ids: PartyIds,
    /// `Name`.
    pub name: Option<String>,
    /// `Location` elements (with `Address`).
    pub locations: Vec<Location>,
    /// `Communication` elements.
    pub communications: Vec<Communication>,
    /// `Status`.
    pub status: Option<Status>,
    /// `CurrencyCode`.
    pub currency_code: Option<String>,
    /// `PaymentTermID`.
    pub payment_term_id: Option<String>,
    /// `PaymentMethodCode`.
    pub payment_method_code: Option<String>,
    /// `LanguageCode`.
    pub language_code: Option<String>,
    /// `Classification` elements (e.g. `Code@listID="Supplier Group"`).
    pub classifications: Vec<Classification>,
    /// `LastModificationDateTime`.
    pub last_modification_date_time: Option<DateTime<Utc>>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children (`BuyerPersonReference`, `FinancialParty`, `SalesPersonReference`,
    /// ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl PartyMaster {
    /// The party's key: the first `PartyIDs/ID`.
    pub fn primary_id(&self) -> Option<&Identifier> {
        self.party_ids.ids.first()
    }

    fn read(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = PartyMaster::default();
        let mut saw_ids = false;
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("PartyIDs") if !saw_ids => {
                    saw_ids = true;
                    out.party_ids = PartyIds::from_xml(c, &at.child("PartyIDs"))?;
                }
                Some("Name") if out.name.is_none() => out.name = Some(c.into_text()),
                Some("Location") => out
                    .locations
                    .push(Location::from_xml(c, &at.child("Location"))?),
                Some("Communication") => out
                    .communications
                    .push(Communication::from_xml(c, &at.child("Communication"))?),
                Some("Status") => out.status = Some(Status::from_xml(c, &at.child("Status"))?),
                Some("CurrencyCode") => out.currency_code = Some(c.into_text()),
                Some("PaymentTermID") => out.payment_term_id = Some(c.into_text()),
                Some("PaymentMethodCode") => out.payment_method_code = Some(c.into_text()),
                Some("LanguageCode") => out.language_code = Some(c.into_text()),
                Some("Classification") => out
                    .classifications
                    .push(Classification::from_xml(c, &at.child("Classification"))?),
                Some("LastModificationDateTime") => {
                    out.last_modification_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("LastModificationDateTime"),
                    )?)
                }
                Some("UserArea") => {
                    out.user_area = Some(UserArea::from_xml(c, &at.child("UserArea"))?)
                }
                _ => out.extensions.push(c),
            }
        }
        if out.party_ids.ids.is_empty() {
            return Err(BodError::MissingElement {
                path: at.child("PartyIDs").child("ID").render(),
            });
        }
        Ok(out)
    }

    fn write(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        el.push(self.party_ids.to_xml("PartyIDs"));
        el.push_text("Name", self.name.as_ref());
        push_all_mapped(&mut el, "Location", &self.locations);
        push_all_mapped(&mut el, "Communication", &self.communications);
        push_mapped(&mut el, "Status", self.status.as_ref());
        el.push_text("CurrencyCode", self.currency_code.as_ref());
        el.push_text("PaymentTermID", self.payment_term_id.as_ref());
        el.push_text("PaymentMethodCode", self.payment_method_code.as_ref());
        el.push_text("LanguageCode", self.language_code.as_ref());
        push_all_mapped(&mut el, "Classification", &self.classifications);
        push_datetime(
            &mut el,
            "LastModificationDateTime",
            self.last_modification_date_time.as_ref(),
        );
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }
}

macro_rules! party_noun {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
        pub struct $ty {
            /// The party data.
            pub party: PartyMaster,
        }

        impl Deref for $ty {
            type Target = PartyMaster;
            fn deref(&self) -> &PartyMaster {
                &self.party
            }
        }

        impl DerefMut for $ty {
            fn deref_mut(&mut self) -> &mut PartyMaster {
                &mut self.party
            }
        }

        impl Noun for $ty {
            const NAME: &'static str = $name;
            fn from_element(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
                Ok($ty {
                    party: PartyMaster::read(el, at)?,
                })
            }
            fn to_element(&self) -> XmlElement {
                self.party.write($name)
            }
            fn document_identifier(&self) -> Option<&Identifier> {
                self.party.primary_id()
            }
        }
    };
}

party_noun!(
    /// `SupplierPartyMaster` (published by M3, FSM, SunSystems; `SyncSupplierPartyMaster`).
    SupplierPartyMaster,
    "SupplierPartyMaster"
);
party_noun!(
    /// `CustomerPartyMaster` (`SyncCustomerPartyMaster`).
    CustomerPartyMaster,
    "CustomerPartyMaster"
);
