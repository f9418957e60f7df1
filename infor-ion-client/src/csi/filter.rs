//! Building IDO `filter` expressions safely.
//!
//! The IDO `filter` parameter is a SQL `WHERE` fragment. [`Filter`] builds it from property
//! names (checked to be plain identifiers) and values (quoted as `N'...'` literals with quotes
//! doubled, dates as `'YYYY-MM-DD HH:MM:SS.fff'`, numbers as decimals), so no caller input is
//! ever pasted into the expression unescaped.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// A filter value, rendered as a SQL literal.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    /// A string, rendered `N'...'` with `'` doubled.
    Text(String),
    /// A date-time, rendered `'2026-02-01 14:02:44.003'` (UTC).
    DateTime(DateTime<Utc>),
    /// A number.
    Number(Decimal),
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
            FilterValue::DateTime(at) => write!(f, "'{}'", at.format("%Y-%m-%d %H:%M:%S%.3f")),
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
///     "(RecordDate >= '2026-02-01 00:00:00.000') AND (Stat IN (N'A', N'O''Neil'))"
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
pub(crate) fn checked_property(name: &str) -> Result<&str> {
    property(name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
