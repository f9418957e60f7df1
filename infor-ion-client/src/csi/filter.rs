//! Building IDO `filter` expressions safely.
//!
//! The IDO `filter` parameter is a SQL `WHERE` fragment. [`Filter`] builds it from property
//! names (checked to be plain identifiers) and values (quoted as `N'...'` literals with quotes
//! doubled, dates as `'YYYYMMDD hh:mm:ss.fff'`, numbers as decimals), so no caller input is
//! ever pasted into the expression unescaped.
//!
//! Date-times are written `'YYYYMMDD hh:mm:ss.fff'` because SQL Server reads that form the same
//! under every `SET DATEFORMAT` and login language, while `'YYYY-MM-DD hh:mm:ss'` is read
//! year-day-month into a `datetime` under `dmy`. A `datetime` column carries no zone, so a
//! literal is a wall time: [`FilterValue::since_in`] and [`FilterValue::until_in`] turn an
//! instant into the wall-time bound that is safe in a site's zone, across daylight-saving
//! changes too.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::values::MAX_CLOCK_SHIFT;

/// How date-time literals are written: unambiguous under every `DATEFORMAT`/language.
const LITERAL_FORMAT: &str = "%Y%m%d %H:%M:%S%.3f";

/// A filter value, rendered as a SQL literal.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    /// A string, rendered `N'...'` with `'` doubled.
    Text(String),
    /// An instant, rendered as its UTC wall time, `'20260201 14:02:44.003'`. For a property a
    /// site stamps in its own zone (`RecordDate`) use [`FilterValue::since_in`] or
    /// [`FilterValue::until_in`] instead.
    DateTime(DateTime<Utc>),
    /// A wall time with no zone, rendered as is, `'20260201 08:02:44.003'`.
    WallTime(NaiveDateTime),
    /// A number.
    Number(Decimal),
}

impl FilterValue {
    /// The lower bound for "changed at or after `at`" on a property stamped with wall times in
    /// `zone`: the earliest wall time any instant from `at` on shows there.
    ///
    /// That is `at`'s own wall time, except shortly before the clocks fall back: the repeated
    /// hour then shows instants after `at` with wall times before `at`'s, so the bound is the
    /// wall time the clocks fall back to. The rows read again that way are exactly those whose
    /// wall time occurs twice and so cannot be told apart; none is missed. Springing forward
    /// only skips wall times, which loses nothing.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use chrono_tz::America::Chicago;
    /// use infor_ion_client::csi::FilterValue;
    ///
    /// // 14:00Z is 08:00 in Chicago (CST, UTC-6).
    /// let at = Utc.with_ymd_and_hms(2026, 2, 1, 14, 0, 0).unwrap();
    /// assert_eq!(FilterValue::since_in(at, Chicago).to_string(), "'20260201 08:00:00.000'");
    /// // 06:30Z on 1 November is 01:30 CDT; at 07:00Z the clocks fall back to 01:00 CST, so
    /// // rows of the next half hour show 01:00-01:30: the bound is 01:00.
    /// let at = Utc.with_ymd_and_hms(2026, 11, 1, 6, 30, 0).unwrap();
    /// assert_eq!(FilterValue::since_in(at, Chicago).to_string(), "'20261101 01:00:00.000'");
    /// ```
    pub fn since_in(at: DateTime<Utc>, zone: Tz) -> Self {
        FilterValue::WallTime(wall_bound(at, zone, Bound::Lower))
    }

    /// The upper bound for "changed at or before `at`" on a property stamped with wall times in
    /// `zone`: the latest wall time any instant up to `at` shows there (the mirror of
    /// [`since_in`](Self::since_in): shortly after the clocks fall back, the wall time they
    /// fell back from).
    pub fn until_in(at: DateTime<Utc>, zone: Tz) -> Self {
        FilterValue::WallTime(wall_bound(at, zone, Bound::Upper))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bound {
    Lower,
    Upper,
}

/// The smallest (lower bound) wall time `zone` shows from `at` on, or the largest (upper bound)
/// it shows up to `at`, looking [`MAX_CLOCK_SHIFT`] ahead (lower) or back (upper): a wall time
/// further away cannot cross `at`'s.
///
/// Wall time only goes backwards where the clocks fall back, so the answer is `at`'s own wall
/// time or the one at such a change. Offsets are sampled every 15 minutes (no zone keeps an
/// offset for less) and a change between two samples is found to the millisecond by bisection.
fn wall_bound(at: DateTime<Utc>, zone: Tz, bound: Bound) -> NaiveDateTime {
    let offset = |millis: i64| {
        DateTime::<Utc>::from_timestamp_millis(millis).map(|t| {
            zone.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
        })
    };
    let wall = |millis: i64| -> Option<NaiveDateTime> {
        let seconds = i64::from(offset(millis)?);
        DateTime::<Utc>::from_timestamp_millis(millis)?
            .naive_utc()
            .checked_add_signed(Duration::seconds(seconds))
    };
    let start = at.timestamp_millis();
    let Some(mut best) = wall(start) else {
        // Beyond the calendar chrono can shift: nothing sensible to convert.
        return at.naive_utc();
    };
    let step = Duration::minutes(15).num_milliseconds();
    let steps = MAX_CLOCK_SHIFT.num_milliseconds() / step;
    let direction = if bound == Bound::Lower { 1 } else { -1 };
    let mut previous = start;
    for k in 1..=steps {
        let Some(next) = start.checked_add(direction * k * step) else {
            break;
        };
        let (Some(before), Some(after)) = (offset(previous), offset(next)) else {
            break;
        };
        // In time order, the earlier sample and the later one.
        let (mut early, mut late) = if direction > 0 {
            (previous, next)
        } else {
            (next, previous)
        };
        let (early_offset, late_offset) = if direction > 0 {
            (before, after)
        } else {
            (after, before)
        };
        if late_offset < early_offset {
            // The clocks fall back between the samples: find the first millisecond after.
            while late - early > 1 {
                let middle = early + (late - early) / 2;
                if offset(middle) == Some(early_offset) {
                    early = middle;
                } else {
                    late = middle;
                }
            }
            // Lower: the wall time the clocks fall back to; upper: the last one before.
            let candidate = if bound == Bound::Lower {
                wall(late)
            } else {
                wall(early)
            };
            if let Some(candidate) = candidate {
                best = match bound {
                    Bound::Lower => best.min(candidate),
                    Bound::Upper => best.max(candidate),
                };
            }
        }
        previous = next;
    }
    best
}

impl From<&str> for FilterValue {
    fn from(value: &str) -> Self {
        FilterValue::Text(value.to_owned())
    }
}

impl From<String> for FilterValue {
    fn from(value: String) -> Self {
        FilterValue::Text(value)
    }
}

impl From<DateTime<Utc>> for FilterValue {
    fn from(value: DateTime<Utc>) -> Self {
        FilterValue::DateTime(value)
    }
}

impl From<NaiveDateTime> for FilterValue {
    fn from(value: NaiveDateTime) -> Self {
        FilterValue::WallTime(value)
    }
}

impl From<Decimal> for FilterValue {
    fn from(value: Decimal) -> Self {
        FilterValue::Number(value)
    }
}

impl From<i64> for FilterValue {
    fn from(value: i64) -> Self {
        FilterValue::Number(Decimal::from(value))
    }
}

impl fmt::Display for FilterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterValue::Text(text) => write!(f, "N'{}'", text.replace('\'', "''")),
            FilterValue::DateTime(at) => write!(f, "'{}'", at.format(LITERAL_FORMAT)),
            FilterValue::WallTime(at) => write!(f, "'{}'", at.format(LITERAL_FORMAT)),
            FilterValue::Number(n) => write!(f, "{n}"),
        }
    }
}

/// A safe IDO filter expression.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use infor_ion_client::csi::Filter;
///
/// let since = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
/// let filter = Filter::ge("RecordDate", since)?
///     .and(Filter::is_in("Stat", ["A", "O'Neil"])?);
/// assert_eq!(
///     filter.to_string(),
///     "(RecordDate >= '20260201 00:00:00.000') AND (Stat IN (N'A', N'O''Neil'))"
/// );
/// assert!(Filter::eq("Name; DROP TABLE x", "y").is_err());
/// # Ok::<(), infor_ion_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(String);

fn property(name: &str) -> Result<&str> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(name)
    } else {
        Err(Error::InvalidRequest(format!(
            "`{name}` is not a valid IDO property name (letters, digits and `_` only)"
        )))
    }
}

impl Filter {
    fn compare(name: &str, op: &str, value: FilterValue) -> Result<Self> {
        Ok(Filter(format!("{} {op} {value}", property(name)?)))
    }

    /// `property = value`.
    pub fn eq(name: &str, value: impl Into<FilterValue>) -> Result<Self> {
        Self::compare(name, "=", value.into())
    }

    /// `property <> value`.
    pub fn ne(name: &str, value: impl Into<FilterValue>) -> Result<Self> {
        Self::compare(name, "<>", value.into())
    }

    /// `property >= value`: the inclusive lower bound incremental polling uses.
    pub fn ge(name: &str, value: impl Into<FilterValue>) -> Result<Self> {
        Self::compare(name, ">=", value.into())
    }

    /// `property > value`.
    pub fn gt(name: &str, value: impl Into<FilterValue>) -> Result<Self> {
        Self::compare(name, ">", value.into())
    }

    /// `property <= value`.
    pub fn le(name: &str, value: impl Into<FilterValue>) -> Result<Self> {
        Self::compare(name, "<=", value.into())
    }

    /// `property < value`.
    pub fn lt(name: &str, value: impl Into<FilterValue>) -> Result<Self> {
        Self::compare(name, "<", value.into())
    }

    /// `property IN (v1, v2, ...)`. An empty list matches nothing (`1 = 0`).
    pub fn is_in<V: Into<FilterValue>>(
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Self> {
        let name = property(name)?;
        let values: Vec<String> = values.into_iter().map(|v| v.into().to_string()).collect();
        if values.is_empty() {
            return Ok(Filter("1 = 0".to_owned()));
        }
        Ok(Filter(format!("{name} IN ({})", values.join(", "))))
    }

    /// `property IS NULL`.
    pub fn is_null(name: &str) -> Result<Self> {
        Ok(Filter(format!("{} IS NULL", property(name)?)))
    }

    /// Both conditions.
    pub fn and(self, other: Filter) -> Filter {
        Filter(format!("({}) AND ({})", self.0, other.0))
    }

    /// Either condition.
    pub fn or(self, other: Filter) -> Filter {
        Filter(format!("({}) OR ({})", self.0, other.0))
    }

    /// The expression, as sent in the `filter` parameter.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Check a property name for `properties` and `orderby` lists.
/// Check that `name` can be an IDO or property name (letters, digits and `_`, not starting
/// with a digit): names go into filters and URLs unquoted.
///
/// ```
/// use infor_ion_client::csi::checked_property;
/// assert!(checked_property("Uf_TaxCode").is_ok());
/// assert!(checked_property("Name; DROP").is_err());
/// ```
pub fn checked_property(name: &str) -> Result<&str> {
    property(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(at: DateTime<Utc>, zone: Tz) -> NaiveDateTime {
        at.with_timezone(&zone).naive_local()
    }

    fn bound_of(value: FilterValue) -> NaiveDateTime {
        match value {
            FilterValue::WallTime(at) => at,
            other => panic!("not a wall time: {other:?}"),
        }
    }

    /// Brute force, minute by minute around real transitions (on whole minutes): the lower
    /// bound is exactly the earliest wall time shown from `at` on, the upper bound at least the
    /// latest shown up to `at` and less than a minute above it.
    #[test]
    fn bounds_are_the_extreme_wall_times_around_every_kind_of_change() {
        let cases = [
            (chrono_tz::America::Chicago, "2026-11-01T07:00:00Z"), // back 1 h
            (chrono_tz::America::Chicago, "2026-03-08T08:00:00Z"), // forward 1 h
            (chrono_tz::Australia::Lord_Howe, "2026-04-04T15:00:00Z"), // back 30 min
            (chrono_tz::Europe::London, "2026-10-25T01:00:00Z"),   // back 1 h at 01:00Z
            (chrono_tz::Asia::Kolkata, "2026-06-01T00:00:00Z"),    // +05:30, no change
            (Tz::UTC, "2026-06-01T00:00:00Z"),
        ];
        for (zone, change) in cases {
            let change = DateTime::parse_from_rfc3339(change)
                .expect("date")
                .with_timezone(&Utc);
            let mut at = change - Duration::hours(4);
            while at <= change + Duration::hours(4) {
                let ahead = (0..=300).map(|m| wall(at + Duration::minutes(m), zone));
                let behind = (0..=300).map(|m| wall(at - Duration::minutes(m), zone));
                let lower = bound_of(FilterValue::since_in(at, zone));
                let upper = bound_of(FilterValue::until_in(at, zone));
                assert_eq!(Some(lower), ahead.min(), "{zone} lower at {at}");
                let latest = behind.max().expect("samples");
                assert!(upper >= latest, "{zone} upper at {at}: {upper} < {latest}");
                assert!(
                    upper - latest < Duration::minutes(1),
                    "{zone} upper at {at}"
                );
                at += Duration::minutes(5);
            }
        }
    }

    #[test]
    fn literals_are_written_year_month_day_without_separators() {
        let at = DateTime::parse_from_rfc3339("2026-02-01T14:02:44.003Z")
            .expect("date")
            .with_timezone(&Utc);
        assert_eq!(FilterValue::from(at).to_string(), "'20260201 14:02:44.003'");
        assert_eq!(
            FilterValue::from(at.naive_utc()).to_string(),
            "'20260201 14:02:44.003'"
        );
        assert_eq!(
            FilterValue::since_in(at, chrono_tz::America::Chicago).to_string(),
            "'20260201 08:02:44.003'"
        );
        assert_eq!(
            FilterValue::until_in(at, chrono_tz::Asia::Kolkata).to_string(),
            "'20260201 19:32:44.003'"
        );
    }

    #[test]
    fn quotes_are_doubled_and_names_checked() {
        let f = Filter::eq("Name", "x' OR '1'='1").expect("valid");
        assert_eq!(f.as_str(), "Name = N'x'' OR ''1''=''1'");
        for bad in ["", "1abc", "a b", "a'--", "a)", "Name/*"] {
            assert!(Filter::eq(bad, "v").is_err(), "{bad}");
        }
        assert_eq!(
            Filter::is_in::<&str>("Stat", []).expect("valid").as_str(),
            "1 = 0"
        );
        assert_eq!(
            Filter::lt("Qty", Decimal::new(125, 1))
                .expect("valid")
                .as_str(),
            "Qty < 12.5"
        );
    }
}
