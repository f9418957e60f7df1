//! M3 MI v2 transactions over the simulator's rows, with M3's field names, padding and error
//! conventions (HTTP 400 with the v2 body).
//!
//! Reads: the list transactions of the SDK's nouns, `CRS620MI/GetBasicData`,
//! `PPS200MI/SearchHead` (the query `YRE1:<value>` only) and `APS450MI/LstInvBySupInv`, in the
//! company the call names (`cono`, else the profile's default company).
//! `CRS620MI/LstSuppliers` answers its documented output only ([`LST_SUPPLIERS_OUTPUT`]: no
//! status, no change date, unless the profile says the tenant returns them via `returncols`),
//! selects by `LMTS` (rows changed after that many milliseconds since 1970 UTC) and pages by
//! `FRSU`/`TOSU`; every list returns at most the profile's per-call cap. Writes (the return path), applied to the
//! same rows the IDO and Data Lake views serve:
//!
//! - `PPS370MI` purchase-order batch entry: `StartEntry` hands out a message number, `AddHead`
//!   assigns the PO number, `AddLine` stages lines, `FinishEntry` creates the `SLPos` /
//!   `SLPoItems` rows (`YRE1` is kept in `VendOrder`), `DeleteEntry` drops the batch;
//! - `PPS001MI/Receipt` adds to a line's received quantity (the finish mark `OEND=1`, or a
//!   full receipt, completes the line);
//! - `PPS200MI/DltLine` deletes a line that has no receipts;
//! - `APS450MI/AddHead` creates an `SLAptrxs` voucher whose number is the invoice batch number
//!   (a second invoice of a supplier with the same number is refused), `AddLine` keeps the
//!   batch lines.
//!
//! Line statuses are derived from the rows as M3 would show them: `15` planned (`Stat` P),
//! `20` released, `50` highest on a partly received line, `75` fully received or finished
//! (`Stat` F), `85` complete (`Stat` C).

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::M3Profile;
use super::data::{CloudSuiteData, Row, StoredRow, ido_datetime};
use crate::values::{parse_datetime, parse_datetime_in};

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

/// `returncols`: only the named output fields, in each record; names a transaction does not
/// have are left out (the row then lacks them, as a row lacks any field it does not have).
/// Without `returncols` every field.
fn select(records: Vec<Value>, matrix: &Params) -> Vec<Value> {
    let Some(columns) = matrix.get("returncols").filter(|c| !c.is_empty()) else {
        return records;
    };
    let wanted: Vec<&str> = columns.split(',').map(str::trim).collect();
    records
        .into_iter()
        .map(|record| match record {
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .filter(|(name, _)| wanted.contains(&name.as_str()))
                    .collect(),
            ),
            other => other,
        })
        .collect()
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

/// The M3 user the simulator's service account is (`MNS150MI/GetUserData`'s `USID`).
pub const SERVICE_ACCOUNT_USER: &str = "SVC_SYNC";

/// The documented output of `CRS620MI/LstSuppliers` as the simulator serves it: no status and
/// no change date (the tenant may return more via `returncols`, see [`M3Profile::extra_output`]).
pub const LST_SUPPLIERS_OUTPUT: &[&str] = &[
    "SUNO", "SUNM", "CUCD", "TEPY", "PHNO", "ADR1", "ADR2", "TOWN", "PONO", "CSCD",
];

/// The output of `CRS620MI/GetBasicData` as the simulator serves it: the supplier's status
/// (`STAT`) among its basic data.
pub const GET_BASIC_DATA_OUTPUT: &[&str] = &["SUNO", "SUNM", "SUTY", "STAT", "CUCD", "TEPY"];

/// Keep a transaction's documented output fields, plus the extras the tenant returns when
/// `returncols` names them.
fn documented(
    records: Vec<Value>,
    transaction: &str,
    output: &[&str],
    profile: &M3Profile,
    matrix: &Params,
) -> Vec<Value> {
    let asked: Vec<&str> = matrix
        .get("returncols")
        .map(|c| c.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let served = |name: &str| {
        output.contains(&name)
            || (asked.contains(&name)
                && profile
                    .extra_output
                    .iter()
                    .any(|(t, f)| t == transaction && f == name))
    };
    records
        .into_iter()
        .map(|record| match record {
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .filter(|(name, _)| served(name))
                    .collect(),
            ),
            other => other,
        })
        .collect()
}

/// The change timestamp M3 keeps per row (`LMTS`): milliseconds since 1970 UTC of the row's
/// `RecordDate` (a wall time in the site's zone).
fn change_millis(data: &CloudSuiteData, row: &StoredRow) -> i64 {
    parse_datetime_in(text(row, "RecordDate"), data.record_date_zone())
        .map_or(0, |at| at.timestamp_millis())
}

/// One supplier with every field the simulator knows; [`documented`] trims it to what the
/// transaction returns.
fn supplier_record(data: &CloudSuiteData, v: &StoredRow, status: &str) -> Value {
    record(&[
        ("SUNO", padded(text(v, "VendNum"), 10)),
        ("SUNM", padded(text(v, "Name"), 36)),
        ("SUTY", s("0")),
        ("STAT", s(status)),
        ("CUCD", s(text(v, "CurrCode"))),
        ("TEPY", s(text(v, "TermsCode"))),
        ("PHNO", s(text(v, "Phone"))),
        ("ADR1", s(text(v, "VadAddr_1"))),
        ("ADR2", s(text(v, "VadAddr_2"))),
        ("TOWN", s(text(v, "VadCity"))),
        ("PONO", s(text(v, "VadZip"))),
        ("CSCD", s(text(v, "VadCountry"))),
        ("LMDT", s(mi_date(text(v, "RecordDate")))),
        ("LMTS", s(change_millis(data, v).to_string())),
    ])
}

/// Run one MI transaction against the data (of the company the call runs in).
pub(super) fn execute(
    data: &CloudSuiteData,
    profile: &M3Profile,
    program: &str,
    transaction: &str,
    matrix: &Params,
    inputs: &Params,
) -> Response {
    let max = max_records(matrix).min(profile.max_rows_per_call.unwrap_or(usize::MAX));
    // Reads answer only the asked-for columns; writes answer their own few fields.
    let ok = |transaction: &str, records: Vec<Value>| ok(transaction, select(records, matrix));
    // M3's status: a row's own `M3Stat` when set (any M3 code, e.g. `10` preliminary), else
    // `20` for an active IDO row and `90` (blocked) for any other.
    fn active(row: &StoredRow) -> &str {
        if !text(row, "M3Stat").is_empty() {
            text(row, "M3Stat")
        } else if text(row, "Stat") == "A" || text(row, "Stat").is_empty() {
            "20"
        } else {
            "90"
        }
    }
    match (program, transaction) {
        ("CRS620MI", "LstSuppliers") => {
            // `LMTS`: rows changed after that timestamp (milliseconds since 1970 UTC).
            let since = match inputs.get("LMTS").filter(|v| !v.is_empty()) {
                None => None,
                Some(value) => match value.parse::<i64>() {
                    Ok(millis) => Some(millis),
                    Err(_) => {
                        return error_response(
                            transaction,
                            &format!("Timestamp {value} is invalid"),
                            Some("LMTS"),
                        );
                    }
                },
            };
            let rows = data
                .rows("SLVendors")
                .iter()
                .filter(|v| since.is_none_or(|since| change_millis(data, v) > since))
                .map(|v| {
                    (
                        text(v, "VendNum").to_owned(),
                        supplier_record(data, v, active(v)),
                    )
                })
                .collect();
            let rows = key_range(rows, inputs.get("FRSU"), inputs.get("TOSU"), max);
            ok(
                transaction,
                documented(rows, transaction, LST_SUPPLIERS_OUTPUT, profile, matrix),
            )
        }
        ("CRS620MI", "GetBasicData") => {
            let Some(supplier) = inputs.get("SUNO").filter(|v| !v.is_empty()) else {
                return error_response(
                    transaction,
                    "Supplier number must be entered",
                    Some("SUNO"),
                );
            };
            match data.find("SLVendors", &[supplier.as_str()]) {
                None => error_response(
                    transaction,
                    &format!("Supplier {supplier} does not exist"),
                    Some("SUNO"),
                ),
                Some(v) => {
                    let row = supplier_record(data, v, active(v));
                    ok(
                        transaction,
                        documented(
                            vec![row],
                            transaction,
                            GET_BASIC_DATA_OUTPUT,
                            profile,
                            matrix,
                        ),
                    )
                }
            }
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
            // Ordered by change date, then item: the list's "from" input is the change date.
            let rows = data
                .rows("SLItems")
                .iter()
                .filter(|i| {
                    let changed = mi_date(text(i, "RecordDate"));
                    changed >= from && changed <= to
                })
                .map(|i| {
                    let changed = mi_date(text(i, "RecordDate"));
                    (
                        format!("{changed}\u{1f}{}", text(i, "Item")),
                        record(&[
                            ("ITNO", padded(text(i, "Item"), 15)),
                            ("ITDS", s(text(i, "Description"))),
                            ("STAT", s(active(i))),
                            ("UNMS", s(text(i, "UM"))),
                            ("ITTY", s("FG")),
                            ("LMDT", s(changed)),
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
            let lines: Vec<&StoredRow> = data
                .rows("SLPoItems")
                .iter()
                .filter(|l| text(l, "PoNum") == po)
                .collect();
            if transaction == "GetHead" {
                let vendor = data.find("SLVendors", &[text(head, "VendNum")]);
                let vendor_field =
                    |name: &str| vendor.map(|v| text(v, name).to_owned()).unwrap_or_default();
                // The requested delivery date: the earliest line's (the IDO head has none).
                let requested = lines
                    .iter()
                    .map(|l| mi_date(text(l, "DueDate")))
                    .filter(|d| !d.is_empty())
                    .min()
                    .unwrap_or_default();
                // `GetHead`'s documented output carries no line status and no change date.
                return ok(
                    transaction,
                    vec![record(&[
                        ("CONO", s(company_of(matrix, profile))),
                        ("PUNO", padded(po, 10)),
                        ("SUNO", s(text(head, "VendNum"))),
                        ("PUDT", s(mi_date(text(head, "OrderDate")))),
                        ("DWDT", s(requested)),
                        ("CUCD", s(vendor_field("CurrCode"))),
                        ("TEPY", s(vendor_field("TermsCode"))),
                        ("WHLO", s(text(head, "Whse"))),
                        ("YRE1", padded(text(head, "VendOrder"), 36)),
                    ])],
                );
            }
            // `PNLI` positions the list (inclusive), compared as a number.
            let from_line = inputs.get("PNLI").and_then(|v| v.parse::<u32>().ok());
            let rows = lines
                .into_iter()
                .filter(|l| {
                    from_line
                        .is_none_or(|from| text(l, "PoLine").parse::<u32>().unwrap_or(0) >= from)
                })
                .map(|l| {
                    let (lowest, highest) = line_status(l);
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
                            ("PUSL", s(lowest.to_string())),
                            ("PUST", s(highest.to_string())),
                            ("DWDT", s(mi_date(text(l, "DueDate")))),
                            ("PITD", s(text(l, "Description"))),
                        ]),
                    )
                })
                .collect();
            ok(transaction, key_range(rows, None, None, max))
        }
        ("PPS200MI", "SearchHead") => {
            let terms = match search_input(transaction, inputs) {
                Ok(terms) => terms,
                Err(refusal) => return *refusal,
            };
            let rows = data
                .rows("SLPos")
                .iter()
                .map(|h| {
                    let lines: Vec<&StoredRow> = data
                        .rows("SLPoItems")
                        .iter()
                        .filter(|l| text(l, "PoNum") == text(h, "PoNum"))
                        .collect();
                    let code = |s: Option<u8>| s.map(|s| format!("{s:02}")).unwrap_or_default();
                    let lowest = code(lines.iter().map(|l| line_status(l).0).min());
                    let highest = code(lines.iter().map(|l| line_status(l).1).max());
                    // Every field SearchHead returns, plus `YRE1` (searchable, not returned).
                    let fields = [
                        ("DIVI", divisions(profile)),
                        ("PUNO", text(h, "PoNum").to_owned()),
                        ("WHLO", text(h, "Whse").to_owned()),
                        ("SUNO", text(h, "VendNum").to_owned()),
                        ("PUSL", lowest),
                        ("PUST", highest),
                        ("PUDT", mi_date(text(h, "OrderDate"))),
                        ("YRE1", text(h, "VendOrder").to_owned()),
                    ];
                    (text(h, "PoNum").to_owned(), fields)
                })
                .filter(|(_, fields)| matches(&terms, fields))
                .map(|(key, fields)| {
                    let mut pairs: Vec<(&str, Value)> =
                        fields.iter().map(|(k, v)| (*k, s(v.clone()))).collect();
                    // The legacy return-path lookup reads YRE1 back from the search.
                    if !terms.iter().any(|(field, _)| field == "YRE1") {
                        pairs.retain(|(k, _)| *k != "YRE1");
                    }
                    if let Some(puno) = pairs.iter_mut().find(|(k, _)| *k == "PUNO") {
                        puno.1 = padded(&key, 10);
                    }
                    (key, record(&pairs))
                })
                .collect();
            ok(transaction, key_range(rows, None, None, max))
        }
        ("APS200MI", "SearchSupInvoic") => {
            let terms = match search_input(transaction, inputs) {
                Ok(terms) => terms,
                Err(refusal) => return *refusal,
            };
            let rows = data
                .rows("SLAptrxs")
                .iter()
                .map(|v| {
                    let fields = [
                        ("SUNO", text(v, "VendNum").to_owned()),
                        ("SINO", text(v, "InvNum").to_owned()),
                        ("IVDT", mi_date(text(v, "InvDate"))),
                        ("PUNO", text(v, "PoNum").to_owned()),
                    ];
                    // Ordered by invoice number, then supplier.
                    (format!("{}\u{1f}{}", fields[1].1, fields[0].1), fields)
                })
                .filter(|(_, fields)| matches(&terms, fields))
                .map(|(key, fields)| {
                    let pairs: Vec<(&str, Value)> =
                        fields.iter().map(|(k, v)| (*k, s(v.clone()))).collect();
                    (key, record(&pairs))
                })
                .collect();
            ok(transaction, key_range(rows, None, None, max))
        }
        ("APS450MI", "LstLines") => {
            let Some(batch) = inputs.get("INBN").filter(|v| !v.is_empty()) else {
                return error_response(
                    transaction,
                    "Invoice batch number must be entered",
                    Some("INBN"),
                );
            };
            // The batch of an invoice is its voucher: its distributions are accounting lines.
            let rows = data
                .rows("SLAptrxds")
                .iter()
                .filter(|d| text(d, "Voucher") == batch)
                .map(|d| {
                    (
                        format!("{:05}", text(d, "DistSeq").parse::<u32>().unwrap_or(0)),
                        record(&[
                            ("INBN", s(batch.clone())),
                            ("RDTP", s("8")),
                            ("NLAM", s(text(d, "Amount"))),
                            ("AIT1", s(text(d, "Acct"))),
                            ("VTCD", s("")),
                        ]),
                    )
                })
                .collect();
            ok(transaction, key_range(rows, None, None, max))
        }
        ("APS450MI", "LstInvBySupInv") => {
            for field in ["SPYN", "SUNO", "SINO"] {
                if inputs.get(field).is_none_or(|v| v.is_empty()) {
                    return error_response(
                        transaction,
                        &format!("{field} must be entered"),
                        Some(field),
                    );
                }
            }
            let (supplier, invoice) = (&inputs["SUNO"], &inputs["SINO"]);
            let rows = data
                .rows("SLAptrxs")
                .iter()
                .filter(|v| text(v, "VendNum") == supplier && text(v, "InvNum") == invoice)
                .map(|v| {
                    (
                        text(v, "Voucher").to_owned(),
                        record(&[
                            ("INBN", s(text(v, "Voucher"))),
                            ("IBTP", s("20")),
                            ("SUPA", s("10")),
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
                        (
                            "CUCD",
                            s(data
                                .find("SLVendors", &[supplier.as_str()])
                                .map(|v| text(v, "CurrCode"))
                                .filter(|c| !c.is_empty())
                                .unwrap_or("USD")),
                        ),
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
        ("MNS150MI", "GetUserData") => {
            // The calling user's defaults (the output named by third-party M3 clients); the
            // simulator's service account defaults to its default company and first division.
            let user = record(&[
                ("USID", s(SERVICE_ACCOUNT_USER)),
                ("CONO", s(&profile.default_company)),
                ("DIVI", s(divisions(profile))),
                ("NAME", s("Sync service account")),
            ]);
            ok(transaction, vec![user])
        }
        _ => error_response(
            transaction,
            &format!("Transaction {transaction} does not exist in program {program}"),
            None,
        ),
    }
}

/// The terms of a search transaction's `SQRY`, or M3's refusal of a missing or unreadable one.
fn search_input(
    transaction: &str,
    inputs: &Params,
) -> Result<Vec<(String, SearchTerm)>, Box<Response>> {
    let Some(query) = inputs.get("SQRY") else {
        return Err(Box::new(error_response(
            transaction,
            "Search query must be entered",
            Some("SQRY"),
        )));
    };
    search_terms(query)
        .map_err(|message| Box::new(error_response(transaction, &message, Some("SQRY"))))
}

/// The terms of an M3 search query as the simulator understands it: `FIELD:value`,
/// `FIELD:*` and `FIELD:[from TO to]` (inclusive, `*` open), joined by ` AND `.
fn search_terms(query: &str) -> Result<Vec<(String, SearchTerm)>, String> {
    query
        .split(" AND ")
        .map(|term| {
            let term = term.trim().trim_start_matches('(').trim_end_matches(')');
            let (field, value) = term
                .split_once(':')
                .ok_or_else(|| format!("Search query term `{term}` is not FIELD:value"))?;
            let value = value.trim().trim_matches('"');
            let parsed = if value == "*" {
                SearchTerm::Any
            } else if let Some(range) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                let (from, to) = range
                    .split_once(" TO ")
                    .ok_or_else(|| format!("Search range `{value}` is not [from TO to]"))?;
                let bound = |b: &str| (b.trim() != "*").then(|| b.trim().to_owned());
                SearchTerm::Range(bound(from), bound(to))
            } else {
                SearchTerm::Exact(value.to_owned())
            };
            Ok((field.trim().to_owned(), parsed))
        })
        .collect()
}

/// One term of a search query.
#[derive(Debug)]
enum SearchTerm {
    Any,
    Exact(String),
    Range(Option<String>, Option<String>),
}

/// Whether a row's search fields match every term (a field the row lacks matches nothing).
fn matches(terms: &[(String, SearchTerm)], fields: &[(&str, String)]) -> bool {
    terms.iter().all(|(field, term)| {
        let Some((_, value)) = fields.iter().find(|(name, _)| name == field) else {
            return false;
        };
        match term {
            SearchTerm::Any => true,
            SearchTerm::Exact(wanted) => value == wanted,
            SearchTerm::Range(from, to) => {
                from.as_ref().is_none_or(|f| value >= f) && to.as_ref().is_none_or(|t| value <= t)
            }
        }
    })
}

/// The company a call runs in (`cono`, else the user's default).
fn company_of(matrix: &Params, profile: &M3Profile) -> String {
    matrix
        .get("cono")
        .cloned()
        .unwrap_or_else(|| profile.default_company.clone())
}

/// The first division of the tenant (the simulator keeps no per-row division).
fn divisions(profile: &M3Profile) -> String {
    profile.divisions.first().cloned().unwrap_or_default()
}

/// A PO line's lowest and highest M3 status, derived from its row.
fn line_status(row: &StoredRow) -> (u8, u8) {
    let number = |name: &str| text(row, name).parse::<Decimal>().unwrap_or_default();
    let (ordered, received) = (number("QtyOrdered"), number("QtyReceived"));
    match text(row, "Stat") {
        "P" => (15, 15),
        "F" => (75, 75),
        "C" => (85, 85),
        _ if ordered > Decimal::ZERO && received >= ordered => (75, 75),
        _ if received > Decimal::ZERO => (20, 50),
        _ => (20, 20),
    }
}

/// A `PPS370MI` head being entered.
#[derive(Debug, Clone)]
struct StagedHead {
    po: String,
    supplier: String,
    warehouse: String,
    order_date: NaiveDate,
    delivery_date: NaiveDate,
    your_reference: String,
}

/// A `PPS370MI` line being entered.
#[derive(Debug, Clone)]
struct StagedLine {
    line: u32,
    item: String,
    quantity: Decimal,
    price: Decimal,
    delivery_date: NaiveDate,
    description: String,
}

/// One `PPS370MI` batch (message).
#[derive(Debug, Clone, Default)]
struct PoBatch {
    head: Option<StagedHead>,
    lines: Vec<StagedLine>,
}

/// What the M3 writes keep between calls: `PPS370MI` batches and number series.
#[derive(Debug, Default)]
pub(super) struct M3State {
    next_message: u64,
    next_po: u64,
    batches: BTreeMap<String, PoBatch>,
}

/// The transactions that change data (served by [`execute_write`]).
pub(super) fn is_write(program: &str, transaction: &str) -> bool {
    matches!(
        (program, transaction),
        (
            "PPS370MI",
            "StartEntry" | "AddHead" | "AddLine" | "FinishEntry" | "DeleteEntry"
        ) | ("PPS001MI", "Receipt")
            | ("PPS200MI", "DltLine")
            | ("APS450MI", "AddHead" | "AddLine")
    )
}

/// A failed transaction: M3's message and the field it names.
struct MiFault(String, Option<&'static str>);

type Written = Result<Vec<Value>, MiFault>;

fn required<'a>(inputs: &'a Params, field: &'static str) -> Result<&'a str, MiFault> {
    inputs
        .get(field)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| MiFault(format!("{field} must be entered"), Some(field)))
}

fn date_input(inputs: &Params, field: &'static str) -> Result<Option<NaiveDate>, MiFault> {
    match inputs
        .get(field)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y%m%d")
            .map(Some)
            .map_err(|_| MiFault(format!("{field} {v} is not a valid date"), Some(field))),
    }
}

fn decimal_input(inputs: &Params, field: &'static str) -> Result<Option<Decimal>, MiFault> {
    match inputs
        .get(field)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(v) => v
            .parse::<Decimal>()
            .map(Some)
            .map_err(|_| MiFault(format!("{field} {v} is not a number"), Some(field))),
    }
}

fn ido_date(date: NaiveDate) -> String {
    ido_datetime(date.and_time(chrono::NaiveTime::MIN).and_utc())
}

fn row(values: &[(&str, Option<String>)]) -> Row {
    values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn some(value: impl ToString) -> Option<String> {
    Some(value.to_string())
}

fn supplier_exists(data: &CloudSuiteData, supplier: &str) -> Result<(), MiFault> {
    data.find("SLVendors", &[supplier])
        .map(|_| ())
        .ok_or_else(|| MiFault(format!("Supplier {supplier} does not exist"), Some("SUNO")))
}

/// Run one write transaction against the data; the change is applied before the answer.
pub(super) fn execute_write(
    data: &mut CloudSuiteData,
    state: &mut M3State,
    now: DateTime<Utc>,
    program: &str,
    transaction: &str,
    inputs: &Params,
) -> Response {
    let result = match (program, transaction) {
        ("PPS370MI", _) => po_batch(data, state, now, transaction, inputs),
        ("PPS001MI", "Receipt") => receipt(data, now, inputs),
        ("PPS200MI", "DltLine") => delete_line(data, inputs),
        ("APS450MI", "AddHead") => invoice_head(data, now, inputs),
        ("APS450MI", "AddLine") => invoice_line(data, inputs),
        _ => Err(MiFault(
            format!("Transaction {transaction} does not exist in program {program}"),
            None,
        )),
    };
    match result {
        Ok(records) => ok(transaction, records),
        Err(MiFault(message, field)) => error_response(transaction, &message, field),
    }
}

fn po_batch(
    data: &mut CloudSuiteData,
    state: &mut M3State,
    now: DateTime<Utc>,
    transaction: &str,
    inputs: &Params,
) -> Written {
    if transaction == "StartEntry" {
        required(inputs, "BAOR")?;
        state.next_message += 1;
        let message = format!("{:015}", state.next_message);
        state.batches.insert(message.clone(), PoBatch::default());
        return Ok(vec![record(&[("MSGN", s(message))])]);
    }
    let message = required(inputs, "MSGN")?.to_owned();
    let Some(batch) = state.batches.get_mut(&message) else {
        return Err(MiFault(
            format!("Message number {message} does not exist"),
            Some("MSGN"),
        ));
    };
    match transaction {
        "AddHead" => {
            if batch.head.is_some() {
                return Err(MiFault(
                    format!("Message {message} already has an order head"),
                    Some("MSGN"),
                ));
            }
            required(inputs, "FACI")?;
            let warehouse = required(inputs, "WHLO")?.to_owned();
            let supplier = required(inputs, "SUNO")?.to_owned();
            supplier_exists(data, &supplier)?;
            let delivery_date = date_input(inputs, "DWDT")?
                .ok_or_else(|| MiFault("DWDT must be entered".into(), Some("DWDT")))?;
            let order_date = date_input(inputs, "PUDT")?.unwrap_or_else(|| now.date_naive());
            state.next_po += 1;
            let po = format!("{}", 3_000_000_000u64 + state.next_po);
            batch.head = Some(StagedHead {
                po: po.clone(),
                supplier,
                warehouse,
                order_date,
                delivery_date,
                your_reference: inputs.get("YRE1").cloned().unwrap_or_default(),
            });
            Ok(vec![record(&[("PUNO", s(po))])])
        }
        "AddLine" => {
            let Some(head) = &batch.head else {
                return Err(MiFault("Enter the order head first".into(), Some("MSGN")));
            };
            if let Some(po) = inputs.get("PUNO").filter(|p| !p.is_empty())
                && *po != head.po
            {
                return Err(MiFault(
                    format!("Purchase order {po} is not the order of message {message}"),
                    Some("PUNO"),
                ));
            }
            let item = required(inputs, "ITNO")?.to_owned();
            let Some(known) = data.find("SLItems", &[item.as_str()]) else {
                return Err(MiFault(
                    format!("Item number {item} does not exist"),
                    Some("ITNO"),
                ));
            };
            let quantity = decimal_input(inputs, "ORQA")?
                .filter(|q| *q > Decimal::ZERO)
                .ok_or_else(|| {
                    MiFault(
                        "Ordered quantity must be greater than zero".into(),
                        Some("ORQA"),
                    )
                })?;
            let line = match inputs.get("PNLI").filter(|v| !v.is_empty()) {
                Some(v) => v
                    .parse::<u32>()
                    .map_err(|_| MiFault(format!("PNLI {v} is not a number"), Some("PNLI")))?,
                None => batch.lines.iter().map(|l| l.line).max().unwrap_or(0) + 10,
            };
            if batch.lines.iter().any(|l| l.line == line) {
                return Err(MiFault(
                    format!("Purchase order line {line} already exists"),
                    Some("PNLI"),
                ));
            }
            let description = inputs
                .get("PITD")
                .filter(|v| !v.is_empty())
                .cloned()
                .unwrap_or_else(|| text(known, "Description").to_owned());
            batch.lines.push(StagedLine {
                line,
                item,
                quantity,
                price: decimal_input(inputs, "PUPR")?.unwrap_or_default(),
                delivery_date: date_input(inputs, "DWDT")?.unwrap_or(head.delivery_date),
                description,
            });
            Ok(vec![record(&[
                ("PUNO", s(head.po.clone())),
                ("PNLI", s(line.to_string())),
            ])])
        }
        "FinishEntry" => {
            let Some(head) = batch.head.clone() else {
                return Err(MiFault(
                    format!("Message {message} has no order head"),
                    Some("MSGN"),
                ));
            };
            if batch.lines.is_empty() {
                return Err(MiFault(
                    format!("Message {message} has no order lines"),
                    Some("MSGN"),
                ));
            }
            let lines = std::mem::take(&mut batch.lines);
            state.batches.remove(&message);
            let stamp = data.record_date(now);
            data.insert(
                "SLPos",
                row(&[
                    ("PoNum", some(&head.po)),
                    ("VendNum", some(&head.supplier)),
                    ("OrderDate", some(ido_date(head.order_date))),
                    ("Stat", some("O")),
                    ("Type", some("R")),
                    ("Whse", some(&head.warehouse)),
                    ("TermsCode", None),
                    (
                        "VendOrder",
                        Some(head.your_reference.clone()).filter(|r| !r.is_empty()),
                    ),
                    ("RecordDate", some(&stamp)),
                ]),
            );
            for line in lines {
                data.insert(
                    "SLPoItems",
                    row(&[
                        ("PoNum", some(&head.po)),
                        ("PoLine", some(line.line)),
                        ("PoRelease", some(0)),
                        ("Item", some(&line.item)),
                        ("Description", some(&line.description)),
                        ("QtyOrdered", some(line.quantity.normalize())),
                        ("QtyReceived", some(0)),
                        ("ItemCost", some(line.price.normalize())),
                        ("UM", some("EA")),
                        ("Stat", some("O")),
                        ("DueDate", some(ido_date(line.delivery_date))),
                        ("RecordDate", some(&stamp)),
                    ]),
                );
            }
            Ok(vec![record(&[("PUNO", s(head.po))])])
        }
        "DeleteEntry" => {
            state.batches.remove(&message);
            Ok(Vec::new())
        }
        other => Err(MiFault(
            format!("Transaction {other} does not exist in program PPS370MI"),
            None,
        )),
    }
}

/// The `SLPoItems` key of the line an input names.
fn line_key(inputs: &Params, suffix_required: bool) -> Result<(String, String, String), MiFault> {
    let po = required(inputs, "PUNO")?.to_owned();
    let line = required(inputs, "PNLI")?.to_owned();
    let suffix = if suffix_required {
        required(inputs, "PNLS")?.to_owned()
    } else {
        inputs
            .get("PNLS")
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| "0".into())
    };
    Ok((po, line, suffix))
}

fn receipt(data: &mut CloudSuiteData, now: DateTime<Utc>, inputs: &Params) -> Written {
    date_input(inputs, "TRDT")?
        .ok_or_else(|| MiFault("TRDT must be entered".into(), Some("TRDT")))?;
    required(inputs, "RESP")?;
    let (po, line, suffix) = line_key(inputs, true)?;
    let quantity = decimal_input(inputs, "RVQA")?.unwrap_or_default();
    if quantity <= Decimal::ZERO {
        return Err(MiFault(
            "Received quantity must be greater than zero".into(),
            Some("RVQA"),
        ));
    }
    let Some(found) = data.find("SLPoItems", &[&po, &line, &suffix]) else {
        return Err(MiFault(
            format!("Purchase order line {po}/{line}/{suffix} does not exist"),
            Some("PNLI"),
        ));
    };
    let (lowest, _) = line_status(found);
    if lowest < 20 {
        return Err(MiFault(
            format!("Purchase order line {po}/{line} has status {lowest}; it is not released"),
            Some("PNLI"),
        ));
    }
    if lowest >= 75 {
        return Err(MiFault(
            format!("Purchase order line {po}/{line} is already completely received"),
            Some("PNLI"),
        ));
    }
    let number = |name: &str| text(found, name).parse::<Decimal>().unwrap_or_default();
    let received = number("QtyReceived") + quantity;
    let finished =
        inputs.get("OEND").map(String::as_str) == Some("1") || received >= number("QtyOrdered");
    let received_text = received.normalize().to_string();
    let mut changes = vec![("QtyReceived", Some(received_text.as_str()))];
    if finished {
        changes.push(("Stat", Some("F")));
    }
    data.update("SLPoItems", &[&po, &line, &suffix], &changes, now);
    Ok(Vec::new())
}

fn delete_line(data: &mut CloudSuiteData, inputs: &Params) -> Written {
    let (po, line, suffix) = line_key(inputs, false)?;
    let Some(found) = data.find("SLPoItems", &[&po, &line, &suffix]) else {
        return Err(MiFault(
            format!("Purchase order line {po}/{line}/{suffix} does not exist"),
            Some("PNLI"),
        ));
    };
    if text(found, "QtyReceived")
        .parse::<Decimal>()
        .unwrap_or_default()
        > Decimal::ZERO
    {
        return Err(MiFault(
            format!("Purchase order line {po}/{line} has receipts and cannot be deleted"),
            Some("PNLI"),
        ));
    }
    data.delete("SLPoItems", &[&po, &line, &suffix]);
    Ok(Vec::new())
}

fn invoice_head(data: &mut CloudSuiteData, now: DateTime<Utc>, inputs: &Params) -> Written {
    let supplier = required(inputs, "SUNO")?.to_owned();
    supplier_exists(data, &supplier)?;
    let invoice_date = date_input(inputs, "IVDT")?
        .ok_or_else(|| MiFault("IVDT must be entered".into(), Some("IVDT")))?;
    let number = inputs.get("SINO").cloned().unwrap_or_default();
    if !number.is_empty()
        && data
            .rows("SLAptrxs")
            .iter()
            .any(|v| text(v, "VendNum") == supplier && text(v, "InvNum") == number)
    {
        return Err(MiFault(
            format!("Supplier invoice number {number} already exists for supplier {supplier}"),
            Some("SINO"),
        ));
    }
    let batch = data.next_voucher();
    let amount = decimal_input(inputs, "CUAM")?.unwrap_or_default();
    data.insert(
        "SLAptrxs",
        row(&[
            ("VendNum", some(&supplier)),
            ("Voucher", some(batch)),
            ("InvNum", Some(number).filter(|n| !n.is_empty())),
            ("InvDate", some(ido_date(invoice_date))),
            ("InvAmt", some(amount.normalize())),
            ("DueDate", date_input(inputs, "DUDT")?.map(ido_date)),
            (
                "PoNum",
                inputs.get("PUNO").filter(|p| !p.is_empty()).cloned(),
            ),
            ("RecordDate", some(data.record_date(now))),
        ]),
    );
    Ok(vec![record(&[("INBN", s(batch.to_string()))])])
}

fn invoice_line(data: &mut CloudSuiteData, inputs: &Params) -> Written {
    let batch = required(inputs, "INBN")?.to_owned();
    required(inputs, "RDTP")?;
    if data.find("SLAptrxs", &[&batch]).is_none() {
        return Err(MiFault(
            format!("Invoice batch number {batch} does not exist"),
            Some("INBN"),
        ));
    }
    if let Some(po) = inputs.get("PUNO").filter(|p| !p.is_empty()) {
        let line = inputs.get("PNLI").cloned().unwrap_or_default();
        let suffix = inputs
            .get("PNLS")
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| "0".into());
        if !line.is_empty() && data.find("SLPoItems", &[po, &line, &suffix]).is_none() {
            return Err(MiFault(
                format!("Purchase order line {po}/{line}/{suffix} does not exist"),
                Some("PNLI"),
            ));
        }
    }
    let number = data
        .rows(INVOICE_LINES)
        .iter()
        .filter(|l| text(l, "INBN") == batch)
        .count()
        + 1;
    let mut values: Row = inputs
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    values.insert("TRNO".into(), some(number));
    data.insert(INVOICE_LINES, values);
    Ok(vec![record(&[("TRNO", s(number.to_string()))])])
}

/// The table where the simulator keeps `APS450MI/AddLine` batch lines (inputs as sent, plus
/// `TRNO`); not an IDO, so no API view serves it.
pub const INVOICE_LINES: &str = "APS450MI.Lines";
