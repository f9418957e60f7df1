//! Infor M3 through ION: MI transactions over `m3api-rest` v2.
//!
//! - [`M3::execute`]: one transaction, `GET .../v2/execute/{PROGRAM}/{TRANSACTION}` with matrix
//!   parameters (`maxrecs`, `returncols`, `cono`, `divi`, `excludempty`) and the transaction's
//!   inputs as query parameters. Errors arrive as HTTP 400 with the v2 body, or as a 200 with
//!   `nrOfFailedTransactions > 0` or `wasTerminated`; both become [`Error::MiFailed`] with
//!   M3's message, code and field. Every value is right-trimmed.
//! - [`nouns`]: typed lists for the SDK's nouns with the change-date inputs M3 offers.
//!
//! ```no_run
//! # async fn run(client: infor_ion_client::IonClient) -> Result<(), infor_ion_client::Error> {
//! use infor_ion_client::m3::MiCall;
//!
//! let m3 = client.m3().company("100").division("AAA");
//! let rows = m3
//!     .execute(MiCall::new("CRS620MI", "LstSuppliers").input("FRSU", "S0001").max_records(500))
//!     .await?;
//! for row in rows {
//!     println!("{}", row.text("SUNO").unwrap_or("?"));
//! }
//! # Ok(()) }
//! ```

pub mod nouns;

use sdk_common::retry::Idempotency;
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::client::{IonClient, IonRequest};
use crate::error::{Error, MiError, Result};
use crate::values::Record;

/// The default path of the MI REST service below the tenant's API base.
pub const DEFAULT_BASE_PATH: &str = "M3/m3api-rest/v2/execute";

/// M3 MI calls for one company and division; see [`IonClient::m3`].
#[derive(Debug, Clone)]
pub struct M3 {
    client: IonClient,
    base_path: String,
    company: Option<String>,
    division: Option<String>,
    /// Per-noun shapes set with [`M3::shape`] / [`M3::fields`], by noun name.
    shapes: BTreeMap<&'static str, nouns::MiShape>,
}

impl IonClient {
    /// M3 MI calls through this gateway.
    pub fn m3(&self) -> M3 {
        M3 {
            client: self.clone(),
            base_path: DEFAULT_BASE_PATH.to_owned(),
            company: None,
            division: None,
            shapes: BTreeMap::new(),
        }
    }
}

/// One MI transaction to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiCall {
    program: String,
    transaction: String,
    inputs: Vec<(String, String)>,
    max_records: Option<u32>,
    return_columns: Vec<String>,
    keep_empty: bool,
    idempotent: bool,
}

impl MiCall {
    /// `program` (e.g. `CRS620MI`) and `transaction` (e.g. `LstSuppliers`).
    pub fn new(program: impl Into<String>, transaction: impl Into<String>) -> Self {
        MiCall {
            program: program.into(),
            transaction: transaction.into(),
            inputs: Vec::new(),
            max_records: None,
            return_columns: Vec::new(),
            keep_empty: false,
            idempotent: true,
        }
    }

    /// Mark the call as a write (`AddHead`, `Receipt`, ...). MI runs every transaction as a
    /// `GET`, so unmarked a write would count as a safe read and be resent after a timeout, a
    /// 5xx or a garbled answer. Marked, it is never resent once it may have reached M3: the
    /// error says the outcome is unknown, and the caller looks the record up instead.
    pub fn non_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }

    /// An input field (dates as `yyyyMMdd`, decimals with `.`).
    pub fn input(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.inputs.push((field.into(), value.into()));
        self
    }

    /// The most rows to return (`maxrecs`).
    pub fn max_records(mut self, max: u32) -> Self {
        self.max_records = Some(max);
        self
    }

    /// Only these output columns (`returncols`).
    pub fn return_columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.return_columns = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Return empty output fields too (`excludempty=false`), so every returned column is in
    /// every row: what a check of the tenant's columns needs.
    pub fn keep_empty_fields(mut self) -> Self {
        self.keep_empty = true;
        self
    }

    /// `PROGRAM/Transaction`, for messages.
    pub fn name(&self) -> String {
        format!("{}/{}", self.program, self.transaction)
    }
}

/// The v2 response body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MiResponse {
    #[serde(default)]
    results: Vec<MiResult>,
    #[serde(default)]
    was_terminated: bool,
    #[serde(default)]
    termination_reason: Option<String>,
    #[serde(default)]
    nr_of_failed_transactions: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MiResult {
    #[serde(default)]
    transaction: Option<String>,
    #[serde(default)]
    records: Vec<MiRecord>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_field: Option<String>,
    #[serde(default)]
    error_type: Option<String>,
}

/// One output row: field names to values. A name given twice would make the row ambiguous, so
/// it is refused ([`sdk_common::json`]) and the read is asked for again like any bad answer.
#[derive(Debug)]
struct MiRecord(serde_json::Map<String, serde_json::Value>);

impl<'de> Deserialize<'de> for MiRecord {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        match sdk_common::json::UniqueKeys::deserialize(deserializer)?.0 {
            serde_json::Value::Object(fields) => Ok(MiRecord(fields)),
            _ => Err(serde::de::Error::custom(
                "a record must be an object of fields",
            )),
        }
    }
}

pub(crate) fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl M3 {
    /// Run calls in this company (`cono`).
    pub fn company(mut self, company: impl Into<String>) -> Self {
        self.company = Some(company.into());
        self
    }

    /// Run calls in this division (`divi`).
    pub fn division(mut self, division: impl Into<String>) -> Self {
        self.division = Some(division.into());
        self
    }

    /// The company calls run in (`cono`), when set.
    pub fn company_set(&self) -> Option<&str> {
        self.company.as_deref()
    }

    /// The division calls run in (`divi`), when set.
    pub fn division_set(&self) -> Option<&str> {
        self.division.as_deref()
    }

    /// The service account user's defaults (`MNS150MI/GetUserData`): the company and division
    /// a call without `cono`/`divi` runs in. Asked without this handle's company and
    /// division, so the answer is the user's own; `None` when M3 returns no row.
    ///
    /// ```no_run
    /// # async fn run(client: infor_ion_client::IonClient) -> infor_ion_client::Result<()> {
    /// let m3 = client.m3().company("300");
    /// if let Some(user) = m3.user_defaults().await?
    ///     && user.company.as_deref() != m3.company_set()
    /// {
    ///     println!("{} defaults to company {:?}", user.user, user.company);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn user_defaults(&self) -> Result<Option<nouns::UserData>> {
        use futures::TryStreamExt;
        let user = M3 {
            company: None,
            division: None,
            ..self.clone()
        };
        let mut rows: Vec<nouns::UserData> = user.list(Vec::new(), 2).try_collect().await?;
        Ok(if rows.is_empty() {
            None
        } else {
            Some(rows.swap_remove(0))
        })
    }

    /// The underlying gateway client.
    pub fn client(&self) -> &IonClient {
        &self.client
    }

    /// Use another service path below the API base (default [`DEFAULT_BASE_PATH`]).
    pub fn with_base_path(mut self, base_path: impl Into<String>) -> Self {
        self.base_path = base_path.into().trim_matches('/').to_owned();
        self
    }

    /// The request `call` becomes.
    pub fn request(&self, call: &MiCall) -> Result<IonRequest> {
        if !is_identifier(&call.program) || !is_identifier(&call.transaction) {
            return Err(Error::InvalidRequest(format!(
                "`{}` is not a valid MI program/transaction name",
                call.name()
            )));
        }
        let mut matrix = String::new();
        let mut push = |name: &str, value: &str| {
            // Matrix values must not break out of their segment.
            let value: String = value
                .chars()
                .filter(|c| !matches!(c, ';' | '/' | '?' | '#' | '='))
                .collect();
            matrix.push_str(&format!(";{name}={value}"));
        };
        if let Some(max) = call.max_records {
            push("maxrecs", &max.to_string());
        }
        if !call.return_columns.is_empty() {
            push("returncols", &call.return_columns.join(","));
        }
        if call.keep_empty {
            push("excludempty", "false");
        }
        if let Some(company) = &self.company {
            push("cono", company);
        }
        if let Some(division) = &self.division {
            push("divi", division);
        }
        let path = format!(
            "{}/{}/{}{matrix}",
            self.base_path, call.program, call.transaction
        );
        let mut request =
            IonRequest::get(path)
                .accept_status(400)
                .with_idempotency(if call.idempotent {
                    Idempotency::Idempotent
                } else {
                    Idempotency::NonIdempotent
                });
        for (field, value) in &call.inputs {
            request = request.query(field, value);
        }
        Ok(request)
    }

    /// Run one transaction and return its rows, values right-trimmed.
    pub async fn execute(&self, call: MiCall) -> Result<Vec<Record>> {
        // Decoded inside the retry loop: an HTML page or a body cut short is asked for again.
        let (status, body) = self
            .client
            .send_decoded(self.request(&call)?, |response| {
                Ok((response.status().as_u16(), response.json::<MiResponse>()?))
            })
            .await?;
        let failed = status == 400
            || body.nr_of_failed_transactions > 0
            || body.was_terminated
            || body.results.iter().any(|r| r.error_message.is_some());
        if failed {
            let mut errors: Vec<MiError> = body
                .results
                .iter()
                .filter(|r| r.error_message.is_some() || r.error_code.is_some())
                .map(|r| MiError {
                    transaction: r.transaction.clone(),
                    error_message: r.error_message.clone(),
                    error_code: r.error_code.clone(),
                    error_field: r.error_field.clone(),
                    error_type: r.error_type.clone(),
                })
                .collect();
            if errors.is_empty() {
                errors.push(MiError {
                    error_message: body.termination_reason.clone(),
                    ..MiError::default()
                });
            }
            return Err(Error::MiFailed {
                program: call.program,
                transaction: call.transaction,
                errors,
            });
        }
        let source = call.name();
        Ok(body
            .results
            .into_iter()
            .flat_map(|result| result.records)
            .map(|MiRecord(record)| {
                Record::new(
                    source.clone(),
                    record.into_iter().map(|(name, value)| {
                        let text = match value {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(s) => Some(s.trim_end().to_owned()),
                            other => Some(other.to_string()),
                        };
                        (name, text)
                    }),
                )
            })
            .collect())
    }
}
