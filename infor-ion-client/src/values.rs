//! Reading CloudSuite's string values into types.
//!
//! IDO and MI responses carry every value as a string (or null). A [`Record`] is one such row
//! with the name of where it came from, so every parse error names the record source, the
//! property and the offending value.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// One row of string values from CloudSuite, named by where it came from.
///
/// ```
/// use infor_ion_client::values::Record;
///
/// let row = Record::new("SLVendors", [("VendNum", Some("V001")), ("CurrCode", None)]);
/// assert_eq!(row.required("VendNum")?, "V001");
/// assert_eq!(row.text("CurrCode"), None);
/// assert!(row.required("Name").is_err());
/// # Ok::<(), infor_ion_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    source: String,
    values: BTreeMap<String, Option<String>>,
}

impl Record {
    /// A record from `source` (an IDO name, `PROGRAM/Transaction`, ...) with these values.
    pub fn new<K: Into<String>, V: Into<String>>(
        source: impl Into<String>,
        values: impl IntoIterator<Item = (K, Option<V>)>,
    ) -> Self {
        Record {
            source: source.into(),
            values: values
                .into_iter()
                .map(|(k, v)| (k.into(), v.map(Into::into)))
                .collect(),
        }
    }

    /// Where the record came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every property, as sent.
    pub fn values(&self) -> &BTreeMap<String, Option<String>> {
        &self.values
    }

    /// A property's text, trimmed; `None` when absent, null or blank.
    pub fn text(&self, property: &str) -> Option<&str> {
        self.values
            .get(property)?
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// A property's text, or [`Error::MissingValue`].
    pub fn required(&self, property: &str) -> Result<&str> {
        self.text(property).ok_or_else(|| Error::MissingValue {
            record: self.source.clone(),
            property: property.to_owned(),
        })
    }

    /// A decimal property (`.` as separator; a leading `+` or thousands separators are not
    /// CloudSuite's and are refused).
    pub fn decimal(&self, property: &str) -> Result<Option<Decimal>> {
        self.parse(property, "a decimal number", |v| {
            Decimal::from_str(v)
                .or_else(|_| Decimal::from_scientific(v))
                .ok()
        })
    }

    /// An integer property.
    pub fn integer(&self, property: &str) -> Result<Option<i64>> {
        self.parse(property, "an integer", |v| v.parse().ok())
    }

    /// A boolean property: `1`/`0`, `true`/`false`, `Y`/`N` (IDO flags are `1`/`0`).
    pub fn flag(&self, property: &str) -> Result<Option<bool>> {
        self.parse(property, "a flag (1/0, true/false, Y/N)", |v| {
            match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "y" | "yes" => Some(true),
                "0" | "false" | "n" | "no" => Some(false),
                _ => None,
            }
        })
    }

    /// A date-time property, read as UTC. Accepts the forms CloudSuite sends:
    /// `2026-02-01 14:02:44.003`, `2026-02-01T14:02:44.003Z`, `20260201 14:02:44.003`,
    /// `20260201`, `2026-02-01`.
    pub fn datetime(&self, property: &str) -> Result<Option<DateTime<Utc>>> {
        self.parse(property, "a date or date-time", parse_datetime)
    }

    /// A date property (`2026-02-01`, `20260201`, or a date-time whose date is taken).
    pub fn date(&self, property: &str) -> Result<Option<NaiveDate>> {
        self.parse(property, "a date", |v| {
            parse_datetime(v).map(|d| d.date_naive())
        })
    }

    fn parse<T>(
        &self,
        property: &str,
        expected: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>> {
        let Some(value) = self.text(property) else {
            return Ok(None);
        };
        parse(value).map(Some).ok_or_else(|| Error::InvalidValue {
            record: self.source.clone(),
            property: property.to_owned(),
            value: value.to_owned(),
            expected,
        })
    }
}

/// Declares a typed record: a struct with one public field per property, a `FIELDS` list of
/// the property names, and `parse(Record)` that reads each field with the right type, so every
/// property name is written once. Kinds: `required` (String), `text`, `decimal`, `integer`,
/// `datetime`, `date` (all optional). The whole row is kept in `raw`.
macro_rules! typed_record {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $kind:ident $prop:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::values::typed_record!(@type $kind), )+
            /// The whole row as read, including any extra properties.
            pub raw: $crate::values::Record,
        }

        impl $name {
            /// The properties this record reads.
            pub const FIELDS: &'static [&'static str] = &[$($prop),+];

            /// Read the record from a row; errors name the property and value.
            pub fn parse(record: $crate::values::Record) -> $crate::Result<Self> {
                Ok($name {
                    $( $field: $crate::values::typed_record!(@read $kind, record, $prop), )+
                    raw: record,
                })
            }
        }
    };
    (@type required) => { String };
    (@type text) => { Option<String> };
    (@type decimal) => { Option<rust_decimal::Decimal> };
    (@type integer) => { Option<i64> };
    (@type datetime) => { Option<chrono::DateTime<chrono::Utc>> };
    (@type date) => { Option<chrono::NaiveDate> };
    (@read required, $r:ident, $p:literal) => { $r.required($p)?.to_owned() };
    (@read text, $r:ident, $p:literal) => { $r.text($p).map(str::to_owned) };
    (@read decimal, $r:ident, $p:literal) => { $r.decimal($p)? };
    (@read integer, $r:ident, $p:literal) => { $r.integer($p)? };
    (@read datetime, $r:ident, $p:literal) => { $r.datetime($p)? };
    (@read date, $r:ident, $p:literal) => { $r.date($p)? };
}
pub(crate) use typed_record;

/// Parse the date and date-time forms CloudSuite products send, as UTC.
pub(crate) fn parse_datetime(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(with_zone) = DateTime::parse_from_rfc3339(value) {
        return Some(with_zone.with_timezone(&Utc));
    }
    const DATETIME_FORMATS: &[&str] = &[
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y%m%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y%m%d%H%M%S",
    ];
    for format in DATETIME_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(value, format) {
            return Some(naive.and_utc());
        }
    }
    for format in ["%Y-%m-%d", "%Y%m%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(value, format) {
            return Some(date.and_time(NaiveTime::MIN).and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_forms() {
        let expected = "2026-02-01T14:02:44.003Z";
        for form in [
            "2026-02-01 14:02:44.003",
            "2026-02-01T14:02:44.003",
            "2026-02-01T14:02:44.003Z",
            "20260201 14:02:44.003",
        ] {
            let parsed = parse_datetime(form).expect(form);
            assert_eq!(
                parsed.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                expected
            );
        }
        assert!(parse_datetime("20260201").is_some());
        assert!(parse_datetime("2026-02-01").is_some());
        assert!(parse_datetime("01/02/2026").is_none());
    }

    #[test]
    fn errors_name_source_property_and_value() {
        let row = Record::new("SLPoItems", [("QtyOrdered", Some("12,5"))]);
        let err = row.decimal("QtyOrdered").unwrap_err();
        assert_eq!(
            err.to_string(),
            "SLPoItems: property `QtyOrdered` value \"12,5\" is not a decimal number"
        );
        let row = Record::new("SLVendors", [("Stat", Some("maybe"))]);
        assert!(row.flag("Stat").is_err());
        assert_eq!(row.integer("Missing").unwrap(), None);
    }

    #[test]
    fn decimals_accept_plain_and_scientific() {
        let row = Record::new(
            "X",
            [
                ("a", Some(" 12.50 ")),
                ("b", Some("1e3")),
                ("c", Some("-0.0001")),
            ],
        );
        assert_eq!(row.decimal("a").unwrap(), Some(Decimal::new(1250, 2)));
        assert_eq!(row.decimal("b").unwrap(), Some(Decimal::from(1000)));
        assert_eq!(row.decimal("c").unwrap(), Some(Decimal::new(-1, 4)));
    }
}
