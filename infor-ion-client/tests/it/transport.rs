//! The gateway request path: the 401 rule, retries with backoff and `Retry-After` on the
//! manual clock, the POST rule, size caps, JSON decode errors with paths. A catch-all mock
//! answers 599 to anything unexpected, so a stray request fails the test.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::{Error, IonClient, IonRequest};
use mockito::{Matcher, Server, ServerGuard};
use sync_core::retry::Delivery;
use sync_core::time::ManualClock;

const TOKEN_PATH: &str = "/ACME_TST/as/token.oauth2";
const VENDORS: &str = "/ACME_TST/CSI/IDORequestService/ido/load/SLVendors";

/// A server with a token endpoint issuing `first-token` then `second-token`, and a catch-all.
async fn gateway() -> ServerGuard {
    let mut server = Server::new_async().await;
    catch_all(&mut server).await;
    let counter = Arc::new(AtomicUsize::new(0));
    server
        .mock("POST", TOKEN_PATH)
        .with_body_from_request(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let name = ["first-token", "second-token", "third-token"][n.min(2)];
            token_body(name, 3600, None).into_bytes()
        })
        .create_async()
        .await;
    server
}

/// Answer 599 to any request no other mock takes. mockito answers with the first matching mock
/// that still expects hits, else the *last* matching one; so this is created first and expects
/// none, and any mock created after it wins.
async fn catch_all(server: &mut ServerGuard) {
    for method in ["GET", "POST", "PUT", "DELETE"] {
        server
            .mock(method, Matcher::Any)
            .with_status(599)
            .with_body("unexpected request")
            .expect(0)
            .create_async()
            .await;
    }
}

fn vendors_request() -> IonRequest {
    IonRequest::get("CSI/IDORequestService/ido/load/SLVendors")
        .query("properties", "VendNum,Name")
        .header("X-Infor-MongooseConfig", "ACME_TST_DALS")
}

#[tokio::test]
async fn sends_bearer_and_headers_and_decodes_json() {
    let mut server = gateway().await;
    let api = server
        .mock("GET", VENDORS)
        .match_query(Matcher::Any)
        .match_header("authorization", "Bearer first-token")
        .match_header("accept", "application/json")
        .match_header("x-infor-mongooseconfig", "ACME_TST_DALS")
        .match_query(Matcher::UrlEncoded(
            "properties".into(),
            "VendNum,Name".into(),
        ))
        .with_body(r#"{"Items":[{"VendNum":"V1"}],"MoreRowsExist":false,"Success":true}"#)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let body: serde_json::Value = client.send_json(vendors_request()).await.unwrap();
    assert_eq!(body["Items"][0]["VendNum"], "V1");
    api.assert_async().await;
}

/// A header that is not valid HTTP does not break the request chain: `send` refuses the request
/// with a message naming the header, before asking for a token or sending anything.
#[tokio::test]
async fn a_bad_header_is_refused_by_send_and_nothing_is_sent() {
    let mut server = Server::new_async().await;
    catch_all(&mut server).await;
    let token = server
        .mock("POST", TOKEN_PATH)
        .with_body(token_body("never", 3600, None))
        .expect(0)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let request = vendors_request().header("X-Note", "two\nlines");
    assert!(request.problem().is_some());
    let error = client.send(request).await.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidRequest(message) if message.contains("X-Note")),
        "{error:?}"
    );
    // Not even a token was asked for (the catch-all would answer anything else with 599).
    token.assert_async().await;
}

/// Nothing listens on the gateway's port: the first requests fail with the cause in words
/// (after the token provider's own retries), and once connect failures have come three times
/// in a row the client's breaker fails the next request at once, without connecting.
#[tokio::test]
async fn a_dead_gateway_opens_the_breaker_and_later_requests_are_not_sent() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = ManualClock::default();
    let client = client(
        &format!("http://127.0.0.1:{port}"),
        &clock,
        AuthConfig::default(),
    );
    for _ in 0..sdk_common::breaker::THRESHOLD {
        let error = client.send(vendors_request()).await.unwrap_err();
        assert!(
            sdk_common::report::chain(&error).contains("connection refused"),
            "{error:?}"
        );
        assert!(!matches!(error, Error::Unreachable { .. }), "{error:?}");
    }
    let slept = clock.total_slept();
    let error = client.send(vendors_request()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Unreachable { cause, .. } if cause.contains("connection refused")),
        "{error:?}"
    );
    assert_eq!(error.delivery(), Delivery::NotProcessed);
    assert_eq!(clock.total_slept(), slept, "failed at once, no backoff");
    // After the cooldown one request is tried again (and fails the same way, connecting).
    clock.advance(sdk_common::breaker::COOLDOWN + Duration::from_secs(1));
    let again = client.send(vendors_request()).await.unwrap_err();
    assert!(
        sdk_common::report::chain(&again).contains("connection refused"),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_401_renews_the_token_and_retries_once() {
    let mut server = gateway().await;
    let rejected = server
        .mock("GET", VENDORS)
        .match_query(Matcher::Any)
        .match_header("authorization", "Bearer first-token")
        .with_status(401)
        .expect(1)
        .create_async()
        .await;
    let accepted = server
        .mock("GET", VENDORS)
        .match_query(Matcher::Any)
        .match_header("authorization", "Bearer second-token")
        .with_body("{}")
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    client.send(vendors_request()).await.unwrap();
    rejected.assert_async().await;
    accepted.assert_async().await;
    assert_eq!(client.tokens().token_requests(), 2);
    // The renewal is not a backoff: no time passed.
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_second_401_is_an_auth_error() {
    let mut server = gateway().await;
    let api = server
        .mock(
            "POST",
            "/ACME_TST/CSI/IDORequestService/ido/update/SLVendors",
        )
        .with_status(401)
        .expect(2)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client
        .send(
            IonRequest::post("CSI/IDORequestService/ido/update/SLVendors")
                .json(&serde_json::json!({})),
        )
        .await
        .unwrap_err();
    api.assert_async().await;
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(err.is_auth());
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn throttling_with_retry_after_waits_as_told() {
    let (server, hits) = scripted_server(vec![
        (429, Some("7"), ""),
        (503, Some("Thu, 01 Jan 2026 00:00:30 GMT"), ""),
        (200, None, "{}"),
    ])
    .await;
    let clock = ManualClock::default(); // 2026-01-01T00:00:00Z
    let client = client(&server.url(), &clock, AuthConfig::default());
    client.send(vendors_request()).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    // Delta-seconds, then an HTTP date 30 s after the (virtual) 7 s already waited.
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_secs(7), Duration::from_secs(23)]
    );
}

#[tokio::test]
async fn throttling_without_retry_after_backs_off_then_succeeds() {
    let (server, hits) =
        scripted_server(vec![(503, None, ""), (429, None, ""), (200, None, "{}")]).await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    client.send(vendors_request()).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    // Computed backoff without jitter: 100 ms then 200 ms.
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_millis(100), Duration::from_millis(200)]
    );
}

#[tokio::test]
async fn retries_stop_when_the_budget_is_spent() {
    let (server, hits) = scripted_server(vec![(502, None, ""); 10]).await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client.send(vendors_request()).await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(hits.load(Ordering::SeqCst), 4, "first attempt + 3 retries");
}

#[tokio::test]
async fn a_post_answered_503_is_not_resent_but_one_answered_429_is() {
    let (server, hits) = scripted_server(vec![(503, None, ""), (200, None, "{}")]).await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client
        .send(
            IonRequest::post("CSI/IDORequestService/ido/update/SLVendors")
                .json(&serde_json::json!({"Changes":[]})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.delivery(), Delivery::Unknown);
    assert!(err.is_retryable(), "transient, but not safe for a POST");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // A POST refused with 429 was not processed: resending it is safe.
    let (server, hits) = scripted_server(vec![(429, Some("1"), ""), (200, None, "{}")]).await;
    let client = common::client(&server.url(), &clock, AuthConfig::default());
    client
        .send(IonRequest::post(
            "CSI/IDORequestService/ido/update/SLVendors",
        ))
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_post_that_timed_out_after_sending_is_not_retried() {
    // The server reads the request and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    let tokens = gateway().await;
    let clock = ManualClock::default();
    let client = IonClient::builder(ionapi(&tokens.url()))
        .base_url(format!("http://{addr}/ACME_TST/"))
        .clock(clock.shared())
        .retry_policy(fast_retries(3))
        .timeout(Duration::from_millis(60))
        .build()
        .unwrap();
    let err = client
        .send(IonRequest::post(
            "CSI/IDORequestService/ido/update/SLVendors",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: infor_ion_client::TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.delivery(), Delivery::Unknown);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert!(clock.sleeps().is_empty());

    // The same timeout on a GET is retried (3 retries → 4 connections).
    let err = client.send(vendors_request()).await.unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_connect_failure_is_retried_even_for_a_post_until_the_breaker_opens() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let tokens = gateway().await;
    let clock = ManualClock::default();
    let client = IonClient::builder(ionapi(&tokens.url()))
        .base_url(format!("http://127.0.0.1:{port}/ACME_TST/"))
        .clock(clock.shared())
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    let err = client
        .send(IonRequest::post(
            "CSI/IDORequestService/ido/update/SLVendors",
        ))
        .await
        .unwrap_err();
    // Three connect failures in a row (the first try and two retries) also open the client's
    // breaker, so the last one is reported as ION being unreachable, with the same cause.
    assert!(
        matches!(&err, Error::Unreachable { cause, .. } if cause.contains("connection refused")),
        "{err:?}"
    );
    assert_eq!(err.delivery(), Delivery::NotProcessed);
    assert_eq!(clock.sleeps().len(), 2);
}

#[tokio::test]
async fn a_permanent_error_carries_status_and_excerpt_and_is_not_retried() {
    let mut server = gateway().await;
    let api = server
        .mock("GET", VENDORS)
        .match_query(Matcher::Any)
        .with_status(404)
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":"Not Found","message":"no such IDO"}"#)
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client.send(vendors_request()).await.unwrap_err();
    api.assert_async().await;
    let Error::Api(api_err) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api_err.status, 404);
    assert_eq!(api_err.path, "CSI/IDORequestService/ido/load/SLVendors");
    assert!(api_err.body_excerpt.contains("no such IDO"));
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("HTTP 404"));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let mut server = gateway().await;
    server
        .mock("GET", VENDORS)
        .match_query(Matcher::Any)
        .with_body(vec![b'x'; 4096])
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = IonClient::builder(ionapi(&server.url()))
        .clock(clock.shared())
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = client.send(vendors_request()).await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 1024, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Page {
        #[serde(rename = "Items")]
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        #[serde(rename = "VendNum")]
        vend_num: String,
    }
    let mut server = gateway().await;
    server
        .mock("GET", VENDORS)
        .match_query(Matcher::Any)
        .with_body(r#"{"Items":[{"VendNum":"V1"},{"VendNum":42}]}"#)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client
        .send_json::<Page>(vendors_request())
        .await
        .unwrap_err();
    let Error::Decode { at, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(at, "Items[1].VendNum");
}

/// A gateway whose API answers follow a fixed script of (status, retry-after, body), one answer
/// per request, then the catch-all's 599. Returns the server and a counter of API hits.
async fn scripted_server(
    script: Vec<(u16, Option<&'static str>, &'static str)>,
) -> (ServerGuard, Arc<AtomicUsize>) {
    let mut server = Server::new_async().await;
    catch_all(&mut server).await;
    server
        .mock("POST", TOKEN_PATH)
        .with_body(token_body("first-token", 3600, None))
        .create_async()
        .await;
    let hits = Arc::new(AtomicUsize::new(0));
    // One mock per scripted answer, each consumed once, chained by a shared counter: a mock
    // matches only while the counter points at it.
    for (index, (status, retry_after, body)) in script.into_iter().enumerate() {
        for method in ["GET", "POST"] {
            let hits_match = hits.clone();
            let hits_body = hits.clone();
            let mut mock = server
                .mock(method, Matcher::Regex("^/ACME_TST/(CSI|M3)/".into()))
                .match_request(move |_| hits_match.load(Ordering::SeqCst) == index)
                .with_status(status.into())
                .with_body_from_request(move |_| {
                    hits_body.fetch_add(1, Ordering::SeqCst);
                    body.as_bytes().to_vec()
                });
            if let Some(after) = retry_after {
                mock = mock.with_header("retry-after", after);
            }
            mock.create_async().await;
        }
    }
    (server, hits)
}
