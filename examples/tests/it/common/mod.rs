//! Both simulators and a runner configuration pointing at them, shared by the binaries' tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use cin7_core_client::simulator::{
    Cin7Simulator, DEFAULT_APPLICATION_KEY, SimRateLimit, SimulatorConfig as Cin7Config,
};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig as IonConfig};

/// The environment variable the test configurations read the Cin7 key from.
pub const KEY_ENV: &str = "SYNC_CLI_TEST_CIN7_KEY";

pub struct Sims {
    pub ion: IonSimulator,
    pub cin7: Cin7Simulator,
    pub dir: tempfile::TempDir,
}

/// Both simulators (fast Cin7 rate limit), the `.ionapi` file written next to the config.
pub async fn start(account_seq: u64, suppliers: usize) -> Sims {
    start_shaped(account_seq, suppliers, |config| config).await
}

/// [`start`] with the ION simulator's configuration adjusted (a schema profile, a zone).
pub async fn start_shaped(
    account_seq: u64,
    suppliers: usize,
    shape: impl FnOnce(IonConfig) -> IonConfig,
) -> Sims {
    start_both(account_seq, suppliers, shape, |config| config).await
}

/// [`start_shaped`] with the Cin7 simulator's configuration adjusted too (a product catalogue).
pub async fn start_both(
    account_seq: u64,
    suppliers: usize,
    shape: impl FnOnce(IonConfig) -> IonConfig,
    shape_cin7: impl FnOnce(Cin7Config) -> Cin7Config,
) -> Sims {
    let ion = IonSimulator::start(shape(IonConfig {
        seed: Seed {
            seed: 11,
            suppliers,
            purchase_orders: suppliers / 2,
            lines_per_order: 2,
            invoices: suppliers / 2,
            payments: 0,
            customers: 0,
            items: 10,
            ..Seed::default()
        },
        ..IonConfig::default()
    }))
    .await
    .unwrap();
    let cin7 = Cin7Simulator::start(shape_cin7(
        Cin7Config::new(account(account_seq), DEFAULT_APPLICATION_KEY)
            .with_rate_limit(SimRateLimit::new(6000, Duration::from_secs(60)))
            .with_seed(3),
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    ion.write_ionapi(dir.path().join("sim.ionapi")).unwrap();
    Sims { ion, cin7, dir }
}

/// A per-test Cin7 account id: the client's rate limiter is shared per account in a process,
/// and every module of the `it` binary runs in one process, so each test has its own `seq`
/// (sync_cli 1-5 and 60-63, return_crash 40-45, webhooks_cli 71-73, m3_tenant 76-77,
/// m3_purchases 81-82, tenant_fit 91-93, ion_push_cli 95-96, datalake_deletes 97, fleet_cli 98-101, 103-104, observability_cli 102, unknown_skus_cli 105).
pub fn account(seq: u64) -> String {
    format!("5a1e0c7e-51a0-4c1d-9c0e-{:012x}", 0x5c11_0000 + seq)
}

/// The mappings the simulated CloudSuite's codes need (as in the demo).
pub use examples::demo::RUNNER_MAPPINGS as MAPPINGS;

impl Sims {
    pub fn config(&self, seq: u64, top: &str, schedule: &str) -> PathBuf {
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
default_currency = "USD"
[cin7]
account_id = "{account}"
application_key_env = "{KEY_ENV}"
base_url = "{base}"
calls_per_minute = 6000
[engine]
safety_lag = "1s"
{schedule}
{MAPPINGS}
"#,
            tenant = self.ion.tenant(),
            config = self.ion.mongoose_config(),
            account = account(seq),
            base = self.cin7.base_url(),
        );
        let path = self.dir.path().join("sync.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("sync.sqlite")
    }

    /// Write calls Cin7 served (every POST and PUT).
    pub fn cin7_writes(&self) -> u64 {
        cin7_writes(&self.cin7)
    }

    pub fn suppliers_by_vendor(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for s in &self.cin7.state().suppliers {
            *out.entry(s.additional_attribute(1).unwrap_or_default().to_owned())
                .or_insert(0) += 1;
        }
        out
    }
}

/// Write calls a Cin7 simulator served (every POST and PUT).
pub fn cin7_writes(cin7: &Cin7Simulator) -> u64 {
    cin7.state()
        .calls
        .iter()
        .filter(|(call, _)| call.starts_with("POST ") || call.starts_with("PUT "))
        .map(|(_, n)| n)
        .sum()
}

/// Run the `sync` binary with `args` (the Cin7 key set, `RUST_LOG` unset) off the test's
/// runtime, so the simulators keep serving.
pub async fn sync_binary(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_sync"))
            .args(&args)
            .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// `sync --config config --once`.
pub async fn sync_once(config: &std::path::Path) -> Output {
    sync_binary(&["--config", config.to_str().unwrap(), "--once"]).await
}

/// What a binary printed, standard output then standard error.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A Cin7 supplier someone keyed in by hand: this name, no vendor ID stamped.
pub fn supplier_named(name: &str) -> cin7_core_client::supplier::Supplier {
    serde_json::from_value(serde_json::json!({
        "Name": name, "Currency": "USD", "PaymentTerm": "30 days", "AccountPayable": "800",
        "TaxRule": "GST on Expenses", "Status": "Active",
    }))
    .unwrap()
}

/// A local port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The `sync` binary running on its schedule, its standard output read to its end (a closed
/// pipe would fail the runner's next print) and kept line by line.
pub struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Standard error, read as it comes (a full pipe would stall the runner).
    errors: std::sync::Arc<std::sync::Mutex<String>>,
    /// What it printed so far.
    pub printed: Vec<String>,
}

impl Running {
    /// Start `sync --config config` with the Cin7 key and `env` set.
    pub fn start(config: &std::path::Path, env: &[(&str, &str)]) -> Running {
        Running::start_with(config, env, &[])
    }

    /// [`start`](Self::start) with more arguments.
    pub fn start_with(config: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Running {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sync"));
        command
            .args(["--config", config.to_str().unwrap()])
            .args(args)
            .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let errors = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn({
            let errors = errors.clone();
            move || {
                use std::io::Read;
                let mut text = String::new();
                let _ = std::io::BufReader::new(stderr).read_to_string(&mut text);
                errors.lock().unwrap().push_str(&text);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            errors,
            printed: Vec::new(),
        }
    }

    /// Read lines until one satisfies `done` (at most a minute between lines); whether one did.
    /// Blocks this worker only (a multi-threaded test runtime keeps the simulators serving).
    pub fn wait_for(&mut self, done: impl Fn(&str) -> bool) -> bool {
        tokio::task::block_in_place(|| {
            while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(60)) {
                let found = done(&line);
                self.printed.push(line);
                if found {
                    return true;
                }
            }
            false
        })
    }

    /// Its process id, for signals.
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Send `signal` (e.g. `-HUP`).
    pub fn signal(&self, signal: &str) {
        let sent = std::process::Command::new("kill")
            .args([signal, &self.pid()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill {signal}");
    }

    /// Stop it with Ctrl-C; its exit status and everything it printed (standard output, then
    /// standard error).
    pub fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-INT");
        let status = tokio::task::block_in_place(|| self.child.wait().unwrap());
        self.printed.extend(self.lines.iter());
        // The stderr reader finishes at the end of the output; give it that moment.
        let errors = tokio::task::block_in_place(|| {
            for _ in 0..200 {
                if std::sync::Arc::strong_count(&self.errors) == 1 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            self.errors.lock().unwrap().clone()
        });
        let printed = format!("{}\n{errors}", self.printed.join("\n"));
        (status, printed)
    }
}

impl Drop for Running {
    /// A test that fails before `interrupt` leaves no runner behind holding its port.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
