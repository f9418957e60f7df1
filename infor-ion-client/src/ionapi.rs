//! The customer's `.ionapi` credentials file.
//!
//! Infor OS hands every authorized app a small JSON file (Portal → API Gateway → Authorized Apps →
//! Download Credentials). For machine-to-machine use the app must be a *Backend Service* with a
//! service account, which adds `saak`/`sask`. [`IonApiFile`] parses and validates it, keeps the
//! secrets in [`SecretString`]s, and derives the token, revoke and API base URLs.
//!
//! ```
//! use infor_ion_client::ionapi::IonApiFile;
//!
//! let file = IonApiFile::from_json_str(r##"{
//!     "ti": "ACME_TST", "cn": "sync", "ci": "ACME_TST~abc", "cs": "client-secret",
//!     "iu": "https://mingle-ionapi.inforcloudsuite.com",
//!     "pu": "https://mingle-sso.inforcloudsuite.com:443/ACME_TST/as/",
//!     "oa": "authorization.oauth2", "ot": "token.oauth2", "or": "revoke_token.oauth2",
//!     "saak": "ACME_TST#key", "sask": "service-secret"
//! }"##)?;
//! assert_eq!(file.token_url().as_str(), "https://mingle-sso.inforcloudsuite.com/ACME_TST/as/token.oauth2");
//! assert_eq!(file.api_base_url().as_str(), "https://mingle-ionapi.inforcloudsuite.com/ACME_TST/");
//! assert!(file.service_account().is_ok());
//! // Secrets never show up in Debug output.
//! assert!(!format!("{file:?}").contains("client-secret"));
//! # Ok::<(), infor_ion_client::ionapi::IonApiError>(())
//! ```

use std::fmt;
use std::io::Read;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroize;

/// The largest `.ionapi` file accepted. Real files are well under 2 KiB.
pub const MAX_FILE_SIZE: usize = 64 * 1024;

/// Why an `.ionapi` file was refused. Messages name the field, never its value when it is a
/// secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IonApiError {
    /// The file could not be read.
    #[error("cannot read the .ionapi file {path}")]
    Io {
        /// The path as given (or `<reader>`).
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty or only white space.
    #[error("the .ionapi file is empty")]
    Empty,
    /// The file is larger than [`MAX_FILE_SIZE`].
    #[error("the .ionapi file is larger than {limit} bytes; it is not an .ionapi file")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The file is not a JSON object.
    #[error("the .ionapi file is not valid JSON (line {line}, column {column}): {message}")]
    NotJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON parser said (it never quotes string values).
        message: String,
    },
    /// A field has the wrong JSON type (for example a number where a string belongs).
    #[error("the .ionapi field `{field}` must be a string")]
    NotAString {
        /// The field key, e.g. `ci`.
        field: &'static str,
    },
    /// A required field is missing or blank.
    #[error("the .ionapi file has no `{field}` ({meaning})")]
    MissingField {
        /// The field key, e.g. `ci`.
        field: &'static str,
        /// What the field is, in words.
        meaning: &'static str,
    },
    /// A URL field does not parse or is not an absolute http(s) URL.
    #[error("the .ionapi field `{field}` is not a valid URL: {reason}")]
    BadUrl {
        /// The field key (`iu` or `pu`), or a derived URL name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A URL uses plain `http://` to a host that is not loopback.
    #[error(
        "the .ionapi field `{field}` uses http:// to a non-loopback host; only https is allowed \
         (plain http is accepted for 127.0.0.1/localhost test servers only)"
    )]
    InsecureUrl {
        /// The field key.
        field: &'static str,
    },
    /// The file has no service account, so the password grant cannot be used.
    #[error(
        "the .ionapi file has no service account (`saak`/`sask` missing): it is not a Backend \
         Service file. In Infor OS, open API Gateway → Authorized Apps, use a Backend Service app \
         with \"Create Service Account\" on, and download its credentials again"
    )]
    NotBackendService,
}

/// A parsed, validated `.ionapi` file.
///
/// Required: `ti ci cs iu pu ot`. Optional: `cn dt oa or ev v`, and the service account
/// `saak`/`sask` (required only for the password grant; see [`IonApiFile::service_account`]).
/// Unknown keys are ignored.
#[derive(Clone)]
pub struct IonApiFile {
    tenant: String,
    client_name: Option<String>,
    client_id: String,
    client_secret: SecretString,
    ion_url: Url,
    auth_url: Url,
    authorization_path: Option<String>,
    token_path: String,
    revoke_path: Option<String>,
    dt: Option<String>,
    ev: Option<String>,
    version: Option<String>,
    service_account: Option<ServiceAccount>,
}

/// The service-account key pair (`saak` is the OAuth username, `sask` the password).
#[derive(Clone)]
pub struct ServiceAccount {
    access_key: SecretString,
    secret_key: SecretString,
}

impl ServiceAccount {
    /// The Service Account Access Key (`saak`), sent as the OAuth `username`.
    pub fn access_key(&self) -> &SecretString {
        &self.access_key
    }

    /// The Service Account Secret Key (`sask`), sent as the OAuth `password`.
    pub fn secret_key(&self) -> &SecretString {
        &self.secret_key
    }
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("access_key", &"[REDACTED]")
            .field("secret_key", &"[REDACTED]")
            .finish()
    }
}

/// The file as it is on disk. Used only inside this module; every string is zeroized on drop.
#[derive(Default, Deserialize, Serialize)]
struct RawFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ti: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cn: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dt: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ci: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cs: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iu: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pu: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    oa: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ot: Option<serde_json::Value>,
    #[serde(default, rename = "or", skip_serializing_if = "Option::is_none")]
    or_: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ev: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    saak: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sask: Option<serde_json::Value>,
}

impl Drop for RawFile {
    fn drop(&mut self) {
        for value in [&mut self.cs, &mut self.saak, &mut self.sask]
            .into_iter()
            .flatten()
        {
            if let serde_json::Value::String(s) = value {
                s.zeroize();
            }
        }
    }
}

/// Take a string field: `Ok(None)` when absent, null or blank.
fn text(
    value: &Option<serde_json::Value>,
    field: &'static str,
) -> Result<Option<String>, IonApiError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(IonApiError::NotAString { field }),
    }
}

fn required(
    value: &Option<serde_json::Value>,
    field: &'static str,
    meaning: &'static str,
) -> Result<String, IonApiError> {
    text(value, field)?.ok_or(IonApiError::MissingField { field, meaning })
}

fn secret(
    value: &Option<serde_json::Value>,
    field: &'static str,
) -> Result<Option<SecretString>, IonApiError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        // Secrets are taken verbatim: trimming could change a key that legitimately has spaces.
        Some(serde_json::Value::String(s)) => Ok(Some(SecretString::from(s.clone()))),
        Some(_) => Err(IonApiError::NotAString { field }),
    }
}

/// Parse and check an absolute http(s) URL.
pub(crate) fn checked_url(field: &'static str, raw: &str) -> Result<Url, IonApiError> {
    let url = Url::parse(raw).map_err(|e| IonApiError::BadUrl {
        field,
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "https" => {}
        "http" if sdk_common::redirect::is_loopback(&url) => {}
        "http" => return Err(IonApiError::InsecureUrl { field }),
        other => {
            return Err(IonApiError::BadUrl {
                field,
                reason: format!("scheme `{other}` is not https"),
            });
        }
    }
    if url.host().is_none() {
        return Err(IonApiError::BadUrl {
            field,
            reason: "no host".into(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(IonApiError::BadUrl {
            field,
            reason: "a base URL must not have a query or fragment".into(),
        });
    }
    Ok(url)
}

/// Join a base URL and a relative path with exactly one `/` between them, whatever slashes
/// either side has.
pub(crate) fn join(base: &Url, path: &str, field: &'static str) -> Result<Url, IonApiError> {
    let joined = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    checked_url(field, &joined)
}

impl IonApiFile {
    /// Parse a file from its text.
    pub fn from_json_str(text: &str) -> Result<Self, IonApiError> {
        Self::from_json_slice(text.as_bytes())
    }

    /// Parse a file from its bytes.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, IonApiError> {
        if bytes.len() > MAX_FILE_SIZE {
            return Err(IonApiError::TooLarge {
                limit: MAX_FILE_SIZE,
            });
        }
        // A UTF-8 byte-order mark is common in files saved by Windows editors.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(IonApiError::Empty);
        }
        // A key given twice is refused (`sdk_common::json`): which `ci` or `cs` counts would be
        // a guess.
        let tree = sdk_common::json::from_slice(bytes).map_err(|e| IonApiError::NotJson {
            line: e.source.line(),
            column: e.source.column(),
            // serde_json's messages quote types and expected tokens, not string contents; ours
            // quote a duplicated key, which is a name, not a value.
            message: json_message(&e.source),
        })?;
        // A JSON object only: serde would also build the struct from a JSON array.
        if !tree.is_object() {
            return Err(IonApiError::NotJson {
                line: 1,
                column: 1,
                message: "the file must hold one JSON object".to_owned(),
            });
        }
        let raw: RawFile = serde_json::from_value(tree).map_err(|e| IonApiError::NotJson {
            line: 1,
            column: 1,
            message: json_message(&e),
        })?;
        Self::from_raw(&raw)
    }

    /// Parse a file from a reader, reading at most [`MAX_FILE_SIZE`] + 1 bytes.
    pub fn from_reader(reader: impl Read) -> Result<Self, IonApiError> {
        let mut bytes = Vec::new();
        reader
            .take(MAX_FILE_SIZE as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| IonApiError::Io {
                path: "<reader>".into(),
                source,
            })?;
        let parsed = Self::from_json_slice(&bytes);
        bytes.zeroize();
        parsed
    }

    /// Read and parse a file from disk.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, IonApiError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| IonApiError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_reader(file).map_err(|e| match e {
            IonApiError::Io { source, .. } => IonApiError::Io {
                path: path.display().to_string(),
                source,
            },
            other => other,
        })
    }

    /// Credentials from parts, for deployments that keep them elsewhere than in an `.ionapi`
    /// file (a secrets manager). The same validation applies as for a file; add the service
    /// account with [`with_service_account`](Self::with_service_account).
    ///
    /// ```
    /// use infor_ion_client::IonApiFile;
    /// use secrecy::SecretString;
    ///
    /// let file = IonApiFile::from_parts(
    ///     "ACME_PRD",
    ///     "ACME_PRD~client",
    ///     SecretString::from("client-secret"),
    ///     "https://mingle-ionapi.inforcloudsuite.com",
    ///     "https://mingle-sso.inforcloudsuite.com/ACME_PRD/as/",
    /// )?
    /// .with_service_account(SecretString::from("ACME_PRD#key"), SecretString::from("secret"));
    /// assert_eq!(file.token_url().as_str(), "https://mingle-sso.inforcloudsuite.com/ACME_PRD/as/token.oauth2");
    /// assert!(file.service_account().is_ok());
    /// # Ok::<(), infor_ion_client::ionapi::IonApiError>(())
    /// ```
    pub fn from_parts(
        tenant: &str,
        client_id: &str,
        client_secret: SecretString,
        ion_url: &str,
        auth_server_url: &str,
    ) -> Result<Self, IonApiError> {
        let s = |v: &str| Some(serde_json::Value::String(v.to_owned()));
        // RawFile zeroizes its secrets on drop, so it is filled field by field.
        let mut raw = RawFile::default();
        raw.ti = s(tenant);
        raw.ci = s(client_id);
        raw.cs = s(client_secret.expose_secret());
        raw.iu = s(ion_url);
        raw.pu = s(auth_server_url);
        raw.oa = s("authorization.oauth2");
        raw.ot = s("token.oauth2");
        raw.or_ = s("revoke_token.oauth2");
        Self::from_raw(&raw)
    }

    /// The same credentials with this service account (`saak`, `sask`).
    pub fn with_service_account(
        mut self,
        access_key: SecretString,
        secret_key: SecretString,
    ) -> Self {
        self.service_account = Some(ServiceAccount {
            access_key,
            secret_key,
        });
        self
    }

    fn from_raw(raw: &RawFile) -> Result<Self, IonApiError> {
        let tenant = required(&raw.ti, "ti", "tenant identifier")?;
        if tenant.contains('/') || tenant.contains('?') || tenant.contains('#') {
            return Err(IonApiError::BadUrl {
                field: "ti",
                reason: "the tenant id must not contain '/', '?' or '#'".into(),
            });
        }
        let client_id = required(&raw.ci, "ci", "OAuth client id")?;
        let client_secret = secret(&raw.cs, "cs")?.ok_or(IonApiError::MissingField {
            field: "cs",
            meaning: "OAuth client secret",
        })?;
        let ion_url = checked_url("iu", &required(&raw.iu, "iu", "ION API Gateway URL")?)?;
        let auth_url = checked_url("pu", &required(&raw.pu, "pu", "authorization server URL")?)?;
        let token_path = required(&raw.ot, "ot", "token endpoint path")?;
        let service_account = match (secret(&raw.saak, "saak")?, secret(&raw.sask, "sask")?) {
            (Some(access_key), Some(secret_key)) => Some(ServiceAccount {
                access_key,
                secret_key,
            }),
            _ => None,
        };
        let file = IonApiFile {
            tenant,
            client_name: text(&raw.cn, "cn")?,
            client_id,
            client_secret,
            ion_url,
            auth_url,
            authorization_path: text(&raw.oa, "oa")?,
            token_path,
            revoke_path: text(&raw.or_, "or")?,
            dt: text(&raw.dt, "dt")?,
            ev: text(&raw.ev, "ev")?,
            version: text(&raw.v, "v")?,
            service_account,
        };
        // Derive every URL once now, so a bad combination fails at load time, not at first use.
        join(&file.auth_url, &file.token_path, "pu+ot")?;
        if let Some(revoke) = &file.revoke_path {
            join(&file.auth_url, revoke, "pu+or")?;
        }
        join(&file.ion_url, &file.tenant, "iu+ti")?;
        Ok(file)
    }

    /// Serialize back to `.ionapi` JSON. The result holds the secrets: callers must treat it as
    /// secret (the vault encrypts it immediately).
    pub(crate) fn to_secret_json(&self) -> SecretString {
        let s = |v: &str| Some(serde_json::Value::String(v.to_owned()));
        let raw = RawFile {
            ti: s(&self.tenant),
            cn: self.client_name.as_deref().and_then(s),
            dt: self.dt.as_deref().and_then(s),
            ci: s(&self.client_id),
            cs: s(self.client_secret.expose_secret()),
            iu: s(self.ion_url.as_str()),
            pu: s(self.auth_url.as_str()),
            oa: self.authorization_path.as_deref().and_then(s),
            ot: s(&self.token_path),
            or_: self.revoke_path.as_deref().and_then(s),
            ev: self.ev.as_deref().and_then(s),
            v: self.version.as_deref().and_then(s),
            saak: self
                .service_account
                .as_ref()
                .and_then(|a| s(a.access_key.expose_secret())),
            sask: self
                .service_account
                .as_ref()
                .and_then(|a| s(a.secret_key.expose_secret())),
        };
        // Serializing a map of strings cannot fail; fall back to an empty object regardless.
        SecretString::from(serde_json::to_string(&raw).unwrap_or_else(|_| "{}".to_owned()))
    }

    /// The tenant identifier (`ti`), e.g. `ACME_PRD`.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The authorized app's name (`cn`), if present.
    pub fn client_name(&self) -> Option<&str> {
        self.client_name.as_deref()
    }

    /// The OAuth client id (`ci`).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The OAuth client secret (`cs`).
    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }

    /// The ION API Gateway URL (`iu`).
    pub fn ion_url(&self) -> &Url {
        &self.ion_url
    }

    /// The authorization server URL (`pu`).
    pub fn auth_server_url(&self) -> &Url {
        &self.auth_url
    }

    /// The `ev` stamp, if present (meaning unconfirmed by Infor).
    pub fn ev(&self) -> Option<&str> {
        self.ev.as_deref()
    }

    /// The `dt` value, if present (meaning unconfirmed by Infor).
    pub fn dt(&self) -> Option<&str> {
        self.dt.as_deref()
    }

    /// The `v` file-format version, if present.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The service account, or [`IonApiError::NotBackendService`] when the file has none.
    pub fn service_account(&self) -> Result<&ServiceAccount, IonApiError> {
        self.service_account
            .as_ref()
            .ok_or(IonApiError::NotBackendService)
    }

    /// The token endpoint: `pu` + `ot`.
    pub fn token_url(&self) -> Url {
        // Validated in `from_raw`; re-deriving cannot fail, but never panic on it.
        join(&self.auth_url, &self.token_path, "pu+ot").unwrap_or_else(|_| self.auth_url.clone())
    }

    /// The revoke endpoint: `pu` + `or`, when the file names one.
    pub fn revoke_url(&self) -> Option<Url> {
        let path = self.revoke_path.as_deref()?;
        join(&self.auth_url, path, "pu+or").ok()
    }

    /// The authorization endpoint: `pu` + `oa`, when the file names one.
    pub fn authorization_url(&self) -> Option<Url> {
        let path = self.authorization_path.as_deref()?;
        join(&self.auth_url, path, "pu+oa").ok()
    }

    /// The API base URL: `iu` + `/` + `ti` + `/`. Product paths (`CSI/IDORequestService/ido/...`,
    /// `M3/m3api-rest/...`) are joined below it.
    pub fn api_base_url(&self) -> Url {
        let base =
            join(&self.ion_url, &self.tenant, "iu+ti").unwrap_or_else(|_| self.ion_url.clone());
        with_trailing_slash(base)
    }

    /// A copy of this file with the gateway and authorization-server URLs replaced (for tests
    /// against local servers, or a proxy).
    pub fn with_urls(mut self, ion_url: &str, auth_server_url: &str) -> Result<Self, IonApiError> {
        self.ion_url = checked_url("iu", ion_url)?;
        self.auth_url = checked_url("pu", auth_server_url)?;
        Ok(self)
    }
}

/// Add a trailing slash so `Url::join` appends below the path instead of replacing its last
/// segment.
pub(crate) fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// serde_json's message without its " at line L column C" suffix (we report those separately).
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

impl fmt::Debug for IonApiFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IonApiFile")
            .field("tenant", &self.tenant)
            .field("client_name", &self.client_name)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("ion_url", &self.ion_url.as_str())
            .field("auth_server_url", &self.auth_url.as_str())
            .field("token_path", &self.token_path)
            .field("revoke_path", &self.revoke_path)
            .field("service_account", &self.service_account)
            .finish_non_exhaustive()
    }
}
