//! Schema profiles: a simulated tenant whose IDOs are shaped unlike the standard ones.
//!
//! Our simulator shares our guesses about CloudSuite, so by default it cannot catch a wrong
//! guess. A profile makes it answer as a customised tenant does: an IDO served under another
//! name, properties renamed or missing, an IDO that does not exist or that the service account
//! may not read. It shapes what `load` and `info` answer; the rows underneath keep the standard
//! names (so the seeded data, the M3 and Data Lake views and IDO updates are unchanged).

use std::collections::{BTreeMap, BTreeSet};

use super::data::{CloudSuiteData, Row, TABLES};
use crate::csi::IdoNoun;
use crate::csi::nouns;

/// How the simulated tenant's IDOs differ from the standard shapes; see the
/// module docs. The default is the standard shape.
///
/// ```
/// use infor_ion_client::simulator::SchemaProfile;
///
/// let profile = SchemaProfile::default()
///     .serve_as("SLVendors", "ACME_Vendors")
///     .rename("SLVendors", "Name", "VendorName")
///     .without("SLVendors", "VadZip")
///     .forbidden("SLAptrxds");
/// assert!(!profile.is_standard());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaProfile {
    ido_names: BTreeMap<String, String>,
    renamed: BTreeMap<(String, String), String>,
    missing: BTreeSet<(String, String)>,
    absent: BTreeSet<String>,
    forbidden: BTreeSet<String>,
}

/// The properties each standard IDO offers besides those seen in its rows: what the client's
/// nouns read.
fn noun_properties(ido: &str) -> &'static [&'static str] {
    match ido {
        nouns::Vendor::IDO => nouns::Vendor::PROPERTIES,
        nouns::PurchaseOrder::IDO => nouns::PurchaseOrder::PROPERTIES,
        nouns::PoLine::IDO => nouns::PoLine::PROPERTIES,
        nouns::ApVoucher::IDO => nouns::ApVoucher::PROPERTIES,
        nouns::ApVoucherDistribution::IDO => nouns::ApVoucherDistribution::PROPERTIES,
        nouns::PostedApTransaction::IDO => nouns::PostedApTransaction::PROPERTIES,
        nouns::ApPayment::IDO => nouns::ApPayment::PROPERTIES,
        nouns::GlAccount::IDO => nouns::GlAccount::PROPERTIES,
        nouns::Customer::IDO => nouns::Customer::PROPERTIES,
        nouns::Item::IDO => nouns::Item::PROPERTIES,
        _ => &[],
    }
}

impl SchemaProfile {
    /// Serve the standard IDO `standard` under the name `tenant_ido` only (a custom or
    /// site-specific IDO); the standard name then does not exist.
    pub fn serve_as(mut self, standard: &str, tenant_ido: &str) -> Self {
        self.ido_names
            .insert(standard.to_owned(), tenant_ido.to_owned());
        self
    }

    /// Serve the standard property `property` of `ido` (a standard IDO name) as `tenant_name`.
    pub fn rename(mut self, ido: &str, property: &str, tenant_name: &str) -> Self {
        self.renamed.insert(
            (ido.to_owned(), property.to_owned()),
            tenant_name.to_owned(),
        );
        self
    }

    /// The tenant's `ido` lacks `property`: asking for it fails the whole load, as it does on
    /// a real tenant.
    pub fn without(mut self, ido: &str, property: &str) -> Self {
        self.missing.insert((ido.to_owned(), property.to_owned()));
        self
    }

    /// The tenant has no IDO `ido`.
    pub fn absent(mut self, ido: &str) -> Self {
        self.absent.insert(ido.to_owned());
        self
    }

    /// The service account may not read `ido`: its `info` answers, its loads are refused.
    pub fn forbidden(mut self, ido: &str) -> Self {
        self.forbidden.insert(ido.to_owned());
        self
    }

    /// Whether this is the standard shape.
    pub fn is_standard(&self) -> bool {
        *self == SchemaProfile::default()
    }

    /// The standard IDO behind a requested name, or the IDO failure message the tenant
    /// answers with.
    pub(crate) fn resolve(&self, requested: &str) -> Result<&'static str, String> {
        let standard = match self.ido_names.iter().find(|(_, t)| *t == requested) {
            Some((standard, _)) => standard.as_str(),
            None if self.ido_names.contains_key(requested) => "",
            None => requested,
        };
        TABLES
            .iter()
            .map(|(name, _)| *name)
            .find(|name| *name == standard && !self.absent.contains(*name))
            .ok_or_else(|| format!("IDO '{requested}' does not exist"))
    }

    /// The failure a load of `standard` gets when the service account may not read it.
    pub(crate) fn refusal(&self, standard: &str, requested: &str) -> Option<String> {
        self.forbidden.contains(standard).then(|| {
            format!("User does not have permission to read IDO '{requested}' (access denied)")
        })
    }

    /// The tenant's name of a standard property, `None` when the tenant lacks it.
    fn tenant_name(&self, ido: &str, property: &str) -> Option<String> {
        let key = (ido.to_owned(), property.to_owned());
        if self.missing.contains(&key) {
            return None;
        }
        Some(self.renamed.get(&key).cloned().unwrap_or(key.1))
    }

    /// Every property of the tenant's `standard` IDO, by the tenant's names: what its nouns
    /// read, what its rows hold, its key and `RecordDate`, less what the tenant lacks.
    pub(crate) fn properties(&self, standard: &str, data: &CloudSuiteData) -> BTreeSet<String> {
        let seen: BTreeSet<&str> = data
            .rows(standard)
            .iter()
            .flat_map(|r| r.values.keys().map(String::as_str))
            .chain(noun_properties(standard).iter().copied())
            .chain(CloudSuiteData::key_of(standard).iter().copied())
            .chain(["RecordDate"])
            .collect();
        seen.into_iter()
            .filter_map(|p| self.tenant_name(standard, p))
            .collect()
    }

    /// Whether the tenant's `standard` IDO lacks the standard property `property` (left out
    /// with [`without`](Self::without)).
    pub(crate) fn lacks(&self, standard: &str, property: &str) -> bool {
        self.missing
            .contains(&(standard.to_owned(), property.to_owned()))
    }

    /// The standard name of the property a write names `tenant_name` on the tenant's
    /// `standard` IDO, or the failure message a tenant answers for a property it does not
    /// have (one it lacks, a standard name it renamed, or one it never had).
    pub(crate) fn written_property(
        &self,
        standard: &str,
        tenant_name: &str,
        requested_ido: &str,
        data: &CloudSuiteData,
    ) -> Result<String, String> {
        let renamed_from = self
            .renamed
            .iter()
            .find(|((ido, _), tenant)| ido == standard && *tenant == tenant_name)
            .map(|((_, property), _)| property.clone());
        let name = renamed_from.unwrap_or_else(|| tenant_name.to_owned());
        if self.tenant_name(standard, &name).as_deref() == Some(tenant_name)
            && self.properties(standard, data).contains(tenant_name)
        {
            Ok(name)
        } else {
            Err(format!(
                "Property '{tenant_name}' is not a valid property of IDO '{requested_ido}'"
            ))
        }
    }

    /// Whether rows of `standard` are served with their stored names.
    pub(crate) fn keeps_rows(&self, standard: &str) -> bool {
        !self
            .renamed
            .keys()
            .chain(self.missing.iter())
            .any(|(ido, _)| ido == standard)
    }

    /// A stored row as the tenant serves it: renamed, less what it lacks.
    pub(crate) fn view(&self, standard: &str, row: &Row) -> Row {
        row.iter()
            .filter_map(|(name, value)| {
                self.tenant_name(standard, name)
                    .map(|name| (name, value.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idos_resolve_by_the_tenant_s_names() {
        let profile = SchemaProfile::default()
            .serve_as("SLVendors", "ACME_Vendors")
            .absent("SLAptrxds");
        assert_eq!(profile.resolve("ACME_Vendors"), Ok("SLVendors"));
        assert!(profile.resolve("SLVendors").is_err());
        assert!(profile.resolve("SLAptrxds").is_err());
        assert!(profile.resolve("NoSuchIdo").is_err());
        assert_eq!(profile.resolve("SLPos"), Ok("SLPos"));
    }

    #[test]
    fn rows_are_renamed_and_thinned() {
        let profile = SchemaProfile::default()
            .rename("SLVendors", "Name", "VendorName")
            .without("SLVendors", "VadZip");
        let row: Row = [("Name", "Acme"), ("VadZip", "75001"), ("VendNum", "V1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v.to_owned())))
            .collect();
        let view = profile.view("SLVendors", &row);
        assert_eq!(
            view.keys().map(String::as_str).collect::<Vec<_>>(),
            ["VendNum", "VendorName"]
        );
        assert!(!profile.keeps_rows("SLVendors"));
        assert!(profile.keeps_rows("SLPos"));
        let names = profile.properties("SLVendors", &CloudSuiteData::new());
        assert!(names.contains("VendorName") && !names.contains("Name"));
        assert!(!names.contains("VadZip"));
    }

    #[test]
    fn writes_name_properties_as_the_tenant_does() {
        let profile = SchemaProfile::default()
            .rename("SLVendors", "Name", "VendorName")
            .without("SLPos", "Type");
        let data = CloudSuiteData::new();
        let written = |ido, name| profile.written_property(ido, name, ido, &data);
        assert_eq!(written("SLVendors", "VendorName"), Ok("Name".to_owned()));
        assert!(written("SLVendors", "Name").is_err());
        assert!(written("SLVendors", "NoSuchProperty").is_err());
        let refused = written("SLPos", "Type").unwrap_err();
        assert!(
            refused.contains("'Type'") && refused.contains("'SLPos'"),
            "{refused}"
        );
        assert_eq!(written("SLPos", "Whse"), Ok("Whse".to_owned()));
        assert!(profile.lacks("SLPos", "Type") && !profile.lacks("SLPos", "Whse"));
    }
}
