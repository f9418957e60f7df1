//! Many tenants served by one bounded pool of workers: each (tenant, stream) is a job, due
//! on its tenant's cadence, claimed from a [`JobBoard`] by whichever worker is free.
//!
//! - **One process** (the SQLite store): a [`LocalBoard`] hands the due jobs out in memory.
//! - **Many processes** on any number of hosts (the PostgreSQL store): each process claims
//!   jobs with the store's fenced leases ([`PgStore::worker`]), renews them while a job runs
//!   and stops writing the moment one is lost; a killed process's jobs are claimed by another
//!   once their leases expire. Jobs carry their tenant's Cin7 account as *affinity*: while one
//!   process holds a job of an account, no other process claims one of that account, so the
//!   account's rate limit is spent by one process-wide limiter at a time.
//!
//! A tenant's windows take turns within a process (one at a time): its streams share its
//! account's budget anyway, and a purchase order that creates its missing supplier must not
//! race the supplier stream creating the same one.
//!
//! Fairness: claims go oldest due first, and with the engine's
//! [`max_writes_per_window`](crate::engine::EngineConfig::max_writes_per_window) a window
//! yields after that many writes; its job is due again at once, behind the jobs due earlier,
//! so a tenant with a large backlog takes turns with the others instead of holding a worker.
//!
//! [`PgStore::worker`]: crate::store::postgres::PgStore::worker

mod board;

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;

pub use board::{Held, JobBoard, LocalBoard};

use crate::engine::WindowReport;
use crate::error::{StoreError, SyncError};
use crate::runner::{Shutdown, ShutdownSignal, TenantRunner};
use crate::schedule::Cadence;
use crate::store::StreamKey;
use crate::time::{SharedClock, to_chrono};

/// One tenant of a fleet.
#[derive(Clone)]
pub struct FleetTenant {
    /// Its pipelines, wired to the fleet's store.
    pub runner: Arc<TenantRunner>,
    /// When each of its streams is due again after a window.
    pub cadence: Cadence,
    /// The jobs' affinity: the Cin7 account the tenant writes to.
    pub affinity: String,
}

/// What one job did.
#[derive(Debug)]
pub struct JobRun {
    /// The job.
    pub key: StreamKey,
    /// The window's report, or why it failed (`None`: the tenant is not in this fleet, or the
    /// stream is not configured for it).
    pub result: Option<Result<WindowReport, SyncError>>,
    /// When the job is due again.
    pub next_due: DateTime<Utc>,
    /// The claim was lost while it ran (its commits were refused).
    pub lost: bool,
}

/// A callback told of every job a fleet ran (metrics, logs, tests).
pub type JobObserver = Arc<dyn Fn(&JobRun) + Send + Sync>;

/// Many tenants, one pool of workers, one [`JobBoard`].
#[derive(Clone)]
pub struct Fleet {
    board: Arc<dyn JobBoard>,
    tenants: Arc<RwLock<HashMap<String, FleetTenant>>>,
    /// One window at a time per tenant in this process: its streams share its Cin7 account's
    /// budget anyway, and a purchase order resolving its supplier must not race the supplier
    /// stream creating it.
    turns: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    clock: SharedClock,
    idle_poll: Duration,
    failure_retry: Duration,
    observer: Option<JobObserver>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("tenants", &self.tenants().len())
            .field("idle_poll", &self.idle_poll)
            .finish_non_exhaustive()
    }
}

/// How long a job whose tenant is not (yet) in this fleet waits before it is offered again:
/// another process with the tenant takes it meanwhile, or this one reloads its tenants.
const UNKNOWN_TENANT_RETRY: Duration = Duration::from_secs(30);

/// How long a job whose tenant is busy in this process waits before it is offered again.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// How far away "never" is for a tenant run on demand only.
const NEVER: chrono::Duration = chrono::Duration::days(365);

impl Fleet {
    /// A fleet claiming from `board`, idle workers looking again every 5 s, a failed window
    /// retried after a minute.
    pub fn new(board: Arc<dyn JobBoard>, clock: SharedClock) -> Self {
        Fleet {
            board,
            tenants: Arc::default(),
            turns: Arc::default(),
            clock,
            idle_poll: Duration::from_secs(5),
            failure_retry: Duration::from_secs(60),
            observer: None,
        }
    }

    /// How long an idle worker waits before it looks for a due job again.
    pub fn idle_poll(mut self, every: Duration) -> Self {
        self.idle_poll = every;
        self
    }

    /// How long after a failed window its job is due again (at most: never later than the
    /// tenant's cadence says).
    pub fn failure_retry(mut self, after: Duration) -> Self {
        self.failure_retry = after;
        self
    }

    /// Tell `observer` of every job run.
    pub fn observe(mut self, observer: JobObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    fn tenants(&self) -> RwLockReadGuard<'_, HashMap<String, FleetTenant>> {
        // Only whole entries are inserted and removed: a poisoned map is consistent.
        self.tenants.read().unwrap_or_else(|p| p.into_inner())
    }

    fn tenants_mut(&self) -> RwLockWriteGuard<'_, HashMap<String, FleetTenant>> {
        self.tenants.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Add a tenant, or replace it (a changed configuration: jobs running now finish with the
    /// old pipelines). Its streams become jobs, due at once when new.
    pub async fn put_tenant(&self, tenant: FleetTenant) -> Result<(), StoreError> {
        let name = tenant.runner.tenant().to_owned();
        let keys: Vec<StreamKey> = tenant
            .runner
            .streams()
            .into_iter()
            .map(|stream| StreamKey::new(name.clone(), stream))
            .collect();
        self.board.register(&keys, &tenant.affinity).await?;
        self.tenants_mut().insert(name, tenant);
        Ok(())
    }

    /// Take a tenant out: its jobs are forgotten (one running now finishes).
    pub async fn remove_tenant(&self, tenant: &str) -> Result<(), StoreError> {
        self.tenants_mut().remove(tenant);
        self.board.remove(tenant).await
    }

    /// The tenants served, by name.
    pub fn tenant_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tenants().keys().cloned().collect();
        names.sort();
        names
    }

    /// Claim one due job and run it: `None` when no job is due. The claim is kept alive while
    /// the window runs; `shutdown` stops the window at the next record (its audit rows are
    /// committed, its cursor not moved) and the job is released due at once, for another
    /// worker to go on with.
    pub async fn run_one(&self, shutdown: &ShutdownSignal) -> Result<Option<JobRun>, StoreError> {
        let Some(key) = self.board.claim().await? else {
            return Ok(None);
        };
        let tenant = self.tenants().get(&key.tenant).cloned();
        let Some(tenant) = tenant else {
            crate::telemetry::job("not_served");
            return self.give_back(key, UNKNOWN_TENANT_RETRY).await.map(Some);
        };
        let turn = self.turn(&key.tenant);
        let Ok(turn) = turn.try_lock() else {
            // Another stream of the tenant runs here now: offered again in a second, so this
            // worker goes on to another tenant instead of waiting with the claim.
            return self.give_back(key, BUSY_RETRY).await.map(Some);
        };
        let held = self.board.hold(&key);
        let stop = either(shutdown, held.lost());
        // A panic in a window is that job's failure, not the worker's end: the job is released
        // like any failed one (and the panic logged), so it is neither lost nor stuck.
        let result =
            match AssertUnwindSafe(tenant.runner.run_stream(&key.stream, Some(&stop.signal)))
                .catch_unwind()
                .await
            {
                Ok(result) => result,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(job = %key, panic = %what, "a window panicked");
                    Some(Err(SyncError::Source(
                        crate::error::SourceError::transient(format!(
                            "the window panicked: {what}"
                        )),
                    )))
                }
            };
        drop(stop);
        drop(turn);
        let lost = held.lost().is_triggered();
        drop(held);
        let now = self.clock.now();
        let scheduled = tenant.cadence.next_after(now).unwrap_or(now + NEVER);
        let next_due = match &result {
            _ if shutdown.is_triggered() => now,
            Some(Err(_)) => scheduled.min(now + to_chrono(self.failure_retry)),
            // Yielded after its share of work: due again at once, behind the jobs due earlier.
            Some(Ok(report)) if report.abandoned || report.yielded => now,
            _ => scheduled,
        };
        let released = self.board.release(&key, next_due).await;
        let lost = lost || matches!(released, Err(StoreError::Fenced { .. }));
        if let Err(error) = &released
            && !matches!(error, StoreError::Fenced { .. })
        {
            tracing::warn!(job = %key, %error, "cannot release a job; its lease will expire");
        }
        crate::telemetry::job(match &result {
            _ if lost => "lost",
            Some(Ok(_)) => "committed",
            Some(Err(_)) => "failed",
            None => "not_served",
        });
        let run = JobRun {
            key,
            result,
            next_due,
            lost,
        };
        if let Some(observer) = &self.observer {
            observer(&run);
        }
        Ok(Some(run))
    }

    /// Release a claimed job unrun, due again `after`.
    async fn give_back(&self, key: StreamKey, after: Duration) -> Result<JobRun, StoreError> {
        let next_due = self.clock.now() + to_chrono(after);
        self.board.release(&key, next_due).await?;
        Ok(JobRun {
            key,
            result: None,
            next_due,
            lost: false,
        })
    }

    /// The lock that gives `tenant`'s windows their turns in this process.
    fn turn(&self, tenant: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.turns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(tenant.to_owned())
            .or_default()
            .clone()
    }

    /// Run until `shutdown`: `workers` tasks, each claiming and running one due job at a time
    /// and waiting [`idle_poll`](Self::idle_poll) when none is due. On shutdown each finishes
    /// the record in flight, commits, releases its job and returns.
    pub async fn run(&self, workers: usize, shutdown: ShutdownSignal) {
        let tasks: Vec<_> = (0..workers.max(1))
            .map(|worker| {
                let fleet = self.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { fleet.work(worker, shutdown).await })
            })
            .collect();
        for task in tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "a fleet worker stopped abnormally");
            }
        }
    }

    async fn work(&self, worker: usize, shutdown: ShutdownSignal) {
        while !shutdown.is_triggered() {
            let idle = match self.run_one(&shutdown).await {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(error) => {
                    tracing::warn!(worker, %error, "cannot claim a job; trying again");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = shutdown.wait() => {}
                    _ = self.clock.sleep(self.idle_poll) => {}
                }
            }
        }
    }
}

/// A signal triggered by either of two, while this lives.
struct Either {
    signal: ShutdownSignal,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Either {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn either(a: &ShutdownSignal, b: &ShutdownSignal) -> Either {
    let (trigger, signal) = Shutdown::new();
    if a.is_triggered() || b.is_triggered() {
        trigger.trigger();
    }
    let (a, b) = (a.clone(), b.clone());
    let task = tokio::spawn(async move {
        tokio::select! {
            _ = a.wait() => {}
            _ = b.wait() => {}
        }
        trigger.trigger();
    });
    Either { signal, task }
}
