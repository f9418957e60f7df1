#![allow(clippy::unwrap_used)]
//! Every noun parses from a realistic fixture, keeps what it does not model, and survives
//! parse → serialize → parse unchanged.

use std::str::FromStr;

use infor_ion_client::bod::{
    ActionCode, ActionExpression, AnyBod, Bod, BodError, ChartOfAccounts, CustomerPartyMaster,
    DocumentId, DocumentReference, GlAccountForm, Identifier, ItemMaster, Noun, OAGIS_NS,
    PurchaseOrder, Quantity, ReceiveDelivery, ReceiveDeliveryHeader, ReceiveDeliveryItem, Status,
    SupplierInvoice, SupplierPartyMaster, Verb, VerbArea,
};
use rust_decimal::Decimal;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/bod/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// parse → serialize → parse gives the same model, and the namespace is declared once.
fn assert_round_trip<N: Noun + PartialEq + std::fmt::Debug>(bod: &Bod<N>) {
    let xml = bod.to_xml().unwrap();
    assert_eq!(
        xml.matches(&format!("xmlns=\"{OAGIS_NS}\"")).count(),
        1,
        "OAGIS namespace must be declared exactly once:\n{xml}"
    );
    let again = Bod::<N>::from_str(&xml).unwrap();
    assert_eq!(&again, bod, "round trip changed the model; XML was:\n{xml}");
    // And a second serialization is byte-identical (the writer is deterministic).
    assert_eq!(again.to_xml().unwrap(), xml);
}

#[test]
fn sync_purchase_order_m3() {
    let bod = Bod::<PurchaseOrder>::from_str(&fixture("sync_purchase_order_m3.xml")).unwrap();
    assert_eq!(bod.verb, Verb::Sync);
    assert_eq!(bod.root_name(), "SyncPurchaseOrder");
    assert_eq!(bod.release_id.as_deref(), Some("9.2"));
    assert_eq!(bod.version_id.as_deref(), Some("2.14.3"));
    assert_eq!(bod.system_environment_code.as_deref(), Some("Production"));
    // xsi:schemaLocation is namespaced: kept as an extra root attribute with its URI.
    let loc = &bod.root_attributes[0];
    assert_eq!(loc.name, "schemaLocation");
    assert_eq!(
        loc.namespace.as_deref(),
        Some("http://www.w3.org/2001/XMLSchema-instance")
    );

    let app = &bod.application_area;
    assert_eq!(app.sender.logical_id.as_deref(), Some("lid://infor.m3.m3"));
    assert_eq!(app.sender.component_id.as_deref(), Some("M3BE"));
    assert_eq!(app.sender.confirmation_code.as_deref(), Some("OnError"));
    assert_eq!(
        app.creation_date_time.unwrap().to_rfc3339(),
        "2025-09-24T09:33:09.770+00:00"
    );
    assert_eq!(
        app.bod_id.as_deref(),
        Some("0b61d005-2f4c-4b6e-9a51-7d1c0c3e2a10")
    );
    assert_eq!(
        bod.verb_area.accounting_entity_id.as_deref(),
        Some("300_001")
    );
    assert_eq!(bod.verb_area.location_id.as_deref(), Some("FR1"));
    assert_eq!(bod.verb_area.tenant_id, None);
    assert_eq!(bod.verb_area.action_code(), Some(ActionCode::Replace));

    assert_eq!(bod.nouns.len(), 1);
    let po = &bod.nouns[0];
    let id = &po.header.document_id.id;
    assert_eq!(id.value, "4000123");
    assert_eq!(id.accounting_entity.as_deref(), Some("300_001"));
    assert_eq!(id.location.as_deref(), Some("FR1"));
    assert_eq!(id.lid.as_deref(), Some("lid://infor.m3.m3"));
    assert_eq!(id.variation_id, Some(1_727_170_389_770));
    let status = po.header.status.as_ref().unwrap();
    assert_eq!(status.code.as_ref().unwrap().value, "Open");
    assert_eq!(
        status.code.as_ref().unwrap().list_id.as_deref(),
        Some("PurchaseOrderStatus")
    );
    let supplier = po.header.supplier_party.as_ref().unwrap();
    assert_eq!(supplier.primary_id().unwrap().value, "SUP-0042");
    // Character references and predefined entities are resolved.
    assert_eq!(supplier.name.as_deref(), Some("Fournitures Lumière & Fils"));
    let addr = supplier.locations[0].address.as_ref().unwrap();
    assert_eq!(addr.lines[1].sequence, Some(2));
    assert_eq!(addr.lines[1].text, "Bâtiment C");
    assert_eq!(addr.postal_code.as_deref(), Some("69003"));
    let total = po.header.extended_amount.as_ref().unwrap();
    assert_eq!(total.value, dec("4600.00"));
    assert_eq!(total.currency_id.as_deref(), Some("EUR"));
    assert_eq!(
        po.header
            .payment_term
            .as_ref()
            .unwrap()
            .payment_term_code
            .as_deref(),
        Some("30N")
    );
    let ua = po.header.user_area.as_ref().unwrap();
    assert_eq!(ua.properties.len(), 3);
    assert_eq!(ua.get("m3.FACI"), Some("A01"));
    assert_eq!(ua.properties[0].value_type.as_deref(), Some("StringType"));

    // Unknown and unmodelled elements are kept, including one in a foreign namespace.
    let ext: Vec<&str> = po
        .header
        .extensions
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        ext,
        [
            "LastModificationPerson",
            "CustomerParty",
            "TransportationTerm",
            "RoutingHint"
        ]
    );
    let hint = &po.header.extensions[3];
    assert_eq!(hint.namespace.as_deref(), Some("urn:example:acme"));
    assert_eq!(hint.text(), "dock 4");
    assert_eq!(hint.attributes[0].name, "priority");
    assert_eq!(
        hint.attributes[0].namespace.as_deref(),
        Some("urn:example:acme")
    );

    assert_eq!(po.lines.len(), 2);
    let l1 = &po.lines[0];
    assert_eq!(l1.line_number.as_deref(), Some("10"));
    assert_eq!(l1.item.as_ref().unwrap().item_number(), Some("ITM-1001"));
    assert_eq!(l1.item.as_ref().unwrap().gtins, ["03012345678900"]);
    assert_eq!(
        l1.quantity,
        Some(Quantity {
            value: dec("100"),
            unit_code: Some("EA".into())
        })
    );
    let price = l1.unit_price.as_ref().unwrap();
    assert_eq!(price.amount.as_ref().unwrap().value, dec("12.50"));
    assert_eq!(price.per_quantity.as_ref().unwrap().value, dec("1"));
    assert_eq!(l1.received_quantity.as_ref().unwrap().value, Decimal::ZERO);
    let l2 = &po.lines[1];
    assert_eq!(l2.quantity.as_ref().unwrap().value, dec("13.4"));
    assert_eq!(
        l2.quantity.as_ref().unwrap().unit_code.as_deref(),
        Some("KGM")
    );
    assert_eq!(
        l2.item.as_ref().unwrap().descriptions,
        ["Hex bolt M8 <zinc>"]
    );
    assert_eq!(l2.extensions[0].name, "BuyerParty");

    // An extension can be inspected as an XML fragment, namespaces declared.
    assert_eq!(
        hint.to_fragment().unwrap(),
        r#"<RoutingHint xmlns="urn:example:acme" xmlns:acme="urn:example:acme" acme:priority="high">dock 4</RoutingHint>"#
    );

    assert_round_trip(&bod);
    // The foreign-namespace element is written back with its own namespace.
    let xml = bod.to_xml().unwrap();
    assert!(
        xml.contains("<RoutingHint xmlns=\"urn:example:acme\""),
        "{xml}"
    );
}

#[test]
fn prefixed_namespace_is_matched_by_uri() {
    let bod =
        Bod::<PurchaseOrder>::from_str(&fixture("sync_purchase_order_ln_prefixed.xml")).unwrap();
    assert_eq!(bod.verb_area.tenant_id.as_deref(), Some("ACME_PRD"));
    assert_eq!(bod.verb_area.action_code(), Some(ActionCode::Add));
    assert_eq!(
        bod.application_area.bod_id.as_deref(),
        Some("infor-nid:ACME_PRD:3555:WH1:PO0001234:?PurchaseOrder&verb=Sync")
    );
    let h = &bod.nouns[0].header;
    assert_eq!(h.document_id.id.variation_id, Some(42));
    assert_eq!(h.notes[0].note_type.as_deref(), Some("Header"));
    assert_eq!(h.notes[0].text, "Deliver before noon.");
    // A bare date is read as midnight UTC.
    assert_eq!(
        h.order_date_time.unwrap().to_rfc3339(),
        "2025-09-23T00:00:00+00:00"
    );
    assert!(h.extensions.is_empty());
    assert_round_trip(&bod);
}

#[test]
fn same_names_in_another_namespace_are_not_a_bod() {
    let xml = fixture("sync_purchase_order_m3.xml").replace(OAGIS_NS, "urn:not-infor");
    let err = Bod::<PurchaseOrder>::from_str(&xml).unwrap_err();
    match err {
        BodError::UnexpectedRoot { found, .. } => {
            assert_eq!(found, "{urn:not-infor}SyncPurchaseOrder")
        }
        other => panic!("{other:?}"),
    }
    // And a document without any namespace is refused too.
    let bare = r#"<SyncPurchaseOrder><ApplicationArea/><DataArea/></SyncPurchaseOrder>"#;
    assert!(matches!(
        Bod::<PurchaseOrder>::from_str(bare),
        Err(BodError::UnexpectedRoot { .. })
    ));
}

#[test]
fn wrong_noun_for_the_requested_type_is_unexpected_root() {
    let err = Bod::<SupplierInvoice>::from_str(&fixture("sync_purchase_order_m3.xml")).unwrap_err();
    assert!(
        matches!(&err, BodError::UnexpectedRoot { expected, .. } if expected.ends_with("SupplierInvoice")),
        "{err:?}"
    );
}

#[test]
fn sync_supplier_party_master() {
    let bod =
        Bod::<SupplierPartyMaster>::from_str(&fixture("sync_supplier_party_master.xml")).unwrap();
    assert_eq!(bod.verb_area.action_code(), Some(ActionCode::Add));
    assert_eq!(bod.verb_area.location_id.as_deref(), Some(""));
    let s = &bod.nouns[0];
    let id = s.primary_id().unwrap();
    assert_eq!(
        (
            id.value.as_str(),
            id.accounting_entity.as_deref(),
            id.variation_id
        ),
        ("SUP-0042", Some("300"), Some(18))
    );
    assert_eq!(s.party_ids.tax_ids[0].value, "FR40303265045");
    assert_eq!(s.name.as_deref(), Some("Fournitures Lumière & Fils"));
    assert_eq!(s.locations[0].location_type.as_deref(), Some("Office"));
    assert_eq!(s.communications.len(), 2);
    assert_eq!(s.communications[1].channel_code.as_deref(), Some("EMail"));
    assert_eq!(
        s.communications[1].uri.as_deref(),
        Some("ap@lumiere.example")
    );
    assert_eq!(
        s.status.as_ref().unwrap().code.as_ref().unwrap().value,
        "Open"
    );
    assert_eq!(s.currency_code.as_deref(), Some("EUR"));
    assert_eq!(s.payment_term_id.as_deref(), Some("30N"));
    assert_eq!(s.payment_method_code.as_deref(), Some("TRF"));
    assert_eq!(s.language_code.as_deref(), Some("FR"));
    let group = &s.classifications[0].codes[0];
    assert_eq!(
        (group.value.as_str(), group.list_id.as_deref()),
        ("10", Some("Supplier Group"))
    );
    let ext: Vec<&str> = s.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(ext, ["BuyerPersonReference", "FinancialParty"]);
    let ua = s.user_area.as_ref().unwrap();
    assert_eq!(ua.get("m3.SUTY"), Some("0"));
    assert_eq!(ua.get("m3.CORG"), Some(""));
    assert_round_trip(&bod);
}

#[test]
fn sync_customer_party_master() {
    let bod =
        Bod::<CustomerPartyMaster>::from_str(&fixture("sync_customer_party_master.xml")).unwrap();
    let c = &bod.nouns[0];
    assert_eq!(c.primary_id().unwrap().value, "C000123");
    assert_eq!(c.primary_id().unwrap().location.as_deref(), Some("DALS"));
    assert_eq!(c.primary_id().unwrap().variation_id, Some(3));
    assert_eq!(c.currency_code.as_deref(), Some("AUD"));
    let a = c.locations[0].address.as_ref().unwrap();
    assert_eq!(a.country_sub_division_code.as_deref(), Some("NSW"));
    assert_eq!(
        c.last_modification_date_time.unwrap().to_rfc3339(),
        "2025-09-21T14:04:58+00:00"
    );
    assert_eq!(c.extensions[0].name, "SalesPersonReference");
    assert_round_trip(&bod);
}

#[test]
fn sync_supplier_invoice() {
    let bod = Bod::<SupplierInvoice>::from_str(&fixture("sync_supplier_invoice.xml")).unwrap();
    let inv = &bod.nouns[0];
    let h = &inv.header;
    assert_eq!(h.document_id.id.value, "INV-2025-000981");
    assert_eq!(h.document_id.id.variation_id, Some(5));
    assert_eq!(
        h.alternate_document_ids[0].id.scheme_name.as_deref(),
        Some("SupplierInvoiceNumber")
    );
    assert_eq!(h.total_amount.as_ref().unwrap().value, dec("5520.00"));
    let tax = &h.taxes[0];
    assert_eq!(tax.amount.as_ref().unwrap().value, dec("920"));
    assert_eq!(tax.basis_amount.as_ref().unwrap().value, dec("4600"));
    assert_eq!(tax.rate_numeric, Some(dec("20")));
    assert_eq!(
        h.purchase_order_references[0]
            .document_id
            .as_ref()
            .unwrap()
            .id
            .value,
        "4000123"
    );
    assert_eq!(
        h.supplier_party
            .as_ref()
            .unwrap()
            .party_ids
            .as_ref()
            .unwrap()
            .tax_ids[0]
            .value,
        "FR40303265045"
    );
    // RemitToParty/FinancialParty is not modelled but kept inside the party.
    assert_eq!(
        h.remit_to_party.as_ref().unwrap().extensions[0].name,
        "FinancialParty"
    );
    assert_eq!(inv.lines.len(), 2);
    assert_eq!(
        inv.lines[0]
            .purchase_order_reference
            .as_ref()
            .unwrap()
            .line_number
            .as_deref(),
        Some("10")
    );
    assert_eq!(inv.lines[1].description.as_deref(), Some("Freight"));
    assert_eq!(inv.lines[1].extensions[0].name, "DistributionAccount");
    assert_round_trip(&bod);
}

#[test]
fn sync_chart_of_accounts() {
    let bod = Bod::<ChartOfAccounts>::from_str(&fixture("sync_chart_of_accounts.xml")).unwrap();
    let coa = &bod.nouns[0];
    assert_eq!(coa.document_id.as_ref().unwrap().id.variation_id, Some(9));
    assert_eq!(coa.gl_accounts.len(), 2);
    let a = &coa.gl_accounts[0];
    assert_eq!(a.gl_nominal_account, "401000");
    assert_eq!(a.accounting_chart_id.as_ref().unwrap().value, "PK1-COA");
    assert_eq!(a.descriptions, ["Trade payables"]);
    assert_eq!(a.type_code.as_deref(), Some("BalanceSheet"));
    let b = &coa.gl_accounts[1];
    assert_eq!(b.currency_code.as_deref(), Some("EUR"));
    assert_eq!(b.extensions[0].name, "SummaryAccount");
    assert_eq!(coa.extensions[0].name, "CodeDefinition");
    assert_eq!(coa.extensions[0].attr("listID"), Some("Department"));
    assert_round_trip(&bod);
}

#[test]
fn sync_item_master() {
    let bod = Bod::<ItemMaster>::from_str(&fixture("sync_item_master.xml")).unwrap();
    assert_eq!(bod.verb_area.action_code(), Some(ActionCode::Change));
    // An offset timestamp is normalised to UTC.
    assert_eq!(
        bod.application_area
            .creation_date_time
            .unwrap()
            .to_rfc3339(),
        "2025-09-22T05:45:12.500+00:00"
    );
    let item = &bod.nouns[0];
    assert_eq!(item.item_number(), Some("ITM-1001"));
    assert_eq!(item.header.item_ids[0].id.variation_id, Some(1001));
    assert_eq!(item.header.descriptions.len(), 2);
    assert_eq!(item.header.base_uom_code.as_deref(), Some("EA"));
    assert_eq!(item.header.classifications[0].codes[0].value, "BRK");
    assert_eq!(item.extensions[0].name, "ItemLocation");
    assert_round_trip(&bod);
}

#[test]
fn process_receive_delivery_fixture() {
    let bod = Bod::<ReceiveDelivery>::from_str(&fixture("process_receive_delivery.xml")).unwrap();
    assert_eq!(bod.verb, Verb::Process);
    let rd = &bod.nouns[0];
    assert_eq!(rd.header.packing_slip.as_deref(), Some("PS-99812"));
    assert_eq!(
        rd.header.warehouse_location_id.as_ref().unwrap().value,
        "A01"
    );
    let item = &rd.items[0];
    assert_eq!(item.received_quantity.as_ref().unwrap().value, dec("98"));
    assert_eq!(
        item.purchase_order_reference
            .as_ref()
            .unwrap()
            .line_number
            .as_deref(),
        Some("10")
    );
    assert_eq!(
        item.user_area.as_ref().unwrap().properties[0].value_type,
        None
    );
    assert_round_trip(&bod);
}

/// Building the BODs we write back from scratch, then reading them as ION would.
#[test]
fn build_process_bods_for_write_back() {
    let mut receipt = Bod::<ReceiveDelivery>::new(Verb::Process, "lid://infor.ims.cin7sync", "b-1");
    receipt.verb_area = VerbArea {
        accounting_entity_id: Some("300_001".into()),
        action_expressions: vec![ActionExpression {
            action_code: ActionCode::Add,
            expression: None,
        }],
        ..VerbArea::default()
    };
    receipt.nouns.push(ReceiveDelivery {
        header: ReceiveDeliveryHeader {
            document_id: DocumentId::new(Identifier::new("RCPT-9")),
            ..ReceiveDeliveryHeader::default()
        },
        items: vec![ReceiveDeliveryItem {
            line_number: Some("1".into()),
            purchase_order_reference: Some(DocumentReference {
                document_id: Some(DocumentId::new(Identifier::new("4000123"))),
                line_number: Some("10".into()),
                extensions: vec![],
            }),
            received_quantity: Some(Quantity {
                value: dec("5.5"),
                unit_code: Some("EA".into()),
            }),
            ..ReceiveDeliveryItem::default()
        }],
        extensions: vec![],
    });
    let xml = receipt.to_xml().unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(xml.contains("<ProcessReceiveDelivery xmlns=\"http://schema.infor.com/InforOAGIS/2\""));
    assert!(xml.contains("<ActionExpression actionCode=\"Add\"/>"));
    assert!(xml.contains("<ReceivedQuantity unitCode=\"EA\">5.5</ReceivedQuantity>"));
    assert_round_trip(&receipt);

    // PO status change: the PurchaseOrder noun under the Process verb.
    let sync = Bod::<PurchaseOrder>::from_str(&fixture("sync_purchase_order_m3.xml")).unwrap();
    let mut status = Bod::<PurchaseOrder>::new(Verb::Process, "lid://infor.ims.cin7sync", "b-2");
    let mut po = sync.nouns[0].clone();
    po.header.status = Some(Status {
        code: Some(infor_ion_client::bod::Code::new("Closed")),
        ..Status::default()
    });
    status.nouns.push(po);
    let back = AnyBod::from_slice(status.to_xml().unwrap().as_bytes()).unwrap();
    assert_eq!(back.verb(), Verb::Process);
    assert_eq!(back.noun_name(), "PurchaseOrder");
    match back {
        AnyBod::PurchaseOrder(b) => assert_eq!(
            b.nouns[0]
                .header
                .status
                .as_ref()
                .unwrap()
                .code
                .as_ref()
                .unwrap()
                .value,
            "Closed"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn any_bod_dispatches_on_the_root_element() {
    let cases = [
        ("sync_purchase_order_m3.xml", "PurchaseOrder"),
        ("sync_supplier_party_master.xml", "SupplierPartyMaster"),
        ("sync_customer_party_master.xml", "CustomerPartyMaster"),
        ("sync_supplier_invoice.xml", "SupplierInvoice"),
        ("sync_chart_of_accounts.xml", "ChartOfAccounts"),
        ("sync_item_master.xml", "ItemMaster"),
        ("process_receive_delivery.xml", "ReceiveDelivery"),
    ];
    for (file, noun) in cases {
        let bod = AnyBod::from_slice(fixture(file).as_bytes()).unwrap();
        assert_eq!(bod.noun_name(), noun, "{file}");
        // AnyBod serializes to the same XML as the typed BOD would.
        let again = AnyBod::from_slice(bod.to_xml().unwrap().as_bytes()).unwrap();
        assert_eq!(again, bod, "{file}");
    }
    let unknown = fixture("sync_item_master.xml").replace("ItemMaster", "Shipment");
    assert!(matches!(
        AnyBod::from_slice(unknown.as_bytes()),
        Err(BodError::UnexpectedRoot { found, .. }) if found.ends_with("SyncShipment")
    ));
}

#[test]
fn model_errors_name_the_path() {
    let po = fixture("sync_purchase_order_m3.xml");

    let bad_qty = po.replace(
        "<Quantity unitCode=\"KGM\">13.400</Quantity>",
        "<Quantity unitCode=\"KGM\">13,4</Quantity>",
    );
    match Bod::<PurchaseOrder>::from_str(&bad_qty).unwrap_err() {
        BodError::InvalidValue { path, value, .. } => {
            assert_eq!(
                path,
                "/SyncPurchaseOrder/DataArea/PurchaseOrder[1]/PurchaseOrderLine[2]/Quantity"
            );
            assert_eq!(value, "13,4");
        }
        other => panic!("{other:?}"),
    }

    let bad_code = po.replace("actionCode=\"Replace\"", "actionCode=\"Upsert\"");
    match Bod::<PurchaseOrder>::from_str(&bad_code).unwrap_err() {
        BodError::UnknownActionCode { path, code } => {
            assert_eq!(code, "Upsert");
            assert_eq!(
                path,
                "/SyncPurchaseOrder/DataArea/Sync/ActionCriteria[1]/ActionExpression[1]/@actionCode"
            );
        }
        other => panic!("{other:?}"),
    }

    for (bad, reason) in [
        ("-1", "not a non-negative integer"),
        ("9223372036854775808", "above the maximum"),
        ("12a", "not a non-negative integer"),
    ] {
        let xml = po.replace(
            "variationID=\"1727170389770\"",
            &format!("variationID=\"{bad}\""),
        );
        match Bod::<PurchaseOrder>::from_str(&xml).unwrap_err() {
            BodError::InvalidValue {
                path,
                value,
                reason: r,
            } => {
                assert!(
                    path.ends_with("PurchaseOrderHeader/DocumentID/ID/@variationID"),
                    "{path}"
                );
                assert_eq!(value, bad);
                assert!(r.contains(reason), "{r}");
            }
            other => panic!("{other:?}"),
        }
    }
    // The maximum itself is accepted.
    let max = po.replace(
        "variationID=\"1727170389770\"",
        "variationID=\"9223372036854775807\"",
    );
    let bod = Bod::<PurchaseOrder>::from_str(&max).unwrap();
    assert_eq!(
        bod.nouns[0].header.document_id.id.variation_id,
        Some(i64::MAX as u64)
    );

    let no_doc_id = po
        .replace("<DocumentID>", "<DocumentRef>")
        .replace("</DocumentID>", "</DocumentRef>");
    match Bod::<PurchaseOrder>::from_str(&no_doc_id).unwrap_err() {
        BodError::MissingElement { path } => assert_eq!(
            path,
            "/SyncPurchaseOrder/DataArea/PurchaseOrder[1]/PurchaseOrderHeader/DocumentID"
        ),
        other => panic!("{other:?}"),
    }

    let bad_date = po.replace("2025-09-24T09:33:09.770Z", "yesterday");
    match Bod::<PurchaseOrder>::from_str(&bad_date).unwrap_err() {
        BodError::InvalidValue { path, .. } => {
            assert_eq!(path, "/SyncPurchaseOrder/ApplicationArea/CreationDateTime")
        }
        other => panic!("{other:?}"),
    }

    let no_verb = po
        .replace("<Sync>", "<Other>")
        .replace("</Sync>", "</Other>");
    assert!(matches!(
        Bod::<PurchaseOrder>::from_str(&no_verb),
        Err(BodError::MissingElement { path }) if path == "/SyncPurchaseOrder/DataArea/Sync"
    ));
    // Errors are not retryable: the same bytes fail the same way.
    assert!(
        !Bod::<PurchaseOrder>::from_str(&bad_code)
            .unwrap_err()
            .is_retryable()
    );
}

#[test]
fn two_roots_in_a_single_document_parse_are_refused() {
    let po = fixture("sync_purchase_order_m3.xml");
    let two = format!("{po}\n{po}");
    assert!(matches!(
        Bod::<PurchaseOrder>::from_str(&two),
        Err(BodError::Xml { message, .. }) if message.contains("more than one root")
    ));
}

/// The models are also serde types, so a BOD can be snapshotted as JSON (for an audit store
/// or replay) and restored without loss.
#[test]
fn json_snapshot_round_trips() {
    for file in [
        "sync_purchase_order_m3.xml",
        "sync_supplier_party_master.xml",
        "sync_supplier_invoice.xml",
    ] {
        let bod = AnyBod::from_slice(fixture(file).as_bytes()).unwrap();
        let json = serde_json::to_string(&bod).unwrap();
        let back: AnyBod = serde_json::from_str(&json).unwrap();
        assert_eq!(back, bod, "{file}");
    }
}

#[test]
fn supplier_invoice_lines_read_the_gl_account_in_every_nested_form() {
    let bod =
        Bod::<SupplierInvoice>::from_str(&fixture("sync_supplier_invoice_distribution_forms.xml"))
            .unwrap();
    let accounts: Vec<_> = bod.nouns[0].lines.iter().map(|l| l.gl_account()).collect();
    let read: Vec<_> = accounts
        .iter()
        .map(|a| a.as_ref().map(|a| (a.account.as_str(), a.form)))
        .collect();
    let expected = [
        Some(("61000", GlAccountForm::DistributionNominal)),
        Some(("62000", GlAccountForm::DistributionId)),
        Some(("63000", GlAccountForm::DistributionGlAccount)),
        Some(("64000", GlAccountForm::DistributionText)),
        // Both an ID and a GLNominalAccount: the nominal account is the more specific.
        Some(("65000", GlAccountForm::DistributionNominal)),
        // The line's own GLNominalAccount beats a user-area property.
        Some(("66000", GlAccountForm::LineNominal)),
        // Blank DistributionAccount children are no account; the M3 dimension property is.
        Some(("67000", GlAccountForm::UserArea)),
        // A BOD that carries no account: no account, no panic, nothing guessed.
        None,
    ];
    assert_eq!(read, expected);
    assert_eq!(
        GlAccountForm::DistributionGlAccount.path(),
        "DistributionAccount/GLAccount/GLNominalAccount"
    );
    // The forms are kept verbatim, so the document still round-trips unchanged.
    assert_round_trip(&bod);
}

#[test]
fn the_original_fixtures_invoice_lines_keep_their_accounts() {
    let bod = Bod::<SupplierInvoice>::from_str(&fixture("sync_supplier_invoice.xml")).unwrap();
    let lines = &bod.nouns[0].lines;
    assert_eq!(lines[0].gl_account(), None);
    assert_eq!(
        lines[1].gl_account().map(|a| (a.account, a.form)),
        Some(("606100".to_owned(), GlAccountForm::DistributionId))
    );
}
