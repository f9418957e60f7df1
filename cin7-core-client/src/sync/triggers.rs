//! Purchase webhooks as triggers for an immediate, targeted return sync.
//!
//! - [`triggers_for`]: the sync-core [`Trigger`]s in a parsed [`WebhookEvent`]: the four
//!   purchase `*Authorised` events name a `TaskID` (and the order number); `Purchase/Updated`
//!   lists purchase IDs. Other events trigger nothing.
//! - [`Cin7PurchaseSource`] is the [`TriggerResolver`]: a `TaskID` is tried as the purchase ID
//!   first; when no purchase has that ID it is a sub-task (a receipt or an invoice), found on
//!   the purchases carrying the event's order number (`purchaseList?Search=`), or else on the
//!   purchases updated in the last [`SUB_TASK_SCAN`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sync_core::engine::returns::triggers::{Trigger, TriggerResolver};
use sync_core::error::SourceError;
use sync_core::model::SourceIdentity;

use super::returns::{Cin7PurchaseSource, SYSTEM};
use crate::codec::Guid;
use crate::purchase::AdvancedPurchase;
use crate::webhook::WebhookEvent;

/// How far back a sub-task without an order number is looked for.
pub const SUB_TASK_SCAN: chrono::Duration = chrono::Duration::hours(2);

/// How long a repeated event for the same id is queued once. Cin7 may deliver an event more
/// than once; a second change within the window is still picked up, because the trigger
/// re-reads the purchase as it is when handled (or, if it was handled in between, by the next
/// polling window).
pub const DEDUPE_WINDOW: chrono::Duration = chrono::Duration::minutes(5);

/// The key a trigger is deduplicated on: event type, id and the [`DEDUPE_WINDOW`]-long bucket
/// `received_at` falls in. Not the body: the same event respelled (key order, whitespace, a
/// field Cin7 adds) is still the same event.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use cin7_core_client::sync::triggers::{DEDUPE_WINDOW, dedupe_key};
///
/// let at = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 30).unwrap();
/// let key = dedupe_key("Purchase/OrderAuthorised", "ABC", at, DEDUPE_WINDOW);
/// assert_eq!(key, dedupe_key("Purchase/OrderAuthorised", "abc", at + chrono::Duration::minutes(4), DEDUPE_WINDOW));
/// assert_ne!(key, dedupe_key("Purchase/OrderAuthorised", "abc", at + chrono::Duration::minutes(5), DEDUPE_WINDOW));
/// assert_ne!(key, dedupe_key("Purchase/InvoiceAuthorised", "abc", at, DEDUPE_WINDOW));
/// ```
pub fn dedupe_key(
    event_type: &str,
    id: &str,
    received_at: DateTime<Utc>,
    window: chrono::Duration,
) -> String {
    let seconds = window.num_seconds().max(1);
    let bucket = received_at.timestamp().div_euclid(seconds);
    format!("{event_type}|{}|{bucket}", id.to_ascii_lowercase())
}

/// The triggers a webhook delivery carries, each keyed by [`dedupe_key`] so a repeated event
/// for the same id is queued once per `window`.
pub fn triggers_for(
    event: &WebhookEvent,
    tenant: &str,
    received_at: DateTime<Utc>,
    window: chrono::Duration,
) -> Vec<Trigger> {
    let event_type = event.event_type();
    let trigger = |id: &Guid, hint: Option<String>| {
        refetch(event_type.as_str(), tenant, id, hint, received_at, window)
    };
    match event {
        WebhookEvent::PurchaseTask(task) => {
            vec![trigger(&task.task_id, task.purchase_order_number.clone())]
        }
        WebhookEvent::PurchaseUpdated(updated) => updated
            .purchases
            .iter()
            .map(|row| trigger(&row.id, row.order_number.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// A trigger to re-read the purchase (or sub-task) `id`.
fn refetch(
    event_type: &str,
    tenant: &str,
    id: &Guid,
    hint: Option<String>,
    received_at: DateTime<Utc>,
    window: chrono::Duration,
) -> Trigger {
    let id = id.to_string();
    Trigger {
        delivery_key: dedupe_key(event_type, &id, received_at, window),
        event: event_type.to_owned(),
        target: SourceIdentity::new(SYSTEM, tenant, "", id),
        hint,
        deleted: false,
        received_at,
    }
}

/// The most refetches queued from one unreadable delivery.
pub const MAX_SALVAGED_IDS: usize = 10;

/// The refetches an unreadable delivery still allows: unless its event type (if one can be
/// read) belongs to another documented family (`Sale/`, `Customer/`, `Product/`, `Stock/`,
/// `Supplier/`), every purchase or task id found in it (`TaskID`, `ID`,
/// `PurchaseID` at any depth when the body is JSON; any GUID in the text when it is not), at
/// most [`MAX_SALVAGED_IDS`], with the order number beside it as the hint. A sale or product
/// event that failed to parse queues nothing: the return path handles purchases only.
///
/// ```
/// use chrono::Utc;
/// use cin7_core_client::sync::triggers::{DEDUPE_WINDOW, salvage};
///
/// // Cut short, so not JSON: the id is still found.
/// let body = br#"{"EventType": "Purchase/OrderAuthorised", "TaskID": "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11", "Purch"#;
/// let triggers = salvage(body, "acct", Utc::now(), DEDUPE_WINDOW);
/// assert_eq!(triggers.len(), 1);
/// assert_eq!(triggers[0].target.id, "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11");
/// assert_eq!(triggers[0].event, "Purchase/OrderAuthorised");
/// ```
pub fn salvage(
    body: &[u8],
    tenant: &str,
    received_at: DateTime<Utc>,
    window: chrono::Duration,
) -> Vec<Trigger> {
    let text = String::from_utf8_lossy(body);
    // Lenient on purpose (a repeated key keeps the last value): this only looks for ids.
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let event_type = match &json {
        Some(value) => find_str(value, &["EventType"]),
        None => quoted_after(&text, "EventType"),
    }
    .unwrap_or_else(|| "unreadable".to_owned());
    // Events of the other documented families never concern a purchase.
    let purchase_related = !["Sale/", "Customer/", "Product/", "Stock/", "Supplier/"]
        .iter()
        .any(|family| event_type.starts_with(family));
    if !purchase_related {
        return Vec::new();
    }
    let mut found: Vec<(Guid, Option<String>)> = Vec::new();
    match &json {
        Some(value) => collect_ids(value, &mut found),
        None => {
            let hint = quoted_after(&text, "OrderNumber");
            for id in guids_in(&text) {
                found.push((id, hint.clone()));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    found
        .into_iter()
        .filter(|(id, _)| seen.insert(id.to_string().to_ascii_lowercase()))
        .take(MAX_SALVAGED_IDS)
        .map(|(id, hint)| refetch(&event_type, tenant, &id, hint, received_at, window))
        .collect()
}

const ID_KEYS: [&str; 3] = ["TaskID", "ID", "PurchaseID"];
const NUMBER_KEYS: [&str; 3] = ["PurchaseOrderNumber", "OrderNumber", "SaleOrderNumber"];

/// The first string under one of `keys` in `value` (any letter case), at any depth.
fn find_str(value: &serde_json::Value, keys: &[&str]) -> Option<String> {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .find(|(k, v)| keys.iter().any(|key| k.eq_ignore_ascii_case(key)) && v.is_string())
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
            .or_else(|| map.values().find_map(|v| find_str(v, keys))),
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_str(v, keys)),
        _ => None,
    }
}

/// Every GUID under an id key, with the order number of the same object as its hint.
fn collect_ids(value: &serde_json::Value, found: &mut Vec<(Guid, Option<String>)>) {
    match value {
        serde_json::Value::Object(map) => {
            let hint = map
                .iter()
                .find(|(k, v)| {
                    NUMBER_KEYS.iter().any(|key| k.eq_ignore_ascii_case(key)) && v.is_string()
                })
                .and_then(|(_, v)| v.as_str().map(str::to_owned));
            for (key, v) in map {
                if ID_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k))
                    && let Some(id) = v.as_str().and_then(|s| s.trim().parse::<Guid>().ok())
                {
                    found.push((id, hint.clone()));
                }
            }
            for v in map.values() {
                collect_ids(v, found);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                collect_ids(v, found);
            }
        }
        _ => {}
    }
}

/// The string value after `"key"` in text that is not JSON (`"key": "value"`).
fn quoted_after(text: &str, key: &str) -> Option<String> {
    let start = text.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = text[start..].trim_start().strip_prefix(':')?.trim_start();
    let value = rest.strip_prefix('"')?;
    value.find('"').map(|end| value[..end].to_owned())
}

/// Every GUID in `text` (a token of hex digits and dashes that parses as one).
fn guids_in(text: &str) -> Vec<Guid> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|token| token.len() == 36)
        .filter_map(|token| token.parse().ok())
        .collect()
}

fn same(a: &Guid, b: &Guid) -> bool {
    a.to_string().eq_ignore_ascii_case(&b.to_string())
}

fn owns_task(purchase: &AdvancedPurchase, task: &Guid) -> bool {
    let is = |id: &Option<Guid>| id.as_ref().is_some_and(|id| same(id, task));
    purchase.stock_received.iter().any(|s| is(&s.task_id))
        || purchase.invoice.iter().any(|i| is(&i.task_id))
        || purchase.order.as_ref().is_some_and(|o| is(&o.task_id))
}

fn error(e: crate::Error) -> SourceError {
    let message = sdk_common::report::chain(&e);
    let converted = if e.is_retryable() {
        SourceError::transient(message)
    } else {
        SourceError::permanent(message)
    };
    converted.with_source(e)
}

#[async_trait]
impl TriggerResolver for Cin7PurchaseSource {
    async fn resolve(
        &self,
        target: &SourceIdentity,
        hint: Option<&str>,
    ) -> Result<Option<SourceIdentity>, SourceError> {
        let Ok(task) = target.id.parse::<Guid>() else {
            return Ok(None);
        };
        if let Some(purchase) = self.purchase(&task).await? {
            return Ok(Some(purchase.identity));
        }
        // A sub-task: look at the purchases that may own it.
        let purchases = self.client().purchases();
        let mut list = purchases.list().limit(100);
        list = match hint.filter(|h| !h.trim().is_empty()) {
            Some(number) => list.search(number),
            None => list.updated_since(self.client().clock().now() - SUB_TASK_SCAN),
        };
        let rows: Vec<_> = list.stream().try_collect().await.map_err(error)?;
        for row in rows {
            if hint.is_some() && row.order_number.as_deref() != hint {
                continue;
            }
            let Some(id) = row.id else { continue };
            let full = purchases.get(&id).send().await.map_err(error)?;
            if owns_task(&full, &task) {
                return Ok(Some(SourceIdentity::new(
                    SYSTEM,
                    target.tenant.clone(),
                    "",
                    id.to_string(),
                )));
            }
        }
        Ok(None)
    }
}

/// The purchase webhooks the return path listens to.
pub const PURCHASE_WEBHOOKS: [crate::webhook::WebhookType; 4] = [
    crate::webhook::WebhookType::PurchaseOrderAuthorised,
    crate::webhook::WebhookType::PurchaseStockReceivedAuthorised,
    crate::webhook::WebhookType::PurchaseInvoiceAuthorised,
    crate::webhook::WebhookType::PurchaseUpdated,
];

/// Cin7 keeps at most this many webhooks of one type.
pub const MAX_WEBHOOKS_PER_TYPE: usize = 5;

/// What the watchdog did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct WatchdogReport {
    /// Our subscriptions that were inactive and are active again.
    pub reenabled: Vec<Guid>,
    /// Our subscriptions that could not be re-enabled, with why (the others were still tried).
    pub failed: Vec<(Guid, crate::Error)>,
}

/// Watchdog: re-enable our subscriptions of these types that Cin7 deactivated (after six
/// failed deliveries). Ours are those whose `ExternalURL` is `ours.external_url`; another
/// integration's webhooks are left alone. Each is saved with the credentials of `ours` (from
/// configuration): what `GET /webhooks` returns for them is never trusted, since Cin7 may not
/// return the secrets at all. A failure on one is recorded and the others are still tried;
/// only a failed listing fails the call. Run it on a schedule; the polling window covers
/// whatever was missed while a webhook was inactive.
pub async fn reenable_inactive(
    client: &crate::Cin7Client,
    types: &[crate::webhook::WebhookType],
    ours: &crate::webhook::Webhook,
) -> crate::Result<WatchdogReport> {
    let hooks = client.webhooks();
    let mut report = WatchdogReport::default();
    for hook in hooks.list().await? {
        let wanted = hook
            .webhook_type
            .as_ref()
            .is_some_and(|t| types.contains(t));
        let (true, Some(false), Some(id)) = (
            wanted && same_url(&hook.external_url, &ours.external_url),
            hook.is_active,
            hook.id.clone(),
        ) else {
            continue;
        };
        let revived = with_credentials(&hook, ours);
        match hooks.update(&revived).await {
            Ok(_) => {
                tracing::info!(%id, "re-enabled a deactivated Cin7 webhook");
                report.reenabled.push(id);
            }
            Err(error) => {
                tracing::warn!(%id, error = %sdk_common::report::chain(&error), "cannot re-enable a Cin7 webhook");
                report.failed.push((id, error));
            }
        }
    }
    Ok(report)
}

/// How [`ensure_subscribed`] left a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribed {
    /// Already subscribed and active: nothing sent.
    Existing(Guid),
    /// Subscribed but inactive: re-enabled with the configured credentials.
    Reenabled(Guid),
    /// Created.
    Created(Guid),
}

/// Subscribe `template` (type, URL, credentials from configuration) unless it already is:
/// an active subscription of the type to the same URL is kept as it is, an inactive one is
/// re-enabled with the template's credentials, and otherwise one is created, after checking
/// that Cin7's limit of [`MAX_WEBHOOKS_PER_TYPE`] per type leaves room (a create beyond it is
/// refused by Cin7 with a less helpful message).
pub async fn ensure_subscribed(
    client: &crate::Cin7Client,
    template: &crate::webhook::Webhook,
) -> crate::Result<Subscribed> {
    let Some(kind) = template.webhook_type.clone() else {
        return Err(crate::Error::InvalidInput {
            field: "Webhook.Type",
            reason: "is required".into(),
        });
    };
    let hooks = client.webhooks();
    let same_type: Vec<_> = hooks
        .list()
        .await?
        .into_iter()
        .filter(|h| h.webhook_type.as_ref() == Some(&kind))
        .collect();
    if let Some(hook) = same_type
        .iter()
        .find(|h| same_url(&h.external_url, &template.external_url))
        && let Some(id) = hook.id.clone()
    {
        if hook.is_active == Some(true) {
            return Ok(Subscribed::Existing(id));
        }
        hooks.update(&with_credentials(hook, template)).await?;
        return Ok(Subscribed::Reenabled(id));
    }
    if same_type.len() >= MAX_WEBHOOKS_PER_TYPE {
        return Err(crate::Error::InvalidInput {
            field: "Webhook.Type",
            reason: format!(
                "Cin7 allows {MAX_WEBHOOKS_PER_TYPE} webhooks of type {} and {} exist: remove \
                 one you no longer use first",
                kind.as_str(),
                same_type.len()
            ),
        });
    }
    let created = hooks.create(template).await?;
    created
        .id
        .map(Subscribed::Created)
        .ok_or_else(|| crate::Error::InvalidInput {
            field: "Webhook.ID",
            reason: "Cin7 answered the create without an ID".into(),
        })
}

/// `hook`, active, with the credentials of `ours`.
fn with_credentials(
    hook: &crate::webhook::Webhook,
    ours: &crate::webhook::Webhook,
) -> crate::webhook::Webhook {
    crate::webhook::Webhook {
        is_active: Some(true),
        external_authorization_type: ours.external_authorization_type.clone(),
        external_user_name: ours.external_user_name.clone(),
        external_password: ours.external_password.clone(),
        external_bearer_token: ours.external_bearer_token.clone(),
        external_headers: ours.external_headers.clone(),
        ..hook.clone()
    }
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}
