//! Every defect the fuzz targets found in this crate, as an ordinary test (docs/reliability.md,
//! "Fuzzing"). The crashing inputs are committed under `fuzz/regressions/<target>/`;
//! `fuzz_corpora.rs` also runs each of them through its fuzz target's body.
#![allow(clippy::unwrap_used)]

use infor_ion_client::bod::{AnyBod, BodError};

fn regression(target: &str, name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../fuzz/regressions/{target}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[track_caller]
fn assert_bad_name(result: Result<AnyBod, BodError>) {
    match result {
        Err(BodError::Xml { message, .. }) => {
            assert!(message.contains("not a valid qualified name"), "{message}")
        }
        Err(other) => panic!("wrong error: {other:?}"),
        Ok(bod) => panic!("accepted as {}", bod.noun_name()),
    }
}

/// `bod`, found on the first run: `<oa:ActionExproa:OrderDateTimeession/>` (two colons) was
/// read as prefix `oa` + local name `ActionExproa:OrderDateTimeession`; written back, the
/// local name became a prefix nobody declared, so a BOD we wrote could not be read again. A
/// name with more than one colon (or an empty local part) is now refused when reading.
#[test]
fn bod_element_name_with_two_colons_is_refused() {
    assert_bad_name(AnyBod::from_slice(&regression(
        "bod",
        "element_name_with_two_colons.xml",
    )));
    let ns = r#"xmlns="http://schema.infor.com/InforOAGIS/2" xmlns:a="urn:a""#;
    for doc in [
        format!(r#"<SyncPurchaseOrder {ns}><a:b:c/></SyncPurchaseOrder>"#),
        format!(r#"<SyncPurchaseOrder {ns}><DataArea a:b:c="1"/></SyncPurchaseOrder>"#),
        format!(r#"<SyncPurchaseOrder {ns}><a:/></SyncPurchaseOrder>"#),
    ] {
        assert_bad_name(AnyBod::from_slice(doc.as_bytes()));
    }
}
