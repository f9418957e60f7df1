//! `.ionapi` files: any bytes give a value or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = infor_ion_client::ionapi::IonApiFile::from_json_slice(data) {
        // Debug must work (and redact) for whatever was accepted.
        let _ = format!("{file:?}");
    }
});
