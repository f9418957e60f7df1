//! The Data Lake view: BODs generated from the simulator's rows through the crate's own BOD
//! model and serializer, listed by document name and event date and fetched by id.
//!
//! Each row publishes one document per change: its `dl_id` is `<document>:<key>:<variation>`,
//! its `variationID` the row's variation counter, its event date the row's `RecordDate`.
//! Suppliers come from `SLVendors`, purchase orders from `SLPos` + `SLPoItems`, supplier
//! invoices from `SLAptrxs` + `SLAptrxds` (each distribution a line with its GL account in
//! `DistributionAccount/ID`), and the chart from `SLCharts` (one `SyncChartOfAccounts` per
//! account, so each account has its own variation sequence).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::data::{CloudSuiteData, StoredRow};
use crate::bod::{
    ActionCode, ActionExpression, Address, AddressLine, Amount, Bod, ChartOfAccounts, Code,
    Communication, DocumentId, DocumentReference, GlAccount, Identifier, Item, Location, Noun,
    Party, PartyIds, PurchaseOrder, PurchaseOrderHeader, PurchaseOrderLine, Quantity, Status,
    SupplierInvoice, SupplierInvoiceHeader, SupplierInvoiceLine, SupplierPartyMaster, UnitPrice,
    Verb, XmlElement,
};
use crate::values::{parse_datetime, parse_datetime_in};

type Params = std::collections::HashMap<String, String>;

/// The documents the simulated Data Lake holds.
const DOCUMENTS: &[(&str, &str)] = &[
    ("SyncSupplierPartyMaster", "SLVendors"),
    ("SyncPurchaseOrder", "SLPos"),
    ("SyncSupplierInvoice", "SLAptrxs"),
    ("SyncChartOfAccounts", "SLCharts"),
];

/// The currency of IDO amounts (CSI records carry the site's domestic currency).
const CURRENCY: &str = "USD";

const LOGICAL_ID: &str = "lid://infor.csi.simulator";

/// The `dl_id` suffix of a deleted row's `Delete` BOD.
const DELETED: &str = ":deleted";

fn text<'a>(row: &'a StoredRow, name: &str) -> &'a str {
    row.values
        .get(name)
        .and_then(|v| v.as_deref())
        .unwrap_or_default()
}

/// The row's change time as an instant: `RecordDate` is a wall time in the site's zone, while
/// the Data Lake's `event_date` is UTC.
fn event_date(row: &StoredRow, zone: Tz) -> Option<DateTime<Utc>> {
    parse_datetime_in(text(row, "RecordDate"), zone)
}

fn key(row: &StoredRow, ido: &str) -> String {
    CloudSuiteData::key_of(ido)
        .iter()
        .map(|p| text(row, p))
        .collect::<Vec<_>>()
        .join("|")
}

fn identifier(value: &str, row: &StoredRow) -> Identifier {
    Identifier {
        value: value.to_owned(),
        accounting_entity: Some("MAIN".to_owned()),
        variation_id: Some(row.variation),
        ..Identifier::default()
    }
}

fn non_empty(value: &str) -> Option<String> {
    Some(value.to_owned()).filter(|v| !v.is_empty())
}

fn status(code: &str) -> Option<Status> {
    Some(Status {
        code: Some(Code::new(code)),
        ..Status::default()
    })
}

fn party(id: &str) -> Party {
    Party {
        party_ids: Some(PartyIds {
            ids: vec![Identifier::new(id)],
            ..PartyIds::default()
        }),
        ..Party::default()
    }
}

fn amount(value: Decimal) -> Amount {
    Amount {
        value,
        currency_id: Some(CURRENCY.to_owned()),
    }
}

fn envelope<N: Noun>(row: &StoredRow, zone: Tz, ido: &str, document: &str, noun: N) -> Bod<N> {
    let mut bod = Bod::new(
        Verb::Sync,
        LOGICAL_ID,
        format!(
            "infor-nid:SIM:MAIN::{}:{}?{document}",
            key(row, ido),
            row.variation
        ),
    );
    bod.application_area.creation_date_time = event_date(row, zone);
    bod.verb_area.accounting_entity_id = Some("MAIN".to_owned());
    bod.verb_area.action_expressions = vec![ActionExpression {
        action_code: if row.variation == 1 {
            ActionCode::Add
        } else {
            ActionCode::Replace
        },
        expression: None,
    }];
    bod.nouns = vec![noun];
    bod
}

fn decimal(value: &str) -> Decimal {
    value.trim().parse().unwrap_or_default()
}

fn supplier_bod(row: &StoredRow, zone: Tz) -> Bod<SupplierPartyMaster> {
    let mut party = SupplierPartyMaster::default();
    party.party.party_ids = PartyIds {
        ids: vec![identifier(text(row, "VendNum"), row)],
        ..PartyIds::default()
    };
    party.party.name = Some(text(row, "Name").to_owned());
    party.party.currency_code = Some(text(row, "CurrCode").to_owned()).filter(|c| !c.is_empty());
    party.party.payment_term_id = Some(text(row, "TermsCode").to_owned()).filter(|c| !c.is_empty());
    party.party.last_modification_date_time = event_date(row, zone);
    party.party.status = status(if text(row, "Stat") == "A" {
        "Open"
    } else {
        "Closed"
    });
    if let Some(line) = non_empty(text(row, "VadAddr_1")) {
        let mut lines = vec![AddressLine {
            sequence: Some(1),
            text: line,
        }];
        if let Some(line) = non_empty(text(row, "VadAddr_2")) {
            lines.push(AddressLine {
                sequence: Some(2),
                text: line,
            });
        }
        party.party.locations = vec![Location {
            location_type: Some("Office".to_owned()),
            address: Some(Address {
                lines,
                city_name: non_empty(text(row, "VadCity")),
                country_sub_division_code: non_empty(text(row, "VadStateCode")),
                country_code: non_empty(text(row, "VadCountry")),
                postal_code: non_empty(text(row, "VadZip")),
                ..Address::default()
            }),
            ..Location::default()
        }];
    }
    for (channel, column) in [("Phone", "Phone"), ("EMail", "ExternalEmailAddr")] {
        if let Some(value) = non_empty(text(row, column)) {
            let mut communication = Communication {
                channel_code: Some(channel.to_owned()),
                ..Communication::default()
            };
            if channel == "Phone" {
                communication.dial_number = Some(value);
            } else {
                communication.uri = Some(value);
            }
            party.party.communications.push(communication);
        }
    }
    envelope(row, zone, "SLVendors", "SyncSupplierPartyMaster", party)
}

fn purchase_order_bod(data: &CloudSuiteData, row: &StoredRow) -> Bod<PurchaseOrder> {
    let zone = data.record_date_zone();
    let po = text(row, "PoNum");
    let lines = data
        .rows("SLPoItems")
        .iter()
        .filter(|l| text(l, "PoNum") == po)
        .map(|l| PurchaseOrderLine {
            line_number: Some(text(l, "PoLine").to_owned()),
            item: Some(Item {
                item_ids: vec![DocumentId::new(Identifier::new(text(l, "Item")))],
                descriptions: non_empty(text(l, "Description")).into_iter().collect(),
                ..Item::default()
            }),
            quantity: Some(Quantity {
                value: decimal(text(l, "QtyOrdered")),
                unit_code: Some(text(l, "UM").to_owned()),
            }),
            unit_price: Some(UnitPrice {
                amount: Some(amount(decimal(text(l, "ItemCost")))),
                ..UnitPrice::default()
            }),
            extended_amount: Some(amount(
                decimal(text(l, "QtyOrdered")) * decimal(text(l, "ItemCost")),
            )),
            required_delivery_date_time: parse_datetime(text(l, "DueDate")),
            ..PurchaseOrderLine::default()
        })
        .collect();
    let order = PurchaseOrder {
        header: PurchaseOrderHeader {
            document_id: DocumentId {
                id: identifier(po, row),
                ..DocumentId::default()
            },
            last_modification_date_time: event_date(row, zone),
            order_date_time: parse_datetime(text(row, "OrderDate")),
            status: status(match text(row, "Stat") {
                "P" => "Planned",
                "C" | "F" => "Closed",
                _ => "Open",
            }),
            supplier_party: Some(party(text(row, "VendNum"))),
            ship_to_party: non_empty(text(row, "Whse")).map(|w| party(&w)),
            ..PurchaseOrderHeader::default()
        },
        lines,
        ..PurchaseOrder::default()
    };
    envelope(row, zone, "SLPos", "SyncPurchaseOrder", order)
}

fn supplier_invoice_bod(data: &CloudSuiteData, row: &StoredRow) -> Bod<SupplierInvoice> {
    let zone = data.record_date_zone();
    let voucher = text(row, "Voucher");
    let lines = data
        .rows("SLAptrxds")
        .iter()
        .filter(|d| text(d, "Voucher") == voucher)
        .map(|d| {
            let mut account = XmlElement::oagis("DistributionAccount");
            account.push(XmlElement::oagis("ID").with_text(text(d, "Acct")));
            SupplierInvoiceLine {
                line_number: Some(text(d, "DistSeq").to_owned()),
                description: Some(format!(
                    "Voucher {voucher} distribution {}",
                    text(d, "DistSeq")
                )),
                extended_amount: Some(amount(decimal(text(d, "Amount")))),
                extensions: vec![account],
                ..SupplierInvoiceLine::default()
            }
        })
        .collect();
    let mut invoice_number = DocumentId::new(Identifier::new(text(row, "InvNum")));
    invoice_number.id.scheme_name = Some("SupplierInvoiceNumber".to_owned());
    let invoice = SupplierInvoice {
        header: SupplierInvoiceHeader {
            document_id: DocumentId::new(identifier(voucher, row)),
            alternate_document_ids: vec![invoice_number],
            document_date_time: parse_datetime(text(row, "InvDate")),
            last_modification_date_time: event_date(row, zone),
            total_amount: Some(amount(decimal(text(row, "InvAmt")))),
            purchase_order_references: non_empty(text(row, "PoNum"))
                .map(|po| DocumentReference {
                    document_id: Some(DocumentId::new(Identifier::new(po))),
                    ..DocumentReference::default()
                })
                .into_iter()
                .collect(),
            supplier_party: Some(party(text(row, "VendNum"))),
            ..SupplierInvoiceHeader::default()
        },
        lines,
        ..SupplierInvoice::default()
    };
    envelope(row, zone, "SLAptrxs", "SyncSupplierInvoice", invoice)
}

fn chart_bod(row: &StoredRow, zone: Tz) -> Bod<ChartOfAccounts> {
    let account = text(row, "Acct");
    let chart = ChartOfAccounts {
        document_id: Some(DocumentId::new(identifier(account, row))),
        gl_accounts: vec![GlAccount {
            gl_nominal_account: account.to_owned(),
            descriptions: non_empty(text(row, "Description")).into_iter().collect(),
            type_code: non_empty(text(row, "Type")),
            ..GlAccount::default()
        }],
        ..ChartOfAccounts::default()
    };
    envelope(row, zone, "SLCharts", "SyncChartOfAccounts", chart)
}

/// `dl_document_name eq 'X' [and event_date ge 'ISO']`, the filter the client sends.
fn parse_filter(filter: &str) -> Option<(String, Option<DateTime<Utc>>)> {
    let rest = filter.trim().strip_prefix("dl_document_name eq '")?;
    let (name, rest) = rest.split_once('\'')?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Some((name.to_owned(), None));
    }
    let date = rest
        .strip_prefix("and event_date ge '")?
        .strip_suffix('\'')?;
    Some((name.to_owned(), Some(parse_datetime(date)?)))
}

/// The payload list.
pub(super) fn list(data: &CloudSuiteData, params: &Params) -> Response {
    let zone = data.record_date_zone();
    let Some((document, since)) = params.get("filter").and_then(|f| parse_filter(f)) else {
        return (StatusCode::BAD_REQUEST, "unsupported filter").into_response();
    };
    let Some((_, ido)) = DOCUMENTS.iter().find(|(name, _)| *name == document) else {
        return json_list(0, Vec::new());
    };
    // Each row's newest variation, and each deleted row's `Delete` (its id ends `:deleted`).
    let mut rows: Vec<(&StoredRow, &str)> = data
        .rows(ido)
        .iter()
        .map(|r| (r, ""))
        .chain(data.deleted_rows(ido).iter().map(|r| (r, DELETED)))
        .filter(|(r, _)| since.is_none_or(|s| event_date(r, zone).is_some_and(|d| d >= s)))
        .collect();
    rows.sort_by_key(|(r, _)| (event_date(r, zone), r.seq));
    let page: usize = params
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let records: usize = params
        .get("records")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20)
        .max(1);
    let fields = rows
        .iter()
        .skip((page - 1).saturating_mul(records))
        .take(records)
        .map(|(r, suffix)| {
            json!({
                "dl_id": format!("{document}:{}:{}{suffix}", key(r, ido), r.variation),
                "dl_document_name": document,
                "event_date": event_date(r, zone).map(|d| d.to_rfc3339()),
            })
        })
        .collect();
    json_list(rows.len(), fields)
}

fn json_list(found: usize, fields: Vec<Value>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"numFound": found, "fields": fields}).to_string(),
    )
        .into_response()
}

/// The payload of `bod`; a deleted row's is the row as it was, with the action code `Delete`.
fn published<N: Noun>(mut bod: Bod<N>, deleted: bool) -> Result<String, crate::bod::BodError> {
    if deleted {
        for action in &mut bod.verb_area.action_expressions {
            action.action_code = ActionCode::Delete;
        }
    }
    bod.to_xml()
}

/// One payload by id.
pub(super) fn fetch(data: &CloudSuiteData, dl_id: &str) -> Response {
    let mut parts = dl_id.splitn(3, ':');
    let (Some(document), Some(key_text)) = (parts.next(), parts.next()) else {
        return (StatusCode::NOT_FOUND, "no such payload").into_response();
    };
    let Some((_, ido)) = DOCUMENTS.iter().find(|(name, _)| *name == document) else {
        return (StatusCode::NOT_FOUND, "no such payload").into_response();
    };
    let key_values: Vec<&str> = key_text.split('|').collect();
    let deleted = parts.next().is_some_and(|v| v.ends_with(DELETED));
    let row = if deleted {
        data.deleted_rows(ido)
            .iter()
            .rev()
            .find(|r| key(r, ido) == key_text)
    } else {
        data.find(ido, &key_values)
    };
    let Some(row) = row else {
        return (StatusCode::NOT_FOUND, "no such payload").into_response();
    };
    let xml = match *ido {
        "SLVendors" => published(supplier_bod(row, data.record_date_zone()), deleted),
        "SLAptrxs" => published(supplier_invoice_bod(data, row), deleted),
        "SLCharts" => published(chart_bod(row, data.record_date_zone()), deleted),
        _ => published(purchase_order_bod(data, row), deleted),
    };
    match xml {
        Ok(xml) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/xml")],
            xml,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
