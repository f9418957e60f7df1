//! The embedded default store: one SQLite file, WAL mode, migrations applied on open.
//!
//! Every write of a window happens in one `BEGIN IMMEDIATE` transaction (the write lock is
//! taken at the start, so the fence check and the writes cannot interleave with another
//! writer). The file is opened with `synchronous = FULL`: a commit that returned survives a
//! power cut, not only a process crash.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};

use super::sql::{
    AuditFilter, AuditPage, AuditSearch, PageRequest, Retention, backend, counts_from_rows,
    decode_json, encode_json, entry_from_row, from_sqlx, open_status_names, status_str,
    version_column,
};
use super::{
    AuditEntry, AuditQuery, AuditStatus, AuditStore, Checkpoint, CheckpointStore, CrossRef,
    CrossRefStore, EntryId, Fence, GlMapping, GlMappingStore, RunId, StreamKey, SyncStore,
    VersionStore, WindowCommit,
};
use crate::error::StoreError;
use crate::model::{RecordKind, SourceIdentity};
use crate::time::SharedClock;

/// The embedded migrations (`sync-core/migrations/sqlite`).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The store on one SQLite file. Clones share the connection pool.
///
/// ```
/// use sync_core::store::sqlite::SqliteStore;
/// use sync_core::store::{CheckpointStore, StreamId, StreamKey};
/// use sync_core::time::SystemClock;
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # rt.block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("state").join("acme.db"); // created on first use
/// let store = SqliteStore::open(&path, SystemClock::shared()).await.unwrap();
/// assert_eq!(store.schema_version().await.unwrap(), SqliteStore::SCHEMA_VERSION);
/// let key = StreamKey::new("ACME_PRD", StreamId::suppliers());
/// assert_eq!(store.load_checkpoint(&key).await.unwrap().cursor, None);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    clock: SharedClock,
    path: PathBuf,
}

impl SqliteStore {
    /// The schema version this build writes (the newest embedded migration).
    pub const SCHEMA_VERSION: i64 = 2;

    /// Open (creating the file and its directory on first use) and migrate. Refuses a
    /// database whose schema is newer than [`SqliteStore::SCHEMA_VERSION`], so an older binary
    /// never writes to a layout it does not know.
    pub async fn open(path: impl AsRef<Path>, clock: SharedClock) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                backend(
                    format!("cannot create directory {}: {e}", dir.display()),
                    false,
                )
                .with_source(e)
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(from_sqlx)?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(from_sqlx)?;
        let store = SqliteStore { pool, clock, path };
        store.check_version().await?;
        MIGRATOR.run(&store.pool).await.map_err(|e| {
            backend(format!("migrating {}: {e}", store.path.display()), false).with_source(e)
        })?;
        Ok(store)
    }

    /// The connection pool (for operator queries and benchmarks).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Close the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The newest migration applied to the file (0 when none).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        if exists.is_none() {
            return Ok(0);
        }
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
                .map_err(from_sqlx)?;
        Ok(version.unwrap_or(0))
    }

    async fn check_version(&self) -> Result<(), StoreError> {
        let found = self.schema_version().await?;
        if found > Self::SCHEMA_VERSION {
            return Err(backend(
                format!(
                    "{} has schema version {found}, newer than this build's {}; \
                     upgrade the program instead of opening it with an older one",
                    self.path.display(),
                    Self::SCHEMA_VERSION
                ),
                false,
            ));
        }
        Ok(())
    }

    /// One entry of one tenant ([`AuditStore::entry`] is not tenant-scoped).
    pub async fn entry_for(
        &self,
        tenant: &str,
        id: &EntryId,
    ) -> Result<Option<AuditEntry>, StoreError> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT entry, status, resolved_by FROM audit_entries WHERE tenant = ? AND id = ?",
        )
        .bind(tenant)
        .bind(&id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.map(|(json, status, by)| entry_from_row(&json, &status, by))
            .transpose()
    }

    /// Fault injection for crash tests: do every write of `commit` in a transaction, then drop
    /// the transaction instead of committing it, as a process killed at that moment would.
    pub async fn abort_window(&self, commit: WindowCommit) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        write_window(&mut tx, &commit).await?;
        drop(tx);
        Ok(())
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(from_sqlx)
    }

    async fn select(
        &self,
        filter: &AuditFilter,
        page: Option<PageRequest>,
    ) -> Result<(Vec<AuditEntry>, Option<i64>), StoreError> {
        // Returns the entries and, when another page follows, the position to continue after.
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT seq, entry, status, resolved_by FROM audit_entries WHERE tenant = ",
        );
        q.push_bind(&filter.tenant);
        if let Some(stream) = &filter.stream {
            q.push(" AND stream = ").push_bind(&stream.0);
        }
        if let Some(run) = &filter.run_id {
            q.push(" AND run_id = ").push_bind(&run.0);
        }
        if let Some(source) = &filter.source {
            q.push(" AND source_key = ").push_bind(source.key());
        }
        if let Some(id) = &filter.source_id {
            q.push(" AND source_id = ").push_bind(id);
        }
        if let Some(id) = &filter.target_id {
            q.push(" AND target_id = ").push_bind(id);
        }
        if let Some(from) = filter.started_from {
            q.push(" AND started_at >= ").push_bind(micros(from));
        }
        if let Some(before) = filter.started_before {
            q.push(" AND started_at < ").push_bind(micros(before));
        }
        if !filter.statuses.is_empty() {
            q.push(" AND status IN (");
            let mut list = q.separated(", ");
            for status in &filter.statuses {
                list.push_bind(status_str(*status));
            }
            q.push(")");
        }
        if let Some(after) = page.and_then(|p| p.after) {
            q.push(" AND seq > ").push_bind(after);
        }
        q.push(" ORDER BY seq");
        let limit = page.map(|p| p.clamped_limit());
        if let Some(limit) = limit {
            // One more than asked, to know whether there is a next page.
            q.push(" LIMIT ").push_bind(limit + 1);
        }
        let rows: Vec<(i64, String, String, Option<String>)> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        let more = limit.is_some_and(|l| rows.len() as i64 > l);
        let keep = limit.map_or(rows.len(), |l| l as usize);
        let mut entries = Vec::with_capacity(keep);
        let mut last = None;
        for (seq, json, status, by) in rows.into_iter().take(keep) {
            entries.push(entry_from_row(&json, &status, by)?);
            last = Some(seq);
        }
        Ok((entries, more.then_some(last).flatten()))
    }
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn fence_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Every write of one window commit, on an open transaction.
async fn write_window(
    conn: &mut SqliteConnection,
    commit: &WindowCommit,
) -> Result<(), StoreError> {
    let key = &commit.key;
    if let Some(presented) = commit.fence {
        let current: Option<i64> =
            sqlx::query_scalar("SELECT fence FROM stream_fences WHERE tenant = ? AND stream = ?")
                .bind(&key.tenant)
                .bind(&key.stream.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(from_sqlx)?;
        let current = fence_u64(current.unwrap_or(0));
        if presented.0 < current {
            return Err(StoreError::Fenced {
                stream: key.to_string(),
                presented: presented.0,
                current,
            });
        }
    }
    let open = open_status_names();
    for entry in &commit.entries {
        let seq = upsert_entry(conn, entry).await?;
        if entry.status == AuditStatus::Succeeded {
            sqlx::query(
                "UPDATE audit_entries SET status = 'resolved', resolved_by = ?
                 WHERE tenant = ? AND stream = ? AND source_key = ? AND seq < ?
                   AND status IN (?, ?, ?, ?)",
            )
            .bind(&entry.id.0)
            .bind(&entry.tenant)
            .bind(&entry.stream.0)
            .bind(entry.source.key())
            .bind(seq)
            .bind(&open[0])
            .bind(&open[1])
            .bind(&open[2])
            .bind(&open[3])
            .execute(&mut *conn)
            .await
            .map_err(from_sqlx)?;
        }
    }
    if let Some(checkpoint) = &commit.checkpoint {
        sqlx::query(
            "INSERT INTO checkpoints (tenant, stream, cursor_at, checkpoint) VALUES (?, ?, ?, ?)
             ON CONFLICT (tenant, stream) DO UPDATE
             SET cursor_at = excluded.cursor_at, checkpoint = excluded.checkpoint",
        )
        .bind(&key.tenant)
        .bind(&key.stream.0)
        .bind(checkpoint.cursor.map(micros))
        .bind(encode_json(checkpoint)?)
        .execute(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    }
    if let Some(gl) = &commit.gl_mapping {
        sqlx::query(
            "INSERT INTO gl_mappings (tenant, mapping) VALUES (?, ?)
             ON CONFLICT (tenant) DO UPDATE SET mapping = excluded.mapping",
        )
        .bind(&key.tenant)
        .bind(encode_json(gl)?)
        .execute(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    }
    Ok(())
}

/// Insert or replace one entry (keeping its position when replaced); returns its position.
async fn upsert_entry(conn: &mut SqliteConnection, entry: &AuditEntry) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO audit_entries
           (tenant, id, run_id, stream, source_key, source_id, target_id, status, resolved_by,
            started_at, entry)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, id) DO UPDATE SET
           run_id = excluded.run_id, stream = excluded.stream, source_key = excluded.source_key,
           source_id = excluded.source_id, target_id = excluded.target_id,
           status = excluded.status, resolved_by = excluded.resolved_by,
           started_at = excluded.started_at, entry = excluded.entry
         RETURNING seq",
    )
    .bind(&entry.tenant)
    .bind(&entry.id.0)
    .bind(&entry.run_id.0)
    .bind(&entry.stream.0)
    .bind(entry.source.key())
    .bind(&entry.source.id)
    .bind(entry.target_id.as_deref())
    .bind(status_str(entry.status))
    .bind(entry.resolved_by.as_ref().map(|r| r.0.as_str()))
    .bind(micros(entry.started_at))
    .bind(encode_json(entry)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(from_sqlx)
}

fn filter_of(query: &AuditQuery) -> AuditFilter {
    AuditFilter {
        tenant: query.tenant.clone(),
        stream: query.stream.clone(),
        run_id: query.run_id.clone(),
        statuses: query.statuses.clone(),
        source: query.source.clone(),
        ..AuditFilter::default()
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn record_intent(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx)?;
        upsert_entry(&mut conn, entry).await.map(|_| ())
    }

    async fn entry(&self, id: &EntryId) -> Result<Option<AuditEntry>, StoreError> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT entry, status, resolved_by FROM audit_entries WHERE id = ? ORDER BY seq LIMIT 1",
        )
        .bind(&id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.map(|(json, status, by)| entry_from_row(&json, &status, by))
            .transpose()
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.select(&filter_of(query), None).await?.0)
    }
}

#[async_trait]
impl CheckpointStore for SqliteStore {
    async fn load_checkpoint(&self, key: &StreamKey) -> Result<Checkpoint, StoreError> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT checkpoint FROM checkpoints WHERE tenant = ? AND stream = ?",
        )
        .bind(&key.tenant)
        .bind(&key.stream.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        match json {
            Some(json) => decode_json(&json, "checkpoints.checkpoint"),
            None => Ok(Checkpoint::default()),
        }
    }

    async fn acquire_fence(&self, key: &StreamKey) -> Result<Fence, StoreError> {
        let fence: i64 = sqlx::query_scalar(
            "INSERT INTO stream_fences (tenant, stream, fence) VALUES (?, ?, 1)
             ON CONFLICT (tenant, stream) DO UPDATE SET fence = fence + 1
             RETURNING fence",
        )
        .bind(&key.tenant)
        .bind(&key.stream.0)
        .fetch_one(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(Fence(fence_u64(fence)))
    }
}

#[async_trait]
impl CrossRefStore for SqliteStore {
    async fn cross_ref(
        &self,
        tenant: &str,
        kind: RecordKind,
        source: &SourceIdentity,
    ) -> Result<Option<CrossRef>, StoreError> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT xref FROM cross_refs WHERE tenant = ? AND kind = ? AND source_key = ?",
        )
        .bind(tenant)
        .bind(kind.as_str())
        .bind(source.key())
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        json.map(|j| decode_json(&j, "cross_refs.xref")).transpose()
    }

    async fn put_cross_ref(&self, tenant: &str, xref: &CrossRef) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cross_refs (tenant, kind, source_key, target_id, xref) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (tenant, kind, source_key) DO UPDATE
             SET target_id = excluded.target_id, xref = excluded.xref",
        )
        .bind(tenant)
        .bind(xref.kind.as_str())
        .bind(xref.source.key())
        .bind(&xref.target_id)
        .bind(encode_json(xref)?)
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(())
    }

    async fn cross_refs_to(
        &self,
        tenant: &str,
        kind: RecordKind,
        target_id: &str,
    ) -> Result<Vec<CrossRef>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT xref FROM cross_refs WHERE tenant = ? AND kind = ? AND target_id = ?",
        )
        .bind(tenant)
        .bind(kind.as_str())
        .bind(target_id)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.iter()
            .map(|j| decode_json(j, "cross_refs.xref"))
            .collect()
    }
}

#[async_trait]
impl GlMappingStore for SqliteStore {
    async fn gl_mapping(&self, tenant: &str) -> Result<Option<GlMapping>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT mapping FROM gl_mappings WHERE tenant = ?")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)?;
        json.map(|j| decode_json(&j, "gl_mappings.mapping"))
            .transpose()
    }
}

#[async_trait]
impl VersionStore for SqliteStore {
    async fn note_versions(
        &self,
        tenant: &str,
        seen: &[(String, u64)],
    ) -> Result<Vec<u64>, StoreError> {
        let mut tx = self.begin().await?;
        let mut newest: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for (document, version) in seen {
            let version = version_column(document, *version)?;
            // Concurrent workers noting the same document keep the greatest.
            let kept: i64 = sqlx::query_scalar(
                "INSERT INTO source_versions (tenant, document, version) VALUES (?, ?, ?)
                 ON CONFLICT (tenant, document) DO UPDATE SET version = max(source_versions.version, excluded.version)
                 RETURNING version",
            )
            .bind(tenant)
            .bind(document)
            .bind(version)
            .fetch_one(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            // A document noted twice in one call is answered with its greatest, both times.
            let kept = fence_u64(kept);
            let newest = newest.entry(document.as_str()).or_insert(kept);
            *newest = (*newest).max(kept);
        }
        tx.commit().await.map_err(from_sqlx)?;
        Ok(seen
            .iter()
            .map(|(document, _)| newest.get(document.as_str()).copied().unwrap_or_default())
            .collect())
    }
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn commit_window(&self, commit: WindowCommit) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        write_window(&mut tx, &commit).await?;
        tx.commit().await.map_err(from_sqlx)
    }
}

#[async_trait]
impl AuditSearch for SqliteStore {
    async fn search(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<AuditPage, StoreError> {
        let (entries, more_after) = self.select(filter, Some(page)).await?;
        let next = more_after.map(|after| PageRequest {
            after: Some(after),
            limit: page.limit,
        });
        Ok(AuditPage { entries, next })
    }

    async fn status_counts(
        &self,
        tenant: &str,
        run_id: &RunId,
    ) -> Result<HashMap<AuditStatus, u64>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM audit_entries WHERE tenant = ? AND run_id = ?
             GROUP BY status",
        )
        .bind(tenant)
        .bind(&run_id.0)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        counts_from_rows(rows)
    }

    async fn apply_retention(&self, policy: &Retention) -> Result<u64, StoreError> {
        let cutoff = self.clock.now() - chrono::Duration::days(i64::from(policy.older_than_days));
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("DELETE FROM audit_entries WHERE started_at < ");
        q.push_bind(micros(cutoff));
        if let Some(tenant) = &policy.tenant {
            q.push(" AND tenant = ").push_bind(tenant);
        }
        if !policy.include_open {
            q.push(" AND status IN ('succeeded', 'resolved')");
        }
        let done = q.build().execute(&self.pool).await.map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }
}
