//! Reading published BODs from the ION Data Lake by polling.
//!
//! IMS only pushes, so a polling client reads the BODs ION has published from the Data Lake:
//! list payloads by document name (and event date), then fetch each payload by its id. The
//! paths and the filter syntax follow the payload API that public client code uses
//! (`IONSERVICES/datalakeapi/v1/payloads/list` and `.../streambyid`); they are not confirmed by
//! Infor's documentation, so both paths are configurable.

use chrono::{DateTime, Utc};
use futures::Stream;
use serde::Deserialize;

use crate::bod::{Bod, BodLimits, Noun};
use crate::client::{IonClient, IonRequest};
use crate::error::{Error, Result};

/// The default listing path below the API base.
pub const DEFAULT_LIST_PATH: &str = "IONSERVICES/datalakeapi/v1/payloads/list";
/// The default fetch path below the API base.
pub const DEFAULT_FETCH_PATH: &str = "IONSERVICES/datalakeapi/v1/payloads/streambyid";

/// One published payload in the Data Lake.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PayloadRef {
    /// The Data Lake id, used to fetch the payload.
    pub dl_id: String,
    /// The document name, e.g. `SyncPurchaseOrder`.
    #[serde(default)]
    pub dl_document_name: Option<String>,
    /// When ION published it.
    #[serde(default)]
    pub event_date: Option<String>,
}

/// What the Data Lake holds of one document: see [`DataLake::published`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// How many payloads the listing says there are (`numFound`), when it says.
    pub total: Option<u64>,
    /// The first payload the listing returned, when there is one.
    pub first: Option<PayloadRef>,
}

impl Published {
    /// What a listing said (for tests and for sources other than [`DataLake::published`]).
    pub fn new(total: Option<u64>, first: Option<PayloadRef>) -> Self {
        Published { total, first }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    #[serde(default)]
    num_found: Option<u64>,
    #[serde(default)]
    fields: Vec<PayloadRef>,
}

/// The Data Lake reader; see [`IonClient::data_lake`].
#[derive(Debug, Clone)]
pub struct DataLake {
    client: IonClient,
    list_path: String,
    fetch_path: String,
    limits: BodLimits,
}

impl IonClient {
    /// A reader of BODs published to the Data Lake.
    pub fn data_lake(&self) -> DataLake {
        DataLake {
            client: self.clone(),
            list_path: DEFAULT_LIST_PATH.to_owned(),
            fetch_path: DEFAULT_FETCH_PATH.to_owned(),
            limits: BodLimits::default(),
        }
    }
}

impl DataLake {
    /// Use other listing and fetch paths below the API base.
    pub fn with_paths(mut self, list: impl Into<String>, fetch: impl Into<String>) -> Self {
        self.list_path = list.into().trim_matches('/').to_owned();
        self.fetch_path = fetch.into().trim_matches('/').to_owned();
        self
    }

    /// The size and depth limits applied to fetched BODs.
    pub fn with_limits(mut self, limits: BodLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The filter sent for a document name and optional lower bound on the event date
    /// (inclusive). Quotes in the name are doubled.
    pub fn filter(document_name: &str, since: Option<DateTime<Utc>>) -> String {
        let mut filter = format!(
            "dl_document_name eq '{}'",
            document_name.replace('\'', "''")
        );
        if let Some(since) = since {
            filter.push_str(&format!(
                " and event_date ge '{}'",
                since.format("%Y-%m-%dT%H:%M:%S%.3fZ")
            ));
        }
        filter
    }

    /// Every payload of `document_name` published at or after `since`, oldest first, one page of
    /// `page_size` at a time. Stops when `numFound` rows were read or a page comes back short;
    /// a page that repeats the previous one is [`Error::PagingStuck`].
    pub fn list(
        &self,
        document_name: &str,
        since: Option<DateTime<Utc>>,
        page_size: u32,
    ) -> impl Stream<Item = Result<PayloadRef>> + Send {
        struct State {
            lake: DataLake,
            filter: String,
            page: u32,
            read: u64,
            last_first: Option<String>,
            done: bool,
        }
        let page_size = page_size.max(1);
        let state = State {
            lake: self.clone(),
            filter: Self::filter(document_name, since),
            page: 1,
            read: 0,
            last_first: None,
            done: false,
        };
        let pages = futures::stream::try_unfold(state, move |mut state| async move {
            if state.done {
                return Ok(None);
            }
            let request = IonRequest::get(&state.lake.list_path)
                .query("filter", &state.filter)
                .query("sort", "event_date:asc")
                .query("page", state.page.to_string())
                .query("records", page_size.to_string());
            let body: ListResponse = state.lake.client.send_json(request).await?;
            let first = body.fields.first().map(|p| p.dl_id.clone());
            if first.is_some() && first == state.last_first {
                return Err(Error::PagingStuck {
                    what: "Data Lake payload list".into(),
                    detail: format!("page {} repeats the previous page", state.page),
                });
            }
            state.last_first = first;
            state.read += body.fields.len() as u64;
            state.page += 1;
            state.done = (body.fields.len() as u32) < page_size
                || body.num_found.is_some_and(|total| state.read >= total);
            Ok(Some((body.fields, state)))
        });
        use futures::TryStreamExt;
        pages
            .map_ok(|page| futures::stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }

    /// One row of the listing of `document_name`: the cheapest call that reaches it.
    fn one_row(&self, document_name: &str) -> IonRequest {
        IonRequest::get(&self.list_path)
            .query("filter", Self::filter(document_name, None))
            .query("page", "1")
            .query("records", "1")
    }

    /// What the Data Lake holds of `document_name`: one list call for one row.
    pub async fn published(&self, document_name: &str) -> Result<Published> {
        let body: ListResponse = self.client.send_json(self.one_row(document_name)).await?;
        Ok(Published {
            total: body.num_found,
            first: body.fields.into_iter().next(),
        })
    }

    /// The gateway's clock: the `Date` header of a one-row list call for `document_name`
    /// (`None` when the answer carries no valid `Date`). Sync windows are bounded by it.
    pub async fn server_date(&self, document_name: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .client
            .send(self.one_row(document_name))
            .await?
            .server_date())
    }

    fn fetch_request(&self, dl_id: &str) -> IonRequest {
        IonRequest::get(&self.fetch_path)
            .query("datalakeId", dl_id)
            .header("Accept", "application/xml, */*")
    }

    /// Fetch one payload's bytes, as they come.
    pub async fn fetch(&self, dl_id: &str) -> Result<bytes::Bytes> {
        Ok(self
            .client
            .send(self.fetch_request(dl_id))
            .await?
            .bytes()
            .clone())
    }

    /// Fetch one payload and parse it as a BOD with the hardened reader. The parse happens
    /// inside the client's retry loop: an HTML page or XML that is not well formed (a payload
    /// cut short) is fetched again a few times; a document the reader refuses (a DTD, too
    /// deep, too large) or that is not the expected BOD is final.
    pub async fn fetch_bod<N: Noun>(&self, dl_id: &str) -> Result<Bod<N>> {
        let limits = self.limits;
        self.client
            .send_decoded(self.fetch_request(dl_id), |response| {
                if response.is_html() {
                    return Err(response.unexpected_body());
                }
                Ok(Bod::from_reader(response.bytes().as_ref(), limits)?)
            })
            .await
    }
}
