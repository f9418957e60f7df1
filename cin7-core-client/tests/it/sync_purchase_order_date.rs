//! A CloudSuite PO's order date and required-by date reach Cin7 (issue 16): the purchase the
//! sync creates carries them, not the day of the run; a purchase created without one is dated
//! the day it is created, as Cin7 does.
#![cfg(all(feature = "sync", feature = "simulator"))]
#![allow(clippy::unwrap_used)]

use crate::simulator_support;

use std::sync::Arc;

use chrono::NaiveDate;
use cin7_core_client::purchase::{Approach as Cin7Approach, PurchaseHeader};
use cin7_core_client::sync::Cin7Target;
use simulator_support::canonical::{TENANT, mappings, po, supplier, t0};
use simulator_support::*;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner};
use sync_core::model::PurchaseOrder;
use sync_core::store::memory::MemoryStore;
use sync_core::testing::MemorySource;
use sync_core::time::ManualClock;

#[tokio::test]
async fn a_synced_purchase_carries_its_cloudsuite_order_date() {
    // The simulator's clock (the day of the run) is far from the PO's dates, so a purchase
    // dated "today" cannot pass for one dated by CloudSuite.
    let (_sim, client, _sim_clock) = start(|c| c).await;
    let target = Arc::new(Cin7Target::new(client.clone()));
    let ordered = NaiveDate::from_ymd_opt(2025, 11, 14).unwrap();
    let required = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    let suppliers = Arc::new(MemorySource::new(t0()));
    suppliers.upsert(supplier());
    let orders = Arc::new(MemorySource::new(t0()));
    orders.upsert(PurchaseOrder {
        order_date: ordered,
        required_by: Some(required),
        ..po("4500077")
    });

    let supplier_pipeline = Arc::new(SupplierPipeline::new(target.clone(), mappings()));
    let config = EngineConfig::default();
    let supplier_stream =
        StreamRunner::new(supplier_pipeline.clone(), suppliers.clone(), config.clone());
    let po_stream = StreamRunner::new(
        Arc::new(PurchaseOrderPipeline::new(
            target,
            mappings(),
            supplier_pipeline,
            suppliers,
        )),
        orders,
        config,
    );
    let run = RunContext::new(
        Arc::new(MemoryStore::new()),
        ManualClock::new(t0()).shared(),
        TENANT,
    );
    assert_eq!(
        supplier_stream
            .run_window(&run, None)
            .await
            .unwrap()
            .succeeded,
        1
    );
    let report = po_stream.run_window(&run, None).await.unwrap();
    assert_eq!(report.succeeded, 1, "{report:?}");

    let rows = client.purchases().list().all().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].order_date, Some(ordered), "list row");
    assert_eq!(rows[0].required_by, Some(required), "list row");
    let id = rows[0].id.clone().unwrap();
    let purchase = client.purchases().get(&id).send().await.unwrap();
    assert_eq!(purchase.order_date, Some(ordered), "advanced purchase");
    assert_eq!(purchase.required_by, Some(required), "advanced purchase");
}

#[tokio::test]
async fn a_purchase_sent_without_an_order_date_is_dated_the_day_it_is_created() {
    let (sim, client, clock) = start(|c| c).await;
    let supplier = client
        .suppliers()
        .create(&new_supplier("Dateless Ltd"))
        .await
        .unwrap();
    let header = PurchaseHeader {
        supplier_id: supplier.id.clone(),
        approach: Some(Cin7Approach::Stock),
        location: Some("Main Warehouse".into()),
        ..Default::default()
    };
    let today = sync_core::time::Clock::now(&clock).date_naive();
    let created = client.purchases().create(&header).await.unwrap();
    assert_eq!(created.order_date, Some(today));

    // A date that is not one is refused, not replaced by today.
    let bad = serde_json::json!({
        "SupplierID": supplier.id.unwrap().as_str(), "Approach": "STOCK",
        "Location": "Main Warehouse", "OrderDate": "someday",
    });
    let answer = reqwest::Client::new()
        .post(format!("{}advanced-purchase", sim.base_url()))
        .header("api-auth-accountid", sim.account_id())
        .header("api-auth-applicationkey", KEY)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert!(answer.text().await.unwrap().contains("OrderDate"));
}
