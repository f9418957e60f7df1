//! Crash-resume: the real `sync` binary against both simulators (hosted in this test process),
//! killed with SIGKILL again and again right after one of its Cin7 writes reached the server —
//! before the run could commit that record's audit row — and restarted each time. At the end
//! Cin7 must hold exactly what the seeded CloudSuite data and the mappings say (no duplicate,
//! nothing missing, every field as mapped; computed by `examples::soak::expected`, independent
//! of the engine) and the audit trail must have a success for every record and nothing open.
//!
//! The test watches the Cin7 simulator's write counter every millisecond and kills the process
//! as soon as it passes the next target, so each kill lands at a different point of the sync.
//! CI kills at least 20 times; `CRASH_KILLS=100 CRASH_RECORDS=400` for a longer run.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cin7_core_client::simulator::{
    Cin7Simulator, DEFAULT_APPLICATION_KEY, SimRateLimit, SimulatorConfig as Cin7Config,
};
use examples::demo::RUNNER_MAPPINGS as MAPPINGS;
use examples::soak::{SoakOutcome, compare, expected};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig as IonConfig};
use sync_core::store::postgres::{PgConfig, PgStore};
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditQuery, AuditStatus, AuditStore};
use sync_core::time::SystemClock;

const KEY_ENV: &str = "CRASH_RESUME_TEST_CIN7_KEY";

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where the runner keeps its state.
enum StoreKind {
    Sqlite,
    /// `DATABASE_URL` (default `postgres://root@127.0.0.1:5432/test`), a fresh schema.
    Postgres {
        url: String,
        schema: String,
    },
}

const DB_URL_ENV: &str = "CRASH_RESUME_DATABASE_URL";

fn write_config(
    dir: &Path,
    ion: &IonSimulator,
    cin7: &Cin7Simulator,
    account: &str,
    store: &StoreKind,
) -> PathBuf {
    ion.write_ionapi(dir.join("sim.ionapi")).unwrap();
    let store = match store {
        StoreKind::Sqlite => "store = \"sync.sqlite\"".to_owned(),
        StoreKind::Postgres { schema, .. } => {
            format!("store = \"env:{DB_URL_ENV}\"\nstore_schema = \"{schema}\"")
        }
    };
    let text = format!(
        r#"
tenant = "{tenant}"
{store}
[ion]
ionapi = "sim.ionapi"
product = "csi"
mongoose_config = "{config}"
site = "MAIN"
default_currency = "USD"
[cin7]
account_id = "{account}"
application_key_env = "{KEY_ENV}"
base_url = "{base}"
calls_per_minute = 6000
[engine]
safety_lag = "1s"
{MAPPINGS}
"#,
        tenant = ion.tenant(),
        config = ion.mongoose_config(),
        base = cin7.base_url(),
    );
    let path = dir.join("sync.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Run `sync --once`; kill it with SIGKILL as soon as Cin7 has served `kill_at` writes (if it
/// gets there). Returns whether it was killed.
fn run_until(config: &Path, db_url: &str, cin7: &Cin7Simulator, kill_at: Option<u64>) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sync"))
        .args(["--config", config.to_str().unwrap(), "--once"])
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env(DB_URL_ENV, db_url)
        .env_remove("SYNC_CONFIG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success() || kill_at.is_some(),
                "sync failed: {status}"
            );
            return false;
        }
        if kill_at.is_some_and(|n| crate::common::cin7_writes(cin7) >= n) {
            // std's Child::kill is SIGKILL on Unix: no destructor, no flush, no commit.
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        assert!(Instant::now() < deadline, "sync did not finish");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_twenty_points_and_restarted_the_sync_ends_exact_with_sqlite() {
    crash_resume(StoreKind::Sqlite, 21).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_twenty_points_and_restarted_the_sync_ends_exact_with_postgres() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned());
    let schema = format!("crash_resume_{}", std::process::id());
    crash_resume(StoreKind::Postgres { url, schema }, 22).await;
}

async fn crash_resume(kind: StoreKind, seed: u64) {
    let records: usize = env("CRASH_RECORDS", 80);
    let min_kills: usize = env("CRASH_KILLS", 20);
    let ion = IonSimulator::start(IonConfig {
        seed: Seed {
            seed,
            suppliers: records / 2,
            purchase_orders: records / 4,
            lines_per_order: 2,
            invoices: records / 4,
            payments: 0,
            customers: 0,
            items: 10,
            ..Seed::default()
        },
        ..IonConfig::default()
    })
    .await
    .unwrap();
    let account = format!(
        "c4a5e000-51a0-4c1d-9c0e-{:012x}",
        u64::from(std::process::id()) * 100 + seed
    );
    let cin7 = Cin7Simulator::start(
        Cin7Config::new(account.clone(), DEFAULT_APPLICATION_KEY)
            .with_rate_limit(SimRateLimit::new(6000, Duration::from_secs(60)))
            .with_seed(5),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ion, &cin7, &account, &kind);
    let db_url = match &kind {
        StoreKind::Sqlite => String::new(),
        StoreKind::Postgres { url, .. } => url.clone(),
    };

    // Space the kill points so at least `min_kills` fit in the writes of a whole sync (about
    // one per supplier, two per PO, one or two per voucher).
    let expected_writes = (records / 2 + records / 4 * 2 + records / 4 * 2) as u64;
    let step = (expected_writes / (min_kills as u64 + 5)).max(1);
    let (kill_points, finished) = {
        let cin7 = &cin7;
        let config = config.clone();
        let db_url = db_url.clone();
        tokio::task::block_in_place(move || {
            let mut points = Vec::new();
            let mut finished = false;
            for _ in 0..min_kills {
                let target = crate::common::cin7_writes(cin7) + step;
                if !run_until(&config, &db_url, cin7, Some(target)) {
                    finished = true;
                    break;
                }
                points.push(crate::common::cin7_writes(cin7));
            }
            // Then restart without killing until a run completes.
            if !finished {
                run_until(&config, &db_url, cin7, None);
            }
            // And once more: a clean run after a clean run writes nothing new.
            let before = crate::common::cin7_writes(cin7);
            run_until(&config, &db_url, cin7, None);
            (points, before)
        })
    };
    let writes_after_final = crate::common::cin7_writes(&cin7);
    let distinct: BTreeSet<u64> = kill_points.iter().copied().collect();
    let label = match &kind {
        StoreKind::Sqlite => "sqlite",
        StoreKind::Postgres { .. } => "postgres",
    };
    println!(
        "crash_resume[{label}]: records={records} kills={} distinct_points={} writes={} kill_points={kill_points:?}",
        kill_points.len(),
        distinct.len(),
        writes_after_final
    );
    assert!(
        distinct.len() >= min_kills,
        "only {} kill points: {kill_points:?}",
        distinct.len()
    );
    assert_eq!(
        writes_after_final, finished,
        "a run after a complete run wrote to Cin7 again"
    );

    let mut outcome = SoakOutcome::default();
    let (want_suppliers, want_purchases) = expected(&ion.data());
    let state = cin7.state();
    compare(
        &want_suppliers,
        &want_purchases,
        &state.raw_suppliers,
        &state.raw_purchases,
        &mut outcome,
    );
    let (store, pg): (Box<dyn AuditStore>, Option<PgStore>) = match &kind {
        StoreKind::Sqlite => (
            Box::new(
                SqliteStore::open(dir.path().join("sync.sqlite"), SystemClock::shared())
                    .await
                    .unwrap(),
            ),
            None,
        ),
        StoreKind::Postgres { url, schema } => {
            let pg = PgStore::connect(
                PgConfig::new(url.clone()).schema(schema.clone()),
                SystemClock::shared(),
            )
            .await
            .unwrap();
            (Box::new(pg.clone()), Some(pg))
        }
    };
    let tenant = ion.tenant().to_owned();
    let open = store
        // Conflicts count too: nobody edits Cin7 here, so a conflict is a false one (an earlier
        // version of this test left them out, and missed 95 false conflicts after kills).
        .query(&AuditQuery::tenant(tenant.clone()).statuses(&[
            AuditStatus::Failed,
            AuditStatus::Pending,
            AuditStatus::Deferred,
            AuditStatus::Conflict,
        ]))
        .await
        .unwrap();
    let all = store.query(&AuditQuery::tenant(tenant)).await.unwrap();
    let succeeded: BTreeSet<(String, String)> = all
        .iter()
        .filter(|e| e.status == AuditStatus::Succeeded)
        .map(|e| (e.stream.to_string(), e.source.id.clone()))
        .collect();
    if let Some(pg) = pg {
        drop(store);
        pg.drop_schema().await.unwrap();
    }
    println!(
        "crash_resume[{label}]: duplicates={} missing={} unexpected={} mismatches={} open={} audit_entries={}",
        outcome.duplicates,
        outcome.missing,
        outcome.unexpected,
        outcome.mismatches.len(),
        open.len(),
        all.len()
    );
    assert_eq!(outcome.duplicates, 0, "duplicates");
    assert_eq!(outcome.missing, 0, "missing");
    assert_eq!(outcome.unexpected, 0, "unexpected");
    assert!(outcome.mismatches.is_empty(), "{:#?}", outcome.mismatches);
    assert!(open.is_empty(), "{open:#?}");
    for vendor in want_suppliers.keys() {
        assert!(
            succeeded.contains(&("suppliers".to_owned(), vendor.clone())),
            "no success audited for supplier {vendor}"
        );
    }
    for purchase in want_purchases.values() {
        if purchase.reference.starts_with("PO") {
            assert!(
                succeeded.contains(&("purchase_orders".to_owned(), purchase.reference.clone())),
                "no success audited for {}",
                purchase.reference
            );
        }
    }
}

/// Killed at exact points: each kill lands after a Cin7 write was applied and before the
/// binary saw its answer (the Cin7 simulator holds that answer), five times each for supplier
/// creates, purchase headers, authorised orders and invoices. Two runs to the end must leave
/// Cin7 exact, nothing open — no conflict either — and the last run must write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_right_after_each_kind_of_write_landed_the_sync_ends_exact_without_conflicts() {
    use sync_core::faults::Fault;
    let ion = IonSimulator::start(IonConfig {
        seed: Seed {
            seed: 23,
            suppliers: 40,
            purchase_orders: 20,
            lines_per_order: 2,
            invoices: 20,
            payments: 0,
            customers: 0,
            items: 10,
            ..Seed::default()
        },
        ..IonConfig::default()
    })
    .await
    .unwrap();
    let account = format!(
        "c4a5e000-51a0-4c1d-9c0e-{:012x}",
        u64::from(std::process::id()) * 100 + 23
    );
    let cin7 = Cin7Simulator::start(
        Cin7Config::new(account.clone(), DEFAULT_APPLICATION_KEY)
            .with_rate_limit(SimRateLimit::new(6000, Duration::from_secs(60)))
            .with_seed(5),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ion, &cin7, &account, &StoreKind::Sqlite);
    let points: Vec<(&str, u64)> = [
        ("POST /supplier", 3),
        ("POST /advanced-purchase", 2),
        ("POST /purchase/order", 2),
        ("POST /advanced-purchase/invoice", 2),
    ]
    .into_iter()
    .flat_map(|point| std::iter::repeat_n(point, 5))
    .collect();
    tokio::task::block_in_place(|| {
        for (endpoint, nth) in &points {
            let before = cin7.calls_to(endpoint);
            for _ in 1..*nth {
                cin7.faults()
                    .push_script(endpoint, Fault::HangAfterApply(Duration::ZERO));
            }
            cin7.faults()
                .push_script(endpoint, Fault::HangAfterApply(Duration::from_secs(60)));
            let mut child = Command::new(env!("CARGO_BIN_EXE_sync"))
                .args(["--config", config.to_str().unwrap(), "--once"])
                .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
                .env_remove("SYNC_CONFIG")
                .env_remove("RUST_LOG")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            while cin7.calls_to(endpoint) < before + nth {
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "{endpoint} #{nth}: the run ended before the held write"
                );
                assert!(Instant::now() < deadline, "{endpoint}: no write");
                std::thread::sleep(Duration::from_millis(1));
            }
            // The held write is applied in the same step the simulator counted it.
            std::thread::sleep(Duration::from_millis(20));
            child.kill().unwrap();
            child.wait().unwrap();
        }
        run_until(&config, "", &cin7, None);
    });
    let before = crate::common::cin7_writes(&cin7);
    tokio::task::block_in_place(|| run_until(&config, "", &cin7, None));
    assert_eq!(
        crate::common::cin7_writes(&cin7),
        before,
        "a run after a complete run wrote to Cin7"
    );

    let mut outcome = SoakOutcome::default();
    let (want_suppliers, want_purchases) = expected(&ion.data());
    let state = cin7.state();
    compare(
        &want_suppliers,
        &want_purchases,
        &state.raw_suppliers,
        &state.raw_purchases,
        &mut outcome,
    );
    assert_eq!(
        (outcome.duplicates, outcome.missing, outcome.unexpected),
        (0, 0, 0),
        "{:#?}",
        outcome.mismatches
    );
    assert!(outcome.mismatches.is_empty(), "{:#?}", outcome.mismatches);
    let store = SqliteStore::open(dir.path().join("sync.sqlite"), SystemClock::shared())
        .await
        .unwrap();
    let open = store
        .query(&AuditQuery::tenant(ion.tenant().to_owned()).statuses(&AuditStatus::OPEN))
        .await
        .unwrap();
    assert!(open.is_empty(), "{open:#?}");
}
