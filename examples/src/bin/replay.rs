//! `replay`: run failed entries again, after fixing what made them fail (usually a mapping in
//! the config), with a dry-run preview.
//!
//! ```sh
//! cargo run -p examples --bin replay -- --config sync.toml --dry-run stream supplier_invoices
//! cargo run -p examples --bin replay -- --config sync.toml stream supplier_invoices
//! cargo run -p examples --bin replay -- --config sync.toml --mode snapshot run 20260301T060000Z-1a2b
//! cargo run -p examples --bin replay -- --config sync.toml entry 20260301T060000Z-1a2b-17
//! ```
//!
//! Exit codes: 0 everything replayed succeeded (or nothing was open); 1 some replayed entries
//! failed again; 2 the command line or the configuration is wrong; 3 the store or a client
//! could not be set up, or the replay itself failed. See docs/runner.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use examples::config::{Config, ConfigError, ReplayTarget, Stream, wire};
use sync_core::mapping::NameMatch;
use sync_core::replay::{ReplayMode, ReplayResult};
use sync_core::store::{AuditStatus, EntryId, RunId};
use sync_core::time::SystemClock;

/// Replay failed, pending or deferred entries of the audit store through the pipelines
/// configured in a `sync` TOML file (its current mappings apply).
#[derive(Parser)]
#[command(name = "replay", version)]
struct Cli {
    /// The `sync` TOML configuration file (its store, clients and mappings are used).
    #[arg(long, short, env = "SYNC_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Where the replayed record comes from: `snapshot` (as stored in the entry; works when
    /// CloudSuite is unreachable, never overwrites newer data) or `refetch` (as CloudSuite has
    /// it now).
    #[arg(long, value_enum, default_value_t = Mode::Refetch, global = true)]
    mode: Mode,
    /// List what would be replayed, with each entry's error, and replay nothing.
    #[arg(long, global = true)]
    dry_run: bool,
    #[command(subcommand)]
    what: What,
}

#[derive(Clone, Copy, ValueEnum)]
enum Choice {
    Link,
    Create,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Snapshot,
    Refetch,
}

#[derive(Subcommand)]
enum What {
    /// One entry, by its id (`audit` lists them).
    Entry {
        /// The entry id.
        id: String,
        /// For a supplier held because a Cin7 supplier has its name: the choice for this
        /// replay only, over `mappings.name_match`: `link` (use that supplier) or `create` (a
        /// new one).
        #[arg(long, value_enum)]
        name_match: Option<Choice>,
        /// With `--name-match link`: the Cin7 supplier may be reactivated if it is deprecated
        /// (over `mappings.reactivate_deprecated`, for this replay only).
        #[arg(long)]
        reactivate_deprecated: bool,
    },
    /// The open failures of one run, in every stream.
    Run {
        /// The run id (printed in each run's summary).
        run_id: String,
    },
    /// The open failures of one stream: suppliers, purchase_orders or supplier_invoices.
    Stream {
        /// The stream.
        name: String,
    },
}

const FAILURES: u8 = 1;
const BAD_CONFIG: u8 = 2;
const SETUP: u8 = 3;

fn fail(error: &ConfigError) -> ExitCode {
    eprintln!("error: {}", sdk_common::report::chain(error));
    ExitCode::from(match error {
        ConfigError::Client(_) | ConfigError::Store(_) | ConfigError::Sync(_) => SETUP,
        _ => BAD_CONFIG,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    examples::logging::init("warn");
    let Some(path) = cli.config else {
        eprintln!("error: give the configuration file with --config FILE (or SYNC_CONFIG)");
        return ExitCode::from(BAD_CONFIG);
    };
    let mut config = match Config::load(&path) {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    if config.dry_run && !cli.dry_run {
        eprintln!(
            "error: {} has dry_run = true, and replay writes to Cin7 and the store: set dry_run = false to replay, or preview with --dry-run",
            path.display()
        );
        return ExitCode::from(BAD_CONFIG);
    }
    // A preview reads the real store and writes nothing, whatever the file says.
    config.dry_run = false;
    let what = match &cli.what {
        What::Entry {
            id,
            name_match,
            reactivate_deprecated,
        } => {
            // A person's choice for this one entry, over the file's mappings.
            match name_match {
                Some(Choice::Link) => config.mappings.name_match = NameMatch::Link,
                Some(Choice::Create) => config.mappings.name_match = NameMatch::Create,
                None => {}
            }
            config.mappings.reactivate_deprecated |= *reactivate_deprecated;
            ReplayTarget::Entry(EntryId(id.clone()))
        }
        What::Run { run_id } => ReplayTarget::Run(RunId(run_id.clone())),
        What::Stream { name } => match Stream::parse(name) {
            Ok(Stream::GlAccounts) => {
                eprintln!(
                    "error: gl_accounts is not replayed: every run recomputes the GL mapping; replay suppliers, purchase_orders or supplier_invoices"
                );
                return ExitCode::from(BAD_CONFIG);
            }
            Ok(stream) => ReplayTarget::Stream(stream),
            Err(error) => return fail(&error),
        },
    };
    let wired = match wire(&config, SystemClock::shared(), None).await {
        Ok(wired) => wired,
        Err(error) => return fail(&error),
    };

    if cli.dry_run {
        let entries = match wired.preview(&what).await {
            Ok(entries) => entries,
            Err(error) => return fail(&error),
        };
        println!(
            "DRY RUN: {} entr{} would be replayed (nothing was replayed):",
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" }
        );
        for entry in entries {
            let error = entry
                .error
                .as_ref()
                .map(|e| format!("{:?}: {}", e.class, e.message))
                .unwrap_or_else(|| "(no error recorded)".to_owned());
            println!(
                "  {}  {}  {}  {:?}  {error}",
                entry.id, entry.stream, entry.source.id, entry.status
            );
        }
        return ExitCode::SUCCESS;
    }

    let mode = match cli.mode {
        Mode::Snapshot => ReplayMode::Snapshot,
        Mode::Refetch => ReplayMode::Refetch,
    };
    let results = match wired.replay(&what, mode).await {
        Ok(results) => results,
        Err(error) => return fail(&error),
    };
    let mut still_failing = 0;
    println!(
        "Replayed {} entr{}:",
        results.len(),
        if results.len() == 1 { "y" } else { "ies" }
    );
    for result in &results {
        match result {
            ReplayResult::AlreadyResolved(id) => println!("  {id}: already resolved, nothing done"),
            ReplayResult::GoneFromSource(id) => {
                println!("  {id}: the record no longer exists in CloudSuite, nothing done")
            }
            ReplayResult::SourceUnavailable { entry, error } => {
                still_failing += 1;
                println!("  {entry}: CloudSuite could not be read ({error}); still open")
            }
            ReplayResult::Replayed(entry) => {
                let original = entry
                    .replay_of
                    .as_ref()
                    .map(|id| id.to_string())
                    .unwrap_or_default();
                let detail = entry
                    .error
                    .as_ref()
                    .map(|e| format!(": {:?}: {}", e.class, e.message))
                    .unwrap_or_default();
                println!(
                    "  {original} -> {} {} {:?}{detail}",
                    entry.id, entry.source.id, entry.status
                );
                if !matches!(entry.status, AuditStatus::Succeeded | AuditStatus::Resolved) {
                    still_failing += 1;
                }
            }
        }
    }
    if still_failing == 0 {
        ExitCode::SUCCESS
    } else {
        println!("{still_failing} entr(y/ies) still open: fix the cause and replay again.");
        ExitCode::from(FAILURES)
    }
}
