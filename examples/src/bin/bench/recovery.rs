//! Recovery economy (issue 18): Cin7 calls spent recovering ÷ records recovered.
//!
//! Three scenarios over the same seeded data, each compared with a *reference* world that syncs
//! the same data without any fault (its Cin7 calls are the minimum, see `economy`):
//!
//! - **retry**: a fraction of Cin7 writes land but their answer is lost (the simulator applies
//!   the call, then drops the connection); the next scheduled run retries the failed records on
//!   its own;
//! - **replay**: the same faulty run, then `replay` of every open entry instead of a run;
//! - **crash**: runs aborted (the future dropped, as a SIGKILL leaves the store) as soon as Cin7
//!   has served the next few writes, at spread points of the whole sync, then one run to the
//!   end.
//!
//! *Extra calls* = the scenario's Cin7 calls − the reference's, not counting reads of Cin7's
//! chart of accounts (`GET /ref/account`): the GL stream reads it when CloudSuite's chart
//! changed or once an hour, whatever else happens, so how many a scenario makes depends on how
//! much virtual time its runs span, not on recovery. *Records recovered* =
//! distinct records that had an open entry of unknown outcome (a write that may have landed)
//! when a run or replay started, and ended succeeded.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sync_core::faults::{Fault, FaultPlan};
use sync_core::replay::ReplayMode;
use sync_core::store::{AuditEntry, AuditQuery, AuditStatus};

use super::{
    Counts, SyncArgs, TENANT, World, cin7_calls, diff, fmt_counts, total, world_with_faults,
};
use examples::assemble::ReplayTarget;

/// Arguments of `bench recovery`.
#[derive(clap::Args, Clone)]
pub struct RecoveryArgs {
    /// CloudSuite suppliers.
    #[arg(long, default_value_t = 200)]
    suppliers: usize,
    /// CloudSuite purchase orders.
    #[arg(long, default_value_t = 100)]
    pos: usize,
    /// CloudSuite A/P vouchers.
    #[arg(long, default_value_t = 100)]
    invoices: usize,
    /// Fraction of Cin7 writes whose answer is lost after they were applied.
    #[arg(long, default_value_t = 0.1)]
    loss: f64,
    /// Aborted runs in the crash scenario.
    #[arg(long, default_value_t = 20)]
    crashes: usize,
}

impl RecoveryArgs {
    fn sync_args(&self) -> SyncArgs {
        SyncArgs {
            suppliers: self.suppliers,
            pos: self.pos,
            lines: 3,
            invoices: self.invoices,
            limit: 6000,
            real_clock: false,
            small_factor: 1,
            returns: false,
        }
    }
}

const SEED: u64 = 18;

/// The Cin7 writes of a forward sync, as the simulator names them.
const WRITES: [&str; 5] = [
    "POST /supplier",
    "PUT /supplier",
    "POST /advanced-purchase",
    "POST /purchase/order",
    "POST /advanced-purchase/invoice",
];

fn writes(counts: &Counts) -> u64 {
    WRITES
        .iter()
        .map(|w| counts.get(*w).copied().unwrap_or(0))
        .sum()
}

/// The tenant's open entries now (failed, pending, deferred, conflict).
async fn open_entries(w: &World) -> Result<Vec<AuditEntry>, Box<dyn std::error::Error>> {
    Ok(w.store
        .query(&AuditQuery::tenant(TENANT).statuses(&AuditStatus::OPEN))
        .await?)
}

fn record_of(e: &AuditEntry) -> (String, String) {
    (e.stream.to_string(), e.source.id.clone())
}

/// Records with an open entry of unknown outcome now.
async fn uncertain(w: &World) -> Result<BTreeSet<(String, String)>, Box<dyn std::error::Error>> {
    let open = open_entries(w).await?;
    Ok(open
        .iter()
        .filter(|e| e.outcome_unknown())
        .map(record_of)
        .collect())
}

/// Of `records`, those with no open entry any more.
async fn succeeded(
    w: &World,
    records: &BTreeSet<(String, String)>,
) -> Result<usize, Box<dyn std::error::Error>> {
    let still_open: BTreeSet<_> = open_entries(w).await?.iter().map(record_of).collect();
    Ok(records.iter().filter(|r| !still_open.contains(r)).count())
}

async fn open_count(w: &World) -> Result<usize, Box<dyn std::error::Error>> {
    Ok(open_entries(w).await?.len())
}

fn lossy_plan(loss: f64) -> Arc<FaultPlan> {
    let mut plan = FaultPlan::seeded(SEED);
    for write in WRITES {
        plan = plan.rule(Some(write), loss, Fault::ResetAfterApply);
    }
    Arc::new(plan)
}

struct Figures {
    scenario: &'static str,
    calls: Counts,
    runs: usize,
    recovered: usize,
    uncertain: usize,
    /// Writes whose answer was lost (retry, replay), or kills (crash).
    lost: usize,
    open_at_end: usize,
}

/// Let the automatic retry's backoff (1 minute, doubling) pass between runs.
fn wait_for_retry(w: &World) {
    if let Some(m) = &w.manual {
        m.advance(Duration::from_secs(3600));
    }
}

async fn lost_answers(
    args: &RecoveryArgs,
    replay: bool,
) -> Result<Figures, Box<dyn std::error::Error>> {
    let plan = lossy_plan(args.loss);
    let w = world_with_faults(&args.sync_args(), SEED, Some(plan.clone())).await?;
    let before = cin7_calls(&w.cin7);
    let first = w.run().await?;
    if std::env::var_os("RECOVERY_LEDGER").is_some() {
        super::print_ledger("first run", &first);
    }
    plan.set_paused(true);
    let mut runs = 1;
    let mut seen = BTreeSet::new();
    // Until nothing is open any more (or a bound, reported by `recovered < uncertain`).
    for _ in 0..5 {
        if open_count(&w).await? == 0 {
            break;
        }
        seen.extend(uncertain(&w).await?);
        wait_for_retry(&w);
        if replay {
            w.assembled()?
                .replay(&ReplayTarget::All, ReplayMode::Refetch)
                .await?;
        } else {
            let again = w.run().await?;
            if std::env::var_os("RECOVERY_LEDGER").is_some() {
                super::print_ledger("next run", &again);
            }
        }
        runs += 1;
    }
    let lost = plan.injected().values().sum::<u64>() as usize;
    Ok(Figures {
        scenario: if replay { "replay" } else { "retry" },
        calls: diff(&cin7_calls(&w.cin7), &before),
        runs,
        recovered: succeeded(&w, &seen).await?,
        uncertain: seen.len(),
        lost,
        open_at_end: open_count(&w).await?,
    })
}

async fn crashes(
    args: &RecoveryArgs,
    reference: u64,
) -> Result<Figures, Box<dyn std::error::Error>> {
    let w = world_with_faults(&args.sync_args(), SEED, None).await?;
    let before = cin7_calls(&w.cin7);
    let step = (reference / (args.crashes as u64 + 2)).max(1);
    let mut seen = BTreeSet::new();
    let mut runs = 0;
    for _ in 0..args.crashes {
        let target = writes(&cin7_calls(&w.cin7)) + step;
        let sync = w.assembled()?;
        let run = tokio::spawn(async move {
            let _ = sync.runner.run_once(None).await;
        });
        while !run.is_finished() && writes(&cin7_calls(&w.cin7)) < target {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        run.abort();
        let _ = run.await;
        runs += 1;
        seen.extend(uncertain(&w).await?);
    }
    w.run().await?;
    runs += 1;
    Ok(Figures {
        scenario: "crash",
        calls: diff(&cin7_calls(&w.cin7), &before),
        runs,
        recovered: succeeded(&w, &seen).await?,
        uncertain: seen.len(),
        lost: args.crashes,
        open_at_end: open_count(&w).await?,
    })
}

/// `bench recovery`.
pub async fn run(args: RecoveryArgs) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "# Recovery economy\n\nseed data: {} suppliers, {} POs × 3 lines, {} vouchers; lost answers: {:.0} % of writes; crashes: {}",
        args.suppliers,
        args.pos,
        args.invoices,
        args.loss * 100.0,
        args.crashes
    );
    let reference = world_with_faults(&args.sync_args(), SEED, None).await?;
    let full = reference.run().await?;
    wait_for_retry(&reference);
    let idle = reference.run().await?;
    let reference_calls = full.cin7;
    println!(
        "\nreference (no fault): {} Cin7 calls ({}); an idle run: {} ({})",
        total(&reference_calls),
        fmt_counts(&reference_calls),
        total(&idle.cin7),
        fmt_counts(&idle.cin7)
    );
    let results = vec![
        lost_answers(&args, false).await?,
        lost_answers(&args, true).await?,
        crashes(&args, writes(&reference_calls)).await?,
    ];
    println!(
        "\n| scenario | runs | lost answers / kills | records uncertain at a restart, recovered | open at the end | extra Cin7 calls | extra by endpoint | **extra per lost answer / kill** | extra per uncertain record |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|---:|---:|");
    for f in results {
        let mut extra_counts = diff(&f.calls, &reference_calls);
        extra_counts.retain(|endpoint, _| !endpoint.contains("/ref/account"));
        let extra = total(&extra_counts);
        println!(
            "| {} | {} | {} | {} / {} | {} | {} | {} | **{:.2}** | {:.2} |",
            f.scenario,
            f.runs,
            f.lost,
            f.recovered,
            f.uncertain,
            f.open_at_end,
            extra,
            fmt_counts(&extra_counts),
            extra as f64 / f.lost.max(1) as f64,
            extra as f64 / f.recovered.max(1) as f64
        );
    }
    Ok(())
}
