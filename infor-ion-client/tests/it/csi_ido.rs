//! CloudSuite Industrial IDO REST: paging, filters and escaping, `Success:false`, both `Items`
//! shapes, and every noun's decoding.
#![allow(clippy::unwrap_used)]

use crate::common;

use chrono::{TimeZone, Utc};
use common::*;
use futures::TryStreamExt;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::csi::nouns::*;
use infor_ion_client::csi::{Filter, IdoNoun};
use infor_ion_client::{Error, IonClient};
use mockito::{Matcher, ServerGuard};
use serde_json::json;
use sync_core::time::ManualClock;

const LOAD: &str = "/ACME_TST/CSI/IDORequestService/ido/load/";

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

fn page(items: serde_json::Value, bookmark: Option<&str>, more: bool) -> String {
    json!({"Items": items, "Bookmark": bookmark, "MoreRowsExist": more, "Success": true, "Message": null})
        .to_string()
}

#[tokio::test]
async fn pages_follow_the_bookmark_until_no_more_rows() {
    let (mut server, client) = server().await;
    let first = server
        .mock("GET", format!("{LOAD}SLVendors").as_str())
        .match_header("x-infor-mongooseconfig", "ACME_TST_DALS")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("properties".into(), "VendNum,Name".into()),
            Matcher::UrlEncoded("recordcap".into(), "2".into()),
            Matcher::UrlEncoded("orderby".into(), "RecordDate,VendNum".into()),
        ]))
        .with_body(page(
            json!([{"VendNum": "V1", "Name": "A"}, {"VendNum": "V2", "Name": "B"}]),
            Some("<B>2</B>"),
            true,
        ))
        .expect(1)
        .create_async()
        .await;
    let second = server
        .mock("GET", format!("{LOAD}SLVendors").as_str())
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("loadtype".into(), "NEXT".into()),
            Matcher::UrlEncoded("bookmark".into(), "<B>2</B>".into()),
        ]))
        .with_body(page(
            json!([{"VendNum": "V3", "Name": "C"}]),
            Some("<B>3</B>"),
            false,
        ))
        .expect(1)
        .create_async()
        .await;
    let rows: Vec<_> = client
        .csi("ACME_TST_DALS")
        .load("SLVendors")
        .properties(["VendNum", "Name"])
        .order_by(["RecordDate", "VendNum"])
        .record_cap(2)
        .items()
        .try_collect()
        .await
        .unwrap();
    first.assert_async().await;
    second.assert_async().await;
    let ids: Vec<_> = rows
        .iter()
        .map(|r| r.record.text("VendNum").unwrap())
        .collect();
    assert_eq!(ids, ["V1", "V2", "V3"]);
}

#[tokio::test]
async fn an_empty_collection_is_one_empty_page() {
    let (mut server, client) = server().await;
    server
        .mock("GET", Matcher::Regex("SLItems".into()))
        .with_body(json!({"Items": [], "MoreRowsExist": false, "Success": true}).to_string())
        .expect(1)
        .create_async()
        .await;
    let items: Vec<Item> = client
        .csi("C")
        .poll::<Item>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(items.is_empty());
}

#[tokio::test]
async fn a_bookmark_that_does_not_advance_stops_the_stream() {
    let (mut server, client) = server().await;
    server
        .mock("GET", Matcher::Regex("SLVendors".into()))
        .with_body(page(json!([{"VendNum": "V1"}]), Some("<B>same</B>"), true))
        .expect(2)
        .create_async()
        .await;
    let result: Result<Vec<_>, _> = client
        .csi("C")
        .load("SLVendors")
        .items()
        .try_collect()
        .await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, Error::PagingStuck { ref what, .. } if what == "SLVendors"),
        "{err:?}"
    );

    // More rows claimed, but no bookmark given.
    let (mut server, client) = self::server().await;
    server
        .mock("GET", Matcher::Regex("SLVendors".into()))
        .with_body(page(json!([{"VendNum": "V1"}]), None, true))
        .expect(1)
        .create_async()
        .await;
    let result: Result<Vec<_>, _> = client
        .csi("C")
        .load("SLVendors")
        .items()
        .try_collect()
        .await;
    assert!(matches!(result, Err(Error::PagingStuck { .. })));
}

#[tokio::test]
async fn success_false_is_an_error_even_with_http_200() {
    let (mut server, client) = server().await;
    server
        .mock("GET", Matcher::Regex("SLPos".into()))
        .with_body(json!({"Items": null, "Success": false, "Message": "Property 'Bogus' not found in SLPos"}).to_string())
        .create_async()
        .await;
    let result: Result<Vec<_>, _> = client.csi("C").load("SLPos").items().try_collect().await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::IdoFailed { ref ido, .. } if ido == "SLPos"));
    assert!(
        err.to_string().contains("Property 'Bogus' not found"),
        "{err}"
    );
}

#[tokio::test]
async fn incremental_filter_is_inclusive_escaped_and_ordered() {
    let (mut server, client) = server().await;
    let since = Utc.with_ymd_and_hms(2026, 2, 1, 8, 30, 0).unwrap();
    let until = Utc.with_ymd_and_hms(2026, 2, 2, 0, 0, 0).unwrap();
    let mock = server
        .mock("GET", format!("{LOAD}SLVendors").as_str())
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded(
                "filter".into(),
                "(((RecordDate >= '20260201 08:30:00.000') AND (RecordDate <= '20260202 00:00:00.000')) \
                 AND (Stat IN (N'A', N'O''Hara'))) AND (Name <> N'x''; DROP TABLE vendor--')"
                    .into(),
            ),
            Matcher::UrlEncoded("orderby".into(), "RecordDate,VendNum".into()),
        ]))
        .with_body(page(json!([]), None, false))
        .expect(1)
        .create_async()
        .await;
    let _: Vec<Vendor> = client
        .csi("C")
        .poll::<Vendor>()
        .modified_since(since)
        .modified_until(until)
        .status_in(["A", "O'Hara"])
        .filter(Filter::ne("Name", "x'; DROP TABLE vendor--").unwrap())
        .stream()
        .try_collect()
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn polling_by_status_needs_a_status_property() {
    let (_server, client) = server().await;
    let result: Result<Vec<GlAccount>, _> = client
        .csi("C")
        .poll::<GlAccount>()
        .status_in(["A"])
        .stream()
        .try_collect()
        .await;
    assert!(matches!(result, Err(Error::InvalidRequest(_))));
}

#[tokio::test]
async fn name_value_pair_items_are_read_too() {
    let (mut server, client) = server().await;
    server
        .mock("GET", Matcher::Regex("SLCharts".into()))
        .with_body(
            json!({
                "Items": [[
                    {"Name": "Acct", "Value": "10000"},
                    {"Name": "Description", "Value": "Cash"},
                    {"Name": "Type", "Value": "A"},
                    {"Name": "RecordDate", "Value": "2026-02-01 14:02:44.003"},
                    {"Name": "_ItemId", "Value": "PBT=[chart] chart.ID=[x]"}
                ]],
                "MoreRowsExist": false,
                "MessageCode": 0
            })
            .to_string(),
        )
        .create_async()
        .await;
    let accounts: Vec<GlAccount> = client.csi("C").poll().stream().try_collect().await.unwrap();
    assert_eq!(accounts[0].account, "10000");
    assert_eq!(accounts[0].account_type.as_deref(), Some("A"));
    assert_eq!(
        accounts[0].modified_at.unwrap(),
        Utc.with_ymd_and_hms(2026, 2, 1, 14, 2, 44).unwrap() + chrono::Duration::milliseconds(3)
    );
}

#[tokio::test]
async fn a_bad_value_names_the_ido_property_and_value() {
    let (mut server, client) = server().await;
    server
        .mock("GET", Matcher::Regex("SLPoItems".into()))
        .with_body(page(
            json!([{"PoNum": "P1", "PoLine": "1", "QtyOrdered": "ten"}]),
            None,
            false,
        ))
        .create_async()
        .await;
    let result: Result<Vec<PoLine>, _> = client.csi("C").poll().stream().try_collect().await;
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "SLPoItems: property `QtyOrdered` value \"ten\" is not a decimal number"
    );
    // A missing key property is named too.
    let (mut server, client) = self::server().await;
    server
        .mock("GET", Matcher::Regex("SLPos".into()))
        .with_body(page(json!([{"PoNum": "P1"}]), None, false))
        .create_async()
        .await;
    let result: Result<Vec<PurchaseOrder>, _> = client.csi("C").poll().stream().try_collect().await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "SLPos: required property `VendNum` is missing or empty"
    );
}

#[tokio::test]
async fn renamed_and_extra_properties() {
    let (mut server, client) = server().await;
    let mock = server
        .mock("GET", Matcher::Regex("SLVendors".into()))
        .match_query(Matcher::UrlEncoded(
            "properties".into(),
            format!(
                "{},Uf_Segment",
                Vendor::PROPERTIES.join(",").replace("TaxCode1", "Uf_TaxCode")
            ),
        ))
        .with_body(page(
            json!([{"VendNum": "V9", "Uf_TaxCode": "GST", "Uf_Segment": "Retail", "RecordDate": null}]),
            None,
            false,
        ))
        .expect(1)
        .create_async()
        .await;
    let vendors: Vec<Vendor> = client
        .csi("C")
        .poll::<Vendor>()
        .rename("TaxCode1", "Uf_TaxCode")
        .extra_properties(["Uf_Segment"])
        .stream()
        .try_collect()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(vendors[0].tax_code.as_deref(), Some("GST"));
    assert_eq!(vendors[0].raw.text("Uf_Segment"), Some("Retail"));
    assert_eq!(vendors[0].modified_at, None);
}

/// One fixture row per noun, decoded through the typed poll.
#[tokio::test]
async fn every_noun_decodes() {
    let (mut server, client) = server().await;
    let rows = [
        (
            "SLVendors",
            json!({"VendNum": "V1", "Name": "Acme Supply", "CurrCode": "USD", "TermsCode": "N30", "Stat": "A", "VadAddr_1": "1 Main St", "VadCity": "Dallas", "VadCountry": "USA", "RecordDate": "2026-02-01 10:00:00.000"}),
        ),
        (
            "SLPos",
            json!({"PoNum": "PO1001", "VendNum": "V1", "OrderDate": "2026-02-01 00:00:00.000", "Stat": "O", "Whse": "MAIN", "RecordDate": "2026-02-01 10:00:00.000"}),
        ),
        (
            "SLPoItems",
            json!({"PoNum": "PO1001", "PoLine": "1", "PoRelease": "0", "Item": "WIDGET", "QtyOrdered": "10.00000000", "QtyReceived": "0", "ItemCost": "2.50", "UM": "EA", "DueDate": "2026-03-01", "RecordDate": "2026-02-01 10:00:00.000"}),
        ),
        (
            "SLAptrxs",
            json!({"VendNum": "V1", "Voucher": "1234", "InvNum": "INV-9", "InvDate": "20260205", "InvAmt": "25.00", "PoNum": "PO1001", "RecordDate": "2026-02-05 09:00:00"}),
        ),
        (
            "SLAptrxds",
            json!({"Voucher": "1234", "DistSeq": "1", "Acct": "50000", "Amount": "25.00"}),
        ),
        (
            "SLAptrxps",
            json!({"VendNum": "V1", "Voucher": "1200", "InvAmt": "100", "AmtPaid": "98", "AmtDisc": "2"}),
        ),
        (
            "SLAppmts",
            json!({"VendNum": "V1", "CheckNum": "5001", "CheckDate": "2026-02-10", "CheckAmt": "98.00", "BankCode": "BK1"}),
        ),
        (
            "SLCharts",
            json!({"Acct": "50000", "Description": "Purchases", "Type": "E"}),
        ),
        (
            "SLCustomers",
            json!({"CustNum": "C1", "CustSeq": "0", "Name": "Retail Co", "CurrCode": "USD"}),
        ),
        (
            "SLItems",
            json!({"Item": "WIDGET", "Description": "Widget", "UM": "EA", "Stat": "A", "UnitCost": "2.5"}),
        ),
    ];
    for (ido, row) in rows {
        server
            .mock("GET", format!("{LOAD}{ido}").as_str())
            .match_query(Matcher::Any)
            .with_body(page(json!([row]), None, false))
            .create_async()
            .await;
    }
    let csi = client.csi("C");
    async fn one<N: IdoNoun>(csi: &infor_ion_client::csi::Csi) -> N {
        let mut all: Vec<N> = csi.poll::<N>().stream().try_collect().await.unwrap();
        assert_eq!(all.len(), 1, "{}", N::IDO);
        all.remove(0)
    }
    let vendor: Vendor = one(&csi).await;
    assert_eq!(
        (vendor.vend_num.as_str(), vendor.city.as_deref()),
        ("V1", Some("Dallas"))
    );
    let po: PurchaseOrder = one(&csi).await;
    assert_eq!(
        po.order_date,
        Some(chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap())
    );
    let line: PoLine = one(&csi).await;
    assert_eq!(line.qty_ordered, Some(rust_decimal::Decimal::from(10)));
    assert_eq!(line.po_line, Some(1));
    let voucher: ApVoucher = one(&csi).await;
    assert_eq!(voucher.inv_num.as_deref(), Some("INV-9"));
    assert_eq!(
        voucher.inv_date,
        Some(chrono::NaiveDate::from_ymd_opt(2026, 2, 5).unwrap())
    );
    let dist: ApVoucherDistribution = one(&csi).await;
    assert_eq!(dist.account.as_deref(), Some("50000"));
    let posted: PostedApTransaction = one(&csi).await;
    assert_eq!(posted.amount_discount, Some(rust_decimal::Decimal::from(2)));
    let payment: ApPayment = one(&csi).await;
    assert_eq!(payment.amount, Some(rust_decimal::Decimal::new(9800, 2)));
    let account: GlAccount = one(&csi).await;
    assert_eq!(account.account_type.as_deref(), Some("E"));
    let customer: Customer = one(&csi).await;
    assert_eq!(customer.cust_seq, Some(0));
    let item: Item = one(&csi).await;
    assert_eq!(item.unit_cost, Some(rust_decimal::Decimal::new(25, 1)));
}
