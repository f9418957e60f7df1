//! `GET /load/{ido}`: one page, or every page as a stream with bookmark paging.

use std::collections::HashSet;

use futures::Stream;
use serde_json::Value;

use super::Csi;
use super::filter::{Filter, checked_property};
use crate::client::IonRequest;
use crate::error::{Error, Result};
use crate::values::Record;

/// The default page size. The server's own default for `recordcap=-1` is 200; we always send an
/// explicit cap so a changed server default cannot change our paging.
pub const DEFAULT_RECORD_CAP: u32 = 200;

/// One row of an IDO collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdoItem {
    /// The property values (keyed by property name; the source is the IDO name).
    pub record: Record,
    /// The server's `_ItemId`, needed for updates.
    pub item_id: Option<String>,
}

/// One page of a load-collection answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdoPage {
    /// The rows.
    pub items: Vec<IdoItem>,
    /// The bookmark to ask for the next page with.
    pub bookmark: Option<String>,
    /// Whether the server has more rows after this page.
    pub more_rows: bool,
}

/// A load-collection request; see [`Csi::load`].
///
/// ```no_run
/// # async fn run(csi: infor_ion_client::csi::Csi) -> Result<(), infor_ion_client::Error> {
/// use futures::TryStreamExt;
/// use infor_ion_client::csi::Filter;
///
/// let rows: Vec<_> = csi
///     .load("SLVendors")
///     .properties(["VendNum", "Name", "RecordDate"])
///     .filter(Filter::eq("Stat", "A")?)
///     .order_by(["RecordDate", "VendNum"])
///     .record_cap(500)
///     .items()
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LoadCollection {
    csi: Csi,
    ido: String,
    properties: Vec<String>,
    filter: Option<Filter>,
    order_by: Vec<String>,
    record_cap: u32,
}

impl LoadCollection {
    pub(super) fn new(csi: Csi, ido: String) -> Self {
        LoadCollection {
            csi,
            ido,
            properties: Vec::new(),
            filter: None,
            order_by: Vec::new(),
            record_cap: DEFAULT_RECORD_CAP,
        }
    }

    /// The properties to read (an empty list asks for all non-subcollection properties).
    pub fn properties<S: Into<String>>(mut self, properties: impl IntoIterator<Item = S>) -> Self {
        self.properties = properties.into_iter().map(Into::into).collect();
        self
    }

    /// The filter.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The sort order; give a unique key last so paging is stable.
    pub fn order_by<S: Into<String>>(mut self, properties: impl IntoIterator<Item = S>) -> Self {
        self.order_by = properties.into_iter().map(Into::into).collect();
        self
    }

    /// Rows per page (at least 1). Keep pages small enough that each call stays well under the
    /// gateway's 60-second limit.
    pub fn record_cap(mut self, cap: u32) -> Self {
        self.record_cap = cap.max(1);
        self
    }

    fn request(&self, bookmark: Option<&str>) -> Result<IonRequest> {
        for name in self.properties.iter().chain(&self.order_by) {
            checked_property(name.trim_end_matches(" DESC"))?;
        }
        let mut request = self
            .csi
            .request(&format!("load/{}", self.ido))
            .query("properties", self.properties.join(","))
            .query("recordcap", self.record_cap.to_string());
        if let Some(filter) = &self.filter {
            request = request.query("filter", filter.as_str());
        }
        if !self.order_by.is_empty() {
            request = request.query("orderby", self.order_by.join(","));
        }
        if let Some(bookmark) = bookmark {
            request = request
                .query("loadtype", "NEXT")
                .query("bookmark", bookmark);
        }
        Ok(request)
    }

    /// Fetch one page: the first, or the one after `bookmark`. The page is decoded inside the
    /// client's retry loop, so an HTML page or a body cut short is asked for again a few times
    /// (see [`IonClient::send_decoded`](crate::client::IonClient::send_decoded)); an IDO's
    /// `Success: false` is final.
    pub async fn page(&self, bookmark: Option<&str>) -> Result<IdoPage> {
        let ido = self.ido.as_str();
        let zone = self.csi.record_date_zone();
        let mut page = self
            .csi
            .client
            .send_decoded(self.request(bookmark)?, |response| {
                parse_page(ido, response.json_tree()?)
            })
            .await?;
        // Rows' zone-less date-times are the site's wall times.
        for item in &mut page.items {
            item.record = std::mem::take(&mut item.record).in_zone(zone);
        }
        Ok(page)
    }

    /// Every page, fetched one after the other as the stream is polled. Stops when the server
    /// says `MoreRowsExist: false`; fails with [`Error::PagingStuck`] if the server hands back a
    /// bookmark it already gave (or none) while claiming more rows.
    pub fn pages(self) -> impl Stream<Item = Result<IdoPage>> + Send {
        struct State {
            load: LoadCollection,
            next: Option<Option<String>>,
            seen: HashSet<String>,
        }
        let state = State {
            load: self,
            next: Some(None),
            seen: HashSet::new(),
        };
        futures::stream::try_unfold(state, |mut state| async move {
            let Some(bookmark) = state.next.take() else {
                return Ok(None);
            };
            let page = state.load.page(bookmark.as_deref()).await?;
            if page.more_rows {
                match page.bookmark.as_deref() {
                    Some(next) if state.seen.insert(next.to_owned()) => {
                        state.next = Some(Some(next.to_owned()));
                    }
                    Some(_) => {
                        return Err(Error::PagingStuck {
                            what: state.load.ido.clone(),
                            detail: "the server returned a bookmark it had already returned".into(),
                        });
                    }
                    None => {
                        return Err(Error::PagingStuck {
                            what: state.load.ido.clone(),
                            detail: "MoreRowsExist is true but there is no Bookmark".into(),
                        });
                    }
                }
            }
            Ok(Some((page, state)))
        })
    }

    /// Every row of every page.
    pub fn items(self) -> impl Stream<Item = Result<IdoItem>> + Send {
        use futures::{StreamExt, TryStreamExt};
        self.pages()
            .map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}

/// Parse a load-collection body: `Items` as property maps (REST v2) or as `{Name, Value}` pair
/// lists (REST v1 style), `Bookmark`, `MoreRowsExist`, `Success`/`Message`.
pub(crate) fn parse_page(ido: &str, body: Value) -> Result<IdoPage> {
    let Value::Object(mut body) = body else {
        return Err(decode(ido, "$", "the body is not a JSON object"));
    };
    if body.get("Success").and_then(Value::as_bool) == Some(false) {
        let message = body
            .get("Message")
            .and_then(Value::as_str)
            .unwrap_or("no message")
            .to_owned();
        return Err(Error::IdoFailed {
            ido: ido.to_owned(),
            message,
        });
    }
    let items = match body.remove("Items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| parse_item(ido, i, item))
            .collect::<Result<_>>()?,
        Some(_) => return Err(decode(ido, "Items", "is not an array")),
    };
    let bookmark = match body.get("Bookmark") {
        Some(Value::String(b)) if !b.is_empty() => Some(b.clone()),
        _ => None,
    };
    let more_rows = match body.get("MoreRowsExist") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(decode(ido, "MoreRowsExist", "is not a boolean")),
    };
    Ok(IdoPage {
        items,
        bookmark,
        more_rows,
    })
}

pub(crate) fn parse_item(ido: &str, index: usize, item: Value) -> Result<IdoItem> {
    let mut values = Vec::new();
    let mut item_id = None;
    let mut put = |name: String, value: Value| {
        let text = scalar_text(value);
        if name == "_ItemId" {
            item_id = text;
        } else {
            values.push((name, text));
        }
    };
    match item {
        Value::Object(map) => {
            for (name, value) in map {
                put(name, value);
            }
        }
        Value::Array(pairs) => {
            for (j, pair) in pairs.into_iter().enumerate() {
                let Value::Object(mut pair) = pair else {
                    return Err(decode(
                        ido,
                        &format!("Items[{index}][{j}]"),
                        "is not a {Name, Value} pair",
                    ));
                };
                let Some(Value::String(name)) = pair.remove("Name") else {
                    return Err(decode(
                        ido,
                        &format!("Items[{index}][{j}].Name"),
                        "is missing",
                    ));
                };
                put(name, pair.remove("Value").unwrap_or(Value::Null));
            }
        }
        _ => {
            return Err(decode(
                ido,
                &format!("Items[{index}]"),
                "is neither an object nor a list of pairs",
            ));
        }
    }
    Ok(IdoItem {
        record: Record::new(ido, values),
        item_id,
    })
}

/// IDO values are strings or null; tolerate numbers and booleans by their text.
fn scalar_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Bool(b) => Some(if b { "1" } else { "0" }.to_owned()),
        other => Some(other.to_string()),
    }
}

fn decode(ido: &str, at: &str, message: &str) -> Error {
    Error::Decode {
        method: "GET".into(),
        path: format!("load/{ido}"),
        at: at.to_owned(),
        message: message.to_owned(),
    }
}
