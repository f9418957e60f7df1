#![allow(clippy::unwrap_used)]
//! Supplier endpoints: request shape and response decoding.

use crate::common;

use chrono::{TimeZone, Utc};
use cin7_core_client::address::{Address, AddressType, Contact};
use cin7_core_client::supplier::{Supplier, SupplierStatus};
use cin7_core_client::{Error, Guid};
use common::*;
use mockito::{Matcher, Server};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::time::ManualClock;

#[tokio::test]
async fn list_sends_every_filter_and_decodes_the_documented_oddities() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let m = with_auth(server.mock("GET", "/supplier"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Name".into(), "Acme & Sons".into()),
            Matcher::UrlEncoded("ModifiedSince".into(), "2026-08-01T00:00:00.000".into()),
            Matcher::UrlEncoded("IncludeDeprecated".into(), "true".into()),
            Matcher::UrlEncoded("ID".into(), "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11".into()),
            Matcher::UrlEncoded("Page".into(), "2".into()),
            Matcher::UrlEncoded("Limit".into(), "50".into()),
        ]))
        .with_body(fixture("supplier_list.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let id: Guid = "807B6BC2-1B1B-4E5D-9A7E-9A2B1C0D4E11".parse().unwrap();
    let page = client
        .suppliers()
        .list()
        .name("Acme & Sons")
        .modified_since(Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).unwrap())
        .include_deprecated(true)
        .id(&id)
        .page(2)
        .limit(50)
        .send()
        .await
        .unwrap();
    m.assert();
    assert_catch_all(&rest);

    let acme = &page.items[0];
    assert_eq!(
        acme.id.as_ref(),
        Some(&id),
        "GUIDs compare case-insensitively"
    );
    assert_eq!(
        acme.discount,
        Some(Decimal::new(2, 0)),
        "\"2.0000\" read as a decimal"
    );
    assert_eq!(acme.tax_number, None, "empty TaxNumber is none");
    assert_eq!(acme.status, Some(SupplierStatus::Active));
    assert_eq!(acme.additional_attribute(1), Some("INFOR-V1001"));
    assert_eq!(acme.additional_attribute(2), None);
    assert_eq!(
        acme.last_modified_on.unwrap().timestamp_subsec_nanos(),
        790_894_900,
        "7 fractional digits with Z"
    );
    assert_eq!(acme.addresses[0].address_type, Some(AddressType::Business));
    assert_eq!(
        acme.contacts[0].default,
        Some(true),
        "\"True\" read as a bool"
    );

    let bolt = &page.items[1];
    assert_eq!(
        bolt.tax_number.as_deref(),
        Some("123456789"),
        "numeric TaxNumber kept as text"
    );
    assert_eq!(bolt.status, Some(SupplierStatus::Deprecated));
    assert_eq!(
        bolt.last_modified_on,
        Some(
            Utc.with_ymd_and_hms(2018, 2, 7, 7, 22, 37).unwrap()
                + chrono::Duration::milliseconds(210)
        ),
        "zone-less timestamp read as UTC"
    );
    assert!(bolt.other_fields.contains_key("SomeFieldAddedIn2026"));
}

#[tokio::test]
async fn get_asks_for_one_supplier_including_deprecated() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ID".into(), "2f6d8e0a-5b4c-4d3e-8f2a-1b0c9d8e7f66".into()),
            Matcher::UrlEncoded("IncludeDeprecated".into(), "true".into()),
            Matcher::UrlEncoded("Limit".into(), "1".into()),
        ]))
        .with_body(r#"{"Total":0,"Page":1,"SupplierList":[]}"#)
        .expect(1)
        .create();
    let id = "2f6d8e0a-5b4c-4d3e-8f2a-1b0c9d8e7f66".parse().unwrap();
    assert!(client.suppliers().get(&id).await.unwrap().is_none());
    m.assert();
}

#[tokio::test]
async fn create_posts_the_documented_body_and_unwraps_the_envelope() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let m = with_auth(server.mock("POST", "/supplier"), &account)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(json!({
            "Name": "New Supplier Pty",
            "Currency": "AUD",
            "PaymentTerm": "30 days",
            "AccountPayable": "800",
            "TaxRule": "GST on Expenses",
            "Status": "Active",
            "Discount": 2.5,
            "AdditionalAttribute1": "INFOR-V2002",
            "Addresses": [{
                "Line1": "5 Dock St", "City": "Sydney", "Postcode": "2000",
                "Country": "Australia", "Type": "Billing", "DefaultForType": false
            }]
        })))
        .with_body(fixture("supplier_saved.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let mut supplier = Supplier {
        name: "New Supplier Pty".into(),
        currency: Some("AUD".into()),
        payment_term: Some("30 days".into()),
        account_payable: Some("800".into()),
        tax_rule: Some("GST on Expenses".into()),
        status: Some(SupplierStatus::Active),
        discount: Some(Decimal::new(2504, 3)),
        addresses: vec![Address {
            line1: "5 Dock St".into(),
            city: Some("Sydney".into()),
            postcode: Some("2000".into()),
            country: "Australia".into(),
            address_type: Some(AddressType::Billing),
            default_for_type: Some(false),
            ..Default::default()
        }],
        ..Default::default()
    };
    supplier.set_additional_attribute(1, "INFOR-V2002").unwrap();
    assert!(supplier.set_additional_attribute(11, "x").is_err());
    let saved = client.suppliers().create(&supplier).await.unwrap();
    assert_eq!(
        saved.id.unwrap().as_str(),
        "9d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09"
    );
    assert!(saved.addresses[0].id.is_some());
    m.assert();
    assert_catch_all(&rest);
}

fn existing() -> Supplier {
    let mut page: serde_json::Value = fixture_json("supplier_list.json");
    serde_json::from_value(page["SupplierList"][0].take()).unwrap()
}

#[tokio::test]
async fn update_with_known_children_is_idempotent_and_retried() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let supplier = existing();
    let expected = serde_json::to_value(&supplier).unwrap();
    // Read-only fields are not sent back; IDs of children are.
    assert!(expected.get("LastModifiedOn").is_none());
    assert!(expected["Addresses"][0].get("SupplierID").is_none());
    assert_eq!(
        expected["Addresses"][0]["ID"],
        "1a5d29a2-0c1b-4bb7-9f51-0a0b8d6c7e01"
    );
    assert_eq!(expected["AdditionalAttribute1"], "INFOR-V1001");
    let fail = server
        .mock("PUT", "/supplier")
        .match_body(Matcher::Json(expected.clone()))
        .with_status(502)
        .expect(1)
        .create();
    let ok = server
        .mock("PUT", "/supplier")
        .match_body(Matcher::Json(expected))
        .with_body(fixture("supplier_saved.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    client.suppliers().update(&supplier).await.unwrap();
    fail.assert();
    ok.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn update_that_adds_a_contact_is_never_resent() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let mut supplier = existing();
    supplier.contacts.push(Contact {
        name: "New Person".into(),
        ..Default::default()
    });
    assert!(supplier.adds_children());
    let m = server
        .mock("PUT", "/supplier")
        .with_status(502)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = client.suppliers().update(&supplier).await.unwrap_err();
    assert!(matches!(err, Error::UncertainWrite { .. }), "{err:?}");
    m.assert();
    assert_catch_all(&rest);
}
