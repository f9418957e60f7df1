//! M3 lists against the simulator: key-range paging reads every row in the fewest calls, a full
//! page on a list without a key range is refused, `returncols` carries the mapped columns, and
//! a tenant's field names are read through the field map; the simulated M3 answers its
//! documented outputs only, in the company named, selects by `LMTS`, may cap rows per call, and
//! blocked suppliers arrive inactive.
#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]

use futures::TryStreamExt;
use infor_ion_client::Error;
use infor_ion_client::m3::M3;
use infor_ion_client::m3::nouns::{FieldMap, GlAccount, Item, MiShape, Supplier, lmts};
use infor_ion_client::simulator::{CHART, IonSimulator, M3Profile, Seed, SimulatorConfig};
use sync_core::time::ManualClock;

/// A simulator (manual clock) with `suppliers` suppliers, and an M3 handle for company `100`.
async fn start(suppliers: usize) -> (IonSimulator, M3) {
    let sim = IonSimulator::start(SimulatorConfig {
        seed: Seed {
            suppliers,
            ..Seed::default()
        },
        clock: ManualClock::default().shared(),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let m3 = sim
        .client_builder()
        .unwrap()
        .build()
        .unwrap()
        .m3()
        .company("100");
    (sim, m3)
}

#[tokio::test]
async fn twenty_five_hundred_suppliers_are_read_in_four_calls_of_a_thousand() {
    let (sim, m3) = start(2500).await;
    let suppliers: Vec<Supplier> = m3.list(Vec::new(), 1000).try_collect().await.unwrap();
    assert_eq!(suppliers.len(), 2500);
    let ids: Vec<&str> = suppliers.iter().map(|s| s.supplier.as_str()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in key order, the boundary rows not read twice"
    );
    // 1000, 999 new from the 1000th, 501 new from the 1999th, then a call that adds nothing
    // (a short page is not the end: a server may cap rows below maxrecs).
    assert_eq!(sim.calls()["GET /m3/CRS620MI/LstSuppliers"], 4);
    // The simulator honours returncols: a row holds only the columns the layout asked for.
    let layout = m3.layout::<Supplier>().unwrap();
    let asked = layout.return_columns();
    assert!(
        suppliers[0]
            .raw
            .values()
            .keys()
            .all(|k| asked.contains(&k.as_str())),
        "{:?}",
        suppliers[0].raw
    );
}

#[tokio::test]
async fn a_full_page_without_a_key_range_is_an_error_naming_the_transaction() {
    let (sim, m3) = start(3).await;
    let aitp = || vec![("AITP".to_owned(), "1".to_owned())];
    let full = CHART.len() as u32;
    let err = m3
        .list::<GlAccount>(aitp(), full)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::MiListTruncated { program, transaction, rows }
            if program == "CRS630MI" && transaction == "LstAccountID" && *rows == full),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "M3 CRS630MI/LstAccountID returned {full} rows = maxrecs; the list may be truncated; \
             raise page_size (ion.page_size)"
        )),
        "{err}"
    );
    // One row of room and the whole chart is read in one call.
    let accounts: Vec<GlAccount> = m3.list(aitp(), full + 1).try_collect().await.unwrap();
    assert_eq!(accounts.len(), CHART.len());
    assert_eq!(sim.calls()["GET /m3/CRS630MI/LstAccountID"], 2);

    // A tenant whose `AITM` positions the list can page it by key instead.
    let paged = m3
        .clone()
        .shape::<GlAccount>(MiShape::new().key_range("AITM", "account"))
        .unwrap();
    let accounts: Vec<GlAccount> = paged.list(aitp(), 2).try_collect().await.unwrap();
    let mut codes: Vec<&str> = accounts.iter().map(|a| a.account.as_str()).collect();
    assert_eq!(codes.len(), CHART.len());
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), CHART.len());
}

#[tokio::test]
async fn a_required_field_the_tenant_does_not_return_names_the_transaction_field_and_entry() {
    let (_sim, m3) = start(5).await;
    let err = m3
        .clone()
        .fields::<Supplier>(FieldMap::new().map("supplier", "ZZSUNO"))
        .unwrap()
        .list::<Supplier>(Vec::new(), 100)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    let Error::MiFieldMissing {
        program,
        transaction,
        field,
        canonical,
        configured,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (
            program.as_str(),
            transaction.as_str(),
            field.as_str(),
            canonical.as_str(),
            *configured
        ),
        ("CRS620MI", "LstSuppliers", "ZZSUNO", "supplier", true)
    );
    assert!(
        err.to_string()
            .contains("field map entry supplier = ZZSUNO, as configured"),
        "{err}"
    );

    // An optional field the tenant does not return is left empty; the rest is read.
    let suppliers: Vec<Supplier> = m3
        .fields::<Supplier>(FieldMap::new().map("phone", "ZZPHNO"))
        .unwrap()
        .list(Vec::new(), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(suppliers.len(), 5);
    assert!(suppliers.iter().all(|s| s.phone.is_none()));
    assert!(suppliers.iter().all(|s| s.name.is_some()));
}

#[tokio::test]
async fn the_fit_check_names_each_output_field_the_tenant_does_not_return() {
    use infor_ion_client::cloudsuite::{CloudSuiteSource, ReadFrom};
    use sync_core::store::StreamId;

    let (sim, m3) = start(3).await;
    let streams = [
        StreamId::suppliers(),
        StreamId::gl_accounts(),
        StreamId::purchase_orders(),
    ];
    // The standard shape fits: every column the nouns read comes back, and the suppliers'
    // status (not in the list's documented output) comes from GetBasicData.
    let source = CloudSuiteSource::m3(m3.clone(), sim.tenant(), "100");
    let report = source.check_fit(&streams).await;
    let fits: Vec<_> = report
        .checks
        .iter()
        .map(|c| (c.ido.as_str(), c.is_usable()))
        .collect();
    assert_eq!(
        fits,
        [
            ("CRS620MI/LstSuppliers", true),
            ("CRS620MI/GetBasicData", true),
            ("CRS630MI/LstAccountID", true),
            ("PPS200MI/SearchHead", true)
        ],
        "{report:#?}"
    );
    assert!(
        report.checks[..4]
            .iter()
            .all(|c| c.outcome.as_ref().unwrap().missing.is_empty()),
        "{report:#?}"
    );
    // Purchase orders are served over MI; a failure would name the stream's route.
    assert_eq!(report.checks[3].config_key, "ion.routes.purchase_orders");

    // A field map naming columns the tenant does not return: a required one stops the noun,
    // an optional one is a warning, each with the key that maps it.
    let mapped = m3
        .fields::<Supplier>(
            FieldMap::new()
                .map("supplier", "ZZSUNO")
                .map("name", "ZZSUNM"),
        )
        .unwrap();
    let source = CloudSuiteSource::m3(mapped, sim.tenant(), "100");
    let report = source.check_fit(&streams[..1]).await;
    let check = &report.checks[0];
    assert_eq!(check.read_from, ReadFrom::Mi);
    assert_eq!(check.ido, "CRS620MI/LstSuppliers");
    assert!(!check.is_usable());
    let problem = check.problem().unwrap();
    assert!(
        problem.contains("ZZSUNO") && problem.contains("ion.mi.Supplier.fields.supplier"),
        "{problem}"
    );
    let warnings = check.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("ZZSUNM") && warnings[0].contains("ion.mi.Supplier.fields.name"));
}

/// A simulator (manual clock) with `suppliers` suppliers and this M3 profile.
async fn start_m3(suppliers: usize, profile: M3Profile) -> IonSimulator {
    IonSimulator::start(SimulatorConfig {
        seed: Seed {
            suppliers,
            ..Seed::default()
        },
        clock: ManualClock::default().shared(),
        m3: profile,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_server_capping_rows_below_maxrecs_still_yields_every_supplier() {
    let sim = start_m3(150, M3Profile::default().max_rows_per_call(40)).await;
    let m3 = sim.client_builder().unwrap().build().unwrap().m3();
    let suppliers: Vec<Supplier> = m3.list(Vec::new(), 1000).try_collect().await.unwrap();
    let ids: Vec<&str> = suppliers.iter().map(|s| s.supplier.as_str()).collect();
    assert_eq!(ids.len(), 150, "40 rows a call, asked for 1000");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "each supplier once");
    assert_eq!(ids.last(), Some(&"V000150"));
    // 40, then 39 new from each last key (the boundary row comes back), until nothing is new.
    assert_eq!(sim.calls()["GET /m3/CRS620MI/LstSuppliers"], 5);
}

/// 300 items changed over 30 days, 40 rows a call: paged by change date, every item once.
#[tokio::test]
async fn items_are_read_by_change_date_past_a_server_cap() {
    let sim = IonSimulator::start(SimulatorConfig {
        seed: Seed {
            items: 300,
            ..Seed::default()
        },
        clock: ManualClock::default().shared(),
        m3: M3Profile::default().max_rows_per_call(40),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let m3 = sim.client_builder().unwrap().build().unwrap().m3();
    let items: Vec<Item> = m3.list(Vec::new(), 1000).try_collect().await.unwrap();
    let mut numbers: Vec<&str> = items.iter().map(|i| i.item.as_str()).collect();
    assert!(
        items.windows(2).all(|w| w[0].changed_on <= w[1].changed_on),
        "in change-date order"
    );
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!((items.len(), numbers.len()), (300, 300), "each item once");
    assert!(sim.calls()["GET /m3/MMS200MI/LstItmByChgDate"] >= 8);
}

#[tokio::test]
async fn calls_run_in_the_company_named_and_an_unknown_company_is_m3s_error() {
    let other = Seed {
        seed: 300,
        suppliers: 7,
        ..Seed::default()
    };
    let sim = start_m3(12, M3Profile::default().with_company("300", other.clone())).await;
    let client = sim.client_builder().unwrap().build().unwrap();
    let names = |suppliers: &[Supplier]| -> Vec<String> {
        suppliers.iter().filter_map(|s| s.name.clone()).collect()
    };
    let in_300: Vec<Supplier> = client
        .m3()
        .company("300")
        .division("AAA")
        .list(Vec::new(), 100)
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<String> = {
        let data = sim.company_data("300").unwrap();
        data.rows("SLVendors")
            .iter()
            .map(|v| v.values["Name"].clone().unwrap())
            .collect()
    };
    assert_eq!(names(&in_300), expected);
    // Without cono the user's default company (100) answers: another company's suppliers.
    let default: Vec<Supplier> = client
        .m3()
        .list(Vec::new(), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(default.len(), 12);
    assert_ne!(names(&default)[..7], names(&in_300)[..]);
    // The user's defaults are read without the handle's company: 100 although it names 300.
    let user = client
        .m3()
        .company("300")
        .division("AAA")
        .user_defaults()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.company.as_deref(), user.division.as_deref()),
        (Some("100"), Some("AAA"))
    );

    for (m3, field, message) in [
        (
            client.m3().company("999"),
            "CONO",
            "Company 999 does not exist",
        ),
        (
            client.m3().company("300").division("ZZZ"),
            "DIVI",
            "Division ZZZ does not exist in company 300",
        ),
    ] {
        let err = m3
            .list::<Supplier>(Vec::new(), 100)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        match &err {
            Error::MiFailed { errors, .. } => {
                assert_eq!(errors[0].error_field.as_deref(), Some(field));
                assert_eq!(errors[0].error_message.as_deref(), Some(message));
            }
            other => panic!("{other:?}"),
        }
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn lst_suppliers_answers_its_documented_output_and_selects_by_lmts() {
    use chrono::TimeZone;
    let sim = start_m3(20, M3Profile::default()).await;
    let client = sim.client_builder().unwrap().build().unwrap();
    // Asked for, status and change date are still not in the documented output.
    let mapped = |m3: infor_ion_client::m3::M3| {
        m3.fields::<Supplier>(
            FieldMap::new()
                .map("changed_on", "LMDT")
                .map("status", "STAT"),
        )
        .unwrap()
    };
    let all: Vec<Supplier> = mapped(client.m3())
        .list(Vec::new(), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 20);
    assert!(
        all.iter()
            .all(|s| s.changed_on.is_none() && s.status.is_none() && s.name.is_some()),
        "{:?}",
        all[0].raw
    );

    // `LMTS` selects what changed after the stamp: one supplier renamed later than the rest.
    let at = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap();
    sim.data()
        .update("SLVendors", &["V000007"], &[("Name", Some("Renamed"))], at);
    let since = |at: chrono::DateTime<chrono::Utc>| vec![("LMTS".to_owned(), lmts(at))];
    let changed: Vec<Supplier> = client
        .m3()
        .list(since(at), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        changed
            .iter()
            .map(|s| (s.supplier.as_str(), s.name.as_deref()))
            .collect::<Vec<_>>(),
        [("V000007", Some("Renamed"))]
    );
    let later: Vec<Supplier> = client
        .m3()
        .list(since(at + chrono::Duration::milliseconds(1)), 100)
        .try_collect()
        .await
        .unwrap();
    assert!(later.is_empty());

    // A tenant that returns the change date when asked for it.
    let sim = start_m3(3, M3Profile::default().extra_output("LstSuppliers", "LMDT")).await;
    let client = sim.client_builder().unwrap().build().unwrap();
    let dated: Vec<Supplier> = mapped(client.m3())
        .list(Vec::new(), 100)
        .try_collect()
        .await
        .unwrap();
    assert!(
        dated
            .iter()
            .all(|s| s.changed_on.is_some() && s.status.is_none())
    );
}

#[tokio::test]
async fn blocked_suppliers_are_inactive_and_a_status_without_mapping_is_a_warning() {
    use infor_ion_client::cloudsuite::CloudSuiteSource;
    use sync_core::model::PartyStatus;
    use sync_core::source::{Source, Window};

    let sim = start_m3(50, M3Profile::default()).await;
    // A preliminary supplier (M3 status 10): neither active nor blocked.
    sim.data().update(
        "SLVendors",
        &["V000003"],
        &[("M3Stat", Some("10"))],
        sim.now(),
    );
    let m3 = sim
        .client_builder()
        .unwrap()
        .build()
        .unwrap()
        .m3()
        .company("100");
    let source = CloudSuiteSource::m3(m3, sim.tenant(), "100");
    let window = Window {
        from: None,
        ceiling: sim.now(),
    };
    let suppliers: Vec<sync_core::model::Supplier> =
        Source::poll(&source, window).try_collect().await.unwrap();
    assert_eq!(suppliers.len(), 50);
    let inactive: Vec<&str> = suppliers
        .iter()
        .filter(|s| s.status == PartyStatus::Inactive)
        .map(|s| s.vendor_id.as_str())
        .collect();
    // V000025 and V000050 are blocked (90); V000003 is 10, which the default map does not name.
    assert_eq!(inactive, ["V000003", "V000025", "V000050"]);
    assert!(suppliers.iter().all(|s| s.modified_at == window.ceiling));
    assert_eq!(sim.calls()["GET /m3/CRS620MI/GetBasicData"], 50);
    let warnings = source.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("`10`")
            && warnings[0].contains("written as Deprecated")
            && warnings[0].ends_with("1 supplier(s): V000003"),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn the_lmts_probe_sees_the_simulator_select_by_change_timestamp() {
    use infor_ion_client::cloudsuite::{CloudSuiteSource, LmtsProbe};
    for (suppliers, expected) in [(5, LmtsProbe::Selects), (0, LmtsProbe::NoSuppliers)] {
        let sim = start_m3(suppliers, M3Profile::default()).await;
        let m3 = sim.client_builder().unwrap().build().unwrap().m3();
        let source = CloudSuiteSource::m3(m3.clone(), sim.tenant(), "100");
        assert_eq!(source.probe_lmts().await.unwrap(), Some(expected));
        // A tenant's own supplier list takes no LMTS: nothing to probe.
        let custom = m3
            .shape::<Supplier>(MiShape::new().transaction("CMS100MI", "LstZZSupp"))
            .unwrap();
        let source = CloudSuiteSource::m3(custom, sim.tenant(), "100");
        assert_eq!(source.probe_lmts().await.unwrap(), None);
    }
}
