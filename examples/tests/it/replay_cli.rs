//! The `replay` binary against both simulators: a supplier invoice fails because its GL
//! account has no mapping; `replay --dry-run` lists it with its error and writes nothing; after
//! the mapping is added to the config, `replay` posts it and the failure is resolved.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use cin7_core_client::simulator::{
    Cin7Simulator, DEFAULT_APPLICATION_KEY, SimRateLimit, SimulatorConfig as Cin7Config,
};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig as IonConfig};
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditQuery, AuditStatus, ErrorClass, StreamId, SyncStore};
use sync_core::time::SystemClock;

const KEY_ENV: &str = "REPLAY_CLI_TEST_CIN7_KEY";
const UNMAPPED: &str = "62000";

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Run a binary off the runtime's worker threads, so the simulators keep serving.
async fn run(bin: &'static str, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(&args)
            .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
            .env_remove("SYNC_CONFIG")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(config: &Path, rest: &[&str]) -> Vec<String> {
    let mut out = vec!["--config".to_owned(), config.to_str().unwrap().to_owned()];
    out.extend(rest.iter().map(|s| (*s).to_owned()));
    out
}

fn write_config(
    dir: &Path,
    ion: &IonSimulator,
    cin7: &Cin7Simulator,
    account: &str,
    gl_extra: &str,
    top: &str,
) -> PathBuf {
    let text = format!(
        r#"
tenant = "{tenant}"
store = "sync.sqlite"
{top}
[ion]
ionapi = "sim.ionapi"
product = "csi"
mongoose_config = "{config}"
site = "MAIN"
[cin7]
account_id = "{account}"
application_key_env = "{KEY_ENV}"
base_url = "{base}"
calls_per_minute = 6000
[engine]
safety_lag = "1s"
[mappings.purchases]
approach = "invoice"
order_status = "authorised"
default_location = "Main Warehouse"
[mappings.tables.gl_account]
values = {{ "10000" = "090", "13000" = "630", "20000" = "800", "40000" = "200", "50000" = "310", "51000" = "425", "61000" = "429" {gl_extra} }}
[mappings.tables.payment_term]
values = {{ "N30" = "30 days", "N45" = "Net 60", "N60" = "Net 60" }}
[mappings.tables.tax_rule]
values = {{ "TX" = "GST on Expenses" }}
[mappings.tables.location]
values = {{ "MAIN" = "Main Warehouse" }}
"#,
        tenant = ion.tenant(),
        config = ion.mongoose_config(),
        base = cin7.base_url(),
    );
    let path = dir.join("sync.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_previewed_then_replayed_after_the_mapping_is_added() {
    let ion = IonSimulator::start(IonConfig {
        seed: Seed {
            seed: 5,
            suppliers: 6,
            purchase_orders: 3,
            lines_per_order: 2,
            invoices: 3,
            payments: 0,
            customers: 0,
            items: 10,
            ..Seed::default()
        },
        ..IonConfig::default()
    })
    .await
    .unwrap();
    // One voucher line goes to an account the config does not map (as in the demo).
    let voucher = {
        let mut data = ion.data();
        let voucher = data.rows("SLAptrxds")[0]
            .values
            .get("Voucher")
            .cloned()
            .flatten()
            .unwrap();
        data.update(
            "SLAptrxds",
            &[voucher.as_str(), "2"],
            &[("Acct", Some(UNMAPPED))],
            chrono::Utc::now() - chrono::Duration::days(1),
        );
        voucher
    };
    let account = "5a1e0c7e-51a0-4c1d-9c0e-00007e91a101";
    let cin7 = Cin7Simulator::start(
        Cin7Config::new(account, DEFAULT_APPLICATION_KEY)
            .with_rate_limit(SimRateLimit::new(6000, Duration::from_secs(60)))
            .with_seed(3),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    ion.write_ionapi(dir.path().join("sim.ionapi")).unwrap();
    let config = write_config(dir.path(), &ion, &cin7, account, "", "");

    // The first run: the invoice with the unmapped account fails (exit 1), the rest is written.
    let out = run(env!("CARGO_BIN_EXE_sync"), args(&config, &["--once"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let store: Arc<dyn SyncStore> = Arc::new(
        SqliteStore::open(dir.path().join("sync.sqlite"), SystemClock::shared())
            .await
            .unwrap(),
    );
    let tenant = ion.tenant().to_owned();
    let failed_query = AuditQuery::tenant(&tenant)
        .stream(StreamId::supplier_invoices())
        .statuses(&[AuditStatus::Failed]);
    let failed = store.query(&failed_query).await.unwrap();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let failure = failed[0].clone();
    assert_eq!(failure.source.id, voucher);
    let error = failure.error.clone().unwrap();
    assert_eq!(error.class, ErrorClass::Mapping);
    assert!(error.message.contains(UNMAPPED), "{}", error.message);

    // The preview lists it with its error and writes nothing, to Cin7 or to the store.
    let writes = crate::common::cin7_writes(&cin7);
    let entries = store
        .query(&AuditQuery::tenant(&tenant))
        .await
        .unwrap()
        .len();
    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["--dry-run", "stream", "supplier_invoices"]),
    )
    .await;
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("DRY RUN: 1 entry would be replayed"),
        "{printed}"
    );
    assert!(printed.contains(&failure.id.to_string()), "{printed}");
    assert!(printed.contains(&error.message), "{printed}");
    assert_eq!(
        crate::common::cin7_writes(&cin7),
        writes,
        "the preview wrote to Cin7"
    );
    assert_eq!(
        store
            .query(&AuditQuery::tenant(&tenant))
            .await
            .unwrap()
            .len(),
        entries,
        "the preview wrote to the store"
    );
    // The same entry previewed by run and by id.
    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["--dry-run", "run", &failure.run_id.to_string()]),
    )
    .await;
    assert!(
        text(&out).contains(&failure.id.to_string()),
        "{}",
        text(&out)
    );

    // Replaying before the fix fails again (exit 1) and keeps it open.
    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(
            &config,
            &["--mode", "snapshot", "entry", &failure.id.to_string()],
        ),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(store.query(&failed_query).await.unwrap().len(), 2);

    // Add the mapping, replay the stream's failures: posted, and nothing is open any more.
    let config = write_config(
        dir.path(),
        &ion,
        &cin7,
        account,
        &format!(", \"{UNMAPPED}\" = \"473\""),
        "",
    );
    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["stream", "supplier_invoices"]),
    )
    .await;
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(printed.contains("Succeeded"), "{printed}");
    let open = store
        .query(&AuditQuery::tenant(&tenant).statuses(&AuditStatus::OPEN))
        .await
        .unwrap();
    assert!(open.is_empty(), "{open:#?}");
    let replayed = store
        .query(
            &AuditQuery::tenant(&tenant)
                .stream(StreamId::supplier_invoices())
                .statuses(&[AuditStatus::Succeeded]),
        )
        .await
        .unwrap();
    assert!(
        replayed
            .iter()
            .any(|e| e.source.id == voucher && e.replay_of.is_some()),
        "{replayed:#?}"
    );
    // Cin7 now holds the invoice, on an account "473" line.
    let state = cin7.state();
    let posted = serde_json::to_string(&state.raw_purchases).unwrap();
    assert!(posted.contains("\"473\""), "no line on account 473");
    assert!(crate::common::cin7_writes(&cin7) > writes);

    // Replaying again finds nothing open.
    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["--dry-run", "stream", "supplier_invoices"]),
    )
    .await;
    assert!(
        text(&out).contains("DRY RUN: 0 entries would be replayed"),
        "{}",
        text(&out)
    );
    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["entry", &failure.id.to_string()]),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("already resolved"), "{}", text(&out));
}

#[tokio::test]
async fn bad_arguments_get_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        vec!["stream".into(), "suppliers".into()],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--config"), "{}", text(&out));

    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(Path::new("/no/such/sync.toml"), &["stream", "suppliers"]),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("cannot read the config file /no/such/sync.toml"));

    let config = dir.path().join("sync.toml");
    let base = format!(
        r#"
tenant = "SIM_TST"
store = "sync.sqlite"
dry_run = true
[ion]
ionapi = "sim.ionapi"
product = "csi"
mongoose_config = "SIM_TST_MAIN"
site = "MAIN"
[cin7]
account_id = "acct"
application_key_env = "{KEY_ENV}"
"#
    );
    std::fs::write(&config, &base).unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["stream", "suppliers"]),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("has dry_run = true"), "{}", text(&out));

    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["--dry-run", "stream", "customers"]),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("unknown stream `customers`"),
        "{}",
        text(&out)
    );

    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["--dry-run", "stream", "gl_accounts"]),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("gl_accounts is not replayed"),
        "{}",
        text(&out)
    );

    let out = run(
        env!("CARGO_BIN_EXE_replay"),
        args(&config, &["--mode", "sideways", "stream", "suppliers"]),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("sideways"), "{}", text(&out));
}
