#![allow(clippy::unwrap_used)]
//! Chart of accounts, tax rules, payment terms, locations and `me`.

use crate::common;

use cin7_core_client::Error;
use cin7_core_client::account::*;
use common::*;
use mockito::{Matcher, Server};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::time::ManualClock;

#[tokio::test]
async fn accounts_list_with_filters_and_get_by_code() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let list = with_auth(server.mock("GET", "/ref/account"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Name".into(), "Acc".into()),
            Matcher::UrlEncoded("Type".into(), "BANK".into()),
            Matcher::UrlEncoded("Status".into(), "ACTIVE".into()),
            Matcher::UrlEncoded("Limit".into(), "1000".into()),
        ]))
        .with_body(fixture("account_list.json"))
        .expect(1)
        .create();
    let get = server
        .mock("GET", "/ref/account")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Code".into(), "090".into()),
            Matcher::UrlEncoded("Limit".into(), "1".into()),
        ]))
        .with_body(fixture("account_list.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let accounts = client
        .accounts()
        .list()
        .name("Acc")
        .account_type(&AccountType::Bank)
        .status(&AccountStatus::Active)
        .all()
        .await
        .unwrap();
    assert_eq!(accounts.len(), 3);
    assert_eq!(accounts[0].class, Some(AccountClass::Liability));
    assert_eq!(
        accounts[0].system_account_code.as_deref(),
        Some("CREDITORS")
    );
    assert_eq!(accounts[1].for_payments, Some(true), "\"true\" string");
    assert_eq!(
        accounts[2].account_type,
        Some(AccountType::Other("INVENTORY2026".into()))
    );
    let bank = client.accounts().get("090").await.unwrap().unwrap();
    assert_eq!(bank.bank.as_deref(), Some("ANZ"));
    assert!(bank.bank_account_id.is_some());
    list.assert();
    get.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn account_writes_are_explicit_and_surface_the_xero_refusal() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let post = server
        .mock("POST", "/ref/account")
        .match_body(Matcher::Json(json!({
            "Code": "716", "Name": "Inventory in transit", "Type": "CURRENT",
            "Status": "ACTIVE", "Class": "ASSET"
        })))
        .with_body(r#"{"Code":"716","Name":"Inventory in transit","Type":"CURRENT","Status":"ACTIVE","Class":"ASSET","DisplayName":"716: Inventory in transit"}"#)
        .expect(1)
        .create();
    let put = server
        .mock("PUT", "/ref/account")
        .with_status(400)
        .with_body(r#"[{"ErrorCode":400,"Exception":"Chart of accounts cannot be edited while the Xero integration is enabled."}]"#)
        .expect(1)
        .create();
    let delete = server
        .mock("DELETE", "/ref/account")
        .match_query(Matcher::UrlEncoded("Code".into(), "716".into()))
        .with_body(r#"{"Success": true}"#)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let new = Account {
        code: "716".into(),
        name: "Inventory in transit".into(),
        account_type: Some(AccountType::Current),
        status: Some(AccountStatus::Active),
        class: Some(AccountClass::Asset),
        ..Default::default()
    };
    let saved = client
        .accounts()
        .create_account_in_cin7_chart(&new)
        .await
        .unwrap();
    assert_eq!(
        saved.display_name.as_deref(),
        Some("716: Inventory in transit")
    );
    let err = client
        .accounts()
        .update_account_in_cin7_chart(&new)
        .await
        .unwrap_err();
    assert!(err.api().unwrap().message.contains("Xero"), "{err}");
    client
        .accounts()
        .delete_account_from_cin7_chart("716")
        .await
        .unwrap();
    let bank_without_number = Account {
        account_type: Some(AccountType::Bank),
        ..new
    };
    assert!(matches!(
        client
            .accounts()
            .create_account_in_cin7_chart(&bank_without_number)
            .await,
        Err(Error::InvalidInput { .. })
    ));
    post.assert();
    put.assert();
    delete.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn tax_rules_payment_terms_locations_and_me() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let tax = server
        .mock("GET", "/ref/tax")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("IsTaxForPurchase".into(), "true".into()),
            Matcher::UrlEncoded("IsActive".into(), "true".into()),
            Matcher::UrlEncoded("Account".into(), "820".into()),
        ]))
        .with_body(fixture("tax_list.json"))
        .expect(1)
        .create();
    let terms = server
        .mock("GET", "/ref/paymentterm")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Name".into(), "30".into()),
            Matcher::UrlEncoded("Method".into(), "number of days".into()),
        ]))
        .with_body(fixture("paymentterm_list.json"))
        .expect(1)
        .create();
    let locations = server
        .mock("GET", "/ref/location")
        .match_query(Matcher::UrlEncoded("Deprecated".into(), "false".into()))
        .with_body(fixture("location_list.json"))
        .expect(1)
        .create();
    let me = server
        .mock("GET", "/me")
        .with_body(fixture("me.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let rules = client
        .reference()
        .tax_rules()
        .is_tax_for_purchase(true)
        .is_active(true)
        .account("820")
        .all()
        .await
        .unwrap();
    assert_eq!(rules[0].components[0].percent, Some(Decimal::new(15, 0)));
    assert_eq!(rules[0].components[0].compound, Some(false));
    let term = &client
        .reference()
        .payment_terms()
        .name("30")
        .method("number of days")
        .all()
        .await
        .unwrap()[0];
    assert_eq!(
        (term.duration, term.is_default),
        (Some(Decimal::new(30, 0)), Some(true))
    );
    let loc = &client
        .reference()
        .locations()
        .deprecated(false)
        .all()
        .await
        .unwrap()[0];
    assert_eq!(loc.address_city_suburb.as_deref(), Some("Auckland"));
    let settings = client.me().get().await.unwrap();
    assert_eq!(settings.time_zone.as_deref(), Some("Pacific/Auckland"));
    assert_eq!(settings.quantity_decimal_places(), Some(2));
    assert_eq!(
        settings.lock_date,
        chrono::NaiveDate::from_ymd_opt(2026, 6, 30)
    );
    tax.assert();
    terms.assert();
    locations.assert();
    me.assert();
    assert_catch_all(&rest);
}
