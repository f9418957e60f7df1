//! The real `sync` binary against a Cin7 account that does not hold the products CloudSuite's
//! POs name (the simulator's product catalogue profile): the POs are deferred with "unknown
//! SKU", the run exits 0 (nothing failed, nothing lost), and once the products exist the next
//! run writes every PO, once.

use std::collections::BTreeSet;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pos_wait_for_unknown_skus_and_go_through_once_they_exist() {
    let sims = start_both(105, 4, |c| c, |c| c.with_products(Vec::<String>::new())).await;
    let config = sims.config(105, "streams = [\"suppliers\", \"purchase_orders\"]", "");
    let first = sync_once(&config).await;
    let printed = text(&first);
    assert_eq!(
        first.status.code(),
        Some(0),
        "deferred is not failed: {printed}"
    );
    let pos = sims.ion.data().count("SLPos");
    let orders_written = |sims: &Sims| {
        sims.cin7
            .state()
            .purchases
            .iter()
            .filter(|p| p.order.as_ref().is_some_and(|o| !o.lines.is_empty()))
            .count()
    };
    assert_eq!(
        orders_written(&sims),
        0,
        "no order names an unknown SKU: {printed}"
    );
    let deferred: usize = printed
        .lines()
        .find(|l| l.starts_with("purchase_orders"))
        .and_then(|l| l.split_whitespace().nth(7))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert_eq!(deferred, pos, "every PO waits: {printed}");

    // The products are created in Cin7 (by a person, or a product sync).
    let skus: BTreeSet<String> = sims
        .ion
        .data()
        .rows("SLPoItems")
        .iter()
        .filter_map(|r| r.values.get("Item").cloned().flatten())
        .collect();
    assert!(!skus.is_empty());
    for sku in &skus {
        sims.cin7.add_product(sku);
    }
    let second = sync_once(&config).await;
    let printed = text(&second);
    assert_eq!(second.status.code(), Some(0), "{printed}");
    assert_eq!(
        sims.cin7.state().purchases.len(),
        pos,
        "one purchase per PO: {printed}"
    );
    let third = sync_once(&config).await;
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    assert_eq!(orders_written(&sims), pos);
}
