//! ION push intake (issue 20 item 1): BODs ION's Messaging Service pushes are authenticated,
//! queued durably before the answer, and fed through the same supplier pipeline as polling —
//! the record read again from the CloudSuite source — once; a repeated or stale push writes
//! nothing; an unreadable message is kept and answered 2xx; strangers and oversized messages
//! are refused before anything is stored. The pushed BODs are the simulator's own
//! `SyncSupplierPartyMaster` documents, as ION publishes them to the Data Lake.
#![cfg(all(feature = "ims-receiver", feature = "simulator"))]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use futures::TryStreamExt;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::cloudsuite::bods::BodContext;
use infor_ion_client::cloudsuite::push::{MESSAGE_STREAM, PushIntake, PushLimits, push_router};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig};
use sdk_common::listener::HeaderSecret;
use sync_core::engine::EngineConfig;
use sync_core::engine::StreamRunner;
use sync_core::engine::queue::push_queue;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::error::MappingKind;
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::Supplier;
use sync_core::runner::TenantRunner;
use sync_core::source::Source;
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditQuery, AuditStatus, AuditStore, StreamId};
use sync_core::testing::MemorySupplierTarget;
use sync_core::time::ManualClock;
use tokio::sync::Notify;

const AUTH: &str = "Basic aW9uOnB1c2gtc2VjcmV0"; // ion:push-secret

struct Setup {
    sim: IonSimulator,
    store: Arc<MemoryStore>,
    target: Arc<MemorySupplierTarget>,
    runner: TenantRunner,
    intake: Arc<PushIntake>,
    url: String,
    wake: Arc<Notify>,
    http: reqwest::Client,
}

async fn setup(limits: PushLimits) -> Setup {
    setup_with(limits, None).await
}

/// [`setup`] with the intake queueing only for `streams`.
async fn setup_with(limits: PushLimits, streams: Option<Vec<StreamId>>) -> Setup {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(SimulatorConfig {
        seed: Seed {
            suppliers: 5,
            purchase_orders: 0,
            invoices: 0,
            payments: 0,
            ..Seed::default()
        },
        clock: clock.shared(),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let client = sim.client_builder().unwrap().build().unwrap();
    let source = Arc::new(CloudSuiteSource::csi(
        client.csi(sim.mongoose_config()),
        "MAIN",
    ));
    let store = Arc::new(MemoryStore::new());
    let target = Arc::new(MemorySupplierTarget::new());
    let mappings = Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::PaymentTerm, "N45", "45 days")
            .with(MappingKind::PaymentTerm, "N60", "60 days")
            .with(MappingKind::TaxRule, "TX", "Tax on Purchases"),
    );
    let pipeline = Arc::new(SupplierPipeline::new(target.clone(), mappings));
    let supplier_source: Arc<dyn Source<Supplier>> = source;
    let wake = Arc::new(Notify::new());
    let runner = TenantRunner::new(sim.tenant(), store.clone(), clock.shared())
        .with_suppliers(StreamRunner::new(
            pipeline,
            supplier_source,
            EngineConfig::default(),
        ))
        .with_pushes()
        .with_wake(wake.clone());
    let intake = PushIntake::new(
        HeaderSecret::new("Authorization", AUTH.into()).unwrap(),
        store.clone(),
        BodContext::new(sim.tenant(), "MAIN"),
        clock.shared(),
        wake.clone(),
    )
    .with_limits(limits);
    let intake = Arc::new(match streams {
        Some(streams) => intake.only_streams(streams),
        None => intake,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ion", listener.local_addr().unwrap());
    let app = axum::Router::new().nest("/ion", push_router(intake.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Setup {
        sim,
        store,
        target,
        runner,
        intake,
        url,
        wake,
        http: reqwest::Client::new(),
    }
}

impl Setup {
    /// The simulator's published `SyncSupplierPartyMaster` BODs, oldest first.
    async fn published_suppliers(&self) -> Vec<bytes::Bytes> {
        let client = self.sim.client_builder().unwrap().build().unwrap();
        let lake = client.data_lake();
        let refs: Vec<_> = lake
            .list("SyncSupplierPartyMaster", None, 100)
            .try_collect()
            .await
            .unwrap();
        let mut out = Vec::new();
        for r in refs {
            out.push(lake.fetch(&r.dl_id).await.unwrap());
        }
        out
    }

    async fn push(&self, auth: Option<&str>, parameters: &str, payload: bytes::Bytes) -> u16 {
        let form = reqwest::multipart::Form::new()
            .part(
                "ParameterRequest",
                reqwest::multipart::Part::text(parameters.to_owned())
                    .mime_str("application/json")
                    .unwrap(),
            )
            .part(
                "MessagePayload",
                reqwest::multipart::Part::stream(payload).file_name("MessagePayload.xml"),
            );
        let mut request = self
            .http
            .post(format!("{}/service/v3/multipartMessage", self.url))
            .multipart(form);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send().await.unwrap().status().as_u16()
    }

    async fn queued(&self, stream: &StreamId) -> usize {
        self.store
            .query(
                &AuditQuery::tenant(self.sim.tenant().to_owned())
                    .stream(stream.clone())
                    .statuses(&[AuditStatus::Deferred]),
            )
            .await
            .unwrap()
            .len()
    }
}

fn parameters(document_id: &str, variation: u64) -> String {
    serde_json::json!({
        "documentName": "SyncSupplierPartyMaster",
        "fromLogicalId": "lid://infor.syteline.main",
        "toLogicalId": "lid://infor.ims.cin7sync",
        "encoding": "NONE",
        "characterSet": "UTF-8",
        "accountingEntity": "MAIN",
        "documentId": document_id,
        "variationId": variation,
    })
    .to_string()
}

/// The published BOD of vendor `vendor` (the newest, when it changed).
fn bod_of(published: &[bytes::Bytes], vendor: &str) -> bytes::Bytes {
    published
        .iter()
        .rev()
        .find(|b| String::from_utf8_lossy(b).contains(&format!(">{vendor}<")))
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_bod_reaches_the_target_once_and_a_repeated_or_stale_one_writes_nothing() {
    let s = setup(PushLimits::default()).await;
    let vendor = s.sim.data().rows("SLVendors")[0].values["VendNum"]
        .clone()
        .unwrap();
    let first = bod_of(&s.published_suppliers().await, &vendor);
    let queue = push_queue(&StreamId::suppliers());

    let woken = s.wake.notified();
    assert_eq!(
        s.push(Some(AUTH), &parameters(&vendor, 1), first.clone())
            .await,
        202
    );
    // Queued durably before the answer, and the runner woken.
    assert_eq!(s.queued(&queue).await, 1);
    tokio::time::timeout(std::time::Duration::from_secs(5), woken)
        .await
        .expect("the intake wakes the runner");
    let report = s.runner.run_triggers().await.unwrap();
    assert_eq!((report.triggers, report.purchases), (1, 1), "{report:?}");
    assert_eq!(s.target.suppliers().len(), 1, "written once");
    assert_eq!(s.queued(&queue).await, 0);

    // The same message again: the same variation is queued once.
    assert_eq!(
        s.push(Some(AUTH), &parameters(&vendor, 1), first.clone())
            .await,
        202
    );
    assert_eq!(s.queued(&queue).await, 0);
    assert_eq!(s.intake.stats().duplicates, 1);

    // Renamed in CloudSuite: the new variation's push carries the rename to the target.
    let now = s.sim.now();
    assert!(s.sim.data().update(
        "SLVendors",
        &[vendor.as_str()],
        &[("Name", Some("Renamed Trading"))],
        now
    ));
    let renamed = bod_of(&s.published_suppliers().await, &vendor);
    assert_ne!(renamed, first);
    assert_eq!(
        s.push(Some(AUTH), &parameters(&vendor, 2), renamed).await,
        202
    );
    s.runner.run_triggers().await.unwrap();
    let names = |s: &Setup| -> Vec<String> {
        s.target
            .suppliers()
            .values()
            .map(|d| d.name.clone())
            .collect()
    };
    assert_eq!(names(&s), ["Renamed Trading"]);
    let calls = s.target.calls();

    // An older variation arriving late is read as the record is now: nothing written.
    let stale = String::from_utf8(first.to_vec()).unwrap().replacen(
        "variationID=\"1\"",
        "variationID=\"0\"",
        1,
    );
    assert!(stale.contains("variationID=\"0\""), "{stale}");
    assert_eq!(
        s.push(Some(AUTH), &parameters(&vendor, 0), stale.into())
            .await,
        202
    );
    let report = s.runner.run_triggers().await.unwrap();
    assert_eq!(report.triggers, 1, "{report:?}");
    assert_eq!(s.target.calls(), calls, "nothing written");
    assert_eq!(names(&s), ["Renamed Trading"]);

    // The audit trail has the supplier's rows in its own stream, as polling writes them.
    let rows = s
        .store
        .query(&AuditQuery::tenant(s.sim.tenant().to_owned()).stream(StreamId::suppliers()))
        .await
        .unwrap();
    let succeeded = rows
        .iter()
        .filter(|r| r.source.id == vendor && r.status == AuditStatus::Succeeded)
        .count();
    assert_eq!(succeeded, 2, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_message_is_kept_answered_2xx_and_its_named_record_still_synced() {
    let s = setup(PushLimits::default()).await;
    let vendor = {
        let data = s.sim.data();
        data.rows("SLVendors")[1].values["VendNum"].clone().unwrap()
    };
    let status = s
        .push(
            Some(AUTH),
            &parameters(&vendor, 7),
            bytes::Bytes::from_static(b"<SyncSupplierPartyMaster><DataArea>cut off"),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(s.intake.stats().unreadable, 1);
    let kept = s
        .store
        .query(
            &AuditQuery::tenant(s.sim.tenant().to_owned()).stream(StreamId(MESSAGE_STREAM.into())),
        )
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    let reason = kept[0].error.as_ref().unwrap().message.clone();
    assert!(reason.contains("the BOD cannot be read"), "{reason}");
    // The ParameterRequest named the supplier: it is synced anyway.
    let report = s.runner.run_triggers().await.unwrap();
    assert_eq!(report.purchases, 1, "{report:?}");
    assert_eq!(s.target.suppliers().len(), 1);

    // A document of another accounting entity is skipped, counted, and answered 2xx.
    let published = s.published_suppliers().await;
    let other = String::from_utf8(published[2].to_vec())
        .unwrap()
        .replace("\"MAIN\"", "\"OTHER\"")
        .replace(">MAIN<", ">OTHER<");
    let status = s
        .push(Some(AUTH), &parameters("x", 1), bytes::Bytes::from(other))
        .await;
    assert_eq!(status, 202);
    assert_eq!(s.intake.stats().other_entity, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_oversized_messages_are_refused_before_anything_is_stored() {
    let s = setup(PushLimits::default().with_max_body_bytes(4096)).await;
    let published = s.published_suppliers().await;
    assert_eq!(
        s.push(None, &parameters("V", 1), published[0].clone())
            .await,
        401
    );
    assert_eq!(
        s.push(
            Some("Basic d3Jvbmc="),
            &parameters("V", 1),
            published[0].clone()
        )
        .await,
        401
    );
    let large = bytes::Bytes::from(vec![b' '; 8192]);
    // (A message under the cap but over axum's 2 MiB multipart default is read: see
    // `a_bod_of_three_mib_is_read_whole`.)
    assert_eq!(s.push(Some(AUTH), &parameters("V", 1), large).await, 413);
    let stats = s.intake.stats();
    assert_eq!(
        (
            stats.refused_credentials,
            stats.refused_limits,
            stats.accepted
        ),
        (2, 1, 0)
    );
    let everything = s
        .store
        .query(&AuditQuery::tenant(s.sim.tenant().to_owned()))
        .await
        .unwrap();
    assert!(everything.is_empty(), "nothing stored: {everything:?}");
    // IMS's ping answers the authenticated caller only.
    let ping = |auth: Option<&'static str>| {
        let mut request = s.http.get(format!("{}/service/ping", s.url));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send()
    };
    assert_eq!(ping(Some(AUTH)).await.unwrap().status().as_u16(), 200);
    assert_eq!(ping(None).await.unwrap().status().as_u16(), 401);
}

/// A message above axum's 2 MiB multipart default but under the intake's 5 MiB cap is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bod_of_three_mib_is_read_whole() {
    let s = setup(PushLimits::default()).await;
    let published = s.published_suppliers().await;
    let padding = format!("<!--{}-->", "x".repeat(3 * 1024 * 1024));
    let large = String::from_utf8(published[0].to_vec()).unwrap().replacen(
        "<DataArea>",
        &format!("{padding}<DataArea>"),
        1,
    );
    assert!(large.len() > 3 * 1024 * 1024);
    assert_eq!(
        s.push(Some(AUTH), &parameters("x", 1), large.into()).await,
        202
    );
    let stats = s.intake.stats();
    assert_eq!((stats.unreadable, stats.queued), (0, 1), "{stats:?}");
}

/// Documents of a stream the runner does not sync are answered 2xx and counted, never left
/// queued with nobody to drain them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_of_a_stream_not_synced_is_counted_not_queued() {
    let s = setup_with(
        PushLimits::default(),
        Some(vec![StreamId::purchase_orders()]),
    )
    .await;
    let published = s.published_suppliers().await;
    assert_eq!(
        s.push(Some(AUTH), &parameters("x", 1), published[0].clone())
            .await,
        202
    );
    let stats = s.intake.stats();
    assert_eq!((stats.not_synced, stats.queued), (1, 0), "{stats:?}");
    assert_eq!(s.queued(&push_queue(&StreamId::suppliers())).await, 0);
}

/// A `Delete` BOD queues its record marked deleted, so the stream's delete policy applies when
/// the source no longer has it (see sync-core's runner tests for the policy itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_bod_queues_its_record_marked_deleted() {
    let s = setup(PushLimits::default()).await;
    let published = s.published_suppliers().await;
    let text = String::from_utf8(published[0].to_vec()).unwrap();
    let deleted = text
        .replace("actionCode=\"Add\"", "actionCode=\"Delete\"")
        .replace("actionCode=\"Replace\"", "actionCode=\"Delete\"");
    assert!(deleted.contains("actionCode=\"Delete\""), "{deleted}");
    assert_eq!(
        s.push(Some(AUTH), &parameters("x", 9), deleted.into())
            .await,
        202
    );
    let queued = s
        .store
        .query(
            &AuditQuery::tenant(s.sim.tenant().to_owned())
                .stream(push_queue(&StreamId::suppliers())),
        )
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].source_snapshot["deleted"], true);
}
