//! In-memory targets.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::Tripwire;
use crate::error::TargetError;
use crate::faults::{Fault, FaultPlan};
use crate::retry::Delivery;
use crate::target::{
    AccountTarget, DocStatus, InvoiceDraft, OrderDraft, PurchaseDraft, PurchaseTarget,
    SupplierDraft, SupplierTarget, TargetAccount, TargetInvoice, TargetPage, TargetPurchase,
    TargetSupplier, TaskStatus,
};

/// The endpoint the in-memory targets ask their [`FaultPlan`] for on every write call.
const WRITE: &str = "write";

/// The current plan of a target (replaced by `set_faults`, shared by the target's clones).
type PlanSlot = Arc<Mutex<Arc<FaultPlan>>>;

fn current(plan: &PlanSlot) -> Arc<FaultPlan> {
    Arc::clone(&plan.lock().unwrap_or_else(|p| p.into_inner()))
}

/// A throttled write: certainly not applied, worth retrying.
fn throttled(status: u16) -> TargetError {
    TargetError::new(
        Delivery::NotProcessed,
        true,
        Some(status),
        format!("HTTP {status}: throttled, the write was not applied (injected)"),
    )
}

async fn step(trip: &Option<Arc<Tripwire>>) {
    if let Some(trip) = trip {
        trip.step().await;
    }
}

/// Runs one write with the fault plan: `apply` runs unless the fault prevents it. How each
/// [`Fault`] shows is documented in the [module docs](super#faults).
async fn write<T>(
    plan: &PlanSlot,
    trip: &Option<Arc<Tripwire>>,
    apply: impl FnOnce() -> Result<T, TargetError>,
) -> Result<T, TargetError> {
    step(trip).await;
    let fault = current(plan).next(WRITE);
    let applied_then_lost = |what: &str| {
        TargetError::unknown_outcome(format!("{what} after the write was applied (injected)"))
    };
    match fault {
        None | Some(Fault::RevokeTokens) => {
            let out = apply()?;
            // A crash here loses the response of a write that happened.
            step(trip).await;
            Ok(out)
        }
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            let out = apply()?;
            step(trip).await;
            Ok(out)
        }
        Some(Fault::ResetBeforeApply) => Err(TargetError::not_sent(
            "connection reset before the write was applied (injected)",
        )),
        Some(Fault::ApplicationError) => {
            Err(TargetError::rejected(400, "validation failed (injected)"))
        }
        Some(Fault::Status {
            status,
            retry_after,
        }) => Err(match status {
            // A refusal, as the Cin7 client reads one: 429, or a 503 that says when to retry.
            429 => throttled(status),
            503 if retry_after.is_some() => throttled(status),
            400..=499 => TargetError::rejected(status, format!("HTTP {status} (injected)")),
            // Any other status (a bare 5xx): the caller cannot tell whether the write landed.
            _ => TargetError::new(
                Delivery::Unknown,
                true,
                Some(status),
                format!("HTTP {status}, the write was not applied (injected)"),
            ),
        }),
        Some(Fault::HtmlOk) => Err(TargetError::unknown_outcome(
            "an HTML page instead of the answer, the write was not applied (injected)",
        )),
        Some(Fault::ResetAfterApply) => {
            apply()?;
            step(trip).await;
            Err(applied_then_lost("connection reset"))
        }
        Some(Fault::HangAfterApply(_)) => {
            apply()?;
            step(trip).await;
            Err(applied_then_lost("no answer"))
        }
        Some(Fault::MalformedBody) => {
            apply()?;
            step(trip).await;
            Err(applied_then_lost("a malformed answer"))
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
    plan: PlanSlot,
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

    /// Replace the fault plan, asked for `"write"` on every create and update (see the
    /// [module docs](super#faults)). Pass an `Arc<FaultPlan>` to keep a handle on it.
    pub fn set_faults(&self, plan: impl Into<Arc<FaultPlan>>) {
        *self.plan.lock().unwrap_or_else(|p| p.into_inner()) = plan.into();
    }

    /// How many faults the current plan has injected (every kind, including those with no
    /// visible effect here: [`Fault::Delay`], [`Fault::RevokeTokens`]).
    pub fn faults_fired(&self) -> usize {
        let fired: u64 = current(&self.plan).injected().values().sum();
        usize::try_from(fired).unwrap_or(usize::MAX)
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
    /// `void_purchase`.
    pub voids: usize,
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
    /// The products orders may name (`None`: any SKU).
    products: Option<std::collections::BTreeSet<String>>,
}

/// A Cin7-like advanced-purchase store.
#[derive(Debug, Clone, Default)]
pub struct MemoryPurchaseTarget {
    state: Arc<Mutex<PurchaseState>>,
    plan: PlanSlot,
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

    /// Know only these products: an order naming another SKU is refused, as Cin7 does.
    pub fn with_products<I: IntoIterator<Item = S>, S: Into<String>>(self, skus: I) -> Self {
        self.lock().products = Some(skus.into_iter().map(Into::into).collect());
        self
    }

    /// Add a product, as a person in the target would.
    pub fn add_product(&self, sku: &str) {
        if let Some(products) = &mut self.lock().products {
            products.insert(sku.to_owned());
        }
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

    /// Replace the fault plan, asked for `"write"` on every `create_purchase`, `set_order`
    /// write and `post_invoice` (see the [module docs](super#faults)). Pass an
    /// `Arc<FaultPlan>` to keep a handle on it.
    pub fn set_faults(&self, plan: impl Into<Arc<FaultPlan>>) {
        *self.plan.lock().unwrap_or_else(|p| p.into_inner()) = plan.into();
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
            if let Some(products) = &state.products
                && let Some(line) = order.lines.iter().find(|l| !products.contains(&l.sku))
            {
                return Err(TargetError::rejected(
                    400,
                    format!("Product with SKU '{}' not found.", line.sku),
                ));
            }
            let Some(p) = state.purchases.get_mut(purchase_id) else {
                return Err(TargetError::rejected(404, "purchase vanished"));
            };
            p.order = Some(order.clone());
            p.order_status = status_of(order.status);
            Ok(Self::view(purchase_id, p))
        })
        .await
    }

    async fn missing_skus(&self, skus: &[String]) -> Result<Vec<String>, TargetError> {
        step(&self.trip).await;
        let state = self.lock();
        Ok(match &state.products {
            Some(products) => skus
                .iter()
                .filter(|s| !products.contains(*s))
                .cloned()
                .collect(),
            None => Vec::new(),
        })
    }

    /// Like Cin7: removed (a voided purchase is not listed or read); one already gone is
    /// success.
    async fn void_purchase(&self, purchase: &TargetPurchase) -> Result<(), TargetError> {
        self.lock().calls.voids += 1;
        write(&self.plan, &self.trip, || {
            self.lock().purchases.remove(&purchase.id);
            Ok(())
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
    lists: Arc<Mutex<usize>>,
}

impl MemoryAccountTarget {
    /// A chart holding `accounts`.
    pub fn new(accounts: impl IntoIterator<Item = TargetAccount>) -> Self {
        MemoryAccountTarget {
            accounts: Arc::new(Mutex::new(
                accounts.into_iter().map(|a| (a.code.clone(), a)).collect(),
            )),
            creates: Arc::default(),
            lists: Arc::default(),
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

    /// How many times the chart was read through the trait (`list_accounts`).
    pub fn lists(&self) -> usize {
        *self.lists.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AccountTarget for MemoryAccountTarget {
    async fn list_accounts(&self) -> Result<Vec<TargetAccount>, TargetError> {
        *self.lists.lock().unwrap_or_else(|p| p.into_inner()) += 1;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::NaiveDate;

    use super::*;
    use crate::model::PartyStatus;
    use crate::target::Approach;

    fn supplier(name: &str) -> SupplierDraft {
        SupplierDraft {
            name: name.to_owned(),
            currency: "NZD".into(),
            payment_term: "30 days".into(),
            tax_rule: "GST on Expenses".into(),
            account_payable: "800".into(),
            tax_number: None,
            status: PartyStatus::Active,
            addresses: vec![],
            contacts: vec![],
            extra_fields: BTreeMap::new(),
        }
    }

    fn status(status: u16, retry_after: Option<Duration>) -> Fault {
        Fault::Status {
            status,
            retry_after,
        }
    }

    /// (fault, applied, delivery, transient, status) as the module docs' table says.
    #[tokio::test]
    async fn each_fault_shows_on_a_write_as_documented() {
        use Delivery::{NotProcessed, Processed, Unknown};
        let second = Some(Duration::from_secs(1));
        let cases = [
            (Fault::ResetBeforeApply, false, NotProcessed, true, None),
            (Fault::ResetAfterApply, true, Unknown, true, None),
            (
                Fault::HangAfterApply(Duration::from_secs(60)),
                true,
                Unknown,
                true,
                None,
            ),
            (Fault::MalformedBody, true, Unknown, true, None),
            (Fault::HtmlOk, false, Unknown, true, None),
            (Fault::ApplicationError, false, Processed, false, Some(400)),
            (status(404, None), false, Processed, false, Some(404)),
            (status(429, None), false, NotProcessed, true, Some(429)),
            (status(503, second), false, NotProcessed, true, Some(503)),
            (status(503, None), false, Unknown, true, Some(503)),
            (status(500, None), false, Unknown, true, Some(500)),
        ];
        for (fault, applied, delivery, transient, code) in cases {
            let target = MemorySupplierTarget::new();
            target.set_faults(FaultPlan::none().at("write", 0, fault.clone()));
            let err = target
                .create_supplier(&supplier("Acme"))
                .await
                .expect_err(&format!("{fault:?} fails the write"));
            assert_eq!(target.suppliers().len(), usize::from(applied), "{fault:?}");
            assert_eq!(err.delivery, delivery, "{fault:?}");
            assert_eq!(err.transient, transient, "{fault:?}");
            assert_eq!(err.status, code, "{fault:?}");
            assert!(err.message.contains("(injected)"), "{fault:?}: {err}");
            assert_eq!(target.faults_fired(), 1, "{fault:?}");
            // The next write is not affected.
            target.create_supplier(&supplier("Next")).await.unwrap();
            assert_eq!(target.suppliers().len(), usize::from(applied) + 1);
        }
    }

    #[tokio::test]
    async fn faults_without_meaning_here_let_the_write_through() {
        for fault in [Fault::RevokeTokens, Fault::Delay(Duration::from_millis(20))] {
            let target = MemorySupplierTarget::new();
            target.set_faults(FaultPlan::none().at("write", 0, fault.clone()));
            let started = std::time::Instant::now();
            let created = target.create_supplier(&supplier("Acme")).await.unwrap();
            if let Fault::Delay(delay) = fault {
                assert!(started.elapsed() >= delay, "the write waited");
            }
            assert_eq!(target.suppliers().get(&created.id), Some(&supplier("Acme")));
            assert_eq!(target.faults_fired(), 1, "{fault:?} is counted");
        }
    }

    #[tokio::test]
    async fn writes_are_numbered_per_target_and_reads_do_not_count() {
        let target = MemoryPurchaseTarget::new();
        let plan = Arc::new(
            FaultPlan::none()
                .at("write", 1, Fault::ResetBeforeApply)
                .at("write", 2, Fault::ResetAfterApply),
        );
        target.set_faults(Arc::clone(&plan));
        let header = PurchaseDraft {
            supplier_id: "sup-0001".into(),
            approach: Approach::Invoice,
            location: None,
            reference: "PO-1".into(),
            currency: "NZD".into(),
            order_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            required_by: None,
            memo: None,
        };
        let order = OrderDraft {
            lines: vec![],
            status: DocStatus::Draft,
        };
        // Write 0.
        let purchase = target.create_purchase(&header).await.unwrap();
        // Reads ask no plan.
        assert_eq!(target.find_purchases("PO-1").await.unwrap().len(), 1);
        assert!(target.get_purchase(&purchase.id).await.unwrap().is_some());
        // Write 1: refused before anything is applied.
        let err = target.set_order(&purchase, &order).await.unwrap_err();
        assert_eq!(err.delivery, Delivery::NotProcessed);
        assert_eq!(target.purchases()[&purchase.id].order, None);
        // Write 2: applied, answer lost.
        let err = target.set_order(&purchase, &order).await.unwrap_err();
        assert!(err.outcome_unknown());
        assert_eq!(target.purchases()[&purchase.id].order, Some(order.clone()));
        assert_eq!(plan.calls_to("write"), 3);
        assert_eq!(plan.injected().values().sum::<u64>(), 2);
        // A new plan numbers from 0 again.
        target.set_faults(FaultPlan::none().at("write", 0, Fault::ApplicationError));
        let err = target.create_purchase(&header).await.unwrap_err();
        assert_eq!(err.status, Some(400));
        assert_eq!(target.purchases().len(), 1);
    }
}
