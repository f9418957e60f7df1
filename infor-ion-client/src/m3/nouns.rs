//! Typed M3 lists for the SDK's nouns, with the output fields each tenant may name differently.
//!
//! Programs and transactions are those Infor's M3 API material and third-party clients name
//! (see `docs/assumptions.md`, "M3 MI").
//! The default output field names are M3's standard ones (`SUNO` supplier, `CUNO` customer,
//! `ITNO` item, `PUNO` purchase order, `SINO` supplier invoice, `LMDT` change date). Tenants
//! differ (custom fields, other MI versions), so each noun's fields are read through a
//! [`FieldMap`] (the noun's field, e.g. `name`, to the tenant's output field, e.g. `SUNM`) and
//! the transaction itself can be replaced, both set on the [`M3`] handle:
//!
//! ```
//! use infor_ion_client::m3::nouns::{FieldMap, MiShape, Supplier};
//!
//! # fn run(client: infor_ion_client::IonClient) -> Result<(), infor_ion_client::Error> {
//! let m3 = client
//!     .m3()
//!     .company("100")
//!     // This tenant keeps the supplier's name in a custom field.
//!     .fields::<Supplier>(FieldMap::new().map("name", "ZZSUNM"))?
//!     // And lists suppliers with its own transaction, paged by `FRSU` on `supplier`.
//!     .shape::<Supplier>(
//!         MiShape::new()
//!             .transaction("CMS100MI", "LstZZSupp")
//!             .key_range("FRSU", "supplier")
//!             .fields(FieldMap::new().map("name", "ZZSUNM")),
//!     )?;
//! assert_eq!(m3.layout::<Supplier>()?.name(), "CMS100MI/LstZZSupp");
//! # Ok(()) }
//! ```
//!
//! Every list asks only for the mapped columns (`returncols`). A row without a *required* field
//! is [`Error::MiFieldMissing`] naming the transaction, the output field and the map entry; an
//! optional field the row lacks is `None`. Check a transaction's output on the tenant with
//! `MRS001MI/LstFields`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use futures::{Stream, StreamExt, TryStreamExt};

use super::{M3, MiCall, is_identifier};
use crate::error::{Error, Result};
use crate::values::Record;

/// One field a noun reads from its transaction's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiField {
    /// The noun's field, the name a [`FieldMap`] uses (e.g. `supplier`).
    pub name: &'static str,
    /// M3's standard output field, read unless the map says otherwise (e.g. `SUNO`). Empty
    /// when the transaction's documented output does not carry the field: it is then neither
    /// asked for nor read unless a [`FieldMap`] names the tenant's column (e.g. `LMDT` or
    /// `STAT` for `CRS620MI/LstSuppliers`, which a tenant may return via `returncols`).
    pub default_column: &'static str,
    /// Whether a row without it is an error ([`Error::MiFieldMissing`]); optional fields the
    /// row lacks are `None`.
    pub required: bool,
}

/// A record type listed by one M3 transaction.
pub trait MiNoun: Sized + Send + 'static {
    /// The noun's name, for messages and the per-noun settings on [`M3`] (e.g. `Supplier`).
    const NAME: &'static str;
    /// The default program, e.g. `CRS620MI`.
    const PROGRAM: &'static str;
    /// The default list transaction, e.g. `LstSuppliers`.
    const TRANSACTION: &'static str;
    /// For lists paged by key range: the inclusive "from" input and the noun field holding the
    /// key (e.g. `FRSU` / `supplier`). `None` for lists read in one call.
    const KEY_RANGE: Option<(&'static str, &'static str)> = None;
    /// The fields the noun reads.
    const FIELDS: &'static [MiField];

    /// Build the noun from a row, reading each field through the row's layout.
    fn from_row(row: MiRow<'_>) -> Result<Self>;
}

/// The noun's fields mapped to a tenant's MI output fields: `map("name", "ZZSUNM")` reads the
/// noun's `name` from the output field `ZZSUNM`. Fields not mapped keep M3's standard name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap(BTreeMap<String, String>);

impl FieldMap {
    /// An empty map: every field keeps its standard name.
    pub fn new() -> Self {
        FieldMap::default()
    }

    /// Read the noun's `field` from the output field `column`.
    pub fn map(mut self, field: impl Into<String>, column: impl Into<String>) -> Self {
        self.0.insert(field.into(), column.into());
        self
    }

    /// The output field `field` is mapped to, if mapped.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Every entry, by noun field.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn merge(&mut self, other: FieldMap) {
        self.0.extend(other.0);
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for FieldMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        FieldMap(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// How one noun is read on a tenant: the transaction, its key range and the field map. Unset
/// parts keep the noun's defaults. Set it with [`M3::shape`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MiShape {
    transaction: Option<(String, String)>,
    /// `None`: the noun's default; `Some(None)`: read in one call.
    key_range: Option<Option<(String, String)>>,
    fields: FieldMap,
}

impl MiShape {
    /// The noun's defaults.
    pub fn new() -> Self {
        MiShape::default()
    }

    /// List with another program and transaction (e.g. a `CMS100MI` custom list).
    pub fn transaction(
        mut self,
        program: impl Into<String>,
        transaction: impl Into<String>,
    ) -> Self {
        self.transaction = Some((program.into(), transaction.into()));
        self
    }

    /// Page the list by key range: `from_input` is the transaction's inclusive "from" input
    /// (e.g. `FRSU`), `key_field` the noun field whose output holds the key (e.g. `supplier`).
    pub fn key_range(
        mut self,
        from_input: impl Into<String>,
        key_field: impl Into<String>,
    ) -> Self {
        self.key_range = Some(Some((from_input.into(), key_field.into())));
        self
    }

    /// Read the list in one call; a full page is then [`Error::MiListTruncated`].
    pub fn without_key_range(mut self) -> Self {
        self.key_range = Some(None);
        self
    }

    /// Map fields to the tenant's output fields (added to any mapped before).
    pub fn fields(mut self, fields: FieldMap) -> Self {
        self.fields.merge(fields);
        self
    }

    /// The layout this shape gives noun `N`, checked: every mapped field must be one of `N`'s,
    /// and program, transaction, inputs and output fields must be MI identifiers.
    pub fn layout<N: MiNoun>(&self) -> Result<MiLayout> {
        let invalid = |what: String| Err(Error::InvalidRequest(what));
        let known = |field: &str| N::FIELDS.iter().any(|f| f.name == field);
        let names = || {
            N::FIELDS
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (program, transaction) = self
            .transaction
            .clone()
            .unwrap_or_else(|| (N::PROGRAM.to_owned(), N::TRANSACTION.to_owned()));
        if !is_identifier(&program) || !is_identifier(&transaction) {
            return invalid(format!(
                "M3 {}: `{program}/{transaction}` is not a valid MI program/transaction name",
                N::NAME
            ));
        }
        for (field, column) in self.fields.iter() {
            if !known(field) {
                return invalid(format!(
                    "M3 {}: the field map names `{field}`, which is not a field of {} (its \
                     fields are {})",
                    N::NAME,
                    N::NAME,
                    names()
                ));
            }
            if !is_identifier(column) {
                return invalid(format!(
                    "M3 {}: the field map entry {field} = `{column}` is not a valid MI field name",
                    N::NAME
                ));
            }
        }
        let key_range = match &self.key_range {
            Some(range) => range.clone(),
            None => N::KEY_RANGE.map(|(i, k)| (i.to_owned(), k.to_owned())),
        };
        if let Some((input, key)) = &key_range {
            if !is_identifier(input) {
                return invalid(format!(
                    "M3 {}: the key-range input `{input}` is not a valid MI field name",
                    N::NAME
                ));
            }
            if !known(key) {
                return invalid(format!(
                    "M3 {}: the key-range field `{key}` is not a field of {} (its fields are {})",
                    N::NAME,
                    N::NAME,
                    names()
                ));
            }
        }
        let columns = N::FIELDS
            .iter()
            .map(|f| match self.fields.get(f.name) {
                Some(column) => (*f, column.to_owned(), true),
                None => (*f, f.default_column.to_owned(), false),
            })
            .collect();
        Ok(MiLayout {
            noun: N::NAME,
            program,
            transaction,
            key_range,
            columns,
        })
    }
}

/// A noun's shape resolved for one tenant: what [`M3::list`] calls and how it reads rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiLayout {
    noun: &'static str,
    program: String,
    transaction: String,
    key_range: Option<(String, String)>,
    /// The noun's field, its output field, and whether that was configured.
    columns: Vec<(MiField, String, bool)>,
}

impl MiLayout {
    /// The noun, e.g. `Supplier`.
    pub fn noun(&self) -> &str {
        self.noun
    }

    /// The program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The transaction.
    pub fn transaction(&self) -> &str {
        &self.transaction
    }

    /// `PROGRAM/Transaction`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.program, self.transaction)
    }

    /// The output field a noun field is read from.
    pub fn column(&self, field: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(f, _, _)| f.name == field)
            .map(|(_, c, _)| c.as_str())
    }

    /// The key range, as the "from" input and the output field holding the key.
    pub fn key_range(&self) -> Option<(&str, &str)> {
        let (input, key) = self.key_range.as_ref()?;
        Some((input.as_str(), self.column(key)?))
    }

    /// The output fields to ask for (`returncols`), each once, in the noun's order. Fields
    /// outside the transaction's documented output that are not mapped are left out.
    pub fn return_columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (_, column, _) in &self.columns {
            if !column.is_empty() && !out.contains(&column.as_str()) {
                out.push(column);
            }
        }
        out
    }

    /// The noun's fields with their output fields and whether each is required; fields with
    /// no output field (outside the documented output and not mapped) are left out.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &str, bool)> {
        self.columns
            .iter()
            .filter(|(_, c, _)| !c.is_empty())
            .map(|(f, c, _)| (f.name, c.as_str(), f.required))
    }

    /// Whether the noun's `field` is read on this tenant: it is in the transaction's
    /// documented output or the field map names a column for it.
    pub fn reads(&self, field: &str) -> bool {
        self.column(field).is_some_and(|c| !c.is_empty())
    }

    fn entry(&self, field: &str) -> Result<&(MiField, String, bool)> {
        // Only the noun's own code names fields, so an unknown one is a bug in that code; it
        // still gets an error rather than a panic.
        self.columns
            .iter()
            .find(|(f, _, _)| f.name == field)
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "M3 {}: `{field}` is not one of its fields",
                    self.noun
                ))
            })
    }

    /// The error for a row without the required field of `entry`.
    fn missing(&self, (f, column, configured): &(MiField, String, bool)) -> Error {
        Error::MiFieldMissing {
            program: self.program.clone(),
            transaction: self.transaction.clone(),
            noun: self.noun.to_owned(),
            canonical: f.name.to_owned(),
            field: column.clone(),
            configured: *configured,
        }
    }
}

/// One MI row being read as a noun: values are looked up by noun field through the layout.
#[derive(Debug)]
pub struct MiRow<'a> {
    record: Record,
    layout: &'a MiLayout,
}

impl<'a> MiRow<'a> {
    /// A row read with `layout`.
    pub fn new(record: Record, layout: &'a MiLayout) -> Self {
        MiRow { record, layout }
    }

    /// A required field's text, or [`Error::MiFieldMissing`].
    pub fn required(&self, field: &str) -> Result<String> {
        let entry = self.layout.entry(field)?;
        self.record
            .text(&entry.1)
            .map(str::to_owned)
            .ok_or_else(|| self.layout.missing(entry))
    }

    /// The output field an optional `field` is read from; `None` when the field is not read
    /// on this tenant (outside the documented output and not mapped).
    fn optional_column(&self, field: &str) -> Result<Option<&str>> {
        let column = self.layout.entry(field)?.1.as_str();
        Ok((!column.is_empty()).then_some(column))
    }

    /// An optional field's text; `None` when the row lacks it or it is blank.
    pub fn text(&self, field: &str) -> Result<Option<String>> {
        Ok(self
            .optional_column(field)?
            .and_then(|c| self.record.text(c))
            .map(str::to_owned))
    }

    /// An optional decimal field; a value that is not a number is an error naming it.
    pub fn decimal(&self, field: &str) -> Result<Option<rust_decimal::Decimal>> {
        match self.optional_column(field)? {
            Some(column) => self.record.decimal(column),
            None => Ok(None),
        }
    }

    /// An optional integer field.
    pub fn integer(&self, field: &str) -> Result<Option<i64>> {
        match self.optional_column(field)? {
            Some(column) => self.record.integer(column),
            None => Ok(None),
        }
    }

    /// An optional date field (`yyyyMMdd`).
    pub fn date(&self, field: &str) -> Result<Option<NaiveDate>> {
        match self.optional_column(field)? {
            Some(column) => self.record.date(column),
            None => Ok(None),
        }
    }

    /// The whole row.
    pub fn into_record(self) -> Record {
        self.record
    }
}

/// Declares an M3 noun. Not [`typed_record!`](crate::values::typed_record): fields are read by
/// noun field through the tenant's [`MiLayout`], so a missing or bad value names the tenant's
/// output field and the map entry; the kinds, their types and the value parsing are shared.
macro_rules! mi_noun {
    (
        $(#[$meta:meta])*
        $name:ident from $program:literal / $transaction:literal, range $range:expr;
        { $( $(#[$fmeta:meta])* $field:ident : $kind:ident $column:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: crate::values::typed_record!(@type $kind), )+
            /// The whole row as read (the columns asked for).
            pub raw: Record,
        }

        impl MiNoun for $name {
            const NAME: &'static str = stringify!($name);
            const PROGRAM: &'static str = $program;
            const TRANSACTION: &'static str = $transaction;
            const KEY_RANGE: Option<(&'static str, &'static str)> = $range;
            const FIELDS: &'static [MiField] = &[$(
                MiField {
                    name: stringify!($field),
                    default_column: $column,
                    required: mi_noun!(@required $kind),
                },
            )+];

            fn from_row(row: MiRow<'_>) -> Result<Self> {
                Ok($name {
                    $( $field: mi_noun!(@read $kind, row, stringify!($field)), )+
                    raw: row.into_record(),
                })
            }
        }
    };
    (@required required) => { true };
    (@required $other:ident) => { false };
    (@read required, $r:ident, $f:expr) => { $r.required($f)? };
    (@read text, $r:ident, $f:expr) => { $r.text($f)? };
    (@read decimal, $r:ident, $f:expr) => { $r.decimal($f)? };
    (@read integer, $r:ident, $f:expr) => { $r.integer($f)? };
    (@read date, $r:ident, $f:expr) => { $r.date($f)? };
}
mi_noun! {
    /// A supplier from `CRS620MI/LstSuppliers` (input `LMTS` selects suppliers changed since a
    /// timestamp, see [`lmts`]). The list's documented output carries neither the status nor a
    /// change date: `status` and `changed_on` are read only when the tenant's field map names
    /// a column for them (returned via `returncols`); otherwise the sync source reads the
    /// status from `CRS620MI/GetBasicData` (see `docs/m3.md`).
    Supplier from "CRS620MI" / "LstSuppliers", range Some(("FRSU", "supplier"));
    {
        /// The supplier number.
        supplier: required "SUNO",
        /// The name.
        name: text "SUNM",
        /// The status (`20` active, `90` blocked); not in the list's documented output, read
        /// only when mapped (e.g. `map("status", "STAT")`).
        status: text "",
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
        /// The change date; not in the list's documented output, read only when mapped (e.g.
        /// `map("changed_on", "LMDT")`).
        changed_on: date "",
    }
}

mi_noun! {
    /// The calling M3 user's defaults, from `MNS150MI/GetUserData` (no inputs: the user the
    /// token is for). The output names come from third-party M3 clients, **unconfirmed** by
    /// Infor's documentation; read with [`M3::user_defaults`].
    UserData from "MNS150MI" / "GetUserData", range None;
    {
        /// The M3 user id.
        user: required "USID",
        /// The user's default company: where calls without `cono` run.
        company: text "CONO",
        /// The user's default division: where calls without `divi` run.
        division: text "DIVI",
        /// The user's name.
        name: text "NAME",
    }
}

mi_noun! {
    /// A customer from `CRS610MI/LstByNumber`.
    Customer from "CRS610MI" / "LstByNumber", range Some(("CUNO", "customer"));
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
    /// Paged by change date: each call asks from the last change date read (`FLMD`), items
    /// told apart by number, so a server cap below `maxrecs` cannot cut the list short. That
    /// the answer is ordered by change date is **unconfirmed** (see `docs/assumptions.md`).
    Item from "MMS200MI" / "LstItmByChgDate", range Some(("FLMD", "changed_on"));
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
    /// A purchase order line from `PPS200MI/LstLine` (input `PUNO`). Paged by `PNLI` (the
    /// line number as the "from" input), so a server cap below `maxrecs` cannot cut a long
    /// order short; that `PNLI` positions the list is **unconfirmed** (a tenant where it is an
    /// exact match still reads every line in the first call, and the second adds nothing).
    PurchaseOrderLine from "PPS200MI" / "LstLine", range Some(("PNLI", "line"));
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
        /// The purchase order item name.
        description: text "PITD",
        /// The change date; not in the transaction's documented output, read only when mapped
        /// (e.g. `map("changed_on", "LMDT")`).
        changed_on: date "",
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
        /// The requested delivery date.
        delivery_date: date "DWDT",
        /// The warehouse.
        warehouse: text "WHLO",
        /// The payment terms.
        terms: text "TEPY",
        /// Your reference (`YRE1`), free text.
        reference: text "YRE1",
        /// The lowest line status; not in `GetHead`'s documented output (it is in
        /// `SearchHead`'s and `LstLine`'s), read only when mapped.
        lowest_status: text "",
        /// The highest line status; read only when mapped.
        highest_status: text "",
        /// The change date; not in the documented output, read only when mapped.
        changed_on: date "",
    }
}

mi_noun! {
    /// A purchase order head found by `PPS200MI/SearchHead` (input `SQRY`, an M3 search
    /// query), the documented way to find heads: `PPS200MI` has no plain list of heads. Read
    /// with [`M3::search`], paged by a `PUNO` range in the query.
    PurchaseOrderSearch from "PPS200MI" / "SearchHead", range None;
    {
        /// The PO number.
        order: required "PUNO",
        /// The supplier.
        supplier: text "SUNO",
        /// The order date.
        order_date: date "PUDT",
        /// The lowest line status.
        lowest_status: text "PUSL",
        /// The highest line status.
        highest_status: text "PUST",
        /// The warehouse.
        warehouse: text "WHLO",
    }
}

mi_noun! {
    /// A supplier invoice found by `APS200MI/SearchSupInvoic` (input `SQRY`). Its output
    /// fields beyond the supplier and invoice number are **unconfirmed**; map them if the
    /// tenant names them otherwise.
    SupplierInvoiceSearch from "APS200MI" / "SearchSupInvoic", range None;
    {
        /// The supplier.
        supplier: required "SUNO",
        /// The supplier's invoice number.
        invoice: required "SINO",
    }
}

mi_noun! {
    /// The invoice batches of one supplier invoice, from `APS450MI/LstInvBySupInv` (inputs
    /// `SPYN`, `SUNO`, `SINO`).
    InvoiceBatch from "APS450MI" / "LstInvBySupInv", range None;
    {
        /// The invoice batch number.
        batch: required "INBN",
    }
}

mi_noun! {
    /// A line of an invoice batch, from `APS450MI/LstLines` (input `INBN`): the invoice's
    /// lines and GL distribution. The output field names are **unconfirmed** (they are the
    /// names `APS450MI/AddLine` takes as inputs, plus `AIT1` for the account); map them with
    /// `M3::fields::<InvoiceBatchLine>` when the tenant differs.
    InvoiceBatchLine from "APS450MI" / "LstLines", range None;
    {
        /// The invoice batch number.
        batch: required "INBN",
        /// The line type (`RDTP`: `1` goods received, `2` charge, `8` accounting line, ...).
        line_type: text "RDTP",
        /// The item, on goods lines.
        item: text "ITNO",
        /// The invoiced quantity.
        quantity: decimal "IVQA",
        /// The net price.
        price: decimal "NEPR",
        /// The net line amount.
        amount: decimal "NLAM",
        /// The GL account (accounting dimension 1).
        account: text "AIT1",
        /// The VAT code.
        tax_code: text "VTCD",
        /// The PO the line matches.
        order: text "PUNO",
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
        /// The VAT amount.
        tax: decimal "VTAM",
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
    /// required: `1` for the account dimension). Read in one call: a third-party generated
    /// client lists `AITM` as an input, but no source says it positions the list, so a full
    /// page is an error rather than a guess; a tenant where `AITM` positions the list can page
    /// it with `MiShape::new().key_range("AITM", "account")`.
    GlAccount from "CRS630MI" / "LstAccountID", range None;
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

/// The `LMTS` input of `CRS620MI/LstSuppliers` selecting rows changed since `since`: M3's
/// change timestamp as milliseconds since 1970-01-01 UTC, one millisecond before `since`, so
/// the selection includes `since` whether M3 compares with `>` or `>=`. The format, zone and
/// comparison are an assumption (`docs/assumptions.md`, "M3 `LMTS`"); `ping` checks them
/// (`CloudSuiteSource::probe_lmts`, feature `sync`).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use infor_ion_client::m3::nouns::lmts;
///
/// let since = Utc.with_ymd_and_hms(2026, 2, 1, 14, 0, 0).unwrap();
/// assert_eq!(lmts(since), "1769954399999");
/// ```
pub fn lmts(since: chrono::DateTime<chrono::Utc>) -> String {
    (since.timestamp_millis() - 1).max(0).to_string()
}

impl M3 {
    /// Read noun `N` with these field mappings (added to any set before), on its current
    /// transaction. Fails when the map names a field `N` does not have or an output field that
    /// is not an MI field name.
    pub fn fields<N: MiNoun>(self, fields: FieldMap) -> Result<Self> {
        let shape = self.shapes.get(N::NAME).cloned().unwrap_or_default();
        self.shape::<N>(shape.fields(fields))
    }

    /// Read noun `N` with this shape (transaction, key range, field map), replacing any set
    /// before. Checked as [`MiShape::layout`] checks it.
    pub fn shape<N: MiNoun>(mut self, shape: MiShape) -> Result<Self> {
        shape.layout::<N>()?;
        self.shapes.insert(N::NAME, shape);
        Ok(self)
    }

    /// The layout [`M3::list`] uses for `N` on this handle.
    pub fn layout<N: MiNoun>(&self) -> Result<MiLayout> {
        self.shapes
            .get(N::NAME)
            .cloned()
            .unwrap_or_default()
            .layout::<N>()
    }

    /// List a noun, asking only for its mapped columns (`returncols`).
    ///
    /// With a key range (suppliers by `FRSU`, customers by `CUNO`, items by change date
    /// `FLMD`, or one set with [`MiShape::key_range`]) the list is paged: each call asks for
    /// `page_size` rows (`maxrecs`) from the last key on (M3's "from" inputs are inclusive, so rows already read
    /// come back first and are dropped: a row is its key and its required fields) until a call
    /// adds no row. A page shorter than `page_size` is not the end: a server may cap the rows
    /// per call below `maxrecs`, so the list always asks once more. A call that adds no row
    /// although it returned rows past the last key, or that returns only rows at the last key
    /// and as many as a call can return (`page_size`, or a server cap seen earlier: more rows
    /// share one key than one call holds), is [`Error::PagingStuck`]; rows already read are never yielded twice. Without a key
    /// range the list is one call, and a page that comes back full is
    /// [`Error::MiListTruncated`], never a silently shortened list.
    /// `page_size` is at least 2, so a page can always move past the repeated row.
    ///
    /// `inputs` are the transaction's own inputs (e.g. `("AITP", "1")`, `("FLMD", "20260101")`);
    /// on later pages the key-range input is replaced by the last key read.
    pub fn list<N: MiNoun>(
        &self,
        inputs: Vec<(String, String)>,
        page_size: u32,
    ) -> impl Stream<Item = Result<N>> + Send + use<N> {
        match self.layout::<N>() {
            Err(err) => futures::stream::once(std::future::ready(Err(err))).left_stream(),
            Ok(layout) => pages(self.clone(), layout, inputs, None, page_size.max(2))
                .map_ok(|(rows, layout)| {
                    futures::stream::iter(
                        rows.into_iter()
                            .map(move |row| N::from_row(MiRow::new(row, &layout))),
                    )
                })
                .try_flatten()
                .right_stream(),
        }
    }
}

/// A search transaction (`SQRY`) paged by a key range in its query: see [`M3::search`].
#[derive(Debug, Clone)]
struct SearchPaging {
    /// The query without the range (`PUNO:*`, `SUNO:V0001 AND PUSL:20`, ...).
    query: String,
    /// The search field the range is on (e.g. `PUNO`).
    field: String,
    /// The noun field holding that key.
    key_field: String,
}

/// The `SQRY` of a search page: `query` narrowed to keys from `from` on (inclusive,
/// `FIELD:[from TO *]`).
///
/// ```
/// use infor_ion_client::m3::nouns::search_query;
/// assert_eq!(search_query("PUNO:*", "PUNO", None), "PUNO:*");
/// assert_eq!(search_query("", "PUNO", None), "PUNO:*");
/// assert_eq!(search_query("PUNO:*", "PUNO", Some("1000042")), "PUNO:[1000042 TO *]");
/// assert_eq!(
///     search_query("SUNO:V0001", "PUNO", Some("1000042")),
///     "SUNO:V0001 AND PUNO:[1000042 TO *]"
/// );
/// ```
pub fn search_query(query: &str, field: &str, from: Option<&str>) -> String {
    let query = query.trim();
    let all = query.is_empty() || query == format!("{field}:*");
    match from {
        None if query.is_empty() => format!("{field}:*"),
        None => query.to_owned(),
        Some(from) if all => format!("{field}:[{from} TO *]"),
        Some(from) => format!("{query} AND {field}:[{from} TO *]"),
    }
}

impl M3 {
    /// Find noun `N` with its search transaction (input `SQRY`, e.g. `PPS200MI/SearchHead`),
    /// asking only for its mapped columns.
    ///
    /// Paged like a key-range list, with the range in the query: the first call sends `query`
    /// (all keys: `FIELD:*`), each next one `query AND FIELD:[<last key> TO *]`, until a call
    /// adds no row not read before; a page shorter than `page_size` is not the end (a server
    /// may cap rows per call). `field` is the search field of the key, `key_field` the noun
    /// field holding it. Rows are told apart by all of `N`'s required fields (an invoice is
    /// its supplier and number), so rows sharing the key across pages are each read once. The
    /// range syntax and the order of the answer (by key) are **unconfirmed** M3 behaviour:
    /// see `docs/assumptions.md`, "M3 search paging".
    pub fn search<N: MiNoun>(
        &self,
        query: &str,
        field: &str,
        key_field: &str,
        page_size: u32,
    ) -> impl Stream<Item = Result<N>> + Send + use<N> {
        let search = SearchPaging {
            query: query.to_owned(),
            field: field.to_owned(),
            key_field: key_field.to_owned(),
        };
        match self.layout::<N>() {
            Err(err) => futures::stream::once(std::future::ready(Err(err))).left_stream(),
            Ok(layout) => pages(
                self.clone(),
                layout,
                Vec::new(),
                Some(search),
                page_size.max(2),
            )
            .map_ok(|(rows, layout)| {
                futures::stream::iter(
                    rows.into_iter()
                        .map(move |row| N::from_row(MiRow::new(row, &layout))),
                )
            })
            .try_flatten()
            .right_stream(),
        }
    }
}

/// The pages of a list, each with the layout to read it (shared, not copied, between pages).
fn pages(
    m3: M3,
    layout: MiLayout,
    inputs: Vec<(String, String)>,
    search: Option<SearchPaging>,
    page_size: u32,
) -> impl Stream<Item = Result<(Vec<Record>, std::sync::Arc<MiLayout>)>> + Send {
    struct State {
        m3: M3,
        layout: std::sync::Arc<MiLayout>,
        inputs: Vec<(String, String)>,
        search: Option<SearchPaging>,
        from: Option<String>,
        /// The rows read so far, by key and required fields: a call adding none ends the list.
        seen: std::collections::HashSet<String>,
        /// The rows of the previous call when it was shorter than `page_size`.
        last_short: Option<usize>,
        /// A server cap per call below `page_size`, once seen: a short call followed by one
        /// that added rows.
        cap: Option<usize>,
        done: bool,
    }
    let state = State {
        m3,
        layout: std::sync::Arc::new(layout),
        inputs,
        search,
        from: None,
        seen: std::collections::HashSet::new(),
        last_short: None,
        cap: None,
        done: false,
    };
    futures::stream::try_unfold(state, move |mut state| async move {
        if state.done {
            return Ok(None);
        }
        let layout = state.layout.clone();
        let key = match (&state.search, &layout.key_range) {
            (Some(search), _) => Some(("SQRY", layout.entry(&search.key_field)?)),
            (None, Some((input, field))) => Some((input.as_str(), layout.entry(field)?)),
            (None, None) => None,
        };
        let mut call = MiCall::new(layout.program(), layout.transaction())
            .max_records(page_size)
            .return_columns(layout.return_columns());
        for (field, value) in &state.inputs {
            let replaced = state.from.is_some() && key.is_some_and(|(input, _)| input == field);
            if !replaced {
                call = call.input(field, value);
            }
        }
        let Some((from_input, key)) = key else {
            state.done = true;
            let rows = state.m3.execute(call).await?;
            if rows.len() >= page_size as usize {
                return Err(Error::MiListTruncated {
                    program: layout.program().to_owned(),
                    transaction: layout.transaction().to_owned(),
                    rows: page_size,
                });
            }
            return Ok(Some(((rows, layout.clone()), state)));
        };
        let key_column = key.1.as_str();
        if let Some(search) = &state.search {
            call = call.input(
                "SQRY",
                search_query(&search.query, &search.field, state.from.as_deref()),
            );
        } else if let Some(from) = &state.from {
            call = call.input(from_input, from);
        }
        let mut rows = state.m3.execute(call).await?;
        if rows.is_empty() {
            // Only a call that adds nothing past the last key ends the list. A short page does
            // not: a server may cap the rows per call below `maxrecs`.
            state.done = true;
            return Ok(Some(((rows, layout.clone()), state)));
        }
        // Without its key a row cannot position the next page: name the field.
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            keys.push(
                row.text(key_column)
                    .ok_or_else(|| layout.missing(key))?
                    .to_owned(),
            );
        }
        let returned = rows.len();
        // M3's "from" inputs are inclusive, so each page starts with rows already read. A row
        // is told apart by its key and every required field: the key alone may be shared (a
        // change date, an invoice number across suppliers, a line number across orders).
        let identities: Vec<String> = rows
            .iter()
            .zip(&keys)
            .map(|(row, key)| {
                std::iter::once(key.as_str())
                    .chain(
                        layout
                            .fields()
                            .filter(|(_, _, required)| *required)
                            .map(|(_, column, _)| row.text(column).unwrap_or_default()),
                    )
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            })
            .collect();
        let mut fresh = identities.iter().map(|k| state.seen.insert(k.clone()));
        rows.retain(|_| fresh.next().unwrap_or(false));
        let short = (returned < page_size as usize).then_some(returned);
        if !rows.is_empty()
            && let Some(before) = state.last_short
        {
            // A short call, then more rows: the server caps calls at that many.
            state.cap = Some(state.cap.map_or(before, |cap| cap.min(before)));
        }
        state.last_short = short;
        if rows.is_empty() && keys.iter().all(|k| Some(k) == state.from.as_ref()) {
            // Only rows at the boundary key came back, all read on the page before. Fewer than
            // a call can return (`page_size`, or the server's cap once seen): that is every
            // row at that key, the end. As many: the key's rows may go on past the cap, and the
            // next key cannot be reached.
            if returned < state.cap.unwrap_or(page_size as usize) {
                state.done = true;
                return Ok(Some(((rows, layout.clone()), state)));
            }
            return Err(Error::PagingStuck {
                what: layout.name(),
                detail: format!(
                    "{returned} row(s) share {from_input} {:?}, as many as one call returns, so \
                     the rows after them cannot be reached; raise page_size (ion.page_size) or \
                     narrow the inputs",
                    state.from.as_deref().unwrap_or_default()
                ),
            });
        }
        if rows.is_empty() {
            // Rows came back, but none past what was read: the server does not position on
            // the "from" input.
            return Err(Error::PagingStuck {
                what: layout.name(),
                detail: format!(
                    "a call from {from_input} {:?} returned {returned} row(s), none past the \
                     keys already read",
                    state.from.as_deref().unwrap_or_default()
                ),
            });
        }
        state.from = keys.pop();
        Ok(Some(((rows, layout.clone()), state)))
    })
}
