//! A per-tenant runner: assembles the pipelines, runs them in order (GL accounts, suppliers,
//! purchase orders, supplier invoices) once or on a schedule, and shuts down gracefully.
//!
//! Graceful shutdown: the signal is checked between records. The record in flight finishes
//! (its intent and cross-reference are durable), the window's audit rows are committed
//! *without* moving the cursor, and the run stops. No window is ever half committed: its cursor
//! moves in the same store call as its audit rows, or not at all.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::Instrument;

use crate::engine::gl_accounts::GlAccountPipeline;
use crate::engine::invoices::InvoicePipeline;
use crate::engine::purchase_orders::PurchaseOrderPipeline;
use crate::engine::suppliers::SupplierPipeline;
use crate::engine::{ProgressFn, RunContext, StreamRunner, WindowReport};
use crate::error::SyncError;
use crate::schedule::Schedule;
use crate::store::{RunId, StreamId, SyncStore};
use crate::time::SharedClock;

/// The sending half of a shutdown signal.
#[derive(Debug)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

/// The receiving half; clone it freely.
#[derive(Debug, Clone)]
pub struct ShutdownSignal {
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    /// A new signal pair.
    pub fn new() -> (Shutdown, ShutdownSignal) {
        let (tx, rx) = watch::channel(false);
        (Shutdown { tx }, ShutdownSignal { rx })
    }

    /// Ask everything holding the signal to stop.
    pub fn trigger(&self) {
        // Receivers may all be gone; then there is nobody to stop.
        let _ = self.tx.send(true);
    }
}

impl ShutdownSignal {
    /// Whether shutdown was asked for.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Wait until shutdown is asked for (forever if the sender is dropped without asking).
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        if rx.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The outcome of one stream in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamResult {
    /// Stream.
    pub stream: StreamId,
    /// Its report, or the error that stopped its window.
    pub result: Result<WindowReport, String>,
}

/// What one run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Run id.
    pub run_id: RunId,
    /// Streams in the order they ran.
    pub streams: Vec<StreamResult>,
    /// Whether shutdown stopped the run early.
    pub interrupted: bool,
}

impl RunReport {
    /// Whether every stream committed.
    pub fn is_ok(&self) -> bool {
        self.streams.iter().all(|s| s.result.is_ok())
    }
}

/// Runs the pipelines of one tenant.
pub struct TenantRunner {
    tenant: String,
    store: Arc<dyn SyncStore>,
    clock: SharedClock,
    progress: Option<ProgressFn>,
    gl_accounts: Option<GlAccountPipeline>,
    suppliers: Option<StreamRunner<SupplierPipeline>>,
    purchase_orders: Option<StreamRunner<PurchaseOrderPipeline>>,
    invoices: Option<StreamRunner<InvoicePipeline>>,
}

impl std::fmt::Debug for TenantRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRunner")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl TenantRunner {
    /// A runner with no pipelines yet.
    pub fn new(tenant: impl Into<String>, store: Arc<dyn SyncStore>, clock: SharedClock) -> Self {
        TenantRunner {
            tenant: tenant.into(),
            store,
            clock,
            progress: None,
            gl_accounts: None,
            suppliers: None,
            purchase_orders: None,
            invoices: None,
        }
    }

    /// Report progress through a callback (in addition to `tracing`).
    pub fn with_progress(mut self, progress: ProgressFn) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Add the GL-accounts pipeline.
    pub fn with_gl_accounts(mut self, pipeline: GlAccountPipeline) -> Self {
        self.gl_accounts = Some(pipeline);
        self
    }

    /// Add the supplier stream.
    pub fn with_suppliers(mut self, runner: StreamRunner<SupplierPipeline>) -> Self {
        self.suppliers = Some(runner);
        self
    }

    /// Add the purchase-order stream.
    pub fn with_purchase_orders(mut self, runner: StreamRunner<PurchaseOrderPipeline>) -> Self {
        self.purchase_orders = Some(runner);
        self
    }

    /// Add the supplier-invoice stream.
    pub fn with_invoices(mut self, runner: StreamRunner<InvoicePipeline>) -> Self {
        self.invoices = Some(runner);
        self
    }

    /// Run every configured stream once, in order. A stream whose window fails is reported and
    /// the next stream still runs (its dependencies are resolved or deferred per record).
    pub async fn run_once(&self, shutdown: Option<&ShutdownSignal>) -> RunReport {
        let mut run = RunContext::new(self.store.clone(), self.clock.clone(), self.tenant.clone());
        if let Some(progress) = &self.progress {
            run = run.with_progress(progress.clone());
        }
        let span = tracing::info_span!("sync_run", tenant = %self.tenant, run_id = %run.run_id);
        self.run_streams(&run, shutdown).instrument(span).await
    }

    async fn run_streams(&self, run: &RunContext, shutdown: Option<&ShutdownSignal>) -> RunReport {
        let mut report = RunReport {
            run_id: run.run_id.clone(),
            streams: Vec::new(),
            interrupted: false,
        };
        let stopped = |report: &mut RunReport| {
            let stop = shutdown.is_some_and(ShutdownSignal::is_triggered);
            report.interrupted |= stop;
            stop
        };
        if let Some(gl) = &self.gl_accounts {
            if stopped(&mut report) {
                return report;
            }
            push(&mut report, gl.stream(), gl.run(run).await);
        }
        if let Some(s) = &self.suppliers {
            if stopped(&mut report) {
                return report;
            }
            push(
                &mut report,
                StreamId::suppliers(),
                s.run_window(run, shutdown).await,
            );
        }
        if let Some(s) = &self.purchase_orders {
            if stopped(&mut report) {
                return report;
            }
            push(
                &mut report,
                StreamId::purchase_orders(),
                s.run_window(run, shutdown).await,
            );
        }
        if let Some(s) = &self.invoices {
            if stopped(&mut report) {
                return report;
            }
            push(
                &mut report,
                StreamId::supplier_invoices(),
                s.run_window(run, shutdown).await,
            );
        }
        report.interrupted |= report
            .streams
            .iter()
            .any(|s| s.result.as_ref().is_ok_and(|r| r.abandoned));
        report
    }

    /// Run on `schedule` until `shutdown`; returns how many runs happened.
    pub async fn run_forever(
        &self,
        schedule: &Schedule,
        shutdown: ShutdownSignal,
    ) -> Result<usize, SyncError> {
        let mut runs = 0;
        while let Some(fired) = schedule.wait_next(&self.clock, &shutdown).await {
            tracing::info!(tenant = %self.tenant, ?fired, "run starting");
            let report = self.run_once(Some(&shutdown)).await;
            runs += 1;
            if !report.is_ok() {
                tracing::warn!(tenant = %self.tenant, ?report, "run finished with errors");
            }
            if report.interrupted || shutdown.is_triggered() {
                break;
            }
        }
        Ok(runs)
    }
}

fn push(report: &mut RunReport, stream: StreamId, result: Result<WindowReport, SyncError>) {
    if let Err(error) = &result {
        tracing::error!(%stream, %error, "stream window failed");
    }
    report.streams.push(StreamResult {
        stream,
        result: result.map_err(|e| e.to_string()),
    });
}
