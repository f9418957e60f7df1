//! Secret sweep: run the fault soak in-process and the `sync`, `demo` and `vault` binaries with
//! tracing at TRACE, then search everything they printed, logged and stored (stdout, stderr,
//! the SQLite audit database's bytes, every file they wrote, the vault file) for every secret
//! in play: the ION client secret, the service-account key and secret, any access or refresh
//! token the simulator issued (they all start `sim-at-` / `sim-rt-`, so any token printed shows
//! its prefix), the Cin7 application key and the vault key. Zero hits, and the vault file never
//! holds a plaintext secret.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cin7_core_client::simulator::{
    Cin7Simulator, DEFAULT_APPLICATION_KEY, SimRateLimit, SimulatorConfig as Cin7Config,
};
use examples::soak::{self, SoakOptions};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig as IonConfig};

/// Every secret value the runs below use.
fn secrets(extra: &[&str]) -> Vec<String> {
    let ion = IonConfig::default();
    let mut all = vec![
        ion.client_secret,
        ion.service_account_key,
        ion.service_account_secret,
        DEFAULT_APPLICATION_KEY.to_owned(),
        "sim-at-".to_owned(),
        "sim-rt-".to_owned(),
    ];
    all.extend(extra.iter().map(|s| (*s).to_owned()));
    all
}

/// `(secret, where)` for every secret found in `haystack`.
fn hits(secrets: &[String], what: &str, haystack: &[u8]) -> Vec<String> {
    secrets
        .iter()
        .filter(|s| {
            haystack
                .windows(s.len())
                .any(|window| window == s.as_bytes())
        })
        .map(|s| format!("{s:?} in {what}"))
        .collect()
}

/// Every file under `dir` except those listed (which hold secrets by design, like `.ionapi`).
fn files(dir: &Path, except: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if except.contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            out.extend(files(&path, except));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn output_hits(secrets: &[String], what: &str, out: &Output) -> Vec<String> {
    let mut found = hits(secrets, &format!("{what} stdout"), &out.stdout);
    found.extend(hits(secrets, &format!("{what} stderr"), &out.stderr));
    found
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_soak_at_trace_leaks_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = sync_core::time::ManualClock::new(chrono::Utc::now());
    let outcome = soak::run(
        &SoakOptions {
            records: 120,
            fault_rate: 0.10,
            seed: 3,
            max_replay_rounds: 5,
            dir: dir.path().to_path_buf(),
            clock: clock.shared(),
            http_timeout: Duration::from_millis(500),
        },
        None,
    )
    .await
    .unwrap();
    let logs = captured.0.lock().unwrap().clone();
    // The sweep looked at something real: trace output of both clients, with the token
    // revoked and renewed on the way.
    let text = String::from_utf8_lossy(&logs);
    assert!(text.contains("TRACE") || text.contains("DEBUG"), "no logs");
    assert!(text.contains("ion.request"), "no ION request spans");
    assert!(outcome.ion_faults.contains_key("revoke_tokens"));
    let secrets = secrets(&[]);
    let mut found = hits(&secrets, "soak logs", &logs);
    for (path, bytes) in files(dir.path(), &[]) {
        found.extend(hits(&secrets, &path, &bytes));
    }
    println!(
        "secret_sweep: soak logs {} bytes, store files {}; hits {}",
        logs.len(),
        files(dir.path(), &[]).len(),
        found.len()
    );
    assert!(found.is_empty(), "{found:#?}");
}

const MAPPINGS: &str = r#"
[mappings.purchases]
approach = "invoice"
order_status = "authorised"
default_location = "Main Warehouse"
[mappings.tables.gl_account]
values = { "10000" = "090", "13000" = "630", "20000" = "800", "40000" = "200", "50000" = "310", "51000" = "425", "61000" = "429", "62000" = "473" }
[mappings.tables.payment_term]
values = { "N30" = "30 days", "N45" = "Net 60", "N60" = "Net 60" }
[mappings.tables.tax_rule]
values = { "TX" = "GST on Expenses" }
[mappings.tables.location]
values = { "MAIN" = "Main Warehouse" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_binary_at_trace_leaks_no_secret() {
    let ion = IonSimulator::start(IonConfig {
        seed: Seed {
            seed: 5,
            suppliers: 10,
            purchase_orders: 5,
            lines_per_order: 2,
            invoices: 5,
            payments: 0,
            customers: 0,
            items: 5,
            ..Seed::default()
        },
        ..IonConfig::default()
    })
    .await
    .unwrap();
    let account = format!("5ec7e700-51a0-4c1d-9c0e-{:012x}", std::process::id());
    let cin7 = Cin7Simulator::start(
        Cin7Config::new(account.clone(), DEFAULT_APPLICATION_KEY)
            .with_rate_limit(SimRateLimit::new(6000, Duration::from_secs(60))),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    ion.write_ionapi(dir.path().join("sim.ionapi")).unwrap();
    let config = format!(
        r#"
tenant = "{tenant}"
store = "sync.sqlite"
[ion]
ionapi = "sim.ionapi"
product = "csi"
mongoose_config = "{mongoose}"
site = "MAIN"
default_currency = "USD"
[cin7]
account_id = "{account}"
application_key_env = "SECRET_SWEEP_CIN7_KEY"
base_url = "{base}"
calls_per_minute = 6000
[engine]
safety_lag = "1s"
{MAPPINGS}
"#,
        tenant = ion.tenant(),
        mongoose = ion.mongoose_config(),
        base = cin7.base_url(),
    );
    std::fs::write(dir.path().join("sync.toml"), config).unwrap();
    let config_path = dir.path().join("sync.toml");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_sync"))
            .args(["--config", config_path.to_str().unwrap(), "--once"])
            .env("SECRET_SWEEP_CIN7_KEY", DEFAULT_APPLICATION_KEY)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logged = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
    assert!(
        String::from_utf8_lossy(&logged).contains("TRACE"),
        "no trace output"
    );
    assert!(ion.tokens_issued() > 0);
    let secrets = secrets(&[]);
    let mut found = output_hits(&secrets, "sync", &out);
    // The .ionapi file holds the credentials by design; everything else must not.
    let written = files(dir.path(), &["sim.ionapi"]);
    assert!(written.iter().any(|(p, _)| p.ends_with("sync.sqlite")));
    for (path, bytes) in &written {
        found.extend(hits(&secrets, path, bytes));
    }
    println!(
        "secret_sweep: sync output {} bytes, files {:?}; hits {}",
        logged.len(),
        written
            .iter()
            .map(|(p, b)| (p, b.len()))
            .collect::<Vec<_>>(),
        found.len()
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_demo_binary_at_trace_leaks_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["--records", "12", "--faults", "0.1", "--keep", "--dir"])
        .arg(&store)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secrets = secrets(&[]);
    let mut found = output_hits(&secrets, "demo", &out);
    let written = files(dir.path(), &[]);
    assert!(!written.is_empty(), "the demo kept no store");
    for (path, bytes) in &written {
        found.extend(hits(&secrets, path, bytes));
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_file_and_the_vault_binary_hold_no_plaintext_secret() {
    let ion = IonSimulator::start(IonConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ionapi = dir.path().join("sim.ionapi");
    ion.write_ionapi(&ionapi).unwrap();
    let vault = |args: &[&str], key: &str| {
        Command::new(env!("CARGO_BIN_EXE_vault"))
            .args(["--vault", dir.path().join("ion.vault").to_str().unwrap()])
            .args(args)
            .env("INFOR_ION_VAULT_KEY", key)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap()
    };
    let new_key = Command::new(env!("CARGO_BIN_EXE_vault"))
        .arg("new-key")
        .output()
        .unwrap();
    assert!(new_key.status.success());
    let key = String::from_utf8(new_key.stdout).unwrap().trim().to_owned();
    assert!(key.len() >= 32, "{key}");
    let imported = vault(&["import", ionapi.to_str().unwrap()], &key);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let listed = vault(&["list"], &key);
    assert!(listed.status.success());
    assert!(String::from_utf8_lossy(&listed.stdout).contains(ion.tenant()));

    let secrets = secrets(&[&key]);
    let mut found = output_hits(&secrets, "vault import", &imported);
    found.extend(output_hits(&secrets, "vault list", &listed));
    let vault_bytes = std::fs::read(dir.path().join("ion.vault")).unwrap();
    assert!(!vault_bytes.is_empty());
    found.extend(hits(&secrets, "ion.vault", &vault_bytes));
    // The client id is not a secret, but the vault encrypts it too: a sign the file is sealed.
    found.extend(hits(
        &[IonConfig::default().client_id],
        "ion.vault",
        &vault_bytes,
    ));
    assert!(found.is_empty(), "{found:#?}");
}
