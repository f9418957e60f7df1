//! How a tenant shapes what the sync reads. CloudSuite Industrial: `[ion.idos.<IDO>]` (the IDO
//! a noun is read from and its renamed properties), `[ion.distributions]` (where invoice GL
//! allocations come from) and `ion.record_date_zone`. M3: `[ion.mi.<Noun>]` (the list
//! transaction, its key range and the output fields) and `[ion.supplier_status]` (M3 status
//! codes to Cin7's Active / Deprecated). Checked statically here
//! (`sync --check`); `ping` and `sync` check them against the tenant before the first write.

use std::collections::BTreeMap;

use infor_ion_client::cloudsuite::{CSI_NOUNS, Distributions, SupplierStatusMap};
use infor_ion_client::csi::{PropertyMap, checked_property};
use infor_ion_client::m3::M3;
use infor_ion_client::m3::nouns::{FieldMap, GlAccount, MiNoun, MiShape, Supplier};
use serde::Deserialize;
use sync_core::model::PartyStatus;

use super::{ConfigError, invalid};

/// `[ion.idos.<standard IDO>]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdo {
    ido: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, String>,
}

/// `[ion.distributions]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDistributions {
    source: Option<RawDistributionSource>,
    voucher_property: Option<String>,
    account: Option<String>,
}

/// `ion.distributions.source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawDistributionSource {
    /// `SLAptrxds`, one line per distribution.
    Ido,
    /// One line at the account in `voucher_property` of the voucher.
    Voucher,
    /// One line at `account`.
    Default,
}

/// The `<Noun>` of `[ion.mi.<Noun>]`: the M3 nouns the forward source lists (in alphabetical
/// order, the order the tables are read in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub(super) enum RawMiNoun {
    GlAccount,
    Supplier,
}

impl RawMiNoun {
    /// The name as written (the noun's own).
    fn name(self) -> &'static str {
        match self {
            RawMiNoun::Supplier => Supplier::NAME,
            RawMiNoun::GlAccount => GlAccount::NAME,
        }
    }
}

/// `[ion.mi.<Noun>]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMi {
    transaction: Option<String>,
    key_from: Option<String>,
    key_field: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

/// `[ion.supplier_status]` (M3).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSupplierStatus {
    #[serde(default)]
    values: BTreeMap<String, RawPartyStatus>,
    other: Option<RawPartyStatus>,
}

/// A value of `[ion.supplier_status]`: the Cin7 status an M3 status code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawPartyStatus {
    Active,
    Deprecated,
}

impl From<RawPartyStatus> for PartyStatus {
    fn from(status: RawPartyStatus) -> PartyStatus {
        match status {
            RawPartyStatus::Active => PartyStatus::Active,
            RawPartyStatus::Deprecated => PartyStatus::Inactive,
        }
    }
}

/// `[ion.supplier_status]`: M3 supplier status codes to `active` or `deprecated`, added to the
/// default (`20` active, `90` deprecated), and `other` for codes the table does not name or a
/// status that cannot be read (default `deprecated`; either case is a warning in the run
/// summary).
pub(super) fn parse_supplier_status(
    raw: Option<RawSupplierStatus>,
) -> Result<SupplierStatusMap, ConfigError> {
    let mut map = SupplierStatusMap::default();
    let Some(raw) = raw else {
        return Ok(map);
    };
    for (code, value) in raw.values {
        if code.trim().is_empty() || !code.trim().chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid_key(
                format!("ion.supplier_status.values.{code}"),
                "an M3 status code is digits, e.g. \"20\"",
            ));
        }
        map = map.map(code.trim(), value.into());
    }
    if let Some(other) = raw.other {
        map = map.other(other.into());
    }
    Ok(map)
}

/// The tenant's shape, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantShape {
    /// The property map of each noun that differs from the standard, by standard IDO name.
    pub idos: BTreeMap<String, PropertyMap>,
    /// Where invoice GL allocations come from.
    pub distributions: Distributions,
    /// The M3 nouns read through another transaction or other output fields.
    pub mi: MiShapes,
    /// M3: how supplier status codes map to Cin7's Active / Deprecated.
    pub supplier_status: SupplierStatusMap,
}

/// The shapes of the M3 nouns the forward source lists (suppliers, the chart of accounts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MiShapes {
    supplier: Option<MiShape>,
    gl_account: Option<MiShape>,
}

impl MiShapes {
    /// The shape of the supplier list, if configured.
    pub fn supplier(&self) -> Option<&MiShape> {
        self.supplier.as_ref()
    }

    /// The shape of the chart-of-accounts list, if configured.
    pub fn gl_account(&self) -> Option<&MiShape> {
        self.gl_account.as_ref()
    }

    /// Whether no noun is shaped.
    pub fn is_empty(&self) -> bool {
        self.supplier.is_none() && self.gl_account.is_none()
    }

    /// `m3` reading each shaped noun its way.
    pub fn apply(&self, mut m3: M3) -> Result<M3, ConfigError> {
        let failed = |noun: &str, e: infor_ion_client::Error| {
            invalid_key(format!("ion.mi.{noun}"), e.to_string())
        };
        if let Some(shape) = &self.supplier {
            m3 = m3
                .shape::<Supplier>(shape.clone())
                .map_err(|e| failed(Supplier::NAME, e))?;
        }
        if let Some(shape) = &self.gl_account {
            m3 = m3
                .shape::<GlAccount>(shape.clone())
                .map_err(|e| failed(GlAccount::NAME, e))?;
        }
        Ok(m3)
    }
}

fn invalid_key(key: String, message: impl Into<String>) -> ConfigError {
    ConfigError::InvalidKey {
        key,
        message: message.into(),
    }
}

/// Validate `[ion.idos]`: known nouns, their standard property names, valid tenant names.
pub(super) fn parse_idos(
    raw: BTreeMap<String, RawIdo>,
) -> Result<BTreeMap<String, PropertyMap>, ConfigError> {
    let mut idos = BTreeMap::new();
    for (noun, raw) in raw {
        let Some((_, standard)) = CSI_NOUNS.iter().find(|(ido, _)| *ido == noun) else {
            let known: Vec<&str> = CSI_NOUNS.iter().map(|(ido, _)| *ido).collect();
            return Err(invalid_key(
                format!("ion.idos.{noun}"),
                format!(
                    "`{noun}` is not an IDO the sync reads; use the standard name of one of: {}",
                    known.join(", ")
                ),
            ));
        };
        let mut map = PropertyMap::default();
        if let Some(ido) = raw.ido.filter(|i| !i.trim().is_empty()) {
            checked_property(ido.trim())
                .map_err(|e| invalid_key(format!("ion.idos.{noun}.ido"), e.to_string()))?;
            map = map.ido(ido.trim());
        }
        for (property, site) in raw.properties {
            let key = format!("ion.idos.{noun}.properties.{property}");
            if !standard.contains(&property.as_str()) {
                return Err(invalid_key(
                    key,
                    format!(
                        "`{property}` is not a property the sync reads from {noun}; use one of: {}",
                        standard.join(", ")
                    ),
                ));
            }
            checked_property(site.trim()).map_err(|e| invalid_key(key, e.to_string()))?;
            map = map.rename(property, site.trim());
        }
        idos.insert(noun, map);
    }
    Ok(idos)
}

/// Validate `[ion.mi]`: the nouns the M3 source lists, a `PROGRAM/Transaction`, a key range
/// given whole, and the field map (checked against the noun's fields by [`MiShape::layout`]).
pub(super) fn parse_mi(raw: BTreeMap<RawMiNoun, RawMi>) -> Result<MiShapes, ConfigError> {
    let mut shapes = MiShapes::default();
    for (noun, raw) in raw {
        let key = format!("ion.mi.{}", noun.name());
        let mut shape = MiShape::new();
        if let Some(call) = raw.transaction.filter(|t| !t.trim().is_empty()) {
            let Some((program, transaction)) = call.trim().split_once('/') else {
                return Err(invalid_key(
                    format!("{key}.transaction"),
                    format!("`{call}`: write PROGRAM/Transaction, e.g. \"CRS620MI/LstSuppliers\""),
                ));
            };
            shape = shape.transaction(program, transaction);
        }
        shape = match (raw.key_from, raw.key_field) {
            (None, None) => shape,
            (Some(from), _) if from.trim().is_empty() => shape.without_key_range(),
            (Some(from), Some(field)) => shape.key_range(from.trim(), field.trim()),
            _ => {
                return Err(invalid_key(
                    format!("{key}.key_from"),
                    "give `key_from` (the transaction's inclusive \"from\" input) with `key_field` \
                     (the noun field holding the key), or `key_from = \"\"` to read in one call",
                ));
            }
        };
        let fields = raw
            .fields
            .into_iter()
            .fold(FieldMap::new(), |map, (field, column)| {
                map.map(field, column.trim())
            });
        shape = shape.fields(fields);
        let checked = match noun {
            RawMiNoun::Supplier => shape
                .layout::<Supplier>()
                .map(|_| shapes.supplier = Some(shape)),
            RawMiNoun::GlAccount => shape
                .layout::<GlAccount>()
                .map(|_| shapes.gl_account = Some(shape)),
        };
        checked.map_err(|e| invalid_key(key, e.to_string()))?;
    }
    Ok(shapes)
}

/// Validate `[ion.distributions]`.
pub(super) fn parse_distributions(raw: RawDistributions) -> Result<Distributions, ConfigError> {
    let given =
        |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let property = given(raw.voucher_property);
    let account = given(raw.account);
    let key = "ion.distributions.source";
    match raw.source {
        None | Some(RawDistributionSource::Ido) if property.is_none() && account.is_none() => {
            Ok(Distributions::Ido)
        }
        None | Some(RawDistributionSource::Ido) => Err(invalid(
            key,
            "`voucher_property` and `account` apply only with source = \"voucher\" or \"default\"",
        )),
        Some(RawDistributionSource::Voucher) => {
            let property = property.ok_or(ConfigError::Missing {
                key: "ion.distributions.voucher_property",
                hint: "the voucher's property holding the GL account, e.g. \"Acct\"",
            })?;
            checked_property(&property)
                .map_err(|e| invalid("ion.distributions.voucher_property", e.to_string()))?;
            Ok(Distributions::VoucherProperty(property))
        }
        Some(RawDistributionSource::Default) => Ok(Distributions::DefaultAccount(account.ok_or(
            ConfigError::Missing {
                key: "ion.distributions.account",
                hint: "the CloudSuite GL account every invoice is allocated to, e.g. \"61000\"",
            },
        )?)),
    }
}

/// Validate `ion.record_date_zone` (an IANA name; default UTC).
pub(super) fn parse_zone(raw: Option<String>) -> Result<chrono_tz::Tz, ConfigError> {
    match raw.as_deref().map(str::trim).filter(|z| !z.is_empty()) {
        None => Ok(chrono_tz::UTC),
        Some(name) => name.parse().map_err(|_| {
            invalid(
                "ion.record_date_zone",
                format!("`{name}` is not an IANA time zone, e.g. \"America/Chicago\" or \"UTC\""),
            )
        }),
    }
}
