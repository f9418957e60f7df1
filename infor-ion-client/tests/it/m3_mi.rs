//! M3 MI REST v2: request shape (matrix parameters, inputs), right-trimmed values, HTTP 400
//! business errors, failed transactions in a 200, key-range paging, every noun's decoding.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::*;
use futures::TryStreamExt;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::m3::MiCall;
use infor_ion_client::m3::nouns::*;
use infor_ion_client::m3::nouns::{FieldMap, MiShape};
use infor_ion_client::{Error, IonClient};
use mockito::{Matcher, ServerGuard};
use serde_json::json;
use sync_core::time::ManualClock;

const EXECUTE: &str = "/ACME_TST/M3/m3api-rest/v2/execute/";

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

/// A mock of the MI calls whose path matches `path` and whose query matches `query`, answering
/// `records`, expected once (`assert_async` where the count matters).
async fn answer(
    server: &mut ServerGuard,
    path: &str,
    query: Matcher,
    records: serde_json::Value,
) -> mockito::Mock {
    server
        .mock("GET", Matcher::Regex(path.into()))
        .match_query(query)
        .with_body(ok(records))
        .expect(1)
        .create_async()
        .await
}

fn ok(records: serde_json::Value) -> String {
    json!({
        "results": [{"transaction": "X", "records": records}],
        "wasTerminated": false,
        "nrOfSuccessfullTransactions": 1,
        "nrOfFailedTransactions": 0
    })
    .to_string()
}

#[tokio::test]
async fn a_call_sends_matrix_parameters_and_inputs_and_trims_values() {
    let (mut server, client) = server().await;
    let mock = server
        .mock(
            "GET",
            format!(
                "{EXECUTE}CRS620MI/LstSuppliers;maxrecs=50;returncols=SUNO,SUNM;cono=100;divi=AAA"
            )
            .as_str(),
        )
        .match_query(Matcher::UrlEncoded("FRSU".into(), "S 01".into()))
        .with_body(ok(
            json!([{"SUNO": "S01       ", "SUNM": "Acme Supply     "}]),
        ))
        .expect(1)
        .create_async()
        .await;
    let rows = client
        .m3()
        .company("100")
        .division("AAA")
        .execute(
            MiCall::new("CRS620MI", "LstSuppliers")
                .input("FRSU", "S 01")
                .max_records(50)
                .return_columns(["SUNO", "SUNM"]),
        )
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(rows[0].text("SUNO"), Some("S01"));
    assert_eq!(rows[0].values()["SUNM"].as_deref(), Some("Acme Supply"));
    assert_eq!(rows[0].source(), "CRS620MI/LstSuppliers");
}

#[tokio::test]
async fn http_400_carries_m3s_message_and_field() {
    let (mut server, client) = server().await;
    server
        .mock("GET", Matcher::Regex("CRS630MI/LstAccountID".into()))
        .with_status(400)
        .with_body(
            json!({
                "results": [{"transaction": "LstAccountID", "errorMessage": "Accounting dimension must be entered", "errorCode": "WAI0103", "errorField": "AITP", "errorType": "ServerReturnedNOK", "records": []}],
                "wasTerminated": false,
                "nrOfSuccessfullTransactions": 0,
                "nrOfFailedTransactions": 1
            })
            .to_string(),
        )
        .expect(1)
        .create_async()
        .await;
    let err = client
        .m3()
        .execute(MiCall::new("CRS630MI", "LstAccountID"))
        .await
        .unwrap_err();
    let Error::MiFailed {
        program, errors, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(program, "CRS630MI");
    assert_eq!(errors[0].error_field.as_deref(), Some("AITP"));
    assert_eq!(
        err.to_string(),
        "M3 CRS630MI/LstAccountID failed: Accounting dimension must be entered (field AITP) [WAI0103]"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn failed_transactions_in_a_200_and_termination_are_errors() {
    let (mut server, client) = server().await;
    server
        .mock("GET", Matcher::Regex("MMS200MI".into()))
        .with_body(
            json!({"results": [{"transaction": "GetItmBasic", "errorMessage": "Item number X does not exist", "records": []}],
                   "nrOfFailedTransactions": 1})
            .to_string(),
        )
        .create_async()
        .await;
    let err = client
        .m3()
        .execute(MiCall::new("MMS200MI", "GetItmBasic"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Item number X does not exist"),
        "{err}"
    );

    let (mut server, client) = self::server().await;
    server
        .mock("GET", Matcher::Regex("PPS200MI".into()))
        .with_body(
            json!({"results": [], "wasTerminated": true, "terminationReason": "Timeout"})
                .to_string(),
        )
        .create_async()
        .await;
    let err = client
        .m3()
        .execute(MiCall::new("PPS200MI", "LstLine"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Timeout"), "{err}");
}

#[tokio::test]
async fn program_names_are_checked() {
    let (_server, client) = server().await;
    let err = client
        .m3()
        .execute(MiCall::new("CRS620MI/../x", "Lst"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)));
}

#[tokio::test]
async fn key_range_paging_reads_every_supplier_once() {
    let (mut server, client) = server().await;
    // Page 1: S1,S2,S3 (full page of 3); page 2 from S3: S3,S4,S5 (full); page 3 from S5: S5 (short).
    let path = "LstSuppliers;maxrecs=3;returncols=SUNO,";
    let from = |key: &str| Matcher::UrlEncoded("FRSU".into(), key.into());
    let pages = [
        answer(
            &mut server,
            path,
            Matcher::Missing,
            json!([{"SUNO": "S1"}, {"SUNO": "S2"}, {"SUNO": "S3"}]),
        )
        .await,
        answer(
            &mut server,
            path,
            from("S3"),
            json!([{"SUNO": "S3"}, {"SUNO": "S4"}, {"SUNO": "S5"}]),
        )
        .await,
        answer(&mut server, path, from("S5"), json!([{"SUNO": "S5"}])).await,
    ];
    let suppliers: Vec<Supplier> = client.m3().list(Vec::new(), 3).try_collect().await.unwrap();
    let ids: Vec<_> = suppliers.iter().map(|s| s.supplier.as_str()).collect();
    assert_eq!(ids, ["S1", "S2", "S3", "S4", "S5"]);
    // One call per page, none after the short one.
    for page in pages {
        page.assert_async().await;
    }
}

#[tokio::test]
async fn a_full_page_that_does_not_move_is_stuck() {
    let (mut server, client) = server().await;
    answer(
        &mut server,
        "LstSuppliers",
        Matcher::Any,
        json!([{"SUNO": "S1"}, {"SUNO": "S1"}]),
    )
    .await;
    let result: Result<Vec<Supplier>, _> = client.m3().list(Vec::new(), 2).try_collect().await;
    assert!(
        matches!(result, Err(Error::PagingStuck { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn every_noun_decodes() {
    let (mut server, client) = server().await;
    let rows = [
        (
            "CRS620MI/LstSuppliers",
            json!({"SUNO": "S1", "SUNM": "Acme", "STAT": "20", "CUCD": "EUR", "LMDT": "20260201"}),
        ),
        (
            "CRS610MI/LstByNumber",
            json!({"CUNO": "C1", "CUNM": "Retail", "LMDT": "20260202"}),
        ),
        (
            "MMS200MI/LstItmByChgDate",
            json!({"ITNO": "I1", "ITDS": "Widget", "UNMS": "EA", "LMDT": "20260203"}),
        ),
        (
            "PPS200MI/LstLine",
            json!({"PUNO": "P1", "PNLI": "10", "ITNO": "I1", "ORQA": "5.000", "RVQA": "2", "PUPR": "1.25"}),
        ),
        (
            "PPS200MI/GetHead",
            json!({"PUNO": "P1", "SUNO": "S1", "PUDT": "20260201", "PUSL": "20", "PUST": "35"}),
        ),
        (
            "APS200MI/GetInvoice",
            json!({"SUNO": "S1", "SINO": "INV1", "IVDT": "20260205", "CUAM": "6.25", "CUCD": "EUR"}),
        ),
        (
            "APS130MI/LstInvByPayDate",
            json!({"SUNO": "S1", "SINO": "INV1", "PYDT": "20260210", "CUAM": "6.25"}),
        ),
        (
            "CRS630MI/LstAccountID",
            json!({"AITP": "1", "AITM": "4010", "TX40": "Purchases"}),
        ),
    ];
    for (call, row) in rows {
        answer(&mut server, call, Matcher::Any, json!([row])).await;
    }
    let m3 = client.m3();
    // The list's documented output has no status and no change date: unmapped, neither is
    // read (nor asked for), whatever the row carries.
    let s: Vec<Supplier> = m3.list(vec![], 100).try_collect().await.unwrap();
    assert_eq!((s[0].changed_on, s[0].status.as_deref()), (None, None));
    assert_eq!(s[0].currency.as_deref(), Some("EUR"));
    // A tenant returning them (via returncols) maps them.
    let s: Vec<Supplier> = m3
        .clone()
        .fields::<Supplier>(
            FieldMap::new()
                .map("changed_on", "LMDT")
                .map("status", "STAT"),
        )
        .unwrap()
        .list(vec![], 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        (s[0].changed_on, s[0].status.as_deref()),
        (chrono::NaiveDate::from_ymd_opt(2026, 2, 1), Some("20"))
    );
    let c: Vec<Customer> = m3.list(vec![], 100).try_collect().await.unwrap();
    assert_eq!(c[0].name.as_deref(), Some("Retail"));
    let i: Vec<Item> = m3
        .list(
            vec![(
                "FLMD".into(),
                mi_date(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            )],
            100,
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(i[0].unit.as_deref(), Some("EA"));
    let l: Vec<PurchaseOrderLine> = m3
        .list(vec![("PUNO".into(), "P1".into())], 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        (l[0].line, l[0].quantity),
        (Some(10), Some(rust_decimal::Decimal::from(5)))
    );
    let h: Vec<PurchaseOrderHead> = m3
        .list(vec![("PUNO".into(), "P1".into())], 1)
        .try_collect()
        .await
        .unwrap();
    // The line statuses are not in GetHead's documented output: read only when mapped.
    assert_eq!(h[0].highest_status, None);
    assert_eq!(h[0].order_date, chrono::NaiveDate::from_ymd_opt(2026, 2, 1));
    let inv: Vec<SupplierInvoice> = m3.list(vec![], 1).try_collect().await.unwrap();
    assert_eq!(inv[0].amount, Some(rust_decimal::Decimal::new(625, 2)));
    let p: Vec<Payment> = m3.list(vec![], 100).try_collect().await.unwrap();
    assert_eq!(p[0].invoice.as_deref(), Some("INV1"));
    let g: Vec<GlAccount> = m3
        .list(vec![("AITP".into(), "1".into())], 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(g[0].account, "4010");
}

#[tokio::test]
async fn a_tenants_transaction_and_field_names_are_asked_for_and_read() {
    let (mut server, client) = server().await;
    // The tenant lists suppliers with a custom transaction whose name and key fields differ.
    let columns = "ZZSUNO,ZZNAME,CUCD,TEPY,PHNO,ADR1,ADR2,TOWN,PONO,CSCD,LMDT";
    let path = format!("^{EXECUTE}CMS100MI/LstZZSupp;maxrecs=2;returncols={columns};cono=100$");
    let first = answer(
        &mut server,
        &path,
        Matcher::Missing,
        json!([
            {"ZZSUNO": "S1", "ZZNAME": "One   ", "LMDT": "20260201"},
            {"ZZSUNO": "S2", "ZZNAME": "Two"}
        ]),
    )
    .await;
    let second = answer(
        &mut server,
        &path,
        Matcher::UrlEncoded("ZFRSU".into(), "S2".into()),
        json!([{"ZZSUNO": "S2", "ZZNAME": "Two"}]),
    )
    .await;
    let m3 = client
        .m3()
        .company("100")
        .shape::<Supplier>(
            MiShape::new()
                .transaction("CMS100MI", "LstZZSupp")
                .key_range("ZFRSU", "supplier")
                .fields(FieldMap::new().map("supplier", "ZZSUNO")),
        )
        .unwrap()
        .fields::<Supplier>(
            FieldMap::new()
                .map("name", "ZZNAME")
                .map("changed_on", "LMDT"),
        )
        .unwrap();
    let layout = m3.layout::<Supplier>().unwrap();
    assert_eq!(
        layout.name(),
        "CMS100MI/LstZZSupp",
        "fields() keeps the transaction"
    );
    assert_eq!(layout.key_range(), Some(("ZFRSU", "ZZSUNO")));
    let suppliers: Vec<Supplier> = m3.list(Vec::new(), 2).try_collect().await.unwrap();
    first.assert_async().await;
    second.assert_async().await;
    let read: Vec<_> = suppliers
        .iter()
        .map(|s| (s.supplier.as_str(), s.name.as_deref(), s.phone.as_deref()))
        .collect();
    assert_eq!(read, [("S1", Some("One"), None), ("S2", Some("Two"), None)]);
    assert_eq!(
        suppliers[0].changed_on,
        chrono::NaiveDate::from_ymd_opt(2026, 2, 1)
    );
}

#[tokio::test]
async fn a_bad_value_in_a_mapped_field_names_the_tenants_field() {
    let (mut server, client) = server().await;
    answer(
        &mut server,
        "CRS630MI/LstAccountID",
        Matcher::Any,
        json!([{"AITM": "4010", "ZZDATE": "yesterday"}]),
    )
    .await;
    let err = client
        .m3()
        .shape::<Item>(
            MiShape::new()
                .transaction("CRS630MI", "LstAccountID")
                .fields(
                    FieldMap::new()
                        .map("item", "AITM")
                        .map("changed_on", "ZZDATE"),
                ),
        )
        .unwrap()
        .list::<Item>(Vec::new(), 10)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CRS630MI/LstAccountID: property `ZZDATE` value \"yesterday\" is not a date"
    );
}

#[tokio::test]
async fn field_maps_naming_unknown_fields_or_bad_names_are_refused() {
    let (_server, client) = server().await;
    let err = client
        .m3()
        .fields::<Supplier>(FieldMap::new().map("nickname", "ZZNICK"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(
        err.to_string().contains(
            "`nickname`, which is not a field of Supplier (its fields are supplier, name,"
        ),
        "{err}"
    );
    for bad in [
        MiShape::new().fields(FieldMap::new().map("name", "SU;NM")),
        MiShape::new().fields(FieldMap::new().map("name", "")),
        MiShape::new().transaction("CRS620MI", "Lst/../x"),
        MiShape::new().key_range("FR SU", "supplier"),
        MiShape::new().key_range("FRSU", "nickname"),
    ] {
        let err = client.m3().shape::<Supplier>(bad.clone()).unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{bad:?}: {err:?}");
    }
    // Nothing set: the standard transaction, key range and names.
    let layout = client.m3().layout::<Supplier>().unwrap();
    assert_eq!(layout.name(), "CRS620MI/LstSuppliers");
    assert_eq!(layout.key_range(), Some(("FRSU", "SUNO")));
    assert_eq!(layout.column("name"), Some("SUNM"));
    let accounts = client.m3().layout::<GlAccount>().unwrap();
    assert_eq!(
        accounts.key_range(),
        None,
        "LstAccountID is read in one call"
    );
}

#[tokio::test]
async fn a_full_page_of_a_list_without_key_range_is_refused_not_cut() {
    let (mut server, client) = server().await;
    let page = answer(
        &mut server,
        "CRS630MI/LstAccountID;maxrecs=2;",
        Matcher::Any,
        json!([{"AITM": "1000"}, {"AITM": "2000"}]),
    )
    .await;
    let err = client
        .m3()
        .list::<GlAccount>(vec![("AITP".into(), "1".into())], 2)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("M3 CRS630MI/LstAccountID returned 2 rows = maxrecs"),
        "{err}"
    );
    page.assert_async().await;
}

/// Items sharing a change date across pages are each read once: the list pages by `FLMD`
/// (the last change date read) and tells rows apart by item number, not by the date.
#[tokio::test]
async fn items_are_paged_by_change_date_and_read_once_each() {
    let (mut server, client) = server().await;
    let path = "LstItmByChgDate;maxrecs=3;";
    let from = |date: &str| Matcher::UrlEncoded("FLMD".into(), date.into());
    let item = |no: &str, date: &str| json!({"ITNO": no, "LMDT": date});
    let pages = [
        // The caller's own FLMD on the first call.
        answer(
            &mut server,
            path,
            from("20260101"),
            json!([
                item("I1", "20260201"),
                item("I2", "20260201"),
                item("I3", "20260202")
            ]),
        )
        .await,
        answer(
            &mut server,
            path,
            from("20260202"),
            json!([
                item("I3", "20260202"),
                item("I4", "20260202"),
                item("I5", "20260203")
            ]),
        )
        .await,
        // Only the boundary date's row, already read, and fewer than a call returns: the end.
        answer(
            &mut server,
            path,
            from("20260203"),
            json!([item("I5", "20260203")]),
        )
        .await,
    ];
    let items: Vec<Item> = client
        .m3()
        .list(vec![("FLMD".into(), "20260101".into())], 3)
        .try_collect()
        .await
        .unwrap();
    let numbers: Vec<_> = items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(numbers, ["I1", "I2", "I3", "I4", "I5"]);
    for page in pages {
        page.assert_async().await;
    }
}

/// A short page whose rows all share the change date is the whole list: asked again from that
/// date, the same rows come back, and the list ends (it is not a server cap).
#[tokio::test]
async fn a_short_page_of_rows_sharing_one_change_date_ends_the_list() {
    let (mut server, client) = server().await;
    let same = json!([{"ITNO": "I1", "LMDT": "20260201"}, {"ITNO": "I2", "LMDT": "20260201"}]);
    answer(
        &mut server,
        "LstItmByChgDate",
        Matcher::Missing,
        same.clone(),
    )
    .await;
    answer(
        &mut server,
        "LstItmByChgDate",
        Matcher::UrlEncoded("FLMD".into(), "20260201".into()),
        same,
    )
    .await;
    let items: Vec<Item> = client
        .m3()
        .list(Vec::new(), 1000)
        .try_collect()
        .await
        .unwrap();
    let numbers: Vec<_> = items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(numbers, ["I1", "I2"]);
}

/// More items share one change date than a call returns: the rows after them cannot be
/// reached, which is an error naming the fix, never a list that silently ends there.
#[tokio::test]
async fn more_rows_at_one_change_date_than_a_call_returns_is_stuck_not_cut() {
    let (mut server, client) = server().await;
    let same = json!([{"ITNO": "I1", "LMDT": "20260201"}, {"ITNO": "I2", "LMDT": "20260201"}]);
    answer(
        &mut server,
        "LstItmByChgDate",
        Matcher::Missing,
        same.clone(),
    )
    .await;
    answer(
        &mut server,
        "LstItmByChgDate",
        Matcher::UrlEncoded("FLMD".into(), "20260201".into()),
        same,
    )
    .await;
    let err = client
        .m3()
        .list::<Item>(Vec::new(), 2)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::PagingStuck { detail, .. }
            if detail.contains("2 row(s) share FLMD \"20260201\"")
                && detail.contains("raise page_size")),
        "{err}"
    );
}

/// The user's defaults are asked without the handle's company and division: with them, the
/// answer might be about the company named rather than the user's own default.
#[tokio::test]
async fn user_defaults_are_asked_without_cono_or_divi() {
    let (mut server, client) = server().await;
    let call = answer(
        &mut server,
        "/MNS150MI/GetUserData;maxrecs=2;returncols=USID,CONO,DIVI,NAME$",
        Matcher::Missing,
        json!([{"USID": "SVC", "CONO": "100", "DIVI": "AAA"}]),
    )
    .await;
    let user = client
        .m3()
        .company("300")
        .division("BBB")
        .user_defaults()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            user.user.as_str(),
            user.company.as_deref(),
            user.division.as_deref()
        ),
        ("SVC", Some("100"), Some("AAA"))
    );
    call.assert_async().await;
}
