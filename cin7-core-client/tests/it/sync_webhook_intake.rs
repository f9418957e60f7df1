#![cfg(all(feature = "webhook-server", feature = "simulator"))]
#![allow(clippy::unwrap_used)]
//! The webhook intake against the simulator's real deliveries: authenticated deliveries are
//! queued durably as triggers and answered 202, redeliveries are queued once, bad credentials
//! get 401, and a stock-receipt event's sub-task `TaskID` resolves to its purchase.

use crate::simulator_support;

use std::sync::Arc;
use std::time::Duration;

use cin7_core_client::purchase::{
    Approach, OrderLine, PurchaseHeader, PurchaseOrder, StockLine, StockReceived, TaskStatus,
};
use cin7_core_client::sync::returns::Cin7PurchaseSource;
use cin7_core_client::sync::webhook_server::{WebhookIntake, intake_router};
use cin7_core_client::webhook::{
    AuthorizationType, DeliveryAuth, Webhook, WebhookReceiver, WebhookType,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use simulator_support::*;
use sync_core::engine::returns::triggers::{TriggerResolver, trigger_stream};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditQuery, AuditStatus, AuditStore, SyncStore};
use sync_core::time::Clock;
use tokio::sync::Notify;

#[tokio::test]
async fn deliveries_are_queued_once_and_sub_tasks_resolve_to_their_purchase() {
    let (sim, client, clock) = start(|c| c).await;
    let store = Arc::new(MemoryStore::new());
    let queued = Arc::new(Notify::new());
    let intake = Arc::new(
        WebhookIntake::new(
            WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from("hook-s3cret"))),
            store.clone(),
            "ACME",
            "acct",
            clock.shared(),
            queued.clone(),
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, intake_router(intake)).await });
    for kind in [
        WebhookType::PurchaseStockReceivedAuthorised,
        WebhookType::PurchaseOrderAuthorised,
    ] {
        client
            .webhooks()
            .create(&Webhook {
                webhook_type: Some(kind),
                is_active: Some(true),
                external_url: url.clone(),
                external_authorization_type: Some(AuthorizationType::BearerAuth),
                external_bearer_token: Some(SecretString::from("hook-s3cret")),
                ..Default::default()
            })
            .await
            .unwrap();
    }

    let supplier = client
        .suppliers()
        .create(&new_supplier("Hooked Supplies"))
        .await
        .unwrap();
    let purchases = client.purchases();
    let purchase = purchases
        .create(&PurchaseHeader {
            supplier_id: supplier.id.clone(),
            approach: Some(Approach::Stock),
            location: Some("Main Warehouse".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let purchase_id = purchase.id.clone().unwrap();
    purchases
        .save_order(&PurchaseOrder {
            task_id: Some(purchase_id.clone()),
            status: Some(TaskStatus::Authorised),
            lines: vec![OrderLine {
                sku: Some("A".into()),
                name: Some("A".into()),
                quantity: Some(Decimal::from(3)),
                price: Some(Decimal::TEN),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    // Cin7 gives the first receipt the purchase's own ID; a second receipt is a sub-task.
    let receipt = StockReceived {
        purchase_id: Some(purchase_id.clone()),
        status: Some(TaskStatus::Authorised),
        lines: vec![StockLine {
            date: Some(clock.now().date_naive()),
            sku: Some("A".into()),
            quantity: Some(Decimal::ONE),
            ..Default::default()
        }],
        ..Default::default()
    };
    let receive = || purchases.receive_stock(&receipt);
    receive().await.unwrap();
    let stock = receive().await.unwrap();
    let task_id = stock.task_id.clone().unwrap();
    assert_ne!(task_id, purchase_id, "the second receipt is a sub-task");

    let deliveries = sim
        .wait_for_deliveries(3, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        deliveries.iter().all(|d| d.outcome == Ok(202)),
        "{deliveries:?}"
    );
    tokio::time::timeout(Duration::from_secs(5), queued.notified())
        .await
        .ok();
    let pending = |store: Arc<MemoryStore>| async move {
        store
            .query(
                &AuditQuery::tenant("ACME".to_owned())
                    .stream(trigger_stream())
                    .statuses(&[AuditStatus::Deferred]),
            )
            .await
            .unwrap()
    };
    let rows = pending(store.clone()).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let sub_task = rows
        .iter()
        .find(|r| r.source.id.eq_ignore_ascii_case(&task_id.to_string()))
        .expect("the receipt's trigger names the stock task");

    // A redelivery of the same body is accepted and queued once; bad credentials are refused.
    let http = reqwest::Client::new();
    let body = deliveries
        .iter()
        .find(|d| {
            d.body["TaskID"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(&task_id.to_string()))
        })
        .unwrap()
        .body
        .to_string();
    let again = http
        .post(&url)
        .bearer_auth("hook-s3cret")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(pending(store.clone()).await.len(), 3);
    let wrong = http
        .post(&url)
        .bearer_auth("guess")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(pending(store.clone()).await.len(), 3);

    // The sub-task resolves to the purchase that owns it.
    let source = Cin7PurchaseSource::new(client.clone(), "acct");
    let hint = sub_task
        .source_snapshot
        .get("hint")
        .and_then(|h| h.as_str())
        .map(str::to_owned);
    let resolved = source
        .resolve(&sub_task.source, hint.as_deref())
        .await
        .unwrap()
        .unwrap();
    assert!(resolved.id.eq_ignore_ascii_case(&purchase_id.to_string()));
    // Without the order number it is found among recently updated purchases.
    let resolved = source
        .resolve(&sub_task.source, None)
        .await
        .unwrap()
        .unwrap();
    assert!(resolved.id.eq_ignore_ascii_case(&purchase_id.to_string()));
    let _: &dyn SyncStore = store.as_ref();
}

#[tokio::test]
async fn the_watchdog_re_enables_our_deactivated_purchase_webhooks_with_configured_credentials() {
    use cin7_core_client::sync::triggers::{PURCHASE_WEBHOOKS, reenable_inactive};
    let (sim, client, _clock) = start(|c| c).await;
    let dead_url = |path: &str| {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/{path}", closed.local_addr().unwrap())
    };
    let (ours_url, theirs_url) = (dead_url("ours"), dead_url("theirs"));
    let mut ids = Vec::new();
    for (kind, url) in [
        (WebhookType::PurchaseUpdated, &ours_url),
        (WebhookType::SupplierUpdated, &ours_url),
        (WebhookType::PurchaseUpdated, &theirs_url),
    ] {
        let hook = client
            .webhooks()
            .create(&Webhook {
                webhook_type: Some(kind),
                is_active: Some(true),
                external_url: url.clone(),
                external_authorization_type: Some(AuthorizationType::NoAuth),
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(hook.id.unwrap());
    }
    // Six failed deliveries of each deactivate all three.
    for i in 0..6 {
        let supplier = client
            .suppliers()
            .create(&new_supplier(&format!("Unheard {i}")))
            .await
            .unwrap();
        client
            .purchases()
            .create(&PurchaseHeader {
                supplier_id: supplier.id.clone(),
                approach: Some(Approach::Stock),
                location: Some("Main Warehouse".into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    sim.wait_for_deliveries(18, Duration::from_secs(5))
        .await
        .unwrap();
    let find = |hooks: &[Webhook], id| hooks.iter().find(|w| w.id.as_ref() == Some(id)).cloned();
    let before = client.webhooks().list().await.unwrap();
    for id in &ids {
        assert_eq!(find(&before, id).unwrap().is_active, Some(false));
    }

    let ours = Webhook {
        external_url: ours_url.clone(),
        external_authorization_type: Some(AuthorizationType::BearerAuth),
        external_bearer_token: Some(SecretString::from("hook-from-config")),
        ..Default::default()
    };
    let report = reenable_inactive(&client, &PURCHASE_WEBHOOKS, &ours)
        .await
        .unwrap();
    assert_eq!(report.reenabled, vec![ids[0].clone()]);
    assert!(report.failed.is_empty());
    let after = client.webhooks().list().await.unwrap();
    let revived = find(&after, &ids[0]).unwrap();
    assert_eq!(revived.is_active, Some(true));
    assert_eq!(
        revived.external_authorization_type,
        Some(AuthorizationType::BearerAuth),
        "saved with the configured credentials, not the listed ones"
    );
    assert_eq!(
        find(&after, &ids[1]).unwrap().is_active,
        Some(false),
        "not a purchase webhook"
    );
    assert_eq!(
        find(&after, &ids[2]).unwrap().is_active,
        Some(false),
        "another integration's"
    );
    // Nothing left to do.
    let again = reenable_inactive(&client, &PURCHASE_WEBHOOKS, &ours)
        .await
        .unwrap();
    assert!(again.reenabled.is_empty() && again.failed.is_empty());
}

#[tokio::test]
async fn subscribing_keeps_an_existing_webhook_and_respects_five_per_type() {
    use cin7_core_client::sync::triggers::{MAX_WEBHOOKS_PER_TYPE, Subscribed, ensure_subscribed};
    let (_sim, client, _clock) = start(|c| c).await;
    let hook = |url: &str| Webhook {
        webhook_type: Some(WebhookType::PurchaseInvoiceAuthorised),
        is_active: Some(true),
        external_url: url.to_owned(),
        external_authorization_type: Some(AuthorizationType::BearerAuth),
        external_bearer_token: Some(SecretString::from("hook-s3cret")),
        ..Default::default()
    };
    let ours = hook("https://sync.example/cin7");
    let Subscribed::Created(id) = ensure_subscribed(&client, &ours).await.unwrap() else {
        panic!("created first");
    };
    assert_eq!(
        ensure_subscribed(&client, &hook("https://sync.example/cin7/"))
            .await
            .unwrap(),
        Subscribed::Existing(id.clone()),
        "the same URL is not subscribed twice"
    );
    for n in 1..MAX_WEBHOOKS_PER_TYPE {
        client
            .webhooks()
            .create(&hook(&format!("https://other{n}.example/")))
            .await
            .unwrap();
    }
    let error = ensure_subscribed(&client, &hook("https://new.example/"))
        .await
        .unwrap_err();
    assert!(
        format!("{error:?}").contains("allows 5 webhooks of type Purchase/InvoiceAuthorised"),
        "{error:?}"
    );
    let listed = client.webhooks().list().await.unwrap();
    assert_eq!(
        listed.len(),
        MAX_WEBHOOKS_PER_TYPE,
        "nothing created beyond the limit"
    );
}
