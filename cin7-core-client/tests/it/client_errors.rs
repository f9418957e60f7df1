#![allow(clippy::unwrap_used)]
//! How the one request path turns Cin7's answers into values and errors.

use crate::common;

use cin7_core_client::{Error, Guid};
use common::*;
use mockito::{Matcher, Server};
use sync_core::retry::Delivery;
use sync_core::time::ManualClock;

fn supplier_id() -> Guid {
    "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11".parse().unwrap()
}

#[tokio::test]
async fn sends_auth_headers_and_json_accept() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let ok = with_auth(server.mock("GET", "/supplier"), &account)
        .match_header("accept", "application/json")
        .match_query(Matcher::Any)
        .with_body(fixture("supplier_list.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let page = client.suppliers().list().send().await.unwrap();
    assert_eq!(page.items.len(), 2);
    ok.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn error_object_with_400_carries_code_and_message() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(400)
        .with_body(fixture("error_object.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = client.suppliers().get(&supplier_id()).await.unwrap_err();
    let api = err.api().expect("an Api error");
    assert_eq!(api.status, 400);
    assert_eq!(api.error_code, Some(400));
    assert_eq!(
        api.message,
        "Required attribute ProductionBOMs is not provided."
    );
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("ProductionBOMs"));
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn error_array_is_read_from_its_first_element() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(400)
        .with_body(fixture("error_array.json"))
        .expect(1)
        .create();
    let err = client.suppliers().get(&supplier_id()).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        (api.error_code, api.message.as_str()),
        (Some(404), "Category not found.")
    );
    m.assert();
}

#[tokio::test]
async fn error_inside_http_200_is_an_error_not_retried() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(200)
        .with_body(fixture("error_array.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = client.suppliers().list().send().await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status, 200);
    assert_eq!(api.error_code, Some(404));
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn html_on_200_is_an_unexpected_body() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(200)
        .with_header("content-type", "text/html")
        .with_body(fixture("html_200.html"))
        // A GET is asked again for an HTML page, twice by default (tests/bad_answers.rs).
        .expect(1 + cin7_core_client::client::DEFAULT_MAX_BAD_ANSWER_RETRIES)
        .create();
    let err = client.suppliers().list().send().await.unwrap_err();
    match &err {
        Error::UnexpectedBody {
            status,
            content_type,
            snippet,
            ..
        } => {
            assert_eq!(*status, 200);
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert!(snippet.contains("Page not found"));
        }
        other => panic!("expected UnexpectedBody, got {other:?}"),
    }
    m.assert();
}

#[tokio::test]
async fn forbidden_is_an_auth_error_and_not_retried() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/ref/account")
        .match_query(Matcher::Any)
        .with_status(403)
        .with_body("Incorrect credentials!")
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = client.accounts().list().send().await.unwrap_err();
    match &err {
        Error::Auth {
            endpoint, message, ..
        } => {
            assert_eq!(endpoint, "ref/account");
            assert_eq!(message, "Incorrect credentials!");
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(403));
    assert!(clock.sleeps().is_empty(), "no backoff for a 403");
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let body = serde_json::json!({
        "Total": 2, "Page": 1,
        "SupplierList": [
            {"ID": "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11", "Name": "ok"},
            {"ID": "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e12", "Name": "bad", "Discount": "two percent"}
        ]
    });
    server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(body.to_string())
        .create();
    let err = client.suppliers().list().send().await.unwrap_err();
    match &err {
        Error::Decode { path, .. } => assert_eq!(path, "SupplierList[1].Discount"),
        other => panic!("expected Decode, got {other:?}"),
    }
    assert!(err.to_string().contains("SupplierList[1].Discount"));
}

#[tokio::test]
async fn server_errors_on_reads_are_retried_with_backoff() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let failing = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_status(500)
        .with_body("oops")
        .expect(2)
        .create();
    let ok = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(fixture("supplier_list.json"))
        .expect(1)
        .create();
    let page = client.suppliers().list().send().await.unwrap();
    assert_eq!(page.total, Some(2));
    failing.assert();
    ok.assert();
    // Exponential backoff without jitter: 1 s then 2 s, on the virtual clock.
    let backoff: Vec<u64> = clock
        .sleeps()
        .iter()
        .filter(|d| !d.is_zero())
        .map(|d| d.as_secs())
        .collect();
    assert_eq!(backoff, vec![1, 2]);
}

#[tokio::test]
async fn a_create_that_got_a_500_is_an_uncertain_write_and_not_resent() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("POST", "/supplier")
        .with_status(500)
        .with_body(r#"{"ErrorCode":500,"Exception":"Object reference not set"}"#)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let supplier = cin7_core_client::supplier::Supplier {
        name: "New".into(),
        ..Default::default()
    };
    let err = client.suppliers().create(&supplier).await.unwrap_err();
    assert!(matches!(err, Error::UncertainWrite { .. }), "{err:?}");
    assert_eq!(err.delivery(), Delivery::Unknown);
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(500));
    m.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_create_whose_connection_dies_after_sending_is_not_resent() {
    // A local listener that reads the request and hangs up without answering: the request
    // reached the "server", so the outcome of the create is unknown.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = vec![0u8; 16 * 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
            drop(socket);
        }
    });
    let clock = ManualClock::default();
    let client = cin7_core_client::Cin7Client::builder()
        .account_id(secrecy::SecretString::from(unique_account()))
        .application_key(secrecy::SecretString::from(APP_KEY))
        .base_url(format!("http://{addr}/"))
        .clock(clock.shared())
        .build()
        .unwrap();
    let header = cin7_core_client::purchase::PurchaseHeader {
        supplier: Some("Acme".into()),
        approach: Some(cin7_core_client::purchase::Approach::Invoice),
        location: Some("Main Warehouse".into()),
        ..Default::default()
    };
    let err = client.purchases().create(&header).await.unwrap_err();
    match &err {
        Error::UncertainWrite { source, .. } => {
            assert!(matches!(**source, Error::Transport { .. }), "{source:?}")
        }
        other => panic!("expected UncertainWrite, got {other:?}"),
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);

    // The same failure on a read is retried (4 retries by default).
    let err = client.suppliers().list().send().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1 + 5);
}

#[tokio::test]
async fn wrong_input_is_rejected_before_sending() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let rest = catch_all(&mut server);
    let with_id = cin7_core_client::supplier::Supplier {
        id: Some(supplier_id()),
        name: "x".into(),
        ..Default::default()
    };
    assert!(matches!(
        client.suppliers().create(&with_id).await,
        Err(Error::InvalidInput {
            field: "Supplier.ID",
            ..
        })
    ));
    let without_id = cin7_core_client::supplier::Supplier {
        name: "x".into(),
        ..Default::default()
    };
    assert!(matches!(
        client.suppliers().update(&without_id).await,
        Err(Error::InvalidInput { .. })
    ));
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_body_that_cannot_be_encoded_fails_at_send_and_sends_nothing() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let rest = catch_all(&mut server);
    // JSON object keys must be strings: the chain builds without `?`, `execute` reports it.
    let body = std::collections::HashMap::from([((1, 2), "x")]);
    let request = cin7_core_client::request::Cin7Request::post("supplier").json(&body);
    assert!(request.encode_error().is_some());
    let err = client.execute(request).await.unwrap_err();
    assert!(
        matches!(err, Error::Encode { ref endpoint, .. } if endpoint == "supplier"),
        "{err:?}"
    );
    assert_eq!(err.delivery(), Delivery::NotProcessed);
    assert_catch_all(&rest);
}
