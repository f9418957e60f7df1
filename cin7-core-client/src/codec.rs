//! Shared codecs for what Cin7 really sends: lenient dates, decimals as numbers or strings,
//! loose booleans, case-insensitive GUIDs and open string enums.
//!
//! Cin7's documentation promises `yyyy-MM-ddTHH:mm:ss.fff` UTC dates and JSON numbers; real
//! answers mix `Z` and zone-less timestamps with 0 to 7 fractional digits, date-only values,
//! `dd/MM/yyyy` in webhook payloads, numbers as strings (`"10.0000000000"`), empty strings for
//! absent integers, and GUIDs in either case. Every model in the crate goes through these
//! helpers so one place decides how lenient to be on input and how exact on output.
//!
//! Decimals are exact both ways: written as their own digits, and read from the number's own
//! text when serde_json parses the bytes (as the client does), so `1.2500` reads with scale 4
//! and `12345678901234.5678` whole; only a `serde_json::Value` or serde's buffered content
//! (`untagged`) hands over an f64, and then the value is read through it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/// The exact form Cin7 documents for every date it accepts: `yyyy-MM-ddTHH:mm:ss.fff`, UTC,
/// without an offset.
pub const WRITE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f";

/// Parse any timestamp form Cin7 sends, as UTC.
///
/// Accepts an RFC 3339 timestamp with `Z` or an offset, a zone-less timestamp with 0 to 9
/// fractional digits (read as UTC), a date-only `yyyy-MM-dd`, and `dd/MM/yyyy` (webhooks);
/// date-only forms mean midnight UTC.
///
/// ```
/// use cin7_core_client::codec::parse_datetime;
/// let a = parse_datetime("2018-04-23T05:57:22.7908949Z").unwrap();
/// let b = parse_datetime("2018-04-23T05:57:22.7908949").unwrap();
/// assert_eq!(a, b);
/// assert!(parse_datetime("29/01/2018").is_some());
/// assert!(parse_datetime("yesterday").is_none());
/// ```
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    parse_timestamp(text)
        .or_else(|| parse_date(text).map(|date| date.and_time(NaiveTime::MIN).and_utc()))
}

/// The timestamp forms (not date-only) of [`parse_datetime`].
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if text.is_empty() {
        return None;
    }
    if let Ok(with_zone) = DateTime::parse_from_rfc3339(text) {
        return Some(with_zone.with_timezone(&Utc));
    }
    let zoneless = text.strip_suffix('Z').unwrap_or(text);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(zoneless, format) {
            return Some(naive.and_utc());
        }
    }
    None
}

/// Parse a business (calendar) date in any form Cin7 sends, keeping the calendar date as given
/// (a timestamp's time part is dropped, not converted between zones).
///
/// ```
/// use chrono::NaiveDate;
/// use cin7_core_client::codec::parse_date;
/// let d = NaiveDate::from_ymd_opt(2018, 1, 29).unwrap();
/// assert_eq!(parse_date("2018-01-29"), Some(d));
/// assert_eq!(parse_date("29/01/2018"), Some(d));
/// assert_eq!(parse_date("2018-01-29T00:00:00"), Some(d));
/// ```
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date);
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%d/%m/%Y") {
        return Some(date);
    }
    // A valid timestamp: keep its calendar date as written (no zone conversion).
    if text.len() > 10 && parse_timestamp(text).is_some() {
        return NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok();
    }
    None
}

/// Format a timestamp the way Cin7 expects it: `yyyy-MM-ddTHH:mm:ss.fff` in UTC.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use cin7_core_client::codec::format_datetime;
/// let t = Utc.with_ymd_and_hms(2026, 8, 1, 9, 5, 0).unwrap();
/// assert_eq!(format_datetime(t), "2026-08-01T09:05:00.000");
/// ```
pub fn format_datetime(at: DateTime<Utc>) -> String {
    at.format(WRITE_FORMAT).to_string()
}

/// Format a calendar date the way Cin7 expects dates: midnight, `yyyy-MM-ddT00:00:00.000`.
pub fn format_date(date: NaiveDate) -> String {
    format_datetime(date.and_time(NaiveTime::MIN).and_utc())
}

/// Deserializes a string (or null / empty string) into an optional value using `parse`,
/// reporting the offending text on failure.
fn optional_text<'de, D, T>(
    deserializer: D,
    what: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    let text: Option<String> = Option::deserialize(deserializer)?;
    match text {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => parse(&text)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("invalid {what}: {text:?}"))),
    }
}

/// `#[serde(with = "codec::datetime_opt")]` for `Option<DateTime<Utc>>`: lenient in, exact out.
pub mod datetime_opt {
    use super::*;

    /// Lenient reader; null and `""` are `None`.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
    where
        D: Deserializer<'de>,
    {
        optional_text(deserializer, "date-time", parse_datetime)
    }

    /// Exact writer (`yyyy-MM-ddTHH:mm:ss.fff`).
    pub fn serialize<S>(value: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
    {
        match value {
            Some(at) => serializer.serialize_str(&format_datetime(*at)),
            None => serializer.serialize_none(),
        }
    }
}

/// `#[serde(with = "codec::date_opt")]` for `Option<NaiveDate>` business dates.
pub mod date_opt {
    use super::*;

    /// Lenient reader; null and `""` are `None`.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<NaiveDate>, D::Error>
    where
        D: Deserializer<'de>,
    {
        optional_text(deserializer, "date", parse_date)
    }

    /// Writes `yyyy-MM-ddT00:00:00.000`.
    pub fn serialize<S>(value: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
    {
        match value {
            Some(date) => serializer.serialize_str(&format_date(*date)),
            None => serializer.serialize_none(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

/// The name under which serde_json hands a `Deserialize` impl the JSON text of one value
/// (its `raw_value` protocol, the one behind `serde_json::value::RawValue`). A decimal asks for
/// it so a number is read from its own digits, not from the f64 serde's data model holds.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Reads an optional decimal from the number's own text when the deserializer can give it
/// (serde_json reading bytes or text: `1.2500` keeps its scale, `12345678901234.5678` its
/// digits; a `serde_json::Value`: the value as the tree holds it), and from the value serde
/// hands over otherwise (serde's buffered content under `flatten` or `untagged`: through f64).
fn deserialize_decimal<'de, D>(deserializer: D) -> Result<Option<Decimal>, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, DecimalText)
}

/// The visitor of [`deserialize_decimal`]: the raw-value map from serde_json, or the value
/// itself from any other deserializer.
struct DecimalText;

impl<'de> Visitor<'de> for DecimalText {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        LenientDecimal.expecting(f)
    }

    /// serde_json's raw-value protocol: one entry whose value is the JSON text.
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if map.next_key_seed(RawValueKey)? != Some(true) {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        // The text is parsed after `next_value_seed` returns, so an error names the field, not
        // a step inside serde_json's protocol.
        let text: Result<Option<Decimal>, Refusal> = map.next_value_seed(JsonText)?;
        text.map_err(Refusal::into_error)
    }

    /// Any other deserializer (serde's buffered content under `flatten` or `untagged`).
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(LenientDecimal)
    }

    // Deserializers that do not tell newtypes apart hand the value straight over.

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        LenientDecimal.visit_i64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        LenientDecimal.visit_u64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        LenientDecimal.visit_f64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        LenientDecimal.visit_str(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(LenientDecimal)
    }
}

/// The key of serde_json's raw-value map: `true` when it is the raw-value token.
struct RawValueKey;

impl<'de> de::DeserializeSeed<'de> for RawValueKey {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for RawValueKey {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("serde_json's raw value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == RAW_VALUE_TOKEN)
    }
}

/// The value of serde_json's raw-value map: the JSON text of one value, parsed as a decimal.
/// A text that is no decimal is an `Ok(Err(_))`, turned into an error by the caller.
struct JsonText;

impl<'de> de::DeserializeSeed<'de> for JsonText {
    type Value = Result<Option<Decimal>, Refusal>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for JsonText {
    type Value = Result<Option<Decimal>, Refusal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the JSON text of a value")
    }

    fn visit_str<E: de::Error>(self, raw: &str) -> Result<Self::Value, E> {
        Ok(decimal_from_json(raw))
    }
}

/// Why a JSON text is not a decimal, turned into the deserializer's error by the caller.
enum Refusal {
    /// Not a number, a string or null (the same message serde gives for a wrong type).
    Type(de::Unexpected<'static>),
    /// A number or string that is no decimal.
    Invalid(String),
}

impl Refusal {
    fn into_error<E: de::Error>(self) -> E {
        match self {
            Refusal::Type(unexpected) => E::invalid_type(unexpected, &LenientDecimal),
            Refusal::Invalid(message) => E::custom(message),
        }
    }
}

/// Read the JSON text of one value (already checked to be JSON by serde_json) as an optional
/// decimal with the digits and scale written: `1.2500` has scale 4. A quoted numeric string is
/// read as its content, `""` and `null` are `None`; the errors are those of [`LenientDecimal`].
fn decimal_from_json(raw: &str) -> Result<Option<Decimal>, Refusal> {
    let raw = raw.trim();
    match raw.as_bytes().first() {
        Some(b'"') => {
            let text = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                Some(inner) if !inner.contains('\\') => std::borrow::Cow::Borrowed(inner),
                // Escapes: let serde_json undo them.
                _ => std::borrow::Cow::Owned(
                    serde_json::from_str::<String>(raw)
                        .map_err(|e| Refusal::Invalid(format!("invalid decimal string: {e}")))?,
                ),
            };
            LenientDecimal
                .visit_str::<de::value::Error>(&text)
                .map_err(|e| Refusal::Invalid(e.to_string()))
        }
        Some(b'n') => Ok(None),
        Some(b't') => Err(Refusal::Type(de::Unexpected::Bool(true))),
        Some(b'f') => Err(Refusal::Type(de::Unexpected::Bool(false))),
        Some(b'[') => Err(Refusal::Type(de::Unexpected::Seq)),
        Some(b'{') => Err(Refusal::Type(de::Unexpected::Map)),
        _ => match decimal_from_text(raw) {
            Some(value) => Ok(Some(value)),
            // A number no decimal holds (e.g. 1e40): the same error as through an f64.
            None => match raw.parse::<f64>() {
                Ok(v) => LenientDecimal
                    .visit_f64::<de::value::Error>(v)
                    .map_err(|e| Refusal::Invalid(e.to_string())),
                Err(_) => Err(Refusal::Invalid(format!("invalid number {raw}"))),
            },
        },
    }
}

/// Reads numbers (through f64 when that is all the deserializer gives), numeric strings,
/// `""` and null.
struct LenientDecimal;

impl<'de> Visitor<'de> for LenientDecimal {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a numeric string, an empty string or null")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Go through the shortest round-trip text of the float so 10.1234 stays 10.1234
        // instead of picking up binary noise.
        decimal_from_text(&v.to_string())
            .map(Some)
            .ok_or_else(|| E::custom(format!("number {v} does not fit a decimal")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        decimal_from_text(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("invalid decimal string {v:?}")))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(LenientDecimal)
    }
}

fn decimal_from_text(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

fn serialize_decimal<S: Serializer>(
    value: &Option<Decimal>,
    dp: u32,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        // Written as the decimal's own digits, never through an f64: `1.2500` goes out as
        // `1.2500`, and a value with more significant digits than an f64 holds (e.g.
        // `12345678901234.5678`) goes out whole. Rounding only drops places beyond Cin7's
        // documented precision; it never adds or removes trailing zeros.
        Some(v) => {
            let text = v.round_dp(dp).to_string();
            let raw = serde_json::value::RawValue::from_string(text)
                .map_err(|e| serde::ser::Error::custom(format!("decimal {v}: {e}")))?;
            raw.serialize(serializer)
        }
        None => serializer.serialize_none(),
    }
}

/// `#[serde(with = "codec::decimal4")]`: reads numbers, numeric strings, `""`/null (→ `None`),
/// a number from its own text when serde_json reads bytes or text (`1.2500` keeps scale 4; no
/// f64 on the way in); writes a JSON number rounded to 4 decimal places (quantities, prices,
/// tax, totals), in the decimal's own digits (`1.2500` stays `1.2500`; no f64 on the way out).
///
/// Both ways use serde_json's raw-value protocol: serialize and deserialize these models with
/// serde_json's text reader and writer, which keep the digits (`serde_json::to_value` and
/// `from_value` go through a tree, whose numbers are f64).
///
/// ```
/// use rust_decimal::Decimal;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Line {
///     #[serde(with = "cin7_core_client::codec::decimal4")]
///     price: Option<Decimal>,
/// }
/// let text = |d: &str| serde_json::to_string(&Line { price: Some(d.parse().unwrap()) }).unwrap();
/// assert_eq!(text("1.2500"), r#"{"price":1.2500}"#);
/// let read: Line = serde_json::from_str(r#"{"price":1.2500}"#).unwrap();
/// assert_eq!(read.price.unwrap().to_string(), "1.2500");
/// assert_eq!(text("12345678901234.5678"), r#"{"price":12345678901234.5678}"#);
/// assert_eq!(text("0.123456"), r#"{"price":0.1235}"#);
/// ```
pub mod decimal4 {
    use super::*;

    /// Lenient reader.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<Decimal>, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserialize_decimal(deserializer)
    }

    /// Writes a number with at most 4 decimal places.
    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(value, 4, s)
    }
}

/// `#[serde(with = "codec::decimal2")]`: like [`decimal4`] but written with 2 decimal places
/// (discounts, payment and journal amounts).
pub mod decimal2 {
    use super::*;

    /// Lenient reader.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<Decimal>, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserialize_decimal(deserializer)
    }

    /// Writes a number with at most 2 decimal places.
    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(value, 2, s)
    }
}

/// `#[serde(with = "codec::text_opt")]` for documented-as-int fields that arrive as numbers,
/// strings or `""` (e.g. `TaxNumber`): kept as text, `""`/null → `None`.
pub mod text_opt {
    use super::*;

    struct Text;

    impl<'de> Visitor<'de> for Text {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a number or null")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok((!v.trim().is_empty()).then(|| v.to_owned()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Text)
        }
    }

    /// Lenient reader.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_option(Text)
    }

    /// Writes the text as a string.
    pub fn serialize<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

/// `#[serde(with = "codec::bool_opt")]`: reads `true`, `"True"`, `"false"`, `"1"`, `0`, `""`.
pub mod bool_opt {
    use super::*;

    struct LenientBool;

    impl<'de> Visitor<'de> for LenientBool {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean, \"true\"/\"false\", 0/1 or null")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            match v {
                0 => Ok(Some(false)),
                1 => Ok(Some(true)),
                _ => Err(E::custom(format!("invalid boolean number {v}"))),
            }
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "yes" => Ok(Some(true)),
                "false" | "0" | "no" => Ok(Some(false)),
                _ => Err(E::custom(format!("invalid boolean string {v:?}"))),
            }
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(LenientBool)
        }
    }

    /// Lenient reader.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<bool>, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_option(LenientBool)
    }

    /// Writes a JSON boolean.
    pub fn serialize<S: Serializer>(value: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

// ---------------------------------------------------------------------------------------------
// GUIDs
// ---------------------------------------------------------------------------------------------

/// A Cin7 GUID (`8-4-4-4-12` hex digits), accepted in either case and compared
/// case-insensitively (it is stored in lower case).
///
/// ```
/// use cin7_core_client::Guid;
/// let a: Guid = "8B1538E4-5A4C-4B1A-9C42-6C3DE21A5B10".parse().unwrap();
/// let b: Guid = "8b1538e4-5a4c-4b1a-9c42-6c3de21a5b10".parse().unwrap();
/// assert_eq!(a, b);
/// assert!("not-a-guid".parse::<Guid>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(String);

/// A string that is not a GUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a GUID: {0:?}")]
pub struct InvalidGuid(pub String);

impl Guid {
    /// The zero GUID, which Cin7 uses for "none" (e.g. a stock `TaskID` that creates a task).
    pub fn nil() -> Guid {
        Guid("00000000-0000-0000-0000-000000000000".to_owned())
    }

    /// Whether this is the zero GUID.
    pub fn is_nil(&self) -> bool {
        self.0.bytes().all(|b| b == b'0' || b == b'-')
    }

    /// The GUID in lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Guid {
    type Err = InvalidGuid;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim().trim_start_matches('{').trim_end_matches('}');
        let groups: Vec<&str> = trimmed.split('-').collect();
        let shape_ok = groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if shape_ok {
            Ok(Guid(trimmed.to_ascii_lowercase()))
        } else {
            Err(InvalidGuid(text.to_owned()))
        }
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({})", self.0)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// `#[serde(with = "codec::guid_opt")]` for optional GUIDs that may arrive as `""`.
pub mod guid_opt {
    use super::*;

    /// Reads a GUID; null and `""` are `None`.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<Guid>, D::Error>
    where
        D: Deserializer<'de>,
    {
        optional_text(deserializer, "GUID", |t| t.parse().ok())
    }

    /// Writes the GUID string.
    pub fn serialize<S: Serializer>(value: &Option<Guid>, s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Open enums
// ---------------------------------------------------------------------------------------------

/// Declare an open string enum: known values as variants, anything else kept in `Other`.
/// Reading is case-insensitive and ignores surrounding spaces; writing uses the canonical
/// spelling.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as Cin7 spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(text) => text,
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let trimmed = text.trim();
                $( if trimmed.eq_ignore_ascii_case($text) { return Ok($name::$variant); } )+
                Ok($name::Other(trimmed.to_owned()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                let Ok(value) = text.parse();
                Ok(value)
            }
        }
    };
}
pub(crate) use open_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_documented_date_form_parses() {
        let cases = [
            ("2017-12-28T06:15:17.237Z", (2017, 12, 28, 6, 15, 17)),
            ("2018-02-07T07:22:37.21", (2018, 2, 7, 7, 22, 37)),
            ("2018-04-23T05:57:22.7908949Z", (2018, 4, 23, 5, 57, 22)),
            ("2017-12-08T00:00:00", (2017, 12, 8, 0, 0, 0)),
            ("2025-10-27", (2025, 10, 27, 0, 0, 0)),
            ("29/01/2018", (2018, 1, 29, 0, 0, 0)),
            ("2026-01-01T10:00:00+02:00", (2026, 1, 1, 8, 0, 0)),
        ];
        for (text, (y, mo, d, h, mi, s)) in cases {
            let expected = Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap();
            let got = parse_datetime(text).unwrap_or_else(|| panic!("{text} did not parse"));
            assert_eq!(got.date_naive(), expected.date_naive(), "{text}");
            assert_eq!(
                got.timestamp(),
                expected.timestamp(),
                "{text} parsed to {got}"
            );
        }
        assert_eq!(
            parse_datetime("2018-04-23T05:57:22.7908949Z")
                .unwrap()
                .timestamp_subsec_nanos(),
            790_894_900
        );
        for bad in ["", "13/13/2020", "2020-02-30", "now", "2020-01-01T25:00:00"] {
            assert!(parse_datetime(bad).is_none(), "{bad} should not parse");
        }
    }

    #[test]
    fn writer_is_exact_and_round_trips() {
        let t = Utc
            .with_ymd_and_hms(2012, 11, 14, 13, 28, 33)
            .single()
            .unwrap()
            + chrono::Duration::milliseconds(363);
        assert_eq!(format_datetime(t), "2012-11-14T13:28:33.363");
        assert_eq!(parse_datetime(&format_datetime(t)), Some(t));
    }

    #[derive(Deserialize, Serialize)]
    struct Num {
        #[serde(default, with = "decimal4")]
        v: Option<Decimal>,
        #[serde(default, with = "decimal2")]
        d: Option<Decimal>,
    }

    #[test]
    fn decimals_accept_numbers_and_strings_and_write_numbers() {
        let n: Num = serde_json::from_str(r#"{"v":"10.0000000000","d":2.5}"#).unwrap();
        assert_eq!(n.v, Some(Decimal::new(10, 0)));
        assert_eq!(n.d, Some(Decimal::new(25, 1)));
        let n: Num = serde_json::from_str(r#"{"v":"","d":null}"#).unwrap();
        assert_eq!((n.v, n.d), (None, None));
        let n: Num = serde_json::from_str(r#"{"v":10.1234}"#).unwrap();
        assert_eq!(n.v, Some(Decimal::new(101234, 4)));
        assert!(serde_json::from_str::<Num>(r#"{"v":"ten"}"#).is_err());
        let out = serde_json::to_string(&Num {
            v: Some(Decimal::new(123456789, 5)),
            d: Some(Decimal::new(3333, 3)),
        })
        .unwrap();
        assert_eq!(out, r#"{"v":1234.5679,"d":3.33}"#);
    }

    #[test]
    fn decimals_read_from_json_text_keep_their_scale_and_digits() {
        let read = |json: &str| -> Result<Option<String>, String> {
            serde_json::from_str::<Num>(&format!(r#"{{"v":{json}}}"#))
                .map(|n| n.v.map(|d| d.to_string()))
                .map_err(|e| e.to_string())
        };
        for (json, wanted) in [
            ("1.2500", "1.2500"),
            ("12345678901234.5678", "12345678901234.5678"),
            ("-3.10", "-3.10"),
            ("0.0000", "0.0000"),
            ("10", "10"),
            ("1.2500e0", "1.2500"),
            ("1E+5", "100000"),
            (r#""1.2500""#, "1.2500"),
            (r#"" 2.50 ""#, "2.50"),
            (r#""\u0031.50""#, "1.50"),
            // More places than a decimal holds: rounded to 28, not refused.
            (
                "0.12345678901234567890123456789",
                "0.1234567890123456789012345679",
            ),
        ] {
            assert_eq!(read(json), Ok(Some(wanted.to_owned())), "{json}");
        }
        for json in ["null", r#""""#, r#""  ""#] {
            assert_eq!(read(json), Ok(None), "{json}");
        }
        let refused = |json: &str, starts: &str| {
            let error = read(json).unwrap_err();
            assert!(error.starts_with(starts), "{json}: {error}");
        };
        let expected = "expected a number, a numeric string, an empty string or null";
        refused("true", &format!("invalid type: boolean `true`, {expected}"));
        refused("[1]", &format!("invalid type: sequence, {expected}"));
        refused(r#"{"a":1}"#, &format!("invalid type: map, {expected}"));
        refused(r#""ten""#, r#"invalid decimal string "ten""#);
        let huge = format!("1{}", "0".repeat(40));
        refused(&huge, &format!("number {huge} does not fit a decimal"));
    }

    #[test]
    fn decimals_read_through_other_deserializers_keep_their_value() {
        // A tree: the value as the tree holds it (an f64), scale lost.
        let n: Num = serde_json::from_value(serde_json::json!({"v": 1.2500, "d": "2.50"})).unwrap();
        assert_eq!(n.v.map(|d| d.to_string()).as_deref(), Some("1.25"));
        assert_eq!(n.d.map(|d| d.to_string()).as_deref(), Some("2.50"));
        // serde's buffered content (`untagged`): no raw text, read as before.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Num(Num),
        }
        let Either::Num(n) = serde_json::from_str(r#"{"v":1.2500,"d":null}"#).unwrap();
        assert_eq!((n.v, n.d), (Some(Decimal::new(125, 2)), None));
        let Either::Num(n) = serde_json::from_str(r#"{"v":"1.2500","d":""}"#).unwrap();
        assert_eq!(n.v.map(|d| d.to_string()).as_deref(), Some("1.2500"));
        assert_eq!(n.d, None);
        // Deserializers that hand a newtype's value straight over.
        use serde::de::value::{Error, F64Deserializer, StrDeserializer, UnitDeserializer};
        let text = decimal4::deserialize(StrDeserializer::<Error>::new("1.2500")).unwrap();
        assert_eq!(text.map(|d| d.to_string()).as_deref(), Some("1.2500"));
        let float = decimal4::deserialize(F64Deserializer::<Error>::new(0.5)).unwrap();
        assert_eq!(float, Some(Decimal::new(5, 1)));
        assert_eq!(
            decimal2::deserialize(UnitDeserializer::<Error>::new()),
            Ok(None)
        );
    }

    #[test]
    fn known_decimals_keep_their_scale_beside_a_flattened_catch_all() {
        // serde buffers only the *unknown* fields of a struct with `flatten`; a known decimal
        // is read from its text, a decimal among the unknown fields is a JSON value (f64).
        #[derive(Deserialize)]
        struct WithExtra {
            #[serde(default, with = "decimal4")]
            v: Option<Decimal>,
            lines: Vec<Num>,
            #[serde(flatten)]
            extra: serde_json::Map<String, serde_json::Value>,
        }
        let w: WithExtra =
            serde_json::from_str(r#"{"x":1.2500,"v":1.2500,"lines":[{"v":12345678901234.5678}]}"#)
                .unwrap();
        assert_eq!(w.v.map(|d| d.to_string()).as_deref(), Some("1.2500"));
        let line = w.lines[0].v.map(|d| d.to_string());
        assert_eq!(line.as_deref(), Some("12345678901234.5678"));
        assert_eq!(w.extra["x"], serde_json::json!(1.25));
    }

    #[test]
    fn guids_compare_case_insensitively() {
        let upper: Guid = "{8B1538E4-5A4C-4B1A-9C42-6C3DE21A5B10}".parse().unwrap();
        let lower: Guid = "8b1538e4-5a4c-4b1a-9c42-6c3de21a5b10".parse().unwrap();
        assert_eq!(upper, lower);
        assert!(Guid::nil().is_nil());
        assert!(!lower.is_nil());
        assert!(
            "8b1538e4-5a4c-4b1a-9c42-6c3de21a5b1"
                .parse::<Guid>()
                .is_err()
        );
        assert!(
            "8b1538e4-5a4c-4b1a-9c42-6c3de21a5b1g"
                .parse::<Guid>()
                .is_err()
        );
    }

    open_enum! {
        /// Test enum.
        pub enum Colour {
            /// Red.
            Red => "RED",
            /// Light blue.
            LightBlue => "LIGHT BLUE",
        }
    }

    #[test]
    fn open_enums_keep_unknown_values() {
        let c: Vec<Colour> = serde_json::from_str(r#"["red"," LIGHT BLUE","Mauve"]"#).unwrap();
        assert_eq!(
            c,
            vec![
                Colour::Red,
                Colour::LightBlue,
                Colour::Other("Mauve".into())
            ]
        );
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"["RED","LIGHT BLUE","Mauve"]"#
        );
    }
}
