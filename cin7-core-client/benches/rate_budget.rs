//! Rate-budget benchmark: how much of the configured Cin7 call budget the client achieves, and
//! whether a server enforcing that budget ever throttles it.
//!
//! A local mockito server plays Cin7 with a strict sliding-window limit (`LIMIT` calls in any
//! 60 s; one more is answered 429). `CALLERS` concurrent tasks share one client (clones) whose
//! limiter is configured at the same `LIMIT` per minute, and call `GET /me` in a loop for
//! `SECS` seconds of real time. Reported: calls completed, achieved calls/minute as a fraction
//! of the configured limit, throttled (429) responses, and the busiest 60 s window the server
//! saw.
//!
//! Run: `cargo bench -p cin7-core-client --bench rate_budget` (env: `CIN7_BENCH_SECS`,
//! `CIN7_BENCH_CALLERS`, `CIN7_BENCH_LIMIT`, `CIN7_BENCH_MARGIN_MS`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cin7_core_client::{Cin7Client, RateLimit};
use secrecy::SecretString;
use sync_core::retry::RetryPolicy;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct ServerWindow {
    accepted: VecDeque<Instant>,
    busiest: usize,
}

fn main() {
    let secs = env("CIN7_BENCH_SECS", 75);
    let callers = env("CIN7_BENCH_CALLERS", 16);
    let limit = env("CIN7_BENCH_LIMIT", 1200) as u32;
    let margin = Duration::from_millis(env("CIN7_BENCH_MARGIN_MS", 0));
    let window = Duration::from_secs(60);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut server = mockito::Server::new_async().await;
        let state = Arc::new(Mutex::new(ServerWindow {
            accepted: VecDeque::new(),
            busiest: 0,
        }));
        let throttled = Arc::new(AtomicU64::new(0));
        let (server_state, server_throttled) = (state.clone(), throttled.clone());
        let _mock = server
            .mock("GET", "/me")
            .with_status_code_from_request(move |_| {
                let now = Instant::now();
                let mut s = server_state.lock().unwrap();
                while s
                    .accepted
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= window)
                {
                    s.accepted.pop_front();
                }
                if s.accepted.len() >= limit as usize {
                    server_throttled.fetch_add(1, Ordering::Relaxed);
                    return 429;
                }
                s.accepted.push_back(now);
                s.busiest = s.busiest.max(s.accepted.len());
                200
            })
            .with_body(r#"{"Company":"Bench","Currency":"USD","TimeZone":"UTC"}"#)
            .expect_at_least(1)
            .create_async()
            .await;

        let client = Cin7Client::builder()
            .account_id(SecretString::from("bench-account"))
            .application_key(SecretString::from("bench-key"))
            .base_url(server.url())
            .rate_limit(
                RateLimit::new(limit, window)
                    .unwrap()
                    .with_safety_margin(margin),
            )
            // Count throttles instead of hiding them behind retries.
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();

        let completed = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(secs);
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                let (client, completed, failed) =
                    (client.clone(), completed.clone(), failed.clone());
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        match client.me().get().await {
                            Ok(_) => completed.fetch_add(1, Ordering::Relaxed),
                            Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = start.elapsed();
        let ok = completed.load(Ordering::Relaxed);
        let per_minute = ok as f64 / elapsed.as_secs_f64() * 60.0;
        let busiest = state.lock().unwrap().busiest;
        println!("cin7 rate budget benchmark");
        println!("  configured limit      : {limit} calls / 60 s (safety margin {margin:?})");
        println!("  concurrent callers    : {callers} (clones of one client)");
        println!("  wall time             : {:.1} s", elapsed.as_secs_f64());
        println!("  calls completed       : {ok}");
        println!(
            "  calls failed          : {}",
            failed.load(Ordering::Relaxed)
        );
        println!("  achieved calls/minute : {per_minute:.1}");
        println!(
            "  fraction of limit     : {:.1} %",
            per_minute / f64::from(limit) * 100.0
        );
        println!(
            "  throttled responses   : {}",
            throttled.load(Ordering::Relaxed)
        );
        println!("  busiest 60 s window   : {busiest} calls (server-side, sliding)");
    });
}
