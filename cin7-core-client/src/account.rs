//! The chart of accounts: `/ref/account`.
//!
//! Reading is the normal use: the sync treats Cin7's chart as the reference side and maps
//! CloudSuite GL accounts onto existing codes. The write calls exist in the API and are offered
//! under explicit names ([`Accounts::create_account_in_cin7_chart`],
//! [`Accounts::update_account_in_cin7_chart`], [`Accounts::delete_account_from_cin7_chart`]).
//! Cin7 **refuses `PUT` while a Xero or QuickBooks integration is enabled** (the books are then
//! owned by the accounting system); whether `POST` and `DELETE` are refused too is unconfirmed.
//! The refusal arrives as an [`Error::Api`] carrying Cin7's message.

use serde::{Deserialize, Serialize};

use crate::client::Cin7Client;
use crate::codec::{self, Guid, open_enum};
use crate::error::{Error, Result};
use crate::pagination::ListBuilder;
use crate::request::Cin7Request;

open_enum! {
    /// Account class.
    pub enum AccountClass {
        /// Asset.
        Asset => "ASSET",
        /// Liability.
        Liability => "LIABILITY",
        /// Expense.
        Expense => "EXPENSE",
        /// Equity.
        Equity => "EQUITY",
        /// Revenue.
        Revenue => "REVENUE",
    }
}

open_enum! {
    /// Account type. Cin7's documented list is incomplete; unknown types are kept.
    pub enum AccountType {
        /// Bank account.
        Bank => "BANK",
        /// Current asset.
        Current => "CURRENT",
        /// Current liability.
        CurrentLiability => "CURRLIAB",
        /// Expense.
        Expense => "EXPENSE",
        /// Fixed asset.
        Fixed => "FIXED",
        /// Liability.
        Liability => "LIABILITY",
        /// Term liability.
        TermLiability => "TERMLIA",
        /// Revenue.
        Revenue => "REVENUE",
        /// Inventory.
        Inventory => "INVENTORY",
    }
}

open_enum! {
    /// Account status (`ACTIVE` is the only confirmed value).
    pub enum AccountStatus {
        /// In use.
        Active => "ACTIVE",
        /// Archived (unconfirmed spelling).
        Archived => "ARCHIVED",
    }
}

/// A chart-of-accounts entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Account {
    /// Unique code (50), the key for `PUT` and `DELETE`.
    pub code: String,
    /// Name (256).
    pub name: String,
    /// Type (required).
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    /// Status (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<AccountStatus>,
    /// Class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<AccountClass>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// System account code (read-only).
    #[serde(skip_serializing)]
    pub system_account: Option<String>,
    /// System account code, 2025 field (read-only).
    #[serde(skip_serializing)]
    pub system_account_code: Option<String>,
    /// Whether payments can be made to this account (bool in examples, string in the docs).
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub for_payments: Option<bool>,
    /// `"800: Accounts Payable"` (read-only).
    #[serde(skip_serializing)]
    pub display_name: Option<String>,
    /// Previous code (read-only).
    #[serde(skip_serializing)]
    pub old_code: Option<String>,
    /// Bank name (required for `BANK` on writes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// Bank account number (required for `BANK` on writes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_account_number: Option<String>,
    /// Bank account ID (read-only).
    #[serde(
        rename = "BankAccountID",
        alias = "BankAccountId",
        with = "codec::guid_opt",
        skip_serializing
    )]
    pub bank_account_id: Option<Guid>,
    /// Currency (read-only).
    #[serde(skip_serializing)]
    pub currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountEnvelope {
    #[serde(default)]
    accounts_list: Vec<Account>,
}

/// Chart-of-accounts endpoints; see [`Cin7Client::accounts`].
#[derive(Debug, Clone)]
pub struct Accounts {
    client: Cin7Client,
}

impl Cin7Client {
    /// Chart-of-accounts endpoints.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// if let Some(ap) = client.accounts().get("800").await? {
    ///     println!("{} is {:?}", ap.name, ap.class);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn accounts(&self) -> Accounts {
        Accounts {
            client: self.clone(),
        }
    }
}

impl Accounts {
    /// `GET /ref/account` with filters.
    pub fn list(&self) -> ListBuilder<Account> {
        ListBuilder::new(&self.client, "ref/account", "AccountsList")
    }

    /// One account by its exact code.
    pub async fn get(&self, code: &str) -> Result<Option<Account>> {
        let page = self.list().code(code).limit(1).send().await?;
        Ok(page.items.into_iter().find(|a| a.code == code))
    }

    /// `POST /ref/account`: add an account to **Cin7's** chart. Opt-in only; may be refused
    /// when Xero or QuickBooks owns the chart. Not resent after an uncertain failure.
    pub async fn create_account_in_cin7_chart(&self, account: &Account) -> Result<Account> {
        validate(account)?;
        self.saved(Cin7Request::post("ref/account").json(account))
            .await
    }

    /// `PUT /ref/account`: change an account in **Cin7's** chart (keyed by `Code`). Refused
    /// while a Xero or QuickBooks integration is enabled.
    pub async fn update_account_in_cin7_chart(&self, account: &Account) -> Result<Account> {
        validate(account)?;
        self.saved(Cin7Request::put("ref/account").json(account))
            .await
    }

    /// `DELETE /ref/account?Code=`: remove an account from **Cin7's** chart.
    pub async fn delete_account_from_cin7_chart(&self, code: &str) -> Result<()> {
        if code.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "Account.Code",
                reason: "is required".into(),
            });
        }
        let request = Cin7Request::delete("ref/account").query("Code", code);
        self.client.execute(request).await.map(|_| ())
    }

    async fn saved(&self, request: Cin7Request) -> Result<Account> {
        let endpoint = request.path().to_owned();
        let raw = self.client.execute(request).await?;
        // Writes answer with the list envelope or with the bare account.
        let method = crate::request::Method::POST;
        if raw.body.get("AccountsList").is_some() {
            let envelope: AccountEnvelope = crate::client::decode(&endpoint, method, &raw)?;
            envelope
                .accounts_list
                .into_iter()
                .next()
                .ok_or_else(|| Error::Decode {
                    endpoint,
                    path: "AccountsList".into(),
                    source: serde::de::Error::custom(
                        "the saved account is missing from the answer",
                    ),
                })
        } else {
            crate::client::decode(&endpoint, method, &raw)
        }
    }
}

fn validate(account: &Account) -> Result<()> {
    if account.code.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "Account.Code",
            reason: "is required".into(),
        });
    }
    if account.name.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "Account.Name",
            reason: "is required".into(),
        });
    }
    if account.account_type == Some(AccountType::Bank)
        && (account.bank.is_none() || account.bank_account_number.is_none())
    {
        return Err(Error::InvalidInput {
            field: "Account.Bank",
            reason: "a BANK account needs Bank and BankAccountNumber".into(),
        });
    }
    Ok(())
}

impl ListBuilder<Account> {
    /// Exact account code.
    pub fn code(self, code: &str) -> Self {
        self.filter("Code", code)
    }

    /// Name starts with.
    pub fn name(self, name: &str) -> Self {
        self.filter("Name", name)
    }

    /// Account type.
    pub fn account_type(self, account_type: &AccountType) -> Self {
        self.filter("Type", account_type)
    }

    /// Account status.
    pub fn status(self, status: &AccountStatus) -> Self {
        self.filter("Status", status)
    }
}
