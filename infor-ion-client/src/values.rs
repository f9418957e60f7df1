//! Reading CloudSuite's string values into types.
//!
//! IDO and MI responses carry every value as a string (or null). A [`Record`] is one such row
//! with the name of where it came from, so every parse error names the record source, the
//! property and the offending value.
//!
//! A date-time without an offset (`2026-02-01 14:02:44.003`, how SQL Server `datetime` values
//! arrive) is a wall time in the record's zone ([`Record::in_zone`], UTC unless set): a
//! CloudSuite site may stamp `RecordDate` with its local `GETDATE()`. See [`local_to_utc`] for
//! the wall times a daylight-saving change makes ambiguous or skips.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
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
    zone: Tz,
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
            zone: Tz::UTC,
        }
    }

    /// Read date-times without an offset as wall times in `zone` (default UTC).
    ///
    /// ```
    /// use infor_ion_client::values::Record;
    ///
    /// let row = Record::new("SLVendors", [("RecordDate", Some("2026-02-01 08:00:00.000"))])
    ///     .in_zone(chrono_tz::America::Chicago);
    /// let at = row.datetime("RecordDate")?.expect("set");
    /// assert_eq!(at.to_rfc3339(), "2026-02-01T14:00:00+00:00");
    /// # Ok::<(), infor_ion_client::Error>(())
    /// ```
    pub fn in_zone(mut self, zone: Tz) -> Self {
        self.zone = zone;
        self
    }

    /// The zone date-times without an offset are read in.
    pub fn zone(&self) -> Tz {
        self.zone
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

    /// A date-time property, as UTC. Accepts the forms CloudSuite sends:
    /// `2026-02-01 14:02:44.003`, `2026-02-01T14:02:44.003Z`, `20260201 14:02:44.003`,
    /// `20260201`, `2026-02-01`. A value without an offset is a wall time in the record's
    /// [zone](Self::in_zone), converted by [`local_to_utc`].
    pub fn datetime(&self, property: &str) -> Result<Option<DateTime<Utc>>> {
        let zone = self.zone;
        self.parse(property, "a date or date-time", |v| {
            parse_datetime_in(v, zone)
        })
    }

    /// A date property (`2026-02-01`, `20260201`, or a date-time whose date is taken). The
    /// date is the one written, whatever the record's zone: a document date is a calendar date,
    /// not an instant.
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

/// Parse the date and date-time forms CloudSuite products send; a value without an offset is
/// read as UTC.
pub(crate) fn parse_datetime(value: &str) -> Option<DateTime<Utc>> {
    parse_datetime_in(value, Tz::UTC)
}

/// [`parse_datetime`], reading a value without an offset as a wall time in `zone`.
pub(crate) fn parse_datetime_in(value: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(with_zone) = DateTime::parse_from_rfc3339(value) {
        return Some(with_zone.with_timezone(&Utc));
    }
    local_to_utc(parse_wall_time(value)?, zone)
}

/// The furthest a zone's clocks are assumed to move at one transition. Every zone in use moves
/// by an hour or less (Lord Howe by 30 minutes); a few historical changes of standard offset
/// were larger, and three hours covers those since 1970 that we know of.
pub(crate) const MAX_CLOCK_SHIFT: Duration = Duration::hours(3);

/// The instant a wall time in `zone` stands for.
///
/// - A wall time the clocks pass once is converted exactly.
/// - A wall time in the hour the clocks fall back (shown twice) is the **earlier** instant: a
///   row then never looks newer than it is, and reading the same text always gives the same
///   instant.
/// - A wall time in the hour the clocks spring forward (never shown) is read with the offset in
///   force before the change, as a clock that had not yet been changed would have meant it
///   (in Chicago, `02:30` on the spring-forward day is `08:30Z`).
///
/// `None` only for a wall time no offset of the zone explains, which no real zone produces.
///
/// ```
/// use chrono::NaiveDate;
/// use chrono_tz::America::Chicago;
/// use infor_ion_client::values::local_to_utc;
///
/// let wall = |d, h, m| NaiveDate::from_ymd_opt(2026, 11, d).unwrap().and_hms_opt(h, m, 0).unwrap();
/// // 01:30 on 1 November 2026 happens twice in Chicago (CDT, then CST): the first is taken.
/// assert_eq!(local_to_utc(wall(1, 1, 30), Chicago).unwrap().to_rfc3339(), "2026-11-01T06:30:00+00:00");
/// ```
pub fn local_to_utc(wall: NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.with_timezone(&Utc)),
        LocalResult::None => {
            // Step back until the wall time exists: that is the offset before the gap.
            let step = Duration::minutes(15);
            let mut back = step;
            while back <= MAX_CLOCK_SHIFT {
                // Checked: a hostile value at the edge of the calendar is refused, not a panic.
                let earlier = wall.checked_sub_signed(back)?;
                if let LocalResult::Single(at) | LocalResult::Ambiguous(at, _) =
                    zone.from_local_datetime(&earlier)
                {
                    return at.with_timezone(&Utc).checked_add_signed(back);
                }
                back += step;
            }
            None
        }
    }
}

/// Parse the forms without an offset CloudSuite products send, as a wall time.
pub(crate) fn parse_wall_time(value: &str) -> Option<NaiveDateTime> {
    const DATETIME_FORMATS: &[&str] = &[
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y%m%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y%m%d%H%M%S",
    ];
    for format in DATETIME_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(value, format) {
            return Some(naive);
        }
    }
    for format in ["%Y-%m-%d", "%Y%m%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(value, format) {
            return Some(date.and_time(NaiveTime::MIN));
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
    fn wall_times_in_a_zone_read_as_instants() {
        use chrono_tz::America::Chicago;
        let wall = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect(text);
        let utc = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .expect(text)
                .with_timezone(&Utc)
        };
        for (local, instant) in [
            // Plain winter and summer times.
            ("2026-02-01 08:00", "2026-02-01T14:00:00Z"),
            ("2026-07-01 08:00", "2026-07-01T13:00:00Z"),
            // Shown twice (CDT then CST): the first.
            ("2026-11-01 01:30", "2026-11-01T06:30:00Z"),
            // Never shown: read with the offset before the change (CST).
            ("2026-03-08 02:30", "2026-03-08T08:30:00Z"),
            ("2026-03-08 02:00", "2026-03-08T08:00:00Z"),
        ] {
            assert_eq!(
                local_to_utc(wall(local), Chicago),
                Some(utc(instant)),
                "{local}"
            );
        }
        // Every instant across both changes reads back as itself, except the second pass
        // through the repeated hour, which reads as the first.
        for change in ["2026-03-08T08:00:00Z", "2026-11-01T07:00:00Z"] {
            let change = utc(change);
            for minutes in -180..=180 {
                let at = change + Duration::minutes(minutes);
                let shown = at.with_timezone(&Chicago).naive_local();
                let read = local_to_utc(shown, Chicago).expect("readable");
                let repeated = matches!(
                    Chicago.from_local_datetime(&shown),
                    LocalResult::Ambiguous(..)
                );
                if repeated && at >= change {
                    assert_eq!(read, at - Duration::hours(1), "{at}");
                } else {
                    assert_eq!(read, at, "{at}");
                }
            }
        }
        // A record in a zone reads its zone-less values there; offsets and dates are kept.
        let row = Record::new(
            "SLVendors",
            [
                ("RecordDate", Some("20260201 08:00:00.000")),
                ("Stamped", Some("2026-02-01T08:00:00Z")),
                ("InvDate", Some("2026-02-01 00:00:00.000")),
            ],
        )
        .in_zone(Chicago);
        assert_eq!(
            row.datetime("RecordDate").unwrap(),
            Some(utc("2026-02-01T14:00:00Z"))
        );
        assert_eq!(
            row.datetime("Stamped").unwrap(),
            Some(utc("2026-02-01T08:00:00Z"))
        );
        assert_eq!(
            row.date("InvDate").unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 1)
        );
        // The edge of the calendar is refused, not a panic.
        assert_eq!(local_to_utc(NaiveDateTime::MAX, Chicago), None);
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
