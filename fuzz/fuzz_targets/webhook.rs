//! Webhook payloads as the receiver gets them.
#![no_main]

use cin7_core_client::webhook::WebhookEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = WebhookEvent::parse(data);
});
