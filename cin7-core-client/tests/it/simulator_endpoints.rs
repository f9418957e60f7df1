#![cfg(feature = "simulator")]
#![allow(clippy::unwrap_used)]
//! The simulator's endpoints behave as Cin7's API docs describe them (and, where those are
//! silent, as `docs/assumptions.md` assumes), driven by the real client.

use crate::simulator_support;

use std::time::Duration;

use cin7_core_client::account::{Account, AccountClass, AccountStatus, AccountType};
use cin7_core_client::address::{Address, AddressType, Contact};
use cin7_core_client::request::Cin7Request;
use cin7_core_client::simulator::{AccountingIntegration, Cin7Simulator, UnknownPath};
use cin7_core_client::supplier::SupplierStatus;
use cin7_core_client::webhook::{AuthorizationType, Webhook, WebhookType};
use cin7_core_client::{Cin7Client, Error};
use secrecy::SecretString;
use simulator_support::*;
use sync_core::time::Clock;

#[tokio::test]
async fn wrong_or_missing_credentials_get_403() {
    let (sim, client, clock) = start(|c| c).await;
    assert!(client.me().get().await.is_ok());
    let wrong = builder(&sim, &clock)
        .application_key(SecretString::from("00000000-0000-0000-0000-00000000dead"))
        .build()
        .unwrap();
    let err = wrong.me().get().await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth { message, .. } if message.contains("Incorrect credentials")),
        "{err:?}"
    );
    let other_account = Cin7Client::builder()
        .account_id(SecretString::from(unique_account()))
        .application_key(SecretString::from(KEY))
        .base_url(sim.base_url())
        .clock(clock.shared())
        .build()
        .unwrap();
    assert!(matches!(
        other_account.suppliers().list().send().await,
        Err(Error::Auth { .. })
    ));
    // No headers at all.
    let raw = reqwest::get(format!("{}me", sim.base_url())).await.unwrap();
    assert_eq!(raw.status(), 403);
}

#[tokio::test]
async fn reference_data_me_and_filters() {
    let (sim, client, _clock) = start(|c| c).await;
    let me = client.me().get().await.unwrap();
    assert_eq!(me.currency.as_deref(), Some("AUD"));
    assert_eq!(me.time_zone.as_deref(), Some("Australia/Sydney"));
    assert_eq!(me.quantity_decimal_places(), Some(4));

    let purchase_taxes = client
        .reference()
        .tax_rules()
        .is_tax_for_purchase(true)
        .all()
        .await
        .unwrap();
    assert!(
        purchase_taxes
            .iter()
            .all(|t| t.is_tax_for_purchase == Some(true))
    );
    assert!(purchase_taxes.iter().any(|t| t.name == "GST on Expenses"));
    assert!(!purchase_taxes.iter().any(|t| t.name == "GST on Income"));
    let gst = client
        .reference()
        .tax_rules()
        .name("GST on Exp")
        .all()
        .await
        .unwrap();
    assert_eq!(gst.len(), 1);
    assert_eq!(gst[0].tax_percent, Some(10.into()));

    let terms = client
        .reference()
        .payment_terms()
        .is_default(true)
        .all()
        .await
        .unwrap();
    assert_eq!(terms.len(), 1);
    assert_eq!(terms[0].name, "30 days");
    let locations = client.reference().locations().all().await.unwrap();
    assert_eq!(locations.len(), 4);
    let live = client
        .reference()
        .locations()
        .deprecated(false)
        .all()
        .await
        .unwrap();
    assert_eq!(live.len(), 3);

    let chart = client.accounts().list().all().await.unwrap();
    assert!(chart.len() > 25);
    let payable = client.accounts().get("800").await.unwrap().unwrap();
    assert_eq!(payable.name, "Accounts Payable");
    assert_eq!(payable.system_account.as_deref(), Some("CREDITORS"));
    let banks = client
        .accounts()
        .list()
        .account_type(&AccountType::Bank)
        .all()
        .await
        .unwrap();
    assert_eq!(banks.len(), 2);
    // Deliberately not sorted, like the real API.
    let codes: Vec<_> = chart.iter().map(|a| a.code.clone()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_ne!(codes, sorted);
    assert_eq!(sim.state().calls.get("GET /ref/account"), Some(&3));
}

#[tokio::test]
async fn supplier_create_get_list_filters_and_validation() {
    let (sim, client, clock) = start(|c| c).await;
    let created = client
        .suppliers()
        .create(&new_supplier("Acme Timber"))
        .await
        .unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.status, Some(SupplierStatus::Active));
    assert!(created.last_modified_on.is_some());
    assert_eq!(
        client.suppliers().get(&id).await.unwrap().unwrap().name,
        "Acme Timber"
    );

    // Required references are checked by name / code.
    let mut bad = new_supplier("Bad Terms");
    bad.payment_term = Some("Net 999".into());
    let err = client.suppliers().create(&bad).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 400 && api.message.contains("Net 999")),
        "{err:?}"
    );
    let mut missing = new_supplier("No Currency");
    missing.currency = None;
    assert!(
        matches!(client.suppliers().create(&missing).await, Err(Error::Api(api)) if api.message.contains("Currency"))
    );

    clock.advance(Duration::from_secs(3600));
    let checkpoint = clock.now();
    clock.advance(Duration::from_secs(60));
    let mut later = new_supplier("Acme Fasteners");
    later.status = Some(SupplierStatus::Deprecated);
    let later = client.suppliers().create(&later).await.unwrap();

    // Name is a case-insensitive starts-with; deprecated ones need IncludeDeprecated.
    let acme = client.suppliers().list().name("acme").all().await.unwrap();
    assert_eq!(acme.len(), 1);
    let acme_all = client
        .suppliers()
        .list()
        .name("acme")
        .include_deprecated(true)
        .all()
        .await
        .unwrap();
    assert_eq!(acme_all.len(), 2);
    let since = client
        .suppliers()
        .list()
        .modified_since(checkpoint)
        .include_deprecated(true)
        .all()
        .await
        .unwrap();
    assert_eq!(
        since.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![later.id.clone()]
    );
    assert_eq!(sim.state().suppliers.len(), 2);
}

#[tokio::test]
async fn supplier_put_appends_children_without_id_on_every_call() {
    let (sim, client, clock) = start(|c| c).await;
    let mut supplier = new_supplier("Globex Metals");
    supplier.addresses.push(Address {
        line1: "1 Main St".into(),
        country: "Australia".into(),
        address_type: Some(AddressType::Business),
        ..Default::default()
    });
    let created = client.suppliers().create(&supplier).await.unwrap();
    assert_eq!(created.addresses.len(), 1);
    assert!(created.addresses[0].id.is_some());

    // A contact without ID, sent twice: two contacts (the documented duplicate quirk).
    let mut update = created.clone();
    update.contacts = vec![Contact {
        name: "Jo".into(),
        ..Default::default()
    }];
    clock.advance(Duration::from_secs(5));
    client.suppliers().update(&update).await.unwrap();
    let twice = client.suppliers().update(&update).await.unwrap();
    assert_eq!(twice.contacts.len(), 2);
    assert!(twice.last_modified_on > created.last_modified_on);

    // Sending the IDs back updates in place.
    let mut keep = twice.clone();
    keep.contacts[0].email = Some("jo@globex.example".into());
    keep.comments = Some("preferred".into());
    let kept = client.suppliers().update(&keep).await.unwrap();
    assert_eq!(kept.contacts.len(), 2);
    assert_eq!(kept.addresses.len(), 1);
    assert_eq!(kept.comments.as_deref(), Some("preferred"));
    let stored = sim
        .state()
        .supplier(created.id.as_ref().unwrap())
        .cloned()
        .unwrap();
    assert_eq!(
        stored.contacts[0].email.as_deref(),
        Some("jo@globex.example")
    );
    assert_eq!(
        stored.currency.as_deref(),
        Some("AUD"),
        "omitted fields are kept"
    );

    // Updating an unknown supplier is refused.
    let mut ghost = kept.clone();
    ghost.id = Some("11111111-2222-3333-4444-555555555555".parse().unwrap());
    assert!(
        matches!(client.suppliers().update(&ghost).await, Err(Error::Api(api)) if api.error_code == Some(404))
    );
}

fn account(code: &str, name: &str) -> Account {
    Account {
        code: code.into(),
        name: name.into(),
        account_type: Some(AccountType::Expense),
        status: Some(AccountStatus::Active),
        class: Some(AccountClass::Expense),
        ..Default::default()
    }
}

#[tokio::test]
async fn chart_of_accounts_writes_and_the_integration_refusal() {
    let (sim, client, _clock) = start(|c| c).await;
    let accounts = client.accounts();
    let saved = accounts
        .create_account_in_cin7_chart(&account("499", "Sim Expenses"))
        .await
        .unwrap();
    assert_eq!(saved.display_name.as_deref(), Some("499: Sim Expenses"));
    assert!(matches!(
        accounts
            .create_account_in_cin7_chart(&account("499", "Again"))
            .await,
        Err(Error::Api(_))
    ));
    let renamed = accounts
        .update_account_in_cin7_chart(&account("499", "Renamed"))
        .await
        .unwrap();
    assert_eq!(renamed.name, "Renamed");
    accounts
        .delete_account_from_cin7_chart("499")
        .await
        .unwrap();
    assert!(accounts.get("499").await.unwrap().is_none());
    assert!(
        matches!(accounts.delete_account_from_cin7_chart("800").await, Err(Error::Api(api)) if api.message.contains("System account"))
    );

    // Xero on: PUT refused; POST and DELETE allowed by default (unconfirmed in the docs).
    sim.set_accounting_integration(Some(AccountingIntegration::Xero));
    let err = accounts
        .update_account_in_cin7_chart(&account("400", "Ads"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.message.contains("Xero")),
        "{err:?}"
    );
    accounts
        .create_account_in_cin7_chart(&account("498", "Allowed"))
        .await
        .unwrap();
    assert_eq!(
        sim.state()
            .accounts
            .iter()
            .find(|a| a.code == "400")
            .unwrap()
            .name,
        "Advertising"
    );

    let (_sim, strict, _clock) = start(|c| {
        c.with_accounting_integration(AccountingIntegration::QuickBooks)
            .with_integration_blocking_all_account_writes(true)
    })
    .await;
    assert!(
        matches!(strict.accounts().create_account_in_cin7_chart(&account("497", "No")).await, Err(Error::Api(api)) if api.message.contains("QuickBooks"))
    );
    assert!(matches!(
        strict
            .accounts()
            .delete_account_from_cin7_chart("400")
            .await,
        Err(Error::Api(_))
    ));
}

fn hook(kind: WebhookType) -> Webhook {
    Webhook {
        webhook_type: Some(kind),
        is_active: Some(true),
        external_url: "http://127.0.0.1:9/hook".into(),
        external_authorization_type: Some(AuthorizationType::BearerAuth),
        external_bearer_token: Some(SecretString::from("tok")),
        ..Default::default()
    }
}

#[tokio::test]
async fn webhook_registration_and_the_five_per_type_limit() {
    let (sim, client, _clock) = start(|c| c).await;
    let hooks = client.webhooks();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            hooks
                .create(&hook(WebhookType::SupplierUpdated))
                .await
                .unwrap()
                .id
                .unwrap(),
        );
    }
    let sixth = hooks
        .create(&hook(WebhookType::SupplierUpdated))
        .await
        .unwrap_err();
    assert!(
        matches!(&sixth, Error::Api(api) if api.message.contains("at most 5")),
        "{sixth:?}"
    );
    hooks
        .create(&hook(WebhookType::PurchaseUpdated))
        .await
        .unwrap();
    let mut first = hooks
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.id.as_ref() == Some(&ids[0]))
        .unwrap();
    assert_eq!(first.name.as_deref(), Some("Supplier/Updated"));
    first.is_active = Some(false);
    let updated = hooks.update(&first).await.unwrap();
    assert_eq!(updated.is_active, Some(false));
    hooks.delete(&ids[1]).await.unwrap();
    assert_eq!(hooks.list().await.unwrap().len(), 5);
    assert_eq!(sim.state().webhooks.len(), 5);

    let (_sim, no_automation, _clock) = start(|c| c.with_automation_module(false)).await;
    // Reported like a scoped API application: a 403 naming the missing module.
    let err = no_automation.webhooks().list().await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth { message, .. } if message.contains("Automation")),
        "{err:?}"
    );
}

#[tokio::test]
async fn unknown_paths_and_case_insensitive_routes() {
    let (_sim, client, _clock) = start(|c| c).await;
    let err = client
        .execute(Cin7Request::get("Suppliers"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 404),
        "{err:?}"
    );
    let lower = client
        .execute(Cin7Request::get("REF/TAX").query("limit", 2))
        .await
        .unwrap();
    assert_eq!(lower.body["TaxRuleList"].as_array().unwrap().len(), 2);

    let (_sim, html, _clock) = start(|c| c.with_unknown_path(UnknownPath::HtmlOk)).await;
    let err = html
        .execute(Cin7Request::get("Products"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedBody { status: 200, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let (sim, client, _clock) = start(|c| c).await;
    let sim_url = sim.base_url();
    client.me().get().await.unwrap();
    sim.shutdown().await;
    let fresh = reqwest::Client::new()
        .get(format!("{sim_url}me"))
        .send()
        .await;
    assert!(fresh.is_err(), "still serving after shutdown");
    let _unused: Option<Cin7Simulator> = None;
}

#[tokio::test]
async fn changes_behind_the_api_show_up_in_incremental_polls() {
    let (sim, client, clock) = start(|c| c.with_suppliers(20)).await;
    let checkpoint = clock.now();
    assert!(
        client
            .suppliers()
            .list()
            .modified_since(checkpoint)
            .include_deprecated(true)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(Duration::from_secs(30));
    let mut edited = sim.state().suppliers[3].clone();
    edited.comments = Some("edited in the Cin7 UI".into());
    let id = sim.upsert_supplier(&edited);
    assert_eq!(Some(&id), edited.id.as_ref());
    let added = sim.upsert_supplier(&new_supplier("Typed In By Hand"));
    let changed = client
        .suppliers()
        .list()
        .modified_since(checkpoint)
        .include_deprecated(true)
        .all()
        .await
        .unwrap();
    let mut ids: Vec<_> = changed.iter().map(|s| s.id.clone().unwrap()).collect();
    ids.sort();
    let mut expected = vec![id, added];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(
        changed
            .iter()
            .any(|s| s.comments.as_deref() == Some("edited in the Cin7 UI"))
    );
}

#[tokio::test]
async fn debug_output_never_shows_the_credentials() {
    let (sim, _client, _clock) = start(|c| c).await;
    let config =
        cin7_core_client::simulator::SimulatorConfig::new("acct-visible?", "key-hidden-123");
    let text = format!("{config:?} {sim:?}");
    assert!(!text.contains("key-hidden-123"), "{text}");
    assert!(!text.contains("acct-visible?"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    assert!(!text.contains(sim.account_id()), "{text}");
}
