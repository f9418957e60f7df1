//! An HTTP endpoint (axum) for Cin7 webhook deliveries that queues purchase triggers durably
//! (feature `webhook-server`).
//!
//! [`intake_router`] serves `POST /` (nest it where you like). Cin7 deactivates a subscription
//! after six failed deliveries, so the rule is: **an authenticated delivery gets a 2xx once it
//! is persisted, whatever its content.**
//!
//! - Credentials are checked (in constant time) before the body is read; a wrong or missing
//!   one is answered 401 at once.
//! - The body is read up to [`IntakeLimits::max_body_bytes`] (a delivery is small; a larger one
//!   is refused with 413 before it is read whole) and within
//!   [`IntakeLimits::read_timeout`] (408); at most [`IntakeLimits::max_concurrent`] deliveries
//!   are handled at once (503 beyond, which Cin7 retries).
//! - A delivery that parses queues its triggers in the sync store
//!   ([`enqueue`]), keyed by event type, id and a time bucket
//!   ([`dedupe_key`](super::triggers::dedupe_key)): the same event delivered twice is queued
//!   once, however its body is spelled.
//! - A delivery that does not parse (not JSON, an unknown event type, a field in an odd form)
//!   is kept in the store for inspection ([`keep_unreadable`]), the ids it still names are
//!   queued as refetches ([`salvage`]), and it is answered 202 too.
//! - Only when the store cannot take it is the answer 503, so Cin7 delivers it again.
//!
//! Refused requests are logged at most once a minute, with how many were not logged.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use sdk_common::listener::{Counter, Gate};
use sdk_common::time::SharedClock;
use sync_core::engine::returns::triggers::{enqueue, keep_unreadable};
use sync_core::store::SyncStore;
use tokio::sync::Notify;

use super::triggers::{DEDUPE_WINDOW, salvage, triggers_for};
use crate::webhook::{WebhookError, WebhookEvent, WebhookReceiver};

/// How much one listener takes on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntakeLimits {
    /// The largest body read (default 256 KiB: a purchase event is well under 4 KiB, a stock
    /// level list a few dozen).
    pub max_body_bytes: usize,
    /// How long a body may take to arrive once the headers are in (default 10 s).
    pub read_timeout: Duration,
    /// Deliveries handled at once (default 32).
    pub max_concurrent: usize,
    /// How long a repeated event for the same id is queued once (default
    /// [`DEDUPE_WINDOW`]).
    pub dedupe_window: chrono::Duration,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_body_bytes: 256 * 1024,
            read_timeout: Duration::from_secs(10),
            max_concurrent: 32,
            dedupe_window: DEDUPE_WINDOW,
        }
    }
}

impl IntakeLimits {
    /// The largest body read.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How long a body may take to arrive.
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Deliveries handled at once (at least one).
    pub fn with_max_concurrent(mut self, deliveries: usize) -> Self {
        self.max_concurrent = deliveries.max(1);
        self
    }

    /// How long a repeated event for the same id is queued once.
    pub fn with_dedupe_window(mut self, window: chrono::Duration) -> Self {
        self.dedupe_window = window;
        self
    }
}

/// What the intake has seen since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntakeStats {
    /// Authenticated deliveries persisted and answered 2xx (readable or not).
    pub accepted: u64,
    /// Of those, deliveries that could not be read and were kept for inspection.
    pub unreadable: u64,
    /// Triggers queued (readable events, and refetches salvaged from unreadable ones).
    pub queued: u64,
    /// Triggers not queued because the same event for the same id was already queued.
    pub duplicates: u64,
    /// Requests refused for their credentials (401).
    pub refused_credentials: u64,
    /// Requests refused for their size, slowness or the concurrency limit (413, 408, 503).
    pub refused_limits: u64,
    /// Authenticated deliveries the store could not take (503; Cin7 delivers them again).
    pub store_failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: Counter,
    unreadable: Counter,
    queued: Counter,
    duplicates: Counter,
    store_failures: Counter,
}

fn gate(limits: &IntakeLimits) -> Gate {
    Gate::new(
        "Cin7 webhook",
        limits.max_body_bytes,
        limits.read_timeout,
        limits.max_concurrent,
    )
}

/// What the endpoint needs; build it with [`WebhookIntake::new`].
pub struct WebhookIntake {
    receiver: WebhookReceiver,
    store: Arc<dyn SyncStore>,
    tenant: String,
    account: String,
    clock: SharedClock,
    queued: Arc<Notify>,
    limits: IntakeLimits,
    gate: Gate,
    counters: Counters,
}

impl std::fmt::Debug for WebhookIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookIntake")
            .field("tenant", &self.tenant)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl WebhookIntake {
    /// An intake that authenticates with `receiver`, queues triggers for `tenant` in `store`
    /// (purchase identities use `account`, the Cin7 account name the return source uses),
    /// stamps them with `clock` and notifies `queued` when it queued something.
    ///
    /// Fails when a credential `receiver` requires is empty
    /// ([`WebhookReceiver::check_secrets`]).
    pub fn new(
        receiver: WebhookReceiver,
        store: Arc<dyn SyncStore>,
        tenant: impl Into<String>,
        account: impl Into<String>,
        clock: SharedClock,
        queued: Arc<Notify>,
    ) -> Result<Self, WebhookError> {
        receiver.check_secrets()?;
        let limits = IntakeLimits::default();
        Ok(WebhookIntake {
            receiver,
            store,
            tenant: tenant.into(),
            account: account.into(),
            clock,
            queued,
            gate: gate(&limits),
            limits,
            counters: Counters::default(),
        })
    }

    /// Use these limits instead of the defaults.
    pub fn with_limits(mut self, limits: IntakeLimits) -> Self {
        self.gate = gate(&limits);
        self.limits = limits;
        self
    }

    /// What the intake has seen so far.
    pub fn stats(&self) -> IntakeStats {
        let c = &self.counters;
        IntakeStats {
            accepted: c.accepted.get(),
            unreadable: c.unreadable.get(),
            queued: c.queued.get(),
            duplicates: c.duplicates.get(),
            refused_credentials: self.gate.refused_credentials(),
            refused_limits: self.gate.refused_limits(),
            store_failures: c.store_failures.get(),
        }
    }

    /// Persist one authenticated body: its triggers, or (when it cannot be read) the body and
    /// the refetches it still allows. `Err` when the store could not take it.
    async fn persist(&self, body: &[u8]) -> Result<(), sync_core::SyncError> {
        let store = self.store.as_ref();
        let now = self.clock.now();
        let window = self.limits.dedupe_window;
        let triggers = match WebhookEvent::parse(body) {
            Ok(event) => triggers_for(&event, &self.account, now, window),
            Err(error) => {
                let triggers = salvage(body, &self.account, now, window);
                let reason = sdk_common::report::chain(&error);
                tracing::warn!(
                    reason,
                    refetches = triggers.len(),
                    "kept an unreadable Cin7 webhook delivery"
                );
                keep_unreadable(store, &self.tenant, body, &reason, triggers.len(), now).await?;
                self.counters.unreadable.add(1);
                triggers
            }
        };
        let mut queued = 0;
        for trigger in &triggers {
            if enqueue(store, &self.tenant, trigger).await? {
                queued += 1;
            }
        }
        self.counters.queued.add(queued);
        self.counters.duplicates.add(triggers.len() as u64 - queued);
        if queued > 0 {
            self.queued.notify_one();
        }
        Ok(())
    }
}

/// The router: `POST /` takes deliveries.
pub fn intake_router(intake: Arc<WebhookIntake>) -> Router {
    Router::new().route("/", post(deliver)).with_state(intake)
}

async fn deliver(State(intake): State<Arc<WebhookIntake>>, request: Request) -> StatusCode {
    let admitted = intake
        .gate
        .admit(request, intake.clock.now(), |headers| {
            intake.receiver.authenticate(headers)
        })
        .await;
    // Held until the answer: the slot covers persisting too.
    let admitted = match admitted {
        Ok(admitted) => admitted,
        Err(status) => return status,
    };
    match intake.persist(&admitted.body).await {
        Ok(()) => {
            intake.counters.accepted.add(1);
            StatusCode::ACCEPTED
        }
        Err(error) => {
            // Not persisted: let Cin7 deliver it again.
            intake.counters.store_failures.add(1);
            tracing::error!(error = %sdk_common::report::chain(&error), "cannot persist a Cin7 webhook delivery");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
