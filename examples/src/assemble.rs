//! Assembling one tenant's sync from the real clients: a CloudSuite source, a Cin7 target, a
//! store and the mappings, wired into sync-core's pipelines and runner.
//!
//! Every binary that syncs (the demo, the runner, replay) builds its pipelines here, so they
//! all run the same thing.

use std::sync::Arc;

use cin7_core_client::sync::Cin7Target;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use sync_core::engine::gl_accounts::GlAccountPipeline;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, ProgressFn, RunContext, StreamRunner};
use sync_core::error::SyncError;
use sync_core::mapping::Mappings;
use sync_core::model::{GlAccount, PurchaseOrder, Supplier, SupplierInvoice};
use sync_core::replay::{ReplayMode, ReplayResult, ReplayScope, Replayer};
use sync_core::runner::TenantRunner;
use sync_core::source::Source;
use sync_core::store::SyncStore;
use sync_core::time::SharedClock;

/// One tenant's pipelines, ready to run or replay.
pub struct Assembled {
    /// The runner (GL accounts, suppliers, purchase orders, invoices, in that order).
    pub runner: TenantRunner,
    tenant: String,
    store: Arc<dyn SyncStore>,
    clock: SharedClock,
    source: Arc<CloudSuiteSource>,
    suppliers: Arc<SupplierPipeline>,
    purchase_orders: Arc<PurchaseOrderPipeline>,
    invoices: Arc<InvoicePipeline>,
}

impl std::fmt::Debug for Assembled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembled")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Everything a tenant's sync is made of.
pub struct Parts {
    /// The tenant id (the ION tenant).
    pub tenant: String,
    /// Where CloudSuite records come from.
    pub source: CloudSuiteSource,
    /// Where they go.
    pub target: Cin7Target,
    /// Audit trail, checkpoints, cross-references.
    pub store: Arc<dyn SyncStore>,
    /// The clock.
    pub clock: SharedClock,
    /// Value mappings and policies.
    pub mappings: Mappings,
    /// Window settings.
    pub engine: EngineConfig,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

/// Wire the parts into pipelines and a runner.
pub fn assemble(parts: Parts) -> Assembled {
    let source = Arc::new(parts.source);
    let target = Arc::new(parts.target);
    let supplier_source: Arc<dyn Source<Supplier>> = source.clone();
    let suppliers = Arc::new(SupplierPipeline::new(
        target.clone(),
        parts.mappings.clone(),
    ));
    let purchase_orders = Arc::new(PurchaseOrderPipeline::new(
        target.clone(),
        parts.mappings.clone(),
        suppliers.clone(),
        supplier_source.clone(),
    ));
    let invoices = Arc::new(InvoicePipeline::new(
        target.clone(),
        parts.mappings.clone(),
        suppliers.clone(),
        supplier_source.clone(),
    ));
    let gl_source: Arc<dyn Source<GlAccount>> = source.clone();
    let po_source: Arc<dyn Source<PurchaseOrder>> = source.clone();
    let invoice_source: Arc<dyn Source<SupplierInvoice>> = source.clone();
    let mut runner = TenantRunner::new(
        parts.tenant.clone(),
        parts.store.clone(),
        parts.clock.clone(),
    )
    .with_gl_accounts(GlAccountPipeline::new(
        gl_source,
        target.clone(),
        parts.mappings.clone(),
    ))
    .with_suppliers(StreamRunner::new(
        suppliers.clone(),
        supplier_source,
        parts.engine.clone(),
    ))
    .with_purchase_orders(StreamRunner::new(
        purchase_orders.clone(),
        po_source,
        parts.engine.clone(),
    ))
    .with_invoices(StreamRunner::new(
        invoices.clone(),
        invoice_source,
        parts.engine,
    ));
    if let Some(progress) = parts.progress {
        runner = runner.with_progress(progress);
    }
    Assembled {
        runner,
        tenant: parts.tenant,
        store: parts.store,
        clock: parts.clock,
        source,
        suppliers,
        purchase_orders,
        invoices,
    }
}

impl Assembled {
    /// Replay every open failure of every stream (suppliers first, so dependencies resolve).
    pub async fn replay_failures(&self, mode: ReplayMode) -> Result<Vec<ReplayResult>, SyncError> {
        let run = RunContext::new(self.store.clone(), self.clock.clone(), self.tenant.clone());
        let mut results = Vec::new();
        let supplier_source: Arc<dyn Source<Supplier>> = self.source.clone();
        results.extend(
            Replayer::new(self.suppliers.clone(), supplier_source)
                .replay_failed(&run, ReplayScope::Stream, mode)
                .await?,
        );
        let po_source: Arc<dyn Source<PurchaseOrder>> = self.source.clone();
        results.extend(
            Replayer::new(self.purchase_orders.clone(), po_source)
                .replay_failed(&run, ReplayScope::Stream, mode)
                .await?,
        );
        let invoice_source: Arc<dyn Source<SupplierInvoice>> = self.source.clone();
        results.extend(
            Replayer::new(self.invoices.clone(), invoice_source)
                .replay_failed(&run, ReplayScope::Stream, mode)
                .await?,
        );
        Ok(results)
    }
}
