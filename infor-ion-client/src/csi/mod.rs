//! CloudSuite Industrial (SyteLine) through ION: the Mongoose IDO REST v2 service.
//!
//! - [`Csi::load`]: a load-collection request (`properties`, `filter`, `orderby`, `recordcap`)
//!   with bookmark paging as a stream; `Success: false` becomes [`Error::IdoFailed`] even on
//!   HTTP 200.
//! - [`Filter`]: filters built from checked property names and escaped values.
//! - [`Csi::poll`]: typed, incremental reads of the SDK's nouns ([`nouns`]) by `RecordDate`
//!   (inclusive `>=`) and status, with per-site property lists and renames.
//! - [`Csi::update`]: one insert or update per `POST /update/{ido}` call, never resent blindly;
//!   [`Csi::insert_once`] looks the row up before creating it.
//!
//! Every call carries the `X-Infor-MongooseConfig` header naming the site's configuration
//! (often `<TENANT>_<SITE>`).
//!
//! ```no_run
//! # async fn run(client: infor_ion_client::IonClient) -> Result<(), infor_ion_client::Error> {
//! use futures::TryStreamExt;
//! use infor_ion_client::csi::nouns::Vendor;
//!
//! let csi = client.csi("ACME_PRD_DALS");
//! let since = chrono::Utc::now() - chrono::Duration::days(1);
//! let vendors: Vec<Vendor> = csi.poll::<Vendor>().modified_since(since).stream().try_collect().await?;
//! # Ok(()) }
//! ```

mod filter;
#[doc(hidden)]
pub mod fuzzing;
mod load;
pub mod nouns;
mod poll;
mod schema;
mod update;

/// The IANA time zones [`Csi::with_record_date_zone`] takes (`chrono_tz::Tz`), re-exported so a
/// caller needs no `chrono-tz` dependency of its own.
pub use chrono_tz::Tz;
pub use filter::{Filter, FilterValue, checked_property};
pub use load::{DEFAULT_RECORD_CAP, IdoItem, IdoPage, LoadCollection};
pub use nouns::IdoNoun;
pub use poll::{NounPoll, PropertyMap};
pub use schema::{IdoSchema, MissingProperty, NounFit, ido_config_key, property_config_key};
pub use update::{ChangeAction, IdoChange, InsertOnce, UpdateOutcome};

use crate::client::{IonClient, IonRequest};
use crate::error::{Error, Result};

/// The default path of the IDO REST service below the tenant's API base.
pub const DEFAULT_BASE_PATH: &str = "CSI/IDORequestService/ido";

/// CloudSuite Industrial for one Mongoose configuration; see [`IonClient::csi`].
#[derive(Debug, Clone)]
pub struct Csi {
    client: IonClient,
    config: String,
    base_path: String,
    record_date_zone: Tz,
}

impl IonClient {
    /// CloudSuite Industrial IDO calls with this Mongoose configuration.
    pub fn csi(&self, mongoose_config: impl Into<String>) -> Csi {
        Csi {
            client: self.clone(),
            config: mongoose_config.into(),
            base_path: DEFAULT_BASE_PATH.to_owned(),
            record_date_zone: Tz::UTC,
        }
    }
}

impl Csi {
    /// Use another service path below the API base (default [`DEFAULT_BASE_PATH`]).
    pub fn with_base_path(mut self, base_path: impl Into<String>) -> Self {
        self.base_path = base_path.into().trim_matches('/').to_owned();
        self
    }

    /// The zone the site stamps `RecordDate` (and other zone-less date-times) in: an IANA
    /// zone such as `America/Chicago`; default UTC. A SQL Server `datetime` carries no zone, and
    /// a site whose `GETDATE()` runs on local time stamps local wall times: polling such a site
    /// as UTC misses changes (six hours' worth at UTC-6) until the next full scan.
    ///
    /// With a zone, polls write their `RecordDate` bounds as wall times in it (see
    /// [`FilterValue::since_in`]) and rows' zone-less date-times are read in it (see
    /// [`crate::values::local_to_utc`]); every [`NounPoll`] from this `Csi` inherits it.
    ///
    /// ```no_run
    /// # fn run(client: infor_ion_client::IonClient) {
    /// let csi = client.csi("ACME_PRD_DALS").with_record_date_zone(chrono_tz::America::Chicago);
    /// # let _ = csi; }
    /// ```
    pub fn with_record_date_zone(mut self, zone: Tz) -> Self {
        self.record_date_zone = zone;
        self
    }

    /// [`with_record_date_zone`](Self::with_record_date_zone) by IANA name (as a
    /// configuration file holds it); an unknown name is [`Error::InvalidRequest`].
    ///
    /// ```
    /// # fn run(client: infor_ion_client::IonClient) -> Result<(), infor_ion_client::Error> {
    /// let csi = client.csi("ACME_PRD_DALS").with_record_date_zone_name("America/Chicago")?;
    /// assert!(client.csi("X").with_record_date_zone_name("Mars/Olympus_Mons").is_err());
    /// # Ok(()) }
    /// ```
    pub fn with_record_date_zone_name(self, name: &str) -> Result<Self> {
        let zone = name.trim().parse::<Tz>().map_err(|_| {
            Error::InvalidRequest(format!(
                "`{name}` is not an IANA time zone name (such as `America/Chicago` or `UTC`)"
            ))
        })?;
        Ok(self.with_record_date_zone(zone))
    }

    /// The zone `RecordDate` is read and written in.
    pub fn record_date_zone(&self) -> Tz {
        self.record_date_zone
    }

    /// The literal for "`RecordDate` at or after `at`" in this site's zone (also the exact
    /// complement for `RecordDate < ...`): see [`FilterValue::since_in`].
    ///
    /// ```no_run
    /// # fn run(csi: infor_ion_client::csi::Csi, from: chrono::DateTime<chrono::Utc>) -> Result<(), infor_ion_client::Error> {
    /// use infor_ion_client::csi::Filter;
    /// let unchanged = Filter::lt("RecordDate", csi.record_date_since(from))?;
    /// # Ok(()) }
    /// ```
    pub fn record_date_since(&self, at: chrono::DateTime<chrono::Utc>) -> FilterValue {
        FilterValue::since_in(at, self.record_date_zone)
    }

    /// The literal for "`RecordDate` at or before `at`" in this site's zone: see
    /// [`FilterValue::until_in`].
    pub fn record_date_until(&self, at: chrono::DateTime<chrono::Utc>) -> FilterValue {
        FilterValue::until_in(at, self.record_date_zone)
    }

    /// The Mongoose configuration sent in `X-Infor-MongooseConfig`.
    pub fn config(&self) -> &str {
        &self.config
    }

    /// The underlying gateway client.
    pub fn client(&self) -> &IonClient {
        &self.client
    }

    /// A load-collection request on `ido` (IDO names are case-sensitive).
    pub fn load(&self, ido: impl Into<String>) -> LoadCollection {
        LoadCollection::new(self.clone(), ido.into())
    }

    /// Typed, incremental reads of a noun.
    pub fn poll<N: IdoNoun>(&self) -> NounPoll<N> {
        NounPoll::new(self.clone())
    }

    /// `GET /info/{ido}`: the IDO's property metadata, to check that a property such as
    /// `RecordDate` exists before polling on it.
    pub async fn info(&self, ido: &str) -> Result<serde_json::Value> {
        let body = self
            .client
            .send_decoded(self.request(&format!("info/{ido}")), |response| {
                response.json_tree()
            })
            .await?;
        if body.get("Success").and_then(serde_json::Value::as_bool) == Some(false) {
            return Err(Error::IdoFailed {
                ido: ido.to_owned(),
                message: body
                    .get("Message")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("no message")
                    .to_owned(),
            });
        }
        Ok(body)
    }

    /// The server's current time, from the `Date` header of a one-row read of `ido`: the
    /// source-server time incremental windows are bounded by (never the local clock). The
    /// header is always GMT, so this is a true UTC instant whatever the
    /// [`record_date_zone`](Self::record_date_zone); bounds derived from it are converted
    /// into that zone only when written as literals.
    pub async fn server_time(&self, ido: &str) -> Result<chrono::DateTime<chrono::Utc>> {
        let request = self
            .request(&format!("load/{ido}"))
            .query("properties", "")
            .query("recordcap", "1");
        let response = self.client.send(request).await?;
        response.server_date().ok_or_else(|| Error::Decode {
            method: "GET".into(),
            path: format!("load/{ido}"),
            at: "Date header".into(),
            message: "the gateway sent no valid Date header".into(),
        })
    }

    fn request(&self, path: &str) -> IonRequest {
        IonRequest::get(format!("{}/{path}", self.base_path))
            .header("X-Infor-MongooseConfig", &self.config)
    }
}
