//! Hostile servers and bodies on the ION request path and the IDO decoder (docs/reliability.md):
//! each gives a bounded, clear error within bounded memory and time. The server is a raw
//! `127.0.0.1` listener that serves a real token and then misbehaves on the API call: endless
//! chunked bodies, a slow-loris trickle, JSON nested 100,000 deep, huge numbers, wrong types,
//! duplicated keys.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use infor_ion_client::{Error, IonClient};
use sync_core::retry::RetryPolicy;
use sync_core::time::ManualClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone)]
enum Behaviour {
    Json(String),
    EndlessChunks,
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
                let respond = |body: String| {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                if head.starts_with(b"POST") {
                    // The token endpoint (the form body may still be in flight; it is not read).
                    let _ = socket
                        .write_all(respond(token_body("hostile-token", 3600, None)).as_bytes())
                        .await;
                    return;
                }
                match behaviour {
                    Behaviour::Json(body) => {
                        let _ = socket.write_all(respond(body).as_bytes()).await;
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
    format!("http://{addr}")
}

fn client(url: &str, timeout: Duration) -> IonClient {
    IonClient::builder(ionapi(url))
        .clock(ManualClock::default().shared())
        .retry_policy(RetryPolicy::default().with_max_retries(0))
        .timeout(timeout)
        .max_response_bytes(256 * 1024)
        .build()
        .unwrap()
}

/// Load one IDO page from a hostile server; the error and how long it took.
async fn load_error(behaviour: Behaviour, timeout: Duration) -> (Error, Duration) {
    let url = serve(behaviour).await;
    let client = client(&url, timeout);
    let started = Instant::now();
    let error = client
        .csi("ACME_TST_DALS")
        .load("SLVendors")
        .page(None)
        .await
        .unwrap_err();
    (error, started.elapsed())
}

#[tokio::test]
async fn an_endless_chunked_body_stops_at_the_cap() {
    let (error, elapsed) = load_error(Behaviour::EndlessChunks, Duration::from_secs(5)).await;
    assert!(
        matches!(error, Error::ResponseTooLarge { limit, .. } if limit == 256 * 1024),
        "{error:?}"
    );
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}

#[tokio::test]
async fn a_slow_loris_server_hits_the_timeout() {
    let (error, elapsed) = load_error(Behaviour::Trickle, Duration::from_millis(200)).await;
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(elapsed < Duration::from_millis(600), "{elapsed:?}");
}

#[tokio::test]
async fn deeply_nested_json_is_a_decode_error_not_a_stack_overflow() {
    let body = format!(
        r#"{{"Success":true,"Items":[{}{}]}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (error, elapsed) = load_error(Behaviour::Json(body), Duration::from_secs(2)).await;
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert!(error.to_string().contains("recursion limit"), "{error}");
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}

#[tokio::test]
async fn wrong_types_and_huge_numbers_are_decode_errors_naming_the_path() {
    let body = r#"{"Success":true,"Items":"oops"}"#.to_owned();
    let (error, _) = load_error(Behaviour::Json(body), Duration::from_secs(2)).await;
    let Error::Decode { at, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(at.contains("Items"), "{at}");

    // A number no JSON reader keeps (1e400) where the page's rows belong.
    let body = format!(r#"{{"Success":true,"Items":1{}}}"#, "0".repeat(400));
    let (error, elapsed) = load_error(Behaviour::Json(body), Duration::from_secs(2)).await;
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}

#[tokio::test]
async fn duplicated_keys_are_a_decode_error_naming_the_key() {
    // `Success: true` then `Success: false`: neither reading can be trusted, so the page is
    // refused with the key and its place, at the top and inside a row.
    for (body, at, key) in [
        (
            r#"{"Success":true,"Success":false,"Items":[]}"#,
            ".",
            "Success",
        ),
        (
            r#"{"Success":true,"Items":[{"VendNum":"V1","VendNum":"V2"}]}"#,
            "Items[0]",
            "VendNum",
        ),
    ] {
        let (error, elapsed) =
            load_error(Behaviour::Json(body.to_owned()), Duration::from_secs(2)).await;
        let Error::Decode {
            at: found, message, ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(found, at);
        assert!(
            message.starts_with(&format!("duplicate key `{key}`")),
            "{message}"
        );
        assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
    }
}
