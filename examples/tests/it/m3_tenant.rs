//! An M3 tenant through the real `sync` binary, configured only with documented keys
//! (`product = "m3"`, `company`, `division`; docs/m3.md): the simulated M3 answers its
//! documented MI outputs only (no status or change date in `CRS620MI/LstSuppliers`), caps rows
//! per call below `maxrecs`, and holds two companies with different suppliers.
//!
//! - every supplier of the configured company arrives exactly once, blocked ones (status 90)
//!   as Deprecated, though the server returns 40 rows a call against `maxrecs` 1000;
//! - a second run reads only what changed (`LMTS`) and picks up a rename;
//! - company 300's config reads company 300's suppliers, never the user's default company;
//! - an unknown company stops before any write with M3's own message, exit 1.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::process::{Command, Output};

use cin7_core_client::simulator::DEFAULT_APPLICATION_KEY;
use cin7_core_client::supplier::SupplierStatus;
use common::{KEY_ENV, Sims, start_shaped, text};
use infor_ion_client::simulator::{M3Profile, Seed, SimulatorConfig};

/// The simulated M3: company 100 (the user's default, the main data) and company 300 with 35
/// suppliers of its own; at most 40 rows per call.
fn m3_tenant(config: SimulatorConfig) -> SimulatorConfig {
    SimulatorConfig {
        m3: M3Profile::default()
            .with_company(
                "300",
                Seed {
                    seed: 300,
                    suppliers: 35,
                    ..Seed::default()
                },
            )
            .max_rows_per_call(40),
        ..config
    }
}

/// The runner's config for company `company` (division AAA), suppliers only.
fn m3_config(sims: &Sims, seq: u64, company: &str) -> std::path::PathBuf {
    let path = sims.config(seq, "streams = [\"suppliers\"]", "");
    let csi = format!(
        "product = \"csi\"\nmongoose_config = \"{}\"\nsite = \"MAIN\"\n",
        sims.ion.mongoose_config()
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&csi), "{text}");
    // M3's supplier list carries no tax code: the documented default applies.
    let text = text
        .replace(
            &csi,
            &format!("product = \"m3\"\ncompany = \"{company}\"\ndivision = \"AAA\"\n"),
        )
        .replace(
            "default_location = \"Main Warehouse\"\n",
            "default_location = \"Main Warehouse\"\ndefault_tax_rule = \"GST on Expenses\"\n",
        );
    std::fs::write(&path, text).unwrap();
    path
}

/// The failed audit entries of the run, for a failing assertion's message.
fn failed(path: &std::path::Path) -> String {
    let store = path.with_file_name("sync.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_audit"))
        .args(["--store", store.to_str().unwrap(), "--tenant", "SIM_TST"])
        .args(["list", "--status", "failed", "--limit", "2"])
        .output()
        .unwrap();
    text(&out)
}

async fn sync(path: &std::path::Path) -> Output {
    let args = vec![
        "--config".to_owned(),
        path.to_str().unwrap().to_owned(),
        "--once".to_owned(),
    ];
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_sync"))
            .args(&args)
            .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Cin7's suppliers by the vendor ID stamped on them: (name, status).
fn cin7_suppliers(sims: &Sims) -> BTreeMap<String, (String, Option<SupplierStatus>)> {
    sims.cin7
        .state()
        .suppliers
        .iter()
        .map(|s| {
            (
                s.additional_attribute(1).unwrap_or_default().to_owned(),
                (s.name.clone(), s.status.clone()),
            )
        })
        .collect()
}

fn calls(sims: &Sims, endpoint: &str) -> u64 {
    sims.ion.calls().get(endpoint).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_supplier_arrives_once_blocked_ones_deprecated_and_a_rename_on_the_next_run() {
    let sims = start_shaped(76, 150, m3_tenant).await;
    let path = m3_config(&sims, 76, "100");
    // A preliminary supplier (M3 status 10, changed yesterday): the default status map does not
    // name it, so it is written as Deprecated with a warning in the summary.
    let yesterday = sims.ion.now() - chrono::Duration::days(1);
    assert!(sims.ion.data().update(
        "SLVendors",
        &["V000003"],
        &[("M3Stat", Some("10"))],
        yesterday
    ));

    let out = sync(&path).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", failed(&path));
    // 150 suppliers at 40 a call: the list went on past every short page.
    let by_vendor = sims.suppliers_by_vendor();
    assert_eq!(by_vendor.len(), 150, "{shown}");
    assert!(by_vendor.values().all(|n| *n == 1), "{by_vendor:?}");
    let suppliers = cin7_suppliers(&sims);
    let deprecated: Vec<&str> = suppliers
        .iter()
        .filter(|(_, (_, status))| *status == Some(SupplierStatus::Deprecated))
        .map(|(vendor, _)| vendor.as_str())
        .collect();
    // Every 25th seeded supplier is blocked (M3 status 90); every other one is 20.
    assert_eq!(
        deprecated,
        [
            "V000003", "V000025", "V000050", "V000075", "V000100", "V000125", "V000150"
        ],
        "{shown}"
    );
    assert!(
        shown.contains("Warnings")
            && shown.contains(
                "M3 supplier status `10` is not in the status map: written as Deprecated"
            )
            && shown.contains("1 supplier(s): V000003"),
        "{shown}"
    );
    assert!(
        suppliers
            .values()
            .filter(|(_, s)| *s != Some(SupplierStatus::Deprecated))
            .all(|(_, s)| *s == Some(SupplierStatus::Active))
    );
    // The names are company 100's.
    let expected = {
        let data = sims.ion.company_data("100").unwrap();
        data.find("SLVendors", &["V000042"]).unwrap().values["Name"].clone()
    };
    assert_eq!(Some(suppliers["V000042"].0.clone()), expected);
    let lists = calls(&sims, "GET /m3/CRS620MI/LstSuppliers");
    let statuses = calls(&sims, "GET /m3/CRS620MI/GetBasicData");
    // One status read per supplier (and one for the fit check).
    assert_eq!(statuses, 151, "{shown}");

    // A rename in M3; the next run reads only what changed since the last one.
    let now = sims.ion.now();
    assert!(sims.ion.data().update(
        "SLVendors",
        &["V000007"],
        &[("Name", Some("Nordic Träding AB"))],
        now
    ));
    let writes = sims.cin7_writes();
    let out = sync(&path).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let suppliers = cin7_suppliers(&sims);
    assert_eq!(suppliers.len(), 150);
    assert_eq!(suppliers["V000007"].0, "Nordic Träding AB");
    assert_eq!(sims.cin7_writes(), writes + 1, "{shown}");
    assert!(
        !shown.contains("Warnings"),
        "V000003 was not read again: {shown}"
    );
    let read_again = calls(&sims, "GET /m3/CRS620MI/GetBasicData") - statuses;
    assert_eq!(
        read_again, 2,
        "the fit check's read and the renamed supplier's: {shown}"
    );
    // Two for the fit check, one for the server time, and the list: one call returning the
    // renamed supplier, one adding nothing.
    assert_eq!(calls(&sims, "GET /m3/CRS620MI/LstSuppliers") - lists, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_300_reads_company_300_and_an_unknown_company_writes_nothing() {
    let sims = start_shaped(77, 20, m3_tenant).await;

    let path = m3_config(&sims, 77, "999");
    let out = sync(&path).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("nothing was written"), "{shown}");
    assert!(shown.contains("Company 999 does not exist"), "{shown}");
    assert_eq!(sims.cin7_writes(), 0, "{shown}");

    let path = m3_config(&sims, 77, "300");
    let out = sync(&path).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let suppliers = cin7_suppliers(&sims);
    assert_eq!(suppliers.len(), 35, "company 300 has 35 suppliers: {shown}");
    let company_300: BTreeMap<String, String> = {
        let data = sims.ion.company_data("300").unwrap();
        data.rows("SLVendors")
            .iter()
            .map(|v| {
                (
                    v.values["VendNum"].clone().unwrap(),
                    v.values["Name"].clone().unwrap(),
                )
            })
            .collect()
    };
    for (vendor, (name, _)) in &suppliers {
        assert_eq!(Some(name), company_300.get(vendor), "{vendor}");
    }
    // Company 100 (the user's default, 20 suppliers) holds other names for the same numbers.
    let differ = {
        let data = sims.ion.company_data("100").unwrap();
        data.rows("SLVendors")
            .iter()
            .filter(|v| {
                let vendor = v.values["VendNum"].clone().unwrap();
                v.values["Name"] != company_300.get(&vendor).cloned()
            })
            .count()
    };
    assert!(differ > 10, "{differ}");
}

#[test]
fn the_supplier_status_map_is_configured_and_checked() {
    use examples::config::Config;
    use infor_ion_client::cloudsuite::SupplierStatusMap;
    use sync_core::model::PartyStatus;

    let config = |extra: &str| {
        Config::parse(
            &format!(
                "tenant = \"ACME_TST\"\nstore = \"sync.sqlite\"\nstreams = [\"suppliers\"]\n\
                 [ion]\nionapi = \"x.ionapi\"\nproduct = \"m3\"\ncompany = \"300\"\n\
                 division = \"AAA\"\n{extra}\n[cin7]\naccount_id = \"acct\"\n\
                 application_key_env = \"K\"\n"
            ),
            std::path::Path::new("/etc/sync"),
        )
    };
    let plain = config("").unwrap();
    assert_eq!(
        plain.ion.shape.supplier_status,
        SupplierStatusMap::default()
    );
    let set = config(
        "[ion.supplier_status]\nvalues = { \"10\" = \"active\", \"90\" = \"deprecated\" }\n\
         other = \"active\"",
    )
    .unwrap();
    let map = &set.ion.shape.supplier_status;
    assert_eq!(map.get("10"), Some(&PartyStatus::Active));
    assert_eq!(map.get("20"), Some(&PartyStatus::Active), "defaults kept");
    assert_eq!(map.get("90"), Some(&PartyStatus::Inactive));
    assert_eq!(map.other_status(), &PartyStatus::Active);

    let error = |extra: &str| config(extra).unwrap_err().to_string();
    assert!(
        error("[ion.supplier_status]\nvalues = { \"20\" = \"open\" }")
            .contains("ion.supplier_status.values.20"),
    );
    assert!(error("[ion.supplier_status]\nvalues = { \"x\" = \"active\" }").contains("digits"));
    assert!(
        error("[ion.supplier_status]\nother = \"blocked\"").contains("ion.supplier_status.other")
    );
    let csi = Config::parse(
        "tenant = \"T\"\nstore = \"s.sqlite\"\n[ion]\nionapi = \"x.ionapi\"\nproduct = \"csi\"\n\
         mongoose_config = \"C\"\nsite = \"S\"\n[ion.supplier_status]\nother = \"active\"\n\
         [cin7]\naccount_id = \"a\"\napplication_key_env = \"K\"\n",
        std::path::Path::new("/etc/sync"),
    )
    .unwrap_err()
    .to_string();
    assert!(csi.contains("applies only to product = \"m3\""), "{csi}");
}
