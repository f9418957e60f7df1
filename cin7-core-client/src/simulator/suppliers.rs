//! `GET/POST/PUT /supplier`.
//!
//! - `GET` filters: `ID`, `Name` (starts-with, case-insensitive), `ModifiedSince` (at or after),
//!   `IncludeDeprecated` (default false: only `Active` suppliers).
//! - `POST` validates the required fields and the references (payment term and tax rule by
//!   name, payable account by code) and answers the list envelope with the saved supplier.
//! - `PUT` (needs `ID`) overwrites the fields sent and keeps the others; an address or contact
//!   **with** an `ID` updates that entry, one **without** is appended, on every call: the
//!   duplicate-on-repeat quirk of the real API.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::data::{Data, Object, stamp};
use super::wire::{self, Query, Reply, invalid, missing, text};

const READ_ONLY: &[&str] = &["ID", "LastModifiedOn", "Addresses", "Contacts"];

pub(crate) fn list(data: &Data, query: &Query) -> Reply {
    let since = match query.datetime("modifiedsince") {
        Ok(since) => since,
        Err(reply) => return reply,
    };
    let include_deprecated = match query.bool("includedeprecated") {
        Ok(flag) => flag.unwrap_or(false),
        Err(reply) => return reply,
    };
    let id = query.get("id").map(str::to_ascii_lowercase);
    let name = query.get("name");
    let rows = data
        .suppliers
        .iter()
        .filter(|(key, _)| id.as_deref().is_none_or(|id| *key == id))
        .map(|(_, s)| s)
        .filter(|s| include_deprecated || wire::field_is(s, "Status", "Active"))
        .filter(|s| {
            name.is_none_or(|n| text(s, "Name").is_some_and(|v| wire::starts_with_ci(v, n)))
        })
        .filter(|s| {
            since.is_none_or(|since| {
                text(s, "LastModifiedOn")
                    .and_then(crate::codec::parse_datetime)
                    .is_some_and(|m| m >= since)
            })
        })
        .map(|s| Value::Object(s.clone()))
        .collect();
    wire::paged(rows, query, "SupplierList", data.paging("supplier"))
}

pub(crate) fn create(data: &mut Data, body: &Value, now: DateTime<Utc>) -> Reply {
    let input = match wire::object(body) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let id = data.guid();
    let mut supplier = Map::new();
    supplier.insert("ID".into(), json!(id));
    for (key, value) in input {
        if !READ_ONLY.contains(&key.as_str()) {
            supplier.insert(key.clone(), value.clone());
        }
    }
    if text(&supplier, "Status").is_none() {
        supplier.insert("Status".into(), json!("Active"));
    }
    let mut addresses = Vec::new();
    let mut contacts = Vec::new();
    for (key, target) in [("Addresses", &mut addresses), ("Contacts", &mut contacts)] {
        if let Some(entries) = input.get(key) {
            let Some(entries) = entries.as_array() else {
                return invalid(format!("{key} must be an array"));
            };
            for entry in entries {
                let Some(entry) = entry.as_object() else {
                    return invalid(format!("{key} entries must be objects"));
                };
                let mut entry = entry.clone();
                entry.insert("ID".into(), json!(data.guid()));
                entry.insert("SupplierID".into(), json!(id));
                target.push(Value::Object(entry));
            }
        }
    }
    supplier.insert("Addresses".into(), Value::Array(addresses));
    supplier.insert("Contacts".into(), Value::Array(contacts));
    if let Err(reply) = validate(data, &supplier) {
        return reply;
    }
    supplier.insert("LastModifiedOn".into(), json!(stamp(now)));
    data.suppliers.insert(id, supplier.clone());
    changed(data, &supplier);
    saved(supplier)
}

pub(crate) fn update(data: &mut Data, body: &Value, now: DateTime<Utc>) -> Reply {
    let input = match wire::object(body) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let Some(id) = wire::guid(input, "ID") else {
        return invalid("ID is required to update a supplier");
    };
    let Some(existing) = data.suppliers.get(id.as_str()) else {
        return missing(format!("Supplier with ID {id} not found."));
    };
    let mut supplier = existing.clone();
    for (key, value) in input {
        if !READ_ONLY.contains(&key.as_str()) {
            supplier.insert(key.clone(), value.clone());
        }
    }
    for key in ["Addresses", "Contacts"] {
        let Some(entries) = input.get(key) else {
            continue;
        };
        let Some(entries) = entries.as_array() else {
            return invalid(format!("{key} must be an array"));
        };
        let mut current: Vec<Value> = supplier
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for entry in entries {
            let Some(entry) = entry.as_object() else {
                return invalid(format!("{key} entries must be objects"));
            };
            match wire::guid(entry, "ID") {
                Some(child) => {
                    let slot = current.iter_mut().find(|c| {
                        c.get("ID")
                            .and_then(Value::as_str)
                            .is_some_and(|v| v.eq_ignore_ascii_case(child.as_str()))
                    });
                    let Some(Value::Object(slot)) = slot else {
                        return missing(format!("{key}: entry with ID {child} not found."));
                    };
                    for (k, v) in entry {
                        if k != "ID" && k != "SupplierID" {
                            slot.insert(k.clone(), v.clone());
                        }
                    }
                }
                None => {
                    // The quirk: an entry without ID is appended on every PUT.
                    let mut entry = entry.clone();
                    entry.insert("ID".into(), json!(data.guid()));
                    entry.insert("SupplierID".into(), json!(id.as_str()));
                    current.push(Value::Object(entry));
                }
            }
        }
        supplier.insert(key.into(), Value::Array(current));
    }
    if let Err(reply) = validate(data, &supplier) {
        return reply;
    }
    supplier.insert("LastModifiedOn".into(), json!(stamp(now)));
    data.suppliers
        .insert(id.as_str().to_owned(), supplier.clone());
    changed(data, &supplier);
    saved(supplier)
}

fn saved(supplier: Object) -> Reply {
    Reply::ok(json!({"Total": 1, "Page": 1, "SupplierList": [supplier]}))
}

/// `Supplier/Updated`: the supplier's identity, addresses and contacts (no documents).
fn changed(data: &mut Data, supplier: &Object) {
    let pick = |keys: &[&str]| -> Value {
        Value::Object(
            keys.iter()
                .filter_map(|k| supplier.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect(),
        )
    };
    let details = json!({
        "Supplier": pick(&["ID", "Name", "Status", "Currency", "LastModifiedOn"]),
        "Addresses": supplier.get("Addresses").cloned().unwrap_or(json!([])),
        "Contacts": supplier.get("Contacts").cloned().unwrap_or(json!([])),
    });
    data.raise(
        "Supplier/Updated",
        json!({"NumberOfSuppliers": 1, "SupplierDetailsList": [details], "EventType": "Supplier/Updated"}),
    );
}

fn validate(data: &Data, supplier: &Object) -> Result<(), Reply> {
    for field in [
        "Name",
        "Currency",
        "PaymentTerm",
        "AccountPayable",
        "TaxRule",
    ] {
        if text(supplier, field).is_none() {
            return Err(invalid(format!("{field} is required.")));
        }
    }
    wire::check_length(supplier, "Name", 256)?;
    wire::check_length(supplier, "Comments", 256)?;
    let status = text(supplier, "Status").unwrap_or("Active");
    if !["Active", "Deprecated"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(status))
    {
        return Err(invalid(format!(
            "Status {status:?} is invalid: use Active or Deprecated."
        )));
    }
    if let Some(term) = text(supplier, "PaymentTerm")
        && data.payment_term(term).is_none()
    {
        return Err(missing(format!("Payment term '{term}' not found.")));
    }
    if let Some(rule) = text(supplier, "TaxRule")
        && data.tax_rule(rule).is_none()
    {
        return Err(missing(format!("Tax rule '{rule}' not found.")));
    }
    if let Some(code) = text(supplier, "AccountPayable")
        && data.account(code).is_none()
    {
        return Err(missing(format!("Account '{code}' not found.")));
    }
    if let Some(discount) = wire::decimal(supplier, "Discount")?
        && (discount < rust_decimal::Decimal::ZERO || discount > rust_decimal::Decimal::ONE_HUNDRED)
    {
        return Err(invalid("Discount must be between 0 and 100."));
    }
    for address in supplier
        .get("Addresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        for field in ["Line1", "Country", "Type"] {
            if text(address, field).is_none() {
                return Err(invalid(format!("Address {field} is required.")));
            }
        }
        let kind = text(address, "Type").unwrap_or_default();
        if !["Billing", "Business", "Shipping"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(kind))
        {
            return Err(invalid(format!("Address Type {kind:?} is invalid.")));
        }
        wire::check_length(address, "Postcode", 20)?;
    }
    for contact in supplier
        .get("Contacts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        if text(contact, "Name").is_none() {
            return Err(invalid("Contact Name is required."));
        }
    }
    Ok(())
}
