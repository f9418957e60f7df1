//! Assembling one tenant's sync: a CloudSuite source, a target, a store and the mappings,
//! wired into sync-core's pipelines and runner, plus replay of open failures.
//!
//! Both directions are assembled here: the forward streams (CloudSuite → Cin7) and, when
//! [`Parts::returns`] is given, the return direction (Cin7 purchases → CloudSuite, stream
//! `purchase_returns`, with webhook triggers). They share one store and one runner, so one
//! audit trail covers both. Every binary that syncs (the demo, the runner, replay) builds its
//! pipelines here, so they all run the same thing.

use std::collections::BTreeMap;
use std::sync::Arc;

use cin7_core_client::sync::returns::Cin7PurchaseSource;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use sync_core::engine::gl_accounts::GlAccountPipeline;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::returns::{ReturnConfig, ReturnPipeline, SourcePurchaseWriter};
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, ProgressFn, RunContext, StreamRunner};
use sync_core::error::SyncError;
use sync_core::mapping::Mappings;
use sync_core::model::{GlAccount, PurchaseOrder, PurchaseUpdate, Supplier, SupplierInvoice};
use sync_core::replay::{ReplayMode, ReplayResult, ReplayScope, Replayer};
use sync_core::runner::TenantRunner;
use sync_core::source::Source;
use sync_core::store::{AuditEntry, AuditQuery, AuditStatus, EntryId, RunId, SyncStore};
use sync_core::target::{AccountTarget, PurchaseTarget, SupplierTarget};
use sync_core::time::SharedClock;
use tokio::sync::Notify;

pub use crate::config::Stream;

/// Everything a tenant's sync is made of.
pub struct Parts<T> {
    /// The tenant id (the ION tenant).
    pub tenant: String,
    /// Where CloudSuite records come from.
    pub source: CloudSuiteSource,
    /// Where they go (a `Cin7Target`, or a wrapper such as the runner's dry-run target).
    pub target: Arc<T>,
    /// Audit trail, checkpoints, cross-references.
    pub store: Arc<dyn SyncStore>,
    /// The clock.
    pub clock: SharedClock,
    /// Value mappings and policies.
    pub mappings: Mappings,
    /// Window settings.
    pub engine: EngineConfig,
    /// The streams to run, in run order (`Stream::FORWARD` for the forward direction;
    /// [`Stream::PurchaseReturns`] needs [`returns`](Self::returns)).
    pub streams: Vec<Stream>,
    /// The return direction, if this tenant syncs purchases back to CloudSuite.
    pub returns: Option<ReturnParts>,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

/// What the return direction (Cin7 purchases → CloudSuite purchase orders) is made of. It
/// reads CloudSuite through the forward [`Parts::source`] and shares the forward store, so each
/// direction recognises the other's records.
pub struct ReturnParts {
    /// Writes purchase orders to CloudSuite (e.g. a `CloudSuitePoWriter`: IDO updates or
    /// `Process` BODs), or a dry-run wrapper.
    pub writer: Arc<dyn SourcePurchaseWriter>,
    /// Reads changed Cin7 purchases, and resolves webhook ids to purchases.
    pub cin7: Cin7PurchaseSource,
    /// Matching, numbering and conflict policy. Its `forward_revision` is set from the forward
    /// mappings by [`assemble`].
    pub config: ReturnConfig,
    /// Write invoices authorised in Cin7 back to CloudSuite too (when the writer can); those
    /// that came from CloudSuite are recognised through the forward invoice stream's source.
    pub invoices: bool,
}

/// One tenant's pipelines, ready to run or replay.
pub struct Assembled {
    /// The runner, with the chosen streams.
    pub runner: TenantRunner,
    /// The store the runner writes.
    pub store: Arc<dyn SyncStore>,
    tenant: String,
    clock: SharedClock,
    source: Arc<CloudSuiteSource>,
    suppliers: Arc<SupplierPipeline>,
    purchase_orders: Arc<PurchaseOrderPipeline>,
    invoices: Arc<InvoicePipeline>,
    returns: Option<(Arc<ReturnPipeline>, Arc<Cin7PurchaseSource>)>,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Assembled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembled")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Which open entries to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayTarget {
    /// One entry.
    Entry(EntryId),
    /// The open failures of one run (every stream).
    Run(RunId),
    /// The open failures of one stream.
    Stream(Stream),
    /// Every open failure of every stream.
    All,
}

/// The streams whose entries can be replayed, in replay order (GL accounts are recomputed by
/// every run).
const REPLAYABLE: [Stream; 4] = [
    Stream::Suppliers,
    Stream::PurchaseOrders,
    Stream::SupplierInvoices,
    Stream::PurchaseReturns,
];

/// Wire the parts into pipelines and a runner. Fails only when [`Stream::PurchaseReturns`] is
/// asked for without [`Parts::returns`].
pub fn assemble<T>(parts: Parts<T>) -> Result<Assembled, SyncError>
where
    T: SupplierTarget + PurchaseTarget + AccountTarget + 'static,
{
    let Parts {
        tenant,
        source,
        target,
        store,
        clock,
        mappings,
        engine,
        streams,
        returns,
        progress,
    } = parts;
    let source = Arc::new(source);
    let supplier_source: Arc<dyn Source<Supplier>> = source.clone();
    // Every pipeline exists even when its stream is not run: purchase orders and invoices
    // resolve their supplier through the supplier pipeline, and replay needs them all.
    let suppliers = Arc::new(SupplierPipeline::new(target.clone(), mappings.clone()));
    let purchase_orders = Arc::new(PurchaseOrderPipeline::new(
        target.clone(),
        mappings.clone(),
        suppliers.clone(),
        supplier_source.clone(),
    ));
    let invoices = Arc::new(InvoicePipeline::new(
        target.clone(),
        mappings.clone(),
        suppliers.clone(),
        supplier_source.clone(),
    ));
    let returns = returns.map(|parts| {
        let mut config = parts.config;
        config.forward_revision = mappings.revision.clone();
        let forward: Arc<dyn Source<PurchaseOrder>> = source.clone();
        // Purchases with nothing to write back (the forward streams' own writes) are read as
        // list-row summaries, and in full only when the pipeline needs them.
        let cin7 = Arc::new(parts.cin7.with_summaries(true));
        let full_reads: Arc<dyn Source<PurchaseUpdate>> = cin7.clone();
        let mut pipeline =
            ReturnPipeline::new(parts.writer, forward, config).with_full_reads(full_reads);
        if parts.invoices {
            let forward_invoices: Arc<dyn Source<SupplierInvoice>> = source.clone();
            pipeline = pipeline.with_invoices(forward_invoices);
        }
        (Arc::new(pipeline), cin7)
    });
    let wake = Arc::new(Notify::new());
    let mut runner = TenantRunner::new(tenant.clone(), store.clone(), clock.clone());
    for stream in streams {
        runner = match stream {
            Stream::GlAccounts => {
                let gl_source: Arc<dyn Source<GlAccount>> = source.clone();
                runner.with_gl_accounts(
                    GlAccountPipeline::new(gl_source, target.clone(), mappings.clone())
                        .with_target_check_every(engine.gl_target_check_every),
                )
            }
            Stream::Suppliers => runner.with_suppliers(StreamRunner::new(
                suppliers.clone(),
                supplier_source.clone(),
                engine.clone(),
            )),
            Stream::PurchaseOrders => {
                let po_source: Arc<dyn Source<PurchaseOrder>> = source.clone();
                runner.with_purchase_orders(StreamRunner::new(
                    purchase_orders.clone(),
                    po_source,
                    engine.clone(),
                ))
            }
            Stream::SupplierInvoices => {
                let invoice_source: Arc<dyn Source<SupplierInvoice>> = source.clone();
                runner.with_invoices(StreamRunner::new(
                    invoices.clone(),
                    invoice_source,
                    engine.clone(),
                ))
            }
            Stream::PurchaseReturns => {
                let Some((pipeline, cin7)) = &returns else {
                    return Err(SyncError::Config(
                        "the purchase_returns stream needs the return direction's parts (a CloudSuite writer and a Cin7 purchase source)".into(),
                    ));
                };
                let cin7_source: Arc<dyn Source<PurchaseUpdate>> = cin7.clone();
                runner
                    .with_returns(StreamRunner::new(
                        pipeline.clone(),
                        cin7_source,
                        engine.clone(),
                    ))
                    .with_triggers(cin7.clone())
                    .with_wake(wake.clone())
            }
        };
    }
    if let Some(progress) = progress {
        runner = runner.with_progress(progress);
    }
    Ok(Assembled {
        runner,
        store,
        tenant,
        clock,
        source,
        suppliers,
        purchase_orders,
        invoices,
        returns,
        wake,
    })
}

impl Assembled {
    /// What a webhook intake notifies after queueing a delivery: the runner's
    /// [`run_forever`](TenantRunner::run_forever) then handles the queued triggers at once.
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    fn context(&self) -> RunContext {
        RunContext::new(self.store.clone(), self.clock.clone(), self.tenant.clone())
    }

    /// The entries `what` would replay: the latest open failed, pending or deferred entry per
    /// record (as [`Replayer`] picks them), or the one entry asked for. Nothing is written.
    pub async fn preview(&self, what: &ReplayTarget) -> Result<Vec<AuditEntry>, SyncError> {
        if let ReplayTarget::Entry(id) = what {
            let entry = self.entry(id).await?;
            return Ok(if entry.status.is_open() {
                vec![entry]
            } else {
                Vec::new()
            });
        }
        let mut out = Vec::new();
        for stream in self.replayable() {
            let mut query = AuditQuery::tenant(self.tenant.clone())
                .stream(stream.id())
                .statuses(&[
                    AuditStatus::Failed,
                    AuditStatus::Pending,
                    AuditStatus::Deferred,
                ]);
            match what {
                ReplayTarget::Stream(s) if *s != stream => continue,
                ReplayTarget::Run(run) => query = query.run(run.clone()),
                _ => {}
            }
            let mut latest = BTreeMap::new();
            for entry in self.store.query(&query).await? {
                latest.insert(entry.source.clone(), entry);
            }
            out.extend(latest.into_values());
        }
        Ok(out)
    }

    async fn entry(&self, id: &EntryId) -> Result<AuditEntry, SyncError> {
        let entry = self
            .store
            .entry(id)
            .await?
            .ok_or_else(|| SyncError::EntryNotFound(id.to_string()))?;
        if entry.tenant != self.tenant {
            return Err(SyncError::Config(format!(
                "entry {id} belongs to tenant {}, not {}",
                entry.tenant, self.tenant
            )));
        }
        Ok(entry)
    }

    /// Replay what `what` names (suppliers first, so dependencies resolve).
    pub async fn replay(
        &self,
        what: &ReplayTarget,
        mode: ReplayMode,
    ) -> Result<Vec<ReplayResult>, SyncError> {
        let run = self.context();
        if let ReplayTarget::Entry(id) = what {
            let entry = self.entry(id).await?;
            let result = match Stream::parse(&entry.stream.0) {
                Ok(Stream::Suppliers) => {
                    self.supplier_replayer().replay_entry(&run, id, mode).await
                }
                Ok(Stream::PurchaseOrders) => self.po_replayer().replay_entry(&run, id, mode).await,
                Ok(Stream::SupplierInvoices) => {
                    self.invoice_replayer().replay_entry(&run, id, mode).await
                }
                Ok(Stream::PurchaseReturns) => {
                    self.return_replayer()?.replay_entry(&run, id, mode).await
                }
                _ => Err(SyncError::Config(format!(
                    "entry {id} is in stream {}, which is not replayed: the next run recomputes it",
                    entry.stream
                ))),
            }?;
            return Ok(vec![result]);
        }
        let mut results = Vec::new();
        for stream in self.replayable() {
            let scope = match what {
                ReplayTarget::Stream(s) if *s != stream => continue,
                ReplayTarget::Run(run_id) => ReplayScope::Run(run_id.clone()),
                _ => ReplayScope::Stream,
            };
            results.extend(match stream {
                Stream::Suppliers => {
                    self.supplier_replayer()
                        .replay_failed(&run, scope, mode)
                        .await?
                }
                Stream::PurchaseOrders => {
                    self.po_replayer().replay_failed(&run, scope, mode).await?
                }
                Stream::PurchaseReturns => {
                    self.return_replayer()?
                        .replay_failed(&run, scope, mode)
                        .await?
                }
                _ => {
                    self.invoice_replayer()
                        .replay_failed(&run, scope, mode)
                        .await?
                }
            });
        }
        Ok(results)
    }

    /// The replayable streams this tenant has (the return stream only when assembled).
    fn replayable(&self) -> impl Iterator<Item = Stream> + '_ {
        REPLAYABLE
            .into_iter()
            .filter(|s| *s != Stream::PurchaseReturns || self.returns.is_some())
    }

    fn return_replayer(&self) -> Result<Replayer<ReturnPipeline>, SyncError> {
        let (pipeline, cin7) = self.returns.as_ref().ok_or_else(|| {
            SyncError::Config("the return direction is not configured for this tenant".into())
        })?;
        let source: Arc<dyn Source<PurchaseUpdate>> = cin7.clone();
        Ok(Replayer::new(pipeline.clone(), source))
    }

    fn supplier_replayer(&self) -> Replayer<SupplierPipeline> {
        let source: Arc<dyn Source<Supplier>> = self.source.clone();
        Replayer::new(self.suppliers.clone(), source)
    }

    fn po_replayer(&self) -> Replayer<PurchaseOrderPipeline> {
        let source: Arc<dyn Source<PurchaseOrder>> = self.source.clone();
        Replayer::new(self.purchase_orders.clone(), source)
    }

    fn invoice_replayer(&self) -> Replayer<InvoicePipeline> {
        let source: Arc<dyn Source<SupplierInvoice>> = self.source.clone();
        Replayer::new(self.invoices.clone(), source)
    }
}
