//! Neither the token form nor the bearer token leaves the configured origin: a redirect to
//! another host is not followed, and a second local server records that nothing reached it.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::*;
use infor_ion_client::IonRequest;
use infor_ion_client::auth::AuthConfig;
use mockito::{Matcher, Server, ServerGuard};
use sync_core::time::ManualClock;

const TOKEN_PATH: &str = "/ACME_TST/as/token.oauth2";

/// A server that would answer anything, and must be asked nothing.
async fn elsewhere() -> (ServerGuard, Vec<mockito::Mock>) {
    let mut server = Server::new_async().await;
    let mut mocks = Vec::new();
    for method in ["GET", "POST", "PUT"] {
        mocks.push(
            server
                .mock(method, Matcher::Any)
                .match_query(Matcher::Any)
                .with_body(token_body("stolen", 3600, None))
                .expect(0)
                .create_async()
                .await,
        );
    }
    (server, mocks)
}

#[tokio::test]
async fn the_token_form_is_not_resent_to_another_host_on_a_307() {
    let mut gateway = Server::new_async().await;
    let (other, untouched) = elsewhere().await;
    let moved = gateway
        .mock("POST", TOKEN_PATH)
        .with_status(307)
        .with_header("location", &format!("{}/as/token.oauth2", other.url()))
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&gateway.url(), &clock, AuthConfig::default());

    let err = client
        .send(IonRequest::get("CSI/IDORequestService/ido/load/SLVendors"))
        .await
        .unwrap_err();
    let text = sdk_common::report::chain(&err);
    assert!(
        text.contains("was not followed") && text.contains(&other.url()),
        "{text}"
    );
    assert_no_secret(&text, "the refusal");
    moved.assert_async().await;
    for mock in &untouched {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn the_bearer_token_is_not_sent_to_another_host_on_a_302() {
    let mut gateway = Server::new_async().await;
    let (other, untouched) = elsewhere().await;
    gateway
        .mock("POST", TOKEN_PATH)
        .with_body(token_body(ACCESS_TOKEN, 3600, None))
        .create_async()
        .await;
    let moved = gateway
        .mock("GET", "/ACME_TST/CSI/IDORequestService/ido/load/SLVendors")
        .with_status(302)
        .with_header("location", &format!("{}/collect?t=1", other.url()))
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&gateway.url(), &clock, AuthConfig::default());

    let err = client
        .send(IonRequest::get("CSI/IDORequestService/ido/load/SLVendors"))
        .await
        .unwrap_err();
    let text = sdk_common::report::chain(&err);
    assert!(text.contains("was not followed"), "{text}");
    assert!(
        !text.contains("t=1"),
        "the target's query is not echoed: {text}"
    );
    assert_no_secret(&text, "the refusal");
    moved.assert_async().await;
    for mock in &untouched {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn a_redirect_within_the_gateway_is_followed() {
    let mut gateway = Server::new_async().await;
    gateway
        .mock("POST", TOKEN_PATH)
        .with_body(token_body(ACCESS_TOKEN, 3600, None))
        .create_async()
        .await;
    gateway
        .mock("GET", "/ACME_TST/old/path")
        .with_status(301)
        .with_header("location", "/ACME_TST/new/path")
        .expect(1)
        .create_async()
        .await;
    let new = gateway
        .mock("GET", "/ACME_TST/new/path")
        .match_header("authorization", format!("Bearer {ACCESS_TOKEN}").as_str())
        .with_body("{}")
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&gateway.url(), &clock, AuthConfig::default());
    let answer = client.send(IonRequest::get("old/path")).await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    new.assert_async().await;
}
