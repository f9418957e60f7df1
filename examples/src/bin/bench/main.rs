//! End-to-end performance figures (issue 11): API-call economy, rate-budget use and wall time
//! against the Cin7 rate limit, CPU per record against a bare `INSERT`, peak memory, and Cin7
//! JSON parsing against a plain `serde_json::Value` scan.
//!
//! Build and run in release mode only when measuring:
//!
//! ```text
//! cargo run --release -p examples --bin bench -- economy            # 1 and 2
//! cargo run --release -p examples --bin bench -- cpu                # 3 (PostgreSQL if reachable)
//! cargo run --release -p examples --bin bench -- memory --records 10000
//! cargo run --release -p examples --bin bench -- memory --records 100000
//! cargo run --release -p examples --bin bench -- parse              # 5
//! cargo run --release -p examples --bin bench -- recovery           # issue 18
//! cargo run --release -p examples --bin bench -- latency            # issue 20
//! cargo build --release -p examples --bins && target/release/bench fleet   # issue 21
//! ```
//!
//! Every figure is printed as a Markdown table; `docs/benchmarks.md` ("End to end") records
//! them with the method.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cin7_core_client::limiter::RateLimit;
use cin7_core_client::simulator::{Cin7Simulator, SimRateLimit, SimulatorConfig as Cin7Config};
use cin7_core_client::sync::Cin7Target;
use clap::{Parser, Subcommand};
use examples::assemble::{Assembled, Parts, assemble};
use examples::demo::mappings;
use examples::summary::{StreamSummary, summarize};
use infor_ion_client::IonClient;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig as IonConfig};
use sync_core::engine::{EngineConfig, ProgressEvent, ProgressFn};
use sync_core::faults::FaultPlan;
use sync_core::retry::RetryPolicy;
use sync_core::store::SyncStore;
use sync_core::store::sqlite::SqliteStore;
use sync_core::time::{ManualClock, SharedClock, SystemClock};

mod cpu;
mod fleet;
mod generated;
mod latency;
mod memory;
mod parse;
mod recovery;

#[derive(Parser)]
#[command(about = "End-to-end performance figures of the CloudSuite → Cin7 sync")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// API-call economy and rate-budget use: a seeded full sync against both simulators, then
    /// idle incremental runs at two data sizes.
    Economy(SyncArgs),
    /// CPU per record (engine + mapping + hashing + audit + checkpoint) against a bare INSERT
    /// loop of the same rows, SQLite and PostgreSQL (`DATABASE_URL`, if reachable).
    Cpu {
        /// Suppliers synced per store.
        #[arg(long, default_value_t = 2000)]
        records: usize,
    },
    /// Peak RSS (VmHWM) of syncing `--records` generated suppliers into SQLite. Run once per
    /// size (a fresh process each), so the high-water mark is per size.
    Memory {
        /// Records to sync.
        #[arg(long, default_value_t = 10_000)]
        records: usize,
    },
    /// Cin7 calls spent recovering ÷ records recovered: after lost answers (the next run's
    /// automatic retry, or `replay`) and after kills at spread points of a sync.
    Recovery(recovery::RecoveryArgs),
    /// Latency from a CloudSuite change to its write in Cin7: pushed through the ION push
    /// intake, and polled at a one-minute cadence; idle and with a backlog.
    Latency(latency::LatencyArgs),
    /// A fleet at scale: real `sync --tenants` processes on one PostgreSQL store, one killed
    /// with SIGKILL mid-run (needs the `sync` binary: build with `--bins`).
    Fleet(fleet::FleetArgs),
    /// Cin7 JSON decoding (typed client models) against a `serde_json::Value` scan of the same
    /// bytes.
    Parse {
        /// Rows per generated list page.
        #[arg(long, default_value_t = 1000)]
        rows: usize,
        /// Timed repetitions (best of).
        #[arg(long, default_value_t = 20)]
        reps: usize,
    },
}

#[derive(clap::Args, Clone)]
struct SyncArgs {
    /// CloudSuite suppliers.
    #[arg(long, default_value_t = 2000)]
    suppliers: usize,
    /// CloudSuite purchase orders.
    #[arg(long, default_value_t = 1000)]
    pos: usize,
    /// Lines per purchase order.
    #[arg(long, default_value_t = 5)]
    lines: usize,
    /// CloudSuite A/P vouchers (supplier invoices); the simulator puts half on a PO.
    #[arg(long, default_value_t = 1000)]
    invoices: usize,
    /// Cin7 calls per minute (server limit and client limiter).
    #[arg(long, default_value_t = 60)]
    limit: u32,
    /// Run on the system clock instead of the virtual one (raise `--limit` to compress time).
    #[arg(long)]
    real_clock: bool,
    /// Divide every size by this for the second idle run (O(1) check).
    #[arg(long, default_value_t = 10)]
    small_factor: usize,
    /// Run the return direction (Cin7 purchases back to CloudSuite over IDO updates) after
    /// the forward streams, as the runner does with a `[returns]` section; its calls are
    /// listed on their own line and count against the same minimum (it should add none but
    /// its list pages).
    #[arg(long)]
    returns: bool,
}

impl SyncArgs {
    fn scaled(&self, factor: usize) -> SyncArgs {
        let f = factor.max(1);
        SyncArgs {
            suppliers: (self.suppliers / f).max(1),
            pos: (self.pos / f).max(1),
            invoices: (self.invoices / f).max(1),
            ..self.clone()
        }
    }
}

const TENANT: &str = "SIM_TST";

type Counts = BTreeMap<String, u64>;

/// Calls per endpoint seen by both simulators, snapshotted when each stream starts and ends.
#[derive(Default)]
struct Ledger {
    /// (stream, cin7 calls, ion calls) per window, as differences.
    per_stream: Vec<(String, Counts, Counts)>,
    open: Option<(String, Counts, Counts)>,
}

fn diff(after: &Counts, before: &Counts) -> Counts {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

struct World {
    ion: Arc<IonSimulator>,
    cin7: Arc<Cin7Simulator>,
    clock: SharedClock,
    manual: Option<ManualClock>,
    store: Arc<dyn SyncStore>,
    ion_client: IonClient,
    cin7_client: cin7_core_client::Cin7Client,
    ledger: Arc<Mutex<Ledger>>,
    returns: bool,
    _dir: TempDir,
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "cin7-bench-{label}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let _ = std::fs::create_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cin7_calls(cin7: &Cin7Simulator) -> Counts {
    cin7.state().calls
}

async fn world(args: &SyncArgs, seed: u64) -> Result<World, Box<dyn std::error::Error>> {
    world_with_faults(args, seed, None).await
}

/// A world whose Cin7 simulator asks `faults` before answering each call.
async fn world_with_faults(
    args: &SyncArgs,
    seed: u64,
    faults: Option<Arc<FaultPlan>>,
) -> Result<World, Box<dyn std::error::Error>> {
    let (clock, manual) = if args.real_clock {
        (SystemClock::shared(), None)
    } else {
        let manual = ManualClock::new(chrono::Utc::now());
        (manual.shared(), Some(manual))
    };
    let ion = IonSimulator::start(IonConfig {
        tenant: TENANT.to_owned(),
        seed: Seed {
            seed,
            suppliers: args.suppliers,
            purchase_orders: args.pos,
            lines_per_order: args.lines,
            invoices: args.invoices,
            payments: 0,
            customers: 0,
            items: 25,
            ..Seed::default()
        },
        clock: clock.clone(),
        ..IonConfig::default()
    })
    .await?;
    let account = format!("5a1e0c7e-51a0-4c1d-9c0e-{seed:012x}");
    let mut cin7_config = Cin7Config::new(
        account,
        cin7_core_client::simulator::DEFAULT_APPLICATION_KEY,
    )
    .with_clock(clock.clone())
    .with_rate_limit(SimRateLimit::new(args.limit, Duration::from_secs(60)))
    .with_seed(seed);
    if let Some(faults) = faults {
        cin7_config = cin7_config.with_faults(faults);
    }
    let cin7 = Cin7Simulator::start(cin7_config).await?;
    let ion_client = IonClient::builder(ion.ionapi()?)
        .clock(clock.clone())
        .build()?;
    let cin7_client = cin7
        .client_builder()
        .rate_limit(RateLimit::new(args.limit, Duration::from_secs(60))?)
        .retry_policy(
            RetryPolicy::default()
                .with_max_retries(6)
                .with_delays(Duration::from_millis(20), Duration::from_millis(400)),
        )
        .build()?;
    let dir = TempDir::new("sync");
    let store: Arc<dyn SyncStore> =
        Arc::new(SqliteStore::open(dir.0.join("sync.sqlite"), clock.clone()).await?);
    Ok(World {
        ion: Arc::new(ion),
        cin7: Arc::new(cin7),
        clock,
        manual,
        store,
        ion_client,
        cin7_client,
        ledger: Arc::new(Mutex::new(Ledger::default())),
        returns: args.returns,
        _dir: dir,
    })
}

impl World {
    fn progress(&self) -> ProgressFn {
        let ledger = self.ledger.clone();
        let ion = self.ion.clone();
        let cin7 = self.cin7.clone();
        Arc::new(move |event: &ProgressEvent| {
            let mut ledger = match ledger.lock() {
                Ok(l) => l,
                Err(poisoned) => poisoned.into_inner(),
            };
            match event {
                ProgressEvent::WindowStarted { stream, .. } => {
                    ledger.open = Some((stream.to_string(), cin7_calls(&cin7), ion.calls()));
                }
                ProgressEvent::WindowFinished { .. } => {
                    if let Some((stream, c, i)) = ledger.open.take() {
                        let c = diff(&cin7_calls(&cin7), &c);
                        let i = diff(&ion.calls(), &i);
                        ledger.per_stream.push((stream, c, i));
                    }
                }
                ProgressEvent::Record { .. } => {}
            }
        })
    }

    /// The sync as the `sync` binary wires it, over this world's simulators and store.
    fn assembled(&self) -> Result<Assembled, Box<dyn std::error::Error>> {
        let parts = Parts {
            tenant: TENANT.to_owned(),
            source: CloudSuiteSource::csi(self.ion_client.csi(self.ion.mongoose_config()), "MAIN")
                .default_currency("USD"),
            target: std::sync::Arc::new(Cin7Target::new(self.cin7_client.clone())),
            streams: if self.returns {
                examples::assemble::Stream::ALL.to_vec()
            } else {
                examples::assemble::Stream::FORWARD.to_vec()
            },
            returns: self.returns.then(|| {
                examples::demo::return_parts(&self.ion_client, &self.ion, &self.cin7_client)
            }),
            store: self.store.clone(),
            clock: self.clock.clone(),
            mappings: mappings(true),
            engine: EngineConfig {
                safety_lag: chrono::Duration::seconds(1),
                ..EngineConfig::default()
            },
            progress: Some(self.progress()),
        };
        Ok(assemble(parts)?)
    }

    /// One run of every stream; returns the summaries, the per-stream call ledger and the
    /// Cin7/ION call totals of the whole run (GL accounts included, which report no window).
    async fn run(&self) -> Result<RunFigures, Box<dyn std::error::Error>> {
        if let Ok(mut l) = self.ledger.lock() {
            *l = Ledger::default();
        }
        let sync = self.assembled()?;
        let cin7_before = cin7_calls(&self.cin7);
        let ion_before = self.ion.calls();
        let throttled_before = self.cin7.throttled();
        let slept_before = self.manual.as_ref().map(|m| m.total_slept());
        let virtual_start = self.clock.now();
        let real_start = Instant::now();
        let report = sync.runner.run_once(None).await;
        let real = real_start.elapsed();
        let virtual_elapsed = (self.clock.now() - virtual_start)
            .to_std()
            .unwrap_or_default();
        let summaries = summarize(self.store.as_ref(), TENANT, &report).await?;
        for stream in &report.streams {
            if let Err(e) = &stream.result {
                eprintln!("stream {} failed: {e}", stream.stream);
            }
        }
        let ledger = match self.ledger.lock() {
            Ok(l) => l.per_stream.clone(),
            Err(p) => p.into_inner().per_stream.clone(),
        };
        Ok(RunFigures {
            summaries,
            per_stream: ledger,
            cin7: diff(&cin7_calls(&self.cin7), &cin7_before),
            ion: diff(&self.ion.calls(), &ion_before),
            throttled: self.cin7.throttled() - throttled_before,
            real,
            virtual_elapsed,
            slept: match (self.manual.as_ref(), slept_before) {
                (Some(m), Some(before)) => m.total_slept().saturating_sub(before),
                _ => Duration::ZERO,
            },
        })
    }
}

struct RunFigures {
    summaries: Vec<StreamSummary>,
    per_stream: Vec<(String, Counts, Counts)>,
    cin7: Counts,
    ion: Counts,
    throttled: u64,
    real: Duration,
    virtual_elapsed: Duration,
    slept: Duration,
}

fn total(counts: &Counts) -> u64 {
    counts.values().sum()
}

fn fmt_counts(counts: &Counts) -> String {
    if counts.is_empty() {
        return "—".into();
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The theoretical minimum of Cin7 calls for what a run created and changed:
/// - a supplier created or updated: one `POST`/`PUT /supplier`;
/// - a purchase order created: `POST /advanced-purchase` (header) + `POST /purchase/order`;
/// - a supplier invoice on a PO created by the run: `POST /advanced-purchase/invoice`;
///   without a PO: header + order + invoice (Cin7 takes an invoice only on an authorised
///   order, so an invoice-first purchase needs its order step);
/// - list pages: the supplier index (`ceil(suppliers in Cin7 / 1000)`, at least one) and the
///   chart of accounts (one page).
fn minimum(first: &[StreamSummary], cin7_suppliers_before: u64, invoices_on_po: usize) -> Counts {
    let get = |name: &str| {
        first
            .iter()
            .find(|s| s.stream == name)
            .cloned()
            .unwrap_or_default()
    };
    let s = get("suppliers");
    let p = get("purchase_orders");
    let i = get("supplier_invoices");
    let mut m = Counts::new();
    m.insert("GET /ref/account (chart)".into(), 1);
    m.insert(
        "GET /supplier (index pages)".into(),
        cin7_suppliers_before.div_ceil(1000).max(1),
    );
    m.insert("supplier writes".into(), (s.created + s.updated) as u64);
    m.insert("PO header writes".into(), p.created as u64);
    m.insert("PO order writes".into(), (p.created + p.updated) as u64);
    let invoices = i.created + i.updated;
    let without_po = invoices.saturating_sub(invoices_on_po);
    m.insert("invoice headers (no PO)".into(), without_po as u64);
    m.insert("invoice order writes (no PO)".into(), without_po as u64);
    m.insert("invoice writes".into(), invoices as u64);
    m
}

fn print_summaries(title: &str, rows: &[StreamSummary]) {
    println!("\n{title}\n");
    println!("| stream | read | created | updated | matched | skipped | failed | deferred |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for s in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.stream, s.read, s.created, s.updated, s.matched, s.skipped, s.failed, s.deferred
        );
    }
}

fn print_ledger(title: &str, run: &RunFigures) {
    println!("\n{title}\n");
    println!("| stream | Cin7 calls | Cin7 by endpoint | ION calls | ION by endpoint |");
    println!("|---|---:|---|---:|---|");
    let mut seen_cin7 = Counts::new();
    let mut seen_ion = Counts::new();
    for (stream, c, i) in &run.per_stream {
        println!(
            "| {stream} | {} | {} | {} | {} |",
            total(c),
            fmt_counts(c),
            total(i),
            fmt_counts(i)
        );
        for (k, v) in c {
            *seen_cin7.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in i {
            *seen_ion.entry(k.clone()).or_insert(0) += v;
        }
    }
    let rest_c = diff(&run.cin7, &seen_cin7);
    let rest_i = diff(&run.ion, &seen_ion);
    println!(
        "| outside windows (server-time probes, token) | {} | {} | {} | {} |",
        total(&rest_c),
        fmt_counts(&rest_c),
        total(&rest_i),
        fmt_counts(&rest_i)
    );
    println!(
        "| **total** | **{}** | | **{}** | |",
        total(&run.cin7),
        total(&run.ion)
    );
}

async fn economy(args: SyncArgs) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "# API-call economy and rate budget\n\nseed data: {} suppliers, {} POs × {} lines, {} vouchers; Cin7 limit {} calls/min; clock: {}",
        args.suppliers,
        args.pos,
        args.lines,
        args.invoices,
        args.limit,
        if args.real_clock {
            "system"
        } else {
            "virtual (ManualClock)"
        }
    );
    let w = world(&args, 11).await?;
    let invoices_on_po = {
        let data = w.ion.data();
        data.rows("SLAptrxs")
            .iter()
            .filter(|r| {
                r.values
                    .get("PoNum")
                    .and_then(|v| v.as_deref())
                    .is_some_and(|v| !v.is_empty())
            })
            .count()
    };
    let suppliers_before = w.cin7.state().suppliers.len() as u64;
    let first = w.run().await?;
    print_summaries("## Full run: records", &first.summaries);
    print_ledger("## Full run: calls per stream and endpoint", &first);
    let min = minimum(&first.summaries, suppliers_before, invoices_on_po);
    let min_total = total(&min);
    let made = total(&first.cin7);
    println!("\n## Full run: against the minimum\n");
    println!("| minimum part | calls |\n|---|---:|");
    for (k, v) in &min {
        println!("| {k} | {v} |");
    }
    println!("| **minimum** | **{min_total}** |");
    println!("| **made** | **{made}** |");
    println!(
        "| **ratio made / minimum** | **{:.3}** (target ≤ 1.05) |",
        made as f64 / min_total.max(1) as f64
    );

    // Rate budget and wall time against the bound.
    let per_sec = f64::from(args.limit) / 60.0;
    let bound = min_total as f64 / per_sec;
    let timed = if args.real_clock {
        first.real
    } else {
        first.virtual_elapsed
    };
    let achieved = made as f64 / timed.as_secs_f64().max(1e-9) * 60.0;
    println!("\n## Full run: rate budget and time against the bound\n");
    println!("| figure | value |\n|---|---:|");
    println!("| Cin7 calls made | {made} |");
    println!("| throttled responses (429) | {} |", first.throttled);
    println!(
        "| sync time ({}) | {:.1} s |",
        if args.real_clock { "wall" } else { "virtual" },
        timed.as_secs_f64()
    );
    if !args.real_clock {
        println!(
            "| of which rate-limiter waits | {:.1} s |",
            first.slept.as_secs_f64()
        );
        println!(
            "| real time of the run (CPU, local HTTP, SQLite) | {:.1} s |",
            first.real.as_secs_f64()
        );
    }
    println!("| achieved call rate | {achieved:.2} calls/min |");
    println!(
        "| fraction of the limit | **{:.1} %** (target ≥ 95 %) |",
        achieved / f64::from(args.limit) * 100.0
    );
    println!("| bound: minimum calls ÷ rate | {bound:.1} s |");
    println!(
        "| time / bound | **{:.3}** (target ≤ 1.1) |",
        timed.as_secs_f64() / bound.max(1e-9)
    );
    if !args.real_clock {
        println!(
            "| (virtual + real time) / bound, an upper bound for a real-clock run | {:.3} |",
            (timed + first.real).as_secs_f64() / bound.max(1e-9)
        );
    }

    // Idle incremental runs at two sizes.
    let idle = |w: &World| {
        if let Some(m) = &w.manual {
            m.advance(Duration::from_secs(600));
        }
    };
    idle(&w);
    let second = w.run().await?;
    drop(w);
    let small_args = args.scaled(args.small_factor);
    let ws = world(&small_args, 12).await?;
    let _ = ws.run().await?;
    idle(&ws);
    let small_second = ws.run().await?;
    println!("\n## Idle incremental run (no changes): calls per stream\n");
    println!(
        "| stream | Cin7 calls, {} suppliers | ION calls, {} suppliers | Cin7 calls, {} suppliers | ION calls, {} suppliers |",
        args.suppliers, args.suppliers, small_args.suppliers, small_args.suppliers
    );
    println!("|---|---:|---:|---:|---:|");
    for (stream, c, i) in &second.per_stream {
        let small = small_second.per_stream.iter().find(|(s, _, _)| s == stream);
        println!(
            "| {stream} | {} | {} | {} | {} |",
            total(c),
            total(i),
            small.map(|(_, c, _)| total(c)).unwrap_or(0),
            small.map(|(_, _, i)| total(i)).unwrap_or(0)
        );
    }
    println!(
        "| total (incl. GL accounts, tokens) | {} | {} | {} | {} |",
        total(&second.cin7),
        total(&second.ion),
        total(&small_second.cin7),
        total(&small_second.ion)
    );
    println!("\nidle run, large, Cin7: {}", fmt_counts(&second.cin7));
    println!("idle run, large, ION: {}", fmt_counts(&second.ion));
    println!("idle run, small, Cin7: {}", fmt_counts(&small_second.cin7));
    println!("idle run, small, ION: {}", fmt_counts(&small_second.ion));
    println!("\nreal time: full run {:.1} s", first.real.as_secs_f64());
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    match cli.command {
        Command::Economy(args) => economy(args).await,
        Command::Cpu { records } => cpu::run(records).await,
        Command::Memory { records } => memory::run(records).await,
        Command::Parse { rows, reps } => parse::run(rows, reps),
        Command::Recovery(args) => recovery::run(args).await,
        Command::Latency(args) => latency::run(args).await,
        Command::Fleet(args) => fleet::run(args).await,
    }
}
