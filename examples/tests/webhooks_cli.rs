//! The `webhooks` binary against both simulators: registering, listing and removing Cin7
//! webhooks, and a receiver that refuses unauthenticated or malformed deliveries and turns a
//! valid one into a sync run.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use cin7_core_client::simulator::DEFAULT_APPLICATION_KEY;
use cin7_core_client::webhook::AuthorizationType;
use common::{KEY_ENV, start};

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

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_authenticates_and_triggers_a_sync() {
    let sims = start(72, 6).await;
    let config = sims.config(72, "", "");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_webhooks"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--max-runs",
            "1",
        ])
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env("WEBHOOK_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let supplier_event =
        include_str!("../../cin7-core-client/tests/fixtures/webhook/supplier_updated.json");
    let codes = tokio::task::spawn_blocking(move || {
        // Wait for the listener (bounded).
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        (
            post(port, None, supplier_event),
            post(port, Some("Bearer wrong-token"), supplier_event),
            post(port, Some(&format!("Bearer {TOKEN}")), "not json"),
            post(port, Some(&format!("Bearer {TOKEN}")), supplier_event),
        )
    })
    .await
    .unwrap();
    assert_eq!(codes, (401, 401, 400, 200));
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("finished: "), "{printed}");
    assert!(!printed.contains(TOKEN) && !printed.contains(DEFAULT_APPLICATION_KEY));
    // The triggered run synced CloudSuite into Cin7.
    assert_eq!(sims.suppliers_by_vendor().len(), 6);
}
