//! The integration tests of `infor-ion-client` in one binary: each file is a module (what it
//! tests is in its own docs). One binary links the dependencies once instead of once per file.
//! `secret_hygiene.rs` stays a binary of its own: it captures the process's tracing output,
//! which other tests running in the same process would disturb.

mod bad_answers;
mod bod_hardening;
mod bod_nouns;
mod bod_roundtrip;
mod bod_stream;
mod bod_transport;
mod bod_variation;
mod cloudsuite_bods;
mod cloudsuite_returns;
mod cloudsuite_source;
mod common;
mod csi_ido;
mod csi_update;
mod fuzz_corpora;
mod fuzz_regressions;
mod hostile_inputs;
mod ion_push;
mod ionapi_file;
mod m3_mi;
mod m3_purchases;
mod m3_returns;
mod m3_simulator;
mod record_date_zone;
mod redirects;
mod return_invoices;
mod return_writes;
mod simulator_ion;
mod token_lifecycle;
mod transport;
mod vault_file;
