#![allow(clippy::unwrap_used)]
//! The application key (and account id) never appear in `Debug`, in error messages or in logs.

#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use cin7_core_client::webhook::{
    AuthorizationType, DeliveryAuth, ExternalHeader, Webhook, WebhookEvent, WebhookReceiver,
    WebhookType,
};
use cin7_core_client::{Cin7Client, Error};
use common::*;
use mockito::{Matcher, Server};
use secrecy::SecretString;
use sync_core::retry::RetryPolicy;
use sync_core::time::ManualClock;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(text: &str, account: &str, what: &str) {
    assert!(
        !text.contains(APP_KEY),
        "application key leaked in {what}: {text}"
    );
    assert!(!text.contains("SECRET"), "secret leaked in {what}: {text}");
    assert!(
        !text.contains(account),
        "account id leaked in {what}: {text}"
    );
}

#[tokio::test]
async fn secrets_never_leak() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (builder, account) = builder(&server, &clock);
    let builder_debug = format!("{builder:?}");
    let client = builder
        .retry_policy(
            RetryPolicy::default()
                .with_max_retries(1)
                .with_jitter(false),
        )
        .build()
        .unwrap();

    // Every kind of server answer that becomes an error.
    server
        .mock("GET", "/me")
        .with_status(403)
        .with_body("Incorrect credentials!")
        .create();
    server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(400)
        .with_body(r#"{"ErrorCode":400,"Exception":"Bad"}"#)
        .create();
    server
        .mock("GET", "/ref/tax")
        .match_query(Matcher::Any)
        .with_status(429)
        .create();
    server
        .mock("GET", "/ref/location")
        .match_query(Matcher::Any)
        .with_body("<html>Page not found</html>")
        .create();
    server
        .mock("GET", "/ref/paymentterm")
        .match_query(Matcher::Any)
        .with_body(r#"{"Total":1,"Page":1,"PaymentTermList":[{"Name":"x","IsActive":"maybe"}]}"#)
        .create();
    server
        .mock("GET", "/customer")
        .match_query(Matcher::Any)
        .with_body(r#"{"Total":1,"Page":1}"#)
        .create();
    server.mock("POST", "/supplier").with_status(500).create();

    let mut errors: Vec<Error> = vec![
        client.me().get().await.unwrap_err(),
        client.suppliers().list().send().await.unwrap_err(),
        client.reference().tax_rules().send().await.unwrap_err(),
        client.reference().locations().send().await.unwrap_err(),
        client.reference().payment_terms().send().await.unwrap_err(),
        client.customers().list().send().await.unwrap_err(),
        client
            .suppliers()
            .create(&cin7_core_client::supplier::Supplier {
                name: "n".into(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
    ];
    // A transport error: nothing listens on this port.
    let dead = Cin7Client::builder()
        .account_id(SecretString::from(account.clone()))
        .application_key(SecretString::from(APP_KEY))
        .base_url("http://127.0.0.1:9/")
        .clock(clock.shared())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    errors.push(dead.me().get().await.unwrap_err());
    // A configuration error naming the bad key field.
    errors.push(
        Cin7Client::builder()
            .account_id(SecretString::from(account.clone()))
            .application_key(SecretString::from(format!("{APP_KEY}\n")))
            .build()
            .unwrap_err(),
    );
    // Webhook errors.
    let receiver = WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from(APP_KEY)))
        .also_require(DeliveryAuth::header("x-token", SecretString::from("hdr-SECRET")).unwrap());
    let mut wrong = http::HeaderMap::new();
    wrong.insert(
        "authorization",
        format!("Bearer {APP_KEY}x").parse().unwrap(),
    );
    errors.push(receiver.authenticate(&wrong).unwrap_err().into());
    errors.push(WebhookEvent::parse(b"{}").unwrap_err().into());

    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            Error::Auth { .. } => "auth",
            Error::Api(_) => "api",
            Error::RateLimited { .. } => "rate",
            Error::UnexpectedBody { .. } => "body",
            Error::Decode { .. } => "decode",
            Error::Pagination { .. } => "paging",
            Error::UncertainWrite { .. } => "uncertain",
            Error::Transport { .. } => "transport",
            Error::Config(_) => "config",
            Error::Webhook(_) => "webhook",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "auth",
            "api",
            "rate",
            "body",
            "decode",
            "paging",
            "uncertain",
            "transport",
            "config",
            "webhook",
            "webhook"
        ]
    );
    for error in &errors {
        assert_clean(&error.to_string(), &account, "Display");
        assert_clean(&format!("{error:?}"), &account, "Debug of error");
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            assert_clean(&inner.to_string(), &account, "error source");
            source = inner.source();
        }
    }

    // Every public type that holds a secret.
    let webhook = Webhook {
        webhook_type: Some(WebhookType::SupplierUpdated),
        is_active: Some(true),
        external_url: "https://hooks.example.invalid/".into(),
        external_authorization_type: Some(AuthorizationType::BasicAuth),
        external_user_name: Some("user".into()),
        external_password: Some(SecretString::from("pw-SECRET")),
        external_bearer_token: Some(SecretString::from(APP_KEY)),
        external_headers: vec![ExternalHeader {
            key: "x-token".into(),
            value: SecretString::from("hdr-SECRET"),
        }],
        ..Default::default()
    };
    let basic = DeliveryAuth::Basic {
        username: "user".into(),
        password: SecretString::from("pw-SECRET"),
    };
    for (what, debug) in [
        ("client", format!("{client:?}")),
        ("builder", builder_debug),
        ("limiter", format!("{:?}", client.rate_limiter())),
        ("webhook", format!("{webhook:?}")),
        ("receiver", format!("{receiver:?}")),
        ("basic auth", format!("{basic:?}")),
    ] {
        assert_clean(&debug, &account, what);
    }
    assert!(format!("{client:?}").contains("REDACTED"));

    drop(_guard);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("cin7_request"),
        "the capture saw the request spans: {logs}"
    );
    assert!(logs.contains("retrying Cin7 request"));
    assert_clean(&logs, &account, "logs");
}
