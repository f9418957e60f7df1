//! The return direction's create, killed with SIGKILL at every step: the real `sync` binary
//! against both simulators, a purchase raised in Cin7 with six lines, and the binary killed
//! while CloudSuite holds the PO header and 0, 1, ... 5 of its lines. The ION simulator holds
//! the next line insert (a scripted delay, applied only after the delay) so each kill lands
//! exactly there. Two runs to the end must leave one complete CloudSuite PO with every line
//! once, no second Cin7 purchase (no echo), and nothing open in the audit trail.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cin7_core_client::purchase::{PurchaseHeader, PurchaseOrder as Cin7Order};
use common::{KEY_ENV, Sims};
use serde_json::json;
use sync_core::faults::Fault;
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditQuery, AuditStatus, AuditStore};
use sync_core::time::SystemClock;

const LINES: usize = 6;
const LINE_INSERT: &str = "POST /update/SLPoItems";

const RETURNS: &str = r#"
[returns]
write = "ido"
cin7_account_name = "cin7-sim"
[returns.locations]
"Main Warehouse" = "MAIN"
"#;

fn sync(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sync"));
    command
        .args(["--config", config.to_str().unwrap(), "--once"])
        .env(
            KEY_ENV,
            cin7_core_client::simulator::DEFAULT_APPLICATION_KEY,
        )
        .env_remove("SYNC_CONFIG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn run_to_end(config: &Path) {
    let status = sync(config).status().unwrap();
    assert!(status.success(), "sync --once: {status}");
}

fn line_inserts(sims: &Sims) -> u64 {
    sims.ion.calls().get(LINE_INSERT).copied().unwrap_or(0)
}

/// A purchase raised in Cin7 by a person: six lines, order authorised. Returns its id.
async fn raise_purchase(sims: &Sims) -> String {
    let client = sims.cin7.client_builder().build().unwrap();
    let supplier = sims
        .cin7
        .state()
        .suppliers
        .iter()
        .find(|s| s.additional_attribute(1) == Some("V000001"))
        .and_then(|s| s.id.clone())
        .expect("V000001 synced to Cin7");
    let header: PurchaseHeader = serde_json::from_value(json!({
        "SupplierID": supplier.to_string(),
        "Approach": "STOCK",
        "Location": "Main Warehouse",
        "PurchaseType": "Advanced",
    }))
    .unwrap();
    let created = client.purchases().create(&header).await.unwrap();
    let id = created.id.clone().unwrap();
    let lines: Vec<_> = (1..=LINES)
        .map(|n| {
            json!({"SKU": format!("ITEM-{n:05}"), "Name": format!("Item {n}"), "Quantity": n,
                   "Price": 2, "Tax": 0, "Total": 2 * n, "TaxRule": "GST on Expenses"})
        })
        .collect();
    let order: Cin7Order = serde_json::from_value(json!({
        "TaskID": id.to_string(), "Status": "AUTHORISED", "Lines": lines,
    }))
    .unwrap();
    client.purchases().save_order(&order).await.unwrap();
    id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_killed_after_the_header_and_after_each_line_completes_once_without_echo() {
    for stop_after in 0..LINES {
        let sims = common::start(40 + stop_after as u64, 4).await;
        let config = sims.config(40 + stop_after as u64, "", RETURNS);
        tokio::task::block_in_place(|| run_to_end(&config));
        let purchase = raise_purchase(&sims).await;
        let purchases_before = sims.cin7.state().purchases.len();

        // Let `stop_after` line inserts through, hold the next one until the kill.
        let before = line_inserts(&sims);
        for _ in 0..stop_after {
            sims.ion
                .faults()
                .push_script(LINE_INSERT, Fault::Delay(Duration::ZERO));
        }
        sims.ion
            .faults()
            .push_script(LINE_INSERT, Fault::Delay(Duration::from_secs(30)));
        tokio::task::block_in_place(|| {
            let mut child = sync(&config).spawn().unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            while line_inserts(&sims) < before + stop_after as u64 + 1 {
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "stop {stop_after}: sync ended before the held insert"
                );
                assert!(Instant::now() < deadline, "stop {stop_after}: no insert");
                std::thread::sleep(Duration::from_millis(1));
            }
            // SIGKILL: no destructor, no flush, no commit.
            child.kill().unwrap();
            child.wait().unwrap();
        });
        let po_rows = |sims: &Sims| -> Vec<String> {
            sims.ion
                .data()
                .rows("SLPos")
                .iter()
                .filter(|r| {
                    r.values.get("VendOrder").cloned().flatten().as_deref()
                        == Some(purchase.as_str())
                })
                .map(|r| r.values["PoNum"].clone().unwrap_or_default())
                .collect()
        };
        let half = po_rows(&sims);
        assert_eq!(half.len(), 1, "stop {stop_after}: the header was written");
        let po = half[0].clone();
        let lines_of = |sims: &Sims| -> Vec<String> {
            sims.ion
                .data()
                .rows("SLPoItems")
                .iter()
                .filter(|r| {
                    r.values.get("PoNum").cloned().flatten().as_deref() == Some(po.as_str())
                })
                .map(|r| r.values["PoLine"].clone().unwrap_or_default())
                .collect()
        };
        assert_eq!(
            lines_of(&sims).len(),
            stop_after,
            "killed after {stop_after} lines"
        );

        tokio::task::block_in_place(|| {
            run_to_end(&config);
            run_to_end(&config);
        });
        assert_eq!(
            po_rows(&sims),
            vec![po.clone()],
            "stop {stop_after}: one PO"
        );
        let lines = lines_of(&sims);
        let distinct: BTreeSet<&String> = lines.iter().collect();
        assert_eq!(
            (lines.len(), distinct.len()),
            (LINES, LINES),
            "stop {stop_after}: every line once: {lines:?}"
        );
        assert_eq!(
            sims.cin7.state().purchases.len(),
            purchases_before,
            "stop {stop_after}: no echo purchase in Cin7"
        );
        let store = SqliteStore::open(sims.store_path(), SystemClock::shared())
            .await
            .unwrap();
        let open = store
            .query(
                &AuditQuery::tenant(sims.ion.tenant().to_owned()).statuses(&[
                    AuditStatus::Failed,
                    AuditStatus::Pending,
                    AuditStatus::Deferred,
                    AuditStatus::Conflict,
                ]),
            )
            .await
            .unwrap();
        assert!(open.is_empty(), "stop {stop_after}: {open:#?}");
    }
}
