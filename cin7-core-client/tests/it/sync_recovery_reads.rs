//! What confirming writes whose answers were lost costs in Cin7 calls (issue 18): a supplier
//! that already is what we would write is read, not rewritten; purchases created by lost
//! `POST`s are found again for many references at once with one `purchaseList` walk and one
//! read per candidate.
#![cfg(all(feature = "sync", feature = "simulator"))]
#![allow(clippy::unwrap_used)]

use crate::simulator_support;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cin7_core_client::sync::Cin7Target;
use simulator_support::*;
use sync_core::model::PartyStatus;
use sync_core::target::{Approach, PurchaseDraft, PurchaseTarget, SupplierDraft, SupplierTarget};

fn calls_made(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .collect()
}

#[tokio::test]
async fn a_supplier_that_already_is_the_draft_is_read_not_rewritten() {
    let (sim, client, _clock) = start(|c| c).await;
    let target = Cin7Target::new(client);
    let draft = SupplierDraft {
        name: "Acme Fasteners Ltd".into(),
        currency: "USD".into(),
        payment_term: "30 days".into(),
        tax_rule: "GST on Expenses".into(),
        account_payable: "800".into(),
        tax_number: None,
        status: PartyStatus::Active,
        addresses: Vec::new(),
        contacts: Vec::new(),
        extra_fields: BTreeMap::from([("AdditionalAttribute1".into(), "V000001".into())]),
    };
    let created = target.create_supplier(&draft).await.unwrap();

    let before = sim.state().calls;
    let same = target.update_supplier(&created.id, &draft).await.unwrap();
    assert_eq!(same, created);
    assert_eq!(
        calls_made(&before, &sim.state().calls),
        [("GET /supplier".to_owned(), 1)],
        "one read, no PUT"
    );

    let renamed = SupplierDraft {
        name: "Acme Fasteners Limited".into(),
        ..draft
    };
    let saved = target.update_supplier(&created.id, &renamed).await.unwrap();
    assert_eq!(saved.name, "Acme Fasteners Limited");
    assert_eq!(sim.calls_to("PUT /supplier"), 1, "a change is written");
}

#[tokio::test]
async fn purchases_of_many_references_are_found_with_one_walk_and_a_read_per_candidate() {
    let (sim, client, clock) = start(|c| c.with_suppliers(1)).await;
    let supplier = sim.state().suppliers[0].id.clone().unwrap().to_string();
    let target = Cin7Target::new(client);
    let since = clock.shared().now() - chrono::Duration::minutes(5);
    let draft = |reference: &str| PurchaseDraft {
        supplier_id: supplier.clone(),
        approach: Approach::Invoice,
        location: Some("Main Warehouse".into()),
        reference: reference.into(),
        currency: "AUD".into(),
        order_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        required_by: None,
        memo: None,
    };
    // Three headers "whose answers were lost" (their reference lives only in an attribute).
    let mut ids = BTreeMap::new();
    for reference in ["PO-1", "PO-2", "PO-3"] {
        ids.insert(
            reference,
            target.create_purchase(&draft(reference)).await.unwrap().id,
        );
    }

    let before = sim.state().calls;
    let references: Vec<String> = ["PO-1", "PO-2", "PO-3", "PO-404"]
        .map(str::to_owned)
        .to_vec();
    let found = target
        .find_purchases_since(&references, since)
        .await
        .unwrap();
    for reference in ["PO-1", "PO-2", "PO-3"] {
        let matches = &found[reference];
        assert_eq!(matches.len(), 1, "{reference}: {matches:?}");
        assert_eq!(matches[0].id, ids[reference]);
        assert_eq!(matches[0].reference, reference);
    }
    assert_eq!(found["PO-404"], Vec::new());
    assert_eq!(
        calls_made(&before, &sim.state().calls),
        [
            ("GET /advanced-purchase".to_owned(), 3),
            ("GET /purchaseList".to_owned(), 1)
        ],
        "one walk, one read per candidate (the lookups one by one: a search, a page of drafts and the reads, per reference)"
    );

    // Nothing changed since `since`: nothing is read.
    let later = clock.shared().now() + chrono::Duration::minutes(1);
    let before = sim.state().calls;
    let found = target
        .find_purchases_since(&references, later)
        .await
        .unwrap();
    assert!(found.values().all(Vec::is_empty), "{found:?}");
    assert_eq!(
        calls_made(&before, &sim.state().calls),
        [("GET /purchaseList".to_owned(), 1)]
    );
}
