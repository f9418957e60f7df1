//! The webhook intake of a configured tenant: Cin7's purchase webhooks queued durably in the
//! tenant's store, for the runner's return direction to handle at once.
//!
//! The `sync` binary serves it beside its schedule when the config has a `[webhooks]` section;
//! `webhooks serve` serves it alone (with the queued triggers handled as they arrive). Either
//! way a delivery is authenticated (bearer token, constant-time comparison), queued in the store
//! keyed by its body (Cin7's redeliveries are queued once) and answered `202` without calling
//! Cin7; the runner is woken to resolve, re-read and write back the purchases it names. The
//! polling window of the `purchase_returns` stream remains the fallback for anything missed.

use std::net::SocketAddr;
use std::sync::Arc;

use cin7_core_client::sync::webhook_server::{WebhookIntake, intake_router};
use cin7_core_client::webhook::{DeliveryAuth, WebhookReceiver};
use sync_core::runner::ShutdownSignal;
use sync_core::time::SharedClock;
use tokio::task::JoinHandle;

use crate::assemble::Assembled;
use crate::config::{Config, ConfigError, ListenerTls};
use axum_server::tls_rustls::RustlsConfig;

/// A running intake.
#[derive(Debug)]
pub struct IntakeServer {
    addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

impl IntakeServer {
    /// Serve `app` on `listen` until `shutdown`, over TLS when `tls` names a certificate and
    /// key (reloaded from the files on `SIGHUP`); `what` names it in errors.
    pub(crate) async fn serve(
        what: &str,
        listen: &str,
        app: axum::Router,
        tls: Option<&ListenerTls>,
        shutdown: ShutdownSignal,
    ) -> Result<IntakeServer, ConfigError> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| ConfigError::Client(format!("{what} cannot listen on {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ConfigError::Client(format!("{what} has no address: {e}")))?;
        let Some(tls) = tls else {
            let task = tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move { shutdown.wait().await })
                    .await
            });
            return Ok(IntakeServer { addr, task });
        };
        let config = RustlsConfig::from_pem_file(&tls.cert, &tls.key)
            .await
            .map_err(|e| {
                ConfigError::Client(format!(
                    "{what} cannot load its TLS certificate {} and key {}: {e}",
                    tls.cert.display(),
                    tls.key.display()
                ))
            })?;
        let listener = listener
            .into_std()
            .map_err(|e| ConfigError::Client(format!("{what} cannot listen on {listen}: {e}")))?;
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(listener, config.clone())
            .map_err(|e| ConfigError::Client(format!("{what} cannot listen on {listen}: {e}")))?
            .handle(handle.clone());
        tokio::spawn(reload_on_hangup(config, tls.clone(), shutdown.clone()));
        tokio::spawn(async move {
            shutdown.wait().await;
            handle.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        let task = tokio::spawn(async move { server.serve(app.into_make_service()).await });
        Ok(IntakeServer { addr, task })
    }

    /// The address it listens on (useful when the config asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Wait until it stops (after the shutdown signal).
    pub async fn stopped(self) -> std::io::Result<()> {
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Load the certificate and key again on every `SIGHUP` (a renewed certificate takes effect
/// without a restart); a file that cannot be read keeps the one in use, with an error logged.
async fn reload_on_hangup(config: RustlsConfig, tls: ListenerTls, shutdown: ShutdownSignal) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot watch SIGHUP: the TLS certificate is not reloaded");
            return;
        };
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                received = hangups.recv() => {
                    if received.is_none() {
                        return;
                    }
                    match config.reload_from_pem_file(&tls.cert, &tls.key).await {
                        Ok(()) => tracing::info!(cert = %tls.cert.display(), "TLS certificate reloaded"),
                        Err(error) => tracing::error!(
                            cert = %tls.cert.display(),
                            %error,
                            "cannot reload the TLS certificate; the one in use stays"
                        ),
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (config, tls);
        shutdown.wait().await;
    }
}

/// Start the intake of `config`'s `[webhooks]` section for the tenant `assembled` runs; it
/// stops on `shutdown`. `POST /` and `POST /cin7` take deliveries.
pub async fn start_intake(
    config: &Config,
    assembled: &Assembled,
    clock: SharedClock,
    shutdown: ShutdownSignal,
) -> Result<IntakeServer, ConfigError> {
    let settings = config.webhooks.as_ref().ok_or(ConfigError::Missing {
        key: "[webhooks]",
        hint: "where the intake listens: listen = \"0.0.0.0:8080\", token_env = \"WEBHOOK_TOKEN\"",
    })?;
    let Some(returns) = &config.returns else {
        return Err(ConfigError::Missing {
            key: "[returns]",
            hint: "the webhooks trigger the return direction: add a [returns] section",
        });
    };
    let token = config.webhook_token()?.ok_or(ConfigError::Missing {
        key: "webhooks.token_env",
        hint: "the environment variable holding the bearer token Cin7 sends",
    })?;
    let intake = WebhookIntake::new(
        WebhookReceiver::new(DeliveryAuth::Bearer(token)),
        assembled.store.clone(),
        config.tenant.clone(),
        returns.cin7_account_name.clone(),
        clock,
        assembled.wake(),
    )
    .map_err(|e| ConfigError::Client(format!("the webhook intake: {e}")))?;
    let intake = Arc::new(intake);
    let app = intake_router(intake.clone()).nest("/cin7", intake_router(intake));
    IntakeServer::serve(
        "the webhook intake",
        &settings.listen,
        app,
        settings.tls.as_ref(),
        shutdown,
    )
    .await
}
