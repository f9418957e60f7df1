#![cfg(all(feature = "sync", feature = "simulator"))]
#![allow(clippy::unwrap_used)]
//! The return direction reads the invoices authorised in Cin7 (not drafts) with their item
//! lines and additional charges, against the simulator.

use crate::simulator_support;

use cin7_core_client::purchase::{
    AdditionalCharge, Approach, InvoiceLine, OrderLine, PurchaseHeader, PurchaseInvoice,
    PurchaseOrder, TaskStatus,
};
use cin7_core_client::sync::returns::Cin7PurchaseSource;
use rust_decimal::Decimal;
use simulator_support::*;
use sync_core::model::SourceIdentity;
use sync_core::source::Source;
use sync_core::time::Clock;

#[tokio::test]
async fn authorised_invoices_are_read_with_lines_and_charges_drafts_are_not() {
    let (_sim, client, clock) = start(|c| c).await;
    let supplier = client
        .suppliers()
        .create(&new_supplier("Invoicing Supplies"))
        .await
        .unwrap();
    let purchases = client.purchases();
    let purchase = purchases
        .create(&PurchaseHeader {
            supplier_id: supplier.id.clone(),
            approach: Some(Approach::Invoice),
            location: Some("Main Warehouse".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let purchase_id = purchase.id.clone().unwrap();
    purchases
        .save_order(&PurchaseOrder {
            task_id: Some(purchase_id.clone()),
            status: Some(TaskStatus::Authorised),
            lines: vec![OrderLine {
                sku: Some("A".into()),
                name: Some("Widget".into()),
                quantity: Some(Decimal::from(3)),
                price: Some(Decimal::TEN),
                total: Some(Decimal::from(30)),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let invoice = |number: &str, status: TaskStatus| PurchaseInvoice {
        purchase_id: Some(purchase_id.clone()),
        invoice_number: Some(number.into()),
        invoice_date: Some(clock.now().date_naive()),
        status: Some(status),
        lines: vec![InvoiceLine {
            sku: Some("A".into()),
            name: Some("Widget".into()),
            quantity: Some(Decimal::from(3)),
            price: Some(Decimal::TEN),
            total: Some(Decimal::from(30)),
            account: "630".into(),
            ..Default::default()
        }],
        additional_charges: vec![AdditionalCharge {
            description: "Freight".into(),
            quantity: Some(Decimal::ONE),
            price: Some(Decimal::from(7)),
            total: Some(Decimal::from(7)),
            account: Some("630".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let saved = purchases
        .create_invoice(&invoice("SUP-INV-1", TaskStatus::Authorised))
        .await
        .unwrap();
    let task_id = saved
        .invoices
        .iter()
        .find(|i| i.invoice_number.as_deref() == Some("SUP-INV-1"))
        .and_then(|i| i.task_id.clone())
        .unwrap();
    purchases
        .create_invoice(&invoice("SUP-INV-2", TaskStatus::Draft))
        .await
        .unwrap();

    let source = Cin7PurchaseSource::new(client.clone(), "acct");
    let update = source
        .fetch(&SourceIdentity::new(
            "cin7",
            "acct",
            "",
            purchase_id.to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(update.invoice_authorised);
    assert_eq!(update.invoices.len(), 1, "{:?}", update.invoices);
    let read = &update.invoices[0];
    assert_eq!(read.task_id, task_id.to_string());
    assert_eq!(read.invoice_number, "SUP-INV-1");
    assert_eq!(read.invoice_date, Some(clock.now().date_naive()));
    assert_eq!(read.lines.len(), 2);
    assert_eq!(read.lines[0].sku.as_deref(), Some("A"));
    assert_eq!(read.lines[0].total, Decimal::from(30));
    assert_eq!(read.lines[1].sku, None);
    assert_eq!(read.lines[1].name, "Freight");
    assert_eq!(read.total_before_tax, Decimal::from(37));
}

#[tokio::test]
async fn with_summaries_rows_are_summaries_and_read_in_full_on_demand() {
    use futures::TryStreamExt;
    use sync_core::source::Window;

    let (sim, client, clock) = start(|c| c).await;
    let supplier = client
        .suppliers()
        .create(&new_supplier("Quiet Supplies"))
        .await
        .unwrap();
    let purchases = client.purchases();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let purchase = purchases
            .create(&PurchaseHeader {
                supplier_id: supplier.id.clone(),
                approach: Some(Approach::Invoice),
                location: Some("Main Warehouse".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let id = purchase.id.clone().unwrap();
        purchases
            .save_order(&PurchaseOrder {
                task_id: Some(id.clone()),
                status: Some(TaskStatus::Authorised),
                lines: vec![OrderLine {
                    sku: Some("A".into()),
                    name: Some("Widget".into()),
                    quantity: Some(Decimal::from(3)),
                    price: Some(Decimal::TEN),
                    total: Some(Decimal::from(30)),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(id);
    }
    // One of them is invoiced: that row is read in full.
    purchases
        .create_invoice(&PurchaseInvoice {
            purchase_id: Some(ids[2].clone()),
            invoice_number: Some("SUP-INV-9".into()),
            status: Some(TaskStatus::Authorised),
            lines: vec![InvoiceLine {
                sku: Some("A".into()),
                name: Some("Widget".into()),
                quantity: Some(Decimal::from(3)),
                price: Some(Decimal::TEN),
                total: Some(Decimal::from(30)),
                account: "630".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();

    let reads_before = sim.calls_to("GET /advanced-purchase");
    let source = Cin7PurchaseSource::new(client.clone(), "acct").with_summaries(true);
    let read: Vec<_> = source
        .poll(Window {
            from: None,
            ceiling: clock.now(),
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read.len(), 3);
    assert!(
        read.iter()
            .all(|u| u.summary.is_some() && u.lines.is_empty())
    );
    let summaries: Vec<_> = read
        .iter()
        .filter(|u| u.summary.as_ref().is_some_and(|s| s.quiet))
        .collect();
    assert_eq!(
        summaries.len(),
        2,
        "the invoiced one is not quiet: {read:?}"
    );
    assert!(
        summaries
            .iter()
            .all(|u| u.progress == sync_core::model::PurchaseProgress::Ordered)
    );
    assert_eq!(
        sim.calls_to("GET /advanced-purchase"),
        reads_before,
        "nothing read in full"
    );
    // A summary is read in full on demand.
    let full = source.fetch(&summaries[0].identity).await.unwrap().unwrap();
    assert!(full.summary.is_none());
    assert_eq!(full.lines.len(), 1);
}
