//! ION push intake (feature `ims-receiver`): an HTTP endpoint ION's Messaging Service (IMS)
//! delivers BODs to, through an "IMS via ION API" connection point, so a CloudSuite change
//! reaches Cin7 within seconds instead of at the next poll.
//!
//! [`push_router`] serves the IMS methods ION calls: `GET /service/ping`, and
//! `POST /service/v2/multipartMessage` / `POST /service/v3/multipartMessage` (a
//! `multipart/form-data` message with a `ParameterRequest` JSON part and a `MessagePayload` part
//! holding the BOD; answered 201 for v2, 202 for v3). Nest it where the API suite points.
//!
//! **A pushed BOD is a trigger, not the data.** Each supplier, purchase order or supplier
//! invoice a `Sync` BOD names is queued durably in its stream's
//! [`push_queue`] before the answer, keyed by document and
//! variation; the runner ([`TenantRunner::with_pushes`](sync_core::runner::TenantRunner::with_pushes),
//! woken by the intake) then reads each record again from the configured source and runs it
//! through the stream's pipeline — the same dedupe, intents, audit and replay as polling. So
//! pushes arriving out of order, twice, or stale change nothing: the record is synced as it is
//! now, and an unchanged one is skipped by its content hash. A chart-of-accounts BOD queues one
//! item for the GL stream, which reads the chart. Polling stays the backstop.
//!
//! - The credential (one header's exact value, [`HeaderSecret`]) is checked in constant time
//!   before the body is read; a wrong or missing one is 401.
//! - The body is read up to [`PushLimits::max_body_bytes`] (default 5 MiB, ION's message
//!   guidance; 413 beyond) within [`PushLimits::read_timeout`] (408); at most
//!   [`PushLimits::max_concurrent`] messages at once (503 beyond, which ION retries).
//! - A message that cannot be read (not multipart, no BOD, a BOD that does not parse, an
//!   encoding other than `NONE`, a document the sync does not read) is kept in the
//!   [`MESSAGE_STREAM`] for inspection and answered 2xx like any other: the record the
//!   `ParameterRequest` names (`documentName`, `documentId`) is still queued when it can be.
//! - Documents of another accounting entity than the source's are skipped (counted).
//! - Only when the store cannot take a message is the answer 503, so ION delivers it again.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use bytes::Bytes;
use sdk_common::listener::{Counter, Gate, HeaderSecret};
use sdk_common::time::SharedClock;
use serde::Deserialize;
use sync_core::SyncError;
use sync_core::engine::queue::{self, Trigger, Unreadable, push_queue};
use sync_core::model::{
    GlAccount, PurchaseOrder, RecordKind, SourceIdentity, Supplier, SupplierInvoice, hash_value,
};
use sync_core::store::{StreamId, SyncStore};
use tokio::sync::Notify;

use super::SYSTEM;
use super::bods::{self, BodContext, FromBod};
use crate::bod::{ActionCode, AnyBod, Bod, BodLimits, Verb, key_for};

/// The stream where messages that could not be read are kept for inspection.
pub const MESSAGE_STREAM: &str = "ion_push_messages";

/// The id a chart-of-accounts push queues for the GL stream (the chart is read whole).
pub const CHART_ID: &str = "chart";

/// How much one listener takes on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushLimits {
    /// The largest message read (default 5 MiB: ION's guidance keeps messages below 5 MB).
    pub max_body_bytes: usize,
    /// How long a message may take to arrive once the headers are in (default 30 s).
    pub read_timeout: Duration,
    /// Messages handled at once (default 16).
    pub max_concurrent: usize,
}

impl Default for PushLimits {
    fn default() -> Self {
        PushLimits {
            max_body_bytes: 5 * 1024 * 1024,
            read_timeout: Duration::from_secs(30),
            max_concurrent: 16,
        }
    }
}

impl PushLimits {
    /// The largest message read.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How long a message may take to arrive.
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Messages handled at once (at least one).
    pub fn with_max_concurrent(mut self, messages: usize) -> Self {
        self.max_concurrent = messages.max(1);
        self
    }
}

/// What the intake has seen since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushStats {
    /// Authenticated messages persisted and answered 2xx (readable or not).
    pub accepted: u64,
    /// Of those, messages that could not be read and were kept for inspection.
    pub unreadable: u64,
    /// Records queued for their stream.
    pub queued: u64,
    /// Records not queued because the same document variation was already queued.
    pub duplicates: u64,
    /// Documents skipped for naming another accounting entity.
    pub other_entity: u64,
    /// Records not queued because their stream is not synced ([`PushIntake::only_streams`]).
    pub not_synced: u64,
    /// Requests refused for their credential (401).
    pub refused_credentials: u64,
    /// Requests refused for their size, slowness or the concurrency limit (413, 408, 503).
    pub refused_limits: u64,
    /// Authenticated messages the store could not take (503; ION delivers them again).
    pub store_failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: Counter,
    unreadable: Counter,
    queued: Counter,
    duplicates: Counter,
    other_entity: Counter,
    not_synced: Counter,
    store_failures: Counter,
}

fn gate(limits: &PushLimits) -> Gate {
    Gate::new(
        "ION push",
        limits.max_body_bytes,
        limits.read_timeout,
        limits.max_concurrent,
    )
}

/// What the endpoint needs; build it with [`PushIntake::new`].
pub struct PushIntake {
    secret: HeaderSecret,
    store: Arc<dyn SyncStore>,
    context: BodContext,
    clock: SharedClock,
    queued: Arc<Notify>,
    limits: PushLimits,
    gate: Gate,
    counters: Counters,
    /// The streams records are queued for (`None`: every stream the intake knows).
    streams: Option<std::collections::BTreeSet<StreamId>>,
}

impl std::fmt::Debug for PushIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushIntake")
            .field("secret", &self.secret)
            .field("tenant", &self.context.tenant)
            .field("accounting_entity", &self.context.accounting_entity)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The `ParameterRequest` part, as far as the intake reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parameters {
    document_name: Option<String>,
    document_id: Option<String>,
    message_id: Option<String>,
    encoding: Option<String>,
}

/// One record a message asks to sync now.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pushed {
    stream: StreamId,
    kind: RecordKind,
    identity: SourceIdentity,
    /// What tells this delivery from another of the same record (its variation, else the
    /// message id, else the payload's hash).
    version: String,
    document: String,
    /// The BOD's action was `Delete`: the queue applies the stream's delete policy when the
    /// source no longer has the record.
    deleted: bool,
}

/// What a message yields: the records to queue, documents of other entities skipped, and
/// (when it could not be read) why.
#[derive(Debug, Default)]
struct Reading {
    pushed: Vec<Pushed>,
    other_entity: u64,
    unreadable: Option<String>,
}

impl PushIntake {
    /// An intake that authenticates with `secret`, reads documents as `context` (the tenant
    /// and accounting entity of the forward source: identities must match what it reads, and
    /// documents of other entities are skipped), queues records for them in `store`, stamps
    /// them with `clock` and notifies `queued` when it queued something (the runner's wake).
    ///
    /// ```no_run
    /// # fn run(store: std::sync::Arc<dyn sync_core::store::SyncStore>) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use infor_ion_client::cloudsuite::bods::BodContext;
    /// use infor_ion_client::cloudsuite::push::{PushIntake, push_router};
    /// use sdk_common::listener::HeaderSecret;
    ///
    /// let secret = HeaderSecret::new("Authorization", std::env::var("ION_PUSH_AUTH")?.into())?;
    /// let wake = Arc::new(tokio::sync::Notify::new());
    /// let intake = PushIntake::new(
    ///     secret,
    ///     store,
    ///     BodContext::new("ACME_PRD", "100"),
    ///     sync_core::time::SystemClock::shared(),
    ///     wake.clone(), // give the same Notify to TenantRunner::with_wake
    /// );
    /// let app = axum::Router::new().nest("/ion", push_router(Arc::new(intake)));
    /// # let _ = app; Ok(()) }
    /// ```
    pub fn new(
        secret: HeaderSecret,
        store: Arc<dyn SyncStore>,
        context: BodContext,
        clock: SharedClock,
        queued: Arc<Notify>,
    ) -> Self {
        let limits = PushLimits::default();
        PushIntake {
            secret,
            store,
            context,
            clock,
            queued,
            gate: gate(&limits),
            limits,
            counters: Counters::default(),
            streams: None,
        }
    }

    /// Queue records only for these streams (the ones the runner syncs); a document of
    /// another is answered 2xx and counted ([`PushStats::not_synced`]), never left queued
    /// with nobody to drain it.
    pub fn only_streams(mut self, streams: impl IntoIterator<Item = StreamId>) -> Self {
        self.streams = Some(streams.into_iter().collect());
        self
    }

    /// Use these limits instead of the defaults.
    pub fn with_limits(mut self, limits: PushLimits) -> Self {
        self.gate = gate(&limits);
        self.limits = limits;
        self
    }

    /// What the intake has seen so far.
    pub fn stats(&self) -> PushStats {
        let c = &self.counters;
        PushStats {
            accepted: c.accepted.get(),
            unreadable: c.unreadable.get(),
            queued: c.queued.get(),
            duplicates: c.duplicates.get(),
            other_entity: c.other_entity.get(),
            not_synced: c.not_synced.get(),
            refused_credentials: self.gate.refused_credentials(),
            refused_limits: self.gate.refused_limits(),
            store_failures: c.store_failures.get(),
        }
    }

    /// Persist one authenticated message: the records it names, and (when it cannot be read)
    /// the message itself. `Err` when the store could not take it.
    async fn persist(&self, raw: &[u8], reading: Reading) -> Result<(), SyncError> {
        let store = self.store.as_ref();
        let now = self.clock.now();
        let tenant = &self.context.tenant;
        self.counters.other_entity.add(reading.other_entity);
        if let Some(reason) = &reading.unreadable {
            tracing::warn!(
                reason,
                refetches = reading.pushed.len(),
                "kept an unreadable ION push message"
            );
            queue::keep_unreadable(
                store,
                tenant,
                &StreamId(MESSAGE_STREAM.into()),
                "ion-push",
                Unreadable {
                    body: raw,
                    reason,
                    refetches: reading.pushed.len(),
                    kind: reading
                        .pushed
                        .first()
                        .map_or(RecordKind::Supplier, |p| p.kind),
                    received_at: now,
                },
            )
            .await?;
            self.counters.unreadable.add(1);
        }
        let (pushed, not_synced): (Vec<&Pushed>, Vec<&Pushed>) = reading
            .pushed
            .iter()
            .partition(|p| self.streams.as_ref().is_none_or(|s| s.contains(&p.stream)));
        self.counters.not_synced.add(not_synced.len() as u64);
        let mut queued = 0;
        for pushed in &pushed {
            let trigger = Trigger {
                delivery_key: format!(
                    "{}/{}/{}",
                    pushed.document, pushed.identity.id, pushed.version
                ),
                event: pushed.document.clone(),
                target: pushed.identity.clone(),
                hint: None,
                deleted: pushed.deleted,
                received_at: now,
            };
            let queue = push_queue(&pushed.stream);
            if queue::enqueue(store, tenant, &queue, pushed.kind, "ion-push", &trigger).await? {
                queued += 1;
            }
        }
        self.counters.queued.add(queued);
        self.counters.duplicates.add(pushed.len() as u64 - queued);
        if queued > 0 {
            self.queued.notify_one();
        }
        Ok(())
    }

    /// What a message asks for.
    fn read(&self, parameters: Option<Parameters>, payload: Option<&[u8]>, raw: &[u8]) -> Reading {
        let parameters = parameters.unwrap_or_default();
        let version = |variation: Option<u64>| match (variation, &parameters.message_id) {
            (Some(variation), _) => format!("v{variation}"),
            (None, Some(message)) => format!("m{message}"),
            (None, None) => format!(
                "h{}",
                hash_value(&serde_json::json!(String::from_utf8_lossy(raw)), &[]).0
            ),
        };
        // What the parameters alone allow, should the payload not be readable.
        let salvage = |reason: String| {
            let pushed = parameters
                .document_name
                .as_deref()
                .and_then(bods::stream_of)
                .zip(parameters.document_id.as_deref())
                .map(|((stream, kind), id)| Pushed {
                    stream,
                    kind,
                    identity: self.identity(id),
                    version: version(None),
                    document: parameters.document_name.clone().unwrap_or_default(),
                    deleted: false,
                })
                .into_iter()
                .collect();
            Reading {
                pushed,
                other_entity: 0,
                unreadable: Some(reason),
            }
        };
        if let Some(encoding) = parameters.encoding.as_deref()
            && !encoding.eq_ignore_ascii_case("NONE")
        {
            return salvage(format!(
                "encoding {encoding:?} is not supported: set the connection point to send NONE"
            ));
        }
        let Some(payload) = payload else {
            return salvage("the message has no MessagePayload part".to_owned());
        };
        let bod = match AnyBod::from_reader(payload, BodLimits::default()) {
            Ok(bod) => bod,
            Err(error) => return salvage(format!("the BOD cannot be read: {error}")),
        };
        if !matches!(bod.verb(), Verb::Sync | Verb::Show) {
            return salvage(format!(
                "a {}{} BOD is neither a Sync nor a Show: the sync reads only those",
                bod.verb(),
                bod.noun_name()
            ));
        }
        let read = match &bod {
            AnyBod::SupplierPartyMaster(b) => self.records::<Supplier>(b, &version),
            AnyBod::PurchaseOrder(b) => self.records::<PurchaseOrder>(b, &version),
            AnyBod::SupplierInvoice(b) => self.records::<SupplierInvoice>(b, &version),
            AnyBod::ChartOfAccounts(b) => self.chart(b, &version),
            other => {
                return salvage(format!(
                    "{} BODs are not read by the sync",
                    other.noun_name()
                ));
            }
        };
        match read {
            Ok(reading) => reading,
            Err(reason) => salvage(reason),
        }
    }

    /// The records of `bod` of this source's entity, each with its version.
    fn records<R: FromBod>(
        &self,
        bod: &Bod<R::Noun>,
        version: &dyn Fn(Option<u64>) -> String,
    ) -> Result<Reading, String> {
        let (stream, kind) = bods::stream_of(R::DOCUMENT).ok_or("not a document the sync reads")?;
        let deleted = bod.verb_area.action_code() == Some(ActionCode::Delete);
        let mut reading = Reading::default();
        for noun in &bod.nouns {
            let key = key_for(bod, noun);
            if self.other_entity(
                key.as_ref()
                    .and_then(|(k, _)| k.accounting_entity.as_deref()),
            ) {
                reading.other_entity += 1;
                continue;
            }
            if deleted {
                // A Delete may carry the ids only: the document id names the record.
                let Some((key, variation)) = &key else {
                    return Err(format!("a Delete {} names no document id", R::DOCUMENT));
                };
                reading.pushed.push(Pushed {
                    stream: stream.clone(),
                    kind,
                    identity: self.identity(&key.document_id),
                    version: version(*variation),
                    document: R::DOCUMENT.to_owned(),
                    deleted: true,
                });
                continue;
            }
            let records = R::from_noun(bod, noun, None, &self.context)
                .map_err(|e| format!("{}: {e}", R::DOCUMENT))?;
            for record in records {
                reading.pushed.push(Pushed {
                    stream: stream.clone(),
                    kind,
                    identity: record.identity().clone(),
                    version: version(key.as_ref().and_then(|(_, v)| *v)),
                    document: R::DOCUMENT.to_owned(),
                    deleted: false,
                });
            }
        }
        Ok(reading)
    }

    /// A chart BOD of this source's entity: one item for the GL stream, which reads the chart.
    fn chart(
        &self,
        bod: &Bod<crate::bod::ChartOfAccounts>,
        version: &dyn Fn(Option<u64>) -> String,
    ) -> Result<Reading, String> {
        let mut reading = Reading::default();
        let ours = bod.nouns.iter().find_map(|noun| {
            let key = key_for(bod, noun);
            let entity = key
                .as_ref()
                .and_then(|(k, _)| k.accounting_entity.as_deref());
            (!self.other_entity(entity)).then(|| key.and_then(|(_, v)| v))
        });
        match ours {
            None => reading.other_entity += bod.nouns.len() as u64,
            Some(variation) => reading.pushed.push(Pushed {
                stream: StreamId::gl_accounts(),
                kind: RecordKind::GlAccount,
                identity: self.identity(CHART_ID),
                version: version(variation),
                document: GlAccount::DOCUMENT.to_owned(),
                deleted: false,
            }),
        }
        Ok(reading)
    }

    fn other_entity(&self, entity: Option<&str>) -> bool {
        !self.context.accounting_entity.is_empty()
            && entity.is_some_and(|e| e != self.context.accounting_entity)
    }

    fn identity(&self, id: &str) -> SourceIdentity {
        SourceIdentity::new(
            SYSTEM,
            &self.context.tenant,
            &self.context.accounting_entity,
            id,
        )
    }
}

/// The router: IMS's `GET /service/ping` and `POST /service/v2|v3/multipartMessage`.
pub fn push_router(intake: Arc<PushIntake>) -> Router {
    // The multipart reader's own limit (axum's default is 2 MiB) must not undercut ours.
    let body_limit = DefaultBodyLimit::max(intake.limits.max_body_bytes);
    Router::new()
        .route("/service/ping", get(ping))
        .route(
            "/service/v2/multipartMessage",
            post(|state, request| deliver(state, request, StatusCode::CREATED)),
        )
        .route(
            "/service/v3/multipartMessage",
            post(|state, request| deliver(state, request, StatusCode::ACCEPTED)),
        )
        .layer(body_limit)
        .with_state(intake)
}

async fn ping(State(intake): State<Arc<PushIntake>>, request: Request) -> StatusCode {
    let now = intake.clock.now();
    match intake
        .gate
        .admit(request, now, |h| intake.secret.check(h))
        .await
    {
        Ok(_) => StatusCode::OK,
        Err(status) => status,
    }
}

async fn deliver(
    State(intake): State<Arc<PushIntake>>,
    request: Request,
    success: StatusCode,
) -> StatusCode {
    let now = intake.clock.now();
    // Held until the answer: the slot covers persisting too.
    let admitted = match intake
        .gate
        .admit(request, now, |h| intake.secret.check(h))
        .await
    {
        Ok(admitted) => admitted,
        Err(status) => return status,
    };
    let raw = &admitted.body;
    let request = Request::from_parts(admitted.parts.clone(), Body::from(raw.clone()));
    let (parameters, payload, problem) = parts_of(request).await;
    let mut reading = intake.read(parameters, payload.as_deref(), raw);
    if let Some(problem) = problem {
        // The message's own fault is the cause; what reading it found follows from it.
        reading.unreadable = Some(problem);
    }
    match intake.persist(raw, reading).await {
        Ok(()) => {
            intake.counters.accepted.add(1);
            success
        }
        Err(error) => {
            // Not persisted: let ION deliver it again.
            intake.counters.store_failures.add(1);
            tracing::error!(error = %sdk_common::report::chain(&error), "cannot persist an ION push message");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// The `ParameterRequest` and `MessagePayload` parts of a multipart message, and what was
/// wrong with the message if anything.
async fn parts_of(request: Request) -> (Option<Parameters>, Option<Bytes>, Option<String>) {
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(multipart) => multipart,
        Err(error) => {
            return (
                None,
                None,
                Some(format!("not a multipart message: {error}")),
            );
        }
    };
    let (mut parameters, mut payload, mut problem) = (None, None, None);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                problem = Some(format!("the multipart message is malformed: {error}"));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(error) => {
                problem = Some(format!("part {name:?} cannot be read: {error}"));
                break;
            }
        };
        match name.as_str() {
            "ParameterRequest" => match serde_json::from_slice::<Parameters>(&bytes) {
                Ok(read) => parameters = Some(read),
                Err(error) => problem = Some(format!("ParameterRequest is not valid: {error}")),
            },
            "MessagePayload" => payload = Some(bytes),
            _ => {}
        }
    }
    (parameters, payload, problem)
}
