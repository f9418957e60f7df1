//! The `sync` binary with an `[ion_push]` section: a supplier renamed in CloudSuite reaches
//! Cin7 as soon as ION pushes its `SyncSupplierPartyMaster` BOD, without waiting for the next
//! scheduled run; a stranger's push is refused and changes nothing.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Running, dead_port, start};
use futures::TryStreamExt;

const SECRET: &str = "Basic aW9uOnB1c2gtc2VjcmV0LTAxMjM0NQ==";

/// POST an IMS v3 multipart message (as ION's Messaging Service sends one) and return the
/// status code.
fn push(port: u16, auth: &str, document_id: &str, bod: &[u8]) -> u16 {
    let boundary = "ionpushboundary7MA4YWxkTrZu0gW";
    let parameters = serde_json::json!({
        "documentName": "SyncSupplierPartyMaster",
        "fromLogicalId": "lid://infor.syteline.main",
        "toLogicalId": "lid://infor.ims.cin7sync",
        "encoding": "NONE",
        "characterSet": "UTF-8",
        "documentId": document_id,
    })
    .to_string();
    let mut body = Vec::new();
    for (name, file, kind, content) in [
        (
            "ParameterRequest",
            "ParameterRequest.json",
            "application/json",
            parameters.as_bytes(),
        ),
        (
            "MessagePayload",
            "MessagePayload.xml",
            "application/octet-stream",
            bod,
        ),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: {kind}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /ion/service/v3/multipartMessage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_rename_reaches_cin7_before_the_next_scheduled_run() {
    let sims = start(95, 4).await;
    let port = dead_port();
    let schedule = format!(
        "[schedule]\ncadence = \"interval\"\nevery = \"1h\"\n[ion_push]\nlisten = \"127.0.0.1:{port}\"\nsecret_env = \"ION_PUSH_SECRET\"\n"
    );
    let config = sims.config(95, "", &schedule);
    let mut sync = Running::start(&config, &[("ION_PUSH_SECRET", SECRET)]);
    // The first scheduled run puts every supplier into Cin7, then the runner waits an hour.
    assert!(
        sync.wait_for(|l| l.starts_with("waiting for the next run")),
        "{:?}",
        sync.printed
    );
    let printed = &sync.printed;
    assert!(
        printed
            .iter()
            .any(|l| l.contains("ION push intake listening")),
        "{printed:?}"
    );
    assert_eq!(sims.suppliers_by_vendor().len(), 4, "{printed:?}");

    // Renamed in CloudSuite; ION publishes the new variation and pushes it.
    let vendor = sims.ion.data().rows("SLVendors")[0].values["VendNum"]
        .clone()
        .unwrap();
    let now = sims.ion.now();
    assert!(sims.ion.data().update(
        "SLVendors",
        &[vendor.as_str()],
        &[("Name", Some("Pushed Rename Ltd"))],
        now
    ));
    let lake = sims
        .ion
        .client_builder()
        .unwrap()
        .build()
        .unwrap()
        .data_lake();
    let refs: Vec<_> = lake
        .list("SyncSupplierPartyMaster", None, 100)
        .try_collect()
        .await
        .unwrap();
    let mut bod = None;
    for r in refs.iter().rev() {
        let payload = lake.fetch(&r.dl_id).await.unwrap();
        if String::from_utf8_lossy(&payload).contains("Pushed Rename Ltd") {
            bod = Some(payload);
            break;
        }
    }
    let bod = bod.expect("the renamed supplier's BOD is published");

    // A stranger is refused and changes nothing.
    let refused = tokio::task::spawn_blocking({
        let (bod, vendor) = (bod.clone(), vendor.clone());
        move || push(port, "Basic d3Jvbmc6d3Jvbmc=", &vendor, &bod)
    })
    .await
    .unwrap();
    assert_eq!(refused, 401);

    let pushed_at = Instant::now();
    let status = tokio::task::spawn_blocking({
        let vendor = vendor.clone();
        move || push(port, SECRET, &vendor, &bod)
    })
    .await
    .unwrap();
    assert_eq!(status, 202);
    let renamed = |sims: &common::Sims| {
        sims.cin7
            .state()
            .suppliers
            .iter()
            .any(|s| s.name == "Pushed Rename Ltd")
    };
    for _ in 0..2000 {
        if renamed(&sims) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(renamed(&sims), "the push reached Cin7");
    eprintln!("push to Cin7: {:?}", pushed_at.elapsed());

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
    assert_eq!(
        sims.suppliers_by_vendor()[&vendor],
        1,
        "renamed, not duplicated"
    );
}

/// The intake serves TLS itself from PEM files and takes a renewed certificate on `SIGHUP`
/// without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intake_serves_tls_and_reloads_its_certificate_on_sighup() {
    let sims = start(96, 2).await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let tls_dir = sims.dir.path().join("tls");
    std::fs::create_dir_all(&tls_dir).unwrap();
    let install = |pair: &str| {
        for (from, to) in [("cert", "cert.pem"), ("key", "key.pem")] {
            std::fs::copy(
                fixtures.join(format!("{from}-{pair}.pem")),
                tls_dir.join(to),
            )
            .unwrap();
        }
    };
    install("a");
    let port = dead_port();
    let schedule = format!(
        "[schedule]\ncadence = \"interval\"\nevery = \"1h\"\n[ion_push]\nlisten = \"127.0.0.1:{port}\"\nsecret_env = \"ION_PUSH_SECRET\"\ntls_cert = \"tls/cert.pem\"\ntls_key = \"tls/key.pem\"\n"
    );
    let config = sims.config(96, "", &schedule);
    let mut sync = Running::start(&config, &[("ION_PUSH_SECRET", SECRET)]);
    assert!(
        sync.wait_for(|l| l.contains("ION push intake listening")),
        "{:?}",
        sync.printed
    );
    let listening = sync.printed.join("\n");
    assert!(listening.contains("(https://"), "{listening}");

    let trusting = |pair: &str| {
        let pem = std::fs::read(fixtures.join(format!("cert-{pair}.pem"))).unwrap();
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap()
    };
    let ping = |client: reqwest::Client| async move {
        client
            .get(format!("https://127.0.0.1:{port}/ion/service/ping"))
            .header("Authorization", SECRET)
            .send()
            .await
            .map(|r| r.status().as_u16())
    };
    assert_eq!(ping(trusting("a")).await.unwrap(), 200);
    assert!(
        ping(trusting("b")).await.is_err(),
        "a client trusting another certificate is refused"
    );
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/ion/service/ping"))
        .header("Authorization", SECRET)
        .send()
        .await;
    assert!(plain.is_err(), "no plain HTTP on a TLS listener: {plain:?}");

    // A renewed certificate: installed, then SIGHUP.
    install("b");
    sync.signal("-HUP");
    let mut reloaded = false;
    for _ in 0..1000 {
        if ping(trusting("b")).await.ok() == Some(200) {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refused_old = ping(trusting("a")).await.is_err();
    let (status, printed) = sync.interrupt();
    assert!(
        reloaded,
        "the new certificate is served after SIGHUP: {printed}"
    );
    assert!(refused_old, "the old one is not");
    assert!(status.success(), "{printed}");
}
