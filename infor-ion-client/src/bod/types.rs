//! OAGIS datatypes shared by the nouns: identifiers, amounts, quantities, codes, parties,
//! addresses, `UserArea` name/value pairs.
//!
//! Each compound type keeps the child elements it does not model in `extensions`, so a
//! document read and written back loses nothing (the order of unknown children relative to
//! known ones may change; their content does not).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::BodError;
use super::xml::{XmlAttribute, XmlElement, XmlPath};

/// Mapping between a model type and an element. The element name is given by the caller
/// because the same type appears under many names (`ExtendedAmount`, `TotalAmount`, ...).
pub(crate) trait XmlMapped: Sized {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError>;
    fn to_xml(&self, name: &str) -> XmlElement;
}

// ---------------------------------------------------------------------------------------
// Scalar helpers.

pub(crate) fn parse_decimal(s: &str, at: &XmlPath<'_>) -> Result<Decimal, BodError> {
    let t = s.trim();
    Decimal::from_str(t)
        .or_else(|_| Decimal::from_scientific(t))
        .map_err(|e| BodError::invalid(at.render(), s, format!("not a decimal number: {e}")))
}

/// Timestamps: RFC 3339 (`2025-09-24T09:33:09.770Z`, or with an offset) as sent by ION.
/// A timestamp without offset, or a bare date, is read as UTC (documented in docs/bod.md).
pub(crate) fn parse_datetime(s: &str, at: &XmlPath<'_>) -> Result<DateTime<Utc>, BodError> {
    let t = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(n) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(n.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        && let Some(n) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(n.and_utc());
    }
    Err(BodError::invalid(
        at.render(),
        s,
        "not an ISO 8601 date-time (expected e.g. 2025-09-24T09:33:09.770Z)",
    ))
}

pub(crate) fn format_datetime(dt: &DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn push_datetime(parent: &mut XmlElement, name: &str, dt: Option<&DateTime<Utc>>) {
    if let Some(dt) = dt {
        parent.push(XmlElement::oagis(name).with_text(format_datetime(dt)));
    }
}

pub(crate) fn push_mapped<T: XmlMapped>(parent: &mut XmlElement, name: &str, v: Option<&T>) {
    if let Some(v) = v {
        parent.push(v.to_xml(name));
    }
}

pub(crate) fn push_all_mapped<T: XmlMapped>(parent: &mut XmlElement, name: &str, v: &[T]) {
    for x in v {
        parent.push(x.to_xml(name));
    }
}

// ---------------------------------------------------------------------------------------
// Identifier.

/// An `ID` element: the value plus the identification attributes ION uses
/// (`accountingEntity`, `location`, `lid`, `variationID`) and the usual scheme attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identifier {
    /// The identifier text, as sent (not trimmed).
    pub value: String,
    /// `@accountingEntity` (M3: CONO or CONO_DIVI).
    pub accounting_entity: Option<String>,
    /// `@location`.
    pub location: Option<String>,
    /// `@lid`: the logical id of the publishing application.
    pub lid: Option<String>,
    /// `@variationID`: the document's sequence number; higher is newer.
    pub variation_id: Option<u64>,
    /// `@schemeName`.
    pub scheme_name: Option<String>,
    /// `@schemeAgencyID`.
    pub scheme_agency_id: Option<String>,
    /// Any other attributes, kept verbatim.
    pub other_attributes: Vec<XmlAttribute>,
}

impl Identifier {
    /// An identifier with just a value.
    pub fn new(value: impl Into<String>) -> Self {
        Identifier {
            value: value.into(),
            ..Identifier::default()
        }
    }
}

/// Largest variationID ION allows (it is a signed 64-bit number on the wire).
pub const MAX_VARIATION_ID: u64 = i64::MAX as u64;

impl XmlMapped for Identifier {
    fn from_xml(mut el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let variation_id = match el.take_attr("variationID") {
            None => None,
            Some(v) => {
                let n: u64 = v.trim().parse().map_err(|e| {
                    BodError::invalid(
                        at.attribute("variationID"),
                        &v,
                        format!("not a non-negative integer: {e}"),
                    )
                })?;
                if n > MAX_VARIATION_ID {
                    return Err(BodError::invalid(
                        at.attribute("variationID"),
                        &v,
                        "above the maximum variationID 9223372036854775807",
                    ));
                }
                Some(n)
            }
        };
        let accounting_entity = el.take_attr("accountingEntity");
        let location = el.take_attr("location");
        let lid = el.take_attr("lid");
        let scheme_name = el.take_attr("schemeName");
        let scheme_agency_id = el.take_attr("schemeAgencyID");
        let other_attributes = std::mem::take(&mut el.attributes);
        Ok(Identifier {
            value: el.into_text(),
            accounting_entity,
            location,
            lid,
            variation_id,
            scheme_name,
            scheme_agency_id,
            other_attributes,
        })
    }

    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name)
            .with_opt_attr("accountingEntity", self.accounting_entity.as_ref())
            .with_opt_attr("location", self.location.as_ref())
            .with_opt_attr("lid", self.lid.as_ref())
            .with_opt_attr(
                "variationID",
                self.variation_id.map(|v| v.to_string()).as_ref(),
            )
            .with_opt_attr("schemeName", self.scheme_name.as_ref())
            .with_opt_attr("schemeAgencyID", self.scheme_agency_id.as_ref());
        el.attributes.extend(self.other_attributes.iter().cloned());
        if !self.value.is_empty() {
            el = el.with_text(self.value.clone());
        }
        el
    }
}

/// `DocumentID`, `AlternateDocumentID`, `ItemID` and friends: one `ID` plus an optional
/// `RevisionID`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocumentId {
    /// The `ID` child.
    pub id: Identifier,
    /// `RevisionID`.
    pub revision_id: Option<String>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl DocumentId {
    /// A document id with just a value.
    pub fn new(id: Identifier) -> Self {
        DocumentId {
            id,
            ..DocumentId::default()
        }
    }
}

impl XmlMapped for DocumentId {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut id = None;
        let mut out = DocumentId::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("ID") if id.is_none() => id = Some(Identifier::from_xml(c, &at.child("ID"))?),
                Some("RevisionID") => out.revision_id = Some(c.into_text()),
                _ => out.extensions.push(c),
            }
        }
        out.id = id.ok_or_else(|| BodError::MissingElement {
            path: at.child("ID").render(),
        })?;
        Ok(out)
    }

    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        el.push(self.id.to_xml("ID"));
        el.push_text("RevisionID", self.revision_id.as_ref());
        el.push_all(&self.extensions);
        el
    }
}

// ---------------------------------------------------------------------------------------
// Amount, quantity, code.

/// A monetary amount with its `currencyID`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Amount {
    /// The amount (exact decimal).
    pub value: Decimal,
    /// `@currencyID` (ISO 4217).
    pub currency_id: Option<String>,
}

impl XmlMapped for Amount {
    fn from_xml(mut el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        Ok(Amount {
            value: parse_decimal(&el.text_cow(), at)?,
            currency_id: el.take_attr("currencyID"),
        })
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        XmlElement::oagis(name)
            .with_opt_attr("currencyID", self.currency_id.as_ref())
            .with_text(self.value.to_string())
    }
}

/// A quantity with its `unitCode`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Quantity {
    /// The quantity (exact decimal).
    pub value: Decimal,
    /// `@unitCode`.
    pub unit_code: Option<String>,
}

impl XmlMapped for Quantity {
    fn from_xml(mut el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        Ok(Quantity {
            value: parse_decimal(&el.text_cow(), at)?,
            unit_code: el.take_attr("unitCode"),
        })
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        XmlElement::oagis(name)
            .with_opt_attr("unitCode", self.unit_code.as_ref())
            .with_text(self.value.to_string())
    }
}

/// A code value with its `listID` (for example `<Code listID="Supplier Group">10</Code>`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Code {
    /// The code text.
    pub value: String,
    /// `@listID`.
    pub list_id: Option<String>,
    /// Other attributes (`name`, `listAgencyID`, ...), kept verbatim.
    pub other_attributes: Vec<XmlAttribute>,
}

impl Code {
    /// A code without list id.
    pub fn new(value: impl Into<String>) -> Self {
        Code {
            value: value.into(),
            ..Code::default()
        }
    }
}

impl XmlMapped for Code {
    fn from_xml(mut el: XmlElement, _at: &XmlPath<'_>) -> Result<Self, BodError> {
        let list_id = el.take_attr("listID");
        let other_attributes = std::mem::take(&mut el.attributes);
        Ok(Code {
            value: el.into_text(),
            list_id,
            other_attributes,
        })
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name).with_opt_attr("listID", self.list_id.as_ref());
        el.attributes.extend(self.other_attributes.iter().cloned());
        if !self.value.is_empty() {
            el = el.with_text(self.value.clone());
        }
        el
    }
}

/// A `Note` (free text with an optional `type`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Note {
    /// The note text.
    pub text: String,
    /// `@type`.
    pub note_type: Option<String>,
    /// Other attributes (`languageID`, `author`, ...).
    pub other_attributes: Vec<XmlAttribute>,
}

impl XmlMapped for Note {
    fn from_xml(mut el: XmlElement, _at: &XmlPath<'_>) -> Result<Self, BodError> {
        let note_type = el.take_attr("type");
        let other_attributes = std::mem::take(&mut el.attributes);
        Ok(Note {
            text: el.into_text(),
            note_type,
            other_attributes,
        })
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name).with_opt_attr("type", self.note_type.as_ref());
        el.attributes.extend(self.other_attributes.iter().cloned());
        el.with_text(self.text.clone())
    }
}

/// `Status`: a code and when it took effect.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Status {
    /// `Code` (e.g. `Open`, `Closed`, or an ERP status such as `20`).
    pub code: Option<Code>,
    /// `EffectiveDateTime`.
    pub effective_date_time: Option<DateTime<Utc>>,
    /// `Description`.
    pub description: Option<String>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for Status {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = Status::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("Code") => out.code = Some(Code::from_xml(c, &at.child("Code"))?),
                Some("EffectiveDateTime") => {
                    out.effective_date_time = Some(parse_datetime(
                        &c.into_text(),
                        &at.child("EffectiveDateTime"),
                    )?)
                }
                Some("Description") => out.description = Some(c.into_text()),
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        push_mapped(&mut el, "Code", self.code.as_ref());
        el.push_text("Description", self.description.as_ref());
        push_datetime(
            &mut el,
            "EffectiveDateTime",
            self.effective_date_time.as_ref(),
        );
        el.push_all(&self.extensions);
        el
    }
}

// ---------------------------------------------------------------------------------------
// UserArea.

/// One `UserArea/Property/NameValue` pair.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NameValue {
    /// `@name`.
    pub name: String,
    /// `@type` (e.g. `StringType`, `NumericType`).
    pub value_type: Option<String>,
    /// The value text.
    pub value: String,
}

/// `UserArea`: customer or ERP extensions. `Property/NameValue` pairs are modelled; any
/// other content is kept verbatim in `extensions`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserArea {
    /// The name/value properties in document order.
    pub properties: Vec<NameValue>,
    /// Everything else inside the `UserArea`.
    pub extensions: Vec<XmlElement>,
}

impl UserArea {
    /// The value of the first property with this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }
}

impl XmlMapped for UserArea {
    fn from_xml(el: XmlElement, _at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = UserArea::default();
        for c in el.into_elements() {
            // A Property is modelled only in its simple shape (exactly one NameValue and
            // no attributes); anything richer is kept verbatim so nothing is lost.
            let simple = c.oagis_name() == Some("Property")
                && c.attributes.is_empty()
                && c.elements().count() == 1
                && c.elements()
                    .all(|n| n.oagis_name() == Some("NameValue") && n.elements().count() == 0);
            if !simple {
                out.extensions.push(c);
                continue;
            }
            for mut nv in c.into_elements() {
                let name = nv.take_attr("name").unwrap_or_default();
                let value_type = nv.take_attr("type");
                out.properties.push(NameValue {
                    name,
                    value_type,
                    value: nv.into_text(),
                });
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        for p in &self.properties {
            let mut prop = XmlElement::oagis("Property");
            let mut nv = XmlElement::oagis("NameValue").with_attr("name", p.name.clone());
            nv = nv.with_opt_attr("type", p.value_type.as_ref());
            if !p.value.is_empty() {
                nv = nv.with_text(p.value.clone());
            }
            prop.push(nv);
            el.push(prop);
        }
        el.push_all(&self.extensions);
        el
    }
}

// ---------------------------------------------------------------------------------------
// Parties, locations, addresses.

/// One `AddressLine` with its `sequence`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AddressLine {
    /// `@sequence`.
    pub sequence: Option<u32>,
    /// The line text.
    pub text: String,
}

/// `Address`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// `@type` (e.g. `Postal`).
    pub address_type: Option<String>,
    /// `AddressLine` elements.
    pub lines: Vec<AddressLine>,
    /// `CityName`.
    pub city_name: Option<String>,
    /// `CountrySubDivisionCode` (state, county).
    pub country_sub_division_code: Option<String>,
    /// `CountryCode`.
    pub country_code: Option<String>,
    /// `PostalCode`.
    pub postal_code: Option<String>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for Address {
    fn from_xml(mut el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = Address {
            address_type: el.take_attr("type"),
            ..Address::default()
        };
        let mut n = 0;
        for mut c in el.into_elements() {
            match c.oagis_name() {
                Some("AddressLine") => {
                    n += 1;
                    let sequence = match c.take_attr("sequence") {
                        None => None,
                        Some(s) => Some(s.trim().parse::<u32>().map_err(|e| {
                            BodError::invalid(
                                at.nth("AddressLine", n).attribute("sequence"),
                                &s,
                                e.to_string(),
                            )
                        })?),
                    };
                    out.lines.push(AddressLine {
                        sequence,
                        text: c.into_text(),
                    });
                }
                Some("CityName") => out.city_name = Some(c.into_text()),
                Some("CountrySubDivisionCode") => {
                    out.country_sub_division_code = Some(c.into_text())
                }
                Some("CountryCode") => out.country_code = Some(c.into_text()),
                Some("PostalCode") => out.postal_code = Some(c.into_text()),
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name).with_opt_attr("type", self.address_type.as_ref());
        for l in &self.lines {
            let mut line = XmlElement::oagis("AddressLine")
                .with_opt_attr("sequence", l.sequence.map(|s| s.to_string()).as_ref());
            if !l.text.is_empty() {
                line = line.with_text(l.text.clone());
            }
            el.push(line);
        }
        el.push_text("CityName", self.city_name.as_ref());
        el.push_text(
            "CountrySubDivisionCode",
            self.country_sub_division_code.as_ref(),
        );
        el.push_text("CountryCode", self.country_code.as_ref());
        el.push_text("PostalCode", self.postal_code.as_ref());
        el.push_all(&self.extensions);
        el
    }
}

/// `Location`: an optional id and name plus an `Address`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    /// `@type` (e.g. `Office`).
    pub location_type: Option<String>,
    /// `ID`.
    pub id: Option<Identifier>,
    /// `Name`.
    pub name: Option<String>,
    /// `Address`.
    pub address: Option<Address>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for Location {
    fn from_xml(mut el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = Location {
            location_type: el.take_attr("type"),
            ..Location::default()
        };
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("ID") => out.id = Some(Identifier::from_xml(c, &at.child("ID"))?),
                Some("Name") => out.name = Some(c.into_text()),
                Some("Address") => out.address = Some(Address::from_xml(c, &at.child("Address"))?),
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name).with_opt_attr("type", self.location_type.as_ref());
        push_mapped(&mut el, "ID", self.id.as_ref());
        el.push_text("Name", self.name.as_ref());
        push_mapped(&mut el, "Address", self.address.as_ref());
        el.push_all(&self.extensions);
        el
    }
}

/// `Communication`: a phone number, e-mail or web address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Communication {
    /// `ChannelCode` (e.g. `Phone`, `Fax`, `EMail`, `Web`).
    pub channel_code: Option<String>,
    /// `UseCode` (e.g. `Office`).
    pub use_code: Option<String>,
    /// `DialNumber`.
    pub dial_number: Option<String>,
    /// `URI` (e-mail or web address).
    pub uri: Option<String>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for Communication {
    fn from_xml(el: XmlElement, _at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = Communication::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("ChannelCode") => out.channel_code = Some(c.into_text()),
                Some("UseCode") => out.use_code = Some(c.into_text()),
                Some("DialNumber") => out.dial_number = Some(c.into_text()),
                Some("URI") => out.uri = Some(c.into_text()),
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        el.push_text("ChannelCode", self.channel_code.as_ref());
        el.push_text("UseCode", self.use_code.as_ref());
        el.push_text("DialNumber", self.dial_number.as_ref());
        el.push_text("URI", self.uri.as_ref());
        el.push_all(&self.extensions);
        el
    }
}

/// `PartyIDs`: the party's identifiers and tax ids.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PartyIds {
    /// `ID` elements (the first one is the party's key).
    pub ids: Vec<Identifier>,
    /// `TaxID` elements.
    pub tax_ids: Vec<Identifier>,
    /// Other children (`DUNSID`, `GLN`, ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for PartyIds {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = PartyIds::default();
        let (mut i, mut t) = (0, 0);
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("ID") => {
                    i += 1;
                    out.ids.push(Identifier::from_xml(c, &at.nth("ID", i))?)
                }
                Some("TaxID") => {
                    t += 1;
                    out.tax_ids
                        .push(Identifier::from_xml(c, &at.nth("TaxID", t))?)
                }
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        push_all_mapped(&mut el, "ID", &self.ids);
        push_all_mapped(&mut el, "TaxID", &self.tax_ids);
        el.push_all(&self.extensions);
        el
    }
}

/// A party reference inside a document (`SupplierParty`, `ShipToParty`, `ShipFromParty`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Party {
    /// `PartyIDs`.
    pub party_ids: Option<PartyIds>,
    /// `Name`.
    pub name: Option<String>,
    /// `Location` elements.
    pub locations: Vec<Location>,
    /// `Communication` elements.
    pub communications: Vec<Communication>,
    /// Other children (`Contact`, `BuyerContact`, `FinancialParty`, ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl Party {
    /// The first `PartyIDs/ID`, the party's key.
    pub fn primary_id(&self) -> Option<&Identifier> {
        self.party_ids.as_ref().and_then(|p| p.ids.first())
    }
}

impl XmlMapped for Party {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = Party::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("PartyIDs") => {
                    out.party_ids = Some(PartyIds::from_xml(c, &at.child("PartyIDs"))?)
                }
                Some("Name") => out.name = Some(c.into_text()),
                Some("Location") => out
                    .locations
                    .push(Location::from_xml(c, &at.child("Location"))?),
                Some("Communication") => out
                    .communications
                    .push(Communication::from_xml(c, &at.child("Communication"))?),
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        push_mapped(&mut el, "PartyIDs", self.party_ids.as_ref());
        el.push_text("Name", self.name.as_ref());
        push_all_mapped(&mut el, "Location", &self.locations);
        push_all_mapped(&mut el, "Communication", &self.communications);
        el.push_all(&self.extensions);
        el
    }
}

/// `Classification`: one or more codes (e.g. supplier group, item group).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Classification {
    /// `Codes/Code` elements.
    pub codes: Vec<Code>,
    /// Other children (`Description`, `UserArea`, ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for Classification {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = Classification::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("Codes") => {
                    let p = at.child("Codes");
                    for code in c.into_elements() {
                        if code.oagis_name() == Some("Code") {
                            out.codes.push(Code::from_xml(code, &p.child("Code"))?);
                        } else {
                            // Codes holds only Code in the schema; keep strays in the parent.
                            out.extensions.push(code);
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
        if !self.codes.is_empty() {
            let mut codes = XmlElement::oagis("Codes");
            push_all_mapped(&mut codes, "Code", &self.codes);
            el.push(codes);
        }
        el.push_all(&self.extensions);
        el
    }
}

/// `Item` on an order or invoice line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Item {
    /// `ItemID` elements (the first is the item number).
    pub item_ids: Vec<DocumentId>,
    /// `GTIN` elements.
    pub gtins: Vec<String>,
    /// `Description` elements.
    pub descriptions: Vec<String>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl Item {
    /// The first `ItemID/ID` value.
    pub fn item_number(&self) -> Option<&str> {
        self.item_ids.first().map(|i| i.id.value.as_str())
    }
}

impl XmlMapped for Item {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = Item::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("ItemID") => out
                    .item_ids
                    .push(DocumentId::from_xml(c, &at.child("ItemID"))?),
                Some("GTIN") => out.gtins.push(c.into_text()),
                Some("Description") => out.descriptions.push(c.into_text()),
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        push_all_mapped(&mut el, "ItemID", &self.item_ids);
        for g in &self.gtins {
            el.push(XmlElement::oagis("GTIN").with_text(g.clone()));
        }
        for d in &self.descriptions {
            el.push(XmlElement::oagis("Description").with_text(d.clone()));
        }
        el.push_all(&self.extensions);
        el
    }
}

/// `UnitPrice`: an amount per quantity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnitPrice {
    /// `Amount`.
    pub amount: Option<Amount>,
    /// `PerQuantity`.
    pub per_quantity: Option<Quantity>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for UnitPrice {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = UnitPrice::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("Amount") => out.amount = Some(Amount::from_xml(c, &at.child("Amount"))?),
                Some("PerQuantity") => {
                    out.per_quantity = Some(Quantity::from_xml(c, &at.child("PerQuantity"))?)
                }
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        push_mapped(&mut el, "Amount", self.amount.as_ref());
        push_mapped(&mut el, "PerQuantity", self.per_quantity.as_ref());
        el.push_all(&self.extensions);
        el
    }
}

/// A reference to another document (`PurchaseOrderReference`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocumentReference {
    /// `DocumentID`.
    pub document_id: Option<DocumentId>,
    /// `LineNumber` of the referenced line.
    pub line_number: Option<String>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl XmlMapped for DocumentReference {
    fn from_xml(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError> {
        let mut out = DocumentReference::default();
        for c in el.into_elements() {
            match c.oagis_name() {
                Some("DocumentID") => {
                    out.document_id = Some(DocumentId::from_xml(c, &at.child("DocumentID"))?)
                }
                Some("LineNumber") => out.line_number = Some(c.into_text()),
                _ => out.extensions.push(c),
            }
        }
        Ok(out)
    }
    fn to_xml(&self, name: &str) -> XmlElement {
        let mut el = XmlElement::oagis(name);
        push_mapped(&mut el, "DocumentID", self.document_id.as_ref());
        el.push_text("LineNumber", self.line_number.as_ref());
        el.push_all(&self.extensions);
        el
    }
}
