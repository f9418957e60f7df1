//! M3 as the target of the return direction: purchase orders created and received, and
//! supplier invoices entered, from Cin7 through M3 MI transactions.
//!
//! [`M3PoWriter`] implements sync-core's `SourcePurchaseWriter` over
//! [`M3`]. Every write is an MI call marked
//! [non-idempotent](crate::m3::MiCall::non_idempotent): one that may have reached M3 is never
//! resent; the pipeline looks the record up first.
//!
//! | what | transactions |
//! |---|---|
//! | read a PO | `PPS200MI/GetHead` (`PUNO`), `PPS200MI/LstLine` (`PUNO`) |
//! | find a PO by the Cin7 purchase id | `PPS200MI/SearchHead` with `SQRY=YRE1:<id>` |
//! | create a PO | `PPS370MI` batch entry: `StartEntry` (`BAOR`) → `AddHead` (`MSGN FACI WHLO SUNO DWDT`, `PUDT CUCD ORTY YRE1`) → `AddLine` per line (`MSGN PUNO PNLI ITNO ORQA PUPR DWDT PITD`) → `FinishEntry`; `DeleteEntry` after a refused head or line |
//! | receive | `PPS001MI/Receipt` (`TRDT RESP PUNO PNLI PNLS RVQA`, `OEND=1` to finish the line) |
//! | cancel | `PPS200MI/DltLine` per line without receipts |
//! | find an invoice | `APS450MI/LstInvBySupInv` (`SPYN SUNO SINO`), then `APS200MI/GetInvoice` (`SUNO SINO`) |
//! | create an invoice | `APS450MI/AddHead` (`SUNO IVDT SINO CUCD CUAM DUDT PUNO`, `IBTP`) → `AddLine` per line (`INBN RDTP`, `PUNO PNLI PNLS IVQA NEPR NLAM ITNO CHGT`) |
//!
//! A create first looks the Cin7 purchase id up (`SearchHead`): a PO already carrying it (an
//! earlier create whose answer was lost) is completed and returned, never entered twice.
//! [`complete_po`](SourcePurchaseWriter::complete_po) checks the PO's reference and lines: a
//! PO that has every line of the draft is complete (nothing is written); one that lacks lines
//! is **refused** (status 501, not transient), because neither our reference notes nor the
//! simulator know an MI transaction that adds a line to an existing PO (the notes list
//! `PPS200MI` `GetHead`, `LstLine`, `GetLine`, `SearchHead`, `SearchLine`; `PPS370MI/AddLine`
//! adds lines only inside the batch that creates the PO). The error names the missing lines,
//! to be added in M3 by hand.
//!
//! The transaction names and their inputs come from a client generated from M3's MI metadata
//! (`PPS370MI`, `PPS001MI`, `PPS200MI`, `APS450MI`); M3 has no `PPS200MI/AddHead`, POs are
//! created through the `PPS370MI` batch. **Not confirmed** against a tenant: that `YRE1`
//! (your reference, 36 characters) is free to carry the Cin7 purchase id and that
//! `SearchHead` finds it with `YRE1:<id>`; the batch origin code, the `APS450MI` line types
//! (`RDTP`) and batch type; that an `APS450MI` batch needs M3's supplier-invoice batch update
//! afterwards. Status: M3 has no MI transaction that releases a planned PO or closes a line
//! other than by receiving it, so a PO reads as closed once every line is received or
//! finished (status 75 and above), a close is the finish mark of the last receipt, and a
//! cancel deletes the lines that have nothing received.

use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sdk_common::retry::Delivery;
use sync_core::engine::returns::{
    ReceivedQuantity, SourceInvoiceDraft, SourceInvoiceLineDraft, SourcePoChange, SourcePoDraft,
    SourcePoLine, SourcePoState, SourcePurchaseWriter,
};
use sync_core::error::TargetError;
use sync_core::model::PoStatus;

use super::returns::target_error;
use crate::error::Error;
use crate::m3::nouns::mi_date;
use crate::m3::{M3, MiCall};
use crate::values::Record;

/// The site settings the M3 writes need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M3WriterConfig {
    /// Facility (`FACI`) of the POs created.
    pub facility: String,
    /// Warehouse (`WHLO`) of a PO whose Cin7 location maps to none.
    pub warehouse: String,
    /// The user responsible for goods receipts (`RESP` of `PPS001MI/Receipt`).
    pub responsible: String,
    /// Batch origin (`BAOR` of `PPS370MI/StartEntry`).
    pub batch_origin: String,
    /// Order type (`ORTY`); `None` takes the facility's default.
    pub order_type: Option<String>,
    /// The `AddHead` input that carries the Cin7 purchase id (default `YRE1`).
    pub external_ref_field: String,
    /// Invoice batch type (`IBTP` of `APS450MI/AddHead`); `None` takes M3's default.
    pub invoice_batch_type: Option<String>,
    /// Line type (`RDTP`) of an invoice line matched to a PO line.
    pub invoice_goods_line_type: String,
    /// Line type (`RDTP`) of an invoice line that matched none (a charge).
    pub invoice_charge_line_type: String,
    /// Rows asked for per `LstLine` call (`maxrecs`).
    pub max_lines: u32,
}

impl M3WriterConfig {
    /// Settings for a facility and warehouse, receipts by `responsible`; the rest default.
    pub fn new(
        facility: impl Into<String>,
        warehouse: impl Into<String>,
        responsible: impl Into<String>,
    ) -> Self {
        M3WriterConfig {
            facility: facility.into(),
            warehouse: warehouse.into(),
            responsible: responsible.into(),
            batch_origin: "EXT".into(),
            order_type: None,
            external_ref_field: "YRE1".into(),
            invoice_batch_type: None,
            invoice_goods_line_type: "1".into(),
            invoice_charge_line_type: "8".into(),
            max_lines: 9999,
        }
    }
}

/// Writes purchase orders, receipts and supplier invoices from Cin7 to M3 through MI.
#[derive(Debug, Clone)]
pub struct M3PoWriter {
    m3: M3,
    config: M3WriterConfig,
}

/// One PO line as `PPS200MI/LstLine` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MiLine {
    line: u32,
    suffix: String,
    item: String,
    ordered: Decimal,
    received: Decimal,
    lowest_status: u8,
}

/// An M3 failure as the engine's [`TargetError`]: an MI error answer is a definite refusal
/// (status 400, M3's message, code and field in the text); anything else keeps what is known
/// about delivery. The error itself is kept as the typed source ([`TargetError::source_as`]).
pub fn m3_target_error(error: Error) -> TargetError {
    match error {
        Error::MiFailed { .. } => TargetError::new(
            Delivery::Processed,
            false,
            Some(400),
            sdk_common::report::chain(&error),
        )
        .with_source(error),
        other => target_error(other),
    }
}

/// Whether an MI error answer says the record does not exist. M3 has no code for it that the
/// reference confirms; its messages read "... does not exist".
fn is_not_found(error: &Error) -> bool {
    match error {
        Error::MiFailed { errors, .. } => errors.iter().any(|e| {
            e.error_message
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("does not exist"))
        }),
        _ => false,
    }
}

fn decimal_text(value: Decimal) -> String {
    value.normalize().to_string()
}

fn number(record: &Record, field: &str) -> Result<Decimal, TargetError> {
    record
        .decimal(field)
        .map(Option::unwrap_or_default)
        .map_err(target_error)
}

fn rejected(status: u16, message: String) -> TargetError {
    TargetError::rejected(status, message)
}

impl M3PoWriter {
    /// A writer over `m3` (company and division set on it) with these settings.
    pub fn new(m3: M3, config: M3WriterConfig) -> Self {
        M3PoWriter { m3, config }
    }

    /// The settings.
    pub fn config(&self) -> &M3WriterConfig {
        &self.config
    }

    fn today(&self) -> NaiveDate {
        self.m3.client().clock().now().date_naive()
    }

    async fn read(&self, call: MiCall) -> Result<Vec<Record>, Error> {
        self.m3.execute(call).await
    }

    async fn write(&self, call: MiCall) -> Result<Vec<Record>, TargetError> {
        self.m3
            .execute(call.non_idempotent())
            .await
            .map_err(m3_target_error)
    }

    async fn lines(&self, po_number: &str) -> Result<Vec<MiLine>, TargetError> {
        let rows = self
            .read(
                MiCall::new("PPS200MI", "LstLine")
                    .input("PUNO", po_number)
                    .max_records(self.config.max_lines),
            )
            .await
            .map_err(m3_target_error)?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            let line = row
                .integer("PNLI")
                .map_err(target_error)?
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    rejected(
                        502,
                        format!("PPS200MI/LstLine: a line of PO {po_number} has no PNLI"),
                    )
                })?;
            lines.push(MiLine {
                line,
                suffix: row.text("PNLS").unwrap_or("0").to_owned(),
                item: row.text("ITNO").unwrap_or_default().to_owned(),
                ordered: number(row, "ORQA")?,
                received: number(row, "RVQA")?,
                lowest_status: row.text("PUSL").and_then(|s| s.parse().ok()).unwrap_or(20),
            });
        }
        lines.sort_by_key(|l| (l.line, l.suffix.clone()));
        Ok(lines)
    }

    /// The PO status the return path compares with: no lines left (all deleted) reads as
    /// cancelled; below 20 planned; every line at 75 or above (received or finished) closed.
    fn status_of(lines: &[MiLine]) -> PoStatus {
        match lines.iter().map(|l| l.lowest_status).min() {
            None => PoStatus::Cancelled,
            Some(s) if s < 20 => PoStatus::Planned,
            Some(s) if s >= 75 => PoStatus::Closed,
            Some(_) => PoStatus::Ordered,
        }
    }

    /// `PPS001MI/Receipt` of the difference between `total` and what M3 shows received, so a
    /// receipt that reached M3 before (its answer lost) is not received twice.
    async fn receive(
        &self,
        po_number: &str,
        line: &MiLine,
        total: Decimal,
        finish: bool,
    ) -> Result<(), TargetError> {
        let delta = total - line.received;
        if delta < Decimal::ZERO {
            return Err(rejected(
                409,
                format!(
                    "PO {po_number} line {}: M3 shows {} received, Cin7 {total}; a receipt cannot be reversed through PPS001MI/Receipt",
                    line.line, line.received
                ),
            ));
        }
        if delta == Decimal::ZERO && !(finish && line.lowest_status < 75) {
            return Ok(());
        }
        if delta == Decimal::ZERO {
            return Err(rejected(
                409,
                format!(
                    "PO {po_number} line {} is not fully received in M3 and nothing is left to receive; M3 finishes a line only with a receipt",
                    line.line
                ),
            ));
        }
        let mut call = MiCall::new("PPS001MI", "Receipt")
            .input("TRDT", mi_date(self.today()))
            .input("RESP", &self.config.responsible)
            .input("PUNO", po_number)
            .input("PNLI", line.line.to_string())
            .input("PNLS", &line.suffix)
            .input("RVQA", decimal_text(delta));
        if finish {
            call = call.input("OEND", "1");
        }
        self.write(call).await.map(|_| ())
    }

    /// Enter a PO through a `PPS370MI` batch; returns M3's PO number.
    async fn enter_po(&self, draft: &SourcePoDraft) -> Result<String, TargetError> {
        let started = self
            .write(MiCall::new("PPS370MI", "StartEntry").input("BAOR", &self.config.batch_origin))
            .await?;
        let message = started
            .first()
            .and_then(|r| r.text("MSGN"))
            .map(str::to_owned)
            .ok_or_else(|| {
                TargetError::unknown_outcome("PPS370MI/StartEntry answered without a MSGN")
            })?;
        match self.enter_in_batch(&message, draft).await {
            Ok(po) => Ok(po),
            Err(error) => {
                if error.delivery == Delivery::Processed {
                    // Refused head or line: drop the batch so nothing half-entered remains.
                    // Best effort; a failure here changes nothing about the answer.
                    let _ = self
                        .write(MiCall::new("PPS370MI", "DeleteEntry").input("MSGN", &message))
                        .await;
                }
                Err(error)
            }
        }
    }

    async fn enter_in_batch(
        &self,
        message: &str,
        draft: &SourcePoDraft,
    ) -> Result<String, TargetError> {
        let delivery = draft.required_by.unwrap_or(draft.order_date);
        let warehouse = draft
            .location
            .clone()
            .unwrap_or_else(|| self.config.warehouse.clone());
        let mut head = MiCall::new("PPS370MI", "AddHead")
            .input("MSGN", message)
            .input("FACI", &self.config.facility)
            .input("WHLO", &warehouse)
            .input("SUNO", &draft.vendor_id)
            .input("DWDT", mi_date(delivery))
            .input("PUDT", mi_date(draft.order_date))
            .input("CUCD", &draft.currency)
            .input(&self.config.external_ref_field, &draft.external_ref);
        if let Some(order_type) = &self.config.order_type {
            head = head.input("ORTY", order_type);
        }
        let po_number = self
            .write(head)
            .await?
            .first()
            .and_then(|r| r.text("PUNO"))
            .map(str::to_owned)
            .ok_or_else(|| {
                TargetError::unknown_outcome("PPS370MI/AddHead answered without a PUNO")
            })?;
        for line in &draft.lines {
            self.write(
                MiCall::new("PPS370MI", "AddLine")
                    .input("MSGN", message)
                    .input("PUNO", &po_number)
                    .input("PNLI", line.line_no.to_string())
                    .input("ITNO", &line.item)
                    .input("ORQA", decimal_text(line.quantity))
                    .input("PUPR", decimal_text(line.unit_price))
                    .input("DWDT", mi_date(delivery))
                    .input("PITD", &line.description),
            )
            .await?;
        }
        self.write(MiCall::new("PPS370MI", "FinishEntry").input("MSGN", message))
            .await?;
        Ok(po_number)
    }

    /// The line numbers of `draft` that `po_number` lacks, after checking that the PO exists
    /// and carries `draft.external_ref` (when `GetHead` shows the reference field).
    async fn missing_lines(
        &self,
        po_number: &str,
        draft: &SourcePoDraft,
    ) -> Result<Vec<u32>, TargetError> {
        let head = match self
            .read(MiCall::new("PPS200MI", "GetHead").input("PUNO", po_number))
            .await
        {
            Ok(rows) => rows.into_iter().next(),
            Err(error) if is_not_found(&error) => None,
            Err(error) => return Err(m3_target_error(error)),
        };
        let Some(head) = head else {
            return Err(rejected(
                404,
                format!("PO {po_number} does not exist in M3: there is nothing to complete"),
            ));
        };
        let field = &self.config.external_ref_field;
        if let Some(stamped) = head.text(field).map(str::trim)
            && stamped != draft.external_ref
        {
            let carries = if stamped.is_empty() {
                format!("carries no reference in {field}")
            } else {
                format!("carries {stamped} in {field}")
            };
            return Err(rejected(
                409,
                format!(
                    "M3 PO {po_number} {carries}, not {} (Cin7 purchase {}): it is another document's, so it is not completed; nothing was written",
                    draft.external_ref, draft.external_number
                ),
            ));
        }
        let existing: std::collections::BTreeSet<u32> = self
            .lines(po_number)
            .await?
            .iter()
            .map(|l| l.line)
            .collect();
        let missing: std::collections::BTreeSet<u32> = draft
            .lines
            .iter()
            .map(|l| l.line_no)
            .filter(|n| !existing.contains(n))
            .collect();
        Ok(missing.into_iter().collect())
    }

    fn invoice_line(
        &self,
        draft: &SourceInvoiceDraft,
        line: &SourceInvoiceLineDraft,
        batch: &str,
    ) -> MiCall {
        let mut call = MiCall::new("APS450MI", "AddLine").input("INBN", batch);
        match line.po_line {
            Some(po_line) => {
                call = call
                    .input("RDTP", &self.config.invoice_goods_line_type)
                    .input("PUNO", &draft.po_number)
                    .input("PNLI", po_line.to_string())
                    .input("PNLS", "0")
                    .input("IVQA", decimal_text(line.quantity))
                    .input("NEPR", decimal_text(line.unit_price));
                if let Some(item) = &line.item {
                    call = call.input("ITNO", item);
                }
            }
            None => {
                call = call
                    .input("RDTP", &self.config.invoice_charge_line_type)
                    .input("CHGT", &line.description);
            }
        }
        call.input("NLAM", decimal_text(line.amount))
    }
}

#[async_trait]
impl SourcePurchaseWriter for M3PoWriter {
    async fn get_po(&self, po_number: &str) -> Result<Option<SourcePoState>, TargetError> {
        let head = match self
            .read(MiCall::new("PPS200MI", "GetHead").input("PUNO", po_number))
            .await
        {
            Ok(rows) => rows.into_iter().next(),
            Err(error) if is_not_found(&error) => None,
            Err(error) => return Err(m3_target_error(error)),
        };
        let Some(head) = head else {
            return Ok(None);
        };
        let lines = self.lines(po_number).await?;
        Ok(Some(SourcePoState {
            po_number: po_number.to_owned(),
            status: Self::status_of(&lines),
            vendor_id: head.text("SUNO").map(str::to_owned),
            lines: lines
                .iter()
                .map(|l| SourcePoLine {
                    line_no: l.line,
                    item: l.item.clone(),
                    ordered: l.ordered,
                    received: l.received,
                })
                .collect(),
        }))
    }

    async fn find_by_external_ref(&self, external_ref: &str) -> Result<Vec<String>, TargetError> {
        let rows = self
            .read(MiCall::new("PPS200MI", "SearchHead").input(
                "SQRY",
                format!("{}:{external_ref}", self.config.external_ref_field),
            ))
            .await
            .map_err(m3_target_error)?;
        // The search is by text: keep only heads whose field holds exactly the id.
        Ok(rows
            .iter()
            .filter(|r| {
                r.text(&self.config.external_ref_field)
                    .is_none_or(|v| v == external_ref)
            })
            .filter_map(|r| r.text("PUNO").map(str::to_owned))
            .collect())
    }

    async fn create_po(&self, draft: &SourcePoDraft) -> Result<String, TargetError> {
        // M3 numbers the PO, so the only key to find an earlier create by is the reference.
        let found = self.find_by_external_ref(&draft.external_ref).await?;
        let po_number = match found.as_slice() {
            [] => self.enter_po(draft).await?,
            [po_number] => {
                self.complete_po(po_number, draft).await?;
                po_number.clone()
            }
            many => {
                return Err(rejected(
                    409,
                    format!(
                        "{} M3 POs ({}) carry the reference {} of Cin7 purchase {}: resolve the duplicates in M3; nothing was written",
                        many.len(),
                        many.join(", "),
                        draft.external_ref,
                        draft.external_number
                    ),
                ));
            }
        };
        // A Cin7 purchase may be received before it reaches M3: receive what it has.
        let received: Vec<_> = draft
            .lines
            .iter()
            .filter(|l| l.received > Decimal::ZERO)
            .map(|l| ReceivedQuantity {
                line_no: l.line_no,
                item: l.item.clone(),
                total: l.received,
                delta: l.received,
            })
            .collect();
        if !received.is_empty() || draft.status == PoStatus::Closed {
            let change = SourcePoChange {
                status: (draft.status == PoStatus::Closed).then_some(PoStatus::Closed),
                received,
            };
            self.update_po(&po_number, &change).await?;
        }
        Ok(po_number)
    }

    /// Nothing is written: a PO that has every line of `draft` is complete; one that lacks
    /// lines is refused (no MI transaction known to us adds a line to an existing PO; see the
    /// module docs), as is a PO carrying another reference.
    async fn complete_po(&self, po_number: &str, draft: &SourcePoDraft) -> Result<(), TargetError> {
        let missing = self.missing_lines(po_number, draft).await?;
        if missing.is_empty() {
            return Ok(());
        }
        let list = missing
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        Err(rejected(
            501,
            format!(
                "M3 PO {po_number} lacks line(s) {list} of Cin7 purchase {}: no MI transaction known to this writer adds a line to an existing PO (PPS370MI adds lines only in the batch that creates it); add the lines in M3, nothing was written",
                draft.external_number
            ),
        ))
    }

    async fn update_po(&self, po_number: &str, change: &SourcePoChange) -> Result<(), TargetError> {
        let lines = self.lines(po_number).await?;
        let closing = change.status == Some(PoStatus::Closed);
        for received in &change.received {
            let Some(line) = lines.iter().find(|l| l.line == received.line_no) else {
                return Err(rejected(
                    404,
                    format!("PO {po_number} has no line {}", received.line_no),
                ));
            };
            self.receive(po_number, line, received.total, closing)
                .await?;
        }
        match &change.status {
            None | Some(PoStatus::Planned) => Ok(()),
            Some(PoStatus::Ordered) => {
                if Self::status_of(&lines) == PoStatus::Planned {
                    return Err(rejected(
                        501,
                        format!(
                            "PO {po_number} is planned in M3 and no MI transaction releases it; release it in M3"
                        ),
                    ));
                }
                Ok(())
            }
            Some(PoStatus::Closed) => {
                let after = self.lines(po_number).await?;
                match after.iter().find(|l| l.lowest_status < 75) {
                    None => Ok(()),
                    Some(open) => Err(rejected(
                        409,
                        format!(
                            "PO {po_number} line {} is still open in M3 ({} of {} received); M3 closes a line through its receipt's finish mark",
                            open.line, open.received, open.ordered
                        ),
                    )),
                }
            }
            Some(PoStatus::Cancelled) => {
                if let Some(line) = lines.iter().find(|l| l.received > Decimal::ZERO) {
                    return Err(rejected(
                        409,
                        format!(
                            "PO {po_number} line {} has receipts in M3; it cannot be cancelled by deleting its lines",
                            line.line
                        ),
                    ));
                }
                for line in &lines {
                    self.write(
                        MiCall::new("PPS200MI", "DltLine")
                            .input("PUNO", po_number)
                            .input("PNLI", line.line.to_string())
                            .input("PNLS", &line.suffix),
                    )
                    .await?;
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
        let batches = self
            .read(
                MiCall::new("APS450MI", "LstInvBySupInv")
                    .input("SPYN", vendor_id)
                    .input("SUNO", vendor_id)
                    .input("SINO", invoice_number),
            )
            .await
            .map_err(m3_target_error)?;
        let keys: Vec<String> = batches
            .iter()
            .filter_map(|r| r.text("INBN").map(str::to_owned))
            .collect();
        if !keys.is_empty() {
            return Ok(keys);
        }
        // An invoice entered in M3 outside an invoice batch.
        match self
            .read(
                MiCall::new("APS200MI", "GetInvoice")
                    .input("SUNO", vendor_id)
                    .input("SINO", invoice_number),
            )
            .await
        {
            Ok(rows) if !rows.is_empty() => Ok(vec![format!("{vendor_id}/{invoice_number}")]),
            Ok(_) => Ok(Vec::new()),
            Err(error) if is_not_found(&error) => Ok(Vec::new()),
            Err(error) => Err(m3_target_error(error)),
        }
    }

    async fn create_invoice(&self, draft: &SourceInvoiceDraft) -> Result<String, TargetError> {
        let mut head = MiCall::new("APS450MI", "AddHead")
            .input("SUNO", &draft.vendor_id)
            .input("IVDT", mi_date(draft.invoice_date))
            .input("SINO", &draft.invoice_number)
            .input("CUCD", &draft.currency)
            .input("CUAM", decimal_text(draft.amount))
            .input("PUNO", &draft.po_number);
        if let Some(due) = draft.due_date {
            head = head.input("DUDT", mi_date(due));
        }
        if let Some(batch_type) = &self.config.invoice_batch_type {
            head = head.input("IBTP", batch_type);
        }
        let batch = self
            .write(head)
            .await?
            .first()
            .and_then(|r| r.text("INBN"))
            .map(str::to_owned)
            .ok_or_else(|| {
                TargetError::unknown_outcome("APS450MI/AddHead answered without an INBN")
            })?;
        for line in &draft.lines {
            if let Err(mut error) = self.write(self.invoice_line(draft, line, &batch)).await {
                error.message = format!(
                    "invoice batch {batch} (invoice {}) is incomplete: line {} failed: {}",
                    draft.invoice_number, line.line_no, error.message
                );
                return Err(error);
            }
        }
        Ok(batch)
    }
}
