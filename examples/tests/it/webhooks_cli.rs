//! The `webhooks` binary against both simulators: registering, listing and removing Cin7
//! webhooks, and the intake: it refuses unauthenticated or malformed deliveries, queues the
//! simulator's real deliveries once, and the purchase they name reaches CloudSuite without
//! waiting for a scheduled run.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use cin7_core_client::simulator::DEFAULT_APPLICATION_KEY;
use cin7_core_client::webhook::AuthorizationType;
use common::{KEY_ENV, Running, dead_port, start, text};

const TOKEN: &str = "webhook-token-0123456789";

fn webhooks(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_webhooks"))
        .args(args)
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env("WEBHOOK_TOKEN", TOKEN)
        .env_remove("SYNC_CONFIG")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_list_and_remove() {
    let sims = start(71, 4).await;
    let config = sims.config(71, "", "");
    let config = config.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking({
        let config = config.clone();
        move || {
            webhooks(&[
                "--config",
                &config,
                "register",
                "--url",
                "https://sync.example.com/cin7",
                "--events",
                "Purchase/Updated,Supplier/Updated",
            ])
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let hooks = sims.cin7.state().webhooks;
    assert_eq!(hooks.len(), 2);
    assert!(
        hooks
            .iter()
            .all(|h| h.external_url == "https://sync.example.com/cin7")
    );
    assert!(
        hooks
            .iter()
            .all(|h| h.external_authorization_type == Some(AuthorizationType::BearerAuth))
    );

    // Again: nothing created twice; a plain-http URL off loopback is refused.
    for (url, code, says) in [
        ("https://sync.example.com/cin7", 0, "already registered"),
        ("http://sync.example.com/cin7", 2, "is not https"),
    ] {
        let again = tokio::task::spawn_blocking({
            let config = config.clone();
            move || {
                webhooks(&[
                    "--config",
                    &config,
                    "register",
                    "--url",
                    url,
                    "--events",
                    "Purchase/Updated,Supplier/Updated",
                ])
            }
        })
        .await
        .unwrap();
        assert_eq!(again.status.code(), Some(code), "{}", text(&again));
        assert!(text(&again).contains(says), "{}", text(&again));
    }
    assert_eq!(sims.cin7.state().webhooks.len(), 2);

    let listed = tokio::task::spawn_blocking({
        let config = config.clone();
        move || webhooks(&["--config", &config, "list"])
    })
    .await
    .unwrap();
    let listing = text(&listed);
    assert!(
        listing.contains("Purchase/Updated") && listing.contains("Supplier/Updated"),
        "{listing}"
    );
    assert!(!listing.contains(TOKEN), "the token was printed: {listing}");

    let id = hooks[0].id.clone().unwrap().to_string();
    let removed = tokio::task::spawn_blocking({
        let config = config.clone();
        move || webhooks(&["--config", &config, "remove", &id])
    })
    .await
    .unwrap();
    assert!(removed.status.success(), "{}", text(&removed));
    assert_eq!(sims.cin7.state().webhooks.len(), 1);

    let bad = tokio::task::spawn_blocking(move || {
        webhooks(&[
            "--config",
            &config,
            "register",
            "--url",
            "https://x",
            "--events",
            "Purchase/Exploded",
        ])
    })
    .await
    .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("`Purchase/Exploded` is not a Cin7 webhook event type"));
}

/// POST a delivery to the receiver with raw HTTP; the status code of the answer.
fn post(port: u16, auth: Option<&str>, body: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "POST /cin7 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// As a warehouse would: receive in Cin7, in full, the first line of a purchase that came from
/// a CloudSuite PO (invoice first, so one with an authorised invoice). Returns the CloudSuite
/// PO, its line and the quantity, once the simulator has delivered the webhook.
async fn receive_in_cin7(sims: &common::Sims) -> (String, String, String) {
    let deliveries = sims.cin7.state().deliveries.len();
    let receipt = examples::demo::full_receipt(
        &sims.cin7.state().purchases,
        chrono::Utc::now().date_naive(),
    )
    .expect("a purchase from a CloudSuite PO with an authorised invoice");
    let client = sims.cin7.client_builder().build().unwrap();
    client
        .purchases()
        .receive_stock(&receipt.stock)
        .await
        .unwrap();
    let (po, sku, quantity) = (receipt.po_number, receipt.sku, receipt.quantity);
    sims.cin7
        .wait_for_deliveries(deliveries + 1, Duration::from_secs(10))
        .await;
    let delivered = sims.cin7.state().deliveries;
    assert!(
        delivered[deliveries..].iter().any(|d| d.outcome == Ok(202)),
        "{delivered:?}"
    );
    let line = sims
        .ion
        .data()
        .rows("SLPoItems")
        .iter()
        .find(|r| {
            r.values["PoNum"].as_deref() == Some(po.as_str())
                && r.values["Item"].as_deref() == Some(sku.as_str())
        })
        .map(|r| r.values["PoLine"].clone().unwrap())
        .unwrap();
    (po, line, quantity)
}

/// `SLPoItems.QtyReceived` of the line once it is `wanted` (bounded wait), or as it is then.
async fn wait_for_receipt(sims: &common::Sims, po: &str, line: &str, wanted: &str) -> String {
    let mut received = String::new();
    for _ in 0..2000 {
        received = sims
            .ion
            .data()
            .find("SLPoItems", &[po, line, "0"])
            .and_then(|r| r.values["QtyReceived"].clone())
            .unwrap_or_default();
        if received == wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    received
}

/// The return direction and the intake, on a port picked by the test.
fn returns_and_webhooks(port: u16) -> String {
    format!(
        r#"
[returns]
write = "ido"
cin7_account_name = "cin7-sim"
[returns.locations]
"Main Warehouse" = "MAIN"
[webhooks]
listen = "127.0.0.1:{port}"
token_env = "WEBHOOK_TOKEN"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_delivery_brings_a_cin7_receipt_back_to_cloudsuite_at_once() {
    let sims = start(72, 6).await;
    let port = dead_port();
    let config = sims.config(72, "", &returns_and_webhooks(port));
    let config = config.to_str().unwrap().to_owned();

    // The forward sync puts the CloudSuite POs into Cin7; the webhooks point at the intake.
    let sync = Command::new(env!("CARGO_BIN_EXE_sync"))
        .args(["--config", &config, "--once"])
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env("WEBHOOK_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(sync.status.success(), "{}", text(&sync));
    let url = format!("http://127.0.0.1:{port}/cin7");
    let registered = tokio::task::spawn_blocking({
        let config = config.clone();
        move || webhooks(&["--config", &config, "register", "--url", &url])
    })
    .await
    .unwrap();
    assert!(registered.status.success(), "{}", text(&registered));
    assert_eq!(sims.cin7.state().webhooks.len(), 4, "the purchase events");

    let child = Command::new(env!("CARGO_BIN_EXE_webhooks"))
        .args(["--config", &config, "serve"])
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env("WEBHOOK_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let event =
        include_str!("../../../cin7-core-client/tests/fixtures/webhook/purchase_updated.json");
    let codes = tokio::task::spawn_blocking(move || {
        // Wait for the listener (bounded).
        for _ in 0..400 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        (
            post(port, None, event),
            post(port, Some("Bearer wrong-token"), event),
            post(port, Some(&format!("Bearer {TOKEN}")), "not json"),
        )
    })
    .await
    .unwrap();
    // An authenticated delivery that cannot be read is still answered 202 (kept for inspection),
    // so Cin7 never deactivates the subscription over it.
    assert_eq!(codes, (401, 401, 202));

    // A warehouse receives stock in Cin7 on a purchase that came from a CloudSuite PO; the
    // simulator delivers Purchase/StockReceivedAuthorised to the intake, and CloudSuite's PO
    // line shows the receipt without a scheduled run.
    let (po, line, wanted) = receive_in_cin7(&sims).await;
    let received = wait_for_receipt(&sims, &po, &line, &wanted).await;
    assert_eq!(received, wanted, "PO {po} line {line}");
    // Ctrl-C: the batch in hand finishes and is reported, then the intake stops.
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("1 purchase(s) synced back"), "{printed}");
    assert!(!printed.contains(TOKEN) && !printed.contains(DEFAULT_APPLICATION_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_runner_handles_a_delivery_between_runs() {
    let sims = start(73, 6).await;
    let port = dead_port();
    // An hourly schedule: only a webhook can bring the receipt back within the test.
    let schedule = format!(
        "{}\n[schedule]\ncadence = \"interval\"\nevery = \"1h\"\n",
        returns_and_webhooks(port)
    );
    let config = sims.config(73, "", &schedule);
    let config = config.to_str().unwrap().to_owned();
    let url = format!("http://127.0.0.1:{port}/cin7");
    let registered = tokio::task::spawn_blocking({
        let config = config.clone();
        move || webhooks(&["--config", &config, "register", "--url", &url])
    })
    .await
    .unwrap();
    assert!(registered.status.success(), "{}", text(&registered));

    let mut sync = Running::start(std::path::Path::new(&config), &[("WEBHOOK_TOKEN", TOKEN)]);
    // Wait for the first scheduled run to finish (its summary, then the wait for the next).
    assert!(
        sync.wait_for(|l| l.starts_with("waiting for the next run")),
        "{:?}",
        sync.printed
    );
    assert!(
        sync.printed
            .iter()
            .any(|l| l.contains("webhook intake listening")),
        "{:?}",
        sync.printed
    );

    let (po, line, wanted) = receive_in_cin7(&sims).await;
    let received = wait_for_receipt(&sims, &po, &line, &wanted).await;
    assert_eq!(received, wanted, "PO {po} line {line}");

    let (status, printed) = sync.interrupt();
    assert!(status.success(), "{printed}");
    assert!(
        printed.contains("queued triggers (webhooks, ION pushes): 1 handled, 1 record(s) synced"),
        "{printed}"
    );
    assert!(
        printed.contains("stopped after 1 run(s)"),
        "no second scheduled run was needed: {printed}"
    );
}
