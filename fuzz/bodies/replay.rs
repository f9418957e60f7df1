//! Runs every file of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` through a target
//! body, catching panics so one report names every input that fails. Used by the SDK crates'
//! `tests/fuzz_corpora.rs`, not by the fuzzer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Inputs taking longer than this (debug build) are reported too: under the fuzzer they
/// would be timeouts.
const SLOW: Duration = Duration::from_secs(2);

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs the corpus (which must not be empty) and the regressions of `target` through `body`.
pub fn run(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let corpus = files(&root.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "no committed corpus for the `{target}` fuzz target"
    );
    let regressions = files(&root.join("regressions").join(target));
    let mut failures = Vec::new();
    let started = Instant::now();
    for path in corpus.iter().chain(&regressions) {
        let data = std::fs::read(path).expect("a readable corpus file");
        let one = Instant::now();
        let outcome = std::panic::catch_unwind(|| body(&data));
        let took = one.elapsed();
        if outcome.is_err() {
            failures.push(format!("{} panicked", path.display()));
        } else if took > SLOW {
            failures.push(format!("{} took {took:?}", path.display()));
        }
    }
    eprintln!(
        "{target}: {} corpus files and {} regressions in {:?}",
        corpus.len(),
        regressions.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
