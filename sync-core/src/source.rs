//! The source side: where canonical records come from (CloudSuite through `infor-ion-client`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::error::SourceError;
use crate::model::{Record, SourceIdentity};

/// The slice of the source one poll reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive lower bound on `modified_at` (`modified >= from`, never `>`); `None` reads
    /// everything (first run, full reconciliation scan).
    pub from: Option<DateTime<Utc>>,
    /// The highest `modified_at` the cursor may reach after this window (source server time at
    /// poll start minus the safety lag). Sources may return newer records; the engine handles
    /// them and reads them again next time.
    pub ceiling: DateTime<Utc>,
}

/// A source of canonical records of one kind.
///
/// Implementations convert their own typed records to the canonical `R` (see
/// [`crate::mapping::IntoCanonical`]). Records may arrive in any order and a record may appear
/// more than once; the engine copes with both.
#[async_trait]
pub trait Source<R: Record>: Send + Sync {
    /// The source server's current time (from a response's `Date` header or data, never the
    /// local clock). The engine reads it at poll start to cap the cursor.
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError>;

    /// Every record with `modified_at >= window.from` (all records when `from` is `None`), as a
    /// stream; pages are fetched lazily.
    fn poll(&self, window: Window) -> BoxStream<'_, Result<R, SourceError>>;

    /// One record by identity, as it is now (`None` when it no longer exists). Used to resolve
    /// dependencies and to replay by refetching.
    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<R>, SourceError>;

    /// Several records by identity, as they are now, in the order asked (`Ok(None)`: no longer
    /// exists). The default reads each with [`fetch`](Self::fetch); a source that can only
    /// read in bulk overrides it to read once for all (the Data Lake has no lookup by id).
    async fn fetch_many(
        &self,
        identities: &[SourceIdentity],
    ) -> Vec<Result<Option<R>, SourceError>> {
        fetch_each(self, identities).await
    }
}

/// [`Source::fetch_many`]'s default: each identity read with [`Source::fetch`], in order.
pub async fn fetch_each<R: Record, S: Source<R> + ?Sized>(
    source: &S,
    identities: &[SourceIdentity],
) -> Vec<Result<Option<R>, SourceError>> {
    let mut out = Vec::with_capacity(identities.len());
    for identity in identities {
        out.push(source.fetch(identity).await);
    }
    out
}

/// Period-close signals (see [`crate::schedule::Cadence::AfterPeriodClose`]).
#[async_trait]
pub trait PeriodCloseSignal: Send + Sync + std::fmt::Debug {
    /// The most recent accounting-period close the source reports, as (period label, closed at),
    /// or `None` when none is known.
    async fn last_close(&self) -> Result<Option<(String, DateTime<Utc>)>, SourceError>;
}
