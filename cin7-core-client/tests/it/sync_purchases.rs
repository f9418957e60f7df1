//! `Cin7Target` as a `PurchaseTarget`: advanced-purchase create, order step, invoices and the
//! lookup used before a create after an uncertain outcome.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used)]

use crate::common;

use chrono::{NaiveDate, TimeZone, Utc};
use cin7_core_client::sync::{Cin7Target, Cin7TargetConfig};
use common::{assert_catch_all, catch_all, client, fixture, fixture_json, with_auth};
use mockito::{Matcher, Mock, Server, ServerGuard};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sync_core::retry::Delivery;
use sync_core::target::{
    Approach, DocStatus, InvoiceDraft, InvoiceLineDraft, OrderDraft, OrderLineDraft, PurchaseDraft,
    PurchaseTarget, TargetPurchase, TaskStatus,
};
use sync_core::time::ManualClock;

const SUPPLIER: &str = "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11";
const PURCHASE: &str = "5a7fb526-527a-4229-b331-90b6f5535aab";

/// A purchase as Cin7 answers a fresh `POST /advanced-purchase` (the shape of the client's
/// `advanced_purchase.json` fixture): `DRAFT`, order `NOT AVAILABLE`, and placeholder tasks
/// whose `TaskID` is the purchase ID.
fn fresh_purchase(id: &str, reference: &str) -> Value {
    let mut p = fixture_json("advanced_purchase.json");
    p["ID"] = json!(id.to_uppercase());
    p["Status"] = json!("DRAFT");
    p["OrderNumber"] = json!("PO-00104");
    p["Approach"] = json!("STOCK");
    p["CombinedInvoiceStatus"] = json!("NOT AVAILABLE");
    p["AdditionalAttributes"] =
        json!({"AdditionalAttribute1": reference, "AdditionalAttribute2": ""});
    p["Order"] =
        json!({"TaskID": id, "Status": "NOT AVAILABLE", "Lines": [], "AdditionalCharges": []});
    p["StockReceived"] = json!([{"TaskID": id, "Status": "NOT AVAILABLE", "Lines": []}]);
    p["Invoice"] =
        json!([{"TaskID": id, "Status": "NOT AVAILABLE", "Lines": [], "AdditionalCharges": []}]);
    p
}

fn draft() -> PurchaseDraft {
    PurchaseDraft {
        supplier_id: SUPPLIER.into(),
        approach: Approach::Stock,
        location: Some("Main Warehouse".into()),
        reference: "4500012".into(),
        currency: "NZD".into(),
        order_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        required_by: NaiveDate::from_ymd_opt(2026, 3, 20),
        memo: Some("CloudSuite PO 4500012".into()),
    }
}

fn get_purchase_mock(server: &mut ServerGuard, id: &str, body: &Value) -> Mock {
    server
        .mock("GET", "/advanced-purchase")
        .match_query(Matcher::UrlEncoded("ID".into(), id.into()))
        .with_body(body.to_string())
        .create()
}

#[tokio::test]
async fn create_posts_an_advanced_purchase_with_the_reference_stamped() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let m = with_auth(server.mock("POST", "/advanced-purchase"), &account)
        .match_body(Matcher::Json(json!({
            "SupplierID": SUPPLIER,
            "Approach": "STOCK",
            "Location": "Main Warehouse",
            "PurchaseType": "Advanced",
            "OrderDate": "2026-03-01T00:00:00.000",
            "RequiredBy": "2026-03-20T00:00:00.000",
            "Note": "CloudSuite PO 4500012",
            "AdditionalAttributes": {"AdditionalAttribute1": "4500012"}
        })))
        .with_body(fresh_purchase(PURCHASE, "4500012").to_string())
        .create();
    let rest = catch_all(&mut server);

    let created = Cin7Target::new(client)
        .create_purchase(&draft())
        .await
        .unwrap();
    assert_eq!(created.id, PURCHASE, "lower-case id");
    assert_eq!(created.reference, "4500012");
    assert_eq!(created.supplier_id, SUPPLIER);
    assert_eq!(created.approach, Approach::Stock);
    assert_eq!(created.order_status, TaskStatus::NotAvailable);
    assert!(
        created.invoices.is_empty(),
        "the placeholder invoice is not an invoice"
    );
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn create_with_another_attribute_or_none_and_an_invoice_first_approach() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/advanced-purchase")
        .match_body(Matcher::PartialJson(json!({
            "Approach": "INVOICE",
            "AdditionalAttributes": {"AdditionalAttribute7": "SUP-INV-9"}
        })))
        .with_body(fresh_purchase(PURCHASE, "").to_string())
        .create();
    let without = server
        .mock("POST", "/advanced-purchase")
        .match_body(Matcher::Json(json!({
            "SupplierID": SUPPLIER,
            "Approach": "STOCK",
            "Location": "Main Warehouse",
            "PurchaseType": "Advanced",
            "OrderDate": "2026-03-01T00:00:00.000",
            "RequiredBy": "2026-03-20T00:00:00.000",
            "Note": "CloudSuite PO 4500012"
        })))
        .with_body(fresh_purchase(PURCHASE, "").to_string())
        .create();
    let rest = catch_all(&mut server);
    let mut invoice_first = draft();
    invoice_first.approach = Approach::Invoice;
    invoice_first.reference = "SUP-INV-9".into();
    let target = Cin7Target::new(client.clone()).with_config(Cin7TargetConfig {
        purchase_reference_attribute: Some("AdditionalAttribute7".into()),
        ..Cin7TargetConfig::default()
    });
    let created = target.create_purchase(&invoice_first).await.unwrap();
    // Nothing stamped in attribute 7 came back: the Cin7 order number stands in.
    assert_eq!(created.reference, "PO-00104");
    m.assert();

    let plain = Cin7Target::new(client).with_config(Cin7TargetConfig {
        purchase_reference_attribute: None,
        reference_scan_window: None,
    });
    plain.create_purchase(&draft()).await.unwrap();
    without.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn create_without_a_location_or_with_a_bad_supplier_id_sends_nothing() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);
    let mut no_location = draft();
    no_location.location = None;
    let err = target.create_purchase(&no_location).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::NotProcessed);
    assert!(!err.transient);
    assert!(err.message.contains("Location"), "{}", err.message);
    let mut bad_supplier = draft();
    bad_supplier.supplier_id = "sup-0001".into();
    let err = target.create_purchase(&bad_supplier).await.unwrap_err();
    assert_eq!(err.delivery, Delivery::NotProcessed);
    assert_catch_all(&rest);
}

#[tokio::test]
async fn get_maps_order_status_invoices_and_falls_back_to_the_order_number() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = get_purchase_mock(
        &mut server,
        PURCHASE,
        &fixture_json("advanced_purchase.json"),
    );
    let rest = catch_all(&mut server);
    let got = Cin7Target::new(client)
        .get_purchase(PURCHASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, PURCHASE);
    assert_eq!(got.reference, "PO-00103");
    assert_eq!(got.supplier_id, SUPPLIER);
    assert_eq!(
        got.approach,
        Approach::Stock,
        "\"Stock\" is read in any case"
    );
    assert_eq!(got.order_status, TaskStatus::Authorised);
    assert_eq!(got.invoices.len(), 1);
    assert_eq!(
        got.invoices[0].task_id,
        "870fbdb2-bc0a-4993-82b8-e58f514dbe49"
    );
    assert_eq!(got.invoices[0].invoice_number, "INV-00103");
    assert_eq!(got.invoices[0].status, TaskStatus::Paid);
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn get_of_a_voided_or_unknown_purchase_is_none() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let mut voided = fixture_json("advanced_purchase.json");
    voided["Status"] = json!("VOIDED");
    let v = get_purchase_mock(&mut server, PURCHASE, &voided);
    let unknown = "11111111-2222-3333-4444-555555555555";
    let u = server
        .mock("GET", "/advanced-purchase")
        .match_query(Matcher::UrlEncoded("ID".into(), unknown.into()))
        .with_status(400)
        .with_body(r#"{"ErrorCode":400,"Exception":"Purchase not found."}"#)
        .create();
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client);
    assert_eq!(target.get_purchase(PURCHASE).await.unwrap(), None);
    assert_eq!(target.get_purchase(unknown).await.unwrap(), None);
    v.assert();
    u.assert();
    assert_catch_all(&rest);
}

/// The engine's view of a purchase whose order is `order_status`.
fn view(order_status: TaskStatus) -> TargetPurchase {
    TargetPurchase {
        id: PURCHASE.into(),
        reference: "4500012".into(),
        supplier_id: SUPPLIER.into(),
        approach: Approach::Stock,
        order_status,
        invoices: vec![],
    }
}

#[tokio::test]
async fn set_order_on_an_editable_view_replaces_the_lines_without_a_read() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let mut saved = fixture_json("purchase_order.json");
    saved["Status"] = json!("DRAFT");
    let post = with_auth(server.mock("POST", "/purchase/order"), &account)
        .match_body(Matcher::Json(json!({
            "TaskID": PURCHASE,
            "Status": "DRAFT",
            "Lines": [
                {"SKU": "WID-1", "Name": "Widget", "Quantity": 3, "Price": 1.9999,
                 "TaxRule": "GST on Expenses", "Total": 5.9997}
            ],
            "AdditionalCharges": [
                {"Description": "Freight", "Quantity": 1, "Price": 20.5, "Total": 20.5}
            ]
        })))
        .with_body(saved.to_string())
        .create();
    let rest = catch_all(&mut server);
    let order = OrderDraft {
        lines: vec![
            OrderLineDraft {
                sku: "WID-1".into(),
                name: "Widget".into(),
                quantity: Decimal::from(3),
                price: Decimal::new(19999, 4),
                tax_rule: Some("GST on Expenses".into()),
            },
            // No SKU (e.g. an invoice-first purchase's service line): an additional charge.
            OrderLineDraft {
                sku: String::new(),
                name: "Freight".into(),
                quantity: Decimal::ONE,
                price: Decimal::new(205, 1),
                tax_rule: None,
            },
        ],
        status: DocStatus::Draft,
    };
    // The view the create answered: order NOT AVAILABLE, so no read before the write (the
    // catch-all fails on a GET).
    let purchase = Cin7Target::new(client)
        .set_order(&view(TaskStatus::NotAvailable), &order)
        .await
        .unwrap();
    assert_eq!(purchase.id, PURCHASE);
    assert_eq!(purchase.reference, "4500012");
    assert_eq!(purchase.order_status, TaskStatus::Draft);
    post.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn set_order_on_a_view_of_an_authorised_order_reads_it_and_refuses_without_posting() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let get = get_purchase_mock(
        &mut server,
        PURCHASE,
        &fixture_json("advanced_purchase.json"),
    );
    let rest = catch_all(&mut server);
    let order = OrderDraft {
        lines: vec![],
        status: DocStatus::Authorised,
    };
    let err = Cin7Target::new(client)
        .set_order(&view(TaskStatus::Authorised), &order)
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::Processed);
    assert_eq!(err.status, Some(400));
    assert!(!err.transient);
    assert!(err.message.contains("Authorised"), "{}", err.message);
    get.assert();
    assert_catch_all(&rest);
}

fn invoice_draft(number: &str) -> InvoiceDraft {
    InvoiceDraft {
        invoice_number: number.into(),
        invoice_date: NaiveDate::from_ymd_opt(2018, 4, 16).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2018, 5, 16),
        lines: vec![
            InvoiceLineDraft {
                sku: Some("Bread".into()),
                name: "Baked Bread".into(),
                quantity: Decimal::from(3),
                price: Decimal::new(19999, 4),
                account: "715".into(),
                tax_rule: Some("Tax on Purchases".into()),
            },
            InvoiceLineDraft {
                sku: None,
                name: "Freight".into(),
                quantity: Decimal::ONE,
                price: Decimal::from(20),
                account: "425".into(),
                tax_rule: Some("Tax on Purchases".into()),
            },
        ],
        status: DocStatus::Authorised,
    }
}

#[tokio::test]
async fn post_invoice_sends_the_number_and_an_account_on_every_line() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let m = with_auth(server.mock("POST", "/advanced-purchase/invoice"), &account)
        .match_body(Matcher::Json(json!({
            "PurchaseID": PURCHASE,
            "InvoiceNumber": "SUP-INV-778",
            "InvoiceDate": "2018-04-16T00:00:00.000",
            "InvoiceDueDate": "2018-05-16T00:00:00.000",
            "Status": "AUTHORISED",
            "Lines": [
                {"SKU": "Bread", "Name": "Baked Bread", "Quantity": 3, "Price": 1.9999,
                 "TaxRule": "Tax on Purchases", "Account": "715", "Total": 5.9997}
            ],
            "AdditionalCharges": [
                {"Description": "Freight", "Quantity": 1, "Price": 20,
                 "TaxRule": "Tax on Purchases", "Account": "425", "Total": 20}
            ]
        })))
        .with_body(fixture("purchase_invoices.json"))
        .create();
    let rest = catch_all(&mut server);
    let posted = Cin7Target::new(client)
        .post_invoice(PURCHASE, None, &invoice_draft("SUP-INV-778"))
        .await
        .unwrap();
    assert_eq!(posted.task_id, "870fbdb2-bc0a-4993-82b8-e58f514dbe49");
    // Read through the `InvocieNumber` misspelling of the fixture.
    assert_eq!(posted.invoice_number, "SUP-INV-778");
    assert_eq!(posted.status, TaskStatus::Authorised);
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn post_invoice_with_a_task_overwrites_that_task() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/advanced-purchase/invoice")
        .match_body(Matcher::PartialJson(json!({
            "PurchaseID": PURCHASE,
            "TaskID": "870fbdb2-bc0a-4993-82b8-e58f514dbe49",
            "InvoiceNumber": "SUP-INV-778"
        })))
        .with_body(fixture("purchase_invoices.json"))
        .create();
    let rest = catch_all(&mut server);
    let posted = Cin7Target::new(client)
        .post_invoice(
            PURCHASE,
            Some("870FBDB2-BC0A-4993-82B8-E58F514DBE49"),
            &invoice_draft("SUP-INV-778"),
        )
        .await
        .unwrap();
    assert_eq!(posted.task_id, "870fbdb2-bc0a-4993-82b8-e58f514dbe49");
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn post_invoice_whose_answer_lacks_the_invoice_has_an_unknown_outcome() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/advanced-purchase/invoice")
        .with_body(json!({"PurchaseID": PURCHASE, "Invoices": []}).to_string())
        .create();
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .post_invoice(PURCHASE, None, &invoice_draft("SUP-INV-778"))
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn find_searches_then_scans_recent_drafts_and_keeps_exact_matches_only() {
    let mut server = Server::new_async().await;
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
    let clock = ManualClock::new(now);
    let (client, account) = client(&server, &clock);
    let (by_invoice, by_attribute, other_draft, not_exact) = (
        "aaaaaaaa-0000-4000-8000-000000000001",
        "aaaaaaaa-0000-4000-8000-000000000002",
        "aaaaaaaa-0000-4000-8000-000000000003",
        "aaaaaaaa-0000-4000-8000-000000000004",
    );
    let mut rows = fixture_json("purchase_list.json");
    // Search is a contains-match: one row holds the number as an invoice number, one only in
    // a longer order number.
    rows["PurchaseList"][0]["ID"] = json!(by_invoice);
    rows["PurchaseList"][0]["InvoiceNumber"] = json!("4500012");
    rows["PurchaseList"][1]["ID"] = json!(not_exact);
    rows["PurchaseList"][1]["OrderNumber"] = json!("PO-45000123");
    rows["PurchaseList"][1]["InvocieNumber"] = json!("");
    let search = with_auth(server.mock("GET", "/purchaseList"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Search".into(), "4500012".into()),
            Matcher::UrlEncoded("Page".into(), "1".into()),
        ]))
        .with_body(rows.to_string())
        .create();
    let drafts = json!({"Total": 2, "Page": 1, "PurchaseList": [
        {"ID": by_attribute, "OrderNumber": "PO-00104", "Status": "DRAFT", "OrderStatus": "NOT AVAILABLE"},
        {"ID": other_draft, "OrderNumber": "PO-00105", "Status": "DRAFT", "OrderStatus": "NOT AVAILABLE"}
    ]});
    let scan = with_auth(server.mock("GET", "/purchaseList"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Status".into(), "DRAFT".into()),
            Matcher::UrlEncoded("UpdatedSince".into(), "2026-02-27T08:00:00.000".into()),
            Matcher::UrlEncoded("Page".into(), "1".into()),
        ]))
        .with_body(drafts.to_string())
        .create();
    let mut invoiced = fixture_json("advanced_purchase.json");
    invoiced["ID"] = json!(by_invoice);
    invoiced["Invoice"][0]["InvoiceNumber"] = json!("4500012");
    invoiced["Invoice"][0]["Status"] = json!("DRAFT");
    let g1 = get_purchase_mock(&mut server, by_invoice, &invoiced);
    let g2 = get_purchase_mock(
        &mut server,
        by_attribute,
        &fresh_purchase(by_attribute, "4500012"),
    );
    let g3 = get_purchase_mock(
        &mut server,
        other_draft,
        &fresh_purchase(other_draft, "4500013"),
    );
    let rest = catch_all(&mut server);

    let found = Cin7Target::new(client)
        .find_purchases("4500012")
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [by_invoice, by_attribute]);
    assert_eq!(found[0].invoices[0].invoice_number, "4500012");
    assert_eq!(found[0].invoices[0].status, TaskStatus::Draft);
    assert_eq!(found[1].reference, "4500012");
    assert_eq!(found[1].order_status, TaskStatus::NotAvailable);
    for m in [search, scan, g1, g2, g3] {
        m.assert();
    }
    assert_catch_all(&rest);
}

#[tokio::test]
async fn find_without_the_scan_uses_search_only_and_skips_voided_purchases() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let mut rows = fixture_json("purchase_list.json");
    rows["PurchaseList"][0]["ID"] = json!(PURCHASE);
    rows["PurchaseList"][0]["OrderNumber"] = json!("PO-00103");
    let search = server
        .mock("GET", "/purchaseList")
        .match_query(Matcher::UrlEncoded("Search".into(), "PO-00103".into()))
        .with_body(rows.to_string())
        .expect(2)
        .create();
    let live = get_purchase_mock(
        &mut server,
        PURCHASE,
        &fixture_json("advanced_purchase.json"),
    );
    let rest = catch_all(&mut server);
    let target = Cin7Target::new(client).with_config(Cin7TargetConfig {
        reference_scan_window: None,
        ..Cin7TargetConfig::default()
    });
    let found = target.find_purchases("PO-00103").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].reference, "PO-00103");
    live.assert();

    live.remove();
    let mut voided = fixture_json("advanced_purchase.json");
    voided["Status"] = json!("VOIDED");
    let gone = get_purchase_mock(&mut server, PURCHASE, &voided);
    assert!(target.find_purchases("PO-00103").await.unwrap().is_empty());
    gone.assert();
    search.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn find_with_an_empty_reference_sends_nothing() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .find_purchases("  ")
        .await
        .unwrap_err();
    assert_eq!(err.delivery, Delivery::NotProcessed);
    assert!(!err.transient);
    assert_catch_all(&rest);
}
