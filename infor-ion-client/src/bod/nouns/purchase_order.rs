//! `PurchaseOrder` (`SyncPurchaseOrder`, and `ProcessPurchaseOrder` for status write-back).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::document;
use crate::bod::envelope::Noun;
use crate::bod::error::BodError;
use crate::bod::types::{
    Amount, DocumentId, Identifier, Item, Note, Party, Quantity, Status, UnitPrice, UserArea,
    XmlMapped, parse_datetime, push_all_mapped, push_datetime, push_mapped,
};
use crate::bod::xml::{XmlElement, XmlPath};

/// `PaymentTerm`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentTerm {
    /// `PaymentTermCode`.
    pub payment_term_code: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// Other children (`Term/{ID,Description,Amount}`, ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for PaymentTerm {
    fn from_xml(el: XmlElement, _at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = PaymentTerm::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("PaymentTermCode") => out.payment_term_code = Some(c.into_text()),
                Some("Description") => out.description = Some(c.into_text()),
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        el.push_text("PaymentTermCode", self.payment_term_code.as_ref());
        el.push_text("Description", self.description.as_ref());
        el.push_all(&self.extensions);
        el
    }
}

/// `PurchaseOrderHeader`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PurchaseOrderHeader {
    /// `DocumentID` (its `ID` carries accountingEntity/location/lid/variationID).
    pub document_id: DocumentId,
    /// `DisplayID`.
    pub display_id: Option<String>,
    /// `LastModificationDateTime`.
    pub last_modification_date_time: Option<DateTime<Utc>>,
    /// `DocumentDateTime`.
    pub document_date_time: Option<DateTime<Utc>>,
    /// `OrderDateTime`.
    pub order_date_time: Option<DateTime<Utc>>,
    /// `Status`.
    pub status: Option<Status>,
    /// `Note` elements.
    pub notes: Vec<Note>,
    /// `SupplierParty`.
    pub supplier_party: Option<Party>,
    /// `ShipToParty`.
    pub ship_to_party: Option<Party>,
    /// `ShipFromParty`.
    pub ship_from_party: Option<Party>,
    /// `ExtendedAmount`.
    pub extended_amount: Option<Amount>,
    /// `TotalAmount`.
    pub total_amount: Option<Amount>,
    /// `PaymentTerm`.
    pub payment_term: Option<PaymentTerm>,
    /// `RequestedShipDateTime`.
    pub requested_ship_date_time: Option<DateTime<Utc>>,
    /// `PromisedDeliveryDateTime`.
    pub promised_delivery_date_time: Option<DateTime<Utc>>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children (`CustomerParty`, `TransportationTerm`, `LastModificationPerson`, ...),
    /// kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for PurchaseOrderHeader {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = PurchaseOrderHeader::default();
        let mut doc = None;
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("DocumentID") if doc.is_none() => {
                    doc = Some(DocumentId::from_xml(c, &at.child("DocumentID"))?)
                }
                Some("DisplayID") => out.display_id = Some(c.into_text()),
                Some("LastModificationDateTime") => {
                    out.last_modification_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("LastModificationDateTime"),
                    )?)
                }
                Some("DocumentDateTime") => {
                    out.document_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("DocumentDateTime"),
                    )?)
                }
                Some("OrderDateTime") => {
                    out.order_date_time =
                        Some(parse_datetime(&c.into_text(), &at.child("OrderDateTime"))?)
                }
                Some("Status") => out.status = Some(Status::from_xml(c, &at.child("Status"))?),
                Some("Note") => out.notes.push(Note::from_xml(c, &at.child("Note"))?),
                Some("SupplierParty") => {
                    out.supplier_party = Some(Party::from_xml(c, &at.child("SupplierParty"))?)
                }
                Some("ShipToParty") => {
                    out.ship_to_party = Some(Party::from_xml(c, &at.child("ShipToParty"))?)
                }
                Some("ShipFromParty") => {
                    out.ship_from_party = Some(Party::from_xml(c, &at.child("ShipFromParty"))?)
                }
                Some("ExtendedAmount") => {
                    out.extended_amount = Some(Amount::from_xml(c, &at.child("ExtendedAmount"))?)
                }
                Some("TotalAmount") => {
                    out.total_amount = Some(Amount::from_xml(c, &at.child("TotalAmount"))?)
                }
                Some("PaymentTerm") => {
                    out.payment_term = Some(PaymentTerm::from_xml(c, &at.child("PaymentTerm"))?)
                }
                Some("RequestedShipDateTime") => {
                    out.requested_ship_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("RequestedShipDateTime"),
                    )?)
                }
                Some("PromisedDeliveryDateTime") => {
                    out.promised_delivery_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("PromisedDeliveryDateTime"),
                    )?)
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
        el.push_text("DisplayID", self.display_id.as_ref());
        push_datetime(
            &mut el,
            "LastModificationDateTime",
            self.last_modification_date_time.as_ref(),
        );
        push_datetime(
            &mut el,
            "DocumentDateTime",
            self.document_date_time.as_ref(),
        );
        push_datetime(&mut el, "OrderDateTime", self.order_date_time.as_ref());
        push_mapped(&mut el, "Status", self.status.as_ref());
        push_all_mapped(&mut el, "Note", &self.notes);
        push_mapped(&mut el, "SupplierParty", self.supplier_party.as_ref());
        push_mapped(&mut el, "ShipToParty", self.ship_to_party.as_ref());
        push_mapped(&mut el, "ShipFromParty", self.ship_from_party.as_ref());
        push_mapped(&mut el, "ExtendedAmount", self.extended_amount.as_ref());
        push_mapped(&mut el, "TotalAmount", self.total_amount.as_ref());
        push_mapped(&mut el, "PaymentTerm", self.payment_term.as_ref());
        push_datetime(
            &mut el,
            "RequestedShipDateTime",
            self.requested_ship_date_time.as_ref(),
        );
        push_datetime(
            &mut el,
            "PromisedDeliveryDateTime",
            self.promised_delivery_date_time.as_ref(),
        );
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }
}

/// `PurchaseOrderLine`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PurchaseOrderLine {
    /// `LineNumber` (kept as text: ERPs use `1`, `10`, `1.2`).
    pub line_number: Option<String>,
    /// `Status`.
    pub status: Option<Status>,
    /// `Item`.
    pub item: Option<Item>,
    /// `Quantity` with `unitCode`.
    pub quantity: Option<Quantity>,
    /// `BaseUOMQuantity`.
    pub base_uom_quantity: Option<Quantity>,
    /// `UnitPrice`.
    pub unit_price: Option<UnitPrice>,
    /// `ExtendedAmount`.
    pub extended_amount: Option<Amount>,
    /// `TotalAmount`.
    pub total_amount: Option<Amount>,
    /// `RequiredDeliveryDateTime`.
    pub required_delivery_date_time: Option<DateTime<Utc>>,
    /// `OpenQuantity`.
    pub open_quantity: Option<Quantity>,
    /// `ReceivedQuantity`.
    pub received_quantity: Option<Quantity>,
    /// `Note` elements.
    pub notes: Vec<Note>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children (`BuyerParty`, `ShipToParty`, `Tax`, ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for PurchaseOrderLine {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = PurchaseOrderLine::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("LineNumber") => out.line_number = Some(c.into_text()),
                Some("Status") => out.status = Some(Status::from_xml(c, &at.child("Status"))?),
                Some("Item") => out.item = Some(Item::from_xml(c, &at.child("Item"))?),
                Some("Quantity") => {
                    out.quantity = Some(Quantity::from_xml(c, &at.child("Quantity"))?)
                }
                Some("BaseUOMQuantity") => {
                    out.base_uom_quantity =
                        Some(Quantity::from_xml(c, &at.child("BaseUOMQuantity"))?)
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
                Some("RequiredDeliveryDateTime") => {
                    out.required_delivery_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("RequiredDeliveryDateTime"),
                    )?)
                }
                Some("OpenQuantity") => {
                    out.open_quantity = Some(Quantity::from_xml(c, &at.child("OpenQuantity"))?)
                }
                Some("ReceivedQuantity") => {
                    out.received_quantity =
                        Some(Quantity::from_xml(c, &at.child("ReceivedQuantity"))?)
                }
                Some("Note") => out.notes.push(Note::from_xml(c, &at.child("Note"))?),
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
        push_mapped(&mut el, "Status", self.status.as_ref());
        push_mapped(&mut el, "Item", self.item.as_ref());
        push_mapped(&mut el, "Quantity", self.quantity.as_ref());
        push_mapped(&mut el, "BaseUOMQuantity", self.base_uom_quantity.as_ref());
        push_mapped(&mut el, "UnitPrice", self.unit_price.as_ref());
        push_mapped(&mut el, "ExtendedAmount", self.extended_amount.as_ref());
        push_mapped(&mut el, "TotalAmount", self.total_amount.as_ref());
        push_datetime(
            &mut el,
            "RequiredDeliveryDateTime",
            self.required_delivery_date_time.as_ref(),
        );
        push_mapped(&mut el, "OpenQuantity", self.open_quantity.as_ref());
        push_mapped(&mut el, "ReceivedQuantity", self.received_quantity.as_ref());
        push_all_mapped(&mut el, "Note", &self.notes);
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }
}

/// `PurchaseOrder`: header plus lines.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PurchaseOrder {
    /// `PurchaseOrderHeader`.
    pub header: PurchaseOrderHeader,
    /// `PurchaseOrderLine` elements in document order.
    pub lines: Vec<PurchaseOrderLine>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl Noun for PurchaseOrder {
    const NAME: &'static str = "PurchaseOrder";

    fn from_element(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let body = document::read(el, at, "PurchaseOrderHeader", "PurchaseOrderLine")?;
        Ok(PurchaseOrder {
            header: body.header,
            lines: body.lines,
            extensions: body.extensions,
        })
    }

    fn to_element(&self) -> XmlElement {
        document::write(
            Self::NAME,
            ("PurchaseOrderHeader", &self.header),
            ("PurchaseOrderLine", &self.lines),
            &self.extensions,
        )
    }

    fn document_identifier(&self) -> Option<&Identifier> {
        Some(&self.header.document_id.id)
    }
}
