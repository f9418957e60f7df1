//! Shared code of the example binaries.
//!
//! - [`assemble`]: one tenant's pipelines from the real clients, a store and mappings.
//! - [`config`]: the `sync` and `replay` binaries' TOML configuration, validated and wired.
//! - [`demo`]: the whole demo scenario against the bundled simulators, returning what happened
//!   (the `demo` binary prints it; a test checks it).
//! - [`fit`]: the fit check of a configured sync against its tenant (`ping --config`, and
//!   `sync` before its first write).
//! - [`logging`]: the binaries' `tracing` subscriber (`RUST_LOG`, on standard error).
//! - [`soak`]: the fault soak (every fault kind on both simulators, exact-state check).
//! - [`ping`]: the `ping` binary's credential checks and the advice for each failure.
//! - [`summary`]: a run's counts per stream from the audit store, as a table.
//! - [`webhooks`]: the webhook intake of a configured tenant (served by `sync` and `webhooks`).

pub mod assemble;
pub mod config;
pub mod demo;
pub mod fit;
pub mod fleet;
pub mod ion_push;
pub mod logging;
pub mod observability;
pub mod ping;
pub mod soak;
pub mod summary;
pub mod webhooks;

// The README's and the guides' code samples compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeSamples;

#[cfg(doctest)]
#[doc = include_str!("../../docs/testing-with-simulators.md")]
pub struct SimulatorGuideSamples;

#[cfg(doctest)]
#[doc = include_str!("../../docs/connecting-a-tenant.md")]
pub struct ConnectingGuideSamples;
