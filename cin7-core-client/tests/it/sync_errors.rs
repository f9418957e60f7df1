//! Client errors → `TargetError`, per kind. `delivery` decides whether the engine must look a
//! record up before creating it again, so each mapping is exercised through a real failure.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::NaiveDate;
use cin7_core_client::Error;
use cin7_core_client::sync::{CallKind, Cin7Target, target_error};
use common::{APP_KEY, assert_catch_all, builder, catch_all, client, fixture, unique_account};
use mockito::{Matcher, Server};
use sync_core::error::TargetError;
use sync_core::model::PartyStatus;
use sync_core::retry::Delivery;
use sync_core::target::{
    Approach, DocStatus, OrderDraft, PurchaseDraft, PurchaseTarget, SupplierDraft, SupplierTarget,
    TargetPurchase, TaskStatus,
};
use sync_core::time::ManualClock;

fn supplier_draft() -> SupplierDraft {
    SupplierDraft {
        name: "Acme".into(),
        currency: "NZD".into(),
        payment_term: "30 days".into(),
        tax_rule: "GST on Expenses".into(),
        account_payable: "800".into(),
        tax_number: None,
        status: PartyStatus::Active,
        addresses: vec![],
        contacts: vec![],
        extra_fields: BTreeMap::from([("AdditionalAttribute1".into(), "V1".into())]),
    }
}

fn purchase_draft() -> PurchaseDraft {
    PurchaseDraft {
        supplier_id: "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11".into(),
        approach: Approach::Invoice,
        location: Some("Main Warehouse".into()),
        reference: "4500012".into(),
        currency: "NZD".into(),
        order_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        required_by: None,
        memo: None,
    }
}

fn assert_no_secret(err: &TargetError) {
    assert!(!err.message.contains(APP_KEY), "{}", err.message);
    assert!(!format!("{err:?}").contains(APP_KEY));
}

#[tokio::test]
async fn a_create_answered_500_is_an_unknown_outcome_and_not_resent() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/supplier")
        .with_status(500)
        .with_body(r#"{"ErrorCode":500,"Exception":"Object reference not set"}"#)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .create_supplier(&supplier_draft())
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::Unknown);
    assert!(err.outcome_unknown());
    assert!(err.transient);
    assert_eq!(err.status, Some(500));
    assert!(err.message.contains("look it up"), "{}", err.message);
    assert_no_secret(&err);
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_create_answered_by_a_bare_503_is_an_unknown_outcome() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/advanced-purchase")
        .with_status(503)
        .with_body("<html>Service Unavailable</html>")
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .create_purchase(&purchase_draft())
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::Unknown);
    assert_eq!(err.status, Some(503));
    m.assert();
    assert_catch_all(&rest);
}

/// A local server that reads each request and then either hangs up (`hold: false`) or keeps
/// the connection open without answering (`hold: true`).
async fn silent_server(hold: bool) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 16 * 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
            if hold {
                held.push(socket);
            }
        }
    });
    (format!("http://{addr}/"), accepted)
}

fn client_at(url: &str, clock: &ManualClock, timeout: Duration) -> cin7_core_client::Cin7Client {
    cin7_core_client::Cin7Client::builder()
        .account_id(secrecy::SecretString::from(unique_account()))
        .application_key(secrecy::SecretString::from(APP_KEY))
        .base_url(url)
        .clock(clock.shared())
        .timeout(timeout)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_create_whose_connection_is_reset_after_sending_is_an_unknown_outcome() {
    let (url, accepted) = silent_server(false).await;
    let clock = ManualClock::default();
    let target = Cin7Target::new(client_at(&url, &clock, Duration::from_secs(5)));
    let err = target.create_purchase(&purchase_draft()).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::Unknown);
    assert!(err.transient);
    assert_eq!(err.status, None);
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "not resent");
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_create_that_times_out_is_an_unknown_outcome() {
    let (url, accepted) = silent_server(true).await;
    let clock = ManualClock::default();
    // A real-time HTTP timeout; kept tiny so the test stays fast.
    let target = Cin7Target::new(client_at(&url, &clock, Duration::from_millis(20)));
    let err = target.create_supplier(&supplier_draft()).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::Unknown, "{err:?}");
    assert!(err.transient);
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "not resent");
}

#[tokio::test]
async fn a_connect_failure_was_not_sent_and_is_transient() {
    // A port that was just released: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let clock = ManualClock::default();
    let target = Cin7Target::new(client_at(
        &format!("http://{addr}/"),
        &clock,
        Duration::from_secs(5),
    ));
    let err = target.create_supplier(&supplier_draft()).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::NotProcessed, "{err:?}");
    assert!(err.transient);
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_was_not_processed() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/supplier")
        .with_status(429)
        .with_body(r#"{"ErrorCode":429,"Exception":"You have reached 60 calls per 60 seconds API limit."}"#)
        .expect(4)
        .create();
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .create_supplier(&supplier_draft())
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::NotProcessed);
    assert!(err.transient);
    assert_eq!(err.status, Some(429));
    // Not a refused credential: the typed source says so without reading the text.
    assert!(
        matches!(
            err.source_as::<Error>(),
            Some(Error::RateLimited {
                status: 429,
                retries: 3,
                ..
            })
        ),
        "{err:?}"
    );
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn validation_errors_were_processed_and_are_final() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let bad = server
        .mock("POST", "/supplier")
        .with_status(400)
        .with_body(fixture("error_object.json"))
        .expect(1)
        .create();
    let in_200 = server
        .mock("POST", "/advanced-purchase")
        .with_status(200)
        .with_body(r#"[{"ErrorCode":400,"Exception":"Location 'Nowhere' not found."}]"#)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);

    let err = target.create_supplier(&supplier_draft()).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::Processed);
    assert!(!err.transient);
    assert_eq!(err.status, Some(400));

    let err = target.create_purchase(&purchase_draft()).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::Processed);
    assert!(!err.transient);
    assert_eq!(err.status, Some(200), "Cin7's error model inside HTTP 200");
    assert!(
        err.message.contains("Location 'Nowhere' not found."),
        "{}",
        err.message
    );
    bad.assert();
    in_200.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn refused_credentials_are_final() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(403)
        .with_body("Incorrect credentials!")
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .list_suppliers(1, 1000)
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::Processed);
    assert!(!err.transient);
    assert_eq!(err.status, Some(403));
    assert_no_secret(&err);
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn an_unreadable_answer_is_unknown_for_a_create_and_final_for_a_read() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let html = server
        .mock("POST", "/supplier")
        .with_status(200)
        .with_header("content-type", "text/html")
        .with_body(fixture("html_200.html"))
        .expect(1)
        .create();
    let bad_field = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(r#"{"Total":1,"Page":1,"SupplierList":[{"ID":"not-a-guid","Name":"X"}]}"#)
        .expect(1)
        .create();
    let bad_purchase = server
        .mock("POST", "/advanced-purchase")
        .with_body(r#"{"ID":"5a7fb526-527a-4229-b331-90b6f5535aab","OrderDate":"yesterday-ish"}"#)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);

    // The supplier may have been created: look it up before creating again.
    let err = target.create_supplier(&supplier_draft()).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::Unknown);
    assert!(err.transient);
    let err = target.create_purchase(&purchase_draft()).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::Unknown, "{err:?}");
    assert!(
        err.message.contains("OrderDate"),
        "a decode error: {}",
        err.message
    );

    // A read that cannot be decoded changed nothing and will not decode better next time.
    let err = target.list_suppliers(1, 1000).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::Processed);
    assert!(!err.transient);
    assert!(err.message.contains("SupplierList[0]"), "{}", err.message);
    html.assert();
    bad_field.assert();
    bad_purchase.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_server_error_on_a_repeatable_write_is_retried_then_unknown() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let purchase = "5a7fb526-527a-4229-b331-90b6f5535aab";
    let mut fresh = common::fixture_json("advanced_purchase.json");
    fresh["Order"]["Status"] = serde_json::json!("DRAFT");
    // No read before the write (the caller's view says the order is DRAFT); one after it
    // failed, to see whether the write landed anyway (it did not: the lines in Cin7 differ
    // from the draft).
    let get = server
        .mock("GET", "/advanced-purchase")
        .match_query(Matcher::Any)
        .with_body(fresh.to_string())
        .expect(1)
        .create();
    // POST /purchase/order replaces the lines, so the client resends it (1 + 3 retries).
    let post = server
        .mock("POST", "/purchase/order")
        .with_status(502)
        .with_body("bad gateway")
        .expect(4)
        .create();
    let rest = catch_all(&mut server);
    let order = OrderDraft {
        lines: vec![],
        status: DocStatus::Draft,
    };
    let view = TargetPurchase {
        id: purchase.into(),
        reference: "4500012".into(),
        supplier_id: String::new(),
        approach: Approach::Stock,
        order_status: TaskStatus::Draft,
        invoices: vec![],
    };
    let err = Cin7Target::new(client)
        .set_order(&view, &order)
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::Unknown);
    assert!(err.transient);
    assert_eq!(err.status, Some(502));
    get.assert();
    post.assert();
    assert_catch_all(&rest);
    assert!(
        !clock.sleeps().is_empty(),
        "backoff waited on the virtual clock"
    );
}

#[tokio::test]
async fn an_update_that_adds_a_contact_is_not_resent_after_an_unknown_outcome() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (builder, _) = builder(&server, &clock);
    let client = builder.build().unwrap();
    let mut current = common::fixture_json("supplier_list.json");
    current["SupplierList"].as_array_mut().unwrap().truncate(1);
    let get = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(current.to_string())
        .create();
    let put = server
        .mock("PUT", "/supplier")
        .with_status(500)
        .with_body("{}")
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let mut draft = supplier_draft();
    draft.contacts = vec![
        sync_core::model::Contact {
            name: "Jo Buyer".into(),
            phone: None,
            email: None,
            default: true,
        },
        sync_core::model::Contact {
            name: "New Person".into(),
            phone: None,
            email: None,
            default: false,
        },
    ];
    let err = Cin7Target::new(client)
        .update_supplier("807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11", &draft)
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::Unknown);
    get.assert();
    put.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_read_that_fails_after_sending_leaves_nothing_uncertain() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    // Reads are retried by the client (1 + 3), then reported as safe to send again.
    let m = server
        .mock("GET", "/advanced-purchase")
        .match_query(Matcher::Any)
        .with_status(500)
        .with_body(r#"{"ErrorCode":500,"Exception":"Timeout expired"}"#)
        .expect(4)
        .create();
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .get_purchase("5a7fb526-527a-4229-b331-90b6f5535aab")
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::NotProcessed);
    assert!(err.transient);
    assert_eq!(err.status, Some(500));
    m.assert();
    assert_catch_all(&rest);

    // The same client error on a write keeps its unknown outcome.
    let api = || {
        Error::Api(Box::new(cin7_core_client::ApiError::new(
            "POST",
            "purchase/order",
            500,
            "Timeout expired",
        )))
    };
    assert_eq!(
        target_error(api(), CallKind::Read).delivery,
        Delivery::NotProcessed
    );
    assert_eq!(
        target_error(api(), CallKind::Repeatable).delivery,
        Delivery::Unknown
    );
    assert_eq!(TargetError::from(api()).delivery, Delivery::Unknown);
}

#[test]
fn errors_raised_before_sending_are_not_sent_and_final() {
    let invalid = || Error::InvalidInput {
        field: "PurchaseHeader.Location",
        reason: "is required".into(),
    };
    for kind in [CallKind::Create, CallKind::Repeatable] {
        let err = target_error(invalid(), kind);
        assert_eq!(err.delivery, Delivery::NotProcessed);
        assert!(!err.transient);
        assert_eq!(err.status, None);
        assert!(err.message.contains("PurchaseHeader.Location"));
    }
    let config = TargetError::from(Error::Config("no account id".into()));
    assert_eq!(config.delivery, Delivery::NotProcessed);
    assert!(!config.transient);
}
