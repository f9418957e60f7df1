//! Audit write throughput of the SQLite and PostgreSQL stores.
//!
//! For each store, on the same machine in the same run:
//! - **batched**: `commit_window` with windows of `STORE_BENCH_WINDOW` rows (one transaction
//!   per window) — how the engine writes;
//! - **row by row**: `commit_window` with one row each (one transaction per row);
//! - **bare INSERT**, the same rows (same columns, same JSON encoding) into a table of the same
//!   shape without indexes, with a plain `INSERT` loop, batched per window and row by row —
//!   the floor that any store on this database pays;
//! - **bare INSERT into the indexed table**: the same plain loop into the store's own
//!   `audit_entries` (all its indexes), batched, to separate index cost from store logic;
//! - **engine**: the supplier pipeline over `STORE_BENCH_RECORDS` new suppliers with in-memory
//!   source and target, so all the time is the engine plus the store (intent row, cross-ref,
//!   open-row lookup per record, then the window commit). The in-memory store is the baseline.
//!
//! Run: `cargo bench -p sync-core --bench store_audit --features sqlite,postgres`
//! (PostgreSQL from `DATABASE_URL`, default `postgres://root@127.0.0.1:5432/test`; a fresh
//! schema is created and dropped).
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner};
use sync_core::error::MappingKind;
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{ContentHash, PartyStatus, RecordKind, SourceIdentity, Supplier};
use sync_core::store::memory::MemoryStore;
use sync_core::store::postgres::{PgConfig, PgStore};
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{
    Action, AuditEntry, AuditStatus, EntryId, MatchResult, RunId, StreamId, StreamKey, SyncStore,
    WindowCommit,
};
use sync_core::testing::{MemorySource, MemorySupplierTarget};
use sync_core::time::ManualClock;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

fn rows(prefix: &str, n: usize) -> Vec<AuditEntry> {
    (0..n)
        .map(|i| {
            let source = SourceIdentity::new("cloudsuite", "BENCH", "10", format!("V{i:06}"));
            AuditEntry {
                id: EntryId(format!("{prefix}-{i}")),
                run_id: RunId(prefix.to_owned()),
                tenant: "BENCH".into(),
                stream: StreamId::suppliers(),
                kind: RecordKind::Supplier,
                source,
                source_modified_at: t0(),
                content_hash: ContentHash(format!("{i:064x}")),
                action: Action::Create,
                match_result: Some(MatchResult::Created),
                target_id: Some(format!("0f1e2d3c-0000-0000-0000-{i:012}")),
                status: AuditStatus::Succeeded,
                error: None,
                request_summary: Some("POST /supplier (1 supplier)".into()),
                response_summary: Some("HTTP 200".into()),
                source_snapshot: json!({
                    "identity": {"system": "cloudsuite", "tenant": "BENCH", "accounting_entity": "10", "id": format!("V{i:06}")},
                    "vendor_id": format!("V{i:06}"), "name": format!("Supplier number {i}"),
                    "currency": "NZD", "payment_term": "N30", "tax_rule": "STD",
                    "status": "active", "addresses": [], "contacts": [],
                    "modified_at": "2026-03-02T07:50:00Z"
                }),
                mapped_snapshot: Some(json!({"Name": format!("Supplier number {i}"), "Currency": "NZD", "PaymentTerm": "30 days", "TaxRule": "GST on Expenses", "AdditionalAttribute1": format!("V{i:06}")})),
                started_at: t0(),
                finished_at: Some(t0()),
                replay_of: None,
                resolved_by: None,
            }
        })
        .collect()
}

struct Figure {
    label: String,
    rows: usize,
    elapsed: Duration,
}

impl Figure {
    fn rate(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
    fn micros_per_row(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e6 / self.rows as f64
    }
}

async fn store_writes<S: SyncStore>(store: &S, label: &str, batch: usize, n: usize) -> Figure {
    let key = StreamKey::new("BENCH", StreamId::suppliers());
    let all = rows(&format!("{label}-{batch}"), n);
    let start = Instant::now();
    for chunk in all.chunks(batch) {
        let fence = store.acquire_fence(&key).await.unwrap();
        store
            .commit_window(WindowCommit {
                key: key.clone(),
                checkpoint: None,
                entries: chunk.to_vec(),
                gl_mapping: None,
                fence: Some(fence),
            })
            .await
            .unwrap();
    }
    Figure {
        label: format!("{label} store, {}", mode(batch)),
        rows: n,
        elapsed: start.elapsed(),
    }
}

/// The bare table (no secondary index), or the store's own audit table with all its indexes
/// (rows under another tenant).
fn table(indexed: bool) -> &'static str {
    if indexed {
        "audit_entries"
    } else {
        "bench_bare"
    }
}

fn suffix(indexed: bool) -> &'static str {
    if indexed {
        " into the indexed audit table"
    } else {
        ""
    }
}

fn mode(batch: usize) -> String {
    if batch == 1 {
        "row by row (1 tx per row)".into()
    } else {
        format!("batched ({batch} rows per tx)")
    }
}

const BARE_SQLITE: &str = "INSERT INTO {table} (tenant, id, run_id, stream, source_key, source_id, target_id, status, resolved_by, started_at, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const BARE_PG: &str = "INSERT INTO {table} (tenant, id, run_id, stream, source_key, source_id, target_id, status, resolved_by, started_at, entry) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)";

macro_rules! bare_insert {
    ($conn:expr, $sql:expr, $indexed:expr, $e:expr, $started:expr) => {
        sqlx::query($sql)
            .bind(if $indexed { "BARE" } else { $e.tenant.as_str() })
            .bind(&$e.id.0)
            .bind(&$e.run_id.0)
            .bind(&$e.stream.0)
            .bind($e.source.key())
            .bind(&$e.source.id)
            .bind($e.target_id.as_deref())
            .bind("succeeded")
            .bind(Option::<&str>::None)
            .bind($started)
            .bind(serde_json::to_string(&$e).unwrap())
            .execute($conn)
            .await
            .unwrap()
    };
}

async fn bare_sqlite(pool: &sqlx::SqlitePool, batch: usize, n: usize, indexed: bool) -> Figure {
    let all = rows(&format!("bare-{batch}-{indexed}"), n);
    let sql = BARE_SQLITE.replace("{table}", table(indexed));
    let start = Instant::now();
    for chunk in all.chunks(batch) {
        let mut tx = pool.begin().await.unwrap();
        for e in chunk {
            bare_insert!(&mut *tx, &sql, indexed, e, e.started_at.timestamp_micros());
        }
        tx.commit().await.unwrap();
    }
    Figure {
        label: format!("SQLite bare INSERT{}, {}", suffix(indexed), mode(batch)),
        rows: n,
        elapsed: start.elapsed(),
    }
}

async fn bare_pg(pool: &sqlx::PgPool, batch: usize, n: usize, indexed: bool) -> Figure {
    let all = rows(&format!("bare-{batch}-{indexed}"), n);
    let sql = BARE_PG.replace("{table}", table(indexed));
    let start = Instant::now();
    for chunk in all.chunks(batch) {
        let mut tx = pool.begin().await.unwrap();
        for e in chunk {
            bare_insert!(&mut *tx, &sql, indexed, e, e.started_at);
        }
        tx.commit().await.unwrap();
    }
    Figure {
        label: format!("PostgreSQL bare INSERT{}, {}", suffix(indexed), mode(batch)),
        rows: n,
        elapsed: start.elapsed(),
    }
}

async fn engine_run<S: SyncStore + 'static>(store: S, label: &str, n: usize) -> Figure {
    let clock = ManualClock::new(t0());
    let source = MemorySource::new(t0());
    for i in 0..n {
        source.upsert(Supplier {
            identity: SourceIdentity::new("cloudsuite", "ENGINE", "10", format!("V{i:06}")),
            vendor_id: format!("V{i:06}"),
            name: format!("Supplier number {i}"),
            currency: "NZD".into(),
            payment_term: Some("N30".into()),
            tax_rule: Some("STD".into()),
            tax_number: None,
            status: PartyStatus::Active,
            addresses: vec![],
            contacts: vec![],
            modified_at: t0() - chrono::Duration::minutes(10),
        });
    }
    let target = MemorySupplierTarget::new();
    let mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::TaxRule, "STD", "GST on Expenses"),
    );
    let pipeline = Arc::new(SupplierPipeline::new(Arc::new(target), mappings));
    let runner = StreamRunner::new(pipeline, Arc::new(source), EngineConfig::default());
    let run = RunContext::new(Arc::new(store), clock.shared(), "ENGINE");
    let start = Instant::now();
    let report = runner.run_window(&run, None).await.unwrap();
    let elapsed = start.elapsed();
    assert_eq!(report.succeeded, n);
    Figure {
        label: format!("engine, supplier window, {label} store"),
        rows: n,
        elapsed,
    }
}

fn print(figures: &[&Figure]) {
    println!("| Measurement | rows | rows/s | µs/row |");
    println!("|---|---:|---:|---:|");
    for f in figures {
        println!(
            "| {} | {} | {:.0} | {:.1} |",
            f.label,
            f.rows,
            f.rate(),
            f.micros_per_row()
        );
    }
}

fn ratio(name: &str, a: &Figure, b: &Figure) {
    println!(
        "| {name} | {:.2}× ({:.1} µs vs {:.1} µs per row) |",
        a.elapsed.as_secs_f64() / b.elapsed.as_secs_f64() * (b.rows as f64 / a.rows as f64),
        a.micros_per_row(),
        b.micros_per_row()
    );
}

const BARE_TABLE_SQLITE: &str = "CREATE TABLE bench_bare (seq INTEGER PRIMARY KEY, tenant TEXT NOT NULL, id TEXT NOT NULL, run_id TEXT NOT NULL, stream TEXT NOT NULL, source_key TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT, status TEXT NOT NULL, resolved_by TEXT, started_at INTEGER NOT NULL, entry TEXT NOT NULL)";
const BARE_TABLE_PG: &str = "CREATE TABLE bench_bare (seq BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, id TEXT NOT NULL, run_id TEXT NOT NULL, stream TEXT NOT NULL, source_key TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT, status TEXT NOT NULL, resolved_by TEXT, started_at TIMESTAMPTZ NOT NULL, entry JSONB NOT NULL)";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let batched_rows = env("STORE_BENCH_ROWS", 20_000);
    let single_rows = env("STORE_BENCH_SINGLE_ROWS", 2_000);
    let window = env("STORE_BENCH_WINDOW", 500);
    let records = env("STORE_BENCH_RECORDS", 2_000);
    let clock = ManualClock::new(t0());
    println!(
        "store_audit: {batched_rows} rows batched ({window} per window), {single_rows} rows \
         row by row, engine window of {records} suppliers"
    );

    // SQLite, on a temporary file (synchronous = FULL, WAL).
    let dir = std::env::temp_dir().join(format!("sync-core-bench-{}", std::process::id()));
    let sqlite = SqliteStore::open(dir.join("bench.db"), clock.shared())
        .await
        .unwrap();
    sqlx::query(BARE_TABLE_SQLITE)
        .execute(sqlite.pool())
        .await
        .unwrap();
    let s_batch = store_writes(&sqlite, "SQLite", window, batched_rows).await;
    let s_bare_batch = bare_sqlite(sqlite.pool(), window, batched_rows, false).await;
    let s_idx_batch = bare_sqlite(sqlite.pool(), window, batched_rows, true).await;
    let s_single = store_writes(&sqlite, "SQLite", 1, single_rows).await;
    let s_bare_single = bare_sqlite(sqlite.pool(), 1, single_rows, false).await;
    let s_engine = engine_run(sqlite.clone(), "SQLite", records).await;
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(&dir);

    // PostgreSQL, on a fresh schema.
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into());
    let schema = format!("bench_store_{}", std::process::id());
    let pg = PgStore::connect(PgConfig::new(url).schema(schema), clock.shared())
        .await
        .unwrap();
    sqlx::query(BARE_TABLE_PG).execute(pg.pool()).await.unwrap();
    let p_batch = store_writes(&pg, "PostgreSQL", window, batched_rows).await;
    let p_bare_batch = bare_pg(pg.pool(), window, batched_rows, false).await;
    let p_idx_batch = bare_pg(pg.pool(), window, batched_rows, true).await;
    let p_single = store_writes(&pg, "PostgreSQL", 1, single_rows).await;
    let p_bare_single = bare_pg(pg.pool(), 1, single_rows, false).await;
    let p_engine = engine_run(pg.clone(), "PostgreSQL", records).await;
    pg.clone().drop_schema().await.unwrap();

    let m_engine = engine_run(MemoryStore::new(), "in-memory", records).await;

    println!();
    print(&[
        &s_batch,
        &s_bare_batch,
        &s_idx_batch,
        &s_single,
        &s_bare_single,
        &s_engine,
        &p_batch,
        &p_bare_batch,
        &p_idx_batch,
        &p_single,
        &p_bare_single,
        &p_engine,
        &m_engine,
    ]);
    println!();
    println!("| Ratio (time per row, store / bare INSERT) | value |");
    println!("|---|---|");
    ratio("SQLite, batched", &s_batch, &s_bare_batch);
    ratio(
        "SQLite, batched, bare INSERT into the indexed table",
        &s_idx_batch,
        &s_bare_batch,
    );
    ratio(
        "SQLite, batched, store vs bare INSERT into the indexed table",
        &s_batch,
        &s_idx_batch,
    );
    ratio("SQLite, row by row", &s_single, &s_bare_single);
    ratio(
        "SQLite, engine per record vs bare row-by-row INSERT",
        &s_engine,
        &s_bare_single,
    );
    ratio(
        "SQLite, engine per record vs bare batched INSERT",
        &s_engine,
        &s_bare_batch,
    );
    ratio("PostgreSQL, batched", &p_batch, &p_bare_batch);
    ratio(
        "PostgreSQL, batched, bare INSERT into the indexed table",
        &p_idx_batch,
        &p_bare_batch,
    );
    ratio(
        "PostgreSQL, batched, store vs bare INSERT into the indexed table",
        &p_batch,
        &p_idx_batch,
    );
    ratio("PostgreSQL, row by row", &p_single, &p_bare_single);
    ratio(
        "PostgreSQL, engine per record vs bare row-by-row INSERT",
        &p_engine,
        &p_bare_single,
    );
    ratio(
        "PostgreSQL, engine per record vs bare batched INSERT",
        &p_engine,
        &p_bare_batch,
    );
    ratio(
        "in-memory engine per record vs SQLite bare batched INSERT",
        &m_engine,
        &s_bare_batch,
    );
}
