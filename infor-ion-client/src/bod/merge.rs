//! `Change` BODs: a partial noun merged onto the last full one (see [`merge_change`]).

use super::envelope::Noun;
use super::error::BodError;
use super::xml::{XmlElement, XmlNode, XmlPath};

/// `change` merged onto `base`.
///
/// OAGIS's `Change` action code says the noun carries only what changed (ION's own guidance
/// discourages it, but a publisher may send it). Taken whole, such a noun would blank every
/// value it leaves out, so it is laid over the document's last full noun (`Add`, `Replace` or
/// no action code) by one rule, applied to the two noun elements:
///
/// - a child the change carries replaces every child of that name in the base; a child it
///   does not carry is kept (so `<Name>` alone renames a supplier and keeps its addresses);
/// - the header (`…Header`) is merged by the same rule, one level down;
/// - lines (`…Line` with a `LineNumber`) and chart accounts (`GLAccount`, by
///   `GLNominalAccount`) are merged one by one: a line the change carries is merged by the
///   same rule onto the base line with its number, or appended when it is new; a line it does
///   not carry is kept. A `Change` cannot remove a line (a `Replace` can);
/// - the change's attributes replace the base's of the same name.
///
/// ```
/// use infor_ion_client::bod::{Bod, SupplierPartyMaster, merge_change};
/// let full = Bod::<SupplierPartyMaster>::from_str(r#"<SyncSupplierPartyMaster xmlns="http://schema.infor.com/InforOAGIS/2">
///   <ApplicationArea><CreationDateTime>2026-01-05T10:00:00Z</CreationDateTime></ApplicationArea>
///   <DataArea><Sync/><SupplierPartyMaster><PartyIDs><ID variationID="1">V1</ID></PartyIDs>
///     <Name>Acme</Name><CurrencyCode>EUR</CurrencyCode></SupplierPartyMaster></DataArea>
/// </SyncSupplierPartyMaster>"#)?;
/// let change = Bod::<SupplierPartyMaster>::from_str(r#"<SyncSupplierPartyMaster xmlns="http://schema.infor.com/InforOAGIS/2">
///   <ApplicationArea><CreationDateTime>2026-01-05T10:00:00Z</CreationDateTime></ApplicationArea>
///   <DataArea><Sync><ActionCriteria><ActionExpression actionCode="Change"/></ActionCriteria></Sync>
///     <SupplierPartyMaster><PartyIDs><ID variationID="2">V1</ID></PartyIDs>
///     <Name>Acme GmbH</Name></SupplierPartyMaster></DataArea>
/// </SyncSupplierPartyMaster>"#)?;
/// let merged = merge_change(&full.nouns[0], &change.nouns[0])?;
/// assert_eq!(merged.name.as_deref(), Some("Acme GmbH"));
/// assert_eq!(merged.currency_code.as_deref(), Some("EUR"));
/// # Ok::<(), infor_ion_client::bod::BodError>(())
/// ```
pub fn merge_change<N: Noun>(base: &N, change: &N) -> Result<N, BodError> {
    let merged = merge(base.to_element(), change.to_element());
    N::from_element(merged, &XmlPath::root(N::NAME))
}

/// `change`'s attributes and children laid over `base`'s.
fn merge(mut base: XmlElement, change: XmlElement) -> XmlElement {
    for attribute in change.attributes {
        match base
            .attributes
            .iter_mut()
            .find(|a| a.name == attribute.name && a.namespace == attribute.namespace)
        {
            Some(kept) => *kept = attribute,
            None => base.attributes.push(attribute),
        }
    }
    let mut replaced: Vec<String> = Vec::new();
    for node in change.children {
        let XmlNode::Element(child) = node else {
            continue;
        };
        if let Some(key) = line_key(&child) {
            let same_line = base.children.iter_mut().find_map(|n| match n {
                XmlNode::Element(e) if e.name == child.name && line_key(e) == Some(key) => Some(e),
                _ => None,
            });
            match same_line {
                Some(line) => *line = merge(std::mem::replace(line, empty_like(line)), child),
                None => base.children.push(XmlNode::Element(child)),
            }
        } else if child.name.ends_with("Header") {
            let header = base.children.iter_mut().find_map(|n| match n {
                XmlNode::Element(e) if e.name == child.name => Some(e),
                _ => None,
            });
            match header {
                Some(header) => {
                    *header = merge(std::mem::replace(header, empty_like(header)), child)
                }
                None => base.children.push(XmlNode::Element(child)),
            }
        } else {
            if !replaced.contains(&child.name) {
                base.children
                    .retain(|n| !matches!(n, XmlNode::Element(e) if e.name == child.name));
                replaced.push(child.name.clone());
            }
            base.children.push(XmlNode::Element(child));
        }
    }
    base
}

/// What tells one repeated line apart: a `…Line`'s `LineNumber`, a `GLAccount`'s
/// `GLNominalAccount`.
fn line_key(el: &XmlElement) -> Option<&str> {
    let key = if el.name == "GLAccount" {
        "GLNominalAccount"
    } else if el.name.ends_with("Line") {
        "LineNumber"
    } else {
        return None;
    };
    el.elements().find_map(|c| match &c.children[..] {
        [XmlNode::Text(text)] if c.name == key => Some(text.trim()),
        _ => None,
    })
}

/// A placeholder while an element is taken out to be merged.
fn empty_like(el: &XmlElement) -> XmlElement {
    XmlElement {
        namespace: el.namespace.clone(),
        name: String::new(),
        attributes: Vec::new(),
        children: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bod::{Bod, PurchaseOrder, SupplierPartyMaster};

    fn po(body: &str) -> PurchaseOrder {
        let xml = format!(
            r#"<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2"><ApplicationArea><CreationDateTime>2026-01-05T10:00:00Z</CreationDateTime></ApplicationArea><DataArea><Sync/>
            <PurchaseOrder>{body}</PurchaseOrder></DataArea></SyncPurchaseOrder>"#
        );
        match Bod::<PurchaseOrder>::from_str(&xml) {
            Ok(mut bod) => bod.nouns.remove(0),
            Err(error) => panic!("fixture: {error}"),
        }
    }

    fn header(extra: &str) -> String {
        format!(
            "<PurchaseOrderHeader><DocumentID><ID>PO1</ID></DocumentID>{extra}</PurchaseOrderHeader>"
        )
    }

    fn line(number: &str, item: &str, quantity: &str) -> String {
        format!(
            r#"<PurchaseOrderLine><LineNumber>{number}</LineNumber><Item><ItemID><ID>{item}</ID></ItemID></Item>
            <Quantity unitCode="EA">{quantity}</Quantity></PurchaseOrderLine>"#
        )
    }

    #[test]
    fn a_changed_line_is_merged_by_number_and_the_others_are_kept() -> Result<(), BodError> {
        let base = po(&format!(
            "{}{}{}",
            header("<Status><Code>Open</Code></Status><DisplayID>first</DisplayID>"),
            line("1", "A", "5"),
            line("2", "B", "7"),
        ));
        // Line 2's quantity changes, line 3 is new; the header's description changes.
        let change = po(&format!(
            "{}<PurchaseOrderLine><LineNumber>2</LineNumber><Quantity unitCode=\"EA\">9</Quantity></PurchaseOrderLine>{}",
            header("<DisplayID>second</DisplayID>"),
            line("3", "C", "1"),
        ));
        let merged = merge_change(&base, &change)?;
        let lines: Vec<(Option<&str>, Option<String>, Option<String>)> = merged
            .lines
            .iter()
            .map(|l| {
                (
                    l.line_number.as_deref(),
                    l.item
                        .as_ref()
                        .and_then(|i| i.item_ids.first())
                        .map(|i| i.id.value.clone()),
                    l.quantity.as_ref().map(|q| q.value.to_string()),
                )
            })
            .collect();
        assert_eq!(
            lines,
            vec![
                (Some("1"), Some("A".into()), Some("5".into())),
                (Some("2"), Some("B".into()), Some("9".into())),
                (Some("3"), Some("C".into()), Some("1".into())),
            ]
        );
        assert_eq!(merged.header.display_id.as_deref(), Some("second"));
        assert_eq!(
            merged
                .header
                .status
                .as_ref()
                .and_then(|s| s.code.as_ref())
                .map(|c| c.value.as_str()),
            Some("Open"),
            "what the change does not carry is kept"
        );
        Ok(())
    }

    #[test]
    fn a_repeated_child_the_change_carries_replaces_all_of_that_name() -> Result<(), BodError> {
        let party = |body: &str| -> Result<SupplierPartyMaster, BodError> {
            let xml = format!(
                r#"<SyncSupplierPartyMaster xmlns="http://schema.infor.com/InforOAGIS/2"><ApplicationArea><CreationDateTime>2026-01-05T10:00:00Z</CreationDateTime></ApplicationArea><DataArea><Sync/>
                <SupplierPartyMaster><PartyIDs><ID>V1</ID></PartyIDs>{body}</SupplierPartyMaster></DataArea></SyncSupplierPartyMaster>"#
            );
            Ok(Bod::<SupplierPartyMaster>::from_str(&xml)?.nouns.remove(0))
        };
        let base = party(
            "<Name>Acme</Name><Communication><ChannelCode>Phone</ChannelCode></Communication>\
             <Communication><ChannelCode>EMail</ChannelCode></Communication>",
        )?;
        let change = party("<Communication><ChannelCode>Fax</ChannelCode></Communication>")?;
        let merged = merge_change(&base, &change)?;
        assert_eq!(merged.name.as_deref(), Some("Acme"));
        assert_eq!(merged.communications.len(), 1);
        assert_eq!(
            merged.communications[0].channel_code.as_deref(),
            Some("Fax")
        );
        Ok(())
    }
}
