//! What the ION-side fuzz targets do with one input. Shared, through `#[path]`, by the
//! `cargo fuzz` targets in `fuzz_targets/` and by `infor-ion-client/tests/it/fuzz_corpora.rs`,
//! which runs every committed corpus file through these same functions in CI.
#![allow(dead_code)]

use infor_ion_client::bod::{AnyBod, VariationTracker};
use infor_ion_client::csi::IdoNoun;
use infor_ion_client::csi::fuzzing::parse_load_page;
use infor_ion_client::csi::nouns::{
    ApPayment, ApVoucher, ApVoucherDistribution, Customer, GlAccount, Item, PoLine,
    PostedApTransaction, PurchaseOrder, Vendor,
};
use infor_ion_client::ionapi::IonApiFile;

/// `.ionapi` files: any bytes give a value or a typed error, never a panic.
pub fn ionapi(data: &[u8]) {
    if let Ok(file) = IonApiFile::from_json_slice(data) {
        // Debug must work (and redact) for whatever was accepted; the derived URLs too.
        let _ = format!("{file:?}");
        let _ = file.token_url();
        let _ = file.revoke_url();
        let _ = file.service_account();
    }
}

/// BODs: any bytes through the hardened XML reader and every noun model. What was read is
/// written back, and what was written must read again as the same noun and verb.
pub fn bod(data: &[u8]) {
    let Ok(bod) = AnyBod::from_slice(data) else {
        return;
    };
    let _ = bod.observe(&mut VariationTracker::new());
    let Ok(xml) = bod.to_xml() else {
        return;
    };
    match AnyBod::from_slice(xml.as_bytes()) {
        Ok(again) => {
            assert_eq!(
                again.noun_name(),
                bod.noun_name(),
                "noun changed on rewrite"
            );
            assert_eq!(again.verb(), bod.verb(), "verb changed on rewrite");
        }
        Err(e) => panic!("a BOD we wrote cannot be read back: {e}\n{xml}"),
    }
}

fn noun<N: IdoNoun>(record: &infor_ion_client::values::Record) {
    if let Ok(n) = N::from_record(record.clone()) {
        let _ = std::hint::black_box(n);
    }
}

/// IDO load-collection answers: the page parser, then every typed noun from every row.
pub fn ido(data: &[u8]) {
    let Ok(page) = parse_load_page("SLVendors", data) else {
        return;
    };
    for item in &page.items {
        let r = &item.record;
        noun::<Vendor>(r);
        noun::<PurchaseOrder>(r);
        noun::<PoLine>(r);
        noun::<ApVoucher>(r);
        noun::<ApVoucherDistribution>(r);
        noun::<PostedApTransaction>(r);
        noun::<ApPayment>(r);
        noun::<GlAccount>(r);
        noun::<Customer>(r);
        noun::<Item>(r);
    }
}
