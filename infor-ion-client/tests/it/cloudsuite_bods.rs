//! The Data Lake as a third CloudSuite source product: every BOD noun converts to the canonical
//! model (errors name the XML path), a window keeps only the newest variation of each document
//! and skips Deletes, and against the simulator the BOD source yields the same records as the
//! IDO source, with changes seen by the next window.
#![cfg(all(feature = "sync", feature = "simulator"))]
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use common::*;
use futures::TryStreamExt;
use infor_ion_client::auth::AuthConfig;
use infor_ion_client::bod::{
    Bod, ChartOfAccounts, PurchaseOrder as PoBod, SupplierInvoice as InvoiceBod,
    SupplierPartyMaster,
};
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::cloudsuite::bods::{BodContext, from_bod};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig};
use infor_ion_client::{Error, IonClient};
use mockito::{Matcher, ServerGuard};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::model::{
    AccountClass, AddressKind, GlAccount, PartyStatus, PoStatus, PurchaseOrder, SourceIdentity,
    Supplier, SupplierInvoice,
};
use sync_core::retry::RetryPolicy;
use sync_core::source::{Source, Window};
use sync_core::time::{Clock, ManualClock};

const SUPPLIER: &str = include_str!("../fixtures/bod/sync_supplier_party_master.xml");
const PO_M3: &str = include_str!("../fixtures/bod/sync_purchase_order_m3.xml");
const PO_LN: &str = include_str!("../fixtures/bod/sync_purchase_order_ln_prefixed.xml");
const INVOICE: &str = include_str!("../fixtures/bod/sync_supplier_invoice.xml");
const CHART: &str = include_str!("../fixtures/bod/sync_chart_of_accounts.xml");

fn cx() -> BodContext {
    BodContext::new("ACME_PRD", "300_001")
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn window(from: Option<DateTime<Utc>>) -> Window {
    Window {
        from,
        ceiling: at(2035, 1, 1, 0, 0, 0),
    }
}

// ---------------------------------------------------------------------------------------------
// Conversions of the fixtures
// ---------------------------------------------------------------------------------------------

#[test]
fn a_supplier_party_master_becomes_a_supplier() {
    let bod = Bod::<SupplierPartyMaster>::from_str(SUPPLIER).unwrap();
    let suppliers: Vec<Supplier> = from_bod(&bod, None, &cx()).unwrap();
    assert_eq!(suppliers.len(), 1);
    let s = &suppliers[0];
    assert_eq!(
        s.identity,
        SourceIdentity::new("cloudsuite", "ACME_PRD", "300_001", "SUP-0042")
    );
    assert_eq!(s.vendor_id, "SUP-0042");
    assert_eq!(s.name, "Fournitures Lumière & Fils");
    assert_eq!(s.currency, "EUR");
    assert_eq!(s.payment_term.as_deref(), Some("30N"));
    assert_eq!(s.tax_number.as_deref(), Some("FR40303265045"));
    assert_eq!(s.status, PartyStatus::Active);
    assert_eq!(s.addresses.len(), 1);
    let a = &s.addresses[0];
    assert_eq!(a.kind, AddressKind::Business);
    assert_eq!(a.line1, "12 rue des Lilas");
    assert_eq!(a.city.as_deref(), Some("Lyon"));
    assert_eq!(a.postcode.as_deref(), Some("69003"));
    assert_eq!(a.country, "FR");
    assert_eq!(s.contacts.len(), 1);
    assert_eq!(s.contacts[0].phone.as_deref(), Some("+33 4 72 00 00 00"));
    assert_eq!(s.contacts[0].email.as_deref(), Some("ap@lumiere.example"));
    // No LastModificationDateTime and no event date: the BOD's CreationDateTime.
    assert_eq!(
        s.modified_at,
        at(2025, 9, 20, 8, 0, 0) + chrono::Duration::milliseconds(125)
    );
}

#[test]
fn modified_at_prefers_last_modification_then_event_date_then_creation() {
    let event = at(2025, 9, 30, 12, 0, 0);
    // The supplier has no LastModificationDateTime: the event date wins over creation.
    let bod = Bod::<SupplierPartyMaster>::from_str(SUPPLIER).unwrap();
    let s: Vec<Supplier> = from_bod(&bod, Some(event), &cx()).unwrap();
    assert_eq!(s[0].modified_at, event);
    // The M3 PO has one: it wins over the event date.
    let bod = Bod::<PoBod>::from_str(PO_M3).unwrap();
    let po: Vec<PurchaseOrder> = from_bod(&bod, Some(event), &cx()).unwrap();
    assert_eq!(po[0].modified_at, at(2025, 9, 24, 9, 33, 5));
}

#[test]
fn an_m3_purchase_order_becomes_a_purchase_order_with_lines() {
    let bod = Bod::<PoBod>::from_str(PO_M3).unwrap();
    let orders: Vec<PurchaseOrder> = from_bod(&bod, None, &cx()).unwrap();
    let po = &orders[0];
    assert_eq!(po.identity.id, "4000123");
    assert_eq!(po.po_number, "4000123");
    assert_eq!(po.vendor_id, "SUP-0042");
    assert_eq!(
        po.order_date,
        day(2025, 9, 24),
        "DocumentDateTime when no OrderDateTime"
    );
    assert_eq!(po.required_by, Some(day(2025, 10, 3)));
    assert_eq!(po.currency, "EUR");
    assert_eq!(po.location.as_deref(), Some("FR1"));
    assert_eq!(po.status, PoStatus::Ordered);
    assert_eq!(po.lines.len(), 2);
    let (l1, l2) = (&po.lines[0], &po.lines[1]);
    assert_eq!((l1.line_no, l1.sku.as_str()), (10, "ITM-1001"));
    assert_eq!(l1.description, "Steel bracket 40mm");
    assert_eq!((l1.quantity, l1.unit_price), (dec("100"), dec("12.50")));
    assert_eq!((l2.line_no, l2.sku.as_str()), (20, "ITM-2002"));
    assert_eq!(l2.description, "Hex bolt M8 <zinc>");
    assert_eq!((l2.quantity, l2.unit_price), (dec("13.400"), dec("250.00")));
}

#[test]
fn an_ln_purchase_order_with_a_prefix_converts_the_same_way() {
    let bod = Bod::<PoBod>::from_str(PO_LN).unwrap();
    let orders: Vec<PurchaseOrder> = from_bod(&bod, None, &cx()).unwrap();
    let po = &orders[0];
    assert_eq!(po.po_number, "PO0001234");
    assert_eq!(po.vendor_id, "SUP-77");
    assert_eq!(po.order_date, day(2025, 9, 23));
    assert_eq!(po.status, PoStatus::Ordered, "Approved");
    assert_eq!(po.memo.as_deref(), Some("Deliver before noon."));
    assert_eq!(po.currency, "USD");
    assert_eq!(po.lines[0].sku, "BRK-40");
    assert_eq!(po.lines[0].unit_price, dec("23.00"));
    assert_eq!(po.modified_at, at(2025, 9, 24, 10, 0, 0));
}

#[test]
fn a_supplier_invoice_becomes_an_invoice_with_lines_on_gl_accounts() {
    let bod = Bod::<InvoiceBod>::from_str(INVOICE).unwrap();
    let invoices: Vec<SupplierInvoice> = from_bod(&bod, None, &cx()).unwrap();
    let inv = &invoices[0];
    assert_eq!(inv.identity.id, "INV-2025-000981");
    assert_eq!(
        inv.invoice_number, "F-77812",
        "the supplier's number, not the voucher"
    );
    assert_eq!(inv.vendor_id, "SUP-0042");
    assert_eq!(inv.po_id.as_deref(), Some("4000123"));
    assert_eq!(inv.invoice_date, day(2025, 10, 4));
    assert_eq!(inv.currency, "EUR");
    assert_eq!(inv.modified_at, at(2025, 10, 5, 11, 19, 40));
    assert_eq!(inv.lines.len(), 2);
    let (l1, l2) = (&inv.lines[0], &inv.lines[1]);
    assert_eq!(l1.sku.as_deref(), Some("ITM-1001"));
    assert_eq!((l1.quantity, l1.unit_price), (dec("100"), dec("12.50")));
    assert_eq!(l1.gl_account, "", "the BOD names no account for this line");
    assert_eq!(l2.sku, None);
    assert_eq!(l2.description, "Freight");
    assert_eq!((l2.quantity, l2.unit_price), (Decimal::ONE, dec("3350.00")));
    assert_eq!(l2.gl_account, "606100");
}

#[test]
fn a_chart_of_accounts_becomes_gl_accounts() {
    let bod = Bod::<ChartOfAccounts>::from_str(CHART).unwrap();
    let accounts: Vec<GlAccount> = from_bod(&bod, None, &cx()).unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0].code, "401000");
    assert_eq!(accounts[0].name, "Trade payables");
    assert_eq!(accounts[0].account_type.as_deref(), Some("BalanceSheet"));
    assert!(accounts[0].active);
    assert_eq!(accounts[1].code, "606100");
    assert_eq!(accounts[1].name, "Freight in");
    assert_eq!(accounts[1].class, AccountClass::Expense);
    assert!(
        accounts
            .iter()
            .all(|a| a.modified_at == at(2025, 9, 1, 0, 0, 0))
    );
    // CSI's type letters map to their classes.
    let letters = CHART.replace(">BalanceSheet<", ">L<");
    let bod = Bod::<ChartOfAccounts>::from_str(&letters).unwrap();
    let accounts: Vec<GlAccount> = from_bod(&bod, None, &cx()).unwrap();
    assert_eq!(accounts[0].class, AccountClass::Liability);
}

fn property_of(error: Error) -> (String, String) {
    match error {
        Error::MissingValue { record, property } => (record, property),
        Error::InvalidValue {
            record, property, ..
        } => (record, property),
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn errors_name_the_missing_or_invalid_xml_path() {
    let no_supplier = PO_M3
        .replace("<SupplierParty>", "<ShipFromParty>")
        .replace("</SupplierParty>", "</ShipFromParty>");
    let bod = Bod::<PoBod>::from_str(&no_supplier).unwrap();
    let err = from_bod::<PurchaseOrder>(&bod, None, &cx()).unwrap_err();
    assert!(matches!(err, Error::MissingValue { .. }));
    assert_eq!(
        property_of(err),
        (
            "SyncPurchaseOrder".to_owned(),
            "PurchaseOrder/PurchaseOrderHeader/SupplierParty/PartyIDs/ID".to_owned()
        )
    );

    let bad_line = PO_M3.replace("<LineNumber>20</LineNumber>", "<LineNumber>x</LineNumber>");
    let bod = Bod::<PoBod>::from_str(&bad_line).unwrap();
    let err = from_bod::<PurchaseOrder>(&bod, None, &cx()).unwrap_err();
    assert!(err.to_string().contains("\"x\""), "{err}");
    assert_eq!(
        property_of(err).1,
        "PurchaseOrder/PurchaseOrderLine[2]/LineNumber"
    );

    let no_item = PO_LN.replace(
        "<oa:Item><oa:ItemID><oa:ID>BRK-40</oa:ID></oa:ItemID></oa:Item>",
        "",
    );
    let bod = Bod::<PoBod>::from_str(&no_item).unwrap();
    let err = from_bod::<PurchaseOrder>(&bod, None, &cx()).unwrap_err();
    assert_eq!(
        property_of(err).1,
        "PurchaseOrder/PurchaseOrderLine[1]/Item/ItemID/ID"
    );

    let no_date = INVOICE.replace(
        "<DocumentDateTime>2025-10-04T00:00:00Z</DocumentDateTime>",
        "",
    );
    let bod = Bod::<InvoiceBod>::from_str(&no_date).unwrap();
    let err = from_bod::<SupplierInvoice>(&bod, None, &cx()).unwrap_err();
    assert_eq!(
        property_of(err),
        (
            "SyncSupplierInvoice".to_owned(),
            "SupplierInvoice/SupplierInvoiceHeader/DocumentDateTime".to_owned()
        )
    );

    let unpriced = INVOICE.replace(
        "<ExtendedAmount currencyID=\"EUR\">3350.00</ExtendedAmount>",
        "",
    );
    let bod = Bod::<InvoiceBod>::from_str(&unpriced).unwrap();
    let err = from_bod::<SupplierInvoice>(&bod, None, &cx()).unwrap_err();
    assert_eq!(
        property_of(err).1,
        "SupplierInvoice/SupplierInvoiceLine[2]/ExtendedAmount"
    );

    let odd_status = PO_M3.replace(
        "<Code listID=\"PurchaseOrderStatus\">Open</Code>",
        "<Code>Sideways</Code>",
    );
    let bod = Bod::<PoBod>::from_str(&odd_status).unwrap();
    let err = from_bod::<PurchaseOrder>(&bod, None, &cx()).unwrap_err();
    assert!(matches!(err, Error::InvalidValue { .. }));
    assert_eq!(
        property_of(err).1,
        "PurchaseOrder/PurchaseOrderHeader/Status/Code"
    );
}

// ---------------------------------------------------------------------------------------------
// Windows against a mock Data Lake
// ---------------------------------------------------------------------------------------------

const LIST: &str = "/ACME_TST/IONSERVICES/datalakeapi/v1/payloads/list";
const FETCH: &str = "/ACME_TST/IONSERVICES/datalakeapi/v1/payloads/streambyid";

async fn server() -> (ServerGuard, IonClient) {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("POST", "/ACME_TST/as/token.oauth2")
        .with_body(token_body(ACCESS_TOKEN, 3600, None))
        .create_async()
        .await;
    let client = client(
        &server.url(),
        &ManualClock::default(),
        AuthConfig::default(),
    );
    (server, client)
}

/// The M3 PO fixture as another document / variation / action / entity; its line 10 quantity
/// carries the variation so versions can be told apart.
fn po_variant(id: &str, variation: u64, action: &str, entity: &str) -> String {
    PO_M3
        .replace(">4000123</ID>", &format!(">{id}</ID>"))
        .replace(
            "<DisplayID>4000123</DisplayID>",
            &format!("<DisplayID>{id}</DisplayID>"),
        )
        .replace(
            "variationID=\"1727170389770\"",
            &format!("variationID=\"{variation}\""),
        )
        .replace(
            "accountingEntity=\"300_001\" location=\"FR1\"",
            &format!("accountingEntity=\"{entity}\" location=\"FR1\""),
        )
        .replace(
            "actionCode=\"Replace\"",
            &format!("actionCode=\"{action}\""),
        )
        .replace(
            "<Quantity unitCode=\"EA\">100</Quantity>",
            &format!("<Quantity unitCode=\"EA\">{variation}00</Quantity>"),
        )
}

async fn publish(server: &mut ServerGuard, dl_id: &str, body: String) -> mockito::Mock {
    server
        .mock("GET", FETCH)
        .match_query(Matcher::UrlEncoded("datalakeId".into(), dl_id.into()))
        .with_header("content-type", "application/xml")
        .with_body(body)
        .create_async()
        .await
}

/// A list of payloads (all on one page), expected to be read `times`.
async fn list(
    server: &mut ServerGuard,
    since: Option<&str>,
    ids: &[&str],
    times: usize,
) -> mockito::Mock {
    let mut filter = "dl_document_name eq 'SyncPurchaseOrder'".to_owned();
    if let Some(since) = since {
        filter.push_str(&format!(" and event_date ge '{since}'"));
    }
    let fields: Vec<_> = ids
        .iter()
        .map(|id| json!({"dl_id": id, "dl_document_name": "SyncPurchaseOrder", "event_date": "2025-09-25T00:00:00Z"}))
        .collect();
    server
        .mock("GET", LIST)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("filter".into(), filter),
            Matcher::UrlEncoded("page".into(), "1".into()),
            Matcher::UrlEncoded("records".into(), "100".into()),
        ]))
        .with_body(json!({"numFound": ids.len(), "fields": fields}).to_string())
        .expect(times)
        .create_async()
        .await
}

/// ION does not guarantee order across windows either: a variation published after a newer
/// one was read in an earlier window is stale. With the store keeping the newest variation
/// seen, it is dropped; the same variation read again (a retried window) is not.
#[tokio::test]
async fn a_variation_older_than_one_read_in_an_earlier_window_is_dropped() {
    use std::sync::Arc;
    use sync_core::store::memory::MemoryStore;
    let (mut server, client) = server().await;
    let store = Arc::new(MemoryStore::new());
    let source =
        CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001").store(store.clone());
    let quantities = |orders: &[PurchaseOrder]| -> Vec<(String, Decimal)> {
        orders
            .iter()
            .map(|o| (o.po_number.clone(), o.lines[0].quantity))
            .collect()
    };
    let poll = |from| Source::<PurchaseOrder>::poll(&source, window(Some(from))).try_collect();

    // Window 1 reads A at variation 5.
    let _a5 = publish(&mut server, "a5", po_variant("A", 5, "Replace", "300_001")).await;
    let first = list(&mut server, Some("2025-09-01T00:00:00.000Z"), &["a5"], 1).await;
    let orders: Vec<PurchaseOrder> = poll(at(2025, 9, 1, 0, 0, 0)).await.unwrap();
    first.assert_async().await;
    assert_eq!(quantities(&orders), vec![("A".to_owned(), dec("500"))]);

    // Window 2 finds variation 4, published late: dropped, nothing to write. A retried
    // window 1 (variation 5 again) still yields A.
    let _a4 = publish(&mut server, "a4", po_variant("A", 4, "Replace", "300_001")).await;
    let second = list(&mut server, Some("2025-09-02T00:00:00.000Z"), &["a4"], 1).await;
    let orders: Vec<PurchaseOrder> = poll(at(2025, 9, 2, 0, 0, 0)).await.unwrap();
    second.assert_async().await;
    assert!(orders.is_empty(), "stale: {:?}", quantities(&orders));
    let again = list(&mut server, Some("2025-09-03T00:00:00.000Z"), &["a5"], 1).await;
    let orders: Vec<PurchaseOrder> = poll(at(2025, 9, 3, 0, 0, 0)).await.unwrap();
    again.assert_async().await;
    assert_eq!(quantities(&orders), vec![("A".to_owned(), dec("500"))]);

    // Without the store (the previous behaviour) the stale variation would be written.
    let forgetful = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let _late = list(&mut server, Some("2025-09-04T00:00:00.000Z"), &["a4"], 1).await;
    let orders: Vec<PurchaseOrder> =
        Source::<PurchaseOrder>::poll(&forgetful, window(Some(at(2025, 9, 4, 0, 0, 0))))
            .try_collect()
            .await
            .unwrap();
    assert_eq!(quantities(&orders), vec![("A".to_owned(), dec("400"))]);
}

#[tokio::test]
async fn a_window_yields_only_the_newest_variation_and_skips_deletes() {
    let (mut server, client) = server().await;
    // Published out of order: A v1, A v3, then A v2 arriving late (stale); B added then
    // deleted; C belongs to another accounting entity; D has a newer Delete that arrived
    // before its Add (the Add is stale and must not resurrect it). (Changes: see below.)
    let payloads = [
        ("a1", po_variant("A", 1, "Add", "300_001")),
        ("a3", po_variant("A", 3, "Replace", "300_001")),
        ("a2", po_variant("A", 2, "Replace", "300_001")),
        ("b1", po_variant("B", 1, "Add", "300_001")),
        ("b2", po_variant("B", 2, "Delete", "300_001")),
        ("c1", po_variant("C", 1, "Add", "999_999")),
        ("d2", po_variant("D", 2, "Delete", "300_001")),
        ("d1", po_variant("D", 1, "Add", "300_001")),
    ];
    let mut mocks = Vec::new();
    for (id, body) in &payloads {
        mocks.push(publish(&mut server, id, body.clone()).await);
    }
    let ids: Vec<&str> = payloads.iter().map(|(id, _)| *id).collect();
    let listed = list(&mut server, Some("2025-09-01T00:00:00.000Z"), &ids, 1).await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let orders: Vec<PurchaseOrder> =
        Source::<PurchaseOrder>::poll(&source, window(Some(at(2025, 9, 1, 0, 0, 0))))
            .try_collect()
            .await
            .unwrap();
    listed.assert_async().await;
    let seen: Vec<(&str, Decimal)> = orders
        .iter()
        .map(|o| (o.po_number.as_str(), o.lines[0].quantity))
        .collect();
    assert_eq!(seen, vec![("A", dec("300"))]);
    assert!(
        orders
            .iter()
            .all(|o| o.identity.accounting_entity == "300_001")
    );
}

/// A `Change` of document `id` at `variation`, carrying only the header's key and status and
/// line 10's quantity (what a partial change says; everything else is left out).
fn po_change(id: &str, variation: u64, status: &str, quantity: &str) -> String {
    format!(
        r#"<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2">
  <ApplicationArea><Sender><LogicalID>lid://infor.m3.m3</LogicalID></Sender>
    <CreationDateTime>2025-09-26T08:00:00Z</CreationDateTime></ApplicationArea>
  <DataArea><Sync><AccountingEntityID>300_001</AccountingEntityID><LocationID>FR1</LocationID>
      <ActionCriteria><ActionExpression actionCode="Change"/></ActionCriteria></Sync>
    <PurchaseOrder>
      <PurchaseOrderHeader>
        <DocumentID><ID accountingEntity="300_001" location="FR1" lid="lid://infor.m3.m3" variationID="{variation}">{id}</ID></DocumentID>
        <LastModificationDateTime>2025-09-26T08:00:00Z</LastModificationDateTime>
        <Status><Code listID="PurchaseOrderStatus">{status}</Code></Status>
      </PurchaseOrderHeader>
      <PurchaseOrderLine><LineNumber>10</LineNumber><Quantity unitCode="EA">{quantity}</Quantity></PurchaseOrderLine>
    </PurchaseOrder>
  </DataArea>
</SyncPurchaseOrder>"#
    )
}

/// What a merged order must keep of the whole variation and take of the change.
fn assert_merged(po: &PurchaseOrder, status: PoStatus, quantity: &str) {
    assert_eq!(po.status, status, "the change's status");
    assert_eq!(
        po.lines.len(),
        2,
        "line 20, which the change left out, is kept"
    );
    assert_eq!(po.lines[0].quantity, dec(quantity), "the change's quantity");
    assert_eq!(
        (po.lines[0].sku.as_str(), po.lines[0].unit_price),
        ("ITM-1001", dec("12.50")),
        "line 10's item and price, which the change left out, are kept"
    );
    assert_eq!(
        (po.vendor_id.as_str(), po.currency.as_str()),
        ("SUP-0042", "EUR"),
        "the header's supplier and currency are kept"
    );
    assert_eq!(po.modified_at, at(2025, 9, 26, 8, 0, 0));
}

/// A `Change` carries only what changed: merged onto the whole variation before it (read out of
/// order here: the change first), never taken whole (which would drop line 20 and blank the
/// supplier).
#[tokio::test]
async fn a_change_is_merged_onto_the_whole_variation_before_it() {
    let (mut server, client) = server().await;
    let _changed = publish(&mut server, "a3", po_change("A", 3, "Closed", "250")).await;
    let _whole = publish(&mut server, "a2", po_variant("A", 2, "Replace", "300_001")).await;
    let _older = publish(&mut server, "a1", po_variant("A", 1, "Add", "300_001")).await;
    let listed = list(
        &mut server,
        Some("2025-09-01T00:00:00.000Z"),
        &["a3", "a2", "a1"],
        1,
    )
    .await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let orders: Vec<PurchaseOrder> =
        Source::<PurchaseOrder>::poll(&source, window(Some(at(2025, 9, 1, 0, 0, 0))))
            .try_collect()
            .await
            .unwrap();
    listed.assert_async().await;
    assert_eq!(orders.len(), 1);
    assert_merged(&orders[0], PoStatus::Closed, "250");
}

/// A window holding only a change of a document published whole in an earlier window reads the
/// Data Lake's history once for it, and merges.
#[tokio::test]
async fn a_change_whose_whole_variation_is_older_than_the_window_is_merged_from_history() {
    let (mut server, client) = server().await;
    let _whole = publish(&mut server, "a1", po_variant("A", 1, "Add", "300_001")).await;
    let _changed = publish(&mut server, "a2", po_change("A", 2, "Closed", "40")).await;
    let _b = publish(&mut server, "b1", po_variant("B", 1, "Add", "300_001")).await;
    let window_list = list(
        &mut server,
        Some("2025-09-26T00:00:00.000Z"),
        &["a2", "b1"],
        1,
    )
    .await;
    let history = list(&mut server, None, &["a1", "a2", "b1"], 1).await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let orders: Vec<PurchaseOrder> =
        Source::<PurchaseOrder>::poll(&source, window(Some(at(2025, 9, 26, 0, 0, 0))))
            .try_collect()
            .await
            .unwrap();
    window_list.assert_async().await;
    history.assert_async().await;
    let numbers: Vec<&str> = orders.iter().map(|o| o.po_number.as_str()).collect();
    assert_eq!(numbers, ["A", "B"], "window order kept");
    assert_merged(&orders[0], PoStatus::Closed, "40");
}

/// When the history cannot be read whole (the whole variation's payload fails), a change is
/// never taken whole: the window fails and is read again, and nothing partial is yielded.
#[tokio::test]
async fn a_change_whose_whole_variation_cannot_be_read_fails_the_window() {
    let (mut server, client) = server().await;
    let _whole = server
        .mock("GET", FETCH)
        .match_query(Matcher::UrlEncoded("datalakeId".into(), "a1".into()))
        .with_status(404)
        .create_async()
        .await;
    let _changed = publish(&mut server, "a2", po_change("A", 2, "Closed", "40")).await;
    let _window = list(&mut server, Some("2025-09-26T00:00:00.000Z"), &["a2"], 1).await;
    let _history = list(&mut server, None, &["a1", "a2"], 1).await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let results: Vec<Result<PurchaseOrder, _>> = futures::StreamExt::collect(
        Source::<PurchaseOrder>::poll(&source, window(Some(at(2025, 9, 26, 0, 0, 0)))),
    )
    .await;
    assert!(
        results.iter().all(Result::is_err),
        "no partial order is yielded: {results:?}"
    );
    let error = results.last().unwrap().as_ref().unwrap_err();
    assert!(error.message.contains("before its Change"), "{error:?}");
}

/// Read again by id (a pushed `Change` queues a refetch), a document is merged the same way.
#[tokio::test]
async fn a_document_read_by_id_is_its_whole_variation_with_later_changes_merged() {
    let (mut server, client) = server().await;
    let _whole = publish(&mut server, "a1", po_variant("A", 1, "Add", "300_001")).await;
    let _changed = publish(&mut server, "a2", po_change("A", 2, "Closed", "40")).await;
    let _history = list(&mut server, None, &["a2", "a1"], 1).await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let id = SourceIdentity::new("cloudsuite", "ACME_TST", "300_001", "A");
    let po = Source::<PurchaseOrder>::fetch(&source, &id)
        .await
        .unwrap()
        .expect("published");
    assert_merged(&po, PoStatus::Closed, "40");
}

/// A document whose newest variation in the window is a `Delete` is queued, deleted, on its
/// stream's push queue (where the runner applies the delete policy), once however often the
/// window is read.
#[tokio::test]
async fn a_delete_read_by_a_window_is_queued_once_for_the_delete_policy() {
    use std::sync::Arc;
    use sync_core::engine::queue::push_queue;
    use sync_core::store::memory::MemoryStore;
    use sync_core::store::{AuditQuery, AuditStatus, AuditStore, StreamId};
    let (mut server, client) = server().await;
    let _a1 = publish(&mut server, "a1", po_variant("A", 1, "Add", "300_001")).await;
    let _a2 = publish(&mut server, "a2", po_variant("A", 2, "Delete", "300_001")).await;
    let _b1 = publish(&mut server, "b1", po_variant("B", 1, "Add", "300_001")).await;
    let _listed = list(
        &mut server,
        Some("2025-09-01T00:00:00.000Z"),
        &["a1", "a2", "b1"],
        2,
    )
    .await;
    let store = Arc::new(MemoryStore::new());
    let source =
        CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001").store(store.clone());
    for _ in 0..2 {
        let orders: Vec<PurchaseOrder> =
            Source::<PurchaseOrder>::poll(&source, window(Some(at(2025, 9, 1, 0, 0, 0))))
                .try_collect()
                .await
                .unwrap();
        let numbers: Vec<&str> = orders.iter().map(|o| o.po_number.as_str()).collect();
        assert_eq!(numbers, ["B"], "the deleted document is not a record");
    }
    let queued = store
        .query(&AuditQuery::tenant("ACME_TST").stream(push_queue(&StreamId::purchase_orders())))
        .await
        .unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].source.id, "A");
    assert_eq!(queued[0].status, AuditStatus::Deferred);
    assert_eq!(queued[0].source_snapshot["deleted"], json!(true));
}

#[tokio::test]
async fn a_payload_that_cannot_be_read_is_one_error_and_the_others_still_arrive() {
    let (mut server, client) = server().await;
    let _a = publish(&mut server, "a1", po_variant("A", 1, "Add", "300_001")).await;
    let _bad = publish(
        &mut server,
        "bad",
        "<SyncPurchaseOrder>not oagis".to_owned(),
    )
    .await;
    let _listed = list(&mut server, None, &["a1", "bad"], 1).await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let results: Vec<Result<PurchaseOrder, _>> =
        futures::StreamExt::collect(Source::<PurchaseOrder>::poll(&source, window(None))).await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap().po_number, "A");
    let err = results[1].as_ref().unwrap_err();
    assert!(!err.transient, "a malformed BOD is not retryable: {err:?}");
}

/// Several records fetched at once (what the push queue's drain asks for) read the document's
/// history once, not once per record.
#[tokio::test]
async fn fetch_many_reads_the_history_once_for_all() {
    let (mut server, client) = server().await;
    let _a = publish(&mut server, "a1", po_variant("A", 1, "Add", "300_001")).await;
    let _b = publish(&mut server, "b2", po_variant("B", 2, "Add", "300_001")).await;
    let listed = list(&mut server, None, &["a1", "b2"], 1).await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let id = |po: &str| SourceIdentity::new("cloudsuite", "ACME_TST", "300_001", po);
    let found = Source::<PurchaseOrder>::fetch_many(&source, &[id("B"), id("A"), id("C")]).await;
    let numbers: Vec<Option<String>> = found
        .into_iter()
        .map(|r| r.unwrap().map(|po| po.po_number))
        .collect();
    assert_eq!(numbers, [Some("B".to_owned()), Some("A".to_owned()), None]);
    listed.assert_async().await;
}

#[tokio::test]
async fn fetch_reads_the_newest_variation_and_a_deleted_document_is_gone() {
    let (mut server, client) = server().await;
    let payloads = [
        ("a1", po_variant("A", 1, "Add", "300_001")),
        ("a2", po_variant("A", 2, "Replace", "300_001")),
        ("b1", po_variant("B", 1, "Add", "300_001")),
        ("b2", po_variant("B", 2, "Delete", "300_001")),
    ];
    let mut mocks = Vec::new();
    for (id, body) in &payloads {
        mocks.push(publish(&mut server, id, body.clone()).await);
    }
    let ids: Vec<&str> = payloads.iter().map(|(id, _)| *id).collect();
    let listed = list(&mut server, None, &ids, 3).await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let id = |po: &str| SourceIdentity::new("cloudsuite", "ACME_TST", "300_001", po);
    let a = Source::<PurchaseOrder>::fetch(&source, &id("A"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.lines[0].quantity, dec("200"));
    assert_eq!(
        Source::<PurchaseOrder>::fetch(&source, &id("B"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        Source::<PurchaseOrder>::fetch(&source, &id("Z"))
            .await
            .unwrap(),
        None
    );
    listed.assert_async().await;
}

#[tokio::test]
async fn server_time_is_the_date_header_of_a_list_call() {
    let (mut server, client) = server().await;
    let listed = server
        .mock("GET", LIST)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded(
                "filter".into(),
                "dl_document_name eq 'SyncSupplierInvoice'".into(),
            ),
            Matcher::UrlEncoded("records".into(), "1".into()),
        ]))
        .with_header("date", "Sun, 01 Feb 2026 12:00:00 GMT")
        .with_body(json!({"numFound": 0, "fields": []}).to_string())
        .expect(1)
        .create_async()
        .await;
    let source = CloudSuiteSource::data_lake(client.data_lake(), "ACME_TST", "300_001");
    let now = Source::<SupplierInvoice>::server_time(&source)
        .await
        .unwrap();
    assert_eq!(now, at(2026, 2, 1, 12, 0, 0));
    listed.assert_async().await;
}

// ---------------------------------------------------------------------------------------------
// End to end against the simulator
// ---------------------------------------------------------------------------------------------

fn sim_client(sim: &IonSimulator) -> IonClient {
    sim.client_builder()
        .unwrap()
        .retry_policy(
            RetryPolicy::default()
                .with_max_retries(2)
                .with_delays(Duration::from_millis(10), Duration::from_millis(100))
                .with_jitter(false),
        )
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn all<R: sync_core::model::Record>(source: &CloudSuiteSource, window: Window) -> Vec<R>
where
    CloudSuiteSource: Source<R>,
{
    let mut records: Vec<R> = Source::<R>::poll(source, window)
        .try_collect()
        .await
        .unwrap();
    records.sort_by(|a, b| a.identity().id.cmp(&b.identity().id));
    records
}

#[tokio::test]
async fn the_data_lake_source_yields_the_same_records_as_the_ido_source() {
    let clock = ManualClock::default();
    let seed = Seed {
        suppliers: 25,
        purchase_orders: 12,
        lines_per_order: 3,
        invoices: 8,
        ..Seed::default()
    };
    let sim = IonSimulator::start(SimulatorConfig {
        seed: seed.clone(),
        clock: clock.shared(),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let client = sim_client(&sim);
    let lake =
        CloudSuiteSource::data_lake(client.data_lake(), client.tenant(), "MAIN").page_size(7);
    let ido = CloudSuiteSource::csi(client.csi(sim.mongoose_config()), "MAIN");
    let everything = window(None);

    let mut suppliers: Vec<Supplier> = all(&lake, everything).await;
    let ido_suppliers: Vec<Supplier> = all(&ido, everything).await;
    assert_eq!(suppliers.len(), 25);
    // The BOD carries no contact name and no tax code; everything else agrees.
    let mut ido_suppliers = ido_suppliers;
    for s in suppliers.iter_mut().chain(ido_suppliers.iter_mut()) {
        s.contacts.iter_mut().for_each(|c| c.name.clear());
        s.tax_rule = None;
    }
    assert_eq!(suppliers, ido_suppliers);

    let orders: Vec<PurchaseOrder> = all(&lake, everything).await;
    let ido_orders: Vec<PurchaseOrder> = all(&ido, everything).await;
    assert_eq!(orders.len(), 12);
    assert!(orders.iter().all(|o| o.lines.len() == 3));
    assert!(
        orders.iter().all(|o| o.required_by.is_some()),
        "from the lines' due dates"
    );
    // Both sources take the required-by date from the earliest line due date.
    assert_eq!(orders, ido_orders);

    let mut invoices: Vec<SupplierInvoice> = all(&lake, everything).await;
    let mut ido_invoices: Vec<SupplierInvoice> = all(&ido, everything).await;
    assert_eq!(invoices.len(), 8);
    assert!(invoices.iter().all(|i| i.lines.len() == 2));
    assert!(
        invoices
            .iter()
            .flat_map(|i| &i.lines)
            .all(|l| l.gl_account == "50000" || l.gl_account == "51000")
    );
    // The BOD model has no due date.
    ido_invoices.iter_mut().for_each(|i| i.due_date = None);
    invoices.iter_mut().for_each(|i| i.due_date = None);
    assert_eq!(invoices, ido_invoices);

    let accounts: Vec<GlAccount> = all(&lake, everything).await;
    let ido_accounts: Vec<GlAccount> = all(&ido, everything).await;
    assert_eq!(accounts.len(), infor_ion_client::simulator::CHART.len());
    assert_eq!(accounts, ido_accounts);

    let now = Source::<PurchaseOrder>::server_time(&lake).await.unwrap();
    assert_eq!(now.timestamp(), clock.now().timestamp());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_change_in_the_simulator_is_seen_by_the_next_window() {
    let clock = ManualClock::default();
    let sim = IonSimulator::start(SimulatorConfig {
        seed: Seed {
            suppliers: 10,
            purchase_orders: 5,
            lines_per_order: 2,
            invoices: 4,
            ..Seed::default()
        },
        clock: clock.shared(),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let client = sim_client(&sim);
    let source = CloudSuiteSource::data_lake(client.data_lake(), client.tenant(), "MAIN");
    let first: Vec<PurchaseOrder> = all(&source, window(None)).await;
    assert_eq!(first.len(), 5);
    let suppliers: Vec<Supplier> = all(&source, window(None)).await;
    assert_eq!(suppliers.len(), 10);
    let cursor = first
        .iter()
        .map(|o| o.modified_at)
        .chain(suppliers.iter().map(|s| s.modified_at))
        .max()
        .unwrap()
        + chrono::Duration::seconds(1);
    // Nothing changed since: the next windows are empty.
    let none: Vec<PurchaseOrder> = all(&source, window(Some(cursor))).await;
    assert!(none.is_empty(), "{none:?}");
    let none: Vec<Supplier> = all(&source, window(Some(cursor))).await;
    assert!(none.is_empty(), "{none:?}");

    let changed_at = cursor + chrono::Duration::hours(2);
    let po = first[2].po_number.clone();
    assert!(sim.data().touch("SLPos", &[po.as_str()], changed_at));
    assert!(sim.data().update(
        "SLVendors",
        &["V000003"],
        &[("Name", Some("Renamed Supplies"))],
        changed_at
    ));
    let next: Vec<PurchaseOrder> = all(&source, window(Some(cursor))).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].po_number, po);
    assert_eq!(next[0].modified_at, changed_at);
    assert_eq!(next[0].lines, first[2].lines);
    let suppliers: Vec<Supplier> = all(&source, window(Some(cursor))).await;
    let names: Vec<(&str, &str)> = suppliers
        .iter()
        .map(|s| (s.vendor_id.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(names, vec![("V000003", "Renamed Supplies")]);
    // fetch sees the current state too.
    let fetched = Source::<Supplier>::fetch(&source, &suppliers[0].identity)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched.name, "Renamed Supplies");
    sim.shutdown().await;
}
