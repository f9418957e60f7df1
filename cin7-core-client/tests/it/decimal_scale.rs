//! Decimals keep their scale and digits when **read** (the other half of `decimal_digits.rs`):
//! a Cin7 answer carrying `1.2500` decodes to a `Decimal` with scale 4, and a value with more
//! significant digits than an f64 holds decodes exactly, through every read path of the client
//! (list pages, single answers, writes' answers, webhook deliveries), inside models that keep
//! unknown fields in `other_fields` too.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::str::FromStr;

use cin7_core_client::purchase::{PaymentLookup, PurchasePayment};
use cin7_core_client::webhook::WebhookEvent;
use cin7_core_client::{Cin7Request, Error, Guid};
use common::{assert_catch_all, catch_all, client, fixture, with_auth};
use mockito::{Matcher, Server};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::time::ManualClock;

const SUPPLIER: &str = "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11";
const PURCHASE: &str = "5a7fb526-527a-4229-b331-90b6f5535aab";
const INVOICE_TASK: &str = "870fbdb2-bc0a-4993-82b8-e58f514dbe49";

/// 18 significant digits: an f64 reads it as 12345678901234.568.
const LONG_4DP: &str = "12345678901234.5678";
/// 18 significant digits with 2 places (payment amounts).
const LONG_2DP: &str = "1234567890123456.78";

/// The text a value has after a trip through an f64 (what the client used to read).
fn through_f64(text: &str) -> String {
    text.parse::<f64>().unwrap().to_string()
}

/// `decimal` is exactly `text` (digits and scale), and an f64 would not have kept it, so the
/// assertion means something.
fn assert_exact(decimal: Option<Decimal>, text: &str) {
    assert_ne!(
        through_f64(text),
        text,
        "{text} survives an f64: a weak test"
    );
    let decimal = decimal.unwrap_or_else(|| panic!("{text}: no value"));
    assert_eq!(decimal.to_string(), text);
    assert_eq!(decimal, Decimal::from_str(text).unwrap());
}

#[tokio::test]
async fn a_listed_supplier_keeps_its_discount_scale_and_unknown_fields() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    // A JSON number with trailing zeros, beside unknown fields (kept in `other_fields`).
    let body = format!(
        r#"{{"Total":2,"Page":1,"SupplierList":[
            {{"ID":"{SUPPLIER}","Name":"Acme","Discount":1.2500,"Rating":4.50,"Custom":{{"Tier":"A","Weights":[1,2.5]}}}},
            {{"ID":"807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e12","Name":"Bolt","Discount":12.50}}
        ]}}"#
    );
    let m = with_auth(server.mock("GET", "/supplier"), &account)
        .match_query(Matcher::Any)
        .with_body(body)
        .expect(1)
        .create_async()
        .await;
    let rest = catch_all(&mut server);
    let page = client.suppliers().list().send().await.unwrap();
    m.assert_async().await;
    assert_catch_all(&rest);

    let acme = &page.items[0];
    assert_exact(acme.discount, "1.2500");
    assert_eq!(acme.discount.unwrap().scale(), 4);
    assert_exact(page.items[1].discount, "12.50");
    // Unknown fields are still kept and written back (as JSON values: numbers by value).
    assert_eq!(acme.other_fields["Rating"], json!(4.5));
    assert_eq!(
        acme.other_fields["Custom"],
        json!({"Tier": "A", "Weights": [1, 2.5]})
    );

    // Written back: Discount is a 2-place field, so 1.2500 goes out as 1.25 (rounding drops
    // places beyond Cin7's precision, never adds any) and 12.50 as 12.50.
    let acme_out = serde_json::to_string(acme).unwrap();
    assert!(acme_out.contains(r#""Discount":1.25"#), "{acme_out}");
    assert!(acme_out.contains(r#""Custom":{"Tier":"A","Weights":[1,2.5]}"#));
    assert!(acme_out.contains(r#""Rating":4.5"#), "{acme_out}");
    let bolt_out = serde_json::to_string(&page.items[1]).unwrap();
    assert!(bolt_out.contains(r#""Discount":12.50"#), "{bolt_out}");
    // And read again from that text: the same supplier.
    let again: cin7_core_client::supplier::Supplier = serde_json::from_str(&bolt_out).unwrap();
    assert_eq!(again, page.items[1]);
    assert_eq!(again.discount.unwrap().to_string(), "12.50");
}

#[tokio::test]
async fn an_advanced_purchase_keeps_the_digits_of_its_nested_lines() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let mut body = common::fixture_json("advanced_purchase.json");
    // Placeholders, replaced in the text so the JSON carries the digits (a `Value` would hold
    // f64s).
    let line = &mut body["Order"]["Lines"][0];
    line["Price"] = json!("@PRICE@");
    line["Tax"] = json!("@TAX@");
    line["Total"] = json!("@TOTAL@");
    body["Invoice"][0]["Lines"][0]["Total"] = json!("@INVOICE_TOTAL@");
    body["Invoice"][0]["Payments"][0]["Amount"] = json!("@AMOUNT@");
    body["CustomField"] = json!({"Level": 3});
    let body = body
        .to_string()
        .replace(r#""@PRICE@""#, "1.2500")
        .replace(r#""@TAX@""#, "0.0000")
        .replace(r#""@TOTAL@""#, LONG_4DP)
        .replace(r#""@INVOICE_TOTAL@""#, "150.0000")
        .replace(r#""@AMOUNT@""#, "150.00");
    let m = with_auth(server.mock("GET", "/advanced-purchase"), &account)
        .match_query(Matcher::UrlEncoded("ID".into(), PURCHASE.into()))
        .with_body(body)
        .expect(1)
        .create_async()
        .await;
    let rest = catch_all(&mut server);
    let purchase = client
        .purchases()
        .get(&PURCHASE.parse::<Guid>().unwrap())
        .send()
        .await
        .unwrap();
    m.assert_async().await;
    assert_catch_all(&rest);

    let order = purchase.order.as_ref().unwrap();
    let line = &order.lines[0];
    assert_exact(line.price, "1.2500");
    assert_exact(line.total, LONG_4DP);
    assert_eq!(line.tax.unwrap().to_string(), "0.0000");
    assert_eq!(line.quantity.unwrap().to_string(), "10");
    let invoice = &purchase.invoice[0];
    assert_eq!(invoice.lines[0].total.unwrap().to_string(), "150.0000");
    assert_eq!(invoice.payments[0].amount.unwrap().to_string(), "150.00");
    // The purchase still keeps what it does not type.
    assert_eq!(purchase.other_fields["CustomField"], json!({"Level": 3}));

    // Written back (a PUT of the order): the same digits as read.
    let out = serde_json::to_string(order).unwrap();
    for wanted in [
        r#""Price":1.2500"#.to_owned(),
        format!(r#""Total":{LONG_4DP}"#),
        r#""Tax":0.0000"#.to_owned(),
    ] {
        assert!(out.contains(&wanted), "{wanted} not in {out}");
    }
}

#[tokio::test]
async fn payment_amounts_keep_their_scale_when_listed_and_when_saved() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let answer = format!(
        r#"{{"PurchaseID":"{PURCHASE}","Note":"kept","Payments":[
            {{"ID":"c0a80101-0000-4000-8000-000000000001","TaskID":"{INVOICE_TASK}","Amount":25.40}},
            {{"ID":"c0a80101-0000-4000-8000-000000000002","TaskID":"{INVOICE_TASK}","Amount":{LONG_2DP}}}
        ]}}"#
    );
    let get = with_auth(server.mock("GET", "/advanced-purchase/payment"), &account)
        .match_query(Matcher::UrlEncoded("InvoiceNumber".into(), "INV-1".into()))
        .with_body(&answer)
        .expect(1)
        .create_async()
        .await;
    // The write's answer: a single payment (no envelope), decoded through `execute`.
    let post = with_auth(server.mock("POST", "/advanced-purchase/payment"), &account)
        .match_body(Matcher::Regex(format!(r#""Amount":{}"#, LONG_2DP.replace('.', r"\."))))
        .with_body(format!(
            r#"{{"ID":"c0a80101-0000-4000-8000-000000000003","PurchaseID":"{PURCHASE}","TaskID":"{INVOICE_TASK}","Amount":{LONG_2DP}}}"#
        ))
        .expect(1)
        .create_async()
        .await;
    let rest = catch_all(&mut server);

    let listed = client
        .purchases()
        .payments(&PaymentLookup::InvoiceNumber("INV-1".into()))
        .await
        .unwrap();
    assert_eq!(through_f64("25.40"), "25.4");
    assert_eq!(listed.payments[0].amount.unwrap().to_string(), "25.40");
    assert_exact(listed.payments[1].amount, LONG_2DP);
    assert_eq!(listed.other_fields["Note"], json!("kept"));
    let out = serde_json::to_string(&listed.payments[0]).unwrap();
    assert!(out.contains(r#""Amount":25.40"#), "{out}");

    let saved = client
        .purchases()
        .create_payment(&PurchasePayment {
            task_id: Some(INVOICE_TASK.parse().unwrap()),
            amount: listed.payments[1].amount,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_exact(saved.payments[0].amount, LONG_2DP);
    get.assert_async().await;
    post.assert_async().await;
    assert_catch_all(&rest);
}

#[tokio::test]
async fn a_product_keeps_its_average_cost_digits() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let body = format!(
        r#"{{"Total":2,"Page":1,"Products":[
            {{"ID":"11510572-0f9e-4d7c-a203-7e0563c3388f","SKU":"Bread","Name":"Baked Bread","AverageCost":{LONG_4DP},"PriceTier1":2.5000,"Weight":0.250}},
            {{"ID":"34d4edc5-d366-4251-82b2-d75e27fe5e9d","SKU":"GB3","Name":"Glass","AverageCost":"0.1000"}}
        ]}}"#
    );
    let m = with_auth(server.mock("GET", "/product"), &account)
        .match_query(Matcher::Any)
        .with_body(body)
        .expect(1)
        .create_async()
        .await;
    let rest = catch_all(&mut server);
    let products = client.products().list().all().await.unwrap();
    m.assert_async().await;
    assert_catch_all(&rest);

    assert_exact(products[0].average_cost, LONG_4DP);
    assert_eq!(products[0].price_tier1.unwrap().to_string(), "2.5000");
    assert_eq!(products[1].average_cost.unwrap().to_string(), "0.1000");
    assert_eq!(products[0].other_fields["Weight"], json!(0.25));
    let out = serde_json::to_string(&products[0]).unwrap();
    assert!(
        out.contains(&format!(r#""AverageCost":{LONG_4DP}"#)),
        "{out}"
    );
    assert!(out.contains(r#""PriceTier1":2.5000"#), "{out}");
    assert!(out.contains(r#""Weight":0.25"#), "{out}");
}

#[tokio::test]
async fn raw_answers_carry_the_bytes_received() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let body =
        format!(r#"{{"Total":1,"Page":1,"SupplierList":[{{"Name":"A","Discount":{LONG_4DP}}}]}}"#);
    server
        .mock("GET", "/supplier")
        .with_body(&body)
        .create_async()
        .await;
    let raw = client.execute(Cin7Request::get("supplier")).await.unwrap();
    assert_eq!(raw.bytes, body.as_bytes());
    // The tree holds an f64; the bytes the digits.
    assert_eq!(
        raw.body["SupplierList"][0]["Discount"].to_string(),
        through_f64(LONG_4DP)
    );
    let page: serde_json::Value = serde_json::from_slice(&raw.bytes).unwrap();
    assert_eq!(page["Total"], 1);
}

#[tokio::test]
async fn a_wrong_type_read_from_the_bytes_still_names_the_field() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    server
        .mock("GET", "/supplier")
        .match_query(Matcher::Any)
        .with_body(
            r#"{"Total":2,"Page":1,"SupplierList":[{"Name":"A","Discount":1.2500},{"Name":"B","Discount":true}]}"#,
        )
        .create_async()
        .await;
    let error = client.suppliers().list().send().await.unwrap_err();
    let Error::Decode { path, source, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(path, "SupplierList[1].Discount");
    assert!(
        source
            .to_string()
            .starts_with("invalid type: boolean `true`, expected a number"),
        "{source}"
    );
}

#[test]
fn webhook_payloads_keep_decimal_scale() {
    // A supplier inside `Supplier/Updated`, read from the delivery's bytes.
    let body = fixture("webhook/supplier_updated.json")
        .replace(r#""Discount": "0.0000""#, r#""Discount": 1.2500"#)
        .replace(r#""NumberOfSuppliers": 1"#, r#""NumberOfSuppliers": 1.0"#);
    let WebhookEvent::SupplierUpdated(event) = WebhookEvent::parse(body.as_bytes()).unwrap() else {
        panic!("not a supplier event")
    };
    let supplier = &event.supplier_details_list[0].supplier;
    assert_eq!(supplier.discount.unwrap().to_string(), "1.2500");
    assert_eq!(event.number_of_suppliers.unwrap().to_string(), "1.0");

    // The stock-level array, bare: read from the bytes, scale kept.
    let bare = format!(
        r#"[{{"ProductID":"11510572-0f9e-4d7c-a203-7e0563c3388f","Available":{LONG_4DP},"Bin":7.50}}]"#
    );
    let WebhookEvent::StockLevels(rows) = WebhookEvent::parse(bare.as_bytes()).unwrap() else {
        panic!("not stock levels")
    };
    assert_exact(rows[0].available, LONG_4DP);
    assert_eq!(rows[0].other_fields["Bin"], json!(7.5));

    // Wrapped in an object (tolerated): the rows are taken from the tree, so the value is kept
    // (to an f64's precision) but not the scale.
    let wrapped = r#"{"EventType":"Stock/AvailableStockLevelChanged","Rows":[{"ProductID":"11510572-0f9e-4d7c-a203-7e0563c3388f","Available":1.2500}]}"#;
    let WebhookEvent::StockLevels(rows) = WebhookEvent::parse(wrapped.as_bytes()).unwrap() else {
        panic!("not stock levels")
    };
    assert_eq!(rows[0].available, Some(Decimal::new(125, 2)));
}

#[test]
fn stored_pages_decode_with_or_without_scale() {
    use cin7_core_client::pagination::{decode_page, decode_page_slice};
    use cin7_core_client::supplier::Supplier;
    let body = format!(
        r#"{{"Total":1,"Page":1,"SupplierList":[{{"Name":"A","Discount":1.2500,"Extra":{LONG_4DP}}}]}}"#
    );
    let exact =
        decode_page_slice::<Supplier>("supplier", "SupplierList", 1, body.as_bytes()).unwrap();
    assert_eq!(exact.items[0].discount.unwrap().to_string(), "1.2500");
    assert_eq!(exact.total, Some(1));
    // From a tree: the value, not the scale.
    let tree: serde_json::Value = serde_json::from_str(&body).unwrap();
    let by_value = decode_page::<Supplier>("supplier", "SupplierList", 1, tree).unwrap();
    assert_eq!(by_value.items[0].discount.unwrap().to_string(), "1.25");
    assert_eq!(by_value.items, exact.items);
    // A repeated key is refused, naming where.
    let twice = br#"{"Total":1,"Page":1,"SupplierList":[{"Name":"A","Name":"B"}]}"#;
    let error = decode_page_slice::<Supplier>("supplier", "SupplierList", 1, twice).unwrap_err();
    let Error::Decode { path, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(path, "SupplierList[0]");
}
