//! The `sync` runner: its configuration (parsing, every validation error), and the binary run
//! as a process against both simulators (started here, on a runtime that stays alive while
//! the process runs): a full pass, an incremental pass that writes nothing, a dry run that
//! writes nothing, a graceful stop on SIGINT, and a shutdown in the middle of a window that
//! commits its audit rows without moving its cursor.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cin7_core_client::simulator::DEFAULT_APPLICATION_KEY;
use common::{KEY_ENV, start, text};
use examples::config::{
    Cin7Account, Config, ConfigError, IonCredentials, PgUrl, Product, ReturnWrite, StoreSettings,
    Stream, wire,
};
use infor_ion_client::cloudsuite::Distributions;
use infor_ion_client::csi::PropertyMap;
use infor_ion_client::m3::nouns::{FieldMap, MiShape};
use sync_core::engine::returns::Winner;
use sync_core::engine::{ProgressEvent, ProgressFn};
use sync_core::error::MappingKind;
use sync_core::mapping::{ClosedPoRule, PlannedPoRule};
use sync_core::model::PurchaseProgress;
use sync_core::runner::Shutdown;
use sync_core::schedule::Cadence;
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditQuery, AuditStatus, StreamId, StreamKey, SyncStore};
use sync_core::target::{Approach, DocStatus};
use sync_core::time::SystemClock;

// ---------------------------------------------------------------------------------------------
// Configuration.

const MINIMAL: &str = r#"
tenant = "ACME_TST"
store = "state/sync.sqlite"
[ion]
ionapi = "ACME_TST.ionapi"
product = "csi"
mongoose_config = "ACME_TST_DALS"
site = "DALS"
[cin7]
account_id = "acct"
application_key_env = "SYNC_CLI_TEST_CIN7_KEY"
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/sync"))
}

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

/// `MINIMAL` with `key = value` lines replaced or added at the top level or in a section.
fn with(section: &str, line: &str) -> String {
    if section.is_empty() {
        format!("{line}\n{MINIMAL}")
    } else {
        format!("{MINIMAL}\n[{section}]\n{line}\n")
    }
}

#[test]
fn a_minimal_config_gets_the_documented_defaults() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.tenant, "ACME_TST");
    assert_eq!(config.streams, Stream::FORWARD.to_vec());
    assert_eq!(config.returns, None);
    assert_eq!(config.webhooks, None);
    assert_eq!(
        config.store,
        StoreSettings::Sqlite(PathBuf::from("/etc/sync/state/sync.sqlite"))
    );
    assert_eq!(
        config.ion.credentials,
        IonCredentials::IonApiFile(PathBuf::from("/etc/sync/ACME_TST.ionapi"))
    );
    assert_eq!(
        config.ion.product,
        Product::Csi {
            mongoose_config: "ACME_TST_DALS".into(),
            site: "DALS".into()
        }
    );
    assert_eq!(config.cin7.calls_per_minute, 60);
    assert!(matches!(config.schedule, Cadence::OnDemand));
    assert!(!config.dry_run);
    assert_eq!(config.engine, sync_core::engine::EngineConfig::default());
    // A mapping left out stays required, never guessed.
    assert!(
        config
            .mappings
            .map(MappingKind::GlAccount, "10000", "test")
            .is_err()
    );
    // Planned POs and closed ones the target does not hold are not written unless asked.
    let purchases = &config.mappings.purchases;
    assert_eq!(
        (purchases.planned, purchases.closed),
        (PlannedPoRule::Skip, ClosedPoRule::Skip)
    );
    // The account id is a credential: Debug does not show it.
    assert!(!format!("{config:?}").contains("\"acct\""));
}

#[test]
fn every_documented_key_is_read() {
    let text = r#"
tenant = "ACME_TST"
store = "env:SYNC_DB_URL"
store_schema = "sync_acme"
streams = ["supplier_invoices", "suppliers"]
dry_run = true
[ion]
vault = "ion.vault"
vault_key_file = "/secrets/vault.key"
product = "m3"
company = "100"
division = "AAA"
default_currency = "EUR"
page_size = 50
[ion.mi.Supplier]
transaction = "CMS100MI/LstZZSupp"
key_from = "F1SUNO"
key_field = "supplier"
fields = { name = "ZZSUNM" }
[ion.mi.GlAccount]
key_from = ""
[cin7]
account_id = "acct"
application_key_env = "K"
base_url = "http://127.0.0.1:1/ExternalApi/v2/"
calls_per_minute = 120
[schedule]
cadence = "weekly"
day = "tuesday"
at = "06:30"
time_zone = "Pacific/Auckland"
[engine]
lookback = "10m"
safety_lag = "1m"
full_scan_every = "never"
strict = true
[mappings]
vendor_id_field = ""
match_by_name = true
reactivate_deprecated = true
revision = "2026-03-02"
[mappings.purchases]
approach = "invoice"
order_status = "authorised"
invoice_status = "authorised"
default_location = "Main Warehouse"
ap_account = "801"
default_payment_term = "30 days"
default_tax_rule = "GST on Expenses"
planned = "draft"
closed = "create"
[mappings.tables.gl_account]
values = { "10000" = "090" }
[mappings.tables.location]
default = "Main Warehouse"
[mappings.tables.sku]
fallback = "required"
"#;
    let config = parse(text).unwrap();
    assert_eq!(
        config.streams,
        vec![Stream::Suppliers, Stream::SupplierInvoices],
        "run order, whatever the file's order"
    );
    assert_eq!(
        config.store,
        StoreSettings::Postgres {
            url: PgUrl::Env("SYNC_DB_URL".into()),
            schema: "sync_acme".into()
        }
    );
    assert!(config.dry_run);
    assert!(matches!(
        &config.ion.credentials,
        IonCredentials::Vault { path, .. } if path == Path::new("/etc/sync/ion.vault")
    ));
    assert_eq!(
        config.ion.product,
        Product::M3 {
            company: "100".into(),
            division: Some("AAA".into())
        }
    );
    assert_eq!(config.ion.default_currency.as_deref(), Some("EUR"));
    assert_eq!(config.ion.page_size, Some(50));
    assert_eq!(
        config.ion.shape.mi.supplier(),
        Some(
            &MiShape::new()
                .transaction("CMS100MI", "LstZZSupp")
                .key_range("F1SUNO", "supplier")
                .fields(FieldMap::new().map("name", "ZZSUNM"))
        )
    );
    assert_eq!(
        config.ion.shape.mi.gl_account(),
        Some(&MiShape::new().without_key_range())
    );
    assert_eq!(
        config.reference_names.locations,
        ["Main Warehouse"],
        "the names ping and sync check in Cin7"
    );
    assert_eq!(config.reference_names.account_codes, ["090", "801"]);
    assert_eq!(config.cin7.calls_per_minute, 120);
    match &config.schedule {
        Cadence::Weekly { weekday, at, tz } => {
            assert_eq!(*weekday, chrono::Weekday::Tue);
            assert_eq!(at.to_string(), "06:30:00");
            assert_eq!(tz.name(), "Pacific/Auckland");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(config.engine.lookback, chrono::Duration::minutes(10));
    assert_eq!(config.engine.safety_lag, chrono::Duration::minutes(1));
    assert_eq!(config.engine.full_scan_every, None);
    assert!(config.engine.strict);
    let m = &config.mappings;
    assert_eq!(m.vendor_id_field, None);
    assert_eq!(m.name_match, sync_core::mapping::NameMatch::Link);
    assert!(m.reactivate_deprecated);
    assert_eq!(m.revision, "2026-03-02");
    assert_eq!(m.purchases.approach, Approach::Invoice);
    assert_eq!(m.purchases.order_status, DocStatus::Authorised);
    assert_eq!(m.purchases.invoice_status, DocStatus::Authorised);
    assert_eq!(
        m.purchases.default_location.as_deref(),
        Some("Main Warehouse")
    );
    assert_eq!(m.purchases.planned, PlannedPoRule::Draft);
    assert_eq!(m.purchases.closed, ClosedPoRule::Create);
    assert_eq!(m.supplier_defaults.account_payable, "801");
    assert_eq!(m.supplier_defaults.payment_term.as_deref(), Some("30 days"));
    assert_eq!(m.map(MappingKind::GlAccount, "10000", "").unwrap(), "090");
    assert_eq!(
        m.map(MappingKind::Location, "W9", "").unwrap(),
        "Main Warehouse"
    );
    assert!(
        m.map(MappingKind::Sku, "ITEM", "").is_err(),
        "sku made required"
    );
    assert_eq!(m.map(MappingKind::Currency, "NZD", "").unwrap(), "NZD");

    let daily = parse(&with(
        "schedule",
        "cadence = \"daily\"\nat = \"23:05\"\ntime_zone = \"Europe/Amsterdam\"",
    ))
    .unwrap();
    assert!(matches!(daily.schedule, Cadence::Daily { .. }));
    let interval = parse(&with("schedule", "cadence = \"interval\"\nevery = \"90s\"")).unwrap();
    assert!(matches!(interval.schedule, Cadence::Interval(d) if d == Duration::from_secs(90)));
}

#[test]
fn each_validation_error_names_what_is_wrong() {
    // Missing tenant.
    let no_tenant = MINIMAL.replace("tenant = \"ACME_TST\"", "");
    assert_eq!(
        error(&no_tenant),
        "`tenant` is missing: the ION tenant id, e.g. tenant = \"ACME_PRD\""
    );
    // Unknown stream: refused when the file is read, naming the key and the streams.
    let streams = error(&with("", "streams = [\"suppliers\", \"customers\"]"));
    assert!(
        streams.contains(
            "unknown variant `customers`, expected one of `gl_accounts`, `suppliers`, `purchase_orders`, `supplier_invoices`, `purchase_returns`\nin `streams`"
        ),
        "{streams}"
    );
    // Bad schedules.
    let schedule = |lines: &str| error(&with("schedule", lines));
    let cadence = schedule("cadence = \"hourly\"");
    assert!(
        cadence.contains(
            "unknown variant `hourly`, expected one of `interval`, `daily`, `weekly`, `on_demand`\nin `schedule.cadence`"
        ),
        "{cadence}"
    );
    assert!(schedule("cadence = \"interval\"").contains("`every` is missing"));
    assert!(
        schedule("cadence = \"interval\"\nevery = \"15\"")
            .contains("`15` is not a duration (time unit needed")
    );
    assert!(schedule("cadence = \"interval\"\nevery = \"0m\"").contains("longer than zero"));
    assert!(
        schedule("cadence = \"daily\"\nat = \"25:00\"\ntime_zone = \"UTC\"")
            .contains("`at` = \"25:00\" is not a time of day HH:MM")
    );
    assert!(
        schedule("cadence = \"daily\"\nat = \"06:00\"\ntime_zone = \"Mars/Olympus\"")
            .contains("`Mars/Olympus` is not an IANA time zone")
    );
    assert!(schedule("cadence = \"daily\"\nat = \"06:00\"").contains("`time_zone` is missing"));
    assert!(
        schedule("cadence = \"weekly\"\nday = \"someday\"\nat = \"06:00\"\ntime_zone = \"UTC\"")
            .contains("short or long weekday names expected\nin `schedule.day`")
    );
    let monday = parse(&with(
        "schedule",
        "cadence = \"weekly\"\nday = \"Mon\"\nat = \"06:00\"\ntime_zone = \"UTC\"",
    ))
    .unwrap();
    assert!(
        matches!(
            monday.schedule,
            Cadence::Weekly {
                weekday: chrono::Weekday::Mon,
                ..
            }
        ),
        "short names, any case"
    );
    assert!(
        schedule("cadence = \"daily\"\nevery = \"1h\"\nat = \"06:00\"\ntime_zone = \"UTC\"")
            .contains("`every` does not apply to cadence = \"daily\"")
    );
    // Bad store URLs.
    let store = |value: &str| error(&MINIMAL.replace("\"state/sync.sqlite\"", value));
    assert_eq!(
        store("\"mysql://db/sync\""),
        "bad `store` \"mysql://db/sync\": unsupported scheme `mysql`: use a SQLite path, sqlite://PATH, postgres://… or env:VAR"
    );
    let with_password = store("\"postgres://sync:hunter2@db/sync\"");
    assert!(
        with_password.contains("the URL holds a password"),
        "{with_password}"
    );
    assert!(
        !with_password.contains("hunter2"),
        "the password was echoed: {with_password}"
    );
    assert!(store("\"postgres:///sync\"").contains("needs a host"));
    assert!(store("\"\"").starts_with("`store` is missing"));
    assert!(store("\"env:\"").contains("must be followed by an environment variable name"));
    assert!(
        error(&with("", "store_schema = \"x\"")).contains("only applies to a PostgreSQL store")
    );
    // A value outside its key's fixed set is refused when the file is read, naming the key
    // and every accepted value.
    for (section, line, expected) in [
        (
            "mappings.tables.warehouse",
            "values = { \"A\" = \"B\" }",
            "unknown variant `warehouse`, expected one of `currency`, `gl_account`, `location`, `payment_term`, `sku`, `tax_rule`\nin `mappings.tables`",
        ),
        (
            "mappings.tables.sku",
            "fallback = \"guess\"",
            "unknown variant `guess`, expected `identity` or `required`\nin `mappings.tables.sku.fallback`",
        ),
        (
            "mappings.purchases",
            "approach = \"drop_ship\"",
            "unknown variant `drop_ship`, expected `stock` or `invoice`\nin `mappings.purchases.approach`",
        ),
        (
            "mappings.purchases",
            "order_status = \"posted\"",
            "unknown variant `posted`, expected one of `draft`, `authorised`, `authorized`\nin `mappings.purchases.order_status`",
        ),
        (
            "mappings.purchases",
            "planned = \"later\"",
            "unknown variant `later`, expected one of `skip`, `draft`, `order`\nin `mappings.purchases.planned`",
        ),
        (
            "mappings.purchases",
            "closed = \"authorised\"",
            "unknown variant `authorised`, expected `skip` or `create`\nin `mappings.purchases.closed`",
        ),
        (
            "mappings",
            "name_match = \"merge\"",
            "unknown variant `merge`, expected one of `review`, `link`, `create`\nin `mappings.name_match`",
        ),
    ] {
        let message = error(&with(section, line));
        assert!(
            message.starts_with("the config file <text> is not valid: TOML parse error at line"),
            "{message}"
        );
        let shown = message.contains(line) || message.contains(&format!("[{section}]"));
        assert!(shown, "the line at fault is shown: {message}");
        assert!(message.contains(expected), "{section} {line}: {message}");
    }
    // The older spelling of `authorised` is still read.
    let authorized = parse(&with(
        "mappings.purchases",
        "invoice_status = \"authorized\"",
    ))
    .unwrap();
    assert_eq!(
        authorized.mappings.purchases.invoice_status,
        DocStatus::Authorised
    );
    // The key itself in the file is refused, and not echoed.
    let inline_key = MINIMAL.replace(
        "application_key_env = \"SYNC_CLI_TEST_CIN7_KEY\"",
        "application_key = \"s3cr3t-key\"",
    );
    let message = error(&inline_key);
    assert!(
        message.contains("secrets never go in the config file"),
        "{message}"
    );
    assert!(!message.contains("s3cr3t-key"));
    // ION product settings.
    let product = |p: &str| {
        error(&MINIMAL.replace(
            "product = \"csi\"\nmongoose_config = \"ACME_TST_DALS\"\nsite = \"DALS\"",
            p,
        ))
    };
    assert!(product("product = \"ln\"").contains(
        "unknown variant `ln`, expected one of `csi`, `m3`, `datalake`\nin `ion.product`"
    ));
    assert!(product("product = \"m3\"").starts_with("`ion.company` is missing"));
    assert!(product("product = \"datalake\"").starts_with("`ion.accounting_entity` is missing"));
    assert!(
        product("product = \"csi\"\nsite = \"DALS\"")
            .starts_with("`ion.mongoose_config` is missing")
    );
    assert!(product("").starts_with("`ion.product` is missing"));
    // Typos are caught, not ignored.
    assert!(error(&with("", "tenent = \"x\"")).contains("unknown field `tenent`"));
}

#[test]
fn a_value_outside_its_fixed_set_names_the_file_the_key_and_the_accepted_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.toml");
    std::fs::write(
        &path,
        MINIMAL.replace("product = \"csi\"", "product = \"m4\""),
    )
    .unwrap();
    assert_eq!(
        Config::load(&path).unwrap_err().to_string(),
        format!(
            "the config file {} is not valid: TOML parse error at line 6, column 11\n  |\n6 | product = \"m4\"\n  |           ^^^^\nunknown variant `m4`, expected one of `csi`, `m3`, `datalake`\nin `ion.product`",
            path.display()
        )
    );
    for (section, line, expected) in [
        (
            "ion.routes",
            "suppliers = \"api\"",
            "unknown variant `api`, expected one of `mi`, `ido`, `datalake`\nin `ion.routes.suppliers`",
        ),
        (
            "returns",
            "voucher_numbering = \"ours\"",
            "unknown variant `ours`, expected `cloudsuite` or `invoice_number`\nin `returns.voucher_numbering`",
        ),
    ] {
        let message = error(&with(section, line));
        assert!(message.contains(expected), "{section} {line}: {message}");
    }
    // Every stream is read by the name the store and the summary use.
    for stream in Stream::FORWARD {
        let config = parse(&with("", &format!("streams = [\"{}\"]", stream.name()))).unwrap();
        assert_eq!(config.streams, [stream]);
    }
    let returns = format!(
        "streams = [\"{}\"]\n{MINIMAL}\n[returns]\n",
        Stream::PurchaseReturns.name()
    );
    assert_eq!(parse(&returns).unwrap().streams, [Stream::PurchaseReturns]);
}

#[test]
fn the_return_direction_and_the_intake_are_configured_and_checked() {
    let text = format!(
        "{MINIMAL}\n[returns]\nwrite = \"bods\"\nlogical_id = \"lid://infor.ims.cin7sync\"\npo_number_prefix = \"CN\"\ncreate_from = \"received\"\nstatus_conflicts = \"cin7\"\nreceipt_conflicts = \"cloudsuite\"\n[returns.items]\n\"W-RED\" = \"WR100\"\n[webhooks]\nlisten = \"127.0.0.1:8080\"\n"
    );
    let config = parse(&text).unwrap();
    // A [returns] section adds the return stream to the default streams.
    assert_eq!(config.streams, Stream::ALL.to_vec());
    let returns = config.returns.unwrap();
    assert_eq!(
        returns.write,
        ReturnWrite::Bods {
            logical_id: "lid://infor.ims.cin7sync".into()
        }
    );
    assert_eq!(returns.po_number_prefix.as_deref(), Some("CN"));
    assert_eq!(returns.create_from, PurchaseProgress::Received);
    assert_eq!(returns.policy.status, Winner::Target);
    assert_eq!(returns.policy.receipts, Winner::Source);
    assert_eq!(returns.items["W-RED"], "WR100");
    assert_eq!(returns.cin7_account_name, "cin7");
    assert!(returns.invoices, "invoices are written back by default");
    let webhooks = config.webhooks.unwrap();
    assert_eq!(webhooks.listen, "127.0.0.1:8080");
    assert_eq!(webhooks.token_env, "WEBHOOK_TOKEN");

    // Each mistake is named.
    assert_eq!(
        error(&with("", "streams = [\"purchase_returns\"]")),
        "`[returns]` is missing: the purchase_returns stream writes to CloudSuite: add a [returns] section saying how (write = \"ido\" or \"bods\")"
    );
    assert!(error(&with("returns", "write = \"bods\"")).contains("`returns.logical_id`"));
    assert!(error(&with("returns", "write = \"ftp\"")).contains(
        "unknown variant `ftp`, expected one of `ido`, `bods`, `m3`\nin `returns.write`"
    ));
    assert!(
        error(&with("returns", "status_conflicts = \"coin_toss\"")).contains(
            "unknown variant `coin_toss`, expected one of `cloudsuite`, `cin7`, `review`\nin `returns.status_conflicts`"
        )
    );
    assert!(
        error(&with("returns", "create_from = \"invoiced\"")).contains(
            "unknown variant `invoiced`, expected one of `ordered`, `partly_received`, `received`\nin `returns.create_from`"
        )
    );
    assert!(
        error(&with("returns", "po_number_prefix = \"TOOLONGPREFIX\""))
            .contains("hold 10 characters")
    );
    assert!(error(&with("returns", "colour = \"red\"")).contains("unknown field `colour`"));
    let m3 = format!(
        "{}\n[returns]\n",
        MINIMAL.replace(
            "product = \"csi\"\nmongoose_config = \"ACME_TST_DALS\"\nsite = \"DALS\"",
            "product = \"m3\"\ncompany = \"100\"",
        )
    );
    assert!(error(&m3).contains("it needs product = \"csi\""));
    // M3: written through MI, read back from the Data Lake.
    let datalake = |returns: &str| {
        format!(
            "{}\n[returns]\n{returns}\n",
            MINIMAL.replace(
                "product = \"csi\"\nmongoose_config = \"ACME_TST_DALS\"\nsite = \"DALS\"",
                "product = \"datalake\"\naccounting_entity = \"100_AAA\"",
            )
        )
    };
    let m3_writer = "write = \"m3\"\ncompany = \"100\"\ndivision = \"AAA\"\nfacility = \"A01\"\nwarehouse = \"MAIN\"\nresponsible = \"SYNC\"";
    assert_eq!(
        parse(&datalake(m3_writer)).unwrap().returns.unwrap().write,
        ReturnWrite::M3 {
            company: "100".into(),
            division: Some("AAA".into()),
            facility: "A01".into(),
            warehouse: "MAIN".into(),
            responsible: "SYNC".into(),
        }
    );
    assert!(
        error(&datalake(
            "write = \"m3\"\ncompany = \"100\"\nwarehouse = \"MAIN\"\nresponsible = \"SYNC\""
        ))
        .starts_with("`returns.facility` is missing")
    );
    assert!(error(&datalake("write = \"ido\"")).contains("an M3 tenant says write = \"m3\""));
    assert!(
        error(&with("returns", m3_writer)).contains("write = \"m3\" needs product = \"datalake\"")
    );
    assert!(
        error(&with("returns", "facility = \"A01\""))
            .contains("bad `returns.facility`: only used with write = \"m3\"")
    );
    assert!(
        error(&with("webhooks", "listen = \"127.0.0.1:8080\""))
            .contains("bad `webhooks`: Cin7's purchase webhooks trigger the return direction")
    );
    assert!(
        error(&format!(
            "{MINIMAL}\n[returns]\n[webhooks]\nlisten = \"everywhere\"\n"
        ))
        .contains("`everywhere` is not an address and port")
    );
}

#[test]
fn environment_errors_name_the_variable_and_never_show_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let text = MINIMAL.replace(
        "SYNC_CLI_TEST_CIN7_KEY",
        "SYNC_CLI_TEST_UNSET_VARIABLE_FOR_SURE",
    );
    let config = Config::parse(&text, dir.path()).unwrap();
    assert_eq!(
        config.check_environment().unwrap_err().to_string(),
        "the environment variable SYNC_CLI_TEST_UNSET_VARIABLE_FOR_SURE (named by `cin7.application_key_env`) is not set"
    );
}

#[test]
fn the_account_id_can_come_from_the_environment() {
    let text = MINIMAL.replace(
        "account_id = \"acct\"",
        "account_id_env = \"SYNC_CLI_TEST_UNSET_ACCOUNT_VARIABLE\"",
    );
    let config = parse(&text).unwrap();
    assert_eq!(
        config.cin7.account_id,
        Cin7Account::Env("SYNC_CLI_TEST_UNSET_ACCOUNT_VARIABLE".into())
    );
    assert_eq!(
        config.check_environment().unwrap_err().to_string(),
        "the environment variable SYNC_CLI_TEST_UNSET_ACCOUNT_VARIABLE (named by `cin7.account_id_env`) is not set"
    );
    let both = MINIMAL.replace(
        "account_id = \"acct\"",
        "account_id = \"acct\"\naccount_id_env = \"X\"",
    );
    assert!(error(&both).contains("either `account_id` or `account_id_env`"));
    let neither = MINIMAL.replace("account_id = \"acct\"", "");
    assert!(error(&neither).starts_with("`cin7.account_id` is missing"));
}

/// `[engine] gl_target_check_every`: how often the GL stream reads Cin7's chart when
/// CloudSuite's has not changed. An hour by default; a duration longer than zero, never
/// "never"; each error names the key.
#[test]
fn the_gl_chart_check_interval_is_read_and_must_be_longer_than_zero() {
    let default = parse(MINIMAL).unwrap();
    assert_eq!(
        default.engine.gl_target_check_every,
        chrono::Duration::hours(1)
    );
    let config = parse(&with("engine", "gl_target_check_every = \"15m\"")).unwrap();
    assert_eq!(
        config.engine.gl_target_check_every,
        chrono::Duration::minutes(15)
    );
    assert_eq!(
        sync_core::engine::EngineConfig {
            gl_target_check_every: chrono::Duration::hours(1),
            ..config.engine
        },
        default.engine,
        "no other engine setting moved"
    );
    for (value, expected) in [
        (
            "0s",
            "bad `engine.gl_target_check_every`: `0s` must be longer than zero",
        ),
        (
            "never",
            "bad `engine.gl_target_check_every`: \"never\" is not accepted",
        ),
        (
            "hourly",
            "bad `engine.gl_target_check_every`: `hourly` is not a duration",
        ),
    ] {
        let message = error(&with(
            "engine",
            &format!("gl_target_check_every = \"{value}\""),
        ));
        assert!(message.starts_with(expected), "{value}: {message}");
    }
}

#[test]
fn the_documented_example_config_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sync.example.toml");
    let config = Config::load(path).unwrap();
    assert_eq!(config.tenant, "ACME_TST");
    assert!(matches!(config.schedule, Cadence::Interval(d) if d == Duration::from_secs(900)));
    // Its .ionapi file is the bundled sample, for the same tenant; only the key is missing.
    let out = Command::new(env!("CARGO_BIN_EXE_sync"))
        .args(["--config", path, "--check"])
        .env("CIN7_APPLICATION_KEY", "not-a-real-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("not-a-real-key"));
}

// ---------------------------------------------------------------------------------------------
// The binary.

fn sync(args: &[&str], key: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sync"));
    command
        .args(args)
        .env_remove("SYNC_CONFIG")
        .env_remove("RUST_LOG");
    match key {
        Some(key) => command.env(KEY_ENV, key),
        None => command.env_remove(KEY_ENV),
    };
    command.output().unwrap()
}

#[test]
fn the_binary_reports_bad_configs_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = sync(&["--config", "/no/such/sync.toml", "--once"], Some("k"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("cannot read the config file /no/such/sync.toml"));

    let file = dir.path().join("sync.toml");
    std::fs::write(&file, with("", "streams = [\"invoices\"]")).unwrap();
    let out = sync(&["--config", file.to_str().unwrap(), "--once"], Some("k"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("unknown variant `invoices`, expected one of `gl_accounts`"),
        "{}",
        text(&out)
    );

    std::fs::write(&file, "tenant = [").unwrap();
    let out = sync(&["--config", file.to_str().unwrap()], Some("k"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("is not valid"), "{}", text(&out));

    std::fs::write(&file, MINIMAL).unwrap();
    let out = sync(&["--config", file.to_str().unwrap(), "--check"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("SYNC_CLI_TEST_CIN7_KEY"),
        "{}",
        text(&out)
    );

    // The key is set, but the .ionapi file is not there.
    let out = sync(
        &["--config", file.to_str().unwrap(), "--check"],
        Some("the-secret-key"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("ion.ionapi"), "{}", text(&out));
    assert!(!text(&out).contains("the-secret-key"));
}

#[test]
fn ion_credentials_come_from_the_vault_or_a_file_for_the_same_tenant() {
    use infor_ion_client::IonApiFile;
    use infor_ion_client::vault::{Vault, VaultKey};
    use secrecy::ExposeSecret;

    let dir = tempfile::tempdir().unwrap();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.ionapi");
    let key = VaultKey::generate();
    let key_text = key.to_base64().expose_secret().to_owned();
    let mut vault = Vault::open_or_create(dir.path().join("ion.vault"), key).unwrap();
    vault
        .store(&IonApiFile::from_path(sample).unwrap())
        .unwrap();

    let from_vault = MINIMAL.replace(
        "ionapi = \"ACME_TST.ionapi\"",
        "vault = \"ion.vault\"\nvault_key_env = \"SYNC_CLI_TEST_VAULT_KEY\"",
    );
    let file = dir.path().join("sync.toml");
    let check = |text: &str, vault_key: Option<&str>| {
        std::fs::write(&file, text).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_sync"));
        command
            .args(["--config", file.to_str().unwrap(), "--check"])
            .env(KEY_ENV, "k")
            .env_remove("SYNC_CLI_TEST_VAULT_KEY");
        if let Some(vault_key) = vault_key {
            command.env("SYNC_CLI_TEST_VAULT_KEY", vault_key);
        }
        command.output().unwrap()
    };
    let out = check(&from_vault, Some(&key_text));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(&key_text), "the vault key was printed");

    let out = check(&from_vault, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains(
            "the environment variable SYNC_CLI_TEST_VAULT_KEY (named by `ion.vault_key_env`) is not set"
        ),
        "{}",
        text(&out)
    );

    let other_tenant = from_vault.replace("tenant = \"ACME_TST\"", "tenant = \"ACME_PRD\"");
    let out = check(&other_tenant, Some(&key_text));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("the vault has no entry for tenant `ACME_PRD`"),
        "{}",
        text(&out)
    );

    // An .ionapi file for another tenant than the config's is refused.
    std::fs::copy(sample, dir.path().join("ACME_TST.ionapi")).unwrap();
    let out = check(
        &MINIMAL.replace("tenant = \"ACME_TST\"", "tenant = \"ACME_PRD\""),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains(
            "the config says `ACME_PRD` but the ION credentials are for tenant `ACME_TST`"
        ),
        "{}",
        text(&out)
    );
}

/// Run the binary off the runtime's worker threads (the simulators keep serving).
async fn run_sync(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sync(&args, Some(DEFAULT_APPLICATION_KEY))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_syncs_everything_and_a_second_run_writes_nothing() {
    let sims = start(1, 8).await;
    let config = sims.config(1, "", "");
    let args = vec![
        "--config".to_owned(),
        config.to_str().unwrap().to_owned(),
        "--once".to_owned(),
    ];
    let out = run_sync(args.clone()).await;
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("stream") && printed.contains("created"),
        "{printed}"
    );
    assert!(
        !printed.contains(DEFAULT_APPLICATION_KEY),
        "the key was printed"
    );

    // Cin7 has every supplier once, stamped with its vendor ID, and every PO as a purchase.
    let by_vendor = sims.suppliers_by_vendor();
    assert_eq!(by_vendor.len(), 8, "{by_vendor:?}");
    assert!(by_vendor.values().all(|n| *n == 1), "{by_vendor:?}");
    let purchases = sims.cin7.state().purchases.len();
    assert!(purchases >= 4, "{purchases} purchases");

    // The store has the run's audit rows, none open.
    let store: Arc<dyn SyncStore> = Arc::new(
        SqliteStore::open(sims.store_path(), SystemClock::shared())
            .await
            .unwrap(),
    );
    let tenant = sims.ion.tenant().to_owned();
    let all = store.query(&AuditQuery::tenant(&tenant)).await.unwrap();
    assert!(
        all.iter()
            .filter(|e| e.stream == StreamId::suppliers() && e.status == AuditStatus::Succeeded)
            .count()
            >= 8
    );
    let open = store
        .query(&AuditQuery::tenant(&tenant).statuses(&AuditStatus::OPEN))
        .await
        .unwrap();
    assert!(open.is_empty(), "{open:#?}");
    let checkpoint = store
        .load_checkpoint(&StreamKey::new(&tenant, StreamId::suppliers()))
        .await
        .unwrap();
    assert!(checkpoint.cursor.is_some(), "the suppliers' cursor moved");

    // The second pass is incremental: nothing new to write.
    let writes = sims.cin7_writes();
    let out = run_sync(args).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sims.cin7_writes(), writes, "the second run wrote to Cin7");
    assert_eq!(sims.suppliers_by_vendor(), by_vendor);
    assert_eq!(sims.cin7.state().purchases.len(), purchases);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reads_everything_and_writes_nothing() {
    let sims = start(2, 6).await;
    let config = sims.config(2, "dry_run = true", "");
    let before = sims.cin7.state();
    let out = run_sync(vec![
        "--config".to_owned(),
        config.to_str().unwrap().to_owned(),
        "--once".to_owned(),
    ])
    .await;
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("DRY RUN: nothing was written to Cin7"),
        "{printed}"
    );
    assert!(printed.contains("would create supplier"), "{printed}");
    assert!(printed.contains("would create purchase"), "{printed}");

    let after = sims.cin7.state();
    assert_eq!(sims.cin7_writes(), 0, "{:?}", after.calls);
    assert_eq!(after.suppliers.len(), before.suppliers.len());
    assert_eq!(after.purchases.len(), before.purchases.len());
    assert!(
        after.calls.keys().any(|c| c.starts_with("GET ")),
        "it did read Cin7: {:?}",
        after.calls
    );
    assert!(
        !sims.store_path().exists(),
        "a dry run must not create or touch the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_a_scheduled_runner_cleanly() {
    let sims = start(3, 4).await;
    let config = sims.config(3, "", "[schedule]\ncadence = \"interval\"\nevery = \"1h\"");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sync"))
        .args(["--config", config.to_str().unwrap()])
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read its output on a thread; tell the test when it waits for the next run.
    let stdout = child.stdout.take().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap_or_default();
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let waiting = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = rx.recv().await {
            if line.starts_with("waiting for the next run") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(waiting, Ok(true), "the first run did not finish");
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        use std::io::Read;
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        (status, stderr)
    });
    let (status, stderr) = tokio::time::timeout(Duration::from_secs(30), exit)
        .await
        .expect("the runner did not stop after SIGINT")
        .unwrap();
    let stdout = reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("stopped after 1 run(s)."), "{stdout}");
    assert!(stderr.contains("stopping:"), "{stderr}");
    assert_eq!(sims.suppliers_by_vendor().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_in_a_window_commits_its_rows_and_keeps_its_cursor() {
    let sims = start(4, 10).await;
    let path = sims.config(4, "", "");
    let config = Config::load(&path).unwrap();
    // The key given programmatically (as an embedding service would), not through the
    // environment of this test process.
    let mut config = config;
    config.cin7.application_key = Some(secrecy::SecretString::from(DEFAULT_APPLICATION_KEY));

    // Ask for shutdown while the third supplier is being handled.
    let (shutdown, signal) = Shutdown::new();
    let shutdown = Arc::new(shutdown);
    let seen = Arc::new(AtomicUsize::new(0));
    let progress: ProgressFn = {
        let shutdown = shutdown.clone();
        let seen = seen.clone();
        Arc::new(move |event: &ProgressEvent| {
            if let ProgressEvent::Record { stream, .. } = event
                && *stream == StreamId::suppliers()
                && seen.fetch_add(1, Ordering::SeqCst) + 1 == 3
            {
                shutdown.trigger();
            }
        })
    };
    let wired = wire(&config, SystemClock::shared(), Some(progress))
        .await
        .unwrap();
    let report = wired.runner.run_once(Some(&signal)).await;
    assert!(report.interrupted, "{report:?}");
    let streams: Vec<_> = report.streams.iter().map(|s| s.stream.clone()).collect();
    assert_eq!(
        streams,
        vec![StreamId::gl_accounts(), StreamId::suppliers()],
        "no stream started after the shutdown"
    );

    let tenant = sims.ion.tenant().to_owned();
    let key = StreamKey::new(&tenant, StreamId::suppliers());
    let checkpoint = wired.store.load_checkpoint(&key).await.unwrap();
    assert_eq!(
        checkpoint.cursor, None,
        "an abandoned window must not move its cursor"
    );
    let rows = wired
        .store
        .query(&AuditQuery::tenant(&tenant).stream(StreamId::suppliers()))
        .await
        .unwrap();
    let written = sims.suppliers_by_vendor();
    assert!(
        (3..10).contains(&written.len()),
        "stopped after the record in flight: {written:?}"
    );
    let succeeded = rows
        .iter()
        .filter(|e| e.status == AuditStatus::Succeeded)
        .count();
    assert_eq!(
        succeeded,
        written.len(),
        "every supplier written has its committed audit row"
    );
    assert!(
        rows.iter().all(|e| e.status != AuditStatus::Pending),
        "no intent left dangling: {rows:#?}"
    );

    // The next run reads the window again and finishes it, without duplicating anything.
    let wired = wire(&config, SystemClock::shared(), None).await.unwrap();
    let report = wired.runner.run_once(None).await;
    assert!(report.is_ok() && !report.interrupted, "{report:?}");
    let written = sims.suppliers_by_vendor();
    assert_eq!(written.len(), 10, "{written:?}");
    assert!(written.values().all(|n| *n == 1), "{written:?}");
    assert!(
        wired
            .store
            .load_checkpoint(&key)
            .await
            .unwrap()
            .cursor
            .is_some()
    );
}

/// The interval reaches the GL stream the runner wires: with the default (an hour) a second
/// run right after the first does not read Cin7's chart; with a millisecond it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_reads_cin7s_chart_only_when_the_configured_interval_is_up() {
    let sims = start(47, 2).await;
    let run = |engine: &'static str| {
        let path = sims.config(47, "", engine);
        async move {
            let mut config = Config::load(&path).unwrap();
            config.cin7.application_key =
                Some(secrecy::SecretString::from(DEFAULT_APPLICATION_KEY));
            let wired = wire(&config, SystemClock::shared(), None).await.unwrap();
            let report = wired.runner.run_once(None).await;
            assert!(report.is_ok(), "{report:?}");
        }
    };
    let chart_reads = || sims.cin7.calls_to("GET /ref/account");
    run("").await;
    let first = chart_reads();
    assert!(first >= 1, "the first run reads Cin7's chart");
    run("").await;
    assert_eq!(chart_reads(), first, "read again within the hour");
    run("gl_target_check_every = \"1ms\"").await;
    assert_eq!(chart_reads(), first + 1, "the configured interval was up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_into_postgres_with_the_url_from_the_environment() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into());
    let schema = format!(
        "sync_cli_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_subsec_nanos()
    );
    let sims = start(5, 4).await;
    let path = sims.config(5, "", "");
    let rewritten = std::fs::read_to_string(&path).unwrap().replace(
        "store = \"sync.sqlite\"",
        &format!("store = \"env:SYNC_CLI_TEST_DB_URL\"\nstore_schema = \"{schema}\""),
    );
    std::fs::write(&path, rewritten).unwrap();
    let config = path.to_str().unwrap().to_owned();
    let pg_url = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_sync"))
            .args(["--config", &config, "--once"])
            .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
            .env("SYNC_CLI_TEST_DB_URL", &pg_url)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!sims.store_path().exists(), "nothing went to SQLite");

    let store: Arc<dyn SyncStore> = Arc::new(
        sync_core::store::postgres::PgStore::connect(
            sync_core::store::postgres::PgConfig::new(url).schema(schema),
            SystemClock::shared(),
        )
        .await
        .unwrap(),
    );
    let tenant = sims.ion.tenant().to_owned();
    let suppliers = store
        .query(
            &AuditQuery::tenant(&tenant)
                .stream(StreamId::suppliers())
                .statuses(&[AuditStatus::Succeeded]),
        )
        .await
        .unwrap();
    assert_eq!(suppliers.len(), 4, "{suppliers:#?}");
    assert_eq!(sims.suppliers_by_vendor().len(), 4);
}

#[test]
fn the_tenant_shape_keys_are_read_and_checked() {
    let shaped = format!(
        "{}\n{}",
        MINIMAL.replace(
            "site = \"DALS\"",
            "site = \"DALS\"\nrecord_date_zone = \"America/Chicago\""
        ),
        r#"
[ion.idos.SLVendors]
ido = "ACME_Vendors"
properties = { Name = "VendorName" }
[ion.distributions]
source = "voucher"
voucher_property = "Uf_ApAcct"
"#
    );
    let config = parse(&shaped).unwrap();
    assert_eq!(config.ion.record_date_zone, chrono_tz::America::Chicago);
    assert_eq!(
        config.ion.shape.idos.get("SLVendors"),
        Some(
            &PropertyMap::default()
                .ido("ACME_Vendors")
                .rename("Name", "VendorName")
        )
    );
    assert_eq!(
        config.ion.shape.distributions,
        Distributions::VoucherProperty("Uf_ApAcct".into())
    );

    // Each bad value names its key and what would be right.
    let cases: [(&str, &str, &str); 9] = [
        (
            "ion.idos.SLVendorz",
            "ido = \"X\"",
            "`SLVendorz` is not an IDO the sync reads",
        ),
        (
            "ion.idos.SLVendors",
            "properties = { Nmae = \"X\" }",
            "`Nmae` is not a property the sync reads from SLVendors",
        ),
        (
            "ion.idos.SLVendors",
            "ido = \"ACME Vendors\"",
            "bad `ion.idos.SLVendors.ido`",
        ),
        (
            "ion.distributions",
            "source = \"voucher\"",
            "`ion.distributions.voucher_property` is missing",
        ),
        (
            "ion.distributions",
            "source = \"gl\"",
            "unknown variant `gl`, expected one of `ido`, `voucher`, `default`\nin `ion.distributions.source`",
        ),
        (
            "ion.mi.Supplier",
            "transaction = \"CRS620MI/LstSuppliers\"",
            "applies only to product = \"m3\"",
        ),
        (
            "ion.idos.SLPos",
            "properties = { PoNum = \"P; DROP\" }",
            "bad `ion.idos.SLPos.properties.PoNum`",
        ),
        (
            "ion",
            "record_date_zone = \"Central\"",
            "`Central` is not an IANA time zone",
        ),
        (
            "ion.distributions",
            "account = \"61000\"",
            "apply only with source",
        ),
    ];
    for (section, line, expected) in cases {
        let text = if section == "ion" {
            MINIMAL.replace("site = \"DALS\"", &format!("site = \"DALS\"\n{line}"))
        } else {
            with(section, line)
        };
        let message = error(&text);
        assert!(message.contains(expected), "{section} {line}: {message}");
    }

    // M3 shapes are checked against the noun's fields and the MI name rules.
    let m3 = |section: &str| {
        let text = MINIMAL.replace(
            "product = \"csi\"\nmongoose_config = \"ACME_TST_DALS\"\nsite = \"DALS\"",
            "product = \"m3\"\ncompany = \"100\"",
        );
        error(&format!("{text}\n{section}"))
    };
    for (section, expected) in [
        (
            "[ion.mi.Vendor]\nfields = {}",
            "unknown variant `Vendor`, expected `GlAccount` or `Supplier`\nin `ion.mi`",
        ),
        (
            "[ion.mi.Supplier]\ntransaction = \"LstSuppliers\"",
            "write PROGRAM/Transaction",
        ),
        (
            "[ion.mi.Supplier]\nkey_field = \"supplier\"",
            "give `key_from`",
        ),
        (
            "[ion.mi.Supplier]\nfields = { nmae = \"X\" }",
            "bad `ion.mi.Supplier`",
        ),
        (
            "[ion.mi.Supplier]\nfields = { name = \"ZZ SUNM\" }",
            "bad `ion.mi.Supplier`",
        ),
    ] {
        let message = m3(section);
        assert!(message.contains(expected), "{section}: {message}");
    }
}

/// Failures of one run are the next runs' business: they are retried on their own once due
/// (`[engine] retry_after`), and until nothing is open `--once` exits 1, saying how many are
/// open from earlier runs (`--fail-on run` looks at this run only, `never` at nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_of_an_earlier_run_keep_the_exit_code_until_a_later_run_retries_them() {
    use sync_core::faults::Fault;
    let sims = start(60, 8).await;
    // Cin7 refuses the first three supplier creates (nothing applied).
    for _ in 0..3 {
        sims.cin7.faults().push_script(
            "POST /supplier",
            Fault::Status {
                status: 400,
                retry_after: None,
            },
        );
    }
    let once = |config: &Path, extra: &[&str]| {
        let mut args = vec![
            "--config".to_owned(),
            config.to_str().unwrap().to_owned(),
            "--once".to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    // Retries wait an hour: nothing is due in the next runs.
    let waiting = sims.config(60, "", "retry_after = \"1h\"").to_owned();
    let first = run_sync(once(&waiting, &[])).await;
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));

    let second = run_sync(once(&waiting, &[])).await;
    let printed = text(&second);
    assert_eq!(second.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("record(s) open in tenant") && printed.contains("from earlier runs"),
        "{printed}"
    );
    assert!(printed.contains("replay --config"), "{printed}");
    assert_eq!(
        run_sync(once(&waiting, &["--fail-on", "run"]))
            .await
            .status
            .code(),
        Some(0),
        "this run itself was clean"
    );
    assert_eq!(
        run_sync(once(&waiting, &["--fail-on", "never"]))
            .await
            .status
            .code(),
        Some(0)
    );
    // (A PO or invoice of a refused vendor creates its supplier as a dependency; the rest
    // wait.)
    assert!(sims.suppliers_by_vendor().len() < 8, "some still missing");

    // Due at once: the next run retries them, without replay, and nothing is left open.
    let due = sims.config(60, "", "retry_after = \"0s\"");
    let fixed = run_sync(once(&due, &[])).await;
    let printed = text(&fixed);
    assert_eq!(fixed.status.code(), Some(0), "{printed}");
    assert!(!printed.contains("open in tenant"), "{printed}");
    let by_vendor = sims.suppliers_by_vendor();
    assert_eq!(by_vendor.len(), 8, "{by_vendor:?}");
    assert!(by_vendor.values().all(|n| *n == 1), "{by_vendor:?}");
}

/// Nothing listens on the Cin7 port: the run says so in plain words ("connection refused")
/// after a few attempts instead of retrying every record on the backoff schedule, and exits 1
/// with the records left for the next run. The elapsed time is printed, not asserted
/// (docs/reliability.md has the figure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_cin7_port_ends_the_run_quickly_naming_the_cause() {
    let sims = start(61, 20).await;
    let config = sims.config(61, "", "");
    let dead = format!("http://127.0.0.1:{}/", common::dead_port());
    let text_of = std::fs::read_to_string(&config).unwrap();
    let base = sims.cin7.base_url().to_string();
    std::fs::write(&config, text_of.replace(&base, &dead)).unwrap();
    let started = std::time::Instant::now();
    let out = run_sync(vec![
        "--config".into(),
        config.to_str().unwrap().into(),
        "--once".into(),
    ])
    .await;
    let elapsed = started.elapsed();
    let printed = text(&out);
    println!("dead Cin7 port, 20 suppliers and their POs and vouchers: {elapsed:?}");
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(printed.contains("connection refused"), "{printed}");
}

/// Onboarding onto a Cin7 account that already holds the suppliers by name (no vendor IDs
/// stamped): the default neither duplicates nor silently links them; each waits as a conflict
/// naming its candidate and the run exits 1. `replay entry --name-match create` makes a new one
/// for one of them; with `name_match = "link"` in the file, replays link the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_onto_suppliers_held_by_name_neither_duplicates_nor_links_silently() {
    let sims = start(62, 4).await;
    let names: Vec<String> = sims
        .ion
        .data()
        .rows("SLVendors")
        .iter()
        .filter_map(|r| r.values.get("Name").cloned().flatten())
        .collect();
    for name in &names {
        sims.cin7.upsert_supplier(&common::supplier_named(name));
    }
    let before = sims.cin7.state().suppliers.len();
    let args = |config: &Path| {
        vec![
            "--config".to_owned(),
            config.to_str().unwrap().to_owned(),
            "--once".to_owned(),
        ]
    };
    let review = sims.config(62, "", "");
    let out = run_sync(args(&review)).await;
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert_eq!(
        sims.cin7.state().suppliers.len(),
        before,
        "no duplicate: {printed}"
    );
    assert!(printed.contains("record(s) open"), "{printed}");

    // The configuration decides: link them.
    let text_of = std::fs::read_to_string(&review).unwrap();
    std::fs::write(
        &review,
        text_of.replace(
            "[mappings.purchases]",
            "[mappings]\nname_match = \"link\"\n[mappings.purchases]",
        ),
    )
    .unwrap();
    // Each held supplier is replayed by its entry (conflicts are replayed one by one, by a
    // person who has decided).
    let store: Arc<dyn SyncStore> = Arc::new(
        SqliteStore::open(sims.store_path(), SystemClock::shared())
            .await
            .unwrap(),
    );
    let held = store
        .query(
            &AuditQuery::tenant(sims.ion.tenant())
                .stream(StreamId::suppliers())
                .statuses(&[AuditStatus::Conflict]),
        )
        .await
        .unwrap();
    assert_eq!(held.len(), names.len(), "{held:#?}");
    assert!(
        held.iter().all(|e| e
            .error
            .as_ref()
            .is_some_and(|e| e.message.contains("name_match"))),
        "{held:#?}"
    );
    drop(store);
    let mut printed = String::new();
    for (n, entry) in held.into_iter().enumerate() {
        let config = review.clone();
        let out = tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "--config".to_owned(),
                config.to_str().unwrap().to_owned(),
                "entry".to_owned(),
                entry.id.0.clone(),
            ];
            if n == 0 {
                // A person's choice for this one entry, over the file: a new supplier.
                args.extend(["--name-match".to_owned(), "create".to_owned()]);
            }
            Command::new(env!("CARGO_BIN_EXE_replay"))
                .args(&args)
                .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
                .env_remove("SYNC_CONFIG")
                .env_remove("RUST_LOG")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        printed = text(&out);
        assert_eq!(out.status.code(), Some(0), "{printed}");
    }
    assert_eq!(
        sims.cin7.state().suppliers.len(),
        before + 1,
        "one created by choice, the others linked: {printed}"
    );
    let mut by_vendor = sims.suppliers_by_vendor();
    assert_eq!(
        by_vendor.remove(""),
        Some(1),
        "the namesake left alone by `create`"
    );
    assert_eq!(
        by_vendor.len(),
        names.len(),
        "every vendor linked once: {by_vendor:?}"
    );
    assert!(by_vendor.values().all(|n| *n == 1), "{by_vendor:?}");
}

/// Nothing listens on the ION port: the run stops at the fit check with the cause in plain
/// words, exit 1, nothing written. The elapsed time is printed, not asserted
/// (docs/reliability.md has the figure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_ion_port_stops_the_run_naming_the_cause() {
    let sims = start(63, 4).await;
    let config = sims.config(63, "", "");
    let dead = format!("127.0.0.1:{}", common::dead_port());
    let ionapi = sims.dir.path().join("sim.ionapi");
    let text_of = std::fs::read_to_string(&ionapi).unwrap();
    let live = sims
        .ion
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let live = live.split('/').next().unwrap().to_owned();
    std::fs::write(&ionapi, text_of.replace(&live, &dead)).unwrap();
    let started = std::time::Instant::now();
    let out = run_sync(vec![
        "--config".into(),
        config.to_str().unwrap().into(),
        "--once".into(),
    ])
    .await;
    let elapsed = started.elapsed();
    let printed = text(&out);
    println!("dead ION port: {elapsed:?}\n{printed}");
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("connection refused") && printed.contains("ION was not reached"),
        "{printed}"
    );
    assert_eq!(sims.cin7_writes(), 0, "nothing written");
}
