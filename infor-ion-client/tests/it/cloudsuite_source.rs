//! The CloudSuite source for sync-core: canonical records from CSI and M3, related rows fetched
//! per page, server time from the gateway's `Date` header, clear conversion errors.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used)]

use crate::common;

use chrono::{TimeZone, Utc};
use common::*;
use futures::TryStreamExt;
use infor_ion_client::IonClient;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::cloudsuite::{CSI_NOUNS, CloudSuiteSource};
use mockito::{Matcher, ServerGuard};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::model::{
    AccountClass, GlAccount, PartyStatus, PoStatus, PurchaseOrder, SourceIdentity, Supplier,
    SupplierInvoice,
};
use sync_core::source::{Source, Window};
use sync_core::time::ManualClock;

const LOAD: &str = "/ACME_TST/CSI/IDORequestService/ido/load/";

async fn server() -> (ServerGuard, IonClient) {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("POST", "/ACME_TST/as/token.oauth2")
        .with_body(token_body(ACCESS_TOKEN, 3600, None))
        .create_async()
        .await;
    // A tenant with every standard property: `/info` lists them, and the one-row read that
    // proves each IDO readable answers empty.
    server
        .mock("GET", Matcher::Regex("/ido/info/".into()))
        .with_body_from_request(|request| {
            let ido = request.path().rsplit('/').next().unwrap_or_default();
            let properties: Vec<_> = CSI_NOUNS
                .iter()
                .find(|(name, _)| *name == ido)
                .map(|(_, properties)| properties.iter().map(|p| json!({"Name": p})).collect())
                .unwrap_or_default();
            json!({"Success": true, "Properties": properties})
                .to_string()
                .into_bytes()
        })
        .create_async()
        .await;
    server
        .mock("GET", Matcher::Regex("/ido/load/".into()))
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("recordcap".into(), "1".into()),
            Matcher::Regex("properties=[A-Za-z]".into()),
        ]))
        .with_body(page(json!([])))
        .create_async()
        .await;
    let client = client(
        &server.url(),
        &ManualClock::default(),
        AuthConfig::default(),
    );
    (server, client)
}

fn page(items: serde_json::Value) -> String {
    json!({"Items": items, "MoreRowsExist": false, "Success": true}).to_string()
}

fn window(from: Option<chrono::DateTime<Utc>>) -> Window {
    Window {
        from,
        ceiling: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
    }
}

#[tokio::test]
async fn suppliers_are_read_incrementally_as_canonical_records() {
    let (mut server, client) = server().await;
    let since = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    let mock = server
        .mock("GET", format!("{LOAD}SLVendors").as_str())
        .match_query(Matcher::UrlEncoded(
            "filter".into(),
            "RecordDate >= '20260201 00:00:00.000'".into(),
        ))
        .with_body(page(json!([
            {"VendNum": "V1", "Name": "Acme", "CurrCode": "EUR", "Stat": "A", "VadAddr_1": "1 Main", "VadCity": "Lyon", "VadCountry": "FR", "Contact": "Ann", "Phone": "555", "RecordDate": "2026-02-03 10:00:00.000"},
            {"VendNum": "V2", "Stat": "I", "RecordDate": "2026-02-03 11:00:00.000"}
        ])))
        .expect(1)
        .create_async()
        .await;
    let source = CloudSuiteSource::csi(client.csi("ACME_TST_DALS"), "DALS").default_currency("USD");
    let suppliers: Vec<Supplier> = Source::<Supplier>::poll(&source, window(Some(since)))
        .try_collect()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(
        suppliers[0].identity,
        SourceIdentity::new("cloudsuite", "ACME_TST", "DALS", "V1")
    );
    assert_eq!(
        (
            suppliers[0].vendor_id.as_str(),
            suppliers[0].currency.as_str()
        ),
        ("V1", "EUR")
    );
    assert_eq!(suppliers[0].addresses[0].city.as_deref(), Some("Lyon"));
    assert_eq!(suppliers[0].contacts[0].phone.as_deref(), Some("555"));
    assert_eq!(
        suppliers[1].name, "V2",
        "a missing name falls back to the vendor number"
    );
    assert_eq!(suppliers[1].currency, "USD");
    assert_eq!(suppliers[1].status, PartyStatus::Inactive);
}

#[tokio::test]
async fn purchase_orders_come_with_their_lines_fetched_once_per_page() {
    let (mut server, client) = server().await;
    server
        .mock("GET", format!("{LOAD}SLPos").as_str())
        .match_query(Matcher::Any)
        .with_body(page(json!([
            {"PoNum": "P1", "VendNum": "V1", "OrderDate": "2026-02-01", "Stat": "O", "Whse": "MAIN", "RecordDate": "2026-02-03 10:00:00"},
            {"PoNum": "P2", "VendNum": "V2", "OrderDate": "2026-02-02", "Stat": "P", "RecordDate": "2026-02-03 11:00:00"}
        ])))
        .expect(1)
        .create_async()
        .await;
    let lines = server
        .mock("GET", format!("{LOAD}SLPoItems").as_str())
        .match_query(Matcher::UrlEncoded(
            "filter".into(),
            "PoNum IN (N'P1', N'P2')".into(),
        ))
        .with_body(page(json!([
            {"PoNum": "P1", "PoLine": "2", "Item": "B", "QtyOrdered": "1", "ItemCost": "3"},
            {"PoNum": "P1", "PoLine": "1", "Item": "A", "QtyOrdered": "5", "ItemCost": "1.5"},
            {"PoNum": "P2", "PoLine": "1", "Item": "C", "QtyOrdered": "2"}
        ])))
        .expect(1)
        .create_async()
        .await;
    let source = CloudSuiteSource::csi(client.csi("C"), "DALS");
    let orders: Vec<PurchaseOrder> = Source::<PurchaseOrder>::poll(&source, window(None))
        .try_collect()
        .await
        .unwrap();
    lines.assert_async().await;
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0].status, PoStatus::Ordered);
    let skus: Vec<_> = orders[0].lines.iter().map(|l| l.sku.as_str()).collect();
    assert_eq!(skus, ["A", "B"], "lines sorted by line number");
    assert_eq!(orders[0].lines[0].unit_price, Decimal::new(15, 1));
    assert_eq!(orders[1].status, PoStatus::Planned);
    assert_eq!(orders[1].supplier_identity().id, "V2");
}

#[tokio::test]
async fn a_po_whose_lines_alone_changed_is_read_in_the_window() {
    let (mut server, client) = server().await;
    let since = Utc.with_ymd_and_hms(2026, 2, 3, 0, 0, 0).unwrap();
    let changed_heads = server
        .mock("GET", format!("{LOAD}SLPos").as_str())
        .match_query(Matcher::UrlEncoded(
            "filter".into(),
            "RecordDate >= '20260203 00:00:00.000'".into(),
        ))
        .with_body(page(json!([
            {"PoNum": "P1", "VendNum": "V1", "OrderDate": "2026-02-01", "Stat": "O", "RecordDate": "2026-02-03 10:00:00"}
        ])))
        .expect(1)
        .create_async()
        .await;
    let p1_lines = server
        .mock("GET", format!("{LOAD}SLPoItems").as_str())
        .match_query(Matcher::UrlEncoded("filter".into(), "PoNum IN (N'P1')".into()))
        .with_body(page(json!([
            {"PoNum": "P1", "PoLine": "1", "Item": "A", "QtyOrdered": "5", "RecordDate": "2026-02-03 10:00:00"}
        ])))
        .expect(1)
        .create_async()
        .await;
    // P3's header is from January; its second line was edited on 4 February.
    let changed_lines = server
        .mock("GET", format!("{LOAD}SLPoItems").as_str())
        .match_query(Matcher::UrlEncoded(
            "filter".into(),
            "RecordDate >= '20260203 00:00:00.000'".into(),
        ))
        .with_body(page(json!([
            {"PoNum": "P1", "PoLine": "1", "Item": "A", "QtyOrdered": "5", "RecordDate": "2026-02-03 10:00:00"},
            {"PoNum": "P3", "PoLine": "2", "Item": "D", "QtyOrdered": "9", "RecordDate": "2026-02-04 09:00:00"}
        ])))
        .expect(1)
        .create_async()
        .await;
    let unchanged_heads = server
        .mock("GET", format!("{LOAD}SLPos").as_str())
        .match_query(Matcher::UrlEncoded(
            "filter".into(),
            "(PoNum IN (N'P1', N'P3')) AND (RecordDate < '20260203 00:00:00.000')".into(),
        ))
        .with_body(page(json!([
            {"PoNum": "P3", "VendNum": "V3", "OrderDate": "2026-01-10", "Stat": "O", "RecordDate": "2026-01-10 08:00:00"}
        ])))
        .expect(1)
        .create_async()
        .await;
    let p3_lines = server
        .mock("GET", format!("{LOAD}SLPoItems").as_str())
        .match_query(Matcher::UrlEncoded("filter".into(), "PoNum IN (N'P3')".into()))
        .with_body(page(json!([
            {"PoNum": "P3", "PoLine": "1", "Item": "C", "QtyOrdered": "2", "RecordDate": "2026-01-10 08:00:00"},
            {"PoNum": "P3", "PoLine": "2", "Item": "D", "QtyOrdered": "9", "RecordDate": "2026-02-04 09:00:00"}
        ])))
        .expect(1)
        .create_async()
        .await;
    let source = CloudSuiteSource::csi(client.csi("C"), "DALS");
    let orders: Vec<PurchaseOrder> = Source::<PurchaseOrder>::poll(&source, window(Some(since)))
        .try_collect()
        .await
        .unwrap();
    for mock in [
        changed_heads,
        p1_lines,
        changed_lines,
        unchanged_heads,
        p3_lines,
    ] {
        mock.assert_async().await;
    }
    let numbers: Vec<_> = orders.iter().map(|o| o.po_number.as_str()).collect();
    assert_eq!(numbers, ["P1", "P3"], "P1 once, and P3 for its edited line");
    assert_eq!(orders[1].lines.len(), 2);
    assert_eq!(orders[1].lines[1].quantity, Decimal::from(9));
    assert_eq!(
        orders[1].modified_at,
        Utc.with_ymd_and_hms(2026, 2, 4, 9, 0, 0).unwrap(),
        "a PO changed when its newest row did"
    );
}

#[tokio::test]
async fn invoices_are_allocated_to_gl_accounts_from_distributions() {
    let (mut server, client) = server().await;
    server
        .mock("GET", format!("{LOAD}SLAptrxs").as_str())
        .match_query(Matcher::Any)
        .with_body(page(json!([
            {"VendNum": "V1", "Voucher": "900", "InvNum": "INV-1", "InvDate": "2026-02-05", "PoNum": "P1", "RecordDate": "2026-02-05 09:00:00"}
        ])))
        .create_async()
        .await;
    server
        .mock("GET", format!("{LOAD}SLAptrxds").as_str())
        .match_query(Matcher::UrlEncoded(
            "filter".into(),
            "Voucher IN (N'900')".into(),
        ))
        .with_body(page(json!([
            {"Voucher": "900", "DistSeq": "2", "Acct": "61000", "Amount": "5.00"},
            {"Voucher": "900", "DistSeq": "1", "Acct": "50000", "Amount": "20.00"}
        ])))
        .expect(1)
        .create_async()
        .await;
    let source = CloudSuiteSource::csi(client.csi("C"), "DALS");
    let invoices: Vec<SupplierInvoice> = Source::<SupplierInvoice>::poll(&source, window(None))
        .try_collect()
        .await
        .unwrap();
    let invoice = &invoices[0];
    assert_eq!(invoice.invoice_number, "INV-1");
    assert_eq!(invoice.po_identity().unwrap().id, "P1");
    let accounts: Vec<_> = invoice
        .lines
        .iter()
        .map(|l| (l.gl_account.as_str(), l.unit_price))
        .collect();
    assert_eq!(
        accounts,
        [
            ("50000", Decimal::new(2000, 2)),
            ("61000", Decimal::new(500, 2))
        ]
    );
}

#[tokio::test]
async fn gl_accounts_and_a_bad_type_is_named() {
    let (mut server, client) = server().await;
    server
        .mock("GET", format!("{LOAD}SLCharts").as_str())
        .match_query(Matcher::Any)
        .with_body(page(json!([
            {"Acct": "10000", "Description": "Cash", "Type": "A"},
            {"Acct": "40000", "Description": "Sales", "Type": "R"}
        ])))
        .create_async()
        .await;
    let source = CloudSuiteSource::csi(client.csi("C"), "DALS");
    let accounts: Vec<GlAccount> = Source::<GlAccount>::poll(&source, window(None))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(accounts[0].class, AccountClass::Asset);
    assert_eq!(accounts[1].class, AccountClass::Revenue);
    let found = Source::<GlAccount>::fetch(&source, &accounts[1].identity)
        .await
        .unwrap();
    assert_eq!(found.unwrap().name, "Sales");

    let (mut server, client) = self::server().await;
    server
        .mock("GET", format!("{LOAD}SLCharts").as_str())
        .match_query(Matcher::Any)
        .with_body(page(json!([{"Acct": "1", "Type": "Z"}])))
        .create_async()
        .await;
    let source = CloudSuiteSource::csi(client.csi("C"), "DALS");
    let err = Source::<GlAccount>::poll(&source, window(None))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(!err.transient);
    assert_eq!(
        err.message,
        "SLCharts: property `Type` value \"Z\" is not an account type (A, L, O, R, E)"
    );
}

#[tokio::test]
async fn server_time_comes_from_the_date_header() {
    let (mut server, client) = server().await;
    server
        .mock("GET", format!("{LOAD}SLVendors").as_str())
        .match_query(Matcher::UrlEncoded("recordcap".into(), "1".into()))
        .with_header("date", "Sun, 01 Feb 2026 12:00:00 GMT")
        .with_body(page(json!([])))
        .create_async()
        .await;
    let source = CloudSuiteSource::csi(client.csi("C"), "DALS");
    let at = Source::<Supplier>::server_time(&source).await.unwrap();
    assert_eq!(at, Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, 0).unwrap());
}

#[tokio::test]
async fn m3_suppliers_are_selected_by_lmts_in_the_company_with_status_from_get_basic_data() {
    let (mut server, client) = server().await;
    let since = Utc.with_ymd_and_hms(2026, 2, 1, 8, 0, 0).unwrap();
    // 2026-02-01T08:00:00Z is 1769932800000 ms; LMTS is one millisecond before.
    let lmts = "1769932799999";
    let list = "CRS620MI/LstSuppliers;maxrecs=1000;returncols=SUNO,SUNM,CUCD,TEPY,PHNO,ADR1,\
                ADR2,TOWN,PONO,CSCD;cono=100;divi=AAA$";
    // The documented output: no STAT, no LMDT. The list continues from the last key read
    // until a call adds nothing new.
    let next = server
        .mock("GET", Matcher::Regex(list.into()))
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("LMTS".into(), lmts.into()),
            Matcher::UrlEncoded("FRSU".into(), "S2".into()),
        ]))
        .with_body(
            json!({"results": [{"records": [{"SUNO": "S2", "SUNM": "Blocked"}]}]}).to_string(),
        )
        .expect(1)
        .create_async()
        .await;
    let first = server
        .mock("GET", Matcher::Regex(list.into()))
        .match_query(Matcher::Regex(format!("^LMTS={lmts}$")))
        .with_body(
            json!({"results": [{"records": [
                {"SUNO": "S1", "SUNM": "Active"},
                {"SUNO": "S2", "SUNM": "Blocked"}
            ]}]})
            .to_string(),
        )
        .expect(1)
        .create_async()
        .await;
    let mut basic = Vec::new();
    for (supplier, stat) in [("S1", "20"), ("S2", "90")] {
        basic.push(
            server
                .mock(
                    "GET",
                    Matcher::Regex(
                        "CRS620MI/GetBasicData;returncols=STAT;cono=100;divi=AAA$".into(),
                    ),
                )
                .match_query(Matcher::UrlEncoded("SUNO".into(), supplier.into()))
                .with_body(json!({"results": [{"records": [{"STAT": stat}]}]}).to_string())
                .expect(1)
                .create_async()
                .await,
        );
    }
    let source = CloudSuiteSource::m3(
        client.m3().company("100").division("AAA"),
        "ACME_TST",
        "100_AAA",
    );
    let suppliers: Vec<Supplier> = Source::<Supplier>::poll(&source, window(Some(since)))
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<_> = suppliers
        .iter()
        .map(|s| (s.vendor_id.as_str(), &s.status, s.modified_at))
        .collect();
    let ceiling = window(None).ceiling;
    assert_eq!(
        seen,
        vec![
            ("S1", &PartyStatus::Active, ceiling),
            ("S2", &PartyStatus::Inactive, ceiling)
        ]
    );
    assert!(source.take_warnings().is_empty());
    first.assert_async().await;
    next.assert_async().await;
    for mock in basic {
        mock.assert_async().await;
    }
}
