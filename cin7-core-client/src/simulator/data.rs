//! The simulator's records and its deterministic generator.
//!
//! Records are kept as the JSON objects Cin7 would return (so fields a client sends and the
//! simulator does not interpret are echoed back, like Cin7 does). Suppliers and purchases are
//! held in maps keyed by their GUID, so lists come back in GUID order: stable between pages,
//! but deliberately not sorted by name or date, like the real API.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use super::config::{AccountingIntegration, SimPaging, SimulatorConfig};
use crate::codec;

pub(crate) type Object = Map<String, Value>;

/// A purchase: its header fields and its sub-task documents.
#[derive(Debug, Clone)]
pub(crate) struct SimPurchase {
    pub header: Object,
    pub order: Object,
    pub invoices: Vec<Object>,
    pub stock: Vec<Object>,
    pub voided: bool,
}

/// One webhook delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    /// The webhook subscription's ID.
    pub webhook_id: String,
    /// The URL posted to.
    pub url: String,
    /// The event type (`Supplier/Updated`, `Purchase/OrderAuthorised`, ...).
    pub event_type: String,
    /// The JSON payload sent.
    pub body: Value,
    /// The receiver's HTTP status, or the transport error.
    pub outcome: Result<u16, String>,
}

/// An event raised by a change, delivered to matching webhooks after the request's lock is
/// released.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub event_type: &'static str,
    pub payload: Value,
}

/// Everything the simulator holds.
#[derive(Debug)]
pub(crate) struct Data {
    pub rng: StdRng,
    pub suppliers: BTreeMap<String, Object>,
    /// Products by lower-case SKU (`None`: not modelled, any SKU goes).
    pub products: Option<BTreeMap<String, Object>>,
    pub purchases: BTreeMap<String, SimPurchase>,
    pub accounts: Vec<Object>,
    pub tax_rules: Vec<Object>,
    pub payment_terms: Vec<Object>,
    pub locations: Vec<Object>,
    pub webhooks: Vec<Object>,
    pub me: Object,
    pub next_order_number: u32,
    pub next_invoice_number: u32,
    pub accounting_integration: Option<AccountingIntegration>,
    pub window: HashMap<String, VecDeque<DateTime<Utc>>>,
    pub calls: BTreeMap<String, u64>,
    pub throttled: u64,
    pub deliveries: Vec<DeliveryRecord>,
    pub webhook_failures: HashMap<String, u32>,
    pub events: Vec<Event>,
    pub paging: BTreeMap<String, SimPaging>,
}

/// A product row as `GET /product` lists it.
pub(crate) fn product(sku: &str) -> Object {
    let mut row = Map::new();
    row.insert("SKU".into(), serde_json::json!(sku));
    row.insert("Name".into(), serde_json::json!(sku));
    row.insert("Status".into(), serde_json::json!("Active"));
    row
}

/// Cin7's timestamp format, to the millisecond (`yyyy-MM-ddTHH:mm:ss.fff`, UTC, no zone).
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    codec::format_datetime(at)
}

/// A business date as Cin7 returns it (`yyyy-MM-ddT00:00:00`).
pub(crate) fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT00:00:00").to_string()
}

impl Data {
    /// The paging quirks configured for `endpoint` (none by default).
    pub(crate) fn paging(&self, endpoint: &str) -> SimPaging {
        self.paging
            .get(&endpoint.to_ascii_lowercase())
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn new(config: &SimulatorConfig, now: DateTime<Utc>) -> Data {
        let mut data = Data {
            rng: StdRng::seed_from_u64(config.seed),
            suppliers: BTreeMap::new(),
            products: None,
            purchases: BTreeMap::new(),
            accounts: Vec::new(),
            tax_rules: Vec::new(),
            payment_terms: Vec::new(),
            locations: Vec::new(),
            webhooks: Vec::new(),
            me: Map::new(),
            next_order_number: 1,
            next_invoice_number: 1,
            accounting_integration: config.accounting_integration,
            paging: config.paging.clone(),
            window: HashMap::new(),
            calls: BTreeMap::new(),
            throttled: 0,
            deliveries: Vec::new(),
            webhook_failures: HashMap::new(),
            events: Vec::new(),
        };
        data.products = config.products.as_ref().map(|skus| {
            skus.iter()
                .map(|sku| (sku.to_ascii_lowercase(), product(sku)))
                .collect()
        });
        data.seed_reference(config);
        data.seed_suppliers(config.suppliers, &config.base_currency, now);
        data
    }

    /// A fresh GUID from the seeded generator (upper-case now and then, like Cin7's mix).
    pub(crate) fn guid(&mut self) -> String {
        let n: u128 = self.rng.random();
        let hex = format!("{n:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    fn seed_reference(&mut self, config: &SimulatorConfig) {
        // A realistic Australian chart (Xero-style codes, which Cin7 mirrors).
        let chart: &[(&str, &str, &str, &str, Option<&str>)] = &[
            ("090", "Business Bank Account", "BANK", "ASSET", None),
            ("091", "Business Savings Account", "BANK", "ASSET", None),
            ("200", "Sales", "REVENUE", "REVENUE", None),
            ("260", "Other Revenue", "REVENUE", "REVENUE", None),
            ("270", "Interest Income", "REVENUE", "REVENUE", None),
            ("310", "Cost of Goods Sold", "EXPENSE", "EXPENSE", None),
            ("400", "Advertising", "EXPENSE", "EXPENSE", None),
            ("404", "Bank Fees", "EXPENSE", "EXPENSE", None),
            ("412", "Consulting & Accounting", "EXPENSE", "EXPENSE", None),
            ("425", "Freight & Courier", "EXPENSE", "EXPENSE", None),
            ("429", "General Expenses", "EXPENSE", "EXPENSE", None),
            ("445", "Light, Power, Heating", "EXPENSE", "EXPENSE", None),
            ("469", "Rent", "EXPENSE", "EXPENSE", None),
            ("473", "Repairs and Maintenance", "EXPENSE", "EXPENSE", None),
            ("493", "Travel - National", "EXPENSE", "EXPENSE", None),
            (
                "610",
                "Accounts Receivable",
                "CURRENT",
                "ASSET",
                Some("DEBTORS"),
            ),
            ("620", "Prepayments", "CURRENT", "ASSET", None),
            ("630", "Inventory", "INVENTORY", "ASSET", None),
            ("710", "Office Equipment", "FIXED", "ASSET", None),
            ("715", "Stock on Hand", "INVENTORY", "ASSET", None),
            ("720", "Computer Equipment", "FIXED", "ASSET", None),
            (
                "800",
                "Accounts Payable",
                "CURRLIAB",
                "LIABILITY",
                Some("CREDITORS"),
            ),
            ("820", "GST", "CURRLIAB", "LIABILITY", Some("GST")),
            (
                "825",
                "PAYG Withholdings Payable",
                "CURRLIAB",
                "LIABILITY",
                None,
            ),
            (
                "840",
                "Historical Adjustment",
                "CURRLIAB",
                "LIABILITY",
                Some("HISTORICAL"),
            ),
            ("850", "Suspense", "CURRLIAB", "LIABILITY", None),
            ("860", "Rounding", "CURRLIAB", "LIABILITY", Some("ROUNDING")),
            (
                "877",
                "Tracking Transfers",
                "CURRLIAB",
                "LIABILITY",
                Some("TRACKINGTRANSFERS"),
            ),
            ("880", "Owner A Drawings", "EQUITY", "EQUITY", None),
            ("900", "Loan", "TERMLIA", "LIABILITY", None),
            (
                "960",
                "Retained Earnings",
                "EQUITY",
                "EQUITY",
                Some("RETAINEDEARNINGS"),
            ),
            ("970", "Owner A Share Capital", "EQUITY", "EQUITY", None),
        ];
        let mut accounts: Vec<Object> = chart
            .iter()
            .map(|(code, name, kind, class, system)| {
                let mut account = json!({
                    "Code": code, "Name": name, "Type": kind, "Class": class, "Status": "ACTIVE",
                    "Description": "", "DisplayName": format!("{code}: {name}"),
                    "SystemAccount": system.unwrap_or(""), "SystemAccountCode": system.unwrap_or(""),
                    "ForPayments": *kind == "BANK", "OldCode": "",
                });
                if *kind == "BANK" {
                    account["Bank"] = json!("Westpac");
                    account["BankAccountNumber"] = json!(format!("032-000 {code}4417"));
                    account["Currency"] = json!(config.base_currency);
                }
                match account {
                    Value::Object(map) => map,
                    _ => Map::new(),
                }
            })
            .collect();
        // Unsorted, like the real list: a seeded shuffle.
        shuffle(&mut self.rng, &mut accounts);
        for account in &mut accounts {
            account.insert("BankAccountID".into(), Value::Null);
        }
        self.accounts = accounts;

        let rules: &[(&str, &str, f64, bool, bool)] = &[
            ("GST on Expenses", "820", 10.0, false, true),
            ("GST Free Expenses", "820", 0.0, false, true),
            ("GST on Imports", "820", 10.0, false, true),
            ("BAS Excluded", "820", 0.0, true, true),
            ("GST on Income", "820", 10.0, true, false),
            ("GST Free Income", "820", 0.0, true, false),
        ];
        for (name, account, percent, sale, purchase) in rules {
            let id = self.guid();
            let rule = json!({
                "ID": id, "Name": name, "Account": account, "TaxInclusive": false,
                "TaxPercent": percent, "IsActive": true, "IsTaxForSale": sale,
                "IsTaxForPurchase": purchase,
                "Components": [{"Name": name, "Percent": format!("{percent:.10}"),
                                "AccountCode": account, "Compound": "0", "ComponentOrder": 1}],
            });
            if let Value::Object(map) = rule {
                self.tax_rules.push(map);
            }
        }
        let terms: &[(&str, u32, &str, bool)] = &[
            ("30 days", 30, "number of days", true),
            ("7 days", 7, "number of days", false),
            ("14 days", 14, "number of days", false),
            ("Net 60", 60, "number of days", false),
            ("20th of next month", 20, "day of next month", false),
            ("End of next month", 0, "last day of next month", false),
            ("COD", 0, "number of days", false),
        ];
        for (name, duration, method, default) in terms {
            let id = self.guid();
            let term = json!({"ID": id, "Name": name, "Duration": duration, "Method": method,
                              "IsActive": true, "IsDefault": default});
            if let Value::Object(map) = term {
                self.payment_terms.push(map);
            }
        }
        let locations: &[(&str, &str, bool)] = &[
            ("Main Warehouse", "Sydney", true),
            ("Melbourne DC", "Melbourne", false),
            ("Brisbane Store", "Brisbane", false),
            ("Old Depot", "Perth", false),
        ];
        for (name, city, default) in locations {
            let id = self.guid();
            let location = json!({
                "ID": id, "Name": name, "IsDefault": default, "Deprecated": *name == "Old Depot",
                "ParentID": Value::Null, "AddressLine1": format!("1 {city} Road"),
                "AddressCitySuburb": city, "AddressCountry": "Australia",
                "Bins": [],
            });
            if let Value::Object(map) = location {
                self.locations.push(map);
            }
        }
        let me = json!({
            "Company": "Simulated Trading Pty Ltd",
            "Currency": config.base_currency,
            "TimeZone": "Australia/Sydney",
            "DefaultWeightUnits": "kg",
            "DefaultDimensionsUnits": "cm",
            "LockDate": Value::Null,
            "TaxCalculationMethod": "Exclusive",
            "MaximumDecimalPlacesInQuantity": "N4",
            "RoundingTable": "N2",
        });
        if let Value::Object(map) = me {
            self.me = map;
        }
    }

    fn seed_suppliers(&mut self, count: usize, base_currency: &str, now: DateTime<Utc>) {
        const FIRST: &[&str] = &[
            "Acme",
            "Globex",
            "Initech",
            "Umbrella",
            "Stark",
            "Wayne",
            "Wonka",
            "Tyrell",
            "Cyberdyne",
            "Soylent",
            "Hooli",
            "Vandelay",
            "Oscorp",
            "Monarch",
            "Atlas",
            "Northwind",
            "Contoso",
            "Fabrikam",
            "Southern Cross",
            "Blue Gum",
        ];
        const TRADE: &[&str] = &[
            "Industrial",
            "Timber",
            "Fasteners",
            "Packaging",
            "Chemicals",
            "Electrical",
            "Logistics",
            "Foods",
            "Textiles",
            "Metals",
        ];
        const FORM: &[&str] = &["Pty Ltd", "Ltd", "Inc", "GmbH", "LLC", "& Co"];
        const CITIES: &[(&str, &str, &str)] = &[
            ("Sydney", "NSW", "2000"),
            ("Melbourne", "VIC", "3000"),
            ("Brisbane", "QLD", "4000"),
            ("Auckland", "Auckland", "1010"),
            ("Perth", "WA", "6000"),
        ];
        let mut used = std::collections::HashSet::new();
        for i in 0..count {
            let mut name = format!(
                "{} {} {}",
                FIRST[self.rng.random_range(0..FIRST.len())],
                TRADE[self.rng.random_range(0..TRADE.len())],
                FORM[self.rng.random_range(0..FORM.len())]
            );
            if !used.insert(name.clone()) {
                name = format!("{name} ({})", i + 1);
                used.insert(name.clone());
            }
            let id = self.guid();
            let age = self.rng.random_range(0..365 * 24 * 3600_i64);
            let modified = now - chrono::Duration::seconds(age);
            let currency = match self.rng.random_range(0..10) {
                0 => "USD",
                1 => "NZD",
                2 => "EUR",
                _ => base_currency,
            };
            let deprecated = self.rng.random_bool(0.1);
            let (city, state, postcode) = CITIES[self.rng.random_range(0..CITIES.len())];
            let address_id = self.guid();
            let contact_id = self.guid();
            let number = self.rng.random_range(1..400);
            let supplier = json!({
                "ID": id, "Name": name, "Currency": currency, "PaymentTerm": "30 days",
                "AccountPayable": "800", "TaxRule": "GST on Expenses",
                "Status": if deprecated { "Deprecated" } else { "Active" },
                "Discount": 0, "Comments": "", "TaxNumber": "", "AttributeSet": Value::Null,
                "LastModifiedOn": stamp(modified),
                "Addresses": [{"ID": address_id, "SupplierID": id, "Line1": format!("{number} Industrial Drive"),
                               "Line2": "", "City": city, "State": state, "Postcode": postcode,
                               "Country": "Australia", "Type": "Business", "DefaultForType": true}],
                "Contacts": [{"ID": contact_id, "SupplierID": id, "Name": "Accounts",
                              "Phone": format!("02 9{number:03} 0000"), "MobilePhone": "", "Fax": "",
                              "Email": format!("accounts{}@supplier.example", i + 1), "Website": "",
                              "Comment": "", "Default": true, "IncludeInEmail": true}],
            });
            if let Value::Object(map) = supplier {
                self.suppliers.insert(id, map);
            }
        }
    }

    pub(crate) fn tax_rule(&self, name: &str) -> Option<&Object> {
        self.tax_rules
            .iter()
            .find(|r| super::wire::field_is(r, "Name", name))
    }

    pub(crate) fn payment_term(&self, name: &str) -> Option<&Object> {
        self.payment_terms
            .iter()
            .find(|r| super::wire::field_is(r, "Name", name))
    }

    pub(crate) fn location(&self, name: &str) -> Option<&Object> {
        self.locations
            .iter()
            .find(|r| super::wire::field_is(r, "Name", name))
    }

    pub(crate) fn account(&self, code: &str) -> Option<&Object> {
        self.accounts
            .iter()
            .find(|r| super::wire::field_is(r, "Code", code))
    }

    pub(crate) fn raise(&mut self, event_type: &'static str, payload: Value) {
        self.events.push(Event {
            event_type,
            payload,
        });
    }
}

fn shuffle<T>(rng: &mut StdRng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}
