#![allow(clippy::unwrap_used)]
//! Throttling: 429 and 503, with and without `Retry-After`; reads retried; creates handled
//! according to whether they may have been processed.

use crate::common;

use std::time::Duration;

use cin7_core_client::Error;
use cin7_core_client::supplier::Supplier;
use common::*;
use mockito::{Matcher, Server};
use sync_core::retry::RetryPolicy;
use sync_core::time::{Clock, ManualClock};

fn waited(clock: &ManualClock) -> Vec<Duration> {
    clock
        .sleeps()
        .into_iter()
        .filter(|d| !d.is_zero())
        .collect()
}

#[tokio::test]
async fn a_429_with_retry_after_waits_exactly_that_long_then_retries() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let throttled = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(429)
        .with_header("retry-after", "7")
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(fixture("supplier_list.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let start = clock.now();
    let page = client.suppliers().list().send().await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(waited(&clock), vec![Duration::from_secs(7)]);
    assert!(clock.now() - start >= chrono::Duration::seconds(7));
    throttled.assert();
    ok.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_429_without_retry_after_waits_for_the_minute_window_to_clear() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let throttled = server
        .mock("GET", "/ref/tax")
        .match_query(Matcher::Any)
        .with_status(429)
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/ref/tax")
        .match_query(Matcher::Any)
        .with_body(r#"{"Total":0,"Page":1,"TaxRuleList":[]}"#)
        .expect(1)
        .create();
    client.reference().tax_rules().send().await.unwrap();
    assert_eq!(waited(&clock), vec![Duration::from_secs(65)]);
    throttled.assert();
    ok.assert();
}

#[tokio::test]
async fn a_503_with_the_limit_message_is_throttling_even_for_a_create() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let throttled = server
        .mock("POST", "/supplier")
        .with_status(503)
        .with_body(r#"{"ErrorCode":503,"Exception":"You have reached 60 calls per 60 seconds API limit."}"#)
        .expect(1)
        .create();
    let ok = server
        .mock("POST", "/supplier")
        .with_body(fixture("supplier_saved.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let saved = client
        .suppliers()
        .create(&Supplier {
            name: "New Supplier Pty".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(saved.name, "New Supplier Pty");
    // Refused unprocessed: resending the create is safe.
    assert_eq!(waited(&clock), vec![Duration::from_secs(65)]);
    throttled.assert();
    ok.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_created_record_whose_text_reads_like_the_limit_message_is_not_sent_again() {
    // Only an error model's `Exception` (or a non-2xx body) can be the limit message; a 200
    // answer that merely quotes it in a name is the created supplier. Counting it as refused
    // would send the create again: a duplicate.
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let name = "You have reached 60 calls per 60 seconds API limit Ltd";
    let created = server
        .mock("POST", "/supplier")
        .with_body(fixture("supplier_saved.json").replace("New Supplier Pty", name))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let saved = client
        .suppliers()
        .create(&Supplier {
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(saved.name, name);
    assert!(waited(&clock).is_empty(), "{:?}", waited(&clock));
    created.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_503_with_retry_after_date_is_honoured() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let at = clock.now() + chrono::Duration::seconds(30);
    let throttled = server
        .mock("GET", "/me")
        .with_status(503)
        .with_header("retry-after", &at.to_rfc2822().replace("+0000", "GMT"))
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/me")
        .with_body(r#"{"Company":"Demo","Currency":"USD","TimeZone":"Pacific/Auckland"}"#)
        .expect(1)
        .create();
    let me = client.me().get().await.unwrap();
    assert_eq!(me.company.as_deref(), Some("Demo"));
    assert_eq!(waited(&clock), vec![Duration::from_secs(30)]);
    throttled.assert();
    ok.assert();
}

/// An empty 503 says nothing about whether the request was processed (a gateway may answer so
/// after Cin7 did the work): a create is uncertain, never sent twice.
#[tokio::test]
async fn an_empty_503_on_a_create_is_uncertain_not_a_refusal() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let create = server
        .mock("POST", "/advanced-purchase")
        .with_status(503)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let header = cin7_core_client::purchase::PurchaseHeader {
        supplier: Some("Acme".into()),
        approach: Some(cin7_core_client::purchase::Approach::Stock),
        location: Some("Main Warehouse".into()),
        ..Default::default()
    };
    let err = client.purchases().create(&header).await.unwrap_err();
    assert!(matches!(err, Error::UncertainWrite { .. }), "{err:?}");
    assert_eq!(err.delivery(), sync_core::retry::Delivery::Unknown);
    create.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_bare_503_on_a_read_is_retried_but_on_a_create_is_uncertain() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    // A gateway 503 with an unrelated body: maybe processed.
    let create = server
        .mock("POST", "/advanced-purchase")
        .with_status(503)
        .with_body("<html>Service Unavailable</html>")
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let header = cin7_core_client::purchase::PurchaseHeader {
        supplier: Some("Acme".into()),
        approach: Some(cin7_core_client::purchase::Approach::Stock),
        location: Some("Main Warehouse".into()),
        ..Default::default()
    };
    let err = client.purchases().create(&header).await.unwrap_err();
    assert!(matches!(err, Error::UncertainWrite { .. }), "{err:?}");
    assert_eq!(err.status(), Some(503));
    create.assert();
    assert_catch_all(&rest);

    let read_fail = server
        .mock("GET", "/purchase/order")
        .match_query(Matcher::Any)
        .with_status(503)
        .with_body("<html>Service Unavailable</html>")
        .expect(1)
        .create();
    let read_ok = server
        .mock("GET", "/purchase/order")
        .match_query(Matcher::Any)
        .with_body(fixture("purchase_order.json"))
        .expect(1)
        .create();
    let id = "5a7fb526-527a-4229-b331-90b6f5535aab".parse().unwrap();
    client.purchases().order(&id).await.unwrap();
    read_fail.assert();
    read_ok.assert();
}

#[tokio::test]
async fn a_limit_message_inside_http_200_is_throttling() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let throttled = server
        .mock("GET", "/ref/location")
        .match_query(Matcher::Any)
        .with_body(r#"{"ErrorCode":503,"Exception":"You have reached 60 calls per 60 seconds API limit."}"#)
        .expect(1)
        .create();
    let ok = server
        .mock("GET", "/ref/location")
        .match_query(Matcher::Any)
        .with_body(r#"{"Total":1,"Page":1,"LocationList":[{"ID":"e822dd3f-f24d-4724-a938-6adcf126228d","Name":"Main Warehouse"}]}"#)
        .expect(1)
        .create();
    let locations = client.reference().locations().all().await.unwrap();
    assert_eq!(locations[0].name, "Main Warehouse");
    throttled.assert();
    ok.assert();
}

#[tokio::test]
async fn throttling_that_never_ends_gives_rate_limited_after_the_budget() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (builder, _) = builder(&server, &clock);
    let client = builder
        .retry_policy(
            RetryPolicy::default()
                .with_max_retries(2)
                .with_jitter(false),
        )
        .build()
        .unwrap();
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(429)
        .with_header("retry-after", "10")
        .expect(3)
        .create();
    let rest = catch_all(&mut server);
    let err = client.suppliers().list().send().await.unwrap_err();
    match &err {
        Error::RateLimited {
            status,
            retries,
            retry_after,
            ..
        } => {
            assert_eq!(*status, 429);
            assert_eq!(*retries, 2);
            assert_eq!(*retry_after, Some(Duration::from_secs(10)));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(err.is_retryable());
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_throttle_pauses_every_caller_of_the_account() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    server
        .mock("GET", "/me")
        .with_status(429)
        .with_header("retry-after", "20")
        .expect(1)
        .create();
    server
        .mock("GET", "/me")
        .with_body(r#"{"Company":"Demo"}"#)
        .expect(1)
        .create();
    let start = clock.now();
    client.me().get().await.unwrap();
    // A second client of the same limiter starts only after the pause.
    let paused = client.rate_limiter().paused_until().unwrap();
    assert_eq!(paused - start, chrono::Duration::seconds(20));
    let granted = client.clone().rate_limiter().acquire().await;
    assert!(granted >= paused);
}
