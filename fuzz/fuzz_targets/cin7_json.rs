//! Cin7 models (lenient dates, decimals, GUIDs, untyped extra fields) from any JSON.
#![no_main]

use cin7_core_client::purchase::AdvancedPurchase;
use cin7_core_client::supplier::Supplier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(supplier) = serde_json::from_slice::<Supplier>(data) {
        // What was read can be written back.
        let _ = serde_json::to_vec(&supplier);
    }
    if let Ok(purchase) = serde_json::from_slice::<AdvancedPurchase>(data) {
        let _ = format!("{purchase:?}");
    }
});
