#![allow(clippy::unwrap_used)]
//! Property tests for the shared codecs: what the writer produces, the reader accepts exactly.

use chrono::{DateTime, NaiveDate, Utc};
use cin7_core_client::Guid;
use cin7_core_client::codec::{format_date, format_datetime, parse_date, parse_datetime};
use proptest::prelude::*;
use rust_decimal::Decimal;

#[derive(serde::Serialize, serde::Deserialize)]
struct Amount {
    #[serde(with = "cin7_core_client::codec::decimal4")]
    v: Option<Decimal>,
}

proptest! {
    #[test]
    fn written_timestamps_read_back_to_the_millisecond(ms in 0i64..4_102_444_800_000) {
        let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap();
        prop_assert_eq!(parse_datetime(&format_datetime(t)), Some(t));
        // With a Z and with extra digits it is the same instant.
        prop_assert_eq!(parse_datetime(&format!("{}Z", format_datetime(t))), Some(t));
        prop_assert_eq!(parse_datetime(&format!("{}0000", format_datetime(t))), Some(t));
    }

    #[test]
    fn written_dates_read_back_in_every_form(days in 0i32..60_000) {
        let d = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(i64::from(days));
        prop_assert_eq!(parse_date(&format_date(d)), Some(d));
        prop_assert_eq!(parse_date(&d.format("%d/%m/%Y").to_string()), Some(d));
        prop_assert_eq!(parse_date(&d.format("%Y-%m-%d").to_string()), Some(d));
    }

    #[test]
    fn four_dp_decimals_survive_a_json_round_trip(units in -1_000_000_000_000i64..1_000_000_000_000, scale in 0u32..=4) {
        let v = Decimal::new(units, scale);
        let json = serde_json::to_string(&Amount { v: Some(v) }).unwrap();
        let back: Amount = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.v.map(|d| d.normalize()), Some(v.normalize()));
        // The same value as a string is read identically.
        let as_text: Amount = serde_json::from_str(&format!(r#"{{"v":"{v}"}}"#)).unwrap();
        prop_assert_eq!(as_text.v, Some(v));
    }

    #[test]
    fn any_decimal_read_from_a_json_number_keeps_its_digits_and_scale(
        lo in any::<u64>(), hi in any::<u32>(), negative in any::<bool>(), scale in 0u32..=28,
    ) {
        let v = Decimal::from_parts(lo as u32, (lo >> 32) as u32, hi, negative, scale);
        prop_assume!(!(v.is_zero() && negative), "a negative zero has no JSON text of its own");
        let back: Amount = serde_json::from_str(&format!(r#"{{"v":{v}}}"#)).unwrap();
        prop_assert_eq!(back.v.unwrap().to_string(), v.to_string());
        prop_assert_eq!(back.v.unwrap().scale(), v.scale());
    }

    #[test]
    fn guids_are_equal_whatever_the_case(bytes in proptest::array::uniform16(any::<u8>())) {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
        let lower: Guid = text.parse().unwrap();
        let upper: Guid = text.to_uppercase().parse().unwrap();
        prop_assert_eq!(&lower, &upper);
        prop_assert_eq!(lower.to_string(), text);
    }

    #[test]
    fn the_parsers_never_panic(text in ".{0,40}") {
        let _ = parse_datetime(&text);
        let _ = parse_date(&text);
        let _ = text.parse::<Guid>();
    }
}
