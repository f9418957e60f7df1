//! BOD/OAGIS XML: typed Business Object Documents, a hardened reader, serialization,
//! staleness by `variationID`, and streaming batches.
//!
//! Everything is namespace-aware: elements match `http://schema.infor.com/InforOAGIS/2` by
//! URI and local name, never by prefix. The reader rejects DTDs and custom entities and caps
//! depth and sizes ([`BodLimits`]); see `docs/bod.md` for the integrator's view.
//!
//! ```
//! use infor_ion_client::bod::{ActionCode, Bod, PurchaseOrder, Verb};
//!
//! let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
//! <SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2" releaseID="9.2">
//!   <ApplicationArea>
//!     <Sender><LogicalID>lid://infor.m3.m3</LogicalID></Sender>
//!     <CreationDateTime>2025-09-24T09:33:09.770Z</CreationDateTime>
//!     <BODID>0b61d005</BODID>
//!   </ApplicationArea>
//!   <DataArea>
//!     <Sync><ActionCriteria><ActionExpression actionCode="Replace"/></ActionCriteria></Sync>
//!     <PurchaseOrder>
//!       <PurchaseOrderHeader>
//!         <DocumentID><ID accountingEntity="300_001" variationID="7">4000123</ID></DocumentID>
//!       </PurchaseOrderHeader>
//!     </PurchaseOrder>
//!   </DataArea>
//! </SyncPurchaseOrder>"#;
//! let bod = Bod::<PurchaseOrder>::from_str(xml)?;
//! assert_eq!(bod.verb, Verb::Sync);
//! assert_eq!(bod.verb_area.action_code(), Some(ActionCode::Replace));
//! let id = &bod.nouns[0].header.document_id.id;
//! assert_eq!((id.value.as_str(), id.variation_id), ("4000123", Some(7)));
//! // Serialize and read back: the model survives the round trip.
//! let again = Bod::<PurchaseOrder>::from_str(&bod.to_xml()?)?;
//! assert_eq!(again, bod);
//! # Ok::<(), infor_ion_client::bod::BodError>(())
//! ```

mod envelope;
mod error;
mod merge;
mod nouns;
mod reader;
mod stream;
mod types;
mod variation;
mod xml;

pub use envelope::{
    ActionCode, ActionExpression, ApplicationArea, Bod, Noun, Sender, Verb, VerbArea,
};
pub use error::BodError;
pub use merge::merge_change;
pub use nouns::{
    ChartOfAccounts, CustomerPartyMaster, GlAccount, GlAccountForm, ItemMaster, ItemMasterHeader,
    LineGlAccount, PartyMaster, PaymentTerm, PurchaseOrder, PurchaseOrderHeader, PurchaseOrderLine,
    ReceiveDelivery, ReceiveDeliveryHeader, ReceiveDeliveryItem, SupplierInvoice,
    SupplierInvoiceHeader, SupplierInvoiceLine, SupplierPartyMaster, Tax,
};
pub use reader::BodLimits;
pub use stream::{BodStream, FromBodRoot};
pub use types::{
    Address, AddressLine, Amount, Classification, Code, Communication, DocumentId,
    DocumentReference, Identifier, Item, Location, MAX_VARIATION_ID, NameValue, Note, Party,
    PartyIds, Quantity, Status, UnitPrice, UserArea,
};
pub use variation::{Freshness, VariationKey, VariationTracker, key_for};
pub use xml::{OAGIS_NS, XmlAttribute, XmlElement, XmlNode, XmlPath};

use std::io::BufRead;

impl<N: Noun> FromBodRoot for Bod<N> {
    fn from_bod_root(root: XmlElement) -> Result<Self, BodError> {
        Bod::from_root(root)
    }
}

/// A BOD of any supported noun, for batches that mix nouns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum AnyBod {
    /// `*SupplierPartyMaster`.
    SupplierPartyMaster(Bod<SupplierPartyMaster>),
    /// `*CustomerPartyMaster`.
    CustomerPartyMaster(Bod<CustomerPartyMaster>),
    /// `*PurchaseOrder`.
    PurchaseOrder(Bod<PurchaseOrder>),
    /// `*SupplierInvoice`.
    SupplierInvoice(Bod<SupplierInvoice>),
    /// `*ChartOfAccounts`.
    ChartOfAccounts(Bod<ChartOfAccounts>),
    /// `*ItemMaster`.
    ItemMaster(Bod<ItemMaster>),
    /// `*ReceiveDelivery`.
    ReceiveDelivery(Bod<ReceiveDelivery>),
}

impl AnyBod {
    /// Parses one BOD of any supported noun.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BodError> {
        Self::from_reader(bytes, BodLimits::default())
    }

    /// Parses exactly one BOD from a reader.
    pub fn from_reader<R: BufRead>(input: R, limits: BodLimits) -> Result<Self, BodError> {
        let root = reader::read_single_root(input, limits)?;
        AnyBod::from_bod_root(root)
    }

    /// The noun name, e.g. `PurchaseOrder`.
    pub fn noun_name(&self) -> &'static str {
        match self {
            AnyBod::SupplierPartyMaster(_) => SupplierPartyMaster::NAME,
            AnyBod::CustomerPartyMaster(_) => CustomerPartyMaster::NAME,
            AnyBod::PurchaseOrder(_) => PurchaseOrder::NAME,
            AnyBod::SupplierInvoice(_) => SupplierInvoice::NAME,
            AnyBod::ChartOfAccounts(_) => ChartOfAccounts::NAME,
            AnyBod::ItemMaster(_) => ItemMaster::NAME,
            AnyBod::ReceiveDelivery(_) => ReceiveDelivery::NAME,
        }
    }

    /// The verb.
    pub fn verb(&self) -> Verb {
        match self {
            AnyBod::SupplierPartyMaster(b) => b.verb,
            AnyBod::CustomerPartyMaster(b) => b.verb,
            AnyBod::PurchaseOrder(b) => b.verb,
            AnyBod::SupplierInvoice(b) => b.verb,
            AnyBod::ChartOfAccounts(b) => b.verb,
            AnyBod::ItemMaster(b) => b.verb,
            AnyBod::ReceiveDelivery(b) => b.verb,
        }
    }

    /// Judges and records every noun with a [`VariationTracker`].
    pub fn observe(&self, tracker: &mut VariationTracker) -> Vec<Freshness> {
        match self {
            AnyBod::SupplierPartyMaster(b) => tracker.observe_bod(b),
            AnyBod::CustomerPartyMaster(b) => tracker.observe_bod(b),
            AnyBod::PurchaseOrder(b) => tracker.observe_bod(b),
            AnyBod::SupplierInvoice(b) => tracker.observe_bod(b),
            AnyBod::ChartOfAccounts(b) => tracker.observe_bod(b),
            AnyBod::ItemMaster(b) => tracker.observe_bod(b),
            AnyBod::ReceiveDelivery(b) => tracker.observe_bod(b),
        }
    }

    /// The BOD as a UTF-8 XML string.
    pub fn to_xml(&self) -> Result<String, BodError> {
        match self {
            AnyBod::SupplierPartyMaster(b) => b.to_xml(),
            AnyBod::CustomerPartyMaster(b) => b.to_xml(),
            AnyBod::PurchaseOrder(b) => b.to_xml(),
            AnyBod::SupplierInvoice(b) => b.to_xml(),
            AnyBod::ChartOfAccounts(b) => b.to_xml(),
            AnyBod::ItemMaster(b) => b.to_xml(),
            AnyBod::ReceiveDelivery(b) => b.to_xml(),
        }
    }
}

impl FromBodRoot for AnyBod {
    fn from_bod_root(root: XmlElement) -> Result<Self, BodError> {
        let noun = root
            .oagis_name()
            .and_then(Verb::split_root)
            .map(|(_, n)| n.to_owned());
        Ok(match noun.as_deref() {
            Some(SupplierPartyMaster::NAME) => AnyBod::SupplierPartyMaster(Bod::from_root(root)?),
            Some(CustomerPartyMaster::NAME) => AnyBod::CustomerPartyMaster(Bod::from_root(root)?),
            Some(PurchaseOrder::NAME) => AnyBod::PurchaseOrder(Bod::from_root(root)?),
            Some(SupplierInvoice::NAME) => AnyBod::SupplierInvoice(Bod::from_root(root)?),
            Some(ChartOfAccounts::NAME) => AnyBod::ChartOfAccounts(Bod::from_root(root)?),
            Some(ItemMaster::NAME) => AnyBod::ItemMaster(Bod::from_root(root)?),
            Some(ReceiveDelivery::NAME) => AnyBod::ReceiveDelivery(Bod::from_root(root)?),
            _ => {
                return Err(BodError::UnexpectedRoot {
                    expected: format!(
                        "{{{OAGIS_NS}}}<Verb><Noun> for a supported noun (SupplierPartyMaster, \
                         CustomerPartyMaster, PurchaseOrder, SupplierInvoice, ChartOfAccounts, \
                         ItemMaster, ReceiveDelivery)"
                    ),
                    found: root.expanded_name(),
                });
            }
        })
    }
}
