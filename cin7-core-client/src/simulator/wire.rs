//! Wire helpers shared by the simulated endpoints: query parsing (keys are case-insensitive
//! like Cin7's), Cin7's error model, paging, decimals and JSON field access.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::config::SimPaging;
use crate::codec;

/// An answer before faults are applied: status and body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// A JSON body.
    Json(u16, Value),
    /// A text body (`Incorrect credentials!`, HTML pages).
    Text(u16, &'static str, String),
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Reply {
        Reply::Json(200, body)
    }

    pub(crate) fn status(&self) -> u16 {
        match self {
            Reply::Json(status, _) | Reply::Text(status, _, _) => *status,
        }
    }
}

/// Cin7's error model `{"ErrorCode": code, "Exception": message}` with HTTP `status`.
pub(crate) fn error(status: u16, code: u16, message: impl Into<String>) -> Reply {
    Reply::Json(
        status,
        json!({"ErrorCode": code, "Exception": message.into()}),
    )
}

/// A validation failure: HTTP 400 with `ErrorCode` 400.
pub(crate) fn invalid(message: impl Into<String>) -> Reply {
    error(400, 400, message)
}

/// A reference that does not exist: HTTP 400 whose body says 404 (Cin7's `ErrorCode` need
/// not match the HTTP status).
pub(crate) fn missing(message: impl Into<String>) -> Reply {
    error(400, 404, message)
}

/// Query parameters with lower-cased keys.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
            .collect();
        Query(pairs)
    }

    /// The value of `key` (give it in lower case); empty values count as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, Reply> {
        match self.get(key) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(invalid(format!("{key}: {v:?} is not a boolean"))),
        }
    }

    pub(crate) fn datetime(&self, key: &str) -> Result<Option<DateTime<Utc>>, Reply> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => codec::parse_datetime(v)
                .map(Some)
                .ok_or_else(|| invalid(format!("{key}: {v:?} is not a date"))),
        }
    }
}

/// One page of `rows` under `key` in Cin7's envelope `{Total, Page, <key>}`. `Limit`
/// defaults to 100 and is clamped to 1..=1000 and to the endpoint's configured cap (as an
/// endpoint serving fewer rows than asked would); `Page` is 1-based and counts pages of the
/// size actually served. A configured phantom count is added to `Total` (rows it claims that
/// no page holds).
pub(crate) fn paged(rows: Vec<Value>, query: &Query, key: &str, paging: SimPaging) -> Reply {
    let number = |name: &str, default: u64| -> Result<u64, Reply> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| invalid(format!("{name}: {v:?} is not a number"))),
        }
    };
    let page = match number("page", 1) {
        Ok(page) => page.max(1),
        Err(reply) => return reply,
    };
    let limit = match number("limit", 100) {
        Ok(limit) => limit.clamp(1, paging.page_cap.unwrap_or(1000).clamp(1, 1000)),
        Err(reply) => return reply,
    };
    let total = rows.len() as u64 + paging.phantom_rows;
    let start = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let items: Vec<Value> = rows
        .into_iter()
        .skip(start)
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let mut body = Map::new();
    body.insert("Total".into(), json!(total));
    body.insert("Page".into(), json!(page));
    body.insert(key.into(), Value::Array(items));
    Reply::ok(Value::Object(body))
}

/// A string field (trimmed, non-empty).
pub(crate) fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A decimal field sent as a number or a numeric string.
pub(crate) fn decimal(object: &Map<String, Value>, key: &str) -> Result<Option<Decimal>, Reply> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .map(Some)
            .map_err(|_| invalid(format!("{key} is not a number"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Decimal::from_str(s.trim())
            .map(Some)
            .map_err(|_| invalid(format!("{key}: {s:?} is not a number"))),
        Some(_) => Err(invalid(format!("{key} is not a number"))),
    }
}

/// A decimal as a JSON number.
pub(crate) fn number(value: Decimal) -> Value {
    serde_json::from_str(&value.normalize().to_string()).unwrap_or(Value::Null)
}

/// A boolean field sent as `true` or `"True"`.
pub(crate) fn boolean(object: &Map<String, Value>, key: &str) -> Option<bool> {
    match object.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The GUID in a field, if it is one.
pub(crate) fn guid(object: &Map<String, Value>, key: &str) -> Option<codec::Guid> {
    text(object, key).and_then(|s| s.parse().ok())
}

/// Whether `field` of `row` equals `wanted`, ignoring case.
pub(crate) fn field_is(row: &Map<String, Value>, field: &str, wanted: &str) -> bool {
    text(row, field).is_some_and(|v| v.eq_ignore_ascii_case(wanted))
}

/// Whether `value` starts with `prefix`, ignoring case.
pub(crate) fn starts_with_ci(value: &str, prefix: &str) -> bool {
    value.to_lowercase().starts_with(&prefix.to_lowercase())
}

/// `max` characters at most.
pub(crate) fn check_length(
    object: &Map<String, Value>,
    key: &str,
    max: usize,
) -> Result<(), Reply> {
    match text(object, key) {
        Some(v) if v.chars().count() > max => {
            Err(invalid(format!("{key} is longer than {max} characters")))
        }
        _ => Ok(()),
    }
}

/// The object in a JSON body, or a 400.
pub(crate) fn object(body: &Value) -> Result<&Map<String, Value>, Reply> {
    body.as_object()
        .ok_or_else(|| invalid("the request body must be a JSON object"))
}
