//! Encrypted storage of `.ionapi` credentials at rest.
//!
//! A vault is one JSON file holding one entry per tenant. Each entry is the tenant's `.ionapi`
//! file encrypted with XChaCha20-Poly1305 under a 256-bit key that the operator supplies (a key
//! file or an environment variable, never the vault file itself). The tenant id is bound as
//! associated data, so an entry copied under another tenant's name does not decrypt. A key-check
//! value lets the vault tell a wrong key from a tampered entry.
//!
//! Writes are atomic (a temporary file in the same directory, flushed, then renamed over the
//! old one) and the file is created readable by its owner only.
//!
//! ```
//! use infor_ion_client::ionapi::IonApiFile;
//! use infor_ion_client::vault::{Vault, VaultKey};
//!
//! let dir = tempfile::tempdir()?;
//! let key = VaultKey::generate();
//! let mut vault = Vault::open_or_create(dir.path().join("ion.vault"), key)?;
//! # let file = IonApiFile::from_json_str(r#"{"ti":"ACME_TST","ci":"ACME_TST~c","cs":"s","iu":"https://ion.example.com","pu":"https://sso.example.com/ACME_TST/as/","ot":"token.oauth2","saak":"ACME_TST#k","sask":"p"}"#)?;
//! vault.store(&file)?;
//! assert_eq!(vault.tenants(), vec!["ACME_TST".to_string()]);
//! let loaded = vault.load("ACME_TST")?;
//! assert_eq!(loaded.client_id(), "ACME_TST~c");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::ionapi::{IonApiError, IonApiFile};

/// The vault file format this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const FORMAT_NAME: &str = "infor-ion-vault";
const KEY_CHECK_AAD: &[u8] = b"infor-ion-vault/v1/key-check";
const ENTRY_AAD_PREFIX: &str = "infor-ion-vault/v1/tenant/";
/// The environment variable [`VaultKey::from_env`] reads by default.
pub const DEFAULT_KEY_ENV: &str = "INFOR_ION_VAULT_KEY";
/// The largest vault file read (a vault of a thousand tenants is well under this).
const MAX_VAULT_SIZE: u64 = 16 * 1024 * 1024;

/// Why a vault operation failed. Nothing is decrypted or overwritten when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The vault or key file could not be read or written.
    #[error("vault I/O error on {path}")]
    Io {
        /// The file involved.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key is not 32 bytes of base64 (or raw bytes in a key file).
    #[error("the vault key is invalid: {0}")]
    InvalidKey(&'static str),
    /// The key environment variable is not set.
    #[error("the vault key environment variable `{0}` is not set")]
    KeyNotSet(String),
    /// The key does not open this vault.
    #[error("wrong vault key: the key does not open {path}")]
    WrongKey {
        /// The vault file.
        path: String,
    },
    /// An entry fails authentication although the key is right: the file was modified.
    #[error("the vault entry for tenant `{tenant}` was tampered with or corrupted")]
    Tampered {
        /// The tenant whose entry failed.
        tenant: String,
    },
    /// The file ends early (an interrupted copy, a full disk).
    #[error("the vault file {path} is truncated")]
    Truncated {
        /// The vault file.
        path: String,
    },
    /// The file is not a vault, or a field is malformed.
    #[error("the vault file {path} is malformed: {reason}")]
    Malformed {
        /// The vault file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The file was written by another format version.
    #[error(
        "the vault file {path} has format version {found}; this build reads version {supported}"
    )]
    UnsupportedVersion {
        /// The vault file.
        path: String,
        /// The version in the file.
        found: u32,
        /// The version this build supports.
        supported: u32,
    },
    /// No entry for this tenant.
    #[error("the vault has no entry for tenant `{0}`")]
    UnknownTenant(String),
    /// An entry decrypted but does not hold a valid `.ionapi` file.
    #[error("the vault entry for tenant `{tenant}` is not a valid .ionapi file")]
    InvalidEntry {
        /// The tenant.
        tenant: String,
        /// Why the file inside is invalid.
        #[source]
        source: IonApiError,
    },
}

/// A 256-bit vault key, zeroized on drop and never printed.
pub struct VaultKey(SecretBox<[u8; 32]>);

impl VaultKey {
    /// A new random key (from the operating system's CSPRNG).
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(key.as_slice());
        VaultKey(SecretBox::new(Box::new(bytes)))
    }

    /// A key from its base64 text (standard alphabet, padding optional, white space trimmed).
    pub fn from_base64(text: &str) -> Result<Self, VaultError> {
        let mut decoded = BASE64
            .decode(text.trim().trim_end_matches('='))
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(text.trim().trim_end_matches('='))
            })
            .map_err(|_| VaultError::InvalidKey("not base64"))?;
        let key = Self::from_slice(&decoded);
        decoded.zeroize();
        key
    }

    fn from_slice(bytes: &[u8]) -> Result<Self, VaultError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| VaultError::InvalidKey("a vault key must be exactly 32 bytes"))?;
        Ok(VaultKey(SecretBox::new(Box::new(array))))
    }

    /// A key from an environment variable holding base64.
    pub fn from_env(var: &str) -> Result<Self, VaultError> {
        let mut value = std::env::var(var).map_err(|_| VaultError::KeyNotSet(var.to_owned()))?;
        let key = Self::from_base64(&value);
        value.zeroize();
        key
    }

    /// A key from a file holding either base64 text or exactly 32 raw bytes.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, VaultError> {
        let path = path.as_ref();
        let mut bytes = std::fs::read(path).map_err(|source| VaultError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let key = if bytes.len() == 32 {
            Self::from_slice(&bytes)
        } else {
            match std::str::from_utf8(&bytes) {
                Ok(text) => Self::from_base64(text),
                Err(_) => Err(VaultError::InvalidKey(
                    "a key file holds base64 text or exactly 32 raw bytes",
                )),
            }
        };
        bytes.zeroize();
        key
    }

    /// The key as base64, for writing a new key file. Treat the result as a secret.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(BASE64.encode(self.0.expose_secret()))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.expose_secret().into())
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey([REDACTED])")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct VaultFile {
    format: String,
    version: u32,
    /// AEAD of the empty message under [`KEY_CHECK_AAD`]: tells a wrong key from tampering.
    key_check: Sealed,
    entries: BTreeMap<String, Sealed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    nonce: String,
    ciphertext: String,
}

/// An encrypted store of `.ionapi` files, one per tenant. See the [module docs](self).
pub struct Vault {
    path: PathBuf,
    key: VaultKey,
    file: VaultFile,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("tenants", &self.tenants())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Open an existing vault. The key is checked before anything else happens.
    pub fn open(path: impl Into<PathBuf>, key: VaultKey) -> Result<Self, VaultError> {
        let path = path.into();
        let file = read_vault_file(&path)?;
        let vault = Vault { path, key, file };
        vault.check_key()?;
        Ok(vault)
    }

    /// Open a vault, or create an empty one (written at once, owner-only) if the file does not
    /// exist.
    pub fn open_or_create(path: impl Into<PathBuf>, key: VaultKey) -> Result<Self, VaultError> {
        let path = path.into();
        if path.exists() {
            return Self::open(path, key);
        }
        let key_check = seal(&key, b"", KEY_CHECK_AAD)?;
        let vault = Vault {
            path,
            key,
            file: VaultFile {
                format: FORMAT_NAME.to_owned(),
                version: FORMAT_VERSION,
                key_check,
                entries: BTreeMap::new(),
            },
        };
        vault.save()?;
        Ok(vault)
    }

    /// The vault file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tenants with an entry, sorted.
    pub fn tenants(&self) -> Vec<String> {
        self.file.entries.keys().cloned().collect()
    }

    /// Decrypt and parse the `.ionapi` file stored for `tenant`.
    pub fn load(&self, tenant: &str) -> Result<IonApiFile, VaultError> {
        let sealed = self
            .file
            .entries
            .get(tenant)
            .ok_or_else(|| VaultError::UnknownTenant(tenant.to_owned()))?;
        let mut plain =
            open_sealed(&self.key, sealed, entry_aad(tenant).as_bytes()).map_err(|e| match e {
                OpenError::Auth => VaultError::Tampered {
                    tenant: tenant.to_owned(),
                },
                OpenError::Malformed(reason) => VaultError::Malformed {
                    path: self.path.display().to_string(),
                    reason: format!("entry `{tenant}`: {reason}"),
                },
            })?;
        let parsed = IonApiFile::from_json_slice(&plain);
        plain.zeroize();
        let file = parsed.map_err(|source| VaultError::InvalidEntry {
            tenant: tenant.to_owned(),
            source,
        })?;
        if file.tenant() != tenant {
            return Err(VaultError::Tampered {
                tenant: tenant.to_owned(),
            });
        }
        Ok(file)
    }

    /// Encrypt and store `file` under its tenant id, replacing any earlier entry; the vault
    /// file is rewritten atomically.
    pub fn store(&mut self, file: &IonApiFile) -> Result<(), VaultError> {
        let json = file.to_secret_json();
        let sealed = seal(
            &self.key,
            json.expose_secret().as_bytes(),
            entry_aad(file.tenant()).as_bytes(),
        )?;
        let previous = self.file.entries.insert(file.tenant().to_owned(), sealed);
        if let Err(e) = self.save() {
            // Keep memory consistent with disk.
            match previous {
                Some(p) => self.file.entries.insert(file.tenant().to_owned(), p),
                None => self.file.entries.remove(file.tenant()),
            };
            return Err(e);
        }
        Ok(())
    }

    /// Remove a tenant's entry. Returns whether there was one.
    pub fn remove(&mut self, tenant: &str) -> Result<bool, VaultError> {
        let Some(previous) = self.file.entries.remove(tenant) else {
            return Ok(false);
        };
        if let Err(e) = self.save() {
            self.file.entries.insert(tenant.to_owned(), previous);
            return Err(e);
        }
        Ok(true)
    }

    /// Re-encrypt every entry under `new_key` and write the vault atomically. Every entry is
    /// decrypted and checked first: if any fails, nothing is written and the old key still
    /// opens the vault.
    pub fn rotate_key(&mut self, new_key: VaultKey) -> Result<(), VaultError> {
        let mut entries = BTreeMap::new();
        for tenant in self.file.entries.keys() {
            let file = self.load(tenant)?;
            let json = file.to_secret_json();
            entries.insert(
                tenant.clone(),
                seal(
                    &new_key,
                    json.expose_secret().as_bytes(),
                    entry_aad(tenant).as_bytes(),
                )?,
            );
        }
        let rotated = Vault {
            path: self.path.clone(),
            file: VaultFile {
                format: FORMAT_NAME.to_owned(),
                version: FORMAT_VERSION,
                key_check: seal(&new_key, b"", KEY_CHECK_AAD)?,
                entries,
            },
            key: new_key,
        };
        rotated.save()?;
        *self = rotated;
        Ok(())
    }

    fn check_key(&self) -> Result<(), VaultError> {
        match open_sealed(&self.key, &self.file.key_check, KEY_CHECK_AAD) {
            Ok(_) => Ok(()),
            Err(OpenError::Auth) => Err(VaultError::WrongKey {
                path: self.path.display().to_string(),
            }),
            Err(OpenError::Malformed(reason)) => Err(VaultError::Malformed {
                path: self.path.display().to_string(),
                reason: format!("key check: {reason}"),
            }),
        }
    }

    fn save(&self) -> Result<(), VaultError> {
        let io = |source| VaultError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec_pretty(&self.file).map_err(|e| VaultError::Malformed {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        })?;
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // tempfile creates the file with mode 0600 on Unix; the rename keeps that mode.
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
        tmp.write_all(&json).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        Ok(())
    }
}

fn entry_aad(tenant: &str) -> String {
    format!("{ENTRY_AAD_PREFIX}{tenant}")
}

fn seal(key: &VaultKey, plain: &[u8], aad: &[u8]) -> Result<Sealed, VaultError> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = key
        .cipher()
        .encrypt(&nonce, Payload { msg: plain, aad })
        .map_err(|_| VaultError::InvalidKey("encryption failed"))?;
    Ok(Sealed {
        nonce: BASE64.encode(nonce),
        ciphertext: BASE64.encode(ciphertext),
    })
}

enum OpenError {
    Auth,
    Malformed(&'static str),
}

fn open_sealed(key: &VaultKey, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, OpenError> {
    let nonce = BASE64
        .decode(&sealed.nonce)
        .map_err(|_| OpenError::Malformed("nonce is not base64"))?;
    if nonce.len() != 24 {
        return Err(OpenError::Malformed("nonce is not 24 bytes"));
    }
    let ciphertext = BASE64
        .decode(&sealed.ciphertext)
        .map_err(|_| OpenError::Malformed("ciphertext is not base64"))?;
    key.cipher()
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad,
            },
        )
        .map_err(|_| OpenError::Auth)
}

fn read_vault_file(path: &Path) -> Result<VaultFile, VaultError> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|source| VaultError::Io {
        path: shown.clone(),
        source,
    })?;
    if metadata.len() > MAX_VAULT_SIZE {
        return Err(VaultError::Malformed {
            path: shown,
            reason: format!("larger than {MAX_VAULT_SIZE} bytes"),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| VaultError::Io {
        path: shown.clone(),
        source,
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(VaultError::Truncated { path: shown });
    }
    // Read the version first, so a future format gets the version error rather than a schema
    // error.
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
        version: Option<u32>,
    }
    let header: Header = serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_eof() {
            VaultError::Truncated {
                path: shown.clone(),
            }
        } else {
            VaultError::Malformed {
                path: shown.clone(),
                reason: e.to_string(),
            }
        }
    })?;
    if header.format.as_deref() != Some(FORMAT_NAME) {
        return Err(VaultError::Malformed {
            path: shown,
            reason: "not an infor-ion-vault file".into(),
        });
    }
    match header.version {
        Some(FORMAT_VERSION) => {}
        Some(found) => {
            return Err(VaultError::UnsupportedVersion {
                path: shown,
                found,
                supported: FORMAT_VERSION,
            });
        }
        None => {
            return Err(VaultError::Malformed {
                path: shown,
                reason: "no version".into(),
            });
        }
    }
    serde_json::from_slice(&bytes).map_err(|e| VaultError::Malformed {
        path: shown,
        reason: e.to_string(),
    })
}
