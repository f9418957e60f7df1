//! Shared test helpers: a client aimed at a local mockito server with a virtual clock.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use cin7_core_client::{Cin7Client, Cin7ClientBuilder, RateLimit};
use mockito::{Matcher, Mock, ServerGuard};
use secrecy::SecretString;
use sync_core::retry::RetryPolicy;
use sync_core::time::ManualClock;

/// The application key every test uses; the secrets test searches output for it.
pub const APP_KEY: &str = "0342a546-e0c2-0dff-f0be-6a5e1715SECRET";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh account id, so every test has its own limiter in the process-wide registry.
pub fn unique_account() -> String {
    format!(
        "704ef231-cd93-49c9-a201-{:06}{:06}",
        std::process::id() % 1_000_000,
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// A builder for a client of a fresh account at `server`, on `clock`, with jitter off and a
/// high rate so ordinary tests are not slowed (virtual time only anyway).
pub fn builder(server: &ServerGuard, clock: &ManualClock) -> (Cin7ClientBuilder, String) {
    let account = unique_account();
    let builder = Cin7Client::builder()
        .account_id(SecretString::from(account.clone()))
        .application_key(SecretString::from(APP_KEY))
        .base_url(server.url())
        .clock(clock.shared())
        .rate_limit(RateLimit::new(6000, std::time::Duration::from_secs(60)).unwrap())
        .retry_policy(
            RetryPolicy::default()
                .with_jitter(false)
                .with_max_retries(3)
                .with_delays(
                    std::time::Duration::from_secs(1),
                    std::time::Duration::from_secs(8),
                ),
        );
    (builder, account)
}

/// A client for `server` on `clock`, plus its account id.
pub fn client(server: &ServerGuard, clock: &ManualClock) -> (Cin7Client, String) {
    let (builder, account) = builder(server, clock);
    (builder.build().unwrap(), account)
}

/// The text of a fixture file.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// A fixture parsed as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// Catch-all mocks (create them **after** the specific mocks): any request not expected by a
/// specific mock lands here and fails `assert_catch_all`.
pub fn catch_all(server: &mut ServerGuard) -> Vec<Mock> {
    ["GET", "POST", "PUT", "DELETE"]
        .into_iter()
        .map(|method| {
            server
                .mock(method, Matcher::Any)
                .with_status(418)
                .with_body("unexpected request")
                .expect(0)
                .create()
        })
        .collect()
}

/// Assert that no request reached the catch-all mocks.
pub fn assert_catch_all(mocks: &[Mock]) {
    for mock in mocks {
        mock.assert();
    }
}

/// Headers every Cin7 call must carry.
pub fn with_auth(mock: Mock, account: &str) -> Mock {
    mock.match_header("api-auth-accountid", account)
        .match_header("api-auth-applicationkey", APP_KEY)
}
