//! `demo`: a whole CloudSuite ↔ Cin7 Core sync, both directions, against the bundled simulators, in one command.
//!
//! ```sh
//! cargo run -p examples --bin demo
//! cargo run -p examples --bin demo -- --records 200 --faults 0.1 --keep
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;
use examples::demo::{self, DemoOptions, UNMAPPED_ACCOUNT};
use examples::summary::table;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use sync_core::engine::{ProgressEvent, ProgressFn};

/// Run a complete CloudSuite → Cin7 Core sync against local simulators of both systems, into
/// an embedded SQLite store, then show an incremental run and a replay of failures.
#[derive(Parser)]
#[command(name = "demo", version)]
struct Cli {
    /// Suppliers to seed in the simulated CloudSuite; purchase orders and supplier invoices are
    /// half as many each (every PO has 3 lines, every invoice 2 GL distributions).
    #[arg(long, default_value_t = 40)]
    records: usize,
    /// Fraction of Cin7 calls that fail on purpose (429/503 throttling and connection resets
    /// after a supplier create landed), from 0 to 0.5. The sync must absorb them all.
    #[arg(long, default_value_t = 0.05)]
    faults: f64,
    /// The Cin7 rate limit in calls per minute, for both the simulator and the client. Real
    /// Cin7 allows 60; the demo raises it so it finishes in seconds.
    #[arg(long, default_value_t = 3000)]
    rate: u32,
    /// Seed of the generated data and of the injected faults.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Where the SQLite store goes.
    #[arg(long, default_value = ".demo")]
    dir: PathBuf,
    /// Keep the store after the demo (to explore it with the `audit` binary).
    #[arg(long)]
    keep: bool,
}

/// One progress bar per stream, created when its first window starts.
fn progress_bars() -> ProgressFn {
    let multi = MultiProgress::new();
    let bars: Mutex<BTreeMap<String, ProgressBar>> = Mutex::new(BTreeMap::new());
    let style = ProgressStyle::with_template("{prefix:>18} {spinner} {pos:>5} records  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    Arc::new(move |event: &ProgressEvent| {
        let mut bars = bars.lock().unwrap_or_else(|p| p.into_inner());
        let bar = |bars: &mut BTreeMap<String, ProgressBar>, stream: String| {
            bars.entry(stream.clone())
                .or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(style.clone());
                    bar.set_prefix(stream);
                    bar
                })
                .clone()
        };
        match event {
            ProgressEvent::WindowStarted { stream, from, .. } => {
                let b = bar(&mut bars, stream.to_string());
                b.set_position(0);
                b.set_message(match from {
                    Some(from) => format!("changes since {}", from.format("%H:%M:%S")),
                    None => "full scan".to_owned(),
                });
            }
            ProgressEvent::Record { stream, .. } => bar(&mut bars, stream.to_string()).inc(1),
            ProgressEvent::WindowFinished { stream, report } => {
                bar(&mut bars, stream.to_string()).finish_with_message(format!(
                    "done: {} written, {} unchanged, {} failed",
                    report.succeeded, report.skipped, report.failed
                ));
            }
        }
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    examples::logging::init("error");
    if !(0.0..=0.5).contains(&cli.faults) {
        eprintln!("error: --faults must be between 0 and 0.5");
        return ExitCode::from(2);
    }
    let options = DemoOptions {
        records: cli.records,
        fault_rate: cli.faults,
        dir: cli.dir.clone(),
        calls_per_minute: cli.rate.max(1),
        seed: cli.seed,
        ..DemoOptions::default()
    };
    println!(
        "Starting simulated CloudSuite (ION) and Cin7 Core: {} suppliers, {} purchase orders, {} supplier invoices, {:.0}% of Cin7 calls faulted.\n",
        options.records,
        options.records / 2,
        options.records / 2,
        options.fault_rate * 100.0
    );
    let outcome = match demo::run(&options, Some(progress_bars())).await {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("error: {}", sdk_common::report::chain(&error));
            return ExitCode::FAILURE;
        }
    };
    println!("\nFirst run (full):\n{}", table(&outcome.first));
    println!(
        "One invoice line was distributed to CloudSuite account {UNMAPPED_ACCOUNT}, which had no Cin7 mapping: \
         it failed and was kept in the audit store.\nAfter adding the mapping, open failures were replayed in {} round(s): {} replays, {} succeeded.\n",
        outcome.replay_rounds, outcome.replayed.0, outcome.replayed.1
    );
    println!(
        "Second run (incremental, after renaming a supplier and raising a PO in CloudSuite, and receiving stock in Cin7):\n{}",
        table(&outcome.second)
    );
    match &outcome.receipt {
        Some(receipt) => println!(
            "Cin7 → CloudSuite: {} of item {} received in Cin7 on PO {}; CloudSuite line {} received quantity {} → {}.\n",
            receipt.received_in_cin7,
            receipt.item,
            receipt.po_number,
            receipt.line,
            receipt.cloudsuite_before,
            receipt.cloudsuite_after
        ),
        None => println!("Cin7 → CloudSuite: no purchase could be received in Cin7 this time.\n"),
    }
    let duplicates = outcome
        .cin7_suppliers_by_vendor
        .values()
        .filter(|n| **n > 1)
        .count()
        + outcome
            .cin7_purchases_by_reference
            .values()
            .filter(|n| **n > 1)
            .count();
    println!(
        "Cin7 now holds {} suppliers and {} purchases ({duplicates} duplicated).",
        outcome.cin7_suppliers_by_vendor.len(),
        outcome.cin7_purchases_by_reference.len()
    );
    println!(
        "Cin7 API calls: {}, throttled responses absorbed: {}, faults injected: {:?}",
        outcome.cin7_calls, outcome.cin7_throttled, outcome.faults
    );
    println!(
        "GL drift: {} CloudSuite account(s) have no Cin7 counterpart (informational; Cin7's chart is never written).",
        outcome.gl_drift
    );
    println!("Open failures left: {}", outcome.open_failures);
    if cli.keep {
        println!(
            "\nThe audit trail is in {}. Explore it with:\n  cargo run -p examples --bin audit -- --store {} summary",
            outcome.store_path.display(),
            outcome.store_path.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&cli.dir);
        println!("\nRun with --keep to keep the store and explore the audit trail.");
    }
    if outcome.open_failures == 0 && duplicates == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
