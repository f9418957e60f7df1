//! Typed M3 lists for the SDK's nouns.
//!
//! Programs and transactions follow the reference (`shared/reference/infor-ion-api.md` §4.2).
//! The output field names are M3's standard field names (`SUNO` supplier, `CUNO` customer,
//! `ITNO` item, `PUNO` purchase order, `SINO` supplier invoice, `LMDT` change date); which
//! columns each transaction returns varies by M3 version and is not confirmed by the
//! reference, so every noun keeps the full row in `raw` and reads its fields as optional where
//! they may be absent. Check a transaction's output on the tenant with `MRS001MI/LstFields`.

use chrono::NaiveDate;
use futures::Stream;

use super::{M3, MiCall};
use crate::error::{Error, Result};
use crate::values::{Record, typed_record};

/// A record type listed by one M3 transaction.
pub trait MiNoun: Sized + Send + 'static {
    /// The program, e.g. `CRS620MI`.
    const PROGRAM: &'static str;
    /// The list transaction, e.g. `LstSuppliers`.
    const TRANSACTION: &'static str;
    /// For lists paged by key range: the "from" input and the output key field
    /// (e.g. `FRSU` / `SUNO`). `None` for lists read in one call.
    const KEY_RANGE: Option<(&'static str, &'static str)> = None;

    /// Build the noun from a row.
    fn from_record(record: Record) -> Result<Self>;
}

macro_rules! mi_noun {
    (
        $(#[$meta:meta])*
        $name:ident from $program:literal / $transaction:literal, range $range:expr;
        { $($fields:tt)+ }
    ) => {
        typed_record! { $(#[$meta])* $name { $($fields)+ } }

        impl MiNoun for $name {
            const PROGRAM: &'static str = $program;
            const TRANSACTION: &'static str = $transaction;
            const KEY_RANGE: Option<(&'static str, &'static str)> = $range;

            fn from_record(record: Record) -> Result<Self> {
                $name::parse(record)
            }
        }
    };
}

mi_noun! {
    /// A supplier from `CRS620MI/LstSuppliers` (input `LMTS` selects suppliers changed since a
    /// timestamp).
    Supplier from "CRS620MI" / "LstSuppliers", range Some(("FRSU", "SUNO"));
    {
        /// The supplier number.
        supplier: required "SUNO",
        /// The name.
        name: text "SUNM",
        /// The status (`20` active).
        status: text "STAT",
        /// The currency.
        currency: text "CUCD",
        /// The payment terms.
        terms: text "TEPY",
        /// The phone number.
        phone: text "PHNO",
        /// Address line 1.
        address_1: text "ADR1",
        /// Address line 2.
        address_2: text "ADR2",
        /// The town.
        town: text "TOWN",
        /// The postal code.
        postal_code: text "PONO",
        /// The country.
        country: text "CSCD",
        /// The change date.
        changed_on: date "LMDT",
    }
}

mi_noun! {
    /// A customer from `CRS610MI/LstByNumber`.
    Customer from "CRS610MI" / "LstByNumber", range Some(("CUNO", "CUNO"));
    {
        /// The customer number.
        customer: required "CUNO",
        /// The name.
        name: text "CUNM",
        /// The status.
        status: text "STAT",
        /// The currency.
        currency: text "CUCD",
        /// The payment terms.
        terms: text "TEPY",
        /// The change date.
        changed_on: date "LMDT",
    }
}

mi_noun! {
    /// An item from `MMS200MI/LstItmByChgDate` (inputs `FLMD`/`TLMD` bound the change date).
    Item from "MMS200MI" / "LstItmByChgDate", range None;
    {
        /// The item number.
        item: required "ITNO",
        /// The description.
        description: text "ITDS",
        /// The status.
        status: text "STAT",
        /// The basic unit of measure.
        unit: text "UNMS",
        /// The item type.
        item_type: text "ITTY",
        /// The change date.
        changed_on: date "LMDT",
    }
}

mi_noun! {
    /// A purchase order line from `PPS200MI/LstLine` (input `PUNO`).
    PurchaseOrderLine from "PPS200MI" / "LstLine", range None;
    {
        /// The PO number.
        order: required "PUNO",
        /// The line number.
        line: integer "PNLI",
        /// The line suffix.
        line_suffix: integer "PNLS",
        /// The item.
        item: text "ITNO",
        /// The ordered quantity.
        quantity: decimal "ORQA",
        /// The received quantity.
        received: decimal "RVQA",
        /// The purchase price.
        price: decimal "PUPR",
        /// The purchase unit.
        unit: text "PUUN",
        /// The lowest status.
        status: text "PUSL",
        /// The requested delivery date.
        delivery_date: date "DWDT",
        /// The change date.
        changed_on: date "LMDT",
    }
}

mi_noun! {
    /// A purchase order head from `PPS200MI/GetHead` (input `PUNO`).
    PurchaseOrderHead from "PPS200MI" / "GetHead", range None;
    {
        /// The PO number.
        order: required "PUNO",
        /// The supplier.
        supplier: text "SUNO",
        /// The order date.
        order_date: date "PUDT",
        /// The currency.
        currency: text "CUCD",
        /// The lowest line status.
        lowest_status: text "PUSL",
        /// The highest line status.
        highest_status: text "PUST",
        /// The change date.
        changed_on: date "LMDT",
    }
}

mi_noun! {
    /// A supplier invoice from `APS200MI/GetInvoice` (inputs `SUNO`, `SINO`).
    SupplierInvoice from "APS200MI" / "GetInvoice", range None;
    {
        /// The supplier.
        supplier: required "SUNO",
        /// The supplier's invoice number.
        invoice: required "SINO",
        /// The invoice date.
        invoice_date: date "IVDT",
        /// The amount in invoice currency.
        amount: decimal "CUAM",
        /// The currency.
        currency: text "CUCD",
        /// The due date.
        due_date: date "DUDT",
        /// The PO, when the invoice matches one.
        order: text "PUNO",
    }
}

mi_noun! {
    /// A paid supplier invoice from `APS130MI/LstInvByPayDate`.
    Payment from "APS130MI" / "LstInvByPayDate", range None;
    {
        /// The supplier.
        supplier: required "SUNO",
        /// The supplier's invoice number.
        invoice: text "SINO",
        /// The payment date.
        payment_date: date "PYDT",
        /// The paid amount.
        amount: decimal "CUAM",
        /// The currency.
        currency: text "CUCD",
    }
}

mi_noun! {
    /// A GL account from `CRS630MI/LstAccountID` (input `AITP`, the accounting dimension, is
    /// required: `1` for the account dimension).
    GlAccount from "CRS630MI" / "LstAccountID", range Some(("AITM", "AITM"));
    {
        /// The accounting identity (the account number).
        account: required "AITM",
        /// The accounting dimension.
        dimension: text "AITP",
        /// The name.
        name: text "TX40",
        /// The short name.
        short_name: text "TX15",
        /// The status.
        status: text "STAT",
    }
}

/// The date form M3 inputs take: `yyyyMMdd`.
pub fn mi_date(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

impl M3 {
    /// List a noun. Lists with a key range are paged: each call asks for `page_size` rows from
    /// the last key on (M3's "from" inputs are inclusive, so the repeated first row is dropped)
    /// until a short page. Other lists are read in one call of up to `page_size` rows.
    ///
    /// `inputs` are the transaction's own inputs (e.g. `("AITP", "1")`, `("FLMD", "20260101")`).
    pub fn list<N: MiNoun>(
        &self,
        inputs: Vec<(String, String)>,
        page_size: u32,
    ) -> impl Stream<Item = Result<N>> + Send {
        let page_size = page_size.max(2);
        struct State {
            m3: M3,
            inputs: Vec<(String, String)>,
            from: Option<String>,
            done: bool,
        }
        let state = State {
            m3: self.clone(),
            inputs,
            from: None,
            done: false,
        };
        let pages = futures::stream::try_unfold(state, move |mut state| async move {
            if state.done {
                return Ok(None);
            }
            let mut call = MiCall::new(N::PROGRAM, N::TRANSACTION).max_records(page_size);
            for (field, value) in &state.inputs {
                call = call.input(field, value);
            }
            let Some((from_input, key_field)) = N::KEY_RANGE else {
                state.done = true;
                let rows = state.m3.execute(call).await?;
                return Ok(Some((rows, state)));
            };
            if let Some(from) = &state.from {
                call = call.input(from_input, from);
            }
            let mut rows = state.m3.execute(call).await?;
            let full_page = rows.len() >= page_size as usize;
            if let Some(from) = &state.from
                && rows.first().and_then(|r| r.text(key_field)) == Some(from.as_str())
            {
                rows.remove(0);
            }
            let last = rows
                .last()
                .and_then(|r| r.text(key_field))
                .map(str::to_owned);
            match (full_page, last) {
                (false, _) => state.done = true,
                (true, Some(last)) if state.from.as_deref() != Some(last.as_str()) => {
                    state.from = Some(last);
                }
                (true, _) => {
                    return Err(Error::PagingStuck {
                        what: format!("{}/{}", N::PROGRAM, N::TRANSACTION),
                        detail: format!("a full page did not move past key {:?}", state.from),
                    });
                }
            }
            Ok(Some((rows, state)))
        });
        use futures::TryStreamExt;
        pages
            .map_ok(|rows| futures::stream::iter(rows.into_iter().map(N::from_record)))
            .try_flatten()
    }
}
