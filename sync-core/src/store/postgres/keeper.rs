//! Renewing a lease in the background while a job runs.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::PgStore;
use crate::runner::{Shutdown, ShutdownSignal};
use crate::store::StreamKey;

/// Keeps a claimed lease alive: renews it every third of the lease length (on the store's
/// clock) until dropped. When a renewal finds the lease lost (expired, or taken over) it stops
/// and triggers [`LeaseKeeper::lost_signal`]; pass that signal to
/// [`StreamRunner::run_window`](crate::engine::StreamRunner::run_window) so the window stops
/// at the next record instead of working on for a commit that will be rejected.
///
/// A renewal that fails for a transient reason (connection) is retried at the next tick; the
/// lease length should leave room for a couple of those.
#[derive(Debug)]
pub struct LeaseKeeper {
    key: StreamKey,
    lost: ShutdownSignal,
    task: JoinHandle<()>,
}

impl PgStore {
    /// Start renewing the lease this worker holds on `key` (see [`LeaseKeeper`]). Must be
    /// called inside a tokio runtime.
    pub fn keep_alive(&self, key: &StreamKey) -> LeaseKeeper {
        let (trigger, lost) = Shutdown::new();
        let store = self.clone();
        let task_key = key.clone();
        let every = (self.lease_ttl / 3)
            .to_std()
            .unwrap_or_default()
            .max(Duration::from_millis(1));
        let task = tokio::spawn(async move {
            loop {
                store.clock.sleep(every).await;
                match store.renew(&task_key).await {
                    Ok(_) => {}
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(stream = %task_key, error = %e, "lease renewal failed; retrying");
                    }
                    Err(e) => {
                        tracing::warn!(stream = %task_key, error = %e, "lease lost");
                        trigger.trigger();
                        return;
                    }
                }
            }
        });
        LeaseKeeper {
            key: key.clone(),
            lost,
            task,
        }
    }
}

impl LeaseKeeper {
    /// The stream whose lease this keeps.
    pub fn key(&self) -> &StreamKey {
        &self.key
    }

    /// Triggered once the lease is lost.
    pub fn lost_signal(&self) -> ShutdownSignal {
        self.lost.clone()
    }

    /// Whether the lease has been lost.
    pub fn is_lost(&self) -> bool {
        self.lost.is_triggered()
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}
