//! GL accounts: read the source chart (the source of truth) and the target chart, produce the
//! mapping (source account → target account code) and a drift report, store and audit both.
//!
//! Informational by default: nothing is written to the target's chart. With mirror mode
//! explicitly enabled, active source accounts missing from the target are created there
//! (intent first, like every other create).
//!
//! An idle poll costs the target nothing. Every window reads the whole source chart, but it
//! reads the target's chart only when
//!
//! - no mapping with a remembered source chart is stored yet (first window), or the window
//!   that produced it left a failure (so recovery needs no person);
//! - the source chart, or how its codes map, hashes differently from the chart the stored
//!   mapping was produced from;
//! - the target's chart was last read at least [`with_target_check_every`] ago (default
//!   [`DEFAULT_TARGET_CHECK_EVERY`], one hour, on the run's clock), so drift made by hand in
//!   the target surfaces within that long.
//!
//! Otherwise the window commits its checkpoint only: the stored mapping and drift report stay
//! as they are, no audit row is written, and the report says it read the source chart and
//! skipped every account. The remembered hash and read time live in the stored
//! [`GlMapping`] (`source_hash`, `generated_at`), committed with the window, so they survive
//! a restart and a crash before the commit leaves the next window reading the target again.
//!
//! [`with_target_check_every`]: GlAccountPipeline::with_target_check_every

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::json;

use super::{Outcome, ProgressEvent, RunContext, WindowReport};
use crate::error::{MappingKind, SyncError};
use crate::mapping::Mappings;
use crate::model::{ContentHash, GlAccount, Record};
use crate::source::{Source, Window};
use crate::store::{
    Action, AuditEntry, AuditStatus, Checkpoint, CrossRef, Drift, DriftKind, Fence, GlMapping,
    MatchResult, StreamId, StreamKey, WindowCommit,
};
use crate::target::{AccountTarget, TargetAccount};

/// How often the target's chart is read when the source chart has not changed: one hour.
pub const DEFAULT_TARGET_CHECK_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// The GL-accounts pipeline.
pub struct GlAccountPipeline {
    source: Arc<dyn Source<GlAccount>>,
    target: Arc<dyn AccountTarget>,
    mappings: Mappings,
    mirror: bool,
    target_check_every: chrono::Duration,
}

impl std::fmt::Debug for GlAccountPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlAccountPipeline")
            .field("mirror", &self.mirror)
            .field("target_check_every", &self.target_check_every)
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
            target_check_every: DEFAULT_TARGET_CHECK_EVERY,
        }
    }

    /// Enable mirror mode: create missing active accounts in the target.
    pub fn with_mirror(mut self, mirror: bool) -> Self {
        self.mirror = mirror;
        self
    }

    /// Read the target's chart at least this often even when the source chart has not changed
    /// (default [`DEFAULT_TARGET_CHECK_EVERY`], one hour), measured on the run's clock: an
    /// account changed by hand in the target shows as drift within this long. A changed
    /// source chart is reconciled at once whatever this is. Zero or less: every window reads
    /// the target's chart (as before this setting existed).
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use chrono::{Duration, TimeZone, Utc};
    /// use sync_core::engine::RunContext;
    /// use sync_core::engine::gl_accounts::GlAccountPipeline;
    /// use sync_core::mapping::Mappings;
    /// use sync_core::model::{AccountClass, GlAccount, SourceIdentity};
    /// use sync_core::store::memory::MemoryStore;
    /// use sync_core::testing::{MemoryAccountTarget, MemorySource};
    /// use sync_core::time::ManualClock;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let t0 = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
    /// let source = MemorySource::new(t0);
    /// source.upsert(GlAccount {
    ///     identity: SourceIdentity::new("cloudsuite", "T", "10", "630"),
    ///     code: "630".into(),
    ///     name: "Inventory".into(),
    ///     class: AccountClass::Asset,
    ///     account_type: None,
    ///     active: true,
    ///     modified_at: t0,
    /// });
    /// let chart = MemoryAccountTarget::new([]);
    /// let pipeline = GlAccountPipeline::new(
    ///     Arc::new(source),
    ///     Arc::new(chart.clone()),
    ///     Mappings::default(),
    /// )
    /// .with_target_check_every(Duration::minutes(30));
    /// let clock = ManualClock::new(t0);
    /// let run = RunContext::new(Arc::new(MemoryStore::new()), clock.shared(), "T");
    ///
    /// pipeline.run(&run).await.unwrap(); // first window: reads the chart
    /// clock.advance(std::time::Duration::from_secs(29 * 60));
    /// pipeline.run(&run).await.unwrap(); // nothing changed, read 29 minutes ago: skipped
    /// assert_eq!(chart.lists(), 1);
    /// clock.advance(std::time::Duration::from_secs(60));
    /// pipeline.run(&run).await.unwrap(); // 30 minutes: read again
    /// assert_eq!(chart.lists(), 2);
    /// # });
    /// ```
    pub fn with_target_check_every(mut self, every: chrono::Duration) -> Self {
        self.target_check_every = every;
        self
    }

    /// The stream.
    pub fn stream(&self) -> StreamId {
        StreamId::gl_accounts()
    }

    /// Read the source chart; then, when the target's chart is due (see the [module
    /// docs](self)), read it too, map, report drift, and commit mapping, audit rows and
    /// checkpoint in one [`crate::store::SyncStore::commit_window`]. Audit rows are written
    /// only for accounts whose content or mapping changed since the last run. When the
    /// target's chart is not due, commit the checkpoint alone and report every account read
    /// and skipped.
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
        let source_hash = self.chart_hash(&accounts)?;
        let previous = store.gl_mapping(&run.tenant).await?;
        let now = run.clock.now();
        let report = match self.target_read_reason(previous.as_ref(), &source_hash, now) {
            Some(reason) => {
                tracing::debug!(tenant = %run.tenant, reason, "reading the target's chart");
                self.reconcile(run, key, fence, server_now, &accounts, source_hash)
                    .await?
            }
            None => {
                tracing::debug!(
                    tenant = %run.tenant,
                    "source chart unchanged and the target's chart read recently: not read"
                );
                self.idle(run, key, fence, server_now, accounts.len())
                    .await?
            }
        };
        run.emit(ProgressEvent::WindowFinished {
            stream,
            report: report.clone(),
        });
        Ok(report)
    }

    /// Why this window must read the target's chart, or `None` when it may skip it.
    fn target_read_reason(
        &self,
        previous: Option<&GlMapping>,
        source_hash: &ContentHash,
        now: DateTime<Utc>,
    ) -> Option<&'static str> {
        let Some(previous) = previous else {
            return Some("no GL mapping stored yet");
        };
        let Some(remembered) = &previous.source_hash else {
            return Some("no source chart remembered (the last window left a failure)");
        };
        if remembered != source_hash {
            return Some("the source chart or its mapping changed");
        }
        let Some(read_at) = previous.generated_at else {
            return Some("the target's chart was never read");
        };
        let age = now.signed_duration_since(read_at);
        // A clock that went back is no reason to trust an old read.
        if age >= self.target_check_every || age < chrono::Duration::zero() {
            return Some("the target's chart is due");
        }
        None
    }

    /// A content hash of the source chart and of how its codes map: the accounts in a stable
    /// order (by identity), each with its content hash and target code, plus mirror mode and
    /// the mapping revision. `modified_at` is not part of it.
    fn chart_hash(&self, accounts: &[GlAccount]) -> Result<ContentHash, SyncError> {
        let mut rows = Vec::with_capacity(accounts.len());
        for account in accounts {
            rows.push((
                account.identity().to_string(),
                account.content_hash()?,
                self.target_code(account),
            ));
        }
        rows.sort();
        Ok(crate::model::hash_value(
            &json!({
                "accounts": rows,
                "mirror": self.mirror,
                "revision": self.mappings.revision,
            }),
            &[],
        ))
    }

    /// The target code a source account maps to: an override, else its own code.
    fn target_code(&self, account: &GlAccount) -> String {
        self.mappings
            .map(MappingKind::GlAccount, &account.code, "")
            .unwrap_or_else(|_| account.code.clone())
    }

    /// An idle window: nothing to reconcile. Move the checkpoint (the last reconciliation
    /// stays the last full scan); the stored mapping is left as it is.
    async fn idle(
        &self,
        run: &RunContext,
        key: StreamKey,
        fence: Fence,
        server_now: DateTime<Utc>,
        read: usize,
    ) -> Result<WindowReport, SyncError> {
        let store = run.store.as_ref();
        let last_full_scan = store.load_checkpoint(&key).await?.last_full_scan;
        let checkpoint = Checkpoint {
            cursor: Some(server_now),
            ids_at_cursor: Default::default(),
            last_run: Some(run.clock.now()),
            last_full_scan,
        };
        store
            .commit_window(WindowCommit {
                key,
                checkpoint: Some(checkpoint),
                entries: Vec::new(),
                gl_mapping: None,
                fence: Some(fence),
            })
            .await?;
        Ok(WindowReport {
            full_scan: false,
            read,
            skipped: read,
            cursor: Some(server_now),
            ..WindowReport::default()
        })
    }

    /// Read the target's chart, map, report drift, commit.
    async fn reconcile(
        &self,
        run: &RunContext,
        key: StreamKey,
        fence: Fence,
        server_now: DateTime<Utc>,
        accounts: &[GlAccount],
        source_hash: ContentHash,
    ) -> Result<WindowReport, SyncError> {
        let store = run.store.as_ref();
        let read_at = run.clock.now();
        let mut chart: HashMap<String, TargetAccount> = self
            .target
            .list_accounts()
            .await?
            .into_iter()
            .map(|a| (a.code.clone(), a))
            .collect();

        let mut mapping = GlMapping {
            generated_at: Some(read_at),
            ..GlMapping::default()
        };
        let mut entries = Vec::new();
        let mut report = WindowReport {
            full_scan: true,
            read: accounts.len(),
            ..WindowReport::default()
        };
        for account in accounts {
            let target_code = self.target_code(account);
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

        // Remember the chart reconciled, unless something failed: then the next window reads
        // the target's chart again and retries, without a person.
        mapping.source_hash = (report.failed == 0).then_some(source_hash);
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
