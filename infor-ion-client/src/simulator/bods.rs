//! The Data Lake view: BODs generated from the simulator's rows through the crate's own BOD
//! model and serializer, listed by document name and event date and fetched by id.
//!
//! Each row publishes one document per change: its `dl_id` is `<document>:<key>:<variation>`,
//! its `variationID` the row's variation counter, its event date the row's `RecordDate`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::data::{CloudSuiteData, StoredRow};
use crate::bod::{
    ActionCode, ActionExpression, Amount, Bod, DocumentId, Identifier, Noun, PartyIds,
    PurchaseOrder, PurchaseOrderHeader, PurchaseOrderLine, Quantity, SupplierPartyMaster, Verb,
};
use crate::values::parse_datetime;

type Params = std::collections::HashMap<String, String>;

/// The documents the simulated Data Lake holds.
const DOCUMENTS: &[(&str, &str)] = &[
    ("SyncSupplierPartyMaster", "SLVendors"),
    ("SyncPurchaseOrder", "SLPos"),
];

const LOGICAL_ID: &str = "lid://infor.csi.simulator";

fn text<'a>(row: &'a StoredRow, name: &str) -> &'a str {
    row.values
        .get(name)
        .and_then(|v| v.as_deref())
        .unwrap_or_default()
}

fn event_date(row: &StoredRow) -> Option<DateTime<Utc>> {
    parse_datetime(text(row, "RecordDate"))
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

fn envelope<N: Noun>(row: &StoredRow, document: &str, noun: N) -> Bod<N> {
    let mut bod = Bod::new(
        Verb::Sync,
        LOGICAL_ID,
        format!(
            "infor-nid:SIM:MAIN::{}:{}?{document}",
            key(row, "SLPos"),
            row.variation
        ),
    );
    bod.application_area.creation_date_time = event_date(row);
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

fn supplier_bod(row: &StoredRow) -> Result<String, crate::bod::BodError> {
    let mut party = SupplierPartyMaster::default();
    party.party.party_ids = PartyIds {
        ids: vec![identifier(text(row, "VendNum"), row)],
        ..PartyIds::default()
    };
    party.party.name = Some(text(row, "Name").to_owned());
    party.party.currency_code = Some(text(row, "CurrCode").to_owned()).filter(|c| !c.is_empty());
    party.party.payment_term_id = Some(text(row, "TermsCode").to_owned()).filter(|c| !c.is_empty());
    party.party.last_modification_date_time = event_date(row);
    envelope(row, "SyncSupplierPartyMaster", party).to_xml()
}

fn purchase_order_bod(
    data: &CloudSuiteData,
    row: &StoredRow,
) -> Result<String, crate::bod::BodError> {
    let po = text(row, "PoNum");
    let lines = data
        .rows("SLPoItems")
        .iter()
        .filter(|l| text(l, "PoNum") == po)
        .map(|l| PurchaseOrderLine {
            line_number: Some(text(l, "PoLine").to_owned()),
            quantity: Some(Quantity {
                value: decimal(text(l, "QtyOrdered")),
                unit_code: Some(text(l, "UM").to_owned()),
            }),
            extended_amount: Some(Amount {
                value: decimal(text(l, "QtyOrdered")) * decimal(text(l, "ItemCost")),
                currency_id: Some("USD".to_owned()),
            }),
            ..PurchaseOrderLine::default()
        })
        .collect();
    let order = PurchaseOrder {
        header: PurchaseOrderHeader {
            document_id: DocumentId {
                id: identifier(po, row),
                ..DocumentId::default()
            },
            last_modification_date_time: event_date(row),
            order_date_time: parse_datetime(text(row, "OrderDate")),
            ..PurchaseOrderHeader::default()
        },
        lines,
        ..PurchaseOrder::default()
    };
    envelope(row, "SyncPurchaseOrder", order).to_xml()
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
    let Some((document, since)) = params.get("filter").and_then(|f| parse_filter(f)) else {
        return (StatusCode::BAD_REQUEST, "unsupported filter").into_response();
    };
    let Some((_, ido)) = DOCUMENTS.iter().find(|(name, _)| *name == document) else {
        return json_list(0, Vec::new());
    };
    let mut rows: Vec<&StoredRow> = data
        .rows(ido)
        .iter()
        .filter(|r| since.is_none_or(|s| event_date(r).is_some_and(|d| d >= s)))
        .collect();
    rows.sort_by_key(|r| (event_date(r), r.seq));
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
        .map(|r| {
            json!({
                "dl_id": format!("{document}:{}:{}", key(r, ido), r.variation),
                "dl_document_name": document,
                "event_date": event_date(r).map(|d| d.to_rfc3339()),
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
    let Some(row) = data.find(ido, &key_values) else {
        return (StatusCode::NOT_FOUND, "no such payload").into_response();
    };
    let xml = match *ido {
        "SLVendors" => supplier_bod(row),
        _ => purchase_order_bod(data, row),
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
