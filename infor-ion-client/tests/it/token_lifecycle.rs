//! The OAuth token lifecycle against a mockito authorization server: exact form bodies, client
//! authentication styles, proactive refresh on a manual clock, refresh-token grant and its
//! fallback, single flight, endpoint errors, revocation.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use common::*;
use infor_ion_client::auth::{AuthConfig, ClientAuth};
use infor_ion_client::{Error, Grant, IonRequest};
use mockito::Matcher;
use sync_core::time::{Clock, ManualClock};

const TOKEN_PATH: &str = "/ACME_TST/as/token.oauth2";

fn password_form() -> Matcher {
    Matcher::AllOf(vec![
        Matcher::UrlEncoded("grant_type".into(), "password".into()),
        Matcher::UrlEncoded("username".into(), SAAK.into()),
        Matcher::UrlEncoded("password".into(), SASK.into()),
    ])
}

#[tokio::test]
async fn password_grant_sends_the_exact_form_with_client_in_body() {
    let mut server = mockito::Server::new_async().await;
    // The exact body: field order as sent, `#` in saak percent-encoded as %23.
    let expected = format!(
        "grant_type=password&username=ACME_TST%23saak-Acc3ss-Key&password={SASK}\
         &client_id=ACME_TST%7Eclient-id&client_secret={CLIENT_SECRET}"
    );
    let token = server
        .mock("POST", TOKEN_PATH)
        .match_header("content-type", "application/x-www-form-urlencoded")
        .match_header("authorization", Matcher::Missing)
        .match_body(Matcher::Exact(expected))
        .with_body(token_body(ACCESS_TOKEN, 3600, None))
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let got = client.tokens().access_token().await.unwrap();
    token.assert_async().await;
    assert_eq!(
        got.expires_at(),
        clock.now() + chrono::Duration::seconds(3600)
    );
}

#[tokio::test]
async fn basic_client_auth_moves_the_client_to_the_header() {
    let mut server = mockito::Server::new_async().await;
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("ACME_TST~client-id:{CLIENT_SECRET}"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen_by_mock = seen.clone();
    let token = server
        .mock("POST", TOKEN_PATH)
        .match_header("authorization", format!("Basic {basic}").as_str())
        .match_body(password_form())
        .with_body_from_request(move |request| {
            *seen_by_mock.lock().unwrap() =
                String::from_utf8_lossy(request.body().unwrap()).into_owned();
            token_body(ACCESS_TOKEN, 3600, None).into_bytes()
        })
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(
        &server.url(),
        &clock,
        AuthConfig::default().client_auth(ClientAuth::Basic),
    );
    client.tokens().access_token().await.unwrap();
    token.assert_async().await;
    let body = seen.lock().unwrap().clone();
    assert!(body.starts_with("grant_type=password&"), "{body}");
    assert!(
        !body.contains("client_id") && !body.contains("client_secret"),
        "{body}"
    );
}

#[tokio::test]
async fn token_is_cached_then_refreshed_at_the_configured_margin() {
    let mut server = mockito::Server::new_async().await;
    let first = server
        .mock("POST", TOKEN_PATH)
        .match_body(password_form())
        .with_body(token_body("first-token", 3600, None))
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(
        &server.url(),
        &clock,
        AuthConfig::default().refresh_margin(Duration::from_secs(300)),
    );
    let a = client.tokens().access_token().await.unwrap();
    // Just before the margin: still cached, no new request.
    clock.advance(Duration::from_secs(3600 - 300 - 1));
    let b = client.tokens().access_token().await.unwrap();
    assert_eq!(a.generation(), b.generation());
    first.assert_async().await;
    first.remove_async().await;

    let second = server
        .mock("POST", TOKEN_PATH)
        .match_body(password_form())
        .with_body(token_body("second-token", 3600, None))
        .expect(1)
        .create_async()
        .await;
    // At the margin: refreshed although the old token has 300 s left.
    clock.advance(Duration::from_secs(1));
    let c = client.tokens().access_token().await.unwrap();
    assert_eq!(c.generation(), a.generation() + 1);
    second.assert_async().await;
}

#[tokio::test]
async fn default_margin_follows_the_lifetime() {
    let mut server = mockito::Server::new_async().await;
    // A 2-minute token: the default margin is lifetime/4 = 30 s, not 60 s.
    let token = server
        .mock("POST", TOKEN_PATH)
        .with_body(token_body(ACCESS_TOKEN, 120, None))
        .expect(2)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    client.tokens().access_token().await.unwrap();
    clock.advance(Duration::from_secs(89));
    client.tokens().access_token().await.unwrap();
    assert_eq!(client.tokens().token_requests(), 1);
    clock.advance(Duration::from_secs(1));
    client.tokens().access_token().await.unwrap();
    assert_eq!(client.tokens().token_requests(), 2);
    token.assert_async().await;
}

#[tokio::test]
async fn refresh_token_grant_is_used_when_issued() {
    let mut server = mockito::Server::new_async().await;
    let password = server
        .mock("POST", TOKEN_PATH)
        .match_body(password_form())
        .with_body(token_body("first-token", 3600, Some(REFRESH_TOKEN)))
        .expect(1)
        .create_async()
        .await;
    let refresh = server
        .mock("POST", TOKEN_PATH)
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("grant_type".into(), "refresh_token".into()),
            Matcher::UrlEncoded("refresh_token".into(), REFRESH_TOKEN.into()),
            Matcher::UrlEncoded("client_id".into(), "ACME_TST~client-id".into()),
        ]))
        .with_body(token_body("second-token", 3600, None))
        .expect(2)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    client.tokens().access_token().await.unwrap();
    clock.advance(Duration::from_secs(3600));
    client.tokens().access_token().await.unwrap();
    // The response had no new refresh token: the old one stays in use (RFC 6749 §6).
    clock.advance(Duration::from_secs(3600));
    client.tokens().access_token().await.unwrap();
    password.assert_async().await;
    refresh.assert_async().await;
}

#[tokio::test]
async fn failed_refresh_falls_back_to_the_password_grant() {
    let mut server = mockito::Server::new_async().await;
    let password = server
        .mock("POST", TOKEN_PATH)
        .match_body(password_form())
        .with_body(token_body("fresh-token", 3600, Some(REFRESH_TOKEN)))
        .expect(2)
        .create_async()
        .await;
    let refresh = server
        .mock("POST", TOKEN_PATH)
        .match_body(Matcher::UrlEncoded(
            "grant_type".into(),
            "refresh_token".into(),
        ))
        .with_status(400)
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#)
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let first = client.tokens().access_token().await.unwrap();
    clock.advance(Duration::from_secs(3600));
    let second = client.tokens().access_token().await.unwrap();
    assert_eq!(second.generation(), first.generation() + 1);
    password.assert_async().await;
    refresh.assert_async().await;
}

#[tokio::test]
async fn fifty_concurrent_callers_share_one_token_request() {
    let mut server = mockito::Server::new_async().await;
    let token = server
        .mock("POST", TOKEN_PATH)
        .with_body(token_body(ACCESS_TOKEN, 3600, None))
        .expect(1)
        .create_async()
        .await;
    let api = server
        .mock(
            "GET",
            "/ACME_TST/M3/m3api-rest/v2/execute/CRS620MI/LstSuppliers",
        )
        .match_header("authorization", format!("Bearer {ACCESS_TOKEN}").as_str())
        .with_body(r#"{"results":[]}"#)
        .expect(50)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .send(IonRequest::get(
                        "M3/m3api-rest/v2/execute/CRS620MI/LstSuppliers",
                    ))
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    token.assert_async().await;
    api.assert_async().await;
    assert_eq!(client.tokens().token_requests(), 1);
}

#[tokio::test]
async fn rfc6749_errors_are_parsed_and_not_retried() {
    let mut server = mockito::Server::new_async().await;
    let token = server
        .mock("POST", TOKEN_PATH)
        .with_status(401)
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":"invalid_client","error_description":"Invalid client or client credentials"}"#)
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client.tokens().access_token().await.unwrap_err();
    token.assert_async().await;
    match &err {
        Error::TokenRejected {
            grant,
            status,
            error,
            description,
        } => {
            assert_eq!(*grant, Grant::Password);
            assert_eq!(*status, 401);
            assert_eq!(error, "invalid_client");
            assert_eq!(
                description.as_deref(),
                Some("Invalid client or client credentials")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_auth());
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("invalid_client"));
}

#[tokio::test]
async fn non_oauth_token_errors_are_clear_and_5xx_is_retried() {
    let mut server = mockito::Server::new_async().await;
    let html = server
        .mock("POST", TOKEN_PATH)
        .with_status(502)
        .with_header("content-type", "text/html")
        .with_body(format!("<html><body>Bad gateway {SASK}</body></html>"))
        .expect(4) // first attempt + 3 retries
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client.tokens().access_token().await.unwrap_err();
    html.assert_async().await;
    assert!(
        matches!(err, Error::TokenEndpoint { status: 502, body_len, .. } if body_len > 0),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("HTTP 502") && text.contains("text/html"),
        "{text}"
    );
    assert_no_secret(&text, "token endpoint error");
    // Backoff ran on the manual clock: 100 ms, 200 ms, 400 ms.
    assert_eq!(
        clock.sleeps(),
        vec![
            Duration::from_millis(100),
            Duration::from_millis(200),
            Duration::from_millis(400)
        ]
    );
}

#[tokio::test]
async fn empty_and_500_token_answers() {
    let mut server = mockito::Server::new_async().await;
    let _empty = server
        .mock("POST", TOKEN_PATH)
        .with_status(500)
        .with_body("")
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let err = client.tokens().access_token().await.unwrap_err();
    // A 500 is not retried: behind ION it is the stack's answer to many refusals.
    assert!(
        matches!(
            err,
            Error::TokenEndpoint {
                status: 500,
                body_len: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("empty body"));

    let mut server = mockito::Server::new_async().await;
    let _not_json = server
        .mock("POST", TOKEN_PATH)
        .with_status(200)
        .with_header("content-type", "text/html")
        .with_body("<html>login</html>")
        .create_async()
        .await;
    let client = common::client(&server.url(), &clock, AuthConfig::default());
    let err = client.tokens().access_token().await.unwrap_err();
    assert!(matches!(err, Error::TokenResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("text/html"), "{err}");
}

#[tokio::test]
async fn a_failed_proactive_refresh_keeps_the_still_valid_token() {
    let mut server = mockito::Server::new_async().await;
    let first = server
        .mock("POST", TOKEN_PATH)
        .with_body(token_body("first-token", 3600, None))
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    let a = client.tokens().access_token().await.unwrap();
    first.assert_async().await;
    first.remove_async().await;
    let _down = server
        .mock("POST", TOKEN_PATH)
        .with_status(503)
        .create_async()
        .await;
    // Inside the refresh margin, the endpoint is down: the current token is still returned.
    clock.advance(Duration::from_secs(3600 - 30));
    let b = client.tokens().access_token().await.unwrap();
    assert_eq!(a.generation(), b.generation());
    // Once it has expired, the failure surfaces.
    clock.advance(Duration::from_secs(3600));
    let err = client.tokens().access_token().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn revoke_posts_the_refresh_token_with_basic_auth() {
    let mut server = mockito::Server::new_async().await;
    let _token = server
        .mock("POST", TOKEN_PATH)
        .with_body(token_body(ACCESS_TOKEN, 3600, Some(REFRESH_TOKEN)))
        .expect(2)
        .create_async()
        .await;
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("ACME_TST~client-id:{CLIENT_SECRET}"));
    let revoke = server
        .mock("POST", "/ACME_TST/as/revoke_token.oauth2")
        .match_header("authorization", format!("Basic {basic}").as_str())
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("token".into(), REFRESH_TOKEN.into()),
            Matcher::UrlEncoded("token_type_hint".into(), "refresh_token".into()),
        ]))
        .with_status(200)
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::default();
    let client = client(&server.url(), &clock, AuthConfig::default());
    client.tokens().access_token().await.unwrap();
    client.revoke().await.unwrap();
    revoke.assert_async().await;
    // Revoking twice does nothing: no token is held any more.
    client.revoke().await.unwrap();
    // The next call obtains a new token with the password grant.
    client.tokens().access_token().await.unwrap();
    assert_eq!(client.tokens().token_requests(), 3);
}
