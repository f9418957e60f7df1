#![allow(clippy::unwrap_used)]
//! Paging boundaries (0, 1, 1000, 1001 rows) and a misbehaving server.

use crate::common;

use cin7_core_client::{Error, PaginationProblem};
use common::*;
use futures::TryStreamExt;
use mockito::{Matcher, Server};
use serde_json::json;
use sync_core::time::ManualClock;

fn rows(from: usize, count: usize) -> Vec<serde_json::Value> {
    (from..from + count)
        .map(|i| json!({"ID": format!("00000000-0000-4000-8000-{i:012}"), "Name": format!("Supplier {i}")}))
        .collect()
}

fn page_query(page: u32, limit: u32) -> Matcher {
    Matcher::AllOf(vec![
        Matcher::UrlEncoded("Page".into(), page.to_string()),
        Matcher::UrlEncoded("Limit".into(), limit.to_string()),
    ])
}

fn envelope(total: usize, page: u32, rows: Vec<serde_json::Value>) -> String {
    json!({"Total": total, "Page": page, "SupplierList": rows}).to_string()
}

async fn stream_boundary(total: usize) -> usize {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let mut mocks = Vec::new();
    let pages = total.div_ceil(1000).max(1);
    for page in 1..=pages {
        let from = (page - 1) * 1000;
        let count = (total - from).min(1000);
        mocks.push(
            server
                .mock("GET", "/supplier")
                .match_query(page_query(page as u32, 1000))
                .with_body(envelope(total, page as u32, rows(from, count)))
                .expect(1)
                .create(),
        );
    }
    let rest = catch_all(&mut server);
    let all: Vec<_> = client
        .suppliers()
        .list()
        .stream()
        .try_collect()
        .await
        .unwrap();
    for m in &mocks {
        m.assert();
    }
    assert_catch_all(&rest);
    // Rows arrive in order and without duplicates.
    for (i, s) in all.iter().enumerate() {
        assert_eq!(s.name, format!("Supplier {i}"));
    }
    all.len()
}

#[tokio::test]
async fn zero_rows_is_one_request() {
    assert_eq!(stream_boundary(0).await, 0);
}

#[tokio::test]
async fn one_row_is_one_request() {
    assert_eq!(stream_boundary(1).await, 1);
}

#[tokio::test]
async fn exactly_one_full_page_stops_at_total_without_asking_for_page_two() {
    assert_eq!(stream_boundary(1000).await, 1000);
}

#[tokio::test]
async fn one_thousand_and_one_rows_take_two_pages() {
    assert_eq!(stream_boundary(1001).await, 1001);
}

#[tokio::test]
async fn a_short_page_while_total_says_more_reads_on_to_total() {
    // An endpoint serving 300 rows where 1000 were asked: the stream keeps paging.
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    for (page, start, count) in [(1, 0, 300), (2, 300, 300), (3, 600, 100)] {
        server
            .mock("GET", "/supplier")
            .match_query(page_query(page, 1000))
            .with_body(envelope(700, page, rows(start, count)))
            .expect(1)
            .create();
    }
    let rest = catch_all(&mut server);
    let all = client.suppliers().list().all().await.unwrap();
    assert_eq!(all.len(), 700);
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_total_that_shrinks_mid_scan_ends_the_stream_where_it_now_is() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    server
        .mock("GET", "/supplier")
        .match_query(page_query(1, 1000))
        .with_body(envelope(2500, 1, rows(0, 1000)))
        .expect(1)
        .create();
    // Rows deleted while paging: Total now says 1300, and 1300 have been read.
    server
        .mock("GET", "/supplier")
        .match_query(page_query(2, 1000))
        .with_body(envelope(1300, 2, rows(1000, 300)))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let all = client.suppliers().list().all().await.unwrap();
    assert_eq!(all.len(), 1300);
    assert_catch_all(&rest);
}

#[tokio::test]
async fn an_empty_page_before_total_is_an_error_not_the_end() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    server
        .mock("GET", "/supplier")
        .match_query(page_query(1, 2))
        .with_body(envelope(5000, 1, rows(0, 2)))
        .expect(1)
        .create();
    server
        .mock("GET", "/supplier")
        .match_query(page_query(2, 2))
        .with_body(envelope(5000, 2, vec![]))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let error = client.suppliers().list().limit(2).all().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Pagination {
                problem: PaginationProblem::Truncated {
                    total: 5000,
                    read: 2,
                    page: 2
                },
                ..
            }
        ),
        "{error:?}"
    );
    assert_catch_all(&rest);
}

#[tokio::test]
async fn without_total_a_short_page_is_the_last() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let body = json!({"Page": 1, "SupplierList": rows(0, 2)});
    server
        .mock("GET", "/supplier")
        .match_query(page_query(1, 3))
        .with_body(body.to_string())
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let all = client.suppliers().list().limit(3).all().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_server_that_ignores_page_is_detected() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    // Every page answers with the same rows.
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(envelope(3000, 1, rows(0, 1000)))
        .expect(2)
        .create();
    let mut stream = client.suppliers().list().stream();
    let mut seen = 0;
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => seen += 1,
            Ok(None) => panic!("the stream should fail, not end"),
            Err(e) => break e,
        }
    };
    assert_eq!(seen, 1000);
    assert!(matches!(
        err,
        Error::Pagination {
            problem: PaginationProblem::RepeatedPage { page: 2 },
            ..
        }
    ));
    m.assert();
}

#[tokio::test]
async fn a_total_that_keeps_growing_cannot_page_forever() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    // Full, distinct pages forever, with Total always one page ahead.
    let m = server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body_from_request(|request| {
            let page: usize = url::form_urlencoded::parse(
                request
                    .path_and_query()
                    .split('?')
                    .nth(1)
                    .unwrap_or("")
                    .as_bytes(),
            )
            .find(|(k, _)| k == "Page")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap();
            envelope((page + 1) * 10, page as u32, rows((page - 1) * 10, 10)).into_bytes()
        })
        .expect(2 + 10)
        .create();
    let result: Result<Vec<_>, _> = client
        .suppliers()
        .list()
        .limit(10)
        .stream()
        .try_collect()
        .await;
    match result {
        Err(Error::Pagination {
            problem: PaginationProblem::TooManyPages { max_pages },
            ..
        }) => assert_eq!(max_pages, 12),
        other => panic!("expected TooManyPages, got {other:?}"),
    }
    m.assert();
}

#[tokio::test]
async fn a_missing_list_key_is_an_error_unless_total_is_zero() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(r#"{"Total":3,"Page":1,"Suppliers":[]}"#)
        .create();
    let err = client.suppliers().list().send().await.unwrap_err();
    assert!(matches!(
        err,
        Error::Pagination {
            problem: PaginationProblem::MissingListKey { .. },
            ..
        }
    ));
    server
        .mock("GET", "/ref/tax")
        .match_query(Matcher::Any)
        .with_body(r#"{"Total":0,"Page":1}"#)
        .create();
    assert!(
        client
            .reference()
            .tax_rules()
            .all()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn limit_is_clamped_and_page_starts_where_asked() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/supplier")
        .match_query(page_query(3, 1000))
        .with_body(envelope(2001, 3, rows(2000, 1)))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let page = client
        .suppliers()
        .list()
        .limit(5000)
        .page(3)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (page.page, page.items.len(), page.total),
        (3, 1, Some(2001))
    );
    let zero = client.suppliers().list().limit(0).request_for_page(1);
    assert!(
        zero.query_pairs()
            .contains(&("Limit".to_string(), "1".to_string()))
    );
    m.assert();
    assert_catch_all(&rest);
}
