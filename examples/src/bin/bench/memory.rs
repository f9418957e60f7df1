//! Peak memory of syncing many records: one supplier window over generated suppliers (produced
//! as the engine pulls them) into a SQLite store, with a target that keeps nothing. Run once per
//! size in a fresh process, so `VmHWM` is this size's high-water mark.

use std::sync::Arc;
use std::time::Instant;

use sync_core::store::SyncStore;
use sync_core::store::sqlite::SqliteStore;
use sync_core::time::SystemClock;

use crate::TempDir;
use crate::generated::{rss_kib, supplier_window};

/// Run the memory benchmark for `records` suppliers.
pub async fn run(records: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = TempDir::new("memory");
    let store: Arc<dyn SyncStore> =
        Arc::new(SqliteStore::open(dir.0.join("sync.sqlite"), SystemClock::shared()).await?);
    let (hwm_before, rss_before) = rss_kib();
    let start = Instant::now();
    let report = supplier_window(store, "MEMBENCH", records).await?;
    let elapsed = start.elapsed();
    let (hwm_after, rss_after) = rss_kib();
    println!("# Peak memory, {records} records\n");
    println!("| figure | value |\n|---|---:|");
    println!("| records synced (succeeded) | {} |", report.succeeded);
    println!("| time | {:.1} s |", elapsed.as_secs_f64());
    println!("| VmHWM before / after | {hwm_before} KiB / {hwm_after} KiB |");
    println!("| VmRSS before / after | {rss_before} KiB / {rss_after} KiB |");
    println!(
        "| peak added by the sync | **{} KiB** ({:.2} KiB per record) |",
        hwm_after.saturating_sub(hwm_before),
        hwm_after.saturating_sub(hwm_before) as f64 / records.max(1) as f64
    );
    Ok(())
}
