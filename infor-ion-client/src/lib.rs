//! # infor-ion-client
//!
//! A typed client for the Infor ION API Gateway.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
