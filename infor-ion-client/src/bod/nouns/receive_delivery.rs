//! `ReceiveDelivery`: goods received against purchase orders. This is what we write back as
//! `ProcessReceiveDelivery` (receipts booked in Cin7). Structure from a third-party M3 mapping
//! of the same noun (DocBits); the Infor reference does not document it, so treat it as
//! UNCONFIRMED and check against the tenant's `ProcessReceiveDelivery` schema. PO *status*
//! changes are written with `ProcessPurchaseOrder` (the [`PurchaseOrder`](super::PurchaseOrder)
//! noun with [`Verb::Process`](crate::bod::Verb::Process)).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::document;
use crate::bod::envelope::Noun;
use crate::bod::error::BodError;
use crate::bod::types::{
    DocumentId, DocumentReference, Identifier, Party, Quantity, Status, UserArea, XmlMapped,
    parse_datetime, push_all_mapped, push_datetime, push_mapped,
};
use crate::bod::xml::{XmlElement, XmlPath};

/// `ReceiveDeliveryHeader`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReceiveDeliveryHeader {
    /// `DocumentID` (the receipt / delivery id).
    pub document_id: DocumentId,
    /// `DisplayID` (delivery number shown to users).
    pub display_id: Option<String>,
    /// `ActualDeliveryDateTime`.
    pub actual_delivery_date_time: Option<DateTime<Utc>>,
    /// `Status`.
    pub status: Option<Status>,
    /// `ShipFromParty` (the supplier).
    pub ship_from_party: Option<Party>,
    /// `WarehouseLocation/ID`.
    pub warehouse_location_id: Option<Identifier>,
    /// `PackingSlip` (kept as text; it is usually an id).
    pub packing_slip: Option<String>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for ReceiveDeliveryHeader {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = ReceiveDeliveryHeader::default();
        let mut doc = None;
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("DocumentID") if doc.is_none() => {
                    doc = Some(DocumentId::from_xml(c, &at.child("DocumentID"))?)
                }
                Some("DisplayID") => out.display_id = Some(c.into_text()),
                Some("ActualDeliveryDateTime") => {
                    out.actual_delivery_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("ActualDeliveryDateTime"),
                    )?)
                }
                Some("Status") => out.status = Some(Status::from_xml(c, &at.child("Status"))?),
                Some("ShipFromParty") => {
                    out.ship_from_party = Some(Party::from_xml(c, &at.child("ShipFromParty"))?)
                }
                Some("WarehouseLocation")
                    if c.elements().count() == 1
                        && c.elements().all(|e| e.oagis_name() == Some("ID")) =>
                {
                    let p = at.child("WarehouseLocation");
                    for id in c.into_elements() {
                        out.warehouse_location_id = Some(Identifier::from_xml(id, &p.child("ID"))?);
                    }
                }
                Some("PackingSlip") if c.elements().count() == 0 => {
                    out.packing_slip = Some(c.into_text())
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
            "ActualDeliveryDateTime",
            self.actual_delivery_date_time.as_ref(),
        );
        push_mapped(&mut el, "Status", self.status.as_ref());
        push_mapped(&mut el, "ShipFromParty", self.ship_from_party.as_ref());
        if let Some(id) = &self.warehouse_location_id {
            let mut w = XmlElement::oagis("WarehouseLocation");
            w.push(id.to_xml("ID"));
            el.push(w);
        }
        el.push_text("PackingSlip", self.packing_slip.as_ref());
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }
}

/// `ReceiveDeliveryItem`: one received line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReceiveDeliveryItem {
    /// `LineNumber`.
    pub line_number: Option<String>,
    /// `ItemID` elements.
    pub item_ids: Vec<DocumentId>,
    /// `Description`.
    pub description: Option<String>,
    /// `PurchaseOrderReference` (order id and line number received against).
    pub purchase_order_reference: Option<DocumentReference>,
    /// `ShippedQuantity`.
    pub shipped_quantity: Option<Quantity>,
    /// `ReceivedQuantity`.
    pub received_quantity: Option<Quantity>,
    /// `UserArea`.
    pub user_area: Option<UserArea>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for ReceiveDeliveryItem {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = ReceiveDeliveryItem::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("LineNumber") => out.line_number = Some(c.into_text()),
                Some("ItemID") => out
                    .item_ids
                    .push(DocumentId::from_xml(c, &at.child("ItemID"))?),
                Some("Description") => out.description = Some(c.into_text()),
                Some("PurchaseOrderReference") => {
                    out.purchase_order_reference = Some(DocumentReference::from_xml(
                        c,
                        &at.child("PurchaseOrderReference"),
                    )?)
                }
                Some("ShippedQuantity") => {
                    out.shipped_quantity =
                        Some(Quantity::from_xml(c, &at.child("ShippedQuantity"))?)
                }
                Some("ReceivedQuantity") => {
                    out.received_quantity =
                        Some(Quantity::from_xml(c, &at.child("ReceivedQuantity"))?)
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
        push_all_mapped(&mut el, "ItemID", &self.item_ids);
        el.push_text("Description", self.description.as_ref());
        push_mapped(
            &mut el,
            "PurchaseOrderReference",
            self.purchase_order_reference.as_ref(),
        );
        push_mapped(&mut el, "ShippedQuantity", self.shipped_quantity.as_ref());
        push_mapped(&mut el, "ReceivedQuantity", self.received_quantity.as_ref());
        el.push_all(&self.extensions);
        push_mapped(&mut el, "UserArea", self.user_area.as_ref());
        el
    }
}

/// `ReceiveDelivery`: header plus received items.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReceiveDelivery {
    /// `ReceiveDeliveryHeader`.
    pub header: ReceiveDeliveryHeader,
    /// `ReceiveDeliveryItem` elements.
    pub items: Vec<ReceiveDeliveryItem>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl Noun for ReceiveDelivery {
    const NAME: &'static str = "ReceiveDelivery";

    fn from_element(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let body = document::read(el, at, "ReceiveDeliveryHeader", "ReceiveDeliveryItem")?;
        Ok(ReceiveDelivery {
            header: body.header,
            items: body.lines,
            extensions: body.extensions,
        })
    }

    fn to_element(&self) -> XmlElement {
        document::write(
            Self::NAME,
            ("ReceiveDeliveryHeader", &self.header),
            ("ReceiveDeliveryItem", &self.items),
            &self.extensions,
        )
    }

    fn document_identifier(&self) -> Option<&Identifier> {
        Some(&self.header.document_id.id)
    }
}
