//! The fault soak (see `examples/src/soak.rs` and `docs/reliability.md`): a seeded CloudSuite
//! synced into Cin7 with 10% of the calls of both simulators failing in every way they know,
//! the ION tokens revoked mid-run and the token endpoint failing for a while. After at most
//! `MAX_REPLAY_ROUNDS` replay rounds Cin7 must hold exactly what the seeded data and the
//! mappings say: no duplicate, nothing missing, every field as mapped, every record audited.
//!
//! CI runs ~1,000 records; `SOAK_RECORDS=10000 cargo test -p examples --test soak -- --nocapture`
//! runs the long version (give it `SOAK_TIMEOUT_MS=5000`: a debug-build simulator under load
//! can outlast the CI default of 1 s). `SOAK_SEED` and `SOAK_FAULT_RATE` change the seed and the
//! rate; `SOAK_INVOICE_STATUS=draft` posts invoices as drafts instead of the demo's authorised;
//! `SOAK_DIR` keeps the SQLite audit store there for inspection; `SOAK_RETURNS=0` leaves the
//! return direction out (it runs by default, and must write nothing to CloudSuite). By default
//! the soak converges through scheduled runs alone (failed records retried on their own, ten
//! virtual minutes apart, no `replay`); `SOAK_REPLAY=1` replays every open failure after each
//! run instead. Each `Delay` fault costs one
//! client timeout of real time.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use examples::soak::{self, RetryCounter, SoakOptions, SoakVariant};
use sync_core::target::DocStatus;
use tracing_subscriber::layer::SubscriberExt;

const MAX_REPLAY_ROUNDS: usize = 5;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulted_sync_ends_in_exactly_the_expected_cin7_state() {
    let counter = RetryCounter::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("debug"))
        .with(counter.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let clock = sync_core::time::ManualClock::new(chrono::Utc::now());
    let options = SoakOptions {
        records: env("SOAK_RECORDS", 1_000),
        fault_rate: env("SOAK_FAULT_RATE", 0.10),
        seed: env("SOAK_SEED", 10),
        max_replay_rounds: MAX_REPLAY_ROUNDS,
        dir: std::env::var("SOAK_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| dir.path().to_path_buf()),
        clock: clock.shared(),
        http_timeout: Duration::from_millis(env("SOAK_TIMEOUT_MS", 1_000)),
    };
    let started = std::time::Instant::now();
    let variant = SoakVariant {
        invoice_status: match std::env::var("SOAK_INVOICE_STATUS").as_deref() {
            Ok("draft") => Some(DocStatus::Draft),
            Ok("authorised") | Err(_) => None,
            Ok(other) => panic!("SOAK_INVOICE_STATUS={other}: use draft or authorised"),
        },
        returns: env("SOAK_RETURNS", 1) != 0,
        scheduled_only: env("SOAK_REPLAY", 0) == 0,
    };
    let outcome = soak::run_variant(&options, Some(&counter), &variant)
        .await
        .unwrap();
    let elapsed = started.elapsed();

    println!(
        "soak: records={} seeded(suppliers, POs, vouchers)={:?} seed={} fault_rate={}",
        options.records, outcome.seeded, options.seed, options.fault_rate
    );
    println!(
        "soak: ion_calls={} ion_faults={:?}",
        outcome.ion_calls, outcome.ion_faults
    );
    println!(
        "soak: cin7_calls={} cin7_faults={:?}",
        outcome.cin7_calls, outcome.cin7_faults
    );
    println!(
        "soak: retries={} runs={} stream_errors={} replay_errors={} replay_rounds={} replayed={:?} replay_source_unavailable={} open={} audit_entries={}",
        outcome.retries,
        outcome.runs,
        outcome.stream_errors,
        outcome.replay_errors.len(),
        outcome.replay_rounds,
        outcome.replayed,
        outcome.replay_source_unavailable,
        outcome.open_entries,
        outcome.audit_entries
    );
    println!(
        "soak: scheduled_only={} returns={} cloudsuite_writes={} duplicates={} missing={} unexpected={} mismatches={} unaudited={} wall={elapsed:?} virtual_slept={:?}",
        variant.scheduled_only,
        variant.returns,
        outcome.cloudsuite_writes,
        outcome.duplicates,
        outcome.missing,
        outcome.unexpected,
        outcome.mismatches.len(),
        outcome.unaudited.len(),
        clock.total_slept()
    );
    for line in outcome.mismatches.iter().take(10) {
        println!("soak: mismatch {line}");
    }
    for (reason, n) in &outcome.open_reasons {
        println!("soak: open {n} × {reason}");
    }
    println!(
        "soak: ion calls by endpoint {:?}",
        outcome.ion_calls_by_endpoint
    );
    for line in &outcome.run_reports {
        println!("soak: run {line}");
    }
    for line in &outcome.stream_error_messages {
        println!("soak: stream error {line}");
    }
    for line in outcome.replay_errors.iter().take(5) {
        println!("soak: replay error {line}");
    }
    for line in outcome.unaudited.iter().take(10) {
        println!("soak: unaudited {line}");
    }

    // The faults really happened, on both sides and of every kind.
    let kinds: std::collections::BTreeSet<String> = soak::fault_kinds(options.http_timeout)
        .iter()
        .map(|f| f.kind())
        .collect();
    for (side, injected) in [("ion", &outcome.ion_faults), ("cin7", &outcome.cin7_faults)] {
        for kind in &kinds {
            assert!(
                injected.contains_key(kind),
                "{side}: {kind} never injected: {injected:?}"
            );
        }
    }
    assert!(outcome.ion_faults.contains_key("revoke_tokens"));
    assert!(outcome.retries > 0);
    let total: u64 = outcome.cin7_faults.values().sum();
    let rate = total as f64 / outcome.cin7_calls as f64;
    assert!(
        (options.fault_rate * 0.6..options.fault_rate * 1.4).contains(&rate),
        "Cin7 fault rate {rate}"
    );

    // The promise.
    assert!(outcome.replay_rounds <= MAX_REPLAY_ROUNDS);
    assert_eq!(outcome.duplicates, 0, "duplicates");
    assert_eq!(outcome.missing, 0, "missing");
    assert_eq!(outcome.unexpected, 0, "unexpected");
    assert!(outcome.mismatches.is_empty(), "{:#?}", outcome.mismatches);
    assert!(outcome.unaudited.is_empty(), "{:#?}", outcome.unaudited);
    assert_eq!(outcome.open_entries, 0, "open audit entries");
    if variant.returns {
        assert_eq!(
            outcome.cloudsuite_writes, 0,
            "nothing changed in Cin7, so nothing may be written to CloudSuite"
        );
    }
    assert!(outcome.is_exact());
}
