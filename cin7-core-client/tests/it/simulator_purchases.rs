#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]
//! Advanced purchases in the simulator: the order / invoice / stock steps, their
//! preconditions and status transitions, void and undo, and `purchaseList` filters.

use crate::simulator_support;

use std::time::Duration;

use chrono::NaiveDate;
use cin7_core_client::purchase::{
    AdvancedPurchase, Approach, CombinedReceivingStatus, InvoiceLine, OrderLine, PurchaseHeader,
    PurchaseInvoice, PurchaseOrder, PurchaseStatus, PurchaseType, StockLine, StockReceived,
    TaskStatus,
};
use cin7_core_client::request::Cin7Request;
use cin7_core_client::{Cin7Client, Error, Guid};
use rust_decimal::Decimal;
use serde_json::json;
use simulator_support::*;
use sync_core::time::Clock;

fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

fn header(supplier: &Guid, approach: Approach) -> PurchaseHeader {
    PurchaseHeader {
        supplier_id: Some(supplier.clone()),
        approach: Some(approach),
        location: Some("Main Warehouse".into()),
        purchase_type: Some(PurchaseType::Advanced),
        ..Default::default()
    }
}

fn order_line(sku: &str, qty: i64, price: i64) -> OrderLine {
    OrderLine {
        sku: Some(sku.into()),
        name: Some(format!("Item {sku}")),
        quantity: Some(dec(qty)),
        price: Some(dec(price)),
        ..Default::default()
    }
    .with_computed_total()
}

fn order(id: &Guid, lines: Vec<OrderLine>, status: TaskStatus) -> PurchaseOrder {
    PurchaseOrder {
        task_id: Some(id.clone()),
        status: Some(status),
        lines,
        ..Default::default()
    }
}

fn invoice(id: &Guid, number: &str, status: TaskStatus) -> PurchaseInvoice {
    PurchaseInvoice {
        purchase_id: Some(id.clone()),
        invoice_number: Some(number.into()),
        status: Some(status),
        lines: vec![InvoiceLine {
            sku: Some("SKU-1".into()),
            quantity: Some(dec(10)),
            price: Some(dec(5)),
            account: "630".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn stock(id: &Guid, lines: Vec<StockLine>, status: TaskStatus) -> StockReceived {
    StockReceived {
        purchase_id: Some(id.clone()),
        status: Some(status),
        lines,
        ..Default::default()
    }
}

fn stock_line(sku: &str, qty: i64) -> StockLine {
    StockLine {
        date: NaiveDate::from_ymd_opt(2026, 1, 2),
        sku: Some(sku.into()),
        quantity: Some(dec(qty)),
        ..Default::default()
    }
}

async fn supplier(client: &Cin7Client) -> Guid {
    client
        .suppliers()
        .create(&new_supplier("Initech Packaging"))
        .await
        .unwrap()
        .id
        .unwrap()
}

async fn fetch(client: &Cin7Client, id: &Guid) -> AdvancedPurchase {
    client.purchases().get(id).send().await.unwrap()
}

fn api_message(err: Error) -> String {
    match err {
        Error::Api(api) => {
            assert_eq!(api.status, 400, "{api:?}");
            api.message
        }
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[tokio::test]
async fn invoice_first_flow_walks_through_every_status() {
    let (sim, client, _clock) = start(|c| c).await;
    let supplier = supplier(&client).await;
    let purchases = client.purchases();
    let created = purchases
        .create(&header(&supplier, Approach::Invoice))
        .await
        .unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.status, Some(PurchaseStatus::Draft));
    assert_eq!(
        created.order.as_ref().unwrap().status,
        Some(TaskStatus::NotAvailable)
    );
    assert_eq!(
        created.order.as_ref().unwrap().task_id.as_ref(),
        Some(&id),
        "placeholder TaskID is the purchase ID"
    );
    assert_eq!(created.invoice[0].task_id.as_ref(), Some(&id));
    assert_eq!(created.order_number.as_deref(), Some("PO-00001"));
    assert_eq!(
        created.terms.as_deref(),
        Some("30 days"),
        "defaults from the supplier"
    );

    // Invoice before the order is authorised: refused.
    let early = purchases
        .create_invoice(&invoice(&id, "SUP-1", TaskStatus::Authorised))
        .await
        .unwrap_err();
    assert!(api_message(early).contains("order must be AUTHORISED"));

    // Draft order: lines are replaced by each POST.
    purchases
        .save_order(&order(
            &id,
            vec![order_line("SKU-1", 1, 5), order_line("SKU-2", 1, 5)],
            TaskStatus::Draft,
        ))
        .await
        .unwrap();
    assert_eq!(
        fetch(&client, &id).await.status,
        Some(PurchaseStatus::Ordering)
    );
    let saved = purchases
        .save_order(&order(
            &id,
            vec![order_line("SKU-1", 10, 5)],
            TaskStatus::Authorised,
        ))
        .await
        .unwrap();
    assert_eq!(saved.lines.len(), 1);
    assert_eq!(saved.total_before_tax, Some(dec(50)));
    assert_eq!(
        saved.tax,
        Some(dec(5)),
        "10% GST from the header's tax rule"
    );
    assert_eq!(
        fetch(&client, &id).await.status,
        Some(PurchaseStatus::Ordered)
    );
    // Authorised order: no more changes.
    let locked = purchases
        .save_order(&order(
            &id,
            vec![order_line("SKU-1", 11, 5)],
            TaskStatus::Draft,
        ))
        .await
        .unwrap_err();
    assert!(api_message(locked).contains("only while DRAFT"));

    // Invoice first: stock before the invoice is refused.
    let early_stock = purchases
        .receive_stock(&stock(
            &id,
            vec![stock_line("SKU-1", 10)],
            TaskStatus::Authorised,
        ))
        .await
        .unwrap_err();
    assert!(api_message(early_stock).contains("invoice must be AUTHORISED"));

    // An invoice line without Account is refused by the simulator too (sent raw, since the
    // client checks it before sending).
    let raw = Cin7Request::post("advanced-purchase/invoice")
        .json(&json!({"PurchaseID": id, "Status": "AUTHORISED", "Lines": [{"SKU": "SKU-1", "Quantity": 1, "Price": 5}]}));
    assert!(api_message(client.execute(raw).await.unwrap_err()).contains("Account is required"));

    let invoices = purchases
        .create_invoice(&invoice(&id, "SUP-1", TaskStatus::Authorised))
        .await
        .unwrap();
    assert_eq!(invoices.invoices.len(), 1);
    assert_eq!(
        invoices.invoices[0].task_id.as_ref(),
        Some(&id),
        "first invoice fills the placeholder"
    );
    assert_eq!(invoices.invoices[0].total, Some(dec(55)));
    assert_eq!(
        fetch(&client, &id).await.status,
        Some(PurchaseStatus::Invoiced)
    );
    let again = purchases
        .create_invoice(&PurchaseInvoice {
            task_id: Some(id.clone()),
            ..invoice(&id, "SUP-1", TaskStatus::Draft)
        })
        .await
        .unwrap_err();
    assert!(api_message(again).contains("only while DRAFT"));

    // Stock: partial draft, then the rest, then authorise with empty lines.
    let task = purchases
        .receive_stock(&stock(
            &id,
            vec![stock_line("SKU-1", 4), stock_line("SKU-1", 2)],
            TaskStatus::Draft,
        ))
        .await
        .unwrap();
    assert_eq!(task.lines.len(), 1, "duplicates in one payload are merged");
    assert_eq!(task.lines[0].quantity, Some(dec(6)));
    let task_id = task.task_id.clone().unwrap();
    let receiving = fetch(&client, &id).await;
    assert_eq!(
        receiving.status,
        Some(PurchaseStatus::Invoiced),
        "a draft receipt does not change an invoiced purchase"
    );
    assert_eq!(
        receiving.combined_receiving_status,
        Some(CombinedReceivingStatus::NotReceived)
    );
    let dup = purchases
        .receive_stock(&StockReceived {
            task_id: Some(task_id.clone()),
            ..stock(&id, vec![stock_line("SKU-1", 1)], TaskStatus::Draft)
        })
        .await
        .unwrap_err();
    assert!(api_message(dup).contains("already exists"));
    let mut batch = stock_line("SKU-1", 4);
    batch.batch_sn = Some("B2".into());
    purchases
        .receive_stock(&StockReceived {
            task_id: Some(task_id.clone()),
            ..stock(&id, vec![batch], TaskStatus::Draft)
        })
        .await
        .unwrap();
    let done = purchases
        .receive_stock(&StockReceived {
            task_id: Some(task_id.clone()),
            ..stock(&id, vec![], TaskStatus::Authorised)
        })
        .await
        .unwrap();
    assert_eq!(done.status, Some(TaskStatus::Authorised));
    assert_eq!(done.lines.len(), 2);

    let finished = fetch(&client, &id).await;
    assert_eq!(finished.status, Some(PurchaseStatus::Completed));
    assert_eq!(
        finished.combined_receiving_status,
        Some(CombinedReceivingStatus::FullyReceived)
    );
    let state = sim.state();
    let held = state.purchase(&id).unwrap();
    assert_eq!(held.order.as_ref().unwrap().lines.len(), 1);
    assert_eq!(held.invoice[0].lines[0].account, "630");
    assert_eq!(held.stock_received[0].lines.len(), 2);
}

#[tokio::test]
async fn stock_first_needs_received_stock_before_the_invoice() {
    let (_sim, client, _clock) = start(|c| c).await;
    let supplier = supplier(&client).await;
    let purchases = client.purchases();
    let id = purchases
        .create(&header(&supplier, Approach::Stock))
        .await
        .unwrap()
        .id
        .unwrap();
    let early = purchases
        .receive_stock(&stock(
            &id,
            vec![stock_line("SKU-1", 10)],
            TaskStatus::Authorised,
        ))
        .await
        .unwrap_err();
    assert!(api_message(early).contains("order must be AUTHORISED"));
    purchases
        .save_order(&order(
            &id,
            vec![order_line("SKU-1", 10, 5)],
            TaskStatus::Authorised,
        ))
        .await
        .unwrap();
    let inv = purchases
        .create_invoice(&invoice(&id, "SUP-9", TaskStatus::Authorised))
        .await
        .unwrap_err();
    assert!(api_message(inv).contains("Stock first"));
    purchases
        .receive_stock(&stock(
            &id,
            vec![stock_line("SKU-1", 10)],
            TaskStatus::Authorised,
        ))
        .await
        .unwrap();
    assert_eq!(
        fetch(&client, &id).await.status,
        Some(PurchaseStatus::Received)
    );
    let over = purchases
        .receive_stock(&stock(&id, vec![stock_line("SKU-1", 1)], TaskStatus::Draft))
        .await
        .unwrap_err();
    assert!(api_message(over).contains("fully received"));
    purchases
        .create_invoice(&invoice(&id, "SUP-9", TaskStatus::Authorised))
        .await
        .unwrap();
    assert_eq!(
        fetch(&client, &id).await.status,
        Some(PurchaseStatus::Completed)
    );
    // A second invoice without TaskID creates a new task.
    let more = purchases
        .create_invoice(&invoice(&id, "SUP-10", TaskStatus::Draft))
        .await
        .unwrap();
    assert_eq!(more.invoices.len(), 2);
    assert_ne!(more.invoices[1].task_id.as_ref(), Some(&id));
}

#[tokio::test]
async fn header_rules_void_and_undo() {
    let (_sim, client, _clock) = start(|c| c).await;
    let supplier = supplier(&client).await;
    let purchases = client.purchases();
    let mut no_location = header(&supplier, Approach::Invoice);
    no_location.location = Some("Nowhere".into());
    let err = purchases.create(&no_location).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.error_code == Some(404) && api.message.contains("Nowhere")),
        "{err:?}"
    );
    let mut ghost = header(&supplier, Approach::Invoice);
    ghost.supplier_id = Some("99999999-9999-9999-9999-999999999999".parse().unwrap());
    assert!(
        matches!(purchases.create(&ghost).await, Err(Error::Api(api)) if api.message.contains("Supplier not found"))
    );

    let id = purchases
        .create(&header(&supplier, Approach::Invoice))
        .await
        .unwrap()
        .id
        .unwrap();
    let updated = purchases
        .update(&PurchaseHeader {
            id: Some(id.clone()),
            note: Some("rush".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(updated.note.as_deref(), Some("rush"));
    assert_eq!(
        updated.location.as_deref(),
        Some("Main Warehouse"),
        "omitted fields kept"
    );

    purchases
        .save_order(&order(
            &id,
            vec![order_line("SKU-1", 2, 3)],
            TaskStatus::Authorised,
        ))
        .await
        .unwrap();
    purchases.undo(&id).await.unwrap();
    let undone = fetch(&client, &id).await;
    assert_eq!(undone.order.unwrap().status, Some(TaskStatus::Draft));
    assert_eq!(undone.status, Some(PurchaseStatus::Ordering));
    purchases.void(&id).await.unwrap();
    let voided = fetch(&client, &id).await;
    assert_eq!(voided.status, Some(PurchaseStatus::Voided));
    assert_eq!(voided.order.unwrap().status, Some(TaskStatus::Voided));
    assert!(purchases.void(&id).await.is_err());
    let locked = purchases
        .save_order(&order(
            &id,
            vec![order_line("SKU-1", 2, 3)],
            TaskStatus::Draft,
        ))
        .await
        .unwrap_err();
    assert!(api_message(locked).contains("voided"));

    // A wrong line Total is refused (the docs' "for validation" field).
    let id2 = purchases
        .create(&header(&supplier, Approach::Invoice))
        .await
        .unwrap()
        .id
        .unwrap();
    let mut wrong = order_line("SKU-1", 3, 3);
    wrong.total = Some(dec(10));
    let err = purchases
        .save_order(&order(&id2, vec![wrong], TaskStatus::Draft))
        .await
        .unwrap_err();
    assert!(api_message(err).contains("does not match"));
}

#[tokio::test]
async fn purchase_list_filters() {
    let (_sim, client, clock) = start(|c| c).await;
    let supplier = supplier(&client).await;
    let purchases = client.purchases();
    let first = purchases
        .create(&header(&supplier, Approach::Invoice))
        .await
        .unwrap()
        .id
        .unwrap();
    clock.advance(Duration::from_secs(600));
    let middle = clock.now();
    clock.advance(Duration::from_secs(600));
    let second = purchases
        .create(&header(&supplier, Approach::Invoice))
        .await
        .unwrap()
        .id
        .unwrap();
    purchases
        .save_order(&order(
            &second,
            vec![order_line("SKU-1", 10, 5)],
            TaskStatus::Authorised,
        ))
        .await
        .unwrap();
    purchases
        .create_invoice(&invoice(&second, "SUP-777", TaskStatus::Authorised))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(600));

    let all = purchases.list().all().await.unwrap();
    assert_eq!(all.len(), 2);
    let since = purchases.list().updated_since(middle).all().await.unwrap();
    assert_eq!(
        since
            .iter()
            .map(|r| r.id.clone().unwrap())
            .collect::<Vec<_>>(),
        vec![second.clone()]
    );
    let until = purchases.list().updated_until(middle).all().await.unwrap();
    assert_eq!(
        until
            .iter()
            .map(|r| r.id.clone().unwrap())
            .collect::<Vec<_>>(),
        vec![first.clone()]
    );
    let found = purchases.list().search("SUP-777").all().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].invoice_number.as_deref(), Some("SUP-777"));
    assert_eq!(found[0].invoice_amount, Some(dec(55)));
    let by_po = purchases.list().search("po-00001").all().await.unwrap();
    assert_eq!(by_po[0].id.as_ref(), Some(&first));
    let drafts = purchases
        .list()
        .status(&PurchaseStatus::Draft)
        .all()
        .await
        .unwrap();
    assert_eq!(drafts.len(), 1);
    let authorised = purchases
        .list()
        .order_status(&TaskStatus::Authorised)
        .invoice_status(&TaskStatus::Authorised)
        .all()
        .await
        .unwrap();
    assert_eq!(authorised.len(), 1);
    assert_eq!(authorised[0].status, Some(PurchaseStatus::Invoiced));
}

#[tokio::test]
async fn payments_settle_an_authorised_invoice() {
    use cin7_core_client::purchase::{CombinedPaymentStatus, PaymentLookup, PurchasePayment};
    let (_sim, client, _clock) = start(|c| c).await;
    let supplier = supplier(&client).await;
    let purchases = client.purchases();
    let id = purchases
        .create(&header(&supplier, Approach::Invoice))
        .await
        .unwrap()
        .id
        .unwrap();
    purchases
        .save_order(&order(
            &id,
            vec![order_line("SKU-1", 10, 5)],
            TaskStatus::Authorised,
        ))
        .await
        .unwrap();
    let draft = purchases
        .create_invoice(&invoice(&id, "SUP-P", TaskStatus::Draft))
        .await
        .unwrap();
    let task = draft.invoices[0].task_id.clone().unwrap();
    let pay = |amount: i64, account: &str| PurchasePayment {
        task_id: Some(task.clone()),
        amount: Some(dec(amount)),
        account: Some(account.into()),
        date_paid: NaiveDate::from_ymd_opt(2026, 1, 20),
        ..Default::default()
    };
    let early = purchases.create_payment(&pay(10, "090")).await.unwrap_err();
    assert!(api_message(early).contains("only an AUTHORISED invoice"));
    purchases
        .create_invoice(&PurchaseInvoice {
            task_id: Some(task.clone()),
            ..invoice(&id, "SUP-P", TaskStatus::Authorised)
        })
        .await
        .unwrap();
    assert!(
        matches!(purchases.create_payment(&pay(10, "400")).await, Err(Error::Api(api)) if api.message.contains("Payment account"))
    );
    purchases.create_payment(&pay(20, "090")).await.unwrap();
    assert_eq!(
        fetch(&client, &id).await.combined_payment_status,
        Some(CombinedPaymentStatus::PartiallyPaid)
    );
    let all = purchases.create_payment(&pay(35, "090")).await.unwrap();
    assert_eq!(all.payments.len(), 2);
    let paid = fetch(&client, &id).await;
    assert_eq!(paid.invoice[0].status, Some(TaskStatus::Paid));
    assert_eq!(
        paid.combined_payment_status,
        Some(CombinedPaymentStatus::Paid)
    );
    let by_number = purchases
        .payments(&PaymentLookup::InvoiceNumber("SUP-P".into()))
        .await
        .unwrap();
    assert_eq!(
        by_number
            .payments
            .iter()
            .map(|p| p.amount.unwrap())
            .sum::<Decimal>(),
        dec(55)
    );
}
