//! How the CloudSuite Industrial tenant in front of us fits what the sync reads: each noun's
//! IDO schema checked once per process (refreshed daily), missing optional properties left out
//! of requests, a missing required one or an unreadable IDO stopping the stream before any
//! row is read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use sync_core::store::StreamId;

use crate::csi::{Csi, IdoNoun, NounFit, PropertyMap, nouns};
use crate::error::Error;

/// The nouns the CloudSuite Industrial source reads: each standard IDO with its standard
/// properties (the names a [`PropertyMap`] renames).
pub const CSI_NOUNS: &[(&str, &[&str])] = &[
    (nouns::Vendor::IDO, nouns::Vendor::PROPERTIES),
    (nouns::PurchaseOrder::IDO, nouns::PurchaseOrder::PROPERTIES),
    (nouns::PoLine::IDO, nouns::PoLine::PROPERTIES),
    (nouns::ApVoucher::IDO, nouns::ApVoucher::PROPERTIES),
    (
        nouns::ApVoucherDistribution::IDO,
        nouns::ApVoucherDistribution::PROPERTIES,
    ),
    (nouns::GlAccount::IDO, nouns::GlAccount::PROPERTIES),
];

/// How long a checked schema is trusted before it is read again.
pub const SCHEMA_TTL: Duration = Duration::hours(24);

/// Where a CloudSuite Industrial invoice's GL allocation comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Distributions {
    /// The voucher distribution IDO (`SLAptrxds`, or the IDO mapped for it): one line per
    /// distribution, at its account.
    #[default]
    Ido,
    /// One line for the whole voucher amount, at the account in this property of the voucher
    /// itself (for tenants whose distribution IDO is absent or not readable).
    VoucherProperty(String),
    /// One line for the whole voucher amount, at this account.
    DefaultAccount(String),
}

/// What a noun is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// A CloudSuite Industrial IDO.
    Ido,
    /// An M3 MI transaction.
    Mi,
}

impl std::fmt::Display for ReadFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReadFrom::Ido => "IDO",
            ReadFrom::Mi => "MI",
        })
    }
}

/// One noun's check: which stream needs it, what was read, and how it fits (or why it could
/// not be checked).
#[derive(Debug, Clone)]
pub struct NounCheck {
    /// The stream that reads the noun.
    pub stream: StreamId,
    /// The noun's standard name: its standard IDO (e.g. `SLVendors`) or MI noun (`Supplier`).
    pub noun: &'static str,
    /// Whether an IDO or an MI transaction was read.
    pub read_from: ReadFrom,
    /// The IDO or `PROGRAM/Transaction` read on this tenant.
    pub ido: String,
    /// The runner's config key that names what the noun is read from.
    pub config_key: String,
    /// The fit, or the tenant's own error (it does not exist, it may not be read, ...).
    pub outcome: Result<NounFit, String>,
    /// Whether ION answered at all (`false`: the check could not connect, timed out or lost the
    /// connection, so the error says nothing about the IDO or transaction).
    pub reached: bool,
}

impl NounCheck {
    /// Whether the noun can be read.
    pub fn is_usable(&self) -> bool {
        self.outcome.as_ref().is_ok_and(NounFit::is_usable)
    }

    /// What stops the noun, with the config key that fixes it; `None` when it is usable.
    pub fn problem(&self) -> Option<String> {
        match &self.outcome {
            Err(message) if !self.reached => Some(format!(
                "{} {} cannot be read: {message}; ION was not reached: check the URLs in the .ionapi file and the network",
                self.read_from, self.ido
            )),
            Err(message) => Some(unreadable(
                &format!("{} {}", self.read_from, self.ido),
                &self.config_key,
                message,
            )),
            Ok(fit) => fit.error().map(|e| e.to_string()),
        }
    }

    /// The optional properties left out, with their config keys.
    pub fn warnings(&self) -> Vec<String> {
        let Ok(fit) = &self.outcome else {
            return Vec::new();
        };
        fit.missing_optional()
            .map(|m| {
                format!(
                    "{} {} has no property `{}`: records flow without it (map it with `{}`)",
                    self.read_from, fit.ido, m.site, m.config_key
                )
            })
            .collect()
    }
}

/// The fit of every noun a set of streams reads.
#[derive(Debug, Clone, Default)]
pub struct FitReport {
    /// One entry per noun, in stream order.
    pub checks: Vec<NounCheck>,
}

impl FitReport {
    /// Whether every noun can be read.
    pub fn is_usable(&self) -> bool {
        self.checks.iter().all(NounCheck::is_usable)
    }

    /// Every problem, one line each.
    pub fn problems(&self) -> Vec<String> {
        self.checks.iter().filter_map(NounCheck::problem).collect()
    }

    /// Every missing optional property, one line each.
    pub fn warnings(&self) -> Vec<String> {
        self.checks.iter().flat_map(NounCheck::warnings).collect()
    }
}

#[derive(Debug, Clone)]
struct Cached {
    checked_at: DateTime<Utc>,
    fit: NounFit,
}

/// The per-process cache of checked nouns, shared by clones of a source.
#[derive(Debug, Default)]
pub(crate) struct SchemaCache {
    fits: Mutex<HashMap<&'static str, Cached>>,
}

impl SchemaCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<&'static str, Cached>> {
        self.fits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fit of `N`, checked against the tenant when it is not cached or older than
    /// [`SCHEMA_TTL`]. Missing optional properties are logged once per check. A failed check
    /// is not cached: the next read asks again.
    pub(crate) async fn fit<N: IdoNoun>(
        &self,
        csi: &Csi,
        map: &PropertyMap,
    ) -> Result<NounFit, Error> {
        let now = csi.client().clock().now();
        if let Some(cached) = self.lock().get(N::IDO)
            && now - cached.checked_at < SCHEMA_TTL
        {
            return Ok(cached.fit.clone());
        }
        let fit = csi.fit::<N>(map).await?;
        for missing in fit.missing_optional() {
            tracing::warn!(
                ido = %fit.ido,
                property = %missing.site,
                config_key = %missing.config_key,
                "the tenant's IDO lacks an optional property; records flow without it"
            );
        }
        self.lock().insert(
            N::IDO,
            Cached {
                checked_at: now,
                fit: fit.clone(),
            },
        );
        Ok(fit)
    }
}

/// What stops a noun whose source (`what`, e.g. `IDO SLVendors`) could not be checked;
/// `config_key` names the tenant's own.
pub(crate) fn unreadable(what: &str, config_key: &str, message: &str) -> String {
    format!("{what} cannot be read: {message}; name the tenant's own with `{config_key}`")
}

/// The runner's config key for an MI noun's transaction: `ion.mi.<Noun>.transaction`.
pub fn mi_config_key(noun: &str) -> String {
    format!("ion.mi.{noun}.transaction")
}

/// Property maps per standard IDO.
pub(crate) type Maps = BTreeMap<String, PropertyMap>;

/// What two one-row pages read by bookmark showed; see
/// [`CloudSuiteSource::probe_bookmark_paging`](super::CloudSuiteSource::probe_bookmark_paging).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookmarkProbe {
    /// The second page held the next row.
    Advances,
    /// The IDO has a single row: nothing to page through.
    SingleRow,
    /// The second page repeated the first row: paging would loop or stop early.
    Stuck,
}

/// The newest `RecordDate` of an IDO against the gateway's clock; see
/// [`CloudSuiteSource::probe_record_date`](super::CloudSuiteSource::probe_record_date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDateProbe {
    /// The IDO read.
    pub ido: String,
    /// The newest stamp as written (a wall time: the column carries no zone); `None` when the
    /// IDO has no rows.
    pub newest: Option<chrono::NaiveDateTime>,
    /// The gateway's clock (`Date` header) when it was read.
    pub gateway: DateTime<Utc>,
    /// The zone the stamp was read in (the configured one).
    pub zone: chrono_tz::Tz,
}

impl RecordDateProbe {
    /// How far the newest stamp, read in the configured zone, lies after the gateway's clock.
    /// Positive means "in the future": the tenant stamps in a zone east of the configured one.
    /// Negative is usual (the newest change was a while ago), so it proves nothing by itself.
    pub fn lead(&self) -> Option<Duration> {
        let instant = crate::values::local_to_utc(self.newest?, self.zone)?;
        Some(instant - self.gateway)
    }
}
