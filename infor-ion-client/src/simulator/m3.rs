//! M3 MI v2 list transactions over the simulator's rows, with M3's field names, padding and
//! error conventions (HTTP 400 with the v2 body).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::data::{CloudSuiteData, StoredRow};
use crate::values::parse_datetime;

type Params = std::collections::HashMap<String, String>;

/// The v2 error body for one failed transaction.
pub(super) fn error_response(transaction: &str, message: &str, field: Option<&str>) -> Response {
    let body = json!({
        "results": [{
            "transaction": transaction,
            "errorMessage": message,
            "errorType": "ServerReturnedNOK",
            "errorCode": "WSIM001",
            "errorField": field,
            "records": [],
        }],
        "wasTerminated": false,
        "nrOfSuccessfullTransactions": 0,
        "nrOfFailedTransactions": 1,
    });
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(transaction: &str, records: Vec<Value>) -> Response {
    let body = json!({
        "results": [{"transaction": transaction, "records": records}],
        "wasTerminated": false,
        "nrOfSuccessfullTransactions": 1,
        "nrOfFailedTransactions": 0,
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn text<'a>(row: &'a StoredRow, name: &str) -> &'a str {
    row.values
        .get(name)
        .and_then(|v| v.as_deref())
        .unwrap_or_default()
}

/// M3 pads fixed-width fields with spaces; the client right-trims them.
fn padded(value: &str, width: usize) -> Value {
    Value::String(format!("{value:<width$}"))
}

/// `yyyyMMdd` from an IDO date-time.
fn mi_date(value: &str) -> String {
    parse_datetime(value)
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_default()
}

fn record(pairs: &[(&str, Value)]) -> Value {
    let map: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Value::Object(map)
}

fn s(value: impl Into<String>) -> Value {
    Value::String(value.into())
}

/// `maxrecs`: the SDK's default is 100; `0` means no limit.
fn max_records(matrix: &Params) -> usize {
    match matrix.get("maxrecs").and_then(|m| m.parse::<usize>().ok()) {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 100,
    }
}

/// Records of a key-ordered list from `from` (inclusive) to `to` (inclusive).
fn key_range(
    mut rows: Vec<(String, Value)>,
    from: Option<&String>,
    to: Option<&String>,
    max: usize,
) -> Vec<Value> {
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.into_iter()
        .filter(|(key, _)| from.is_none_or(|f| key.as_str() >= f.as_str()))
        .filter(|(key, _)| to.is_none_or(|t| key.as_str() <= t.as_str()))
        .take(max)
        .map(|(_, record)| record)
        .collect()
}

/// Run one MI transaction against the data.
pub(super) fn execute(
    data: &CloudSuiteData,
    program: &str,
    transaction: &str,
    matrix: &Params,
    inputs: &Params,
) -> Response {
    let max = max_records(matrix);
    let active = |row: &StoredRow| {
        if text(row, "Stat") == "A" || text(row, "Stat").is_empty() {
            "20"
        } else {
            "90"
        }
    };
    match (program, transaction) {
        ("CRS620MI", "LstSuppliers") => {
            let rows = data
                .rows("SLVendors")
                .iter()
                .map(|v| {
                    (
                        text(v, "VendNum").to_owned(),
                        record(&[
                            ("SUNO", padded(text(v, "VendNum"), 10)),
                            ("SUNM", padded(text(v, "Name"), 36)),
                            ("STAT", s(active(v))),
                            ("CUCD", s(text(v, "CurrCode"))),
                            ("TEPY", s(text(v, "TermsCode"))),
                            ("PHNO", s(text(v, "Phone"))),
                            ("ADR1", s(text(v, "VadAddr_1"))),
                            ("ADR2", s(text(v, "VadAddr_2"))),
                            ("TOWN", s(text(v, "VadCity"))),
                            ("PONO", s(text(v, "VadZip"))),
                            ("CSCD", s(text(v, "VadCountry"))),
                            ("LMDT", s(mi_date(text(v, "RecordDate")))),
                        ]),
                    )
                })
                .collect();
            ok(
                transaction,
                key_range(rows, inputs.get("FRSU"), inputs.get("TOSU"), max),
            )
        }
        ("CRS610MI", "LstByNumber") => {
            let rows = data
                .rows("SLCustomers")
                .iter()
                .filter(|c| text(c, "CustSeq") == "0")
                .map(|c| {
                    (
                        text(c, "CustNum").to_owned(),
                        record(&[
                            ("CUNO", padded(text(c, "CustNum"), 10)),
                            ("CUNM", s(text(c, "Name"))),
                            ("STAT", s("20")),
                            ("CUCD", s(text(c, "CurrCode"))),
                            ("TEPY", s(text(c, "TermsCode"))),
                            ("LMDT", s(mi_date(text(c, "RecordDate")))),
                        ]),
                    )
                })
                .collect();
            ok(transaction, key_range(rows, inputs.get("CUNO"), None, max))
        }
        ("MMS200MI", "LstItmByChgDate") => {
            let from = inputs.get("FLMD").cloned().unwrap_or_default();
            let to = inputs
                .get("TLMD")
                .cloned()
                .unwrap_or_else(|| "99999999".to_owned());
            let rows = data
                .rows("SLItems")
                .iter()
                .filter(|i| {
                    let changed = mi_date(text(i, "RecordDate"));
                    changed >= from && changed <= to
                })
                .map(|i| {
                    (
                        text(i, "Item").to_owned(),
                        record(&[
                            ("ITNO", padded(text(i, "Item"), 15)),
                            ("ITDS", s(text(i, "Description"))),
                            ("STAT", s(active(i))),
                            ("UNMS", s(text(i, "UM"))),
                            ("ITTY", s("FG")),
                            ("LMDT", s(mi_date(text(i, "RecordDate")))),
                        ]),
                    )
                })
                .collect();
            ok(transaction, key_range(rows, None, None, max))
        }
        ("PPS200MI", "GetHead" | "LstLine") => {
            let Some(po) = inputs.get("PUNO") else {
                return error_response(
                    transaction,
                    "Purchase order number must be entered",
                    Some("PUNO"),
                );
            };
            let Some(head) = data.find("SLPos", &[po.as_str()]) else {
                return error_response(
                    transaction,
                    &format!("Purchase order {po} does not exist"),
                    Some("PUNO"),
                );
            };
            if transaction == "GetHead" {
                let currency = data
                    .find("SLVendors", &[text(head, "VendNum")])
                    .map(|v| text(v, "CurrCode").to_owned())
                    .unwrap_or_default();
                return ok(
                    transaction,
                    vec![record(&[
                        ("PUNO", padded(po, 10)),
                        ("SUNO", s(text(head, "VendNum"))),
                        ("PUDT", s(mi_date(text(head, "OrderDate")))),
                        ("CUCD", s(currency)),
                        ("PUSL", s("20")),
                        ("PUST", s("20")),
                        ("LMDT", s(mi_date(text(head, "RecordDate")))),
                    ])],
                );
            }
            let rows = data
                .rows("SLPoItems")
                .iter()
                .filter(|l| text(l, "PoNum") == po)
                .map(|l| {
                    (
                        format!("{:05}", text(l, "PoLine").parse::<u32>().unwrap_or(0)),
                        record(&[
                            ("PUNO", padded(po, 10)),
                            ("PNLI", s(text(l, "PoLine"))),
                            ("PNLS", s(text(l, "PoRelease"))),
                            ("ITNO", s(text(l, "Item"))),
                            ("ORQA", s(text(l, "QtyOrdered"))),
                            ("RVQA", s(text(l, "QtyReceived"))),
                            ("PUPR", s(text(l, "ItemCost"))),
                            ("PUUN", s(text(l, "UM"))),
                            ("PUSL", s("20")),
                            ("DWDT", s(mi_date(text(l, "DueDate")))),
                            ("LMDT", s(mi_date(text(l, "RecordDate")))),
                        ]),
                    )
                })
                .collect();
            ok(transaction, key_range(rows, None, None, max))
        }
        ("APS200MI", "GetInvoice") => {
            let (Some(supplier), Some(invoice)) = (inputs.get("SUNO"), inputs.get("SINO")) else {
                return error_response(
                    transaction,
                    "Supplier and invoice number must be entered",
                    Some("SINO"),
                );
            };
            let found = data
                .rows("SLAptrxs")
                .iter()
                .find(|v| text(v, "VendNum") == supplier && text(v, "InvNum") == invoice);
            match found {
                None => error_response(
                    transaction,
                    &format!("Invoice {invoice} does not exist"),
                    Some("SINO"),
                ),
                Some(v) => ok(
                    transaction,
                    vec![record(&[
                        ("SUNO", s(supplier.clone())),
                        ("SINO", s(invoice.clone())),
                        ("IVDT", s(mi_date(text(v, "InvDate")))),
                        ("CUAM", s(text(v, "InvAmt"))),
                        ("CUCD", s("USD")),
                        ("DUDT", s(mi_date(text(v, "DueDate")))),
                        ("PUNO", s(text(v, "PoNum"))),
                    ])],
                ),
            }
        }
        ("APS130MI", "LstInvByPayDate") => {
            let rows = data
                .rows("SLAptrxps")
                .iter()
                .map(|p| {
                    (
                        format!("{}{}", mi_date(text(p, "InvDate")), text(p, "Voucher")),
                        record(&[
                            ("SUNO", s(text(p, "VendNum"))),
                            ("SINO", s(text(p, "InvNum"))),
                            ("PYDT", s(mi_date(text(p, "InvDate")))),
                            ("CUAM", s(text(p, "AmtPaid"))),
                            ("CUCD", s("USD")),
                        ]),
                    )
                })
                .collect();
            ok(transaction, key_range(rows, None, None, max))
        }
        ("CRS630MI", "LstAccountID") => {
            match inputs.get("AITP").map(String::as_str) {
                Some("1") => {}
                Some(_) => return ok(transaction, Vec::new()),
                None => {
                    return error_response(
                        transaction,
                        "Accounting dimension must be entered",
                        Some("AITP"),
                    );
                }
            }
            let rows = data
                .rows("SLCharts")
                .iter()
                .map(|a| {
                    (
                        text(a, "Acct").to_owned(),
                        record(&[
                            ("AITP", s("1")),
                            ("AITM", padded(text(a, "Acct"), 8)),
                            ("TX40", s(text(a, "Description"))),
                            (
                                "TX15",
                                s(text(a, "Description").chars().take(15).collect::<String>()),
                            ),
                            ("STAT", s("20")),
                        ]),
                    )
                })
                .collect();
            ok(transaction, key_range(rows, inputs.get("AITM"), None, max))
        }
        _ => error_response(
            transaction,
            &format!("Transaction {transaction} does not exist in program {program}"),
            None,
        ),
    }
}
