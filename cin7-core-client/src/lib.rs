//! # cin7-core-client
//!
//! A typed, rate-limited client for the Cin7 Core API v2 (formerly DEAR Inventory).
//!
//! - [`Cin7Client`] holds the account id and application key as secrets, sends them as the
//!   `api-auth-accountid` / `api-auth-applicationkey` headers, and is cheap to clone.
//! - Every call goes through one request path ([`Cin7Client::execute`]): it waits for a slot of
//!   the account's shared [`AccountLimiter`] (default 60 calls per 60 s), retries reads and
//!   idempotent writes on throttling (429 and 503, `Retry-After` honoured, else a wait long
//!   enough for the minute window to clear), never resends a create whose outcome is unknown
//!   ([`Error::UncertainWrite`]), and turns Cin7's error forms (`{ErrorCode, Exception}` as an
//!   object or array, also inside HTTP 200; HTML on 2xx) into [`Error`]s.
//! - Typed models and octocrab-style request builders per area: [`supplier`], [`purchase`],
//!   [`account`], [`reference`](mod@reference), [`customer`], [`product`], [`sale`], [`webhook`]. List
//!   endpoints are [`ListBuilder`]s: `.send()` for one page, `.stream()` for every row.
//! - [`codec`] holds the lenient date, decimal, boolean and GUID codecs shared by every model.
//!
//! ```no_run
//! use cin7_core_client::Cin7Client;
//! use futures::TryStreamExt;
//! use secrecy::SecretString;
//!
//! # async fn run() -> cin7_core_client::Result<()> {
//! let client = Cin7Client::builder()
//!     .account_id(SecretString::from(std::env::var("CIN7_ACCOUNT_ID").unwrap_or_default()))
//!     .application_key(SecretString::from(std::env::var("CIN7_APP_KEY").unwrap_or_default()))
//!     .build()?;
//! let suppliers: Vec<_> = client.suppliers().list().include_deprecated(true).stream().try_collect().await?;
//! println!("{} suppliers", suppliers.len());
//! # Ok(()) }
//! ```
//!
//! The user guide is `docs/cin7-client.md` in the repository.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(unused_crate_dependencies))]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod account;
pub mod address;
pub mod client;
pub mod codec;
pub mod customer;
pub mod error;
pub mod fit;
pub mod limiter;
pub mod pagination;
pub mod product;
pub mod purchase;
pub mod reference;
pub mod request;
pub mod sale;
#[cfg(feature = "simulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "simulator")))]
pub mod simulator;
pub mod supplier;
#[cfg(feature = "sync")]
#[cfg_attr(docsrs, doc(cfg(feature = "sync")))]
pub mod sync;
mod telemetry;
pub mod webhook;

// What the public API mentions from the crate both clients share, so a user of this client
// alone adds no other crate of ours: the injectable clock and the retry policy.
pub use sdk_common::{breaker, retry, time};
// The credentials' type, so the builder can be called without adding `secrecy`.
pub use secrecy::SecretString;

pub use client::{
    Cin7Client, Cin7ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES, RawResponse,
};
pub use codec::Guid;
pub use error::{ApiError, Error, PaginationProblem, Result};
pub use limiter::{AccountLimiter, LimiterScope, RateLimit};
pub use pagination::{ListBuilder, Page};
pub use request::{Cin7Request, Method};

/// The user guide (`docs/cin7-client.md`), included so its code samples are compiled and run as
/// doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/cin7-client.md")]
pub struct UserGuide;

/// The crate README's code samples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
