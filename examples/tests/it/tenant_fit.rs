//! A tenant unlike the default, through the real `ping` and `sync` binaries: its vendors live
//! in a custom IDO with a renamed name property, some optional properties are missing, a PO
//! line property is renamed, and the distribution IDO may not be read. Configured only through
//! documented keys (docs/connecting-a-tenant.md), everything arrives; unconfigured, `ping` and
//! `sync` name every difference and nothing is written.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeSet;
use std::process::{Command, Output};

use cin7_core_client::simulator::DEFAULT_APPLICATION_KEY;
use common::{KEY_ENV, Sims, start_shaped, text};
use infor_ion_client::simulator::{SchemaProfile, SimulatorConfig};

/// The tenant's differences from the standard IDO shapes.
fn drifted(config: SimulatorConfig) -> SimulatorConfig {
    SimulatorConfig {
        schema: SchemaProfile::default()
            .serve_as("SLVendors", "ACME_Vendors")
            .rename("SLVendors", "Name", "VendorName")
            .without("SLVendors", "VadZip")
            .without("SLVendors", "Phone")
            .without("SLPos", "VendOrder")
            .rename("SLPoItems", "ItemCost", "PoCost")
            .forbidden("SLAptrxds"),
        // RecordDate in the site's local time, six hours behind UTC in winter.
        record_date_zone: chrono_tz::America::Chicago,
        ..config
    }
}

/// The documented keys that adapt the runner to that tenant.
const ADAPTED: &str = r#"
[ion.idos.SLVendors]
ido = "ACME_Vendors"
properties = { Name = "VendorName" }

[ion.idos.SLPoItems]
properties = { ItemCost = "PoCost" }

[ion.distributions]
source = "default"
account = "61000"
"#;

fn config(sims: &Sims, seq: u64, zone: &str, extra: &str) -> std::path::PathBuf {
    let path = sims.config(seq, "", "");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "default_currency = \"USD\"\n",
        &format!("default_currency = \"USD\"\n{zone}\n"),
    );
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

async fn run(bin: &'static str, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(match bin {
            "sync" => env!("CARGO_BIN_EXE_sync"),
            _ => env!("CARGO_BIN_EXE_ping"),
        })
        .args(&args)
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
    })
    .await
    .unwrap()
}

fn args(path: &std::path::Path, more: &[&str]) -> Vec<String> {
    let mut args = vec!["--config".to_owned(), path.to_str().unwrap().to_owned()];
    args.extend(more.iter().map(|a| (*a).to_owned()));
    args
}

/// The rows `ping` marked with `mark` (`✓`, `!`, `✗`), by name.
fn rows(shown: &str, mark: &str) -> BTreeSet<String> {
    shown
        .lines()
        .filter_map(|line| line.strip_prefix(mark))
        .map(|rest| {
            rest.trim_start()
                .split("  ")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unadapted_runner_names_every_difference_and_writes_nothing() {
    let sims = start_shaped(91, 6, drifted).await;
    let path = config(&sims, 91, "", "");

    let out = run("ping", args(&path, &[])).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let failed = rows(&shown, "✗");
    assert!(failed.contains("IDO SLVendors"), "{shown}");
    assert!(failed.contains("IDO SLPoItems"), "{shown}");
    assert!(failed.contains("IDO SLAptrxds"), "{shown}");
    assert!(shown.contains("ion.idos.SLVendors.ido"), "{shown}");
    assert!(
        shown.contains("ion.idos.SLPoItems.properties.ItemCost"),
        "{shown}"
    );
    assert!(shown.contains("permission"), "{shown}");
    assert_eq!(
        rows(&shown, "!"),
        BTreeSet::from(["IDO SLPos".to_owned()]),
        "{shown}"
    );

    let out = run("sync", args(&path, &["--once"])).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("nothing was written"), "{shown}");
    assert!(shown.contains("ion.idos.SLVendors.ido"), "{shown}");
    assert_eq!(sims.cin7_writes(), 0, "{shown}");
    assert!(!shown.contains(DEFAULT_APPLICATION_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_keys_adapt_the_runner_and_everything_arrives_once() {
    let sims = start_shaped(92, 6, drifted).await;
    let path = config(&sims, 92, "record_date_zone = \"America/Chicago\"", ADAPTED);

    // ping lists exactly the differences the sync lives with, and passes.
    let out = run("ping", args(&path, &[])).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(rows(&shown, "✗").is_empty(), "{shown}");
    assert_eq!(
        rows(&shown, "!"),
        BTreeSet::from([
            "IDO ACME_Vendors (SLVendors)".to_owned(),
            "IDO SLPos".to_owned()
        ]),
        "{shown}"
    );
    for missing in ["`VadZip`", "`Phone`", "`VendOrder`"] {
        assert!(shown.contains(missing), "{missing}: {shown}");
    }
    let passed = rows(&shown, "✓");
    for row in [
        "IDO SLPoItems",
        "IDO bookmark paging",
        "RecordDate zone",
        "Cin7 paging",
        "Cin7 references",
    ] {
        assert!(passed.contains(row), "{row}: {shown}");
    }

    // The first sync writes everything; the summary names the differences.
    let out = run("sync", args(&path, &["--once"])).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("Tenant differences"), "{shown}");

    // Every supplier once, with its name read from the renamed property.
    let by_vendor = sims.suppliers_by_vendor();
    let vendors = sims.ion.data().rows("SLVendors").to_vec();
    assert_eq!(by_vendor.len(), vendors.len(), "{by_vendor:?}");
    assert!(by_vendor.values().all(|n| *n == 1), "{by_vendor:?}");
    let state = sims.cin7.state();
    for vendor in &vendors {
        let name = vendor.values["Name"].clone().unwrap();
        assert!(
            state.suppliers.iter().any(|s| s.name == name),
            "{name} missing"
        );
    }

    // Every ordered PO once, carrying its CloudSuite order date; every voucher once.
    let ordered: Vec<_> = sims
        .ion
        .data()
        .rows("SLPos")
        .iter()
        .filter(|r| r.values["Stat"].as_deref() == Some("O"))
        .map(|r| r.values.clone())
        .collect();
    assert!(!ordered.is_empty());
    for po in &ordered {
        let number = po["PoNum"].clone().unwrap();
        let matching: Vec<_> = state
            .raw_purchases
            .iter()
            .filter(|p| p.to_string().contains(&format!("\"{number}\"")))
            .collect();
        assert_eq!(matching.len(), 1, "PO {number}: {matching:#?}");
        let order_date = po["OrderDate"].clone().unwrap();
        assert_eq!(
            matching[0]["OrderDate"].as_str().map(|d| &d[..10]),
            Some(&order_date[..10]),
            "PO {number}"
        );
    }
    let vouchers = sims.ion.data().rows("SLAptrxs").len();
    let invoiced: usize = state
        .raw_purchases
        .iter()
        .filter_map(|p| p["Invoice"].as_array())
        .map(|tasks| {
            tasks
                .iter()
                .filter(|t| t["Status"].as_str() != Some("NOT AVAILABLE"))
                .count()
        })
        .sum();
    assert_eq!(invoiced, vouchers, "{shown}");

    // A second run writes nothing.
    let writes = sims.cin7_writes();
    let out = run("sync", args(&path, &["--once"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sims.cin7_writes(), writes, "{}", text(&out));

    // A vendor renamed now is stamped in Chicago time, six hours "behind" a UTC reading: the
    // next incremental run reads it because the zone is configured.
    let vendor = vendors[0].values["VendNum"].clone().unwrap();
    let now = sims.ion.now();
    assert!(sims.ion.data().update(
        "SLVendors",
        &[vendor.as_str()],
        &[("Name", Some("Renamed After The First Run"))],
        now,
    ));
    let out = run("sync", args(&path, &["--once"])).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let renamed = sims
        .cin7
        .state()
        .suppliers
        .iter()
        .filter(|s| s.name == "Renamed After The First Run")
        .count();
    assert_eq!(renamed, 1, "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_cin7_name_that_does_not_exist_stops_the_sync_before_any_write() {
    let sims = start_shaped(93, 4, |config| config).await;
    let path = config(&sims, 93, "", "");
    let text_of = std::fs::read_to_string(&path).unwrap();
    let typo = text_of.replace(
        "\"MAIN\" = \"Main Warehouse\"",
        "\"MAIN\" = \"Main Warehose\"",
    );
    assert_ne!(typo, text_of, "the location mapping is in the test config");
    std::fs::write(&path, typo).unwrap();

    let out = run("sync", args(&path, &["--once"])).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("nothing was written"), "{shown}");
    assert!(rows(&shown, "✗").contains("Cin7 references"), "{shown}");
    assert!(
        shown.contains("location `Main Warehose` does not exist"),
        "{shown}"
    );
    assert_eq!(sims.cin7_writes(), 0, "{shown}");
}
