//! sync-core's supplier and purchase-order pipelines, run through its public runner with the
//! in-memory store and in-memory sources, writing to a mockito Cin7 through `Cin7Target`.
//! Every Cin7 call is an exact expectation; a catch-all fails on anything else.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cin7_core_client::sync::Cin7Target;
use common::{assert_catch_all, catch_all, client, fixture_json, with_auth};
use mockito::{Matcher, Mock, Server, ServerGuard};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner};
use sync_core::error::MappingKind;
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{PartyStatus, PoLine, PoStatus, PurchaseOrder, SourceIdentity, Supplier};
use sync_core::replay::{ReplayMode, ReplayScope, Replayer};
use sync_core::runner::TenantRunner;
use sync_core::store::memory::MemoryStore;
use sync_core::store::{Action, AuditStatus, ErrorClass, MatchResult, StreamId};
use sync_core::testing::MemorySource;
use sync_core::time::ManualClock;

const TENANT: &str = "ACME_PRD";
const ACME: &str = "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11";
const BOLT: &str = "9d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09";
const P1: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const P2: &str = "aaaaaaaa-0000-4000-8000-000000000002";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

fn supplier(vendor: &str, name: &str) -> Supplier {
    Supplier {
        identity: SourceIdentity::new("cloudsuite", TENANT, "10", vendor),
        vendor_id: vendor.to_owned(),
        name: name.to_owned(),
        currency: "NZD".into(),
        payment_term: Some("N30".into()),
        tax_rule: Some("STD".into()),
        tax_number: None,
        status: PartyStatus::Active,
        addresses: vec![],
        contacts: vec![],
        modified_at: t0() - Duration::hours(1),
    }
}

fn po(number: &str, vendor: &str, modified: DateTime<Utc>) -> PurchaseOrder {
    PurchaseOrder {
        identity: SourceIdentity::new("cloudsuite", TENANT, "10", number),
        po_number: number.to_owned(),
        vendor_id: vendor.to_owned(),
        order_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        required_by: None,
        currency: "NZD".into(),
        location: Some("MAIN".into()),
        status: PoStatus::Ordered,
        memo: None,
        lines: vec![PoLine {
            line_no: 1,
            sku: "WID-1".into(),
            description: "Widget".into(),
            quantity: Decimal::from(4),
            unit_price: Decimal::new(1250, 2),
            tax_rule: Some("STD".into()),
        }],
        modified_at: modified,
    }
}

/// Acme as Cin7 holds it, stamped with the CloudSuite vendor ID.
fn acme_row() -> Value {
    let mut row = fixture_json("supplier_list.json")["SupplierList"][0].clone();
    row["AdditionalAttribute1"] = json!("V1001");
    row
}

fn envelope(rows: Vec<Value>) -> String {
    json!({"Total": rows.len(), "Page": 1, "SupplierList": rows}).to_string()
}

/// A purchase as Cin7 answers a fresh `POST /advanced-purchase`.
fn fresh_purchase(id: &str, supplier: &str, reference: &str) -> Value {
    let mut p = fixture_json("advanced_purchase.json");
    p["ID"] = json!(id);
    p["SupplierID"] = json!(supplier);
    p["Status"] = json!("DRAFT");
    p["Approach"] = json!("STOCK");
    p["AdditionalAttributes"] = json!({"AdditionalAttribute1": reference});
    p["Order"] =
        json!({"TaskID": id, "Status": "NOT AVAILABLE", "Lines": [], "AdditionalCharges": []});
    p["StockReceived"] = json!([]);
    p["Invoice"] = json!([{"TaskID": id, "Status": "NOT AVAILABLE", "Lines": []}]);
    p
}

fn order_body(task: &str) -> Value {
    json!({
        "TaskID": task,
        "Status": "DRAFT",
        "Lines": [{"SKU": "WID-1", "Name": "Widget", "Quantity": 4, "Price": 12.5,
                   "TaxRule": "GST on Expenses", "Total": 50.0}],
        "AdditionalCharges": []
    })
}

fn order_answer(task: &str) -> String {
    let mut answer = fixture_json("purchase_order.json");
    answer["TaskID"] = json!(task);
    answer["Status"] = json!("DRAFT");
    answer.to_string()
}

fn supplier_list_mock(server: &mut ServerGuard, account: &str, rows: Vec<Value>) -> Mock {
    with_auth(server.mock("GET", "/supplier"), account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("IncludeDeprecated".into(), "true".into()),
            Matcher::UrlEncoded("Page".into(), "1".into()),
            Matcher::UrlEncoded("Limit".into(), "1000".into()),
        ]))
        .with_body(envelope(rows))
        .expect(1)
        .create()
}

fn get_purchase_mock(server: &mut ServerGuard, id: &str, body: &Value, times: usize) -> Mock {
    server
        .mock("GET", "/advanced-purchase")
        .match_query(Matcher::UrlEncoded("ID".into(), id.into()))
        .with_body(body.to_string())
        .expect(times)
        .create()
}

#[tokio::test]
async fn suppliers_and_purchase_orders_flow_into_cin7_and_an_uncertain_create_is_found_not_repeated()
 {
    let mut server = Server::new_async().await;
    let clock = ManualClock::new(t0());
    let (client, account) = client(&server, &clock);
    let target = Arc::new(Cin7Target::new(client));

    let suppliers = Arc::new(MemorySource::new(t0()));
    suppliers.upsert(supplier("V1001", "Acme Fasteners Ltd"));
    suppliers.upsert(supplier("V1002", "Bolt & Co"));
    let orders = Arc::new(MemorySource::new(t0()));
    orders.upsert(po("4500012", "V1002", t0() - Duration::minutes(30)));

    let mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::TaxRule, "STD", "GST on Expenses")
            .with(MappingKind::Location, "MAIN", "Main Warehouse"),
    );
    let supplier_pipeline = Arc::new(SupplierPipeline::new(target.clone(), mappings.clone()));
    let po_pipeline = Arc::new(PurchaseOrderPipeline::new(
        target.clone(),
        mappings,
        supplier_pipeline.clone(),
        suppliers.clone(),
    ));
    let store = MemoryStore::new();
    let runner = TenantRunner::new(TENANT, Arc::new(store.clone()), clock.shared())
        .with_suppliers(StreamRunner::new(
            supplier_pipeline,
            suppliers.clone(),
            EngineConfig::default(),
        ))
        .with_purchase_orders(StreamRunner::new(
            po_pipeline.clone(),
            orders.clone(),
            EngineConfig::default(),
        ));

    // Run 1: Acme is matched by its stamped vendor ID and updated, Bolt is created, and the PO
    // becomes an advanced purchase of Bolt with its lines.
    let list = supplier_list_mock(&mut server, &account, vec![acme_row()]);
    let get_acme = with_auth(server.mock("GET", "/supplier"), &account)
        .match_query(Matcher::UrlEncoded("ID".into(), ACME.into()))
        .with_body(envelope(vec![acme_row()]))
        .expect(1)
        .create();
    let put_acme = with_auth(server.mock("PUT", "/supplier"), &account)
        .match_body(Matcher::PartialJson(json!({
            "ID": ACME,
            "Name": "Acme Fasteners Ltd",
            "Currency": "NZD",
            "PaymentTerm": "30 days",
            "TaxRule": "GST on Expenses",
            "AccountPayable": "800",
            "Status": "Active",
            "AdditionalAttribute1": "V1001",
            "Discount": 2.0,
            "Addresses": [{"ID": "1a5d29a2-0c1b-4bb7-9f51-0a0b8d6c7e01"}]
        })))
        .with_body(envelope(vec![acme_row()]))
        .expect(1)
        .create();
    let mut bolt_saved = fixture_json("supplier_saved.json")["SupplierList"][0].clone();
    bolt_saved["Name"] = json!("Bolt & Co");
    bolt_saved["AdditionalAttribute1"] = json!("V1002");
    let post_bolt = with_auth(server.mock("POST", "/supplier"), &account)
        .match_body(Matcher::Json(json!({
            "Name": "Bolt & Co",
            "Currency": "NZD",
            "PaymentTerm": "30 days",
            "AccountPayable": "800",
            "TaxRule": "GST on Expenses",
            "Status": "Active",
            "AdditionalAttribute1": "V1002"
        })))
        .with_body(envelope(vec![bolt_saved]))
        .expect(1)
        .create();
    let post_p1 = with_auth(server.mock("POST", "/advanced-purchase"), &account)
        .match_body(Matcher::Json(json!({
            "SupplierID": BOLT,
            "Approach": "STOCK",
            "Location": "Main Warehouse",
            "PurchaseType": "Advanced",
            "OrderDate": "2026-03-01T00:00:00.000",
            "AdditionalAttributes": {"AdditionalAttribute1": "4500012"}
        })))
        .with_body(fresh_purchase(P1, BOLT, "4500012").to_string())
        .expect(1)
        .create();
    // The order is written on the view the create answered: no GET /advanced-purchase.
    let order_p1 = with_auth(server.mock("POST", "/purchase/order"), &account)
        .match_body(Matcher::Json(order_body(P1)))
        .with_body(order_answer(P1))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);

    let report = runner.run_once(None).await;
    assert!(report.is_ok(), "{report:?}");
    for m in [&list, &get_acme, &put_acme, &post_bolt, &post_p1, &order_p1] {
        m.assert();
    }
    assert_catch_all(&rest);
    let entries = store.all_entries();
    let of = |stream: StreamId, id: &str| {
        entries
            .iter()
            .filter(|e| e.stream == stream && e.source.id == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    let acme = of(StreamId::suppliers(), "V1001");
    assert_eq!(acme.len(), 1);
    assert_eq!(
        (acme[0].status, acme[0].action, acme[0].match_result),
        (
            AuditStatus::Succeeded,
            Action::Update,
            Some(MatchResult::ById)
        )
    );
    assert_eq!(acme[0].target_id.as_deref(), Some(ACME));
    let bolt = of(StreamId::suppliers(), "V1002");
    assert_eq!(
        (
            bolt[0].status,
            bolt[0].match_result,
            bolt[0].target_id.as_deref()
        ),
        (
            AuditStatus::Succeeded,
            Some(MatchResult::Created),
            Some(BOLT)
        )
    );
    let p1 = of(StreamId::purchase_orders(), "4500012");
    assert_eq!(
        (p1[0].status, p1[0].action, p1[0].target_id.as_deref()),
        (AuditStatus::Succeeded, Action::Create, Some(P1))
    );
    for m in [list, get_acme, put_acme, post_bolt, post_p1, order_p1] {
        m.remove();
    }
    for m in rest {
        m.remove();
    }

    // Run 2: a new PO for Acme; Cin7 answers its create with a 500, so whether the purchase
    // exists is unknown. Unchanged suppliers and the first PO cost no calls, not even the
    // supplier index (it is read only when a supplier needs matching).
    let at = t0() + Duration::minutes(10);
    orders.upsert(po("4500013", "V1001", at));
    orders.set_server_time(at + Duration::minutes(5));
    suppliers.set_server_time(at + Duration::minutes(5));
    let list = supplier_list_mock(&mut server, &account, vec![acme_row()]);
    let post_p2 = with_auth(server.mock("POST", "/advanced-purchase"), &account)
        .match_body(Matcher::PartialJson(json!({
            "SupplierID": ACME,
            "AdditionalAttributes": {"AdditionalAttribute1": "4500013"}
        })))
        .with_status(500)
        .with_body(r#"{"ErrorCode":500,"Exception":"Timeout expired"}"#)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let report = runner.run_once(None).await;
    assert!(report.is_ok(), "{report:?}");
    assert!(!list.matched(), "an idle supplier window read the index");
    post_p2.assert();
    assert_catch_all(&rest);
    let failed = store
        .all_entries()
        .into_iter()
        .filter(|e| e.source.id == "4500013")
        .collect::<Vec<_>>();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, AuditStatus::Failed);
    assert_eq!(
        failed[0].error.as_ref().map(|e| e.class),
        Some(ErrorClass::UnknownOutcome)
    );
    list.remove();
    post_p2.remove();
    for m in rest {
        m.remove();
    }

    // Replay: the purchase did land in Cin7. The shared lookup of the window's uncertain
    // records (here one) walks the purchases changed since the intent (an hour of margin for
    // clocks): Search does not see the stamped attribute, so its DRAFT candidates are read,
    // the purchase carrying the reference is adopted and its lines written. No second POST
    // /advanced-purchase, and no Search.
    let walk = with_auth(server.mock("GET", "/purchaseList"), &account)
        .match_query(Matcher::Regex("UpdatedSince=2026-03-02T07".into()))
        .with_body(
            json!({"Total": 2, "Page": 1, "PurchaseList": [
                {"ID": P2, "OrderNumber": "PO-00105", "Status": "DRAFT", "OrderStatus": "NOT AVAILABLE"},
                {"ID": P1, "OrderNumber": "PO-00104", "Status": "DRAFT", "OrderStatus": "DRAFT"}
            ]})
            .to_string(),
        )
        .expect(1)
        .create();
    // Each candidate is read once; the order is then written on the view that read gave.
    let get_p2 = get_purchase_mock(&mut server, P2, &fresh_purchase(P2, ACME, "4500013"), 1);
    let mut p1_now = fresh_purchase(P1, BOLT, "4500012");
    p1_now["Order"]["Status"] = json!("DRAFT");
    let get_p1 = get_purchase_mock(&mut server, P1, &p1_now, 1);
    let order_p2 = with_auth(server.mock("POST", "/purchase/order"), &account)
        .match_body(Matcher::Json(order_body(P2)))
        .with_body(order_answer(P2))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let replayer = Replayer::new(po_pipeline, orders.clone());
    let run = RunContext::new(Arc::new(store.clone()), clock.shared(), TENANT);
    let results = replayer
        .replay_failed(&run, ReplayScope::Stream, ReplayMode::Refetch)
        .await
        .unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0].status(),
        Some(AuditStatus::Succeeded),
        "{results:?}"
    );
    let sync_core::replay::ReplayResult::Replayed(entry) = &results[0] else {
        panic!("not replayed: {results:?}");
    };
    assert_eq!(entry.match_result, Some(MatchResult::ByLookup));
    assert_eq!(entry.target_id.as_deref(), Some(P2));
    for m in [walk, get_p2, get_p1, order_p2] {
        m.assert();
    }
    assert_catch_all(&rest);
}

#[tokio::test]
async fn an_invoice_without_a_po_becomes_an_invoice_first_purchase_with_accounts_from_the_gl_map() {
    use sync_core::engine::invoices::InvoicePipeline;
    use sync_core::model::{InvoiceLine, SupplierInvoice};

    let mut server = Server::new_async().await;
    let clock = ManualClock::new(t0());
    let (client, account) = client(&server, &clock);
    let target = Arc::new(Cin7Target::new(client));
    let suppliers = Arc::new(MemorySource::new(t0()));
    suppliers.upsert(supplier("V1001", "Acme Fasteners Ltd"));
    let invoices = Arc::new(MemorySource::new(t0()));
    invoices.upsert(SupplierInvoice {
        identity: SourceIdentity::new("cloudsuite", TENANT, "10", "VCH-77"),
        invoice_number: "SUP-INV-778".into(),
        vendor_id: "V1001".into(),
        po_id: None,
        invoice_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 3, 31),
        currency: "NZD".into(),
        lines: vec![InvoiceLine {
            line_no: 1,
            sku: Some("WID-1".into()),
            description: "Widget".into(),
            quantity: Decimal::from(4),
            unit_price: Decimal::new(1250, 2),
            gl_account: "6100".into(),
            tax_rule: Some("STD".into()),
        }],
        modified_at: t0() - Duration::minutes(20),
    });
    let mut mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::TaxRule, "STD", "GST on Expenses")
            .with(MappingKind::GlAccount, "6100", "715"),
    );
    mappings.purchases.default_location = Some("Main Warehouse".into());
    let supplier_pipeline = Arc::new(SupplierPipeline::new(target.clone(), mappings.clone()));
    let pipeline = Arc::new(InvoicePipeline::new(
        target.clone(),
        mappings,
        supplier_pipeline,
        suppliers.clone(),
    ));
    let store = MemoryStore::new();
    let runner = TenantRunner::new(TENANT, Arc::new(store.clone()), clock.shared()).with_invoices(
        StreamRunner::new(pipeline, invoices.clone(), EngineConfig::default()),
    );

    // The supplier is resolved first (index from one list page, matched by vendor ID, updated).
    let list = supplier_list_mock(&mut server, &account, vec![acme_row()]);
    let get_acme = with_auth(server.mock("GET", "/supplier"), &account)
        .match_query(Matcher::UrlEncoded("ID".into(), ACME.into()))
        .with_body(envelope(vec![acme_row()]))
        .expect(1)
        .create();
    let put_acme = with_auth(server.mock("PUT", "/supplier"), &account)
        .match_body(Matcher::PartialJson(
            json!({"ID": ACME, "AdditionalAttribute1": "V1001"}),
        ))
        .with_body(envelope(vec![acme_row()]))
        .expect(1)
        .create();
    // Then an invoice-first purchase carrying the invoice number as its reference.
    let mut created = fresh_purchase(P1, ACME, "SUP-INV-778");
    created["Approach"] = json!("INVOICE");
    let post_purchase = with_auth(server.mock("POST", "/advanced-purchase"), &account)
        .match_body(Matcher::Json(json!({
            "SupplierID": ACME,
            "Approach": "INVOICE",
            "Location": "Main Warehouse",
            "PurchaseType": "Advanced",
            "OrderDate": "2026-03-01T00:00:00.000",
            "AdditionalAttributes": {"AdditionalAttribute1": "SUP-INV-778"}
        })))
        .with_body(created.to_string())
        .expect(1)
        .create();
    // Its order (authorised, so it can take an invoice), written on the view the create
    // answered: no GET /advanced-purchase.
    let mut authorised = fixture_json("purchase_order.json");
    authorised["TaskID"] = json!(P1);
    let order = with_auth(server.mock("POST", "/purchase/order"), &account)
        .match_body(Matcher::Json(json!({
            "TaskID": P1,
            "Status": "AUTHORISED",
            "Lines": [{"SKU": "WID-1", "Name": "Widget", "Quantity": 4, "Price": 12.5,
                       "TaxRule": "GST on Expenses", "Total": 50.0}],
            "AdditionalCharges": []
        })))
        .with_body(authorised.to_string())
        .expect(1)
        .create();
    // Finally the invoice, its line allocated to Cin7 account 715 through the GL mapping.
    let mut posted = fixture_json("purchase_invoices.json");
    posted["PurchaseID"] = json!(P1);
    posted["Invoices"][0]["Status"] = json!("DRAFT");
    let invoice = with_auth(server.mock("POST", "/advanced-purchase/invoice"), &account)
        .match_body(Matcher::Json(json!({
            "PurchaseID": P1,
            "InvoiceNumber": "SUP-INV-778",
            "InvoiceDate": "2026-03-01T00:00:00.000",
            "InvoiceDueDate": "2026-03-31T00:00:00.000",
            "Status": "DRAFT",
            "Lines": [{"SKU": "WID-1", "Name": "Widget", "Quantity": 4, "Price": 12.5,
                       "TaxRule": "GST on Expenses", "Account": "715", "Total": 50.0}],
            "AdditionalCharges": []
        })))
        .with_body(posted.to_string())
        .expect(1)
        .create();
    let rest = catch_all(&mut server);

    let report = runner.run_once(None).await;
    assert!(report.is_ok(), "{report:?}");
    for m in [list, get_acme, put_acme, post_purchase, order, invoice] {
        m.assert();
    }
    assert_catch_all(&rest);
    let entries = store.all_entries();
    let own = entries
        .iter()
        .find(|e| e.stream == StreamId::supplier_invoices())
        .unwrap();
    assert_eq!(
        (
            own.status,
            own.action,
            own.match_result,
            own.target_id.as_deref()
        ),
        (
            AuditStatus::Succeeded,
            Action::Create,
            Some(MatchResult::Created),
            Some(P1)
        )
    );
    // The supplier resolved on the invoice's behalf is audited in its own stream.
    assert!(
        entries
            .iter()
            .any(|e| e.stream == StreamId::suppliers() && e.status == AuditStatus::Succeeded)
    );
    let xref = store
        .all_cross_refs()
        .into_iter()
        .find(|x| x.source.id == "VCH-77")
        .unwrap();
    assert_eq!(xref.target_id, P1);
    assert_eq!(
        xref.aux.get("invoice_task_id").map(String::as_str),
        Some("870fbdb2-bc0a-4993-82b8-e58f514dbe49")
    );
}
