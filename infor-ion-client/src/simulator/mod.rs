//! A stateful local ION API Gateway with a CloudSuite behind it, for tests and demos.
//!
//! [`IonSimulator::start`] serves on `127.0.0.1` (a random port) and hands back an `.ionapi`
//! file pointing at itself. It implements, from the same seeded data ([`CloudSuiteData`]):
//!
//! - the OAuth token endpoint (password and refresh-token grants, configurable lifetime,
//!   refresh tokens on or off, revocation, RFC 6749 errors for bad client or service-account
//!   credentials); expired or revoked tokens get 401 on API calls;
//! - CloudSuite Industrial IDO `load` for every noun with `properties`, `filter` (the subset the
//!   client emits, parsed; anything else refused with `Success: false`), `orderby`, `recordcap`
//!   and bookmark paging, plus `info`; the `X-Infor-MongooseConfig` header is checked;
//! - IDO `update` (one change per call: Action 1 inserts a row, refusing a duplicate key;
//!   Action 2 updates the row named by its `_ItemId`), stamping `RecordDate` and bumping the
//!   row's variation;
//! - M3 MI v2 list transactions for the same nouns with their documented output fields only
//!   (more when an [`M3Profile`] says the tenant returns them), `CONO`/`DIVI` checked against
//!   the profile's companies (a second company has its own suppliers), an optional cap on rows
//!   per call below `maxrecs`, and the return path's MI writes over the
//!   same rows (`PPS370MI` PO batch entry, `PPS001MI/Receipt`, `PPS200MI/DltLine`,
//!   `APS450MI/AddHead`/`AddLine`), applied before the answer;
//! - Data Lake payload listing and fetch serving BODs generated from the rows;
//! - an IMS intake that keeps every message it is sent;
//! - faults from a shared [`FaultPlan`], per endpoint or
//!   globally, scripted or by seeded probability.
//!
//! Time comes from a [`SharedClock`]: share a `ManualClock` with the client and a test of a
//! 24-hour token runs instantly. Responses carry a `Date` header from that clock.
//!
//! ```no_run
//! use infor_ion_client::IonClient;
//! use infor_ion_client::simulator::{IonSimulator, SimulatorConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = IonSimulator::start(SimulatorConfig::default()).await?;
//! let client = IonClient::builder(sim.ionapi()?).build()?;
//! let vendors = client.csi(sim.mongoose_config()).load("SLVendors").page(None).await?;
//! assert!(!vendors.items.is_empty());
//! # Ok(()) }
//! ```

mod bods;
mod data;
mod filter;
mod handlers;
mod m3;
mod schema;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sdk_common::faults::FaultPlan;
use sdk_common::time::{SharedClock, SystemClock};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use data::{CHART, CloudSuiteData, Row, Seed, StoredRow, ido_datetime, ido_datetime_in};
pub use m3::INVOICE_LINES as M3_INVOICE_BATCH_LINES;
pub use schema::SchemaProfile;

use crate::ionapi::IonApiFile;

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The tenant id (`ti`); the first path segment of every URL.
    pub tenant: String,
    /// The Mongoose configuration IDO calls must name.
    pub mongoose_config: String,
    /// The OAuth client id it accepts.
    pub client_id: String,
    /// The OAuth client secret it accepts.
    pub client_secret: String,
    /// The service-account access key (`saak`) it accepts.
    pub service_account_key: String,
    /// The service-account secret key (`sask`) it accepts.
    pub service_account_secret: String,
    /// The access-token lifetime it issues (`expires_in`).
    pub token_lifetime: Duration,
    /// Whether it issues refresh tokens.
    pub issue_refresh_tokens: bool,
    /// The data to start with.
    pub seed: Seed,
    /// The clock for token expiry, `RecordDate` stamps and the `Date` header.
    pub clock: SharedClock,
    /// The faults to inject.
    pub faults: Arc<FaultPlan>,
    /// The zone the site stamps `RecordDate` in (default UTC): `RecordDate` values are wall
    /// times there, and filters compare them as SQL Server compares a zone-less `datetime`.
    pub record_date_zone: chrono_tz::Tz,
    /// How the tenant's IDOs differ from the standard shapes (default: not at all).
    pub schema: SchemaProfile,
    /// How the M3 side behaves: its companies and divisions, a per-call row cap, extra output
    /// fields (default: company `100`, division `AAA`, documented outputs only, no cap).
    pub m3: M3Profile,
}

/// The simulated M3: which companies and divisions exist, how many rows a call may return and
/// which output fields beyond the documented ones the tenant returns.
///
/// The default company is served from the simulator's main data (the rows the IDO and Data
/// Lake views serve too, and the only rows the MI writes change); every other company has its
/// own supplier data, seeded from its [`Seed`], read by the MI lists only. A call naming a
/// company or division that does not exist is answered as M3 answers it: HTTP 400 with an MI
/// error naming `CONO` or `DIVI`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M3Profile {
    /// The company calls without `cono` run in (the M3 user's default company).
    pub default_company: String,
    /// The divisions every company has (calls without `divi` run in none).
    pub divisions: Vec<String>,
    /// Further companies, each with its own data.
    pub other_companies: Vec<(String, Seed)>,
    /// At most this many rows per call, whatever `maxrecs` asks (a server-side cap).
    pub max_rows_per_call: Option<usize>,
    /// Output fields the tenant returns beyond a transaction's documented output, when a call
    /// names them in `returncols` (e.g. `("LstSuppliers", "LMDT")`).
    pub extra_output: Vec<(String, String)>,
}

impl Default for M3Profile {
    fn default() -> Self {
        M3Profile {
            default_company: "100".to_owned(),
            divisions: vec!["AAA".to_owned()],
            other_companies: Vec::new(),
            max_rows_per_call: None,
            extra_output: Vec::new(),
        }
    }
}

impl M3Profile {
    /// Add a company with its own data.
    pub fn with_company(mut self, company: impl Into<String>, seed: Seed) -> Self {
        self.other_companies.push((company.into(), seed));
        self
    }

    /// Return at most `rows` rows per call.
    pub fn max_rows_per_call(mut self, rows: usize) -> Self {
        self.max_rows_per_call = Some(rows);
        self
    }

    /// Return `field` from `transaction` when `returncols` names it.
    pub fn extra_output(
        mut self,
        transaction: impl Into<String>,
        field: impl Into<String>,
    ) -> Self {
        self.extra_output.push((transaction.into(), field.into()));
        self
    }
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            tenant: "SIM_TST".to_owned(),
            mongoose_config: "SIM_TST_MAIN".to_owned(),
            client_id: "SIM_TST~simulator-client".to_owned(),
            client_secret: "simulator-client-secret".to_owned(),
            service_account_key: "SIM_TST#simulator-service-account".to_owned(),
            service_account_secret: "simulator-service-secret".to_owned(),
            token_lifetime: Duration::from_secs(3600),
            issue_refresh_tokens: true,
            seed: Seed::default(),
            clock: SystemClock::shared(),
            faults: Arc::new(FaultPlan::none()),
            record_date_zone: chrono_tz::Tz::UTC,
            schema: SchemaProfile::default(),
            m3: M3Profile::default(),
        }
    }
}

/// A message received on the IMS intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The `ParameterRequest` part, as JSON.
    pub parameters: serde_json::Value,
    /// The `MessagePayload` part (the BOD XML).
    pub payload: Vec<u8>,
}

/// An issued token.
#[derive(Debug, Clone)]
struct IssuedToken {
    expires_at: chrono::DateTime<chrono::Utc>,
    revoked: bool,
}

#[derive(Debug, Default)]
struct Tokens {
    access: BTreeMap<String, IssuedToken>,
    refresh: BTreeMap<String, bool>,
    issued: u64,
    requests: u64,
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    config: SimulatorConfig,
    data: Mutex<CloudSuiteData>,
    tokens: Mutex<Tokens>,
    calls: Mutex<BTreeMap<String, u64>>,
    messages: Mutex<Vec<ReceivedMessage>>,
    m3: Mutex<m3::M3State>,
    /// The M3 companies other than the default one, each with its own data.
    companies: BTreeMap<String, Mutex<CloudSuiteData>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }

    fn count(&self, endpoint: &str) {
        *lock(&self.calls).entry(endpoint.to_owned()).or_insert(0) += 1;
    }
}

/// A running simulator; stops when dropped or [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct IonSimulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl IonSimulator {
    /// Start serving on `127.0.0.1` with a random port.
    pub async fn start(config: SimulatorConfig) -> std::io::Result<Self> {
        let data = CloudSuiteData::seeded_in(&config.seed, config.record_date_zone);
        let companies = config
            .m3
            .other_companies
            .iter()
            .map(|(company, seed)| {
                let data = CloudSuiteData::seeded_in(seed, config.record_date_zone);
                (company.clone(), Mutex::new(data))
            })
            .collect();
        let shared = Arc::new(Shared {
            companies,
            config,
            data: Mutex::new(data),
            tokens: Mutex::new(Tokens::default()),
            calls: Mutex::new(BTreeMap::new()),
            messages: Mutex::new(Vec::new()),
            m3: Mutex::new(m3::M3State::default()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = handlers::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "the ION simulator stopped with an error");
            }
        });
        Ok(IonSimulator {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The tenant id.
    pub fn tenant(&self) -> &str {
        &self.shared.config.tenant
    }

    /// The Mongoose configuration to pass to [`IonClient::csi`](crate::IonClient::csi).
    pub fn mongoose_config(&self) -> &str {
        &self.shared.config.mongoose_config
    }

    /// The `.ionapi` JSON pointing at this simulator, with the credentials it accepts.
    pub fn ionapi_json(&self) -> String {
        let c = &self.shared.config;
        serde_json::json!({
            "ti": c.tenant,
            "cn": "ion-simulator",
            "dt": "12",
            "ci": c.client_id,
            "cs": c.client_secret,
            "iu": self.url(),
            "pu": format!("{}/{}/as/", self.url(), c.tenant),
            "oa": "authorization.oauth2",
            "ot": "token.oauth2",
            "or": "revoke_token.oauth2",
            "ev": "SIM",
            "v": "1.0",
            "saak": c.service_account_key,
            "sask": c.service_account_secret,
        })
        .to_string()
    }

    /// The `.ionapi` file pointing at this simulator.
    pub fn ionapi(&self) -> Result<IonApiFile, crate::ionapi::IonApiError> {
        IonApiFile::from_json_str(&self.ionapi_json())
    }

    /// A client builder for this simulator, on the simulator's clock (so token expiry, backoff
    /// and the data's stamps agree); add settings, then `build()`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use infor_ion_client::simulator::{IonSimulator, SimulatorConfig};
    /// let sim = IonSimulator::start(SimulatorConfig::default()).await?;
    /// let client = sim.client_builder()?.build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn client_builder(&self) -> crate::Result<crate::client::IonClientBuilder> {
        Ok(crate::IonClient::builder(self.ionapi()?).clock(self.shared.config.clock.clone()))
    }

    /// Write the `.ionapi` file to `path` (owner-only permissions on Unix).
    pub fn write_ionapi(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let mut file = tempfile::NamedTempFile::new_in(
            path.as_ref()
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )?;
        std::io::Write::write_all(&mut file, self.ionapi_json().as_bytes())?;
        file.persist(path.as_ref()).map_err(|e| e.error)?;
        Ok(())
    }

    /// Read or change the data while the simulator runs (do not hold it across an `.await`).
    pub fn data(&self) -> MutexGuard<'_, CloudSuiteData> {
        lock(&self.shared.data)
    }

    /// The data of M3 company `company` (the main [`data`](Self::data) for the default
    /// company), to read or change while the simulator runs; `None` for a company that does
    /// not exist.
    pub fn company_data(&self, company: &str) -> Option<MutexGuard<'_, CloudSuiteData>> {
        if company == self.shared.config.m3.default_company {
            return Some(self.data());
        }
        self.shared.companies.get(company).map(lock)
    }

    /// The simulator's current time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.now()
    }

    /// Calls served per endpoint (e.g. `GET /load/SLVendors`, `POST /token`).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.calls).clone()
    }

    /// How many requests reached the token endpoint.
    pub fn token_requests(&self) -> u64 {
        lock(&self.shared.tokens).requests
    }

    /// How many access tokens were issued.
    pub fn tokens_issued(&self) -> u64 {
        lock(&self.shared.tokens).issued
    }

    /// Revoke every token issued so far (API calls with them get 401).
    pub fn revoke_all_tokens(&self) {
        handlers::revoke_all(&self.shared);
    }

    /// The fault plan (to script more faults or read what was injected).
    pub fn faults(&self) -> &Arc<FaultPlan> {
        &self.shared.config.faults
    }

    /// Every message received on the IMS intake.
    pub fn ims_messages(&self) -> Vec<ReceivedMessage> {
        lock(&self.shared.messages).clone()
    }

    /// Stop serving and wait for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for IonSimulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
