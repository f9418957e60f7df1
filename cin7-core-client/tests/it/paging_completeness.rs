//! Paging never ends with fewer rows than `Total` (issue 16): an endpoint serving shorter pages
//! than `Limit` asks is read to the end; rows `Total` promises that no page holds fail with
//! `PaginationProblem::Truncated`; page sizes are configurable per endpoint; the paging probe
//! says whether an endpoint honours `Limit`.
#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]

use crate::simulator_support;

use std::collections::BTreeSet;

use cin7_core_client::pagination::{PageProbe, PageSizes};
use cin7_core_client::request::Cin7Request;
use cin7_core_client::{Cin7Client, Error, PaginationProblem};
use simulator_support::*;

/// The `Limit` a request asks for.
fn limit_of(request: &Cin7Request) -> &str {
    let pairs = request.query_pairs();
    pairs.iter().find(|(k, _)| k == "Limit").unwrap().1.as_str()
}

async fn supplier_probe(client: &Cin7Client) -> PageProbe {
    let list = client.suppliers().list().include_deprecated(true);
    list.probe(5).await.unwrap()
}

#[tokio::test]
async fn an_endpoint_capping_its_pages_is_still_read_to_the_last_row() {
    // 2500 suppliers, pages of at most 100 although the client asks for 1000: 25 pages, more
    // than the 3 pages (plus slack) that `Total` and the `Limit` asked for would allow.
    let (sim, client, _clock) =
        start(|c| c.with_suppliers(2500).with_page_cap("supplier", 100)).await;
    let rows = client
        .suppliers()
        .list()
        .include_deprecated(true)
        .all()
        .await
        .unwrap();
    let ids: BTreeSet<_> = rows.iter().map(|s| s.id.clone().unwrap()).collect();
    assert_eq!(
        (rows.len(), ids.len()),
        (2500, 2500),
        "every row, none twice"
    );
    assert_eq!(sim.calls_to("GET /supplier"), 25, "ceil(2500 / 100) pages");
}

#[tokio::test]
async fn a_configured_page_size_is_what_every_list_asks_for() {
    let (sim, _, clock) = start(|c| c.with_suppliers(950).with_page_cap("supplier", 300)).await;
    let client = builder(&sim, &clock)
        .max_page_size("Supplier", 300)
        .build()
        .unwrap();
    assert_eq!(client.page_sizes().for_endpoint("supplier"), 300);
    assert_eq!(client.page_sizes().for_endpoint("product"), 100);
    let list = client.suppliers().list().include_deprecated(true);
    assert_eq!(limit_of(&list.request_for_page(1)), "300");
    // A larger limit asked of the builder is held to the endpoint's size.
    let larger = client.suppliers().list().limit(1000).request_for_page(1);
    assert_eq!(limit_of(&larger), "300");
    assert_eq!(list.all().await.unwrap().len(), 950);
    assert_eq!(sim.calls_to("GET /supplier"), 4);

    // The whole table can be replaced too.
    let client = builder(&sim, &clock)
        .page_sizes(PageSizes::new(50))
        .build()
        .unwrap();
    let tax = client.reference().tax_rules().request_for_page(1);
    assert_eq!(limit_of(&tax), "50");
}

#[tokio::test]
async fn rows_that_total_promises_but_no_page_holds_are_an_error() {
    // Total says 35 while 30 rows exist: page 4 comes back empty.
    let (sim, client, _clock) =
        start(|c| c.with_suppliers(30).with_phantom_rows("supplier", 5)).await;
    let error = client
        .suppliers()
        .list()
        .include_deprecated(true)
        .limit(10)
        .all()
        .await
        .unwrap_err();
    match &error {
        Error::Pagination {
            endpoint,
            problem: PaginationProblem::Truncated { total, read, page },
        } => {
            assert_eq!(endpoint, "supplier");
            assert_eq!((*total, *read, *page), (35, 30, 4));
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("rows are missing"), "{error}");
    assert_eq!(sim.calls_to("GET /supplier"), 4);
}

#[tokio::test]
async fn the_probe_says_whether_an_endpoint_honours_limit() {
    let (_sim, client, _clock) = start(|c| c.with_suppliers(40).with_page_cap("supplier", 2)).await;
    let probe = supplier_probe(&client).await;
    assert_eq!((probe.limit, probe.returned, probe.total), (5, 2, Some(40)));
    assert!(!probe.limit_honoured());

    let (_sim, client, _clock) = start(|c| c.with_suppliers(40)).await;
    let probe = supplier_probe(&client).await;
    assert_eq!((probe.returned, probe.total), (5, Some(40)));
    assert!(probe.limit_honoured());
    // The probe works on any list: reference data too.
    let probe = client.reference().tax_rules().probe(1).await.unwrap();
    assert_eq!(probe.endpoint, "ref/tax");
    assert_eq!(probe.returned, 1);
}
