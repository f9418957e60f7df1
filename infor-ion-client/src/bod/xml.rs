//! A small owned XML tree: what the hardened reader produces and the writer consumes.
//!
//! The typed models are mapped from this tree, and elements the models do not know are kept
//! as `XmlElement` values (in `extensions` fields) so that parse → serialize → parse loses
//! nothing. Names are namespace-resolved: every element and attribute carries its namespace
//! URI, never just a prefix.

use std::io::Write;
use std::sync::Arc;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::error::BodError;

/// The Infor OAGIS namespace every BOD element lives in.
pub const OAGIS_NS: &str = "http://schema.infor.com/InforOAGIS/2";

/// One attribute, namespace-resolved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct XmlAttribute {
    /// Namespace URI; `None` for ordinary unprefixed attributes.
    #[serde(with = "ns_serde")]
    pub namespace: Option<Arc<str>>,
    /// The prefix used in the source (kept only to write a readable declaration back).
    pub prefix: Option<String>,
    /// Local name.
    pub name: String,
    /// Unescaped value.
    pub value: String,
}

impl XmlAttribute {
    /// An unprefixed attribute with no namespace.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        XmlAttribute {
            namespace: None,
            prefix: None,
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum XmlNode {
    /// A child element.
    Element(XmlElement),
    /// Character data (entity and character references already resolved).
    Text(String),
}

/// One element with its attributes and children.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct XmlElement {
    /// Namespace URI (`None` when the element is in no namespace).
    #[serde(with = "ns_serde")]
    pub namespace: Option<Arc<str>>,
    /// Local name.
    pub name: String,
    /// Attributes, excluding namespace declarations (`xmlns`, `xmlns:*`).
    pub attributes: Vec<XmlAttribute>,
    /// Children in document order. Whitespace-only text between child elements is dropped.
    pub children: Vec<XmlNode>,
}

/// serde for `Option<Arc<str>>` without enabling serde's `rc` feature workspace-wide.
mod ns_serde {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(ns) => s.serialize_some(&**ns),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<str>>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(Arc::from))
    }
}

thread_local! {
    static OAGIS: Arc<str> = Arc::from(OAGIS_NS);
}

/// A shared `Arc` of the OAGIS namespace, so a tree holds one copy of the URI.
pub(crate) fn oagis_ns() -> Arc<str> {
    OAGIS.with(Arc::clone)
}

impl XmlElement {
    /// A new element in the OAGIS namespace.
    pub fn oagis(name: impl Into<String>) -> Self {
        XmlElement {
            namespace: Some(oagis_ns()),
            name: name.into(),
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// The local name if this element is in the OAGIS namespace, else `None`.
    pub fn oagis_name(&self) -> Option<&str> {
        match &self.namespace {
            Some(ns) if &**ns == OAGIS_NS => Some(&self.name),
            _ => None,
        }
    }

    /// `{namespace}local`, for messages.
    pub fn expanded_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{{{ns}}}{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The value of an unprefixed attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.namespace.is_none() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Removes and returns an unprefixed attribute.
    pub fn take_attr(&mut self, name: &str) -> Option<String> {
        let i = self
            .attributes
            .iter()
            .position(|a| a.namespace.is_none() && a.name == name)?;
        Some(self.attributes.remove(i).value)
    }

    /// The concatenated text children (not descendants).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for c in &self.children {
            if let XmlNode::Text(t) = c {
                out.push_str(t);
            }
        }
        out
    }

    /// The text children, borrowed when there is a single text node.
    pub fn text_cow(&self) -> std::borrow::Cow<'_, str> {
        match self.children.as_slice() {
            [XmlNode::Text(t)] => std::borrow::Cow::Borrowed(t.as_str()),
            [] => std::borrow::Cow::Borrowed(""),
            _ => std::borrow::Cow::Owned(self.text()),
        }
    }

    /// Consumes the element and returns its text (no copy when there is a single text node).
    pub fn into_text(mut self) -> String {
        let single = self.children.len() == 1 && matches!(self.children[0], XmlNode::Text(_));
        if single && let Some(XmlNode::Text(t)) = self.children.pop() {
            return t;
        }
        self.text()
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &XmlElement> {
        self.children.iter().filter_map(|c| match c {
            XmlNode::Element(e) => Some(e),
            XmlNode::Text(_) => None,
        })
    }

    /// Consumes the element and yields its child elements (text is dropped).
    pub fn into_elements(self) -> impl Iterator<Item = XmlElement> {
        self.children.into_iter().filter_map(|c| match c {
            XmlNode::Element(e) => Some(e),
            XmlNode::Text(_) => None,
        })
    }

    /// Builder: adds an unprefixed attribute.
    pub fn with_attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.push(XmlAttribute::new(name, value));
        self
    }

    /// Builder: adds the attribute only when a value is present.
    pub(crate) fn with_opt_attr(self, name: &str, value: Option<&String>) -> Self {
        match value {
            Some(v) => self.with_attr(name, v.clone()),
            None => self,
        }
    }

    /// Builder: sets text content.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.children.push(XmlNode::Text(text.into()));
        self
    }

    /// Appends a child element.
    pub fn push(&mut self, child: XmlElement) {
        self.children.push(XmlNode::Element(child));
    }

    /// Appends `<name>text</name>` when `text` is present.
    pub(crate) fn push_text(&mut self, name: &str, text: Option<&String>) {
        if let Some(t) = text {
            self.push(XmlElement::oagis(name).with_text(t.clone()));
        }
    }

    /// Appends clones of preserved extension elements.
    pub(crate) fn push_all(&mut self, extra: &[XmlElement]) {
        for e in extra {
            self.push(e.clone());
        }
    }

    /// Serializes this element (and its subtree) as a complete UTF-8 document with an XML
    /// declaration. The OAGIS namespace is declared once, on this element.
    pub fn write_document<W: Write>(&self, out: W) -> Result<(), BodError> {
        let mut w = Writer::new(out);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .map_err(io_err)?;
        write_element(&mut w, self, None)
    }

    /// Serializes this element as an XML fragment (no declaration), declaring whatever
    /// namespaces it needs.
    pub fn to_fragment(&self) -> Result<String, BodError> {
        let mut buf = Vec::new();
        let mut w = Writer::new(&mut buf);
        write_element(&mut w, self, None)?;
        String::from_utf8(buf).map_err(|e| BodError::NotUtf8 {
            detail: e.to_string(),
            position: 0,
        })
    }
}

fn io_err(e: impl std::fmt::Display) -> BodError {
    BodError::Io {
        message: e.to_string(),
    }
}

/// Writes `el`; `default_ns` is the default namespace in scope at the parent.
fn write_element<W: Write>(
    w: &mut Writer<W>,
    el: &XmlElement,
    default_ns: Option<&str>,
) -> Result<(), BodError> {
    let mut start = BytesStart::new(el.name.as_str());
    let own_ns = el.namespace.as_deref();
    // Elements are always written unprefixed; a change of namespace redeclares the default.
    if own_ns != default_ns {
        start.push_attribute(("xmlns", own_ns.unwrap_or("")));
    }
    let mut declared: Vec<String> = Vec::new();
    let mut qualified: Vec<(String, &str)> = Vec::new();
    for (i, a) in el.attributes.iter().enumerate() {
        match a.namespace.as_deref() {
            None => start.push_attribute((a.name.as_str(), a.value.as_str())),
            Some(ns) => {
                let prefix = match a.prefix.as_deref() {
                    Some("xml") => "xml".to_owned(),
                    Some(p) if !p.is_empty() => p.to_owned(),
                    _ => format!("ns{i}"),
                };
                if prefix != "xml" && !declared.contains(&prefix) {
                    start.push_attribute((format!("xmlns:{prefix}").as_str(), ns));
                    declared.push(prefix.clone());
                }
                qualified.push((format!("{prefix}:{}", a.name), a.value.as_str()));
            }
        }
    }
    for (name, value) in &qualified {
        start.push_attribute((name.as_str(), *value));
    }
    if el.children.is_empty() {
        return w.write_event(Event::Empty(start)).map_err(io_err);
    }
    w.write_event(Event::Start(start)).map_err(io_err)?;
    for c in &el.children {
        match c {
            XmlNode::Element(e) => write_element(w, e, own_ns)?,
            XmlNode::Text(t) => w
                .write_event(Event::Text(BytesText::new(t)))
                .map_err(io_err)?,
        }
    }
    w.write_event(Event::End(BytesEnd::new(el.name.as_str())))
        .map_err(io_err)
}

/// A position in the document, used to name the place of an error. It is a linked list on
/// the stack and is only turned into a string when an error is built.
#[derive(Debug, Clone, Copy)]
pub struct XmlPath<'p> {
    parent: Option<&'p XmlPath<'p>>,
    name: &'p str,
    index: Option<usize>,
}

impl<'p> XmlPath<'p> {
    /// The path of a document's root element.
    pub fn root(name: &'p str) -> Self {
        XmlPath {
            parent: None,
            name,
            index: None,
        }
    }

    /// A child element.
    pub fn child(&'p self, name: &'p str) -> XmlPath<'p> {
        XmlPath {
            parent: Some(self),
            name,
            index: None,
        }
    }

    /// The `index`-th (1-based, as in XPath) occurrence of a repeated child element.
    pub fn nth(&'p self, name: &'p str, index: usize) -> XmlPath<'p> {
        XmlPath {
            parent: Some(self),
            name,
            index: Some(index),
        }
    }

    /// Renders the path, e.g. `/SyncPurchaseOrder/DataArea/PurchaseOrder[1]`.
    pub fn render(&self) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            parts.push(match p.index {
                Some(i) => format!("{}[{i}]", p.name),
                None => p.name.to_owned(),
            });
            cur = p.parent;
        }
        parts.reverse();
        let mut s = String::new();
        for p in parts {
            s.push('/');
            s.push_str(&p);
        }
        s
    }

    /// The path of an attribute on this element.
    pub fn attribute(&self, name: &str) -> String {
        format!("{}/@{name}", self.render())
    }
}
