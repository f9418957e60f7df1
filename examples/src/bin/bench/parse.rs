//! Cin7 JSON parsing: the client's typed decoding of full list pages (supplier list, purchase
//! list) against a plain `serde_json::Value` parse-and-walk of the same bytes, in one run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cin7_core_client::pagination::decode_page;
use cin7_core_client::purchase::PurchaseListRow;
use cin7_core_client::supplier::Supplier;
use serde_json::{Value, json};

fn guid(kind: u32, i: usize) -> String {
    format!("{kind:08x}-1c2d-4e5f-8a9b-{i:012x}")
}

/// A supplier list page shaped like `GET /supplier` answers (addresses, contacts, attributes).
fn supplier_page(rows: usize) -> Value {
    let list: Vec<Value> = (0..rows)
        .map(|i| {
            json!({
                "ID": guid(1, i),
                "Name": format!("Supplier number {i} Limited"),
                "Currency": "USD",
                "PaymentTerm": "30 days",
                "AccountPayable": "800",
                "TaxRule": "GST on Expenses",
                "Status": "Active",
                "Discount": 0.0,
                "Comments": "Imported from CloudSuite",
                "TaxNumber": format!("{:09}", i * 7),
                "AttributeSet": "CloudSuite",
                "LastModifiedOn": "2026-11-26T10:15:30.123Z",
                "AdditionalAttribute1": format!("V{i:06}"),
                "AdditionalAttribute2": "10",
                "Addresses": [{
                    "ID": guid(2, i),
                    "SupplierID": guid(1, i),
                    "Line1": format!("{i} Industrial Way"),
                    "Line2": "Unit 4",
                    "City": "Springfield",
                    "State": "IL",
                    "Postcode": "62701",
                    "Country": "United States",
                    "Type": "Business",
                    "DefaultForType": true
                }],
                "Contacts": [{
                    "ID": guid(3, i),
                    "SupplierID": guid(1, i),
                    "Name": "Accounts Payable",
                    "Phone": "+1 217 555 0100",
                    "Email": format!("ap{i}@example.com"),
                    "Default": true
                }]
            })
        })
        .collect();
    json!({"Total": rows, "Page": 1, "SupplierList": list})
}

/// A purchase list page shaped like `GET /purchaseList` answers.
fn purchase_page(rows: usize) -> Value {
    let list: Vec<Value> = (0..rows)
        .map(|i| {
            json!({
                "ID": guid(4, i),
                "BlindReceipt": false,
                "OrderNumber": format!("PO{i:07}"),
                "Status": "ORDERED",
                "OrderDate": "2026-11-20T00:00:00",
                "InvoiceDate": "2026-11-21T00:00:00",
                "Supplier": format!("Supplier number {i} Limited"),
                "SupplierID": guid(1, i),
                "InvoiceNumber": format!("INV{i:07}"),
                "InvoiceAmount": 1234.5678,
                "PaidAmount": 0,
                "InvoiceDueDate": "2026-12-21T00:00:00",
                "RequiredBy": "2026-12-01T00:00:00",
                "BaseCurrency": "USD",
                "SupplierCurrency": "USD",
                "CreditNoteNumber": null,
                "OrderStatus": "AUTHORISED",
                "StockReceivedStatus": "NOT AVAILABLE",
                "UnstockStatus": "NOT AVAILABLE",
                "InvoiceStatus": "AUTHORISED",
                "CreditNoteStatus": "NOT AVAILABLE",
                "LastUpdatedDate": "2026-11-26T10:15:30.123Z",
                "Type": "Advanced Purchase",
                "CombinedInvoiceStatus": "INVOICED",
                "CombinedPaymentStatus": "UNPAID",
                "CombinedReceivingStatus": "NOT AVAILABLE",
                "IsServiceOnly": false,
                "DropShipTaskID": null
            })
        })
        .collect();
    json!({"Total": rows, "Page": 1, "PurchaseList": list})
}

/// Visit every node of a tree.
fn walk(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(walk).sum::<usize>(),
        Value::Object(o) => 1 + o.values().map(walk).sum::<usize>(),
        Value::String(s) => 1 + s.len().min(1),
        _ => 1,
    }
}

/// Parse to `Value` and visit every node (the floor any serde_json-based decoder pays).
fn value_scan(bytes: &[u8]) -> usize {
    serde_json::from_slice::<Value>(bytes).map_or(0, |v| walk(&v))
}

/// The same through the tree the clients read answers into (`sync_core::json`: duplicated
/// keys refused), to show what that check costs.
fn unique_keys_scan(bytes: &[u8]) -> usize {
    sync_core::json::from_slice(bytes).map_or(0, |v| walk(&v))
}

fn best<F: FnMut() -> usize>(reps: usize, mut f: F) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut out = 0;
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        out = black_box(f());
        best = best.min(start.elapsed());
    }
    (best, out)
}

struct Row {
    label: String,
    bytes: usize,
    rows: usize,
    time: Duration,
}

fn print(rows: &[Row]) {
    println!("| contender | page bytes | rows | best time | MB/s | rows/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let secs = r.time.as_secs_f64().max(1e-12);
        println!(
            "| {} | {} | {} | {:.2} ms | {:.1} | {:.0} |",
            r.label,
            r.bytes,
            r.rows,
            secs * 1e3,
            r.bytes as f64 / secs / 1e6,
            r.rows as f64 / secs
        );
    }
}

fn one<T: serde::de::DeserializeOwned>(
    name: &str,
    endpoint: &str,
    key: &str,
    page: Value,
    rows: usize,
    reps: usize,
) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let bytes = serde_json::to_vec(&page)?;
    // Sanity: the typed path decodes every row.
    let check = decode_page::<T>(endpoint, key, 1, serde_json::from_slice(&bytes)?)?;
    if check.items.len() != rows {
        return Err(format!("{name}: decoded {} of {rows} rows", check.items.len()).into());
    }
    // Warm up both.
    value_scan(&bytes);
    let (floor, _) = best(reps, || value_scan(&bytes));
    let (unique, _) = best(reps, || unique_keys_scan(&bytes));
    let (typed, _) = best(reps, || {
        // What the client does with a response body: bytes → tree (unique keys) → typed page.
        let body = sync_core::json::from_slice(&bytes).unwrap_or(Value::Null);
        decode_page::<T>(endpoint, key, 1, body)
            .map(|p| p.items.len())
            .unwrap_or(0)
    });
    let (direct, _) = best(reps, || {
        // For reference: bytes straight into the typed rows, no Value in between.
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|mut v| v.get_mut(key).map(Value::take))
            .and_then(|rows| serde_json::from_value::<Vec<T>>(rows).ok())
            .map(|r| r.len())
            .unwrap_or(0)
    });
    Ok(vec![
        Row {
            label: format!("{name}: serde_json::Value parse + walk (floor)"),
            bytes: bytes.len(),
            rows,
            time: floor,
        },
        Row {
            label: format!("{name}: unique-keys tree parse + walk"),
            bytes: bytes.len(),
            rows,
            time: unique,
        },
        Row {
            label: format!("{name}: client path (unique-keys tree + `decode_page`)"),
            bytes: bytes.len(),
            rows,
            time: typed,
        },
        Row {
            label: format!("{name}: Value + owned `from_value` (reference)"),
            bytes: bytes.len(),
            rows,
            time: direct,
        },
    ])
}

/// Run the parsing benchmark.
pub fn run(rows: usize, reps: usize) -> Result<(), Box<dyn std::error::Error>> {
    println!("# Cin7 JSON parsing ({rows} rows per page, best of {reps})\n");
    let mut all = one::<Supplier>(
        "supplier list",
        "supplier",
        "SupplierList",
        supplier_page(rows),
        rows,
        reps,
    )?;
    all.extend(one::<PurchaseListRow>(
        "purchase list",
        "purchaseList",
        "PurchaseList",
        purchase_page(rows),
        rows,
        reps,
    )?);
    print(&all);
    println!();
    for group in all.chunks(4) {
        if let [floor, unique, typed, direct] = group {
            let ratio = |row: &Row| row.time.as_secs_f64() / floor.time.as_secs_f64().max(1e-12);
            println!(
                "- {}: unique-keys tree / floor = {:.2}×; client path / floor = **{:.2}×**; \
                 owned from_value / floor = {:.2}×",
                floor.label.split(':').next().unwrap_or(""),
                ratio(unique),
                ratio(typed),
                ratio(direct),
            );
        }
    }
    Ok(())
}
