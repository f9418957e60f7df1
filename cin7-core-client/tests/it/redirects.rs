//! The account headers never leave the configured origin: a redirect to another host (or from
//! https to http) is not followed, and a second local server records that nothing reached it.
#![allow(clippy::unwrap_used)]

use crate::common;

use cin7_core_client::request::Cin7Request;
use cin7_core_client::webhook::{AuthorizationType, Webhook, WebhookType};
use cin7_core_client::{Cin7Client, Error, SecretString};
use common::*;
use mockito::{Matcher, Server};
use sync_core::time::ManualClock;

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed_and_no_credential_reaches_it() {
    let mut api = Server::new_async().await;
    let mut elsewhere = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&api, &clock);
    // The other host would answer anything; it must see nothing.
    let stolen = elsewhere
        .mock("GET", Matcher::Any)
        .match_query(Matcher::Any)
        .with_body("{}")
        .expect(0)
        .create_async()
        .await;
    let moved = api
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(302)
        .with_header(
            "location",
            &format!("{}/collect?from=cin7", elsewhere.url()),
        )
        .expect(1)
        .create_async()
        .await;

    let err = client.suppliers().list().send().await.unwrap_err();
    let text = sdk_common::report::chain(&err);
    assert!(
        text.contains("was not followed") && text.contains(&elsewhere.url()),
        "{text}"
    );
    assert!(
        !text.contains("from=cin7"),
        "the target's query is not echoed: {text}"
    );
    assert!(
        !err.is_retryable(),
        "a redirect away is not retried: {err:?}"
    );
    assert!(!text.contains(APP_KEY));
    moved.assert_async().await;
    stolen.assert_async().await;
}

#[tokio::test]
async fn a_redirect_within_the_origin_is_followed() {
    let mut api = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&api, &clock);
    api.mock("GET", "/old/me")
        .with_status(301)
        .with_header("location", "/me")
        .expect(1)
        .create_async()
        .await;
    let me = with_auth(api.mock("GET", "/me"), &account)
        .with_body(r#"{"Company": "Acme"}"#)
        .expect(1)
        .create_async()
        .await;
    let raw = client.execute(Cin7Request::get("old/me")).await.unwrap();
    assert_eq!(raw.status, 200);
    me.assert_async().await;
}

#[test]
fn a_plain_http_base_url_is_refused_except_on_loopback() {
    let build = |url: &str| {
        Cin7Client::builder()
            .account_id(SecretString::from("acct"))
            .application_key(SecretString::from(APP_KEY))
            .base_url(url)
            .build()
    };
    let err = build("http://inventory.dearsystems.com/ExternalApi/v2/").unwrap_err();
    assert!(
        matches!(&err, Error::Config(message) if message.contains("plain http")),
        "{err:?}"
    );
    assert!(build("http://127.0.0.1:9/ExternalApi/v2/").is_ok());
    assert!(build("https://inventory.dearsystems.com/ExternalApi/v2/").is_ok());
    assert!(build("ftp://inventory.dearsystems.com/").is_err());
}

#[test]
fn a_request_s_debug_never_shows_the_webhook_credentials_it_carries() {
    let webhook = Webhook {
        webhook_type: Some(WebhookType::PurchaseOrderAuthorised),
        is_active: Some(true),
        external_url: "https://sync.example/cin7".into(),
        external_authorization_type: Some(AuthorizationType::BasicAuth),
        external_user_name: Some("cin7".into()),
        external_password: Some(SecretString::from("hook-pa55word-secret")),
        ..Webhook::default()
    };
    let request = Cin7Request::post("webhooks").json(&webhook);
    assert!(
        request.body().unwrap().contains("hook-pa55word-secret"),
        "sent as is"
    );
    let debug = format!("{request:?}");
    assert!(!debug.contains("hook-pa55word-secret"), "{debug}");
    assert!(debug.contains("bytes"), "{debug}");
}
