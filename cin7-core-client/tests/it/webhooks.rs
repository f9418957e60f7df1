#![allow(clippy::unwrap_used)]
//! Webhook subscriptions and the delivery receiver.

use crate::common;

use base64::Engine;
use cin7_core_client::Guid;
use cin7_core_client::webhook::*;
use common::*;
use http::HeaderMap;
use mockito::{Matcher, Server};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sync_core::time::ManualClock;

fn payload(name: &str) -> Vec<u8> {
    fixture(&format!("webhook/{name}")).into_bytes()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.insert(
            http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    map
}

#[test]
fn bearer_right_wrong_and_missing() {
    let receiver = WebhookReceiver::new(DeliveryAuth::Bearer(SecretString::from("tok-123")));
    let body = payload("purchase_invoice_authorised.json");
    assert!(
        receiver
            .receive(&headers(&[("authorization", "Bearer tok-123")]), &body)
            .is_ok()
    );
    assert!(
        receiver
            .receive(&headers(&[("authorization", "bearer tok-123")]), &body)
            .is_ok(),
        "scheme is case-insensitive"
    );
    let wrong = receiver
        .receive(&headers(&[("authorization", "Bearer tok-124")]), &body)
        .unwrap_err();
    assert!(matches!(wrong, WebhookError::BadCredentials { .. }));
    assert!(!wrong.to_string().contains("tok-12"));
    let basic_instead = receiver
        .receive(&headers(&[("authorization", "Basic dG9rLTEyMw==")]), &body)
        .unwrap_err();
    assert!(matches!(basic_instead, WebhookError::BadCredentials { .. }));
    let missing = receiver.receive(&HeaderMap::new(), &body).unwrap_err();
    assert!(
        matches!(&missing, WebhookError::MissingCredentials { header } if header == "authorization")
    );
}

#[test]
fn basic_right_and_wrong() {
    let receiver = WebhookReceiver::new(DeliveryAuth::Basic {
        username: "cin7".into(),
        password: SecretString::from("pa:ss"),
    });
    let encode = |s: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    };
    assert!(
        receiver
            .authenticate(&headers(&[("authorization", &encode("cin7:pa:ss"))]))
            .is_ok()
    );
    for wrong in ["cin7:pa:sx", "cin8:pa:ss", "cin7", ""] {
        assert!(
            receiver
                .authenticate(&headers(&[("authorization", &encode(wrong))]))
                .is_err(),
            "{wrong:?} accepted"
        );
    }
    assert!(
        receiver
            .authenticate(&headers(&[("authorization", "Basic !!!not-base64")]))
            .is_err()
    );
}

#[test]
fn secret_header_and_combined_requirements() {
    let receiver = WebhookReceiver::new(
        DeliveryAuth::header("verification-token", SecretString::from("vt-9")).unwrap(),
    )
    .also_require(DeliveryAuth::Bearer(SecretString::from("tok")));
    let body = payload("sale_invoice_authorised.json");
    assert!(
        receiver
            .receive(
                &headers(&[
                    ("verification-token", "vt-9"),
                    ("authorization", "Bearer tok")
                ]),
                &body
            )
            .is_ok()
    );
    // Either credential missing or wrong is a rejection.
    assert!(matches!(
        receiver.receive(&headers(&[("authorization", "Bearer tok")]), &body),
        Err(WebhookError::MissingCredentials { header }) if header == "verification-token"
    ));
    assert!(matches!(
        receiver.receive(
            &headers(&[
                ("verification-token", "vt-8"),
                ("authorization", "Bearer tok")
            ]),
            &body
        ),
        Err(WebhookError::BadCredentials { .. })
    ));
    assert!(DeliveryAuth::header("bad header", SecretString::from("x")).is_err());
    let debug = format!("{receiver:?}");
    assert!(
        !debug.contains("vt-9") && !debug.contains("\"tok\""),
        "{debug}"
    );
}

#[test]
fn every_typed_payload_parses() {
    let purchase = WebhookEvent::parse(&payload("purchase_invoice_authorised.json")).unwrap();
    match &purchase {
        WebhookEvent::PurchaseTask(e) => {
            assert_eq!(e.event_type, WebhookType::PurchaseInvoiceAuthorised);
            let lower: Guid = "8b1538e4-5a4c-4b1a-9c42-6c3de21a5b10".parse().unwrap();
            assert_eq!(e.task_id, lower);
            assert_eq!(e.invoice_number.as_deref(), Some("SUP-INV-778"));
        }
        other => panic!("{other:?}"),
    }
    match WebhookEvent::parse(&payload("purchase_updated.json")).unwrap() {
        WebhookEvent::PurchaseUpdated(e) => {
            assert_eq!(e.purchases[0].order_number.as_deref(), Some("PO-00103"));
            assert_eq!(e.number_of_purchase, Some(Decimal::ONE));
        }
        other => panic!("{other:?}"),
    }
    match WebhookEvent::parse(&payload("supplier_updated.json")).unwrap() {
        WebhookEvent::SupplierUpdated(e) => {
            let d = &e.supplier_details_list[0];
            assert_eq!(d.supplier.name, "Acme Fasteners Ltd");
            assert_eq!(d.contacts[0].default, Some(true));
            assert!(d.supplier.last_modified_on.is_some(), "date-only accepted");
        }
        other => panic!("{other:?}"),
    }
    match WebhookEvent::parse(&payload("customer_updated.json")).unwrap() {
        WebhookEvent::CustomerUpdated(e) => {
            assert_eq!(
                e.customers[0].customer.credit_limit,
                Some(Decimal::new(500, 0))
            )
        }
        other => panic!("{other:?}"),
    }
    match WebhookEvent::parse(&payload("product_updated.json")).unwrap() {
        WebhookEvent::ProductUpdated(e) => assert_eq!(e.products[0].sku, "Bread"),
        other => panic!("{other:?}"),
    }
    match WebhookEvent::parse(&payload("sale_invoice_authorised.json")).unwrap() {
        WebhookEvent::Sale(e) => {
            assert_eq!(e.event_type, WebhookType::SaleInvoiceAuthorised);
            assert_eq!(
                e.document_date,
                chrono::NaiveDate::from_ymd_opt(2018, 1, 29)
            );
            assert_eq!(e.due_date, chrono::NaiveDate::from_ymd_opt(2021, 6, 8));
            assert_eq!(e.customer.as_deref(), Some("Harbour Cafe"));
        }
        other => panic!("{other:?}"),
    }
    match WebhookEvent::parse(&payload("stock_levels.json")).unwrap() {
        WebhookEvent::StockLevels(rows) => {
            assert_eq!(rows.len(), 2);
            assert_eq!(rows[0].available, Some(Decimal::new(12, 0)));
            assert_eq!(rows[1].available, Some(Decimal::ZERO));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        purchase.event_type(),
        WebhookType::PurchaseInvoiceAuthorised
    );
    // A documented CRM event is accepted untyped.
    let lead = WebhookEvent::parse(br#"{"LeadID":"x","EventType":"Lead/Updated"}"#).unwrap();
    assert!(matches!(
        lead,
        WebhookEvent::Untyped {
            event_type: WebhookType::LeadUpdated,
            ..
        }
    ));
}

/// The event `body` parses to, which must be a purchase task event.
fn purchase_task(body: &[u8]) -> PurchaseTaskEvent {
    match WebhookEvent::parse(body).unwrap() {
        WebhookEvent::PurchaseTask(e) => e,
        other => panic!("{other:?}"),
    }
}

/// The event type and path of the `Malformed` refusal `body` must get.
fn malformed_at(body: &[u8]) -> (String, String) {
    match WebhookEvent::parse(body).unwrap_err() {
        WebhookError::Malformed {
            event_type, path, ..
        } => (event_type, path),
        other => panic!("{other:?}"),
    }
}

#[test]
fn purchase_payload_dates_are_calendar_dates() {
    let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
    let e = purchase_task(&payload("purchase_invoice_authorised_dated.json"));
    // dd/MM/yyyy, not MM/dd: 08/06/2021 is the 8th of June.
    assert_eq!(
        (e.invoice_date, e.due_date),
        (date(2018, 1, 29), date(2021, 6, 8))
    );
    assert!(!e.other_fields.contains_key("InvoiceDate"));
    // Without dates (the documented payload) both are absent, not an error.
    let e = purchase_task(&payload("purchase_invoice_authorised.json"));
    assert_eq!((e.invoice_date, e.due_date), (None, None));
    match WebhookEvent::parse(&payload("purchase_updated_dated.json")).unwrap() {
        WebhookEvent::PurchaseUpdated(e) => {
            assert_eq!(e.purchases[0].invoice_date, date(2025, 10, 27));
            assert_eq!(e.purchases[0].due_date, date(2025, 11, 26));
        }
        other => panic!("{other:?}"),
    }
    // ISO forms are read too, and an empty string is no date.
    let e = purchase_task(
        br#"{"TaskID":"8b1538e4-5a4c-4b1a-9c42-6c3de21a5b10","InvoiceDate":"2025-10-27T00:00:00","DueDate":"","EventType":"Purchase/InvoiceAuthorised"}"#,
    );
    assert_eq!((e.invoice_date, e.due_date), (date(2025, 10, 27), None));
}

#[test]
fn a_malformed_purchase_date_is_refused_naming_the_field_and_the_text() {
    let bad = payload("purchase_invoice_authorised_bad_date.json");
    assert_eq!(
        malformed_at(&bad),
        ("Purchase/InvoiceAuthorised".into(), "InvoiceDate".into())
    );
    let error = WebhookEvent::parse(&bad).unwrap_err();
    assert!(
        sdk_common::report::chain(&error).contains(r#"invalid date: "31/02/2018""#),
        "{error}"
    );
    let row = br#"{"CustomerDetailsList":[{"ID":"5a7fb526-527a-4229-b331-90b6f5535aab","InvoiceDueDate":"13/13/2025"}],"EventType":"Purchase/Updated"}"#;
    assert_eq!(malformed_at(row).1, "CustomerDetailsList[0].InvoiceDueDate");
}

#[test]
fn unknown_and_malformed_payloads_are_rejected_clearly() {
    let unknown =
        WebhookEvent::parse(br#"{"TaskID":"x","EventType":"Purchase/Exploded"}"#).unwrap_err();
    assert!(
        matches!(&unknown, WebhookError::UnknownEvent { event_type } if event_type == "Purchase/Exploded")
    );
    assert!(matches!(
        WebhookEvent::parse(br#"{"TaskID":"5a7fb526-527a-4229-b331-90b6f5535aab"}"#),
        Err(WebhookError::MissingEventType)
    ));
    assert!(matches!(
        WebhookEvent::parse(b"<html>nope</html>"),
        Err(WebhookError::NotJson { .. })
    ));
    // Trailing commas, as in some documented examples, are not JSON.
    assert!(matches!(
        WebhookEvent::parse(br#"{"TaskID":"5a7fb526-527a-4229-b331-90b6f5535aab","EventType":"Purchase/OrderAuthorised",}"#),
        Err(WebhookError::NotJson { .. })
    ));
    assert_eq!(
        malformed_at(br#"{"TaskID":"not-a-guid","EventType":"Purchase/OrderAuthorised"}"#),
        ("Purchase/OrderAuthorised".into(), "TaskID".into())
    );
    // Two event types (or two task ids) in one delivery: refused, naming the key.
    let twice = WebhookEvent::parse(
        br#"{"TaskID":"5a7fb526-527a-4229-b331-90b6f5535aab","EventType":"Purchase/OrderAuthorised","EventType":"Sale/Voided"}"#,
    )
    .unwrap_err();
    assert!(matches!(twice, WebhookError::NotJson { .. }), "{twice:?}");
    assert!(
        sdk_common::report::chain(&twice).contains(": duplicate key `EventType`"),
        "{twice}"
    );
    let missing_id = WebhookEvent::parse(br#"{"EventType":"Sale/Voided"}"#).unwrap_err();
    assert!(matches!(missing_id, WebhookError::Malformed { .. }));
    let bad_array = WebhookEvent::parse(
        br#"[{"ProductID":"11510572-0f9e-4d7c-a203-7e0563c3388f","Available":"lots"}]"#,
    )
    .unwrap_err();
    assert!(matches!(&bad_array, WebhookError::Malformed { path, .. } if path == "[0].Available"));
    let wrong_array = WebhookEvent::parse(
        br#"[{"ProductID":"11510572-0f9e-4d7c-a203-7e0563c3388f","EventType":"Sale/Voided"}]"#,
    )
    .unwrap_err();
    assert!(matches!(wrong_array, WebhookError::UnknownEvent { .. }));
    // Into the crate error.
    let err: cin7_core_client::Error = unknown.into();
    assert!(err.to_string().contains("Purchase/Exploded"));
}

#[tokio::test]
async fn subscriptions_are_listed_created_updated_and_deleted() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let list = with_auth(server.mock("GET", "/webhooks"), &account)
        .with_body(fixture("webhooks.json"))
        .expect(1)
        .create();
    let create = server
        .mock("POST", "/webhooks")
        .match_body(Matcher::Json(json!({
            "Type": "Purchase/OrderAuthorised",
            "IsActive": true,
            "ExternalURL": "https://hooks.example.invalid/cin7",
            "ExternalAuthorizationType": "noauth",
            "ExternalHeaders": [{"Key": "verification-token", "Value": "header-token-SECRET-2"}]
        })))
        .with_body(fixture("webhooks.json"))
        .expect(1)
        .create();
    let update = server
        .mock("PUT", "/webhooks")
        .match_body(Matcher::PartialJson(json!({
            "ID": "b48ceb52-e4ac-40e0-b549-4e046da1541e",
            "IsActive": true,
            "ExternalBearerToken": "bearer-token-SECRET-1"
        })))
        .with_body(fixture("webhooks.json"))
        .expect(1)
        .create();
    let delete = server
        .mock("DELETE", "/webhooks")
        .match_query(Matcher::UrlEncoded(
            "ID".into(),
            "b48ceb52-e4ac-40e0-b549-4e046da1541e".into(),
        ))
        .with_body(r#"{"Webhooks":[]}"#)
        .expect(1)
        .create();
    let rest = catch_all(&mut server);

    let hooks = client.webhooks().list().await.unwrap();
    assert_eq!(hooks.len(), 2);
    assert_eq!(
        hooks[0].webhook_type,
        Some(WebhookType::PurchaseOrderAuthorised)
    );
    assert_eq!(
        hooks[0].external_authorization_type,
        Some(AuthorizationType::BearerAuth)
    );
    assert_eq!(
        hooks[0]
            .external_bearer_token
            .as_ref()
            .unwrap()
            .expose_secret(),
        "bearer-token-SECRET-1"
    );
    let debug = format!("{hooks:?}");
    assert!(!debug.contains("SECRET"), "secrets in Debug: {debug}");

    let new = Webhook {
        webhook_type: Some(WebhookType::PurchaseOrderAuthorised),
        is_active: Some(true),
        external_url: "https://hooks.example.invalid/cin7".into(),
        external_authorization_type: Some(AuthorizationType::NoAuth),
        external_headers: vec![ExternalHeader {
            key: "verification-token".into(),
            value: SecretString::from("header-token-SECRET-2"),
        }],
        ..Default::default()
    };
    client.webhooks().create(&new).await.unwrap();

    // Watchdog: re-enable an inactive hook.
    let mut inactive = hooks[0].clone();
    inactive.is_active = Some(true);
    client.webhooks().update(&inactive).await.unwrap();
    client
        .webhooks()
        .delete(hooks[0].id.as_ref().unwrap())
        .await
        .unwrap();

    // Validation before sending.
    let bearer_without_token = Webhook {
        external_authorization_type: Some(AuthorizationType::BearerAuth),
        ..new.clone()
    };
    assert!(
        client
            .webhooks()
            .create(&bearer_without_token)
            .await
            .is_err()
    );
    let bad_url = Webhook {
        external_url: "not a url".into(),
        ..new
    };
    assert!(client.webhooks().create(&bad_url).await.is_err());

    list.assert();
    create.assert();
    update.assert();
    delete.assert();
    assert_catch_all(&rest);
}
