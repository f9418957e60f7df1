//! Where a fleet's workers claim their jobs: in-process for one process, or the PostgreSQL
//! store's leases for many.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::runner::{Shutdown, ShutdownSignal};
use crate::store::StreamKey;
use crate::time::SharedClock;

/// The jobs ((tenant, stream) pairs) of a fleet, claimed by its workers one at a time.
#[async_trait]
pub trait JobBoard: Send + Sync {
    /// Make sure each key is a job (due at once when new), with `affinity`: the jobs of one
    /// affinity (a Cin7 account) are held by one process at a time.
    async fn register(&self, keys: &[StreamKey], affinity: &str) -> Result<(), StoreError>;

    /// Forget the jobs of `tenant` (a tenant taken out of the fleet); a job running now is
    /// left to finish.
    async fn remove(&self, tenant: &str) -> Result<(), StoreError>;

    /// One due job nobody holds, oldest due first; `None` when there is none.
    async fn claim(&self) -> Result<Option<StreamKey>, StoreError>;

    /// Keep the claim on `key` alive while it runs; the returned guard's signal is triggered
    /// when the claim is lost (another process took the job over).
    fn hold(&self, key: &StreamKey) -> Held;

    /// Give the job back, due again at `next_due`. [`StoreError::Fenced`] when the claim had
    /// already been lost.
    async fn release(&self, key: &StreamKey, next_due: DateTime<Utc>) -> Result<(), StoreError>;
}

/// A running job's claim, kept while this lives.
pub struct Held {
    lost: ShutdownSignal,
    /// What keeps the claim (a renewal task), or the sender of a signal that never fires.
    _keep: Box<dyn Send + Sync>,
}

impl Held {
    /// A claim kept by `keep` (dropped when the job ends: e.g. a renewal task's guard) and
    /// lost when `lost` fires.
    pub fn new(lost: ShutdownSignal, keep: impl Send + Sync + 'static) -> Self {
        Held {
            lost,
            _keep: Box::new(keep),
        }
    }

    /// A claim nobody can take away (one process, in memory).
    pub fn never_lost() -> Self {
        let (keep, lost) = Shutdown::new();
        Held::new(lost, keep)
    }

    /// Triggered when the claim is lost.
    pub fn lost(&self) -> &ShutdownSignal {
        &self.lost
    }
}

/// The jobs of a fleet that runs in one process (the SQLite store): claims live in memory.
#[derive(Clone)]
pub struct LocalBoard {
    jobs: Arc<Mutex<BTreeMap<StreamKey, LocalJob>>>,
    clock: SharedClock,
}

#[derive(Debug, Clone, Copy)]
struct LocalJob {
    next_due: DateTime<Utc>,
    running: bool,
}

impl LocalBoard {
    /// An empty board on `clock`.
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// use sync_core::fleet::{JobBoard, LocalBoard};
    /// use sync_core::store::{StreamId, StreamKey};
    /// use sync_core::time::SystemClock;
    /// let board = LocalBoard::new(SystemClock::shared());
    /// let key = StreamKey::new("ACME", StreamId::suppliers());
    /// board.register(std::slice::from_ref(&key), "cin7-account").await?;
    /// assert_eq!(board.claim().await?, Some(key.clone()));
    /// assert_eq!(board.claim().await?, None, "held until released");
    /// # Ok::<(), sync_core::error::StoreError>(()) }).unwrap();
    /// ```
    pub fn new(clock: SharedClock) -> Self {
        LocalBoard {
            jobs: Arc::default(),
            clock,
        }
    }

    fn jobs(&self) -> MutexGuard<'_, BTreeMap<StreamKey, LocalJob>> {
        // Only whole-value updates happen under the lock: a poisoned map is consistent.
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl JobBoard for LocalBoard {
    async fn register(&self, keys: &[StreamKey], _affinity: &str) -> Result<(), StoreError> {
        let mut jobs = self.jobs();
        for key in keys {
            jobs.entry(key.clone()).or_insert(LocalJob {
                next_due: DateTime::<Utc>::MIN_UTC,
                running: false,
            });
        }
        Ok(())
    }

    async fn remove(&self, tenant: &str) -> Result<(), StoreError> {
        self.jobs()
            .retain(|key, job| key.tenant != tenant || job.running);
        Ok(())
    }

    async fn claim(&self) -> Result<Option<StreamKey>, StoreError> {
        let now = self.clock.now();
        let mut jobs = self.jobs();
        let next = jobs
            .iter()
            .filter(|(_, job)| !job.running && job.next_due <= now)
            .min_by_key(|(key, job)| (job.next_due, (*key).clone()))
            .map(|(key, _)| key.clone());
        if let Some(job) = next.as_ref().and_then(|key| jobs.get_mut(key)) {
            job.running = true;
        }
        Ok(next)
    }

    fn hold(&self, _key: &StreamKey) -> Held {
        Held::never_lost()
    }

    async fn release(&self, key: &StreamKey, next_due: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(job) = self.jobs().get_mut(key) {
            *job = LocalJob {
                next_due,
                running: false,
            };
        }
        Ok(())
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::store::postgres::PgStore;

    /// Many processes: a [worker handle](PgStore::worker) claims (tenant, stream) jobs with
    /// fenced leases, renewed while a job runs, and respects their affinity.
    #[async_trait]
    impl JobBoard for PgStore {
        async fn register(&self, keys: &[StreamKey], affinity: &str) -> Result<(), StoreError> {
            self.register_affine_jobs(keys, affinity).await.map(|_| ())
        }

        async fn remove(&self, tenant: &str) -> Result<(), StoreError> {
            self.remove_jobs(tenant).await.map(|_| ())
        }

        async fn claim(&self) -> Result<Option<StreamKey>, StoreError> {
            Ok(PgStore::claim(self).await?.map(|lease| lease.key))
        }

        fn hold(&self, key: &StreamKey) -> Held {
            let keeper = self.keep_alive(key);
            Held::new(keeper.lost_signal(), keeper)
        }

        async fn release(
            &self,
            key: &StreamKey,
            next_due: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            PgStore::release(self, key, next_due).await
        }
    }
}
