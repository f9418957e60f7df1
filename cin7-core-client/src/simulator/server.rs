//! The HTTP side: one axum fallback handler that authenticates, rate-limits, asks the fault
//! plan, routes to the endpoint and then applies the fault to the answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sdk_common::faults::{Fault, FaultPlan};
use sdk_common::time::SharedClock;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use super::config::{LimitScope, SimRateLimit, SimulatorConfig, UnknownPath};
use super::data::{Data, DeliveryRecord, Event};
use super::wire::{self, Query, Reply, error, text};
use super::{purchases, reference, suppliers};

/// After this many consecutive failed deliveries a webhook is deactivated (Cin7: 6 attempts).
const DEACTIVATE_AFTER: u32 = 6;

/// State shared by the handler, the delivery worker and the [`Cin7Simulator`](super::Cin7Simulator).
pub(crate) struct Shared {
    pub account_id: String,
    pub application_keys: Vec<String>,
    pub rate_limit: SimRateLimit,
    pub unknown_path: UnknownPath,
    pub automation_module: bool,
    pub all_account_writes_blocked: bool,
    pub check_line_totals: bool,
    pub clock: SharedClock,
    pub faults: Arc<FaultPlan>,
    pub data: Mutex<Data>,
    pub deliveries: mpsc::UnboundedSender<Job>,
    pub delivered: Notify,
}

impl std::fmt::Debug for Shared {
    // Credentials and webhook secrets stay out of Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("rate_limit", &self.rate_limit)
            .field("unknown_path", &self.unknown_path)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(config: &SimulatorConfig, deliveries: mpsc::UnboundedSender<Job>) -> Self {
        let now = config.clock.now();
        Shared {
            account_id: config.account_id.clone(),
            application_keys: config.application_keys.clone(),
            rate_limit: config.rate_limit.clone(),
            unknown_path: config.unknown_path,
            automation_module: config.automation_module,
            all_account_writes_blocked: config.integration_blocks_all_account_writes,
            check_line_totals: config.check_line_totals,
            clock: config.clock.clone(),
            faults: config.faults.clone(),
            data: Mutex::new(Data::new(config, now)),
            deliveries,
            delivered: Notify::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Data> {
        // A panic while holding the lock can only come from a bug in a handler; the data is
        // still usable, so keep serving rather than poisoning every later call.
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The endpoints served, by lower-cased path: canonical name and allowed methods.
const ROUTES: &[(&str, &[&str])] = &[
    ("supplier", &["GET", "POST", "PUT"]),
    ("advanced-purchase", &["GET", "POST", "PUT", "DELETE"]),
    ("purchase/order", &["GET", "POST"]),
    ("advanced-purchase/invoice", &["POST"]),
    ("advanced-purchase/stock", &["POST"]),
    ("advanced-purchase/payment", &["GET", "POST"]),
    ("purchaseList", &["GET"]),
    ("product", &["GET"]),
    ("ref/account", &["GET", "POST", "PUT", "DELETE"]),
    ("ref/tax", &["GET"]),
    ("ref/paymentterm", &["GET"]),
    ("ref/location", &["GET"]),
    ("me", &["GET"]),
    ("webhooks", &["GET", "POST", "PUT", "DELETE"]),
];

/// The path after `/ExternalApi/v2/` (any case), or the whole path without its leading `/`.
fn relative(path: &str) -> &str {
    let lower = path.to_ascii_lowercase();
    match lower.find("/externalapi/v2/") {
        Some(at) => &path[at + "/externalapi/v2/".len()..],
        None => path.trim_start_matches('/'),
    }
    .trim_end_matches('/')
}

fn respond(reply: Reply) -> Response {
    match reply {
        Reply::Json(status, body) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(body)).into_response()
        }
        Reply::Text(status, content_type, body) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
    }
}

/// A response whose body fails at once: hyper aborts the connection, so the client sees the
/// connection drop with no usable answer.
fn reset() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated connection reset",
        ))
    });
    Response::new(Body::from_stream(failing))
}

fn html_page() -> Reply {
    Reply::Text(
        200,
        "text/html; charset=utf-8",
        "<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Page not found</h1></body></html>".to_owned(),
    )
}

fn authenticated(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let account = get("api-auth-accountid")?;
    let key = get("api-auth-applicationkey")?;
    let account_ok = account.eq_ignore_ascii_case(&shared.account_id);
    let key_ok = shared
        .application_keys
        .iter()
        .any(|k| k.eq_ignore_ascii_case(key));
    (account_ok && key_ok).then(|| match shared.rate_limit.scope {
        LimitScope::PerAccount => shared.account_id.to_ascii_lowercase(),
        LimitScope::PerApplicationKey => format!(
            "{}/{}",
            shared.account_id.to_ascii_lowercase(),
            key.to_ascii_lowercase()
        ),
    })
}

/// Take a slot in the sliding window, or say how long until one frees.
fn take_slot(shared: &Shared, data: &mut Data, key: &str) -> Result<(), Duration> {
    let limit = &shared.rate_limit;
    let now = shared.clock.now();
    let window = sdk_common::time::to_chrono(limit.window);
    let calls: &mut VecDeque<_> = data.window.entry(key.to_owned()).or_default();
    while calls.front().is_some_and(|t| *t + window <= now) {
        calls.pop_front();
    }
    if calls.len() < limit.calls as usize {
        calls.push_back(now);
        return Ok(());
    }
    let wait = calls
        .front()
        .map(|t| (*t + window - now).to_std().unwrap_or_default())
        .unwrap_or(limit.window);
    Err(wait)
}

fn throttled(limit: &SimRateLimit, wait: Duration) -> Response {
    let status = StatusCode::from_u16(limit.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let mut response = if limit.limit_message {
        let message = format!(
            "You have reached {} calls per {} seconds API limit.",
            limit.calls,
            limit.window.as_secs()
        );
        (
            status,
            axum::Json(json!({"ErrorCode": limit.status, "Exception": message})),
        )
            .into_response()
    } else {
        status.into_response()
    };
    if limit.retry_after {
        // Round up so a client that waits exactly this long finds a free slot.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(limit_key) = authenticated(&shared, &headers) else {
        return respond(Reply::Text(
            403,
            "text/plain; charset=utf-8",
            "Incorrect credentials!".to_owned(),
        ));
    };
    let rel = relative(uri.path()).to_owned();
    let route = ROUTES
        .iter()
        .find(|(path, _)| path.eq_ignore_ascii_case(&rel));
    let endpoint = match route {
        Some((path, _)) => format!("{} /{path}", method.as_str()),
        None => format!("{} /{rel}", method.as_str()),
    };
    {
        let mut data = shared.lock();
        *data.calls.entry(endpoint.clone()).or_insert(0) += 1;
        if let Err(wait) = take_slot(&shared, &mut data, &limit_key) {
            data.throttled += 1;
            return throttled(&shared.rate_limit, wait);
        }
    }
    let Some((path, methods)) = route else {
        return respond(match shared.unknown_path {
            UnknownPath::HtmlOk => html_page(),
            UnknownPath::NotFound => error(404, 404, format!("Endpoint '{rel}' not found.")),
        });
    };
    if !methods.contains(&method.as_str()) {
        return respond(error(405, 405, "Method not allowed."));
    }
    let fault = shared.faults.next(&endpoint);
    match &fault {
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let mut response = respond(error(*status, *status, "Simulated server fault."));
            if let Some(after) = retry_after
                && let Ok(value) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Some(Fault::ResetBeforeApply) => return reset(),
        Some(Fault::HtmlOk) => return respond(html_page()),
        Some(Fault::ApplicationError) => {
            return respond(error(200, 500, "Simulated application error."));
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(*delay).await,
        _ => {}
    }
    let query = Query::parse(uri.query());
    let reply = apply(&shared, method.as_str(), path, &query, &body);
    match fault {
        Some(Fault::ResetAfterApply) => reset(),
        Some(Fault::HangAfterApply(hang)) => {
            // Real time on purpose: the caller is meant to be killed while it waits.
            tokio::time::sleep(hang).await;
            respond(reply)
        }
        Some(Fault::MalformedBody) => {
            let text = match &reply {
                Reply::Json(_, body) => body.to_string(),
                Reply::Text(_, _, body) => body.clone(),
            };
            let cut: String = text.chars().take(text.chars().count() / 2).collect();
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                cut,
            )
                .into_response()
        }
        _ => respond(reply),
    }
}

/// Run one call against the data, then hand its events to the delivery worker.
fn apply(shared: &Shared, method: &str, path: &str, query: &Query, body: &Bytes) -> Reply {
    let parsed: Value = if matches!(method, "POST" | "PUT") {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(_) => return error(500, 500, "The request body could not be parsed."),
        }
    } else {
        Value::Null
    };
    let now = shared.clock.now();
    let (reply, events, hooks) = {
        let mut data = shared.lock();
        let data = &mut *data;
        let check = shared.check_line_totals;
        let automation = shared.automation_module;
        let blocked = shared.all_account_writes_blocked;
        let reply = match (method, path) {
            ("GET", "supplier") => suppliers::list(data, query),
            ("POST", "supplier") => suppliers::create(data, &parsed, now),
            ("PUT", "supplier") => suppliers::update(data, &parsed, now),
            ("GET", "advanced-purchase") => purchases::get(data, query),
            ("POST", "advanced-purchase") => purchases::create(data, &parsed, now),
            ("PUT", "advanced-purchase") => purchases::update(data, &parsed, now),
            ("DELETE", "advanced-purchase") => purchases::delete(data, query, now),
            ("GET", "purchase/order") => purchases::order(data, query),
            ("POST", "purchase/order") => purchases::save_order(data, &parsed, now, check),
            ("POST", "advanced-purchase/invoice") => {
                purchases::create_invoice(data, &parsed, now, check)
            }
            ("POST", "advanced-purchase/stock") => purchases::receive_stock(data, &parsed, now),
            ("GET", "advanced-purchase/payment") => purchases::payments(data, query),
            ("POST", "advanced-purchase/payment") => purchases::create_payment(data, &parsed, now),
            ("GET", "purchaseList") => purchases::list(data, query),
            ("GET", "product") => products(data, query),
            ("GET", "ref/account") => reference::accounts(data, query),
            ("POST", "ref/account") => reference::create_account(data, &parsed, blocked),
            ("PUT", "ref/account") => reference::update_account(data, &parsed),
            ("DELETE", "ref/account") => reference::delete_account(data, query, blocked),
            ("GET", "ref/tax") => reference::tax_rules(data, query),
            ("GET", "ref/paymentterm") => reference::payment_terms(data, query),
            ("GET", "ref/location") => reference::locations(data, query),
            ("GET", "me") => reference::me(data),
            ("GET", "webhooks") => reference::webhooks(data, automation),
            ("POST", "webhooks") => reference::create_webhook(data, &parsed, automation),
            ("PUT", "webhooks") => reference::update_webhook(data, &parsed, automation),
            ("DELETE", "webhooks") => reference::delete_webhook(data, query, automation),
            _ => error(405, 405, "Method not allowed."),
        };
        // A refused call changes nothing, so it raises nothing.
        let events = if reply.status() < 300 {
            std::mem::take(&mut data.events)
        } else {
            data.events.clear();
            Vec::new()
        };
        (reply, events, data.webhooks.clone())
    };
    for event in events {
        for hook in hooks.iter().filter(|h| {
            wire::field_is(h, "Type", event.event_type)
                && wire::boolean(h, "IsActive").unwrap_or(false)
        }) {
            // Unbounded and fire-and-forget: delivery never blocks the request.
            let _ = shared.deliveries.send(Job::new(hook, &event));
        }
    }
    reply
}

/// One webhook POST to make.
#[derive(Debug)]
pub(crate) struct Job {
    webhook_id: String,
    url: String,
    headers: Vec<(String, String)>,
    event_type: String,
    body: Value,
}

impl Job {
    fn new(hook: &serde_json::Map<String, Value>, event: &Event) -> Job {
        let mut headers = Vec::new();
        match text(hook, "ExternalAuthorizationType").map(str::to_ascii_lowercase) {
            Some(t) if t == "bearerauth" => headers.push((
                "authorization".to_owned(),
                format!(
                    "Bearer {}",
                    text(hook, "ExternalBearerToken").unwrap_or_default()
                ),
            )),
            Some(t) if t == "basicauth" => {
                let pair = format!(
                    "{}:{}",
                    text(hook, "ExternalUserName").unwrap_or_default(),
                    text(hook, "ExternalPassword").unwrap_or_default()
                );
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                headers.push(("authorization".to_owned(), format!("Basic {encoded}")));
            }
            _ => {}
        }
        for extra in hook
            .get("ExternalHeaders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
        {
            if let (Some(k), Some(v)) = (text(extra, "Key"), text(extra, "Value")) {
                headers.push((k.to_owned(), v.to_owned()));
            }
        }
        Job {
            webhook_id: text(hook, "ID").unwrap_or_default().to_owned(),
            url: text(hook, "ExternalURL").unwrap_or_default().to_owned(),
            headers,
            event_type: event.event_type.to_owned(),
            body: event.payload.clone(),
        }
    }
}

/// Take jobs off the queue and POST each on its own task, recording the outcome.
pub(crate) async fn deliver_all(shared: Arc<Shared>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    while let Some(job) = jobs.recv().await {
        let shared = shared.clone();
        let http = http.clone();
        tokio::spawn(async move {
            let mut request = http.post(&job.url).json(&job.body);
            for (k, v) in &job.headers {
                request = request.header(k, v);
            }
            // Cin7 deliveries carry an AWS trace id, used by some receivers to dedupe.
            request = request.header("x-amzn-trace-id", format!("Root=1-sim-{}", job.webhook_id));
            let outcome = match request.send().await {
                Ok(response) => Ok(response.status().as_u16()),
                Err(e) => Err(e.without_url().to_string()),
            };
            let failed = !matches!(outcome, Ok(status) if (200..300).contains(&status));
            {
                let mut data = shared.lock();
                let failures = data
                    .webhook_failures
                    .entry(job.webhook_id.clone())
                    .or_insert(0);
                *failures = if failed { *failures + 1 } else { 0 };
                if *failures >= DEACTIVATE_AFTER {
                    let id = job.webhook_id.clone();
                    if let Some(hook) = data
                        .webhooks
                        .iter_mut()
                        .find(|h| wire::field_is(h, "ID", &id))
                    {
                        hook.insert("IsActive".into(), json!(false));
                    }
                }
                data.deliveries.push(DeliveryRecord {
                    webhook_id: job.webhook_id,
                    url: job.url,
                    event_type: job.event_type,
                    body: job.body,
                    outcome,
                });
            }
            shared.delivered.notify_waiters();
        });
    }
}

/// `GET /product?Sku=`: the products whose SKU contains the filter (ignoring case), as Cin7's
/// list filters match more than the exact value; an empty list when products are not modelled.
fn products(data: &Data, query: &Query) -> Reply {
    let sku = query.get("sku").map(|s| s.to_ascii_lowercase());
    let rows: Vec<Value> = data
        .products
        .iter()
        .flatten()
        .filter(|(key, _)| sku.as_deref().is_none_or(|s| key.contains(s)))
        .map(|(_, row)| Value::Object(row.clone()))
        .collect();
    super::wire::paged(rows, query, "Products", data.paging("product"))
}
