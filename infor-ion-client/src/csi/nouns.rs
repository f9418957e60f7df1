//! Typed CloudSuite Industrial nouns and the IDOs they are read from.
//!
//! IDO and property names are those third-party code and Infor's IDO lists use (the sources are
//! in `docs/assumptions.md`); a tenant may differ, which the schema check finds.
//! Sites add and rename properties: [`NounPoll::rename`](super::NounPoll::rename) maps a
//! standard name to the site's, and every noun keeps the full row in `raw`, so extra properties
//! asked for with [`NounPoll::extra_properties`](super::NounPoll::extra_properties) are at hand.
//! Property names no source confirms (payments, distributions; **UNCONFIRMED** in that page)
//! should be checked on the tenant with [`Csi::info`](super::Csi::info).

use crate::error::Result;
use crate::values::Record;

/// A record type read from one IDO.
pub trait IdoNoun: Sized + Send + 'static {
    /// The IDO name (case-sensitive), e.g. `SLVendors`.
    const IDO: &'static str;
    /// The standard properties read.
    const PROPERTIES: &'static [&'static str];
    /// The properties that identify a row, used last in `orderby` so paging is stable.
    const KEY: &'static [&'static str];
    /// The last-modified property incremental polling filters and orders on.
    const MODIFIED: &'static str = "RecordDate";
    /// The status property, for polling by status.
    const STATUS: Option<&'static str> = None;
    /// The properties without which a row is meaningless, besides [`KEY`](Self::KEY) and
    /// [`MODIFIED`](Self::MODIFIED): a tenant whose IDO lacks one cannot be synced from it.
    /// Every other property is optional and left out of the request when the IDO lacks it.
    const REQUIRED: &'static [&'static str] = &[];

    /// Whether a standard property is required: a key, the modified stamp, or in
    /// [`REQUIRED`](Self::REQUIRED).
    ///
    /// ```
    /// use infor_ion_client::csi::IdoNoun;
    /// use infor_ion_client::csi::nouns::Vendor;
    ///
    /// assert!(Vendor::is_required("VendNum"));
    /// assert!(Vendor::is_required("RecordDate"));
    /// assert!(!Vendor::is_required("VadZip"));
    /// ```
    fn is_required(property: &str) -> bool {
        property == Self::MODIFIED
            || Self::KEY.contains(&property)
            || Self::REQUIRED.contains(&property)
    }

    /// Build the noun from a row whose properties carry the standard names.
    fn from_record(record: Record) -> Result<Self>;
}

/// Declares an IDO noun: the struct and its field parser come from
/// [`typed_record!`](crate::values::typed_record), the IDO facts from the header line.
macro_rules! ido_noun {
    (
        $(#[$meta:meta])*
        $name:ident from $ido:literal, key [$($key:literal),+], status $status:expr,
            required [$($required:literal),*];
        { $($fields:tt)+ }
    ) => {
        crate::values::typed_record! { $(#[$meta])* $name { $($fields)+ } }

        impl IdoNoun for $name {
            const IDO: &'static str = $ido;
            const PROPERTIES: &'static [&'static str] = $name::FIELDS;
            const KEY: &'static [&'static str] = &[$($key),+];
            const STATUS: Option<&'static str> = $status;
            const REQUIRED: &'static [&'static str] = &[$($required),*];

            fn from_record(record: Record) -> Result<Self> {
                $name::parse(record)
            }
        }
    };
}

ido_noun! {
    /// A supplier (vendor) from `SLVendors`.
    Vendor from "SLVendors", key ["VendNum"], status Some("Stat"),
        required ["Name"];
    {
        /// The vendor number: the CloudSuite vendor ID suppliers are matched by.
        vend_num: required "VendNum",
        /// The vendor's name.
        name: text "Name",
        /// The currency code.
        currency: text "CurrCode",
        /// The payment terms code.
        terms_code: text "TermsCode",
        /// The payment type.
        pay_type: text "PayType",
        /// The status code (e.g. `A` active).
        status: text "Stat",
        /// The contact name.
        contact: text "Contact",
        /// The phone number.
        phone: text "Phone",
        /// The external e-mail address.
        email: text "ExternalEmailAddr",
        /// Address line 1.
        address_1: text "VadAddr_1",
        /// Address line 2.
        address_2: text "VadAddr_2",
        /// The city.
        city: text "VadCity",
        /// The state or region code.
        state: text "VadStateCode",
        /// The postal code.
        postal_code: text "VadZip",
        /// The country.
        country: text "VadCountry",
        /// The tax code.
        tax_code: text "TaxCode1",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// A purchase order header from `SLPos`.
    PurchaseOrder from "SLPos", key ["PoNum"], status Some("Stat"),
        required ["VendNum", "OrderDate"];
    {
        /// The PO number.
        po_num: required "PoNum",
        /// The vendor number.
        vend_num: required "VendNum",
        /// The order date.
        order_date: date "OrderDate",
        /// The status code (`P` planned, `O` ordered, `F` filled, `C` complete).
        status: text "Stat",
        /// The PO type.
        po_type: text "Type",
        /// The receiving warehouse.
        warehouse: text "Whse",
        /// The payment terms code.
        terms_code: text "TermsCode",
        /// The vendor's order reference.
        vendor_order: text "VendOrder",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// A purchase order line from `SLPoItems`.
    PoLine from "SLPoItems", key ["PoNum", "PoLine", "PoRelease"], status Some("Stat"),
        required ["Item", "QtyOrdered", "ItemCost"];
    {
        /// The PO number.
        po_num: required "PoNum",
        /// The line number.
        po_line: integer "PoLine",
        /// The release number.
        po_release: integer "PoRelease",
        /// The item.
        item: text "Item",
        /// The description.
        description: text "Description",
        /// The quantity ordered.
        qty_ordered: decimal "QtyOrdered",
        /// The quantity received.
        qty_received: decimal "QtyReceived",
        /// The unit cost.
        unit_cost: decimal "ItemCost",
        /// The unit of measure.
        unit: text "UM",
        /// The line status.
        status: text "Stat",
        /// The due date.
        due_date: date "DueDate",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// An unposted A/P voucher (supplier invoice) from `SLAptrxs`.
    ApVoucher from "SLAptrxs", key ["Voucher"], status None,
        required ["VendNum", "InvNum", "InvDate", "InvAmt"];
    {
        /// The vendor number.
        vend_num: required "VendNum",
        /// The voucher number.
        voucher: required "Voucher",
        /// The supplier's invoice number.
        inv_num: text "InvNum",
        /// The invoice date.
        inv_date: date "InvDate",
        /// The invoice amount.
        inv_amount: decimal "InvAmt",
        /// The due date.
        due_date: date "DueDate",
        /// The PO the invoice is for, if any.
        po_num: text "PoNum",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// A voucher distribution line (GL allocation) from `SLAptrxds`. Property names are
    /// unconfirmed (no source lists them): check with `info("SLAptrxds")`.
    ApVoucherDistribution from "SLAptrxds", key ["Voucher", "DistSeq"], status None,
        required ["Acct", "Amount"];
    {
        /// The voucher number.
        voucher: required "Voucher",
        /// The distribution sequence.
        dist_seq: integer "DistSeq",
        /// The GL account.
        account: text "Acct",
        /// The amount.
        amount: decimal "Amount",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// A posted A/P transaction from `SLAptrxps`.
    PostedApTransaction from "SLAptrxps", key ["Voucher"], status None,
        required ["VendNum"];
    {
        /// The vendor number.
        vend_num: required "VendNum",
        /// The voucher number.
        voucher: required "Voucher",
        /// The supplier's invoice number.
        inv_num: text "InvNum",
        /// The invoice date.
        inv_date: date "InvDate",
        /// The invoice amount.
        inv_amount: decimal "InvAmt",
        /// The amount paid.
        amount_paid: decimal "AmtPaid",
        /// The discount taken.
        amount_discount: decimal "AmtDisc",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// An A/P payment from `SLAppmts`. Property names are unconfirmed (no source lists them).
    ApPayment from "SLAppmts", key ["BankCode", "CheckNum", "VendNum"], status None,
        required ["CheckAmt"];
    {
        /// The vendor number.
        vend_num: required "VendNum",
        /// The check or payment number.
        check_num: text "CheckNum",
        /// The payment date.
        check_date: date "CheckDate",
        /// The payment amount.
        amount: decimal "CheckAmt",
        /// The bank code.
        bank_code: text "BankCode",
        /// The payment type.
        payment_type: text "Type",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// A GL account from `SLCharts` (the chart of accounts).
    GlAccount from "SLCharts", key ["Acct"], status None,
        required ["Type"];
    {
        /// The account number.
        account: required "Acct",
        /// The description.
        description: text "Description",
        /// The account type (`A` asset, `L` liability, `E` expense, `R` revenue, `O` owner's equity).
        account_type: text "Type",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// A customer from `SLCustomers`.
    Customer from "SLCustomers", key ["CustNum", "CustSeq"], status None,
        required ["Name"];
    {
        /// The customer number.
        cust_num: required "CustNum",
        /// The ship-to sequence (0 is the bill-to).
        cust_seq: integer "CustSeq",
        /// The name.
        name: text "Name",
        /// The currency code.
        currency: text "CurrCode",
        /// The payment terms code.
        terms_code: text "TermsCode",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}

ido_noun! {
    /// An item from `SLItems`.
    Item from "SLItems", key ["Item"], status Some("Stat"),
        required [];
    {
        /// The item number.
        item: required "Item",
        /// The description.
        description: text "Description",
        /// The unit of measure.
        unit: text "UM",
        /// The status.
        status: text "Stat",
        /// The product code.
        product_code: text "ProductCode",
        /// The unit cost.
        unit_cost: decimal "UnitCost",
        /// When the row last changed.
        modified_at: datetime "RecordDate",
    }
}
