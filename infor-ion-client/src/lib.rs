//! # infor-ion-client
//!
//! A typed client for the Infor ION API Gateway, the front door to Infor CloudSuite (M3,
//! CloudSuite Industrial / SyteLine, and the other products behind ION).
//!
//! - [`ionapi`]: parse and validate the customer's `.ionapi` credentials file; derive the token,
//!   revoke and API base URLs.
//! - [`vault`]: keep those credentials encrypted at rest (XChaCha20-Poly1305, one entry per
//!   tenant, key from the operator).
//! - [`auth`]: OAuth 2.0 password grant with the service account, proactive refresh, one token
//!   request shared by all concurrent callers, revocation.
//! - [`client`]: [`IonClient`], the one request path every product call goes through (401
//!   rule, retries that know idempotency, timeouts, size caps, tracing without secrets).
//! - [`csi`]: CloudSuite Industrial IDO REST: load collections, bookmark paging, safe filters,
//!   typed nouns polled by `RecordDate` and status.
//! - [`m3`]: M3 MI transactions over `m3api-rest` v2 with typed lists.
//! - [`bod`]: BOD/OAGIS XML documents with a hardened reader.
//! - [`transport`]: BODs sent through the ION Messaging Service and read from the Data Lake.
//! - `cloudsuite` (feature `sync`): one sync-core `Source` for suppliers, purchase orders,
//!   supplier invoices and GL accounts, whichever product the tenant runs.
//! - `simulator` (feature `simulator`): a stateful local ION gateway and CloudSuite for tests
//!   and demos, with fault injection.
//! - [`values`]: reading CloudSuite's string values into types with errors that name the field.
//!
//! ```no_run
//! use infor_ion_client::{IonApiFile, IonClient, IonRequest};
//!
//! # async fn run() -> Result<(), infor_ion_client::Error> {
//! let client = IonClient::builder(IonApiFile::from_path("ACME_PRD.ionapi")?).build()?;
//! let vendors: serde_json::Value = client
//!     .send_json(IonRequest::get("CSI/IDORequestService/ido/load/SLVendors")
//!         .query("properties", "VendNum,Name")
//!         .header("X-Infor-MongooseConfig", "ACME_PRD_DALS"))
//!     .await?;
//! # let _ = vendors; Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(unused_crate_dependencies))]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod bod;
pub mod client;
#[cfg(feature = "sync")]
#[cfg_attr(docsrs, doc(cfg(feature = "sync")))]
pub mod cloudsuite;
pub mod csi;
mod error;
pub mod ionapi;
pub mod m3;
#[cfg(feature = "simulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "simulator")))]
pub mod simulator;
mod telemetry;
pub mod transport;
pub mod values;
pub mod vault;

// What the public API mentions from the crate both clients share, so a user of this client
// alone adds no other crate of ours: the injectable clock and the retry policy.
pub use sdk_common::{retry, time};
// The secrets' type, so credentials can be built without adding `secrecy`.
pub use secrecy::SecretString;

pub use client::{IonClient, IonClientBuilder, IonRequest, IonResponse};
pub use error::{ApiError, Error, Grant, MiError, Result, TransportKind};
pub use ionapi::IonApiFile;

// The user guide's code samples compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/ion-credentials.md")]
pub struct IonCredentialsGuide;

#[cfg(doctest)]
#[doc = include_str!("../../docs/cloudsuite-industrial.md")]
pub struct CloudSuiteIndustrialGuide;

#[cfg(doctest)]
#[doc = include_str!("../../docs/m3.md")]
pub struct M3Guide;

/// The crate README's code samples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
