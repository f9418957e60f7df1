//! Purchase orders both ways, against both simulators on one manual clock: the forward sync
//! (CloudSuite → Cin7) and the return direction (Cin7 → CloudSuite) share one store, and
//! neither carries the other's writes back.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use cin7_core_client::Cin7Client;
use cin7_core_client::limiter::RateLimit;
use cin7_core_client::purchase::{PurchaseHeader, PurchaseOrder as Cin7Order, StockReceived};
use cin7_core_client::simulator::{Cin7Simulator, SimRateLimit, SimulatorConfig as Cin7Config};
use cin7_core_client::sync::Cin7Target;
use cin7_core_client::sync::returns::Cin7PurchaseSource;
use cin7_core_client::sync::triggers::{DEDUPE_WINDOW, triggers_for};
use cin7_core_client::webhook::{AuthorizationType, Webhook, WebhookEvent, WebhookType};
use examples::assemble::{Assembled, Parts, ReturnParts, Stream, assemble};
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::cloudsuite::returns::{CloudSuitePoWriter, PoWriteMode};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig as IonConfig};
use serde_json::json;
use sync_core::engine::returns::triggers::enqueue;
use sync_core::engine::returns::{ConflictPolicy, ReturnConfig, Winner};
use sync_core::engine::{EngineConfig, WindowReport};
use sync_core::error::MappingKind;
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{RecordKind, SourceIdentity};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditQuery, AuditStatus, SyncStore};
use sync_core::target::{Approach, DocStatus};
use sync_core::time::{Clock, ManualClock};

const TENANT: &str = "SIM_TST";

struct World {
    clock: ManualClock,
    ion: IonSimulator,
    cin7: Cin7Simulator,
    cin7_client: Cin7Client,
    store: Arc<dyn SyncStore>,
    forward: Assembled,
    returns: Assembled,
    scope: SourceIdentity,
}

fn engine() -> EngineConfig {
    EngineConfig {
        safety_lag: chrono::Duration::seconds(1),
        ..EngineConfig::default()
    }
}

async fn world(policy: ConflictPolicy, account: u64) -> World {
    world_with(policy, account, 3, |_| {}).await
}

/// A world with `purchase_orders` seeded POs and the mappings `adjust`ed.
async fn world_with(
    policy: ConflictPolicy,
    account: u64,
    purchase_orders: usize,
    adjust: impl FnOnce(&mut Mappings),
) -> World {
    let clock = ManualClock::new(chrono::Utc::now());
    let ion = IonSimulator::start(IonConfig {
        seed: Seed {
            suppliers: 4,
            purchase_orders,
            lines_per_order: 2,
            invoices: 0,
            payments: 0,
            customers: 0,
            items: 6,
            ..Seed::default()
        },
        clock: clock.shared(),
        ..IonConfig::default()
    })
    .await
    .unwrap();
    // Enough on order to receive one unit at a time many times.
    {
        let mut data = ion.data();
        let keys: Vec<(String, String)> = data
            .rows("SLPoItems")
            .iter()
            .map(|r| {
                (
                    r.values["PoNum"].clone().unwrap(),
                    r.values["PoLine"].clone().unwrap(),
                )
            })
            .collect();
        for (po, line) in keys {
            data.update(
                "SLPoItems",
                &[po.as_str(), line.as_str(), "0"],
                &[("QtyOrdered", Some("50"))],
                clock.now() - chrono::Duration::days(1),
            );
        }
    }
    let cin7 = Cin7Simulator::start(
        Cin7Config::new(
            format!("5a1e0c7e-51a0-4c1d-9c0e-{account:012x}"),
            cin7_core_client::simulator::DEFAULT_APPLICATION_KEY,
        )
        .with_clock(clock.shared())
        .with_rate_limit(SimRateLimit::new(10_000, Duration::from_secs(60))),
    )
    .await
    .unwrap();
    let ion_client = ion.client_builder().unwrap().build().unwrap();
    let cin7_client = cin7
        .client_builder()
        .rate_limit(RateLimit::new(10_000, Duration::from_secs(60)).unwrap())
        .build()
        .unwrap();
    let store: Arc<dyn SyncStore> = Arc::new(MemoryStore::new());
    let mut mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::PaymentTerm, "N45", "Net 60")
            .with(MappingKind::PaymentTerm, "N60", "Net 60")
            .with(MappingKind::TaxRule, "TX", "GST on Expenses")
            .with(MappingKind::Location, "MAIN", "Main Warehouse"),
    );
    mappings.purchases.default_location = Some("Main Warehouse".to_owned());
    // Stock first, and orders stay DRAFT in Cin7 until a person authorises them there.
    mappings.purchases.order_status = DocStatus::Draft;
    mappings.purchases.approach = Approach::Stock;
    adjust(&mut mappings);
    let scope = SourceIdentity::new(infor_ion_client::cloudsuite::SYSTEM, TENANT, "MAIN", "");
    let mut config = ReturnConfig::new(scope.clone());
    config.policy = policy;
    config
        .locations
        .insert("Main Warehouse".into(), "MAIN".into());
    // Both directions wired as the runner binaries do, on one store: the forward streams
    // (suppliers, then purchase orders) and the return stream, run separately so each test
    // can alternate them.
    let parts = |streams: Vec<Stream>| Parts {
        tenant: TENANT.to_owned(),
        source: CloudSuiteSource::csi(ion_client.csi(ion.mongoose_config()), "MAIN")
            .default_currency("USD"),
        target: Arc::new(Cin7Target::new(cin7_client.clone())),
        store: store.clone(),
        clock: clock.shared(),
        mappings: mappings.clone(),
        engine: engine(),
        streams,
        returns: Some(ReturnParts {
            writer: Arc::new(CloudSuitePoWriter::new(
                ion_client.csi(ion.mongoose_config()),
                PoWriteMode::Ido,
            )),
            cin7: Cin7PurchaseSource::new(cin7_client.clone(), "cin7-sim"),
            config: config.clone(),
            invoices: true,
        }),
        progress: None,
    };
    let forward = assemble(parts(vec![Stream::Suppliers, Stream::PurchaseOrders])).unwrap();
    let returns = assemble(parts(vec![Stream::PurchaseReturns])).unwrap();
    World {
        clock,
        ion,
        cin7,
        cin7_client,
        store,
        forward,
        returns,
        scope,
    }
}

impl World {
    fn tick(&self) {
        self.clock.advance(Duration::from_secs(60));
    }

    async fn forward(&self) {
        self.tick();
        let report = self.forward.runner.run_once(None).await;
        assert!(report.is_ok(), "{report:?}");
    }

    async fn back(&self) -> WindowReport {
        self.tick();
        let report = self.returns.runner.run_once(None).await;
        report.streams[0].result.clone().unwrap()
    }

    /// IDO writes CloudSuite received.
    fn ion_writes(&self) -> u64 {
        self.ion
            .calls()
            .iter()
            .filter(|(k, _)| k.starts_with("POST /update/"))
            .map(|(_, n)| n)
            .sum()
    }

    /// Writes Cin7 received.
    fn cin7_writes(&self) -> u64 {
        self.cin7
            .state()
            .calls
            .iter()
            .filter(|(k, _)| k.starts_with("POST ") || k.starts_with("PUT "))
            .map(|(_, n)| n)
            .sum()
    }

    async fn purchase_of(&self, po: &str) -> cin7_core_client::Guid {
        let xref = self
            .store
            .cross_ref(TENANT, RecordKind::PurchaseOrder, &self.scope.sibling(po))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{po} is in Cin7"));
        xref.target_id.parse().unwrap()
    }

    async fn authorise(&self, purchase: &cin7_core_client::Guid) {
        let purchases = self.cin7_client.purchases();
        let mut order: Cin7Order = purchases.order(purchase).await.unwrap();
        order.task_id = Some(purchase.clone());
        order.status = Some(cin7_core_client::purchase::TaskStatus::Authorised);
        purchases.save_order(&order).await.unwrap();
    }

    async fn receive(&self, purchase: &cin7_core_client::Guid, sku: &str, quantity: u32) {
        let stock: StockReceived = serde_json::from_value(json!({
            "PurchaseID": purchase.to_string(),
            "Status": "AUTHORISED",
            "Lines": [{
                "Date": self.clock.now().date_naive().to_string(),
                "SKU": sku,
                "Quantity": quantity,
            }],
        }))
        .unwrap();
        self.cin7_client
            .purchases()
            .receive_stock(&stock)
            .await
            .unwrap();
    }

    fn cs_line(&self, po: &str, line: &str, property: &str) -> String {
        self.ion
            .data()
            .find("SLPoItems", &[po, line, "0"])
            .unwrap()
            .values[property]
            .clone()
            .unwrap_or_default()
    }

    fn cs_item(&self, po: &str, line: &str) -> String {
        self.cs_line(po, line, "Item")
    }

    async fn open_conflicts(&self, stream: &str) -> Vec<sync_core::store::AuditEntry> {
        self.store
            .query(
                &AuditQuery::tenant(TENANT.to_owned())
                    .stream(sync_core::store::StreamId(stream.into()))
                    .statuses(&[AuditStatus::Conflict]),
            )
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_in_cin7_updates_the_cloudsuite_po_without_echo() {
    let w = world(ConflictPolicy::default(), 1).await;
    w.forward().await;
    let first = w.back().await;
    assert_eq!(first.failed, 0, "{first:?}");
    assert_eq!(
        w.ion_writes(),
        0,
        "reading back the forward writes writes nothing"
    );

    let purchase = w.purchase_of("PO0000001").await;
    let sku = w.cs_item("PO0000001", "1");
    w.authorise(&purchase).await;
    w.receive(&purchase, &sku, 3).await;
    let report = w.back().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(w.cs_line("PO0000001", "1", "QtyReceived"), "3");
    assert_eq!(w.cs_line("PO0000001", "2", "QtyReceived"), "0");

    // The forward sync reads the PO CloudSuite changed and writes nothing to Cin7.
    let before = w.cin7_writes();
    w.forward().await;
    assert_eq!(w.cin7_writes(), before);
    assert!(w.open_conflicts("purchase_orders").await.is_empty());
    // And the return direction has nothing more to do.
    let writes = w.ion_writes();
    w.back().await;
    assert_eq!(w.ion_writes(), writes);

    // Everything received: the PO is closed in CloudSuite, and the forward sync, which now
    // reads a changed status, recognises its own direction's write and leaves Cin7 alone.
    let second = w.cs_item("PO0000001", "2");
    w.receive(&purchase, &sku, 47).await;
    w.receive(&purchase, &second, 50).await;
    w.back().await;
    assert_eq!(
        w.ion.data().find("SLPos", &["PO0000001"]).unwrap().values["Stat"].as_deref(),
        Some("F")
    );
    assert_eq!(w.cs_line("PO0000001", "2", "QtyReceived"), "50");
    let before = w.cin7_writes();
    w.forward().await;
    w.back().await;
    assert_eq!(w.cin7_writes(), before);
    assert!(w.open_conflicts("purchase_orders").await.is_empty());
    assert!(w.open_conflicts("purchase_returns").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_return_pass_writes_nothing_and_later_receipts_are_written_once() {
    // Planned and closed POs written to Cin7 too, their orders authorised by the forward sync.
    let w = world_with(ConflictPolicy::default(), 8, 4, |m| {
        m.purchases.order_status = DocStatus::Authorised;
        m.purchases.planned = sync_core::mapping::PlannedPoRule::Order;
        m.purchases.closed = sync_core::mapping::ClosedPoRule::Create;
    })
    .await;
    {
        let mut data = w.ion.data();
        let now = w.clock.now();
        let mut set = |po: &str, line: &str, received: &str| {
            data.update(
                "SLPoItems",
                &[po, line, "0"],
                &[("QtyReceived", Some(received))],
                now,
            )
        };
        set("PO0000001", "1", "50"); // fully received
        set("PO0000001", "2", "50");
        set("PO0000002", "1", "10"); // partly received
        set("PO0000004", "1", "50"); // closed below
        set("PO0000004", "2", "50");
        data.update("SLPos", &["PO0000003"], &[("Stat", Some("P"))], now);
        data.update("SLPos", &["PO0000004"], &[("Stat", Some("F"))], now);
    }
    w.forward().await;
    for po in ["PO0000001", "PO0000002", "PO0000003", "PO0000004"] {
        w.purchase_of(po).await;
    }
    let reads = w
        .cin7
        .state()
        .calls
        .get("GET /advanced-purchase")
        .copied()
        .unwrap_or(0);
    let first = w.back().await;
    assert_eq!((first.failed, first.conflicts), (0, 0), "{first:?}");
    assert_eq!(
        w.ion_writes(),
        0,
        "the first pass writes nothing to CloudSuite"
    );
    assert_eq!(
        w.cin7
            .state()
            .calls
            .get("GET /advanced-purchase")
            .copied()
            .unwrap_or(0),
        reads,
        "the forward sync's own purchases are not read back"
    );
    assert_eq!(w.cs_line("PO0000001", "1", "QtyReceived"), "50");
    assert_eq!(
        w.ion.data().find("SLPos", &["PO0000003"]).unwrap().values["Stat"].as_deref(),
        Some("P"),
        "a planned PO the forward sync authorised stays planned"
    );

    // Stock received in Cin7 in two steps reaches CloudSuite once each, on top of its own 10.
    let purchase = w.purchase_of("PO0000002").await;
    let sku = w.cs_item("PO0000002", "1");
    for (quantity, expected) in [(4, "14"), (3, "17")] {
        w.receive(&purchase, &sku, quantity).await;
        let writes = w.ion_writes();
        w.back().await;
        assert_eq!(w.ion_writes(), writes + 1);
        assert_eq!(w.cs_line("PO0000002", "1", "QtyReceived"), expected);
        w.back().await;
        assert_eq!(w.ion_writes(), writes + 1, "written once");
    }
    assert!(w.open_conflicts("purchase_returns").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_raised_in_cin7_reaches_cloudsuite_once() {
    let w = world(ConflictPolicy::default(), 2).await;
    w.forward().await;
    w.back().await;
    let supplier = w
        .store
        .cross_ref(TENANT, RecordKind::Supplier, &w.scope.sibling("V000001"))
        .await
        .unwrap()
        .expect("V000001 is in Cin7")
        .target_id;
    let header: PurchaseHeader = serde_json::from_value(json!({
        "SupplierID": supplier,
        "Approach": "STOCK",
        "Location": "Main Warehouse",
        "PurchaseType": "Advanced",
    }))
    .unwrap();
    let purchases = w.cin7_client.purchases();
    let created = purchases.create(&header).await.unwrap();
    let id = created.id.clone().unwrap();
    let order: Cin7Order = serde_json::from_value(json!({
        "TaskID": id.to_string(),
        "Status": "AUTHORISED",
        "Lines": [
            {"SKU": "ITEM-00002", "Name": "Widget", "Quantity": 4, "Price": 2.5, "Tax": 0, "Total": 10, "TaxRule": "GST on Expenses"},
            {"SKU": "ITEM-00003", "Name": "Gadget", "Quantity": 1, "Price": 7, "Tax": 0, "Total": 7, "TaxRule": "GST on Expenses"},
        ],
    }))
    .unwrap();
    purchases.save_order(&order).await.unwrap();
    let number = created.order_number.clone().unwrap();

    let report = w.back().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let po = format!("C7{digits:0>8}");
    let row = w.ion.data().find("SLPos", &[po.as_str()]).cloned();
    let row = row.unwrap_or_else(|| panic!("{po} created in CloudSuite"));
    assert_eq!(row.values["VendNum"].as_deref(), Some("V000001"));
    assert_eq!(row.values["Whse"].as_deref(), Some("MAIN"));
    assert_eq!(w.cs_item(&po, "1"), "ITEM-00002");
    assert_eq!(w.cs_line(&po, "1", "QtyOrdered"), "4");

    // The forward sync sees the new CloudSuite PO and knows it is that Cin7 purchase.
    let purchases_before = w.cin7.state().purchases.len();
    let writes = w.cin7_writes();
    w.forward().await;
    assert_eq!(w.cin7.state().purchases.len(), purchases_before);
    assert_eq!(w.cin7_writes(), writes);
    // Receiving it in Cin7 updates the PO created in CloudSuite.
    w.receive(&id, "ITEM-00003", 1).await;
    w.back().await;
    assert_eq!(w.cs_line(&po, "2", "QtyReceived"), "1");
    assert_eq!(
        w.ion
            .data()
            .find("SLPos", &[po.as_str()])
            .unwrap()
            .values
            .len(),
        row.values.len()
    );
    assert_eq!(w.ion.data().count("SLPos"), 4, "created once, never twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_echo_over_20_alternating_cycles() {
    let w = world(ConflictPolicy::default(), 3).await;
    w.forward().await;
    w.back().await;
    // PO 1 is received in Cin7 a unit at a time; PO 2 keeps changing in CloudSuite while its
    // Cin7 order is still a draft.
    let received = w.purchase_of("PO0000001").await;
    let sku = w.cs_item("PO0000001", "1");
    w.authorise(&received).await;
    w.back().await;
    let mut expected_ion = w.ion_writes();
    let mut expected_cin7 = w.cin7_writes();
    for cycle in 0..20 {
        if cycle % 2 == 0 {
            w.receive(&received, &sku, 1).await;
            expected_cin7 += 1;
            w.back().await;
            expected_ion += 1;
            assert_eq!(
                w.ion_writes(),
                expected_ion,
                "cycle {cycle}: one receipt written"
            );
            w.forward().await;
            assert_eq!(
                w.cin7_writes(),
                expected_cin7,
                "cycle {cycle}: no echo to Cin7"
            );
        } else {
            let quantity = (10 + cycle).to_string();
            {
                let mut data = w.ion.data();
                // A line edited alone: the header's RecordDate does not move, and the
                // forward source still finds the PO through its changed line.
                data.update(
                    "SLPoItems",
                    &["PO0000002", "1", "0"],
                    &[("QtyOrdered", Some(quantity.as_str()))],
                    w.clock.now(),
                );
            }
            w.forward().await;
            assert!(
                w.cin7_writes() > expected_cin7,
                "cycle {cycle}: the change reached Cin7"
            );
            expected_cin7 = w.cin7_writes();
            w.back().await;
            assert_eq!(
                w.ion_writes(),
                expected_ion,
                "cycle {cycle}: no echo to CloudSuite"
            );
        }
    }
    assert_eq!(w.cs_line("PO0000001", "1", "QtyReceived"), "10");
    // Idle cycles write nothing anywhere.
    for _ in 0..3 {
        w.forward().await;
        w.back().await;
    }
    assert_eq!(w.ion_writes(), expected_ion);
    assert_eq!(w.cin7_writes(), expected_cin7);
    assert!(w.open_conflicts("purchase_returns").await.is_empty());
    assert!(w.open_conflicts("purchase_orders").await.is_empty());
}

/// CloudSuite records 2 received on line 1 while Cin7 receives 5 there.
async fn conflicting(policy: ConflictPolicy, account: u64) -> (World, WindowReport) {
    let w = world(policy, account).await;
    w.forward().await;
    let purchase = w.purchase_of("PO0000001").await;
    let sku = w.cs_item("PO0000001", "1");
    w.authorise(&purchase).await;
    w.back().await;
    w.ion.data().update(
        "SLPoItems",
        &["PO0000001", "1", "0"],
        &[("QtyReceived", Some("2"))],
        w.clock.now(),
    );
    w.receive(&purchase, &sku, 5).await;
    let report = w.back().await;
    (w, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_follow_the_policy_per_field_group() {
    let (w, report) = conflicting(ConflictPolicy::all(Winner::Target), 4).await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    // Cin7 wins: the 5 newly received there are added to CloudSuite's own 2.
    assert_eq!(w.cs_line("PO0000001", "1", "QtyReceived"), "7");

    let (w, report) = conflicting(ConflictPolicy::all(Winner::Source), 5).await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(w.cs_line("PO0000001", "1", "QtyReceived"), "2");

    let (w, report) = conflicting(ConflictPolicy::all(Winner::Review), 6).await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    assert_eq!(w.cs_line("PO0000001", "1", "QtyReceived"), "2");
    let conflicts = w.open_conflicts("purchase_returns").await;
    assert_eq!(conflicts.len(), 1);
    let both = conflicts[0].mapped_snapshot.as_ref().unwrap();
    assert_eq!(both["source_version"]["lines"][0]["received"], "2");
    assert_eq!(both["target_version"]["lines"][0]["received"], "5");
    // Flagged once: the next window adds no second row while nothing changes.
    w.back().await;
    assert_eq!(w.open_conflicts("purchase_returns").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_trigger_a_sync_at_once_duplicates_out_of_order_and_sub_tasks_included() {
    let w = world(ConflictPolicy::default(), 7).await;
    w.forward().await;
    w.back().await;
    // Cin7 delivers the receipt events (here to a closed port: the bodies are what matters;
    // the HTTP intake is tested in cin7-core-client).
    w.cin7_client
        .webhooks()
        .create(&Webhook {
            webhook_type: Some(WebhookType::PurchaseStockReceivedAuthorised),
            is_active: Some(true),
            external_url: "http://127.0.0.1:9/".into(),
            external_authorization_type: Some(AuthorizationType::NoAuth),
            ..Default::default()
        })
        .await
        .unwrap();
    let purchase = w.purchase_of("PO0000001").await;
    let sku = w.cs_item("PO0000001", "1");
    w.authorise(&purchase).await;
    w.receive(&purchase, &sku, 3).await;
    w.receive(&purchase, &sku, 2).await;
    let deliveries = w
        .cin7
        .wait_for_deliveries(2, Duration::from_secs(5))
        .await
        .unwrap();
    // Distinct bodies in delivery order (a failed delivery may be retried).
    let mut bodies: Vec<String> = Vec::new();
    for body in deliveries.iter().map(|d| d.body.to_string()) {
        if !bodies.contains(&body) {
            bodies.push(body);
        }
    }
    assert_eq!(bodies.len(), 2);
    let task_ids: Vec<String> = deliveries
        .iter()
        .map(|d| d.body["TaskID"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(
        task_ids
            .iter()
            .any(|t| *t != purchase.to_string().to_lowercase()),
        "the second receipt names a sub-task: {task_ids:?}"
    );
    // Out of order, and the first delivered twice (Cin7 retries).
    let mut queued = 0;
    for body in [&bodies[1], &bodies[0], &bodies[0]] {
        let event = WebhookEvent::parse(body.as_bytes()).unwrap();
        for trigger in triggers_for(&event, "cin7-sim", w.clock.now(), DEDUPE_WINDOW) {
            if enqueue(w.store.as_ref(), TENANT, &trigger).await.unwrap() {
                queued += 1;
            }
        }
    }
    assert_eq!(queued, 2, "the redelivery is queued once");

    // No window runs: the triggers alone bring the receipt to CloudSuite, in one write.
    let writes = w.ion_writes();
    let report = w.returns.runner.run_triggers().await.unwrap();
    assert_eq!((report.triggers, report.purchases), (2, 1), "{report:?}");
    assert_eq!(w.cs_line("PO0000001", "1", "QtyReceived"), "5");
    assert_eq!(w.ion_writes(), writes + 1);
    // The scheduled window later finds nothing left to write.
    w.back().await;
    assert_eq!(w.ion_writes(), writes + 1);
}
