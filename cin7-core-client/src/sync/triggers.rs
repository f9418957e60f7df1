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

/// The triggers a webhook delivery carries. `delivery_key` identifies the delivery (a hash of
/// the body, or the sender's delivery id): redeliveries with the same key are queued once.
pub fn triggers_for(
    event: &WebhookEvent,
    tenant: &str,
    delivery_key: &str,
    received_at: DateTime<Utc>,
) -> Vec<Trigger> {
    let trigger = |id: &Guid, hint: Option<String>, n: usize| Trigger {
        delivery_key: format!("{delivery_key}#{n}"),
        event: event.event_type().as_str().to_owned(),
        target: SourceIdentity::new(SYSTEM, tenant, "", id.to_string()),
        hint,
        received_at,
    };
    match event {
        WebhookEvent::PurchaseTask(task) => {
            vec![trigger(
                &task.task_id,
                task.purchase_order_number.clone(),
                0,
            )]
        }
        WebhookEvent::PurchaseUpdated(updated) => updated
            .purchases
            .iter()
            .enumerate()
            .map(|(n, row)| trigger(&row.id, row.order_number.clone(), n))
            .collect(),
        _ => Vec::new(),
    }
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

/// Watchdog: re-enable the webhooks of these types that Cin7 deactivated (after six failed
/// deliveries). Returns the ids re-enabled. Run it on a schedule; the polling window covers
/// whatever was missed while a webhook was inactive.
///
/// Cin7's list may not return the subscription's credentials: check on your account that an
/// update keeps them (the simulator does), or re-create the webhook with them instead.
pub async fn reenable_inactive(
    client: &crate::Cin7Client,
    types: &[crate::webhook::WebhookType],
) -> crate::Result<Vec<Guid>> {
    let hooks = client.webhooks();
    let mut enabled = Vec::new();
    for mut hook in hooks.list().await? {
        let wanted = hook
            .webhook_type
            .as_ref()
            .is_some_and(|t| types.contains(t));
        if wanted && hook.is_active == Some(false) {
            hook.is_active = Some(true);
            let saved = hooks.update(&hook).await?;
            tracing::info!(id = ?saved.id, "re-enabled a deactivated Cin7 webhook");
            if let Some(id) = saved.id.or(hook.id) {
                enabled.push(id);
            }
        }
    }
    Ok(enabled)
}
