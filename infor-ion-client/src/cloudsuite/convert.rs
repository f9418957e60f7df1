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
