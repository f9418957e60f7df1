//! What the Cin7-side fuzz targets do with one input. Shared, through `#[path]`, by the
//! `cargo fuzz` targets in `fuzz_targets/` and by `cin7-core-client/tests/it/fuzz_corpora.rs`,
//! which runs every committed corpus file through these same functions in CI.
#![allow(dead_code)]

use cin7_core_client::pagination::decode_page;
use cin7_core_client::purchase::AdvancedPurchase;
use cin7_core_client::supplier::Supplier;
use cin7_core_client::webhook::WebhookEvent;

/// Cin7 models (lenient dates, decimals, GUIDs, untyped extra fields) from any JSON, alone and
/// as a list page. A supplier that was read is written back, and what we write reads again.
pub fn cin7_json(data: &[u8]) {
    if let Ok(supplier) = serde_json::from_slice::<Supplier>(data) {
        let written = serde_json::to_vec(&supplier).expect("a decoded supplier serialises");
        if let Err(e) = serde_json::from_slice::<Supplier>(&written) {
            panic!(
                "a supplier we wrote cannot be read back: {e}\n{}",
                String::from_utf8_lossy(&written)
            );
        }
    }
    if let Ok(purchase) = serde_json::from_slice::<AdvancedPurchase>(data) {
        let _ = format!("{purchase:?}");
    }
    // As the client reads an answer: a tree with unique keys, then the typed page.
    if let Ok(body) = sync_core::json::from_slice(data) {
        let _ = decode_page::<Supplier>("supplier", "SupplierList", 1, body);
    }
}

/// Webhook payloads as the receiver gets them.
pub fn webhook(data: &[u8]) {
    let _ = WebhookEvent::parse(data);
}
