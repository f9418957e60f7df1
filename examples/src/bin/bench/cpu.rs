//! CPU cost per record: one supplier window over generated suppliers (mapping, content hash,
//! intent row, cross-reference, audit rows, checkpoint) with a target that does nothing, against
//! a bare `INSERT` loop of the same audit rows into the same database in the same run.
//!
//! The bare loop writes the rows the engine just wrote (read back from the store) into the
//! store's own `audit_entries` table under another tenant: once one autocommitted `INSERT` per
//! row, once in transactions of 500. PostgreSQL runs when `DATABASE_URL` (default
//! `postgres://root@127.0.0.1:5432/test`) is reachable, in a fresh schema dropped afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sync_core::store::memory::MemoryStore;
use sync_core::store::postgres::{PgConfig, PgStore};
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditEntry, AuditQuery, SyncStore};
use sync_core::time::SystemClock;

use crate::TempDir;
use crate::generated::{cpu_seconds, supplier_window};

const TENANT: &str = "CPUBENCH";
const BATCH: usize = 500;

struct Measured {
    label: String,
    rows: usize,
    wall: Duration,
    cpu: f64,
}

async fn measure<F, Fut>(
    label: String,
    rows: usize,
    f: F,
) -> Result<Measured, Box<dyn std::error::Error>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    let cpu = cpu_seconds();
    let start = Instant::now();
    f().await?;
    Ok(Measured {
        label,
        rows,
        wall: start.elapsed(),
        cpu: cpu_seconds() - cpu,
    })
}

async fn engine(
    store: Arc<dyn SyncStore>,
    label: &str,
    n: usize,
) -> Result<(Measured, Vec<AuditEntry>), Box<dyn std::error::Error>> {
    let s = store.clone();
    let m = measure(
        format!("engine, supplier window, {label}"),
        n,
        || async move {
            let report = supplier_window(s, TENANT, n).await?;
            if report.succeeded != n {
                return Err(format!("{} of {n} succeeded", report.succeeded).into());
            }
            Ok(())
        },
    )
    .await?;
    let rows = store.query(&AuditQuery::tenant(TENANT)).await?;
    Ok((m, rows))
}

const SQLITE_INSERT: &str = "INSERT INTO audit_entries (tenant, id, run_id, stream, source_key, source_id, target_id, status, resolved_by, started_at, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const PG_INSERT: &str = "INSERT INTO audit_entries (tenant, id, run_id, stream, source_key, source_id, target_id, status, resolved_by, started_at, entry) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)";

macro_rules! bare {
    ($conn:expr, $sql:expr, $e:expr, $tag:expr) => {
        sqlx::query($sql)
            .bind("BARE")
            .bind(format!("{}-{}", $tag, $e.id.0))
            .bind(&$e.run_id.0)
            .bind(&$e.stream.0)
            .bind($e.source.key())
            .bind(&$e.source.id)
            .bind($e.target_id.as_deref())
            .bind("succeeded")
            .bind(Option::<&str>::None)
            .bind($e.started_at)
            .bind(serde_json::to_string(&$e)?)
            .execute($conn)
            .await?
    };
}

async fn bare_sqlite(
    pool: &sqlx::SqlitePool,
    rows: &[AuditEntry],
) -> Result<(Measured, Measured), Box<dyn std::error::Error>> {
    let single = measure(
        "SQLite bare INSERT, 1 autocommit per row".into(),
        rows.len(),
        || async {
            for e in rows {
                bare!(pool, SQLITE_INSERT, e, "single");
            }
            Ok(())
        },
    )
    .await?;
    let batched = measure(
        format!("SQLite bare INSERT, {BATCH} rows per tx"),
        rows.len(),
        || async {
            for chunk in rows.chunks(BATCH) {
                let mut tx = pool.begin().await?;
                for e in chunk {
                    bare!(&mut *tx, SQLITE_INSERT, e, "batched");
                }
                tx.commit().await?;
            }
            Ok(())
        },
    )
    .await?;
    Ok((single, batched))
}

async fn bare_pg(
    pool: &sqlx::PgPool,
    rows: &[AuditEntry],
) -> Result<(Measured, Measured), Box<dyn std::error::Error>> {
    let single = measure(
        "PostgreSQL bare INSERT, 1 autocommit per row".into(),
        rows.len(),
        || async {
            for e in rows {
                bare!(pool, PG_INSERT, e, "single");
            }
            Ok(())
        },
    )
    .await?;
    let batched = measure(
        format!("PostgreSQL bare INSERT, {BATCH} rows per tx"),
        rows.len(),
        || async {
            for chunk in rows.chunks(BATCH) {
                let mut tx = pool.begin().await?;
                for e in chunk {
                    bare!(&mut *tx, PG_INSERT, e, "batched");
                }
                tx.commit().await?;
            }
            Ok(())
        },
    )
    .await?;
    Ok((single, batched))
}

fn print(rows: &[&Measured]) {
    println!("| measurement | records | µs/record (wall) | records/s | process CPU µs/record |");
    println!("|---|---:|---:|---:|---:|");
    for m in rows {
        let per = m.wall.as_secs_f64() * 1e6 / m.rows.max(1) as f64;
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} |",
            m.label,
            m.rows,
            per,
            m.rows as f64 / m.wall.as_secs_f64().max(1e-9),
            m.cpu * 1e6 / m.rows.max(1) as f64
        );
    }
}

fn ratios(db: &str, engine: &Measured, single: &Measured, batched: &Measured) {
    let w = |m: &Measured| m.wall.as_secs_f64() / m.rows.max(1) as f64;
    println!(
        "- {db}: engine / bare autocommitted INSERT = **{:.2}×**; engine / bare batched INSERT = {:.1}×",
        w(engine) / w(single).max(1e-12),
        w(engine) / w(batched).max(1e-12)
    );
}

/// Run the CPU benchmark over `records` suppliers per store.
pub async fn run(records: usize) -> Result<(), Box<dyn std::error::Error>> {
    println!("# CPU cost per record ({records} suppliers per store)\n");
    let (memory, _) = engine(Arc::new(MemoryStore::new()), "in-memory store", records).await?;

    let dir = TempDir::new("cpu");
    let sqlite = SqliteStore::open(dir.0.join("sync.sqlite"), SystemClock::shared()).await?;
    let pool = sqlite.pool().clone();
    let (s_engine, rows) = engine(Arc::new(sqlite), "SQLite store", records).await?;
    let (s_single, s_batched) = bare_sqlite(&pool, &rows).await?;
    let mut all = vec![&memory, &s_engine, &s_single, &s_batched];

    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned());
    let schema = format!("cpu_bench_{}", std::process::id());
    let mut config = PgConfig::new(url).connect_timeout(Duration::from_secs(3));
    config.schema = schema;
    let pg = match PgStore::connect(config, SystemClock::shared()).await {
        Ok(pg) => Some(pg),
        Err(e) => {
            println!("PostgreSQL not reachable ({e}); SQLite only.\n");
            None
        }
    };
    let mut pg_figures = None;
    if let Some(pg) = pg {
        let pool = pg.pool().clone();
        let store = Arc::new(pg);
        let result = async {
            let (engine_m, rows) = engine(store.clone(), "PostgreSQL store", records).await?;
            let (single, batched) = bare_pg(&pool, &rows).await?;
            Ok::<_, Box<dyn std::error::Error>>((engine_m, single, batched))
        }
        .await;
        if let Ok(store) = Arc::try_unwrap(store) {
            let _ = store.drop_schema().await;
        }
        pg_figures = Some(result?);
    }
    if let Some((e, s, b)) = &pg_figures {
        all.extend([e, s, b]);
    }
    print(&all);
    println!();
    ratios("SQLite", &s_engine, &s_single, &s_batched);
    if let Some((e, s, b)) = &pg_figures {
        ratios("PostgreSQL", e, s, b);
    }
    Ok(())
}
