//! What a tenant's IDOs offer, read from `GET /info/{ido}`, and how a noun fits them.
//!
//! CloudSuite versions add and rename properties, customers customise IDOs, and a property a
//! site lacks makes a whole load request fail (`Success: false`, "Property 'X' is not a valid
//! property of IDO 'Y'"). So before a noun is read its IDO's schema is compared with what the
//! noun needs ([`NounFit::check`]): a missing *optional* property is left out of the request
//! ([`NounFit::adapted`]), a missing *required* one ([`IdoNoun::is_required`]) stops the read
//! before any row is fetched, naming the IDO, the property and the runner's config key that
//! maps it.
//!
//! ```
//! use infor_ion_client::csi::nouns::Vendor;
//! use infor_ion_client::csi::{IdoSchema, NounFit, PropertyMap};
//!
//! let info = serde_json::json!({"Success": true, "Properties": [
//!     {"Name": "VendNum"}, {"Name": "Name"}, {"Name": "RecordDate"}, {"Name": "Uf_Tax"}
//! ]});
//! let schema = IdoSchema::from_info("SLVendors", &info)?;
//! let map = PropertyMap::default().rename("TaxCode1", "Uf_Tax");
//! let fit = NounFit::check::<Vendor>(&map, &schema);
//! assert!(fit.is_usable());
//! assert!(fit.missing_optional().any(|m| m.standard == "VadZip"));
//! assert!(!fit.missing_optional().any(|m| m.standard == "TaxCode1"));
//! let adapted = fit.adapted(map);
//! assert!(adapted.is_omitted("VadZip"));
//! # Ok::<(), infor_ion_client::Error>(())
//! ```

use std::collections::BTreeSet;

use super::{Csi, IdoNoun, PropertyMap};
use crate::error::{Error, Result};

/// The properties one IDO offers, as its `/info` answer lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdoSchema {
    ido: String,
    properties: BTreeSet<String>,
}

impl IdoSchema {
    /// Read the property names of an `/info/{ido}` answer (`Properties[].Name`).
    ///
    /// An answer without a `Properties` list is a [`Error::Decode`]: treating it as "no
    /// properties" would report every property missing.
    pub fn from_info(ido: &str, info: &serde_json::Value) -> Result<Self> {
        let decode = |message: &str| Error::Decode {
            method: "GET".into(),
            path: format!("info/{ido}"),
            at: "Properties".into(),
            message: message.into(),
        };
        let list = info
            .get("Properties")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| decode("the answer has no Properties list"))?;
        let properties = list
            .iter()
            .map(|p| {
                p.get("Name")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| decode("a property has no Name"))
            })
            .collect::<Result<BTreeSet<_>>>()?;
        Ok(IdoSchema {
            ido: ido.to_owned(),
            properties,
        })
    }

    /// A schema from a list of names (for tests and for callers that learned it elsewhere).
    pub fn new<S: Into<String>>(ido: &str, properties: impl IntoIterator<Item = S>) -> Self {
        IdoSchema {
            ido: ido.to_owned(),
            properties: properties.into_iter().map(Into::into).collect(),
        }
    }

    /// The IDO.
    pub fn ido(&self) -> &str {
        &self.ido
    }

    /// Whether the IDO has this property (IDO property names are matched exactly, as the
    /// load service matches them).
    pub fn has(&self, property: &str) -> bool {
        self.properties.contains(property)
    }

    /// Every property, in name order.
    pub fn properties(&self) -> impl Iterator<Item = &str> {
        self.properties.iter().map(String::as_str)
    }
}

/// A property a noun reads that the tenant's IDO lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingProperty {
    /// The standard name (as in [`nouns`](super::nouns)).
    pub standard: String,
    /// The name asked for on this tenant (after renames).
    pub site: String,
    /// Whether the noun cannot be read without it.
    pub required: bool,
    /// The runner's config key that maps the property, e.g.
    /// `ion.idos.SLVendors.properties.Name`.
    pub config_key: String,
}

/// How one noun fits the schema of the IDO it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NounFit {
    /// The noun's standard IDO (e.g. `SLVendors`).
    pub noun: &'static str,
    /// The IDO read on this tenant (the standard one unless mapped).
    pub ido: String,
    /// What the IDO lacks.
    pub missing: Vec<MissingProperty>,
}

/// The runner's config key for a noun's property: `ion.idos.<standard IDO>.properties.<name>`.
pub fn property_config_key(noun: &str, standard: &str) -> String {
    format!("ion.idos.{noun}.properties.{standard}")
}

/// The runner's config key for the IDO a noun is read from: `ion.idos.<standard IDO>.ido`.
pub fn ido_config_key(noun: &str) -> String {
    format!("ion.idos.{noun}.ido")
}

impl NounFit {
    /// Compare what `N` reads through `map` with `schema`. Extra properties asked for with
    /// [`PropertyMap::extra`] count as required: whoever asked for them relies on them.
    pub fn check<N: IdoNoun>(map: &PropertyMap, schema: &IdoSchema) -> Self {
        let own = N::PROPERTIES
            .iter()
            .map(|standard| ((*standard).to_owned(), N::is_required(standard)));
        let extra = map.extra_properties().iter().map(|p| (p.clone(), true));
        let missing = own
            .chain(extra)
            .filter_map(|(standard, required)| {
                let site = map.site_name(&standard).to_owned();
                (!schema.has(&site)).then(|| MissingProperty {
                    config_key: property_config_key(N::IDO, &standard),
                    standard,
                    site,
                    required,
                })
            })
            .collect();
        NounFit {
            noun: N::IDO,
            ido: map.ido_name(N::IDO).to_owned(),
            missing,
        }
    }

    /// Whether the noun can be read (no required property is missing).
    pub fn is_usable(&self) -> bool {
        self.missing_required().next().is_none()
    }

    /// The missing properties the noun cannot do without.
    pub fn missing_required(&self) -> impl Iterator<Item = &MissingProperty> {
        self.missing.iter().filter(|m| m.required)
    }

    /// The missing properties the records can flow without.
    pub fn missing_optional(&self) -> impl Iterator<Item = &MissingProperty> {
        self.missing.iter().filter(|m| !m.required)
    }

    /// `map` with every missing optional property left out of requests.
    pub fn adapted(&self, map: PropertyMap) -> PropertyMap {
        self.missing_optional()
            .fold(map, |map, m| map.without(m.standard.clone()))
    }

    /// The error for the first missing required property, if any.
    pub fn error(&self) -> Option<Error> {
        self.missing_required()
            .next()
            .map(|m| Error::MissingProperty {
                ido: self.ido.clone(),
                property: m.site.clone(),
                standard: m.standard.clone(),
                config_key: m.config_key.clone(),
            })
    }
}

impl Csi {
    /// The schema of `ido`, from `GET /info/{ido}`. An IDO that does not exist answers
    /// `Success: false`, which is [`Error::IdoFailed`].
    pub async fn schema(&self, ido: &str) -> Result<IdoSchema> {
        let info = self.info(ido).await?;
        IdoSchema::from_info(ido, &info)
    }

    /// Read one row of `ido` with exactly these properties: proves the service account may
    /// read the IDO and the properties are accepted (an IDO's `/info` can answer while its
    /// load is refused).
    pub async fn probe(&self, ido: &str, properties: &[String]) -> Result<()> {
        self.load(ido)
            .properties(properties.iter().cloned())
            .record_cap(1)
            .page(None)
            .await
            .map(drop)
    }

    /// How noun `N` fits this tenant through `map`: its IDO's schema read and compared, and —
    /// when it fits — one row read with the adapted property list to prove the IDO is
    /// readable. Errors are the IDO's own (it does not exist, it may not be read).
    pub async fn fit<N: IdoNoun>(&self, map: &PropertyMap) -> Result<NounFit> {
        let ido = map.ido_name(N::IDO);
        let schema = self.schema(ido).await?;
        let fit = NounFit::check::<N>(map, &schema);
        if fit.is_usable() {
            let adapted = fit.adapted(map.clone());
            let properties: Vec<String> = N::PROPERTIES
                .iter()
                .filter(|p| !adapted.is_omitted(p))
                .map(|p| adapted.site_name(p).to_owned())
                .chain(adapted.extra_properties().iter().cloned())
                .collect();
            self.probe(ido, &properties).await?;
        }
        Ok(fit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csi::nouns::{ApVoucherDistribution, Vendor};

    fn vendors(without: &[&str]) -> IdoSchema {
        IdoSchema::new(
            "SLVendors",
            Vendor::PROPERTIES
                .iter()
                .copied()
                .filter(|p| !without.contains(p)),
        )
    }

    #[test]
    fn a_full_schema_fits_with_nothing_missing() {
        let fit = NounFit::check::<Vendor>(&PropertyMap::default(), &vendors(&[]));
        assert!(fit.is_usable());
        assert!(fit.missing.is_empty());
        assert!(fit.error().is_none());
    }

    #[test]
    fn missing_optional_properties_are_left_out() {
        let fit = NounFit::check::<Vendor>(&PropertyMap::default(), &vendors(&["VadZip", "Phone"]));
        assert!(fit.is_usable());
        let optional: Vec<_> = fit
            .missing_optional()
            .map(|m| m.standard.as_str())
            .collect();
        assert_eq!(optional, ["Phone", "VadZip"]);
        let map = fit.adapted(PropertyMap::default());
        assert!(map.is_omitted("VadZip") && map.is_omitted("Phone"));
        assert!(!map.is_omitted("Name"));
    }

    #[test]
    fn a_missing_required_property_names_the_ido_property_and_key() {
        let map = PropertyMap::default().ido("ACME_Vendors");
        let schema = IdoSchema::new("ACME_Vendors", ["VendNum", "RecordDate", "VendorName"]);
        let fit = NounFit::check::<Vendor>(&map, &schema);
        assert!(!fit.is_usable());
        let text = fit.error().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("ACME_Vendors"), "{text}");
        assert!(text.contains("`Name`"), "{text}");
        assert!(
            text.contains("ion.idos.SLVendors.properties.Name"),
            "{text}"
        );
    }

    #[test]
    fn renamed_properties_are_looked_up_by_the_site_name() {
        let schema = IdoSchema::new(
            "SLAptrxds",
            ["Voucher", "DistSeq", "GlAcct", "Amount", "RecordDate"],
        );
        let plain = NounFit::check::<ApVoucherDistribution>(&PropertyMap::default(), &schema);
        assert!(!plain.is_usable());
        let renamed = NounFit::check::<ApVoucherDistribution>(
            &PropertyMap::default().rename("Acct", "GlAcct"),
            &schema,
        );
        assert!(renamed.is_usable(), "{renamed:?}");
    }

    #[test]
    fn extra_properties_are_required() {
        let map = PropertyMap::default().extra(["Uf_Region"]);
        let fit = NounFit::check::<Vendor>(&map, &vendors(&[]));
        assert!(!fit.is_usable());
    }

    #[test]
    fn an_info_answer_without_properties_is_a_decode_error() {
        let error = IdoSchema::from_info("SLVendors", &serde_json::json!({"Success": true}));
        assert!(matches!(error, Err(Error::Decode { .. })), "{error:?}");
    }
}
