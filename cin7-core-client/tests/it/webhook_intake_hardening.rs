#![cfg(feature = "webhook-server")]
#![allow(clippy::unwrap_used)]
//! The intake never gives Cin7 a reason to switch a subscription off, and costs a stranger
//! little: an authenticated delivery gets 202 once persisted, whatever its content (kept for
//! inspection, refetches queued from the ids it names), repeated events are queued once on
//! (event type, id) within a window, strangers get 401 before their body is read, an oversized
//! body 413, and an empty credential is refused when the intake is built.

use std::sync::Arc;

use cin7_core_client::sync::webhook_server::{IntakeLimits, WebhookIntake, intake_router};
use cin7_core_client::webhook::{DeliveryAuth, WebhookReceiver};
use secrecy::SecretString;
use sync_core::engine::returns::triggers::{delivery_stream, trigger_stream};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditEntry, AuditQuery, AuditStore};
use sync_core::time::ManualClock;
use tokio::sync::Notify;

const TOKEN: &str = "hook-s3cret-token";
const TASK: &str = "8b1538e4-5a4c-4b1a-9c42-6c3de21a5b10";

struct Intake {
    url: String,
    store: Arc<MemoryStore>,
    intake: Arc<WebhookIntake>,
    clock: ManualClock,
    http: reqwest::Client,
}

async fn intake(limits: IntakeLimits) -> Intake {
    let clock = ManualClock::default();
    let store = Arc::new(MemoryStore::new());
    let intake = Arc::new(
        WebhookIntake::new(
            WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from(TOKEN))),
            store.clone(),
            "ACME",
            "acct",
            clock.shared(),
            Arc::new(Notify::new()),
        )
        .unwrap()
        .with_limits(limits),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let router = intake_router(intake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Intake {
        url,
        store,
        intake,
        clock,
        http: reqwest::Client::new(),
    }
}

impl Intake {
    async fn post(&self, token: Option<&str>, body: impl Into<reqwest::Body>) -> u16 {
        let mut request = self.http.post(&self.url).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// `chunks` chunks of `size` spaces, chunked, with the right token; the answer's status.
    async fn post_chunked(&self, chunks: usize, size: usize) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
        for _ in 0..chunks {
            // The server may answer and stop reading before the end.
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let text = String::from_utf8_lossy(&answer);
        text.split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or(0)
    }

    /// Open a delivery with the right token that promises `length` bytes and sends none yet.
    async fn open_stalled(&self, length: usize) -> tokio::net::TcpStream {
        use tokio::io::AsyncWriteExt;
        let addr = self.url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream
    }

    async fn rows(&self, stream: sync_core::store::StreamId) -> Vec<AuditEntry> {
        self.store
            .query(&AuditQuery::tenant("ACME".to_owned()).stream(stream))
            .await
            .unwrap()
    }

    async fn queued_ids(&self) -> Vec<String> {
        self.rows(trigger_stream())
            .await
            .into_iter()
            .map(|e| e.source.id)
            .collect()
    }
}

#[tokio::test]
async fn unreadable_authenticated_deliveries_are_answered_202_kept_and_refetched() {
    let t = intake(IntakeLimits::default()).await;
    let cut_short =
        format!(r#"{{"EventType": "Purchase/OrderAuthorised", "TaskID": "{TASK}", "Purcha"#);
    let unknown_type = format!(
        r#"{{"EventType": "Purchase/SomethingNew", "TaskID": "{}"}}"#,
        "11111111-2222-4333-8444-555555555555"
    );
    let repeated_key = format!(
        r#"{{"EventType": "Purchase/InvoiceAuthorised", "TaskID": "x", "TaskID": "{}"}}"#,
        "22222222-2222-4333-8444-555555555555"
    );
    let odd_date = format!(
        r#"{{"EventType": "Purchase/InvoiceAuthorised", "TaskID": "{}", "InvoiceDate": "next Tuesday"}}"#,
        "33333333-2222-4333-8444-555555555555"
    );
    let sale = r#"{"EventType": "Sale/Mystery", "SaleID": "44444444-2222-4333-8444-555555555555"#;
    let garbage = "\u{0}\u{1}not json at all";
    for body in [
        &cut_short,
        &unknown_type,
        &repeated_key,
        &odd_date,
        sale,
        garbage,
    ] {
        assert_eq!(t.post(Some(TOKEN), body.to_owned()).await, 202, "{body}");
    }

    let kept = t.rows(delivery_stream()).await;
    assert_eq!(kept.len(), 6, "every unreadable delivery is kept");
    for row in &kept {
        let body = row.source_snapshot["body"].as_str().unwrap();
        assert!(!body.is_empty());
        assert!(!row.status.is_open(), "nothing left for a person: {row:?}");
    }
    let mut ids = t.queued_ids().await;
    ids.sort();
    assert_eq!(
        ids,
        [
            "11111111-2222-4333-8444-555555555555",
            "22222222-2222-4333-8444-555555555555",
            "33333333-2222-4333-8444-555555555555",
            TASK,
        ],
        "a refetch for each purchase id found; none for the sale or the garbage"
    );
    let stats = t.intake.stats();
    assert_eq!((stats.accepted, stats.unreadable, stats.queued), (6, 6, 4));

    // The same unreadable body again: accepted, kept once, queued once.
    assert_eq!(t.post(Some(TOKEN), cut_short.clone()).await, 202);
    assert_eq!(t.rows(delivery_stream()).await.len(), 6);
    assert_eq!(t.queued_ids().await.len(), 4);
}

#[tokio::test]
async fn the_same_event_respelled_is_queued_once_within_the_window() {
    let t = intake(IntakeLimits::default()).await;
    let compact = format!(r#"{{"EventType":"Purchase/OrderAuthorised","TaskID":"{TASK}"}}"#);
    let respelled = format!(
        "{{\n  \"TaskID\": \"{}\",\n  \"EventType\": \"Purchase/OrderAuthorised\",\n  \"PurchaseOrderNumber\": \"PO-1\"\n}}",
        TASK.to_uppercase()
    );
    assert_eq!(t.post(Some(TOKEN), compact.clone()).await, 202);
    assert_eq!(t.post(Some(TOKEN), respelled).await, 202);
    assert_eq!(t.queued_ids().await.len(), 1, "one event, one trigger");
    // Another event type for the same purchase is its own trigger.
    let invoiced = compact.replace("OrderAuthorised", "InvoiceAuthorised");
    assert_eq!(t.post(Some(TOKEN), invoiced).await, 202);
    assert_eq!(t.queued_ids().await.len(), 2);
    // After the window the same event is queued again (a fresh re-read).
    t.clock.advance(std::time::Duration::from_secs(6 * 60));
    assert_eq!(t.post(Some(TOKEN), compact).await, 202);
    assert_eq!(t.queued_ids().await.len(), 3);
    assert_eq!(t.intake.stats().duplicates, 1);
}

#[tokio::test]
async fn strangers_and_oversized_bodies_are_refused_and_leave_nothing() {
    let t = intake(IntakeLimits::default().with_max_body_bytes(16 * 1024)).await;
    let event = format!(r#"{{"EventType":"Purchase/OrderAuthorised","TaskID":"{TASK}"}}"#);
    assert_eq!(t.post(None, event.clone()).await, 401);
    assert_eq!(t.post(Some("a-guess"), event.clone()).await, 401);
    // 1 MiB: refused from its declared length, with the right credentials or not.
    let huge = vec![b' '; 1 << 20];
    assert_eq!(t.post(Some(TOKEN), huge.clone()).await, 413);
    assert_eq!(t.post(None, huge).await, 401, "credentials first");
    // Streamed without a length (chunked): cut at the limit.
    assert_eq!(t.post_chunked(64, 1024).await, 413);

    assert!(t.rows(delivery_stream()).await.is_empty());
    assert!(t.queued_ids().await.is_empty());
    let stats = t.intake.stats();
    assert_eq!(
        (
            stats.refused_credentials,
            stats.refused_limits,
            stats.accepted
        ),
        (3, 2, 0)
    );
}

/// The status line of what the server answers on `stream`.
async fn answer(mut stream: tokio::net::TcpStream) -> u16 {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_refused() {
    let t = intake(IntakeLimits::default().with_read_timeout(std::time::Duration::from_millis(20)))
        .await;
    let stalled = t.open_stalled(64).await;
    assert_eq!(answer(stalled).await, 408);
    assert_eq!(t.intake.stats().refused_limits, 1);
    assert!(t.queued_ids().await.is_empty());
}

#[tokio::test]
async fn deliveries_beyond_the_concurrency_limit_get_503_and_the_held_one_still_lands() {
    use tokio::io::AsyncWriteExt;
    let t = intake(IntakeLimits::default().with_max_concurrent(1)).await;
    let event = format!(r#"{{"EventType":"Purchase/OrderAuthorised","TaskID":"{TASK}"}}"#);
    let mut held = t.open_stalled(event.len()).await;
    // Once the stalled delivery holds the only slot, the next one is turned away.
    let mut refused = false;
    for _ in 0..200 {
        let other = r#"{"EventType":"Sale/Mystery"}"#;
        match t.post(Some(TOKEN), other).await {
            503 => {
                refused = true;
                break;
            }
            202 => tokio::time::sleep(std::time::Duration::from_millis(2)).await,
            status => panic!("unexpected {status}"),
        }
    }
    assert!(refused, "a second delivery was never refused");
    held.write_all(event.as_bytes()).await.unwrap();
    assert_eq!(answer(held).await, 202);
    assert_eq!(t.queued_ids().await, [TASK]);
    assert!(t.intake.stats().refused_limits >= 1);
}

#[test]
fn an_empty_credential_is_refused_when_the_intake_is_built() {
    for empty in ["", "   "] {
        let error = WebhookIntake::new(
            WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from(empty))),
            Arc::new(MemoryStore::new()),
            "ACME",
            "acct",
            ManualClock::default().shared(),
            Arc::new(Notify::new()),
        )
        .unwrap_err();
        assert!(error.to_string().contains("empty"), "{error}");
    }
}
