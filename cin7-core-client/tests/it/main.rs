//! The integration tests of `cin7-core-client` in one binary: each file is a module (what it
//! tests is in its own docs). One binary links the dependencies once instead of once per file.
//! `secrets.rs` stays a binary of its own: it captures the process's tracing output, which
//! other tests running in the same process would disturb.

mod bad_answers;
mod client_errors;
mod codec_props;
mod common;
mod customers_products_sales;
mod decimal_digits;
mod decimal_scale;
mod fuzz_corpora;
mod hostile_inputs;
mod limiter;
mod pagination;
mod paging_completeness;
mod purchases;
mod redirects;
mod reference_check;
mod reference_data;
mod simulator_endpoints;
mod simulator_faults;
mod simulator_paging_and_limits;
mod simulator_purchases;
mod simulator_support;
mod simulator_webhooks;
mod suppliers;
mod sync_accounts;
mod sync_call_economy;
mod sync_end_to_end;
mod sync_error_source;
mod sync_errors;
mod sync_invoice_first_lookup;
mod sync_order_lost_answer;
mod sync_purchase_order_date;
mod sync_purchases;
mod sync_recovery_reads;
mod sync_return_invoices;
mod sync_suppliers;
mod sync_webhook_intake;
mod throttling;
mod unreachable;
mod webhook_credentials;
mod webhook_intake_hardening;
mod webhooks;
