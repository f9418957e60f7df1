//! Reference data: the chart of accounts (`/ref/account`, writable unless an accounting
//! integration owns it), tax rules, payment terms, locations, `/me`, and webhook
//! subscriptions (`/webhooks`).

use serde_json::{Value, json};

use super::data::{Data, Object};
use super::wire::{self, Query, Reply, error, invalid, missing, text};
use crate::webhook::WebhookType;

fn filtered(rows: &[Object], keep: impl Fn(&Object) -> bool) -> Vec<Value> {
    rows.iter()
        .filter(|r| keep(r))
        .map(|r| Value::Object(r.clone()))
        .collect()
}

fn flag_matches(row: &Object, field: &str, wanted: Option<bool>) -> bool {
    wanted.is_none_or(|w| wire::boolean(row, field).unwrap_or(false) == w)
}

fn id_matches(row: &Object, id: Option<&str>) -> bool {
    id.is_none_or(|id| wire::field_is(row, "ID", id))
}

fn name_matches(row: &Object, name: Option<&str>) -> bool {
    name.is_none_or(|n| text(row, "Name").is_some_and(|v| wire::starts_with_ci(v, n)))
}

macro_rules! try_reply {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(reply) => return reply,
        }
    };
}

pub(crate) fn accounts(data: &Data, query: &Query) -> Reply {
    let code = query.get("code");
    let name = query.get("name");
    let kind = query.get("type");
    let status = query.get("status");
    let rows = filtered(&data.accounts, |a| {
        code.is_none_or(|c| wire::field_is(a, "Code", c))
            && name_matches(a, name)
            && kind.is_none_or(|k| wire::field_is(a, "Type", k))
            && status.is_none_or(|s| wire::field_is(a, "Status", s))
    });
    wire::paged(rows, query, "AccountsList", data.paging("ref/account"))
}

fn integration_refusal(data: &Data) -> Option<Reply> {
    data.accounting_integration.map(|integration| {
        invalid(format!(
            "Chart of accounts cannot be changed while the {} integration is enabled.",
            integration.name()
        ))
    })
}

fn validate_account(account: &Object) -> Result<(), Reply> {
    for field in ["Code", "Name", "Type", "Status"] {
        if text(account, field).is_none() {
            return Err(invalid(format!("{field} is required.")));
        }
    }
    wire::check_length(account, "Code", 50)?;
    wire::check_length(account, "Name", 256)?;
    if wire::field_is(account, "Type", "BANK")
        && (text(account, "Bank").is_none() || text(account, "BankAccountNumber").is_none())
    {
        return Err(invalid(
            "Bank and BankAccountNumber are required for a BANK account.",
        ));
    }
    Ok(())
}

const ACCOUNT_READ_ONLY: &[&str] = &[
    "SystemAccount",
    "SystemAccountCode",
    "DisplayName",
    "OldCode",
    "BankAccountID",
    "BankAccountId",
    "Currency",
];

pub(crate) fn create_account(data: &mut Data, body: &Value, all_writes_blocked: bool) -> Reply {
    if all_writes_blocked && let Some(refusal) = integration_refusal(data) {
        return refusal;
    }
    let input = try_reply!(wire::object(body));
    let mut account: Object = input
        .iter()
        .filter(|(k, _)| !ACCOUNT_READ_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    try_reply!(validate_account(&account));
    let code = text(&account, "Code").unwrap_or_default().to_owned();
    if data.account(&code).is_some() {
        return invalid(format!("Account with code '{code}' already exists."));
    }
    let name = text(&account, "Name").unwrap_or_default().to_owned();
    account.insert("DisplayName".into(), json!(format!("{code}: {name}")));
    account.insert("SystemAccount".into(), json!(""));
    account.insert("SystemAccountCode".into(), json!(""));
    data.accounts.push(account.clone());
    Reply::ok(json!({"Total": 1, "Page": 1, "AccountsList": [account]}))
}

pub(crate) fn update_account(data: &mut Data, body: &Value) -> Reply {
    if let Some(refusal) = integration_refusal(data) {
        return refusal;
    }
    let input = try_reply!(wire::object(body));
    let Some(code) = text(input, "Code").map(str::to_owned) else {
        return invalid("Code is required.");
    };
    let Some(slot) = data
        .accounts
        .iter_mut()
        .find(|a| wire::field_is(a, "Code", &code))
    else {
        return missing(format!("Account with code '{code}' not found."));
    };
    let mut account = slot.clone();
    for (k, v) in input {
        if !ACCOUNT_READ_ONLY.contains(&k.as_str()) {
            account.insert(k.clone(), v.clone());
        }
    }
    try_reply!(validate_account(&account));
    let name = text(&account, "Name").unwrap_or_default().to_owned();
    account.insert("DisplayName".into(), json!(format!("{code}: {name}")));
    *slot = account.clone();
    Reply::ok(json!({"Total": 1, "Page": 1, "AccountsList": [account]}))
}

pub(crate) fn delete_account(data: &mut Data, query: &Query, all_writes_blocked: bool) -> Reply {
    if all_writes_blocked && let Some(refusal) = integration_refusal(data) {
        return refusal;
    }
    let Some(code) = query.get("code") else {
        return invalid("Code is required.");
    };
    let Some(index) = data
        .accounts
        .iter()
        .position(|a| wire::field_is(a, "Code", code))
    else {
        return missing(format!("Account with code '{code}' not found."));
    };
    if text(&data.accounts[index], "SystemAccount").is_some() {
        return invalid(format!("System account '{code}' cannot be deleted."));
    }
    data.accounts.remove(index);
    Reply::ok(json!({"Success": true}))
}

pub(crate) fn tax_rules(data: &Data, query: &Query) -> Reply {
    let active = try_reply!(query.bool("isactive"));
    let sale = try_reply!(query.bool("istaxforsale"));
    let purchase = try_reply!(query.bool("istaxforpurchase"));
    let account = query.get("account");
    let rows = filtered(&data.tax_rules, |r| {
        id_matches(r, query.get("id"))
            && name_matches(r, query.get("name"))
            && flag_matches(r, "IsActive", active)
            && flag_matches(r, "IsTaxForSale", sale)
            && flag_matches(r, "IsTaxForPurchase", purchase)
            && account.is_none_or(|a| wire::field_is(r, "Account", a))
    });
    wire::paged(rows, query, "TaxRuleList", data.paging("ref/tax"))
}

pub(crate) fn payment_terms(data: &Data, query: &Query) -> Reply {
    let active = try_reply!(query.bool("isactive"));
    let default = try_reply!(query.bool("isdefault"));
    let method = query.get("method");
    let rows = filtered(&data.payment_terms, |r| {
        id_matches(r, query.get("id"))
            && name_matches(r, query.get("name"))
            && flag_matches(r, "IsActive", active)
            && flag_matches(r, "IsDefault", default)
            && method.is_none_or(|m| wire::field_is(r, "Method", m))
    });
    wire::paged(
        rows,
        query,
        "PaymentTermList",
        data.paging("ref/paymentterm"),
    )
}

pub(crate) fn locations(data: &Data, query: &Query) -> Reply {
    let deprecated = try_reply!(query.bool("deprecated"));
    let rows = filtered(&data.locations, |r| {
        id_matches(r, query.get("id"))
            && name_matches(r, query.get("name"))
            && flag_matches(r, "Deprecated", deprecated)
    });
    wire::paged(rows, query, "LocationList", data.paging("ref/location"))
}

pub(crate) fn me(data: &Data) -> Reply {
    Reply::ok(Value::Object(data.me.clone()))
}

fn automation_missing() -> Reply {
    error(
        403,
        403,
        "The Automation module is not enabled on this subscription.",
    )
}

pub(crate) fn webhooks(data: &Data, automation: bool) -> Reply {
    if !automation {
        return automation_missing();
    }
    Reply::ok(json!({"Webhooks": data.webhooks}))
}

fn validate_webhook(data: &Data, hook: &Object, own_id: Option<&str>) -> Result<(), Reply> {
    let Some(kind) = text(hook, "Type") else {
        return Err(invalid("Type is required."));
    };
    let Ok(parsed) = kind.parse::<WebhookType>();
    if matches!(parsed, WebhookType::Other(_)) {
        return Err(invalid(format!("Type '{kind}' is not a webhook type.")));
    }
    if wire::boolean(hook, "IsActive").is_none() {
        return Err(invalid("IsActive is required."));
    }
    match text(hook, "ExternalURL").map(url::Url::parse) {
        Some(Ok(url)) if matches!(url.scheme(), "http" | "https") => {}
        _ => return Err(invalid("ExternalURL must be an http(s) URL.")),
    }
    match text(hook, "ExternalAuthorizationType").map(str::to_ascii_lowercase) {
        Some(t) if t == "noauth" => {}
        Some(t) if t == "basicauth" => {
            if text(hook, "ExternalUserName").is_none() || text(hook, "ExternalPassword").is_none()
            {
                return Err(invalid(
                    "ExternalUserName and ExternalPassword are required for basicauth.",
                ));
            }
        }
        Some(t) if t == "bearerauth" => {
            if text(hook, "ExternalBearerToken").is_none() {
                return Err(invalid("ExternalBearerToken is required for bearerauth."));
            }
        }
        _ => {
            return Err(invalid(
                "ExternalAuthorizationType must be noauth, basicauth or bearerauth.",
            ));
        }
    }
    let same_type = data
        .webhooks
        .iter()
        .filter(|w| wire::field_is(w, "Type", kind))
        .filter(|w| own_id.is_none_or(|id| !wire::field_is(w, "ID", id)))
        .count();
    if same_type >= 5 {
        return Err(invalid(format!(
            "There can be at most 5 webhooks of type '{kind}'."
        )));
    }
    Ok(())
}

pub(crate) fn create_webhook(data: &mut Data, body: &Value, automation: bool) -> Reply {
    if !automation {
        return automation_missing();
    }
    let input = try_reply!(wire::object(body));
    let mut hook = input.clone();
    try_reply!(validate_webhook(data, &hook, None));
    let kind = text(&hook, "Type").unwrap_or_default().to_owned();
    hook.insert("ID".into(), json!(data.guid()));
    hook.insert("Name".into(), json!(kind));
    data.webhooks.push(hook.clone());
    Reply::ok(json!({"Webhooks": [hook]}))
}

pub(crate) fn update_webhook(data: &mut Data, body: &Value, automation: bool) -> Reply {
    if !automation {
        return automation_missing();
    }
    let input = try_reply!(wire::object(body));
    let Some(id) = wire::guid(input, "ID") else {
        return invalid("ID is required.");
    };
    let Some(index) = data
        .webhooks
        .iter()
        .position(|w| wire::field_is(w, "ID", id.as_str()))
    else {
        return missing(format!("Webhook with ID {id} not found."));
    };
    let mut hook = data.webhooks[index].clone();
    for (k, v) in input {
        if k != "ID" && k != "Name" {
            hook.insert(k.clone(), v.clone());
        }
    }
    try_reply!(validate_webhook(data, &hook, Some(id.as_str())));
    let kind = text(&hook, "Type").unwrap_or_default().to_owned();
    hook.insert("Name".into(), json!(kind));
    data.webhooks[index] = hook.clone();
    data.webhook_failures.remove(id.as_str());
    Reply::ok(json!({"Webhooks": [hook]}))
}

pub(crate) fn delete_webhook(data: &mut Data, query: &Query, automation: bool) -> Reply {
    if !automation {
        return automation_missing();
    }
    let Some(id) = query.get("id") else {
        return invalid("ID is required.");
    };
    let before = data.webhooks.len();
    data.webhooks.retain(|w| !wire::field_is(w, "ID", id));
    if data.webhooks.len() == before {
        return missing(format!("Webhook with ID {id} not found."));
    }
    Reply::ok(json!({"Webhooks": []}))
}
