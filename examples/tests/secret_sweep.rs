//! Secret sweep: run the fault soak in-process and every example binary (`sync`, `replay`,
//! `audit`, `ping`, `webhooks`, `demo`, `vault`) with tracing at TRACE, then search everything
//! they printed, logged and stored (stdout, stderr, the SQLite audit database's bytes, every
//! file they wrote, the vault file) for every secret in play: the ION client secret, the
//! service-account key and secret, any access or refresh token the simulator issued (they all
//! start `sim-at-` / `sim-rt-`, so any token printed shows its prefix), the Cin7 application
//! key, the webhook token and the vault key. Zero hits, and the vault file never holds a
//! plaintext secret.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cin7_core_client::simulator::{
    Cin7Simulator, DEFAULT_APPLICATION_KEY, SimRateLimit, SimulatorConfig as Cin7Config,
};
use examples::demo::RUNNER_MAPPINGS as MAPPINGS;
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
    assert!(text.contains(ION_SPAN), "no ION request spans");
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

/// A `sync` configuration for the simulators, with the payment-term table or without it.
fn sync_config(ion: &IonSimulator, cin7: &Cin7Simulator, account: &str, terms: bool) -> String {
    let mappings = if terms {
        MAPPINGS.to_owned()
    } else {
        MAPPINGS.replace(
            r#"values = { "N30" = "30 days", "N45" = "Net 60", "N60" = "Net 60" }"#,
            "values = {}",
        )
    };
    format!(
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
{mappings}
"#,
        tenant = ion.tenant(),
        mongoose = ion.mongoose_config(),
        base = cin7.base_url(),
    )
}

/// The clients' request spans, which every logged call carries.
const CIN7_SPAN: &str = "cin7_request";
const ION_SPAN: &str = "ion.request";

const WEBHOOK_TOKEN: &str = "secret-sweep-webhook-token-5d1b";

/// Run one example binary at trace, off the test's runtime (the simulators run on it), and
/// check it exited with `code`.
async fn run_at_trace(binary: &'static str, args: &[&str], code: i32) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(binary)
            .args(&args)
            .env("SECRET_SWEEP_CIN7_KEY", DEFAULT_APPLICATION_KEY)
            .env("CIN7_APPLICATION_KEY", DEFAULT_APPLICATION_KEY)
            .env("SECRET_SWEEP_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{binary}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `sync` (a run that leaves failures, then one that does not), `replay` of those failures,
/// `audit`, `ping` and `webhooks` (register, list, remove), all at trace against the
/// simulators, and every file they wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_binaries_at_trace_leak_no_secret() {
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
    let config_path = dir.path().join("sync.toml");
    let config = config_path.to_str().unwrap().to_owned();
    let store = dir.path().join("sync.sqlite").to_str().unwrap().to_owned();
    let ionapi = dir.path().join("sim.ionapi").to_str().unwrap().to_owned();
    let cin7_base = cin7.base_url();
    let (sync, replay) = (env!("CARGO_BIN_EXE_sync"), env!("CARGO_BIN_EXE_replay"));
    let (audit, ping) = (env!("CARGO_BIN_EXE_audit"), env!("CARGO_BIN_EXE_ping"));
    let webhooks = env!("CARGO_BIN_EXE_webhooks");
    let mut runs: Vec<(&str, Output)> = Vec::new();

    // No payment-term mapping: suppliers fail (exit 1) and stay open in the audit trail.
    std::fs::write(&config_path, sync_config(&ion, &cin7, &account, false)).unwrap();
    let once = ["--config", &config, "--once"];
    runs.push(("sync with failures", run_at_trace(sync, &once, 1).await));
    // With the mapping, replay them (they reach Cin7), then a clean scheduled run.
    std::fs::write(&config_path, sync_config(&ion, &cin7, &account, true)).unwrap();
    let suppliers_before = cin7.state().suppliers.len();
    let replayed = run_at_trace(replay, &["--config", &config, "stream", "suppliers"], 0).await;
    assert!(
        cin7.state().suppliers.len() > suppliers_before,
        "the replay wrote nothing"
    );
    runs.push(("replay", replayed));
    runs.push(("sync", run_at_trace(sync, &once, 0).await));
    let listing = ["--store", &store, "--tenant", ion.tenant(), "list"];
    runs.push(("audit", run_at_trace(audit, &listing, 0).await));
    let pinged = [
        "--ionapi",
        &ionapi,
        "--csi-config",
        ion.mongoose_config(),
        "--cin7-account-id",
        &account,
        "--cin7-base-url",
        &cin7_base,
    ];
    runs.push(("ping", run_at_trace(ping, &pinged, 0).await));
    let register = [
        "--config",
        &config,
        "register",
        "--url",
        "https://sync.example.com/cin7",
        "--token-env",
        "SECRET_SWEEP_WEBHOOK_TOKEN",
    ];
    runs.push((
        "webhooks register",
        run_at_trace(webhooks, &register, 0).await,
    ));
    let list = ["--config", &config, "list"];
    runs.push(("webhooks list", run_at_trace(webhooks, &list, 0).await));
    let hook = cin7.state().webhooks[0].id.clone().unwrap().to_string();
    let remove = ["--config", &config, "remove", &hook];
    runs.push(("webhooks remove", run_at_trace(webhooks, &remove, 0).await));

    assert!(ion.tokens_issued() > 0);
    let secrets = secrets(&[WEBHOOK_TOKEN]);
    let mut found = Vec::new();
    let mut printed = 0;
    for (what, out) in &runs {
        let logged = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        // The sweep looked at something real: each binary that calls an API logged its Cin7
        // calls (our own span, not some dependency's record); `audit` reads only the store,
        // and printed the audit trail.
        let shown = String::from_utf8_lossy(&logged);
        if *what == "audit" {
            assert!(
                shown.contains("suppliers") && shown.contains("succeeded"),
                "{shown}"
            );
        } else {
            assert!(
                shown.contains("TRACE") && shown.contains(CIN7_SPAN),
                "no trace of Cin7 calls from {what}"
            );
        }
        printed += logged.len();
        found.extend(output_hits(&secrets, what, out));
    }
    // The .ionapi file holds the credentials by design; everything else must not.
    let written = files(dir.path(), &["sim.ionapi"]);
    assert!(written.iter().any(|(p, _)| p.ends_with("sync.sqlite")));
    for (path, bytes) in &written {
        found.extend(hits(&secrets, path, bytes));
    }
    println!(
        "secret_sweep: {} runs printed {printed} bytes; files {:?}; hits {}",
        runs.len(),
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
    let logged = String::from_utf8_lossy(&out.stderr);
    assert!(
        logged.contains("TRACE") && logged.contains(CIN7_SPAN) && logged.contains(ION_SPAN),
        "no trace of API calls from the demo"
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
