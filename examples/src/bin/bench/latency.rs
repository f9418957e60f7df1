//! Latency (issue 20 item 7): from a CloudSuite change to its write in Cin7, per change, over
//! `--changes` supplier renames, with the Cin7 rate limit on (`--limit` calls a minute, on the
//! virtual clock like `economy`).
//!
//! - **push**: each change is pushed to the ION push intake over HTTP as ION would (a `Sync`
//!   BOD), queued, and synced by the runner's drain of the push queue (a single worker);
//! - **poll**: the change is stamped in CloudSuite and picked up by the next run of a
//!   one-minute interval cadence (`every = "1m"`, measured from the end of a run);
//! - **webhook** (the other direction): a receipt made in Cin7 (through the same account's
//!   budget) fires Cin7's webhooks to the webhook intake, and the runner's return direction
//!   writes the receipt to the CloudSuite PO; latency runs to that write.
//!
//! Changes arrive evenly at a fraction of what the budget can write (`idle`: half of it) or
//! faster than it (`backlog`: twice it, so a queue builds). A change's latency = the virtual
//! time from its arrival to the write that carried it (limiter waits and cadence) + the real
//! time spent meanwhile (HTTP, SQLite, both simulators in-process): an upper bound for a
//! real-clock run, as in `economy`. A rename covered by a later write of the same supplier
//! completes with that write.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::cloudsuite::push::{PushIntake, push_router};
use sdk_common::listener::HeaderSecret;
use sync_core::engine::{EngineConfig, ProgressEvent, ProgressFn};
use sync_core::store::AuditStatus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{SyncArgs, TENANT, World, cin7_calls, total, world};
use examples::assemble::{Parts, Stream, assemble};
use examples::demo::mappings;

const AUTH: &str = "Basic YmVuY2g6bGF0ZW5jeQ==";

/// Arguments of `bench latency`.
#[derive(clap::Args, Clone)]
pub struct LatencyArgs {
    /// Changes per scenario.
    #[arg(long, default_value_t = 1000)]
    changes: usize,
    /// CloudSuite suppliers the changes rename in turn.
    #[arg(long, default_value_t = 200)]
    suppliers: usize,
    /// Cin7 calls per minute (server limit and client limiter).
    #[arg(long, default_value_t = 60)]
    limit: u32,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Push,
    Poll,
}

/// Changes waiting for their write, per supplier: (arrival, real instant admitted).
type Pending = BTreeMap<String, VecDeque<(DateTime<Utc>, Instant)>>;

struct Measured {
    latencies: Vec<f64>,
    cin7_calls: u64,
    throttled: u64,
}

pub async fn run(args: LatencyArgs) -> Result<(), Box<dyn std::error::Error>> {
    // Calls one change costs, measured on a push with an idle budget.
    let probe = scenario(&args, Mode::Push, 1.0, 5).await?;
    let per_change = probe.cin7_calls as f64 / 5.0;
    let capacity = f64::from(args.limit) / per_change.max(1.0);
    println!(
        "{per_change:.2} Cin7 call(s) per change: the {}/min budget writes {capacity:.1} changes/min\n",
        args.limit
    );
    println!(
        "| scenario | changes | arrivals/min | p50 | p95 | p99 | max | Cin7 calls | throttled |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (mode, name, factor) in [
        (Mode::Push, "push, idle", 0.5),
        (Mode::Push, "push, backlog", 2.0),
        (Mode::Poll, "poll every 1m, idle", 0.5),
        (Mode::Poll, "poll every 1m, backlog", 2.0),
    ] {
        let rate = capacity * factor;
        let m = scenario(&args, mode, rate, args.changes).await?;
        print_row(name, rate, m)?;
    }
    // The other direction costs its own calls per change (the receipt itself, then the
    // sync's reads of the purchase): idle is half of what the budget serves of those.
    let probe = webhook_scenario(&args, 1.0, 5).await?;
    let per_receipt = probe.cin7_calls as f64 / 5.0;
    let capacity = f64::from(args.limit) / per_receipt.max(1.0);
    for (name, factor) in [
        ("Cin7 receipt → CloudSuite (webhook), idle", 0.5),
        ("Cin7 receipt → CloudSuite (webhook), backlog", 2.0),
    ] {
        let rate = capacity * factor;
        let m = webhook_scenario(&args, rate, args.changes).await?;
        print_row(name, rate, m)?;
    }
    println!(
        "\n{per_receipt:.2} Cin7 call(s) per receipt (the receipt and the sync's reads of it)"
    );
    Ok(())
}

/// One table row of a scenario's latencies.
fn print_row(name: &str, rate: f64, m: Measured) -> Result<(), Box<dyn std::error::Error>> {
    let mut l = m.latencies;
    if l.is_empty() {
        return Err(format!("{name}: no change reached the other side").into());
    }
    l.sort_by(f64::total_cmp);
    let at = |q: f64| l[((l.len() as f64 * q).ceil() as usize).clamp(1, l.len()) - 1];
    println!(
        "| {name} | {} | {rate:.1} | {} | {} | {} | {} | {} | {} |",
        l.len(),
        secs(at(0.50)),
        secs(at(0.95)),
        secs(at(0.99)),
        secs(at(1.0)),
        m.cin7_calls,
        m.throttled
    );
    Ok(())
}

fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.1} s")
    }
}

async fn scenario(
    args: &LatencyArgs,
    mode: Mode,
    per_minute: f64,
    changes: usize,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let world = world(
        &SyncArgs {
            suppliers: args.suppliers,
            pos: 0,
            lines: 0,
            invoices: 0,
            limit: args.limit,
            real_clock: false,
            small_factor: 1,
            returns: false,
        },
        20,
    )
    .await?;
    let manual = world
        .manual
        .clone()
        .ok_or("the latency bench runs on the virtual clock")?;
    let pending: Arc<Mutex<Pending>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let source = CloudSuiteSource::csi(world.ion_client.csi(world.ion.mongoose_config()), "MAIN")
        .default_currency("USD");
    let context = source.bod_context();
    let sync = assemble(Parts {
        tenant: TENANT.to_owned(),
        source,
        target: Arc::new(cin7_core_client::sync::Cin7Target::new(
            world.cin7_client.clone(),
        )),
        streams: vec![Stream::Suppliers],
        returns: None,
        store: world.store.clone(),
        clock: world.clock.clone(),
        mappings: mappings(true),
        engine: EngineConfig {
            safety_lag: chrono::Duration::seconds(1),
            ..EngineConfig::default()
        },
        progress: Some(completions(&world, pending.clone(), latencies.clone())),
    })?;
    let wake = sync.wake();
    let runner = sync.runner.with_pushes().with_wake(wake.clone());
    // The initial full sync is not measured.
    runner.run_once(None).await;
    let intake = PushIntake::new(
        HeaderSecret::new("Authorization", AUTH.into())?,
        world.store.clone(),
        context,
        world.clock.clone(),
        wake,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let app = axum::Router::new().nest("/ion", push_router(Arc::new(intake)));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let vendors: Vec<String> = world
        .ion
        .data()
        .rows("SLVendors")
        .iter()
        .filter_map(|r| r.values.get("VendNum").cloned().flatten())
        .collect();
    let counted = (total(&cin7_calls(&world.cin7)), world.cin7.throttled());
    let arrival = arrivals(world.clock.now(), per_minute);
    let cadence = chrono::Duration::minutes(1);
    let mut next_run = world.clock.now() + cadence;
    let mut next = 0;
    let mut stall = Stall::default();
    while next < changes || waiting(&pending) > 0 {
        stall.begin(next, waiting(&pending));
        let now = world.clock.now();
        let horizon = match mode {
            // A single worker takes what has arrived; idle, it waits for the next change.
            Mode::Push => {
                if waiting(&pending) == 0 && next < changes && arrival(next) > now {
                    manual.set(arrival(next));
                }
                world.clock.now()
            }
            Mode::Poll => next_run,
        };
        while next < changes && arrival(next) <= horizon {
            let at = arrival(next);
            let vendor = &vendors[next % vendors.len()];
            let name = format!("Renamed {vendor} rev {next}");
            world.ion.data().update(
                "SLVendors",
                &[vendor.as_str()],
                &[("Name", Some(&name))],
                at,
            );
            if let Ok(mut p) = pending.lock() {
                p.entry(vendor.clone())
                    .or_default()
                    .push_back((at, Instant::now()));
            }
            if mode == Mode::Push {
                let status = push(port, vendor, &name, next as u64 + 2).await?;
                if status != 202 {
                    return Err(format!("the intake answered {status}").into());
                }
            }
            next += 1;
        }
        match mode {
            Mode::Push => {
                runner.run_triggers().await?;
            }
            Mode::Poll => {
                if next_run > world.clock.now() {
                    manual.set(next_run);
                }
                runner.run_once(None).await;
                next_run = world.clock.now() + cadence;
            }
        }
        stall.check(next, waiting(&pending))?;
    }
    Ok(measured(&world, &latencies, counted))
}

/// A progress callback completing every pending change of a supplier when a write of it
/// succeeds: latency = virtual time since its arrival + real time since it was admitted.
fn completions(
    world: &World,
    pending: Arc<Mutex<Pending>>,
    latencies: Arc<Mutex<Vec<f64>>>,
) -> ProgressFn {
    let clock = world.clock.clone();
    Arc::new(move |event: &ProgressEvent| {
        let ProgressEvent::Record {
            source,
            status: Some(AuditStatus::Succeeded),
            ..
        } = event
        else {
            return;
        };
        let now = clock.now();
        let done = match pending.lock() {
            Ok(mut p) => p.remove(&source.id).unwrap_or_default(),
            Err(_) => return,
        };
        if let Ok(mut l) = latencies.lock() {
            for (arrived, admitted) in done {
                let virtual_part = (now - arrived).num_milliseconds().max(0) as f64 / 1000.0;
                l.push(virtual_part + admitted.elapsed().as_secs_f64());
            }
        }
    })
}

/// POST one `SyncSupplierPartyMaster` to the intake as an IMS v3 multipart message.
async fn push(
    port: u16,
    vendor: &str,
    name: &str,
    variation: u64,
) -> Result<u16, Box<dyn std::error::Error>> {
    let bod = format!(
        r#"<SyncSupplierPartyMaster xmlns="http://schema.infor.com/InforOAGIS/2"><ApplicationArea><CreationDateTime>2026-12-07T10:00:00Z</CreationDateTime></ApplicationArea><DataArea><Sync/><SupplierPartyMaster><PartyIDs><ID accountingEntity="MAIN" variationID="{variation}">{vendor}</ID></PartyIDs><Name>{name}</Name></SupplierPartyMaster></DataArea></SyncSupplierPartyMaster>"#
    );
    let parameters = format!(
        r#"{{"documentName":"SyncSupplierPartyMaster","encoding":"NONE","documentId":"{vendor}","variationId":{variation}}}"#
    );
    let boundary = "benchlatencyboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"ParameterRequest\"\r\nContent-Type: application/json\r\n\r\n{parameters}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"MessagePayload\"\r\nContent-Type: application/xml\r\n\r\n{bod}\r\n--{boundary}--\r\n"
    );
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let head = format!(
        "POST /ion/service/v3/multipartMessage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0))
}

/// A receipt made in Cin7 → its webhook → the receipt written to the CloudSuite PO.
async fn webhook_scenario(
    args: &LatencyArgs,
    per_minute: f64,
    changes: usize,
) -> Result<Measured, Box<dyn std::error::Error>> {
    use cin7_core_client::sync::triggers::{PURCHASE_WEBHOOKS, ensure_subscribed};
    use cin7_core_client::sync::webhook_server::{WebhookIntake, intake_router};
    use cin7_core_client::webhook::{AuthorizationType, DeliveryAuth, Webhook, WebhookReceiver};
    use sync_core::target::{Approach, DocStatus};

    let world = world(
        &SyncArgs {
            suppliers: 20,
            pos: changes,
            lines: 1,
            invoices: 0,
            limit: args.limit,
            real_clock: false,
            small_factor: 1,
            returns: true,
        },
        21,
    )
    .await?;
    let manual = world
        .manual
        .clone()
        .ok_or("the latency bench runs on the virtual clock")?;
    let pending: Arc<Mutex<Pending>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    // Stock first, orders authorised: a warehouse can receive any purchase at once.
    let mut policy = mappings(true);
    policy.purchases.approach = Approach::Stock;
    policy.purchases.order_status = DocStatus::Authorised;
    let sync = assemble(Parts {
        tenant: TENANT.to_owned(),
        source: CloudSuiteSource::csi(world.ion_client.csi(world.ion.mongoose_config()), "MAIN")
            .default_currency("USD"),
        target: Arc::new(cin7_core_client::sync::Cin7Target::new(
            world.cin7_client.clone(),
        )),
        streams: vec![
            Stream::Suppliers,
            Stream::PurchaseOrders,
            Stream::PurchaseReturns,
        ],
        returns: Some(examples::demo::return_parts(
            &world.ion_client,
            &world.ion,
            &world.cin7_client,
        )),
        store: world.store.clone(),
        clock: world.clock.clone(),
        mappings: policy,
        engine: EngineConfig {
            safety_lag: chrono::Duration::seconds(1),
            ..EngineConfig::default()
        },
        progress: Some(completions(&world, pending.clone(), latencies.clone())),
    })?;
    // The forward sync puts the POs into Cin7 (not measured).
    let first = sync.runner.run_once(None).await;
    if !first.is_ok() {
        return Err(format!("the first run failed: {first:?}").into());
    }
    let token = "bench-webhook-token-0123456789";
    let intake = WebhookIntake::new(
        WebhookReceiver::new(DeliveryAuth::Bearer(token.into())),
        world.store.clone(),
        TENANT,
        "cin7-sim",
        world.clock.clone(),
        sync.wake(),
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let app = intake_router(Arc::new(intake));
    tokio::spawn(async move { axum::serve(listener, app).await });
    for kind in PURCHASE_WEBHOOKS {
        let hook = Webhook {
            webhook_type: Some(kind),
            is_active: Some(true),
            external_url: url.clone(),
            external_authorization_type: Some(AuthorizationType::BearerAuth),
            external_bearer_token: Some(token.into()),
            ..Webhook::default()
        };
        ensure_subscribed(&world.cin7_client, &hook).await?;
    }
    // Every purchase that came from a CloudSuite PO, with its first line.
    let purchases: Vec<(String, String, serde_json::Value)> = world
        .cin7
        .state()
        .purchases
        .iter()
        .filter_map(|p| {
            let line = p.order.as_ref()?.lines.first()?;
            let quantity = serde_json::to_value(line.quantity?).ok()?;
            Some((p.id.as_ref()?.to_string(), line.sku.clone()?, quantity))
        })
        .take(changes)
        .collect();
    if purchases.is_empty() {
        return Err("no purchase to receive".into());
    }
    let counted = (total(&cin7_calls(&world.cin7)), world.cin7.throttled());
    let arrival = arrivals(world.clock.now(), per_minute);
    let mut next = 0;
    let mut stall = Stall::default();
    while next < purchases.len() || waiting(&pending) > 0 {
        stall.begin(next, waiting(&pending));
        if waiting(&pending) == 0 && next < purchases.len() && arrival(next) > world.clock.now() {
            manual.set(arrival(next));
        }
        while next < purchases.len() && arrival(next) <= world.clock.now() {
            let (purchase, sku, quantity) = &purchases[next];
            let delivered = world.cin7.state().deliveries.len();
            if let Ok(mut p) = pending.lock() {
                p.entry(purchase.clone())
                    .or_default()
                    .push_back((arrival(next), Instant::now()));
            }
            let stock = serde_json::from_value(serde_json::json!({
                "PurchaseID": purchase,
                "Status": "AUTHORISED",
                "Lines": [{
                    "Date": world.clock.now().date_naive().to_string(),
                    "SKU": sku,
                    "Quantity": quantity,
                }],
            }))?;
            // The warehouse's receipt goes through the account's budget like the sync's calls.
            world.cin7_client.purchases().receive_stock(&stock).await?;
            world
                .cin7
                .wait_for_deliveries(delivered + 1, std::time::Duration::from_secs(10))
                .await
                .ok_or("Cin7 delivered no webhook for the receipt")?;
            next += 1;
        }
        sync.runner.run_triggers().await?;
        stall.check(next, waiting(&pending))?;
    }
    Ok(measured(&world, &latencies, counted))
}

/// Changes waiting for their write.
fn waiting(pending: &Mutex<Pending>) -> usize {
    pending
        .lock()
        .map(|p| p.values().map(VecDeque::len).sum::<usize>())
        .unwrap_or(0)
}

/// When change `i` arrives: evenly, `per_minute` a minute, from a second after `now`.
fn arrivals(now: DateTime<Utc>, per_minute: f64) -> impl Fn(usize) -> DateTime<Utc> {
    let interval = chrono::Duration::milliseconds((60_000.0 / per_minute) as i64);
    let start = now + chrono::Duration::seconds(1);
    move |i| start + interval * i as i32
}

/// What the scenario measured since `start` (Cin7's calls and throttles then).
fn measured(world: &World, latencies: &Mutex<Vec<f64>>, start: (u64, u64)) -> Measured {
    Measured {
        latencies: latencies.lock().map(|l| l.clone()).unwrap_or_default(),
        cin7_calls: total(&cin7_calls(&world.cin7)) - start.0,
        throttled: world.cin7.throttled() - start.1,
    }
}

/// Stops a scenario whose changes are never written (a fault in the setup) instead of
/// spinning forever: more than 100 rounds in a row with changes waiting and nothing moving.
#[derive(Default)]
struct Stall {
    rounds: usize,
    before: (usize, usize),
}

impl Stall {
    fn begin(&mut self, admitted: usize, waiting: usize) {
        self.before = (admitted, waiting);
    }

    fn check(&mut self, admitted: usize, waiting: usize) -> Result<(), String> {
        self.rounds = if waiting > 0 && (admitted, waiting) == self.before {
            self.rounds + 1
        } else {
            0
        };
        if self.rounds > 100 {
            return Err(format!("{waiting} change(s) never reached the other side"));
        }
        Ok(())
    }
}
