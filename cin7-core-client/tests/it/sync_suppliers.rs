//! `Cin7Target` as a `SupplierTarget`: request shapes, mapping both ways, paging.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;

use cin7_core_client::sync::Cin7Target;
use common::{assert_catch_all, catch_all, client, fixture, fixture_json, with_auth};
use mockito::{Matcher, Server};
use serde_json::json;
use sync_core::model::{Address, AddressKind, Contact, PartyStatus};
use sync_core::retry::Delivery;
use sync_core::target::{SupplierDraft, SupplierTarget};
use sync_core::time::ManualClock;

const ACME: &str = "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11";

fn draft() -> SupplierDraft {
    SupplierDraft {
        name: "Acme Fasteners Ltd".into(),
        currency: "NZD".into(),
        payment_term: "20th of next month".into(),
        tax_rule: "GST on Expenses".into(),
        account_payable: "801".into(),
        tax_number: Some("123-456-789".into()),
        status: PartyStatus::Active,
        addresses: vec![
            Address {
                kind: AddressKind::Business,
                line1: "1 Harbour Rd".into(),
                line2: None,
                city: Some("Auckland".into()),
                state: None,
                postcode: Some("1010".into()),
                country: "New Zealand".into(),
            },
            Address {
                kind: AddressKind::Shipping,
                line1: "9 Wharf St".into(),
                line2: None,
                city: Some("Auckland".into()),
                state: None,
                postcode: None,
                country: "New Zealand".into(),
            },
        ],
        contacts: vec![Contact {
            name: "Jo Buyer".into(),
            phone: Some("+64 9 111 1111".into()),
            email: Some("jo@example.invalid".into()),
            default: true,
        }],
        extra_fields: BTreeMap::from([("AdditionalAttribute1".into(), "V1001".into())]),
    }
}

#[tokio::test]
async fn list_maps_page_and_limit_includes_deprecated_and_reads_the_vendor_field() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let m = with_auth(server.mock("GET", "/supplier"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("IncludeDeprecated".into(), "true".into()),
            Matcher::UrlEncoded("Page".into(), "3".into()),
            Matcher::UrlEncoded("Limit".into(), "2".into()),
        ]))
        .with_body(fixture("supplier_list.json").replace("\"Total\": 2", "\"Total\": 6"))
        .create();
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);

    let page = target.list_suppliers(3, 2).await.unwrap();
    assert_eq!(page.total, 6);
    assert_eq!(page.items.len(), 2);
    let acme = &page.items[0];
    assert_eq!(acme.id, ACME, "ids are lower case");
    assert_eq!(acme.name, "Acme Fasteners Ltd");
    // Non-empty text fields a draft can write are read back (empty AdditionalAttribute2,
    // null Comments and the nested unknown field are not).
    assert_eq!(
        acme.extra_fields,
        BTreeMap::from([
            ("AdditionalAttribute1".into(), "INFOR-V1001".into()),
            ("AttributeSet".into(), "Supplier attributes".into()),
        ])
    );
    assert!(page.items[1].extra_fields.is_empty());
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn list_without_total_keeps_the_caller_paging_until_a_short_page() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let mut body = fixture_json("supplier_list.json");
    body.as_object_mut().unwrap().remove("Total");
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::UrlEncoded("Page".into(), "1".into()))
        .with_body(body.to_string())
        .create();
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);
    // A full page of 2 with no Total: report more than seen so the engine asks for page 2.
    assert_eq!(target.list_suppliers(1, 2).await.unwrap().total, 3);
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn list_refuses_a_limit_cin7_cannot_serve_without_calling() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);
    for limit in [0, 1001] {
        let err = target.list_suppliers(1, limit).await.unwrap_err();
        assert_eq!(err.delivery, Delivery::NotProcessed);
        assert!(!err.transient);
        assert!(err.message.contains("1..=1000"), "{}", err.message);
    }
    assert_catch_all(&rest);
}

#[tokio::test]
async fn create_sends_every_draft_field_and_stamps_the_vendor_id() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let saved = fixture("supplier_saved.json").replace(
        "\"Status\": \"Active\",",
        "\"Status\": \"Active\", \"AdditionalAttribute1\": \"V1001\",",
    );
    let m = with_auth(server.mock("POST", "/supplier"), &account)
        .match_body(Matcher::Json(json!({
            "Name": "Acme Fasteners Ltd",
            "Currency": "NZD",
            "PaymentTerm": "20th of next month",
            "AccountPayable": "801",
            "TaxRule": "GST on Expenses",
            "Status": "Active",
            "TaxNumber": "123-456-789",
            "AdditionalAttribute1": "V1001",
            "Addresses": [
                {"Line1": "1 Harbour Rd", "City": "Auckland", "Postcode": "1010",
                 "Country": "New Zealand", "Type": "Business"},
                {"Line1": "9 Wharf St", "City": "Auckland", "Country": "New Zealand",
                 "Type": "Shipping"}
            ],
            "Contacts": [
                {"Name": "Jo Buyer", "Phone": "+64 9 111 1111", "Email": "jo@example.invalid",
                 "Default": true}
            ]
        })))
        .with_body(saved)
        .create();
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);

    let created = target.create_supplier(&draft()).await.unwrap();
    assert_eq!(created.id, "9d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09");
    assert_eq!(created.name, "New Supplier Pty");
    assert_eq!(created.extra_fields["AdditionalAttribute1"], "V1001");
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn inactive_draft_is_written_as_deprecated() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/supplier")
        .match_body(Matcher::PartialJson(json!({"Status": "Deprecated"})))
        .with_body(fixture("supplier_saved.json"))
        .create();
    let rest = catch_all(&mut server);
    let mut inactive = draft();
    inactive.status = PartyStatus::Inactive;
    Cin7Target::new(client)
        .create_supplier(&inactive)
        .await
        .unwrap();
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn update_reads_first_and_keeps_ids_and_fields_it_does_not_own() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    // The current supplier (first row of the list fixture), fetched by ID.
    let mut current = fixture_json("supplier_list.json");
    current["SupplierList"].as_array_mut().unwrap().truncate(1);
    current["Total"] = json!(1);
    let get = with_auth(server.mock("GET", "/supplier"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ID".into(), ACME.into()),
            Matcher::UrlEncoded("IncludeDeprecated".into(), "true".into()),
        ]))
        .with_body(current.to_string())
        .create();
    let mut answer = current.clone();
    answer["SupplierList"][0]["AdditionalAttribute1"] = json!("V1001");
    let put = with_auth(server.mock("PUT", "/supplier"), &account)
        .match_body(Matcher::PartialJson(json!({
            "ID": ACME,
            "Name": "Acme Fasteners Ltd",
            "Currency": "NZD",
            "PaymentTerm": "20th of next month",
            "AccountPayable": "801",
            "TaxNumber": "123-456-789",
            // kept from Cin7: not owned by the draft
            "Discount": 2.0,
            "AttributeSet": "Supplier attributes",
            "AdditionalAttribute2": "",
            // stamped
            "AdditionalAttribute1": "V1001",
            "Addresses": [
                // same content: keeps its ID
                {"ID": "1a5d29a2-0c1b-4bb7-9f51-0a0b8d6c7e01", "Line1": "1 Harbour Rd",
                 "Type": "Business"},
                // new: no ID, Cin7 creates it
                {"Line1": "9 Wharf St", "Type": "Shipping"}
            ],
            "Contacts": [
                {"ID": "6c1e8a54-2f0d-4a0e-8b2b-7d9e5f4a3b02", "Name": "Jo Buyer",
                 "Phone": "+64 9 111 1111"}
            ]
        })))
        .with_body(answer.to_string())
        .create();
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);

    let saved = target.update_supplier(ACME, &draft()).await.unwrap();
    assert_eq!(saved.id, ACME);
    assert_eq!(saved.extra_fields["AdditionalAttribute1"], "V1001");
    get.assert();
    put.assert();
    assert_catch_all(&rest);
}

#[test]
fn update_reuses_ids_by_type_when_content_changed_and_keeps_unreused_entries() {
    use cin7_core_client::sync::supplier::updated_supplier;
    let current: cin7_core_client::supplier::Supplier =
        serde_json::from_value(fixture_json("supplier_list.json")["SupplierList"][0].clone())
            .unwrap();
    let mut moved = draft();
    moved.addresses = vec![Address {
        kind: AddressKind::Business,
        line1: "77 New Rd".into(),
        line2: None,
        city: None,
        state: None,
        postcode: None,
        country: "New Zealand".into(),
    }];
    moved.contacts = vec![Contact {
        name: "Sam Other".into(),
        phone: None,
        email: None,
        default: false,
    }];
    let out = updated_supplier(&current, &moved);
    // The moved business address takes over the old business address's ID.
    assert_eq!(out.addresses.len(), 1);
    assert_eq!(out.addresses[0].line1, "77 New Rd");
    assert_eq!(out.addresses[0].id, current.addresses[0].id);
    // A renamed contact reuses the only existing contact's ID (no duplicate is created).
    assert_eq!(out.contacts.len(), 1);
    assert_eq!(out.contacts[0].name, "Sam Other");
    assert_eq!(out.contacts[0].id, current.contacts[0].id);
    assert!(!out.adds_children());

    // A draft with fewer entries leaves the unreused Cin7 entries as they are.
    let mut fewer = draft();
    fewer.contacts.clear();
    let out = updated_supplier(&current, &fewer);
    assert_eq!(out.contacts, current.contacts);
}

#[tokio::test]
async fn update_of_a_supplier_cin7_does_not_have_is_rejected_404_without_a_put() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let get = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(r#"{"Total":0,"Page":1,"SupplierList":[]}"#)
        .create();
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .update_supplier(ACME, &draft())
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(404));
    assert_eq!(err.delivery, Delivery::Processed);
    assert!(!err.transient);
    get.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn update_with_a_malformed_id_sends_nothing() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .update_supplier("sup-0001", &draft())
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::NotProcessed);
    assert!(!err.transient);
    assert!(err.message.contains("sup-0001"), "{}", err.message);
    assert_catch_all(&rest);
}
