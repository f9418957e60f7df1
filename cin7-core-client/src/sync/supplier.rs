//! Suppliers: [`SupplierDraft`] → Cin7 [`Supplier`] and back.
//!
//! A create sends the draft as a new supplier. An update reads the supplier first and changes
//! only what the draft carries (read-modify-write), so fields the sync does not own (discount,
//! comments, other additional attributes, unknown fields) survive, and every address and contact
//! keeps its Cin7 `ID`: without the ID, Cin7 would create a duplicate on every `PUT`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;
use sync_core::error::TargetError;
use sync_core::model::{self, AddressKind, PartyStatus};
use sync_core::target::{SupplierDraft, SupplierTarget, TargetPage, TargetSupplier};

use super::error::{CallKind, incomplete_answer, invalid, target_error};
use super::{Cin7Target, parse_id};
use crate::address::{Address, AddressType, Contact};
use crate::pagination::MAX_LIMIT;
use crate::supplier::{Supplier, SupplierStatus};

/// The Cin7 supplier a draft creates (no `ID`; Cin7 assigns it).
///
/// ```
/// use std::collections::BTreeMap;
/// use cin7_core_client::sync::supplier::new_supplier;
/// use sync_core::model::PartyStatus;
/// use sync_core::target::SupplierDraft;
///
/// let draft = SupplierDraft {
///     name: "Acme Tools".into(),
///     currency: "NZD".into(),
///     payment_term: "30 days".into(),
///     tax_rule: "GST on Expenses".into(),
///     account_payable: "800".into(),
///     tax_number: None,
///     status: PartyStatus::Active,
///     addresses: vec![],
///     contacts: vec![],
///     extra_fields: BTreeMap::from([("AdditionalAttribute1".into(), "V1001".into())]),
/// };
/// let json = serde_json::to_value(new_supplier(&draft)).unwrap();
/// assert_eq!(json["AdditionalAttribute1"], "V1001");
/// assert_eq!(json["Status"], "Active");
/// assert!(json.get("ID").is_none());
/// ```
pub fn new_supplier(draft: &SupplierDraft) -> Supplier {
    let mut supplier = Supplier::default();
    apply_draft(&mut supplier, draft);
    supplier.addresses = draft.addresses.iter().map(address).collect();
    supplier.contacts = draft.contacts.iter().map(contact).collect();
    supplier
}

/// `existing` changed to carry `draft`, keeping Cin7's IDs and every field the draft does not
/// own. Draft addresses reuse the ID of an existing address with the same content, else of the
/// next unused existing address of the same type; contacts the ID of an existing contact with
/// the same name, else of the next unused one. Existing entries the draft does not reuse are
/// sent back unchanged (whether Cin7 deletes omitted entries is unconfirmed; nothing is lost).
pub fn updated_supplier(existing: &Supplier, draft: &SupplierDraft) -> Supplier {
    let mut supplier = existing.clone();
    apply_draft(&mut supplier, draft);
    supplier.addresses = merge(
        &existing.addresses,
        draft.addresses.iter().map(address).collect(),
        same_address,
        |old, new| old.address_type == new.address_type,
        |new, old| new.id = old.id.clone(),
    );
    supplier.contacts = merge(
        &existing.contacts,
        draft.contacts.iter().map(contact).collect(),
        |old, new| old.name == new.name,
        |_, _| true,
        |new, old| new.id = old.id.clone(),
    );
    supplier
}

/// Whether `PUT`ting `wanted` would send exactly what Cin7 answered for `existing` (fields Cin7
/// sets and never takes back, like an address's `SupplierID`, are not sent and not compared).
fn same_body(wanted: &Supplier, existing: &Supplier) -> bool {
    matches!(
        (serde_json::to_value(wanted), serde_json::to_value(existing)),
        (Ok(a), Ok(b)) if a == b
    )
}

/// What the engine sees of a Cin7 supplier: its ID (lower case), name, and as extra fields
/// every non-empty text field a draft's `extra_fields` can write: `AdditionalAttribute1`..`10`
/// and any other untyped field, `Comments` and `AttributeSet` (the vendor ID lives in one of
/// them, whichever `Mappings::vendor_id_field` names).
pub fn target_supplier(supplier: &Supplier) -> Result<TargetSupplier, String> {
    let id = supplier
        .id
        .as_ref()
        .ok_or_else(|| format!("supplier {:?} has no ID", supplier.name))?;
    let typed = [
        ("Comments", supplier.comments.as_ref()),
        ("AttributeSet", supplier.attribute_set.as_ref()),
    ];
    let extra_fields = supplier
        .other_fields
        .iter()
        .filter_map(|(key, value)| scalar_text(value).map(|text| (key.clone(), text)))
        .chain(
            typed
                .into_iter()
                .filter_map(|(key, value)| value.map(|v| (key.to_owned(), v.clone()))),
        )
        .filter(|(_, text)| !text.is_empty())
        .collect::<BTreeMap<_, _>>();
    Ok(TargetSupplier {
        id: id.as_str().to_owned(),
        name: supplier.name.clone(),
        extra_fields,
        status: supplier.status.as_ref().map(|status| match status {
            SupplierStatus::Active => PartyStatus::Active,
            _ => PartyStatus::Inactive,
        }),
    })
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn apply_draft(supplier: &mut Supplier, draft: &SupplierDraft) {
    supplier.name = draft.name.clone();
    supplier.currency = Some(draft.currency.clone());
    supplier.payment_term = Some(draft.payment_term.clone());
    supplier.tax_rule = Some(draft.tax_rule.clone());
    supplier.account_payable = Some(draft.account_payable.clone());
    supplier.tax_number = draft.tax_number.clone();
    supplier.status = Some(match draft.status {
        PartyStatus::Active => SupplierStatus::Active,
        PartyStatus::Inactive => SupplierStatus::Deprecated,
    });
    for (key, value) in &draft.extra_fields {
        // The two documented text fields a user may point an extra field at are typed fields of
        // the model; everything else (AdditionalAttributeN, newer fields) is kept untyped.
        match key.as_str() {
            "Comments" => supplier.comments = Some(value.clone()),
            "AttributeSet" => supplier.attribute_set = Some(value.clone()),
            _ => {
                supplier
                    .other_fields
                    .insert(key.clone(), Value::String(value.clone()));
            }
        }
    }
}

fn address(a: &model::Address) -> Address {
    Address {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        postcode: a.postcode.clone(),
        country: a.country.clone(),
        address_type: Some(match a.kind {
            AddressKind::Billing => AddressType::Billing,
            AddressKind::Business => AddressType::Business,
            AddressKind::Shipping => AddressType::Shipping,
        }),
        ..Address::default()
    }
}

fn contact(c: &model::Contact) -> Contact {
    Contact {
        name: c.name.clone(),
        phone: c.phone.clone(),
        email: c.email.clone(),
        default: Some(c.default),
        ..Contact::default()
    }
}

fn same_address(old: &Address, new: &Address) -> bool {
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    old.address_type == new.address_type
        && old.line1 == new.line1
        && text(&old.line2) == text(&new.line2)
        && text(&old.city) == text(&new.city)
        && text(&old.postcode) == text(&new.postcode)
        && old.country == new.country
}

/// Pair new entries with existing ones (exact match first, then a compatible unused one), copy
/// the existing IDs onto the new entries, and append the existing entries nobody reused.
fn merge<T: Clone>(
    existing: &[T],
    mut wanted: Vec<T>,
    exact: impl Fn(&T, &T) -> bool,
    compatible: impl Fn(&T, &T) -> bool,
    take_id: impl Fn(&mut T, &T),
) -> Vec<T> {
    let mut used = vec![false; existing.len()];
    let mut paired = vec![false; wanted.len()];
    for pass in 0..2 {
        for (i, new) in wanted.iter_mut().enumerate() {
            if paired[i] {
                continue;
            }
            let hit = existing.iter().enumerate().position(|(j, old)| {
                !used[j]
                    && if pass == 0 {
                        exact(old, new)
                    } else {
                        compatible(old, new)
                    }
            });
            if let Some(j) = hit {
                used[j] = true;
                paired[i] = true;
                take_id(new, &existing[j]);
            }
        }
    }
    wanted.extend(
        existing
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(old, _)| old.clone()),
    );
    wanted
}

#[async_trait]
impl SupplierTarget for Cin7Target {
    /// `GET /supplier?IncludeDeprecated=true&Page=page&Limit=limit`. `limit` must be 1..=1000
    /// (Cin7's page bound); `total` is Cin7's `Total` (when Cin7 omits it, a full page reports
    /// one more than seen so the caller asks for the next page).
    async fn list_suppliers(
        &self,
        page: u32,
        limit: u32,
    ) -> Result<TargetPage<TargetSupplier>, TargetError> {
        if limit == 0 || limit > MAX_LIMIT {
            return Err(invalid(format!(
                "supplier page limit {limit} is outside Cin7's 1..={MAX_LIMIT}"
            )));
        }
        let got = self
            .client
            .suppliers()
            .list()
            .include_deprecated(true)
            .page(page)
            .limit(limit)
            .send()
            .await
            .map_err(|e| target_error(e, CallKind::Read))?;
        let seen = u64::from(page.max(1) - 1) * u64::from(limit) + got.items.len() as u64;
        let total = got.total.unwrap_or(if got.items.len() as u32 >= limit {
            seen + 1
        } else {
            seen
        });
        let items = got
            .items
            .iter()
            .map(target_supplier)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| incomplete_answer(CallKind::Read, why))?;
        Ok(TargetPage { items, total })
    }

    /// `POST /supplier`. Never resent after an unknown outcome: that error has
    /// `delivery: Unknown`, and the engine rebuilds its index before trying again.
    async fn create_supplier(&self, draft: &SupplierDraft) -> Result<TargetSupplier, TargetError> {
        let saved = self
            .client
            .suppliers()
            .create(&new_supplier(draft))
            .await
            .map_err(|e| target_error(e, CallKind::Create))?;
        target_supplier(&saved).map_err(|why| incomplete_answer(CallKind::Create, why))
    }

    /// `GET /supplier?ID=` then `PUT /supplier` with the draft merged into what Cin7 holds;
    /// no `PUT` when Cin7 already holds exactly that (one read confirms a write whose answer
    /// was lost).
    async fn update_supplier(
        &self,
        id: &str,
        draft: &SupplierDraft,
    ) -> Result<TargetSupplier, TargetError> {
        let guid = parse_id("supplier", id)?;
        let existing = self
            .client
            .suppliers()
            .get(&guid)
            .await
            .map_err(|e| target_error(e, CallKind::Read))?;
        let Some(existing) = existing else {
            return Err(TargetError::rejected(
                404,
                format!("supplier {id} not found in Cin7"),
            ));
        };
        let supplier = updated_supplier(&existing, draft);
        if same_body(&supplier, &existing) {
            // Already what we would write (an earlier write whose answer was lost, or a
            // record nobody changed on either side): the read confirms it, no rewrite.
            return target_supplier(&existing)
                .map_err(|why| incomplete_answer(CallKind::Read, why));
        }
        // A PUT that adds an address or contact is a create for those children.
        let kind = if supplier.adds_children() {
            CallKind::Create
        } else {
            CallKind::Repeatable
        };
        let saved = self
            .client
            .suppliers()
            .update(&supplier)
            .await
            .map_err(|e| target_error(e, kind))?;
        target_supplier(&saved).map_err(|why| incomplete_answer(kind, why))
    }
}
