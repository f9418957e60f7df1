//! Bounded retry of safe reads answered with something that is not what was asked for: an HTML
//! page with a 200, JSON cut short or not decoding, malformed XML, or a 500. Reads are asked
//! again a few times on the retry policy's schedule (manual clock); writes answered the same
//! way are never resent. Every mock states how often it may be called (`expect`), and a
//! catch-all answers 599 to anything else.
#![allow(clippy::unwrap_used)]

use crate::common;
use sdk_common::retry::Idempotency;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::client::DEFAULT_MAX_BAD_ANSWER_RETRIES;
use infor_ion_client::m3::MiCall;
use infor_ion_client::{Error, IonClient, IonRequest};
use mockito::{Matcher, Mock, Server, ServerGuard};
use sync_core::time::ManualClock;

const TOKEN_PATH: &str = "/ACME_TST/as/token.oauth2";
const VENDORS: &str = "/ACME_TST/CSI/IDORequestService/ido/load/SLVendors";
const UPDATE: &str = "/ACME_TST/CSI/IDORequestService/ido/update/SLVendors";
const HTML: &str = "<html><body><h1>Sign in</h1><p>Your session has expired.</p></body></html>";
const GOOD_PAGE: &str =
    r#"{"Items":[{"VendNum":"V1","Name":"Acme"}],"MoreRowsExist":false,"Success":true}"#;
const CUT_PAGE: &str = r#"{"Items":[{"VendNum":"V1","Na"#;

async fn gateway() -> ServerGuard {
    let mut server = Server::new_async().await;
    for method in ["GET", "POST", "PUT", "DELETE"] {
        server
            .mock(method, Matcher::Any)
            .with_status(599)
            .with_body("unexpected request")
            .expect(0)
            .create_async()
            .await;
    }
    let counter = Arc::new(AtomicUsize::new(0));
    server
        .mock("POST", TOKEN_PATH)
        .with_body_from_request(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            token_body(&format!("{ACCESS_TOKEN}-{n}"), 3600, None).into_bytes()
        })
        .create_async()
        .await;
    server
}

/// A mock of `path` answering `status` with `body` exactly `times` times. mockito takes the
/// first matching mock that still expects hits, so mocks created in order answer in order.
async fn answer(
    server: &mut ServerGuard,
    method: &str,
    path: &str,
    status: usize,
    content_type: &str,
    body: &str,
    times: usize,
) -> Mock {
    server
        .mock(method, path)
        .match_query(Matcher::Any)
        .with_status(status)
        .with_header("content-type", content_type)
        .with_body(body)
        .expect(times)
        .create_async()
        .await
}

fn vendors_request() -> IonRequest {
    IonRequest::get("CSI/IDORequestService/ido/load/SLVendors")
        .header("X-Infor-MongooseConfig", "ACME_TST_DALS")
}

fn update_request() -> IonRequest {
    IonRequest::post("CSI/IDORequestService/ido/update/SLVendors")
        .json(&serde_json::json!({"Changes": []}))
}

/// No secret in an error's text or debug form.
fn assert_no_secret(error: &Error) {
    let text = format!("{error} {error:?}");
    for secret in SECRETS {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn an_html_page_on_a_get_is_asked_for_again() {
    let mut server = gateway().await;
    let html = answer(&mut server, "GET", VENDORS, 200, "text/html", HTML, 1).await;
    let good = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "application/json",
        GOOD_PAGE,
        1,
    )
    .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let body: serde_json::Value = client.send_json(vendors_request()).await.unwrap();
    assert_eq!(body["Items"][0]["VendNum"], "V1");
    html.assert_async().await;
    good.assert_async().await;
    // One backoff step of the policy (100 ms, no jitter), in virtual time.
    assert_eq!(clock.sleeps(), vec![Duration::from_millis(100)]);
}

#[tokio::test]
async fn a_page_cut_short_is_read_again_through_the_ido_loader() {
    let mut server = gateway().await;
    let cut = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "application/json",
        CUT_PAGE,
        1,
    )
    .await;
    let good = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "application/json",
        GOOD_PAGE,
        1,
    )
    .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let page = client
        .csi("ACME_TST_DALS")
        .load("SLVendors")
        .page(None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].record.text("Name"), Some("Acme"));
    cut.assert_async().await;
    good.assert_async().await;
    assert_eq!(clock.sleeps().len(), 1);
}

#[tokio::test]
async fn an_ido_page_of_the_wrong_shape_is_read_again_but_success_false_is_final() {
    let mut server = gateway().await;
    let wrong = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "application/json",
        r#"{"Items":"oops","Success":true}"#,
        1,
    )
    .await;
    let good = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "application/json",
        GOOD_PAGE,
        1,
    )
    .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let csi = client.csi("ACME_TST_DALS");
    assert_eq!(
        csi.load("SLVendors").page(None).await.unwrap().items.len(),
        1
    );
    wrong.assert_async().await;
    good.assert_async().await;

    // The IDO's own refusal is an answer, not a hiccup: asked once.
    let refused = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "application/json",
        r#"{"Success":false,"Message":"Property Foo not found"}"#,
        1,
    )
    .await;
    let err = csi.load("SLVendors").page(None).await.unwrap_err();
    assert!(matches!(err, Error::IdoFailed { .. }), "{err:?}");
    refused.assert_async().await;
}

#[tokio::test]
async fn a_500_on_a_get_is_retried() {
    let mut server = gateway().await;
    let failed = answer(&mut server, "GET", VENDORS, 500, "text/plain", "oops", 1).await;
    let good = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "application/json",
        GOOD_PAGE,
        1,
    )
    .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let response = client.send(vendors_request()).await.unwrap();
    assert_eq!(response.status(), 200);
    failed.assert_async().await;
    good.assert_async().await;
}

#[tokio::test]
async fn html_every_time_ends_in_a_typed_error_after_the_cap() {
    let mut server = gateway().await;
    // The policy allows 3 retries; the bad-answer cap (2) is what stops it: 3 calls in all.
    let html = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "text/html; charset=utf-8",
        HTML,
        1 + DEFAULT_MAX_BAD_ANSWER_RETRIES,
    )
    .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client
        .send_json::<serde_json::Value>(vendors_request())
        .await
        .unwrap_err();
    html.assert_async().await;
    let Error::UnexpectedBody {
        method,
        path,
        status,
        content_type,
        excerpt,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(method, "GET");
    assert_eq!(path, "CSI/IDORequestService/ido/load/SLVendors");
    assert_eq!(*status, 200);
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert!(excerpt.contains("Sign in"), "{excerpt}");
    assert!(
        err.to_string().contains("instead of JSON"),
        "{}",
        err.to_string()
    );
    // Three answers in a row: not a hiccup any more.
    assert!(!err.is_retryable());
    assert_no_secret(&err);
    assert_eq!(clock.sleeps().len(), DEFAULT_MAX_BAD_ANSWER_RETRIES);
}

#[tokio::test]
async fn a_500_every_time_ends_in_the_api_error_after_the_cap() {
    let mut server = gateway().await;
    let failed = answer(
        &mut server,
        "GET",
        VENDORS,
        500,
        "text/plain",
        "backend down",
        1 + DEFAULT_MAX_BAD_ANSWER_RETRIES,
    )
    .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client.send(vendors_request()).await.unwrap_err();
    failed.assert_async().await;
    assert_eq!(err.status(), Some(500));
    // On a read a 500 may pass: a later call may succeed.
    assert!(err.is_retryable());
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_cut_body_every_time_ends_in_a_decode_error_naming_the_path() {
    let mut server = gateway().await;
    let cut = answer(
        &mut server,
        "GET",
        VENDORS,
        200,
        "application/json",
        CUT_PAGE,
        1 + DEFAULT_MAX_BAD_ANSWER_RETRIES,
    )
    .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client
        .csi("ACME_TST_DALS")
        .load("SLVendors")
        .page(None)
        .await
        .unwrap_err();
    cut.assert_async().await;
    let Error::Decode { path, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, "CSI/IDORequestService/ido/load/SLVendors");
    assert!(message.contains("cut short"), "{message}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn the_cap_and_the_policy_budget_both_bound_it() {
    // Cap 0: no retry for a bad answer, while a 503 is still retried.
    let mut server = gateway().await;
    let unavailable = answer(&mut server, "GET", VENDORS, 503, "text/plain", "", 1).await;
    let html = answer(&mut server, "GET", VENDORS, 200, "text/html", HTML, 1).await;
    let clock = ManualClock::default();
    let client = IonClient::builder(ionapi(&server.url()))
        .clock(clock.shared())
        .retry_policy(fast_retries(3))
        .max_bad_answer_retries(0)
        .build()
        .unwrap();
    let err = client
        .send_json::<serde_json::Value>(vendors_request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedBody { .. }), "{err:?}");
    unavailable.assert_async().await;
    html.assert_async().await;

    // A policy with one retry in all: the cap of 2 is never reached, 2 calls.
    let mut server = gateway().await;
    let html = answer(&mut server, "GET", VENDORS, 200, "text/html", HTML, 2).await;
    let client = IonClient::builder(ionapi(&server.url()))
        .clock(clock.shared())
        .retry_policy(fast_retries(1))
        .build()
        .unwrap();
    let err = client
        .send_json::<serde_json::Value>(vendors_request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedBody { .. }), "{err:?}");
    html.assert_async().await;
}

#[tokio::test]
async fn a_post_answered_with_html_or_500_is_not_resent() {
    let mut server = gateway().await;
    let html = answer(&mut server, "POST", UPDATE, 200, "text/html", HTML, 1).await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client
        .send_json::<serde_json::Value>(update_request())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedBody { method, .. } if method == "POST"),
        "{err:?}"
    );
    html.assert_async().await;

    let failed = answer(&mut server, "POST", UPDATE, 500, "text/plain", "oops", 1).await;
    let err = client.send(update_request()).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(
        !err.is_retryable(),
        "a 500 on a write is the product's answer"
    );
    failed.assert_async().await;

    // Even a POST declared idempotent (an IMS send) is a write: a 500 is not resent.
    let failed = answer(&mut server, "POST", UPDATE, 500, "text/plain", "oops", 1).await;
    let err = client
        .send(update_request().idempotent())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    failed.assert_async().await;

    // And a GET the caller marked non-idempotent keeps that promise too.
    let html = answer(&mut server, "GET", VENDORS, 200, "text/html", HTML, 1).await;
    let err = client
        .send_json::<serde_json::Value>(
            vendors_request().with_idempotency(Idempotency::NonIdempotent),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedBody { .. }), "{err:?}");
    html.assert_async().await;
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
}

#[tokio::test]
async fn an_m3_transaction_answered_with_html_is_asked_for_again() {
    let path = "/ACME_TST/M3/m3api-rest/v2/execute/CRS620MI/LstSuppliers";
    let mut server = gateway().await;
    let html = server
        .mock("GET", Matcher::Regex(format!("^{path}")))
        .with_header("content-type", "text/html")
        .with_body(HTML)
        .expect(1)
        .create_async()
        .await;
    let good = server
        .mock("GET", Matcher::Regex(format!("^{path}")))
        .with_header("content-type", "application/json")
        .with_body(
            r#"{"results":[{"transaction":"LstSuppliers","records":[{"SUNO":"S1  ","SUNM":"Acme"}]}],"nrOfSuccessfullTransactions":1,"nrOfFailedTransactions":0}"#,
        )
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let rows = client
        .m3()
        .execute(MiCall::new("CRS620MI", "LstSuppliers"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].text("SUNO"), Some("S1"));
    html.assert_async().await;
    good.assert_async().await;
}

#[tokio::test]
async fn an_ambiguous_m3_answer_is_asked_for_again_then_named() {
    let path = "/ACME_TST/M3/m3api-rest/v2/execute/CRS620MI/LstSuppliers";
    for (body, at, problem) in [
        // Two supplier names in one row: which one is meant is a guess.
        (
            r#"{"results":[{"transaction":"LstSuppliers","records":[{"SUNO":"S1"},{"SUNO":"S2","SUNM":"Acme","SUNM":"Other"}]}]}"#,
            "results[0].records[1]",
            "duplicate key `SUNM`",
        ),
        // A proxy that appended its own page: the document is not the whole body.
        (
            r#"{"results":[{"records":[{"SUNO":"S1"}]}]}<html>cached</html>"#,
            ".",
            "trailing characters",
        ),
    ] {
        let mut server = gateway().await;
        let ambiguous = server
            .mock("GET", Matcher::Regex(format!("^{path}")))
            .with_header("content-type", "application/json")
            .with_body(body)
            .expect(1 + DEFAULT_MAX_BAD_ANSWER_RETRIES)
            .create_async()
            .await;
        let clock = ManualClock::default();
        let client = client(&server.url(), &clock, AuthConfig::default());
        let err = client
            .m3()
            .execute(MiCall::new("CRS620MI", "LstSuppliers"))
            .await
            .unwrap_err();
        let Error::Decode {
            at: found, message, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(found, at);
        assert!(message.starts_with(problem), "{message}");
        assert_no_secret(&err);
        ambiguous.assert_async().await;
    }
}

#[tokio::test]
async fn a_data_lake_payload_cut_short_is_fetched_again() {
    let bod = std::fs::read_to_string(format!(
        "{}/tests/fixtures/bod/sync_supplier_party_master.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let path = "/ACME_TST/IONSERVICES/datalakeapi/v1/payloads/streambyid";
    let mut server = gateway().await;
    let cut = answer(
        &mut server,
        "GET",
        path,
        200,
        "application/xml",
        &bod[..bod.len() / 2],
        1,
    )
    .await;
    let good = answer(&mut server, "GET", path, 200, "application/xml", &bod, 1).await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let fetched = client
        .data_lake()
        .fetch_bod::<infor_ion_client::bod::SupplierPartyMaster>("dl-1")
        .await
        .unwrap();
    assert!(!fetched.nouns.is_empty());
    cut.assert_async().await;
    good.assert_async().await;
}
