//! The fit check's reference check (issue 16): each name a sync's mappings produce is found
//! active, missing or inactive in the simulator's reference data.
#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]

use crate::simulator_support;

use cin7_core_client::account::{Account, AccountStatus};
use cin7_core_client::fit::{ReferenceFinding, ReferenceKind, ReferenceNames, ReferenceState};
use simulator_support::*;

fn finding(kind: ReferenceKind, name: &str, state: ReferenceState) -> ReferenceFinding {
    ReferenceFinding {
        kind,
        name: name.into(),
        state,
    }
}

#[tokio::test]
async fn each_name_is_found_active_missing_or_inactive() {
    let (sim, client, _clock) = start(|c| c).await;
    // An archived account, made through the API like any chart change.
    let mut archived: Account = serde_json::from_value(serde_json::json!({
        "Code": "499", "Name": "Old freight", "Type": "EXPENSE", "Class": "EXPENSE", "Status": "ACTIVE",
    }))
    .unwrap();
    client
        .accounts()
        .create_account_in_cin7_chart(&archived)
        .await
        .unwrap();
    archived.status = Some(AccountStatus::Archived);
    client
        .accounts()
        .update_account_in_cin7_chart(&archived)
        .await
        .unwrap();

    let names = ReferenceNames {
        tax_rules: vec!["GST on Expenses".into(), "VAT 99%".into()],
        payment_terms: vec![" 30 DAYS ".into()],
        locations: vec![
            "Main Warehouse".into(),
            "Old Depot".into(),
            "Moon Base".into(),
        ],
        account_codes: vec!["412".into(), "499".into(), "9999".into()],
    };
    let before = sim.state().calls.values().sum::<u64>();
    let findings = client.check_references(&names).await.unwrap();
    use ReferenceKind::{Account as Acct, Location, PaymentTerm, TaxRule};
    use ReferenceState::{Inactive, Missing, Ok};
    assert_eq!(
        findings,
        vec![
            finding(TaxRule, "GST on Expenses", Ok),
            finding(TaxRule, "VAT 99%", Missing),
            finding(PaymentTerm, " 30 DAYS ", Ok),
            finding(Location, "Main Warehouse", Ok),
            finding(Location, "Old Depot", Inactive("deprecated".into())),
            finding(Location, "Moon Base", Missing),
            finding(Acct, "412", Ok),
            finding(Acct, "499", Inactive("Status ARCHIVED".into())),
            finding(Acct, "9999", Missing),
        ]
    );
    // One list per kind named.
    assert_eq!(sim.state().calls.values().sum::<u64>() - before, 4);

    // A kind with no names costs no call.
    let before = sim.state().calls.values().sum::<u64>();
    let only_terms = ReferenceNames {
        payment_terms: vec!["Cash".into()],
        ..Default::default()
    };
    let findings = client.check_references(&only_terms).await.unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(sim.state().calls.values().sum::<u64>() - before, 1);
}
