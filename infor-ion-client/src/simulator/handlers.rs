//! The simulator's HTTP surface.

// Checks return `Result<(), Response>` so a handler can `return` the refusal as is; the
// response is large, but it is built once per refused call, never on a hot path.
#![allow(clippy::result_large_err)]

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use sdk_common::faults::Fault;
use serde_json::{Value, json};

use super::data::Row;
use super::{IssuedToken, ReceivedMessage, Shared, bods, filter, lock, m3};

type Params = std::collections::HashMap<String, String>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let tenant = shared.config.tenant.clone();
    let routes = Router::new()
        .route("/as/token.oauth2", post(token))
        .route("/as/revoke_token.oauth2", post(revoke))
        .route("/CSI/IDORequestService/ido/load/{ido}", get(load))
        .route("/CSI/IDORequestService/ido/info/{ido}", get(info))
        .route("/CSI/IDORequestService/ido/update/{ido}", post(update))
        .route("/M3/m3api-rest/v2/execute/{program}/{transaction}", get(mi))
        .route("/IONSERVICES/datalakeapi/v1/payloads/list", get(lake_list))
        .route(
            "/IONSERVICES/datalakeapi/v1/payloads/streambyid",
            get(lake_fetch),
        )
        .route(
            "/IONSERVICES/api/ion/messaging/service/v2/multipartMessage",
            post(ims),
        );
    Router::new()
        .nest(&format!("/{tenant}"), routes)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            date_header,
        ))
        .with_state(shared)
}

/// Every answer carries the simulator clock's time, as a real gateway's `Date` header would.
async fn date_header(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let date = shared.now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A response whose body fails at once: hyper aborts the connection after the headers, so
/// the client sees a broken answer and cannot tell whether the call was applied.
fn reset() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("simulated connection reset"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(failing))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// What a fault does before the call is applied: `Some(response)` ends the call there.
/// `application_error` is the product's own error body for this endpoint.
async fn before(
    shared: &Shared,
    fault: &Option<Fault>,
    application_error: impl FnOnce() -> Response,
) -> Option<Response> {
    match fault.as_ref()? {
        Fault::Status {
            status,
            retry_after,
        } => {
            let mut response = (
                StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                "simulated failure",
            )
                .into_response();
            if let Some(after) = retry_after
                && let Ok(value) = HeaderValue::from_str(&after.as_secs().to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Some(response)
        }
        Fault::Delay(duration) => {
            // Real time on purpose: a delay exists to outlast the client's (real) timeout.
            tokio::time::sleep(*duration).await;
            None
        }
        Fault::ResetBeforeApply => Some(reset()),
        Fault::HtmlOk => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>Sign in</h1></body></html>",
            )
                .into_response(),
        ),
        Fault::MalformedBody => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"Items": [{"VendNum": "V0"#,
            )
                .into_response(),
        ),
        Fault::RevokeTokens => {
            revoke_all(shared);
            None
        }
        Fault::ApplicationError => Some(application_error()),
        // Held answers are simulated by the Cin7 simulator only; here the call is answered at
        // once (see `Fault::HangAfterApply`).
        Fault::ResetAfterApply | Fault::HangAfterApply(_) => None,
    }
}

/// Ask the plan, count the call, and apply the pre-call part of a fault.
async fn begin(
    shared: &Shared,
    endpoint: &str,
    application_error: impl FnOnce() -> Response,
) -> Result<Option<Fault>, Response> {
    shared.count(endpoint);
    let fault = shared.config.faults.next(endpoint);
    match before(shared, &fault, application_error).await {
        Some(response) => Err(response),
        None => Ok(fault),
    }
}

/// The post-call part: `ResetAfterApply` replaces the answer with a reset.
fn finish(fault: Option<Fault>, response: Response) -> Response {
    match fault {
        Some(Fault::ResetAfterApply) => reset(),
        _ => response,
    }
}

pub(super) fn revoke_all(shared: &Shared) {
    let mut tokens = lock(&shared.tokens);
    for token in tokens.access.values_mut() {
        token.revoked = true;
    }
    for revoked in tokens.refresh.values_mut() {
        *revoked = true;
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn random_token(prefix: &str) -> String {
    use rand::Rng;
    let bytes: [u8; 24] = rand::rng().random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Client credentials from the form body or HTTP Basic.
fn client_credentials(headers: &HeaderMap, form: &Params) -> Option<(String, String)> {
    if let (Some(id), Some(secret)) = (form.get("client_id"), form.get("client_secret")) {
        return Some((id.clone(), secret.clone()));
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    lock(&shared.tokens).requests += 1;
    let fault = match begin(&shared, "POST /token", || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "simulated refusal",
        )
    })
    .await
    {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    let form: Params = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body is not a form",
            );
        }
    };
    let config = &shared.config;
    match client_credentials(&headers, &form) {
        Some((id, secret)) if id == config.client_id && secret == config.client_secret => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Invalid client or client credentials",
            );
        }
    }
    let mut tokens = lock(&shared.tokens);
    match form.get("grant_type").map(String::as_str) {
        Some("password") => {
            if form.get("username") != Some(&config.service_account_key)
                || form.get("password") != Some(&config.service_account_secret)
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The provided service account credentials are invalid",
                );
            }
        }
        Some("refresh_token") => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            match tokens.refresh.get(&presented) {
                Some(false) => {
                    // Refresh tokens rotate: the old one is spent.
                    tokens.refresh.insert(presented, true);
                }
                _ => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "The refresh token is invalid, expired or revoked",
                    );
                }
            }
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only password and refresh_token grants are supported",
            );
        }
    }
    let access = random_token("sim-at-");
    let lifetime = config.token_lifetime;
    tokens.access.insert(
        access.clone(),
        IssuedToken {
            expires_at: shared.now() + sdk_common::time::to_chrono(lifetime),
            revoked: false,
        },
    );
    tokens.issued += 1;
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
    });
    if config.issue_refresh_tokens {
        let refresh = random_token("sim-rt-");
        tokens.refresh.insert(refresh.clone(), false);
        body["refresh_token"] = refresh.into();
    }
    drop(tokens);
    finish(fault, json_response(StatusCode::OK, body))
}

async fn revoke(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.count("POST /revoke");
    let form: Params = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let Some(token) = form.get("token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        );
    };
    let mut tokens = lock(&shared.tokens);
    if let Some(revoked) = tokens.refresh.get_mut(token) {
        *revoked = true;
    }
    if let Some(access) = tokens.access.get_mut(token) {
        access.revoked = true;
    }
    StatusCode::OK.into_response()
}

/// 401 unless the bearer token is current.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let valid = token.is_some_and(|t| {
        lock(&shared.tokens)
            .access
            .get(t)
            .is_some_and(|issued| !issued.revoked && shared.now() < issued.expires_at)
    });
    if valid {
        Ok(())
    } else {
        Err(StatusCode::UNAUTHORIZED.into_response())
    }
}

fn ido_failure(message: &str) -> Response {
    json_response(
        StatusCode::OK,
        json!({"Items": null, "Bookmark": null, "MoreRowsExist": false, "Success": false, "Message": message}),
    )
}

fn check_config(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let given = headers
        .get("x-infor-mongooseconfig")
        .and_then(|v| v.to_str().ok());
    if given == Some(shared.config.mongoose_config.as_str()) {
        Ok(())
    } else {
        Err(ido_failure(&format!(
            "Configuration {} is not valid",
            given.unwrap_or("(none)")
        )))
    }
}

/// Compare two rows on the `orderby` list, numbers as numbers.
/// The sort keys of a row for `order_by`, parsed once per row (not once per comparison).
fn sort_keys(row: &Row, order_by: &[(String, bool)]) -> Vec<Option<filter::Parsed>> {
    order_by
        .iter()
        .map(|(name, _)| {
            row.get(name)
                .and_then(|v| v.as_deref())
                .map(filter::Parsed::of)
        })
        .collect()
}

fn order(
    a: &[Option<filter::Parsed>],
    b: &[Option<filter::Parsed>],
    order_by: &[(String, bool)],
) -> Ordering {
    for ((va, vb), (_, descending)) in a.iter().zip(b).zip(order_by) {
        let ord = match (va, vb) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => filter::compare_values(x, y),
        };
        let ord = if *descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Bookmarks carry the position after the last row served (its place in the sorted result);
/// they are opaque to the client, as real ones are.
fn encode_bookmark(position: usize) -> String {
    format!("<B><P>{position}</P></B>")
}

fn decode_bookmark(bookmark: &str) -> Option<usize> {
    bookmark
        .strip_prefix("<B><P>")?
        .strip_suffix("</P></B>")?
        .parse()
        .ok()
}

async fn load(
    State(shared): State<Arc<Shared>>,
    Path(ido): Path<String>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let endpoint = format!("GET /load/{ido}");
    let fault = match begin(&shared, &endpoint, || ido_failure("Simulated IDO failure")).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    if let Err(response) = authorize(&shared, &headers) {
        return response;
    }
    if let Err(response) = check_config(&shared, &headers) {
        return response;
    }
    let profile = &shared.config.schema;
    let standard = match profile.resolve(&ido) {
        Ok(standard) => standard,
        Err(message) => return ido_failure(&message),
    };
    if let Some(message) = profile.refusal(standard, &ido) {
        return ido_failure(&message);
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let filter = match param("filter").filter(|f| !f.trim().is_empty()) {
        Some(text) => match filter::parse(text) {
            Ok(expr) => Some(expr),
            Err(reason) => return ido_failure(&format!("Invalid filter: {reason}")),
        },
        None => None,
    };
    let properties: Vec<String> = param("properties")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let order_by: Vec<(String, bool)> = param("orderby")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.strip_suffix(" DESC") {
            Some(name) => (name.trim().to_owned(), true),
            None => (p.to_owned(), false),
        })
        .collect();
    let cap = match param("recordcap").map(str::parse::<i64>) {
        None | Some(Ok(-1)) => 200,
        Some(Ok(0)) => usize::MAX,
        Some(Ok(n)) if n > 0 => n as usize,
        _ => return ido_failure("Invalid recordcap"),
    };
    let start = match (param("loadtype"), param("bookmark")) {
        (Some(kind), Some(bookmark)) if kind.eq_ignore_ascii_case("NEXT") => {
            match decode_bookmark(bookmark) {
                Some(position) => position,
                None => return ido_failure("Invalid bookmark"),
            }
        }
        (Some(kind), _) if !kind.eq_ignore_ascii_case("FIRST") => {
            return ido_failure("Unsupported loadtype");
        }
        _ => 0,
    };
    let data = lock(&shared.data);
    // The rows as this tenant serves them (renamed, thinned by the schema profile).
    let rows: std::borrow::Cow<'_, [super::data::StoredRow]> = if profile.keeps_rows(standard) {
        std::borrow::Cow::Borrowed(data.rows(standard))
    } else {
        data.rows(standard)
            .iter()
            .map(|r| super::data::StoredRow {
                values: profile.view(standard, &r.values),
                ..r.clone()
            })
            .collect()
    };
    let known = profile.properties(standard, &data);
    let unknown = properties
        .iter()
        .map(String::as_str)
        .chain(order_by.iter().map(|(n, _)| n.as_str()))
        .chain(filter.iter().flat_map(|f| f.properties()))
        .find(|p| !known.contains(*p));
    if let Some(property) = unknown {
        return ido_failure(&format!(
            "Property '{property}' is not a valid property of IDO '{ido}'"
        ));
    }
    let mut keyed: Vec<_> = rows
        .iter()
        .filter(|r| filter.as_ref().is_none_or(|f| f.matches(&r.values)))
        .map(|r| (sort_keys(&r.values, &order_by), r))
        .collect();
    keyed.sort_by(|(ka, a), (kb, b)| order(ka, kb, &order_by).then(a.seq.cmp(&b.seq)));
    let selected: Vec<_> = keyed.into_iter().map(|(_, r)| r).collect();
    let end = start.saturating_add(cap).min(selected.len());
    let page = selected.get(start.min(end)..end).unwrap_or_default();
    let items: Vec<Value> = page
        .iter()
        .map(|row| {
            let mut item = serde_json::Map::new();
            let names: Vec<&String> = if properties.is_empty() {
                row.values.keys().collect()
            } else {
                properties.iter().collect()
            };
            for name in names {
                let value = row.values.get(name.as_str()).cloned().flatten();
                item.insert(name.clone(), value.map_or(Value::Null, Value::String));
            }
            item.insert(
                "_ItemId".to_owned(),
                Value::String(format!("PBT=[{ido}] {ido}.ID=[{}]", row.seq)),
            );
            Value::Object(item)
        })
        .collect();
    let more = end < selected.len();
    let body = json!({
        "Items": items,
        "Bookmark": encode_bookmark(end),
        "MoreRowsExist": more,
        "Success": true,
        "Message": null,
    });
    drop(data);
    finish(fault, json_response(StatusCode::OK, body))
}

/// The `_ItemId` the simulator hands out for a row.
fn item_id(ido: &str, seq: u64) -> String {
    format!("PBT=[{ido}] {ido}.ID=[{seq}]")
}

fn seq_of(ido: &str, item_id: &str) -> Option<u64> {
    item_id
        .strip_prefix(&format!("PBT=[{ido}] {ido}.ID=["))?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// A saved row as the update answer's `RefreshItems` entry: shaped like a change (`Action`,
/// `ItemId`, `Properties[{Name, Value, Modified, IsNull}]`), by the tenant's property names.
/// The real shape is unconfirmed; this is the one the client reads first.
fn refresh_json(
    profile: &super::SchemaProfile,
    standard: &str,
    ido: &str,
    action: i64,
    row: &super::data::StoredRow,
) -> Value {
    let properties: Vec<Value> = profile
        .view(standard, &row.values)
        .into_iter()
        .map(|(name, value)| {
            json!({
                "Name": name,
                "IsNull": value.is_none(),
                "Value": value,
                "Modified": false,
            })
        })
        .collect();
    json!({
        "Action": action,
        "ItemId": item_id(ido, row.seq),
        "Properties": properties,
    })
}

/// `POST /update/{ido}`: one change per call (Action 1 insert, 2 update), as integrators' notes
/// say real servers process; inserts refuse a duplicate key, updates find the row by `_ItemId`. An
/// `SLAptrxs` insert without a `Voucher` gets the next voucher number.
/// Every saved row gets `RecordDate` from the simulator clock and a new variation.
///
/// The [`SchemaProfile`](super::SchemaProfile) shapes writes as it shapes reads: the IDO is
/// named as the tenant names it, a property the tenant lacks (or renamed) is refused as a real
/// tenant refuses it ("Property 'X' is not a valid property of IDO 'Y'"), and a key property
/// the tenant lacks is not required. The answer carries the saved row in `RefreshItems`.
async fn update(
    State(shared): State<Arc<Shared>>,
    Path(ido): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = format!("POST /update/{ido}");
    let fault = match begin(&shared, &endpoint, || ido_failure("Simulated IDO failure")).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    if let Err(response) = authorize(&shared, &headers) {
        return response;
    }
    if let Err(response) = check_config(&shared, &headers) {
        return response;
    }
    let profile = &shared.config.schema;
    let standard = match profile.resolve(&ido) {
        Ok(standard) => standard,
        Err(message) => return ido_failure(&message),
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return ido_failure("The request body is not JSON");
    };
    let changes = body.get("Changes").and_then(Value::as_array);
    let Some([change]) = changes.map(Vec::as_slice) else {
        return ido_failure("Exactly one entry in Changes is processed per call");
    };
    let now = shared.now();
    let mut data = lock(&shared.data);
    let mut properties = Vec::new();
    for property in change
        .get("Properties")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(name) = property.get("Name").and_then(Value::as_str) else {
            return ido_failure("A property has no Name");
        };
        let name = match profile.written_property(standard, name, &ido, &data) {
            Ok(name) => name,
            Err(message) => return ido_failure(&message),
        };
        let is_null = property.get("IsNull").and_then(Value::as_bool) == Some(true);
        let value = match property.get("Value") {
            _ if is_null => None,
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) => None,
            Some(other) => Some(other.to_string()),
        };
        properties.push((name, value));
    }
    let action = change.get("Action").and_then(Value::as_i64);
    let seq = match action {
        Some(1) => {
            let mut row: Row = properties.into_iter().collect();
            if standard == "SLAptrxs"
                && !profile.lacks(standard, "Voucher")
                && row.get("Voucher").is_none_or(|v| v.is_none())
            {
                // The voucher number is CloudSuite's: the next after the highest one.
                row.insert("Voucher".to_owned(), Some(data.next_voucher().to_string()));
            }
            // The key as this tenant has it (a key property it lacks is not part of it).
            let key_props: Vec<&str> = super::data::CloudSuiteData::key_of(standard)
                .iter()
                .copied()
                .filter(|p| !profile.lacks(standard, p))
                .collect();
            let key: Vec<String> = key_props
                .iter()
                .map(|p| row.get(*p).cloned().flatten().unwrap_or_default())
                .collect();
            if let Some(missing) = key_props.iter().zip(&key).find(|(_, v)| v.is_empty()) {
                return ido_failure(&format!("Property '{}' is required", missing.0));
            }
            let duplicate = data.rows(standard).iter().any(|r| {
                key_props
                    .iter()
                    .zip(&key)
                    .all(|(p, k)| r.values.get(*p).and_then(|v| v.as_deref()) == Some(k.as_str()))
            });
            if duplicate {
                return ido_failure(&format!(
                    "A row of {ido} with key {} already exists",
                    key.join("/")
                ));
            }
            row.insert("RecordDate".to_owned(), Some(data.record_date(now)));
            data.insert_row(standard, row)
        }
        Some(2) => {
            let Some(seq) = change
                .get("ItemId")
                .and_then(Value::as_str)
                .and_then(|id| seq_of(&ido, id))
            else {
                return ido_failure("The ItemId does not name a row of this IDO");
            };
            if !data.update_by_seq(standard, seq, &properties, now) {
                return ido_failure("The row was deleted by another user");
            }
            seq
        }
        _ => return ido_failure("Unsupported Action (1 insert, 2 update)"),
    };
    let refreshed: Vec<Value> = data
        .by_seq(standard, seq)
        .map(|row| refresh_json(profile, standard, &ido, action.unwrap_or(1), row))
        .into_iter()
        .collect();
    drop(data);
    finish(
        fault,
        json_response(
            StatusCode::OK,
            json!({"RefreshItems": refreshed, "Success": true, "Message": null}),
        ),
    )
}

async fn info(
    State(shared): State<Arc<Shared>>,
    Path(ido): Path<String>,
    headers: HeaderMap,
) -> Response {
    shared.count(&format!("GET /info/{ido}"));
    if let Err(response) = authorize(&shared, &headers) {
        return response;
    }
    if let Err(response) = check_config(&shared, &headers) {
        return response;
    }
    let profile = &shared.config.schema;
    let standard = match profile.resolve(&ido) {
        Ok(standard) => standard,
        Err(message) => return ido_failure(&message),
    };
    let data = lock(&shared.data);
    let properties: Vec<Value> = profile
        .properties(standard, &data)
        .into_iter()
        .map(|name| json!({"Name": name, "Type": "String", "ReadOnly": false}))
        .collect();
    json_response(
        StatusCode::OK,
        json!({"Properties": properties, "Success": true}),
    )
}

async fn mi(
    State(shared): State<Arc<Shared>>,
    Path((program, transaction)): Path<(String, String)>,
    headers: HeaderMap,
    Query(inputs): Query<Params>,
) -> Response {
    let mut parts = transaction.split(';');
    let transaction = parts.next().unwrap_or_default().to_owned();
    let matrix: Params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let endpoint = format!("GET /m3/{program}/{transaction}");
    let error = || m3::error_response(&transaction, "Simulated MI failure", None);
    // Every call runs in a company (the user's default without `cono`) and, with `divi`, a
    // division; M3 refuses one that does not exist.
    let profile = &shared.config.m3;
    let company = matrix
        .get("cono")
        .filter(|c| !c.is_empty())
        .cloned()
        .unwrap_or_else(|| profile.default_company.clone());
    let refusal = if company != profile.default_company && !shared.companies.contains_key(&company)
    {
        Some(m3::error_response(
            &transaction,
            &format!("Company {company} does not exist"),
            Some("CONO"),
        ))
    } else {
        matrix
            .get("divi")
            .filter(|d| !d.is_empty() && !profile.divisions.contains(d))
            .map(|divi| {
                m3::error_response(
                    &transaction,
                    &format!("Division {divi} does not exist in company {company}"),
                    Some("DIVI"),
                )
            })
    };
    let fault = match begin(&shared, &endpoint, error).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    if let Err(response) = authorize(&shared, &headers) {
        return response;
    }
    if let Some(refusal) = refusal {
        return finish(fault, refusal);
    }
    if !m3::is_write(&program, &transaction) {
        let response = match shared.companies.get(&company) {
            Some(data) => m3::execute(
                &lock(data),
                profile,
                &program,
                &transaction,
                &matrix,
                &inputs,
            ),
            None => m3::execute(
                &lock(&shared.data),
                profile,
                &program,
                &transaction,
                &matrix,
                &inputs,
            ),
        };
        return finish(fault, response);
    }
    // A write (applied to the main data whatever the company): applied before the answer, so
    // a reset-after-apply fault loses only the answer.
    let now = shared.now();
    let response = {
        let mut data = lock(&shared.data);
        let mut state = lock(&shared.m3);
        m3::execute_write(&mut data, &mut state, now, &program, &transaction, &inputs)
    };
    finish(fault, response)
}

/// The shared shape of a read-only handler: count and fault the call, check the token, answer
/// from the data, and apply a reset-after fault.
async fn read_only(
    shared: &Shared,
    endpoint: &str,
    headers: &HeaderMap,
    application_error: impl FnOnce() -> Response,
    answer: impl FnOnce(&super::data::CloudSuiteData) -> Response,
) -> Response {
    let fault = match begin(shared, endpoint, application_error).await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    if let Err(response) = authorize(shared, headers) {
        return response;
    }
    let response = answer(&lock(&shared.data));
    finish(fault, response)
}

fn lake_failure() -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"error": "simulated failure"}),
    )
}

async fn lake_list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    read_only(
        &shared,
        "GET /datalake/list",
        &headers,
        lake_failure,
        |data| bods::list(data, &params),
    )
    .await
}

async fn lake_fetch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let id = params.get("datalakeId").cloned().unwrap_or_default();
    read_only(
        &shared,
        "GET /datalake/fetch",
        &headers,
        lake_failure,
        |data| bods::fetch(data, &id),
    )
    .await
}

async fn ims(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let fault = match begin(&shared, "POST /ims", || {
        StatusCode::FORBIDDEN.into_response()
    })
    .await
    {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    if let Err(response) = authorize(&shared, &headers) {
        return response;
    }
    let mut parameters = None;
    let mut payload = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let Ok(bytes) = field.bytes().await else {
            return (StatusCode::BAD_REQUEST, "unreadable part").into_response();
        };
        match name.as_str() {
            "ParameterRequest" => parameters = serde_json::from_slice::<Value>(&bytes).ok(),
            "MessagePayload" => payload = Some(bytes.to_vec()),
            _ => {}
        }
    }
    let (Some(parameters), Some(payload)) = (parameters, payload) else {
        return (
            StatusCode::BAD_REQUEST,
            "ParameterRequest (JSON) and MessagePayload parts are required",
        )
            .into_response();
    };
    lock(&shared.messages).push(ReceivedMessage {
        parameters,
        payload,
    });
    finish(fault, StatusCode::ACCEPTED.into_response())
}
