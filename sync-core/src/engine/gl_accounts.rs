//! GL accounts: read the source chart (the source of truth) and the target chart, produce the
//! mapping (source account → target account code) and a drift report, store and audit both.
//!
//! Informational by default: nothing is written to the target's chart. With mirror mode
//! explicitly enabled, active source accounts missing from the target are created there
//! (intent first, like every other create).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::TryStreamExt;
use serde_json::json;

use super::{Outcome, ProgressEvent, RunContext, WindowReport};
use crate::error::{MappingKind, SyncError};
use crate::mapping::Mappings;
use crate::model::{GlAccount, Record};
use crate::source::{Source, Window};
use crate::store::{
    Action, AuditEntry, AuditStatus, Checkpoint, CrossRef, Drift, DriftKind, GlMapping,
    MatchResult, StreamId, StreamKey, WindowCommit,
};
use crate::target::{AccountTarget, TargetAccount};

/// The GL-accounts pipeline.
pub struct GlAccountPipeline {
    source: Arc<dyn Source<GlAccount>>,
    target: Arc<dyn AccountTarget>,
    mappings: Mappings,
    mirror: bool,
}

impl std::fmt::Debug for GlAccountPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlAccountPipeline")
            .field("mirror", &self.mirror)
            .finish_non_exhaustive()
    }
}

impl GlAccountPipeline {
    /// An informational pipeline (never writes the target chart).
    pub fn new(
        source: Arc<dyn Source<GlAccount>>,
        target: Arc<dyn AccountTarget>,
        mappings: Mappings,
    ) -> Self {
        GlAccountPipeline {
            source,
            target,
            mappings,
            mirror: false,
        }
    }

    /// Enable mirror mode: create missing active accounts in the target.
    pub fn with_mirror(mut self, mirror: bool) -> Self {
        self.mirror = mirror;
        self
    }

    /// The stream.
    pub fn stream(&self) -> StreamId {
        StreamId::gl_accounts()
    }

    /// Read both charts, map, report drift, and commit mapping, audit rows and checkpoint in
    /// one [`crate::store::SyncStore::commit_window`]. Audit rows are written only for accounts
    /// whose content or mapping changed since the last run.
    pub async fn run(&self, run: &RunContext) -> Result<WindowReport, SyncError> {
        let stream = self.stream();
        let key = StreamKey::new(run.tenant.clone(), stream.clone());
        let store = run.store.as_ref();
        let fence = store.acquire_fence(&key).await?;
        let server_now = self.source.server_time().await?;
        let window = Window {
            from: None,
            ceiling: server_now,
        };
        run.emit(ProgressEvent::WindowStarted {
            stream: stream.clone(),
            from: None,
            ceiling: server_now,
        });
        let accounts: Vec<GlAccount> = self.source.poll(window).try_collect().await?;
        let mut chart: HashMap<String, TargetAccount> = self
            .target
            .list_accounts()
            .await?
            .into_iter()
            .map(|a| (a.code.clone(), a))
            .collect();

        let mut mapping = GlMapping {
            generated_at: Some(run.clock.now()),
            ..GlMapping::default()
        };
        let mut entries = Vec::new();
        let mut report = WindowReport {
            full_scan: true,
            read: accounts.len(),
            ..WindowReport::default()
        };
        for account in &accounts {
            let target_code = self
                .mappings
                .map(MappingKind::GlAccount, &account.code, "")
                .unwrap_or_else(|_| account.code.clone());
            let mut drift = Vec::new();
            let mut outcome;
            let mut created = false;
            match chart.get(&target_code) {
                Some(target) => {
                    if target.name != account.name {
                        drift.push(DriftKind::NameDiffers {
                            source: account.name.clone(),
                            target: target.name.clone(),
                        });
                    }
                    if target.class.as_ref() != Some(&account.class) {
                        drift.push(DriftKind::ClassDiffers {
                            source: account.class.clone(),
                            target: target.class.clone(),
                        });
                    }
                    if account.active && !target.active {
                        drift.push(DriftKind::InactiveInTarget);
                    }
                    mapping
                        .accounts
                        .insert(account.code.clone(), target_code.clone());
                    outcome = Outcome::succeeded(
                        Action::Map,
                        Some(MatchResult::ById),
                        target_code.clone(),
                    );
                }
                None if self.mirror && account.active => {
                    let draft = TargetAccount {
                        code: target_code.clone(),
                        name: account.name.clone(),
                        class: Some(account.class.clone()),
                        account_type: account.account_type.clone(),
                        active: true,
                    };
                    let entry_id = run.next_entry_id();
                    let mut intent = self.entry(
                        run,
                        account,
                        entry_id.clone(),
                        Outcome::succeeded(
                            Action::Create,
                            Some(MatchResult::Created),
                            target_code.clone(),
                        ),
                    )?;
                    intent.status = AuditStatus::Pending;
                    intent.finished_at = None;
                    store.record_intent(&intent).await?;
                    outcome = match self.target.create_account(&draft).await {
                        Ok(saved) => {
                            mapping
                                .accounts
                                .insert(account.code.clone(), saved.code.clone());
                            chart.insert(saved.code.clone(), saved.clone());
                            created = true;
                            Outcome::succeeded(
                                Action::Create,
                                Some(MatchResult::Created),
                                saved.code,
                            )
                        }
                        Err(error) => {
                            drift.push(DriftKind::MissingInTarget);
                            Outcome::target(Action::Create, &error)
                        }
                    };
                    let mut entry = self.entry(run, account, entry_id, outcome.clone())?;
                    entry.response_summary = Some(format!("drift: {drift:?}"));
                    record_drift(&mut mapping, account, &target_code, &drift);
                    tally(&mut report, entry.status);
                    entries.push(entry);
                    if created {
                        self.remember(run, account, &target_code).await?;
                    }
                    continue;
                }
                None => {
                    drift.push(DriftKind::MissingInTarget);
                    outcome = Outcome::succeeded(Action::Map, None, "");
                    outcome.target_id = None;
                }
            }
            record_drift(&mut mapping, account, &target_code, &drift);
            outcome.mapped = Some(json!({ "target_code": outcome.target_id, "drift": drift }));
            outcome.response_summary = (!drift.is_empty()).then(|| format!("drift: {drift:?}"));

            // Audit only what changed: content, mapping, or drift.
            let fingerprint = crate::model::hash_value(
                &json!({ "account": account.content_hash()?, "mapped": outcome.mapped }),
                &[],
            );
            let xref = store
                .cross_ref(&run.tenant, GlAccount::KIND, account.identity())
                .await?;
            if xref.as_ref().and_then(|x| x.synced_hash.as_ref()) == Some(&fingerprint) {
                report.skipped += 1;
                continue;
            }
            store
                .put_cross_ref(
                    &run.tenant,
                    &CrossRef {
                        kind: GlAccount::KIND,
                        source: account.identity().clone(),
                        target_id: outcome.target_id.clone().unwrap_or_default(),
                        aux: BTreeMap::new(),
                        synced_hash: Some(fingerprint),
                        synced_modified_at: Some(account.modified_at),
                    },
                )
                .await?;
            let entry = self.entry(run, account, run.next_entry_id(), outcome)?;
            tally(&mut report, entry.status);
            entries.push(entry);
        }

        let checkpoint = Checkpoint {
            cursor: Some(server_now),
            ids_at_cursor: Default::default(),
            last_run: Some(run.clock.now()),
            last_full_scan: Some(server_now),
        };
        store
            .commit_window(WindowCommit {
                key,
                checkpoint: Some(checkpoint),
                entries,
                gl_mapping: Some(mapping),
                fence: Some(fence),
            })
            .await?;
        report.cursor = Some(server_now);
        run.emit(ProgressEvent::WindowFinished {
            stream,
            report: report.clone(),
        });
        Ok(report)
    }

    async fn remember(
        &self,
        run: &RunContext,
        account: &GlAccount,
        code: &str,
    ) -> Result<(), SyncError> {
        run.store
            .put_cross_ref(
                &run.tenant,
                &CrossRef {
                    kind: GlAccount::KIND,
                    source: account.identity().clone(),
                    target_id: code.to_owned(),
                    aux: BTreeMap::new(),
                    synced_hash: None,
                    synced_modified_at: Some(account.modified_at),
                },
            )
            .await?;
        Ok(())
    }

    fn entry(
        &self,
        run: &RunContext,
        account: &GlAccount,
        id: crate::store::EntryId,
        outcome: Outcome,
    ) -> Result<AuditEntry, SyncError> {
        let now = run.clock.now();
        Ok(AuditEntry {
            id,
            run_id: run.run_id.clone(),
            tenant: run.tenant.clone(),
            stream: self.stream(),
            kind: GlAccount::KIND,
            source: account.identity().clone(),
            source_modified_at: account.modified_at,
            content_hash: account.content_hash()?,
            action: outcome.action,
            match_result: outcome.match_result,
            target_id: outcome.target_id,
            status: outcome.status,
            error: outcome.error,
            request_summary: outcome.request_summary,
            response_summary: outcome.response_summary,
            source_snapshot: serde_json::to_value(account)
                .map_err(|e| SyncError::Encode(e.to_string()))?,
            mapped_snapshot: outcome.mapped,
            started_at: now,
            finished_at: Some(now),
            replay_of: None,
            resolved_by: None,
        })
    }
}

fn record_drift(
    mapping: &mut GlMapping,
    account: &GlAccount,
    target_code: &str,
    drift: &[DriftKind],
) {
    for d in drift {
        mapping.drift.push(Drift {
            source_code: account.code.clone(),
            target_code: (!matches!(d, DriftKind::MissingInTarget)).then(|| target_code.to_owned()),
            drift: d.clone(),
        });
    }
}

fn tally(report: &mut WindowReport, status: AuditStatus) {
    match status {
        AuditStatus::Succeeded => report.succeeded += 1,
        AuditStatus::Failed => report.failed += 1,
        _ => {}
    }
}
