//! `webhook`: see `bodies/cin7.rs` (the same function runs the committed corpus in CI).
#![no_main]

#[path = "../bodies/cin7.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::webhook(data));
