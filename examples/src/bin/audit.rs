//! `audit`: inspect the audit trail of a sync store (SQLite or PostgreSQL).
//!
//! ```sh
//! cargo run -p examples --bin audit -- --store demo.sqlite --tenant SIM_TST summary
//! cargo run -p examples --bin audit -- --store demo.sqlite --tenant SIM_TST list --status failed
//! cargo run -p examples --bin audit -- --store demo.sqlite --tenant SIM_TST show ENTRY_ID
//! cargo run -p examples --bin audit -- --store demo.sqlite --tenant SIM_TST export --out a.jsonl
//! ```
//!
//! Both stores implement sync-core's `AuditSearch` (filters, pages, JSON lines, retention), so
//! every subcommand but `show` goes through that trait; `show` uses each store's tenant-scoped
//! `entry_for`. Exit code 0 on success, 1 when the store fails, 2 for bad input (a missing
//! store file, an unknown tenant or entry, a bad flag value). The store URL is never printed:
//! a PostgreSQL URL can hold a password.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use sync_core::error::StoreError;
use sync_core::store::postgres::{PgConfig, PgStore};
use sync_core::store::sql::{AuditFilter, AuditSearch, PageRequest, Retention};
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditEntry, AuditStatus, EntryId, RunId, StreamId};
use sync_core::time::SystemClock;

/// Inspect the audit trail: list and filter entries, show one with its payload snapshots,
/// export JSON lines, summarise a run, apply retention.
///
/// Exit code 0 on success, 1 when the store fails, 2 for bad input.
#[derive(Parser)]
#[command(name = "audit", version)]
struct Cli {
    /// The store: an SQLite file path (or `sqlite://PATH`), or a `postgres://` URL. The URL is
    /// never printed.
    #[arg(
        long,
        env = "SYNC_STORE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    store: String,
    /// The PostgreSQL schema holding the sync tables (ignored for SQLite).
    #[arg(long, default_value = "sync")]
    schema: String,
    /// How long to wait for a PostgreSQL connection, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    connect_timeout_secs: u64,
    /// The tenant (ION tenant id) whose entries to read; a search never crosses tenants.
    #[arg(long)]
    tenant: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List entries passing the filters, oldest first, one page at a time.
    List {
        #[command(flatten)]
        filters: Filters,
        /// Entries per page (1 to 10000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue after this position (printed at the end of the previous page).
        #[arg(long, value_name = "POSITION")]
        after: Option<i64>,
    },
    /// Show one entry with its source snapshot and mapped payload as pretty JSON.
    Show {
        /// The entry id (first column of `list`).
        entry_id: String,
    },
    /// Write every entry passing the filters as JSON lines (one entry per line, oldest first).
    Export {
        #[command(flatten)]
        filters: Filters,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Count a run's entries per stream and status (the latest run by default).
    Summary {
        /// The run to summarise (default: the run of the most recently started entry).
        #[arg(long, value_name = "RUN_ID")]
        run: Option<String>,
    },
    /// Delete this tenant's finished entries older than N days (by start time).
    Retention {
        /// Delete entries that started more than this many days ago.
        #[arg(long, value_name = "N")]
        older_than_days: u32,
        /// Also delete entries still open (pending, failed, deferred, conflict). Without it an
        /// unresolved failure is kept until it is replayed or resolved.
        #[arg(long)]
        include_unresolved_failures: bool,
    },
}

/// Filters shared by `list` and `export`.
#[derive(Args)]
struct Filters {
    /// Only this stream: gl_accounts, suppliers, purchase_orders, supplier_invoices,
    /// purchase_returns, or the queues purchase_triggers and webhook_deliveries.
    #[arg(long)]
    stream: Option<String>,
    /// Only this run.
    #[arg(long, value_name = "RUN_ID")]
    run: Option<String>,
    /// Only these statuses (repeat or separate with commas): pending, succeeded, failed,
    /// deferred, conflict, resolved.
    #[arg(long, value_delimiter = ',', value_parser = parse_status)]
    status: Vec<AuditStatus>,
    /// Only records with this source key (vendor number, PO number, voucher, account code).
    #[arg(long, value_name = "ID")]
    source_id: Option<String>,
    /// Only entries written to this Cin7 record id.
    #[arg(long, value_name = "ID")]
    target_id: Option<String>,
    /// Only attempts started at or after this time (RFC 3339, or a date YYYY-MM-DD in UTC).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    since: Option<DateTime<Utc>>,
    /// Only attempts started before this time (RFC 3339, or a date YYYY-MM-DD in UTC).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    until: Option<DateTime<Utc>>,
}

impl Filters {
    fn to_filter(&self, tenant: &str) -> AuditFilter {
        AuditFilter {
            tenant: tenant.to_owned(),
            stream: self.stream.clone().map(StreamId),
            run_id: self.run.clone().map(RunId),
            statuses: self.status.clone(),
            source: None,
            source_id: self.source_id.clone(),
            target_id: self.target_id.clone(),
            started_from: self.since,
            started_before: self.until,
        }
    }
}

const STATUSES: [AuditStatus; 6] = [
    AuditStatus::Pending,
    AuditStatus::Succeeded,
    AuditStatus::Failed,
    AuditStatus::Deferred,
    AuditStatus::Conflict,
    AuditStatus::Resolved,
];

fn status_name(status: AuditStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{status:?}"))
}

fn parse_status(text: &str) -> Result<AuditStatus, String> {
    let wanted = text.trim().to_ascii_lowercase();
    STATUSES
        .into_iter()
        .find(|s| status_name(*s) == wanted)
        .ok_or_else(|| {
            let names: Vec<String> = STATUSES.into_iter().map(status_name).collect();
            format!("unknown status `{text}`: use one of {}", names.join(", "))
        })
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!(
                "`{text}` is not a time: use RFC 3339 (2026-01-31T08:00:00Z) or a date (2026-01-31)"
            )
        })
}

/// Why the command failed: bad input (exit 2) or a store failure (exit 1).
enum Failure {
    Input(String),
    Store(String),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error.to_string())
    }
}

/// Either store; both implement [`AuditSearch`].
enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    async fn open(url: &str, schema: &str, timeout: Duration) -> Result<Store, Failure> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let config = PgConfig::new(url)
                .schema(schema)
                .connect_timeout(timeout)
                .max_connections(2);
            return PgStore::connect(config, SystemClock::shared())
                .await
                .map(Store::Postgres)
                .map_err(|e| Failure::Store(format!("cannot open the PostgreSQL store: {e}")));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || url.contains("://") && !url.starts_with("sqlite://") {
            return Err(Failure::Input(
                "--store must be an SQLite file path, sqlite://PATH or postgres://...".into(),
            ));
        }
        // Opening creates a missing file: an inspection tool must not, so check first.
        if !Path::new(path).is_file() {
            return Err(Failure::Input(format!(
                "no SQLite store at {path}: check --store (the demo prints its store's path)"
            )));
        }
        SqliteStore::open(path, SystemClock::shared())
            .await
            .map(Store::Sqlite)
            .map_err(|e| Failure::Store(format!("cannot open the SQLite store {path}: {e}")))
    }

    fn search(&self) -> &dyn AuditSearch {
        match self {
            Store::Sqlite(s) => s,
            Store::Postgres(s) => s,
        }
    }

    async fn entry(&self, tenant: &str, id: &EntryId) -> Result<Option<AuditEntry>, StoreError> {
        match self {
            Store::Sqlite(s) => s.entry_for(tenant, id).await,
            Store::Postgres(s) => s.entry_for(tenant, id).await,
        }
    }

    async fn export(
        &self,
        filter: &AuditFilter,
        mut out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(s) => s.export_jsonl(filter, &mut out, 1000).await,
            Store::Postgres(s) => s.export_jsonl(filter, &mut out, 1000).await,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    examples::logging::init("warn");
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Store(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let timeout = Duration::from_secs(cli.connect_timeout_secs.max(1));
    let store = Store::open(&cli.store, &cli.schema, timeout).await?;
    let tenant = cli.tenant.as_str();
    let search = store.search();
    // A typo in the tenant would otherwise look like an empty trail.
    let any = search
        .search(&AuditFilter::tenant(tenant), PageRequest::first(1))
        .await?;
    if any.entries.is_empty() {
        return Err(Failure::Input(format!(
            "the store has no audit entries for tenant `{tenant}`: check --tenant (the ION \
             tenant id, e.g. ACME_PRD)"
        )));
    }
    match cli.command {
        Command::List {
            filters,
            limit,
            after,
        } => {
            let page = search
                .search(&filters.to_filter(tenant), PageRequest { after, limit })
                .await?;
            print!("{}", list_table(&page.entries));
            match page.next.and_then(|next| next.after) {
                Some(position) => println!("more: add --after {position}"),
                None => println!("({} entries, end of list)", page.entries.len()),
            }
        }
        Command::Show { entry_id } => {
            let id = EntryId(entry_id);
            let entry = store.entry(tenant, &id).await?.ok_or_else(|| {
                Failure::Input(format!(
                    "no audit entry `{id}` for tenant `{tenant}`: `list` shows entry ids"
                ))
            })?;
            print!("{}", show(&entry));
        }
        Command::Export { filters, out } => {
            let filter = filters.to_filter(tenant);
            let written = match &out {
                Some(path) => {
                    let mut file = std::fs::File::create(path).map_err(|e| {
                        Failure::Input(format!("cannot create {}: {e}", path.display()))
                    })?;
                    let written = store.export(&filter, &mut file).await?;
                    file.flush()
                        .map_err(|e| Failure::Store(format!("writing {}: {e}", path.display())))?;
                    written
                }
                None => {
                    let mut stdout = std::io::stdout();
                    let written = store.export(&filter, &mut stdout).await?;
                    let _ = stdout.flush();
                    written
                }
            };
            eprintln!("exported {written} entries");
        }
        Command::Summary { run } => {
            let run_id = match run {
                Some(run) => RunId(run),
                None => latest_run(search, tenant).await?,
            };
            let filter = AuditFilter::tenant(tenant).run(run_id.clone());
            let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
            let mut page = PageRequest::first(10_000);
            loop {
                let got = search.search(&filter, page).await?;
                for entry in &got.entries {
                    *counts
                        .entry(entry.stream.to_string())
                        .or_default()
                        .entry(status_name(entry.status))
                        .or_default() += 1;
                }
                match got.next {
                    Some(next) => page = next,
                    None => break,
                }
            }
            if counts.is_empty() {
                return Err(Failure::Input(format!(
                    "run `{run_id}` has no entries for tenant `{tenant}`"
                )));
            }
            println!("run {run_id}");
            print!("{}", summary_table(&counts));
        }
        Command::Retention {
            older_than_days,
            include_unresolved_failures,
        } => {
            let deleted = search
                .apply_retention(&Retention {
                    tenant: Some(tenant.to_owned()),
                    older_than_days,
                    include_open: include_unresolved_failures,
                })
                .await?;
            let which = if include_unresolved_failures {
                "entries (open ones included)"
            } else {
                "finished entries"
            };
            println!(
                "deleted {deleted} {which} of tenant {tenant} started more than \
                 {older_than_days} days ago"
            );
        }
    }
    Ok(())
}

/// The run of the most recently started entry (run ids sort by start time, so they break ties).
async fn latest_run(search: &dyn AuditSearch, tenant: &str) -> Result<RunId, Failure> {
    let filter = AuditFilter::tenant(tenant);
    let mut latest: Option<(DateTime<Utc>, RunId)> = None;
    let mut page = PageRequest::first(10_000);
    loop {
        let got = search.search(&filter, page).await?;
        for entry in got.entries {
            let key = (entry.started_at, entry.run_id);
            if latest.as_ref().is_none_or(|l| key > *l) {
                latest = Some(key);
            }
        }
        match got.next {
            Some(next) => page = next,
            None => break,
        }
    }
    latest
        .map(|(_, run)| run)
        .ok_or_else(|| Failure::Input(format!("tenant `{tenant}` has no runs")))
}

fn list_table(entries: &[AuditEntry]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<34} {:<18} {:<10} {:<7} {:<14} {:<38} {:<20} error",
        "entry", "stream", "status", "action", "source id", "target id", "started"
    );
    for e in entries {
        let _ = writeln!(
            out,
            "{:<34} {:<18} {:<10} {:<7} {:<14} {:<38} {:<20} {}",
            e.id,
            e.stream,
            status_name(e.status),
            serde_json::to_value(e.action)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            e.source.id,
            e.target_id.as_deref().unwrap_or("-"),
            e.started_at.format("%Y-%m-%dT%H:%M:%SZ"),
            e.error.as_ref().map(|e| e.message.as_str()).unwrap_or("")
        );
    }
    out
}

fn show(entry: &AuditEntry) -> String {
    let pretty = |value: &serde_json::Value| {
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("(unprintable: {e})"))
    };
    let mut out = String::new();
    let _ = writeln!(out, "entry:       {}", entry.id);
    let _ = writeln!(out, "run:         {}", entry.run_id);
    let _ = writeln!(out, "stream:      {}", entry.stream);
    let _ = writeln!(out, "status:      {}", status_name(entry.status));
    let _ = writeln!(
        out,
        "source:      {}/{}/{} {}",
        entry.source.system, entry.source.tenant, entry.source.accounting_entity, entry.source.id
    );
    let _ = writeln!(
        out,
        "target id:   {}",
        entry.target_id.as_deref().unwrap_or("-")
    );
    let _ = writeln!(out, "started at:  {}", entry.started_at.to_rfc3339());
    if let Some(finished) = entry.finished_at {
        let _ = writeln!(out, "finished at: {}", finished.to_rfc3339());
    }
    if let Some(error) = &entry.error {
        let class = serde_json::to_value(error.class)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(out, "error:       {class}: {}", error.message);
    }
    if let Some(of) = &entry.replay_of {
        let _ = writeln!(out, "replay of:   {of}");
    }
    if let Some(by) = &entry.resolved_by {
        let _ = writeln!(out, "resolved by: {by}");
    }
    if let Some(request) = &entry.request_summary {
        let _ = writeln!(out, "request:     {request}");
    }
    if let Some(response) = &entry.response_summary {
        let _ = writeln!(out, "response:    {response}");
    }
    let _ = writeln!(out, "source snapshot:\n{}", pretty(&entry.source_snapshot));
    match &entry.mapped_snapshot {
        Some(mapped) => {
            let _ = writeln!(out, "mapped payload:\n{}", pretty(mapped));
        }
        None => {
            let _ = writeln!(out, "mapped payload: (none: mapping did not get that far)");
        }
    }
    out
}

fn summary_table(counts: &BTreeMap<String, BTreeMap<String, u64>>) -> String {
    let names: Vec<String> = STATUSES.into_iter().map(status_name).collect();
    let mut out = String::new();
    let _ = write!(out, "{:<18}", "stream");
    for name in &names {
        let _ = write!(out, " {name:>9}");
    }
    let _ = writeln!(out, " {:>7}", "total");
    let mut totals = vec![0u64; names.len()];
    for (stream, by_status) in counts {
        let _ = write!(out, "{stream:<18}");
        for (i, name) in names.iter().enumerate() {
            let n = by_status.get(name).copied().unwrap_or(0);
            totals[i] += n;
            let _ = write!(out, " {n:>9}");
        }
        let _ = writeln!(out, " {:>7}", by_status.values().sum::<u64>());
    }
    let _ = write!(out, "{:<18}", "all");
    for n in &totals {
        let _ = write!(out, " {n:>9}");
    }
    let _ = writeln!(out, " {:>7}", totals.iter().sum::<u64>());
    out
}
