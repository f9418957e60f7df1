//! How a CloudSuite Industrial tenant shapes what the sync reads: `[ion.idos.<IDO>]` (the IDO a
//! noun is read from and its renamed properties), `[ion.distributions]` (where invoice GL
//! allocations come from) and `ion.record_date_zone`. Checked statically here (`sync --check`);
//! `ping` and the start of every `sync` check them against the tenant's `/info`.

use std::collections::BTreeMap;

use infor_ion_client::cloudsuite::{CSI_NOUNS, Distributions};
use infor_ion_client::csi::{PropertyMap, checked_property};
use serde::Deserialize;

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
    source: Option<String>,
    voucher_property: Option<String>,
    account: Option<String>,
}

/// The tenant's shape, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantShape {
    /// The property map of each noun that differs from the standard, by standard IDO name.
    pub idos: BTreeMap<String, PropertyMap>,
    /// Where invoice GL allocations come from.
    pub distributions: Distributions,
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

/// Validate `[ion.distributions]`.
pub(super) fn parse_distributions(raw: RawDistributions) -> Result<Distributions, ConfigError> {
    let given =
        |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let property = given(raw.voucher_property);
    let account = given(raw.account);
    let key = "ion.distributions.source";
    match raw.source.as_deref().map(str::trim) {
        None | Some("ido") if property.is_none() && account.is_none() => Ok(Distributions::Ido),
        None | Some("ido") => Err(invalid(
            key,
            "`voucher_property` and `account` apply only with source = \"voucher\" or \"default\"",
        )),
        Some("voucher") => {
            let property = property.ok_or(ConfigError::Missing {
                key: "ion.distributions.voucher_property",
                hint: "the voucher's property holding the GL account, e.g. \"Acct\"",
            })?;
            checked_property(&property)
                .map_err(|e| invalid("ion.distributions.voucher_property", e.to_string()))?;
            Ok(Distributions::VoucherProperty(property))
        }
        Some("default") => Ok(Distributions::DefaultAccount(account.ok_or(
            ConfigError::Missing {
                key: "ion.distributions.account",
                hint: "the CloudSuite GL account every invoice is allocated to, e.g. \"61000\"",
            },
        )?)),
        Some(other) => Err(invalid(
            key,
            format!("`{other}` is not a source: use \"ido\", \"voucher\" or \"default\""),
        )),
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
