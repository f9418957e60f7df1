//! M3 lists against the simulator: key-range paging reads every row in the fewest calls, a full
//! page on a list without a key range is refused, `returncols` carries the mapped columns, and
//! a tenant's field names are read through the field map.
#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]

use futures::TryStreamExt;
use infor_ion_client::Error;
use infor_ion_client::m3::M3;
use infor_ion_client::m3::nouns::{FieldMap, GlAccount, MiShape, Supplier};
use infor_ion_client::simulator::{CHART, IonSimulator, Seed, SimulatorConfig};
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
async fn twenty_five_hundred_suppliers_are_read_in_three_calls_of_a_thousand() {
    let (sim, m3) = start(2500).await;
    let suppliers: Vec<Supplier> = m3.list(Vec::new(), 1000).try_collect().await.unwrap();
    assert_eq!(suppliers.len(), 2500);
    let ids: Vec<&str> = suppliers.iter().map(|s| s.supplier.as_str()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in key order, the boundary rows not read twice"
    );
    assert_eq!(sim.calls()["GET /m3/CRS620MI/LstSuppliers"], 3);
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
    // The standard shape fits: every column the nouns read comes back.
    let source = CloudSuiteSource::m3(m3.clone(), sim.tenant(), "100");
    let report = source.check_fit(&streams).await;
    let fits: Vec<_> = report
        .checks
        .iter()
        .map(|c| (c.noun, c.is_usable()))
        .collect();
    assert_eq!(
        fits,
        [
            ("Supplier", true),
            ("GlAccount", true),
            ("PurchaseOrder", false)
        ],
        "{report:#?}"
    );
    assert!(
        report.checks[..2]
            .iter()
            .all(|c| c.outcome.as_ref().unwrap().missing.is_empty())
    );
    assert!(report.checks[2].problem().unwrap().contains("ion.product"));

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
