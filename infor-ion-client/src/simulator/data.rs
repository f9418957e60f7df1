//! The simulated CloudSuite's data: one table of rows per IDO, seeded deterministically and
//! mutable while the simulator runs.
//!
//! Rows hold the IDO property names the client's nouns read ([`crate::csi::nouns`]), as
//! strings, with `RecordDate` stamped from the simulator's clock as a wall time in the site's
//! zone ([`CloudSuiteData::record_date_zone`], UTC unless set), as a site whose SQL Server runs
//! on local time stamps it. The M3 and Data Lake views are derived from the same rows, so all
//! three APIs agree.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One row: property name → value (`None` is SQL NULL).
pub type Row = BTreeMap<String, Option<String>>;

/// A row with the simulator's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    /// Insertion order; the tie-breaker that makes paging stable.
    pub seq: u64,
    /// Bumped on every change: the BOD `variationID` of this row.
    pub variation: u64,
    /// The values.
    pub values: Row,
}

/// The IDOs the simulator serves, with the properties that identify a row.
pub const TABLES: &[(&str, &[&str])] = &[
    ("SLVendors", &["VendNum"]),
    ("SLPos", &["PoNum"]),
    ("SLPoItems", &["PoNum", "PoLine", "PoRelease"]),
    ("SLAptrxs", &["Voucher"]),
    ("SLAptrxds", &["Voucher", "DistSeq"]),
    ("SLAptrxps", &["Voucher"]),
    ("SLAppmts", &["BankCode", "CheckNum", "VendNum"]),
    ("SLCharts", &["Acct"]),
    ("SLCustomers", &["CustNum", "CustSeq"]),
    ("SLItems", &["Item"]),
];

/// How much data to generate. Every count can be zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The random seed: the same seed gives the same data.
    pub seed: u64,
    /// Suppliers (`SLVendors`).
    pub suppliers: usize,
    /// Purchase orders (`SLPos`), each for a random supplier.
    pub purchase_orders: usize,
    /// Lines per purchase order (`SLPoItems`).
    pub lines_per_order: usize,
    /// A/P vouchers (`SLAptrxs`), half of them for a purchase order, each with two
    /// distributions (`SLAptrxds`).
    pub invoices: usize,
    /// Payments (`SLAppmts`) and posted transactions (`SLAptrxps`).
    pub payments: usize,
    /// Customers (`SLCustomers`).
    pub customers: usize,
    /// Items (`SLItems`); PO lines use them.
    pub items: usize,
    /// The first `RecordDate`; rows are spread over the following days.
    pub start: DateTime<Utc>,
}

impl Default for Seed {
    fn default() -> Self {
        Seed {
            seed: 1,
            suppliers: 20,
            purchase_orders: 10,
            lines_per_order: 3,
            invoices: 10,
            payments: 5,
            customers: 5,
            items: 15,
            start: DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default(), // 2026-01-01
        }
    }
}

/// The GL chart every seeded CloudSuite has: (account, description, type).
pub const CHART: &[(&str, &str, &str)] = &[
    ("10000", "Cash", "A"),
    ("12000", "Accounts Receivable", "A"),
    ("13000", "Inventory", "A"),
    ("20000", "Accounts Payable", "L"),
    ("21000", "Accrued Liabilities", "L"),
    ("30000", "Retained Earnings", "O"),
    ("40000", "Sales", "R"),
    ("50000", "Cost of Goods Purchased", "E"),
    ("51000", "Freight In", "E"),
    ("61000", "Office Supplies", "E"),
    ("62000", "Repairs and Maintenance", "E"),
];

const CITIES: &[(&str, &str, &str)] = &[
    ("Dallas", "TX", "USA"),
    ("Chicago", "IL", "USA"),
    ("Toronto", "ON", "CAN"),
    ("Denver", "CO", "USA"),
    ("Portland", "OR", "USA"),
];
const WORDS: &[&str] = &[
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
];
const SUFFIXES: &[&str] = &["Supply", "Industries", "Trading", "Components", "Logistics"];

/// Format a time the way IDO values carry it (as a UTC wall time).
pub fn ido_datetime(at: DateTime<Utc>) -> String {
    ido_datetime_in(at, Tz::UTC)
}

/// Format a time the way IDO values carry it, as the wall time it shows in `zone`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use infor_ion_client::simulator::ido_datetime_in;
///
/// let at = Utc.with_ymd_and_hms(2026, 2, 1, 14, 0, 0).unwrap();
/// assert_eq!(ido_datetime_in(at, chrono_tz::America::Chicago), "2026-02-01 08:00:00.000");
/// ```
pub fn ido_datetime_in(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// The simulated CloudSuite: a table per IDO.
#[derive(Debug, Clone, Default)]
pub struct CloudSuiteData {
    tables: BTreeMap<String, Vec<StoredRow>>,
    /// Rows deleted with [`delete_published`](Self::delete_published), as they were, with the
    /// deletion's variation and `RecordDate`: what the Data Lake publishes as `Delete` BODs.
    deleted: BTreeMap<String, Vec<StoredRow>>,
    next_seq: u64,
    record_date_zone: Tz,
}

fn row(values: &[(&str, Option<String>)]) -> Row {
    values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn some(value: impl ToString) -> Option<String> {
    Some(value.to_string())
}

impl CloudSuiteData {
    /// Empty tables.
    pub fn new() -> Self {
        CloudSuiteData::default()
    }

    /// Data generated from `seed`, `RecordDate` in UTC.
    pub fn seeded(seed: &Seed) -> Self {
        Self::seeded_in(seed, Tz::UTC)
    }

    /// Data generated from `seed`, `RecordDate` stamped (now and on every later change) as
    /// wall times in `zone`. The same seed gives the same instants whatever the zone.
    pub fn seeded_in(seed: &Seed, zone: Tz) -> Self {
        let mut data = CloudSuiteData {
            record_date_zone: zone,
            ..CloudSuiteData::new()
        };
        let stamp = |at: DateTime<Utc>| ido_datetime_in(at, zone);
        let mut rng = StdRng::seed_from_u64(seed.seed);
        let spread =
            |rng: &mut StdRng| seed.start + Duration::minutes(rng.random_range(0..60 * 24 * 30));
        for (acct, description, kind) in CHART {
            data.insert(
                "SLCharts",
                row(&[
                    ("Acct", some(acct)),
                    ("Description", some(description)),
                    ("Type", some(kind)),
                    ("RecordDate", some(stamp(seed.start))),
                ]),
            );
        }
        for n in 1..=seed.items {
            data.insert(
                "SLItems",
                row(&[
                    ("Item", some(format!("ITEM-{n:05}"))),
                    (
                        "Description",
                        some(format!("{} part {n}", WORDS[n % WORDS.len()])),
                    ),
                    ("UM", some("EA")),
                    ("Stat", some("A")),
                    ("ProductCode", some(format!("PC{}", n % 7))),
                    (
                        "UnitCost",
                        some(format!(
                            "{}.{:02}",
                            rng.random_range(1..200),
                            rng.random_range(0..100)
                        )),
                    ),
                    ("RecordDate", some(stamp(spread(&mut rng)))),
                ]),
            );
        }
        for n in 1..=seed.suppliers {
            let (city, state, country) = CITIES[rng.random_range(0..CITIES.len())];
            let name = format!(
                "{} {}",
                WORDS[rng.random_range(0..WORDS.len())],
                SUFFIXES[rng.random_range(0..SUFFIXES.len())]
            );
            data.insert(
                "SLVendors",
                row(&[
                    ("VendNum", some(format!("V{n:06}"))),
                    ("Name", some(format!("{name} {n}"))),
                    (
                        "CurrCode",
                        some(if country == "CAN" { "CAD" } else { "USD" }),
                    ),
                    ("TermsCode", some(["N30", "N45", "N60"][n % 3])),
                    ("PayType", some("C")),
                    ("Stat", some(if n % 25 == 0 { "I" } else { "A" })),
                    ("Contact", some(format!("Buyer {n}"))),
                    ("Phone", some(format!("555-{:04}", n % 10_000))),
                    ("ExternalEmailAddr", some(format!("ap{n}@example.com"))),
                    ("VadAddr_1", some(format!("{} Commerce St", 100 + n))),
                    ("VadAddr_2", None),
                    ("VadCity", some(city)),
                    ("VadStateCode", some(state)),
                    ("VadZip", some(format!("{:05}", 10_000 + n))),
                    ("VadCountry", some(country)),
                    ("TaxCode1", some("TX")),
                    ("RecordDate", some(stamp(spread(&mut rng)))),
                ]),
            );
        }
        let vendor =
            |rng: &mut StdRng| format!("V{:06}", rng.random_range(1..=seed.suppliers.max(1)));
        for n in 1..=seed.purchase_orders {
            let po = format!("PO{n:07}");
            let at = spread(&mut rng);
            data.insert(
                "SLPos",
                row(&[
                    ("PoNum", some(&po)),
                    ("VendNum", some(vendor(&mut rng))),
                    ("OrderDate", some(ido_datetime(at))),
                    ("Stat", some("O")),
                    ("Type", some("R")),
                    ("Whse", some("MAIN")),
                    ("TermsCode", some("N30")),
                    ("VendOrder", None),
                    ("RecordDate", some(stamp(at))),
                ]),
            );
            for line in 1..=seed.lines_per_order {
                let item = format!("ITEM-{:05}", rng.random_range(1..=seed.items.max(1)));
                data.insert(
                    "SLPoItems",
                    row(&[
                        ("PoNum", some(&po)),
                        ("PoLine", some(line)),
                        ("PoRelease", some(0)),
                        ("Item", some(&item)),
                        ("Description", some(format!("{item} for {po}"))),
                        ("QtyOrdered", some(rng.random_range(1..100))),
                        ("QtyReceived", some(0)),
                        (
                            "ItemCost",
                            some(format!(
                                "{}.{:02}",
                                rng.random_range(1..50),
                                rng.random_range(0..100)
                            )),
                        ),
                        ("UM", some("EA")),
                        ("Stat", some("O")),
                        ("DueDate", some(ido_datetime(at + Duration::days(14)))),
                        ("RecordDate", some(stamp(at))),
                    ]),
                );
            }
        }
        for n in 1..=seed.invoices {
            let voucher = format!("{}", 100_000 + n);
            let at = spread(&mut rng);
            let po = (n % 2 == 0 && seed.purchase_orders > 0)
                .then(|| format!("PO{:07}", rng.random_range(1..=seed.purchase_orders)));
            let vend = match &po {
                Some(po) => data
                    .find("SLPos", &[po.as_str()])
                    .and_then(|r| r.values.get("VendNum").cloned().flatten())
                    .unwrap_or_else(|| vendor(&mut rng)),
                None => vendor(&mut rng),
            };
            let goods = rng.random_range(10..2000);
            let freight = rng.random_range(1..50);
            data.insert(
                "SLAptrxs",
                row(&[
                    ("VendNum", some(vend)),
                    ("Voucher", some(&voucher)),
                    ("InvNum", some(format!("INV-{n:06}"))),
                    ("InvDate", some(ido_datetime(at))),
                    ("InvAmt", some(format!("{}.00", goods + freight))),
                    ("DueDate", some(ido_datetime(at + Duration::days(30)))),
                    ("PoNum", po),
                    ("RecordDate", some(stamp(at))),
                ]),
            );
            for (seq, acct, amount) in [(1, "50000", goods), (2, "51000", freight)] {
                data.insert(
                    "SLAptrxds",
                    row(&[
                        ("Voucher", some(&voucher)),
                        ("DistSeq", some(seq)),
                        ("Acct", some(acct)),
                        ("Amount", some(format!("{amount}.00"))),
                        ("RecordDate", some(stamp(at))),
                    ]),
                );
            }
        }
        for n in 1..=seed.payments {
            let at = spread(&mut rng);
            let vend = vendor(&mut rng);
            let amount = rng.random_range(10..2000);
            data.insert(
                "SLAptrxps",
                row(&[
                    ("VendNum", some(&vend)),
                    ("Voucher", some(90_000 + n)),
                    ("InvNum", some(format!("PINV-{n:05}"))),
                    ("InvDate", some(ido_datetime(at))),
                    ("InvAmt", some(format!("{amount}.00"))),
                    ("AmtPaid", some(format!("{amount}.00"))),
                    ("AmtDisc", some("0.00")),
                    ("RecordDate", some(stamp(at))),
                ]),
            );
            data.insert(
                "SLAppmts",
                row(&[
                    ("VendNum", some(&vend)),
                    ("CheckNum", some(5000 + n)),
                    ("CheckDate", some(ido_datetime(at))),
                    ("CheckAmt", some(format!("{amount}.00"))),
                    ("BankCode", some("BK1")),
                    ("Type", some("C")),
                    ("RecordDate", some(stamp(at))),
                ]),
            );
        }
        for n in 1..=seed.customers {
            data.insert(
                "SLCustomers",
                row(&[
                    ("CustNum", some(format!("C{n:05}"))),
                    ("CustSeq", some(0)),
                    (
                        "Name",
                        some(format!("{} Retail {n}", WORDS[n % WORDS.len()])),
                    ),
                    ("CurrCode", some("USD")),
                    ("TermsCode", some("N30")),
                    ("RecordDate", some(stamp(spread(&mut rng)))),
                ]),
            );
        }
        data
    }

    /// The zone `RecordDate` is stamped in.
    pub fn record_date_zone(&self) -> Tz {
        self.record_date_zone
    }

    /// The `RecordDate` text this site stamps a change made at `at` with.
    pub fn record_date(&self, at: DateTime<Utc>) -> String {
        ido_datetime_in(at, self.record_date_zone)
    }

    /// Insert a row (no key check: use [`upsert`](Self::upsert) to replace).
    pub fn insert(&mut self, ido: &str, values: Row) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.tables
            .entry(ido.to_owned())
            .or_default()
            .push(StoredRow {
                seq,
                variation: 1,
                values,
            });
    }

    /// The key properties of `ido`.
    pub fn key_of(ido: &str) -> &'static [&'static str] {
        TABLES
            .iter()
            .find(|(name, _)| *name == ido)
            .map_or(&[], |(_, key)| key)
    }

    fn position(&self, ido: &str, key: &[&str]) -> Option<usize> {
        let props = Self::key_of(ido);
        self.tables.get(ido)?.iter().position(|r| {
            props
                .iter()
                .zip(key)
                .all(|(p, k)| r.values.get(*p).and_then(|v| v.as_deref()) == Some(*k))
        })
    }

    /// The row of `ido` with this key (values in the order of [`key_of`](Self::key_of)).
    pub fn find(&self, ido: &str, key: &[&str]) -> Option<&StoredRow> {
        let index = self.position(ido, key)?;
        self.tables.get(ido)?.get(index)
    }

    /// Replace the row with the same key (bumping its variation), or insert it.
    pub fn upsert(&mut self, ido: &str, values: Row) {
        let key: Vec<String> = Self::key_of(ido)
            .iter()
            .map(|p| values.get(*p).cloned().flatten().unwrap_or_default())
            .collect();
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        match self.position(ido, &key) {
            Some(index) => {
                if let Some(existing) = self.tables.get_mut(ido).and_then(|t| t.get_mut(index)) {
                    existing.values = values;
                    existing.variation += 1;
                }
            }
            None => self.insert(ido, values),
        }
    }

    /// Change properties of a row and stamp its `RecordDate` with `at`. Returns whether the row
    /// exists.
    pub fn update(
        &mut self,
        ido: &str,
        key: &[&str],
        changes: &[(&str, Option<&str>)],
        at: DateTime<Utc>,
    ) -> bool {
        let Some(index) = self.position(ido, key) else {
            return false;
        };
        let Some(row) = self.tables.get_mut(ido).and_then(|t| t.get_mut(index)) else {
            return false;
        };
        for (name, value) in changes {
            row.values
                .insert((*name).to_owned(), value.map(str::to_owned));
        }
        let stamp = ido_datetime_in(at, self.record_date_zone);
        row.values.insert("RecordDate".to_owned(), Some(stamp));
        row.variation += 1;
        true
    }

    /// Insert a row and return its insertion number (the `ID` in its `_ItemId`).
    pub fn insert_row(&mut self, ido: &str, values: Row) -> u64 {
        self.insert(ido, values);
        self.next_seq
    }

    /// The row of `ido` with this insertion number.
    pub fn by_seq(&self, ido: &str, seq: u64) -> Option<&StoredRow> {
        self.rows(ido).iter().find(|r| r.seq == seq)
    }

    /// Change properties of the row with this insertion number, stamp its `RecordDate` with
    /// `at` and bump its variation. Returns whether the row exists.
    pub fn update_by_seq(
        &mut self,
        ido: &str,
        seq: u64,
        changes: &[(String, Option<String>)],
        at: DateTime<Utc>,
    ) -> bool {
        let Some(row) = self
            .tables
            .get_mut(ido)
            .and_then(|t| t.iter_mut().find(|r| r.seq == seq))
        else {
            return false;
        };
        for (name, value) in changes {
            row.values.insert(name.clone(), value.clone());
        }
        let stamp = ido_datetime_in(at, self.record_date_zone);
        row.values.insert("RecordDate".to_owned(), Some(stamp));
        row.variation += 1;
        true
    }

    /// Bump a row's `RecordDate` to `at` without changing anything else.
    pub fn touch(&mut self, ido: &str, key: &[&str], at: DateTime<Utc>) -> bool {
        self.update(ido, key, &[], at)
    }

    /// Delete a row. Returns whether it existed.
    pub fn delete(&mut self, ido: &str, key: &[&str]) -> bool {
        match self.position(ido, key) {
            Some(index) => {
                if let Some(table) = self.tables.get_mut(ido) {
                    table.remove(index);
                }
                true
            }
            None => false,
        }
    }

    /// Delete a row as a CloudSuite user would at `at`: gone from the IDO and MI reads, and
    /// published to the Data Lake as a `Delete` BOD (the next variation, event date `at`).
    /// Returns whether it existed.
    pub fn delete_published(&mut self, ido: &str, key: &[&str], at: DateTime<Utc>) -> bool {
        let Some(index) = self.position(ido, key) else {
            return false;
        };
        let Some(mut row) = self.tables.get_mut(ido).map(|t| t.remove(index)) else {
            return false;
        };
        row.variation += 1;
        row.values.insert(
            "RecordDate".to_owned(),
            Some(ido_datetime_in(at, self.record_date_zone)),
        );
        self.deleted.entry(ido.to_owned()).or_default().push(row);
        true
    }

    /// The rows of `ido` deleted with [`delete_published`](Self::delete_published).
    pub fn deleted_rows(&self, ido: &str) -> &[StoredRow] {
        self.deleted.get(ido).map_or(&[], Vec::as_slice)
    }

    /// Every row of `ido`, in insertion order.
    pub fn rows(&self, ido: &str) -> &[StoredRow] {
        self.tables.get(ido).map_or(&[], Vec::as_slice)
    }

    /// The next voucher number: one above the highest numeric `SLAptrxs.Voucher` (at least
    /// 200001, above the seeded vouchers). `APS450MI` invoice batches and IDO voucher inserts
    /// share it.
    pub fn next_voucher(&self) -> u64 {
        self.rows("SLAptrxs")
            .iter()
            .filter_map(|v| v.values.get("Voucher")?.as_deref()?.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            .max(200_000)
            + 1
    }

    /// How many rows `ido` has.
    pub fn count(&self, ido: &str) -> usize {
        self.rows(ido).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_is_deterministic_and_consistent() {
        let seed = Seed::default();
        let a = CloudSuiteData::seeded(&seed);
        let b = CloudSuiteData::seeded(&seed);
        assert_eq!(a.rows("SLVendors"), b.rows("SLVendors"));
        assert_eq!(
            a.count("SLPoItems"),
            seed.purchase_orders * seed.lines_per_order
        );
        assert_eq!(a.count("SLAptrxds"), seed.invoices * 2);
        // Every PO's vendor exists.
        for po in a.rows("SLPos") {
            let vend = po.values["VendNum"].as_deref().unwrap_or_default();
            assert!(a.find("SLVendors", &[vend]).is_some(), "{vend}");
        }
        let other = CloudSuiteData::seeded(&Seed { seed: 2, ..seed });
        assert_ne!(a.rows("SLVendors"), other.rows("SLVendors"));
    }

    #[test]
    fn update_bumps_variation_and_record_date() {
        let mut data = CloudSuiteData::seeded(&Seed::default());
        let at = Utc::now();
        assert!(data.update("SLVendors", &["V000001"], &[("Name", Some("Renamed"))], at));
        let row = data.find("SLVendors", &["V000001"]).expect("row");
        assert_eq!(row.variation, 2);
        assert_eq!(row.values["Name"].as_deref(), Some("Renamed"));
        assert_eq!(
            row.values["RecordDate"].as_deref(),
            Some(ido_datetime(at).as_str())
        );
        assert!(!data.update("SLVendors", &["nope"], &[], at));
    }
}
