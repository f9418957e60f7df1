//! What the return path's IDO inserts carry, shaped by the tenant.
//!
//! An insert holds two kinds of properties: those computed from the Cin7 record
//! ([`computed_properties`], plus the external-reference property on `SLPos`) and constants
//! ([`InsertDefaults`]: today `SLPos.Type`, `SLPoItems.PoRelease` and `SLPoItems.UM`). Before
//! its first insert into an IDO the writer reads the IDO's schema (`GET /info/{ido}`, once per
//! writer): a property the insert cannot do without ([`required_properties`]) that the tenant
//! lacks stops the write before anything is sent, naming the IDO, the property and the
//! runner's config key; any other property the tenant lacks is left out of every insert
//! (logged once with `tracing::warn`).

use std::collections::BTreeMap;

use crate::csi::{IdoChange, IdoSchema};

/// The purchase-order header IDO.
pub(crate) const SLPOS: &str = "SLPos";
/// The purchase-order line IDO.
pub(crate) const SLPOITEMS: &str = "SLPoItems";
/// The A/P voucher IDO.
pub(crate) const SLAPTRXS: &str = "SLAptrxs";

/// The IDOs the return path inserts rows into.
pub const INSERTED_IDOS: &[&str] = &[SLPOS, SLPOITEMS, SLAPTRXS];

/// The properties the writer fills from the Cin7 record on an insert into `ido` (empty for an
/// IDO it does not insert into). `SLPos` also gets the external-reference property
/// ([`CloudSuitePoWriter::with_external_ref_property`](super::CloudSuitePoWriter::with_external_ref_property)).
/// A constant of [`InsertDefaults`] for one of them is overridden by the computed value.
///
/// ```
/// use infor_ion_client::cloudsuite::returns::computed_properties;
/// assert!(computed_properties("SLPoItems").contains(&"QtyOrdered"));
/// assert!(!computed_properties("SLPoItems").contains(&"UM"));
/// ```
pub fn computed_properties(ido: &str) -> &'static [&'static str] {
    match ido {
        SLPOS => &["PoNum", "VendNum", "OrderDate", "Stat", "Whse"],
        SLPOITEMS => &[
            "PoNum",
            "PoLine",
            "Item",
            "Description",
            "QtyOrdered",
            "QtyReceived",
            "ItemCost",
            "Stat",
            "DueDate",
        ],
        SLAPTRXS => &[
            "Voucher", "VendNum", "InvNum", "InvDate", "InvAmt", "DueDate", "PoNum",
        ],
        _ => &[],
    }
}

/// The computed properties an insert into `ido` cannot do without (the external-reference
/// property of `SLPos`, and `SLAptrxs.Voucher` when the writer numbers vouchers, come on top).
///
/// ```
/// use infor_ion_client::cloudsuite::returns::required_properties;
/// assert_eq!(required_properties("SLPos"), ["PoNum", "VendNum"]);
/// ```
pub fn required_properties(ido: &str) -> &'static [&'static str] {
    match ido {
        SLPOS => &["PoNum", "VendNum"],
        SLPOITEMS => &["PoNum", "PoLine", "Item", "QtyOrdered"],
        SLAPTRXS => &["VendNum", "InvNum", "InvAmt"],
        _ => &[],
    }
}

/// The constant properties written on every insert, per IDO.
///
/// The default ([`InsertDefaults::standard`]) is what the writer always wrote: `SLPos.Type =
/// "R"` (a regular PO), `SLPoItems.PoRelease = "0"` (one release per line) and
/// `SLPoItems.UM = "EA"`. A tenant without one of these properties gets inserts without it
/// (the writer reads the schema first); a tenant that wants other values sets them here (the
/// runner: `[returns.insert_defaults.<IDO>]`).
///
/// ```
/// use infor_ion_client::cloudsuite::returns::InsertDefaults;
///
/// let defaults = InsertDefaults::standard()
///     .set("SLPoItems", "UM", "PCS")
///     .remove("SLPos", "Type")
///     .set("SLPos", "Uf_Channel", "CIN7");
/// assert_eq!(defaults.value("SLPoItems", "UM"), Some("PCS"));
/// assert_eq!(defaults.value("SLPos", "Type"), None);
/// assert_eq!(defaults.of("SLPos").collect::<Vec<_>>(), [("Uf_Channel", "CIN7")]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertDefaults {
    values: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for InsertDefaults {
    fn default() -> Self {
        InsertDefaults::standard()
    }
}

impl InsertDefaults {
    /// Today's constants: `SLPos.Type = "R"`, `SLPoItems.PoRelease = "0"`,
    /// `SLPoItems.UM = "EA"`.
    pub fn standard() -> Self {
        InsertDefaults::none()
            .set(SLPOS, "Type", "R")
            .set(SLPOITEMS, "PoRelease", "0")
            .set(SLPOITEMS, "UM", "EA")
    }

    /// No constants at all.
    pub fn none() -> Self {
        InsertDefaults {
            values: BTreeMap::new(),
        }
    }

    /// Write `value` into `property` on every insert into `ido` (replacing an earlier value).
    pub fn set(
        mut self,
        ido: impl Into<String>,
        property: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.values
            .entry(ido.into())
            .or_default()
            .insert(property.into(), value.into());
        self
    }

    /// Write nothing into `property` of `ido` (the tenant's own default applies).
    pub fn remove(mut self, ido: &str, property: &str) -> Self {
        if let Some(values) = self.values.get_mut(ido) {
            values.remove(property);
            if values.is_empty() {
                self.values.remove(ido);
            }
        }
        self
    }

    /// The constants of `ido`, by property name.
    pub fn of(&self, ido: &str) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .get(ido)
            .into_iter()
            .flatten()
            .map(|(p, v)| (p.as_str(), v.as_str()))
    }

    /// The constant written into `property` of `ido`, if any.
    pub fn value(&self, ido: &str, property: &str) -> Option<&str> {
        self.values.get(ido)?.get(property).map(String::as_str)
    }

    /// An insert into `ido` holding these constants (computed properties are set after them
    /// and replace a constant of the same name).
    pub(crate) fn insert(&self, ido: &str) -> IdoChange {
        self.insert_except(ido, &[])
    }

    /// [`insert`](Self::insert) without the constants named in `skip`.
    pub(crate) fn insert_except(&self, ido: &str, skip: &[&str]) -> IdoChange {
        self.of(ido)
            .filter(|(p, _)| !skip.contains(p))
            .fold(IdoChange::insert(), |change, (p, v)| change.set(p, v))
    }
}

/// How a voucher inserted into `SLAptrxs` gets its number (`Voucher`, the row's key).
///
/// ```
/// use infor_ion_client::cloudsuite::returns::VoucherNumbering;
///
/// assert_eq!(VoucherNumbering::CloudSuite.voucher_for("INV-7"), None);
/// let ours = VoucherNumbering::FromInvoice { prefix: "C7-".into() };
/// assert_eq!(ours.voucher_for("INV-7").as_deref(), Some("C7-INV-7"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum VoucherNumbering {
    /// CloudSuite numbers it: the insert sends no `Voucher`, and the number is read from the
    /// saved row the answer carries, or looked up by vendor and invoice number. The default
    /// (and the writer's behaviour so far); that the IDO numbers such an insert is
    /// **unconfirmed**.
    #[default]
    CloudSuite,
    /// The writer sends `Voucher` = `prefix` + the Cin7 invoice number. **Check** the
    /// property's type and length on your site (a numeric `Voucher` refuses letters) and that
    /// invoice numbers are unique across vendors (the key is the voucher alone).
    FromInvoice {
        /// Put before the invoice number (may be empty).
        prefix: String,
    },
}

impl VoucherNumbering {
    /// The `Voucher` to send for this supplier invoice number (`None`: CloudSuite numbers it).
    pub fn voucher_for(&self, invoice_number: &str) -> Option<String> {
        match self {
            VoucherNumbering::CloudSuite => None,
            VoucherNumbering::FromInvoice { prefix } => Some(format!("{prefix}{invoice_number}")),
        }
    }
}

/// A property an insert cannot do without, with the config key that changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Needed {
    pub(crate) property: String,
    pub(crate) config_key: &'static str,
    pub(crate) hint: &'static str,
}

impl Needed {
    pub(crate) fn fixed(property: &str) -> Self {
        Needed {
            property: property.to_owned(),
            config_key: "returns.write",
            hint: "the return path writes this standard property; on a tenant without it write purchase orders with `returns.write = \"bods\"`",
        }
    }
}

/// `change` less every property `schema` lacks.
pub(crate) fn fitted(schema: &IdoSchema, change: &IdoChange) -> IdoChange {
    change
        .properties()
        .iter()
        .filter(|(name, _)| schema.has(name))
        .fold(IdoChange::insert(), |fitted, (name, value)| match value {
            Some(value) => fitted.set(name, value),
            None => fitted.set_null(name),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_properties_are_left_out_of_an_insert() {
        let schema = IdoSchema::new(SLPOITEMS, ["PoNum", "PoLine", "Item", "QtyOrdered"]);
        let change = InsertDefaults::standard()
            .insert(SLPOITEMS)
            .set("PoNum", "C7")
            .set("UM", "PCS")
            .set_null("DueDate")
            .set("Item", "I1");
        let fitted = fitted(&schema, &change);
        let names: Vec<&str> = fitted
            .properties()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["PoNum", "Item"]);
        // A computed value replaces the constant of the same name.
        assert_eq!(change.value("UM"), Some(Some("PCS")));
    }

    #[test]
    fn computed_and_required_lists_agree() {
        for ido in INSERTED_IDOS {
            for required in required_properties(ido) {
                assert!(
                    computed_properties(ido).contains(required),
                    "{ido}.{required}"
                );
            }
        }
        assert!(computed_properties("SLVendors").is_empty());
    }
}
