//! `POST /update/{ido}`: insert or update one row of an IDO collection.
//!
//! The body is `{"IDOName", "RefreshAfterSave", "Changes": [{"Action", "ItemId",
//! "Properties": [{"Name", "Value", "Modified", "IsNull"}]}]}` with `Action` 1 (insert) or
//! 2 (update). Only one `Changes` entry is processed per call (integrators' notes, third-party;
//! see `docs/assumptions.md`), so [`Csi::update`] sends exactly one.
//!
//! An update call is **not idempotent**: an insert sent twice creates two rows (or fails on the
//! key), and the gateway gives no idempotency key. The request is marked non-idempotent, so the
//! one request path never resends it after it may have reached the server; the caller gets an
//! error whose [`Error::delivery`] is `Unknown` and must look the row up before trying again —
//! which is what [`Csi::insert_once`] does.
//!
//! The answer's shape is **unconfirmed** (no Infor page shows one). With `RefreshAfterSave` the
//! server is expected to send the saved row back in `RefreshItems`, each entry shaped like a
//! change (`{"Action", "ItemId", "Properties": [{"Name", "Value", "IsNull", ...}]}`);
//! [`Csi::update`] also reads an entry that is a property map or a `{Name, Value}` pair list (as
//! load `Items` are), a load-shaped answer (`Items`) and an empty body. An entry it cannot read
//! is ignored (the caller looks the row up, as after an empty answer): the write happened, so
//! an unreadable refresh must not turn it into an error.

use sdk_common::retry::Idempotency;
use serde_json::{Value, json};

use super::filter::checked_property;
use super::load::{parse_item, parse_page};
use super::{Csi, Filter, IdoItem};
use crate::client::IonRequest;
use crate::error::{Error, Result};

/// What one change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// Action 1: insert a new row.
    Insert,
    /// Action 2: update the row named by its `_ItemId`.
    Update,
}

impl ChangeAction {
    fn code(self) -> u8 {
        match self {
            ChangeAction::Insert => 1,
            ChangeAction::Update => 2,
        }
    }
}

/// One change: an insert, or an update of the row with an `_ItemId` read by a load.
///
/// ```
/// use infor_ion_client::csi::IdoChange;
/// let change = IdoChange::update("PBT=[SLPos] SLPos.ID=[7]").set("Stat", "F").set_null("VendOrder");
/// assert_eq!(change.properties().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdoChange {
    action: ChangeAction,
    item_id: Option<String>,
    properties: Vec<(String, Option<String>)>,
}

impl IdoChange {
    /// A new row.
    pub fn insert() -> Self {
        IdoChange {
            action: ChangeAction::Insert,
            item_id: None,
            properties: Vec::new(),
        }
    }

    /// A change to the row with this `_ItemId` (from [`IdoItem::item_id`]).
    pub fn update(item_id: impl Into<String>) -> Self {
        IdoChange {
            action: ChangeAction::Update,
            item_id: Some(item_id.into()),
            properties: Vec::new(),
        }
    }

    /// Set a property (a later value for the same name replaces an earlier one).
    pub fn set(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.put(name.into(), Some(value.into()))
    }

    /// Set a property to NULL.
    pub fn set_null(self, name: impl Into<String>) -> Self {
        self.put(name.into(), None)
    }

    fn put(mut self, name: String, value: Option<String>) -> Self {
        self.properties.retain(|(n, _)| *n != name);
        self.properties.push((name, value));
        self
    }

    /// The action.
    pub fn action(&self) -> ChangeAction {
        self.action
    }

    /// The properties set, in order.
    pub fn properties(&self) -> &[(String, Option<String>)] {
        &self.properties
    }

    /// The value set for `name`, if any (`Some(None)` when set to NULL).
    pub fn value(&self, name: &str) -> Option<Option<&str>> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    /// The request body for `ido`; checks property names and that an update names its row.
    pub fn body(&self, ido: &str) -> Result<Value> {
        if self.properties.is_empty() {
            return Err(Error::InvalidRequest(format!(
                "an update of {ido} must set at least one property"
            )));
        }
        let item_id = match (self.action, &self.item_id) {
            (ChangeAction::Update, Some(id)) if !id.trim().is_empty() => id.clone(),
            (ChangeAction::Update, _) => {
                return Err(Error::InvalidRequest(format!(
                    "an update of {ido} needs the row's _ItemId"
                )));
            }
            (ChangeAction::Insert, _) => String::new(),
        };
        let properties = self
            .properties
            .iter()
            .map(|(name, value)| {
                checked_property(name)?;
                Ok(json!({
                    "Name": name,
                    "Value": value,
                    "Modified": true,
                    "IsNull": value.is_none(),
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({
            "IDOName": ido,
            "RefreshAfterSave": true,
            "Changes": [{
                "Action": self.action.code(),
                "ItemId": item_id,
                "Properties": properties,
            }],
        }))
    }
}

/// What an update call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateOutcome {
    /// The saved row as the server refreshed it, when it sent one back.
    pub refreshed: Option<IdoItem>,
}

/// What [`Csi::insert_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOnce {
    /// A row matching the lookup already existed; nothing was sent.
    Existing(IdoItem),
    /// The row was inserted.
    Inserted(UpdateOutcome),
}

impl Csi {
    /// `POST /update/{ido}?refresh=true` with one change. Not idempotent: never resent after
    /// it may have reached the server (see the module docs). `Success: false` becomes
    /// [`Error::IdoFailed`].
    pub async fn update(&self, ido: &str, change: &IdoChange) -> Result<UpdateOutcome> {
        checked_property(ido)?;
        let request = IonRequest::post(format!("{}/update/{ido}", self.base_path))
            .header("X-Infor-MongooseConfig", &self.config)
            .query("refresh", "true")
            .json(&change.body(ido)?)
            .with_idempotency(Idempotency::NonIdempotent);
        let response = self.client.send(request).await?;
        let body: Value = if response.bytes().is_empty() {
            json!({})
        } else {
            response.json_tree()?
        };
        let refreshed = parse_update_answer(ido, body)?;
        Ok(UpdateOutcome {
            refreshed: refreshed.map(|mut item| {
                // Zone-less date-times are the site's wall times, as in a load.
                item.record = std::mem::take(&mut item.record).in_zone(self.record_date_zone());
                item
            }),
        })
    }

    /// The first row of `ido` matching `filter` (at most two are read; more than one match is
    /// [`Error::InvalidRequest`], since a lookup key that is not unique cannot prove anything).
    pub async fn find_one(
        &self,
        ido: &str,
        filter: Filter,
        properties: &[&str],
    ) -> Result<Option<IdoItem>> {
        let page = self
            .load(ido)
            .properties(properties.iter().copied())
            .filter(filter.clone())
            .record_cap(2)
            .page(None)
            .await?;
        match page.items.len() {
            0 | 1 => Ok(page.items.into_iter().next()),
            n => Err(Error::InvalidRequest(format!(
                "{n} rows of {ido} match {}; the lookup key is not unique",
                filter.as_str()
            ))),
        }
    }

    /// Lookup before create: insert `change` unless a row matching `lookup` exists. Call it
    /// again after an insert whose outcome is unknown: the row it may have created is found.
    pub async fn insert_once(
        &self,
        ido: &str,
        lookup: Filter,
        properties: &[&str],
        change: &IdoChange,
    ) -> Result<InsertOnce> {
        if change.action() != ChangeAction::Insert {
            return Err(Error::InvalidRequest(
                "insert_once takes an insert change".into(),
            ));
        }
        if let Some(existing) = self.find_one(ido, lookup, properties).await? {
            return Ok(InsertOnce::Existing(existing));
        }
        Ok(InsertOnce::Inserted(self.update(ido, change).await?))
    }
}

/// The saved row of an update answer: the first readable `RefreshItems` entry, else the first
/// load-shaped `Items` row, else none. `Success: false` is [`Error::IdoFailed`]; a malformed
/// `Items` list is a decode error as in a load.
pub(crate) fn parse_update_answer(ido: &str, mut body: Value) -> Result<Option<IdoItem>> {
    let refreshed = match body.get_mut("RefreshItems").map(Value::take) {
        Some(Value::Array(entries)) => entries
            .into_iter()
            .enumerate()
            .find_map(|(i, entry)| match refresh_item(ido, i, entry) {
                Ok(item) => Some(item),
                Err(error) => {
                    tracing::warn!(ido, %error, "an update answer's RefreshItems entry is unreadable; ignored");
                    None
                }
            }),
        None | Some(Value::Null) => None,
        Some(_) => {
            tracing::warn!(ido, "an update answer's RefreshItems is not a list; ignored");
            None
        }
    };
    // Checks `Success`/`Message` and reads a load-shaped answer.
    let page = parse_page(ido, body)?;
    Ok(refreshed.or_else(|| page.items.into_iter().next()))
}

/// One `RefreshItems` entry: a change-shaped entry (`ItemId`, `Properties[{Name, Value,
/// IsNull}]`), or a row shaped as load `Items` are.
fn refresh_item(ido: &str, index: usize, entry: Value) -> Result<IdoItem> {
    let Value::Object(mut entry) = entry else {
        return parse_item(ido, index, entry);
    };
    let Some(properties) = entry.remove("Properties") else {
        return parse_item(ido, index, Value::Object(entry));
    };
    let Value::Array(properties) = properties else {
        return Err(refresh_decode(ido, index, "Properties is not a list"));
    };
    let mut pairs = Vec::with_capacity(properties.len() + 1);
    for property in properties {
        let Value::Object(mut property) = property else {
            return Err(refresh_decode(ido, index, "a property is not an object"));
        };
        let is_null = property.get("IsNull").and_then(Value::as_bool) == Some(true);
        let value = if is_null {
            Value::Null
        } else {
            property.remove("Value").unwrap_or(Value::Null)
        };
        let Some(Value::String(name)) = property.remove("Name") else {
            return Err(refresh_decode(ido, index, "a property has no Name"));
        };
        pairs.push(json!({"Name": name, "Value": value}));
    }
    if let Some(Value::String(item_id)) = entry.remove("ItemId").or_else(|| entry.remove("_ItemId"))
        && !item_id.is_empty()
    {
        pairs.push(json!({"Name": "_ItemId", "Value": item_id}));
    }
    parse_item(ido, index, Value::Array(pairs))
}

fn refresh_decode(ido: &str, index: usize, message: &str) -> Error {
    Error::Decode {
        method: "POST".into(),
        path: format!("update/{ido}"),
        at: format!("RefreshItems[{index}]"),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_one_change_with_typed_properties() {
        let body = IdoChange::update("ID1")
            .set("Stat", "O")
            .set("Stat", "F")
            .set_null("VendOrder")
            .body("SLPos")
            .expect("valid");
        assert_eq!(body["IDOName"], "SLPos");
        let changes = body["Changes"].as_array().expect("array");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0]["Action"], 2);
        assert_eq!(changes[0]["ItemId"], "ID1");
        let props = changes[0]["Properties"].as_array().expect("array");
        assert_eq!(props.len(), 2);
        assert_eq!(props[0]["Name"], "Stat");
        assert_eq!(props[0]["Value"], "F");
        assert_eq!(props[1]["IsNull"], true);
        assert_eq!(
            IdoChange::insert()
                .set("PoNum", "P1")
                .body("SLPos")
                .expect("valid")["Changes"][0]["Action"],
            1
        );
    }

    #[test]
    fn bad_changes_are_typed_errors() {
        for (change, what) in [
            (IdoChange::insert(), "at least one property"),
            (IdoChange::update(" ").set("Stat", "O"), "_ItemId"),
            (IdoChange::insert().set("Stat'--", "O"), "Stat'--"),
        ] {
            let error = change.body("SLPos").expect_err("invalid");
            assert!(error.to_string().contains(what), "{error}");
        }
    }
    #[test]
    fn refresh_items_carry_the_saved_row_in_either_shape() {
        let change_shaped = json!({"Success": true, "Message": null, "RefreshItems": [{
            "Action": 1,
            "ItemId": "PBT=[SLAptrxs] SLAptrxs.ID=[9]",
            "Properties": [
                {"Name": "Voucher", "Value": "100011", "Modified": false, "IsNull": false},
                {"Name": "PoNum", "Value": "ignored", "IsNull": true},
            ],
        }]});
        let item = parse_update_answer("SLAptrxs", change_shaped)
            .expect("readable")
            .expect("a row");
        assert_eq!(item.record.text("Voucher"), Some("100011"));
        assert_eq!(item.record.text("PoNum"), None);
        assert_eq!(
            item.item_id.as_deref(),
            Some("PBT=[SLAptrxs] SLAptrxs.ID=[9]")
        );

        let map_shaped = json!({"RefreshItems": [{"Voucher": "7", "_ItemId": "X"}]});
        let item = parse_update_answer("SLAptrxs", map_shaped)
            .expect("readable")
            .expect("a row");
        assert_eq!(item.record.text("Voucher"), Some("7"));
        assert_eq!(item.item_id.as_deref(), Some("X"));
    }

    #[test]
    fn empty_load_shaped_and_unreadable_answers_are_tolerated() {
        assert_eq!(
            parse_update_answer("SLPos", json!({})).expect("empty"),
            None
        );
        assert_eq!(
            parse_update_answer("SLPos", json!({"Success": true, "RefreshItems": null}))
                .expect("null"),
            None
        );
        let load_shaped = json!({"Items": [{"PoNum": "P1"}], "Success": true});
        let item = parse_update_answer("SLPos", load_shaped)
            .expect("readable")
            .expect("a row");
        assert_eq!(item.record.text("PoNum"), Some("P1"));
        // An entry that cannot be read is skipped: the write happened.
        let odd = json!({"RefreshItems": [17, {"Properties": "no"}], "Items": [{"PoNum": "P2"}]});
        let item = parse_update_answer("SLPos", odd)
            .expect("tolerated")
            .expect("a row");
        assert_eq!(item.record.text("PoNum"), Some("P2"));
        assert_eq!(
            parse_update_answer("SLPos", json!({"RefreshItems": "x"})).expect("tolerated"),
            None
        );
        let refused = parse_update_answer(
            "SLPos",
            json!({"Success": false, "Message": "Property 'Type' is not valid", "RefreshItems": []}),
        );
        assert!(
            matches!(refused, Err(Error::IdoFailed { .. })),
            "{refused:?}"
        );
    }
}
