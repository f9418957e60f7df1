//! `Cin7Target` as an `AccountTarget`: the whole chart read page by page, and a mirror-mode
//! create.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used)]

use crate::common;

use cin7_core_client::sync::Cin7Target;
use common::{assert_catch_all, catch_all, client, fixture_json, with_auth};
use mockito::{Matcher, Server};
use serde_json::json;
use sync_core::model::AccountClass;
use sync_core::retry::Delivery;
use sync_core::target::{AccountTarget, TargetAccount};
use sync_core::time::ManualClock;

#[tokio::test]
async fn list_reads_every_page_and_maps_class_type_and_status() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let mut first = fixture_json("account_list.json");
    first["Total"] = json!(1001);
    let mut rows = Vec::new();
    for i in 0..1000 {
        let mut row = first["AccountsList"][i % 3].clone();
        row["Code"] = json!(format!("{i:04}"));
        rows.push(row);
    }
    first["AccountsList"] = json!(rows);
    let p1 = with_auth(server.mock("GET", "/ref/account"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Page".into(), "1".into()),
            Matcher::UrlEncoded("Limit".into(), "1000".into()),
        ]))
        .with_body(first.to_string())
        .create();
    let last = json!({"Total": 1001, "Page": 2, "AccountsList": [
        {"Code": "999", "Name": "Old Expenses", "Type": "EXPENSE", "Status": "ARCHIVED", "Class": "EXPENSE"}
    ]});
    let p2 = with_auth(server.mock("GET", "/ref/account"), &account)
        .match_query(Matcher::UrlEncoded("Page".into(), "2".into()))
        .with_body(last.to_string())
        .create();
    let rest = catch_all(&mut server);

    let chart = Cin7Target::new(client).list_accounts().await.unwrap();
    assert_eq!(chart.len(), 1001);
    assert_eq!(
        chart[0],
        TargetAccount {
            code: "0000".into(),
            name: "Accounts Payable".into(),
            class: Some(AccountClass::Liability),
            account_type: Some("CURRLIAB".into()),
            active: true,
        }
    );
    // An unknown type is kept as Cin7 spells it.
    assert_eq!(chart[2].account_type.as_deref(), Some("INVENTORY2026"));
    assert_eq!(chart[2].class, Some(AccountClass::Asset));
    let archived = &chart[1000];
    assert_eq!(archived.code, "999");
    assert!(!archived.active);
    assert_eq!(archived.class, Some(AccountClass::Expense));
    p1.assert();
    p2.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn create_posts_the_account_with_a_type_derived_from_the_class() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let m = with_auth(server.mock("POST", "/ref/account"), &account)
        .match_body(Matcher::Json(json!({
            "Code": "6100",
            "Name": "Freight Inwards",
            "Type": "EXPENSE",
            "Status": "ACTIVE",
            "Class": "EXPENSE"
        })))
        .with_body(
            json!({"Code": "6100", "Name": "Freight Inwards", "Type": "EXPENSE",
                   "Status": "ACTIVE", "Class": "EXPENSE", "DisplayName": "6100: Freight Inwards"})
            .to_string(),
        )
        .create();
    let refused = with_auth(server.mock("POST", "/ref/account"), &account)
        .match_body(Matcher::PartialJson(json!({"Code": "6200"})))
        .with_status(400)
        .with_body(r#"{"ErrorCode":400,"Exception":"Chart of accounts is managed by Xero."}"#)
        .create();
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);
    let wanted = TargetAccount {
        code: "6100".into(),
        name: "Freight Inwards".into(),
        class: Some(AccountClass::Expense),
        account_type: None,
        active: true,
    };
    let saved = target.create_account(&wanted).await.unwrap();
    assert_eq!(
        saved,
        TargetAccount {
            account_type: Some("EXPENSE".into()),
            ..wanted.clone()
        }
    );
    let err = target
        .create_account(&TargetAccount {
            code: "6200".into(),
            ..wanted
        })
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::Processed);
    assert!(err.message.contains("managed by Xero"), "{}", err.message);
    m.assert();
    refused.assert();
    assert_catch_all(&rest);
}
