//! The ION/CloudSuite simulator, driven through the real client: tokens over a long simulated
//! run, paging thousands of rows, incremental polling after mutations, filters, M3, Data Lake,
//! IMS, and faults (deterministic under a seed).
#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::bod::{Bod, PurchaseOrder, ReceiveDelivery};
use infor_ion_client::csi::nouns::{PoLine, Vendor};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig};
use infor_ion_client::{Error, IonClient, IonRequest};
use sync_core::faults::{Fault, FaultPlan};
use sync_core::retry::{Delivery, RetryPolicy};
use sync_core::time::{Clock, ManualClock};

fn config(clock: &ManualClock, seed: Seed) -> SimulatorConfig {
    SimulatorConfig {
        seed,
        clock: clock.shared(),
        ..SimulatorConfig::default()
    }
}

fn client(sim: &IonSimulator) -> IonClient {
    sim.client_builder()
        .unwrap()
        .retry_policy(
            RetryPolicy::default()
                .with_max_retries(4)
                .with_delays(Duration::from_millis(100), Duration::from_secs(5))
                .with_jitter(false),
        )
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn small() -> Seed {
    Seed {
        suppliers: 30,
        purchase_orders: 12,
        lines_per_order: 2,
        invoices: 6,
        ..Seed::default()
    }
}

#[tokio::test]
async fn tokens_refresh_over_a_long_simulated_run() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(SimulatorConfig {
        token_lifetime: Duration::from_secs(300),
        ..config(&clock, small())
    })
    .await
    .unwrap();
    let client = client(&sim);
    let csi = client.csi(sim.mongoose_config());
    // 100 calls, one simulated minute apart: 6000 s of a 300 s token.
    for _ in 0..100 {
        csi.load("SLCharts").record_cap(1).page(None).await.unwrap();
        clock.advance(Duration::from_secs(60));
    }
    // Refreshed at lifetime - min(60 s, lifetime / 4) = 240 s: every fourth minute.
    let issued = sim.tokens_issued();
    assert!((24..=27).contains(&issued), "issued {issued} tokens");
    assert_eq!(client.tokens().token_requests(), issued);
    assert_eq!(
        sim.calls()["GET /load/SLCharts"],
        100,
        "no call was retried after a 401"
    );
}

#[tokio::test]
async fn wrong_credentials_get_rfc6749_errors() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(config(&clock, small())).await.unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&sim.ionapi_json()).unwrap();
    json["cs"] = "wrong-secret".into();
    let file = infor_ion_client::IonApiFile::from_json_str(&json.to_string()).unwrap();
    let err = IonClient::builder(file)
        .clock(clock.shared())
        .build()
        .unwrap()
        .tokens()
        .access_token()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TokenRejected { ref error, status: 401, .. } if error == "invalid_client"),
        "{err:?}"
    );

    let mut json: serde_json::Value = serde_json::from_str(&sim.ionapi_json()).unwrap();
    json["sask"] = "wrong-service-secret".into();
    let file = infor_ion_client::IonApiFile::from_json_str(&json.to_string()).unwrap();
    let client = IonClient::builder(file)
        .clock(clock.shared())
        .auth(AuthConfig::default().client_auth(infor_ion_client::auth::ClientAuth::Basic))
        .build()
        .unwrap();
    let err = client.tokens().access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::TokenRejected { ref error, .. } if error == "invalid_grant"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_token_revoked_mid_run_is_renewed_by_the_401_rule() {
    let clock = ManualClock::default();
    let plan = Arc::new(FaultPlan::none());
    let sim = IonSimulator::start(SimulatorConfig {
        faults: plan.clone(),
        ..config(&clock, small())
    })
    .await
    .unwrap();
    let client = client(&sim);
    let csi = client.csi(sim.mongoose_config());
    csi.load("SLVendors").page(None).await.unwrap();
    sim.revoke_all_tokens();
    csi.load("SLVendors").page(None).await.unwrap();
    // And again through the fault plan: the fault revokes, then the call itself gets 401.
    plan.push_script("GET /load/SLItems", Fault::RevokeTokens);
    csi.load("SLItems").page(None).await.unwrap();
    assert_eq!(sim.tokens_issued(), 3);
    // Revocation at the revoke endpoint.
    client.revoke().await.unwrap();
    assert_eq!(sim.calls()["POST /revoke"], 1);
}

#[tokio::test]
async fn thousands_of_rows_page_through_bookmarks() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(config(
        &clock,
        Seed {
            suppliers: 2500,
            purchase_orders: 0,
            invoices: 0,
            payments: 0,
            ..Seed::default()
        },
    ))
    .await
    .unwrap();
    let client = client(&sim);
    let vendors: Vec<Vendor> = client
        .csi(sim.mongoose_config())
        .poll::<Vendor>()
        .page_size(200)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(vendors.len(), 2500);
    let mut ids: Vec<_> = vendors.iter().map(|v| v.vend_num.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2500, "no row twice");
    // Ordered by RecordDate then key, as asked.
    assert!(
        vendors
            .windows(2)
            .all(|w| (w[0].modified_at, &w[0].vend_num) <= (w[1].modified_at, &w[1].vend_num))
    );
    assert_eq!(
        sim.calls()["GET /load/SLVendors"],
        13,
        "ceil(2500 / 200) pages"
    );
}

#[tokio::test]
async fn incremental_polls_see_changes_and_new_rows() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(config(&clock, small())).await.unwrap();
    let client = client(&sim);
    let csi = client.csi(sim.mongoose_config());
    let cursor = clock.now() + chrono::Duration::days(365);
    clock.set(cursor + chrono::Duration::hours(1));
    {
        let mut data = sim.data();
        assert!(data.update(
            "SLVendors",
            &["V000007"],
            &[("Name", Some("Renamed Ltd"))],
            sim.now()
        ));
        let mut row = data.find("SLVendors", &["V000001"]).unwrap().values.clone();
        row.insert("VendNum".into(), Some("V999999".into()));
        row.insert(
            "RecordDate".into(),
            Some(infor_ion_client::simulator::ido_datetime(sim.now())),
        );
        data.upsert("SLVendors", row);
    }
    let changed: Vec<Vendor> = csi
        .poll::<Vendor>()
        .modified_since(cursor)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = changed.iter().map(|v| v.vend_num.as_str()).collect();
    assert_eq!(ids, ["V000007", "V999999"]);
    assert_eq!(changed[0].name.as_deref(), Some("Renamed Ltd"));
    // A row stamped exactly at the cursor is included (inclusive window).
    let exact: Vec<Vendor> = csi
        .poll::<Vendor>()
        .modified_since(clock.now())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(exact.len(), 2);
}

#[tokio::test]
async fn the_server_refuses_what_a_real_one_would() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(config(&clock, small())).await.unwrap();
    let client = client(&sim);
    let bad_filter = IonRequest::get("CSI/IDORequestService/ido/load/SLVendors")
        .query("filter", "Name LIKE N'Acme%'")
        .header("X-Infor-MongooseConfig", sim.mongoose_config());
    let body: serde_json::Value = client.send_json(bad_filter).await.unwrap();
    assert_eq!(body["Success"], false);
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid filter")
    );

    let wrong_config = client
        .csi("OTHER_CONFIG")
        .load("SLVendors")
        .page(None)
        .await
        .unwrap_err();
    assert!(
        matches!(wrong_config, Error::IdoFailed { .. }),
        "{wrong_config:?}"
    );
    let unknown_property = client
        .csi(sim.mongoose_config())
        .load("SLVendors")
        .properties(["VendNum", "Bogus"])
        .page(None)
        .await
        .unwrap_err();
    assert!(
        unknown_property
            .to_string()
            .contains("Property 'Bogus' is not a valid property of IDO 'SLVendors'"),
        "{unknown_property}"
    );
    let unknown_ido = client
        .csi(sim.mongoose_config())
        .load("SLNothing")
        .page(None)
        .await
        .unwrap_err();
    assert!(matches!(unknown_ido, Error::IdoFailed { .. }));
}

#[tokio::test]
async fn lines_are_found_with_the_in_filter() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(config(&clock, small())).await.unwrap();
    let client = client(&sim);
    let lines: Vec<PoLine> = client
        .csi(sim.mongoose_config())
        .poll::<PoLine>()
        .filter(infor_ion_client::csi::Filter::is_in("PoNum", ["PO0000001", "PO0000002"]).unwrap())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(lines.len(), 4);
}

#[tokio::test]
async fn throttling_is_recovered_with_retry_after_on_the_manual_clock() {
    let clock = ManualClock::default();
    let plan = Arc::new(
        FaultPlan::none()
            .script(
                "GET /load/SLVendors",
                Fault::Status {
                    status: 429,
                    retry_after: Some(Duration::from_secs(2)),
                },
            )
            .script(
                "GET /load/SLVendors",
                Fault::Status {
                    status: 503,
                    retry_after: None,
                },
            ),
    );
    let sim = IonSimulator::start(SimulatorConfig {
        faults: plan.clone(),
        ..config(&clock, small())
    })
    .await
    .unwrap();
    let client = client(&sim);
    let page = client
        .csi(sim.mongoose_config())
        .load("SLVendors")
        .page(None)
        .await
        .unwrap();
    assert!(!page.items.is_empty());
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_secs(2), Duration::from_millis(200)]
    );
    assert_eq!(plan.injected().get("status_429"), Some(&1));
    assert_eq!(plan.injected().get("status_503"), Some(&1));
}

#[tokio::test]
async fn html_and_malformed_answers_are_clear_errors_or_read_again() {
    let clock = ManualClock::default();
    let plan = Arc::new(
        FaultPlan::none()
            .script("GET /load/SLVendors", Fault::HtmlOk)
            .script("GET /load/SLVendors", Fault::MalformedBody)
            .script("GET /load/SLVendors", Fault::ApplicationError),
    );
    let sim = IonSimulator::start(SimulatorConfig {
        faults: plan.clone(),
        ..config(&clock, small())
    })
    .await
    .unwrap();
    // Without bad-answer retries each surfaces as a typed error.
    let strict = sim
        .client_builder()
        .unwrap()
        .max_bad_answer_retries(0)
        .build()
        .unwrap();
    let csi = strict.csi(sim.mongoose_config());
    let err = csi.load("SLVendors").page(None).await.unwrap_err();
    assert!(matches!(err, Error::UnexpectedBody { .. }), "{err:?}");
    let err = csi.load("SLVendors").page(None).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let err = csi.load("SLVendors").page(None).await.unwrap_err();
    assert!(matches!(err, Error::IdoFailed { .. }), "{err:?}");

    // By default a read asks again after the HTML page and the cut body; the IDO's own
    // `Success: false` is an answer, final at once.
    plan.push_script("GET /load/SLVendors", Fault::HtmlOk);
    plan.push_script("GET /load/SLVendors", Fault::MalformedBody);
    plan.push_script("GET /load/SLVendors", Fault::ApplicationError);
    let client = client(&sim);
    let csi = client.csi(sim.mongoose_config());
    let err = csi.load("SLVendors").page(None).await.unwrap_err();
    assert!(matches!(err, Error::IdoFailed { .. }), "{err:?}");
    assert_eq!(plan.injected().get("html_ok"), Some(&2));
    assert!(
        !csi.load("SLVendors")
            .page(None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn faults_by_probability_are_deterministic_under_a_seed() {
    async fn run(seed: u64) -> (Vec<bool>, std::collections::BTreeMap<String, u64>) {
        let clock = ManualClock::default();
        let plan = Arc::new(FaultPlan::seeded(seed).rule(
            Some("GET /load/SLCharts"),
            0.3,
            Fault::Status {
                status: 502,
                retry_after: None,
            },
        ));
        let sim = IonSimulator::start(SimulatorConfig {
            faults: plan.clone(),
            ..config(&clock, small())
        })
        .await
        .unwrap();
        let client = sim
            .client_builder()
            .unwrap()
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let csi = client.csi(sim.mongoose_config());
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            outcomes.push(csi.load("SLCharts").page(None).await.is_ok());
        }
        (outcomes, plan.injected())
    }
    let (a, injected) = run(11).await;
    let (b, _) = run(11).await;
    let (c, _) = run(12).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    let failed = a.iter().filter(|ok| !**ok).count() as u64;
    assert_eq!(injected.get("status_502"), Some(&failed));
    assert!((4..=20).contains(&failed), "about 30% of 40: {failed}");
}

#[tokio::test]
async fn m3_lists_page_by_key_and_refuse_missing_inputs() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(config(
        &clock,
        Seed {
            suppliers: 250,
            ..small()
        },
    ))
    .await
    .unwrap();
    let client = client(&sim);
    let m3 = client.m3().company("100");
    let suppliers: Vec<infor_ion_client::m3::nouns::Supplier> =
        m3.list(Vec::new(), 100).try_collect().await.unwrap();
    assert_eq!(suppliers.len(), 250);
    assert_eq!(suppliers[0].supplier, "V000001", "padding trimmed");
    // 100, 99 new, 51 new, then a call that adds nothing ends the list.
    assert_eq!(sim.calls()["GET /m3/CRS620MI/LstSuppliers"], 4);
    let err = m3
        .execute(infor_ion_client::m3::MiCall::new(
            "CRS630MI",
            "LstAccountID",
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("(field AITP)"), "{err}");
    let accounts: Vec<infor_ion_client::m3::nouns::GlAccount> = m3
        .list(vec![("AITP".into(), "1".into())], 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(accounts.len(), infor_ion_client::simulator::CHART.len());
}

#[tokio::test]
async fn the_data_lake_serves_bods_of_the_same_rows() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(config(&clock, small())).await.unwrap();
    let client = client(&sim);
    let lake = client.data_lake();
    let refs: Vec<_> = lake
        .list("SyncPurchaseOrder", None, 5)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(refs.len(), 12);
    let bod = lake
        .fetch_bod::<PurchaseOrder>(&refs[0].dl_id)
        .await
        .unwrap();
    let id = &bod.nouns[0].header.document_id.id;
    assert_eq!(id.variation_id, Some(1));
    assert_eq!(bod.nouns[0].lines.len(), 2);
    // A change publishes a newer variation.
    let po = id.value.clone();
    assert!(sim.data().touch(
        "SLPos",
        &[po.as_str()],
        sim.now() + chrono::Duration::days(400)
    ));
    let since = sim.now() + chrono::Duration::days(399);
    let newer: Vec<_> = lake
        .list("SyncPurchaseOrder", Some(since), 5)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(newer.len(), 1);
    let bod = lake
        .fetch_bod::<PurchaseOrder>(&newer[0].dl_id)
        .await
        .unwrap();
    assert_eq!(bod.nouns[0].header.document_id.id.variation_id, Some(2));
}

#[tokio::test]
async fn ims_keeps_messages_and_a_reset_after_apply_leaves_the_client_unsure() {
    let clock = ManualClock::default();
    let plan = Arc::new(FaultPlan::none().script("POST /ims", Fault::ResetAfterApply));
    let sim = IonSimulator::start(SimulatorConfig {
        faults: plan,
        ..config(&clock, small())
    })
    .await
    .unwrap();
    let client = sim
        .client_builder()
        .unwrap()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let bod = Bod::<ReceiveDelivery>::from_str(include_str!(
        "../fixtures/bod/process_receive_delivery.xml"
    ))
    .unwrap();
    let ims = client.ims("lid://infor.ims.sync");
    let err = ims.send(&bod).await.unwrap_err();
    assert_eq!(err.delivery(), Delivery::Unknown, "{err:?}");
    assert_eq!(
        sim.ims_messages().len(),
        1,
        "the message landed although the client saw no answer"
    );
    ims.send(&bod).await.unwrap();
    let messages = sim.ims_messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[1].parameters["documentName"],
        "ProcessReceiveDelivery"
    );
    assert_eq!(
        Bod::<ReceiveDelivery>::from_slice(&messages[1].payload).unwrap(),
        bod
    );
}

#[tokio::test]
async fn the_ionapi_file_written_to_disk_works() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(config(&clock, small())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.ionapi");
    sim.write_ionapi(&path).unwrap();
    let file = infor_ion_client::IonApiFile::from_path(&path).unwrap();
    let client = IonClient::builder(file)
        .clock(clock.shared())
        .build()
        .unwrap();
    assert!(client.tokens().access_token().await.is_ok());
    sim.shutdown().await;
}

#[cfg(feature = "sync")]
#[tokio::test]
async fn the_cloudsuite_source_reads_every_seeded_record() {
    use infor_ion_client::cloudsuite::CloudSuiteSource;
    use sync_core::model::{GlAccount, PurchaseOrder, Supplier, SupplierInvoice};
    use sync_core::source::{Source, Window};

    let clock = ManualClock::default();
    let seed = Seed {
        suppliers: 450,
        purchase_orders: 230,
        lines_per_order: 3,
        invoices: 120,
        ..Seed::default()
    };
    let sim = IonSimulator::start(config(&clock, seed.clone()))
        .await
        .unwrap();
    let client = client(&sim);
    let source = CloudSuiteSource::csi(client.csi(sim.mongoose_config()), "MAIN");
    let all = Window {
        from: None,
        ceiling: clock.now() + chrono::Duration::days(3650),
    };
    let suppliers: Vec<Supplier> = Source::<Supplier>::poll(&source, all)
        .try_collect()
        .await
        .unwrap();
    let orders: Vec<PurchaseOrder> = Source::<PurchaseOrder>::poll(&source, all)
        .try_collect()
        .await
        .unwrap();
    let invoices: Vec<SupplierInvoice> = Source::<SupplierInvoice>::poll(&source, all)
        .try_collect()
        .await
        .unwrap();
    let accounts: Vec<GlAccount> = Source::<GlAccount>::poll(&source, all)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(suppliers.len(), 450);
    assert_eq!(orders.len(), 230);
    assert!(orders.iter().all(|o| o.lines.len() == 3));
    assert_eq!(invoices.len(), 120);
    assert!(invoices.iter().all(|i| i.lines.len() == 2));
    assert_eq!(accounts.len(), infor_ion_client::simulator::CHART.len());
    // Lines were fetched per page of heads in IN-lists of at most 100 (pages of 200 and 30:
    // 2 + 1 calls), not once per order; plus the one-row read that proved the IDO readable,
    // after its schema was read once.
    assert_eq!(sim.calls()["GET /load/SLPoItems"], 3 + 1);
    assert_eq!(sim.calls()["GET /info/SLPoItems"], 1);
    let at = Source::<Supplier>::server_time(&source).await.unwrap();
    assert_eq!(at.timestamp(), clock.now().timestamp());
}
