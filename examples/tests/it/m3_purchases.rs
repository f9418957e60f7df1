//! Purchase orders and supplier invoices from an M3 tenant through the real `sync` binary,
//! configured only with documented keys (`product = "m3"`, `company`, `division`,
//! `[ion.routes]`; docs/m3.md): the simulated M3 answers `PPS200MI/SearchHead`, `GetHead`,
//! `LstLine`, `APS200MI/SearchSupInvoic`, `GetInvoice` and the `APS450MI` batch lines with
//! their documented output fields, at most 7 rows a call.
//!
//! - every purchase order (its lines, order date) and every invoice reaches Cin7 exactly once,
//!   and a second run writes nothing;
//! - invoices can come from the Data Lake while the rest comes over MI;
//! - a route the product cannot serve is refused by `sync --check`, naming the key.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::process::{Command, Output};

use cin7_core_client::simulator::DEFAULT_APPLICATION_KEY;
use common::{KEY_ENV, Sims, start_shaped, text};
use infor_ion_client::simulator::{M3Profile, SimulatorConfig};

fn m3_tenant(config: SimulatorConfig) -> SimulatorConfig {
    SimulatorConfig {
        m3: M3Profile::default().max_rows_per_call(7),
        ..config
    }
}

/// The runner's config for company 100, division AAA, with `routes` under `[ion.routes]`.
fn m3_config(sims: &Sims, seq: u64, streams: &str, routes: &str) -> std::path::PathBuf {
    let path = sims.config(seq, streams, "");
    let csi = format!(
        "product = \"csi\"\nmongoose_config = \"{}\"\nsite = \"MAIN\"\n",
        sims.ion.mongoose_config()
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&csi), "{text}");
    let text = text
        .replace(
            &csi,
            "product = \"m3\"\ncompany = \"100\"\ndivision = \"AAA\"\npage_size = 1000\n",
        )
        .replace("[cin7]\n", &format!("[ion.routes]\n{routes}\n[cin7]\n"))
        .replace(
            "default_location = \"Main Warehouse\"\n",
            "default_location = \"Main Warehouse\"\ndefault_tax_rule = \"GST on Expenses\"\n",
        );
    std::fs::write(&path, text).unwrap();
    path
}

async fn run(path: &std::path::Path, extra: &[&str]) -> Output {
    let mut args = vec!["--config".to_owned(), path.to_str().unwrap().to_owned()];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
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

fn calls(sims: &Sims, endpoint: &str) -> u64 {
    sims.ion.calls().get(endpoint).copied().unwrap_or(0)
}

/// Cin7's purchases by the source number stamped on them: (order lines, order date,
/// quantities of the order lines, invoice numbers).
type Cin7Purchase = (usize, Option<chrono::NaiveDate>, Vec<String>, Vec<String>);

fn cin7_purchases(sims: &Sims) -> Vec<(String, Cin7Purchase)> {
    sims.cin7
        .state()
        .purchases
        .iter()
        .map(|p| {
            let number = p
                .additional_attributes
                .as_ref()
                .and_then(|a| a.get("AdditionalAttribute1"))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned();
            let order = p.order.as_ref();
            (
                number,
                (
                    order.map_or(0, |o| o.lines.len()),
                    p.order_date,
                    order
                        .map(|o| {
                            o.lines
                                .iter()
                                .map(|l| {
                                    l.quantity
                                        .map(|q| q.normalize().to_string())
                                        .unwrap_or_default()
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    p.invoice
                        .iter()
                        .filter_map(|i| i.invoice_number.clone())
                        .collect(),
                ),
            )
        })
        .collect()
}

/// A decimal's text without trailing zeros (`5.000` → `5`, `2.50` → `2.5`).
fn normalized(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text.to_owned()
    }
}

/// Company 100's purchase orders in the simulated M3: number → (order date, line quantities).
fn m3_orders(sims: &Sims) -> std::collections::BTreeMap<String, (chrono::NaiveDate, Vec<String>)> {
    let data = sims.ion.company_data("100").unwrap();
    data.rows("SLPos")
        .iter()
        .map(|h| {
            let po = h.values["PoNum"].clone().unwrap();
            let date = chrono::NaiveDate::parse_from_str(
                &h.values["OrderDate"].as_deref().unwrap()[..10],
                "%Y-%m-%d",
            )
            .unwrap();
            let mut lines: Vec<(u32, String)> = data
                .rows("SLPoItems")
                .iter()
                .filter(|l| l.values["PoNum"].as_deref() == Some(po.as_str()))
                .map(|l| {
                    (
                        l.values["PoLine"].as_deref().unwrap().parse().unwrap(),
                        normalized(l.values["QtyOrdered"].as_deref().unwrap()),
                    )
                })
                .collect();
            lines.sort();
            (po, (date, lines.into_iter().map(|(_, q)| q).collect()))
        })
        .collect()
}

fn m3_invoice_numbers(sims: &Sims) -> Vec<String> {
    let data = sims.ion.company_data("100").unwrap();
    let mut numbers: Vec<String> = data
        .rows("SLAptrxs")
        .iter()
        .map(|v| v.values["InvNum"].clone().unwrap())
        .collect();
    numbers.sort();
    numbers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchase_orders_and_invoices_over_mi_arrive_once_and_a_second_run_writes_nothing() {
    let sims = start_shaped(81, 40, m3_tenant).await;
    let path = m3_config(
        &sims,
        81,
        "streams = [\"suppliers\", \"purchase_orders\", \"supplier_invoices\"]",
        "purchase_orders = \"mi\"\nsupplier_invoices = \"mi\"",
    );
    let out = run(&path, &["--once"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");

    let expected = m3_orders(&sims);
    assert_eq!(expected.len(), 20);
    let purchases = cin7_purchases(&sims);
    for (po, (date, quantities)) in &expected {
        let found: Vec<&Cin7Purchase> = purchases
            .iter()
            .filter(|(number, _)| number == po)
            .map(|(_, p)| p)
            .collect();
        assert_eq!(found.len(), 1, "{po} exactly once: {shown}");
        let (lines, order_date, cin7_quantities, _) = found[0];
        assert_eq!(*lines, 2, "{po}");
        assert_eq!(*order_date, Some(*date), "{po}");
        assert_eq!(cin7_quantities, quantities, "{po}");
    }
    // Every invoice once, on its order's purchase or on its own.
    let mut invoices: Vec<String> = purchases.iter().flat_map(|(_, p)| p.3.clone()).collect();
    invoices.sort();
    assert_eq!(invoices, m3_invoice_numbers(&sims), "{shown}");
    // 20 orders at 7 rows a call: the search went on past every short page.
    let searches = calls(&sims, "GET /m3/PPS200MI/SearchHead");
    assert!(searches >= 4, "{searches}");
    assert_eq!(calls(&sims, "GET /m3/PPS200MI/GetHead"), 20);

    let writes = sims.cin7_writes();
    let out = run(&path, &["--once"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert_eq!(sims.cin7_writes(), writes, "nothing changed: {shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_the_product_cannot_serve_is_refused_by_check_naming_the_key() {
    let sims = start_shaped(82, 4, m3_tenant).await;
    let path = m3_config(
        &sims,
        82,
        "streams = [\"suppliers\", \"supplier_invoices\"]",
        "supplier_invoices = \"ido\"",
    );
    let out = run(&path, &["--check"]).await;
    let shown = text(&out);
    assert_ne!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("ion.routes.supplier_invoices")
            && shown.contains("needs product = \"csi\"")
            && shown.contains("set ion.routes.supplier_invoices = \"mi\" or \"datalake\""),
        "{shown}"
    );
    assert_eq!(
        sims.ion.calls().values().sum::<u64>(),
        0,
        "--check calls nothing"
    );

    // The same config with a route M3 can serve passes and shows the routes.
    let path = m3_config(
        &sims,
        82,
        "streams = [\"suppliers\", \"supplier_invoices\"]",
        "supplier_invoices = \"datalake\"",
    );
    let out = run(&path, &["--check"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("routes:   suppliers mi, supplier_invoices datalake"),
        "{shown}"
    );

    // `ping --config` tests each route: suppliers over MI (the company's user default beside
    // it), invoices from the Data Lake.
    let ping = {
        let args = vec!["--config".to_owned(), path.to_str().unwrap().to_owned()];
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_ping"))
                .args(&args)
                .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
                .env_remove("RUST_LOG")
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let shown = text(&ping);
    assert_eq!(ping.status.code(), Some(0), "{shown}");
    let row = shown
        .lines()
        .find(|l| l.contains("Data Lake SyncSupplierInvoice"))
        .unwrap_or_default();
    assert!(
        row.starts_with("✓ ") && row.ends_with(" document(s) published"),
        "{shown}"
    );
    assert!(shown.contains("✓ M3 user default"), "{shown}");
    assert_eq!(
        calls(&sims, "GET /datalake/list"),
        1,
        "one listing call for the route"
    );
}
