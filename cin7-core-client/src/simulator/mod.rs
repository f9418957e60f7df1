//! A faithful, stateful local Cin7 Core simulator (feature `simulator`).
//!
//! [`Cin7Simulator::start`] serves the Cin7 Core API v2 endpoints this crate covers on
//! `127.0.0.1` (random port) from an axum server on a tokio task; point a [`Cin7Client`] at
//! [`Cin7Simulator::base_url`]. It follows Cin7's API documentation and, where that is silent,
//! the client's own guesses (listed in the repository's `docs/assumptions.md`; the simulator
//! cannot catch a wrong one):
//!
//! - **Auth:** `api-auth-accountid` and `api-auth-applicationkey` must match the configured
//!   account and one of its application keys, else `403 Incorrect credentials!`.
//! - **Endpoints:** suppliers (list with `ModifiedSince`/`Name`/`ID`/`IncludeDeprecated`, create,
//!   update with the append-on-every-PUT quirk for children without `ID`), advanced purchases
//!   (header create/get/update, void/undo, order, invoice and stock steps with their
//!   preconditions and status transitions), `purchaseList` and its filters, the chart of
//!   accounts (writes refused while an accounting integration is on), tax rules, payment
//!   terms, locations, `me`, webhooks. Paths and query keys are case-insensitive.
//! - **Paging:** `Page`/`Limit` (default 100, clamped to 1..=1000, or to a lower cap set with
//!   [`SimulatorConfig::with_page_cap`]) and `Total`; rows come in GUID order, stable but not
//!   sorted by name or date, like the real API.
//! - **Rate limit:** a sliding window per account (default 60 calls per 60 s) on the
//!   simulator's [`SharedClock`](crate::time::SharedClock); over it, 429 or 503, with or without `Retry-After`
//!   ([`SimRateLimit`]).
//! - **Webhooks:** supplier and purchase changes POST ID-only payloads to the registered URLs
//!   with the subscription's bearer, basic or custom-header credentials, from a background
//!   task (never blocking the request). Each event is tried once; after 6 consecutive failures
//!   the subscription is deactivated (Cin7's retry schedule is not simulated).
//! - **Faults:** a shared [`FaultPlan`] is asked once per call,
//!   with the endpoint named `"<METHOD> /<path>"`, e.g. `"POST /supplier"`,
//!   `"GET /purchaseList"`, `"POST /advanced-purchase/invoice"`.
//! - **Payments:** `GET/POST /advanced-purchase/payment` against an authorised invoice's
//!   `TaskID`; a fully paid invoice becomes `PAID`.
//! - **Inspection:** [`Cin7Simulator::state`] returns every record as this crate's models, with
//!   call counts per endpoint, throttled answers and webhook deliveries.
//!
//! ```
//! use cin7_core_client::Cin7Client;
//! use cin7_core_client::simulator::{Cin7Simulator, SimulatorConfig};
//! use secrecy::SecretString;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = Cin7Simulator::start(SimulatorConfig::new("my-account", "my-key").with_suppliers(3)).await?;
//! let client = Cin7Client::builder()
//!     .account_id(SecretString::from("my-account"))
//!     .application_key(SecretString::from("my-key"))
//!     .base_url(sim.base_url())
//!     .build()?;
//! // Or, with the simulator's account, key and clock filled in:
//! let same = sim.client_builder().build()?;
//! assert_eq!(same.me().get().await?.currency.as_deref(), Some("AUD"));
//! let taxes = client.reference().tax_rules().all().await?;
//! assert!(taxes.iter().any(|t| t.name == "GST on Expenses"));
//! assert_eq!(sim.state().calls.get("GET /ref/tax"), Some(&1));
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! [`Cin7Client`]: crate::Cin7Client

mod config;
mod data;
mod purchases;
mod reference;
mod server;
mod suppliers;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sdk_common::faults::FaultPlan;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use config::{
    AccountingIntegration, DEFAULT_ACCOUNT_ID, DEFAULT_APPLICATION_KEY, LimitScope, SimPaging,
    SimRateLimit, SimulatorConfig, UnknownPath,
};
pub use data::DeliveryRecord;

use crate::account::Account;
use crate::purchase::AdvancedPurchase;
use crate::reference::{Location, PaymentTerm, TaxRule};
use crate::supplier::Supplier;
use crate::webhook::Webhook;
use server::Shared;

/// A snapshot of everything the simulator holds, as this crate's models (plus the raw JSON
/// of suppliers and purchases for fields the models do not name).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimulatorState {
    /// Every supplier, active and deprecated.
    pub suppliers: Vec<Supplier>,
    /// Every purchase, with its order lines, invoices and stock received.
    pub purchases: Vec<AdvancedPurchase>,
    /// The chart of accounts.
    pub accounts: Vec<Account>,
    /// Tax rules.
    pub tax_rules: Vec<TaxRule>,
    /// Payment terms.
    pub payment_terms: Vec<PaymentTerm>,
    /// Locations.
    pub locations: Vec<Location>,
    /// Webhook subscriptions.
    pub webhooks: Vec<Webhook>,
    /// Calls per endpoint (`"GET /supplier"` → n), throttled ones included.
    pub calls: BTreeMap<String, u64>,
    /// Calls answered with the throttling status.
    pub throttled: u64,
    /// Webhook deliveries attempted so far.
    pub deliveries: Vec<DeliveryRecord>,
    /// Suppliers as stored (raw JSON).
    pub raw_suppliers: Vec<Value>,
    /// Purchases as `GET /advanced-purchase` renders them (raw JSON).
    pub raw_purchases: Vec<Value>,
}

impl SimulatorState {
    /// The purchase with this ID.
    pub fn purchase(&self, id: &crate::Guid) -> Option<&AdvancedPurchase> {
        self.purchases.iter().find(|p| p.id.as_ref() == Some(id))
    }

    /// The supplier with this ID.
    pub fn supplier(&self, id: &crate::Guid) -> Option<&Supplier> {
        self.suppliers.iter().find(|s| s.id.as_ref() == Some(id))
    }
}

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulatorError {
    /// Binding the listener on 127.0.0.1 failed.
    #[error("cannot bind the simulator on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
}

/// A running Cin7 Core simulator; see the [module docs](self). Dropping it stops the server.
/// `Debug` shows the address, never the credentials.
#[derive(Debug)]
pub struct Cin7Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    worker: JoinHandle<()>,
}

impl Cin7Simulator {
    /// Seed the data and start serving on `127.0.0.1` on a random port (needs a tokio runtime).
    pub async fn start(config: SimulatorConfig) -> Result<Cin7Simulator, SimulatorError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(SimulatorError::Bind)?;
        let addr = listener.local_addr().map_err(SimulatorError::Bind)?;
        let (jobs, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::new(&config, jobs));
        let worker = tokio::spawn(server::deliver_all(shared.clone(), queue));
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serving.await {
                tracing::warn!(error = %e, "Cin7 simulator stopped with an error");
            }
        });
        tracing::debug!(%addr, "Cin7 simulator listening");
        Ok(Cin7Simulator {
            shared,
            addr,
            stop: Some(stop),
            server: Some(server),
            worker,
        })
    }

    /// The API root to give the client builder, e.g. `http://127.0.0.1:PORT/ExternalApi/v2/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/ExternalApi/v2/", self.addr)
    }

    /// A client builder already pointed at this simulator: its account id, its first
    /// application key, its base URL and its clock (so client waits and simulator time agree).
    /// The client's rate limiter is process-wide per account: use a distinct account id per
    /// test, or set [`Cin7ClientBuilder::limiter`](crate::Cin7ClientBuilder::limiter).
    pub fn client_builder(&self) -> crate::Cin7ClientBuilder {
        let key = self
            .shared
            .application_keys
            .first()
            .cloned()
            .unwrap_or_default();
        crate::Cin7Client::builder()
            .account_id(secrecy::SecretString::from(self.shared.account_id.clone()))
            .application_key(secrecy::SecretString::from(key))
            .base_url(self.base_url())
            .clock(self.shared.clock.clone())
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The account id accepted.
    pub fn account_id(&self) -> &str {
        &self.shared.account_id
    }

    /// The application keys accepted.
    pub fn application_keys(&self) -> &[String] {
        &self.shared.application_keys
    }

    /// The fault plan (script more faults while running with
    /// [`FaultPlan::push_script`]).
    pub fn faults(&self) -> &Arc<FaultPlan> {
        &self.shared.faults
    }

    /// A snapshot of every record, call counts, throttled answers and deliveries.
    pub fn state(&self) -> SimulatorState {
        let data = self.shared.lock();
        fn typed<T: DeserializeOwned>(rows: &[Value]) -> Vec<T> {
            // Records are written by the simulator itself in Cin7's shapes; a record the
            // models cannot read is skipped (and logged) rather than failing the snapshot.
            rows.iter()
                .filter_map(|row| match serde_json::from_value(row.clone()) {
                    Ok(value) => Some(value),
                    Err(e) => {
                        tracing::warn!(error = %e, "simulator record does not decode");
                        None
                    }
                })
                .collect()
        }
        let objects = |rows: &[serde_json::Map<String, Value>]| -> Vec<Value> {
            rows.iter().cloned().map(Value::Object).collect()
        };
        let raw_suppliers: Vec<Value> = data
            .suppliers
            .values()
            .cloned()
            .map(Value::Object)
            .collect();
        let raw_purchases: Vec<Value> = data.purchases.values().map(|p| p.render()).collect();
        SimulatorState {
            suppliers: typed(&raw_suppliers),
            purchases: typed(&raw_purchases),
            accounts: typed(&objects(&data.accounts)),
            tax_rules: typed(&objects(&data.tax_rules)),
            payment_terms: typed(&objects(&data.payment_terms)),
            locations: typed(&objects(&data.locations)),
            webhooks: typed(&objects(&data.webhooks)),
            calls: data.calls.clone(),
            throttled: data.throttled,
            deliveries: data.deliveries.clone(),
            raw_suppliers,
            raw_purchases,
        }
    }

    /// Calls made to `endpoint` (e.g. `"GET /supplier"`), throttled ones included.
    pub fn calls_to(&self, endpoint: &str) -> u64 {
        self.shared.lock().calls.get(endpoint).copied().unwrap_or(0)
    }

    /// Calls answered with the throttling status.
    pub fn throttled(&self) -> u64 {
        self.shared.lock().throttled
    }

    /// Add or replace a supplier behind the API's back (as a user editing it in Cin7 would),
    /// stamped `LastModifiedOn` = now on the simulator's clock; returns its ID. A supplier
    /// without `ID` gets a new one. No webhook is sent. Use it to test incremental polling.
    pub fn upsert_supplier(&self, supplier: &Supplier) -> crate::Guid {
        let now = self.shared.clock.now();
        let mut data = self.shared.lock();
        let id = match &supplier.id {
            Some(id) => id.as_str().to_owned(),
            None => data.guid(),
        };
        let mut row = match serde_json::to_value(supplier) {
            Ok(Value::Object(row)) => row,
            _ => serde_json::Map::new(),
        };
        row.insert("ID".into(), Value::String(id.clone()));
        row.insert("LastModifiedOn".into(), Value::String(data::stamp(now)));
        row.entry("Status")
            .or_insert_with(|| Value::String("Active".into()));
        for key in ["Addresses", "Contacts"] {
            let mut children = row
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for child in children.iter_mut().filter_map(Value::as_object_mut) {
                if !child.contains_key("ID") {
                    child.insert("ID".into(), Value::String(data.guid()));
                }
                child.insert("SupplierID".into(), Value::String(id.clone()));
            }
            row.insert(key.into(), Value::Array(children));
        }
        data.suppliers.insert(id.clone(), row);
        crate::Guid::from_str(&id).unwrap_or_else(|_| crate::Guid::nil())
    }

    /// Add a product, as a person in Cin7 would (products must be modelled:
    /// [`SimulatorConfig::products`]).
    pub fn add_product(&self, sku: &str) {
        if let Some(products) = &mut self.shared.lock().products {
            products.insert(sku.to_ascii_lowercase(), data::product(sku));
        }
    }

    /// Turn the accounting integration on or off while running.
    pub fn set_accounting_integration(&self, integration: Option<AccountingIntegration>) {
        self.shared.lock().accounting_integration = integration;
    }

    /// Wait (in real time, up to `timeout`) until at least `count` webhook deliveries were
    /// attempted; returns them all, or `None` on timeout.
    pub async fn wait_for_deliveries(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Option<Vec<DeliveryRecord>> {
        let waiting = async {
            loop {
                let notified = self.shared.delivered.notified();
                {
                    let data = self.shared.lock();
                    if data.deliveries.len() >= count {
                        return data.deliveries.clone();
                    }
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, waiting).await.ok()
    }

    /// Stop serving: in-flight calls finish (up to 5 s), then the server task ends.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        self.worker.abort();
    }
}

impl Drop for Cin7Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.worker.abort();
    }
}
