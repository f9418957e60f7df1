//! `sync`: the real runner. One tenant, configured by a TOML file, run once or on a schedule.
//!
//! ```sh
//! export CIN7_APPLICATION_KEY=...            # named by [cin7] application_key_env
//! cargo run -p examples --bin sync -- --config sync.toml --check
//! cargo run -p examples --bin sync -- --config sync.toml --once
//! cargo run -p examples --bin sync -- --config sync.toml          # on [schedule] until Ctrl-C
//! ```
//!
//! With a `[returns]` section the runner also carries Cin7 purchases back to CloudSuite (stream
//! `purchase_returns`, same store and audit trail); with a `[webhooks]` section the scheduled
//! runner serves the webhook intake and handles each queued delivery at once, between runs.
//!
//! Exit codes: 0 every stream committed and no record failed (or a scheduled runner stopped
//! cleanly); 1 a run finished but a stream window failed or records failed, conflicted or
//! were interrupted (see the summary; replay them with `replay`); 2 the command line or the
//! configuration is wrong (nothing ran); 3 the store or a client could not be set up.
//! See docs/runner.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use examples::config::{Config, ConfigError, Wired, wire};
use examples::ion_push::start_push_intake;
use examples::logging::LogFormat;
use examples::ping::{Check, Mark};
use examples::summary::{summarize, table};
use examples::webhooks::start_intake;
use sync_core::engine::returns::triggers::TriggerReport;
use sync_core::error::SyncError;
use sync_core::runner::{RunReport, Shutdown, ShutdownSignal};
use sync_core::schedule::{Cadence, Schedule};
use sync_core::time::{SharedClock, SystemClock};

/// Sync one CloudSuite tenant into Cin7 Core, as configured in a TOML file (see
/// docs/runner.md and examples/data/sync.example.toml).
///
/// Without --once, runs on the file's [schedule] until Ctrl-C (or SIGTERM): the record in
/// flight finishes, the window's audit rows are committed without moving its cursor, and the
/// runner exits 0. Secrets come only from environment variables and the ION vault; none is
/// ever printed.
#[derive(Parser)]
#[command(name = "sync", version)]
struct Cli {
    /// The TOML configuration file.
    #[arg(
        long,
        short,
        env = "SYNC_CONFIG",
        required_unless_present = "tenants",
        conflicts_with = "tenants"
    )]
    config: Option<PathBuf>,
    /// Serve every tenant of this directory (one TOML file each, starting from
    /// `defaults.toml`) with one pool of workers: a fleet (docs/operations.md). With a
    /// PostgreSQL store, run this on as many hosts as you like.
    #[arg(long)]
    tenants: Option<PathBuf>,
    /// Fleet: how many jobs this process runs at once.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Fleet: this process's name in the store's leases (unique per process; default
    /// host-pid).
    #[arg(long)]
    worker_name: Option<String>,
    /// Fleet: how often the tenant directory is read again.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    reload_every: std::time::Duration,
    /// Run one pass of every configured stream, print the summary and exit.
    #[arg(long)]
    once: bool,
    /// Validate the configuration and check that the secrets and files it names are there,
    /// then exit without connecting to anything.
    #[arg(long, conflicts_with = "tenants")]
    check: bool,
    /// Read everything but write nothing to Cin7 (overrides `dry_run` in the file). The real
    /// store is not touched either: the run uses a throwaway in-memory store.
    #[arg(long, conflicts_with = "tenants")]
    dry_run: bool,
    /// Log filter (tracing's EnvFilter syntax, e.g. `info`, `sync_core=debug`); RUST_LOG wins.
    #[arg(long, default_value = "info")]
    log: String,
    /// Log lines as `text` or `json` (one object per line, with the tenant, stream and run of
    /// its spans).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Serve Prometheus metrics (`/metrics`), liveness (`/healthz`) and readiness (`/readyz`)
    /// on this address, e.g. `127.0.0.1:9464` (docs/operations.md, "Metrics").
    #[arg(long)]
    metrics_listen: Option<std::net::SocketAddr>,
    /// What makes `--once` exit 1: `open` (the tenant has failed or conflicting records,
    /// from this run or an earlier one), `run` (this run had failures or conflicts) or `never`
    /// (only setup errors fail).
    #[arg(long, value_enum, default_value_t = FailOn::Open, conflicts_with = "tenants")]
    fail_on: FailOn,
}

/// What makes `sync --once` exit 1 (see `--fail-on`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    /// Records open in the tenant, from any run.
    Open,
    /// Failures or conflicts of this run.
    Run,
    /// Nothing but setup errors.
    Never,
}

/// Exit code: a run finished with failures.
const FAILURES: u8 = 1;
/// Exit code: bad command line or configuration.
const BAD_CONFIG: u8 = 2;
/// Exit code: the store or a client could not be set up.
const SETUP: u8 = 3;

fn exit_code(error: &ConfigError) -> u8 {
    match error {
        ConfigError::Client(_) | ConfigError::Store(_) | ConfigError::Sync(_) => SETUP,
        _ => BAD_CONFIG,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    examples::logging::init_as(&cli.log, cli.log_format);
    let config_path = match (&cli.tenants, &cli.config) {
        (Some(dir), _) => return run_fleet(&cli, dir).await,
        (None, Some(path)) => path.clone(),
        // clap requires one of the two.
        (None, None) => return ExitCode::from(BAD_CONFIG),
    };

    let mut config = match Config::load(&config_path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {}", sdk_common::report::chain(&error));
            return ExitCode::from(BAD_CONFIG);
        }
    };
    config.dry_run |= cli.dry_run;
    if let Err(error) = config.check_environment() {
        eprintln!("error: {}", sdk_common::report::chain(&error));
        return ExitCode::from(exit_code(&error));
    }
    if cli.check {
        println!("{}: the configuration is valid.", config_path.display());
        println!("  tenant:   {}", config.tenant);
        println!(
            "  streams:  {}",
            config
                .streams
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "  routes:   {}",
            config
                .streams
                .iter()
                .filter(|s| examples::config::Stream::FORWARD.contains(s))
                .map(|s| format!("{s} {}", config.ion.route_name(*s)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!("  schedule: {:?}", config.schedule);
        println!("  dry run:  {}", config.dry_run);
        return ExitCode::SUCCESS;
    }

    let clock = SystemClock::shared();
    let wired = match wire(&config, clock.clone(), None).await {
        Ok(wired) => wired,
        Err(error) => {
            eprintln!("error: {}", sdk_common::report::chain(&error));
            return ExitCode::from(exit_code(&error));
        }
    };
    if config.dry_run {
        println!(
            "DRY RUN: reading everything from CloudSuite, writing nothing to Cin7 and nothing to the store."
        );
    }

    // Prove the fit before the first write: an IDO that cannot be read or lacks a required
    // property stops everything here, with the same rows `ping` prints.
    let fit = examples::fit::start_checks(&wired, &config).await;
    if fit.iter().any(|c| !c.passed()) {
        println!("The tenant does not fit the configured sync; nothing was written:");
        examples::ping::report(&fit);
        return ExitCode::from(FAILURES);
    }
    let differences: Vec<Check> = fit.into_iter().filter(|c| c.mark == Mark::Warn).collect();

    let (shutdown, signal) = Shutdown::new();
    let shutdown = std::sync::Arc::new(shutdown);
    tokio::spawn(stop_on_signals(shutdown.clone()));
    let tenant = config.tenant.clone();
    let tenants: examples::observability::TenantList =
        std::sync::Arc::new(move || vec![tenant.clone()]);
    if let Err(message) = serve_metrics(
        &cli,
        wired.store.clone(),
        tenants,
        clock.clone(),
        signal.clone(),
    )
    .await
    {
        eprintln!("error: {message}");
        return ExitCode::from(SETUP);
    }

    let once = cli.once || matches!(config.schedule, Cadence::OnDemand);
    if once {
        let report = wired.runner.run_once(Some(&signal)).await;
        return match print_summary(&wired, &config, &cli, &report, &differences).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(FAILURES),
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(SETUP)
            }
        };
    }
    let intake = match &config.webhooks {
        Some(_) => match start_intake(&config, &wired, clock.clone(), signal.clone()).await {
            Ok(intake) => {
                println!("webhook intake listening on {}", intake.local_addr());
                Some(intake)
            }
            Err(error) => {
                eprintln!("error: {}", sdk_common::report::chain(&error));
                return ExitCode::from(exit_code(&error));
            }
        },
        None => None,
    };
    let push_intake = match &config.ion_push {
        Some(_) => match start_push_intake(&config, &wired, clock.clone(), signal.clone()).await {
            Ok(intake) => {
                let scheme = match config.ion_push.as_ref().and_then(|p| p.tls.as_ref()) {
                    Some(_) => "https",
                    None => "http",
                };
                println!(
                    "ION push intake listening on {} ({scheme}://…/ion/service/v3/multipartMessage)",
                    intake.local_addr()
                );
                Some(intake)
            }
            Err(error) => {
                eprintln!("error: {}", sdk_common::report::chain(&error));
                return ExitCode::from(exit_code(&error));
            }
        },
        None => None,
    };
    let result = run_scheduled(&wired, &config, &cli, &clock, &signal, &differences).await;
    // However the runs ended (a setup error too), the intakes stop with them.
    shutdown.trigger();
    if let Some(intake) = push_intake
        && let Err(error) = intake.stopped().await
    {
        tracing::warn!(%error, "the ION push intake stopped with an error");
    }
    if let Some(intake) = intake
        && let Err(error) = intake.stopped().await
    {
        tracing::warn!(%error, "the webhook intake stopped with an error");
    }
    match result {
        Ok(runs) => {
            println!("stopped after {runs} run(s).");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(SETUP)
        }
    }
}

/// `--tenants DIR`: a fleet. With `--once`, every due job runs once (each tenant's streams,
/// as many windows as a backlog needs) and the exit code says whether all committed;
/// otherwise the fleet serves until Ctrl-C or SIGTERM, then each worker finishes the record
/// in flight, commits and releases its job for another process to go on with.
async fn run_fleet(cli: &Cli, dir: &std::path::Path) -> ExitCode {
    use examples::fleet::TenantFleet;
    let clock = SystemClock::shared();
    let worker = cli.worker_name.clone().unwrap_or_else(|| {
        // The kernel's host name (HOSTNAME is a shell variable, often not exported), the pid
        // and the start instant: two processes never share a name, even on cloned hosts.
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("{host}-{}-{started:08x}", std::process::id())
    });
    let (fleet, loaded) = match TenantFleet::open(dir, &worker, clock.clone()).await {
        Ok(opened) => opened,
        Err(error) => {
            eprintln!("error: {}", sdk_common::report::chain(&error));
            return ExitCode::from(exit_code(&error));
        }
    };
    for (path, why) in &loaded.refused {
        eprintln!("skipped {}: {why}", path.display());
    }
    println!(
        "fleet of {} tenant(s) from {} as worker {worker}: {}",
        loaded.put.len(),
        dir.display(),
        loaded.put.join(", ")
    );
    let (shutdown, signal) = Shutdown::new();
    let shutdown = std::sync::Arc::new(shutdown);
    tokio::spawn(stop_on_signals(shutdown.clone()));
    let served = fleet.fleet().clone();
    let tenants: examples::observability::TenantList =
        std::sync::Arc::new(move || served.tenant_names());
    if let Err(message) = serve_metrics(cli, fleet.store(), tenants, clock, signal.clone()).await {
        eprintln!("error: {message}");
        return ExitCode::from(SETUP);
    }
    if !cli.once {
        fleet.run(cli.workers, cli.reload_every, signal).await;
        println!("fleet stopped.");
        return ExitCode::SUCCESS;
    }
    let mut failed = usize::from(!loaded.refused.is_empty());
    loop {
        let run = match fleet.fleet().run_one(&signal).await {
            Ok(Some(run)) => run,
            Ok(None) => break,
            Err(error) => {
                eprintln!("error: {}", sdk_common::report::chain(&error));
                return ExitCode::from(SETUP);
            }
        };
        let outcome = match &run.result {
            Some(Ok(report)) => {
                failed += usize::from(report.failed + report.conflicts > 0);
                format!(
                    "read {} written {} failed {} deferred {} conflicts {}{}",
                    report.read,
                    report.succeeded,
                    report.failed,
                    report.deferred,
                    report.conflicts,
                    if report.yielded { " (yielded)" } else { "" }
                )
            }
            Some(Err(error)) => {
                failed += 1;
                format!("FAILED: {error}")
            }
            None => "not served by this process".to_owned(),
        };
        println!("{:<20} {:<18} {outcome}", run.key.tenant, run.key.stream.0);
        if signal.is_triggered() {
            break;
        }
    }
    match failed {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(FAILURES),
    }
}

/// Ctrl-C or SIGTERM asks for a graceful stop; a second one exits at once.
async fn stop_on_signals(shutdown: std::sync::Arc<Shutdown>) {
    wait_for_signal().await;
    eprintln!(
        "stopping: finishing the record in flight and committing the window's audit rows (press Ctrl-C again to abort)"
    );
    shutdown.trigger();
    wait_for_signal().await;
    eprintln!("aborted");
    std::process::exit(130);
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Run on the schedule until shutdown. An interval cadence runs at once, then `every` after
/// each run ends; daily and weekly cadences wait for their first time. Between runs, queued
/// webhook triggers are handled as soon as the intake wakes the runner.
async fn run_scheduled(
    wired: &Wired,
    config: &Config,
    cli: &Cli,
    clock: &SharedClock,
    signal: &ShutdownSignal,
    differences: &[Check],
) -> Result<usize, String> {
    let schedule = Schedule::new(config.schedule.clone());
    let mut runs = 0;
    let mut run_now = matches!(config.schedule, Cadence::Interval(_));
    loop {
        if !run_now {
            match config.schedule.next_after(clock.now()) {
                Some(next) => println!(
                    "waiting for the next run at {} (Ctrl-C to stop)",
                    next.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                None => println!("waiting for the next run (Ctrl-C to stop)"),
            }
            let fired = wired
                .runner
                .wait_for_next_run(&schedule, signal, print_triggers)
                .await;
            match fired {
                Some(fired) => tracing::info!(?fired, "run starting"),
                None => break,
            }
        }
        run_now = false;
        let report = wired.runner.run_once(Some(signal)).await;
        runs += 1;
        print_summary(wired, config, cli, &report, differences).await?;
        if report.interrupted || signal.is_triggered() {
            break;
        }
    }
    Ok(runs)
}

/// Say what handling the queued triggers (Cin7 webhooks, ION pushes) did.
fn print_triggers(handled: Result<TriggerReport, SyncError>) {
    match handled {
        Ok(report) => println!(
            "queued triggers (webhooks, ION pushes): {} handled, {} record(s) synced, {} without a record",
            report.triggers, report.purchases, report.unresolved
        ),
        Err(error) => eprintln!("queued triggers failed (they stay queued): {error}"),
    }
}

/// Print the run's summary; `Ok(true)` when every stream committed and no record failed.
async fn print_summary(
    wired: &Wired,
    config: &Config,
    cli: &Cli,
    report: &RunReport,
    differences: &[Check],
) -> Result<bool, String> {
    let rows = summarize(wired.store.as_ref(), &config.tenant, report)
        .await
        .map_err(|e| format!("cannot read the run's audit entries: {e}"))?;
    println!("\nRun {} of tenant {}:", report.run_id, config.tenant);
    print!("{}", table(&rows));
    if !differences.is_empty() {
        println!("Tenant differences (the sync runs with them; see each fix):");
        for check in differences {
            println!("  {check}");
        }
    }
    // What the reads met and wrote with a default (e.g. an M3 supplier status that could not be
    // read or is not in the status map: written as Deprecated, never as active).
    let warnings = wired.source.take_warnings();
    if !warnings.is_empty() {
        println!("Warnings (the records were written as said; see each fix):");
        for warning in &warnings {
            println!("  ! {warning}");
        }
    }
    if report.interrupted {
        println!(
            "Interrupted: the record in flight finished and the window's audit rows were committed; its cursor did not move, so the next run reads the window again."
        );
    }
    if let Some(log) = &wired.dry_run {
        let writes = log.writes();
        println!(
            "DRY RUN: nothing was written to Cin7 (ids shown as dry-run-N are synthetic). {} write(s) would have been made:",
            writes.len()
        );
        for write in writes {
            println!("  would {write}");
        }
    }
    let run_clean = report.is_ok()
        && !report.interrupted
        && rows.iter().all(|r| r.failed == 0 && r.conflicts == 0);
    let open = examples::summary::open_records(
        wired.store.as_ref(),
        &config.tenant,
        &report.run_id,
        config.engine.retry,
    )
    .await
    .map_err(|e| format!("cannot read the open audit entries: {e}"))?;
    if open.total > 0 {
        println!(
            "{} record(s) open in tenant {} ({} from earlier runs{}): see them with `audit --store <store> --tenant {} list --status failed` (and `--status conflict`), retry them with `replay --config {}`.",
            open.total,
            config.tenant,
            open.earlier,
            if open.needs_attention > 0 {
                format!(", {} no longer retried on their own", open.needs_attention)
            } else {
                String::new()
            },
            config.tenant,
            cli.config
                .as_deref()
                .unwrap_or(std::path::Path::new("sync.toml"))
                .display()
        );
    }
    Ok(match cli.fail_on {
        FailOn::Open => run_clean && open.total == 0,
        FailOn::Run => run_clean,
        FailOn::Never => true,
    })
}

/// With `--metrics-listen`: install the recorder and serve the endpoints until `shutdown`.
async fn serve_metrics(
    cli: &Cli,
    store: std::sync::Arc<dyn sync_core::store::SyncStore>,
    tenants: examples::observability::TenantList,
    clock: SharedClock,
    shutdown: ShutdownSignal,
) -> Result<(), String> {
    let Some(listen) = cli.metrics_listen else {
        return Ok(());
    };
    let handle = examples::observability::install()?;
    let bound = examples::observability::serve(listen, handle, store, tenants, clock, shutdown)
        .await
        .map_err(|e| format!("cannot listen for metrics on {listen}: {e}"))?;
    println!("metrics on http://{bound}/metrics (liveness /healthz, readiness /readyz)");
    Ok(())
}
