//! M3 suppliers for the sync: the status read from where M3 holds it and mapped through a
//! table, and the warnings a status that cannot be read or mapped leaves for the run summary.
//!
//! `CRS620MI/LstSuppliers`' documented output carries no status (`STAT`). Unless the tenant
//! returns it in the list (the field map names a column for `status`, asked for via
//! `returncols`), each listed supplier's status is read with `CRS620MI/GetBasicData` (input
//! `SUNO`, output `STAT`): one call per supplier read, so per changed supplier on incremental
//! runs. M3's codes: `20` active (definite), `90` blocked; others exist (e.g. `10`
//! preliminary). A status that cannot be read, or a code the map does not name, is never
//! written as active: it takes the map's `other` status (default Deprecated) and leaves a
//! warning that the runner prints in the run summary.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sync_core::model::PartyStatus;

use crate::error::{Error, Result};
use crate::m3::nouns::Supplier;
use crate::m3::{M3, MiCall};

/// The program and transaction M3 supplier statuses are read from when the list lacks them.
pub const STATUS_TRANSACTION: (&str, &str) = ("CRS620MI", "GetBasicData");

/// How M3 supplier status codes (`STAT`) become the canonical status (Cin7: `Active` or
/// `Deprecated`). The default: `20` → Active, `90` → Inactive (Cin7 Deprecated), any other
/// code → Inactive, with a warning.
///
/// ```
/// use infor_ion_client::cloudsuite::SupplierStatusMap;
/// use sync_core::model::PartyStatus;
///
/// let map = SupplierStatusMap::default().map("10", PartyStatus::Active);
/// assert_eq!(map.get("20"), Some(&PartyStatus::Active));
/// assert_eq!(map.get("90"), Some(&PartyStatus::Inactive));
/// assert_eq!(map.get("10"), Some(&PartyStatus::Active));
/// assert_eq!(map.get("50"), None); // → map.other(), with a warning
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierStatusMap {
    values: BTreeMap<String, PartyStatus>,
    other: PartyStatus,
}

impl Default for SupplierStatusMap {
    fn default() -> Self {
        SupplierStatusMap {
            values: BTreeMap::from([
                ("20".to_owned(), PartyStatus::Active),
                ("90".to_owned(), PartyStatus::Inactive),
            ]),
            other: PartyStatus::Inactive,
        }
    }
}

impl SupplierStatusMap {
    /// Map M3 status `code` to `status` (added to, or replacing, the defaults).
    pub fn map(mut self, code: impl Into<String>, status: PartyStatus) -> Self {
        self.values.insert(code.into().trim().to_owned(), status);
        self
    }

    /// The status of a code the map does not name, and of a status that cannot be read
    /// (default Inactive: Cin7 Deprecated). Either case leaves a warning.
    pub fn other(mut self, status: PartyStatus) -> Self {
        self.other = status;
        self
    }

    /// The status `code` maps to, if the map names it.
    pub fn get(&self, code: &str) -> Option<&PartyStatus> {
        self.values.get(code.trim())
    }

    /// The status for codes the map does not name.
    pub fn other_status(&self) -> &PartyStatus {
        &self.other
    }

    /// The canonical status of a supplier whose status was read as `read`, with a warning when
    /// it could not be read or the map does not name its code.
    pub(crate) fn resolve(&self, read: &StatusRead) -> (PartyStatus, Option<String>) {
        let other = self.other.clone();
        let written = cin7_word(&other);
        match read {
            StatusRead::Code(code) => match self.get(code) {
                Some(status) => (status.clone(), None),
                None => (
                    other,
                    Some(format!(
                        "M3 supplier status `{code}` is not in the status map: written as \
                         {written} (map it with ion.supplier_status.values)"
                    )),
                ),
            },
            StatusRead::Unreadable(why) => (
                other,
                Some(format!(
                    "M3 supplier status could not be read ({why}): written as {written} \
                     (ion.supplier_status.other)"
                )),
            ),
        }
    }
}

fn cin7_word(status: &PartyStatus) -> &'static str {
    match status {
        PartyStatus::Active => "Active",
        PartyStatus::Inactive => "Deprecated",
    }
}

/// What reading a supplier's status gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatusRead {
    /// M3's code (`20`, `90`, ...).
    Code(String),
    /// It could not be read: why.
    Unreadable(String),
}

/// The supplier's status: from the list row when the tenant returns it there, else from
/// `CRS620MI/GetBasicData`. M3 refusing that call (no access, the supplier gone) makes the
/// status unreadable; a transport error is returned (the window fails and is read again).
pub(crate) async fn read_status(m3: &M3, supplier: &Supplier) -> Result<StatusRead> {
    if let Some(code) = supplier.status.as_deref().filter(|c| !c.is_empty()) {
        return Ok(StatusRead::Code(code.to_owned()));
    }
    basic_data_status(m3, &supplier.supplier).await
}

/// Supplier `supplier`'s status from `CRS620MI/GetBasicData`.
pub(crate) async fn basic_data_status(m3: &M3, supplier: &str) -> Result<StatusRead> {
    let (program, transaction) = STATUS_TRANSACTION;
    let call = MiCall::new(program, transaction)
        .input("SUNO", supplier)
        .return_columns(["STAT"]);
    match m3.execute(call).await {
        Ok(rows) => Ok(
            match rows
                .first()
                .and_then(|row| row.text("STAT"))
                .filter(|c| !c.is_empty())
            {
                Some(code) => StatusRead::Code(code.to_owned()),
                None => StatusRead::Unreadable(format!(
                    "{program}/{transaction} returned no STAT for supplier {supplier}"
                )),
            },
        ),
        Err(error @ Error::MiFailed { .. }) => Ok(StatusRead::Unreadable(error.to_string())),
        Err(error) => Err(error),
    }
}

/// The warnings of the M3 supplier reads since they were last taken, shared by a source's
/// clones: each reason with the suppliers it concerns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Warnings(Arc<Mutex<BTreeMap<String, Vec<String>>>>);

impl Warnings {
    pub(crate) fn add(&self, reason: String, supplier: &str) {
        tracing::warn!(supplier, "{reason}");
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let ids = map.entry(reason).or_default();
        if !ids.iter().any(|id| id == supplier) {
            ids.push(supplier.to_owned());
        }
    }

    /// One line per reason, naming up to five suppliers; the list is emptied.
    pub(crate) fn take(&self) -> Vec<String> {
        let map = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        map.into_iter()
            .map(|(reason, ids)| {
                let shown: Vec<&str> = ids.iter().take(5).map(String::as_str).collect();
                let more = ids.len().saturating_sub(shown.len());
                format!(
                    "{reason}: {} supplier(s): {}{}",
                    ids.len(),
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_map_keeps_only_20_active_and_warns_for_anything_unread_or_unmapped() {
        let map = SupplierStatusMap::default();
        let code = |c: &str| map.resolve(&StatusRead::Code(c.to_owned()));
        assert_eq!(code("20"), (PartyStatus::Active, None));
        assert_eq!(code(" 20 "), (PartyStatus::Active, None));
        assert_eq!(code("90"), (PartyStatus::Inactive, None));
        let (status, warning) = code("10");
        assert_eq!(status, PartyStatus::Inactive);
        assert!(
            warning
                .as_deref()
                .is_some_and(|w| w.contains("`10`") && w.contains("written as Deprecated")),
            "{warning:?}"
        );
        let (status, warning) = map.resolve(&StatusRead::Unreadable("no access".into()));
        assert_eq!(status, PartyStatus::Inactive);
        assert!(warning.is_some_and(|w| w.contains("no access")));
        // Configured: 10 active, anything else active too (the operator's choice), still warned.
        let map = SupplierStatusMap::default()
            .map("10", PartyStatus::Active)
            .other(PartyStatus::Active);
        assert_eq!(
            map.resolve(&StatusRead::Code("10".into())),
            (PartyStatus::Active, None)
        );
        let (status, warning) = map.resolve(&StatusRead::Code("50".into()));
        assert_eq!(status, PartyStatus::Active);
        assert!(warning.is_some_and(|w| w.contains("written as Active")));
    }

    #[test]
    fn warnings_group_suppliers_by_reason_and_are_taken_once() {
        let warnings = Warnings::default();
        for n in 1..=7 {
            warnings.add("reason A".into(), &format!("V{n}"));
        }
        warnings.add("reason A".into(), "V1");
        warnings.add("reason B".into(), "V9");
        let taken = warnings.take();
        assert_eq!(
            taken,
            vec![
                "reason A: 7 supplier(s): V1, V2, V3, V4, V5 and 2 more".to_owned(),
                "reason B: 1 supplier(s): V9".to_owned(),
            ]
        );
        assert!(warnings.take().is_empty());
    }
}
