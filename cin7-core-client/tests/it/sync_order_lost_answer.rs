//! Regression (found by the fault soak, docs/reliability.md): writing an order with status
//! AUTHORISED whose answer is lost (reset or cut body after Cin7 applied it). A resend would be
//! refused (the lost first attempt already authorised the order), so the client does not resend
//! it; the target reads the purchase once and reports success when the order there is the one it
//! sent, not a permanent "order is AUTHORISED" rejection. When the write did not land, it is
//! sent once more. And a purchase read moments ago decides a repeated write without a second
//! read (issue 18: one read confirms a write whose answer was lost).
#![cfg(all(feature = "sync", feature = "simulator"))]
#![allow(clippy::unwrap_used)]

use crate::simulator_support;

use std::sync::Arc;

use chrono::NaiveDate;
use cin7_core_client::sync::Cin7Target;
use rust_decimal::Decimal;
use simulator_support::*;
use sync_core::faults::{Fault, FaultPlan};
use sync_core::target::{
    Approach, DocStatus, InvoiceDraft, InvoiceLineDraft, OrderDraft, OrderLineDraft, PurchaseDraft,
    PurchaseTarget, TargetPurchase, TaskStatus,
};

fn order(quantity: i64) -> OrderDraft {
    OrderDraft {
        lines: vec![OrderLineDraft {
            sku: "ITEM-00001".into(),
            name: "Widget".into(),
            quantity: Decimal::from(quantity),
            price: Decimal::new(1250, 2),
            tax_rule: None,
        }],
        status: DocStatus::Authorised,
    }
}

async fn purchase_in(sim_target: &Cin7Target, supplier_id: &str) -> TargetPurchase {
    sim_target
        .create_purchase(&PurchaseDraft {
            supplier_id: supplier_id.to_owned(),
            approach: Approach::Invoice,
            location: Some("Main Warehouse".into()),
            reference: "PO0000001".into(),
            currency: "AUD".into(),
            order_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            required_by: None,
            memo: None,
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn an_authorised_order_whose_answer_was_lost_counts_as_written() {
    let plan = Arc::new(FaultPlan::none());
    let shared = plan.clone();
    let (sim, client, _clock) = start(move |c| c.with_faults(shared).with_suppliers(1)).await;
    let supplier = sim.state().suppliers[0].id.clone().unwrap().to_string();
    let target = Cin7Target::new(client);
    let created = purchase_in(&target, &supplier).await;

    // The order lands and is authorised, the answer is lost; nothing is resent. Written on the
    // view the create returned: no read before the write, one after it failed.
    plan.push_script("POST /purchase/order", Fault::ResetAfterApply);
    let reads = sim.calls_to("GET /advanced-purchase");
    let saved = target.set_order(&created, &order(4)).await.unwrap();
    assert_eq!(sim.calls_to("GET /advanced-purchase"), reads + 1);
    assert_eq!(sim.calls_to("POST /purchase/order"), 1, "not resent");
    assert_eq!(saved.order_status, TaskStatus::Authorised);
    assert_eq!(plan.injected().get("reset_after_apply"), Some(&1));
    let state = sim.state();
    let lines = &state.purchases[0].order.as_ref().unwrap().lines;
    assert_eq!(lines.len(), 1, "one order, written once");
    assert_eq!(lines[0].quantity, Some(Decimal::from(4)));

    // Writing the same order again (on the authorised view) is a no-op success; a different
    // one is still refused; neither is sent.
    let posts = sim.calls_to("POST /purchase/order");
    target.set_order(&saved, &order(4)).await.unwrap();
    let refused = target.set_order(&saved, &order(5)).await.unwrap_err();
    assert!(refused.to_string().contains("DRAFT"), "{refused}");
    assert_eq!(sim.calls_to("POST /purchase/order"), posts, "nothing sent");

    // A stale view (it still says NOT AVAILABLE): the write is sent, Cin7 refuses it, the
    // read-back shows an order that is not this one: refused, nothing changed.
    let refused = target.set_order(&created, &order(6)).await.unwrap_err();
    assert!(refused.to_string().contains("DRAFT"), "{refused}");
    let state = sim.state();
    let lines = &state.purchases[0].order.as_ref().unwrap().lines;
    assert_eq!(lines[0].quantity, Some(Decimal::from(4)), "unchanged");
}

#[tokio::test]
async fn an_order_on_a_fresh_purchase_is_one_call() {
    let (sim, client, _clock) = start(|c| c.with_suppliers(1)).await;
    let supplier = sim.state().suppliers[0].id.clone().unwrap().to_string();
    let target = Cin7Target::new(client);
    let created = purchase_in(&target, &supplier).await;
    let before = sim.state().calls;
    let saved = target.set_order(&created, &order(4)).await.unwrap();
    assert_eq!(saved.order_status, TaskStatus::Authorised);
    assert_eq!(saved.id, created.id);
    let after = sim.state().calls;
    let made: Vec<_> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| (k.as_str(), v - before.get(k).copied().unwrap_or(0)))
        .collect();
    assert_eq!(made, [("POST /purchase/order", 1)]);
}

fn invoice(quantity: i64) -> InvoiceDraft {
    InvoiceDraft {
        invoice_number: "SUP-INV-1".into(),
        invoice_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        due_date: None,
        lines: vec![InvoiceLineDraft {
            sku: Some("ITEM-00001".into()),
            name: "Widget".into(),
            quantity: Decimal::from(quantity),
            price: Decimal::new(1250, 2),
            account: "412".into(),
            tax_rule: None,
        }],
        status: DocStatus::Authorised,
    }
}

/// The same for an invoice: an earlier attempt wrote and authorised it, its answer was lost;
/// overwriting it with the same invoice is success (Cin7 refuses, the read-back shows it is
/// ours), with another one a refusal.
#[tokio::test]
async fn an_authorised_invoice_written_by_a_lost_attempt_counts_as_written() {
    let (sim, client, _clock) = start(|c| c.with_suppliers(1)).await;
    let supplier = sim.state().suppliers[0].id.clone().unwrap().to_string();
    let target = Cin7Target::new(client);
    let created = purchase_in(&target, &supplier).await;
    target.set_order(&created, &order(4)).await.unwrap();
    let posted = target
        .post_invoice(&created.id, None, &invoice(4))
        .await
        .unwrap();
    assert_eq!(posted.status, TaskStatus::Authorised);

    let again = target
        .post_invoice(&created.id, Some(&posted.task_id), &invoice(4))
        .await
        .unwrap();
    assert_eq!(again, posted);
    let refused = target
        .post_invoice(&created.id, Some(&posted.task_id), &invoice(5))
        .await
        .unwrap_err();
    assert_eq!(refused.status, Some(400), "{refused}");
    let state = sim.state();
    let invoices: Vec<_> = state.purchases[0]
        .invoice
        .iter()
        .filter(|i| i.invoice_number.is_some())
        .collect();
    assert_eq!(invoices.len(), 1, "one invoice");
    assert_eq!(
        invoices[0].lines[0].quantity,
        Some(Decimal::from(4)),
        "unchanged"
    );
}

/// The connection drops before Cin7 applied the order: one read shows the order still not
/// written, so it is sent once more, and lands once.
#[tokio::test]
async fn an_authorised_order_that_did_not_land_is_read_once_then_sent_again() {
    let plan = Arc::new(FaultPlan::none());
    let shared = plan.clone();
    let (sim, client, _clock) = start(move |c| c.with_faults(shared).with_suppliers(1)).await;
    let supplier = sim.state().suppliers[0].id.clone().unwrap().to_string();
    let target = Cin7Target::new(client);
    let created = purchase_in(&target, &supplier).await;
    plan.push_script("POST /purchase/order", Fault::ResetBeforeApply);
    let saved = target.set_order(&created, &order(4)).await.unwrap();
    assert_eq!(saved.order_status, TaskStatus::Authorised);
    assert_eq!(plan.injected().get("reset_before_apply"), Some(&1));
    assert_eq!(sim.calls_to("GET /advanced-purchase"), 1);
    assert_eq!(sim.calls_to("POST /purchase/order"), 2);
    let state = sim.state();
    let lines = &state.purchases[0].order.as_ref().unwrap().lines;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].quantity, Some(Decimal::from(4)));
}

/// After `get_purchase` shows an authorised order and invoice, writing the same order and
/// invoice again is decided on that read: no second read, nothing sent. A different one is
/// refused the same way.
#[tokio::test]
async fn a_purchase_read_moments_ago_decides_a_repeated_write_without_a_second_read() {
    let (sim, client, _clock) = start(|c| c.with_suppliers(1)).await;
    let supplier = sim.state().suppliers[0].id.clone().unwrap().to_string();
    let target = Cin7Target::new(client);
    let created = purchase_in(&target, &supplier).await;
    target.set_order(&created, &order(4)).await.unwrap();
    let posted = target
        .post_invoice(&created.id, None, &invoice(4))
        .await
        .unwrap();

    let before = sim.state().calls;
    let view = target.get_purchase(&created.id).await.unwrap().unwrap();
    assert_eq!(view.order_status, TaskStatus::Authorised);
    target.set_order(&view, &order(4)).await.unwrap();
    let view = target.get_purchase(&created.id).await.unwrap().unwrap();
    let again = target
        .post_invoice(&view.id, Some(&posted.task_id), &invoice(4))
        .await
        .unwrap();
    assert_eq!(again, posted);
    let view = target.get_purchase(&created.id).await.unwrap().unwrap();
    let refused = target
        .post_invoice(&view.id, Some(&posted.task_id), &invoice(5))
        .await
        .unwrap_err();
    assert_eq!(refused.status, Some(400), "{refused}");
    let after = sim.state().calls;
    let made: Vec<_> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| (k.as_str(), v - before.get(k).copied().unwrap_or(0)))
        .collect();
    assert_eq!(
        made,
        [("GET /advanced-purchase", 3)],
        "one read per decision"
    );
}
