//! CloudSuite as the target of the return direction: purchase orders created and updated from
//! Cin7, through CloudSuite Industrial IDO updates or `Process` BODs sent through ION's
//! Messaging Service.
//!
//! [`CloudSuitePoWriter`] implements sync-core's
//! `SourcePurchaseWriter`. Reads always use
//! the IDO `load` calls (`SLPos`, `SLPoItems`). Writes, per [`PoWriteMode`]:
//!
//! - [`PoWriteMode::Ido`]: `POST /update/SLPos` and `/update/SLPoItems`, one change per call,
//!   inserts through [`Csi::insert_once`](crate::csi::Csi::insert_once) (looked up before they
//!   are sent). The status goes to `SLPos.Stat`, received quantities to
//!   `SLPoItems.QtyReceived`. **Integrators must check** on their tenant that these properties
//!   are writable through the IDO (a real site may require receipts to go through the PO
//!   receiving method instead) and that the external-reference property
//!   ([`CloudSuitePoWriter::with_external_ref_property`], default `VendOrder`) is long enough
//!   for a Cin7 GUID (36 characters).
//! - [`PoWriteMode::Bods`]: `ProcessPurchaseOrder` (create, status) and `ProcessReceiveDelivery`
//!   (one receipt line per changed PO line, with the received delta) through
//!   [`Ims::send`](crate::transport::ims::Ims::send). ION applies them asynchronously and only
//!   where a document flow routes them to CloudSuite: **unconfirmed** for a given tenant.
//!
//! Supplier invoices authorised in Cin7 (both modes look them up in `SLAptrxs` by `VendNum` and
//! `InvNum` first):
//!
//! - IDO: an A/P voucher header inserted into `SLAptrxs` (`VendNum`, `InvNum`, `InvDate`,
//!   `DueDate`, `InvAmt`, `PoNum`) through [`Csi::insert_once`]; the voucher number is
//!   CloudSuite's (read back from the answer or the lookup). **Unconfirmed**: that the IDO
//!   accepts an insert with these properties and numbers the voucher itself; no distributions
//!   (`SLAptrxds`) are written, CloudSuite's voucher entry is expected to add them.
//! - BODs: a `ProcessSupplierInvoice` (invoice number as `DocumentID` and as the
//!   `SupplierInvoiceNumber` alternate id, supplier, PO reference, total, one line per Cin7 line
//!   with its PO line). Whether ION routes it to CloudSuite Industrial's A/P is **unconfirmed**.

use async_trait::async_trait;
use chrono::{NaiveTime, TimeZone, Utc};

use rust_decimal::Decimal;
use sync_core::engine::returns::{
    SourceInvoiceDraft, SourcePoChange, SourcePoDraft, SourcePoLine, SourcePoState,
    SourcePurchaseWriter,
};
use sync_core::error::TargetError;
use sync_core::model::PoStatus;
use sync_core::retry::Delivery;

use crate::bod::{
    ActionCode, ActionExpression, Amount, Bod, Code, DocumentId, DocumentReference, Identifier,
    Item, Party, PartyIds, PurchaseOrder as PoNoun, PurchaseOrderHeader, PurchaseOrderLine,
    Quantity, ReceiveDelivery, ReceiveDeliveryHeader, ReceiveDeliveryItem, Status,
    SupplierInvoice as InvoiceNoun, SupplierInvoiceHeader, SupplierInvoiceLine, UnitPrice, Verb,
};
use crate::csi::{Csi, Filter, IdoChange, IdoItem, InsertOnce};
use crate::error::Error;
use crate::transport::ims::Ims;

/// How purchase orders are written to CloudSuite.
#[derive(Debug, Clone)]
pub enum PoWriteMode {
    /// CloudSuite Industrial IDO updates.
    Ido,
    /// `Process` BODs sent through ION's Messaging Service.
    Bods {
        /// The sender.
        ims: Ims,
        /// The sending logical id (the same as the sender's `fromLogicalId`).
        logical_id: String,
    },
}

/// Writes purchase orders from Cin7 to CloudSuite.
#[derive(Debug, Clone)]
pub struct CloudSuitePoWriter {
    csi: Csi,
    mode: PoWriteMode,
    external_ref_property: String,
    accounting_entity: Option<String>,
}

/// The `Stat` code for a status (CloudSuite Industrial: P planned, O ordered, F filled,
/// C complete). A cancelled PO is written as `C`: **check** how your site cancels POs.
pub fn stat_code(status: &PoStatus) -> &'static str {
    match status {
        PoStatus::Planned => "P",
        PoStatus::Ordered => "O",
        PoStatus::Closed => "F",
        PoStatus::Cancelled => "C",
    }
}

fn status_of(code: Option<&str>) -> PoStatus {
    match code {
        Some("P") => PoStatus::Planned,
        Some("F") | Some("C") => PoStatus::Closed,
        _ => PoStatus::Ordered,
    }
}

/// A client error as the engine's [`TargetError`], keeping whether the write may have happened.
pub fn target_error(error: &Error) -> TargetError {
    let status = match error {
        Error::Api(api) => Some(api.status),
        _ => None,
    };
    match error.delivery() {
        Delivery::NotProcessed => TargetError::not_sent(error.to_string()),
        Delivery::Unknown => TargetError::unknown_outcome(error.to_string()),
        Delivery::Processed => TargetError {
            delivery: Delivery::Processed,
            transient: error.is_retryable(),
            status,
            message: error.to_string(),
        },
    }
}

fn ido_date(date: chrono::NaiveDate) -> String {
    date.and_time(NaiveTime::MIN)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

fn decimal_text(value: Decimal) -> String {
    value.normalize().to_string()
}

impl CloudSuitePoWriter {
    /// A writer reading through `csi` and writing in `mode`.
    pub fn new(csi: Csi, mode: PoWriteMode) -> Self {
        CloudSuitePoWriter {
            csi,
            mode,
            external_ref_property: "VendOrder".into(),
            accounting_entity: None,
        }
    }

    /// The `SLPos` property that carries the Cin7 purchase id (default `VendOrder`).
    pub fn with_external_ref_property(mut self, property: impl Into<String>) -> Self {
        self.external_ref_property = property.into();
        self
    }

    /// The accounting entity named in BODs (`DocumentID/ID@accountingEntity`).
    pub fn with_accounting_entity(mut self, entity: impl Into<String>) -> Self {
        self.accounting_entity = Some(entity.into());
        self
    }

    /// The `key` property of every `ido` row that `filter` selects.
    async fn keys(&self, ido: &str, key: &str, filter: Filter) -> Result<Vec<String>, TargetError> {
        use futures::TryStreamExt;
        let rows: Vec<IdoItem> = self
            .csi
            .load(ido)
            .properties([key])
            .filter(filter)
            .items()
            .try_collect()
            .await
            .map_err(|e| target_error(&e))?;
        Ok(rows
            .iter()
            .filter_map(|r| r.record.text(key).map(str::to_owned))
            .collect())
    }

    fn filter_po(po_number: &str) -> Result<Filter, TargetError> {
        Filter::eq("PoNum", po_number).map_err(|e| target_error(&e))
    }

    async fn header(&self, po_number: &str) -> Result<Option<IdoItem>, TargetError> {
        self.csi
            .find_one(
                "SLPos",
                Self::filter_po(po_number)?,
                &["PoNum", "Stat", "VendNum"],
            )
            .await
            .map_err(|e| target_error(&e))
    }

    async fn lines(&self, po_number: &str) -> Result<Vec<IdoItem>, TargetError> {
        use futures::TryStreamExt;
        self.csi
            .load("SLPoItems")
            .properties(["PoNum", "PoLine", "Item", "QtyOrdered", "QtyReceived"])
            .filter(Self::filter_po(po_number)?)
            .order_by(["PoLine"])
            .items()
            .try_collect()
            .await
            .map_err(|e| target_error(&e))
    }

    fn document_id(&self, po_number: &str) -> DocumentId {
        DocumentId::new(Identifier {
            accounting_entity: self.accounting_entity.clone(),
            ..Identifier::new(po_number)
        })
    }

    fn process_bod<N: crate::bod::Noun>(&self, logical_id: &str, noun: N, key: &str) -> Bod<N> {
        let now = self.csi.client().clock().now();
        let mut bod = Bod::new(
            Verb::Process,
            logical_id.to_owned(),
            format!("{key}-{}", now.timestamp_micros()),
        );
        bod.application_area.creation_date_time = Some(now);
        bod.verb_area.accounting_entity_id = self.accounting_entity.clone();
        bod.verb_area.action_expressions = vec![ActionExpression {
            action_code: ActionCode::Change,
            expression: None,
        }];
        bod.nouns.push(noun);
        bod
    }

    fn po_noun(&self, po_number: &str, status: &PoStatus) -> PoNoun {
        PoNoun {
            header: PurchaseOrderHeader {
                document_id: self.document_id(po_number),
                status: Some(Status {
                    code: Some(Code {
                        value: stat_code(status).into(),
                        ..Code::default()
                    }),
                    ..Status::default()
                }),
                ..PurchaseOrderHeader::default()
            },
            ..PoNoun::default()
        }
    }

    async fn send<N: crate::bod::Noun>(&self, ims: &Ims, bod: &Bod<N>) -> Result<(), TargetError> {
        ims.send(bod).await.map_err(|e| target_error(&e))
    }

    async fn create_by_ido(&self, draft: &SourcePoDraft) -> Result<String, TargetError> {
        let mut header = IdoChange::insert()
            .set("PoNum", &draft.po_number)
            .set("VendNum", &draft.vendor_id)
            .set("OrderDate", ido_date(draft.order_date))
            .set("Stat", stat_code(&draft.status))
            .set("Type", "R")
            .set(&self.external_ref_property, &draft.external_ref);
        if let Some(whse) = &draft.location {
            header = header.set("Whse", whse);
        }
        let inserted = self
            .csi
            .insert_once(
                "SLPos",
                Self::filter_po(&draft.po_number)?,
                &["PoNum", &self.external_ref_property],
                &header,
            )
            .await
            .map_err(|e| target_error(&e))?;
        if let InsertOnce::Existing(existing) = &inserted
            && existing.record.text(&self.external_ref_property) != Some(&draft.external_ref)
        {
            return Err(TargetError::rejected(
                409,
                format!(
                    "PO {} already exists in CloudSuite for another document",
                    draft.po_number
                ),
            ));
        }
        for line in &draft.lines {
            let mut change = IdoChange::insert()
                .set("PoNum", &draft.po_number)
                .set("PoLine", line.line_no.to_string())
                .set("PoRelease", "0")
                .set("Item", &line.item)
                .set("Description", &line.description)
                .set("QtyOrdered", decimal_text(line.quantity))
                .set("QtyReceived", decimal_text(line.received))
                .set("ItemCost", decimal_text(line.unit_price))
                .set("UM", "EA")
                .set("Stat", stat_code(&draft.status));
            if let Some(due) = draft.required_by {
                change = change.set("DueDate", ido_date(due));
            }
            let lookup = Self::filter_po(&draft.po_number)?
                .and(Filter::eq("PoLine", line.line_no.to_string()).map_err(|e| target_error(&e))?);
            self.csi
                .insert_once("SLPoItems", lookup, &["PoNum", "PoLine"], &change)
                .await
                .map_err(|e| target_error(&e))?;
        }
        Ok(draft.po_number.clone())
    }

    async fn create_by_bod(
        &self,
        ims: &Ims,
        logical_id: &str,
        draft: &SourcePoDraft,
    ) -> Result<String, TargetError> {
        let mut noun = self.po_noun(&draft.po_number, &draft.status);
        noun.header.display_id = Some(draft.external_number.clone());
        noun.header.order_date_time =
            Some(Utc.from_utc_datetime(&draft.order_date.and_time(NaiveTime::MIN)));
        noun.header.supplier_party = Some(Party {
            party_ids: Some(PartyIds {
                ids: vec![Identifier::new(&draft.vendor_id)],
                ..PartyIds::default()
            }),
            ..Party::default()
        });
        noun.lines = draft
            .lines
            .iter()
            .map(|line| PurchaseOrderLine {
                line_number: Some(line.line_no.to_string()),
                item: Some(Item {
                    item_ids: vec![DocumentId::new(Identifier::new(&line.item))],
                    descriptions: vec![line.description.clone()],
                    ..Item::default()
                }),
                quantity: Some(Quantity {
                    value: line.quantity,
                    unit_code: Some("EA".into()),
                }),
                received_quantity: Some(Quantity {
                    value: line.received,
                    unit_code: Some("EA".into()),
                }),
                ..PurchaseOrderLine::default()
            })
            .collect();
        let mut bod = self.process_bod(logical_id, noun, &draft.po_number);
        bod.verb_area.action_expressions = vec![ActionExpression {
            action_code: ActionCode::Add,
            expression: None,
        }];
        self.send(ims, &bod).await?;
        Ok(draft.po_number.clone())
    }

    fn filter_invoice(vendor_id: &str, invoice_number: &str) -> Result<Filter, TargetError> {
        Ok(Filter::eq("VendNum", vendor_id)
            .map_err(|e| target_error(&e))?
            .and(Filter::eq("InvNum", invoice_number).map_err(|e| target_error(&e))?))
    }

    async fn create_voucher(&self, draft: &SourceInvoiceDraft) -> Result<String, TargetError> {
        let lookup = Self::filter_invoice(&draft.vendor_id, &draft.invoice_number)?;
        let mut voucher = IdoChange::insert()
            .set("VendNum", &draft.vendor_id)
            .set("InvNum", &draft.invoice_number)
            .set("InvDate", ido_date(draft.invoice_date))
            .set("InvAmt", decimal_text(draft.amount))
            .set("PoNum", &draft.po_number);
        if let Some(due) = draft.due_date {
            voucher = voucher.set("DueDate", ido_date(due));
        }
        let properties = ["Voucher", "VendNum", "InvNum"];
        let saved = match self
            .csi
            .insert_once("SLAptrxs", lookup.clone(), &properties, &voucher)
            .await
            .map_err(|e| target_error(&e))?
        {
            InsertOnce::Existing(item) => Some(item),
            InsertOnce::Inserted(outcome) => outcome.refreshed,
        };
        if let Some(number) = saved.as_ref().and_then(|i| i.record.text("Voucher")) {
            return Ok(number.to_owned());
        }
        // The answer did not carry the saved row: read the voucher number back.
        self.csi
            .find_one("SLAptrxs", lookup, &properties)
            .await
            .map_err(|e| target_error(&e))?
            .and_then(|i| i.record.text("Voucher").map(str::to_owned))
            .ok_or_else(|| {
                TargetError::unknown_outcome(format!(
                    "voucher for invoice {} was inserted but cannot be read back",
                    draft.invoice_number
                ))
            })
    }

    async fn send_invoice_bod(
        &self,
        ims: &Ims,
        logical_id: &str,
        draft: &SourceInvoiceDraft,
    ) -> Result<String, TargetError> {
        let amount = |value: Decimal| Amount {
            value,
            currency_id: Some(draft.currency.clone()),
        };
        let po_reference = |line: Option<u32>| DocumentReference {
            document_id: Some(self.document_id(&draft.po_number)),
            line_number: line.map(|l| l.to_string()),
            ..DocumentReference::default()
        };
        let mut number = DocumentId::new(Identifier::new(&draft.invoice_number));
        number.id.scheme_name = Some("SupplierInvoiceNumber".into());
        let noun = InvoiceNoun {
            header: SupplierInvoiceHeader {
                document_id: self.document_id(&draft.invoice_number),
                alternate_document_ids: vec![number],
                document_date_time: Some(
                    Utc.from_utc_datetime(&draft.invoice_date.and_time(NaiveTime::MIN)),
                ),
                total_amount: Some(amount(draft.amount)),
                purchase_order_references: vec![po_reference(None)],
                supplier_party: Some(Party {
                    party_ids: Some(PartyIds {
                        ids: vec![Identifier::new(&draft.vendor_id)],
                        ..PartyIds::default()
                    }),
                    ..Party::default()
                }),
                ..SupplierInvoiceHeader::default()
            },
            lines: draft
                .lines
                .iter()
                .map(|line| SupplierInvoiceLine {
                    line_number: Some(line.line_no.to_string()),
                    item: line.item.as_ref().map(|item| Item {
                        item_ids: vec![DocumentId::new(Identifier::new(item))],
                        ..Item::default()
                    }),
                    description: Some(line.description.clone()),
                    quantity: Some(Quantity {
                        value: line.quantity,
                        unit_code: None,
                    }),
                    unit_price: Some(UnitPrice {
                        amount: Some(amount(line.unit_price)),
                        ..UnitPrice::default()
                    }),
                    extended_amount: Some(amount(line.amount)),
                    purchase_order_reference: line.po_line.map(|l| po_reference(Some(l))),
                    ..SupplierInvoiceLine::default()
                })
                .collect(),
            ..InvoiceNoun::default()
        };
        let mut bod = self.process_bod(logical_id, noun, &draft.invoice_number);
        bod.verb_area.action_expressions = vec![ActionExpression {
            action_code: ActionCode::Add,
            expression: None,
        }];
        self.send(ims, &bod).await?;
        Ok(draft.invoice_number.clone())
    }
}

#[async_trait]
impl SourcePurchaseWriter for CloudSuitePoWriter {
    async fn get_po(&self, po_number: &str) -> Result<Option<SourcePoState>, TargetError> {
        let Some(header) = self.header(po_number).await? else {
            return Ok(None);
        };
        let mut lines = Vec::new();
        for item in self.lines(po_number).await? {
            let r = &item.record;
            let number = |name: &str| r.decimal(name).map_err(|e| target_error(&e));
            lines.push(SourcePoLine {
                line_no: r
                    .integer("PoLine")
                    .map_err(|e| target_error(&e))?
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or_default(),
                item: r.text("Item").unwrap_or_default().to_owned(),
                ordered: number("QtyOrdered")?.unwrap_or_default(),
                received: number("QtyReceived")?.unwrap_or_default(),
            });
        }
        Ok(Some(SourcePoState {
            po_number: po_number.to_owned(),
            status: status_of(header.record.text("Stat")),
            vendor_id: header.record.text("VendNum").map(str::to_owned),
            lines,
        }))
    }

    async fn find_by_external_ref(&self, external_ref: &str) -> Result<Vec<String>, TargetError> {
        let filter =
            Filter::eq(&self.external_ref_property, external_ref).map_err(|e| target_error(&e))?;
        self.keys("SLPos", "PoNum", filter).await
    }

    async fn create_po(&self, draft: &SourcePoDraft) -> Result<String, TargetError> {
        match &self.mode {
            PoWriteMode::Ido => self.create_by_ido(draft).await,
            PoWriteMode::Bods { ims, logical_id } => {
                self.create_by_bod(ims, logical_id, draft).await
            }
        }
    }

    async fn update_po(&self, po_number: &str, change: &SourcePoChange) -> Result<(), TargetError> {
        match &self.mode {
            PoWriteMode::Ido => {
                if let Some(status) = &change.status {
                    let header = self.header(po_number).await?.ok_or_else(|| {
                        TargetError::rejected(404, format!("PO {po_number} does not exist"))
                    })?;
                    let item_id = header.item_id.unwrap_or_default();
                    self.csi
                        .update(
                            "SLPos",
                            &IdoChange::update(item_id).set("Stat", stat_code(status)),
                        )
                        .await
                        .map_err(|e| target_error(&e))?;
                }
                if !change.received.is_empty() {
                    let lines = self.lines(po_number).await?;
                    for received in &change.received {
                        let row = lines.iter().find(|l| {
                            l.record.integer("PoLine").ok().flatten()
                                == Some(i64::from(received.line_no))
                        });
                        let Some(item_id) = row.and_then(|r| r.item_id.clone()) else {
                            return Err(TargetError::rejected(
                                404,
                                format!("PO {po_number} has no line {}", received.line_no),
                            ));
                        };
                        self.csi
                            .update(
                                "SLPoItems",
                                &IdoChange::update(item_id)
                                    .set("QtyReceived", decimal_text(received.total)),
                            )
                            .await
                            .map_err(|e| target_error(&e))?;
                    }
                }
                Ok(())
            }
            PoWriteMode::Bods { ims, logical_id } => {
                if let Some(status) = &change.status {
                    let bod =
                        self.process_bod(logical_id, self.po_noun(po_number, status), po_number);
                    self.send(ims, &bod).await?;
                }
                if !change.received.is_empty() {
                    let now = self.csi.client().clock().now();
                    let noun = ReceiveDelivery {
                        header: ReceiveDeliveryHeader {
                            document_id: self
                                .document_id(&format!("{po_number}-R{}", now.timestamp())),
                            actual_delivery_date_time: Some(now),
                            ..ReceiveDeliveryHeader::default()
                        },
                        items: change
                            .received
                            .iter()
                            .map(|r| ReceiveDeliveryItem {
                                line_number: Some(r.line_no.to_string()),
                                item_ids: vec![DocumentId::new(Identifier::new(&r.item))],
                                purchase_order_reference: Some(DocumentReference {
                                    document_id: Some(self.document_id(po_number)),
                                    line_number: Some(r.line_no.to_string()),
                                    ..DocumentReference::default()
                                }),
                                received_quantity: Some(Quantity {
                                    value: r.delta,
                                    unit_code: Some("EA".into()),
                                }),
                                ..ReceiveDeliveryItem::default()
                            })
                            .collect(),
                        ..ReceiveDelivery::default()
                    };
                    let mut bod = self.process_bod(logical_id, noun, po_number);
                    bod.verb_area.action_expressions = vec![ActionExpression {
                        action_code: ActionCode::Add,
                        expression: None,
                    }];
                    self.send(ims, &bod).await?;
                }
                Ok(())
            }
        }
    }

    fn writes_invoices(&self) -> bool {
        true
    }

    async fn find_invoices(
        &self,
        vendor_id: &str,
        invoice_number: &str,
    ) -> Result<Vec<String>, TargetError> {
        self.keys(
            "SLAptrxs",
            "Voucher",
            Self::filter_invoice(vendor_id, invoice_number)?,
        )
        .await
    }

    async fn create_invoice(&self, draft: &SourceInvoiceDraft) -> Result<String, TargetError> {
        match &self.mode {
            PoWriteMode::Ido => self.create_voucher(draft).await,
            PoWriteMode::Bods { ims, logical_id } => {
                self.send_invoice_bod(ims, logical_id, draft).await
            }
        }
    }
}
