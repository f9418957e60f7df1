//! Advanced purchases: the header (`/advanced-purchase`), the order step (`/purchase/order`),
//! supplier invoices (`/advanced-purchase/invoice`), stock received
//! (`/advanced-purchase/stock`) and `GET /purchaseList`.
//!
//! Preconditions follow Cin7's API docs for advanced purchases: the order is written only while
//! `DRAFT` or `NOT AVAILABLE` and a `POST` replaces its lines; an invoice needs the order
//! `AUTHORISED`, an `Account` on every line and charge, and (stock first) stock received
//! `AUTHORISED`; stock needs the order `AUTHORISED` and (invoice first) an `AUTHORISED` invoice,
//! only adds lines, merges duplicates in one payload, rejects a line already received, and an empty
//! `Lines` with `Status: AUTHORISED` authorises the task. A new purchase holds placeholder
//! sub-tasks whose `TaskID` is the purchase ID. The purchase `Status` and the combined statuses are
//! derived from the sub-tasks after every change.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::data::{Data, Object, SimPurchase, day, stamp};
use super::wire::{self, Query, Reply, invalid, missing, number, text};
use crate::purchase::line_total;

macro_rules! try_reply {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(reply) => return reply,
        }
    };
}

const NOT_AVAILABLE: &str = "NOT AVAILABLE";
const HEADER_FIELDS: &[&str] = &[
    "Contact",
    "Phone",
    "BlindReceipt",
    "BillingAddress",
    "ShippingAddress",
    "TaxRule",
    "TaxCalculation",
    "Terms",
    "RequiredBy",
    "Location",
    "Note",
    "CurrencyRate",
    "AdditionalAttributes",
];

fn status(task: &Object) -> &str {
    text(task, "Status").unwrap_or(NOT_AVAILABLE)
}

fn is(task: &Object, wanted: &str) -> bool {
    status(task).eq_ignore_ascii_case(wanted)
}

fn requested_status(input: &Object) -> Result<&'static str, Reply> {
    match text(input, "Status") {
        None => Ok("DRAFT"),
        Some(s) if s.eq_ignore_ascii_case("DRAFT") => Ok("DRAFT"),
        Some(s) if s.eq_ignore_ascii_case("AUTHORISED") => Ok("AUTHORISED"),
        Some(s) => Err(invalid(format!(
            "Status '{s}' is invalid: only DRAFT or AUTHORISED can be posted."
        ))),
    }
}

fn placeholder(id: &str, extra: Value) -> Object {
    let mut task = Map::new();
    task.insert("TaskID".into(), json!(id));
    task.insert("Status".into(), json!(NOT_AVAILABLE));
    task.insert("Lines".into(), json!([]));
    if let Value::Object(extra) = extra {
        task.extend(extra);
    }
    task
}

fn lines(task: &Object) -> impl Iterator<Item = &Object> {
    task.get("Lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

fn quantity(line: &Object) -> Decimal {
    wire::decimal(line, "Quantity")
        .ok()
        .flatten()
        .unwrap_or_default()
}

impl SimPurchase {
    fn id(&self) -> &str {
        text(&self.header, "ID").unwrap_or_default()
    }

    fn approach_is_stock(&self) -> bool {
        wire::field_is(&self.header, "Approach", "STOCK")
    }

    fn invoiced(&self) -> bool {
        self.invoices
            .iter()
            .any(|i| is(i, "AUTHORISED") || is(i, "PAID"))
    }

    fn ordered_quantity(&self) -> Decimal {
        lines(&self.order).map(quantity).sum()
    }

    fn received_quantity(&self) -> Decimal {
        self.stock
            .iter()
            .filter(|s| is(s, "AUTHORISED"))
            .flat_map(lines)
            .map(quantity)
            .sum()
    }

    fn combined_receiving(&self) -> &'static str {
        if self.voided {
            return "VOIDED";
        }
        if !is(&self.order, "AUTHORISED") {
            return NOT_AVAILABLE;
        }
        let received = self.received_quantity();
        if received.is_zero() {
            "NOT RECEIVED"
        } else if received >= self.ordered_quantity() {
            "FULLY RECEIVED"
        } else {
            "PARTIALLY RECEIVED"
        }
    }

    fn combined_invoice(&self) -> &'static str {
        if self.invoiced() {
            "INVOICED"
        } else if is(&self.order, "AUTHORISED") {
            "NOT INVOICED"
        } else {
            NOT_AVAILABLE
        }
    }

    fn combined_payment(&self) -> &'static str {
        let paid: Decimal = self
            .invoices
            .iter()
            .filter_map(|i| wire::decimal(i, "Paid").ok().flatten())
            .sum();
        let all_paid = self
            .invoices
            .iter()
            .filter(|i| is(i, "AUTHORISED") || is(i, "PAID"))
            .all(|i| is(i, "PAID"));
        if self.voided {
            "VOIDED"
        } else if self.invoiced() && all_paid {
            "PAID"
        } else if paid > Decimal::ZERO {
            "PARTIALLY PAID"
        } else {
            "UNPAID"
        }
    }

    fn derived_status(&self) -> &'static str {
        let receiving = self.combined_receiving();
        let stock_started = self.stock.iter().any(|s| !is(s, NOT_AVAILABLE));
        if self.voided {
            "VOIDED"
        } else if self.invoiced() && receiving == "FULLY RECEIVED" {
            "COMPLETED"
        } else if self.invoiced() {
            "INVOICED"
        } else if receiving == "FULLY RECEIVED" {
            "RECEIVED"
        } else if stock_started {
            "RECEIVING"
        } else if is(&self.order, "AUTHORISED") {
            "ORDERED"
        } else if is(&self.order, "DRAFT") {
            "ORDERING"
        } else {
            "DRAFT"
        }
    }

    /// The full purchase as `GET /advanced-purchase` returns it.
    pub(crate) fn render(&self) -> Value {
        let mut out = self.header.clone();
        out.insert("Status".into(), json!(self.derived_status()));
        out.insert(
            "CombinedReceivingStatus".into(),
            json!(self.combined_receiving()),
        );
        out.insert(
            "CombinedInvoiceStatus".into(),
            json!(self.combined_invoice()),
        );
        out.insert(
            "CombinedPaymentStatus".into(),
            json!(self.combined_payment()),
        );
        out.insert("Order".into(), Value::Object(self.order.clone()));
        out.insert(
            "StockReceived".into(),
            Value::Array(self.stock.iter().cloned().map(Value::Object).collect()),
        );
        out.insert(
            "Invoice".into(),
            Value::Array(self.invoices.iter().cloned().map(Value::Object).collect()),
        );
        Value::Object(out)
    }

    fn list_row(&self) -> Value {
        let invoice = self
            .invoices
            .iter()
            .find(|i| !is(i, NOT_AVAILABLE))
            .or(self.invoices.first());
        let stock_status = if self.stock.iter().any(|s| is(s, "AUTHORISED")) {
            "AUTHORISED"
        } else {
            self.stock.first().map(status).unwrap_or(NOT_AVAILABLE)
        };
        let invoice_field = |key: &str| invoice.and_then(|i| i.get(key)).cloned();
        let header = |key: &str| self.header.get(key).cloned().unwrap_or(Value::Null);
        json!({
            "ID": header("ID"), "BlindReceipt": header("BlindReceipt"),
            "OrderNumber": header("OrderNumber"), "Status": self.derived_status(),
            "OrderDate": header("OrderDate"), "InvoiceDate": invoice_field("InvoiceDate"),
            "Supplier": header("Supplier"), "SupplierID": header("SupplierID"),
            "InvoiceNumber": invoice_field("InvoiceNumber").unwrap_or(json!("")),
            "InvoiceAmount": invoice_field("Total").unwrap_or(json!(0)),
            "PaidAmount": invoice_field("Paid").unwrap_or(json!(0)),
            "InvoiceDueDate": invoice_field("InvoiceDueDate"),
            "RequiredBy": header("RequiredBy"), "BaseCurrency": header("BaseCurrency"),
            "SupplierCurrency": header("SupplierCurrency"), "CreditNoteNumber": "",
            "OrderStatus": status(&self.order), "StockReceivedStatus": stock_status,
            "UnstockStatus": NOT_AVAILABLE,
            "InvoiceStatus": invoice.map(status).unwrap_or(NOT_AVAILABLE),
            "CreditNoteStatus": NOT_AVAILABLE, "LastUpdatedDate": header("LastUpdatedDate"),
            "Type": header("Type"),
            "CombinedInvoiceStatus": self.combined_invoice(),
            "CombinedPaymentStatus": self.combined_payment(),
            "CombinedReceivingStatus": self.combined_receiving(),
            "IsServiceOnly": header("IsServiceOnly"), "DropShipTaskID": Value::Null,
        })
    }
}

fn touched(data: &mut Data, id: &str, now: DateTime<Utc>) {
    if let Some(p) = data.purchases.get_mut(id) {
        p.header.insert("LastUpdatedDate".into(), json!(stamp(now)));
        let row = json!({"ID": p.id(), "OrderNumber": p.header.get("OrderNumber"),
                         "Status": p.derived_status(), "Supplier": p.header.get("Supplier")});
        data.raise(
            "Purchase/Updated",
            json!({"NumberOfPurchase": 1, "CustomerDetailsList": [row], "EventType": "Purchase/Updated"}),
        );
    }
}

fn task_event(data: &mut Data, event_type: &'static str, purchase_id: &str, task_id: &str) {
    let Some(p) = data.purchases.get(purchase_id) else {
        return;
    };
    let invoice_number = p
        .invoices
        .iter()
        .find(|i| wire::field_is(i, "TaskID", task_id))
        .and_then(|i| i.get("InvoiceNumber").cloned());
    let mut payload = json!({
        "TaskID": task_id, "PurchaseOrderNumber": p.header.get("OrderNumber"),
        "SupplierName": p.header.get("Supplier"), "SupplierContactName": p.header.get("Contact"),
        "SupplierContactEmail": "", "EventType": event_type,
    });
    if let Some(number) = invoice_number {
        payload["InvoiceNumber"] = number;
    }
    data.raise(event_type, payload);
}

fn check_header_refs(data: &Data, input: &Object) -> Result<(), Reply> {
    if let Some(location) = text(input, "Location")
        && data.location(location).is_none()
    {
        return Err(missing(format!("Location '{location}' not found.")));
    }
    if let Some(rule) = text(input, "TaxRule")
        && data.tax_rule(rule).is_none()
    {
        return Err(missing(format!("Tax rule '{rule}' not found.")));
    }
    if let Some(terms) = text(input, "Terms")
        && data.payment_term(terms).is_none()
    {
        return Err(missing(format!("Payment term '{terms}' not found.")));
    }
    if let Some(calc) = text(input, "TaxCalculation")
        && !["Inclusive", "Exclusive"]
            .iter()
            .any(|c| c.eq_ignore_ascii_case(calc))
    {
        return Err(invalid(format!("TaxCalculation '{calc}' is invalid.")));
    }
    wire::check_length(input, "Note", 1024)?;
    wire::check_length(input, "Contact", 256)?;
    wire::check_length(input, "Phone", 50)?;
    Ok(())
}

pub(crate) fn create(data: &mut Data, body: &Value, now: DateTime<Utc>) -> Reply {
    let input = try_reply!(wire::object(body));
    let supplier = match (wire::guid(input, "SupplierID"), text(input, "Supplier")) {
        (Some(id), _) => data.suppliers.get(id.as_str()),
        (None, Some(name)) => data
            .suppliers
            .values()
            .find(|s| wire::field_is(s, "Name", name)),
        (None, None) => return invalid("SupplierID or Supplier is required."),
    };
    let Some(supplier) = supplier.cloned() else {
        return missing("Supplier not found.");
    };
    let service = wire::boolean(input, "IsServiceOnly").unwrap_or(false);
    let approach = match text(input, "Approach") {
        _ if service => "INVOICE",
        Some(a) if a.eq_ignore_ascii_case("INVOICE") => "INVOICE",
        Some(a) if a.eq_ignore_ascii_case("STOCK") => "STOCK",
        Some(a) => return invalid(format!("Approach '{a}' is invalid: use INVOICE or STOCK.")),
        None => return invalid("Approach is required."),
    };
    if text(input, "Location").is_none() {
        return invalid("Location is required.");
    }
    let kind = match text(input, "PurchaseType") {
        _ if service => "Service Purchase",
        None => "Advanced Purchase",
        Some(t) if t.eq_ignore_ascii_case("Advanced") => "Advanced Purchase",
        Some(t) if t.eq_ignore_ascii_case("Simple") => "Simple Purchase",
        Some(t) => return invalid(format!("PurchaseType '{t}' is invalid.")),
    };
    try_reply!(check_header_refs(data, input));
    // The date the purchase was ordered on, as sent; Cin7 dates a purchase sent without one
    // on the day it is created.
    let order_date = match text(input, "OrderDate") {
        None => day(now),
        Some(sent) => match crate::codec::parse_date(sent) {
            Some(date) => date.format("%Y-%m-%dT00:00:00").to_string(),
            None => return invalid(format!("OrderDate '{sent}' is not a date.")),
        },
    };
    let id = data.guid();
    let order_number = format!("PO-{:05}", data.next_order_number);
    data.next_order_number += 1;
    let mut header = Map::new();
    for key in HEADER_FIELDS {
        if let Some(value) = input.get(*key) {
            header.insert((*key).to_owned(), value.clone());
        }
    }
    let from_supplier = |key: &str| supplier.get(key).cloned().unwrap_or(Value::Null);
    header.insert("ID".into(), json!(id));
    header.insert("SupplierID".into(), from_supplier("ID"));
    header.insert("Supplier".into(), from_supplier("Name"));
    header.insert("Approach".into(), json!(approach));
    header.insert("Type".into(), json!(kind));
    header.insert("IsServiceOnly".into(), json!(service));
    header.insert("OrderNumber".into(), json!(order_number));
    header.insert("OrderDate".into(), json!(order_date));
    header.insert("InventoryAccount".into(), json!("630"));
    header.insert(
        "BaseCurrency".into(),
        data.me.get("Currency").cloned().unwrap_or(Value::Null),
    );
    header.insert("SupplierCurrency".into(), from_supplier("Currency"));
    header
        .entry("TaxRule")
        .or_insert_with(|| from_supplier("TaxRule"));
    header
        .entry("Terms")
        .or_insert_with(|| from_supplier("PaymentTerm"));
    header
        .entry("TaxCalculation")
        .or_insert_with(|| json!("Exclusive"));
    header.entry("CurrencyRate").or_insert_with(|| json!(1));
    header.entry("BlindReceipt").or_insert_with(|| json!(false));
    let empty =
        json!({"AdditionalCharges": [], "Memo": "", "TotalBeforeTax": 0, "Tax": 0, "Total": 0});
    let purchase = SimPurchase {
        order: placeholder(&id, empty.clone()),
        invoices: vec![placeholder(&id, empty)],
        stock: if service {
            Vec::new()
        } else {
            vec![placeholder(&id, json!({}))]
        },
        header,
        voided: false,
    };
    data.purchases.insert(id.clone(), purchase);
    touched(data, &id, now);
    get_rendered(data, &id)
}

fn get_rendered(data: &Data, id: &str) -> Reply {
    match data.purchases.get(id) {
        Some(p) => Reply::ok(p.render()),
        None => missing(format!("Purchase with ID {id} not found.")),
    }
}

fn find<'a>(
    data: &'a mut Data,
    id: Option<crate::Guid>,
    what: &str,
) -> Result<&'a mut SimPurchase, Reply> {
    let Some(id) = id else {
        return Err(invalid(format!("{what} is required.")));
    };
    data.purchases
        .get_mut(id.as_str())
        .ok_or_else(|| missing(format!("Purchase with ID {id} not found.")))
}

pub(crate) fn get(data: &Data, query: &Query) -> Reply {
    let Some(id) = query.get("id").map(str::to_ascii_lowercase) else {
        return invalid("ID is required.");
    };
    get_rendered(data, &id)
}

pub(crate) fn update(data: &mut Data, body: &Value, now: DateTime<Utc>) -> Reply {
    let input = try_reply!(wire::object(body));
    if input.contains_key("PurchaseType") {
        return invalid("PurchaseType can only be set when the purchase is created.");
    }
    try_reply!(check_header_refs(data, input));
    let purchase = try_reply!(find(data, wire::guid(input, "ID"), "ID"));
    if purchase.voided {
        return invalid("A voided purchase cannot be changed.");
    }
    for key in HEADER_FIELDS {
        if let Some(value) = input.get(*key) {
            purchase.header.insert((*key).to_owned(), value.clone());
        }
    }
    if let Some(approach) = text(input, "Approach") {
        if is(&purchase.order, "AUTHORISED") {
            return invalid("Approach cannot change once the order is authorised.");
        }
        let approach = approach.to_ascii_uppercase();
        if approach != "INVOICE" && approach != "STOCK" {
            return invalid(format!("Approach '{approach}' is invalid."));
        }
        purchase.header.insert("Approach".into(), json!(approach));
    }
    let id = purchase.id().to_owned();
    touched(data, &id, now);
    get_rendered(data, &id)
}

pub(crate) fn delete(data: &mut Data, query: &Query, now: DateTime<Utc>) -> Reply {
    let void = try_reply!(query.bool("void")).unwrap_or(false);
    let id = query.get("id").and_then(|s| s.parse::<crate::Guid>().ok());
    let purchase = try_reply!(find(data, id, "ID"));
    if purchase.voided {
        return invalid("The purchase is already voided.");
    }
    if void {
        purchase.voided = true;
        for task in std::iter::once(&mut purchase.order)
            .chain(purchase.invoices.iter_mut())
            .chain(purchase.stock.iter_mut())
        {
            if !is(task, NOT_AVAILABLE) {
                task.insert("Status".into(), json!("VOIDED"));
            }
        }
    } else {
        // Undo reverts the latest authorised stage to DRAFT: stock and invoices first, then
        // the order.
        let mut undone = false;
        for task in purchase
            .stock
            .iter_mut()
            .chain(purchase.invoices.iter_mut())
        {
            if is(task, "AUTHORISED") {
                task.insert("Status".into(), json!("DRAFT"));
                undone = true;
            }
        }
        if !undone {
            if is(&purchase.order, "AUTHORISED") {
                purchase.order.insert("Status".into(), json!("DRAFT"));
            } else {
                return invalid("There is nothing to undo.");
            }
        }
    }
    let id = purchase.id().to_owned();
    touched(data, &id, now);
    get_rendered(data, &id)
}

pub(crate) fn order(data: &Data, query: &Query) -> Reply {
    let Some(id) = query.get("taskid").map(str::to_ascii_lowercase) else {
        return invalid("TaskID is required.");
    };
    match data.purchases.get(&id) {
        Some(p) => Reply::ok(Value::Object(p.order.clone())),
        None => missing(format!("Purchase with ID {id} not found.")),
    }
}

struct Priced {
    lines: Vec<Value>,
    before_tax: Decimal,
    tax: Decimal,
}

/// Validate and price lines (and charges): quantities, the `Total` check, tax from the rule.
fn price(
    data: &Data,
    entries: Option<&Value>,
    what: &str,
    header_rule: Option<&str>,
    need_account: bool,
    need_product: bool,
    check_totals: bool,
) -> Result<Priced, Reply> {
    let mut out = Priced {
        lines: Vec::new(),
        before_tax: Decimal::ZERO,
        tax: Decimal::ZERO,
    };
    let entries = match entries {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid(format!("{what} must be an array."))),
    };
    for (i, entry) in entries.iter().enumerate() {
        let line = wire::object(entry)?;
        if need_product && text(line, "ProductID").is_none() && text(line, "SKU").is_none() {
            return Err(invalid(format!(
                "{what}[{i}]: ProductID or SKU is required."
            )));
        }
        if need_product
            && let (Some(products), Some(sku)) = (&data.products, text(line, "SKU"))
            && !products.contains_key(&sku.to_ascii_lowercase())
        {
            return Err(invalid(format!("Product with SKU '{sku}' not found.")));
        }
        if !need_product && text(line, "Description").is_none() {
            return Err(invalid(format!("{what}[{i}]: Description is required.")));
        }
        let q = wire::decimal(line, "Quantity")?.unwrap_or(Decimal::ONE);
        if q <= Decimal::ZERO {
            return Err(invalid(format!("{what}[{i}]: Quantity must be positive.")));
        }
        let p = wire::decimal(line, "Price")?.unwrap_or_default();
        let d = wire::decimal(line, "Discount")?;
        if d.is_some_and(|d| d < Decimal::ZERO || d > Decimal::ONE_HUNDRED) {
            return Err(invalid(format!("{what}[{i}]: Discount must be 0 to 100.")));
        }
        let total = line_total(q, p, d);
        if check_totals
            && let Some(sent) = wire::decimal(line, "Total")?
            && sent.round_dp(4) != total
        {
            return Err(invalid(format!(
                "{what}[{i}]: Total {sent} does not match {total}."
            )));
        }
        if need_account {
            match text(line, "Account") {
                None => return Err(invalid(format!("{what}[{i}]: Account is required."))),
                Some(code) if data.account(code).is_none() => {
                    return Err(missing(format!("{what}[{i}]: Account '{code}' not found.")));
                }
                Some(_) => {}
            }
        }
        let rule_name = text(line, "TaxRule").or(header_rule);
        let percent = match rule_name {
            Some(name) => match data.tax_rule(name) {
                Some(rule) => wire::decimal(rule, "TaxPercent")?.unwrap_or_default(),
                None => {
                    return Err(missing(format!(
                        "{what}[{i}]: Tax rule '{name}' not found."
                    )));
                }
            },
            None => Decimal::ZERO,
        };
        let tax = match wire::decimal(line, "Tax")? {
            Some(tax) => tax,
            None => (total * percent / Decimal::ONE_HUNDRED).round_dp(4),
        };
        let mut priced = line.clone();
        priced.insert("Quantity".into(), number(q));
        priced.insert("Price".into(), number(p));
        priced.insert("Tax".into(), number(tax));
        priced.insert("Total".into(), number(total));
        if let Some(name) = rule_name {
            priced.insert("TaxRule".into(), json!(name));
        }
        out.before_tax += total;
        out.tax += tax;
        out.lines.push(Value::Object(priced));
    }
    Ok(out)
}

pub(crate) fn save_order(data: &mut Data, body: &Value, now: DateTime<Utc>, check: bool) -> Reply {
    let input = try_reply!(wire::object(body));
    let new_status = try_reply!(requested_status(input));
    let id = wire::guid(input, "TaskID");
    let header_rule = {
        let purchase = try_reply!(find(data, id.clone(), "TaskID"));
        if purchase.voided {
            return invalid("The purchase is voided.");
        }
        if !(is(&purchase.order, "DRAFT") || is(&purchase.order, NOT_AVAILABLE)) {
            return invalid(format!(
                "The order is {}: it can be changed only while DRAFT.",
                status(&purchase.order)
            ));
        }
        text(&purchase.header, "TaxRule").map(str::to_owned)
    };
    let lines = try_reply!(price(
        data,
        input.get("Lines"),
        "Lines",
        header_rule.as_deref(),
        false,
        true,
        check
    ));
    let charges = try_reply!(price(
        data,
        input.get("AdditionalCharges"),
        "AdditionalCharges",
        header_rule.as_deref(),
        false,
        false,
        check
    ));
    if new_status == "AUTHORISED" && lines.lines.is_empty() && charges.lines.is_empty() {
        return invalid("An order without lines cannot be authorised.");
    }
    let purchase = try_reply!(find(data, id, "TaskID"));
    let pid = purchase.id().to_owned();
    let order = &mut purchase.order;
    let before_tax = lines.before_tax + charges.before_tax;
    let tax = lines.tax + charges.tax;
    order.insert("Status".into(), json!(new_status));
    order.insert("Lines".into(), Value::Array(lines.lines));
    order.insert("AdditionalCharges".into(), Value::Array(charges.lines));
    order.insert(
        "Memo".into(),
        input.get("Memo").cloned().unwrap_or(json!("")),
    );
    order.insert(
        "CombineAdditionalCharges".into(),
        json!(wire::boolean(input, "CombineAdditionalCharges").unwrap_or(false)),
    );
    order.insert("TotalBeforeTax".into(), number(before_tax));
    order.insert("Tax".into(), number(tax));
    order.insert("Total".into(), number(before_tax + tax));
    let answer = Value::Object(order.clone());
    if new_status == "AUTHORISED" {
        task_event(data, "Purchase/OrderAuthorised", &pid, &pid);
    }
    touched(data, &pid, now);
    Reply::ok(answer)
}

fn due_date(data: &Data, terms: Option<&str>, from: DateTime<Utc>) -> String {
    let days = terms
        .and_then(|t| data.payment_term(t))
        .and_then(|t| t.get("Duration").and_then(Value::as_i64))
        .unwrap_or(30);
    day(from + Duration::days(days))
}

pub(crate) fn create_invoice(
    data: &mut Data,
    body: &Value,
    now: DateTime<Utc>,
    check: bool,
) -> Reply {
    let input = try_reply!(wire::object(body));
    let new_status = try_reply!(requested_status(input));
    let id = wire::guid(input, "PurchaseID");
    let (header_rule, terms) = {
        let purchase = try_reply!(find(data, id.clone(), "PurchaseID"));
        if purchase.voided {
            return invalid("The purchase is voided.");
        }
        if !is(&purchase.order, "AUTHORISED") {
            return invalid("The order must be AUTHORISED before invoicing.");
        }
        if purchase.approach_is_stock() && !purchase.stock.iter().any(|s| is(s, "AUTHORISED")) {
            return invalid("Stock first: stock received must be AUTHORISED before invoicing.");
        }
        (
            text(&purchase.header, "TaxRule").map(str::to_owned),
            text(&purchase.header, "Terms").map(str::to_owned),
        )
    };
    let lines = try_reply!(price(
        data,
        input.get("Lines"),
        "Lines",
        header_rule.as_deref(),
        true,
        true,
        check
    ));
    let charges = try_reply!(price(
        data,
        input.get("AdditionalCharges"),
        "AdditionalCharges",
        header_rule.as_deref(),
        true,
        false,
        check
    ));
    if new_status == "AUTHORISED" && lines.lines.is_empty() && charges.lines.is_empty() {
        return invalid("An invoice without lines cannot be authorised.");
    }
    let invoice_number = match text(input, "InvoiceNumber") {
        Some(n) => n.to_owned(),
        None => {
            let n = format!("INV-{:05}", data.next_invoice_number);
            data.next_invoice_number += 1;
            n
        }
    };
    let due = match text(input, "InvoiceDueDate") {
        Some(d) => d.to_owned(),
        None => due_date(data, terms.as_deref(), now),
    };
    let fresh_id = data.guid();
    let purchase = try_reply!(find(data, id, "PurchaseID"));
    let pid = purchase.id().to_owned();
    let slot = match wire::guid(input, "TaskID").filter(|t| !t.is_nil()) {
        Some(task) => match purchase
            .invoices
            .iter()
            .position(|i| wire::field_is(i, "TaskID", task.as_str()))
        {
            Some(index) => index,
            None => return missing(format!("Invoice task {task} not found.")),
        },
        None => match purchase.invoices.iter().position(|i| is(i, NOT_AVAILABLE)) {
            Some(index) => index,
            None => {
                purchase.invoices.push(placeholder(&fresh_id, json!({})));
                purchase.invoices.len() - 1
            }
        },
    };
    let invoice = &mut purchase.invoices[slot];
    if !(is(invoice, "DRAFT") || is(invoice, NOT_AVAILABLE)) {
        return invalid(format!(
            "The invoice is {}: it can be changed only while DRAFT.",
            status(invoice)
        ));
    }
    let before_tax = lines.before_tax + charges.before_tax;
    let tax = lines.tax + charges.tax;
    invoice.insert("Status".into(), json!(new_status));
    invoice.insert("InvoiceNumber".into(), json!(invoice_number));
    invoice.insert(
        "InvoiceDate".into(),
        json!(
            text(input, "InvoiceDate")
                .map(str::to_owned)
                .unwrap_or_else(|| day(now))
        ),
    );
    invoice.insert("InvoiceDueDate".into(), json!(due));
    invoice.insert(
        "Memo".into(),
        input.get("Memo").cloned().unwrap_or(json!("")),
    );
    invoice.insert("Lines".into(), Value::Array(lines.lines));
    invoice.insert("AdditionalCharges".into(), Value::Array(charges.lines));
    invoice.insert("Payments".into(), json!([]));
    invoice.insert("Paid".into(), json!(0));
    invoice.insert("TotalBeforeTax".into(), number(before_tax));
    invoice.insert("Tax".into(), number(tax));
    invoice.insert("Total".into(), number(before_tax + tax));
    invoice.insert("LastUpdatedDate".into(), json!(stamp(now)));
    let task_id = text(invoice, "TaskID").unwrap_or_default().to_owned();
    let answer = json!({"PurchaseID": pid, "Invoices": purchase.invoices});
    if new_status == "AUTHORISED" {
        task_event(data, "Purchase/InvoiceAuthorised", &pid, &task_id);
    }
    touched(data, &pid, now);
    Reply::ok(answer)
}

fn stock_key(line: &Object, default_location: &str) -> String {
    let part = |k: &str| text(line, k).unwrap_or_default().to_ascii_lowercase();
    let location = text(line, "Location")
        .or(text(line, "LocationID"))
        .unwrap_or(default_location)
        .to_ascii_lowercase();
    format!(
        "{}|{}|{}|{}|{}",
        part("ProductID"),
        part("SKU"),
        location,
        part("BatchSN"),
        part("ExpiryDate")
    )
}

pub(crate) fn receive_stock(data: &mut Data, body: &Value, now: DateTime<Utc>) -> Reply {
    let input = try_reply!(wire::object(body));
    let new_status = try_reply!(requested_status(input));
    let id = wire::guid(input, "PurchaseID");
    let default_location = {
        let purchase = try_reply!(find(data, id.clone(), "PurchaseID"));
        if purchase.voided {
            return invalid("The purchase is voided.");
        }
        if wire::boolean(&purchase.header, "IsServiceOnly").unwrap_or(false) {
            return invalid("Stock cannot be received on a service purchase.");
        }
        if !is(&purchase.order, "AUTHORISED") {
            return invalid("The order must be AUTHORISED before receiving stock.");
        }
        if !purchase.approach_is_stock() && !purchase.invoiced() {
            return invalid(
                "Invoice first: the invoice must be AUTHORISED before receiving stock.",
            );
        }
        text(&purchase.header, "Location")
            .unwrap_or_default()
            .to_owned()
    };
    // Validate and merge the posted lines (duplicates in one payload are summed).
    let mut merged: Vec<(String, Object)> = Vec::new();
    let posted = match input.get("Lines") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return invalid("Lines must be an array."),
    };
    for (i, entry) in posted.iter().enumerate() {
        let line = try_reply!(wire::object(entry));
        if text(line, "Date").is_none() {
            return invalid(format!("Lines[{i}]: Date is required."));
        }
        if text(line, "ProductID").is_none() && text(line, "SKU").is_none() {
            return invalid(format!("Lines[{i}]: ProductID or SKU is required."));
        }
        let q = try_reply!(wire::decimal(line, "Quantity")).unwrap_or_default();
        if q <= Decimal::ZERO {
            return invalid(format!("Lines[{i}]: Quantity must be positive."));
        }
        if let Some(location) = text(line, "Location")
            && data.location(location).is_none()
        {
            return missing(format!("Lines[{i}]: Location '{location}' not found."));
        }
        let key = stock_key(line, &default_location);
        match merged.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => {
                let sum = quantity(existing) + q;
                existing.insert("Quantity".into(), number(sum));
            }
            None => {
                let mut line = line.clone();
                line.insert("Quantity".into(), number(q));
                if text(&line, "Location").is_none() && text(&line, "LocationID").is_none() {
                    line.insert("Location".into(), json!(default_location));
                }
                merged.push((key, line));
            }
        }
    }
    let mut card_ids = Vec::new();
    for _ in &merged {
        card_ids.push(data.guid());
    }
    let fresh_id = data.guid();
    let purchase = try_reply!(find(data, id, "PurchaseID"));
    if wire::field_is(&purchase.header, "Type", "Simple Purchase") {
        // Receiving stock on a simple purchase converts it to advanced.
        purchase
            .header
            .insert("Type".into(), json!("Advanced Purchase"));
    }
    let pid = purchase.id().to_owned();
    let order_lines: Vec<Object> = lines(&purchase.order).cloned().collect();
    let slot = match wire::guid(input, "TaskID").filter(|t| !t.is_nil()) {
        Some(task) => match purchase
            .stock
            .iter()
            .position(|s| wire::field_is(s, "TaskID", task.as_str()))
        {
            Some(index) => index,
            None => return missing(format!("Stock received task {task} not found.")),
        },
        None => match purchase.stock.iter().position(|s| is(s, NOT_AVAILABLE)) {
            Some(index) => index,
            None if purchase.combined_receiving() == "FULLY RECEIVED" => {
                return invalid("The purchase is fully received: no new receipt can be added.");
            }
            None => {
                purchase.stock.push(placeholder(&fresh_id, json!({})));
                purchase.stock.len() - 1
            }
        },
    };
    let task = &mut purchase.stock[slot];
    if !(is(task, "DRAFT") || is(task, NOT_AVAILABLE)) {
        return invalid(format!(
            "The stock received task is {}: lines can be added only while DRAFT.",
            status(task)
        ));
    }
    let existing: Vec<String> = lines(task)
        .map(|l| stock_key(l, &default_location))
        .collect();
    if let Some((key, _)) = merged.iter().find(|(k, _)| existing.contains(k)) {
        return invalid(format!(
            "A line for the same product, location, batch and expiry already exists ({key})."
        ));
    }
    if merged.is_empty() && existing.is_empty() {
        return invalid("Lines are required.");
    }
    let mut all: Vec<Value> = task
        .get("Lines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for ((_, mut line), card) in merged.into_iter().zip(card_ids) {
        let name = order_lines
            .iter()
            .find(|o| {
                (text(o, "SKU").is_some() && text(o, "SKU") == text(&line, "SKU"))
                    || (text(o, "ProductID").is_some()
                        && text(o, "ProductID") == text(&line, "ProductID"))
            })
            .and_then(|o| o.get("Name").cloned());
        line.insert("Name".into(), name.unwrap_or(Value::Null));
        line.insert("CardID".into(), json!(card));
        line.insert("Received".into(), json!(new_status == "AUTHORISED"));
        all.push(Value::Object(line));
    }
    if new_status == "AUTHORISED" {
        for line in all.iter_mut().filter_map(Value::as_object_mut) {
            line.insert("Received".into(), json!(true));
        }
    }
    task.insert("Lines".into(), Value::Array(all));
    task.insert("Status".into(), json!(new_status));
    let task_id = text(task, "TaskID").unwrap_or_default().to_owned();
    let mut answer = task.clone();
    answer.insert("PurchaseID".into(), json!(pid));
    if new_status == "AUTHORISED" {
        task_event(data, "Purchase/StockReceivedAuthorised", &pid, &task_id);
    }
    touched(data, &pid, now);
    Reply::ok(Value::Object(answer))
}

pub(crate) fn list(data: &Data, query: &Query) -> Reply {
    let since = try_reply!(query.datetime("updatedsince"));
    let until = try_reply!(query.datetime("updateduntil"));
    let required_by = try_reply!(query.datetime("requiredby"));
    let search = query.get("search").map(str::to_lowercase);
    let filters: Vec<(&str, &str)> = [
        ("status", "Status"),
        ("orderstatus", "OrderStatus"),
        ("restockreceivedstatus", "StockReceivedStatus"),
        ("invoicestatus", "InvoiceStatus"),
        ("creditnotestatus", "CreditNoteStatus"),
        ("unstockstatus", "UnstockStatus"),
        ("dropshiptaskid", "DropShipTaskID"),
    ]
    .into_iter()
    .filter_map(|(param, field)| query.get(param).map(|v| (field, v)))
    .collect();
    let date = |row: &Object, key: &str| text(row, key).and_then(crate::codec::parse_datetime);
    let rows = data
        .purchases
        .values()
        .map(SimPurchase::list_row)
        .filter(|row| {
            let Some(row) = row.as_object() else {
                return false;
            };
            let updated = date(row, "LastUpdatedDate");
            since.is_none_or(|s| updated.is_some_and(|u| u >= s))
                && until.is_none_or(|s| updated.is_some_and(|u| u <= s))
                && required_by.is_none_or(|r| date(row, "RequiredBy").is_some_and(|d| d <= r))
                && filters
                    .iter()
                    .all(|(field, v)| wire::field_is(row, field, v))
                && search.as_deref().is_none_or(|s| {
                    [
                        "OrderNumber",
                        "Status",
                        "Supplier",
                        "InvoiceNumber",
                        "CreditNoteNumber",
                    ]
                    .iter()
                    .any(|k| text(row, k).is_some_and(|v| v.to_lowercase().contains(s)))
                })
        })
        .collect();
    wire::paged(rows, query, "PurchaseList", data.paging("purchaseList"))
}

fn payments_of(purchase: &SimPurchase) -> Value {
    let payments: Vec<Value> = purchase
        .invoices
        .iter()
        .flat_map(|i| {
            i.get("Payments")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    json!({"PurchaseID": purchase.id(), "Payments": payments})
}

/// `GET /advanced-purchase/payment` by `PurchaseID`, `OrderNumber` or `InvoiceNumber`.
pub(crate) fn payments(data: &Data, query: &Query) -> Reply {
    let found = if let Some(id) = query.get("purchaseid") {
        data.purchases.get(&id.to_ascii_lowercase())
    } else if let Some(number) = query.get("ordernumber") {
        data.purchases
            .values()
            .find(|p| wire::field_is(&p.header, "OrderNumber", number))
    } else if let Some(number) = query.get("invoicenumber") {
        data.purchases.values().find(|p| {
            p.invoices
                .iter()
                .any(|i| wire::field_is(i, "InvoiceNumber", number))
        })
    } else {
        return invalid("PurchaseID, OrderNumber or InvoiceNumber is required.");
    };
    match found {
        Some(purchase) => Reply::ok(payments_of(purchase)),
        None => missing("Purchase not found."),
    }
}

/// `POST /advanced-purchase/payment`: pay an authorised invoice (by its `TaskID`) from a
/// bank or payment account; the invoice becomes `PAID` once fully paid.
pub(crate) fn create_payment(data: &mut Data, body: &Value, now: DateTime<Utc>) -> Reply {
    let input = try_reply!(wire::object(body));
    let Some(task) = wire::guid(input, "TaskID") else {
        return invalid("TaskID (the invoice task) is required.");
    };
    let Some(amount) = try_reply!(wire::decimal(input, "Amount")) else {
        return invalid("Amount is required.");
    };
    if amount <= Decimal::ZERO {
        return invalid("Amount must be positive.");
    }
    let Some(account) = text(input, "Account") else {
        return invalid("Account is required.");
    };
    let usable = data.account(account).is_some_and(|a| {
        wire::field_is(a, "Type", "BANK") || wire::boolean(a, "ForPayments").unwrap_or(false)
    });
    if !usable {
        return missing(format!("Payment account '{account}' not found."));
    }
    let kind = text(input, "Type").unwrap_or("Payment").to_owned();
    let payment_id = data.guid();
    let Some(purchase) = data.purchases.values_mut().find(|p| {
        p.invoices
            .iter()
            .any(|i| wire::field_is(i, "TaskID", task.as_str()))
    }) else {
        return missing(format!("Invoice task {task} not found."));
    };
    if purchase.voided {
        return invalid("The purchase is voided.");
    }
    let pid = purchase.id().to_owned();
    let Some(invoice) = purchase
        .invoices
        .iter_mut()
        .find(|i| wire::field_is(i, "TaskID", task.as_str()))
    else {
        return missing(format!("Invoice task {task} not found."));
    };
    if !is(invoice, "AUTHORISED") {
        return invalid(format!(
            "The invoice is {}: only an AUTHORISED invoice can be paid.",
            status(invoice)
        ));
    }
    let payment = json!({
        "ID": payment_id, "PurchaseID": pid, "TaskID": task.as_str(), "Type": kind,
        "Reference": input.get("Reference").cloned().unwrap_or(json!("")),
        "Amount": number(amount), "Account": account,
        "DatePaid": text(input, "DatePaid").map(str::to_owned).unwrap_or_else(|| day(now)),
        "CurrencyRate": input.get("CurrencyRate").cloned().unwrap_or(json!(1)),
        "DateCreated": stamp(now),
    });
    let paid = try_reply!(wire::decimal(invoice, "Paid")).unwrap_or_default() + amount;
    let total = try_reply!(wire::decimal(invoice, "Total")).unwrap_or_default();
    if let Some(Value::Array(list)) = invoice.get_mut("Payments") {
        list.push(payment);
    } else {
        invoice.insert("Payments".into(), json!([payment]));
    }
    invoice.insert("Paid".into(), number(paid));
    if paid >= total {
        invoice.insert("Status".into(), json!("PAID"));
    }
    let answer = payments_of(purchase);
    touched(data, &pid, now);
    Reply::ok(answer)
}
