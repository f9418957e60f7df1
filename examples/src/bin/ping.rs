//! `ping`: check real credentials end to end, before the first sync.
//!
//! ```sh
//! # ION from an .ionapi file, with a one-row CloudSuite Industrial read:
//! cargo run -p examples --bin ping -- --ionapi ACME_PRD.ionapi --csi-config ACME_PRD_DALS
//! # ION from the vault, M3, and Cin7 (the key comes from the environment only):
//! export INFOR_ION_VAULT_KEY=... CIN7_ACCOUNT_ID=... CIN7_APPLICATION_KEY=...
//! cargo run -p examples --bin ping -- --vault ion.vault --tenant ACME_PRD --m3-company 100
//! ```
//!
//! With `--config sync.toml` it becomes a fit check of that configured sync, read-only: the
//! token, every IDO and property the configured streams read (✓ fits, ! an optional property
//! is missing, ✗ the stream would fail), bookmark paging, RecordDate's zone, the GL accounts
//! recent invoices use, and Cin7:
//!
//! ```sh
//! cargo run -p examples --bin ping -- --config sync.toml
//! ```
//!
//! Prints one line per check; a failed check also gets a line with the likely fix. Exit code 0
//! when everything asked for worked, 1 when a check failed, 2 for bad usage. Never prints a
//! secret.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use examples::config::Config;
use examples::ping::{self, Check, Cin7Ping, IonPing, IonSource, Product};
use infor_ion_client::vault::DEFAULT_KEY_ENV;
use secrecy::SecretString;

/// The environment variable holding the Cin7 application key (never a flag: flags show up in
/// shell history and process listings).
const CIN7_KEY_ENV: &str = "CIN7_APPLICATION_KEY";

/// Check ION and Cin7 credentials end to end and say, for what fails, why and how to fix it.
///
/// ION: reads the credentials (an .ionapi file or a vault entry), obtains a token, makes one
/// cheap CloudSuite call (if --csi-config or --m3-company is given) and compares the gateway's
/// clock with the local one. Cin7: calls `me` with the account id and the application key from
/// the CIN7_APPLICATION_KEY environment variable. Exit code 0: all checks passed; 1: a check
/// failed; 2: bad usage.
#[derive(Parser)]
#[command(name = "ping", version)]
struct Cli {
    /// Check the sync this runner configuration describes against its tenant (every other
    /// flag is then taken from the file).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["ionapi", "vault", "csi_config", "m3_company"])]
    config: Option<PathBuf>,
    /// The .ionapi file of a Backend Service app (with a service account).
    #[arg(long, value_name = "PATH", conflicts_with = "vault")]
    ionapi: Option<PathBuf>,
    /// Read the ION credentials from this encrypted vault instead (needs --tenant).
    #[arg(long, value_name = "PATH", requires = "tenant")]
    vault: Option<PathBuf>,
    /// The tenant id (`ti`) whose vault entry to use.
    #[arg(long, requires = "vault")]
    tenant: Option<String>,
    /// Read the vault key from this file (base64 text or 32 raw bytes) instead of the
    /// environment.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// The environment variable holding the vault key in base64.
    #[arg(long, default_value = DEFAULT_KEY_ENV)]
    key_env: String,
    /// CloudSuite Industrial: read one row of SLCharts through this Mongoose configuration
    /// (the `X-Infor-MongooseConfig` value, e.g. ACME_PRD_DALS).
    #[arg(long, value_name = "NAME", conflicts_with = "m3_company")]
    csi_config: Option<String>,
    /// M3: run CRS620MI/LstSuppliers with maxrecs=1 in this company (CONO).
    #[arg(long, value_name = "COMPANY")]
    m3_company: Option<String>,
    /// M3: and in this division (DIVI); without it M3 uses the user's default division.
    #[arg(long, value_name = "DIVISION", requires = "m3_company")]
    m3_division: Option<String>,
    /// The largest acceptable difference, in seconds, between the gateway's Date header and
    /// the local clock.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    max_skew_secs: u64,
    /// The Cin7 Core account id (`api-auth-accountid`). The application key is read from the
    /// CIN7_APPLICATION_KEY environment variable only.
    #[arg(
        long,
        env = "CIN7_ACCOUNT_ID",
        hide_env_values = true,
        value_name = "ID"
    )]
    cin7_account_id: Option<String>,
    /// The Cin7 Core API root (change it only for a test server).
    #[arg(long, default_value = cin7_core_client::DEFAULT_BASE_URL, value_name = "URL")]
    cin7_base_url: String,
    /// The timeout of each request, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    timeout_secs: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    examples::logging::init("warn");
    let timeout = Duration::from_secs(cli.timeout_secs.max(1));
    let checks = match &cli.config {
        // The fit check of a configured sync.
        Some(path) => match Config::load(path) {
            Ok(config) => examples::fit::ping_config(&config, timeout).await,
            Err(error) => {
                eprintln!("error: {}", sdk_common::report::chain(&error));
                return ExitCode::from(2);
            }
        },
        None => {
            let (ion, cin7) = match plan(cli) {
                Ok(plan) => plan,
                Err(message) => {
                    eprintln!("error: {message}");
                    return ExitCode::from(2);
                }
            };
            let mut checks: Vec<Check> = Vec::new();
            if let Some(ion) = ion {
                checks.extend(ping::ping_ion(&ion).await);
            }
            if let Some(cin7) = cin7 {
                checks.push(ping::ping_cin7(cin7).await);
            }
            checks
        }
    };
    if ping::report(&checks) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What to check, from the arguments; an error is bad usage.
fn plan(cli: Cli) -> Result<(Option<IonPing>, Option<Cin7Ping>), String> {
    let timeout = Duration::from_secs(cli.timeout_secs.max(1));
    let source = match (cli.ionapi, cli.vault, cli.tenant) {
        (Some(path), _, _) => Some(IonSource::File(path)),
        (None, Some(path), Some(tenant)) => Some(IonSource::Vault {
            path,
            tenant,
            key_file: cli.key_file,
            key_env: cli.key_env,
        }),
        _ => None,
    };
    let product = match (cli.csi_config, cli.m3_company) {
        (Some(config), _) => Some(Product::Csi(config)),
        (None, Some(company)) => Some(Product::M3 {
            company,
            division: cli.m3_division,
        }),
        (None, None) => None,
    };
    if source.is_none() && product.is_some() {
        return Err(
            "--csi-config/--m3-company need ION credentials: add --ionapi PATH or \
                    --vault PATH --tenant T"
                .into(),
        );
    }
    let ion = source.map(|source| IonPing {
        source,
        product,
        max_skew: Duration::from_secs(cli.max_skew_secs),
        timeout,
    });
    let key = std::env::var(CIN7_KEY_ENV)
        .ok()
        .filter(|k| !k.trim().is_empty());
    let account = cli.cin7_account_id.filter(|a| !a.trim().is_empty());
    let cin7 = match (account, key) {
        (Some(account_id), Some(key)) => Some(Cin7Ping {
            account_id: SecretString::from(account_id),
            application_key: SecretString::from(key),
            base_url: cli.cin7_base_url,
            timeout,
        }),
        (Some(_), None) => {
            return Err(format!(
                "a Cin7 account id is set but {CIN7_KEY_ENV} is not: export the application \
                 key in {CIN7_KEY_ENV} (it is never taken as a flag)"
            ));
        }
        (None, Some(_)) => {
            return Err(format!(
                "{CIN7_KEY_ENV} is set but no account id: give --cin7-account-id or set \
                 CIN7_ACCOUNT_ID"
            ));
        }
        (None, None) => None,
    };
    if ion.is_none() && cin7.is_none() {
        return Err(
            "nothing to check: give --ionapi PATH or --vault PATH --tenant T for ION, \
                    and/or CIN7_ACCOUNT_ID and CIN7_APPLICATION_KEY for Cin7 (see --help)"
                .into(),
        );
    }
    Ok((ion, cin7))
}
