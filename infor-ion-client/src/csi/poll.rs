//! Typed, incremental polling of one noun.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use futures::{Stream, TryStreamExt};

use super::load::DEFAULT_RECORD_CAP;
use super::{Csi, Filter, IdoNoun};
use crate::error::Result;
use crate::values::Record;

/// How a site shapes one noun: the IDO it is read from, standard property names mapped to the
/// site's own, optional properties the site lacks (left out of requests), and extra properties
/// to read.
///
/// ```
/// use infor_ion_client::csi::PropertyMap;
///
/// let map = PropertyMap::default()
///     .ido("ACME_Vendors")
///     .rename("TaxCode1", "Uf_TaxCode")
///     .without("VadCountry");
/// assert_eq!(map.ido_name("SLVendors"), "ACME_Vendors");
/// assert_eq!(map.site_name("TaxCode1"), "Uf_TaxCode");
/// assert_eq!(map.site_name("Name"), "Name");
/// assert!(map.is_omitted("VadCountry"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyMap {
    ido: Option<String>,
    renames: BTreeMap<String, String>,
    omitted: BTreeSet<String>,
    extra: Vec<String>,
}

impl PropertyMap {
    /// Read the noun from the site's IDO `ido` (a custom or site-specific IDO) instead of the
    /// standard one.
    pub fn ido(mut self, ido: impl Into<String>) -> Self {
        self.ido = Some(ido.into());
        self
    }

    /// The IDO to read, given the noun's standard IDO.
    pub fn ido_name<'a>(&'a self, standard: &'a str) -> &'a str {
        self.ido.as_deref().unwrap_or(standard)
    }

    /// Leave the standard property `standard` out of requests (the site's IDO lacks it); the
    /// noun's field is then empty. Only for optional properties: a poll whose map omits a
    /// required one fails before any request (see [`IdoNoun::is_required`]).
    pub fn without(mut self, standard: impl Into<String>) -> Self {
        self.omitted.insert(standard.into());
        self
    }

    /// Whether the standard property `standard` is left out of requests.
    pub fn is_omitted(&self, standard: &str) -> bool {
        self.omitted.contains(standard)
    }

    /// The standard properties left out of requests.
    pub fn omitted(&self) -> impl Iterator<Item = &str> {
        self.omitted.iter().map(String::as_str)
    }

    /// The extra properties read besides the noun's own.
    pub fn extra_properties(&self) -> &[String] {
        &self.extra
    }

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
        .in_zone(record.zone())
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

    /// The zone the site stamps `RecordDate` in, for this poll only (default: the
    /// [`Csi`'s](Csi::with_record_date_zone)). The `since`/`until` bounds are written as wall
    /// times in it and rows' zone-less date-times are read in it.
    pub fn record_date_zone(mut self, zone: super::Tz) -> Self {
        self.csi = self.csi.with_record_date_zone(zone);
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
            parts.push(Filter::ge(modified, self.csi.record_date_since(since))?);
        }
        if let Some(until) = self.until {
            parts.push(Filter::le(modified, self.csi.record_date_until(until))?);
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
        let omitted_required = map.omitted().find(|p| N::is_required(p)).map(|p| {
            crate::Error::InvalidRequest(format!(
                "{}: the required property {p} cannot be left out of the request",
                N::IDO
            ))
        });
        let properties: Vec<String> = N::PROPERTIES
            .iter()
            .filter(|p| !map.is_omitted(p))
            .map(|p| map.site_name(p).to_owned())
            .chain(map.extra.iter().cloned())
            .collect();
        let order: Vec<String> = std::iter::once(N::MODIFIED)
            .chain(N::KEY.iter().copied())
            .map(|p| map.site_name(p).to_owned())
            .collect();
        let ido = map.ido_name(N::IDO).to_owned();
        let load = self.build_filter().and_then(|filter| {
            if let Some(error) = omitted_required {
                return Err(error);
            }
            let mut load = self
                .csi
                .load(ido)
                .properties(properties)
                .order_by(order)
                .record_cap(self.page_size);
            if let Some(filter) = filter {
                load = load.filter(filter);
            }
            Ok(load)
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
