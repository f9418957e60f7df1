//! In-memory targets.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::Tripwire;
use crate::error::TargetError;
use crate::target::{
    AccountTarget, DocStatus, InvoiceDraft, OrderDraft, PurchaseDraft, PurchaseTarget,
    SupplierDraft, SupplierTarget, TargetAccount, TargetInvoice, TargetPage, TargetPurchase,
    TargetSupplier, TaskStatus,
};

/// A fault injected into one write call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Fails before anything is sent: nothing applied, [`TargetError::not_sent`].
    BeforeSend,
    /// Applied, but the caller sees [`TargetError::unknown_outcome`] (timeout after send).
    AfterSend,
    /// Refused: nothing applied, [`TargetError::rejected`] (validation).
    Permanent,
}

/// Faults keyed by the number of the write call (0-based, counted per target).
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    faults: HashMap<usize, Fault>,
    writes: usize,
    fired: usize,
}

impl FaultPlan {
    /// A plan from (write number, fault) pairs.
    pub fn new(faults: impl IntoIterator<Item = (usize, Fault)>) -> Self {
        FaultPlan {
            faults: faults.into_iter().collect(),
            writes: 0,
            fired: 0,
        }
    }

    fn next(&mut self) -> Option<Fault> {
        let n = self.writes;
        self.writes += 1;
        let fault = self.faults.remove(&n);
        self.fired += usize::from(fault.is_some());
        fault
    }

    /// How many faults have been injected so far.
    pub fn fired(&self) -> usize {
        self.fired
    }
}

async fn step(trip: &Option<Arc<Tripwire>>) {
    if let Some(trip) = trip {
        trip.step().await;
    }
}

/// Runs one write with the fault plan: `apply` runs unless the fault prevents it.
async fn write<T>(
    plan: &Mutex<FaultPlan>,
    trip: &Option<Arc<Tripwire>>,
    apply: impl FnOnce() -> Result<T, TargetError>,
) -> Result<T, TargetError> {
    step(trip).await;
    let fault = plan.lock().unwrap_or_else(|p| p.into_inner()).next();
    match fault {
        Some(Fault::BeforeSend) => Err(TargetError::not_sent("connection refused (injected)")),
        Some(Fault::Permanent) => Err(TargetError::rejected(400, "validation failed (injected)")),
        Some(Fault::AfterSend) => {
            apply()?;
            step(trip).await;
            Err(TargetError::unknown_outcome(
                "timeout after send (injected)",
            ))
        }
        None => {
            let out = apply()?;
            // A crash here loses the response of a write that happened.
            step(trip).await;
            Ok(out)
        }
    }
}

#[derive(Debug, Default)]
struct SupplierState {
    suppliers: BTreeMap<String, SupplierDraft>,
    next_id: u64,
    list_calls: usize,
    creates: usize,
    updates: usize,
}

/// A Cin7-like supplier list.
#[derive(Debug, Clone, Default)]
pub struct MemorySupplierTarget {
    state: Arc<Mutex<SupplierState>>,
    plan: Arc<Mutex<FaultPlan>>,
    trip: Option<Arc<Tripwire>>,
}

impl MemorySupplierTarget {
    /// An empty target.
    pub fn new() -> Self {
        MemorySupplierTarget::default()
    }

    /// Count steps on `trip`.
    pub fn with_tripwire(mut self, trip: Arc<Tripwire>) -> Self {
        self.trip = Some(trip);
        self
    }

    fn lock(&self) -> MutexGuard<'_, SupplierState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replace the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        *self.plan.lock().unwrap_or_else(|p| p.into_inner()) = plan;
    }

    /// How many faults of the current plan have been injected.
    pub fn faults_fired(&self) -> usize {
        self.plan.lock().unwrap_or_else(|p| p.into_inner()).fired()
    }

    /// Insert a supplier directly (as if someone created it in the target); returns its id.
    pub fn seed(&self, draft: SupplierDraft) -> String {
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("sup-{:04}", state.next_id);
        state.suppliers.insert(id.clone(), draft);
        id
    }

    /// All suppliers by id.
    pub fn suppliers(&self) -> BTreeMap<String, SupplierDraft> {
        self.lock().suppliers.clone()
    }

    /// (list calls, creates, updates) that succeeded or were applied.
    pub fn calls(&self) -> (usize, usize, usize) {
        let s = self.lock();
        (s.list_calls, s.creates, s.updates)
    }
}

fn summary(id: &str, draft: &SupplierDraft) -> TargetSupplier {
    TargetSupplier {
        id: id.to_owned(),
        name: draft.name.clone(),
        extra_fields: draft.extra_fields.clone(),
        status: Some(draft.status.clone()),
    }
}

#[async_trait]
impl SupplierTarget for MemorySupplierTarget {
    async fn list_suppliers(
        &self,
        page: u32,
        limit: u32,
    ) -> Result<TargetPage<TargetSupplier>, TargetError> {
        step(&self.trip).await;
        let mut state = self.lock();
        state.list_calls += 1;
        let total = state.suppliers.len() as u64;
        let skip = (page.saturating_sub(1) as usize).saturating_mul(limit as usize);
        let items = state
            .suppliers
            .iter()
            .skip(skip)
            .take(limit as usize)
            .map(|(id, d)| summary(id, d))
            .collect();
        Ok(TargetPage { items, total })
    }

    async fn create_supplier(&self, draft: &SupplierDraft) -> Result<TargetSupplier, TargetError> {
        write(&self.plan, &self.trip, || {
            let mut state = self.lock();
            state.next_id += 1;
            state.creates += 1;
            let id = format!("sup-{:04}", state.next_id);
            state.suppliers.insert(id.clone(), draft.clone());
            Ok(summary(&id, draft))
        })
        .await
    }

    async fn update_supplier(
        &self,
        id: &str,
        draft: &SupplierDraft,
    ) -> Result<TargetSupplier, TargetError> {
        write(&self.plan, &self.trip, || {
            let mut state = self.lock();
            let Some(slot) = state.suppliers.get_mut(id) else {
                return Err(TargetError::rejected(
                    404,
                    format!("supplier {id} not found"),
                ));
            };
            *slot = draft.clone();
            state.updates += 1;
            Ok(summary(id, draft))
        })
        .await
    }
}

/// A purchase held by [`MemoryPurchaseTarget`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPurchase {
    /// Header as created.
    pub header: PurchaseDraft,
    /// Order step, once written.
    pub order: Option<OrderDraft>,
    /// Order status.
    pub order_status: TaskStatus,
    /// Invoices (task id → draft, status).
    pub invoices: BTreeMap<String, (InvoiceDraft, TaskStatus)>,
}

/// How many calls of each kind [`MemoryPurchaseTarget`] received (every call, including
/// those a fault made fail), to check what a sync costs in target calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurchaseCalls {
    /// `find_purchases` (a lookup: several calls in Cin7).
    pub finds: usize,
    /// `find_purchases_since` (one shared scan for many references: a `purchaseList` walk
    /// plus one read per candidate in Cin7).
    pub scans: usize,
    /// `get_purchase`, plus the read-back `set_order` makes when the caller's view says the
    /// order is not editable (both one `GET /advanced-purchase` in Cin7).
    pub gets: usize,
    /// `create_purchase`.
    pub creates: usize,
    /// `set_order` writes.
    pub orders: usize,
    /// `post_invoice`.
    pub invoices: usize,
}

impl PurchaseCalls {
    /// All calls.
    pub fn total(&self) -> usize {
        self.finds + self.scans + self.gets + self.creates + self.orders + self.invoices
    }
}

#[derive(Debug, Default)]
struct PurchaseState {
    purchases: BTreeMap<String, StoredPurchase>,
    next_id: u64,
    calls: PurchaseCalls,
}

/// A Cin7-like advanced-purchase store.
#[derive(Debug, Clone, Default)]
pub struct MemoryPurchaseTarget {
    state: Arc<Mutex<PurchaseState>>,
    plan: Arc<Mutex<FaultPlan>>,
    trip: Option<Arc<Tripwire>>,
}

fn status_of(doc: DocStatus) -> TaskStatus {
    match doc {
        DocStatus::Draft => TaskStatus::Draft,
        DocStatus::Authorised => TaskStatus::Authorised,
    }
}

impl MemoryPurchaseTarget {
    /// An empty target.
    pub fn new() -> Self {
        MemoryPurchaseTarget::default()
    }

    /// Count steps on `trip`.
    pub fn with_tripwire(mut self, trip: Arc<Tripwire>) -> Self {
        self.trip = Some(trip);
        self
    }

    fn lock(&self) -> MutexGuard<'_, PurchaseState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `purchase` carries `reference` (its own, or an invoice's number).
    fn carries(purchase: &StoredPurchase, reference: &str) -> bool {
        purchase.header.reference == reference
            || purchase
                .invoices
                .values()
                .any(|(d, _)| d.invoice_number == reference)
    }

    /// Replace the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        *self.plan.lock().unwrap_or_else(|p| p.into_inner()) = plan;
    }

    /// All purchases by id.
    pub fn purchases(&self) -> BTreeMap<String, StoredPurchase> {
        self.lock().purchases.clone()
    }

    /// The calls received so far.
    pub fn calls(&self) -> PurchaseCalls {
        self.lock().calls
    }

    /// Authorise a purchase's order, as a person in the target would.
    pub fn authorise_order(&self, id: &str) -> bool {
        match self.lock().purchases.get_mut(id) {
            Some(p) => {
                p.order_status = TaskStatus::Authorised;
                true
            }
            None => false,
        }
    }

    /// Set a purchase's order status directly, as a person in the target would (e.g. undo an
    /// authorisation: back to `Draft`).
    pub fn set_order_status(&self, id: &str, status: TaskStatus) -> bool {
        match self.lock().purchases.get_mut(id) {
            Some(p) => {
                p.order_status = status;
                true
            }
            None => false,
        }
    }

    /// Remove a purchase, as voiding or deleting it in the target would.
    pub fn remove_purchase(&self, id: &str) -> bool {
        self.lock().purchases.remove(id).is_some()
    }

    fn view(id: &str, p: &StoredPurchase) -> TargetPurchase {
        TargetPurchase {
            id: id.to_owned(),
            reference: p.header.reference.clone(),
            supplier_id: p.header.supplier_id.clone(),
            approach: p.header.approach,
            order_status: p.order_status.clone(),
            invoices: p
                .invoices
                .iter()
                .map(|(task, (draft, status))| TargetInvoice {
                    task_id: task.clone(),
                    invoice_number: draft.invoice_number.clone(),
                    status: status.clone(),
                })
                .collect(),
        }
    }
}

#[async_trait]
impl PurchaseTarget for MemoryPurchaseTarget {
    async fn find_purchases(&self, reference: &str) -> Result<Vec<TargetPurchase>, TargetError> {
        step(&self.trip).await;
        let mut state = self.lock();
        state.calls.finds += 1;
        Ok(state
            .purchases
            .iter()
            .filter(|(_, p)| Self::carries(p, reference))
            .map(|(id, p)| Self::view(id, p))
            .collect())
    }

    /// One scan for all `references` (`since` is not modelled: every purchase is seen).
    async fn find_purchases_since(
        &self,
        references: &[String],
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Result<BTreeMap<String, Vec<TargetPurchase>>, TargetError> {
        step(&self.trip).await;
        let mut state = self.lock();
        state.calls.scans += 1;
        Ok(references
            .iter()
            .map(|reference| {
                let found = state
                    .purchases
                    .iter()
                    .filter(|(_, p)| Self::carries(p, reference))
                    .map(|(id, p)| Self::view(id, p))
                    .collect();
                (reference.clone(), found)
            })
            .collect())
    }

    async fn get_purchase(&self, id: &str) -> Result<Option<TargetPurchase>, TargetError> {
        step(&self.trip).await;
        let mut state = self.lock();
        state.calls.gets += 1;
        Ok(state.purchases.get(id).map(|p| Self::view(id, p)))
    }

    async fn create_purchase(&self, draft: &PurchaseDraft) -> Result<TargetPurchase, TargetError> {
        self.lock().calls.creates += 1;
        write(&self.plan, &self.trip, || {
            let mut state = self.lock();
            state.next_id += 1;
            let id = format!("pur-{:04}", state.next_id);
            let stored = StoredPurchase {
                header: draft.clone(),
                order: None,
                order_status: TaskStatus::NotAvailable,
                invoices: BTreeMap::new(),
            };
            let view = Self::view(&id, &stored);
            state.purchases.insert(id, stored);
            Ok(view)
        })
        .await
    }

    /// Like Cin7: written at once when the view says the order is editable (refused if it is
    /// not any more); a view that says it is not editable costs a read-back, which reports
    /// success when the stored order already is `order`.
    async fn set_order(
        &self,
        purchase: &TargetPurchase,
        order: &OrderDraft,
    ) -> Result<TargetPurchase, TargetError> {
        let purchase_id = purchase.id.as_str();
        if !purchase.order_status.is_editable() {
            step(&self.trip).await;
            let mut state = self.lock();
            state.calls.gets += 1;
            return match state.purchases.get(purchase_id) {
                Some(p) if p.order.as_ref() == Some(order) => Ok(Self::view(purchase_id, p)),
                Some(p) => Err(TargetError::rejected(
                    400,
                    format!("order is {:?}, not DRAFT", p.order_status),
                )),
                None => Err(TargetError::rejected(
                    404,
                    format!("purchase {purchase_id} not found"),
                )),
            };
        }
        self.lock().calls.orders += 1;
        write(&self.plan, &self.trip, || {
            let mut state = self.lock();
            let Some(p) = state.purchases.get_mut(purchase_id) else {
                return Err(TargetError::rejected(
                    404,
                    format!("purchase {purchase_id} not found"),
                ));
            };
            if !p.order_status.is_editable() {
                return Err(TargetError::rejected(400, "order is not DRAFT"));
            }
            p.order = Some(order.clone());
            p.order_status = status_of(order.status);
            Ok(Self::view(purchase_id, p))
        })
        .await
    }

    async fn post_invoice(
        &self,
        purchase_id: &str,
        task_id: Option<&str>,
        invoice: &InvoiceDraft,
    ) -> Result<TargetInvoice, TargetError> {
        self.lock().calls.invoices += 1;
        write(&self.plan, &self.trip, || {
            let mut state = self.lock();
            let Some(p) = state.purchases.get_mut(purchase_id) else {
                return Err(TargetError::rejected(
                    404,
                    format!("purchase {purchase_id} not found"),
                ));
            };
            if p.order_status != TaskStatus::Authorised {
                return Err(TargetError::rejected(400, "order is not AUTHORISED"));
            }
            if invoice.lines.iter().any(|l| l.account.is_empty()) {
                return Err(TargetError::rejected(
                    400,
                    "Account is required on every line",
                ));
            }
            let task = match task_id {
                Some(task) => match p.invoices.get(task) {
                    Some((_, s)) if s.is_editable() => task.to_owned(),
                    // What an earlier attempt already wrote: nothing to change.
                    Some((there, s)) if there == invoice && *s == status_of(invoice.status) => {
                        return Ok(TargetInvoice {
                            task_id: task.to_owned(),
                            invoice_number: invoice.invoice_number.clone(),
                            status: s.clone(),
                        });
                    }
                    _ => return Err(TargetError::rejected(400, "invoice is not DRAFT")),
                },
                None => format!("{purchase_id}-inv{}", p.invoices.len() + 1),
            };
            p.invoices
                .insert(task.clone(), (invoice.clone(), status_of(invoice.status)));
            Ok(TargetInvoice {
                task_id: task,
                invoice_number: invoice.invoice_number.clone(),
                status: status_of(invoice.status),
            })
        })
        .await
    }
}

/// A chart of accounts.
#[derive(Debug, Clone, Default)]
pub struct MemoryAccountTarget {
    accounts: Arc<Mutex<BTreeMap<String, TargetAccount>>>,
    creates: Arc<Mutex<usize>>,
}

impl MemoryAccountTarget {
    /// A chart holding `accounts`.
    pub fn new(accounts: impl IntoIterator<Item = TargetAccount>) -> Self {
        MemoryAccountTarget {
            accounts: Arc::new(Mutex::new(
                accounts.into_iter().map(|a| (a.code.clone(), a)).collect(),
            )),
            creates: Arc::default(),
        }
    }

    /// The chart.
    pub fn accounts(&self) -> BTreeMap<String, TargetAccount> {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Add an account directly (as if someone created it in the target); not counted as a
    /// create through the trait.
    pub fn create_account_for_test(&self, account: TargetAccount) {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.code.clone(), account);
    }

    /// How many accounts were created through the trait.
    pub fn creates(&self) -> usize {
        *self.creates.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AccountTarget for MemoryAccountTarget {
    async fn list_accounts(&self) -> Result<Vec<TargetAccount>, TargetError> {
        Ok(self.accounts().into_values().collect())
    }

    async fn create_account(&self, account: &TargetAccount) -> Result<TargetAccount, TargetError> {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.code.clone(), account.clone());
        *self.creates.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        Ok(account.clone())
    }
}
