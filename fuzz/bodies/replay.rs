//! Runs a target's seeds (hand-made inputs and the crates' test fixtures, all source), its crash
//! reproducers (`fuzz/regressions/<target>/`) and, where a fuzzer has grown one on this
//! machine, its corpus (`fuzz/corpus/<target>/`, not committed: generated output) through a
//! target body, catching panics so one report names every input that fails. Used by the SDK
//! crates' `tests/fuzz_corpora.rs`, not by the fuzzer.

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

/// The seeds of `target`: every file named in `fuzz/seeds/<target>.list` (one path from the
/// workspace root a line, a file or a directory of files). `plateau.sh` seeds the fuzzer from
/// the same list.
fn seeds(workspace: &Path, target: &str) -> Vec<PathBuf> {
    let list = workspace.join("fuzz/seeds").join(format!("{target}.list"));
    std::fs::read_to_string(&list)
        .expect("a readable seed list")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| workspace.join(line))
        .flat_map(|path| {
            if path.is_dir() {
                files(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// Runs the seeds of `target` (which must not be empty), its regressions and any local corpus
/// through `body`.
pub fn run(target: &str, body: fn(&[u8])) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = workspace.join("fuzz");
    let seeds = seeds(&workspace, target);
    assert!(!seeds.is_empty(), "no seeds for the `{target}` fuzz target");
    let corpus = files(&root.join("corpus").join(target));
    let regressions = files(&root.join("regressions").join(target));
    let mut failures = Vec::new();
    let started = Instant::now();
    for path in seeds.iter().chain(&corpus).chain(&regressions) {
        let data = std::fs::read(path).expect("a readable seed or corpus file");
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
        "{target}: {} seeds, {} local corpus files and {} regressions in {:?}",
        seeds.len(),
        corpus.len(),
        regressions.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
