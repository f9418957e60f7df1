//! The scale-out store: PostgreSQL, many tenants in one database, many workers coordinating
//! through leases on (tenant, stream) jobs.
//!
//! ## Jobs, leases and fencing
//!
//! Each (tenant, stream) is a row of the `jobs` table holding a fencing token, the lease of the
//! worker running it and when it is due next. A worker is a [`PgStore`] handle made with
//! [`PgStore::worker`]; it
//!
//! 1. [`claims`](PgStore::claim) a due job whose lease is free or expired
//!    (`FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait on or get the same row);
//!    the claim increments the token;
//! 2. runs windows with the handle; the engine's [`CheckpointStore::acquire_fence`] bumps the
//!    token again *inside* the lease, and only while the lease is still this worker's;
//! 3. [`renews`](PgStore::renew) the lease while it runs ([`PgStore::keep_alive`] does it in
//!    the background and signals a loss), and
//!    [`releases`](PgStore::release) it with the next due time.
//!
//! [`SyncStore::commit_window`] locks the job row and rejects the commit with
//! [`StoreError::Fenced`] when the token is older than the row's (the job was taken over) or
//! the lease has expired (it could be taken over at any moment). A crashed worker simply stops
//! renewing; once the lease expires another worker claims the job and continues from the last
//! committed checkpoint.
//!
//! The handle returned by [`PgStore::connect`] (not a worker) behaves like the other stores:
//! `acquire_fence` takes the stream over unconditionally (and clears any lease), which is what
//! a single process, a replay or an operator wants. Do not mix the two styles on one stream.
//!
//! ## Which clock decides lease expiry
//!
//! [`LeaseTime::Database`] (the default) uses PostgreSQL's `now()` for every lease decision, so
//! workers on hosts whose clocks disagree still agree on who holds a job. [`LeaseTime::Clock`]
//! uses the injected [`Clock`](crate::time::Clock) instead: tests drive expiry with a
//! `ManualClock` and never sleep; in production it requires the workers' clocks to agree to
//! well under the lease length. Either way the fencing token, not the clock, is what makes a
//! stale commit fail once the job has been taken over.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder};

use super::sql::{
    AuditFilter, AuditPage, AuditSearch, PageRequest, Retention, backend, counts_from_rows,
    decode_json, encode_json, entry_from_row, from_sqlx, open_status_names, status_str,
    version_column,
};
use super::{
    AuditEntry, AuditQuery, AuditStatus, AuditStore, Checkpoint, CheckpointStore, CrossRef,
    CrossRefStore, EntryId, Fence, GlMapping, GlMappingStore, RunId, StreamId, StreamKey,
    SyncStore, VersionStore, WindowCommit,
};
use crate::error::StoreError;
use crate::model::{RecordKind, SourceIdentity};
use crate::time::SharedClock;

#[cfg(feature = "sqlite")]
mod import;
mod keeper;
#[cfg(feature = "sqlite")]
pub use import::ImportReport;
pub use keeper::LeaseKeeper;

/// How many due jobs one claim looks at (locked while it decides): enough to get past the
/// jobs of affinities other workers hold.
const CLAIM_CANDIDATES: i64 = 16;

/// A `jobs` row as selected: fence, holder, lease end, next due.
type JobRow = (
    i64,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// The embedded migrations (`sync-core/migrations/postgres`).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which clock decides whether a lease has expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeaseTime {
    /// PostgreSQL's `now()`: one clock for every worker (production default).
    #[default]
    Database,
    /// The store's injected clock (tests; single-host deployments with a trusted clock).
    Clock,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// Connection URL (`postgres://user:password@host:port/db`); kept secret.
    pub url: SecretString,
    /// Schema holding the tables (created if missing). Letters, digits and `_`, lower case.
    pub schema: String,
    /// Pool size.
    pub max_connections: u32,
    /// How long a claimed lease lasts without renewal.
    pub lease_ttl: chrono::Duration,
    /// Which clock decides lease expiry.
    pub lease_time: LeaseTime,
    /// This handle's worker name (shown in `jobs.holder`).
    pub worker: String,
    /// How long to wait for a pooled connection (and for the first connection).
    pub connect_timeout: Duration,
}

impl PgConfig {
    /// Defaults: schema `sync`, 8 connections, 60 s leases decided by the database clock.
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: SecretString::from(url.into()),
            schema: "sync".into(),
            max_connections: 8,
            lease_ttl: chrono::Duration::seconds(60),
            lease_time: LeaseTime::Database,
            worker: "worker".into(),
            connect_timeout: Duration::from_secs(30),
        }
    }

    /// Wait at most this long for a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Use this schema.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Use this lease length.
    pub fn lease_ttl(mut self, ttl: chrono::Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// Decide lease expiry with this clock.
    pub fn lease_time(mut self, time: LeaseTime) -> Self {
        self.lease_time = time;
        self
    }

    /// Use this pool size.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }
}

/// A job held by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The (tenant, stream).
    pub key: StreamKey,
    /// The token issued with the lease.
    pub fence: Fence,
    /// When the lease ends unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// One row of the `jobs` table, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// Current fencing token.
    pub fence: Fence,
    /// Worker holding the lease, if any.
    pub holder: Option<String>,
    /// End of the lease, if held.
    pub lease_until: Option<DateTime<Utc>>,
    /// When the job is next due (`None`: at once).
    pub next_due: Option<DateTime<Utc>>,
}

/// The PostgreSQL store. Clones share the pool *and* the worker identity; use
/// [`PgStore::worker`] for a handle with its own identity and leases.
///
/// ```no_run
/// use sync_core::store::postgres::{PgConfig, PgStore};
/// use sync_core::time::SystemClock;
/// # async fn demo() -> Result<(), sync_core::error::StoreError> {
/// let store = PgStore::connect(
///     PgConfig::new("postgres://sync@db.internal/sync").schema("sync"),
///     SystemClock::shared(),
/// )
/// .await?;
/// let worker = store.worker("host-a-1");
/// while let Some(lease) = worker.claim().await? {
///     // run the (tenant, stream) of `lease.key` with `worker` as its store, renewing the
///     // lease while it runs, then:
///     worker.release(&lease.key, chrono::Utc::now() + chrono::Duration::minutes(5)).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    clock: SharedClock,
    schema: Arc<str>,
    lease_ttl: chrono::Duration,
    lease_time: LeaseTime,
    worker: Arc<str>,
    /// Made by [`PgStore::worker`]: fences come only from claimed leases.
    leased: bool,
    held: Arc<Mutex<HashMap<StreamKey, Fence>>>,
}

/// `COALESCE($n, now())`: the lease clock in SQL (see [`LeaseTime`]).
macro_rules! now_sql {
    ($n:literal) => {
        concat!("COALESCE($", $n, "::timestamptz, now())")
    };
}

impl PgStore {
    /// The schema version this build writes (the newest embedded migration).
    pub const SCHEMA_VERSION: i64 = 3;

    /// Connect, create the schema if missing and migrate it. Refuses a schema written by a
    /// newer version than [`PgStore::SCHEMA_VERSION`].
    pub async fn connect(config: PgConfig, clock: SharedClock) -> Result<Self, StoreError> {
        let schema = config.schema.clone();
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(backend(
                format!(
                    "invalid schema name `{schema}`: use 1-63 lower-case letters, digits and \
                     `_`, not starting with a digit"
                ),
                false,
            ));
        }
        // The URL may hold a password: never echo it, nor the parser's message about it.
        let options = PgConnectOptions::from_str(config.url.expose_secret())
            .map_err(|_| backend("invalid PostgreSQL connection URL", false))?
            .options([
                ("search_path", schema.as_str()),
                // Plan every statement with its real parameters. A cached generic plan made
                // while the tables were empty keeps using the tenant/time index for the
                // per-record lookups and turns them into scans of the tenant's whole history.
                ("plan_cache_mode", "force_custom_plan"),
            ]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.connect_timeout)
            .connect_with(options)
            .await
            .map_err(from_sqlx)?;
        // Workers starting together race on CREATE SCHEMA IF NOT EXISTS; the loser gets a
        // unique violation (23505) or "already exists" (42P06), which just means it is there.
        if let Err(e) = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .execute(&pool)
            .await
        {
            let exists = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "23505" || c == "42P06");
            if !exists {
                return Err(from_sqlx(e));
            }
        }
        let store = PgStore {
            pool,
            clock,
            schema: schema.into(),
            lease_ttl: config.lease_ttl,
            lease_time: config.lease_time,
            worker: config.worker.into(),
            leased: false,
            held: Arc::default(),
        };
        let found = store.schema_version().await?;
        if found > Self::SCHEMA_VERSION {
            return Err(backend(
                format!(
                    "schema `{}` has version {found}, newer than this build's {}; upgrade the \
                     program instead of running an older one against it",
                    store.schema,
                    Self::SCHEMA_VERSION
                ),
                false,
            ));
        }
        MIGRATOR.run(&store.pool).await.map_err(|e| {
            backend(format!("migrating schema `{}`: {e}", store.schema), false).with_source(e)
        })?;
        Ok(store)
    }

    /// A handle for one worker: same pool, its own name and its own leases. On this handle
    /// [`CheckpointStore::acquire_fence`] only works on a job it has [claimed](PgStore::claim)
    /// and still holds; otherwise it fails with [`StoreError::Fenced`], so a worker that lost
    /// its lease cannot take the stream back by starting another window.
    pub fn worker(&self, name: impl Into<String>) -> PgStore {
        PgStore {
            worker: name.into().into(),
            leased: true,
            held: Arc::default(),
            ..self.clone()
        }
    }

    /// This handle's worker name.
    pub fn worker_name(&self) -> &str {
        &self.worker
    }

    /// The schema this store uses.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The connection pool (for operator queries and benchmarks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Close the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Drop the whole schema with every table in it, then close the pool. For tests and for
    /// decommissioning an installation; there is no undo.
    pub async fn drop_schema(self) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        ))
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        self.pool.close().await;
        Ok(())
    }

    /// The newest migration applied to the schema (0 when none).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
                .fetch_one(&self.pool)
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

    fn lease_now(&self) -> Option<DateTime<Utc>> {
        match self.lease_time {
            LeaseTime::Database => None,
            LeaseTime::Clock => Some(self.clock.now()),
        }
    }

    fn ttl_micros(&self) -> i64 {
        self.lease_ttl.num_microseconds().unwrap_or(i64::MAX)
    }

    fn held(&self) -> MutexGuard<'_, HashMap<StreamKey, Fence>> {
        // Only plain inserts and removes happen under the lock: a poisoned map is consistent.
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Make sure a job row exists for each stream (due at once when new). Returns how many
    /// were added.
    pub async fn register_jobs(&self, keys: &[StreamKey]) -> Result<u64, StoreError> {
        let tenants: Vec<&str> = keys.iter().map(|k| k.tenant.as_str()).collect();
        let streams: Vec<&str> = keys.iter().map(|k| k.stream.0.as_str()).collect();
        let done = sqlx::query(
            "INSERT INTO jobs (tenant, stream)
             SELECT * FROM UNNEST($1::text[], $2::text[])
             ON CONFLICT (tenant, stream) DO NOTHING",
        )
        .bind(&tenants)
        .bind(&streams)
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }

    /// Make sure a job row exists for each stream, with `affinity` (e.g. the Cin7 account the
    /// streams write to; see [`claim`](Self::claim)). New jobs are due at once; an existing
    /// job keeps its lease and due time and takes the new affinity. Returns how many were added.
    pub async fn register_affine_jobs(
        &self,
        keys: &[StreamKey],
        affinity: &str,
    ) -> Result<u64, StoreError> {
        let tenants: Vec<&str> = keys.iter().map(|k| k.tenant.as_str()).collect();
        let streams: Vec<&str> = keys.iter().map(|k| k.stream.0.as_str()).collect();
        // `xmax = 0` only on a row this statement inserted (an update sets it).
        let inserted: Vec<bool> = sqlx::query_scalar(
            "INSERT INTO jobs (tenant, stream, affinity)
             SELECT t, s, $3 FROM UNNEST($1::text[], $2::text[]) AS u(t, s)
             ON CONFLICT (tenant, stream) DO UPDATE SET affinity = EXCLUDED.affinity
             WHERE jobs.affinity IS DISTINCT FROM EXCLUDED.affinity
             RETURNING (xmax = 0)",
        )
        .bind(&tenants)
        .bind(&streams)
        .bind(affinity)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(inserted.into_iter().filter(|new| *new).count() as u64)
    }

    /// Delete the jobs of `tenant` whose lease is free or expired (a tenant taken out of the
    /// fleet); returns how many. A job still leased is left to its holder.
    pub async fn remove_jobs(&self, tenant: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(concat!(
            "DELETE FROM jobs WHERE tenant = $1 AND (lease_until IS NULL OR lease_until <= ",
            now_sql!(2),
            ")"
        ))
        .bind(tenant)
        .bind(self.lease_now())
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }

    /// Claim one due job whose lease is free or expired, oldest due first. The claim issues a
    /// new fencing token, so the previous holder (if its lease expired) can no longer commit.
    ///
    /// A job with an affinity ([`register_affine_jobs`](Self::register_affine_jobs)) is
    /// claimed only while no other worker holds a live lease on a job of the same affinity:
    /// claims of one affinity take a transaction-scoped advisory lock first and then look for
    /// other holders in a fresh snapshot, so two workers can never both pass the check.
    pub async fn claim(&self) -> Result<Option<Lease>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        // Jobs of affinities another worker holds are left out here already (so they cannot
        // fill the candidates while claimable jobs wait further down); the advisory lock below
        // is what makes the check race-free.
        let candidates: Vec<(String, String, Option<String>)> = sqlx::query_as(concat!(
            "SELECT tenant, stream, affinity FROM jobs AS j
             WHERE next_due <= ",
            now_sql!(1),
            " AND (lease_until IS NULL OR lease_until <= ",
            now_sql!(1),
            ")
               AND (affinity IS NULL OR NOT EXISTS (
                 SELECT 1 FROM jobs AS o WHERE o.affinity = j.affinity AND o.holder <> $3
                   AND o.lease_until > ",
            now_sql!(1),
            "))
             ORDER BY next_due, tenant, stream
             LIMIT $2
             FOR UPDATE OF j SKIP LOCKED"
        ))
        .bind(self.lease_now())
        .bind(CLAIM_CANDIDATES)
        .bind(&*self.worker)
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let mut claimed = None;
        for (tenant, stream, affinity) in candidates {
            if let Some(affinity) = &affinity
                && !self.affinity_free(&mut tx, affinity).await?
            {
                continue;
            }
            let (fence, expires_at): (i64, DateTime<Utc>) = sqlx::query_as(concat!(
                "UPDATE jobs SET fence = fence + 1, holder = $3, lease_until = ",
                now_sql!(4),
                " + $5::bigint * interval '1 microsecond'
                 WHERE tenant = $1 AND stream = $2
                 RETURNING fence, lease_until"
            ))
            .bind(&tenant)
            .bind(&stream)
            .bind(&*self.worker)
            .bind(self.lease_now())
            .bind(self.ttl_micros())
            .fetch_one(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            claimed = Some((StreamKey::new(tenant, StreamId(stream)), fence, expires_at));
            break;
        }
        tx.commit().await.map_err(from_sqlx)?;
        Ok(claimed.map(|(key, fence, expires_at)| {
            let fence = Fence(fence_u64(fence));
            self.held().insert(key.clone(), fence);
            Lease {
                key,
                fence,
                expires_at,
            }
        }))
    }

    /// Inside a claim's transaction: whether this worker may take a job of `affinity` (no
    /// other worker holds a live lease on one). The advisory lock serializes the claims of
    /// one affinity until the transaction ends; `false` when another claim holds it.
    async fn affinity_free(
        &self,
        tx: &mut PgConnection,
        affinity: &str,
    ) -> Result<bool, StoreError> {
        // Keyed by schema too: advisory locks are database-wide.
        let locked: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_xact_lock(hashtext('sync-core:' || current_schema() || ':' || $1))",
        )
        .bind(affinity)
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        if !locked {
            return Ok(false);
        }
        let taken: bool = sqlx::query_scalar(concat!(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE affinity = $1 AND holder <> $2
               AND lease_until > ",
            now_sql!(3),
            ")"
        ))
        .bind(affinity)
        .bind(&*self.worker)
        .bind(self.lease_now())
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        Ok(!taken)
    }

    /// Extend the lease on a held job by the lease length. Fails with
    /// [`StoreError::Fenced`] when the lease expired or was taken over; the job is then no
    /// longer this worker's and it must stop.
    pub async fn renew(&self, key: &StreamKey) -> Result<Lease, StoreError> {
        let fence = self.held_fence(key)?;
        let row: Option<DateTime<Utc>> = sqlx::query_scalar(concat!(
            "UPDATE jobs SET lease_until = ",
            now_sql!(5),
            " + $6::bigint * interval '1 microsecond'
             WHERE tenant = $1 AND stream = $2 AND fence = $3 AND holder = $4
               AND lease_until > ",
            now_sql!(5),
            " RETURNING lease_until"
        ))
        .bind(&key.tenant)
        .bind(&key.stream.0)
        .bind(fence_i64(fence)?)
        .bind(&*self.worker)
        .bind(self.lease_now())
        .bind(self.ttl_micros())
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        match row {
            Some(expires_at) => Ok(Lease {
                key: key.clone(),
                fence,
                expires_at,
            }),
            None => Err(self.lost(key, fence).await),
        }
    }

    /// Give a held job back, due again at `next_due`. Fails with [`StoreError::Fenced`] when
    /// the lease had already been lost (the work done since may have been rejected).
    pub async fn release(
        &self,
        key: &StreamKey,
        next_due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let fence = self.held_fence(key)?;
        self.held().remove(key);
        let done = sqlx::query(
            "UPDATE jobs SET holder = NULL, lease_until = NULL, next_due = $5
             WHERE tenant = $1 AND stream = $2 AND fence = $3 AND holder = $4",
        )
        .bind(&key.tenant)
        .bind(&key.stream.0)
        .bind(fence_i64(fence)?)
        .bind(&*self.worker)
        .bind(next_due)
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        if done.rows_affected() == 0 {
            return Err(self.lost(key, fence).await);
        }
        Ok(())
    }

    /// The leases this handle believes it holds.
    pub fn held_leases(&self) -> Vec<(StreamKey, Fence)> {
        self.held().iter().map(|(k, f)| (k.clone(), *f)).collect()
    }

    /// The `jobs` row of a stream.
    pub async fn job_state(&self, key: &StreamKey) -> Result<Option<JobState>, StoreError> {
        let row: Option<JobRow> = sqlx::query_as(
            "SELECT fence, holder, lease_until,
                        CASE WHEN next_due = '-infinity' THEN NULL ELSE next_due END
                 FROM jobs WHERE tenant = $1 AND stream = $2",
        )
        .bind(&key.tenant)
        .bind(&key.stream.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(row.map(|(fence, holder, lease_until, next_due)| JobState {
            fence: Fence(fence_u64(fence)),
            holder,
            lease_until,
            next_due,
        }))
    }

    /// The fence of the lease held on `key`; [`StoreError::Fenced`] when none is held (it was
    /// never claimed, or was lost: a fenced commit or a failed renewal forgets it).
    fn held_fence(&self, key: &StreamKey) -> Result<Fence, StoreError> {
        self.held()
            .get(key)
            .copied()
            .ok_or_else(|| StoreError::Fenced {
                stream: key.to_string(),
                presented: 0,
                current: 0,
            })
    }

    /// The lease on `key` is gone: forget it and say who is current.
    async fn lost(&self, key: &StreamKey, presented: Fence) -> StoreError {
        self.held().remove(key);
        let current = match self.job_state(key).await {
            Ok(state) => state.map_or(0, |s| s.fence.0),
            Err(e) => return e,
        };
        StoreError::Fenced {
            stream: key.to_string(),
            presented: presented.0,
            current,
        }
    }

    /// One entry of one tenant ([`AuditStore::entry`] is not tenant-scoped).
    pub async fn entry_for(
        &self,
        tenant: &str,
        id: &EntryId,
    ) -> Result<Option<AuditEntry>, StoreError> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT entry::text, status, resolved_by FROM audit_entries
             WHERE tenant = $1 AND id = $2",
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
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        self.write_window(&mut tx, &commit).await?;
        drop(tx);
        Ok(())
    }

    /// Every write of one window commit, on an open transaction.
    async fn write_window(
        &self,
        conn: &mut PgConnection,
        commit: &WindowCommit,
    ) -> Result<(), StoreError> {
        let key = &commit.key;
        if let Some(presented) = commit.fence {
            // The row lock also holds off a concurrent claim (it skips locked rows) until this
            // commit is done, so a takeover cannot slip in between check and write.
            let row: Option<(i64, bool)> = sqlx::query_as(concat!(
                "SELECT fence, COALESCE(lease_until <= ",
                now_sql!(3),
                ", false) FROM jobs WHERE tenant = $1 AND stream = $2 FOR UPDATE"
            ))
            .bind(&key.tenant)
            .bind(&key.stream.0)
            .bind(self.lease_now())
            .fetch_optional(&mut *conn)
            .await
            .map_err(from_sqlx)?;
            let (current, expired) = row.map_or((0, false), |(f, e)| (fence_u64(f), e));
            if presented.0 < current || expired {
                self.held().remove(key);
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
                    "UPDATE audit_entries SET status = 'resolved', resolved_by = $1
                     WHERE tenant = $2 AND stream = $3 AND source_key = $4 AND seq < $5
                       AND status = ANY($6)",
                )
                .bind(&entry.id.0)
                .bind(&entry.tenant)
                .bind(&entry.stream.0)
                .bind(entry.source.key())
                .bind(seq)
                .bind(&open)
                .execute(&mut *conn)
                .await
                .map_err(from_sqlx)?;
            }
        }
        if let Some(checkpoint) = &commit.checkpoint {
            sqlx::query(
                "INSERT INTO checkpoints (tenant, stream, cursor_at, checkpoint)
                 VALUES ($1, $2, $3, $4::jsonb)
                 ON CONFLICT (tenant, stream) DO UPDATE
                 SET cursor_at = excluded.cursor_at, checkpoint = excluded.checkpoint",
            )
            .bind(&key.tenant)
            .bind(&key.stream.0)
            .bind(checkpoint.cursor)
            .bind(encode_json(checkpoint)?)
            .execute(&mut *conn)
            .await
            .map_err(from_sqlx)?;
        }
        if let Some(gl) = &commit.gl_mapping {
            sqlx::query(
                "INSERT INTO gl_mappings (tenant, mapping) VALUES ($1, $2::jsonb)
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

    async fn select(
        &self,
        filter: &AuditFilter,
        page: Option<PageRequest>,
    ) -> Result<(Vec<AuditEntry>, Option<i64>), StoreError> {
        // Returns the entries and, when another page follows, the position to continue after.
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT seq, entry::text, status, resolved_by FROM audit_entries WHERE tenant = ",
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
            q.push(" AND started_at >= ").push_bind(from);
        }
        if let Some(before) = filter.started_before {
            q.push(" AND started_at < ").push_bind(before);
        }
        if !filter.statuses.is_empty() {
            let names: Vec<&str> = filter.statuses.iter().map(|s| status_str(*s)).collect();
            q.push(" AND status = ANY(").push_bind(names).push(")");
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

fn fence_i64(fence: Fence) -> Result<i64, StoreError> {
    i64::try_from(fence.0).map_err(|_| backend(format!("fence {} out of range", fence.0), false))
}

fn fence_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Insert or replace one entry (keeping its position when replaced); returns its position.
async fn upsert_entry(conn: &mut PgConnection, entry: &AuditEntry) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO audit_entries
           (tenant, id, run_id, stream, source_key, source_id, target_id, status, resolved_by,
            started_at, entry)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
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
    .bind(entry.started_at)
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
impl AuditStore for PgStore {
    async fn record_intent(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx)?;
        upsert_entry(&mut conn, entry).await.map(|_| ())
    }

    async fn entry(&self, id: &EntryId) -> Result<Option<AuditEntry>, StoreError> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT entry::text, status, resolved_by FROM audit_entries WHERE id = $1
             ORDER BY seq LIMIT 1",
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
impl CheckpointStore for PgStore {
    async fn load_checkpoint(&self, key: &StreamKey) -> Result<Checkpoint, StoreError> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT checkpoint::text FROM checkpoints WHERE tenant = $1 AND stream = $2",
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
        let held = self.held().get(key).copied();
        match held {
            // Inside a lease: a newer token, but only while the lease is still ours.
            Some(fence) => {
                let row: Option<i64> = sqlx::query_scalar(concat!(
                    "UPDATE jobs SET fence = fence + 1
                     WHERE tenant = $1 AND stream = $2 AND fence = $3 AND holder = $4
                       AND lease_until > ",
                    now_sql!(5),
                    " RETURNING fence"
                ))
                .bind(&key.tenant)
                .bind(&key.stream.0)
                .bind(fence_i64(fence)?)
                .bind(&*self.worker)
                .bind(self.lease_now())
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)?;
                match row {
                    Some(next) => {
                        let next = Fence(fence_u64(next));
                        self.held().insert(key.clone(), next);
                        Ok(next)
                    }
                    None => Err(self.lost(key, fence).await),
                }
            }
            // A worker handle without the lease: it lost it, or never claimed this job.
            None if self.leased => Err(self.lost(key, Fence(0)).await),
            // A direct handle: take the stream over outright, clearing any lease.
            None => {
                let fence: i64 = sqlx::query_scalar(
                    "INSERT INTO jobs (tenant, stream, fence) VALUES ($1, $2, 1)
                     ON CONFLICT (tenant, stream) DO UPDATE
                     SET fence = jobs.fence + 1, holder = NULL, lease_until = NULL
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
    }
}

#[async_trait]
impl CrossRefStore for PgStore {
    async fn cross_ref(
        &self,
        tenant: &str,
        kind: RecordKind,
        source: &SourceIdentity,
    ) -> Result<Option<CrossRef>, StoreError> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT xref::text FROM cross_refs WHERE tenant = $1 AND kind = $2 AND source_key = $3",
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
            "INSERT INTO cross_refs (tenant, kind, source_key, target_id, xref)
             VALUES ($1, $2, $3, $4, $5::jsonb)
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
            "SELECT xref::text FROM cross_refs WHERE tenant = $1 AND kind = $2 AND target_id = $3",
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
impl GlMappingStore for PgStore {
    async fn gl_mapping(&self, tenant: &str) -> Result<Option<GlMapping>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT mapping::text FROM gl_mappings WHERE tenant = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)?;
        json.map(|j| decode_json(&j, "gl_mappings.mapping"))
            .transpose()
    }
}

#[async_trait]
impl VersionStore for PgStore {
    async fn note_versions(
        &self,
        tenant: &str,
        seen: &[(String, u64)],
    ) -> Result<Vec<u64>, StoreError> {
        if seen.is_empty() {
            return Ok(Vec::new());
        }
        // One statement for the whole window. A document noted twice in `seen` is sent once,
        // at its greatest version (one statement cannot update a row twice).
        let mut wanted: BTreeMap<&str, i64> = BTreeMap::new();
        for (document, version) in seen {
            let version = version_column(document, *version)?;
            let kept = wanted.entry(document.as_str()).or_insert(version);
            *kept = (*kept).max(version);
        }
        let (documents, versions): (Vec<&str>, Vec<i64>) = wanted.into_iter().unzip();
        // Concurrent workers noting the same document keep the greatest.
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "INSERT INTO source_versions (tenant, document, version)
             SELECT $1, d, v FROM UNNEST($2::text[], $3::bigint[]) AS u(d, v)
             ON CONFLICT (tenant, document) DO UPDATE SET version = GREATEST(source_versions.version, excluded.version)
             RETURNING document, version",
        )
        .bind(tenant)
        .bind(&documents)
        .bind(&versions)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        let newest: HashMap<String, i64> = rows.into_iter().collect();
        seen.iter()
            .map(|(document, _)| {
                newest
                    .get(document)
                    .map(|v| fence_u64(*v))
                    .ok_or_else(|| backend(format!("no version noted for {document}"), false))
            })
            .collect()
    }
}

#[async_trait]
impl SyncStore for PgStore {
    async fn commit_window(&self, commit: WindowCommit) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        self.write_window(&mut tx, &commit).await?;
        tx.commit().await.map_err(from_sqlx)
    }
}

#[async_trait]
impl AuditSearch for PgStore {
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
            "SELECT status, COUNT(*) FROM audit_entries WHERE tenant = $1 AND run_id = $2
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
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("DELETE FROM audit_entries WHERE started_at < ");
        q.push_bind(cutoff);
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
