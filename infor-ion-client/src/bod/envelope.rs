//! The BOD envelope: root element (`<Verb><Noun>`), `ApplicationArea` and the `DataArea`
//! verb element with its action criteria. The noun payload is generic ([`Noun`]).

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::BodError;
use super::reader::{BodLimits, read_single_root};
use super::types::{format_datetime, parse_datetime};
use super::xml::{OAGIS_NS, XmlAttribute, XmlElement, XmlPath};

/// A BOD noun: the typed payload inside `DataArea`.
pub trait Noun: Sized {
    /// The noun's element name, e.g. `PurchaseOrder`.
    const NAME: &'static str;

    /// Maps the noun element onto the model. `at` is the element's path, used in errors.
    fn from_element(el: XmlElement, at: &XmlPath<'_>) -> Result<Self, BodError>;

    /// Builds the noun element.
    fn to_element(&self) -> XmlElement;

    /// The identifier ION sequences this document by (`DocumentID/ID` or `PartyIDs/ID`),
    /// with its `accountingEntity`, `location`, `lid` and `variationID` attributes.
    fn document_identifier(&self) -> Option<&super::types::Identifier>;
}

/// The BOD verb, taken from the root element name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Verb {
    /// `Sync`: the publisher's state of a record.
    Sync,
    /// `Process`: a request to create or change a record.
    Process,
    /// `Acknowledge`: the answer to a Process.
    Acknowledge,
    /// `Show`: the answer to a Get.
    Show,
    /// `Get`: a query.
    Get,
    /// `Load`: an inbound load (e.g. `LoadSupplierInvoice`).
    Load,
    /// `Post`.
    Post,
    /// `Notify`.
    Notify,
    /// `Confirm` (`ConfirmBOD`).
    Confirm,
    /// `Respond`.
    Respond,
    /// `Cancel`.
    Cancel,
    /// `Change`.
    Change,
    /// `Update`.
    Update,
}

impl Verb {
    /// Every verb, longest names first is not needed: no verb is a prefix of another.
    pub const ALL: [Verb; 13] = [
        Verb::Sync,
        Verb::Process,
        Verb::Acknowledge,
        Verb::Show,
        Verb::Get,
        Verb::Load,
        Verb::Post,
        Verb::Notify,
        Verb::Confirm,
        Verb::Respond,
        Verb::Cancel,
        Verb::Change,
        Verb::Update,
    ];

    /// The verb as it appears in element names.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Sync => "Sync",
            Verb::Process => "Process",
            Verb::Acknowledge => "Acknowledge",
            Verb::Show => "Show",
            Verb::Get => "Get",
            Verb::Load => "Load",
            Verb::Post => "Post",
            Verb::Notify => "Notify",
            Verb::Confirm => "Confirm",
            Verb::Respond => "Respond",
            Verb::Cancel => "Cancel",
            Verb::Change => "Change",
            Verb::Update => "Update",
        }
    }

    /// Splits a root element name such as `SyncPurchaseOrder` into verb and noun.
    pub fn split_root(root: &str) -> Option<(Verb, &str)> {
        Verb::ALL.iter().find_map(|v| {
            root.strip_prefix(v.as_str())
                .filter(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
                .map(|rest| (*v, rest))
        })
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `ActionExpression@actionCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionCode {
    /// Created. Upsert.
    Add,
    /// Changed; the BOD carries the full object. Upsert (a Replace for a record the
    /// receiver never saw is normal).
    Replace,
    /// Partial change (not recommended by Infor): merge, or re-read the record.
    Change,
    /// Deleted: delete or tombstone.
    Delete,
}

impl ActionCode {
    /// The code as written in XML.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionCode::Add => "Add",
            ActionCode::Replace => "Replace",
            ActionCode::Change => "Change",
            ActionCode::Delete => "Delete",
        }
    }

    /// Parses a code; anything else is an error (a consumer must not guess).
    pub fn parse(code: &str, path: impl FnOnce() -> String) -> Result<Self, BodError> {
        match code.trim() {
            "Add" => Ok(ActionCode::Add),
            "Replace" => Ok(ActionCode::Replace),
            "Change" => Ok(ActionCode::Change),
            "Delete" => Ok(ActionCode::Delete),
            other => Err(BodError::UnknownActionCode {
                path: path(),
                code: other.to_owned(),
            }),
        }
    }

    /// `Add` and `Replace` both mean "make the receiver's copy equal to this".
    pub fn is_upsert(self) -> bool {
        matches!(self, ActionCode::Add | ActionCode::Replace)
    }
}

/// `ApplicationArea/Sender`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sender {
    /// `LogicalID`, e.g. `lid://infor.m3.m3`.
    pub logical_id: Option<String>,
    /// `ComponentID`, e.g. `M3BE`, `erp`.
    pub component_id: Option<String>,
    /// `ConfirmationCode`, e.g. `OnError`.
    pub confirmation_code: Option<String>,
    /// Other children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

/// `ApplicationArea`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApplicationArea {
    /// `Sender`.
    pub sender: Sender,
    /// `CreationDateTime`.
    pub creation_date_time: Option<DateTime<Utc>>,
    /// `BODID`.
    pub bod_id: Option<String>,
    /// Other children (`Signature`, `UserArea`, ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

/// One `ActionCriteria/ActionExpression`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionExpression {
    /// `@actionCode`.
    pub action_code: ActionCode,
    /// The expression text (an XPath to the noun, often empty).
    pub expression: Option<String>,
}

/// The verb element inside `DataArea` (`<Sync>`, `<Process>`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VerbArea {
    /// `TenantID` (LN sends it; M3 omits it).
    pub tenant_id: Option<String>,
    /// `AccountingEntityID`.
    pub accounting_entity_id: Option<String>,
    /// `LocationID`.
    pub location_id: Option<String>,
    /// `ActionCriteria/ActionExpression` entries, in order.
    pub action_expressions: Vec<ActionExpression>,
    /// Children of `ActionCriteria` other than `ActionExpression` (e.g. `ChangeStatus`).
    pub action_criteria_extensions: Vec<XmlElement>,
    /// Other children (`ResponseCriteria`, `OriginalApplicationArea`, ...), kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl VerbArea {
    /// The first action code, which is what a Sync BOD's receiver acts on.
    pub fn action_code(&self) -> Option<ActionCode> {
        self.action_expressions.first().map(|a| a.action_code)
    }
}

/// A whole BOD: envelope plus the typed noun(s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bod<N> {
    /// The verb from the root element name.
    pub verb: Verb,
    /// Root `@releaseID` (e.g. `9.2`).
    pub release_id: Option<String>,
    /// Root `@versionID` (e.g. `2.14.3`).
    pub version_id: Option<String>,
    /// Root `@systemEnvironmentCode` (e.g. `Production`).
    pub system_environment_code: Option<String>,
    /// Root `@languageCode`.
    pub language_code: Option<String>,
    /// Other root attributes (e.g. `xsi:schemaLocation`), kept verbatim.
    pub root_attributes: Vec<XmlAttribute>,
    /// `ApplicationArea`.
    pub application_area: ApplicationArea,
    /// `DataArea/<Verb>`.
    pub verb_area: VerbArea,
    /// The noun elements in `DataArea` (usually exactly one).
    pub nouns: Vec<N>,
    /// Other `DataArea` children, kept verbatim.
    pub data_area_extensions: Vec<XmlElement>,
    /// Other root children, kept verbatim.
    pub extensions: Vec<XmlElement>,
}

impl<N: Noun> Bod<N> {
    /// A BOD with the given verb, sender logical id and BODID, no action criteria and no
    /// nouns yet. Fill in `verb_area` and `nouns`.
    pub fn new(verb: Verb, logical_id: impl Into<String>, bod_id: impl Into<String>) -> Self {
        Bod {
            verb,
            release_id: Some("9.2".into()),
            version_id: None,
            system_environment_code: None,
            language_code: None,
            root_attributes: Vec::new(),
            application_area: ApplicationArea {
                sender: Sender {
                    logical_id: Some(logical_id.into()),
                    ..Sender::default()
                },
                creation_date_time: None,
                bod_id: Some(bod_id.into()),
                extensions: Vec::new(),
            },
            verb_area: VerbArea::default(),
            nouns: Vec::new(),
            data_area_extensions: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// The root element name, e.g. `SyncPurchaseOrder`.
    pub fn root_name(&self) -> String {
        format!("{}{}", self.verb, N::NAME)
    }

    /// Parses one BOD from bytes with the default [`BodLimits`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BodError> {
        Self::from_reader(bytes, BodLimits::default())
    }

    /// Parses one BOD from a string with the default [`BodLimits`].
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(xml: &str) -> Result<Self, BodError> {
        Self::from_slice(xml.as_bytes())
    }

    /// Parses exactly one BOD from a reader. Trailing content other than whitespace,
    /// comments and processing instructions is an error.
    pub fn from_reader<R: BufRead>(input: R, limits: BodLimits) -> Result<Self, BodError> {
        Self::from_root(read_single_root(input, limits)?)
    }

    /// Maps an already-read root element (from the hardened reader) onto the model.
    pub fn from_root(mut root: XmlElement) -> Result<Self, BodError> {
        let found = root.expanded_name();
        let verb = root
            .oagis_name()
            .and_then(Verb::split_root)
            .filter(|(_, noun)| *noun == N::NAME)
            .map(|(v, _)| v)
            .ok_or_else(|| BodError::UnexpectedRoot {
                expected: format!("{{{OAGIS_NS}}}<Verb>{}", N::NAME),
                found,
            })?;
        let root_name = root.name.clone();
        let at = XmlPath::root(&root_name);
        let mut bod = Bod {
            verb,
            release_id: root.take_attr("releaseID"),
            version_id: root.take_attr("versionID"),
            system_environment_code: root.take_attr("systemEnvironmentCode"),
            language_code: root.take_attr("languageCode"),
            root_attributes: std::mem::take(&mut root.attributes),
            application_area: ApplicationArea::default(),
            verb_area: VerbArea::default(),
            nouns: Vec::new(),
            data_area_extensions: Vec::new(),
            extensions: Vec::new(),
        };
        let (mut saw_app, mut saw_data) = (false, false);
        for c in root.into_elements() {
            match c.oagis_name() {
                Some("ApplicationArea") if !saw_app => {
                    saw_app = true;
                    bod.application_area = read_application_area(c, &at.child("ApplicationArea"))?;
                }
                Some("DataArea") if !saw_data => {
                    saw_data = true;
                    read_data_area(&mut bod, c, &at.child("DataArea"))?;
                }
                _ => bod.extensions.push(c),
            }
        }
        if !saw_app {
            return Err(BodError::MissingElement {
                path: at.child("ApplicationArea").render(),
            });
        }
        if !saw_data {
            return Err(BodError::MissingElement {
                path: at.child("DataArea").render(),
            });
        }
        Ok(bod)
    }

    /// Builds the root element.
    pub fn to_element(&self) -> XmlElement {
        let mut root = XmlElement::oagis(self.root_name())
            .with_opt_attr("releaseID", self.release_id.as_ref())
            .with_opt_attr("versionID", self.version_id.as_ref())
            .with_opt_attr(
                "systemEnvironmentCode",
                self.system_environment_code.as_ref(),
            )
            .with_opt_attr("languageCode", self.language_code.as_ref());
        root.attributes.extend(self.root_attributes.iter().cloned());
        root.push(write_application_area(&self.application_area));
        let mut data = XmlElement::oagis("DataArea");
        data.push(write_verb_area(self.verb, &self.verb_area));
        for n in &self.nouns {
            data.push(n.to_element());
        }
        data.push_all(&self.data_area_extensions);
        root.push(data);
        root.push_all(&self.extensions);
        root
    }

    /// Writes the BOD as a UTF-8 document (namespace declared once, on the root).
    pub fn write_to<W: Write>(&self, out: W) -> Result<(), BodError> {
        self.to_element().write_document(out)
    }

    /// The BOD as a UTF-8 XML string.
    pub fn to_xml(&self) -> Result<String, BodError> {
        let mut buf = Vec::new();
        self.write_to(&mut buf)?;
        String::from_utf8(buf).map_err(|e| BodError::NotUtf8 {
            detail: e.to_string(),
            position: 0,
        })
    }
}

fn read_application_area(el: XmlElement, at: &XmlPath<'_>) -> Result<ApplicationArea, BodError> {
    let mut out = ApplicationArea::default();
    for c in el.into_elements() {
        match c.oagis_name() {
            Some("Sender") => {
                for s in c.into_elements() {
                    match s.oagis_name() {
                        Some("LogicalID") => out.sender.logical_id = Some(s.into_text()),
                        Some("ComponentID") => out.sender.component_id = Some(s.into_text()),
                        Some("ConfirmationCode") => {
                            out.sender.confirmation_code = Some(s.into_text())
                        }
                        _ => out.sender.extensions.push(s),
                    }
                }
            }
            Some("CreationDateTime") => {
                out.creation_date_time = Some(parse_datetime(
                    &c.into_text(),
                    &at.child("CreationDateTime"),
                )?)
            }
            Some("BODID") => out.bod_id = Some(c.into_text()),
            _ => out.extensions.push(c),
        }
    }
    Ok(out)
}

fn write_application_area(a: &ApplicationArea) -> XmlElement {
    let mut el = XmlElement::oagis("ApplicationArea");
    let mut s = XmlElement::oagis("Sender");
    s.push_text("LogicalID", a.sender.logical_id.as_ref());
    s.push_text("ComponentID", a.sender.component_id.as_ref());
    s.push_text("ConfirmationCode", a.sender.confirmation_code.as_ref());
    s.push_all(&a.sender.extensions);
    el.push(s);
    if let Some(dt) = &a.creation_date_time {
        el.push(XmlElement::oagis("CreationDateTime").with_text(format_datetime(dt)));
    }
    el.push_text("BODID", a.bod_id.as_ref());
    el.push_all(&a.extensions);
    el
}

fn read_data_area<N: Noun>(
    bod: &mut Bod<N>,
    el: XmlElement,
    at: &XmlPath<'_>,
) -> Result<(), BodError> {
    let verb_name = bod.verb.as_str();
    let mut saw_verb = false;
    let mut n = 0;
    for c in el.into_elements() {
        match c.oagis_name() {
            Some(v) if v == verb_name && !saw_verb => {
                saw_verb = true;
                bod.verb_area = read_verb_area(c, &at.child(verb_name))?;
            }
            Some(noun) if noun == N::NAME => {
                n += 1;
                bod.nouns.push(N::from_element(c, &at.nth(N::NAME, n))?);
            }
            _ => bod.data_area_extensions.push(c),
        }
    }
    if !saw_verb {
        return Err(BodError::MissingElement {
            path: at.child(verb_name).render(),
        });
    }
    if bod.nouns.is_empty() {
        return Err(BodError::MissingElement {
            path: at.child(N::NAME).render(),
        });
    }
    Ok(())
}

fn read_verb_area(el: XmlElement, at: &XmlPath<'_>) -> Result<VerbArea, BodError> {
    let mut out = VerbArea::default();
    let mut crit = 0;
    for c in el.into_elements() {
        match c.oagis_name() {
            Some("TenantID") => out.tenant_id = Some(c.into_text()),
            Some("AccountingEntityID") => out.accounting_entity_id = Some(c.into_text()),
            Some("LocationID") => out.location_id = Some(c.into_text()),
            Some("ActionCriteria") => {
                crit += 1;
                let cp = at.nth("ActionCriteria", crit);
                let mut e = 0;
                for mut x in c.into_elements() {
                    if x.oagis_name() != Some("ActionExpression") {
                        // ChangeStatus and friends: not modelled, kept verbatim.
                        out.action_criteria_extensions.push(x);
                        continue;
                    }
                    e += 1;
                    let xp = cp.nth("ActionExpression", e);
                    let code =
                        x.take_attr("actionCode")
                            .ok_or_else(|| BodError::MissingElement {
                                path: xp.attribute("actionCode"),
                            })?;
                    let action_code = ActionCode::parse(&code, || xp.attribute("actionCode"))?;
                    let text = x.text();
                    out.action_expressions.push(ActionExpression {
                        action_code,
                        expression: if text.trim().is_empty() {
                            None
                        } else {
                            Some(text)
                        },
                    });
                }
            }
            _ => out.extensions.push(c),
        }
    }
    Ok(out)
}

fn write_verb_area(verb: Verb, v: &VerbArea) -> XmlElement {
    let mut el = XmlElement::oagis(verb.as_str());
    el.push_text("TenantID", v.tenant_id.as_ref());
    el.push_text("AccountingEntityID", v.accounting_entity_id.as_ref());
    el.push_text("LocationID", v.location_id.as_ref());
    if !v.action_expressions.is_empty() || !v.action_criteria_extensions.is_empty() {
        let mut crit = XmlElement::oagis("ActionCriteria");
        for a in &v.action_expressions {
            let mut x = XmlElement::oagis("ActionExpression")
                .with_attr("actionCode", a.action_code.as_str());
            if let Some(t) = &a.expression {
                x = x.with_text(t.clone());
            }
            crit.push(x);
        }
        crit.push_all(&v.action_criteria_extensions);
        el.push(crit);
    }
    el.push_all(&v.extensions);
    el
}
