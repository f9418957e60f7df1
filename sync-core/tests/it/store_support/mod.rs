//! Shared helpers for the store tests: opening each backend on a fresh database, and audit
//! entry builders.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use sync_core::model::{ContentHash, RecordKind, SourceIdentity};
#[cfg(feature = "postgres")]
use sync_core::store::postgres::{LeaseTime, PgConfig, PgStore};
#[cfg(feature = "sqlite")]
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{Action, AuditEntry, AuditStatus, EntryId, RunId, StreamId};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use sync_core::time::SharedClock;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

/// `DATABASE_URL`, or the machine's PostgreSQL.
pub fn pg_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// A schema name no other test (or test process) uses.
pub fn fresh_schema() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "sc_test_{}_{}_{:08x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        rand_u32()
    )
}

fn rand_u32() -> u32 {
    // Enough uniqueness across concurrent test processes without another dev-dependency.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}

#[cfg(feature = "postgres")]
/// A PostgreSQL store on a fresh schema; lease expiry follows `clock` (30 s leases).
pub async fn pg_store(clock: SharedClock) -> PgStore {
    PgStore::connect(
        PgConfig::new(pg_url())
            .schema(fresh_schema())
            .lease_time(LeaseTime::Clock)
            .lease_ttl(Duration::seconds(30))
            .max_connections(6),
        clock,
    )
    .await
    .unwrap()
}

#[cfg(feature = "sqlite")]
/// A SQLite store on a fresh file in a temporary directory (kept alive by the returned guard).
pub async fn sqlite_store(clock: SharedClock) -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("sync.db"), clock)
        .await
        .unwrap();
    (store, dir)
}

pub fn ident(tenant: &str, id: &str) -> SourceIdentity {
    SourceIdentity::new("cloudsuite", tenant, "10", id)
}

/// A plain audit entry; adjust fields with struct update syntax.
pub fn entry(
    tenant: &str,
    stream: StreamId,
    run: &str,
    id: &str,
    source: &str,
    status: AuditStatus,
    started_at: DateTime<Utc>,
) -> AuditEntry {
    AuditEntry {
        id: EntryId(id.to_owned()),
        run_id: RunId(run.to_owned()),
        tenant: tenant.to_owned(),
        stream,
        kind: RecordKind::Supplier,
        source: ident(tenant, source),
        source_modified_at: started_at,
        content_hash: ContentHash(format!("hash-{source}")),
        action: Action::Create,
        match_result: None,
        target_id: None,
        status,
        error: None,
        request_summary: None,
        response_summary: None,
        source_snapshot: json!({ "id": source, "name": format!("Supplier {source}") }),
        mapped_snapshot: None,
        started_at,
        finished_at: (status != AuditStatus::Pending).then_some(started_at),
        replay_of: None,
        resolved_by: None,
    }
}

pub fn ids(entries: &[AuditEntry]) -> Vec<String> {
    entries.iter().map(|e| e.id.0.clone()).collect()
}
