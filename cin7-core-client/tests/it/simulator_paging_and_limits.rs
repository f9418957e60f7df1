#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]
//! Paging thousands of suppliers through the client's stream, and the simulator's rate limit
//! (429 / 503, with and without `Retry-After`) with the client recovering, all on one
//! virtual clock shared by client and simulator: no test sleeps.

use crate::simulator_support;

use std::collections::HashSet;
use std::time::Duration;

use cin7_core_client::request::Cin7Request;
use cin7_core_client::simulator::{Cin7Simulator, LimitScope, SimRateLimit, SimulatorConfig};
use cin7_core_client::supplier::SupplierStatus;
use secrecy::SecretString;
use simulator_support::*;
use sync_core::time::{Clock, ManualClock};

#[tokio::test]
async fn thousands_of_suppliers_page_through_the_stream() {
    let (sim, client, _clock) = start(|c| c.with_suppliers(2500).with_seed(7)).await;
    let all = client
        .suppliers()
        .list()
        .include_deprecated(true)
        .limit(1000)
        .all()
        .await
        .unwrap();
    assert_eq!(all.len(), 2500);
    let ids: HashSet<_> = all.iter().map(|s| s.id.clone().unwrap()).collect();
    assert_eq!(ids.len(), 2500, "no row twice, none missed");
    assert_eq!(sim.calls_to("GET /supplier"), 3);
    // Unordered like the real API: neither by name nor by modification time.
    let names: Vec<_> = all.iter().map(|s| s.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_ne!(names, sorted);
    let mut times: Vec<_> = all.iter().map(|s| s.last_modified_on.unwrap()).collect();
    let original = times.clone();
    times.sort();
    assert_ne!(original, times);

    // Default: active suppliers only.
    let active = client.suppliers().list().all().await.unwrap();
    let expected = sim
        .state()
        .suppliers
        .iter()
        .filter(|s| s.status == Some(SupplierStatus::Active))
        .count();
    assert_eq!(active.len(), expected);
    assert!(
        expected < 2500 && expected > 2000,
        "about 10% deprecated: {expected}"
    );

    // Limit above 1000 is served as 1000; Total counts every match.
    let raw = client
        .execute(
            Cin7Request::get("supplier")
                .query("Limit", 5000)
                .query("IncludeDeprecated", true),
        )
        .await
        .unwrap();
    assert_eq!(raw.body["SupplierList"].as_array().unwrap().len(), 1000);
    assert_eq!(raw.body["Total"], 2500);
    let last = client
        .execute(
            Cin7Request::get("supplier")
                .query("page", 3)
                .query("limit", 1000)
                .query("includedeprecated", "TRUE"),
        )
        .await
        .unwrap();
    assert_eq!(last.body["SupplierList"].as_array().unwrap().len(), 500);
}

#[tokio::test]
async fn the_same_seed_generates_the_same_data() {
    let names = |seed| async move {
        let clock = ManualClock::default();
        let sim = Cin7Simulator::start(config(&clock).with_suppliers(50).with_seed(seed))
            .await
            .unwrap();
        let state = sim.state();
        (
            state
                .raw_suppliers
                .iter()
                .map(|s| format!("{} {}", s["ID"], s["Name"]))
                .collect::<Vec<_>>(),
            state
                .tax_rules
                .iter()
                .map(|t| t.id.clone())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(names(11).await, names(11).await);
    assert_ne!(names(11).await.0, names(12).await.0);
}

#[tokio::test]
async fn a_429_without_retry_after_is_recovered_after_the_window() {
    let clock = ManualClock::default();
    let sim = Cin7Simulator::start(
        config(&clock).with_rate_limit(SimRateLimit::new(10, Duration::from_secs(60))),
    )
    .await
    .unwrap();
    let client = builder(&sim, &clock).build().unwrap();
    let start = clock.now();
    for _ in 0..25 {
        client.me().get().await.unwrap();
    }
    assert_eq!(sim.throttled(), 2, "calls 11 and 21 hit the limit");
    assert_eq!(sim.calls_to("GET /me"), 27);
    // With no Retry-After the client waits its 65 s throttle pause each time.
    // (plus the client's own sub-millisecond pacing at its generous budget).
    let elapsed = clock.now() - start;
    assert!(
        elapsed >= chrono::Duration::seconds(130) && elapsed < chrono::Duration::seconds(131),
        "{elapsed}"
    );
}

#[tokio::test]
async fn a_503_with_retry_after_is_honoured_exactly() {
    let clock = ManualClock::default();
    let limit = SimRateLimit::new(10, Duration::from_secs(60))
        .with_status(503)
        .with_retry_after(true);
    let sim = Cin7Simulator::start(config(&clock).with_rate_limit(limit))
        .await
        .unwrap();
    let client = builder(&sim, &clock).build().unwrap();
    let start = clock.now();
    for _ in 0..5 {
        client.reference().locations().send().await.unwrap();
    }
    clock.advance(Duration::from_secs(20));
    for _ in 0..6 {
        client.reference().locations().send().await.unwrap();
    }
    assert_eq!(sim.throttled(), 1);
    // The oldest call was at 0 s, the 11th at 20 s: Retry-After 40 s, so the retry lands at 60 s.
    let elapsed = clock.now() - start;
    assert!(
        elapsed >= chrono::Duration::seconds(60) && elapsed < chrono::Duration::seconds(61),
        "{elapsed}"
    );
}

#[tokio::test]
async fn a_throttled_create_is_retried_and_lands_once() {
    let clock = ManualClock::default();
    let sim = Cin7Simulator::start(
        config(&clock).with_rate_limit(SimRateLimit::new(2, Duration::from_secs(60))),
    )
    .await
    .unwrap();
    let client = builder(&sim, &clock).build().unwrap();
    client.me().get().await.unwrap();
    client.me().get().await.unwrap();
    let saved = client
        .suppliers()
        .create(&new_supplier("Throttled Ltd"))
        .await
        .unwrap();
    assert_eq!(sim.throttled(), 1);
    assert_eq!(sim.calls_to("POST /supplier"), 2);
    let state = sim.state();
    assert_eq!(state.suppliers.len(), 1);
    assert_eq!(state.suppliers[0].id, saved.id);
}

#[tokio::test]
async fn paging_thousands_through_the_limit_recovers() {
    let clock = ManualClock::default();
    let sim =
        Cin7Simulator::start(config(&clock).with_suppliers(2000).with_rate_limit(
            SimRateLimit::new(10, Duration::from_secs(60)).with_retry_after(true),
        ))
        .await
        .unwrap();
    let client = builder(&sim, &clock).build().unwrap();
    let all = client
        .suppliers()
        .list()
        .include_deprecated(true)
        .limit(100)
        .all()
        .await
        .unwrap();
    assert_eq!(all.len(), 2000);
    assert_eq!(
        sim.throttled(),
        1,
        "the 11th of 20 pages waits for the window"
    );
    assert_eq!(sim.calls_to("GET /supplier"), 21);
}

#[tokio::test]
async fn the_limit_is_per_account_or_per_application_key() {
    for (scope, throttled) in [
        (LimitScope::PerAccount, 1),
        (LimitScope::PerApplicationKey, 0),
    ] {
        let clock = ManualClock::default();
        let other_key = "9c1d2e3f-0000-4000-8000-0000000000ff";
        let sim = Cin7Simulator::start(
            config(&clock)
                .with_application_key(other_key)
                .with_rate_limit(SimRateLimit::new(3, Duration::from_secs(60)).with_scope(scope)),
        )
        .await
        .unwrap();
        let first = builder(&sim, &clock).build().unwrap();
        let second = builder(&sim, &clock)
            .application_key(SecretString::from(other_key))
            .limiter(
                cin7_core_client::AccountLimiter::new(
                    cin7_core_client::RateLimit::new(100_000, Duration::from_secs(60)).unwrap(),
                    clock.shared(),
                )
                .unwrap(),
            )
            .build()
            .unwrap();
        for _ in 0..3 {
            first.me().get().await.unwrap();
        }
        for _ in 0..3 {
            second.me().get().await.unwrap();
        }
        assert_eq!(sim.throttled(), throttled, "{scope:?}");
    }
    let _ = SimulatorConfig::default();
}

/// The client is configured for 60 calls a minute, the server takes 30: after a few throttles
/// the client's pace settles below the server's limit and the throttling stops (AIMD pace in
/// `AccountLimiter`), instead of 3 or 4 429s per hundred calls forever (as before the pace:
/// `[3, 3, 3, 4, 3, 3]`; now `[2, 1, 1, 0, 0, 0]`).
#[tokio::test]
async fn a_rate_above_the_real_limit_converges_to_no_more_throttles() {
    let clock = ManualClock::default();
    let sim = Cin7Simulator::start(
        config(&clock).with_rate_limit(SimRateLimit::new(30, Duration::from_secs(60))),
    )
    .await
    .unwrap();
    let client = builder(&sim, &clock)
        .rate_limit(cin7_core_client::RateLimit::new(60, Duration::from_secs(60)).unwrap())
        .build()
        .unwrap();
    let mut throttled_by_hundred = Vec::new();
    for _ in 0..6 {
        let before = sim.throttled();
        for _ in 0..100 {
            client.suppliers().list().limit(1).send().await.unwrap();
        }
        throttled_by_hundred.push(sim.throttled() - before);
    }
    println!("throttled per 100 calls: {throttled_by_hundred:?}");
    assert!(throttled_by_hundred[0] > 0, "the server's limit was hit");
    assert_eq!(
        throttled_by_hundred[4..],
        [0, 0],
        "no more throttles once the pace settled: {throttled_by_hundred:?}"
    );
    let pace = client.rate_limiter().pace() * 60.0;
    assert!(pace <= 30.0, "settled at {pace} calls a minute");
}
