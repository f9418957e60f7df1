//! `RecordDate` in the site's zone (issue 16 item 4): a site whose SQL Server stamps local wall
//! times is polled with bounds written in its zone, in a literal form SQL Server reads the same
//! under every `DATEFORMAT`, and its rows' times are read back as the right instants, across
//! daylight-saving changes too. Runs the real sync-core window engine against the ION
//! simulator with a manual clock.
#![cfg(all(feature = "simulator", feature = "sync"))]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::Chicago;
use chrono_tz::Tz;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use infor_ion_client::IonClient;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::csi::nouns::Vendor;
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig};
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner, WindowReport};

use sync_core::error::{MappingKind, SourceError};
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{SourceIdentity, Supplier};
use sync_core::source::{Source, Window};
use sync_core::store::memory::MemoryStore;
use sync_core::testing::MemorySupplierTarget;
use sync_core::time::{Clock, ManualClock};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn wall(at: DateTime<Utc>, zone: Tz) -> NaiveDateTime {
    at.with_timezone(&zone).naive_local()
}

/// Whether `zone`'s clocks show this wall time twice (the hour they fall back).
fn shown_twice(wall: NaiveDateTime, zone: Tz) -> bool {
    matches!(zone.from_local_datetime(&wall), LocalResult::Ambiguous(..))
}

async fn start(clock: &ManualClock, suppliers: usize, zone: Tz) -> (IonSimulator, IonClient) {
    let sim = IonSimulator::start(SimulatorConfig {
        seed: Seed {
            suppliers,
            purchase_orders: 0,
            lines_per_order: 0,
            invoices: 0,
            payments: 0,
            customers: 0,
            items: 0,
            ..Seed::default()
        },
        clock: clock.shared(),
        record_date_zone: zone,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let client = sim.client_builder().unwrap().build().unwrap();
    (sim, client)
}

/// One poll the engine made and the records the source gave it.
#[derive(Debug, Clone)]
struct Poll {
    from: Option<DateTime<Utc>>,
    read: Vec<Supplier>,
}

/// The CloudSuite source, recording what each window read.
struct Recording {
    inner: CloudSuiteSource,
    polls: Arc<Mutex<Vec<Poll>>>,
}

#[async_trait]
impl Source<Supplier> for Recording {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        Source::<Supplier>::server_time(&self.inner).await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<Supplier, SourceError>> {
        let index = {
            let mut polls = self.polls.lock().unwrap();
            polls.push(Poll {
                from: window.from,
                read: Vec::new(),
            });
            polls.len() - 1
        };
        let polls = self.polls.clone();
        Source::<Supplier>::poll(&self.inner, window)
            .inspect(move |item| {
                if let Ok(supplier) = item {
                    polls.lock().unwrap()[index].read.push(supplier.clone());
                }
            })
            .boxed()
    }

    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<Supplier>, SourceError> {
        Source::<Supplier>::fetch(&self.inner, identity).await
    }
}

/// The engine's supplier stream over a (recording) CloudSuite source, as `sync` runs it.
struct Stream {
    runner: StreamRunner<SupplierPipeline>,
    run: RunContext,
    target: Arc<MemorySupplierTarget>,
    polls: Arc<Mutex<Vec<Poll>>>,
}

impl Stream {
    fn new(source: CloudSuiteSource, clock: &ManualClock) -> Self {
        let polls = Arc::new(Mutex::new(Vec::new()));
        let target = Arc::new(MemorySupplierTarget::new());
        let mappings = Mappings::with_values(
            MappingTable::default()
                .with(MappingKind::PaymentTerm, "N30", "30 days")
                .with(MappingKind::PaymentTerm, "N45", "45 days")
                .with(MappingKind::PaymentTerm, "N60", "60 days")
                .with(MappingKind::TaxRule, "TX", "Tax on Purchases"),
        );
        let pipeline = Arc::new(SupplierPipeline::new(target.clone(), mappings));
        let source = Arc::new(Recording {
            inner: source,
            polls: polls.clone(),
        });
        Stream {
            runner: StreamRunner::new(pipeline, source, EngineConfig::default()),
            run: RunContext::new(Arc::new(MemoryStore::new()), clock.shared(), "SIM_TST"),
            target,
            polls,
        }
    }

    async fn window(&self) -> WindowReport {
        self.runner.run_window(&self.run, None).await.unwrap()
    }

    fn last_poll(&self) -> Poll {
        self.polls.lock().unwrap().last().cloned().unwrap()
    }

    fn name_in_target(&self, name: &str) -> bool {
        self.target.suppliers().values().any(|s| s.name == name)
    }
}

#[tokio::test]
async fn filters_are_written_unambiguously_and_in_the_sites_zone() {
    let clock = ManualClock::new(utc(2026, 2, 10, 12, 0, 0));
    let (sim, client) = start(&clock, 3, Chicago).await;
    let since = utc(2026, 2, 1, 14, 0, 0);
    let until = utc(2026, 2, 1, 16, 30, 0);

    let chicago = client
        .csi(sim.mongoose_config())
        .with_record_date_zone_name("America/Chicago")
        .unwrap();
    assert_eq!(chicago.record_date_zone(), Chicago);
    let filter = chicago
        .poll::<Vendor>()
        .modified_since(since)
        .modified_until(until)
        .build_filter()
        .unwrap()
        .unwrap();
    // YYYYMMDD: read the same under every DATEFORMAT/language; 14:00Z is 08:00 CST.
    assert_eq!(
        filter.as_str(),
        "(RecordDate >= '20260201 08:00:00.000') AND (RecordDate <= '20260201 10:30:00.000')"
    );

    // Without a zone the bounds are UTC wall times, still in the unambiguous form.
    let plain = client.csi(sim.mongoose_config());
    let filter = plain
        .poll::<Vendor>()
        .modified_since(since)
        .build_filter()
        .unwrap()
        .unwrap();
    assert_eq!(filter.as_str(), "RecordDate >= '20260201 14:00:00.000'");
    // A poll can override its Csi's zone.
    let filter = plain
        .poll::<Vendor>()
        .record_date_zone(Chicago)
        .modified_since(since)
        .build_filter()
        .unwrap()
        .unwrap();
    assert_eq!(filter.as_str(), "RecordDate >= '20260201 08:00:00.000'");

    assert!(
        client
            .csi(sim.mongoose_config())
            .with_record_date_zone_name("Central Time")
            .is_err()
    );

    // Rows' RecordDate values are Chicago wall times, read back as the instants they were.
    let changed_at = utc(2026, 2, 10, 12, 0, 0);
    assert!(sim.data().update(
        "SLVendors",
        &["V000002"],
        &[("Name", Some("Moved"))],
        changed_at
    ));
    assert_eq!(
        sim.data().find("SLVendors", &["V000002"]).unwrap().values["RecordDate"].as_deref(),
        Some("2026-02-10 06:00:00.000")
    );
    let vendors: Vec<Vendor> = chicago
        .poll::<Vendor>()
        .modified_since(changed_at)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(vendors.len(), 1, "{vendors:?}");
    assert_eq!(vendors[0].modified_at, Some(changed_at));
    // A raw load through the same Csi reads them in the zone as well.
    let page = chicago
        .load("SLVendors")
        .properties(["VendNum", "RecordDate"])
        .filter(infor_ion_client::csi::Filter::eq("VendNum", "V000002").unwrap())
        .page(None)
        .await
        .unwrap();
    assert_eq!(
        page.items[0].record.datetime("RecordDate").unwrap(),
        Some(changed_at)
    );
}

/// The scenario: a site six hours behind UTC, a vendor renamed after the first window.
async fn rename_after_first_window(zone_configured: bool) -> (WindowReport, Poll, bool) {
    let clock = ManualClock::new(utc(2026, 2, 10, 12, 0, 0));
    let (sim, client) = start(&clock, 5, Chicago).await;
    let mut csi = client.csi(sim.mongoose_config());
    if zone_configured {
        csi = csi.with_record_date_zone(Chicago);
    }
    let stream = Stream::new(CloudSuiteSource::csi(csi, "MAIN"), &clock);

    let first = stream.window().await;
    assert!(first.full_scan);
    assert_eq!(first.read, 5);

    clock.set(utc(2026, 2, 10, 13, 0, 0));
    let renamed_at = clock.now();
    assert!(sim.data().update(
        "SLVendors",
        &["V000001"],
        &[("Name", Some("Renamed Supply"))],
        renamed_at
    ));
    clock.set(utc(2026, 2, 10, 13, 10, 0));
    let second = stream.window().await;
    assert!(!second.full_scan);
    (
        second,
        stream.last_poll(),
        stream.name_in_target("Renamed Supply"),
    )
}

#[tokio::test]
async fn a_rename_after_the_first_window_is_read_by_the_next_when_the_zone_is_set() {
    let (report, poll, written) = rename_after_first_window(true).await;
    assert_eq!(report.read, 1, "{report:?}");
    assert_eq!(poll.read.len(), 1);
    assert_eq!(poll.read[0].identity.id, "V000001");
    assert_eq!(poll.read[0].name, "Renamed Supply");
    assert_eq!(poll.read[0].modified_at, utc(2026, 2, 10, 13, 0, 0));
    assert!(written, "the rename reached the target");
}

/// The bug as reported, kept so it stays understood: a UTC bound compared with local wall
/// times six hours behind finds nothing until the weekly full scan.
#[tokio::test]
async fn without_the_zone_the_same_rename_is_missed() {
    let (report, poll, written) = rename_after_first_window(false).await;
    assert_eq!(report.read, 0, "{report:?}");
    assert!(poll.read.is_empty());
    assert!(!written);
}

/// Windows every ten minutes for two hours either side of a daylight-saving change, with
/// vendors renamed between them (one in the safety lag before a window). Asserts what the
/// engine's design needs from the source: every change is read by the first window after it,
/// with the instant it was made; no window reads a row twice; and a row older than a window's
/// `from` (the cursor minus the engine's lookback) is read again only when its wall time is
/// one the zone shows twice, which no bound can place on either side of an instant.
async fn windows_across(change: DateTime<Utc>, zone: Tz, repeats_wall_times: bool) {
    let first_window = change - Duration::hours(2);
    let clock = ManualClock::new(first_window);
    let (sim, client) = start(&clock, 80, zone).await;
    let stream = Stream::new(
        CloudSuiteSource::csi(
            client
                .csi(sim.mongoose_config())
                .with_record_date_zone(zone),
            "MAIN",
        ),
        &clock,
    );
    assert!(stream.window().await.full_scan);

    let mut renamed = 0;
    let mut reread_shown_twice = 0;
    for k in 1..=24 {
        let window_at = first_window + Duration::minutes(10 * k);
        let previous = window_at - Duration::minutes(10);
        let mut made = Vec::new();
        for offset in [
            Duration::minutes(1),
            Duration::seconds(299),
            Duration::seconds(585),
        ] {
            renamed += 1;
            let at = previous + offset;
            let id = format!("V{renamed:06}");
            let name = format!("Renamed {renamed}");
            assert!(sim.data().update(
                "SLVendors",
                &[id.as_str()],
                &[("Name", Some(name.as_str()))],
                at
            ));
            made.push((id, name, at));
        }
        clock.set(window_at);
        let report = stream.window().await;
        assert!(!report.full_scan);
        let poll = stream.last_poll();
        let from = poll.from.unwrap();

        let ids: Vec<&str> = poll.read.iter().map(|s| s.identity.id.as_str()).collect();
        let distinct: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(
            ids.len(),
            distinct.len(),
            "window {k} read a row twice: {ids:?}"
        );

        for (id, name, at) in &made {
            let row = poll
                .read
                .iter()
                .find(|s| &s.identity.id == id)
                .unwrap_or_else(|| panic!("window {k} (from {from}) missed {id} changed at {at}"));
            assert_eq!(&row.name, name);
            // A wall time shown twice reads as its first instant.
            let expected = if shown_twice(wall(*at, zone), zone)
                && zone
                    .from_local_datetime(&wall(*at, zone))
                    .earliest()
                    .unwrap()
                    < *at
            {
                *at - Duration::hours(1)
            } else {
                *at
            };
            assert_eq!(row.modified_at, expected, "{id} changed at {at}");
        }

        for row in &poll.read {
            if row.modified_at < from {
                let shown = wall(row.modified_at, zone);
                assert!(
                    shown_twice(shown, zone),
                    "window {k} (from {from}) read {} changed at {} ({shown} local) again",
                    row.identity.id,
                    row.modified_at
                );
                reread_shown_twice += 1;
            }
        }
    }
    assert_eq!(renamed, 72);
    assert!(stream.name_in_target("Renamed 72"));
    // Rows changed in the repeated hour are read again by the windows after them (and only
    // those: checked above); springing forward repeats nothing.
    assert_eq!(
        reread_shown_twice > 0,
        repeats_wall_times,
        "re-reads: {reread_shown_twice}"
    );
}

#[tokio::test]
async fn no_change_is_missed_when_the_clocks_fall_back() {
    // 1 November 2026, 02:00 CDT (07:00Z) becomes 01:00 CST.
    windows_across(utc(2026, 11, 1, 7, 0, 0), Chicago, true).await;
}

#[tokio::test]
async fn no_change_is_missed_when_the_clocks_spring_forward() {
    // 8 March 2026, 02:00 CST (08:00Z) becomes 03:00 CDT.
    windows_across(utc(2026, 3, 8, 8, 0, 0), Chicago, false).await;
}
