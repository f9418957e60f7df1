//! Hostile servers and bodies (docs/reliability.md): each gives a bounded, clear error within
//! bounded memory and time. The servers are raw `127.0.0.1` listeners, so they can misbehave
//! in ways an HTTP mock cannot: endless chunked bodies, a declared length over the cap, a
//! slow-loris trickle.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use cin7_core_client::{Cin7Client, Error};
use secrecy::SecretString;
use sync_core::retry::RetryPolicy;
use sync_core::time::ManualClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the hostile server does after reading the request head.
#[derive(Clone)]
enum Behaviour {
    /// Send this whole response, then close.
    Respond(Vec<u8>),
    /// Send chunked-encoding headers, then 64 KiB chunks forever.
    EndlessChunks,
    /// Send a status line, then one header byte every 20 ms forever.
    Trickle,
}

async fn serve(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let behaviour = behaviour.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                match behaviour {
                    Behaviour::Respond(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                    }
                    Behaviour::EndlessChunks => {
                        let _ = socket
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                            .await;
                        let chunk = format!("10000\r\n{}\r\n", "[".repeat(0x10000));
                        while socket.write_all(chunk.as_bytes()).await.is_ok() {}
                    }
                    Behaviour::Trickle => {
                        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\n").await;
                        loop {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            if socket.write_all(b"X").await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}/ExternalApi/v2/")
}

fn client(base: &str, timeout: Duration) -> Cin7Client {
    Cin7Client::builder()
        .account_id(SecretString::from("5a1e0c7e-0000-4000-8000-00000000a001"))
        .application_key(SecretString::from("hostile-test-key"))
        .base_url(base)
        .clock(ManualClock::default().shared())
        .timeout(timeout)
        .retry_policy(RetryPolicy::default().with_max_retries(0))
        .max_response_bytes(256 * 1024)
        .build()
        .unwrap()
}

fn json_response(body: &str) -> Behaviour {
    Behaviour::Respond(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

async fn list_error(behaviour: Behaviour, timeout: Duration) -> (Error, Duration) {
    let base = serve(behaviour).await;
    let client = client(&base, timeout);
    let started = Instant::now();
    let error = client.suppliers().list().send().await.unwrap_err();
    (error, started.elapsed())
}

#[tokio::test]
async fn an_endless_chunked_body_stops_at_the_cap() {
    let (error, elapsed) = list_error(Behaviour::EndlessChunks, Duration::from_secs(5)).await;
    assert!(
        matches!(error, Error::ResponseTooLarge { limit, .. } if limit == 256 * 1024),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(
        error.to_string().contains("larger than 262144 bytes"),
        "{error}"
    );
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let behaviour = Behaviour::Respond(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{"
            .to_vec(),
    );
    let (error, elapsed) = list_error(behaviour, Duration::from_secs(5)).await;
    assert!(matches!(error, Error::ResponseTooLarge { .. }), "{error:?}");
    assert!(elapsed < Duration::from_millis(300), "{elapsed:?}");
}

#[tokio::test]
async fn a_slow_loris_server_hits_the_timeout() {
    let (error, elapsed) = list_error(Behaviour::Trickle, Duration::from_millis(200)).await;
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(error.is_retryable(), "a timeout may be retried: {error}");
    assert!(elapsed < Duration::from_millis(600), "{elapsed:?}");
}

#[tokio::test]
async fn deeply_nested_json_is_a_decode_error_not_a_stack_overflow() {
    let body = format!(
        "{{\"Total\":1,\"Page\":1,\"SupplierList\":[{}{}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (error, elapsed) = list_error(json_response(&body), Duration::from_secs(2)).await;
    assert!(
        matches!(error, Error::Decode { .. } | Error::UnexpectedBody { .. }),
        "{error:?}"
    );
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}

#[tokio::test]
async fn wrong_types_name_the_json_path() {
    let body = r#"{"Total":1,"Page":1,"SupplierList":[{"ID":"807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11","Name":"A","Discount":"lots"}]}"#;
    let (error, _) = list_error(json_response(body), Duration::from_secs(2)).await;
    let Error::Decode { path, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(path.contains("SupplierList[0].Discount"), "{path}");
}

#[tokio::test]
async fn huge_numbers_are_refused_with_a_clear_error() {
    // Out of range for a decimal: the field is named.
    let body = format!(
        r#"{{"Total":1,"Page":1,"SupplierList":[{{"ID":"807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11","Name":"A","Discount":1{}}}]}}"#,
        "0".repeat(40)
    );
    let (error, _) = list_error(json_response(&body), Duration::from_secs(2)).await;
    let Error::Decode { path, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(path.contains("Discount"), "{path}");
    // Out of range for any JSON number serde_json keeps (1e400): not JSON at all, refused
    // before decoding, with the start of the body.
    let body = format!(
        r#"{{"Total":1{},"Page":1,"SupplierList":[]}}"#,
        "0".repeat(400)
    );
    let (error, _) = list_error(json_response(&body), Duration::from_secs(2)).await;
    assert!(
        matches!(error, Error::UnexpectedBody { status: 200, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn duplicated_keys_are_a_decode_error_naming_the_key() {
    // `{"Total":1,"Total":2}` has no right reading; the error says where the second key is.
    let (error, took) = list_error(
        json_response(r#"{"Total":1,"Total":2,"Page":1,"SupplierList":[]}"#),
        Duration::from_secs(2),
    )
    .await;
    let Error::Decode { path, source, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(path, ".");
    assert_eq!(
        source.to_string(),
        "duplicate key `Total` at line 1 column 20"
    );
    assert!(took < Duration::from_millis(500), "{took:?}");
}
