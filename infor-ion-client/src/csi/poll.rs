//! Typed, incremental polling of one noun.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use futures::{Stream, TryStreamExt};

use super::load::DEFAULT_RECORD_CAP;
use super::{Csi, Filter, IdoNoun};
use crate::error::Result;
use crate::values::Record;

/// Standard property names mapped to a site's own names, plus extra properties to read.
///
/// ```
/// use infor_ion_client::csi::PropertyMap;
///
/// let map = PropertyMap::default().rename("TaxCode1", "Uf_TaxCode");
/// assert_eq!(map.site_name("TaxCode1"), "Uf_TaxCode");
/// assert_eq!(map.site_name("Name"), "Name");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyMap {
    renames: BTreeMap<String, String>,
    extra: Vec<String>,
}

impl PropertyMap {
    /// Read the standard property `standard` from the site's property `site`.
    pub fn rename(mut self, standard: impl Into<String>, site: impl Into<String>) -> Self {
        self.renames.insert(standard.into(), site.into());
        self
    }

    /// Also read these properties (kept in each noun's `raw` row).
    pub fn extra<S: Into<String>>(mut self, properties: impl IntoIterator<Item = S>) -> Self {
        self.extra.extend(properties.into_iter().map(Into::into));
        self
    }

    /// The site's name for a standard property.
    pub fn site_name<'a>(&'a self, standard: &'a str) -> &'a str {
        self.renames.get(standard).map_or(standard, String::as_str)
    }

    /// Rename a row's site names back to standard names.
    fn to_standard(&self, record: Record) -> Record {
        if self.renames.is_empty() {
            return record;
        }
        let back: BTreeMap<&str, &str> = self
            .renames
            .iter()
            .map(|(standard, site)| (site.as_str(), standard.as_str()))
            .collect();
        let source = record.source().to_owned();
        Record::new(
            source,
            record.values().iter().map(|(name, value)| {
                let name = back.get(name.as_str()).map_or(name.as_str(), |s| *s);
                (name.to_owned(), value.clone())
            }),
        )
    }
}

/// A typed poll of one noun; see [`Csi::poll`].
///
/// Filters are inclusive (`RecordDate >= since`) so records stamped exactly at the last cursor
/// are read again rather than lost; the caller de-duplicates (sync-core does).
#[derive(Debug, Clone)]
pub struct NounPoll<N> {
    csi: Csi,
    map: PropertyMap,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    statuses: Vec<String>,
    filter: Option<Filter>,
    page_size: u32,
    noun: PhantomData<fn() -> N>,
}

impl<N: IdoNoun> NounPoll<N> {
    pub(super) fn new(csi: Csi) -> Self {
        NounPoll {
            csi,
            map: PropertyMap::default(),
            since: None,
            until: None,
            statuses: Vec::new(),
            filter: None,
            page_size: DEFAULT_RECORD_CAP,
            noun: PhantomData,
        }
    }

    /// Only rows modified at or after `since` (inclusive).
    pub fn modified_since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// Only rows modified at or before `until` (inclusive): the window's ceiling.
    pub fn modified_until(mut self, until: DateTime<Utc>) -> Self {
        self.until = Some(until);
        self
    }

    /// Only rows whose status is one of these (requires a noun with a status property).
    pub fn status_in<S: Into<String>>(mut self, statuses: impl IntoIterator<Item = S>) -> Self {
        self.statuses = statuses.into_iter().map(Into::into).collect();
        self
    }

    /// An additional filter, combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Use the site's name for a standard property.
    pub fn rename(mut self, standard: impl Into<String>, site: impl Into<String>) -> Self {
        self.map = self.map.rename(standard, site);
        self
    }

    /// Also read these properties.
    pub fn extra_properties<S: Into<String>>(
        mut self,
        properties: impl IntoIterator<Item = S>,
    ) -> Self {
        self.map = self.map.extra(properties);
        self
    }

    /// A whole property map at once.
    pub fn property_map(mut self, map: PropertyMap) -> Self {
        self.map = map;
        self
    }

    /// Rows per page (default 200).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// The filter this poll sends, if any.
    pub fn build_filter(&self) -> Result<Option<Filter>> {
        let modified = self.map.site_name(N::MODIFIED);
        let mut parts = Vec::new();
        if let Some(since) = self.since {
            parts.push(Filter::ge(modified, since)?);
        }
        if let Some(until) = self.until {
            parts.push(Filter::le(modified, until)?);
        }
        if !self.statuses.is_empty() {
            let status = N::STATUS.ok_or_else(|| {
                crate::Error::InvalidRequest(format!(
                    "{} has no status property to poll by",
                    N::IDO
                ))
            })?;
            parts.push(Filter::is_in(
                self.map.site_name(status),
                self.statuses.iter().cloned(),
            )?);
        }
        parts.extend(self.filter.clone());
        Ok(parts.into_iter().reduce(Filter::and))
    }

    /// The typed rows, ordered by modification time then key.
    pub fn stream(self) -> impl Stream<Item = Result<N>> + Send {
        self.pages()
            .map_ok(|page| futures::stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }

    /// The typed rows one page at a time (to fetch related rows, such as PO lines, per page
    /// instead of per row).
    pub fn pages(self) -> impl Stream<Item = Result<Vec<N>>> + Send {
        let map = self.map.clone();
        let properties: Vec<String> = N::PROPERTIES
            .iter()
            .map(|p| map.site_name(p).to_owned())
            .chain(map.extra.iter().cloned())
            .collect();
        let order: Vec<String> = std::iter::once(N::MODIFIED)
            .chain(N::KEY.iter().copied())
            .map(|p| map.site_name(p).to_owned())
            .collect();
        let load = self.build_filter().map(|filter| {
            let mut load = self
                .csi
                .load(N::IDO)
                .properties(properties)
                .order_by(order)
                .record_cap(self.page_size);
            if let Some(filter) = filter {
                load = load.filter(filter);
            }
            load
        });
        futures::stream::once(async move { load })
            .map_ok(move |load| {
                let map = map.clone();
                load.pages().and_then(move |page| {
                    let rows: Result<Vec<N>> = page
                        .items
                        .into_iter()
                        .map(|item| N::from_record(map.to_standard(item.record)))
                        .collect();
                    async move { rows }
                })
            })
            .try_flatten()
    }
}
