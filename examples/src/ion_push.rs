//! The ION push intake of a configured tenant: BODs ION's Messaging Service pushes (an "IMS via
//! ION API" connection point, see `docs/ion-push.md`) queued durably in the tenant's store, for
//! the runner's forward streams to sync at once.
//!
//! The `sync` binary serves it beside its schedule when the config has an `[ion_push]` section,
//! at `/ion/service/ping` and `/ion/service/v2|v3/multipartMessage`. Polling stays the backstop
//! for anything a push missed.

use std::sync::Arc;

use infor_ion_client::cloudsuite::push::{PushIntake, push_router};
use sdk_common::listener::HeaderSecret;
use sync_core::runner::ShutdownSignal;
use sync_core::time::SharedClock;

use crate::config::{Config, ConfigError, Wired};
use crate::webhooks::IntakeServer;

/// Start the intake of `config`'s `[ion_push]` section for the tenant `wired` runs; it stops
/// on `shutdown`.
pub async fn start_push_intake(
    config: &Config,
    wired: &Wired,
    clock: SharedClock,
    shutdown: ShutdownSignal,
) -> Result<IntakeServer, ConfigError> {
    let settings = config.ion_push.as_ref().ok_or(ConfigError::Missing {
        key: "[ion_push]",
        hint: "where the intake listens: listen = \"0.0.0.0:8091\", secret_env = \"ION_PUSH_SECRET\"",
    })?;
    let secret = config.ion_push_secret()?.ok_or(ConfigError::Missing {
        key: "ion_push.secret_env",
        hint: "the environment variable holding the header value ION's API suite sends",
    })?;
    let secret = HeaderSecret::new(&settings.header, secret)
        .map_err(|e| ConfigError::Client(format!("the ION push intake: {e}")))?;
    let intake = PushIntake::new(
        secret,
        wired.assembled.store.clone(),
        wired.source.bod_context(),
        clock,
        wired.assembled.wake(),
    )
    .only_streams(config.streams.iter().map(|s| s.id()));
    let app = axum::Router::new().nest("/ion", push_router(Arc::new(intake)));
    IntakeServer::serve(
        "the ION push intake",
        &settings.listen,
        app,
        settings.tls.as_ref(),
        shutdown,
    )
    .await
}
