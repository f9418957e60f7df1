//! Checks for a "fit check" against a live account (the `ping` binary): does the reference data
//! a sync's mappings name exist, and is it active?
//!
//! Cin7 documents refer to tax rules, payment terms and locations **by name** and to accounts
//! **by code**, and the API does not create missing reference data: a purchase naming a tax
//! rule that is missing or inactive fails when it is written. Checking the names up front turns
//! that into one report before any write. Paging probes live on
//! [`ListBuilder::probe`](crate::ListBuilder::probe).

use std::fmt;

use serde::de::DeserializeOwned;

use crate::Cin7Client;
use crate::account::AccountStatus;
use crate::error::Result;
use crate::pagination::ListBuilder;

/// The kinds of reference data a sync's mappings name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReferenceKind {
    /// A tax rule, by name (`/ref/tax`).
    TaxRule,
    /// A payment term, by name (`/ref/paymentterm`).
    PaymentTerm,
    /// A location, by name (`/ref/location`).
    Location,
    /// A chart-of-accounts entry, by code (`/ref/account`).
    Account,
}

impl fmt::Display for ReferenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReferenceKind::TaxRule => "tax rule",
            ReferenceKind::PaymentTerm => "payment term",
            ReferenceKind::Location => "location",
            ReferenceKind::Account => "account",
        })
    }
}

/// What Cin7 holds for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceState {
    /// It exists and is active.
    Ok,
    /// No entry has this name (or code).
    Missing,
    /// It exists but is inactive: a tax rule or payment term with `IsActive: false`, a
    /// deprecated location, an account whose `Status` is not `ACTIVE` (the text is kept).
    Inactive(String),
}

/// The finding for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceFinding {
    /// What kind of reference.
    pub kind: ReferenceKind,
    /// The name (or account code) as the mapping gives it.
    pub name: String,
    /// What Cin7 holds for it.
    pub state: ReferenceState,
}

/// The Cin7 names a sync's mappings produce, by kind. Empty lists are not fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceNames {
    /// Tax rule names.
    pub tax_rules: Vec<String>,
    /// Payment term names.
    pub payment_terms: Vec<String>,
    /// Location names.
    pub locations: Vec<String>,
    /// Account codes.
    pub account_codes: Vec<String>,
}

impl Cin7Client {
    /// Check every name in `names` against Cin7's reference lists (one list per kind named,
    /// every page read), in the order given: tax rules, payment terms, locations, accounts.
    /// Names compare without regard to case or surrounding spaces, as Cin7 resolves them.
    ///
    /// ```no_run
    /// use cin7_core_client::fit::{ReferenceNames, ReferenceState};
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// let names = ReferenceNames {
    ///     tax_rules: vec!["GST on Expenses".into()],
    ///     account_codes: vec!["412".into()],
    ///     ..Default::default()
    /// };
    /// for finding in client.check_references(&names).await? {
    ///     if finding.state != ReferenceState::Ok {
    ///         println!("{} {:?}: {:?}", finding.kind, finding.name, finding.state);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn check_references(&self, names: &ReferenceNames) -> Result<Vec<ReferenceFinding>> {
        let flag =
            |active: Option<bool>| (active == Some(false)).then(|| "IsActive is false".into());
        let reference = self.reference();
        let mut findings = Vec::new();
        check(
            &mut findings,
            ReferenceKind::TaxRule,
            &names.tax_rules,
            reference.tax_rules(),
            |t| (t.name, flag(t.is_active)),
        )
        .await?;
        check(
            &mut findings,
            ReferenceKind::PaymentTerm,
            &names.payment_terms,
            reference.payment_terms(),
            |t| (t.name, flag(t.is_active)),
        )
        .await?;
        check(
            &mut findings,
            ReferenceKind::Location,
            &names.locations,
            reference.locations(),
            |l| {
                (
                    l.name,
                    (l.deprecated == Some(true)).then(|| "deprecated".into()),
                )
            },
        )
        .await?;
        check(
            &mut findings,
            ReferenceKind::Account,
            &names.account_codes,
            self.accounts().list(),
            |a| {
                let inactive = match a.status {
                    None | Some(AccountStatus::Active) => None,
                    Some(other) => Some(format!("Status {other}")),
                };
                (a.code, inactive)
            },
        )
        .await?;
        Ok(findings)
    }
}

/// List every row of `list` (only when `wanted` names something) and judge each wanted name
/// against the rows, `entry` giving a row's name and, when inactive, why.
async fn check<T: DeserializeOwned + Send + 'static>(
    findings: &mut Vec<ReferenceFinding>,
    kind: ReferenceKind,
    wanted: &[String],
    list: ListBuilder<T>,
    entry: impl Fn(T) -> (String, Option<String>),
) -> Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let entries: Vec<_> = list.all().await?.into_iter().map(entry).collect();
    for name in wanted {
        let key = name.trim();
        let matching: Vec<&Option<String>> = entries
            .iter()
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(key))
            .map(|(_, inactive)| inactive)
            .collect();
        // One active entry of that name is enough for a document to resolve it.
        let state = if matching.iter().any(|inactive| inactive.is_none()) {
            ReferenceState::Ok
        } else if let Some(Some(why)) = matching.first() {
            ReferenceState::Inactive(why.clone())
        } else {
            ReferenceState::Missing
        };
        findings.push(ReferenceFinding {
            kind,
            name: name.clone(),
            state,
        });
    }
    Ok(())
}
