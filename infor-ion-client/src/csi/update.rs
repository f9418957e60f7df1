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

use serde_json::{Value, json};

use super::filter::checked_property;
use super::load::parse_page;
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
            .header("X-Infor-MongooseConfig", &self.config)?
            .query("refresh", "true")
            .json(&change.body(ido)?)?
            .idempotent(false);
        let response = self.client.send(request).await?;
        let body: Value = if response.bytes().is_empty() {
            json!({})
        } else {
            response.json_tree()?
        };
        let page = parse_page(ido, body)?;
        Ok(UpdateOutcome {
            refreshed: page.items.into_iter().next(),
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
}
