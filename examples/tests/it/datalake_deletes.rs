//! Deletions read from the Data Lake, through the real `sync` binary: CloudSuite deletes a
//! vendor and a purchase order, the simulated Data Lake publishes their `Delete` BODs, and the
//! next run applies `[mappings] deleted_suppliers = "deprecate"` and
//! `deleted_purchase_orders = "void"` — once, however often it runs again.

use cin7_core_client::purchase::PurchaseStatus;
use cin7_core_client::supplier::SupplierStatus;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_and_a_po_deleted_in_cloudsuite_are_deprecated_and_voided_in_cin7() {
    let sims = start(97, 4).await;
    let config = sims.config(97, "streams = [\"suppliers\", \"purchase_orders\"]", "");
    let text_of = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text_of
            .replace(
                "[cin7]\n",
                "[ion.routes]\nsuppliers = \"datalake\"\npurchase_orders = \"datalake\"\n[cin7]\n",
            )
            .replace(
                "[mappings.purchases]",
                "[mappings]\ndeleted_suppliers = \"deprecate\"\ndeleted_purchase_orders = \"void\"\n[mappings.purchases]",
            )
            // Draft orders: a purchase is voided only while it is one.
            .replace("order_status = \"authorised\"", "order_status = \"draft\"")
            // The published vendors carry no tax code.
            .replace(
                "default_location = \"Main Warehouse\"\n",
                "default_location = \"Main Warehouse\"\ndefault_tax_rule = \"GST on Expenses\"\n",
            ),
    )
    .unwrap();

    let first = sync_once(&config).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let live = |sims: &Sims| {
        let state = sims.cin7.state();
        let active = state
            .suppliers
            .iter()
            .filter(|s| s.status == Some(SupplierStatus::Active))
            .count();
        let open = state
            .purchases
            .iter()
            .filter(|p| p.status != Some(PurchaseStatus::Voided))
            .count();
        (active, open)
    };
    assert_eq!(live(&sims), (4, 2), "{}", text(&first));

    // CloudSuite deletes a PO and a vendor no PO names; the Data Lake publishes both `Delete`s.
    let (po, vendor) = {
        let data = sims.ion.data();
        let ordered: Vec<String> = data
            .rows("SLPos")
            .iter()
            .filter_map(|r| r.values["VendNum"].clone())
            .collect();
        let po = data.rows("SLPos")[0].values["PoNum"].clone().unwrap();
        let vendor = data
            .rows("SLVendors")
            .iter()
            .filter_map(|r| r.values["VendNum"].clone())
            .find(|v| !ordered.contains(v))
            .unwrap();
        (po, vendor)
    };
    let now = sims.ion.now();
    assert!(
        sims.ion
            .data()
            .delete_published("SLPos", &[po.as_str()], now)
    );
    assert!(
        sims.ion
            .data()
            .delete_published("SLVendors", &[vendor.as_str()], now)
    );

    let second = sync_once(&config).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(live(&sims), (3, 1), "{}", text(&second));
    let deprecated: Vec<String> = sims
        .cin7
        .state()
        .suppliers
        .iter()
        .filter(|s| s.status == Some(SupplierStatus::Deprecated))
        .filter_map(|s| s.additional_attribute(1).map(str::to_owned))
        .collect();
    assert_eq!(
        deprecated,
        [vendor],
        "the deleted vendor's supplier, by its vendor ID"
    );

    // Nothing is left to do: a third run writes nothing.
    let writes = sims.cin7_writes();
    let voids = || {
        sims.cin7
            .state()
            .calls
            .iter()
            .filter(|(call, _)| call.starts_with("DELETE "))
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    assert_eq!(voids(), 1);
    let third = sync_once(&config).await;
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    assert_eq!(
        (sims.cin7_writes(), voids()),
        (writes, 1),
        "{}",
        text(&third)
    );
}
