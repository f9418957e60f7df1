//! CloudSuite as the target of the return direction: purchase orders created and updated from
//! Cin7, through CloudSuite Industrial IDO updates or `Process` BODs sent through ION's
//! Messaging Service.
//!
//! [`CloudSuitePoWriter`] implements sync-core's
//! `SourcePurchaseWriter`. Reads always use
//! the IDO `load` calls (`SLPos`, `SLPoItems`). Writes, per [`PoWriteMode`]:
//!
//! - [`PoWriteMode::Ido`]: `POST /update/SLPos` and `/update/SLPoItems`, one change per call.
//!   A create first looks `SLPos` up by PO number **or** external reference (one load): a PO
//!   already stamped with the Cin7 purchase id is completed (its missing lines inserted), never
//!   created twice; another document's PO number is refused. A new header's lines are then
//!   inserted without a lookup each (the header did not exist a moment ago);
//!   [`complete_po`](SourcePurchaseWriter::complete_po) reads the PO's line numbers once and
//!   inserts only the missing ones. Inserts are shaped by the tenant (next item). The status
//!   goes to `SLPos.Stat`, received quantities to
//!   `SLPoItems.QtyReceived`. **Integrators must check** on their tenant that these properties
//!   are writable through the IDO (a real site may require receipts to go through the PO
//!   receiving method instead) and that the external-reference property
//!   ([`CloudSuitePoWriter::with_external_ref_property`], default `VendOrder`) is long enough
//!   for a Cin7 GUID (36 characters).
//! - Tenant-shaped inserts: the constants written on insert come from [`InsertDefaults`]
//!   (default `SLPos.Type = "R"`, `SLPoItems.PoRelease = "0"`, `SLPoItems.UM = "EA"`). Before
//!   its first insert into an IDO the writer reads the IDO's schema once (`GET /info/{ido}`): a
//!   property the tenant lacks is left out of every insert (logged once), unless the insert
//!   cannot do without it ([`required_properties`], the external-reference property,
//!   `SLAptrxs.Voucher` when [`VoucherNumbering::FromInvoice`]): then the write fails before
//!   anything is sent, with a non-transient error naming the IDO, the property and the
//!   runner's config key.
//! - [`PoWriteMode::Bods`]: `ProcessPurchaseOrder` (create, status) and `ProcessReceiveDelivery`
//!   (one receipt line per changed PO line, with the received delta) through
//!   [`Ims::send`](crate::transport::ims::Ims::send). ION applies them asynchronously and only
//!   where a document flow routes them to CloudSuite: **unconfirmed** for a given tenant. A
//!   create is one BOD, so our side never stops between header and lines;
//!   [`complete_po`](SourcePurchaseWriter::complete_po) succeeds when the PO (read over IDO)
//!   already has every line, and otherwise **refuses**: a `Process` BOD of the whole PO again
//!   could add the lines CloudSuite already has a second time (how CloudSuite applies an `Add`
//!   of a PO it holds is unconfirmed), and the BOD carries no external reference to check.
//!
//! Supplier invoices authorised in Cin7 (both modes look them up in `SLAptrxs` by `VendNum` and
//! `InvNum` first):
//!
//! - IDO: an A/P voucher header inserted into `SLAptrxs` (`VendNum`, `InvNum`, `InvDate`,
//!   `DueDate`, `InvAmt`, `PoNum`) through [`Csi::insert_once`]. The voucher number follows
//!   [`VoucherNumbering`]: CloudSuite's (default; read from the saved row the answer carries in
//!   `RefreshItems`, else looked up) or `prefix` + the Cin7 invoice number, sent as `Voucher`.
//!   **Unconfirmed**: that the IDO accepts an insert with these properties and numbers the
//!   voucher itself; no distributions (`SLAptrxds`) are written, CloudSuite's voucher entry is
//!   expected to add them.
//! - BODs: a `ProcessSupplierInvoice` (invoice number as `DocumentID` and as the
//!   `SupplierInvoiceNumber` alternate id, supplier, PO reference, total, one line per Cin7 line
//!   with its PO line). Whether ION routes it to CloudSuite Industrial's A/P is **unconfirmed**.

mod shape;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{NaiveTime, TimeZone, Utc};

use rust_decimal::Decimal;
use sdk_common::retry::Delivery;
pub use shape::{
    INSERTED_IDOS, InsertDefaults, VoucherNumbering, computed_properties, required_properties,
};
use shape::{Needed, SLAPTRXS, SLPOITEMS, SLPOS, fitted};
use sync_core::engine::returns::{
    SourceInvoiceDraft, SourcePoChange, SourcePoDraft, SourcePoLine, SourcePoLineDraft,
    SourcePoState, SourcePurchaseWriter,
};
use sync_core::error::TargetError;
use sync_core::model::PoStatus;

use crate::bod::{
    ActionCode, ActionExpression, Amount, Bod, Code, DocumentId, DocumentReference, Identifier,
    Item, Party, PartyIds, PurchaseOrder as PoNoun, PurchaseOrderHeader, PurchaseOrderLine,
    Quantity, ReceiveDelivery, ReceiveDeliveryHeader, ReceiveDeliveryItem, Status,
    SupplierInvoice as InvoiceNoun, SupplierInvoiceHeader, SupplierInvoiceLine, UnitPrice, Verb,
};
use crate::csi::{Csi, Filter, IdoChange, IdoItem, IdoSchema, InsertOnce};
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
///
/// ```no_run
/// # fn run(client: infor_ion_client::IonClient) {
/// use infor_ion_client::cloudsuite::returns::{CloudSuitePoWriter, PoWriteMode, VoucherNumbering};
///
/// let writer = CloudSuitePoWriter::new(client.csi("ACME_PRD_DALS"), PoWriteMode::Ido)
///     .with_external_ref_property("Uf_Cin7Id")
///     .with_insert_default("SLPoItems", "UM", "PCS")
///     .without_insert_default("SLPos", "Type")
///     .with_voucher_numbering(VoucherNumbering::FromInvoice { prefix: "C7".into() });
/// # let _ = writer; }
/// ```
#[derive(Debug, Clone)]
pub struct CloudSuitePoWriter {
    csi: Csi,
    mode: PoWriteMode,
    external_ref_property: String,
    accounting_entity: Option<String>,
    insert_defaults: InsertDefaults,
    voucher_numbering: VoucherNumbering,
    /// The schemas of the IDOs written so far (read once per writer and its clones).
    schemas: Arc<Mutex<BTreeMap<String, Arc<IdoSchema>>>>,
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
/// The message is the error's text ([`chain`](sdk_common::report::chain)); the error itself is
/// kept as the typed source ([`TargetError::source_as`]).
pub fn target_error(error: Error) -> TargetError {
    let status = match &error {
        Error::Api(api) => Some(api.status),
        _ => None,
    };
    let message = sdk_common::report::chain(&error);
    let converted = match error.delivery() {
        Delivery::NotProcessed => TargetError::not_sent(message),
        Delivery::Unknown => TargetError::unknown_outcome(message),
        Delivery::Processed => {
            TargetError::new(Delivery::Processed, error.is_retryable(), status, message)
        }
    };
    converted.with_source(error)
}

fn ido_date(date: chrono::NaiveDate) -> String {
    date.and_time(NaiveTime::MIN)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

fn decimal_text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Line numbers as a short list for messages.
fn line_list(lines: &[u32]) -> String {
    lines
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl CloudSuitePoWriter {
    /// A writer reading through `csi` and writing in `mode`.
    pub fn new(csi: Csi, mode: PoWriteMode) -> Self {
        CloudSuitePoWriter {
            csi,
            mode,
            external_ref_property: "VendOrder".into(),
            accounting_entity: None,
            insert_defaults: InsertDefaults::standard(),
            voucher_numbering: VoucherNumbering::CloudSuite,
            schemas: Arc::default(),
        }
    }

    /// The constants written on every IDO insert (default [`InsertDefaults::standard`]).
    pub fn with_insert_defaults(mut self, defaults: InsertDefaults) -> Self {
        self.insert_defaults = defaults;
        self
    }

    /// Write `value` into `property` on every insert into `ido` (`SLPos`, `SLPoItems` or
    /// `SLAptrxs`); a property the writer computes ([`computed_properties`]) keeps its
    /// computed value.
    pub fn with_insert_default(
        mut self,
        ido: &str,
        property: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.insert_defaults = self.insert_defaults.set(ido, property, value);
        self
    }

    /// Write no constant into `property` of `ido` inserts (the tenant's own default applies).
    pub fn without_insert_default(mut self, ido: &str, property: &str) -> Self {
        self.insert_defaults = self.insert_defaults.remove(ido, property);
        self
    }

    /// How vouchers inserted into `SLAptrxs` are numbered (default
    /// [`VoucherNumbering::CloudSuite`]).
    pub fn with_voucher_numbering(mut self, numbering: VoucherNumbering) -> Self {
        self.voucher_numbering = numbering;
        self
    }

    /// The constants written on insert.
    pub fn insert_defaults(&self) -> &InsertDefaults {
        &self.insert_defaults
    }

    /// How vouchers are numbered.
    pub fn voucher_numbering(&self) -> &VoucherNumbering {
        &self.voucher_numbering
    }

    /// The properties an insert into `ido` cannot do without.
    fn needed(&self, ido: &str) -> Vec<Needed> {
        let mut needed: Vec<Needed> = required_properties(ido)
            .iter()
            .map(|p| Needed::fixed(p))
            .collect();
        if ido == SLPOS {
            needed.push(Needed {
                property: self.external_ref_property.clone(),
                config_key: "returns.external_ref_property",
                hint: "name an SLPos property that can hold the Cin7 purchase id (36 characters)",
            });
        }
        if ido == SLAPTRXS && self.voucher_numbering != VoucherNumbering::CloudSuite {
            needed.push(Needed {
                property: "Voucher".into(),
                config_key: "returns.voucher_numbering",
                hint: "with `returns.voucher_numbering = \"cloudsuite\"` no Voucher is sent",
            });
        }
        needed
    }

    /// The properties an insert into `ido` writes when the tenant has them.
    fn optional(&self, ido: &str) -> BTreeSet<String> {
        let needed: BTreeSet<String> = self.needed(ido).into_iter().map(|n| n.property).collect();
        computed_properties(ido)
            .iter()
            .map(|p| (*p).to_owned())
            .chain(self.insert_defaults.of(ido).map(|(p, _)| p.to_owned()))
            .filter(|p| !needed.contains(p))
            .filter(|p| !(ido == SLAPTRXS && p == "Voucher"))
            .collect()
    }

    /// The schema of `ido`, read once per writer; the optional properties it lacks are logged
    /// when it is first read.
    async fn schema(&self, ido: &str) -> Result<Arc<IdoSchema>, TargetError> {
        let cached = self
            .schemas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(ido)
            .cloned();
        if let Some(schema) = cached {
            return Ok(schema);
        }
        let schema = Arc::new(self.csi.schema(ido).await.map_err(target_error)?);
        let mut schemas = self.schemas.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(raced) = schemas.get(ido) {
            return Ok(raced.clone());
        }
        for property in self.optional(ido).iter().filter(|p| !schema.has(p)) {
            let config_key = match self.insert_defaults.value(ido, property) {
                Some(_) => format!("returns.insert_defaults.{ido}.{property}"),
                None => "none (written from the Cin7 record)".to_owned(),
            };
            tracing::warn!(
                ido,
                property = property.as_str(),
                config_key = config_key.as_str(),
                "the tenant's IDO has no such property: the return path leaves it out of its inserts"
            );
        }
        schemas.insert(ido.to_owned(), schema.clone());
        Ok(schema)
    }

    /// The schemas of `idos`, each checked for the properties its inserts cannot do without:
    /// called before the first write of an operation, so a tenant that cannot take it gets
    /// nothing half-written.
    async fn ready_to_insert<const N: usize>(
        &self,
        idos: [&str; N],
    ) -> Result<[Arc<IdoSchema>; N], TargetError> {
        let mut schemas = Vec::with_capacity(N);
        for ido in idos {
            let schema = self.schema(ido).await?;
            if let Some(missing) = self
                .needed(ido)
                .into_iter()
                .find(|n| !schema.has(&n.property))
            {
                return Err(TargetError::new(
                    Delivery::NotProcessed,
                    false,
                    None,
                    format!(
                        "CloudSuite IDO {ido} has no property `{}`, which the return path cannot insert a row without; nothing was written. Config key `{}`: {}",
                        missing.property, missing.config_key, missing.hint
                    ),
                ));
            }
            schemas.push(schema);
        }
        schemas.try_into().map_err(|_| {
            TargetError::rejected(500, "schema lookup returned the wrong number of IDOs")
        })
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
            .map_err(target_error)?;
        Ok(rows
            .iter()
            .filter_map(|r| r.record.text(key).map(str::to_owned))
            .collect())
    }

    fn filter_po(po_number: &str) -> Result<Filter, TargetError> {
        Filter::eq("PoNum", po_number).map_err(target_error)
    }

    async fn header(&self, po_number: &str) -> Result<Option<IdoItem>, TargetError> {
        self.csi
            .find_one(
                "SLPos",
                Self::filter_po(po_number)?,
                &["PoNum", "Stat", "VendNum"],
            )
            .await
            .map_err(target_error)
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
            .map_err(target_error)
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
        ims.send(bod).await.map_err(target_error)
    }

    /// The `SLPos` insert of a new PO.
    fn header_insert(&self, draft: &SourcePoDraft) -> IdoChange {
        let mut header = self
            .insert_defaults
            .insert(SLPOS)
            .set("PoNum", &draft.po_number)
            .set("VendNum", &draft.vendor_id)
            .set("OrderDate", ido_date(draft.order_date))
            .set("Stat", stat_code(&draft.status))
            .set(&self.external_ref_property, &draft.external_ref);
        if let Some(whse) = &draft.location {
            header = header.set("Whse", whse);
        }
        header
    }

    /// The `SLPoItems` insert of one line.
    fn line_insert(
        &self,
        po_number: &str,
        draft: &SourcePoDraft,
        line: &SourcePoLineDraft,
    ) -> IdoChange {
        let mut change = self
            .insert_defaults
            .insert(SLPOITEMS)
            .set("PoNum", po_number)
            .set("PoLine", line.line_no.to_string())
            .set("Item", &line.item)
            .set("Description", &line.description)
            .set("QtyOrdered", decimal_text(line.quantity))
            .set("QtyReceived", decimal_text(line.received))
            .set("ItemCost", decimal_text(line.unit_price))
            .set("Stat", stat_code(&draft.status));
        if let Some(due) = draft.required_by {
            change = change.set("DueDate", ido_date(due));
        }
        change
    }

    /// The line numbers `po_number` has in `SLPoItems` (one load, every page).
    async fn line_numbers(&self, po_number: &str) -> Result<BTreeSet<u32>, TargetError> {
        use futures::TryStreamExt;
        let rows: Vec<IdoItem> = self
            .csi
            .load(SLPOITEMS)
            .properties(["PoNum", "PoLine"])
            .filter(Self::filter_po(po_number)?)
            .order_by(["PoLine"])
            .items()
            .try_collect()
            .await
            .map_err(target_error)?;
        rows.iter()
            .map(|row| {
                row.record
                    .integer("PoLine")
                    .map_err(target_error)?
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        TargetError::rejected(
                            502,
                            format!("a line of PO {po_number} in {SLPOITEMS} has no PoLine number"),
                        )
                    })
            })
            .collect()
    }

    /// Insert the lines of `draft` whose numbers are not in `existing`, each once; returns
    /// how many were inserted. A failure names the line and what was written before it.
    async fn insert_lines(
        &self,
        po_number: &str,
        draft: &SourcePoDraft,
        existing: &BTreeSet<u32>,
        schema: &IdoSchema,
    ) -> Result<usize, TargetError> {
        let mut written: Vec<u32> = Vec::new();
        let mut seen = existing.clone();
        for line in &draft.lines {
            if !seen.insert(line.line_no) {
                continue;
            }
            let change = fitted(schema, &self.line_insert(po_number, draft, line));
            if let Err(error) = self.csi.update(SLPOITEMS, &change).await {
                let mut error = target_error(error);
                error.message = format!(
                    "PO {po_number} line {}: {}; {}",
                    line.line_no,
                    error.message,
                    if written.is_empty() {
                        "no line was inserted before it".to_owned()
                    } else {
                        format!("line(s) {} were inserted before it", line_list(&written))
                    }
                );
                return Err(error);
            }
            written.push(line.line_no);
        }
        Ok(written.len())
    }

    /// The external reference `po_number`'s header carries: `Ok(None)` when the PO does not
    /// exist, `Ok(Some(""))` when it carries none.
    async fn stamped_ref(&self, po_number: &str) -> Result<Option<String>, TargetError> {
        let header = self
            .csi
            .find_one(
                SLPOS,
                Self::filter_po(po_number)?,
                &["PoNum", &self.external_ref_property],
            )
            .await
            .map_err(target_error)?;
        Ok(header.map(|h| {
            h.record
                .text(&self.external_ref_property)
                .unwrap_or_default()
                .to_owned()
        }))
    }

    /// The refusal for a header that is not the draft's.
    fn not_ours(&self, po_number: &str, stamped: &str, draft: &SourcePoDraft) -> TargetError {
        let carries = if stamped.is_empty() {
            format!(
                "carries no external reference in {}",
                self.external_ref_property
            )
        } else {
            format!(
                "carries the external reference {stamped} in {}",
                self.external_ref_property
            )
        };
        TargetError::rejected(
            409,
            format!(
                "PO {po_number} {carries}, not {} (Cin7 purchase {}): it is another document's, so it is not completed; nothing was written",
                draft.external_ref, draft.external_number
            ),
        )
    }

    async fn create_by_ido(&self, draft: &SourcePoDraft) -> Result<String, TargetError> {
        use futures::TryStreamExt;
        let [header_schema, line_schema] = self.ready_to_insert([SLPOS, SLPOITEMS]).await?;
        let external = self.external_ref_property.as_str();
        // One lookup: the PO number taken, or a PO already stamped with this purchase (an
        // earlier create whose answer was lost, under whatever number).
        let lookup = Self::filter_po(&draft.po_number)?.or(Filter::eq(
            external,
            draft.external_ref.as_str(),
        )
        .map_err(target_error)?);
        let rows: Vec<IdoItem> = self
            .csi
            .load(SLPOS)
            .properties(["PoNum", external])
            .filter(lookup)
            .order_by(["PoNum"])
            .record_cap(10)
            .items()
            .try_collect()
            .await
            .map_err(target_error)?;
        let ours: Vec<&str> = rows
            .iter()
            .filter(|r| r.record.text(external) == Some(draft.external_ref.as_str()))
            .filter_map(|r| r.record.text("PoNum"))
            .collect();
        match ours.as_slice() {
            [] => {}
            [po_number] => {
                let existing = self.line_numbers(po_number).await?;
                self.insert_lines(po_number, draft, &existing, &line_schema)
                    .await?;
                return Ok((*po_number).to_owned());
            }
            many => {
                return Err(TargetError::rejected(
                    409,
                    format!(
                        "{} CloudSuite POs ({}) carry the external reference {} of Cin7 purchase {}: resolve the duplicates in CloudSuite; nothing was written",
                        many.len(),
                        many.join(", "),
                        draft.external_ref,
                        draft.external_number
                    ),
                ));
            }
        }
        if let Some(taken) = rows
            .iter()
            .find(|r| r.record.text("PoNum") == Some(draft.po_number.as_str()))
        {
            let stamped = taken.record.text(external).unwrap_or_default();
            let mut error = self.not_ours(&draft.po_number, stamped, draft);
            error.message = format!(
                "PO {} already exists in CloudSuite for another document: {}",
                draft.po_number, error.message
            );
            return Err(error);
        }
        self.csi
            .update(SLPOS, &fitted(&header_schema, &self.header_insert(draft)))
            .await
            .map_err(target_error)?;
        // The header did not exist a moment ago, so neither do its lines: no lookup each. A
        // failure from here on leaves a stamped header, which the next attempt (or
        // `complete_po`) finds and completes.
        self.insert_lines(&draft.po_number, draft, &BTreeSet::new(), &line_schema)
            .await?;
        Ok(draft.po_number.clone())
    }

    async fn complete_by_ido(
        &self,
        po_number: &str,
        draft: &SourcePoDraft,
    ) -> Result<(), TargetError> {
        let [_, line_schema] = self.ready_to_insert([SLPOS, SLPOITEMS]).await?;
        match self.stamped_ref(po_number).await? {
            None => {
                return Err(TargetError::rejected(
                    404,
                    format!(
                        "PO {po_number} does not exist in CloudSuite: there is nothing to complete"
                    ),
                ));
            }
            Some(stamped) if stamped != draft.external_ref => {
                return Err(self.not_ours(po_number, &stamped, draft));
            }
            Some(_) => {}
        }
        let existing = self.line_numbers(po_number).await?;
        self.insert_lines(po_number, draft, &existing, &line_schema)
            .await
            .map(drop)
    }

    /// BOD mode: nothing is sent. A PO that already has every line is complete; any other is
    /// refused (see the module docs).
    async fn complete_by_bod(
        &self,
        po_number: &str,
        draft: &SourcePoDraft,
    ) -> Result<(), TargetError> {
        match self.stamped_ref(po_number).await? {
            None => {
                return Err(TargetError::rejected(
                    404,
                    format!(
                        "PO {po_number} does not exist in CloudSuite (yet): ION may not have applied the ProcessPurchaseOrder; nothing was sent"
                    ),
                ));
            }
            // BODs do not stamp the reference: only a different one tells another document.
            Some(stamped) if !stamped.is_empty() && stamped != draft.external_ref => {
                return Err(self.not_ours(po_number, &stamped, draft));
            }
            Some(_) => {}
        }
        let existing = self.line_numbers(po_number).await?;
        let missing: Vec<u32> = draft
            .lines
            .iter()
            .map(|l| l.line_no)
            .filter(|n| !existing.contains(n))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(TargetError::rejected(
            501,
            format!(
                "PO {po_number} lacks line(s) {} of Cin7 purchase {}; BOD mode does not complete a partly written PO (a ProcessPurchaseOrder of the whole PO again could add the lines CloudSuite has a second time): add the lines in CloudSuite, or write with returns.write = \"ido\"; nothing was sent",
                line_list(&missing),
                draft.external_number
            ),
        ))
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
            .map_err(target_error)?
            .and(Filter::eq("InvNum", invoice_number).map_err(target_error)?))
    }

    async fn create_voucher(&self, draft: &SourceInvoiceDraft) -> Result<String, TargetError> {
        let [schema] = self.ready_to_insert([SLAPTRXS]).await?;
        let lookup = Self::filter_invoice(&draft.vendor_id, &draft.invoice_number)?;
        let ours = self.voucher_numbering.voucher_for(&draft.invoice_number);
        // `Voucher` is computed: sent only when we number the voucher, never as a constant.
        let mut voucher = self
            .insert_defaults
            .insert_except(SLAPTRXS, &["Voucher"])
            .set("VendNum", &draft.vendor_id)
            .set("InvNum", &draft.invoice_number)
            .set("InvDate", ido_date(draft.invoice_date))
            .set("InvAmt", decimal_text(draft.amount))
            .set("PoNum", &draft.po_number);
        if let Some(due) = draft.due_date {
            voucher = voucher.set("DueDate", ido_date(due));
        }
        if let Some(number) = &ours {
            voucher = voucher.set("Voucher", number);
        }
        let properties = ["Voucher", "VendNum", "InvNum"];
        let saved = match self
            .csi
            .insert_once(
                SLAPTRXS,
                lookup.clone(),
                &properties,
                &fitted(&schema, &voucher),
            )
            .await
            .map_err(target_error)?
        {
            InsertOnce::Existing(item) => Some(item),
            InsertOnce::Inserted(outcome) => match ours {
                // We chose the number: nothing to read back.
                Some(number) => return Ok(number),
                None => outcome.refreshed,
            },
        };
        if let Some(number) = saved.as_ref().and_then(|i| i.record.text("Voucher")) {
            return Ok(number.to_owned());
        }
        // The answer did not carry the saved row: read the voucher number back.
        self.csi
            .find_one(SLAPTRXS, lookup, &properties)
            .await
            .map_err(target_error)?
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
            let number = |name: &str| r.decimal(name).map_err(target_error);
            lines.push(SourcePoLine {
                line_no: r
                    .integer("PoLine")
                    .map_err(target_error)?
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
        let filter = Filter::eq(&self.external_ref_property, external_ref).map_err(target_error)?;
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

    /// IDO mode: the header must carry `draft.external_ref` (else a 409 refusal, nothing
    /// written); the PO's line numbers are read once and only the missing lines inserted. BOD
    /// mode: succeeds when the PO already has every line, refuses otherwise (module docs).
    async fn complete_po(&self, po_number: &str, draft: &SourcePoDraft) -> Result<(), TargetError> {
        match &self.mode {
            PoWriteMode::Ido => self.complete_by_ido(po_number, draft).await,
            PoWriteMode::Bods { .. } => self.complete_by_bod(po_number, draft).await,
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
                        .map_err(target_error)?;
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
                            .map_err(target_error)?;
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
