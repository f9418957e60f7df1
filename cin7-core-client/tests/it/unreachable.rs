//! A Cin7 that cannot be reached: after three connect failures in a row the client stops
//! trying for a while, and every request fails at once with an error naming the cause.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use cin7_core_client::{Cin7Client, Error};
use secrecy::SecretString;
use sync_core::time::ManualClock;

fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
    // Dropped: nothing listens there any more.
}

#[tokio::test]
async fn a_refused_connection_opens_the_breaker_and_names_the_cause() {
    let clock = ManualClock::default();
    let client = Cin7Client::builder()
        .account_id(SecretString::from("acct"))
        .application_key(SecretString::from("key"))
        .base_url(format!("http://127.0.0.1:{}/ExternalApi/v2/", dead_port()))
        .clock(clock.shared())
        .build()
        .unwrap();

    let first = client.suppliers().list().page(1).send().await.unwrap_err();
    assert!(
        matches!(&first, Error::Unreachable { cause, .. } if cause == "connection refused"),
        "{first}"
    );
    assert!(
        first
            .to_string()
            .contains("Cin7 cannot be reached (connection refused)")
    );
    // Three attempts, two backoff waits (about 0.5 s and 1 s, with jitter), then it stopped.
    let waited = clock.total_slept();
    assert!(waited <= Duration::from_secs(4), "{waited:?}");

    // Every further request fails at once, without a wait or a connection.
    for _ in 0..50 {
        let error = client.suppliers().list().page(1).send().await.unwrap_err();
        assert!(matches!(error, Error::Unreachable { .. }), "{error}");
    }
    assert_eq!(clock.total_slept(), waited);
    assert!(first.is_retryable());
    assert_eq!(first.delivery(), sync_core::retry::Delivery::NotProcessed);

    // After the cooldown one request is let through again (and fails again here).
    clock.advance(cin7_core_client::breaker::COOLDOWN);
    let again = client.suppliers().list().page(1).send().await.unwrap_err();
    assert!(matches!(again, Error::Unreachable { .. }), "{again}");
}
