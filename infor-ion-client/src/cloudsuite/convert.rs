//! Product records → sync-core's canonical model.
//!
//! Every conversion is total or fails with an error naming the record and field; nothing is
//! guessed silently. Defaults that do apply (the site currency, a name falling back to the
//! vendor number) are documented on the function.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sync_core::model::{
    AccountClass, Address, AddressKind, Contact, GlAccount, InvoiceLine, PartyStatus, PoLine,
    PoStatus, PurchaseOrder, SourceIdentity, Supplier, SupplierInvoice,
};

use crate::csi::nouns as ido;
use crate::error::{Error, Result};
use crate::m3::nouns as mi;

/// The `system` of every identity this crate produces.
pub const SYSTEM: &str = "cloudsuite";

/// What completes an identity and fills gaps.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub tenant: &'a str,
    pub accounting_entity: &'a str,
    pub default_currency: &'a str,
}

impl Context<'_> {
    fn identity(&self, id: &str) -> SourceIdentity {
        SourceIdentity::new(SYSTEM, self.tenant, self.accounting_entity, id)
    }
}

fn missing(record: &str, property: &str) -> Error {
    Error::MissingValue {
        record: record.to_owned(),
        property: property.to_owned(),
    }
}

fn invalid(record: &str, property: &str, value: &str, expected: &'static str) -> Error {
    Error::InvalidValue {
        record: record.to_owned(),
        property: property.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

/// `modified_at` is what incremental sync is keyed on: a row without it cannot be windowed.
fn modified(record: &str, at: Option<DateTime<Utc>>) -> Result<DateTime<Utc>> {
    at.ok_or_else(|| missing(record, "RecordDate"))
}

/// Whether an M3 change date falls in a window starting at `from` (compared by date: M3's
/// `LMDT` has no time).
pub(crate) fn changed_since(changed_on: Option<NaiveDate>, from: Option<DateTime<Utc>>) -> bool {
    match (changed_on, from) {
        (_, None) => true,
        (None, Some(_)) => true,
        (Some(day), Some(from)) => day >= from.date_naive(),
    }
}

/// A CSI vendor. Status `A` is active; anything else inactive. A missing name falls back to the
/// vendor number so the Cin7 supplier is still identifiable.
pub(crate) fn csi_supplier(v: ido::Vendor, cx: &Context<'_>) -> Result<Supplier> {
    let mut addresses = Vec::new();
    if let Some(line1) = v.address_1.clone() {
        addresses.push(Address {
            kind: AddressKind::Business,
            line1,
            line2: v.address_2.clone(),
            city: v.city.clone(),
            state: v.state.clone(),
            postcode: v.postal_code.clone(),
            country: v.country.clone().unwrap_or_default(),
        });
    }
    let mut contacts = Vec::new();
    if v.contact.is_some() || v.phone.is_some() || v.email.is_some() {
        contacts.push(Contact {
            name: v.contact.clone().unwrap_or_else(|| "Accounts".to_owned()),
            phone: v.phone.clone(),
            email: v.email.clone(),
            default: true,
        });
    }
    Ok(Supplier {
        identity: cx.identity(&v.vend_num),
        name: v.name.clone().unwrap_or_else(|| v.vend_num.clone()),
        currency: v
            .currency
            .clone()
            .unwrap_or_else(|| cx.default_currency.to_owned()),
        payment_term: v.terms_code.clone(),
        tax_rule: v.tax_code.clone(),
        tax_number: None,
        status: match v.status.as_deref() {
            None | Some("A") => PartyStatus::Active,
            Some(_) => PartyStatus::Inactive,
        },
        addresses,
        contacts,
        modified_at: modified("SLVendors", v.modified_at)?,
        vendor_id: v.vend_num,
    })
}

/// A CSI PO header with its lines. Status: `P` planned, `O` ordered, `F`/`C` closed; any other
/// code is an error naming it. Lines need an item, a quantity and a unit cost.
pub(crate) fn csi_purchase_order(
    head: ido::PurchaseOrder,
    lines: Vec<ido::PoLine>,
    cx: &Context<'_>,
) -> Result<PurchaseOrder> {
    let status = match head.status.as_deref() {
        Some("P") => PoStatus::Planned,
        None | Some("O") => PoStatus::Ordered,
        Some("F") | Some("C") => PoStatus::Closed,
        Some(other) => return Err(invalid("SLPos", "Stat", other, "a PO status (P, O, F, C)")),
    };
    // A change to a line alone (a quantity, a receipt) leaves the header's `RecordDate` as it
    // was: the PO counts as changed when its newest row did.
    let modified_at = lines
        .iter()
        .filter_map(|line| line.modified_at)
        .fold(modified("SLPos", head.modified_at)?, DateTime::max);
    let required_by = lines.iter().filter_map(|line| line.due_date).min();
    let mut lines = lines
        .into_iter()
        .map(|line| {
            let line_no = line.po_line.ok_or_else(|| missing("SLPoItems", "PoLine"))?;
            Ok(PoLine {
                line_no: u32::try_from(line_no).map_err(|_| {
                    invalid("SLPoItems", "PoLine", &line_no.to_string(), "a line number")
                })?,
                sku: line
                    .item
                    .clone()
                    .ok_or_else(|| missing("SLPoItems", "Item"))?,
                description: line
                    .description
                    .clone()
                    .or(line.item.clone())
                    .unwrap_or_default(),
                quantity: line
                    .qty_ordered
                    .ok_or_else(|| missing("SLPoItems", "QtyOrdered"))?,
                unit_price: line.unit_cost.unwrap_or(Decimal::ZERO),
                tax_rule: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    lines.sort_by_key(|l| l.line_no);
    Ok(PurchaseOrder {
        identity: cx.identity(&head.po_num),
        // The header carries no required-by date; the earliest line due date is when the
        // order is first needed.
        required_by,
        vendor_id: head.vend_num.clone(),
        order_date: head
            .order_date
            .ok_or_else(|| missing("SLPos", "OrderDate"))?,
        currency: cx.default_currency.to_owned(),
        location: head.warehouse.clone(),
        status,
        memo: head.vendor_order.clone(),
        lines,
        modified_at,
        po_number: head.po_num,
    })
}

/// A CSI voucher allocated whole to one GL account (when its distributions are not read from
/// their IDO): one line of quantity 1 at the voucher amount.
pub(crate) fn csi_invoice_to_account(
    voucher: ido::ApVoucher,
    account: String,
    cx: &Context<'_>,
) -> Result<SupplierInvoice> {
    let line = InvoiceLine {
        line_no: 1,
        sku: None,
        description: format!("Voucher {}", voucher.voucher),
        quantity: Decimal::ONE,
        unit_price: voucher
            .inv_amount
            .ok_or_else(|| missing("SLAptrxs", "InvAmt"))?,
        gl_account: account,
        tax_rule: None,
    };
    invoice_with_lines(voucher, vec![line], cx)
}

/// A CSI voucher with its distributions as lines: each distribution is one line of quantity 1
/// at the distributed amount, allocated to its GL account.
pub(crate) fn csi_invoice(
    voucher: ido::ApVoucher,
    distributions: Vec<ido::ApVoucherDistribution>,
    cx: &Context<'_>,
) -> Result<SupplierInvoice> {
    let mut lines = distributions
        .into_iter()
        .map(|d| {
            let seq = d.dist_seq.unwrap_or(0);
            Ok(InvoiceLine {
                line_no: u32::try_from(seq)
                    .map_err(|_| invalid("SLAptrxds", "DistSeq", &seq.to_string(), "a sequence"))?,
                sku: None,
                description: format!("Voucher {} distribution {seq}", d.voucher),
                quantity: Decimal::ONE,
                unit_price: d.amount.ok_or_else(|| missing("SLAptrxds", "Amount"))?,
                gl_account: d
                    .account
                    .clone()
                    .ok_or_else(|| missing("SLAptrxds", "Acct"))?,
                tax_rule: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    lines.sort_by_key(|l| l.line_no);
    invoice_with_lines(voucher, lines, cx)
}

fn invoice_with_lines(
    voucher: ido::ApVoucher,
    lines: Vec<InvoiceLine>,
    cx: &Context<'_>,
) -> Result<SupplierInvoice> {
    Ok(SupplierInvoice {
        identity: cx.identity(&voucher.voucher),
        invoice_number: voucher
            .inv_num
            .clone()
            .ok_or_else(|| missing("SLAptrxs", "InvNum"))?,
        vendor_id: voucher.vend_num.clone(),
        po_id: voucher.po_num.clone(),
        invoice_date: voucher
            .inv_date
            .ok_or_else(|| missing("SLAptrxs", "InvDate"))?,
        due_date: voucher.due_date,
        currency: cx.default_currency.to_owned(),
        lines,
        modified_at: modified("SLAptrxs", voucher.modified_at)?,
    })
}

/// CSI account types: `A` asset, `L` liability, `O` owner's equity, `R` revenue, `E` expense.
fn csi_class(code: &str) -> Option<AccountClass> {
    Some(match code {
        "A" => AccountClass::Asset,
        "L" => AccountClass::Liability,
        "O" => AccountClass::Equity,
        "R" => AccountClass::Revenue,
        "E" => AccountClass::Expense,
        _ => return None,
    })
}

/// A CSI chart account. A row without `RecordDate` gets the Unix epoch: the chart is read
/// whole every run, so its `modified_at` only orders, never windows.
pub(crate) fn csi_gl_account(a: ido::GlAccount, cx: &Context<'_>) -> Result<GlAccount> {
    let code = a
        .account_type
        .clone()
        .ok_or_else(|| missing("SLCharts", "Type"))?;
    let class = csi_class(&code)
        .ok_or_else(|| invalid("SLCharts", "Type", &code, "an account type (A, L, O, R, E)"))?;
    Ok(GlAccount {
        identity: cx.identity(&a.account),
        name: a.description.clone().unwrap_or_else(|| a.account.clone()),
        class,
        account_type: Some(code),
        active: true,
        modified_at: a.modified_at.unwrap_or(DateTime::UNIX_EPOCH),
        code: a.account,
    })
}

/// An M3 supplier, its status already resolved (see [`super::m3_suppliers`]: never active
/// unless M3 said a code the status map makes active).
///
/// `modified_at`: the change date when the tenant returns one (a field map naming a column for
/// `changed_on`, at midnight UTC: M3's `LMDT` has no time), else `read_at`. The list's
/// documented output carries no change date, and the selection itself is M3's (`LMTS`), so a
/// missing date is not an error: the source passes the window's upper bound (the time the
/// window was read up to), which the record changed at or before. `modified_at` is left out of
/// the content hash, so re-reading an unchanged supplier writes nothing.
pub(crate) fn m3_supplier(
    s: mi::Supplier,
    status: PartyStatus,
    read_at: DateTime<Utc>,
    cx: &Context<'_>,
) -> Supplier {
    let mut addresses = Vec::new();
    if let Some(line1) = s.address_1.clone() {
        addresses.push(Address {
            kind: AddressKind::Business,
            line1,
            line2: s.address_2.clone(),
            city: s.town.clone(),
            state: None,
            postcode: s.postal_code.clone(),
            country: s.country.clone().unwrap_or_default(),
        });
    }
    let modified_at = s
        .changed_on
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(read_at, |at| at.and_utc());
    Supplier {
        identity: cx.identity(&s.supplier),
        name: s.name.clone().unwrap_or_else(|| s.supplier.clone()),
        currency: s
            .currency
            .clone()
            .unwrap_or_else(|| cx.default_currency.to_owned()),
        payment_term: s.terms.clone(),
        tax_rule: None,
        tax_number: None,
        status,
        addresses,
        contacts: Vec::new(),
        modified_at,
        vendor_id: s.supplier,
    }
}

/// An M3 accounting identity of dimension 1 (the account). M3 does not say the class in this
/// list; accounts are reported as expense accounts and the class is left to the GL mapping.
pub(crate) fn m3_gl_account(a: mi::GlAccount, cx: &Context<'_>) -> Result<GlAccount> {
    Ok(GlAccount {
        identity: cx.identity(&a.account),
        name: a.name.clone().unwrap_or_else(|| a.account.clone()),
        class: AccountClass::Expense,
        account_type: a.dimension.clone(),
        active: a.status.as_deref() != Some("90"),
        modified_at: DateTime::UNIX_EPOCH,
        code: a.account,
    })
}

/// An M3 purchase order's status from its lines' status codes (`PUSL`, the lowest status of
/// each line), the rule the return path uses too: the lowest status of all lines below `20`
/// (preliminary/planned, e.g. `05`, `15`) is planned; `20`-`74` (released, confirmed, in
/// transit, partly received) ordered; `75`-`98` (received, put away, invoiced) closed; `99`
/// (every line cancelled) and an order without lines cancelled. A code that is not a number is
/// an error naming it.
///
/// ```text
/// lines 15, 20 -> planned   lines 20, 50 -> ordered   lines 75, 85 -> closed   99 -> cancelled
/// ```
pub(crate) fn m3_po_status(line_statuses: &[Option<String>]) -> Result<PoStatus> {
    let mut lowest: Option<u8> = None;
    for code in line_statuses {
        let code = code
            .as_deref()
            .ok_or_else(|| missing("PPS200MI/LstLine", "PUSL"))?;
        let value: u8 = code.trim().parse().map_err(|_| {
            invalid(
                "PPS200MI/LstLine",
                "PUSL",
                code,
                "an M3 line status (05-99)",
            )
        })?;
        lowest = Some(lowest.map_or(value, |l| l.min(value)));
    }
    Ok(match lowest {
        None | Some(99..) => PoStatus::Cancelled,
        Some(0..=19) => PoStatus::Planned,
        Some(20..=74) => PoStatus::Ordered,
        Some(75..=98) => PoStatus::Closed,
    })
}

/// M3's change date (no time) as a time: midnight UTC.
fn m3_changed(day: Option<NaiveDate>) -> Option<DateTime<Utc>> {
    day.and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
}

/// An M3 purchase order from `PPS200MI/GetHead` and `LstLine`. Order date (`PUDT`), item
/// (`ITNO`), quantity (`ORQA`) and line number (`PNLI`) are required; a line without a price
/// (`PUPR`) is priced 0, as over IDO. The requested date is the head's `DWDT`, else the
/// earliest line's. `modified_at` is the newest change date the tenant returns (a field map
/// naming `changed_on`), else `read_at` (the window's upper bound: the documented outputs
/// carry no change date).
pub(crate) fn m3_purchase_order(
    head: mi::PurchaseOrderHead,
    lines: Vec<mi::PurchaseOrderLine>,
    read_at: DateTime<Utc>,
    cx: &Context<'_>,
) -> Result<PurchaseOrder> {
    const HEAD: &str = "PPS200MI/GetHead";
    const LINE: &str = "PPS200MI/LstLine";
    let status = m3_po_status(&lines.iter().map(|l| l.status.clone()).collect::<Vec<_>>())?;
    let modified_at = std::iter::once(m3_changed(head.changed_on))
        .chain(lines.iter().map(|l| m3_changed(l.changed_on)))
        .flatten()
        .max()
        .unwrap_or(read_at);
    let required_by = head
        .delivery_date
        .or_else(|| lines.iter().filter_map(|l| l.delivery_date).min());
    let mut lines = lines
        .into_iter()
        .map(|line| {
            let line_no = line.line.ok_or_else(|| missing(LINE, "PNLI"))?;
            let sku = line.item.clone().ok_or_else(|| missing(LINE, "ITNO"))?;
            Ok(PoLine {
                line_no: u32::try_from(line_no)
                    .map_err(|_| invalid(LINE, "PNLI", &line_no.to_string(), "a line number"))?,
                description: line.description.clone().unwrap_or_else(|| sku.clone()),
                sku,
                quantity: line.quantity.ok_or_else(|| missing(LINE, "ORQA"))?,
                unit_price: line.price.unwrap_or(Decimal::ZERO),
                tax_rule: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    lines.sort_by_key(|l| l.line_no);
    Ok(PurchaseOrder {
        identity: cx.identity(&head.order),
        vendor_id: head.supplier.clone().ok_or_else(|| missing(HEAD, "SUNO"))?,
        order_date: head.order_date.ok_or_else(|| missing(HEAD, "PUDT"))?,
        required_by,
        currency: head
            .currency
            .clone()
            .unwrap_or_else(|| cx.default_currency.to_owned()),
        location: head.warehouse.clone(),
        status,
        memo: head.reference.clone(),
        lines,
        modified_at,
        po_number: head.order,
    })
}

/// An M3 supplier invoice from `APS200MI/GetInvoice` and its batch lines
/// (`APS450MI/LstLines`). Each batch line with an amount is one line allocated to its GL
/// account (`AIT1`; empty when the line names none, which the GL mapping reports), at its
/// quantity and net price when both are given, else quantity 1 at the net line amount. An
/// invoice without batch lines is one line at the invoice amount (`CUAM`) with no account.
/// The identity id is `SUNO/SINO` ([`super::m3_purchases::invoice_id`]).
pub(crate) fn m3_invoice(
    head: mi::SupplierInvoice,
    lines: Vec<mi::InvoiceBatchLine>,
    read_at: DateTime<Utc>,
    cx: &Context<'_>,
) -> Result<SupplierInvoice> {
    const HEAD: &str = "APS200MI/GetInvoice";
    let description = |n: usize| format!("Invoice {} line {n}", head.invoice);
    let mut out = Vec::new();
    for line in lines
        .iter()
        .filter(|l| l.amount.is_some() || l.price.is_some())
    {
        let n = out.len() + 1;
        let (quantity, unit_price) = match (line.quantity, line.price, line.amount) {
            (Some(q), Some(p), _) if q != Decimal::ZERO => (q, p),
            (_, _, Some(amount)) => (Decimal::ONE, amount),
            (_, Some(p), None) => (Decimal::ONE, p),
            (_, None, None) => continue,
        };
        out.push(InvoiceLine {
            line_no: u32::try_from(n).unwrap_or(u32::MAX),
            sku: line.item.clone(),
            description: line.item.clone().unwrap_or_else(|| description(n)),
            quantity,
            unit_price,
            gl_account: line.account.clone().unwrap_or_default(),
            tax_rule: line.tax_code.clone(),
        });
    }
    if out.is_empty() {
        out.push(InvoiceLine {
            line_no: 1,
            sku: None,
            description: description(1),
            quantity: Decimal::ONE,
            unit_price: head.amount.ok_or_else(|| missing(HEAD, "CUAM"))?,
            gl_account: String::new(),
            tax_rule: None,
        });
    }
    Ok(SupplierInvoice {
        identity: cx.identity(&super::m3_purchases::invoice_id(
            &head.supplier,
            &head.invoice,
        )),
        invoice_number: head.invoice.clone(),
        vendor_id: head.supplier.clone(),
        po_id: head.order.clone(),
        invoice_date: head.invoice_date.ok_or_else(|| missing(HEAD, "IVDT"))?,
        due_date: head.due_date,
        currency: head
            .currency
            .clone()
            .unwrap_or_else(|| cx.default_currency.to_owned()),
        lines: out,
        modified_at: read_at,
    })
}
