#![allow(clippy::unwrap_used)]
//! Purchase endpoints: request shape, response decoding, and which writes are retried.

use crate::common;

use chrono::{NaiveDate, TimeZone, Utc};
use cin7_core_client::purchase::*;
use cin7_core_client::{Error, Guid};
use common::*;
use mockito::{Matcher, Server};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::time::ManualClock;

fn purchase_id() -> Guid {
    "5a7fb526-527a-4229-b331-90b6f5535aab".parse().unwrap()
}

fn invoice_task() -> Guid {
    "870fbdb2-bc0a-4993-82b8-e58f514dbe49".parse().unwrap()
}

#[tokio::test]
async fn purchase_list_sends_every_filter() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let m = with_auth(server.mock("GET", "/purchaseList"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Search".into(), "SUP-INV-778".into()),
            Matcher::UrlEncoded("UpdatedSince".into(), "2026-01-01T00:00:00.000".into()),
            Matcher::UrlEncoded("UpdatedUntil".into(), "2026-01-31T23:59:59.000".into()),
            Matcher::UrlEncoded("RequiredBy".into(), "2026-02-15T00:00:00.000".into()),
            Matcher::UrlEncoded("Status".into(), "PARTIALLY INVOICED".into()),
            Matcher::UrlEncoded("OrderStatus".into(), "AUTHORISED".into()),
            Matcher::UrlEncoded("RestockReceivedStatus".into(), "DRAFT".into()),
            Matcher::UrlEncoded("InvoiceStatus".into(), "PAID".into()),
            Matcher::UrlEncoded("CreditNoteStatus".into(), "NOT AVAILABLE".into()),
            Matcher::UrlEncoded("UnstockStatus".into(), "VOIDED".into()),
            Matcher::UrlEncoded(
                "DropShipTaskID".into(),
                "870fbdb2-bc0a-4993-82b8-e58f514dbe49".into(),
            ),
            Matcher::UrlEncoded("Page".into(), "1".into()),
            Matcher::UrlEncoded("Limit".into(), "1000".into()),
        ]))
        .with_body(fixture("purchase_list.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let rows = client
        .purchases()
        .list()
        .search("SUP-INV-778")
        .updated_since(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
        .updated_until(Utc.with_ymd_and_hms(2026, 1, 31, 23, 59, 59).unwrap())
        .required_by(NaiveDate::from_ymd_opt(2026, 2, 15).unwrap())
        .status(&PurchaseStatus::PartiallyInvoiced)
        .order_status(&TaskStatus::Authorised)
        .restock_received_status(&TaskStatus::Draft)
        .invoice_status(&TaskStatus::Paid)
        .credit_note_status(&TaskStatus::NotAvailable)
        .unstock_status(&TaskStatus::Voided)
        .drop_ship_task_id(&invoice_task())
        .all()
        .await
        .unwrap();
    m.assert();
    assert_catch_all(&rest);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].status, Some(PurchaseStatus::Received));
    assert_eq!(
        rows[0].combined_receiving_status,
        Some(CombinedReceivingStatus::FullyReceived)
    );
    assert_eq!(rows[0].order_date, NaiveDate::from_ymd_opt(2021, 2, 3));
    assert_eq!(rows[0].invoice_number.as_deref(), Some(""));
    // Unknown status kept, misspelt key accepted, string numbers and "True" read.
    assert_eq!(
        rows[1].status,
        Some(PurchaseStatus::Other("ON HOLD (NEW 2026)".into()))
    );
    assert_eq!(rows[1].invoice_number.as_deref(), Some("X-1"));
    assert_eq!(rows[1].invoice_amount, Some(Decimal::new(125, 1)));
    assert_eq!(rows[1].kind, Some(PurchaseKind::Service));
    assert_eq!(rows[1].is_service_only, Some(true));
}

#[tokio::test]
async fn get_decodes_the_advanced_shape() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/advanced-purchase")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ID".into(), purchase_id().to_string()),
            Matcher::UrlEncoded("CombineAdditionalCharges".into(), "true".into()),
        ]))
        .with_body(fixture("advanced_purchase.json"))
        .expect(1)
        .create();
    let p = client
        .purchases()
        .get(&purchase_id())
        .combine_additional_charges(true)
        .send()
        .await
        .unwrap();
    m.assert();
    assert_eq!(p.id, Some(purchase_id()));
    assert_eq!(
        p.approach,
        Some(Approach::Stock),
        "\"Stock\" read case-insensitively"
    );
    assert_eq!(p.kind, Some(PurchaseKind::Advanced));
    assert_eq!(
        p.status,
        Some(PurchaseStatus::Other(
            "COMPLETED / CREDIT NOTE CLOSED".into()
        ))
    );
    assert_eq!(
        p.combined_invoice_status,
        Some(CombinedInvoiceStatus::InvoicedCredited)
    );
    assert_eq!(p.required_by, NaiveDate::from_ymd_opt(2018, 4, 30));
    let order = p.order.unwrap();
    assert_eq!(order.status, Some(TaskStatus::Authorised));
    assert_eq!(order.lines[0].price, Some(Decimal::new(15, 0)));
    assert_eq!(order.total, Some(Decimal::new(1705, 1)));
    assert_eq!(
        p.stock_received[0].lines[0].batch_sn.as_deref(),
        Some("658487")
    );
    assert_eq!(p.invoice[0].status, Some(TaskStatus::Paid));
    assert_eq!(p.invoice[0].lines[0].account, "630");
    assert_eq!(p.invoice[0].payments[0].amount, Some(Decimal::new(150, 0)));
    assert_eq!(
        p.billing_address.unwrap().display_address_line2.as_deref(),
        Some("Auckland 1010 New Zealand")
    );
    assert!(p.other_fields.contains_key("PutAway"));
}

#[tokio::test]
async fn create_posts_the_header_once_and_validates_first() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/advanced-purchase")
        .match_body(Matcher::Json(json!({
            "SupplierID": "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11",
            "Approach": "INVOICE",
            "Location": "Main Warehouse",
            "PurchaseType": "Advanced",
            "RequiredBy": "2026-03-01T00:00:00.000",
            "TaxCalculation": "Exclusive",
            "Terms": "30 days",
            "CurrencyRate": 1.2346,
            "Note": "CloudSuite PO 4500012",
            "AdditionalAttributes": {"AdditionalAttribute1": "PO-4500012"}
        })))
        .with_body(fixture("advanced_purchase.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let header = PurchaseHeader {
        supplier_id: Some("807B6BC2-1B1B-4E5D-9A7E-9A2B1C0D4E11".parse().unwrap()),
        approach: Some(Approach::Invoice),
        location: Some("Main Warehouse".into()),
        purchase_type: Some(PurchaseType::Advanced),
        required_by: NaiveDate::from_ymd_opt(2026, 3, 1),
        tax_calculation: Some(TaxCalculation::Exclusive),
        terms: Some("30 days".into()),
        currency_rate: Some(Decimal::new(123456789, 8)),
        note: Some("CloudSuite PO 4500012".into()),
        additional_attributes: Some(
            [("AdditionalAttribute1".to_string(), json!("PO-4500012"))]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    let created = client.purchases().create(&header).await.unwrap();
    assert_eq!(created.order_number.as_deref(), Some("PO-00103"));
    let missing_location = PurchaseHeader {
        location: None,
        ..header.clone()
    };
    assert!(matches!(
        client.purchases().create(&missing_location).await,
        Err(Error::InvalidInput {
            field: "PurchaseHeader.Location",
            ..
        })
    ));
    assert!(matches!(
        client.purchases().update(&header).await,
        Err(Error::InvalidInput { .. })
    ));
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn update_puts_and_void_and_undo_delete() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let put = server
        .mock("PUT", "/advanced-purchase")
        .match_body(Matcher::Json(
            json!({"ID": purchase_id().to_string(), "Note": "changed"}),
        ))
        .with_body(fixture("advanced_purchase.json"))
        .expect(1)
        .create();
    let void = server
        .mock("DELETE", "/advanced-purchase")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ID".into(), purchase_id().to_string()),
            Matcher::UrlEncoded("Void".into(), "true".into()),
        ]))
        .with_body(fixture("advanced_purchase.json"))
        .expect(1)
        .create();
    let undo = server
        .mock("DELETE", "/advanced-purchase")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ID".into(), purchase_id().to_string()),
            Matcher::UrlEncoded("Void".into(), "false".into()),
        ]))
        .with_body(r#"{"Success": true}"#)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let header = PurchaseHeader {
        id: Some(purchase_id()),
        note: Some("changed".into()),
        ..Default::default()
    };
    client.purchases().update(&header).await.unwrap();
    client.purchases().void(&purchase_id()).await.unwrap();
    client.purchases().undo(&purchase_id()).await.unwrap();
    put.assert();
    void.assert();
    undo.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn order_is_read_and_saved_and_only_a_draft_save_is_retried() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let get = server
        .mock("GET", "/purchase/order")
        .match_query(Matcher::UrlEncoded(
            "TaskID".into(),
            purchase_id().to_string(),
        ))
        .with_body(fixture("purchase_order.json"))
        .expect(1)
        .create();
    let order = client.purchases().order(&purchase_id()).await.unwrap();
    assert_eq!(order.lines[0].quantity, Some(Decimal::new(3, 0)));
    get.assert();

    let line = OrderLine {
        sku: Some("Bread".into()),
        quantity: Some(Decimal::new(3, 0)),
        price: Some(Decimal::new(19999, 4)),
        discount: Some(Decimal::new(10, 0)),
        tax_rule: Some("Tax on Purchases".into()),
        ..Default::default()
    }
    .with_computed_total();
    let order = |status: TaskStatus| PurchaseOrder {
        task_id: Some(purchase_id()),
        status: Some(status),
        memo: Some("CloudSuite PO 4500012".into()),
        lines: vec![line.clone()],
        ..Default::default()
    };
    let body = |status: &str| {
        json!({
            "TaskID": purchase_id().to_string(),
            "Status": status,
            "Memo": "CloudSuite PO 4500012",
            "Lines": [{"SKU": "Bread", "Quantity": 3, "Price": 1.9999, "Discount": 10, "TaxRule": "Tax on Purchases", "Total": 5.3997}],
            "AdditionalCharges": []
        })
    };
    // A DRAFT save replaces the lines and leaves the order editable, so it is repeatable: a
    // timeout-like 504 is retried.
    let fail = server
        .mock("POST", "/purchase/order")
        .match_body(Matcher::Json(body("DRAFT")))
        .with_status(504)
        .expect(1)
        .create();
    let ok = server
        .mock("POST", "/purchase/order")
        .match_body(Matcher::Json(body("DRAFT")))
        .with_body(fixture("purchase_order.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let saved = client
        .purchases()
        .save_order(&order(TaskStatus::Draft))
        .await
        .unwrap();
    assert_eq!(saved.status, Some(TaskStatus::Authorised));
    fail.assert();
    ok.assert();
    // An AUTHORISED save that may have landed is not resent (a repeat would be refused once
    // it landed): the caller is told the outcome is unknown, and reads the purchase.
    let lost = server
        .mock("POST", "/purchase/order")
        .match_body(Matcher::Json(body("AUTHORISED")))
        .with_status(504)
        .expect(1)
        .create();
    let outcome = client
        .purchases()
        .save_order(&order(TaskStatus::Authorised))
        .await;
    assert!(
        matches!(&outcome, Err(e) if e.delivery() == sync_core::retry::Delivery::Unknown),
        "{outcome:?}"
    );
    lost.assert();
    // Only DRAFT or AUTHORISED may be sent.
    let bad = PurchaseOrder {
        task_id: Some(purchase_id()),
        status: Some(TaskStatus::Voided),
        ..Default::default()
    };
    assert!(matches!(
        client.purchases().save_order(&bad).await,
        Err(Error::InvalidInput { .. })
    ));
    assert_catch_all(&rest);
}

fn invoice(task_id: Option<Guid>) -> PurchaseInvoice {
    PurchaseInvoice {
        purchase_id: Some(purchase_id()),
        task_id,
        invoice_number: Some("SUP-INV-778".into()),
        invoice_date: NaiveDate::from_ymd_opt(2018, 4, 16),
        status: Some(TaskStatus::Authorised),
        lines: vec![InvoiceLine {
            sku: Some("Bread".into()),
            quantity: Some(Decimal::new(3, 0)),
            price: Some(Decimal::new(19999, 4)),
            discount: Some(Decimal::new(10, 0)),
            account: "715".into(),
            total: Some(Decimal::new(53997, 4)),
            ..Default::default()
        }],
        additional_charges: vec![AdditionalCharge {
            description: "Freight".into(),
            quantity: Some(Decimal::ONE),
            price: Some(Decimal::new(20, 0)),
            account: Some("425".into()),
            total: Some(Decimal::new(20, 0)),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn invoice_post_carries_accounts_and_a_new_invoice_is_not_resent() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let ok = server
        .mock("POST", "/advanced-purchase/invoice")
        .match_body(Matcher::Json(json!({
            "PurchaseID": purchase_id().to_string(),
            "InvoiceNumber": "SUP-INV-778",
            "InvoiceDate": "2018-04-16T00:00:00.000",
            "Status": "AUTHORISED",
            "Lines": [{"SKU": "Bread", "Quantity": 3, "Price": 1.9999, "Discount": 10, "Account": "715", "Total": 5.3997}],
            "AdditionalCharges": [{"Description": "Freight", "Quantity": 1, "Price": 20, "Account": "425", "Total": 20}]
        })))
        .with_body(fixture("purchase_invoices.json"))
        .expect(1)
        .create();
    let saved = client
        .purchases()
        .create_invoice(&invoice(None))
        .await
        .unwrap();
    ok.assert();
    assert_eq!(saved.invoices[0].task_id, Some(invoice_task()));
    assert_eq!(
        saved.invoices[0].invoice_number.as_deref(),
        Some("SUP-INV-778"),
        "InvocieNumber alias"
    );
    assert_eq!(
        saved.invoices[0].invoice_due_date,
        NaiveDate::from_ymd_opt(2018, 5, 16)
    );
    ok.remove();

    // Without a TaskID an uncertain failure is not resent…
    let new_fail = server
        .mock("POST", "/advanced-purchase/invoice")
        .with_status(500)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = client
        .purchases()
        .create_invoice(&invoice(None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UncertainWrite { .. }), "{err:?}");
    new_fail.assert();
    assert_catch_all(&rest);
    new_fail.remove();
    for m in rest {
        m.remove();
    }

    // …but overwriting a named invoice task is.
    let fail = server
        .mock("POST", "/advanced-purchase/invoice")
        .match_body(Matcher::PartialJson(
            json!({"TaskID": invoice_task().to_string()}),
        ))
        .with_status(500)
        .expect(1)
        .create();
    let ok = server
        .mock("POST", "/advanced-purchase/invoice")
        .with_body(fixture("purchase_invoices.json"))
        .expect(1)
        .create();
    client
        .purchases()
        .create_invoice(&invoice(Some(invoice_task())))
        .await
        .unwrap();
    fail.assert();
    ok.assert();

    let mut no_account = invoice(None);
    no_account.lines[0].account.clear();
    assert!(matches!(
        client.purchases().create_invoice(&no_account).await,
        Err(Error::InvalidInput {
            field: "PurchaseInvoice.Lines.Account",
            ..
        })
    ));
}

#[tokio::test]
async fn stock_post_is_sent_once_and_decoded() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/advanced-purchase/stock")
        .match_body(Matcher::Json(json!({
            "PurchaseID": purchase_id().to_string(),
            "Status": "DRAFT",
            "Lines": [{"Date": "2018-04-15T00:00:00.000", "Quantity": 3, "SKU": "Bread", "Location": "Main Warehouse"}]
        })))
        .with_body(fixture("stock_received.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let stock = StockReceived {
        purchase_id: Some(purchase_id()),
        status: Some(TaskStatus::Draft),
        lines: vec![StockLine {
            date: NaiveDate::from_ymd_opt(2018, 4, 15),
            quantity: Some(Decimal::new(3, 0)),
            sku: Some("Bread".into()),
            location: Some("Main Warehouse".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let saved = client.purchases().receive_stock(&stock).await.unwrap();
    assert!(saved.lines[0].card_id.is_some());
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn payments_are_read_and_posted() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let get = server
        .mock("GET", "/advanced-purchase/payment")
        .match_query(Matcher::UrlEncoded(
            "InvoiceNumber".into(),
            "SUP-INV-778".into(),
        ))
        .with_body(fixture("purchase_payments.json"))
        .expect(1)
        .create();
    let post = server
        .mock("POST", "/advanced-purchase/payment")
        .match_body(Matcher::Json(json!({
            "TaskID": invoice_task().to_string(),
            "Type": "Payment",
            "Reference": "EFT 1",
            "Amount": 25.4,
            "DatePaid": "2018-04-20T00:00:00.000",
            "Account": "090"
        })))
        .with_body(fixture("purchase_payments.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let payments = client
        .purchases()
        .payments(&PaymentLookup::InvoiceNumber("SUP-INV-778".into()))
        .await
        .unwrap();
    assert_eq!(payments.payments[0].amount, Some(Decimal::new(2540, 2)));
    let saved = client
        .purchases()
        .create_payment(&PurchasePayment {
            task_id: Some(invoice_task()),
            payment_type: Some(PaymentType::Payment),
            reference: Some("EFT 1".into()),
            amount: Some(Decimal::new(25399, 3)),
            date_paid: NaiveDate::from_ymd_opt(2018, 4, 20),
            account: Some("090".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(saved.purchase_id, Some(purchase_id()));
    get.assert();
    post.assert();
    assert_catch_all(&rest);
}
