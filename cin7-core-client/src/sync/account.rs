//! The chart of accounts: Cin7 [`Account`] ↔ [`TargetAccount`].

use async_trait::async_trait;
use futures::TryStreamExt;
use sync_core::error::TargetError;
use sync_core::model;
use sync_core::target::{AccountTarget, TargetAccount};

use super::Cin7Target;
use super::error::{CallKind, target_error};
use crate::account::{Account, AccountClass, AccountStatus, AccountType};

/// What the engine sees of a Cin7 account. A class Cin7 adds later is reported as `None`; an
/// account without a `Status` counts as active (Cin7 requires the field; nothing says it is
/// inactive).
pub fn target_account(account: &Account) -> TargetAccount {
    TargetAccount {
        code: account.code.clone(),
        name: account.name.clone(),
        class: account.class.as_ref().and_then(|class| match class {
            AccountClass::Asset => Some(model::AccountClass::Asset),
            AccountClass::Liability => Some(model::AccountClass::Liability),
            AccountClass::Expense => Some(model::AccountClass::Expense),
            AccountClass::Equity => Some(model::AccountClass::Equity),
            AccountClass::Revenue => Some(model::AccountClass::Revenue),
            AccountClass::Other(_) => None,
        }),
        account_type: account.account_type.as_ref().map(|t| t.as_str().to_owned()),
        active: matches!(account.status, None | Some(AccountStatus::Active)),
    }
}

/// The Cin7 account to create for `account`. Cin7 requires a `Type`; without one it is derived
/// from the class (`ASSET` → `CURRENT`, `LIABILITY` → `CURRLIAB`, `EXPENSE`, `REVENUE`,
/// `EQUITY`).
pub fn new_account(account: &TargetAccount) -> Account {
    let class = account.class.as_ref().map(|class| match class {
        model::AccountClass::Asset => AccountClass::Asset,
        model::AccountClass::Liability => AccountClass::Liability,
        model::AccountClass::Equity => AccountClass::Equity,
        model::AccountClass::Revenue => AccountClass::Revenue,
        model::AccountClass::Expense => AccountClass::Expense,
    });
    let account_type = match (&account.account_type, &class) {
        (Some(text), _) => text.parse::<AccountType>().ok(),
        (None, Some(AccountClass::Asset)) => Some(AccountType::Current),
        (None, Some(AccountClass::Liability)) => Some(AccountType::CurrentLiability),
        (None, Some(AccountClass::Expense)) => Some(AccountType::Expense),
        (None, Some(AccountClass::Revenue)) => Some(AccountType::Revenue),
        (None, Some(AccountClass::Equity)) => Some(AccountType::Other("EQUITY".into())),
        (None, _) => None,
    };
    Account {
        code: account.code.clone(),
        name: account.name.clone(),
        account_type,
        status: Some(if account.active {
            AccountStatus::Active
        } else {
            AccountStatus::Archived
        }),
        class,
        ..Account::default()
    }
}

#[async_trait]
impl AccountTarget for Cin7Target {
    /// Every page of `GET /ref/account`.
    async fn list_accounts(&self) -> Result<Vec<TargetAccount>, TargetError> {
        let accounts: Vec<Account> = self
            .client
            .accounts()
            .list()
            .stream()
            .try_collect()
            .await
            .map_err(|e| target_error(e, CallKind::Read))?;
        Ok(accounts.iter().map(target_account).collect())
    }

    /// `POST /ref/account` (mirror mode only; never resent after an unknown outcome).
    async fn create_account(&self, account: &TargetAccount) -> Result<TargetAccount, TargetError> {
        let saved = self
            .client
            .accounts()
            .create_account_in_cin7_chart(&new_account(account))
            .await
            .map_err(|e| target_error(e, CallKind::Create))?;
        Ok(target_account(&saved))
    }
}
