//! No secret ever shows up in `Debug` output, error messages or logs.
//!
//! Every public type that holds a secret is formatted with `{:?}`, every error that a full run
//! of failures produces is formatted with `{}` and `{:?}`, and all tracing output at TRACE level
//! is captured; none may contain the client secret, the service-account keys, or the tokens.
#![allow(clippy::unwrap_used)]

#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use infor_ion_client::auth::{AuthConfig, ClientAuth};
use infor_ion_client::vault::{Vault, VaultKey};
use infor_ion_client::{IonClient, IonRequest};
use sync_core::time::ManualClock;

/// A `tracing` writer that appends to a shared buffer.
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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn no_secret_in_debug_errors_or_trace_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut server = mockito::Server::new_async().await;
    // The token endpoint issues access and refresh tokens; the API rejects the first access
    // token, accepts nothing else either, so the whole 401 and error path runs.
    server
        .mock("POST", "/ACME_TST/as/token.oauth2")
        .with_body(token_body(ACCESS_TOKEN, 60, Some(REFRESH_TOKEN)))
        .create_async()
        .await;
    server
        .mock("POST", "/ACME_TST/as/revoke_token.oauth2")
        .with_status(400)
        .with_body(r#"{"error":"invalid_request","error_description":"bad token"}"#)
        .create_async()
        .await;
    server
        .mock("GET", mockito::Matcher::Any)
        .with_status(401)
        .create_async()
        .await;
    server
        .mock("POST", "/ACME_TST/M3/m3api-rest/v2/execute/X/Y")
        .with_status(502)
        .with_header("content-type", "text/html")
        .with_body("<html>bad gateway</html>")
        .create_async()
        .await;

    let clock = ManualClock::default();
    let file = ionapi(&server.url());
    let client = IonClient::builder(file.clone())
        .clock(clock.shared())
        .auth(AuthConfig::default().client_auth(ClientAuth::Basic))
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();

    let mut texts = Vec::new();
    // Debug of every secret-holding public type.
    texts.push(format!("{file:?}"));
    texts.push(format!("{:?}", file.service_account().unwrap()));
    texts.push(format!("{client:?}"));
    texts.push(format!("{:?}", client.tokens()));
    let token = client.tokens().access_token().await.unwrap();
    texts.push(format!("{token:?}"));
    let key = VaultKey::generate();
    texts.push(format!("{key:?}"));
    let dir = tempfile::tempdir().unwrap();
    let mut vault = Vault::open_or_create(dir.path().join("v"), key).unwrap();
    vault.store(&file).unwrap();
    texts.push(format!("{vault:?}"));

    // Every error the failure paths produce, as Display and Debug.
    let errors = vec![
        client
            .send(IonRequest::get("CSI/IDORequestService/ido/load/SLVendors"))
            .await
            .unwrap_err(),
        client
            .send(IonRequest::post("M3/m3api-rest/v2/execute/X/Y"))
            .await
            .unwrap_err(),
        client.revoke().await.unwrap_err(),
    ];
    for error in &errors {
        texts.push(error.to_string());
        texts.push(format!("{error:?}"));
        let mut source = std::error::Error::source(error);
        while let Some(s) = source {
            texts.push(s.to_string());
            source = s.source();
        }
    }
    // The authorization endpoint refusing the secrets themselves.
    let mut refusing = mockito::Server::new_async().await;
    refusing
        .mock("POST", "/ACME_TST/as/token.oauth2")
        .with_status(400)
        .with_body(format!(
            "<html>bad request for {SASK} and {CLIENT_SECRET}</html>"
        ))
        .create_async()
        .await;
    let client = IonClient::builder(ionapi(&refusing.url()))
        .clock(clock.shared())
        .build()
        .unwrap();
    let err = client.tokens().access_token().await.unwrap_err();
    texts.push(err.to_string());
    texts.push(format!("{err:?}"));

    let logged = logs.text();
    assert!(
        logged.contains("ion.request"),
        "tracing was not captured: {logged}"
    );
    assert!(logged.contains("status=401"), "{logged}");
    texts.push(logged);
    for text in &texts {
        assert_no_secret(text, "formatted output");
    }
}
