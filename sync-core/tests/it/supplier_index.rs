//! `SupplierIndex` keeps only what matching needs (id, vendor ID, optionally the name) and a
//! replaced supplier moves between keys without leaving a stale id behind.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use sync_core::engine::suppliers::SupplierIndex;
use sync_core::target::TargetSupplier;

fn supplier(id: &str, name: &str, vendor: Option<&str>) -> TargetSupplier {
    TargetSupplier {
        id: id.into(),
        name: name.into(),
        extra_fields: vendor
            .map(|v| {
                BTreeMap::from([
                    ("AdditionalAttribute1".to_owned(), v.to_owned()),
                    ("Comments".to_owned(), "not indexed".to_owned()),
                ])
            })
            .unwrap_or_default(),
        status: None,
    }
}

fn ids(found: &[Arc<str>]) -> Vec<&str> {
    found.iter().map(|id| &**id).collect()
}

#[test]
fn vendor_and_name_lists_follow_a_replaced_supplier() {
    let mut index = SupplierIndex::new(Some("AdditionalAttribute1".into()));
    index.insert(supplier("a", "Acme", Some("V1")));
    index.insert(supplier("b", "Acme", Some("V1")));
    index.insert(supplier("c", "Bolt", None));
    assert_eq!(index.len(), 3);
    assert_eq!(ids(index.by_vendor("V1")), ["a", "b"]);
    assert_eq!(ids(index.by_name("Acme")), ["a", "b"]);
    assert!(index.by_vendor("").is_empty(), "no vendor ID is no key");

    // b is renamed and re-stamped in the target.
    index.insert(supplier("b", "Bolt", Some("V2")));
    assert_eq!(index.len(), 3);
    assert_eq!(ids(index.by_vendor("V1")), ["a"]);
    assert_eq!(ids(index.by_vendor("V2")), ["b"]);
    assert_eq!(ids(index.by_name("Acme")), ["a"]);
    assert_eq!(ids(index.by_name("Bolt")), ["c", "b"]);

    // a loses its vendor ID: the V1 list goes away.
    index.insert(supplier("a", "Acme", None));
    assert!(index.by_vendor("V1").is_empty());
    assert!(index.contains("a"));
    assert!(!index.contains("d"));
}

#[test]
fn names_are_left_out_when_not_needed() {
    let mut index = SupplierIndex::new(Some("AdditionalAttribute1".into())).with_names(false);
    index.insert(supplier("a", "Acme", Some("V1")));
    index.insert(supplier("a", "Acme Ltd", Some("V1")));
    assert_eq!(index.len(), 1);
    assert_eq!(ids(index.by_vendor("V1")), ["a"]);
    assert!(index.by_name("Acme").is_empty());
    assert!(index.by_name("Acme Ltd").is_empty());
}
