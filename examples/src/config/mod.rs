//! The `sync` and `replay` binaries' TOML configuration: parsing, validation with clear errors,
//! and wiring it into one tenant's pipelines.
//!
//! [`Config::load`] reads and validates a file (every error names the key at fault);
//! [`Config::check_environment`] checks that the secrets it points at (environment variables,
//! the vault, the `.ionapi` file) are there, without connecting; [`wire`] builds the clients,
//! the store and the pipelines, ready to run ([`Wired::runner`]) or replay.
//!
//! Why not [`crate::assemble::assemble`]: its [`Parts`](crate::assemble::Parts) take a concrete
//! `Cin7Target` and always run all four streams, while the runner needs a subset of streams and
//! a [`DryRunTarget`] in place of the real target, and replay needs each pipeline to replay one
//! entry or one run. [`wire`] builds the same pipelines the same way, generic over the target.
//!
//! Secrets never live in the file: the Cin7 application key comes from the environment
//! variable named by `cin7.application_key_env`, ION credentials from an `.ionapi` file or the
//! encrypted vault (its key from an environment variable or a key file), and a PostgreSQL URL
//! with a password from `store = "env:VAR"`. The reference of every key is `docs/runner.md`.

mod ion_push;
mod listen;
mod raw;
mod returns;
mod tenant;
mod wire;

pub use wire::{OpenedStore, Wired, wire, wire_with_store};

pub use ion_push::IonPushSettings;
pub use listen::ListenerTls;
pub use returns::{DryRunWriter, ReturnSettings, ReturnWrite, WebhookSettings};
pub use tenant::{MiShapes, TenantShape};

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cin7_core_client::Cin7Client;
use cin7_core_client::limiter::RateLimit;
use cin7_core_client::sync::Cin7Target;
use infor_ion_client::cloudsuite::{CloudSuiteSource, M3Queries, RecordKind};

pub use crate::assemble::ReplayTarget;
use crate::assemble::{Assembled, Parts, ReturnParts, assemble};
use cin7_core_client::fit::ReferenceNames;
use cin7_core_client::sync::returns::Cin7PurchaseSource;
use infor_ion_client::cloudsuite::m3_returns::{M3PoWriter, M3WriterConfig};
use infor_ion_client::cloudsuite::returns::{CloudSuitePoWriter, PoWriteMode};
use infor_ion_client::vault::{DEFAULT_KEY_ENV, Vault, VaultKey};
use infor_ion_client::{IonApiFile, IonClient};
use raw::*;
use sdk_common::report::chain;
use secrecy::SecretString;
use sync_core::engine::returns::{ReturnConfig, SourcePurchaseWriter};
use sync_core::engine::{EngineConfig, ProgressFn};
use sync_core::error::{MappingKind, SyncError};
use sync_core::mapping::{
    ClosedPoRule, Fallback, MappingTable, Mappings, NameMatch, PlannedPoRule,
};
use sync_core::model::SourceIdentity;
use sync_core::replay::{ReplayMode, ReplayResult};
use sync_core::schedule::Cadence;
use sync_core::store::memory::MemoryStore;
use sync_core::store::postgres::{PgConfig, PgStore};
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditEntry, StreamId, SyncStore};
use sync_core::target::{Approach, DocStatus, DryRunLog, DryRunTarget};
use sync_core::time::SharedClock;

/// Why a configuration cannot be used. Every message names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key is unknown, has the wrong type or a value outside
    /// its fixed set (`product = "m4"`).
    #[error("the config file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message: the line, and for a bad key or value the key's path and
        /// what it accepts.
        message: String,
    },
    /// A required key is missing.
    #[error("`{key}` is missing: {hint}")]
    Missing {
        /// The key.
        key: &'static str,
        /// What to put there.
        hint: &'static str,
    },
    /// A name is not a stream (`replay stream NAME`; in the file, `streams` is refused when
    /// it is read).
    #[error(
        "unknown stream `{name}` in `streams`: the streams are gl_accounts, suppliers, purchase_orders, supplier_invoices, purchase_returns"
    )]
    UnknownStream {
        /// The name given.
        name: String,
    },
    /// `[schedule]` does not describe a schedule.
    #[error("bad [schedule]: {0}")]
    BadSchedule(String),
    /// `store` is not a SQLite path or a PostgreSQL URL.
    #[error("bad `store` {store:?}: {reason}")]
    BadStore {
        /// The value, with any password removed.
        store: String,
        /// Why.
        reason: String,
    },
    /// An environment variable the config names is not set.
    #[error("the environment variable {var} (named by `{key}`) is not set")]
    EnvNotSet {
        /// The variable.
        var: String,
        /// The key naming it.
        key: &'static str,
    },
    /// Any other bad value.
    #[error("bad `{key}`: {message}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        message: String,
    },
    /// A bad value under a key named by the file itself (e.g. `ion.idos.SLVendors.ido`).
    #[error("bad `{key}`: {message}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why.
        message: String,
    },
    /// A client could not be built from valid settings (the message never holds a secret).
    #[error("{0}")]
    Client(String),
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] sync_core::error::StoreError),
    /// Replaying failed.
    #[error("replay: {0}")]
    Sync(#[from] SyncError),
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// The streams a tenant's sync is made of, in the order they run. Read from the config by its
/// [`name`](Stream::name) (`streams = ["suppliers"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// The chart of accounts (GL mapping and drift).
    GlAccounts,
    /// Suppliers.
    Suppliers,
    /// Purchase orders.
    PurchaseOrders,
    /// Supplier invoices (A/P vouchers).
    SupplierInvoices,
    /// The return direction: Cin7 purchases back to CloudSuite purchase orders (needs a
    /// `[returns]` section).
    PurchaseReturns,
}

impl Stream {
    /// Every stream, in run order.
    pub const ALL: [Stream; 5] = [
        Stream::GlAccounts,
        Stream::Suppliers,
        Stream::PurchaseOrders,
        Stream::SupplierInvoices,
        Stream::PurchaseReturns,
    ];

    /// The forward direction (CloudSuite → Cin7), in run order.
    pub const FORWARD: [Stream; 4] = [
        Stream::GlAccounts,
        Stream::Suppliers,
        Stream::PurchaseOrders,
        Stream::SupplierInvoices,
    ];

    /// The name used in the config and the store.
    pub fn name(self) -> &'static str {
        match self {
            Stream::GlAccounts => "gl_accounts",
            Stream::Suppliers => "suppliers",
            Stream::PurchaseOrders => "purchase_orders",
            Stream::SupplierInvoices => "supplier_invoices",
            Stream::PurchaseReturns => "purchase_returns",
        }
    }

    /// The stream of a name.
    pub fn parse(name: &str) -> Result<Stream, ConfigError> {
        Stream::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| ConfigError::UnknownStream {
                name: name.to_owned(),
            })
    }

    /// The store's id of the stream.
    pub fn id(self) -> StreamId {
        StreamId(self.name().to_owned())
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------------------------
// The validated configuration.

/// Where ION credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IonCredentials {
    /// An `.ionapi` file.
    IonApiFile(PathBuf),
    /// The encrypted vault, its key from an environment variable or a file.
    Vault {
        /// The vault file.
        path: PathBuf,
        /// Where its key is.
        key: VaultKeySource,
    },
}

/// Where the vault key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultKeySource {
    /// This environment variable (base64).
    Env(String),
    /// This file.
    File(PathBuf),
}

/// Which CloudSuite API is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Product {
    /// CloudSuite Industrial (SyteLine) IDOs through Mongoose.
    Csi {
        /// The Mongoose configuration (e.g. `ACME_PRD_DALS`).
        mongoose_config: String,
        /// The site, used as accounting entity.
        site: String,
    },
    /// M3 MI programs.
    M3 {
        /// The company (CONO).
        company: String,
        /// The division (DIVI), if the tenant's records are per division.
        division: Option<String>,
    },
    /// BODs published to the ION Data Lake.
    DataLake {
        /// The accounting entity the documents carry.
        accounting_entity: String,
    },
}

/// Where a forward stream's records are read from (`[ion.routes]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The product's own API: IDO (`product = "csi"`) or MI (`product = "m3"`).
    Product,
    /// BODs published to the ION Data Lake.
    DataLake,
}

/// The `[ion]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IonSettings {
    /// Credentials.
    pub credentials: IonCredentials,
    /// Product and its settings.
    pub product: Product,
    /// Currency of records that name none.
    pub default_currency: Option<String>,
    /// Rows per page.
    pub page_size: Option<u32>,
    /// CSI: the zone `RecordDate` stamps are written in (default UTC).
    pub record_date_zone: chrono_tz::Tz,
    /// CSI: how the tenant shapes the IDOs the sync reads.
    pub shape: TenantShape,
    /// The forward streams read from the Data Lake rather than the product's API
    /// (`[ion.routes]`; every stream, for `product = "datalake"`).
    pub lake_streams: Vec<Stream>,
    /// M3: the search queries of the purchase-order and supplier-invoice MI routes.
    pub mi_queries: infor_ion_client::cloudsuite::M3Queries,
}

impl IonSettings {
    /// Where `stream` is read from.
    pub fn route(&self, stream: Stream) -> Route {
        if matches!(self.product, Product::DataLake { .. }) || self.lake_streams.contains(&stream) {
            Route::DataLake
        } else {
            Route::Product
        }
    }

    /// The route's name as written in `[ion.routes]` (`mi`, `ido`, `datalake`).
    pub fn route_name(&self, stream: Stream) -> &'static str {
        match (self.route(stream), &self.product) {
            (Route::DataLake, _) | (_, Product::DataLake { .. }) => "datalake",
            (Route::Product, Product::M3 { .. }) => "mi",
            (Route::Product, Product::Csi { .. }) => "ido",
        }
    }
}

/// Where the Cin7 account id comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum Cin7Account {
    /// Written in the file.
    Inline(String),
    /// This environment variable.
    Env(String),
}

impl fmt::Debug for Cin7Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The client treats the account id as a credential: not shown.
            Cin7Account::Inline(_) => f.write_str("Inline([redacted])"),
            Cin7Account::Env(var) => f.debug_tuple("Env").field(var).finish(),
        }
    }
}

/// The `[cin7]` section.
#[derive(Clone)]
pub struct Cin7Settings {
    /// The Cin7 Core account id.
    pub account_id: Cin7Account,
    /// The environment variable holding the application key.
    pub application_key_env: String,
    /// The application key itself, when a program embedding the runner supplies it (the file
    /// cannot: it only names the environment variable). Takes precedence over the variable.
    pub application_key: Option<SecretString>,
    /// API root override (a simulator, a proxy).
    pub base_url: Option<String>,
    /// Client-side rate limit (Cin7 allows 60 calls a minute per account).
    pub calls_per_minute: u32,
}

impl fmt::Debug for Cin7Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The account id is treated as a credential by the client: not shown.
        f.debug_struct("Cin7Settings")
            .field("account_id", &self.account_id)
            .field("application_key_env", &self.application_key_env)
            .field(
                "application_key",
                &self.application_key.as_ref().map(|_| "[redacted]"),
            )
            .field("base_url", &self.base_url)
            .field("calls_per_minute", &self.calls_per_minute)
            .finish()
    }
}

/// The store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSettings {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// PostgreSQL.
    Postgres {
        /// Where the URL comes from.
        url: PgUrl,
        /// The schema.
        schema: String,
    },
}

/// Where a PostgreSQL URL comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PgUrl {
    /// Written in the file (no password in it).
    Inline(String),
    /// This environment variable.
    Env(String),
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgUrl::Inline(url) => f.debug_tuple("Inline").field(url).finish(),
            PgUrl::Env(var) => f.debug_tuple("Env").field(var).finish(),
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The ION tenant id.
    pub tenant: String,
    /// Read everything, write nothing to Cin7 (see [`DryRunTarget`]).
    pub dry_run: bool,
    /// Streams to run, in run order.
    pub streams: Vec<Stream>,
    /// The store.
    pub store: StoreSettings,
    /// ION.
    pub ion: IonSettings,
    /// Cin7.
    pub cin7: Cin7Settings,
    /// When to run ([`Cadence::OnDemand`]: once per invocation).
    pub schedule: Cadence,
    /// Mappings and policies.
    pub mappings: Mappings,
    /// Every Cin7 reference name the mappings can produce (tables, defaults): what `ping`
    /// checks exists and is active in Cin7.
    pub reference_names: ReferenceNames,
    /// Window settings.
    pub engine: EngineConfig,
    /// The return direction (`[returns]`), when purchases are synced back to CloudSuite.
    pub returns: Option<ReturnSettings>,
    /// The webhook intake (`[webhooks]`) the scheduled runner serves.
    pub webhooks: Option<WebhookSettings>,
    /// The ION push intake (`[ion_push]`) the scheduled runner serves.
    pub ion_push: Option<IonPushSettings>,
}

impl Config {
    /// Read and validate a config file. Relative paths in it (the `.ionapi` file, the vault,
    /// its key file, a SQLite store) are taken from the file's directory.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        Config::parse(&text, base).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Validate TOML text; relative paths are taken from `base`. Nothing outside the text is
    /// looked at (see [`Config::check_environment`]).
    ///
    /// ```
    /// use examples::config::{Config, Stream};
    /// let config = Config::parse(
    ///     r#"
    /// tenant = "ACME_PRD"
    /// store = "sync.sqlite"
    /// streams = ["suppliers"]
    /// [ion]
    /// ionapi = "ACME_PRD.ionapi"
    /// product = "m3"
    /// company = "100"
    /// [cin7]
    /// account_id_env = "CIN7_ACCOUNT_ID"
    /// application_key_env = "CIN7_APPLICATION_KEY"
    /// "#,
    ///     std::path::Path::new("/etc/sync"),
    /// )?;
    /// assert_eq!(config.streams, vec![Stream::Suppliers]);
    /// # Ok::<(), examples::config::ConfigError>(())
    /// ```
    pub fn parse(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<text>"),
            message: parse_message(&e),
        })?;
        let resolve = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() { p } else { base.join(p) }
        };
        let tenant = non_empty(raw.tenant).ok_or(ConfigError::Missing {
            key: "tenant",
            hint: "the ION tenant id, e.g. tenant = \"ACME_PRD\"",
        })?;
        let returns = raw.returns.map(returns::parse_returns).transpose()?;
        let webhooks = raw
            .webhooks
            .map(|w| returns::parse_webhooks(w, base))
            .transpose()?;
        let ion_push = raw.ion_push.map(|p| ion_push::parse(p, base)).transpose()?;
        let streams = match raw.streams {
            // The return direction writes to CloudSuite: only when a [returns] section says how.
            None if returns.is_some() => Stream::ALL.to_vec(),
            None => Stream::FORWARD.to_vec(),
            Some(mut streams) => {
                if streams.is_empty() {
                    return Err(invalid("streams", "name at least one stream"));
                }
                streams.sort();
                streams.dedup();
                streams
            }
        };
        let store = parse_store(raw.store, raw.store_schema, &resolve)?;
        let ion = parse_ion(raw.ion.ok_or(ConfigError::Missing {
            key: "[ion]",
            hint: "the CloudSuite side: `ionapi` or `vault`, and `product`",
        })?)?;
        let ion = IonSettings {
            credentials: match ion.credentials {
                IonCredentials::IonApiFile(p) => IonCredentials::IonApiFile(resolve_path(&p, base)),
                IonCredentials::Vault { path, key } => IonCredentials::Vault {
                    path: resolve_path(&path, base),
                    key: match key {
                        VaultKeySource::File(f) => VaultKeySource::File(resolve_path(&f, base)),
                        env => env,
                    },
                },
            },
            ..ion
        };
        let cin7 = parse_cin7(raw.cin7.ok_or(ConfigError::Missing {
            key: "[cin7]",
            hint: "the Cin7 side: `account_id` and `application_key_env`",
        })?)?;
        let schedule = parse_schedule(raw.schedule)?;
        let reference_names = reference_names(&raw.mappings);
        let mappings = parse_mappings(raw.mappings)?;
        let engine = parse_engine(raw.engine)?;
        let returns_run = streams.contains(&Stream::PurchaseReturns);
        if returns_run && returns.is_none() {
            return Err(ConfigError::Missing {
                key: "[returns]",
                hint: "the purchase_returns stream writes to CloudSuite: add a [returns] section saying how (write = \"ido\" or \"bods\")",
            });
        }
        match (returns.as_ref().map(|r| &r.write), &ion.product) {
            (Some(ReturnWrite::M3 { .. }), Product::DataLake { .. })
            | (Some(ReturnWrite::Ido | ReturnWrite::Bods { .. }), Product::Csi { .. })
            | (None, _) => {}
            (Some(ReturnWrite::M3 { .. }), _) => {
                return Err(invalid(
                    "returns.write",
                    "write = \"m3\" needs product = \"datalake\": an M3 tenant's purchase orders and invoices are read from the Data Lake",
                ));
            }
            (Some(_), _) => {
                return Err(invalid(
                    "returns.write",
                    "write = \"ido\" or \"bods\" writes CloudSuite Industrial purchase orders: it needs product = \"csi\" (an M3 tenant says write = \"m3\" with product = \"datalake\")",
                ));
            }
        }
        if webhooks.is_some() && !returns_run {
            return Err(invalid(
                "webhooks",
                "Cin7's purchase webhooks trigger the return direction: run the purchase_returns stream (a [returns] section) or remove [webhooks]",
            ));
        }
        if ion_push.is_some()
            && !streams.iter().any(|s| {
                matches!(
                    s,
                    Stream::GlAccounts
                        | Stream::Suppliers
                        | Stream::PurchaseOrders
                        | Stream::SupplierInvoices
                )
            })
        {
            return Err(invalid(
                "ion_push",
                "ION's pushes feed the forward streams: run at least one of gl_accounts, suppliers, purchase_orders, supplier_invoices or remove [ion_push]",
            ));
        }
        Ok(Config {
            tenant,
            dry_run: raw.dry_run,
            streams,
            store,
            ion,
            cin7,
            schedule,
            mappings,
            reference_names,
            engine,
            returns,
            webhooks,
            ion_push,
        })
    }

    /// Check that what the config points at is there (environment variables, files, the
    /// vault and the tenant in it) without connecting to anything.
    pub fn check_environment(&self) -> Result<(), ConfigError> {
        self.cin7_account()?;
        self.cin7_key()?;
        self.ion_file()?;
        if let StoreSettings::Postgres {
            url: PgUrl::Env(var),
            ..
        } = &self.store
        {
            env_var(var, "store")?;
        }
        self.webhook_token()?;
        self.ion_push_secret()?;
        Ok(())
    }

    /// The header value ION's pushes must carry (`None` without an `[ion_push]` section).
    pub fn ion_push_secret(&self) -> Result<Option<SecretString>, ConfigError> {
        self.ion_push
            .as_ref()
            .map(|p| env_var(&p.secret_env, "ion_push.secret_env"))
            .transpose()
    }

    /// The bearer token webhook deliveries must carry (`None` without a `[webhooks]` section).
    pub fn webhook_token(&self) -> Result<Option<SecretString>, ConfigError> {
        self.webhooks
            .as_ref()
            .map(|w| env_var(&w.token_env, "webhooks.token_env"))
            .transpose()
    }

    pub(crate) fn cin7_account(&self) -> Result<SecretString, ConfigError> {
        match &self.cin7.account_id {
            Cin7Account::Inline(id) => Ok(SecretString::from(id.clone())),
            Cin7Account::Env(var) => env_var(var, "cin7.account_id_env"),
        }
    }

    pub(crate) fn cin7_key(&self) -> Result<SecretString, ConfigError> {
        if let Some(key) = &self.cin7.application_key {
            return Ok(key.clone());
        }
        env_var(&self.cin7.application_key_env, "cin7.application_key_env")
    }
}

fn resolve_path(p: &Path, base: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn env_var(var: &str, key: &'static str) -> Result<SecretString, ConfigError> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value)),
        _ => Err(ConfigError::EnvNotSet {
            var: var.to_owned(),
            key,
        }),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The TOML error as `toml` shows it (the line, the value marked, what went wrong), followed by
/// the dotted path of the key at fault, which it only shows when it has no line to show:
/// ``in `ion.product` ``.
fn parse_message(error: &toml::de::Error) -> String {
    let shown = error.to_string();
    let mut bare = error.clone();
    bare.set_input(None);
    let bare = bare.to_string();
    let key = bare
        .strip_prefix(error.message())
        .map(str::trim)
        .filter(|rest| rest.starts_with("in `"));
    match key {
        Some(key) if !shown.contains(key) => format!("{}\n{key}", shown.trim_end()),
        _ => shown.trim_end().to_owned(),
    }
}

fn parse_store(
    store: Option<String>,
    schema: Option<String>,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<StoreSettings, ConfigError> {
    let store = non_empty(store).ok_or(ConfigError::Missing {
        key: "store",
        hint: "a SQLite file (\"sync.sqlite\" or \"sqlite://sync.sqlite\"), a PostgreSQL URL, or \"env:VAR\"",
    })?;
    let bad = |reason: &str| ConfigError::BadStore {
        store: redact_url(&store),
        reason: reason.to_owned(),
    };
    let postgres = |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
    let schema_for_pg = || -> Result<String, ConfigError> {
        let schema = schema.clone().unwrap_or_else(|| "sync".to_owned());
        if schema.is_empty()
            || !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                "store_schema",
                format!("`{schema}` is not a plain schema name (letters, digits, _)"),
            ));
        }
        Ok(schema)
    };
    if let Some(var) = store.strip_prefix("env:") {
        if var.is_empty() {
            return Err(bad(
                "`env:` must be followed by an environment variable name",
            ));
        }
        return Ok(StoreSettings::Postgres {
            url: PgUrl::Env(var.to_owned()),
            schema: schema_for_pg()?,
        });
    }
    if postgres(&store) {
        let rest = store.split_once("://").map(|(_, r)| r).unwrap_or_default();
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if authority.is_empty() {
            return Err(bad("a PostgreSQL URL needs a host"));
        }
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            return Err(bad(
                "the URL holds a password; put the whole URL in an environment variable and write store = \"env:VAR\"",
            ));
        }
        return Ok(StoreSettings::Postgres {
            url: PgUrl::Inline(store.clone()),
            schema: schema_for_pg()?,
        });
    }
    if schema.is_some() {
        return Err(invalid(
            "store_schema",
            "a schema only applies to a PostgreSQL store",
        ));
    }
    let path = match store.split_once("://") {
        Some(("sqlite", path)) => path,
        Some((scheme, _)) => {
            return Err(bad(&format!(
                "unsupported scheme `{scheme}`: use a SQLite path, sqlite://PATH, postgres://… or env:VAR"
            )));
        }
        None => store.strip_prefix("sqlite:").unwrap_or(&store),
    };
    if path.is_empty() || path.ends_with('/') {
        return Err(bad("a SQLite store needs a file name"));
    }
    Ok(StoreSettings::Sqlite(resolve(path)))
}

/// The URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn parse_ion(raw: RawIon) -> Result<IonSettings, ConfigError> {
    let credentials = match (non_empty(raw.ionapi), non_empty(raw.vault)) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "ion.ionapi",
                "give either `ionapi` (a file) or `vault` (the encrypted vault), not both",
            ));
        }
        (Some(file), None) => IonCredentials::IonApiFile(PathBuf::from(file)),
        (None, Some(vault)) => {
            let key = match (non_empty(raw.vault_key_env), non_empty(raw.vault_key_file)) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "ion.vault_key_env",
                        "give either `vault_key_env` or `vault_key_file`, not both",
                    ));
                }
                (_, Some(file)) => VaultKeySource::File(PathBuf::from(file)),
                (Some(var), None) => VaultKeySource::Env(var),
                (None, None) => VaultKeySource::Env(DEFAULT_KEY_ENV.to_owned()),
            };
            IonCredentials::Vault {
                path: PathBuf::from(vault),
                key,
            }
        }
        (None, None) => {
            return Err(ConfigError::Missing {
                key: "ion.ionapi",
                hint: "the tenant's .ionapi file, or `vault` = the encrypted vault holding it",
            });
        }
    };
    let need = |value: Option<String>, key: &'static str, hint: &'static str| {
        non_empty(value).ok_or(ConfigError::Missing { key, hint })
    };
    let product = match raw.product {
        Some(RawProduct::Csi) => Product::Csi {
            mongoose_config: need(
                raw.mongoose_config,
                "ion.mongoose_config",
                "the Mongoose configuration of the CSI tenant, e.g. \"ACME_PRD_DALS\"",
            )?,
            site: need(raw.site, "ion.site", "the CSI site, e.g. \"DALS\"")?,
        },
        Some(RawProduct::M3) => Product::M3 {
            company: need(
                raw.company,
                "ion.company",
                "the M3 company (CONO), e.g. \"100\"",
            )?,
            division: non_empty(raw.division),
        },
        Some(RawProduct::Datalake) => Product::DataLake {
            accounting_entity: need(
                raw.accounting_entity,
                "ion.accounting_entity",
                "the accounting entity the Data Lake documents carry, e.g. \"300_001\"",
            )?,
        },
        None => {
            return Err(ConfigError::Missing {
                key: "ion.product",
                hint: "\"csi\", \"m3\" or \"datalake\"",
            });
        }
    };
    if raw.page_size == Some(0) {
        return Err(invalid("ion.page_size", "must be at least 1"));
    }
    let record_date_zone = tenant::parse_zone(raw.record_date_zone)?;
    if raw.supplier_status.is_some() && !matches!(product, Product::M3 { .. }) {
        return Err(invalid(
            "ion.supplier_status",
            "applies only to product = \"m3\" (M3 supplier status codes)",
        ));
    }
    let shape = TenantShape {
        supplier_status: tenant::parse_supplier_status(raw.supplier_status)?,
        idos: tenant::parse_idos(raw.idos)?,
        mi: tenant::parse_mi(raw.mi)?,
        distributions: raw
            .distributions
            .map(tenant::parse_distributions)
            .transpose()?
            .unwrap_or_default(),
    };
    if !matches!(product, Product::Csi { .. }) {
        let csi_only = [
            ("ion.idos", !shape.idos.is_empty()),
            (
                "ion.distributions",
                shape.distributions != Default::default(),
            ),
            ("ion.record_date_zone", record_date_zone != chrono_tz::UTC),
        ];
        if let Some((key, _)) = csi_only.iter().find(|(_, set)| *set) {
            return Err(invalid(
                key,
                "applies only to product = \"csi\" (CloudSuite Industrial IDOs)",
            ));
        }
    }
    if !matches!(product, Product::M3 { .. }) && !shape.mi.is_empty() {
        return Err(invalid(
            "ion.mi",
            "applies only to product = \"m3\" (M3 MI)",
        ));
    }
    let lake_streams = parse_routes(raw.routes.unwrap_or_default(), &product)?;
    let mi_queries = parse_mi_queries(raw.mi_queries, &product)?;
    Ok(IonSettings {
        credentials,
        product,
        default_currency: non_empty(raw.default_currency),
        page_size: raw.page_size,
        record_date_zone,
        shape,
        lake_streams,
        mi_queries,
    })
}

/// `[ion.routes]`: each forward stream's route, checked against what the product can serve:
/// `mi` only for `product = "m3"`, `ido` only for `product = "csi"`, `datalake` for any. The
/// streams routed to the Data Lake are returned.
fn parse_routes(raw: RawRoutes, product: &Product) -> Result<Vec<Stream>, ConfigError> {
    let (own, product_name) = match product {
        Product::Csi { .. } => (RawRoute::Ido, "csi"),
        Product::M3 { .. } => (RawRoute::Mi, "m3"),
        Product::DataLake { .. } => (RawRoute::Datalake, "datalake"),
    };
    let mut lake = Vec::new();
    for (stream, value) in [
        (Stream::GlAccounts, raw.gl_accounts),
        (Stream::Suppliers, raw.suppliers),
        (Stream::PurchaseOrders, raw.purchase_orders),
        (Stream::SupplierInvoices, raw.supplier_invoices),
    ] {
        let Some(route) = value else { continue };
        if route == RawRoute::Datalake {
            lake.push(stream);
            continue;
        }
        if route != own {
            let key = format!("ion.routes.{stream}");
            let needs = if route == RawRoute::Mi { "m3" } else { "csi" };
            let fix = if own == RawRoute::Datalake {
                "\"datalake\"".to_owned()
            } else {
                format!("\"{}\" or \"datalake\"", own.name())
            };
            return Err(ConfigError::InvalidKey {
                key: key.clone(),
                message: format!(
                    "route \"{}\" cannot serve {stream}: it needs product = \"{needs}\" and this tenant's product is \"{product_name}\"; set {key} = {fix}",
                    route.name()
                ),
            });
        }
    }
    Ok(lake)
}

/// `[ion.mi_queries]` (M3 only): the search queries of the MI routes; empty keeps the default.
fn parse_mi_queries(
    raw: Option<RawMiQueries>,
    product: &Product,
) -> Result<M3Queries, ConfigError> {
    let mut queries = M3Queries::default();
    let Some(raw) = raw else {
        return Ok(queries);
    };
    if !matches!(product, Product::M3 { .. }) {
        return Err(invalid(
            "ion.mi_queries",
            "applies only to product = \"m3\" (M3 search queries)",
        ));
    }
    if let Some(query) = non_empty(raw.purchase_orders) {
        queries.purchase_orders = query;
    }
    if let Some(query) = non_empty(raw.supplier_invoices) {
        queries.supplier_invoices = query;
    }
    Ok(queries)
}

fn parse_cin7(raw: RawCin7) -> Result<Cin7Settings, ConfigError> {
    if raw.application_key.is_some() {
        return Err(invalid(
            "cin7.application_key",
            "secrets never go in the config file: put the key in an environment variable and name it in `application_key_env`",
        ));
    }
    let account_id = match (non_empty(raw.account_id), non_empty(raw.account_id_env)) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "cin7.account_id",
                "give either `account_id` or `account_id_env`, not both",
            ));
        }
        (Some(id), None) => Cin7Account::Inline(id),
        (None, Some(var)) => Cin7Account::Env(var),
        (None, None) => {
            return Err(ConfigError::Missing {
                key: "cin7.account_id",
                hint: "the Cin7 Core account id (Integrations → API in Cin7 Core), or `account_id_env` naming the environment variable holding it",
            });
        }
    };
    let application_key_env = non_empty(raw.application_key_env).ok_or(ConfigError::Missing {
        key: "cin7.application_key_env",
        hint: "the name of the environment variable holding the application key, e.g. \"CIN7_APPLICATION_KEY\"",
    })?;
    if let Some(url) = &raw.base_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(invalid(
            "cin7.base_url",
            format!("`{url}` is not an http(s) URL"),
        ));
    }
    let calls_per_minute = raw.calls_per_minute.unwrap_or(60);
    if calls_per_minute == 0 {
        return Err(invalid("cin7.calls_per_minute", "must be at least 1"));
    }
    Ok(Cin7Settings {
        account_id,
        application_key_env,
        application_key: None,
        base_url: non_empty(raw.base_url),
        calls_per_minute,
    })
}

/// A duration as people write it (parsed by `humantime`): `30s`, `15m`, `2h`, `7d`, `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    humantime::parse_duration(text).map_err(|error| {
        format!("`{text}` is not a duration ({error}): write e.g. 30s, 15m, 2h, 7d or 1h 30m")
    })
}

fn parse_schedule(raw: RawSchedule) -> Result<Cadence, ConfigError> {
    let bad = |m: String| ConfigError::BadSchedule(m);
    let at = |raw: &RawSchedule| -> Result<(u32, u32), ConfigError> {
        let at = raw.at.as_deref().ok_or_else(|| {
            bad("`at` is missing: the local time of day, e.g. at = \"06:30\"".into())
        })?;
        let (h, m) = at
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
            .filter(|(h, m)| *h < 24 && *m < 60)
            .ok_or_else(|| bad(format!("`at` = \"{at}\" is not a time of day HH:MM")))?;
        Ok((h, m))
    };
    let tz = |raw: &RawSchedule| -> Result<String, ConfigError> {
        raw.time_zone.clone().ok_or_else(|| {
            bad(
                "`time_zone` is missing: an IANA zone, e.g. time_zone = \"Pacific/Auckland\""
                    .into(),
            )
        })
    };
    let cadence = raw.cadence.unwrap_or_default();
    let unused = |keys: &[(&str, bool)]| -> Result<(), ConfigError> {
        match keys.iter().find(|(_, set)| *set) {
            Some((key, _)) => Err(bad(format!(
                "`{key}` does not apply to cadence = \"{}\"",
                cadence.name()
            ))),
            None => Ok(()),
        }
    };
    match cadence {
        RawCadence::Interval => {
            unused(&[
                ("at", raw.at.is_some()),
                ("day", raw.day.is_some()),
                ("time_zone", raw.time_zone.is_some()),
            ])?;
            let every = raw.every.as_deref().ok_or_else(|| {
                bad("`every` is missing: how long between runs, e.g. every = \"15m\"".into())
            })?;
            let every = parse_duration(every).map_err(|e| bad(format!("`every`: {e}")))?;
            if every.is_zero() {
                return Err(bad("`every` must be longer than zero".into()));
            }
            Ok(Cadence::Interval(every))
        }
        RawCadence::Daily => {
            unused(&[("every", raw.every.is_some()), ("day", raw.day.is_some())])?;
            let (h, m) = at(&raw)?;
            Cadence::daily(h, m, &tz(&raw)?).map_err(|e| bad(e.to_string()))
        }
        RawCadence::Weekly => {
            unused(&[("every", raw.every.is_some())])?;
            let weekday = raw.day.ok_or_else(|| {
                bad("`day` is missing: the day of the week, e.g. day = \"monday\"".into())
            })?;
            let (h, m) = at(&raw)?;
            Cadence::weekly(weekday, h, m, &tz(&raw)?).map_err(|e| bad(e.to_string()))
        }
        RawCadence::OnDemand => {
            unused(&[
                ("every", raw.every.is_some()),
                ("at", raw.at.is_some()),
                ("day", raw.day.is_some()),
                ("time_zone", raw.time_zone.is_some()),
            ])?;
            Ok(Cadence::OnDemand)
        }
    }
}

fn mapping_kind(kind: RawMappingKind) -> MappingKind {
    match kind {
        RawMappingKind::GlAccount => MappingKind::GlAccount,
        RawMappingKind::TaxRule => MappingKind::TaxRule,
        RawMappingKind::PaymentTerm => MappingKind::PaymentTerm,
        RawMappingKind::Location => MappingKind::Location,
        RawMappingKind::Currency => MappingKind::Currency,
        RawMappingKind::Sku => MappingKind::Sku,
    }
}

/// The Cin7 names the mapping tables and purchase defaults name.
fn reference_names(raw: &RawMappings) -> ReferenceNames {
    let table = |kind: RawMappingKind| -> Vec<String> {
        raw.tables
            .get(&kind)
            .map(|t| t.values.values().chain(t.default.iter()).cloned().collect())
            .unwrap_or_default()
    };
    let with = |mut names: Vec<String>, extra: &Option<String>| {
        names.extend(extra.iter().filter(|n| !n.trim().is_empty()).cloned());
        names.sort();
        names.dedup();
        names
    };
    let p = &raw.purchases;
    ReferenceNames {
        tax_rules: with(table(RawMappingKind::TaxRule), &p.default_tax_rule),
        payment_terms: with(table(RawMappingKind::PaymentTerm), &p.default_payment_term),
        locations: with(table(RawMappingKind::Location), &p.default_location),
        account_codes: with(table(RawMappingKind::GlAccount), &p.ap_account),
    }
}

fn parse_mappings(raw: RawMappings) -> Result<Mappings, ConfigError> {
    let mut table = MappingTable::default();
    for (name, t) in raw.tables {
        let kind = mapping_kind(name);
        let fallback = match (t.fallback, t.default) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "mappings.tables.*.fallback",
                    format!(
                        "[mappings.tables.{}] has both `fallback` and `default`: `default` already means \"use this value\"",
                        name.name()
                    ),
                ));
            }
            (None, Some(default)) => Some(Fallback::Default(default)),
            (Some(RawFallback::Identity), None) => Some(Fallback::Identity),
            (Some(RawFallback::Required), None) => Some(Fallback::Required),
            (None, None) => None,
        };
        for (from, to) in t.values {
            table.insert(kind, from, to);
        }
        if let Some(fallback) = fallback {
            table = table.with_fallback(kind, fallback);
        }
    }
    let mut mappings = Mappings::with_values(table);
    if let Some(field) = raw.vendor_id_field {
        mappings.vendor_id_field = non_empty(Some(field));
    }
    mappings.name_match = match (raw.name_match, raw.match_by_name) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "mappings.match_by_name",
                "give `name_match` alone (`match_by_name` is its older spelling)",
            ));
        }
        (Some(RawNameMatch::Review), None) => NameMatch::Review,
        (Some(RawNameMatch::Link), None) | (None, Some(true)) => NameMatch::Link,
        (Some(RawNameMatch::Create), None) => NameMatch::Create,
        (None, Some(false) | None) => NameMatch::Review,
    };
    mappings.reactivate_deprecated = raw.reactivate_deprecated;
    mappings.deleted_suppliers = match raw.deleted_suppliers {
        None | Some(raw::RawDeleted::Keep) => sync_core::mapping::DeletePolicy::Keep,
        Some(raw::RawDeleted::Deprecate) => sync_core::mapping::DeletePolicy::Deactivate,
    };
    mappings.deleted_purchase_orders = match raw.deleted_purchase_orders {
        None | Some(raw::RawDeletedPo::Keep) => sync_core::mapping::DeletePolicy::Keep,
        Some(raw::RawDeletedPo::Void) => sync_core::mapping::DeletePolicy::Deactivate,
    };
    if let Some(revision) = raw.revision {
        mappings.revision = revision;
    }
    let p = raw.purchases;
    if let Some(approach) = p.approach {
        mappings.purchases.approach = match approach {
            RawApproach::Stock => Approach::Stock,
            RawApproach::Invoice => Approach::Invoice,
        };
    }
    let status = |value: RawDocStatus| match value {
        RawDocStatus::Draft => DocStatus::Draft,
        RawDocStatus::Authorised => DocStatus::Authorised,
    };
    if let Some(s) = p.order_status {
        mappings.purchases.order_status = status(s);
    }
    if let Some(s) = p.invoice_status {
        mappings.purchases.invoice_status = status(s);
    }
    mappings.purchases.default_location = non_empty(p.default_location);
    if let Some(planned) = p.planned {
        mappings.purchases.planned = match planned {
            RawPlanned::Skip => PlannedPoRule::Skip,
            RawPlanned::Draft => PlannedPoRule::Draft,
            RawPlanned::Order => PlannedPoRule::Order,
        };
    }
    if let Some(closed) = p.closed {
        mappings.purchases.closed = match closed {
            RawClosed::Skip => ClosedPoRule::Skip,
            RawClosed::Create => ClosedPoRule::Create,
        };
    }
    if let Some(rule) = p.unknown_skus {
        mappings.purchases.unknown_skus = match rule {
            raw::RawUnknownSkus::Defer => sync_core::mapping::UnknownSkuRule::Defer,
            raw::RawUnknownSkus::Fail => sync_core::mapping::UnknownSkuRule::Fail,
        };
    }
    if let Some(ap) = non_empty(p.ap_account) {
        mappings.supplier_defaults.account_payable = ap;
    }
    mappings.supplier_defaults.payment_term = non_empty(p.default_payment_term);
    mappings.supplier_defaults.tax_rule = non_empty(p.default_tax_rule);
    Ok(mappings)
}

fn parse_engine(raw: RawEngine) -> Result<EngineConfig, ConfigError> {
    let mut engine = EngineConfig::default();
    let duration = |value: &str, key: &'static str| -> Result<chrono::Duration, ConfigError> {
        let d = parse_duration(value).map_err(|e| invalid(key, e))?;
        chrono::Duration::from_std(d).map_err(|e| invalid(key, e.to_string()))
    };
    if let Some(v) = &raw.lookback {
        engine.lookback = duration(v, "engine.lookback")?;
    }
    if let Some(v) = &raw.safety_lag {
        engine.safety_lag = duration(v, "engine.safety_lag")?;
    }
    if let Some(v) = &raw.full_scan_every {
        engine.full_scan_every = if v == "never" {
            None
        } else {
            Some(duration(v, "engine.full_scan_every")?)
        };
    }
    if let Some(strict) = raw.strict {
        engine.strict = strict;
    }
    if let Some(v) = &raw.retry_after {
        engine.retry.base = duration(v, "engine.retry_after")?;
    }
    if let Some(attempts) = raw.retry_attempts {
        engine.retry.max_attempts = attempts;
    }
    if let Some(max) = raw.max_writes_per_window {
        if max == 0 {
            return Err(ConfigError::Invalid {
                key: "engine.max_writes_per_window",
                message: "must be at least 1 (leave it out for no limit)".into(),
            });
        }
        engine.max_writes_per_window = Some(max);
    }
    if let Some(v) = &raw.gl_target_check_every {
        const KEY: &str = "engine.gl_target_check_every";
        // No "never": drift made by hand in Cin7 must show up eventually.
        if v.trim() == "never" {
            return Err(invalid(
                KEY,
                "\"never\" is not accepted: Cin7's chart must be read now and then, or an account changed there by hand would never show as drift; write a duration, e.g. \"1h\" (the default)",
            ));
        }
        let every = duration(v, KEY)?;
        if every <= chrono::Duration::zero() {
            return Err(invalid(
                KEY,
                format!(
                    "`{}` must be longer than zero: how often Cin7's chart is read when CloudSuite's has not changed, e.g. \"1h\"",
                    v.trim()
                ),
            ));
        }
        engine.gl_target_check_every = every;
    }
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_are_read_as_people_write_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration(" 15m "), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5_400)));
        let missing_unit = parse_duration("15").unwrap_err();
        assert!(
            missing_unit.starts_with("`15` is not a duration"),
            "{missing_unit}"
        );
        assert!(parse_duration("2x").is_err());
    }
}
