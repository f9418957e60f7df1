//! What an operator watches: a Prometheus endpoint (`/metrics`), liveness (`/healthz`) and
//! readiness (`/readyz`) on one listener, for `sync` and `sync --tenants` (`--metrics-listen`).
//!
//! The metrics are what the libraries count through the `metrics` facade (their `metrics`
//! feature: records, windows, lag, API calls, throttles, limiter waits) plus the open records
//! per tenant, counted here from the audit store every minute. Names and labels:
//! docs/operations.md, "Metrics"; a Grafana dashboard: docs/grafana/sync.json.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sync_core::engine::FailedRetry;
use sync_core::runner::ShutdownSignal;
use sync_core::store::{RunId, StreamId, StreamKey, SyncStore};
use sync_core::time::SharedClock;

/// The tenants whose open records are counted (read again at every count: a fleet's change).
pub type TenantList = Arc<dyn Fn() -> Vec<String> + Send + Sync>;

/// Buckets of the duration histograms, in seconds.
const SECONDS: &[f64] = &[
    0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Install the process's Prometheus recorder (once; a second call gets an error).
pub fn install() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())
}

#[derive(Clone)]
struct Probe {
    metrics: PrometheusHandle,
    store: Arc<dyn SyncStore>,
}

/// Serve `/metrics`, `/healthz` and `/readyz` on `listen` until `shutdown`, and count the open
/// records of `tenants` every `every`. Returns the bound address.
pub async fn serve(
    listen: SocketAddr,
    metrics: PrometheusHandle,
    store: Arc<dyn SyncStore>,
    tenants: TenantList,
    clock: SharedClock,
    shutdown: ShutdownSignal,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    let probe = Probe {
        metrics,
        store: store.clone(),
    };
    let app = Router::new()
        .route("/metrics", get(render))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(probe);
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.wait().await })
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "the metrics listener stopped");
        }
    });
    tokio::spawn(count_open_records(store, tenants, clock, shutdown));
    Ok(bound)
}

async fn render(State(probe): State<Probe>) -> String {
    probe.metrics.render()
}

/// Ready when the store answers (a one-row read).
async fn ready(State(probe): State<Probe>) -> (StatusCode, &'static str) {
    let key = StreamKey::new("readyz", StreamId::suppliers());
    match probe.store.load_checkpoint(&key).await {
        Ok(_) => (StatusCode::OK, "ready\n"),
        Err(error) => {
            tracing::warn!(%error, "not ready: the store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store does not answer\n",
            )
        }
    }
}

/// Every minute: `sync_open_records` and `sync_open_needs_attention` per tenant.
async fn count_open_records(
    store: Arc<dyn SyncStore>,
    tenants: TenantList,
    clock: SharedClock,
    shutdown: ShutdownSignal,
) {
    let none = RunId(String::new());
    while !shutdown.is_triggered() {
        for tenant in tenants() {
            match crate::summary::open_records(
                store.as_ref(),
                &tenant,
                &none,
                FailedRetry::default(),
            )
            .await
            {
                Ok(open) => {
                    metrics::gauge!("sync_open_records", "tenant" => tenant.clone())
                        .set(open.total as f64);
                    metrics::gauge!("sync_open_needs_attention", "tenant" => tenant)
                        .set(open.needs_attention as f64);
                }
                Err(error) => tracing::warn!(%tenant, %error, "cannot count open records"),
            }
        }
        tokio::select! {
            _ = shutdown.wait() => {}
            _ = clock.sleep(Duration::from_secs(60)) => {}
        }
    }
}
