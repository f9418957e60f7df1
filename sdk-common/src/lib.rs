//! # sdk-common
//!
//! What the two clients (`infor-ion-client`, `cin7-core-client`) and the sync engine
//! (`sync-core`) share, so a user of one client alone depends on neither the other client nor
//! the engine. Each client re-exports what its public API mentions (`time`, `retry`), so
//! nobody needs to add this crate by hand.
//!
//! - [`time`]: an injectable [`Clock`](time::Clock), so expiry, backoff and schedules are
//!   tested with a controllable clock instead of sleeps.
//! - [`retry`]: one retry policy, and what a failed request's [`Delivery`](retry::Delivery)
//!   allows (resend, look up first, or final).
//! - `body` (feature `http`): HTTP answers read with a size cap, and quoted in errors.
//! - `redirect` (feature `http`): redirects followed only within the configured origin, so
//!   credentials never reach another host.
//! - [`retry`]'s [`RetryLoop`](retry::RetryLoop): the one retry loop both clients send through.
//! - [`breaker`]: a circuit breaker for a side that cannot be reached at all.
//! - `listener` (feature `listener`): what an HTTP listener facing the internet needs (a
//!   constant-time header secret, a capped body read with a deadline, rate-limited refusal
//!   logs), for the Cin7 webhook and ION push intakes.
//! - [`json`]: JSON answers read as a tree that refuses duplicated keys.
//! - [`report`]: an error and its causes as one line, each cause once.
//! - `faults` (feature `testing`): fault plans the bundled simulators ask before answering.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(unused_crate_dependencies))]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod body;
pub mod breaker;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod faults;
pub mod json;
#[cfg(feature = "listener")]
#[cfg_attr(docsrs, doc(cfg(feature = "listener")))]
pub mod listener;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod redirect;
pub mod report;
pub mod retry;
pub mod time;

/// The crate README's code samples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
