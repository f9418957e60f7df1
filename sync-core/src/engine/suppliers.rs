//! Suppliers: match by cross-reference → stamped vendor ID → optional exact name; create when
//! there is no match; flag more than one candidate for review.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{Outcome, Pipeline, Processed, RecordContext, RunContext, process_record};
use crate::error::{MappingError, MappingKind, SyncError};
use crate::mapping::DeletePolicy;
use crate::mapping::{Mappings, NameMatch};
use crate::model::{PartyStatus, Record, RecordKind, SourceIdentity, Supplier};
use crate::source::Source;
use crate::store::{Action, AuditStatus, ErrorClass, MatchResult, StreamId};
use crate::target::{SupplierDraft, SupplierTarget, TargetSupplier};

/// The target's suppliers, indexed for matching. Built from full list pages once per window.
///
/// It holds, per supplier, only what matching needs: the id, the vendor ID (from
/// `vendor_field`) and, unless left out with [`SupplierIndex::with_names`], the name; each
/// string once, shared between the maps. Not the suppliers' other fields: the index grows with
/// every supplier the target holds, so its size per supplier is what a large account costs.
#[derive(Debug, Clone, Default)]
pub struct SupplierIndex {
    by_id: HashMap<Arc<str>, IndexKeys>,
    by_vendor: HashMap<Arc<str>, Vec<Arc<str>>>,
    by_name: HashMap<Arc<str>, Vec<Arc<str>>>,
    vendor_field: Option<String>,
    skip_names: bool,
}

/// The keys a supplier is indexed under, so replacing it touches only its own lists.
#[derive(Debug, Clone, Default)]
struct IndexKeys {
    vendor: Option<Arc<str>>,
    name: Option<Arc<str>>,
    deprecated: bool,
}

/// Add `id` to the list under `key`; returns the shared key.
fn push_key(map: &mut HashMap<Arc<str>, Vec<Arc<str>>>, key: &str, id: &Arc<str>) -> Arc<str> {
    match map.get_key_value(key) {
        Some((shared, _)) => {
            let shared = shared.clone();
            if let Some(ids) = map.get_mut(key) {
                ids.push(id.clone());
            }
            shared
        }
        None => {
            let shared: Arc<str> = Arc::from(key);
            map.insert(shared.clone(), vec![id.clone()]);
            shared
        }
    }
}

/// Take `id` off the list under `key`, dropping the list when it empties.
fn drop_key(map: &mut HashMap<Arc<str>, Vec<Arc<str>>>, key: &str, id: &str) {
    if let Some(ids) = map.get_mut(key) {
        ids.retain(|x| &**x != id);
        if ids.is_empty() {
            map.remove(key);
        }
    }
}

impl SupplierIndex {
    /// An empty index reading the vendor ID from `vendor_field`.
    pub fn new(vendor_field: Option<String>) -> Self {
        SupplierIndex {
            vendor_field,
            ..SupplierIndex::default()
        }
    }

    /// Whether to index names (default: yes). Without them [`SupplierIndex::by_name`] finds
    /// nothing; the supplier pipeline leaves them out when it never matches by name.
    pub fn with_names(mut self, names: bool) -> Self {
        self.skip_names = !names;
        self
    }

    /// Add or replace one supplier.
    pub fn insert(&mut self, supplier: TargetSupplier) {
        self.remove(&supplier.id);
        let id: Arc<str> = Arc::from(supplier.id);
        let vendor = self
            .vendor_field
            .as_ref()
            .and_then(|f| supplier.extra_fields.get(f))
            .filter(|v| !v.is_empty())
            .map(|vendor| push_key(&mut self.by_vendor, vendor, &id));
        let name = (!self.skip_names).then(|| push_key(&mut self.by_name, &supplier.name, &id));
        let deprecated = supplier.status == Some(PartyStatus::Inactive);
        self.by_id.insert(
            id,
            IndexKeys {
                vendor,
                name,
                deprecated,
            },
        );
    }

    fn remove(&mut self, id: &str) {
        if let Some(keys) = self.by_id.remove(id) {
            if let Some(vendor) = keys.vendor {
                drop_key(&mut self.by_vendor, &vendor, id);
            }
            if let Some(name) = keys.name {
                drop_key(&mut self.by_name, &name, id);
            }
        }
    }

    /// Whether the target says supplier `id` is deprecated.
    pub fn is_deprecated(&self, id: &str) -> bool {
        self.by_id.get(id).is_some_and(|keys| keys.deprecated)
    }

    /// Number of suppliers indexed.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether a target id is present.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Target ids whose vendor-ID field equals `vendor_id`.
    pub fn by_vendor(&self, vendor_id: &str) -> &[Arc<str>] {
        self.by_vendor.get(vendor_id).map_or(&[], Vec::as_slice)
    }

    /// The vendor ID stamped on target supplier `id`, if any.
    pub fn vendor_of(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).and_then(|keys| keys.vendor.as_deref())
    }

    /// Target ids whose name equals `name` exactly (none when names are not indexed).
    pub fn by_name(&self, name: &str) -> &[Arc<str>] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

/// The supplier pipeline.
pub struct SupplierPipeline {
    target: Arc<dyn SupplierTarget>,
    mappings: Mappings,
    page_limit: u32,
    index: Mutex<Option<SupplierIndex>>,
    // Set when a create's outcome is unknown: the index may lack what was created, so an
    // uncertain retry in the same window rebuilds it before matching.
    stale: AtomicBool,
}

impl std::fmt::Debug for SupplierPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupplierPipeline")
            .field("page_limit", &self.page_limit)
            .finish_non_exhaustive()
    }
}

impl SupplierPipeline {
    /// A pipeline writing to `target` with `mappings`; index pages of 1000.
    pub fn new(target: Arc<dyn SupplierTarget>, mappings: Mappings) -> Self {
        SupplierPipeline {
            target,
            mappings,
            page_limit: 1000,
            index: Mutex::new(None),
            stale: AtomicBool::new(false),
        }
    }

    /// Page size for building the index (Cin7 allows 1..=1000).
    pub fn with_page_limit(mut self, limit: u32) -> Self {
        self.page_limit = limit.clamp(1, 1000);
        self
    }

    /// Whether matching may ever look at names: by choice, or (no vendor-ID field) as the
    /// only way to find what an uncertain create may have made.
    fn matches_by_name(&self) -> bool {
        self.mappings.name_match != NameMatch::Create || self.mappings.vendor_id_field.is_none()
    }

    fn index(&self) -> MutexGuard<'_, Option<SupplierIndex>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Build the index from full list pages: ceil(N / limit) calls.
    pub async fn rebuild_index(&self) -> Result<usize, SyncError> {
        // What an uncertain create made before now is in the pages read below.
        self.stale.store(false, Ordering::SeqCst);
        let mut index = SupplierIndex::new(self.mappings.vendor_id_field.clone())
            .with_names(self.matches_by_name());
        let mut page = 1;
        loop {
            let got = self.target.list_suppliers(page, self.page_limit).await?;
            let count = got.items.len();
            for supplier in got.items {
                index.insert(supplier);
            }
            if count == 0 || (count as u32) < self.page_limit || index.len() as u64 >= got.total {
                break;
            }
            page += 1;
        }
        let len = index.len();
        *self.index() = Some(index);
        self.stale.store(false, Ordering::SeqCst);
        Ok(len)
    }

    /// Map a canonical supplier to a target draft.
    pub fn draft(&self, supplier: &Supplier) -> Result<SupplierDraft, MappingError> {
        let m = &self.mappings;
        let context = format!("supplier {}", supplier.vendor_id);
        let payment_term = match &supplier.payment_term {
            Some(code) => m.map(MappingKind::PaymentTerm, code, &context)?,
            None => m
                .supplier_defaults
                .payment_term
                .clone()
                .ok_or_else(|| MappingError {
                    kind: MappingKind::PaymentTerm,
                    value: String::new(),
                    context: format!("{context} has none and no default is set"),
                })?,
        };
        let tax_rule = match &supplier.tax_rule {
            Some(code) => m.map(MappingKind::TaxRule, code, &context)?,
            None => m
                .supplier_defaults
                .tax_rule
                .clone()
                .ok_or_else(|| MappingError {
                    kind: MappingKind::TaxRule,
                    value: String::new(),
                    context: format!("{context} has none and no default is set"),
                })?,
        };
        let mut extra_fields = BTreeMap::new();
        if let Some(field) = &m.vendor_id_field {
            extra_fields.insert(field.clone(), supplier.vendor_id.clone());
        }
        Ok(SupplierDraft {
            name: supplier.name.clone(),
            currency: m.map(MappingKind::Currency, &supplier.currency, &context)?,
            payment_term,
            tax_rule,
            account_payable: m.supplier_defaults.account_payable.clone(),
            tax_number: supplier.tax_number.clone(),
            status: supplier.status.clone(),
            addresses: supplier.addresses.clone(),
            contacts: supplier.contacts.clone(),
            extra_fields,
        })
    }

    /// Make sure the supplier `identity` exists in the target, for a record that depends on it
    /// (rule 7): use the cross-reference, else fetch the supplier from `source` and run it
    /// through this pipeline. Returns the target id, or why it is not available yet. The
    /// supplier's own audit entries are added to `ctx`'s commit.
    pub async fn ensure(
        &self,
        ctx: &RecordContext<'_>,
        source: &dyn Source<Supplier>,
        identity: &SourceIdentity,
    ) -> Result<Result<String, String>, SyncError> {
        if let Some(xref) = ctx
            .store()
            .cross_ref(ctx.tenant(), RecordKind::Supplier, identity)
            .await?
        {
            return Ok(Ok(xref.target_id));
        }
        let supplier = match source.fetch(identity).await {
            Ok(Some(supplier)) => supplier,
            Ok(None) => {
                return Ok(Err(format!(
                    "supplier {} not found in the source",
                    identity.id
                )));
            }
            Err(error) => {
                return Ok(Err(format!(
                    "cannot fetch supplier {}: {error}",
                    identity.id
                )));
            }
        };
        let needs_index = self.index().is_none();
        if needs_index && let Err(error) = self.rebuild_index().await {
            return Ok(Err(format!("cannot read target suppliers: {error}")));
        }
        let processed = process_record(ctx.run(), self, &supplier, false, None).await?;
        let result = match processed.entry() {
            Some(entry) if entry.status == AuditStatus::Succeeded => entry
                .target_id
                .clone()
                .ok_or_else(|| "supplier written without a target id".to_owned()),
            Some(entry) => Err(format!(
                "supplier {} is {:?}: {}",
                identity.id,
                entry.status,
                entry
                    .error
                    .as_ref()
                    .map(|e| e.message.as_str())
                    .unwrap_or("")
            )),
            None => {
                // Unchanged and already written: the cross-reference has the id.
                match ctx
                    .store()
                    .cross_ref(ctx.tenant(), RecordKind::Supplier, identity)
                    .await?
                {
                    Some(xref) => Ok(xref.target_id),
                    None => Err(format!("supplier {} is flagged for review", identity.id)),
                }
            }
        };
        if let Processed::Entries(entries) = processed {
            ctx.push_dependency_entries(entries);
        }
        Ok(result)
    }

    fn find(&self, ctx_uncertain: bool, xref_target: Option<&str>, supplier: &Supplier) -> Found {
        let guard = self.index();
        let Some(index) = guard.as_ref() else {
            return Found::None;
        };
        if let Some(id) = xref_target.filter(|id| index.contains(id)) {
            return Found::One(id.to_owned(), MatchResult::CrossRef);
        }
        if self.mappings.vendor_id_field.is_some() {
            match index.by_vendor(&supplier.vendor_id) {
                [] => {}
                [one] => return Found::One(one.to_string(), MatchResult::ById),
                many => return Found::Many(many.iter().map(|id| id.to_string()).collect()),
            }
        }
        // After an uncertain create with no vendor-ID field, the exact name is the only way to
        // find what may have been created.
        let names = index.by_name(&supplier.name);
        if self.mappings.name_match == NameMatch::Link
            || (ctx_uncertain && self.mappings.vendor_id_field.is_none())
        {
            match names {
                [] => {}
                [one] => return Found::One(one.to_string(), MatchResult::ByName),
                many => return Found::Many(many.iter().map(|id| id.to_string()).collect()),
            }
        }
        if self.mappings.name_match == NameMatch::Review {
            // Only a supplier no vendor claims can be this vendor's (one stamped with another
            // vendor ID is another vendor's namesake).
            let unlinked: Vec<String> = names
                .iter()
                .filter(|id| index.vendor_of(id).is_none())
                .map(|id| id.to_string())
                .collect();
            if !unlinked.is_empty() {
                return Found::SameName(unlinked);
            }
        }
        Found::None
    }
}

enum Found {
    None,
    One(String, MatchResult),
    Many(Vec<String>),
    /// Unlinked target suppliers with exactly this name, under [`NameMatch::Review`].
    SameName(Vec<String>),
}

#[async_trait]
impl Pipeline for SupplierPipeline {
    type Record = Supplier;

    fn when_deleted(&self, mut last: Supplier) -> Option<Supplier> {
        match self.mappings.deleted_suppliers {
            DeletePolicy::Keep => None,
            DeletePolicy::Deactivate => {
                last.status = PartyStatus::Inactive;
                Some(last)
            }
        }
    }

    fn revision(&self) -> String {
        self.mappings.revision.clone()
    }

    fn stream(&self) -> StreamId {
        StreamId::suppliers()
    }

    async fn prepare(&self, _run: &RunContext) -> Result<(), SyncError> {
        // The index is rebuilt once per window, lazily: the first record that needs matching
        // reads the pages, so a window with nothing to write (an idle poll) costs no call.
        *self.index() = None;
        Ok(())
    }

    async fn apply(
        &self,
        ctx: &RecordContext<'_>,
        supplier: &Supplier,
    ) -> Result<Outcome, SyncError> {
        let draft = match self.draft(supplier) {
            Ok(draft) => draft,
            Err(error) => return Ok(Outcome::mapping(&error)),
        };
        let mapped = serde_json::to_value(&draft).ok();
        let needs_index = self.index().is_none();
        if needs_index || (ctx.uncertain() && self.stale.load(Ordering::SeqCst)) {
            self.rebuild_index().await?;
        }
        let xref = ctx
            .store()
            .cross_ref(ctx.tenant(), Supplier::KIND, supplier.identity())
            .await?;
        let found = self.find(
            ctx.uncertain(),
            xref.as_ref().map(|x| x.target_id.as_str()),
            supplier,
        );
        if ctx.link_only()
            && !matches!(
                found,
                Found::One(_, MatchResult::CrossRef | MatchResult::ById)
            )
        {
            // A deletion only updates the supplier the vendor is linked to; that one is gone
            // (or was never linked): nothing to write, nothing created or matched by name.
            return Ok(Outcome::skipped(format!(
                "vendor {} has no linked target supplier any more: nothing to deprecate",
                supplier.vendor_id
            )));
        }
        match found {
            Found::Many(ids) => Ok(Outcome::conflict(
                ErrorClass::Ambiguous,
                format!(
                    "{} target suppliers match vendor {} ({}); pick one and set its cross-reference",
                    ids.len(),
                    supplier.vendor_id,
                    ids.join(", ")
                ),
            )
            .with_match(Some(MatchResult::Ambiguous))
            .with_mapped(mapped)),
            Found::SameName(ids) => Ok(Outcome::conflict(
                ErrorClass::Ambiguous,
                format!(
                    "vendor {} ({}) has no link, and the target already holds {} supplier(s) with exactly that name and no vendor ID ({}): neither created nor linked; set mappings name_match = \"link\" (use it) or \"create\" (a new one), then replay",
                    supplier.vendor_id,
                    supplier.name,
                    ids.len(),
                    ids.join(", ")
                ),
            )
            .with_match(Some(MatchResult::Ambiguous))
            .with_mapped(Some(serde_json::json!({ "supplier": mapped, "candidates": ids })))),
            Found::One(id, MatchResult::ByName)
                if !self.mappings.reactivate_deprecated
                    && draft.status == PartyStatus::Active
                    && self.index().as_ref().is_some_and(|i| i.is_deprecated(&id)) =>
            {
                Ok(Outcome::conflict(
                    ErrorClass::Ambiguous,
                    format!(
                        "vendor {} ({}) matches target supplier {id} by name, which is deprecated there: not reactivated (mappings reactivate_deprecated = false); set reactivate_deprecated = true to use it, or name_match = \"create\" for a new one, then replay",
                        supplier.vendor_id, supplier.name
                    ),
                )
                .with_match(Some(MatchResult::ByName))
                .with_target(Some(id))
                .with_mapped(mapped))
            }
            Found::One(id, how) => {
                ctx.intent(Action::Update, Some(how), Some(id.clone()), mapped.clone())
                    .await?;
                match self.target.update_supplier(&id, &draft).await {
                    Ok(saved) => {
                        ctx.remember(&saved.id, BTreeMap::new(), true).await?;
                        let saved_id = saved.id.clone();
                        if let Some(index) = self.index().as_mut() {
                            index.insert(saved);
                        }
                        Ok(Outcome::succeeded(Action::Update, Some(how), saved_id).with_mapped(mapped))
                    }
                    Err(error) => Ok(Outcome::target(Action::Update, &error)
                        .with_match(Some(how))
                        .with_target(Some(id))
                        .with_mapped(mapped)),
                }
            }
            Found::None => {
                ctx.intent(Action::Create, Some(MatchResult::Created), None, mapped.clone())
                    .await?;
                match self.target.create_supplier(&draft).await {
                    Ok(saved) => {
                        ctx.remember(&saved.id, BTreeMap::new(), true).await?;
                        let saved_id = saved.id.clone();
                        if let Some(index) = self.index().as_mut() {
                            index.insert(saved);
                        }
                        Ok(Outcome::succeeded(Action::Create, Some(MatchResult::Created), saved_id)
                            .with_mapped(mapped))
                    }
                    Err(error) => {
                        if error.outcome_unknown() {
                            self.stale.store(true, Ordering::SeqCst);
                        }
                        Ok(Outcome::target(Action::Create, &error).with_mapped(mapped))
                    }
                }
            }
        }
    }
}
