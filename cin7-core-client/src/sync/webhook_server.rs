//! An HTTP endpoint (axum) for Cin7 webhook deliveries that queues purchase triggers durably
//! (feature `webhook-server`).
//!
//! [`intake_router`] serves `POST /` (nest it where you like): it authenticates the delivery
//! with the crate's [`WebhookReceiver`], parses it, queues its triggers in the sync store
//! ([`enqueue`]), wakes the runner and answers `202 Accepted` — quickly, since nothing is
//! fetched from Cin7 here. A redelivery of the same body (Cin7 retries up to six times) is
//! keyed by the body's hash and queued once. Bad credentials answer 401, an unreadable body 400
//! (Cin7 then retries and finally deactivates the webhook: re-enable it from a watchdog, and
//! keep the polling window running to cover the gap).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use sdk_common::time::SharedClock;
use sync_core::engine::returns::triggers::enqueue;
use sync_core::model::hash_value;
use sync_core::store::SyncStore;
use tokio::sync::Notify;

use super::triggers::triggers_for;
use crate::webhook::{WebhookError, WebhookReceiver};

/// What the endpoint needs.
pub struct WebhookIntake {
    /// Authenticates and parses deliveries.
    pub receiver: WebhookReceiver,
    /// Where triggers are queued.
    pub store: Arc<dyn SyncStore>,
    /// The tenant the triggers belong to.
    pub tenant: String,
    /// The Cin7 account name used in purchase identities (as the return source's tenant).
    pub account: String,
    /// Clock for the received-at stamp.
    pub clock: SharedClock,
    /// Notified after every delivery that queued something (the runner waits on it).
    pub queued: Arc<Notify>,
}

impl std::fmt::Debug for WebhookIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookIntake")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// The router: `POST /` takes deliveries.
pub fn intake_router(intake: Arc<WebhookIntake>) -> Router {
    Router::new().route("/", post(deliver)).with_state(intake)
}

async fn deliver(
    State(intake): State<Arc<WebhookIntake>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let event = match intake.receiver.receive(&headers, &body) {
        Ok(event) => event,
        Err(WebhookError::MissingCredentials { .. } | WebhookError::BadCredentials { .. }) => {
            return StatusCode::UNAUTHORIZED;
        }
        Err(error) => {
            tracing::warn!(error = %sdk_common::report::chain(&error), "unreadable Cin7 webhook delivery");
            return StatusCode::BAD_REQUEST;
        }
    };
    let key = hash_value(&serde_json::json!(String::from_utf8_lossy(&body)), &[]).0;
    let mut queued = 0;
    for trigger in triggers_for(&event, &intake.account, &key, intake.clock.now()) {
        match enqueue(intake.store.as_ref(), &intake.tenant, &trigger).await {
            Ok(true) => queued += 1,
            Ok(false) => {}
            Err(error) => {
                // Not queued: let Cin7 deliver it again.
                tracing::error!(error = %sdk_common::report::chain(&error), "cannot queue a webhook trigger");
                return StatusCode::SERVICE_UNAVAILABLE;
            }
        }
    }
    if queued > 0 {
        intake.queued.notify_one();
    }
    StatusCode::ACCEPTED
}
