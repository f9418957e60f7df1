#![allow(clippy::unwrap_used)]
//! Customers, products and sales.

use crate::common;

use chrono::{TimeZone, Utc};
use cin7_core_client::customer::Customer;
use cin7_core_client::product::ProductStatus;
use cin7_core_client::sale::SaleStatus;
use cin7_core_client::{Error, Guid};
use common::*;
use mockito::{Matcher, Server};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::time::ManualClock;

#[tokio::test]
async fn customers_list_get_create_update() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    let list = with_auth(server.mock("GET", "/customer"), &account)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Name".into(), "Harbour".into()),
            Matcher::UrlEncoded("ModifiedSince".into(), "2026-01-02T03:04:05.000".into()),
            Matcher::UrlEncoded("IncludeDeprecated".into(), "false".into()),
            Matcher::UrlEncoded("IncludeProductPrices".into(), "true".into()),
            Matcher::UrlEncoded("ContactFilter".into(), "ana@".into()),
        ]))
        .with_body(fixture("customer_list.json"))
        .expect(1)
        .create();
    let get = server
        .mock("GET", "/customer")
        .match_query(Matcher::UrlEncoded(
            "ID".into(),
            "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8".into(),
        ))
        .with_body(fixture("customer_list.json"))
        .expect(1)
        .create();
    let create = server
        .mock("POST", "/customer")
        .match_body(Matcher::Json(
            json!({"Name": "New Cafe", "Status": "Active", "Currency": "NZD"}),
        ))
        .with_body(fixture("customer_list.json"))
        .expect(1)
        .create();
    let update = server
        .mock("PUT", "/customer")
        .match_body(Matcher::PartialJson(
            json!({"ID": "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8", "Tags": "vip"}),
        ))
        .with_body(fixture("customer_list.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let customers = client
        .customers()
        .list()
        .name("Harbour")
        .modified_since(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
        .include_deprecated(false)
        .include_product_prices(true)
        .contact_filter("ana@")
        .all()
        .await
        .unwrap();
    let c = &customers[0];
    assert_eq!(c.discount, Some(Decimal::new(5, 0)));
    assert_eq!(c.credit_limit, Some(Decimal::new(15005, 1)));
    assert_eq!(c.is_on_credit_hold, Some(false));
    assert_eq!(c.contacts[0].job_title.as_deref(), Some("Owner"));
    assert!(c.addresses[0].customer_id.is_some());
    let id: Guid = "C1A2B3C4-D5E6-4F70-8192-A3B4C5D6E7F8".parse().unwrap();
    assert_eq!(
        client.customers().get(&id).await.unwrap().unwrap().id,
        Some(id)
    );
    client
        .customers()
        .create(&Customer {
            name: "New Cafe".into(),
            status: Some(cin7_core_client::customer::CustomerStatus::Active),
            currency: Some("NZD".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    client.customers().update(c).await.unwrap();
    assert!(matches!(
        client.customers().create(c).await,
        Err(Error::InvalidInput { .. })
    ));
    list.assert();
    get.assert();
    create.assert();
    update.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn products_page_at_100_and_send_include_flags() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let m = server
        .mock("GET", "/product")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Limit".into(), "100".into()),
            Matcher::UrlEncoded("Sku".into(), "Bread".into()),
            Matcher::UrlEncoded("IncludeBOM".into(), "true".into()),
            Matcher::UrlEncoded("IncludeSuppliers".into(), "true".into()),
            Matcher::UrlEncoded("IncludeMovements".into(), "false".into()),
            Matcher::UrlEncoded("IncludeAttachments".into(), "false".into()),
            Matcher::UrlEncoded("IncludeReorderLevels".into(), "true".into()),
            Matcher::UrlEncoded("IncludeCustomPrices".into(), "false".into()),
        ]))
        .with_body(fixture("product_list.json"))
        .expect(1)
        .create();
    let get = server
        .mock("GET", "/product")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ID".into(), "11510572-0f9e-4d7c-a203-7e0563c3388f".into()),
            Matcher::UrlEncoded("Limit".into(), "1".into()),
        ]))
        .with_body(fixture("product_list.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let products = client
        .products()
        .list()
        .sku("Bread")
        .include_bom(true)
        .include_suppliers(true)
        .include_movements(false)
        .include_attachments(false)
        .include_reorder_levels(true)
        .include_custom_prices(false)
        .all()
        .await
        .unwrap();
    let p = &products[0];
    assert_eq!(p.status, Some(ProductStatus::Active));
    assert_eq!(p.average_cost, Some(Decimal::new(125, 2)));
    assert_eq!(p.cogs_account.as_deref(), Some("500"));
    assert_eq!(p.suppliers.len(), 1);
    assert!(p.other_fields.contains_key("ReorderLevels"));
    let id = "11510572-0f9e-4d7c-a203-7e0563c3388f".parse().unwrap();
    assert_eq!(
        client.products().get(&id).await.unwrap().unwrap().sku,
        "Bread"
    );
    m.assert();
    get.assert();
    assert_catch_all(&rest);
}

#[tokio::test]
async fn sale_list_filters_and_sale_get() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, _) = client(&server, &clock);
    let list = server
        .mock("GET", "/saleList")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ExternalID".into(), "SHOP-1001".into()),
            Matcher::UrlEncoded("UpdatedSince".into(), "2025-10-01T00:00:00.000".into()),
            Matcher::UrlEncoded("CreatedSince".into(), "2025-09-01T00:00:00.000".into()),
            Matcher::UrlEncoded("Status".into(), "INVOICED".into()),
            Matcher::UrlEncoded("Search".into(), "Harbour".into()),
            Matcher::UrlEncoded("CombinedInvoiceStatus".into(), "INVOICED".into()),
            Matcher::UrlEncoded("ReadyForShipping".into(), "false".into()),
        ]))
        .with_body(fixture("sale_list.json"))
        .expect(1)
        .create();
    let get = server
        .mock("GET", "/sale")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ID".into(), "0f8352e1-f1c0-4dd0-b6b5-675d3e8c5e8e".into()),
            Matcher::UrlEncoded("CombineAdditionalCharges".into(), "true".into()),
            Matcher::UrlEncoded("HideInventoryMovements".into(), "true".into()),
            Matcher::UrlEncoded("IncludeTransactions".into(), "false".into()),
        ]))
        .with_body(fixture("sale.json"))
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let rows = client
        .sales()
        .list()
        .external_id("SHOP-1001")
        .updated_since(Utc.with_ymd_and_hms(2025, 10, 1, 0, 0, 0).unwrap())
        .created_since(Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).unwrap())
        .status(&SaleStatus::Invoiced)
        .search("Harbour")
        .combined_invoice_status("INVOICED")
        .ready_for_shipping(false)
        .all()
        .await
        .unwrap();
    let row = &rows[0];
    assert_eq!(row.status, Some(SaleStatus::Invoiced));
    assert_eq!(row.invoice_amount, Some(Decimal::new(115, 0)));
    assert_eq!(row.updated.unwrap().timestamp_subsec_nanos(), 456_789_100);
    let sale = client
        .sales()
        .get(row.sale_id.as_ref().unwrap())
        .combine_additional_charges(true)
        .hide_inventory_movements(true)
        .include_transactions(false)
        .send()
        .await
        .unwrap();
    assert_eq!(sale.id, row.sale_id);
    assert_eq!(
        sale.status,
        Some(SaleStatus::Other("PARTIALLY SHIPPED (2026)".into()))
    );
    assert!(sale.other_fields.contains_key("Order"));
    list.assert();
    get.assert();
    assert_catch_all(&rest);
}
