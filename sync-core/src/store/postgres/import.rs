//! Moving an installation from SQLite to PostgreSQL: copy every table of a [`SqliteStore`]
//! into a [`PgStore`] schema, keeping the audit order.

use chrono::DateTime;

use super::PgStore;
use crate::error::StoreError;
use crate::store::StreamId;
use crate::store::StreamKey;
use crate::store::sql::{backend, from_sqlx};
use crate::store::sqlite::SqliteStore;

/// How many rows an import copied (rows already present are skipped, not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Audit entries.
    pub audit_entries: u64,
    /// Checkpoints.
    pub checkpoints: u64,
    /// Cross-references.
    pub cross_refs: u64,
    /// GL mappings.
    pub gl_mappings: u64,
    /// Source document versions.
    pub source_versions: u64,
    /// Jobs registered for the streams found.
    pub jobs: u64,
}

/// Audit rows are copied this many at a time, one PostgreSQL transaction each.
const CHUNK: i64 = 1000;

type AuditRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
    String,
);

impl PgStore {
    /// Copy everything from a SQLite store into this schema: audit entries (in their original
    /// order), checkpoints, cross-references and GL mappings, and register a job for every
    /// stream that has a checkpoint or a fencing token. Rows that already exist here are left
    /// alone, so an interrupted import can simply be run again. Stop every process writing to
    /// the SQLite file first (see `docs/operations.md`).
    pub async fn import_sqlite(&self, from: &SqliteStore) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        let mut after = 0i64;
        loop {
            let rows: Vec<AuditRow> = sqlx::query_as(
                "SELECT seq, tenant, id, run_id, stream, source_key, source_id, target_id, status,
                        resolved_by, started_at, entry
                 FROM audit_entries WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(after)
            .bind(CHUNK)
            .fetch_all(from.pool())
            .await
            .map_err(from_sqlx)?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
            for row in rows {
                let (
                    _,
                    tenant,
                    id,
                    run,
                    stream,
                    source_key,
                    source_id,
                    target,
                    status,
                    by,
                    at,
                    entry,
                ) = row;
                let started_at = DateTime::from_timestamp_micros(at).ok_or_else(|| {
                    backend(
                        format!("audit entry {id}: started_at {at} out of range"),
                        false,
                    )
                })?;
                let done = sqlx::query(
                    "INSERT INTO audit_entries
                       (tenant, id, run_id, stream, source_key, source_id, target_id, status,
                        resolved_by, started_at, entry)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
                     ON CONFLICT (tenant, id) DO NOTHING",
                )
                .bind(tenant)
                .bind(id)
                .bind(run)
                .bind(stream)
                .bind(source_key)
                .bind(source_id)
                .bind(target)
                .bind(status)
                .bind(by)
                .bind(started_at)
                .bind(entry)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
                report.audit_entries += done.rows_affected();
            }
            tx.commit().await.map_err(from_sqlx)?;
        }

        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        let checkpoints: Vec<(String, String, Option<i64>, String)> =
            sqlx::query_as("SELECT tenant, stream, cursor_at, checkpoint FROM checkpoints")
                .fetch_all(from.pool())
                .await
                .map_err(from_sqlx)?;
        let mut keys: Vec<StreamKey> = Vec::new();
        for (tenant, stream, cursor, json) in checkpoints {
            let cursor = cursor.and_then(DateTime::from_timestamp_micros);
            let done = sqlx::query(
                "INSERT INTO checkpoints (tenant, stream, cursor_at, checkpoint)
                 VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (tenant, stream) DO NOTHING",
            )
            .bind(&tenant)
            .bind(&stream)
            .bind(cursor)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            report.checkpoints += done.rows_affected();
            keys.push(StreamKey::new(tenant, StreamId(stream)));
        }
        let xrefs: Vec<(String, String, String, String, String)> =
            sqlx::query_as("SELECT tenant, kind, source_key, target_id, xref FROM cross_refs")
                .fetch_all(from.pool())
                .await
                .map_err(from_sqlx)?;
        for (tenant, kind, source_key, target_id, json) in xrefs {
            let done = sqlx::query(
                "INSERT INTO cross_refs (tenant, kind, source_key, target_id, xref)
                 VALUES ($1, $2, $3, $4, $5::jsonb)
                 ON CONFLICT (tenant, kind, source_key) DO NOTHING",
            )
            .bind(tenant)
            .bind(kind)
            .bind(source_key)
            .bind(target_id)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            report.cross_refs += done.rows_affected();
        }
        let gl: Vec<(String, String)> = sqlx::query_as("SELECT tenant, mapping FROM gl_mappings")
            .fetch_all(from.pool())
            .await
            .map_err(from_sqlx)?;
        for (tenant, json) in gl {
            let done = sqlx::query(
                "INSERT INTO gl_mappings (tenant, mapping) VALUES ($1, $2::jsonb)
                 ON CONFLICT (tenant) DO NOTHING",
            )
            .bind(tenant)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            report.gl_mappings += done.rows_affected();
        }
        let versions: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT tenant, document, version FROM source_versions")
                .fetch_all(from.pool())
                .await
                .map_err(from_sqlx)?;
        for (tenant, document, version) in versions {
            let done = sqlx::query(
                "INSERT INTO source_versions (tenant, document, version) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant, document) DO UPDATE SET version = excluded.version
                 WHERE source_versions.version < excluded.version",
            )
            .bind(tenant)
            .bind(document)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            report.source_versions += done.rows_affected();
        }
        tx.commit().await.map_err(from_sqlx)?;

        let fenced: Vec<(String, String)> =
            sqlx::query_as("SELECT tenant, stream FROM stream_fences")
                .fetch_all(from.pool())
                .await
                .map_err(from_sqlx)?;
        keys.extend(
            fenced
                .into_iter()
                .map(|(tenant, stream)| StreamKey::new(tenant, StreamId(stream))),
        );
        keys.sort();
        keys.dedup();
        report.jobs = self.register_jobs(&keys).await?;
        Ok(report)
    }
}
