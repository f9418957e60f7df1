//! Purchases: drafts → advanced-purchase requests, and Cin7 purchases → [`TargetPurchase`].
//!
//! - Header: `POST /advanced-purchase` with `PurchaseType: Advanced`, the draft's approach,
//!   supplier ID, location, required-by date and memo (`Note`), and the draft's reference in the
//!   configured additional attribute. Cin7 answers `DRAFT` with the order `NOT AVAILABLE`.
//! - Order step: `POST /purchase/order` replaces every line, sent at once when the caller's
//!   view of the purchase says its order is still `NOT AVAILABLE` or `DRAFT`; the purchase is
//!   read back only when the view says otherwise or the write failed (was it an earlier
//!   attempt's lost answer?).
//! - Invoice: `POST /advanced-purchase/invoice` with the source invoice number; item lines carry
//!   their SKU and `Account`, lines without a SKU become additional charges with an `Account`.
//! - Lookup: `purchaseList?Search=` (matches order and invoice numbers), plus a scan of recent
//!   DRAFT purchases for the reference attribute, each candidate read in full and compared
//!   exactly.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sdk_common::retry::Delivery;
use sync_core::error::TargetError;
use sync_core::target::{
    self, DocStatus, InvoiceDraft, OrderDraft, PurchaseDraft, PurchaseTarget, TargetInvoice,
    TargetPurchase,
};

use super::error::{CallKind, incomplete_answer, invalid, target_error};
use super::{Cin7Target, Cin7TargetConfig, parse_id};
use crate::codec::Guid;
use crate::error::Error;
use crate::purchase::{
    AdditionalCharge, AdvancedPurchase, Approach, InvoiceLine, OrderLine, PurchaseHeader,
    PurchaseInvoice, PurchaseOrder, PurchaseStatus, PurchaseType, TaskStatus, line_total,
};

/// The `POST /advanced-purchase` body for a draft.
///
/// ```
/// use chrono::NaiveDate;
/// use cin7_core_client::sync::Cin7TargetConfig;
/// use cin7_core_client::sync::purchase::purchase_header;
/// use sync_core::target::{Approach, PurchaseDraft};
///
/// let draft = PurchaseDraft {
///     supplier_id: "807b6bc2-1b1b-4e5d-9a7e-9a2b1c0d4e11".into(),
///     approach: Approach::Stock,
///     location: Some("Main Warehouse".into()),
///     reference: "4500012".into(),
///     currency: "NZD".into(),
///     order_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
///     required_by: None,
///     memo: None,
/// };
/// let json = serde_json::to_value(purchase_header(&draft, &Cin7TargetConfig::default()).unwrap()).unwrap();
/// assert_eq!(json["PurchaseType"], "Advanced");
/// assert_eq!(json["Approach"], "STOCK");
/// assert_eq!(json["AdditionalAttributes"]["AdditionalAttribute1"], "4500012");
/// // The source system's order date, not the day of the run.
/// assert_eq!(json["OrderDate"], "2026-03-01T00:00:00.000");
/// ```
pub fn purchase_header(
    draft: &PurchaseDraft,
    config: &Cin7TargetConfig,
) -> Result<PurchaseHeader, TargetError> {
    let supplier_id = super::parse_id("supplier", &draft.supplier_id)?;
    if draft
        .location
        .as_deref()
        .is_none_or(|l| l.trim().is_empty())
    {
        return Err(invalid(format!(
            "purchase {}: Cin7 requires a Location; map one or set PurchasePolicy::default_location",
            draft.reference
        )));
    }
    let additional_attributes = config.purchase_reference_attribute.as_ref().map(|attr| {
        let mut map = serde_json::Map::new();
        map.insert(
            attr.clone(),
            serde_json::Value::String(draft.reference.clone()),
        );
        map
    });
    Ok(PurchaseHeader {
        supplier_id: Some(supplier_id),
        approach: Some(match draft.approach {
            target::Approach::Stock => Approach::Stock,
            target::Approach::Invoice => Approach::Invoice,
        }),
        location: draft.location.clone(),
        purchase_type: Some(PurchaseType::Advanced),
        order_date: Some(draft.order_date),
        required_by: draft.required_by,
        note: draft.memo.clone(),
        additional_attributes,
        ..PurchaseHeader::default()
    })
}

fn doc_status(status: DocStatus) -> TaskStatus {
    match status {
        DocStatus::Draft => TaskStatus::Draft,
        DocStatus::Authorised => TaskStatus::Authorised,
    }
}

fn task_status(status: Option<&TaskStatus>) -> target::TaskStatus {
    match status {
        None | Some(TaskStatus::NotAvailable) => target::TaskStatus::NotAvailable,
        Some(TaskStatus::Draft) => target::TaskStatus::Draft,
        Some(TaskStatus::Authorised) => target::TaskStatus::Authorised,
        Some(TaskStatus::Voided) => target::TaskStatus::Voided,
        Some(TaskStatus::Paid) => target::TaskStatus::Paid,
        Some(TaskStatus::Other(other)) => target::TaskStatus::Other(other.clone()),
    }
}

/// The `POST /purchase/order` body: item lines (with a SKU) as order lines, lines without a
/// SKU as additional charges (Cin7 wants a product on a line; a charge names a service
/// product). Totals are computed with Cin7's rounding ([`line_total`]).
pub fn purchase_order(purchase_id: &Guid, order: &OrderDraft) -> PurchaseOrder {
    let (items, charges): (Vec<_>, Vec<_>) = order.lines.iter().partition(|l| !l.sku.is_empty());
    PurchaseOrder {
        task_id: Some(purchase_id.clone()),
        status: Some(doc_status(order.status)),
        lines: items
            .into_iter()
            .map(|l| OrderLine {
                sku: Some(l.sku.clone()),
                name: Some(l.name.clone()),
                quantity: Some(l.quantity),
                price: Some(l.price),
                tax_rule: l.tax_rule.clone(),
                total: Some(line_total(l.quantity, l.price, None)),
                ..OrderLine::default()
            })
            .collect(),
        additional_charges: charges
            .into_iter()
            .map(|l| AdditionalCharge {
                description: l.name.clone(),
                quantity: Some(l.quantity),
                price: Some(l.price),
                tax_rule: l.tax_rule.clone(),
                total: Some(line_total(l.quantity, l.price, None)),
                ..AdditionalCharge::default()
            })
            .collect(),
        ..PurchaseOrder::default()
    }
}

/// Whether the order in Cin7 (`existing`) is the order we send (`wanted`): same status, and
/// the same lines and charges (SKU or description, quantity, price) in any order.
fn same_order(existing: &PurchaseOrder, wanted: &PurchaseOrder) -> bool {
    let lines = |o: &PurchaseOrder| {
        let mut lines: Vec<_> = o
            .lines
            .iter()
            .map(|l| (l.sku.clone().unwrap_or_default(), l.quantity, l.price))
            .chain(
                o.additional_charges
                    .iter()
                    .map(|c| (format!("charge:{}", c.description), c.quantity, c.price)),
            )
            .map(|(key, q, p)| (key, q.map(|d| d.normalize()), p.map(|d| d.normalize())))
            .collect();
        lines.sort();
        lines
    };
    existing.status == wanted.status && lines(existing) == lines(wanted)
}

/// Whether the invoice in Cin7 (`existing`) is the invoice we send (`wanted`): same number and
/// status, and the same lines and charges (SKU or description, quantity, price, account) in any
/// order.
fn same_invoice(existing: &PurchaseInvoice, wanted: &PurchaseInvoice) -> bool {
    let lines = |i: &PurchaseInvoice| {
        let mut lines: Vec<_> = i
            .lines
            .iter()
            .map(|l| {
                (
                    l.sku.clone().unwrap_or_default(),
                    l.quantity,
                    l.price,
                    l.account.clone(),
                )
            })
            .chain(i.additional_charges.iter().map(|c| {
                (
                    format!("charge:{}", c.description),
                    c.quantity,
                    c.price,
                    c.account.clone().unwrap_or_default(),
                )
            }))
            .map(|(key, q, p, a)| (key, q.map(|d| d.normalize()), p.map(|d| d.normalize()), a))
            .collect();
        lines.sort();
        lines
    };
    existing.invoice_number == wanted.invoice_number
        && existing.status == wanted.status
        && lines(existing) == lines(wanted)
}

/// The `POST /advanced-purchase/invoice` body: the source invoice number, dates, status, and
/// every line with its `Account` (lines without a SKU as additional charges).
pub fn purchase_invoice(
    purchase_id: &Guid,
    task_id: Option<&Guid>,
    invoice: &InvoiceDraft,
) -> PurchaseInvoice {
    let (items, charges): (Vec<_>, Vec<_>) = invoice
        .lines
        .iter()
        .partition(|l| l.sku.as_deref().is_some_and(|s| !s.is_empty()));
    PurchaseInvoice {
        purchase_id: Some(purchase_id.clone()),
        task_id: task_id.cloned(),
        invoice_number: Some(invoice.invoice_number.clone()),
        invoice_date: Some(invoice.invoice_date),
        invoice_due_date: invoice.due_date,
        status: Some(doc_status(invoice.status)),
        lines: items
            .into_iter()
            .map(|l| InvoiceLine {
                sku: l.sku.clone(),
                name: Some(l.name.clone()),
                quantity: Some(l.quantity),
                price: Some(l.price),
                tax_rule: l.tax_rule.clone(),
                account: l.account.clone(),
                total: Some(line_total(l.quantity, l.price, None)),
                ..InvoiceLine::default()
            })
            .collect(),
        additional_charges: charges
            .into_iter()
            .map(|l| AdditionalCharge {
                description: l.name.clone(),
                quantity: Some(l.quantity),
                price: Some(l.price),
                tax_rule: l.tax_rule.clone(),
                account: Some(l.account.clone()),
                total: Some(line_total(l.quantity, l.price, None)),
                ..AdditionalCharge::default()
            })
            .collect(),
        ..PurchaseInvoice::default()
    }
}

/// The reference stamped on a purchase: the configured attribute, else Cin7's order number.
pub fn purchase_reference(purchase: &AdvancedPurchase, config: &Cin7TargetConfig) -> String {
    config
        .purchase_reference_attribute
        .as_ref()
        .and_then(|attr| purchase.additional_attributes.as_ref()?.get(attr))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| purchase.order_number.clone())
        .unwrap_or_default()
}

/// What the engine sees of a Cin7 purchase. Placeholder invoices (Cin7 lists a `NOT AVAILABLE`
/// invoice entry with no number on a fresh purchase) are left out.
pub fn target_purchase(
    purchase: &AdvancedPurchase,
    config: &Cin7TargetConfig,
) -> Result<TargetPurchase, String> {
    let id = purchase
        .id
        .as_ref()
        .ok_or_else(|| "the purchase has no ID".to_owned())?;
    let approach = match &purchase.approach {
        Some(Approach::Stock) => target::Approach::Stock,
        Some(Approach::Invoice) => target::Approach::Invoice,
        other => {
            return Err(format!(
                "purchase {id} has approach {other:?}, which the sync does not handle"
            ));
        }
    };
    let invoices = purchase
        .invoice
        .iter()
        .filter(|inv| {
            let numbered = inv.invoice_number.as_deref().is_some_and(|n| !n.is_empty());
            let started = !matches!(inv.status, None | Some(TaskStatus::NotAvailable));
            numbered || started
        })
        .map(|inv| TargetInvoice {
            task_id: inv
                .task_id
                .as_ref()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            invoice_number: inv.invoice_number.clone().unwrap_or_default(),
            status: task_status(inv.status.as_ref()),
        })
        .collect();
    Ok(TargetPurchase {
        id: id.as_str().to_owned(),
        reference: purchase_reference(purchase, config),
        supplier_id: purchase
            .supplier_id
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        approach,
        order_status: task_status(purchase.order.as_ref().and_then(|o| o.status.as_ref())),
        invoices,
    })
}

/// Whether `purchase` carries `reference` exactly: the stamped reference, Cin7's order number,
/// or the number of one of its invoices.
pub fn carries_reference(
    purchase: &AdvancedPurchase,
    config: &Cin7TargetConfig,
    reference: &str,
) -> bool {
    purchase_reference(purchase, config) == reference
        || purchase.order_number.as_deref() == Some(reference)
        || purchase
            .invoice
            .iter()
            .any(|inv| inv.invoice_number.as_deref() == Some(reference))
}

/// Whether an error of `GET /advanced-purchase?ID=` means "no such purchase". Cin7's exact
/// answer for an unknown ID is undocumented: a 404 (HTTP or `ErrorCode`) or a 400 whose text
/// says "not found" is read as absence.
fn is_not_found(error: &Error) -> bool {
    error.api().is_some_and(|api| {
        api.status == 404
            || api.error_code == Some(404)
            || (api.status == 400 || api.error_code == Some(400))
                && api.message.to_ascii_lowercase().contains("not found")
    })
}

impl Cin7Target {
    /// The purchase by id, `None` when Cin7 has no such purchase or it is voided.
    async fn fetch_purchase(&self, id: &Guid) -> Result<Option<AdvancedPurchase>, TargetError> {
        match self.client.purchases().get(id).send().await {
            Ok(purchase) if purchase.id.is_none() => Ok(None),
            Ok(purchase) if purchase.status == Some(PurchaseStatus::Voided) => Ok(None),
            Ok(purchase) => {
                self.recent.keep(self.client.clock(), id, &purchase);
                Ok(Some(purchase))
            }
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(target_error(error, CallKind::Read)),
        }
    }

    /// After a write that failed (`error`) or was not sent because the caller's view said the
    /// order is not editable (`None`): read the purchase, and report success when its order
    /// already is `wanted`. Otherwise the write's own error, or (nothing sent, or a purchase
    /// whose order turns out not editable) the refusal Cin7 would give.
    async fn order_already_written(
        &self,
        guid: &Guid,
        wanted: &PurchaseOrder,
        error: Option<Error>,
    ) -> Result<TargetPurchase, TargetError> {
        // Nothing sent: the caller's view came from a read moments ago, whose body answers.
        let recent = error
            .is_none()
            .then(|| self.recent.take(self.client.clock(), guid))
            .flatten();
        let now = match recent {
            Some(recent) => Ok(Some(recent)),
            None => self.fetch_purchase(guid).await,
        };
        match now {
            Ok(now) => self.judge_order(guid, now, wanted, error),
            // The read is only a second look: a failed write keeps its own error.
            Err(read_error) => Err(error.map_or(read_error, Into::into)),
        }
    }

    /// What the purchase as it is now (`now`) says about an order write of `wanted`: written
    /// (success), or the write's own `error`, or (nothing sent, or an order that is not
    /// editable) the refusal Cin7 would give.
    fn judge_order(
        &self,
        guid: &Guid,
        now: Option<AdvancedPurchase>,
        wanted: &PurchaseOrder,
        error: Option<Error>,
    ) -> Result<TargetPurchase, TargetError> {
        let Some(now) = now else {
            return Err(error.map_or_else(
                || TargetError::rejected(404, format!("purchase {guid} not found in Cin7")),
                Into::into,
            ));
        };
        if now.order.as_ref().is_some_and(|o| same_order(o, wanted)) {
            return self.view(&now);
        }
        let view = self.view(&now)?;
        match error {
            Some(error) if view.order_status.is_editable() => Err(error.into()),
            _ => Err(TargetError::rejected(
                400,
                format!(
                    "order of purchase {guid} is {:?}; Cin7 replaces lines only while it is DRAFT",
                    view.order_status
                ),
            )),
        }
    }

    fn view(&self, purchase: &AdvancedPurchase) -> Result<TargetPurchase, TargetError> {
        target_purchase(purchase, &self.config)
            .map_err(|why| incomplete_answer(CallKind::Read, why))
    }

    /// Candidate purchase IDs for `reference`: `purchaseList?Search=` rows whose order or
    /// invoice number holds it, then recently updated DRAFT purchases (their attribute is not
    /// searchable, so each is read).
    async fn candidates(&self, reference: &str) -> Result<Vec<Guid>, TargetError> {
        let mut ids: Vec<Guid> = Vec::new();
        let mut push = |id: Option<Guid>| {
            if let Some(id) = id
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        };
        let rows: Vec<_> = self
            .client
            .purchases()
            .list()
            .search(reference)
            .stream()
            .try_collect()
            .await
            .map_err(|e| target_error(e, CallKind::Read))?;
        for row in rows {
            // Search is a contains-match over several fields; an invoice number field may list
            // more than one invoice, so it is compared exactly only after the full read.
            let by_order = row.order_number.as_deref() == Some(reference);
            let by_invoice = row
                .invoice_number
                .as_deref()
                .is_some_and(|n| n.contains(reference));
            if by_order || by_invoice {
                push(row.id);
            }
        }
        if let (Some(_), Some(window)) = (
            &self.config.purchase_reference_attribute,
            self.config.reference_scan_window,
        ) {
            let since = self.client.clock().now() - window;
            let drafts: Vec<_> = self
                .client
                .purchases()
                .list()
                .status(&PurchaseStatus::Draft)
                .updated_since(since)
                .stream()
                .try_collect()
                .await
                .map_err(|e| target_error(e, CallKind::Read))?;
            for row in drafts {
                push(row.id);
            }
        }
        Ok(ids)
    }
}

#[async_trait]
impl PurchaseTarget for Cin7Target {
    /// Purchases carrying `reference` exactly (stamped reference, order number or an invoice
    /// number), voided ones excluded. Costs one `purchaseList` search, one `purchaseList` page
    /// of recent drafts (when the scan is on), and one `GET /advanced-purchase` per candidate.
    async fn find_purchases(&self, reference: &str) -> Result<Vec<TargetPurchase>, TargetError> {
        if reference.trim().is_empty() {
            return Err(invalid(
                "cannot look up a purchase by an empty reference (Search would match everything)",
            ));
        }
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        for id in self.candidates(reference).await? {
            let Some(purchase) = self.fetch_purchase(&id).await? else {
                continue;
            };
            if carries_reference(&purchase, &self.config, reference)
                && seen.insert(id.as_str().to_owned())
            {
                found.push(self.view(&purchase)?);
            }
        }
        Ok(found)
    }

    /// One `purchaseList?UpdatedSince=` walk for all `references` (rows whose order number or
    /// invoice number holds one of them; with a reference attribute, every DRAFT row, whose
    /// attribute only the full read shows), then one `GET /advanced-purchase` per distinct
    /// candidate, matched exactly against every reference. A single reference without the
    /// attribute is cheaper as a `Search`, and goes that way.
    async fn find_purchases_since(
        &self,
        references: &[String],
        since: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<TargetPurchase>>, TargetError> {
        let references: BTreeSet<&str> = references
            .iter()
            .map(String::as_str)
            .filter(|r| !r.trim().is_empty())
            .collect();
        let mut found: BTreeMap<String, Vec<TargetPurchase>> = references
            .iter()
            .map(|r| ((*r).to_owned(), Vec::new()))
            .collect();
        if references.is_empty() {
            return Ok(found);
        }
        if references.len() == 1 && self.config.purchase_reference_attribute.is_none() {
            for reference in references {
                found.insert(reference.to_owned(), self.find_purchases(reference).await?);
            }
            return Ok(found);
        }
        let rows: Vec<_> = self
            .client
            .purchases()
            .list()
            .updated_since(since)
            .stream()
            .try_collect()
            .await
            .map_err(|e| target_error(e, CallKind::Read))?;
        let stamped = self.config.purchase_reference_attribute.is_some()
            && self.config.reference_scan_window.is_some();
        let mut candidates: Vec<Guid> = Vec::new();
        for row in rows {
            let Some(id) = row.id else { continue };
            let numbered = references.iter().any(|r| {
                row.order_number.as_deref() == Some(*r)
                    || row
                        .invoice_number
                        .as_deref()
                        .is_some_and(|n| n.contains(*r))
            });
            if (numbered || (stamped && row.status == Some(PurchaseStatus::Draft)))
                && !candidates.contains(&id)
            {
                candidates.push(id);
            }
        }
        for id in candidates {
            let Some(purchase) = self.fetch_purchase(&id).await? else {
                continue;
            };
            for reference in &references {
                if carries_reference(&purchase, &self.config, reference) {
                    let view = self.view(&purchase)?;
                    found.entry((*reference).to_owned()).or_default().push(view);
                }
            }
        }
        Ok(found)
    }

    /// `GET /advanced-purchase?ID=`.
    async fn get_purchase(&self, id: &str) -> Result<Option<TargetPurchase>, TargetError> {
        let guid = parse_id("purchase", id)?;
        match self.fetch_purchase(&guid).await? {
            Some(purchase) => self.view(&purchase).map(Some),
            None => Ok(None),
        }
    }

    /// `GET /product?Sku=` per SKU (Cin7's filter matches more than the exact SKU, so the
    /// answer is compared exactly, ignoring case); deprecated products count as missing.
    async fn missing_skus(&self, skus: &[String]) -> Result<Vec<String>, TargetError> {
        let mut missing = Vec::new();
        for sku in skus {
            let page = self
                .client
                .products()
                .list()
                .sku(sku)
                .send()
                .await
                .map_err(|e| target_error(e, CallKind::Read))?;
            if !page.items.iter().any(|p| p.sku.eq_ignore_ascii_case(sku)) {
                missing.push(sku.clone());
            }
        }
        Ok(missing)
    }

    /// `DELETE /advanced-purchase?ID=&Void=true`. When it fails, one `GET` tells a purchase
    /// already voided (an earlier attempt whose answer was lost: success) from a refusal.
    async fn void_purchase(&self, purchase: &TargetPurchase) -> Result<(), TargetError> {
        let guid = parse_id("purchase", &purchase.id)?;
        match self.client.purchases().void(&guid).await {
            Ok(()) => Ok(()),
            Err(error) => match self.fetch_purchase(&guid).await {
                Ok(None) => Ok(()),
                _ => Err(target_error(error, CallKind::Repeatable)),
            },
        }
    }

    /// `POST /advanced-purchase` (never resent after an unknown outcome).
    async fn create_purchase(&self, draft: &PurchaseDraft) -> Result<TargetPurchase, TargetError> {
        let header = purchase_header(draft, &self.config)?;
        let saved = self
            .client
            .purchases()
            .create(&header)
            .await
            .map_err(|e| target_error(e, CallKind::Create))?;
        target_purchase(&saved, &self.config)
            .map_err(|why| incomplete_answer(CallKind::Create, why))
    }

    /// `POST /purchase/order`, which replaces every line, when `purchase` (the caller's view)
    /// says the order is `NOT AVAILABLE` or `DRAFT`: one call. `GET /advanced-purchase?ID=`
    /// only when the view says the order is not editable or the write failed, to tell an
    /// earlier attempt that already wrote this order (success) from a refusal.
    async fn set_order(
        &self,
        purchase: &TargetPurchase,
        order: &OrderDraft,
    ) -> Result<TargetPurchase, TargetError> {
        let guid = parse_id("purchase", &purchase.id)?;
        let wanted = purchase_order(&guid, order);
        if !purchase.order_status.is_editable() {
            // The view may be older than an earlier attempt whose answer was lost (a reset or a
            // cut body after Cin7 applied it): look before refusing.
            return self.order_already_written(&guid, &wanted, None).await;
        }
        self.recent.forget(&guid);
        let saved = match self.client.purchases().save_order(&wanted).await {
            Ok(saved) => saved,
            Err(error)
                if error.delivery() == Delivery::Unknown
                    && wanted.status != Some(TaskStatus::Draft) =>
            {
                // It may have landed, and the client did not resend it (an authorising save:
                // once landed, a repeat is refused). One read tells: the order sent is there
                // (success); the order is still editable, so it did not land and is sent once
                // more; or anything else, judged as any failed write. (A draft save was
                // already resent by the client.)
                let now = match self.fetch_purchase(&guid).await {
                    Ok(now) => now,
                    Err(_) => return Err(error.into()),
                };
                let resend = now.as_ref().is_some_and(|now| {
                    !now.order.as_ref().is_some_and(|o| same_order(o, &wanted))
                        && task_status(now.order.as_ref().and_then(|o| o.status.as_ref()))
                            .is_editable()
                });
                if !resend {
                    return self.judge_order(&guid, now, &wanted, Some(error));
                }
                self.recent.forget(&guid);
                match self.client.purchases().save_order(&wanted).await {
                    Ok(saved) => saved,
                    Err(error) => {
                        return self
                            .order_already_written(&guid, &wanted, Some(error))
                            .await;
                    }
                }
            }
            Err(error) => {
                // A refusal may follow an earlier attempt whose answer was lost: look before
                // reporting a failure. If the order in Cin7 is the one we sent, it landed.
                return self
                    .order_already_written(&guid, &wanted, Some(error))
                    .await;
            }
        };
        let mut view = purchase.clone();
        view.order_status = match saved.status {
            Some(status) => task_status(Some(&status)),
            None => task_status(Some(&doc_status(order.status))),
        };
        Ok(view)
    }

    /// `POST /advanced-purchase/invoice`. With `task_id` it overwrites that invoice (a
    /// repeatable write; when it fails, the purchase is read back and an invoice there that
    /// already is this one counts as written); without, it creates one (never resent after an
    /// unknown outcome).
    async fn post_invoice(
        &self,
        purchase_id: &str,
        task_id: Option<&str>,
        invoice: &InvoiceDraft,
    ) -> Result<TargetInvoice, TargetError> {
        let guid = parse_id("purchase", purchase_id)?;
        let task = task_id.map(|t| parse_id("invoice task", t)).transpose()?;
        let kind = if task.is_some() {
            CallKind::Repeatable
        } else {
            CallKind::Create
        };
        let body = purchase_invoice(&guid, task.as_ref(), invoice);
        // An overwrite of an invoice a read moments ago showed as no longer editable: Cin7
        // would refuse it, so decide on that body (one read confirms a lost answer).
        if let Some(task) = &task
            && let Some(now) = self.recent.take(self.client.clock(), &guid)
            && let Some(there) = now
                .invoice
                .iter()
                .find(|inv| inv.task_id.as_ref() == Some(task))
            && !task_status(there.status.as_ref()).is_editable()
        {
            if same_invoice(there, &body) {
                return Ok(TargetInvoice {
                    task_id: task.as_str().to_owned(),
                    invoice_number: invoice.invoice_number.clone(),
                    status: task_status(there.status.as_ref()),
                });
            }
            return Err(TargetError::rejected(
                400,
                format!(
                    "invoice {} of purchase {guid} is {:?}; Cin7 replaces an invoice only while it is DRAFT",
                    invoice.invoice_number,
                    task_status(there.status.as_ref())
                ),
            ));
        }
        self.recent.forget(&guid);
        let saved = match self.client.purchases().create_invoice(&body).await {
            Ok(saved) => saved,
            Err(error) => {
                // An overwrite of an invoice that an earlier attempt already wrote and authorised
                // (its answer lost) is refused: look before reporting a failure. If the invoice
                // in Cin7 is the one we send, it landed.
                if let Some(task) = &task
                    && let Ok(Some(now)) = self.fetch_purchase(&guid).await
                    && let Some(there) = now
                        .invoice
                        .iter()
                        .find(|inv| inv.task_id.as_ref() == Some(task))
                    && same_invoice(there, &body)
                {
                    return Ok(TargetInvoice {
                        task_id: task.as_str().to_owned(),
                        invoice_number: invoice.invoice_number.clone(),
                        status: task_status(there.status.as_ref()),
                    });
                }
                return Err(target_error(error, kind));
            }
        };
        let posted = match &task {
            Some(task) => saved
                .invoices
                .iter()
                .find(|inv| inv.task_id.as_ref() == Some(task)),
            None => saved
                .invoices
                .iter()
                .rev()
                .find(|inv| inv.invoice_number.as_deref() == Some(&invoice.invoice_number)),
        };
        let Some(posted) = posted else {
            return Err(incomplete_answer(
                kind,
                format!(
                    "Cin7 accepted invoice {} on purchase {purchase_id} but did not return it",
                    invoice.invoice_number
                ),
            ));
        };
        Ok(TargetInvoice {
            task_id: posted
                .task_id
                .as_ref()
                .map(|t| t.as_str().to_owned())
                .ok_or_else(|| incomplete_answer(kind, "the posted invoice has no TaskID"))?,
            invoice_number: posted
                .invoice_number
                .clone()
                .unwrap_or_else(|| invoice.invoice_number.clone()),
            status: task_status(posted.status.as_ref()),
        })
    }
}
