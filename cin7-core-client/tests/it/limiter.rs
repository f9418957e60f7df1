#![allow(clippy::unwrap_used)]
//! The per-account rate limiter: shared by clones and by separately built clients, never
//! exceeding the configured rate, and timed by the injected clock.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use cin7_core_client::{Cin7Client, LimiterScope, RateLimit};
use common::*;
use mockito::Server;
use secrecy::SecretString;
use sync_core::time::{Clock, ManualClock};

fn max_in_any_window(
    grants: &mut [chrono::DateTime<chrono::Utc>],
    window: chrono::Duration,
) -> usize {
    grants.sort();
    (0..grants.len())
        .map(|i| {
            grants[i..]
                .iter()
                .take_while(|t| **t < grants[i] + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn concurrent_tasks_on_clones_never_exceed_the_rate() {
    let server = Server::new_async().await;
    let clock = ManualClock::default();
    let (builder, _) = builder(&server, &clock);
    let client = builder.rate_limit(RateLimit::default()).build().unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.rate_limiter().acquire().await })
        })
        .collect();
    let mut grants = Vec::new();
    for task in tasks {
        grants.push(task.await.unwrap());
    }
    assert_eq!(grants.len(), 200);
    assert_eq!(
        max_in_any_window(&mut grants, chrono::Duration::seconds(60)),
        60,
        "at most 60 grants in any 60-second window, and the limiter does use the budget"
    );
    // 200 calls at one per second: the last is granted 199 s after the first.
    assert_eq!(grants[199] - grants[0], chrono::Duration::seconds(199));
}

#[tokio::test]
async fn concurrent_http_calls_are_spread_at_the_configured_rate() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (builder, _) = builder(&server, &clock);
    let client = builder
        .rate_limit(RateLimit::new(30, Duration::from_secs(60)).unwrap())
        .build()
        .unwrap();
    let m = server
        .mock("GET", "/me")
        .with_body(r#"{"Company":"Demo"}"#)
        .expect(90)
        .create();
    let rest = catch_all(&mut server);
    let start = clock.now();
    let tasks: Vec<_> = (0..90)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.me().get().await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    m.assert();
    assert_catch_all(&rest);
    // 90 calls at 30/min (one per 2 s) need at least 89 intervals of virtual time.
    assert!(clock.now() - start >= chrono::Duration::seconds(178));
}

#[tokio::test]
async fn separately_built_clients_of_one_account_share_a_limiter() {
    let server = Server::new_async().await;
    let clock = ManualClock::default();
    let account = unique_account();
    let build = |key: &str, scope: LimiterScope| {
        Cin7Client::builder()
            .account_id(SecretString::from(account.to_uppercase()))
            .application_key(SecretString::from(key.to_owned()))
            .base_url(server.url())
            .clock(clock.shared())
            .limiter_scope(scope)
            .build()
            .unwrap()
    };
    let a = build("key-a", LimiterScope::Account);
    let b = build("key-b", LimiterScope::Account);
    assert!(Arc::ptr_eq(a.rate_limiter(), b.rate_limiter()));
    assert!(Arc::ptr_eq(a.rate_limiter(), a.clone().rate_limiter()));
    let per_key_a = build("key-a", LimiterScope::ApplicationKey);
    let per_key_b = build("key-b", LimiterScope::ApplicationKey);
    assert!(!Arc::ptr_eq(
        per_key_a.rate_limiter(),
        per_key_b.rate_limiter()
    ));
    assert!(!Arc::ptr_eq(a.rate_limiter(), per_key_a.rate_limiter()));

    // Two clients of the account draw from one budget: 120 grants across both take 119 s.
    let start = clock.now();
    for _ in 0..60 {
        a.rate_limiter().acquire().await;
        b.rate_limiter().acquire().await;
    }
    assert_eq!(clock.now() - start, chrono::Duration::seconds(119));
}
