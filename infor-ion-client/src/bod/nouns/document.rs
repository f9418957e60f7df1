//! The body three nouns share (`PurchaseOrder`, `SupplierInvoice`, `ReceiveDelivery`): one
//! required header, repeated lines in document order, and any other children kept verbatim.

use crate::bod::error::BodError;
use crate::bod::types::{XmlMapped, push_all_mapped};
use crate::bod::xml::{XmlElement, XmlPath};

/// A header-and-lines body as read.
pub(super) struct HeaderLines<H, L> {
    pub header: H,
    pub lines: Vec<L>,
    pub extensions: Vec<XmlElement>,
}

/// Read `el`: the first `header` child is the header (missing is an error naming its path),
/// every `line` child a line (paths numbered from 1), anything else an extension.
pub(super) fn read<H: XmlMapped, L: XmlMapped>(
    el: XmlElement,
    at: &XmlPath<'_>,
    header: &str,
    line: &str,
) -> Result<HeaderLines<H, L>, BodError> {
    let mut found = None;
    let mut lines = Vec::new();
    let mut extensions = Vec::new();
    for c in el.into_elements() {
        match c.oagis_name() {
            Some(name) if name == header && found.is_none() => {
                found = Some(H::from_xml(c, &at.child(header))?);
            }
            Some(name) if name == line => {
                let n = lines.len() + 1;
                lines.push(L::from_xml(c, &at.nth(line, n))?);
            }
            _ => extensions.push(c),
        }
    }
    let header = found.ok_or_else(|| BodError::MissingElement {
        path: at.child(header).render(),
    })?;
    Ok(HeaderLines {
        header,
        lines,
        extensions,
    })
}

/// Write a header-and-lines body as the OAGIS element `noun`.
pub(super) fn write<H: XmlMapped, L: XmlMapped>(
    noun: &str,
    (header_name, header): (&str, &H),
    (line_name, lines): (&str, &[L]),
    extensions: &[XmlElement],
) -> XmlElement {
    let mut el = XmlElement::oagis(noun);
    el.push(header.to_xml(header_name));
    push_all_mapped(&mut el, line_name, lines);
    el.push_all(extensions);
    el
}
