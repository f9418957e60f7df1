//! Decimals go out to Cin7 as their own digits, never through an f64 (issue 16): `1.2500`
//! stays `1.2500` on the wire, digits an f64 cannot hold survive, and only places beyond
//! Cin7's documented precision (4, or 2 for discounts and payment amounts) are rounded.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::str::FromStr;

use cin7_core_client::Guid;
use cin7_core_client::purchase::{OrderLine, PurchaseOrder, TaskStatus};
use common::{client, with_auth};
use mockito::{Matcher, Server};
use proptest::prelude::*;
use rust_decimal::Decimal;
use sync_core::time::ManualClock;

const PURCHASE: &str = "5a7fb526-527a-4229-b331-90b6f5535aab";

fn line(quantity: &str, price: &str, discount: &str, total: &str) -> OrderLine {
    let d = |t: &str| Some(Decimal::from_str(t).unwrap());
    OrderLine {
        sku: Some("ITEM-1".into()),
        quantity: d(quantity),
        price: d(price),
        discount: d(discount),
        total: d(total),
        ..Default::default()
    }
}

/// (value given, what goes on the wire) for a 4-dp field and for a 2-dp field.
const FOUR_DP: &[(&str, &str)] = &[
    ("1.2500", "1.2500"),
    ("0.1", "0.1"),
    ("123456789.1234", "123456789.1234"),
    // More places than Cin7 keeps: rounded (half to even), not cut through a float.
    ("123456789.123456", "123456789.1235"),
    // 18 significant digits: an f64 would send 12345678901234.568.
    ("12345678901234.5678", "12345678901234.5678"),
    ("7", "7"),
    ("0.0000", "0.0000"),
    ("-3.10", "-3.10"),
];
const TWO_DP: &[(&str, &str)] = &[("2.50", "2.50"), ("12.5", "12.5"), ("0.125", "0.12")];

#[test]
fn model_fields_are_written_with_their_own_digits() {
    for (given, wire) in FOUR_DP {
        let text = serde_json::to_string(&line(given, given, "0", given)).unwrap();
        for field in ["Quantity", "Price", "Total"] {
            assert!(
                text.contains(&format!(r#""{field}":{wire},"#))
                    || text.contains(&format!(r#""{field}":{wire}}}"#)),
                "{given}: {text}"
            );
        }
    }
    for (given, wire) in TWO_DP {
        let text = serde_json::to_string(&line("1", "1", given, "1")).unwrap();
        assert!(text.contains(&format!(r#""Discount":{wire},"#)), "{text}");
    }
}

#[tokio::test]
async fn a_saved_order_carries_the_exact_digits_to_cin7() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let order = PurchaseOrder {
        task_id: Some(PURCHASE.parse::<Guid>().unwrap()),
        status: Some(TaskStatus::Draft),
        lines: vec![line(
            "1.2500",
            "12345678901234.5678",
            "2.50",
            "123456789.1234",
        )],
        ..Default::default()
    };
    let wanted = [
        r#""Quantity":1.2500"#,
        r#""Price":12345678901234.5678"#,
        r#""Discount":2.50"#,
        r#""Total":123456789.1234"#,
    ];
    let m = with_auth(server.mock("POST", "/purchase/order"), &account)
        .match_body(Matcher::AllOf(
            wanted
                .iter()
                // `.` is the only regex metacharacter in these snippets.
                .map(|w| Matcher::Regex(w.replace('.', r"\.")))
                .collect(),
        ))
        .with_body(format!(
            r#"{{"TaskID":"{PURCHASE}","Status":"DRAFT","Lines":[]}}"#
        ))
        .create_async()
        .await;
    client.purchases().save_order(&order).await.unwrap();
    m.assert_async().await;
}

proptest! {
    /// Any decimal within Cin7's 4 places is written exactly as its text, whatever its scale
    /// or size, and reads back with the same digits and scale.
    #[test]
    fn four_place_decimals_go_out_as_their_text(mantissa in -(10i64.pow(17))..10i64.pow(17), scale in 0u32..=4) {
        let value = Decimal::new(mantissa, scale);
        let text = serde_json::to_string(&line("1", &value.to_string(), "0", "1")).unwrap();
        let wanted = format!(r#""Price":{value},"#);
        prop_assert!(text.contains(&wanted), "{} not in {}", wanted, text);
        // Read back from the text: the same digits and scale, however many (no f64 either way).
        let back: OrderLine = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back.price.unwrap().to_string(), value.to_string());
    }
}
