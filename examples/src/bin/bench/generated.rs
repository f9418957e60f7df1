//! A source that generates suppliers as it streams (nothing held in memory) and a target that
//! only counts what it is asked to write, so the engine and the store are all that is measured.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner, WindowReport};
use sync_core::error::{MappingKind, SourceError, SyncError, TargetError};
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::{Address, AddressKind, PartyStatus, SourceIdentity, Supplier};
use sync_core::source::{Source, Window};
use sync_core::store::SyncStore;
use sync_core::target::{SupplierDraft, SupplierTarget, TargetPage, TargetSupplier};
use sync_core::time::ManualClock;

/// Start of the generated data.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Supplier `i`, as CloudSuite would deliver it.
pub fn supplier(tenant: &str, i: usize) -> Supplier {
    Supplier {
        identity: SourceIdentity::new("cloudsuite", tenant, "10", format!("V{i:07}")),
        vendor_id: format!("V{i:07}"),
        name: format!("Supplier number {i} Limited"),
        currency: "USD".into(),
        payment_term: Some("N30".into()),
        tax_rule: Some("TX".into()),
        tax_number: Some(format!("{:09}", i * 7)),
        status: PartyStatus::Active,
        addresses: vec![Address {
            kind: AddressKind::Business,
            line1: format!("{i} Industrial Way"),
            line2: Some("Unit 4".into()),
            city: Some("Springfield".into()),
            state: Some("IL".into()),
            postcode: Some("62701".into()),
            country: "US".into(),
        }],
        contacts: vec![],
        modified_at: t0() - chrono::Duration::minutes(10),
    }
}

/// `n` suppliers generated one at a time as the engine pulls them.
pub struct GeneratedSuppliers {
    /// Tenant stamped on the identities.
    pub tenant: String,
    /// How many.
    pub n: usize,
}

#[async_trait]
impl Source<Supplier> for GeneratedSuppliers {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        Ok(t0())
    }

    fn poll(&self, _window: Window) -> BoxStream<'_, Result<Supplier, SourceError>> {
        let tenant = self.tenant.clone();
        stream::iter(0..self.n)
            .map(move |i| Ok(supplier(&tenant, i)))
            .boxed()
    }

    async fn fetch(&self, _identity: &SourceIdentity) -> Result<Option<Supplier>, SourceError> {
        Ok(None)
    }
}

/// Accepts every write and keeps only a count.
#[derive(Default)]
pub struct CountingTarget {
    /// Writes accepted.
    pub writes: AtomicU64,
}

#[async_trait]
impl SupplierTarget for CountingTarget {
    async fn list_suppliers(
        &self,
        _page: u32,
        _limit: u32,
    ) -> Result<TargetPage<TargetSupplier>, TargetError> {
        Ok(TargetPage {
            items: Vec::new(),
            total: 0,
        })
    }

    async fn create_supplier(&self, draft: &SupplierDraft) -> Result<TargetSupplier, TargetError> {
        let n = self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(TargetSupplier {
            id: format!("0f1e2d3c-0000-4000-8000-{n:012x}"),
            name: draft.name.clone(),
            extra_fields: BTreeMap::new(),
            status: None,
        })
    }

    async fn update_supplier(
        &self,
        id: &str,
        draft: &SupplierDraft,
    ) -> Result<TargetSupplier, TargetError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(TargetSupplier {
            id: id.to_owned(),
            name: draft.name.clone(),
            extra_fields: BTreeMap::new(),
            status: None,
        })
    }
}

/// The mappings the generated suppliers need.
pub fn mappings() -> Mappings {
    Mappings::with_values(
        MappingTable::default()
            .with(MappingKind::PaymentTerm, "N30", "30 days")
            .with(MappingKind::TaxRule, "TX", "GST on Expenses"),
    )
}

/// One supplier window over `n` generated suppliers into `store`.
pub async fn supplier_window(
    store: Arc<dyn SyncStore>,
    tenant: &str,
    n: usize,
) -> Result<WindowReport, SyncError> {
    let clock = ManualClock::new(t0());
    let target = Arc::new(CountingTarget::default());
    let pipeline = Arc::new(SupplierPipeline::new(target, mappings()));
    let source = Arc::new(GeneratedSuppliers {
        tenant: tenant.to_owned(),
        n,
    });
    let runner = StreamRunner::new(pipeline, source, EngineConfig::default());
    let run = RunContext::new(store, clock.shared(), tenant);
    runner.run_window(&run, None).await
}

/// Peak resident set (`VmHWM`) and current (`VmRSS`) in KiB, from `/proc/self/status`.
pub fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Process CPU time (user + system) so far, from `/proc/self/stat` (clock ticks of 10 ms).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) as f64 / 100.0
}
