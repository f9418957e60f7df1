#![allow(clippy::unwrap_used)]
//! Property test: any purchase order the model can hold is written and read back unchanged,
//! whatever characters its text holds.

use infor_ion_client::bod::{
    ActionCode, ActionExpression, Amount, Bod, DocumentId, Identifier, Item, NameValue, Party,
    PartyIds, PurchaseOrder, PurchaseOrderHeader, PurchaseOrderLine, Quantity, UserArea, Verb,
    VerbArea, XmlAttribute, XmlElement,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn text() -> impl Strategy<Value = String> {
    // Printable ASCII (including the XML specials) plus some non-ASCII letters.
    "[ -~àéüß€漢]{0,24}"
}

fn decimal() -> impl Strategy<Value = Decimal> {
    (any::<i64>(), 0u32..8).prop_map(|(m, s)| Decimal::new(m, s))
}

fn identifier() -> impl Strategy<Value = Identifier> {
    (
        "[A-Za-z0-9_-]{1,12}",
        proptest::option::of(text()),
        proptest::option::of(0u64..=i64::MAX as u64),
    )
        .prop_map(|(value, ae, v)| Identifier {
            value,
            accounting_entity: ae,
            variation_id: v,
            ..Identifier::default()
        })
}

fn line() -> impl Strategy<Value = PurchaseOrderLine> {
    (text(), "[A-Z0-9-]{1,10}", decimal(), text(), decimal()).prop_map(|(n, item, q, unit, amt)| {
        PurchaseOrderLine {
            line_number: Some(n),
            item: Some(Item {
                item_ids: vec![DocumentId::new(Identifier::new(item))],
                ..Item::default()
            }),
            quantity: Some(Quantity {
                value: q,
                unit_code: Some(unit),
            }),
            extended_amount: Some(Amount {
                value: amt,
                currency_id: Some("EUR".into()),
            }),
            ..PurchaseOrderLine::default()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn purchase_order_round_trips(
        id in identifier(),
        name in text(),
        props in proptest::collection::vec((text(), text()), 0..4),
        lines in proptest::collection::vec(line(), 0..5),
        ext_text in text(),
        ext_attr in text(),
        code in prop_oneof![Just(ActionCode::Add), Just(ActionCode::Replace), Just(ActionCode::Change), Just(ActionCode::Delete)],
    ) {
        let mut bod = Bod::<PurchaseOrder>::new(Verb::Sync, "lid://infor.m3.m3", "x");
        bod.verb_area = VerbArea {
            action_expressions: vec![ActionExpression { action_code: code, expression: None }],
            ..VerbArea::default()
        };
        // An unknown element in a foreign namespace with a namespaced attribute.
        let mut ext = XmlElement {
            namespace: Some("urn:example:ext".into()),
            name: "Custom".into(),
            attributes: vec![XmlAttribute {
                namespace: Some("urn:example:ext".into()),
                prefix: Some("e".into()),
                name: "flag".into(),
                value: ext_attr,
            }],
            children: vec![],
        };
        if !ext_text.trim().is_empty() {
            ext = ext.with_text(ext_text);
        }
        bod.nouns.push(PurchaseOrder {
            header: PurchaseOrderHeader {
                document_id: DocumentId::new(id),
                supplier_party: Some(Party {
                    party_ids: Some(PartyIds { ids: vec![Identifier::new("S1")], ..PartyIds::default() }),
                    name: Some(name),
                    ..Party::default()
                }),
                user_area: Some(UserArea {
                    properties: props.into_iter().map(|(n, v)| NameValue { name: n, value_type: None, value: v }).collect(),
                    extensions: vec![],
                }),
                extensions: vec![ext],
                ..PurchaseOrderHeader::default()
            },
            lines,
            extensions: vec![],
        });
        let xml = bod.to_xml().unwrap();
        let back = Bod::<PurchaseOrder>::from_str(&xml).unwrap();
        prop_assert_eq!(back, bod);
    }
}
