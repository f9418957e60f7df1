//! A per-tenant runner: assembles the pipelines, runs them in order (GL accounts, suppliers,
//! purchase orders, supplier invoices, then the return direction) once or on a schedule, and
//! shuts down gracefully.
//!
//! Both directions share the runner's one store, so they share one audit trail and each
//! recognises the other's writes through the cross-references. Between scheduled runs, a
//! webhook intake can wake the runner ([`TenantRunner::with_wake`]) to handle queued purchase
//! triggers at once, without waiting for the schedule.
//!
//! Graceful shutdown: the signal is checked between records. The record in flight finishes
//! (its intent and cross-reference are durable), the window's audit rows are committed
//! *without* moving the cursor, and the run stops. No window is ever half committed: its cursor
//! moves in the same store call as its audit rows, or not at all.

use std::sync::Arc;

use tokio::sync::{Notify, watch};
use tracing::Instrument;

use crate::engine::gl_accounts::GlAccountPipeline;
use crate::engine::invoices::InvoicePipeline;
use crate::engine::purchase_orders::PurchaseOrderPipeline;
use crate::engine::queue::{self, SameRecord, TriggerReport, TriggerResolver, push_queue};
use crate::engine::returns::ReturnPipeline;
use crate::engine::returns::triggers::run_triggers;
use crate::engine::suppliers::SupplierPipeline;
use crate::engine::{Pipeline, ProgressFn, RunContext, StreamRunner, WindowReport};
use crate::error::SyncError;
use crate::schedule::{Fired, Schedule};
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
    /// Its report, or the error that stopped its window (its
    /// [`source`](std::error::Error::source) is the client's typed error, when there was one).
    pub result: Result<WindowReport, SyncError>,
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
    returns: Option<StreamRunner<ReturnPipeline>>,
    triggers: Option<Arc<dyn TriggerResolver>>,
    pushes: bool,
    wake: Option<Arc<Notify>>,
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
            returns: None,
            triggers: None,
            pushes: false,
            wake: None,
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

    /// Add the return direction (Cin7 purchases back to CloudSuite, stream `purchase_returns`).
    /// It runs after the forward streams, so a PO written forward in this run is recognised.
    pub fn with_returns(mut self, runner: StreamRunner<ReturnPipeline>) -> Self {
        self.returns = Some(runner);
        self
    }

    /// Handle webhook triggers queued in the store
    /// ([`triggers::enqueue`](crate::engine::returns::triggers::enqueue)) through the return
    /// direction, resolving sub-task ids with `resolver`. Needs [`with_returns`](Self::with_returns).
    pub fn with_triggers(mut self, resolver: Arc<dyn TriggerResolver>) -> Self {
        self.triggers = Some(resolver);
        self
    }

    /// Handle records pushed for the forward streams (suppliers, purchase orders, supplier
    /// invoices), queued in each stream's [`push_queue`] by a push listener (ION's IMS
    /// deliveries) or by a source that read a record's deletion (a Data Lake `Delete`): each is
    /// read again from the stream's source and run through its pipeline, before and after the
    /// forward streams' windows and whenever the runner is woken.
    pub fn with_pushes(mut self) -> Self {
        self.pushes = true;
        self
    }

    /// Wake [`run_forever`](Self::run_forever) between scheduled runs to handle queued
    /// triggers at once (a webhook intake notifies it after queueing a delivery).
    pub fn with_wake(mut self, wake: Arc<Notify>) -> Self {
        self.wake = Some(wake);
        self
    }

    /// Handle the queued triggers now: records pushed for the forward streams
    /// ([`with_pushes`](Self::with_pushes)) and Cin7's webhook triggers (with
    /// [`with_returns`](Self::with_returns) and [`with_triggers`](Self::with_triggers)).
    pub async fn run_triggers(&self) -> Result<TriggerReport, SyncError> {
        let run = self.context();
        let span =
            tracing::info_span!("queued_triggers", tenant = %self.tenant, run_id = %run.run_id);
        self.handle_triggers(&run).instrument(span).await
    }

    async fn handle_triggers(&self, run: &RunContext) -> Result<TriggerReport, SyncError> {
        let mut report = self.handle_pushes(run).await;
        report.add(self.handle_webhook_triggers(run).await?);
        Ok(report)
    }

    /// Drain each forward stream's push queue, and the GL stream's (a chart window). A queue
    /// that fails stays queued for the next run and is logged; the others go on.
    async fn handle_pushes(&self, run: &RunContext) -> TriggerReport {
        let mut report = TriggerReport::default();
        if !self.pushes {
            return report;
        }
        if let Some(gl) = &self.gl_accounts {
            tally(
                &mut report,
                "gl_accounts",
                drain_chart_pushes(run, gl, None).await,
            );
        }
        if let Some(s) = &self.suppliers {
            tally(&mut report, "suppliers", drain_pushes(run, s).await);
        }
        if let Some(s) = &self.purchase_orders {
            tally(&mut report, "purchase_orders", drain_pushes(run, s).await);
        }
        if let Some(s) = &self.invoices {
            tally(&mut report, "supplier_invoices", drain_pushes(run, s).await);
        }
        report
    }

    async fn handle_webhook_triggers(&self, run: &RunContext) -> Result<TriggerReport, SyncError> {
        match (&self.returns, &self.triggers) {
            (Some(returns), Some(resolver)) => {
                run_triggers(
                    run,
                    returns.pipeline(),
                    returns.source().as_ref(),
                    resolver.as_ref(),
                )
                .await
            }
            _ => Ok(TriggerReport::default()),
        }
    }

    fn context(&self) -> RunContext {
        let run = RunContext::new(self.store.clone(), self.clock.clone(), self.tenant.clone());
        match &self.progress {
            Some(progress) => run.with_progress(progress.clone()),
            None => run,
        }
    }

    /// The tenant this runner serves.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The streams this runner runs, in run order.
    pub fn streams(&self) -> Vec<StreamId> {
        let mut streams = Vec::new();
        if let Some(gl) = &self.gl_accounts {
            streams.push(gl.stream());
        }
        if self.suppliers.is_some() {
            streams.push(StreamId::suppliers());
        }
        if self.purchase_orders.is_some() {
            streams.push(StreamId::purchase_orders());
        }
        if self.invoices.is_some() {
            streams.push(StreamId::supplier_invoices());
        }
        if self.returns.is_some() {
            streams.push(crate::engine::returns::stream());
        }
        streams
    }

    /// Run one stream's window now, on its own: what a worker of a fleet does with a claimed
    /// (tenant, stream) job, whose lease fences the window's commits. A forward stream's pushed
    /// records are handled before and after its window (with [`with_pushes`](Self::with_pushes):
    /// what arrived meanwhile, and deletions the window read), the return stream's queued
    /// webhook triggers before. `None` when the stream is not configured.
    ///
    /// The streams do not wait for each other: a purchase order or invoice resolves its
    /// supplier per record, whichever stream ran first.
    pub async fn run_stream(
        &self,
        stream: &StreamId,
        shutdown: Option<&ShutdownSignal>,
    ) -> Option<Result<WindowReport, SyncError>> {
        let run = self.context();
        let span = tracing::info_span!("sync_stream", tenant = %self.tenant, stream = %stream, run_id = %run.run_id);
        async {
            let result = self.window_of(&run, stream, shutdown).await?;
            if let Err(error) = &result {
                tracing::error!(%stream, %error, "stream window failed");
                crate::telemetry::window_failed(&self.tenant, stream);
            }
            Some(result)
        }
        .instrument(span)
        .await
    }

    /// One window of `stream` in `run`, with what is queued for it: a forward stream's pushed
    /// records before and after its window (what arrived meanwhile, and deletions the window
    /// read), the chart's pushes settled by the GL window, the return stream's webhook
    /// triggers before its window. `None` when the stream is not configured.
    async fn window_of(
        &self,
        run: &RunContext,
        stream: &StreamId,
        shutdown: Option<&ShutdownSignal>,
    ) -> Option<Result<WindowReport, SyncError>> {
        let gl = self
            .gl_accounts
            .as_ref()
            .filter(|gl| gl.stream() == *stream);
        let window = if let Some(gl) = gl {
            let window = gl.run(run).await;
            if self.pushes
                && let Ok(done) = &window
                && let Err(error) = drain_chart_pushes(run, gl, Some(done)).await
            {
                tracing::error!(%error, "chart pushes failed; they stay queued");
            }
            window
        } else if *stream == StreamId::suppliers() {
            self.forward_window(run, self.suppliers.as_ref()?, shutdown)
                .await
        } else if *stream == StreamId::purchase_orders() {
            self.forward_window(run, self.purchase_orders.as_ref()?, shutdown)
                .await
        } else if *stream == StreamId::supplier_invoices() {
            self.forward_window(run, self.invoices.as_ref()?, shutdown)
                .await
        } else if *stream == crate::engine::returns::stream() {
            let s = self.returns.as_ref()?;
            // Queued webhook triggers first: a trigger whose purchase the window then reads
            // again is skipped there by its unchanged content hash.
            if let Err(error) = self.handle_webhook_triggers(run).await {
                tracing::error!(%error, "webhook triggers failed; they stay queued");
            }
            s.run_window(run, shutdown).await
        } else {
            return None;
        };
        Some(window)
    }

    /// A forward stream's window between two drains of its pushed records.
    async fn forward_window<P: Pipeline>(
        &self,
        run: &RunContext,
        s: &StreamRunner<P>,
        shutdown: Option<&ShutdownSignal>,
    ) -> Result<WindowReport, SyncError> {
        self.drain_if_pushed(run, s).await;
        let window = s.run_window(run, shutdown).await;
        self.drain_if_pushed(run, s).await;
        window
    }

    async fn drain_if_pushed<P: Pipeline>(&self, run: &RunContext, s: &StreamRunner<P>) {
        if self.pushes
            && let Err(error) = drain_pushes(run, s).await
        {
            tracing::error!(stream = %s.pipeline().stream(), %error, "pushed records failed; they stay queued");
        }
    }

    /// Run every configured stream once, in order. A stream whose window fails is reported and
    /// the next stream still runs (its dependencies are resolved or deferred per record).
    pub async fn run_once(&self, shutdown: Option<&ShutdownSignal>) -> RunReport {
        let run = self.context();
        let span = tracing::info_span!("sync_run", tenant = %self.tenant, run_id = %run.run_id);
        self.run_streams(&run, shutdown).instrument(span).await
    }

    async fn run_streams(&self, run: &RunContext, shutdown: Option<&ShutdownSignal>) -> RunReport {
        let mut report = RunReport {
            run_id: run.run_id.clone(),
            streams: Vec::new(),
            interrupted: false,
        };
        for stream in self.streams() {
            if shutdown.is_some_and(ShutdownSignal::is_triggered) {
                report.interrupted = true;
                return report;
            }
            if let Some(result) = self.window_of(run, &stream, shutdown).await {
                push(&self.tenant, &mut report, stream, result);
            }
        }
        report.interrupted |= report
            .streams
            .iter()
            .any(|s| s.result.as_ref().is_ok_and(|r| r.abandoned));
        report
    }

    /// Wait until `schedule` says the next run is due (`None` on shutdown). Meanwhile, with
    /// [`with_wake`](Self::with_wake), each notification handles the queued triggers (pushes and
    /// webhooks) at once and hands the result to `on_triggers`; the scheduled wait goes on
    /// undisturbed.
    pub async fn wait_for_next_run(
        &self,
        schedule: &Schedule,
        shutdown: &ShutdownSignal,
        mut on_triggers: impl FnMut(Result<TriggerReport, SyncError>),
    ) -> Option<Fired> {
        let next = schedule.wait_next(&self.clock, shutdown);
        tokio::pin!(next);
        loop {
            tokio::select! {
                fired = &mut next => return fired,
                () = woken(self.wake.as_deref()) => on_triggers(self.run_triggers().await),
            }
        }
    }

    /// Run on `schedule` until `shutdown`; returns how many (scheduled) runs happened.
    ///
    /// With [`with_wake`](Self::with_wake), a notification between runs handles the queued
    /// triggers (pushes and webhooks) at once; the wait for the next scheduled run goes on
    /// undisturbed.
    pub async fn run_forever(
        &self,
        schedule: &Schedule,
        shutdown: ShutdownSignal,
    ) -> Result<usize, SyncError> {
        let mut runs = 0;
        loop {
            let fired = self
                .wait_for_next_run(schedule, &shutdown, |handled| match handled {
                    Ok(report) => {
                        tracing::info!(tenant = %self.tenant, ?report, "queued triggers handled")
                    }
                    Err(error) => tracing::error!(
                        tenant = %self.tenant, %error, "queued triggers failed; they stay queued"
                    ),
                })
                .await;
            let Some(fired) = fired else { break };
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

/// Handle the records pushed for `stream`'s stream.
async fn drain_pushes<P: Pipeline>(
    run: &RunContext,
    stream: &StreamRunner<P>,
) -> Result<TriggerReport, SyncError> {
    let pipeline = stream.pipeline().as_ref();
    queue::drain(
        run,
        &push_queue(&pipeline.stream()),
        pipeline,
        stream.source().as_ref(),
        &SameRecord,
    )
    .await
}

/// Add a queue's report, or log why it failed (its items stay queued).
fn tally(report: &mut TriggerReport, stream: &str, result: Result<TriggerReport, SyncError>) {
    match result {
        Ok(done) => report.add(done),
        Err(error) => {
            tracing::error!(stream, %error, "pushed records failed; they stay queued")
        }
    }
}

/// The chart is read whole: any number of chart pushes is one GL window — `window` when the
/// run just read it, else one read now. A window that fails leaves them queued.
async fn drain_chart_pushes(
    run: &RunContext,
    gl: &GlAccountPipeline,
    window: Option<&WindowReport>,
) -> Result<TriggerReport, SyncError> {
    let queue = push_queue(&gl.stream());
    let items = queue::queued(run.store.as_ref(), &run.tenant, &queue).await?;
    if items.is_empty() {
        return Ok(TriggerReport::default());
    }
    let window = match window {
        Some(window) => window.clone(),
        None => gl.run(run).await?,
    };
    let outcome = format!(
        "the GL stream read the chart: {} account(s) written, {} unchanged, {} failed",
        window.succeeded, window.skipped, window.failed
    );
    let report = TriggerReport {
        triggers: items.len(),
        ..TriggerReport::default()
    };
    let done = items
        .into_iter()
        .map(|item| (item, None, outcome.clone()))
        .collect();
    queue::settle(run, &queue, done).await?;
    Ok(report)
}

/// A notification from `wake`, or never.
async fn woken(wake: Option<&Notify>) {
    match wake {
        Some(wake) => wake.notified().await,
        None => std::future::pending().await,
    }
}

fn push(
    tenant: &str,
    report: &mut RunReport,
    stream: StreamId,
    result: Result<WindowReport, SyncError>,
) {
    if let Err(error) = &result {
        tracing::error!(%stream, %error, "stream window failed");
        crate::telemetry::window_failed(tenant, &stream);
    }
    report.streams.push(StreamResult { stream, result });
}
