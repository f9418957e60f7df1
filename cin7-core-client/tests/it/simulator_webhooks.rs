#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]
//! Webhook delivery from the simulator to a local receiver: ID-only payloads, the configured
//! bearer / basic / custom-header credentials, parsed by the client's `WebhookReceiver`;
//! delivery never blocks the API call; failing subscriptions are deactivated.

use crate::simulator_support;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use cin7_core_client::Guid;
use cin7_core_client::purchase::{Approach, OrderLine, PurchaseHeader, PurchaseOrder, TaskStatus};
use cin7_core_client::webhook::{
    AuthorizationType, DeliveryAuth, ExternalHeader, Webhook, WebhookError, WebhookEvent,
    WebhookReceiver, WebhookType,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use simulator_support::*;
use tokio::sync::mpsc;

type Received = (String, HeaderMap, Bytes);

/// A receiver on 127.0.0.1 that answers 200 and hands every delivery to the test.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel::<Received>();
    let app = axum::Router::new()
        .fallback(
            |State(tx): State<mpsc::UnboundedSender<Received>>,
             uri: Uri,
             headers: HeaderMap,
             body: Bytes| async move {
                let _ = tx.send((uri.path().to_owned(), headers, body));
                "ok"
            },
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

fn hook(kind: WebhookType, url: String) -> Webhook {
    Webhook {
        webhook_type: Some(kind),
        is_active: Some(true),
        external_url: url,
        external_authorization_type: Some(AuthorizationType::NoAuth),
        ..Default::default()
    }
}

#[tokio::test]
async fn deliveries_reach_the_receiver_with_the_configured_auth() {
    let (sim, client, _clock) = start(|c| c).await;
    let (base, mut inbox) = receiver().await;
    let hooks = client.webhooks();
    hooks
        .create(&Webhook {
            external_authorization_type: Some(AuthorizationType::BearerAuth),
            external_bearer_token: Some(SecretString::from("bearer-s3cret")),
            ..hook(WebhookType::SupplierUpdated, format!("{base}/supplier"))
        })
        .await
        .unwrap();
    hooks
        .create(&Webhook {
            external_authorization_type: Some(AuthorizationType::BasicAuth),
            external_user_name: Some("cin7".into()),
            external_password: Some(SecretString::from("basic-s3cret")),
            ..hook(
                WebhookType::PurchaseOrderAuthorised,
                format!("{base}/order"),
            )
        })
        .await
        .unwrap();
    hooks
        .create(&Webhook {
            external_headers: vec![ExternalHeader {
                key: "verification-token".into(),
                value: SecretString::from("vt-123"),
            }],
            ..hook(WebhookType::PurchaseUpdated, format!("{base}/updated"))
        })
        .await
        .unwrap();

    let supplier = client
        .suppliers()
        .create(&new_supplier("Hooked Supplies"))
        .await
        .unwrap();
    let supplier_id = supplier.id.clone().unwrap();
    let purchase = client
        .purchases()
        .create(&PurchaseHeader {
            supplier_id: Some(supplier_id.clone()),
            approach: Some(Approach::Invoice),
            location: Some("Main Warehouse".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let purchase_id = purchase.id.clone().unwrap();
    client
        .purchases()
        .save_order(&PurchaseOrder {
            task_id: Some(purchase_id.clone()),
            status: Some(TaskStatus::Authorised),
            lines: vec![OrderLine {
                sku: Some("A".into()),
                quantity: Some(Decimal::ONE),
                price: Some(Decimal::TEN),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();

    let bearer = WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from("bearer-s3cret")));
    let basic = WebhookReceiver::new(DeliveryAuth::Basic {
        username: "cin7".into(),
        password: SecretString::from("basic-s3cret"),
    });
    let header = WebhookReceiver::new(
        DeliveryAuth::header("verification-token", SecretString::from("vt-123")).unwrap(),
    );
    let mut supplier_events = 0;
    let mut order_events = 0;
    let mut updated_ids: Vec<Guid> = Vec::new();
    // Supplier/Updated, Purchase/Updated x2 (create, order), Purchase/OrderAuthorised.
    for _ in 0..4 {
        let (path, headers, body) = tokio::time::timeout(Duration::from_secs(5), inbox.recv())
            .await
            .unwrap()
            .unwrap();
        match path.as_str() {
            "/supplier" => {
                assert!(matches!(
                    basic.receive(&headers, &body),
                    Err(WebhookError::BadCredentials { .. })
                ));
                let WebhookEvent::SupplierUpdated(event) = bearer.receive(&headers, &body).unwrap()
                else {
                    panic!("wrong event")
                };
                assert_eq!(
                    event.supplier_details_list[0].supplier.id.as_ref(),
                    Some(&supplier_id)
                );
                supplier_events += 1;
            }
            "/order" => {
                let WebhookEvent::PurchaseTask(event) = basic.receive(&headers, &body).unwrap()
                else {
                    panic!("wrong event")
                };
                assert_eq!(event.event_type, WebhookType::PurchaseOrderAuthorised);
                assert_eq!(event.task_id, purchase_id);
                assert_eq!(event.purchase_order_number.as_deref(), Some("PO-00001"));
                assert_eq!(event.supplier_name.as_deref(), Some("Hooked Supplies"));
                order_events += 1;
            }
            "/updated" => {
                assert!(matches!(
                    bearer.receive(&headers, &body),
                    Err(WebhookError::MissingCredentials { .. })
                ));
                let WebhookEvent::PurchaseUpdated(event) = header.receive(&headers, &body).unwrap()
                else {
                    panic!("wrong event")
                };
                updated_ids.push(event.purchases[0].id.clone());
            }
            other => panic!("unexpected delivery to {other}"),
        }
    }
    assert_eq!((supplier_events, order_events), (1, 1));
    assert_eq!(updated_ids, vec![purchase_id.clone(), purchase_id.clone()]);
    let deliveries = sim
        .wait_for_deliveries(4, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(deliveries.iter().all(|d| d.outcome == Ok(200)));
    // IDs only: no order lines or prices in any payload.
    assert!(
        deliveries
            .iter()
            .all(|d| !d.body.to_string().contains("Price"))
    );
}

#[tokio::test]
async fn failing_receivers_never_block_calls_and_get_deactivated() {
    let (sim, client, _clock) = start(|c| c).await;
    // A port nothing listens on: every delivery fails.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}/gone", closed.local_addr().unwrap());
    drop(closed);
    let hook = client
        .webhooks()
        .create(&hook(WebhookType::SupplierUpdated, dead_url))
        .await
        .unwrap();
    for i in 0..6 {
        client
            .suppliers()
            .create(&new_supplier(&format!("Unheard {i}")))
            .await
            .unwrap();
    }
    let deliveries = sim
        .wait_for_deliveries(6, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(deliveries.iter().all(|d| d.outcome.is_err()));
    let after = client.webhooks().list().await.unwrap();
    let after = after.iter().find(|w| w.id == hook.id).unwrap();
    assert_eq!(
        after.is_active,
        Some(false),
        "deactivated after 6 failed deliveries"
    );
    // An inactive subscription gets nothing more.
    client
        .suppliers()
        .create(&new_supplier("Unheard 7"))
        .await
        .unwrap();
    assert!(
        sim.wait_for_deliveries(7, Duration::from_millis(100))
            .await
            .is_none()
    );
}
