//! # cin7-core-client
//!
//! A typed, rate-limited client for the Cin7 Core API v2 (`api-auth-accountid` /
//! `api-auth-applicationkey` headers). It will cover suppliers, advanced purchases (order,
//! invoice, stock, payment), the purchase list, the chart of accounts, reference data (tax
//! rules, payment terms, locations, `me`), customers, products, sales and webhooks, with one
//! `governor` rate limiter per Cin7 account and backoff on throttling (429 and 503).
//!
//! This crate is being built under issue 3; see `docs/architecture.md`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
