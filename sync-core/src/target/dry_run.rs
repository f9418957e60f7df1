//! A dry-run decorator for the target traits: reads go to the real target, every write becomes
//! a logged no-op answered with a synthetic id (`dry-run-N`), so a whole sync can be previewed
//! against a live account without changing it.
//!
//! ```
//! use std::sync::Arc;
//! use sync_core::target::{DryRunTarget, SupplierTarget};
//! use sync_core::testing::MemorySupplierTarget;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let real = MemorySupplierTarget::new();
//! let dry = DryRunTarget::new(Arc::new(real.clone()));
//! # let draft = sync_core::target::SupplierDraft {
//! #     name: "Acme".into(), currency: "NZD".into(), payment_term: "30 days".into(),
//! #     tax_rule: "GST".into(), account_payable: "800".into(), tax_number: None,
//! #     status: sync_core::model::PartyStatus::Active, addresses: vec![], contacts: vec![],
//! #     extra_fields: Default::default(),
//! # };
//! let created = dry.create_supplier(&draft).await.unwrap();
//! assert_eq!(created.id, "dry-run-1");
//! assert!(real.suppliers().is_empty(), "nothing written");
//! assert_eq!(dry.log().writes().len(), 1);
//! # });
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::*;
use crate::error::TargetError;

/// The writes a dry run did not make.
#[derive(Debug, Default)]
pub struct DryRunLog {
    writes: Mutex<Vec<String>>,
}

impl DryRunLog {
    /// Record a write that was not made (and log it at `info`, target `dry_run`).
    pub fn record(&self, what: String) {
        tracing::info!(target: "dry_run", "{what} (dry run: not written)");
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what);
    }

    /// Every write that would have been made, in order.
    pub fn writes(&self) -> Vec<String> {
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A target that forwards reads to `inner` and turns every write into a logged no-op that
/// answers with a synthetic id (`dry-run-N`). Purchases it "created" are remembered, so later
/// steps of the same run (order, invoice) find them.
pub struct DryRunTarget<T> {
    inner: Arc<T>,
    log: Arc<DryRunLog>,
    seq: AtomicU64,
    purchases: Mutex<HashMap<String, TargetPurchase>>,
}

impl<T> fmt::Debug for DryRunTarget<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DryRunTarget").finish_non_exhaustive()
    }
}

impl<T> DryRunTarget<T> {
    /// Wrap `inner`.
    pub fn new(inner: Arc<T>) -> Self {
        DryRunTarget {
            inner,
            log: Arc::default(),
            seq: AtomicU64::new(0),
            purchases: Mutex::new(HashMap::new()),
        }
    }

    /// The log of writes not made.
    pub fn log(&self) -> Arc<DryRunLog> {
        self.log.clone()
    }

    fn synthetic_id(&self) -> String {
        format!("dry-run-{}", self.seq.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn purchases(&self) -> std::sync::MutexGuard<'_, HashMap<String, TargetPurchase>> {
        self.purchases.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn task_status(status: DocStatus) -> TaskStatus {
    match status {
        DocStatus::Draft => TaskStatus::Draft,
        DocStatus::Authorised => TaskStatus::Authorised,
    }
}

#[async_trait]
impl<T: SupplierTarget + 'static> SupplierTarget for DryRunTarget<T> {
    async fn list_suppliers(
        &self,
        page: u32,
        limit: u32,
    ) -> Result<TargetPage<TargetSupplier>, TargetError> {
        self.inner.list_suppliers(page, limit).await
    }

    async fn create_supplier(&self, draft: &SupplierDraft) -> Result<TargetSupplier, TargetError> {
        let id = self.synthetic_id();
        self.log
            .record(format!("create supplier \"{}\" as {id}", draft.name));
        Ok(TargetSupplier {
            id,
            name: draft.name.clone(),
            extra_fields: draft.extra_fields.clone(),
            status: Some(draft.status.clone()),
        })
    }

    async fn update_supplier(
        &self,
        id: &str,
        draft: &SupplierDraft,
    ) -> Result<TargetSupplier, TargetError> {
        self.log
            .record(format!("update supplier {id} (\"{}\")", draft.name));
        Ok(TargetSupplier {
            id: id.to_owned(),
            name: draft.name.clone(),
            extra_fields: draft.extra_fields.clone(),
            status: Some(draft.status.clone()),
        })
    }
}

#[async_trait]
impl<T: PurchaseTarget + 'static> PurchaseTarget for DryRunTarget<T> {
    async fn find_purchases(&self, reference: &str) -> Result<Vec<TargetPurchase>, TargetError> {
        let mut found = self.inner.find_purchases(reference).await?;
        found.extend(
            self.purchases()
                .values()
                .filter(|p| {
                    p.reference == reference
                        || p.invoices.iter().any(|i| i.invoice_number == reference)
                })
                .cloned(),
        );
        Ok(found)
    }

    async fn get_purchase(&self, id: &str) -> Result<Option<TargetPurchase>, TargetError> {
        if let Some(p) = self.purchases().get(id) {
            return Ok(Some(p.clone()));
        }
        self.inner.get_purchase(id).await
    }

    async fn create_purchase(&self, draft: &PurchaseDraft) -> Result<TargetPurchase, TargetError> {
        let id = self.synthetic_id();
        self.log.record(format!(
            "create purchase {} ({:?} approach) as {id}",
            draft.reference, draft.approach
        ));
        let purchase = TargetPurchase {
            id: id.clone(),
            reference: draft.reference.clone(),
            supplier_id: draft.supplier_id.clone(),
            approach: draft.approach,
            order_status: TaskStatus::NotAvailable,
            invoices: Vec::new(),
        };
        self.purchases().insert(id, purchase.clone());
        Ok(purchase)
    }

    async fn set_order(
        &self,
        purchase: &TargetPurchase,
        order: &OrderDraft,
    ) -> Result<TargetPurchase, TargetError> {
        let purchase_id = purchase.id.as_str();
        self.log.record(format!(
            "write the order of purchase {purchase_id}: {} line(s), {:?}",
            order.lines.len(),
            order.status
        ));
        let mut purchase = match self.get_purchase(purchase_id).await? {
            Some(p) => p,
            None => {
                return Err(TargetError::rejected(
                    404,
                    format!("purchase {purchase_id} does not exist"),
                ));
            }
        };
        purchase.order_status = task_status(order.status);
        if self.purchases().contains_key(purchase_id) {
            self.purchases()
                .insert(purchase_id.to_owned(), purchase.clone());
        }
        Ok(purchase)
    }

    async fn post_invoice(
        &self,
        purchase_id: &str,
        task_id: Option<&str>,
        invoice: &InvoiceDraft,
    ) -> Result<TargetInvoice, TargetError> {
        let task_id = task_id.map_or_else(|| self.synthetic_id(), str::to_owned);
        self.log.record(format!(
            "post invoice {} on purchase {purchase_id}: {} line(s), {:?}",
            invoice.invoice_number,
            invoice.lines.len(),
            invoice.status
        ));
        let posted = TargetInvoice {
            task_id,
            invoice_number: invoice.invoice_number.clone(),
            status: task_status(invoice.status),
        };
        if let Some(p) = self.purchases().get_mut(purchase_id) {
            p.invoices.retain(|i| i.task_id != posted.task_id);
            p.invoices.push(posted.clone());
        }
        Ok(posted)
    }

    async fn missing_skus(&self, skus: &[String]) -> Result<Vec<String>, TargetError> {
        self.inner.missing_skus(skus).await
    }

    async fn void_purchase(&self, purchase: &TargetPurchase) -> Result<(), TargetError> {
        self.log.record(format!(
            "void purchase {} ({})",
            purchase.id, purchase.reference
        ));
        self.purchases().remove(&purchase.id);
        Ok(())
    }
}

#[async_trait]
impl<T: AccountTarget + 'static> AccountTarget for DryRunTarget<T> {
    async fn list_accounts(&self) -> Result<Vec<TargetAccount>, TargetError> {
        self.inner.list_accounts().await
    }

    async fn create_account(&self, account: &TargetAccount) -> Result<TargetAccount, TargetError> {
        self.log.record(format!(
            "create account {} \"{}\"",
            account.code, account.name
        ));
        Ok(account.clone())
    }
}
