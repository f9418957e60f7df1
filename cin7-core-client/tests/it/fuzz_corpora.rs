//! The seeds (`fuzz/seeds/`), crash reproducers (`fuzz/regressions/`) and any local fuzz
//! corpus of the Cin7-side targets, run through the very functions the `cargo fuzz` targets call
//! (`fuzz/bodies/cin7.rs`), so CI exercises them without the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../fuzz/bodies/cin7.rs"]
mod bodies;

#[path = "../../../fuzz/bodies/replay.rs"]
mod replay;

#[test]
fn cin7_json_corpus() {
    replay::run("cin7_json", bodies::cin7_json);
}

#[test]
fn webhook_corpus() {
    replay::run("webhook", bodies::webhook);
}
