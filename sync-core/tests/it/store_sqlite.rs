//! SQLite-only behaviour: the file is created on first use, runs in WAL mode, keeps its data
//! across reopening, and refuses a schema written by a newer version.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]

use crate::store_support;

use store_support::*;
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{
    AuditQuery, AuditStatus, AuditStore, Checkpoint, CheckpointStore, StreamId, StreamKey,
    SyncStore, WindowCommit,
};
use sync_core::time::ManualClock;

#[tokio::test]
async fn file_is_created_in_wal_mode_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("deeper").join("sync.db");
    let clock = ManualClock::new(t0());
    let store = SqliteStore::open(&path, clock.shared()).await.unwrap();
    assert!(path.exists());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(
        store.schema_version().await.unwrap(),
        SqliteStore::SCHEMA_VERSION
    );

    let key = StreamKey::new("ACME", StreamId::suppliers());
    let fence = store.acquire_fence(&key).await.unwrap();
    let checkpoint = Checkpoint {
        cursor: Some(at(60)),
        ..Checkpoint::default()
    };
    let row = entry(
        "ACME",
        StreamId::suppliers(),
        "r",
        "r-1",
        "V1",
        AuditStatus::Failed,
        at(1),
    );
    store
        .commit_window(WindowCommit {
            key: key.clone(),
            checkpoint: Some(checkpoint.clone()),
            entries: vec![row.clone()],
            gl_mapping: None,
            fence: Some(fence),
        })
        .await
        .unwrap();
    store.close().await;

    let reopened = SqliteStore::open(&path, clock.shared()).await.unwrap();
    assert_eq!(reopened.load_checkpoint(&key).await.unwrap(), checkpoint);
    assert_eq!(
        reopened.query(&AuditQuery::tenant("ACME")).await.unwrap(),
        vec![row]
    );
    assert!(
        reopened.acquire_fence(&key).await.unwrap() > fence,
        "tokens survive too"
    );
    assert_eq!(
        reopened.schema_version().await.unwrap(),
        SqliteStore::SCHEMA_VERSION
    );
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.db");
    let clock = ManualClock::new(t0());
    let store = SqliteStore::open(&path, clock.shared()).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (999, 'from the future', 1, x'00', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let err = SqliteStore::open(&path, clock.shared()).await.unwrap_err();
    assert!(
        err.to_string().contains("schema version 999, newer"),
        "{err}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_path_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let clock = ManualClock::new(t0());
    let err = SqliteStore::open(blocker.join("sync.db"), clock.shared())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot create directory"), "{err}");
}

/// Two handles on one file writing concurrently: `BEGIN IMMEDIATE` plus the busy timeout keep
/// every commit, and the fence still decides who may commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.db");
    let clock = ManualClock::new(t0());
    let one = SqliteStore::open(&path, clock.shared()).await.unwrap();
    let two = SqliteStore::open(&path, clock.shared()).await.unwrap();
    let mut tasks = Vec::new();
    for (n, store) in [one.clone(), two.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let tenant = format!("T{n}");
                let key = StreamKey::new(tenant.clone(), StreamId::suppliers());
                let fence = store.acquire_fence(&key).await.unwrap();
                let row = entry(
                    &tenant,
                    StreamId::suppliers(),
                    "r",
                    &format!("r-{i}"),
                    "V",
                    AuditStatus::Succeeded,
                    at(i),
                );
                store
                    .commit_window(WindowCommit {
                        key,
                        checkpoint: Some(Checkpoint {
                            cursor: Some(at(i)),
                            ..Checkpoint::default()
                        }),
                        entries: vec![row],
                        gl_mapping: None,
                        fence: Some(fence),
                    })
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for n in 0..2 {
        let rows = one
            .query(&AuditQuery::tenant(format!("T{n}")))
            .await
            .unwrap();
        assert_eq!(rows.len(), 40);
        let key = StreamKey::new(format!("T{n}"), StreamId::suppliers());
        assert_eq!(
            two.load_checkpoint(&key).await.unwrap().cursor,
            Some(at(39))
        );
    }
}
