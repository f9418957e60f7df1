//! M3 purchase orders and supplier invoices over MI against mockito: search paging by a key
//! range in the query (past short pages, told apart by every required field), exact decimals,
//! dates and the status rule of the converted records.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "sync")]

use crate::common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use futures::TryStreamExt;
use infor_ion_client::IonClient;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::m3::nouns::{PurchaseOrderSearch, SupplierInvoiceSearch};
use mockito::{Matcher, ServerGuard};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::model::{PoStatus, PurchaseOrder, SupplierInvoice};
use sync_core::source::{Source, Window};
use sync_core::time::ManualClock;

async fn server() -> (ServerGuard, IonClient) {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("POST", "/ACME_TST/as/token.oauth2")
        .with_body(token_body(ACCESS_TOKEN, 3600, None))
        .create_async()
        .await;
    let client = client(
        &server.url(),
        &ManualClock::default(),
        AuthConfig::default(),
    );
    (server, client)
}

fn ok(records: serde_json::Value) -> String {
    json!({
        "results": [{"transaction": "X", "records": records}],
        "wasTerminated": false,
        "nrOfSuccessfullTransactions": 1,
        "nrOfFailedTransactions": 0,
    })
    .to_string()
}

async fn answer(
    server: &mut ServerGuard,
    transaction: &str,
    query: Matcher,
    records: serde_json::Value,
) -> mockito::Mock {
    server
        .mock(
            "GET",
            Matcher::Regex(format!("/M3/m3api-rest/v2/execute/{transaction};")),
        )
        .match_query(query)
        .with_body(ok(records))
        .expect(1)
        .create_async()
        .await
}

fn sqry(query: &str) -> Matcher {
    Matcher::UrlEncoded("SQRY".into(), query.into())
}

#[tokio::test]
async fn a_search_pages_by_a_range_in_the_query_past_short_pages() {
    let (mut server, client) = server().await;
    // The server returns 2 rows a call whatever maxrecs says; the boundary row comes again.
    let first = answer(
        &mut server,
        "PPS200MI/SearchHead",
        sqry("PUNO:*"),
        json!([{"PUNO": "P1        "}, {"PUNO": "P2"}]),
    )
    .await;
    let second = answer(
        &mut server,
        "PPS200MI/SearchHead",
        sqry("PUNO:[P2 TO *]"),
        json!([{"PUNO": "P2"}, {"PUNO": "P3"}]),
    )
    .await;
    let last = answer(
        &mut server,
        "PPS200MI/SearchHead",
        sqry("PUNO:[P3 TO *]"),
        json!([{"PUNO": "P3"}]),
    )
    .await;
    let m3 = client.m3().company("100");
    let found: Vec<PurchaseOrderSearch> = m3
        .search("PUNO:*", "PUNO", "order", 50)
        .try_collect()
        .await
        .unwrap();
    let orders: Vec<&str> = found.iter().map(|f| f.order.as_str()).collect();
    assert_eq!(orders, ["P1", "P2", "P3"]);
    first.assert_async().await;
    second.assert_async().await;
    last.assert_async().await;
}

#[tokio::test]
async fn invoices_sharing_a_number_across_suppliers_are_each_read_once() {
    let (mut server, client) = server().await;
    answer(
        &mut server,
        "APS200MI/SearchSupInvoic",
        sqry("SUNO:V1 AND SINO:*"),
        json!([{"SUNO": "V1", "SINO": "100"}, {"SUNO": "V2", "SINO": "100"}]),
    )
    .await;
    // From invoice number 100 on: V1's and V2's 100 again, and V3's 100 not read before.
    answer(
        &mut server,
        "APS200MI/SearchSupInvoic",
        sqry("SUNO:V1 AND SINO:* AND SINO:[100 TO *]"),
        json!([
            {"SUNO": "V1", "SINO": "100"},
            {"SUNO": "V2", "SINO": "100"},
            {"SUNO": "V3", "SINO": "100"}
        ]),
    )
    .await;
    answer(
        &mut server,
        "APS200MI/SearchSupInvoic",
        sqry("SUNO:V1 AND SINO:* AND SINO:[100 TO *]"),
        json!([{"SUNO": "V3", "SINO": "100"}]),
    )
    .await;
    let found: Vec<SupplierInvoiceSearch> = client
        .m3()
        .search("SUNO:V1 AND SINO:*", "SINO", "invoice", 50)
        .try_collect()
        .await
        .unwrap();
    let keys: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f.supplier.as_str(), f.invoice.as_str()))
        .collect();
    assert_eq!(keys, [("V1", "100"), ("V2", "100"), ("V3", "100")]);
}

fn window() -> Window {
    Window {
        from: None,
        ceiling: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
    }
}

#[tokio::test]
async fn a_purchase_order_keeps_m3s_decimals_dates_and_status() {
    let (mut server, client) = server().await;
    answer(
        &mut server,
        "PPS200MI/SearchHead",
        sqry("PUNO:*"),
        json!([{"PUNO": "P1", "SUNO": "V1", "PUSL": "15", "PUST": "20"}]),
    )
    .await;
    answer(
        &mut server,
        "PPS200MI/SearchHead",
        sqry("PUNO:[P1 TO *]"),
        json!([{"PUNO": "P1"}]),
    )
    .await;
    answer(
        &mut server,
        "PPS200MI/GetHead",
        Matcher::UrlEncoded("PUNO".into(), "P1".into()),
        json!([{"PUNO": "P1", "SUNO": "V1", "PUDT": "20260201", "DWDT": "20260215",
                "CUCD": "EUR", "WHLO": "W01", "YRE1": "ref   "}]),
    )
    .await;
    answer(
        &mut server,
        "PPS200MI/LstLine",
        Matcher::Exact("PUNO=P1".into()),
        json!([
            {"PUNO": "P1", "PNLI": "20", "ITNO": "ITEM-B", "ORQA": "0.0001", "PUPR": "99999.99999", "PUSL": "20"},
            {"PUNO": "P1", "PNLI": "10", "ITNO": "ITEM-A", "ORQA": "12.3450", "PUPR": "1.10", "PUSL": "15", "PITD": "Bolt"}
        ]),
    )
    .await;
    // Positioned from the last line read: only the boundary row comes back.
    answer(
        &mut server,
        "PPS200MI/LstLine",
        Matcher::Exact("PUNO=P1&PNLI=10".into()),
        json!([{"PUNO": "P1", "PNLI": "10", "ITNO": "ITEM-A", "ORQA": "12.3450", "PUSL": "15"}]),
    )
    .await;
    let source =
        CloudSuiteSource::m3(client.m3().company("100"), "ACME_TST", "100").default_currency("USD");
    let orders: Vec<PurchaseOrder> = Source::<PurchaseOrder>::poll(&source, window())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    let po = &orders[0];
    assert_eq!(po.po_number, "P1");
    assert_eq!(po.vendor_id, "V1");
    assert_eq!(po.order_date, NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
    assert_eq!(po.required_by, NaiveDate::from_ymd_opt(2026, 2, 15));
    assert_eq!(po.currency, "EUR");
    assert_eq!(po.location.as_deref(), Some("W01"));
    assert_eq!(po.memo.as_deref(), Some("ref"));
    // Lowest line status 15: planned.
    assert_eq!(po.status, PoStatus::Planned);
    assert_eq!(po.modified_at, window().ceiling);
    let lines: Vec<(u32, &str, String, String, &str)> = po
        .lines
        .iter()
        .map(|l| {
            (
                l.line_no,
                l.sku.as_str(),
                l.quantity.to_string(),
                l.unit_price.to_string(),
                l.description.as_str(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (10, "ITEM-A", "12.3450".into(), "1.10".into(), "Bolt"),
            (
                20,
                "ITEM-B",
                "0.0001".into(),
                "99999.99999".into(),
                "ITEM-B"
            ),
        ]
    );
    assert_eq!(po.lines[0].quantity, Decimal::new(123_450, 4));
}

#[tokio::test]
async fn an_invoice_takes_its_batch_lines_with_gl_accounts_and_exact_amounts() {
    let (mut server, client) = server().await;
    answer(
        &mut server,
        "APS200MI/SearchSupInvoic",
        sqry("SINO:*"),
        json!([{"SUNO": "V1", "SINO": "INV-9"}]),
    )
    .await;
    answer(
        &mut server,
        "APS200MI/SearchSupInvoic",
        sqry("SINO:[INV-9 TO *]"),
        json!([{"SUNO": "V1", "SINO": "INV-9"}]),
    )
    .await;
    answer(
        &mut server,
        "APS200MI/GetInvoice",
        Matcher::AllOf(vec![
            Matcher::UrlEncoded("SUNO".into(), "V1".into()),
            Matcher::UrlEncoded("SINO".into(), "INV-9".into()),
        ]),
        json!([{"SUNO": "V1", "SINO": "INV-9", "IVDT": "20260210", "DUDT": "20260312",
                "CUAM": "110.01", "CUCD": "SEK", "PUNO": "P1"}]),
    )
    .await;
    answer(
        &mut server,
        "APS450MI/LstInvBySupInv",
        Matcher::UrlEncoded("SPYN".into(), "V1".into()),
        json!([{"INBN": "4711"}]),
    )
    .await;
    answer(
        &mut server,
        "APS450MI/LstLines",
        Matcher::UrlEncoded("INBN".into(), "4711".into()),
        json!([
            {"INBN": "4711", "RDTP": "8", "NLAM": "100.005", "AIT1": "4010", "VTCD": "25"},
            {"INBN": "4711", "RDTP": "1", "ITNO": "ITEM-A", "IVQA": "3", "NEPR": "3.3333", "NLAM": "9.9999", "AIT1": "2010"},
            {"INBN": "4711", "RDTP": "9"}
        ]),
    )
    .await;
    let source = CloudSuiteSource::m3(client.m3().company("100"), "ACME_TST", "100");
    let invoices: Vec<SupplierInvoice> = Source::<SupplierInvoice>::poll(&source, window())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(invoices.len(), 1);
    let inv = &invoices[0];
    assert_eq!(inv.identity.id, "V1/INV-9");
    assert_eq!(inv.invoice_number, "INV-9");
    assert_eq!(inv.po_id.as_deref(), Some("P1"));
    assert_eq!(
        inv.invoice_date,
        NaiveDate::from_ymd_opt(2026, 2, 10).unwrap()
    );
    assert_eq!(inv.due_date, NaiveDate::from_ymd_opt(2026, 3, 12));
    assert_eq!(inv.currency, "SEK");
    let lines: Vec<(String, String, &str, Option<&str>)> = inv
        .lines
        .iter()
        .map(|l| {
            (
                l.quantity.to_string(),
                l.unit_price.to_string(),
                l.gl_account.as_str(),
                l.tax_rule.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("1".into(), "100.005".into(), "4010", Some("25")),
            ("3".into(), "3.3333".into(), "2010", None),
        ]
    );
}
