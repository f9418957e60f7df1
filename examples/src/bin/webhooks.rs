//! `webhooks`: register Cin7 Core webhooks pointing at your receiver, and run that receiver.
//!
//! ```sh
//! export WEBHOOK_TOKEN=$(openssl rand -hex 32)
//! cargo run -p examples --bin webhooks -- --config sync.toml register --url https://sync.example.com/cin7 --token-env WEBHOOK_TOKEN
//! cargo run -p examples --bin webhooks -- --config sync.toml serve --listen 0.0.0.0:8080 --token-env WEBHOOK_TOKEN
//! ```
//!
//! The receiver authenticates every delivery (bearer token, compared in constant time) before
//! reading it, answers at once, and triggers a sync of the configured streams in the
//! background; deliveries that arrive while a sync runs are coalesced into one more run.
//! Webhook payloads carry ids only, so a run re-reads what changed; the schedule's polling
//! stays the safety net for deliveries Cin7 gives up on.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cin7_core_client::webhook::{
    AuthorizationType, DeliveryAuth, Webhook, WebhookError, WebhookReceiver, WebhookType,
};
use clap::{Parser, Subcommand};
use examples::config::{Config, wire};
use secrecy::SecretString;
use sync_core::runner::Shutdown;
use sync_core::time::SystemClock;
use tokio::sync::Notify;

/// Register Cin7 webhooks and receive their deliveries.
#[derive(Parser)]
#[command(name = "webhooks", version)]
struct Cli {
    /// The runner's configuration (Cin7 account, store, streams; see docs/runner.md).
    #[arg(long, env = "SYNC_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create one webhook per event type, pointing at URL, authenticated with a bearer token.
    Register {
        /// The receiver's public URL (https in production).
        #[arg(long)]
        url: String,
        /// The environment variable holding the bearer token Cin7 will send.
        #[arg(long, default_value = "WEBHOOK_TOKEN")]
        token_env: String,
        /// Event types, comma-separated (default: the purchase and supplier events).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
    },
    /// List the account's webhooks (credentials are never printed).
    List,
    /// Delete a webhook by id.
    Remove {
        /// The webhook id.
        id: String,
    },
    /// Run the receiver: authenticate deliveries and trigger syncs.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// The environment variable holding the bearer token deliveries must carry.
        #[arg(long, default_value = "WEBHOOK_TOKEN")]
        token_env: String,
        /// Stop after this many triggered runs (for tests and one-off use).
        #[arg(long)]
        max_runs: Option<usize>,
    },
}

const DEFAULT_EVENTS: &[&str] = &[
    "Purchase/OrderAuthorised",
    "Purchase/StockReceivedAuthorised",
    "Purchase/InvoiceAuthorised",
    "Purchase/Updated",
    "Supplier/Updated",
];

const BAD_USAGE: u8 = 2;

fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

fn token(env: &str) -> Result<SecretString, String> {
    match std::env::var(env) {
        Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value)),
        _ => Err(format!(
            "the environment variable `{env}` (the webhook token) is not set"
        )),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(error) => return fail(error, BAD_USAGE),
    };
    let clock = SystemClock::shared();
    match cli.command {
        Command::Register {
            url,
            token_env,
            events,
        } => {
            let token = match token(&token_env) {
                Ok(token) => token,
                Err(message) => return fail(message, BAD_USAGE),
            };
            let names: Vec<String> = if events.is_empty() {
                DEFAULT_EVENTS.iter().map(|e| (*e).to_owned()).collect()
            } else {
                events
            };
            let mut types = Vec::new();
            for name in &names {
                let Ok(kind) = name.parse::<WebhookType>();
                if matches!(kind, WebhookType::Other(_)) {
                    return fail(
                        format!("`{name}` is not a Cin7 webhook event type"),
                        BAD_USAGE,
                    );
                }
                types.push(kind);
            }
            let client = match config.cin7_client(&clock) {
                Ok(client) => client,
                Err(error) => return fail(error, BAD_USAGE),
            };
            for kind in types {
                let webhook = Webhook {
                    webhook_type: Some(kind.clone()),
                    name: Some(format!("cloudsuite-sync {}", kind.as_str())),
                    is_active: Some(true),
                    external_url: url.clone(),
                    external_authorization_type: Some(AuthorizationType::BearerAuth),
                    external_bearer_token: Some(token.clone()),
                    ..Webhook::default()
                };
                match client.webhooks().create(&webhook).await {
                    Ok(created) => println!(
                        "registered {} → {} ({})",
                        kind.as_str(),
                        url,
                        created.id.map(|id| id.to_string()).unwrap_or_default()
                    ),
                    Err(error) => {
                        return fail(format!("registering {}: {error}", kind.as_str()), 1);
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Command::List => {
            let client = match config.cin7_client(&clock) {
                Ok(client) => client,
                Err(error) => return fail(error, BAD_USAGE),
            };
            match client.webhooks().list().await {
                Ok(hooks) => {
                    for hook in hooks {
                        println!(
                            "{}  {}  {}  active={}",
                            hook.id.map(|id| id.to_string()).unwrap_or_default(),
                            hook.webhook_type
                                .map(|t| t.as_str().to_owned())
                                .unwrap_or_default(),
                            hook.external_url,
                            hook.is_active.unwrap_or(false)
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(error) => fail(error, 1),
            }
        }
        Command::Remove { id } => {
            let client = match config.cin7_client(&clock) {
                Ok(client) => client,
                Err(error) => return fail(error, BAD_USAGE),
            };
            let Ok(guid) = id.parse() else {
                return fail(format!("`{id}` is not a webhook id"), BAD_USAGE);
            };
            match client.webhooks().delete(&guid).await {
                Ok(()) => {
                    println!("removed {id}");
                    ExitCode::SUCCESS
                }
                Err(error) => fail(error, 1),
            }
        }
        Command::Serve {
            listen,
            token_env,
            max_runs,
        } => {
            let token = match token(&token_env) {
                Ok(token) => token,
                Err(message) => return fail(message, BAD_USAGE),
            };
            serve(config, listen, token, max_runs).await
        }
    }
}

/// What the receiver shares with its handler.
struct Receiver {
    webhooks: WebhookReceiver,
    /// Wakes the sync task; several wake-ups while a run is going coalesce into one.
    trigger: Notify,
}

async fn deliver(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match receiver.webhooks.receive(&headers, &body) {
        Ok(event) => {
            tracing::info!(
                event = event.event_type().as_str(),
                "webhook delivery accepted"
            );
            receiver.trigger.notify_one();
            StatusCode::OK
        }
        Err(WebhookError::MissingCredentials { .. } | WebhookError::BadCredentials { .. }) => {
            StatusCode::UNAUTHORIZED
        }
        Err(error) => {
            tracing::warn!(%error, "webhook delivery refused");
            StatusCode::BAD_REQUEST
        }
    }
}

async fn serve(
    config: Config,
    listen: String,
    token: SecretString,
    max_runs: Option<usize>,
) -> ExitCode {
    let wired = match wire(&config, SystemClock::shared(), None).await {
        Ok(wired) => wired,
        Err(error) => return fail(error, BAD_USAGE),
    };
    let receiver = Arc::new(Receiver {
        webhooks: WebhookReceiver::new(DeliveryAuth::Bearer(token)),
        trigger: Notify::new(),
    });
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(error) => return fail(format!("cannot listen on {listen}: {error}"), BAD_USAGE),
    };
    let (shutdown, signal) = Shutdown::new();
    let shutdown = Arc::new(shutdown);
    let app = Router::new()
        .route("/", post(deliver))
        .route("/cin7", post(deliver))
        .with_state(receiver.clone());
    let server_signal = signal.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { server_signal.wait().await })
            .await
    });
    println!("listening on {listen}");
    let ctrl_c = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.trigger();
        }
    });
    let mut runs = 0;
    loop {
        tokio::select! {
            () = receiver.trigger.notified() => {}
            () = signal.wait() => break,
        }
        let report = wired.runner.run_once(Some(&signal)).await;
        runs += 1;
        let written: usize = report
            .streams
            .iter()
            .filter_map(|s| s.result.as_ref().ok())
            .map(|w| w.succeeded)
            .sum();
        println!(
            "run {} finished: {written} record(s) written",
            report.run_id
        );
        if max_runs.is_some_and(|max| runs >= max) {
            shutdown.trigger();
            break;
        }
    }
    let _ = server.await;
    ExitCode::SUCCESS
}
