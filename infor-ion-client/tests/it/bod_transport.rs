//! BOD transport request shapes: IMS multipart send (201 and 202 accepted), Data Lake listing
//! with paging and fetch-by-id parsed with the hardened reader.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use common::*;
use futures::TryStreamExt;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::bod::{Bod, PurchaseOrder, ReceiveDelivery};
use infor_ion_client::transport::DataLake;
use infor_ion_client::{Error, IonClient};
use mockito::{Matcher, ServerGuard};
use serde_json::json;
use sync_core::time::ManualClock;

const PO_FIXTURE: &str = include_str!("../fixtures/bod/sync_purchase_order_m3.xml");
const RECEIPT_FIXTURE: &str = include_str!("../fixtures/bod/process_receive_delivery.xml");

async fn server() -> (ServerGuard, IonClient) {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("POST", "/ACME_TST/as/token.oauth2")
        .with_body(token_body(ACCESS_TOKEN, 3600, None))
        .create_async()
        .await;
    let client = client(
        &server.url(),
        &ManualClock::default(),
        AuthConfig::default(),
    );
    (server, client)
}

#[tokio::test]
async fn ims_send_is_a_multipart_with_parameters_and_payload() {
    for status in [201, 202] {
        let (mut server, client) = server().await;
        let body = Arc::new(Mutex::new(Vec::new()));
        let seen = body.clone();
        let mock = server
            .mock(
                "POST",
                "/ACME_TST/IONSERVICES/api/ion/messaging/service/v2/multipartMessage",
            )
            .match_header(
                "content-type",
                Matcher::Regex("^multipart/form-data; boundary=".into()),
            )
            .with_status(status)
            .with_body_from_request(move |request| {
                *seen.lock().unwrap() = request.body().unwrap().clone();
                Vec::new()
            })
            .expect(1)
            .create_async()
            .await;
        let bod = Bod::<ReceiveDelivery>::from_str(RECEIPT_FIXTURE).unwrap();
        let ims = client.ims("lid://infor.ims.cin7sync");
        ims.send(&bod).await.unwrap();
        mock.assert_async().await;

        let sent = String::from_utf8(body.lock().unwrap().clone()).unwrap();
        assert!(sent.contains("name=\"ParameterRequest\""), "{sent}");
        assert!(sent.contains("name=\"MessagePayload\""), "{sent}");
        let parameters = ims.parameters(&bod);
        assert_eq!(parameters.document_name, "ProcessReceiveDelivery");
        assert_eq!(parameters.from_logical_id, "lid://infor.ims.cin7sync");
        let json = serde_json::to_string(&parameters).unwrap();
        assert!(sent.contains(&json), "parameters part missing: {sent}");
        assert!(json.contains("\"documentName\":\"ProcessReceiveDelivery\""));
        assert!(json.contains("\"toLogicalId\":\"lid://default\""));
        // The payload part is the BOD, which parses back to the same document.
        let start = sent
            .find("<?xml")
            .or_else(|| sent.find("<ProcessReceiveDelivery"))
            .unwrap();
        let end =
            sent.rfind("</ProcessReceiveDelivery>").unwrap() + "</ProcessReceiveDelivery>".len();
        assert_eq!(
            Bod::<ReceiveDelivery>::from_str(&sent[start..end]).unwrap(),
            bod
        );
    }
}

#[tokio::test]
async fn ims_refusal_is_an_api_error() {
    let (mut server, client) = server().await;
    server
        .mock("POST", Matcher::Regex("multipartMessage".into()))
        .with_status(403)
        .with_body("fromLogicalId does not match the connection point")
        .create_async()
        .await;
    let bod = Bod::<ReceiveDelivery>::from_str(RECEIPT_FIXTURE).unwrap();
    let err = client
        .ims("lid://infor.ims.other")
        .send(&bod)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("fromLogicalId"));
}

#[tokio::test]
async fn data_lake_lists_pages_then_fetches_and_parses() {
    let (mut server, client) = server().await;
    let since = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    let filter =
        "dl_document_name eq 'SyncPurchaseOrder' and event_date ge '2026-02-01T00:00:00.000Z'";
    assert_eq!(DataLake::filter("SyncPurchaseOrder", Some(since)), filter);
    for (page, ids) in [(1, vec!["a", "b"]), (2, vec!["c"])] {
        let fields: Vec<_> = ids
            .iter()
            .map(|id| json!({"dl_id": id, "dl_document_name": "SyncPurchaseOrder", "event_date": "2026-02-02T00:00:00Z"}))
            .collect();
        server
            .mock("GET", "/ACME_TST/IONSERVICES/datalakeapi/v1/payloads/list")
            .match_query(Matcher::AllOf(vec![
                Matcher::UrlEncoded("filter".into(), filter.into()),
                Matcher::UrlEncoded("page".into(), page.to_string()),
                Matcher::UrlEncoded("records".into(), "2".into()),
            ]))
            .with_body(json!({"numFound": 3, "fields": fields}).to_string())
            .expect(1)
            .create_async()
            .await;
    }
    let fetch = server
        .mock(
            "GET",
            "/ACME_TST/IONSERVICES/datalakeapi/v1/payloads/streambyid",
        )
        .match_query(Matcher::UrlEncoded("datalakeId".into(), "c".into()))
        .with_header("content-type", "application/xml")
        .with_body(PO_FIXTURE)
        .expect(1)
        .create_async()
        .await;
    let lake = client.data_lake();
    let refs: Vec<_> = lake
        .list("SyncPurchaseOrder", Some(since), 2)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = refs.iter().map(|r| r.dl_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let bod = lake.fetch_bod::<PurchaseOrder>("c").await.unwrap();
    fetch.assert_async().await;
    assert_eq!(bod, Bod::<PurchaseOrder>::from_str(PO_FIXTURE).unwrap());
}

#[tokio::test]
async fn data_lake_repeated_page_and_hostile_payload() {
    let (mut server, client) = server().await;
    server
        .mock("GET", Matcher::Regex("payloads/list".into()))
        .match_query(Matcher::Any)
        .with_body(json!({"numFound": 10, "fields": [{"dl_id": "x"}, {"dl_id": "y"}]}).to_string())
        .create_async()
        .await;
    server
        .mock("GET", Matcher::Regex("streambyid".into()))
        .match_query(Matcher::Any)
        .with_body(
            r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><SyncPurchaseOrder/>"#,
        )
        .create_async()
        .await;
    let lake = client.data_lake();
    let result: Result<Vec<_>, _> = lake.list("SyncPurchaseOrder", None, 2).try_collect().await;
    assert!(
        matches!(result, Err(Error::PagingStuck { .. })),
        "{result:?}"
    );
    let err = lake.fetch_bod::<PurchaseOrder>("x").await.unwrap_err();
    assert!(matches!(err, Error::Bod(_)), "{err:?}");
}
