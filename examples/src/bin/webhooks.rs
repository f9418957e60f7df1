//! `webhooks`: register Cin7 Core's purchase webhooks pointing at your intake, keep them
//! enabled, and run the intake on its own.
//!
//! ```sh
//! export WEBHOOK_TOKEN=$(openssl rand -hex 32)
//! cargo run -p examples --bin webhooks -- --config sync.toml register --url https://sync.example.com/cin7
//! cargo run -p examples --bin webhooks -- --config sync.toml watchdog --url https://sync.example.com/cin7   # e.g. hourly
//! cargo run -p examples --bin webhooks -- --config sync.toml serve       # the intake alone
//! ```
//!
//! The intake (`[webhooks]` in the config; see `examples::webhooks`) authenticates every
//! delivery (bearer token, compared in constant time) before reading it, queues it durably in
//! the tenant's store (a redelivery is queued once) and answers `202`; the purchases it names
//! are re-read and written back to CloudSuite by the return direction at once. The scheduled
//! `sync` runner serves the same intake itself when its config has `[webhooks]`: use `serve`
//! only when the syncs run elsewhere (e.g. `sync --once` from cron). The `purchase_returns`
//! window's polling stays the safety net for deliveries Cin7 gives up on, and `watchdog`
//! re-enables webhooks Cin7 deactivated after failed deliveries.

use std::path::PathBuf;
use std::process::ExitCode;

use cin7_core_client::sync::triggers::{
    PURCHASE_WEBHOOKS, Subscribed, ensure_subscribed, reenable_inactive,
};
use cin7_core_client::webhook::{AuthorizationType, Webhook, WebhookType};
use clap::{Parser, Subcommand};
use examples::config::{Config, wire};
use examples::webhooks::start_intake;
use secrecy::SecretString;
use sync_core::runner::Shutdown;
use sync_core::time::SystemClock;

/// Register Cin7 webhooks and receive their deliveries.
#[derive(Parser)]
#[command(name = "webhooks", version)]
struct Cli {
    /// The runner's configuration (Cin7 account, store, `[returns]`, `[webhooks]`; see
    /// docs/runner.md).
    #[arg(long, env = "SYNC_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Subscribe each event type to URL, authenticated with a bearer token: an existing active
    /// subscription is kept, an inactive one re-enabled, a missing one created (within Cin7's
    /// limit of five per type).
    Register {
        /// The receiver's public URL (https in production).
        #[arg(long)]
        url: String,
        /// The environment variable holding the bearer token Cin7 will send.
        #[arg(long, default_value = "WEBHOOK_TOKEN")]
        token_env: String,
        /// Event types, comma-separated (default: the four purchase events the return direction
        /// handles).
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
    /// Re-enable our purchase webhooks (those pointing at URL) that Cin7 deactivated after
    /// failed deliveries, with the token from the environment (never the one Cin7 lists).
    Watchdog {
        /// The receiver's public URL, as registered.
        #[arg(long)]
        url: String,
        /// The environment variable holding the bearer token Cin7 sends.
        #[arg(long, default_value = "WEBHOOK_TOKEN")]
        token_env: String,
    },
    /// Run the intake of the config's `[webhooks]` section alone: queue deliveries and write
    /// the purchases they name back to CloudSuite as they arrive.
    Serve {
        /// Listen here instead of `webhooks.listen`.
        #[arg(long)]
        listen: Option<String>,
        /// Stop after handling this many batches of deliveries (for tests and one-off use).
        #[arg(long)]
        max_batches: Option<usize>,
    },
}

const BAD_USAGE: u8 = 2;

fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// Our subscription of `kind` (or of no type, for the watchdog): `url` and the bearer token.
fn subscription(kind: Option<WebhookType>, url: &str, token: SecretString) -> Webhook {
    Webhook {
        name: kind
            .as_ref()
            .map(|kind| format!("cloudsuite-sync {}", kind.as_str())),
        webhook_type: kind,
        is_active: Some(true),
        external_url: url.to_owned(),
        external_authorization_type: Some(AuthorizationType::BearerAuth),
        external_bearer_token: Some(token),
        ..Webhook::default()
    }
}

/// Cin7 sends the bearer token with every delivery: never in clear text over a network.
fn checked_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if sdk_common::redirect::is_loopback(&parsed) => Ok(()),
        _ => Err(format!(
            "`{url}` is not https: Cin7 would send the webhook token in clear text (plain http \
             is accepted on loopback only; terminate TLS at your proxy and register its https URL)"
        )),
    }
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
    examples::logging::init("info");
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
            if let Err(message) = checked_url(&url) {
                return fail(message, BAD_USAGE);
            }
            let names: Vec<String> = if events.is_empty() {
                PURCHASE_WEBHOOKS
                    .iter()
                    .map(|e| e.as_str().to_owned())
                    .collect()
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
            let mut failed = false;
            for kind in types {
                let webhook = subscription(Some(kind.clone()), &url, token.clone());
                match ensure_subscribed(&client, &webhook).await {
                    Ok(Subscribed::Existing(id)) => {
                        println!("already registered {} → {url} ({id})", kind.as_str());
                    }
                    Ok(Subscribed::Reenabled(id)) => {
                        println!("re-enabled {} → {url} ({id})", kind.as_str());
                    }
                    Ok(Subscribed::Created(id)) => {
                        println!("registered {} → {url} ({id})", kind.as_str());
                    }
                    Err(error) => {
                        // Say so and go on: the other types may still be registered.
                        eprintln!(
                            "error: registering {}: {}",
                            kind.as_str(),
                            sdk_common::report::chain(&error)
                        );
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
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
        Command::Watchdog { url, token_env } => {
            let token = match token(&token_env) {
                Ok(token) => token,
                Err(message) => return fail(message, BAD_USAGE),
            };
            let client = match config.cin7_client(&clock) {
                Ok(client) => client,
                Err(error) => return fail(error, BAD_USAGE),
            };
            let ours = subscription(None, &url, token);
            match reenable_inactive(&client, &PURCHASE_WEBHOOKS, &ours).await {
                Ok(report) => {
                    println!("re-enabled {} webhook(s)", report.reenabled.len());
                    for (id, error) in &report.failed {
                        eprintln!(
                            "error: re-enabling {id}: {}",
                            sdk_common::report::chain(error)
                        );
                    }
                    if report.failed.is_empty() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(error) => fail(sdk_common::report::chain(&error), 1),
            }
        }
        Command::Serve {
            listen,
            max_batches,
        } => {
            let mut config = config;
            if let (Some(listen), Some(webhooks)) = (listen, config.webhooks.as_mut()) {
                webhooks.listen = listen;
            }
            serve(config, max_batches).await
        }
    }
}

/// The intake alone: queue deliveries, handle each batch as soon as it is queued.
async fn serve(config: Config, max_batches: Option<usize>) -> ExitCode {
    let clock = SystemClock::shared();
    let wired = match wire(&config, clock.clone(), None).await {
        Ok(wired) => wired,
        Err(error) => return fail(error, BAD_USAGE),
    };
    let (shutdown, signal) = Shutdown::new();
    let intake = match start_intake(&config, &wired, clock, signal.clone()).await {
        Ok(intake) => intake,
        Err(error) => return fail(error, BAD_USAGE),
    };
    println!("listening on {}", intake.local_addr());
    let shutdown = std::sync::Arc::new(shutdown);
    let ctrl_c = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.trigger();
        }
    });
    let wake = wired.wake();
    let mut batches = 0;
    loop {
        tokio::select! {
            () = wake.notified() => {}
            () = signal.wait() => break,
        }
        match wired.runner.run_triggers().await {
            Ok(report) => println!(
                "handled {} delivery trigger(s): {} purchase(s) synced back, {} without a purchase, audit {:?}",
                report.triggers, report.purchases, report.unresolved, report.statuses
            ),
            Err(error) => eprintln!("webhook triggers failed (they stay queued): {error}"),
        }
        batches += 1;
        if max_batches.is_some_and(|max| batches >= max) {
            shutdown.trigger();
            break;
        }
    }
    if let Err(error) = intake.stopped().await {
        return fail(format!("the intake stopped with an error: {error}"), 1);
    }
    ExitCode::SUCCESS
}
