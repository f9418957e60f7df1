#![allow(clippy::unwrap_used)]
//! A BOD whose variationID is lower than or equal to one already seen for the same document
//! is stale; keys separate documents by noun, id, accounting entity, location and lid.

use infor_ion_client::bod::{
    AnyBod, Bod, Freshness, PurchaseOrder, SupplierPartyMaster, VariationKey, VariationTracker,
    key_for,
};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/bod/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

fn po_with_variation(v: &str) -> Bod<PurchaseOrder> {
    let xml = fixture("sync_purchase_order_m3.xml").replace(
        "variationID=\"1727170389770\"",
        &format!("variationID=\"{v}\""),
    );
    Bod::<PurchaseOrder>::from_str(&xml).unwrap()
}

#[test]
fn lower_or_equal_variation_is_stale() {
    let mut t = VariationTracker::new();
    assert_eq!(t.observe_bod(&po_with_variation("5")), [Freshness::New]);
    assert_eq!(
        t.observe_bod(&po_with_variation("3")),
        [Freshness::Stale { seen: 5 }],
        "an older BOD arriving late is dropped"
    );
    assert_eq!(
        t.observe_bod(&po_with_variation("5")),
        [Freshness::Stale { seen: 5 }],
        "a redelivery of the same variation is dropped"
    );
    assert_eq!(
        t.observe_bod(&po_with_variation("6")),
        [Freshness::Newer { previous: 5 }]
    );
    assert_eq!(t.len(), 1);
    let (key, v) = key_for(&po_with_variation("6"), &po_with_variation("6").nouns[0]).unwrap();
    assert_eq!(v, Some(6));
    assert_eq!(t.highest(&key), Some(6));
    assert_eq!(key.noun, "PurchaseOrder");
    assert_eq!(key.document_id, "4000123");
    assert_eq!(key.accounting_entity.as_deref(), Some("300_001"));
    assert_eq!(key.location.as_deref(), Some("FR1"));
    assert_eq!(key.lid.as_deref(), Some("lid://infor.m3.m3"));
}

#[test]
fn keys_separate_entities_locations_lids_and_nouns() {
    let mut t = VariationTracker::new();
    let id = |ae: &str, loc: &str, lid: &str, noun: &str| VariationKey {
        noun: noun.into(),
        document_id: "4000123".into(),
        accounting_entity: Some(ae.into()),
        location: Some(loc.into()),
        lid: Some(lid.into()),
    };
    assert_eq!(
        t.observe(id("300_001", "FR1", "lid://a", "PurchaseOrder"), 10),
        Freshness::New
    );
    // Same id, other accounting entity / location / lid / noun: independent sequences.
    assert_eq!(
        t.observe(id("300_002", "FR1", "lid://a", "PurchaseOrder"), 1),
        Freshness::New
    );
    assert_eq!(
        t.observe(id("300_001", "FR2", "lid://a", "PurchaseOrder"), 1),
        Freshness::New
    );
    assert_eq!(
        t.observe(id("300_001", "FR1", "lid://b", "PurchaseOrder"), 1),
        Freshness::New
    );
    assert_eq!(
        t.observe(id("300_001", "FR1", "lid://a", "SupplierInvoice"), 1),
        Freshness::New
    );
    assert_eq!(
        t.check(&id("300_001", "FR1", "lid://a", "PurchaseOrder"), 9),
        Freshness::Stale { seen: 10 }
    );
    // check() does not record.
    assert_eq!(
        t.highest(&id("300_001", "FR1", "lid://a", "PurchaseOrder")),
        Some(10)
    );
    assert_eq!(t.len(), 5);
}

#[test]
fn envelope_fills_missing_key_attributes() {
    // The supplier fixture's ID has accountingEntity but no location or lid.
    let bod =
        Bod::<SupplierPartyMaster>::from_str(&fixture("sync_supplier_party_master.xml")).unwrap();
    let (key, v) = key_for(&bod, &bod.nouns[0]).unwrap();
    assert_eq!(v, Some(18));
    assert_eq!(key.accounting_entity.as_deref(), Some("300"));
    assert_eq!(
        key.location.as_deref(),
        Some(""),
        "from DataArea/Sync/LocationID"
    );
    assert_eq!(
        key.lid.as_deref(),
        Some("lid://infor.m3.m3"),
        "from Sender/LogicalID"
    );
}

#[test]
fn missing_variation_is_unversioned() {
    let xml = fixture("sync_purchase_order_m3.xml").replace(" variationID=\"1727170389770\"", "");
    let bod = Bod::<PurchaseOrder>::from_str(&xml).unwrap();
    let mut t = VariationTracker::new();
    assert_eq!(t.observe_bod(&bod), [Freshness::Unversioned]);
    assert!(t.is_empty());
}

#[test]
fn any_bod_and_restore() {
    let bod = AnyBod::from_slice(fixture("sync_item_master.xml").as_bytes()).unwrap();
    let mut t = VariationTracker::new();
    let AnyBod::ItemMaster(ref typed) = bod else {
        panic!("not an item master")
    };
    let (key, _) = key_for(typed, &typed.nouns[0]).unwrap();
    t.restore(key.clone(), 2000);
    assert_eq!(bod.observe(&mut t), [Freshness::Stale { seen: 2000 }]);
    t.restore(key.clone(), 5); // restoring a lower value never lowers the mark
    assert_eq!(t.highest(&key), Some(2000));
}

proptest! {
    /// Whatever the delivery order, a variation is accepted exactly when it is higher than
    /// every variation accepted before it.
    #[test]
    fn accepts_exactly_the_running_maxima(seq in proptest::collection::vec(0u64..50, 1..60)) {
        let mut t = VariationTracker::new();
        let key = VariationKey {
            noun: "PurchaseOrder".into(),
            document_id: "1".into(),
            accounting_entity: None,
            location: None,
            lid: None,
        };
        let mut max: Option<u64> = None;
        for v in seq {
            let verdict = t.observe(key.clone(), v);
            let expect_fresh = max.is_none_or(|m| v > m);
            prop_assert_eq!(verdict.is_fresh(), expect_fresh);
            if expect_fresh {
                max = Some(v);
            }
            prop_assert_eq!(t.highest(&key), max);
        }
    }
}
