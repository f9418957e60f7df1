//! `ionapi`: see `bodies/ion.rs` (the same function runs the committed corpus in CI).
#![no_main]

#[path = "../bodies/ion.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::ionapi(data));
