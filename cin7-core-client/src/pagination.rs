//! Paged list endpoints: one page at a time ([`ListBuilder::send`]) or every row as a stream
//! ([`ListBuilder::stream`]).
//!
//! Cin7's list envelope is `{"Total": n, "Page": p, "<ListKey>": [...]}` with `Page` from 1 and
//! `Limit` 1..=1000. How many rows a list asks for per page comes from the client's
//! [`PageSizes`] (1000, and 100 for `product`, unless configured otherwise).
//!
//! The stream never ends quietly with fewer rows than `Total`: it stops when the rows read
//! reach `Total`; a page shorter than `Limit` while `Total` says more rows exist is an endpoint
//! serving fewer rows than asked, and the stream goes on to the next page; an empty page while
//! `Total` says more is [`PaginationProblem::Truncated`]. Only an envelope without `Total`
//! ends on a short page. It never loops forever on a misbehaving server: a page whose rows
//! repeat the previous page's is an error ([`PaginationProblem::RepeatedPage`]), and the
//! number of pages is capped at what `Total` and the page size seen justify plus a margin for
//! records added during the scan ([`PaginationProblem::TooManyPages`]).

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;

use crate::client::{Cin7Client, decode_value};
use crate::error::{Error, PaginationProblem, Result};
use crate::request::{Cin7Request, Method};

/// The largest page Cin7 serves.
pub const MAX_LIMIT: u32 = 1000;

/// Extra pages allowed beyond what the first `Total` implies (rows inserted mid-scan).
const PAGE_SLACK: u32 = 10;

/// Cap on pages when the envelope carries no `Total`.
const PAGE_CAP_WITHOUT_TOTAL: u32 = 100_000;

/// The largest page each list endpoint is asked for: a default (1000, Cin7's documented
/// maximum) and per-endpoint sizes for endpoints that serve less (`product`: 100, as other
/// integrators page products). Endpoint names are paths as the client sends them (`supplier`,
/// `ref/tax`, `purchaseList`), compared case-insensitively. Set on the client with
/// [`Cin7ClientBuilder::max_page_size`](crate::Cin7ClientBuilder::max_page_size).
///
/// ```
/// use cin7_core_client::pagination::PageSizes;
/// let sizes = PageSizes::default().with("ref/Tax", 250).with("supplier", 5000);
/// assert_eq!(sizes.for_endpoint("ref/tax"), 250);
/// assert_eq!(sizes.for_endpoint("product"), 100);
/// assert_eq!(sizes.for_endpoint("customer"), 1000);
/// assert_eq!(sizes.for_endpoint("supplier"), 1000, "clamped to Cin7's maximum");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSizes {
    default: u32,
    endpoints: BTreeMap<String, u32>,
}

impl Default for PageSizes {
    fn default() -> Self {
        PageSizes::new(MAX_LIMIT).with("product", 100)
    }
}

impl PageSizes {
    /// A table with no per-endpoint entries: every endpoint is asked for `default` rows
    /// (clamped to 1..=1000).
    pub fn new(default: u32) -> Self {
        PageSizes {
            default: default.clamp(1, MAX_LIMIT),
            endpoints: BTreeMap::new(),
        }
    }

    /// Ask `endpoint` for at most `rows` per page (clamped to 1..=1000).
    pub fn with(mut self, endpoint: &str, rows: u32) -> Self {
        self.endpoints
            .insert(endpoint_key(endpoint), rows.clamp(1, MAX_LIMIT));
        self
    }

    /// The page size for `endpoint`.
    pub fn for_endpoint(&self, endpoint: &str) -> u32 {
        self.endpoints
            .get(&endpoint_key(endpoint))
            .copied()
            .unwrap_or(self.default)
    }
}

fn endpoint_key(endpoint: &str) -> String {
    endpoint.trim().trim_matches('/').to_ascii_lowercase()
}

/// What one small page of a list endpoint showed (see [`ListBuilder::probe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageProbe {
    /// The endpoint probed.
    pub endpoint: String,
    /// The `Limit` asked for.
    pub limit: u32,
    /// The rows page 1 held.
    pub returned: u64,
    /// The `Total` the envelope reported, if any.
    pub total: Option<u64>,
}

impl PageProbe {
    /// Whether the endpoint served the page `Limit` asked for: `false` when it returned more
    /// rows than the limit, or fewer while `Total` says more rows exist (the endpoint caps its
    /// pages lower than asked). Without `Total` a short page cannot be told from the last one
    /// and counts as honoured.
    ///
    /// ```
    /// use cin7_core_client::pagination::PageProbe;
    /// let probe = |returned, total| PageProbe { endpoint: "supplier".into(), limit: 5, returned, total };
    /// assert!(probe(5, Some(40)).limit_honoured());
    /// assert!(probe(3, Some(3)).limit_honoured(), "all there is");
    /// assert!(!probe(2, Some(40)).limit_honoured(), "capped at 2");
    /// assert!(!probe(40, Some(40)).limit_honoured(), "Limit ignored");
    /// ```
    pub fn limit_honoured(&self) -> bool {
        let limit = u64::from(self.limit);
        let capped = self.returned < limit && self.total.is_some_and(|total| total > self.returned);
        self.returned <= limit && !capped
    }
}

/// One page of a list endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The overall number of records Cin7 reported (`Total`), when present.
    pub total: Option<u64>,
    /// The page number (1-based).
    pub page: u32,
    /// The rows of this page.
    pub items: Vec<T>,
}

/// A request for a paged list endpoint, with its filters. Endpoint modules add typed filter
/// methods through `impl ListBuilder<TheirRow>` blocks.
#[must_use = "a list builder does nothing until `send` or `stream` is called"]
pub struct ListBuilder<T> {
    client: Cin7Client,
    path: &'static str,
    list_key: &'static str,
    query: Vec<(String, String)>,
    limit: u32,
    page: u32,
    max_pages: Option<u32>,
    _row: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for ListBuilder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListBuilder")
            .field("path", &self.path)
            .field("query", &self.query)
            .field("limit", &self.limit)
            .field("page", &self.page)
            .finish_non_exhaustive()
    }
}

impl<T> ListBuilder<T> {
    pub(crate) fn new(client: &Cin7Client, path: &'static str, list_key: &'static str) -> Self {
        ListBuilder {
            client: client.clone(),
            path,
            list_key,
            query: Vec::new(),
            limit: client.page_sizes().for_endpoint(path),
            page: 1,
            max_pages: None,
            _row: PhantomData,
        }
    }

    /// Rows per page, clamped to 1 and the endpoint's page size from the client's
    /// [`PageSizes`] (which is also the default).
    pub fn limit(mut self, limit: u32) -> Self {
        let max = self.client.page_sizes().for_endpoint(self.path);
        self.limit = limit.clamp(1, max);
        self
    }

    /// The first page to fetch (1-based; 0 is read as 1).
    pub fn page(mut self, page: u32) -> Self {
        self.page = page.max(1);
        self
    }

    /// Stop a stream with an error after this many pages.
    pub fn max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = Some(max_pages.max(1));
        self
    }

    /// Add a raw query filter (for filters this crate does not name).
    pub fn filter(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    /// The query that will be sent for `page` (for inspection and tests).
    pub fn request_for_page(&self, page: u32) -> Cin7Request {
        let mut request = Cin7Request::get(self.path);
        for (key, value) in &self.query {
            request = request.query(key.clone(), value);
        }
        request.query("Page", page).query("Limit", self.limit)
    }

    /// Fetch page 1 with `limit` rows (clamped to 1..=1000 only, not to the configured page
    /// size: this is how a page size is found out) and report what came back, without decoding
    /// the rows. The filters set on the builder apply.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// let probe = client.suppliers().list().include_deprecated(true).probe(5).await?;
    /// if !probe.limit_honoured() {
    ///     eprintln!("supplier pages hold {} rows, not {}", probe.returned, probe.limit);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn probe(self, limit: u32) -> Result<PageProbe> {
        let limit = limit.clamp(1, MAX_LIMIT);
        let builder = ListBuilder { limit, ..self };
        let raw: RawPage<serde::de::IgnoredAny> = fetch(&builder, 1).await?;
        Ok(PageProbe {
            endpoint: builder.path.to_owned(),
            limit,
            returned: raw.items.len() as u64,
            total: raw.total,
        })
    }
}

impl<T: DeserializeOwned + Send + 'static> ListBuilder<T> {
    /// Fetch one page (the one set with [`ListBuilder::page`], default 1).
    pub async fn send(self) -> Result<Page<T>> {
        let raw = fetch(&self, self.page).await?;
        Ok(Page {
            total: raw.total,
            page: self.page,
            items: raw.items,
        })
    }

    /// Every row from the starting page on, fetched page by page as the stream is polled.
    pub fn stream(self) -> BoxStream<'static, Result<T>> {
        // Rows before the first page asked for count as read, so `Total` is compared with a
        // position in the whole list.
        let skipped = u64::from(self.page - 1) * u64::from(self.limit);
        let state = PageState {
            next_page: self.page,
            builder: self,
            fetched: skipped,
            pages: 0,
            max_pages: None,
            previous: None,
            first_total: None,
            done: false,
        };
        stream::try_unfold(state, step)
            .map_ok(|items: Vec<T>| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Collect every row of the stream.
    pub async fn all(self) -> Result<Vec<T>> {
        self.stream().try_collect().await
    }
}

struct RawPage<T> {
    total: Option<u64>,
    items: Vec<T>,
    fingerprint: Option<u64>,
}

/// Fetch `page` and decode its rows as `R` (the builder's rows, or `IgnoredAny` for a probe).
async fn fetch<T, R: DeserializeOwned>(builder: &ListBuilder<T>, page: u32) -> Result<RawPage<R>> {
    let response = builder
        .client
        .execute(builder.request_for_page(page))
        .await?;
    decode_rows(
        builder.path,
        builder.list_key,
        response.status,
        response.body,
        Some(&response.bytes),
    )
}

/// Decode one list page's body (`{"Total": n, "<list_key>": [...]}`) into typed rows, as the
/// list builders do after each request: `Total` read leniently, a missing list key accepted
/// only when `Total` is 0, and a decode error naming the path under the list key (e.g.
/// `SupplierList[3].Discount`). Public so benchmarks and integrators decoding stored pages use
/// the same checks as the client.
///
/// A `serde_json::Value` holds numbers as f64, so decimals decoded from it keep their value
/// (up to 15 significant digits) but not their scale (`1.2500` reads as `1.25`); the client
/// decodes rows from the body's bytes instead, as [`decode_page_slice`] does.
///
/// ```
/// use cin7_core_client::pagination::decode_page;
/// use cin7_core_client::supplier::Supplier;
///
/// let body = serde_json::json!({"Total": 1, "Page": 1, "SupplierList": [{"Name": "Acme"}]});
/// let page = decode_page::<Supplier>("supplier", "SupplierList", 1, body).unwrap();
/// assert_eq!((page.total, page.items[0].name.as_str()), (Some(1), "Acme"));
/// ```
pub fn decode_page<T: DeserializeOwned>(
    endpoint: &str,
    list_key: &str,
    page: u32,
    body: serde_json::Value,
) -> Result<Page<T>> {
    let raw = decode_rows(endpoint, list_key, 200, body, None)?;
    Ok(Page {
        total: raw.total,
        page,
        items: raw.items,
    })
}

/// [`decode_page`] from the body's bytes, exactly as the client reads a page: the body must be
/// one JSON document in which no object repeats a key (else [`Error::Decode`] naming where),
/// and rows are decoded from their own text, so decimals keep their digits and scale.
///
/// ```
/// use cin7_core_client::pagination::decode_page_slice;
/// use cin7_core_client::supplier::Supplier;
///
/// let body = br#"{"Total": 1, "Page": 1, "SupplierList": [{"Name": "Acme", "Discount": 1.2500}]}"#;
/// let page = decode_page_slice::<Supplier>("supplier", "SupplierList", 1, body).unwrap();
/// assert_eq!(page.items[0].discount.unwrap().to_string(), "1.2500");
/// ```
pub fn decode_page_slice<T: DeserializeOwned>(
    endpoint: &str,
    list_key: &str,
    page: u32,
    bytes: &[u8],
) -> Result<Page<T>> {
    let body = sdk_common::json::from_slice(bytes).map_err(|e| Error::Decode {
        endpoint: endpoint.to_owned(),
        path: e.path,
        source: e.source,
    })?;
    let raw = decode_rows(endpoint, list_key, 200, body, Some(bytes))?;
    Ok(Page {
        total: raw.total,
        page,
        items: raw.items,
    })
}

/// The JSON text of member `key` of the object `bytes` holds, if it is an object with that
/// member (the body passed the duplicate-key check, so there is at most one).
fn raw_member<'a>(bytes: &'a [u8], key: &str) -> Option<&'a serde_json::value::RawValue> {
    let mut members: std::collections::HashMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(bytes).ok()?;
    members.remove(key)
}

/// `bytes`, when given, is the text `body` was parsed from: rows are then decoded from their
/// own text, so decimals keep their digits and scale.
fn decode_rows<T: DeserializeOwned>(
    endpoint: &str,
    list_key: &str,
    status: u16,
    body: serde_json::Value,
    bytes: Option<&[u8]>,
) -> Result<RawPage<T>> {
    let total = body.get("Total").and_then(|t| {
        t.as_u64()
            .or_else(|| t.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let mut body = body;
    // Take the rows out of the owned body: no copy of the page.
    let taken = body.as_object_mut().and_then(|o| o.remove(list_key));
    let rows = match taken {
        Some(rows) => rows,
        // An empty result may leave the key out; anything else is a broken envelope.
        None if total == Some(0) => serde_json::Value::Array(Vec::new()),
        None => {
            return Err(match body {
                serde_json::Value::Object(_) => Error::Pagination {
                    endpoint: endpoint.to_owned(),
                    problem: PaginationProblem::MissingListKey {
                        key: list_key.to_owned(),
                    },
                },
                other => decode_value::<Envelope>(endpoint, Method::GET, status, &other)
                    .err()
                    .unwrap_or(Error::Pagination {
                        endpoint: endpoint.to_owned(),
                        problem: PaginationProblem::MissingListKey {
                            key: list_key.to_owned(),
                        },
                    }),
            });
        }
    };
    let fingerprint = match &rows {
        serde_json::Value::Array(items) if !items.is_empty() => {
            // Hashed by walking the tree: no string of the page is built.
            let mut hasher = DefaultHasher::new();
            hash_value(&rows, &mut hasher);
            Some(hasher.finish())
        }
        _ => None,
    };
    // Decode from the rows' own text when there is one (a decimal keeps its scale), else from
    // the owned rows (strings are moved, not copied); a failure names the path under the list
    // key, e.g. `SupplierList[3].Discount`.
    let decoded = match bytes.and_then(|bytes| raw_member(bytes, list_key)) {
        Some(text) => {
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text.get()))
        }
        None => serde_path_to_error::deserialize(rows),
    };
    let items: Vec<T> = match decoded {
        Ok(items) => items,
        Err(e) => {
            let inner = e.path().to_string();
            let path = if inner == "." {
                list_key.to_owned()
            } else {
                format!(
                    "{list_key}{}{inner}",
                    if inner.starts_with('[') { "" } else { "." }
                )
            };
            return Err(Error::Decode {
                endpoint: endpoint.to_owned(),
                path,
                source: e.into_inner(),
            });
        }
    };
    Ok(RawPage {
        total,
        items,
        fingerprint,
    })
}

/// Hash a JSON tree (tags keep `["a"]` and `"a"` apart; map order is the parsed order).
fn hash_value(value: &serde_json::Value, hasher: &mut DefaultHasher) {
    use serde_json::Value;
    match value {
        Value::Null => hasher.write_u8(0),
        Value::Bool(b) => {
            hasher.write_u8(1);
            b.hash(hasher);
        }
        Value::Number(n) => {
            hasher.write_u8(2);
            n.hash(hasher);
        }
        Value::String(s) => {
            hasher.write_u8(3);
            s.hash(hasher);
        }
        Value::Array(items) => {
            hasher.write_u8(4);
            hasher.write_usize(items.len());
            for item in items {
                hash_value(item, hasher);
            }
        }
        Value::Object(map) => {
            hasher.write_u8(5);
            hasher.write_usize(map.len());
            for (key, item) in map {
                key.hash(hasher);
                hash_value(item, hasher);
            }
        }
    }
}

/// Used only to produce a decode error that names the envelope when the body is not an object.
#[derive(serde::Deserialize)]
struct Envelope {}

struct PageState<T> {
    builder: ListBuilder<T>,
    next_page: u32,
    fetched: u64,
    pages: u32,
    max_pages: Option<u32>,
    previous: Option<u64>,
    first_total: Option<u64>,
    done: bool,
}

async fn step<T: DeserializeOwned + Send + 'static>(
    mut state: PageState<T>,
) -> Result<Option<(Vec<T>, PageState<T>)>> {
    if state.done {
        return Ok(None);
    }
    if let Some(max_pages) = state.max_pages
        && state.pages >= max_pages
    {
        return Err(Error::Pagination {
            endpoint: state.builder.path.to_owned(),
            problem: PaginationProblem::TooManyPages { max_pages },
        });
    }
    let page = state.next_page;
    let raw = fetch(&state.builder, page).await?;
    if raw.fingerprint.is_some() && raw.fingerprint == state.previous {
        return Err(Error::Pagination {
            endpoint: state.builder.path.to_owned(),
            problem: PaginationProblem::RepeatedPage { page },
        });
    }
    let limit = u64::from(state.builder.limit);
    let count = raw.items.len() as u64;
    state.fetched += count;
    if state.pages == 0 {
        state.first_total = raw.total;
        // A first page shorter than `Limit` while `Total` says more rows exist: the endpoint
        // serves fewer rows than asked, so the pages it takes are counted in that size.
        let mut per_page = limit;
        if let Some(total) = raw.total.filter(|&total| total > state.fetched)
            && (1..limit).contains(&count)
        {
            per_page = count;
            tracing::warn!(
                endpoint = state.builder.path,
                asked = limit,
                served = count,
                total,
                "Cin7 served a short page while Total says more rows exist; reading on \
                 (set max_page_size for this endpoint)"
            );
        }
        state.max_pages = Some(
            state.builder.max_pages.unwrap_or(match raw.total {
                Some(total) => u32::try_from(total.div_ceil(per_page))
                    .unwrap_or(u32::MAX)
                    .saturating_add(PAGE_SLACK),
                None => PAGE_CAP_WITHOUT_TOTAL,
            }),
        );
    } else if raw.total != state.first_total {
        tracing::warn!(
            endpoint = state.builder.path,
            first = ?state.first_total,
            now = ?raw.total,
            "Cin7 list Total changed during paging"
        );
    }
    state.pages += 1;
    state.previous = raw.fingerprint;
    state.next_page = page.saturating_add(1);
    state.done = match raw.total {
        Some(total) if state.fetched >= total => true,
        // `Total` promises rows that no page delivers: fail rather than end short.
        Some(total) if count == 0 => {
            return Err(Error::Pagination {
                endpoint: state.builder.path.to_owned(),
                problem: PaginationProblem::Truncated {
                    total,
                    read: state.fetched,
                    page,
                },
            });
        }
        // A short page is not the last while `Total` says more rows exist.
        Some(_) => false,
        // Without `Total`, a short page is the last one.
        None => count < limit,
    };
    Ok(Some((raw.items, state)))
}
