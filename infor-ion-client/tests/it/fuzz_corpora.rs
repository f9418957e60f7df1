//! The seeds (`fuzz/seeds/`), crash reproducers (`fuzz/regressions/`) and any local fuzz
//! corpus of the ION-side targets, run through the very functions the `cargo fuzz` targets call
//! (`fuzz/bodies/ion.rs`), so CI exercises them without the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../fuzz/bodies/ion.rs"]
mod bodies;

#[path = "../../../fuzz/bodies/replay.rs"]
mod replay;

#[test]
fn ionapi_corpus() {
    replay::run("ionapi", bodies::ionapi);
}

#[test]
fn bod_corpus() {
    replay::run("bod", bodies::bod);
}

#[test]
fn ido_corpus() {
    replay::run("ido", bodies::ido);
}
