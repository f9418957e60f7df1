//! Pipeline behaviour: supplier matching, purchase orders, invoices, GL accounts, dependencies.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use sync_core::engine::gl_accounts::GlAccountPipeline;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, StreamRunner, WindowReport};
use sync_core::error::MappingKind;
use sync_core::faults::{Fault, FaultPlan};
use sync_core::mapping::Mappings;
use sync_core::model::{
    AccountClass, GlAccount, PartyStatus, PurchaseOrder, Supplier, SupplierInvoice,
};
use sync_core::replay::{ReplayMode, ReplayResult, Replayer};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{
    Action, AuditEntry, AuditStatus, DriftKind, ErrorClass, GlMappingStore, MatchResult, StreamId,
};
use sync_core::target::{Approach, DocStatus, SupplierDraft, TargetAccount, TaskStatus};
use sync_core::testing::{
    MemoryAccountTarget, MemoryPurchaseTarget, MemorySource, MemorySupplierTarget,
};
use sync_core::time::SharedClock;

struct Rig {
    store: MemoryStore,
    clock: SharedClock,
    suppliers_src: MemorySource<Supplier>,
    pos_src: MemorySource<PurchaseOrder>,
    invoices_src: MemorySource<SupplierInvoice>,
    gl_src: MemorySource<GlAccount>,
    supplier_target: MemorySupplierTarget,
    purchase_target: MemoryPurchaseTarget,
    chart: MemoryAccountTarget,
    suppliers: StreamRunner<SupplierPipeline>,
    pos: StreamRunner<PurchaseOrderPipeline>,
    invoices: StreamRunner<InvoicePipeline>,
    gl: GlAccountPipeline,
}

fn rig_with(mappings: Mappings, chart: Vec<TargetAccount>, mirror: bool) -> Rig {
    let config = EngineConfig {
        full_scan_every: None,
        ..config()
    };
    let suppliers_src = MemorySource::new(at(100));
    let pos_src = MemorySource::new(at(100));
    let invoices_src = MemorySource::new(at(100));
    let gl_src = MemorySource::new(at(100));
    let supplier_target = MemorySupplierTarget::new();
    let purchase_target = MemoryPurchaseTarget::new();
    let chart = MemoryAccountTarget::new(chart);
    let supplier_pipeline = Arc::new(SupplierPipeline::new(
        Arc::new(supplier_target.clone()),
        mappings.clone(),
    ));
    let pos = StreamRunner::new(
        Arc::new(PurchaseOrderPipeline::new(
            Arc::new(purchase_target.clone()),
            mappings.clone(),
            supplier_pipeline.clone(),
            Arc::new(suppliers_src.clone()),
        )),
        Arc::new(pos_src.clone()),
        config.clone(),
    );
    let invoices = StreamRunner::new(
        Arc::new(InvoicePipeline::new(
            Arc::new(purchase_target.clone()),
            mappings.clone(),
            supplier_pipeline.clone(),
            Arc::new(suppliers_src.clone()),
        )),
        Arc::new(invoices_src.clone()),
        config.clone(),
    );
    let suppliers = StreamRunner::new(supplier_pipeline, Arc::new(suppliers_src.clone()), config);
    let gl = GlAccountPipeline::new(Arc::new(gl_src.clone()), Arc::new(chart.clone()), mappings)
        .with_mirror(mirror);
    let (_, clock) = clock();
    Rig {
        store: MemoryStore::new(),
        clock,
        suppliers_src,
        pos_src,
        invoices_src,
        gl_src,
        supplier_target,
        purchase_target,
        chart,
        suppliers,
        pos,
        invoices,
        gl,
    }
}

fn rig() -> Rig {
    rig_with(mappings(), default_chart(), false)
}

fn account(code: &str, name: &str, class: AccountClass, active: bool) -> TargetAccount {
    TargetAccount {
        code: code.into(),
        name: name.into(),
        class: Some(class),
        account_type: None,
        active,
    }
}

fn default_chart() -> Vec<TargetAccount> {
    vec![
        account("630", "Inventory", AccountClass::Asset, true),
        account("715", "Purchases", AccountClass::Expense, true),
        account("800", "Accounts Payable", AccountClass::Liability, true),
    ]
}

impl Rig {
    fn ctx(&self) -> sync_core::engine::RunContext {
        run(Arc::new(self.store.clone()), &self.clock)
    }
    async fn suppliers(&self) -> WindowReport {
        self.suppliers.run_window(&self.ctx(), None).await.unwrap()
    }
    async fn pos(&self) -> WindowReport {
        self.pos.run_window(&self.ctx(), None).await.unwrap()
    }
    async fn invoices(&self) -> WindowReport {
        self.invoices.run_window(&self.ctx(), None).await.unwrap()
    }
    fn set_server_time(&self, t: chrono::DateTime<chrono::Utc>) {
        self.suppliers_src.set_server_time(t);
        self.pos_src.set_server_time(t);
        self.invoices_src.set_server_time(t);
        self.gl_src.set_server_time(t);
    }
    fn last(&self, stream: StreamId, source: &str) -> AuditEntry {
        self.store
            .all_entries()
            .into_iter()
            .rfind(|e| e.stream == stream && e.source.id == source)
            .unwrap()
    }
}

fn draft(name: &str, vendor: Option<&str>) -> SupplierDraft {
    SupplierDraft {
        name: name.into(),
        currency: "NZD".into(),
        payment_term: "30 days".into(),
        tax_rule: "GST on Expenses".into(),
        account_payable: "800".into(),
        tax_number: None,
        status: PartyStatus::Active,
        addresses: vec![],
        contacts: vec![],
        extra_fields: vendor
            .map(|v| BTreeMap::from([("AdditionalAttribute1".to_owned(), v.to_owned())]))
            .unwrap_or_default(),
    }
}

/// Onboarding onto an account that already holds the supplier by name: `create` makes a new
/// one, `link` uses (and stamps) the existing one; a namesake stamped with another vendor ID
/// is another vendor's and never held for review.
#[tokio::test]
async fn a_namesake_is_linked_or_created_only_when_the_configuration_says_so() {
    use sync_core::mapping::NameMatch;
    for (rule, expected_count, action) in [
        (NameMatch::Create, 3, Action::Create),
        (NameMatch::Link, 2, Action::Update),
    ] {
        let rig = rig_with(
            Mappings {
                name_match: rule,
                ..mappings()
            },
            default_chart(),
            false,
        );
        let existing = rig.supplier_target.seed(draft("Epsilon", None));
        rig.supplier_target.seed(draft("Zeta", Some("V9")));
        rig.suppliers_src.upsert(supplier("V5", "Epsilon", at(5)));
        rig.suppliers().await;
        let row = rig.last(StreamId::suppliers(), "V5");
        assert_eq!(
            (row.status, row.action),
            (AuditStatus::Succeeded, action),
            "{rule:?}"
        );
        assert_eq!(
            rig.supplier_target.suppliers().len(),
            expected_count,
            "{rule:?}"
        );
        if rule == NameMatch::Link {
            assert_eq!(row.target_id.as_deref(), Some(existing.as_str()));
            assert_eq!(
                rig.supplier_target.suppliers()[&existing].extra_fields["AdditionalAttribute1"],
                "V5",
                "stamped"
            );
        }
    }
    // Review (the default): another vendor's namesake is not a candidate.
    let rig = rig();
    rig.supplier_target.seed(draft("Zeta", Some("V9")));
    rig.suppliers_src.upsert(supplier("V6", "Zeta", at(6)));
    rig.suppliers().await;
    let row = rig.last(StreamId::suppliers(), "V6");
    assert_eq!(
        (row.status, row.action),
        (AuditStatus::Succeeded, Action::Create)
    );
}

#[tokio::test]
async fn supplier_match_results_created_by_id_ambiguous_and_a_namesake_held_for_review() {
    let rig = rig();
    let by_id = rig.supplier_target.seed(draft("Beta Old Name", Some("V2")));
    rig.supplier_target.seed(draft("Dup A", Some("V4")));
    rig.supplier_target.seed(draft("Dup B", Some("V4")));
    rig.supplier_target.seed(draft("Epsilon", None));
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.suppliers_src.upsert(supplier("V2", "Beta", at(2)));
    rig.suppliers_src.upsert(supplier("V4", "Delta", at(4)));
    rig.suppliers_src.upsert(supplier("V5", "Epsilon", at(5)));
    let report = rig.suppliers().await;
    assert_eq!((report.succeeded, report.conflicts), (2, 2), "{report:?}");

    let s = StreamId::suppliers();
    let alpha = rig.last(s.clone(), "V1");
    assert_eq!(
        (alpha.action, alpha.match_result),
        (Action::Create, Some(MatchResult::Created))
    );
    let beta = rig.last(s.clone(), "V2");
    assert_eq!(
        (beta.action, beta.match_result),
        (Action::Update, Some(MatchResult::ById))
    );
    assert_eq!(beta.target_id.as_deref(), Some(by_id.as_str()));
    assert_eq!(rig.supplier_target.suppliers()[&by_id].name, "Beta");
    let delta = rig.last(s.clone(), "V4");
    assert_eq!(delta.status, AuditStatus::Conflict);
    assert_eq!(delta.match_result, Some(MatchResult::Ambiguous));
    assert_eq!(delta.error.as_ref().unwrap().class, ErrorClass::Ambiguous);
    // An existing "Epsilon" without a vendor ID is neither guessed nor duplicated: held for
    // review, naming the candidate.
    let eps = rig.last(s.clone(), "V5");
    assert_eq!(eps.status, AuditStatus::Conflict);
    assert_eq!(eps.match_result, Some(MatchResult::Ambiguous));
    let message = &eps.error.as_ref().unwrap().message;
    assert!(message.contains("name_match"), "{message}");
    let candidates = &eps.mapped_snapshot.as_ref().unwrap()["candidates"];
    assert_eq!(candidates.as_array().map(Vec::len), Some(1), "{candidates}");
    assert_eq!(rig.supplier_target.suppliers().len(), 4 + 1);

    // Next change goes through the cross-reference.
    rig.suppliers_src
        .upsert(supplier("V1", "Alpha Ltd", at(150)));
    rig.set_server_time(at(200));
    rig.suppliers().await;
    assert_eq!(rig.last(s, "V1").match_result, Some(MatchResult::CrossRef));
}

#[tokio::test]
async fn supplier_matched_by_exact_name_when_enabled() {
    let rig = rig_with(
        Mappings {
            name_match: sync_core::mapping::NameMatch::Link,
            ..mappings()
        },
        default_chart(),
        false,
    );
    let existing = rig.supplier_target.seed(draft("Gamma", None));
    rig.supplier_target.seed(draft("Gamma Two", None));
    rig.suppliers_src.upsert(supplier("V3", "Gamma", at(3)));
    rig.suppliers().await;
    let gamma = rig.last(StreamId::suppliers(), "V3");
    assert_eq!(gamma.match_result, Some(MatchResult::ByName));
    assert_eq!(gamma.target_id.as_deref(), Some(existing.as_str()));
    // The vendor ID is now stamped, so later runs match by ID even without the name.
    assert_eq!(
        rig.supplier_target.suppliers()[&existing].extra_fields["AdditionalAttribute1"],
        "V3"
    );
}

/// Linking by name never silently reactivates a supplier deprecated in the target: under
/// `link` the vendor waits as a conflict naming it, nothing written; with
/// `reactivate_deprecated` it is linked, stamped and made active.
#[tokio::test]
async fn a_deprecated_namesake_is_reactivated_only_by_explicit_policy() {
    for reactivate in [false, true] {
        let rig = rig_with(
            Mappings {
                name_match: sync_core::mapping::NameMatch::Link,
                reactivate_deprecated: reactivate,
                ..mappings()
            },
            default_chart(),
            false,
        );
        let existing = rig.supplier_target.seed(SupplierDraft {
            status: PartyStatus::Inactive,
            ..draft("Theta", None)
        });
        rig.suppliers_src.upsert(supplier("V7", "Theta", at(7)));
        rig.suppliers().await;
        let row = rig.last(StreamId::suppliers(), "V7");
        let held = &rig.supplier_target.suppliers()[&existing];
        assert_eq!(rig.supplier_target.suppliers().len(), 1, "never duplicated");
        if reactivate {
            assert_eq!(
                (row.status, row.action, row.match_result),
                (
                    AuditStatus::Succeeded,
                    Action::Update,
                    Some(MatchResult::ByName)
                )
            );
            assert_eq!(held.status, PartyStatus::Active);
            assert_eq!(held.extra_fields["AdditionalAttribute1"], "V7");
        } else {
            assert_eq!(row.status, AuditStatus::Conflict, "{row:?}");
            assert_eq!(row.target_id.as_deref(), Some(existing.as_str()));
            let message = &row.error.as_ref().unwrap().message;
            assert!(message.contains("reactivate_deprecated"), "{message}");
            assert_eq!(held.status, PartyStatus::Inactive, "not reactivated");
            assert!(held.extra_fields.is_empty(), "nothing written");
        }
    }
}

#[tokio::test]
async fn supplier_index_is_built_from_full_pages() {
    let rig = rig();
    for i in 0..2500 {
        rig.supplier_target
            .seed(draft(&format!("S{i}"), Some(&format!("X{i}"))));
    }
    for i in 0..5 {
        rig.suppliers_src
            .upsert(supplier(&format!("V{i}"), &format!("New {i}"), at(i)));
    }
    rig.suppliers().await;
    // ceil(2500 / 1000) = 3 list calls for 5 records, not one lookup per record.
    assert_eq!(rig.supplier_target.calls().0, 3);
}

#[tokio::test]
async fn supplier_missing_mapping_is_a_clear_failure() {
    let rig = rig();
    let mut s = supplier("V1", "Alpha", at(1));
    s.payment_term = Some("N90".into());
    rig.suppliers_src.upsert(s);
    rig.suppliers().await;
    let e = rig.last(StreamId::suppliers(), "V1");
    assert_eq!(e.status, AuditStatus::Failed);
    assert_eq!(e.error.as_ref().unwrap().class, ErrorClass::Mapping);
    assert_eq!(
        e.error.as_ref().unwrap().message,
        "no payment term mapping for `N90` (supplier V1)"
    );
    assert!(rig.supplier_target.suppliers().is_empty());
}

#[tokio::test]
async fn purchase_order_created_then_lines_updated_while_draft() {
    let rig = rig();
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.suppliers().await;
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    let purchases = rig.purchase_target.purchases();
    assert_eq!(purchases.len(), 1);
    let (id, p) = purchases.iter().next().unwrap();
    assert_eq!(p.header.reference, "PO-1");
    assert_eq!(p.header.approach, Approach::Stock);
    assert_eq!(p.header.location.as_deref(), Some("Main Warehouse"));
    assert_eq!(p.order_status, TaskStatus::Draft);
    let order = p.order.as_ref().unwrap();
    assert_eq!(order.lines[0].quantity, 4.into());
    assert_eq!(order.lines[0].tax_rule.as_deref(), Some("GST on Expenses"));
    assert_eq!(
        rig.last(StreamId::purchase_orders(), "PO-1").match_result,
        Some(MatchResult::Created)
    );

    rig.pos_src.upsert(po("PO-1", "V1", 9, at(150)));
    rig.set_server_time(at(200));
    rig.pos().await;
    let purchases = rig.purchase_target.purchases();
    assert_eq!(purchases.len(), 1, "updated, not duplicated");
    assert_eq!(
        purchases[id].order.as_ref().unwrap().lines[0].quantity,
        9.into()
    );
    let e = rig.last(StreamId::purchase_orders(), "PO-1");
    assert_eq!(
        (e.action, e.status),
        (Action::Update, AuditStatus::Succeeded)
    );
}

#[tokio::test]
async fn purchase_order_change_after_authorisation_is_a_conflict() {
    let rig = rig();
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.pos().await;
    let id = rig
        .purchase_target
        .purchases()
        .keys()
        .next()
        .unwrap()
        .clone();
    assert!(rig.purchase_target.authorise_order(&id));

    rig.pos_src.upsert(po("PO-1", "V1", 9, at(150)));
    rig.set_server_time(at(200));
    let report = rig.pos().await;
    assert_eq!(report.conflicts, 1);
    let e = rig.last(StreamId::purchase_orders(), "PO-1");
    assert_eq!(e.status, AuditStatus::Conflict);
    assert_eq!(e.error.as_ref().unwrap().class, ErrorClass::Conflict);
    assert!(
        e.error
            .as_ref()
            .unwrap()
            .message
            .contains("after its order was authorised")
    );
    assert_eq!(
        rig.purchase_target.purchases()[&id]
            .order
            .as_ref()
            .unwrap()
            .lines[0]
            .quantity,
        4.into(),
        "not forced"
    );
    // The same conflict is not re-recorded on every overlapping window.
    let rows = rig.store.all_entries().len();
    rig.set_server_time(at(210));
    rig.pos().await;
    assert_eq!(rig.store.all_entries().len(), rows);
}

#[tokio::test]
async fn purchase_order_resolves_its_missing_supplier_first() {
    let rig = rig();
    // The supplier exists only in the source: the supplier stream has not run.
    rig.suppliers_src.upsert(supplier("V7", "Zeta", at(1)));
    rig.pos_src.upsert(po("PO-7", "V7", 1, at(2)));
    let report = rig.pos().await;
    assert_eq!(report.succeeded, 1);
    let suppliers = rig.supplier_target.suppliers();
    assert_eq!(suppliers.len(), 1);
    let (sid, _) = suppliers.iter().next().unwrap();
    let purchase = rig
        .purchase_target
        .purchases()
        .into_values()
        .next()
        .unwrap();
    assert_eq!(&purchase.header.supplier_id, sid);
    // The supplier's own audit row is in the supplier stream.
    let s = rig.last(StreamId::suppliers(), "V7");
    assert_eq!(
        (s.status, s.match_result),
        (AuditStatus::Succeeded, Some(MatchResult::Created))
    );
    // And the supplier stream later finds it already written.
    let report = rig.suppliers().await;
    assert_eq!(report.skipped, 1);
}

#[tokio::test]
async fn purchase_order_is_deferred_until_its_supplier_appears_then_retried() {
    let rig = rig();
    rig.pos_src.upsert(po("PO-8", "V8", 1, at(2)));
    let report = rig.pos().await;
    assert_eq!(report.deferred, 1);
    let e = rig.last(StreamId::purchase_orders(), "PO-8");
    assert_eq!(e.status, AuditStatus::Deferred);
    assert_eq!(e.error.as_ref().unwrap().class, ErrorClass::Dependency);

    // Much later (the PO is outside the lookback now) the supplier appears.
    rig.suppliers_src.upsert(supplier("V8", "Eta", at(500)));
    rig.set_server_time(at(1000));
    let report = rig.pos().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(rig.purchase_target.purchases().len(), 1);
    assert!(
        rig.store
            .all_entries()
            .iter()
            .filter(|e| e.source.id == "PO-8")
            .all(|e| !e.status.is_open())
    );
}

#[tokio::test]
async fn invoice_lines_are_allocated_through_the_gl_mapping() {
    let table = table().with(MappingKind::GlAccount, "6100", "715");
    let rig = rig_with(Mappings::with_values(table), default_chart(), false);
    rig.gl_src
        .upsert(gl("630", "Inventory", AccountClass::Asset, true));
    rig.gl.run(&rig.ctx()).await.unwrap();

    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    let pid = rig
        .purchase_target
        .purchases()
        .keys()
        .next()
        .unwrap()
        .clone();
    rig.purchase_target.authorise_order(&pid);
    // Line 1 through the user override, line 2 through the stored GL mapping.
    let mut inv = invoice("INV-1", "V1", Some("PO-1"), "6100", at(3));
    let mut second = inv.lines[0].clone();
    second.line_no = 2;
    second.gl_account = "630".into();
    inv.lines.push(second);
    rig.invoices_src.upsert(inv);
    let report = rig.invoices().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    let purchase = &rig.purchase_target.purchases()[&pid];
    let (draft, status) = purchase.invoices.values().next().unwrap();
    assert_eq!(draft.invoice_number, "INV-1");
    assert_eq!(*status, TaskStatus::Draft);
    let accounts: Vec<_> = draft.lines.iter().map(|l| l.account.as_str()).collect();
    assert_eq!(accounts, ["715", "630"]);
}

#[tokio::test]
async fn invoice_on_a_draft_order_is_deferred() {
    let rig = rig();
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    rig.gl_src
        .upsert(gl("715", "Purchases", AccountClass::Expense, true));
    rig.gl.run(&rig.ctx()).await.unwrap();
    rig.invoices_src
        .upsert(invoice("INV-1", "V1", Some("PO-1"), "715", at(3)));
    let report = rig.invoices().await;
    assert_eq!(report.deferred, 1);
    assert!(
        rig.last(StreamId::supplier_invoices(), "VCH-INV-1")
            .error
            .unwrap()
            .message
            .contains("not authorised")
    );
}

/// Before the GL stream has ever stored a mapping (its first run failed, say), an invoice
/// needing one waits instead of failing, and goes through by itself once the mapping is there.
#[tokio::test]
async fn an_invoice_waits_for_the_first_gl_mapping_and_goes_through_by_itself() {
    let rig = rig();
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.invoices_src
        .upsert(invoice("INV-8", "V1", None, "630", at(3)));
    assert_eq!(rig.invoices().await.deferred, 1);
    let waiting = rig.last(StreamId::supplier_invoices(), "VCH-INV-8");
    assert_eq!(waiting.status, AuditStatus::Deferred);
    assert!(
        waiting
            .error
            .as_ref()
            .is_some_and(|e| e.message.contains("no GL mapping has been stored yet")),
        "{waiting:?}"
    );
    // The GL stream maps CloudSuite 630 onto the target's 630.
    rig.gl_src
        .upsert(gl("630", "Inventory", AccountClass::Asset, true));
    rig.gl.run(&rig.ctx()).await.unwrap();
    let report = rig.invoices().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(rig.purchase_target.purchases().len(), 1);
}

#[tokio::test]
async fn invoice_with_unmapped_account_fails_clearly_and_replays_after_the_fix() {
    let rig = rig();
    // The GL stream has stored its mapping; 9999 is not in it.
    rig.gl.run(&rig.ctx()).await.unwrap();
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.invoices_src
        .upsert(invoice("INV-9", "V1", None, "9999", at(3)));
    rig.invoices().await;
    let failed = rig.last(StreamId::supplier_invoices(), "VCH-INV-9");
    assert_eq!(failed.status, AuditStatus::Failed);
    let error = failed.error.clone().unwrap();
    assert_eq!(error.class, ErrorClass::Mapping);
    assert_eq!(
        error.message,
        "no GL account mapping for `9999` (invoice INV-9 line 1)"
    );
    assert!(rig.purchase_target.purchases().is_empty(), "nothing sent");

    // The account is added to the target chart; the GL pipeline maps it; replay.
    rig.gl_src
        .upsert(gl("9999", "Freight", AccountClass::Expense, true));
    rig.chart
        .create_account_for_test(account("9999", "Freight", AccountClass::Expense, true));
    rig.gl.run(&rig.ctx()).await.unwrap();
    let replayer = Replayer::new(
        rig.invoices.pipeline().clone(),
        rig.invoices.source().clone(),
    );
    let result = replayer
        .replay_entry(&rig.ctx(), &failed.id, ReplayMode::Snapshot)
        .await
        .unwrap();
    assert_eq!(result.status(), Some(AuditStatus::Succeeded));
    let purchases = rig.purchase_target.purchases();
    assert_eq!(purchases.len(), 1);
    let p = purchases.values().next().unwrap();
    assert_eq!(
        p.header.approach,
        Approach::Invoice,
        "no PO: invoice-first purchase"
    );
    assert_eq!(p.order_status, TaskStatus::Authorised);
    assert_eq!(
        p.invoices.values().next().unwrap().0.lines[0].account,
        "9999"
    );
    assert_eq!(
        rig.store
            .all_entries()
            .iter()
            .find(|e| e.id == failed.id)
            .unwrap()
            .status,
        AuditStatus::Resolved
    );
    // Idempotent.
    let again = replayer
        .replay_entry(&rig.ctx(), &failed.id, ReplayMode::Snapshot)
        .await
        .unwrap();
    assert_eq!(again, ReplayResult::AlreadyResolved(failed.id.clone()));
    assert_eq!(rig.purchase_target.purchases().len(), 1);
}

#[tokio::test]
async fn invoice_is_looked_up_by_number_after_an_uncertain_post() {
    let table = table().with(MappingKind::GlAccount, "6100", "715");
    let rig = rig_with(Mappings::with_values(table), default_chart(), false);
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.suppliers().await;
    rig.invoices_src
        .upsert(invoice("INV-5", "V1", None, "6100", at(3)));
    // Writes: create purchase (0), set order (1), post invoice (2) -> times out after send.
    rig.purchase_target
        .set_faults(FaultPlan::none().at("write", 2, Fault::ResetAfterApply));
    let report = rig.invoices().await;
    assert_eq!(report.failed, 1);
    assert_eq!(
        rig.last(StreamId::supplier_invoices(), "VCH-INV-5")
            .error
            .unwrap()
            .class,
        ErrorClass::UnknownOutcome
    );
    // The record is outside the next window's lookback: replay the failed entries of the
    // stream. The replay sees the uncertain outcome and looks the invoice up first.
    rig.set_server_time(at(1000));
    rig.invoices().await;
    let replayer = Replayer::new(
        rig.invoices.pipeline().clone(),
        rig.invoices.source().clone(),
    );
    let results = replayer
        .replay_failed(
            &rig.ctx(),
            sync_core::replay::ReplayScope::Stream,
            ReplayMode::Refetch,
        )
        .await
        .unwrap();
    assert_eq!(results.len(), 1);
    let ReplayResult::Replayed(entry) = &results[0] else {
        panic!("{results:?}")
    };
    // The purchase is known (cross-reference kept after its create); the invoice on it is
    // found by number and overwritten as a draft, not posted again.
    assert_eq!(
        (entry.action, entry.status),
        (Action::Update, AuditStatus::Succeeded)
    );
    let purchases = rig.purchase_target.purchases();
    assert_eq!(purchases.len(), 1);
    assert_eq!(
        purchases.values().next().unwrap().invoices.len(),
        1,
        "not posted twice"
    );
    let entries = rig.store.all_entries();
    assert!(
        entries.iter().all(|e| !e.status.is_open()),
        "{:#?}",
        entries
            .iter()
            .map(|e| (
                &e.stream,
                &e.source.id,
                e.status,
                e.action,
                e.match_result,
                &e.error
            ))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn gl_accounts_mapping_and_drift_report_is_informational_by_default() {
    let rig = rig_with(
        mappings(),
        vec![
            account("630", "Stock on hand", AccountClass::Asset, true),
            account("715", "Purchases", AccountClass::Liability, true),
            account("720", "Freight", AccountClass::Expense, false),
        ],
        false,
    );
    rig.gl_src
        .upsert(gl("630", "Inventory", AccountClass::Asset, true));
    rig.gl_src
        .upsert(gl("715", "Purchases", AccountClass::Expense, true));
    rig.gl_src
        .upsert(gl("720", "Freight", AccountClass::Expense, true));
    rig.gl_src
        .upsert(gl("999", "Suspense", AccountClass::Liability, true));
    let report = rig.gl.run(&rig.ctx()).await.unwrap();
    assert_eq!(report.read, 4);
    let mapping = rig.store.gl_mapping(TENANT).await.unwrap().unwrap();
    assert_eq!(
        mapping.accounts,
        BTreeMap::from([
            ("630".to_owned(), "630".to_owned()),
            ("715".to_owned(), "715".to_owned()),
            ("720".to_owned(), "720".to_owned()),
        ])
    );
    let drift: Vec<(&str, &DriftKind)> = mapping
        .drift
        .iter()
        .map(|d| (d.source_code.as_str(), &d.drift))
        .collect();
    assert!(drift.contains(&(
        "630",
        &DriftKind::NameDiffers {
            source: "Inventory".into(),
            target: "Stock on hand".into()
        }
    )));
    assert!(drift.contains(&(
        "715",
        &DriftKind::ClassDiffers {
            source: AccountClass::Expense,
            target: Some(AccountClass::Liability)
        }
    )));
    assert!(drift.contains(&("720", &DriftKind::InactiveInTarget)));
    assert!(drift.contains(&("999", &DriftKind::MissingInTarget)));
    assert_eq!(
        rig.chart.creates(),
        0,
        "never writes the target chart by default"
    );
    assert_eq!(
        rig.store.all_entries().len(),
        4,
        "one audit row per account"
    );

    // Unchanged second run: no new audit rows.
    rig.gl.run(&rig.ctx()).await.unwrap();
    assert_eq!(rig.store.all_entries().len(), 4);
}

#[tokio::test]
async fn gl_accounts_mirror_mode_creates_missing_active_accounts() {
    let rig = rig_with(mappings(), default_chart(), true);
    rig.gl_src
        .upsert(gl("999", "Suspense", AccountClass::Liability, true));
    rig.gl_src
        .upsert(gl("998", "Old", AccountClass::Expense, false));
    rig.gl.run(&rig.ctx()).await.unwrap();
    assert_eq!(rig.chart.creates(), 1);
    assert!(rig.chart.accounts().contains_key("999"));
    let mapping = rig.store.gl_mapping(TENANT).await.unwrap().unwrap();
    assert_eq!(mapping.accounts.get("999").map(String::as_str), Some("999"));
    let e = rig.last(StreamId::gl_accounts(), "999");
    assert_eq!(
        (e.action, e.status),
        (Action::Create, AuditStatus::Succeeded)
    );
}

#[tokio::test]
async fn order_policy_authorised_writes_authorised_orders() {
    let mut m = mappings();
    m.purchases.order_status = DocStatus::Authorised;
    let rig = rig_with(m, default_chart(), false);
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    let p = rig
        .purchase_target
        .purchases()
        .into_values()
        .next()
        .unwrap();
    assert_eq!(p.order_status, TaskStatus::Authorised);
}

#[tokio::test]
async fn invoice_first_purchase_is_looked_up_by_invoice_number_after_an_uncertain_create() {
    let table = table().with(MappingKind::GlAccount, "6100", "715");
    let rig = rig_with(Mappings::with_values(table), default_chart(), false);
    rig.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    rig.invoices_src
        .upsert(invoice("INV-6", "V1", None, "6100", at(3)));
    // The purchase create reaches the target but times out.
    rig.purchase_target
        .set_faults(FaultPlan::none().at("write", 0, Fault::ResetAfterApply));
    rig.invoices().await;
    assert_eq!(rig.purchase_target.purchases().len(), 1);
    let replayer = Replayer::new(
        rig.invoices.pipeline().clone(),
        rig.invoices.source().clone(),
    );
    let results = replayer
        .replay_failed(
            &rig.ctx(),
            sync_core::replay::ReplayScope::Stream,
            ReplayMode::Snapshot,
        )
        .await
        .unwrap();
    let ReplayResult::Replayed(entry) = &results[0] else {
        panic!("{results:?}")
    };
    assert_eq!(entry.match_result, Some(MatchResult::ByLookup));
    assert_eq!(entry.status, AuditStatus::Succeeded);
    let purchases = rig.purchase_target.purchases();
    assert_eq!(purchases.len(), 1, "adopted, not created again");
    assert_eq!(purchases.values().next().unwrap().invoices.len(), 1);
}
