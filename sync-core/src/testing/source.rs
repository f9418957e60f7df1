//! An in-memory source.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};

use super::Tripwire;
use crate::error::SourceError;
use crate::model::{Record, SourceIdentity};
use crate::source::{Source, Window};

#[derive(Debug)]
struct State<R> {
    records: BTreeMap<SourceIdentity, R>,
    server_time: DateTime<Utc>,
    page_size: usize,
    shuffle_seed: Option<u64>,
    // (serve after this many pages of the next poll, record)
    changes: VecDeque<(usize, R)>,
    fail_poll_at_page: Option<usize>,
    polls: usize,
}

/// An in-memory [`Source`]. Clones share the same data.
#[derive(Debug, Clone)]
pub struct MemorySource<R> {
    state: Arc<Mutex<State<R>>>,
    trip: Option<Arc<Tripwire>>,
}

impl<R: Record> MemorySource<R> {
    /// An empty source whose server clock stands at `server_time`.
    pub fn new(server_time: DateTime<Utc>) -> Self {
        MemorySource {
            state: Arc::new(Mutex::new(State {
                records: BTreeMap::new(),
                server_time,
                page_size: 100,
                shuffle_seed: None,
                changes: VecDeque::new(),
                fail_poll_at_page: None,
                polls: 0,
            })),
            trip: None,
        }
    }

    /// Count steps on `trip` (each page and each fetch is a step).
    pub fn with_tripwire(mut self, trip: Arc<Tripwire>) -> Self {
        self.trip = Some(trip);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State<R>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records per page (default 100).
    pub fn set_page_size(&self, size: usize) {
        self.lock().page_size = size.max(1);
    }

    /// Serve pages in a pseudo-random order derived from `seed` (`None`: by identity).
    pub fn set_shuffle(&self, seed: Option<u64>) {
        self.lock().shuffle_seed = seed;
    }

    /// Add or replace a record.
    pub fn upsert(&self, record: R) {
        self.lock()
            .records
            .insert(record.identity().clone(), record);
    }

    /// Remove a record.
    pub fn remove(&self, identity: &SourceIdentity) {
        self.lock().records.remove(identity);
    }

    /// All records.
    pub fn records(&self) -> Vec<R> {
        self.lock().records.values().cloned().collect()
    }

    /// Set the server clock.
    pub fn set_server_time(&self, at: DateTime<Utc>) {
        self.lock().server_time = at;
    }

    /// The server clock.
    pub fn server_now(&self) -> DateTime<Utc> {
        self.lock().server_time
    }

    /// During the next poll, after `after_pages` pages have been served, apply `record` (a
    /// change during the run).
    pub fn queue_change(&self, after_pages: usize, record: R) {
        self.lock().changes.push_back((after_pages, record));
    }

    /// Drop changes queued with [`MemorySource::queue_change`] that were not applied yet.
    pub fn clear_queued_changes(&self) {
        self.lock().changes.clear();
    }

    /// Make the next poll fail when it reaches page `page` (0-based).
    pub fn fail_next_poll_at(&self, page: Option<usize>) {
        self.lock().fail_poll_at_page = page;
    }

    /// How many polls were started.
    pub fn polls(&self) -> usize {
        self.lock().polls
    }
}

fn permute(len: usize, seed: u64) -> Vec<usize> {
    // A small deterministic shuffle (xorshift); no dependency on `rand`'s algorithms so the
    // order is stable across versions.
    let mut order: Vec<usize> = (0..len).collect();
    let mut x = seed | 1;
    for i in (1..len).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[async_trait]
impl<R: Record> Source<R> for MemorySource<R> {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        if let Some(trip) = &self.trip {
            trip.step().await;
        }
        Ok(self.lock().server_time)
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<R, SourceError>> {
        let (ids, page_size, fail_at) = {
            let mut state = self.lock();
            state.polls += 1;
            let mut ids: Vec<SourceIdentity> = state
                .records
                .values()
                .filter(|r| window.from.is_none_or(|from| r.modified_at() >= from))
                .map(|r| r.identity().clone())
                .collect();
            if let Some(seed) = state.shuffle_seed {
                let order = permute(ids.len(), seed.wrapping_add(state.polls as u64));
                ids = order.into_iter().map(|i| ids[i].clone()).collect();
            }
            (ids, state.page_size, state.fail_poll_at_page.take())
        };
        let pages: Vec<Vec<SourceIdentity>> = ids.chunks(page_size).map(<[_]>::to_vec).collect();
        let this = self.clone();
        stream::iter(pages.into_iter().enumerate())
            .then(move |(page_no, page)| {
                let this = this.clone();
                async move {
                    if let Some(trip) = &this.trip {
                        trip.step().await;
                    }
                    if fail_at == Some(page_no) {
                        return vec![Err(SourceError::transient(format!(
                            "page {page_no} failed"
                        )))];
                    }
                    let mut state = this.lock();
                    // Changes queued "after N pages" land before page N is served.
                    while state
                        .changes
                        .front()
                        .is_some_and(|(after, _)| *after <= page_no)
                    {
                        if let Some((_, record)) = state.changes.pop_front() {
                            state.records.insert(record.identity().clone(), record);
                        }
                    }
                    page.iter()
                        .filter_map(|id| state.records.get(id).cloned())
                        .map(Ok)
                        .collect::<Vec<_>>()
                }
            })
            .flat_map(stream::iter)
            .boxed()
    }

    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<R>, SourceError> {
        if let Some(trip) = &self.trip {
            trip.step().await;
        }
        Ok(self.lock().records.get(identity).cloned())
    }
}
