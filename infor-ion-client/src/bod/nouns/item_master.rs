//! `ItemMaster` (`SyncItemMaster`). Third-party samples show `ItemMasterHeader` with `ItemID/ID`,
//! `Description`, `Classification`, `UserArea`; `BaseUOMCode`, `Status` and
//! `LastModificationDateTime` are modelled too but UNCONFIRMED for Infor's publishers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bod::envelope::Noun;
use crate::bod::error::BodError;
use crate::bod::types::{
    Classification, DocumentId, Identifier, Status, UserArea, XmlMapped, parse_datetime,
    push_all_mapped, push_datetime, push_mapped,
};
use crate::bod::xml::{XmlElement, XmlPath};

/// `ItemMasterHeader`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemMasterHeader {
    /// `ItemID` elements (the first is the item number and carries variationID).
    pub item_ids: Vec<DocumentId>,
    /// `Description` elements.
    pub descriptions: Vec<String>,
    /// `Classification` elements.
    pub classifications: Vec<Classification>,
    /// `BaseUOMCode`.
    pub base_uom_code: Option<String>,
    /// `Status`.
    pub status: Option<Status>,
    /// `LastModificationDateTime`.
    pub last_modification_date_time: Option<DateTime<Utc>>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for ItemMasterHeader {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = ItemMasterHeader::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("ItemID") => out
                    .item_ids
                    .push(DocumentId::from_xml(c, &at.child("ItemID"))?),
                Some("Description") => out.descriptions.push(c.into_text()),
                Some("Classification") => out
                    .classifications
                    .push(Classification::from_xml(c, &at.child("Classification"))?),
                Some("BaseUOMCode") => out.base_uom_code = Some(c.into_text()),
                Some("Status") => out.status = Some(Status::from_xml(c, &at.child("Status"))?),
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
        if out.item_ids.is_empty() {
            return Err(BodError::MissingElement {
                path: at.child("ItemID").render(),
            });
        }
        Ok(out)
    }

    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        push_all_mapped(&mut el, "ItemID", &self.item_ids);
        for d in &self.descriptions {
            el.push(XmlElement::oagis("Description").with_text(d.clone()));
        }
        push_all_mapped(&mut el, "Classification", &self.classifications);
        el.push_text("BaseUOMCode", self.base_uom_code.as_ref());
        push_mapped(&mut el, "Status", self.status.as_ref());
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

/// `ItemMaster`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemMaster {
    /// `ItemMasterHeader`.
    pub header: ItemMasterHeader,
    /// Other children (`ItemLocation`, `GlobalItem`, ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl ItemMaster {
    /// The item number: the first `ItemID/ID` value.
    pub fn item_number(&self) -> Option<&str> {
        self.header.item_ids.first().map(|i| i.id.value.as_str())
    }
}

impl Noun for ItemMaster {
    const NAME: &'static str = "ItemMaster";

    fn from_element(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut header = None;
        let mut out = ItemMaster::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("ItemMasterHeader") if header.is_none() => {
                    header = Some(ItemMasterHeader::from_xml(
                        c,
                        &at.child("ItemMasterHeader"),
                    )?)
                }
                _ => out.extensions.push(c),
            }
        }
        out.header = header.ok_or_else(|| BodError::MissingElement {
            path: at.child("ItemMasterHeader").render(),
        })?;
        Ok(out)
    }

    fn to_element(&self) -> XmlElement {
        let mut el = XmlElement::oagis(Self::NAME);
        el.push(self.header.to_xml("ItemMasterHeader"));
        el.push_all(&self.extensions);
        el
    }

    fn document_identifier(&self) -> Option<&Identifier> {
        self.header.item_ids.first().map(|i| &i.id)
    }
}
