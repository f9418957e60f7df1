//! GL accounts and payments.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::SourceIdentity;

/// The class of a GL account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountClass {
    /// Asset.
    Asset,
    /// Liability.
    Liability,
    /// Equity.
    Equity,
    /// Revenue.
    Revenue,
    /// Expense.
    Expense,
}

/// A GL account of the source's chart (CloudSuite is the source of truth for the chart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlAccount {
    /// Source identity (its `id` is the account code).
    pub identity: SourceIdentity,
    /// Account code.
    pub code: String,
    /// Account name.
    pub name: String,
    /// Class.
    pub class: AccountClass,
    /// Finer type, as the source names it.
    pub account_type: Option<String>,
    /// Whether the account accepts postings.
    pub active: bool,
    /// Last modification (source server time).
    pub modified_at: DateTime<Utc>,
}

/// A payment of a supplier invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Source identity.
    pub identity: SourceIdentity,
    /// Payment reference.
    pub reference: String,
    /// The invoice paid.
    pub invoice_number: String,
    /// The supplier's vendor ID.
    pub vendor_id: String,
    /// Amount.
    pub amount: Decimal,
    /// ISO currency code.
    pub currency: String,
    /// Payment date.
    pub paid_on: NaiveDate,
    /// Source bank/cash GL account.
    pub bank_account: Option<String>,
    /// Last modification (source server time).
    pub modified_at: DateTime<Utc>,
}
